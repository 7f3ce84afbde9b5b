/* Personal data in the API: who may see the values of the attribute keys the routing model
 * marks personal (engine_model.personal), and the masking of those values for everyone
 * else. Every place that shows attributes asks here, so the decision lives in one file. */
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "cluster/cluster.h"
#include "common/error.h"
#include "common/log.h"
#include "storage/storage.h"

#define EXPORT_HISTORY_MAX 10000

/* Admins and supervisors run the centre and see everything; an agent sees the contacts it
 * handles (the routes already limit an agent to its own), and needs the customer's name
 * and number to serve them. Reporters work on figures, integrations create contacts and
 * are outside systems: neither needs to read who the customer is. */
bool api__may_see_personal(const struct api__call *call)
{
    switch (call->who.role) {
        case ENGINE_ROLE_ADMIN:
        case ENGINE_ROLE_SUPERVISOR:
        case ENGINE_ROLE_AGENT:
            return call->who.known;
        default:
            return false;
    }
}

void api__mask_personal(json_t *attrs, const struct engine_model *m)
{
    const char *key;
    json_t *value;
    if (!json_is_object(attrs)) {
        return;
    }
    json_object_foreach(attrs, key, value)
    {
        if (engine_model_personal(m, key)) {
            json_object_set_new(attrs, key, json_string(API__MASKED));
        }
    }
}

void api__mask_contact(const struct api *a, json_t *contact)
{
    api__mask_personal(json_object_get(contact, "attributes"),
                       engine_model(cluster_engine(a->cluster)));
}

void api__mask_history(const struct api *a, json_t *row)
{
    api__mask_contact(a, row);
    const char *notes = json_string_value(json_object_get(row, "notes"));
    if (notes != NULL && notes[0] != 0) {
        json_object_set_new(row, "notes", json_string(API__MASKED));
    }
}

/* ---- Erasure and export of one customer's data -------------------------------------- */

/* {"attr": KEY, "value": VALUE} or ?attr=KEY&value=VALUE: checked as the engine will. */
static bool subject_ok(struct api__call *call, const char *key, const char *value)
{
    if (key == NULL || value == NULL || value[0] == 0) {
        http_reply_error(call->x, 400, "INVAL", "attr and value: required");
        return false;
    }
    if (!api__name_ok(call, "attr", key, ENGINE_KEY_MAX) ||
        !api__text_ok(call, "value", value)) {
        return false;
    }
    if (strlen(value) >= ENGINE_VALUE_MAX) {
        http_reply_error(call->x, 400, "INVAL", "value: at most %d bytes",
                         ENGINE_VALUE_MAX - 1);
        return false;
    }
    return true;
}

/* POST /v1/privacy/erase: one replicated PRIVACY_ERASE, so every node erases at the same
 * log index. The answer (write.c) counts the contacts changed. */
void api__privacy_erase(struct api__call *call)
{
    static const char *const keys[] = {"attr", "value", NULL};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    bool bad = false;
    const char *key = api__opt_str(call, body, "attr", &bad);
    const char *value = bad ? NULL : api__opt_str(call, body, "value", &bad);
    if (!bad && subject_ok(call, key, value)) {
        struct engine_command cmd = {.kind = ENGINE_CMD_PRIVACY_ERASE};
        cmd.u.erase.key = key;
        cmd.u.erase.value = value;
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

struct export
{
    struct http_exchange *x;
    struct api *api;
    char key[ENGINE_KEY_MAX];
    char value[ENGINE_VALUE_MAX];
    json_t *contacts;
};

static int export_contact(void *data, const struct engine_contact_info *c)
{
    struct export *ex = data;
    for (unsigned i = 0; i < c->n_attrs; i++) {
        if (strcmp(c->attrs[i].key, ex->key) == 0 &&
            strcmp(c->attrs[i].value, ex->value) == 0) {
            json_array_append_new(ex->contacts, api__contact_json(c));
            break;
        }
    }
    return 0;
}

static int export_row(void *data, const struct storage_history *h)
{
    json_array_append_new(data, api__history_json(h));
    return 0;
}

/* The history rows holding the value, newest first, at most EXPORT_HISTORY_MAX. */
static json_t *export_history(struct export *ex, int *rv)
{
    json_t *rows = json_array();
    struct storage_history_mark next;
    struct storage_history_query q = {.from_ms = INT64_MIN,
                                      .to_ms = INT64_MAX,
                                      .attr_key = ex->key,
                                      .attr_value = ex->value,
                                      .limit = EXPORT_HISTORY_MAX};
    *rv = storage_history_scan(cluster_storage(ex->api->cluster), &q, export_row, rows, &next);
    return rows;
}

/* The export's audit note committed (and this node applied it: what it reads is at least
 * as new as that); or it did not, and nothing is exported unaudited. */
static void export_answer(void *data, const struct engine_result *res)
{
    struct export *ex = data;
    if (res->code != 0) {
        api__fail_result(ex->x, res);
    } else {
        ex->contacts = json_array();
        int rv = engine_contacts_foreach(cluster_engine(ex->api->cluster), export_contact, ex);
        json_t *history = rv == 0 ? export_history(ex, &rv) : NULL;
        if (rv != 0) {
            json_decref(ex->contacts);
            json_decref(history);
            api__fail(ex->x, rv, NULL);
        } else {
            http_reply_json(ex->x, 200,
                            json_pack("{s:s,s:o,s:o}", "attr", ex->key, "contacts",
                                      ex->contacts, "history", history));
        }
    }
    free(ex);
}

/* GET /v1/privacy/export?attr=KEY&value=VALUE: what is held about one customer (subject
 * access). First an AUDIT_NOTE (action privacy_export, object attr:KEY, never the value) is
 * committed with the caller as its actor; once it is, the node reads its state, which holds
 * everything committed before the note: the note is the export's read barrier too. */
void api__privacy_export(struct api__call *call)
{
    struct export *ex = calloc(1, sizeof(*ex));
    if (ex == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    ex->x = call->x;
    ex->api = call->api;
    bool have = http_query_get(call->req, "attr", ex->key, sizeof(ex->key)) >= 0 &&
                http_query_get(call->req, "value", ex->value, sizeof(ex->value)) >= 0;
    if (!subject_ok(call, have ? ex->key : NULL, have ? ex->value : NULL)) {
        free(ex);
        return;
    }
    char object[ENGINE_KEY_MAX + 8];
    struct engine_command cmd = {.kind = ENGINE_CMD_AUDIT_NOTE, .actor = call->who.actor};
    snprintf(object, sizeof(object), "attr:%s", ex->key);
    cmd.u.note.action = "privacy_export";
    cmd.u.note.object = object;
    cd_log(CD_LOG_INFO, "privacy_export", "actor", call->who.actor, "attr", ex->key, NULL);
    int rv = cluster_submit(call->api->cluster, &cmd, export_answer, ex);
    if (rv != 0) {
        free(ex);
        api__fail(call->x, rv, NULL);
    }
}
