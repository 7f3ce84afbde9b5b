/* A node's life: create, start Raft, pump the loop's work, notice role changes, close. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "common/log.h"

#define SYNC_INTERVAL_MS 1000

void cluster__fatal(struct cluster *c, const char *fmt, ...)
{
    va_list ap;
    if (c->failed) {
        return;
    }
    c->failed = true;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
    if (c->fatal != NULL) {
        c->fatal(c->fatal_data, c->errmsg);
    }
}

void cluster_on_fatal(struct cluster *c, cluster_fatal_cb cb, void *data)
{
    c->fatal = cb;
    c->fatal_data = data;
}

/* While work waits, an active idle handle keeps the loop from blocking in poll, so the
 * pump (a check handle) runs on this turn of the loop. */
static void idle_noop(uv_idle_t *h)
{
    (void)h;
}

void cluster__wake(struct cluster *c)
{
    if (!c->handles_closed) {
        uv_idle_start(&c->pump_idle, idle_noop);
    }
}

static void on_role(struct cluster *c, int role)
{
    if (role == RAFT_LEADER) {
        /* Raft commits an earlier term's entries only with one of this term: a barrier
         * also tells us when the new leader's state is current. */
        c->leader_barrier.data = c;
        if (raft_barrier(&c->raft, &c->leader_barrier, NULL) != 0) {
            c->leader_barrier_pending = true;
        }
    }
    cluster__tick_rearm(c);
}

static void pump(uv_check_t *h)
{
    struct cluster *c = h->data;
    uv_idle_stop(&c->pump_idle);
    if (!c->raft_started) {
        return;
    }
    int role = raft_state(&c->raft);
    if (role == RAFT_UNAVAILABLE && !c->closing) {
        /* Raft stops itself after an I/O error (a full or failing disk). */
        cluster__fatal(c, "raft stopped: %s", raft_errmsg(&c->raft));
        return;
    }
    if (role != c->last_role) {
        c->last_role = role;
        on_role(c, role);
    }
    raft_id leader;
    const char *leader_address;
    raft_leader(&c->raft, &leader, &leader_address);
    if (leader != 0 && leader != c->last_leader) {
        char term[24], name[ENGINE_NAME_MAX];
        c->last_leader = leader;
        c->leader_changes++;
        snprintf(term, sizeof(term), "%llu", (unsigned long long)c->raft.current_term);
        cluster__member_name(c, leader, name, sizeof(name));
        cd_log(CD_LOG_INFO, "leader", "term", term, "leader", name, "me",
               leader == c->id ? "true" : "false", NULL);
    }
    if (c->raft.configuration_index != c->logged_config_index) {
        char index[24], members[CLUSTER_MEMBERS_MAX * (ENGINE_NAME_MAX + 1)] = "";
        c->logged_config_index = c->raft.configuration_index;
        snprintf(index, sizeof(index), "%llu", (unsigned long long)c->raft.configuration_index);
        for (unsigned i = 0; i < c->raft.configuration.n; i++) {
            char name[ENGINE_NAME_MAX];
            size_t len = strlen(members);
            cluster__member_name(c, c->raft.configuration.servers[i].id, name, sizeof(name));
            snprintf(members + len, sizeof(members) - len, "%s%s", len ? "," : "", name);
        }
        cd_log(CD_LOG_INFO, "members", "index", index, "members", members, NULL);
    }
    if (leader != c->peer_leader) {
        c->peer_leader = leader;
        cluster__peer_leader_changed(c, leader);
    }
    if (c->leader_barrier_pending && role == RAFT_LEADER &&
        raft_barrier(&c->raft, &c->leader_barrier, NULL) == 0) {
        c->leader_barrier_pending = false;
    }
    /* Barrier and configuration entries advance the applied index without the FSM. */
    uint64_t applied = raft_last_applied(&c->raft);
    if (applied != c->applied_seen) {
        c->applied_seen = applied;
        cluster__applied(c, applied);
    }
    cluster__propose_pending(c);
    cluster__readers_run(c);
    cluster__watch_update(c);
    cluster__lost_check(c);
    cluster__backfill_run(c);
    if (role == RAFT_LEADER && !c->tick_inflight &&
        !uv_is_active((uv_handle_t *)&c->tick_timer)) {
        cluster__tick_rearm(c);
    }
}

