/* The principals the API authenticates against, as replicated state: API tokens (made,
 * looked up by the hash of their secret, revoked), users and their browser sessions (a
 * session follows its user: a new password, a new role or the user's deletion revokes
 * it), the bounds, what a snapshot keeps, the actor every command carries and the AUDIT
 * effect that names it. */
#include "engine_fixture.h"

#define ACTOR "user:root"
#define VERIFIER "scrypt$16384$8$1$c2FsdA$aGFzaA"
#define HOUR (3600 * FX_SEC)

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "spill", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("ann", "sales");
    AGENT("bob", "sales");
    fx_skill(f, "en");
    MODEL_INSTALL;
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* A hash no other seed gives, never all zero. */
static void hash_of(uint8_t *hash, unsigned seed)
{
    for (unsigned i = 0; i < ENGINE_TOKEN_HASH_LEN; i++) {
        hash[i] = (uint8_t)(seed >> (8 * (i % 4))) ^ (uint8_t)(i * 37 + 1);
    }
}

struct token_spec
{
    const char *name;
    uint8_t kind, role;
    const char *agent, *user;
    int64_t expires_at;
    unsigned seed;
};

static int token_create(struct fixture *f, struct token_spec t)
{
    struct engine_command c = {.kind = ENGINE_CMD_TOKEN_CREATE, .actor = ACTOR};
    c.u.token.name = t.name;
    c.u.token.kind = t.kind;
    c.u.token.role = t.role;
    c.u.token.agent = t.agent;
    c.u.token.user = t.user;
    c.u.token.expires_at = t.expires_at;
    hash_of(c.u.token.hash, t.seed);
    return fx_apply(f, &c);
}

/* An API token of role admin that never expires. */
#define API(name_, seed_) token_create(f, (struct token_spec){.name = (name_), .seed = (seed_)})
/* A session of user_, who has role_ and agent_, for an hour. */
#define SESSION(name_, user_, role_, agent_, seed_)                                       \
    token_create(f, (struct token_spec){(name_), ENGINE_TOKEN_SESSION, (role_), (agent_), \
                                        (user_), f->now + HOUR, (seed_)})

static int token_revoke(struct fixture *f, uint32_t id, const char *name)
{
    struct engine_command c = {.kind = ENGINE_CMD_TOKEN_REVOKE, .actor = ACTOR};
    c.u.token.id = id;
    c.u.token.name = name;
    return fx_apply(f, &c);
}

static int user_cmd(struct fixture *f,
                    uint8_t kind,
                    const char *name,
                    uint8_t role,
                    const char *agent,
                    const char *verifier)
{
    struct engine_command c = {.kind = kind, .actor = ACTOR};
    c.u.user.name = name;
    c.u.user.role = role;
    c.u.user.agent = agent;
    c.u.user.verifier = verifier;
    return fx_apply(f, &c);
}

#define USER_SET(name, role, agent, verifier) \
    user_cmd(f, ENGINE_CMD_USER_SET, (name), (role), (agent), (verifier))
#define USER_DELETE(name) user_cmd(f, ENGINE_CMD_USER_DELETE, (name), 0, NULL, NULL)

static struct engine_token_info by_hash(struct fixture *f, unsigned seed)
{
    uint8_t hash[ENGINE_TOKEN_HASH_LEN];
    struct engine_token_info t;
    hash_of(hash, seed);
    assert_int_equal(engine_token_find(f->e, hash, &t), 0);
    return t;
}

static bool hash_known(struct fixture *f, unsigned seed)
{
    uint8_t hash[ENGINE_TOKEN_HASH_LEN];
    struct engine_token_info t;
    hash_of(hash, seed);
    return engine_token_find(f->e, hash, &t) == 0;
}

static struct engine_user_info user(struct fixture *f, const char *name)
{
    struct engine_user_info u;
    assert_int_equal(engine_user_find(f->e, name, &u), 0);
    return u;
}

/* ---- Tokens ----------------------------------------------------------------------------- */

TEST(a_token_is_found_by_the_hash_of_its_secret)
{
    EXPECT_OK(token_create(
        f, (struct token_spec){"ops-admin", ENGINE_TOKEN_API, ENGINE_ROLE_SUPERVISOR, NULL,
                               NULL, f->now + HOUR, 7}));
    assert_int_equal(f->res.contact, 1);
    struct engine_token_info t = by_hash(f, 7);
    assert_int_equal(t.id, 1);
    assert_int_equal(t.kind, ENGINE_TOKEN_API);
    assert_int_equal(t.role, ENGINE_ROLE_SUPERVISOR);
    assert_string_equal(t.name, "ops-admin");
    assert_string_equal(t.agent, "");
    assert_string_equal(t.user, "");
    assert_string_equal(t.created_by, ACTOR);
    assert_int_equal(t.created_at, f->now);
    assert_int_equal(t.expires_at, f->now + HOUR);
    assert_false(hash_known(f, 8));
    assert_int_equal(engine_token_find(f->e, NULL, &t), CD_ENOTFOUND);
    assert_int_equal(engine_token_get(f->e, 1, &t), 0);
    assert_string_equal(t.name, "ops-admin");
    assert_int_equal(engine_token_get(f->e, 2, &t), CD_ENOTFOUND);
    assert_int_equal(engine_token_count(f->e), 1);
    assert_int_equal(engine_token_at(f->e, 1, &t), CD_ENOTFOUND);
    /* Expiry is the edge's to judge: an expired token is still there, and still found. */
    AFTER(2 * HOUR);
    TICK;
    assert_true(by_hash(f, 7).expires_at < NOW);
    assert_string_equal(engine_role_name(ENGINE_ROLE_INTEGRATION), "integration");
    assert_int_equal(engine_role_parse("reporter"), ENGINE_ROLE_REPORTER);
    assert_int_equal(engine_token_kind_parse("session"), ENGINE_TOKEN_SESSION);
    assert_null(engine_role_name(ENGINE_ROLE_COUNT));
}

