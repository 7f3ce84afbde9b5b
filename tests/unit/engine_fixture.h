/* Shared fixture of the engine unit tests: builds a routing model in code, drives an engine
 * on virtual time and records every effect it emits.
 *
 * Every test function gets `struct fixture *f`; the macros below assume that name, so a
 * test reads like a script:
 *
 *     MODEL_INSTALL;
 *     LOGIN("a1");
 *     uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
 *     ASSERT_OFFERED(id, "a1");
 *     ACCEPT(OFFER_OF(id), "a1");
 *     ASSERT_STATE(id, CONNECTED);
 *
 * Effects are copied in the sink (their strings are borrowed only for the callback). After
 * every command the fixture runs engine_check(), so each test also checks the invariants
 * at every step. */
#ifndef CD_TESTS_ENGINE_FIXTURE_H
#define CD_TESTS_ENGINE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine/engine.h"

/* Monday 2026-01-05 09:00:00Z, in ms: a working day in winter (UTC == London time). */
#define FX_DAY_MS ((int64_t)86400000)
#define FX_DAYS_2026_01_05 20458
#define FX_T0 ((int64_t)FX_DAYS_2026_01_05 * FX_DAY_MS + 9 * (int64_t)3600000)
#define FX_SEC ((int64_t)1000)
#define FX_EFFECTS_MAX 4096

/* ---- Recorded effects --------------------------------------------------------------- */

struct fx_effect
{
    uint8_t kind;
    uint8_t channel;
    uint8_t state;
    uint8_t step;
    uint64_t contact;
    uint64_t offer;
    char agent[ENGINE_NAME_MAX];
    char queue[ENGINE_NAME_MAX];
    char text[ENGINE_TARGET_MAX];
    int64_t at;
    int64_t ewt_ms;
    bool has_history;
    struct engine_history h; /* string pointers point at the copies below */
    char h_queue[ENGINE_NAME_MAX];
    char h_agent[ENGINE_NAME_MAX];
    char h_reason[ENGINE_TARGET_MAX];
    char home[ENGINE_NAME_MAX];
    char session[ENGINE_SESSION_MAX];
    char old_home[ENGINE_NAME_MAX];
    char object[ENGINE_TARGET_MAX];
    char action[ENGINE_NAME_MAX];
    uint32_t seq; /* MESSAGE */
    uint8_t side;
    char msg_id[ENGINE_MSG_ID_MAX];
    char h_key[ENGINE_VALUE_MAX * 2];
    char h_disposition[ENGINE_VALUE_MAX];
    char h_notes[ENGINE_NOTES_MAX];
    char h_attrs[ENGINE_ATTRS_MAX][2][ENGINE_VALUE_MAX];
    uint8_t *h_transcript; /* malloc'd copy of the history's transcript, or NULL */
    uint8_t *h_path;       /* malloc'd copy of the history's path, or NULL */
};

struct fixture
{
    struct engine *e;
    struct engine_model m;
    uint32_t version;
    int64_t now;
    struct fx_effect *fx; /* every effect since setup */
    size_t n_fx;
    size_t mark; /* first effect of the last command */
    struct engine_result res;
    bool check; /* run engine_check() after every command */
    void *user; /* a second engine etc., owned by the test */
    /* When set, every command the helpers below issue goes here instead of to
     * fx_apply_now(): a test can then single one command out (the out-of-memory tests run
     * it under fault injection). */
    int (*apply_hook)(struct fixture *f, const struct engine_command *c);
};

static inline void fx_copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src != NULL ? src : "");
}

/* The parts of a history that point into the engine: copied like the rest. */
static inline void fx_copy_history(struct fx_effect *y, const struct engine_history *h)
{
    fx_copy_str(y->h_key, sizeof(y->h_key), h->key);
    fx_copy_str(y->h_disposition, sizeof(y->h_disposition), h->disposition);
    fx_copy_str(y->h_notes, sizeof(y->h_notes), h->notes);
    for (uint8_t i = 0; i < h->n_attrs; i++) {
        fx_copy_str(y->h_attrs[i][0], ENGINE_VALUE_MAX, h->attrs[i].key);
        fx_copy_str(y->h_attrs[i][1], ENGINE_VALUE_MAX, h->attrs[i].value);
    }
    if (h->transcript.len > 0) {
        y->h_transcript = malloc(h->transcript.len);
        assert_non_null(y->h_transcript);
        memcpy(y->h_transcript, h->transcript.data, h->transcript.len);
    }
    if (h->path.len > 0) {
        y->h_path = malloc(h->path.len);
        assert_non_null(y->h_path);
        memcpy(y->h_path, h->path.data, h->path.len);
    }
}

