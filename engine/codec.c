/* Binary form of commands: what cluster/ puts in the Raft log.
 *
 * Layout: u8 format (4), u8 kind, the actor (every kind), then the fields of that kind in
 * the order of their struct in engine.h (integers as varints, signed ones zigzag; strings
 * as a varint length, the bytes and a NUL; arrays as a count and the elements):
 *
 *   TICK                                  (nothing)
 *   CONTACT_CREATE                        key, channel, queue, priority, skills[], attrs[],
 *                                         home, session
 *   CONTACT_ABANDON, _END, _CALLBACK      id
 *   WRAPUP_DONE                           id, disposition, notes
 *   CONTACT_TRANSFER                      id, queue, agent, target
 *   CONTACT_SET_ATTRS                     id, attrs[]
 *   OFFER_ACCEPT, OFFER_REJECT            id, agent
 *   AGENT_LOGIN, _LOGOUT, _STATE, _DELETE name, presence, reason
 *   AGENT_SKILLS                          name, skills[]
 *   AGENT_UPSERT                          name, site, 4 x capacity, skills[], queues[]
 *   MODEL_INSTALL                         version, model (engine_model_encode()), source,
 *                                         comment, diff, rollback_of
 *   QUEUE_PAUSE, QUEUE_RESUME             name
 *   SESSION_MOVE, SESSION_END             id, home, session
 *   NODE_LOST                             name
 *   WEBHOOK_*                             id, url, secret, kinds, from_index, from_n,
 *                                         to_index, to_n, count, status, text
 *   TOKEN_CREATE                          name, kind, role, agent, user, expires_at, hash
 *                                         (ENGINE_TOKEN_HASH_LEN bytes as they are)
 *   TOKEN_REVOKE                          id, name
 *   USER_SET, USER_DELETE                 name, role, agent, verifier
 *   PRIVACY_ERASE                         key, value
 *   AUDIT_NOTE                            action, object
 *   CHAT_MESSAGE                          id, from, agent, msg_id, text
 *   HEALTH                                n, n x (name, state, value, since)
 *   FAULT_*                               id, text, path, level, target, ok, retry_at
 *   MODEL_SAVE, _FORGET, RUNBOOK_*,       name, signal, text, comment, run, version, ok,
 *   DRILL_RECORD                          revert, saved_at
 *                                         then (ok only) the model (engine_model_encode())
 *
 *   skills[] = n, n x (skill, level)      attrs[] = n, n x (key, value)
 *
 * A NULL string is written as "" and so decodes as "": the engine treats both alike. The
 * decoder is strict (minimal varints, values within their fields, nothing left over), so
 * encode(decode(x)) == x. Formats 1 (before contacts had a home) and 2 (before commands
 * carried their actor) and 3 (before chat messages and wrap-up dispositions) are refused as
 * CD_EVERSION. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/engine.h"
#include "common/buf.h"

#define CMD_FORMAT 4
#define STORE_BLOCKS (sizeof(((struct engine_cmd_store *)0)->blocks) / sizeof(void *))

struct enc
{
    struct cd_buf *b;
    int err;
};

/* ---- Encoding ----------------------------------------------------------------------- */

static void put_count(struct enc *w, uint8_t n, const void *arr, uint8_t max)
{
    if (n > max || (n > 0 && arr == NULL)) {
        w->err = CD_EINVAL;
    }
    cd_buf_uvar(w->b, n);
}

static void put_refs(struct enc *w, const struct engine_skill_ref *s, uint8_t n, uint8_t max)
{
    put_count(w, n, s, max);
    for (uint8_t i = 0; w->err == 0 && i < n; i++) {
        cd_buf_str(w->b, s[i].skill);
        cd_buf_uvar(w->b, s[i].level);
    }
}

static void put_attrs(struct enc *w, const struct engine_attr *a, uint8_t n)
{
    put_count(w, n, a, ENGINE_ATTRS_MAX);
    for (uint8_t i = 0; w->err == 0 && i < n; i++) {
        cd_buf_str(w->b, a[i].key);
        cd_buf_str(w->b, a[i].value);
    }
}

