/* Open-addressing hash set of names: models may hold tens of thousands of agents, so
 * duplicate and reference checks must not be quadratic. */
#include "config/names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/error.h"
#include "common/hash.h"

void names_init(struct names *s)
{
    memset(s, 0, sizeof(*s));
}

void names_close(struct names *s)
{
    free(s->keys);
    free(s->vals);
    names_init(s);
}

/* Drawn when the set first allocates. Should the kernel have no randomness to give, the
 * set's own address (randomised by the loader) still keeps seeds apart. */
static uint64_t new_seed(const struct names *s)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        seed = cd_mix64((uint64_t)(uintptr_t)s);
    }
    return seed;
}

static size_t slot_of(const struct names *s, const char *key)
{
    size_t mask = s->cap - 1;
    size_t i = (size_t)cd_hash64(key, strlen(key), s->seed) & mask;
    while (s->keys[i] != NULL && strcmp(s->keys[i], key) != 0) {
        i = (i + 1) & mask;
    }
    return i;
}

static int grow(struct names *s)
{
    struct names bigger = {.cap = s->cap ? s->cap * 2 : 16,
                           .seed = s->cap ? s->seed : new_seed(s)};
    bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
    bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
    if (bigger.keys == NULL || bigger.vals == NULL) {
        names_close(&bigger);
        return CD_ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->keys[i] != NULL) {
            size_t j = slot_of(&bigger, s->keys[i]);
            bigger.keys[j] = s->keys[i];
            bigger.vals[j] = s->vals[i];
        }
    }
    bigger.n = s->n;
    names_close(s);
    *s = bigger;
    return 0;
}

int names_add(struct names *s, const char *key, int32_t val, int32_t *prev)
{
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0) {
        return CD_ENOMEM;
    }
    size_t i = slot_of(s, key);
    if (s->keys[i] != NULL) {
        if (prev != NULL) {
            *prev = s->vals[i];
        }
        return CD_EEXISTS;
    }
    s->keys[i] = key;
    s->vals[i] = val;
    s->n++;
    return 0;
}

int names_put(struct names *s, const char *key, int32_t val)
{
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0) {
        return CD_ENOMEM;
    }
    size_t i = slot_of(s, key);
    if (s->keys[i] == NULL) {
        s->keys[i] = key;
        s->n++;
    }
    s->vals[i] = val;
    return 0;
}

int32_t names_find(const struct names *s, const char *key)
{
    if (s->cap == 0) {
        return -1;
    }
    size_t i = slot_of(s, key);
    return s->keys[i] != NULL ? s->vals[i] : -1;
}
