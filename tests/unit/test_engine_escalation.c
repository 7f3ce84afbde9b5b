/* The model's continuity part: its fault rules before the built-in policy, FAULT_ESCALATE
 * opening the levels of a path and FAULT_NOTIFIED recording each notification's outcome,
 * the checks of the part, its binary form and the notices in snapshots. */
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
#define MINOR ENGINE_SEVERITY_MINOR
#define MAJOR ENGINE_SEVERITY_MAJOR
#define SEV(s) ((uint8_t)(1u << (s)))
#define WEBHOOK ENGINE_NOTIFY_WEBHOOK
#define EMAIL ENGINE_NOTIFY_EMAIL
#define PAGER "http://10.0.0.5:9000/page"
#define ONCALL "oncall@example.com"
#define HEAD "head-of-ops@example.com"
#define APPHOOK "http://10.0.0.7:8080/hook"

/* ---- Building the continuity part ------------------------------------------------------ */

/* Four rules and two paths: "platform" takes major faults of nodes and the cluster (two
 * levels), "apps" any fault of component "app" (one level, after a minute). The arrays have
 * room for one rule and one path past the limits, so that the limits can be tested. */
static void build(struct engine_model *m)
{
    m->fault_rules = calloc(ENGINE_FAULT_RULES_MAX + 1, sizeof(*m->fault_rules));
    m->escalations = calloc(ENGINE_ESCALATIONS_MAX + 1, sizeof(*m->escalations));
    assert_true(m->fault_rules != NULL && m->escalations != NULL);
    const struct engine_fault_rule_def rules[] = {
        {"member.*.reachable", S_BAD, "member_lost", MAJOR},
        {"app.*.latency", S_WARN, "", MINOR},
        {"node.*.disk_free", S_WARN, "disk_tight", MAJOR},
        {"app.*.down", S_BAD, "app_down", MAJOR},
    };
    memcpy(m->fault_rules, rules, sizeof(rules));
    m->n_fault_rules = 4;
    struct engine_escalation_path *p = &m->escalations[0];
    *p = (struct engine_escalation_path){.name = "platform", .severities = SEV(MAJOR)};
    p->n_components = 2;
    snprintf(p->components[0], sizeof(p->components[0]), "node:*");
    snprintf(p->components[1], sizeof(p->components[1]), "cluster");
    p->n_levels = 2;
    p->levels[0] = (struct engine_escalation_level){0, 2, {{WEBHOOK, PAGER}, {EMAIL, ONCALL}}};
    p->levels[1] = (struct engine_escalation_level){600, 1, {{EMAIL, HEAD}}};
    p = &m->escalations[1];
    *p = (struct engine_escalation_path){.name = "apps", .severities = SEV(MINOR) | SEV(MAJOR)};
    p->n_components = 1;
    snprintf(p->components[0], sizeof(p->components[0]), "app");
    p->n_levels = 1;
    p->levels[0] = (struct engine_escalation_level){60, 1, {{WEBHOOK, APPHOOK}}};
    m->n_escalations = 2;
}

/* Adds rules and paths that take minor faults of any component, up to n of each. */
static void fill(struct engine_model *m, uint32_t n_rules, uint32_t n_paths)
{
    while (m->n_fault_rules < n_rules) {
        m->fault_rules[m->n_fault_rules++] =
            (struct engine_fault_rule_def){"cluster.*", S_BAD, "", MINOR};
    }
    while (m->n_escalations < n_paths) {
        struct engine_escalation_path *p = &m->escalations[m->n_escalations];
        *p = (struct engine_escalation_path){.severities = SEV(MINOR), .n_levels = 1};
        p->levels[0] = (struct engine_escalation_level){0, 1, {{EMAIL, ONCALL}}};
        snprintf(p->name, sizeof(p->name), "extra%u", m->n_escalations++);
    }
}

