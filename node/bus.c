/* The effect bus: each applied entry's effects, once its storage batch has committed, to
 * every adapter that subscribed to them (node.h, struct node_subscription), in order, each
 * once.
 *
 * Where effects come from. The cluster keeps each entry's effects in the node's storage in
 * the entry's own batch (the outbox) and hands them over after the commit
 * (node__bus_committed). A subscriber that is up to date takes them from there; one that is
 * behind (it answered NODE_LATER and has not acknowledged yet, or the node restarted) reads
 * them back from the outbox, from its cursor on.
 *
 * Cursors. A subscriber's cursor is the last effect it acted on (deliver() answered 0, or it
 * acknowledged) or passed over (not addressed to it). A durable subscriber's cursor is
 * written to storage each time it acts, before the next effect is delivered: after a
 * restart it is given exactly what follows. Only an effect acted on in the instant before
 * the process died, whose cursor was not yet written, is given again; its id (index, n)
 * is the same, so the adapter can tell.
 *
 * Retention. The outbox keeps at least the latest BUS_KEEP_RECENT entries (the backlog a
 * non-durable subscriber may take at start) and everything a durable subscriber has not
 * passed, up to BUS_KEEP_MAX entries: a durable subscriber further behind than that is told
 * with restored() that it lost the oldest ones, so one stuck adapter cannot fill the disk.
 *
 * A snapshot that this node installs to catch up (it never applied the entries up to it)
 * leaves nothing in the outbox for them: every subscriber behind it is told with
 * restored(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "node/internal.h"
#include "storage/storage.h"

#define BUS_KEEP_RECENT 8192
#define BUS_KEEP_MAX (1u << 20)

static bool wants(const struct node *n,
                  const struct node_subscription *s,
                  const struct engine_effect *fx)
{
    if (s->kinds != 0 && (fx->kind >= 32 || (s->kinds & (1u << fx->kind)) == 0)) {
        return false;
    }
    return !s->home_only || strcmp(fx->home, n->config.id) == 0 ||
           strcmp(fx->old_home, n->config.id) == 0;
}

static bool after(uint64_t index, uint32_t i, const struct node__sub *s)
{
    return index > s->index || (index == s->index && i > s->n);
}

static void save(struct node *n, struct node__adapter *a)
{
    char err[256];
    if (!a->ops->subscription->durable) {
        return;
    }
    if (storage_put_cursor(cluster_storage(n->cluster), a->ops->name, a->sub.index, a->sub.n,
                           err, sizeof(err)) != 0) {
        /* Not fatal: the adapter is given the effect again after a restart. */
        cd_logf(CD_LOG_WARN, "bus", "cursor of %s not kept: %s", a->ops->name, err);
    }
}

/* Offers one effect; false when the subscriber now waits for its own acknowledgement. */
static bool offer(struct node *n,
                  struct node__adapter *a,
                  uint64_t index,
                  uint32_t i,
                  const struct engine_effect *fx)
{
    struct node__sub *s = &a->sub;
    if (!after(index, i, s)) {
        return true; /* acted on before */
    }
    if (!wants(n, a->ops->subscription, fx)) {
        s->index = index; /* passed over: nothing to keep */
        s->n = i;
        return true;
    }
    struct node_delivery d = {
        .index = index, .n = i, .fx = fx, .leader = cluster_is_leader(n->cluster)};
    n->bus.delivered++;
    n->bus.pumping = true;
    int rv = a->ops->deliver(a->self, &d);
    n->bus.pumping = false;
    if (rv == NODE_LATER) {
        s->waiting = true;
        s->wait_index = index;
        s->wait_n = i;
        return false;
    }
    s->index = index;
    s->n = i;
    save(n, a);
    return true;
}

/* Every effect of the entry at index is behind the subscriber now. */
static void passed_entry(struct node__sub *s, uint64_t index)
{
    if (index > s->index) {
        s->index = index;
        s->n = UINT32_MAX;
    }
}

struct entry_offer
{
    struct node *n;
    struct node__adapter *a;
    uint64_t index;
};

static int offer_one(void *data, uint32_t i, const struct engine_effect *fx)
{
    struct entry_offer *o = data;
    return offer(o->n, o->a, o->index, i, fx) ? 0 : 1;
}

/* The effects of one entry, as the cluster encoded them. False when the subscriber waits
 * (or the bytes are not what the cluster writes: then it is told, and passes them). */
