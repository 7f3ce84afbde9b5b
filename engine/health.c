/* Health signals and faults (engine/health.h): the table of signals the leader's HEALTH
 * commands set, and the faults the policy opens and closes as signals change state. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

/* The built-in policy: what a contact centre's operator would call major (customers are
 * or will soon be turned away) and minor (the service runs, with less margin). */
static const struct engine_fault_rule builtin[] = {
    {"cluster.quorum", ENGINE_SIGNAL_BAD, "quorum_lost", ENGINE_SEVERITY_MAJOR},
    {"member.*.reachable", ENGINE_SIGNAL_BAD, "member_down", ENGINE_SEVERITY_MINOR},
    {"member.*.lag", ENGINE_SIGNAL_BAD, "member_behind", ENGINE_SEVERITY_MINOR},
    {"node.*.disk_free", ENGINE_SIGNAL_WARN, "disk_low", ENGINE_SEVERITY_MINOR},
    {"node.*.disk_free", ENGINE_SIGNAL_BAD, "disk_low", ENGINE_SEVERITY_MAJOR},
    {"node.*.store_used", ENGINE_SIGNAL_WARN, "store_filling", ENGINE_SEVERITY_MINOR},
    {"node.*.store_used", ENGINE_SIGNAL_BAD, "store_filling", ENGINE_SEVERITY_MAJOR},
    {"node.*.api_errors", ENGINE_SIGNAL_BAD, "api_errors", ENGINE_SEVERITY_MINOR},
    {"node.*.commit_latency", ENGINE_SIGNAL_BAD, "commit_slow", ENGINE_SEVERITY_MINOR},
    {"node.*.disk_latency", ENGINE_SIGNAL_BAD, "disk_slow", ENGINE_SEVERITY_MINOR},
    {"cluster.elections", ENGINE_SIGNAL_WARN, "leader_unstable", ENGINE_SEVERITY_MINOR},
    {"cluster.elections", ENGINE_SIGNAL_BAD, "leader_unstable", ENGINE_SEVERITY_MAJOR},
    {"queue.*.agents", ENGINE_SIGNAL_BAD, "no_agents", ENGINE_SEVERITY_MAJOR},
    {"queue.*.service_level", ENGINE_SIGNAL_BAD, "service_level_low", ENGINE_SEVERITY_MINOR},
    {"queue.*.waiting", ENGINE_SIGNAL_BAD, "queue_long", ENGINE_SEVERITY_MINOR},
    {"queue.*.longest_wait", ENGINE_SIGNAL_BAD, "wait_long", ENGINE_SEVERITY_MINOR},
    {"*", ENGINE_SIGNAL_BAD, NULL, ENGINE_SEVERITY_MINOR},
};

size_t engine_fault_policy(const struct engine *e, const struct engine_fault_rule **rules)
{
    (void)e;
    *rules = builtin;
    return sizeof(builtin) / sizeof(builtin[0]);
}

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

bool engine_signal_match(const char *pattern, const char *name)
{
    if (strcmp(pattern, "*") == 0) {
        return true;
    }
    for (;;) {
        size_t pl = strcspn(pattern, "."), nl = strcspn(name, ".");
        bool any = pl == 1 && pattern[0] == '*';
        if (!any && (pl != nl || memcmp(pattern, name, pl) != 0)) {
            return false;
        }
        pattern += pl;
        name += nl;
        if (*pattern == 0 || *name == 0) {
            return *pattern == 0 && *name == 0;
        }
        pattern++;
        name++;
    }
}

static const char *const state_names[] = {"ok", "warn", "bad", "gone"};

const char *engine_signal_state_name(int state)
{
    return state >= 0 && state <= ENGINE_SIGNAL_GONE ? state_names[state] : NULL;
}

