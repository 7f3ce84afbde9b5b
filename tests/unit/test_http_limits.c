/* adapters/http server: what keeps one client from stalling the loop or pinning memory —
 * deadlines, bounded output, connection caps — on real sockets on 127.0.0.1. */
#include "http_raw.h"

static char *padded_request(const char *head, size_t pad, const char *rest)
{
    size_t len = strlen(head) + pad + strlen(rest) + 1;
    char *req = malloc(len);

    assert_non_null(req);
    snprintf(req, len, "%s%*s%s", head, (int)pad, "x", rest);
    return req;
}

static void trickled_header_block_gets_408(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char *req = padded_request("GET /text HTTP/1.1\r\nX-Pad: ", 3000, "\r\n\r\n");

    /* Every byte comes well within the idle timeout, which alone would wait forever. */
    START(.header_timeout_ms = 100, .idle_timeout_ms = 5000, .max_header_bytes = 8192);
    raw_open(f, 0);
    SEND_BYTEWISE(0, req);
    free(req);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 408);
    assert_error_body(&r[0], "TIMEOUT");
    assert_int_equal(f->calls, 0);
    assert_int_equal(stats_of(f).timed_out, 1);
}

static void trickled_body_gets_408(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char *body = padded_request("", 3000, "");

    START(.body_timeout_ms = 100, .idle_timeout_ms = 5000);
    raw_open(f, 0);
    SEND(0, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n\r\n");
    SEND_BYTEWISE(0, body);
    free(body);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 408);
    assert_error_body(&r[0], "TIMEOUT");
    assert_int_equal(f->calls, 0);
}

static void deadlines_run_only_while_the_server_waits_for_the_client(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.header_timeout_ms = 20, .body_timeout_ms = 20, .idle_timeout_ms = 5000);
    raw_open(f, 0);
    /* A quiet keep-alive connection is idle, not late. */
    RUN_FOR(60);
    /* The second request waits behind the first well past its deadlines. */
    SEND(0,
         "POST /hold HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
         "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\ncd");
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(60);
    reply_held(f, 0, "first");
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[1].status, 200);
    assert_int_equal(stats_of(f).timed_out, 0);
    assert_false(f->raw[0].eof);
}

/* ---- Tests: unsent output ----------------------------------------------------------- */

/* N requests for BIG bytes each, then one that asks to close. */
static char *big_pipeline(int n)
{
    static const char one[] = GET("/big");
    static const char last[] = "GET /text HTTP/1.1\r\nConnection: close\r\n\r\n";
    char *all = malloc((size_t)n * (sizeof(one) - 1) + sizeof(last));

    assert_non_null(all);
    for (int i = 0; i < n; i++) {
        memcpy(all + (size_t)i * (sizeof(one) - 1), one, sizeof(one) - 1);
    }
    memcpy(all + (size_t)n * (sizeof(one) - 1), last, sizeof(last));
    return all;
}

static void client_that_does_not_read_pauses_parsing(void **state)
{
    F;
    enum { N = 64 }; /* 16 MiB of answers: more than every socket buffer between */
    char *all = big_pipeline(N);

    START(.output_high_water = 64 * 1024);
    raw_connect(f, 0, NULL, false);
    SEND(0, all);
    free(all);
    /* The kernel may still take some bytes after a pause (acks in flight, growing socket
     * buffers), letting a few more requests through; at most its buffers' worth (4 MiB
     * here, 16 answers) may pass, never all N. */
    RUN_UNTIL(stats_of(f).output_paused >= 1);
    RUN_FOR(30);
    assert_true(f->calls < N / 2);
    /* The client reads at last: every answer arrives, in full. */
    raw_read_start(&f->raw[0], true);
    RUN_UNTIL(f->raw[0].eof);
    assert_false(f->raw[0].reset);
    assert_int_equal(f->calls, N + 1);
    assert_true(f->raw[0].recv_total > (size_t)N * BIG);
    assert_int_equal(stats_of(f).answers[2], N + 1);
    assert_int_equal(stats_of(f).output_closed, 0);
}

static void output_that_never_drains_closes(void **state)
{
    F;
    char *all = big_pipeline(64);

    START(.output_high_water = 64 * 1024, .output_timeout_ms = 50);
    raw_connect(f, 0, NULL, false);
    SEND(0, all);
    free(all);
    RUN_UNTIL(stats_of(f).output_paused >= 1);
    RUN_UNTIL(http_server_connections(f->server) == 0);
    assert_int_equal(stats_of(f).output_closed, 1);
    assert_true(f->calls < 64);
}

static void answer_past_the_output_limit_closes(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.output_limit = 100 * 1000);
    raw_open(f, 0);
    SEND(0, GET("/big?n=50000"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].body_len, 50000);
    SEND(0, GET("/big?n=100001"));
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(f->calls, 2);
    assert_int_equal(stats_of(f).output_closed, 1);
}

/* ---- Tests: connection caps --------------------------------------------------------- */

