/* Binary forms of commands and models: every command kind round-trips field by field and
 * byte for byte; a rich model inside MODEL_INSTALL round-trips; every truncation and
 * thousands of seeded random corruptions are rejected cleanly or decode to something that
 * re-encodes to the same bytes; versions, trailing bytes and limits are enforced. Every
 * command carries its actor. */
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

/* ---- Field-by-field comparison ------------------------------------------------------ */

static void assert_levels_equal(const struct engine_skill_level *a,
                                const struct engine_skill_level *b,
                                unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(a[i].skill, b[i].skill);
        assert_int_equal(a[i].level, b[i].level);
    }
}

static void assert_day_equal(const struct engine_day_hours *a, const struct engine_day_hours *b)
{
    assert_int_equal(a->n, b->n);
    for (uint8_t i = 0; i < a->n; i++) {
        assert_int_equal(a->iv[i].from_min, b->iv[i].from_min);
        assert_int_equal(a->iv[i].to_min, b->iv[i].to_min);
    }
}

static void assert_zone_equal(const struct engine_zone *a, const struct engine_zone *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->base_offset, b->base_offset);
    assert_int_equal(a->n_transitions, b->n_transitions);
    for (uint32_t i = 0; i < a->n_transitions; i++) {
        assert_int_equal(a->transitions[i].at, b->transitions[i].at);
        assert_int_equal(a->transitions[i].offset, b->transitions[i].offset);
    }
}

static void assert_hours_equal(const struct engine_hours *a, const struct engine_hours *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->zone, b->zone);
    for (int d = 0; d < 7; d++) {
        assert_day_equal(&a->week[d], &b->week[d]);
    }
    assert_int_equal(a->n_holidays, b->n_holidays);
    for (uint32_t i = 0; i < a->n_holidays; i++) {
        assert_int_equal(a->holidays[i].date, b->holidays[i].date);
        assert_day_equal(&a->holidays[i].hours, &b->holidays[i].hours);
    }
}

static void assert_step_equal(const struct engine_escalation *a,
                              const struct engine_escalation *b)
{
    assert_int_equal(a->after_s, b->after_s);
    assert_int_equal(a->relax, b->relax);
    assert_int_equal(a->priority_boost, b->priority_boost);
    assert_int_equal(a->n_drop, b->n_drop);
    assert_memory_equal(a->drop, b->drop, a->n_drop * sizeof(a->drop[0]));
}

static void assert_queue_equal(const struct engine_queue *a, const struct engine_queue *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->channels, b->channels);
    assert_int_equal(a->strategy, b->strategy);
    assert_int_equal(a->sl_target_s, b->sl_target_s);
    assert_int_equal(a->sl_percent, b->sl_percent);
    assert_int_equal(a->max_size, b->max_size);
    assert_int_equal(a->max_wait_s, b->max_wait_s);
    assert_int_equal(a->ring_s, b->ring_s);
    assert_int_equal(a->wrapup_s, b->wrapup_s);
    assert_int_equal(a->hours, b->hours);
    assert_int_equal(a->overflow_queue, b->overflow_queue);
    assert_string_equal(a->overflow_target, b->overflow_target);
    assert_int_equal(a->n_skills, b->n_skills);
    assert_levels_equal(a->skills, b->skills, a->n_skills);
    assert_int_equal(a->n_steps, b->n_steps);
    for (uint8_t i = 0; i < a->n_steps; i++) {
        assert_step_equal(&a->steps[i], &b->steps[i]);
    }
    assert_int_equal(a->disposition_required, b->disposition_required);
    assert_int_equal(a->sl_formula, b->sl_formula);
    assert_int_equal(a->short_abandon_s, b->short_abandon_s);
    assert_int_equal(a->thresholds.sl_warn, b->thresholds.sl_warn);
    assert_int_equal(a->thresholds.sl_alarm, b->thresholds.sl_alarm);
    assert_int_equal(a->thresholds.waiting_warn, b->thresholds.waiting_warn);
    assert_int_equal(a->thresholds.waiting_alarm, b->thresholds.waiting_alarm);
    assert_int_equal(a->thresholds.wait_warn_s, b->thresholds.wait_warn_s);
    assert_int_equal(a->thresholds.wait_alarm_s, b->thresholds.wait_alarm_s);
}

static void assert_agent_equal(const struct engine_agent_def *a,
                               const struct engine_agent_def *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->site, b->site);
    assert_memory_equal(a->capacity, b->capacity, sizeof(a->capacity));
    assert_int_equal(a->n_skills, b->n_skills);
    assert_levels_equal(a->skills, b->skills, a->n_skills);
    assert_int_equal(a->n_queues, b->n_queues);
    assert_memory_equal(a->queues, b->queues, a->n_queues * sizeof(a->queues[0]));
}

static void assert_cond_equal(const struct engine_condition *a,
                              const struct engine_condition *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->channels, b->channels);
    assert_int_equal(a->days, b->days);
    assert_int_equal(a->from_min, b->from_min);
    assert_int_equal(a->to_min, b->to_min);
    assert_int_equal(a->zone, b->zone);
    assert_int_equal(a->queue, b->queue);
    assert_int_equal(a->number, b->number);
    assert_string_equal(a->key, b->key);
    assert_int_equal(a->n_values, b->n_values);
    for (uint8_t i = 0; i < a->n_values; i++) {
        assert_string_equal(a->values[i], b->values[i]);
    }
}

static void assert_action_equal(const struct engine_action *a, const struct engine_action *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->has_priority, b->has_priority);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->queue, b->queue);
    assert_string_equal(a->target, b->target);
    assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->n_skills, b->n_skills);
    assert_levels_equal(a->skills, b->skills, a->n_skills);
    assert_int_equal(a->n_set, b->n_set);
    for (uint8_t i = 0; i < a->n_set; i++) {
        assert_string_equal(a->set[i].key, b->set[i].key);
        assert_string_equal(a->set[i].value, b->set[i].value);
    }
}

static void assert_model_equal(const struct engine_model *a, const struct engine_model *b)
{
    assert_int_equal(a->n_skills, b->n_skills);
    for (uint32_t i = 0; i < a->n_skills; i++) {
        assert_string_equal(a->skills[i].s, b->skills[i].s);
    }
    assert_int_equal(a->n_zones, b->n_zones);
    for (uint32_t i = 0; i < a->n_zones; i++) {
        assert_zone_equal(&a->zones[i], &b->zones[i]);
    }
    assert_int_equal(a->n_hours, b->n_hours);
    for (uint32_t i = 0; i < a->n_hours; i++) {
        assert_hours_equal(&a->hours[i], &b->hours[i]);
    }
    assert_int_equal(a->n_queues, b->n_queues);
    for (uint32_t i = 0; i < a->n_queues; i++) {
        assert_queue_equal(&a->queues[i], &b->queues[i]);
    }
    assert_int_equal(a->n_agents, b->n_agents);
    for (uint32_t i = 0; i < a->n_agents; i++) {
        assert_agent_equal(&a->agents[i], &b->agents[i]);
    }
    assert_int_equal(a->n_rules, b->n_rules);
    for (uint32_t i = 0; i < a->n_rules; i++) {
        assert_string_equal(a->rules[i].name, b->rules[i].name);
        assert_int_equal(a->rules[i].n_conds, b->rules[i].n_conds);
        for (uint32_t j = 0; j < a->rules[i].n_conds; j++) {
            assert_cond_equal(&a->rules[i].conds[j], &b->rules[i].conds[j]);
        }
        assert_action_equal(&a->rules[i].action, &b->rules[i].action);
    }
    assert_memory_equal(a->blocks, b->blocks, sizeof(a->blocks));
    assert_string_equal(a->rna_reason, b->rna_reason);
    assert_int_equal(a->n_personal, b->n_personal);
    for (uint32_t i = 0; i < a->n_personal; i++) {
        assert_string_equal(a->personal[i], b->personal[i]);
    }
    assert_int_equal(a->report_zone, b->report_zone);
}

