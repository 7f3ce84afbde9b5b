/* Chat: the messages of a chat contact (CHAT_MESSAGE), the transcript that keeps them, and
 * the end of a chat whose customer did not come back. engine.h ("Chat") has the rules.
 *
 * A contact's transcript is kept in its binary form (struct engine_transcript), appended to
 * message by message: the ENDED effect's history, a snapshot and a history row carry those
 * bytes as they are. Beside it, one msg_ref per message (a hash of its side and id, and its
 * offset) finds a retried message id and the first message after a seq without decoding;
 * it is derived, rebuilt from the bytes on decode. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "engine/commands.h"

/* Room in msgs for n messages: the power of two that append() grows to. */
static uint32_t refs_cap(uint32_t n)
{
    uint32_t cap = 1;
    while (cap < n) {
        cap *= 2;
    }
    return cap;
}

static uint64_t msg_hash(uint8_t side, const char *msg_id)
{
    return cd_hash64(msg_id, strlen(msg_id), 0x6d7367u + side);
}

void engine__transcript(const struct contact *c, struct engine_transcript *out)
{
    *out = (struct engine_transcript){.data = c->transcript.len ? c->transcript.data : NULL,
                                      .len = c->transcript.len,
                                      .n = c->n_msgs,
                                      .bytes = c->msg_bytes};
}

void engine__transcript_free(struct contact *c)
{
    cd_buf_close(&c->transcript);
    cd_free(c->msgs);
    c->msgs = NULL;
    c->n_msgs = c->msg_bytes = 0;
}

/* ---- Reading and checking the binary form ------------------------------------------ */

/* One message at r; prev_seq is the seq before it. Checks it as CHAT_MESSAGE would take
 * it, so that only what the engine writes reads back. */
static int next_message(struct cd_reader *r, uint32_t prev_seq, struct engine_message *m)
{
    size_t id_len = 0, text_len = 0, agent_len = 0;
    m->seq = (uint32_t)cd_rd_uint(r, ENGINE_TRANSCRIPT_MAX);
    m->side = (uint8_t)cd_rd_uint(r, ENGINE_SIDE_COUNT - 1);
    m->at = cd_rd_svar(r);
    m->agent = cd_rd_str(r, &agent_len);
    m->msg_id = cd_rd_str(r, &id_len);
    m->text = cd_rd_str(r, &text_len);
    if (r->err != 0 || m->seq != prev_seq + 1 || agent_len >= ENGINE_NAME_MAX ||
        (m->side == ENGINE_SIDE_AGENT) != (agent_len > 0) || id_len >= ENGINE_MSG_ID_MAX ||
        !engine_visible_valid(m->msg_id, ENGINE_MSG_ID_MAX) || text_len == 0 ||
        text_len >= ENGINE_MESSAGE_MAX || strlen(m->text) != text_len) {
        cd_rd_fail(r);
        return CD_ECORRUPT;
    }
    return 0;
}

int engine_transcript_parse(const void *data, size_t len, struct engine_transcript *out)
{
    struct cd_reader r;
    struct engine_message m;
    uint32_t n = 0;
    uint64_t bytes = 0;
    cd_reader_init(&r, data, len);
    while (cd_rd_left(&r) > 0) {
        if (n == ENGINE_TRANSCRIPT_MAX || next_message(&r, n, &m) != 0) {
            *out = (struct engine_transcript){0};
            return CD_ECORRUPT;
        }
        n++;
        bytes += strlen(m.text);
    }
    if (bytes > ENGINE_TRANSCRIPT_BYTES) {
        *out = (struct engine_transcript){0};
        return CD_ECORRUPT;
    }
    *out = (struct engine_transcript){
        .data = len ? data : NULL, .len = len, .n = n, .bytes = (uint32_t)bytes};
    return 0;
}

int engine_transcript_read(const struct engine_transcript *t,
                           uint32_t after,
                           uint32_t limit,
                           int (*cb)(void *data, const struct engine_message *m),
                           void *data)
{
    struct cd_reader r;
    struct engine_message m;
    uint32_t given = 0;
    cd_reader_init(&r, t->data, t->len);
    for (uint32_t prev = 0; cd_rd_left(&r) > 0; prev = m.seq) {
        if (next_message(&r, prev, &m) != 0) {
            return CD_ECORRUPT;
        }
        if (m.seq <= after) {
            continue;
        }
        int rv = cb(data, &m);
        if (rv != 0) {
            return rv;
        }
        if (limit != 0 && ++given == limit) {
            break;
        }
    }
    return 0;
}

