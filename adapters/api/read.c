/* Reads. By default a read first passes a read barrier, so it sees every write committed
 * before it arrived, on whichever node it lands; ?stale=true reads the node's applied state
 * as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "storage/storage.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 1000000
#define HISTORY_SCAN_MAX 100000 /* rows a filtered history list looks at, at most */

struct reading
{
    struct api *api;
    struct http_exchange *x;
    enum api__read_kind kind;
    char arg[128];
    uint64_t id; /* a contact's, from the path */
    char queue[ENGINE_NAME_MAX], agent[ENGINE_NAME_MAX];
    int state;   /* -1: any */
    int channel; /* -1: any */
    uint64_t min_age_ms;
    uint64_t limit;
    uint64_t from, to;
    bool personal; /* the caller may see personal values (api__may_see_personal) */
    /* A filtered history list (?key=, ?attr=KEY=VALUE): newest first, from ?before= on. */
    bool filtered;
    char key[ENGINE_VALUE_MAX * 2];
    char attr[ENGINE_KEY_MAX + ENGINE_VALUE_MAX];
    char *attr_value; /* into attr, after the '=' */
    struct storage_history_mark before;
};

struct listing
{
    struct reading *r;
    json_t *items;
    uint64_t left;
    size_t matched;
    int64_t arrived_before; /* from min_age_ms */
};

static json_t *contact_json(const struct reading *r, const struct engine_contact_info *c)
{
    json_t *j = api__contact_json(c);
    if (!r->personal) {
        api__mask_contact(r->api, j);
    }
    return j;
}

static int list_contact(void *data, const struct engine_contact_info *c)
{
    struct listing *l = data;
    const struct reading *r = l->r;
    if ((r->queue[0] && strcmp(r->queue, c->queue ? c->queue : "") != 0) ||
        (r->agent[0] && strcmp(r->agent, c->agent ? c->agent : "") != 0) ||
        (r->state >= 0 && r->state != c->state) ||
        (r->channel >= 0 && r->channel != c->channel) ||
        (r->min_age_ms > 0 && c->arrived > l->arrived_before)) {
        return 0;
    }
    l->matched++;
    if (l->left > 0) {
        json_array_append_new(l->items, contact_json(r, c));
        l->left--;
    }
    return 0; /* on to the end: total counts every match */
}

static json_t *history_json(const struct reading *r, const struct storage_history *h)
{
    json_t *j = api__history_json(h);
    if (!r->personal) {
        api__mask_history(r->api, j);
    }
    return j;
}

static int list_history(void *data, const struct storage_history *h)
{
    struct listing *l = data;
    json_array_append_new(l->items, history_json(l->r, h));
    return --l->left == 0;
}

static int list_found(void *data, const struct storage_history *h)
{
    struct listing *l = data;
    json_array_append_new(l->items, history_json(l->r, h));
    l->matched++;
    return 0;
}

/* ?key= or ?attr=KEY=VALUE: a customer's contacts, newest first, a page at a time. */
static void read_found(struct reading *r)
{
    struct listing l = {.r = r, .items = json_array()};
    struct storage_history_mark next;
    struct storage_history_query q = {.from_ms = (int64_t)r->from,
                                      .to_ms = (int64_t)r->to,
                                      .before = r->before,
                                      .key = r->key,
                                      .attr_key = r->attr,
                                      .attr_value = r->attr_value,
                                      .limit = r->limit,
                                      .scan_max = HISTORY_SCAN_MAX};
    int rv = storage_history_scan(cluster_storage(r->api->cluster), &q, list_found, &l, &next);
    if (rv != 0) {
        json_decref(l.items);
        api__fail(r->x, rv, NULL);
        return;
    }
    char mark[48] = "";
    if (next.contact != 0) {
        snprintf(mark, sizeof(mark), "%lld.%llu", (long long)next.completed,
                 (unsigned long long)next.contact);
    }
    http_reply_json(r->x, 200,
                    json_pack("{s:o,s:I,s:s}", "items", l.items, "total", (json_int_t)l.matched,
                              "next", mark));
}

/* A contact that ended in an entry this node skipped (it caught up by a snapshot) has no
 * history row here until the gap is filled from a peer. */
static bool history_pending(struct cluster *c)
{
    struct storage_gap gap;
    return storage_gaps_pending(cluster_storage(c), &gap, 1) > 0;
}

static void read_contact(struct reading *r, const struct engine *e)
{
    struct engine_contact_info info;
    struct storage_history h;
    struct cd_buf path;
    cd_buf_init(&path);
    if (engine_contact_get(e, r->id, &info) == 0) {
        json_t *j = contact_json(r, &info);
        struct engine_path p;
        if (engine_path_get(e, r->id, &p) == 0) {
            json_object_set_new(j, "path", api__path_json(p.data, p.len));
        }
        http_reply_json(r->x, 200, j);
    } else if (api__history_with_path(r->api, r->id, &h, &path) == 0) {
        http_reply_json(r->x, 200, history_json(r, &h));
    } else if (history_pending(r->api->cluster)) {
        http_reply_error(r->x, 503, "UNAVAIL",
                         "contact %s is not here, and this node is still copying history it "
                         "missed from a peer: ask another node",
                         r->arg);
    } else {
        http_reply_error(r->x, 404, "NOTFOUND", "contact %s not found", r->arg);
    }
    cd_buf_close(&path);
}

