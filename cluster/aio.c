/* Keeping the kernel's AIO teardown off the loop.
 *
 * raft_uv 0.15 writes its log through a kernel AIO context per open segment, and when it
 * closes a segment (at every snapshot, whose barrier closes the open segment, and when a
 * segment is full) it calls io_destroy(2) on the loop thread. Linux answers io_destroy only
 * after two RCU grace periods (the context's reference counts are torn down with call_rcu),
 * which on a shared two-core virtual machine is 25 to 55 ms, measured with `perf trace` on
 * the leader: the loop stood still that long, every request and heartbeat with it, once per
 * snapshot. With a client that counts the requests it could not send meanwhile (wrk), that
 * one wait made commit latency's p99 50 times its p50.
 *
 * Nothing in raft waits for the teardown to have happened: it calls io_destroy after its
 * last write on the context has completed, then never names the context again. So the
 * teardown is handed to a thread of its own. libraft reaches the kernel's AIO calls through
 * libc's syscall(), and a definition in the program comes before the shared library's
 * (symbol interposition, as malloc replacements work): this file defines syscall(), queues
 * io_destroy for the worker and answers 0 at once, and passes every other call to libc's
 * syscall() unchanged, errno included. A full queue, or a worker that could not be started,
 * falls back to destroying on the calling thread, as before.
 *
 * cluster_new() calls cluster__aio_start(), which both starts the worker before raft needs it
 * and makes sure the linker keeps this file in the program. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "cluster/internal.h"

typedef long (*syscall_fn)(long, ...);

#define QUEUE 64 /* contexts waiting; raft has at most a few segments closing at once */

static struct
{
    pthread_once_t once;
    syscall_fn real; /* libc's syscall() */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    long queue[QUEUE];
    unsigned head, len;
    bool running;          /* the worker started */
    atomic_ulong deferred; /* io_destroy calls handed to the worker */
    atomic_ulong done;     /* ... and carried out by it */
} aio = {
    .once = PTHREAD_ONCE_INIT,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static void find_real(void)
{
    aio.real = (syscall_fn)(uintptr_t)dlsym(RTLD_NEXT, "syscall");
    if (aio.real == NULL) {
        abort(); /* only a static program lacks it, and this one is not */
    }
}

static syscall_fn real_syscall(void)
{
    pthread_once(&aio.once, find_real);
    return aio.real;
}

static void *worker(void *arg)
{
    syscall_fn real = real_syscall();
    (void)arg;
    pthread_mutex_lock(&aio.lock);
    for (;;) {
        while (aio.len == 0) {
            pthread_cond_wait(&aio.wake, &aio.lock);
        }
        long ctx = aio.queue[aio.head];
        aio.head = (aio.head + 1) % QUEUE;
        aio.len--;
        pthread_mutex_unlock(&aio.lock);
        real(SYS_io_destroy, ctx);
        atomic_fetch_add(&aio.done, 1);
        pthread_mutex_lock(&aio.lock);
    }
    return NULL;
}

void cluster__aio_start(void)
{
    pthread_mutex_lock(&aio.lock);
    if (!aio.running) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        aio.running = pthread_create(&t, &attr, worker, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&aio.lock);
}

/* True when the worker took the context. */
static bool defer(long ctx)
{
    bool taken = false;
    pthread_mutex_lock(&aio.lock);
    if (aio.running && aio.len < QUEUE) {
        aio.queue[(aio.head + aio.len) % QUEUE] = ctx;
        aio.len++;
        taken = true;
        atomic_fetch_add(&aio.deferred, 1);
        pthread_cond_signal(&aio.wake);
    }
    pthread_mutex_unlock(&aio.lock);
    return taken;
}

void cluster__aio_counts(unsigned long *deferred, unsigned long *done)
{
    *deferred = atomic_load(&aio.deferred);
    *done = atomic_load(&aio.done);
}

/* libc's syscall() reads six arguments whatever the call takes; so does this. */
long syscall(long nr, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, nr);
    for (int i = 0; i < 6; i++) {
        a[i] = va_arg(ap, long);
    }
    va_end(ap);
    if (nr == SYS_io_destroy && defer(a[0])) {
        return 0;
    }
    return real_syscall()(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