int engine__transcript_set(struct contact *c, const struct engine_transcript *t)
{
    struct cd_reader r;
    struct engine_message m;
    if (t->n == 0) {
        return 0;
    }
    c->msgs = cd_malloc(refs_cap(t->n) * sizeof(*c->msgs));
    cd_buf_put(&c->transcript, t->data, t->len);
    if (c->msgs == NULL || c->transcript.err != 0) {
        engine__transcript_free(c);
        return CD_ENOMEM;
    }
    cd_reader_init(&r, c->transcript.data, c->transcript.len);
    for (uint32_t i = 0; i < t->n; i++) {
        c->msgs[i].off = (uint32_t)(t->len - cd_rd_left(&r));
        next_message(&r, i, &m); /* checked by engine_transcript_parse() */
        c->msgs[i].hash = msg_hash(m.side, m.msg_id);
    }
    c->n_msgs = t->n;
    c->msg_bytes = t->bytes;
    return 0;
}

int engine_transcript_get(const struct engine *e, uint64_t id, struct engine_transcript *out)
{
    const struct contact *c = engine__contact(e, id);
    if (c == NULL) {
        return CD_ENOTFOUND;
    }
    engine__transcript(c, out);
    return 0;
}

/* ---- CHAT_MESSAGE ------------------------------------------------------------------- */

static int check_message(const struct engine_command *cmd, struct engine_result *res)
{
    const char *agent = cmd->u.message.agent ? cmd->u.message.agent : "";
    const char *text = cmd->u.message.text;
    if (cmd->u.message.from >= ENGINE_SIDE_COUNT) {
        return FAIL(res, CD_EINVAL, "from: expected the customer or the agent");
    }
    if (cmd->u.message.msg_id == NULL ||
        !engine_visible_valid(cmd->u.message.msg_id, ENGINE_MSG_ID_MAX)) {
        return FAIL(res, CD_EINVAL, "msg_id: expected 1-%d visible ASCII characters",
                    ENGINE_MSG_ID_MAX - 1);
    }
    if (text == NULL || text[0] == 0 ||
        strnlen(text, ENGINE_MESSAGE_MAX) == ENGINE_MESSAGE_MAX) {
        return FAIL(res, CD_EINVAL, "text: expected 1-%d bytes", ENGINE_MESSAGE_MAX - 1);
    }
    if ((cmd->u.message.from == ENGINE_SIDE_AGENT) != (agent[0] != 0)) {
        return FAIL(res, CD_EINVAL, "agent: %s",
                    agent[0] ? "a customer's message names no agent"
                             : "an agent's message names its agent");
    }
    return 0;
}

/* The contact may take this message now: a live chat, in a state where its side writes. */
static int check_contact(struct engine *e,
                         const struct contact *c,
                         const struct engine_command *cmd,
                         struct engine_result *res)
{
    uint8_t st = c->state;
    if (c->channel != ENGINE_CH_CHAT) {
        return FAIL(res, CD_EINVAL, "contact %llu is a %s contact, not a chat",
                    (unsigned long long)c->id, engine_channel_name(c->channel));
    }
    if (cmd->u.message.from == ENGINE_SIDE_CUSTOMER) {
        if (st != ENGINE_CONTACT_QUEUED && st != ENGINE_CONTACT_OFFERED &&
            st != ENGINE_CONTACT_CONNECTED) {
            return FAIL(res, CD_ESTATE, "contact %llu is %s: the customer cannot write",
                        (unsigned long long)c->id, engine_contact_state_name(st));
        }
        return 0;
    }
    if (st != ENGINE_CONTACT_CONNECTED) {
        return FAIL(res, CD_ESTATE, "contact %llu is %s: an agent writes only while connected",
                    (unsigned long long)c->id, engine_contact_state_name(st));
    }
    if (strcmp(e->agents[c->agent].name, cmd->u.message.agent) != 0) {
        return FAIL(res, CD_EINVAL, "agent '%.63s' is not connected with contact %llu",
                    cmd->u.message.agent, (unsigned long long)c->id);
    }
    return 0;
}

/* A message with this side and id already in the transcript: its seq, or 0. A retry must
 * be the same message; another text under the same id is CD_EEXISTS. */
static int find_retry(const struct contact *c,
                      const struct engine_command *cmd,
                      uint32_t *seq,
                      struct engine_result *res)
{
    uint64_t h = msg_hash(cmd->u.message.from, cmd->u.message.msg_id);
    *seq = 0;
    for (uint32_t i = 0; i < c->n_msgs; i++) {
        struct cd_reader r;
        struct engine_message m;
        if (c->msgs[i].hash != h) {
            continue;
        }
        cd_reader_init(&r, c->transcript.data + c->msgs[i].off,
                       c->transcript.len - c->msgs[i].off);
        next_message(&r, i, &m);
        if (m.side != cmd->u.message.from || strcmp(m.msg_id, cmd->u.message.msg_id) != 0) {
            continue;
        }
        if (strcmp(m.text, cmd->u.message.text) != 0 ||
            strcmp(m.agent, cmd->u.message.agent ? cmd->u.message.agent : "") != 0) {
            return FAIL(res, CD_EEXISTS,
                        "message id '%.64s' is message %u's, with another text", m.msg_id,
                        m.seq);
        }
        *seq = m.seq;
        return 0;
    }
    return 0;
}

