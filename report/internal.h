/* Internal state of report/, shared by its files and nothing else.
 *
 * A report keeps its cells in two tables: one cell per (group value, interval start) and
 * one total per group value. Each table is an array with an open-addressing index over it.
 * Group values are copied once into a table of names that the report owns; cells point into
 * it. */
#ifndef CD_REPORT_INTERNAL_H
#define CD_REPORT_INTERNAL_H

#include "report/report.h"

#define REPORT_MS_MINUTE INT64_C(60000)
#define REPORT_MS_HOUR INT64_C(3600000)
#define REPORT_MS_DAY INT64_C(86400000)
/* The period a report may cover: 0001-01-01T00:00Z up to 10000-01-01T00:00Z. */
#define REPORT_MIN_MS INT64_C(-62135596800000)
#define REPORT_MAX_MS INT64_C(253402300800000)
#define REPORT_DEFAULT_MAX_CELLS 100000
#define REPORT_ALL "all" /* the one group of REPORT_BY_NONE, and the grand total's */

/* Figures by their index in report_figures() (figures.c). */
enum report__figure {
    FIG_OFFERED = 0,
    FIG_REFUSED,
    FIG_ANSWERED,
    FIG_ANSWERED_IN_TARGET,
    FIG_ABANDONED,
    FIG_ABANDONED_SHORT,
    FIG_ABANDONED_AFTER_TARGET,
    FIG_OVERFLOWED,
    FIG_TRANSFERRED,
    FIG_TIMED_OUT,
    FIG_WAITING,
    FIG_WAITING_PAST_TARGET,
    FIG_ESCALATED,
    FIG_SERVICE_LEVEL,
    FIG_SL_OFFERED,
    FIG_SL_ANSWERED_ABANDONED,
    FIG_SL_SHORT_EXCLUDED,
    FIG_ANSWER_RATE,
    FIG_ABANDON_RATE,
    FIG_ASA,
    FIG_AVERAGE_WAIT,
    FIG_LONGEST_WAIT,
    FIG_AVERAGE_ABANDON_WAIT,
    FIG_AHT,
    FIG_AVERAGE_TALK,
    FIG_AVERAGE_HOLD,
    FIG_AVERAGE_WRAPUP,
    FIG_HANDLED,
    FIG_CALLBACKS_REQUESTED,
    FIG_CALLBACKS_MADE,
    FIG_OFFERS,
    FIG_OFFERS_ACCEPTED,
    FIG_OFFERS_REJECTED,
    FIG_OFFERS_NO_ANSWER,
    FIG_TIME_AVAILABLE,
    FIG_TIME_BUSY,
    FIG_TIME_WRAPUP,
    FIG_TIME_AWAY,
    FIG_TIME_STAFFED,
    FIG_OCCUPANCY,
    FIG_UTILISATION,
    FIG_CONTACTS_PER_HOUR,
    FIG_EWT_ERROR,
    FIG_EWT_BIAS,
    FIG_COUNT
};

/* ---- Sums (figures.c) ---------------------------------------------------------------- */

/* a + b for sums of milliseconds, held at the int64 bounds instead of overflowing. */
int64_t report__add_ms(int64_t a, int64_t b);
/* Empty sums of a cell of a report grouped by group_by. */
void report__sums_init(struct report_sums *s, uint8_t group_by, int64_t period_ms);
/* Adds src into dst: counts and times add up, the longest wait is the larger, away reasons
 * merge by name (past 16 names into away_other_ms). dst keeps its period and group_by. */
void report__sums_add(struct report_sums *dst, const struct report_sums *src);
/* Whether what one item put into one (a segment, an offer) went into the figure: its count
 * for counts, its numerator or denominator for ratios and averages. */
bool report__figure_counts(int figure,
                           const struct report_sums *one,
                           const struct report_queue_policy *policy);

/* ---- Intervals (interval.c) ---------------------------------------------------------- */

int64_t report__floor_div(int64_t a, int64_t b);
/* The label of the interval starting at start (report_cell.label). */
void report__label(uint8_t interval,
                   const struct engine_zone *zone,
                   int64_t start,
                   char *out,
                   size_t len);

/* ---- Tables of cells and names (cells.c) --------------------------------------------- */

