/* adapters/http client: against the module's own server (keep-alive, pool, timeouts) and
 * against a hand-written peer that sends exactly the bytes a test needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/http/http.h"
#include "common/error.h"

#define HELD_MAX 8
#define RESULTS_MAX 16
#define PEER_CONNS 4

struct fixture;

/* A canned peer: answers every request (the end of its header block) with `response`,
 * then closes if asked to; with `response` NULL it closes without answering. */
struct peer_conn
{
    struct peer *peer;
    uv_tcp_t tcp;
    char recv[4096];
    size_t len;
    bool open;
};

struct peer
{
    uv_tcp_t listener;
    uint16_t port;
    const char *response;
    size_t response_len;
    bool close_after;
    int accepted;
    int writing; /* writes not yet completed or cancelled */
    struct peer_conn conns[PEER_CONNS];
    bool open;
};

struct result
{
    int status;
    char body[256];
    size_t body_len;
    char content_type[64];
};

struct slot
{
    struct fixture *f;
    int id;
};

struct fixture
{
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    bool timer_fired;
    struct http_server *server;
    bool server_closed;
    struct http_client *client;
    struct peer peer;
    struct http_exchange *held[HELD_MAX];
    int n_held;
    int calls;
    unsigned max_conns_seen;
    struct slot slots[RESULTS_MAX];
    struct result results[RESULTS_MAX];
    int order[RESULTS_MAX];
    int n_done;
    bool in_request; /* set around http_client_request() */
    bool close_in_callback;
};

#include "tests/unit/http_fixture.h"

#define START_SERVER(...)                              \
    do {                                               \
        struct http_server_options o_ = {__VA_ARGS__}; \
        start_server(f, &o_);                          \
    } while (0)
#define CLIENT(port, max) \
    assert_int_equal(http_client_new(&f->loop, "127.0.0.1", (port), (max), &f->client), 0)
#define REQUEST(id, method, target, timeout) \
    request(f, (id), (method), (target), NULL, NULL, (timeout))
#define RESULT(id) (&f->results[id])

/* ---- Server side -------------------------------------------------------------------- */

static void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct fixture *f = data;
    unsigned conns = http_server_connections(f->server);

    f->calls++;
    f->max_conns_seen = conns > f->max_conns_seen ? conns : f->max_conns_seen;
    if (strcmp(req->path, "/hold") == 0) {
        assert_true(f->n_held < HELD_MAX);
        f->held[f->n_held++] = x;
    } else if (strcmp(req->path, "/text") == 0) {
        http_reply(x, 200, "text/plain", "hello", 5);
    } else {
        const char *ct = http_header_get(req, "Content-Type");
        http_reply_json(
            x, 200,
            json_pack("{s:s,s:s%,s:s,s:i}", "method", req->method_name, "body", req->body,
                      req->body_len, "type", ct ? ct : "", "conns", (int)conns));
    }
}

static uint16_t port(struct fixture *f)
{
    return http_server_port(f->server);
}

static void reply_held(struct fixture *f, int i)
{
    http_reply(f->held[i], 200, "text/plain", "held", 4);
    f->held[i] = NULL;
}

/* ---- Client side -------------------------------------------------------------------- */

static void done(void *data, const struct http_response *res)
{
    struct slot *s = data;
    struct fixture *f = s->f;
    struct result *r = &f->results[s->id];

    assert_false(f->in_request);
    r->status = res->status;
    r->body_len = res->body_len;
    snprintf(r->body, sizeof(r->body), "%s", res->body);
    snprintf(r->content_type, sizeof(r->content_type), "%s", res->content_type);
    f->order[f->n_done++] = s->id;
    if (f->close_in_callback && f->client != NULL) {
        http_client_close(f->client);
        f->client = NULL;
    }
}

static void request(struct fixture *f,
                    int id,
                    const char *method,
                    const char *target,
                    const char *type,
                    const char *body,
                    unsigned timeout)
{
    f->slots[id] = (struct slot){f, id};
    f->results[id].status = 0;
    f->in_request = true;
    int rc = http_client_request(f->client, method, target, type, body, body ? strlen(body) : 0,
                                 timeout, done, &f->slots[id]);
    f->in_request = false;
    assert_int_equal(rc, 0);
}

/* ---- Peer --------------------------------------------------------------------------- */

static void peer_conn_closed(uv_handle_t *h)
{
    (void)h;
}

static void peer_write_done(uv_write_t *req, int status)
{
    struct peer_conn *pc = req->data;

    (void)status;
    free(req);
    pc->peer->writing--;
    if (pc->peer->close_after && pc->open) {
        pc->open = false;
        uv_close((uv_handle_t *)&pc->tcp, peer_conn_closed);
    }
}

