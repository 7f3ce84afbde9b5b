#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *data, size_t size)
{
    (void)data;
    return malloc(size);
}

static void *libc_calloc(void *data, size_t n, size_t size)
{
    (void)data;
    return calloc(n, size);
}

static void *libc_realloc(void *data, void *ptr, size_t size)
{
    (void)data;
    return realloc(ptr, size);
}

static void libc_free(void *data, void *ptr)
{
    (void)data;
    free(ptr);
}

static const struct cd_allocator libc_allocator = {NULL, libc_malloc, libc_calloc, libc_realloc,
                                                   libc_free};
static const struct cd_allocator *current = &libc_allocator;

const struct cd_allocator *cd_alloc_set(const struct cd_allocator *a)
{
    const struct cd_allocator *old = current;
    current = a != NULL ? a : &libc_allocator;
    return old;
}

void *cd_malloc(size_t size)
{
    return current->malloc(current->data, size);
}

void *cd_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        return NULL;
    }
    return current->calloc(current->data, n, size);
}

void *cd_realloc(void *ptr, size_t size)
{
    return current->realloc(current->data, ptr, size);
}

char *cd_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = cd_malloc(n);
    if (copy != NULL) {
        memcpy(copy, s, n);
    }
    return copy;
}

void cd_free(void *ptr)
{
    current->free(current->data, ptr);
}

/* ---- Fault injection ------------------------------------------------------------------- */

/* Counts the call; true when this one is to fail. */
static bool fault_hit(struct cd_alloc_fault *f)
{
    uint64_t i = ++f->calls;
    bool hit = f->nth != 0 && i >= f->nth && i - f->nth < f->count;
    f->failed += hit;
    return hit;
}

static void *fault_malloc(void *data, size_t size)
{
    struct cd_alloc_fault *f = data;
    void *p = fault_hit(f) ? NULL : f->next->malloc(f->next->data, size);
    f->live += p != NULL;
    return p;
}

static void *fault_calloc(void *data, size_t n, size_t size)
{
    struct cd_alloc_fault *f = data;
    void *p = fault_hit(f) ? NULL : f->next->calloc(f->next->data, n, size);
    f->live += p != NULL;
    return p;
}

static void *fault_realloc(void *data, void *ptr, size_t size)
{
    struct cd_alloc_fault *f = data;
    void *p = fault_hit(f) ? NULL : f->next->realloc(f->next->data, ptr, size);
    f->live += p != NULL && ptr == NULL;
    return p;
}

static void fault_free(void *data, void *ptr)
{
    struct cd_alloc_fault *f = data;
    f->live -= ptr != NULL;
    f->next->free(f->next->data, ptr);
}

void cd_alloc_fault_start(struct cd_alloc_fault *f, uint64_t nth, uint64_t count)
{
    memset(f, 0, sizeof(*f));
    f->nth = nth;
    f->count = count;
    f->self = (struct cd_allocator){f, fault_malloc, fault_calloc, fault_realloc, fault_free};
    f->next = cd_alloc_set(&f->self);
}

void cd_alloc_fault_stop(struct cd_alloc_fault *f)
{
    cd_alloc_set(f->next);
}
