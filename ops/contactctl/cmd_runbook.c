/* contactctl runbook: the model's runbooks, their runs, and what a set of signals would set
 * off (docs/continuity.md, "Runbooks").
 *
 *   runbook list | show NAME
 *   runbook runs [--state open|ended|all] | run-show ID
 *   runbook run NAME | approve ID | end ID [--note TEXT]
 *   runbook simulate SIGNAL=ok|warn|bad[:SECONDS]... fault:KIND=minor|major[:SECONDS]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

#define RECENT_RUNS 10
#define TEXT_MAX 1024
#define SIMULATE_FOR_MAX 31536000LL /* a year, as the node allows */

/* The runs as a table; "cause" is filled in by cause_of(). */
static const struct ctl_column runs[] = {
    {"RUN", "run", false},     {"RUNBOOK", "runbook", false},
    {"STATE", "state", false}, {"TRIGGERED", "triggered", true},
    {"ENDED", "ended", true},  {"CAUSE", "cause", false},
};

static const struct ctl_column runs_of_one[] = {
    {"RUN", "run", false},    {"STATE", "state", false}, {"TRIGGERED", "triggered", true},
    {"ENDED", "ended", true}, {"CAUSE", "cause", false},
};

static const struct ctl_column run_fields[] = {
    {"Run", "run", false},
    {"Runbook", "runbook", false},
    {"State", "state", false},
    {"Cause", "cause", false},
    {"Triggered", "triggered", true},
    {"Approved by", "approved_by", false},
    {"Started", "started", true},
    {"Ended", "ended", true},
    {"Ended by", "ended_by", false},
    {"Why", "why", false},
    {"Fault", "fault", false},
    {"Model before", "model_before", false},
    {"Model installed", "model_installed", false},
};