static void sync_fire(uv_timer_t *t)
{
    struct cluster *c = t->data;
    char err[256];
    if (!c->failed && storage_sync(c->storage, err, sizeof(err)) != 0) {
        cluster__fatal(c, "storage: %s", err);
    }
}

static int make_dir(const char *path, char *errmsg, size_t errlen)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        snprintf(errmsg, errlen, "create directory '%s': %s", path, strerror(errno));
        return CD_EIO;
    }
    return 0;
}

static int open_storage(struct cluster *c, const char *boot_id, char *errmsg, size_t errlen)
{
    char dir[CONFIG_PATH_MAX + 16];
    struct storage_open_info info;
    snprintf(dir, sizeof(dir), "%s/state", c->node.data_dir);
    if (make_dir(c->node.data_dir, errmsg, errlen) != 0 || make_dir(dir, errmsg, errlen) != 0) {
        return CD_EIO;
    }
    struct storage_options so = {
        .dir = dir,
        .map_size = (uint64_t)c->node.storage_map_mb << 20,
        .history_keep_ms = (int64_t)c->node.history_days * 86400000,
        .audit_keep_ms = (int64_t)c->node.audit_days * 86400000,
        .boot_id = boot_id,
    };
    int rv = storage_open(&so, &c->storage, &info, errmsg, errlen);
    if (rv == 0 && info.reset_unclean) {
        /* The machine went down with the store open: its records cannot be trusted, so they
         * start afresh and Raft's log (and the other members) bring them back. */
        cd_log(CD_LOG_WARN, "storage_reset", "dir", dir, "msg",
               "the state store was open when the machine went down; its records were reset "
               "and are rebuilt from the Raft log and the other members",
               NULL);
    }
    return rv;
}

static uint64_t make_nonce(void)
{
    /* Only has to differ from this node's earlier runs. */
    return ((uint64_t)cluster__wall_ms() << 20) ^ (uint64_t)getpid();
}

static void addr_text(const struct config_addr *a, char *buf, size_t len)
{
    snprintf(buf, len, strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host, a->port);
}

/* A peer's address as Raft carries it ("raft|api|peer|id"). */
static int peer_address(const struct config_peer *p, char *out, size_t len)
{
    char raft_addr[CONFIG_HOST_MAX + 8], api_addr[CONFIG_HOST_MAX + 8];
    char peer_addr[CONFIG_HOST_MAX + 8];
    addr_text(&p->raft, raft_addr, sizeof(raft_addr));
    addr_text(&p->api, api_addr, sizeof(api_addr));
    addr_text(&p->peer, peer_addr, sizeof(peer_addr));
    return cluster__address_format(out, len, p->id, raft_addr, api_addr, peer_addr);
}

/* This node's address as Raft carries it, from the node file: its own entry in peers, or
 * where it listens when it has none. */
static int self_address(struct cluster *c, char *errmsg, size_t errlen)
{
    struct config_peer self = {
        .raft = c->node.raft_listen,
        .api = c->node.api_listen,
        .peer = c->node.peer_listen,
    };
    snprintf(self.id, sizeof(self.id), "%s", c->node.id);
    for (uint32_t i = 0; i < c->node.n_peers; i++) {
        if (strcmp(c->node.peers[i].id, c->node.id) == 0) {
            self = c->node.peers[i];
        }
    }
    c->id = cluster__raft_id(c->node.id);
    if (peer_address(&self, c->address, sizeof(c->address)) != 0) {
        snprintf(errmsg, errlen, "raft address of '%s' is not usable", c->node.id);
        return CD_EINVAL;
    }
    return 0;
}

