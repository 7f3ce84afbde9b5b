/* Runbooks (docs/continuity.md, "Runbooks"): the leader carries them out, and the API shows
 * and steers them.
 *
 *   GET  /v1/runbooks                     the model's runbooks, each with whether its trigger
 *                                         holds now, its open run and its runs this hour
 *   GET  /v1/runbooks/runs[?state=]       runs, newest first (open, ended or all)
 *   GET  /v1/runbooks/runs/{run}          one run, its steps and what each did
 *   POST /v1/runbooks/{runbook}/run       run it now, whatever the signals say (an admin)
 *   POST /v1/runbooks/runs/{run}/approve  let a run that waits for approval act
 *   POST /v1/runbooks/runs/{run}/end      end a run by hand {"note"} (it reverts if its
 *                                         runbook does)
 *   POST /v1/runbooks/simulate            {"signals": [{"name", "state", "for"} or {"fault",
 *                                         "severity", "for"}]}: which
 *                                         runbooks those signals would run, and what they
 *                                         would do; changes nothing
 *
 * The leader, every second (escalate.c's round calls api__runbooks_tick()):
 *   - a run whose model step is pending gets its model: the saved model's text (or, on
 *     revert, the archived text of the version before) is parsed in the thread pool and
 *     given with RUNBOOK_MODEL, or the reason it cannot be;
 *   - an open run whose trigger has cleared is ended (RUNBOOK_END); a run by hand is not:
 *     it ends by hand;
 *   - a runbook without an open run whose trigger holds is run (RUNBOOK_RUN).
 * One such command is on its way at a time. The engine refuses what is done already (a
 * second run while one is open, a model step no longer pending), so a new leader that
 * proposes the same thing again changes nothing: no action is repeated or dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"
#include "config/config.h"

#define ERR_MAX 200

/* ---- The leader's round ------------------------------------------------------------- */

struct parse_job
{
    uv_work_t work;
    struct api *api;
    uint32_t run;
    bool revert;
    char *running;    /* owned: the running version's text, to diff against */
    char *diff;       /* owned, from the worker */
    int64_t saved_at; /* the saved text's, when it installs one */
    char *text;       /* owned */
    int rv;
    char err[ERR_MAX];
    struct config_model model;
};

static void proposed(void *data, const struct engine_result *res)
{
    struct api *a = data;
    a->runbook_busy = false;
    if (res->code != 0 && res->code != CD_EEXISTS && res->code != CD_ESTATE) {
        cd_logf(CD_LOG_WARN, "runbook", "not applied: %s", res->message);
    }
}

static void propose(struct api *a, const struct engine_command *cmd)
{
    a->runbook_busy = cluster_submit(a->cluster, cmd, proposed, a) == 0;
}

static void parse_work(uv_work_t *w)
{
    struct parse_job *j = w->data;
    j->rv = config_model_parse("model", j->text, strlen(j->text), &j->model, j->err,
                               sizeof(j->err));
    char err[ERR_MAX];
    if (j->rv == 0 && config_model_diff(j->running, strlen(j->running), j->text,
                                        strlen(j->text), &j->diff, err, sizeof(err)) != 0) {
        j->diff = NULL; /* the archive goes without it: the install does not depend on it */
    }
}

static void parse_done(uv_work_t *w, int status)
{
    struct parse_job *j = w->data;
    struct api *a = j->api;
    a->runbook_parsing = false;
    if (status == 0 && !a->closing && a->cluster != NULL && cluster_is_leader(a->cluster) &&
        !a->runbook_busy) {
        const struct engine *e = cluster_engine(a->cluster);
        struct engine_command cmd = {.kind = ENGINE_CMD_RUNBOOK_MODEL,
                                     .u.runbook = {.run = j->run,
                                                   .version = engine_model_version(e) + 1,
                                                   .revert = j->revert,
                                                   .saved_at = j->saved_at,
                                                   .ok = j->rv == 0,
                                                   .model = &j->model.model,
                                                   .comment = j->diff,
                                                   .text = j->err}};
        if (j->rv == 0) {
            cd_logf(CD_LOG_INFO, "runbook", "run %u: %s as version %u", j->run,
                    j->revert ? "putting the version before back" : "installing its model",
                    cmd.u.runbook.version);
        } else {
            cd_logf(CD_LOG_WARN, "runbook", "run %u: its model does not load: %s", j->run,
                    j->err);
        }
        propose(a, &cmd);
    }
    config_model_close(&j->model);
    free(j->text);
    free(j->running);
    free(j->diff);
    free(j);
    api__close_settle(a);
}

