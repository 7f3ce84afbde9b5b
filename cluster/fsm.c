/* The state machine Raft applies: each entry is one batch of engine commands at the
 * leader's stamp, written to storage in one transaction with its index.
 *
 * Raft (0.15) applies an entry before it advances last_applied, so the entry being applied
 * is raft_last_applied() + 1; the snapshot being taken is at raft_last_applied(). An entry
 * at or below storage's applied index was written before a restart: the engine, rebuilt
 * from the snapshot, applies it again, and storage skips it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "common/log.h"

/* ---- What an entry touched ----------------------------------------------------------- */

static void touch_contact(struct cluster__touched *t, uint64_t id)
{
    if (id == 0 || t->everything) {
        return;
    }
    if (t->n_contacts == t->cap_contacts) {
        size_t cap = t->cap_contacts ? 2 * t->cap_contacts : 64;
        uint64_t *p = realloc(t->contacts, cap * sizeof(*p));
        if (p == NULL) {
            t->everything = true; /* cannot track: rewrite everything instead */
            return;
        }
        t->contacts = p;
        t->cap_contacts = cap;
    }
    t->contacts[t->n_contacts++] = id;
}

static void touch_agent(struct cluster__touched *t, const char *name)
{
    if (name == NULL || *name == 0 || t->everything) {
        return;
    }
    if (t->n_agents == t->cap_agents) {
        size_t cap = t->cap_agents ? 2 * t->cap_agents : 16;
        char(*p)[ENGINE_NAME_MAX] = realloc(t->agents, cap * sizeof(*p));
        if (p == NULL) {
            t->everything = true;
            return;
        }
        t->agents = p;
        t->cap_agents = cap;
    }
    snprintf(t->agents[t->n_agents++], ENGINE_NAME_MAX, "%s", name);
}

void cluster__touched_free(struct cluster__touched *t)
{
    free(t->contacts);
    free(t->agents);
    memset(t, 0, sizeof(*t));
}

static void touch_command(struct cluster__touched *t,
                          const struct engine_command *cmd,
                          const struct engine_result *res)
{
    switch (cmd->kind) {
        case ENGINE_CMD_CONTACT_CREATE:
            touch_contact(t, res->contact);
            break;
        case ENGINE_CMD_CONTACT_ABANDON:
        case ENGINE_CMD_CONTACT_END:
        case ENGINE_CMD_CONTACT_CALLBACK:
        case ENGINE_CMD_WRAPUP_DONE:
            touch_contact(t, cmd->u.contact.id);
            break;
        case ENGINE_CMD_CONTACT_TRANSFER:
            touch_contact(t, cmd->u.transfer.id);
            touch_agent(t, cmd->u.transfer.agent);
            break;
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            touch_contact(t, cmd->u.set_attrs.id);
            break;
        case ENGINE_CMD_SESSION_MOVE:
        case ENGINE_CMD_SESSION_END:
            touch_contact(t, cmd->u.session.id);
            break;
        case ENGINE_CMD_OFFER_ACCEPT:
        case ENGINE_CMD_OFFER_REJECT:
            touch_agent(t, cmd->u.offer.agent);
            break;
        case ENGINE_CMD_AGENT_LOGIN:
        case ENGINE_CMD_AGENT_LOGOUT:
        case ENGINE_CMD_AGENT_STATE:
        case ENGINE_CMD_AGENT_DELETE:
            touch_agent(t, cmd->u.agent.name);
            break;
        case ENGINE_CMD_AGENT_SKILLS:
            touch_agent(t, cmd->u.skills.name);
            break;
        case ENGINE_CMD_AGENT_UPSERT:
            touch_agent(t, cmd->u.upsert.name);
            break;
        case ENGINE_CMD_MODEL_INSTALL:
        case ENGINE_CMD_RUNBOOK_RUN: /* their actions pause, resume, install */
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
            t->everything = t->everything || res->code == 0;
            break;
        default:
            break;
    }
}

/* ---- Applying one entry --------------------------------------------------------------- */

struct apply_ctx
{
    struct cluster *c;
    uint64_t index;
    struct storage_batch *batch; /* NULL when storage already holds this index */
    int storage_err;
    struct engine_history lean; /* outbox_form()'s */
    struct engine_effect lean_fx;
};

