/* Runbooks (engine/health.h, "Runbooks"): the model's runbooks checked; their triggers
 * evaluated on the replicated signals; runs, their steps and reverts; the saved models a
 * run installs. The engine decides whether a run may start, act or end from the state alone,
 * so the leader that proposes it and every node that applies it agree, and a second
 * proposal of the same thing (by a new leader after a failover) is refused. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "engine/internal.h"

#define HOUR_MS (3600 * 1000LL)
#define MIN_RUN 24 /* bytes a run's snapshot form takes at the least */
#define PER_HOUR_MAX 60

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static const char *const action_names[] = {"model", "pause", "resume", "fault"};
static const char *const run_states[] = {"awaiting", "active", "ended"};
static const char *const step_states[] = {"waiting", "pending",   "done",     "skipped",
                                          "failed",  "reverting", "reverted", "kept"};

const char *engine_runbook_do_name(int kind)
{
    return kind >= 0 && kind < ENGINE_DO_COUNT ? action_names[kind] : NULL;
}

int engine_runbook_do_parse(const char *s)
{
    for (int k = 0; s != NULL && k < ENGINE_DO_COUNT; k++) {
        if (strcmp(action_names[k], s) == 0) {
            return k;
        }
    }
    return -1;
}

const char *engine_run_state_name(int state)
{
    return state >= 0 && state <= ENGINE_RUN_ENDED ? run_states[state] : NULL;
}

const char *engine_step_state_name(int state)
{
    return state >= 0 && state < ENGINE_STEP_STATE_COUNT ? step_states[state] : NULL;
}

/* ---- The model's runbooks --------------------------------------------------------- */

