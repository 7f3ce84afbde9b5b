/* Running a report: its lifecycle, feeding, reading cells back, and drill-down.
 *
 * One walk over a contact (or a span, walk.c) finds every item that counts and hands each,
 * with its group value, its interval and the sums it adds, to a visitor. Feeding walks
 * twice: first to make every cell the items need and note where each item goes (the only
 * step that can fail; a failure drops the cells it made, so the report is unchanged), then,
 * with the sums, to add them there. Drill-down walks once more with a visitor that only
 * compares, so what it answers is what feeding counted. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "report/internal.h"

/* ---- Feeding ------------------------------------------------------------------------- */

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t cell_start(const struct report *r, const struct report__item *it)
{
    return max64(it->iv_start, r->spec.from_ms);
}

/* The position of the cell of (group, iv_start) in r->cells, made if needed; group is
 * interned, hash its cd_hash_str(). */
static int make_cell(struct report *r,
                     const char *group,
                     uint64_t hash,
                     int64_t iv_start,
                     uint32_t *pos)
{
    int64_t start = max64(iv_start, r->spec.from_ms);
    struct report_cell *c = report__cells_find_hashed(r->cells, group, hash, start);
    if (c != NULL) {
        *pos = (uint32_t)(c - r->cells->cells);
        return 0;
    }
    if (r->cells->n >= r->spec.max_cells) {
        return CD_ECAPACITY;
    }
    int rc = report__cells_append(r->cells, group, start, &c);
    if (rc != 0) {
        return rc;
    }
    int64_t next = report_interval_next(r->spec.interval, r->spec.zone, iv_start);
    c->end_ms = min64(next, r->spec.to_ms);
    report__label(r->spec.interval, r->spec.zone, iv_start, c->label, sizeof(c->label));
    report__sums_init(&c->sums, r->spec.group, c->end_ms - c->start_ms);
    *pos = (uint32_t)(c - r->cells->cells);
    return 0;
}

static int make_total(struct report *r, const char *group, uint64_t hash, uint32_t *pos)
{
    struct report_cell *c = report__cells_find_hashed(r->totals, group, hash, r->spec.from_ms);
    if (c != NULL) {
        *pos = (uint32_t)(c - r->totals->cells);
        return 0;
    }
    int rc = report__cells_append(r->totals, group, r->spec.from_ms, &c);
    if (rc != 0) {
        return rc;
    }
    c->end_ms = r->spec.to_ms;
    snprintf(c->label, sizeof(c->label), "total");
    report__sums_init(&c->sums, r->spec.group, r->spec.to_ms - r->spec.from_ms);
    *pos = (uint32_t)(c - r->totals->cells);
    return 0;
}

/* Room for the places of one more item. */
static int places_reserve(struct report *r)
{
    if (r->n_places + 2 <= r->cap_places) {
        return 0;
    }
    size_t cap = r->cap_places == 0 ? 64 : 2 * r->cap_places;
    uint32_t *places = cd_realloc(r->places, cap * sizeof(*places));
    if (places == NULL) {
        return CD_ENOMEM;
    }
    r->places = places;
    r->cap_places = cap;
    return 0;
}

/* The first walk: makes the cell and the total of each item and notes their places. */
static int make_cells(const struct report *cr, void *ctx, const struct report__item *it)
{
    struct report *r = ctx;
    (void)cr;
    uint64_t hash = cd_hash_str(it->group);
    const char *group = report__intern(&r->names, it->group, hash);
    if (group == NULL || places_reserve(r) != 0) {
        return CD_ENOMEM;
    }
    uint32_t *at = &r->places[r->n_places];
    int rc = make_cell(r, group, hash, it->iv_start, &at[0]);
    rc = rc != 0 ? rc : make_total(r, group, hash, &at[1]);
    r->n_places += rc == 0 ? 2 : 0;
    return rc;
}