static void at_the_cap_the_least_recently_active_idle_connection_makes_room(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.max_connections = 2);
    raw_open(f, 0);
    raw_open(f, 1);
    RUN_UNTIL(http_server_connections(f->server) == 2);
    /* The older connection is the more recently active one. */
    SEND(0, GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    raw_open(f, 2);
    RUN_UNTIL(f->raw[1].eof);
    assert_false(f->raw[0].eof);
    SEND(2, GET("/text"));
    RUN_UNTIL(RESPONSES(2, r, 0) == 1);
    SEND(0, GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(http_server_connections(f->server), 2);
    assert_int_equal(stats_of(f).evicted, 1);
    assert_int_equal(stats_of(f).refused_busy, 0);
}

static void at_the_cap_with_every_connection_busy_the_newcomer_gets_503(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(.max_connections = 2);
    raw_open(f, 0);
    SEND(0, GET("/hold"));
    RUN_UNTIL(f->n_held == 1);
    /* The "100 Continue" shows that the server is in the middle of this one. */
    raw_open(f, 1);
    SEND(1, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    RUN_UNTIL(find(f->raw[1].recv, f->raw[1].recv_len, "HTTP/1.1 100 Continue\r\n\r\n"));
    raw_open(f, 2);
    SEND(2, GET("/text"));
    RUN_UNTIL(f->raw[2].eof);
    assert_int_equal(RESPONSES(2, r, 0), 1);
    assert_int_equal(r[0].status, 503);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "close");
    assert_error_body(&r[0], "UNAVAILABLE");
    assert_int_equal(f->calls, 1);
    assert_int_equal(stats_of(f).refused_busy, 1);
    assert_int_equal(stats_of(f).evicted, 0);
    /* Both busy connections are untouched. */
    SEND(1, "ok");
    RUN_UNTIL(RESPONSES(1, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
    reply_held(f, 0, "first");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_memory_equal(r[0].body, "first", 5);
}

static void an_address_over_its_cap_gets_503(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.max_per_address = 2);
    raw_connect(f, 0, "127.0.0.1", true);
    raw_connect(f, 1, "127.0.0.1", true);
    RUN_UNTIL(http_server_connections(f->server) == 2);
    raw_connect(f, 2, "127.0.0.1", true);
    RUN_UNTIL(f->raw[2].eof);
    assert_int_equal(RESPONSES(2, r, 0), 1);
    assert_int_equal(r[0].status, 503);
    assert_error_body(&r[0], "UNAVAILABLE");
    assert_int_equal(stats_of(f).refused_address, 1);
    /* Another address is not held back, and a freed place is taken again. */
    raw_connect(f, 3, "127.0.0.2", true);
    SEND(3, GET("/text"));
    RUN_UNTIL(RESPONSES(3, r, 0) == 1);
    raw_close(&f->raw[0]);
    RUN_UNTIL(http_server_connections(f->server) == 2);
    raw_close(&f->raw[2]);
    raw_connect(f, 2, "127.0.0.1", true);
    SEND(2, GET("/text"));
    RUN_UNTIL(RESPONSES(2, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(stats_of(f).refused_address, 1);
    assert_int_equal(stats_of(f).evicted, 0);
}

/* n bare connections from 127.0.0.1 that send nothing. */
struct crowd
{
    struct fixture *f;
    uv_tcp_t *tcp;
    uv_connect_t *connect;
    int n;
    int connected;
    int closed;
};

static void crowd_connected(uv_connect_t *req, int status)
{
    struct crowd *c = req->data;
    assert_int_equal(status, 0);
    c->connected++;
}

static void crowd_open(struct fixture *f, struct crowd *c, int n)
{
    struct sockaddr_in addr;

    c->f = f;
    c->n = n;
    c->connected = c->closed = 0;
    c->tcp = calloc((size_t)n, sizeof(*c->tcp));
    c->connect = calloc((size_t)n, sizeof(*c->connect));
    assert_true(c->tcp != NULL && c->connect != NULL);
    uv_ip4_addr("127.0.0.1", http_server_port(f->server), &addr);
    for (int i = 0; i < n; i++) {
        uv_tcp_init(&f->loop, &c->tcp[i]);
        c->tcp[i].data = c->connect[i].data = c;
        assert_int_equal(uv_tcp_connect(&c->connect[i], &c->tcp[i],
                                        (const struct sockaddr *)&addr, crowd_connected),
                         0);
    }
    RUN_UNTIL(c->connected == n);
}

static void crowd_closed(uv_handle_t *h)
{
    struct crowd *c = h->data;
    c->closed++;
}

static void crowd_close(struct fixture *f, struct crowd *c)
{
    for (int i = 0; i < c->n; i++) {
        uv_close((uv_handle_t *)&c->tcp[i], crowd_closed);
    }
    RUN_UNTIL(c->closed == c->n);
    free(c->tcp);
    free(c->connect);
}

static void address_cap_defaults_to_256(void **state)
{
    F;
    struct crowd c;

    START(0);
    crowd_open(f, &c, 257);
    RUN_UNTIL(stats_of(f).refused_address == 1);
    RUN_UNTIL(http_server_connections(f->server) == 256);
    crowd_close(f, &c);
}

static void address_cap_can_be_turned_off(void **state)
{
    F;
    struct crowd c;

    START(.max_per_address = HTTP_NO_LIMIT);
    crowd_open(f, &c, 257);
    RUN_UNTIL(http_server_connections(f->server) == 257);
    assert_int_equal(stats_of(f).refused_address, 0);
    crowd_close(f, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(trickled_header_block_gets_408, setup, teardown),
        cmocka_unit_test_setup_teardown(trickled_body_gets_408, setup, teardown),
        cmocka_unit_test_setup_teardown(
            deadlines_run_only_while_the_server_waits_for_the_client, setup, teardown),
        cmocka_unit_test_setup_teardown(client_that_does_not_read_pauses_parsing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(output_that_never_drains_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(answer_past_the_output_limit_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(
            at_the_cap_the_least_recently_active_idle_connection_makes_room, setup, teardown),
        cmocka_unit_test_setup_teardown(
            at_the_cap_with_every_connection_busy_the_newcomer_gets_503, setup, teardown),
        cmocka_unit_test_setup_teardown(an_address_over_its_cap_gets_503, setup, teardown),
        cmocka_unit_test_setup_teardown(address_cap_defaults_to_256, setup, teardown),
        cmocka_unit_test_setup_teardown(address_cap_can_be_turned_off, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
