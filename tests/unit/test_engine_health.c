/* Health signals and faults: HEALTH sets the signals, the policy opens and closes faults,
 * FAULT_ACK, _NOTE and _CLOSE, the limits, the kept closed faults and snapshots. */
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

#define S_OK ENGINE_SIGNAL_OK
#define S_WARN ENGINE_SIGNAL_WARN
#define S_BAD ENGINE_SIGNAL_BAD
#define S_GONE ENGINE_SIGNAL_GONE
#define MINOR ENGINE_SEVERITY_MINOR
#define MAJOR ENGINE_SEVERITY_MAJOR

static int health(struct fixture *f, uint8_t n, const struct engine_signal_set *v)
{
    struct engine_command c = {.kind = ENGINE_CMD_HEALTH, .u.health = {n, v}};
    return fx_apply(f, &c);
}

static int set1(struct fixture *f, const char *name, uint8_t st, int64_t val, int64_t since)
{
    struct engine_signal_set v = {name, st, val, since};
    return health(f, 1, &v);
}

static int fcmd(struct fixture *f, uint8_t kind, uint32_t id, const char *who, const char *t)
{
    struct engine_command c = {.kind = kind, .actor = who, .u.fault = {id, t}};
    return fx_apply(f, &c);
}

#define ACK(id, who, text) fcmd(f, ENGINE_CMD_FAULT_ACK, (id), (who), (text))
#define NOTE(id, who, text) fcmd(f, ENGINE_CMD_FAULT_NOTE, (id), (who), (text))
#define CLOSE_BY(id, who, text) fcmd(f, ENGINE_CMD_FAULT_CLOSE, (id), (who), (text))

static struct engine_signal_info signal_of(struct fixture *f, const char *name)
{
    struct engine_signal_info s;
    memset(&s, 0, sizeof(s));
    if (engine_signal_find(f->e, name, &s) != 0) {
        fail_msg("no signal '%s'", name);
    }
    return s;
}

static struct engine_fault_info fault_of(struct fixture *f, uint32_t id)
{
    struct engine_fault_info fi;
    memset(&fi, 0, sizeof(fi));
    if (engine_fault_get(f->e, id, &fi) != 0) {
        fail_msg("no fault %u", id);
    }
    return fi;
}

static struct engine_fault_line line_of(struct fixture *f, uint32_t id, uint32_t i)
{
    struct engine_fault_line l;
    memset(&l, 0, sizeof(l));
    if (engine_fault_log(f->e, id, i, &l) != 0) {
        fail_msg("no line %u in the log of fault %u", i, id);
    }
    return l;
}

TEST(signals_are_kept_in_name_order_with_their_since)
{
    const struct engine_signal_set v[] = {
        {"node.n1.disk_free", S_OK, 80, 0},
        {"cluster.quorum", S_OK, 3, 0},
        {"member.n2.reachable", S_OK, 1, FX_T0 - 5 * FX_SEC},
    };
    EXPECT_OK(health(f, 3, v));
    assert_int_equal(engine_signal_count(f->e), 3);
    struct engine_signal_info s;
    const char *order[] = {"cluster.quorum", "member.n2.reachable", "node.n1.disk_free"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(engine_signal_at(f->e, i, &s), 0);
        assert_string_equal(s.name, order[i]);
    }
    assert_int_equal(engine_signal_at(f->e, 3, &s), CD_ENOTFOUND);
    assert_int_equal(engine_signal_find(f->e, "cluster.elections", &s), CD_ENOTFOUND);
    assert_int_equal(signal_of(f, "cluster.quorum").since, FX_T0); /* 0: the command's time */
    assert_int_equal(signal_of(f, "member.n2.reachable").since, FX_T0 - 5 * FX_SEC);
    assert_int_equal(engine_fault_count(f->e), 0);
    /* the same state again: the since stays, the value is the new one */
    AT(FX_T0 + 10 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_OK, 70, 0));
    s = signal_of(f, "node.n1.disk_free");
    assert_int_equal(s.since, FX_T0);
    assert_int_equal(s.value, 70);
    /* a new state takes the command's time, and then keeps it */
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 15, 0));
    s = signal_of(f, "node.n1.disk_free");
    assert_int_equal(s.state, S_WARN);
    assert_int_equal(s.since, FX_T0 + 10 * FX_SEC);
    AT(FX_T0 + 20 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 12, FX_T0 + 15 * FX_SEC));
    s = signal_of(f, "node.n1.disk_free");
    assert_int_equal(s.since, FX_T0 + 10 * FX_SEC);
    assert_int_equal(s.value, 12);
    /* a past since for a new state is taken */
    EXPECT_OK(set1(f, "cluster.quorum", S_WARN, 2, FX_T0 + 12 * FX_SEC));
    assert_int_equal(signal_of(f, "cluster.quorum").since, FX_T0 + 12 * FX_SEC);
    /* forgetting a signal never set is nothing */
    EXPECT_OK(set1(f, "member.n7.reachable", S_GONE, 0, 0));
    assert_int_equal(engine_signal_count(f->e), 3);
}

