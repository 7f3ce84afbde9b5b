/* The waiting line of one class: a binary heap of entries that carry their own order key
 * (priority, enqueued, id), so sifting never touches the contacts themselves. Removal from
 * the middle (abandon, escalation, transfer) is lazy: the contact's generation changes and
 * its old entry is dropped when it reaches the top, or when stale entries outnumber live
 * ones and the heap is compacted. The head is therefore always a live contact, and the
 * order is exactly that of an eager heap. */

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

static bool before(const struct wait_entry *x, const struct wait_entry *y)
{
    if (x->priority != y->priority) {
        return x->priority > y->priority;
    }
    if (x->enqueued != y->enqueued) {
        return x->enqueued < y->enqueued;
    }
    return x->id < y->id;
}

static void sift_up(struct waitline *w, uint32_t pos)
{
    struct wait_entry item = w->v[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!before(&item, &w->v[parent])) {
            break;
        }
        w->v[pos] = w->v[parent];
        pos = parent;
    }
    w->v[pos] = item;
}

static void sift_down(struct waitline *w, uint32_t pos)
{
    struct wait_entry item = w->v[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= w->n) {
            break;
        }
        if (child + 1 < w->n && before(&w->v[child + 1], &w->v[child])) {
            child++;
        }
        if (!before(&w->v[child], &item)) {
            break;
        }
        w->v[pos] = w->v[child];
        pos = child;
    }
    w->v[pos] = item;
}

static bool live(const struct engine *e, const struct wait_entry *x, uint32_t cls)
{
    const struct contact *c = &e->contacts[x->slot];
    return c->id == x->id && c->cls == cls && c->qgen == x->gen;
}

static void pop(struct waitline *w)
{
    w->v[0] = w->v[--w->n];
    if (w->n > 0) {
        sift_down(w, 0);
    }
}

/* Drops stale entries from the top so that the head is live. */
static void clean_top(struct engine *e, struct waitline *w, uint32_t cls)
{
    while (w->n > 0 && !live(e, &w->v[0], cls)) {
        pop(w);
        w->stale--;
    }
}

static void compact(struct engine *e, struct waitline *w, uint32_t cls)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        if (live(e, &w->v[i], cls)) {
            w->v[n++] = w->v[i];
        }
    }
    w->n = n;
    w->stale = 0;
    for (uint32_t i = n / 2; i-- > 0;) {
        sift_down(w, i);
    }
}

int engine__wait_push(struct engine *e, struct waitline *w, struct contact *c)
{
    if (GROW(w->v, w->cap, w->n + 1) != 0) {
        return CD_ENOMEM;
    }
    c->qgen++;
    w->v[w->n] = (struct wait_entry){.enqueued = c->enqueued,
                                     .id = c->id,
                                     .slot = engine__slot(e, c),
                                     .gen = c->qgen,
                                     .priority = c->priority};
    sift_up(w, w->n++);
    return 0;
}

/* The contact has already left (its cls changed): forget its entry. */
void engine__wait_drop(struct engine *e, struct waitline *w, uint32_t cls, uint64_t id)
{
    w->stale++;
    if (w->n > 0 && w->v[0].id == id) {
        clean_top(e, w, cls);
    } else if (w->stale > 32 && w->stale > w->n / 2) {
        compact(e, w, cls);
    }
}

const struct wait_entry *engine__wait_head(const struct waitline *w)
{
    return w->n > 0 ? &w->v[0] : NULL;
}

uint32_t engine__wait_live(const struct waitline *w)
{
    return w->n - w->stale;
}

void engine__wait_close(struct waitline *w)
{
    cd_free(w->v);
    w->v = NULL;
    w->n = w->cap = w->stale = 0;
}
