/* Decoding a snapshot written by engine_encode(). Every count is bounded and every index
 * checked before use: a corrupt snapshot is CD_ECORRUPT, never a crash. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

#define BAD(r) ((r)->err = CD_ECORRUPT)

static uint32_t rd_index(struct cd_reader *r, uint32_t limit)
{
    uint64_t v = cd_rd_uvar(r);
    if (v >= limit) {
        BAD(r);
        return 0;
    }
    return (uint32_t)v;
}

/* Integers narrower than the varint that carries them: a value past its field is corrupt,
 * not cut down to size, so that only what the encoder writes decodes (and re-encodes to
 * the same bytes, which the digest relies on). */
static uint32_t rd_u32(struct cd_reader *r)
{
    return (uint32_t)cd_rd_uint(r, UINT32_MAX);
}

static uint16_t rd_u16(struct cd_reader *r)
{
    return (uint16_t)cd_rd_uint(r, UINT16_MAX);
}

static int32_t rd_i32(struct cd_reader *r)
{
    return (int32_t)cd_rd_int(r, INT32_MIN, INT32_MAX);
}

static int16_t rd_i16(struct cd_reader *r)
{
    return (int16_t)cd_rd_int(r, INT16_MIN, INT16_MAX);
}

static uint8_t rd_count(struct cd_reader *r, uint8_t max)
{
    uint8_t n = cd_rd_u8(r);
    if (n > max) {
        BAD(r);
        return 0;
    }
    return n;
}

static void get_reqs(struct cd_reader *r, struct reqs *q, uint32_t n_skills)
{
    q->n = rd_count(r, ENGINE_REQ_SKILLS);
    for (uint8_t i = 0; i < q->n; i++) {
        q->s[i].skill = (uint16_t)rd_index(r, n_skills);
        q->s[i].level = cd_rd_u8(r);
    }
}

static void get_thresholds(struct cd_reader *r, struct engine_thresholds *t)
{
    t->sl_warn = cd_rd_u8(r);
    t->sl_alarm = cd_rd_u8(r);
    t->waiting_warn = rd_u32(r);
    t->waiting_alarm = rd_u32(r);
    t->wait_warn_s = rd_u32(r);
    t->wait_alarm_s = rd_u32(r);
}

static void get_def(struct cd_reader *r,
                    struct engine_queue *d,
                    uint32_t n_skills,
                    uint32_t n_queues)
{
    d->channels = cd_rd_u8(r);
    d->strategy = cd_rd_u8(r);
    d->sl_target_s = rd_u32(r);
    d->sl_percent = cd_rd_u8(r);
    d->sl_formula = cd_rd_u8(r);
    d->short_abandon_s = rd_u32(r);
    get_thresholds(r, &d->thresholds);
    d->max_size = rd_u32(r);
    d->max_wait_s = rd_u32(r);
    d->ring_s = rd_u32(r);
    d->wrapup_s = rd_u32(r);
    d->hours = rd_i32(r);
    d->overflow_queue = rd_i32(r);
    if (d->strategy >= ENGINE_STRATEGY_COUNT || d->sl_formula >= ENGINE_SL_FORMULA_COUNT ||
        d->overflow_queue < -1 || d->overflow_queue >= (int64_t)n_queues) {
        BAD(r);
    }
    cd_rd_strcpy(r, d->overflow_target, sizeof(d->overflow_target));
    d->n_skills = rd_count(r, ENGINE_REQ_SKILLS);
    for (uint8_t i = 0; i < d->n_skills; i++) {
        d->skills[i].skill = (uint16_t)rd_index(r, n_skills);
        d->skills[i].level = cd_rd_u8(r);
    }
    d->n_steps = rd_count(r, ENGINE_STEPS_MAX);
    for (uint8_t s = 0; s < d->n_steps; s++) {
        struct engine_escalation *st = &d->steps[s];
        st->after_s = rd_u32(r);
        if (st->after_s <= (s > 0 ? d->steps[s - 1].after_s : 0)) {
            BAD(r); /* as the model's validation requires */
        }
        st->relax = cd_rd_u8(r);
        st->priority_boost = rd_i16(r);
        st->n_drop = rd_count(r, ENGINE_REQ_SKILLS);
        for (uint8_t i = 0; i < st->n_drop; i++) {
            st->drop[i] = (uint16_t)rd_index(r, n_skills);
        }
    }
}

