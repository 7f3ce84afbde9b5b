/* Private to the server half of adapters/http: the shapes that server.c (the listener and
 * who is admitted), conn.c (the life of one connection), parse.c (llhttp into struct
 * http_request) and reply.c (writing answers) share. */
#ifndef CD_HTTP_SERVER_INTERNAL_H
#define CD_HTTP_SERVER_INTERNAL_H

#include <llhttp.h>

#include "adapters/http/http.h"
#include "adapters/http/peers.h"
#include "net/net.h"

/* Received bytes held back while a request awaits its answer: at least this many. */
#define HTTP__READ_CHUNK (64 * 1024)

/* A growable byte string with a hard ceiling. */
struct http__text
{
    char *data; /* owned; NULL while empty */
    size_t len;
    size_t cap;
};

/* A request waiting for its answer. It owns the storage behind req's pointers, so it
 * outlives its connection when the client goes away first. */
struct http_exchange
{
    struct http_conn *conn; /* NULL once detached: the answer is discarded */
    struct http_request req;
    char *head; /* target, header names and values, decoded path */
    char *body;
    char *every; /* http_exchange_set_headers(): lines every answer carries; NULL: none */
    bool keep_alive;
    bool head_only;  /* HEAD: the answer carries headers only */
    bool peer_known; /* peer holds the client's address */
    bool uncounted;  /* http_exchange_uncounted() */
    struct http__peer_addr peer;
    uint64_t started_ns; /* uv_hrtime() when the handler got it */
};

/* What one call of http__parse_execute() ended with. */
enum http__parse_result {
    HTTP__NEED_MORE, /* every byte consumed; the request is not complete yet */
    HTTP__READY,     /* a request is complete: take it from parse->ready */
    HTTP__REJECT,    /* malformed or over a limit: answer parse->reject_* and close */
};

/* Parsing state of one connection; a request is assembled here, then moved into an
 * exchange. */
struct http__parse
{
    llhttp_t parser;
    const struct http_server_options *opt; /* borrowed from the server */
    struct http__text head;
    struct http__text body;
    size_t field_off[HTTP_HEADERS_MAX];
    size_t value_off[HTTP_HEADERS_MAX];
    size_t n_headers;
    size_t head_raw;   /* wire bytes of the header block so far */
    size_t body_max;   /* this request's: max_body, or its path's body_limits entry */
    unsigned messages; /* requests begun so far */
    bool in_message;   /* between message begin and message complete */
    bool in_head;      /* between message begin and headers complete */
    bool in_field;
    bool paused;
    bool send_continue; /* the client waits for "100 Continue" before its body */
    char head_last;     /* the last byte of the header blocks read so far */
    struct http_exchange *ready;
    int reject_status;
    const char *reject_code;
    char reject_msg[160];
};

struct http_conn
{
    struct net_stream stream; /* plain TCP, or TLS when the server has a context */
    uv_timer_t timer;         /* whatever the connection waits on now: see conn_arm() */
    struct http_server *server;
    struct http_conn *prev; /* the server's list, most recently active first */
    struct http_conn *next;
    struct http__parse parse;
    struct http__text backlog; /* received but not parsed: waits behind an exchange */
    struct http_exchange *pending;
    struct http__peer_addr addr; /* valid when addr_known (always when counted) */
    uint64_t active_ms;          /* loop time of the last read or answer */
    uint64_t request_deadline;   /* loop time the request being received is due; 0: none */
    uint64_t output_deadline;    /* while output_paused: loop time to drain by */
    unsigned request_seen;       /* parse.messages when request_deadline was set */
    unsigned open_handles;
    int timer_mode;
    bool request_in_body; /* request_deadline is the body's, not the header block's */
    bool reading;
    bool feeding;       /* inside the parse loop: a reply made there must not restart it */
    bool output_paused; /* too much unsent: parse nothing until it drains */
    bool peer_eof;      /* the client sends no more: answer what came, then close */
    bool lingering;     /* closing politely: flush, shut down, wait for the client's end */
    bool shut_done;
    bool refusing; /* refused at accept: a 503 leaves, nothing is read */
    bool counted;  /* holds a place in the server's per-address count */
    bool addr_known;
    bool closing;
    /* Handed over to another protocol (upgrade.c): closing is set too, so that nothing of
     * the HTTP server's touches it again; what is left of it lives on for up's owner. */
    bool upgraded;
    /* While the handler runs from inside the parse loop: the bytes after its request. */
    const char *feed_rest;
    size_t feed_rest_len;
    struct http_upgraded up;
    char *early; /* owned; behind up.early */
};

