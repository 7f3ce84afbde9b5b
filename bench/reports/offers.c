/* How histfill learns its offers: the node's event log, long-polled from the leader
 * (GET /v1/events?after=ID&kind=offer&wait_ms=...), each offer handed to its contact
 * (contacts.c); and the id tables that find a contact by its id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench/reports/histfill.h"

#define POLL_WAIT_MS 1000
#define POLL_LIMIT 10000
#define POLL_TIMEOUT_MS 15000
#define RETRY_MS 100

/* ---- The id table ------------------------------------------------------------------- */

static uint32_t home(const struct idmap *m, uint64_t key)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (uint32_t)key & m->mask;
}

int idmap_init(struct idmap *m, uint32_t slots_pow2)
{
    m->keys = calloc(slots_pow2, sizeof(*m->keys));
    m->values = calloc(slots_pow2, sizeof(*m->values));
    m->mask = slots_pow2 - 1;
    m->n = 0;
    return m->keys != NULL && m->values != NULL ? 0 : -1;
}

void idmap_close(struct idmap *m)
{
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

bool idmap_put(struct idmap *m, uint64_t key, uint32_t value)
{
    uint32_t i = home(m, key);
    while (m->keys[i] != 0 && m->keys[i] != key) {
        i = (i + 1) & m->mask;
    }
    if (m->keys[i] == 0) {
        if ((m->n + 1) * 2 > m->mask + 1) {
            return false;
        }
        m->n++;
    }
    m->keys[i] = key;
    m->values[i] = value;
    return true;
}

bool idmap_get(const struct idmap *m, uint64_t key, uint32_t *value)
{
    for (uint32_t i = home(m, key); m->keys[i] != 0; i = (i + 1) & m->mask) {
        if (m->keys[i] == key) {
            *value = m->values[i];
            return true;
        }
    }
    return false;
}

void idmap_del(struct idmap *m, uint64_t key)
{
    uint32_t i = home(m, key);
    while (m->keys[i] != key) {
        if (m->keys[i] == 0) {
            return;
        }
        i = (i + 1) & m->mask;
    }
    /* Backward shift: each later key of the run moves up unless it sits at or after its
     * home in the run's order already. */
    for (uint32_t j = (i + 1) & m->mask; m->keys[j] != 0; j = (j + 1) & m->mask) {
        uint32_t h = home(m, m->keys[j]);
        bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->values[i] = m->values[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->n--;
}

/* ---- Offers seen early -------------------------------------------------------------- */

void offers_keep_early(struct fill *f, uint64_t contact, uint64_t offer, const char *agent)
{
    uint32_t pos;
    if (idmap_get(&f->early, contact, &pos)) {
        if (offer > f->early_offers[pos].offer) {
            f->early_offers[pos].offer = offer;
            snprintf(f->early_offers[pos].agent, FILL_NAME_MAX, "%s", agent);
        }
        return;
    }
    pos = f->early_next;
    f->early_next = (f->early_next + 1) % f->n_early;
    struct early_offer *e = &f->early_offers[pos];
    if (e->contact != 0) {
        idmap_del(&f->early, e->contact); /* the oldest: a contact not ours, or long gone */
    }
    e->contact = contact;
    e->offer = offer;
    snprintf(e->agent, FILL_NAME_MAX, "%s", agent);
    f->offers_unknown++;
    if (!idmap_put(&f->early, contact, pos)) {
        e->contact = 0;
    }
}

bool offers_take_early(struct fill *f, uint64_t contact, uint64_t *offer, char *agent)
{
    uint32_t pos;
    if (!idmap_get(&f->early, contact, &pos)) {
        return false;
    }
    struct early_offer *e = &f->early_offers[pos];
    *offer = e->offer;
    memcpy(agent, e->agent, FILL_NAME_MAX);
    idmap_del(&f->early, contact);
    e->contact = 0;
    f->offers_unknown--;
    return true;
}

/* ---- The long poll ------------------------------------------------------------------ */

static uv_timer_t retry_timer;
static bool retry_timer_open;

static void on_retry(uv_timer_t *t)
{
    offers_poll(t->data);
}

static void retry_later(struct fill *f)
{
    if (!retry_timer_open) {
        uv_timer_init(f->loop, &retry_timer);
        retry_timer.data = f;
        retry_timer_open = true;
    }
    uv_timer_start(&retry_timer, on_retry, RETRY_MS, 0);
}

static void retry_closed(uv_handle_t *h)
{
    (void)h;
}

void offers_close(void)
{
    if (retry_timer_open) {
        uv_close((uv_handle_t *)&retry_timer, retry_closed);
        retry_timer_open = false;
    }
}

static void take_events(struct fill *f, json_t *doc)
{
    json_t *events = json_object_get(doc, "events"), *e;
    size_t i;
    json_array_foreach(events, i, e)
    {
        json_int_t contact = json_integer_value(json_object_get(e, "contact"));
        json_int_t offer = json_integer_value(json_object_get(e, "offer"));
        const char *agent = json_string_value(json_object_get(e, "agent"));
        if (contact > 0 && offer > 0 && agent != NULL) {
            contact_offered(f, (uint64_t)contact, (uint64_t)offer, agent);
        }
    }
    const char *last = json_string_value(json_object_get(doc, "last_id"));
    if (last != NULL) {
        snprintf(f->after, sizeof(f->after), "%s", last);
    }
}

static void poll_done(void *data, const struct http_response *res)
{
    struct fill *f = data;
    f->polling = false;
    if (res->status == 410) {
        /* The log moved past our place: the offers in between are lost; their contacts
         * are abandoned by the sweep once they have waited too long. */
        f->offers_lost++;
        snprintf(f->after, sizeof(f->after), "now");
    } else if (res->status == 200) {
        json_t *doc = json_loadb(res->body, res->body_len, 0, NULL);
        if (doc == NULL) {
            fill_tally_add(&f->errors, "events_unreadable");
        }
        take_events(f, doc);
        json_decref(doc);
    } else {
        char name[40];
        snprintf(name, sizeof(name), "events_%d", res->status);
        fill_tally_add(&f->errors, name);
        if (!f->stopping) {
            retry_later(f);
        }
        return;
    }
    if (!f->stopping) {
        offers_poll(f);
    }
    contacts_start(f); /* the first answer gives the place the contacts may start from */
}

void offers_poll(struct fill *f)
{
    char target[160];
    if (f->polling || f->stopping) {
        return;
    }
    bool first = strcmp(f->after, "now") == 0 && f->started == 0;
    snprintf(target, sizeof(target), "/v1/events?after=%s&kind=offer&limit=%d&wait_ms=%d",
             f->after, POLL_LIMIT, first ? 0 : POLL_WAIT_MS);
    if (http_client_request_headers(f->poll, "GET", target, NULL, f->auth, NULL, 0,
                                    POLL_TIMEOUT_MS, poll_done, f) != 0) {
        fill_tally_add(&f->errors, "events_request");
        retry_later(f);
        return;
    }
    f->polling = true;
}
