/* adapters/http: handing a connection over to another protocol (http_exchange_upgrade()).
 * A raw TCP client asks to switch to "echo"; the test takes the stream over and echoes
 * what it reads, so that every byte the client sends after the request is seen to reach
 * the new owner exactly once and in order. */
#include "http_raw.h"

/* The connection's new owner: echoes what it reads, and closes on request. */
struct owner
{
    struct http_upgraded *u;
    char got[256];
    size_t got_len;
    int rc;      /* what http_exchange_upgrade() returned */
    bool ended;  /* the read callback saw the end */
    bool closed; /* the stream's close callback fired */
    bool freed;
    bool hold; /* leave the exchange in f->held instead of upgrading at once */
};

static struct owner owner;

static const struct http_header echo_headers[] = {
    {"Upgrade", "echo"},
    {"Connection", "Upgrade"},
};

static void owner_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct owner *o = s->data;

    if (nread < 0) {
        o->ended = true;
        return;
    }
    assert_true(o->got_len + (size_t)nread <= sizeof(o->got));
    memcpy(o->got + o->got_len, data, (size_t)nread);
    o->got_len += (size_t)nread;
    assert_int_equal(net_stream_write(s, data, (size_t)nread, NULL, NULL), 0);
}

static void owner_closed(struct net_stream *s)
{
    struct owner *o = s->data;

    o->closed = true;
    http_upgraded_free(o->u);
    o->freed = true;
}

/* Takes the connection over: early bytes first, then whatever the stream reads. */
static void owner_take(struct owner *o, struct http_upgraded *u)
{
    o->u = u;
    u->stream->data = o;
    if (u->early_len > 0) {
        owner_read(u->stream, (ssize_t)u->early_len, u->early);
    }
    assert_int_equal(net_stream_read_start(u->stream, owner_read), 0);
}

static int upgrade(struct http_exchange *x, struct http_upgraded **u)
{
    return http_exchange_upgrade(x, echo_headers, 2, u);
}

static bool on_request(struct fixture *f,
                       struct http_exchange *x,
                       const struct http_request *req)
{
    struct http_upgraded *u = NULL;

    if (strcmp(req->path, "/up") != 0) {
        return false;
    }
    if (owner.hold) {
        f->held[f->n_held++] = x;
        return true;
    }
    owner.rc = upgrade(x, &u);
    if (owner.rc == 0) {
        owner_take(&owner, u);
    } else {
        http_reply_error(x, 409, "REFUSED", "upgrade refused: %s", cd_strerror(owner.rc));
    }
    return true;
}

static int up_setup(void **state)
{
    struct fixture *f = fixture_open();

    memset(&owner, 0, sizeof(owner));
    owner.rc = 1;
    f->on_request = on_request;
    *state = f;
    return 0;
}

static int up_teardown(void **state)
{
    if (owner.u != NULL && !owner.closed) {
        net_stream_close(owner.u->stream, owner_closed);
    }
    return teardown(state);
}

#define UPGRADE_REQUEST(path) \
    "GET " path " HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
#define SWITCHING \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"

static void upgrade_hands_over_the_stream_and_the_bytes_behind_the_request(void **state)
{
    F;
    struct http_server_stats st;

    START(0);
    raw_open(f, 0);
    SEND(0, UPGRADE_REQUEST("/up") "first");
    RUN_UNTIL(f->raw[0].recv_len >= strlen(SWITCHING) + 5);
    assert_int_equal(owner.rc, 0);
    assert_memory_equal(f->raw[0].recv, SWITCHING "first", strlen(SWITCHING) + 5);
    assert_string_equal(owner.u->address, "127.0.0.1");
    /* The server no longer holds or counts it. */
    assert_int_equal(http_server_connections(f->server), 0);
    http_server_stats(f->server, &st);
    assert_int_equal(st.answers[1], 1);
    SEND(0, "second");
    RUN_UNTIL(owner.got_len == 11);
    assert_memory_equal(owner.got, "firstsecond", 11);
    RUN_UNTIL(f->raw[0].recv_len == strlen(SWITCHING) + 11);
}

static void an_upgraded_connection_outlives_the_server(void **state)
{
    F;

    START(0);
    raw_open(f, 0);
    SEND(0, UPGRADE_REQUEST("/up"));
    RUN_UNTIL(owner.u != NULL);
    http_server_close(f->server, server_closed, f);
    RUN_UNTIL(f->server_closed);
    SEND(0, "still here");
    RUN_UNTIL(owner.got_len == 10);
    assert_false(f->raw[0].eof);
    /* The owner ends it; the client sees the end. */
    net_stream_close(owner.u->stream, owner_closed);
    RUN_UNTIL(owner.freed && f->raw[0].eof);
}

static void the_owner_sees_the_end_when_the_client_leaves(void **state)
{
    F;

    START(0);
    raw_open(f, 0);
    SEND(0, UPGRADE_REQUEST("/up"));
    RUN_UNTIL(owner.u != NULL);
    raw_close(&f->raw[0]);
    RUN_UNTIL(owner.ended);
    net_stream_close(owner.u->stream, owner_closed);
    RUN_UNTIL(owner.freed);
}