/* Points a copied history's strings at the effect's own copies. */
static inline void fx_fix_history(struct fx_effect *y)
{
    y->h.key = y->h_key;
    y->h.disposition = y->h_disposition;
    y->h.notes = y->h_notes;
    for (uint8_t i = 0; i < y->h.n_attrs; i++) {
        y->h.attrs[i].key = y->h_attrs[i][0];
        y->h.attrs[i].value = y->h_attrs[i][1];
    }
    y->h.transcript.data = y->h_transcript;
    y->h.path.data = y->h_path;
}

static inline void fx_emit(void *data, const struct engine_effect *x)
{
    struct fixture *f = data;
    assert_true(f->n_fx < FX_EFFECTS_MAX);
    struct fx_effect *y = &f->fx[f->n_fx++];
    free(y->h_transcript); /* left by an effect this slot held before the test reset it */
    free(y->h_path);
    memset(y, 0, sizeof(*y));
    y->kind = x->kind;
    y->channel = x->channel;
    y->state = x->state;
    y->step = x->step;
    y->contact = x->contact;
    y->offer = x->offer;
    fx_copy_str(y->agent, sizeof(y->agent), x->agent);
    fx_copy_str(y->queue, sizeof(y->queue), x->queue);
    fx_copy_str(y->text, sizeof(y->text), x->text);
    y->at = x->at;
    y->ewt_ms = x->ewt_ms;
    fx_copy_str(y->home, sizeof(y->home), x->home);
    fx_copy_str(y->session, sizeof(y->session), x->session);
    fx_copy_str(y->old_home, sizeof(y->old_home), x->old_home);
    fx_copy_str(y->object, sizeof(y->object), x->object);
    fx_copy_str(y->action, sizeof(y->action), x->action);
    y->seq = x->seq;
    y->side = x->side;
    fx_copy_str(y->msg_id, sizeof(y->msg_id), x->msg_id);
    if (x->history != NULL) {
        fx_copy_history(y, x->history);
    }
    if (x->history != NULL) {
        y->has_history = true;
        y->h = *x->history;
        fx_copy_str(y->h_queue, sizeof(y->h_queue), x->history->queue);
        fx_copy_str(y->h_agent, sizeof(y->h_agent), x->history->agent);
        fx_copy_str(y->h_reason, sizeof(y->h_reason), x->history->reason);
        y->h.queue = y->h_queue;
        y->h.agent = y->h_agent;
        y->h.reason = y->h_reason;
        fx_fix_history(y);
    }
}

/* ---- Setup and teardown ------------------------------------------------------------- */

static inline int fx_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->fx = calloc(FX_EFFECTS_MAX, sizeof(*f->fx));
    assert_non_null(f->fx);
    assert_int_equal(engine_new(&f->e), 0);
    engine_model_init(&f->m);
    f->now = FX_T0;
    f->check = true;
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    struct fixture *f = *state;
    engine_free(f->e);
    engine_model_close(&f->m);
    for (size_t i = 0; i < FX_EFFECTS_MAX; i++) {
        free(f->fx[i].h_transcript);
        free(f->fx[i].h_path);
    }
    free(f->fx);
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

#define FX_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ---- Building the model ------------------------------------------------------------- */

static inline void *fx_grow(void *p, uint32_t n, size_t size)
{
    char *q = realloc(p, (n + 1) * size);
    assert_non_null(q);
    memset(q + n * size, 0, size);
    return q;
}

static inline uint16_t fx_skill(struct fixture *f, const char *name)
{
    for (uint32_t i = 0; i < f->m.n_skills; i++) {
        if (strcmp(f->m.skills[i].s, name) == 0) {
            return (uint16_t)i;
        }
    }
    f->m.skills = fx_grow(f->m.skills, f->m.n_skills, sizeof(*f->m.skills));
    fx_copy_str(f->m.skills[f->m.n_skills].s, ENGINE_NAME_MAX, name);
    return (uint16_t)f->m.n_skills++;
}