TEST(a_member_down_opens_a_minor_fault_that_recovers)
{
    EXPECT_OK(set1(f, "member.n3.reachable", S_OK, 1, 0));
    AT(FX_T0 + 60 * FX_SEC);
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0, FX_T0 + 50 * FX_SEC));
    assert_int_equal(engine_fault_count(f->e), 1);
    assert_int_equal(engine_fault_open_count(f->e, 0), 1);
    assert_int_equal(engine_fault_open_count(f->e, MINOR), 1);
    assert_int_equal(engine_fault_open_count(f->e, MAJOR), 0);
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.severity, MINOR);
    assert_string_equal(fi.kind, "member_down");
    assert_string_equal(fi.component, "node:n3");
    assert_string_equal(fi.signal, "member.n3.reachable");
    assert_int_equal(fi.opened, FX_T0 + 50 * FX_SEC);
    assert_int_equal(fi.closed, 0);
    assert_int_equal(fi.n_log, 1);
    struct engine_fault_line l = line_of(f, 1, 0);
    assert_string_equal(l.what, "opened");
    assert_string_equal(l.actor, "");
    assert_int_equal(l.at, FX_T0 + 50 * FX_SEC);
    assert_int_equal(signal_of(f, "member.n3.reachable").fault, 1);
    /* still bad: the same fault, no second one */
    AT(FX_T0 + 90 * FX_SEC);
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0, 0));
    assert_int_equal(engine_fault_count(f->e), 1);
    assert_int_equal(fault_of(f, 1).n_log, 1);
    /* back to ok: closed at the ok's since, by nobody */
    AT(FX_T0 + 120 * FX_SEC);
    EXPECT_OK(set1(f, "member.n3.reachable", S_OK, 1, 0));
    fi = fault_of(f, 1);
    assert_int_equal(fi.closed, FX_T0 + 120 * FX_SEC);
    assert_string_equal(fi.closed_by, "");
    assert_int_equal(fi.n_log, 2);
    l = line_of(f, 1, 1);
    assert_string_equal(l.what, "recovered");
    assert_int_equal(l.at, FX_T0 + 120 * FX_SEC);
    assert_int_equal(signal_of(f, "member.n3.reachable").fault, 0);
    assert_int_equal(engine_fault_open_count(f->e, 0), 0);
}

TEST(quorum_lost_is_major_even_when_reported_after_the_fact)
{
    EXPECT_OK(set1(f, "cluster.quorum", S_BAD, 1, 0));
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.severity, MAJOR);
    assert_string_equal(fi.kind, "quorum_lost");
    assert_string_equal(fi.component, "cluster");
    assert_int_equal(fi.opened, FX_T0);
    assert_int_equal(engine_fault_open_count(f->e, MAJOR), 1);
    AT(FX_T0 + 30 * FX_SEC);
    EXPECT_OK(set1(f, "cluster.quorum", S_OK, 3, 0));
    assert_int_equal(fault_of(f, 1).closed, FX_T0 + 30 * FX_SEC);
    /* a leader back after an outage tells of it: lost since T1, back since T2 */
    AT(FX_T0 + 600 * FX_SEC);
    EXPECT_OK(set1(f, "cluster.quorum", S_BAD, 1, FX_T0 + 100 * FX_SEC));
    AT(FX_T0 + 601 * FX_SEC);
    EXPECT_OK(set1(f, "cluster.quorum", S_OK, 3, FX_T0 + 400 * FX_SEC));
    fi = fault_of(f, 2);
    assert_int_equal(fi.severity, MAJOR);
    assert_int_equal(fi.opened, FX_T0 + 100 * FX_SEC);
    assert_int_equal(fi.closed, FX_T0 + 400 * FX_SEC);
    assert_int_equal(engine_fault_open_count(f->e, 0), 0);
}

