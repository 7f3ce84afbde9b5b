/* adapters/ws: the server: limits, who is admitted, the count per address, figures, and
 * closing everything. */
#include <stdlib.h>
#include <string.h>

#include "adapters/ws/internal.h"
#include "common/error.h"

static void fill_defaults(struct ws_limits *l)
{
    if (l->max_frame == 0) {
        l->max_frame = 64 * 1024;
    }
    if (l->max_message == 0) {
        l->max_message = 64 * 1024;
    }
    if (l->msgs_per_s == 0) {
        l->msgs_per_s = 20;
    }
    if (l->burst == 0) {
        l->burst = 2 * l->msgs_per_s;
    }
    if (l->ping_ms == 0) {
        l->ping_ms = 20000;
    }
    if (l->pong_timeout_ms == 0) {
        l->pong_timeout_ms = 20000;
    }
    if (l->output_limit == 0) {
        l->output_limit = 1024 * 1024;
    }
    if (l->max_per_address == 0) {
        l->max_per_address = 32;
    }
    if (l->max_connections == 0) {
        l->max_connections = 20000;
    }
    if (l->close_timeout_ms == 0) {
        l->close_timeout_ms = 5000;
    }
}

int ws_server_new(uv_loop_t *loop, const struct ws_limits *lim, struct ws_server **out)
{
    struct ws_server *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return CD_ENOMEM;
    }
    s->loop = loop;
    if (lim != NULL) {
        s->lim = *lim;
    }
    fill_defaults(&s->lim);
    uv_timer_init(loop, &s->wake);
    s->wake.data = s;
    *out = s;
    return 0;
}

/* ---- Addresses -------------------------------------------------------------------- */

static unsigned addr_hash(const char *text)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h % WS__ADDR_BUCKETS;
}

/* The entry for text; created (count 0) when create is set. NULL: absent, or no memory. */
static struct ws__addr *addr_find(struct ws_server *s, const char *text, bool create)
{
    struct ws__addr **head = &s->addrs[addr_hash(text)];
    for (struct ws__addr *a = *head; a != NULL; a = a->next) {
        if (strcmp(a->text, text) == 0) {
            return a;
        }
    }
    if (!create) {
        return NULL;
    }
    struct ws__addr *a = calloc(1, sizeof(*a));
    if (a != NULL) {
        strcpy(a->text, text); /* both HTTP_ADDRESS_MAX */
        a->next = *head;
        *head = a;
    }
    return a;
}

static void addr_remove(struct ws_server *s, const char *text)
{
    struct ws__addr **link = &s->addrs[addr_hash(text)];
    while (*link != NULL) {
        struct ws__addr *a = *link;
        if (strcmp(a->text, text) == 0) {
            if (--a->count == 0) {
                *link = a->next;
                free(a);
            }
            return;
        }
        link = &a->next;
    }
}

/* ---- Admission -------------------------------------------------------------------- */

static void link_conn(struct ws_server *s, struct ws_conn *c)
{
    c->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = c;
    }
    s->conns = c;
    s->n_conns++;
}

const char *ws__server_admit(struct ws_server *s, struct ws_conn *c)
{
    link_conn(s, c);
    if (s->n_open >= s->lim.max_connections) {
        return "too many connections";
    }
    if (s->lim.max_per_address != WS_NO_LIMIT && c->address[0] != '\0') {
        struct ws__addr *a = addr_find(s, c->address, false);
        if (a != NULL && a->count >= s->lim.max_per_address) {
            return "too many connections from this address";
        }
        a = a != NULL ? a : addr_find(s, c->address, true);
        if (a == NULL) {
            return "too many connections (out of memory)";
        }
        a->count++;
        c->counted = true;
    }
    s->n_open++;
    s->stats.open++;
    return "";
}

void ws__server_release(struct ws_server *s, struct ws_conn *c)
{
    if (c->refused) {
        return;
    }
    if (c->counted) {
        addr_remove(s, c->address);
        c->counted = false;
    }
    s->n_open--;
    s->stats.open--;
}

static void server_maybe_done(struct ws_server *s)
{
    if (!s->closing || !s->wake_closed || s->n_conns > 0) {
        return;
    }
    void (*done)(void *) = s->done;
    void *data = s->done_data;
    for (unsigned i = 0; i < WS__ADDR_BUCKETS; i++) {
        while (s->addrs[i] != NULL) {
            struct ws__addr *a = s->addrs[i];
            s->addrs[i] = a->next;
            free(a);
        }
    }
    free(s);
    if (done != NULL) {
        done(data);
    }
}

void ws__server_forget(struct ws_server *s, struct ws_conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
    s->n_conns--;
    server_maybe_done(s);
}

/* ---- Closing ---------------------------------------------------------------------- */

static void wake_closed(uv_handle_t *h)
{
    struct ws_server *s = h->data;
    s->wake_closed = true;
    server_maybe_done(s);
}

void ws_server_close(struct ws_server *s, void (*done)(void *data), void *data)
{
    s->closing = true;
    s->done = done;
    s->done_data = data;
    for (struct ws_conn *c = s->conns; c != NULL; c = c->next) {
        ws__conn_fail(c, 1001, "going away");
    }
    uv_close((uv_handle_t *)&s->wake, wake_closed);
}

void ws_server_stats(const struct ws_server *s, struct ws_server_stats *out)
{
    *out = s->stats;
}
