/* Failed sign-ins, counted per user name and per client address on this node, so that
 * guessing passwords is slow whatever the guesser varies (internal.h has the rule).
 *
 * A table is a fixed array scanned from end to end: a sign-in already costs a slow hash,
 * and a scan of API__STRIKES_MAX short entries is small beside it. The tables are this
 * node's own: a guesser who spreads over the nodes gets a node's allowance at each, which
 * the cluster's size bounds. */
#include <stdio.h>
#include <string.h>

#include "adapters/api/internal.h"

/* Whether e's window has passed by now. */
static bool expired(const struct api__strike *e, uint64_t now)
{
    return now - e->since_ms >= API__STRIKE_WINDOW_MS;
}

static struct api__strike *find(struct api__strikes *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->e[i].key, key) == 0) {
            return &t->e[i];
        }
    }
    return NULL;
}

uint64_t api__strikes_wait(struct api__strikes *t,
                           const char *key,
                           uint32_t limit,
                           uint64_t now)
{
    const struct api__strike *e = find(t, key);
    if (e == NULL || expired(e, now) || e->count < limit) {
        return 0;
    }
    return e->since_ms + API__STRIKE_WINDOW_MS - now;
}

/* A place for a new entry: a free one, else one whose window has passed, else the one
 * whose window began first (a full table forgets its oldest rather than refusing
 * everyone it does not know). */
static struct api__strike *room(struct api__strikes *t, uint64_t now)
{
    struct api__strike *oldest = NULL;
    if (t->n < API__STRIKES_MAX) {
        return &t->e[t->n++];
    }
    for (size_t i = 0; i < t->n; i++) {
        if (expired(&t->e[i], now)) {
            return &t->e[i];
        }
        if (oldest == NULL || t->e[i].since_ms < oldest->since_ms) {
            oldest = &t->e[i];
        }
    }
    return oldest;
}

void api__strikes_charge(struct api__strikes *t, const char *key, uint64_t now)
{
    struct api__strike *e = find(t, key);
    if (e != NULL && expired(e, now)) {
        e->count = 0;
    }
    if (e == NULL) {
        e = room(t, now);
        snprintf(e->key, sizeof(e->key), "%s", key);
        e->count = 0;
    }
    if (e->count == 0) {
        e->since_ms = now;
    }
    e->count++;
}

void api__strikes_refund(struct api__strikes *t, const char *key)
{
    struct api__strike *e = find(t, key);
    if (e != NULL && e->count > 0) {
        e->count--;
    }
}

void api__strikes_clear(struct api__strikes *t, const char *key)
{
    struct api__strike *e = find(t, key);
    if (e != NULL) {
        *e = t->e[--t->n];
    }
}