TEST(a_disk_filling_up_raises_its_faults_severity)
{
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 15, 0));
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.severity, MINOR);
    assert_string_equal(fi.kind, "disk_low");
    assert_string_equal(fi.component, "node:n1");
    AT(FX_T0 + 10 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_BAD, 4, 0));
    assert_int_equal(engine_fault_count(f->e), 1);
    assert_int_equal(signal_of(f, "node.n1.disk_free").fault, 1);
    fi = fault_of(f, 1);
    assert_int_equal(fi.severity, MAJOR);
    assert_int_equal(fi.opened, FX_T0);
    assert_int_equal(fi.n_log, 2);
    struct engine_fault_line l = line_of(f, 1, 1);
    assert_string_equal(l.what, "severity");
    assert_int_equal(l.at, FX_T0 + 10 * FX_SEC);
    /* and back down */
    AT(FX_T0 + 20 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 12, 0));
    fi = fault_of(f, 1);
    assert_int_equal(fi.severity, MINOR);
    assert_int_equal(fi.n_log, 3);
    assert_string_equal(line_of(f, 1, 2).what, "severity");
}

/* docs/continuity.md's policy table, written out again here: each built-in rule, the fault
 * it opens and on what; and a warn where only bad has a rule opens none. */
TEST(every_built_in_rule_classifies_as_documented)
{
    static const struct
    {
        const char *signal;
        uint8_t state;
        const char *kind; /* NULL: no fault */
        int severity;
        const char *component;
    } rules[] = {
        {"cluster.quorum", S_BAD, "quorum_lost", MAJOR, "cluster"},
        {"member.n2.reachable", S_BAD, "member_down", MINOR, "node:n2"},
        {"member.n2.lag", S_WARN, NULL, 0, NULL},
        {"member.n2.lag", S_BAD, "member_behind", MINOR, "node:n2"},
        {"node.n1.disk_free", S_WARN, "disk_low", MINOR, "node:n1"},
        {"node.n1.disk_free", S_BAD, "disk_low", MAJOR, "node:n1"},
        {"node.n1.store_used", S_WARN, "store_filling", MINOR, "node:n1"},
        {"node.n1.store_used", S_BAD, "store_filling", MAJOR, "node:n1"},
        {"node.n1.api_errors", S_WARN, NULL, 0, NULL},
        {"node.n1.api_errors", S_BAD, "api_errors", MINOR, "node:n1"},
        {"node.n1.commit_latency", S_WARN, NULL, 0, NULL},
        {"node.n1.commit_latency", S_BAD, "commit_slow", MINOR, "node:n1"},
        {"node.n1.disk_latency", S_WARN, NULL, 0, NULL},
        {"node.n1.disk_latency", S_BAD, "disk_slow", MINOR, "node:n1"},
        {"cluster.elections", S_WARN, "leader_unstable", MINOR, "cluster"},
        {"cluster.elections", S_BAD, "leader_unstable", MAJOR, "cluster"},
        {"queue.sales.agents", S_BAD, "no_agents", MAJOR, "queue:sales"},
        {"queue.sales.service_level", S_WARN, NULL, 0, NULL},
        {"queue.sales.service_level", S_BAD, "service_level_low", MINOR, "queue:sales"},
        {"queue.sales.waiting", S_BAD, "queue_long", MINOR, "queue:sales"},
        {"queue.sales.longest_wait", S_BAD, "wait_long", MINOR, "queue:sales"},
    };
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        AT(FX_T0 + (int64_t)(2 * i) * FX_SEC);
        size_t before = engine_fault_count(f->e);
        EXPECT_OK(set1(f, rules[i].signal, rules[i].state, 1, 0));
        uint32_t id = signal_of(f, rules[i].signal).fault;
        if (rules[i].kind == NULL) {
            assert_int_equal(id, 0);
            assert_int_equal(engine_fault_count(f->e), before);
        } else {
            struct engine_fault_info fi = fault_of(f, id);
            assert_string_equal(fi.kind, rules[i].kind);
            assert_int_equal(fi.severity, rules[i].severity);
            assert_string_equal(fi.component, rules[i].component);
            assert_int_equal(fi.closed, 0);
        }
        AT(FX_T0 + (int64_t)(2 * i + 1) * FX_SEC);
        EXPECT_OK(set1(f, rules[i].signal, S_OK, 0, 0));
        if (id != 0) {
            assert_true(fault_of(f, id).closed != 0);
        }
    }
}

