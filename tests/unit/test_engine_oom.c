/* Running out of memory in the engine: every allocation of every command of three scripts
 * (a contact's whole life; a state that grows past every table's first size; users and
 * tokens) fails in turn,
 * once and from there on, and so does every allocation of the snapshot, model and command
 * codecs, the model copy and the queries.
 *
 * What engine.h promises, and so what is checked:
 *   - engine_apply() answers CD_ENOMEM, or absorbs the failure and reaches exactly the state
 *     and effects of a run that failed nothing (anything else would make this node differ
 *     from the others without knowing it);
 *   - after CD_ENOMEM the state is unusable: every later apply answers CD_ENOMEM, and
 *     engine_encode() refuses it, so that a half-applied state never reaches a snapshot;
 *   - the functions that promise to leave their output untouched or empty on error do;
 *   - nothing leaks: every block handed out is freed by engine_free() and the close
 *     functions (counted by the fault injector, and checked again by ASan at exit). */
#include "engine_fixture.h"

#include "common/alloc.h"
#include "tests/unit/rich_model.h"

#define MAX_STEPS 128

/* ---- One command singled out ------------------------------------------------------- */

struct oom
{
    int target;          /* the command run under fault injection; -1 = none */
    int index;           /* commands the script issued in this run */
    uint64_t nth, count; /* the fault: see struct cd_alloc_fault */
    bool is_ref;         /* this run records the reference outcome of target */
    bool reached;
    jmp_buf out;
    struct cd_alloc_fault fault;   /* around the target command */
    struct cd_alloc_fault counter; /* around the whole run: live blocks */
    /* Reference outcome of target: a run that failed nothing. */
    int ref_rc;
    uint64_t ref_digest;
    uint64_t ref_calls;
    size_t ref_n_fx;
    struct fx_effect ref_fx[FX_EFFECTS_MAX];
    /* Totals, for the message of a failed check and to show the test did work. */
    uint64_t runs, enomem, absorbed;
};

static struct oom oom; /* static: a failed check must not leave a wrapped allocator on
                          the stack of a finished frame */

static int setup(void **state);

static int teardown(void **state)
{
    cd_alloc_set(NULL);
    return fx_teardown(state);
}

static bool same_effect(const struct fx_effect *a, const struct fx_effect *b)
{
    if (a->kind != b->kind || a->channel != b->channel || a->state != b->state ||
        a->step != b->step || a->contact != b->contact || a->offer != b->offer ||
        a->at != b->at || a->ewt_ms != b->ewt_ms || a->has_history != b->has_history ||
        strcmp(a->agent, b->agent) != 0 || strcmp(a->queue, b->queue) != 0 ||
        strcmp(a->text, b->text) != 0 || strcmp(a->object, b->object) != 0) {
        return false;
    }
    if (!a->has_history) {
        return true;
    }
    const struct engine_history *x = &a->h, *y = &b->h;
    return x->contact == y->contact && x->outcome == y->outcome && x->arrived == y->arrived &&
           x->offered == y->offered && x->answered == y->answered && x->ended == y->ended &&
           x->completed == y->completed && x->offers == y->offers &&
           x->transfers == y->transfers && strcmp(x->queue, y->queue) == 0 &&
           strcmp(x->agent, y->agent) == 0 && strcmp(x->reason, y->reason) == 0;
}

#define OOM_FAIL(fmt, ...)                                                              \
    fail_msg("command %d, allocation %llu%s failing: " fmt, oom.target,                 \
             (unsigned long long)oom.nth, oom.count == 1 ? "" : " and every later one", \
             __VA_ARGS__)

/* The target reached exactly the outcome of the run that failed nothing. */
static void expect_reference(struct fixture *f, int rc, size_t mark)
{
    if (rc != oom.ref_rc) {
        OOM_FAIL("answered %s (%s), the reference %s", cd_errname(rc), f->res.message,
                 cd_errname(oom.ref_rc));
    }
    if (engine_digest(f->e) != oom.ref_digest) {
        OOM_FAIL("%s", "the state differs from the reference");
    }
    if (f->n_fx - mark != oom.ref_n_fx) {
        OOM_FAIL("%zu effects, the reference %zu", f->n_fx - mark, oom.ref_n_fx);
    }
    for (size_t i = 0; i < oom.ref_n_fx; i++) {
        if (!same_effect(&f->fx[mark + i], &oom.ref_fx[i])) {
            OOM_FAIL("effect %zu differs from the reference", i);
        }
    }
    char err[256] = "";
    if (engine_check(f->e, err, sizeof(err)) != 0) {
        OOM_FAIL("engine_check: %s", err);
    }
}