/* The text a run's model step installs: the saved model's (*at: when it was saved), or
 * the version's before it. */
static const char *step_text(const struct engine *e,
                             const struct engine_run_info *r,
                             int k,
                             int64_t *at)
{
    struct engine_saved_info s;
    struct engine_archived v;
    if (r->steps[k] == ENGINE_STEP_PENDING) {
        bool there = engine_saved_find(e, r->def->actions[k].arg, &s) == 0;
        *at = there ? s.at : 0;
        return there ? s.source : NULL;
    }
    return engine_archive_find(e, r->model_before, &v) == 0 ? v.source : NULL;
}

/* Starts the parse of a run's model, or says at once why there is none. */
static void model_step(struct api *a,
                       const struct engine *e,
                       const struct engine_run_info *r,
                       int k)
{
    int64_t at = 0;
    bool revert = r->steps[k] == ENGINE_STEP_REVERTING;
    const char *text = step_text(e, r, k, &at);
    if (text == NULL || text[0] == 0) {
        struct engine_command cmd = {
            .kind = ENGINE_CMD_RUNBOOK_MODEL,
            .u.runbook = {.run = r->id,
                          .revert = revert,
                          .text = r->steps[k] == ENGINE_STEP_PENDING
                                      ? "the saved model is gone"
                                      : "the version before is no longer in the archive"}};
        propose(a, &cmd);
        return;
    }
    struct engine_archived cur;
    const char *running =
        engine_archive_find(e, engine_model_version(e), &cur) == 0 ? cur.source : "";
    struct parse_job *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->text = strdup(text)) == NULL ||
        (j->running = strdup(running)) == NULL) {
        if (j != NULL) {
            free(j->text);
        }
        free(j);
        return;
    }
    j->api = a;
    j->run = r->id;
    j->revert = revert;
    j->saved_at = at;
    j->work.data = j;
    config_model_init(&j->model);
    a->runbook_parsing = uv_queue_work(a->loop, &j->work, parse_work, parse_done) == 0;
    if (!a->runbook_parsing) {
        free(j->text);
        free(j->running);
        free(j);
    }
}

static int pending_model(const struct engine_run_info *r)
{
    for (int k = 0; k < r->def->n_actions; k++) {
        if (r->def->actions[k].kind == ENGINE_DO_MODEL &&
            (r->steps[k] == ENGINE_STEP_PENDING || r->steps[k] == ENGINE_STEP_REVERTING)) {
            return k;
        }
    }
    return -1;
}

