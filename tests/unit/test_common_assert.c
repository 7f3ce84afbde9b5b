/* common/assert: CD_ASSERT() stays on without assert() (this file is built with NDEBUG), a
 * failure aborts after naming the file, line, function and expression, and the expression
 * is evaluated exactly once. Failures run in a child process. */
#define NDEBUG 1

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/assert.h"

/* Runs fn in a child whose stderr comes back in out; returns the child's wait status. */
static int in_child(void (*fn)(int), int arg, char *out, size_t len)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < len && (got = read(fds[0], out + n, len - n - 1)) > 0) {
        n += (size_t)got;
    }
    out[n] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static int line_of_failure;

static void check_capacity(int load)
{
    int capacity = 3;
    line_of_failure = __LINE__ + 1;
    CD_ASSERT(load <= capacity);
}

static void a_failure_names_itself_and_aborts(void **state)
{
    (void)state;
    char err[512];
    check_capacity(2); /* holds here, and notes the line of the assertion */
    int status = in_child(check_capacity, 4, err, sizeof(err));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    char want[256];
    snprintf(want, sizeof(want),
             "test_common_assert.c:%d: check_capacity: invariant 'load <= capacity' failed\n",
             line_of_failure);
    assert_non_null(strstr(err, want));
    assert_true(strncmp(err, "contactd: ", 10) == 0);
}

static void a_holding_invariant_costs_nothing_else(void **state)
{
    (void)state;
    char err[64];
    int status = in_child(check_capacity, 3, err, sizeof(err));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(err, "");
    int n = 0;
    CD_ASSERT(++n == 1);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failure_names_itself_and_aborts),
        cmocka_unit_test(a_holding_invariant_costs_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