static void put_create(struct enc *w, const struct engine_contact_create *c)
{
    cd_buf_str(w->b, c->key);
    cd_buf_uvar(w->b, c->channel);
    cd_buf_str(w->b, c->queue);
    cd_buf_svar(w->b, c->priority);
    put_refs(w, c->skills, c->n_skills, ENGINE_REQ_SKILLS);
    put_attrs(w, c->attrs, c->n_attrs);
    cd_buf_str(w->b, c->home);
    cd_buf_str(w->b, c->session);
}

static void put_upsert(struct enc *w, const struct engine_agent_spec *a)
{
    cd_buf_str(w->b, a->name);
    cd_buf_str(w->b, a->site);
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        cd_buf_uvar(w->b, a->capacity[c]);
    }
    put_refs(w, a->skills, a->n_skills, ENGINE_AGENT_SKILLS);
    put_count(w, a->n_queues, a->queues, ENGINE_AGENT_QUEUES);
    for (uint8_t i = 0; w->err == 0 && i < a->n_queues; i++) {
        cd_buf_str(w->b, a->queues[i]);
    }
}

static void put_install(struct enc *w, const struct engine_command *cmd)
{
    cd_buf_uvar(w->b, cmd->u.install.version);
    if (cmd->u.install.model == NULL) {
        w->err = CD_EINVAL;
        return;
    }
    int rv = engine_model_encode(cmd->u.install.model, w->b);
    if (rv != 0) {
        w->err = rv;
    }
    cd_buf_str(w->b, cmd->u.install.source);
    cd_buf_str(w->b, cmd->u.install.comment);
    cd_buf_str(w->b, cmd->u.install.diff);
    cd_buf_uvar(w->b, cmd->u.install.rollback_of);
}

static void put_runbook(struct enc *w, const struct engine_command *cmd)
{
    cd_buf_str(w->b, cmd->u.runbook.name);
    cd_buf_str(w->b, cmd->u.runbook.signal);
    cd_buf_str(w->b, cmd->u.runbook.text);
    cd_buf_str(w->b, cmd->u.runbook.comment);
    cd_buf_uvar(w->b, cmd->u.runbook.run);
    cd_buf_uvar(w->b, cmd->u.runbook.version);
    cd_buf_uvar(w->b, cmd->u.runbook.ok);
    cd_buf_uvar(w->b, cmd->u.runbook.revert);
    cd_buf_svar(w->b, cmd->u.runbook.saved_at);
    if (cmd->u.runbook.ok && cmd->kind == ENGINE_CMD_RUNBOOK_MODEL) {
        int rv = cmd->u.runbook.model != NULL ? engine_model_encode(cmd->u.runbook.model, w->b)
                                              : CD_EINVAL;
        if (rv != 0) {
            w->err = rv;
        }
    }
}

static void put_webhook(struct enc *w, const struct engine_command *cmd)
{
    cd_buf_uvar(w->b, cmd->u.webhook.id);
    cd_buf_str(w->b, cmd->u.webhook.url);
    cd_buf_str(w->b, cmd->u.webhook.secret);
    cd_buf_uvar(w->b, cmd->u.webhook.kinds);
    cd_buf_uvar(w->b, cmd->u.webhook.from_index);
    cd_buf_uvar(w->b, cmd->u.webhook.from_n);
    cd_buf_uvar(w->b, cmd->u.webhook.to_index);
    cd_buf_uvar(w->b, cmd->u.webhook.to_n);
    cd_buf_uvar(w->b, cmd->u.webhook.count);
    cd_buf_uvar(w->b, cmd->u.webhook.status);
    cd_buf_str(w->b, cmd->u.webhook.text);
}