static void peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct peer_conn *pc = h->data;
    (void)suggested;
    *buf = uv_buf_init(pc->recv + pc->len, (unsigned)(sizeof(pc->recv) - pc->len));
}

static void peer_answer(struct peer_conn *pc)
{
    struct peer *p = pc->peer;

    if (p->response == NULL) {
        pc->open = false;
        uv_close((uv_handle_t *)&pc->tcp, peer_conn_closed);
        return;
    }
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t buf = uv_buf_init((char *)p->response, (unsigned)p->response_len);
    w->data = pc;
    p->writing++;
    assert_int_equal(uv_write(w, (uv_stream_t *)&pc->tcp, &buf, 1, peer_write_done), 0);
}

static void peer_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct peer_conn *pc = s->data;
    (void)buf;

    if (nread < 0) {
        if (pc->open) {
            pc->open = false;
            uv_close((uv_handle_t *)&pc->tcp, peer_conn_closed);
        }
        return;
    }
    pc->len += (size_t)nread;
    for (size_t i = 0; i + 4 <= pc->len; i++) {
        if (memcmp(pc->recv + i, "\r\n\r\n", 4) == 0) {
            pc->len = 0;
            peer_answer(pc);
            return;
        }
    }
}

static void peer_connection(uv_stream_t *listener, int status)
{
    struct peer *p = listener->data;

    assert_int_equal(status, 0);
    assert_true(p->accepted < PEER_CONNS);
    struct peer_conn *pc = &p->conns[p->accepted++];
    pc->peer = p;
    uv_tcp_init(listener->loop, &pc->tcp);
    pc->tcp.data = pc;
    pc->open = true;
    assert_int_equal(uv_accept(listener, (uv_stream_t *)&pc->tcp), 0);
    assert_int_equal(uv_read_start((uv_stream_t *)&pc->tcp, peer_alloc, peer_read), 0);
}

static void peer_start(struct fixture *f, const char *response, size_t len, bool close_after)
{
    struct peer *p = &f->peer;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int n = sizeof(bound);

    memset(p, 0, sizeof(*p));
    p->response = response;
    p->response_len = len;
    p->close_after = close_after;
    uv_tcp_init(&f->loop, &p->listener);
    p->listener.data = p;
    p->open = true;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&p->listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&p->listener, 16, peer_connection), 0);
    uv_tcp_getsockname(&p->listener, (struct sockaddr *)&bound, &n);
    p->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

#define PEER(text, close_after) peer_start(f, (text), sizeof(text) - 1, (close_after))

static void peer_close(struct peer *p)
{
    if (!p->open) {
        return;
    }
    p->open = false;
    uv_close((uv_handle_t *)&p->listener, NULL);
    for (int i = 0; i < p->accepted; i++) {
        if (p->conns[i].open) {
            p->conns[i].open = false;
            uv_close((uv_handle_t *)&p->conns[i].tcp, peer_conn_closed);
        }
    }
}

/* ---- Setup -------------------------------------------------------------------------- */

static int setup(void **state)
{
    *state = fixture_open();
    return 0;
}

static int teardown(void **state)
{
    F;

    if (f->client != NULL) {
        http_client_close(f->client);
    }
    peer_close(&f->peer);
    fixture_close(f);
    return 0;
}

/* ---- Tests: with the module's server ----------------------------------------------- */

static void keep_alive_connection_is_reused(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 4);
    for (int i = 0; i < 3; i++) {
        REQUEST(i, "GET", "/text", 0);
        RUN_UNTIL(f->n_done == i + 1);
        assert_int_equal(RESULT(i)->status, 200);
        assert_string_equal(RESULT(i)->body, "hello");
        assert_string_equal(RESULT(i)->content_type, "text/plain");
    }
    assert_int_equal(f->max_conns_seen, 1);
    assert_int_equal(http_server_connections(f->server), 1);
}

static void post_body_and_head(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 1);
    request(f, 0, "POST", "/echo", "application/json", "{\"a\":1}", 0);
    RUN_UNTIL(f->n_done == 1);
    json_t *j = json_loads(RESULT(0)->body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"a\":1}");
    assert_string_equal(json_string_value(json_object_get(j, "type")), "application/json");
    json_decref(j);
    assert_string_equal(RESULT(0)->content_type, "application/json");
    /* The answer to HEAD announces a body it does not carry; the connection stays
     * usable. */
    REQUEST(1, "HEAD", "/text", 0);
    RUN_UNTIL(f->n_done == 2);
    assert_int_equal(RESULT(1)->status, 200);
    assert_int_equal(RESULT(1)->body_len, 0);
    REQUEST(2, "GET", "/text", 0);
    RUN_UNTIL(f->n_done == 3);
    assert_string_equal(RESULT(2)->body, "hello");
    assert_int_equal(f->max_conns_seen, 1);
}

