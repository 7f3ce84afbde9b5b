/* Running out of memory in storage: every allocation storage makes itself (its handle, its
 * encoding buffer, and the engine's when a snapshot is installed) fails in turn, once and
 * from there on. LMDB's own allocations are not ours and are not failed here.
 *
 * What storage.h promises, and so what is checked: a failed call answers CD_ENOMEM with a
 * message and leaves the storage unchanged; a batch that failed answers its first error to
 * every later write and to the commit, which keeps nothing; nothing leaks. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "engine_fixture.h"
#include "storage/storage.h"
#include "tests/unit/tmpdir.h"

struct store
{
    char base[PATH_MAX / 2];
    char dir[PATH_MAX];
    struct storage_options opt;
    struct storage *s;
    char err[256];
    int n_dirs;
};

#define STORE ((struct store *)f->user)

/* One attempt: allocation nth failing, once or from there on (see test_engine_oom.c). */
struct attempt
{
    uint64_t nth;
    bool once;
    bool finished;
    struct cd_alloc_fault fault, counter;
};

static struct attempt at;

static bool attempt_begin(void)
{
    if (at.finished) {
        return false;
    }
    at.once = !at.once;
    at.nth += at.once;
    cd_alloc_fault_start(&at.counter, 0, 0);
    return true;
}

static void fault_on(void)
{
    cd_alloc_fault_start(&at.fault, at.nth, at.once ? 1 : UINT64_MAX);
}

/* Ends the fault; true when an allocation failed. */
static bool fault_off(void)
{
    cd_alloc_fault_stop(&at.fault);
    at.finished = at.once && at.fault.failed == 0;
    return at.fault.failed > 0;
}

static void attempt_end(void)
{
    cd_alloc_fault_stop(&at.counter);
    if (at.counter.live != 0) {
        fail_msg("allocation %llu%s failing: %lld blocks leaked", (unsigned long long)at.nth,
                 at.once ? "" : " and every later one", (long long)at.counter.live);
    }
}

#define EACH_ATTEMPT for (memset(&at, 0, sizeof(at)); attempt_begin();)
/* After the loop: the call did allocate, so something was failed. */
#define SOME_FAILED                                                          \
    do {                                                                     \
        print_message("%llu allocations\n", (unsigned long long)at.nth - 1); \
        assert_true(at.nth > 1);                                             \
    } while (0)
#define AT_FAIL(fmt, ...)                                                   \
    fail_msg("allocation %llu%s failing: " fmt, (unsigned long long)at.nth, \
             at.once ? "" : " and every later one", __VA_ARGS__)

/* ---- data directories --------------------------------------------------------------- */

/* A new, empty data directory for the next attempt. */
static void fresh_dir(struct store *st)
{
    snprintf(st->dir, sizeof(st->dir), "%s/d%d", st->base, st->n_dirs++);
    assert_int_equal(mkdir(st->dir, 0700), 0);
    st->opt.dir = st->dir;
}

static void store_open(struct store *st)
{
    int rc = storage_open(&st->opt, &st->s, NULL, st->err, sizeof(st->err));
    if (rc != 0) {
        fail_msg("storage_open '%s': %s (%s)", st->dir, cd_strerror(rc), st->err);
    }
}

static void store_close(struct store *st)
{
    storage_close(st->s);
    st->s = NULL;
}

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "sales");
    AGENT("a2", "sales");
    struct store *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    const char *tmp = getenv("TMPDIR");
    snprintf(st->base, sizeof(st->base), "%s/cd-storage-oom-XXXXXX",
             tmp != NULL && tmp[0] != 0 ? tmp : "/tmp");
    assert_non_null(mkdtemp(st->base));
    st->opt.boot_id = "boot-oom";
    f->user = st;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cd_alloc_set(NULL);
    storage_close(STORE->s);
    rm_tree(STORE->base);
    free(STORE);
    return fx_teardown(state);
}

/* ---- records long enough to make the encoding buffer grow --------------------------- */

static char long_key[ENGINE_VALUE_MAX * 2];
static char long_name[ENGINE_NAME_MAX];
static char long_target[ENGINE_TARGET_MAX];
static char long_reason[ENGINE_VALUE_MAX];

static void long_strings(void)
{
    memset(long_key, 'k', sizeof(long_key) - 1);
    memset(long_name, 'n', sizeof(long_name) - 1);
    memset(long_target, 't', sizeof(long_target) - 1);
    memset(long_reason, 'r', sizeof(long_reason) - 1);
}

static struct engine_contact_info contact_record(uint64_t id)
{
    return (struct engine_contact_info){.id = id,
                                        .channel = ENGINE_CH_CHAT,
                                        .state = ENGINE_CONTACT_QUEUED,
                                        .key = long_key,
                                        .queue = long_name,
                                        .agent = "",
                                        .arrived = FX_T0};
}

