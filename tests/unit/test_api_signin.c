/* What browser sign-in rests on (adapters/api): password verifiers (verifier.c), the
 * password policy, and the tables of failed sign-ins (throttle.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "adapters/api/internal.h"
#include "common/error.h"

static const uint8_t salt0[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t salt1[16] = {16, 17, 18, 19, 20, 21, 22, 23,
                                  24, 25, 26, 27, 28, 29, 30, 31};
static const struct api__scrypt cheap = {10, 8, 1};

#define PW "correct horse battery staple"
#define MATCHES(pw, v) api__verifier_matches((pw), strlen(pw), (v))

/* The bytes of another implementation (Python's hashlib.scrypt, on OpenSSL too but through
 * its own salt and parameter handling) for the same password, salt and parameters. */
static void the_format_and_known_answers(void **state)
{
    char v[ENGINE_VERIFIER_MAX];
    (void)state;
    assert_int_equal(api__verifier_make(PW, strlen(PW), &cheap, salt0, v), 0);
    assert_string_equal(v,
                        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$"
                        "mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=");
    const struct api__scrypt other = {11, 4, 2};
    const char *pw =
        "p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbcn\xc3\xaf"
        "code";
    assert_int_equal(api__verifier_make(pw, strlen(pw), &other, salt1, v), 0);
    assert_string_equal(v,
                        "scrypt$11$4$2$EBESExQVFhcYGRobHB0eHw==$"
                        "EbD4vFSXbd9OH4N955RkhgD8BWZfJWnm8ORJBLcQCgA=");
    assert_true(MATCHES(pw, v));
}

static void a_password_matches_its_verifier_only(void **state)
{
    char v[ENGINE_VERIFIER_MAX];
    (void)state;
    assert_int_equal(api__verifier_make(PW, strlen(PW), &cheap, salt0, v), 0);
    assert_true(api__verifier_valid(v));
    assert_true(MATCHES(PW, v));
    assert_false(MATCHES("correct horse battery stapl", v));
    assert_false(MATCHES("correct horse battery staple ", v));
    assert_false(MATCHES("Correct horse battery staple", v));
    assert_false(MATCHES("", v));
    /* The length counts: a password with a NUL in it is not its prefix. */
    assert_false(api__verifier_matches(PW "\0x", strlen(PW) + 2, v));
}

/* A new verifier draws its salt: the same password twice gives two verifiers, each of
 * which it matches. */