static inline int32_t fx_queue_index(struct fixture *f, const char *name)
{
    for (uint32_t i = 0; i < f->m.n_queues; i++) {
        if (strcmp(f->m.queues[i].name, name) == 0) {
            return (int32_t)i;
        }
    }
    fail_msg("no queue '%s' in the test model", name);
    return -1;
}

/* A queue with defaults: SL 80 % in 20 s, no size or wait limit, ring 20 s, no wrap-up,
 * always open, no overflow. */
static inline int32_t fx_queue(struct fixture *f,
                               const char *name,
                               uint8_t channels,
                               uint8_t strategy)
{
    f->m.queues = fx_grow(f->m.queues, f->m.n_queues, sizeof(*f->m.queues));
    struct engine_queue *q = &f->m.queues[f->m.n_queues];
    fx_copy_str(q->name, sizeof(q->name), name);
    q->channels = channels;
    q->strategy = strategy;
    q->sl_target_s = 20;
    q->sl_percent = 80;
    q->hours = -1;
    q->overflow_queue = -1;
    return (int32_t)f->m.n_queues++;
}

#define Q(name) (&f->m.queues[fx_queue_index(f, (name))])

static inline void fx_queue_skill(struct fixture *f,
                                  const char *queue,
                                  const char *skill,
                                  uint8_t level)
{
    uint16_t s = fx_skill(f, skill);
    struct engine_queue *q = Q(queue);
    q->skills[q->n_skills].skill = s;
    q->skills[q->n_skills++].level = level;
}

static inline struct engine_escalation *fx_step(struct fixture *f,
                                                const char *queue,
                                                uint32_t after_s)
{
    struct engine_queue *q = Q(queue);
    struct engine_escalation *s = &q->steps[q->n_steps++];
    s->after_s = after_s;
    return s;
}

static inline struct engine_agent_def *fx_agent_def(struct fixture *f, const char *name)
{
    for (uint32_t i = 0; i < f->m.n_agents; i++) {
        if (strcmp(f->m.agents[i].name, name) == 0) {
            return &f->m.agents[i];
        }
    }
    fail_msg("no agent '%s' in the test model", name);
    return NULL;
}

#define A(name) fx_agent_def(f, (name))

/* An agent at site "lon" with capacity voice 1, email 5, sms 3, chat 3 serving the queues
 * listed (NULL-terminated). */
static inline void fx_agent(struct fixture *f, const char *name, ...)
{
    f->m.agents = fx_grow(f->m.agents, f->m.n_agents, sizeof(*f->m.agents));
    struct engine_agent_def *a = &f->m.agents[f->m.n_agents++];
    fx_copy_str(a->name, sizeof(a->name), name);
    fx_copy_str(a->site, sizeof(a->site), "lon");
    a->capacity[ENGINE_CH_VOICE] = 1;
    a->capacity[ENGINE_CH_EMAIL] = 5;
    a->capacity[ENGINE_CH_SMS] = 3;
    a->capacity[ENGINE_CH_CHAT] = 3;
    va_list ap;
    va_start(ap, name);
    for (const char *q = va_arg(ap, const char *); q != NULL; q = va_arg(ap, const char *)) {
        a->queues[a->n_queues++] = (uint16_t)fx_queue_index(f, q);
    }
    va_end(ap);
}

#define AGENT(...) fx_agent(f, __VA_ARGS__, (const char *)NULL)

static inline void fx_agent_skill(struct fixture *f,
                                  const char *agent,
                                  const char *skill,
                                  uint8_t level)
{
    uint16_t s = fx_skill(f, skill);
    struct engine_agent_def *a = A(agent);
    a->skills[a->n_skills].skill = s;
    a->skills[a->n_skills++].level = level;
}

/* A rule whose action is of `kind` towards `queue` (NULL: no queue). */
static inline uint32_t fx_rule(struct fixture *f,
                               const char *name,
                               uint8_t kind,
                               const char *queue)
{
    f->m.rules = fx_grow(f->m.rules, f->m.n_rules, sizeof(*f->m.rules));
    struct engine_rule *r = &f->m.rules[f->m.n_rules];
    fx_copy_str(r->name, sizeof(r->name), name);
    r->action.kind = kind;
    r->action.queue = queue != NULL ? fx_queue_index(f, queue) : -1;
    return f->m.n_rules++;
}

