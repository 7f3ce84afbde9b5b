/* adapters/mail: mail_send() against an SMTP server written here, on 127.0.0.1 and on the
 * same loop as the sender, so a sender that blocked the loop would never hear an answer.
 * The server speaks like a real one (the greeting, a multi-line EHLO with its extensions,
 * AUTH PLAIN, RCPT TO refusing one address with 550, DATA with dot-unstuffing, QUIT),
 * plain or TLS from the first byte (smtps), and records what it got. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "adapters/mail/mail.h"
#include "common/buf.h"
#include "common/error.h"
#include "tests/unit/tls_fixture.h"

TLS_CERTS_GROUP

#define SESSIONS 8
#define MESSAGES 16
#define RCPTS 8
#define ADDR 300
#define REFUSED "refused@example.com"

struct session
{
    struct fixture *f;
    struct net_stream s;
    bool open; /* until its close callback */
    bool closing;
    bool data_mode; /* between 354 and the lone "." */
    bool auth_mode; /* after "334 ": the next line is the AUTH PLAIN response */
    bool held;      /* the reply to the end of the data is held back */
    int held_index;
    char line[4096];
    size_t line_len;
    char from[ADDR];
    char rcpt[RCPTS][ADDR];
    int n_rcpt;
    struct cd_buf data; /* the message, unstuffed */
};

/* A message the server took. */
struct received
{
    char from[ADDR];
    char rcpt[RCPTS][ADDR];
    int n_rcpt;
    char *data;
    size_t len;
};

struct outcome
{
    struct fixture *f;
    int index;
    int calls;
    int code;
    char detail[MAIL_DETAIL_MAX + 1];
};

struct fixture
{
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    uv_tcp_t listener;
    int port;
    struct net_tls *tls; /* the server's, for smtps */
    struct session sess[SESSIONS];
    int open, max_open, accepted;
    /* What the server does. */
    bool silent;      /* accepts and never says a word */
    bool hold;        /* holds the reply to the end of the data until release() */
    bool offer_auth;  /* EHLO offers AUTH PLAIN LOGIN */
    bool reject_data; /* answers the end of the data with 554 */
    bool greet_421;   /* greets with 421 and hangs up */
    bool deny_auth;   /* answers AUTH with 535 */
    bool mute_quit;   /* never answers QUIT */
    int quits;
    struct received got[MESSAGES];
    int n_got;
    char auth[128]; /* the AUTH PLAIN response, decoded */
    size_t auth_len;
    /* The sender. */
    struct mail_sender *sender;
    bool close_asked;
    bool sender_closed;
    int close_calls;
    struct outcome out[MESSAGES];
    int order[MESSAGES]; /* indexes in the order their done came */
    int n_done;
    bool in_send;
    /* What a done callback does. */
    int chain;             /* sends the next message, this many times */
    bool close_from_done;  /* closes the sender */
    const char *chain_msg; /* the message chained sends send */
};

#define F struct fixture *f = *state

/* Turns the loop until cond holds; fails the test once the guard (10 s) has fired. */
#define RUN_UNTIL(cond)                    \
    do {                                   \
        while (!(cond)) {                  \
            assert_false(f->timed_out);    \
            uv_run(&f->loop, UV_RUN_ONCE); \
        }                                  \
    } while (0)

/* ---- The server ----------------------------------------------------------------------- */

static const char ehlo_reply[] =
    "250-mail.test Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n";
static const char ehlo_auth_reply[] =
    "250-mail.test Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
    "250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n";

static void srv_write(struct session *ss, const char *text)
{
    assert_int_equal(net_stream_write(&ss->s, text, strlen(text), NULL, NULL), 0);
}

static void on_session_closed(struct net_stream *s)
{
    struct session *ss = s->data;

    cd_buf_close(&ss->data);
    ss->open = false;
    ss->f->open--;
}

static void session_close(struct session *ss)
{
    if (!ss->closing) {
        ss->closing = true;
        net_stream_close(&ss->s, on_session_closed);
    }
}

static void on_quit_written(struct net_stream *s, int status, void *arg)
{
    (void)status;
    (void)arg;
    session_close(s->data);
}

static int b64_value(char c)
{
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

/* Decodes base64 text[0..len) into out; returns the length. */
static size_t b64_decode(const char *text, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len && text[i] != '='; i++) {
        int v = b64_value(text[i]);
        assert_true(v >= 0);
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert_true(n < cap);
            out[n++] = (char)(acc >> bits & 0xff);
        }
    }
    return n;
}

