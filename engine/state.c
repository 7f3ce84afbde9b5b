/* The state's tables: skills, queues and agents by name (append-only, so ids stay stable
 * across model versions), contact slots by id, and idempotency keys. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/error.h"
#include "common/hash.h"
#include "engine/internal.h"

int engine__fail(struct engine_result *res, int code, const char *fmt, ...)
{
    if (res != NULL) {
        va_list ap;
        va_start(ap, fmt);
        res->code = code;
        vsnprintf(res->message, sizeof(res->message), fmt, ap);
        va_end(ap);
    }
    return code;
}

static void emit_where(struct engine *e,
                       const struct engine_effect *fx,
                       const char *home,
                       const char *session)
{
    if (e->sink == NULL || e->sink->emit == NULL) {
        return;
    }
    struct engine_effect out = *fx;
    out.home = home;
    out.session = session;
    if (out.old_home == NULL) {
        out.old_home = "";
    }
    if (out.object == NULL) {
        out.object = "";
    }
    e->sink->emit(e->sink->data, &out);
}

void engine__emit(struct engine *e, const struct engine_effect *fx)
{
    emit_where(e, fx, "", "");
}

void engine__emit_contact(struct engine *e, struct contact *c, const struct engine_effect *fx)
{
    engine__path_note(e, c, fx);
    emit_where(e, fx, engine__home(c), engine__session(c));
}

struct name_ctx
{
    const struct engine *e;
    const char *name;
};

static bool skill_is(const void *ctx, uint32_t v)
{
    const struct name_ctx *n = ctx;
    return strcmp(n->e->skills[v].name, n->name) == 0;
}

static bool queue_is(const void *ctx, uint32_t v)
{
    const struct name_ctx *n = ctx;
    return strcmp(n->e->queues[v].name, n->name) == 0;
}

static bool agent_is(const void *ctx, uint32_t v)
{
    const struct name_ctx *n = ctx;
    return strcmp(n->e->agents[v].name, n->name) == 0;
}

static int lookup(const struct engine *e,
                  const struct map *m,
                  map_match_fn match,
                  const char *name)
{
    struct name_ctx ctx = {e, name};
    uint32_t v;
    if (name == NULL || !engine__map_get(m, cd_hash_str(name), match, &ctx, &v)) {
        return -1;
    }
    return (int)v;
}

int engine__skill_id(const struct engine *e, const char *name)
{
    return lookup(e, &e->by_skill, skill_is, name);
}

int engine__queue_id(const struct engine *e, const char *name)
{
    return lookup(e, &e->by_queue, queue_is, name);
}

int engine__agent_id(const struct engine *e, const char *name)
{
    return lookup(e, &e->by_agent, agent_is, name);
}

static bool name_fits(const char *name, size_t max)
{
    return name != NULL && name[0] != 0 && strlen(name) < max;
}

int engine__skill_add(struct engine *e, const char *name, uint16_t *id)
{
    int found = engine__skill_id(e, name);
    if (found >= 0) {
        *id = (uint16_t)found;
        return 0;
    }
    if (!name_fits(name, ENGINE_NAME_MAX) || e->n_skills >= NONE16) {
        return CD_EINVAL;
    }
    if (GROW(e->skills, e->cap_skills, e->n_skills + 1) != 0 ||
        engine__map_put(&e->by_skill, cd_hash_str(name), e->n_skills) != 0) {
        return CD_ENOMEM;
    }
    memset(&e->skills[e->n_skills], 0, sizeof(struct skill));
    strcpy(e->skills[e->n_skills].name, name);
    *id = (uint16_t)e->n_skills++;
    return 0;
}

int engine__queue_add(struct engine *e, const char *name, uint16_t *id)
{
    int found = engine__queue_id(e, name);
    if (found >= 0) {
        *id = (uint16_t)found;
        return 0;
    }
    if (!name_fits(name, ENGINE_NAME_MAX) || e->n_queues >= NONE16) {
        return CD_EINVAL;
    }
    if (GROW(e->queues, e->cap_queues, e->n_queues + 1) != 0 ||
        engine__map_put(&e->by_queue, cd_hash_str(name), e->n_queues) != 0) {
        return CD_ENOMEM;
    }
    struct queue *q = &e->queues[e->n_queues];
    memset(q, 0, sizeof(*q));
    strcpy(q->name, name);
    q->retired = true;
    q->def.hours = -1;
    q->def.overflow_queue = -1;
    q->stats.day = INT32_MIN;
    *id = (uint16_t)e->n_queues++;
    return 0;
}

int engine__agent_add(struct engine *e, const char *name, uint32_t *id)
{
    if (!name_fits(name, ENGINE_NAME_MAX) || e->n_agents >= NONE32 - 1) {
        return CD_EINVAL;
    }
    if (GROW(e->agents, e->cap_agents, e->n_agents + 1) != 0 ||
        engine__map_put(&e->by_agent, cd_hash_str(name), e->n_agents) != 0) {
        return CD_ENOMEM;
    }
    struct agent *a = &e->agents[e->n_agents];
    memset(a, 0, sizeof(*a));
    strcpy(a->name, name);
    a->presence = ENGINE_PRESENCE_OFFLINE;
    *id = e->n_agents++;
    return 0;
}

int engine__by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct contact *engine__contact(const struct engine *e, uint64_t id)
{
    uint32_t slot = 0;
    if (!engine__map_get(&e->by_id, id, NULL, NULL, &slot)) {
        return NULL;
    }
    return &e->contacts[slot];
}

uint32_t engine__slot(const struct engine *e, const struct contact *c)
{
    return (uint32_t)(c - e->contacts);
}

/* The id is assigned by the caller before the contact becomes visible. */
struct contact *engine__contact_new(struct engine *e)
{
    uint32_t slot = 0;
    if (e->n_free > 0) {
        slot = e->free_slots[--e->n_free];
    } else {
        /* The free list grows with the slots, so that releasing one never allocates. */
        if (GROW(e->free_slots, e->cap_free, e->n_slots + 1) != 0 ||
            GROW(e->contacts, e->cap_slots, e->n_slots + 1) != 0) {
            return NULL;
        }
        slot = e->n_slots++;
    }
    struct contact *c = &e->contacts[slot];
    memset(c, 0, sizeof(*c));
    c->agent = NONE32;
    c->keyrec = NONE32;
    c->queue = NONE16;
    c->cls = NONE32;
    c->dpos = NONE32;
    c->deadline = NEVER;
    c->timer = NEVER;
    c->reconnect_by = NEVER;
    cd_buf_init(&c->transcript);
    cd_buf_init(&c->path);
    return c;
}