/* After CD_ENOMEM: the state answers nothing but CD_ENOMEM and cannot be encoded. */
static void expect_unusable(struct fixture *f)
{
    struct engine_command tick = {.kind = ENGINE_CMD_TICK};
    struct engine_result res;
    uint64_t before = oom.counter.calls;
    int64_t clock = engine_now(f->e);
    if (engine_apply(f->e, &tick, clock + FX_SEC, &res, NULL) != CD_ENOMEM ||
        res.code != CD_ENOMEM) {
        OOM_FAIL("a later TICK answered %s, not ENOMEM", cd_errname(res.code));
    }
    if (oom.counter.calls != before || engine_now(f->e) != clock) {
        OOM_FAIL("%s", "a refused TICK still did something");
    }
    struct cd_buf b;
    cd_buf_init(&b);
    if (engine_encode(f->e, &b) != CD_ENOMEM) {
        OOM_FAIL("%s", "engine_encode() took an unusable state");
    }
    cd_buf_close(&b);
}

static void judge(struct fixture *f, int rc, size_t mark)
{
    oom.runs++;
    if (oom.fault.failed == 0) {
        expect_reference(f, rc, mark);
    } else if (rc == CD_ENOMEM) {
        oom.enomem++;
        expect_unusable(f);
    } else {
        oom.absorbed++;
        expect_reference(f, rc, mark);
    }
}

static void record_reference(struct fixture *f, int rc, size_t mark)
{
    oom.ref_rc = rc;
    oom.ref_digest = engine_digest(f->e);
    oom.ref_calls = oom.fault.calls;
    oom.ref_n_fx = f->n_fx - mark;
    memcpy(oom.ref_fx, &f->fx[mark], oom.ref_n_fx * sizeof(oom.ref_fx[0]));
}

static int hook(struct fixture *f, const struct engine_command *c)
{
    if (oom.index++ != oom.target) {
        return fx_apply_now(f, c);
    }
    oom.reached = true;
    struct engine_sink sink = {fx_emit, f};
    size_t mark = f->n_fx;
    memset(&f->res, 0, sizeof(f->res));
    cd_alloc_fault_start(&oom.fault, oom.nth, oom.count);
    int rc = engine_apply(f->e, c, f->now, &f->res, &sink);
    cd_alloc_fault_stop(&oom.fault);
    assert_int_equal(rc, f->res.code);
    if (oom.is_ref) {
        record_reference(f, rc, mark);
    } else {
        judge(f, rc, mark);
    }
    longjmp(oom.out, 1);
}

typedef void (*script_fn)(struct fixture *f);

/* One run of the script from an empty state, up to the target command (or to its end). */
static void run(struct fixture *f, script_fn script)
{
    oom.index = 0;
    oom.reached = false;
    f->n_fx = 0;
    f->mark = 0;
    f->now = FX_T0;
    f->version = 0;
    f->apply_hook = hook;
    cd_alloc_fault_start(&oom.counter, 0, 0);
    assert_int_equal(engine_new(&f->e), 0);
    if (setjmp(oom.out) == 0) {
        script(f);
    }
    engine_free(f->e);
    f->e = NULL;
    cd_alloc_fault_stop(&oom.counter);
    if (oom.counter.live != 0) {
        OOM_FAIL("%lld blocks leaked", (long long)oom.counter.live);
    }
    f->apply_hook = NULL;
}

/* Every command of the script in turn, every allocation of it failing in turn. */
static void run_all(struct fixture *f, script_fn script)
{
    oom.target = -1;
    oom.is_ref = false;
    run(f, script);
    int steps = oom.index;
    assert_true(steps > 0 && steps <= MAX_STEPS);
    for (oom.target = 0; oom.target < steps; oom.target++) {
        oom.is_ref = true;
        oom.nth = oom.count = 0;
        run(f, script);
        assert_true(oom.reached);
        oom.is_ref = false;
        uint64_t calls = oom.ref_calls;
        for (uint64_t n = 1; n <= calls; n++) {
            oom.nth = n;
            oom.count = 1;
            run(f, script);
            oom.count = UINT64_MAX;
            run(f, script);
        }
    }
    print_message("%d commands, %llu runs: %llu out of memory, %llu absorbed\n", steps,
                  (unsigned long long)oom.runs, (unsigned long long)oom.enomem,
                  (unsigned long long)oom.absorbed);
    assert_true(oom.enomem > 0);
}