#define RULE(i) (&f->m.rules[(i)])

/* A condition added to rule r: zone UTC, queue of the rule's action. */
static inline struct engine_condition *fx_cond(struct fixture *f, uint32_t r, uint8_t kind)
{
    struct engine_rule *rule = &f->m.rules[r];
    rule->conds = fx_grow(rule->conds, rule->n_conds, sizeof(*rule->conds));
    struct engine_condition *c = &rule->conds[rule->n_conds++];
    c->kind = kind;
    c->zone = -1;
    c->queue = -1;
    return c;
}

static inline void fx_cond_value(struct engine_condition *c, const char *v)
{
    fx_copy_str(c->values[c->n_values++], ENGINE_VALUE_MAX, v);
}

static inline uint32_t fx_zone(struct fixture *f, const char *name, int32_t base)
{
    f->m.zones = fx_grow(f->m.zones, f->m.n_zones, sizeof(*f->m.zones));
    struct engine_zone *z = &f->m.zones[f->m.n_zones];
    fx_copy_str(z->name, sizeof(z->name), name);
    z->base_offset = base;
    return f->m.n_zones++;
}

static inline void fx_zone_transition(struct fixture *f, uint32_t zone, int64_t at, int32_t off)
{
    struct engine_zone *z = &f->m.zones[zone];
    z->transitions = fx_grow(z->transitions, z->n_transitions, sizeof(*z->transitions));
    z->transitions[z->n_transitions].at = at;
    z->transitions[z->n_transitions++].offset = off;
}

static inline uint32_t fx_hours(struct fixture *f, const char *name, uint32_t zone)
{
    f->m.hours = fx_grow(f->m.hours, f->m.n_hours, sizeof(*f->m.hours));
    struct engine_hours *h = &f->m.hours[f->m.n_hours];
    fx_copy_str(h->name, sizeof(h->name), name);
    h->zone = zone;
    return f->m.n_hours++;
}

static inline void fx_day_add(struct engine_day_hours *d, uint16_t from_min, uint16_t to_min)
{
    d->iv[d->n].from_min = from_min;
    d->iv[d->n++].to_min = to_min;
}

/* A holiday on a local date; the caller adds intervals to the returned day (none = closed). */
static inline struct engine_day_hours *fx_holiday(struct fixture *f,
                                                  uint32_t hours,
                                                  int32_t date)
{
    struct engine_hours *h = &f->m.hours[hours];
    h->holidays = fx_grow(h->holidays, h->n_holidays, sizeof(*h->holidays));
    h->holidays[h->n_holidays].date = date;
    return &h->holidays[h->n_holidays++].hours;
}

/* ---- Driving the engine ------------------------------------------------------------- */

static inline void fx_check(struct fixture *f, uint8_t kind)
{
    if (!f->check) {
        return;
    }
    char err[512] = "";
    int rc = engine_check(f->e, err, sizeof(err));
    if (rc != 0) {
        fail_msg("engine_check after command %d at %lld: %s (%d)", kind, (long long)f->now, err,
                 rc);
    }
}

static inline int fx_apply_now(struct fixture *f, const struct engine_command *c)
{
    struct engine_sink sink = {fx_emit, f};
    f->mark = f->n_fx;
    memset(&f->res, 0, sizeof(f->res));
    int rc = engine_apply(f->e, c, f->now, &f->res, &sink);
    assert_int_equal(rc, f->res.code);
    fx_check(f, c->kind);
    return rc;
}

static inline int fx_apply(struct fixture *f, const struct engine_command *c)
{
    return f->apply_hook != NULL ? f->apply_hook(f, c) : fx_apply_now(f, c);
}

