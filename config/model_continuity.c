/* The continuity section of the routing model (docs/config.md, "continuity"): fault rules
 * that come before the built-in fault policy, and the escalation paths a fault's
 * notifications follow (docs/continuity.md).
 *
 *   continuity:
 *     faults:
 *       - { signal: "member.*.reachable", when: bad, severity: major, kind: member_down }
 *     escalation:
 *       - name: platform
 *         severities: [major, minor]     # default: both
 *         components: ["node:*"]         # default: every component
 *         levels:
 *           - { after: 0s, notify: [ { webhook: "http://10.0.0.5:9000/page" } ] }
 *           - { after: 10m, notify: [ { email: "head-of-ops@example.com" } ] }
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define AFTER_MAX (7u * 86400)

static int read_rule(struct model_builder *b,
                     const struct ynode *n,
                     struct engine_fault_rule_def *f)
{
    static const char *const keys[] = {"signal", "when", "severity", "kind", NULL};
    const struct ynode *sig, *when, *sev, *kind;
    if (cfg_keys(&b->c, n, keys) != 0 || (sig = cfg_require(&b->c, n, "signal")) == NULL ||
        (when = cfg_require(&b->c, n, "when")) == NULL ||
        (sev = cfg_require(&b->c, n, "severity")) == NULL ||
        cfg_string(&b->c, sig, f->signal, sizeof(f->signal)) != 0) {
        return CD_EPARSE;
    }
    if (!engine_signal_pattern_valid(f->signal)) {
        return cfg_fail(&b->c, sig,
                        "signal: dotted names, '*' for any one part (member.*.reachable)");
    }
    int state = when->kind == YNODE_SCALAR ? engine_signal_state_parse(when->value) : -1;
    if (state != ENGINE_SIGNAL_WARN && state != ENGINE_SIGNAL_BAD) {
        return cfg_fail(&b->c, when, "when: expected warn or bad");
    }
    f->state = (uint8_t)state;
    if (sev->kind == YNODE_SCALAR && strcmp(sev->value, "major") == 0) {
        f->severity = ENGINE_SEVERITY_MAJOR;
    } else if (sev->kind == YNODE_SCALAR && strcmp(sev->value, "minor") == 0) {
        f->severity = ENGINE_SEVERITY_MINOR;
    } else {
        return cfg_fail(&b->c, sev, "severity: expected major or minor");
    }
    if ((kind = ynode_get(n, "kind")) != NULL &&
        cfg_name(&b->c, kind, f->kind, sizeof(f->kind)) != 0) {
        return CD_EPARSE;
    }
    return 0;
}

static int read_to(struct model_builder *b, const struct ynode *n, struct engine_notify_to *to)
{
    static const char *const keys[] = {"webhook", "email", NULL};
    if (cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    if (n->n != 1) {
        return cfg_fail(&b->c, n, "expected one of webhook: URL or email: ADDRESS");
    }
    const struct ynode *v = n->child;
    to->kind = strcmp(v->key, "email") == 0 ? ENGINE_NOTIFY_EMAIL : ENGINE_NOTIFY_WEBHOOK;
    if (cfg_string(&b->c, v, to->address, sizeof(to->address)) != 0) {
        return CD_EPARSE;
    }
    bool ok = engine_visible_valid(to->address, sizeof(to->address));
    if (to->kind == ENGINE_NOTIFY_WEBHOOK) {
        ok = ok && strncmp(to->address, "http://", 7) == 0 && to->address[7] != 0;
    } else {
        const char *at = strchr(to->address, '@');
        ok = ok && at != NULL && at != to->address && at[1] != 0 && strchr(at + 1, '@') == NULL;
    }
    if (!ok) {
        return cfg_fail(&b->c, v,
                        to->kind == ENGINE_NOTIFY_WEBHOOK
                            ? "webhook: expected http://ADDRESS:PORT/PATH"
                            : "email: expected an address such as oncall@example.com");
    }
    return 0;
}

static int read_level(struct model_builder *b,
                      const struct ynode *n,
                      struct engine_escalation_level *l)
{
    static const char *const keys[] = {"after", "notify", NULL};
    const struct ynode *after, *notify;
    if (cfg_keys(&b->c, n, keys) != 0 || (after = cfg_require(&b->c, n, "after")) == NULL ||
        (notify = cfg_require(&b->c, n, "notify")) == NULL ||
        cfg_duration(&b->c, after, 0, AFTER_MAX, &l->after_s) != 0 ||
        cfg_expect_seq(&b->c, notify) != 0) {
        return CD_EPARSE;
    }
    if (notify->n == 0 || notify->n > ENGINE_NOTIFY_MAX) {
        return cfg_fail(&b->c, notify, "notify: 1 to %d addresses", ENGINE_NOTIFY_MAX);
    }
    for (const struct ynode *i = notify->child; i != NULL; i = i->next) {
        if (cfg_expect_map(&b->c, i) != 0 || read_to(b, i, &l->to[l->n_to]) != 0) {
            return CD_EPARSE;
        }
        l->n_to++;
    }
    return 0;
}

static int read_severities(struct model_builder *b, const struct ynode *n, uint8_t *out)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    *out = 0;
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (i->kind == YNODE_SCALAR && strcmp(i->value, "major") == 0) {
            *out |= 1u << ENGINE_SEVERITY_MAJOR;
        } else if (i->kind == YNODE_SCALAR && strcmp(i->value, "minor") == 0) {
            *out |= 1u << ENGINE_SEVERITY_MINOR;
        } else {
            return cfg_fail(&b->c, i, "severities: expected major or minor");
        }
    }
    return *out != 0 ? 0 : cfg_fail(&b->c, n, "severities: at least one");
}

static int read_path(struct model_builder *b,
                     const struct ynode *n,
                     struct engine_escalation_path *p)
{
    static const char *const keys[] = {"name", "severities", "components", "levels", NULL};
    const struct ynode *name, *levels, *e;
    if (cfg_keys(&b->c, n, keys) != 0 || (name = cfg_require(&b->c, n, "name")) == NULL ||
        (levels = cfg_require(&b->c, n, "levels")) == NULL ||
        cfg_name(&b->c, name, p->name, sizeof(p->name)) != 0) {
        return CD_EPARSE;
    }
    for (const struct engine_escalation_path *o = b->m->escalations; o < p; o++) {
        if (strcmp(o->name, p->name) == 0) {
            return cfg_fail(&b->c, name, "escalation '%s' is given twice", p->name);
        }
    }
    cfg_subject(&b->c, "escalation '%s'", p->name);
    p->severities = (1u << ENGINE_SEVERITY_MINOR) | (1u << ENGINE_SEVERITY_MAJOR);
    if ((e = ynode_get(n, "severities")) != NULL &&
        read_severities(b, e, &p->severities) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "components")) != NULL) {
        if (cfg_expect_seq(&b->c, e) != 0) {
            return CD_EPARSE;
        }
        if (e->n > ENGINE_COMPONENTS_MAX) {
            return cfg_fail(&b->c, e, "components: at most %d patterns", ENGINE_COMPONENTS_MAX);
        }
        for (const struct ynode *i = e->child; i != NULL; i = i->next) {
            char *dst = p->components[p->n_components];
            if (cfg_string(&b->c, i, dst, sizeof(p->components[0])) != 0) {
                return CD_EPARSE;
            }
            if (!engine_visible_valid(dst, sizeof(p->components[0]))) {
                return cfg_fail(&b->c, i, "components: a pattern such as node:* or cluster");
            }
            p->n_components++;
        }
    }
    if (cfg_expect_seq(&b->c, levels) != 0) {
        return CD_EPARSE;
    }
    if (levels->n == 0 || levels->n > ENGINE_LEVELS_MAX) {
        return cfg_fail(&b->c, levels, "levels: 1 to %d", ENGINE_LEVELS_MAX);
    }
    for (const struct ynode *i = levels->child; i != NULL; i = i->next) {
        struct engine_escalation_level *l = &p->levels[p->n_levels];
        if (cfg_expect_map(&b->c, i) != 0 || read_level(b, i, l) != 0) {
            return CD_EPARSE;
        }
        if (p->n_levels > 0 && l->after_s <= p->levels[p->n_levels - 1].after_s) {
            return cfg_fail(&b->c, i, "after: each level comes later than the one before");
        }
        p->n_levels++;
    }
    return 0;
}

int model_read_continuity(struct model_builder *b, const struct ynode *n)
{
    static const char *const keys[] = {"faults", "escalation", NULL};
    const struct ynode *faults, *paths;
    cfg_subject(&b->c, "%s", ""); /* the section before may have left its own */
    if (cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    if ((faults = ynode_get(n, "faults")) != NULL) {
        if (cfg_expect_seq(&b->c, faults) != 0) {
            return CD_EPARSE;
        }
        if (faults->n > ENGINE_FAULT_RULES_MAX) {
            return cfg_fail(&b->c, faults, "faults: at most %d rules", ENGINE_FAULT_RULES_MAX);
        }
        b->m->fault_rules = calloc(faults->n ? faults->n : 1, sizeof(*b->m->fault_rules));
        if (b->m->fault_rules == NULL) {
            return CD_ENOMEM;
        }
        for (const struct ynode *i = faults->child; i != NULL; i = i->next) {
            cfg_subject(&b->c, "continuity fault rule %u", b->m->n_fault_rules + 1);
            if (cfg_expect_map(&b->c, i) != 0 ||
                read_rule(b, i, &b->m->fault_rules[b->m->n_fault_rules]) != 0) {
                return CD_EPARSE;
            }
            b->m->n_fault_rules++;
        }
    }
    if ((paths = ynode_get(n, "escalation")) != NULL) {
        cfg_subject(&b->c, "%s", ""); /* the last fault rule's is done with */
        if (cfg_expect_seq(&b->c, paths) != 0) {
            return CD_EPARSE;
        }
        if (paths->n > ENGINE_ESCALATIONS_MAX) {
            return cfg_fail(&b->c, paths, "escalation: at most %d paths",
                            ENGINE_ESCALATIONS_MAX);
        }
        b->m->escalations = calloc(paths->n ? paths->n : 1, sizeof(*b->m->escalations));
        if (b->m->escalations == NULL) {
            return CD_ENOMEM;
        }
        for (const struct ynode *i = paths->child; i != NULL; i = i->next) {
            cfg_subject(&b->c, "continuity");
            if (cfg_expect_map(&b->c, i) != 0 ||
                read_path(b, i, &b->m->escalations[b->m->n_escalations]) != 0) {
                return CD_EPARSE;
            }
            b->m->n_escalations++;
        }
    }
    return 0;
}