static void install(struct fixture *f)
{
    fx_queue(f, "sales", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    build(&f->m);
    MODEL_INSTALL;
}

/* ---- Commands and queries -------------------------------------------------------------- */

static int set1(struct fixture *f, const char *name, uint8_t st, int64_t since)
{
    struct engine_signal_set v = {name, st, 0, since};
    struct engine_command c = {.kind = ENGINE_CMD_HEALTH, .u.health = {1, &v}};
    return fx_apply(f, &c);
}

static int fcmd(struct fixture *f, uint8_t kind, uint32_t id, const char *t)
{
    struct engine_command c = {.kind = kind, .actor = "user:sue", .u.fault = {id, t}};
    return fx_apply(f, &c);
}

static int escalate(struct fixture *f, uint32_t id, const char *p, uint8_t lv)
{
    struct engine_command c = {.kind = ENGINE_CMD_FAULT_ESCALATE,
                               .u.fault = {.id = id, .path = p, .level = lv}};
    return fx_apply(f, &c);
}

/* FAULT_NOTIFIED of the level's target t: ok, or failed and to retry at `retry`. */
static int notified(struct fixture *f,
                    uint32_t id,
                    const char *p,
                    uint8_t lv,
                    uint8_t t,
                    bool ok,
                    const char *text,
                    int64_t retry)
{
    struct engine_command c = {.kind = ENGINE_CMD_FAULT_NOTIFIED,
                               .u.fault = {id, text, p, lv, t, ok, retry}};
    return fx_apply(f, &c);
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

/* A time as seconds after FX_T0, "-" for 0. */
static const char *rel(char *buf, int64_t t)
{
    snprintf(buf, 24, t == 0 ? "-" : "%g", (double)(t - FX_T0) / 1000);
    return buf;
}

/* The last line of a fault's log: "what @seconds text", the actor first when there is one. */
static const char *last_line(struct fixture *f, uint32_t id)
{
    static char out[ENGINE_FAULT_TEXT_MAX + 128];
    struct engine_fault_line l;
    char t[24];
    assert_int_equal(engine_fault_log(f->e, id, fault_of(f, id).n_log - 1, &l), 0);
    snprintf(out, sizeof(out), "%s%s%s @%s %s", l.actor, l.actor[0] ? " " : "", l.what,
             rel(t, l.at), l.text);
    return out;
}

/* Notice i of a fault: "path level.target kind address state xattempts opened retry_at at
 * 'text'" (times as rel()), or "none". */
static const char *notice_in(const struct engine *e, uint32_t id, uint32_t i, char *out)
{
    struct engine_fault_notice n;
    char t[3][24];
    if (engine_fault_notice(e, id, i, &n) != 0) {
        return strcpy(out, "none");
    }
    snprintf(out, 512, "%s %u.%u %s %s %s x%u %s %s %s '%s'", n.path, n.level, n.target,
             n.kind == EMAIL ? "email" : "webhook", n.address,
             engine_notice_state_name(n.state), n.attempts, rel(t[0], n.opened),
             rel(t[1], n.retry_at), rel(t[2], n.at), n.text);
    return out;
}

static char notice_buf[512];
#define NOTICE(id, i) notice_in(f->e, (id), (i), notice_buf)

/* A refused command changes nothing (the clock is brought to now first: any command,
 * refused or not, moves it). */
#define REFUSED(expr, code)                  \
    do {                                     \
        TICK;                                \
        uint64_t d_ = DIGEST;                \
        assert_int_equal((expr), (code));    \
        assert_true(f->res.message[0] != 0); \
        assert_int_equal(DIGEST, d_);        \
    } while (0)

/* ---- The model's fault rules ----------------------------------------------------------- */

#define ASSERT_FAULT(id, sev, k, comp)                    \
    do {                                                  \
        struct engine_fault_info fi_ = fault_of(f, (id)); \
        assert_int_equal(fi_.severity, (sev));            \
        assert_string_equal(fi_.kind, (k));               \
        assert_string_equal(fi_.component, (comp));       \
    } while (0)

TEST(model_rules_come_before_the_builtin_policy)
{
    /* without a model: the built-in policy, which has no fault for a latency warning */
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0));
    ASSERT_FAULT(1, MINOR, "member_down", "node:n3");
    EXPECT_OK(set1(f, "app.web.latency", S_WARN, 0));
    assert_int_equal(engine_fault_count(f->e), 1);
    install(f);
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0));
    ASSERT_FAULT(2, MAJOR, "member_lost", "node:n2");
    assert_string_equal(fault_of(f, 2).signal, "member.n2.reachable");
    /* kind "": the signal's name; rules for warn */
    EXPECT_OK(set1(f, "app.api.latency", S_WARN, 0));
    ASSERT_FAULT(3, MINOR, "app.api.latency", "app");
    EXPECT_OK(set1(f, "node.n1.disk_free", S_WARN, 0));
    ASSERT_FAULT(4, MAJOR, "disk_tight", "node:n1");
    /* what the model's rules do not name still goes to the built-in ones */
    EXPECT_OK(set1(f, "member.n4.reachable", S_WARN, 0));
    EXPECT_OK(set1(f, "cluster.quorum", S_BAD, 0));
    ASSERT_FAULT(5, MAJOR, "quorum_lost", "cluster");
    assert_int_equal(engine_fault_count(f->e), 5);
}

