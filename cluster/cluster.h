/* cluster: one node of a contactd cluster. Owns Raft (canonical/raft with its libuv I/O and
 * TCP transport), the engine state every node applies, and the node's storage.
 *
 * Every raft_* call of the project lives in cluster/. A command reaches the engine only
 * through the Raft log: cluster_submit() on the leader groups commands into one log entry
 * (group commit) stamped with the leader's clock; on a follower it is forwarded to the
 * leader through the forwarding ops the node supplies (its peer channel), and the answer comes
 * back once the leader has applied it and this node has applied it too (read-your-writes on
 * the node the client talks to). The leader alone acts on time: it arms a timer for the
 * engine's next deadline and proposes a TICK when it passes.
 *
 * Single-threaded: everything runs on the loop given to cluster_new(). */
#ifndef CD_CLUSTER_H
#define CD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/hist.h"
#include "config/config.h"
#include "engine/engine.h"
#include "net/net.h"

struct cluster;
struct storage;

/* How a follower reaches the leader. The node supplies it (the peer channel, peer/peer.h);
 * cluster decides when to use it. */
enum cluster_forward_kind {
    CLUSTER_FWD_COMMAND = 1,  /* body: an encoded command; reply: an encoded result */
    CLUSTER_FWD_READ_INDEX,   /* body: empty; reply: the leader's commit index (varint),
                                 once a barrier proved it still leads (linearizable) */
    CLUSTER_FWD_COMMIT_INDEX, /* body: empty; reply: the leader's commit index (varint) as
                                 it knows it now, without a barrier (readiness probes) */
    CLUSTER_FWD_HISTORY,      /* body and reply: history pages (cluster/history.c) */
    CLUSTER_FWD_AUDIT,        /* body and reply: audit pages of a gap (cluster/history.c) */
    CLUSTER_FWD_SIGNAL,       /* body: a signal (cluster_signal_broadcast()); reply: empty */
};
#define CLUSTER_FWD_KINDS 6

/* The kind's name in the path of the peer channel's endpoint ("command", "read-index", ...);
 * NULL for a kind out of range. */
const char *cluster_forward_kind_name(int kind);

/* status: 0 and the reply bytes (borrowed during the call), or a negative CD_E* code. */
typedef void (*cluster_forward_done)(void *req, int status, const void *reply, size_t len);

struct cluster_forward_ops
{
    void *data;
    /* Sends body to member (its id: the name its certificate must carry) whose peer
     * channel listens at peer_addr ("host:port"). done fires once, later, unless this
     * returns an error. */
    int (*send)(void *data,
                const char *member,
                const char *peer_addr,
                enum cluster_forward_kind kind,
                const void *body,
                size_t len,
                cluster_forward_done done,
                void *req);
};

/* What a node does with the effects of the entries it applies, on every node whatever its
 * role. Every node sees the same effects in the same order: effect n (from 0) of the entry
 * at index. Each entry's effects are kept in the node's storage in the entry's own batch
 * (the effect bus's outbox, storage_foreach_effects), and handed over once that batch has
 * committed: an effect is never seen before it is durable here, and an entry applied again
 * after a restart (its batch was committed before) is not handed over again. */
struct cluster_effect_ops
{
    void *data;
    /* The entry at index committed with count effects (count > 0): bytes holds them as a
     * u32 count and then each one as engine_effect_encode() wrote it (borrowed during the
     * call); storage_foreach_effects() gives the same bytes later. */
    void (*committed)(void *data, uint64_t index, const void *bytes, size_t len);
    /* This node installed a snapshot at index above what its storage had applied (it caught
     * up from the leader): the effects of the entries up to index were never seen here and
     * are not in its outbox. May be NULL. */
    void (*restored)(void *data, uint64_t index);
};

/* Calls cb for each effect of one entry's bytes (as committed() gives them and
 * storage_foreach_effects() reads them back), n from 0; stops when cb returns non-zero and
 * returns that. CD_ECORRUPT for bytes that are not such a list (cb may have been called for
 * the effects before the damage). */
int cluster_effects_each(const void *bytes,
                         size_t len,
                         int (*cb)(void *data, uint32_t n, const struct engine_effect *fx),
                         void *data);

/* The lowest entry index whose effects the bus still needs: each later batch deletes the
 * kept effects of entries below it (a bounded number per batch). 0 (the start) keeps all. */