static bool terminated(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

/* A fault kind pattern: a name in which '*' stands for any run of characters. */
static bool kind_pattern_valid(const char *p)
{
    char name[ENGINE_NAME_MAX];
    if (!terminated(p, ENGINE_NAME_MAX)) {
        return false;
    }
    snprintf(name, sizeof(name), "%s", p);
    for (char *c = name; *c != 0; c++) {
        *c = *c == '*' ? 'x' : *c;
    }
    return engine_name_valid(name, sizeof(name));
}

static int check_action(const struct engine_model *m,
                        const struct engine_runbook_def *d,
                        uint32_t i,
                        char *err,
                        size_t errlen)
{
    const struct engine_runbook_action *a = &d->actions[i];
    if (a->kind >= ENGINE_DO_COUNT || !terminated(a->arg, sizeof(a->arg)) ||
        !engine_name_valid(a->arg, sizeof(a->arg))) {
        return engine__check_fail(err, errlen, "runbook '%s': action %u invalid", d->name,
                                  i + 1);
    }
    if ((a->kind == ENGINE_DO_PAUSE || a->kind == ENGINE_DO_RESUME) &&
        engine_model_queue(m, a->arg) < 0) {
        return engine__check_fail(err, errlen, "runbook '%s': action %u: no queue '%s'",
                                  d->name, i + 1, a->arg);
    }
    if (a->kind == ENGINE_DO_FAULT) {
        if (a->severity != ENGINE_SEVERITY_MINOR && a->severity != ENGINE_SEVERITY_MAJOR) {
            return engine__check_fail(err, errlen, "runbook '%s': action %u: severity invalid",
                                      d->name, i + 1);
        }
    } else if (a->severity != 0) {
        return engine__check_fail(err, errlen,
                                  "runbook '%s': action %u: a severity is for a fault only",
                                  d->name, i + 1);
    }
    return 0;
}

int engine__runbooks_check(const struct engine_model *m, char *err, size_t errlen)
{
    if (m->n_runbooks > ENGINE_RUNBOOKS_MAX || (m->n_runbooks > 0 && m->runbooks == NULL)) {
        return engine__check_fail(err, errlen, "runbooks: at most %d", ENGINE_RUNBOOKS_MAX);
    }
    for (uint32_t i = 0; i < m->n_runbooks; i++) {
        const struct engine_runbook_def *d = &m->runbooks[i];
        if (!terminated(d->name, sizeof(d->name)) ||
            !engine_name_valid(d->name, sizeof(d->name))) {
            return engine__check_fail(err, errlen, "runbook %u: name invalid", i + 1);
        }
        for (uint32_t k = 0; k < i; k++) {
            if (strcmp(m->runbooks[k].name, d->name) == 0) {
                return engine__check_fail(err, errlen, "runbook '%s' given twice", d->name);
            }
        }
        if (d->on == ENGINE_ON_SIGNAL) {
            if (!engine_signal_pattern_valid(d->signal)) {
                return engine__check_fail(err, errlen, "runbook '%s': signal pattern invalid",
                                          d->name);
            }
            if ((d->state != ENGINE_SIGNAL_WARN && d->state != ENGINE_SIGNAL_BAD) ||
                d->severity != 0) {
                return engine__check_fail(err, errlen,
                                          "runbook '%s': state must be warn or bad", d->name);
            }
        } else if (d->on != ENGINE_ON_FAULT || !kind_pattern_valid(d->signal) ||
                   d->state != 0 ||
                   (d->severity != ENGINE_SEVERITY_MINOR &&
                    d->severity != ENGINE_SEVERITY_MAJOR)) {
            return engine__check_fail(err, errlen, "runbook '%s': fault trigger invalid",
                                      d->name);
        }
        if (d->max_per_hour == 0 || d->max_per_hour > PER_HOUR_MAX) {
            return engine__check_fail(err, errlen, "runbook '%s': max_per_hour must be 1-%d",
                                      d->name, PER_HOUR_MAX);
        }
        if (d->n_actions == 0 || d->n_actions > ENGINE_ACTIONS_MAX) {
            return engine__check_fail(err, errlen, "runbook '%s': 1-%d actions", d->name,
                                      ENGINE_ACTIONS_MAX);
        }
        uint32_t models = 0, faults = 0;
        for (uint32_t k = 0; k < d->n_actions; k++) {
            int rv = check_action(m, d, k, err, errlen);
            if (rv != 0) {
                return rv;
            }
            models += d->actions[k].kind == ENGINE_DO_MODEL;
            faults += d->actions[k].kind == ENGINE_DO_FAULT;
        }
        if (models > 1 || faults > 1) {
            return engine__check_fail(
                err, errlen, "runbook '%s': at most one model and one fault action", d->name);
        }
    }
    return 0;
}

const struct engine_runbook_def *engine_runbook_find(const struct engine *e, const char *name)
{
    for (uint32_t i = 0; e->has_model && name != NULL && i < e->model.n_runbooks; i++) {
        if (strcmp(e->model.runbooks[i].name, name) == 0) {
            return &e->model.runbooks[i];
        }
    }
    return NULL;
}

/* ---- Triggers ----------------------------------------------------------------------- */

bool engine_runbook_fires(const struct engine_runbook_def *d,
                          bool fault,
                          const char *name,
                          int state,
                          int64_t held_ms)
{
    if (name == NULL || held_ms < (int64_t)d->for_s * 1000) {
        return false;
    }
    if (d->on == ENGINE_ON_FAULT) {
        return fault && state >= d->severity && state <= ENGINE_SEVERITY_MAJOR &&
               engine_component_match(d->signal, name);
    }
    return !fault && state >= d->state && state <= ENGINE_SIGNAL_BAD &&
           engine_signal_match(d->signal, name);
}

static bool caused_a_run(const struct engine *e, const char *runbook, const char *source)
{
    for (uint32_t i = 0; i < e->n_runs; i++) {
        if (strcmp(e->runs[i].def.name, runbook) == 0 &&
            strcmp(e->runs[i].signal, source) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether fault f holds d's trigger at now (source: "fault:ID", ENGINE_NAME_MAX bytes). */
static bool fault_holds(const struct engine *e,
                        const struct engine_runbook_def *d,
                        const struct engine__fault *f,
                        int64_t now,
                        char *source)
{
    int64_t lasted = (f->closed != 0 ? f->closed : now) - f->opened;
    snprintf(source, ENGINE_NAME_MAX, "fault:%u", f->id);
    /* A runbook's own faults set off no runbook: one on `*` would run itself again. */
    return strncmp(f->component, "runbook:", 8) != 0 && f->opened > now - HOUR_MS &&
           engine_runbook_fires(d, true, f->kind, f->severity, lasted) &&
           !caused_a_run(e, d->name, source);
}

bool engine_runbook_holds(const struct engine *e,
                          const struct engine_runbook_def *d,
                          int64_t now,
                          const char **signal,
                          char *buf)
{
    if (d->on == ENGINE_ON_FAULT) {
        char source[ENGINE_NAME_MAX];
        for (uint32_t i = 0; i < e->n_faults; i++) {
            if (fault_holds(e, d, &e->faults[i], now, source)) {
                if (signal != NULL && buf != NULL) {
                    memcpy(buf, source, sizeof(source));
                    *signal = buf;
                }
                return true;
            }
        }
        return false;
    }
    for (uint32_t i = 0; i < e->n_signals; i++) {
        const struct engine__signal *s = &e->signals[i];
        if (engine_runbook_fires(d, false, s->name, s->state, now - s->since)) {
            if (signal != NULL) {
                *signal = s->name;
            }
            return true;
        }
    }
    return false;
}

/* The fault a run's trigger names ("fault:ID"), or 0. */
static uint32_t source_fault(const char *source)
{
    unsigned long id = 0;
    if (strncmp(source, "fault:", 6) != 0) {
        return 0;
    }
    for (const char *c = source + 6; *c >= '0' && *c <= '9' && id < UINT32_MAX; c++) {
        id = id * 10 + (unsigned long)(*c - '0');
    }
    return id <= UINT32_MAX ? (uint32_t)id : 0;
}

static bool cleared(const struct engine *e,
                    const struct engine_runbook_def *d,
                    const char *source,
                    int64_t now)
{
    if (d->on == ENGINE_ON_FAULT) {
        const struct engine__fault *f = engine__fault_find(e, source_fault(source));
        return f == NULL || (f->closed != 0 && now - f->closed >= (int64_t)d->clear_s * 1000);
    }
    for (uint32_t i = 0; i < e->n_signals; i++) {
        const struct engine__signal *s = &e->signals[i];
        if (engine_signal_match(d->signal, s->name) &&
            (s->state >= d->state || now - s->since < (int64_t)d->clear_s * 1000)) {
            return false;
        }
    }
    return true;
}

bool engine_run_cleared(const struct engine *e, const struct engine_run_info *r, int64_t now)
{
    /* a run by hand (no signal held its trigger) is a person's decision: it ends by hand */
    return r->signal[0] != 0 && cleared(e, r->def, r->signal, now);
}

/* ---- Runs ----------------------------------------------------------------------------- */

static struct engine__run *run_find(const struct engine *e, uint32_t id)
{
    for (uint32_t i = 0; i < e->n_runs; i++) {
        if (e->runs[i].id == id) {
            return &e->runs[i];
        }
    }
    return NULL;
}

uint32_t engine_run_open(const struct engine *e, const char *runbook)
{
    for (uint32_t i = 0; runbook != NULL && i < e->n_runs; i++) {
        const struct engine__run *r = &e->runs[i];
        if (r->state != ENGINE_RUN_ENDED && strcmp(r->def.name, runbook) == 0) {
            return r->id;
        }
    }
    return 0;
}

uint32_t engine_runs_in_hour(const struct engine *e, const char *runbook, int64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; runbook != NULL && i < e->n_runs; i++) {
        const struct engine__run *r = &e->runs[i];
        n += strcmp(r->def.name, runbook) == 0 && r->triggered > now - HOUR_MS;
    }
    return n;
}

static void note(struct engine__run *r, uint32_t k, uint8_t state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(struct engine__run *r, uint32_t k, uint8_t state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes[k], sizeof(r->notes[k]), fmt, ap);
    va_end(ap);
    r->steps[k] = state;
}

static struct engine__saved *saved_find(const struct engine *e, const char *name)
{
    for (uint32_t i = 0; name != NULL && i < e->n_saved; i++) {
        if (strcmp(e->saved[i].name, name) == 0) {
            return &e->saved[i];
        }
    }
    return NULL;
}

/* One step of an active run, as it starts. */
static int act(struct engine *e, struct engine__run *r, uint32_t k)
{
    const struct engine_runbook_action *a = &r->def.actions[k];
    struct engine_result scratch;
    switch (a->kind) {
        case ENGINE_DO_MODEL:
            if (saved_find(e, a->arg) == NULL) {
                note(r, k, ENGINE_STEP_FAILED, "no saved model '%s'", a->arg);
            } else {
                note(r, k, ENGINE_STEP_PENDING, "to install saved model '%s'", a->arg);
            }
            return 0;
        case ENGINE_DO_PAUSE:
        case ENGINE_DO_RESUME: {
            bool pause = a->kind == ENGINE_DO_PAUSE;
            int rv = engine__cmd_queue_pause(e, a->arg, pause, &scratch);
            if (rv == 0) {
                note(r, k, ENGINE_STEP_DONE, "queue '%s' %s", a->arg,
                     pause ? "paused" : "resumed");
            } else if (rv == CD_ESTATE) {
                note(r, k, ENGINE_STEP_SKIPPED, "queue '%s' was %s already", a->arg,
                     pause ? "paused" : "running");
            } else {
                note(r, k, ENGINE_STEP_FAILED, "%.80s", scratch.message);
            }
            return e->oom ? CD_ENOMEM : 0;
        }
        case ENGINE_DO_FAULT: {
            char component[ENGINE_NAME_MAX + 8], text[ENGINE_FAULT_TEXT_MAX];
            snprintf(component, sizeof(component), "runbook:%s", r->def.name);
            snprintf(text, sizeof(text), "runbook %s run %u: %s", r->def.name, r->id,
                     r->signal[0] != 0 ? r->signal : "run by hand");
            int rv = engine__fault_open(e, a->arg, component, a->severity, text, &r->fault);
            if (rv != 0 && rv != CD_ETOOBIG) {
                return rv;
            }
            note(r, k, ENGINE_STEP_DONE, "fault %u opened (%s)", r->fault,
                 engine_severity_name(a->severity));
            return 0;
        }
        default:
            return 0;
    }
}

static int start(struct engine *e, struct engine__run *r)
{
    r->state = ENGINE_RUN_ACTIVE;
    r->started = e->clock;
    for (uint32_t k = 0; k < r->def.n_actions; k++) {
        int rv = act(e, r, k);
        if (rv != 0) {
            return rv;
        }
    }
    return 0;
}

/* An ended run whose model the leader has still to put back. */
static bool reverting(const struct engine__run *r)
{
    for (uint32_t k = 0; k < r->def.n_actions; k++) {
        if (r->steps[k] == ENGINE_STEP_REVERTING) {
            return true;
        }
    }
    return false;
}

/* Drops the runs ended first (but one still reverting) while more than ENGINE_RUNS_KEPT
 * could be dropped. */
static void trim_ended(struct engine *e)
{
    uint32_t ended = 0;
    for (uint32_t i = 0; i < e->n_runs; i++) {
        ended += e->runs[i].state == ENGINE_RUN_ENDED && !reverting(&e->runs[i]);
    }
    for (uint32_t i = 0; ended > ENGINE_RUNS_KEPT && i < e->n_runs;) {
        if (e->runs[i].state == ENGINE_RUN_ENDED && !reverting(&e->runs[i])) {
            memmove(&e->runs[i], &e->runs[i + 1], (e->n_runs - i - 1) * sizeof(e->runs[0]));
            e->n_runs--;
            ended--;
        } else {
            i++;
        }
    }
}

static int cmd_run(struct engine *e,
                   const struct engine_command *cmd,
                   struct engine_result *res)
{
    const char *name = str(cmd->u.runbook.name);
    const struct engine_runbook_def *d = engine_runbook_find(e, name);
    bool by_hand = str(cmd->actor)[0] != 0;
    const char *held = NULL;
    if (d == NULL) {
        return FAIL(res, CD_ENOTFOUND, "runbook '%s' not in the model", name);
    }
    uint32_t open = engine_run_open(e, name);
    if (open != 0) {
        res->contact = open;
        return FAIL(res, CD_EEXISTS, "runbook '%s' has run %u open", name, open);
    }
    for (uint32_t i = 0; i < e->n_runs; i++) {
        if (strcmp(e->runs[i].def.name, name) == 0 && reverting(&e->runs[i])) {
            return FAIL(res, CD_EEXISTS, "runbook '%s': run %u is putting its model back", name,
                        e->runs[i].id);
        }
    }
    if (engine_runs_in_hour(e, name, e->clock) >= d->max_per_hour) {
        return FAIL(res, CD_ECAPACITY, "runbook '%s' ran %u times in the last hour", name,
                    d->max_per_hour);
    }
    if (!by_hand) {
        const char *signal = str(cmd->u.runbook.signal);
        struct engine_signal_info s;
        const struct engine__fault *f = engine__fault_find(e, source_fault(signal));
        char source[ENGINE_NAME_MAX];
        bool holds =
            d->on == ENGINE_ON_FAULT
                ? f != NULL && fault_holds(e, d, f, e->clock, source) &&
                      strcmp(source, signal) == 0
                : engine_signal_find(e, signal, &s) == 0 &&
                      engine_runbook_fires(d, false, signal, s.state, e->clock - s.since);
        if (!holds) {
            return FAIL(res, CD_ESTATE, "runbook '%s': its trigger does not hold on '%s'", name,
                        signal);
        }
        held = signal;
    }
    if (GROW(e->runs, e->cap_runs, e->n_runs + 1) != 0) {
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    struct engine__run *r = &e->runs[e->n_runs++];
    memset(r, 0, sizeof(*r));
    r->id = ++e->next_run;
    r->def = *d;
    r->triggered = e->clock;
    snprintf(r->signal, sizeof(r->signal), "%s", str(held));
    snprintf(r->actor, sizeof(r->actor), "%s", str(cmd->actor));
    res->contact = r->id;
    int rv = d->approval ? 0 : start(e, r);
    return rv == 0 ? 0 : FAIL(res, rv, "out of memory");
}

static int cmd_approve(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res)
{
    struct engine__run *r = run_find(e, cmd->u.runbook.run);
    if (r == NULL) {
        return FAIL(res, CD_ENOTFOUND, "run %u not found", cmd->u.runbook.run);
    }
    if (r->state != ENGINE_RUN_AWAITING) {
        return FAIL(res, CD_ESTATE, "run %u is %s, not awaiting approval", r->id,
                    run_states[r->state]);
    }
    snprintf(r->approved_by, sizeof(r->approved_by), "%s", str(cmd->actor));
    int rv = start(e, r);
    return rv == 0 ? 0 : FAIL(res, rv, "out of memory");
}

/* Undoes step k of a run that reverts. */
static void undo(struct engine *e, struct engine__run *r, uint32_t k)
{
    const struct engine_runbook_action *a = &r->def.actions[k];
    struct engine_result scratch;
    if (r->steps[k] == ENGINE_STEP_PENDING) {
        note(r, k, ENGINE_STEP_KEPT, "not installed: the run ended first");
        return;
    }
    if (r->steps[k] != ENGINE_STEP_DONE) {
        return;
    }
    switch (a->kind) {
        case ENGINE_DO_MODEL:
            if (e->version != r->model_installed) {
                note(r, k, ENGINE_STEP_KEPT, "version %u is running, not %u: it stays",
                     e->version, r->model_installed);
            } else {
                note(r, k, ENGINE_STEP_REVERTING, "to put version %u back", r->model_before);
            }
            break;
        case ENGINE_DO_PAUSE:
        case ENGINE_DO_RESUME: {
            bool pause = a->kind == ENGINE_DO_PAUSE;
            int rv = engine__cmd_queue_pause(e, a->arg, !pause, &scratch);
            if (rv == 0) {
                note(r, k, ENGINE_STEP_REVERTED, "queue '%s' %s again", a->arg,
                     pause ? "resumed" : "paused");
            } else {
                note(r, k, ENGINE_STEP_KEPT, "%.80s", scratch.message);
            }
            break;
        }
        default:
            break;
    }
}

static int cmd_end(struct engine *e,
                   const struct engine_command *cmd,
                   struct engine_result *res)
{
    struct engine__run *r = run_find(e, cmd->u.runbook.run);
    const char *text = str(cmd->u.runbook.text);
    if (r == NULL) {
        return FAIL(res, CD_ENOTFOUND, "run %u not found", cmd->u.runbook.run);
    }
    if (r->state == ENGINE_RUN_ENDED) {
        return FAIL(res, CD_ESTATE, "run %u has ended", r->id);
    }
    if (strnlen(text, ENGINE_FAULT_TEXT_MAX) == ENGINE_FAULT_TEXT_MAX) {
        return FAIL(res, CD_EINVAL, "why: at most %d bytes", ENGINE_FAULT_TEXT_MAX - 1);
    }
    bool by_hand = str(cmd->actor)[0] != 0;
    if (!by_hand && !cleared(e, &r->def, r->signal, e->clock)) {
        return FAIL(res, CD_ESTATE, "run %u: the trigger of runbook '%s' has not cleared",
                    r->id, r->def.name);
    }
    bool acted = r->state == ENGINE_RUN_ACTIVE;
    r->state = ENGINE_RUN_ENDED;
    r->ended = e->clock;
    snprintf(r->ended_by, sizeof(r->ended_by), "%s", str(cmd->actor));
    snprintf(r->why, sizeof(r->why), "%s",
             text[0] != 0 ? text : (by_hand ? "ended by hand" : "the trigger cleared"));
    for (uint32_t k = r->def.n_actions; acted && k-- > 0;) {
        if (r->def.revert) {
            undo(e, r, k);
        } else if (r->steps[k] == ENGINE_STEP_PENDING) {
            note(r, k, ENGINE_STEP_KEPT, "not installed: the run ended first");
        }
    }
    if (e->oom) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    int rv = 0;
    if (r->fault != 0) {
        char line[ENGINE_FAULT_TEXT_MAX];
        snprintf(line, sizeof(line), "runbook %s run %u ended: %.160s", r->def.name, r->id,
                 r->why);
        rv = engine__fault_end(e, r->fault, by_hand ? "closed" : "recovered", line);
    }
    trim_ended(e); /* r may be gone from here on */
    return rv == 0 ? 0 : FAIL(res, rv, "out of memory");
}

static int model_step(const struct engine__run *r)
{
    for (uint32_t k = 0; k < r->def.n_actions; k++) {
        if (r->def.actions[k].kind == ENGINE_DO_MODEL) {
            return (int)k;
        }
    }
    return -1;
}

static int cmd_model(struct engine *e,
                     const struct engine_command *cmd,
                     struct engine_result *res)
{
    struct engine__run *r = run_find(e, cmd->u.runbook.run);
    int k = r != NULL ? model_step(r) : -1;
    bool revert = cmd->u.runbook.revert;
    if (r == NULL) {
        return FAIL(res, CD_ENOTFOUND, "run %u not found", cmd->u.runbook.run);
    }
    /* The step must be where the leader saw it: an install given twice, or one that
     * arrives after the run ended, is refused rather than taken as the other. */
    if (k < 0 || r->steps[k] != (revert ? ENGINE_STEP_REVERTING : ENGINE_STEP_PENDING)) {
        return FAIL(res, CD_ESTATE, "run %u has no model to %s", cmd->u.runbook.run,
                    revert ? "put back" : "install");
    }
    const char *text = str(cmd->u.runbook.text);
    const struct engine__saved *s = revert ? NULL : saved_find(e, r->def.actions[k].arg);
    if (!cmd->u.runbook.ok) {
        if (strnlen(text, ENGINE_FAULT_TEXT_MAX) == ENGINE_FAULT_TEXT_MAX) {
            return FAIL(res, CD_EINVAL, "text: at most %d bytes", ENGINE_FAULT_TEXT_MAX - 1);
        }
        note(r, (uint32_t)k, ENGINE_STEP_FAILED, "%s: %.80s",
             revert ? "not put back" : "not installed", text);
        return 0;
    }
    if (cmd->u.runbook.model == NULL) {
        return FAIL(res, CD_EINVAL, "run %u: no model given", r->id);
    }
    if (revert && e->version != r->model_installed) {
        note(r, (uint32_t)k, ENGINE_STEP_KEPT, "version %u is running, not %u: it stays",
             e->version, r->model_installed);
        return 0;
    }
    if (!revert && (s == NULL || s->at != cmd->u.runbook.saved_at)) {
        /* forgotten or saved again since the leader read it: it reads the new text */
        return FAIL(res, CD_ESTATE, "run %u: saved model '%s' %s", r->id, r->def.actions[k].arg,
                    s == NULL ? "is gone" : "changed since it was read");
    }
    struct engine_archived before;
    char actor[ENGINE_ACTOR_MAX], comment[ENGINE_COMMENT_MAX];
    snprintf(actor, sizeof(actor), "runbook:%s", r->def.name);
    if (revert) {
        snprintf(comment, sizeof(comment), "runbook %s run %u ended: version %u back",
                 r->def.name, r->id, r->model_before);
    } else {
        snprintf(comment, sizeof(comment), "runbook %s run %u: saved model '%s'", r->def.name,
                 r->id, r->def.actions[k].arg);
    }
    struct engine_command install = {.kind = ENGINE_CMD_MODEL_INSTALL, .actor = actor};
    install.u.install.version = cmd->u.runbook.version;
    install.u.install.model = cmd->u.runbook.model;
    install.u.install.comment = comment;
    install.u.install.diff = cmd->u.runbook.comment;
    install.u.install.rollback_of = revert ? r->model_before : 0;
    if (revert) {
        install.u.install.source =
            engine_archive_find(e, r->model_before, &before) == 0 ? before.source : "";
    } else {
        install.u.install.source = s->source;
    }
    /* The archive's strings are borrowed from the state the install changes: copy first. */
    char *source = cd_strdup(install.u.install.source);
    if (source == NULL) {
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    install.u.install.source = source;
    uint32_t was = e->version;
    int rv = engine__install(e, install.u.install.version, install.u.install.model, actor, res);
    if (rv == 0 && engine__archive_add(e, &install) != 0) {
        e->oom = CD_ENOMEM;
        rv = FAIL(res, CD_ENOMEM, "out of memory");
    }
    cd_free(source);
    if (rv == CD_EINVAL) {
        /* a model the engine will not take: no retry makes it better */
        note(r, (uint32_t)k, ENGINE_STEP_FAILED, "%s: %.80s",
             revert ? "not put back" : "not installed", res->message);
        memset(res, 0, sizeof(*res));
        return 0;
    }
    if (rv != 0) {
        return rv; /* a version taken meanwhile (the leader tries again), or memory */
    }
    if (revert) {
        note(r, (uint32_t)k, ENGINE_STEP_REVERTED, "version %u back as %u", r->model_before,
             e->version);
        trim_ended(e);
    } else {
        r->model_before = was;
        r->model_installed = e->version;
        note(r, (uint32_t)k, ENGINE_STEP_DONE, "saved model '%s' installed as version %u",
             r->def.actions[k].arg, e->version);
    }
    return 0;
}

/* ---- Saved models ------------------------------------------------------------------- */

static void saved_free(struct engine__saved *s)
{
    cd_free(s->source);
    cd_free(s->comment);
    memset(s, 0, sizeof(*s));
}

static int cmd_save(struct engine *e,
                    const struct engine_command *cmd,
                    struct engine_result *res)
{
    const char *name = str(cmd->u.runbook.name), *text = str(cmd->u.runbook.text);
    const char *comment = str(cmd->u.runbook.comment);
    if (!engine_name_valid(name, ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "saved model name: 1-%d of %s", ENGINE_NAME_MAX - 1,
                    ENGINE_NAME_CHARSET);
    }
    size_t len = strnlen(text, ENGINE_SAVED_TEXT_MAX);
    if (len == 0 || len == ENGINE_SAVED_TEXT_MAX ||
        strnlen(comment, ENGINE_COMMENT_MAX) == ENGINE_COMMENT_MAX) {
        return FAIL(res, CD_EINVAL, "saved model: text 1-%d bytes, comment < %d",
                    ENGINE_SAVED_TEXT_MAX - 1, ENGINE_COMMENT_MAX);
    }
    struct engine__saved *s = saved_find(e, name);
    if (s == NULL && e->n_saved >= ENGINE_SAVED_MAX) {
        return FAIL(res, CD_ECAPACITY, "at most %d saved models", ENGINE_SAVED_MAX);
    }
    char *source = cd_strdup(text), *why = cd_strdup(comment);
    if (source == NULL || why == NULL ||
        (s == NULL && GROW(e->saved, e->cap_saved, e->n_saved + 1) != 0)) {
        cd_free(source);
        cd_free(why);
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    if (s == NULL) {
        uint32_t at = 0;
        while (at < e->n_saved && strcmp(e->saved[at].name, name) < 0) {
            at++;
        }
        memmove(&e->saved[at + 1], &e->saved[at], (e->n_saved - at) * sizeof(e->saved[0]));
        e->n_saved++;
        s = &e->saved[at];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", name);
    } else {
        res->existing = true;
    }
    cd_free(s->source);
    cd_free(s->comment);
    s->source = source;
    s->comment = why;
    s->at = e->clock;
    snprintf(s->actor, sizeof(s->actor), "%s", str(cmd->actor));
    return 0;
}

static int cmd_forget(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res)
{
    const char *name = str(cmd->u.runbook.name);
    struct engine__saved *s = saved_find(e, name);
    if (s == NULL) {
        return FAIL(res, CD_ENOTFOUND, "no saved model '%s'", name);
    }
    for (uint32_t i = 0; i < e->n_runs; i++) {
        const struct engine__run *r = &e->runs[i];
        int k = model_step(r);
        if (k >= 0 && r->steps[k] == ENGINE_STEP_PENDING &&
            strcmp(r->def.actions[k].arg, name) == 0) {
            return FAIL(res, CD_ESTATE, "saved model '%s' is to be installed by run %u", name,
                        r->id);
        }
    }
    for (uint32_t i = 0; e->has_model && i < e->model.n_runbooks; i++) {
        const struct engine_runbook_def *d = &e->model.runbooks[i];
        for (uint32_t k = 0; k < d->n_actions; k++) {
            if (d->actions[k].kind == ENGINE_DO_MODEL && strcmp(d->actions[k].arg, name) == 0) {
                return FAIL(res, CD_ESTATE, "saved model '%s' is runbook '%s''s", name,
                            d->name);
            }
        }
    }
    uint32_t at = (uint32_t)(s - e->saved);
    saved_free(s);
    memmove(&e->saved[at], &e->saved[at + 1], (e->n_saved - at - 1) * sizeof(e->saved[0]));
    e->n_saved--;
    return 0;
}

/* ---- Drill reports ----------------------------------------------------------------- */

static int cmd_drill(struct engine *e,
                     const struct engine_command *cmd,
                     struct engine_result *res)
{
    const char *text = str(cmd->u.runbook.text);
    size_t len = strnlen(text, ENGINE_DRILL_TEXT_MAX);
    if (len == 0 || len == ENGINE_DRILL_TEXT_MAX) {
        return FAIL(res, CD_EINVAL, "a drill report is 1-%d bytes", ENGINE_DRILL_TEXT_MAX - 1);
    }
    char *copy = cd_strdup(text);
    if (copy == NULL || GROW(e->drills, e->cap_drills, e->n_drills + 1) != 0) {
        cd_free(copy);
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    if (e->n_drills == ENGINE_DRILLS_KEPT) {
        cd_free(e->drills[0].text);
        memmove(&e->drills[0], &e->drills[1], (e->n_drills - 1) * sizeof(e->drills[0]));
        e->n_drills--;
    }
    struct engine__drill *d = &e->drills[e->n_drills++];
    *d = (struct engine__drill){.id = ++e->next_drill, .at = e->clock, .text = copy};
    snprintf(d->actor, sizeof(d->actor), "%s", str(cmd->actor));
    res->contact = d->id;
    return 0;
}

static void drill_info(const struct engine__drill *d, struct engine_drill_info *out)
{
    *out = (struct engine_drill_info){d->id, d->at, d->actor, d->text};
}

size_t engine_drill_count(const struct engine *e)
{
    return e->n_drills;
}

int engine_drill_at(const struct engine *e, size_t i, struct engine_drill_info *out)
{
    if (i >= e->n_drills) {
        return CD_ENOTFOUND;
    }
    drill_info(&e->drills[i], out);
    return 0;
}

int engine_drill_get(const struct engine *e, uint32_t id, struct engine_drill_info *out)
{
    for (uint32_t i = 0; i < e->n_drills; i++) {
        if (e->drills[i].id == id) {
            drill_info(&e->drills[i], out);
            return 0;
        }
    }
    return CD_ENOTFOUND;
}

int engine__cmd_runbook(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    switch (cmd->kind) {
        case ENGINE_CMD_DRILL_RECORD:
            return cmd_drill(e, cmd, res);
        case ENGINE_CMD_MODEL_SAVE:
            return cmd_save(e, cmd, res);
        case ENGINE_CMD_MODEL_FORGET:
            return cmd_forget(e, cmd, res);
        case ENGINE_CMD_RUNBOOK_RUN:
            return cmd_run(e, cmd, res);
        case ENGINE_CMD_RUNBOOK_APPROVE:
            return cmd_approve(e, cmd, res);
        case ENGINE_CMD_RUNBOOK_END:
            return cmd_end(e, cmd, res);
        default:
            return cmd_model(e, cmd, res);
    }
}

/* ---- Queries -------------------------------------------------------------------------- */

static void run_info(const struct engine__run *r, struct engine_run_info *out)
{
    *out = (struct engine_run_info){.id = r->id,
                                    .state = r->state,
                                    .runbook = r->def.name,
                                    .signal = r->signal,
                                    .actor = r->actor,
                                    .approved_by = r->approved_by,
                                    .ended_by = r->ended_by,
                                    .why = r->why,
                                    .triggered = r->triggered,
                                    .started = r->started,
                                    .ended = r->ended,
                                    .model_before = r->model_before,
                                    .model_installed = r->model_installed,
                                    .fault = r->fault,
                                    .def = &r->def};
    for (uint32_t k = 0; k < ENGINE_ACTIONS_MAX; k++) {
        out->steps[k] = r->steps[k];
        out->notes[k] = r->notes[k];
    }
}

size_t engine_run_count(const struct engine *e)
{
    return e->n_runs;
}

int engine_run_at(const struct engine *e, size_t i, struct engine_run_info *out)
{
    if (i >= e->n_runs) {
        return CD_ENOTFOUND;
    }
    run_info(&e->runs[i], out);
    return 0;
}

int engine_run_get(const struct engine *e, uint32_t id, struct engine_run_info *out)
{
    const struct engine__run *r = run_find(e, id);
    if (r == NULL) {
        return CD_ENOTFOUND;
    }
    run_info(r, out);
    return 0;
}

static void saved_info(const struct engine__saved *s, struct engine_saved_info *out)
{
    *out = (struct engine_saved_info){.name = s->name,
                                      .source = str(s->source),
                                      .comment = str(s->comment),
                                      .actor = s->actor,
                                      .at = s->at};
}

size_t engine_saved_count(const struct engine *e)
{
    return e->n_saved;
}

int engine_saved_at(const struct engine *e, size_t i, struct engine_saved_info *out)
{
    if (i >= e->n_saved) {
        return CD_ENOTFOUND;
    }
    saved_info(&e->saved[i], out);
    return 0;
}

int engine_saved_find(const struct engine *e, const char *name, struct engine_saved_info *out)
{
    const struct engine__saved *s = saved_find(e, name);
    if (s == NULL) {
        return CD_ENOTFOUND;
    }
    saved_info(s, out);
    return 0;
}

/* ---- Snapshots ---------------------------------------------------------------------- */

void engine__runbook_def_encode(struct cd_buf *b, const struct engine_runbook_def *d)
{
    cd_buf_str(b, d->name);
    cd_buf_uvar(b, d->on);
    cd_buf_str(b, d->signal);
    cd_buf_uvar(b, d->state);
    cd_buf_uvar(b, d->severity);
    cd_buf_uvar(b, d->for_s);
    cd_buf_uvar(b, d->clear_s);
    cd_buf_uvar(b, d->max_per_hour);
    cd_buf_u8(b, d->approval);
    cd_buf_u8(b, d->revert);
    cd_buf_uvar(b, d->n_actions);
    for (uint32_t k = 0; k < d->n_actions && k < ENGINE_ACTIONS_MAX; k++) {
        cd_buf_uvar(b, d->actions[k].kind);
        cd_buf_uvar(b, d->actions[k].severity);
        cd_buf_str(b, d->actions[k].arg);
    }
}

int engine__runbook_def_decode(struct cd_reader *r, struct engine_runbook_def *d)
{
    memset(d, 0, sizeof(*d));
    cd_rd_strcpy(r, d->name, sizeof(d->name));
    d->on = (uint8_t)cd_rd_uint(r, ENGINE_ON_FAULT);
    cd_rd_strcpy(r, d->signal, sizeof(d->signal));
    d->state = (uint8_t)cd_rd_uint(r, ENGINE_SIGNAL_BAD);
    d->severity = (uint8_t)cd_rd_uint(r, ENGINE_SEVERITY_MAJOR);
    d->for_s = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    d->clear_s = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    d->max_per_hour = (uint8_t)cd_rd_uint(r, UINT8_MAX);
    d->approval = cd_rd_bool(r);
    d->revert = cd_rd_bool(r);
    d->n_actions = (uint8_t)cd_rd_uint(r, ENGINE_ACTIONS_MAX);
    for (uint32_t k = 0; k < d->n_actions && r->err == 0; k++) {
        d->actions[k].kind = (uint8_t)cd_rd_uint(r, ENGINE_DO_COUNT - 1);
        d->actions[k].severity = (uint8_t)cd_rd_uint(r, ENGINE_SEVERITY_MAJOR);
        cd_rd_strcpy(r, d->actions[k].arg, sizeof(d->actions[k].arg));
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

void engine__runbooks_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->n_saved);
    for (uint32_t i = 0; i < e->n_saved; i++) {
        const struct engine__saved *s = &e->saved[i];
        cd_buf_str(b, s->name);
        cd_buf_str(b, s->actor);
        cd_buf_svar(b, s->at);
        cd_buf_str(b, s->source);
        cd_buf_str(b, s->comment);
    }
    cd_buf_uvar(b, e->next_run);
    cd_buf_uvar(b, e->n_runs);
    for (uint32_t i = 0; i < e->n_runs; i++) {
        const struct engine__run *r = &e->runs[i];
        cd_buf_uvar(b, r->id);
        cd_buf_uvar(b, r->state);
        cd_buf_str(b, r->signal);
        cd_buf_str(b, r->actor);
        cd_buf_str(b, r->approved_by);
        cd_buf_str(b, r->ended_by);
        cd_buf_str(b, r->why);
        cd_buf_svar(b, r->triggered);
        cd_buf_svar(b, r->started);
        cd_buf_svar(b, r->ended);
        cd_buf_uvar(b, r->model_before);
        cd_buf_uvar(b, r->model_installed);
        cd_buf_uvar(b, r->fault);
        engine__runbook_def_encode(b, &r->def);
        for (uint32_t k = 0; k < r->def.n_actions; k++) {
            cd_buf_uvar(b, r->steps[k]);
            cd_buf_str(b, r->notes[k]);
        }
    }
    cd_buf_uvar(b, e->next_drill);
    cd_buf_uvar(b, e->n_drills);
    for (uint32_t i = 0; i < e->n_drills; i++) {
        cd_buf_uvar(b, e->drills[i].id);
        cd_buf_svar(b, e->drills[i].at);
        cd_buf_str(b, e->drills[i].actor);
        cd_buf_str(b, e->drills[i].text);
    }
}

static int get_run(struct cd_reader *rd, struct engine__run *r, uint32_t prev)
{
    memset(r, 0, sizeof(*r));
    r->id = (uint32_t)cd_rd_uint(rd, UINT32_MAX);
    r->state = (uint8_t)cd_rd_uint(rd, ENGINE_RUN_ENDED);
    cd_rd_strcpy(rd, r->signal, sizeof(r->signal));
    cd_rd_strcpy(rd, r->actor, sizeof(r->actor));
    cd_rd_strcpy(rd, r->approved_by, sizeof(r->approved_by));
    cd_rd_strcpy(rd, r->ended_by, sizeof(r->ended_by));
    cd_rd_strcpy(rd, r->why, sizeof(r->why));
    r->triggered = cd_rd_svar(rd);
    r->started = cd_rd_svar(rd);
    r->ended = cd_rd_svar(rd);
    r->model_before = (uint32_t)cd_rd_uint(rd, UINT32_MAX);
    r->model_installed = (uint32_t)cd_rd_uint(rd, UINT32_MAX);
    r->fault = (uint32_t)cd_rd_uint(rd, UINT32_MAX);
    if (engine__runbook_def_decode(rd, &r->def) != 0 || r->id <= prev) {
        return CD_ECORRUPT;
    }
    for (uint32_t k = 0; k < r->def.n_actions; k++) {
        r->steps[k] = (uint8_t)cd_rd_uint(rd, ENGINE_STEP_STATE_COUNT - 1);
        cd_rd_strcpy(rd, r->notes[k], sizeof(r->notes[k]));
    }
    return rd->err != 0 ? CD_ECORRUPT : 0;
}

int engine__runbooks_decode(struct engine *e, struct cd_reader *r)
{
    uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_SAVED_MAX);
    if (n > 0 && GROW(e->saved, e->cap_saved, n) != 0) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct engine__saved *s = &e->saved[i];
        memset(s, 0, sizeof(*s));
        cd_rd_strcpy(r, s->name, sizeof(s->name));
        cd_rd_strcpy(r, s->actor, sizeof(s->actor));
        s->at = cd_rd_svar(r);
        const char *source = cd_rd_str(r, NULL);
        const char *comment = cd_rd_str(r, NULL);
        if (r->err != 0 || !engine_name_valid(s->name, sizeof(s->name)) ||
            strnlen(source, ENGINE_SAVED_TEXT_MAX) == ENGINE_SAVED_TEXT_MAX ||
            (i > 0 && strcmp(e->saved[i - 1].name, s->name) >= 0)) {
            return CD_ECORRUPT;
        }
        s->source = cd_strdup(source);
        s->comment = cd_strdup(comment);
        e->n_saved++;
        if (s->source == NULL || s->comment == NULL) {
            return CD_ENOMEM;
        }
    }
    e->next_run = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    n = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    /* a run takes at least MIN_RUN bytes: a forged count cannot make us allocate more */
    if (r->err != 0 || n > cd_rd_left(r) / MIN_RUN) {
        return CD_ECORRUPT;
    }
    if (n > 0 && GROW(e->runs, e->cap_runs, n) != 0) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        int rv = get_run(r, &e->runs[i], i > 0 ? e->runs[i - 1].id : 0);
        if (rv != 0) {
            return rv;
        }
        e->n_runs++;
        if (e->runs[i].id > e->next_run) {
            return CD_ECORRUPT;
        }
    }
    e->next_drill = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    n = (uint32_t)cd_rd_uint(r, ENGINE_DRILLS_KEPT);
    if (n > 0 && GROW(e->drills, e->cap_drills, n) != 0) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct engine__drill *d = &e->drills[i];
        memset(d, 0, sizeof(*d));
        d->id = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        d->at = cd_rd_svar(r);
        cd_rd_strcpy(r, d->actor, sizeof(d->actor));
        const char *text = cd_rd_str(r, NULL);
        if (r->err != 0 || d->id == 0 || d->id > e->next_drill ||
            (i > 0 && d->id <= e->drills[i - 1].id)) {
            return CD_ECORRUPT;
        }
        d->text = cd_strdup(text);
        e->n_drills++;
        if (d->text == NULL) {
            return CD_ENOMEM;
        }
    }
    return 0;
}

void engine__runbooks_free(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_saved; i++) {
        saved_free(&e->saved[i]);
    }
    for (uint32_t i = 0; i < e->n_drills; i++) {
        cd_free(e->drills[i].text);
    }
    cd_free(e->saved);
    cd_free(e->runs);
    cd_free(e->drills);
    e->saved = NULL;
    e->runs = NULL;
    e->drills = NULL;
    e->n_saved = e->cap_saved = e->n_runs = e->cap_runs = e->next_run = 0;
    e->n_drills = e->cap_drills = e->next_drill = 0;
}
