/* Where a contact's customer is connected: its home (the member holding the live session)
 * and the session key the adapter there chose; moving a session, ending it, and what a
 * member's loss does to the sessions it held.
 *
 * NODE_LOST(node): every live contact whose home is node, in ascending id order, loses its
 * home and session key and is marked session_lost; a SESSION_LOST effect (old_home = node,
 * text = the outcome below) tells every member, the lost one too once it is back. Then, by
 * channel:
 *
 *   voice   queued: stays in its place in line as a callback ("callback");
 *           offered: the offer is withdrawn and it goes back to its place as a callback
 *           ("callback"); connected: the call's leg was on the lost member, so the talk
 *           ends and wrap-up starts ("ended"); wrap-up: nothing more ("kept")
 *   chat    every state: stays where it is, waiting for the customer to reconnect through
 *           another member (SESSION_MOVE clears the mark) ("waits"), but not for ever:
 *           see "Reconnect deadline" below
 *   email, sms: have no home when made by their adapters; one given through the API is
 *           treated like chat, without a deadline ("kept")
 *
 * Reconnect deadline. A chat contact that loses its customer's connection while queued,
 * offered or connected, by SESSION_END (the connection closed without a goodbye) or by
 * NODE_LOST (its home was lost), gets reconnect_by = the command's stamp plus the model's
 * chat reconnect wait, engine_model_reconnect_ms(). SESSION_MOVE (the customer came back
 * through any member) clears it. When it passes (timers.c), the customer is gone (chat.c):
 * a queued or offered contact is abandoned with reason "customer_gone", its offer
 * withdrawn; a connected one's talk ends as by CONTACT_END and it finishes as abandoned,
 * "customer_gone", once its agent has wrapped up. A contact in wrap-up gets none: its
 * customer has nothing left to come back to; nor does a callback (the customer took the
 * offer: the centre calls back, nobody waits for a page).
 *
 * SESSION_END(id, home, session): a home or session given must be the contact's own (else
 * CD_ESTATE, nothing changes), so that the end of a connection a customer left behind does
 * not cut the session it has since opened through another member; "" ends whatever it is. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

const char *engine__home(const struct contact *c)
{
    return c->where != NULL ? c->where : "";
}

const char *engine__session(const struct contact *c)
{
    return c->where != NULL ? c->where + strlen(c->where) + 1 : "";
}

int engine__where_set(struct contact *c, const char *home, const char *session)
{
    char *where = NULL;
    if (home != NULL && home[0] != 0) {
        size_t h = strlen(home) + 1, s = strlen(session ? session : "") + 1;
        where = cd_malloc(h + s);
        if (where == NULL) {
            return CD_ENOMEM;
        }
        memcpy(where, home, h);
        memcpy(where + h, session ? session : "", s);
    }
    cd_free(c->where);
    c->where = where;
    return 0;
}

int engine__where_check(const char *home,
                        const char *session,
                        bool need_home,
                        struct engine_result *res)
{
    bool has_home = home != NULL && home[0] != 0;
    bool has_session = session != NULL && session[0] != 0;
    if (need_home && !has_home) {
        return FAIL(res, CD_EINVAL, "home: the member that holds the session is required");
    }
    if (has_home && !engine_name_valid(home, ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "home: expected a member id of 1-%d %s",
                    ENGINE_NAME_MAX - 1, ENGINE_NAME_CHARSET);
    }
    if (has_session && !has_home) {
        return FAIL(res, CD_EINVAL, "session: a session key needs a home");
    }
    if (has_session && !engine_session_valid(session)) {
        return FAIL(res, CD_EINVAL, "session: expected 1-%d visible ASCII characters",
                    ENGINE_SESSION_MAX - 1);
    }
    return 0;
}

static void session_fx(struct engine *e,
                       struct contact *c,
                       uint8_t kind,
                       const char *old_home,
                       const char *text)
{
    struct engine_effect fx = {.kind = kind,
                               .channel = c->channel,
                               .state = c->state,
                               .contact = c->id,
                               .queue = c->queue == NONE16 ? "" : e->queues[c->queue].name,
                               .agent = c->agent == NONE32 ? "" : e->agents[c->agent].name,
                               .text = text,
                               .old_home = old_home};
    engine__emit_contact(e, c, &fx);
}

static int session_move(struct engine *e,
                        struct contact *c,
                        const char *home,
                        const char *session,
                        struct engine_result *res)
{
    char old[ENGINE_NAME_MAX];
    if (session == NULL || session[0] == 0) {
        session = engine__session(c);
    }
    if (c->where != NULL && strcmp(engine__home(c), home) == 0 &&
        strcmp(engine__session(c), session) == 0) {
        /* Already there: a retried move changes nothing (a contact with a home has no
         * reconnect deadline). */
        return 0;
    }
    /* session may point into c->where, which the set replaces. */
    char key[ENGINE_SESSION_MAX];
    strncpy(key, session, sizeof(key) - 1);
    key[sizeof(key) - 1] = 0;
    strncpy(old, engine__home(c), sizeof(old) - 1);
    old[sizeof(old) - 1] = 0;
    if (engine__where_set(c, home, key) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    c->session_lost = 0;
    engine__set_reconnect(e, c, NEVER);
    session_fx(e, c, ENGINE_FX_SESSION_MOVED, old, "");
    return 0;
}

