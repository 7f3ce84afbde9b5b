/* Stable names of the engine's enumerations, as the API, logs and config spell them. */
#include <string.h>

#include "engine/engine.h"

static const char *const channels[ENGINE_CH_COUNT] = {"voice", "email", "sms", "chat"};

static const char *const strategies[ENGINE_STRATEGY_COUNT] = {
    "longest-idle", "least-occupied", "best-skill", "round-robin", "ring-all"};

static const char *const sl_formulas[ENGINE_SL_FORMULA_COUNT] = {"answered_abandoned",
                                                                 "offered", "short_excluded"};

static const char *const contact_states[ENGINE_CONTACT_STATE_COUNT] = {
    "queued",    "offered",     "connected",  "wrapup",    "completed",
    "abandoned", "transferred", "overflowed", "timed_out", "rejected"};

static const char *const agent_states[] = {"offline", "available", "busy", "wrapup", "away"};

static const char *const presences[] = {"offline", "available", "away"};

/* Indexed by enum engine_cmd_kind; kind 0 is not a command. */
static const char *const commands[ENGINE_CMD_KIND_COUNT] = {
    [ENGINE_CMD_TICK] = "tick",
    [ENGINE_CMD_CONTACT_CREATE] = "contact_create",
    [ENGINE_CMD_CONTACT_ABANDON] = "contact_abandon",
    [ENGINE_CMD_CONTACT_END] = "contact_end",
    [ENGINE_CMD_CONTACT_TRANSFER] = "contact_transfer",
    [ENGINE_CMD_CONTACT_CALLBACK] = "contact_callback",
    [ENGINE_CMD_CONTACT_SET_ATTRS] = "contact_set_attrs",
    [ENGINE_CMD_OFFER_ACCEPT] = "offer_accept",
    [ENGINE_CMD_OFFER_REJECT] = "offer_reject",
    [ENGINE_CMD_WRAPUP_DONE] = "wrapup_done",
    [ENGINE_CMD_AGENT_LOGIN] = "agent_login",
    [ENGINE_CMD_AGENT_LOGOUT] = "agent_logout",
    [ENGINE_CMD_AGENT_STATE] = "agent_state",
    [ENGINE_CMD_AGENT_SKILLS] = "agent_skills",
    [ENGINE_CMD_AGENT_UPSERT] = "agent_upsert",
    [ENGINE_CMD_AGENT_DELETE] = "agent_delete",
    [ENGINE_CMD_MODEL_INSTALL] = "model_install",
    [ENGINE_CMD_QUEUE_PAUSE] = "queue_pause",
    [ENGINE_CMD_QUEUE_RESUME] = "queue_resume",
    [ENGINE_CMD_SESSION_MOVE] = "session_move",
    [ENGINE_CMD_SESSION_END] = "session_end",
    [ENGINE_CMD_NODE_LOST] = "node_lost",
    [ENGINE_CMD_WEBHOOK_ADD] = "webhook_add",
    [ENGINE_CMD_WEBHOOK_DELETE] = "webhook_delete",
    [ENGINE_CMD_WEBHOOK_DELIVERED] = "webhook_delivered",
    [ENGINE_CMD_WEBHOOK_FAILED] = "webhook_failed",
    [ENGINE_CMD_TOKEN_CREATE] = "token_create",
    [ENGINE_CMD_TOKEN_REVOKE] = "token_revoke",
    [ENGINE_CMD_USER_SET] = "user_set",
    [ENGINE_CMD_USER_DELETE] = "user_delete",
    [ENGINE_CMD_PRIVACY_ERASE] = "privacy_erase",
    [ENGINE_CMD_AUDIT_NOTE] = "audit_note",
    [ENGINE_CMD_CHAT_MESSAGE] = "chat_message",
    [ENGINE_CMD_REPORT_PUT] = "report_put",
    [ENGINE_CMD_REPORT_DELETE] = "report_delete",
    [ENGINE_CMD_REPORT_SLOT] = "report_slot",
    [ENGINE_CMD_REPORT_SENT] = "report_sent",
    [ENGINE_CMD_HEALTH] = "health",
    [ENGINE_CMD_FAULT_ACK] = "fault_ack",
    [ENGINE_CMD_FAULT_NOTE] = "fault_note",
    [ENGINE_CMD_FAULT_CLOSE] = "fault_close",
    [ENGINE_CMD_FAULT_ESCALATE] = "fault_escalate",
    [ENGINE_CMD_FAULT_NOTIFIED] = "fault_notified",
    [ENGINE_CMD_MODEL_SAVE] = "model_save",
    [ENGINE_CMD_MODEL_FORGET] = "model_forget",
    [ENGINE_CMD_RUNBOOK_RUN] = "runbook_run",
    [ENGINE_CMD_RUNBOOK_APPROVE] = "runbook_approve",
    [ENGINE_CMD_RUNBOOK_END] = "runbook_end",
    [ENGINE_CMD_RUNBOOK_MODEL] = "runbook_model",
    [ENGINE_CMD_DRILL_RECORD] = "drill_record",
    [ENGINE_CMD_CONTACT_HOLD] = "contact_hold",
    [ENGINE_CMD_CONTACT_RESUME] = "contact_resume",
};

