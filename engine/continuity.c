/* The model's continuity part (engine.h, "Continuity"): its checks, and the escalation of
 * faults along its paths (engine/health.h, "Escalation"): FAULT_ESCALATE opens one level of
 * one path for one fault, FAULT_NOTIFIED records how one of its notifications went. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

#define NOTIFY_ATTEMPTS_MAX 10

int engine__check_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CD_EINVAL;
}

static bool terminated(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

bool engine_component_match(const char *pattern, const char *s)
{
    const char *star = NULL, *back = NULL;
    while (*s != 0) {
        if (*pattern == '*') {
            star = pattern++;
            back = s;
        } else if (*pattern == *s) {
            pattern++;
            s++;
        } else if (star != NULL) {
            pattern = star + 1;
            s = ++back;
        } else {
            return false;
        }
    }
    while (*pattern == '*') {
        pattern++;
    }
    return *pattern == 0;
}

bool engine_signal_pattern_valid(const char *p)
{
    char seg[ENGINE_NAME_MAX];
    if (!terminated(p, ENGINE_NAME_MAX) || p[0] == 0) {
        return false;
    }
    for (;;) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof(seg)) {
            return false;
        }
        memcpy(seg, p, n);
        seg[n] = 0;
        if (strcmp(seg, "*") != 0 && !engine_name_valid(seg, sizeof(seg))) {
            return false;
        }
        if (p[n] == 0) {
            return true;
        }
        p += n + 1;
    }
}

static bool address_valid(uint8_t kind, const char *a)
{
    if (!terminated(a, ENGINE_ADDRESS_MAX) || !engine_visible_valid(a, ENGINE_ADDRESS_MAX)) {
        return false;
    }
    if (kind == ENGINE_NOTIFY_WEBHOOK) {
        return strncmp(a, "http://", 7) == 0 && a[7] != 0;
    }
    const char *at = strchr(a, '@');
    return at != NULL && at != a && at[1] != 0 && strchr(at + 1, '@') == NULL;
}

static int check_path(const struct engine_model *m, uint32_t i, char *err, size_t errlen)
{
    const struct engine_escalation_path *p = &m->escalations[i];
    if (!terminated(p->name, ENGINE_NAME_MAX) || !engine_name_valid(p->name, ENGINE_NAME_MAX)) {
        return engine__check_fail(err, errlen, "continuity: escalation %u: name invalid",
                                  i + 1);
    }
    for (uint32_t k = 0; k < i; k++) {
        if (strcmp(m->escalations[k].name, p->name) == 0) {
            return engine__check_fail(err, errlen, "continuity: escalation '%s' given twice",
                                      p->name);
        }
    }
    unsigned all = (1u << ENGINE_SEVERITY_MINOR) | (1u << ENGINE_SEVERITY_MAJOR);
    if (p->severities == 0 || (p->severities & ~all) != 0) {
        return engine__check_fail(err, errlen, "escalation '%s': severities invalid", p->name);
    }
    if (p->n_components > ENGINE_COMPONENTS_MAX || p->n_levels == 0 ||
        p->n_levels > ENGINE_LEVELS_MAX) {
        return engine__check_fail(err, errlen, "escalation '%s': 0-%d components, 1-%d levels",
                                  p->name, ENGINE_COMPONENTS_MAX, ENGINE_LEVELS_MAX);
    }
    for (uint32_t k = 0; k < p->n_components; k++) {
        if (!terminated(p->components[k], sizeof(p->components[k])) ||
            !engine_visible_valid(p->components[k], sizeof(p->components[k]))) {
            return engine__check_fail(
                err, errlen, "escalation '%s': component pattern %u invalid", p->name, k + 1);
        }
    }
    for (uint32_t l = 0; l < p->n_levels; l++) {
        const struct engine_escalation_level *lv = &p->levels[l];
        if (l > 0 && lv->after_s <= p->levels[l - 1].after_s) {
            return engine__check_fail(err, errlen,
                                      "escalation '%s': level %u must come after level %u",
                                      p->name, l + 1, l);
        }
        if (lv->n_to == 0 || lv->n_to > ENGINE_NOTIFY_MAX) {
            return engine__check_fail(err, errlen, "escalation '%s': level %u notifies 1-%d",
                                      p->name, l + 1, ENGINE_NOTIFY_MAX);
        }
        for (uint32_t t = 0; t < lv->n_to; t++) {
            if (lv->to[t].kind >= ENGINE_NOTIFY_KIND_COUNT ||
                !address_valid(lv->to[t].kind, lv->to[t].address)) {
                return engine__check_fail(err, errlen,
                                          "escalation '%s': level %u: address %u invalid",
                                          p->name, l + 1, t + 1);
            }
        }
    }
    return 0;
}

int engine__continuity_check(const struct engine_model *m, char *err, size_t errlen)
{
    if (m->n_fault_rules > ENGINE_FAULT_RULES_MAX ||
        (m->n_fault_rules > 0 && m->fault_rules == NULL) ||
        m->n_escalations > ENGINE_ESCALATIONS_MAX ||
        (m->n_escalations > 0 && m->escalations == NULL)) {
        return engine__check_fail(err, errlen,
                                  "continuity: at most %d fault rules and %d escalation paths",
                                  ENGINE_FAULT_RULES_MAX, ENGINE_ESCALATIONS_MAX);
    }
    for (uint32_t i = 0; i < m->n_fault_rules; i++) {
        const struct engine_fault_rule_def *f = &m->fault_rules[i];
        if (!engine_signal_pattern_valid(f->signal)) {
            return engine__check_fail(
                err, errlen, "continuity: fault rule %u: signal pattern invalid", i + 1);
        }
        if (f->state != ENGINE_SIGNAL_WARN && f->state != ENGINE_SIGNAL_BAD) {
            return engine__check_fail(
                err, errlen, "continuity: fault rule %u: state must be warn or bad", i + 1);
        }
        if (!terminated(f->kind, ENGINE_NAME_MAX) ||
            (f->kind[0] != 0 && !engine_name_valid(f->kind, ENGINE_NAME_MAX))) {
            return engine__check_fail(err, errlen, "continuity: fault rule %u: kind invalid",
                                      i + 1);
        }
        if (f->severity != ENGINE_SEVERITY_MINOR && f->severity != ENGINE_SEVERITY_MAJOR) {
            return engine__check_fail(err, errlen,
                                      "continuity: fault rule %u: severity invalid", i + 1);
        }
    }
    for (uint32_t i = 0; i < m->n_escalations; i++) {
        int rv = check_path(m, i, err, errlen);
        if (rv != 0) {
            return rv;
        }
    }
    return 0;
}

bool engine_escalation_takes(const struct engine_escalation_path *p,
                             const struct engine_fault_info *f)
{
    if ((p->severities & (1u << f->severity)) == 0) {
        return false;
    }
    for (uint32_t k = 0; k < p->n_components; k++) {
        if (engine_component_match(p->components[k], f->component)) {
            return true;
        }
    }
    return p->n_components == 0;
}

/* ---- FAULT_ESCALATE, FAULT_NOTIFIED --------------------------------------------------- */