static void take_auth(struct session *ss, const char *text, size_t len)
{
    struct fixture *f = ss->f;

    f->auth_len = b64_decode(text, len, f->auth, sizeof(f->auth));
    srv_write(ss, f->deny_auth ? "535 5.7.8 Error: authentication failed\r\n"
                               : "235 2.7.0 Authentication successful\r\n");
}

static void reply_queued(struct session *ss, int index)
{
    char reply[64];

    snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as Q%d\r\n", index);
    srv_write(ss, reply);
}

static void end_of_data(struct session *ss)
{
    struct fixture *f = ss->f;
    struct received *r = &f->got[f->n_got];

    assert_true(f->n_got < MESSAGES);
    assert_int_equal(ss->data.err, 0);
    memcpy(r->from, ss->from, sizeof(r->from));
    memcpy(r->rcpt, ss->rcpt, sizeof(r->rcpt));
    r->n_rcpt = ss->n_rcpt;
    r->len = ss->data.len;
    r->data = malloc(r->len + 1);
    assert_non_null(r->data);
    memcpy(r->data, ss->data.data, r->len);
    r->data[r->len] = '\0';
    ss->data_mode = false;
    if (f->reject_data) {
        srv_write(ss, "554 5.7.1 Message rejected: looks like a test\r\n");
    } else if (f->hold) {
        ss->held = true;
        ss->held_index = f->n_got;
    } else {
        reply_queued(ss, f->n_got);
    }
    f->n_got++;
}

/* Copies the address of "VERB:<address> ..." into out. */
static void take_address(const char *cmd, char out[ADDR])
{
    const char *lt = strchr(cmd, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;

    assert_non_null(gt);
    assert_true((size_t)(gt - lt - 1) < ADDR);
    memcpy(out, lt + 1, (size_t)(gt - lt - 1));
    out[gt - lt - 1] = '\0';
}

static void command(struct session *ss, const char *cmd)
{
    struct fixture *f = ss->f;

    if (strncasecmp(cmd, "EHLO ", 5) == 0) {
        srv_write(ss, f->offer_auth ? ehlo_auth_reply : ehlo_reply);
    } else if (strncasecmp(cmd, "HELO ", 5) == 0) {
        srv_write(ss, "250 mail.test\r\n");
    } else if (strncasecmp(cmd, "MAIL FROM:", 10) == 0) {
        take_address(cmd, ss->from);
        ss->n_rcpt = 0;
        srv_write(ss, "250 2.1.0 Ok\r\n");
    } else if (strncasecmp(cmd, "RCPT TO:", 8) == 0) {
        char addr[ADDR];
        take_address(cmd, addr);
        if (strcmp(addr, REFUSED) == 0) {
            srv_write(ss,
                      "550 5.1.1 <" REFUSED ">: Recipient address rejected: User unknown\r\n");
            return;
        }
        assert_true(ss->n_rcpt < RCPTS);
        memcpy(ss->rcpt[ss->n_rcpt++], addr, ADDR);
        srv_write(ss, "250 2.1.5 Ok\r\n");
    } else if (strcasecmp(cmd, "DATA") == 0) {
        if (ss->n_rcpt == 0) {
            srv_write(ss, "503 5.5.1 Error: need RCPT command\r\n");
            return;
        }
        ss->data_mode = true;
        cd_buf_reset(&ss->data);
        srv_write(ss, "354 End data with <CR><LF>.<CR><LF>\r\n");
    } else if (strncasecmp(cmd, "AUTH PLAIN", 10) == 0) {
        if (cmd[10] == ' ') {
            take_auth(ss, cmd + 11, strlen(cmd + 11));
        } else {
            ss->auth_mode = true;
            srv_write(ss, "334 \r\n");
        }
    } else if (strcasecmp(cmd, "RSET") == 0 || strcasecmp(cmd, "NOOP") == 0) {
        srv_write(ss, "250 2.0.0 Ok\r\n");
    } else if (strcasecmp(cmd, "QUIT") == 0) {
        f->quits++;
        if (f->mute_quit) {
            return;
        }
        assert_int_equal(
            net_stream_write(&ss->s, "221 2.0.0 Bye\r\n", 15, on_quit_written, NULL), 0);
    } else {
        srv_write(ss, "502 5.5.2 Error: command not recognized\r\n");
    }
}

static void line(struct session *ss, const char *text, size_t len)
{
    char cmd[sizeof(ss->line)];

    if (ss->data_mode) {
        if (len == 1 && text[0] == '.') {
            end_of_data(ss);
            return;
        }
        if (len > 0 && text[0] == '.') { /* RFC 5321 4.5.2: a stuffed dot goes */
            text++;
            len--;
        }
        cd_buf_put(&ss->data, text, len);
        cd_buf_put(&ss->data, "\r\n", 2);
        return;
    }
    if (ss->auth_mode) {
        ss->auth_mode = false;
        take_auth(ss, text, len);
        return;
    }
    memcpy(cmd, text, len);
    cmd[len] = '\0';
    command(ss, cmd);
}

static void on_srv_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct session *ss = s->data;

    if (nread < 0) {
        session_close(ss);
        return;
    }
    for (ssize_t i = 0; i < nread && !ss->closing; i++) {
        assert_true(ss->line_len < sizeof(ss->line));
        ss->line[ss->line_len++] = data[i];
        if (data[i] == '\n') {
            size_t len = ss->line_len - 1;
            assert_true(len > 0 && ss->line[len - 1] == '\r'); /* CRLF, always */
            line(ss, ss->line, len - 1);
            ss->line_len = 0;
        }
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    struct fixture *f = l->data;
    struct session *ss = NULL;

    assert_int_equal(status, 0);
    for (int i = 0; i < SESSIONS && ss == NULL; i++) {
        ss = f->sess[i].open ? NULL : &f->sess[i];
    }
    assert_non_null(ss);
    memset(ss, 0, sizeof(*ss));
    ss->f = f;
    ss->open = true;
    assert_int_equal(net_stream_init(&f->loop, &ss->s, f->tls), 0);
    ss->s.data = ss;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&ss->s.tcp), 0);
    assert_int_equal(net_stream_start(&ss->s, NULL, 0), 0);
    assert_int_equal(net_stream_read_start(&ss->s, on_srv_read), 0);
    f->accepted++;
    if (++f->open > f->max_open) {
        f->max_open = f->open;
    }
    if (f->greet_421) {
        static const char bye[] = "421 4.3.2 Service not available\r\n";
        assert_int_equal(net_stream_write(&ss->s, bye, strlen(bye), on_quit_written, NULL), 0);
    } else if (!f->silent) {
        srv_write(ss, "220 mail.test ESMTP ready\r\n");
    }
}