TEST(a_create_checks_what_it_is_given_and_changes_nothing_when_refused)
{
    char long_name[ENGINE_NAME_MAX + 1];
    memset(long_name, 'x', ENGINE_NAME_MAX);
    long_name[ENGINE_NAME_MAX] = 0;
    EXPECT_OK(API("taken", 1));
    uint64_t before = DIGEST;
    struct
    {
        struct token_spec t;
        int code;
    } refused[] = {
        {{.name = "", .seed = 2}, CD_EINVAL},
        {{.name = "a b", .seed = 2}, CD_EINVAL},
        {{.name = long_name, .seed = 2}, CD_EINVAL},
        {{.name = "k", .kind = ENGINE_TOKEN_KIND_COUNT, .seed = 2}, CD_EINVAL},
        {{.name = "r", .role = ENGINE_ROLE_COUNT, .seed = 2}, CD_EINVAL},
        {{.name = "a", .role = ENGINE_ROLE_AGENT, .seed = 2}, CD_EINVAL},
        {{.name = "a", .role = ENGINE_ROLE_AGENT, .agent = "nobody", .seed = 2}, CD_ENOTFOUND},
        {{.name = "a", .role = ENGINE_ROLE_ADMIN, .agent = "ann", .seed = 2}, CD_EINVAL},
        {{.name = "e", .expires_at = FX_T0, .seed = 2}, CD_EINVAL},
        {{.name = "e", .expires_at = -1, .seed = 2}, CD_EINVAL},
        {{.name = "u", .user = "ann", .seed = 2}, CD_EINVAL},
        {{.name = "taken", .seed = 2}, CD_EEXISTS},
        {{.name = "other", .seed = 1}, CD_EEXISTS},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        int rc = token_create(f, refused[i].t);
        if (rc != refused[i].code) {
            fail_msg("case %zu: %s (%s)", i, cd_errname(rc), f->res.message);
        }
        assert_int_equal(f->n_fx, f->mark); /* no audit either */
    }
    /* A hash of zeros is a hash nobody set. */
    struct engine_command c = {.kind = ENGINE_CMD_TOKEN_CREATE};
    c.u.token.name = "zero";
    assert_int_equal(fx_apply(f, &c), CD_EINVAL);
    /* An actor longer than its limit is refused, whatever the command. */
    char actor[ENGINE_ACTOR_MAX + 1];
    memset(actor, 'a', ENGINE_ACTOR_MAX);
    actor[ENGINE_ACTOR_MAX] = 0;
    struct engine_command tick = {.kind = ENGINE_CMD_TICK, .actor = actor};
    assert_int_equal(fx_apply(f, &tick), CD_EINVAL);
    actor[ENGINE_ACTOR_MAX - 1] = 0;
    EXPECT_OK(fx_apply(f, &tick));
    assert_int_equal(DIGEST, before);
    assert_int_equal(engine_token_count(f->e), 1);
}

TEST(revoked_by_id_or_by_name_a_token_is_gone)
{
    EXPECT_OK(API("t1", 1));
    EXPECT_OK(API("t2", 2));
    EXPECT_OK(API("t3", 3));
    EXPECT_OK(token_revoke(f, 2, "ignored when the id is given"));
    assert_int_equal(f->res.contact, 2);
    assert_false(hash_known(f, 2));
    EXPECT_OK(token_revoke(f, 0, "t3"));
    assert_int_equal(f->res.contact, 3);
    assert_int_equal(token_revoke(f, 2, NULL), CD_ENOTFOUND);
    assert_int_equal(token_revoke(f, 0, "t3"), CD_ENOTFOUND);
    assert_int_equal(token_revoke(f, 0, NULL), CD_ENOTFOUND);
    /* The name and the hash are free again; the ids are not reused. */
    EXPECT_OK(API("t3", 3));
    assert_int_equal(f->res.contact, 4);
    struct engine_token_info t;
    assert_int_equal(engine_token_count(f->e), 2);
    assert_int_equal(engine_token_at(f->e, 0, &t), 0);
    assert_int_equal(t.id, 1);
    assert_int_equal(engine_token_at(f->e, 1, &t), 0);
    assert_int_equal(t.id, 4);
    assert_int_equal(by_hash(f, 3).id, 4);
}

