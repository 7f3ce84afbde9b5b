/* Private to cluster/. */
#ifndef CD_CLUSTER_INTERNAL_H
#define CD_CLUSTER_INTERNAL_H

#include <raft.h>
#include <raft/uv.h>

#include "cluster/cluster.h"
#include "cluster/guard.h"
#include "common/hist.h"
#include "common/buf.h"
#include "storage/storage.h"

/* Entries in flight at once on the leader; further commands wait and share the next
 * entry (group commit). */
#define CLUSTER__INFLIGHT_MAX 4
/* Commands one entry carries at most. */
#define CLUSTER__BATCH_MAX 2048
/* How long a follower waits to apply what the leader answered before it answers anyway. */
#define CLUSTER__APPLY_WAIT_MS 5000

/* One submitted command, from submit to answer. */
struct cluster__cmd
{
    struct cluster__cmd *next;
    struct cluster *c;
    cluster_result_cb cb;
    void *data;
    uint8_t *bytes; /* encoded command */
    size_t len;
    struct engine_result res;
    uint64_t wait_index; /* answer once this node has applied this index */
    uint64_t deadline;   /* loop time (ms) after which a wait gives up */
};

/* A FIFO of commands. */
struct cluster__list
{
    struct cluster__cmd *head, *tail;
    size_t n;
};

/* One Raft entry proposed by this node and not yet answered. */
struct cluster__batch
{
    struct raft_apply req;
    struct cluster *c;
    struct cluster__batch *next;
    uint64_t seq;
    struct cluster__list cmds;
    bool applied;         /* the FSM filled in every result */
    uint64_t proposed_ns; /* uv_hrtime() at raft_apply() */
};

/* A reader waiting for a barrier or an index. */
struct cluster__reader
{
    struct cluster__reader *next;
    void (*cb)(void *data, int status);
    void *data;
    int status;
    uint64_t index; /* answer once applied >= index */
    uint64_t deadline;
};

struct cluster__readers
{
    struct cluster__reader *head, *tail;
};

/* A membership change or leadership transfer in progress. */
struct cluster__change
{
    struct raft_change req;
    struct raft_transfer transfer;
    struct cluster *c;
    cluster_change_cb cb;
    void *data;
    raft_id id;
    bool promote; /* an add: assign VOTER once the server is added */
    bool busy;
    int failed; /* an add whose promotion failed with this raft code, being undone */
};

struct cluster__peer_req;

#define CLUSTER__SNAPSHOT_MAGIC 0x31534443u /* "CDS1": magic, index, engine */
/* "CDS2": magic, index, the last index applied through the state machine (at or below the
 * snapshot's: barriers are entries too, which never reach it), engine. */
#define CLUSTER__SNAPSHOT_MAGIC2 0x32534443u

/* snapshot.c: the child process encoding a snapshot, while one is being taken. */
struct cluster__snap
{
    int pid; /* 0 when none */
    int fd;  /* the pipe it writes to */
    uint64_t index;
    uint64_t log_bytes;   /* entries applied since the last snapshot was taken: their bytes */
    uint64_t log_entries; /* ... and how many */
    uint64_t taken_bytes; /* the same, for the snapshot being taken */
    uint64_t started;     /* loop time the snapshot being taken began */
    uint64_t taken_entries;
};

/* history.c: filling this node's history gaps from a peer: a gap's audit rows first, then
 * its history rows (whose last page ends the gap). */
struct cluster__backfill
{
    bool busy; /* a page request is in flight */
    struct storage_gap gap;
    bool audit_done; /* the gap's audit rows are in; its history rows come next */
    struct storage_audit_id audit_cursor;
    struct storage_history_cursor cursor;
    unsigned turn;    /* which member to ask; moves on after a failure */
    uv_timer_t timer; /* the pause after a failure */
    uint64_t pages, filled, failures;
};

/* ready.c: what a follower knows of the leader's commit index. */
struct cluster__ready
{
    raft_id leader;   /* the leader the figures are from */
    uint64_t sent_at; /* uv_now() when the probe in flight was sent */
    bool inflight;
    uint64_t target;         /* the leader's commit index at the latest answer */
    uint64_t target_sent_at; /* when that probe was sent */
    bool has_target;         /* target not yet applied here */
    uint64_t caught_up_at;   /* the latest probe whose answer this node has applied */
    bool caught_up;
};

/* Records an apply touched, to write to storage after the batch. */
struct cluster__touched
{
    uint64_t *contacts;
    size_t n_contacts, cap_contacts;
    char (*agents)[ENGINE_NAME_MAX];
    size_t n_agents, cap_agents;
    bool everything; /* a model install: rewrite every record */
};