/* Answers every end of data held back. */
static void release(struct fixture *f)
{
    f->hold = false;
    for (int i = 0; i < SESSIONS; i++) {
        if (f->sess[i].open && f->sess[i].held) {
            f->sess[i].held = false;
            reply_queued(&f->sess[i], f->sess[i].held_index);
        }
    }
}

static int free_port(struct fixture *f)
{
    uv_tcp_t t;
    struct sockaddr_in addr;
    struct sockaddr_storage name;
    int len = sizeof(name);

    uv_tcp_init(&f->loop, &t);
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
    assert_int_equal(uv_tcp_bind(&t, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_tcp_getsockname(&t, (struct sockaddr *)&name, &len), 0);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return ntohs(((struct sockaddr_in *)&name)->sin_port);
}

static void listen_on(struct fixture *f)
{
    struct sockaddr_in addr;
    struct sockaddr_storage name;
    int len = sizeof(name);

    uv_tcp_init(&f->loop, &f->listener);
    f->listener.data = f;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
    assert_int_equal(uv_tcp_bind(&f->listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener, 16, on_connection), 0);
    assert_int_equal(uv_tcp_getsockname(&f->listener, (struct sockaddr *)&name, &len), 0);
    f->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
}

/* ---- The sender ----------------------------------------------------------------------- */

static const char *const one_to[] = {"ops@example.com"};

static const char simple[] =
    "From: reports@contactd.test\r\nTo: ops@example.com\r\nSubject: hi\r\n\r\nHello.\r\n";

static int send_msg(struct fixture *f,
                    int i,
                    const char *const *to,
                    size_t n_to,
                    const char *msg,
                    size_t len);

static void on_sender_closed(void *data)
{
    struct fixture *f = data;

    f->close_calls++;
    f->sender_closed = true;
}

static void close_sender(struct fixture *f)
{
    assert_false(f->close_asked);
    f->close_asked = true;
    mail_sender_close(f->sender, on_sender_closed, f);
}

static void on_done(void *data, int code, const char *detail)
{
    struct outcome *o = data;
    struct fixture *f = o->f;

    assert_false(f->in_send); /* never from inside mail_send() */
    assert_non_null(detail);
    o->calls++;
    o->code = code;
    snprintf(o->detail, sizeof(o->detail), "%s", detail);
    f->order[f->n_done++] = o->index;
    if (f->chain > 0) {
        f->chain--;
        assert_int_equal(
            send_msg(f, o->index + 1, one_to, 1, f->chain_msg, strlen(f->chain_msg)), 0);
    } else if (f->close_from_done) {
        f->close_from_done = false;
        close_sender(f);
    }
}

static int send_msg(struct fixture *f,
                    int i,
                    const char *const *to,
                    size_t n_to,
                    const char *msg,
                    size_t len)
{
    int rc;

    assert_true(i < MESSAGES);
    f->out[i].f = f;
    f->out[i].index = i;
    f->in_send = true;
    rc = mail_send(f->sender, to, n_to, msg, len, on_done, &f->out[i]);
    f->in_send = false;
    return rc;
}

#define SEND(i, msg) send_msg(f, (i), one_to, 1, (msg), strlen(msg))

/* A sender for the server: opt's zero fields filled in (url, from). */
static void start_sender(struct fixture *f, struct mail_options *opt)
{
    char url[64];

    if (opt->url == NULL) {
        snprintf(url, sizeof(url), "%s://127.0.0.1:%d", f->tls != NULL ? "smtps" : "smtp",
                 f->port);
        opt->url = url;
    }
    if (opt->from == NULL) {
        opt->from = "reports@contactd.test";
    }
    assert_int_equal(mail_sender_new(&f->loop, opt, &f->sender), 0);
}

#define START_SENDER(...)                         \
    do {                                          \
        struct mail_options opt_ = {__VA_ARGS__}; \
        start_sender(f, &opt_);                   \
    } while (0)

#define DONE(i) (f->out[i].calls > 0)

/* ---- Fixture -------------------------------------------------------------------------- */

static void guard_fired(uv_timer_t *t)
{
    struct fixture *f = t->data;
    f->timed_out = true;
}

static int setup(void **state)
{
    static struct fixture fx;
    struct fixture *f = &fx;

    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    uv_timer_start(&f->guard, guard_fired, 10000, 0);
    listen_on(f);
    *state = f;
    return 0;
}

/* Closes the sender (when the test has not), every server session and the listener, and
 * checks that nothing is left on the loop. */
static int teardown(void **state)
{
    F;

    if (f->sender != NULL && !f->close_asked) {
        close_sender(f);
    }
    RUN_UNTIL(f->sender == NULL || f->sender_closed);
    assert_true(f->close_calls <= 1);
    for (int i = 0; i < SESSIONS; i++) {
        if (f->sess[i].open) {
            session_close(&f->sess[i]);
        }
    }
    RUN_UNTIL(f->open == 0);
    uv_close((uv_handle_t *)&f->listener, NULL);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    for (int i = 0; i < f->n_got; i++) {
        free(f->got[i].data);
    }
    net_tls_free(f->tls);
    return 0;
}

/* ---- Tests ---------------------------------------------------------------------------- */

static void a_message_arrives_byte_for_byte(void **state)
{
    F;
    /* Lines that start with a dot, one that is only a dot, and no CRLF at the end. */
    static const char msg[] =
        "From: reports@contactd.test\r\nTo: ops@example.com\r\nSubject: dots\r\n\r\n"
        ".leading dot\r\n.\r\n..two\r\nmiddle . dot\r\n.\r\nlast line";

    START_SENDER(.timeout_ms = 5000);
    assert_int_equal(SEND(0, msg), 0);
    assert_false(DONE(0));
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].calls, 1);
    assert_int_equal(f->out[0].code, 0);
    assert_string_equal(f->out[0].detail, "250 2.0.0 Ok: queued as Q0");
    assert_int_equal(f->n_got, 1);
    assert_string_equal(f->got[0].from, "reports@contactd.test");
    assert_int_equal(f->got[0].n_rcpt, 1);
    assert_string_equal(f->got[0].rcpt[0], "ops@example.com");
    /* The server unstuffed what the sender stuffed: the message, and the CRLF it lacked. */
    assert_int_equal(f->got[0].len, sizeof(msg) - 1 + 2);
    assert_memory_equal(f->got[0].data, msg, sizeof(msg) - 1);
    assert_memory_equal(f->got[0].data + sizeof(msg) - 1, "\r\n", 2);
    /* The session says QUIT and goes. */
    RUN_UNTIL(mail_sender_in_flight(f->sender) == 0);
    RUN_UNTIL(f->open == 0);
    assert_int_equal(f->quits, 1);
}

