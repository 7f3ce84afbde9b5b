/* Away reasons, wrap-up dispositions and the web chat section: how long a chat waits for
 * its customer to come back, and the pre-chat forms (entries) the chat page shows. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

/* away_reasons: [lunch, break, ...] / dispositions: [sale, no-sale, ...]: names, none
 * twice. */
static int read_names(struct model_builder *b,
                      const struct ynode *n,
                      const char *what,
                      char (*list)[ENGINE_VALUE_MAX],
                      uint8_t *count,
                      uint32_t max)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > max) {
        return cfg_fail(&b->c, n, "%s: more than %u names", what, max);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        char *name = list[*count];
        if (cfg_name(&b->c, i, name, ENGINE_VALUE_MAX) != 0) {
            return CD_EPARSE;
        }
        for (uint8_t j = 0; j < *count; j++) {
            if (strcmp(list[j], name) == 0) {
                return cfg_fail(&b->c, i, "%s: '%s' is listed twice", what, name);
            }
        }
        (*count)++;
    }
    return 0;
}

int model_read_away(struct model_builder *b, const struct ynode *n)
{
    return read_names(b, n, "away_reasons", b->m->away, &b->m->n_away, ENGINE_REASONS_MAX);
}

int model_read_dispositions(struct model_builder *b, const struct ynode *n)
{
    return read_names(b, n, "dispositions", b->m->dispositions, &b->m->n_dispositions,
                      ENGINE_DISPOSITIONS_MAX);
}

/* Queues that require a disposition need some to choose from. */
int model_check_dispositions(struct model_builder *b, const struct ynode *queues)
{
    uint32_t i = 0;
    for (const struct ynode *e = queues->child; e != NULL; e = e->next, i++) {
        if (b->m->queues[i].disposition_required && b->m->n_dispositions == 0) {
            cfg_subject(&b->c, "queue '%s'", b->m->queues[i].name);
            return cfg_fail(&b->c, ynode_get(e, "disposition_required"),
                            "disposition_required: the model lists no dispositions "
                            "(add a top-level dispositions: [...])");
        }
    }
    return 0;
}

/* ---- chat ---------------------------------------------------------------------------- */

static int read_type(struct model_builder *b, const struct ynode *n, uint8_t *out)
{
    int t = n->kind == YNODE_SCALAR ? engine_field_type_parse(n->value) : -1;
    if (t < 0) {
        return cfg_fail(&b->c, n,
                        "type: unknown field type '%s' (expected one of: text, email, phone, "
                        "select, textarea)",
                        n->kind == YNODE_SCALAR ? n->value : "a collection");
    }
    *out = (uint8_t)t;
    return 0;
}

static int read_options(struct model_builder *b,
                        const struct ynode *n,
                        struct engine_chat_field *f)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n == 0 || n->n > ENGINE_CHAT_OPTIONS_MAX) {
        return cfg_fail(&b->c, n, "options: expected 1 to %d values", ENGINE_CHAT_OPTIONS_MAX);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        char *v = f->options[f->n_options];
        if (cfg_string(&b->c, i, v, ENGINE_VALUE_MAX) != 0) {
            return CD_EPARSE;
        }
        if (strlen(v) > f->max) {
            return cfg_fail(&b->c, i, "option '%s' is longer than the field's max (%u)", v,
                            f->max);
        }
        for (uint8_t j = 0; j < f->n_options; j++) {
            if (strcmp(f->options[j], v) == 0) {
                return cfg_fail(&b->c, i, "option '%s' is listed twice", v);
            }
        }
        f->n_options++;
    }
    return 0;
}

