/* ws: WebSocket (RFC 6455), server side, on a connection the HTTP server hands over
 * (http_exchange_upgrade()). libwslay does the framing, reassembly, ping answers and the
 * close handshake; this module checks the opening handshake, admits connections, and
 * holds each client to the limits below before wslay sees a byte of a frame that breaks
 * them, so that every close it forces carries a code and a reason text.
 *
 * Only text messages are taken (what the chat and the agent desktop speak); a binary
 * message closes the connection with 1003. No extension (permessage-deflate) and no
 * subprotocol is negotiated.
 *
 * Every forced close, and the code and reason it carries:
 *   1002 "protocol error: ..."           a frame RFC 6455 forbids from a client (unmasked,
 *                                        reserved bits or opcodes, a fragmented or long
 *                                        control frame, a continuation out of place)
 *   1003 "binary messages are not accepted"
 *   1007 "invalid UTF-8 in a text message"
 *   1008 "too many messages"             over the message rate (the token bucket below)
 *   1008 "too slow"                      over output_limit bytes unsent to the client
 *   1009 "frame too large" / "message too large"
 *   1001 "no answer to ping"             nothing from the client within pong_timeout_ms
 *                                        of a ping
 *   1001 "going away"                    ws_server_close()
 *   1013 "too many connections from this address" / "too many connections"
 *                                        at accept (see ws_accept())
 * After its close frame the server waits for the client's (reading and discarding
 * messages) and closes TCP once it came, or after close_timeout_ms at the latest.
 *
 * Everything runs on the loop's thread; nothing here is thread-safe. */
#ifndef CD_WS_H
#define CD_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "adapters/http/http.h"

#define WS_NO_LIMIT 0xffffffffu

/* Every field's 0 means its default; the server keeps its own copy. */
struct ws_limits
{
    size_t max_frame;          /* payload of one frame; 0 = 64 KiB; larger: close 1009 */
    size_t max_message;        /* reassembled message; 0 = 64 KiB; larger: close 1009 */
    unsigned msgs_per_s;       /* messages a client may send per second; 0 = 20 */
    unsigned burst;            /* token bucket size; 0 = 2 * msgs_per_s; over: close 1008 */
    unsigned ping_ms;          /* ping after this long without a frame from the client;
                                * 0 = 20000 */
    unsigned pong_timeout_ms;  /* no frame within this after a ping: close 1001;
                                * 0 = 20000 */
    size_t output_limit;       /* unsent bytes to this client; over: close 1008 "too slow";
                                * 0 = 1 MiB */
    unsigned max_per_address;  /* open connections per client address; 0 = 32;
                                * WS_NO_LIMIT: no cap */
    unsigned max_connections;  /* open connections in all; 0 = 20000 */
    unsigned close_timeout_ms; /* after our close frame, the TCP close comes at the
                                * latest; 0 = 5000 */
};

struct ws_server;
struct ws_conn;

/* What the owner of a connection hears. Both are called on the loop thread, never from
 * inside a call of this module's API. */
struct ws_handler
{
    /* A whole text message, valid UTF-8 (invalid: close 1007; a binary message: close
     * 1003). msg[0..len) is valid during the call only; msg[len] is not a terminator.
     * Messages stop once the connection is closing (either side sent its close frame). */
    void (*on_text)(void *data, struct ws_conn *c, const char *msg, size_t len);
    /* Once per accepted connection, whoever closed it and why: the close code sent (when
     * this side closed first) or received (when the client did), 1005 when the client's
     * close frame had no code, 1006 when the TCP connection just went away; reason is the
     * matching text ("" when none; valid during the call). c is freed right after it
     * returns. */
    void (*on_close)(void *data, struct ws_conn *c, uint16_t code, const char *reason);
};

/* Creates a server on loop (lim may be NULL: every default). Returns 0 or CD_ENOMEM. */
int ws_server_new(uv_loop_t *loop, const struct ws_limits *lim, struct ws_server **out);

/* Closes every open connection with 1001 "going away" and calls done (may be NULL) once all
 * are closed (on_close has fired for each) and the server is freed; from a later loop turn,
 * never from inside this call. s must not be used after this call. */