/* ---- FAULT_ESCALATE -------------------------------------------------------------------- */

static void reinstall(struct fixture *f, bool continuity)
{
    engine_model_close(&f->m);
    engine_model_init(&f->m);
    fx_queue(f, "sales", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    if (continuity) {
        build(&f->m);
        fx_copy_str(f->m.escalations[0].levels[0].to[0].address, ENGINE_ADDRESS_MAX,
                    "http://10.9.9.9:1/other");
    }
    MODEL_INSTALL;
}

TEST(escalate_opens_one_level_with_a_notice_per_address)
{
    install(f);
    /* reported after the fact: opened 100 s ago */
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, FX_T0 - 100 * FX_SEC));
    uint32_t lines = fault_of(f, 1).n_log;
    EXPECT_OK(escalate(f, 1, "platform", 0));
    assert_int_equal(fault_of(f, 1).n_notices, 2);
    assert_int_equal(fault_of(f, 1).n_log, lines + 1);
    assert_string_equal(NOTICE(1, 0), "platform 0.0 webhook " PAGER " pending x0 0 0 - ''");
    assert_string_equal(NOTICE(1, 1), "platform 0.1 email " ONCALL " pending x0 0 0 - ''");
    assert_string_equal(NOTICE(1, 2), "none");
    assert_string_equal(NOTICE(9, 0), "none");
    assert_string_equal(last_line(f, 1), "escalated @0 platform level 1: 2 to notify");
    /* once is enough; the next level only when due from the fault's opening */
    REFUSED(escalate(f, 1, "platform", 0), CD_EEXISTS);
    AT(FX_T0 + 500 * FX_SEC - 1);
    REFUSED(escalate(f, 1, "platform", 1), CD_ESTATE);
    AT(FX_T0 + 500 * FX_SEC);
    EXPECT_OK(escalate(f, 1, "platform", 1));
    assert_int_equal(fault_of(f, 1).n_notices, 3);
    assert_string_equal(NOTICE(1, 2), "platform 1.0 email " HEAD " pending x0 500 500 - ''");
    assert_string_equal(last_line(f, 1), "escalated @500 platform level 2: 1 to notify");
    REFUSED(escalate(f, 1, "platform", 1), CD_EEXISTS);
    /* a later model does not change the addresses copied */
    reinstall(f, true);
    assert_string_equal(NOTICE(1, 0), "platform 0.0 webhook " PAGER " pending x0 0 0 - ''");
    /* a model without the path: what was opened still records, nothing more opens */
    reinstall(f, false);
    EXPECT_OK(notified(f, 1, "platform", 0, 1, true, NULL, 0));
    assert_string_equal(NOTICE(1, 1), "platform 0.1 email " ONCALL " sent x1 0 0 500 ''");
    REFUSED(escalate(f, 1, "platform", 1), CD_EINVAL);
}