static struct engine_agent_info agent_record(void)
{
    return (struct engine_agent_info){.name = long_name,
                                      .site = "lon",
                                      .presence = ENGINE_PRESENCE_AWAY,
                                      .state = ENGINE_AGENT_AWAY,
                                      .reason = long_reason,
                                      .capacity = {1, 5, 3, 3},
                                      .last_idle = FX_T0};
}

static struct engine_history history_record(uint64_t id)
{
    return (struct engine_history){.contact = id,
                                   .channel = ENGINE_CH_VOICE,
                                   .outcome = ENGINE_CONTACT_OVERFLOWED,
                                   .queue = long_name,
                                   .agent = long_name,
                                   .reason = long_target,
                                   .arrived = FX_T0,
                                   .ended = FX_T0 + FX_SEC,
                                   .completed = FX_T0 + FX_SEC};
}

/* ---- the tests ---------------------------------------------------------------------- */

/* A failed open leaves nothing behind: not a block, and not the directory's lock. */
TEST(open)
{
    struct store *st = STORE;
    EACH_ATTEMPT
    {
        fresh_dir(st); /* a new environment: its meta records go through the buffer */
        struct storage *sentinel = (struct storage *)&at, *s = sentinel;
        fault_on();
        int rc = storage_open(&st->opt, &s, NULL, st->err, sizeof(st->err));
        bool failed = fault_off();
        if (failed ? rc != CD_ENOMEM || s != sentinel || strstr(st->err, st->dir) == NULL
                   : rc != 0) {
            AT_FAIL("storage_open answered %s (%s)", cd_errname(rc), st->err);
        }
        if (rc != 0) {
            store_open(st); /* the lock went with the failure */
            s = st->s;
        }
        storage_close(s);
        st->s = NULL;
        attempt_end();
    }
    SOME_FAILED;
}

#define BATCH_WRITES 5

struct batch_result
{
    int writes[BATCH_WRITES];
    int commit;
};

/* An audit row of the longest strings. */
static struct engine_effect audit_record(int64_t when)
{
    return (struct engine_effect){.kind = ENGINE_FX_AUDIT,
                                  .state = ENGINE_CMD_AGENT_UPSERT,
                                  .text = long_key,
                                  .action = "agent_upsert",
                                  .object = long_key,
                                  .agent = long_name,
                                  .queue = "",
                                  .at = when};
}

/* One batch at index 1: a contact, an agent, a history row, an audit row, a delete. */
static void write_batch(struct store *st, struct batch_result *r)
{
    struct storage_batch *b = NULL;
    assert_int_equal(storage_batch_begin(st->s, 1, &b, st->err, sizeof(st->err)), 0);
    struct engine_contact_info c = contact_record(7);
    struct engine_agent_info a = agent_record();
    struct engine_history h = history_record(8);
    struct engine_effect fx = audit_record(h.completed);
    r->writes[0] = storage_put_contact(b, &c);
    r->writes[1] = storage_put_agent(b, &a);
    r->writes[2] = storage_put_history(b, &h);
    r->writes[3] = storage_put_audit(b, 0, &fx);
    r->writes[4] = storage_del_contact(b, 9);
    r->commit = storage_batch_commit(b, st->err, sizeof(st->err));
}

/* The first failure answers every later write and the commit; a failed commit keeps
 * nothing, a good one everything. */
static void check_batch(struct store *st, const struct batch_result *r, bool failed)
{
    int first = 0;
    for (int i = 0; i < BATCH_WRITES; i++) {
        if (first != 0 && r->writes[i] != first) {
            AT_FAIL("write %d after a failure answered %s", i, cd_errname(r->writes[i]));
        }
        first = first != 0 ? first : r->writes[i];
    }
    if (first != (failed ? CD_ENOMEM : 0) || r->commit != first) {
        AT_FAIL("the writes answered %s, the commit %s (%s)", cd_errname(first),
                cd_errname(r->commit), st->err);
    }
    if (failed && strstr(st->err, "out of memory") == NULL) {
        AT_FAIL("the commit's message says: %s", st->err);
    }
    struct storage_contact c;
    struct storage_agent a;
    struct storage_history h;
    struct storage_stats stats;
    int want = failed ? CD_ENOTFOUND : 0;
    if (storage_applied(st->s) != (failed ? 0 : 1) ||
        storage_get_contact(st->s, 7, &c) != want ||
        storage_get_agent(st->s, long_name, &a) != want ||
        storage_get_history(st->s, 8, &h) != want || storage_stats(st->s, &stats) != 0 ||
        stats.audit != (failed ? 0 : 1)) {
        AT_FAIL("%s", failed ? "a failed batch kept something" : "a batch lost something");
    }
}

TEST(batch)
{
    struct store *st = STORE;
    long_strings();
    EACH_ATTEMPT
    {
        struct batch_result r;
        fresh_dir(st);
        store_open(st); /* a new encoding buffer, to grow in the batch */
        fault_on();
        write_batch(st, &r);
        bool failed = fault_off();
        check_batch(st, &r, failed);
        store_close(st);
        attempt_end();
    }
    SOME_FAILED;
}

