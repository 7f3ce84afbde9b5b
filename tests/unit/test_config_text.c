/* What text a model may hold. Names (skills, queues, hours, agents, rules, node
 * ids) are ASCII letters, digits and - _ . / + : @ only: no spaces, quotes, control
 * characters or anything beyond ASCII. Free text (sites, reasons, targets, attribute keys
 * and values, paths) is UTF-8 without control characters. The document itself must be UTF-8,
 * without NUL characters. */
#include "config_fixture.h"

#define PARSE(text) PARSE_N((text), strlen(text))
#define EXPECT_ERROR(text, msg)                    \
    do {                                           \
        PARSE(text);                               \
        ASSERT_ERROR(msg);                         \
        assert_int_equal(f->cm.model.n_queues, 0); \
    } while (0)

#define BASE                    \
    "version: 1\n"              \
    "skills: [sales, french]\n" \
    "queues:\n"                 \
    "  sales:\n"                \
    "    channels: voice\n"

#define NOT_A_NAME "' is not a valid name (use letters, digits and - _ . / + : @)"

static void names_take_the_documented_characters(void **state)
{
    F;
    PARSE(
        "version: 1\nskills: [a-b_c.d/e+f:g@h, Z9]\nqueues:\n  q.1/x+y:z@w: { channels: "
        "chat }\n");
    assert_int_equal(f->rv, 0);
    assert_string_equal(f->cm.model.skills[0].s, "a-b_c.d/e+f:g@h");
    assert_string_equal(f->cm.model.queues[0].name, "q.1/x+y:z@w");
}

static void names_refuse_quotes_spaces_and_beyond_ascii(void **state)
{
    F;
    EXPECT_ERROR("version: 1\nskills: [\"sa'les\"]\nqueues: {}\n",
                 "model.yaml:2:10: 'sa'les" NOT_A_NAME);
    EXPECT_ERROR("version: 1\nskills: ['say \"hi\"']\nqueues: {}\n",
                 "model.yaml:2:10: 'say \"hi\"" NOT_A_NAME);
    EXPECT_ERROR("version: 1\nskills: [\"two words\"]\nqueues: {}\n",
                 "model.yaml:2:10: 'two words" NOT_A_NAME);
    EXPECT_ERROR(
        "version: 1\nskills: [fran\xc3\xa7"
        "ais]\nqueues: {}\n",
        "model.yaml:2:10: 'fran\xc3\xa7"
        "ais" NOT_A_NAME);
    EXPECT_ERROR("version: 1\nqueues:\n  \"q\\\"x\": { channels: chat }\n",
                 "model.yaml:3:3: queues: 'q\"x" NOT_A_NAME);
    EXPECT_ERROR(BASE "rules:\n  - { name: \"r`\", route: sales }\n",
                 "model.yaml:7:13: rules: name: 'r`" NOT_A_NAME);
}

static void names_refuse_control_characters(void **state)
{
    F;
    EXPECT_ERROR("version: 1\nskills: [\"sa\\x01les\"]\nqueues: {}\n",
                 "model.yaml:2:10: expected text without control characters, found U+0001");
    EXPECT_ERROR(BASE "agents:\n  - { id: \"a\\u0085\" }\n",
                 "model.yaml:7:11: agents: id: expected text without control characters, "
                 "found U+0085");
    EXPECT_ERROR("version: 1\nqueues:\n  \"q\\tx\": { channels: chat }\n",
                 "model.yaml:3:3: queues: expected text without control characters, found "
                 "U+0009");
    EXPECT_ERROR(BASE "rules:\n  - { name: \"rb\\x7f\", reject: a }\n",
                 "model.yaml:7:13: rules: name: expected text without control characters, "
                 "found U+007F");
}

static void text_refuses_control_characters(void **state)
{
    F;
    EXPECT_ERROR(BASE "agents:\n  - { id: a1, site: \"lon\\tdon\" }\n",
                 "model.yaml:7:21: agent 'a1': site: expected text without control "
                 "characters, found U+0009");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, reject: \"closed\\nnow\" }\n",
                 "model.yaml:7:24: rule 'r': reject: expected text without control "
                 "characters, found U+000A");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, set: { tier: \"g\\x1bold\" } }\n",
                 "model.yaml:7:29: rule 'r': tier: expected text without control "
                 "characters, found U+001B");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, set: { \"ti\\x02er\": gold } }\n",
                 "model.yaml:7:23: rule 'r': attribute key: expected text without control "
                 "characters, found U+0002");
    EXPECT_ERROR(
        BASE "rules:\n  - { name: r, when: { attribute: { \"k\\x03\": v } }, route: sales }\n",
        "model.yaml:7:37: rule 'r': attribute key: expected text without control "
        "characters, found U+0003");
    EXPECT_ERROR(BASE
                 "rules:\n  - { name: r, when: { location: \"G\\x04B\" }, route: sales }\n",
                 "model.yaml:7:34: rule 'r': location: expected text without control "
                 "characters, found U+0004");
    EXPECT_ERROR(BASE "    overflow: { target: \"sip:\\rx\" }\n",
                 "model.yaml:6:25: queue 'sales': target: expected text without control "
                 "characters, found U+000D");
}

