/* chat: the customer's side of web chat (docs/chat.md). Each customer's page holds one
 * WebSocket on this node (/chat/ws); the chat itself is replicated state: the contact (its
 * home is this node while the page is connected here, its session key is derived from the
 * page's secret), its transcript (CHAT_MESSAGE), and its reconnect deadline. This module
 * turns the page's requests into commands and the effects addressed to this node into
 * messages to the page, and relays the signals (typing, seen) between the page and the
 * agent's desk.
 *
 * It knows nothing of node/: node/adapters.c mounts its handlers, feeds it the effects
 * addressed here and the signals, and hands it the publishing function. Everything runs on
 * the loop's thread. */
#ifndef CD_CHAT_H
#define CD_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "adapters/http/http.h"
#include "adapters/ws/ws.h"
#include "cluster/cluster.h"

#define CHAT_PUBLIC_URLS_MAX 8

struct chat;

struct chat_options
{
    uv_loop_t *loop;
    struct cluster *cluster;
    const char *member;         /* this node's id: the home of the chats it holds (copied) */
    const struct ws_limits *ws; /* NULL: the defaults of docs/chat.md */
    bool tls;                   /* members' API addresses are https (else http) */
    /* Where a page may reconnect: these (a load balancer's address), or, none given, every
     * member's API address. Copied. */
    unsigned n_public_urls;
    const char *const *public_urls;
    /* Hands a signal about contact to every page that shows it, on every member. */
    int (*publish)(void *data, uint64_t contact, const char *json, size_t len);
    void *publish_data;
    unsigned wait_update_ms; /* how often a waiting page hears its place in line; 0 = 5000 */
};

/* The limits of docs/chat.md: a caller changes what it must and passes them as ws. */
struct ws_limits chat_limits(void);

/* Returns 0 or CD_ENOMEM. */
int chat_new(const struct chat_options *opt, struct chat **out);

/* HTTP handlers to mount (data: the struct chat): GET /chat/ws (the WebSocket) and GET
 * /chat/config (the entries' forms, the endpoints, the limits). */
void chat_serve_ws(void *data, struct http_exchange *x, const struct http_request *req);
void chat_serve_config(void *data, struct http_exchange *x, const struct http_request *req);

/* An effect whose contact's home is this node (or, SESSION_MOVED, whose old home was). */
void chat_effect(struct chat *c, const struct engine_effect *fx);

/* A signal about contact from any member (node_signal_listen()). */
void chat_signal(void *data, uint64_t contact, const char *json, size_t len);

/* Closes every page's connection (1001: they reconnect elsewhere) and stops taking new ones;
 * done fires once no command of this module is in flight any more. */
void chat_close(struct chat *c, void (*done)(void *data), void *data);
/* After chat_close()'s done: a chat made by chat_new() holds a timer and a WebSocket server
 * on the loop until then. */
void chat_free(struct chat *c);

struct chat_stats
{
    uint64_t chats_started; /* hellos that made (or found) a contact */
    uint64_t resumed;       /* chats this node took over from another connection */
    uint64_t messages_in;   /* customer messages committed */
    uint64_t messages_out;  /* messages pushed to pages */
    uint64_t refused;       /* requests answered with an error */
    uint64_t open;          /* pages connected now */
    struct ws_server_stats ws;
};
void chat_stats(const struct chat *c, struct chat_stats *out);

#endif