TEST(unknown_signals_fault_only_when_bad)
{
    EXPECT_OK(set1(f, "queue.sales.sl", S_WARN, 70, 0));
    assert_int_equal(engine_fault_count(f->e), 0);
    EXPECT_OK(set1(f, "queue.sales.sl", S_BAD, 40, 0));
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.severity, MINOR);
    assert_string_equal(fi.kind, "queue.sales.sl");
    assert_string_equal(fi.component, "queue:sales"); /* a queue's signals name it */
    EXPECT_OK(set1(f, "mailer", S_BAD, 0, 0));
    fi = fault_of(f, 2);
    assert_string_equal(fi.kind, "mailer");
    assert_string_equal(fi.component, "mailer");
    assert_int_equal(signal_of(f, "mailer").fault, 2);
}

TEST(malformed_health_is_refused_and_changes_nothing)
{
    const struct engine_signal_set start[] = {
        {"member.n2.reachable", S_BAD, 0, 0},
        {"cluster.quorum", S_OK, 3, 0},
    };
    EXPECT_OK(health(f, 2, start));
    AT(FX_T0 + 10 * FX_SEC);
    TICK;
    const uint64_t d = DIGEST;
    struct engine_signal_set v[ENGINE_HEALTH_BATCH + 1];
    memset(v, 0, sizeof(v));
    char names[ENGINE_HEALTH_BATCH + 1][16];
    for (int i = 0; i <= ENGINE_HEALTH_BATCH; i++) {
        snprintf(names[i], sizeof(names[i]), "probe.%02d", i);
        v[i].name = names[i];
        v[i].state = S_BAD;
    }
    assert_int_equal(health(f, 0, v), CD_EINVAL);
    assert_int_equal(health(f, 1, NULL), CD_EINVAL);
    assert_int_equal(health(f, ENGINE_HEALTH_BATCH + 1, v), CD_EINVAL);
    assert_int_equal(DIGEST, d);
    /* each malformed entry, after a good one that must not be applied either */
    char long_name[ENGINE_NAME_MAX + 1];
    memset(long_name, 'x', ENGINE_NAME_MAX);
    long_name[ENGINE_NAME_MAX] = 0;
    const struct engine_signal_set bad[] = {
        {"has space", S_BAD, 0, 0},
        {"", S_BAD, 0, 0},
        {NULL, S_BAD, 0, 0},
        {long_name, S_BAD, 0, 0},
        {"node.n1.disk_free", S_GONE + 1, 0, 0},
        {"node.n1.disk_free", S_BAD, 0, FX_T0 + 10 * FX_SEC + 1},
        {"node.n1.disk_free", S_BAD, 0, -1},
        {"member.n2.reachable", S_OK, 1, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct engine_signal_set two[] = {{"member.n2.reachable", S_OK, 1, 0}, bad[i]};
        assert_int_equal(health(f, 2, two), CD_EINVAL);
        assert_int_equal(DIGEST, d);
        assert_int_equal(f->n_fx, f->mark);
    }
    assert_int_equal(signal_of(f, "member.n2.reachable").state, S_BAD);
    assert_int_equal(engine_fault_open_count(f->e, 0), 1);
    /* a full batch is fine */
    EXPECT_OK(health(f, ENGINE_HEALTH_BATCH, v));
    assert_int_equal(engine_signal_count(f->e), 2 + ENGINE_HEALTH_BATCH);
    assert_int_equal(engine_fault_count(f->e), 1 + ENGINE_HEALTH_BATCH);
    /* in the order given */
    assert_string_equal(fault_of(f, 2).signal, "probe.00");
    assert_string_equal(fault_of(f, 1 + ENGINE_HEALTH_BATCH).signal, "probe.63");
}

TEST(the_signal_table_is_bounded)
{
    struct engine_signal_set v[ENGINE_HEALTH_BATCH];
    static char names[ENGINE_SIGNALS_MAX][16];
    for (int b = 0; b < ENGINE_SIGNALS_MAX / ENGINE_HEALTH_BATCH; b++) {
        for (int i = 0; i < ENGINE_HEALTH_BATCH; i++) {
            char *name = names[b * ENGINE_HEALTH_BATCH + i];
            snprintf(name, sizeof(names[0]), "s.%03d", b * ENGINE_HEALTH_BATCH + i);
            v[i] = (struct engine_signal_set){name, S_OK, 0, 0};
        }
        EXPECT_OK(health(f, ENGINE_HEALTH_BATCH, v));
    }
    assert_int_equal(engine_signal_count(f->e), ENGINE_SIGNALS_MAX);
    const uint64_t d = DIGEST;
    assert_int_equal(set1(f, "s.new", S_OK, 0, 0), CD_ETOOBIG);
    const struct engine_signal_set two[] = {{"s.000", S_WARN, 1, 0}, {"s.new", S_BAD, 0, 0}};
    assert_int_equal(health(f, 2, two), CD_ETOOBIG);
    assert_int_equal(DIGEST, d);
    assert_int_equal(engine_signal_count(f->e), ENGINE_SIGNALS_MAX);
    /* the ones it holds still change; one forgotten makes room */
    EXPECT_OK(set1(f, "s.000", S_WARN, 1, 0));
    EXPECT_OK(set1(f, "s.001", S_GONE, 0, 0));
    EXPECT_OK(set1(f, "s.new", S_OK, 0, 0));
    assert_int_equal(engine_signal_count(f->e), ENGINE_SIGNALS_MAX);
}

TEST(gone_forgets_a_signal_and_closes_its_fault)
{
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0, 0));
    EXPECT_OK(set1(f, "member.n4.reachable", S_OK, 1, 0));
    AT(FX_T0 + 30 * FX_SEC);
    EXPECT_OK(set1(f, "member.n2.reachable", S_GONE, 0, 0));
    struct engine_signal_info s;
    assert_int_equal(engine_signal_find(f->e, "member.n2.reachable", &s), CD_ENOTFOUND);
    assert_int_equal(engine_signal_count(f->e), 1);
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.closed, FX_T0 + 30 * FX_SEC);
    assert_string_equal(fi.closed_by, "");
    assert_string_equal(line_of(f, 1, fi.n_log - 1).what, "recovered");
    assert_int_equal(engine_fault_open_count(f->e, 0), 0);
    /* the member back, and down again: a new fault */
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0, 0));
    assert_int_equal(signal_of(f, "member.n2.reachable").fault, 2);
}

