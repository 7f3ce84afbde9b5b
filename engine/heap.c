/* Indexed binary heaps: each item knows its position (through ops->setpos), so removing
 * or re-keying any item is O(log n). Also the two array helpers every table uses: growing,
 * and finding a name in an array sorted by it. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

int engine__grow(void **arr, uint32_t *cap, uint32_t need, size_t sz)
{
    if (need <= *cap) {
        return 0;
    }
    uint64_t n = *cap ? *cap : 8;
    while (n < need) {
        n *= 2;
    }
    if (n > UINT32_MAX) {
        return CD_ENOMEM;
    }
    void *p = cd_realloc(*arr, (size_t)n * sz);
    if (p == NULL) {
        return CD_ENOMEM;
    }
    *arr = p;
    *cap = (uint32_t)n;
    return 0;
}

bool engine__find_sorted(const void *base,
                         uint32_t n,
                         size_t size,
                         size_t offset,
                         const char *name,
                         uint32_t *at)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp((const char *)base + (size_t)mid * size + offset, name);
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *at = lo;
    return false;
}

static void place(struct engine *e,
                  struct heap *h,
                  const struct heap_ops *ops,
                  uint32_t pos,
                  uint32_t item)
{
    h->v[pos] = item;
    ops->setpos(e, item, pos);
}

static uint32_t sift_up(struct engine *e,
                        struct heap *h,
                        const struct heap_ops *ops,
                        uint32_t pos)
{
    uint32_t item = h->v[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!ops->less(e, item, h->v[parent])) {
            break;
        }
        place(e, h, ops, pos, h->v[parent]);
        pos = parent;
    }
    place(e, h, ops, pos, item);
    return pos;
}

static void sift_down(struct engine *e,
                      struct heap *h,
                      const struct heap_ops *ops,
                      uint32_t pos)
{
    uint32_t item = h->v[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= h->n) {
            break;
        }
        if (child + 1 < h->n && ops->less(e, h->v[child + 1], h->v[child])) {
            child++;
        }
        if (!ops->less(e, h->v[child], item)) {
            break;
        }
        place(e, h, ops, pos, h->v[child]);
        pos = child;
    }
    place(e, h, ops, pos, item);
}

int engine__heap_push(struct engine *e,
                      struct heap *h,
                      const struct heap_ops *ops,
                      uint32_t item)
{
    if (GROW(h->v, h->cap, h->n + 1) != 0) {
        return CD_ENOMEM;
    }
    h->v[h->n] = item;
    sift_up(e, h, ops, h->n++);
    return 0;
}

void engine__heap_remove(struct engine *e,
                         struct heap *h,
                         const struct heap_ops *ops,
                         uint32_t pos)
{
    ops->setpos(e, h->v[pos], NONE32);
    h->n--;
    if (pos == h->n) {
        return;
    }
    h->v[pos] = h->v[h->n];
    ops->setpos(e, h->v[pos], pos);
    engine__heap_fix(e, h, ops, pos);
}

void engine__heap_fix(struct engine *e,
                      struct heap *h,
                      const struct heap_ops *ops,
                      uint32_t pos)
{
    if (sift_up(e, h, ops, pos) == pos) {
        sift_down(e, h, ops, pos);
    }
}

void engine__heap_close(struct heap *h)
{
    cd_free(h->v);
    memset(h, 0, sizeof(*h));
}
