/* report/: the figures of a contact centre, computed from what happened to contacts and
 * agents. Pure like engine/: no clock, no I/O, no allocation but cd_alloc; the caller feeds
 * it finished contacts (from history), live ones (from the engine's state) and agents'
 * state spans, and reads cells back. docs/reports.md defines every figure; the glossary
 * (report_figures()) carries the same definitions into every report.
 *
 * Time: every instant is milliseconds since 1970 UTC. Intervals are cut in the report's
 * zone (the centre's: the model's defaults.zone), so a day is a local day and a week starts
 * on a local Monday; where the zone's offset changes inside an interval, the interval is as
 * long as the local clock says (a 15-minute interval is always 15 minutes; a day is 23 or
 * 25 hours on the days clocks change).
 *
 * What counts where:
 *   - A contact's visit to one queue is a segment. A segment counts in the interval in which
 *     it entered the queue, in the group of its queue, of its contact's channel, of its
 *     contact's disposition, and (when answered) of the agent who answered it and that
 *     agent's site.
 *   - An offer counts in the interval in which it was made, in the group of the agent
 *     offered.
 *   - An agent's state span counts, clipped, in every interval it overlaps, in the group of
 *     its agent and its agent's site (queue, channel and disposition groups have no agent
 *     time).
 */
#ifndef CD_REPORT_H
#define CD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

/* ---- Input ------------------------------------------------------------------------------- */

/* How a segment began. */
enum report_via {
    REPORT_VIA_ARRIVAL = 0, /* the contact arrived (rule or API routed it here) */
    REPORT_VIA_TRANSFER,    /* an agent or supervisor transferred it here */
    REPORT_VIA_OVERFLOW,    /* another queue overflowed it here */
    REPORT_VIA_COUNT
};

/* How a segment ended. */
enum report_end {
    REPORT_END_ANSWERED = 0, /* an agent accepted it from this queue */
    REPORT_END_ABANDONED,    /* the customer left while waiting (or ringing) */
    REPORT_END_OVERFLOWED,   /* overflow moved it on: to another queue or outside */
    REPORT_END_TRANSFERRED,  /* transferred away while still waiting */
    REPORT_END_TIMED_OUT,    /* its queue's maximum wait passed with nowhere to go */
    REPORT_END_REFUSED,      /* refused at the door: queue closed, full or retired */
    REPORT_END_OTHER,        /* ended otherwise while waiting (rejected, node lost) */
    REPORT_END_WAITING,      /* live: still waiting (or ringing) when the report was made */
    REPORT_END_COUNT
};

enum report_offer_outcome {
    REPORT_OFFER_ACCEPTED = 0,
    REPORT_OFFER_REJECTED,  /* the agent refused it */
    REPORT_OFFER_NO_ANSWER, /* ring-no-answer */
    REPORT_OFFER_CANCELLED, /* withdrawn: the customer left, another agent took it, ... */
    REPORT_OFFER_OPEN,      /* live: still ringing */
    REPORT_OFFER_COUNT
};

struct report_offer
{
    const char *agent;
    int64_t at;      /* made */
    int64_t ended;   /* answered, refused, timed out or withdrawn; the report's now when open */
    uint8_t outcome; /* enum report_offer_outcome */
};

struct report_segment
{
    const char *queue;
    uint8_t via;   /* enum report_via */
    uint8_t end;   /* enum report_end */
    uint8_t steps; /* escalation steps it went through */
    int64_t entered;
    int64_t left;   /* answered, abandoned, moved on; the report's now while waiting */
    int64_t ewt_ms; /* the estimated wait quoted when it entered; -1 = none quoted */
    /* Answered segments: who, and the handling that followed until the contact ended or
     * was transferred on (talk_ms counts hold time too; hold_ms is the part on hold). The
     * last answered segment of a contact carries its wrap-up. A live one counts what has
     * passed so far and has handled false. */
    const char *agent;
    const char *site;
    bool handled;         /* its handling is over (talk and wrap-up done) */
    bool transferred_out; /* answered, then transferred on */
    int64_t talk_ms;
    int64_t hold_ms;
    int64_t wrap_ms;
};

struct report_contact
{
    uint64_t id;
    uint8_t channel;         /* enum engine_channel */
    uint8_t outcome;         /* enum engine_contact_state (a live one's current state) */
    const char *disposition; /* "" = none given */
    bool callback;           /* the customer asked for a callback */
    bool live;               /* from the engine's state, not the history */
    uint32_t n_segments;
    const struct report_segment *segments;
    uint32_t n_offers;
    const struct report_offer *offers;
};

