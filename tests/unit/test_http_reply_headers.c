/* adapters/http server: header lines a handler adds to its answer (http_reply_headers()),
 * checked as the client checks them, and the client's address (http_exchange_peer_address()),
 * over real sockets on 127.0.0.1. */
#include "http_raw.h"

#define ASK(path)                               \
    do {                                        \
        SEND(0, GET(path));                     \
        asked++;                                \
        RUN_UNTIL(RESPONSES(0, r, 0) == asked); \
    } while (0)

static void extra_lines_follow_the_server_s_own(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[128];
    int asked = 0;

    START(0);
    raw_open(f, 0);
    ASK("/headers?lines=0");
    assert_int_equal(r[0].status, 200);
    assert_string_equal(resp_header(&r[0], "Set-Cookie", v, sizeof(v)),
                        "s=1; Path=/; Secure; HttpOnly; SameSite=Strict");
    assert_string_equal(resp_header(&r[0], "Retry-After", v, sizeof(v)), "7");
    assert_string_equal(resp_header(&r[0], "Content-Type", v, sizeof(v)), "text/plain");
    assert_string_equal(resp_header(&r[0], "Content-Length", v, sizeof(v)), "2");
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "keep-alive");
    assert_memory_equal(r[0].body, "ok", 2);
    ASK("/headers-json?lines=0");
    assert_int_equal(r[1].status, 201);
    assert_string_equal(resp_header(&r[1], "Retry-After", v, sizeof(v)), "7");
    assert_string_equal(resp_header(&r[1], "Content-Type", v, sizeof(v)), "application/json");
    json_t *j = resp_json(&r[1]);
    assert_int_equal(json_integer_value(json_object_get(j, "case")), 0);
    json_decref(j);
    /* None at all is an ordinary answer. */
    ASK("/headers?lines=10");
    assert_int_equal(r[2].status, 200);
    assert_false(f->raw[0].eof);
}

/* Each refused case leaves the exchange unanswered, so the handler answers 409 instead:
 * nothing of the refused lines reaches the client, and the connection goes on. */
static void lines_that_could_forge_or_reframe_are_refused(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[128], path[64];

    START(0);
    raw_open(f, 0);
    const int refused[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        f->raw[0].recv_len = 0;
        snprintf(path, sizeof(path), "GET /headers%s?lines=%d HTTP/1.1\r\nHost: t\r\n\r\n",
                 i % 2 ? "-json" : "", refused[i]);
        SEND(0, path);
        RUN_UNTIL(RESPONSES(0, r, 0) == 1);
        assert_int_equal(r[0].status, 409);
        assert_error_body(&r[0], "REFUSED");
        assert_string_equal(resp_header(&r[0], "Set-Cookie", v, sizeof(v)), "");
        assert_string_equal(resp_header(&r[0], "X-Forged", v, sizeof(v)), "");
        assert_null(find(f->raw[0].recv, f->raw[0].recv_len, "HTTP/1.1 200"));
    }
    RUN_FOR(20);
    assert_false(f->raw[0].eof);
}

