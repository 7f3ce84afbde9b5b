/* Private to adapters/mail: the sender, one message's session, and the pieces the files
 * share. sender.c keeps the queue and the lifecycle, connect.c drives libcurl's multi
 * handle on the loop until the session is open, session.c runs the SMTP transaction on
 * it, and text.c holds the byte-level helpers (addresses, dot-stuffing, replies). */
#ifndef CD_MAIL_INTERNAL_H
#define CD_MAIL_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "adapters/mail/mail.h"

/* The longest reply taken from the relay, every line of it; a longer one fails the message.
 * RFC 5321 allows 512 bytes a line, and real replies have a handful of lines. */
#define MAIL__REPLY_MAX (16 * 1024)
/* How long a session waits for the relay to answer QUIT, at most, after its message. */
#define MAIL__QUIT_MS 5000

struct mail_sender
{
    uv_loop_t *loop;
    uv_timer_t anchor; /* never started: its close makes the close callback come later */
    char *url;
    char *ca_file;
    char *user;
    char *password;
    char *from;
    bool starttls;
    unsigned timeout_ms;
    unsigned max_in_flight;
    unsigned max_queued;
    struct mail__msg *queue_head, *queue_tail; /* waiting, oldest first */
    size_t n_queued;
    struct mail__msg *active; /* sessions open or closing, in no order */
    size_t n_active;
    bool closing;
    bool anchor_closed;
    void (*close_cb)(void *data);
    void *close_data;
};

enum mail__phase {
    MAIL__QUEUED,
    MAIL__CONNECT, /* libcurl: TCP, TLS, greeting, EHLO, STARTTLS, AUTH */
    MAIL__MAIL,    /* MAIL FROM sent */
    MAIL__RCPT,    /* RCPT TO of to[rcpt] sent */
    MAIL__DATA,    /* DATA sent */
    MAIL__BODY,    /* the data and its end sent, or being sent */
    MAIL__QUIT,    /* done called; QUIT sent */
    MAIL__CLOSED,  /* handles closing */
};

/* One message, from mail_send() until its handles are closed. */
struct mail__msg
{
    struct mail_sender *sender;
    struct mail__msg *prev, *next; /* in the queue or the active list */
    enum mail__phase phase;
    char **to;
    size_t n_to;
    size_t rcpt;   /* recipient whose RCPT TO is under way */
    char *payload; /* the data: stuffed, ending in CRLF "." CRLF */
    size_t payload_len;
    mail_done_cb done; /* NULL once called */
    void *data;
    CURLM *multi; /* one per message: see connect.c */
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    int io_error; /* a failure inside a libcurl callback, reported after it returns */
    uv_timer_t deadline;
    uv_timer_t curl_timer;
    uv_poll_t poll; /* the session's own, on fd */
    int fd;         /* a dup() of libcurl's socket, -1 until the session starts */
    unsigned handles;
    /* The send under way: libcurl (OpenSSL) wants a send that returned CURLE_AGAIN
     * repeated with the same pointer and length. */
    const char *out;
    size_t out_len;
    char line[MAIL_ADDRESS_MAX + 16]; /* one command */
    char *in;                         /* reply bytes received and not yet taken */
    size_t in_len;
};

/* ---- sender.c ---- */

/* Calls m's done callback (once; later calls do nothing) with code and the detail that fmt
 * formats, cut and cleaned to one printable line. */
void mail__report(struct mail__msg *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As mail__report(), then closes m's session. */
void mail__fail(struct mail__msg *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One of m's handles has closed; the last one frees m. */
void mail__handle_closed(struct mail__msg *m);
/* (Re)starts m's deadline: ms from now. */
void mail__arm_deadline(struct mail__msg *m, uint64_t ms);
/* Drops m's session: libcurl's handles go at once, the loop's when their close callbacks
 * come, and then m. Does not call done. Safe to call more than once. */
void mail__close(struct mail__msg *m);

/* ---- connect.c ---- */

/* Makes m's libcurl handles and starts connecting. Returns 0 or CD_ENOMEM (nothing is left
 * to undo but what mail__connect_free() frees). */
int mail__connect_start(struct mail__msg *m);
/* Frees m's libcurl handles (which closes its connection); not from a libcurl callback. */
void mail__connect_free(struct mail__msg *m);

/* ---- session.c ---- */

/* The connection is open: starts the transaction on it. */
void mail__session_start(struct mail__msg *m);
/* What m is waiting for, for a timeout's detail: "connecting to the relay". */
const char *mail__phase_text(enum mail__phase phase);

/* ---- text.c ---- */

/* Whether s is an address this module takes: 1..MAIL_ADDRESS_MAX bytes of printable ASCII,
 * no spaces, '<' or '>'. */
bool mail__address_ok(const char *s);
/* The DATA payload of message[0..len): stuffed, with a last CRLF, then "." CRLF. Returns
 * 0 and *out (malloc'd) and *out_len, CD_EINVAL (empty, a NUL, a bare CR or LF) or
 * CD_ENOMEM. */
int mail__stuff(const char *message, size_t len, char **out, size_t *out_len);

/* A reply of the relay, taken from received bytes. */
struct mail__reply
{
    int code;                       /* 100..599 */
    char text[MAIL_DETAIL_MAX + 1]; /* "250 2.0.0 Ok: queued as X": its lines joined */
};
/* Takes one whole reply from in[0..len) into *r: returns the bytes it used (> 0), 0 when
 * the reply is not complete yet, or -1 when the bytes are not an SMTP reply. */
long mail__reply_take(const char *in, size_t len, struct mail__reply *r);
/* Copies src into dst (cap bytes) as one line of printable ASCII, cut to fit. */
void mail__clean(char *dst, size_t cap, const char *src);

/* ---- encode.c ---- */

/* Appends the NUL-terminated s. */
void mail__put(struct cd_buf *b, const char *s);
/* data[0..len) in base64; lines: in lines of 76 characters joined by CRLF (no last CRLF). */
void mail__base64(struct cd_buf *b, const void *data, size_t len, bool lines);
/* Whether s is UTF-8 without control characters / printable ASCII. */
bool mail__text_ok(const char *s);
bool mail__ascii_ok(const char *s);
/* UTF-8 text s as RFC 2047 "B" encoded words, folded with CRLF SP between them. */
void mail__encoded_words(struct cd_buf *b, const char *s);
/* UTF-8 text s as an RFC 2231 extended value: UTF-8'' and percent escapes. */
void mail__ext_value(struct cd_buf *b, const char *s);
/* "Thu, 01 Jan 1970 00:00:00 +0000"; false when ms is outside years 1970..9999. */
bool mail__date(char out[32], int64_t ms);

#endif