TEST(an_acknowledgement_is_audited_once)
{
    struct engine_signal_set v[12];
    char names[12][24];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof(names[i]), "member.n%02d.reachable", i + 1);
        v[i] = (struct engine_signal_set){names[i], S_BAD, 0, 0};
    }
    EXPECT_OK(health(f, 12, v));
    assert_int_equal(signal_of(f, "member.n12.reachable").fault, 12);
    AT(FX_T0 + 30 * FX_SEC);
    EXPECT_OK(ACK(12, "user:sue", "looking"));
    assert_false(f->res.existing);
    assert_int_equal(fx_count(f, f->mark, ENGINE_FX_AUDIT, 0, NULL), 1);
    const struct fx_effect *a = FX(AUDIT, 0, NULL);
    assert_string_equal(a->action, "fault_ack");
    assert_string_equal(a->object, "12");
    assert_string_equal(a->text, "user:sue");
    struct engine_fault_info fi = fault_of(f, 12);
    assert_int_equal(fi.acked, FX_T0 + 30 * FX_SEC);
    assert_string_equal(fi.acked_by, "user:sue");
    assert_int_equal(fi.n_log, 2);
    struct engine_fault_line l = line_of(f, 12, 1);
    assert_string_equal(l.what, "acked");
    assert_string_equal(l.actor, "user:sue");
    assert_string_equal(l.text, "looking");
    assert_int_equal(l.at, FX_T0 + 30 * FX_SEC);
    /* again, by someone else: nothing changes */
    AT(FX_T0 + 40 * FX_SEC);
    EXPECT_OK(ACK(12, "user:bob", "me too"));
    assert_true(f->res.existing);
    NO_FX(AUDIT, 0, NULL);
    fi = fault_of(f, 12);
    assert_int_equal(fi.acked, FX_T0 + 30 * FX_SEC);
    assert_string_equal(fi.acked_by, "user:sue");
    assert_int_equal(fi.n_log, 2);
    assert_int_equal(ACK(13, "user:sue", ""), CD_ENOTFOUND);
}