static void the_client_s_address_is_its_tcp_peer(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    /* What a header claims does not count. */
    SEND(0, "GET /peer HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[0].body_len, strlen("127.0.0.1"));
    assert_memory_equal(r[0].body, "127.0.0.1", r[0].body_len);
    /* Without a cap per address the server learns it as well. */
    raw_close(&f->raw[0]);
    http_server_close(f->server, server_closed, f);
    RUN_UNTIL(f->server_closed);
    f->server_closed = false;
    START(.max_per_address = HTTP_NO_LIMIT);
    raw_open(f, 1);
    SEND(1, GET("/peer"));
    RUN_UNTIL(RESPONSES(1, r, 0) == 1);
    assert_memory_equal(r[0].body, "127.0.0.1", r[0].body_len);
}

static void text_of_an_address(void **state)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct http__peer_addr a;
    char text[HTTP_ADDRESS_MAX];
    (void)state;

    uv_ip4_addr("10.0.0.7", 0, &sin);
    http__peer_addr_from((struct sockaddr *)&sin, &a);
    http__peer_addr_text(&a, text, sizeof(text));
    assert_string_equal(text, "10.0.0.7");
    uv_ip6_addr("::ffff:10.0.0.8", 0, &sin6);
    http__peer_addr_from((struct sockaddr *)&sin6, &a);
    http__peer_addr_text(&a, text, sizeof(text));
    assert_string_equal(text, "10.0.0.8");
    uv_ip6_addr("2001:db8::1", 0, &sin6);
    http__peer_addr_from((struct sockaddr *)&sin6, &a);
    http__peer_addr_text(&a, text, sizeof(text));
    assert_string_equal(text, "2001:db8::1");
    uv_ip6_addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, &sin6);
    http__peer_addr_from((struct sockaddr *)&sin6, &a);
    http__peer_addr_text(&a, text, sizeof(text));
    assert_string_equal(text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

/* /every?to=error|lines|json|head: lines set on the exchange, then answered so; a set
 * refused leaves the exchange's lines as they were. */
static bool answer_with_every(struct fixture *f,
                              struct http_exchange *x,
                              const struct http_request *req)
{
    char to[16] = "";
    (void)f;
    if (strcmp(req->path, "/every") != 0) {
        return false;
    }
    assert_int_equal(http_exchange_set_headers(x, "X-First: 1\r\n"), 0);
    assert_int_equal(http_exchange_set_headers(x, "Vary: Origin\r\nX-Every: yes\r\n"), 0);
    assert_int_equal(http_exchange_set_headers(x, "X-Bad: a\nX-Forged: b\r\n"), CD_EINVAL);
    assert_int_equal(http_exchange_set_headers(x, "Content-Length: 0\r\n"), CD_EINVAL);
    http_query_get(req, "to", to, sizeof(to));
    if (strcmp(to, "error") == 0) {
        http_reply_error(x, 404, "NOTFOUND", "nothing here");
    } else if (strcmp(to, "lines") == 0) {
        assert_int_equal(http_reply_headers(x, 200, "text/plain", "X-Own: 1\r\n", "ok", 2), 0);
    } else if (strcmp(to, "json") == 0) {
        http_reply_json(x, 201, json_pack("{s:b}", "ok", 1));
    } else {
        http_reply(x, 204, NULL, NULL, 0);
    }
    return true;
}

/* Lines set on the exchange ride on whatever answers it, after the answer's own. */
static void lines_set_on_the_exchange_ride_on_every_answer(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[128];
    int asked = 0;
    const char *const paths[] = {"/every?to=error", "/every?to=lines", "/every?to=json",
                                 "/every"};
    const int statuses[] = {404, 200, 201, 204};

    START(0);
    f->on_request = answer_with_every;
    raw_open(f, 0);
    for (int i = 0; i < 4; i++) {
        char req[128];
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
        SEND(0, req);
        asked++;
        RUN_UNTIL(RESPONSES(0, r, 0) == asked);
        assert_int_equal(r[i].status, statuses[i]);
        assert_string_equal(resp_header(&r[i], "X-Every", v, sizeof(v)), "yes");
        assert_string_equal(resp_header(&r[i], "Vary", v, sizeof(v)), "Origin");
        assert_string_equal(resp_header(&r[i], "X-First", v, sizeof(v)), "");
        assert_string_equal(resp_header(&r[i], "X-Forged", v, sizeof(v)), "");
        /* Every answer is dated: "Sun, 06 Nov 1994 08:49:37 GMT". */
        resp_header(&r[i], "Date", v, sizeof(v));
        assert_int_equal(strlen(v), 29);
        assert_memory_equal(v + 3, ", ", 2);
        assert_string_equal(v + 25, " GMT");
    }
    assert_error_body(&r[0], "NOTFOUND");
    assert_string_equal(resp_header(&r[1], "X-Own", v, sizeof(v)), "1");
    assert_true(find(r[1].head, r[1].head_len, "X-Own: 1\r\n") <
                find(r[1].head, r[1].head_len, "X-Every: yes\r\n"));
    assert_false(f->raw[0].eof);
}

/* A CORS preflight reaches the handler as OPTIONS, not as some other method. */
static void options_is_a_method_of_its_own(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, "OPTIONS /v1/x HTTP/1.1\r\nHost: t\r\n\r\n");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    json_t *j = resp_json(&r[0]);
    assert_int_equal(json_integer_value(json_object_get(j, "method_enum")), HTTP_M_OPTIONS);
    assert_string_equal(jstr(j, "method"), "OPTIONS");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(extra_lines_follow_the_server_s_own, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_that_could_forge_or_reframe_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_client_s_address_is_its_tcp_peer, setup, teardown),
        cmocka_unit_test(text_of_an_address),
        cmocka_unit_test_setup_teardown(lines_set_on_the_exchange_ride_on_every_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(options_is_a_method_of_its_own, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