static void new_verifiers_are_salted_and_slow(void **state)
{
    char a[ENGINE_VERIFIER_MAX], b[ENGINE_VERIFIER_MAX];
    struct timespec t0, t1;
    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(api__verifier_make(PW, strlen(PW), &API__SCRYPT, NULL, a), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(api__verifier_make(PW, strlen(PW), &API__SCRYPT, NULL, b), 0);
    print_message(
        "scrypt N=2^%u r=%u p=%u: %.0f ms\n", API__SCRYPT.log2n, API__SCRYPT.r, API__SCRYPT.p,
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_true(strncmp(a, "scrypt$15$8$1$", 14) == 0);
    assert_int_equal(strlen(a), 14 + 24 + 1 + 44);
    assert_string_not_equal(a, b);
    assert_true(MATCHES(PW, a));
    assert_true(MATCHES(PW, b));
    assert_true(strlen(a) < ENGINE_VERIFIER_MAX &&
                engine_visible_valid(a, ENGINE_VERIFIER_MAX));
}

/* What an unknown user is checked against: as costly as a real verifier, matched by no
 * password one would try. */
static void the_dummy_is_a_verifier_nobody_matches(void **state)
{
    const char *d = api__verifier_dummy();
    (void)state;
    assert_true(api__verifier_valid(d));
    assert_true(strncmp(d, "scrypt$15$8$1$", 14) == 0);
    assert_false(MATCHES("", d));
    assert_false(MATCHES("password1234", d));
}

static void malformed_verifiers_match_nothing(void **state)
{
    static const char *const bad[] = {
        "",
        "scrypt",
        "bcrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$10$8$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=$",
        "scrypt$010$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$+10$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$0$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$21$1$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$20$16$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$10$0$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$10$8$5$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0O$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlR",
        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRUA",
        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJl*U=",
        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$$mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU=",
    };
    (void)state;
    /* The well-formed one, for contrast. */
    assert_true(MATCHES(PW,
                        "scrypt$10$8$1$AAECAwQFBgcICQoLDA0ODw==$"
                        "mp90zEQd5XGhjEv4WArVH4Z0XRSzkGWtJK2S/AXJlRU="));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (api__verifier_valid(bad[i]) || MATCHES(PW, bad[i])) {
            fail_msg("accepted: '%s'", bad[i]);
        }
    }
    char v[ENGINE_VERIFIER_MAX];
    const struct api__scrypt big = {20, 16, 1};
    assert_int_equal(api__verifier_make(PW, strlen(PW), &big, salt0, v), CD_EINVAL);
}

#define POLICY_OK(pw) assert_null(api__password_problem((pw), strlen(pw)))
#define POLICY_REFUSES(pw, why) \
    assert_non_null(strstr(api__password_problem((pw), strlen(pw)), (why)))

static void the_password_policy(void **state)
{
    char long_pw[API__PASSWORD_MAX + 2];
    (void)state;
    POLICY_OK("twelve chars");
    POLICY_REFUSES("eleven char", "shorter than 12 characters");
    POLICY_REFUSES("", "shorter");
    /* Characters, not bytes: eleven two-byte letters are still too short; twelve do. */
    POLICY_REFUSES(
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9",
        "shorter");
    POLICY_OK(
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9");
    POLICY_REFUSES("twelve chars\n", "control");
    POLICY_REFUSES("twelve\tchars", "control");
    POLICY_REFUSES("twelve chars \xff", "UTF-8");
    POLICY_REFUSES("twelve chars \xc0\xaf", "UTF-8");
    assert_non_null(strstr(api__password_problem("twelve\0chars!", 13), "control"));
    memset(long_pw, 'x', sizeof(long_pw));
    long_pw[API__PASSWORD_MAX] = 0;
    POLICY_OK(long_pw);
    long_pw[API__PASSWORD_MAX] = 'x';
    long_pw[API__PASSWORD_MAX + 1] = 0;
    POLICY_REFUSES(long_pw, "longer than 1024 bytes");
}

/* ---- Failed sign-ins ------------------------------------------------------------------ */

static struct api__strikes table;
#define WINDOW API__STRIKE_WINDOW_MS

static void a_key_waits_once_it_failed_limit_times(void **state)
{
    struct api__strikes *t = &table;
    (void)state;
    memset(t, 0, sizeof(*t));
    uint64_t t0 = 1000000;
    for (int i = 0; i < 4; i++) {
        api__strikes_charge(t, "alice", t0 + (uint64_t)i * 1000);
        assert_int_equal(api__strikes_wait(t, "alice", 5, t0 + 5000), 0);
    }
    api__strikes_charge(t, "alice", t0 + 60000);
    /* Five in the window that opened at the first: wait until it closes. */
    assert_int_equal(api__strikes_wait(t, "alice", 5, t0 + 60000), WINDOW - 60000);
    assert_int_equal(api__strikes_wait(t, "alice", 5, t0 + WINDOW - 1), 1);
    assert_int_equal(api__strikes_wait(t, "alice", 6, t0 + 60000), 0);
    assert_int_equal(api__strikes_wait(t, "bob", 5, t0 + 60000), 0);
    assert_int_equal(api__strikes_wait(t, "alice", 5, t0 + WINDOW), 0);
    /* A charge after the window opens a new one. */
    api__strikes_charge(t, "alice", t0 + WINDOW + 10);
    assert_int_equal(api__strikes_wait(t, "alice", 1, t0 + WINDOW + 10), WINDOW);
    assert_int_equal(api__strikes_wait(t, "alice", 2, t0 + WINDOW + 10), 0);
}

static void refunds_and_clears(void **state)
{
    struct api__strikes *t = &table;
    (void)state;
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < 5; i++) {
        api__strikes_charge(t, "127.0.0.1", 10);
    }
    assert_true(api__strikes_wait(t, "127.0.0.1", 5, 20) > 0);
    api__strikes_refund(t, "127.0.0.1");
    assert_int_equal(api__strikes_wait(t, "127.0.0.1", 5, 20), 0);
    api__strikes_refund(t, "nobody");
    api__strikes_charge(t, "alice", 10);
    api__strikes_clear(t, "127.0.0.1");
    assert_int_equal(t->n, 1);
    assert_int_equal(api__strikes_wait(t, "alice", 1, 20), WINDOW - 10);
    api__strikes_clear(t, "alice");
    api__strikes_clear(t, "alice");
    assert_int_equal(t->n, 0);
}

/* A full table takes a newcomer in the place of a key whose window has passed, else of the
 * key whose window began first; never more than its bound. */
static void a_full_table_forgets_its_oldest(void **state)
{
    struct api__strikes *t = &table;
    char key[32];
    (void)state;
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < API__STRIKES_MAX; i++) {
        snprintf(key, sizeof(key), "user%d", i);
        api__strikes_charge(t, key, 1000 + (uint64_t)i);
        api__strikes_charge(t, key, 1000 + (uint64_t)i);
    }
    assert_int_equal(t->n, API__STRIKES_MAX);
    uint64_t now = 1000 + API__STRIKES_MAX;
    api__strikes_charge(t, "newcomer", now);
    api__strikes_charge(t, "newcomer", now);
    assert_int_equal(t->n, API__STRIKES_MAX);
    assert_int_equal(api__strikes_wait(t, "newcomer", 2, now), WINDOW);
    assert_int_equal(api__strikes_wait(t, "user0", 2, now), 0); /* forgotten */
    assert_true(api__strikes_wait(t, "user1", 2, now) > 0);
    /* Once user1's window has passed, its place is the first free one. */
    api__strikes_charge(t, "late", 1001 + WINDOW);
    assert_int_equal(api__strikes_wait(t, "user1", 1, 1001 + WINDOW), 0);
    assert_true(api__strikes_wait(t, "user2", 2, 1001 + WINDOW) > 0);
    assert_int_equal(t->n, API__STRIKES_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_format_and_known_answers),
        cmocka_unit_test(a_password_matches_its_verifier_only),
        cmocka_unit_test(new_verifiers_are_salted_and_slow),
        cmocka_unit_test(the_dummy_is_a_verifier_nobody_matches),
        cmocka_unit_test(malformed_verifiers_match_nothing),
        cmocka_unit_test(the_password_policy),
        cmocka_unit_test(a_key_waits_once_it_failed_limit_times),
        cmocka_unit_test(refunds_and_clears),
        cmocka_unit_test(a_full_table_forgets_its_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