static void read_list(struct reading *r, const struct engine *e)
{
    struct listing l = {.r = r, .items = json_array(), .left = r->limit};
    size_t total = 0;
    if (r->kind == API__READ_CONTACTS) {
        l.arrived_before = engine_now(e) - (int64_t)r->min_age_ms;
        engine_contacts_foreach(e, list_contact, &l);
        total = l.matched;
    } else if (r->kind == API__READ_HISTORY && r->filtered) {
        json_decref(l.items);
        read_found(r);
        return;
    } else if (r->kind == API__READ_HISTORY) {
        storage_foreach_history(cluster_storage(r->api->cluster), (int64_t)r->from,
                                (int64_t)r->to, list_history, &l);
    } else if (r->kind == API__READ_AGENTS) {
        struct engine_agent_info a;
        for (size_t i = 0; engine_agent_name(e, i) != NULL && l.left > 0; i++, l.left--) {
            if (engine_agent_get(e, engine_agent_name(e, i), &a) == 0) {
                json_array_append_new(l.items, api__agent_json(&a));
            }
        }
        total = engine_agent_count(e);
    } else {
        struct engine_queue_info q;
        uint32_t *past = api__waiting_past(e);
        for (size_t i = 0; engine_queue_name(e, i) != NULL && l.left > 0; i++, l.left--) {
            if (engine_queue_get(e, engine_queue_name(e, i), &q) == 0) {
                json_array_append_new(l.items, api__queue_json(&q, past ? past[i] : 0));
            }
        }
        free(past);
        total = engine_queue_count(e);
    }
    http_reply_json(r->x, 200,
                    json_pack("{s:o,s:I}", "items", l.items, "total", (json_int_t)total));
}

static void read_one(struct reading *r, const struct engine *e)
{
    if (r->kind == API__READ_AGENT) {
        struct engine_agent_info a;
        if (engine_agent_get(e, r->arg, &a) == 0) {
            http_reply_json(r->x, 200, api__agent_json(&a));
        } else {
            http_reply_error(r->x, 404, "NOTFOUND", "agent '%s' not found", r->arg);
        }
    } else {
        struct engine_queue_info q;
        if (engine_queue_get(e, r->arg, &q) == 0) {
            uint32_t *past = api__waiting_past(e);
            uint32_t mine = 0;
            for (size_t i = 0; past != NULL && engine_queue_name(e, i) != NULL; i++) {
                mine = strcmp(engine_queue_name(e, i), r->arg) == 0 ? past[i] : mine;
            }
            free(past);
            http_reply_json(r->x, 200, api__queue_json(&q, mine));
        } else {
            http_reply_error(r->x, 404, "NOTFOUND", "queue '%s' not found", r->arg);
        }
    }
}

static void read_check(struct reading *r, const struct engine *e)
{
    char err[512], digest[24];
    struct cluster_status st;
    cluster_status(r->api->cluster, &st);
    int rv = engine_check(e, err, sizeof(err));
    snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)engine_digest(e));
    http_reply_json(r->x, 200,
                    json_pack("{s:b,s:s,s:s,s:I,s:I}", "ok", rv == 0, "error", rv ? err : "",
                              "digest", digest, "applied_index", (json_int_t)st.applied_index,
                              "contacts", (json_int_t)engine_contact_count(e)));
}

/* A live contact: why it is where it is (the engine says), and its path so far. A finished
 * one: its path, told. */
static void read_explain(struct reading *r, const struct engine *e)
{
    char text[8192];
    struct engine_path p;
    struct storage_history *h;
    struct cd_buf path;
    if (engine_explain(e, r->id, text, sizeof(text)) == 0 &&
        engine_path_get(e, r->id, &p) == 0) {
        http_reply_json(r->x, 200,
                        json_pack("{s:I,s:b,s:s,s:o}", "id", (json_int_t)r->id, "finished", 0,
                                  "explanation", text, "path", api__path_json(p.data, p.len)));
        return;
    }
    cd_buf_init(&path);
    h = malloc(sizeof(*h));
    int rv = h == NULL ? CD_ENOMEM : api__history_with_path(r->api, r->id, h, &path);
    if (rv == 0) {
        api__path_explain(h, h->path, h->path_len, text, sizeof(text));
        http_reply_json(
            r->x, 200,
            json_pack("{s:I,s:b,s:s,s:o}", "id", (json_int_t)r->id, "finished", 1,
                      "explanation", text, "path", api__path_json(h->path, h->path_len)));
    } else if (rv == CD_ENOTFOUND && history_pending(r->api->cluster)) {
        http_reply_error(r->x, 503, "UNAVAIL",
                         "contact %s is not here, and this node is still copying history it "
                         "missed from a peer: ask another node",
                         r->arg);
    } else if (rv == CD_ENOTFOUND) {
        http_reply_error(r->x, 404, "NOTFOUND", "contact %s not found", r->arg);
    } else {
        api__fail(r->x, rv, NULL);
    }
    free(h);
    cd_buf_close(&path);
}

