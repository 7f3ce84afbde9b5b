/* Health, cluster status and membership. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "storage/storage.h"
#include "common/error.h"

void api__healthz(struct api__call *call)
{
    http_reply_json(call->x, 200, json_pack("{s:s}", "status", "ok"));
}

void api__readyz(struct api__call *call)
{
    struct cluster_status st;
    cluster_status(call->api->cluster, &st);
    http_exchange_uncounted(call->x); /* not an error of the API (node.ID.api_errors) */
    http_reply_json(
        call->x, st.ready ? 200 : 503,
        json_pack("{s:b,s:s,s:s,s:I,s:I}", "ready", st.ready, "role",
                  cluster_role_name(st.role), "leader", st.leader, "commit_index",
                  (json_int_t)st.commit_index, "applied_index", (json_int_t)st.applied_index));
}

/* This node's history and audit: their rows, their digests (equal on every node at one
 * applied index once no gap is pending) and the gaps not yet filled from a peer. */
static json_t *history_json(const struct storage_stats *st)
{
    char digest[24];
    snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)st->history_digest);
    return json_pack("{s:I,s:s,s:I,s:I,s:b}", "rows", (json_int_t)st->history, "digest", digest,
                     "gaps", (json_int_t)st->gaps, "gaps_pending", (json_int_t)st->gaps_pending,
                     "complete", st->gaps_pending == 0);
}

static json_t *audit_json(const struct storage_stats *st)
{
    char digest[24];
    snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)st->audit_digest);
    return json_pack("{s:I,s:s,s:b}", "rows", (json_int_t)st->audit, "digest", digest,
                     "complete", st->gaps_pending == 0);
}

static void reply_with_history(struct http_exchange *x, json_t *doc, struct cluster *c)
{
    struct storage_stats st;
    bool ok = storage_stats(cluster_storage(c), &st) == 0;
    json_object_set_new(doc, "history", ok ? history_json(&st) : json_null());
    json_object_set_new(doc, "audit", ok ? audit_json(&st) : json_null());
    http_reply_json(x, 200, doc);
}

void api__cluster_status(struct api__call *call)
{
    struct cluster_status st;
    char digest[24];
    json_t *members = json_array();
    cluster_status(call->api->cluster, &st);
    snprintf(digest, sizeof(digest), "%016llx",
             (unsigned long long)engine_digest(cluster_engine(call->api->cluster)));
    for (uint32_t i = 0; i < st.n_members; i++) {
        const struct cluster_member *m = &st.members[i];
        json_t *member =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "id", m->id, "raft", m->raft, "api", m->api,
                      "peer", m->peer, "role", cluster_member_role_name(m->role), "leader",
                      strcmp(m->id, st.leader) == 0);
        if (st.role == CLUSTER_LEADER) { /* replication as the leader sees it */
            json_object_set_new(member, "match_index",
                                json_integer((json_int_t)m->match_index));
            json_object_set_new(member, "lag",
                                json_integer((json_int_t)(st.last_index - m->match_index)));
            json_object_set_new(member, "reachable", json_boolean(m->recent));
        }
        json_array_append_new(members, member);
    }
    reply_with_history(
        call->x,
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:b,s:o,s:I,s:I,s:I,s:I}", "id",
                  st.id, "role", cluster_role_name(st.role), "leader", st.leader, "leader_api",
                  st.leader_api, "term", (json_int_t)st.term, "commit_index",
                  (json_int_t)st.commit_index, "applied_index", (json_int_t)st.applied_index,
                  "last_index", (json_int_t)st.last_index, "snapshot_index",
                  (json_int_t)st.snapshot_index, "state_digest", digest, "engine_now",
                  (json_int_t)st.engine_now, "ready", st.ready, "members", members,
                  "entries_applied", (json_int_t)st.entries_applied, "commands_applied",
                  (json_int_t)st.commands_applied, "leaders_lost", (json_int_t)st.leaders_lost,
                  "early_elections", (json_int_t)st.early_elections),
        call->api->cluster);
}

/* ---- Changes: answered when Raft is done and the audit has them ----------------------- */

/* A membership change in flight: who asked, and what to record once it is done. */
struct change
{
    struct api *api;
    struct http_exchange *x;
    char actor[ENGINE_ACTOR_MAX];
    const char *action; /* static */
    char object[ENGINE_NAME_MAX];
};