static const char *const roles[ENGINE_ROLE_COUNT] = {"admin", "supervisor", "agent", "reporter",
                                                     "integration"};

static const char *const token_kinds[ENGINE_TOKEN_KIND_COUNT] = {"api", "session"};

/* Indexed by enum engine_effect_kind; kind 0 is not an effect. */
static const char *const effects[ENGINE_FX_KIND_COUNT] = {
    [ENGINE_FX_QUEUED] = "queued",
    [ENGINE_FX_OFFER] = "offer",
    [ENGINE_FX_OFFER_CANCEL] = "offer_cancel",
    [ENGINE_FX_CONNECTED] = "connected",
    [ENGINE_FX_ESCALATED] = "escalated",
    [ENGINE_FX_CALLBACK_OFFER] = "callback_offer",
    [ENGINE_FX_ENDED] = "ended",
    [ENGINE_FX_WRAPUP] = "wrapup",
    [ENGINE_FX_AGENT_STATE] = "agent_state",
    [ENGINE_FX_MODEL] = "model",
    [ENGINE_FX_SESSION_MOVED] = "session_moved",
    [ENGINE_FX_SESSION_ENDED] = "session_ended",
    [ENGINE_FX_SESSION_LOST] = "session_lost",
    [ENGINE_FX_AUDIT] = "audit",
    [ENGINE_FX_MESSAGE] = "message",
    [ENGINE_FX_HOLD] = "hold",
};

static const char *const sides[ENGINE_SIDE_COUNT] = {"customer", "agent"};

static const char *const field_types[ENGINE_FIELD_TYPE_COUNT] = {"text", "email", "phone",
                                                                 "select", "textarea"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *name_of(const char *const *table, int n, int v)
{
    return v >= 0 && v < n ? table[v] : NULL;
}

static int parse(const char *const *table, int n, const char *s)
{
    for (int i = 0; s != NULL && i < n; i++) {
        if (table[i] != NULL && strcmp(table[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

const char *engine_channel_name(int c)
{
    return name_of(channels, COUNT(channels), c);
}

int engine_channel_parse(const char *s)
{
    return parse(channels, COUNT(channels), s);
}

const char *engine_strategy_name(int s)
{
    return name_of(strategies, COUNT(strategies), s);
}

int engine_strategy_parse(const char *s)
{
    return parse(strategies, COUNT(strategies), s);
}

const char *engine_sl_formula_name(int f)
{
    return name_of(sl_formulas, COUNT(sl_formulas), f);
}

int engine_sl_formula_parse(const char *s)
{
    return parse(sl_formulas, COUNT(sl_formulas), s);
}

const char *engine_contact_state_name(int s)
{
    return name_of(contact_states, COUNT(contact_states), s);
}

const char *engine_agent_state_name(int s)
{
    return name_of(agent_states, COUNT(agent_states), s);
}

const char *engine_presence_name(int p)
{
    return name_of(presences, COUNT(presences), p);
}

const char *engine_cmd_name(int kind)
{
    return name_of(commands, COUNT(commands), kind);
}

const char *engine_role_name(int role)
{
    return name_of(roles, COUNT(roles), role);
}

int engine_role_parse(const char *s)
{
    return parse(roles, COUNT(roles), s);
}

const char *engine_token_kind_name(int kind)
{
    return name_of(token_kinds, COUNT(token_kinds), kind);
}

int engine_token_kind_parse(const char *s)
{
    return parse(token_kinds, COUNT(token_kinds), s);
}

const char *engine_effect_name(int kind)
{
    return name_of(effects, COUNT(effects), kind);
}

int engine_effect_parse(const char *s)
{
    return parse(effects, COUNT(effects), s);
}

const char *engine_side_name(int side)
{
    return name_of(sides, COUNT(sides), side);
}

int engine_side_parse(const char *s)
{
    return parse(sides, COUNT(sides), s);
}

const char *engine_field_type_name(int type)
{
    return name_of(field_types, COUNT(field_types), type);
}

int engine_field_type_parse(const char *s)
{
    return parse(field_types, COUNT(field_types), s);
}

bool engine_visible_valid(const char *s, size_t cap)
{
    size_t n = 0;
    for (; s[n] != 0 && n < cap; n++) {
        if (s[n] < 0x21 || s[n] > 0x7e) {
            return false;
        }
    }
    return n > 0 && n < cap;
}

bool engine_session_valid(const char *s)
{
    return engine_visible_valid(s, ENGINE_SESSION_MAX);
}

bool engine_name_valid(const char *s, size_t cap)
{
    size_t n = 0;
    for (; s[n] != 0 && n < cap; n++) {
        char ch = s[n];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && strchr(ENGINE_NAME_PUNCT, ch) == NULL) {
            return false;
        }
    }
    return n > 0 && n < cap;
}