void api__runbooks_tick(struct api *a)
{
    struct cluster *c = a->cluster;
    if (a->closing || c == NULL || !cluster_is_leader(c) || a->runbook_busy ||
        a->runbook_parsing) {
        return;
    }
    const struct engine *e = cluster_engine(c);
    const struct engine_model *m = engine_model(e);
    int64_t now = cluster_wall_ms();
    struct engine_run_info r;
    for (size_t i = 0; engine_run_at(e, i, &r) == 0; i++) {
        int k = pending_model(&r);
        if (k >= 0) {
            model_step(a, e, &r, k);
            return;
        }
        if (r.state != ENGINE_RUN_ENDED && engine_run_cleared(e, &r, now)) {
            struct engine_command cmd = {.kind = ENGINE_CMD_RUNBOOK_END,
                                         .u.runbook = {.run = r.id}};
            cd_logf(CD_LOG_INFO, "runbook", "run %u of %s: its trigger has cleared", r.id,
                    r.runbook);
            propose(a, &cmd);
            return;
        }
    }
    for (uint32_t i = 0; m != NULL && i < m->n_runbooks; i++) {
        const struct engine_runbook_def *d = &m->runbooks[i];
        const char *signal = NULL;
        char buf[ENGINE_NAME_MAX];
        if (engine_run_open(e, d->name) == 0 &&
            engine_runs_in_hour(e, d->name, now) < d->max_per_hour &&
            engine_runbook_holds(e, d, now, &signal, buf)) {
            struct engine_command cmd = {.kind = ENGINE_CMD_RUNBOOK_RUN,
                                         .u.runbook = {.name = d->name, .signal = signal}};
            cd_logf(CD_LOG_WARN, "runbook", "%s: %s holds its trigger", d->name, signal);
            propose(a, &cmd);
            return;
        }
    }
}

/* ---- Reading ------------------------------------------------------------------------ */

static json_t *actions_json(const struct engine_runbook_def *d)
{
    json_t *arr = json_array();
    for (uint32_t k = 0; k < d->n_actions; k++) {
        const struct engine_runbook_action *x = &d->actions[k];
        json_t *o = json_pack("{s:s,s:s}", "do", engine_runbook_do_name(x->kind),
                              x->kind == ENGINE_DO_FAULT ? "kind" : "target", x->arg);
        if (x->kind == ENGINE_DO_FAULT) {
            json_object_set_new(o, "severity", json_string(engine_severity_name(x->severity)));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *def_json(const struct engine_runbook_def *d)
{
    json_t *trigger = d->on == ENGINE_ON_FAULT
                          ? json_pack("{s:s,s:s}", "fault", d->signal, "severity",
                                      engine_severity_name(d->severity))
                          : json_pack("{s:s,s:s}", "signal", d->signal, "when",
                                      engine_signal_state_name(d->state));
    json_object_set_new(trigger, "for_s", json_integer(d->for_s));
    json_object_set_new(trigger, "clear_for_s", json_integer(d->clear_s));
    return json_pack("{s:s,s:o,s:o,s:b,s:b,s:i}", "name", d->name, "trigger", trigger,
                     "actions", actions_json(d), "approval", d->approval, "revert", d->revert,
                     "max_per_hour", d->max_per_hour);
}

static json_t *run_json(const struct engine_run_info *r)
{
    json_t *steps = json_array();
    for (uint32_t k = 0; k < r->def->n_actions; k++) {
        const struct engine_runbook_action *x = &r->def->actions[k];
        json_array_append_new(
            steps, json_pack("{s:s,s:s,s:s,s:s}", "do", engine_runbook_do_name(x->kind),
                             "target", x->arg, "state", engine_step_state_name(r->steps[k]),
                             "note", r->notes[k]));
    }
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o}", "run", (json_int_t)r->id,
        "runbook", r->runbook, "state", engine_run_state_name(r->state), "signal", r->signal,
        "actor", r->actor, "approved_by", r->approved_by, "ended_by", r->ended_by, "why",
        r->why, "triggered", (json_int_t)r->triggered, "started", (json_int_t)r->started,
        "ended", (json_int_t)r->ended, "steps", steps, "definition", def_json(r->def));
    if (r->fault != 0) {
        json_object_set_new(o, "fault", json_integer(r->fault));
    }
    if (r->model_installed != 0) {
        json_object_set_new(o, "model_before", json_integer(r->model_before));
        json_object_set_new(o, "model_installed", json_integer(r->model_installed));
    }
    return o;
}

void api__runbooks(struct api__call *call)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    const struct engine_model *m = engine_model(e);
    int64_t now = cluster_wall_ms();
    json_t *items = json_array();
    for (uint32_t i = 0; m != NULL && i < m->n_runbooks; i++) {
        const struct engine_runbook_def *d = &m->runbooks[i];
        const char *signal = NULL;
        char buf[ENGINE_NAME_MAX];
        json_t *o = def_json(d);
        bool holds = engine_runbook_holds(e, d, now, &signal, buf);
        uint32_t open = engine_run_open(e, d->name);
        json_object_set_new(o, "holds", json_boolean(holds));
        json_object_set_new(o, "signal", holds ? json_string(signal) : json_null());
        json_object_set_new(o, "open_run", open != 0 ? json_integer(open) : json_null());
        json_object_set_new(o, "runs_last_hour",
                            json_integer(engine_runs_in_hour(e, d->name, now)));
        json_array_append_new(items, o);
    }
    http_reply_json(call->x, 200, json_pack("{s:o}", "items", items));
}

