/* The shipped sample model, end to end: ops/sample-model.yaml is parsed by config/,
 * installed in an engine with every agent logged in, and contacts on all four channels are
 * routed at chosen local times. Each assertion is a decision an operator reading the YAML
 * would expect: VIP calls ring the VIP group, sales calls outside the sales hours (Sunday,
 * Christmas Day, Christmas Eve afternoon) overflow to the night site, web support chat is
 * answered around the clock while an overnight sales chat is offered a call back, SMS from
 * outside the UK and Ireland is refused, urgent email is prioritised. The contingency model
 * its runbooks install (ops/contingency-model.yaml) loads, and differs from it only in the
 * two sales queues' waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"
#include "engine/engine.h"

/* Instants (ms since the epoch, UTC; London is on GMT in November and December). */
#define TUE_1000 1795514400000LL  /* Tuesday 2026-11-24 10:00 */
#define TUE_2330 1795563000000LL  /* Tuesday 2026-11-24 23:30 */
#define SUN_1000 1795946400000LL  /* Sunday 2026-11-29 10:00 */
#define EVE_1200 1798113600000LL  /* Thursday 2026-12-24 12:00, Christmas Eve */
#define EVE_1400 1798120800000LL  /* Christmas Eve 14:00, after the short day */
#define XMAS_1000 1798192800000LL /* Friday 2026-12-25 10:00, Christmas Day */

#define MAX_FX 512

struct seen
{
    uint8_t kind;
    uint8_t state;
    uint64_t contact;
    uint64_t offer;
    char agent[ENGINE_NAME_MAX];
    char queue[ENGINE_NAME_MAX];
    char text[ENGINE_TARGET_MAX];
};

struct fixture
{
    struct config_model cm;
    struct engine *e;
    struct seen fx[MAX_FX];
    size_t n_fx;
    int64_t now;
    uint64_t contact;
};

static void collect(void *data, const struct engine_effect *fx)
{
    struct fixture *f = data;
    if (f->n_fx == MAX_FX) {
        return;
    }
    struct seen *s = &f->fx[f->n_fx++];
    memset(s, 0, sizeof(*s));
    s->kind = fx->kind;
    s->state = fx->state;
    s->contact = fx->contact;
    s->offer = fx->offer;
    snprintf(s->agent, sizeof(s->agent), "%s", fx->agent ? fx->agent : "");
    snprintf(s->queue, sizeof(s->queue), "%s", fx->queue ? fx->queue : "");
    snprintf(s->text, sizeof(s->text), "%s", fx->text ? fx->text : "");
}

static int apply(struct fixture *f, const struct engine_command *cmd)
{
    struct engine_sink sink = {collect, f};
    struct engine_result res;
    int rv = engine_apply(f->e, cmd, f->now, &res, &sink);
    f->contact = res.contact;
    return rv;
}

