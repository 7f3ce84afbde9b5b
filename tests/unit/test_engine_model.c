/* The routing model outside the state: engine_model_validate() accepts a rich model and
 * rejects each class of mistake with a message naming the object; copies are deep; name
 * lookups; the stable names of the enumerations.
 *
 * Every test starts from the same valid model (build_model()); REJECTS(change, message)
 * rebuilds it, applies one change and expects exactly that message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine/engine.h"

#include "tests/unit/rich_model.h"

struct fixture
{
    struct engine_model m;
    char err[256];
};

/* ---- Fixture and helpers ------------------------------------------------------------ */

static int setup(void **state)
{
    struct fixture *f = zalloc(1, sizeof(*f));
    build_model(&f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    engine_model_close(&f->m);
    free(f);
    return 0;
}

#define TEST(name)                              \
    static void name##_body(struct fixture *f); \
    static void name(void **state)              \
    {                                           \
        name##_body(*state);                    \
    }                                           \
    static void name##_body(struct fixture *f)

#define M (&f->m)
#define Q(i) (&f->m.queues[(i)])
#define AG(i) (&f->m.agents[(i)])
#define RULE(i) (&f->m.rules[(i)])
#define COND(r, i) (&f->m.rules[(r)].conds[(i)])
#define HOURS (&f->m.hours[0])
#define ZONE(i) (&f->m.zones[(i)])

static int validate(struct fixture *f)
{
    f->err[0] = 'x';
    f->err[1] = 0;
    return engine_model_validate(&f->m, f->err, sizeof(f->err));
}

#define ASSERT_VALID                                      \
    do {                                                  \
        if (validate(f) != 0) {                           \
            fail_msg("valid model rejected: %s", f->err); \
        }                                                 \
        assert_string_equal(f->err, "");                  \
    } while (0)

#define RESET (engine_model_close(&f->m), build_model(&f->m))

/* Rebuilds the model, applies `change` and expects `message` from validation. */
#define REJECTS(change, message)                  \
    do {                                          \
        RESET;                                    \
        change;                                   \
        assert_int_equal(validate(f), CD_EINVAL); \
        assert_string_equal(f->err, (message));   \
    } while (0)

/* ---- Validation --------------------------------------------------------------------- */

TEST(accepts_good_model)
{
    ASSERT_VALID;
    assert_int_equal(engine_model_validate(M, NULL, 0), 0);
    engine_model_close(M);
    ASSERT_VALID; /* the empty model is valid too */
}

TEST(rejects_bad_names)
{
    REJECTS(M->skills[1].s[0] = 0, "skill 1: empty name");
    REJECTS(memset(Q(2)->name, 'x', sizeof(Q(2)->name)), "queue 2: name not terminated");
    REJECTS(SET_STR(Q(Q_MAIL)->name, "sales"), "queue 'sales': name used twice");
    REJECTS(SET_STR(M->skills[SK_BILLING].s, "english"), "skill 'english': name used twice");
    REJECTS(SET_STR(RULE(R_MAIL)->name, "busy"), "rule 'busy': name used twice");
    REJECTS(SET_STR(AG(1)->name, "ann"), "agent 'ann': name used twice");
    REJECTS(SET_STR(ZONE(1)->name, ""), "zone 1: empty name");
}

TEST(names_are_unique_per_kind_only)
{
    SET_STR(M->skills[SK_EN].s, "sales");
    SET_STR(RULE(R_MAIL)->name, "sales");
    ASSERT_VALID;
}

TEST(rejects_counts_beyond_ids)
{
    REJECTS(M->n_queues = 65536,
            "model: 3 skills, 65536 queues, 7 rules (at most 65535 of each)");
    M->n_queues = N_QUEUES;
    REJECTS(M->n_skills = 70000,
            "model: 70000 skills, 3 queues, 7 rules (at most 65535 of each)");
    M->n_skills = N_SKILLS;
    free(M->agents);
    M->agents = NULL;
    assert_int_equal(validate(f), CD_EINVAL);
    assert_string_equal(f->err, "model: no array for 2 agent entries");
}

TEST(rejects_bad_zones)
{
    REJECTS(ZONE(Z_LONDON)->transitions[1].at = 1774746000,
            "zone 'Europe/London': transition 1: not after the one before");
    REJECTS(ZONE(Z_NEW_YORK)->transitions[0].offset = 90000,
            "zone 'America/New_York': transition 0: offset 90000 out of range");
    REJECTS(ZONE(Z_NEW_YORK)->base_offset = -86400,
            "zone 'America/New_York': base_offset -86400 out of range");
}

TEST(rejects_bad_hours)
{
    REJECTS(HOURS->zone = 2, "hours 'business': zone 2 out of range");
    REJECTS(HOURS->week[0].iv[0].to_min = 9 * 60,
            "hours 'business': monday: interval 540-540 invalid");
    REJECTS(HOURS->week[2].iv[0].to_min = 1441,
            "hours 'business': wednesday: interval 540-1441 invalid");
    REJECTS(HOURS->week[5].iv[1].from_min = 11 * 60,
            "hours 'business': saturday: interval 660-900 overlaps or is out of order");
    REJECTS(HOURS->week[4].n = 5, "hours 'business': friday: 5 intervals (max 4)");
    REJECTS(HOURS->holidays[1].date = 20458,
            "hours 'business': holiday 20458: not after the one before");
    REJECTS(HOURS->holidays[1].hours.iv[0].from_min = 1440,
            "hours 'business': holiday 20500: interval 1440-1440 invalid");
}

TEST(rejects_bad_queues)
{
    REJECTS(Q(Q_SALES)->overflow_queue = 9, "queue 'sales': overflow_queue 9 out of range");
    REJECTS(Q(Q_SALES)->overflow_queue = Q_SALES, "queue 'sales': overflows to itself");
    REJECTS(Q(Q_MAIL)->hours = 1, "queue 'mail': hours 1 out of range");
    REJECTS(Q(Q_MAIL)->hours = -2, "queue 'mail': hours -2 out of range");
    REJECTS(Q(Q_MAIL)->channels = 0, "queue 'mail': channels mask 0x0 invalid");
    REJECTS(Q(Q_MAIL)->channels = 0x12, "queue 'mail': channels mask 0x12 invalid");
    REJECTS(Q(Q_MAIL)->strategy = ENGINE_STRATEGY_COUNT, "queue 'mail': strategy 5 unknown");
    REJECTS(Q(Q_SUPPORT)->channels = VOICE | CHAT,
            "queue 'support': ring-all needs a voice-only queue");
    REJECTS(Q(Q_MAIL)->sl_percent = 101, "queue 'mail': sl_percent 101 above 100");
    REJECTS(memset(Q(Q_SUPPORT)->overflow_target, 'x', ENGINE_TARGET_MAX),
            "queue 'support': overflow_target not terminated");
}

TEST(rejects_bad_queue_skills_and_steps)
{
    REJECTS(Q(Q_SALES)->skills[0].skill = N_SKILLS,
            "queue 'sales': skills 0: skill 3 out of range");
    REJECTS(Q(Q_SALES)->skills[0].level = 0,
            "queue 'sales': skill 'english': level 0 not in 1..10");
    REJECTS(Q(Q_SALES)->skills[0].level = 11,
            "queue 'sales': skill 'english': level 11 not in 1..10");
    REJECTS(Q(Q_SALES)->n_skills = 9, "queue 'sales': 9 skills (max 8)");
    REJECTS(Q(Q_SALES)->steps[1].after_s = 30,
            "queue 'sales': step 1: after_s 30 not after the step before");
    /* A step due as a contact arrives gave it a deadline already past (found by
     * fuzz_engine_command: engine_check() saw the overdue deadline after the install). */
    REJECTS(Q(Q_SALES)->steps[0].after_s = 0, "queue 'sales': step 0: after_s 0 (at least 1)");
    REJECTS(Q(Q_SALES)->steps[0].drop[0] = 7,
            "queue 'sales': step 0: drop skill 7 out of range");
    REJECTS(Q(Q_SALES)->steps[0].n_drop = 9, "queue 'sales': step 0: 9 skills dropped (max 8)");
    REJECTS(Q(Q_SALES)->steps[0].relax = 11, "queue 'sales': step 0: relax 11 out of range");
    REJECTS(Q(Q_SALES)->n_steps = 9, "queue 'sales': 9 escalation steps (max 8)");
}

TEST(rejects_bad_agents)
{
    REJECTS(AG(1)->queues[0] = N_QUEUES, "agent 'bob': queue 3 out of range");
    REJECTS(AG(0)->queues[1] = Q_SALES, "agent 'ann': queue 'sales' listed twice");
    REJECTS(AG(0)->skills[1].skill = SK_EN, "agent 'ann': skill 'english' listed twice");
    REJECTS(AG(0)->skills[1].level = 0, "agent 'ann': skill 'billing': level 0 not in 1..10");
    REJECTS(AG(0)->n_skills = 33, "agent 'ann': 33 skills (max 32)");
    REJECTS(AG(0)->n_queues = 33, "agent 'ann': 33 queues (max 32)");
    REJECTS(memset(AG(0)->site, 'x', ENGINE_SITE_MAX), "agent 'ann': site not terminated");
}

TEST(rejects_bad_attribute_conditions)
{
    REJECTS(COND(R_BLOCKED, 0)->key[0] = 0, "rule 'blocked': condition 0: empty key");
    REJECTS(COND(R_BLOCKED, 0)->n_values = 1,
            "rule 'blocked': condition 0: value 0 empty or not terminated");
    REJECTS((COND(R_BLOCKED, 0)->n_values = 1, SET_STR(COND(R_BLOCKED, 0)->values[0], "1")),
            "rule 'blocked': condition 0: op 8 with 1 values");
    REJECTS(COND(R_GOLD, 0)->n_values = 0, "rule 'gold': condition 0: op 9 with 0 values");
    REJECTS(COND(R_GOLD, 0)->op = ENGINE_OP_LT,
            "rule 'gold': condition 0: op 2 not allowed on an attribute");
    REJECTS(COND(R_GOLD, 0)->n_values = 9, "rule 'gold': condition 0: 9 values (max 8)");
    REJECTS(COND(R_GOLD, 1)->op = ENGINE_OP_PREFIX,
            "rule 'gold': condition 1: op 9 not allowed on a location");
    REJECTS(COND(R_GOLD, 1)->op = ENGINE_OP_COUNT, "rule 'gold': condition 1: op 10 unknown");
    REJECTS(COND(R_VIP, 1)->n_values = 0, "rule 'vip': condition 1: op 6 with 0 values");
    REJECTS(COND(R_VIP, 0)->channels = 0, "rule 'vip': condition 0: channels mask 0x0 invalid");
    REJECTS(COND(R_VIP, 0)->kind = ENGINE_COND_KIND_COUNT,
            "rule 'vip': condition 0: kind 10 unknown");
}

TEST(rejects_bad_time_conditions)
{
    REJECTS(COND(R_NIGHT, 0)->from_min = 1440,
            "rule 'night': condition 0: time window 1440-300 invalid");
    REJECTS(COND(R_NIGHT, 0)->to_min = 1441,
            "rule 'night': condition 0: time window 1380-1441 invalid");
    REJECTS(COND(R_NIGHT, 0)->to_min = 1380,
            "rule 'night': condition 0: time window 1380-1380 invalid");
    REJECTS(COND(R_NIGHT, 0)->zone = N_ZONES, "rule 'night': condition 0: zone 2 out of range");
    REJECTS(COND(R_NIGHT, 1)->days = 0, "rule 'night': condition 1: days mask 0x0 invalid");
    REJECTS(COND(R_NIGHT, 1)->days = 0x80, "rule 'night': condition 1: days mask 0x80 invalid");
    /* Up to midnight is a window; so is UTC (-1). */
    RESET;
    COND(R_NIGHT, 0)->to_min = 1440;
    COND(R_NIGHT, 0)->zone = -1;
    ASSERT_VALID;
}

TEST(rejects_bad_queue_conditions)
{
    REJECTS(COND(R_BUSY, 0)->queue = N_QUEUES,
            "rule 'busy': condition 0: queue 3 out of range");
    REJECTS(COND(R_BUSY, 1)->op = ENGINE_OP_IN,
            "rule 'busy': condition 1: op 6 not allowed on a number");
    REJECTS(COND(R_VIP, 3)->op = ENGINE_OP_EXISTS,
            "rule 'vip': condition 3: op 8 not allowed on a number");
    /* Naming no queue is fine only when the action names one. */
    REJECTS(cond(RULE(R_BLOCKED), ENGINE_COND_QUEUE_SIZE, ENGINE_OP_GT),
            "rule 'blocked': condition 1: no queue, and the action names none");
    REJECTS(cond(RULE(R_NIGHT), ENGINE_COND_EWT, ENGINE_OP_GT),
            "rule 'night': condition 2: no queue, and the action names none");
    RESET;
    cond(RULE(R_SPILL), ENGINE_COND_EWT, ENGINE_OP_GT);
    ASSERT_VALID;
}

TEST(rejects_bad_actions)
{
    REJECTS(RULE(R_VIP)->action.kind = ENGINE_ACTION_KIND_COUNT,
            "rule 'vip': action kind 5 unknown");
    REJECTS(RULE(R_VIP)->action.queue = -1, "rule 'vip': action queue -1 out of range");
    REJECTS(RULE(R_BUSY)->action.queue = N_QUEUES, "rule 'busy': action queue 3 out of range");
    REJECTS(RULE(R_BLOCKED)->action.queue = 5, "rule 'blocked': action queue 5 out of range");
    REJECTS(RULE(R_NIGHT)->action.target[0] = 0,
            "rule 'night': overflow needs a queue or a target");
    REJECTS(RULE(R_BLOCKED)->action.reason[0] = 0, "rule 'blocked': reject needs a reason");
    REJECTS(RULE(R_GOLD)->action.n_set = 0, "rule 'gold': set action assigns nothing");
    REJECTS(RULE(R_GOLD)->action.n_set = 9, "rule 'gold': 9 attributes set (max 8)");
    REJECTS(RULE(R_GOLD)->action.set[1].key[0] = 0,
            "rule 'gold': set 1: key empty, or key or value not terminated");
    REJECTS(RULE(R_VIP)->action.skills[0].skill = 3,
            "rule 'vip': action skills 0: skill 3 out of range");
    REJECTS(RULE(R_VIP)->action.n_skills = 9, "rule 'vip': 9 action skills (max 8)");
    REJECTS(memset(RULE(R_VIP)->action.target, 'x', ENGINE_TARGET_MAX),
            "rule 'vip': target or reason not terminated");
    REJECTS((RULE(R_VIP)->n_conds = 1, free(RULE(R_VIP)->conds), RULE(R_VIP)->conds = NULL),
            "rule 'vip': 1 conditions but no array");
}

TEST(rejects_bad_globals)
{
    REJECTS(M->blocks[ENGINE_CH_CHAT] = 0x10, "model: blocks of chat 0x10 invalid");
    REJECTS(memset(M->rna_reason, 'x', ENGINE_VALUE_MAX), "model: rna_reason not terminated");
    /* No blocks and the default reason are fine. */
    RESET;
    memset(M->blocks, 0, sizeof(M->blocks));
    M->rna_reason[0] = 0;
    ASSERT_VALID;
}

TEST(first_error_wins_and_truncates)
{
    Q(Q_MAIL)->hours = 1;
    RULE(R_VIP)->action.queue = -1;
    char small[16];
    assert_int_equal(engine_model_validate(M, small, sizeof(small)), CD_EINVAL);
    assert_string_equal(small, "queue 'mail': h");
}

/* ---- Copies and lookups ------------------------------------------------------------- */

static void assert_same_encoding(const struct engine_model *a, const struct engine_model *b)
{
    struct cd_buf x, y;
    cd_buf_init(&x);
    cd_buf_init(&y);
    assert_int_equal(engine_model_encode(a, &x), 0);
    assert_int_equal(engine_model_encode(b, &y), 0);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    cd_buf_close(&x);
    cd_buf_close(&y);
}

TEST(copy_is_deep)
{
    struct engine_model c;
    engine_model_init(&c);
    assert_int_equal(engine_model_copy(&c, M), 0);
    assert_same_encoding(&c, M);
    assert_ptr_not_equal(c.zones[0].transitions, M->zones[0].transitions);
    assert_ptr_not_equal(c.hours[0].holidays, M->hours[0].holidays);
    assert_ptr_not_equal(c.rules[R_VIP].conds, M->rules[R_VIP].conds);

    c.zones[0].transitions[0].at = 1;
    c.hours[0].holidays[0].date = 2;
    c.rules[R_VIP].conds[0].channels = CHAT;
    SET_STR(c.queues[Q_SALES].name, "renamed");
    SET_STR(c.skills[0].s, "renamed");
    c.agents[0].n_queues = 0;
    assert_int_equal(M->zones[0].transitions[0].at, 1774746000);
    assert_int_equal(M->hours[0].holidays[0].date, 20458);
    assert_int_equal(M->rules[R_VIP].conds[0].channels, VOICE);
    assert_string_equal(M->queues[Q_SALES].name, "sales");
    assert_string_equal(M->skills[0].s, "english");
    assert_int_equal(M->agents[0].n_queues, 2);
    ASSERT_VALID;
    engine_model_close(&c);
    /* Closing the copy left the original whole: closing it too frees each block once. */
    engine_model_close(M);
    engine_model_close(M);
}

TEST(copy_of_empty_model)
{
    struct engine_model c;
    engine_model_close(M);
    engine_model_init(&c);
    assert_int_equal(engine_model_copy(&c, M), 0);
    assert_null(c.skills);
    assert_null(c.rules);
    assert_int_equal(c.n_queues, 0);
    engine_model_close(&c);
}

TEST(lookups)
{
    assert_int_equal(engine_model_skill(M, "english"), SK_EN);
    assert_int_equal(engine_model_skill(M, "billing"), SK_BILLING);
    assert_int_equal(engine_model_skill(M, "sales"), -1);
    assert_int_equal(engine_model_skill(M, ""), -1);
    assert_int_equal(engine_model_skill(M, NULL), -1);
    assert_int_equal(engine_model_queue(M, "sales"), Q_SALES);
    assert_int_equal(engine_model_queue(M, "mail"), Q_MAIL);
    assert_int_equal(engine_model_queue(M, "mai"), -1);
    assert_int_equal(engine_model_queue(M, "english"), -1);
    engine_model_close(M);
    assert_int_equal(engine_model_queue(M, "sales"), -1);
}

/* ---- Names of the enumerations ------------------------------------------------------ */

TEST(enum_names)
{
    (void)f;
    static const char *const ch[] = {"voice", "email", "sms", "chat"};
    for (int i = 0; i < ENGINE_CH_COUNT; i++) {
        assert_string_equal(engine_channel_name(i), ch[i]);
        assert_int_equal(engine_channel_parse(ch[i]), i);
    }
    static const char *const st[] = {"longest-idle", "least-occupied", "best-skill",
                                     "round-robin", "ring-all"};
    for (int i = 0; i < ENGINE_STRATEGY_COUNT; i++) {
        assert_string_equal(engine_strategy_name(i), st[i]);
        assert_int_equal(engine_strategy_parse(st[i]), i);
    }
    assert_string_equal(engine_contact_state_name(ENGINE_CONTACT_QUEUED), "queued");
    assert_string_equal(engine_contact_state_name(ENGINE_CONTACT_WRAPUP), "wrapup");
    assert_string_equal(engine_contact_state_name(ENGINE_CONTACT_TIMED_OUT), "timed_out");
    assert_string_equal(engine_contact_state_name(ENGINE_CONTACT_REJECTED), "rejected");
    assert_string_equal(engine_agent_state_name(ENGINE_AGENT_BUSY), "busy");
    assert_string_equal(engine_agent_state_name(ENGINE_AGENT_AWAY), "away");
    assert_string_equal(engine_presence_name(ENGINE_PRESENCE_AVAILABLE), "available");
    assert_string_equal(engine_presence_name(ENGINE_PRESENCE_AWAY), "away");
    assert_string_equal(engine_cmd_name(ENGINE_CMD_TICK), "tick");
    assert_string_equal(engine_cmd_name(ENGINE_CMD_CONTACT_CREATE), "contact_create");
    assert_string_equal(engine_cmd_name(ENGINE_CMD_OFFER_ACCEPT), "offer_accept");
    assert_string_equal(engine_cmd_name(ENGINE_CMD_MODEL_INSTALL), "model_install");
    for (int k = ENGINE_CMD_TICK; k < ENGINE_CMD_KIND_COUNT; k++) {
        assert_non_null(engine_cmd_name(k));
    }
}

TEST(enum_names_out_of_range)
{
    (void)f;
    assert_null(engine_channel_name(-1));
    assert_null(engine_channel_name(ENGINE_CH_COUNT));
    assert_null(engine_strategy_name(ENGINE_STRATEGY_COUNT));
    assert_null(engine_contact_state_name(ENGINE_CONTACT_STATE_COUNT));
    assert_null(engine_agent_state_name(ENGINE_AGENT_AWAY + 1));
    assert_null(engine_presence_name(ENGINE_PRESENCE_AWAY + 1));
    assert_null(engine_cmd_name(0));
    assert_null(engine_cmd_name(ENGINE_CMD_KIND_COUNT));
    assert_null(engine_cmd_name(-3));
    assert_int_equal(engine_channel_parse("Voice"), -1);
    assert_int_equal(engine_channel_parse(""), -1);
    assert_int_equal(engine_channel_parse(NULL), -1);
    assert_int_equal(engine_strategy_parse("ring_all"), -1);
}

#define FX_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(accepts_good_model),
        FX_TEST(rejects_bad_names),
        FX_TEST(names_are_unique_per_kind_only),
        FX_TEST(rejects_counts_beyond_ids),
        FX_TEST(rejects_bad_zones),
        FX_TEST(rejects_bad_hours),
        FX_TEST(rejects_bad_queues),
        FX_TEST(rejects_bad_queue_skills_and_steps),
        FX_TEST(rejects_bad_agents),
        FX_TEST(rejects_bad_attribute_conditions),
        FX_TEST(rejects_bad_time_conditions),
        FX_TEST(rejects_bad_queue_conditions),
        FX_TEST(rejects_bad_actions),
        FX_TEST(rejects_bad_globals),
        FX_TEST(first_error_wins_and_truncates),
        FX_TEST(copy_is_deep),
        FX_TEST(copy_of_empty_model),
        FX_TEST(lookups),
        FX_TEST(enum_names),
        FX_TEST(enum_names_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
