/* The routing model document: top-level sections, defaults, shared references, runbooks,
 * and the public load/parse/close entry points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define MODEL_VERSION 1
#define DEFAULT_RING_S 20
#define DEFAULT_SL_TARGET_S 20
#define DEFAULT_SL_PERCENT 80
#define DEFAULT_SHORT_ABANDON_S 5

void config_model_init(struct config_model *m)
{
    memset(m, 0, sizeof(*m));
    engine_model_init(&m->model);
}

void config_model_close(struct config_model *m)
{
    engine_model_close(&m->model);
    config_model_init(m);
}

/* ---- References shared by the sections ---------------------------------------------- */

static int zone_fail(struct model_builder *b, const struct ynode *n, int rv, const char *why)
{
    if (rv == CD_ENOMEM) {
        return rv;
    }
    if (rv == CD_ENOTFOUND) {
        return cfg_fail(&b->c, n, "unknown time zone '%s'", n->value);
    }
    if (rv == CD_EINVAL) {
        return cfg_fail(&b->c, n, "invalid time zone name '%s'", n->value);
    }
    return cfg_fail(&b->c, n, "cannot load %s", why);
}

static int grow_zones(struct model_builder *b)
{
    if (b->m->n_zones < b->cap_zones) {
        return 0;
    }
    uint32_t cap = b->cap_zones ? b->cap_zones * 2 : 4;
    struct engine_zone *z = realloc(b->m->zones, cap * sizeof(*z));
    if (z == NULL) {
        return CD_ENOMEM;
    }
    b->m->zones = z;
    b->cap_zones = cap;
    return 0;
}

int model_zone(struct model_builder *b, const struct ynode *n, int32_t *out)
{
    if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
        return cfg_fail(&b->c, n, "expected a time zone name such as Europe/London");
    }
    int32_t idx = names_find(&b->zones, n->value);
    if (idx >= 0) {
        *out = idx;
        return 0;
    }
    char why[512];
    int rv = grow_zones(b);
    if (rv != 0) {
        return rv;
    }
    rv = config_tz_load(n->value, &b->m->zones[b->m->n_zones], why, sizeof(why));
    if (rv != 0) {
        return zone_fail(b, n, rv, why);
    }
    idx = (int32_t)b->m->n_zones++;
    if ((rv = names_add(&b->zones, n->value, idx, NULL)) != 0) {
        return rv;
    }
    *out = idx;
    return 0;
}

int model_skill(struct model_builder *b, const struct ynode *n, uint16_t *out)
{
    int32_t idx = n->kind == YNODE_SCALAR ? names_find(&b->skills, n->value) : -1;
    if (idx < 0) {
        return cfg_fail(&b->c, n, "unknown skill '%s'",
                        n->kind == YNODE_SCALAR ? n->value : "(not a name)");
    }
    *out = (uint16_t)idx;
    return 0;
}

int model_queue(struct model_builder *b, const struct ynode *n, int32_t *out)
{
    int32_t idx = n->kind == YNODE_SCALAR ? names_find(&b->queues, n->value) : -1;
    if (idx < 0) {
        return cfg_fail(&b->c, n, "unknown queue '%s'",
                        n->kind == YNODE_SCALAR ? n->value : "(not a name)");
    }
    *out = idx;
    return 0;
}