TEST(escalate_refuses_what_the_contract_rules_out)
{
    /* no model: no path */
    EXPECT_OK(set1(f, "member.n9.reachable", S_BAD, 0));
    REFUSED(escalate(f, 1, "platform", 0), CD_EINVAL);
    install(f);
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0)); /* 2: major, node:n2 */
    EXPECT_OK(set1(f, "app.web.latency", S_WARN, 0));    /* 3: minor, app */
    EXPECT_OK(set1(f, "app.web.down", S_BAD, 0));        /* 4: major, app */
    EXPECT_OK(set1(f, "cluster.quorum", S_BAD, 0));      /* 5: major, cluster */
    EXPECT_OK(set1(f, "member.n3.reachable", S_BAD, 0)); /* 6 */
    EXPECT_OK(set1(f, "member.n4.reachable", S_BAD, 0)); /* 7 */
    EXPECT_OK(set1(f, "member.n5.reachable", S_BAD, 0)); /* 8 */
    AT(FX_T0 + 60 * FX_SEC - 1);
    REFUSED(escalate(f, 4, "apps", 0), CD_ESTATE); /* due a minute after it opened */
    AT(FX_T0 + 3600 * FX_SEC);
    REFUSED(escalate(f, 99, "platform", 0), CD_ENOTFOUND);
    REFUSED(escalate(f, 2, "nope", 0), CD_EINVAL);
    REFUSED(escalate(f, 2, NULL, 0), CD_EINVAL);
    REFUSED(escalate(f, 2, "platform", 2), CD_EINVAL);
    REFUSED(escalate(f, 2, "apps", 0), CD_EINVAL);     /* component node:n2 */
    REFUSED(escalate(f, 3, "platform", 0), CD_EINVAL); /* minor */
    REFUSED(escalate(f, 4, "platform", 0), CD_EINVAL); /* component app */
    EXPECT_OK(escalate(f, 3, "apps", 0));
    EXPECT_OK(escalate(f, 4, "apps", 0));
    EXPECT_OK(escalate(f, 5, "platform", 0));
    /* acknowledged, recovered, closed by hand */
    EXPECT_OK(fcmd(f, ENGINE_CMD_FAULT_ACK, 6, ""));
    REFUSED(escalate(f, 6, "platform", 0), CD_ESTATE);
    EXPECT_OK(set1(f, "member.n4.reachable", S_OK, 0));
    REFUSED(escalate(f, 7, "platform", 0), CD_ESTATE);
    EXPECT_OK(fcmd(f, ENGINE_CMD_FAULT_CLOSE, 8, "known"));
    REFUSED(escalate(f, 8, "platform", 0), CD_ESTATE);
    /* one escalated already goes no further once acknowledged */
    EXPECT_OK(escalate(f, 2, "platform", 0));
    EXPECT_OK(fcmd(f, ENGINE_CMD_FAULT_ACK, 2, ""));
    REFUSED(escalate(f, 2, "platform", 1), CD_ESTATE);
    assert_int_equal(fault_of(f, 2).n_notices, 2);
    /* a full log takes the escalation without its line */
    EXPECT_OK(set1(f, "member.n6.reachable", S_BAD, 0));
    while (fault_of(f, 9).n_log < ENGINE_FAULT_LOG_MAX) {
        EXPECT_OK(fcmd(f, ENGINE_CMD_FAULT_NOTE, 9, "still down"));
    }
    EXPECT_OK(escalate(f, 9, "platform", 0));
    assert_int_equal(fault_of(f, 9).n_notices, 2);
    assert_int_equal(fault_of(f, 9).n_log, ENGINE_FAULT_LOG_MAX);
}

/* ---- FAULT_NOTIFIED -------------------------------------------------------------------- */

TEST(a_notice_sent_is_recorded_once)
{
    install(f);
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0));
    EXPECT_OK(escalate(f, 1, "platform", 0));
    uint32_t lines = fault_of(f, 1).n_log;
    AT(FX_T0 + 2 * FX_SEC);
    EXPECT_OK(notified(f, 1, "platform", 0, 0, true, "202 Accepted", 0));
    assert_string_equal(NOTICE(1, 0),
                        "platform 0.0 webhook " PAGER " sent x1 0 0 2 '202 Accepted'");
    assert_int_equal(fault_of(f, 1).n_log, lines + 1);
    assert_string_equal(last_line(f, 1),
                        "notified @2 platform level 1: webhook " PAGER ": 202 Accepted");
    assert_string_equal(NOTICE(1, 1), "platform 0.1 email " ONCALL " pending x0 0 0 - ''");
    /* a second leader's report of the same one */
    AT(FX_T0 + 3 * FX_SEC);
    REFUSED(notified(f, 1, "platform", 0, 0, true, "202 Accepted", 0), CD_ESTATE);
    REFUSED(notified(f, 1, "platform", 0, 0, false, "timeout", FX_T0 + 60 * FX_SEC), CD_ESTATE);
    assert_int_equal(fault_of(f, 1).n_log, lines + 1);
    EXPECT_OK(notified(f, 1, "platform", 0, 1, true, "250 queued", 0));
    assert_string_equal(last_line(f, 1),
                        "notified @3 platform level 1: email " ONCALL ": 250 queued");
    /* an acknowledgement does not stop recording what was sent */
    AT(FX_T0 + 600 * FX_SEC);
    EXPECT_OK(escalate(f, 1, "platform", 1));
    EXPECT_OK(fcmd(f, ENGINE_CMD_FAULT_ACK, 1, ""));
    EXPECT_OK(notified(f, 1, "platform", 1, 0, true, "250 ok", 0));
    assert_string_equal(NOTICE(1, 2),
                        "platform 1.0 email " HEAD " sent x1 600 600 600 '250 ok'");
}