/* ---- The scripts ------------------------------------------------------------------- */

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    memset(&oom, 0, sizeof(oom));
    engine_free(f->e); /* each run makes its own */
    f->e = NULL;
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "spill", ENGINE_CH_ALL, ENGINE_STRATEGY_LEAST_OCCUPIED);
    fx_queue(f, "ring", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_RING_ALL);
    fx_queue(f, "chat", ENGINE_CH_BIT(ENGINE_CH_CHAT), ENGINE_STRATEGY_BEST_SKILL);
    fx_queue(f, "rr", ENGINE_CH_BIT(ENGINE_CH_EMAIL), ENGINE_STRATEGY_ROUND_ROBIN);
    Q("sales")->wrapup_s = 30;
    Q("sales")->max_wait_s = 120;
    Q("sales")->overflow_queue = fx_queue_index(f, "spill");
    fx_queue_skill(f, "sales", "en", 1);
    struct engine_escalation *st = fx_step(f, "sales", 30);
    st->relax = 2;
    st->priority_boost = 5;
    Q("chat")->max_size = 2;
    fx_copy_str(Q("chat")->overflow_target, ENGINE_TARGET_MAX, "sip:chat@site-b");
    AGENT("a1", "sales", "spill", "ring", "chat", "rr");
    AGENT("a2", "sales", "ring", "chat");
    AGENT("a3", "ring", "rr", "spill");
    fx_agent_skill(f, "a1", "en", 5);
    fx_agent_skill(f, "a1", "billing", 3);
    fx_agent_skill(f, "a2", "en", 3);
    fx_agent_skill(f, "a3", "en", 1);
    uint32_t r = fx_rule(f, "tag", ENGINE_ACTION_SET, NULL);
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_ATTR);
    fx_copy_str(c->key, ENGINE_KEY_MAX, "vip");
    c->op = ENGINE_OP_EXISTS;
    RULE(r)->action.n_set = 1;
    fx_copy_str(RULE(r)->action.set[0].key, ENGINE_KEY_MAX, "tier");
    fx_copy_str(RULE(r)->action.set[0].value, ENGINE_VALUE_MAX, "gold");
    r = fx_rule(f, "vip", ENGINE_ACTION_ROUTE, "chat");
    c = fx_cond(f, r, ENGINE_COND_CHANNEL);
    c->channels = ENGINE_CH_BIT(ENGINE_CH_CHAT);
    RULE(r)->action.has_priority = true;
    RULE(r)->action.priority = 10;
    RULE(r)->action.n_skills = 1;
    RULE(r)->action.skills[0] = (struct engine_skill_level){fx_skill(f, "billing"), 1};
    r = fx_rule(f, "mail", ENGINE_ACTION_ROUTE, "rr");
    fx_cond(f, r, ENGINE_COND_CHANNEL)->channels = ENGINE_CH_BIT(ENGINE_CH_EMAIL);
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "sales");
    return 0;
}

static uint64_t create_full(struct fixture *f,
                            const char *key,
                            const char *queue,
                            uint8_t channel,
                            const char *attr)
{
    struct engine_skill_ref skills[] = {{"billing", 2}};
    struct engine_attr attrs[] = {{"lang", "en"}, {attr, "yes"}};
    EXPECT_OK(fx_create(f, key, queue, channel, 0, queue ? 1 : 0, skills, 2, attrs));
    return f->res.contact;
}

static const char *agent_of(struct fixture *f, uint64_t id)
{
    static char name[ENGINE_NAME_MAX];
    fx_copy_str(name, sizeof(name), fx_contact(f, id).agent);
    return name;
}

static void upsert(struct fixture *f, const char *name, uint8_t voice, const char *queue)
{
    struct engine_skill_ref skills[] = {{"en", 4}, {"billing", 1}};
    const char *queues[] = {queue};
    struct engine_command c = {.kind = ENGINE_CMD_AGENT_UPSERT};
    c.u.upsert.name = name;
    c.u.upsert.site = "par";
    c.u.upsert.capacity[ENGINE_CH_VOICE] = voice;
    c.u.upsert.capacity[ENGINE_CH_CHAT] = 2;
    c.u.upsert.capacity[ENGINE_CH_EMAIL] = 2;
    c.u.upsert.n_skills = 2;
    c.u.upsert.skills = skills;
    c.u.upsert.n_queues = 1;
    c.u.upsert.queues = queues;
    EXPECT_OK(fx_apply(f, &c));
}

static void set_skills(struct fixture *f, const char *name, uint8_t en)
{
    struct engine_skill_ref skills[] = {{"en", en}};
    struct engine_command c = {.kind = ENGINE_CMD_AGENT_SKILLS};
    c.u.skills.name = name;
    c.u.skills.n_skills = 1;
    c.u.skills.skills = skills;
    EXPECT_OK(fx_apply(f, &c));
}