static bool offer_entry(struct node *n,
                        struct node__adapter *a,
                        uint64_t index,
                        const void *bytes,
                        size_t len)
{
    struct entry_offer o = {n, a, index};
    int rv = cluster_effects_each(bytes, len, offer_one, &o);
    if (rv == 1) {
        return false;
    }
    if (rv != 0) {
        cd_logf(CD_LOG_ERROR, "bus", "effects of entry %llu unreadable; %s skips them",
                (unsigned long long)index, a->ops->name);
    }
    passed_entry(&a->sub, index);
    return true;
}

/* One entry's effects decoded once for every subscriber that is up to date (strings point
 * into the entry's bytes, valid during node__bus_committed()). */
static int collect_one(void *data, uint32_t n, const struct engine_effect *fx)
{
    struct node__bus *b = data;
    (void)n;
    if (b->n_fx == b->cap_fx) {
        uint32_t cap = b->cap_fx ? 2 * b->cap_fx : 256;
        struct engine_effect *f = realloc(b->fx, cap * sizeof(*f));
        struct engine_history *h = f != NULL ? realloc(b->hist, cap * sizeof(*h)) : NULL;
        if (f != NULL) {
            b->fx = f;
        }
        if (h == NULL) {
            return CD_ENOMEM;
        }
        b->hist = h;
        b->cap_fx = cap;
    }
    b->fx[b->n_fx] = *fx;
    if (fx->history != NULL) {
        b->hist[b->n_fx] = *fx->history;
        b->fx[b->n_fx].history = &b->hist[b->n_fx];
    }
    b->n_fx++;
    return 0;
}

/* offer_entry() for effects decoded already. */
static bool offer_decoded(struct node *n, struct node__adapter *a, uint64_t index)
{
    for (uint32_t i = 0; i < n->bus.n_fx; i++) {
        if (!offer(n, a, index, i, &n->bus.fx[i])) {
            return false;
        }
    }
    passed_entry(&a->sub, index);
    return true;
}

struct replay
{
    struct node *n;
    struct node__adapter *a;
};

static int replay_entry(void *data, uint64_t index, const void *bytes, size_t len)
{
    struct replay *r = data;
    uint64_t before = r->n->bus.delivered;
    bool done = offer_entry(r->n, r->a, index, bytes, len);
    r->n->bus.replayed += r->n->bus.delivered - before;
    return done ? 0 : 1;
}

/* Gives a subscriber that is behind what it has not been given, from the outbox. */
static void catch_up(struct node *n, struct node__adapter *a)
{
    struct replay r = {n, a};
    uint64_t from = a->sub.n == UINT32_MAX ? a->sub.index + 1 : a->sub.index;
    int rv = storage_foreach_effects(cluster_storage(n->cluster), from, replay_entry, &r);
    if (rv != 0 && rv != 1) {
        cd_logf(CD_LOG_ERROR, "bus", "outbox unreadable for %s: %s", a->ops->name,
                cd_strerror(rv));
    }
    a->sub.current = rv == 0 && !a->sub.waiting;
    if (a->sub.current) {
        passed_entry(&a->sub, n->bus.head); /* nothing kept after it: it has seen everything */
    }
}

static bool subscribed(const struct node__adapter *a)
{
    return a->started && a->ops->subscription != NULL && a->ops->deliver != NULL;
}

/* A subscriber will not be given the effects up to index. */
static void skip_to(struct node *n, struct node__adapter *a, uint64_t index)
{
    if (a->sub.index > index || (a->sub.index == index && a->sub.n == UINT32_MAX)) {
        return;
    }
    a->sub.index = index;
    a->sub.n = UINT32_MAX;
    a->sub.waiting = false; /* a late acknowledgement of an effect before it is ignored */
    if (a->ops->restored != NULL) {
        a->ops->restored(a->self, index);
    }
    save(n, a);
}

static void set_floor(struct node *n)
{
    uint64_t head = n->bus.head;
    uint64_t floor = head > BUS_KEEP_RECENT ? head - BUS_KEEP_RECENT : 0;
    uint64_t hard = head > BUS_KEEP_MAX ? head - BUS_KEEP_MAX : 0;
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        uint64_t held = a->started && a->ops->holds != NULL ? a->ops->holds(a->self) : 0;
        if (held > 0 && held < floor) {
            floor = held > hard ? held : hard;
        }
        if (!subscribed(a) || !a->ops->subscription->durable) {
            continue;
        }
        if (a->sub.index < hard) {
            cd_logf(CD_LOG_WARN, "bus",
                    "%s is more than %u entries behind: it loses the "
                    "effects up to entry %llu",
                    a->ops->name, BUS_KEEP_MAX, (unsigned long long)hard - 1);
            skip_to(n, a, hard - 1);
        }
        if (a->sub.index < floor) {
            floor = a->sub.index;
        }
    }
    if (floor != n->bus.floor) {
        n->bus.floor = floor;
        cluster_effects_floor(n->cluster, floor);
    }
}