/* A stretch of time one agent spent in one state. Live spans end at the report's now. */
struct report_span
{
    const char *agent;
    const char *site;
    uint8_t state;      /* enum engine_agent_state */
    const char *reason; /* AWAY: the away reason ("" = none given); else "" */
    int64_t from, to;
};

/* ---- What to compute --------------------------------------------------------------------- */

enum report_interval {
    REPORT_IV_15M = 0,
    REPORT_IV_30M,
    REPORT_IV_60M,
    REPORT_IV_DAY,
    REPORT_IV_WEEK, /* from local Monday 00:00 */
    REPORT_IV_MONTH,
    REPORT_IV_TOTAL, /* one interval: the whole period */
    REPORT_IV_5M,    /* appended, so that the values before it keep theirs */
    REPORT_IV_COUNT
};

enum report_group {
    REPORT_BY_QUEUE = 0,
    REPORT_BY_AGENT,
    REPORT_BY_CHANNEL,
    REPORT_BY_SITE,
    REPORT_BY_DISPOSITION,
    REPORT_BY_NONE, /* one group: everything ("all") */
    REPORT_BY_COUNT
};

/* Service level variants (docs/reports.md, "Service level"). */
enum report_sl {
    REPORT_SL_OFFERED = 0,        /* in target ÷ offered */
    REPORT_SL_ANSWERED_ABANDONED, /* in target ÷ (answered + abandoned after target) */
    REPORT_SL_SHORT_EXCLUDED,     /* in target ÷ (offered − short abandons) */
    REPORT_SL_COUNT
};

/* A queue's policy, from the model. */
struct report_queue_policy
{
    int64_t target_ms;        /* service level target: answered within it */
    uint8_t sl_percent;       /* the goal, 0..100 (for colour thresholds) */
    uint8_t variant;          /* enum report_sl: the queue's chosen "service_level" */
    int64_t short_abandon_ms; /* abandons sooner than this are short */
};

struct report_spec
{
    int64_t from_ms, to_ms; /* [from, to): segments entered, offers made, spans clipped */
    uint8_t interval;       /* enum report_interval */
    uint8_t group;          /* enum report_group */
    const struct engine_zone *zone; /* NULL = UTC */
    /* Filters (NULL or "" = any): only segments of this queue, this channel (-1 = any),
     * answered by this agent; spans of this agent. */
    const char *queue;
    int channel;
    const char *agent;
    /* The policy of a queue by name; a queue it does not know (a retired one) gets
     * fallback. */
    bool (*policy)(void *data, const char *queue, struct report_queue_policy *out);
    void *policy_data;
    struct report_queue_policy fallback;
    int64_t now_ms;   /* for live segments: waiting past target counts against the SL */
    size_t max_cells; /* 0 = 100,000 */
};

/* ---- Figures ----------------------------------------------------------------------------- */

/* The raw sums of one cell (one group in one interval). Every figure is computed from
 * these (report_value()), so cells can be added up (totals) without losing anything. */
struct report_sums
{
    /* segments */
    uint64_t offered; /* segments that entered the queue (refused ones excluded) */
    uint64_t refused;
    uint64_t answered;
    uint64_t answered_in_target;
    uint64_t abandoned;
    uint64_t abandoned_short; /* abandoned within the short-abandon threshold */
    uint64_t abandoned_after_target;
    uint64_t overflowed;
    uint64_t transferred; /* transferred on, waiting or after an answer */
    uint64_t timed_out;
    uint64_t other;
    uint64_t waiting;             /* live segments still waiting */
    uint64_t waiting_past_target; /* of those, waiting longer than the target */
    uint64_t escalated;           /* segments that took at least one escalation step */
    uint64_t via[REPORT_VIA_COUNT];
    int64_t answer_wait_ms;  /* sum of waits of answered segments (ASA) */
    int64_t abandon_wait_ms; /* sum of waits of abandoned segments */
    int64_t wait_ms;         /* sum of waits of every offered segment, live ones so far */
    uint64_t waits;          /* segments in wait_ms */
    int64_t longest_wait_ms; /* -1 = none */
    uint64_t handled;        /* answered segments whose handling is over */
    int64_t talk_ms, hold_ms, wrap_ms; /* of handled segments */
    uint64_t callbacks_requested;      /* contacts (counted at their first segment) */
    uint64_t callbacks_made;           /* of those, answered */
    uint64_t ewt_samples;              /* answered segments with an EWT quoted */
    int64_t ewt_abs_err_ms;            /* sum of |quoted − actual wait| */
    int64_t ewt_err_ms;                /* sum of (quoted − actual wait): bias */
    /* offers */
    uint64_t offers;
    uint64_t offer_outcomes[REPORT_OFFER_COUNT];
    /* agent time */
    int64_t state_ms[ENGINE_AGENT_AWAY + 1]; /* per enum engine_agent_state */
    uint32_t n_reasons;
    struct
    {
        char reason[ENGINE_VALUE_MAX];
        int64_t ms;
    } away[16]; /* time away by reason; the 17th and later add to away_other_ms */
    int64_t away_other_ms;
    /* the period this cell covers (for per-hour figures), in ms */
    int64_t period_ms;
    /* enum report_group of the report the cell belongs to: in agent and site groups
     * contacts_per_hour is handled per staffed hour; queue, channel and disposition groups
     * have no agent time (their time figures have no data). */
    uint8_t group_by;
};