/* What the outbox keeps of an effect. An ENDED effect's history goes without the contact's
 * attributes, notes and transcript: those are personal data, which a PRIVACY_ERASE takes out
 * of the history row, but could not take out of an outbox that keeps effects until every
 * subscriber has passed them. Whoever needs them reads the history (GET /v1/history/{id}). */
static const struct engine_effect *outbox_form(const struct engine_effect *fx,
                                               struct engine_history *lean,
                                               struct engine_effect *lean_fx)
{
    if (fx->kind != ENGINE_FX_ENDED || fx->history == NULL) {
        return fx;
    }
    *lean = *fx->history;
    lean->n_attrs = 0;
    lean->notes = "";
    lean->transcript = (struct engine_transcript){0};
    *lean_fx = *fx;
    lean_fx->history = lean;
    return lean_fx;
}

/* Effects are kept (the bus's outbox), and history and audit rows written, only with a
 * batch: an entry applied again after a restart had them written by its first batch. */
static void on_effect(void *data, const struct engine_effect *fx)
{
    struct apply_ctx *a = data;
    struct cluster *c = a->c;
    touch_contact(&c->touched, fx->contact);
    touch_agent(&c->touched, fx->agent);
    if (a->batch == NULL || a->storage_err != 0) {
        return;
    }
    if (fx->kind == ENGINE_FX_ENDED && fx->history != NULL) {
        a->storage_err = storage_put_history(a->batch, fx->history);
    }
    if (fx->kind == ENGINE_FX_AGENT_STATE && a->storage_err == 0) {
        a->storage_err = storage_put_span(a->batch, c->fx_count, fx);
    }
    if (fx->kind == ENGINE_FX_AUDIT && a->storage_err == 0) {
        /* Effect n of the entry: the audit row's id is the event id INDEX.N. */
        a->storage_err = storage_put_audit(a->batch, c->fx_count, fx);
    }
    if (c->fx_count == 0) {
        cd_buf_reset(&c->fx);
        cd_buf_u32(&c->fx, 0); /* the count, written when the entry is done */
    }
    c->fx_count++;
    if (engine_effect_encode(outbox_form(fx, &a->lean, &a->lean_fx), &c->fx) != 0) {
        a->storage_err = CD_ENOMEM;
    }
}

