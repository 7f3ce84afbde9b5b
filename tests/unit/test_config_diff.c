/* config_model_diff: changes named by path, items of agent and rule lists matched by their
 * id or name (and their order checked), other lists compared whole, nothing for equal
 * documents, and YAML errors reported with their position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"

struct fixture
{
    char *out;
    char err[256];
};

static int setup(void **state)
{
    *state = test_calloc(1, sizeof(struct fixture));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->out);
    test_free(f);
    return 0;
}

#define F struct fixture *f = *state
#define DIFF(a, b) \
    config_model_diff((a), strlen(a), (b), strlen(b), &f->out, f->err, sizeof(f->err))
#define EXPECT(a, b, text)                 \
    do {                                   \
        assert_int_equal(DIFF(a, b), 0);   \
        assert_string_equal(f->out, text); \
        free(f->out);                      \
        f->out = NULL;                     \
    } while (0)

static void equal_documents_differ_in_nothing(void **state)
{
    F;
    EXPECT("version: 1\nqueues: { a: { max_size: 5 } }\n",
           "# a comment\nversion: 1\nqueues:\n  a:\n    max_size: 5\n", "");
}

static void scalars_keys_added_and_removed(void **state)
{
    F;
    EXPECT("queues: { a: { max_size: 5, hours: uk }, b: {} }\n",
           "queues: { a: { max_size: 6, strategy: ring-all }, c: { channels: [chat] } }\n",
           "~ queues.a.max_size: 5 -> 6\n"
           "- queues.a.hours\n"
           "+ queues.a.strategy: ring-all\n"
           "- queues.b\n"
           "+ queues.c: {channels: [chat]}\n");
}

static void agents_matched_by_id(void **state)
{
    F;
    EXPECT(
        "agents:\n"
        "  - { id: a1, skills: { sales: 5 } }\n"
        "  - { id: a2, skills: { sales: 6 } }\n",
        "agents:\n"
        "  - { id: a2, skills: { sales: 7 } }\n"
        "  - { id: a3, skills: { sales: 1 } }\n",
        "- agents[a1]\n"
        "~ agents[a2].skills.sales: 6 -> 7\n"
        "+ agents[a3] at 2: {id: a3, skills: {sales: 1}}\n");
}

static void rule_order_is_a_change(void **state)
{
    F;
    EXPECT("rules:\n  - { name: vip, route: q1 }\n  - { name: rest, route: q2 }\n",
           "rules:\n  - { name: rest, route: q2 }\n  - { name: vip, route: q1 }\n",
           "~ rules: order vip, rest -> rest, vip\n");
}

static void plain_lists_compared_whole(void **state)
{
    F;
    EXPECT("skills: [sales, support]\n", "skills: [sales, billing]\n",
           "~ skills: [sales, support] -> [sales, billing]\n");
}

static void from_nothing_everything_is_added(void **state)
{
    F;
    EXPECT("", "version: 1\n", "+ version: 1\n");
}

static void yaml_errors_name_the_document_and_position(void **state)
{
    F;
    assert_int_equal(DIFF("version: 1\n", "queues: [\n"), CD_EPARSE);
    assert_non_null(strstr(f->err, "model:"));
    assert_null(f->out);
    assert_int_equal(DIFF("a: b: c\n", "version: 1\n"), CD_EPARSE);
    assert_non_null(strstr(f->err, "running:1:"));
}

/* Twenty agents a0..a19 with their own level, in order (or reversed), as one string. */
static char *agents(int first, int last, int step, int changed, int level)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    fputs("agents:\n", f);
    for (int i = first; i != last + step; i += step) {
        fprintf(f, "  - { id: a%d, skills: { sales: %d } }\n", i, i == changed ? level : 1);
    }
    fclose(f);
    return text;
}

