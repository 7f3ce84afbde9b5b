/* What the agent desk reads besides the rest of the API (docs/desk.md):
 *
 *   GET /v1/desk                      the model's away reasons and dispositions, the queues
 *                                     (to transfer to), and where the page moves to when its
 *                                     node goes away: the node file's public_urls (a load
 *                                     balancer), else every member's API address
 *   GET /v1/contacts/{id}/earlier     the same customer's earlier contacts: history rows
 *                                     with the contact's email address, or else its phone
 *                                     number, newest first (at most 10) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "storage/storage.h"

#define EARLIER_MAX 10
#define EARLIER_SCAN_MAX 100000 /* history rows looked at, at most */

static void desk_answer(void *data, int status)
{
    struct api__call *call = data;
    const struct engine *e = cluster_engine(call->api->cluster);
    const struct engine_model *m = engine_model(e);
    if (status != 0) {
        api__fail(call->x, status, "read barrier failed: no leader or it did not answer");
        free(call);
        return;
    }
    json_t *away = json_array(), *disp = json_array(), *queues = json_array(),
           *endpoints = json_array();
    for (uint32_t i = 0; m != NULL && i < m->n_away; i++) {
        json_array_append_new(away, json_string(m->away[i]));
    }
    for (uint32_t i = 0; m != NULL && i < m->n_dispositions; i++) {
        json_array_append_new(disp, json_string(m->dispositions[i]));
    }
    for (uint32_t i = 0; m != NULL && i < m->n_queues; i++) {
        json_array_append_new(queues, json_string(m->queues[i].name));
    }
    for (uint32_t i = 0; i < call->api->n_public_urls; i++) {
        char url[CONFIG_HOST_MAX + 24];
        config_origin_text(&call->api->public_urls[i], url, sizeof(url));
        json_array_append_new(endpoints, json_string(url));
    }
    struct cluster_status *st = call->api->n_public_urls == 0 ? malloc(sizeof(*st)) : NULL;
    if (st != NULL) {
        cluster_status(call->api->cluster, st);
        for (uint32_t i = 0; i < st->n_members; i++) {
            char url[CONFIG_HOST_MAX + 24];
            snprintf(url, sizeof(url), "%s://%s", call->api->insecure ? "http" : "https",
                     st->members[i].api);
            json_array_append_new(endpoints, json_string(url));
        }
        free(st);
    }
    http_reply_json(
        call->x, 200,
        json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "role", engine_role_name(call->who.role),
                  "agent", call->who.agent, "away_reasons", away, "dispositions", disp,
                  "queues", queues, "endpoints", endpoints));
    free(call);
}

void api__desk(struct api__call *call)
{
    struct api__call *copy = malloc(sizeof(*copy));
    if (copy == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    *copy = *call;
    api__read_fenced(call, desk_answer, copy);
}

/* ---- GET /v1/contacts/{id}/earlier ----------------------------------------------------- */

struct earlier
{
    struct api *api;
    struct http_exchange *x;
    uint64_t id;
    bool personal;
    json_t *items;
};

static int found(void *data, const struct storage_history *h)
{
    struct earlier *r = data;
    if (h->contact == r->id) {
        return 0;
    }
    json_t *j = api__history_json(h);
    if (!r->personal) {
        api__mask_history(r->api, j);
    }
    json_array_append_new(r->items, j);
    return json_array_size(r->items) >= EARLIER_MAX;
}

static void earlier_answer(void *data, int status)
{
    struct earlier *r = data;
    struct engine_contact_info c;
    const char *by = "", *value = NULL;
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
        free(r);
        return;
    }
    if (engine_contact_get(cluster_engine(r->api->cluster), r->id, &c) != 0) {
        http_reply_error(r->x, 404, "NOTFOUND", "contact %llu is not live",
                         (unsigned long long)r->id);
        free(r);
        return;
    }
    static const char *const keys[] = {"email", "phone"};
    for (size_t k = 0; k < 2 && value == NULL; k++) {
        for (unsigned i = 0; i < c.n_attrs; i++) {
            if (strcmp(c.attrs[i].key, keys[k]) == 0 && c.attrs[i].value[0] != 0) {
                by = keys[k];
                value = c.attrs[i].value;
            }
        }
    }
    r->items = json_array();
    int rv = 0;
    if (value != NULL) {
        struct storage_history_mark next;
        struct storage_history_query q = {.to_ms = INT64_MAX,
                                          .attr_key = by,
                                          .attr_value = value,
                                          .limit = EARLIER_MAX + 1,
                                          .scan_max = EARLIER_SCAN_MAX};
        rv = storage_history_scan(cluster_storage(r->api->cluster), &q, found, r, &next);
        rv = rv > 0 ? 0 : rv;
    }
    if (rv != 0) {
        json_decref(r->items);
        api__fail(r->x, rv, NULL);
    } else {
        http_reply_json(r->x, 200,
                        json_pack("{s:I,s:s,s:o}", "contact", (json_int_t)r->id, "by", by,
                                  "items", r->items));
    }
    free(r);
}

void api__earlier(struct api__call *call)
{
    struct earlier *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    *r = (struct earlier){.api = call->api,
                          .x = call->x,
                          .id = call->ids[0],
                          .personal = api__may_see_personal(call)};
    api__read_fenced(call, earlier_answer, r);
}
