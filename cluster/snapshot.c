/* Taking a snapshot without stopping the loop.
 *
 * A snapshot is the engine's whole state encoded (engine_encode): tens of milliseconds with
 * a hundred thousand live contacts. Encoding it on the loop held up every request and every
 * heartbeat for that long each time the log reached the snapshot threshold, which is what
 * made commit latency's p99 tens of times its p50.
 *
 * So the state is encoded by a child process: fork() gives it a copy-on-write image of the
 * state exactly as it is at the index being snapshotted, at the cost of copying the page
 * tables (about a millisecond per gigabyte), while this process goes on applying entries and
 * only pays for the pages it changes meanwhile. Raft's version 3 state machine splits the
 * work the same way: `snapshot` runs on the loop (we fork there), `snapshot_async` in the
 * thread pool (we read what the child writes to a pipe and reap it), `snapshot_finalize` on
 * the loop again (we free the buffer, or stop a child whose snapshot was abandoned).
 *
 * The child runs nothing but the engine's pure encoder and writes to a pipe; it never
 * touches the loop, raft or LMDB, and ends with _exit(). glibc's fork() takes the allocator's
 * locks around the fork, so the child may allocate. Why not a copy of the state on the loop
 * instead: a deep copy costs the same order of time as the encoding itself. Why not an LMDB
 * read transaction: the records there do not hold the whole engine state (queue order,
 * offers, timers, the model archive).
 *
 * Only the idle CPU: the child runs under SCHED_IDLE. Encoding a quarter of a million
 * contacts takes the child about half a second of CPU, and each of the three members forks
 * one at about the same index; at normal priority they took that time from the loops of a
 * two-core machine and tripled commit latency's p99 at 64 clients (bench/cluster). Idle, a
 * child runs when the loops wait, which they do between batches. The price: on a machine
 * that is busy all the time a snapshot takes longer, and meanwhile Raft keeps the log since
 * the last one (in memory too); it never stops, since the scheduler still gives an idle task
 * a small share. An unprivileged process cannot raise a task out of SCHED_IDLE again, so
 * there is no deadline after which it would. */
#define _GNU_SOURCE /* SCHED_IDLE */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "common/log.h"

/* What the child writes: magic, the index the snapshot stands for, the last entry the state
 * machine applied, the engine's encoding. */
static int encode(const struct cluster *c, uint64_t index, struct cd_buf *b)
{
    cd_buf_u32(b, CLUSTER__SNAPSHOT_MAGIC2);
    cd_buf_u64(b, index);
    cd_buf_u64(b, c->last_fsm_index <= index ? c->last_fsm_index : index);
    return b->err != 0 ? b->err : engine_encode(c->engine, b);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void child(const struct cluster *c, uint64_t index, int fd)
{
    struct cd_buf b;
    cd_buf_init(&b);
    struct sched_param none = {0};
    (void)sched_setscheduler(0, SCHED_IDLE, &none); /* see "Only the idle CPU" above */
    int ok = encode(c, index, &b) == 0 && write_all(fd, b.data, b.len) == 0;
    _exit(ok ? 0 : 1);
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct cluster *c = fsm->data;
    int fds[2];
    uint64_t index = raft_last_applied(&c->raft);
    *bufs = NULL;
    *n_bufs = 0;
    if (c->snap.pid != 0) {
        return RAFT_BUSY; /* raft takes one at a time; this would be a bug, not a failure */
    }
    if (pipe(fds) != 0) {
        return RAFT_IOERR;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC); /* a node never execs, but keep it private anyway */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return RAFT_IOERR;
    }
    if (pid == 0) {
        close(fds[0]);
        child(c, index, fds[1]);
    }
    close(fds[1]);
    c->snap.pid = pid;
    c->snap.fd = fds[0];
    c->snap.index = index;
    c->snap.started = uv_now(c->loop);
    c->snap.taken_bytes = c->snap.log_bytes;
    c->snap.taken_entries = c->snap.log_entries;
    c->snap.log_bytes = 0;
    c->snap.log_entries = 0;
    c->snapshot_index = index;
    return 0;
}

/* Reaps the child: 0 when it wrote the whole snapshot. */
static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int read_all(int fd, struct cd_buf *b)
{
    for (;;) {
        if (cd_buf_reserve(b, 64 * 1024) != 0) {
            return -1;
        }
        ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            return 0;
        }
        b->len += (size_t)n;
    }
}

/* In the thread pool: only c->snap is touched, and the loop leaves it alone meanwhile. */
static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    struct cluster *c = fsm->data;
    struct cd_buf b;
    struct raft_buffer *out = malloc(sizeof(*out));
    cd_buf_init(&b);
    int read_rv = out != NULL ? read_all(c->snap.fd, &b) : -1;
    if (read_rv != 0) {
        kill(c->snap.pid, SIGKILL); /* so that the wait below cannot hang */
    }
    int child_rv = reap(c->snap.pid);
    close(c->snap.fd);
    c->snap.pid = 0;
    c->snap.fd = -1;
    if (read_rv != 0 || child_rv != 0) {
        free(out);
        cd_buf_close(&b);
        return read_rv != 0 && out == NULL ? RAFT_NOMEM : RAFT_IOERR;
    }
    out->base = b.data;
    out->len = b.len;
    *bufs = out;
    *n = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    struct cluster *c = fsm->data;
    if (c->snap.pid != 0) { /* abandoned before the thread pool took it */
        kill(c->snap.pid, SIGKILL);
        reap(c->snap.pid);
        close(c->snap.fd);
        c->snap.pid = 0;
        c->snap.fd = -1;
    }
    uint64_t bytes = 0;
    for (unsigned i = 0; *bufs != NULL && i < *n; i++) {
        bytes += (*bufs)[i].len;
        free((*bufs)[i].base);
    }
    if (bytes > 0) { /* taken: the next threshold, and a log line */
        if (c->node.raft.snapshot_growth) {
            raft_set_snapshot_threshold(
                &c->raft,
                cluster__snapshot_threshold(bytes, c->snap.taken_bytes, c->snap.taken_entries,
                                            c->node.raft.snapshot_threshold));
        }
        char index[24], size[24], ms[24], next[24];
        snprintf(index, sizeof(index), "%llu", (unsigned long long)c->snap.index);
        snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
        snprintf(ms, sizeof(ms), "%llu",
                 (unsigned long long)(uv_now(c->loop) - c->snap.started));
        snprintf(next, sizeof(next), "%u", c->raft.snapshot.threshold);
        cd_log(CD_LOG_INFO, "snapshot", "index", index, "bytes", size, "ms", ms,
               "next_after_entries", next, NULL);
    }
    free(*bufs);
    *bufs = NULL;
    *n = 0;
    return 0;
}

unsigned cluster__snapshot_threshold(uint64_t bytes,
                                     uint64_t log_bytes,
                                     uint64_t log_entries,
                                     unsigned floor)
{
    uint64_t per_entry =
        log_entries > 0 && log_bytes >= log_entries ? log_bytes / log_entries : 1;
    uint64_t want = bytes / per_entry;
    if (want > CLUSTER__SNAPSHOT_THRESHOLD_MAX) {
        want = CLUSTER__SNAPSHOT_THRESHOLD_MAX;
    }
    return want > floor ? (unsigned)want : floor;
}

void cluster__snapshot_init(struct cluster *c)
{
    c->snap.pid = 0;
    c->snap.fd = -1;
    c->fsm.version = 3;
    c->fsm.snapshot = fsm_snapshot;
    c->fsm.snapshot_async = fsm_snapshot_async;
    c->fsm.snapshot_finalize = fsm_snapshot_finalize;
}