/* watch.c: fast failover (see there). */
struct watch_conn;
struct cluster__watch
{
    raft_time (*io_time)(struct raft_io *io); /* raft_uv's clock */
    int (*io_start)(struct raft_io *io,
                    unsigned msecs,
                    raft_io_tick_cb tick,
                    raft_io_recv_cb recv);
    raft_io_tick_cb tick;    /* Raft's, as given to io_start */
    raft_time skew;          /* added to it; only grows */
    struct watch_conn *conn; /* the open or opening connection, or NULL */
    raft_id target;          /* the leader watched, or 0 */
    bool reconnect;          /* connect again without waiting for retry_at */
    uint64_t retry_at;       /* uv_now() before which no new connection */
    uint64_t last_quick;     /* uv_now() at the last immediate retry after a young connection */
    raft_id lost;            /* the leader found gone; our turn is pending */
    uv_timer_t timer;        /* our turn to stand */
    uint64_t losses;         /* leaders found gone, since this process began */
    uint64_t elections;      /* elections started early because of it */
    uint64_t tls_failures;   /* connections whose TLS failed (never a sign of death) */
    uint64_t warned_at;      /* uv_now() when one was last logged; 0: never */
};

/* signal.c: signals between members, outside the log. */
struct cluster__signals
{
    cluster_signal_cb cb;
    void *data;
    uint64_t sent, failed, received;
};
void cluster__signal_serve(struct cluster *c, const void *body, size_t len);

/* lost.c: members the leader has not heard from. */
struct cluster__lost_member
{
    raft_id id;
    uint64_t seen;  /* uv_now() when last heard (or when this node began to lead) */
    uint64_t heard; /* uv_now() when last heard; 0: not since this node began to lead */
    bool declared;  /* lost, in this absence */
};
struct cluster__lost
{
    bool leading;
    uint64_t sampled;
    unsigned n;
    struct cluster__lost_member m[CLUSTER_MEMBERS_MAX];
    uint64_t declared; /* members declared lost while this node led */
};
void cluster__lost_check(struct cluster *c);
/* Whether the leader heard from member id within the last election timeout. */
bool cluster__lost_heard(const struct cluster *c, raft_id id, bool recent_recv);

/* drill.c: what wraps raft_uv's append and close. */
struct cluster__disk_write;
struct cluster__disk
{
    int (*append)(struct raft_io *io,
                  struct raft_io_append *req,
                  const struct raft_entry entries[],
                  unsigned n,
                  raft_io_append_cb cb);
    void (*close)(struct raft_io *io, raft_io_close_cb cb);
    raft_io_close_cb close_cb;
    unsigned closes_waiting;
    bool wrapped, closing, timer_open;
    uv_timer_t timer;
    uint32_t slow_ms;
    uint64_t slow_until;                     /* loop ms */
    struct cluster__disk_write *head, *tail; /* written, Raft not yet told */
    struct cd_hist latency;
};
void cluster__disk_wrap(struct cluster *c);

struct cluster
{
    uv_loop_t *loop;
    struct config_node node;
    struct cluster_forward_ops forward;
    struct cluster_effect_ops effects;
    struct net_tls *member_server; /* cluster_options', borrowed; NULL: plain TCP */
    struct net_tls *member_client;
    cluster_fatal_cb fatal;
    void *fatal_data;
    bool failed;
    char errmsg[256];

    raft_id id;
    char address[4 * (CONFIG_HOST_MAX + 8)];
    struct raft raft;
    struct raft_io io;         /* raft_uv's, unless the node was given one */
    struct cluster__disk disk; /* drill.c: raft_uv's log writes, measured (and slowed) */
    struct raft_io *raft_io;   /* the one Raft runs on: &io, or given_io */
    struct raft_io *given_io;  /* cluster__new_on_io(); NULL for raft_uv */
    void *given_io_data;       /* given_io->data as it came, put back at close */
    struct raft_fsm fsm;
    struct cluster__transport transport; /* the guard in front of Raft (guard.h) */
    bool raft_inited, raft_started;
    int last_role;
    uint64_t nonce; /* tells this process's entries from an earlier run's */
    uint64_t seq;

    struct engine *engine;
    struct storage *storage;
    uint64_t snapshot_index;
    uint64_t last_fsm_index; /* the last entry fsm_apply() applied (or a snapshot stood for) */
    uint64_t entries_applied, commands_applied;
    uint64_t applied_seen; /* raft_last_applied() as the pump last saw it */

    struct cluster__list queue;    /* commands waiting for the next entry (leader) */
    struct cluster__list answered; /* results ready to hand back */
    struct cluster__list applying; /* forwarded results waiting for the local apply */
    struct cluster__batch *inflight;
    unsigned n_inflight;
    bool tick_inflight;

