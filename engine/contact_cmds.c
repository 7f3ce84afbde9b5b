/* Commands about contacts: create, abandon, end, transfer, callback, attributes. Each
 * validates everything first, so an error changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/error.h"
#include "engine/internal.h"
#include "engine/commands.h"

static bool str_ok(const char *s, size_t max)
{
    return s != NULL && strlen(s) < max;
}

int engine__attrs_check(const struct engine_attr *attrs, uint8_t n, struct engine_result *res)
{
    if (n > ENGINE_ATTRS_MAX || (n > 0 && attrs == NULL)) {
        return FAIL(res, CD_EINVAL, "too many attributes (at most %d)", ENGINE_ATTRS_MAX);
    }
    for (uint8_t i = 0; i < n; i++) {
        if (!str_ok(attrs[i].key, ENGINE_KEY_MAX) || attrs[i].key[0] == 0 ||
            !str_ok(attrs[i].value, ENGINE_VALUE_MAX)) {
            return FAIL(res, CD_EINVAL, "attribute %u: key must be 1-%d bytes, value under %d",
                        i, ENGINE_KEY_MAX - 1, ENGINE_VALUE_MAX);
        }
        for (uint8_t j = 0; j < i; j++) {
            if (strcmp(attrs[i].key, attrs[j].key) == 0) {
                return FAIL(res, CD_EINVAL, "attribute '%s' given twice", attrs[i].key);
            }
        }
    }
    return 0;
}

static int check_create(struct engine *e,
                        const struct engine_contact_create *cr,
                        struct reqs *own,
                        int *queue,
                        struct engine_result *res)
{
    if (!e->has_model) {
        return FAIL(res, CD_ESTATE, "no routing model installed");
    }
    if (cr->channel >= ENGINE_CH_COUNT) {
        return FAIL(res, CD_EINVAL, "unknown channel %u", cr->channel);
    }
    if (cr->key != NULL && strlen(cr->key) >= ENGINE_VALUE_MAX * 2) {
        return FAIL(res, CD_EINVAL, "idempotency key longer than %d bytes",
                    ENGINE_VALUE_MAX * 2 - 1);
    }
    int rv = engine__reqs_from_refs(e, cr->skills, cr->n_skills, own, res);
    if (rv != 0) {
        return rv;
    }
    rv = engine__attrs_check(cr->attrs, cr->n_attrs, res);
    if (rv == 0) {
        rv = engine__where_check(cr->home, cr->session, false, res);
    }
    if (rv != 0) {
        return rv;
    }
    *queue = -1;
    if (cr->queue != NULL && cr->queue[0] != 0) {
        *queue = engine__queue_id(e, cr->queue);
        if (*queue < 0 || e->queues[*queue].retired) {
            return FAIL(res, CD_ENOTFOUND, "queue '%s' not found", cr->queue);
        }
    }
    return 0;
}

static int new_contact(struct engine *e,
                       const struct engine_contact_create *cr,
                       const struct reqs *own,
                       uint64_t fingerprint,
                       struct contact **out)
{
    struct contact *c = engine__contact_new(e);
    if (c == NULL) {
        return CD_ENOMEM;
    }
    CD_ASSERT(engine__contact(e, e->next_contact) == NULL); /* ids are never reused */
    c->id = e->next_contact;
    c->channel = cr->channel;
    c->arrived = c->enqueued = e->clock;
    c->base_priority = c->priority = cr->priority;
    c->reqs = *own;
    if (engine__map_put(&e->by_id, c->id, engine__slot(e, c)) != 0) {
        c->id = 0;
        engine__contact_release(e, c);
        return CD_ENOMEM;
    }
    e->next_contact++;
    e->n_live++;
    if (engine__attrs_set(c, cr->attrs, cr->n_attrs) != 0 ||
        engine__where_set(c, cr->home, cr->session) != 0 ||
        (cr->key && cr->key[0] &&
         engine__keyrec_new(e, cr->key, c->id, fingerprint, &c->keyrec) != 0)) {
        e->oom = CD_ENOMEM;
    }
    *out = c;
    return 0;
}

/* A key seen before names its contact when the create asks for the same contact again (a
 * retry), and is refused when it asks for another one: answering with the old contact would
 * tell the client its new request had been taken. */
