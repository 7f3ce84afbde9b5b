/* mail: sends messages through one SMTP relay without blocking the loop, and builds simple
 * MIME messages to send. Used by the leader for scheduled report deliveries (and later the
 * email channel's replies).
 *
 * Each message gets its own SMTP session. libcurl opens it (TCP, smtps:// or STARTTLS with
 * the relay's certificate checked, the greeting, EHLO, AUTH), driven by its multi-socket
 * API on the loop; the transaction itself (MAIL FROM, RCPT TO, DATA with dot-stuffing, the
 * final reply, QUIT) is this module's, over curl_easy_send() and curl_easy_recv(), because
 * libcurl's own SMTP upload waits for the reply to the end of the data, and for the reply
 * to QUIT, in a blocking poll (see README.md). Nothing here ever waits on a socket.
 *
 * Outcomes. A message the relay answered with 2xx after its data is taken; every other
 * outcome is an error. An error after the end of the data was sent (a timeout, a lost
 * connection, a cancel) leaves it unknown whether the relay took the message: retry with
 * the same Message-ID, which lets the receiving side recognise a repeat.
 *
 * Everything runs on the loop's thread; nothing here is thread-safe. */
#ifndef CD_MAIL_H
#define CD_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"

/* The longest address taken (RFC 5321's limit on a path, less the angle brackets). */
#define MAIL_ADDRESS_MAX 254
/* The longest detail handed to a done callback, NUL excluded. */
#define MAIL_DETAIL_MAX 511

/* Every string is copied by mail_sender_new(); every number's 0 means its default. */
struct mail_options
{
    /* "smtp://host[:port][/ehlo-name]" (port 25 by default) or "smtps://..." (TLS from the
     * first byte, port 465 by default). host is a name or an IP literal ("[::1]" for IPv6);
     * ehlo-name is the name this side gives in EHLO (libcurl's default: "localhost"). No
     * user or password in the URL: they go in user and password below. */
    const char *url;
    /* smtp:// only: upgrade with STARTTLS before anything else, and fail every message
     * (CD_EIO) when the relay does not offer it. false: plain text all along. */
    bool starttls;
    /* PEM file of the CA certificates the relay's certificate is checked against (for
     * smtps:// and STARTTLS; the certificate must also name the URL's host). NULL: the
     * system's trust store. */
    const char *ca_file;
    /* AUTH with these (PLAIN, LOGIN or another mechanism the relay offers); NULL user: no
     * AUTH. libcurl skips AUTH when the relay offers none; the relay then refuses MAIL FROM
     * if it wanted one. Over smtp:// without starttls they cross the network in clear. */
    const char *user;
    const char *password;
    /* The envelope sender, MAIL FROM: an address without angle brackets, printable ASCII
     * without spaces, at most MAIL_ADDRESS_MAX bytes. Required. */
    const char *from;
    unsigned timeout_ms;    /* one message, from the moment its session starts to the
                             * relay's answer to its data; 0 = 60000 */
    unsigned max_in_flight; /* sessions open at once; 0 = 4 */
    unsigned max_queued;    /* messages waiting for a session beyond those; 0 = 64 */
};

struct mail_sender;

/* Called once per message taken by mail_send(), on the loop thread, never from inside
 * mail_send(). code is 0 when the relay took the message; detail (valid during the call
 * only; one line of printable ASCII, at most MAIL_DETAIL_MAX bytes, never NULL) is then
 * the relay's reply to the data ("250 2.0.0 Ok: queued as 4Xk2"). Otherwise code is:
 *   CD_EINVAL     the relay refused a recipient with a 5xx reply: no recipient got the
 *                 message (it is never sent to only some of them);
 *   CD_EUNAVAIL   the relay could not be reached (the name did not resolve, the connection
 *                 was refused) or said it is not available (421);
 *   CD_ETIMEDOUT  the message did not complete within timeout_ms;
 *   CD_ECANCELED  mail_sender_close() ended it first;
 *   CD_ENOMEM     out of memory;
 *   CD_EIO        anything else: TLS failed (the certificate too), STARTTLS was required
 *                 and not offered, AUTH failed, the relay refused the sender or the data
 *                 or a recipient for now (4xx), the connection broke;
 * and detail says what failed, with the relay's reply or libcurl's message when there is
 * one ("RCPT TO <nobody@example.com>: 550 5.1.1 User unknown"). */
