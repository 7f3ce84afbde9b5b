/* engine_apply(): the one entry point that changes the state. */
#include <string.h>

#include "common/assert.h"
#include "common/error.h"
#include "engine/commands.h"

static int install(struct engine *e,
                   const struct engine_command *cmd,
                   struct engine_result *res)
{
    int rv = engine__install(e, cmd->u.install.version, cmd->u.install.model,
                             cmd->actor != NULL ? cmd->actor : "", res);
    if (rv == 0 && engine__archive_add(e, cmd) != 0) {
        e->oom = CD_ENOMEM; /* installed but not archived: the state must be rebuilt */
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    return rv;
}

static int dispatch(struct engine *e,
                    const struct engine_command *cmd,
                    struct engine_result *res)
{
    switch (cmd->kind) {
        case ENGINE_CMD_TICK:
            return 0;
        case ENGINE_CMD_CONTACT_CREATE:
            return engine__cmd_create(e, &cmd->u.create, res);
        case ENGINE_CMD_CONTACT_ABANDON:
            return engine__cmd_abandon(e, cmd->u.contact.id, res);
        case ENGINE_CMD_CONTACT_END:
            return engine__cmd_end(e, cmd->u.contact.id, res);
        case ENGINE_CMD_CONTACT_TRANSFER:
            return engine__cmd_transfer(e, cmd, res);
        case ENGINE_CMD_CONTACT_CALLBACK:
            return engine__cmd_callback(e, cmd->u.contact.id, res);
        case ENGINE_CMD_CONTACT_HOLD:
        case ENGINE_CMD_CONTACT_RESUME:
            return engine__cmd_hold(e, cmd->u.contact.id, cmd->kind == ENGINE_CMD_CONTACT_HOLD,
                                    res);
        case ENGINE_CMD_CONTACT_SET_ATTRS:
            return engine__cmd_set_attrs(e, cmd->u.set_attrs.id, cmd->u.set_attrs.attrs,
                                         cmd->u.set_attrs.n_attrs, res);
        case ENGINE_CMD_OFFER_ACCEPT:
            return engine__cmd_accept(e, cmd->u.offer.id, cmd->u.offer.agent, res);
        case ENGINE_CMD_OFFER_REJECT:
            return engine__cmd_reject(e, cmd->u.offer.id, cmd->u.offer.agent, res);
        case ENGINE_CMD_WRAPUP_DONE:
            return engine__cmd_wrapup_done(e, cmd->u.wrapup.id, cmd->u.wrapup.disposition,
                                           cmd->u.wrapup.notes, res);
        case ENGINE_CMD_AGENT_LOGIN:
        case ENGINE_CMD_AGENT_LOGOUT:
        case ENGINE_CMD_AGENT_STATE:
        case ENGINE_CMD_AGENT_SKILLS:
        case ENGINE_CMD_AGENT_UPSERT:
        case ENGINE_CMD_AGENT_DELETE:
            return engine__agent_cmd(e, cmd, res);
        case ENGINE_CMD_MODEL_INSTALL:
            return install(e, cmd, res);
        case ENGINE_CMD_QUEUE_PAUSE:
        case ENGINE_CMD_QUEUE_RESUME:
            return engine__cmd_queue_pause(e, cmd->u.queue.name,
                                           cmd->kind == ENGINE_CMD_QUEUE_PAUSE, res);
        case ENGINE_CMD_SESSION_MOVE:
        case ENGINE_CMD_SESSION_END:
            return engine__cmd_session(e, cmd, res);
        case ENGINE_CMD_NODE_LOST:
            return engine__cmd_node_lost(e, cmd->u.node.name, res);
        case ENGINE_CMD_WEBHOOK_ADD:
        case ENGINE_CMD_WEBHOOK_DELETE:
        case ENGINE_CMD_WEBHOOK_DELIVERED:
        case ENGINE_CMD_WEBHOOK_FAILED:
            return engine__cmd_webhook(e, cmd, res);
        case ENGINE_CMD_TOKEN_CREATE:
        case ENGINE_CMD_TOKEN_REVOKE:
            return engine__cmd_token(e, cmd, res);
        case ENGINE_CMD_USER_SET:
        case ENGINE_CMD_USER_DELETE:
            return engine__cmd_user(e, cmd, res);
        case ENGINE_CMD_PRIVACY_ERASE:
            return engine__cmd_erase(e, cmd->u.erase.key, cmd->u.erase.value, res);
        case ENGINE_CMD_AUDIT_NOTE:
            return engine__cmd_audit_note(e, cmd, res);
        case ENGINE_CMD_CHAT_MESSAGE:
            return engine__cmd_message(e, cmd, res);
        case ENGINE_CMD_REPORT_PUT:
        case ENGINE_CMD_REPORT_DELETE:
        case ENGINE_CMD_REPORT_SLOT:
        case ENGINE_CMD_REPORT_SENT:
            return engine__cmd_report(e, cmd, res);
        case ENGINE_CMD_HEALTH:
        case ENGINE_CMD_FAULT_ACK:
        case ENGINE_CMD_FAULT_NOTE:
        case ENGINE_CMD_FAULT_CLOSE:
            return engine__cmd_health(e, cmd, res);
        case ENGINE_CMD_FAULT_ESCALATE:
        case ENGINE_CMD_FAULT_NOTIFIED:
            return engine__cmd_escalation(e, cmd, res);
        case ENGINE_CMD_MODEL_SAVE:
        case ENGINE_CMD_MODEL_FORGET:
        case ENGINE_CMD_RUNBOOK_RUN:
        case ENGINE_CMD_RUNBOOK_APPROVE:
        case ENGINE_CMD_RUNBOOK_END:
        case ENGINE_CMD_RUNBOOK_MODEL:
        case ENGINE_CMD_DRILL_RECORD:
            return engine__cmd_runbook(e, cmd, res);
        default:
            return FAIL(res, CD_EINVAL, "unknown command kind %u", cmd->kind);
    }
}

/* The actor, common to every kind, is checked before the command itself. */
static int run(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    e->revoked[0] = 0;
    if (cmd->actor != NULL && strnlen(cmd->actor, ENGINE_ACTOR_MAX) == ENGINE_ACTOR_MAX) {
        return FAIL(res, CD_EINVAL, "actor: at most %d bytes", ENGINE_ACTOR_MAX - 1);
    }
    return dispatch(e, cmd, res);
}

int engine_apply(struct engine *e,
                 const struct engine_command *cmd,
                 int64_t now_ms,
                 struct engine_result *res,
                 const struct engine_sink *sink)
{
    struct engine_result local;
    if (res == NULL) {
        res = &local;
    }
    memset(res, 0, sizeof(*res));
    if (e->oom) {
        return FAIL(res, CD_ENOMEM, "state is unusable after running out of memory");
    }
    e->sink = sink;
    e->path_via = ENGINE_VIA_ARRIVAL;
    e->offer_end = (struct engine__offer_end){.agent = NONE32};
    int64_t clock = e->clock;
    engine__advance(e, now_ms);
    int rv = run(e, cmd, res);
    engine__flush(e);
    if (rv == 0 && !e->oom) {
        engine__audit(e, cmd, res); /* after everything else the command did */
    }
    /* Time is max(clock, now): it never runs backwards, and nothing but advance moves it. */
    CD_ASSERT(e->clock == (now_ms > clock ? now_ms : clock));
    /* Whatever ran out, the command may have been half applied: the state is done for. */
    if (rv == CD_ENOMEM) {
        e->oom = CD_ENOMEM;
    } else if (e->oom) {
        rv = FAIL(res, CD_ENOMEM, "out of memory");
    }
    e->sink = NULL;
    res->code = rv;
    return rv;
}

int64_t engine_next_deadline(const struct engine *e)
{
    return e->deadlines.n > 0 ? e->contacts[e->deadlines.v[0]].deadline : INT64_MAX;
}

int64_t engine_now(const struct engine *e)
{
    return e->clock;
}

uint32_t engine_model_version(const struct engine *e)
{
    return e->version;
}

const struct engine_model *engine_model(const struct engine *e)
{
    return e->has_model ? &e->model : NULL;
}