TEST(failures_retry_until_the_tenth_gives_up)
{
    install(f);
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0));
    EXPECT_OK(escalate(f, 1, "platform", 0));
    uint32_t lines = fault_of(f, 1).n_log;
    AT(FX_T0 + 5 * FX_SEC);
    TICK;
    uint64_t d = DIGEST;
    EXPECT_OK(notified(f, 1, "platform", 0, 0, false, "refused", FX_T0 + 35 * FX_SEC));
    assert_true(DIGEST != d);
    assert_string_equal(NOTICE(1, 0),
                        "platform 0.0 webhook " PAGER " pending x1 0 35 5 'refused'");
    /* a retry_at in the past, or none, is now */
    AT(FX_T0 + 40 * FX_SEC);
    EXPECT_OK(notified(f, 1, "platform", 0, 0, false, "timeout", FX_T0 + 10 * FX_SEC));
    assert_string_equal(NOTICE(1, 0),
                        "platform 0.0 webhook " PAGER " pending x2 0 40 40 'timeout'");
    AT(FX_T0 + 50 * FX_SEC);
    EXPECT_OK(notified(f, 1, "platform", 0, 0, false, "", 0));
    assert_string_equal(NOTICE(1, 0), "platform 0.0 webhook " PAGER " pending x3 0 50 50 ''");
    for (int k = 4; k <= 9; k++) {
        AFTER(60 * FX_SEC);
        EXPECT_OK(notified(f, 1, "platform", 0, 0, false, "503", f->now + 60 * FX_SEC));
        char want[128];
        snprintf(want, sizeof(want), "platform 0.0 webhook " PAGER " pending x%d 0 %d %d '503'",
                 k, 50 + (k - 3) * 60 + 60, 50 + (k - 3) * 60);
        assert_string_equal(NOTICE(1, 0), want);
    }
    assert_int_equal(fault_of(f, 1).n_log, lines);
    AT(FX_T0 + 500 * FX_SEC);
    EXPECT_OK(notified(f, 1, "platform", 0, 0, false, "503", FX_T0 + 560 * FX_SEC));
    assert_string_equal(NOTICE(1, 0),
                        "platform 0.0 webhook " PAGER " given_up x10 0 470 500 '503'");
    assert_int_equal(fault_of(f, 1).n_log, lines + 1);
    assert_string_equal(last_line(f, 1),
                        "not_notified @500 platform level 1: webhook " PAGER ": 503");
    REFUSED(notified(f, 1, "platform", 0, 0, false, "503", 0), CD_ESTATE);
    REFUSED(notified(f, 1, "platform", 0, 0, true, "200", 0), CD_ESTATE);
    /* the other address of the level was never touched */
    assert_string_equal(NOTICE(1, 1), "platform 0.1 email " ONCALL " pending x0 0 0 - ''");
}

TEST(notified_refuses_unknown_notices)
{
    install(f);
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0));
    EXPECT_OK(escalate(f, 1, "platform", 0));
    REFUSED(notified(f, 7, "platform", 0, 0, true, "", 0), CD_ENOTFOUND);
    REFUSED(notified(f, 1, "apps", 0, 0, true, "", 0), CD_ENOTFOUND);
    REFUSED(notified(f, 1, "nope", 0, 0, true, "", 0), CD_ENOTFOUND);
    REFUSED(notified(f, 1, NULL, 0, 0, true, "", 0), CD_ENOTFOUND);
    REFUSED(notified(f, 1, "platform", 1, 0, true, "", 0), CD_ENOTFOUND); /* not opened */
    REFUSED(notified(f, 1, "platform", 0, 2, true, "", 0), CD_ENOTFOUND);
    char big[ENGINE_FAULT_TEXT_MAX + 1];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    REFUSED(notified(f, 1, "platform", 0, 0, true, big, 0), CD_EINVAL);
    big[ENGINE_FAULT_TEXT_MAX - 1] = 0;
    EXPECT_OK(notified(f, 1, "platform", 0, 0, true, big, 0));
    struct engine_fault_notice n;
    assert_int_equal(engine_fault_notice(f->e, 1, 0, &n), 0);
    assert_int_equal(strlen(n.text), ENGINE_FAULT_TEXT_MAX - 1);
}

/* ---- Matching -------------------------------------------------------------------------- */

