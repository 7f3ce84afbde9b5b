/* net: streams over real sockets on 127.0.0.1, plain and TLS, with certificates made by
 * ops/make-certs: bytes arrive whole and in order however the reader pauses, members prove
 * who they are with their certificates, a certificate from another CA or for another name
 * is refused, a second connection resumes the first one's session, a handshake that never
 * comes times out, garbage fails as TLS, and every handle closes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "net/net.h"
#include "tests/unit/tls_fixture.h"

TLS_CERTS_GROUP

/* One end of a connection and what it received. */
struct end
{
    struct net_stream s;
    char *got;
    size_t len, cap;
    int status; /* the negative read that ended it; 0 while open */
    bool closed;
    bool pause_each; /* stop reading after every chunk; the test loop starts it again */
    int writes_done, write_status;
};

struct fixture
{
    uv_loop_t loop;
    uv_tcp_t listener;
    uint16_t port;
    struct net_tls *server_tls; /* accepted connections use it */
    unsigned handshake_ms;
    struct end *accepted;
    struct end client;
    uv_connect_t connect;
    uv_tcp_t raw;    /* a client that speaks no TLS */
    uv_timer_t tick; /* wakes the loop, so that RUN_UNTIL gives up on a stall */
    bool raw_open;
};

/* ---- Ends -------------------------------------------------------------------------- */

static void end_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct end *e = s->data;
    if (nread < 0) {
        e->status = (int)nread;
        return;
    }
    if (e->len + (size_t)nread > e->cap) {
        e->cap = (e->len + (size_t)nread) * 2;
        e->got = realloc(e->got, e->cap);
        assert_non_null(e->got);
    }
    memcpy(e->got + e->len, data, (size_t)nread);
    e->len += (size_t)nread;
    if (e->pause_each) {
        net_stream_read_stop(s);
    }
}

static void end_wrote(struct net_stream *s, int status, void *arg)
{
    struct end *e = s->data;
    (void)arg;
    e->writes_done++;
    if (status != 0) {
        e->write_status = status;
    }
}

static void end_closed(struct net_stream *s)
{
    struct end *e = s->data;
    e->closed = true;
}

static void accepted_closed(struct net_stream *s)
{
    struct end *e = s->data;
    free(e->got);
    free(e);
}

/* ---- Loop ---------------------------------------------------------------------------- */

/* Runs the loop until cond holds (or 10 s pass: the test then fails); restarts reading on
 * ends that pause after every chunk. */
#define RUN_UNTIL(f, cond)                              \
    do {                                                \
        uint64_t until_ = uv_hrtime() + 10000000000ull; \
        while (!(cond) && uv_hrtime() < until_) {       \
            uv_run(&(f)->loop, UV_RUN_ONCE);            \
            resume_paused(f);                           \
        }                                               \
        assert_true(cond);                              \
    } while (0)

static void resume_paused(struct fixture *f)
{
    struct end *ends[] = {f->accepted, &f->client};
    for (size_t i = 0; i < 2; i++) {
        struct end *e = ends[i];
        if (e != NULL && e->pause_each && !e->s.user_reading && !e->s.closing &&
            e->s.phase != NET_IDLE) {
            assert_int_equal(net_stream_read_start(&e->s, end_read), 0);
        }
    }
}

static void on_accept(uv_stream_t *listener, int status)
{
    struct fixture *f = listener->data;
    assert_int_equal(status, 0);
    struct end *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    assert_int_equal(net_stream_init(&f->loop, &e->s, f->server_tls), 0);
    e->s.data = e;
    assert_int_equal(uv_accept(listener, (uv_stream_t *)&e->s.tcp), 0);
    assert_int_equal(net_stream_start(&e->s, NULL, f->handshake_ms), 0);
    assert_int_equal(net_stream_read_start(&e->s, end_read), 0);
    f->accepted = e;
}

static void tick(uv_timer_t *t)
{
    (void)t;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);

    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_tcp_init(&f->loop, &f->listener);
    f->listener.data = f;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick, 50, 50);
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&f->listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener, 16, on_accept), 0);
    uv_tcp_getsockname(&f->listener, (struct sockaddr *)&bound, &len);
    f->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *state = f;
    return 0;
}