static void get_queue(struct engine *e, struct cd_reader *r, struct queue *q)
{
    q->retired = cd_rd_bool(r);
    q->paused = cd_rd_bool(r);
    get_def(r, &q->def, e->n_skills, e->n_queues);
    if (q->def.hours >= (int64_t)e->model.n_hours || q->def.hours < -1) {
        BAD(r);
    }
    struct queue_stats *s = &q->stats;
    s->day = rd_i32(r);
    uint32_t *counters[] = {&s->arrived,
                            &s->answered,
                            &s->answered_in_sl,
                            &s->abandoned,
                            &s->abandoned_after_sl,
                            &s->overflowed,
                            &s->timed_out,
                            &s->offered};
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        *counters[i] = rd_u32(r);
    }
    q->wait_ms = cd_rd_svar(r);
    q->waits_seen = rd_u32(r);
    q->aht_ms = cd_rd_svar(r);
    q->rr_clock = cd_rd_uvar(r);
    struct engine_queue_totals *t = &q->totals;
    uint64_t *totals[] = {&t->arrived,
                          &t->answered,
                          &t->answered_in_sl,
                          &t->abandoned,
                          &t->abandoned_after_sl,
                          &t->overflowed,
                          &t->timed_out,
                          &t->offered,
                          &t->handled};
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        *totals[i] = cd_rd_uvar(r);
    }
    t->answer_wait_ms = cd_rd_svar(r);
    t->handle_ms = cd_rd_svar(r);
    q->reqs.n = 0;
    for (uint8_t i = 0; i < q->def.n_skills; i++) {
        engine__reqs_add(&q->reqs, q->def.skills[i].skill, q->def.skills[i].level);
    }
}

static void get_agent(struct engine *e, struct cd_reader *r, struct agent *a)
{
    cd_rd_strcpy(r, a->site, sizeof(a->site));
    cd_rd_strcpy(r, a->reason, sizeof(a->reason));
    a->deleted = cd_rd_bool(r);
    a->presence = cd_rd_u8(r);
    a->shown_state = cd_rd_u8(r);
    const uint8_t *p = cd_rd_bytes(r, 4 * ENGINE_CH_COUNT);
    if (p != NULL) {
        memcpy(a->capacity, p, ENGINE_CH_COUNT);
        memcpy(a->load, p + ENGINE_CH_COUNT, ENGINE_CH_COUNT);
        memcpy(a->active, p + 2 * ENGINE_CH_COUNT, ENGINE_CH_COUNT);
        memcpy(a->allowance, p + 3 * ENGINE_CH_COUNT, ENGINE_CH_COUNT);
    }
    /* Skills sorted by id and queues listed once each, as the engine keeps them: an agent
     * listing a queue twice would be a member of its classes twice. */
    a->n_skills = rd_count(r, ENGINE_AGENT_SKILLS);
    for (uint8_t i = 0; i < a->n_skills; i++) {
        a->skills[i].skill = (uint16_t)rd_index(r, e->n_skills);
        a->skills[i].level = cd_rd_u8(r);
        if (i > 0 && a->skills[i].skill <= a->skills[i - 1].skill) {
            BAD(r);
        }
    }
    a->skill_bits = engine__skill_bits(a->skills, a->n_skills);
    a->n_queues = rd_count(r, ENGINE_AGENT_QUEUES);
    for (uint8_t i = 0; i < a->n_queues; i++) {
        a->queues[i].queue = (uint16_t)rd_index(r, e->n_queues);
        a->queues[i].rr = cd_rd_uvar(r);
        for (uint8_t j = 0; j < i; j++) {
            if (a->queues[j].queue == a->queues[i].queue) {
                BAD(r);
            }
        }
    }
    a->last_idle = cd_rd_svar(r);
    a->login_at = cd_rd_svar(r);
    a->busy_since = cd_rd_svar(r);
    a->busy_ms = cd_rd_svar(r);
    a->shown_since = cd_rd_svar(r);
    cd_rd_strcpy(r, a->shown_reason, sizeof(a->shown_reason));
    if (a->presence > ENGINE_PRESENCE_AWAY || a->shown_state > ENGINE_AGENT_AWAY) {
        BAD(r);
    }
}

