/* report/: every figure of a known hour, computed by hand, in every kind of group.
 *
 * The hour is 2026-12-07 09:00-10:00 UTC, in 30-minute intervals; the report is made at
 * 10:00. Queue "sales" (target 20 s, short abandons under 5 s, service level "answered and
 * abandoned") overflows to "support" (target 30 s, "offered"); the default policy (target
 * 20 s, short 5 s) uses "short abandons excluded". Agents ann and bob sit in leeds, cy in
 * york. Ten contacts (times in seconds after 09:00; wait = left - entered):
 *
 *   C1  voice sales  +60   answered by ann after 10 s  talk 120 (hold 20) wrap 30  EWT 15
 * "sale" C2  voice sales  +120  answered by bob after 15 s  talk 200           wrap 40  EWT 30
 * "sale" (rang ann first: no answer) C3  chat  sales  +600  answered by cy after 20 s   talk
 * 300           wrap 60  no EWT  "support" C4  voice sales  +900  answered by ann after 40 s
 * talk 100 (hold 10) wrap 20  EWT 60  "sale" (ann rejected the first offer) C5  voice sales
 * +1900 answered by bob after 60 s, still talking (live)        EWT 20  "" C6  chat  sales +200
 * abandoned after 3 s (short)                                     "" C7  voice sales  +300
 * abandoned after 4 s (short)                                     "" C8  voice sales  +1000
 * abandoned after 45 s, one escalation step (ringing bob)         "" C9  voice sales  +1200
 * overflowed after 50 s to support, answered there by cy after 10 s, talk 150 (hold 30) wrap
 * 10, then transferred on; asked for a callback                             EWT 5  "support"
 *   C10 voice sales  +2400 still waiting at 10:00 (1200 s), two escalation steps, asked for
 *                          a callback, ringing ann                                 ""
 *
 * Agents' spans: ann available 08:30-09:10, busy -09:25, wrap-up -09:30, away "lunch"
 * -09:45, available -10:30; bob offline until 09:00, available -09:20, busy -09:50, away
 * (no reason) -10:00; cy offline until 09:00, available -09:40, busy -09:55, wrap-up -10:00.
 * docs/reports.md works through the same example. */
#include "common/alloc.h"
#include "report_fixture.h"

#define T0 utc_ms(2026, 12, 7, 9, 0, 0)
#define AT(s) (T0 + (int64_t)(s)*1000)

#define N_CONTACTS 10

struct fixture
{
    struct report_segment seg[N_CONTACTS][2];
    struct report_offer offer[N_CONTACTS][2];
    struct report_contact contact[N_CONTACTS];
    struct report_span span[16];
    size_t n_spans;
    struct report_spec spec;
    struct report *r;
};

static bool policy(void *data, const char *queue, struct report_queue_policy *out)
{
    (void)data;
    if (strcmp(queue, "sales") == 0) {
        *out = (struct report_queue_policy){20000, 80, REPORT_SL_ANSWERED_ABANDONED, 5000};
        return true;
    }
    if (strcmp(queue, "support") == 0) {
        *out = (struct report_queue_policy){30000, 90, REPORT_SL_OFFERED, 5000};
        return true;
    }
    return false;
}

/* ---- Building the hour --------------------------------------------------------------- */

static struct report_contact *contact(struct fixture *f,
                                      int n,
                                      uint8_t channel,
                                      const char *disposition)
{
    struct report_contact *c = &f->contact[n - 1];
    c->id = (uint64_t)n;
    c->channel = channel;
    c->outcome = ENGINE_CONTACT_COMPLETED;
    c->disposition = disposition;
    c->segments = f->seg[n - 1];
    c->offers = f->offer[n - 1];
    return c;
}

static struct report_segment *segment(struct report_contact *c,
                                      const char *queue,
                                      int entered_s,
                                      int wait_s,
                                      uint8_t end)
{
    struct report_segment *g = (struct report_segment *)&c->segments[c->n_segments++];
    *g = (struct report_segment){.queue = queue,
                                 .via = REPORT_VIA_ARRIVAL,
                                 .end = end,
                                 .entered = AT(entered_s),
                                 .left = AT(entered_s + wait_s),
                                 .ewt_ms = -1};
    return g;
}

static struct report_segment *answered(struct report_contact *c,
                                       const char *queue,
                                       int entered_s,
                                       int wait_s,
                                       const char *agent,
                                       const char *site)
{
    struct report_segment *g = segment(c, queue, entered_s, wait_s, REPORT_END_ANSWERED);
    g->agent = agent;
    g->site = site;
    return g;
}

static void handled(struct report_segment *g, int talk_s, int hold_s, int wrap_s, int ewt_s)
{
    g->handled = true;
    g->talk_ms = talk_s * 1000;
    g->hold_ms = hold_s * 1000;
    g->wrap_ms = wrap_s * 1000;
    g->ewt_ms = ewt_s < 0 ? -1 : ewt_s * 1000;
}

static void offer(struct report_contact *c, const char *agent, int at_s, int end_s, uint8_t how)
{
    struct report_offer *o = (struct report_offer *)&c->offers[c->n_offers++];
    *o = (struct report_offer){agent, AT(at_s), AT(end_s), how};
}

static void span(struct fixture *f, const char *agent, uint8_t state, int from_s, int to_s)
{
    const char *site = strcmp(agent, "cy") == 0 ? "york" : "leeds";
    f->span[f->n_spans++] = (struct report_span){agent, site, state, "", AT(from_s), AT(to_s)};
}

static void build_contacts(struct fixture *f)
{
    struct report_contact *c = contact(f, 1, ENGINE_CH_VOICE, "sale");
    handled(answered(c, "sales", 60, 10, "ann", "leeds"), 120, 20, 30, 15);
    offer(c, "ann", 65, 70, REPORT_OFFER_ACCEPTED);

    c = contact(f, 2, ENGINE_CH_VOICE, "sale");
    handled(answered(c, "sales", 120, 15, "bob", "leeds"), 200, 0, 40, 30);
    offer(c, "ann", 125, 130, REPORT_OFFER_NO_ANSWER);
    offer(c, "bob", 131, 135, REPORT_OFFER_ACCEPTED);

    c = contact(f, 3, ENGINE_CH_CHAT, "support");
    handled(answered(c, "sales", 600, 20, "cy", "york"), 300, 0, 60, -1);
    offer(c, "cy", 615, 620, REPORT_OFFER_ACCEPTED);

    c = contact(f, 4, ENGINE_CH_VOICE, "sale");
    handled(answered(c, "sales", 900, 40, "ann", "leeds"), 100, 10, 20, 60);
    offer(c, "ann", 935, 936, REPORT_OFFER_REJECTED);
    offer(c, "ann", 937, 940, REPORT_OFFER_ACCEPTED);

    c = contact(f, 5, ENGINE_CH_VOICE, "");
    c->outcome = ENGINE_CONTACT_CONNECTED;
    c->live = true;
    struct report_segment *g = answered(c, "sales", 1900, 60, "bob", "leeds");
    g->ewt_ms = 20000;
    g->talk_ms = 30000; /* so far; not handled yet, so not counted */
    offer(c, "bob", 1955, 1960, REPORT_OFFER_ACCEPTED);
}