static const struct engine_escalation_path *path_named(const struct engine *e, const char *name)
{
    for (uint32_t i = 0; e->has_model && name != NULL && i < e->model.n_escalations; i++) {
        if (strcmp(e->model.escalations[i].name, name) == 0) {
            return &e->model.escalations[i];
        }
    }
    return NULL;
}

static bool level_opened(const struct engine__fault *f, const char *path, uint8_t level)
{
    for (uint32_t i = 0; i < f->n_notices; i++) {
        if (f->notices[i].level == level && strcmp(f->notices[i].path, path) == 0) {
            return true;
        }
    }
    return false;
}

static int escalate(struct engine *e,
                    const struct engine_command *cmd,
                    struct engine_result *res)
{
    uint32_t id = cmd->u.fault.id;
    uint8_t level = cmd->u.fault.level;
    struct engine__fault *f = engine__fault_find(e, id);
    const struct engine_escalation_path *p = path_named(e, cmd->u.fault.path);
    struct engine_fault_info info;
    if (f == NULL) {
        return FAIL(res, CD_ENOTFOUND, "fault %u not found", id);
    }
    if (p == NULL || level >= p->n_levels) {
        return FAIL(res, CD_EINVAL, "fault %u: no escalation '%s' level %u in the model", id,
                    cmd->u.fault.path != NULL ? cmd->u.fault.path : "", level + 1);
    }
    engine_fault_get(e, id, &info);
    if (!engine_escalation_takes(p, &info)) {
        return FAIL(res, CD_EINVAL, "fault %u: escalation '%s' does not take it", id, p->name);
    }
    if (f->closed != 0 || f->acked != 0) {
        return FAIL(res, CD_ESTATE, "fault %u is %s: no more escalation", id,
                    f->closed != 0 ? "closed" : "acknowledged");
    }
    int64_t due = f->opened + (int64_t)p->levels[level].after_s * 1000;
    if (e->clock < due) {
        return FAIL(res, CD_ESTATE, "fault %u: escalation '%s' level %u is due at %lld", id,
                    p->name, level + 1, (long long)due);
    }
    if (level_opened(f, p->name, level)) {
        return FAIL(res, CD_EEXISTS, "fault %u: escalation '%s' level %u is open already", id,
                    p->name, level + 1);
    }
    const struct engine_escalation_level *lv = &p->levels[level];
    if (GROW(f->notices, f->cap_notices, f->n_notices + lv->n_to) != 0) {
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    for (uint8_t t = 0; t < lv->n_to; t++) {
        struct engine__notice *n = &f->notices[f->n_notices];
        memset(n, 0, sizeof(*n));
        snprintf(n->path, sizeof(n->path), "%s", p->name);
        n->level = level;
        n->target = t;
        n->kind = lv->to[t].kind;
        snprintf(n->address, sizeof(n->address), "%s", lv->to[t].address);
        n->opened = n->retry_at = e->clock;
        f->n_notices++;
    }
    char text[ENGINE_FAULT_TEXT_MAX];
    snprintf(text, sizeof(text), "%s level %u: %u to notify", p->name, level + 1, lv->n_to);
    int rv = engine__fault_log(e, f, e->clock, "", "escalated", text);
    return rv == 0 || rv == CD_ETOOBIG ? 0 : FAIL(res, rv, "out of memory");
}

static int notified(struct engine *e,
                    const struct engine_command *cmd,
                    struct engine_result *res)
{
    uint32_t id = cmd->u.fault.id;
    struct engine__fault *f = engine__fault_find(e, id);
    struct engine__notice *n = NULL;
    for (uint32_t i = 0; f != NULL && i < f->n_notices; i++) {
        struct engine__notice *x = &f->notices[i];
        if (x->level == cmd->u.fault.level && x->target == cmd->u.fault.target &&
            cmd->u.fault.path != NULL && strcmp(x->path, cmd->u.fault.path) == 0) {
            n = x;
        }
    }
    if (n == NULL) {
        return FAIL(res, CD_ENOTFOUND, "fault %u: no such notification", id);
    }
    /* A cancelled one may have been on its way when the fault was acknowledged or closed:
     * that it went is recorded; that it failed changes nothing. */
    bool cancelled = n->state == ENGINE_NOTICE_CANCELLED;
    if (n->state != ENGINE_NOTICE_PENDING && !cancelled) {
        return FAIL(res, CD_ESTATE, "fault %u: that notification is %s already", id,
                    engine_notice_state_name(n->state));
    }
    if (cancelled && !cmd->u.fault.ok) {
        return 0;
    }
    const char *text = cmd->u.fault.text != NULL ? cmd->u.fault.text : "";
    if (strnlen(text, ENGINE_FAULT_TEXT_MAX) == ENGINE_FAULT_TEXT_MAX) {
        return FAIL(res, CD_EINVAL, "fault %u: text longer than %d bytes", id,
                    ENGINE_FAULT_TEXT_MAX - 1);
    }
    char *copy = cd_strdup(text);
    if (copy == NULL) {
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    cd_free(n->text);
    n->text = copy;
    n->attempts = n->attempts < UINT8_MAX ? n->attempts + 1 : n->attempts;
    n->at = e->clock;
    if (cmd->u.fault.ok) {
        n->state = ENGINE_NOTICE_SENT;
    } else if (n->attempts >= NOTIFY_ATTEMPTS_MAX) {
        n->state = ENGINE_NOTICE_GIVEN_UP;
    } else {
        n->retry_at = cmd->u.fault.retry_at > e->clock ? cmd->u.fault.retry_at : e->clock;
    }
    if (n->state != ENGINE_NOTICE_PENDING) {
        char line[ENGINE_FAULT_TEXT_MAX];
        snprintf(line, sizeof(line), "%s level %u: %s %.60s: %.120s", n->path, n->level + 1,
                 n->kind == ENGINE_NOTIFY_EMAIL ? "email" : "webhook", n->address, text);
        int rv = engine__fault_log(e, f, e->clock, "",
                                   n->state == ENGINE_NOTICE_SENT ? "notified" : "not_notified",
                                   line);
        if (rv != 0 && rv != CD_ETOOBIG) {
            return FAIL(res, rv, "out of memory");
        }
    }
    return 0;
}

int engine__cmd_escalation(struct engine *e,
                           const struct engine_command *cmd,
                           struct engine_result *res)
{
    return cmd->kind == ENGINE_CMD_FAULT_ESCALATE ? escalate(e, cmd, res)
                                                  : notified(e, cmd, res);
}

static const char *const notice_states[] = {"pending", "sent", "given_up", "cancelled"};

const char *engine_notice_state_name(int state)
{
    return state >= 0 && state <= ENGINE_NOTICE_CANCELLED ? notice_states[state] : NULL;
}

int engine_fault_notice(const struct engine *e,
                        uint32_t id,
                        uint32_t i,
                        struct engine_fault_notice *out)
{
    const struct engine__fault *f = engine__fault_find(e, id);
    if (f == NULL || i >= f->n_notices) {
        return CD_ENOTFOUND;
    }
    const struct engine__notice *n = &f->notices[i];
    *out = (struct engine_fault_notice){.path = n->path,
                                        .level = n->level,
                                        .target = n->target,
                                        .kind = n->kind,
                                        .address = n->address,
                                        .state = n->state,
                                        .attempts = n->attempts,
                                        .opened = n->opened,
                                        .retry_at = n->retry_at,
                                        .at = n->at,
                                        .text = n->text != NULL ? n->text : ""};
    return 0;
}