static void put_token(struct enc *w, const struct engine_command *cmd)
{
    if (cmd->kind == ENGINE_CMD_TOKEN_REVOKE) {
        cd_buf_uvar(w->b, cmd->u.token.id);
        cd_buf_str(w->b, cmd->u.token.name);
        return;
    }
    cd_buf_str(w->b, cmd->u.token.name);
    cd_buf_uvar(w->b, cmd->u.token.kind);
    cd_buf_uvar(w->b, cmd->u.token.role);
    cd_buf_str(w->b, cmd->u.token.agent);
    cd_buf_str(w->b, cmd->u.token.user);
    cd_buf_svar(w->b, cmd->u.token.expires_at);
    cd_buf_put(w->b, cmd->u.token.hash, ENGINE_TOKEN_HASH_LEN);
}

static void put_user(struct enc *w, const struct engine_command *cmd)
{
    cd_buf_str(w->b, cmd->u.user.name);
    cd_buf_uvar(w->b, cmd->u.user.role);
    cd_buf_str(w->b, cmd->u.user.agent);
    cd_buf_str(w->b, cmd->u.user.verifier);
}

static void put_body(struct enc *w, const struct engine_command *cmd)
{
    switch (cmd->kind) {
        case ENGINE_CMD_TICK:
            break;
        case ENGINE_CMD_CONTACT_CREATE:
            put_create(w, &cmd->u.create);
            break;
        case ENGINE_CMD_CONTACT_TRANSFER:
            cd_buf_uvar(w->b, cmd->u.transfer.id);
            cd_buf_str(w->b, cmd->u.transfer.queue);
            cd_buf_str(w->b, cmd->u.transfer.agent);
            cd_buf_str(w->b, cmd->u.transfer.target);
            break;
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            cd_buf_uvar(w->b, cmd->u.set_attrs.id);
            put_attrs(w, cmd->u.set_attrs.attrs, cmd->u.set_attrs.n_attrs);
            break;
        case ENGINE_CMD_OFFER_ACCEPT:
        case ENGINE_CMD_OFFER_REJECT:
            cd_buf_uvar(w->b, cmd->u.offer.id);
            cd_buf_str(w->b, cmd->u.offer.agent);
            break;
        case ENGINE_CMD_AGENT_LOGIN:
        case ENGINE_CMD_AGENT_LOGOUT:
        case ENGINE_CMD_AGENT_STATE:
        case ENGINE_CMD_AGENT_DELETE:
            cd_buf_str(w->b, cmd->u.agent.name);
            cd_buf_uvar(w->b, cmd->u.agent.presence);
            cd_buf_str(w->b, cmd->u.agent.reason);
            break;
        case ENGINE_CMD_AGENT_SKILLS:
            cd_buf_str(w->b, cmd->u.skills.name);
            put_refs(w, cmd->u.skills.skills, cmd->u.skills.n_skills, ENGINE_AGENT_SKILLS);
            break;
        case ENGINE_CMD_AGENT_UPSERT:
            put_upsert(w, &cmd->u.upsert);
            break;
        case ENGINE_CMD_MODEL_INSTALL:
            put_install(w, cmd);
            break;
        case ENGINE_CMD_QUEUE_PAUSE:
        case ENGINE_CMD_QUEUE_RESUME:
            cd_buf_str(w->b, cmd->u.queue.name);
            break;
        case ENGINE_CMD_SESSION_MOVE:
        case ENGINE_CMD_SESSION_END:
            cd_buf_uvar(w->b, cmd->u.session.id);
            cd_buf_str(w->b, cmd->u.session.home);
            cd_buf_str(w->b, cmd->u.session.session);
            break;
        case ENGINE_CMD_NODE_LOST:
            cd_buf_str(w->b, cmd->u.node.name);
            break;
        case ENGINE_CMD_WEBHOOK_ADD:
        case ENGINE_CMD_WEBHOOK_DELETE:
        case ENGINE_CMD_WEBHOOK_DELIVERED:
        case ENGINE_CMD_WEBHOOK_FAILED:
            put_webhook(w, cmd);
            break;
        case ENGINE_CMD_TOKEN_CREATE:
        case ENGINE_CMD_TOKEN_REVOKE:
            put_token(w, cmd);
            break;
        case ENGINE_CMD_PRIVACY_ERASE:
            cd_buf_str(w->b, cmd->u.erase.key);
            cd_buf_str(w->b, cmd->u.erase.value);
            break;
        case ENGINE_CMD_USER_SET:
        case ENGINE_CMD_USER_DELETE:
            put_user(w, cmd);
            break;
        case ENGINE_CMD_AUDIT_NOTE:
            cd_buf_str(w->b, cmd->u.note.action);
            cd_buf_str(w->b, cmd->u.note.object);
            break;
        case ENGINE_CMD_WRAPUP_DONE:
            cd_buf_uvar(w->b, cmd->u.wrapup.id);
            cd_buf_str(w->b, cmd->u.wrapup.disposition);
            cd_buf_str(w->b, cmd->u.wrapup.notes);
            break;
        case ENGINE_CMD_REPORT_PUT:
        case ENGINE_CMD_REPORT_DELETE:
            cd_buf_str(w->b, cmd->u.report.name);
            cd_buf_str(w->b, cmd->u.report.text);
            cd_buf_str(w->b, cmd->u.report.comment);
            cd_buf_uvar(w->b, cmd->u.report.expect);
            break;
        case ENGINE_CMD_REPORT_SLOT:
        case ENGINE_CMD_REPORT_SENT:
            cd_buf_str(w->b, cmd->u.round.name);
            cd_buf_svar(w->b, cmd->u.round.slot);
            cd_buf_uvar(w->b, cmd->u.round.version);
            cd_buf_uvar(w->b, cmd->u.round.targets);
            cd_buf_uvar(w->b, cmd->u.round.target);
            cd_buf_uvar(w->b, cmd->u.round.ok);
            cd_buf_str(w->b, cmd->u.round.text);
            cd_buf_svar(w->b, cmd->u.round.retry_at);
            break;
        case ENGINE_CMD_CHAT_MESSAGE:
            cd_buf_uvar(w->b, cmd->u.message.id);
            cd_buf_uvar(w->b, cmd->u.message.from);
            cd_buf_str(w->b, cmd->u.message.agent);
            cd_buf_str(w->b, cmd->u.message.msg_id);
            cd_buf_str(w->b, cmd->u.message.text);
            break;
        case ENGINE_CMD_HEALTH:
            put_count(w, cmd->u.health.n, cmd->u.health.signals, ENGINE_HEALTH_BATCH);
            for (uint8_t i = 0; w->err == 0 && i < cmd->u.health.n; i++) {
                const struct engine_signal_set *v = &cmd->u.health.signals[i];
                cd_buf_str(w->b, v->name);
                cd_buf_uvar(w->b, v->state);
                cd_buf_svar(w->b, v->value);
                cd_buf_svar(w->b, v->since);
            }
            break;
        case ENGINE_CMD_FAULT_ACK:
        case ENGINE_CMD_FAULT_NOTE:
        case ENGINE_CMD_FAULT_CLOSE:
        case ENGINE_CMD_FAULT_ESCALATE:
        case ENGINE_CMD_FAULT_NOTIFIED:
            cd_buf_uvar(w->b, cmd->u.fault.id);
            cd_buf_str(w->b, cmd->u.fault.text);
            cd_buf_str(w->b, cmd->u.fault.path);
            cd_buf_uvar(w->b, cmd->u.fault.level);
            cd_buf_uvar(w->b, cmd->u.fault.target);
            cd_buf_uvar(w->b, cmd->u.fault.ok);
            cd_buf_svar(w->b, cmd->u.fault.retry_at);
            break;
        case ENGINE_CMD_MODEL_SAVE:
        case ENGINE_CMD_MODEL_FORGET:
        case ENGINE_CMD_RUNBOOK_RUN:
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
        case ENGINE_CMD_DRILL_RECORD:
            put_runbook(w, cmd);
            break;
        default: /* ABANDON, END, CALLBACK */
            cd_buf_uvar(w->b, cmd->u.contact.id);
            break;
    }
}

