/* Report definitions: versions, the version a change expects, unchanged texts, the kept
 * history, delete, limits, the audit effect and snapshots. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static int put(struct fixture *f, const char *name, const char *text, uint32_t expect)
{
    struct engine_command c = {.kind = ENGINE_CMD_REPORT_PUT,
                               .actor = "user:sue",
                               .u.report = {name, text, "for the board", expect}};
    return fx_apply(f, &c);
}

static int del(struct fixture *f, const char *name)
{
    struct engine_command c = {
        .kind = ENGINE_CMD_REPORT_DELETE, .actor = "user:sue", .u.report = {.name = name}};
    return fx_apply(f, &c);
}

TEST(versions_rise_and_the_history_is_kept)
{
    struct engine_report_def_info d;
    assert_int_equal(put(f, "daily", "{\"v\":1}", 0), 0);
    assert_int_equal(f->res.contact, 1);
    const struct fx_effect *a = FX(AUDIT, 0, NULL);
    assert_string_equal(a->object, "daily");
    assert_string_equal(a->action, "report_put");
    AT(FX_T0 + 1000);
    assert_int_equal(put(f, "daily", "{\"v\":2}", 1), 0);
    assert_int_equal(f->res.contact, 2);
    /* a change made against an older version is refused */
    assert_int_equal(put(f, "daily", "{\"v\":3}", 1), CD_ESTATE);
    /* the same text again makes no version */
    assert_int_equal(put(f, "daily", "{\"v\":2}", 0), 0);
    assert_true(f->res.existing);
    NO_FX(AUDIT, 0, NULL); /* nothing changed: nothing to audit */
    assert_int_equal(f->res.contact, 2);
    assert_int_equal(engine_report_def_get(f->e, "daily", 0, &d), 0);
    assert_int_equal(d.version, 2);
    assert_int_equal(d.current, 2);
    assert_int_equal(d.oldest, 1);
    assert_string_equal(d.text, "{\"v\":2}");
    assert_string_equal(d.actor, "user:sue");
    assert_string_equal(d.comment, "for the board");
    assert_int_equal(d.at, FX_T0 + 1000);
    assert_int_equal(engine_report_def_get(f->e, "daily", 1, &d), 0);
    assert_string_equal(d.text, "{\"v\":1}");
    assert_int_equal(engine_report_def_get(f->e, "daily", 3, &d), CD_ENOTFOUND);
    /* only the latest ENGINE_REPORT_VERSIONS are kept */
    char text[32];
    for (int i = 3; i <= ENGINE_REPORT_VERSIONS + 4; i++) {
        snprintf(text, sizeof(text), "{\"v\":%d}", i);
        assert_int_equal(put(f, "daily", text, 0), 0);
    }
    assert_int_equal(engine_report_def_get(f->e, "daily", 0, &d), 0);
    assert_int_equal(d.current, ENGINE_REPORT_VERSIONS + 4);
    assert_int_equal(d.oldest, 5);
    assert_int_equal(engine_report_def_get(f->e, "daily", 4, &d), CD_ENOTFOUND);
}

TEST(names_sort_and_delete_removes)
{
    assert_int_equal(put(f, "weekly", "{}", 0), 0);
    assert_int_equal(put(f, "daily", "{}", 0), 0);
    assert_int_equal(put(f, "monthly", "{}", 0), 0);
    assert_int_equal(engine_report_def_count(f->e), 3);
    assert_string_equal(engine_report_def_name(f->e, 0), "daily");
    assert_string_equal(engine_report_def_name(f->e, 1), "monthly");
    assert_string_equal(engine_report_def_name(f->e, 2), "weekly");
    assert_null(engine_report_def_name(f->e, 3));
    assert_int_equal(del(f, "monthly"), 0);
    assert_string_equal(FX(AUDIT, 0, NULL)->action, "report_delete");
    assert_int_equal(del(f, "monthly"), CD_ENOTFOUND);
    assert_int_equal(engine_report_def_count(f->e), 2);
    struct engine_report_def_info d;
    assert_int_equal(engine_report_def_get(f->e, "monthly", 0, &d), CD_ENOTFOUND);
}

TEST(malformed_definitions_are_refused)
{
    assert_int_equal(put(f, "", "{}", 0), CD_EINVAL);
    assert_int_equal(put(f, "has space", "{}", 0), CD_EINVAL);
    assert_int_equal(put(f, "daily", "", 0), CD_EINVAL);
    assert_int_equal(put(f, "daily", NULL, 0), CD_EINVAL);
    char *big = malloc(ENGINE_REPORT_TEXT_MAX + 1);
    memset(big, 'x', ENGINE_REPORT_TEXT_MAX);
    big[ENGINE_REPORT_TEXT_MAX] = 0;
    assert_int_equal(put(f, "daily", big, 0), CD_EINVAL);
    big[ENGINE_REPORT_TEXT_MAX - 1] = 0;
    assert_int_equal(put(f, "daily", big, 0), 0);
    free(big);
    assert_int_equal(engine_report_def_count(f->e), 1);
    char name[32];
    for (int i = 1; i < ENGINE_REPORTS_MAX; i++) {
        snprintf(name, sizeof(name), "r%03d", i);
        assert_int_equal(put(f, name, "{}", 0), 0);
    }
    assert_int_equal(put(f, "one-too-many", "{}", 0), CD_ECAPACITY);
}