void api__runbook_runs(struct api__call *call)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    char state[16] = "all";
    int len = http_query_get(call->req, "state", state, sizeof(state));
    int want = strcmp(state, "open") == 0 ? 1 : strcmp(state, "ended") == 0 ? 2 : 0;
    if (len == -2 || (want == 0 && strcmp(state, "all") != 0)) {
        http_reply_error(call->x, 400, "INVAL", "state: expected open, ended or all (got '%s')",
                         len == -2 ? "(too long)" : state);
        return;
    }
    json_t *items = json_array();
    struct engine_run_info r;
    for (size_t i = engine_run_count(e); i-- > 0;) {
        if (engine_run_at(e, i, &r) != 0 || (want == 1 && r.state == ENGINE_RUN_ENDED) ||
            (want == 2 && r.state != ENGINE_RUN_ENDED)) {
            continue;
        }
        json_array_append_new(items, run_json(&r));
    }
    http_reply_json(call->x, 200, json_pack("{s:o}", "items", items));
}

static bool run_id(struct api__call *call, uint32_t *id)
{
    if (call->ids[0] > UINT32_MAX) {
        http_reply_error(call->x, 404, "NOTFOUND", "run %llu not found",
                         (unsigned long long)call->ids[0]);
        return false;
    }
    *id = (uint32_t)call->ids[0];
    return true;
}

void api__runbook_run_get(struct api__call *call)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    struct engine_run_info r;
    uint32_t id;
    if (!run_id(call, &id)) {
        return;
    }
    if (engine_run_get(e, id, &r) != 0) {
        http_reply_error(call->x, 404, "NOTFOUND", "run %u not found", id);
        return;
    }
    http_reply_json(call->x, 200, run_json(&r));
}

/* ---- Steering ----------------------------------------------------------------------- */

void api__runbook_start(struct api__call *call)
{
    static const char *const keys[] = {NULL};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    json_decref(body);
    struct engine_command cmd = {.kind = ENGINE_CMD_RUNBOOK_RUN,
                                 .u.runbook = {.name = call->args[0]}};
    api__submit(call, &cmd, 201);
}