static void set_attrs(struct fixture *f, uint64_t id)
{
    struct engine_attr attrs[] = {{"lang", ""}, {"note", "callback-later"}, {"x", "1"}};
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    c.u.set_attrs.id = id;
    c.u.set_attrs.n_attrs = 3;
    c.u.set_attrs.attrs = attrs;
    EXPECT_OK(fx_apply(f, &c));
}

static void say(struct fixture *f, uint64_t id, const char *msg_id, const char *text)
{
    struct engine_command c = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    c.u.message.id = id;
    c.u.message.from = ENGINE_SIDE_CUSTOMER;
    c.u.message.msg_id = msg_id;
    c.u.message.text = text;
    EXPECT_OK(fx_apply(f, &c));
}

static void queue_cmd(struct fixture *f, uint8_t kind, const char *queue)
{
    struct engine_command c = {.kind = kind};
    c.u.queue.name = queue;
    EXPECT_OK(fx_apply(f, &c));
}

/* Contacts through their lives: creates (with keys, attributes, skills, by rules and
 * straight to a queue), offers, accepts, a reject, ring-all, wrap-up, transfers,
 * callbacks, attributes, chat messages (kept until the chat's history), deadlines
 * (ring-no-answer, escalation, timeout), and agents logging in, changing skills, being
 * redefined, paused queues and logging out. */
static void contacts_script(struct fixture *f)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t c1 = create_full(f, "key-1", "sales", ENGINE_CH_VOICE, "a");
    uint64_t c2 = create_full(f, "key-2", NULL, ENGINE_CH_CHAT, "vip");
    ACCEPT(OFFER_OF(c1), agent_of(f, c1));
    uint64_t c3 = create_full(f, NULL, NULL, ENGINE_CH_EMAIL, "b");
    REJECT(OFFER_OF(c3), agent_of(f, c3));
    LOGIN("a3");
    uint64_t c4 = CREATE_IN("ring", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(c4), "a3");
    EXPECT_OK(fx_create(f, "key-1", "sales", ENGINE_CH_VOICE, 0, 1,
                        (struct engine_skill_ref[]){{"billing", 2}}, 2,
                        (struct engine_attr[]){{"lang", "en"}, {"a", "yes"}}));
    assert_true(f->res.existing);
    set_attrs(f, c2);
    say(f, c2, "m-1", "hello");
    say(f, c2, "m-2", "anyone there?");
    say(f, c2, "m-3", "third: the transcript's index grows");
    say(f, c2, "m-1", "hello"); /* a retry */
    END(c1);
    AFTER(5 * FX_SEC);
    uint64_t c5 = create_full(f, "key-5", "sales", ENGINE_CH_CHAT, "c");
    EXPECT_OK(fx_create(f, NULL, "sales", ENGINE_CH_VOICE, 3, 1,
                        (struct engine_skill_ref[]){{"billing", 9}}, 0, NULL));
    uint64_t c6 = f->res.contact; /* nobody has billing 9: it waits */
    CALLBACK(c6);
    AFTER(25 * FX_SEC); /* wrap-up of c1 still on; ring-no-answers fire */
    TICK;
    AFTER(10 * FX_SEC); /* wrap-up ends, escalations */
    TICK;
    AVAILABLE("a1");
    AVAILABLE("a2");
    set_skills(f, "a2", 9);
    upsert(f, "a4", 1, "sales");
    upsert(f, "a2", 0, "spill");
    LOGIN("a4");
    queue_cmd(f, ENGINE_CMD_QUEUE_PAUSE, "sales");
    uint64_t c7 = CREATE_IN("sales", ENGINE_CH_EMAIL, 0);
    queue_cmd(f, ENGINE_CMD_QUEUE_RESUME, "sales");
    EXPECT_OK(fx_transfer(f, c4, "spill", NULL, NULL));
    AFTER(2 * FX_SEC);
    EXPECT_OK(fx_transfer(f, c7, NULL, NULL, "sip:elsewhere"));
    AFTER(200 * FX_SEC); /* timeouts overflow */
    TICK;
    (void)c5;
    (void)c6;
    LOGOUT("a3");
    ABANDON(c2);
    upsert(f, "r1", 1, "ring");
    upsert(f, "r2", 1, "ring");
    LOGIN("r1");
    LOGIN("r2");
    uint64_t c8 = CREATE_IN("ring", ENGINE_CH_VOICE, 0);
    ASSERT_STATE(c8, OFFERED); /* ringing r1 and r2: a snapshot holds the group */
}

#define BULK_SKILLS 20
#define BULK_QUEUES 10
#define BULK_AGENTS 24