/* The entry's effects into its batch, and the bus's retention. */
static int keep_effects(struct cluster *c, struct storage_batch *b)
{
    int rv = 0;
    if (c->fx_count > 0) {
        uint32_t n = c->fx_count;
        for (int i = 0; i < 4; i++) {
            c->fx.data[i] = (uint8_t)(n >> (8 * i)); /* as cd_buf_u32() writes it */
        }
        rv = storage_put_effects(b, c->fx.data, c->fx.len);
    }
    if (rv == 0 && c->effects_floor > 0) {
        rv = storage_trim_effects(b, c->effects_floor);
    }
    return rv;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Writes the records an entry touched, each once. */
static int write_touched(struct cluster *c, struct storage_batch *b)
{
    struct cluster__touched *t = &c->touched;
    int rv = 0;
    if (t->n_contacts > 1) {
        qsort(t->contacts, t->n_contacts, sizeof(*t->contacts), cmp_u64);
    }
    for (size_t i = 0; i < t->n_contacts && rv == 0; i++) {
        struct engine_contact_info info;
        if (i > 0 && t->contacts[i] == t->contacts[i - 1]) {
            continue;
        }
        rv = engine_contact_get(c->engine, t->contacts[i], &info) == 0
                 ? storage_put_contact(b, &info)
                 : storage_del_contact(b, t->contacts[i]);
    }
    if (t->n_agents > 1) {
        qsort(t->agents, t->n_agents, sizeof(*t->agents), cmp_name);
    }
    for (size_t i = 0; i < t->n_agents && rv == 0; i++) {
        struct engine_agent_info info;
        if (i > 0 && strcmp(t->agents[i], t->agents[i - 1]) == 0) {
            continue;
        }
        rv = engine_agent_get(c->engine, t->agents[i], &info) == 0
                 ? storage_put_agent(b, &info)
                 : storage_del_agent(b, t->agents[i]);
    }
    return rv;
}

/* A PRIVACY_ERASE reaches the history rows too, in the entry's batch. */
static void erase_history(struct apply_ctx *a,
                          const struct engine_command *cmd,
                          const struct engine_result *res)
{
    uint64_t rows = 0;
    if (cmd->kind == ENGINE_CMD_PRIVACY_ERASE && res->code == 0 && a->batch != NULL &&
        a->storage_err == 0) {
        a->storage_err =
            storage_erase_history(a->batch, cmd->u.erase.key, cmd->u.erase.value, &rows);
    }
}

static void apply_commands(struct cluster *c,
                           struct cluster__entry *entry,
                           struct cluster__batch *mine,
                           struct apply_ctx *a)
{
    struct engine_sink sink = {.emit = on_effect, .data = a};
    struct engine_cmd_store store;
    struct cluster__cmd *waiting = mine != NULL ? mine->cmds.head : NULL;
    engine_cmd_store_init(&store);
    for (uint32_t i = 0; i < entry->n_cmds; i++) {
        const uint8_t *bytes;
        size_t len;
        struct engine_command cmd;
        struct engine_result res = {0};
        if (cluster__entry_next(entry, &bytes, &len) != 0) {
            break; /* every node reads the same bytes: every node stops here */
        }
        int rv = engine_command_decode(bytes, len, &cmd, &store);
        if (rv == CD_ENOMEM || (rv == 0 && engine_apply(c->engine, &cmd, entry->stamp, &res,
                                                        &sink) == CD_ENOMEM)) {
            /* Not a property of the entry: going on would leave this node unlike the
             * others, which applied the command. */
            cluster__fatal(c, "engine out of memory at index %llu",
                           (unsigned long long)raft_last_applied(&c->raft) + 1);
        } else if (rv != 0) {
            res.code = CD_ECORRUPT; /* the same bytes on every node: the same answer */
            snprintf(res.message, sizeof(res.message), "command could not be decoded");
        } else {
            touch_command(&c->touched, &cmd, &res);
            erase_history(a, &cmd, &res);
        }
        c->commands_applied++;
        if (waiting != NULL) {
            waiting->res = res;
            waiting = waiting->next;
        }
    }
    engine_cmd_store_close(&store);
}

static void write_entry(struct cluster *c, uint64_t index, struct apply_ctx *a)
{
    char err[256];
    int rv = a->storage_err;
    if (rv == 0 && !c->touched.everything) {
        rv = write_touched(c, a->batch); /* else storage_reset below rewrites them all */
    }
    if (rv == 0) {
        rv = keep_effects(c, a->batch);
    }
    if (rv != 0) {
        storage_batch_abort(a->batch);
        cluster__fatal(c, "storage: write of index %llu failed", (unsigned long long)index);
        return;
    }
    if (storage_batch_commit(a->batch, err, sizeof(err)) != 0) {
        cluster__fatal(c, "storage: %s", err);
        return;
    }
    if (c->touched.everything &&
        storage_reset(c->storage, index, c->engine, err, sizeof(err))) {
        cluster__fatal(c, "storage: %s", err);
        return;
    }
    if (c->fx_count > 0 && c->effects.committed != NULL) {
        c->effects.committed(c->effects.data, index, c->fx.data, c->fx.len);
    }
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    struct cluster *c = fsm->data;
    uint64_t index = raft_last_applied(&c->raft) + 1;
    struct cluster__entry entry;
    struct apply_ctx a = {.c = c, .index = index};
    char err[256];
    *result = NULL;
    if (c->failed) {
        return RAFT_IOERR;
    }
    if (cluster__entry_decode(buf->base, buf->len, &entry) != 0) {
        entry.n_cmds = 0; /* deterministic on every node: the entry carries nothing */
        entry.proposer = 0;
        entry.stamp = engine_now(c->engine);
    }
    struct cluster__batch *mine = NULL;
    if (entry.proposer == c->id && entry.nonce == c->nonce) {
        mine = cluster__batch_find(c, entry.seq);
    }
    if (index > storage_applied(c->storage) &&
        storage_batch_begin(c->storage, index, &a.batch, err, sizeof(err)) != 0) {
        cluster__fatal(c, "storage: %s", err);
        return RAFT_IOERR;
    }
    c->touched.n_contacts = c->touched.n_agents = 0;
    c->touched.everything = false;
    c->fx_count = 0;
    apply_commands(c, &entry, mine, &a);
    if (a.batch != NULL) {
        write_entry(c, index, &a);
    }
    if (mine != NULL) {
        mine->applied = true;
    }
    c->last_fsm_index = index;
    c->entries_applied++;
    c->snap.log_bytes += buf->len;
    c->snap.log_entries++;
    cluster__applied(c, index);
    return c->failed ? RAFT_IOERR : 0;
}

/* ---- Snapshots ------------------------------------------------------------------------ */

/* A snapshot: magic, the index it stands for, then the engine's encoding (taken off the
 * loop: snapshot.c). Storage's records are not in it: a node that installs one rewrites them
 * from the state. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct cluster *c = fsm->data;
    struct cd_reader r;
    struct engine *e;
    char err[256];
    cd_reader_init(&r, buf->base, buf->len);
    uint32_t magic = cd_rd_u32(&r);
    uint64_t index = cd_rd_u64(&r);
    uint64_t last = magic == CLUSTER__SNAPSHOT_MAGIC2 ? cd_rd_u64(&r) : index;
    if (r.err != 0 || (magic != CLUSTER__SNAPSHOT_MAGIC && magic != CLUSTER__SNAPSHOT_MAGIC2) ||
        last > index) {
        return RAFT_CORRUPT;
    }
    if (engine_decode(r.p, cd_rd_left(&r), &e) != 0) {
        return RAFT_CORRUPT;
    }
    /* At start, a snapshot at or below what storage applied: the outbox has those entries'
     * effects. Above it, this node skips entries: their effects are nowhere here. Entries
     * after the last the state machine applied (read barriers) change nothing: a snapshot
     * whose last applied entry storage holds already skips nothing, and records no gap
     * (else every member, restarted from its own snapshot, would hold a gap nobody can
     * fill). */
    bool skipped = last > storage_applied(c->storage);
    if (skipped && storage_reset(c->storage, index, e, err, sizeof(err)) != 0) {
        engine_free(e);
        cluster__fatal(c, "storage: %s", err);
        return RAFT_IOERR;
    }
    engine_free(c->engine);
    c->engine = e;
    c->snapshot_index = index;
    c->last_fsm_index = last;
    char at[24], size[24];
    snprintf(at, sizeof(at), "%llu", (unsigned long long)index);
    snprintf(size, sizeof(size), "%zu", buf->len);
    cd_log(CD_LOG_INFO, "snapshot_installed", "index", at, "bytes", size, NULL);
    raft_free(buf->base);
    if (skipped && c->effects.restored != NULL) {
        c->effects.restored(c->effects.data, index);
    }
    cluster__applied(c, index);
    return 0;
}

int cluster_effects_each(const void *bytes,
                         size_t len,
                         int (*cb)(void *data, uint32_t n, const struct engine_effect *fx),
                         void *data)
{
    struct cd_reader r;
    cd_reader_init(&r, bytes, len);
    uint32_t count = cd_rd_u32(&r);
    for (uint32_t i = 0; i < count && r.err == 0; i++) {
        struct engine_effect fx;
        struct engine_history h;
        if (engine_effect_decode(&r, &fx, &h) != 0) {
            return CD_ECORRUPT;
        }
        int rv = cb(data, i, &fx);
        if (rv != 0) {
            return rv;
        }
    }
    return r.err != 0 || cd_rd_left(&r) != 0 ? CD_ECORRUPT : 0;
}

void cluster_effects_floor(struct cluster *c, uint64_t below)
{
    c->effects_floor = below;
}

void cluster__fsm_init(struct cluster *c)
{
    cd_buf_init(&c->fx);
    c->fsm.data = c;
    c->fsm.apply = fsm_apply;
    c->fsm.restore = fsm_restore;
    cluster__snapshot_init(c);
}