/* The second walk: adds each item's sums where the first walk placed it. */
static int add_item(const struct report *cr, void *ctx, const struct report__item *it)
{
    struct report *r = ctx;
    (void)cr;
    assert(r->n_places + 2 <= r->cap_places);
    const uint32_t *at = &r->places[r->n_places];
    struct report_cell *cell = &r->cells->cells[at[0]];
    struct report_cell *total = &r->totals->cells[at[1]];
    assert(cell->start_ms == cell_start(r, it) && strcmp(cell->group, it->group) == 0);
    assert(strcmp(total->group, it->group) == 0);
    r->n_places += 2;
    report__sums_add(&cell->sums, &it->one);
    report__sums_add(&total->sums, &it->one);
    report__sums_add(&r->total.sums, &it->one);
    return 0;
}

/* A feeding call that fails drops the cells it made: the report is left unchanged. */
static int undo(struct report *r, size_t n_cells, size_t n_totals, int rc)
{
    report__cells_truncate(r->cells, n_cells);
    report__cells_truncate(r->totals, n_totals);
    return rc;
}

int report_add_contact(struct report *r, const struct report_contact *c)
{
    size_t n_cells = r->cells->n, n_totals = r->totals->n;
    r->n_places = 0;
    int rc = report__walk_contact(r, c, REPORT__WALK_CELLS, make_cells, r);
    if (rc != 0) {
        return undo(r, n_cells, n_totals, rc);
    }
    r->n_places = 0;
    return report__walk_contact(r, c, REPORT__WALK_SUMS, add_item, r);
}

int report_add_span(struct report *r, const struct report_span *s)
{
    size_t n_cells = r->cells->n, n_totals = r->totals->n;
    r->n_places = 0;
    int rc = report__walk_span(r, s, REPORT__WALK_CELLS, make_cells, r);
    if (rc != 0) {
        return undo(r, n_cells, n_totals, rc);
    }
    r->n_places = 0;
    return report__walk_span(r, s, REPORT__WALK_SUMS, add_item, r);
}

/* ---- The report ---------------------------------------------------------------------- */

static bool spec_valid(const struct report_spec *spec, char *errmsg, size_t errlen)
{
    if (spec->interval >= REPORT_IV_COUNT) {
        snprintf(errmsg, errlen, "report interval '%u': unknown", spec->interval);
    } else if (spec->group >= REPORT_BY_COUNT) {
        snprintf(errmsg, errlen, "report group '%u': unknown", spec->group);
    } else if (spec->from_ms >= spec->to_ms) {
        snprintf(errmsg, errlen,
                 "report period '%" PRId64 "..%" PRId64 "': from is not before to",
                 spec->from_ms, spec->to_ms);
    } else if (spec->from_ms < REPORT_MIN_MS || spec->to_ms > REPORT_MAX_MS) {
        snprintf(errmsg, errlen,
                 "report period '%" PRId64 "..%" PRId64 "': outside the years 1 to 9999",
                 spec->from_ms, spec->to_ms);
    } else {
        return true;
    }
    return false;
}

static int copy_filter(const char *filter, char **out)
{
    *out = NULL;
    if (filter == NULL || filter[0] == '\0') {
        return 0;
    }
    *out = cd_strdup(filter);
    return *out != NULL ? 0 : CD_ENOMEM;
}

struct report *report_new(const struct report_spec *spec, char *errmsg, size_t errlen)
{
    char ignored[1];
    if (errmsg == NULL || errlen == 0) {
        errmsg = ignored;
        errlen = sizeof(ignored);
    }
    if (!spec_valid(spec, errmsg, errlen)) {
        return NULL;
    }
    struct report *r = cd_calloc(1, sizeof(*r));
    if (r == NULL) {
        goto err_nomem;
    }
    r->spec = *spec;
    if (copy_filter(spec->queue, &r->queue) != 0 || copy_filter(spec->agent, &r->agent) != 0) {
        goto err_free_report;
    }
    r->spec.queue = r->queue;
    r->spec.agent = r->agent;
    if (r->spec.max_cells == 0) {
        r->spec.max_cells = REPORT_DEFAULT_MAX_CELLS;
    }
    r->cells = cd_calloc(1, sizeof(*r->cells));
    r->totals = cd_calloc(1, sizeof(*r->totals));
    r->memo = cd_calloc(1, sizeof(*r->memo));
    if (r->cells == NULL || r->totals == NULL || r->memo == NULL) {
        goto err_free_report;
    }
    r->total.group = REPORT_ALL;
    r->total.start_ms = spec->from_ms;
    r->total.end_ms = spec->to_ms;
    snprintf(r->total.label, sizeof(r->total.label), "total");
    report__sums_init(&r->total.sums, spec->group, spec->to_ms - spec->from_ms);
    return r;

err_free_report:
    report_free(r);
err_nomem:
    snprintf(errmsg, errlen, "report: out of memory");
    return NULL;
}

