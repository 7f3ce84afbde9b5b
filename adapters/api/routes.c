/* The route table and the node's API object. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

typedef void (*route_fn)(struct api__call *call, int arg);

/* Who may call a route: a bit per enum engine_role; PUBLIC needs no token at all. The role
 * table in docs/api.md is this table, and test_roles walks it against a live node. */
#define ADMIN (1u << ENGINE_ROLE_ADMIN)
#define SUPER (1u << ENGINE_ROLE_SUPERVISOR)
#define AGENT (1u << ENGINE_ROLE_AGENT)
#define REPORT (1u << ENGINE_ROLE_REPORTER)
#define INTEG (1u << ENGINE_ROLE_INTEGRATION)
#define STAFF (ADMIN | SUPER)
#define PUBLIC 0u

/* What an agent token (bound to one agent) may touch on a route it may call: */
enum own {
    OWN_ANY,      /* everything the route shows */
    OWN_AGENT,    /* the route's {agent} must be its agent */
    OWN_CONTACT,  /* the route's {contact} must be offered to or connected with its agent */
    OWN_FILTER,   /* a listing: its query must say agent=ITS_AGENT */
    OWN_ANSWERER, /* an offer: the body's "agent" must be its agent (the engine checks the
                   * offer was made to that agent) */
};

struct route
{
    enum http_method method;
    const char *pattern; /* "{kind}" matches one path segment (internal.h) */
    route_fn fn;
    int arg;
    const struct api__param *query; /* what it takes; NULL: nothing */
    unsigned roles;
    enum own own;
};

#define ROUTE0(name, call_expr)                       \
    static void name(struct api__call *call, int arg) \
    {                                                 \
        (void)arg;                                    \
        call_expr;                                    \
    }
ROUTE0(r_healthz, api__healthz(call))
ROUTE0(r_readyz, api__readyz(call))
ROUTE0(r_status, api__cluster_status(call))
ROUTE0(r_member_add, api__member_add(call))
ROUTE0(r_member_remove, api__member_remove(call))
ROUTE0(r_transfer, api__leader_transfer(call))
ROUTE0(r_create, api__contact_create(call))
ROUTE0(r_model, api__model_install(call))
ROUTE0(r_metrics, api__metrics(call))
ROUTE0(r_events, api__events(call))
ROUTE0(r_privacy_erase, api__privacy_erase(call))
ROUTE0(r_privacy_export, api__privacy_export(call))
ROUTE0(r_model_validate, api__model_validate(call))
ROUTE0(r_model_diff, api__model_diff(call))
ROUTE0(r_model_rollback, api__model_rollback(call))
ROUTE0(r_agent_put, api__agent_put(call))
ROUTE0(r_agent_skills, api__agent_skills(call))
ROUTE0(r_agent_delete, api__agent_delete(call))
ROUTE0(r_transfer_contact, api__contact_transfer(call))
ROUTE0(r_attributes, api__contact_attributes(call))
ROUTE0(r_webhook_add, api__webhook_add(call))
ROUTE0(r_webhook_list, api__webhook_list(call))
ROUTE0(r_webhook_get, api__webhook_get(call))
ROUTE0(r_webhook_delete, api__webhook_delete(call))
ROUTE0(r_token_create, api__token_create(call))
ROUTE0(r_token_list, api__token_list(call))
ROUTE0(r_token_revoke, api__token_revoke(call))
ROUTE0(r_whoami, api__whoami(call))
ROUTE0(r_user_put, api__user_put(call))
ROUTE0(r_user_list, api__user_list(call))
ROUTE0(r_user_get, api__user_get(call))
ROUTE0(r_user_delete, api__user_delete(call))
ROUTE0(r_signin, api__signin(call))
ROUTE0(r_session_get, api__session_get(call))
ROUTE0(r_signout, api__signout(call))
ROUTE0(r_audit, api__audit(call))
ROUTE0(r_desk, api__desk(call))
ROUTE0(r_earlier, api__earlier(call))
ROUTE0(r_message_post, api__message_post(call))
ROUTE0(r_messages_get, api__messages_get(call))
ROUTE0(r_wrapup_done, api__wrapup_done(call))
ROUTE0(r_history_get, api__history_get(call))
ROUTE0(r_report, api__report(call))
ROUTE0(r_report_contacts, api__report_contacts(call))
ROUTE0(r_def_put, api__report_def_put(call))
ROUTE0(r_def_validate, api__report_def_validate(call))
ROUTE0(r_def_rollback, api__report_def_rollback(call))
ROUTE0(r_def_delete, api__report_def_delete(call))
ROUTE0(r_health, api__health(call))
ROUTE0(r_health_signals, api__health_signals(call))
ROUTE0(r_drill, api__drill(call))
ROUTE0(r_drill_record, api__drill_record(call))
static void r_drills(struct api__call *call, int arg)
{
    api__drills(call, arg);
}
ROUTE0(r_faults, api__faults(call))
ROUTE0(r_fault_get, api__fault_get(call))
ROUTE0(r_runbooks, api__runbooks(call))
ROUTE0(r_runs, api__runbook_runs(call))
ROUTE0(r_run_get, api__runbook_run_get(call))
ROUTE0(r_runbook_start, api__runbook_start(call))
ROUTE0(r_simulate, api__runbook_simulate(call))
ROUTE0(r_model_save, api__model_save(call))
ROUTE0(r_model_forget, api__model_forget(call))
static void r_model_saved(struct api__call *call, int arg)
{
    api__model_saved(call, arg);
}
static void r_run(struct api__call *call, int arg)
{
    api__runbook_action(call, arg);
}
static void r_fault(struct api__call *call, int arg)
{
    api__fault_action(call, arg);
}
static void r_def_read(struct api__call *call, int arg)
{
    api__report_def_read(call, arg);
}

