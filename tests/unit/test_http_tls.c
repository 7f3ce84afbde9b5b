/* adapters/http over TLS: the server and the client on net/'s TLS streams, with
 * certificates made by ops/make-tls_certs. Keep-alive requests are answered on one connection,
 * the handler learns which member the client's certificate names, a connection refused at
 * admission still gets its 503 through TLS, a client that speaks plain HTTP to the TLS port
 * is counted and closed, and a client that expects another name fails without sending. */
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
#include "tests/unit/tls_fixture.h"

#define HELD_MAX 2

struct fixture
{
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    bool timer_fired;
    struct http_server *server;
    bool server_closed;
    struct http_exchange *held[HELD_MAX];
    int n_held;
    struct net_tls *server_tls, *client_tls;
    struct http_client *client;
    int done;
    int status[4];
    char body[4][128];
};

#include "tests/unit/http_fixture.h"

TLS_CERTS_GROUP

/* Answers who the client's certificate says it is. */
static void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct fixture *f = data;
    (void)req;
    if (strcmp(req->path, "/hold") == 0) {
        f->held[f->n_held++] = x;
        return;
    }
    const char *who = http_exchange_peer_is(x, "n2")   ? "n2"
                      : http_exchange_peer_is(x, "n3") ? "n3"
                                                       : "nobody";
    http_reply(x, 200, "text/plain", who, strlen(who));
}

static struct net_tls *tls_for(const char *name, bool server, bool mutual)
{
    struct net_tls *t = test_tls(tls_certs.dir, name, server, mutual);
    assert_non_null(t);
    return t;
}

static struct fixture *current;

static void answered(void *data, const struct http_response *res)
{
    int *slot = data;
    struct fixture *f = current;
    f->status[*slot] = res->status;
    if (res->status > 0) {
        snprintf(f->body[*slot], sizeof(f->body[*slot]), "%.*s", (int)res->body_len, res->body);
    }
    f->done++;
}

static void request(struct fixture *f, int id)
{
    static int ids[4] = {0, 1, 2, 3};
    assert_int_equal(
        http_client_request(f->client, "GET", "/who", NULL, NULL, 0, 5000, answered, &ids[id]),
        0);
}

static void client_to(struct fixture *f, const char *peer_name)
{
    assert_int_equal(
        http_client_new(&f->loop, "127.0.0.1", http_server_port(f->server), 1, &f->client), 0);
    assert_int_equal(http_client_set_tls(f->client, f->client_tls, peer_name), 0);
}

static int setup(void **state)
{
    struct fixture *f = fixture_open();
    (void)timer_flag; /* the fixture's RUN_FOR is not needed here */
    current = f;
    f->server_tls = tls_for("n1", true, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    F;
    if (f->client != NULL) {
        http_client_close(f->client);
    }
    fixture_close(f);
    net_tls_free(f->server_tls);
    net_tls_free(f->client_tls);
    return 0;
}

static void test_keep_alive_with_client_certificate(void **state)
{
    F;
    struct http_server_options o = {.tls = f->server_tls};
    net_tls_free(f->server_tls);
    f->server_tls = tls_for("n1", true, true);
    o.tls = f->server_tls;
    start_server(f, &o);
    f->client_tls = tls_for("n2", false, false);
    client_to(f, "n1");

    request(f, 0);
    RUN_UNTIL(f->done == 1);
    request(f, 1);
    RUN_UNTIL(f->done == 2);
    assert_int_equal(f->status[0], 200);
    assert_string_equal(f->body[0], "n2");
    assert_string_equal(f->body[1], "n2");
    /* One connection carried both. */
    assert_int_equal(http_server_connections(f->server), 1);
}

static void test_refused_connection_gets_503_through_tls(void **state)
{
    F;
    struct http_server_options o = {.tls = f->server_tls, .max_connections = 1};
    start_server(f, &o);
    f->client_tls = tls_for(NULL, false, false);
    assert_int_equal(
        http_client_new(&f->loop, "127.0.0.1", http_server_port(f->server), 2, &f->client), 0);
    assert_int_equal(http_client_set_tls(f->client, f->client_tls, "127.0.0.1"), 0);

    static int zero = 0, one = 1;
    assert_int_equal(
        http_client_request(f->client, "GET", "/hold", NULL, NULL, 0, 5000, answered, &zero),
        0);
    RUN_UNTIL(f->n_held == 1);
    assert_int_equal(
        http_client_request(f->client, "GET", "/who", NULL, NULL, 0, 5000, answered, &one), 0);
    RUN_UNTIL(f->done == 1);
    assert_int_equal(f->status[1], 503);
    assert_non_null(strstr(f->body[1], "UNAVAILABLE"));
    http_reply(f->held[0], 200, NULL, NULL, 0);
    f->held[0] = NULL;
    RUN_UNTIL(f->done == 2);
    assert_int_equal(f->status[0], 200);
}

static void test_plain_client_counted_and_closed(void **state)
{
    F;
    struct http_server_options o = {.tls = f->server_tls};
    start_server(f, &o);
    assert_int_equal(
        http_client_new(&f->loop, "127.0.0.1", http_server_port(f->server), 1, &f->client), 0);

    request(f, 0);
    RUN_UNTIL(f->done == 1);
    assert_int_equal(f->status[0], CD_EIO);
    struct http_server_stats st;
    RUN_UNTIL((http_server_stats(f->server, &st), st.tls_failed == 1));
    assert_int_equal(st.answers[2], 0);
}

static void test_client_expecting_another_name_fails(void **state)
{
    F;
    struct http_server_options o = {.tls = f->server_tls};
    start_server(f, &o);
    f->client_tls = tls_for(NULL, false, false);
    client_to(f, "n3");

    request(f, 0);
    RUN_UNTIL(f->done == 1);
    assert_int_equal(f->status[0], CD_EIO);
    struct http_server_stats st;
    http_server_stats(f->server, &st);
    assert_int_equal(st.answers[2], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keep_alive_with_client_certificate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refused_connection_gets_503_through_tls, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_client_counted_and_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_expecting_another_name_fails, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, tls_certs_setup, tls_certs_teardown);
}
