/* wsc: the client side of a WebSocket (RFC 6455) for the chat benchmark: a net_stream (TLS
 * or plain) from a chosen source address, the opening handshake, and libwslay for the
 * framing (masking, pings answered, the close handshake). Text messages only.
 *
 * Everything runs on the loop's thread. */
#ifndef CHATLOAD_WSC_H
#define CHATLOAD_WSC_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/net.h"

struct wsc;

/* Close codes the client reports that are not on the wire: the TCP connect failed, the TLS
 * or the opening handshake failed (the server's HTTP status is given as 10000 + status
 * when there was one). */
#define WSC_CONNECT_FAILED 9001
#define WSC_HANDSHAKE_FAILED 9002
#define WSC_GONE 1006

struct wsc_handler
{
    /* The server answered 101: messages may be sent. */
    void (*on_open)(struct wsc *w);
    /* A whole text message; msg[0..len) valid during the call only. */
    void (*on_text)(struct wsc *w, const char *msg, size_t len);
    /* Once, when the connection ended by the server's doing or a failure: code is the
     * server's close code, 1006 when TCP just ended, or one of the WSC_ codes above; the
     * connection is freed after the call. Not called after wsc_close(). */
    void (*on_end)(struct wsc *w, int code);
};

struct wsc_options
{
    uv_loop_t *loop;
    struct net_tls *tls;           /* a client context; NULL: plain TCP. Borrowed. */
    const struct sockaddr_in *dst; /* copied */
    const struct sockaddr_in *src; /* the source address (port 0); NULL: any */
    const char *target;            /* "/chat/ws", with its query; copied */
    const char *headers;           /* more header lines ("Name: v\r\n"...), or NULL; copied */
    const struct wsc_handler *h;   /* borrowed for the connection's life */
    void *data;
};

/* Starts connecting. Returns 0 (the handler hears the outcome) or a libuv error (nothing
 * to close). */
int wsc_open(const struct wsc_options *o, struct wsc **out);

/* Queues one text message (copied). Returns 0, or -1 when the connection is not open. */
int wsc_send(struct wsc *w, const char *text, size_t len);

/* Closes the connection at once, without a close handshake, and frees it later. */
void wsc_close(struct wsc *w);

void *wsc_data(const struct wsc *w);
/* Whether the TLS handshake resumed a session. */
int wsc_resumed(const struct wsc *w);

#endif
