/* Private to the client half of adapters/http: the pool and its queue (client.c) and one
 * connection with its response parser (client_conn.c). */
#ifndef CD_HTTP_CLIENT_INTERNAL_H
#define CD_HTTP_CLIENT_INTERNAL_H

#include <llhttp.h>
#include <sys/socket.h>

#include "adapters/http/http.h"
#include "net/net.h"

/* Largest response body accepted; more is CD_ETOOBIG. */
#define HTTP__RESPONSE_MAX (16 * 1024 * 1024)
/* Largest status line and header block accepted; more is CD_ETOOBIG as well. */
#define HTTP__RESPONSE_HEAD_MAX (256 * 1024)

/* One request from http_client_request() until its callback has fired. */
struct http__creq
{
    struct http__creq *next; /* in the wait queue or a list of callbacks due */
    char *wire;              /* the request as sent; owned until handed to uv_write() */
    size_t wire_len;
    uint64_t deadline; /* loop time in ms */
    bool head;         /* HEAD: the answer has no body whatever it says */
    int error;         /* the outcome of a request failed outside any connection */
    http_client_cb cb;
    void *data;
};

struct http__cconn
{
    struct net_stream stream;
    uv_timer_t timer; /* the deadline of the request in flight */
    uv_connect_t connect;
    struct http_client *client;
    struct http__cconn *prev;
    struct http__cconn *next;
    struct http__creq *req; /* in flight; NULL while idle */
    llhttp_t parser;
    char *body;
    size_t body_len;
    size_t body_cap;
    size_t head_bytes;
    char field[16]; /* enough to tell Content-Type from the rest */
    size_t field_len;
    bool field_is_type;
    char content_type[128];
    size_t content_type_len;
    int error; /* why parsing stopped, when a callback stopped it */
    bool done; /* a whole response was parsed */
    bool keep_alive;
    bool connected;
    bool closing;
    unsigned open_handles;
};

struct http_client
{
    uv_loop_t *loop;
    struct sockaddr_storage addr;
    char authority[64]; /* the Host header */
    unsigned max_conns;
    unsigned n_conns; /* open ones; closing connections are unlinked */
    struct http__cconn *conns;
    struct http__creq *wait_head;
    struct http__creq *wait_tail;
    struct http__creq *due_head; /* failed before reaching a connection */
    struct http__creq *due_tail;
    uv_timer_t sweep; /* fires due callbacks and expires waiting requests */
    unsigned open_handles;
    bool closing;
    struct net_tls *tls; /* NULL: plain TCP; borrowed */
    char peer_name[256]; /* the name the server's certificate must carry; "": the CA only */
};

/* client.c */
/* Fires req's callback with res and frees req. */
void http__client_finish(struct http__creq *req, const struct http_response *res);
/* Fires req's callback with the error code and frees req. */
void http__client_fail(struct http__creq *req, int error);
/* Hands waiting requests to idle or new connections. */
void http__client_pump(struct http_client *c);
/* A handle of the client or one of its connections finished closing. */
void http__client_handle_closed(struct http_client *c);

/* client_conn.c */
/* Opens a connection for req. Returns 0, or CD_EIO / CD_ENOMEM with req untouched. */
int http__cconn_open(struct http_client *c, struct http__creq *req);
/* Sends req on an idle connection. Returns 0, or CD_EIO with req untouched (and unsent)
 * and the connection closed. */
int http__cconn_send(struct http__cconn *conn, struct http__creq *req);
/* Closes the connection; its request, if any, must have been taken first. */
void http__cconn_close(struct http__cconn *conn);

#endif