TEST(components_match_as_globs)
{
    (void)f;
    assert_true(engine_component_match("node:*", "node:n2"));
    assert_true(engine_component_match("node:*", "node:"));
    assert_false(engine_component_match("node:*", "cluster"));
    assert_false(engine_component_match("cluster", "node:n2"));
    assert_true(engine_component_match("cluster", "cluster"));
    assert_false(engine_component_match("cluster", "clusters"));
    assert_true(engine_component_match("clus*", "cluster"));
    assert_true(engine_component_match("*", ""));
    assert_true(engine_component_match("*:n2", "node:n2"));
    assert_false(engine_component_match("*:n2", "node:n23"));
    assert_true(engine_component_match("a*b*c", "abxbc"));
    assert_false(engine_component_match("node:n?", "node:n2"));
    assert_false(engine_component_match("", "x"));
}

/* Which of the paths takes a fault: one letter for each (its name's first), '-' for none. */
static const char *takers(const struct engine_model *m, uint8_t sev, const char *comp)
{
    static char out[ENGINE_ESCALATIONS_MAX + 1];
    struct engine_fault_info fi = {.severity = sev, .component = comp};
    for (uint32_t i = 0; i < m->n_escalations; i++) {
        out[i] =
            engine_escalation_takes(&m->escalations[i], &fi) ? m->escalations[i].name[0] : '-';
    }
    out[m->n_escalations] = 0;
    return out;
}

TEST(a_path_takes_faults_by_severity_and_component)
{
    build(&f->m);
    fill(&f->m, 0, 3);
    assert_string_equal(takers(&f->m, MAJOR, "node:n2"), "p--");
    assert_string_equal(takers(&f->m, MAJOR, "cluster"), "p--");
    assert_string_equal(takers(&f->m, MAJOR, "app"), "-a-");
    assert_string_equal(takers(&f->m, MINOR, "app"), "-ae");
    assert_string_equal(takers(&f->m, MINOR, "node:n2"), "--e");
    assert_string_equal(takers(&f->m, MINOR, "anything"), "--e");
    assert_string_equal(takers(&f->m, MAJOR, "apps"), "---");
}

/* ---- Checks of the continuity part ----------------------------------------------------- */

static void refused(struct engine_model *m, const char *msg, int line)
{
    char err[256] = "";
    int rc = engine_model_validate(m, err, sizeof(err));
    engine_model_close(m);
    if (rc != CD_EINVAL || strstr(err, msg) == NULL) {
        fail_msg("line %d: %s '%s', expected '%s'", line, cd_strerror(rc), err, msg);
    }
}

/* build()'s model, changed by `change` (m is the model), is refused with a message that
 * says msg. */
#define REFUSES(change, msg)                                \
    do {                                                    \
        struct engine_model *m = &(struct engine_model){0}; \
        engine_model_init(m);                               \
        build(m);                                           \
        change;                                             \
        refused(m, (msg), __LINE__);                        \
    } while (0)
#define COPY(dst, s) snprintf((dst), sizeof(dst), "%s", (s))
#define FRULE(i) m->fault_rules[(i)]
#define PATH(i) m->escalations[(i)]
#define LEVEL(i) m->escalations[0].levels[(i)]
#define TO(t) m->escalations[0].levels[0].to[(t)]