/* raft_uv on node->data_dir/raft, its connections through the guard (transport.c). */
static int init_uv_io(struct cluster *c, char *errmsg, size_t errlen)
{
    char dir[CONFIG_PATH_MAX + 16];
    snprintf(dir, sizeof(dir), "%s/raft", c->node.data_dir);
    if (make_dir(dir, errmsg, errlen) != 0) {
        return CD_EIO;
    }
    if (cluster__guard_init(c) != 0) {
        snprintf(errmsg, errlen, "raft address of '%s' is not usable", c->node.id);
        return CD_EINVAL;
    }
    if (raft_uv_init(&c->io, c->loop, dir, &c->transport.outer) != 0) {
        snprintf(errmsg, errlen, "raft data in '%s': %s", dir, c->io.errmsg);
        return CD_EIO;
    }
    raft_uv_set_connect_retry_delay(&c->io, 200);
    /* raft_uv 0.15 implements async_work (a libuv thread-pool job that raft_close waits
     * for) but still says version 1, which makes raft refuse an fsm that snapshots
     * asynchronously (cluster/snapshot.c). */
    if (c->io.version < 2 && c->io.async_work != NULL) {
        c->io.version = 2;
    }
    cluster__disk_wrap(c);
    cluster__watch_init(c);
    c->raft_io = &c->io;
    return 0;
}

/* A test's raft_io: fast failover stays off, since it moves raft_uv's clock (watch.c). */
static void init_given_io(struct cluster *c, struct raft_io *io)
{
    c->raft_io = io;
    c->given_io = io;
    c->given_io_data = io->data; /* raft_init() takes the field over */
    c->node.raft.fast_failover = false;
}

/* Lets go of the raft_io once Raft no longer uses it: closes raft_uv, or hands a given io
 * back as it came. */
static void release_io(struct cluster *c)
{
    if (c->given_io != NULL) {
        c->given_io->data = c->given_io_data;
    } else {
        raft_uv_close(&c->io);
    }
}

static int init_raft(struct cluster *c, struct raft_io *io, char *errmsg, size_t errlen)
{
    int rv = self_address(c, errmsg, errlen);
    if (rv != 0) {
        return rv;
    }
    if (io != NULL) {
        init_given_io(c, io);
    } else if ((rv = init_uv_io(c, errmsg, errlen)) != 0) {
        return rv;
    }
    cluster__fsm_init(c);
    if (raft_init(&c->raft, c->raft_io, &c->fsm, c->id, c->address) != 0) {
        snprintf(errmsg, errlen, "raft: %s", raft_errmsg(&c->raft));
        release_io(c);
        return CD_EIO;
    }
    c->raft.data = c;
    c->raft_inited = true;
    raft_set_election_timeout(&c->raft, c->node.raft.election_timeout_ms);
    raft_set_heartbeat_timeout(&c->raft, c->node.raft.heartbeat_ms);
    raft_set_snapshot_threshold(&c->raft, c->node.raft.snapshot_threshold);
    raft_set_snapshot_trailing(&c->raft, c->node.raft.snapshot_trailing);
    raft_set_pre_vote(&c->raft, c->node.raft.pre_vote);
    return 0;
}