static int key_seen(struct engine *e,
                    const struct engine_contact_create *cr,
                    uint64_t fingerprint,
                    uint32_t kr,
                    struct engine_result *res)
{
    const struct keyrec *k = &e->keyrecs[kr];
    if (k->fingerprint != fingerprint) {
        return FAIL(res, CD_EEXISTS,
                    "key '%.40s' is contact %llu's, created with a different request", cr->key,
                    (unsigned long long)k->contact);
    }
    res->contact = k->contact;
    res->existing = true;
    return 0;
}

int engine__cmd_create(struct engine *e,
                       const struct engine_contact_create *cr,
                       struct engine_result *res)
{
    struct reqs own;
    int queue = -1;
    uint32_t kr = 0;
    uint64_t fingerprint = 0;
    if (cr->key != NULL && cr->key[0] != 0) {
        if (engine__create_fingerprint(cr, &fingerprint) != 0) {
            return FAIL(res, CD_EINVAL, "malformed skills or attributes");
        }
        if (engine__keyrec_find(e, cr->key, &kr) == 0) {
            return key_seen(e, cr, fingerprint, kr, res);
        }
    }
    int rv = check_create(e, cr, &own, &queue, res);
    if (rv != 0) {
        return rv;
    }
    struct contact *c = NULL;
    if (new_contact(e, cr, &own, fingerprint, &c) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    res->contact = c->id;
    if (queue >= 0) {
        engine__reqs_merge(&c->reqs, &e->queues[queue].reqs);
        engine__arrive(e, c, (uint16_t)queue);
    } else {
        engine__run_rules(e, c, res);
    }
    return 0;
}

static int live_contact(struct engine *e,
                        uint64_t id,
                        struct contact **out,
                        struct engine_result *res)
{
    *out = engine__contact(e, id);
    if (*out == NULL) {
        return FAIL(res, CD_ENOTFOUND, "contact %llu not found", (unsigned long long)id);
    }
    return 0;
}

static int bad_state(struct engine_result *res, const struct contact *c, const char *what)
{
    return FAIL(res, CD_ESTATE, "contact %llu is %s: cannot %s", (unsigned long long)c->id,
                engine_contact_state_name(c->state), what);
}

int engine__cmd_abandon(struct engine *e, uint64_t id, struct engine_result *res)
{
    struct contact *c = NULL;
    int rv = live_contact(e, id, &c, res);
    if (rv != 0) {
        return rv;
    }
    if (c->state != ENGINE_CONTACT_QUEUED && c->state != ENGINE_CONTACT_OFFERED) {
        return bad_state(res, c, "abandon");
    }
    engine__finish(e, c, ENGINE_CONTACT_ABANDONED, "");
    return 0;
}

static void hold_fx(struct engine *e, struct contact *c, bool on)
{
    struct engine_effect fx = {.kind = ENGINE_FX_HOLD,
                               .channel = c->channel,
                               .contact = c->id,
                               .state = on,
                               .agent = c->agent == NONE32 ? "" : e->agents[c->agent].name,
                               .queue = c->queue == NONE16 ? "" : e->queues[c->queue].name,
                               .at = e->clock};
    engine__emit_contact(e, c, &fx);
}

void engine__hold_off(struct engine *e, struct contact *c)
{
    if (c->held_since != 0) {
        c->held_since = 0;
        hold_fx(e, c, false);
    }
}

int engine__cmd_hold(struct engine *e, uint64_t id, bool on, struct engine_result *res)
{
    struct contact *c = NULL;
    int rv = live_contact(e, id, &c, res);
    if (rv != 0) {
        return rv;
    }
    if (c->state != ENGINE_CONTACT_CONNECTED) {
        return bad_state(res, c, on ? "hold" : "resume");
    }
    if (on == (c->held_since != 0)) {
        return FAIL(res, CD_ESTATE, "contact %llu is %s on hold", (unsigned long long)c->id,
                    on ? "already" : "not");
    }
    if (on) {
        c->held_since = e->clock > 0 ? e->clock : 1;
        hold_fx(e, c, true);
    } else {
        engine__hold_off(e, c);
    }
    return 0;
}

/* Talk is over: wrap-up holds the agent's slot until done or its deadline. */
void engine__end_talk(struct engine *e, struct contact *c)
{
    engine__hold_off(e, c);
    const struct queue *q = &e->queues[c->queue];
    engine__set_reconnect(e, c, NEVER); /* in wrap-up the customer is no longer waited for */
    if (q->def.wrapup_s == 0) {
        engine__finish(e, c, engine__done_outcome(c), engine__done_reason(c));
        return;
    }
    struct agent *a = &e->agents[c->agent];
    c->state = ENGINE_CONTACT_WRAPUP;
    c->ended = e->clock;
    a->active[c->channel]--;
    engine__set_deadline(e, c, e->clock + (int64_t)q->def.wrapup_s * 1000);
    struct engine_effect fx = {.kind = ENGINE_FX_WRAPUP,
                               .channel = c->channel,
                               .contact = c->id,
                               .agent = a->name,
                               .queue = q->name,
                               .at = c->timer};
    engine__emit_contact(e, c, &fx);
    engine__agent_update(e, c->agent);
    engine__agent_state_fx(e, c->agent);
}

int engine__cmd_end(struct engine *e, uint64_t id, struct engine_result *res)
{
    struct contact *c = NULL;
    int rv = live_contact(e, id, &c, res);
    if (rv != 0) {
        return rv;
    }
    if (c->state != ENGINE_CONTACT_CONNECTED) {
        return bad_state(res, c, "end");
    }
    engine__end_talk(e, c);
    return 0;
}

/* The disposition and notes a WRAPUP_DONE gives, checked against the model and the
 * contact's queue. */
static int check_wrapup(struct engine *e,
                        const struct contact *c,
                        const char *disposition,
                        const char *notes,
                        struct engine_result *res)
{
    const struct queue *q = &e->queues[c->queue];
    if (disposition != NULL && disposition[0] != 0 &&
        engine_model_disposition(&e->model, disposition) < 0) {
        return FAIL(res, CD_EINVAL, "disposition '%.63s' is not one the model lists",
                    disposition);
    }
    if ((disposition == NULL || disposition[0] == 0) && q->def.disposition_required) {
        return FAIL(res, CD_EINVAL, "queue '%s' requires a disposition", q->name);
    }
    if (notes != NULL && strnlen(notes, ENGINE_NOTES_MAX) == ENGINE_NOTES_MAX) {
        return FAIL(res, CD_EINVAL, "notes: at most %d bytes", ENGINE_NOTES_MAX - 1);
    }
    return 0;
}

int engine__cmd_wrapup_done(struct engine *e,
                            uint64_t id,
                            const char *disposition,
                            const char *notes,
                            struct engine_result *res)
{
    struct contact *c = NULL;
    int rv = live_contact(e, id, &c, res);
    if (rv != 0) {
        return rv;
    }
    if (c->state != ENGINE_CONTACT_WRAPUP) {
        return bad_state(res, c, "finish wrap-up");
    }
    rv = check_wrapup(e, c, disposition, notes, res);
    if (rv != 0) {
        return rv;
    }
    engine__finish_with(e, c, engine__done_outcome(c), engine__done_reason(c), disposition,
                        notes);
    return 0;
}

int engine__cmd_callback(struct engine *e, uint64_t id, struct engine_result *res)
{
    struct contact *c = NULL;
    int rv = live_contact(e, id, &c, res);
    if (rv != 0) {
        return rv;
    }
    if (c->state != ENGINE_CONTACT_QUEUED ||
        (c->channel != ENGINE_CH_VOICE && c->channel != ENGINE_CH_CHAT)) {
        return FAIL(res, CD_ESTATE,
                    "contact %llu: a callback needs a queued voice or chat contact",
                    (unsigned long long)c->id);
    }
    /* The place in line is the order key (priority, enqueued, id): it does not change. */
    c->callback = 1;
    engine__path_add(e, c,
                     &(struct engine_path_step){.kind = ENGINE_PATH_CALLBACK, .at = e->clock});
    return 0;
}

int engine__cmd_set_attrs(struct engine *e,
                          uint64_t id,
                          const struct engine_attr *attrs,
                          uint8_t n,
                          struct engine_result *res)
{
    struct contact *c = NULL;
    int rv = live_contact(e, id, &c, res);
    if (rv == 0) {
        rv = engine__attrs_check(attrs, n, res);
    }
    if (rv != 0) {
        return rv;
    }
    rv = engine__attrs_update(c, attrs, n);
    if (rv == CD_ETOOBIG) {
        return FAIL(res, rv, "contact %llu would have more than %d attributes",
                    (unsigned long long)c->id, ENGINE_ATTRS_MAX);
    }
    return rv == 0 ? 0 : FAIL(res, rv, "out of memory");
}
