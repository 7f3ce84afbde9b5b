/* config_model_diff: changes named by path, items of agent and rule lists matched by their
 * id or name (and their order checked), other lists compared whole, nothing for equal
 * documents, and YAML errors reported with their position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
