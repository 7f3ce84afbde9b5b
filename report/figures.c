/* The figures: their names, titles, units and definitions (docs/reports.md carries the same
 * sentences, and a test holds the two together), and their values from a cell's sums. */
#include <string.h>

#include "report/internal.h"

#define COUNT(n, t, d)             \
    {                              \
        n, t, REPORT_UNIT_COUNT, d \
    }
#define RATIO(n, t, d)             \
    {                              \
        n, t, REPORT_UNIT_RATIO, d \
    }
#define SECONDS(n, t, d)             \
    {                                \
        n, t, REPORT_UNIT_SECONDS, d \
    }

static const struct report_figure figures[FIG_COUNT] = {
    [FIG_OFFERED] = COUNT("offered",
                          "Offered",
                          "Segments that entered the queue, live ones included (refused ones "
                          "are not offered): answered + abandoned + overflowed + transferred "
                          "while waiting + timed out + ended otherwise + still waiting."),
    [FIG_REFUSED] = COUNT("refused",
                          "Refused",
                          "Segments refused at the door because the queue was closed, full or "
                          "retired."),
    [FIG_ANSWERED] = COUNT("answered",
                           "Answered",
                           "Segments an agent accepted from the queue, live ones included."),
    [FIG_ANSWERED_IN_TARGET] = COUNT("answered_in_target",
                                     "Answered in target",
                                     "Answered segments whose wait (left - entered) was at "
                                     "most the queue's service level target."),
    [FIG_ABANDONED] =
        COUNT("abandoned", "Abandoned", "Segments the customer left while waiting or ringing."),
    [FIG_ABANDONED_SHORT] = COUNT("abandoned_short",
                                  "Short abandons",
                                  "Abandoned segments whose wait was shorter than the queue's "
                                  "short-abandon threshold."),
    [FIG_ABANDONED_AFTER_TARGET] = COUNT("abandoned_after_target",
                                         "Abandoned after target",
                                         "Abandoned segments whose wait was longer than the "
                                         "queue's service level target."),
    [FIG_OVERFLOWED] = COUNT("overflowed",
                             "Overflowed",
                             "Segments that overflow moved on, to another queue or outside."),
    [FIG_TRANSFERRED] = COUNT("transferred",
                              "Transferred",
                              "Segments transferred on: those transferred away while waiting "
                              "plus answered ones the agent then transferred."),
    [FIG_TIMED_OUT] = COUNT("timed_out",
                            "Timed out",
                            "Segments whose queue's maximum wait passed with nowhere to go."),
    [FIG_WAITING] = COUNT("waiting",
                          "Waiting",
                          "Live segments still waiting or ringing when the report was made."),
    [FIG_WAITING_PAST_TARGET] = COUNT("waiting_past_target",
                                      "Waiting past target",
                                      "Waiting segments that had waited longer than the "
                                      "queue's service level target when the report was made "
                                      "(now - entered > target); they count against the "
                                      "service level."),
    [FIG_ESCALATED] = COUNT("escalated",
                            "Escalated",
                            "Segments that went through at least one escalation step."),
    [FIG_SERVICE_LEVEL] = RATIO("service_level",
                                "Service level",
                                "The service level in the variant the queue chose "
                                "(sl_offered, sl_answered_abandoned or sl_short_excluded); "
                                "outside a queue group, in the variant of the default "
                                "policy."),
    [FIG_SL_OFFERED] = RATIO("sl_offered",
                             "Service level (offered)",
                             "Service level over every segment offered: answered_in_target / "
                             "(offered - waiting + waiting_past_target)."),
    [FIG_SL_ANSWERED_ABANDONED] = RATIO("sl_answered_abandoned",
                                        "Service level (answered and abandoned)",
                                        "Service level over answers and late abandons: "
                                        "answered_in_target / (answered + "
                                        "abandoned_after_target + waiting_past_target)."),
    [FIG_SL_SHORT_EXCLUDED] = RATIO("sl_short_excluded",
                                    "Service level (short abandons out)",
                                    "Service level with short abandons left out: "
                                    "answered_in_target / (offered - abandoned_short - "
                                    "waiting + waiting_past_target)."),
    [FIG_ANSWER_RATE] = RATIO("answer_rate",
                              "Answer rate",
                              "Share of offered segments that were answered: answered / "
                              "offered."),
    [FIG_ABANDON_RATE] = RATIO("abandon_rate",
                               "Abandon rate",
                               "Share of offered segments that were abandoned, short abandons "
                               "left out: (abandoned - abandoned_short) / (offered - "
                               "abandoned_short)."),
    [FIG_ASA] = SECONDS("asa",
                        "Average speed of answer",
                        "The average wait of answered segments: the sum of their waits / "
                        "answered."),
    [FIG_AVERAGE_WAIT] = SECONDS("average_wait",
                                 "Average wait",
                                 "The average wait of offered segments, ended or live (a live "
                                 "one's wait so far): the sum of their waits / offered."),
    [FIG_LONGEST_WAIT] = SECONDS("longest_wait",
                                 "Longest wait",
                                 "The longest wait of any offered segment, ended or live."),
    [FIG_AVERAGE_ABANDON_WAIT] = SECONDS("average_abandon_wait",
                                         "Average abandon wait",
                                         "The average wait of abandoned segments before the "
                                         "customer left: the sum of their waits / abandoned."),
    [FIG_AHT] = SECONDS("aht",
                        "Average handle time",
                        "The average handling of handled segments: (talk + wrap-up) / "
                        "handled, where talk includes time on hold."),
    [FIG_AVERAGE_TALK] = SECONDS("average_talk",
                                 "Average talk",
                                 "The average talk time of handled segments, hold included: "
                                 "talk / handled."),
    [FIG_AVERAGE_HOLD] = SECONDS("average_hold",
                                 "Average hold",
                                 "The average time on hold of handled segments: hold / "
                                 "handled."),
    [FIG_AVERAGE_WRAPUP] = SECONDS("average_wrapup",
                                   "Average wrap-up",
                                   "The average wrap-up time of handled segments: wrap-up / "
                                   "handled."),
    [FIG_HANDLED] = COUNT("handled",
                          "Handled",
                          "Answered segments whose handling (talk and wrap-up) is over."),
    [FIG_CALLBACKS_REQUESTED] = COUNT("callbacks_requested",
                                      "Callbacks requested",
                                      "Contacts that asked for a callback, counted once, at "
                                      "their first segment in the report."),
    [FIG_CALLBACKS_MADE] = COUNT("callbacks_made",
                                 "Callbacks made",
                                 "Of callbacks_requested, the contacts an agent answered."),
    [FIG_OFFERS] = COUNT("offers",
                         "Offers",
                         "Offers made to agents, whatever came of them (one per agent "
                         "offered)."),
    [FIG_OFFERS_ACCEPTED] =
        COUNT("offers_accepted", "Offers accepted", "Offers the agent accepted."),
    [FIG_OFFERS_REJECTED] =
        COUNT("offers_rejected", "Offers rejected", "Offers the agent refused."),
    [FIG_OFFERS_NO_ANSWER] = COUNT("offers_no_answer",
                                   "Offers not answered",
                                   "Offers that rang out unanswered (ring-no-answer)."),
    [FIG_TIME_AVAILABLE] = SECONDS("time_available",
                                   "Available time",
                                   "Time agents spent available, clipped to the interval."),
    [FIG_TIME_BUSY] = SECONDS("time_busy",
                              "Busy time",
                              "Time agents spent busy: with a contact offered or connected."),
    [FIG_TIME_WRAPUP] = SECONDS("time_wrapup",
                                "Wrap-up time",
                                "Time agents spent with only wrap-up work in hand."),
    [FIG_TIME_AWAY] =
        SECONDS("time_away", "Away time", "Time agents spent away, whatever the reason."),
    [FIG_TIME_STAFFED] = SECONDS("time_staffed",
                                 "Staffed time",
                                 "Time agents were logged in: available + busy + wrap-up + "
                                 "away."),
    [FIG_OCCUPANCY] = RATIO("occupancy",
                            "Occupancy",
                            "Share of the time agents could take contacts that they spent on "
                            "contacts: (busy + wrap-up) / (available + busy + wrap-up)."),
    [FIG_UTILISATION] = RATIO("utilisation",
                              "Utilisation",
                              "Share of staffed time spent on contacts: (busy + wrap-up) / "
                              "(available + busy + wrap-up + away)."),
    [FIG_CONTACTS_PER_HOUR] = {"contacts_per_hour", "Contacts per hour", REPORT_UNIT_PER_HOUR,
                               "In agent and site groups, handled / staffed hours; in other "
                               "groups, offered / hours of the cell's period."},
    [FIG_EWT_ERROR] = SECONDS("ewt_error",
                              "EWT error",
                              "The mean absolute error of the estimated wait quoted to "
                              "answered segments: the sum of abs(quoted - actual wait) / "
                              "segments with a quote."),
    [FIG_EWT_BIAS] = SECONDS("ewt_bias",
                             "EWT bias",
                             "The mean signed error of the estimated wait (above 0: quotes too "
                             "long): the sum of (quoted - actual wait) / segments with a "
                             "quote."),
};