/* A bigger model, so that the tables, maps, heaps and classes grow while commands run: most
 * allocations of the engine are growth, and happen only at sizes a small state never
 * reaches. The second version retires half the queues. */
static void bulk_model(struct fixture *f, int queues)
{
    char name[ENGINE_NAME_MAX];
    for (int i = 0; i < queues; i++) {
        snprintf(name, sizeof(name), "q%d", i);
        uint8_t strategy = (uint8_t)(i % (ENGINE_STRATEGY_COUNT - 1));
        fx_queue(f, name, ENGINE_CH_ALL, strategy);
        Q(name)->max_wait_s = 60 + 10 * (uint32_t)i;
        Q(name)->wrapup_s = (uint32_t)(i % 3) * 10;
        fx_step(f, name, 20)->relax = 1;
    }
    for (int i = 0; i < BULK_SKILLS; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        fx_skill(f, name);
    }
    fx_skill(f, "en"); /* upsert() gives them */
    fx_skill(f, "billing");
    for (int i = 0; i < BULK_AGENTS; i++) {
        snprintf(name, sizeof(name), "g%d", i);
        fx_agent(f, name, (const char *)NULL);
        struct engine_agent_def *a = A(name);
        for (int j = 0; j < 3; j++) {
            a->queues[a->n_queues++] = (uint16_t)((i + j * 3) % queues);
            a->skills[a->n_skills++] = (struct engine_skill_level){
                (uint16_t)((i * 7 + j * 5) % BULK_SKILLS), (uint8_t)(1 + (i + j) % 10)};
        }
    }
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "q0");
}

static int setup_bulk(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    memset(&oom, 0, sizeof(oom));
    engine_free(f->e);
    f->e = NULL;
    struct engine_model *v2 = calloc(1, sizeof(*v2));
    assert_non_null(v2);
    bulk_model(f, BULK_QUEUES / 2);
    *v2 = f->m;
    f->user = v2;
    engine_model_init(&f->m);
    bulk_model(f, BULK_QUEUES);
    return 0;
}

static int teardown_bulk(void **state)
{
    struct fixture *f = *state;
    engine_model_close(f->user);
    free(f->user);
    return teardown(state);
}

static uint64_t bulk_create(struct fixture *f, int i)
{
    char queue[ENGINE_NAME_MAX], key[32], skill[ENGINE_NAME_MAX], value[16];
    snprintf(queue, sizeof(queue), "q%d", i % BULK_QUEUES);
    snprintf(key, sizeof(key), "bulk-%d", i);
    snprintf(skill, sizeof(skill), "s%d", (i * 3) % BULK_SKILLS);
    snprintf(value, sizeof(value), "%d", i);
    struct engine_skill_ref skills[] = {{skill, (uint8_t)(1 + i % 4)}};
    struct engine_attr attrs[] = {{"n", value}, {"lang", "en"}, {"tier", "gold"}};
    EXPECT_OK(fx_create(f, i % 3 == 0 ? key : NULL, i % 5 == 4 ? NULL : queue,
                        (uint8_t)(i % ENGINE_CH_COUNT), (int16_t)(i % 4), 1, skills,
                        (uint8_t)(1 + i % 3), attrs));
    return f->res.contact;
}

/* Many agents and contacts in many requirement classes, accepts, new agents, a model
 * version that retires queues with contacts waiting in them, and time running out. */
static void bulk_script(struct fixture *f)
{
    char name[ENGINE_NAME_MAX];
    MODEL_INSTALL;
    for (int i = 0; i < BULK_AGENTS; i += 2) {
        snprintf(name, sizeof(name), "g%d", i);
        LOGIN(name);
    }
    for (int i = 0; i < 48; i++) {
        AFTER(FX_SEC);
        uint64_t id = bulk_create(f, i);
        if (i % 4 == 1 && engine_contact_get(f->e, id, &(struct engine_contact_info){0}) == 0 &&
            fx_contact(f, id).state == ENGINE_CONTACT_OFFERED) {
            ACCEPT(OFFER_OF(id), agent_of(f, id));
        }
    }
    for (int i = 1; i < BULK_AGENTS; i += 4) {
        snprintf(name, sizeof(name), "g%d", i);
        LOGIN(name);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "new%d", i);
        upsert(f, name, 1, "q1");
    }
    struct engine_skill_ref all[BULK_SKILLS];
    char names[BULK_SKILLS][8];
    for (int i = 0; i < BULK_SKILLS; i++) {
        snprintf(names[i], sizeof(names[i]), "s%d", i);
        all[i] = (struct engine_skill_ref){names[i], 10};
    }
    struct engine_command sk = {.kind = ENGINE_CMD_AGENT_SKILLS};
    sk.u.skills.name = "g0";
    sk.u.skills.n_skills = BULK_SKILLS;
    sk.u.skills.skills = all;
    EXPECT_OK(fx_apply(f, &sk)); /* g0 joins every class of its queues */
    struct engine_command v2 = {.kind = ENGINE_CMD_MODEL_INSTALL};
    v2.u.install.version = ++f->version;
    v2.u.install.model = f->user;
    v2.actor = "ops";
    v2.u.install.comment = "retire half the queues";
    EXPECT_OK(fx_apply(f, &v2));
    AFTER(90 * FX_SEC);
    TICK;
}

