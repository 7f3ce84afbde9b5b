/* The runbooks section of the routing model (docs/config.md, "runbooks"; what they do:
 * docs/continuity.md, "Runbooks"): a trigger on the cluster's health signals and the
 * actions it sets off.
 *
 *   runbooks:
 *     - name: sales-voice-collapse
 *       trigger: { signal: queue.sales-voice.service_level, when: bad, for: 10m,
 *                  clear_for: 5m }         # or { fault: quorum_lost, severity: major }
 *       actions:
 *         - model: contingency            # a saved model (contactctl model save)
 *         - pause: sales-chat
 *         - fault: { kind: service_collapse, severity: major }
 *       approval: false                   # default: acts at once
 *       revert: true                      # default: undone when the trigger clears
 *       max_per_hour: 2                   # default 4
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define FOR_MAX (7u * 86400)
#define CLEAR_DEFAULT_S 60
#define PER_HOUR_DEFAULT 4

static int read_severity(struct model_builder *b, const struct ynode *n, uint8_t *out)
{
    if (n->kind == YNODE_SCALAR && strcmp(n->value, "major") == 0) {
        *out = ENGINE_SEVERITY_MAJOR;
    } else if (n->kind == YNODE_SCALAR && strcmp(n->value, "minor") == 0) {
        *out = ENGINE_SEVERITY_MINOR;
    } else {
        return cfg_fail(&b->c, n, "severity: expected major or minor");
    }
    return 0;
}

/* trigger: { fault: KIND-PATTERN, severity: minor|major (default minor: any) } */
static int read_fault_trigger(struct model_builder *b,
                              const struct ynode *n,
                              struct engine_runbook_def *d)
{
    const struct ynode *kind = ynode_get(n, "fault"), *sev;
    if (ynode_get(n, "signal") != NULL || ynode_get(n, "when") != NULL) {
        return cfg_fail(&b->c, n,
                        "trigger: on a signal (signal, when) or a fault (fault, "
                        "severity), not both");
    }
    d->on = ENGINE_ON_FAULT;
    d->severity = ENGINE_SEVERITY_MINOR;
    if (cfg_string(&b->c, kind, d->signal, sizeof(d->signal)) != 0) {
        return CD_EPARSE;
    }
    char name[ENGINE_NAME_MAX];
    snprintf(name, sizeof(name), "%s", d->signal);
    for (char *c = name; *c != 0; c++) {
        *c = *c == '*' ? 'x' : *c;
    }
    if (!engine_name_valid(name, sizeof(name))) {
        return cfg_fail(&b->c, kind,
                        "fault: a fault kind, '*' for any run of characters "
                        "(quorum_lost, member_*)");
    }
    if ((sev = ynode_get(n, "severity")) != NULL && read_severity(b, sev, &d->severity) != 0) {
        return CD_EPARSE;
    }
    return 0;
}

static int read_trigger(struct model_builder *b,
                        const struct ynode *n,
                        struct engine_runbook_def *d)
{
    static const char *const keys[] = {"signal", "when",      "fault", "severity",
                                       "for",    "clear_for", NULL};
    const struct ynode *sig, *when, *e;
    if (cfg_expect_map(&b->c, n) != 0 || cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    d->clear_s = CLEAR_DEFAULT_S;
    if ((e = ynode_get(n, "for")) != NULL &&
        cfg_duration(&b->c, e, 0, FOR_MAX, &d->for_s) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "clear_for")) != NULL &&
        cfg_duration(&b->c, e, 0, FOR_MAX, &d->clear_s) != 0) {
        return CD_EPARSE;
    }
    if (ynode_get(n, "fault") != NULL) {
        return read_fault_trigger(b, n, d);
    }
    if (ynode_get(n, "severity") != NULL) {
        return cfg_fail(&b->c, ynode_get(n, "severity"),
                        "severity: for a trigger on a fault (fault: KIND)");
    }
    if ((sig = cfg_require(&b->c, n, "signal")) == NULL ||
        (when = cfg_require(&b->c, n, "when")) == NULL ||
        cfg_string(&b->c, sig, d->signal, sizeof(d->signal)) != 0) {
        return CD_EPARSE;
    }
    if (!engine_signal_pattern_valid(d->signal)) {
        return cfg_fail(&b->c, sig,
                        "signal: dotted names, '*' for any one part (queue.*.service_level)");
    }
    int state = when->kind == YNODE_SCALAR ? engine_signal_state_parse(when->value) : -1;
    if (state != ENGINE_SIGNAL_WARN && state != ENGINE_SIGNAL_BAD) {
        return cfg_fail(&b->c, when, "when: expected warn (warn or bad) or bad");
    }
    d->state = (uint8_t)state;
    return 0;
}