void cluster_effects_floor(struct cluster *c, uint64_t below);
/* The clock the leader stamps entries with (ms since the epoch, UTC): the engine's time, for
 * comparing with times in the state (a webhook's next attempt). */
int64_t cluster_wall_ms(void);
/* This node leads now (cheap: for each delivery). */
bool cluster_is_leader(const struct cluster *c);
/* What /readyz says: a leader is known and this node has caught up with it (cluster_status'
 * ready), without the rest of the status. */
bool cluster_ready(struct cluster *c);

struct cluster_options
{
    const struct config_node *node; /* copied */
    struct cluster_forward_ops forward;
    struct cluster_effect_ops effects; /* committed may be NULL */
    const char *boot_id;               /* NULL: the machine's; tests may set it */
    /* Mutual TLS between members (net/net.h), both borrowed until the close callback; both
     * NULL: plain TCP (an insecure node, or one that relies on the cluster secret alone).
     * member_server: the context this node accepts members' Raft connections with (it
     * demands their certificates from the cluster's CA; a certificate must name the member
     * the connection's handshake says is calling); member_client: the one it connects to
     * members with, for Raft and the failover watch (it presents this node's certificate
     * and checks that theirs names the member it calls). With them the cluster secret may
     * be empty (node->cluster_secret_len 0): the guard's handshake then runs with an empty
     * key, and the certificates say who a member is (cluster/README.md). */
    struct net_tls *member_server;
    struct net_tls *member_client;
};

/* Creates the node: opens storage under node->data_dir/state and Raft's files under
 * node->data_dir/raft (creating both). Returns 0, CD_EIO, CD_ENOMEM, or CD_EINVAL (one TLS
 * context given without the other), with a message. */
int cluster_new(uv_loop_t *loop,
                const struct cluster_options *opt,
                struct cluster **out,
                char *errmsg,
                size_t errlen);

/* Bootstraps (a new node listed in peers, unless node->join) and starts Raft: restores the
 * latest snapshot, replays the log, listens on the Raft address. Returns 0 or CD_EIO. */
int cluster_start(struct cluster *c, char *errmsg, size_t errlen);

/* Fails every waiting request with CD_EUNAVAIL, stops Raft, syncs and closes storage, frees
 * the node; cb (may be NULL) fires when all of it is done. */
void cluster_close(struct cluster *c, void (*cb)(void *data), void *data);

/* Set when the node hit an error it cannot go on from (its storage failed, the engine ran
 * out of memory): the daemon logs cluster_fatal_message() and exits non-zero. Raft's log
 * on the other nodes holds everything; a restart replays it. */
typedef void (*cluster_fatal_cb)(void *data, const char *message);
void cluster_on_fatal(struct cluster *c, cluster_fatal_cb cb, void *data);

/* ---- Commands ----------------------------------------------------------------------- */

/* res is borrowed during the call. res->code is the engine's answer, or CD_EUNAVAIL (no
 * leader, leadership lost before the command committed: it may or may not have been
 * applied, a retry with the same idempotency key is safe), CD_ETIMEDOUT or CD_ENOMEM. */
typedef void (*cluster_result_cb)(void *data, const struct engine_result *res);

/* Submits a command. cmd is encoded at once (borrowed during the call). cb fires exactly
 * once, later, never from inside this call. Returns 0 or CD_EINVAL (cmd cannot be encoded;
 * cb never fires). TICK and MODEL_INSTALL are accepted like any other. */
int cluster_submit(struct cluster *c,
                   const struct engine_command *cmd,
                   cluster_result_cb cb,
                   void *data);

/* As cluster_submit() for a command already encoded (engine_command_encode()). */
int cluster_submit_encoded(struct cluster *c,
                           const void *bytes,
                           size_t len,
                           cluster_result_cb cb,
                           void *data);

/* Serves a request a follower forwarded here (the peer channel's endpoint calls it). reply
 * fires once with the bytes to send back, or status < 0. */
typedef void (*cluster_reply_cb)(void *data, int status, const void *bytes, size_t len);
void cluster_serve_forward(struct cluster *c,
                           enum cluster_forward_kind kind,
                           const void *body,
                           size_t len,
                           cluster_reply_cb reply,
                           void *data);

/* ---- Signals between members ----------------------------------------------------------- */

/* A signal is a few bytes one node hands every other member at once, outside the log: what
 * is worth nothing a moment later (a customer typing, a page having shown a message). It
 * is not replicated, not stored and not retried: a member that is down or slow misses it.
 * The node gives each one to its handler as it arrives; the order between two senders is
 * not defined. */