TEST(notes_go_into_the_log_up_to_its_cap)
{
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 15, 0));
    AT(FX_T0 + 5 * FX_SEC);
    EXPECT_OK(NOTE(1, "user:bob", "cleared /var/tmp"));
    const struct fx_effect *a = FX(AUDIT, 0, NULL);
    assert_string_equal(a->action, "fault_note");
    assert_string_equal(a->object, "1");
    struct engine_fault_line l = line_of(f, 1, 1);
    assert_string_equal(l.what, "note");
    assert_string_equal(l.actor, "user:bob");
    assert_string_equal(l.text, "cleared /var/tmp");
    assert_int_equal(l.at, FX_T0 + 5 * FX_SEC);
    const uint64_t d = DIGEST;
    assert_int_equal(NOTE(1, "user:bob", ""), CD_EINVAL);
    assert_int_equal(NOTE(1, "user:bob", NULL), CD_EINVAL);
    char text[ENGINE_FAULT_TEXT_MAX + 1];
    memset(text, 'n', ENGINE_FAULT_TEXT_MAX);
    text[ENGINE_FAULT_TEXT_MAX] = 0;
    assert_int_equal(NOTE(1, "user:bob", text), CD_EINVAL);
    assert_int_equal(NOTE(2, "user:bob", "where?"), CD_ENOTFOUND);
    assert_int_equal(DIGEST, d);
    text[ENGINE_FAULT_TEXT_MAX - 1] = 0;
    EXPECT_OK(NOTE(1, "user:bob", text));
    while (fault_of(f, 1).n_log < ENGINE_FAULT_LOG_MAX) {
        EXPECT_OK(NOTE(1, "user:bob", "still filling"));
    }
    assert_int_equal(NOTE(1, "user:bob", "one more"), CD_ETOOBIG);
    NO_FX(AUDIT, 0, NULL);
    assert_int_equal(fault_of(f, 1).n_log, ENGINE_FAULT_LOG_MAX);
    /* a full log does not stop the fault from changing, only its story is shorter */
    AT(FX_T0 + 60 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_BAD, 3, 0));
    assert_int_equal(fault_of(f, 1).severity, MAJOR);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_OK, 40, 0));
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.closed, FX_T0 + 60 * FX_SEC);
    assert_int_equal(fi.n_log, ENGINE_FAULT_LOG_MAX);
}

TEST(a_fault_closed_by_hand_waits_for_its_signal_to_be_ok)
{
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0, 0));
    AT(FX_T0 + 10 * FX_SEC);
    EXPECT_OK(CLOSE_BY(1, "user:sue", "n3 is being replaced"));
    const struct fx_effect *a = FX(AUDIT, 0, NULL);
    assert_string_equal(a->action, "fault_close");
    assert_string_equal(a->object, "1");
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.closed, FX_T0 + 10 * FX_SEC);
    assert_string_equal(fi.closed_by, "user:sue");
    struct engine_fault_line l = line_of(f, 1, fi.n_log - 1);
    assert_string_equal(l.what, "closed");
    assert_string_equal(l.actor, "user:sue");
    assert_string_equal(l.text, "n3 is being replaced");
    struct engine_signal_info s = signal_of(f, "member.n3.reachable");
    assert_int_equal(s.state, S_BAD);
    assert_int_equal(s.fault, 0);
    assert_int_equal(engine_fault_open_count(f->e, 0), 0);
    /* a closed fault cannot be acknowledged or closed again; a note is still welcome */
    const uint64_t d = DIGEST;
    assert_int_equal(ACK(1, "user:bob", ""), CD_ESTATE);
    assert_int_equal(CLOSE_BY(1, "user:bob", ""), CD_ESTATE);
    assert_int_equal(CLOSE_BY(2, "user:bob", ""), CD_ENOTFOUND);
    assert_int_equal(DIGEST, d);
    EXPECT_OK(NOTE(1, "user:bob", "new disk ordered"));
    /* still bad: no new fault */
    AT(FX_T0 + 20 * FX_SEC);
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0, 0));
    assert_int_equal(engine_fault_count(f->e), 1);
    assert_int_equal(signal_of(f, "member.n3.reachable").fault, 0);
    /* ok: nothing to recover, the hand-closed fault stays as it was */
    const uint32_t n_log = fault_of(f, 1).n_log;
    EXPECT_OK(set1(f, "member.n3.reachable", S_OK, 1, 0));
    fi = fault_of(f, 1);
    assert_string_equal(fi.closed_by, "user:sue");
    assert_int_equal(fi.closed, FX_T0 + 10 * FX_SEC);
    assert_int_equal(fi.n_log, n_log);
    /* then bad again: a new fault */
    AT(FX_T0 + 30 * FX_SEC);
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0, 0));
    assert_int_equal(engine_fault_count(f->e), 2);
    assert_int_equal(signal_of(f, "member.n3.reachable").fault, 2);
    assert_int_equal(fault_of(f, 2).opened, FX_T0 + 30 * FX_SEC);
}

