/* What the API takes from clients, checked one way everywhere (adapters/api/input.c):
 * decimal ids and numbers, and free text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "adapters/api/internal.h"

#define PARSES(text, want)                                \
    do {                                                  \
        uint64_t v_ = 12345;                              \
        assert_int_equal(api__u64_parse((text), &v_), 0); \
        assert_true(v_ == (uint64_t)(want));              \
    } while (0)
#define REFUSED(text)                                                          \
    do {                                                                       \
        uint64_t v_ = 12345;                                                   \
        if (api__u64_parse((text), &v_) == 0) {                                \
            fail_msg("'%s' was read as %llu", (text), (unsigned long long)v_); \
        }                                                                      \
        assert_true(v_ == 12345);                                              \
    } while (0)

static void decimal_numbers(void **state)
{
    (void)state;
    PARSES("0", 0);
    PARSES("1", 1);
    PARSES("907", 907);
    PARSES("18446744073709551615", UINT64_MAX);
}

/* Each of these once read as contact 1 (or 0). */
static void only_plain_digits(void **state)
{
    (void)state;
    REFUSED("");
    REFUSED("+1");
    REFUSED("-1");
    REFUSED("01");
    REFUSED("00");
    REFUSED(" 1");
    REFUSED("1 ");
    REFUSED("1x");
    REFUSED("0x1");
    REFUSED("1e3");
    REFUSED("1.0");
    REFUSED("abc");
    REFUSED("-1844674407370955161");
    REFUSED("18446744073709551616"); /* UINT64_MAX + 1 */
    REFUSED("99999999999999999999999");
}

static void text_is_utf8_without_controls(void **state)
{
    (void)state;
    assert_true(api__text_valid(""));
    assert_true(api__text_valid("plain text, with: punctuation!"));
    assert_true(api__text_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    assert_true(api__text_valid("\xc2\xa0")); /* U+00A0, just past the C1 controls */
    const char *bad[] = {
        "\xff\xfe",         /* not UTF-8 at all */
        "a\nb",             /* C0 control */
        "tab\t",            /* C0 control */
        "del\x7f",          /* DEL */
        "\xc2\x85",         /* U+0085, a C1 control */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xe2\x82",         /* cut short */
        "\xc3",             /* cut short at the end */
        "\x80",             /* a lone continuation byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (api__text_valid(bad[i])) {
            fail_msg("bad text %zu was accepted", i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decimal_numbers),
        cmocka_unit_test(only_plain_digits),
        cmocka_unit_test(text_is_utf8_without_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
