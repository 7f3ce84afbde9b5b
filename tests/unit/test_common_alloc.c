/* common/alloc: the allocator seam (libc by default, replaceable) and the fault injector
 * the out-of-memory tests stand on: which calls it fails, what it counts, nesting, and a
 * byte buffer that runs out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

static int teardown(void **state)
{
    (void)state;
    cd_alloc_set(NULL);
    return 0;
}

#define TEST(name) cmocka_unit_test_teardown(name, teardown)

static struct cd_alloc_fault fault, outer;

static void libc_by_default(void **state)
{
    (void)state;
    char *s = cd_strdup("queue");
    assert_string_equal(s, "queue");
    free(s); /* libc's blocks: another module may free what this one allocated */
    uint32_t *v = cd_calloc(4, sizeof(*v));
    assert_non_null(v);
    assert_int_equal(v[0] | v[1] | v[2] | v[3], 0);
    v = cd_realloc(v, 64 * sizeof(*v));
    assert_non_null(v);
    cd_free(v);
    cd_free(NULL);
}

static void calloc_overflow_is_refused_before_the_allocator(void **state)
{
    (void)state;
    cd_alloc_fault_start(&fault, 0, 0);
    assert_null(cd_calloc(SIZE_MAX / 2, 4));
    assert_int_equal(fault.calls, 0);
    cd_alloc_fault_stop(&fault);
}

static void the_nth_allocation_fails_once(void **state)
{
    (void)state;
    cd_alloc_fault_start(&fault, 3, 1);
    void *a = cd_malloc(8);
    char *b = cd_strdup("x");
    void *c = cd_calloc(1, 8); /* the third */
    void *d = cd_realloc(NULL, 8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_non_null(d);
    assert_int_equal(fault.calls, 4);
    assert_int_equal(fault.failed, 1);
    assert_int_equal(fault.live, 3);
    cd_free(a);
    cd_free(b);
    cd_free(d);
    assert_int_equal(fault.live, 0);
    cd_alloc_fault_stop(&fault);
}

static void from_the_nth_on_every_allocation_fails(void **state)
{
    (void)state;
    cd_alloc_fault_start(&fault, 2, UINT64_MAX);
    void *a = cd_malloc(8);
    assert_non_null(a);
    for (int i = 0; i < 5; i++) {
        assert_null(cd_malloc(8));
    }
    void *grown = cd_realloc(a, 4096);
    assert_null(grown); /* a failed realloc keeps the block */
    memset(a, 1, 8);
    cd_free(a);
    assert_int_equal(fault.failed, 6);
    assert_int_equal(fault.live, 0);
    cd_alloc_fault_stop(&fault);
    a = cd_malloc(8); /* the allocator is libc's again */
    assert_non_null(a);
    cd_free(a);
}

static void realloc_counts_a_block_once(void **state)
{
    (void)state;
    cd_alloc_fault_start(&fault, 0, 0);
    void *p = cd_realloc(NULL, 8);
    p = cd_realloc(p, 800);
    p = cd_realloc(p, 8000);
    assert_int_equal(fault.calls, 3);
    assert_int_equal(fault.live, 1);
    cd_free(p);
    assert_int_equal(fault.live, 0);
    cd_alloc_fault_stop(&fault);
}

static void faults_nest(void **state)
{
    (void)state;
    cd_alloc_fault_start(&outer, 0, 0);
    void *kept = cd_malloc(8);
    cd_alloc_fault_start(&fault, 1, 1);
    assert_null(cd_malloc(8)); /* failed by the inner one: the outer never sees it */
    void *p = cd_malloc(8);
    cd_alloc_fault_stop(&fault);
    cd_free(p);
    cd_free(kept);
    assert_int_equal(outer.calls, 2);
    assert_int_equal(outer.live, 0);
    assert_int_equal(fault.live, 1); /* p was freed after the inner one came off */
    cd_alloc_fault_stop(&outer);
}

static void a_buffer_that_runs_out_keeps_its_bytes(void **state)
{
    (void)state;
    struct cd_buf b;
    cd_buf_init(&b);
    cd_buf_put(&b, "contactd", 8);
    cd_alloc_fault_start(&fault, 1, UINT64_MAX);
    uint8_t big[200] = {0};
    cd_buf_put(&b, big, sizeof(big));
    cd_buf_u8(&b, 1);
    cd_alloc_fault_stop(&fault);
    assert_int_equal(b.err, CD_ENOMEM);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "contactd", 8);
    cd_buf_put(&b, "x", 1); /* sticky: nothing more is written */
    assert_int_equal(b.len, 8);
    cd_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(libc_by_default),
        TEST(calloc_overflow_is_refused_before_the_allocator),
        TEST(the_nth_allocation_fails_once),
        TEST(from_the_nth_on_every_allocation_fails),
        TEST(realloc_counts_a_block_once),
        TEST(faults_nest),
        TEST(a_buffer_that_runs_out_keeps_its_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