static void requests_beyond_the_pool_wait_in_order(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 2);
    for (int i = 0; i < 5; i++) {
        REQUEST(i, "GET", "/hold", 0);
    }
    RUN_UNTIL(f->n_held == 2);
    RUN_FOR(20);
    assert_int_equal(f->n_held, 2);
    assert_int_equal(http_server_connections(f->server), 2);
    for (int i = 0; i < 5; i++) {
        RUN_UNTIL(f->n_held > i);
        reply_held(f, i);
        RUN_UNTIL(f->n_done == i + 1);
        assert_int_equal(f->order[i], i);
        assert_int_equal(RESULT(i)->status, 200);
        assert_string_equal(RESULT(i)->body, "held");
    }
    assert_int_equal(f->max_conns_seen, 2);
}

static void request_times_out_with_eio(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 1);
    REQUEST(0, "GET", "/hold", 30);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, CD_EIO);
    assert_string_equal(RESULT(0)->body, "");
    /* The timed-out connection is closed, and a new one serves the next request. (The
     * server keeps its end until it has answered: a close is a half-close to it.) */
    REQUEST(1, "GET", "/echo", 0);
    RUN_UNTIL(f->n_done == 2);
    assert_int_equal(RESULT(1)->status, 200);
    assert_int_equal(f->max_conns_seen, 2);
    reply_held(f, 0);
    RUN_UNTIL(http_server_connections(f->server) == 1);
}

static void waiting_request_times_out_in_the_queue(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 1);
    REQUEST(0, "GET", "/hold", 0);
    REQUEST(1, "GET", "/text", 30);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(f->order[0], 1);
    assert_int_equal(RESULT(1)->status, CD_EIO);
    assert_int_equal(f->calls, 1);
    reply_held(f, 0);
    RUN_UNTIL(f->n_done == 2);
    assert_int_equal(RESULT(0)->status, 200);
}

static void idle_connection_closed_by_server_is_replaced(void **state)
{
    F;

    START_SERVER(.idle_timeout_ms = 30);
    CLIENT(port(f), 1);
    REQUEST(0, "GET", "/text", 0);
    RUN_UNTIL(f->n_done == 1);
    RUN_UNTIL(http_server_connections(f->server) == 0);
    RUN_FOR(10);
    REQUEST(1, "GET", "/echo", 0);
    RUN_UNTIL(f->n_done == 2);
    assert_int_equal(RESULT(1)->status, 200);
    assert_int_equal(f->calls, 2);
}

static void refused_connection_reports_eio_later(void **state)
{
    F;

    START_SERVER(0);
    uint16_t closed_port = port(f);
    http_server_close(f->server, server_closed, f);
    RUN_UNTIL(f->server_closed);
    CLIENT(closed_port, 1);
    REQUEST(0, "GET", "/text", 0);
    REQUEST(1, "GET", "/text", 0);
    assert_int_equal(f->n_done, 0);
    RUN_UNTIL(f->n_done == 2);
    assert_int_equal(RESULT(0)->status, CD_EIO);
    assert_int_equal(RESULT(1)->status, CD_EIO);
}

static void close_fails_requests_in_flight_and_waiting(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 1);
    REQUEST(0, "GET", "/hold", 0);
    REQUEST(1, "GET", "/text", 0);
    RUN_UNTIL(f->n_held == 1);
    http_client_close(f->client);
    f->client = NULL;
    assert_int_equal(f->n_done, 2);
    assert_int_equal(f->order[0], 0);
    assert_int_equal(RESULT(0)->status, CD_EIO);
    assert_int_equal(RESULT(1)->status, CD_EIO);
    /* An orderly close looks like a half-close to the server: it answers, then lets go. */
    RUN_FOR(10);
    assert_int_equal(http_server_connections(f->server), 1);
    reply_held(f, 0);
    RUN_UNTIL(http_server_connections(f->server) == 0);
}

static void close_from_a_callback(void **state)
{
    F;

    START_SERVER(0);
    CLIENT(port(f), 1);
    f->close_in_callback = true;
    REQUEST(0, "GET", "/text", 0);
    REQUEST(1, "GET", "/text", 0);
    RUN_UNTIL(f->n_done == 2);
    assert_null(f->client);
    assert_int_equal(RESULT(0)->status, 200);
    assert_int_equal(RESULT(1)->status, CD_EIO);
}