struct http_server
{
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct http_server_options opt;
    http_handler_cb handler;
    void *data;
    struct http_conn *conns; /* open connections, most recently active first; closing ones
                              * are unlinked */
    struct http_conn *conns_last;
    unsigned n_conns;    /* in conns, refusing ones included */
    unsigned n_refusing; /* in conns, on their way out with a 503 */
    struct http__peers peers;
    unsigned open_handles; /* the listener and every handle of every connection */
    uint16_t port;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
    struct http_server_stats stats;
};

/* parse.c */
void http__parse_init(struct http__parse *p, const struct http_server_options *opt);
void http__parse_close(struct http__parse *p);
/* Feeds bytes to the parser, stopping at the end of a request. *consumed says how many
 * were used; the rest belongs to the next request. */
enum http__parse_result http__parse_execute(struct http__parse *p,
                                            const char *data,
                                            size_t len,
                                            size_t *consumed);
void http__exchange_free(struct http_exchange *x);
/* Makes room for n more bytes and a terminator, failing with CD_ENOMEM (t unchanged). */
int http__text_reserve(struct http__text *t, size_t n);
/* Appends n bytes to t, failing with CD_ENOMEM (t unchanged) when memory runs out. */
int http__text_put(struct http__text *t, const void *data, size_t n);

/* server.c */
/* Links a new connection in as the most recently active. */
void http__server_link(struct http_server *s, struct http_conn *conn);
/* Unlinks a closing connection and gives up its place in every count. */
void http__server_unlink(struct http_conn *conn);
/* Marks the connection as the most recently active. */
void http__server_touch(struct http_conn *conn);
/* One of the server's handles (the listener's or a connection's) has closed. */
void http__server_handle_closed(struct http_server *s);

/* conn.c */
/* A connection linked into s, its handles initialised but not yet accepted; NULL when out
 * of memory. */
struct http_conn *http__conn_new(struct http_server *s);
/* Starts the accepted connection's stream (for TLS, the handshake), before it is admitted
 * or refused. Returns 0, or CD_EIO with the connection closed. */
int http__conn_begin(struct http_conn *conn);
/* Starts reading an accepted, admitted connection. */
void http__conn_start(struct http_conn *conn);
/* Whether closing the connection now loses nothing: no request in progress or awaiting its
 * answer, no answer unsent. */
bool http__conn_idle(const struct http_conn *conn);
/* Closes the connection now, detaching any exchange it holds. */
void http__conn_close(struct http_conn *conn);
/* The pending exchange was answered: go on with the next request, or close politely. */
void http__conn_answered(struct http_conn *conn, bool keep_alive);
/* Closes after the queued writes are flushed, reading (and discarding) what the client
 * still sends so that it sees the answer rather than a reset; a refused connection and
 * one whose client has ended its stream read nothing. */
void http__conn_finish(struct http_conn *conn);
/* An answer was queued: pause parsing if too much is unsent. */
void http__conn_output_queued(struct http_conn *conn);
/* A write completed: resume parsing once the unsent output has drained. */
void http__conn_output_drained(struct http_conn *conn);
/* Bytes queued for the client and not yet handed to the kernel. */
size_t http__conn_unsent(const struct http_conn *conn);

/* reply.c */
/* Queues bytes for the client; on failure the connection is closed. Returns 0, CD_ENOMEM,
 * CD_EIO (the connection is closing or the write failed) or CD_ETOOBIG (the unsent output
 * would pass output_limit). */
int http__conn_write(struct http_conn *conn, const char *data, size_t len);
/* Answers a request the parser rejected, then closes the connection. */
void http__conn_reject(struct http_conn *conn, int status, const char *code, const char *msg);

/* request.c */
/* Percent-decodes in[0..len) into out (cap bytes, NUL-terminated). For a path (query
 * false) a malformed escape or an encoded NUL is an error (-1); for a query string '+' is
 * a space and such escapes are kept as they are. Returns the decoded length, -1, or -2
 * when out is too small. */
int http__percent_decode(const char *in, size_t len, char *out, size_t cap, bool query);

#endif