static void listener_closed(uv_handle_t *h)
{
    (void)h;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->accepted != NULL) {
        net_stream_close(&f->accepted->s, accepted_closed);
    }
    if (f->client.s.loop != NULL) {
        net_stream_close(&f->client.s, end_closed);
    }
    if (f->raw_open) {
        uv_close((uv_handle_t *)&f->raw, listener_closed);
    }
    uv_close((uv_handle_t *)&f->listener, listener_closed);
    uv_close((uv_handle_t *)&f->tick, listener_closed);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    net_tls_free(f->server_tls);
    free(f->client.got);
    free(f);
    return 0;
}

/* ---- Contexts ------------------------------------------------------------------------ */

static struct net_tls *tls_for(const char *dir, const char *name, bool server, bool mutual)
{
    struct net_tls *t = test_tls(dir, name, server, mutual);
    assert_non_null(t);
    return t;
}

static void client_connected(uv_connect_t *req, int status)
{
    struct fixture *f = req->data;
    assert_int_equal(status, 0);
    (void)f;
}

/* Connects the client end (tls NULL: plain), checking the server's name peer_name. */
static void client_connect(struct fixture *f, struct net_tls *tls, const char *peer_name)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", f->port, &addr);
    assert_int_equal(net_stream_init(&f->loop, &f->client.s, tls), 0);
    f->client.s.data = &f->client;
    f->connect.data = f;
    assert_int_equal(uv_tcp_connect(&f->connect, &f->client.s.tcp,
                                    (const struct sockaddr *)&addr, client_connected),
                     0);
    /* Writing, reading and the handshake may all be asked for before the connection is
     * made: start once it is. */
    RUN_UNTIL(f, f->accepted != NULL);
    assert_int_equal(net_stream_start(&f->client.s, peer_name, 0), 0);
    assert_int_equal(net_stream_read_start(&f->client.s, end_read), 0);
}

static void client_reset(struct fixture *f)
{
    net_stream_close(&f->client.s, end_closed);
    net_stream_close(&f->accepted->s, accepted_closed);
    f->accepted = NULL;
    RUN_UNTIL(f, f->client.closed);
    free(f->client.got);
    memset(&f->client, 0, sizeof(f->client));
}

static void write_text(struct end *e, const char *text)
{
    assert_int_equal(net_stream_write(&e->s, text, strlen(text), end_wrote, NULL), 0);
}

/* ---- Tests --------------------------------------------------------------------------- */

static void test_plain_roundtrip(void **state)
{
    struct fixture *f = *state;
    client_connect(f, NULL, NULL);
    write_text(&f->client, "hello");
    RUN_UNTIL(f, f->accepted->len == 5);
    assert_memory_equal(f->accepted->got, "hello", 5);
    assert_false(net_stream_secure(&f->accepted->s));
    assert_false(net_stream_peer_is(&f->accepted->s, "n2"));
    assert_int_equal(net_stream_shutdown(&f->client.s, NULL), 0);
    RUN_UNTIL(f, f->accepted->status == UV_EOF);
}

/* 1 MiB each way, the readers pausing after every chunk: what TLS holds while a reader is
 * paused must come out whole and in order once it reads again. */
static void test_tls_roundtrip_mutual(void **state)
{
    struct fixture *f = *state;
    struct net_tls *client_tls = tls_for(tls_certs.dir, "n2", false, false);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, true);
    size_t big = 1u << 20;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++) {
        data[i] = (char)(i * 7 + i / 251);
    }

    client_connect(f, client_tls, "n1");
    /* Before the handshake: queued, counted as unsent. */
    assert_int_equal(net_stream_write(&f->client.s, data, big, end_wrote, NULL), 0);
    assert_true(net_stream_unsent(&f->client.s) >= big);
    f->accepted->pause_each = true;
    RUN_UNTIL(f, f->accepted->len == big);
    assert_memory_equal(f->accepted->got, data, big);
    assert_int_equal(f->client.writes_done, 1);
    assert_int_equal(f->client.write_status, 0);

    assert_true(net_stream_secure(&f->accepted->s));
    assert_true(net_stream_peer_is(&f->accepted->s, "n2"));
    assert_false(net_stream_peer_is(&f->accepted->s, "n1"));
    assert_true(net_stream_peer_is(&f->client.s, "n1"));

    f->client.pause_each = true;
    assert_int_equal(net_stream_write(&f->accepted->s, data, big, NULL, NULL), 0);
    assert_int_equal(net_stream_shutdown(&f->accepted->s, NULL), 0);
    RUN_UNTIL(f, f->client.status == UV_EOF);
    assert_int_equal(f->client.len, big);
    assert_memory_equal(f->client.got, data, big);
    free(data);
    client_reset(f);
    net_tls_free(client_tls);
}