static int create(uv_loop_t *loop,
                  const struct cluster_options *opt,
                  struct raft_io *io,
                  struct cluster **out,
                  char *errmsg,
                  size_t errlen)
{
    struct cluster *c;
    int rv;
    if ((opt->member_server == NULL) != (opt->member_client == NULL)) {
        snprintf(errmsg, errlen,
                 "members' TLS needs both a server and a client context, or neither");
        return CD_EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(errmsg, errlen, "out of memory");
        return CD_ENOMEM;
    }
    c->loop = loop;
    c->node = *opt->node;
    c->forward = opt->forward;
    c->effects = opt->effects;
    c->member_server = opt->member_server;
    c->member_client = opt->member_client;
    c->nonce = make_nonce();
    cluster__aio_start(); /* before raft_uv opens its first segment (aio.c) */
    c->last_role = RAFT_UNAVAILABLE;
    if ((rv = engine_new(&c->engine)) != 0) {
        snprintf(errmsg, errlen, "out of memory");
        goto err_free;
    }
    if ((rv = open_storage(c, opt->boot_id, errmsg, errlen)) != 0) {
        goto err_free_engine;
    }
    if ((rv = init_raft(c, io, errmsg, errlen)) != 0) {
        goto err_close_storage;
    }
    uv_check_init(loop, &c->pump);
    uv_idle_init(loop, &c->pump_idle);
    uv_timer_init(loop, &c->tick_timer);
    uv_timer_init(loop, &c->sync_timer);
    uv_timer_init(loop, &c->ready_timer);
    c->ready_timer.data = c;
    uv_timer_init(loop, &c->backfill.timer);
    c->backfill.timer.data = c;
    uv_timer_init(loop, &c->watch.timer);
    c->pump.data = c->pump_idle.data = c->tick_timer.data = c->sync_timer.data = c;
    c->watch.timer.data = c;
    *out = c;
    return 0;

err_close_storage:
    storage_close(c->storage);
err_free_engine:
    engine_free(c->engine);
err_free:
    free(c);
    return rv;
}

int cluster_new(uv_loop_t *loop,
                const struct cluster_options *opt,
                struct cluster **out,
                char *errmsg,
                size_t errlen)
{
    return create(loop, opt, NULL, out, errmsg, errlen);
}

int cluster__new_on_io(uv_loop_t *loop,
                       const struct cluster_options *opt,
                       struct raft_io *io,
                       struct cluster **out,
                       char *errmsg,
                       size_t errlen)
{
    return create(loop, opt, io, out, errmsg, errlen);
}

/* raft leaves its message empty for some failures (a start that fails in its I/O backend):
 * then the code's name is what there is to say. */
static const char *raft_reason(struct raft *r, int rv)
{
    const char *msg = raft_errmsg(r);
    return msg != NULL && *msg != 0 ? msg : raft_strerror(rv);
}

/* fresh: set when this call wrote the first configuration (the node had no Raft state). */
static int bootstrap(struct cluster *c, bool *fresh, char *errmsg, size_t errlen)
{
    struct raft_configuration conf;
    char address[sizeof(c->address)];
    int rv = 0;
    raft_configuration_init(&conf);
    for (uint32_t i = 0; i < c->node.n_peers && rv == 0; i++) {
        const struct config_peer *p = &c->node.peers[i];
        rv = peer_address(p, address, sizeof(address));
        if (rv == 0) {
            rv = raft_configuration_add(&conf, cluster__raft_id(p->id), address, RAFT_VOTER);
        }
    }
    if (rv == 0) {
        rv = raft_bootstrap(&c->raft, &conf);
        *fresh = rv == 0;
        if (rv == RAFT_CANTBOOTSTRAP) {
            rv = 0; /* it has state already: a restart */
        } else if (rv != 0) {
            snprintf(errmsg, errlen, "bootstrap: %s", raft_errmsg(&c->raft));
        }
    } else {
        snprintf(errmsg, errlen, "bootstrap: bad peer list");
    }
    raft_configuration_close(&conf);
    return rv == 0 ? 0 : CD_EIO;
}

/* A first start that failed after bootstrapping (an address it could not listen on) takes
 * the bootstrap back: raft_uv's files in data_dir/raft go, so the next start bootstraps
 * from the node file as corrected, instead of keeping a configuration the file no longer
 * says. Nothing was ever applied or acknowledged from them. Returns 0 when all are gone. */
static int undo_bootstrap(struct cluster *c)
{
    char dir[CONFIG_PATH_MAX + 16], path[CONFIG_PATH_MAX + 300];
    int rv = 0;
    snprintf(dir, sizeof(dir), "%s/raft", c->node.data_dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
             unlink(path) != 0)) {
            rv = -1;
        }
    }
    closedir(d);
    return rv;
}

/* Every member of the configuration Raft restored must be one this version can reach: an
 * address written before the peer channel ("raft|api|id") names no peer address. Such a
 * node is refused at start rather than run unable to forward to, or watch, that member. */