static void build_abandons(struct fixture *f)
{
    struct report_contact *c = contact(f, 6, ENGINE_CH_CHAT, "");
    c->outcome = ENGINE_CONTACT_ABANDONED;
    segment(c, "sales", 200, 3, REPORT_END_ABANDONED);

    c = contact(f, 7, ENGINE_CH_VOICE, "");
    c->outcome = ENGINE_CONTACT_ABANDONED;
    segment(c, "sales", 300, 4, REPORT_END_ABANDONED);

    c = contact(f, 8, ENGINE_CH_VOICE, "");
    c->outcome = ENGINE_CONTACT_ABANDONED;
    segment(c, "sales", 1000, 45, REPORT_END_ABANDONED)->steps = 1;
    offer(c, "bob", 1030, 1045, REPORT_OFFER_CANCELLED);

    c = contact(f, 9, ENGINE_CH_VOICE, "support");
    c->callback = true;
    segment(c, "sales", 1200, 50, REPORT_END_OVERFLOWED)->ewt_ms = 40000;
    struct report_segment *g = answered(c, "support", 1250, 10, "cy", "york");
    g->via = REPORT_VIA_OVERFLOW;
    g->transferred_out = true;
    handled(g, 150, 30, 10, 5);
    offer(c, "cy", 1255, 1260, REPORT_OFFER_ACCEPTED);

    c = contact(f, 10, ENGINE_CH_VOICE, "");
    c->outcome = ENGINE_CONTACT_OFFERED;
    c->live = true;
    c->callback = true;
    g = segment(c, "sales", 2400, 1200, REPORT_END_WAITING);
    g->steps = 2;
    offer(c, "ann", 3590, 3600, REPORT_OFFER_OPEN);
}