static void assert_model_empty(const struct engine_model *m)
{
    struct engine_model empty;
    engine_model_init(&empty);
    assert_memory_equal(m, &empty, sizeof(empty));
}

/* ---- Fixture ------------------------------------------------------------------------ */

struct fixture
{
    struct engine_model m;
    struct engine_command in;
    struct engine_command out;
    struct engine_cmd_store store;
    struct cd_buf enc; /* encoding of `in` */
    struct cd_buf re;  /* encoding of `out` */
};

static int setup(void **state)
{
    struct fixture *f = zalloc(1, sizeof(*f));
    build_model(&f->m);
    engine_cmd_store_init(&f->store);
    cd_buf_init(&f->enc);
    cd_buf_init(&f->re);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    engine_model_close(&f->m);
    engine_cmd_store_close(&f->store);
    cd_buf_close(&f->enc);
    cd_buf_close(&f->re);
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

/* ---- One command of every kind, every field set ------------------------------------- */

static const struct engine_skill_ref REFS[] = {{"english", 3}, {"spanish", 10}, {"billing", 1}};
static const struct engine_attr ATTRS[] = {{"language", "en"},
                                           {"tier", "gold"},
                                           {"location", "GB-LND"},
                                           {"note", ""}};
static const char *const QUEUES[] = {"sales", "support", "mail"};
static const struct engine_signal_set SIGNALS[] = {
    {"cluster.quorum", ENGINE_SIGNAL_BAD, -1, 1LL << 41},
    {"member.n2.reachable", ENGINE_SIGNAL_OK, 0, 0},
    {"node.n1.disk_free", ENGINE_SIGNAL_GONE, INT64_MAX, 7}};

static void sample_agent_cmds(struct fixture *f, struct engine_command *c)
{
    switch (c->kind) {
        case ENGINE_CMD_AGENT_SKILLS:
            c->u.skills.name = "ann";
            c->u.skills.n_skills = 3;
            c->u.skills.skills = REFS;
            break;
        case ENGINE_CMD_AGENT_UPSERT:
            c->u.upsert =
                (struct engine_agent_spec){"carol", "nyc", {1, 5, 3, 2}, 3, REFS, 3, QUEUES};
            break;
        case ENGINE_CMD_MODEL_INSTALL:
            c->u.install.version = 300;
            c->u.install.model = &f->m;
            c->u.install.source = "version: 300\n";
            c->actor = "user:ann";
            c->u.install.comment = "more staff";
            c->u.install.diff = "+ queues.mail";
            c->u.install.rollback_of = 12;
            break;
        case ENGINE_CMD_QUEUE_PAUSE:
        case ENGINE_CMD_QUEUE_RESUME:
            c->u.queue.name = "support";
            break;
        case ENGINE_CMD_SESSION_MOVE:
        case ENGINE_CMD_SESSION_END:
            c->u.session.id = 4242;
            c->u.session.home = "n3";
            c->u.session.session = "a84b4c76e66710@pc33.example.com";
            break;
        case ENGINE_CMD_NODE_LOST:
            c->u.node.name = "n2";
            break;
        case ENGINE_CMD_WEBHOOK_ADD:
        case ENGINE_CMD_WEBHOOK_DELETE:
        case ENGINE_CMD_WEBHOOK_DELIVERED:
        case ENGINE_CMD_WEBHOOK_FAILED:
            c->u.webhook.id = 7;
            c->u.webhook.url = "http://127.0.0.1:9000/hook";
            c->u.webhook.secret = "s3cret-s3cret-s3cret";
            c->u.webhook.kinds = 0x1fe;
            c->u.webhook.from_index = 1ULL << 40;
            c->u.webhook.from_n = UINT32_MAX;
            c->u.webhook.to_index = (1ULL << 40) + 9;
            c->u.webhook.to_n = 3;
            c->u.webhook.count = 12;
            c->u.webhook.status = 503;
            c->u.webhook.text = "upstream busy";
            break;
        case ENGINE_CMD_TOKEN_CREATE:
        case ENGINE_CMD_TOKEN_REVOKE:
            c->u.token.id = 4000000000u;
            c->u.token.name = "ops-admin";
            c->u.token.kind = ENGINE_TOKEN_SESSION;
            c->u.token.role = ENGINE_ROLE_AGENT;
            c->u.token.agent = "ann";
            c->u.token.user = "ann";
            c->u.token.expires_at = -(INT64_C(1) << 50);
            for (int i = 0; i < ENGINE_TOKEN_HASH_LEN; i++) {
                c->u.token.hash[i] = (uint8_t)(0xff - 7 * i);
            }
            break;
        case ENGINE_CMD_USER_SET:
        case ENGINE_CMD_USER_DELETE:
            c->u.user.name = "ann";
            c->u.user.role = ENGINE_ROLE_AGENT;
            c->u.user.agent = "ann";
            c->u.user.verifier = "scrypt$16384$8$1$c2FsdA$aGFzaA";
            break;
        case ENGINE_CMD_PRIVACY_ERASE:
            c->u.erase.key = "phone";
            c->u.erase.value = "+44 20 7946 0000";
            break;
        case ENGINE_CMD_AUDIT_NOTE:
            c->u.note.action = "member_add";
            c->u.note.object = "n4";
            break;
        default: /* LOGIN, LOGOUT, STATE, DELETE */
            c->u.agent.name = "ann";
            c->u.agent.presence = ENGINE_PRESENCE_AWAY;
            c->u.agent.reason = "lunch";
            break;
    }
}

static void sample(struct fixture *f, int kind, struct engine_command *c)
{
    memset(c, 0, sizeof(*c));
    c->kind = (uint8_t)kind;
    c->actor = "token:ops-admin";
    switch (kind) {
        case ENGINE_CMD_TICK:
            break;
        case ENGINE_CMD_CONTACT_CREATE:
            c->u.create = (struct engine_contact_create){
                "call-8812", ENGINE_CH_CHAT, "sales", -300, 3, REFS, 4, ATTRS, "n2", "tok-77"};
            break;
        case ENGINE_CMD_CONTACT_TRANSFER:
            c->u.transfer.id = UINT64_MAX;
            c->u.transfer.queue = "support";
            c->u.transfer.agent = "bob";
            c->u.transfer.target = "sip:desk@site-b";
            break;
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            c->u.set_attrs.id = 1234567890123ULL;
            c->u.set_attrs.n_attrs = 4;
            c->u.set_attrs.attrs = ATTRS;
            break;
        case ENGINE_CMD_OFFER_ACCEPT:
        case ENGINE_CMD_OFFER_REJECT:
            c->u.offer.id = 77;
            c->u.offer.agent = "ann";
            break;
        case ENGINE_CMD_CONTACT_ABANDON:
        case ENGINE_CMD_CONTACT_END:
        case ENGINE_CMD_CONTACT_CALLBACK:
        case ENGINE_CMD_CONTACT_HOLD:
        case ENGINE_CMD_CONTACT_RESUME:
            c->u.contact.id = 4096 + (uint64_t)kind;
            break;
        case ENGINE_CMD_WRAPUP_DONE:
            c->u.wrapup.id = 4096 + (uint64_t)kind;
            c->u.wrapup.disposition = "follow-up";
            c->u.wrapup.notes =
                "Customer will call back on Monday.\nRefund: \xc2\xa3"
                "12";
            break;
        case ENGINE_CMD_CHAT_MESSAGE:
            c->u.message.id = 1ULL << 33;
            c->u.message.from = ENGINE_SIDE_AGENT;
            c->u.message.agent = "ann";
            c->u.message.msg_id = "m-7f3a/2";
            c->u.message.text = "Hello! How can I help?\n\xe2\x9c\x93";
            break;
        case ENGINE_CMD_REPORT_PUT:
        case ENGINE_CMD_REPORT_DELETE:
            c->u.report.name = "daily-sales";
            c->u.report.text = "{\"figures\":[\"offered\",\"service_level\"]}";
            c->u.report.comment = "for the sales director";
            c->u.report.expect = 7;
            break;
        case ENGINE_CMD_REPORT_SLOT:
        case ENGINE_CMD_REPORT_SENT:
            c->u.round.name = "daily-sales";
            c->u.round.slot = -(1LL << 41) + kind; /* signed: any instant */
            c->u.round.version = 3;
            c->u.round.targets = 4;
            c->u.round.target = 2;
            c->u.round.ok = kind == ENGINE_CMD_REPORT_SENT;
            c->u.round.text = "<r1.1796601600000.2@contactd>";
            c->u.round.retry_at = 1LL << 42;
            break;
        case ENGINE_CMD_HEALTH:
            c->u.health.n = 3;
            c->u.health.signals = SIGNALS;
            break;
        case ENGINE_CMD_FAULT_ACK:
        case ENGINE_CMD_FAULT_NOTE:
        case ENGINE_CMD_FAULT_CLOSE:
        case ENGINE_CMD_FAULT_ESCALATE:
        case ENGINE_CMD_FAULT_NOTIFIED:
            c->u.fault.id = UINT32_MAX - (uint32_t)kind;
            c->u.fault.text = "disk replaced; \xc3\xa9t\xc3\xa9";
            c->u.fault.path = kind >= ENGINE_CMD_FAULT_ESCALATE ? "platform" : NULL;
            c->u.fault.level = (uint8_t)(kind % 4);
            c->u.fault.target = 3;
            c->u.fault.ok = kind == ENGINE_CMD_FAULT_NOTIFIED;
            c->u.fault.retry_at = -(1LL << 40) + kind;
            break;
        case ENGINE_CMD_MODEL_SAVE:
        case ENGINE_CMD_MODEL_FORGET:
        case ENGINE_CMD_RUNBOOK_RUN:
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
        case ENGINE_CMD_DRILL_RECORD:
            c->u.runbook.name = kind != ENGINE_CMD_RUNBOOK_MODEL ? "contingency" : NULL;
            c->u.runbook.signal = "queue.sales.service_level";
            c->u.runbook.text = "version: 1\n";
            c->u.runbook.comment = kind == ENGINE_CMD_MODEL_SAVE ? "plan b" : NULL;
            c->u.runbook.run = UINT32_MAX - (uint32_t)kind;
            c->u.runbook.version = 7;
            c->u.runbook.ok = kind == ENGINE_CMD_RUNBOOK_MODEL;
            c->u.runbook.revert = kind == ENGINE_CMD_RUNBOOK_MODEL;
            c->u.runbook.saved_at = -(1LL << 41) + kind;
            c->u.runbook.model = kind == ENGINE_CMD_RUNBOOK_MODEL ? &f->m : NULL;
            break;
        default:
            sample_agent_cmds(f, c);
            break;
    }
}

/* ---- Comparing commands ------------------------------------------------------------- */

/* A NULL string travels as "". */
static void assert_str_as_sent(const char *sent, const char *got)
{
    assert_non_null(got);
    assert_string_equal(sent != NULL ? sent : "", got);
}

static void assert_refs_equal(const struct engine_skill_ref *a,
                              const struct engine_skill_ref *b,
                              uint8_t n)
{
    for (uint8_t i = 0; i < n; i++) {
        assert_str_as_sent(a[i].skill, b[i].skill);
        assert_int_equal(a[i].level, b[i].level);
    }
}

static void assert_attrs_equal(const struct engine_attr *a,
                               const struct engine_attr *b,
                               uint8_t n)
{
    for (uint8_t i = 0; i < n; i++) {
        assert_str_as_sent(a[i].key, b[i].key);
        assert_str_as_sent(a[i].value, b[i].value);
    }
}

static void assert_create_equal(const struct engine_contact_create *a,
                                const struct engine_contact_create *b)
{
    assert_str_as_sent(a->key, b->key);
    assert_int_equal(a->channel, b->channel);
    assert_str_as_sent(a->queue, b->queue);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->n_skills, b->n_skills);
    assert_refs_equal(a->skills, b->skills, a->n_skills);
    assert_int_equal(a->n_attrs, b->n_attrs);
    assert_attrs_equal(a->attrs, b->attrs, a->n_attrs);
    assert_str_as_sent(a->home, b->home);
    assert_str_as_sent(a->session, b->session);
}