TEST(api_tokens_are_bounded)
{
    char name[32];
    f->check = false; /* once at the end: a full check per command would be quadratic */
    for (unsigned i = 0; i < ENGINE_TOKENS_MAX; i++) {
        snprintf(name, sizeof(name), "t%u", i);
        f->n_fx = 0; /* the fixture keeps FX_EFFECTS_MAX effects, and each makes one */
        EXPECT_OK(API(name, 100 + i));
    }
    assert_int_equal(API("one-more", 99), CD_ETOOBIG);
    /* Sessions have their own bound, per user. */
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    EXPECT_OK(SESSION("alice-1", "alice", ENGINE_ROLE_ADMIN, NULL, 99));
    EXPECT_OK(token_revoke(f, 1, NULL));
    EXPECT_OK(API("one-more", 98));
    char err[256];
    assert_int_equal(engine_check(f->e, err, sizeof(err)), 0);
    assert_true(by_hash(f, 100 + ENGINE_TOKENS_MAX - 1).id == ENGINE_TOKENS_MAX);
}

TEST(a_token_of_role_agent_acts_as_an_agent_there_is)
{
    EXPECT_OK(token_create(f, (struct token_spec){"desk-ann", ENGINE_TOKEN_API,
                                                  ENGINE_ROLE_AGENT, "ann", NULL, 0, 1}));
    assert_string_equal(by_hash(f, 1).agent, "ann");
    /* An agent made through the API, then deleted: the token made before stays. */
    struct engine_command up = {.kind = ENGINE_CMD_AGENT_UPSERT, .actor = ACTOR};
    up.u.upsert.name = "temp";
    up.u.upsert.capacity[ENGINE_CH_CHAT] = 1;
    EXPECT_OK(fx_apply(f, &up));
    EXPECT_OK(token_create(f, (struct token_spec){"desk-temp", ENGINE_TOKEN_API,
                                                  ENGINE_ROLE_AGENT, "temp", NULL, 0, 2}));
    EXPECT_OK(fx_agent_cmd(f, ENGINE_CMD_AGENT_DELETE, "temp", 0, NULL));
    assert_string_equal(by_hash(f, 2).agent, "temp");
    assert_int_equal(
        token_create(f, (struct token_spec){"again", ENGINE_TOKEN_API, ENGINE_ROLE_AGENT,
                                            "temp", NULL, 0, 3}),
        CD_ENOTFOUND);
}

/* ---- Users and their sessions ----------------------------------------------------------- */

TEST(users_are_set_found_and_listed_by_name)
{
    EXPECT_OK(USER_SET("carol", ENGINE_ROLE_REPORTER, NULL, VERIFIER));
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    AFTER(FX_SEC);
    EXPECT_OK(USER_SET("bob", ENGINE_ROLE_AGENT, "bob", "v2"));
    struct engine_user_info u = user(f, "bob");
    assert_int_equal(u.role, ENGINE_ROLE_AGENT);
    assert_string_equal(u.agent, "bob");
    assert_string_equal(u.verifier, "v2");
    assert_string_equal(u.updated_by, ACTOR);
    assert_int_equal(u.created_at, f->now);
    const char *order[] = {"alice", "bob", "carol"};
    assert_int_equal(engine_user_count(f->e), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(engine_user_at(f->e, i, &u), 0);
        assert_string_equal(u.name, order[i]);
    }
    assert_int_equal(engine_user_at(f->e, 3, &u), CD_ENOTFOUND);
    assert_int_equal(engine_user_find(f->e, "dave", &u), CD_ENOTFOUND);
    /* Replacing keeps when it was made. */
    int64_t made = user(f, "alice").created_at;
    AFTER(FX_SEC);
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_SUPERVISOR, NULL, VERIFIER));
    assert_int_equal(user(f, "alice").created_at, made);
    assert_int_equal(user(f, "alice").updated_at, f->now);
    assert_int_equal(user(f, "alice").role, ENGINE_ROLE_SUPERVISOR);
    /* What a user must be. */
    char long_verifier[ENGINE_VERIFIER_MAX + 1];
    memset(long_verifier, 'v', ENGINE_VERIFIER_MAX);
    long_verifier[ENGINE_VERIFIER_MAX] = 0;
    uint64_t before = DIGEST;
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_ADMIN, NULL, ""), CD_EINVAL);
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_ADMIN, NULL, NULL), CD_EINVAL);
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_ADMIN, NULL, "a b"), CD_EINVAL);
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_ADMIN, NULL, long_verifier), CD_EINVAL);
    assert_int_equal(USER_SET("da ve", ENGINE_ROLE_ADMIN, NULL, VERIFIER), CD_EINVAL);
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_AGENT, NULL, VERIFIER), CD_EINVAL);
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_AGENT, "nobody", VERIFIER), CD_ENOTFOUND);
    assert_int_equal(USER_SET("dave", ENGINE_ROLE_COUNT, NULL, VERIFIER), CD_EINVAL);
    assert_int_equal(USER_DELETE("dave"), CD_ENOTFOUND);
    assert_int_equal(DIGEST, before);
    EXPECT_OK(USER_DELETE("bob"));
    assert_int_equal(engine_user_count(f->e), 2);
    assert_int_equal(engine_user_find(f->e, "bob", &u), CD_ENOTFOUND);
    long_verifier[ENGINE_VERIFIER_MAX - 1] = 0;
    EXPECT_OK(USER_SET("dave", ENGINE_ROLE_ADMIN, NULL, long_verifier));
}

