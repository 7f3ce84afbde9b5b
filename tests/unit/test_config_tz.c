/* config_tz_load(): TZif files from the system's tzdata, POSIX footer expansion, and
 * clean errors for bad names and corrupt files (written into a temporary zoneinfo
 * directory that CONTACTD_ZONEINFO points at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"

struct fixture
{
    struct engine_zone zone;
    char err[512];
    int rv;
    char dir[64]; /* temporary zoneinfo directory, "" when unused */
    uint8_t file[4096];
    size_t len;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    unsetenv("CONTACTD_ZONEINFO");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->zone.transitions);
    if (f->dir[0] != 0) {
        char path[128];
        snprintf(path, sizeof(path), "%s/Test/Zone", f->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/Test", f->dir);
        rmdir(path);
        rmdir(f->dir);
        unsetenv("CONTACTD_ZONEINFO");
    }
    free(f);
    return 0;
}

#define F struct fixture *f = *state
#define LOAD(name) (f->rv = config_tz_load((name), &f->zone, f->err, sizeof(f->err)))
#define ASSERT_OK                                    \
    do {                                             \
        if (f->rv != 0) {                            \
            print_error("unexpected: %s\n", f->err); \
        }                                            \
        assert_int_equal(f->rv, 0);                  \
    } while (0)
#define ASSERT_ERROR(code, msg)             \
    do {                                    \
        assert_int_equal(f->rv, (code));    \
        assert_string_equal(f->err, (msg)); \
    } while (0)
/* The offset in force at UTC second t. */
#define OFFSET_AT(t) offset_at(&f->zone, (t))

static int32_t offset_at(const struct engine_zone *z, int64_t t)
{
    int32_t off = z->base_offset;
    for (uint32_t i = 0; i < z->n_transitions && z->transitions[i].at <= t; i++) {
        off = z->transitions[i].offset;
    }
    return off;
}

/* Index of the transition exactly at t, or -1. */
static int find_at(const struct engine_zone *z, int64_t t)
{
    for (uint32_t i = 0; i < z->n_transitions; i++) {
        if (z->transitions[i].at == t) {
            return (int)i;
        }
    }
    return -1;
}

static void assert_transition(const struct engine_zone *z, int64_t at, int32_t offset)
{
    int i = find_at(z, at);
    if (i < 0) {
        print_error("no transition at %lld in '%s'\n", (long long)at, z->name);
    }
    assert_true(i >= 0);
    assert_int_equal(z->transitions[i].offset, offset);
}

static void assert_sorted_changes(const struct engine_zone *z)
{
    for (uint32_t i = 1; i < z->n_transitions; i++) {
        assert_true(z->transitions[i].at > z->transitions[i - 1].at);
        assert_true(z->transitions[i].offset != z->transitions[i - 1].offset);
    }
}

/* ---- A small TZif writer for synthetic and corrupt files ----------------------------- */