static void bad_arguments_are_refused(void **state)
{
    F;
    struct http_client *c;

    assert_int_equal(http_client_new(&f->loop, "localhost", 80, 1, &c), CD_EINVAL);
    CLIENT(9, 1);
    assert_int_equal(http_client_request(f->client, "G T", "/", NULL, NULL, 0, 0, done, f),
                     CD_EINVAL);
    assert_int_equal(
        http_client_request(f->client, "GET", "/a\r\nX: y", NULL, NULL, 0, 0, done, f),
        CD_EINVAL);
    assert_int_equal(http_client_request(f->client, "POST", "/", "a\r\nb", NULL, 0, 0, done, f),
                     CD_EINVAL);
    assert_int_equal(f->n_done, 0);
}

static void ipv6_literal_host(void **state)
{
    F;
    char err[256];

    assert_int_equal(http_server_new(&f->loop, NULL, handler, f, &f->server), 0);
    if (http_server_listen(f->server, "::1", 0, err, sizeof(err)) != 0) {
        skip(); /* no IPv6 loopback here */
    }
    assert_int_equal(http_client_new(&f->loop, "::1", port(f), 1, &f->client), 0);
    REQUEST(0, "GET", "/text", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, 200);
}

/* ---- Tests: with a canned peer ------------------------------------------------------ */

static void chunked_response_is_decoded(void **state)
{
    F;

    PEER(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        false);
    CLIENT(f->peer.port, 1);
    REQUEST(0, "GET", "/", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, 200);
    assert_string_equal(RESULT(0)->body, "hello world");
    assert_string_equal(RESULT(0)->content_type, "text/plain");
    REQUEST(1, "GET", "/", 0);
    RUN_UNTIL(f->n_done == 2);
    assert_string_equal(RESULT(1)->body, "hello world");
    assert_int_equal(f->peer.accepted, 1);
}

static void body_until_close_is_delivered(void **state)
{
    F;

    PEER("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", true);
    CLIENT(f->peer.port, 1);
    REQUEST(0, "GET", "/", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, 200);
    assert_string_equal(RESULT(0)->body, "until the end");
    assert_string_equal(RESULT(0)->content_type, "");
}

static void interim_response_is_skipped(void **state)
{
    F;

    PEER("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
         false);
    CLIENT(f->peer.port, 1);
    request(f, 0, "POST", "/", "text/plain", "x", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, 202);
    assert_string_equal(RESULT(0)->body, "ok");
}

static void oversized_response_is_toobig(void **state)
{
    F;

    PEER("HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\n", false);
    CLIENT(f->peer.port, 1);
    REQUEST(0, "GET", "/", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, CD_ETOOBIG);
}

static void oversized_chunked_response_is_toobig(void **state)
{
    F;
    const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000001\r\n";
    size_t len = sizeof(head) - 1 + 0x1000001;
    char *response = malloc(len);

    assert_non_null(response);
    memcpy(response, head, sizeof(head) - 1);
    memset(response + sizeof(head) - 1, 'a', 0x1000001);
    peer_start(f, response, len, false);
    CLIENT(f->peer.port, 1);
    REQUEST(0, "GET", "/", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, CD_ETOOBIG);
    /* The peer's write must be over before its bytes go. */
    peer_close(&f->peer);
    RUN_UNTIL(f->peer.writing == 0);
    free(response);
}

static void malformed_response_is_parse_error(void **state)
{
    F;

    PEER("SPAM\r\n\r\n", false);
    CLIENT(f->peer.port, 1);
    REQUEST(0, "GET", "/", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, CD_EPARSE);
}

static void unanswered_request_is_not_retried(void **state)
{
    F;

    peer_start(f, NULL, 0, true);
    CLIENT(f->peer.port, 1);
    REQUEST(0, "POST", "/", 0);
    RUN_UNTIL(f->n_done == 1);
    assert_int_equal(RESULT(0)->status, CD_EIO);
    RUN_FOR(10);
    assert_int_equal(f->peer.accepted, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keep_alive_connection_is_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(post_body_and_head, setup, teardown),
        cmocka_unit_test_setup_teardown(requests_beyond_the_pool_wait_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(request_times_out_with_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(waiting_request_times_out_in_the_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(idle_connection_closed_by_server_is_replaced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refused_connection_reports_eio_later, setup, teardown),
        cmocka_unit_test_setup_teardown(close_fails_requests_in_flight_and_waiting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(close_from_a_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(ipv6_literal_host, setup, teardown),
        cmocka_unit_test_setup_teardown(chunked_response_is_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(body_until_close_is_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(interim_response_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_response_is_toobig, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_chunked_response_is_toobig, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_response_is_parse_error, setup, teardown),
        cmocka_unit_test_setup_teardown(unanswered_request_is_not_retried, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
