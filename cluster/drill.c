/* The faults of drills that the cluster carries out (docs/continuity.md, "Drills"), and the
 * measure of the log's writes that a slow disk shows in.
 *
 * Isolation cuts this member off from the others for a while: the guard (transport.c,
 * dial.c, link.c) closes every Raft connection, both ways, takes none and makes none until
 * it ends, and the peer channel's traffic is dropped both ways (cluster__peer_send() and
 * peer/server.c ask cluster_isolated()). Raft then sees what a network partition shows it:
 * no message comes or goes, and it reconnects by itself once the isolation is over.
 *
 * A slow disk is one whose log writes take longer: raft_uv's append is wrapped, and while
 * the drill lasts each write is reported to Raft delay ms after raft_uv finished it, in the
 * order they were made (a disk finishes a log's writes in order). The state's store (LMDB)
 * does not wait for the disk by default (storage/README.md), so the log is what a slow disk
 * slows. The wrapper also measures every log write, from Raft asking to Raft being told, for
 * the health signal node.ID.disk_latency (node/health.c). */
#include <stdlib.h>

#include "cluster/internal.h"
#include "common/error.h"

struct cluster__disk_write
{
    struct raft_io_append inner; /* what raft_uv gets: its data is this record */
    struct raft_io_append *outer;
    raft_io_append_cb cb;
    struct cluster *c;
    uint64_t asked_ns;
    uint64_t due; /* loop ms: when Raft is told, while the disk is slow */
    int status;
    struct cluster__disk_write *next;
};

static struct cluster *cluster_of(struct raft_io *io)
{
    return (struct cluster *)((char *)io - offsetof(struct cluster, io));
}

static void tell(struct cluster__disk_write *w)
{
    struct cluster *c = w->c;
    cd_hist_add(&c->disk.latency, (uv_hrtime() - w->asked_ns) / 1000);
    raft_io_append_cb cb = w->cb;
    struct raft_io_append *outer = w->outer;
    int status = w->status;
    free(w);
    cb(outer, status);
}

/* Tells Raft of the writes that are due (all of them when the io closes). */
static void tell_due(struct cluster *c, bool all)
{
    uint64_t now = uv_now(c->loop);
    while (c->disk.head != NULL && (all || c->disk.head->due <= now)) {
        struct cluster__disk_write *w = c->disk.head;
        c->disk.head = w->next;
        if (c->disk.head == NULL) {
            c->disk.tail = NULL;
        }
        tell(w);
    }
}

static void due_timer(uv_timer_t *t)
{
    struct cluster *c = t->data;
    tell_due(c, false);
    if (c->disk.head != NULL) {
        uint64_t now = uv_now(c->loop);
        uv_timer_start(t, due_timer, c->disk.head->due > now ? c->disk.head->due - now : 0, 0);
    }
}

static void written(struct raft_io_append *inner, int status)
{
    struct cluster__disk_write *w = inner->data;
    struct cluster *c = w->c;
    w->status = status;
    uint64_t now = uv_now(c->loop);
    bool slow = c->disk.slow_until > now && !c->disk.closing;
    if (!slow && c->disk.head == NULL) {
        tell(w);
        return;
    }
    /* behind those still waiting, or delay ms from now: in order either way */
    w->due = slow ? now + c->disk.slow_ms : now;
    if (c->disk.tail != NULL && c->disk.tail->due > w->due) {
        w->due = c->disk.tail->due;
    }
    if (c->disk.tail != NULL) {
        c->disk.tail->next = w;
    } else {
        c->disk.head = w;
    }
    c->disk.tail = w;
    if (!uv_is_active((uv_handle_t *)&c->disk.timer)) {
        uv_timer_start(&c->disk.timer, due_timer, c->disk.head->due - now, 0);
    }
}

static int append(struct raft_io *io,
                  struct raft_io_append *req,
                  const struct raft_entry entries[],
                  unsigned n,
                  raft_io_append_cb cb)
{
    struct cluster *c = cluster_of(io);
    struct cluster__disk_write *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return RAFT_NOMEM;
    }
    w->inner.data = w;
    w->outer = req;
    w->cb = cb;
    w->c = c;
    w->asked_ns = uv_hrtime();
    int rv = c->disk.append(io, &w->inner, entries, n, written);
    if (rv != 0) {
        free(w);
    }
    return rv;
}

static void maybe_closed(struct cluster *c)
{
    if (c->disk.closes_waiting == 0 && c->disk.close_cb != NULL) {
        raft_io_close_cb cb = c->disk.close_cb;
        c->disk.close_cb = NULL;
        cb(&c->io);
    }
}

static void io_closed(struct raft_io *io)
{
    struct cluster *c = cluster_of(io);
    tell_due(c, true); /* writes raft_uv cancelled while closing */
    c->disk.closes_waiting--;
    maybe_closed(c);
}

static void timer_closed(uv_handle_t *h)
{
    struct cluster *c = h->data;
    c->disk.closes_waiting--;
    maybe_closed(c);
}

static void io_close(struct raft_io *io, raft_io_close_cb cb)
{
    struct cluster *c = cluster_of(io);
    c->disk.closing = true;
    c->disk.close_cb = cb;
    c->disk.closes_waiting = 1;
    tell_due(c, true);
    if (c->disk.timer_open) {
        c->disk.closes_waiting++;
        uv_close((uv_handle_t *)&c->disk.timer, timer_closed);
    }
    c->disk.close(io, io_closed);
}

void cluster__disk_wrap(struct cluster *c)
{
    c->disk.append = c->io.append;
    c->disk.close = c->io.close;
    c->io.append = append;
    c->io.close = io_close;
    c->disk.wrapped = true;
}

int cluster_slow_disk(struct cluster *c, uint32_t delay_ms, uint32_t ms)
{
    if (!c->disk.wrapped || c->disk.closing) {
        return CD_EUNAVAIL;
    }
    if (!c->disk.timer_open) {
        uv_timer_init(c->loop, &c->disk.timer);
        c->disk.timer.data = c;
        c->disk.timer_open = true;
    }
    c->disk.slow_ms = delay_ms;
    c->disk.slow_until = uv_now(c->loop) + ms;
    return 0;
}

void cluster_disk_latency(const struct cluster *c, struct cd_hist *out)
{
    *out = c->disk.latency;
}

int cluster_isolate(struct cluster *c, uint32_t ms)
{
    if (c->given_io != NULL || c->closing) {
        return CD_EUNAVAIL; /* a test's io has no transport of ours */
    }
    cluster__guard_isolate(&c->transport, uv_now(c->loop) + ms);
    return 0;
}

bool cluster_isolated(const struct cluster *c)
{
    return cluster__guard_isolated(&c->transport);
}