void engine__contact_release(struct engine *e, struct contact *c)
{
    uint32_t slot = engine__slot(e, c);
    if (c->id != 0) {
        engine__map_del(&e->by_id, c->id, slot);
        e->n_live--;
    }
    cd_free(c->attrs);
    cd_free(c->ring);
    cd_free(c->where);
    engine__transcript_free(c);
    engine__path_free(c);
    memset(c, 0, sizeof(*c));
    CD_ASSERT(e->n_free < e->cap_free); /* sized with the slots by engine__contact_new() */
    e->free_slots[e->n_free++] = slot;
}

static bool key_is(const void *ctx, uint32_t v)
{
    const struct name_ctx *n = ctx;
    return strcmp(n->e->keyrecs[v].key, n->name) == 0;
}

int engine__keyrec_find(const struct engine *e, const char *key, uint32_t *out)
{
    int v = lookup(e, &e->by_key, key_is, key);
    if (v < 0) {
        return CD_ENOTFOUND;
    }
    *out = (uint32_t)v;
    return 0;
}

int engine__keyrec_new(struct engine *e,
                       const char *key,
                       uint64_t contact,
                       uint64_t fingerprint,
                       uint32_t *out)
{
    uint32_t kr = 0;
    char *copy = cd_strdup(key);
    if (copy == NULL) {
        return CD_ENOMEM;
    }
    if (e->n_free_keyrecs > 0) {
        kr = e->free_keyrecs[--e->n_free_keyrecs];
    } else if (GROW(e->keyrecs, e->cap_keyrecs, e->n_keyrecs + 1) == 0 &&
               GROW(e->free_keyrecs, e->cap_free_keyrecs, e->n_keyrecs + 1) == 0) {
        kr = e->n_keyrecs++;
    } else {
        cd_free(copy);
        return CD_ENOMEM;
    }
    e->keyrecs[kr] = (struct keyrec){
        .key = copy, .contact = contact, .fingerprint = fingerprint, .ring_pos = NONE32};
    if (engine__map_put(&e->by_key, cd_hash_str(key), kr) != 0) {
        cd_free(copy);
        e->keyrecs[kr].key = NULL;
        e->free_keyrecs[e->n_free_keyrecs++] = kr;
        return CD_ENOMEM;
    }
    *out = kr;
    return 0;
}