static void test_client_without_certificate_refused(void **state)
{
    struct fixture *f = *state;
    struct net_tls *client_tls = tls_for(tls_certs.dir, NULL, false, false);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, true);

    client_connect(f, client_tls, "n1");
    write_text(&f->client, "let me in");
    RUN_UNTIL(f, f->accepted->status != 0 && f->client.status != 0);
    assert_int_equal(f->accepted->status, UV_EPROTO);
    assert_int_equal(f->accepted->len, 0);
    assert_non_null(strstr(net_stream_error(&f->accepted->s), "certificate"));
    client_reset(f);
    net_tls_free(client_tls);
}

static void test_wrong_name_refused(void **state)
{
    struct fixture *f = *state;
    struct net_tls *client_tls = tls_for(tls_certs.dir, "n2", false, false);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, true);

    client_connect(f, client_tls, "n3");
    write_text(&f->client, "secret");
    RUN_UNTIL(f, f->client.status != 0);
    assert_int_equal(f->client.status, UV_EPROTO);
    assert_non_null(strstr(net_stream_error(&f->client.s), "certificate verify failed"));
    RUN_UNTIL(f, f->accepted->status != 0);
    assert_int_equal(f->accepted->len, 0);
    client_reset(f);
    net_tls_free(client_tls);
}

static void test_other_ca_refused(void **state)
{
    struct fixture *f = *state;
    /* An n1 from another CA, presenting itself to a member of ours. */
    struct net_tls *client_tls = tls_for(tls_certs.other, "n1", false, false);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, true);

    client_connect(f, client_tls, "n1");
    RUN_UNTIL(f, f->client.status != 0);
    assert_int_equal(f->client.status, UV_EPROTO);
    assert_non_null(strstr(net_stream_error(&f->client.s), "certificate verify failed"));
    client_reset(f);
    net_tls_free(client_tls);
}

static void test_session_resumed(void **state)
{
    struct fixture *f = *state;
    struct net_tls *client_tls = tls_for(tls_certs.dir, "n2", false, false);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, true);

    for (int round = 0; round < 2; round++) {
        client_connect(f, client_tls, "n1");
        write_text(&f->client, "ping");
        RUN_UNTIL(f, f->accepted->len == 4);
        write_text(f->accepted, "pong");
        RUN_UNTIL(f, f->client.len == 4);
        assert_int_equal(net_stream_resumed(&f->client.s), round == 1);
        /* A resumed session still says who the client is. */
        assert_true(net_stream_peer_is(&f->accepted->s, "n2"));
        client_reset(f);
    }
    net_tls_free(client_tls);
}

static void raw_connected(uv_connect_t *req, int status)
{
    (void)req;
    assert_int_equal(status, 0);
}

static void raw_connect(struct fixture *f)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", f->port, &addr);
    uv_tcp_init(&f->loop, &f->raw);
    f->raw_open = true;
    assert_int_equal(
        uv_tcp_connect(&f->connect, &f->raw, (const struct sockaddr *)&addr, raw_connected), 0);
    RUN_UNTIL(f, f->accepted != NULL);
}

static void test_handshake_times_out(void **state)
{
    struct fixture *f = *state;
    f->server_tls = tls_for(tls_certs.dir, "n1", true, false);
    f->handshake_ms = 50;

    raw_connect(f);
    RUN_UNTIL(f, f->accepted->status != 0);
    assert_int_equal(f->accepted->status, UV_ETIMEDOUT);
    assert_non_null(strstr(net_stream_error(&f->accepted->s), "within 50 ms"));
}