/* The customer_gone mark, the transcript (checked as a transcript) and the path (checked as
 * a path). */
static int get_chat(struct cd_reader *r, struct contact *c)
{
    struct engine_transcript t;
    c->gone = rd_count(r, 1);
    uint64_t len = cd_rd_uvar(r);
    const uint8_t *bytes = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || (len > 0 && bytes == NULL) ||
        engine_transcript_parse(bytes, (size_t)len, &t) != 0) {
        BAD(r);
        return 0;
    }
    int rv = engine__transcript_set(c, &t);
    if (rv != 0) {
        return rv;
    }
    len = cd_rd_uvar(r);
    bytes = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || (len > 0 && bytes == NULL)) {
        BAD(r);
        return 0;
    }
    rv = engine__path_set(c, bytes, (size_t)len);
    if (rv == CD_ECORRUPT) {
        BAD(r);
        return 0;
    }
    c->held_since = cd_rd_svar(r);
    if (c->held_since < 0 || (c->held_since != 0 && c->state != ENGINE_CONTACT_CONNECTED)) {
        BAD(r);
    }
    return rv;
}

static int get_attrs_ring(struct engine *e, struct cd_reader *r, struct contact *c)
{
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    uint8_t n = rd_count(r, ENGINE_ATTRS_MAX);
    for (uint8_t i = 0; i < n; i++) {
        attrs[i].key = cd_rd_str(r, NULL);
        attrs[i].value = cd_rd_str(r, NULL);
    }
    if (r->err == 0 && engine__attrs_set(c, attrs, n) != 0) {
        return CD_ENOMEM;
    }
    uint8_t rings = rd_count(r, ENGINE_RING_ALL_MAX);
    if (rings > 0 && r->err == 0) {
        if ((c->ring = cd_malloc(rings * sizeof(*c->ring))) == NULL) {
            return CD_ENOMEM;
        }
        c->n_ring = rings;
        for (uint8_t i = 0; i < rings; i++) {
            c->ring[i] = rd_index(r, e->n_agents);
        }
    }
    const char *home = cd_rd_str(r, NULL), *session = cd_rd_str(r, NULL);
    c->session_lost = rd_count(r, 1);
    if (r->err == 0 && (home[0] != 0 || session[0] != 0) &&
        engine__where_check(home, session, true, NULL) != 0) {
        BAD(r);
    }
    if (r->err == 0 && engine__where_set(c, home, session) != 0) {
        return CD_ENOMEM;
    }
    return get_chat(r, c);
}

/* prev: the id of the contact before, 0 for the first; the encoder writes them ascending. */
static void set_deadline_key(struct contact *c)
{
    c->deadline = c->timer < c->reconnect_by ? c->timer : c->reconnect_by;
}