static void keyrec_drop(struct engine *e, uint32_t kr)
{
    struct keyrec *k = &e->keyrecs[kr];
    engine__map_del(&e->by_key, cd_hash_str(k->key), kr);
    cd_free(k->key);
    k->key = NULL;
    e->free_keyrecs[e->n_free_keyrecs++] = kr;
}

/* A finished contact's key is remembered in a ring of the most recent RECENT_KEYS. */
void engine__keyrec_finish(struct engine *e, uint32_t kr)
{
    if (e->n_recent == RECENT_KEYS) {
        keyrec_drop(e, e->recent[e->recent_head]);
        e->recent_head = (e->recent_head + 1) % RECENT_KEYS;
        e->n_recent--;
    }
    uint32_t pos = (e->recent_head + e->n_recent) % RECENT_KEYS;
    e->recent[pos] = kr;
    e->keyrecs[kr].ring_pos = pos;
    e->n_recent++;
}

int engine_new(struct engine **out)
{
    struct engine *e = cd_calloc(1, sizeof(*e));
    if (e == NULL) {
        return CD_ENOMEM;
    }
    e->next_contact = 1;
    e->next_offer = 1;
    engine_model_init(&e->model);
    *out = e;
    return 0;
}

void engine__clear_derived(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_classes; i++) {
        engine__wait_close(&e->classes[i].contacts);
        engine__heap_close(&e->classes[i].ready);
        cd_free(e->classes[i].members);
    }
    e->n_classes = 0;
    engine__map_close(&e->by_class);
    e->n_members = 0;
    e->n_free_members = 0;
    for (uint32_t i = 0; i < e->n_queues; i++) {
        e->queues[i].n_classes = 0;
        e->queues[i].n_agents = 0;
    }
    for (uint32_t i = 0; i < e->n_agents; i++) {
        e->agents[i].n_members = 0;
        e->agents[i].member_channels = 0;
    }
}

void engine__free_tables(struct engine *e)
{
    engine__clear_derived(e);
    for (uint32_t i = 0; i < e->n_slots; i++) {
        cd_free(e->contacts[i].attrs);
        cd_free(e->contacts[i].ring);
        cd_free(e->contacts[i].where);
        engine__transcript_free(&e->contacts[i]);
        engine__path_free(&e->contacts[i]);
    }
    for (uint32_t i = 0; i < e->n_keyrecs; i++) {
        cd_free(e->keyrecs[i].key);
    }
    for (uint32_t i = 0; i < e->n_queues; i++) {
        cd_free(e->queues[i].classes);
        cd_free(e->queues[i].agents);
    }
    for (uint32_t i = 0; i < e->n_agents; i++) {
        cd_free(e->agents[i].members);
        cd_free(e->agents[i].member_cls);
        cd_free(e->agents[i].held);
    }
    cd_free(e->dirty);
    cd_free(e->heads);
    cd_free(e->classes);
    cd_free(e->members);
    cd_free(e->free_members);
    engine__heap_close(&e->deadlines);
    engine__map_close(&e->by_id);
    engine__map_close(&e->by_offer);
    engine__map_close(&e->by_agent);
    engine__map_close(&e->by_queue);
    engine__map_close(&e->by_skill);
    engine__map_close(&e->by_key);
    cd_free(e->contacts);
    cd_free(e->free_slots);
    cd_free(e->keyrecs);
    cd_free(e->free_keyrecs);
    cd_free(e->skills);
    cd_free(e->queues);
    cd_free(e->agents);
    cd_free(e->mq_map);
    cd_free(e->ms_map);
    engine_model_close(&e->model);
}

void engine_free(struct engine *e)
{
    if (e == NULL) {
        return;
    }
    engine__free_tables(e);
    engine__archive_free(e);
    engine__webhooks_free(e);
    engine__report_defs_free(e);
    engine__health_free(e);
    engine__runbooks_free(e);
    engine__tokens_free(e);
    engine__users_free(e);
    cd_free(e);
}