#define APPLY_OK(cmd)                                                           \
    do {                                                                        \
        struct engine_command fx_c_ = cmd;                                      \
        int fx_rc_ = fx_apply(f, &fx_c_);                                       \
        if (fx_rc_ != 0) {                                                      \
            fail_msg("%s: %s (%s)", #cmd, cd_strerror(fx_rc_), f->res.message); \
        }                                                                       \
    } while (0)

static inline void fx_install(struct fixture *f)
{
    char err[256] = "";
    if (engine_model_validate(&f->m, err, sizeof(err)) != 0) {
        fail_msg("test model invalid: %s", err);
    }
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL};
    c.u.install.version = ++f->version;
    c.u.install.model = &f->m;
    int rc = fx_apply(f, &c);
    if (rc != 0) {
        fail_msg("model install: %s (%s)", cd_strerror(rc), f->res.message);
    }
}

#define MODEL_INSTALL fx_install(f)
#define AT(ms) (f->now = (ms))
#define AFTER(ms) (f->now += (ms))
#define TICK                                                     \
    do {                                                         \
        struct engine_command fx_t_ = {.kind = ENGINE_CMD_TICK}; \
        assert_int_equal(fx_apply(f, &fx_t_), 0);                \
    } while (0)

static inline int fx_agent_cmd(struct fixture *f,
                               uint8_t kind,
                               const char *name,
                               uint8_t presence,
                               const char *reason)
{
    struct engine_command c = {.kind = kind};
    c.u.agent.name = name;
    c.u.agent.presence = presence;
    c.u.agent.reason = reason;
    return fx_apply(f, &c);
}

#define LOGIN(a)      \
    assert_int_equal( \
        fx_agent_cmd(f, ENGINE_CMD_AGENT_LOGIN, (a), ENGINE_PRESENCE_AVAILABLE, NULL), 0)
#define LOGOUT(a) assert_int_equal(fx_agent_cmd(f, ENGINE_CMD_AGENT_LOGOUT, (a), 0, NULL), 0)
#define AWAY(a, why)  \
    assert_int_equal( \
        fx_agent_cmd(f, ENGINE_CMD_AGENT_STATE, (a), ENGINE_PRESENCE_AWAY, (why)), 0)
#define AVAILABLE(a)  \
    assert_int_equal( \
        fx_agent_cmd(f, ENGINE_CMD_AGENT_STATE, (a), ENGINE_PRESENCE_AVAILABLE, NULL), 0)

/* Creates a contact and returns the engine's answer code; the id is in f->res.contact. */
static inline int fx_create(struct fixture *f,
                            const char *key,
                            const char *queue,
                            uint8_t channel,
                            int16_t priority,
                            uint8_t n_skills,
                            const struct engine_skill_ref *skills,
                            uint8_t n_attrs,
                            const struct engine_attr *attrs)
{
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_CREATE};
    c.u.create.key = key;
    c.u.create.queue = queue;
    c.u.create.channel = channel;
    c.u.create.priority = priority;
    c.u.create.n_skills = n_skills;
    c.u.create.skills = skills;
    c.u.create.n_attrs = n_attrs;
    c.u.create.attrs = attrs;
    return fx_apply(f, &c);
}

static inline uint64_t fx_create_ok(struct fixture *f,
                                    const char *queue,
                                    uint8_t channel,
                                    int16_t priority,
                                    uint8_t n_attrs,
                                    const struct engine_attr *attrs)
{
    int rc = fx_create(f, NULL, queue, channel, priority, 0, NULL, n_attrs, attrs);
    if (rc != 0) {
        fail_msg("create: %s (%s)", cd_strerror(rc), f->res.message);
    }
    assert_false(f->res.existing);
    assert_true(f->res.contact != 0);
    return f->res.contact;
}

#define CREATE_IN(q, ch, prio) fx_create_ok(f, (q), (ch), (prio), 0, NULL)
/* Through the routing rules, with attributes (an array of struct engine_attr). */
#define CREATE_RULED(ch, prio, attrs) \
    fx_create_ok(f, NULL, (ch), (prio), (uint8_t)(sizeof(attrs) / sizeof((attrs)[0])), (attrs))
#define CREATE_PLAIN(ch) fx_create_ok(f, NULL, (ch), 0, 0, NULL)

static inline int fx_contact_cmd(struct fixture *f, uint8_t kind, uint64_t id)
{
    struct engine_command c = {.kind = kind};
    c.u.contact.id = id;
    return fx_apply(f, &c);
}

static inline int fx_offer_cmd(struct fixture *f, uint8_t kind, uint64_t offer, const char *a)
{
    struct engine_command c = {.kind = kind};
    c.u.offer.id = offer;
    c.u.offer.agent = a;
    return fx_apply(f, &c);
}