static int count_contact(void *data, const struct storage_contact *c)
{
    (void)c;
    ++*(int *)data;
    return 0;
}

/* A failed snapshot install leaves the records, the applied index and the gaps as they
 * were; a good one replaces them. */
TEST(reset)
{
    struct store *st = STORE;
    long_strings();
    MODEL_INSTALL;
    LOGIN("a1");
    for (int i = 0; i < 12; i++) {
        fx_create(f, i % 2 ? long_key + i : NULL, "sales", (uint8_t)(i % ENGINE_CH_COUNT), 0, 0,
                  NULL, 0, NULL);
    }
    EACH_ATTEMPT
    {
        struct batch_result r;
        struct storage_stats before, after;
        fresh_dir(st);
        store_open(st);
        write_batch(st, &r);
        assert_int_equal(r.commit, 0);
        assert_int_equal(storage_stats(st->s, &before), 0);
        fault_on();
        int rc = storage_reset(st->s, 5, f->e, st->err, sizeof(st->err));
        bool failed = fault_off();
        assert_int_equal(storage_stats(st->s, &after), 0);
        int n = 0;
        assert_int_equal(storage_foreach_contact(st->s, count_contact, &n), 0);
        if (failed ? rc != CD_ENOMEM || memcmp(&before, &after, sizeof(after)) != 0 || n != 1
                   : rc != 0 || after.applied != 5 || n != (int)engine_contact_count(f->e)) {
            AT_FAIL("storage_reset answered %s (%s), %d contact records", cd_errname(rc),
                    st->err, n);
        }
        store_close(st);
        attempt_end();
    }
    SOME_FAILED;
}

/* Serving a peer the history: a page, or CD_ENOMEM. */
TEST(history_export)
{
    struct store *st = STORE;
    long_strings();
    fresh_dir(st);
    store_open(st);
    struct storage_batch *b = NULL;
    assert_int_equal(storage_batch_begin(st->s, 1, &b, st->err, sizeof(st->err)), 0);
    for (uint64_t id = 1; id <= 40; id++) {
        struct engine_history h = history_record(id);
        assert_int_equal(storage_put_history(b, &h), 0);
    }
    assert_int_equal(storage_batch_commit(b, st->err, sizeof(st->err)), 0);
    struct storage_history_cursor from = {.set = false};
    struct cd_buf ref;
    cd_buf_init(&ref);
    assert_int_equal(storage_history_export(st->s, INT64_MIN, INT64_MAX, &from, 1 << 20, &ref),
                     0);
    EACH_ATTEMPT
    {
        struct cd_buf page;
        cd_buf_init(&page);
        fault_on();
        int rc = storage_history_export(st->s, INT64_MIN, INT64_MAX, &from, 1 << 20, &page);
        bool failed = fault_off();
        if (failed ? rc != CD_ENOMEM
                   : rc != 0 || page.len != ref.len || memcmp(page.data, ref.data, ref.len)) {
            AT_FAIL("storage_history_export answered %s", cd_errname(rc));
        }
        cd_buf_close(&page);
        attempt_end();
    }
    SOME_FAILED;
    cd_buf_close(&ref);
}

/* Serving a peer a gap's audit rows: a page, or CD_ENOMEM. */
TEST(audit_export)
{
    struct store *st = STORE;
    long_strings();
    fresh_dir(st);
    store_open(st);
    struct storage_batch *b = NULL;
    assert_int_equal(storage_batch_begin(st->s, 1, &b, st->err, sizeof(st->err)), 0);
    for (uint32_t n = 0; n < 40; n++) {
        struct engine_effect fx = audit_record(1767603600000 + n);
        assert_int_equal(storage_put_audit(b, n, &fx), 0);
    }
    assert_int_equal(storage_batch_commit(b, st->err, sizeof(st->err)), 0);
    struct storage_audit_id from = {0, 0};
    struct cd_buf ref;
    cd_buf_init(&ref);
    assert_int_equal(storage_audit_export(st->s, 0, 1, &from, 1 << 20, &ref), 0);
    EACH_ATTEMPT
    {
        struct cd_buf page;
        cd_buf_init(&page);
        fault_on();
        int rc = storage_audit_export(st->s, 0, 1, &from, 1 << 20, &page);
        bool failed = fault_off();
        if (failed ? rc != CD_ENOMEM
                   : rc != 0 || page.len != ref.len || memcmp(page.data, ref.data, ref.len)) {
            AT_FAIL("storage_audit_export answered %s", cd_errname(rc));
        }
        cd_buf_close(&page);
        attempt_end();
    }
    SOME_FAILED;
    cd_buf_close(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(open),           FX_TEST(batch),        FX_TEST(reset),
        FX_TEST(history_export), FX_TEST(audit_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
