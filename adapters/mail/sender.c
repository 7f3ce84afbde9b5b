/* The sender: options, the queue of waiting messages, the sessions open, and how each
 * message ends (its done callback once, then its handles, then its memory). */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/mail/internal.h"
#include "common/error.h"

#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_IN_FLIGHT 4
#define DEFAULT_QUEUED 64

/* ---- Options ---------------------------------------------------------------------------- */

/* Whether url is an smtp:// or smtps:// URL with a host and no user part. */
static bool url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL;
    bool ok;

    if (u == NULL) {
        return false;
    }
    ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
         curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
         (strcmp(scheme, "smtp") == 0 || strcmp(scheme, "smtps") == 0) &&
         curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0' &&
         curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER;
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_url_cleanup(u);
    return ok;
}

static void sender_free(struct mail_sender *s)
{
    free(s->url);
    free(s->ca_file);
    free(s->user);
    free(s->password);
    free(s->from);
    free(s);
    curl_global_cleanup();
}

/* Copies src (NULL stays NULL); false when out of memory. */
static bool copy(char **dst, const char *src)
{
    *dst = src != NULL ? strdup(src) : NULL;
    return src == NULL || *dst != NULL;
}

int mail_sender_new(uv_loop_t *loop, const struct mail_options *opt, struct mail_sender **out)
{
    struct mail_sender *s;

    if (opt == NULL || opt->url == NULL || !mail__address_ok(opt->from)) {
        return CD_EINVAL;
    }
    /* Reference-counted by libcurl: one per sender, undone in sender_free(). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return CD_EIO;
    }
    if (!url_ok(opt->url)) {
        curl_global_cleanup();
        return CD_EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        curl_global_cleanup();
        return CD_ENOMEM;
    }
    if (!copy(&s->url, opt->url) || !copy(&s->ca_file, opt->ca_file) ||
        !copy(&s->user, opt->user) || !copy(&s->password, opt->password) ||
        !copy(&s->from, opt->from)) {
        sender_free(s);
        return CD_ENOMEM;
    }
    s->loop = loop;
    s->starttls = opt->starttls;
    s->timeout_ms = opt->timeout_ms != 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
    s->max_in_flight = opt->max_in_flight != 0 ? opt->max_in_flight : DEFAULT_IN_FLIGHT;
    s->max_queued = opt->max_queued != 0 ? opt->max_queued : DEFAULT_QUEUED;
    uv_timer_init(loop, &s->anchor);
    s->anchor.data = s;
    *out = s;
    return 0;
}

size_t mail_sender_queued(const struct mail_sender *s)
{
    return s->n_queued;
}

size_t mail_sender_in_flight(const struct mail_sender *s)
{
    return s->n_active;
}

/* ---- Lists ------------------------------------------------------------------------------ */

static void queue_push(struct mail_sender *s, struct mail__msg *m)
{
    m->prev = s->queue_tail;
    m->next = NULL;
    if (s->queue_tail != NULL) {
        s->queue_tail->next = m;
    } else {
        s->queue_head = m;
    }
    s->queue_tail = m;
    s->n_queued++;
}

static struct mail__msg *queue_pop(struct mail_sender *s)
{
    struct mail__msg *m = s->queue_head;

    if (m != NULL) {
        s->queue_head = m->next;
        if (s->queue_head != NULL) {
            s->queue_head->prev = NULL;
        } else {
            s->queue_tail = NULL;
        }
        m->next = NULL;
        s->n_queued--;
    }
    return m;
}

static void active_add(struct mail_sender *s, struct mail__msg *m)
{
    m->prev = NULL;
    m->next = s->active;
    if (s->active != NULL) {
        s->active->prev = m;
    }
    s->active = m;
    s->n_active++;
}

static void active_remove(struct mail_sender *s, struct mail__msg *m)
{
    if (m->prev != NULL) {
        m->prev->next = m->next;
    } else {
        s->active = m->next;
    }
    if (m->next != NULL) {
        m->next->prev = m->prev;
    }
    s->n_active--;
}

/* ---- One message ------------------------------------------------------------------------ */

static void msg_free(struct mail__msg *m)
{
    for (size_t i = 0; i < m->n_to; i++) {
        free(m->to[i]);
    }
    free(m->to);
    free(m->payload);
    free(m->in);
    free(m);
}

__attribute__((format(printf, 3, 0))) static void report_v(struct mail__msg *m,
                                                           int code,
                                                           const char *fmt,
                                                           va_list ap)
{
    char raw[2 * MAIL_DETAIL_MAX], detail[MAIL_DETAIL_MAX + 1];
    mail_done_cb done = m->done;

    if (done == NULL) {
        return;
    }
    m->done = NULL;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    mail__clean(detail, sizeof(detail), raw);
    done(m->data, code, detail);
}

void mail__report(struct mail__msg *m, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report_v(m, code, fmt, ap);
    va_end(ap);
}

void mail__fail(struct mail__msg *m, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report_v(m, code, fmt, ap);
    va_end(ap);
    mail__close(m);
}

static void pump(struct mail_sender *s);
static void close_finish(struct mail_sender *s);

void mail__handle_closed(struct mail__msg *m)
{
    struct mail_sender *s = m->sender;

    assert(m->handles > 0);
    if (--m->handles > 0) {
        return;
    }
    active_remove(s, m);
    msg_free(m);
    if (s->closing) {
        close_finish(s);
    } else {
        pump(s);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    mail__handle_closed(h->data);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct mail__msg *m = h->data;

    close(m->fd);
    mail__handle_closed(m);
}

void mail__close(struct mail__msg *m)
{
    if (m->phase == MAIL__CLOSED) {
        return;
    }
    m->phase = MAIL__CLOSED;
    /* libcurl's sockets' handles are closed from inside this call (CURL_POLL_REMOVE). */
    mail__connect_free(m);
    if (m->fd >= 0) {
        uv_close((uv_handle_t *)&m->poll, on_poll_closed);
    }
    uv_close((uv_handle_t *)&m->deadline, on_handle_closed);
    uv_close((uv_handle_t *)&m->curl_timer, on_handle_closed);
}

static void on_deadline(uv_timer_t *t)
{
    struct mail__msg *m = t->data;

    if (m->phase == MAIL__QUIT) {
        mail__close(m); /* the message went; only the goodbye is late */
        return;
    }
    mail__fail(m, CD_ETIMEDOUT, "timed out after %u ms %s", m->sender->timeout_ms,
               mail__phase_text(m->phase));
}

void mail__arm_deadline(struct mail__msg *m, uint64_t ms)
{
    uv_timer_start(&m->deadline, on_deadline, ms, 0);
}

/* Opens m's session. On failure m is closing already (without a done call). */
static int start(struct mail__msg *m)
{
    struct mail_sender *s = m->sender;
    int rc;

    uv_timer_init(s->loop, &m->deadline);
    uv_timer_init(s->loop, &m->curl_timer);
    m->deadline.data = m;
    m->curl_timer.data = m;
    m->handles = 2;
    m->phase = MAIL__CONNECT;
    active_add(s, m);
    mail__arm_deadline(m, s->timeout_ms);
    rc = mail__connect_start(m);
    if (rc != 0) {
        mail__close(m);
    }
    return rc;
}

/* Starts waiting messages while there are free sessions. */
static void pump(struct mail_sender *s)
{
    while (!s->closing && s->queue_head != NULL && s->n_active < s->max_in_flight) {
        struct mail__msg *m = queue_pop(s);
        mail_done_cb done = m->done;
        int rc;

        m->done = NULL;
        rc = start(m);
        m->done = done;
        if (rc != 0) {
            mail__report(m, rc, "start a session: %s", cd_strerror(rc));
        }
    }
}

static struct mail__msg *msg_new(struct mail_sender *s,
                                 const char *const *to,
                                 size_t n_to,
                                 const void *message,
                                 size_t len,
                                 int *rc)
{
    struct mail__msg *m = calloc(1, sizeof(*m));

    *rc = CD_ENOMEM;
    if (m == NULL) {
        return NULL;
    }
    m->sender = s;
    m->fd = -1;
    m->to = calloc(n_to, sizeof(*m->to));
    if (m->to == NULL) {
        goto err_free_msg;
    }
    for (; m->n_to < n_to; m->n_to++) {
        m->to[m->n_to] = strdup(to[m->n_to]);
        if (m->to[m->n_to] == NULL) {
            goto err_free_msg;
        }
    }
    *rc = mail__stuff(message, len, &m->payload, &m->payload_len);
    if (*rc != 0) {
        goto err_free_msg;
    }
    return m;

err_free_msg:
    msg_free(m);
    return NULL;
}

int mail_send(struct mail_sender *s,
              const char *const *to,
              size_t n_to,
              const void *message,
              size_t len,
              mail_done_cb done,
              void *data)
{
    struct mail__msg *m;
    bool now;
    int rc;

    if (s->closing) {
        return CD_ESTATE;
    }
    if (n_to == 0 || to == NULL || message == NULL || done == NULL) {
        return CD_EINVAL;
    }
    for (size_t i = 0; i < n_to; i++) {
        if (!mail__address_ok(to[i])) {
            return CD_EINVAL;
        }
    }
    /* Only behind the waiting ones: a done callback may send while they wait for pump(). */
    now = s->n_active < s->max_in_flight && s->queue_head == NULL;
    if (!now && s->n_queued >= s->max_queued) {
        return CD_ECAPACITY;
    }
    m = msg_new(s, to, n_to, message, len, &rc);
    if (m == NULL) {
        return rc;
    }
    if (now) {
        rc = start(m);
        if (rc != 0) {
            return rc; /* m is closing, with no done to call */
        }
    } else {
        m->phase = MAIL__QUEUED;
        queue_push(s, m);
    }
    m->done = done;
    m->data = data;
    return 0;
}

/* ---- Closing ---------------------------------------------------------------------------- */

/* Frees s and calls its close callback once the anchor and every session are closed. */
static void close_finish(struct mail_sender *s)
{
    void (*cb)(void *data) = s->close_cb;
    void *data = s->close_data;

    if (s->active != NULL || !s->anchor_closed) {
        return;
    }
    sender_free(s);
    if (cb != NULL) {
        cb(data);
    }
}

static void on_anchor_closed(uv_handle_t *h)
{
    struct mail_sender *s = h->data;

    s->anchor_closed = true;
    close_finish(s);
}

void mail_sender_close(struct mail_sender *s, void (*cb)(void *data), void *data)
{
    struct mail__msg *m, *next;

    assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    while ((m = queue_pop(s)) != NULL) {
        mail__report(m, CD_ECANCELED, "cancelled before it started");
        msg_free(m);
    }
    /* Sessions leave the list only from their close callbacks, on a later turn. */
    for (m = s->active; m != NULL; m = next) {
        next = m->next;
        if (m->phase != MAIL__CLOSED) {
            mail__report(m, CD_ECANCELED, "cancelled %s", mail__phase_text(m->phase));
            mail__close(m);
        }
    }
    uv_close((uv_handle_t *)&s->anchor, on_anchor_closed);
}