struct report__cells
{
    struct report_cell *cells;
    size_t n, cap;
    uint32_t *slots; /* position + 1 in cells, 0 = empty; a power of two, over twice n */
    size_t n_slots;
    bool sorted; /* by group, then start */
};

struct report__names
{
    char **slots; /* owned copies; NULL = empty */
    size_t n, n_slots;
};

/* The cell of (group, start), or NULL. */
struct report_cell *report__cells_find(const struct report__cells *t,
                                       const char *group,
                                       int64_t start);
/* The same with group's hash given (cd_hash_str(group)): feeding hashes a group once for
 * its name and both its tables. */
struct report_cell *report__cells_find_hashed(const struct report__cells *t,
                                              const char *group,
                                              uint64_t group_hash,
                                              int64_t start);
/* Appends a zeroed cell for (group, start): group must stay valid as long as the table (an
 * interned name). Returns 0 or CD_ENOMEM (the table unchanged). */
int report__cells_append(struct report__cells *t,
                         const char *group,
                         int64_t start,
                         struct report_cell **out);
/* Drops the cells appended after the first n (undoing a feeding call that failed). */
void report__cells_truncate(struct report__cells *t, size_t n);
void report__cells_sort(struct report__cells *t);
void report__cells_close(struct report__cells *t);

/* The report's own copy of s (one per distinct string), or NULL when out of memory. hash
 * is cd_hash_str(s). */
const char *report__intern(struct report__names *t, const char *s, uint64_t hash);
void report__names_close(struct report__names *t);

/* ---- What counts where (walk.c) ------------------------------------------------------ */

/* One item (a segment, an offer, the part of a span in one interval) and what it adds. */
struct report__item
{
    const char *group; /* its group value (borrowed from the input, not interned) */
    int64_t iv_start;  /* the start of its local interval, not clipped to the period */
    struct report_sums one;
};

/* Called for each item that counts in some group; a value other than 0 ends the walk, and
 * the walk returns it. */
typedef int (*report__visit_fn)(const struct report *r,
                                void *ctx,
                                const struct report__item *it);

/* What a walk gives each item: its group and interval only (it.one is not set: enough to
 * make its cells), or its sums too. Both visit the same items in the same order. */
enum report__walk_what { REPORT__WALK_CELLS = 0, REPORT__WALK_SUMS };

int report__walk_contact(const struct report *r,
                         const struct report_contact *c,
                         uint8_t what,
                         report__visit_fn visit,
                         void *ctx);
int report__walk_span(const struct report *r,
                      const struct report_span *s,
                      uint8_t what,
                      report__visit_fn visit,
                      void *ctx);
/* The policy of queue: the spec's answer, or its fallback. */
void report__policy(const struct report *r, const char *queue, struct report_queue_policy *out);

/* Answers a walk asks for again and again while a report is fed (a million contacts ask
 * the same few): the spec's policies by queue (its contract says they do not change), and
 * the local interval last found (intervals do not overlap, so every instant of it has the
 * same start). */
#define REPORT__POLICY_MEMOS 16
struct report__memo
{
    int64_t iv_start, iv_next; /* [iv_start, iv_next); empty at first */
    struct
    {
        bool set;
        char queue[ENGINE_NAME_MAX];
        struct report_queue_policy policy;
    } policies[REPORT__POLICY_MEMOS]; /* by the queue's hash */
};

/* The start of the local interval holding t (report_interval_start), and the start of the
 * one after the interval starting at start (report_interval_next), through the memo. */
int64_t report__interval_start(const struct report *r, int64_t t);
int64_t report__interval_next(const struct report *r, int64_t start);

/* ---- The report ---------------------------------------------------------------------- */

struct report
{
    struct report_spec spec; /* queue and agent point at the copies below */
    char *queue;             /* filters: owned copies, NULL = any */
    char *agent;
    struct report__names names;
    /* Behind pointers so that report_cells() can sort them and walks keep their memos
     * through a const report. */
    struct report__cells *cells;
    struct report__cells *totals;
    struct report__memo *memo;
    struct report_cell total;
    /* Feeding: where each item of the contact or span being fed goes, as positions in
     * cells and totals (two per item), found by the first walk for the second. */
    uint32_t *places;
    size_t n_places, cap_places;
};

#endif