static int read_action(struct model_builder *b,
                       const struct ynode *n,
                       struct engine_runbook_action *a)
{
    static const char *const keys[] = {"model", "pause", "resume", "fault", NULL};
    if (cfg_expect_map(&b->c, n) != 0 || cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    if (n->n != 1) {
        return cfg_fail(&b->c, n,
                        "expected one of model: SAVED, pause: QUEUE, resume: QUEUE, "
                        "fault: { kind, severity }");
    }
    const struct ynode *v = n->child;
    a->kind = (uint8_t)engine_runbook_do_parse(v->key);
    if (a->kind == ENGINE_DO_FAULT) {
        static const char *const fkeys[] = {"kind", "severity", NULL};
        const struct ynode *kind, *sev;
        if (cfg_expect_map(&b->c, v) != 0 || cfg_keys(&b->c, v, fkeys) != 0 ||
            (kind = cfg_require(&b->c, v, "kind")) == NULL ||
            (sev = cfg_require(&b->c, v, "severity")) == NULL ||
            cfg_name(&b->c, kind, a->arg, sizeof(a->arg)) != 0 ||
            read_severity(b, sev, &a->severity) != 0) {
            return CD_EPARSE;
        }
        return 0;
    }
    if (cfg_name(&b->c, v, a->arg, sizeof(a->arg)) != 0) {
        return CD_EPARSE;
    }
    if (a->kind != ENGINE_DO_MODEL && engine_model_queue(b->m, a->arg) < 0) {
        return cfg_fail(&b->c, v, "%s: no queue '%s' in this model", v->key, a->arg);
    }
    return 0;
}

static int read_runbook(struct model_builder *b,
                        const struct ynode *n,
                        struct engine_runbook_def *d)
{
    static const char *const keys[] = {"name",   "trigger",      "actions", "approval",
                                       "revert", "max_per_hour", NULL};
    const struct ynode *name, *trigger, *actions, *e;
    if (cfg_keys(&b->c, n, keys) != 0 || (name = cfg_require(&b->c, n, "name")) == NULL ||
        (trigger = cfg_require(&b->c, n, "trigger")) == NULL ||
        (actions = cfg_require(&b->c, n, "actions")) == NULL ||
        cfg_name(&b->c, name, d->name, sizeof(d->name)) != 0) {
        return CD_EPARSE;
    }
    for (const struct engine_runbook_def *o = b->m->runbooks; o < d; o++) {
        if (strcmp(o->name, d->name) == 0) {
            return cfg_fail(&b->c, name, "runbook '%s' is given twice", d->name);
        }
    }
    cfg_subject(&b->c, "runbook '%s'", d->name);
    d->revert = true;
    d->max_per_hour = PER_HOUR_DEFAULT;
    int64_t per_hour;
    if (read_trigger(b, trigger, d) != 0 ||
        ((e = ynode_get(n, "approval")) && cfg_bool(&b->c, e, &d->approval) != 0) ||
        ((e = ynode_get(n, "revert")) && cfg_bool(&b->c, e, &d->revert) != 0)) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "max_per_hour")) != NULL) {
        if (cfg_int(&b->c, e, 1, 60, &per_hour) != 0) {
            return CD_EPARSE;
        }
        d->max_per_hour = (uint8_t)per_hour;
    }
    if (cfg_expect_seq(&b->c, actions) != 0) {
        return CD_EPARSE;
    }
    if (actions->n == 0 || actions->n > ENGINE_ACTIONS_MAX) {
        return cfg_fail(&b->c, actions, "actions: 1 to %d", ENGINE_ACTIONS_MAX);
    }
    bool model = false, fault = false;
    for (const struct ynode *i = actions->child; i != NULL; i = i->next) {
        struct engine_runbook_action *a = &d->actions[d->n_actions];
        if (read_action(b, i, a) != 0) {
            return CD_EPARSE;
        }
        if (a->kind == ENGINE_DO_MODEL && model) {
            return cfg_fail(&b->c, i, "model: a runbook installs one model");
        }
        if (a->kind == ENGINE_DO_FAULT && fault) {
            return cfg_fail(&b->c, i, "fault: a runbook opens one fault");
        }
        model = model || a->kind == ENGINE_DO_MODEL;
        fault = fault || a->kind == ENGINE_DO_FAULT;
        d->n_actions++;
    }
    return 0;
}

int model_read_runbooks(struct model_builder *b, const struct ynode *n)
{
    cfg_subject(&b->c, "%s", "");
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > ENGINE_RUNBOOKS_MAX) {
        return cfg_fail(&b->c, n, "runbooks: at most %d", ENGINE_RUNBOOKS_MAX);
    }
    b->m->runbooks = calloc(n->n ? n->n : 1, sizeof(*b->m->runbooks));
    if (b->m->runbooks == NULL) {
        return CD_ENOMEM;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        cfg_subject(&b->c, "%s", "");
        if (cfg_expect_map(&b->c, i) != 0 ||
            read_runbook(b, i, &b->m->runbooks[b->m->n_runbooks]) != 0) {
            return CD_EPARSE;
        }
        b->m->n_runbooks++;
    }
    cfg_subject(&b->c, "%s", "");
    return 0;
}