/* Long lists and wide mappings are matched through an index: the same lines as a walk. */
static void large_collections(void **state)
{
    F;
    char *a = agents(0, 19, 1, -1, 0), *b = agents(1, 20, 1, 7, 3);
    EXPECT(a, b,
           "- agents[a0]\n"
           "~ agents[a7].skills.sales: 1 -> 3\n"
           "+ agents[a20] at 20: {id: a20, skills: {sales: 1}}\n");
    free(b);
    b = agents(19, 0, -1, -1, 0);
    EXPECT(a, b,
           "~ agents: order a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, "
           "a15, a16, a17, a18, a19 -> a19, a18, a17, a16, a15, a14, a13, a12, a11, a10, a9, "
           "a8, a7, a6, a5, a4, a3, a2, a1, a0\n");
    free(a);
    free(b);
    EXPECT("queues: { q0: 0, q1: 1, q2: 2, q3: 3, q4: 4, q5: 5, q6: 6, q7: 7, q8: 8 }\n",
           "queues: { q8: 8, q7: 7, q6: 6, q5: 5, q4: 4, q3: 3, q2: 2, q1: 1, q9: 9, q0: 0 }\n",
           "+ queues.q9: 9\n");
}

/* Of two items with one name, the first is the one matched, however long the list. */
static void repeated_names_match_the_first(void **state)
{
    F;
    static const char *const sizes[] = {"",
                                        "  - { id: x1 }\n  - { id: x2 }\n  - { id: x3 }\n"
                                        "  - { id: x4 }\n  - { id: x5 }\n  - { id: x6 }\n"
                                        "  - { id: x7 }\n  - { id: x8 }\n"};
    for (int i = 0; i < 2; i++) {
        char a[512], b[512];
        snprintf(a, sizeof(a),
                 "agents:\n%s  - { id: d, site: one }\n  - { id: d, site: two }\n", sizes[i]);
        snprintf(b, sizeof(b), "agents:\n%s  - { id: d, site: three }\n", sizes[i]);
        assert_int_equal(DIFF(a, b), 0);
        static const char want[] =
            "~ agents[d].site: one -> three\n"
            "~ agents[d].site: two -> three\n";
        assert_true(strncmp(f->out, want, strlen(want)) == 0);
        free(f->out);
        f->out = NULL;
    }
}

/* A value never splits its line, and a cut one stays UTF-8. */
static void values_shown_on_one_line(void **state)
{
    F;
    EXPECT("reason: a\n", "reason: \"two\\nlines\\tand\\x01\"\n",
           "~ reason: a -> two\\nlines\\tand\\x01\n");
    char b[512] = "reason: \"x";
    for (int i = 0; i < 100; i++) {
        strcat(b, "\xc3\xa9"); /* 2 bytes each after the x: byte 160 is the middle of one */
    }
    strcat(b, "\"\n");
    assert_int_equal(DIFF("reason: a\n", b), 0);
    const char *arrow = strstr(f->out, "-> ");
    assert_non_null(arrow);
    assert_int_equal(strlen(arrow), 3 + 159 + 3 + 1); /* x, 79 characters, "...", newline */
    assert_string_equal(arrow + 3 + 159, "...\n");
    char key[1024] = "q";
    for (int i = 0; i < 300; i++) {
        strcat(key, "\xc3\xa9");
    }
    char doc[2048];
    snprintf(doc, sizeof(doc), "queues: { \"%s\": 1 }\n", key);
    free(f->out);
    f->out = NULL;
    assert_int_equal(DIFF("queues: {}\n", doc), 0);
    /* "+ queues.q" then as many whole characters as fit in 511 bytes: 510 of them. */
    const char *colon = strstr(f->out, ": 1\n");
    assert_non_null(colon);
    assert_int_equal(colon - f->out, 2 + 511 - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(equal_documents_differ_in_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(scalars_keys_added_and_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(agents_matched_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_order_is_a_change, setup, teardown),
        cmocka_unit_test_setup_teardown(plain_lists_compared_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(from_nothing_everything_is_added, setup, teardown),
        cmocka_unit_test_setup_teardown(yaml_errors_name_the_document_and_position, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(large_collections, setup, teardown),
        cmocka_unit_test_setup_teardown(repeated_names_match_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(values_shown_on_one_line, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
