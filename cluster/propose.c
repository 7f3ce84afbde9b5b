/* Submitting commands: group commit on the leader, forwarding from a follower, answers
 * handed back from the loop, and the leader's tick timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/internal.h"
#include "common/error.h"

int64_t cluster__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cluster__is_leader(const struct cluster *c)
{
    return c->raft_started && raft_state((struct raft *)&c->raft) == RAFT_LEADER;
}

int64_t cluster_wall_ms(void)
{
    return cluster__wall_ms();
}

bool cluster_is_leader(const struct cluster *c)
{
    return cluster__is_leader(c);
}

/* The leader this node knows of, and its peer channel address from the replicated
 * configuration. */
const char *cluster__leader_peer(const struct cluster *c, raft_id *id, char *buf, size_t len)
{
    raft_id leader = 0;
    const char *address;
    if (c->raft_started) {
        raft_leader((struct raft *)&c->raft, &leader, &address);
    }
    *id = leader;
    return leader != 0 ? cluster__member_peer(c, leader, buf, len) : NULL;
}

/* ---- Lists and answers ---------------------------------------------------------------- */

void cluster__list_push(struct cluster__list *l, struct cluster__cmd *cmd)
{
    cmd->next = NULL;
    if (l->tail != NULL) {
        l->tail->next = cmd;
    } else {
        l->head = cmd;
    }
    l->tail = cmd;
    l->n++;
}

struct cluster__cmd *cluster__list_pop(struct cluster__list *l)
{
    struct cluster__cmd *cmd = l->head;
    if (cmd != NULL) {
        l->head = cmd->next;
        if (l->head == NULL) {
            l->tail = NULL;
        }
        l->n--;
        cmd->next = NULL;
    }
    return cmd;
}

void cluster__cmd_free(struct cluster__cmd *cmd)
{
    free(cmd->bytes);
    free(cmd);
}

/* Queues the answer; the pump hands it back on the next turn of the loop. */
void cluster__answer(struct cluster *c, struct cluster__cmd *cmd, int code, const char *msg)
{
    if (code != 0) {
        memset(&cmd->res, 0, sizeof(cmd->res));
        cmd->res.code = code;
        snprintf(cmd->res.message, sizeof(cmd->res.message), "%s", msg);
    }
    cluster__list_push(&c->answered, cmd);
    cluster__wake(c);
}

void cluster__fail_all(struct cluster *c, int code, const char *msg)
{
    struct cluster__cmd *cmd;
    while ((cmd = cluster__list_pop(&c->queue)) != NULL) {
        cluster__answer(c, cmd, code, msg);
    }
    while ((cmd = cluster__list_pop(&c->applying)) != NULL) {
        cluster__answer(c, cmd, 0, NULL);
    }
}

/* ---- Forwarding ------------------------------------------------------------------------ */

static void forwarded(struct cluster *c, void *req, int status, const void *reply, size_t len)
{
    struct cluster__cmd *cmd = req;
    uint64_t index = 0;
    if (status == CLUSTER__ABANDONED) {
        cluster__answer(c, cmd, CD_EUNAVAIL,
                        c->closing ? "this node is shutting down; the command may or may not "
                                     "have been applied"
                                   : "the leader changed before it answered; the command may "
                                     "or may not have been applied: retry");
        return;
    }
    if (status != 0) {
        cluster__answer(c, cmd, status == CD_ETIMEDOUT ? CD_ETIMEDOUT : CD_EUNAVAIL,
                        "the leader did not answer; the command may or may not have "
                        "been applied");
        return;
    }
    if (cluster__result_decode(reply, len, &cmd->res, &index) != 0) {
        cluster__answer(c, cmd, CD_EUNAVAIL, "the leader's answer was malformed");
        return;
    }
    if (index <= raft_last_applied(&c->raft)) {
        cluster__answer(c, cmd, 0, NULL);
        return;
    }
    /* Answer once this node shows the write too, so the client reads its own writes. */
    cmd->wait_index = index;
    cmd->deadline = uv_now(c->loop) + CLUSTER__APPLY_WAIT_MS;
    cluster__list_push(&c->applying, cmd);
}