TEST(the_model_check_takes_every_limit_and_nothing_past_it)
{
    build(&f->m);
    struct engine_escalation_path *p = &f->m.escalations[0];
    snprintf(p->components[2], sizeof(p->components[2]), "*");
    snprintf(p->components[3], sizeof(p->components[3]), "vendor:*");
    p->n_components = ENGINE_COMPONENTS_MAX;
    p->levels[2] = (struct engine_escalation_level){
        3600, 4, {{WEBHOOK, "http://x"}, {EMAIL, "a@b"}, {WEBHOOK, PAGER}, {EMAIL, ONCALL}}};
    p->levels[3] = (struct engine_escalation_level){7 * 86400, 1, {{EMAIL, HEAD}}};
    p->n_levels = ENGINE_LEVELS_MAX;
    fill(&f->m, ENGINE_FAULT_RULES_MAX, ENGINE_ESCALATIONS_MAX);
    MODEL_INSTALL;
    /* fault rules */
    REFUSES(COPY(FRULE(0).signal, "member..x"), "fault rule 1: signal pattern invalid");
    REFUSES(COPY(FRULE(0).signal, "a.b c"), "fault rule 1: signal pattern invalid");
    REFUSES(COPY(FRULE(1).signal, "member.*x.reachable"),
            "fault rule 2: signal pattern invalid");
    REFUSES(COPY(FRULE(3).signal, "member.*."), "fault rule 4: signal pattern invalid");
    REFUSES(COPY(FRULE(3).signal, ""), "fault rule 4: signal pattern invalid");
    REFUSES(FRULE(0).state = S_OK, "fault rule 1: state must be warn or bad");
    REFUSES(FRULE(0).state = ENGINE_SIGNAL_GONE, "fault rule 1: state must be warn or bad");
    REFUSES(FRULE(2).severity = 0, "fault rule 3: severity invalid");
    REFUSES(FRULE(2).severity = 3, "fault rule 3: severity invalid");
    REFUSES(COPY(FRULE(0).kind, "two words"), "fault rule 1: kind invalid");
    REFUSES(fill(m, ENGINE_FAULT_RULES_MAX + 1, 0), "at most 32 fault rules");
    /* paths */
    REFUSES(COPY(PATH(1).name, "platform"), "escalation 'platform' given twice");
    REFUSES(PATH(0).name[0] = 0, "name invalid");
    REFUSES(PATH(0).severities = 0, "escalation 'platform': severities invalid");
    REFUSES(PATH(1).severities = SEV(MAJOR) | 8, "escalation 'apps': severities invalid");
    REFUSES(PATH(0).n_components = 5, "'platform': 0-4 components, 1-4 levels");
    REFUSES(COPY(PATH(0).components[1], "node: *"), "'platform': component pattern");
    REFUSES(PATH(1).components[0][0] = 0, "'apps': component pattern");
    REFUSES(PATH(0).n_levels = 0, "'platform': 0-4 components, 1-4 levels");
    REFUSES(PATH(1).n_levels = 5, "'apps': 0-4 components, 1-4 levels");
    REFUSES(fill(m, 0, ENGINE_ESCALATIONS_MAX + 1), "and 8 escalation paths");
    /* levels and addresses */
    REFUSES(LEVEL(1).after_s = 0, "'platform': level 2 must come after level 1");
    REFUSES(LEVEL(0).after_s = 601, "'platform': level 2 must come after level 1");
    REFUSES(LEVEL(1).n_to = 0, "'platform': level 2 notifies 1-4");
    REFUSES(LEVEL(0).n_to = 5, "'platform': level 1 notifies 1-4");
    REFUSES(TO(0).kind = ENGINE_NOTIFY_KIND_COUNT, "level 1: address 1 invalid");
    REFUSES(COPY(TO(0).address, "https://10.0.0.5/page"), "level 1: address 1 invalid");
    REFUSES(COPY(TO(0).address, "http://"), "level 1: address 1 invalid");
    REFUSES(COPY(TO(0).address, "http://a b/"), "level 1: address 1 invalid");
    REFUSES(COPY(TO(0).address, "10.0.0.5:9000"), "level 1: address 1 invalid");
    REFUSES(COPY(TO(1).address, "oncall.example.com"), "level 1: address 2 invalid");
    REFUSES(COPY(TO(1).address, "@example.com"), "level 1: address 2 invalid");
    REFUSES(COPY(TO(1).address, "oncall@"), "level 1: address 2 invalid");
    REFUSES(COPY(TO(1).address, "a@b@c"), "level 1: address 2 invalid");
    /* the installer refuses such a model and keeps the one it has */
    f->m.fault_rules[1].severity = 0;
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL, .u.install = {2, &f->m}};
    assert_int_equal(fx_apply(f, &c), CD_EINVAL);
    assert_int_equal(engine_model_version(f->e), 1);
}

/* ---- The binary form ------------------------------------------------------------------- */

static void encode(const struct engine_model *m, struct cd_buf *b)
{
    cd_buf_init(b);
    assert_int_equal(engine_model_encode(m, b), 0);
}