TEST(a_fault_closed_by_hand_stays_closed_between_warn_and_bad)
{
    EXPECT_OK(set1(f, "node.n1.disk_free", S_BAD, 3, 0));
    EXPECT_OK(CLOSE_BY(1, "user:sue", "known"));
    AT(FX_T0 + 10 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 12, 0));
    assert_int_equal(engine_fault_count(f->e), 1); /* not ok since: no new fault */
    assert_int_equal(signal_of(f, "node.n1.disk_free").fault, 0);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_BAD, 4, 0));
    assert_int_equal(engine_fault_count(f->e), 1);
    AT(FX_T0 + 20 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_OK, 40, 0));
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 12, 0));
    assert_int_equal(engine_fault_count(f->e), 2);
    assert_int_equal(fault_of(f, 2).severity, MINOR);
}

TEST(the_newest_closed_faults_are_kept_and_ids_never_reused)
{
    EXPECT_OK(set1(f, "cluster.quorum", S_BAD, 1, 0)); /* fault 1, open throughout */
    const int n = ENGINE_FAULTS_KEPT + 10;
    for (int i = 0; i < n; i++) {
        AFTER(FX_SEC);
        EXPECT_OK(set1(f, "member.n9.reachable", S_BAD, 0, 0));
        assert_int_equal(signal_of(f, "member.n9.reachable").fault, (uint32_t)i + 2);
        AFTER(FX_SEC);
        EXPECT_OK(set1(f, "member.n9.reachable", S_OK, 1, 0));
    }
    assert_int_equal(engine_fault_count(f->e), 1 + ENGINE_FAULTS_KEPT);
    assert_int_equal(engine_fault_open_count(f->e, 0), 1);
    struct engine_fault_info fi;
    assert_int_equal(engine_fault_at(f->e, 0, &fi), 0);
    assert_int_equal(fi.id, 1);
    assert_int_equal(fi.closed, 0);
    for (uint32_t id = 2; id < 12; id++) {
        assert_int_equal(engine_fault_get(f->e, id, &fi), CD_ENOTFOUND);
    }
    assert_int_equal(engine_fault_at(f->e, 1, &fi), 0);
    assert_int_equal(fi.id, 12);
    assert_int_equal(engine_fault_at(f->e, ENGINE_FAULTS_KEPT, &fi), 0);
    assert_int_equal(fi.id, (uint32_t)n + 1);
    /* the next one takes the next id, here and in a copy made through a snapshot */
    struct engine *copy = fx_snapshot_copy(f);
    engine_free(f->e);
    f->e = copy;
    AFTER(FX_SEC);
    EXPECT_OK(set1(f, "member.n9.reachable", S_BAD, 0, 0));
    assert_int_equal(signal_of(f, "member.n9.reachable").fault, (uint32_t)n + 2);
    assert_int_equal(engine_fault_count(f->e), 2 + ENGINE_FAULTS_KEPT);
    assert_int_equal(engine_fault_open_count(f->e, 0), 2);
}

/* A state with something of everything: signals in every state, faults open, acknowledged,
 * noted, recovered and closed by hand. */
static void build_health(struct fixture *f)
{
    const struct engine_signal_set v[] = {
        {"cluster.quorum", S_BAD, 1, FX_T0 - 30 * FX_SEC},
        {"member.n2.reachable", S_BAD, 0, 0},
        {"member.n3.reachable", S_OK, 1, 0},
        {"node.n1.disk_free", S_WARN, -15, 0},
        {"queue.sales.sl", S_WARN, 70, 0},
    };
    EXPECT_OK(health(f, 5, v));
    AT(FX_T0 + 10 * FX_SEC);
    EXPECT_OK(ACK(1, "user:sue", "on it"));
    EXPECT_OK(NOTE(1, "user:sue", "a switch went down in rack 3"));
    EXPECT_OK(CLOSE_BY(2, "user:bob", ""));
    AT(FX_T0 + 20 * FX_SEC);
    EXPECT_OK(set1(f, "node.n1.disk_free", S_BAD, -2, 0));
    EXPECT_OK(set1(f, "cluster.quorum", S_OK, 3, 0));
}

/* Everything the health part of a state holds, as text. */
static void add(char *out, size_t *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *k, 8192 - *k, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && *k + (size_t)n < 8192);
    *k += (size_t)n;
}