    struct cluster__readers readers_waiting;  /* not yet covered by a barrier */
    struct cluster__readers readers_barrier;  /* covered by the barrier in flight */
    struct cluster__readers readers_applying; /* wait for an index */
    struct cluster__readers readers_done;
    struct raft_barrier barrier;
    bool barrier_inflight;
    struct raft_barrier nudge; /* read.c: cluster__nudge() */
    bool nudging;
    bool leader_barrier_pending; /* commit the earlier terms' entries after an election */
    struct raft_barrier leader_barrier;

    struct cluster__change change;
    struct cluster__touched touched;
    struct cd_buf fx; /* the effects of the entry being applied, encoded (fsm.c) */
    uint32_t fx_count;
    uint64_t effects_floor;       /* cluster_effects_floor() */
    struct cluster__cmd *cmd_now; /* the command being applied, for the effect sink */

    uv_check_t pump;
    uv_idle_t pump_idle;
    uv_timer_t tick_timer;
    uv_timer_t sync_timer;
    struct cluster__watch watch;
    struct cluster__lost lost;
    struct cd_hist apply_latency; /* proposed to applied, entries this node led */
    uint64_t leader_changes;
    raft_id last_leader;
    raft_index logged_config_index;      /* the configuration the log last named */
    raft_id peer_leader;                 /* the leader peer requests were last meant for */
    struct cluster__peer_req *peer_reqs; /* in flight, see peer.c */
    struct cluster__signals signals;
    struct cluster__ready ready;
    uv_timer_t ready_timer;
    struct cluster__backfill backfill;
    struct cluster__snap snap;
    unsigned open_handles;
    void (*close_cb)(void *data);
    void *close_data;
    bool closing;
    bool handles_closed;
};

/* entry.c: the Raft entry envelope and the result codec. */
struct cluster__entry
{
    uint64_t proposer;
    uint64_t nonce;
    uint64_t seq;
    int64_t stamp;
    uint32_t n_cmds;
    struct cd_reader cmds; /* n_cmds × (length, bytes) */
};
int cluster__entry_begin(struct cd_buf *b,
                         uint64_t proposer,
                         uint64_t nonce,
                         uint64_t seq,
                         int64_t stamp,
                         uint32_t n_cmds);
int cluster__entry_add(struct cd_buf *b, const void *cmd, size_t len);
int cluster__entry_decode(const void *data, size_t len, struct cluster__entry *out);
/* Next command of a decoded entry; CD_ECORRUPT when malformed. */
int cluster__entry_next(struct cluster__entry *e, const uint8_t **cmd, size_t *len);
int cluster__result_encode(struct cd_buf *b, const struct engine_result *res, uint64_t index);
int cluster__result_decode(const void *data,
                           size_t len,
                           struct engine_result *res,
                           uint64_t *index);

/* The address raft carries for a member: "raft-host:port|api-host:port|peer-host:port|id".
 * Formatting returns CD_EINVAL when a part is empty or holds '|', CD_ETOOBIG when out is
 * too short. Parsing fills the id and the three addresses of out (nothing else), or returns
 * CD_EINVAL and leaves out unchanged for a string of any other form. */
int cluster__address_format(char *out,
                            size_t len,
                            const char *id,
                            const char *raft_addr,
                            const char *api_addr,
                            const char *peer_addr);
int cluster__address_parse(const char *address, struct cluster_member *out);
/* The member with Raft id `id` in the configuration: true with its id and addresses. */
bool cluster__member_of(const struct cluster *c, raft_id id, struct cluster_member *out);
/* The name of the member with Raft id `id` in the configuration, or its number when absent. */
void cluster__member_name(const struct cluster *c, raft_id id, char *out, size_t cap);
raft_id cluster__raft_id(const char *name);

/* proof.c: the guard's view of the cluster, and proofs for the peer channel. */
/* Sets up c->transport for c->node (its id, secret and storage size) and the members' TLS
 * contexts. Returns 0. */
int cluster__guard_init(struct cluster *c);
/* A configured peer, or a server of Raft's configuration, named name. */
bool cluster__is_member(const struct cluster *c, const char *name);

/* fsm.c */
void cluster__fsm_init(struct cluster *c);
void cluster__touched_free(struct cluster__touched *t);

/* snapshot.c: sets the fsm's snapshot methods (version 3, encoded off the loop). */
void cluster__snapshot_init(struct cluster *c);
/* snapshot.c: the most entries between two snapshots, however large the state. */
#define CLUSTER__SNAPSHOT_THRESHOLD_MAX 262144u
/* snapshot.c: the threshold after a snapshot of `bytes`, taken when `log_entries` entries of
 * `log_bytes` bytes had been applied since the one before: as many entries as make the
 * snapshot's size, at least `floor`, at most CLUSTER__SNAPSHOT_THRESHOLD_MAX. */
unsigned cluster__snapshot_threshold(uint64_t bytes,
                                     uint64_t log_bytes,
                                     uint64_t log_entries,
                                     unsigned floor);