int engine_command_encode(const struct engine_command *cmd, struct cd_buf *out)
{
    if (cmd->kind < ENGINE_CMD_TICK || cmd->kind >= ENGINE_CMD_KIND_COUNT) {
        return CD_EINVAL;
    }
    if (out->err != 0) {
        return out->err;
    }
    struct enc w = {out, 0};
    size_t start = out->len;
    cd_buf_u8(out, CMD_FORMAT);
    cd_buf_u8(out, cmd->kind);
    cd_buf_str(out, cmd->actor);
    put_body(&w, cmd);
    if (out->err != 0) {
        return out->err;
    }
    if (w.err != 0) {
        out->len = start;
    }
    return w.err;
}

/* ---- The store ---------------------------------------------------------------------- */

void engine_cmd_store_init(struct engine_cmd_store *s)
{
    memset(s->blocks, 0, sizeof(s->blocks));
    s->n_blocks = 0;
    engine_model_init(&s->model);
}

void engine_cmd_store_close(struct engine_cmd_store *s)
{
    for (size_t i = 0; i < s->n_blocks; i++) {
        cd_free(s->blocks[i]);
    }
    engine_model_close(&s->model);
    engine_cmd_store_init(s);
}

/* A zeroed array of n elements owned by the store; NULL for n == 0 (with *rv untouched)
 * and on failure (with *rv set). */
