/* Routing rules: an ordered list, each with a name, optional conditions under `when`, and
 * exactly one action: route, overflow, callback, reject or set. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define PRIORITY_MAX 1000

static const char *const action_keys[] = {"route",  "overflow", "callback",
                                          "reject", "set",      NULL};

/* route / callback: a queue name, or {queue, priority, skills}. */
static int read_route(struct model_builder *b, const struct ynode *n, struct engine_action *a)
{
    static const char *const keys[] = {"queue", "priority", "skills", NULL};
    const struct ynode *q = n, *e;
    int64_t prio;
    if (n->kind == YNODE_MAP &&
        (cfg_keys(&b->c, n, keys) != 0 || (q = cfg_require(&b->c, n, "queue")) == NULL)) {
        return CD_EPARSE;
    }
    if (model_queue(b, q, &a->queue) != 0) {
        return CD_EPARSE;
    }
    if (n->kind != YNODE_MAP) {
        return 0;
    }
    if ((e = ynode_get(n, "priority")) != NULL) {
        if (cfg_int(&b->c, e, -PRIORITY_MAX, PRIORITY_MAX, &prio) != 0) {
            return CD_EPARSE;
        }
        a->has_priority = true;
        a->priority = (int16_t)prio;
    }
    e = ynode_get(n, "skills");
    return e != NULL ? model_skill_levels(b, e, ENGINE_REQ_SKILLS, a->skills, &a->n_skills) : 0;
}

/* reject: a reason, or {reason}. */
static int read_reject(struct model_builder *b, const struct ynode *n, struct engine_action *a)
{
    static const char *const keys[] = {"reason", NULL};
    const struct ynode *r = n;
    if (n->kind == YNODE_MAP &&
        (cfg_keys(&b->c, n, keys) != 0 || (r = cfg_require(&b->c, n, "reason")) == NULL)) {
        return CD_EPARSE;
    }
    return cfg_string(&b->c, r, a->reason, sizeof(a->reason));
}

/* set: {key: value, ...} */
static int read_set(struct model_builder *b, const struct ynode *n, struct engine_action *a)
{
    if (cfg_expect_map(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n == 0 || n->n > ENGINE_SET_MAX) {
        return cfg_fail(&b->c, n, "set: expected from 1 to %d attributes", ENGINE_SET_MAX);
    }
    for (const struct ynode *e = n->child; e != NULL; e = e->next) {
        struct engine_kv *kv = &a->set[a->n_set++];
        if (cfg_key_text(&b->c, e, "attribute key", kv->key, sizeof(kv->key)) != 0) {
            return CD_EPARSE;
        }
        if (e->kind != YNODE_SCALAR || e->len >= sizeof(kv->value)) {
            return cfg_fail(&b->c, e, "%s: expected a value of at most %zu characters", e->key,
                            sizeof(kv->value) - 1);
        }
        if (cfg_check_chars(&b->c, e, false) != 0) {
            return CD_EPARSE;
        }
        memcpy(kv->value, e->value, e->len + 1);
    }
    return 0;
}

static int read_action(struct model_builder *b,
                       const struct ynode *rule,
                       struct engine_action *a)
{
    const struct ynode *n = NULL;
    for (const struct ynode *e = rule->child; e != NULL; e = e->next) {
        for (size_t i = 0; action_keys[i] != NULL; i++) {
            if (strcmp(e->key, action_keys[i]) != 0) {
                continue;
            }
            if (n != NULL) {
                return cfg_fail_key(&b->c, e, "more than one action ('%s' and '%s')", n->key,
                                    e->key);
            }
            n = e;
            a->kind = (uint8_t)i;
        }
    }
    if (n == NULL) {
        return cfg_fail(
            &b->c, rule,
            "missing action (expected one of: route, overflow, callback, reject, set)");
    }
    a->queue = -1;
    switch (a->kind) {
        case ENGINE_ACTION_ROUTE:
        case ENGINE_ACTION_CALLBACK:
            return read_route(b, n, a);
        case ENGINE_ACTION_OVERFLOW:
            return model_overflow(b, n, &a->queue, a->target, sizeof(a->target));
        case ENGINE_ACTION_REJECT:
            return read_reject(b, n, a);
        default:
            return read_set(b, n, a);
    }
}

static int read_rule(struct model_builder *b, const struct ynode *n, struct engine_rule *r)
{
    static const char *const keys[] = {"name",     "when",   "route", "overflow",
                                       "callback", "reject", "set",   NULL};
    const struct ynode *name, *when;
    cfg_subject(&b->c, "rules");
    if (cfg_keys(&b->c, n, keys) != 0 || (name = cfg_require(&b->c, n, "name")) == NULL ||
        cfg_name(&b->c, name, r->name, sizeof(r->name)) != 0) {
        return CD_EPARSE;
    }
    int rv = names_add(&b->rules, name->value, (int32_t)(r - b->m->rules), NULL);
    if (rv == CD_EEXISTS) {
        return cfg_fail(&b->c, name, "rule '%s' is defined twice", r->name);
    }
    cfg_subject(&b->c, "rule '%s'", r->name);
    if (rv != 0 || (rv = read_action(b, n, &r->action)) != 0) {
        return rv;
    }
    when = ynode_get(n, "when");
    return when != NULL ? model_read_when(b, r, when) : 0;
}

int model_read_rules(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    b->m->rules = calloc(n->n ? n->n : 1, sizeof(*b->m->rules));
    if (b->m->rules == NULL) {
        return CD_ENOMEM;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        int rv = read_rule(b, i, &b->m->rules[b->m->n_rules++]);
        if (rv != 0) {
            return rv;
        }
    }
    b->c.subject[0] = 0;
    return 0;
}