void api__runbook_action(struct api__call *call, int kind)
{
    static const char *const keys[] = {"note", NULL};
    struct engine_command cmd = {.kind = (uint8_t)kind};
    bool bad = false;
    if (!run_id(call, &cmd.u.runbook.run)) {
        return;
    }
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.runbook.text = api__opt_text(call, body, "note", &bad);
    if (!bad) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* ---- Simulation --------------------------------------------------------------------- */

/* One simulated condition: a signal {"name", "state", "for"} or a fault {"fault" (its
 * kind), "severity", "for"}. */
struct cond
{
    bool fault;
    const char *name;
    int state; /* a signal's state, or a fault's severity */
    int64_t held_ms;
};

static bool read_cond(struct api__call *call, json_t *v, struct cond *c)
{
    json_t *n = json_object_get(v, "name"), *s = json_object_get(v, "state");
    json_t *k = json_object_get(v, "fault"), *sev = json_object_get(v, "severity");
    json_t *f = json_object_get(v, "for");
    size_t members = (n != NULL) + (s != NULL) + (k != NULL) + (sev != NULL) + (f != NULL);
    const char *sv = json_string_value(sev);
    c->fault = k != NULL;
    c->name = json_string_value(c->fault ? k : n);
    c->state = c->fault            ? (sv == NULL                 ? ENGINE_SEVERITY_MINOR
                                      : strcmp(sv, "major") == 0 ? ENGINE_SEVERITY_MAJOR
                                      : strcmp(sv, "minor") == 0 ? ENGINE_SEVERITY_MINOR
                                                                 : -1)
               : json_is_string(s) ? engine_signal_state_parse(json_string_value(s))
                                   : -1;
    bool shape = c->fault ? n == NULL && s == NULL && (sev == NULL || sv != NULL)
                          : k == NULL && sev == NULL && json_is_string(s) &&
                                c->state <= ENGINE_SIGNAL_BAD;
    if (!json_is_object(v) || json_object_size(v) != members || c->name == NULL || !shape ||
        c->state < 0 ||
        (f != NULL && (!json_is_integer(f) || json_integer_value(f) < 0 ||
                       json_integer_value(f) > 86400 * 365))) {
        http_reply_error(call->x, 400, "INVAL",
                         "signals: each a signal {\"name\", \"state\": ok|warn|bad, \"for\": "
                         "seconds} or a fault {\"fault\": KIND, \"severity\": minor|major, "
                         "\"for\": seconds} (for: 0..31536000, default 0)");
        return false;
    }
    c->held_ms = f != NULL ? json_integer_value(f) * 1000 : 0;
    return true;
}

void api__runbook_simulate(struct api__call *call)
{
    static const char *const keys[] = {"signals", NULL};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    json_t *signals = json_object_get(body, "signals");
    if (!json_is_array(signals) || json_array_size(signals) == 0 ||
        json_array_size(signals) > ENGINE_HEALTH_BATCH) {
        http_reply_error(call->x, 400, "INVAL", "signals: a list of 1-%d signals",
                         ENGINE_HEALTH_BATCH);
        json_decref(body);
        return;
    }
    const struct engine *e = cluster_engine(call->api->cluster);
    const struct engine_model *m = engine_model(e);
    int64_t now = cluster_wall_ms();
    json_t *would = json_array(), *quiet = json_array();
    size_t i;
    json_t *v;
    struct cond conds[ENGINE_HEALTH_BATCH];
    json_array_foreach(signals, i, v)
    {
        if (!read_cond(call, v, &conds[i])) {
            json_decref(would);
            json_decref(quiet);
            json_decref(body);
            return;
        }
    }
    for (uint32_t r = 0; m != NULL && r < m->n_runbooks; r++) {
        const struct engine_runbook_def *d = &m->runbooks[r];
        const char *by = NULL;
        for (i = 0; i < json_array_size(signals) && by == NULL; i++) {
            const struct cond *x = &conds[i];
            by = engine_runbook_fires(d, x->fault, x->name, x->state, x->held_ms) ? x->name
                                                                                  : NULL;
        }
        if (by == NULL) {
            json_array_append_new(quiet, json_string(d->name));
            continue;
        }
        uint32_t open = engine_run_open(e, d->name);
        uint32_t hour = engine_runs_in_hour(e, d->name, now);
        const char *then = open != 0                 ? "no: a run of it is open"
                           : hour >= d->max_per_hour ? "no: it ran its most this hour"
                           : d->approval             ? "waits for approval, then acts"
                                                     : "acts at once";
        json_array_append_new(
            would, json_pack("{s:s,s:s,s:s,s:o,s:b}", "runbook", d->name, "signal", by, "now",
                             then, "actions", actions_json(d), "revert", d->revert));
    }
    http_reply_json(call->x, 200, json_pack("{s:o,s:o}", "would_run", would, "quiet", quiet));
    json_decref(body);
}