static void no_answer_to_quit_only_ends_the_session(void **state)
{
    F;

    f->mute_quit = true;
    START_SENDER(.timeout_ms = 300);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, 0);
    RUN_UNTIL(mail_sender_in_flight(f->sender) == 0);
    assert_int_equal(f->quits, 1);
    assert_int_equal(f->out[0].calls, 1);
}

static void a_relay_that_turns_us_away_is_unavailable(void **state)
{
    F;

    f->greet_421 = true;
    START_SENDER(0);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_EUNAVAIL);
    assert_non_null(strstr(f->out[0].detail, "(reply 421)"));
}

static void refused_credentials_fail(void **state)
{
    F;

    f->offer_auth = true;
    f->deny_auth = true;
    START_SENDER(.user = "reports", .password = "wrong");
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_EIO);
    assert_non_null(strstr(f->out[0].detail, "(reply 535)"));
    assert_int_equal(f->n_got, 0);
}

static void a_large_message_goes_whole(void **state)
{
    F;
    size_t len = 16 + 100 * 30000; /* 3 MB */
    char *msg = malloc(len);

    assert_non_null(msg);
    memcpy(msg, "Subject: big\r\n\r\n", 16);
    for (size_t i = 16; i < len; i += 100) {
        memset(msg + i, i % 700 == 16 ? '.' : 'x', 98);
        memcpy(msg + i + 98, "\r\n", 2);
    }
    START_SENDER(.timeout_ms = 9000);
    assert_int_equal(send_msg(f, 0, one_to, 1, msg, len), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, 0);
    assert_int_equal(f->got[0].len, len);
    assert_memory_equal(f->got[0].data, msg, len);
    free(msg);
}