static int get_contact(struct engine *e, struct cd_reader *r, uint64_t *prev)
{
    struct contact *c = engine__contact_new(e);
    if (c == NULL) {
        return CD_ENOMEM;
    }
    c->id = cd_rd_uvar(r);
    c->offer = cd_rd_uvar(r);
    int64_t *times[] = {&c->arrived,  &c->enqueued, &c->entered, &c->offered,
                        &c->answered, &c->ended,    &c->timer,   &c->reconnect_by};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        *times[i] = cd_rd_svar(r);
    }
    c->agent = rd_index(r, e->n_agents + 1) - 1;
    const char *key = cd_rd_str(r, NULL);
    uint64_t fingerprint = key[0] ? cd_rd_u64(r) : 0;
    c->queue = (uint16_t)(rd_index(r, e->n_queues + 1) - 1);
    c->rule = rd_u16(r);
    c->base_priority = rd_i16(r);
    c->priority = rd_i16(r);
    const uint8_t *p = cd_rd_bytes(r, 5);
    if (p != NULL) {
        c->channel = p[0], c->state = p[1], c->step = p[2], c->callback = p[3];
        c->last_strategy = p[4];
    }
    c->last_eligible = rd_u32(r);
    c->offers = rd_u32(r);
    c->transfers = rd_u32(r);
    get_reqs(r, &c->reqs, e->n_skills);
    int rv = get_attrs_ring(e, r, c);
    bool offered = c->state == ENGINE_CONTACT_OFFERED;
    set_deadline_key(c);
    if (c->id <= *prev || c->id >= e->next_contact || c->offer >= e->next_offer ||
        c->channel >= ENGINE_CH_COUNT || c->state > ENGINE_CONTACT_WRAPUP ||
        c->queue == NONE16 || offered != (c->offer != 0) ||
        (c->state != ENGINE_CONTACT_QUEUED && c->agent == NONE32 && c->ring == NULL) ||
        (c->reconnect_by != NEVER && c->channel != ENGINE_CH_CHAT) ||
        (c->n_msgs > 0 && c->channel != ENGINE_CH_CHAT) || engine__contact(e, c->id) != NULL) {
        BAD(r);
    }
    if (rv != 0 || r->err != 0) {
        c->id = 0; /* never counted or mapped */
        engine__contact_release(e, c);
        return rv ? rv : CD_ECORRUPT;
    }
    *prev = c->id;
    e->n_live++;
    if (engine__map_put(&e->by_id, c->id, engine__slot(e, c)) != 0 ||
        (offered && engine__map_put(&e->by_offer, c->offer, engine__slot(e, c)) != 0) ||
        (key[0] && engine__keyrec_new(e, key, c->id, fingerprint, &c->keyrec) != 0)) {
        return CD_ENOMEM;
    }
    return 0;
}

/* The names of the skills (queues when queues is set), each new and in id order. A name
 * the table refuses is corruption; running out of memory is not. */
static int get_names(struct engine *e, struct cd_reader *r, bool queues)
{
    uint64_t n = cd_rd_uvar(r);
    for (uint64_t i = 0; i < n && r->err == 0; i++) {
        uint16_t id = 0;
        const char *name = cd_rd_str(r, NULL);
        int rv = queues ? engine__queue_add(e, name, &id) : engine__skill_add(e, name, &id);
        if (rv == CD_ENOMEM) {
            return rv;
        }
        if (rv != 0 || id != i) {
            BAD(r);
        }
    }
    return r->err;
}

static int get_tables(struct engine *e, struct cd_reader *r)
{
    int rv = get_names(e, r, false);
    rv = rv ? rv : get_names(e, r, true);
    if (rv != 0) {
        return rv;
    }
    for (uint32_t i = 0; i < e->n_queues && r->err == 0; i++) {
        get_queue(e, r, &e->queues[i]);
    }
    uint64_t n = cd_rd_uvar(r);
    for (uint64_t i = 0; i < n && r->err == 0; i++) {
        uint32_t ai = 0;
        rv = engine__agent_add(e, cd_rd_str(r, NULL), &ai);
        if (rv == CD_ENOMEM) {
            return rv;
        }
        if (rv != 0 || engine__agent_id(e, e->agents[ai].name) != (int)ai) {
            BAD(r);
            break;
        }
        get_agent(e, r, &e->agents[ai]);
    }
    return r->err;
}

static int get_model(struct engine *e, struct cd_reader *r)
{
    int rv = engine_model_decode(r, &e->model);
    if (rv != 0) {
        return rv == CD_ENOMEM ? rv : CD_ECORRUPT;
    }
    e->ms_map = cd_calloc(e->model.n_skills + 1, sizeof(*e->ms_map));
    e->mq_map = cd_calloc(e->model.n_queues + 1, sizeof(*e->mq_map));
    if (e->ms_map == NULL || e->mq_map == NULL) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < e->model.n_skills; i++) {
        e->ms_map[i] = rd_u16(r);
    }
    for (uint32_t i = 0; i < e->model.n_queues; i++) {
        e->mq_map[i] = rd_u16(r);
    }
    return r->err;
}

