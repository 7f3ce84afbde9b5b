/* Opening a session: libcurl's multi-socket API on the loop.
 *
 * libcurl tells which sockets it wants watched (CURLMOPT_SOCKETFUNCTION: one uv_poll_t
 * each) and when it wants to be called back (CURLMOPT_TIMERFUNCTION: a uv_timer_t); the
 * loop hands readiness back with curl_multi_socket_action(), and curl_multi_info_read()
 * says when the transfer ended. The transfer is CURLOPT_CONNECT_ONLY: libcurl runs TCP,
 * TLS, the greeting, EHLO, STARTTLS and AUTH, then stops with the connection open for
 * curl_easy_send() and curl_easy_recv() (session.c). A connect-only connection is never
 * given a QUIT by libcurl (it closes it as a dead one), so nothing here blocks.
 *
 * Each message has a multi handle of its own. A connect-only connection waits in its multi
 * handle's connection cache, and libcurl looks over cached connections (their age, whether
 * their socket still reads) when another transfer of the same multi handle connects; alone,
 * a session's connection is left to the session. It also keeps a message's end to one
 * curl_multi_cleanup(), and what curl_multi_info_read() returns to that message. */
#include <stdlib.h>

#include "adapters/mail/internal.h"
#include "common/error.h"

/* One socket libcurl wants watched. */
struct curl_sock
{
    uv_poll_t poll;
    struct mail__msg *msg;
    curl_socket_t fd;
};

static int code_of(CURLcode rc, long reply)
{
    switch (rc) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
            return CD_EUNAVAIL;
        case CURLE_OPERATION_TIMEDOUT:
            return CD_ETIMEDOUT;
        case CURLE_OUT_OF_MEMORY:
            return CD_ENOMEM;
        default:
            return reply == 421 ? CD_EUNAVAIL : CD_EIO;
    }
}

/* Called after every curl_multi_socket_action(): the end of the connect-only transfer. */
static void progress(struct mail__msg *m)
{
    CURLMsg *cm;
    CURLcode rc;
    long reply = 0;
    int left;

    if (m->phase != MAIL__CONNECT) {
        return;
    }
    if (m->io_error != 0) {
        mail__fail(m, m->io_error, "watch the relay's socket: %s", cd_strerror(m->io_error));
        return;
    }
    cm = curl_multi_info_read(m->multi, &left);
    if (cm == NULL || cm->msg != CURLMSG_DONE) {
        return;
    }
    rc = cm->data.result;
    if (rc == CURLE_OK) {
        mail__session_start(m);
        return;
    }
    curl_easy_getinfo(m->easy, CURLINFO_RESPONSE_CODE, &reply);
    if (reply >= 400) { /* the relay's refusal; an earlier 2xx says nothing */
        mail__fail(m, code_of(rc, reply), "connect to the relay: %s (reply %ld)",
                   m->errbuf[0] != '\0' ? m->errbuf : curl_easy_strerror(rc), reply);
    } else {
        mail__fail(m, code_of(rc, reply), "connect to the relay: %s",
                   m->errbuf[0] != '\0' ? m->errbuf : curl_easy_strerror(rc));
    }
}

static void on_sock_event(uv_poll_t *p, int status, int events)
{
    struct curl_sock *cs = p->data;
    struct mail__msg *m = cs->msg;
    int flags = 0, running;

    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        flags |= (events & UV_READABLE) ? CURL_CSELECT_IN : 0;
        flags |= (events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0;
    }
    /* cs may be closing once this returns; m stays until its handles are closed. */
    curl_multi_socket_action(m->multi, cs->fd, flags, &running);
    progress(m);
}