static int setup(void **state)
{
    static struct fixture f;
    char err[512];
    memset(&f, 0, sizeof(f));
    config_model_init(&f.cm);
    int rv = config_model_load(CD_SOURCE_DIR "/ops/sample-model.yaml", &f.cm, err, sizeof(err));
    if (rv != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_model_close(&f->cm);
    return 0;
}

/* A fresh engine at `now` with the sample model and every agent available. */
static void open_centre(struct fixture *f, int64_t now)
{
    assert_int_equal(engine_new(&f->e), 0);
    f->now = now;
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
    cmd.u.install.version = 1;
    cmd.u.install.model = &f->cm.model;
    assert_int_equal(apply(f, &cmd), 0);
    for (uint32_t i = 0; i < f->cm.model.n_agents; i++) {
        struct engine_command login = {.kind = ENGINE_CMD_AGENT_LOGIN};
        login.u.agent.name = f->cm.model.agents[i].name;
        login.u.agent.presence = ENGINE_PRESENCE_AVAILABLE;
        assert_int_equal(apply(f, &login), 0);
    }
    f->n_fx = 0;
}

static void close_centre(struct fixture *f)
{
    char err[256];
    assert_int_equal(engine_check(f->e, err, sizeof(err)), 0);
    engine_free(f->e);
    f->e = NULL;
}

/* Creates a contact through the rules with up to three attributes ("key=value"). */
static uint64_t arrive(struct fixture *f,
                       uint8_t channel,
                       int16_t priority,
                       const char *a1,
                       const char *a2,
                       const char *a3)
{
    const char *given[] = {a1, a2, a3};
    char keys[3][ENGINE_KEY_MAX], values[3][ENGINE_VALUE_MAX];
    struct engine_attr attrs[3];
    uint8_t n = 0;
    for (int i = 0; i < 3; i++) {
        if (given[i] == NULL) {
            continue;
        }
        const char *eq = strchr(given[i], '=');
        assert_non_null(eq);
        snprintf(keys[n], sizeof(keys[n]), "%.*s", (int)(eq - given[i]), given[i]);
        snprintf(values[n], sizeof(values[n]), "%s", eq + 1);
        attrs[n] = (struct engine_attr){keys[n], values[n]};
        n++;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    cmd.u.create.channel = channel;
    cmd.u.create.priority = priority;
    cmd.u.create.n_attrs = n;
    cmd.u.create.attrs = attrs;
    assert_int_equal(apply(f, &cmd), 0);
    return f->contact;
}

static const struct seen *find(const struct fixture *f, uint8_t kind, uint64_t contact)
{
    for (size_t i = 0; i < f->n_fx; i++) {
        if (f->fx[i].kind == kind && f->fx[i].contact == contact) {
            return &f->fx[i];
        }
    }
    return NULL;
}

static int skill_level(const struct engine_agent_info *a, const char *skill)
{
    for (uint8_t i = 0; i < a->n_skills; i++) {
        if (strcmp(a->skills[i].skill, skill) == 0) {
            return a->skills[i].level;
        }
    }
    return 0;
}

static void assert_ended(struct fixture *f, uint64_t id, uint8_t outcome, const char *why)
{
    const struct seen *end = find(f, ENGINE_FX_ENDED, id);
    assert_non_null(end);
    assert_int_equal(end->state, outcome);
    assert_string_equal(end->text, why);
}

/* The contact was offered from `queue` to an agent holding `skill` at `level` or more. */
static void assert_offered(struct fixture *f,
                           uint64_t id,
                           const char *queue,
                           const char *skill,
                           int level)
{
    const struct seen *offer = find(f, ENGINE_FX_OFFER, id);
    assert_non_null(offer);
    assert_string_equal(offer->queue, queue);
    struct engine_agent_info a;
    assert_int_equal(engine_agent_get(f->e, offer->agent, &a), 0);
    assert_true(skill_level(&a, skill) >= level);
}

static void vip_call_rings_the_vip_group(void **state)
{
    struct fixture *f = *state;
    open_centre(f, TUE_1000);
    uint64_t id = arrive(f, ENGINE_CH_VOICE, 0, "tier=vip", NULL, NULL);
    struct engine_contact_info c;
    assert_int_equal(engine_contact_get(f->e, id, &c), 0);
    assert_int_equal(c.state, ENGINE_CONTACT_OFFERED);
    assert_string_equal(c.queue, "vip-voice");
    assert_int_equal(c.priority, 10);
    size_t rung = 0;
    for (size_t i = 0; i < f->n_fx; i++) {
        if (f->fx[i].kind == ENGINE_FX_OFFER && f->fx[i].contact == id) {
            struct engine_agent_info a;
            assert_int_equal(f->fx[i].offer, c.offer);
            assert_int_equal(engine_agent_get(f->e, f->fx[i].agent, &a), 0);
            assert_true(skill_level(&a, "vip") >= 5);
            rung++;
        }
    }
    assert_true(rung >= 2); /* ring-all: the whole ready VIP group at once */
    char why[512];
    assert_int_equal(engine_explain(f->e, id, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "rule 'vip'"));
    close_centre(f);
}

static void sales_call_in_hours_reaches_a_sales_agent(void **state)
{
    struct fixture *f = *state;
    open_centre(f, TUE_1000);
    uint64_t id = arrive(f, ENGINE_CH_VOICE, 0, "intent=sales", NULL, NULL);
    assert_offered(f, id, "sales-voice", "sales", 4);
    close_centre(f);
}

static void sales_call_on_sunday_overflows_to_night_site(void **state)
{
    struct fixture *f = *state;
    open_centre(f, SUN_1000);
    uint64_t id = arrive(f, ENGINE_CH_VOICE, 0, "intent=sales", NULL, NULL);
    assert_ended(f, id, ENGINE_CONTACT_OVERFLOWED, "sip:sales-night@overflow.example.net");
    close_centre(f);
}

static void christmas_day_is_closed_for_sales(void **state)
{
    struct fixture *f = *state;
    open_centre(f, XMAS_1000);
    uint64_t id = arrive(f, ENGINE_CH_VOICE, 0, "intent=sales", NULL, NULL);
    assert_ended(f, id, ENGINE_CONTACT_OVERFLOWED, "sip:sales-night@overflow.example.net");
    close_centre(f);
}

static void christmas_eve_closes_at_one(void **state)
{
    struct fixture *f = *state;
    open_centre(f, EVE_1200);
    uint64_t noon = arrive(f, ENGINE_CH_VOICE, 0, "intent=sales", NULL, NULL);
    assert_offered(f, noon, "sales-voice", "sales", 4);
    f->now = EVE_1400;
    uint64_t late = arrive(f, ENGINE_CH_VOICE, 0, "intent=sales", NULL, NULL);
    assert_ended(f, late, ENGINE_CONTACT_OVERFLOWED, "sip:sales-night@overflow.example.net");
    close_centre(f);
}

static void overnight_chat_is_answered_sales_offered_a_callback(void **state)
{
    struct fixture *f = *state;
    open_centre(f, TUE_2330);
    uint64_t help = arrive(f, ENGINE_CH_CHAT, 0, "source=web-help", NULL, NULL);
    assert_offered(f, help, "support-chat", "support", 2);
    /* the sales chat team starts at 07:00: support takes it (the customer would be offered a
     * call back from sales if it had to wait) */
    uint64_t sales = arrive(f, ENGINE_CH_CHAT, 0, "topic=sales", NULL, NULL);
    assert_offered(f, sales, "support-chat", "support", 2);
    char why[1024];
    assert_int_equal(engine_explain(f->e, sales, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "sales-chat-overnight"));
    close_centre(f);
}

static void daytime_web_chat_is_tagged_and_routed(void **state)
{
    struct fixture *f = *state;
    open_centre(f, TUE_1000);
    uint64_t id = arrive(f, ENGINE_CH_CHAT, 0, "source=web-help", NULL, NULL);
    assert_offered(f, id, "support-chat", "support", 2);
    struct engine_contact_info c;
    assert_int_equal(engine_contact_get(f->e, id, &c), 0);
    bool tagged = false;
    for (uint8_t i = 0; i < c.n_attrs; i++) {
        tagged |=
            strcmp(c.attrs[i].key, "segment") == 0 && strcmp(c.attrs[i].value, "digital") == 0;
    }
    assert_true(tagged);
    close_centre(f);
}

static void sms_from_outside_uk_is_refused(void **state)
{
    struct fixture *f = *state;
    open_centre(f, TUE_1000);
    uint64_t us = arrive(f, ENGINE_CH_SMS, 0, "location=US-NY", NULL, NULL);
    assert_ended(f, us, ENGINE_CONTACT_REJECTED, "unsupported_region");
    uint64_t gb = arrive(f, ENGINE_CH_SMS, 0, "location=GB-LND", NULL, NULL);
    assert_offered(f, gb, "support-sms", "support", 2);
    close_centre(f);
}

static void urgent_email_is_prioritised(void **state)
{
    struct fixture *f = *state;
    open_centre(f, TUE_1000);
    uint64_t id = arrive(f, ENGINE_CH_EMAIL, 7, NULL, NULL, NULL);
    struct engine_contact_info c;
    assert_int_equal(engine_contact_get(f->e, id, &c), 0);
    assert_string_equal(c.queue, "billing-email");
    assert_int_equal(c.priority, 5);
    char why[512];
    assert_int_equal(engine_explain(f->e, id, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "rule 'urgent-email'"));
    close_centre(f);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[2][1 << 16];
    static int which;
    char *b = buf[which++ % 2];
    *len = fread(b, 1, sizeof(buf[0]) - 1, fp);
    b[*len] = 0;
    fclose(fp);
    return b;
}

static void the_contingency_model_differs_only_in_the_sales_waits(void **state)
{
    struct fixture *f = *state;
    struct config_model cm;
    char err[512], *diff = NULL;
    config_model_init(&cm);
    int rv =
        config_model_load(CD_SOURCE_DIR "/ops/contingency-model.yaml", &cm, err, sizeof(err));
    if (rv != 0) {
        fail_msg("%s", err);
    }
    assert_int_equal(cm.model.n_agents, f->cm.model.n_agents);
    assert_int_equal(cm.model.n_runbooks, f->cm.model.n_runbooks);
    config_model_close(&cm);
    size_t a_len, b_len;
    const char *a = slurp(CD_SOURCE_DIR "/ops/sample-model.yaml", &a_len);
    const char *b = slurp(CD_SOURCE_DIR "/ops/contingency-model.yaml", &b_len);
    assert_int_equal(config_model_diff(a, a_len, b, b_len, &diff, err, sizeof(err)), 0);
    assert_string_equal(diff,
                        "~ queues.sales-voice.max_wait: 15m -> 3m\n"
                        "~ queues.sales-backup.max_wait: 10m -> 5m\n");
    free(diff);
    /* and the runbooks name it */
    bool named = false;
    for (uint32_t i = 0; i < f->cm.model.n_runbooks; i++) {
        const struct engine_runbook_def *d = &f->cm.model.runbooks[i];
        for (uint32_t k = 0; k < d->n_actions; k++) {
            named = named || (d->actions[k].kind == ENGINE_DO_MODEL &&
                              strcmp(d->actions[k].arg, "contingency") == 0);
        }
    }
    assert_true(named);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vip_call_rings_the_vip_group),
        cmocka_unit_test(sales_call_in_hours_reaches_a_sales_agent),
        cmocka_unit_test(sales_call_on_sunday_overflows_to_night_site),
        cmocka_unit_test(christmas_day_is_closed_for_sales),
        cmocka_unit_test(christmas_eve_closes_at_one),
        cmocka_unit_test(overnight_chat_is_answered_sales_offered_a_callback),
        cmocka_unit_test(daytime_web_chat_is_tagged_and_routed),
        cmocka_unit_test(sms_from_outside_uk_is_refused),
        cmocka_unit_test(urgent_email_is_prioritised),
        cmocka_unit_test(the_contingency_model_differs_only_in_the_sales_waits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
