/* The archive of installed model versions: what an install records (source, who, when,
 * why, the diff, the version it restores), that a refused install records nothing, that
 * only the latest ENGINE_ARCHIVE_MAX are kept, and that the archive travels in the command
 * codec and in snapshots (and so in the digest). */
#include "engine/internal.h"
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "q", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "q");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static int install(struct fixture *f,
                   uint32_t version,
                   const char *source,
                   uint32_t rollback_of)
{
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL};
    c.u.install.version = version;
    c.u.install.model = &f->m;
    c.u.install.source = source;
    c.actor = "alice";
    c.u.install.comment = "more staff";
    c.u.install.diff = "~ queues.q.max_size: 10 -> 20";
    c.u.install.rollback_of = rollback_of;
    return fx_apply(f, &c);
}

static void assert_archived(struct fixture *f, size_t i, uint32_t version, const char *source)
{
    struct engine_archived a;
    assert_int_equal(engine_archive_get(f->e, i, &a), 0);
    assert_int_equal(a.version, version);
    assert_string_equal(a.source, source);
}

TEST(install_records_who_when_why_and_what)
{
    assert_int_equal(install(f, 1, "version: 1\n", 0), 0);
    AFTER(5 * FX_SEC);
    assert_int_equal(install(f, 2, "version: 2\n", 1), 0);
    assert_int_equal(engine_archive_count(f->e), 2);
    struct engine_archived a;
    assert_int_equal(engine_archive_find(f->e, 2, &a), 0);
    assert_int_equal(a.rollback_of, 1);
    assert_int_equal(a.at, FX_T0 + 5 * FX_SEC);
    assert_string_equal(a.actor, "alice");
    assert_string_equal(a.comment, "more staff");
    assert_string_equal(a.diff, "~ queues.q.max_size: 10 -> 20");
    assert_string_equal(a.source, "version: 2\n");
    assert_archived(f, 0, 1, "version: 1\n");
    assert_int_equal(engine_archive_find(f->e, 3, &a), CD_ENOTFOUND);
    assert_int_equal(engine_archive_get(f->e, 2, &a), CD_ENOTFOUND);
}

TEST(refused_install_records_nothing)
{
    assert_int_equal(install(f, 4, "four", 0), 0);
    uint64_t d = DIGEST;
    assert_int_equal(install(f, 4, "four again", 0), CD_ESTATE);
    assert_int_equal(install(f, 3, "older", 0), CD_ESTATE);
    assert_int_equal(engine_archive_count(f->e), 1);
    assert_int_equal(DIGEST, d);
}

TEST(only_the_latest_are_kept)
{
    char text[32];
    for (uint32_t v = 1; v <= ENGINE_ARCHIVE_MAX + 3; v++) {
        snprintf(text, sizeof(text), "v%u", v);
        assert_int_equal(install(f, v, text, 0), 0);
    }
    assert_int_equal(engine_archive_count(f->e), ENGINE_ARCHIVE_MAX);
    assert_archived(f, 0, 4, "v4");
    snprintf(text, sizeof(text), "v%u", ENGINE_ARCHIVE_MAX + 3);
    assert_archived(f, ENGINE_ARCHIVE_MAX - 1, ENGINE_ARCHIVE_MAX + 3, text);
    struct engine_archived a;
    assert_int_equal(engine_archive_find(f->e, 3, &a), CD_ENOTFOUND);
}

TEST(archive_is_in_snapshots_and_the_digest)
{
    assert_int_equal(install(f, 1, "first", 0), 0);
    assert_int_equal(install(f, 7, "second\nwith two lines", 1), 0);
    struct engine *copy = fx_snapshot_copy(f);
    assert_int_equal(engine_archive_count(copy), 2);
    struct engine_archived a;
    assert_int_equal(engine_archive_find(copy, 7, &a), 0);
    assert_string_equal(a.source, "second\nwith two lines");
    assert_int_equal(a.rollback_of, 1);
    engine_free(copy);

    /* Two states alike but for an archived comment differ in their digests. */
    uint64_t before = DIGEST;
    f->e->archive[0].comment[0] = 'X';
    assert_int_not_equal(DIGEST, before);
}

TEST(install_metadata_round_trips_through_the_codec)
{
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL}, out;
    struct engine_cmd_store store;
    struct cd_buf b;
    engine_cmd_store_init(&store);
    cd_buf_init(&b);
    c.u.install.version = 9;
    c.u.install.model = &f->m;
    c.u.install.source = "queues: {}\n";
    c.actor = "bob";
    c.u.install.comment = "";
    c.u.install.diff = "- agents[a2]";
    c.u.install.rollback_of = 5;
    assert_int_equal(engine_command_encode(&c, &b), 0);
    assert_int_equal(engine_command_decode(b.data, b.len, &out, &store), 0);
    assert_int_equal(out.u.install.version, 9);
    assert_string_equal(out.u.install.source, "queues: {}\n");
    assert_string_equal(out.actor, "bob");
    assert_string_equal(out.u.install.comment, "");
    assert_string_equal(out.u.install.diff, "- agents[a2]");
    assert_int_equal(out.u.install.rollback_of, 5);
    /* Cut short anywhere, it is refused. */
    for (size_t len = 2; len < b.len; len++) {
        assert_int_not_equal(engine_command_decode(b.data, len, &out, &store), 0);
    }
    engine_cmd_store_close(&store);
    cd_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(install_records_who_when_why_and_what),
        FX_TEST(refused_install_records_nothing),
        FX_TEST(only_the_latest_are_kept),
        FX_TEST(archive_is_in_snapshots_and_the_digest),
        FX_TEST(install_metadata_round_trips_through_the_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