static inline int fx_transfer(struct fixture *f,
                              uint64_t id,
                              const char *queue,
                              const char *agent,
                              const char *target)
{
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_TRANSFER};
    c.u.transfer.id = id;
    c.u.transfer.queue = queue;
    c.u.transfer.agent = agent;
    c.u.transfer.target = target;
    return fx_apply(f, &c);
}

#define EXPECT_OK(expr)                                                          \
    do {                                                                         \
        int fx_rc_ = (expr);                                                     \
        if (fx_rc_ != 0) {                                                       \
            fail_msg("%s: %s (%s)", #expr, cd_strerror(fx_rc_), f->res.message); \
        }                                                                        \
    } while (0)

#define ACCEPT(offer, a) EXPECT_OK(fx_offer_cmd(f, ENGINE_CMD_OFFER_ACCEPT, (offer), (a)))
#define REJECT(offer, a) EXPECT_OK(fx_offer_cmd(f, ENGINE_CMD_OFFER_REJECT, (offer), (a)))
#define ACCEPT_ERR(offer, a, code) \
    assert_int_equal(fx_offer_cmd(f, ENGINE_CMD_OFFER_ACCEPT, (offer), (a)), (code))
#define REJECT_ERR(offer, a, code) \
    assert_int_equal(fx_offer_cmd(f, ENGINE_CMD_OFFER_REJECT, (offer), (a)), (code))
#define END(id) EXPECT_OK(fx_contact_cmd(f, ENGINE_CMD_CONTACT_END, (id)))
#define ABANDON(id) EXPECT_OK(fx_contact_cmd(f, ENGINE_CMD_CONTACT_ABANDON, (id)))
#define WRAPUP_DONE(id) EXPECT_OK(fx_contact_cmd(f, ENGINE_CMD_WRAPUP_DONE, (id)))
#define CALLBACK(id) EXPECT_OK(fx_contact_cmd(f, ENGINE_CMD_CONTACT_CALLBACK, (id)))
#define HOLD(id) EXPECT_OK(fx_contact_cmd(f, ENGINE_CMD_CONTACT_HOLD, (id)))
#define RESUME(id) EXPECT_OK(fx_contact_cmd(f, ENGINE_CMD_CONTACT_RESUME, (id)))

/* ---- Looking at the state ----------------------------------------------------------- */

static inline struct engine_contact_info fx_contact(struct fixture *f, uint64_t id)
{
    struct engine_contact_info ci;
    memset(&ci, 0, sizeof(ci));
    int rc = engine_contact_get(f->e, id, &ci);
    if (rc != 0) {
        fail_msg("contact %llu: %s", (unsigned long long)id, cd_strerror(rc));
    }
    return ci;
}

static inline struct engine_agent_info fx_agent_info(struct fixture *f, const char *name)
{
    struct engine_agent_info info;
    memset(&info, 0, sizeof(info));
    int rc = engine_agent_get(f->e, name, &info);
    if (rc != 0) {
        fail_msg("agent '%s': %s", name, cd_strerror(rc));
    }
    return info;
}

static inline struct engine_queue_info fx_queue_info(struct fixture *f, const char *name)
{
    struct engine_queue_info qi;
    memset(&qi, 0, sizeof(qi));
    int rc = engine_queue_get(f->e, name, &qi);
    if (rc != 0) {
        fail_msg("queue '%s': %s", name, cd_strerror(rc));
    }
    return qi;
}

static inline const char *fx_state_name(int s)
{
    static const char *const names[] = {"queued",    "offered",   "connected",   "wrapup",
                                        "completed", "abandoned", "transferred", "overflowed",
                                        "timed_out", "rejected"};
    return s >= 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "?";
}

static inline void fx_assert_state(struct fixture *f, uint64_t id, int state)
{
    struct engine_contact_info ci = fx_contact(f, id);
    if (ci.state != state) {
        fail_msg("contact %llu is %s, expected %s", (unsigned long long)id,
                 fx_state_name(ci.state), fx_state_name(state));
    }
}

#define ASSERT_STATE(id, st) fx_assert_state(f, (id), ENGINE_CONTACT_##st)
#define ASSERT_GONE(id)                                                          \
    do {                                                                         \
        struct engine_contact_info fx_ci_;                                       \
        assert_int_equal(engine_contact_get(f->e, (id), &fx_ci_), CD_ENOTFOUND); \
    } while (0)

static inline void fx_assert_offered(struct fixture *f, uint64_t id, const char *agent)
{
    struct engine_contact_info ci = fx_contact(f, id);
    if (ci.state != ENGINE_CONTACT_OFFERED) {
        fail_msg("contact %llu is %s, expected offered to %s", (unsigned long long)id,
                 fx_state_name(ci.state), agent);
    }
    if (agent != NULL) {
        assert_string_equal(ci.agent, agent);
    }
    assert_true(ci.offer != 0);
}

#define ASSERT_OFFERED(id, a) fx_assert_offered(f, (id), (a))
#define ASSERT_QUEUED(id, q)                                 \
    do {                                                     \
        fx_assert_state(f, (id), ENGINE_CONTACT_QUEUED);     \
        assert_string_equal(fx_contact(f, (id)).queue, (q)); \
    } while (0)
#define ASSERT_CONNECTED(id, a)                              \
    do {                                                     \
        fx_assert_state(f, (id), ENGINE_CONTACT_CONNECTED);  \
        assert_string_equal(fx_contact(f, (id)).agent, (a)); \
    } while (0)
#define OFFER_OF(id) fx_contact(f, (id)).offer
#define ASSERT_AGENT(a, st) assert_int_equal(fx_agent_info(f, (a)).state, ENGINE_AGENT_##st)
#define ASSERT_LOAD(a, ch, n) assert_int_equal(fx_agent_info(f, (a)).load[(ch)], (n))
#define DIGEST engine_digest(f->e)

/* The state through a snapshot (encode, decode): the copy, whose digest must be the same.
 * The caller frees it with engine_free(). */
static inline struct engine *fx_snapshot_copy(struct fixture *f)
{
    struct cd_buf b;
    struct engine *copy = NULL;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    assert_int_equal(engine_decode(b.data, b.len, &copy), 0);
    cd_buf_close(&b);
    assert_int_equal(engine_digest(copy), engine_digest(f->e));
    return copy;
}
#define NOW engine_now(f->e)

/* The n-th (0-based) effect of `kind` about `contact` (0 = any) since effect index from. */
static inline const struct fx_effect *fx_find(const struct fixture *f,
                                              size_t from,
                                              uint8_t kind,
                                              uint64_t contact,
                                              const char *agent)
{
    for (size_t i = from; i < f->n_fx; i++) {
        const struct fx_effect *x = &f->fx[i];
        if (x->kind == kind && (contact == 0 || x->contact == contact) &&
            (agent == NULL || strcmp(x->agent, agent) == 0)) {
            return x;
        }
    }
    return NULL;
}

static inline size_t fx_count(const struct fixture *f,
                              size_t from,
                              uint8_t kind,
                              uint64_t contact,
                              const char *agent)
{
    size_t n = 0;
    for (size_t i = from; i < f->n_fx; i++) {
        const struct fx_effect *x = &f->fx[i];
        n += x->kind == kind && (contact == 0 || x->contact == contact) &&
             (agent == NULL || strcmp(x->agent, agent) == 0);
    }
    return n;
}

static inline const struct fx_effect *fx_must(const struct fixture *f,
                                              size_t from,
                                              uint8_t kind,
                                              uint64_t contact,
                                              const char *agent)
{
    const struct fx_effect *x = fx_find(f, from, kind, contact, agent);
    if (x == NULL) {
        fail_msg("no effect of kind %d for contact %llu agent %s", kind,
                 (unsigned long long)contact, agent != NULL ? agent : "*");
    }
    return x;
}

/* Effects of the last command only. */
#define FX(kind, id, a) fx_must(f, f->mark, ENGINE_FX_##kind, (id), (a))
#define NO_FX(kind, id, a) assert_null(fx_find(f, f->mark, ENGINE_FX_##kind, (id), (a)))
/* Any effect since setup. */
#define EVER_FX(kind, id, a) fx_must(f, 0, ENGINE_FX_##kind, (id), (a))
#define ENDED(id) (&EVER_FX(ENDED, (id), NULL)->h)

#endif