static void assert_upsert_equal(const struct engine_agent_spec *a,
                                const struct engine_agent_spec *b)
{
    assert_str_as_sent(a->name, b->name);
    assert_str_as_sent(a->site, b->site);
    assert_memory_equal(a->capacity, b->capacity, sizeof(a->capacity));
    assert_int_equal(a->n_skills, b->n_skills);
    assert_refs_equal(a->skills, b->skills, a->n_skills);
    assert_int_equal(a->n_queues, b->n_queues);
    for (uint8_t i = 0; i < a->n_queues; i++) {
        assert_str_as_sent(a->queues[i], b->queues[i]);
    }
}

static void assert_agent_cmd_equal(const struct engine_command *a,
                                   const struct engine_command *b)
{
    switch (a->kind) {
        case ENGINE_CMD_AGENT_SKILLS:
            assert_str_as_sent(a->u.skills.name, b->u.skills.name);
            assert_int_equal(a->u.skills.n_skills, b->u.skills.n_skills);
            assert_refs_equal(a->u.skills.skills, b->u.skills.skills, a->u.skills.n_skills);
            break;
        case ENGINE_CMD_AGENT_UPSERT:
            assert_upsert_equal(&a->u.upsert, &b->u.upsert);
            break;
        case ENGINE_CMD_MODEL_INSTALL:
            assert_int_equal(a->u.install.version, b->u.install.version);
            assert_model_equal(a->u.install.model, b->u.install.model);
            assert_str_as_sent(a->u.install.source, b->u.install.source);
            assert_str_as_sent(a->u.install.comment, b->u.install.comment);
            assert_str_as_sent(a->u.install.diff, b->u.install.diff);
            assert_int_equal(a->u.install.rollback_of, b->u.install.rollback_of);
            break;
        case ENGINE_CMD_QUEUE_PAUSE:
        case ENGINE_CMD_QUEUE_RESUME:
            assert_str_as_sent(a->u.queue.name, b->u.queue.name);
            break;
        case ENGINE_CMD_SESSION_MOVE:
        case ENGINE_CMD_SESSION_END:
            assert_int_equal(a->u.session.id, b->u.session.id);
            assert_str_as_sent(a->u.session.home, b->u.session.home);
            assert_str_as_sent(a->u.session.session, b->u.session.session);
            break;
        case ENGINE_CMD_NODE_LOST:
            assert_str_as_sent(a->u.node.name, b->u.node.name);
            break;
        case ENGINE_CMD_WEBHOOK_ADD:
        case ENGINE_CMD_WEBHOOK_DELETE:
        case ENGINE_CMD_WEBHOOK_DELIVERED:
        case ENGINE_CMD_WEBHOOK_FAILED:
            assert_int_equal(a->u.webhook.id, b->u.webhook.id);
            assert_str_as_sent(a->u.webhook.url, b->u.webhook.url);
            assert_str_as_sent(a->u.webhook.secret, b->u.webhook.secret);
            assert_int_equal(a->u.webhook.kinds, b->u.webhook.kinds);
            assert_int_equal(a->u.webhook.from_index, b->u.webhook.from_index);
            assert_int_equal(a->u.webhook.from_n, b->u.webhook.from_n);
            assert_int_equal(a->u.webhook.to_index, b->u.webhook.to_index);
            assert_int_equal(a->u.webhook.to_n, b->u.webhook.to_n);
            assert_int_equal(a->u.webhook.count, b->u.webhook.count);
            assert_int_equal(a->u.webhook.status, b->u.webhook.status);
            assert_str_as_sent(a->u.webhook.text, b->u.webhook.text);
            break;
        case ENGINE_CMD_TOKEN_CREATE:
            assert_str_as_sent(a->u.token.name, b->u.token.name);
            assert_int_equal(a->u.token.kind, b->u.token.kind);
            assert_int_equal(a->u.token.role, b->u.token.role);
            assert_str_as_sent(a->u.token.agent, b->u.token.agent);
            assert_str_as_sent(a->u.token.user, b->u.token.user);
            assert_int_equal(a->u.token.expires_at, b->u.token.expires_at);
            assert_memory_equal(a->u.token.hash, b->u.token.hash, ENGINE_TOKEN_HASH_LEN);
            break;
        case ENGINE_CMD_TOKEN_REVOKE:
            assert_int_equal(a->u.token.id, b->u.token.id);
            assert_str_as_sent(a->u.token.name, b->u.token.name);
            break;
        case ENGINE_CMD_USER_SET:
        case ENGINE_CMD_USER_DELETE:
            assert_str_as_sent(a->u.user.name, b->u.user.name);
            assert_int_equal(a->u.user.role, b->u.user.role);
            assert_str_as_sent(a->u.user.agent, b->u.user.agent);
            assert_str_as_sent(a->u.user.verifier, b->u.user.verifier);
            break;
        case ENGINE_CMD_PRIVACY_ERASE:
            assert_str_as_sent(a->u.erase.key, b->u.erase.key);
            assert_str_as_sent(a->u.erase.value, b->u.erase.value);
            break;
        case ENGINE_CMD_AUDIT_NOTE:
            assert_str_as_sent(a->u.note.action, b->u.note.action);
            assert_str_as_sent(a->u.note.object, b->u.note.object);
            break;
        default:
            assert_str_as_sent(a->u.agent.name, b->u.agent.name);
            assert_int_equal(a->u.agent.presence, b->u.agent.presence);
            assert_str_as_sent(a->u.agent.reason, b->u.agent.reason);
            break;
    }
}

