/* What the http tests share: a libuv loop driven by the test with a guard timer, and the
 * module's own server on 127.0.0.1. Include after defining `struct fixture` with at least:
 *
 *     uv_loop_t loop;  uv_timer_t guard;  bool timed_out;  bool timer_fired;
 *     struct http_server *server;  bool server_closed;
 *     struct http_exchange *held[HELD_MAX];  int n_held;
 *
 * and a `handler` (http_handler_cb) for the server. */
#ifndef CD_TESTS_HTTP_FIXTURE_H
#define CD_TESTS_HTTP_FIXTURE_H

#define F struct fixture *f = *state

/* Turns the loop until cond holds; fails the test once the guard (10 s) has fired. */
#define RUN_UNTIL(cond)                    \
    do {                                   \
        while (!(cond)) {                  \
            assert_false(f->timed_out);    \
            uv_run(&f->loop, UV_RUN_ONCE); \
        }                                  \
    } while (0)

/* Turns the loop for ms milliseconds of its own time. */
#define RUN_FOR(ms)                               \
    do {                                          \
        uv_timer_t t_;                            \
        f->timer_fired = false;                   \
        uv_timer_init(&f->loop, &t_);             \
        t_.data = f;                              \
        uv_timer_start(&t_, timer_flag, (ms), 0); \
        RUN_UNTIL(f->timer_fired);                \
        uv_close((uv_handle_t *)&t_, NULL);       \
        uv_run(&f->loop, UV_RUN_NOWAIT);          \
    } while (0)

static void handler(void *data, struct http_exchange *x, const struct http_request *req);

static void timer_flag(uv_timer_t *t)
{
    struct fixture *f = t->data;
    f->timer_fired = true;
}

static void guard_fired(uv_timer_t *t)
{
    struct fixture *f = t->data;
    f->timed_out = true;
}

/* A server answering through handler, on a free port of 127.0.0.1. */
static void start_server(struct fixture *f, const struct http_server_options *opt)
{
    char err[256];

    assert_int_equal(http_server_new(&f->loop, opt, handler, f, &f->server), 0);
    assert_int_equal(http_server_listen(f->server, "127.0.0.1", 0, err, sizeof(err)), 0);
    assert_true(http_server_port(f->server) > 0);
}

static void server_closed(void *data)
{
    struct fixture *f = data;
    f->server_closed = true;
}

/* The fixture is static: a test that fails mid-way leaves nothing to free in cmocka's
 * allocator. */
static struct fixture *fixture_open(void)
{
    static struct fixture fx;
    struct fixture *f = &fx;

    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    uv_timer_start(&f->guard, guard_fired, 10000, 0);
    return f;
}

/* Closes the server, answers the exchanges it let go of into the void (which frees them),
 * and checks that nothing is left on the loop. Close the test's own handles first. */
static void fixture_close(struct fixture *f)
{
    if (f->server != NULL && !f->server_closed) {
        http_server_close(f->server, server_closed, f);
        RUN_UNTIL(f->server_closed);
    }
    for (int i = 0; i < f->n_held; i++) {
        if (f->held[i] != NULL) {
            http_reply(f->held[i], 200, NULL, NULL, 0);
        }
    }
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

#endif