static void token(struct fixture *f, const char *name, const char *user, unsigned seed)
{
    struct engine_command c = {.kind = ENGINE_CMD_TOKEN_CREATE, .actor = "user:root"};
    c.u.token.name = name;
    c.u.token.kind = user != NULL ? ENGINE_TOKEN_SESSION : ENGINE_TOKEN_API;
    c.u.token.user = user;
    c.u.token.expires_at = f->now + 3600 * FX_SEC;
    for (unsigned i = 0; i < ENGINE_TOKEN_HASH_LEN; i++) {
        c.u.token.hash[i] = (uint8_t)(seed + 3 * i + 1);
    }
    EXPECT_OK(fx_apply(f, &c));
}

static void user_set(struct fixture *f, const char *name, const char *verifier)
{
    struct engine_command c = {.kind = ENGINE_CMD_USER_SET, .actor = "user:root"};
    c.u.user.name = name;
    c.u.user.verifier = verifier;
    EXPECT_OK(fx_apply(f, &c));
}

/* Users and tokens past the first size of their tables and maps, a user's sessions past
 * their bound, sessions revoked by a new password and by a deletion, a token revoked. */
static void principals_script(struct fixture *f)
{
    char name[ENGINE_NAME_MAX];
    MODEL_INSTALL;
    for (unsigned i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "user-%u", 5 - i);
        user_set(f, name, "v1");
    }
    for (unsigned i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "ci-%u", i);
        token(f, name, NULL, i);
    }
    for (unsigned i = 0; i < ENGINE_USER_SESSIONS_MAX + 2; i++) {
        snprintf(name, sizeof(name), "s-%u", i);
        token(f, name, "user-1", 100 + i);
    }
    token(f, "s-other", "user-2", 200);
    user_set(f, "user-1", "v2");
    user_set(f, "user-3", "v1");
    struct engine_command c = {.kind = ENGINE_CMD_TOKEN_REVOKE, .actor = "user:root"};
    c.u.token.name = "ci-7";
    EXPECT_OK(fx_apply(f, &c));
    c = (struct engine_command){.kind = ENGINE_CMD_USER_DELETE, .actor = "user:root"};
    c.u.user.name = "user-2";
    EXPECT_OK(fx_apply(f, &c));
    token(f, "s-again", "user-1", 201);
}

TEST(every_allocation_of_every_command_fails_in_turn)
{
    run_all(f, contacts_script);
}

TEST(every_allocation_of_every_principal_command_fails_in_turn)
{
    run_all(f, principals_script);
}

TEST(every_allocation_of_a_growing_state_fails_in_turn)
{
    run_all(f, bulk_script);
}

/* ---- Codecs, copies and queries --------------------------------------------------- */

/* Attempts of one call with allocation nth failing, once and from there on, for nth = 1,
 * 2, ... until an attempt fails nothing: every allocation the call makes has failed. */
struct attempt
{
    uint64_t nth;
    bool once;     /* this attempt fails allocation nth only */
    bool finished; /* the last single failure failed nothing */
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
    cd_alloc_fault_start(&at.fault, at.nth, at.once ? 1 : UINT64_MAX);
    return true;
}

/* Ends the fault; true when an allocation failed. */
static bool attempt_failed(void)
{
    cd_alloc_fault_stop(&at.fault);
    at.finished = at.once && at.fault.failed == 0;
    return at.fault.failed > 0;
}

/* After the caller released what the attempt made: nothing may be left. */
static void attempt_end(void)
{
    cd_alloc_fault_stop(&at.counter);
    if (at.counter.live != 0) {
        fail_msg("allocation %llu%s failing: %lld blocks leaked", (unsigned long long)at.nth,
                 at.once ? "" : " and every later one", (long long)at.counter.live);
    }
}

