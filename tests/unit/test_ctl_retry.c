/* contactctl (ops/contactctl/ctl.c): which requests go to the next node when one fails. A
 * read moves on after a 503 or a node that took the request and never answered; a change
 * does not (the node may have made it: sending it again would turn success into EXISTS),
 * unless it carries its own idempotency key; a node that cannot be reached at all saw
 * nothing, so any request moves on. Two scripted peers on 127.0.0.1 stand in for nodes. */
#define _GNU_SOURCE /* strcasestr() */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops/contactctl/ctl.h"

enum script {
    ANSWER_503, /* 503 UNAVAIL, "may or may not have been applied" */
    ANSWER_200, /* 200 {} */
    HANG_UP,    /* reads the request, closes without a word */
};

struct peer
{
    int fd;
    uint16_t port;
    enum script script;
    int requests; /* connections that sent a request */
    pthread_t thread;
    volatile int stop;
};

static const char *const REPLY_503 =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nContent-Length: 93\r\n\r\n"
    "{\"error\":{\"code\":\"UNAVAIL\",\"message\":\"the leader changed; may or may not have "
    "been "
    "applied\"}}";
static const char *const REPLY_200 =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 2\r\n\r\n{}";

/* The whole request: its head and as many body bytes as its Content-Length says (they may
 * come in several reads; closing with some unread would reset the client's connection).
 * Returns its length, or -1. */
static ssize_t read_request(int c, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap - 1) {
        ssize_t n = read(c, buf + got, cap - 1 - got);
        if (n <= 0) {
            return got > 0 ? (ssize_t)got : -1;
        }
        got += (size_t)n;
        buf[got] = 0;
        const char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t body = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            if (got >= (size_t)(end + 4 - buf) + body) {
                return (ssize_t)got;
            }
        }
    }
    return (ssize_t)got;
}

static void *serve(void *arg)
{
    struct peer *p = arg;
    while (!p->stop) {
        int c = accept(p->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        /* The accepted socket inherits the listener's 100 ms receive timeout: a client slowed
         * down (a sanitizer, a loaded machine) would see its request unread and the connection
         * reset. Wait for the request as long as a test may. */
        struct timeval wait = {.tv_sec = 10};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
        char buf[4096];
        ssize_t n = read_request(c, buf, sizeof(buf));
        if (n > 0) {
            p->requests++;
            const char *reply = p->script == ANSWER_503   ? REPLY_503
                                : p->script == ANSWER_200 ? REPLY_200
                                                          : NULL;
            if (reply != NULL && write(c, reply, strlen(reply)) < 0) {
                fail_msg("peer write failed");
            }
        }
        close(c);
    }
    return NULL;
}

static void peer_start(struct peer *p, enum script script)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    struct timeval tv = {.tv_usec = 100000};
    memset(p, 0, sizeof(*p));
    p->script = script;
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->fd >= 0);
    setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* accept wakes to see stop */
    assert_int_equal(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(p->fd, (struct sockaddr *)&a, &len), 0);
    assert_int_equal(listen(p->fd, 8), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->thread, NULL, serve, p), 0);
}

static void peer_stop(struct peer *p)
{
    p->stop = 1;
    pthread_join(p->thread, NULL);
    close(p->fd);
}

/* A port nothing listens on. */
static uint16_t closed_port(void)
{
    struct peer p;
    peer_start(&p, ANSWER_200);
    uint16_t port = p.port;
    peer_stop(&p);
    return port;
}

static void two_nodes(struct ctl *c, uint16_t first, uint16_t second)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->endpoints[0], sizeof(c->endpoints[0]), "127.0.0.1:%u", first);
    snprintf(c->endpoints[1], sizeof(c->endpoints[1]), "127.0.0.1:%u", second);
    c->n_endpoints = 2;
}

static int call(struct ctl *c, const char *method)
{
    json_t *doc = NULL;
    int rv = ctl_call(c, method, "/v1/cluster/members", "{\"id\":\"n4\"}", &doc);
    json_decref(doc);
    return rv;
}

static void after_a_503_a_read_moves_on_and_a_change_stops(void **state)
{
    struct peer a, b;
    struct ctl c;
    (void)state;
    peer_start(&a, ANSWER_503);
    peer_start(&b, ANSWER_200);
    two_nodes(&c, a.port, b.port);
    assert_int_equal(call(&c, "GET"), CTL_OK);
    assert_int_equal(b.requests, 1);

    two_nodes(&c, a.port, b.port);
    assert_int_equal(call(&c, "POST"), CTL_UNREACHABLE);
    assert_int_equal(call(&c, "DELETE"), CTL_UNREACHABLE);
    assert_int_equal(b.requests, 1); /* the change never reached the second node */
    assert_int_equal(a.requests, 3);

    c.replay_safe = true; /* a change with its own idempotency key */
    assert_int_equal(call(&c, "POST"), CTL_OK);
    assert_int_equal(b.requests, 2);
    peer_stop(&a);
    peer_stop(&b);
}

static void a_node_that_hangs_up_stops_a_change_but_not_a_read(void **state)
{
    struct peer a, b;
    struct ctl c;
    (void)state;
    peer_start(&a, HANG_UP);
    peer_start(&b, ANSWER_200);
    two_nodes(&c, a.port, b.port);
    assert_int_equal(call(&c, "POST"), CTL_UNREACHABLE);
    assert_int_equal(b.requests, 0);
    assert_int_equal(call(&c, "GET"), CTL_OK);
    assert_int_equal(b.requests, 1);
    peer_stop(&a);
    peer_stop(&b);
}

static void a_node_that_cannot_be_reached_saw_nothing(void **state)
{
    struct peer b;
    struct ctl c;
    (void)state;
    uint16_t down = closed_port();
    peer_start(&b, ANSWER_200);
    two_nodes(&c, down, b.port);
    assert_int_equal(call(&c, "POST"), CTL_OK);
    assert_int_equal(b.requests, 1);
    peer_stop(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(after_a_503_a_read_moves_on_and_a_change_stops),
        cmocka_unit_test(a_node_that_hangs_up_stops_a_change_but_not_a_read),
        cmocka_unit_test(a_node_that_cannot_be_reached_saw_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