static void answer(void *data, int status)
{
    struct reading *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (r->kind == API__READ_CONTACT) {
        read_contact(r, e);
    } else if (r->kind == API__READ_AGENT || r->kind == API__READ_QUEUE) {
        read_one(r, e);
    } else if (r->kind == API__READ_CHECK) {
        read_check(r, e);
    } else if (r->kind == API__READ_EXPLAIN) {
        read_explain(r, e);
    } else {
        read_list(r, e);
    }
    free(r);
}

/* The contact filters: names were checked with the route's query (routes.c). */
static bool read_contact_filters(struct api__call *call, struct reading *r)
{
    char v[32];
    http_query_get(call->req, "queue", r->queue, sizeof(r->queue));
    http_query_get(call->req, "agent", r->agent, sizeof(r->agent));
    if (http_query_get(call->req, "state", v, sizeof(v)) != -1) {
        for (int s = 0; engine_contact_state_name(s) != NULL; s++) {
            if (strcmp(engine_contact_state_name(s), v) == 0) {
                r->state = s;
            }
        }
        if (r->state < 0) {
            http_reply_error(call->x, 400, "INVAL", "state: unknown contact state '%s'", v);
            return false;
        }
    }
    if (http_query_get(call->req, "channel", v, sizeof(v)) != -1 &&
        (r->channel = engine_channel_parse(v)) < 0) {
        http_reply_error(call->x, 400, "INVAL", "channel: expected voice, email, sms or chat");
        return false;
    }
    return api__query_u64(call, "min_age_ms", 0, INT64_MAX, &r->min_age_ms);
}

/* ?before=COMPLETED.CONTACT: where the page before ended (its "next"). */
static bool read_before(struct api__call *call, struct reading *r)
{
    char v[48], *dot;
    long long completed;
    if (http_query_get(call->req, "before", v, sizeof(v)) == -1) {
        return true;
    }
    dot = strchr(v, '.');
    if (dot == NULL || sscanf(v, "%lld", &completed) != 1 ||
        api__u64_parse(dot + 1, &r->before.contact) != 0 || r->before.contact == 0) {
        http_reply_error(call->x, 400, "INVAL",
                         "before: expected the \"next\" of the page before (COMPLETED.ID)");
        return false;
    }
    r->before.completed = completed;
    return true;
}

/* The history filters: ?key=KEY and ?attr=KEY=VALUE (checked as text with the route). */
static bool read_history_filters(struct api__call *call, struct reading *r)
{
    bool has_key = http_query_get(call->req, "key", r->key, sizeof(r->key)) >= 0;
    bool has_attr = http_query_get(call->req, "attr", r->attr, sizeof(r->attr)) >= 0;
    if (has_attr) {
        char *eq = strchr(r->attr, '=');
        if (eq == NULL) {
            http_reply_error(call->x, 400, "INVAL", "attr: expected KEY=VALUE");
            return false;
        }
        *eq = 0;
        r->attr_value = eq + 1;
        if (!api__name_ok(call, "attr", r->attr, ENGINE_KEY_MAX)) {
            return false;
        }
    }
    r->filtered = has_key || has_attr;
    if (!r->filtered && http_query_get(call->req, "before", r->key, sizeof(r->key)) >= 0) {
        r->key[0] = 0;
        http_reply_error(call->x, 400, "INVAL", "before: pages only a list with key or attr");
        return false;
    }
    return r->filtered ? read_before(call, r) : true;
}

static bool read_filters(struct api__call *call, struct reading *r)
{
    r->state = -1;
    r->channel = -1;
    r->limit = LIST_DEFAULT;
    r->to = INT64_MAX;
    if (!read_contact_filters(call, r) ||
        !api__query_u64(call, "limit", 1, LIST_MAX, &r->limit) ||
        !api__query_u64(call, "from", 0, INT64_MAX, &r->from) ||
        !api__query_u64(call, "to", 0, INT64_MAX, &r->to)) {
        return false;
    }
    if (r->from > r->to) {
        http_reply_error(call->x, 400, "INVAL", "from: after to");
        return false;
    }
    return r->kind != API__READ_HISTORY || read_history_filters(call, r);
}

void api__read(struct api__call *call, enum api__read_kind kind)
{
    struct reading *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    r->api = call->api;
    r->x = call->x;
    r->kind = kind;
    r->id = call->ids[0];
    r->personal = api__may_see_personal(call);
    snprintf(r->arg, sizeof(r->arg), "%s", call->args[0]);
    if (!read_filters(call, r)) {
        free(r);
        return;
    }
    api__read_fenced(call, answer, r);
}