/* aio.c: starts the thread that destroys raft_uv's kernel AIO contexts off the loop. */
void cluster__aio_start(void);
/* aio.c: io_destroy calls handed to that thread, and those it has carried out. */
void cluster__aio_counts(unsigned long *deferred, unsigned long *done);

/* propose.c */
void cluster__list_push(struct cluster__list *l, struct cluster__cmd *cmd);
struct cluster__cmd *cluster__list_pop(struct cluster__list *l);
void cluster__cmd_free(struct cluster__cmd *cmd);
void cluster__answer(struct cluster *c, struct cluster__cmd *cmd, int code, const char *msg);
void cluster__propose_pending(struct cluster *c);
struct cluster__batch *cluster__batch_find(struct cluster *c, uint64_t seq);
void cluster__fail_all(struct cluster *c, int code, const char *msg);
void cluster__wake(struct cluster *c);
/* read.c: on the leader, an empty barrier entry now (one at a time), so that followers learn
 * the latest commit index at once rather than from the next heartbeat. */
void cluster__nudge(struct cluster *c);
void cluster__tick_rearm(struct cluster *c);
int64_t cluster__wall_ms(void);
bool cluster__is_leader(const struct cluster *c);
/* The leader's id and peer channel address; 0 and NULL when none is known. */
const char *cluster__leader_peer(const struct cluster *c, raft_id *id, char *buf, size_t len);

/* peer.c: requests to other members, abandoned when their leader is replaced or the node
 * closes. done fires exactly once: with the peer's answer (status 0 or a CD code), or with
 * CLUSTER__ABANDONED; never from inside cluster__peer_send(), which returns 0 or a CD code. */
#define CLUSTER__ABANDONED (-10000)
typedef void (*cluster__peer_done)(struct cluster *c,
                                   void *owner,
                                   int status,
                                   const void *reply,
                                   size_t len);
int cluster__peer_send(struct cluster *c,
                       raft_id to,
                       const char *peer_addr,
                       enum cluster_forward_kind kind,
                       const void *body,
                       size_t len,
                       cluster__peer_done done,
                       void *owner);
/* The leader is now leader (0: none known): requests meant for another one are abandoned. */
void cluster__peer_leader_changed(struct cluster *c, raft_id leader);
void cluster__peer_abandon_all(struct cluster *c);
/* The peer channel address of member id, from the configuration; NULL when not a member. */
const char *cluster__member_peer(const struct cluster *c, raft_id id, char *buf, size_t len);

/* history.c */
void cluster__backfill_run(struct cluster *c);
/* Answers a member's CLUSTER_FWD_HISTORY request body with a page in out: 0, CD_EINVAL
 * (malformed), CD_EUNAVAIL (this node lacks what was asked) or a storage error. */
int cluster__history_serve(struct cluster *c, const void *body, size_t len, struct cd_buf *out);
/* The same for a CLUSTER_FWD_AUDIT request. */
int cluster__audit_serve(struct cluster *c, const void *body, size_t len, struct cd_buf *out);

/* ready.c */
void cluster__ready_start(struct cluster *c);
bool cluster__ready(const struct cluster *c, uint64_t applied, uint64_t commit);
void cluster__ready_applied(struct cluster *c, uint64_t index);

/* read.c */
void cluster__readers_run(struct cluster *c);
void cluster__applied(struct cluster *c, uint64_t index);
void cluster__readers_fail_all(struct cluster *c, int code);

/* node.c */
/* As cluster_new(), with Raft on io instead of raft_uv behind the guarded TCP transport:
 * the seam for tests that drive the cluster with raft's in-memory fixture (raft/fixture.h).
 * Storage, the engine and the node's own handles (pump, timers) are as with cluster_new(),
 * on loop; no Raft directory is made, no port is listened on, and fast failover stays off
 * (it moves raft_uv's clock). io is initialised by its owner and borrowed: Raft calls
 * io->init() and takes io->data over from raft_init() on; once Raft has closed (before
 * cluster_close()'s callback, and on failure here) io->data is put back as it came, so its
 * owner can close the io. The owner must not close it earlier, nor leave requests of
 * this node's Raft pending in it when calling cluster_close(): unlike raft_uv, an io may
 * call its close callback at once, and a request completed after that would reach a
 * closed Raft. Returns as cluster_new(). */
int cluster__new_on_io(uv_loop_t *loop,
                       const struct cluster_options *opt,
                       struct raft_io *io,
                       struct cluster **out,
                       char *errmsg,
                       size_t errlen);
void cluster__watch_init(struct cluster *c);
void cluster__watch_update(struct cluster *c);
void cluster__watch_stop(struct cluster *c);
int cluster__watch_rank(const struct raft_configuration *conf, raft_id self, raft_id lost);

void cluster__fatal(struct cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