static void *store_alloc(struct engine_cmd_store *s, uint8_t n, size_t size, int *rv)
{
    if (n == 0 || *rv != 0) {
        return NULL;
    }
    void *p = s->n_blocks < STORE_BLOCKS ? cd_calloc(n, size) : NULL;
    if (p == NULL) {
        *rv = CD_ENOMEM;
        return NULL;
    }
    s->blocks[s->n_blocks++] = p;
    return p;
}

/* ---- Decoding ----------------------------------------------------------------------- */

struct dec
{
    struct cd_reader r;
    struct engine_cmd_store *store;
    int rv; /* CD_ENOMEM, or an error of the embedded model */
};

static const char *get_str(struct dec *d)
{
    return cd_rd_str(&d->r, NULL);
}

static const struct engine_skill_ref *get_refs(struct dec *d, uint8_t *n, uint8_t max)
{
    *n = (uint8_t)cd_rd_uint(&d->r, max);
    struct engine_skill_ref *s = store_alloc(d->store, *n, sizeof(*s), &d->rv);
    for (uint8_t i = 0; s != NULL && i < *n; i++) {
        s[i].skill = get_str(d);
        s[i].level = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    }
    return s;
}

static const struct engine_attr *get_attrs(struct dec *d, uint8_t *n)
{
    *n = (uint8_t)cd_rd_uint(&d->r, ENGINE_ATTRS_MAX);
    struct engine_attr *a = store_alloc(d->store, *n, sizeof(*a), &d->rv);
    for (uint8_t i = 0; a != NULL && i < *n; i++) {
        a[i].key = get_str(d);
        a[i].value = get_str(d);
    }
    return a;
}

static void get_create(struct dec *d, struct engine_contact_create *c)
{
    c->key = get_str(d);
    c->channel = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    c->queue = get_str(d);
    c->priority = (int16_t)cd_rd_int(&d->r, INT16_MIN, INT16_MAX);
    c->skills = get_refs(d, &c->n_skills, ENGINE_REQ_SKILLS);
    c->attrs = get_attrs(d, &c->n_attrs);
    c->home = get_str(d);
    c->session = get_str(d);
}