#define CLUSTER_SIGNAL_MAX 4096 /* bytes of one signal */

typedef void (*cluster_signal_cb)(void *data, const void *body, size_t len);
/* The handler of signals from other members (none until set: they are dropped). */
void cluster_set_signal_handler(struct cluster *c, cluster_signal_cb cb, void *data);
/* Sends body to every other member over the peer channel. Returns 0, CD_ETOOBIG (over
 * CLUSTER_SIGNAL_MAX), CD_ENOMEM, or CD_EUNAVAIL while the cluster closes; a member that
 * cannot be reached is counted (cluster_status' signals_failed), not reported. */
int cluster_signal_broadcast(struct cluster *c, const void *body, size_t len);

/* ---- Proof of membership for the peer channel ---------------------------------------- */

#define CLUSTER_PROOF_HEX 64 /* hex digits of a proof's MAC */

/* What a member attaches to a request for another member's peer channel: its id and
 * the HMAC-SHA256, keyed with the cluster secret (config_node.cluster_secret), of its id,
 * the request's path and its body. Over plain TCP it does not stop a captured request from
 * being replayed; over TLS nothing can be captured, and the client certificate says who is
 * calling (with an empty secret the MAC proves nothing, and the certificate is the proof). */
struct cluster_proof
{
    char member[ENGINE_NAME_MAX];
    char mac[CLUSTER_PROOF_HEX + 1]; /* lower-case hex, NUL-terminated */
};

/* This node's proof for a request to path with body (both borrowed during the call).
 * Returns 0 or CD_ENOMEM. */
int cluster_proof_make(const struct cluster *c,
                       const char *path,
                       const void *body,
                       size_t len,
                       struct cluster_proof *out);

/* 0 when proof names a member of the cluster (a configured peer or a server in Raft's
 * configuration) and its MAC is that member's for path and body; CD_EINVAL otherwise (a
 * stranger, a wrong or malformed MAC, a different path or body); CD_ENOMEM. */
int cluster_proof_check(const struct cluster *c,
                        const struct cluster_proof *proof,
                        const char *path,
                        const void *body,
                        size_t len);

/* ---- Reads -------------------------------------------------------------------------- */

/* Linearizable read: cb(data, 0) fires once the local state reflects every command
 * committed before this call (leader: a barrier entry; follower: the leader's commit index,
 * then waiting to apply it). cb(data, CD_EUNAVAIL / CD_ETIMEDOUT) otherwise. Never calls cb
 * from inside. Returns 0 or CD_ENOMEM. */
int cluster_read_barrier(struct cluster *c, void (*cb)(void *data, int status), void *data);

/* The applied state. Borrowed: valid until control returns to the loop. */
const struct engine *cluster_engine(const struct cluster *c);
struct storage *cluster_storage(const struct cluster *c);

/* ---- Membership and status ---------------------------------------------------------- */

#define CLUSTER_MEMBERS_MAX 16

enum cluster_role { CLUSTER_UNAVAILABLE, CLUSTER_FOLLOWER, CLUSTER_CANDIDATE, CLUSTER_LEADER };
enum cluster_member_role { CLUSTER_VOTER, CLUSTER_STANDBY, CLUSTER_SPARE };

struct cluster_member
{
    char id[ENGINE_NAME_MAX];
    char raft[CONFIG_HOST_MAX + 8];
    char api[CONFIG_HOST_MAX + 8];
    char peer[CONFIG_HOST_MAX + 8]; /* its peer channel: forwarding, the failover watch */
    uint8_t role;                   /* enum cluster_member_role */
    /* Known on the leader only (else 0, false): the highest index the member has stored,
     * and whether it answered within the last election timeout. */
    uint64_t match_index;
    bool recent;
};

