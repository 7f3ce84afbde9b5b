/* Helpers shared by the tests of report/: civil dates to UTC instants, zone tables built by
 * hand, and CHECK(), which compares every figure of a cell with a list written by hand:
 *
 *     CHECK(r, cell, "offered 11 answered 6 service_level 4/9 aht 1030/5 occupancy - ...");
 *
 * Each figure is named once with its expected value: a number, a fraction "a/b" (so the
 * list shows the hand computation), or "-" for no data. A figure left out, named twice or
 * unknown fails the test, so every list covers every figure. */
#ifndef CD_TESTS_REPORT_FIXTURE_H
#define CD_TESTS_REPORT_FIXTURE_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "report/report.h"

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static inline int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline int64_t utc_ms(int y, int mo, int d, int h, int mi, int s)
{
    return ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * INT64_C(1000);
}

#define MINUTES(n) ((int64_t)((n)*60000.0))
#define HOURS(n) ((int64_t)((n)*3600000.0))

/* A zone of up to four transitions, built by hand. */
struct test_zone
{
    struct engine_zone z;
    struct engine_tz_transition t[4];
};

static inline void zone_init(struct test_zone *tz, const char *name, int32_t base)
{
    memset(tz, 0, sizeof(*tz));
    snprintf(tz->z.name, sizeof(tz->z.name), "%s", name);
    tz->z.base_offset = base;
    tz->z.transitions = tz->t;
}

static inline void zone_change(struct test_zone *tz, int64_t at_ms, int32_t offset)
{
    assert_true(tz->z.n_transitions < 4);
    tz->t[tz->z.n_transitions].at = at_ms / 1000;
    tz->t[tz->z.n_transitions].offset = offset;
    tz->z.n_transitions++;
}

/* Europe/London in 2026: GMT, BST from 29 March 01:00Z, GMT from 25 October 01:00Z. */
static inline void zone_london(struct test_zone *tz)
{
    zone_init(tz, "Europe/London", 0);
    zone_change(tz, utc_ms(2026, 3, 29, 1, 0, 0), 3600);
    zone_change(tz, utc_ms(2026, 10, 25, 1, 0, 0), 0);
}

static inline bool parse_expected(const char *text, double *out)
{
    if (strcmp(text, "-") == 0) {
        return false;
    }
    char *end;
    double v = strtod(text, &end);
    if (*end == '/') {
        v /= strtod(end + 1, &end);
    }
    if (*end != '\0') {
        fail_msg("expected value '%s': not a number", text);
    }
    *out = v;
    return true;
}

static inline void check_one(const struct report *r,
                             const struct report_cell *cell,
                             const char *name,
                             const char *text,
                             int line)
{
    int figure = report_figure_find(name);
    if (figure < 0) {
        fail_msg("line %d: figure '%s': unknown", line, name);
    }
    struct report_queue_policy policy;
    report_cell_policy(r, cell, &policy);
    double want = 0, got = 0;
    bool want_data = parse_expected(text, &want);
    bool got_data = report_value(&cell->sums, &policy, figure, &got);
    if (want_data != got_data) {
        fail_msg("line %d: cell '%s' %s, figure '%s': %s, expected %s", line, cell->group,
                 cell->label, name, got_data ? "has data" : "no data", text);
    }
    if (want_data && fabs(got - want) > 1e-9 * (1 + fabs(want))) {
        fail_msg("line %d: cell '%s' %s, figure '%s': %.12g, expected %s (%.12g)", line,
                 cell->group, cell->label, name, got, text, want);
    }
}

static inline void check_figures(const struct report *r,
                                 const struct report_cell *cell,
                                 const char *want,
                                 int line)
{
    size_t n;
    report_figures(&n);
    bool *seen = calloc(n, sizeof(*seen));
    char *copy = strdup(want), *save = NULL;
    assert_non_null(seen);
    assert_non_null(copy);
    assert_non_null(cell);
    for (char *name = strtok_r(copy, " ", &save); name != NULL;
         name = strtok_r(NULL, " ", &save)) {
        char *value = strtok_r(NULL, " ", &save);
        if (value == NULL) {
            fail_msg("line %d: figure '%s': no expected value", line, name);
        }
        check_one(r, cell, name, value, line);
        int figure = report_figure_find(name);
        if (seen[figure]) {
            fail_msg("line %d: figure '%s': listed twice", line, name);
        }
        seen[figure] = true;
    }
    const struct report_figure *figures = report_figures(&n);
    for (size_t i = 0; i < n; i++) {
        if (!seen[i]) {
            fail_msg("line %d: figure '%s': not checked", line, figures[i].name);
        }
    }
    free(copy);
    free(seen);
}

#define CHECK(r, cell, want) check_figures((r), (cell), (want), __LINE__)

/* The cell of group starting at start, or NULL. */
static inline const struct report_cell *cell_of(const struct report *r,
                                                const char *group,
                                                int64_t start)
{
    const struct report_cell *cells;
    size_t n = report_cells(r, &cells);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cells[i].group, group) == 0 && cells[i].start_ms == start) {
            return &cells[i];
        }
    }
    return NULL;
}

static inline const struct report_cell *total_of(const struct report *r, const char *group)
{
    const struct report_cell *cells;
    size_t n = report_group_totals(r, &cells);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cells[i].group, group) == 0) {
            return &cells[i];
        }
    }
    return NULL;
}

/* A figure's value in a cell; fails when it has no data. */
static inline double value_of(const struct report *r,
                              const struct report_cell *cell,
                              const char *name)
{
    struct report_queue_policy policy;
    double v = 0;
    assert_non_null(cell);
    report_cell_policy(r, cell, &policy);
    assert_true(report_value(&cell->sums, &policy, report_figure_find(name), &v));
    return v;
}

#endif