static void on_sock_closed(uv_handle_t *h)
{
    struct curl_sock *cs = h->data;
    struct mail__msg *m = cs->msg;

    free(cs);
    mail__handle_closed(m);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct mail__msg *m = userp;
    struct curl_sock *cs = socketp;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (cs != NULL) {
            curl_multi_assign(m->multi, fd, NULL);
            uv_close((uv_handle_t *)&cs->poll, on_sock_closed);
        }
        return 0;
    }
    if (cs == NULL) {
        cs = calloc(1, sizeof(*cs));
        if (cs == NULL) {
            m->io_error = CD_ENOMEM;
            return -1;
        }
        if (uv_poll_init_socket(m->sender->loop, &cs->poll, fd) != 0) {
            free(cs);
            m->io_error = CD_EIO;
            return -1;
        }
        cs->poll.data = cs;
        cs->msg = m;
        cs->fd = fd;
        m->handles++;
        curl_multi_assign(m->multi, fd, cs);
    }
    events |= (what & CURL_POLL_IN) ? UV_READABLE : 0;
    events |= (what & CURL_POLL_OUT) ? UV_WRITABLE : 0;
    uv_poll_start(&cs->poll, events, on_sock_event);
    return 0;
}

static void on_curl_timer(uv_timer_t *t)
{
    struct mail__msg *m = t->data;
    int running;

    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    progress(m);
}

/* libcurl asks for a call back in timeout_ms (0: as soon as possible, but not from inside
 * this callback), or for none (-1). */
static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    struct mail__msg *m = userp;

    (void)multi;
    if (timeout_ms < 0) {
        uv_timer_stop(&m->curl_timer);
    } else {
        uv_timer_start(&m->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    }
    return 0;
}

static CURLcode easy_options(struct mail__msg *m)
{
    const struct mail_sender *s = m->sender;
    CURL *e = m->easy;
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                           \
    do {                                        \
        if (rc == CURLE_OK) {                   \
            rc = curl_easy_setopt(e, opt, val); \
        }                                       \
    } while (0)
    SET(CURLOPT_URL, s->url);
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SET(CURLOPT_CONNECT_ONLY, 1L);
    SET(CURLOPT_NOSIGNAL, 1L);
    /* Dropping a transfer still resolving the relay's name leaves libcurl's resolver
     * thread to finish by itself instead of waiting for it here. */
    SET(CURLOPT_QUICK_EXIT, 1L);
    SET(CURLOPT_PROXY, ""); /* no proxy from the environment (all_proxy) */
    SET(CURLOPT_ERRORBUFFER, m->errbuf);
    SET(CURLOPT_USE_SSL, (long)(s->starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    if (s->ca_file != NULL) {
        SET(CURLOPT_CAINFO, s->ca_file);
    }
    if (s->user != NULL) {
        SET(CURLOPT_USERNAME, s->user);
        SET(CURLOPT_PASSWORD, s->password != NULL ? s->password : "");
    }
#undef SET
    return rc;
}

int mail__connect_start(struct mail__msg *m)
{
    m->multi = curl_multi_init();
    m->easy = curl_easy_init();
    if (m->multi == NULL || m->easy == NULL) {
        return CD_ENOMEM;
    }
    if (curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer_set) != CURLM_OK ||
        curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m) != CURLM_OK) {
        return CD_ENOMEM;
    }
    switch (easy_options(m)) {
        case CURLE_OK:
            break;
        case CURLE_OUT_OF_MEMORY:
            return CD_ENOMEM;
        default:
            return CD_EIO; /* an option this libcurl does not know */
    }
    m->errbuf[0] = '\0';
    /* Arms the timer (on_timer_set): the work starts on the loop, after this returns. */
    return curl_multi_add_handle(m->multi, m->easy) == CURLM_OK ? 0 : CD_ENOMEM;
}

void mail__connect_free(struct mail__msg *m)
{
    if (m->multi != NULL && m->easy != NULL) {
        curl_multi_remove_handle(m->multi, m->easy);
    }
    if (m->easy != NULL) {
        curl_easy_cleanup(m->easy);
        m->easy = NULL;
    }
    if (m->multi != NULL) {
        curl_multi_cleanup(m->multi);
        m->multi = NULL;
    }
}