static void every_recipient_gets_its_rcpt(void **state)
{
    F;
    const char *const to[] = {"a@example.com", "b@example.org", "c@example.net"};

    START_SENDER(0);
    assert_int_equal(send_msg(f, 0, to, 3, simple, strlen(simple)), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, 0);
    assert_int_equal(f->got[0].n_rcpt, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(f->got[0].rcpt[i], to[i]);
    }
}

static void a_refused_recipient_fails_the_whole_message(void **state)
{
    F;
    const char *const to[] = {"a@example.com", REFUSED, "c@example.net"};

    START_SENDER(0);
    assert_int_equal(send_msg(f, 0, to, 3, simple, strlen(simple)), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_EINVAL);
    assert_string_equal(f->out[0].detail, "RCPT TO <" REFUSED ">: 550 5.1.1 <" REFUSED
                                          ">: Recipient address rejected: User unknown");
    assert_int_equal(f->n_got, 0);
    /* The session is dropped, not left to the server. */
    RUN_UNTIL(f->open == 0 && mail_sender_in_flight(f->sender) == 0);
}

static void a_refused_message_says_why(void **state)
{
    F;

    f->reject_data = true;
    START_SENDER(0);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_EIO);
    assert_string_equal(f->out[0].detail,
                        "end of data: 554 5.7.1 Message rejected: looks like a test");
}

static void a_silent_server_times_out(void **state)
{
    F;

    f->silent = true;
    START_SENDER(.timeout_ms = 200);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_ETIMEDOUT);
    assert_string_equal(f->out[0].detail, "timed out after 200 ms connecting to the relay");
    assert_int_equal(f->accepted, 1);
    RUN_UNTIL(f->open == 0 && mail_sender_in_flight(f->sender) == 0);
}

static void no_answer_to_the_data_times_out(void **state)
{
    F;

    f->hold = true;
    START_SENDER(.timeout_ms = 300);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_ETIMEDOUT);
    assert_string_equal(
        f->out[0].detail,
        "timed out after 300 ms sending the data or waiting for the reply to it");
    assert_int_equal(f->n_got, 1); /* taken, maybe: the caller retries with the same id */
}

static void nobody_listening_is_unavailable(void **state)
{
    F;
    char url[64];

    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", free_port(f));
    START_SENDER(.url = url);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_EUNAVAIL);
    assert_non_null(strstr(f->out[0].detail, "connect to the relay: "));
}