static void round_trip(const struct engine_model *m)
{
    struct cd_buf b, again;
    struct cd_reader r;
    struct engine_model back;
    encode(m, &b);
    assert_int_equal(b.data[0], 5);
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_model_decode(&r, &back), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    assert_int_equal(back.n_fault_rules, m->n_fault_rules);
    assert_int_equal(back.n_escalations, m->n_escalations);
    assert_true(m->n_escalations == 0 ||
                strcmp(back.escalations[0].levels[1].to[0].address, HEAD) == 0);
    assert_int_equal(engine_model_validate(&back, NULL, 0), 0);
    encode(&back, &again);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    engine_model_close(&back);
    for (size_t len = 0; len < b.len; len++) {
        cd_reader_init(&r, b.data, len);
        if (engine_model_decode(&r, &back) == 0) {
            engine_model_close(&back);
            fail_msg("a model cut to %zu of %zu bytes was taken", len, b.len);
        }
    }
    cd_buf_close(&again);
    cd_buf_close(&b);
}

TEST(the_continuity_part_round_trips)
{
    fx_queue(f, "sales", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    struct cd_buf plain, b;
    encode(&f->m, &plain);
    assert_true(plain.data[0] < 5);
    build(&f->m);
    round_trip(&f->m);
    /* rules alone, paths alone */
    uint32_t n_paths = f->m.n_escalations;
    f->m.n_escalations = 0;
    round_trip(&f->m);
    f->m.n_escalations = n_paths;
    f->m.n_fault_rules = 0;
    round_trip(&f->m);
    /* without the part, the bytes of before */
    f->m.n_escalations = 0;
    encode(&f->m, &b);
    assert_int_equal(b.len, plain.len);
    assert_memory_equal(b.data, plain.data, plain.len);
    cd_buf_close(&b);
    cd_buf_close(&plain);
}

/* ---- Snapshots ------------------------------------------------------------------------- */

TEST(notices_survive_a_snapshot)
{
    install(f);
    EXPECT_OK(set1(f, "member.n2.reachable", S_BAD, 0));
    EXPECT_OK(set1(f, "app.web.latency", S_WARN, 0));
    EXPECT_OK(escalate(f, 1, "platform", 0));
    AT(FX_T0 + 60 * FX_SEC);
    EXPECT_OK(escalate(f, 2, "apps", 0));
    EXPECT_OK(notified(f, 1, "platform", 0, 0, true, "202 Accepted", 0));
    EXPECT_OK(notified(f, 1, "platform", 0, 1, false, "421 try later", FX_T0 + 90 * FX_SEC));
    for (int k = 0; k < 10; k++) {
        EXPECT_OK(notified(f, 2, "apps", 0, 0, false, "connection refused", 0));
    }
    struct engine *copy = fx_snapshot_copy(f);
    char a[512], b[512];
    for (uint32_t i = 0; i < 4; i++) {
        assert_string_equal(notice_in(f->e, 1 + i / 2, i % 2, a),
                            notice_in(copy, 1 + i / 2, i % 2, b));
    }
    assert_string_equal(notice_in(copy, 1, 1, a),
                        "platform 0.1 email " ONCALL " pending x1 0 90 60 '421 try later'");
    assert_string_equal(notice_in(copy, 2, 0, a),
                        "apps 0.0 webhook " APPHOOK
                        " given_up x10 60 60 60 'connection refused'");
    assert_int_equal(engine_fault_count(copy), 2);
    engine_free(f->e);
    f->e = copy;
    /* the copy goes on where the original was */
    REFUSED(notified(f, 1, "platform", 0, 0, true, "202 Accepted", 0), CD_ESTATE);
    REFUSED(escalate(f, 1, "platform", 0), CD_EEXISTS);
    EXPECT_OK(notified(f, 1, "platform", 0, 1, true, "250 ok", 0));
    AT(FX_T0 + 600 * FX_SEC);
    EXPECT_OK(escalate(f, 1, "platform", 1));
    assert_string_equal(NOTICE(1, 1), "platform 0.1 email " ONCALL " sent x2 0 90 60 '250 ok'");
    assert_string_equal(NOTICE(1, 2), "platform 1.0 email " HEAD " pending x0 600 600 - ''");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(model_rules_come_before_the_builtin_policy),
        FX_TEST(escalate_opens_one_level_with_a_notice_per_address),
        FX_TEST(escalate_refuses_what_the_contract_rules_out),
        FX_TEST(a_notice_sent_is_recorded_once),
        FX_TEST(failures_retry_until_the_tenth_gives_up),
        FX_TEST(notified_refuses_unknown_notices),
        FX_TEST(components_match_as_globs),
        FX_TEST(a_path_takes_faults_by_severity_and_component),
        FX_TEST(the_model_check_takes_every_limit_and_nothing_past_it),
        FX_TEST(the_continuity_part_round_trips),
        FX_TEST(notices_survive_a_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
