/* The report's tables: cells keyed by (group value, interval start) and the names of
 * groups. Both are arrays with an open-addressing index (linear probing), kept at most half
 * full. Cells are only ever appended, or dropped from the end when a feeding call fails, so
 * the index is rebuilt rather than edited when positions change. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "report/internal.h"

#define MIN_SLOTS 64

static uint64_t cell_hash(uint64_t group_hash, int64_t start)
{
    return group_hash ^ cd_mix64((uint64_t)start);
}

static void index_insert(struct report__cells *t, size_t pos)
{
    const struct report_cell *c = &t->cells[pos];
    size_t mask = t->n_slots - 1;
    size_t i = (size_t)cell_hash(cd_hash_str(c->group), c->start_ms) & mask;
    while (t->slots[i] != 0) {
        i = (i + 1) & mask;
    }
    t->slots[i] = (uint32_t)(pos + 1);
}

static void index_rebuild(struct report__cells *t)
{
    if (t->slots == NULL) {
        return;
    }
    memset(t->slots, 0, t->n_slots * sizeof(*t->slots));
    for (size_t pos = 0; pos < t->n; pos++) {
        index_insert(t, pos);
    }
}

struct report_cell *report__cells_find_hashed(const struct report__cells *t,
                                              const char *group,
                                              uint64_t group_hash,
                                              int64_t start)
{
    if (t->n == 0) {
        return NULL;
    }
    size_t mask = t->n_slots - 1;
    size_t i = (size_t)cell_hash(group_hash, start) & mask;
    for (; t->slots[i] != 0; i = (i + 1) & mask) {
        struct report_cell *c = &t->cells[t->slots[i] - 1];
        /* Feeding passes the interned name: the same pointer as the cell's. */
        if (c->start_ms == start && (c->group == group || strcmp(c->group, group) == 0)) {
            return c;
        }
    }
    return NULL;
}

struct report_cell *report__cells_find(const struct report__cells *t,
                                       const char *group,
                                       int64_t start)
{
    return report__cells_find_hashed(t, group, cd_hash_str(group), start);
}

/* Makes room for one more cell; on failure the table is unchanged. */
static int reserve(struct report__cells *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap == 0 ? 16 : t->cap * 2;
        struct report_cell *cells = cd_realloc(t->cells, cap * sizeof(*cells));
        if (cells == NULL) {
            return CD_ENOMEM;
        }
        t->cells = cells;
        t->cap = cap;
    }
    if ((t->n + 1) * 2 > t->n_slots) {
        size_t n_slots = t->n_slots == 0 ? MIN_SLOTS : t->n_slots * 2;
        uint32_t *slots = cd_calloc(n_slots, sizeof(*slots));
        if (slots == NULL) {
            return CD_ENOMEM;
        }
        cd_free(t->slots);
        t->slots = slots;
        t->n_slots = n_slots;
        index_rebuild(t);
    }
    return 0;
}

int report__cells_append(struct report__cells *t,
                         const char *group,
                         int64_t start,
                         struct report_cell **out)
{
    if (t->n >= UINT32_MAX - 1) {
        return CD_ENOMEM;
    }
    int rc = reserve(t);
    if (rc != 0) {
        return rc;
    }
    struct report_cell *c = &t->cells[t->n];
    memset(c, 0, sizeof(*c));
    c->group = group;
    c->start_ms = start;
    index_insert(t, t->n);
    t->n++;
    t->sorted = t->n <= 1;
    *out = c;
    return 0;
}

void report__cells_truncate(struct report__cells *t, size_t n)
{
    if (n < t->n) {
        t->n = n;
        index_rebuild(t);
    }
}

static int cell_cmp(const void *a, const void *b)
{
    const struct report_cell *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    if (c != 0) {
        return c;
    }
    return (x->start_ms > y->start_ms) - (x->start_ms < y->start_ms);
}

void report__cells_sort(struct report__cells *t)
{
    if (t->sorted || t->n < 2) {
        return;
    }
    qsort(t->cells, t->n, sizeof(*t->cells), cell_cmp);
    index_rebuild(t);
    t->sorted = true;
}

void report__cells_close(struct report__cells *t)
{
    cd_free(t->cells);
    cd_free(t->slots);
    memset(t, 0, sizeof(*t));
}

static int names_grow(struct report__names *t)
{
    size_t n_slots = t->n_slots == 0 ? MIN_SLOTS : t->n_slots * 2;
    char **slots = cd_calloc(n_slots, sizeof(*slots));
    if (slots == NULL) {
        return CD_ENOMEM;
    }
    for (size_t i = 0; i < t->n_slots; i++) {
        if (t->slots[i] == NULL) {
            continue;
        }
        size_t j = (size_t)cd_hash_str(t->slots[i]) & (n_slots - 1);
        while (slots[j] != NULL) {
            j = (j + 1) & (n_slots - 1);
        }
        slots[j] = t->slots[i];
    }
    cd_free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    return 0;
}

const char *report__intern(struct report__names *t, const char *s, uint64_t hash)
{
    if ((t->n + 1) * 2 > t->n_slots && names_grow(t) != 0) {
        return NULL;
    }
    size_t mask = t->n_slots - 1;
    size_t i = (size_t)hash & mask;
    for (; t->slots[i] != NULL; i = (i + 1) & mask) {
        if (strcmp(t->slots[i], s) == 0) {
            return t->slots[i];
        }
    }
    t->slots[i] = cd_strdup(s);
    if (t->slots[i] == NULL) {
        return NULL;
    }
    t->n++;
    return t->slots[i];
}

void report__names_close(struct report__names *t)
{
    for (size_t i = 0; i < t->n_slots; i++) {
        cd_free(t->slots[i]);
    }
    cd_free(t->slots);
    memset(t, 0, sizeof(*t));
}