static void forward(struct cluster *c, struct cluster__cmd *cmd)
{
    char peer[CONFIG_HOST_MAX + 8];
    raft_id leader;
    if (cluster__leader_peer(c, &leader, peer, sizeof(peer)) == NULL) {
        cluster__answer(c, cmd, CD_EUNAVAIL, "no leader is known; retry shortly");
        return;
    }
    int rv = cluster__peer_send(c, leader, peer, CLUSTER_FWD_COMMAND, cmd->bytes, cmd->len,
                                forwarded, cmd);
    if (rv == CD_ETOOBIG) {
        cluster__answer(c, cmd, rv, "the command is too large to forward to the leader");
    } else if (rv != 0) {
        cluster__answer(c, cmd, CD_EUNAVAIL, "could not reach the leader");
    }
}

/* ---- Submitting ------------------------------------------------------------------------ */

static int submit(struct cluster *c, uint8_t *bytes, size_t len, cluster_result_cb cb, void *d)
{
    struct cluster__cmd *cmd = calloc(1, sizeof(*cmd));
    if (cmd == NULL) {
        free(bytes);
        return CD_ENOMEM;
    }
    cmd->c = c;
    cmd->cb = cb;
    cmd->data = d;
    cmd->bytes = bytes;
    cmd->len = len;
    if (c->closing || c->failed) {
        cluster__answer(c, cmd, CD_EUNAVAIL, "this node is shutting down");
    } else if (cluster__is_leader(c)) {
        cluster__list_push(&c->queue, cmd);
        cluster__wake(c);
    } else {
        forward(c, cmd);
    }
    return 0;
}

int cluster_submit(struct cluster *c,
                   const struct engine_command *cmd,
                   cluster_result_cb cb,
                   void *data)
{
    struct cd_buf b;
    cd_buf_init(&b);
    int rv = engine_command_encode(cmd, &b);
    if (rv != 0) {
        cd_buf_close(&b);
        return rv;
    }
    return submit(c, b.data, b.len, cb, data);
}

int cluster_submit_encoded(struct cluster *c,
                           const void *bytes,
                           size_t len,
                           cluster_result_cb cb,
                           void *data)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        return CD_ENOMEM;
    }
    memcpy(copy, bytes, len);
    return submit(c, copy, len, cb, data);
}

/* ---- Group commit ---------------------------------------------------------------------- */

struct cluster__batch *cluster__batch_find(struct cluster *c, uint64_t seq)
{
    for (struct cluster__batch *b = c->inflight; b != NULL; b = b->next) {
        if (b->seq == seq) {
            return b;
        }
    }
    return NULL;
}

static void batch_unlink(struct cluster *c, struct cluster__batch *b)
{
    for (struct cluster__batch **p = &c->inflight; *p != NULL; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            c->n_inflight--;
            return;
        }
    }
}

static void batch_done(struct raft_apply *req, int status, void *result)
{
    struct cluster__batch *b = req->data;
    struct cluster *c = b->c;
    struct cluster__cmd *cmd;
    (void)result;
    batch_unlink(c, b);
    if (status == 0 && b->applied) {
        cd_hist_add(&c->apply_latency, (uv_hrtime() - b->proposed_ns) / 1000);
    }
    while ((cmd = cluster__list_pop(&b->cmds)) != NULL) {
        if (status == 0 && b->applied) {
            cluster__answer(c, cmd, 0, NULL);
        } else {
            cluster__answer(c, cmd, CD_EUNAVAIL,
                            "leadership changed before the command committed; it may or "
                            "may not have been applied");
        }
    }
    free(b);
    cluster__wake(c);
}

/* The leader's stamp: its clock, never below the replicated clock. */
static int64_t leader_stamp(const struct cluster *c)
{
    int64_t now = cluster__wall_ms();
    int64_t floor = engine_now(c->engine);
    return now > floor ? now : floor;
}