static int check_configuration(const struct cluster *c, char *errmsg, size_t errlen)
{
    struct cluster_member m;
    for (unsigned i = 0; i < c->raft.configuration.n; i++) {
        const char *address = c->raft.configuration.servers[i].address;
        if (cluster__address_parse(address, &m) != 0) {
            snprintf(errmsg, errlen,
                     "the Raft configuration in data_dir/raft names a member '%.300s', not "
                     "of the form raft|api|peer|id this version reads (written by an older "
                     "version?): start this node on an empty data_dir and add it again",
                     address);
            return CD_EIO;
        }
    }
    return 0;
}

int cluster_start(struct cluster *c, char *errmsg, size_t errlen)
{
    bool fresh = false;
    if (!c->node.join && bootstrap(c, &fresh, errmsg, errlen) != 0) {
        return CD_EIO;
    }
    c->raft_started = true; /* raft_start applies the snapshot: the FSM runs from here */
    int rv = raft_start(&c->raft);
    if (rv != 0) {
        c->raft_started = false;
        int n = snprintf(errmsg, errlen, "start raft: %s", raft_reason(&c->raft, rv));
        if (fresh && c->given_io == NULL && n >= 0 && (size_t)n < errlen) {
            snprintf(errmsg + n, errlen - (size_t)n, "%s",
                     undo_bootstrap(c) == 0
                         ? " (this first start's bootstrap was taken back: the next start "
                           "bootstraps from the node file again)"
                         : " (and this first start's bootstrap could not be taken back: remove "
                           "the files in data_dir/raft before starting again)");
        }
        return CD_EIO;
    }
    if (c->failed) {
        snprintf(errmsg, errlen, "%s", c->errmsg);
        return CD_EIO;
    }
    if (check_configuration(c, errmsg, errlen) != 0) {
        return CD_EIO;
    }
    uv_check_start(&c->pump, pump);
    uv_timer_start(&c->sync_timer, sync_fire, SYNC_INTERVAL_MS, SYNC_INTERVAL_MS);
    cluster__ready_start(c);
    return 0;
}

/* ---- Closing --------------------------------------------------------------------------- */

static void finish_close(struct cluster *c)
{
    void (*cb)(void *) = c->close_cb;
    void *data = c->close_data;
    storage_close(c->storage);
    engine_free(c->engine);
    cluster__touched_free(&c->touched);
    cd_buf_close(&c->fx);
    free(c);
    if (cb != NULL) {
        cb(data);
    }
}

static void handle_closed(uv_handle_t *h)
{
    struct cluster *c = h->data;
    if (--c->open_handles == 0) {
        finish_close(c);
    }
}

static void raft_closed(struct raft *r)
{
    struct cluster *c = r->data;
    /* Raft fired every pending callback while closing; hand those answers back now. */
    cluster__peer_abandon_all(c);
    cluster__fail_all(c, CD_EUNAVAIL, "this node is shutting down");
    cluster__readers_fail_all(c, CD_EUNAVAIL);
    cluster__readers_run(c);
    release_io(c);
    cluster__watch_stop(c);
    uv_handle_t *handles[] = {(uv_handle_t *)&c->pump,        (uv_handle_t *)&c->pump_idle,
                              (uv_handle_t *)&c->tick_timer,  (uv_handle_t *)&c->sync_timer,
                              (uv_handle_t *)&c->ready_timer, (uv_handle_t *)&c->backfill.timer,
                              (uv_handle_t *)&c->watch.timer};
    size_t n = sizeof(handles) / sizeof(handles[0]);
    c->open_handles = (unsigned)n;
    c->handles_closed = true;
    for (size_t i = 0; i < n; i++) {
        uv_close(handles[i], handle_closed);
    }
}

void cluster_close(struct cluster *c, void (*cb)(void *data), void *data)
{
    c->closing = true;
    c->close_cb = cb;
    c->close_data = data;
    cluster__fail_all(c, CD_EUNAVAIL, "this node is shutting down");
    raft_close(&c->raft, raft_closed);
}