static void assert_cmd_equal(const struct engine_command *a, const struct engine_command *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_str_as_sent(a->actor, b->actor);
    switch (a->kind) {
        case ENGINE_CMD_TICK:
            break;
        case ENGINE_CMD_CONTACT_CREATE:
            assert_create_equal(&a->u.create, &b->u.create);
            break;
        case ENGINE_CMD_CONTACT_TRANSFER:
            assert_int_equal(a->u.transfer.id, b->u.transfer.id);
            assert_str_as_sent(a->u.transfer.queue, b->u.transfer.queue);
            assert_str_as_sent(a->u.transfer.agent, b->u.transfer.agent);
            assert_str_as_sent(a->u.transfer.target, b->u.transfer.target);
            break;
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            assert_int_equal(a->u.set_attrs.id, b->u.set_attrs.id);
            assert_int_equal(a->u.set_attrs.n_attrs, b->u.set_attrs.n_attrs);
            assert_attrs_equal(a->u.set_attrs.attrs, b->u.set_attrs.attrs,
                               a->u.set_attrs.n_attrs);
            break;
        case ENGINE_CMD_OFFER_ACCEPT:
        case ENGINE_CMD_OFFER_REJECT:
            assert_int_equal(a->u.offer.id, b->u.offer.id);
            assert_str_as_sent(a->u.offer.agent, b->u.offer.agent);
            break;
        case ENGINE_CMD_CONTACT_ABANDON:
        case ENGINE_CMD_CONTACT_END:
        case ENGINE_CMD_CONTACT_CALLBACK:
        case ENGINE_CMD_CONTACT_HOLD:
        case ENGINE_CMD_CONTACT_RESUME:
            assert_int_equal(a->u.contact.id, b->u.contact.id);
            break;
        case ENGINE_CMD_WRAPUP_DONE:
            assert_int_equal(a->u.wrapup.id, b->u.wrapup.id);
            assert_str_as_sent(a->u.wrapup.disposition, b->u.wrapup.disposition);
            assert_str_as_sent(a->u.wrapup.notes, b->u.wrapup.notes);
            break;
        case ENGINE_CMD_CHAT_MESSAGE:
            assert_int_equal(a->u.message.id, b->u.message.id);
            assert_int_equal(a->u.message.from, b->u.message.from);
            assert_str_as_sent(a->u.message.agent, b->u.message.agent);
            assert_str_as_sent(a->u.message.msg_id, b->u.message.msg_id);
            assert_str_as_sent(a->u.message.text, b->u.message.text);
            break;
        case ENGINE_CMD_REPORT_PUT:
        case ENGINE_CMD_REPORT_DELETE:
            assert_str_as_sent(a->u.report.name, b->u.report.name);
            assert_str_as_sent(a->u.report.text, b->u.report.text);
            assert_str_as_sent(a->u.report.comment, b->u.report.comment);
            assert_int_equal(a->u.report.expect, b->u.report.expect);
            break;
        case ENGINE_CMD_REPORT_SLOT:
        case ENGINE_CMD_REPORT_SENT:
            assert_str_as_sent(a->u.round.name, b->u.round.name);
            assert_int_equal(a->u.round.slot, b->u.round.slot);
            assert_int_equal(a->u.round.version, b->u.round.version);
            assert_int_equal(a->u.round.targets, b->u.round.targets);
            assert_int_equal(a->u.round.target, b->u.round.target);
            assert_int_equal(a->u.round.ok, b->u.round.ok);
            assert_str_as_sent(a->u.round.text, b->u.round.text);
            assert_int_equal(a->u.round.retry_at, b->u.round.retry_at);
            break;
        case ENGINE_CMD_HEALTH:
            assert_int_equal(a->u.health.n, b->u.health.n);
            for (uint8_t i = 0; i < a->u.health.n; i++) {
                const struct engine_signal_set *x = &a->u.health.signals[i];
                const struct engine_signal_set *y = &b->u.health.signals[i];
                assert_string_equal(x->name, y->name);
                assert_int_equal(x->state, y->state);
                assert_int_equal(x->value, y->value);
                assert_int_equal(x->since, y->since);
            }
            break;
        case ENGINE_CMD_FAULT_ACK:
        case ENGINE_CMD_FAULT_NOTE:
        case ENGINE_CMD_FAULT_CLOSE:
        case ENGINE_CMD_FAULT_ESCALATE:
        case ENGINE_CMD_FAULT_NOTIFIED:
            assert_int_equal(a->u.fault.id, b->u.fault.id);
            assert_str_as_sent(a->u.fault.text, b->u.fault.text);
            assert_str_as_sent(a->u.fault.path, b->u.fault.path);
            assert_int_equal(a->u.fault.level, b->u.fault.level);
            assert_int_equal(a->u.fault.target, b->u.fault.target);
            assert_int_equal(a->u.fault.ok, b->u.fault.ok);
            assert_int_equal(a->u.fault.retry_at, b->u.fault.retry_at);
            break;
        case ENGINE_CMD_MODEL_SAVE:
        case ENGINE_CMD_MODEL_FORGET:
        case ENGINE_CMD_RUNBOOK_RUN:
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
        case ENGINE_CMD_DRILL_RECORD:
            assert_str_as_sent(a->u.runbook.name, b->u.runbook.name);
            assert_str_as_sent(a->u.runbook.signal, b->u.runbook.signal);
            assert_str_as_sent(a->u.runbook.text, b->u.runbook.text);
            assert_str_as_sent(a->u.runbook.comment, b->u.runbook.comment);
            assert_int_equal(a->u.runbook.run, b->u.runbook.run);
            assert_int_equal(a->u.runbook.version, b->u.runbook.version);
            assert_int_equal(a->u.runbook.ok, b->u.runbook.ok);
            assert_int_equal(a->u.runbook.revert, b->u.runbook.revert);
            assert_int_equal(a->u.runbook.saved_at, b->u.runbook.saved_at);
            assert_int_equal(a->u.runbook.model != NULL, b->u.runbook.model != NULL);
            break;
        default:
            assert_agent_cmd_equal(a, b);
            break;
    }
}