void report_free(struct report *r)
{
    if (r == NULL) {
        return;
    }
    if (r->cells != NULL) {
        report__cells_close(r->cells);
        cd_free(r->cells);
    }
    if (r->totals != NULL) {
        report__cells_close(r->totals);
        cd_free(r->totals);
    }
    report__names_close(&r->names);
    cd_free(r->memo);
    cd_free(r->places);
    cd_free(r->queue);
    cd_free(r->agent);
    cd_free(r);
}

size_t report_cells(const struct report *r, const struct report_cell **out)
{
    report__cells_sort(r->cells);
    *out = r->cells->cells;
    return r->cells->n;
}

size_t report_group_totals(const struct report *r, const struct report_cell **out)
{
    report__cells_sort(r->totals);
    *out = r->totals->cells;
    return r->totals->n;
}

const struct report_cell *report_total(const struct report *r)
{
    return &r->total;
}

void report_cell_policy(const struct report *r,
                        const struct report_cell *cell,
                        struct report_queue_policy *out)
{
    if (cell != &r->total && r->spec.group == REPORT_BY_QUEUE) {
        report__policy(r, cell->group, out);
    } else {
        *out = r->spec.fallback;
    }
}

/* ---- Drill-down ---------------------------------------------------------------------- */

struct match
{
    const char *group; /* NULL: any */
    int64_t start;     /* INT64_MIN: any */
    int figure;        /* -1: any */
    struct report_queue_policy policy;
    int64_t longest; /* the cell's longest wait, for "longest_wait" */
};

static int match_item(const struct report *r, void *ctx, const struct report__item *it)
{
    const struct match *m = ctx;
    if (m->group != NULL && strcmp(m->group, it->group) != 0) {
        return 0;
    }
    if (m->start != INT64_MIN && m->start != cell_start(r, it)) {
        return 0;
    }
    if (m->figure == -1) {
        return 1;
    }
    if (!report__figure_counts(m->figure, &it->one, &m->policy)) {
        return 0;
    }
    return m->figure != FIG_LONGEST_WAIT || it->one.longest_wait_ms == m->longest;
}

static const struct report_cell *find_cell(const struct report *r,
                                           const char *group,
                                           int64_t start)
{
    if (group == NULL) {
        return &r->total;
    }
    if (start == INT64_MIN) {
        return report__cells_find(r->totals, group, r->spec.from_ms);
    }
    return report__cells_find(r->cells, group, start);
}

bool report_counts(const struct report *r,
                   const struct report_contact *c,
                   const char *group,
                   int64_t start_ms,
                   int figure)
{
    if (figure < -1 || figure >= FIG_COUNT) {
        return false;
    }
    struct match m = {group, start_ms, figure, r->spec.fallback, -1};
    if (group != NULL && r->spec.group == REPORT_BY_QUEUE) {
        report__policy(r, group, &m.policy);
    }
    if (figure == FIG_LONGEST_WAIT) {
        const struct report_cell *cell = find_cell(r, group, start_ms);
        if (cell == NULL) {
            return false;
        }
        m.longest = cell->sums.longest_wait_ms;
    }
    return report__walk_contact(r, c, REPORT__WALK_SUMS, match_item, &m) == 1;
}
