/* adapters/http: connections per client address (see peers.h). */
#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/peers.h"
#include "common/error.h"

struct http__peer_slot
{
    struct http__peer_addr addr;
    uint32_t count; /* 0: the slot is empty */
};

#define PEERS_MIN_CAP 64

int http__peer_addr_from(const struct sockaddr *sa, struct http__peer_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET6) {
        memcpy(out->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        out->bytes[10] = out->bytes[11] = 0xff;
        memcpy(out->bytes + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    return CD_EINVAL;
}

void http__peer_addr_text(const struct http__peer_addr *addr, char *buf, size_t cap)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool v4 = memcmp(addr->bytes, mapped, sizeof(mapped)) == 0;

    if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? addr->bytes + 12 : addr->bytes, buf,
                  (socklen_t)cap) == NULL &&
        cap > 0) {
        buf[0] = '\0';
    }
}

/* FNV-1a: addresses are chosen by clients, but a client chooses only its own, and probing
 * cost is bounded by how many distinct addresses are connected. */
static size_t hash_of(const struct http__peer_addr *addr)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < sizeof(addr->bytes); i++) {
        h = (h ^ addr->bytes[i]) * 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 32));
}

/* The slot holding addr, or the empty slot where it would go. cap must be non-zero. */
static size_t slot_of(const struct http__peer_slot *slots,
                      size_t cap,
                      const struct http__peer_addr *addr)
{
    size_t i = hash_of(addr) & (cap - 1);

    while (slots[i].count != 0 && memcmp(&slots[i].addr, addr, sizeof(*addr)) != 0) {
        i = (i + 1) & (cap - 1);
    }
    return i;
}

unsigned http__peers_count(const struct http__peers *t, const struct http__peer_addr *addr)
{
    if (t->cap == 0) {
        return 0;
    }
    return t->slots[slot_of(t->slots, t->cap, addr)].count;
}

static int grow(struct http__peers *t)
{
    size_t cap = t->cap ? t->cap * 2 : PEERS_MIN_CAP;
    struct http__peer_slot *slots = calloc(cap, sizeof(*slots));

    if (slots == NULL) {
        return CD_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].count != 0) {
            slots[slot_of(slots, cap, &t->slots[i].addr)] = t->slots[i];
        }
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

int http__peers_add(struct http__peers *t, const struct http__peer_addr *addr)
{
    if (t->cap == 0 || (t->used + 1) * 2 > t->cap) {
        /* Grow only for an address not yet there: a full table may still count more
         * connections of the addresses it holds. */
        if (http__peers_count(t, addr) == 0 && grow(t) != 0) {
            return CD_ENOMEM;
        }
    }
    struct http__peer_slot *slot = &t->slots[slot_of(t->slots, t->cap, addr)];
    if (slot->count == 0) {
        slot->addr = *addr;
        t->used++;
    }
    slot->count++;
    return 0;
}

/* Empties slot i and moves later members of its probe run back into the gap, so that every
 * address stays reachable from its home slot without tombstones. */
static void slot_clear(struct http__peers *t, size_t i)
{
    size_t mask = t->cap - 1;
    size_t j = i;

    t->slots[i].count = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (t->slots[j].count == 0) {
            return;
        }
        size_t home = hash_of(&t->slots[j].addr) & mask;
        /* j may move to the gap i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            t->slots[j].count = 0;
            i = j;
        }
    }
}

void http__peers_remove(struct http__peers *t, const struct http__peer_addr *addr)
{
    assert(t->cap > 0);
    size_t i = slot_of(t->slots, t->cap, addr);
    assert(t->slots[i].count > 0);
    if (--t->slots[i].count == 0) {
        t->used--;
        slot_clear(t, i);
    }
}

void http__peers_free(struct http__peers *t)
{
    free(t->slots);
    memset(t, 0, sizeof(*t));
}