/* A chat whose customer's connection is gone waits for the customer, for a while. */
static void await_customer(struct engine *e, struct contact *c)
{
    if (c->channel == ENGINE_CH_CHAT && c->state != ENGINE_CONTACT_WRAPUP && !c->callback) {
        engine__set_reconnect(e, c, e->clock + engine_model_reconnect_ms(&e->model));
    }
}

int engine__cmd_session(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    struct contact *c = engine__contact(e, cmd->u.session.id);
    if (c == NULL) {
        return FAIL(res, CD_ENOTFOUND, "contact %llu not found",
                    (unsigned long long)cmd->u.session.id);
    }
    if (cmd->kind == ENGINE_CMD_SESSION_MOVE) {
        int rv = engine__where_check(cmd->u.session.home, cmd->u.session.session, true, res);
        return rv != 0 ? rv
                       : session_move(e, c, cmd->u.session.home, cmd->u.session.session, res);
    }
    if (c->where == NULL) {
        return FAIL(res, CD_ESTATE, "contact %llu has no live session",
                    (unsigned long long)c->id);
    }
    /* Fenced: the member that ends a session names it, so that an end that comes after the
     * customer has moved on to another member changes nothing. */
    const char *home = cmd->u.session.home, *session = cmd->u.session.session;
    if ((home != NULL && home[0] != 0 && strcmp(home, engine__home(c)) != 0) ||
        (session != NULL && session[0] != 0 && strcmp(session, engine__session(c)) != 0)) {
        return FAIL(res, CD_ESTATE, "contact %llu's session is not that one any more",
                    (unsigned long long)c->id);
    }
    char old[ENGINE_NAME_MAX];
    strncpy(old, engine__home(c), sizeof(old) - 1);
    old[sizeof(old) - 1] = 0;
    engine__where_set(c, "", ""); /* clearing allocates nothing */
    await_customer(e, c);
    session_fx(e, c, ENGINE_FX_SESSION_ENDED, old, "");
    return 0;
}

size_t engine_homed_count(const struct engine *e, const char *node)
{
    size_t n = 0;
    for (uint32_t s = 0; s < e->n_slots; s++) {
        const struct contact *c = &e->contacts[s];
        n += c->id != 0 && c->where != NULL && strcmp(c->where, node) == 0;
    }
    return n;
}

/* The contacts homed at node, in ascending id order. */
static uint64_t *homed_at(const struct engine *e, const char *node, size_t *n)
{
    *n = engine_homed_count(e, node);
    uint64_t *ids = cd_malloc((*n ? *n : 1) * sizeof(*ids));
    size_t k = 0;
    for (uint32_t s = 0; ids != NULL && s < e->n_slots; s++) {
        const struct contact *c = &e->contacts[s];
        if (c->id != 0 && c->where != NULL && strcmp(c->where, node) == 0) {
            ids[k++] = c->id;
        }
    }
    if (ids != NULL) {
        qsort(ids, k, sizeof(*ids), engine__by_id);
    }
    return ids;
}

static void lose(struct engine *e, struct contact *c, const char *node)
{
    const char *outcome = "kept";
    if (c->channel == ENGINE_CH_VOICE) {
        outcome = c->state == ENGINE_CONTACT_QUEUED || c->state == ENGINE_CONTACT_OFFERED
                      ? "callback"
                  : c->state == ENGINE_CONTACT_CONNECTED ? "ended"
                                                         : "kept";
    } else if (c->channel == ENGINE_CH_CHAT) {
        outcome = "waits";
    }
    engine__where_set(c, "", "");
    c->session_lost = 1;
    await_customer(e, c);
    session_fx(e, c, ENGINE_FX_SESSION_LOST, node, outcome);
    if (c->channel != ENGINE_CH_VOICE) {
        return;
    }
    if (c->state == ENGINE_CONTACT_QUEUED) {
        c->callback = 1; /* its order key is unchanged: it keeps its place */
        engine__path_add(
            e, c, &(struct engine_path_step){.kind = ENGINE_PATH_CALLBACK, .at = e->clock});
    } else if (c->state == ENGINE_CONTACT_OFFERED) {
        c->callback = 1;
        engine__path_add(
            e, c, &(struct engine_path_step){.kind = ENGINE_PATH_CALLBACK, .at = e->clock});
        engine__withdraw_offer(e, c, true);
    } else if (c->state == ENGINE_CONTACT_CONNECTED) {
        engine__end_talk(e, c);
    }
}

int engine__cmd_node_lost(struct engine *e, const char *node, struct engine_result *res)
{
    if (node == NULL || !engine_name_valid(node, ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "node: expected a member id of 1-%d %s",
                    ENGINE_NAME_MAX - 1, ENGINE_NAME_CHARSET);
    }
    size_t n;
    uint64_t *ids = homed_at(e, node, &n);
    if (ids == NULL) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    /* One contact's outcome may end another's offer or talk, never its life: each id is
     * looked up again. */
    for (size_t i = 0; i < n; i++) {
        struct contact *c = engine__contact(e, ids[i]);
        if (c != NULL && c->where != NULL && strcmp(c->where, node) == 0) {
            lose(e, c, node);
        }
    }
    cd_free(ids);
    return 0;
}