static struct change *change_new(struct api__call *call, const char *action, const char *object)
{
    struct change *ch = calloc(1, sizeof(*ch));
    if (ch == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return NULL;
    }
    *ch = (struct change){.api = call->api, .x = call->x, .action = action};
    snprintf(ch->actor, sizeof(ch->actor), "%s", call->who.actor);
    snprintf(ch->object, sizeof(ch->object), "%s", object != NULL ? object : "");
    return ch;
}

/* Raft configuration is not engine state: the change goes into the audit as a note, with
 * the caller as its actor; a leadership transfer names the member that leads now. */
static void changed(void *data, int status, const char *message)
{
    struct change *ch = data;
    struct cluster_status st;
    if (status != 0) {
        api__fail(ch->x, status, message);
        free(ch);
        return;
    }
    if (ch->object[0] == 0) {
        cluster_status(ch->api->cluster, &st);
        snprintf(ch->object, sizeof(ch->object), "%s", st.leader[0] ? st.leader : "unknown");
    }
    api__audit_note(ch->api, ch->x, ch->actor, ch->action, ch->object, message);
    free(ch);
}

/* A change must be made on the leader: tell the client where it is. */
static void change_refused(struct api__call *call, int rv)
{
    struct cluster_status st;
    if (rv != CD_EUNAVAIL) {
        api__fail(call->x, rv, NULL);
        return;
    }
    cluster_status(call->api->cluster, &st);
    http_reply_error(call->x, 503, "NOTLEADER",
                     "membership changes are made on the leader: %s (%s)",
                     st.leader[0] ? st.leader : "unknown", st.leader_api);
}

/* POST /v1/cluster/members {"id", "raft", "api", "peer"}: the id a name, the addresses
 * IP:port. */
void api__member_add(struct api__call *call)
{
    static const char *const keys[] = {"id", "raft", "api", "peer", NULL};
    char err[256];
    json_t *body = api__body_with(call, keys);
    bool bad = false;
    if (body == NULL) {
        return;
    }
    const char *id = api__opt_str(call, body, "id", &bad);
    const char *raft = api__opt_str(call, body, "raft", &bad);
    const char *api = api__opt_str(call, body, "api", &bad);
    const char *peer = api__opt_str(call, body, "peer", &bad);
    if (!bad && (id == NULL || raft == NULL || api == NULL || peer == NULL)) {
        http_reply_error(call->x, 400, "INVAL", "id, raft, api and peer are required");
    } else if (!bad && cluster_member_check(id, raft, api, peer, err, sizeof(err)) != 0) {
        http_reply_error(call->x, 400, "INVAL", "%s", err);
    } else if (!bad) {
        struct change *ch = change_new(call, "member_add", id);
        int rv = ch != NULL
                     ? cluster_member_add(call->api->cluster, id, raft, api, peer, changed, ch)
                     : 0;
        if (rv != 0) {
            free(ch);
            change_refused(call, rv);
        }
    }
    json_decref(body);
}

void api__member_remove(struct api__call *call)
{
    static const char *const none[] = {NULL};
    json_t *body = api__body_with(call, none);
    if (body == NULL) {
        return;
    }
    json_decref(body);
    struct change *ch = change_new(call, "member_remove", call->args[0]);
    if (ch == NULL) {
        return;
    }
    int rv = cluster_member_remove(call->api->cluster, call->args[0], changed, ch);
    if (rv != 0) {
        free(ch);
        change_refused(call, rv);
    }
}

/* POST /v1/cluster/leader/transfer {"id"} or {} */
void api__leader_transfer(struct api__call *call)
{
    static const char *const keys[] = {"id", NULL};
    json_t *body = api__body_with(call, keys);
    bool bad = false;
    if (body == NULL) {
        return;
    }
    const char *id = api__opt_str(call, body, "id", &bad);
    if (!bad && id != NULL && id[0] != 0 && !api__name_ok(call, "id", id, ENGINE_NAME_MAX)) {
        bad = true;
    }
    struct change *ch = bad ? NULL : change_new(call, "leader_transfer", NULL);
    if (ch != NULL) {
        int rv = cluster_leader_transfer(call->api->cluster, id, changed, ch);
        if (rv != 0) {
            free(ch);
            change_refused(call, rv);
        }
    }
    json_decref(body);
}