TEST(users_are_bounded)
{
    char name[32];
    f->check = false;
    for (unsigned i = 0; i < ENGINE_USERS_MAX; i++) {
        snprintf(name, sizeof(name), "u%05u", ENGINE_USERS_MAX - i); /* each goes first */
        f->n_fx = 0;
        EXPECT_OK(USER_SET(name, ENGINE_ROLE_REPORTER, NULL, VERIFIER));
    }
    assert_int_equal(USER_SET("one-more", ENGINE_ROLE_REPORTER, NULL, VERIFIER), CD_ETOOBIG);
    EXPECT_OK(USER_SET("u00001", ENGINE_ROLE_ADMIN, NULL, VERIFIER)); /* a replacement */
    char err[256];
    assert_int_equal(engine_check(f->e, err, sizeof(err)), 0);
}

TEST(a_session_is_its_users_own_sign_in)
{
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_AGENT, "ann", VERIFIER));
    uint64_t before = DIGEST;
    assert_int_equal(SESSION("s", "nobody", ENGINE_ROLE_AGENT, "ann", 1), CD_ENOTFOUND);
    assert_int_equal(SESSION("s", "alice", ENGINE_ROLE_ADMIN, NULL, 1), CD_ESTATE);
    assert_int_equal(SESSION("s", "alice", ENGINE_ROLE_AGENT, "bob", 1), CD_ESTATE);
    assert_int_equal(
        token_create(f, (struct token_spec){"s", ENGINE_TOKEN_SESSION, ENGINE_ROLE_AGENT, "ann",
                                            "alice", 0, 1}),
        CD_EINVAL); /* a session must expire */
    assert_int_equal(DIGEST, before);
    EXPECT_OK(SESSION("alice-1", "alice", ENGINE_ROLE_AGENT, "ann", 1));
    struct engine_token_info t = by_hash(f, 1);
    assert_int_equal(t.kind, ENGINE_TOKEN_SESSION);
    assert_string_equal(t.user, "alice");
    assert_string_equal(t.agent, "ann");
    assert_int_equal(user(f, "alice").sessions, 1);
    /* The same values again change nothing a session depends on: it stays. */
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_AGENT, "ann", VERIFIER));
    assert_true(hash_known(f, 1));
    /* A new password signs the user out everywhere; so does a new role or agent. */
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_AGENT, "ann", "new-verifier"));
    assert_false(hash_known(f, 1));
    assert_int_equal(user(f, "alice").sessions, 0);
    EXPECT_OK(SESSION("alice-2", "alice", ENGINE_ROLE_AGENT, "ann", 2));
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_AGENT, "bob", "new-verifier"));
    assert_false(hash_known(f, 2));
    EXPECT_OK(SESSION("alice-3", "alice", ENGINE_ROLE_AGENT, "bob", 3));
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_SUPERVISOR, NULL, "new-verifier"));
    assert_false(hash_known(f, 3));
    /* Deleting the user revokes its sessions and nobody else's tokens. */
    EXPECT_OK(USER_SET("bob", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    EXPECT_OK(SESSION("alice-4", "alice", ENGINE_ROLE_SUPERVISOR, NULL, 4));
    EXPECT_OK(SESSION("alice-5", "alice", ENGINE_ROLE_SUPERVISOR, NULL, 5));
    EXPECT_OK(SESSION("bob-1", "bob", ENGINE_ROLE_ADMIN, NULL, 6));
    EXPECT_OK(API("ci", 7));
    EXPECT_OK(USER_DELETE("alice"));
    assert_false(hash_known(f, 4));
    assert_false(hash_known(f, 5));
    assert_true(hash_known(f, 6));
    assert_true(hash_known(f, 7));
    assert_int_equal(engine_token_count(f->e), 2);
    /* A signed-out session is revoked like any token. */
    EXPECT_OK(token_revoke(f, 0, "bob-1"));
    assert_int_equal(user(f, "bob").sessions, 0);
}

TEST(a_users_oldest_session_gives_way)
{
    char name[32];
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    EXPECT_OK(USER_SET("bob", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    EXPECT_OK(SESSION("bob-1", "bob", ENGINE_ROLE_ADMIN, NULL, 1000));
    for (unsigned i = 1; i <= ENGINE_USER_SESSIONS_MAX; i++) {
        snprintf(name, sizeof(name), "alice-%u", i);
        EXPECT_OK(SESSION(name, "alice", ENGINE_ROLE_ADMIN, NULL, i));
    }
    assert_int_equal(user(f, "alice").sessions, ENGINE_USER_SESSIONS_MAX);
    EXPECT_OK(SESSION("alice-new", "alice", ENGINE_ROLE_ADMIN, NULL, 99));
    assert_int_equal(user(f, "alice").sessions, ENGINE_USER_SESSIONS_MAX);
    assert_false(hash_known(f, 1)); /* alice's oldest */
    assert_true(hash_known(f, 2));
    assert_true(hash_known(f, 99));
    assert_true(hash_known(f, 1000)); /* bob's is not alice's to give */
    assert_int_equal(engine_token_count(f->e), ENGINE_USER_SESSIONS_MAX + 1);
}

/* ---- Snapshots ----------------------------------------------------------------------------
 */

static void assert_same_tokens(struct engine *a, struct engine *b)
{
    assert_int_equal(engine_token_count(a), engine_token_count(b));
    for (size_t i = 0; i < engine_token_count(a); i++) {
        struct engine_token_info x, y;
        assert_int_equal(engine_token_at(a, i, &x), 0);
        assert_int_equal(engine_token_at(b, i, &y), 0);
        assert_int_equal(x.id, y.id);
        assert_int_equal(x.kind, y.kind);
        assert_int_equal(x.role, y.role);
        assert_string_equal(x.name, y.name);
        assert_string_equal(x.agent, y.agent);
        assert_string_equal(x.user, y.user);
        assert_string_equal(x.created_by, y.created_by);
        assert_int_equal(x.created_at, y.created_at);
        assert_int_equal(x.expires_at, y.expires_at);
    }
}

TEST(principals_survive_a_snapshot)
{
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_AGENT, "ann", VERIFIER));
    EXPECT_OK(USER_SET("bob", ENGINE_ROLE_REPORTER, NULL, "v-bob"));
    EXPECT_OK(API("ci", 1));
    EXPECT_OK(token_create(f, (struct token_spec){"desk", ENGINE_TOKEN_API, ENGINE_ROLE_AGENT,
                                                  "bob", NULL, f->now + HOUR, 2}));
    EXPECT_OK(SESSION("alice-1", "alice", ENGINE_ROLE_AGENT, "ann", 3));
    EXPECT_OK(SESSION("bob-1", "bob", ENGINE_ROLE_REPORTER, NULL, 4));
    EXPECT_OK(token_revoke(f, 0, "ci"));
    struct engine *copy = fx_snapshot_copy(f);
    assert_same_tokens(f->e, copy);
    struct engine_token_info t;
    uint8_t hash[ENGINE_TOKEN_HASH_LEN];
    hash_of(hash, 3);
    assert_int_equal(engine_token_find(copy, hash, &t), 0);
    assert_string_equal(t.name, "alice-1");
    struct engine_user_info u;
    assert_int_equal(engine_user_find(copy, "bob", &u), 0);
    assert_string_equal(u.verifier, "v-bob");
    assert_int_equal(u.sessions, 1);
    /* The copy goes on as the original does: the next id, the bounds. */
    struct engine_command c = {.kind = ENGINE_CMD_USER_DELETE, .actor = ACTOR};
    c.u.user.name = "bob";
    assert_int_equal(engine_apply(copy, &c, f->now, NULL, NULL), 0);
    EXPECT_OK(USER_DELETE("bob"));
    assert_int_equal(engine_digest(copy), DIGEST);
    engine_free(copy);
    /* A snapshot of the format before principals is refused, not misread. */
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    assert_int_equal(b.data[0], 8);
    b.data[0] = 3;
    assert_int_equal(engine_decode(b.data, b.len, &copy), CD_EVERSION);
    b.data[0] = 4; /* before transcripts and reconnect deadlines */
    assert_int_equal(engine_decode(b.data, b.len, &copy), CD_EVERSION);
    b.data[0] = 5; /* before paths */
    assert_int_equal(engine_decode(b.data, b.len, &copy), CD_EVERSION);
    b.data[0] = 6; /* before health signals and faults */
    assert_int_equal(engine_decode(b.data, b.len, &copy), CD_EVERSION);
    b.data[0] = 7; /* before runbooks' runs and saved models */
    assert_int_equal(engine_decode(b.data, b.len, &copy), CD_EVERSION);
    cd_buf_close(&b);
}

TEST(every_truncation_of_a_snapshot_with_principals_is_refused)
{
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    EXPECT_OK(SESSION("alice-1", "alice", ENGINE_ROLE_ADMIN, NULL, 1));
    EXPECT_OK(API("ci", 2));
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    for (size_t len = b.len - 120; len < b.len; len++) {
        struct engine *copy = NULL;
        uint8_t *cut = malloc(len);
        memcpy(cut, b.data, len);
        assert_int_equal(engine_decode(cut, len, &copy), CD_ECORRUPT);
        free(cut);
    }
    cd_buf_close(&b);
}

/* ---- The actor and the audit ---------------------------------------------------------- */

/* The last effect of the last command: its AUDIT. */
static const struct fx_effect *audit(struct fixture *f, uint8_t kind, const char *object)
{
    assert_true(f->n_fx > f->mark);
    const struct fx_effect *x = &f->fx[f->n_fx - 1];
    assert_int_equal(x->kind, ENGINE_FX_AUDIT);
    assert_int_equal(x->state, kind);
    assert_string_equal(x->text, ACTOR);
    assert_string_equal(x->object, object);
    assert_int_equal(x->at, NOW);
    assert_string_equal(x->home, "");
    assert_string_equal(x->session, "");
    if (kind != ENGINE_CMD_AUDIT_NOTE) {
        assert_string_equal(x->action, engine_cmd_name(kind));
    }
    return x;
}

#define ASSERT_AUDIT(kind, object) audit(f, ENGINE_CMD_##kind, (object))

TEST(audit_effects_carry_the_actor)
{
    EXPECT_OK(API("ci", 1));
    ASSERT_AUDIT(TOKEN_CREATE, "ci");
    EXPECT_OK(token_revoke(f, 1, NULL));
    ASSERT_AUDIT(TOKEN_REVOKE, "ci"); /* named, though revoked by id */
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    ASSERT_AUDIT(USER_SET, "alice");
    EXPECT_OK(USER_DELETE("alice"));
    ASSERT_AUDIT(USER_DELETE, "alice");

    struct engine_command c = {.kind = ENGINE_CMD_QUEUE_PAUSE, .actor = ACTOR};
    c.u.queue.name = "sales";
    EXPECT_OK(fx_apply(f, &c));
    assert_string_equal(ASSERT_AUDIT(QUEUE_PAUSE, "sales")->queue, "sales");
    c.kind = ENGINE_CMD_QUEUE_RESUME;
    EXPECT_OK(fx_apply(f, &c));
    ASSERT_AUDIT(QUEUE_RESUME, "sales");

    struct engine_skill_ref skills[] = {{"en", 3}};
    c = (struct engine_command){.kind = ENGINE_CMD_AGENT_SKILLS, .actor = ACTOR};
    c.u.skills.name = "ann";
    c.u.skills.n_skills = 1;
    c.u.skills.skills = skills;
    EXPECT_OK(fx_apply(f, &c));
    assert_string_equal(ASSERT_AUDIT(AGENT_SKILLS, "ann")->agent, "ann");
    c = (struct engine_command){.kind = ENGINE_CMD_AGENT_UPSERT, .actor = ACTOR};
    c.u.upsert.name = "temp";
    EXPECT_OK(fx_apply(f, &c));
    ASSERT_AUDIT(AGENT_UPSERT, "temp");
    c = (struct engine_command){.kind = ENGINE_CMD_AGENT_DELETE, .actor = ACTOR};
    c.u.agent.name = "temp";
    EXPECT_OK(fx_apply(f, &c));
    ASSERT_AUDIT(AGENT_DELETE, "temp");

    uint64_t id = CREATE_IN("sales", ENGINE_CH_CHAT, 0);
    assert_null(fx_find(f, f->mark, ENGINE_FX_AUDIT, 0, NULL)); /* not audited */
    struct engine_attr attrs[] = {{"tier", "gold"}};
    c = (struct engine_command){.kind = ENGINE_CMD_CONTACT_SET_ATTRS, .actor = ACTOR};
    c.u.set_attrs.id = id;
    c.u.set_attrs.n_attrs = 1;
    c.u.set_attrs.attrs = attrs;
    EXPECT_OK(fx_apply(f, &c));
    assert_int_equal(ASSERT_AUDIT(CONTACT_SET_ATTRS, "1")->contact, id);
    c = (struct engine_command){.kind = ENGINE_CMD_CONTACT_TRANSFER, .actor = ACTOR};
    c.u.transfer.id = id;
    c.u.transfer.queue = "spill";
    EXPECT_OK(fx_apply(f, &c));
    ASSERT_AUDIT(CONTACT_TRANSFER, "1");

    c = (struct engine_command){.kind = ENGINE_CMD_WEBHOOK_ADD, .actor = ACTOR};
    c.u.webhook.url = "http://127.0.0.1:9000/hook";
    c.u.webhook.secret = "0123456789abcdef";
    c.u.webhook.kinds = 1u << ENGINE_FX_AUDIT;
    EXPECT_OK(fx_apply(f, &c));
    ASSERT_AUDIT(WEBHOOK_ADD, "1");
    c = (struct engine_command){.kind = ENGINE_CMD_WEBHOOK_DELETE, .actor = ACTOR};
    c.u.webhook.id = 1;
    EXPECT_OK(fx_apply(f, &c));
    ASSERT_AUDIT(WEBHOOK_DELETE, "1");

    /* A model install: after its MODEL effect, which names the actor too. */
    struct engine_command m = {.kind = ENGINE_CMD_MODEL_INSTALL, .actor = ACTOR};
    m.u.install.version = ++f->version;
    m.u.install.model = &f->m;
    EXPECT_OK(fx_apply(f, &m));
    assert_string_equal(FX(MODEL, 0, NULL)->text, ACTOR);
    ASSERT_AUDIT(MODEL_INSTALL, "2");
    struct engine_archived a;
    assert_int_equal(engine_archive_find(f->e, 2, &a), 0);
    assert_string_equal(a.actor, ACTOR);

    /* No audit for a refused command, nor for routine work; the node is "". */
    assert_int_equal(fx_apply(f, &m), CD_ESTATE); /* the same version again */
    assert_int_equal(f->n_fx, f->mark);
    LOGIN("ann");
    assert_null(fx_find(f, f->mark, ENGINE_FX_AUDIT, 0, NULL));
    struct engine_command pause = {.kind = ENGINE_CMD_QUEUE_PAUSE};
    pause.u.queue.name = "spill";
    EXPECT_OK(fx_apply(f, &pause));
    assert_string_equal(f->fx[f->n_fx - 1].text, "");
    assert_string_equal(engine_effect_name(ENGINE_FX_AUDIT), "audit");
    assert_int_equal(engine_effect_parse("audit"), ENGINE_FX_AUDIT);
}

static int note(struct fixture *f, const char *action, const char *object)
{
    struct engine_command c = {.kind = ENGINE_CMD_AUDIT_NOTE, .actor = ACTOR};
    c.u.note.action = action;
    c.u.note.object = object;
    return fx_apply(f, &c);
}

TEST(an_audit_note_records_a_change_the_engine_does_not_make)
{
    char long_name[ENGINE_NAME_MAX + 1], long_object[ENGINE_TARGET_MAX + 1];
    memset(long_name, 'x', ENGINE_NAME_MAX);
    long_name[ENGINE_NAME_MAX] = 0;
    memset(long_object, 'x', ENGINE_TARGET_MAX);
    long_object[ENGINE_TARGET_MAX] = 0;
    uint64_t before = DIGEST;
    EXPECT_OK(note(f, "member_add", "n4"));
    assert_int_equal(f->n_fx, f->mark + 1); /* its audit, and nothing else */
    const struct fx_effect *x = ASSERT_AUDIT(AUDIT_NOTE, "n4");
    assert_string_equal(x->action, "member_add");
    assert_string_equal(x->agent, "");
    assert_string_equal(x->queue, "");
    assert_int_equal(x->contact, 0);
    EXPECT_OK(note(f, "leader_transfer", "n2@10.0.0.2:7001"));
    assert_string_equal(ASSERT_AUDIT(AUDIT_NOTE, "n2@10.0.0.2:7001")->action,
                        "leader_transfer");
    assert_int_equal(DIGEST, before); /* no state but the clock, which stood still */
    long_object[ENGINE_TARGET_MAX - 1] = 0;
    EXPECT_OK(note(f, "member_remove", long_object));
    long_object[ENGINE_TARGET_MAX - 1] = 'x';

    const char *refused[][2] = {
        {"", "n4"},
        {"member add", "n4"},
        {long_name, "n4"},
        {"queue_pause", "n4"}, /* a command's name: a note never passes for a command */
        {"audit_note", "n4"},
        {"member_add", ""},
        {"member_add", "n 4"},
        {"member_add", long_object},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (note(f, refused[i][0], refused[i][1]) != CD_EINVAL) {
            fail_msg("case %zu: %s", i, f->res.message);
        }
        assert_int_equal(f->n_fx, f->mark);
    }
    assert_int_equal(DIGEST, before);
    assert_string_equal(engine_cmd_name(ENGINE_CMD_AUDIT_NOTE), "audit_note");
}

/* ---- Codecs -------------------------------------------------------------------------------
 */

/* cmd through its binary form and back, applied to a copy of the state: the same answer
 * and the same state as cmd itself. */
static void round_trip_and_apply(struct fixture *f, const struct engine_command *cmd)
{
    struct cd_buf b, again;
    struct engine_command out;
    struct engine_cmd_store store;
    cd_buf_init(&b);
    cd_buf_init(&again);
    engine_cmd_store_init(&store);
    assert_int_equal(engine_command_encode(cmd, &b), 0);
    assert_int_equal(engine_command_decode(b.data, b.len, &out, &store), 0);
    assert_string_equal(out.actor, cmd->actor);
    assert_int_equal(engine_command_encode(&out, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    struct engine *copy = fx_snapshot_copy(f);
    struct engine_result res;
    int rc = engine_apply(copy, &out, f->now, &res, NULL);
    assert_int_equal(rc, fx_apply(f, cmd));
    assert_int_equal(res.contact, f->res.contact);
    assert_int_equal(engine_digest(copy), DIGEST);
    engine_free(copy);
    engine_cmd_store_close(&store);
    cd_buf_close(&b);
    cd_buf_close(&again);
}

TEST(the_new_commands_round_trip_with_their_actor)
{
    struct engine_command c = {.kind = ENGINE_CMD_USER_SET, .actor = "token:ops-admin"};
    c.u.user.name = "alice";
    c.u.user.role = ENGINE_ROLE_AGENT;
    c.u.user.agent = "ann";
    c.u.user.verifier = VERIFIER;
    round_trip_and_apply(f, &c);
    c = (struct engine_command){.kind = ENGINE_CMD_TOKEN_CREATE, .actor = "user:alice"};
    c.u.token.name = "alice-1";
    c.u.token.kind = ENGINE_TOKEN_SESSION;
    c.u.token.role = ENGINE_ROLE_AGENT;
    c.u.token.agent = "ann";
    c.u.token.user = "alice";
    c.u.token.expires_at = f->now + HOUR;
    hash_of(c.u.token.hash, 42);
    round_trip_and_apply(f, &c);
    assert_string_equal(by_hash(f, 42).created_by, "user:alice");
    c = (struct engine_command){.kind = ENGINE_CMD_TOKEN_REVOKE, .actor = "user:alice"};
    c.u.token.name = "alice-1";
    round_trip_and_apply(f, &c);
    c = (struct engine_command){.kind = ENGINE_CMD_USER_DELETE, .actor = "token:ops-admin"};
    c.u.user.name = "alice";
    round_trip_and_apply(f, &c);
    assert_int_equal(engine_user_count(f->e), 0);
    c = (struct engine_command){.kind = ENGINE_CMD_AUDIT_NOTE, .actor = "user:alice"};
    c.u.note.action = "member_remove";
    c.u.note.object = "n3";
    round_trip_and_apply(f, &c);
    const struct fx_effect *x = &f->fx[f->n_fx - 1];
    assert_int_equal(x->kind, ENGINE_FX_AUDIT);
    assert_string_equal(x->text, "user:alice");
    assert_string_equal(x->action, "member_remove");
}

TEST(an_audit_effect_round_trips_through_the_effect_codec)
{
    EXPECT_OK(USER_SET("alice", ENGINE_ROLE_ADMIN, NULL, VERIFIER));
    struct engine_effect fx = {.kind = ENGINE_FX_AUDIT,
                               .state = ENGINE_CMD_USER_SET,
                               .text = ACTOR,
                               .object = "alice",
                               .at = f->now};
    struct engine_effect out;
    struct engine_history h;
    struct cd_buf b;
    struct cd_reader r;
    cd_buf_init(&b);
    assert_int_equal(engine_effect_encode(&fx, &b), 0);
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_effect_decode(&r, &out, &h), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    assert_int_equal(out.kind, ENGINE_FX_AUDIT);
    assert_int_equal(out.state, ENGINE_CMD_USER_SET);
    assert_string_equal(out.text, ACTOR);
    assert_string_equal(out.object, "alice");
    assert_string_equal(out.action, "user_set"); /* a command's audit: its name */
    assert_int_equal(out.at, f->now);
    /* Its action is not written: the bytes are those of an effect without one, as effects
     * kept before actions existed are. */
    struct cd_buf without;
    cd_buf_init(&without);
    fx.action = "user_set";
    assert_int_equal(engine_effect_encode(&fx, &without), 0);
    assert_int_equal(without.len, b.len);
    assert_memory_equal(without.data, b.data, b.len);
    /* A note's action is its own, and travels. */
    fx.state = ENGINE_CMD_AUDIT_NOTE;
    fx.action = "member_add";
    fx.object = "n4";
    cd_buf_reset(&b);
    assert_int_equal(engine_effect_encode(&fx, &b), 0);
    assert_true(b.len > without.len);
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_effect_decode(&r, &out, &h), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    assert_string_equal(out.action, "member_add");
    assert_string_equal(out.object, "n4");
    for (size_t len = 0; len < b.len; len++) {
        cd_reader_init(&r, b.data, len);
        assert_int_equal(engine_effect_decode(&r, &out, &h), CD_ECORRUPT);
    }
    cd_buf_close(&without);
    cd_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(a_token_is_found_by_the_hash_of_its_secret),
        FX_TEST(a_create_checks_what_it_is_given_and_changes_nothing_when_refused),
        FX_TEST(revoked_by_id_or_by_name_a_token_is_gone),
        FX_TEST(api_tokens_are_bounded),
        FX_TEST(a_token_of_role_agent_acts_as_an_agent_there_is),
        FX_TEST(users_are_set_found_and_listed_by_name),
        FX_TEST(users_are_bounded),
        FX_TEST(a_session_is_its_users_own_sign_in),
        FX_TEST(a_users_oldest_session_gives_way),
        FX_TEST(principals_survive_a_snapshot),
        FX_TEST(every_truncation_of_a_snapshot_with_principals_is_refused),
        FX_TEST(audit_effects_carry_the_actor),
        FX_TEST(an_audit_note_records_a_change_the_engine_does_not_make),
        FX_TEST(the_new_commands_round_trip_with_their_actor),
        FX_TEST(an_audit_effect_round_trips_through_the_effect_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