int model_skill_levels(struct model_builder *b,
                       const struct ynode *n,
                       uint8_t max,
                       struct engine_skill_level *v,
                       uint8_t *count)
{
    if (cfg_expect_map(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > max) {
        return cfg_fail(&b->c, n, "skills: more than %u skills", max);
    }
    for (const struct ynode *e = n->child; e != NULL; e = e->next) {
        struct ynode key = {
            .kind = YNODE_SCALAR, .value = e->key, .line = e->key_line, .col = e->key_col};
        int64_t level;
        if (model_skill(b, &key, &v[*count].skill) != 0) {
            return CD_EPARSE;
        }
        if (e->kind != YNODE_SCALAR || cfg_int(&b->c, e, 1, ENGINE_PROFICIENCY_MAX, &level)) {
            return cfg_fail(&b->c, e,
                            "skill '%s': expected a proficiency from 1 to %d, got %s%s%s",
                            e->key, ENGINE_PROFICIENCY_MAX, e->kind == YNODE_SCALAR ? "'" : "",
                            e->kind == YNODE_SCALAR ? e->value : "a collection",
                            e->kind == YNODE_SCALAR ? "'" : "");
        }
        v[(*count)++].level = (uint8_t)level;
    }
    return 0;
}

int model_overflow(struct model_builder *b,
                   const struct ynode *n,
                   int32_t *queue,
                   char *target,
                   size_t cap)
{
    static const char *const keys[] = {"queue", "target", NULL};
    if (cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    if (n->n != 1) {
        return cfg_fail(&b->c, n, "overflow: expected exactly one of: queue, target");
    }
    if (strcmp(n->child->key, "queue") == 0) {
        return model_queue(b, n->child, queue);
    }
    *queue = -1;
    return cfg_string(&b->c, n->child, target, cap);
}

/* ---- Sections ------------------------------------------------------------------------ */

static int read_version(struct model_builder *b, const struct ynode *root)
{
    const struct ynode *v = cfg_require(&b->c, root, "version");
    int64_t version;
    if (v == NULL) {
        return CD_EPARSE;
    }
    if (v->kind != YNODE_SCALAR || cfg_int(&b->c, v, MODEL_VERSION, MODEL_VERSION, &version)) {
        return cfg_fail(&b->c, v, "version: unsupported schema version %s%s%s (expected %d)",
                        v->kind == YNODE_SCALAR ? "'" : "",
                        v->kind == YNODE_SCALAR ? v->value : "(a collection)",
                        v->kind == YNODE_SCALAR ? "'" : "", MODEL_VERSION);
    }
    return 0;
}

static int read_skills(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > UINT16_MAX) {
        return cfg_fail(&b->c, n, "skills: more than %d skills", UINT16_MAX);
    }
    b->m->skills = calloc(n->n ? n->n : 1, sizeof(*b->m->skills));
    if (b->m->skills == NULL) {
        return CD_ENOMEM;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        struct engine_name *s = &b->m->skills[b->m->n_skills];
        if (cfg_name(&b->c, i, s->s, sizeof(s->s)) != 0) {
            return CD_EPARSE;
        }
        int rv = names_add(&b->skills, i->value, (int32_t)b->m->n_skills, NULL);
        if (rv == CD_EEXISTS) {
            return cfg_fail(&b->c, i, "skill '%s' is listed twice", i->value);
        }
        if (rv != 0) {
            return rv;
        }
        b->m->n_skills++;
    }
    return 0;
}

/* personal: [phone, email, ...]: attribute keys whose values are personal data. */
static int read_personal(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > ENGINE_PERSONAL_MAX) {
        return cfg_fail(&b->c, n, "personal: more than %d keys", ENGINE_PERSONAL_MAX);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        char *key = b->m->personal[b->m->n_personal];
        if (cfg_name(&b->c, i, key, ENGINE_KEY_MAX) != 0) {
            return CD_EPARSE;
        }
        if (engine_model_personal(b->m, key)) {
            return cfg_fail(&b->c, i, "personal: key '%s' is listed twice", key);
        }
        b->m->n_personal++;
    }
    return 0;
}

static int read_blocks(struct model_builder *b, const struct ynode *n)
{
    static const char *const keys[] = {"voice", "email", "sms", "chat", NULL};
    if (cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    memset(b->m->blocks, 0, sizeof(b->m->blocks));
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        const struct ynode *e = ynode_get(n, keys[ch]);
        if (e == NULL || (e->kind == YNODE_SEQ && e->n == 0)) {
            continue;
        }
        if (cfg_channels(&b->c, e, &b->m->blocks[ch]) != 0) {
            return CD_EPARSE;
        }
    }
    return 0;
}

static int read_defaults(struct model_builder *b, const struct ynode *n)
{
    static const char *const keys[] = {"ring_timeout", "wrapup",   "max_wait", "service_level",
                                       "thresholds",   "capacity", "blocks",   "zone",
                                       "rna_reason",   NULL};
    const struct ynode *e;
    cfg_subject(&b->c, "defaults");
    if (cfg_keys(&b->c, n, keys) != 0 ||
        ((e = ynode_get(n, "ring_timeout")) &&
         cfg_duration(&b->c, e, 1, 600, &b->def.ring_s)) ||
        ((e = ynode_get(n, "wrapup")) && cfg_duration(&b->c, e, 0, 3600, &b->def.wrapup_s)) ||
        ((e = ynode_get(n, "max_wait")) &&
         cfg_duration(&b->c, e, 0, 30 * 86400, &b->def.max_wait_s)) ||
        ((e = ynode_get(n, "service_level")) && model_read_service_level(b, e, &b->def.sl)) ||
        ((e = ynode_get(n, "thresholds")) && model_read_thresholds(b, e, &b->def.thresholds)) ||
        ((e = ynode_get(n, "capacity")) && model_read_capacity(b, e, b->def.capacity)) ||
        ((e = ynode_get(n, "blocks")) && read_blocks(b, e)) ||
        ((e = ynode_get(n, "rna_reason")) &&
         cfg_string(&b->c, e, b->m->rna_reason, sizeof(b->m->rna_reason)))) {
        return CD_EPARSE;
    }
    /* Reports cut days in this zone: it is loaded even when nothing else refers to it. */
    if ((e = ynode_get(n, "zone")) != NULL && model_zone(b, e, &b->m->report_zone) != 0) {
        return CD_EPARSE;
    }
    b->def.zone = e;
    b->c.subject[0] = 0;
    return 0;
}