/* A figure: how it is called, shown and defined. */
enum report_unit {
    REPORT_UNIT_COUNT = 0,
    REPORT_UNIT_RATIO, /* 0..1, shown as a percentage */
    REPORT_UNIT_SECONDS,
    REPORT_UNIT_PER_HOUR,
};

struct report_figure
{
    const char *name;       /* "service_level", "asa", ... (as in the API and CSV) */
    const char *title;      /* "Service level" */
    uint8_t unit;           /* enum report_unit */
    const char *definition; /* one sentence: what it is, the formula, what counts */
};

/* Every figure, in a fixed order (their index is what report_value() takes). */
const struct report_figure *report_figures(size_t *n);
/* The index of the figure named name, or -1. */
int report_figure_find(const char *name);

/* A figure's value in a cell. Returns false when it has no data ("no data": nothing to
 * divide by, or no sample), never 0 or 100 % in its place; counts always have data. The
 * "service_level" figure uses the policy's variant (the cell's queue's, for a queue group;
 * the fallback's otherwise); "sl_offered", "sl_answered_abandoned" and "sl_short_excluded"
 * are the variants themselves. */
bool report_value(const struct report_sums *s,
                  const struct report_queue_policy *policy,
                  int figure,
                  double *out);

/* ---- Running a report -------------------------------------------------------------------- */

struct report;

struct report_cell
{
    const char *group;        /* the group's value: a queue, agent, channel name, site,
                                 disposition ("" = none given), or "all" */
    int64_t start_ms, end_ms; /* the interval, in UTC (clipped to the report's period) */
    char label[40];           /* the interval's local start: "2026-12-07T09:30+00:00",
                                 "2026-12-07", "2026-W50" or "2026-12"; "total" */
    struct report_sums sums;
};

/* Returns NULL when out of memory or when spec is not valid (errmsg says why: from not
 * before to, an unknown interval or group). */
/* spec is copied, with its filter strings; spec->zone and spec->policy_data are borrowed
 * until report_free(). spec->policy is called while feeding and by report_cell_policy() and
 * report_counts(); it must answer the same for the same queue throughout. The period must lie
 * within the years 1 to 9999. */
struct report *report_new(const struct report_spec *spec, char *errmsg, size_t errlen);
void report_free(struct report *r);

/* Feeding. Each returns 0, CD_ENOMEM, or CD_ECAPACITY when the report would need more than
 * max_cells cells (the caller says: choose a longer interval or a narrower filter); on
 * error the report is unchanged. Parts outside the spec (period, filters) are ignored. A
 * contact is fed once: finished ones from the history, live ones from the engine. Its
 * segments come in the order they happened. The input's strings are borrowed for the call
 * only (group values are copied). */
int report_add_contact(struct report *r, const struct report_contact *c);
int report_add_span(struct report *r, const struct report_span *s);

/* The cells, sorted by group then interval; totals per group (interval "total" over the
 * whole period) and the grand total over every group. Valid until report_free() or the
 * next report_add_*(). A group's cells are those with any input; intervals without input
 * have no cell. max_cells bounds report_cells() (never fewer cells than group totals). */
size_t report_cells(const struct report *r, const struct report_cell **out);
size_t report_group_totals(const struct report *r, const struct report_cell **out);
const struct report_cell *report_total(const struct report *r);
/* The policy for a cell's group (a queue's own in a queue group, else the fallback). */
void report_cell_policy(const struct report *r,
                        const struct report_cell *cell,
                        struct report_queue_policy *out);

/* Drill-down: whether contact c counts in the cell of group (a group value as in
 * report_cell.group; NULL: any group, as in the grand total) and the interval starting at
 * start_ms (INT64_MIN: any interval of the period), and, when figure is not -1, in that
 * figure's count (e.g. "abandoned": only contacts with a segment abandoned there). Figures
 * that are not counts of contacts or offers (ratios, times) count the contacts whose
 * segments went into them. */
