/* cluster: raft_uv's kernel AIO contexts are destroyed off the loop (cluster/aio.c). The
 * program's syscall() is the one shared libraries reach; io_destroy through it returns at
 * once and the context is gone soon after, destroyed by the worker; every other call passes
 * through unchanged, its errno included. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/aio_abi.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster/internal.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* libraft calls syscall() through the global scope, where the program comes first. */
static void the_program_s_syscall_is_the_one_libraries_reach(void **state)
{
    (void)state;
    void *global = dlsym(RTLD_DEFAULT, "syscall");
    assert_ptr_equal((void *)(uintptr_t)global, (void *)(uintptr_t)&syscall);
    void *next = dlsym(RTLD_NEXT, "syscall");
    assert_non_null(next);
    assert_ptr_not_equal(next, global);
}

static void other_calls_pass_through(void **state)
{
    (void)state;
    assert_int_equal(syscall(SYS_getpid), getpid());
    errno = 0;
    assert_int_equal(syscall(SYS_close, -1), -1);
    assert_int_equal(errno, EBADF);
    /* Six arguments reach the kernel: pread64's offset is the fourth. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    errno = 0;
    assert_int_equal(syscall(SYS_pread64, fds[0], NULL, 0, 0), -1);
    assert_int_equal(errno, ESPIPE);
    close(fds[0]);
    close(fds[1]);
}

/* io_submit of nothing on a context answers 0 while it exists, EINVAL once destroyed. */
static bool context_exists(aio_context_t ctx)
{
    errno = 0;
    return syscall(SYS_io_submit, ctx, 0L, NULL) == 0;
}

static void io_destroy_returns_at_once_and_happens_on_the_worker(void **state)
{
    (void)state;
    cluster__aio_start();
    cluster__aio_start(); /* a second start changes nothing */
    aio_context_t ctx = 0;
    assert_int_equal(syscall(SYS_io_setup, 8, &ctx), 0);
    assert_true(context_exists(ctx));

    unsigned long deferred0, done0, deferred, done;
    cluster__aio_counts(&deferred0, &done0);
    assert_int_equal(syscall(SYS_io_destroy, ctx), 0);
    cluster__aio_counts(&deferred, &done);
    assert_int_equal(deferred, deferred0 + 1);

    for (int i = 0; i < 500 && done < done0 + 1; i++) { /* up to 5 s */
        sleep_ms(10);
        cluster__aio_counts(&deferred, &done);
    }
    assert_int_equal(done, done0 + 1);
    assert_false(context_exists(ctx));
    assert_int_equal(errno, EINVAL);
}

static void many_contexts_in_a_row_are_all_destroyed(void **state)
{
    (void)state;
    cluster__aio_start();
    enum { N = 70 }; /* more than the queue (64) holds: the rest are destroyed in place */
    aio_context_t ctx[N];
    unsigned long deferred0, done0, deferred, done;
    cluster__aio_counts(&deferred0, &done0);
    for (int i = 0; i < N; i++) {
        ctx[i] = 0;
        assert_int_equal(syscall(SYS_io_setup, 1, &ctx[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(syscall(SYS_io_destroy, ctx[i]), 0);
    }
    cluster__aio_counts(&deferred, &done);
    assert_true(deferred > deferred0);
    for (int i = 0; i < 3000 && done < deferred; i++) { /* up to 30 s */
        sleep_ms(10);
        cluster__aio_counts(&deferred, &done);
    }
    assert_int_equal(done, deferred);
    for (int i = 0; i < N; i++) {
        assert_false(context_exists(ctx[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_program_s_syscall_is_the_one_libraries_reach),
        cmocka_unit_test(other_calls_pass_through),
        cmocka_unit_test(io_destroy_returns_at_once_and_happens_on_the_worker),
        cmocka_unit_test(many_contexts_in_a_row_are_all_destroyed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