#define EACH_ATTEMPT for (memset(&at, 0, sizeof(at)); attempt_begin();)
#define AT_MSG(what, rc)                                                                  \
    fail_msg("%s with allocation %llu%s failing: %s", (what), (unsigned long long)at.nth, \
             at.once ? "" : " and every later one", cd_errname(rc))

/* Encode, digest and decode of a state, every allocation failing in turn. */
static void snapshot_attempts(struct fixture *f)
{
    struct cd_buf ref;
    cd_buf_init(&ref);
    assert_int_equal(engine_encode(f->e, &ref), 0);
    uint64_t digest = engine_digest(f->e);
    EACH_ATTEMPT
    {
        struct cd_buf b;
        cd_buf_init(&b);
        int rc = engine_encode(f->e, &b);
        if (attempt_failed() ? rc != CD_ENOMEM || b.err != CD_ENOMEM
                             : rc != 0 || b.len != ref.len || memcmp(b.data, ref.data, b.len)) {
            AT_MSG("engine_encode", rc);
        }
        cd_buf_close(&b);
        attempt_end();
        assert_int_equal(engine_digest(f->e), digest);
    }
    EACH_ATTEMPT
    {
        uint64_t h = engine_digest(f->e);
        if (attempt_failed() ? h != 0 : h != digest) {
            AT_MSG("engine_digest", 0);
        }
        attempt_end();
    }
    EACH_ATTEMPT
    {
        struct engine *sentinel = (struct engine *)&at, *copy = sentinel;
        int rc = engine_decode(ref.data, ref.len, &copy);
        bool failed = attempt_failed();
        /* A failure may be absorbed (the ready heaps brought up to date at once instead
         * of later), as long as the state is exactly the one encoded. */
        if (rc == 0) {
            char err[128] = "";
            if (engine_digest(copy) != digest || engine_check(copy, err, sizeof(err)) != 0) {
                AT_MSG("engine_decode gave another state", rc);
            }
            engine_free(copy);
        } else if (!failed || rc != CD_ENOMEM || copy != sentinel) {
            AT_MSG("engine_decode", rc);
        }
        attempt_end();
    }
    cd_buf_close(&ref);
}

TEST(snapshots_of_a_small_state)
{
    assert_int_equal(engine_new(&f->e), 0);
    contacts_script(f);
    snapshot_attempts(f);
}

TEST(snapshots_of_a_state_with_principals)
{
    assert_int_equal(engine_new(&f->e), 0);
    principals_script(f);
    snapshot_attempts(f);
}

TEST(snapshots_of_a_grown_state)
{
    assert_int_equal(engine_new(&f->e), 0);
    bulk_script(f);
    snapshot_attempts(f);
}

static int count_contact(void *data, const struct engine_contact_info *c)
{
    (void)c;
    ++*(size_t *)data;
    return 0;
}

TEST(queries_and_checks)
{
    assert_int_equal(engine_new(&f->e), 0);
    bulk_script(f);
    EACH_ATTEMPT
    {
        size_t calls = 0;
        int rc = engine_contacts_foreach(f->e, count_contact, &calls);
        if (attempt_failed() ? rc != CD_ENOMEM || calls != 0
                             : rc != 0 || calls != engine_contact_count(f->e)) {
            AT_MSG("engine_contacts_foreach", rc);
        }
        attempt_end();
    }
    EACH_ATTEMPT
    {
        char err[128];
        int rc = engine_check(f->e, err, sizeof(err));
        if (attempt_failed() ? rc != CD_ENOMEM : rc != 0) {
            AT_MSG("engine_check", rc);
        }
        attempt_end();
    }
    EACH_ATTEMPT
    {
        struct engine *sentinel = (struct engine *)&at, *e = sentinel;
        int rc = engine_new(&e);
        if (attempt_failed() ? rc != CD_ENOMEM || e != sentinel : rc != 0) {
            AT_MSG("engine_new", rc);
        }
        if (rc == 0) {
            engine_free(e);
        }
        attempt_end();
    }
}

static bool model_empty(const struct engine_model *m)
{
    struct engine_model empty;
    engine_model_init(&empty);
    return memcmp(m, &empty, sizeof(empty)) == 0;
}