void ws_server_close(struct ws_server *s, void (*done)(void *data), void *data);

/* Checks req's opening handshake (GET, HTTP/1.1, Upgrade: websocket, Connection: upgrade,
 * Sec-WebSocket-Version: 13, a Sec-WebSocket-Key that is 16 bytes in base64). A bad
 * handshake is answered on x with an HTTP JSON error (400 BAD_REQUEST; 426 UPGRADE_REQUIRED
 * with Sec-WebSocket-Version: 13 for another version; 405 METHOD for another method) and
 * returns CD_EINVAL. A good one gets 101 and becomes *out, whose first on_text comes on a
 * later loop turn (data: handed to h's callbacks; h is copied). When the server is over
 * max_connections or the client's address over max_per_address, the connection is
 * accepted and at once closed with 1013 and a reason saying which limit, and CD_ETOOBIG is
 * returned (on_close is not called for it). x is consumed in every case; CD_EIO: the
 * client went away first, or sent bytes behind a request that did not ask to switch
 * protocols (answered 400); CD_ESTATE: the server is closing (answered 503 UNAVAILABLE);
 * CD_ENOMEM: out of memory (answered 503, or the connection closed). *out is set only on
 * 0. */
int ws_accept(struct ws_server *s,
              struct http_exchange *x,
              const struct http_request *req,
              const struct ws_handler *h,
              void *data,
              struct ws_conn **out);

/* Queues one text message (msg is copied; it must be valid UTF-8). Returns 0; CD_EINVAL
 * when msg is not UTF-8; CD_ESTATE once the connection is closing (nothing is sent);
 * CD_ETOOBIG when the message would take the unsent output over output_limit: the
 * connection is then closed with 1008 "too slow" instead; CD_ENOMEM. */
int ws_send_text(struct ws_conn *c, const char *msg, size_t len);

/* Starts the close handshake with code (1000..4999, not one of the codes reserved for the
 * wire's absence of a code: 1005, 1006, 1015; anything else is sent as 1000) and reason
 * (copied; cut to 123 bytes at a UTF-8 boundary; NULL: ""); TCP closes once the client's
 * close frame came, or after close_timeout_ms. A second call, or one once the client has
 * closed, does nothing. */
void ws_close(struct ws_conn *c, uint16_t code, const char *reason);

/* Bytes queued for the client and not yet handed to the kernel (frames, and for TLS the
 * ciphertext). */
size_t ws_unsent(const struct ws_conn *c);

/* The owner's pointer, given to ws_accept() or set later. */
void *ws_conn_data(const struct ws_conn *c);
void ws_conn_set_data(struct ws_conn *c, void *data);

/* The client's IP address (the TCP peer's, as http_exchange_peer_address() writes it) into
 * buf of len >= HTTP_ADDRESS_MAX bytes. Returns 0, or CD_EINVAL when len is too small or
 * the address is not known. */
int ws_conn_peer_address(const struct ws_conn *c, char *buf, size_t len);

/* Close codes counted one by one: 1000..1015, the others together. */
#define WS_CODES 17
/* The index of code in closed_by_code[]. */
static inline unsigned ws_code_index(uint16_t code)
{
    return code >= 1000 && code <= 1015 ? (unsigned)(code - 1000) : WS_CODES - 1;
}

/* What the server did since it started; plain data, copied. */
struct ws_server_stats
{
    uint64_t accepted;          /* handshakes answered 101 and kept */
    uint64_t refused_handshake; /* answered with an HTTP error */
    uint64_t refused_limit;     /* accepted and closed at once with 1013 */
    uint64_t open;              /* connections open now (refused ones not counted) */
    uint64_t msgs_in;           /* text messages handed to on_text */
    uint64_t msgs_out;          /* text messages queued by ws_send_text() */
    uint64_t forced;            /* closes this side forced (the list at the top) */
    /* Connections closed, by the code on_close was given: index ws_code_index(code). */
    uint64_t closed_by_code[WS_CODES];
};
void ws_server_stats(const struct ws_server *s, struct ws_server_stats *out);

#endif
