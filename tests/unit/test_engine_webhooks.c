/* Webhook subscriptions as replicated state: what is accepted, how DELIVERED and FAILED move
 * the cursor (fenced by the cursor an attempt started from, so a stale report changes
 * nothing), the backoff, the delivery log, delete, and the state through a snapshot. */
#include "engine_fixture.h"

static int setup(void **state)
{
    return fx_setup(state);
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

#define KINDS ((1u << ENGINE_FX_OFFER) | (1u << ENGINE_FX_ENDED))

static int add(struct fixture *f, const char *url, const char *secret, uint32_t kinds)
{
    struct engine_command c = {.kind = ENGINE_CMD_WEBHOOK_ADD};
    c.u.webhook.url = url;
    c.u.webhook.secret = secret;
    c.u.webhook.kinds = kinds;
    c.u.webhook.from_index = 40;
    c.u.webhook.from_n = UINT32_MAX;
    return fx_apply(f, &c);
}

static int report(struct fixture *f,
                  uint8_t kind,
                  uint32_t id,
                  uint64_t from_index,
                  uint32_t from_n,
                  uint64_t to_index,
                  uint32_t to_n,
                  const char *text)
{
    struct engine_command c = {.kind = kind};
    c.u.webhook.id = id;
    c.u.webhook.from_index = from_index;
    c.u.webhook.from_n = from_n;
    c.u.webhook.to_index = to_index;
    c.u.webhook.to_n = to_n;
    c.u.webhook.count = 3;
    c.u.webhook.status = kind == ENGINE_CMD_WEBHOOK_DELIVERED ? 200 : 503;
    c.u.webhook.text = text;
    return fx_apply(f, &c);
}

static struct engine_webhook_info info(struct fixture *f, uint32_t id)
{
    struct engine_webhook_info w;
    assert_int_equal(engine_webhook_get(f->e, id, &w), 0);
    return w;
}

TEST(add_checks_what_it_is_given)
{
    const char *secret = "0123456789abcdef";
    assert_int_equal(add(f, "https://x/y", secret, KINDS), CD_EINVAL); /* no TLS yet */
    assert_int_equal(add(f, "http://host", secret, KINDS), CD_EINVAL); /* no path */
    assert_int_equal(add(f, "http://h/a b", secret, KINDS), CD_EINVAL);
    assert_int_equal(add(f, "http://h/x", "short", KINDS), CD_EINVAL);
    assert_int_equal(add(f, "http://h/x", secret, 0), CD_EINVAL);
    assert_int_equal(add(f, "http://h/x", secret, 1u), CD_EINVAL); /* kind 0 is none */
    assert_int_equal(engine_webhook_count(f->e), 0);
    EXPECT_OK(add(f, "http://127.0.0.1:9000/hook", secret, KINDS));
    uint32_t id = (uint32_t)f->res.contact;
    assert_int_equal(id, 1);
    struct engine_webhook_info w = info(f, id);
    assert_string_equal(w.url, "http://127.0.0.1:9000/hook");
    assert_string_equal(w.secret, secret);
    assert_int_equal(w.kinds, KINDS);
    assert_int_equal(w.after_index, 40);
    assert_int_equal(w.after_n, UINT32_MAX);
    assert_int_equal(w.created, f->now);
    for (int i = 1; i < ENGINE_WEBHOOKS_MAX; i++) {
        EXPECT_OK(add(f, "http://h/x", secret, KINDS));
    }
    assert_int_equal(add(f, "http://h/x", secret, KINDS), CD_ETOOBIG);
}

TEST(delivered_moves_the_cursor_once_and_failed_backs_off)
{
    EXPECT_OK(add(f, "http://h/x", "0123456789abcdef", KINDS));
    uint32_t id = (uint32_t)f->res.contact;
    /* Two failures: the second waits twice as long. */
    EXPECT_OK(
        report(f, ENGINE_CMD_WEBHOOK_FAILED, id, 40, UINT32_MAX, 0, 0, "connect refused"));
    assert_int_equal(info(f, id).attempts, 1);
    assert_int_equal(info(f, id).next_at, f->now + 1000);
    AFTER(5 * FX_SEC);
    EXPECT_OK(report(f, ENGINE_CMD_WEBHOOK_FAILED, id, 40, UINT32_MAX, 0, 0, "503"));
    assert_int_equal(info(f, id).next_at, f->now + 2000);
    assert_int_equal(engine_webhook_backoff_ms(30), 300000);
    /* Delivered: the cursor moves, the count grows, attempts start again. */
    EXPECT_OK(report(f, ENGINE_CMD_WEBHOOK_DELIVERED, id, 40, UINT32_MAX, 45, 2, "rcv-1"));
    struct engine_webhook_info w = info(f, id);
    assert_int_equal(w.after_index, 45);
    assert_int_equal(w.after_n, 2);
    assert_int_equal(w.delivered, 3);
    assert_int_equal(w.attempts, 0);
    assert_int_equal(w.next_at, 0);
    /* The same report again (a deposed leader's, or a retry) is stale: nothing changes. */
    uint64_t before = DIGEST;
    assert_int_equal(report(f, ENGINE_CMD_WEBHOOK_DELIVERED, id, 40, UINT32_MAX, 45, 2, "x"),
                     CD_ESTATE);
    assert_int_equal(report(f, ENGINE_CMD_WEBHOOK_FAILED, id, 40, UINT32_MAX, 0, 0, "x"),
                     CD_ESTATE);
    assert_int_equal(DIGEST, before);
    /* to must come after from; an unknown webhook is not found. */
    assert_int_equal(report(f, ENGINE_CMD_WEBHOOK_DELIVERED, id, 45, 2, 45, 2, "x"), CD_EINVAL);
    assert_int_equal(report(f, ENGINE_CMD_WEBHOOK_DELIVERED, 99, 45, 2, 46, 0, "x"),
                     CD_ENOTFOUND);
    /* The log: newest first, each attempt's outcome. */
    w = info(f, id);
    assert_int_equal(w.n_log, 3);
    assert_true(w.log[0].ok);
    assert_string_equal(w.log[0].text, "rcv-1");
    assert_int_equal(w.log[0].status, 200);
    assert_int_equal(w.log[0].to_index, 45);
    assert_false(w.log[1].ok);
    assert_string_equal(w.log[1].text, "503");
    assert_string_equal(w.log[2].text, "connect refused");
}

TEST(the_log_keeps_the_latest_and_delete_forgets)
{
    EXPECT_OK(add(f, "http://h/x", "0123456789abcdef", KINDS));
    uint32_t id = (uint32_t)f->res.contact;
    for (int i = 0; i < ENGINE_WEBHOOK_LOG + 5; i++) {
        char text[16];
        snprintf(text, sizeof(text), "try-%d", i);
        EXPECT_OK(report(f, ENGINE_CMD_WEBHOOK_FAILED, id, 40, UINT32_MAX, 0, 0, text));
    }
    struct engine_webhook_info w = info(f, id);
    assert_int_equal(w.n_log, ENGINE_WEBHOOK_LOG);
    assert_string_equal(w.log[0].text, "try-20");
    assert_string_equal(w.log[ENGINE_WEBHOOK_LOG - 1].text, "try-5");
    struct engine_command del = {.kind = ENGINE_CMD_WEBHOOK_DELETE};
    del.u.webhook.id = id;
    EXPECT_OK(fx_apply(f, &del));
    assert_int_equal(engine_webhook_count(f->e), 0);
    assert_int_equal(fx_apply(f, &del), CD_ENOTFOUND);
    EXPECT_OK(add(f, "http://h/y", "0123456789abcdef", KINDS));
    assert_int_equal(f->res.contact, 2); /* ids are not reused */
}

TEST(webhooks_survive_a_snapshot)
{
    EXPECT_OK(add(f, "http://h/x", "0123456789abcdef", KINDS));
    EXPECT_OK(add(f, "http://h/y", "fedcba9876543210", 1u << ENGINE_FX_MODEL));
    EXPECT_OK(report(f, ENGINE_CMD_WEBHOOK_DELIVERED, 2, 40, UINT32_MAX, 41, 0, "ok"));
    EXPECT_OK(report(f, ENGINE_CMD_WEBHOOK_FAILED, 1, 40, UINT32_MAX, 0, 0, "timeout"));
    struct engine *copy = fx_snapshot_copy(f);
    struct engine_webhook_info a, b;
    for (uint32_t id = 1; id <= 2; id++) {
        assert_int_equal(engine_webhook_get(copy, id, &a), 0);
        b = info(f, id);
        assert_string_equal(a.url, b.url);
        assert_string_equal(a.secret, b.secret);
        assert_int_equal(a.after_index, b.after_index);
        assert_int_equal(a.next_at, b.next_at);
        assert_int_equal(a.n_log, b.n_log);
        assert_string_equal(a.log[0].text, b.log[0].text);
    }
    engine_free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(add_checks_what_it_is_given),
        FX_TEST(delivered_moves_the_cursor_once_and_failed_backs_off),
        FX_TEST(the_log_keeps_the_latest_and_delete_forgets),
        FX_TEST(webhooks_survive_a_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