/* Sections in dependency order: what a section refers to is read before it. */
static int read_sections(struct model_builder *b, const struct ynode *root)
{
    static const char *const keys[] = {
        "version",  "skills",   "defaults",     "hours",        "queues", "agents",     "rules",
        "runbooks", "personal", "away_reasons", "dispositions", "chat",   "continuity", NULL};
    const struct ynode *e, *queues;
    int rv;
    if (cfg_keys(&b->c, root, keys) != 0 || read_version(b, root) != 0 ||
        (queues = cfg_require(&b->c, root, "queues")) == NULL) {
        return CD_EPARSE;
    }
    if (((e = ynode_get(root, "skills")) && (rv = read_skills(b, e))) ||
        ((e = ynode_get(root, "defaults")) && (rv = read_defaults(b, e))) ||
        ((e = ynode_get(root, "hours")) && (rv = model_read_hours(b, e))) ||
        (rv = model_read_queues(b, queues)) || (rv = model_check_overflow_loops(b, queues)) ||
        ((e = ynode_get(root, "agents")) && (rv = model_read_agents(b, e))) ||
        ((e = ynode_get(root, "rules")) && (rv = model_read_rules(b, e))) ||
        ((e = ynode_get(root, "runbooks")) && (rv = model_read_runbooks(b, e))) ||
        ((e = ynode_get(root, "personal")) && (rv = read_personal(b, e))) ||
        ((e = ynode_get(root, "away_reasons")) && (rv = model_read_away(b, e))) ||
        ((e = ynode_get(root, "dispositions")) && (rv = model_read_dispositions(b, e))) ||
        (rv = model_check_dispositions(b, queues)) ||
        ((e = ynode_get(root, "chat")) && (rv = model_read_chat(b, e))) ||
        ((e = ynode_get(root, "continuity")) && (rv = model_read_continuity(b, e)))) {
        return rv;
    }
    return 0;
}

static void builder_init(struct model_builder *b, struct config_model *out)
{
    memset(b, 0, sizeof(*b));
    b->out = out;
    b->m = &out->model;
    names_init(&b->skills);
    names_init(&b->zones);
    names_init(&b->hours);
    names_init(&b->queues);
    names_init(&b->agents);
    names_init(&b->rules);
    b->def.ring_s = DEFAULT_RING_S;
    b->def.sl.target_s = DEFAULT_SL_TARGET_S;
    b->def.sl.percent = DEFAULT_SL_PERCENT;
    b->def.sl.formula = ENGINE_SL_ANSWERED_ABANDONED;
    b->def.sl.short_abandon_s = DEFAULT_SHORT_ABANDON_S;
    memset(b->def.capacity, 1, sizeof(b->def.capacity));
    /* While on a call, an agent is offered nothing else. */
    b->m->blocks[ENGINE_CH_VOICE] = ENGINE_CH_ALL & ~ENGINE_CH_BIT(ENGINE_CH_VOICE);
}

static void builder_close(struct model_builder *b)
{
    names_close(&b->skills);
    names_close(&b->zones);
    names_close(&b->hours);
    names_close(&b->queues);
    names_close(&b->agents);
    names_close(&b->rules);
}

static int build(struct cfg_ctx *c, const struct ynode *root, struct config_model *m)
{
    struct model_builder b;
    builder_init(&b, m);
    b.c = *c;
    int rv = root == NULL ? cfg_fail_file(c, "empty document") : read_sections(&b, root);
    builder_close(&b);
    if (rv != 0) {
        return rv;
    }
    char why[256];
    if (engine_model_validate(&m->model, why, sizeof(why)) != 0) {
        return cfg_fail_file(c, "model rejected by the engine: %s", why);
    }
    return 0;
}

int config_model_parse(const char *name_for_errors,
                       const char *text,
                       size_t len,
                       struct config_model *out,
                       char *err,
                       size_t errlen)
{
    struct cfg_ctx c = {.file = name_for_errors, .err = err, .errlen = errlen};
    struct ydoc doc;
    static const struct ydoc_limits lim = {CONFIG_MODEL_BYTES_MAX, CONFIG_MODEL_NODES_MAX,
                                           CONFIG_MODEL_DEPTH_MAX};
    int rv = ydoc_parse(name_for_errors, text, len, &lim, &doc, err, errlen);
    if (rv != 0) {
        return rv;
    }
    struct config_model m;
    config_model_init(&m);
    rv = build(&c, doc.root, &m);
    ydoc_free(&doc);
    if (rv != 0) {
        config_model_close(&m);
        return rv;
    }
    *out = m;
    return 0;
}

int config_model_load(const char *path, struct config_model *out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rv = cfg_load_text(path, CONFIG_MODEL_BYTES_MAX, &text, &len, err, errlen);
    if (rv != 0) {
        return rv;
    }
    rv = config_model_parse(path, text, len, out, err, errlen);
    free(text);
    return rv;
}
