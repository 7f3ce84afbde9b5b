/* The character set of names (engine_name_valid): what the API and the model accept for
 * agents, queues, skills, members, attribute keys, reason codes and idempotency keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

static void every_allowed_character(void **state)
{
    (void)state;
    assert_true(engine_name_valid("a", ENGINE_NAME_MAX));
    assert_true(engine_name_valid("support-chat_2", ENGINE_NAME_MAX));
    assert_true(engine_name_valid("sip:queue@site-b.example/x+1", ENGINE_NAME_MAX));
    assert_true(engine_name_valid("ABCXYZabcxyz0189", ENGINE_NAME_MAX));
}

static void refused_characters(void **state)
{
    (void)state;
    const char *bad[] = {
        "",       "with space", "new\nline", "tab\t",       "quote\"", "quote'",
        "back\\", "semi;colon", "a,b",       "a?b",         "a#b",     "a%b",
        "a&b",    "<a>",        "\xff\xfe",  "caf\xc3\xa9", "del\x7f", "a=b",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (engine_name_valid(bad[i], ENGINE_NAME_MAX)) {
            fail_msg("'%s' was accepted", bad[i]);
        }
    }
}

static void length_is_bounded_by_cap(void **state)
{
    (void)state;
    char name[ENGINE_NAME_MAX + 1];
    memset(name, 'x', sizeof(name));
    name[ENGINE_NAME_MAX - 1] = 0; /* 63 characters: the most that fits */
    assert_true(engine_name_valid(name, ENGINE_NAME_MAX));
    name[ENGINE_NAME_MAX - 1] = 'x';
    name[ENGINE_NAME_MAX] = 0; /* 64: one too many */
    assert_false(engine_name_valid(name, ENGINE_NAME_MAX));
    assert_true(engine_name_valid("abc", 4));
    assert_false(engine_name_valid("abcd", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_allowed_character),
        cmocka_unit_test(refused_characters),
        cmocka_unit_test(length_is_bounded_by_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