static int build_entry(struct cluster *c, struct cluster__batch *b, struct raft_buffer *out)
{
    struct cd_buf buf;
    size_t bytes = 0;
    cd_buf_init(&buf);
    while (c->queue.head != NULL && b->cmds.n < CLUSTER__BATCH_MAX && bytes < (1u << 20)) {
        struct cluster__cmd *cmd = cluster__list_pop(&c->queue);
        bytes += cmd->len;
        cluster__list_push(&b->cmds, cmd);
    }
    cluster__entry_begin(&buf, c->id, c->nonce, b->seq, leader_stamp(c), (uint32_t)b->cmds.n);
    for (struct cluster__cmd *cmd = b->cmds.head; cmd != NULL; cmd = cmd->next) {
        cluster__entry_add(&buf, cmd->bytes, cmd->len);
    }
    if (buf.err != 0) {
        cd_buf_close(&buf);
        return CD_ENOMEM;
    }
    /* raft frees the entry's bytes with raft_free(). Its TCP encoding (0.15) sends entry
     * payloads unpadded but decodes a batch of them as if each were padded to 8 bytes, so
     * an entry whose length is not a multiple of 8 corrupts the entries after it in the
     * same message: pad here, with zeros the decoder ignores. */
    size_t padded = (buf.len + 7) & ~(size_t)7;
    out->base = raft_malloc(padded);
    if (out->base == NULL) {
        cd_buf_close(&buf);
        return CD_ENOMEM;
    }
    memcpy(out->base, buf.data, buf.len);
    memset((uint8_t *)out->base + buf.len, 0, padded - buf.len);
    out->len = padded;
    cd_buf_close(&buf);
    return 0;
}

static void propose_one(struct cluster *c)
{
    struct cluster__batch *b = calloc(1, sizeof(*b));
    struct raft_buffer buf;
    struct cluster__cmd *cmd;
    if (b == NULL) {
        return; /* retried on the next turn of the loop */
    }
    b->c = c;
    b->seq = ++c->seq;
    b->proposed_ns = uv_hrtime();
    b->req.data = b;
    int rv = build_entry(c, b, &buf);
    if (rv == 0 && raft_apply(&c->raft, &b->req, &buf, 1, batch_done) != 0) {
        raft_free(buf.base);
        rv = CD_EUNAVAIL;
    }
    if (rv != 0) {
        while ((cmd = cluster__list_pop(&b->cmds)) != NULL) {
            cluster__answer(c, cmd, rv == CD_ENOMEM ? CD_ENOMEM : CD_EUNAVAIL,
                            rv == CD_ENOMEM ? "out of memory" : "this node is not the leader");
        }
        free(b);
        return;
    }
    b->next = c->inflight;
    c->inflight = b;
    c->n_inflight++;
}

/* Proposes what waits, while fewer than CLUSTER__INFLIGHT_MAX entries are in flight; the
 * rest waits for one to finish and then shares an entry. */
void cluster__propose_pending(struct cluster *c)
{
    if (c->queue.head == NULL) {
        return;
    }
    if (!cluster__is_leader(c)) {
        struct cluster__cmd *cmd;
        while ((cmd = cluster__list_pop(&c->queue)) != NULL) {
            forward(c, cmd);
        }
        return;
    }
    while (c->queue.head != NULL && c->n_inflight < CLUSTER__INFLIGHT_MAX) {
        propose_one(c);
    }
}

/* ---- The leader's clock ---------------------------------------------------------------- */

static void tick_done(void *data, const struct engine_result *res)
{
    struct cluster *c = data;
    (void)res;
    c->tick_inflight = false;
    cluster__tick_rearm(c);
}

static void tick_fire(uv_timer_t *t)
{
    struct cluster *c = t->data;
    struct engine_command cmd = {.kind = ENGINE_CMD_TICK};
    if (c->tick_inflight || !cluster__is_leader(c) || c->closing) {
        return;
    }
    c->tick_inflight = true;
    if (cluster_submit(c, &cmd, tick_done, c) != 0) {
        c->tick_inflight = false;
        uv_timer_start(&c->tick_timer, tick_fire, 100, 0);
    }
}

/* Arms the timer for the engine's next deadline (leader only). */
void cluster__tick_rearm(struct cluster *c)
{
    if (c->closing || c->tick_inflight) {
        return;
    }
    if (!cluster__is_leader(c)) {
        uv_timer_stop(&c->tick_timer);
        return;
    }
    int64_t next = engine_next_deadline(c->engine);
    if (next == INT64_MAX) {
        uv_timer_stop(&c->tick_timer);
        return;
    }
    int64_t wait = next - cluster__wall_ms();
    uv_timer_start(&c->tick_timer, tick_fire, wait > 0 ? (uint64_t)wait : 0, 0);
}