static void render(const struct engine *e, char *out)
{
    size_t k = 0;
    struct engine_signal_info s;
    struct engine_fault_info x;
    struct engine_fault_line l;
    out[0] = 0;
    for (size_t i = 0; engine_signal_at(e, i, &s) == 0; i++) {
        add(out, &k, "%s %d %lld %lld %u\n", s.name, s.state, (long long)s.value,
            (long long)s.since, s.fault);
    }
    for (size_t i = 0; engine_fault_at(e, i, &x) == 0; i++) {
        add(out, &k, "%u %d %s %s %s %lld %lld %lld %s %s %u\n", x.id, x.severity, x.kind,
            x.component, x.signal, (long long)x.opened, (long long)x.closed, (long long)x.acked,
            x.acked_by, x.closed_by, x.n_log);
        for (uint32_t j = 0; engine_fault_log(e, x.id, j, &l) == 0; j++) {
            add(out, &k, "  %lld %s %s %s\n", (long long)l.at, l.actor, l.what, l.text);
        }
    }
}

TEST(signals_and_faults_survive_a_snapshot)
{
    build_health(f);
    assert_int_equal(engine_signal_count(f->e), 5);
    assert_int_equal(engine_fault_count(f->e), 3);
    assert_int_equal(engine_fault_open_count(f->e, 0), 1);
    struct engine_fault_info fi = fault_of(f, 1);
    assert_int_equal(fi.n_log, 4); /* opened, acked, note, recovered */
    assert_int_equal(fi.closed, FX_T0 + 20 * FX_SEC);
    struct engine *copy = fx_snapshot_copy(f);
    static char before[8192], after[8192];
    render(f->e, before);
    render(copy, after);
    engine_free(copy);
    assert_true(strstr(before, "a switch went down in rack 3") != NULL);
    assert_string_equal(before, after);
}

TEST(every_truncation_of_a_snapshot_with_health_is_refused)
{
    build_health(f);
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    for (size_t len = 0; len < b.len; len++) {
        struct engine *copy = NULL;
        uint8_t *cut = malloc(len > 0 ? len : 1);
        assert_non_null(cut);
        memcpy(cut, b.data, len);
        int rc = engine_decode(cut, len, &copy);
        free(cut);
        if (rc == 0) {
            engine_free(copy);
            fail_msg("a snapshot cut to %zu of %zu bytes was taken", len, b.len);
        }
        if (len + 200 >= b.len) {
            assert_int_equal(rc, CD_ECORRUPT);
        }
    }
    cd_buf_close(&b);
}

TEST(a_pattern_matches_segment_by_segment)
{
    (void)f;
    assert_true(engine_signal_match("member.*.reachable", "member.n2.reachable"));
    assert_false(engine_signal_match("member.*.reachable", "member.n2"));
    assert_false(engine_signal_match("member.*.reachable", "member.n2.reachable.x"));
    assert_false(engine_signal_match("member.*.reachable", "node.n2.reachable"));
    assert_true(engine_signal_match("cluster.quorum", "cluster.quorum"));
    assert_false(engine_signal_match("cluster.quorum", "cluster"));
    assert_true(engine_signal_match("*", "anything"));
    assert_true(engine_signal_match("*", "member.n2.reachable"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(signals_are_kept_in_name_order_with_their_since),
        FX_TEST(a_member_down_opens_a_minor_fault_that_recovers),
        FX_TEST(quorum_lost_is_major_even_when_reported_after_the_fact),
        FX_TEST(a_disk_filling_up_raises_its_faults_severity),
        FX_TEST(every_built_in_rule_classifies_as_documented),
        FX_TEST(unknown_signals_fault_only_when_bad),
        FX_TEST(malformed_health_is_refused_and_changes_nothing),
        FX_TEST(the_signal_table_is_bounded),
        FX_TEST(gone_forgets_a_signal_and_closes_its_fault),
        FX_TEST(an_acknowledgement_is_audited_once),
        FX_TEST(notes_go_into_the_log_up_to_its_cap),
        FX_TEST(a_fault_closed_by_hand_waits_for_its_signal_to_be_ok),
        FX_TEST(a_fault_closed_by_hand_stays_closed_between_warn_and_bad),
        FX_TEST(the_newest_closed_faults_are_kept_and_ids_never_reused),
        FX_TEST(signals_and_faults_survive_a_snapshot),
        FX_TEST(every_truncation_of_a_snapshot_with_health_is_refused),
        FX_TEST(a_pattern_matches_segment_by_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