bool report_counts(const struct report *r,
                   const struct report_contact *c,
                   const char *group,
                   int64_t start_ms,
                   int figure);

/* Interval arithmetic, for callers that label their own periods: the start of the local
 * interval holding t, and the start of the next one (t within the years 1 to 9999). A change
 * of the zone's offset always ends a 5m, 15m, 30m or 60m interval. REPORT_IV_TOTAL has one
 * interval: INT64_MIN, then INT64_MAX. */
int64_t report_interval_start(uint8_t interval, const struct engine_zone *zone, int64_t t);
int64_t report_interval_next(uint8_t interval, const struct engine_zone *zone, int64_t start);
/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian). */
int64_t report_days_from_civil(int64_t y, int m, int d);

/* ---- From history rows and live contacts ------------------------------------------------ */

#define REPORT_SEGMENTS_MAX 64 /* segments of one contact a report counts */
#define REPORT_OFFERS_MAX 256  /* offers of one contact a report counts */

/* What is known of a contact besides its path: a history row's fields, or a live
 * contact's (live set, now the report's now). */
struct report_facts
{
    uint64_t id;
    uint8_t channel;
    uint8_t outcome; /* enum engine_contact_state */
    bool callback;
    bool live;
    const char *disposition;
    const char *queue, *agent; /* the last queue and agent (for rows without a path) */
    int64_t arrived, answered, ended, completed;
    int64_t now;
};

/* Where report_contact_build() puts a contact's segments and offers. */
struct report_buf
{
    struct report_segment segments[REPORT_SEGMENTS_MAX];
    struct report_offer offers[REPORT_OFFERS_MAX];
    bool truncated; /* the contact had more than these: the rest is not counted */
};

/* Cuts a contact's path (engine.h, "A contact's path") into the segments and offers a
 * report counts, into buf, and fills *out pointing at them (and at the path's strings:
 * valid while path and buf are). site_of (may be NULL) names the site of an agent who
 * answered. A row without a path (written before paths were kept) gives one segment from
 * its fields. Returns 0 or CD_ECORRUPT (a malformed path). */
int report_contact_build(const struct report_facts *f,
                         const void *path,
                         size_t len,
                         const char *(*site_of)(void *data, const char *agent),
                         void *site_data,
                         struct report_buf *buf,
                         struct report_contact *out);

/* ---- A report as a web page (html.c) --------------------------------------------------- */

struct cd_buf;

/* A colour threshold on one figure, as a report definition gives it. A value worse than
 * warn is shown as a warning, worse than alarm as an alarm: worse means below when
 * higher_is_better, above otherwise. warn and alarm are in the figure's unit as
 * report_value() gives it (ratios 0..1, times in seconds). */
struct report_threshold
{
    const char *figure; /* a figure's name, as report_figure_find() takes it */
    double warn, alarm;
    bool higher_is_better;
};

/* Without a threshold of its own, a service level (service_level, sl_*) below its policy's
 * sl_percent is a warning, and this many points or more below it an alarm. */
#define REPORT_HTML_SL_ALARM_POINTS 10

/* What a page says besides the report's own spec (its period in its zone, interval, group
 * and filters). Every pointer is borrowed for the call. */
struct report_page
{
    const char *title;    /* NULL or "": "Report by queue" (by the report's group) */
    const char *made_at;  /* when it was made, as the caller writes it: nothing here reads a
                             clock; NULL: not shown */
    const char *node;     /* the node that made it; NULL: not shown */
    uint64_t as_of_index; /* the applied index it covers; 0: not shown */
    const int *figures;   /* indices into report_figures(), in the order shown */
    size_t n_figures;
    const struct report_threshold *thresholds; /* may be NULL; for figures not shown: unused;
                                                  the last one given for a figure wins */
    size_t n_thresholds;
};

/* Appends report r to out as one self-contained HTML document (UTF-8; inline CSS and SVG,
 * no script, nothing loaded from elsewhere; laid out for A4 landscape when printed): a
 * header with the report's metadata, the grand total's key figures, a table of the group
 * totals, per group its intervals as charts and a table (with one interval, the charts
 * compare the groups instead), and a glossary of every figure shown. Every string from the
 * input is escaped. The same input gives the same bytes. Reads cells as report_cells()
 * does (sorting them). Returns 0; CD_EINVAL when a figure index is not one of
 * report_figures(), there is none, or a threshold names no figure (nothing is appended); or
 * CD_ENOMEM (out->err is set, out->len is as before the call). */
int report_html(const struct report *r, const struct report_page *page, struct cd_buf *out);

#endif