static const char *text(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

static long long number(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

/* "model contingency", "pause sales-chat", "fault sl_collapse (major)". */
static const char *action_text(const json_t *a, char *buf, size_t len)
{
    const char *what = json_object_get(a, "kind") != NULL ? text(a, "kind") : text(a, "target");
    const char *severity = text(a, "severity");
    snprintf(buf, len, "%s %s%s%s%s", text(a, "do"), what, *severity != 0 ? " (" : "", severity,
             *severity != 0 ? ")" : "");
    return buf;
}

/* The actions, ", " between them. */
static const char *actions_text(const json_t *actions, char *buf, size_t len)
{
    char one[300];
    size_t i, n = 0;
    const json_t *a;
    buf[0] = 0;
    json_array_foreach(actions, i, a)
    {
        int w = snprintf(buf + n, len - n, "%s%s", i > 0 ? ", " : "",
                         action_text(a, one, sizeof(one)));
        n = w < 0 || (size_t)w >= len - n ? len - 1 : n + (size_t)w;
    }
    return buf;
}

/* "queue.sales.service_level bad for 600s, clears after 300s ok or warn": a trigger on warn
 * holds on warn or bad and clears on ok; one on bad clears below bad. */
static const char *trigger_text(const json_t *t, char *buf, size_t len)
{
    if (json_object_get(t, "fault") != NULL) {
        snprintf(buf, len,
                 "a %s fault or worse of kind %s lasting %llds, clears %llds after it "
                 "closed",
                 text(t, "severity"), text(t, "fault"), number(t, "for_s"),
                 number(t, "clear_for_s"));
        return buf;
    }
    const char *when = text(t, "when");
    snprintf(buf, len, "%s %s for %llds, clears after %llds %s", text(t, "signal"), when,
             number(t, "for_s"), number(t, "clear_for_s"),
             strcmp(when, "bad") == 0 ? "ok or warn" : "ok");
    return buf;
}

/* "holds on SIGNAL" or "quiet", and its open run. */
static const char *state_text(const json_t *rb, char *buf, size_t len)
{
    int n = json_is_true(json_object_get(rb, "holds"))
                ? snprintf(buf, len, "holds on %s", text(rb, "signal"))
                : snprintf(buf, len, "quiet");
    if (json_is_integer(json_object_get(rb, "open_run")) && n >= 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, ", run %lld open", number(rb, "open_run"));
    }
    return buf;
}

/* What set a run off (its "cause"): its signal, or the person who ran it. */
static void cause_of(json_t *r)
{
    char buf[300];
    if (*text(r, "actor") != 0) {
        snprintf(buf, sizeof(buf), "by hand (%s)", text(r, "actor"));
    } else {
        snprintf(buf, sizeof(buf), "%s", text(r, "signal"));
    }
    json_object_set_new(r, "cause", json_string(buf));
}

static void causes(json_t *items)
{
    size_t i;
    json_t *r;
    json_array_foreach(items, i, r)
    {
        cause_of(r);
    }
}

static int list(struct ctl *c)
{
    char trig[TEXT_MAX], acts[TEXT_MAX], now[300];
    json_t *doc, *rb;
    size_t i;
    int rv = ctl_call(c, "GET", "/v1/runbooks", NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
        json_decref(doc);
        return CTL_OK;
    }
    if (json_array_size(json_object_get(doc, "items")) == 0) {
        printf("(no runbooks in the running model)\n");
    }
    json_array_foreach(json_object_get(doc, "items"), i, rb)
    {
        long long hour = number(rb, "runs_last_hour");
        printf("%s%s\n", i > 0 ? "\n" : "", text(rb, "name"));
        printf("  trigger  %s\n",
               trigger_text(json_object_get(rb, "trigger"), trig, sizeof(trig)));
        printf("  actions  %s\n",
               actions_text(json_object_get(rb, "actions"), acts, sizeof(acts)));
        printf("  options  approval: %s, revert: %s, at most %lld runs per hour\n",
               json_is_true(json_object_get(rb, "approval")) ? "yes" : "no",
               json_is_true(json_object_get(rb, "revert")) ? "yes" : "no",
               number(rb, "max_per_hour"));
        printf("  now      %s; %lld run%s in the last hour\n", state_text(rb, now, sizeof(now)),
               hour, hour == 1 ? "" : "s");
    }
    json_decref(doc);
    return CTL_OK;
}

static int show(struct ctl *c, const char *name)
{
    char trig[TEXT_MAX], one[300], now[300];
    json_t *doc, *all = NULL, *rb = NULL, *r;
    size_t i;
    int rv = ctl_call(c, "GET", "/v1/runbooks", NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    json_array_foreach(json_object_get(doc, "items"), i, r)
    {
        if (rb == NULL && strcmp(text(r, "name"), name) == 0) {
            rb = r;
        }
    }
    if (rb == NULL) {
        fprintf(stderr, "contactctl: no runbook '%s' in the running model\n", name);
        json_decref(doc);
        return CTL_REFUSED;
    }
    rv = ctl_call(c, "GET", "/v1/runbooks/runs", NULL, &all);
    if (rv != CTL_OK) {
        json_decref(doc);
        return rv;
    }
    /* The runs come newest first: the latest ones of this runbook. */
    json_t *recent = json_array();
    json_array_foreach(json_object_get(all, "items"), i, r)
    {
        if (strcmp(text(r, "runbook"), name) == 0 && json_array_size(recent) < RECENT_RUNS) {
            json_array_append(recent, r);
        }
    }
    if (c->json) {
        json_object_set(rb, "runs", recent);
        ctl_print_json(rb);
    } else {
        long long hour = number(rb, "runs_last_hour");
        printf("%-16s %s\n", "Runbook", text(rb, "name"));
        printf("%-16s %s\n", "Trigger",
               trigger_text(json_object_get(rb, "trigger"), trig, sizeof(trig)));
        json_array_foreach(json_object_get(rb, "actions"), i, r)
        {
            printf("%-16s %zu. %s\n", i == 0 ? "Actions" : "", i + 1,
                   action_text(r, one, sizeof(one)));
        }
        printf("%-16s %s\n", "Approval",
               json_is_true(json_object_get(rb, "approval"))
                   ? "yes: a run waits for approval before it acts"
                   : "no: a run acts at once");
        printf("%-16s %s\n", "Revert",
               json_is_true(json_object_get(rb, "revert"))
                   ? "yes: a run's actions are undone when it ends"
                   : "no: a run's actions stay when it ends");
        printf("%-16s %lld runs (%lld in the last hour)\n", "Max per hour",
               number(rb, "max_per_hour"), hour);
        printf("%-16s %s\n", "Now", state_text(rb, now, sizeof(now)));
        printf("\nRecent runs:\n");
        if (json_array_size(recent) == 0) {
            printf("  (none)\n");
        } else {
            causes(recent);
            ctl_table(recent, CTL_COLS(runs_of_one));
        }
    }
    json_decref(recent);
    json_decref(all);
    json_decref(doc);
    return CTL_OK;
}

static int run_show(struct ctl *c, const char *id)
{
    char path[256], trig[TEXT_MAX], one[300];
    json_t *doc, *step;
    size_t i;
    int rv = ctl_call(c, "GET", ctl_path(path, sizeof(path), "/v1/runbooks/runs/%s", id), NULL,
                      &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        json_t *def = json_object_get(doc, "definition");
        json_t *actions = json_object_get(def, "actions");
        cause_of(doc);
        ctl_fields(doc, CTL_COLS(run_fields));
        printf("%-16s %s\n", "Trigger",
               trigger_text(json_object_get(def, "trigger"), trig, sizeof(trig)));
        printf("%-16s %s\n", "Revert",
               json_is_true(json_object_get(def, "revert")) ? "yes" : "no");
        printf("\nSteps:\n");
        json_array_foreach(json_object_get(doc, "steps"), i, step)
        {
            /* The definition's action names a fault's severity too. */
            json_t *a = json_array_get(actions, i);
            const char *note = text(step, "note");
            printf("  %zu. %s: %s%s%s\n", i + 1,
                   action_text(a != NULL ? a : step, one, sizeof(one)), text(step, "state"),
                   *note != 0 ? " — " : "", note);
        }
    }
    json_decref(doc);
    return CTL_OK;
}

static int runs_list(struct ctl *c, int argc, char **argv)
{
    char path[256];
    json_t *doc;
    const char *state = ctl_opt(argc, argv, "state");
    if (ctl_extra(argc, argv, 1, "runbook runs")) {
        return CTL_USAGE;
    }
    int rv = ctl_call(
        c, "GET",
        ctl_path(path, sizeof(path), "/v1/runbooks/runs?state=%s", state ? state : "all"), NULL,
        &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (!c->json) {
        causes(json_object_get(doc, "items"));
    }
    ctl_show(c, doc, CTL_COLS(runs), true);
    json_decref(doc);
    return CTL_OK;
}

/* POST body (a JSON object, taken) to path: the answer in *doc. */
static int post(struct ctl *c, const char *path, json_t *body, json_t **doc)
{
    char *req = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int rv = ctl_call(c, "POST", path, req, doc);
    free(req);
    return rv;
}

static int start(struct ctl *c, const char *name)
{
    char path[256];
    json_t *doc;
    int rv =
        post(c, ctl_path(path, sizeof(path), "/v1/runbooks/%s/run", name), json_object(), &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        printf("run %lld of %s started\n", number(doc, "run"), name);
    }
    json_decref(doc);
    return CTL_OK;
}

/* approve ID, end ID [--note TEXT] */
static int act(struct ctl *c, int argc, char **argv)
{
    char path[256], done[300];
    bool end = strcmp(argv[0], "end") == 0;
    const char *note = end ? ctl_opt(argc, argv, "note") : NULL;
    if (ctl_extra(argc, argv, 2, end ? "runbook end" : "runbook approve")) {
        fprintf(stderr, "contactctl: runbook %s\n",
                end ? "end ID [--note TEXT]" : "approve ID");
        return CTL_USAGE;
    }
    json_t *body = note != NULL ? json_pack("{s:s}", "note", note) : json_object();
    snprintf(done, sizeof(done), "run %s %s", argv[1], end ? "ended" : "approved");
    const char *p = end ? ctl_path(path, sizeof(path), "/v1/runbooks/runs/%s/end", argv[1])
                        : ctl_path(path, sizeof(path), "/v1/runbooks/runs/%s/approve", argv[1]);
    return ctl_change(c, "POST", p, body, done);
}

/* SIGNAL=STATE[:SECONDS] as {"name", "state", "for"}, or fault:KIND=SEVERITY[:SECONDS] as
 * {"fault", "severity", "for"}; NULL (said) when malformed. */
static json_t *read_signal(const char *arg)
{
    char name[256], state[16];
    const char *eq = strchr(arg, '=');
    const char *colon = eq != NULL ? strchr(eq + 1, ':') : NULL;
    size_t state_len = eq == NULL      ? 0
                       : colon != NULL ? (size_t)(colon - eq - 1)
                                       : strlen(eq + 1);
    long long secs = 0;
    bool ok = eq != NULL && eq != arg && (size_t)(eq - arg) < sizeof(name) && state_len > 0 &&
              state_len < sizeof(state);
    if (ok) {
        snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
        snprintf(state, sizeof(state), "%.*s", (int)state_len, eq + 1);
        ok = strncmp(name, "fault:", 6) == 0
                 ? name[6] != 0 && (strcmp(state, "minor") == 0 || strcmp(state, "major") == 0)
                 : strcmp(state, "ok") == 0 || strcmp(state, "warn") == 0 ||
                       strcmp(state, "bad") == 0;
    }
    if (ok && colon != NULL) {
        char *end;
        secs = strtoll(colon + 1, &end, 10);
        ok = colon[1] >= '0' && colon[1] <= '9' && *end == 0 && secs <= SIMULATE_FOR_MAX;
    }
    if (!ok) {
        fprintf(stderr,
                "contactctl: runbook simulate: '%s': expected SIGNAL=ok|warn|bad[:SECONDS] or "
                "fault:KIND=minor|major[:SECONDS] (SECONDS 0-%lld)\n",
                arg, SIMULATE_FOR_MAX);
        return NULL;
    }
    if (strncmp(name, "fault:", 6) == 0) {
        return json_pack("{s:s,s:s,s:I}", "fault", name + 6, "severity", state, "for",
                         (json_int_t)secs);
    }
    return json_pack("{s:s,s:s,s:I}", "name", name, "state", state, "for", (json_int_t)secs);
}

static int simulate(struct ctl *c, int argc, char **argv)
{
    char acts[TEXT_MAX];
    json_t *signals = json_array(), *doc, *w, *q;
    size_t i;
    for (int k = 1; k < argc; k++) {
        json_t *s = read_signal(argv[k]);
        if (s == NULL) {
            json_decref(signals);
            return CTL_USAGE;
        }
        json_array_append_new(signals, s);
    }
    int rv = post(c, "/v1/runbooks/simulate", json_pack("{s:o}", "signals", signals), &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        if (json_array_size(json_object_get(doc, "would_run")) == 0) {
            printf("no runbook would run\n");
        }
        json_array_foreach(json_object_get(doc, "would_run"), i, w)
        {
            printf("%s on %s: %s\n", text(w, "runbook"), text(w, "signal"), text(w, "now"));
            printf("  actions  %s%s\n",
                   actions_text(json_object_get(w, "actions"), acts, sizeof(acts)),
                   json_is_true(json_object_get(w, "revert")) ? " (undone when it ends)" : "");
        }
        printf("quiet: ");
        json_array_foreach(json_object_get(doc, "quiet"), i, q)
        {
            printf("%s%s", i > 0 ? ", " : "", json_string_value(q));
        }
        printf("%s\n", json_array_size(json_object_get(doc, "quiet")) == 0 ? "(none)" : "");
    }
    json_decref(doc);
    return CTL_OK;
}

int ctl_cmd_runbook(struct ctl *c, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "list") == 0 && argc == 1) {
        return list(c);
    }
    if (strcmp(verb, "show") == 0 && argc == 2) {
        return show(c, argv[1]);
    }
    if (strcmp(verb, "runs") == 0) {
        return runs_list(c, argc, argv);
    }
    if (strcmp(verb, "run-show") == 0 && argc == 2) {
        return run_show(c, argv[1]);
    }
    if (strcmp(verb, "run") == 0 && argc == 2) {
        return start(c, argv[1]);
    }
    if ((strcmp(verb, "approve") == 0 || strcmp(verb, "end") == 0) && argc >= 2) {
        return act(c, argc, argv);
    }
    if (strcmp(verb, "simulate") == 0 && argc >= 2) {
        return simulate(c, argc, argv);
    }
    return CTL_USAGE;
}