/* Appends the message; on failure the transcript is as it was. */
static int append(struct engine *e, struct contact *c, const struct engine_command *cmd)
{
    size_t start = c->transcript.len;
    if (c->n_msgs == 0 || c->n_msgs == refs_cap(c->n_msgs)) {
        /* Full: room grows in powers of two. */
        uint32_t cap = c->n_msgs ? c->n_msgs * 2 : 1;
        struct msg_ref *m = cd_realloc(c->msgs, cap * sizeof(*m));
        if (m == NULL) {
            return CD_ENOMEM;
        }
        c->msgs = m;
    }
    cd_buf_uvar(&c->transcript, c->n_msgs + 1);
    cd_buf_u8(&c->transcript, cmd->u.message.from);
    cd_buf_svar(&c->transcript, e->clock);
    cd_buf_str(&c->transcript, cmd->u.message.agent);
    cd_buf_str(&c->transcript, cmd->u.message.msg_id);
    cd_buf_str(&c->transcript, cmd->u.message.text);
    if (c->transcript.err != 0) {
        c->transcript.err = 0; /* the bytes before start are intact */
        c->transcript.len = start;
        return CD_ENOMEM;
    }
    c->msgs[c->n_msgs].hash = msg_hash(cmd->u.message.from, cmd->u.message.msg_id);
    c->msgs[c->n_msgs].off = (uint32_t)start;
    c->n_msgs++;
    c->msg_bytes += (uint32_t)strlen(cmd->u.message.text);
    return 0;
}

int engine__cmd_message(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    struct contact *c = engine__contact(e, cmd->u.message.id);
    uint32_t seq = 0;
    int rv = check_message(cmd, res);
    if (rv != 0) {
        return rv;
    }
    if (c == NULL) {
        return FAIL(res, CD_ENOTFOUND, "contact %llu not found",
                    (unsigned long long)cmd->u.message.id);
    }
    if ((rv = check_contact(e, c, cmd, res)) != 0 ||
        (rv = find_retry(c, cmd, &seq, res)) != 0) {
        return rv;
    }
    if (seq != 0) {
        res->contact = seq;
        res->existing = true;
        return 0;
    }
    size_t len = strlen(cmd->u.message.text);
    if (c->n_msgs == ENGINE_TRANSCRIPT_MAX || c->msg_bytes + len > ENGINE_TRANSCRIPT_BYTES) {
        return FAIL(res, CD_ETOOBIG,
                    "contact %llu: the transcript is full (%d messages, %d "
                    "bytes of text at most)",
                    (unsigned long long)c->id, ENGINE_TRANSCRIPT_MAX, ENGINE_TRANSCRIPT_BYTES);
    }
    if (append(e, c, cmd) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    res->contact = c->n_msgs;
    struct engine_effect fx = {
        .kind = ENGINE_FX_MESSAGE,
        .channel = c->channel,
        .state = c->state,
        .contact = c->id,
        .agent = c->ring != NULL || c->agent == NONE32 ? "" : e->agents[c->agent].name,
        .queue = e->queues[c->queue].name,
        .text = cmd->u.message.text,
        .at = e->clock,
        .seq = c->n_msgs,
        .msg_id = cmd->u.message.msg_id,
        .side = cmd->u.message.from};
    engine__emit_contact(e, c, &fx);
    return 0;
}

/* ---- The customer who does not come back -------------------------------------------- */

uint8_t engine__done_outcome(const struct contact *c)
{
    return c->gone ? ENGINE_CONTACT_ABANDONED : ENGINE_CONTACT_COMPLETED;
}

const char *engine__done_reason(const struct contact *c)
{
    return c->gone ? "customer_gone" : "";
}

void engine__customer_gone(struct engine *e, struct contact *c)
{
    engine__set_reconnect(e, c, NEVER);
    switch (c->state) {
        case ENGINE_CONTACT_QUEUED:
        case ENGINE_CONTACT_OFFERED:
            engine__finish(e, c, ENGINE_CONTACT_ABANDONED, "customer_gone");
            break;
        case ENGINE_CONTACT_CONNECTED:
            c->gone = 1;
            engine__end_talk(e, c);
            break;
        default: /* wrap-up keeps no reconnect deadline: nothing to do */
            break;
    }
}