static void build_spans(struct fixture *f)
{
    span(f, "ann", ENGINE_AGENT_AVAILABLE, -1800, 600);
    span(f, "ann", ENGINE_AGENT_BUSY, 600, 1500);
    span(f, "ann", ENGINE_AGENT_WRAPUP, 1500, 1800);
    span(f, "ann", ENGINE_AGENT_AWAY, 1800, 2700);
    f->span[f->n_spans - 1].reason = "lunch";
    span(f, "ann", ENGINE_AGENT_AVAILABLE, 2700, 5400);
    span(f, "bob", ENGINE_AGENT_OFFLINE, -7200, 0);
    span(f, "bob", ENGINE_AGENT_AVAILABLE, 0, 1200);
    span(f, "bob", ENGINE_AGENT_BUSY, 1200, 3000);
    span(f, "bob", ENGINE_AGENT_AWAY, 3000, 3600);
    span(f, "cy", ENGINE_AGENT_OFFLINE, -3600, 0);
    span(f, "cy", ENGINE_AGENT_AVAILABLE, 0, 2400);
    span(f, "cy", ENGINE_AGENT_BUSY, 2400, 3300);
    span(f, "cy", ENGINE_AGENT_WRAPUP, 3300, 3600);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    build_contacts(f);
    build_abandons(f);
    build_spans(f);
    f->spec = (struct report_spec){
        .from_ms = T0,
        .to_ms = AT(3600),
        .interval = REPORT_IV_30M,
        .group = REPORT_BY_NONE,
        .channel = -1,
        .policy = policy,
        .fallback = {20000, 80, REPORT_SL_SHORT_EXCLUDED, 5000},
        .now_ms = AT(3600),
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    report_free(f->r);
    free(f);
    return 0;
}

#define TEST(name)                              \
    static void name##_body(struct fixture *f); \
    static void name(void **state)              \
    {                                           \
        name##_body(*state);                    \
    }                                           \
    static void name##_body(struct fixture *f)

/* Runs the report of f->spec over the hour (a report made before is freed). */
static void run(struct fixture *f)
{
    char err[256];
    report_free(f->r);
    f->r = report_new(&f->spec, err, sizeof(err));
    if (f->r == NULL) {
        fail_msg("report_new: %s", err);
    }
    for (int i = 0; i < N_CONTACTS; i++) {
        assert_int_equal(report_add_contact(f->r, &f->contact[i]), 0);
    }
    for (size_t i = 0; i < f->n_spans; i++) {
        assert_int_equal(report_add_span(f->r, &f->span[i]), 0);
    }
}

#define RUN_BY(g)            \
    do {                     \
        f->spec.group = (g); \
        run(f);              \
    } while (0)

#define TOTAL(group) total_of(f->r, (group))
#define GRAND report_total(f->r)
#define CELL(group, s) cell_of(f->r, (group), AT(s))

/* ---- Expected figures, by hand (see the top of the file) ---------------------------- */

#define NO_OFFERS "offers 0 offers_accepted 0 offers_rejected 0 offers_no_answer 0 "
#define NO_AGENT_TIME                                                                    \
    "time_available - time_busy - time_wrapup - time_away - time_staffed - occupancy - " \
    "utilisation - "
#define NO_ABANDONS "abandoned 0 abandoned_short 0 abandoned_after_target 0 "
#define NO_CALLBACKS "callbacks_requested 0 callbacks_made 0 "
#define NO_WAITING "waiting 0 waiting_past_target 0 escalated 0 "

/* Every segment of the hour: 11 segments (C9 has two), waits summing to 1457 s. */
#define SEGMENTS_ALL                                                                      \
    "offered 11 refused 0 answered 6 answered_in_target 4 abandoned 3 abandoned_short 2 " \
    "abandoned_after_target 1 overflowed 1 transferred 1 timed_out 0 waiting 1 "          \
    "waiting_past_target 1 escalated 2 "                                                  \
    "service_level 4/9 sl_offered 4/11 sl_answered_abandoned 4/8 sl_short_excluded 4/9 "  \
    "answer_rate 6/11 abandon_rate 1/9 "                                                  \
    "asa 155/6 average_wait 1457/11 longest_wait 1200 average_abandon_wait 52/3 "         \
    "aht 1030/5 average_talk 870/5 average_hold 60/5 average_wrapup 160/5 handled 5 "     \
    "callbacks_requested 2 callbacks_made 1 contacts_per_hour 11 ewt_error 85/5 "         \
    "ewt_bias -5/5 "
#define AGENT_TIME_ALL                                                                      \
    "time_available 5100 time_busy 3600 time_wrapup 600 time_away 1500 time_staffed 10800 " \
    "occupancy 4200/9300 utilisation 4200/10800 "
/* The six answered segments (what agent and site groups hold of segments). */
#define ANSWERED_ALL                                                                      \
    "offered 6 refused 0 answered 6 answered_in_target 4 " NO_ABANDONS                    \
    "overflowed 0 transferred 1 timed_out 0 waiting 0 waiting_past_target 0 escalated 0 " \
    "service_level 4/6 sl_offered 4/6 sl_answered_abandoned 4/6 sl_short_excluded 4/6 "   \
    "answer_rate 1 abandon_rate 0 asa 155/6 average_wait 155/6 longest_wait 60 "          \
    "average_abandon_wait - aht 1030/5 average_talk 870/5 average_hold 60/5 "             \
    "average_wrapup 160/5 handled 5 " NO_CALLBACKS "ewt_error 85/5 ewt_bias -5/5 "
#define CY                                                                               \
    "offered 2 refused 0 answered 2 answered_in_target 2 " NO_ABANDONS                   \
    "overflowed 0 transferred 1 timed_out 0 " NO_WAITING                                 \
    "service_level 1 sl_offered 1 sl_answered_abandoned 1 sl_short_excluded 1 "          \
    "answer_rate 1 abandon_rate 0 asa 15 average_wait 15 longest_wait 20 "               \
    "average_abandon_wait - aht 260 average_talk 225 average_hold 15 average_wrapup 35 " \
    "handled 2 " NO_CALLBACKS                                                            \
    "time_available 2400 time_busy 900 time_wrapup 300 time_away 0 time_staffed 3600 "   \
    "occupancy 1200/3600 utilisation 1200/3600 contacts_per_hour 2 ewt_error 5 ewt_bias -5 "

TEST(everything_in_one_group)
{
    RUN_BY(REPORT_BY_NONE);
    CHECK(f->r, TOTAL("all"),
          SEGMENTS_ALL AGENT_TIME_ALL
          "offers 10 offers_accepted 6 offers_rejected 1 offers_no_answer 1");
    CHECK(f->r, GRAND,
          SEGMENTS_ALL AGENT_TIME_ALL
          "offers 10 offers_accepted 6 offers_rejected 1 offers_no_answer 1");
    assert_string_equal(GRAND->group, "all");
    assert_string_equal(GRAND->label, "total");
    assert_int_equal(GRAND->start_ms, T0);
    assert_int_equal(GRAND->end_ms, AT(3600));
    /* Away time by reason: ann's lunch, then bob's without a reason. */
    assert_int_equal(GRAND->sums.n_reasons, 2);
    assert_string_equal(GRAND->sums.away[0].reason, "lunch");
    assert_int_equal(GRAND->sums.away[0].ms, 900000);
    assert_string_equal(GRAND->sums.away[1].reason, "");
    assert_int_equal(GRAND->sums.away[1].ms, 600000);
    assert_int_equal(GRAND->sums.via[REPORT_VIA_ARRIVAL], 10);
    assert_int_equal(GRAND->sums.via[REPORT_VIA_OVERFLOW], 1);
}

TEST(two_intervals_of_thirty_minutes)
{
    RUN_BY(REPORT_BY_NONE);
    const struct report_cell *cells;
    assert_int_equal(report_cells(f->r, &cells), 2);
    assert_string_equal(cells[0].label, "2026-12-07T09:00+00:00");
    assert_string_equal(cells[1].label, "2026-12-07T09:30+00:00");
    assert_int_equal(cells[0].start_ms, T0);
    assert_int_equal(cells[0].end_ms, AT(1800));
    assert_int_equal(cells[1].end_ms, AT(3600));
    assert_int_equal(cells[1].sums.period_ms, MINUTES(30));
    /* 09:00: everything but C5 and C10. */
    CHECK(f->r, CELL("all", 0),
          "offered 9 refused 0 answered 5 answered_in_target 4 abandoned 3 abandoned_short 2 "
          "abandoned_after_target 1 overflowed 1 transferred 1 timed_out 0 waiting 0 "
          "waiting_past_target 0 escalated 1 "
          "service_level 4/7 sl_offered 4/9 sl_answered_abandoned 4/6 sl_short_excluded 4/7 "
          "answer_rate 5/9 abandon_rate 1/7 "
          "asa 95/5 average_wait 197/9 longest_wait 50 average_abandon_wait 52/3 "
          "aht 1030/5 average_talk 870/5 average_hold 60/5 average_wrapup 160/5 handled 5 "
          "callbacks_requested 1 callbacks_made 1 "
          "offers 8 offers_accepted 5 offers_rejected 1 offers_no_answer 1 "
          "time_available 3600 time_busy 1500 time_wrapup 300 time_away 0 time_staffed 5400 "
          "occupancy 1800/5400 utilisation 1800/5400 "
          "contacts_per_hour 9/0.5 ewt_error 45/4 ewt_bias 35/4");
    /* 09:30: C5 (answered, still talking) and C10 (waiting past target). */
    CHECK(f->r, CELL("all", 1800),
          "offered 2 refused 0 answered 1 answered_in_target 0 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 waiting 1 waiting_past_target 1 escalated 1 "
          "service_level 0 sl_offered 0 sl_answered_abandoned 0 sl_short_excluded 0 "
          "answer_rate 1/2 abandon_rate 0 "
          "asa 60 average_wait 630 longest_wait 1200 average_abandon_wait - "
          "aht - average_talk - average_hold - average_wrapup - handled 0 "
          "callbacks_requested 1 callbacks_made 0 "
          "offers 2 offers_accepted 1 offers_rejected 0 offers_no_answer 0 "
          "time_available 1500 time_busy 2100 time_wrapup 300 time_away 1500 "
          "time_staffed 5400 occupancy 2400/3900 utilisation 2400/5400 "
          "contacts_per_hour 2/0.5 ewt_error 40 ewt_bias -40");
}

TEST(by_queue)
{
    RUN_BY(REPORT_BY_QUEUE);
    CHECK(f->r, TOTAL("sales"),
          "offered 10 refused 0 answered 5 answered_in_target 3 abandoned 3 abandoned_short 2 "
          "abandoned_after_target 1 overflowed 1 transferred 0 timed_out 0 waiting 1 "
          "waiting_past_target 1 escalated 2 "
          "service_level 3/7 sl_offered 3/10 sl_answered_abandoned 3/7 sl_short_excluded 3/8 "
          "answer_rate 5/10 abandon_rate 1/8 "
          "asa 145/5 average_wait 1447/10 longest_wait 1200 average_abandon_wait 52/3 "
          "aht 870/4 average_talk 720/4 average_hold 30/4 average_wrapup 150/4 handled 4 "
          "callbacks_requested 2 callbacks_made 1 " NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 10 ewt_error 80/4 ewt_bias 0");
    CHECK(f->r, TOTAL("support"),
          "offered 1 refused 0 answered 1 answered_in_target 1 " NO_ABANDONS
          "overflowed 0 transferred 1 timed_out 0 " NO_WAITING
          "service_level 1 sl_offered 1 sl_answered_abandoned 1 sl_short_excluded 1 "
          "answer_rate 1 abandon_rate 0 "
          "asa 10 average_wait 10 longest_wait 10 average_abandon_wait - "
          "aht 160 average_talk 150 average_hold 30 average_wrapup 10 handled 1 " NO_CALLBACKS
              NO_OFFERS NO_AGENT_TIME "contacts_per_hour 1 ewt_error 5 ewt_bias -5");
    /* The grand total counts every segment once, in the default policy's variant. */
    CHECK(f->r, GRAND, SEGMENTS_ALL NO_OFFERS NO_AGENT_TIME);
    const struct report_cell *cells;
    assert_int_equal(report_cells(f->r, &cells), 3);
    assert_string_equal(cells[0].group, "sales");
    assert_int_equal(cells[0].start_ms, T0);
    assert_string_equal(cells[1].group, "sales");
    assert_int_equal(cells[1].start_ms, AT(1800));
    assert_string_equal(cells[2].group, "support");
    struct report_queue_policy p;
    report_cell_policy(f->r, &cells[2], &p);
    assert_int_equal(p.variant, REPORT_SL_OFFERED);
    report_cell_policy(f->r, GRAND, &p);
    assert_int_equal(p.variant, REPORT_SL_SHORT_EXCLUDED);
}

TEST(by_agent)
{
    RUN_BY(REPORT_BY_AGENT);
    CHECK(f->r, TOTAL("ann"),
          "offered 2 refused 0 answered 2 answered_in_target 1 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 " NO_WAITING
          "service_level 1/2 sl_offered 1/2 sl_answered_abandoned 1/2 sl_short_excluded 1/2 "
          "answer_rate 1 abandon_rate 0 "
          "asa 25 average_wait 25 longest_wait 40 average_abandon_wait - "
          "aht 135 average_talk 110 average_hold 15 average_wrapup 25 handled 2 " NO_CALLBACKS
          "offers 5 offers_accepted 2 offers_rejected 1 offers_no_answer 1 "
          "time_available 1500 time_busy 900 time_wrapup 300 time_away 900 time_staffed 3600 "
          "occupancy 1200/2700 utilisation 1200/3600 "
          "contacts_per_hour 2 ewt_error 12.5 ewt_bias 12.5");
    CHECK(f->r, TOTAL("bob"),
          "offered 2 refused 0 answered 2 answered_in_target 1 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 " NO_WAITING
          "service_level 1/2 sl_offered 1/2 sl_answered_abandoned 1/2 sl_short_excluded 1/2 "
          "answer_rate 1 abandon_rate 0 "
          "asa 37.5 average_wait 37.5 longest_wait 60 average_abandon_wait - "
          "aht 240 average_talk 200 average_hold 0 average_wrapup 40 handled 1 " NO_CALLBACKS
          "offers 3 offers_accepted 2 offers_rejected 0 offers_no_answer 0 "
          "time_available 1200 time_busy 1800 time_wrapup 0 time_away 600 time_staffed 3600 "
          "occupancy 1800/3000 utilisation 1800/3600 "
          "contacts_per_hour 1 ewt_error 27.5 ewt_bias -12.5");
    CHECK(f->r, TOTAL("cy"),
          CY "offers 2 offers_accepted 2 offers_rejected 0 offers_no_answer 0");
    CHECK(f->r, GRAND,
          ANSWERED_ALL AGENT_TIME_ALL
          "offers 10 offers_accepted 6 offers_rejected 1 offers_no_answer 1 "
          "contacts_per_hour 5/3");
    /* bob's busy span crosses 09:30. */
    assert_int_equal(CELL("bob", 0)->sums.state_ms[ENGINE_AGENT_BUSY], 600000);
    assert_int_equal(CELL("bob", 1800)->sums.state_ms[ENGINE_AGENT_BUSY], 1200000);
    assert_null(TOTAL(""));
}

TEST(by_channel)
{
    RUN_BY(REPORT_BY_CHANNEL);
    CHECK(f->r, TOTAL("voice"),
          "offered 9 refused 0 answered 5 answered_in_target 3 abandoned 2 abandoned_short 1 "
          "abandoned_after_target 1 overflowed 1 transferred 1 timed_out 0 waiting 1 "
          "waiting_past_target 1 escalated 2 "
          "service_level 3/8 sl_offered 3/9 sl_answered_abandoned 3/7 sl_short_excluded 3/8 "
          "answer_rate 5/9 abandon_rate 1/8 "
          "asa 135/5 average_wait 1434/9 longest_wait 1200 average_abandon_wait 49/2 "
          "aht 670/4 average_talk 570/4 average_hold 60/4 average_wrapup 100/4 handled 4 "
          "callbacks_requested 2 callbacks_made 1 " NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 9 ewt_error 85/5 ewt_bias -5/5");
    CHECK(f->r, TOTAL("chat"),
          "offered 2 refused 0 answered 1 answered_in_target 1 abandoned 1 abandoned_short 1 "
          "abandoned_after_target 0 overflowed 0 transferred 0 timed_out 0 " NO_WAITING
          "service_level 1 sl_offered 1/2 sl_answered_abandoned 1 sl_short_excluded 1 "
          "answer_rate 1/2 abandon_rate 0 "
          "asa 20 average_wait 23/2 longest_wait 20 average_abandon_wait 3 "
          "aht 360 average_talk 300 average_hold 0 average_wrapup 60 handled 1 " NO_CALLBACKS
              NO_OFFERS NO_AGENT_TIME "contacts_per_hour 2 ewt_error - ewt_bias -");
    CHECK(f->r, GRAND, SEGMENTS_ALL NO_OFFERS NO_AGENT_TIME);
}

TEST(by_site)
{
    RUN_BY(REPORT_BY_SITE);
    CHECK(f->r, TOTAL("leeds"),
          "offered 4 refused 0 answered 4 answered_in_target 2 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 " NO_WAITING
          "service_level 2/4 sl_offered 2/4 sl_answered_abandoned 2/4 sl_short_excluded 2/4 "
          "answer_rate 1 abandon_rate 0 "
          "asa 125/4 average_wait 125/4 longest_wait 60 average_abandon_wait - "
          "aht 510/3 average_talk 420/3 average_hold 30/3 average_wrapup 90/3 handled "
          "3 " NO_CALLBACKS NO_OFFERS
          "time_available 2700 time_busy 2700 time_wrapup 300 time_away 1500 "
          "time_staffed 7200 occupancy 3000/5700 utilisation 3000/7200 "
          "contacts_per_hour 3/2 ewt_error 80/4 ewt_bias 0");
    CHECK(f->r, TOTAL("york"), CY NO_OFFERS);
    CHECK(f->r, GRAND, ANSWERED_ALL AGENT_TIME_ALL NO_OFFERS "contacts_per_hour 5/3");
}

TEST(by_disposition)
{
    RUN_BY(REPORT_BY_DISPOSITION);
    CHECK(f->r, TOTAL("sale"),
          "offered 3 refused 0 answered 3 answered_in_target 2 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 " NO_WAITING
          "service_level 2/3 sl_offered 2/3 sl_answered_abandoned 2/3 sl_short_excluded 2/3 "
          "answer_rate 1 abandon_rate 0 "
          "asa 65/3 average_wait 65/3 longest_wait 40 average_abandon_wait - "
          "aht 510/3 average_talk 420/3 average_hold 30/3 average_wrapup 90/3 handled "
          "3 " NO_CALLBACKS NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 3 ewt_error 40/3 ewt_bias 40/3");
    CHECK(f->r, TOTAL("support"),
          "offered 3 refused 0 answered 2 answered_in_target 2 " NO_ABANDONS
          "overflowed 1 transferred 1 timed_out 0 " NO_WAITING
          "service_level 2/3 sl_offered 2/3 sl_answered_abandoned 1 sl_short_excluded 2/3 "
          "answer_rate 2/3 abandon_rate 0 "
          "asa 15 average_wait 80/3 longest_wait 50 average_abandon_wait - "
          "aht 260 average_talk 225 average_hold 15 average_wrapup 35 handled 2 "
          "callbacks_requested 1 callbacks_made 1 " NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 3 ewt_error 5 ewt_bias -5");
    CHECK(f->r, TOTAL(""),
          "offered 5 refused 0 answered 1 answered_in_target 0 abandoned 3 abandoned_short 2 "
          "abandoned_after_target 1 overflowed 0 transferred 0 timed_out 0 waiting 1 "
          "waiting_past_target 1 escalated 2 "
          "service_level 0 sl_offered 0 sl_answered_abandoned 0 sl_short_excluded 0 "
          "answer_rate 1/5 abandon_rate 1/3 "
          "asa 60 average_wait 1312/5 longest_wait 1200 average_abandon_wait 52/3 "
          "aht - average_talk - average_hold - average_wrapup - handled 0 "
          "callbacks_requested 1 callbacks_made 0 " NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 5 ewt_error 40 ewt_bias -40");
    CHECK(f->r, GRAND, SEGMENTS_ALL NO_OFFERS NO_AGENT_TIME);
}

/* In every kind of group, a group's cells add up to its total, and the grand total is the
 * groups added up (each item is in one group of a kind at most). */
TEST(cells_add_up_to_totals)
{
    size_t n;
    report_figures(&n);
    for (uint8_t g = 0; g < REPORT_BY_COUNT; g++) {
        RUN_BY(g);
        const struct report_cell *cells, *totals;
        size_t n_cells = report_cells(f->r, &cells);
        size_t n_totals = report_group_totals(f->r, &totals);
        struct report_sums all = {0};
        for (size_t t = 0; t < n_totals; t++) {
            struct report_sums sum = {0};
            for (size_t c = 0; c < n_cells; c++) {
                if (strcmp(cells[c].group, totals[t].group) == 0) {
                    sum.offered += cells[c].sums.offered;
                    sum.handled += cells[c].sums.handled;
                    sum.offers += cells[c].sums.offers;
                    sum.wait_ms += cells[c].sums.wait_ms;
                    sum.state_ms[ENGINE_AGENT_BUSY] +=
                        cells[c].sums.state_ms[ENGINE_AGENT_BUSY];
                }
            }
            assert_int_equal(sum.offered, totals[t].sums.offered);
            assert_int_equal(sum.handled, totals[t].sums.handled);
            assert_int_equal(sum.offers, totals[t].sums.offers);
            assert_int_equal(sum.wait_ms, totals[t].sums.wait_ms);
            assert_int_equal(sum.state_ms[ENGINE_AGENT_BUSY],
                             totals[t].sums.state_ms[ENGINE_AGENT_BUSY]);
            all.offered += totals[t].sums.offered;
            all.offers += totals[t].sums.offers;
            if (t > 0) {
                assert_true(strcmp(totals[t - 1].group, totals[t].group) < 0);
            }
        }
        assert_int_equal(all.offered, GRAND->sums.offered);
        assert_int_equal(all.offers, GRAND->sums.offers);
        for (size_t c = 1; c < n_cells; c++) {
            int cmp = strcmp(cells[c - 1].group, cells[c].group);
            assert_true(cmp < 0 || (cmp == 0 && cells[c - 1].start_ms < cells[c].start_ms));
        }
    }
}

/* ---- No data ------------------------------------------------------------------------- */

TEST(an_empty_report_has_counts_but_no_ratios)
{
    f->spec.group = REPORT_BY_NONE;
    char err[256];
    f->r = report_new(&f->spec, err, sizeof(err));
    assert_non_null(f->r);
    const struct report_cell *cells;
    assert_int_equal(report_cells(f->r, &cells), 0);
    assert_int_equal(report_group_totals(f->r, &cells), 0);
    CHECK(f->r, GRAND,
          "offered 0 refused 0 answered 0 answered_in_target 0 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 " NO_WAITING
          "service_level - sl_offered - sl_answered_abandoned - sl_short_excluded - "
          "answer_rate - abandon_rate - asa - average_wait - longest_wait - "
          "average_abandon_wait - aht - average_talk - average_hold - average_wrapup - "
          "handled 0 " NO_CALLBACKS NO_OFFERS
          "time_available 0 time_busy 0 time_wrapup 0 time_away 0 time_staffed 0 "
          "occupancy - utilisation - contacts_per_hour 0 ewt_error - ewt_bias -");
    /* Agent groups with no staffed time have no contacts per hour. */
    f->spec.group = REPORT_BY_AGENT;
    report_free(f->r);
    f->r = report_new(&f->spec, err, sizeof(err));
    double v;
    struct report_queue_policy p;
    report_cell_policy(f->r, GRAND, &p);
    assert_false(report_value(&GRAND->sums, &p, report_figure_find("contacts_per_hour"), &v));
    assert_true(report_value(&GRAND->sums, &p, report_figure_find("time_staffed"), &v));
    assert_false(report_value(&GRAND->sums, &p, -1, &v));
    assert_false(report_value(&GRAND->sums, &p, 1000, &v));
}

TEST(a_contact_still_within_target_is_in_no_service_level)
{
    struct report_segment g = {.queue = "sales",
                               .end = REPORT_END_WAITING,
                               .entered = AT(3590),
                               .left = AT(3600),
                               .ewt_ms = -1};
    struct report_contact c = {.id = 99, .live = true, .n_segments = 1, .segments = &g};
    f->spec.group = REPORT_BY_QUEUE;
    f->r = report_new(&f->spec, NULL, 0);
    assert_int_equal(report_add_contact(f->r, &c), 0);
    CHECK(f->r, TOTAL("sales"),
          "offered 1 refused 0 answered 0 answered_in_target 0 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 0 waiting 1 waiting_past_target 0 escalated 0 "
          "service_level - sl_offered - sl_answered_abandoned - sl_short_excluded - "
          "answer_rate 0 abandon_rate 0 asa - average_wait 10 longest_wait 10 "
          "average_abandon_wait - aht - average_talk - average_hold - average_wrapup - "
          "handled 0 " NO_CALLBACKS NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 1 ewt_error - ewt_bias -");
}

TEST(refused_timed_out_and_other_ends)
{
    struct report_segment g[3] = {
        {.queue = "sales", .end = REPORT_END_REFUSED, .entered = AT(10), .left = AT(10)},
        {.queue = "sales", .end = REPORT_END_TIMED_OUT, .entered = AT(20), .left = AT(80)},
        {.queue = "sales", .end = REPORT_END_OTHER, .entered = AT(30), .left = AT(31)},
    };
    struct report_contact c[3] = {{.id = 1, .n_segments = 1, .segments = &g[0]},
                                  {.id = 2, .n_segments = 1, .segments = &g[1]},
                                  {.id = 3, .n_segments = 1, .segments = &g[2]}};
    f->spec.group = REPORT_BY_QUEUE;
    f->r = report_new(&f->spec, NULL, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(report_add_contact(f->r, &c[i]), 0);
    }
    const struct report_cell *sales = TOTAL("sales");
    CHECK(f->r, sales,
          "offered 2 refused 1 answered 0 answered_in_target 0 " NO_ABANDONS
          "overflowed 0 transferred 0 timed_out 1 " NO_WAITING
          "service_level - sl_offered 0 sl_answered_abandoned - sl_short_excluded 0 "
          "answer_rate 0 abandon_rate 0 asa - average_wait 61/2 longest_wait 60 "
          "average_abandon_wait - aht - average_talk - average_hold - average_wrapup - "
          "handled 0 " NO_CALLBACKS NO_OFFERS NO_AGENT_TIME
          "contacts_per_hour 2 ewt_error - ewt_bias -");
    assert_int_equal(sales->sums.other, 1);
}

/* ---- Filters and the period ---------------------------------------------------------- */

TEST(queue_filter_keeps_its_segments_and_offers_made_from_it)
{
    f->spec.queue = "support";
    RUN_BY(REPORT_BY_AGENT);
    const struct report_cell *cy = TOTAL("cy");
    assert_int_equal(cy->sums.offered, 1);
    assert_int_equal(cy->sums.handled, 1);
    assert_int_equal(cy->sums.offers, 1); /* C9's offer, made from support */
    /* Agent time is not divided by queue: every agent keeps their spans. */
    assert_int_equal(value_of(f->r, cy, "time_staffed"), 3600);
    const struct report_cell *ann = TOTAL("ann");
    assert_int_equal(ann->sums.offered, 0);
    assert_int_equal(ann->sums.offers, 0);
    assert_int_equal(value_of(f->r, ann, "time_staffed"), 3600);
    assert_int_equal(GRAND->sums.offered, 1);
    assert_int_equal(GRAND->sums.offers, 1);
}

TEST(channel_filter)
{
    f->spec.channel = ENGINE_CH_CHAT;
    RUN_BY(REPORT_BY_NONE);
    assert_int_equal(GRAND->sums.offered, 2); /* C3 and C6 */
    assert_int_equal(GRAND->sums.answered, 1);
    assert_int_equal(GRAND->sums.offers, 1);
    assert_int_equal(value_of(f->r, GRAND, "time_staffed"), 10800);
}

TEST(agent_filter_keeps_what_the_agent_answered)
{
    f->spec.agent = "bob";
    RUN_BY(REPORT_BY_QUEUE);
    const struct report_cell *totals;
    assert_int_equal(report_group_totals(f->r, &totals), 1);
    assert_int_equal(TOTAL("sales")->sums.offered, 2); /* C2 and C5 */
    assert_int_equal(TOTAL("sales")->sums.answered, 2);
    RUN_BY(REPORT_BY_NONE);
    assert_int_equal(GRAND->sums.offers, 3);
    assert_int_equal(value_of(f->r, GRAND, "time_staffed"), 3600);
    assert_int_equal(value_of(f->r, GRAND, "time_away"), 600);
}

TEST(segments_count_by_entry_and_spans_are_clipped)
{
    /* From 09:20: C9 (09:20:00) is in, C8 (09:16:40) is not, although it ended after. */
    f->spec.from_ms = AT(1200);
    f->spec.interval = REPORT_IV_15M;
    RUN_BY(REPORT_BY_NONE);
    assert_int_equal(GRAND->sums.offered, 4); /* S9a, S9b, S5, S10 */
    assert_int_equal(GRAND->sums.abandoned, 0);
    /* The first cell is clipped to the period but keeps its interval's label. */
    const struct report_cell *first = CELL("all", 1200);
    assert_non_null(first);
    assert_string_equal(first->label, "2026-12-07T09:15+00:00");
    assert_int_equal(first->end_ms, AT(1800));
    assert_int_equal(first->sums.period_ms, MINUTES(10));
    assert_int_equal(value_of(f->r, first, "contacts_per_hour"), 2 * 6); /* 2 in 10 min */
    /* Busy from 09:20: ann until 09:25, bob until 09:50, cy 09:40-09:55. Available: ann
     * 09:45-10:00, cy until 09:40. */
    assert_int_equal(value_of(f->r, GRAND, "time_busy"), 300 + 1800 + 900);
    assert_int_equal(value_of(f->r, GRAND, "time_available"), 900 + 1200);
}

TEST(offline_time_is_not_agent_time)
{
    RUN_BY(REPORT_BY_AGENT);
    assert_int_equal(TOTAL("bob")->sums.state_ms[ENGINE_AGENT_OFFLINE], 0);
    /* A span that is offline throughout makes no cell. */
    struct report_span off = {"dee", "york", ENGINE_AGENT_OFFLINE, "", AT(0), AT(3600)};
    assert_int_equal(report_add_span(f->r, &off), 0);
    assert_null(TOTAL("dee"));
}

TEST(away_reasons_past_sixteen_go_to_other)
{
    RUN_BY(REPORT_BY_AGENT);
    char reasons[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(reasons[i], sizeof(reasons[i]), "reason-%02d", i);
        struct report_span s = {"dee",      "york",     ENGINE_AGENT_AWAY,
                                reasons[i], AT(i * 10), AT(i * 10 + 10)};
        assert_int_equal(report_add_span(f->r, &s), 0);
    }
    const struct report_cell *dee = TOTAL("dee");
    assert_int_equal(dee->sums.n_reasons, 16);
    assert_string_equal(dee->sums.away[15].reason, "reason-15");
    assert_int_equal(dee->sums.away_other_ms, 4 * 10000);
    assert_int_equal(dee->sums.state_ms[ENGINE_AGENT_AWAY], 20 * 10000);
}

/* ---- Bounds and errors --------------------------------------------------------------- */

TEST(bad_specs_are_refused)
{
    char err[256];
    struct report_spec s = f->spec;
    s.to_ms = s.from_ms;
    assert_null(report_new(&s, err, sizeof(err)));
    assert_non_null(strstr(err, "from is not before to"));
    s = f->spec;
    s.interval = REPORT_IV_COUNT;
    assert_null(report_new(&s, err, sizeof(err)));
    assert_non_null(strstr(err, "interval"));
    s = f->spec;
    s.group = REPORT_BY_COUNT;
    assert_null(report_new(&s, err, sizeof(err)));
    assert_non_null(strstr(err, "group"));
    s = f->spec;
    s.from_ms = INT64_MIN;
    assert_null(report_new(&s, err, sizeof(err)));
    assert_non_null(strstr(err, "years"));
}

/* A report bounded to n cells takes what fits and refuses the rest, unchanged. */
TEST(max_cells_bounds_the_report)
{
    f->spec.max_cells = 2;
    f->spec.group = REPORT_BY_QUEUE;
    f->r = report_new(&f->spec, NULL, 0);
    for (int i = 0; i < 8; i++) { /* C1..C8: sales 09:00 and 09:30 */
        assert_int_equal(report_add_contact(f->r, &f->contact[i]), 0);
    }
    struct report_sums before;
    memcpy(&before, &GRAND->sums, sizeof(before)); /* padding too */
    /* C9 needs a third cell (support 09:00) beside sales 09:00, which it would also add to. */
    assert_int_equal(report_add_contact(f->r, &f->contact[8]), CD_ECAPACITY);
    const struct report_cell *cells;
    assert_int_equal(report_cells(f->r, &cells), 2);
    assert_null(TOTAL("support"));
    assert_memory_equal(&GRAND->sums, &before, sizeof(before));
    assert_int_equal(TOTAL("sales")->sums.offered, 8);
    /* C10 fits in sales 09:30. */
    assert_int_equal(report_add_contact(f->r, &f->contact[9]), 0);
    /* A span across both intervals of an agent group would need two. */
    report_free(f->r);
    f->spec.group = REPORT_BY_AGENT;
    f->spec.max_cells = 1;
    f->r = report_new(&f->spec, NULL, 0);
    struct report_span s = {"ann", "leeds", ENGINE_AGENT_AVAILABLE, "", AT(0), AT(3600)};
    assert_int_equal(report_add_span(f->r, &s), CD_ECAPACITY);
    assert_int_equal(report_cells(f->r, &cells), 0);
    assert_int_equal(report_group_totals(f->r, &cells), 0);
    assert_int_equal(GRAND->sums.state_ms[ENGINE_AGENT_AVAILABLE], 0);
    /* 0 means the default bound (100,000), not none. */
    report_free(f->r);
    f->spec.max_cells = 0;
    f->spec.interval = REPORT_IV_15M;
    f->r = report_new(&f->spec, NULL, 0);
    assert_int_equal(report_add_span(f->r, &s), 0);
    assert_int_equal(report_cells(f->r, &cells), 4);
}

/* Every allocation the report makes fails in turn: a failed call answers CD_ENOMEM and
 * leaves the report as it was, and the report reached after retrying is the same. */
TEST(out_of_memory_leaves_the_report_unchanged)
{
    RUN_BY(REPORT_BY_AGENT);
    struct report_sums want;
    memcpy(&want, &GRAND->sums, sizeof(want));
    const struct report_cell *cells;
    size_t want_cells = report_cells(f->r, &cells);
    bool failed = true;
    uint64_t nth;
    for (nth = 1; failed; nth++) {
        struct cd_alloc_fault counter, fault;
        cd_alloc_fault_start(&counter, 0, 0);
        cd_alloc_fault_start(&fault, nth, 1);
        struct report *r = report_new(&f->spec, NULL, 0);
        if (r == NULL) {
            r = report_new(&f->spec, NULL, 0);
        }
        assert_non_null(r);
        for (int i = 0; i < N_CONTACTS; i++) {
            size_t n = report_cells(r, &cells);
            int rc = report_add_contact(r, &f->contact[i]);
            if (rc != 0) {
                assert_int_equal(rc, CD_ENOMEM);
                assert_int_equal(report_cells(r, &cells), n);
                assert_int_equal(report_add_contact(r, &f->contact[i]), 0);
            }
        }
        for (size_t i = 0; i < f->n_spans; i++) {
            if (report_add_span(r, &f->span[i]) != 0) {
                assert_int_equal(report_add_span(r, &f->span[i]), 0);
            }
        }
        cd_alloc_fault_stop(&fault);
        failed = fault.failed > 0;
        assert_int_equal(report_cells(r, &cells), want_cells);
        assert_memory_equal(&report_total(r)->sums, &want, sizeof(want));
        report_free(r);
        cd_alloc_fault_stop(&counter);
        assert_int_equal(counter.live, 0);
    }
    assert_true(nth > 10); /* the report did allocate, and each allocation failed once */
}

/* ---- Drill-down ---------------------------------------------------------------------- */

#define COUNTS(n, group, start, figure) \
    report_counts(f->r, &f->contact[(n)-1], (group), (start), report_figure_find(figure))
#define ANY INT64_MIN

TEST(drill_down_by_queue)
{
    RUN_BY(REPORT_BY_QUEUE);
    assert_true(report_counts(f->r, &f->contact[8], "support", ANY, -1));
    assert_false(report_counts(f->r, &f->contact[0], "support", ANY, -1));
    assert_true(COUNTS(9, "sales", T0, "overflowed"));
    assert_false(COUNTS(9, "sales", T0, "answered"));
    assert_true(COUNTS(9, "support", T0, "answered"));
    assert_true(COUNTS(9, "support", T0, "transferred"));
    assert_true(COUNTS(9, "sales", ANY, "callbacks_requested"));
    assert_false(COUNTS(9, "support", ANY, "callbacks_requested"));
    assert_true(COUNTS(9, "sales", ANY, "callbacks_made"));
    assert_false(COUNTS(10, "sales", ANY, "callbacks_made"));
    /* Intervals: C5 entered at 09:31:40. */
    assert_false(COUNTS(5, "sales", T0, "answered"));
    assert_true(COUNTS(5, "sales", AT(1800), "answered"));
    assert_false(COUNTS(5, "sales", AT(1800), "handled"));
    assert_true(COUNTS(6, "sales", ANY, "abandoned_short"));
    assert_false(COUNTS(6, "sales", ANY, "abandoned_after_target"));
    assert_true(COUNTS(8, "sales", ANY, "abandoned_after_target"));
    assert_true(COUNTS(10, "sales", ANY, "waiting_past_target"));
    assert_true(COUNTS(10, "sales", ANY, "escalated"));
    /* sales uses "answered and abandoned": a short abandon is in neither side of it. */
    assert_true(COUNTS(1, "sales", ANY, "service_level"));
    assert_false(COUNTS(6, "sales", ANY, "service_level"));
    assert_true(COUNTS(8, "sales", ANY, "service_level"));
    assert_true(COUNTS(10, "sales", ANY, "service_level"));
    assert_true(COUNTS(6, "sales", ANY, "sl_offered"));
    assert_false(COUNTS(6, "sales", ANY, "sl_short_excluded"));
    assert_false(COUNTS(6, "sales", ANY, "abandon_rate"));
    assert_true(COUNTS(8, "sales", ANY, "abandon_rate"));
    /* Averages: the contacts whose segments went into them. */
    assert_true(COUNTS(1, "sales", ANY, "aht"));
    assert_false(COUNTS(5, "sales", ANY, "aht"));
    assert_true(COUNTS(5, "sales", ANY, "asa"));
    assert_false(COUNTS(3, "sales", ANY, "ewt_error"));
    assert_true(COUNTS(4, "sales", ANY, "ewt_error"));
    /* The longest wait: the contact that waited it. */
    assert_true(COUNTS(10, "sales", ANY, "longest_wait"));
    assert_false(COUNTS(8, "sales", ANY, "longest_wait"));
    assert_true(COUNTS(9, "support", ANY, "longest_wait"));
    assert_true(COUNTS(10, NULL, ANY, "longest_wait"));
    /* Agent time and offers are in no queue group. */
    assert_false(COUNTS(1, "sales", ANY, "time_busy"));
    assert_false(COUNTS(1, "sales", ANY, "offers"));
    assert_false(report_counts(f->r, &f->contact[0], "sales", ANY, 1000));
    assert_false(report_counts(f->r, &f->contact[0], "sales", ANY, -2));
}

TEST(drill_down_by_agent)
{
    RUN_BY(REPORT_BY_AGENT);
    /* C2 rang ann (no answer) and was answered by bob: it counts in both. */
    assert_true(COUNTS(2, "ann", ANY, "offers_no_answer"));
    assert_false(COUNTS(2, "ann", ANY, "answered"));
    assert_true(COUNTS(2, "bob", ANY, "answered"));
    assert_true(COUNTS(2, "bob", ANY, "offers_accepted"));
    assert_true(report_counts(f->r, &f->contact[1], "ann", ANY, -1));
    assert_true(report_counts(f->r, &f->contact[1], "bob", ANY, -1));
    assert_false(report_counts(f->r, &f->contact[1], "cy", ANY, -1));
    /* C6 was never with an agent; C8 rang bob. */
    assert_false(report_counts(f->r, &f->contact[5], NULL, ANY, -1));
    assert_true(report_counts(f->r, &f->contact[7], "bob", ANY, -1));
    assert_false(COUNTS(8, "bob", ANY, "offered"));
    assert_true(COUNTS(8, "bob", ANY, "offers"));
    /* Contacts per hour in agent groups counts handled contacts. */
    assert_true(COUNTS(1, "ann", ANY, "contacts_per_hour"));
    assert_false(COUNTS(5, "bob", ANY, "contacts_per_hour"));
    assert_true(COUNTS(10, "ann", AT(1800), "offers"));
    assert_false(COUNTS(10, "ann", T0, "offers"));
}

TEST(drill_down_ignores_what_the_report_leaves_out)
{
    f->spec.from_ms = AT(1800);
    RUN_BY(REPORT_BY_NONE);
    assert_false(report_counts(f->r, &f->contact[0], NULL, ANY, -1));
    assert_true(report_counts(f->r, &f->contact[4], NULL, ANY, -1));
    assert_true(report_counts(f->r, &f->contact[4], "all", AT(1800), -1));
    f->spec.channel = ENGINE_CH_CHAT;
    RUN_BY(REPORT_BY_NONE);
    assert_false(report_counts(f->r, &f->contact[4], NULL, ANY, -1));
}

/* Feeding after reading: cells sorted for reading are found again and stay sorted. */
TEST(read_then_feed_again)
{
    f->spec.group = REPORT_BY_QUEUE;
    f->r = report_new(&f->spec, NULL, 0);
    for (int i = N_CONTACTS - 1; i >= 0; i--) {
        assert_int_equal(report_add_contact(f->r, &f->contact[i]), 0);
        const struct report_cell *cells;
        size_t n = report_cells(f->r, &cells);
        for (size_t c = 1; c < n; c++) {
            int cmp = strcmp(cells[c - 1].group, cells[c].group);
            assert_true(cmp < 0 || (cmp == 0 && cells[c - 1].start_ms < cells[c].start_ms));
        }
    }
    assert_int_equal(TOTAL("sales")->sums.offered, 10);
    assert_int_equal(CELL("sales", 0)->sums.offered, 8);
    assert_int_equal(CELL("sales", 1800)->sums.offered, 2);
}

/* Group values are the report's own copies. */
TEST(group_values_are_copied)
{
    char queue[16], agent[16];
    snprintf(queue, sizeof(queue), "returns");
    snprintf(agent, sizeof(agent), "eve");
    struct report_segment g = {.queue = queue,
                               .end = REPORT_END_ANSWERED,
                               .entered = AT(5),
                               .left = AT(6),
                               .ewt_ms = -1,
                               .agent = agent,
                               .site = "york"};
    struct report_contact c = {.id = 1, .n_segments = 1, .segments = &g};
    f->spec.group = REPORT_BY_QUEUE;
    f->r = report_new(&f->spec, NULL, 0);
    assert_int_equal(report_add_contact(f->r, &c), 0);
    memset(queue, 'x', sizeof(queue) - 1);
    assert_non_null(TOTAL("returns"));
    assert_string_equal(CELL("returns", 0)->group, "returns");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(everything_in_one_group, setup, teardown),
        cmocka_unit_test_setup_teardown(two_intervals_of_thirty_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(by_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(by_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(by_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(by_site, setup, teardown),
        cmocka_unit_test_setup_teardown(by_disposition, setup, teardown),
        cmocka_unit_test_setup_teardown(cells_add_up_to_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(an_empty_report_has_counts_but_no_ratios, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_contact_still_within_target_is_in_no_service_level,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(refused_timed_out_and_other_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_filter_keeps_its_segments_and_offers_made_from_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(channel_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_filter_keeps_what_the_agent_answered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(segments_count_by_entry_and_spans_are_clipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(offline_time_is_not_agent_time, setup, teardown),
        cmocka_unit_test_setup_teardown(away_reasons_past_sixteen_go_to_other, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_specs_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(max_cells_bounds_the_report, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory_leaves_the_report_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(drill_down_by_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(drill_down_by_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(drill_down_ignores_what_the_report_leaves_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(read_then_feed_again, setup, teardown),
        cmocka_unit_test_setup_teardown(group_values_are_copied, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
