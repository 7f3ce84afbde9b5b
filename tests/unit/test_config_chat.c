/* The routing model's away_reasons, dispositions, per-queue disposition_required and chat
 * section (reconnect time and pre-chat entries): what they build, and each error with its
 * file:line:column. */
#include "config_fixture.h"

#define PARSE(text) PARSE_N((text), strlen(text))
#define EXPECT_ERROR(text, msg)              \
    do {                                     \
        PARSE(text);                         \
        ASSERT_ERROR(msg);                   \
        assert_int_equal(f->m->n_queues, 0); \
        assert_null(f->m->chat_entries);     \
    } while (0)

/* A chat queue and a voice queue. Line 7 is the last. */
#define BASE               \
    "version: 1\n"         \
    "skills: [sales]\n"    \
    "queues:\n"            \
    "  web:\n"             \
    "    channels: chat\n" \
    "  phone:\n"           \
    "    channels: voice\n"

static const char full[] = BASE
    "    disposition_required: true\n"
    "away_reasons: [lunch, break, training]\n"
    "dispositions: [sale, no-sale, follow-up]\n"
    "personal: [name, email]\n"
    "chat:\n"
    "  reconnect_s: 90\n"
    "  entries:\n"
    "    - name: support\n"
    "      queue: web\n"
    "      fields:\n"
    "        - { key: name, label: \"Votre nom\", type: text, required: true, max: 40 }\n"
    "        - { key: email, label: Email, type: email }\n"
    "        - key: topic\n"
    "          label: Topic\n"
    "          type: select\n"
    "          options: [billing, \"tech support\"]\n"
    "        - { key: msg, label: Your question, type: textarea }\n"
    "    - name: anything\n";

static void full_model_builds(void **state)
{
    F;
    PARSE(full);
    ASSERT_OK;
    const struct engine_model *m = f->m;
    assert_int_equal(m->n_away, 3);
    assert_string_equal(m->away[2], "training");
    assert_int_equal(m->n_dispositions, 3);
    assert_string_equal(m->dispositions[1], "no-sale");
    assert_false(m->queues[0].disposition_required);
    assert_true(m->queues[1].disposition_required);
    assert_int_equal(m->chat_reconnect_s, 90);
    assert_int_equal(m->n_chat_entries, 2);
    const struct engine_chat_entry *ce = &m->chat_entries[0];
    assert_string_equal(ce->name, "support");
    assert_int_equal(ce->queue, 0);
    assert_int_equal(ce->n_fields, 4);
    assert_string_equal(ce->fields[0].label, "Votre nom");
    assert_true(ce->fields[0].required);
    assert_int_equal(ce->fields[0].max, 40);
    assert_int_equal(ce->fields[1].type, ENGINE_FIELD_EMAIL);
    assert_int_equal(ce->fields[1].max, ENGINE_VALUE_MAX - 1); /* the default */
    assert_false(ce->fields[1].required);
    assert_int_equal(ce->fields[2].type, ENGINE_FIELD_SELECT);
    assert_int_equal(ce->fields[2].n_options, 2);
    assert_string_equal(ce->fields[2].options[1], "tech support");
    assert_int_equal(ce->fields[3].type, ENGINE_FIELD_TEXTAREA);
    assert_int_equal(ce->fields[0].type == ENGINE_FIELD_TEXT, 1);
    assert_int_equal(m->chat_entries[1].queue, -1);
    assert_int_equal(m->chat_entries[1].n_fields, 0);
}

static void absent_sections_keep_the_defaults(void **state)
{
    F;
    PARSE(BASE);
    ASSERT_OK;
    assert_int_equal(f->m->n_away, 0);
    assert_int_equal(f->m->n_dispositions, 0);
    assert_int_equal(f->m->chat_reconnect_s, 0);
    assert_int_equal(engine_model_reconnect_ms(f->m), 120000);
    assert_int_equal(f->m->n_chat_entries, 0);
}

static void lists_are_names_without_repeats(void **state)
{
    F;
    EXPECT_ERROR(BASE "away_reasons: [lunch, lunch]\n",
                 "model.yaml:8:23: away_reasons: 'lunch' is listed twice");
    EXPECT_ERROR(BASE "dispositions: [\"no sale\"]\n",
                 "model.yaml:8:16: 'no sale' is not a valid name (use letters, digits and - _ "
                 ". / + : @)");
    EXPECT_ERROR(BASE "dispositions: sale\n",
                 "model.yaml:8:15: dispositions: expected a list, got 'sale'");
}

static void a_required_disposition_needs_a_list(void **state)
{
    F;
    EXPECT_ERROR(BASE "    disposition_required: true\n",
                 "model.yaml:8:27: queue 'phone': disposition_required: the model lists no "
                 "dispositions (add a top-level dispositions: [...])");
    EXPECT_ERROR(
        BASE "    disposition_required: maybe\n",
        "model.yaml:8:27: queue 'phone': disposition_required: expected true or false, "
        "got 'maybe'");
}

