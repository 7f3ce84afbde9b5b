/* Conditions of routing rules (the `when` of a rule). */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define RULE_CONDS_MAX 64
#define EWT_MAX (30u * 86400)

struct rule_build
{
    struct model_builder *b;
    struct engine_rule *r;
    uint32_t cap;
};

static const char *const num_ops[] = {"eq", "ne", "lt", "le", "gt", "ge", NULL};
static const uint8_t num_op_codes[] = {ENGINE_OP_EQ, ENGINE_OP_NE, ENGINE_OP_LT,
                                       ENGINE_OP_LE, ENGINE_OP_GT, ENGINE_OP_GE};

static int new_cond(struct rule_build *rb,
                    const struct ynode *at,
                    struct engine_condition **out)
{
    struct engine_rule *r = rb->r;
    if (r->n_conds == RULE_CONDS_MAX) {
        return cfg_fail(&rb->b->c, at, "more than %d conditions", RULE_CONDS_MAX);
    }
    if (r->n_conds == rb->cap) {
        uint32_t cap = rb->cap ? rb->cap * 2 : 4;
        struct engine_condition *v = realloc(r->conds, cap * sizeof(*v));
        if (v == NULL) {
            return CD_ENOMEM;
        }
        r->conds = v;
        rb->cap = cap;
    }
    struct engine_condition *k = &r->conds[r->n_conds++];
    memset(k, 0, sizeof(*k));
    k->zone = -1;
    k->queue = -1;
    *out = k;
    return 0;
}

static int add_value(struct rule_build *rb, const struct ynode *v, struct engine_condition *k)
{
    if (k->n_values == ENGINE_COND_VALUES) {
        return cfg_fail(&rb->b->c, v, "more than %d values", ENGINE_COND_VALUES);
    }
    if (v->kind != YNODE_SCALAR) {
        return cfg_fail(&rb->b->c, v, "expected a value, got a collection");
    }
    return cfg_string(&rb->b->c, v, k->values[k->n_values++], ENGINE_VALUE_MAX);
}

/* One value or a list of values. */
static int add_values(struct rule_build *rb, const struct ynode *n, struct engine_condition *k)
{
    if (n->kind != YNODE_SEQ) {
        return add_value(rb, n, k);
    }
    if (n->n == 0) {
        return cfg_fail(&rb->b->c, n, "%s: expected at least one value", n->key ? n->key : "");
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (add_value(rb, i, k) != 0) {
            return CD_EPARSE;
        }
    }
    return 0;
}

static int attr_op(struct rule_build *rb, const struct ynode *e, struct engine_condition *k)
{
    static const struct
    {
        const char *name;
        uint8_t op;
        bool list;
    } ops[] = {{"eq", ENGINE_OP_EQ, false},        {"ne", ENGINE_OP_NE, false},
               {"in", ENGINE_OP_IN, true},         {"not_in", ENGINE_OP_NOT_IN, true},
               {"prefix", ENGINE_OP_PREFIX, true}, {"exists", ENGINE_OP_EXISTS, false}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(e->key, ops[i].name) != 0) {
            continue;
        }
        k->op = ops[i].op;
        if (k->op == ENGINE_OP_EXISTS) {
            bool yes;
            if (cfg_bool(&rb->b->c, e, &yes) != 0) {
                return CD_EPARSE;
            }
            return yes ? 0 : cfg_fail(&rb->b->c, e, "exists: only 'exists: true' is supported");
        }
        return ops[i].list ? add_values(rb, e, k) : add_value(rb, e, k);
    }
    return cfg_fail_key(
        &rb->b->c, e, "unknown key '%s' (expected one of: eq, ne, in, not_in, prefix, exists)",
        e->key);
}

/* attribute: {key: value | [values] | {op: value, ...}} */
static int read_attribute(struct rule_build *rb, const struct ynode *n)
{
    if (cfg_expect_map(&rb->b->c, n) != 0) {
        return CD_EPARSE;
    }
    for (const struct ynode *e = n->child; e != NULL; e = e->next) {
        const struct ynode *ops = e->kind == YNODE_MAP ? e->child : e;
        if (e->kind == YNODE_MAP && e->n == 0) {
            return cfg_fail(&rb->b->c, e, "%s: expected a value or an operator", e->key);
        }
        for (const struct ynode *o = ops; o != NULL;
             o = e->kind == YNODE_MAP ? o->next : NULL) {
            struct engine_condition *k;
            int rv = new_cond(rb, o, &k);
            if (rv != 0) {
                return rv;
            }
            k->kind = ENGINE_COND_ATTR;
            if (cfg_key_text(&rb->b->c, e, "attribute key", k->key, sizeof(k->key)) != 0) {
                return CD_EPARSE;
            }
            k->op = e->kind == YNODE_SEQ ? ENGINE_OP_IN : ENGINE_OP_EQ;
            rv = e->kind == YNODE_MAP ? attr_op(rb, o, k) : add_values(rb, e, k);
            if (rv != 0) {
                return rv;
            }
        }
    }
    return 0;
}