static void a_later_upgrade_takes_the_bytes_held_back(void **state)
{
    F;
    struct http_upgraded *u = NULL;

    owner.hold = true;
    START(0);
    raw_open(f, 0);
    SEND(0, UPGRADE_REQUEST("/up") "early");
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(20);
    SEND(0, "-later");
    RUN_FOR(20);
    assert_int_equal(upgrade(f->held[0], &u), 0);
    f->held[0] = NULL;
    owner_take(&owner, u);
    assert_memory_equal(owner.got, "early-later", 11);
    SEND(0, "!");
    RUN_UNTIL(owner.got_len == 12);
    RUN_UNTIL(f->raw[0].recv_len == strlen(SWITCHING) + 12);
    assert_memory_equal(f->raw[0].recv, SWITCHING "early-later!", strlen(SWITCHING) + 12);
}

static void a_request_followed_by_another_is_not_handed_over(void **state)
{
    F;
    struct resp r[RESP_MAX];
    struct http_upgraded *u = NULL;

    owner.hold = true;
    START(0);
    raw_open(f, 0);
    /* No Upgrade header: what follows is a pipelined request, not the new protocol. */
    SEND(0, "GET /up HTTP/1.1\r\nHost: t\r\n\r\n" GET("/text"));
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(20);
    assert_int_equal(upgrade(f->held[0], &u), CD_ESTATE);
    assert_null(u);
    /* Nothing was written, and the exchange still waits for its answer. */
    RUN_FOR(20);
    assert_int_equal(f->raw[0].recv_len, 0);
    reply_held(f, 0, "plain");
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(r[0].status, 200);
    assert_memory_equal(r[0].body, "plain", 5);
    assert_int_equal(r[1].status, 200);
    assert_memory_equal(r[1].body, "hello", 5);
}

static void malformed_headers_are_refused_with_nothing_written(void **state)
{
    F;
    struct resp r[RESP_MAX];
    struct http_upgraded *u = NULL;
    static const struct http_header forged[] = {{"Upgrade", "echo\r\nX-Forged: 1"}};
    static const struct http_header bad_name[] = {{"Up grade", "echo"}};

    owner.hold = true;
    START(0);
    raw_open(f, 0);
    SEND(0, UPGRADE_REQUEST("/up"));
    RUN_UNTIL(f->n_held == 1);
    assert_int_equal(http_exchange_upgrade(f->held[0], forged, 1, &u), CD_EINVAL);
    assert_int_equal(http_exchange_upgrade(f->held[0], bad_name, 1, &u), CD_EINVAL);
    assert_int_equal(http_exchange_upgrade(f->held[0], echo_headers, HTTP_HEADERS_MAX + 1, &u),
                     CD_EINVAL);
    assert_null(u);
    RUN_FOR(20);
    assert_int_equal(f->raw[0].recv_len, 0);
    http_reply_error(f->held[0], 400, "BAD_REQUEST", "no");
    f->held[0] = NULL;
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].status, 400);
    /* An upgrade request answered otherwise ends its connection. */
    RUN_UNTIL(f->raw[0].eof);
}

static void a_detached_exchange_is_not_handed_over(void **state)
{
    F;
    struct http_upgraded *u = NULL;

    owner.hold = true;
    START(0);
    raw_open(f, 0);
    SEND(0, UPGRADE_REQUEST("/up"));
    RUN_UNTIL(f->n_held == 1);
    raw_reset(&f->raw[0]);
    RUN_UNTIL(http_server_connections(f->server) == 0);
    assert_int_equal(upgrade(f->held[0], &u), CD_ESTATE);
    assert_null(u);
}

static void the_request_says_whether_it_asks_to_switch(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, "GET /up HTTP/1.0\r\nHost: t\r\n\r\n");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    /* Without Upgrade and Connection: upgrade, and with nothing after it, the request may
     * still be handed over (the caller judges the rest of the handshake). */
    assert_int_equal(owner.rc, 0);
    RUN_UNTIL(owner.u != NULL);
    SEND(0, "x");
    RUN_UNTIL(owner.got_len == 1);
}

static bool version_probe(struct fixture *f,
                          struct http_exchange *x,
                          const struct http_request *req)
{
    (void)f;
    http_reply_json(x, 200,
                    json_pack("{s:i,s:i,s:b}", "major", (int)req->version_major, "minor",
                              (int)req->version_minor, "upgrade", req->upgrade));
    return true;
}

static void version_and_upgrade_are_parsed(void **state)
{
    F;
    struct resp r[RESP_MAX];

    f->on_request = version_probe;
    START(0);
    raw_open(f, 0);
    SEND(0, "GET /a HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    json_t *j = resp_json(&r[0]);
    assert_int_equal(json_integer_value(json_object_get(j, "major")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "minor")), 0);
    assert_false(json_is_true(json_object_get(j, "upgrade")));
    json_decref(j);
    raw_open(f, 1);
    SEND(1, UPGRADE_REQUEST("/b"));
    RUN_UNTIL(RESPONSES(1, r, 0) == 1);
    j = resp_json(&r[0]);
    assert_int_equal(json_integer_value(json_object_get(j, "minor")), 1);
    assert_true(json_is_true(json_object_get(j, "upgrade")));
    json_decref(j);
    RUN_UNTIL(f->raw[1].eof);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, up_setup, up_teardown)
        T(upgrade_hands_over_the_stream_and_the_bytes_behind_the_request),
        T(an_upgraded_connection_outlives_the_server),
        T(the_owner_sees_the_end_when_the_client_leaves),
        T(a_later_upgrade_takes_the_bytes_held_back),
        T(a_request_followed_by_another_is_not_handed_over),
        T(malformed_headers_are_refused_with_nothing_written),
        T(a_detached_exchange_is_not_handed_over),
        T(the_request_says_whether_it_asks_to_switch),
        T(version_and_upgrade_are_parsed),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