/* ---- Script helpers ----------------------------------------------------------------- */

#define ENCODE_OK                                                    \
    do {                                                             \
        cd_buf_reset(&f->enc);                                       \
        assert_int_equal(engine_command_encode(&f->in, &f->enc), 0); \
    } while (0)

#define DECODE(bytes_, n_) engine_command_decode((bytes_), (n_), &f->out, &f->store)

/* Decodes f->enc and re-encodes the result: the bytes must come back unchanged. */
#define ASSERT_REENCODES(bytes_, n_)                                 \
    do {                                                             \
        cd_buf_reset(&f->re);                                        \
        assert_int_equal(engine_command_encode(&f->out, &f->re), 0); \
        assert_int_equal(f->re.len, (n_));                           \
        assert_memory_equal(f->re.data, (bytes_), (n_));             \
    } while (0)

#define ROUND_TRIP                                            \
    do {                                                      \
        ENCODE_OK;                                            \
        assert_int_equal(DECODE(f->enc.data, f->enc.len), 0); \
        assert_cmd_equal(&f->in, &f->out);                    \
        ASSERT_REENCODES(f->enc.data, f->enc.len);            \
    } while (0)

/* Encoding must fail with CD_EINVAL and append nothing. */
#define ENCODE_REFUSED                                                       \
    do {                                                                     \
        cd_buf_reset(&f->enc);                                               \
        cd_buf_u8(&f->enc, 0xee);                                            \
        assert_int_equal(engine_command_encode(&f->in, &f->enc), CD_EINVAL); \
        assert_int_equal(f->enc.len, 1);                                     \
    } while (0)

/* The format byte commands are written with, and an empty actor after the kind. */
#define F 4
#define NO_ACTOR 0, 0

/* ---- Round trips -------------------------------------------------------------------- */

TEST(every_kind_round_trips)
{
    for (int k = ENGINE_CMD_TICK; k < ENGINE_CMD_KIND_COUNT; k++) {
        sample(f, k, &f->in);
        ROUND_TRIP;
        assert_int_equal(f->enc.data[0], F); /* format version */
        assert_int_equal(f->enc.data[1], k);
    }
}

TEST(strings_point_into_input_and_arrays_into_store)
{
    sample(f, ENGINE_CMD_CONTACT_CREATE, &f->in);
    ROUND_TRIP;
    const char *lo = (const char *)f->enc.data, *hi = lo + f->enc.len;
    assert_true(f->out.u.create.key > lo && f->out.u.create.key < hi);
    assert_true(f->out.u.create.attrs[3].value > lo && f->out.u.create.attrs[3].value < hi);
    assert_int_equal(f->store.n_blocks, 2);
    assert_ptr_equal(f->store.blocks[0], f->out.u.create.skills);
    assert_ptr_equal(f->store.blocks[1], f->out.u.create.attrs);
}

