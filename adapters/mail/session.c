/* The SMTP transaction (RFC 5321 3.3) on the connection libcurl opened: MAIL FROM, one
 * RCPT TO per recipient, DATA, the stuffed data, then QUIT; one command at a time, each
 * waiting for its reply. The socket is watched through a dup() of libcurl's descriptor
 * with a uv_poll_t of our own, and every byte goes through curl_easy_send() and
 * curl_easy_recv(), which do the TLS when there is some. Both return CURLE_AGAIN instead
 * of waiting. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/mail/internal.h"
#include "common/error.h"

/* The most handed to one curl_easy_send(). */
#define SEND_CHUNK (64 * 1024)

const char *mail__phase_text(enum mail__phase phase)
{
    switch (phase) {
        case MAIL__QUEUED:
            return "waiting for a session";
        case MAIL__CONNECT:
            return "connecting to the relay";
        case MAIL__MAIL:
            return "waiting for the reply to MAIL FROM";
        case MAIL__RCPT:
            return "waiting for the reply to RCPT TO";
        case MAIL__DATA:
            return "waiting for the reply to DATA";
        case MAIL__BODY:
            return "sending the data or waiting for the reply to it";
        case MAIL__QUIT:
            return "waiting for the reply to QUIT";
        case MAIL__CLOSED:
            break;
    }
    return "after the session closed";
}

static const char *curl_error(const struct mail__msg *m, CURLcode rc)
{
    return m->errbuf[0] != '\0' ? m->errbuf : curl_easy_strerror(rc);
}

static void on_event(uv_poll_t *p, int status, int events);

/* Watches for replies always, and for room to send while a send is under way. */
static bool watch(struct mail__msg *m)
{
    int rc =
        uv_poll_start(&m->poll, UV_READABLE | (m->out_len > 0 ? UV_WRITABLE : 0), on_event);
    if (rc != 0) {
        mail__fail(m, CD_EIO, "watch the relay's connection: %s", uv_strerror(rc));
        return false;
    }
    return true;
}

/* Sends what is under way, as far as the socket takes it. false: m failed. */
static bool flush(struct mail__msg *m)
{
    while (m->out_len > 0) {
        size_t chunk = m->out_len < SEND_CHUNK ? m->out_len : SEND_CHUNK, n = 0;
        CURLcode rc;

        m->errbuf[0] = '\0';
        rc = curl_easy_send(m->easy, m->out, chunk, &n);
        if (rc == CURLE_AGAIN) {
            break;
        }
        if (rc != CURLE_OK) {
            mail__fail(m, CD_EIO, "send to the relay %s: %s", mail__phase_text(m->phase),
                       curl_error(m, rc));
            return false;
        }
        m->out += n;
        m->out_len -= n;
    }
    return watch(m);
}

__attribute__((format(printf, 3, 4))) static void command(struct mail__msg *m,
                                                          enum mail__phase phase,
                                                          const char *fmt,
                                                          ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(m->line, sizeof(m->line), fmt, ap);
    va_end(ap);
    /* Addresses were checked against MAIL_ADDRESS_MAX, which the line is sized for. */
    assert(n > 0 && (size_t)n < sizeof(m->line));
    m->phase = phase;
    m->out = m->line;
    m->out_len = (size_t)n;
    flush(m);
}