/* UTF-8 beyond ASCII is text like any other. */
static void text_takes_utf8(void **state)
{
    F;
    PARSE(BASE
          "agents:\n  - { id: a1, site: \"S\xc3\xa3o Paulo\" }\n"
          "rules:\n  - { name: r, reject: \"ferm\xc3\xa9\" }\n");
    assert_int_equal(f->rv, 0);
    assert_string_equal(f->cm.model.agents[0].site, "S\xc3\xa3o Paulo");
    assert_string_equal(f->cm.model.rules[0].action.reason, "ferm\xc3\xa9");
}

static void document_must_be_utf8_without_nul(void **state)
{
    F;
    EXPECT_ERROR(BASE "agents:\n  - { id: a1, site: \"a\\0b\" }\n",
                 "model.yaml:7:21: a NUL character (\\0) is not allowed in a scalar");
    static const char raw_nul[] = BASE "agents:\n  - { id: a1 }\n\0garbage\n";
    PARSE_N(raw_nul, sizeof(raw_nul) - 1);
    ASSERT_ERROR("model.yaml:8:1: syntax error: control characters are not allowed");
    assert_int_equal(f->cm.model.n_queues, 0);
    EXPECT_ERROR(BASE
                 "agents:\n  - { id: a1, site: lon\xff"
                 "don }\n",
                 "model.yaml:7:24: syntax error: invalid leading UTF-8 octet");
    EXPECT_ERROR(BASE
                 "agents:\n  - { id: a1, site: lon\xc3"
                 "don }\n",
                 "model.yaml:7:25: syntax error: invalid trailing UTF-8 octet");
    EXPECT_ERROR(BASE
                 "agents:\n  - { id: a1, site: lon\x01"
                 "don }\n",
                 "model.yaml:7:24: syntax error: control characters are not allowed");
    /* UTF-16 with a byte-order mark is not taken for UTF-8. */
    static const char utf16[] = "\xff\xfev\0e\0r\0s\0i\0o\0n\0:\0 \0001\0\n\0";
    PARSE_N(utf16, sizeof(utf16) - 1);
    ASSERT_ERROR("model.yaml:1:1: syntax error: invalid leading UTF-8 octet");
    assert_int_equal(f->cm.model.n_queues, 0);
}

static void node_file_names_and_paths(void **state)
{
    F;
    static const char head[] =
        "listen: { api: \"0.0.0.0:8080\", raft: \"10.0.0.1:7001\", peer: \"10.0.0.1:7002\" }\n"
        "peers: [ { id: n1, raft: \"10.0.0.1:7001\", api: \"10.0.0.1:8080\", "
        "peer: \"10.0.0.1:7002\" } ]\n";
    char text[512];
    snprintf(text, sizeof(text), "id: \"n\xc3\xa9\"\n%sdata_dir: /d\n", head);
    f->rv =
        config_node_parse("node.yaml", text, strlen(text), &f->node, f->err, sizeof(f->err));
    assert_int_equal(f->rv, CD_EPARSE);
    assert_string_equal(f->err, "node.yaml:1:5: id: 'n\xc3\xa9" NOT_A_NAME);
    snprintf(text, sizeof(text), "id: n1\n%sdata_dir: \"/var/lib\\ncontactd\"\n", head);
    f->rv =
        config_node_parse("node.yaml", text, strlen(text), &f->node, f->err, sizeof(f->err));
    assert_int_equal(f->rv, CD_EPARSE);
    assert_string_equal(f->err,
                        "node.yaml:4:11: data_dir: expected text without control "
                        "characters, found U+000A");
}

/* A message quotes what the document holds, which may be several lines; the message stays
 * one line (a log line, the API's answer), each control character shown as '?'. Found by
 * tests/fuzz/fuzz_config_node. */
static void messages_stay_on_one_line(void **state)
{
    F;
    static const char node[] = "\"line one\\nline\\ttwo\"\n";
    f->rv =
        config_node_parse("node.yaml", node, strlen(node), &f->node, f->err, sizeof(f->err));
    assert_int_equal(f->rv, CD_EPARSE);
    assert_string_equal(f->err, "node.yaml:1:1: expected a mapping, got 'line one?line?two'");
    /* Plain scalars fold lines, but an empty line stays a newline. */
    EXPECT_ERROR("a\n\n  b\n", "model.yaml:1:1: expected a mapping, got 'a?b'");
    /* A key that libyaml's parser reports on: a duplicate key. */
    EXPECT_ERROR("\"a\\nb\": 1\n\"a\\nb\": 2\n",
                 "model.yaml:2:1: duplicate key 'a?b' (first at line 1, column 1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(names_take_the_documented_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(names_refuse_quotes_spaces_and_beyond_ascii, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(names_refuse_control_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(text_refuses_control_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(text_takes_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(document_must_be_utf8_without_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(node_file_names_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(messages_stay_on_one_line, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