TEST(null_strings_travel_as_empty)
{
    sample(f, ENGINE_CMD_CONTACT_CREATE, &f->in);
    f->in.u.create.key = NULL;
    f->in.u.create.queue = NULL;
    f->in.u.create.n_skills = 0;
    f->in.u.create.skills = NULL;
    ROUND_TRIP;
    assert_string_equal(f->out.u.create.key, "");
    assert_string_equal(f->out.u.create.queue, "");
    assert_null(f->out.u.create.skills);
    sample(f, ENGINE_CMD_AGENT_LOGOUT, &f->in);
    f->in.u.agent.reason = NULL;
    ROUND_TRIP;
    assert_string_equal(f->out.u.agent.reason, "");
    f->in.actor = NULL; /* the node itself */
    ROUND_TRIP;
    assert_string_equal(f->out.actor, "");
}

TEST(the_actor_follows_the_kind)
{
    sample(f, ENGINE_CMD_CONTACT_END, &f->in);
    ENCODE_OK;
    const uint8_t want[] = {F,   ENGINE_CMD_CONTACT_END,
                            15,  't',
                            'o', 'k',
                            'e', 'n',
                            ':', 'o',
                            'p', 's',
                            '-', 'a',
                            'd', 'm',
                            'i', 'n',
                            0,   0x84,
                            0x20};
    assert_int_equal(f->enc.len, sizeof(want));
    assert_memory_equal(f->enc.data, want, sizeof(want));
    const char *lo = (const char *)f->enc.data, *hi = lo + f->enc.len;
    assert_int_equal(DECODE(f->enc.data, f->enc.len), 0);
    assert_true(f->out.actor > lo && f->out.actor < hi);
    assert_string_equal(f->out.actor, "token:ops-admin");
}

TEST(arrays_at_their_limits_round_trip)
{
    struct engine_skill_ref refs[ENGINE_AGENT_SKILLS];
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    const char *queues[ENGINE_AGENT_QUEUES];
    for (int i = 0; i < ENGINE_AGENT_SKILLS; i++) {
        refs[i] = (struct engine_skill_ref){QUEUES[i % 3], (uint8_t)(i + 1)};
        queues[i] = QUEUES[(i + 1) % 3];
    }
    for (int i = 0; i < ENGINE_ATTRS_MAX; i++) {
        attrs[i] = ATTRS[i % 4];
    }
    sample(f, ENGINE_CMD_CONTACT_CREATE, &f->in);
    f->in.u.create = (struct engine_contact_create){
        "k",  ENGINE_CH_SMS,    "",    INT16_MIN, ENGINE_REQ_SKILLS,
        refs, ENGINE_ATTRS_MAX, attrs, NULL,      NULL};
    ROUND_TRIP;
    sample(f, ENGINE_CMD_AGENT_UPSERT, &f->in);
    f->in.u.upsert.n_skills = ENGINE_AGENT_SKILLS;
    f->in.u.upsert.skills = refs;
    f->in.u.upsert.n_queues = ENGINE_AGENT_QUEUES;
    f->in.u.upsert.queues = queues;
    ROUND_TRIP;
}

TEST(model_install_round_trips_a_rich_model)
{
    sample(f, ENGINE_CMD_MODEL_INSTALL, &f->in);
    ROUND_TRIP;
    assert_ptr_equal(f->out.u.install.model, &f->store.model);
    char err[256];
    assert_int_equal(engine_model_validate(f->out.u.install.model, err, sizeof(err)), 0);

    /* The model's own codec, alone: decode consumes exactly its bytes. */
    struct engine_model m;
    struct cd_reader r;
    cd_buf_reset(&f->enc);
    assert_int_equal(engine_model_encode(&f->m, &f->enc), 0);
    cd_buf_u8(&f->enc, 0x42);
    cd_reader_init(&r, f->enc.data, f->enc.len);
    assert_int_equal(engine_model_decode(&r, &m), 0);
    assert_model_equal(&f->m, &m);
    assert_int_equal(cd_rd_left(&r), 1);
    engine_model_close(&m);
}

/* Report settings make the model format 4, inside MODEL_INSTALL as alone; every truncation
 * of it is refused. */
TEST(model_install_round_trips_report_settings)
{
    f->m.report_zone = Z_NEW_YORK;
    f->m.queues[Q_SUPPORT].sl_formula = ENGINE_SL_SHORT_EXCLUDED;
    f->m.queues[Q_SUPPORT].short_abandon_s = 5;
    f->m.queues[Q_MAIL].thresholds = (struct engine_thresholds){90, 70, 5, 50, 300, 3600};
    char err[256];
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), 0);
    sample(f, ENGINE_CMD_MODEL_INSTALL, &f->in);
    ROUND_TRIP;
    assert_int_equal(f->out.u.install.model->report_zone, Z_NEW_YORK);
    cd_buf_reset(&f->enc);
    assert_int_equal(engine_model_encode(&f->m, &f->enc), 0);
    assert_int_equal(f->enc.data[0], 4);
    for (size_t len = 0; len < f->enc.len; len++) {
        uint8_t *cut = zalloc(len + 1, 1);
        memcpy(cut, f->enc.data, len);
        struct cd_reader r;
        struct engine_model m;
        cd_reader_init(&r, cut, len);
        assert_int_equal(engine_model_decode(&r, &m), CD_ECORRUPT);
        assert_model_empty(&m);
        free(cut);
    }
}

/* Personal keys make the model format 2; a model without them stays format 1, byte for
 * byte what it was before the list existed. A format-2 model without keys is not canonical. */
TEST(model_personal_keys_round_trip)
{
    struct engine_model m;
    struct cd_reader r;
    char err[256];
    assert_int_equal(engine_model_encode(&f->m, &f->enc), 0);
    assert_int_equal(f->enc.data[0], 1);
    SET_STR(f->m.personal[0], "phone");
    SET_STR(f->m.personal[1], "email");
    f->m.n_personal = 2;
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), 0);
    assert_true(engine_model_personal(&f->m, "email"));
    assert_false(engine_model_personal(&f->m, "tier"));
    cd_buf_reset(&f->enc);
    assert_int_equal(engine_model_encode(&f->m, &f->enc), 0);
    assert_int_equal(f->enc.data[0], 2);
    cd_reader_init(&r, f->enc.data, f->enc.len);
    assert_int_equal(engine_model_decode(&r, &m), 0);
    assert_model_equal(&f->m, &m);
    assert_int_equal(cd_rd_left(&r), 0);
    engine_model_close(&m);
    /* The same bytes with a count of 0 where the keys begin. */
    size_t keys_at = f->enc.len - (1 + 2 * 1 + strlen("phone") + strlen("email") + 2);
    f->enc.data[keys_at] = 0;
    cd_reader_init(&r, f->enc.data, keys_at + 1);
    assert_int_equal(engine_model_decode(&r, &m), CD_ECORRUPT);
    /* Twice the same key, or a key that is no name, is invalid. */
    SET_STR(f->m.personal[1], "phone");
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), CD_EINVAL);
    SET_STR(f->m.personal[1], "e mail");
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), CD_EINVAL);
}

TEST(empty_model_round_trips)
{
    engine_model_close(&f->m);
    sample(f, ENGINE_CMD_MODEL_INSTALL, &f->in);
    ROUND_TRIP;
    assert_model_empty(&f->store.model);
}