static void chat_errors_are_positioned(void **state)
{
    F;
    EXPECT_ERROR(
        BASE "chat:\n  reconnect_s: 5\n",
        "model.yaml:9:16: chat: reconnect_s: expected a duration from 10s to 1h (such as 20s, "
        "15m or 2h), got '5'");
    EXPECT_ERROR(BASE "chat:\n  colour: red\n",
                 "model.yaml:9:3: chat: unknown key 'colour' (expected one of: reconnect_s, "
                 "entries)");
    EXPECT_ERROR(BASE "chat:\n  entries:\n    - name: a\n      queue: phone\n",
                 "model.yaml:11:14: chat entry 'a': queue: 'phone' does not serve the chat "
                 "channel");
    EXPECT_ERROR(BASE "chat:\n  entries:\n    - name: a\n      queue: nowhere\n",
                 "model.yaml:11:14: chat entry 'a': unknown queue 'nowhere'");
    EXPECT_ERROR(BASE "chat:\n  entries:\n    - name: a\n    - name: a\n",
                 "model.yaml:11:13: chat: chat entry 'a' is given twice");
    EXPECT_ERROR(BASE "chat:\n  entries:\n    - queue: web\n",
                 "model.yaml:10:7: chat: missing key 'name'");
}

#define ENTRY BASE "chat:\n  entries:\n    - name: e\n      fields:\n"

static void field_errors_are_positioned(void **state)
{
    F;
    EXPECT_ERROR(ENTRY "        - { key: topic, label: T, type: select }\n",
                 "model.yaml:12:11: chat entry 'e': field 'topic': a select field needs "
                 "options");
    EXPECT_ERROR(ENTRY "        - { key: topic, label: T, options: [a] }\n",
                 "model.yaml:12:44: chat entry 'e': options: only a select field has options");
    EXPECT_ERROR(ENTRY "        - { key: topic, label: T, type: radio }\n",
                 "model.yaml:12:41: chat entry 'e': type: unknown field type 'radio' (expected "
                 "one of: text, email, phone, select, textarea)");
    EXPECT_ERROR(ENTRY "        - { key: n, label: A }\n        - { key: n, label: B }\n",
                 "model.yaml:13:18: chat entry 'e': field 'n' is given twice");
    EXPECT_ERROR(
        ENTRY "        - { key: n, label: A, max: 64 }\n",
        "model.yaml:12:36: chat entry 'e': max: expected an integer from 1 to 63, got '64'");
    EXPECT_ERROR(ENTRY
                 "        - { key: t, label: A, type: select, max: 3, options: [long] }\n",
                 "model.yaml:12:63: chat entry 'e': option 'long' is longer than the field's "
                 "max (3)");
    EXPECT_ERROR(ENTRY "        - { key: t, label: A, type: select, options: [a, a] }\n",
                 "model.yaml:12:58: chat entry 'e': option 'a' is listed twice");
    EXPECT_ERROR(
        ENTRY "        - { key: \"a b\", label: A }\n",
        "model.yaml:12:18: chat entry 'e': key: 'a b' is not a valid name (use letters, "
        "digits and - _ . / + : @)");
    EXPECT_ERROR(ENTRY "        - { key: n }\n",
                 "model.yaml:12:11: chat entry 'e': missing key 'label'");
    /* A label is at most 64 bytes: 65 is one too many. */
    char doc[1024];
    snprintf(doc, sizeof(doc), ENTRY "        - { key: n, label: %065d }\n", 0);
    PARSE(doc);
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "longer than 64 characters"));
}

static void limits_are_enforced(void **state)
{
    F;
    f->len = 0;
    put(f, "%s", ENTRY);
    for (int i = 0; i <= ENGINE_CHAT_FIELDS_MAX; i++) {
        put(f, "        - { key: k%d, label: L }\n", i);
    }
    PARSE_PUT();
    ASSERT_ERROR("model.yaml:12:9: chat entry 'e': fields: more than 12 fields");
    f->len = 0;
    put(f, "%s", BASE "chat:\n  entries:\n");
    for (int i = 0; i <= ENGINE_CHAT_ENTRIES_MAX; i++) {
        put(f, "    - name: e%d\n", i);
    }
    PARSE_PUT();
    ASSERT_ERROR("model.yaml:10:5: chat: entries: more than 16 entries");
}

/* What changed, for the audit and `model diff`: the new sections like any other. */
static void the_diff_names_the_new_sections(void **state)
{
    (void)state;
    char *out = NULL, err[256];
    const char *changed = BASE
        "away_reasons: [lunch]\n"
        "chat:\n  reconnect_s: 60\n";
    const char *before = BASE
        "away_reasons: [lunch, break]\n"
        "chat:\n  reconnect_s: 90\n";
    assert_int_equal(config_model_diff(before, strlen(before), changed, strlen(changed), &out,
                                       err, sizeof(err)),
                     0);
    assert_non_null(strstr(out, "away_reasons"));
    assert_non_null(strstr(out, "~ chat.reconnect_s: 90 -> 60"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_model_builds, setup, teardown),
        cmocka_unit_test_setup_teardown(absent_sections_keep_the_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_are_names_without_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(a_required_disposition_needs_a_list, setup, teardown),
        cmocka_unit_test_setup_teardown(chat_errors_are_positioned, setup, teardown),
        cmocka_unit_test_setup_teardown(field_errors_are_positioned, setup, teardown),
        cmocka_unit_test_setup_teardown(limits_are_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(the_diff_names_the_new_sections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
