/* Private to adapters/chat. */
#ifndef CD_CHAT_INTERNAL_H
#define CD_CHAT_INTERNAL_H

#include <jansson.h>

#include "adapters/chat/chat.h"
#include "engine/engine.h"

/* "chat-" and the base64url (no padding) of a SHA-256: a session key and idempotency key. */
#define CHAT__KEY_LEN (5 + 43)
#define CHAT__SECRET_LEN 43 /* base64url of 32 random bytes, no padding */
#define CHAT__ACTOR "chat:customer"

enum chat__phase {
    CHAT__FRESH = 0, /* connected; no hello or resume yet */
    CHAT__STARTING,  /* a hello or resume is being carried out */
    CHAT__LIVE,      /* the chat is this connection's */
    CHAT__DONE,      /* ended, moved away, or closing */
};

/* One page's connection. Freed once its WebSocket is closed and no command of it is in
 * flight (refs). */
struct chat__page
{
    struct chat *chat;
    struct ws_conn *ws;      /* NULL once closed */
    struct chat__page *next; /* in its bucket of chat->pages, while LIVE */
    unsigned refs;
    enum chat__phase phase;
    uint64_t contact;
    uint32_t seq; /* the last message seq sent to the page */
    char key[CHAT__KEY_LEN + 1];
    uint8_t state;     /* the contact's state as last told, ENGINE_CONTACT_STATE_COUNT: none */
    uint32_t position; /* as last told */
    int64_t ewt_s;     /* as last told */
    bool ended;        /* the customer said bye, or the chat is over */
};

struct chat
{
    uv_loop_t *loop;
    struct cluster *cluster;
    char member[ENGINE_NAME_MAX];
    bool tls;
    unsigned n_public_urls;
    char public_urls[CHAT_PUBLIC_URLS_MAX][256];
    int (*publish)(void *data, uint64_t contact, const char *json, size_t len);
    void *publish_data;
    unsigned wait_update_ms;
    struct ws_server *ws;
    uv_timer_t timer; /* places in line */
    bool closing;
    unsigned inflight; /* commands submitted, not yet answered */
    void (*done)(void *data);
    void *done_data;
    bool timer_closed, ws_closed;
    /* Chats homed here without a page, seen at the last sweep (sorted ids). */
    uint64_t *orphans;
    size_t n_orphans;
    /* LIVE pages by contact id: a chained hash table. */
    struct chat__page **buckets;
    size_t n_buckets, n_pages;
    struct chat_stats stats;
};

/* chat.c */
struct chat__page *chat__find(struct chat *c, uint64_t contact);
/* Makes p the page of p->contact here; a page that had it is closed with 4409. */
int chat__bind(struct chat *c, struct chat__page *p);
void chat__unbind(struct chat *c, struct chat__page *p);
void chat__page_put(struct chat__page *p);
void chat__maybe_done(struct chat *c);
int chat__send_json(struct chat__page *p, json_t *j); /* takes j */
void chat__send_error(struct chat__page *p,
                      const char *code,
                      const char *message,
                      const char *id,
                      const char *field);
/* The contact's state to the page when it changed (and its place in line). */
void chat__send_state(struct chat__page *p, const struct engine_contact_info *info, bool force);
/* Messages of the contact's transcript after p->seq. */
void chat__send_transcript(struct chat__page *p);
void chat__end_page(struct chat__page *p, const char *reason);

/* page.c */
extern const struct ws_handler chat__handler;
/* Ends the session of a chat homed here that no page of this node holds (fenced by home and
 * session, as a page's own). */
void chat__end_orphan(struct chat *c, uint64_t contact, const char *session);

/* form.c: the hello's form against the entry's fields: attributes (pointing into form's
 * strings) or a refusal naming the field. Returns 0 or CD_EINVAL with field and message. */
int chat__form(const struct engine_chat_entry *entry,
               json_t *form,
               struct engine_attr *attrs,
               uint8_t *n_attrs,
               const char **field,
               char *message,
               size_t len);

#endif
