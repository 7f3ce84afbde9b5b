/* The routing model's lifecycle: init, close, deep copy and name lookups. Validation lives
 * in model_validate.c, the binary form in codec_model.c. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/engine.h"

void engine_model_init(struct engine_model *m)
{
    memset(m, 0, sizeof(*m));
    m->report_zone = -1;
}

void engine_model_close(struct engine_model *m)
{
    for (uint32_t i = 0; m->zones != NULL && i < m->n_zones; i++) {
        cd_free(m->zones[i].transitions);
    }
    for (uint32_t i = 0; m->hours != NULL && i < m->n_hours; i++) {
        cd_free(m->hours[i].holidays);
    }
    for (uint32_t i = 0; m->rules != NULL && i < m->n_rules; i++) {
        cd_free(m->rules[i].conds);
    }
    cd_free(m->skills);
    cd_free(m->zones);
    cd_free(m->hours);
    cd_free(m->queues);
    cd_free(m->agents);
    cd_free(m->rules);
    cd_free(m->chat_entries);
    cd_free(m->fault_rules);
    cd_free(m->escalations);
    cd_free(m->runbooks);
    engine_model_init(m);
}

/* A copy of n elements of `size` bytes; NULL (and no error) when n is 0. */
static int dup_array(void **dst, const void *src, uint32_t n, size_t size)
{
    *dst = NULL;
    if (n == 0) {
        return 0;
    }
    *dst = cd_malloc((size_t)n * size);
    if (*dst == NULL) {
        return CD_ENOMEM;
    }
    memcpy(*dst, src, (size_t)n * size);
    return 0;
}

/* The nested arrays of the zones, hours and rules copied by value from src still point at
 * src's memory: replace them with copies. Pointers not yet replaced when an allocation
 * fails are cleared so that engine_model_close() frees only dst's own memory. */
static int dup_nested(struct engine_model *dst)
{
    int rv = 0;
    for (uint32_t i = 0; i < dst->n_zones; i++) {
        struct engine_zone *z = &dst->zones[i];
        if (rv != 0) {
            z->transitions = NULL;
        } else {
            rv = dup_array((void **)&z->transitions, z->transitions, z->n_transitions,
                           sizeof(*z->transitions));
        }
    }
    for (uint32_t i = 0; i < dst->n_hours; i++) {
        struct engine_hours *h = &dst->hours[i];
        if (rv != 0) {
            h->holidays = NULL;
        } else {
            rv = dup_array((void **)&h->holidays, h->holidays, h->n_holidays,
                           sizeof(*h->holidays));
        }
    }
    for (uint32_t i = 0; i < dst->n_rules; i++) {
        struct engine_rule *r = &dst->rules[i];
        if (rv != 0) {
            r->conds = NULL;
        } else {
            rv = dup_array((void **)&r->conds, r->conds, r->n_conds, sizeof(*r->conds));
        }
    }
    return rv;
}

int engine_model_copy(struct engine_model *dst, const struct engine_model *src)
{
    *dst = *src;
    dst->skills = NULL;
    dst->zones = NULL;
    dst->hours = NULL;
    dst->queues = NULL;
    dst->agents = NULL;
    dst->rules = NULL;
    dst->chat_entries = NULL;
    dst->fault_rules = NULL;
    dst->escalations = NULL;
    dst->runbooks = NULL;
    int rv = 0;
    if (dup_array((void **)&dst->fault_rules, src->fault_rules, src->n_fault_rules,
                  sizeof(*src->fault_rules)) ||
        dup_array((void **)&dst->escalations, src->escalations, src->n_escalations,
                  sizeof(*src->escalations)) ||
        dup_array((void **)&dst->runbooks, src->runbooks, src->n_runbooks,
                  sizeof(*src->runbooks)) ||
        dup_array((void **)&dst->skills, src->skills, src->n_skills, sizeof(*src->skills)) ||
        dup_array((void **)&dst->queues, src->queues, src->n_queues, sizeof(*src->queues)) ||
        dup_array((void **)&dst->agents, src->agents, src->n_agents, sizeof(*src->agents)) ||
        dup_array((void **)&dst->chat_entries, src->chat_entries, src->n_chat_entries,
                  sizeof(*src->chat_entries))) {
        rv = CD_ENOMEM;
        goto err_close_dst;
    }
    /* Until dup_nested() has run, the nested pointers belong to src: count them out. */
    uint32_t n_zones = src->n_zones, n_hours = src->n_hours, n_rules = src->n_rules;
    dst->n_zones = dst->n_hours = dst->n_rules = 0;
    if (dup_array((void **)&dst->zones, src->zones, n_zones, sizeof(*src->zones)) ||
        dup_array((void **)&dst->hours, src->hours, n_hours, sizeof(*src->hours)) ||
        dup_array((void **)&dst->rules, src->rules, n_rules, sizeof(*src->rules))) {
        rv = CD_ENOMEM;
        goto err_free_outer;
    }
    dst->n_zones = n_zones;
    dst->n_hours = n_hours;
    dst->n_rules = n_rules;
    rv = dup_nested(dst);
    if (rv != 0) {
        goto err_close_dst;
    }
    return 0;

err_free_outer:
    cd_free(dst->zones);
    cd_free(dst->hours);
    cd_free(dst->rules);
    dst->zones = NULL;
    dst->hours = NULL;
    dst->rules = NULL;
err_close_dst:
    engine_model_close(dst);
    return rv;
}

int engine_model_skill(const struct engine_model *m, const char *name)
{
    for (uint32_t i = 0; name != NULL && i < m->n_skills; i++) {
        if (strncmp(m->skills[i].s, name, sizeof(m->skills[i].s)) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int engine_model_queue(const struct engine_model *m, const char *name)
{
    for (uint32_t i = 0; name != NULL && i < m->n_queues; i++) {
        if (strncmp(m->queues[i].name, name, sizeof(m->queues[i].name)) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool engine_model_personal(const struct engine_model *m, const char *key)
{
    for (uint32_t i = 0; m != NULL && i < m->n_personal; i++) {
        if (strcmp(m->personal[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Index of name in a fixed list of names, or -1. */
static int listed(const char (*list)[ENGINE_VALUE_MAX], uint32_t n, const char *name)
{
    for (uint32_t i = 0; name != NULL && i < n; i++) {
        if (strncmp(list[i], name, ENGINE_VALUE_MAX) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int engine_model_disposition(const struct engine_model *m, const char *name)
{
    return listed(m->dispositions, m->n_dispositions, name);
}

int engine_model_away(const struct engine_model *m, const char *name)
{
    return listed(m->away, m->n_away, name);
}

int engine_model_chat_entry(const struct engine_model *m, const char *name)
{
    for (uint32_t i = 0; name != NULL && i < m->n_chat_entries; i++) {
        if (strncmp(m->chat_entries[i].name, name, ENGINE_NAME_MAX) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int64_t engine_model_reconnect_ms(const struct engine_model *m)
{
    uint32_t s = m != NULL && m->chat_reconnect_s != 0 ? m->chat_reconnect_s
                                                       : ENGINE_CHAT_RECONNECT_DEFAULT;
    return (int64_t)s * 1000;
}