/* location: GB | [GB, IE] | {in: [...]} | {not_in: [...]} */
static int read_location(struct rule_build *rb, const struct ynode *n)
{
    static const char *const keys[] = {"in", "not_in", NULL};
    struct engine_condition *k;
    int rv = new_cond(rb, n, &k);
    if (rv != 0) {
        return rv;
    }
    k->kind = ENGINE_COND_LOCATION;
    k->op = ENGINE_OP_IN;
    if (n->kind != YNODE_MAP) {
        return add_values(rb, n, k);
    }
    if (cfg_keys(&rb->b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    if (n->n != 1) {
        return cfg_fail(&rb->b->c, n, "location: expected exactly one of: in, not_in");
    }
    k->op = strcmp(n->child->key, "in") == 0 ? ENGINE_OP_IN : ENGINE_OP_NOT_IN;
    return add_values(rb, n->child, k);
}

static int time_zone(struct rule_build *rb, const struct ynode *n, int32_t *zone)
{
    const struct ynode *z = n->kind == YNODE_MAP ? ynode_get(n, "zone") : NULL;
    if (z == NULL) {
        z = rb->b->def.zone;
    }
    *zone = -1;
    return z != NULL ? model_zone(rb->b, z, zone) : 0;
}

static int read_time_of_day(struct rule_build *rb, const struct ynode *n)
{
    static const char *const keys[] = {"from", "to", "zone", NULL};
    const struct ynode *from, *to;
    struct engine_condition *k;
    int rv = new_cond(rb, n, &k);
    if (rv != 0) {
        return rv;
    }
    k->kind = ENGINE_COND_TIME_OF_DAY;
    if (cfg_keys(&rb->b->c, n, keys) != 0 ||
        (from = cfg_require(&rb->b->c, n, "from")) == NULL ||
        (to = cfg_require(&rb->b->c, n, "to")) == NULL ||
        cfg_clock(&rb->b->c, from, false, &k->from_min) != 0 ||
        cfg_clock(&rb->b->c, to, true, &k->to_min) != 0) {
        return CD_EPARSE;
    }
    if (k->from_min == k->to_min) {
        return cfg_fail(&rb->b->c, to, "to: must differ from 'from'");
    }
    return time_zone(rb, n, &k->zone);
}

static int day_bits(const struct ynode *n, uint8_t *bits)
{
    static const char *const names[] = {
        "mon",    "tue",     "wed",       "thu",      "fri",    "sat",      "sun",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    if (n->kind != YNODE_SCALAR) {
        return -1;
    }
    for (int i = 0; i < 14; i++) {
        if (strcmp(n->value, names[i]) == 0) {
            *bits |= (uint8_t)(1u << (i % 7));
            return 0;
        }
    }
    if (strcmp(n->value, "weekdays") == 0 || strcmp(n->value, "weekend") == 0) {
        *bits |= n->value[4] == 'd' ? 0x1f : 0x60;
        return 0;
    }
    return -1;
}

/* day_of_week: sat | [sat, sun] | weekdays | {days: [...], zone: Z} */
static int read_day_of_week(struct rule_build *rb, const struct ynode *n)
{
    static const char *const keys[] = {"days", "zone", NULL};
    const struct ynode *days = n;
    struct engine_condition *k;
    int rv = new_cond(rb, n, &k);
    if (rv != 0) {
        return rv;
    }
    k->kind = ENGINE_COND_DAY_OF_WEEK;
    if (n->kind == YNODE_MAP && (cfg_keys(&rb->b->c, n, keys) != 0 ||
                                 (days = cfg_require(&rb->b->c, n, "days")) == NULL)) {
        return CD_EPARSE;
    }
    const struct ynode *first = days->kind == YNODE_SEQ ? days->child : days;
    for (const struct ynode *d = first; d != NULL;
         d = days->kind == YNODE_SEQ ? d->next : NULL) {
        if (day_bits(d, &k->days) != 0) {
            return cfg_fail(&rb->b->c, d,
                            "day_of_week: expected a day (mon ... sun, monday ... sunday, "
                            "weekdays, weekend), got '%s'",
                            d->kind == YNODE_SCALAR ? d->value : "a collection");
        }
    }
    if (k->days == 0) {
        return cfg_fail(&rb->b->c, days, "day_of_week: expected at least one day");
    }
    return time_zone(rb, n, &k->zone);
}

static int cond_queue(struct rule_build *rb, const struct ynode *n, struct engine_condition *k)
{
    const struct ynode *q = n->kind == YNODE_MAP ? ynode_get(n, "queue") : NULL;
    if (q != NULL) {
        return model_queue(rb->b, q, &k->queue);
    }
    if (rb->r->action.queue < 0) {
        return cfg_fail(&rb->b->c, n,
                        "%s: needs a 'queue' because the rule's action names no queue", n->key);
    }
    return 0;
}

/* {op: number, ...} plus an optional queue: one condition per operator. */
static int read_numeric(struct rule_build *rb,
                        const struct ynode *n,
                        uint8_t kind,
                        int64_t lo,
                        int64_t hi)
{
    bool queue_kind = kind != ENGINE_COND_PRIORITY;
    if (cfg_expect_map(&rb->b->c, n) != 0) {
        return CD_EPARSE;
    }
    uint32_t ops = 0;
    for (const struct ynode *e = n->child; e != NULL; e = e->next) {
        size_t i = 0;
        while (num_ops[i] != NULL && strcmp(num_ops[i], e->key) != 0) {
            i++;
        }
        if (queue_kind && strcmp(e->key, "queue") == 0) {
            continue;
        }
        if (num_ops[i] == NULL) {
            return cfg_fail_key(&rb->b->c, e,
                                "unknown key '%s' (expected one of: %seq, ne, lt, le, gt, ge)",
                                e->key, queue_kind ? "queue, " : "");
        }
        struct engine_condition *k;
        uint32_t secs;
        int rv = new_cond(rb, e, &k);
        if (rv != 0) {
            return rv;
        }
        k->kind = kind;
        k->op = num_op_codes[i];
        if (kind == ENGINE_COND_EWT) {
            rv = cfg_duration(&rb->b->c, e, 0, EWT_MAX, &secs);
            k->number = secs;
        } else {
            rv = cfg_int(&rb->b->c, e, lo, hi, &k->number);
        }
        if (rv != 0 || (queue_kind && (rv = cond_queue(rb, n, k)) != 0)) {
            return rv;
        }
        ops++;
    }
    return ops ? 0
               : cfg_fail(&rb->b->c, n, "%s: expected an operator (eq, ne, lt, le, gt, ge)",
                          n->key);
}

/* queue_open: true | false | {queue: q, is: true|false} */
static int read_queue_open(struct rule_build *rb, const struct ynode *n)
{
    static const char *const keys[] = {"queue", "is", NULL};
    const struct ynode *is = n;
    struct engine_condition *k;
    bool open;
    int rv = new_cond(rb, n, &k);
    if (rv != 0) {
        return rv;
    }
    k->kind = ENGINE_COND_QUEUE_OPEN;
    k->op = ENGINE_OP_EQ;
    if (n->kind == YNODE_MAP &&
        (cfg_keys(&rb->b->c, n, keys) != 0 || (is = cfg_require(&rb->b->c, n, "is")) == NULL)) {
        return CD_EPARSE;
    }
    if (cfg_bool(&rb->b->c, is, &open) != 0 || cond_queue(rb, n, k) != 0) {
        return CD_EPARSE;
    }
    k->number = open;
    return 0;
}

static int read_channel(struct rule_build *rb, const struct ynode *n)
{
    struct engine_condition *k;
    int rv = new_cond(rb, n, &k);
    if (rv != 0) {
        return rv;
    }
    k->kind = ENGINE_COND_CHANNEL;
    k->op = ENGINE_OP_IN;
    return cfg_channels(&rb->b->c, n, &k->channels);
}

static int read_cond(struct rule_build *rb, const struct ynode *e)
{
    const char *key = e->key;
    if (strcmp(key, "channel") == 0) {
        return read_channel(rb, e);
    }
    if (strcmp(key, "attribute") == 0) {
        return read_attribute(rb, e);
    }
    if (strcmp(key, "location") == 0) {
        return read_location(rb, e);
    }
    if (strcmp(key, "time_of_day") == 0) {
        return read_time_of_day(rb, e);
    }
    if (strcmp(key, "day_of_week") == 0) {
        return read_day_of_week(rb, e);
    }
    if (strcmp(key, "queue_open") == 0) {
        return read_queue_open(rb, e);
    }
    uint8_t kind = strcmp(key, "ewt") == 0          ? ENGINE_COND_EWT
                   : strcmp(key, "queue_size") == 0 ? ENGINE_COND_QUEUE_SIZE
                   : strcmp(key, "priority") == 0   ? ENGINE_COND_PRIORITY
                                                    : ENGINE_COND_AGENTS_AVAILABLE;
    int64_t lo = kind == ENGINE_COND_PRIORITY ? INT16_MIN : 0;
    int64_t hi = kind == ENGINE_COND_PRIORITY ? INT16_MAX : UINT32_MAX;
    return read_numeric(rb, e, kind, lo, hi);
}

int model_read_when(struct model_builder *b, struct engine_rule *r, const struct ynode *n)
{
    struct rule_build rbs = {.b = b, .r = r};
    struct rule_build *rb = &rbs;
    static const char *const keys[] = {
        "channel",    "attribute",        "location",   "time_of_day", "day_of_week", "ewt",
        "queue_size", "agents_available", "queue_open", "priority",    NULL};
    const struct ynode *first = n->kind == YNODE_SEQ ? n->child : n;
    for (const struct ynode *m = first; m != NULL; m = n->kind == YNODE_SEQ ? m->next : NULL) {
        if (cfg_keys(&rb->b->c, m, keys) != 0) {
            return CD_EPARSE;
        }
        for (const struct ynode *e = m->child; e != NULL; e = e->next) {
            int rv = read_cond(rb, e);
            if (rv != 0) {
                return rv;
            }
        }
    }
    return 0;
}