static void test_plaintext_to_tls_fails(void **state)
{
    struct fixture *f = *state;
    static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    uv_buf_t buf = uv_buf_init((char *)get, sizeof(get) - 1);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, false);

    raw_connect(f);
    assert_true(uv_try_write((uv_stream_t *)&f->raw, &buf, 1) > 0);
    RUN_UNTIL(f, f->accepted->status != 0);
    assert_int_equal(f->accepted->status, UV_EPROTO);
    assert_int_equal(f->accepted->len, 0);
    assert_true(net_stream_error(&f->accepted->s)[0] != '\0');
}

static void test_close_cancels_queued(void **state)
{
    struct fixture *f = *state;
    struct net_tls *client_tls = tls_for(tls_certs.dir, "n2", false, false);
    f->server_tls = tls_for(tls_certs.dir, "n1", true, true);

    client_connect(f, client_tls, "n1");
    write_text(&f->client, "never sent");
    net_stream_close(&f->client.s, end_closed);
    /* Closed: nothing more is taken. */
    assert_int_equal(net_stream_write(&f->client.s, "x", 1, NULL, NULL), CD_EIO);
    RUN_UNTIL(f, f->client.closed);
    assert_int_equal(f->client.writes_done, 1);
    assert_int_equal(f->client.write_status, UV_ECANCELED);
    RUN_UNTIL(f, f->accepted->status != 0);
    assert_int_equal(f->accepted->len, 0);
    f->client.s.loop = NULL; /* closed already: teardown leaves it */
    net_tls_free(client_tls);
}

static void test_context_errors_and_reload(void **state)
{
    struct fixture *f = *state;
    char crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], err[256];
    struct net_tls *t = NULL;
    struct net_tls_options o = {
        .cert = "/nonexistent/n1.crt",
        .key = test_cert_path(key, sizeof(key), tls_certs.dir, "n1", "key"),
        .ca = test_cert_path(ca, sizeof(ca), tls_certs.dir, "ca", "crt"),
        .server = true,
    };
    assert_int_equal(net_tls_new(&o, &t, err, sizeof(err)), CD_EINVAL);
    assert_string_equal(
        err, "read TLS certificate '/nonexistent/n1.crt': No such file or directory");

    o.cert = test_cert_path(crt, sizeof(crt), tls_certs.dir, "n2", "crt");
    assert_int_equal(net_tls_new(&o, &t, err, sizeof(err)), CD_EINVAL);
    assert_non_null(strstr(err, "does not match the certificate"));

    o.cert = test_cert_path(crt, sizeof(crt), tls_certs.dir, "n1", "crt");
    assert_int_equal(net_tls_new(&o, &t, err, sizeof(err)), 0);
    f->server_tls = t;

    /* A key that no longer matches: the reload fails and the context serves as before. */
    char moved[PATH_MAX + 8];
    snprintf(moved, sizeof(moved), "%s.keep", crt);
    assert_int_equal(rename(crt, moved), 0);
    char n2crt[PATH_MAX];
    test_cert_path(n2crt, sizeof(n2crt), tls_certs.dir, "n2", "crt");
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", n2crt, crt);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(net_tls_reload(t, err, sizeof(err)), CD_EINVAL);
    assert_non_null(strstr(err, "does not match"));
    assert_int_equal(rename(moved, crt), 0);

    struct net_tls *client_tls = tls_for(tls_certs.dir, "n2", false, false);
    client_connect(f, client_tls, "n1");
    write_text(&f->client, "after");
    RUN_UNTIL(f, f->accepted->len == 5);
    client_reset(f);

    /* With the files right again, the reload takes. */
    assert_int_equal(net_tls_reload(t, err, sizeof(err)), 0);
    client_connect(f, client_tls, "n1");
    write_text(&f->client, "again");
    RUN_UNTIL(f, f->accepted->len == 5);
    client_reset(f);
    net_tls_free(client_tls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_roundtrip_mutual, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_without_certificate_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_name_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_resumed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_to_tls_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_errors_and_reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, tls_certs_setup, tls_certs_teardown);
}