TEST(store_is_reused)
{
    for (int round = 0; round < 3; round++) {
        for (int k = ENGINE_CMD_TICK; k < ENGINE_CMD_KIND_COUNT; k++) {
            sample(f, k, &f->in);
            ROUND_TRIP;
        }
    }
}

/* ---- Malformed input ---------------------------------------------------------------- */

/* Decoding must fail with a clean error and leave nothing behind in the store. */
static void assert_rejected(struct fixture *f, const void *data, size_t len, int want)
{
    int rc = DECODE(data, len);
    if (rc != want) {
        fail_msg("decode of %zu bytes: %d, expected %d", len, rc, want);
    }
    assert_int_equal(f->store.n_blocks, 0);
    assert_model_empty(&f->store.model);
}

TEST(every_truncation_is_rejected)
{
    for (int k = ENGINE_CMD_TICK; k < ENGINE_CMD_KIND_COUNT; k++) {
        sample(f, k, &f->in);
        ENCODE_OK;
        for (size_t len = 0; len < f->enc.len; len++) {
            /* A copy of exactly len bytes, so that ASan sees any read past the end. */
            uint8_t *cut = zalloc(len + 1, 1);
            memcpy(cut, f->enc.data, len);
            assert_rejected(f, len ? cut : NULL, len, CD_ECORRUPT);
            free(cut);
        }
    }
}

TEST(every_truncation_of_a_model_is_rejected)
{
    assert_int_equal(engine_model_encode(&f->m, &f->enc), 0);
    for (size_t len = 0; len < f->enc.len; len++) {
        uint8_t *cut = zalloc(len + 1, 1);
        memcpy(cut, f->enc.data, len);
        struct cd_reader r;
        struct engine_model m;
        cd_reader_init(&r, cut, len);
        assert_int_equal(engine_model_decode(&r, &m), CD_ECORRUPT);
        assert_model_empty(&m);
        free(cut);
    }
}

static uint64_t next_random(uint64_t *s)
{
    /* xorshift64*: deterministic, so a failure replays. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

static void corrupt(uint8_t *p, size_t len, uint64_t *seed)
{
    int flips = 1 + (int)(next_random(seed) % 3);
    for (int i = 0; i < flips; i++) {
        size_t at = (size_t)(next_random(seed) % len);
        uint64_t how = next_random(seed);
        if (how & 1) {
            p[at] ^= (uint8_t)(1u << ((how >> 1) % 8));
        } else {
            p[at] = (uint8_t)(how >> 8);
        }
    }
}

TEST(random_corruption_never_crashes)
{
    uint64_t seed = 0x5eedc0dec0ffee11ULL;
    int decoded = 0;
    for (int i = 0; i < 6000; i++) {
        int k = ENGINE_CMD_TICK + (int)(next_random(&seed) % (ENGINE_CMD_KIND_COUNT - 1));
        sample(f, k, &f->in);
        ENCODE_OK;
        uint8_t *bad = zalloc(f->enc.len, 1);
        memcpy(bad, f->enc.data, f->enc.len);
        corrupt(bad, f->enc.len, &seed);
        int rc = DECODE(bad, f->enc.len);
        if (rc == 0) {
            decoded++;
            ASSERT_REENCODES(bad, f->enc.len);
        } else if (rc != CD_ECORRUPT && rc != CD_EVERSION) {
            fail_msg("iteration %d: decode returned %d", i, rc);
        } else {
            assert_int_equal(f->store.n_blocks, 0);
        }
        free(bad);
    }
    /* Some corruptions (a changed id or letter) are still well-formed commands. */
    assert_true(decoded > 100);
}

TEST(unknown_format_version)
{
    sample(f, ENGINE_CMD_CONTACT_END, &f->in);
    ENCODE_OK;
    f->enc.data[0] = F + 1;
    assert_rejected(f, f->enc.data, f->enc.len, CD_EVERSION);
    f->enc.data[0] = 3; /* before chat messages and dispositions */
    assert_rejected(f, f->enc.data, f->enc.len, CD_EVERSION);
    f->enc.data[0] = 2; /* before commands carried their actor */
    assert_rejected(f, f->enc.data, f->enc.len, CD_EVERSION);
    f->enc.data[0] = 1; /* before contacts had a home */
    assert_rejected(f, f->enc.data, f->enc.len, CD_EVERSION);
    f->enc.data[0] = 0;
    assert_rejected(f, f->enc.data, f->enc.len, CD_EVERSION);
    assert_rejected(f, f->enc.data, 1, CD_EVERSION);
    /* The model inside MODEL_INSTALL carries its own format byte. */
    sample(f, ENGINE_CMD_MODEL_INSTALL, &f->in);
    f->in.actor = NULL;
    ENCODE_OK;
    assert_int_equal(f->enc.data[6], 1); /* F, kind, no actor, version 300 as two bytes */
    f->enc.data[6] = 7;
    assert_rejected(f, f->enc.data, f->enc.len, CD_EVERSION);
}

TEST(trailing_bytes_are_rejected)
{
    for (int k = ENGINE_CMD_TICK; k < ENGINE_CMD_KIND_COUNT; k++) {
        sample(f, k, &f->in);
        ENCODE_OK;
        cd_buf_u8(&f->enc, 0);
        assert_rejected(f, f->enc.data, f->enc.len, CD_ECORRUPT);
    }
}

TEST(unknown_kinds_are_rejected)
{
    const uint8_t zero[] = {F, 0, NO_ACTOR};
    const uint8_t past[] = {F, ENGINE_CMD_KIND_COUNT, NO_ACTOR};
    const uint8_t high[] = {F, 0xff, NO_ACTOR};
    assert_rejected(f, zero, sizeof(zero), CD_ECORRUPT);
    assert_rejected(f, past, sizeof(past), CD_ECORRUPT);
    assert_rejected(f, high, sizeof(high), CD_ECORRUPT);
}

TEST(only_minimal_varints_are_accepted)
{
    const uint8_t end_ok[] = {F, ENGINE_CMD_CONTACT_END, NO_ACTOR, 0x05};
    const uint8_t end_padded[] = {F, ENGINE_CMD_CONTACT_END, NO_ACTOR, 0x85, 0x00};
    const uint8_t accept_ok[] = {F, ENGINE_CMD_OFFER_ACCEPT, NO_ACTOR, 0x01, 0x01, 'a', 0};
    const uint8_t accept_padded[] = {
        F, ENGINE_CMD_OFFER_ACCEPT, NO_ACTOR, 0x01, 0x81, 0x00, 'a', 0};
    const uint8_t too_long[] = {F,        ENGINE_CMD_CONTACT_END,
                                NO_ACTOR, 0xff,
                                0xff,     0xff,
                                0xff,     0xff,
                                0xff,     0xff,
                                0xff,     0xff,
                                0x02};
    const uint8_t max_id[] = {F,        ENGINE_CMD_CONTACT_END,
                              NO_ACTOR, 0xff,
                              0xff,     0xff,
                              0xff,     0xff,
                              0xff,     0xff,
                              0xff,     0xff,
                              0x01};
    assert_int_equal(DECODE(end_ok, sizeof(end_ok)), 0);
    assert_int_equal(f->out.u.contact.id, 5);
    assert_int_equal(DECODE(accept_ok, sizeof(accept_ok)), 0);
    assert_string_equal(f->out.u.offer.agent, "a");
    assert_int_equal(DECODE(max_id, sizeof(max_id)), 0);
    assert_true(f->out.u.contact.id == UINT64_MAX);
    assert_rejected(f, end_padded, sizeof(end_padded), CD_ECORRUPT);
    assert_rejected(f, accept_padded, sizeof(accept_padded), CD_ECORRUPT);
    assert_rejected(f, too_long, sizeof(too_long), CD_ECORRUPT);
}