int engine_signal_state_parse(const char *s)
{
    for (int i = 0; i <= ENGINE_SIGNAL_GONE; i++) {
        if (strcmp(s, state_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *engine_severity_name(int severity)
{
    return severity == ENGINE_SEVERITY_MAJOR   ? "major"
           : severity == ENGINE_SEVERITY_MINOR ? "minor"
                                               : NULL;
}

/* ---- the tables --------------------------------------------------------------------- */

static void fault_free(struct engine__fault *f)
{
    for (uint32_t i = 0; i < f->n_log; i++) {
        cd_free(f->log[i].actor);
        cd_free(f->log[i].text);
    }
    cd_free(f->log);
    for (uint32_t i = 0; i < f->n_notices; i++) {
        cd_free(f->notices[i].text);
    }
    cd_free(f->notices);
    memset(f, 0, sizeof(*f));
}

void engine__health_free(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_faults; i++) {
        fault_free(&e->faults[i]);
    }
    cd_free(e->faults);
    cd_free(e->signals);
    e->faults = NULL;
    e->signals = NULL;
    e->n_faults = e->cap_faults = e->n_signals = e->cap_signals = 0;
}

/* The signal's position, or where it would go (names sorted), in *at. */
static bool find_signal(const struct engine *e, const char *name, uint32_t *at)
{
    return FIND_SORTED(e->signals, e->n_signals, name, name, at);
}

struct engine__fault *engine__fault_find(const struct engine *e, uint32_t id)
{
    uint32_t lo = 0, hi = e->n_faults;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e->faults[mid].id == id) {
            return &e->faults[mid];
        }
        if (e->faults[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* Appends a line to the fault's log; the node's own lines past the cap are dropped (the
 * fault keeps its state: only the story is shorter). */
int engine__fault_log(struct engine *e,
                      struct engine__fault *f,
                      int64_t at,
                      const char *actor,
                      const char *what,
                      const char *text)
{
    if (f->n_log == ENGINE_FAULT_LOG_MAX) {
        return CD_ETOOBIG;
    }
    if (GROW(f->log, f->cap_log, f->n_log + 1) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    struct engine__fault_line *l = &f->log[f->n_log];
    memset(l, 0, sizeof(*l));
    l->at = at;
    snprintf(l->what, sizeof(l->what), "%s", what);
    l->actor = cd_strdup(str(actor));
    l->text = cd_strdup(str(text));
    if (l->actor == NULL || l->text == NULL) {
        cd_free(l->actor);
        cd_free(l->text);
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    f->n_log++;
    return 0;
}

static void component_of(const char *signal, char *out, size_t n)
{
    size_t first = strcspn(signal, ".");
    if (strncmp(signal, "cluster.", 8) == 0) {
        snprintf(out, n, "cluster");
    } else if (strncmp(signal, "queue.", 6) == 0 && strrchr(signal, '.') > signal + first) {
        const char *q = signal + first + 1; /* to the last dot: a name may hold dots */
        snprintf(out, n, "queue:%.*s", (int)(strrchr(signal, '.') - q), q);
    } else if ((strncmp(signal, "member.", 7) == 0 || strncmp(signal, "node.", 5) == 0) &&
               signal[first] == '.' && strrchr(signal, '.') > signal + first) {
        const char *id = signal + first + 1; /* to the last dot: an id may hold dots */
        snprintf(out, n, "node:%.*s", (int)(strrchr(signal, '.') - id), id);
    } else {
        snprintf(out, n, "%.*s", (int)first, signal);
    }
}

/* The model's rules first, then the built-in ones. */
static const struct engine_fault_rule *rule_for(const struct engine *e,
                                                const char *signal,
                                                uint8_t state,
                                                struct engine_fault_rule *scratch)
{
    for (uint32_t i = 0; e->has_model && i < e->model.n_fault_rules; i++) {
        const struct engine_fault_rule_def *d = &e->model.fault_rules[i];
        if (d->state == state && engine_signal_match(d->signal, signal)) {
            *scratch = (struct engine_fault_rule){
                d->signal, d->state, d->kind[0] != 0 ? d->kind : NULL, d->severity};
            return scratch;
        }
    }
    const struct engine_fault_rule *rules;
    size_t n = engine_fault_policy(e, &rules);
    for (size_t i = 0; i < n; i++) {
        if (rules[i].state == state && engine_signal_match(rules[i].signal, signal)) {
            return &rules[i];
        }
    }
    return NULL;
}

/* Drops the fault closed first while more than ENGINE_FAULTS_KEPT are closed. */
static void trim_closed(struct engine *e)
{
    uint32_t closed = 0;
    for (uint32_t i = 0; i < e->n_faults; i++) {
        closed += e->faults[i].closed != 0;
    }
    while (closed > ENGINE_FAULTS_KEPT) {
        uint32_t first = UINT32_MAX;
        for (uint32_t i = 0; i < e->n_faults; i++) {
            if (e->faults[i].closed != 0 &&
                (first == UINT32_MAX || e->faults[i].closed < e->faults[first].closed)) {
                first = i;
            }
        }
        fault_free(&e->faults[first]);
        memmove(&e->faults[first], &e->faults[first + 1],
                (e->n_faults - first - 1) * sizeof(e->faults[0]));
        e->n_faults--;
        closed--;
    }
}

static int open_fault(struct engine *e,
                      struct engine__signal *s,
                      const struct engine_fault_rule *rule)
{
    if (GROW(e->faults, e->cap_faults, e->n_faults + 1) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    struct engine__fault *f = &e->faults[e->n_faults];
    memset(f, 0, sizeof(*f));
    f->id = ++e->next_fault;
    f->severity = rule->severity;
    snprintf(f->kind, sizeof(f->kind), "%s", rule->kind != NULL ? rule->kind : s->name);
    snprintf(f->signal, sizeof(f->signal), "%s", s->name);
    component_of(s->name, f->component, sizeof(f->component));
    f->opened = s->since;
    e->n_faults++;
    s->fault = f->id;
    char text[ENGINE_FAULT_TEXT_MAX];
    snprintf(text, sizeof(text), "%s %s (%lld): %s", s->name, state_names[s->state],
             (long long)s->value, engine_severity_name(f->severity));
    return engine__fault_log(e, f, s->since, "", "opened", text);
}

int engine__fault_open(struct engine *e,
                       const char *kind,
                       const char *component,
                       uint8_t severity,
                       const char *text,
                       uint32_t *id)
{
    if (GROW(e->faults, e->cap_faults, e->n_faults + 1) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    struct engine__fault *f = &e->faults[e->n_faults];
    memset(f, 0, sizeof(*f));
    f->id = *id = ++e->next_fault;
    f->severity = severity;
    snprintf(f->kind, sizeof(f->kind), "%s", kind);
    snprintf(f->component, sizeof(f->component), "%s", component);
    f->opened = e->clock;
    e->n_faults++;
    return engine__fault_log(e, f, e->clock, "", "opened", text);
}

/* Somebody has it, or it is over: what is not sent yet is not sent. */
static void cancel_notices(struct engine__fault *f)
{
    for (uint32_t i = 0; i < f->n_notices; i++) {
        if (f->notices[i].state == ENGINE_NOTICE_PENDING) {
            f->notices[i].state = ENGINE_NOTICE_CANCELLED;
        }
    }
}

static int close_fault(struct engine *e,
                       struct engine__fault *f,
                       int64_t at,
                       const char *actor,
                       const char *what,
                       const char *text)
{
    f->closed = at > f->opened ? at : f->opened;
    cancel_notices(f);
    snprintf(f->closed_by, sizeof(f->closed_by), "%s", str(actor));
    int rv = engine__fault_log(e, f, f->closed, actor, what, text);
    return rv == CD_ETOOBIG ? 0 : rv;
}

int engine__fault_end(struct engine *e, uint32_t id, const char *what, const char *text)
{
    struct engine__fault *f = engine__fault_find(e, id);
    if (f == NULL || f->closed != 0) {
        return 0;
    }
    int rv = close_fault(e, f, e->clock, "", what, text);
    trim_closed(e);
    return rv;
}

/* What a signal's new state means for its fault. */
static int decide(struct engine *e, struct engine__signal *s)
{
    struct engine__fault *f = s->fault != 0 ? engine__fault_find(e, s->fault) : NULL;
    if (s->state == ENGINE_SIGNAL_OK || s->state == ENGINE_SIGNAL_GONE) {
        s->fault = 0;
        s->closed = false;
        if (f == NULL) {
            return 0;
        }
        char text[ENGINE_FAULT_TEXT_MAX];
        snprintf(text, sizeof(text), "%s %s (%lld)", s->name,
                 s->state == ENGINE_SIGNAL_OK ? "ok" : "gone", (long long)s->value);
        return close_fault(e, f, s->since, "", "recovered", text);
    }
    struct engine_fault_rule scratch;
    const struct engine_fault_rule *rule = rule_for(e, s->name, s->state, &scratch);
    if (f == NULL) {
        return rule != NULL && !s->closed ? open_fault(e, s, rule) : 0;
    }
    if (rule != NULL && rule->severity != f->severity) {
        char text[ENGINE_FAULT_TEXT_MAX];
        snprintf(text, sizeof(text), "%s %s (%lld): %s to %s", s->name, state_names[s->state],
                 (long long)s->value, engine_severity_name(f->severity),
                 engine_severity_name(rule->severity));
        f->severity = rule->severity;
        int rv = engine__fault_log(e, f, s->since, "", "severity", text);
        return rv == CD_ETOOBIG ? 0 : rv;
    }
    return 0;
}

/* ---- HEALTH ------------------------------------------------------------------------- */

static int check_health(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    uint8_t n = cmd->u.health.n;
    const struct engine_signal_set *v = cmd->u.health.signals;
    if (n == 0 || n > ENGINE_HEALTH_BATCH || v == NULL) {
        return FAIL(res, CD_EINVAL, "health: 1-%d signals", ENGINE_HEALTH_BATCH);
    }
    uint32_t added = 0;
    for (uint8_t i = 0; i < n; i++) {
        const char *name = str(v[i].name);
        if (!engine_name_valid(name, ENGINE_NAME_MAX)) {
            return FAIL(res, CD_EINVAL, "health: signal name: 1-%d of %s (got '%s')",
                        ENGINE_NAME_MAX - 1, ENGINE_NAME_CHARSET, name);
        }
        if (v[i].state > ENGINE_SIGNAL_GONE) {
            return FAIL(res, CD_EINVAL, "health: signal '%s': state %u out of range", name,
                        v[i].state);
        }
        if (v[i].since < 0 || v[i].since > e->clock) {
            return FAIL(res, CD_EINVAL, "health: signal '%s': since %lld is not in the past",
                        name, (long long)v[i].since);
        }
        for (uint8_t k = 0; k < i; k++) {
            if (strcmp(str(v[k].name), name) == 0) {
                return FAIL(res, CD_EINVAL, "health: signal '%s' twice", name);
            }
        }
        uint32_t at;
        added += !find_signal(e, name, &at) && v[i].state != ENGINE_SIGNAL_GONE;
    }
    if (e->n_signals + added > ENGINE_SIGNALS_MAX) {
        return FAIL(res, CD_ETOOBIG, "health: at most %d signals", ENGINE_SIGNALS_MAX);
    }
    return 0;
}

static int set_signal(struct engine *e, const struct engine_signal_set *v)
{
    uint32_t at;
    bool found = find_signal(e, v->name, &at);
    int64_t since = v->since != 0 ? v->since : e->clock;
    if (!found) {
        if (v->state == ENGINE_SIGNAL_GONE) {
            return 0;
        }
        if (GROW(e->signals, e->cap_signals, e->n_signals + 1) != 0) {
            e->oom = CD_ENOMEM;
            return CD_ENOMEM;
        }
        memmove(&e->signals[at + 1], &e->signals[at],
                (e->n_signals - at) * sizeof(e->signals[0]));
        e->n_signals++;
        struct engine__signal *s = &e->signals[at];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", v->name);
        s->state = v->state;
        s->value = v->value;
        s->since = since;
        return s->state != ENGINE_SIGNAL_OK ? decide(e, s) : 0;
    }
    struct engine__signal *s = &e->signals[at];
    s->value = v->value;
    if (s->state == v->state) {
        return 0;
    }
    s->state = v->state;
    s->since = since;
    int rv = decide(e, s);
    if (rv == 0 && v->state == ENGINE_SIGNAL_GONE) {
        memmove(&e->signals[at], &e->signals[at + 1],
                (e->n_signals - at - 1) * sizeof(e->signals[0]));
        e->n_signals--;
    }
    return rv;
}

static int cmd_health(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res)
{
    int rv = check_health(e, cmd, res);
    for (uint8_t i = 0; rv == 0 && i < cmd->u.health.n; i++) {
        rv = set_signal(e, &cmd->u.health.signals[i]);
    }
    if (rv == 0) {
        trim_closed(e);
    }
    return rv == 0 || rv == res->code ? rv : FAIL(res, rv, "out of memory");
}

/* ---- FAULT_ACK, _NOTE, _CLOSE --------------------------------------------------------- */

static int cmd_fault(struct engine *e,
                     const struct engine_command *cmd,
                     struct engine_result *res)
{
    uint32_t id = cmd->u.fault.id;
    const char *text = str(cmd->u.fault.text), *actor = str(cmd->actor);
    struct engine__fault *f = engine__fault_find(e, id);
    if (f == NULL) {
        return FAIL(res, CD_ENOTFOUND, "fault %u not found", id);
    }
    if (strnlen(text, ENGINE_FAULT_TEXT_MAX) == ENGINE_FAULT_TEXT_MAX) {
        return FAIL(res, CD_EINVAL, "fault %u: a note is at most %d bytes", id,
                    ENGINE_FAULT_TEXT_MAX - 1);
    }
    if (cmd->kind == ENGINE_CMD_FAULT_NOTE && text[0] == 0) {
        return FAIL(res, CD_EINVAL, "fault %u: the note is empty", id);
    }
    if (cmd->kind != ENGINE_CMD_FAULT_NOTE && f->closed != 0) {
        return FAIL(res, CD_ESTATE, "fault %u is closed", id);
    }
    if (cmd->kind == ENGINE_CMD_FAULT_ACK && f->acked != 0) {
        res->existing = true;
        return 0;
    }
    if (cmd->kind == ENGINE_CMD_FAULT_NOTE && f->n_log == ENGINE_FAULT_LOG_MAX) {
        return FAIL(res, CD_ETOOBIG, "fault %u: its log is full (%d lines)", id,
                    ENGINE_FAULT_LOG_MAX);
    }
    int rv;
    switch (cmd->kind) {
        case ENGINE_CMD_FAULT_ACK:
            f->acked = e->clock;
            snprintf(f->acked_by, sizeof(f->acked_by), "%s", actor);
            cancel_notices(f);
            rv = engine__fault_log(e, f, e->clock, actor, "acked", text);
            rv = rv == CD_ETOOBIG ? 0 : rv; /* acknowledged all the same */
            break;
        case ENGINE_CMD_FAULT_NOTE:
            rv = engine__fault_log(e, f, e->clock, actor, "note", text);
            break;
        default:
            for (uint32_t i = 0; i < e->n_signals; i++) {
                if (e->signals[i].fault == id) {
                    e->signals[i].fault = 0; /* a new fault once it has been ok again */
                    e->signals[i].closed = true;
                }
            }
            rv = close_fault(e, f, e->clock, actor, "closed", text);
            trim_closed(e);
            break;
    }
    return rv == 0 ? 0 : FAIL(res, rv, "out of memory");
}

int engine__cmd_health(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res)
{
    return cmd->kind == ENGINE_CMD_HEALTH ? cmd_health(e, cmd, res) : cmd_fault(e, cmd, res);
}

/* ---- reading ------------------------------------------------------------------------ */

static void signal_info(const struct engine__signal *s, struct engine_signal_info *out)
{
    *out = (struct engine_signal_info){.name = s->name,
                                       .state = s->state,
                                       .value = s->value,
                                       .since = s->since,
                                       .fault = s->fault};
}

size_t engine_signal_count(const struct engine *e)
{
    return e->n_signals;
}

int engine_signal_at(const struct engine *e, size_t i, struct engine_signal_info *out)
{
    if (i >= e->n_signals) {
        return CD_ENOTFOUND;
    }
    signal_info(&e->signals[i], out);
    return 0;
}

int engine_signal_find(const struct engine *e, const char *name, struct engine_signal_info *out)
{
    uint32_t at;
    if (name == NULL || !find_signal(e, name, &at)) {
        return CD_ENOTFOUND;
    }
    signal_info(&e->signals[at], out);
    return 0;
}

static void fault_info(const struct engine__fault *f, struct engine_fault_info *out)
{
    *out = (struct engine_fault_info){.id = f->id,
                                      .severity = f->severity,
                                      .kind = f->kind,
                                      .component = f->component,
                                      .signal = f->signal,
                                      .opened = f->opened,
                                      .closed = f->closed,
                                      .acked = f->acked,
                                      .acked_by = f->acked_by,
                                      .closed_by = f->closed_by,
                                      .n_log = f->n_log,
                                      .n_notices = f->n_notices};
}

size_t engine_fault_count(const struct engine *e)
{
    return e->n_faults;
}

size_t engine_fault_open_count(const struct engine *e, int severity)
{
    size_t n = 0;
    for (uint32_t i = 0; i < e->n_faults; i++) {
        n += e->faults[i].closed == 0 && (severity == 0 || e->faults[i].severity == severity);
    }
    return n;
}

int engine_fault_at(const struct engine *e, size_t i, struct engine_fault_info *out)
{
    if (i >= e->n_faults) {
        return CD_ENOTFOUND;
    }
    fault_info(&e->faults[i], out);
    return 0;
}

int engine_fault_get(const struct engine *e, uint32_t id, struct engine_fault_info *out)
{
    const struct engine__fault *f = engine__fault_find(e, id);
    if (f == NULL) {
        return CD_ENOTFOUND;
    }
    fault_info(f, out);
    return 0;
}

int engine_fault_log(const struct engine *e,
                     uint32_t id,
                     uint32_t i,
                     struct engine_fault_line *out)
{
    const struct engine__fault *f = engine__fault_find(e, id);
    if (f == NULL || i >= f->n_log) {
        return CD_ENOTFOUND;
    }
    const struct engine__fault_line *l = &f->log[i];
    *out = (struct engine_fault_line){
        .at = l->at, .actor = l->actor, .what = l->what, .text = l->text};
    return 0;
}

/* ---- snapshots ---------------------------------------------------------------------- */

void engine__health_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->n_signals);
    for (uint32_t i = 0; i < e->n_signals; i++) {
        const struct engine__signal *s = &e->signals[i];
        cd_buf_str(b, s->name);
        cd_buf_uvar(b, s->state);
        cd_buf_svar(b, s->value);
        cd_buf_svar(b, s->since);
        cd_buf_uvar(b, s->fault);
        cd_buf_u8(b, s->closed);
    }
    cd_buf_uvar(b, e->next_fault);
    cd_buf_uvar(b, e->n_faults);
    for (uint32_t i = 0; i < e->n_faults; i++) {
        const struct engine__fault *f = &e->faults[i];
        cd_buf_uvar(b, f->id);
        cd_buf_uvar(b, f->severity);
        cd_buf_str(b, f->kind);
        cd_buf_str(b, f->component);
        cd_buf_str(b, f->signal);
        cd_buf_svar(b, f->opened);
        cd_buf_svar(b, f->closed);
        cd_buf_svar(b, f->acked);
        cd_buf_str(b, f->acked_by);
        cd_buf_str(b, f->closed_by);
        cd_buf_uvar(b, f->n_log);
        for (uint32_t k = 0; k < f->n_log; k++) {
            cd_buf_svar(b, f->log[k].at);
            cd_buf_str(b, f->log[k].actor);
            cd_buf_str(b, f->log[k].what);
            cd_buf_str(b, f->log[k].text);
        }
        cd_buf_uvar(b, f->n_notices);
        for (uint32_t k = 0; k < f->n_notices; k++) {
            const struct engine__notice *n = &f->notices[k];
            cd_buf_str(b, n->path);
            cd_buf_uvar(b, n->level);
            cd_buf_uvar(b, n->target);
            cd_buf_uvar(b, n->kind);
            cd_buf_uvar(b, n->state);
            cd_buf_uvar(b, n->attempts);
            cd_buf_str(b, n->address);
            cd_buf_svar(b, n->opened);
            cd_buf_svar(b, n->retry_at);
            cd_buf_svar(b, n->at);
            cd_buf_str(b, n->text != NULL ? n->text : "");
        }
    }
}

static int get_notices(struct engine *e, struct engine__fault *f, struct cd_reader *r)
{
    uint32_t n = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    if (r->err != 0 || n > cd_rd_left(r)) {
        return CD_ECORRUPT;
    }
    if (n > 0 && GROW(f->notices, f->cap_notices, n) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    for (uint32_t k = 0; k < n; k++) {
        struct engine__notice *x = &f->notices[k];
        memset(x, 0, sizeof(*x));
        cd_rd_strcpy(r, x->path, sizeof(x->path));
        x->level = (uint8_t)cd_rd_uint(r, ENGINE_LEVELS_MAX - 1);
        x->target = (uint8_t)cd_rd_uint(r, ENGINE_NOTIFY_MAX - 1);
        x->kind = (uint8_t)cd_rd_uint(r, ENGINE_NOTIFY_KIND_COUNT - 1);
        x->state = (uint8_t)cd_rd_uint(r, ENGINE_NOTICE_CANCELLED);
        x->attempts = (uint8_t)cd_rd_uint(r, UINT8_MAX);
        cd_rd_strcpy(r, x->address, sizeof(x->address));
        x->opened = cd_rd_svar(r);
        x->retry_at = cd_rd_svar(r);
        x->at = cd_rd_svar(r);
        const char *text = cd_rd_str(r, NULL);
        if (r->err != 0) {
            return CD_ECORRUPT;
        }
        if (x->attempts > 0 && (x->text = cd_strdup(text)) == NULL) {
            e->oom = CD_ENOMEM;
            return CD_ENOMEM;
        }
        f->n_notices++;
    }
    return 0;
}

static int get_fault(struct engine *e,
                     struct engine__fault *f,
                     struct cd_reader *r,
                     uint32_t prev)
{
    f->id = (uint32_t)cd_rd_uint(r, e->next_fault);
    f->severity = (uint8_t)cd_rd_uint(r, ENGINE_SEVERITY_MAJOR);
    cd_rd_strcpy(r, f->kind, sizeof(f->kind));
    cd_rd_strcpy(r, f->component, sizeof(f->component));
    cd_rd_strcpy(r, f->signal, sizeof(f->signal));
    f->opened = cd_rd_svar(r);
    f->closed = cd_rd_svar(r);
    f->acked = cd_rd_svar(r);
    cd_rd_strcpy(r, f->acked_by, sizeof(f->acked_by));
    cd_rd_strcpy(r, f->closed_by, sizeof(f->closed_by));
    uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_FAULT_LOG_MAX);
    if (r->err != 0 || f->id <= prev || f->severity == 0) {
        return CD_ECORRUPT;
    }
    for (uint32_t k = 0; k < n; k++) {
        struct engine__fault_line line = {.at = cd_rd_svar(r)};
        const char *actor = cd_rd_str(r, NULL);
        cd_rd_strcpy(r, line.what, sizeof(line.what));
        const char *text = cd_rd_str(r, NULL);
        if (r->err != 0) {
            return CD_ECORRUPT;
        }
        if (engine__fault_log(e, f, line.at, actor, line.what, text) != 0) {
            return CD_ENOMEM;
        }
    }
    return get_notices(e, f, r);
}

int engine__health_decode(struct engine *e, struct cd_reader *r)
{
    uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_SIGNALS_MAX);
    if (n > 0 && GROW(e->signals, e->cap_signals, n) != 0) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct engine__signal *s = &e->signals[i];
        memset(s, 0, sizeof(*s));
        cd_rd_strcpy(r, s->name, sizeof(s->name));
        s->state = (uint8_t)cd_rd_uint(r, ENGINE_SIGNAL_BAD);
        s->value = cd_rd_svar(r);
        s->since = cd_rd_svar(r);
        s->fault = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        s->closed = cd_rd_bool(r);
        if (r->err != 0 || (i > 0 && strcmp(e->signals[i - 1].name, s->name) >= 0)) {
            return CD_ECORRUPT;
        }
        e->n_signals++;
    }
    e->next_fault = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    n = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    if (r->err != 0 || n > cd_rd_left(r)) {
        return CD_ECORRUPT;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (GROW(e->faults, e->cap_faults, e->n_faults + 1) != 0) {
            return CD_ENOMEM;
        }
        struct engine__fault *f = &e->faults[e->n_faults];
        memset(f, 0, sizeof(*f));
        e->n_faults++;
        int rv = get_fault(e, f, r, i > 0 ? e->faults[i - 1].id : 0);
        if (rv != 0) {
            return rv;
        }
    }
    for (uint32_t i = 0; i < e->n_signals; i++) {
        uint32_t id = e->signals[i].fault;
        const struct engine__fault *f = id != 0 ? engine__fault_find(e, id) : NULL;
        if (id != 0 && (f == NULL || f->closed != 0)) {
            return CD_ECORRUPT;
        }
    }
    return 0;
}