static void sessions_are_bounded_and_the_rest_wait_in_order(void **state)
{
    F;
    char msg[4][64];

    f->hold = true;
    START_SENDER(.max_in_flight = 2, .max_queued = 2);
    for (int i = 0; i < 4; i++) {
        snprintf(msg[i], sizeof(msg[i]), "Subject: %d\r\n\r\nnumber %d\r\n", i, i);
        assert_int_equal(SEND(i, msg[i]), 0);
    }
    assert_int_equal(mail_sender_in_flight(f->sender), 2);
    assert_int_equal(mail_sender_queued(f->sender), 2);
    assert_int_equal(SEND(4, simple), CD_ECAPACITY);
    RUN_UNTIL(f->n_got == 2);
    assert_int_equal(f->open, 2);
    release(f);
    RUN_UNTIL(f->n_done == 4);
    assert_int_equal(f->out[4].calls, 0);
    assert_int_equal(f->max_open, 2);
    /* The first two went first, in either order; then the two that waited. */
    for (int i = 0; i < 4; i++) {
        int n = f->got[i].data[9] - '0';
        assert_int_equal(f->out[i].calls, 1);
        assert_int_equal(f->out[i].code, 0);
        assert_true(i < 2 ? n < 2 : n >= 2);
    }
}

static void closing_cancels_every_message_once(void **state)
{
    F;

    f->hold = true;
    START_SENDER(.max_in_flight = 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(SEND(i, simple), 0);
    }
    RUN_UNTIL(f->n_got == 2);
    close_sender(f);
    /* Every done came from inside the close, and the close callback comes later. */
    assert_int_equal(f->n_done, 3);
    assert_int_equal(f->order[0], 2); /* the one waiting first */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->out[i].calls, 1);
        assert_int_equal(f->out[i].code, CD_ECANCELED);
    }
    assert_string_equal(f->out[2].detail, "cancelled before it started");
    assert_false(f->sender_closed);
    RUN_UNTIL(f->sender_closed);
    RUN_UNTIL(f->open == 0); /* the server saw its sessions go */
    assert_int_equal(f->n_done, 3);
}

static void closing_while_connecting_cancels(void **state)
{
    F;

    f->silent = true;
    START_SENDER(0);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(f->accepted == 1);
    close_sender(f);
    assert_int_equal(f->out[0].code, CD_ECANCELED);
    assert_string_equal(f->out[0].detail, "cancelled connecting to the relay");
    assert_int_equal(SEND(1, simple), CD_ESTATE);
    RUN_UNTIL(f->sender_closed);
}

static void a_done_callback_may_send_and_close(void **state)
{
    F;

    START_SENDER(.max_in_flight = 1);
    f->chain = 2;
    f->chain_msg = simple;
    f->close_from_done = true;
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(f->sender_closed);
    assert_int_equal(f->n_done, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->out[i].calls, 1);
        assert_int_equal(f->out[i].code, 0);
    }
    assert_int_equal(f->n_got, 3);
}

static void auth_plain_sends_the_credentials(void **state)
{
    F;

    f->offer_auth = true;
    START_SENDER(.user = "reports", .password = "s3cret");
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, 0);
    assert_int_equal(f->auth_len, 15);
    assert_memory_equal(f->auth, "\0reports\0s3cret", 15);
}

static void starttls_required_and_not_offered_fails(void **state)
{
    F;

    START_SENDER(.starttls = true);
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, CD_EIO);
    assert_non_null(strstr(f->out[0].detail, "STARTTLS"));
    assert_int_equal(f->n_got, 0);
}

static void smtps_checks_the_relay_certificate(void **state)
{
    F;
    char ca[PATH_MAX], other[PATH_MAX];

    f->tls = test_tls(tls_certs.dir, "n1", true, false);
    assert_non_null(f->tls);
    START_SENDER(.ca_file = test_cert_path(ca, sizeof(ca), tls_certs.dir, "ca", "crt"));
    assert_int_equal(SEND(0, simple), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, 0);
    assert_int_equal(f->n_got, 1);
    assert_memory_equal(f->got[0].data, simple, strlen(simple));
    close_sender(f);
    RUN_UNTIL(f->sender_closed);

    /* A relay whose certificate another CA signed is refused before a byte of mail. */
    f->sender_closed = f->close_asked = false;
    f->close_calls = 0;
    START_SENDER(.ca_file = test_cert_path(other, sizeof(other), tls_certs.other, "ca", "crt"));
    assert_int_equal(SEND(1, simple), 0);
    RUN_UNTIL(DONE(1));
    assert_int_equal(f->out[1].code, CD_EIO);
    assert_non_null(strstr(f->out[1].detail, "certificate"));
    assert_int_equal(f->n_got, 1);
}