static int read_field(struct model_builder *b,
                      const struct ynode *n,
                      struct engine_chat_entry *ce,
                      struct engine_chat_field *f)
{
    static const char *const keys[] = {"key",     "label", "type", "required",
                                       "options", "max",   NULL};
    const struct ynode *e, *key, *label, *options = ynode_get(n, "options");
    int64_t max = ENGINE_VALUE_MAX - 1;
    if (cfg_keys(&b->c, n, keys) != 0 || (key = cfg_require(&b->c, n, "key")) == NULL ||
        cfg_name(&b->c, key, f->key, sizeof(f->key)) != 0 ||
        (label = cfg_require(&b->c, n, "label")) == NULL ||
        cfg_string(&b->c, label, f->label, sizeof(f->label)) != 0 ||
        ((e = ynode_get(n, "type")) != NULL && read_type(b, e, &f->type) != 0) ||
        ((e = ynode_get(n, "required")) != NULL && cfg_bool(&b->c, e, &f->required) != 0) ||
        ((e = ynode_get(n, "max")) != NULL &&
         cfg_int(&b->c, e, 1, ENGINE_VALUE_MAX - 1, &max))) {
        return CD_EPARSE;
    }
    for (uint8_t j = 0; ce->fields + j < f; j++) {
        if (strcmp(ce->fields[j].key, f->key) == 0) {
            return cfg_fail(&b->c, key, "field '%s' is given twice", f->key);
        }
    }
    f->max = (uint8_t)max;
    if (f->type == ENGINE_FIELD_SELECT && options == NULL) {
        return cfg_fail(&b->c, n, "field '%s': a select field needs options", f->key);
    }
    if (f->type != ENGINE_FIELD_SELECT && options != NULL) {
        return cfg_fail(&b->c, options, "options: only a select field has options");
    }
    return options != NULL ? read_options(b, options, f) : 0;
}

static int read_fields(struct model_builder *b,
                       const struct ynode *n,
                       struct engine_chat_entry *ce)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > ENGINE_CHAT_FIELDS_MAX) {
        return cfg_fail(&b->c, n, "fields: more than %d fields", ENGINE_CHAT_FIELDS_MAX);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (read_field(b, i, ce, &ce->fields[ce->n_fields]) != 0) {
            return CD_EPARSE;
        }
        ce->n_fields++;
    }
    return 0;
}

static int read_entry(struct model_builder *b,
                      const struct ynode *n,
                      struct engine_chat_entry *ce)
{
    static const char *const keys[] = {"name", "queue", "fields", NULL};
    const struct ynode *name, *e;
    ce->queue = -1;
    if (cfg_keys(&b->c, n, keys) != 0 || (name = cfg_require(&b->c, n, "name")) == NULL ||
        cfg_name(&b->c, name, ce->name, sizeof(ce->name)) != 0) {
        return CD_EPARSE;
    }
    for (const struct engine_chat_entry *o = b->m->chat_entries; o < ce; o++) {
        if (strcmp(o->name, ce->name) == 0) {
            return cfg_fail(&b->c, name, "chat entry '%s' is given twice", ce->name);
        }
    }
    cfg_subject(&b->c, "chat entry '%s'", ce->name);
    if ((e = ynode_get(n, "queue")) != NULL) {
        if (model_queue(b, e, &ce->queue) != 0) {
            return CD_EPARSE;
        }
        if (!(b->m->queues[ce->queue].channels & ENGINE_CH_BIT(ENGINE_CH_CHAT))) {
            return cfg_fail(&b->c, e, "queue: '%s' does not serve the chat channel", e->value);
        }
    }
    e = ynode_get(n, "fields");
    return e != NULL ? read_fields(b, e, ce) : 0;
}

static int read_entries(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > ENGINE_CHAT_ENTRIES_MAX) {
        return cfg_fail(&b->c, n, "entries: more than %d entries", ENGINE_CHAT_ENTRIES_MAX);
    }
    b->m->chat_entries = calloc(n->n ? n->n : 1, sizeof(*b->m->chat_entries));
    if (b->m->chat_entries == NULL) {
        return CD_ENOMEM;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        cfg_subject(&b->c, "chat");
        int rv = read_entry(b, i, &b->m->chat_entries[b->m->n_chat_entries]);
        if (rv != 0) {
            return rv;
        }
        b->m->n_chat_entries++;
    }
    return 0;
}

int model_read_chat(struct model_builder *b, const struct ynode *n)
{
    static const char *const keys[] = {"reconnect_s", "entries", NULL};
    const struct ynode *e;
    cfg_subject(&b->c, "chat");
    if (cfg_keys(&b->c, n, keys) != 0 ||
        ((e = ynode_get(n, "reconnect_s")) != NULL &&
         cfg_duration(&b->c, e, ENGINE_CHAT_RECONNECT_MIN, ENGINE_CHAT_RECONNECT_MAX,
                      &b->m->chat_reconnect_s) != 0)) {
        return CD_EPARSE;
    }
    int rv = (e = ynode_get(n, "entries")) != NULL ? read_entries(b, e) : 0;
    if (rv == 0) {
        b->c.subject[0] = 0;
    }
    return rv;
}