const struct report_figure *report_figures(size_t *n)
{
    *n = FIG_COUNT;
    return figures;
}

int report_figure_find(const char *name)
{
    for (int i = 0; i < FIG_COUNT; i++) {
        if (strcmp(figures[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* How a figure behaves when there is nothing to compute it from. */
enum kind {
    K_COUNT,    /* a count: always has data */
    K_TIME,     /* a sum of agent time: has data in groups that have agent time */
    K_AVERAGE,  /* a ratio or an average: no data when its denominator is 0 */
    K_PER_HOUR, /* a count per hour: no data when there are no hours */
};

static enum kind kind_of(int figure)
{
    if (figure >= FIG_TIME_AVAILABLE && figure <= FIG_TIME_STAFFED) {
        return K_TIME;
    }
    switch (figures[figure].unit) {
        case REPORT_UNIT_COUNT:
            return K_COUNT;
        case REPORT_UNIT_PER_HOUR:
            return K_PER_HOUR;
        default:
            return K_AVERAGE;
    }
}

int64_t report__add_ms(int64_t a, int64_t b)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return sum;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* A figure as num / den: den is 1 for counts and sums, 0 for "no data". */
struct fraction
{
    double num, den;
};

static struct fraction frac(double num, double den)
{
    return (struct fraction){num, den};
}

static struct fraction service_level(const struct report_sums *s, uint8_t variant)
{
    /* Live segments still within the target are undecided: in no denominator. */
    uint64_t decided = sub0(s->offered, s->waiting) + s->waiting_past_target;
    switch (variant) {
        case REPORT_SL_ANSWERED_ABANDONED:
            return frac(
                (double)s->answered_in_target,
                (double)(s->answered + s->abandoned_after_target + s->waiting_past_target));
        case REPORT_SL_SHORT_EXCLUDED:
            return frac((double)s->answered_in_target,
                        (double)sub0(decided, s->abandoned_short));
        default:
            return frac((double)s->answered_in_target, (double)decided);
    }
}

static bool has_agent_time(const struct report_sums *s)
{
    return s->group_by == REPORT_BY_AGENT || s->group_by == REPORT_BY_SITE ||
           s->group_by == REPORT_BY_NONE;
}

static uint64_t count_of(int figure, const struct report_sums *s)
{
    switch (figure) {
        case FIG_OFFERED:
            return s->offered;
        case FIG_REFUSED:
            return s->refused;
        case FIG_ANSWERED:
            return s->answered;
        case FIG_ANSWERED_IN_TARGET:
            return s->answered_in_target;
        case FIG_ABANDONED:
            return s->abandoned;
        case FIG_ABANDONED_SHORT:
            return s->abandoned_short;
        case FIG_ABANDONED_AFTER_TARGET:
            return s->abandoned_after_target;
        case FIG_OVERFLOWED:
            return s->overflowed;
        case FIG_TRANSFERRED:
            return s->transferred;
        case FIG_TIMED_OUT:
            return s->timed_out;
        case FIG_WAITING:
            return s->waiting;
        case FIG_WAITING_PAST_TARGET:
            return s->waiting_past_target;
        case FIG_ESCALATED:
            return s->escalated;
        case FIG_HANDLED:
            return s->handled;
        case FIG_CALLBACKS_REQUESTED:
            return s->callbacks_requested;
        case FIG_CALLBACKS_MADE:
            return s->callbacks_made;
        case FIG_OFFERS:
            return s->offers;
        case FIG_OFFERS_ACCEPTED:
            return s->offer_outcomes[REPORT_OFFER_ACCEPTED];
        case FIG_OFFERS_REJECTED:
            return s->offer_outcomes[REPORT_OFFER_REJECTED];
        case FIG_OFFERS_NO_ANSWER:
            return s->offer_outcomes[REPORT_OFFER_NO_ANSWER];
        default:
            return 0;
    }
}

static struct fraction agent_time(int figure, const struct report_sums *s)
{
    double avail = (double)s->state_ms[ENGINE_AGENT_AVAILABLE];
    double busy = (double)s->state_ms[ENGINE_AGENT_BUSY];
    double wrap = (double)s->state_ms[ENGINE_AGENT_WRAPUP];
    double away = (double)s->state_ms[ENGINE_AGENT_AWAY];
    double data = has_agent_time(s) ? 1 : 0;
    switch (figure) {
        case FIG_TIME_AVAILABLE:
            return frac(avail / 1000, data);
        case FIG_TIME_BUSY:
            return frac(busy / 1000, data);
        case FIG_TIME_WRAPUP:
            return frac(wrap / 1000, data);
        case FIG_TIME_AWAY:
            return frac(away / 1000, data);
        case FIG_TIME_STAFFED:
            return frac((avail + busy + wrap + away) / 1000, data);
        case FIG_OCCUPANCY:
            return frac(busy + wrap, avail + busy + wrap);
        default:
            return frac(busy + wrap, avail + busy + wrap + away);
    }
}

static struct fraction contacts_per_hour(const struct report_sums *s)
{
    if (s->group_by == REPORT_BY_AGENT || s->group_by == REPORT_BY_SITE) {
        double staffed = (double)s->state_ms[ENGINE_AGENT_AVAILABLE] +
                         (double)s->state_ms[ENGINE_AGENT_BUSY] +
                         (double)s->state_ms[ENGINE_AGENT_WRAPUP] +
                         (double)s->state_ms[ENGINE_AGENT_AWAY];
        return frac((double)s->handled, staffed / REPORT_MS_HOUR);
    }
    return frac((double)s->offered, (double)s->period_ms / REPORT_MS_HOUR);
}

static struct fraction fraction_of(int figure,
                                   const struct report_sums *s,
                                   const struct report_queue_policy *p)
{
    double handled = (double)s->handled;
    switch (figure) {
        case FIG_SERVICE_LEVEL:
            return service_level(s, p != NULL ? p->variant : 0);
        case FIG_SL_OFFERED:
            return service_level(s, REPORT_SL_OFFERED);
        case FIG_SL_ANSWERED_ABANDONED:
            return service_level(s, REPORT_SL_ANSWERED_ABANDONED);
        case FIG_SL_SHORT_EXCLUDED:
            return service_level(s, REPORT_SL_SHORT_EXCLUDED);
        case FIG_ANSWER_RATE:
            return frac((double)s->answered, (double)s->offered);
        case FIG_ABANDON_RATE:
            return frac((double)sub0(s->abandoned, s->abandoned_short),
                        (double)sub0(s->offered, s->abandoned_short));
        case FIG_ASA:
            return frac((double)s->answer_wait_ms / 1000, (double)s->answered);
        case FIG_AVERAGE_WAIT:
            return frac((double)s->wait_ms / 1000, (double)s->waits);
        case FIG_LONGEST_WAIT:
            return frac((double)s->longest_wait_ms / 1000,
                        s->waits > 0 && s->longest_wait_ms >= 0 ? 1 : 0);
        case FIG_AVERAGE_ABANDON_WAIT:
            return frac((double)s->abandon_wait_ms / 1000, (double)s->abandoned);
        case FIG_AHT:
            return frac(((double)s->talk_ms + (double)s->wrap_ms) / 1000, handled);
        case FIG_AVERAGE_TALK:
            return frac((double)s->talk_ms / 1000, handled);
        case FIG_AVERAGE_HOLD:
            return frac((double)s->hold_ms / 1000, handled);
        case FIG_AVERAGE_WRAPUP:
            return frac((double)s->wrap_ms / 1000, handled);
        case FIG_TIME_AVAILABLE:
        case FIG_TIME_BUSY:
        case FIG_TIME_WRAPUP:
        case FIG_TIME_AWAY:
        case FIG_TIME_STAFFED:
        case FIG_OCCUPANCY:
        case FIG_UTILISATION:
            return agent_time(figure, s);
        case FIG_CONTACTS_PER_HOUR:
            return contacts_per_hour(s);
        case FIG_EWT_ERROR:
            return frac((double)s->ewt_abs_err_ms / 1000, (double)s->ewt_samples);
        case FIG_EWT_BIAS:
            return frac((double)s->ewt_err_ms / 1000, (double)s->ewt_samples);
        default:
            return frac((double)count_of(figure, s), 1);
    }
}

bool report_value(const struct report_sums *s,
                  const struct report_queue_policy *policy,
                  int figure,
                  double *out)
{
    if (figure < 0 || figure >= FIG_COUNT) {
        return false;
    }
    struct fraction f = fraction_of(figure, s, policy);
    if (f.den <= 0) {
        return false;
    }
    *out = f.num / f.den;
    return true;
}

bool report__figure_counts(int figure,
                           const struct report_sums *one,
                           const struct report_queue_policy *policy)
{
    struct fraction f = fraction_of(figure, one, policy);
    switch (kind_of(figure)) {
        case K_AVERAGE:
            return f.den > 0;
        case K_TIME:
            return f.num > 0 && f.den > 0;
        default:
            return f.num > 0; /* counts, and counts per hour */
    }
}

void report__sums_init(struct report_sums *s, uint8_t group_by, int64_t period_ms)
{
    memset(s, 0, sizeof(*s));
    s->longest_wait_ms = -1;
    s->period_ms = period_ms;
    s->group_by = group_by;
}

static void add_away(struct report_sums *dst, const char reason[ENGINE_VALUE_MAX], int64_t ms)
{
    uint32_t i = 0;
    while (i < dst->n_reasons && strcmp(dst->away[i].reason, reason) != 0) {
        i++;
    }
    if (i == dst->n_reasons) {
        if (i == sizeof(dst->away) / sizeof(dst->away[0])) {
            dst->away_other_ms = report__add_ms(dst->away_other_ms, ms);
            return;
        }
        memcpy(dst->away[i].reason, reason, ENGINE_VALUE_MAX);
        dst->away[i].ms = 0;
        dst->n_reasons++;
    }
    dst->away[i].ms = report__add_ms(dst->away[i].ms, ms);
}

static void add_counts(struct report_sums *dst, const struct report_sums *src)
{
    dst->offered += src->offered;
    dst->refused += src->refused;
    dst->answered += src->answered;
    dst->answered_in_target += src->answered_in_target;
    dst->abandoned += src->abandoned;
    dst->abandoned_short += src->abandoned_short;
    dst->abandoned_after_target += src->abandoned_after_target;
    dst->overflowed += src->overflowed;
    dst->transferred += src->transferred;
    dst->timed_out += src->timed_out;
    dst->other += src->other;
    dst->waiting += src->waiting;
    dst->waiting_past_target += src->waiting_past_target;
    dst->escalated += src->escalated;
    for (int i = 0; i < REPORT_VIA_COUNT; i++) {
        dst->via[i] += src->via[i];
    }
    dst->waits += src->waits;
    dst->handled += src->handled;
    dst->callbacks_requested += src->callbacks_requested;
    dst->callbacks_made += src->callbacks_made;
    dst->ewt_samples += src->ewt_samples;
    dst->offers += src->offers;
    for (int i = 0; i < REPORT_OFFER_COUNT; i++) {
        dst->offer_outcomes[i] += src->offer_outcomes[i];
    }
}

void report__sums_add(struct report_sums *dst, const struct report_sums *src)
{
    add_counts(dst, src);
    dst->answer_wait_ms = report__add_ms(dst->answer_wait_ms, src->answer_wait_ms);
    dst->abandon_wait_ms = report__add_ms(dst->abandon_wait_ms, src->abandon_wait_ms);
    dst->wait_ms = report__add_ms(dst->wait_ms, src->wait_ms);
    if (src->longest_wait_ms > dst->longest_wait_ms) {
        dst->longest_wait_ms = src->longest_wait_ms;
    }
    dst->talk_ms = report__add_ms(dst->talk_ms, src->talk_ms);
    dst->hold_ms = report__add_ms(dst->hold_ms, src->hold_ms);
    dst->wrap_ms = report__add_ms(dst->wrap_ms, src->wrap_ms);
    dst->ewt_abs_err_ms = report__add_ms(dst->ewt_abs_err_ms, src->ewt_abs_err_ms);
    dst->ewt_err_ms = report__add_ms(dst->ewt_err_ms, src->ewt_err_ms);
    for (int i = 0; i <= ENGINE_AGENT_AWAY; i++) {
        dst->state_ms[i] = report__add_ms(dst->state_ms[i], src->state_ms[i]);
    }
    for (uint32_t i = 0; i < src->n_reasons; i++) {
        add_away(dst, src->away[i].reason, src->away[i].ms);
    }
    dst->away_other_ms = report__add_ms(dst->away_other_ms, src->away_other_ms);
}