/* The node's own use of effects: its log. */
static void log_one(uint64_t index, const struct engine_effect *fx)
{
    if (fx->kind == ENGINE_FX_MODEL) {
        char version[24], at[24];
        snprintf(version, sizeof(version), "%lld", (long long)fx->at);
        snprintf(at, sizeof(at), "%llu", (unsigned long long)index);
        cd_log(CD_LOG_INFO, "model", "version", version, "index", at, "actor",
               fx->text[0] ? fx->text : "-", NULL);
    } else if (fx->kind == ENGINE_FX_SESSION_LOST) {
        char contact[24];
        snprintf(contact, sizeof(contact), "%llu", (unsigned long long)fx->contact);
        cd_log(CD_LOG_INFO, "session_lost", "contact", contact, "node", fx->old_home, "outcome",
               fx->text, NULL);
    }
}

void node__bus_committed(void *data, uint64_t index, const void *bytes, size_t len)
{
    struct node *n = data;
    n->bus.n_fx = 0;
    bool decoded = cluster_effects_each(bytes, len, collect_one, &n->bus) == 0;
    for (uint32_t i = 0; decoded && i < n->bus.n_fx; i++) {
        log_one(index, &n->bus.fx[i]);
    }
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        if (!subscribed(a)) {
            continue;
        }
        if (a->sub.waiting) {
            a->sub.current = false; /* node_ack() reads this entry back */
            continue;
        }
        if (a->sub.current) {
            a->sub.current =
                decoded ? offer_decoded(n, a, index) : offer_entry(n, a, index, bytes, len);
        } else {
            n->bus.head = index; /* the outbox has it: catch_up() reads it back */
            catch_up(n, a);
        }
    }
    n->bus.head = index;
    set_floor(n);
}

void node__bus_restored(void *data, uint64_t index)
{
    struct node *n = data;
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        if (subscribed(a)) {
            skip_to(n, a, index);
            a->sub.current = !a->sub.waiting;
        }
    }
    if (index > n->bus.head) {
        n->bus.head = index;
    }
}

int node_ack(struct node *n, void *self)
{
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        if (a->self != self || !subscribed(a)) {
            continue;
        }
        if (!a->sub.waiting || n->bus.pumping) {
            return CD_ESTATE;
        }
        a->sub.waiting = false;
        a->sub.index = a->sub.wait_index;
        a->sub.n = a->sub.wait_n;
        save(n, a);
        catch_up(n, a);
        set_floor(n);
        return 0;
    }
    return CD_ESTATE;
}

static int position(struct node *n, struct node__adapter *a, uint64_t applied)
{
    const struct node_subscription *s = a->ops->subscription;
    struct storage *st = cluster_storage(n->cluster);
    a->sub = (struct node__sub){.index = applied, .n = UINT32_MAX};
    if (!s->durable) {
        uint64_t start = applied > s->backlog ? applied - s->backlog : 0;
        uint64_t first = storage_effects_first(st);
        if (first > 0 && start < first - 1) {
            start = first - 1;
        }
        a->sub.index = start;
        if (start > 0 && a->ops->restored != NULL) { /* before entry 1, nothing is missed */
            a->ops->restored(a->self, start);
        }
        return 0;
    }
    uint64_t index;
    uint32_t i;
    int rv = storage_get_cursor(st, a->ops->name, &index, &i);
    if (rv == CD_ENOTFOUND) {
        save(n, a); /* a new subscriber starts after what is applied now */
        return 0;
    }
    if (rv == 0 && index <= applied) {
        a->sub.index = index;
        a->sub.n = i;
    }
    return rv;
}

int node__bus_start(struct node *n, char *err, size_t errlen)
{
    uint64_t applied = storage_applied(cluster_storage(n->cluster));
    n->bus.head = applied;
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        if (!subscribed(a)) {
            continue;
        }
        int rv = position(n, a, applied);
        if (rv != 0) {
            snprintf(err, errlen, "%s: its cursor in storage is unreadable: %s", a->ops->name,
                     cd_strerror(rv));
            return rv;
        }
        catch_up(n, a);
    }
    set_floor(n);
    return 0;
}

void node__bus_free(struct node *n)
{
    free(n->bus.fx);
    free(n->bus.hist);
    n->bus.fx = NULL;
    n->bus.hist = NULL;
    n->bus.cap_fx = n->bus.n_fx = 0;
}

void node_bus_stats(const struct node *n, struct node_bus_stats *out)
{
    *out = (struct node_bus_stats){.head = n->bus.head,
                                   .floor = n->bus.floor,
                                   .delivered = n->bus.delivered,
                                   .replayed = n->bus.replayed};
}