static int get_recent(struct engine *e, struct cd_reader *r)
{
    uint64_t n = cd_rd_uvar(r);
    if (n > RECENT_KEYS) {
        return CD_ECORRUPT;
    }
    for (uint64_t i = 0; i < n && r->err == 0; i++) {
        const char *key = cd_rd_str(r, NULL);
        uint64_t contact = cd_rd_uvar(r);
        uint64_t fingerprint = cd_rd_u64(r);
        uint32_t kr = 0;
        if (r->err == 0 && engine__keyrec_find(e, key, &kr) == 0) {
            return CD_ECORRUPT;
        }
        if (r->err == 0 && engine__keyrec_new(e, key, contact, fingerprint, &kr) != 0) {
            return CD_ENOMEM;
        }
        if (r->err == 0) {
            engine__keyrec_finish(e, kr);
        }
    }
    return r->err;
}

/* Maps into the model arrays must name existing state entries. */
static bool maps_valid(const struct engine *e)
{
    for (uint32_t i = 0; e->has_model && i < e->model.n_skills; i++) {
        if (e->ms_map[i] >= e->n_skills) {
            return false;
        }
    }
    for (uint32_t i = 0; e->has_model && i < e->model.n_queues; i++) {
        if (e->mq_map[i] >= e->n_queues) {
            return false;
        }
    }
    return true;
}

static int decode_into(struct engine *e, struct cd_reader *r)
{
    if (cd_rd_u8(r) != SNAPSHOT_FORMAT) {
        return r->err ? CD_ECORRUPT : CD_EVERSION;
    }
    e->clock = cd_rd_svar(r);
    e->next_contact = cd_rd_uvar(r);
    e->next_offer = cd_rd_uvar(r);
    if (e->next_contact == 0 || e->next_offer == 0) {
        return CD_ECORRUPT; /* 0 names no contact and no offer: the next would be id 0 */
    }
    e->version = rd_u32(r);
    e->has_model = cd_rd_bool(r);
    int rv = e->has_model ? get_model(e, r) : 0;
    if (rv == 0) {
        rv = get_tables(e, r);
    }
    uint64_t n = rv == 0 ? cd_rd_uvar(r) : 0, prev = 0;
    for (uint64_t i = 0; i < n && rv == 0; i++) {
        rv = get_contact(e, r, &prev);
    }
    if (rv == 0) {
        rv = get_recent(e, r);
    }
    if (rv == 0) {
        rv = engine__archive_decode(e, r);
    }
    if (rv == 0) {
        rv = engine__webhooks_decode(e, r);
    }
    if (rv == 0) {
        rv = engine__users_decode(e, r);
    }
    if (rv == 0) {
        rv = engine__tokens_decode(e, r);
    }
    if (rv == 0) {
        rv = engine__report_defs_decode(e, r);
    }
    if (rv == 0) {
        rv = engine__health_decode(e, r);
    }
    if (rv == 0) {
        rv = engine__runbooks_decode(e, r);
    }
    if (rv == 0 && (r->err || cd_rd_left(r) != 0 || !maps_valid(e))) {
        rv = CD_ECORRUPT;
    }
    return rv;
}

int engine_decode(const void *data, size_t len, struct engine **out)
{
    struct engine *e;
    struct cd_reader r;
    int rv = engine_new(&e);
    if (rv != 0) {
        return rv;
    }
    cd_reader_init(&r, data, len);
    rv = decode_into(e, &r);
    if (rv == 0) {
        rv = engine__reindex(e);
    }
    if (rv == 0) {
        char err[160];
        rv = engine_check(e, err, sizeof(err));
        rv = rv == 0 || rv == CD_ENOMEM ? rv : CD_ECORRUPT;
    }
    if (rv != 0) {
        engine_free(e);
        return rv;
    }
    *out = e;
    return 0;
}