typedef void (*mail_done_cb)(void *data, int code, const char *detail);

/* A sender for the relay of opt, on loop. Returns 0 and *out, or CD_EINVAL (no URL or a
 * scheme other than smtp/smtps, a URL with a user part, no from or a malformed one) or
 * CD_ENOMEM, or CD_EIO when libcurl cannot be initialised; *out is set only on 0. */
int mail_sender_new(uv_loop_t *loop, const struct mail_options *opt, struct mail_sender **out);

/* Sends message[0..len) (copied: the whole RFC 5322 message, header and body, CRLF line
 * ends; dot-stuffing is done here, and a last CRLF added when it lacks one) to to[0..n_to)
 * (each an address as from above; copied). The message starts at once when fewer than
 * max_in_flight sessions are open, or else waits its turn, first in first out. done (with
 * data) is called exactly once, later. Returns 0, or, with done never called:
 *   CD_EINVAL     n_to is 0, an address is malformed, message is empty or holds a NUL
 *                 byte or a CR or LF outside a CRLF pair;
 *   CD_ECAPACITY  max_queued messages are waiting already;
 *   CD_ESTATE     the sender is closing (a done callback of mail_sender_close() asked);
 *   CD_ENOMEM. */
int mail_send(struct mail_sender *s,
              const char *const *to,
              size_t n_to,
              const void *message,
              size_t len,
              mail_done_cb done,
              void *data);

/* Messages waiting for a session, and sessions open (a session stays open after its done
 * callback until QUIT is answered, briefly). */
size_t mail_sender_queued(const struct mail_sender *s);
size_t mail_sender_in_flight(const struct mail_sender *s);

/* Ends every message that is waiting or under way: their done callbacks are called, from
 * inside this call, with CD_ECANCELED (waiting ones first, in order). Every session is
 * dropped at once (no QUIT), every handle closed, and cb (may be NULL) is called with data
 * once all are closed and s is freed: from a later loop turn, never from inside this call.
 * May be called from a done callback. s must not be used after this call. */
void mail_sender_close(struct mail_sender *s, void (*cb)(void *data), void *data);

/* ---- Building a message --------------------------------------------------------------- */

struct mail_attachment
{
    const char *filename;     /* UTF-8; RFC 2231-encoded when not plain ASCII */
    const char *content_type; /* "text/csv; charset=utf-8", "application/pdf" */
    const void *data;         /* borrowed for the call */
    size_t len;
};

struct mail_headers
{
    const char *from;      /* an address (as in struct mail_options) */
    const char *from_name; /* display name, UTF-8; NULL: none */
    const char *const *to; /* addresses; at least one */
    size_t n_to;
    const char *subject; /* UTF-8; RFC 2047 encoded words when it is not plain ASCII */
    int64_t date_ms;     /* Unix time in ms, written as UTC: the module reads no clock */
    /* Without angle brackets: printable ASCII with one '@', no spaces, '<' or '>'; the
     * idempotency key of a delivery, the same on every attempt. */
    const char *message_id;
};

/* Appends to out a message with the header lines Date, From, To, Subject, Message-ID,
 * MIME-Version and the content's, and body[0..len) (borrowed for the call) of type
 * content_type ("text/plain; charset=utf-8"). A text/ body of 7-bit bytes (no NUL) whose
 * lines fit in 998 bytes goes as it is, its line ends made CRLF; any other body is base64
 * (lines of 76). With attachment (may be NULL) the message is multipart/mixed: the body,
 * then the attachment, each part encoded by the same rule. Returns 0, or CD_EINVAL (a
 * header value holds a control character or is not UTF-8, an address or the Message-ID is
 * malformed, date_ms is outside years 1970..9999) or CD_ENOMEM, with out as it was. */
int mail_message(struct cd_buf *out,
                 const struct mail_headers *h,
                 const char *content_type,
                 const void *body,
                 size_t len,
                 const struct mail_attachment *attachment);

#endif