static void get_upsert(struct dec *d, struct engine_agent_spec *a)
{
    a->name = get_str(d);
    a->site = get_str(d);
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        a->capacity[c] = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    }
    a->skills = get_refs(d, &a->n_skills, ENGINE_AGENT_SKILLS);
    a->n_queues = (uint8_t)cd_rd_uint(&d->r, ENGINE_AGENT_QUEUES);
    const char **q = store_alloc(d->store, a->n_queues, sizeof(*q), &d->rv);
    for (uint8_t i = 0; q != NULL && i < a->n_queues; i++) {
        q[i] = get_str(d);
    }
    a->queues = q;
}

static void get_install(struct dec *d, struct engine_command *cmd)
{
    cmd->u.install.version = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    if (d->r.err != 0) {
        return;
    }
    d->rv = engine_model_decode(&d->r, &d->store->model);
    cmd->u.install.model = &d->store->model;
    if (d->rv != 0) {
        return;
    }
    cmd->u.install.source = get_str(d);
    cmd->u.install.comment = get_str(d);
    cmd->u.install.diff = get_str(d);
    cmd->u.install.rollback_of = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
}

static void get_runbook(struct dec *d, struct engine_command *cmd)
{
    cmd->u.runbook.name = get_str(d);
    cmd->u.runbook.signal = get_str(d);
    cmd->u.runbook.text = get_str(d);
    cmd->u.runbook.comment = get_str(d);
    cmd->u.runbook.run = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.runbook.version = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.runbook.ok = cd_rd_uint(&d->r, 1) != 0;
    cmd->u.runbook.revert = cd_rd_uint(&d->r, 1) != 0;
    cmd->u.runbook.saved_at = cd_rd_svar(&d->r);
    if (cmd->u.runbook.ok && cmd->kind == ENGINE_CMD_RUNBOOK_MODEL && d->r.err == 0) {
        d->rv = engine_model_decode(&d->r, &d->store->model);
        cmd->u.runbook.model = &d->store->model;
    }
}

static void get_agent(struct dec *d, struct engine_command *cmd)
{
    cmd->u.agent.name = get_str(d);
    cmd->u.agent.presence = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    cmd->u.agent.reason = get_str(d);
}

static void get_webhook(struct dec *d, struct engine_command *cmd)
{
    cmd->u.webhook.id = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.webhook.url = get_str(d);
    cmd->u.webhook.secret = get_str(d);
    cmd->u.webhook.kinds = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.webhook.from_index = cd_rd_uint(&d->r, UINT64_MAX);
    cmd->u.webhook.from_n = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.webhook.to_index = cd_rd_uint(&d->r, UINT64_MAX);
    cmd->u.webhook.to_n = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.webhook.count = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
    cmd->u.webhook.status = (uint16_t)cd_rd_uint(&d->r, UINT16_MAX);
    cmd->u.webhook.text = get_str(d);
}

static void get_token(struct dec *d, struct engine_command *cmd)
{
    if (cmd->kind == ENGINE_CMD_TOKEN_REVOKE) {
        cmd->u.token.id = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
        cmd->u.token.name = get_str(d);
        return;
    }
    cmd->u.token.name = get_str(d);
    cmd->u.token.kind = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    cmd->u.token.role = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    cmd->u.token.agent = get_str(d);
    cmd->u.token.user = get_str(d);
    cmd->u.token.expires_at = cd_rd_svar(&d->r);
    const uint8_t *hash = cd_rd_bytes(&d->r, ENGINE_TOKEN_HASH_LEN);
    if (hash != NULL) {
        memcpy(cmd->u.token.hash, hash, ENGINE_TOKEN_HASH_LEN);
    }
}

static void get_user(struct dec *d, struct engine_command *cmd)
{
    cmd->u.user.name = get_str(d);
    cmd->u.user.role = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
    cmd->u.user.agent = get_str(d);
    cmd->u.user.verifier = get_str(d);
}