TEST(values_outside_their_fields_are_rejected)
{
    /* channel 256 does not fit a uint8_t; a string with a NUL inside; a count past the
     * limit of its array. */
    const uint8_t channel[] = {
        F, ENGINE_CMD_CONTACT_CREATE, NO_ACTOR, 0, 0, 0x80, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t nul[] = {F, ENGINE_CMD_OFFER_ACCEPT, NO_ACTOR, 1, 2, 'a', 0, 0};
    const uint8_t attrs[] = {F, ENGINE_CMD_CONTACT_SET_ATTRS, NO_ACTOR, 1,
                             ENGINE_ATTRS_MAX + 1};
    const uint8_t ok[] = {
        F, ENGINE_CMD_CONTACT_CREATE, NO_ACTOR, 0, 0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(DECODE(ok, sizeof(ok)), 0);
    assert_int_equal(f->out.u.create.channel, 0x7f);
    assert_rejected(f, channel, sizeof(channel), CD_ECORRUPT);
    assert_rejected(f, nul, sizeof(nul), CD_ECORRUPT);
    assert_rejected(f, attrs, sizeof(attrs), CD_ECORRUPT);
}

TEST(forged_model_counts_allocate_nothing_absurd)
{
    /* 65535 skills announced in a handful of bytes; then more zones than 32 bits hold. */
    const uint8_t skills[] = {F, ENGINE_CMD_MODEL_INSTALL, NO_ACTOR, 1, 1, 0xff, 0xff, 0x03, 0,
                              0};
    const uint8_t zones[] = {
        F, ENGINE_CMD_MODEL_INSTALL, NO_ACTOR, 1, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x10};
    const uint8_t rules[] = {
        F, ENGINE_CMD_MODEL_INSTALL, NO_ACTOR, 1, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0x03};
    assert_rejected(f, skills, sizeof(skills), CD_ECORRUPT);
    assert_rejected(f, zones, sizeof(zones), CD_ECORRUPT);
    assert_rejected(f, rules, sizeof(rules), CD_ECORRUPT);
}

/* ---- Limits on encode --------------------------------------------------------------- */

TEST(encode_enforces_limits)
{
    struct engine_skill_ref refs[ENGINE_AGENT_SKILLS + 1] = {{"x", 1}};
    struct engine_attr attrs[ENGINE_ATTRS_MAX + 1] = {{"k", "v"}};
    const char *queues[ENGINE_AGENT_QUEUES + 1] = {"q"};
    for (size_t i = 1; i < sizeof(refs) / sizeof(refs[0]); i++) {
        refs[i] = refs[0];
    }
    for (size_t i = 1; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        attrs[i] = attrs[0];
    }
    for (size_t i = 1; i < sizeof(queues) / sizeof(queues[0]); i++) {
        queues[i] = queues[0];
    }
    sample(f, ENGINE_CMD_CONTACT_CREATE, &f->in);
    f->in.u.create.n_skills = ENGINE_REQ_SKILLS + 1;
    f->in.u.create.skills = refs;
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_CONTACT_CREATE, &f->in);
    f->in.u.create.n_attrs = ENGINE_ATTRS_MAX + 1;
    f->in.u.create.attrs = attrs;
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_CONTACT_CREATE, &f->in);
    f->in.u.create.skills = NULL; /* a count without an array */
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_CONTACT_SET_ATTRS, &f->in);
    f->in.u.set_attrs.n_attrs = ENGINE_ATTRS_MAX + 1;
    f->in.u.set_attrs.attrs = attrs;
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_AGENT_SKILLS, &f->in);
    f->in.u.skills.n_skills = ENGINE_AGENT_SKILLS + 1;
    f->in.u.skills.skills = refs;
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_AGENT_UPSERT, &f->in);
    f->in.u.upsert.n_queues = ENGINE_AGENT_QUEUES + 1;
    f->in.u.upsert.queues = queues;
    ENCODE_REFUSED;
}

TEST(encode_refuses_unknown_kinds_and_bad_models)
{
    sample(f, ENGINE_CMD_TICK, &f->in);
    f->in.kind = 0;
    ENCODE_REFUSED;
    f->in.kind = ENGINE_CMD_KIND_COUNT;
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_MODEL_INSTALL, &f->in);
    f->in.u.install.model = NULL;
    ENCODE_REFUSED;
    sample(f, ENGINE_CMD_MODEL_INSTALL, &f->in);
    f->m.queues[Q_SALES].n_skills = ENGINE_REQ_SKILLS + 1;
    ENCODE_REFUSED;
    f->m.queues[Q_SALES].n_skills = 1;
    memset(f->m.agents[0].site, 'x', sizeof(f->m.agents[0].site));
    ENCODE_REFUSED;
    cd_buf_reset(&f->enc);
    assert_int_equal(engine_model_encode(&f->m, &f->enc), CD_EINVAL);
    assert_int_equal(f->enc.len, 0);
}

#define FX_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(every_kind_round_trips),
        FX_TEST(strings_point_into_input_and_arrays_into_store),
        FX_TEST(null_strings_travel_as_empty),
        FX_TEST(the_actor_follows_the_kind),
        FX_TEST(arrays_at_their_limits_round_trip),
        FX_TEST(model_install_round_trips_a_rich_model),
        FX_TEST(model_install_round_trips_report_settings),
        FX_TEST(model_personal_keys_round_trip),
        FX_TEST(empty_model_round_trips),
        FX_TEST(store_is_reused),
        FX_TEST(every_truncation_is_rejected),
        FX_TEST(every_truncation_of_a_model_is_rejected),
        FX_TEST(random_corruption_never_crashes),
        FX_TEST(unknown_format_version),
        FX_TEST(trailing_bytes_are_rejected),
        FX_TEST(unknown_kinds_are_rejected),
        FX_TEST(only_minimal_varints_are_accepted),
        FX_TEST(values_outside_their_fields_are_rejected),
        FX_TEST(forged_model_counts_allocate_nothing_absurd),
        FX_TEST(encode_enforces_limits),
        FX_TEST(encode_refuses_unknown_kinds_and_bad_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