static void put32(struct fixture *f, uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        f->file[f->len++] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(struct fixture *f, int64_t v)
{
    put32(f, (uint32_t)((uint64_t)v >> 32));
    put32(f, (uint32_t)v);
}

static void put_header(struct fixture *f,
                       char version,
                       uint32_t times,
                       uint32_t types,
                       uint32_t leaps)
{
    memcpy(f->file + f->len, "TZif", 4);
    f->len += 4;
    f->file[f->len++] = (uint8_t)version;
    memset(f->file + f->len, 0, 15);
    f->len += 15;
    put32(f, 0);     /* isutcnt */
    put32(f, 0);     /* isstdcnt */
    put32(f, leaps); /* leapcnt */
    put32(f, times);
    put32(f, types);
    put32(f, types ? 4 : 0); /* charcnt: "AAA\0" */
}

/* A version 2 file: an empty version 1 body, then n transitions switching between the
 * given types (offsets), then the footer (NULL: none at all). */
static void build_tzif(struct fixture *f,
                       uint32_t n,
                       const int64_t *times,
                       const uint8_t *idx,
                       uint32_t ntypes,
                       const int32_t *offsets,
                       const char *footer)
{
    f->len = 0;
    put_header(f, '2', 0, 0, 0);
    put_header(f, '2', n, ntypes, 0);
    for (uint32_t i = 0; i < n; i++) {
        put64(f, times[i]);
    }
    for (uint32_t i = 0; i < n; i++) {
        f->file[f->len++] = idx[i];
    }
    for (uint32_t i = 0; i < ntypes; i++) {
        put32(f, (uint32_t)offsets[i]);
        f->file[f->len++] = i > 0;
        f->file[f->len++] = 0;
    }
    memcpy(f->file + f->len, "AAA", 4);
    f->len += 4;
    if (footer != NULL) {
        f->len += (size_t)snprintf((char *)f->file + f->len, sizeof(f->file) - f->len, "\n%s\n",
                                   footer);
    }
}

/* Writes f->file (its first len bytes) as zone "Test/Zone" of a fresh directory. */
static void install_file(struct fixture *f, size_t len)
{
    if (f->dir[0] == 0) {
        strcpy(f->dir, "/tmp/cd-tz-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/Test", f->dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        setenv("CONTACTD_ZONEINFO", f->dir, 1);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/Test/Zone", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f->file, 1, len, fp), len);
    fclose(fp);
}

#define INSTALL install_file(f, f->len)
#define INSTALL_TRUNCATED(n) install_file(f, (n))
#define CORRUPT_ERROR(why)                                                                   \
    do {                                                                                     \
        char expect[512];                                                                    \
        snprintf(expect, sizeof(expect), "time zone 'Test/Zone' (%s/Test/Zone): %s", f->dir, \
                 (why));                                                                     \
        ASSERT_ERROR(CD_ECORRUPT, expect);                                                   \
    } while (0)

/* ---- System zones --------------------------------------------------------------------- */

static void london_2026(void **state)
{
    F;
    LOAD("Europe/London");
    ASSERT_OK;
    assert_string_equal(f->zone.name, "Europe/London");
    assert_transition(&f->zone, 1774746000, 3600); /* 2026-03-29 01:00 UTC */
    assert_transition(&f->zone, 1792890000, 0);    /* 2026-10-25 01:00 UTC */
    assert_int_equal(OFFSET_AT(1774745999), 0);
    assert_int_equal(OFFSET_AT(1792889999), 3600);
    assert_sorted_changes(&f->zone);
}

static void london_footer_reaches_2099(void **state)
{
    F;
    LOAD("Europe/London");
    ASSERT_OK;
    assert_transition(&f->zone, 4078429200, 3600); /* 2099-03-29 01:00 UTC */
    assert_transition(&f->zone, 4096573200, 0);    /* 2099-10-25 01:00 UTC */
    /* Nothing is generated past the end of 2100. */
    assert_true(f->zone.transitions[f->zone.n_transitions - 1].at < 4133980800);
    assert_true(f->zone.transitions[f->zone.n_transitions - 1].at > 4102444800);
}

static void new_york(void **state)
{
    F;
    LOAD("America/New_York");
    ASSERT_OK;
    assert_transition(&f->zone, 1772953200, -4 * 3600); /* 2026-03-08 07:00 UTC */
    assert_transition(&f->zone, 1793512800, -5 * 3600); /* 2026-11-01 06:00 UTC */
    assert_int_equal(OFFSET_AT(1782000000), -4 * 3600);
    assert_sorted_changes(&f->zone);
}

static void sydney_southern_hemisphere(void **state)
{
    F;
    LOAD("Australia/Sydney");
    ASSERT_OK;
    assert_transition(&f->zone, 1775318400, 10 * 3600); /* 2026-04-04 16:00 UTC: DST ends */
    assert_transition(&f->zone, 1791043200, 11 * 3600); /* 2026-10-03 16:00 UTC: begins */
    assert_int_equal(OFFSET_AT(1767225600), 11 * 3600); /* 2026-01-01: summer */
    assert_int_equal(OFFSET_AT(1782000000), 10 * 3600); /* 2026-06-21: winter */
}

static void utc_has_no_transitions(void **state)
{
    F;
    LOAD("Etc/UTC");
    ASSERT_OK;
    assert_int_equal(f->zone.base_offset, 0);
    assert_int_equal(f->zone.n_transitions, 0);
}

static void kolkata_fixed_half_hour(void **state)
{
    F;
    LOAD("Asia/Kolkata");
    ASSERT_OK;
    assert_int_equal(OFFSET_AT(1774746000), 5 * 3600 + 1800);
    assert_int_equal(OFFSET_AT(4096573200), 5 * 3600 + 1800);
    assert_true(f->zone.transitions[f->zone.n_transitions - 1].at < 0); /* last change 1945 */
}

/* ---- Names ---------------------------------------------------------------------------- */

static void rejects_bad_names(void **state)
{
    F;
    LOAD("../etc/passwd");
    ASSERT_ERROR(CD_EINVAL, "invalid time zone name '../etc/passwd'");
    LOAD("/etc/localtime");
    ASSERT_ERROR(CD_EINVAL, "invalid time zone name '/etc/localtime'");
    LOAD("Europe/../../etc");
    ASSERT_ERROR(CD_EINVAL, "invalid time zone name 'Europe/../../etc'");
    LOAD("");
    ASSERT_ERROR(CD_EINVAL, "invalid time zone name ''");
    LOAD("Europe/London;rm");
    ASSERT_ERROR(CD_EINVAL, "invalid time zone name 'Europe/London;rm'");
}

static void unknown_zone(void **state)
{
    F;
    setenv("CONTACTD_ZONEINFO", "/nonexistent-zoneinfo", 1);
    LOAD("Europe/London");
    ASSERT_ERROR(
        CD_ENOTFOUND,
        "unknown time zone 'Europe/London' (no file '/nonexistent-zoneinfo/Europe/London')");
}

/* ---- Synthetic files: footer rules ---------------------------------------------------- */

static const int64_t t2000[] = {946684800}; /* 2000-01-01 00:00 UTC */
static const uint8_t to_type1[] = {1};

static void footer_julian_and_zero_based_days(void **state)
{
    F;
    /* Standard +1h; daylight +2h from day J60 (March 1st, even in leap years) at 26:00
     * to zero-based day 300 at -01:00 (the evening before). */
    const int32_t offsets[] = {0, 3600};
    build_tzif(f, 1, t2000, to_type1, 2, offsets, "AAA-1BBB,J60/26,300/-1");
    INSTALL;
    LOAD("Test/Zone");
    ASSERT_OK;
    /* 2024 (leap): J60 = March 1st; 26:00 local std (+1) = March 2nd 01:00 UTC. */
    assert_transition(&f->zone, 1709341200, 7200);
    /* Day 300 of 2024 (0-based, Feb 29 counted) = October 27th; -01:00 local daylight
     * (+2) = October 26th 21:00 UTC. */
    assert_transition(&f->zone, 1729976400, 3600);
}

static void footer_negative_times(void **state)
{
    F;
    /* Like America/Nuuk: -02 with daylight -01, switching at -01:00 and 00:00 local. */
    const int32_t offsets[] = {-7200, -3600};
    build_tzif(f, 1, t2000, to_type1, 2, offsets, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    INSTALL;
    LOAD("Test/Zone");
    ASSERT_OK;
    /* 2026: last Sunday of March is the 29th; -01:00 local (-2) = March 28th 23:00 UTC
     * + 2h = 2026-03-29 01:00 UTC. */
    assert_transition(&f->zone, 1774746000, -3600);
    assert_transition(&f->zone, 1792890000, -7200);
}

static void footer_all_year_daylight(void **state)
{
    F;
    /* RFC 8536 3.3.1: daylight time all year round collapses to one change. */
    const int32_t offsets[] = {-18000};
    const uint8_t to_type0[] = {0};
    build_tzif(f, 1, t2000, to_type0, 1, offsets, "EST5EDT,0/0,J365/25");
    INSTALL;
    LOAD("Test/Zone");
    ASSERT_OK;
    assert_int_equal(f->zone.n_transitions, 1);
    assert_int_equal(f->zone.transitions[0].offset, -14400);
    assert_int_equal(OFFSET_AT(4096573200), -14400);
}

static void footer_expands_from_last_transition(void **state)
{
    F;
    const int32_t offsets[] = {0, 3600};
    build_tzif(f, 1, t2000, to_type1, 2, offsets, "GMT0BST,M3.5.0/1,M10.5.0");
    INSTALL;
    LOAD("Test/Zone");
    ASSERT_OK;
    /* 2000-01-01 switched to +1 explicitly; the footer then goes back on 2000-10-29. */
    assert_int_equal(f->zone.transitions[0].at, 946684800);
    assert_transition(&f->zone, 972781200, 0);
    assert_transition(&f->zone, 4078429200, 3600);
    assert_sorted_changes(&f->zone);
}

/* ---- Corrupt files -------------------------------------------------------------------- */

static void bad_magic(void **state)
{
    F;
    const int32_t offsets[] = {0};
    build_tzif(f, 0, NULL, NULL, 1, offsets, "");
    memcpy(f->file, "TZof", 4);
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("not a TZif file (bad magic)");
}

static void truncated_header(void **state)
{
    F;
    const int32_t offsets[] = {0};
    build_tzif(f, 0, NULL, NULL, 1, offsets, "");
    INSTALL_TRUNCATED(30);
    LOAD("Test/Zone");
    CORRUPT_ERROR("truncated header");
}

static void truncated_data(void **state)
{
    F;
    const int32_t offsets[] = {0, 3600};
    build_tzif(f, 1, t2000, to_type1, 2, offsets, "");
    INSTALL_TRUNCATED(44 + 44 + 5);
    LOAD("Test/Zone");
    CORRUPT_ERROR("truncated data");
}

static void version_1_only(void **state)
{
    F;
    f->len = 0;
    put_header(f, 0, 0, 1, 0);
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("TZif version 1 files are not supported");
}

static void bad_type_index(void **state)
{
    F;
    const int32_t offsets[] = {0, 3600};
    const uint8_t idx[] = {7};
    build_tzif(f, 1, t2000, idx, 2, offsets, "");
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("transition names a missing local time type");
}

static void unsorted_transitions(void **state)
{
    F;
    const int32_t offsets[] = {0, 3600};
    const int64_t times[] = {946684800, 946684700};
    const uint8_t idx[] = {1, 0};
    build_tzif(f, 2, times, idx, 2, offsets, "");
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("transition times not in ascending order");
}

static void missing_footer(void **state)
{
    F;
    const int32_t offsets[] = {0};
    build_tzif(f, 0, NULL, NULL, 1, offsets, NULL);
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("missing footer");
}

static void malformed_footer(void **state)
{
    F;
    const int32_t offsets[] = {0};
    build_tzif(f, 0, NULL, NULL, 1, offsets, "GMT0BST,M13.5.0,M10.5.0");
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("malformed TZ string in footer");
    build_tzif(f, 0, NULL, NULL, 1, offsets, "EST5EDT");
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("footer names daylight time without rules");
}

static void leap_second_tables(void **state)
{
    F;
    f->len = 0;
    put_header(f, '2', 0, 0, 0);
    put_header(f, '2', 0, 1, 1);
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("leap-second tables are not supported");
}

static void bad_offset(void **state)
{
    F;
    const int32_t offsets[] = {100000};
    build_tzif(f, 0, NULL, NULL, 1, offsets, "");
    INSTALL;
    LOAD("Test/Zone");
    CORRUPT_ERROR("bad local time type");
}

static void out_unchanged_on_error(void **state)
{
    F;
    f->zone.n_transitions = 77;
    LOAD("No/Such_Zone");
    assert_int_equal(f->rv, CD_ENOTFOUND);
    assert_int_equal(f->zone.n_transitions, 77);
    assert_null(f->zone.transitions);
    f->zone.n_transitions = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(london_2026, setup, teardown),
        cmocka_unit_test_setup_teardown(london_footer_reaches_2099, setup, teardown),
        cmocka_unit_test_setup_teardown(new_york, setup, teardown),
        cmocka_unit_test_setup_teardown(sydney_southern_hemisphere, setup, teardown),
        cmocka_unit_test_setup_teardown(utc_has_no_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(kolkata_fixed_half_hour, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(footer_julian_and_zero_based_days, setup, teardown),
        cmocka_unit_test_setup_teardown(footer_negative_times, setup, teardown),
        cmocka_unit_test_setup_teardown(footer_all_year_daylight, setup, teardown),
        cmocka_unit_test_setup_teardown(footer_expands_from_last_transition, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_header, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_data, setup, teardown),
        cmocka_unit_test_setup_teardown(version_1_only, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_type_index, setup, teardown),
        cmocka_unit_test_setup_teardown(unsorted_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_footer, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_footer, setup, teardown),
        cmocka_unit_test_setup_teardown(leap_second_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(out_unchanged_on_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