TEST(definitions_survive_a_snapshot)
{
    assert_int_equal(put(f, "daily", "{\"v\":1}", 0), 0);
    assert_int_equal(put(f, "daily", "{\"v\":2}", 0), 0);
    assert_int_equal(put(f, "weekly", "{\"w\":1}", 0), 0);
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    struct engine *copy = NULL;
    assert_int_equal(engine_decode(b.data, b.len, &copy), 0);
    struct engine_report_def_info d;
    assert_int_equal(engine_report_def_get(copy, "daily", 1, &d), 0);
    assert_string_equal(d.text, "{\"v\":1}");
    assert_int_equal(d.current, 2);
    assert_int_equal(engine_report_def_get(copy, "weekly", 0, &d), 0);
    assert_string_equal(d.text, "{\"w\":1}");
    assert_int_equal(engine_digest(copy), engine_digest(f->e));
    engine_free(copy);
    /* every truncation is refused */
    for (size_t n = 0; n < b.len; n++) {
        copy = NULL;
        assert_int_not_equal(engine_decode(b.data, n, &copy), 0);
    }
    cd_buf_close(&b);
}

static int slot(struct fixture *f, const char *name, int64_t at, uint32_t version, uint8_t n)
{
    struct engine_command c = {
        .kind = ENGINE_CMD_REPORT_SLOT,
        .u.round = {.name = name, .slot = at, .version = version, .targets = n}};
    return fx_apply(f, &c);
}

static int sent(struct fixture *f,
                const char *name,
                int64_t at,
                uint8_t target,
                bool ok,
                const char *text,
                int64_t retry_at)
{
    struct engine_command c = {.kind = ENGINE_CMD_REPORT_SENT,
                               .u.round = {.name = name,
                                           .slot = at,
                                           .target = target,
                                           .ok = ok,
                                           .text = text,
                                           .retry_at = retry_at}};
    return fx_apply(f, &c);
}

TEST(a_slot_opens_once_and_each_delivery_ends_once)
{
    struct engine_round_info r;
    const int64_t s1 = FX_T0 - 2 * 3600000, s2 = FX_T0 - 3600000;
    assert_int_equal(slot(f, "daily", s1, 1, 2), CD_ENOTFOUND);
    assert_int_equal(put(f, "daily", "{}", 0), 0);
    assert_int_equal(slot(f, "daily", s1, 2, 2), CD_ESTALE); /* no such version */
    assert_int_equal(slot(f, "daily", s1, 1, 0), CD_EINVAL);
    assert_int_equal(slot(f, "daily", s1, 1, ENGINE_AUDIENCE_MAX + 1), CD_EINVAL);
    assert_int_equal(slot(f, "daily", s1, 1, 2), 0);
    /* a new leader opening the same slot, or an older one, is refused */
    assert_int_equal(slot(f, "daily", s1, 1, 2), CD_EEXISTS);
    assert_int_equal(slot(f, "daily", s1 - 1, 1, 2), CD_EEXISTS);
    assert_int_equal(engine_report_last_slot(f->e, "daily"), s1);
    assert_int_equal(sent(f, "daily", s1, 0, true, "<m1@x>", 0), 0);
    assert_int_equal(sent(f, "daily", s1, 0, true, "<m1@x>", 0), CD_EEXISTS);
    assert_int_equal(sent(f, "daily", s1, 2, true, "", 0), CD_ENOTFOUND);
    assert_int_equal(sent(f, "daily", s2, 0, true, "", 0), CD_ENOTFOUND);
    /* failures wait for their retry, until the attempts run out */
    for (int i = 1; i < ENGINE_DELIVERY_ATTEMPTS; i++) {
        assert_int_equal(sent(f, "daily", s1, 1, false, "421 busy", FX_T0 + i * 60000), 0);
        assert_int_equal(engine_report_round(f->e, "daily", 0, &r), 0);
        assert_int_equal(r.targets[1].state, ENGINE_DELIVERY_PENDING);
        assert_int_equal(r.targets[1].attempts, i);
        assert_int_equal(r.targets[1].retry_at, FX_T0 + i * 60000);
    }
    assert_int_equal(sent(f, "daily", s1, 1, false, "550 no such user", 0), 0);
    assert_int_equal(engine_report_round(f->e, "daily", 0, &r), 0);
    assert_int_equal(r.slot, s1);
    assert_int_equal(r.n_targets, 2);
    assert_int_equal(r.targets[0].state, ENGINE_DELIVERY_DONE);
    assert_string_equal(r.targets[0].text, "<m1@x>");
    assert_int_equal(r.targets[1].state, ENGINE_DELIVERY_FAILED);
    assert_string_equal(r.targets[1].text, "550 no such user");
    assert_int_equal(sent(f, "daily", s1, 1, true, "", 0), CD_EEXISTS);
    /* the rounds survive a snapshot */
    assert_int_equal(slot(f, "daily", s2, 1, 1), 0);
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    struct engine *copy = NULL;
    assert_int_equal(engine_decode(b.data, b.len, &copy), 0);
    assert_int_equal(engine_digest(copy), engine_digest(f->e));
    assert_int_equal(engine_report_round(copy, "daily", 1, &r), 0);
    assert_int_equal(r.slot, s2);
    assert_int_equal(engine_report_round(copy, "daily", 2, &r), CD_ENOTFOUND);
    engine_free(copy);
    cd_buf_close(&b);
    /* only the latest rounds are kept */
    for (int i = 1; i <= ENGINE_ROUNDS_KEPT; i++) {
        assert_int_equal(slot(f, "daily", s2 + i, 1, 1), 0);
    }
    assert_int_equal(engine_report_round(f->e, "daily", 0, &r), 0);
    assert_int_equal(r.slot, s2 + 1);
    assert_int_equal(engine_report_round(f->e, "daily", ENGINE_ROUNDS_KEPT, &r), CD_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(versions_rise_and_the_history_is_kept),
        FX_TEST(names_sort_and_delete_removes),
        FX_TEST(malformed_definitions_are_refused),
        FX_TEST(definitions_survive_a_snapshot),
        FX_TEST(a_slot_opens_once_and_each_delivery_ends_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
