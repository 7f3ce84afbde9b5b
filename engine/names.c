/* Stable names of the engine's enumerations, as the API, logs and config spell them. */
#include <string.h>

#include "engine/engine.h"

static const char *const channels[ENGINE_CH_COUNT] = {"voice", "email", "sms", "chat"};

static const char *const strategies[ENGINE_STRATEGY_COUNT] = {
    "longest-idle", "least-occupied", "best-skill", "round-robin", "ring-all"};

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
};

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
