/* Personal data in the API: who may see the values of the attribute keys the routing model
 * marks personal (engine_model.personal), and the masking of those values for everyone
 * else. Every place that shows attributes asks here, so the decision lives in one file. */
#include <string.h>

#include "adapters/api/internal.h"
#include "cluster/cluster.h"

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