static void bad_arguments_are_refused_at_once(void **state)
{
    F;
    struct mail_sender *s = NULL;
    const char *const spaced[] = {"a b@example.com"};
    const char *const angled[] = {"<a@example.com>"};
    struct mail_options bad[] = {
        {.url = "http://127.0.0.1:25", .from = "a@example.com"},
        {.url = "smtp://user:pw@127.0.0.1:25", .from = "a@example.com"},
        {.url = "smtp://127.0.0.1:25", .from = "a b@example.com"},
        {.url = "smtp://127.0.0.1:25", .from = NULL},
        {.url = NULL, .from = "a@example.com"},
        {.url = "not a url", .from = "a@example.com"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mail_sender_new(&f->loop, &bad[i], &s), CD_EINVAL);
        assert_null(s);
    }
    START_SENDER(0);
    assert_int_equal(send_msg(f, 0, one_to, 0, simple, strlen(simple)), CD_EINVAL);
    assert_int_equal(send_msg(f, 0, spaced, 1, simple, strlen(simple)), CD_EINVAL);
    assert_int_equal(send_msg(f, 0, angled, 1, simple, strlen(simple)), CD_EINVAL);
    assert_int_equal(SEND(0, ""), CD_EINVAL);
    assert_int_equal(SEND(0, "Subject: x\n\nbare LF\n"), CD_EINVAL);
    assert_int_equal(SEND(0, "Subject: x\r\n\r\nbare CR\r"), CD_EINVAL);
    assert_int_equal(send_msg(f, 0, one_to, 1, "a\0b\r\n", 5), CD_EINVAL);
    assert_int_equal(mail_sender_in_flight(f->sender), 0);
    RUN_UNTIL(f->accepted == 0);
    assert_int_equal(f->out[0].calls, 0);
}

static void a_built_message_goes_through(void **state)
{
    F;
    struct cd_buf b;
    const char *const to[] = {"ops@example.com", "boss@example.com"};
    struct mail_headers h = {
        .from = "reports@contactd.test",
        .from_name = "contactd reports",
        .to = to,
        .n_to = 2,
        .subject = "Daily report — queues",
        .date_ms = 1767225600000,
        .message_id = "delivery-7-1@contactd.test",
    };
    static const char csv[] = "queue,offered\n.dot,3\n";
    struct mail_attachment att = {"report.csv", "text/csv; charset=utf-8", csv,
                                  sizeof(csv) - 1};

    cd_buf_init(&b);
    assert_int_equal(
        mail_message(&b, &h, "text/plain; charset=utf-8", "See attached.\n", 14, &att), 0);
    START_SENDER(0);
    assert_int_equal(send_msg(f, 0, to, 2, (const char *)b.data, b.len), 0);
    RUN_UNTIL(DONE(0));
    assert_int_equal(f->out[0].code, 0);
    assert_int_equal(f->got[0].len, b.len);
    assert_memory_equal(f->got[0].data, b.data, b.len);
    cd_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(a_message_arrives_byte_for_byte),
        T(no_answer_to_quit_only_ends_the_session),
        T(a_relay_that_turns_us_away_is_unavailable),
        T(refused_credentials_fail),
        T(a_large_message_goes_whole),
        T(every_recipient_gets_its_rcpt),
        T(a_refused_recipient_fails_the_whole_message),
        T(a_refused_message_says_why),
        T(a_silent_server_times_out),
        T(no_answer_to_the_data_times_out),
        T(nobody_listening_is_unavailable),
        T(sessions_are_bounded_and_the_rest_wait_in_order),
        T(closing_cancels_every_message_once),
        T(closing_while_connecting_cancels),
        T(a_done_callback_may_send_and_close),
        T(auth_plain_sends_the_credentials),
        T(starttls_required_and_not_offered_fails),
        T(smtps_checks_the_relay_certificate),
        T(bad_arguments_are_refused_at_once),
        T(a_built_message_goes_through),
#undef T
    };
    return cmocka_run_group_tests(tests, tls_certs_setup, tls_certs_teardown);
}