struct cluster_status
{
    char id[ENGINE_NAME_MAX];
    uint8_t role;                 /* enum cluster_role */
    char leader[ENGINE_NAME_MAX]; /* "" when unknown */
    char leader_api[CONFIG_HOST_MAX + 8];
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t snapshot_index; /* of the latest snapshot taken or installed; 0 none */
    int64_t engine_now;      /* the replicated clock (ms) */
    /* A leader is known and this node has applied what it committed; on a follower, also
     * everything the leader had committed less than 1.5 s ago (cluster/ready.c). */
    bool ready;
    uint32_t n_members;
    struct cluster_member members[CLUSTER_MEMBERS_MAX];
    uint64_t entries_applied; /* since start, and the commands they carried */
    uint64_t commands_applied;
    /* Fast failover, since start: leaders this node found gone (their peer port refused),
     * and elections it started early because of it (cluster/README.md). */
    uint64_t leaders_lost;
    uint64_t members_declared_lost; /* NODE_LOST declarations while this node led */
    uint64_t signals_sent;          /* to one member each */
    uint64_t signals_failed;        /* of those, not taken by the member */
    uint64_t signals_received;
    uint64_t early_elections;
    uint64_t leader_changes; /* leaders this node has followed or been, since start */
    /* Connections to this node's Raft port, since start, by what the guard made of them
     * (cluster/README.md): through both handshakes; closed in the handshake (malformed,
     * wrong MAC, not a member, a TLS handshake that failed, a certificate that does not
     * name the member calling; also this node's own connections whose other side did not
     * answer for the member called); not through it by the deadline; closed to respect
     * the caps; closed later for a malformed or oversized message. */
    struct
    {
        uint64_t accepted, refused, timed_out, over_cap, bad_frames;
    } raft_port;
};

/* Cheap (no walk over the state): health checks call it often. The state's digest is
 * engine_digest(cluster_engine(c)), O(state). */
void cluster_status(const struct cluster *c, struct cluster_status *out);
const char *cluster_role_name(int role);
/* Time from proposing an entry to having applied it, for the entries this node proposed as
 * leader, since start. */
void cluster_apply_latency(const struct cluster *c, struct cd_hist *out);
/* The time of each write to the Raft log, from Raft asking to Raft being told it is done,
 * since start (drill.c). */
void cluster_disk_latency(const struct cluster *c, struct cd_hist *out);

/* Drills' faults (drill.c; docs/continuity.md, "Drills"). cluster_isolate() cuts this member
 * off from the others for ms: its Raft connections are closed both ways and none is made or
 * taken, and the peer channel's traffic is dropped, until ms have passed; Raft reconnects
 * by itself then. cluster_slow_disk() makes each write to the Raft log take delay_ms more
 * for ms. Both return 0, or CD_EUNAVAIL on a node that is closing (or runs on a test's
 * raft_io). */
int cluster_isolate(struct cluster *c, uint32_t ms);
bool cluster_isolated(const struct cluster *c);
int cluster_slow_disk(struct cluster *c, uint32_t delay_ms, uint32_t ms);
const char *cluster_member_role_name(int role);

/* Membership changes, on the leader only (CD_EUNAVAIL elsewhere). cb fires once with 0 or a
 * CD_E* code and a message (valid during the call); never from inside. Returns 0, CD_EINVAL
 * (bad id or address), CD_EEXISTS / CD_ENOTFOUND, CD_EUNAVAIL, CD_ESTATE (a change is
 * already in progress). */
typedef void (*cluster_change_cb)(void *data, int status, const char *message);
/* What cluster_member_add() takes: id a name (engine_name_valid); raft_addr, api_addr and
 * peer_addr "A.B.C.D:PORT" or "[V6]:PORT" with an IP literal and a port from 1 to 65535,
 * three different addresses. Returns 0 or CD_EINVAL with err naming the field and what is
 * wrong. */
int cluster_member_check(const char *id,
                         const char *raft_addr,
                         const char *api_addr,
                         const char *peer_addr,
                         char *err,
                         size_t errlen);
/* Adds a member: first as a spare, then a voter once it has caught up. An add that fails
 * after the first step (the node never answers: cb gets CD_ETIMEDOUT, after raft's
 * catch-up limit of 5 s; leadership lost: CD_EUNAVAIL) takes the spare out again, so a
 * failed add leaves the configuration as it was. CD_EEXISTS: a member has that id, or one
 * of the three addresses as any of its own. */
int cluster_member_add(struct cluster *c,
                       const char *id,
                       const char *raft_addr,
                       const char *api_addr,
                       const char *peer_addr,
                       cluster_change_cb cb,
                       void *data);
int cluster_member_remove(struct cluster *c, const char *id, cluster_change_cb cb, void *data);
/* Transfers leadership to id ("" or NULL: the most caught-up voter). */
int cluster_leader_transfer(struct cluster *c,
                            const char *id,
                            cluster_change_cb cb,
                            void *data);

#endif