static void get_health(struct dec *d, struct engine_command *cmd)
{
    uint8_t n = (uint8_t)cd_rd_uint(&d->r, ENGINE_HEALTH_BATCH);
    struct engine_signal_set *v = store_alloc(d->store, n, sizeof(*v), &d->rv);
    for (uint8_t i = 0; v != NULL && i < n; i++) {
        v[i].name = get_str(d);
        v[i].state = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
        v[i].value = cd_rd_svar(&d->r);
        v[i].since = cd_rd_svar(&d->r);
    }
    cmd->u.health.n = v != NULL ? n : 0;
    cmd->u.health.signals = v;
}

static void get_body(struct dec *d, struct engine_command *cmd)
{
    switch (cmd->kind) {
        case ENGINE_CMD_TICK:
            break;
        case ENGINE_CMD_CONTACT_CREATE:
            get_create(d, &cmd->u.create);
            break;
        case ENGINE_CMD_CONTACT_TRANSFER:
            cmd->u.transfer.id = cd_rd_uint(&d->r, UINT64_MAX);
            cmd->u.transfer.queue = get_str(d);
            cmd->u.transfer.agent = get_str(d);
            cmd->u.transfer.target = get_str(d);
            break;
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            cmd->u.set_attrs.id = cd_rd_uint(&d->r, UINT64_MAX);
            cmd->u.set_attrs.attrs = get_attrs(d, &cmd->u.set_attrs.n_attrs);
            break;
        case ENGINE_CMD_OFFER_ACCEPT:
        case ENGINE_CMD_OFFER_REJECT:
            cmd->u.offer.id = cd_rd_uint(&d->r, UINT64_MAX);
            cmd->u.offer.agent = get_str(d);
            break;
        case ENGINE_CMD_AGENT_LOGIN:
        case ENGINE_CMD_AGENT_LOGOUT:
        case ENGINE_CMD_AGENT_STATE:
        case ENGINE_CMD_AGENT_DELETE:
            get_agent(d, cmd);
            break;
        case ENGINE_CMD_AGENT_SKILLS:
            cmd->u.skills.name = get_str(d);
            cmd->u.skills.skills = get_refs(d, &cmd->u.skills.n_skills, ENGINE_AGENT_SKILLS);
            break;
        case ENGINE_CMD_AGENT_UPSERT:
            get_upsert(d, &cmd->u.upsert);
            break;
        case ENGINE_CMD_MODEL_INSTALL:
            get_install(d, cmd);
            break;
        case ENGINE_CMD_QUEUE_PAUSE:
        case ENGINE_CMD_QUEUE_RESUME:
            cmd->u.queue.name = get_str(d);
            break;
        case ENGINE_CMD_SESSION_MOVE:
        case ENGINE_CMD_SESSION_END:
            cmd->u.session.id = cd_rd_uint(&d->r, UINT64_MAX);
            cmd->u.session.home = get_str(d);
            cmd->u.session.session = get_str(d);
            break;
        case ENGINE_CMD_NODE_LOST:
            cmd->u.node.name = get_str(d);
            break;
        case ENGINE_CMD_WEBHOOK_ADD:
        case ENGINE_CMD_WEBHOOK_DELETE:
        case ENGINE_CMD_WEBHOOK_DELIVERED:
        case ENGINE_CMD_WEBHOOK_FAILED:
            get_webhook(d, cmd);
            break;
        case ENGINE_CMD_TOKEN_CREATE:
        case ENGINE_CMD_TOKEN_REVOKE:
            get_token(d, cmd);
            break;
        case ENGINE_CMD_PRIVACY_ERASE:
            cmd->u.erase.key = get_str(d);
            cmd->u.erase.value = get_str(d);
            break;
        case ENGINE_CMD_USER_SET:
        case ENGINE_CMD_USER_DELETE:
            get_user(d, cmd);
            break;
        case ENGINE_CMD_AUDIT_NOTE:
            cmd->u.note.action = get_str(d);
            cmd->u.note.object = get_str(d);
            break;
        case ENGINE_CMD_CONTACT_ABANDON:
        case ENGINE_CMD_CONTACT_END:
        case ENGINE_CMD_CONTACT_CALLBACK:
        case ENGINE_CMD_CONTACT_HOLD:
        case ENGINE_CMD_CONTACT_RESUME:
            cmd->u.contact.id = cd_rd_uint(&d->r, UINT64_MAX);
            break;
        case ENGINE_CMD_WRAPUP_DONE:
            cmd->u.wrapup.id = cd_rd_uint(&d->r, UINT64_MAX);
            cmd->u.wrapup.disposition = get_str(d);
            cmd->u.wrapup.notes = get_str(d);
            break;
        case ENGINE_CMD_REPORT_PUT:
        case ENGINE_CMD_REPORT_DELETE:
            cmd->u.report.name = get_str(d);
            cmd->u.report.text = get_str(d);
            cmd->u.report.comment = get_str(d);
            cmd->u.report.expect = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
            break;
        case ENGINE_CMD_REPORT_SLOT:
        case ENGINE_CMD_REPORT_SENT:
            cmd->u.round.name = get_str(d);
            cmd->u.round.slot = cd_rd_svar(&d->r);
            cmd->u.round.version = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
            cmd->u.round.targets = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
            cmd->u.round.target = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
            cmd->u.round.ok = cd_rd_uint(&d->r, 1) != 0;
            cmd->u.round.text = get_str(d);
            cmd->u.round.retry_at = cd_rd_svar(&d->r);
            break;
        case ENGINE_CMD_CHAT_MESSAGE:
            cmd->u.message.id = cd_rd_uint(&d->r, UINT64_MAX);
            cmd->u.message.from = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
            cmd->u.message.agent = get_str(d);
            cmd->u.message.msg_id = get_str(d);
            cmd->u.message.text = get_str(d);
            break;
        case ENGINE_CMD_HEALTH:
            get_health(d, cmd);
            break;
        case ENGINE_CMD_FAULT_ACK:
        case ENGINE_CMD_FAULT_NOTE:
        case ENGINE_CMD_FAULT_CLOSE:
        case ENGINE_CMD_FAULT_ESCALATE:
        case ENGINE_CMD_FAULT_NOTIFIED:
            cmd->u.fault.id = (uint32_t)cd_rd_uint(&d->r, UINT32_MAX);
            cmd->u.fault.text = get_str(d);
            cmd->u.fault.path = get_str(d);
            cmd->u.fault.level = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
            cmd->u.fault.target = (uint8_t)cd_rd_uint(&d->r, UINT8_MAX);
            cmd->u.fault.ok = cd_rd_uint(&d->r, 1) != 0;
            cmd->u.fault.retry_at = cd_rd_svar(&d->r);
            break;
        case ENGINE_CMD_MODEL_SAVE:
        case ENGINE_CMD_MODEL_FORGET:
        case ENGINE_CMD_RUNBOOK_RUN:
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
        case ENGINE_CMD_DRILL_RECORD:
            get_runbook(d, cmd);
            break;
        default:
            cd_rd_fail(&d->r);
            break;
    }
}

int engine_command_decode(const void *data,
                          size_t len,
                          struct engine_command *cmd,
                          struct engine_cmd_store *store)
{
    engine_cmd_store_close(store);
    memset(cmd, 0, sizeof(*cmd));
    if (len < 2) {
        return len == 1 && *(const uint8_t *)data != CMD_FORMAT ? CD_EVERSION : CD_ECORRUPT;
    }
    struct dec d = {.store = store};
    cd_reader_init(&d.r, data, len);
    if (cd_rd_u8(&d.r) != CMD_FORMAT) {
        return CD_EVERSION;
    }
    cmd->kind = cd_rd_u8(&d.r);
    cmd->actor = get_str(&d);
    get_body(&d, cmd);
    int rv = d.rv;
    if (rv == 0 && (d.r.err != 0 || cd_rd_left(&d.r) != 0)) {
        rv = CD_ECORRUPT;
    }
    if (rv != 0) {
        engine_cmd_store_close(store);
        memset(cmd, 0, sizeof(*cmd));
    }
    return rv;
}
