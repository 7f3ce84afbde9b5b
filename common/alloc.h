/* The allocator seam: engine/, storage/ and common/buf allocate through cd_malloc(),
 * cd_calloc(), cd_realloc(), cd_strdup() and release through cd_free(), so that a test can
 * replace the allocator and make any one allocation fail.
 *
 * By default the functions are libc's. Memory crosses module boundaries (config/ builds a
 * routing model with libc's malloc() that engine_model_close() releases with cd_free();
 * cluster/ takes over the bytes of a struct cd_buf and hands them to raft, which frees them
 * with raft_free(), or frees them with free()), so an installed allocator must
 * hand out blocks that libc's free() accepts and accept blocks from libc's malloc(): in
 * practice it wraps the one it replaces, as the fault injector below does.
 *
 * Not thread-safe to change: install or remove an allocator only while no other thread
 * allocates through the seam. Calling the functions from several threads is fine as long as
 * the allocator installed is (libc's is; the fault injector is not). */
#ifndef CD_COMMON_ALLOC_H
#define CD_COMMON_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An allocator as an ops table. Each function gets data first; the semantics are libc's
 * (NULL on failure, a failed realloc leaves ptr untouched, free(NULL) does nothing). */
struct cd_allocator
{
    void *data;
    void *(*malloc)(void *data, size_t size);
    void *(*calloc)(void *data, size_t n, size_t size);
    void *(*realloc)(void *data, void *ptr, size_t size);
    void (*free)(void *data, void *ptr);
};

/* Installs a (borrowed until it is replaced) and returns the allocator it replaces, so the
 * caller can put that back. NULL installs libc's. */
const struct cd_allocator *cd_alloc_set(const struct cd_allocator *a);

/* libc semantics. size and n * size must be above 0; cd_calloc() returns NULL when n * size
 * overflows. On failure cd_realloc() returns NULL and ptr stays valid and owned by the
 * caller. cd_strdup() copies a NUL-terminated s (not NULL). */
void *cd_malloc(size_t size);
void *cd_calloc(size_t n, size_t size);
void *cd_realloc(void *ptr, size_t size);
char *cd_strdup(const char *s);
void cd_free(void *ptr);

/* ---- Fault injection, for tests -------------------------------------------------------- */

/* Wraps the allocator in place and fails chosen allocations: counting every cd_malloc,
 * cd_calloc, cd_realloc and cd_strdup from the start (1 = the first), allocations nth to
 * nth + count - 1 return NULL without reaching the wrapped allocator; every other call goes
 * through. The struct is caller-owned; its counters may be read while it is installed. */
struct cd_alloc_fault
{
    uint64_t nth;   /* 0 = fail nothing, only count */
    uint64_t count; /* consecutive failures from nth on; UINT64_MAX = all of them */
    uint64_t calls; /* allocations asked for since the start, failed ones included */
    uint64_t failed;
    int64_t live; /* blocks handed out minus blocks freed since the start (a block freed
                     that was allocated before the start counts -1) */
    const struct cd_allocator *next;
    struct cd_allocator self;
};

/* Installs f over the current allocator. f stays borrowed until cd_alloc_fault_stop(). */
void cd_alloc_fault_start(struct cd_alloc_fault *f, uint64_t nth, uint64_t count);
/* Puts back the allocator f wrapped; f must be the allocator installed. */
void cd_alloc_fault_stop(struct cd_alloc_fault *f);

#endif