TEST(model_copy_and_codec)
{
    (void)f;
    struct engine_model m, out;
    struct cd_buf ref;
    engine_model_init(&m);
    build_model(&m);
    cd_buf_init(&ref);
    assert_int_equal(engine_model_encode(&m, &ref), 0);
    EACH_ATTEMPT
    {
        engine_model_init(&out);
        int rc = engine_model_copy(&out, &m);
        if (attempt_failed() ? rc != CD_ENOMEM || !model_empty(&out) : rc != 0) {
            AT_MSG("engine_model_copy", rc);
        }
        engine_model_close(&out);
        attempt_end();
    }
    EACH_ATTEMPT
    {
        struct cd_buf b;
        cd_buf_init(&b);
        int rc = engine_model_encode(&m, &b);
        if (attempt_failed() ? rc != CD_ENOMEM || b.err != CD_ENOMEM
                             : rc != 0 || b.len != ref.len) {
            AT_MSG("engine_model_encode", rc);
        }
        cd_buf_close(&b);
        attempt_end();
    }
    EACH_ATTEMPT
    {
        struct cd_reader r;
        cd_reader_init(&r, ref.data, ref.len);
        engine_model_init(&out);
        int rc = engine_model_decode(&r, &out);
        if (attempt_failed() ? rc != CD_ENOMEM || !model_empty(&out) : rc != 0) {
            AT_MSG("engine_model_decode", rc);
        }
        engine_model_close(&out);
        attempt_end();
    }
    EACH_ATTEMPT
    {
        char err[128];
        int rc = engine_model_validate(&m, err, sizeof(err));
        attempt_failed();
        if (rc != 0) { /* the answer never depends on the allocator */
            AT_MSG("engine_model_validate", rc);
        }
        attempt_end();
    }
    cd_buf_close(&ref);
    engine_model_close(&m);
}

/* Encode and decode of one command, every allocation failing in turn. */
static void command_attempts(const struct engine_command *cmd)
{
    struct cd_buf ref;
    cd_buf_init(&ref);
    assert_int_equal(engine_command_encode(cmd, &ref), 0);
    EACH_ATTEMPT
    {
        struct cd_buf b;
        cd_buf_init(&b);
        int rc = engine_command_encode(cmd, &b);
        if (attempt_failed() ? rc != CD_ENOMEM || b.err != CD_ENOMEM
                             : rc != 0 || b.len != ref.len) {
            AT_MSG("engine_command_encode", rc);
        }
        cd_buf_close(&b);
        attempt_end();
    }
    EACH_ATTEMPT
    {
        struct engine_command out, zero;
        struct engine_cmd_store store;
        memset(&zero, 0, sizeof(zero));
        engine_cmd_store_init(&store);
        int rc = engine_command_decode(ref.data, ref.len, &out, &store);
        bool failed = attempt_failed();
        if (failed && (rc != CD_ENOMEM || memcmp(&out, &zero, sizeof(out)) != 0 ||
                       store.n_blocks != 0 || !model_empty(&store.model))) {
            AT_MSG("engine_command_decode", rc);
        }
        if (!failed && rc != 0) {
            AT_MSG("engine_command_decode", rc);
        }
        engine_cmd_store_close(&store);
        attempt_end();
    }
    cd_buf_close(&ref);
}

TEST(command_codec)
{
    (void)f;
    struct engine_model m;
    engine_model_init(&m);
    build_model(&m);
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL};
    c.u.install.version = 7;
    c.u.install.model = &m;
    c.u.install.source = "queues: ...";
    c.actor = "ops";
    command_attempts(&c);
    engine_model_close(&m);

    struct engine_skill_ref skills[] = {{"en", 2}, {"billing", 1}};
    struct engine_attr attrs[] = {{"lang", "en"}, {"tier", "gold"}};
    const char *queues[] = {"sales", "support"};
    c = (struct engine_command){.kind = ENGINE_CMD_CONTACT_CREATE};
    c.u.create = (struct engine_contact_create){.key = "k",
                                                .queue = "sales",
                                                .n_skills = 2,
                                                .skills = skills,
                                                .n_attrs = 2,
                                                .attrs = attrs};
    command_attempts(&c);
    c = (struct engine_command){.kind = ENGINE_CMD_AGENT_UPSERT};
    c.u.upsert = (struct engine_agent_spec){
        .name = "a9", .n_skills = 2, .skills = skills, .n_queues = 2, .queues = queues};
    command_attempts(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(every_allocation_of_every_command_fails_in_turn),
        FX_TEST(every_allocation_of_every_principal_command_fails_in_turn),
        cmocka_unit_test_setup_teardown(every_allocation_of_a_growing_state_fails_in_turn,
                                        setup_bulk, teardown_bulk),
        FX_TEST(snapshots_of_a_small_state),
        FX_TEST(snapshots_of_a_state_with_principals),
        cmocka_unit_test_setup_teardown(snapshots_of_a_grown_state, setup_bulk, teardown_bulk),
        cmocka_unit_test_setup_teardown(queries_and_checks, setup_bulk, teardown_bulk),
        FX_TEST(model_copy_and_codec),
        FX_TEST(command_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