void mail__session_start(struct mail__msg *m)
{
    curl_socket_t sock = CURL_SOCKET_BAD;
    int fd, rc;

    if (curl_easy_getinfo(m->easy, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK ||
        sock == CURL_SOCKET_BAD) {
        mail__fail(m, CD_EIO, "connect to the relay: libcurl has no socket for the session");
        return;
    }
    m->in = malloc(MAIL__REPLY_MAX);
    if (m->in == NULL) {
        mail__fail(m, CD_ENOMEM, "start the session: %s", cd_strerror(CD_ENOMEM));
        return;
    }
    /* A descriptor of our own: libcurl may watch or close its own meanwhile (it stops
     * watching it once the connect-only transfer is done). */
    fd = fcntl(sock, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        mail__fail(m, CD_EIO, "start the session: dup: %s", strerror(errno));
        return;
    }
    rc = uv_poll_init_socket(m->sender->loop, &m->poll, fd);
    if (rc != 0) {
        close(fd);
        mail__fail(m, CD_EIO, "start the session: %s", uv_strerror(rc));
        return;
    }
    m->fd = fd;
    m->poll.data = m;
    m->handles++;
    command(m, MAIL__MAIL, "MAIL FROM:<%s>\r\n", m->sender->from);
}

static int code_of(const struct mail__reply *r, int otherwise)
{
    return r->code == 421 ? CD_EUNAVAIL : otherwise;
}

static void quit(struct mail__msg *m)
{
    unsigned ms = m->sender->timeout_ms < MAIL__QUIT_MS ? m->sender->timeout_ms : MAIL__QUIT_MS;

    mail__arm_deadline(m, ms);
    command(m, MAIL__QUIT, "QUIT\r\n");
}

static void on_rcpt_reply(struct mail__msg *m, const struct mail__reply *r)
{
    if (r->code / 100 != 2) {
        /* A refusal for good (5xx) is the caller's to fix; one for now is worth a retry. */
        mail__fail(m, r->code / 100 == 5 ? CD_EINVAL : code_of(r, CD_EIO), "RCPT TO <%s>: %s",
                   m->to[m->rcpt], r->text);
    } else if (++m->rcpt < m->n_to) {
        command(m, MAIL__RCPT, "RCPT TO:<%s>\r\n", m->to[m->rcpt]);
    } else {
        command(m, MAIL__DATA, "DATA\r\n");
    }
}

static void on_body_reply(struct mail__msg *m, const struct mail__reply *r)
{
    if (m->out_len > 0) {
        mail__fail(m, code_of(r, CD_EIO), "the relay answered before the end of the data: %s",
                   r->text);
    } else if (r->code / 100 != 2) {
        mail__fail(m, code_of(r, CD_EIO), "end of data: %s", r->text);
    } else {
        mail__report(m, 0, "%s", r->text);
        if (m->phase != MAIL__CLOSED) { /* the done callback may have closed the sender */
            quit(m);
        }
    }
}

static void on_reply(struct mail__msg *m, const struct mail__reply *r)
{
    switch (m->phase) {
        case MAIL__MAIL:
            if (r->code / 100 != 2) {
                mail__fail(m, code_of(r, CD_EIO), "MAIL FROM <%s>: %s", m->sender->from,
                           r->text);
                return;
            }
            command(m, MAIL__RCPT, "RCPT TO:<%s>\r\n", m->to[m->rcpt]);
            return;
        case MAIL__RCPT:
            on_rcpt_reply(m, r);
            return;
        case MAIL__DATA:
            if (r->code != 354) {
                mail__fail(m, code_of(r, CD_EIO), "DATA: %s", r->text);
                return;
            }
            m->phase = MAIL__BODY;
            m->out = m->payload;
            m->out_len = m->payload_len;
            flush(m);
            return;
        case MAIL__BODY:
            on_body_reply(m, r);
            return;
        case MAIL__QUIT:
            mail__close(m);
            return;
        default:
            mail__fail(m, CD_EIO, "unexpected reply %s: %s", mail__phase_text(m->phase),
                       r->text);
            return;
    }
}

/* Takes every whole reply received, in order. */
static void replies(struct mail__msg *m)
{
    while (m->phase != MAIL__CLOSED && m->in_len > 0) {
        struct mail__reply r;
        long used = mail__reply_take(m->in, m->in_len, &r);

        if (used == 0) {
            return;
        }
        if (used < 0) {
            mail__fail(m, CD_EIO, "not an SMTP reply %s", mail__phase_text(m->phase));
            return;
        }
        m->in_len -= (size_t)used;
        memmove(m->in, m->in + used, m->in_len);
        on_reply(m, &r);
    }
}

/* Reads what the socket holds, then handles it; the end of the stream last. */
static void receive(struct mail__msg *m)
{
    bool ended = false;

    for (;;) {
        size_t n = 0;
        CURLcode rc;

        if (m->in_len == MAIL__REPLY_MAX) {
            mail__fail(m, CD_EIO, "a reply longer than %d bytes %s", MAIL__REPLY_MAX,
                       mail__phase_text(m->phase));
            return;
        }
        m->errbuf[0] = '\0';
        rc = curl_easy_recv(m->easy, m->in + m->in_len, MAIL__REPLY_MAX - m->in_len, &n);
        if (rc == CURLE_AGAIN) {
            break;
        }
        if (rc != CURLE_OK) {
            mail__fail(m, CD_EIO, "receive from the relay %s: %s", mail__phase_text(m->phase),
                       curl_error(m, rc));
            return;
        }
        if (n == 0) {
            ended = true;
            break;
        }
        m->in_len += n;
    }
    replies(m);
    if (ended && m->phase == MAIL__QUIT) {
        mail__close(m);
    } else if (ended && m->phase != MAIL__CLOSED) {
        mail__fail(m, CD_EIO, "the relay closed the connection %s", mail__phase_text(m->phase));
    }
}

static void on_event(uv_poll_t *p, int status, int events)
{
    struct mail__msg *m = p->data;

    if (status < 0) {
        mail__fail(m, CD_EIO, "the relay's connection %s: %s", mail__phase_text(m->phase),
                   uv_strerror(status));
        return;
    }
    /* A TLS send may wait for the socket to be readable, so any event retries it. */
    if (m->out_len > 0 && !flush(m)) {
        return;
    }
    if ((events & UV_READABLE) && m->phase != MAIL__CLOSED) {
        receive(m);
    }
}
