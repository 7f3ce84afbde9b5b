/* common/log: logfmt lines an operator can grep and a collector can parse; values quoted
 * and escaped only when they must be; lines below the set level not written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"

static void line_of(char *buf,
                    size_t cap,
                    int level,
                    const char *event,
                    const char *const *kv,
                    size_t n)
{
    size_t need = cd_log_format(buf, cap, level, event, kv, n);
    assert_int_equal(need, strlen(buf));
}

static void plain_values_stay_bare(void **state)
{
    char buf[256];
    const char *kv[] = {"term", "7", "leader", "n2", "addr", "127.0.0.1:8080"};
    (void)state;
    line_of(buf, sizeof(buf), CD_LOG_INFO, "leader", kv, 6);
    assert_string_equal(buf, "level=info event=leader term=7 leader=n2 addr=127.0.0.1:8080");
}

static void values_that_need_it_are_quoted_and_escaped(void **state)
{
    char buf[256];
    const char *kv[] = {"msg",   "listen on '127.0.0.1:8080': in use",
                        "q",     "say \"hi\"",
                        "eq",    "a=b",
                        "nl",    "one\ntwo",
                        "bs",    "c:\\x",
                        "ctl",   "\x01",
                        "none",  NULL,
                        "empty", ""};
    (void)state;
    line_of(buf, sizeof(buf), CD_LOG_ERROR, "start", kv, 16);
    assert_string_equal(buf,
                        "level=error event=start msg=\"listen on '127.0.0.1:8080': in use\" "
                        "q=\"say \\\"hi\\\"\" eq=\"a=b\" nl=\"one\\ntwo\" bs=\"c:\\\\x\" "
                        "ctl=\"\\x01\" none=\"\" empty=\"\"");
}

static void a_short_buffer_is_cut_but_says_what_it_needed(void **state)
{
    char buf[16], full[128];
    const char *kv[] = {"term", "12345678"};
    (void)state;
    size_t need = cd_log_format(buf, sizeof(buf), CD_LOG_WARN, "leader", kv, 2);
    cd_log_format(full, sizeof(full), CD_LOG_WARN, "leader", kv, 2);
    assert_int_equal(need, strlen(full));
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_memory_equal(buf, full, sizeof(buf) - 1);
}

static void levels_below_the_set_one_are_off(void **state)
{
    (void)state;
    cd_log_set_level(CD_LOG_WARN);
    assert_false(cd_log_enabled(CD_LOG_DEBUG));
    assert_false(cd_log_enabled(CD_LOG_INFO));
    assert_true(cd_log_enabled(CD_LOG_WARN));
    assert_true(cd_log_enabled(CD_LOG_FATAL));
    cd_log_set_level(CD_LOG_DEBUG);
    assert_true(cd_log_enabled(CD_LOG_DEBUG));
    char buf[64];
    cd_log_format(buf, sizeof(buf), 99, "x", NULL, 0); /* out of range: clamped */
    assert_string_equal(buf, "level=fatal event=x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_values_stay_bare),
        cmocka_unit_test(values_that_need_it_are_quoted_and_escaped),
        cmocka_unit_test(a_short_buffer_is_cut_but_says_what_it_needed),
        cmocka_unit_test(levels_below_the_set_one_are_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