static void r_read(struct api__call *call, int arg)
{
    api__read(call, (enum api__read_kind)arg);
}
static void r_contact(struct api__call *call, int arg)
{
    api__contact_action(call, arg);
}
static void r_session(struct api__call *call, int arg)
{
    api__contact_session(call, arg);
}
static void r_offer(struct api__call *call, int arg)
{
    api__offer_action(call, arg);
}
static void r_agent(struct api__call *call, int arg)
{
    api__agent_action(call, arg);
}
static void r_model_read(struct api__call *call, int arg)
{
    api__model_read(call, arg);
}
static void r_queue(struct api__call *call, int arg)
{
    api__queue_action(call, arg);
}
static void r_chat_entries(struct api__call *call, int arg)
{
    api__chat_entries(call, arg);
}

/* Query parameters, by route: names and booleans are checked before the handler runs;
 * numbers and enumerations by the handler, which knows their ranges. */
static const struct api__param q_read[] = {
    {"stale", API__Q_BOOL, 8},
    {.name = NULL},
};
static const struct api__param q_list[] = {
    {"stale", API__Q_BOOL, 8},
    {"limit", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_contacts[] = {
    {"stale", API__Q_BOOL, 8},
    {"state", API__Q_HANDLER, 0},
    {"queue", API__Q_NAME, ENGINE_NAME_MAX},
    {"agent", API__Q_NAME, ENGINE_NAME_MAX},
    {"channel", API__Q_HANDLER, 0},
    {"min_age_ms", API__Q_HANDLER, 0},
    {"limit", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_history[] = {
    {"stale", API__Q_BOOL, 8},
    {"from", API__Q_HANDLER, 0},
    {"to", API__Q_HANDLER, 0},
    {"limit", API__Q_HANDLER, 0},
    {"key", API__Q_TEXT, ENGINE_VALUE_MAX * 2},
    {"attr", API__Q_TEXT, ENGINE_KEY_MAX + ENGINE_VALUE_MAX},
    {"before", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_report[] = {
    {"stale", API__Q_BOOL, 8},
    {"period", API__Q_HANDLER, 0},
    {"from", API__Q_HANDLER, 0},
    {"to", API__Q_HANDLER, 0},
    {"interval", API__Q_HANDLER, 0},
    {"group", API__Q_HANDLER, 0},
    {"queue", API__Q_NAME, ENGINE_NAME_MAX},
    {"agent", API__Q_NAME, ENGINE_NAME_MAX},
    {"channel", API__Q_HANDLER, 0},
    {"figures", API__Q_HANDLER, 0},
    {"format", API__Q_HANDLER, 0},
    {"definition", API__Q_NAME, ENGINE_NAME_MAX},
    {"version", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_report_contacts[] = {
    {"stale", API__Q_BOOL, 8},
    {"period", API__Q_HANDLER, 0},
    {"from", API__Q_HANDLER, 0},
    {"to", API__Q_HANDLER, 0},
    {"interval", API__Q_HANDLER, 0},
    {"group", API__Q_HANDLER, 0},
    {"queue", API__Q_NAME, ENGINE_NAME_MAX},
    {"agent", API__Q_NAME, ENGINE_NAME_MAX},
    {"channel", API__Q_HANDLER, 0},
    {"value", API__Q_TEXT, ENGINE_VALUE_MAX},
    {"start", API__Q_HANDLER, 0},
    {"figure", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_runs[] = {
    {"state", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_faults[] = {
    {"state", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_def[] = {
    {"stale", API__Q_BOOL, 8},
    {"version", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_def_diff[] = {
    {"stale", API__Q_BOOL, 8},
    {"from", API__Q_HANDLER, 0},
    {"to", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_messages[] = {
    {"stale", API__Q_BOOL, 8},
    {"after", API__Q_HANDLER, 0},
    {"limit", API__Q_HANDLER, 0},
    {.name = NULL},
};
static const struct api__param q_privacy[] = {
    {"attr", API__Q_NAME, ENGINE_KEY_MAX},
    {"value", API__Q_TEXT, ENGINE_VALUE_MAX},
    {.name = NULL},
};
static const struct api__param q_events[] = {
    {"after", API__Q_HANDLER, 0},
    {"wait_ms", API__Q_HANDLER, 0},
    {"limit", API__Q_HANDLER, 0},
    {"agent", API__Q_NAME, ENGINE_NAME_MAX},
    {"contact", API__Q_HANDLER, 0},
    {"kind", API__Q_HANDLER, 0},
    {.name = NULL},
};
/* Why a model version is installed (model.c reads it; who installs it is the principal who
 * authenticated). A rollback's comment is in its body; contactctl sends one in the query
 * too, which is accepted. */
static const struct api__param q_model[] = {
    {"comment", API__Q_TEXT, 512},
    {.name = NULL},
};

static const struct api__param q_audit[] = {
    {"stale", API__Q_BOOL, 8},
    {"actor", API__Q_NAME, ENGINE_ACTOR_MAX},
    {"action", API__Q_NAME, ENGINE_NAME_MAX},
    {"object", API__Q_TEXT, ENGINE_TARGET_MAX},
    {"from", API__Q_HANDLER, 0},
    {"to", API__Q_HANDLER, 0},
    {"limit", API__Q_HANDLER, 0},
    {"before", API__Q_HANDLER, 0},
    {.name = NULL},
};

static const struct route routes[] = {
    {HTTP_M_GET, "/healthz", r_healthz, 0, NULL, PUBLIC, OWN_ANY},
    {HTTP_M_GET, "/readyz", r_readyz, 0, NULL, PUBLIC, OWN_ANY},
    {HTTP_M_GET, "/metrics", r_metrics, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/whoami", r_whoami, 0, NULL, STAFF | AGENT | REPORT | INTEG, OWN_ANY},
    {HTTP_M_GET, "/v1/cluster", r_status, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/cluster/check", r_read, API__READ_CHECK, q_read, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/cluster/members", r_member_add, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_DELETE, "/v1/cluster/members/{member}", r_member_remove, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_POST, "/v1/cluster/leader/transfer", r_transfer, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_POST, "/v1/contacts", r_create, 0, NULL, STAFF | INTEG, OWN_ANY},
    {HTTP_M_GET, "/v1/contacts", r_read, API__READ_CONTACTS, q_contacts, STAFF | AGENT,
     OWN_FILTER},
    {HTTP_M_GET, "/v1/contacts/{contact}", r_read, API__READ_CONTACT, q_read, STAFF | AGENT,
     OWN_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{contact}/abandon", r_contact, ENGINE_CMD_CONTACT_ABANDON, NULL,
     STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/contacts/{contact}/end", r_contact, ENGINE_CMD_CONTACT_END, NULL,
     STAFF | AGENT, OWN_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{contact}/callback", r_contact, ENGINE_CMD_CONTACT_CALLBACK,
     NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/contacts/{contact}/hold", r_contact, ENGINE_CMD_CONTACT_HOLD, NULL,
     STAFF | AGENT, OWN_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{contact}/resume", r_contact, ENGINE_CMD_CONTACT_RESUME, NULL,
     STAFF | AGENT, OWN_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{contact}/wrapup-done", r_wrapup_done, 0, NULL, STAFF | AGENT,
     OWN_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{contact}/messages", r_message_post, 0, NULL, AGENT,
     OWN_CONTACT},
    {HTTP_M_GET, "/v1/contacts/{contact}/messages", r_messages_get, 0, q_messages,
     STAFF | AGENT | REPORT, OWN_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{contact}/transfer", r_transfer_contact, 0, NULL, STAFF | AGENT,
     OWN_CONTACT},
    {HTTP_M_PUT, "/v1/contacts/{contact}/attributes", r_attributes, 0, NULL, STAFF | AGENT,
     OWN_CONTACT},
    {HTTP_M_PUT, "/v1/contacts/{contact}/session", r_session, ENGINE_CMD_SESSION_MOVE, NULL,
     STAFF, OWN_ANY},
    {HTTP_M_DELETE, "/v1/contacts/{contact}/session", r_session, ENGINE_CMD_SESSION_END, NULL,
     STAFF, OWN_ANY},
    {HTTP_M_GET, "/v1/contacts/{contact}/explain", r_read, API__READ_EXPLAIN, q_read,
     STAFF | AGENT, OWN_CONTACT},
    {HTTP_M_GET, "/v1/contacts/{contact}/earlier", r_earlier, 0, q_read, STAFF | AGENT,
     OWN_CONTACT},
    {HTTP_M_GET, "/v1/desk", r_desk, 0, q_read, STAFF | AGENT, OWN_ANY},
    {HTTP_M_POST, "/v1/offers/{offer}/accept", r_offer, ENGINE_CMD_OFFER_ACCEPT, NULL,
     STAFF | AGENT, OWN_ANSWERER},
    {HTTP_M_POST, "/v1/offers/{offer}/reject", r_offer, ENGINE_CMD_OFFER_REJECT, NULL,
     STAFF | AGENT, OWN_ANSWERER},
    {HTTP_M_GET, "/v1/agents", r_read, API__READ_AGENTS, q_list, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/agents/{agent}", r_read, API__READ_AGENT, q_read, STAFF | AGENT | REPORT,
     OWN_AGENT},
    {HTTP_M_PUT, "/v1/agents/{agent}", r_agent_put, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_DELETE, "/v1/agents/{agent}", r_agent_delete, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_PUT, "/v1/agents/{agent}/skills", r_agent_skills, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/agents/{agent}/login", r_agent, ENGINE_CMD_AGENT_LOGIN, NULL,
     STAFF | AGENT, OWN_AGENT},
    {HTTP_M_POST, "/v1/agents/{agent}/logout", r_agent, ENGINE_CMD_AGENT_LOGOUT, NULL,
     STAFF | AGENT, OWN_AGENT},
    {HTTP_M_POST, "/v1/agents/{agent}/state", r_agent, ENGINE_CMD_AGENT_STATE, NULL,
     STAFF | AGENT, OWN_AGENT},
    {HTTP_M_GET, "/v1/queues", r_read, API__READ_QUEUES, q_list, STAFF | AGENT | REPORT,
     OWN_ANY},
    {HTTP_M_GET, "/v1/queues/{queue}", r_read, API__READ_QUEUE, q_read, STAFF | AGENT | REPORT,
     OWN_ANY},
    {HTTP_M_POST, "/v1/queues/{queue}/pause", r_queue, ENGINE_CMD_QUEUE_PAUSE, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_POST, "/v1/queues/{queue}/resume", r_queue, ENGINE_CMD_QUEUE_RESUME, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_GET, "/v1/history", r_read, API__READ_HISTORY, q_history, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/history/{contact}", r_history_get, 0, q_read, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/reports", r_report, 0, q_report, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/reports/contacts", r_report_contacts, 0, q_report_contacts,
     STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/report-definitions", r_def_read, API__DEFS_LIST, q_read, STAFF | REPORT,
     OWN_ANY},
    {HTTP_M_POST, "/v1/report-definitions/validate", r_def_validate, 0, NULL, STAFF | REPORT,
     OWN_ANY},
    {HTTP_M_GET, "/v1/report-definitions/{report}", r_def_read, API__DEFS_ONE, q_def,
     STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/report-definitions/{report}/versions", r_def_read, API__DEFS_VERSIONS,
     q_read, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/report-definitions/{report}/diff", r_def_read, API__DEFS_DIFF, q_def_diff,
     STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/report-definitions/{report}/deliveries", r_def_read, API__DEFS_DELIVERIES,
     q_read, STAFF | REPORT, OWN_ANY},
    {HTTP_M_PUT, "/v1/report-definitions/{report}", r_def_put, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/report-definitions/{report}/rollback", r_def_rollback, 0, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_DELETE, "/v1/report-definitions/{report}", r_def_delete, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_GET, "/v1/chat/entries", r_chat_entries, 0, NULL, PUBLIC, OWN_ANY},
    {HTTP_M_GET, "/v1/chat/entries/{entry}", r_chat_entries, 1, NULL, PUBLIC, OWN_ANY},
    {HTTP_M_GET, "/v1/events", r_events, 0, q_events, STAFF | AGENT, OWN_FILTER},
    {HTTP_M_POST, "/v1/privacy/erase", r_privacy_erase, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/privacy/export", r_privacy_export, 0, q_privacy, ADMIN, OWN_ANY},
    {HTTP_M_POST, "/v1/webhooks", r_webhook_add, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/webhooks", r_webhook_list, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/webhooks/{webhook}", r_webhook_get, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_DELETE, "/v1/webhooks/{webhook}", r_webhook_delete, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_POST, "/v1/tokens", r_token_create, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/tokens", r_token_list, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_DELETE, "/v1/tokens/{token}", r_token_revoke, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_PUT, "/v1/users/{user}", r_user_put, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/users", r_user_list, 0, q_read, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/users/{user}", r_user_get, 0, q_read, ADMIN, OWN_ANY},
    {HTTP_M_DELETE, "/v1/users/{user}", r_user_delete, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_POST, "/v1/session", r_signin, 0, NULL, PUBLIC, OWN_ANY},
    {HTTP_M_GET, "/v1/session", r_session_get, 0, NULL, STAFF | AGENT | REPORT | INTEG,
     OWN_ANY},
    {HTTP_M_DELETE, "/v1/session", r_signout, 0, NULL, STAFF | AGENT | REPORT | INTEG, OWN_ANY},
    {HTTP_M_POST, "/v1/model", r_model, 0, q_model, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/model", r_model_read, API__MODEL_RUNNING, q_read, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/model/validate", r_model_validate, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/model/diff", r_model_diff, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/model/rollback", r_model_rollback, 0, q_model, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/model/versions", r_model_read, API__MODEL_VERSIONS, q_read, STAFF,
     OWN_ANY},
    {HTTP_M_GET, "/v1/model/versions/{version}", r_model_read, API__MODEL_VERSION, q_read,
     STAFF, OWN_ANY},
    {HTTP_M_GET, "/v1/audit", r_audit, 0, q_audit, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/drill", r_drill, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_POST, "/v1/drills", r_drill_record, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/drills", r_drills, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/drills/{drill}", r_drills, 1, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/health", r_health, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_POST, "/v1/health/signals", r_health_signals, 0, NULL, ADMIN | INTEG, OWN_ANY},
    {HTTP_M_GET, "/v1/faults", r_faults, 0, q_faults, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/faults/{fault}", r_fault_get, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_POST, "/v1/faults/{fault}/ack", r_fault, ENGINE_CMD_FAULT_ACK, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_POST, "/v1/faults/{fault}/note", r_fault, ENGINE_CMD_FAULT_NOTE, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_POST, "/v1/faults/{fault}/close", r_fault, ENGINE_CMD_FAULT_CLOSE, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_GET, "/v1/runbooks", r_runbooks, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/runbooks/runs", r_runs, 0, q_runs, STAFF | REPORT, OWN_ANY},
    {HTTP_M_GET, "/v1/runbooks/runs/{run}", r_run_get, 0, NULL, STAFF | REPORT, OWN_ANY},
    {HTTP_M_POST, "/v1/runbooks/runs/{run}/approve", r_run, ENGINE_CMD_RUNBOOK_APPROVE, NULL,
     STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/runbooks/runs/{run}/end", r_run, ENGINE_CMD_RUNBOOK_END, NULL, STAFF,
     OWN_ANY},
    {HTTP_M_POST, "/v1/runbooks/simulate", r_simulate, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/runbooks/{runbook}/run", r_runbook_start, 0, NULL, ADMIN, OWN_ANY},
    {HTTP_M_GET, "/v1/model/saved", r_model_saved, 0, NULL, STAFF, OWN_ANY},
    {HTTP_M_GET, "/v1/model/saved/{saved}", r_model_saved, 1, NULL, STAFF, OWN_ANY},
    {HTTP_M_POST, "/v1/model/saved/{saved}", r_model_save, 0, q_model, ADMIN, OWN_ANY},
    {HTTP_M_DELETE, "/v1/model/saved/{saved}", r_model_forget, 0, NULL, ADMIN, OWN_ANY},
};

/* Matches path against pattern, capturing "{kind}" segments. A segment too long for args
 * still matches (truncated), so that checking it can say what is wrong. */
static bool match(const char *pattern, const char *path, struct api__call *call)
{
    int n = 0;
    while (*pattern != 0 && *path != 0) {
        if (*pattern == '{') {
            size_t len = strcspn(path, "/");
            if (len == 0 || n == API__ARGS_MAX) {
                return false;
            }
            snprintf(call->args[n++], sizeof(call->args[0]), "%.*s", (int)len, path);
            path += len;
            pattern += strcspn(pattern, "}") + 1;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == 0 && *path == 0;
}

/* Checks the captured segments by their kind (internal.h); answers 400 when one is bad. */
static bool check_segments(const char *pattern, struct api__call *call)
{
    for (int n = 0; (pattern = strchr(pattern, '{')) != NULL; n++) {
        char kind[16];
        snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(pattern + 1, "}"), pattern + 1);
        pattern++;
        bool is_id = strcmp(kind, "contact") == 0 || strcmp(kind, "offer") == 0 ||
                     strcmp(kind, "version") == 0 || strcmp(kind, "webhook") == 0 ||
                     strcmp(kind, "token") == 0 || strcmp(kind, "fault") == 0 ||
                     strcmp(kind, "run") == 0 || strcmp(kind, "drill") == 0;
        if (is_id && (api__u64_parse(call->args[n], &call->ids[n]) != 0 || call->ids[n] == 0)) {
            http_reply_error(call->x, 400, "INVAL",
                             "'%s' is not a %s id (a decimal number from 1, without sign, "
                             "spaces or leading zeros)",
                             call->args[n], kind);
            return false;
        }
        if (!is_id && !api__name_ok(call, kind, call->args[n], ENGINE_NAME_MAX)) {
            return false;
        }
    }
    return true;
}

void api_http_options(struct http_server_options *out)
{
    static const struct http_body_limit limits[] = {
        {"/v1/model", CONFIG_MODEL_BYTES_MAX},
        {NULL, 0},
    };
    memset(out, 0, sizeof(*out));
    out->body_limits = limits;
}

/* The agent's own contact: offered to it or connected with it (the engine's view here). */
static bool own_contact(struct api__call *call)
{
    struct engine_contact_info c;
    const struct engine *e = cluster_engine(call->api->cluster);
    return engine_contact_get(e, call->ids[0], &c) == 0 &&
           strcmp(c.agent, call->who.agent) == 0;
}

/* Whether an agent token may do what the route does to what the request names. */
static bool agent_owns(struct api__call *call, const struct route *r)
{
    char agent[ENGINE_NAME_MAX];
    switch (r->own) {
        case OWN_AGENT:
            return strcmp(call->args[0], call->who.agent) == 0;
        case OWN_CONTACT:
            return own_contact(call);
        case OWN_FILTER:
            return http_query_get(call->req, "agent", agent, sizeof(agent)) >= 0 &&
                   strcmp(agent, call->who.agent) == 0;
        case OWN_ANSWERER: /* the handler holds the body: api__offer_action() checks */
        case OWN_ANY:
        default:
            return true;
    }
}

static void dispatch(struct api__call *call, bool fenced);

/* A request whose token this follower does not know, waiting for it to catch up with the
 * leader before the token is looked up again. */
struct fenced
{
    struct api *api;
    struct http_exchange *x;
    const struct http_request *req; /* the exchange's: valid until it is answered */
};

static void caught_up(void *data, int status)
{
    struct fenced *f = data;
    struct api__call call = {.api = f->api, .x = f->x, .req = f->req};
    free(f);
    if (status != 0) {
        /* Unknown here, and no leader to ask (a node that just started, or cut off): it may
         * be a token this node has not heard of yet. */
        http_reply_error(call.x, 503, "UNAVAIL",
                         "cannot check the token now: this node does not know it and reaches "
                         "no leader to catch up with; try again or another node");
        return;
    }
    dispatch(&call, true);
}

/* Authenticates the call and checks its role may call the route; answers 401 or 403 and
 * returns false when it may not go on. Before anything else is looked at: a caller without
 * a token learns nothing about the request it made. A token unknown to a follower is looked
 * up again once the follower has applied what the leader had committed (a token made a
 * moment ago, through another node); the request is then answered from there, or 503 when
 * there is no leader to catch up with. */
static bool role_allowed(struct api__call *call, const struct route *r, bool fenced)
{
    if (r->roles == PUBLIC) {
        return true;
    }
    bool final = fenced || cluster_is_leader(call->api->cluster);
    enum api__auth auth = api__authenticate(call, final);
    if (auth == API__AUTH_UNKNOWN) {
        struct fenced *f = malloc(sizeof(*f));
        if (f != NULL) {
            *f = (struct fenced){.api = call->api, .x = call->x, .req = call->req};
            if (cluster_read_barrier(call->api->cluster, caught_up, f) == 0) {
                return false;
            }
            free(f);
        }
        auth = api__authenticate(call, true);
    }
    if (auth != API__AUTH_OK) {
        return false;
    }
    if ((r->roles & (1u << call->who.role)) == 0) {
        http_reply_error(call->x, 403, "FORBIDDEN", "the role '%s' may not call %s %s",
                         api__role_name(call->who.role), call->req->method_name, r->pattern);
        return false;
    }
    return true;
}

/* An agent token acts for its agent only; answers 403 when the request names another. */
static bool owner_allowed(struct api__call *call, const struct route *r)
{
    if (call->who.known && call->who.role == ENGINE_ROLE_AGENT && !agent_owns(call, r)) {
        http_reply_error(call->x, 403, "FORBIDDEN",
                         "an agent token acts for agent '%s' only: %s %s names another's%s",
                         call->who.agent, call->req->method_name, r->pattern,
                         r->own == OWN_FILTER ? " (add agent=YOUR_AGENT to the query)" : "");
        return false;
    }
    return true;
}

void api_handle(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct api__call call = {.api = data, .x = x, .req = req};
    if (api__cors(&call)) {
        dispatch(&call, false);
    }
}

/* Finds the route and runs it; fenced: the token was looked up after a read barrier. */
static void dispatch(struct api__call *call_in, bool fenced)
{
    struct api__call call = *call_in;
    struct http_exchange *x = call.x;
    const struct http_request *req = call.req;
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        if (!match(r->pattern, req->path, &call)) {
            continue;
        }
        path_known = true;
        if (r->method == req->method ||
            (req->method == HTTP_M_HEAD && r->method == HTTP_M_GET)) {
            if (role_allowed(&call, r, fenced) && check_segments(r->pattern, &call) &&
                api__query_check(&call, r->query) && owner_allowed(&call, r)) {
                r->fn(&call, r->arg);
            }
            return;
        }
    }
    if (path_known) {
        http_reply_error(x, 405, "METHOD", "%s is not allowed on %s", req->method_name,
                         req->path);
    } else {
        http_reply_error(x, 404, "NOTFOUND", "no such endpoint: %s", req->path);
    }
}

int api_new(uv_loop_t *loop, struct api **out)
{
    struct api *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return CD_ENOMEM;
    }
    a->loop = loop;
    if (api__events_new(a) != 0) {
        free(a);
        return CD_ENOMEM;
    }
    if (api__webhooks_new(a) != 0) {
        api__events_free(a->events);
        free(a);
        return CD_ENOMEM;
    }
    if (api__tokens_new(a) != 0 || api__distrib_new(a) != 0 || api__escalate_new(a) != 0) {
        if (a->tokens != NULL) {
            api__tokens_free(a->tokens);
        }
        if (a->distrib != NULL) {
            api__distrib_free(a->distrib);
            api__escalate_free(a->escalate);
        }
        api__webhooks_free(a->webhooks);
        api__events_free(a->events);
        free(a);
        return CD_ENOMEM;
    }
    *out = a;
    return 0;
}

void api_set_cluster(struct api *a, struct cluster *c)
{
    a->cluster = c;
    if (c != NULL) {
        api__distrib_start(a->distrib);
        api__escalate_start(a->escalate);
    }
}

void api_set_signals(struct api *a,
                     int (*publish)(void *data, uint64_t contact, const char *json, size_t len),
                     void *data)
{
    a->publish = publish;
    a->publish_data = data;
}

void api_set_local_health(struct api *a,
                          size_t (*local)(void *data, struct api_signal *out, size_t max),
                          void *data)
{
    a->local_health = local;
    a->local_health_data = data;
}

void api_set_server(struct api *a, struct http_server *s)
{
    a->server = s;
}

void api_close(struct api *a, void (*cb)(void *data), void *data)
{
    api__webhooks_stop(a->webhooks);
    api__distrib_stop(a->distrib);
    api__escalate_stop(a->escalate);
    api__tokens_stop(a->tokens);
    a->closing = true; /* first: no note starts again */
    api__notes_stop(a);
    api__drill_close(a);
    a->close_cb = cb;
    a->close_data = data;
    api__kdf_close(a);
    api__pdf_close(a);
    api__model_close(a);
    api__events_close(a);
}

void api__close_settle(struct api *a)
{
    if (a->closing && a->close_cb != NULL && a->job_running == NULL && a->kdf_running == 0 &&
        !a->runbook_parsing && a->reports_running == 0 && a->pdfs == 0 &&
        api__events_closed(a)) {
        void (*cb)(void *) = a->close_cb;
        a->close_cb = NULL;
        cb(a->close_data);
    }
}

void api_free(struct api *a)
{
    if (a == NULL) {
        return;
    }
    assert(a->job_running == NULL && a->jobs_head == NULL);
    assert(a->kdf_running == 0 && a->kdf_head == NULL);
    api__events_free(a->events);
    api__webhooks_free(a->webhooks);
    api__distrib_free(a->distrib);
    api__escalate_free(a->escalate);
    api__tokens_free(a->tokens);
    free(a);
}
