/* Open addressing with linear probing and backward-shift deletion (no tombstones), from a
 * 64-bit key to a 32-bit value. Keys are mixed before use, so sequential ids spread. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "engine/internal.h"

static uint32_t home(const struct map *m, uint64_t key)
{
    return (uint32_t)cd_mix64(key) & m->mask;
}

static int rehash(struct map *m, uint32_t cap)
{
    struct map_entry *t = cd_calloc(cap, sizeof(*t));
    if (t == NULL) {
        return CD_ENOMEM;
    }
    struct map old = *m;
    m->t = t;
    m->mask = cap - 1;
    m->n = 0;
    for (uint32_t i = 0; old.t && i <= old.mask; i++) {
        if (old.t[i].used) {
            engine__map_put(m, old.t[i].key, old.t[i].val);
        }
    }
    cd_free(old.t);
    return 0;
}

int engine__map_put(struct map *m, uint64_t key, uint32_t val)
{
    if (m->t == NULL || (uint64_t)(m->n + 1) * 4 > (uint64_t)(m->mask + 1) * 3) {
        uint32_t cap = m->t ? (m->mask + 1) * 2 : 16;
        if (cap == 0 || rehash(m, cap) != 0) {
            return CD_ENOMEM;
        }
    }
    uint32_t i = home(m, key);
    while (m->t[i].used) {
        i = (i + 1) & m->mask;
    }
    m->t[i] = (struct map_entry){.key = key, .val = val, .used = 1};
    m->n++;
    return 0;
}

static bool find(const struct map *m,
                 uint64_t key,
                 map_match_fn match,
                 const void *ctx,
                 uint32_t *at)
{
    if (m->t == NULL) {
        return false;
    }
    for (uint32_t i = home(m, key); m->t[i].used; i = (i + 1) & m->mask) {
        if (m->t[i].key == key && (match == NULL || match(ctx, m->t[i].val))) {
            *at = i;
            return true;
        }
    }
    return false;
}

bool engine__map_get(const struct map *m,
                     uint64_t key,
                     map_match_fn match,
                     const void *ctx,
                     uint32_t *val)
{
    uint32_t at;
    if (!find(m, key, match, ctx, &at)) {
        return false;
    }
    *val = m->t[at].val;
    return true;
}

static bool same_val(const void *ctx, uint32_t val)
{
    return *(const uint32_t *)ctx == val;
}

bool engine__map_del(struct map *m, uint64_t key, uint32_t val)
{
    uint32_t at;
    if (!find(m, key, same_val, &val, &at)) {
        return false;
    }
    /* Shift later entries of the probe run back so lookups never stop early. */
    uint32_t hole = at;
    for (uint32_t i = (at + 1) & m->mask; m->t[i].used; i = (i + 1) & m->mask) {
        uint32_t h = home(m, m->t[i].key);
        bool movable = (hole <= i) ? (h <= hole || h > i) : (h <= hole && h > i);
        if (movable) {
            m->t[hole] = m->t[i];
            hole = i;
        }
    }
    m->t[hole].used = 0;
    m->n--;
    return true;
}

void engine__map_close(struct map *m)
{
    cd_free(m->t);
    memset(m, 0, sizeof(*m));
}
