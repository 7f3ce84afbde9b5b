/* Private to adapters/ws: the shapes that server.c (the server, admission, stats),
 * handshake.c (the opening handshake), conn.c (one connection over wslay) and scan.c (the
 * check of a client's frames before wslay reads them) share. */
#ifndef CD_WS_INTERNAL_H
#define CD_WS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "adapters/ws/ws.h"

/* ---- scan.c ------------------------------------------------------------------------- */

/* Why the client's bytes are refused: a close code and its reason; code 0: not refused. */
struct ws__verdict
{
    uint16_t code;
    const char *reason; /* static text */
};

/* Follows the frames of a client's byte stream as wslay will read them, ahead of it, to
 * hold the client to the limits and to RFC 6455 with a reason for every refusal. */
struct ws__scan
{
    size_t max_frame;
    size_t max_message;
    /* Asked at the first frame of each data message: false refuses it (the rate). */
    bool (*take_message)(void *arg);
    void *arg;
    uint8_t head[14]; /* the frame header being read */
    size_t head_len;
    uint64_t payload_left; /* of the frame being read, after its header */
    uint64_t payload_off;  /* into the frame's payload: selects the mask byte */
    uint8_t mask[4];
    uint8_t opcode;           /* of the frame being read */
    bool fin;                 /* of the frame being read */
    bool in_message;          /* a fragmented data message is open */
    bool text;                /* the frame being read carries text (its own or its message's) */
    uint64_t message_len;     /* of the data message being read so far */
    uint8_t utf8_need;        /* continuation bytes still due in the text */
    uint8_t utf8_lo, utf8_hi; /* the range of the next continuation byte */
    bool closed;              /* the client's close frame was read: nothing follows */
    uint64_t frames;          /* frame headers read so far */
};

void ws__scan_init(struct ws__scan *sc,
                   size_t max_frame,
                   size_t max_message,
                   bool (*take_message)(void *arg),
                   void *arg);
/* Reads data[0..len) after what was read before. Returns how many of its bytes wslay may
 * read: all of them, or, with *v set, those before the first byte of the frame at fault
 * (its header when it started here) or before the byte at fault. Once at fault, nothing
 * more may be read. */
size_t ws__scan(struct ws__scan *sc, const char *data, size_t len, struct ws__verdict *v);
/* Whether s[0..len) is UTF-8 (RFC 3629: no overlong forms, no surrogates). */
bool ws__utf8_valid(const char *s, size_t len);

/* ---- conn.c ------------------------------------------------------------------------- */

struct ws_conn
{
    struct ws_server *server;
    struct ws_conn *prev, *next; /* the server's list */
    struct http_upgraded *up;
    struct net_stream *stream; /* up->stream */
    wslay_event_context_ptr ctx;
    struct ws_handler h;
    void *data;
    uv_timer_t timer; /* the first turn, then ping and pong, then the close deadline */
    int timer_mode;
    struct ws__scan scan;
    const char *in; /* bytes wslay may read now */
    size_t in_len;
    uint64_t tokens;    /* the rate's bucket, in thousandths of a message */
    uint64_t refill_ms; /* loop time of the last refill */
    uint64_t frames_seen;
    uint64_t last_frame_ms;  /* loop time a frame (header) last came */
    uint64_t frames_at_ping; /* scan.frames when the ping waiting for an answer left */
    uint16_t code;           /* for on_close: the first close, ours or the client's */
    char reason[124];
    bool code_set;
    bool refused;    /* closed with 1013 at accept: no on_close, not counted */
    bool counted;    /* holds a place in its address's count */
    bool closing;    /* a close frame is queued or was received */
    bool input_done; /* read nothing more: forced close, or the client's close came */
    bool in_recv;    /* inside wslay_event_recv(): sends wait until it returns */
    bool shut;       /* TCP shutdown asked */
    bool tcp_closing;
    unsigned handles; /* the stream and the timer, until both have closed */
    char address[HTTP_ADDRESS_MAX];
};

/* A connection on u for s, not yet linked or counted; NULL when out of memory (u is left
 * as it was). */
struct ws_conn *ws__conn_new(struct ws_server *s,
                             struct http_upgraded *u,
                             const struct ws_handler *h,
                             void *data);
/* Starts the connection: its early bytes on the next loop turn, then reading. */
void ws__conn_start(struct ws_conn *c);
/* Closes because this side must (the list in ws.h): counted in stats.forced. */
void ws__conn_fail(struct ws_conn *c, uint16_t code, const char *reason);
/* Feeds the client's bytes (the fuzz target's entry point, and the read callback's). */
void ws__conn_input(struct ws_conn *c, const char *data, size_t len);

/* ---- server.c ----------------------------------------------------------------------- */

#define WS__ADDR_BUCKETS 256

struct ws__addr
{
    struct ws__addr *next;
    unsigned count;
    char text[HTTP_ADDRESS_MAX];
};

struct ws_server
{
    uv_loop_t *loop;
    struct ws_limits lim;
    struct ws_conn *conns; /* every connection not yet freed, refused ones included */
    unsigned n_conns;
    unsigned n_open; /* of them, accepted and not refused, until their on_close */
    struct ws__addr *addrs[WS__ADDR_BUCKETS];
    uv_timer_t wake; /* closed by ws_server_close(): makes done asynchronous */
    bool wake_closed;
    bool closing;
    void (*done)(void *data);
    void *done_data;
    struct ws_server_stats stats;
};

/* Links c in; counts it against its address unless refused. Returns the limit c is over
 * ("" when none), having counted nothing then. */
const char *ws__server_admit(struct ws_server *s, struct ws_conn *c);
/* c's on_close has fired (or it was refused): it gives up its counts. */
void ws__server_release(struct ws_server *s, struct ws_conn *c);
/* c is freed: unlinks it, and finishes a closing server after its last connection. */
void ws__server_forget(struct ws_server *s, struct ws_conn *c);

#endif
