/* The AUDIT effect: who changed what. One follows every successful command that changes
 * the configuration (model, agents, queues, webhooks), the principals (tokens, users) or
 * a contact by hand (transfer, attributes), after the command's other effects; and one is
 * all an AUDIT_NOTE does, for a change made outside the engine (cluster membership). Its
 * fields are listed in engine.h; storing and querying the records is the node's business.
 * The effect never carries a secret: a token is named, never its hash, and a user's
 * verifier stays in the state. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "engine/internal.h"

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* The object when it is a name (and the agent or queue a feed filters by); NULL when it is
 * a number, or the kind has no audit effect. */
static const char *object_name(const struct engine *e,
                               const struct engine_command *cmd,
                               struct engine_effect *fx)
{
    switch (cmd->kind) {
        case ENGINE_CMD_AGENT_UPSERT:
            return fx->agent = str(cmd->u.upsert.name);
        case ENGINE_CMD_AGENT_DELETE:
            return fx->agent = str(cmd->u.agent.name);
        case ENGINE_CMD_AGENT_SKILLS:
            return fx->agent = str(cmd->u.skills.name);
        case ENGINE_CMD_QUEUE_PAUSE:
        case ENGINE_CMD_QUEUE_RESUME:
            return fx->queue = str(cmd->u.queue.name);
        case ENGINE_CMD_TOKEN_CREATE:
            return str(cmd->u.token.name);
        case ENGINE_CMD_TOKEN_REVOKE:
            return e->revoked;
        case ENGINE_CMD_USER_SET:
        case ENGINE_CMD_USER_DELETE:
            return str(cmd->u.user.name);
        case ENGINE_CMD_AUDIT_NOTE:
            return str(cmd->u.note.object);
        case ENGINE_CMD_REPORT_PUT:
        case ENGINE_CMD_REPORT_DELETE:
            return str(cmd->u.report.name);
        case ENGINE_CMD_MODEL_SAVE:
        case ENGINE_CMD_MODEL_FORGET:
            return str(cmd->u.runbook.name);
        default:
            return NULL;
    }
}

/* The object when it is a number (and the contact a feed filters by): true for the kinds
 * that have one. */
static bool object_number(const struct engine_command *cmd,
                          const struct engine_result *res,
                          struct engine_effect *fx,
                          unsigned long long *n)
{
    switch (cmd->kind) {
        case ENGINE_CMD_MODEL_INSTALL:
            *n = cmd->u.install.version;
            return true;
        case ENGINE_CMD_CONTACT_TRANSFER:
            *n = fx->contact = cmd->u.transfer.id;
            return true;
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            *n = fx->contact = cmd->u.set_attrs.id;
            return true;
        case ENGINE_CMD_WEBHOOK_ADD:
            *n = res->contact;
            return true;
        case ENGINE_CMD_WEBHOOK_DELETE:
            *n = cmd->u.webhook.id;
            return true;
        case ENGINE_CMD_FAULT_ACK:
        case ENGINE_CMD_FAULT_NOTE:
        case ENGINE_CMD_FAULT_CLOSE:
            *n = cmd->u.fault.id;
            return true;
        case ENGINE_CMD_RUNBOOK_RUN: /* the run: its runbook and trigger are in it */
        case ENGINE_CMD_DRILL_RECORD:
            *n = res->contact;
            return true;
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
            *n = cmd->u.runbook.run;
            return true;
        default:
            return false;
    }
}

void engine__audit(struct engine *e,
                   const struct engine_command *cmd,
                   const struct engine_result *res)
{
    char number[24];
    unsigned long long n = 0;
    struct engine_effect fx = {.kind = ENGINE_FX_AUDIT,
                               .state = cmd->kind,
                               .agent = "",
                               .queue = "",
                               .text = str(cmd->actor),
                               .action = str(engine_cmd_name(cmd->kind)),
                               .at = e->clock};
    char attr[ENGINE_KEY_MAX + 8];
    if ((cmd->kind == ENGINE_CMD_REPORT_PUT || cmd->kind == ENGINE_CMD_FAULT_ACK) &&
        res->existing) {
        return; /* the same text again, acknowledged already: nothing changed */
    }
    if (cmd->kind == ENGINE_CMD_AUDIT_NOTE) {
        fx.action = str(cmd->u.note.action);
    }
    fx.object = object_name(e, cmd, &fx);
    if (cmd->kind == ENGINE_CMD_PRIVACY_ERASE) {
        /* The key only: the value erased must not live on in the audit trail. */
        snprintf(attr, sizeof(attr), "attr:%s", str(cmd->u.erase.key));
        fx.object = attr;
    }
    if (fx.object == NULL && object_number(cmd, res, &fx, &n)) {
        snprintf(number, sizeof(number), "%llu", n);
        fx.object = number;
    }
    if (fx.object != NULL) {
        engine__emit(e, &fx);
    }
}

/* A note must not read as a command the engine ran: its action names no command kind. */
static bool command_name(const char *action)
{
    for (int k = ENGINE_CMD_TICK; k < ENGINE_CMD_KIND_COUNT; k++) {
        const char *name = engine_cmd_name(k);
        if (name != NULL && strcmp(name, action) == 0) {
            return true;
        }
    }
    return false;
}

int engine__cmd_audit_note(struct engine *e,
                           const struct engine_command *cmd,
                           struct engine_result *res)
{
    const char *action = str(cmd->u.note.action);
    (void)e;
    if (!engine_name_valid(action, ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "action: expected a name of 1..%d characters (%s)",
                    ENGINE_NAME_MAX - 1, ENGINE_NAME_CHARSET);
    }
    if (command_name(action)) {
        return FAIL(res, CD_EINVAL, "action: '%s' is a command's name", action);
    }
    if (!engine_visible_valid(str(cmd->u.note.object), ENGINE_TARGET_MAX)) {
        return FAIL(res, CD_EINVAL, "object: expected 1..%d visible ASCII characters",
                    ENGINE_TARGET_MAX - 1);
    }
    return 0;
}
