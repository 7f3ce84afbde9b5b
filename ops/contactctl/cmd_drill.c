/* contactctl drill: a failure rehearsed on the live cluster (docs/continuity.md, "Drills").
 *
 *   drill crash --node ID | kill-leader | pause --node ID --seconds N
 *         | isolate --node ID --seconds N | slow-disk --node ID --seconds N [--delay-ms D]
 *         | disk-full --node ID --seconds N [--leave-mb M]
 *         [--watch S] [--queue Q] [--channel C] [--probe-ms MS] [--max-unavailable-ms MS]
 *         [--report FILE] [--dry-run]
 *   drill reports | report ID          the reports kept in the cluster
 *
 * The target node carries out the fault itself (POST /v1/drill; its node file must allow
 * drills). Meanwhile contactctl probes the cluster as a client does: every probe-ms it
 * creates a contact (with an idempotency key, so that a retry on another node is safe) and
 * abandons it, through any node that answers, each request waiting at most PROBE_TIMEOUT_MS.
 * At the end it checks that every contact the cluster accepted is still there (live or in
 * the history), lists the faults opened and the runbooks run during the drill, and says
 * whether the drill passed: no contact lost, and writes unavailable no longer than
 * --max-unavailable-ms. The report is kept in the cluster (POST /v1/drills), where every
 * operator finds it later (drill reports), and written to --report FILE if asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops/contactctl/ctl.h"
#include "ops/contactctl/http_blocking.h"

#define PROBE_TIMEOUT_MS 1000
#define BASELINE_MS 2000
#define FAULT_DELAY_MS 200 /* the node carries the fault out this long after its answer */
#define ATTEMPTS_MAX 20000

struct attempt
{
    long long start, end; /* ms since the epoch */
    bool ok;
    long long id; /* the contact, when ok */
};

struct drill
{
    const char *kind; /* crash, kill-leader, pause, isolate, slow-disk, disk-full */
    char target[128];
    char target_api[CTL_ADDR_MAX];
    char target_role[32];
    int seconds;
    long long delay_ms, leave_mb; /* slow-disk's, disk-full's; -1: the node's default */
    int voters;
    char queue[128];
    const char *channel;
    int probe_ms, watch_s;
    long long max_unavailable_ms;
    struct attempt *a;
    size_t n;
    int endpoint; /* the probe's current node */
    long long t0, sent, accepted_at;
    char sent_answer[256];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
    if (ms > 0) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

static int ask(struct ctl *c,
               int ep,
               const char *method,
               const char *path,
               const char *body,
               json_t **doc)
{
    struct hb_answer ans;
    char err[256];
    *doc = NULL;
    if (hb_request(c->http, c->endpoints[ep], method, path, body, &ans, err, sizeof(err)) !=
        0) {
        return -1;
    }
    int status = ans.status;
    *doc = json_loadb(ans.body, ans.len, 0, NULL);
    hb_answer_free(&ans);
    return status;
}

/* One probe: create (moving on to the next node while one does not answer), then abandon. */
static void probe(struct ctl *c, struct drill *d)
{
    char body[512], path[128];
    struct attempt *at = &d->a[d->n];
    *at = (struct attempt){.start = now_ms()};
    snprintf(body, sizeof(body),
             "{\"key\":\"drill-%lld-%zu\",\"channel\":\"%s\",\"queue\":\"%s\"}", d->t0, d->n,
             d->channel, d->queue);
    for (int tries = 0; tries < c->n_endpoints && !at->ok; tries++) {
        json_t *doc;
        int status = ask(c, d->endpoint, "POST", "/v1/contacts", body, &doc);
        if (status == 200 || status == 201) {
            at->ok = true;
            at->id = json_integer_value(json_object_get(doc, "id"));
        } else if (status < 0 || status == 503) {
            d->endpoint = (d->endpoint + 1) % c->n_endpoints;
        } else {
            tries = c->n_endpoints; /* refused: the cluster answered */
        }
        json_decref(doc);
    }
    at->end = now_ms();
    d->n++;
    if (at->ok) {
        json_t *doc;
        snprintf(path, sizeof(path), "/v1/contacts/%lld/abandon", at->id);
        ask(c, d->endpoint, "POST", path, NULL, &doc);
        json_decref(doc);
    }
}

static void probe_until(struct ctl *c, struct drill *d, long long until)
{
    while (now_ms() < until && d->n < ATTEMPTS_MAX) {
        long long next = now_ms() + d->probe_ms;
        probe(c, d);
        sleep_ms(next - now_ms());
    }
}

/* The target and what the cluster looks like now. */
static int plan(struct ctl *c, struct drill *d, const char *node)
{
    json_t *st;
    int rv = ctl_call(c, "GET", "/v1/cluster", NULL, &st);
    if (rv != CTL_OK) {
        return rv;
    }
    const char *leader = json_string_value(json_object_get(st, "leader"));
    const char *want = strcmp(d->kind, "kill-leader") == 0 ? leader : node;
    size_t i;
    json_t *m;
    d->voters = 0;
    json_array_foreach(json_object_get(st, "members"), i, m)
    {
        const char *id = json_string_value(json_object_get(m, "id"));
        d->voters += strcmp(json_string_value(json_object_get(m, "role")), "voter") == 0;
        if (want != NULL && strcmp(id, want) == 0) {
            snprintf(d->target, sizeof(d->target), "%s", id);
            hb_endpoint_like(c->endpoints[c->current],
                             json_string_value(json_object_get(m, "api")), d->target_api,
                             sizeof(d->target_api));
            snprintf(d->target_role, sizeof(d->target_role), "%s",
                     leader != NULL && strcmp(id, leader) == 0 ? "leader" : "follower");
        }
    }
    json_decref(st);
    if (d->target[0] == 0) {
        fprintf(
            stderr, "contactctl: drill: %s\n",
            want == NULL || *want == 0 ? "the cluster has no leader now" : "no such member");
        return CTL_REFUSED;
    }
    return CTL_OK;
}

static void print_plan(const struct drill *d)
{
    bool lasting = d->seconds > 0,
         out = strcmp(d->kind, "slow-disk") != 0 && strcmp(d->kind, "disk-full") != 0;
    int left = out ? d->voters - 1 : d->voters;
    bool quorum = left > d->voters / 2;
    printf("Drill: %s on %s (%s)\n", strcmp(d->kind, "kill-leader") == 0 ? "crash" : d->kind,
           d->target, d->target_role);
    if (strcmp(d->kind, "pause") == 0) {
        printf("  %s stops its loop for %d s: no Raft, no API; it goes on by itself after.\n",
               d->target, d->seconds);
    } else if (strcmp(d->kind, "isolate") == 0) {
        printf(
            "  %s is cut off from the other members for %d s: no Raft, no peer channel;\n"
            "  clients still reach its API, which cannot write meanwhile. It reconnects\n"
            "  by itself after and catches up.\n",
            d->target, d->seconds);
    } else if (strcmp(d->kind, "slow-disk") == 0) {
        printf("  Each write to %s's Raft log takes %lld ms more, for %d s. %s\n", d->target,
               d->delay_ms >= 0 ? d->delay_ms : 500LL, d->seconds,
               strcmp(d->target_role, "leader") == 0
                   ? "It leads: every commit\n  waits for its log, so every write is that much "
                     "slower."
                   : "A commit needs a\n  majority of the logs: a slow follower costs little "
                     "while the others are fast.");
    } else if (strcmp(d->kind, "disk-full") == 0) {
        if (d->leave_mb >= 0) {
            printf("  %s fills its data directory's file system but %lld MiB, for %d s.\n",
                   d->target, d->leave_mb, d->seconds);
        } else {
            printf("  %s fills its data directory's file system but 2 %%, for %d s.\n",
                   d->target, d->seconds);
        }
    } else {
        printf(
            "  %s exits at once, as with SIGKILL; it stays down until it is started again\n"
            "  (it then catches up from the log).\n",
            d->target);
    }
    printf("  %d of %d voters remain: %s.\n", left, d->voters,
           quorum ? "the cluster keeps its quorum" : "the cluster LOSES its quorum");
    if (out && strcmp(d->target_role, "leader") == 0) {
        printf("  The followers elect a new leader; writes wait for it.\n");
    }
    const char *faults = "member_down (minor) for the target";
    if (!quorum) {
        faults = "quorum_lost (major), recorded once a leader is back";
    } else if (strcmp(d->kind, "slow-disk") == 0) {
        faults =
            "disk_slow (minor) for the target, once its log writes' p99 over the last "
            "minute passes 500 ms";
    } else if (strcmp(d->kind, "disk-full") == 0) {
        faults = "disk_low (major) for the target while under 5 % is free";
    } else if (lasting && d->seconds < 3) {
        faults = "none (a member unheard for less than 3 s is not down)";
    }
    printf("  Expected faults: %s.\n", faults);
    printf(
        "  Probe: a contact created and abandoned in queue %s every %d ms, through any "
        "node; watched for %d s.\n",
        d->queue, d->probe_ms, d->watch_s);
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* The successful writes' latency (ms) among those started in [from, to): p50, p99, max. */
static json_t *latency(const struct drill *d, long long from, long long to)
{
    long long *v = calloc(d->n + 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; v != NULL && i < d->n; i++) {
        if (d->a[i].ok && d->a[i].start >= from && d->a[i].start < to) {
            v[k++] = d->a[i].end - d->a[i].start;
        }
    }
    json_t *o;
    if (k == 0) {
        o = json_pack("{s:i,s:n,s:n,s:n}", "writes", 0, "p50", "p99", "max");
    } else {
        qsort(v, k, sizeof(*v), by_value);
        o = json_pack("{s:i,s:I,s:I,s:I}", "writes", (int)k, "p50", v[(k - 1) / 2], "p99",
                      v[(k * 99 + 99) / 100 - 1], "max", v[k - 1]);
    }
    free(v);
    return o;
}

/* Unavailability: each run of failed probes, from the first failure's start to the end of
 * the next probe that succeeded (or to the last one: then *back stays 0, not recovered). */
static long long unavailable(const struct drill *d, long long *first_fail, long long *back)
{
    long long worst = 0;
    *first_fail = *back = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->a[i].ok) {
            continue;
        }
        size_t j = i;
        while (j < d->n && !d->a[j].ok) {
            j++;
        }
        long long end = j < d->n ? d->a[j].end : d->a[d->n - 1].end;
        if (*first_fail == 0) {
            *first_fail = d->a[i].start;
        }
        *back = j < d->n ? end : 0;
        worst = end - d->a[i].start > worst ? end - d->a[i].start : worst;
        i = j;
    }
    return worst;
}

/* How many accepted contacts the cluster no longer knows. */
static int count_lost(struct ctl *c, const struct drill *d, int *accepted)
{
    char path[128];
    int lost = 0;
    *accepted = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->a[i].ok) {
            continue;
        }
        (*accepted)++;
        json_t *doc;
        bool found = false;
        for (int k = 0; k < 2 && !found; k++) {
            snprintf(path, sizeof(path), k == 0 ? "/v1/contacts/%lld" : "/v1/history/%lld",
                     d->a[i].id);
            int status = -1;
            for (int e = 0; e < c->n_endpoints && status != 200; e++) { /* any node */
                status = ask(c, (d->endpoint + e) % c->n_endpoints, "GET", path, NULL, &doc);
                json_decref(doc);
            }
            found = status == 200;
        }
        lost += !found;
    }
    return lost;
}

static json_t *faults_since(struct ctl *c, long long t0)
{
    json_t *doc, *out = json_array(), *f;
    size_t i;
    if (ctl_call(c, "GET", "/v1/faults", NULL, &doc) != CTL_OK) {
        return out;
    }
    json_array_foreach(json_object_get(doc, "items"), i, f)
    {
        if (json_integer_value(json_object_get(f, "opened")) >= t0 - 1000) {
            json_array_append(out, f);
        }
    }
    json_decref(doc);
    return out;
}

/* The runbook runs triggered since t0, oldest first. */
static json_t *runs_since(struct ctl *c, long long t0)
{
    json_t *doc, *out = json_array(), *r;
    size_t i;
    if (ctl_call(c, "GET", "/v1/runbooks/runs", NULL, &doc) != CTL_OK) {
        return out;
    }
    json_t *items = json_object_get(doc, "items");
    for (i = json_array_size(items); i-- > 0;) {
        r = json_array_get(items, i);
        if (json_integer_value(json_object_get(r, "triggered")) >= t0 - 1000) {
            json_array_append(out, r);
        }
    }
    json_decref(doc);
    return out;
}

/* "runbook NAME run N (STATE): model contingency done, fault trunk_down done". */
static void run_line(const json_t *r, char *buf, size_t len)
{
    int n = snprintf(
        buf, len, "runbook %s run %lld (%s):", json_string_value(json_object_get(r, "runbook")),
        json_integer_value(json_object_get(r, "run")),
        json_string_value(json_object_get(r, "state")));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(r, "steps"), i, s)
    {
        if (n < 0 || (size_t)n >= len) {
            return;
        }
        n += snprintf(buf + n, len - (size_t)n, "%s %s %s %s", i > 0 ? "," : "",
                      json_string_value(json_object_get(s, "do")),
                      json_string_value(json_object_get(s, "target")),
                      json_string_value(json_object_get(s, "state")));
    }
}

static json_t *report(struct ctl *c, struct drill *d)
{
    long long first_fail, back;
    long long worst = unavailable(d, &first_fail, &back);
    int accepted;
    int lost = count_lost(c, d, &accepted);
    json_t *faults = faults_since(c, d->t0);
    json_t *runs = runs_since(c, d->t0);
    bool recovered = first_fail == 0 || back != 0;
    bool pass = lost == 0 && worst <= d->max_unavailable_ms && d->accepted_at != 0 && recovered;
    json_t *timeline = json_array();
    json_array_append_new(timeline,
                          json_pack("{s:I,s:s}", "at", d->t0, "what", "probe started"));
    json_array_append_new(
        timeline, json_pack("{s:I,s:s}", "at", d->sent, "what",
                            d->accepted_at ? "drill sent, accepted" : "drill sent, refused"));
    long long fault_end = d->accepted_at != 0 && d->seconds > 0
                              ? d->accepted_at + FAULT_DELAY_MS + (long long)d->seconds * 1000
                              : 0;
    if (fault_end != 0) {
        json_array_append_new(timeline, json_pack("{s:I,s:s}", "at", fault_end, "what",
                                                  "the fault ends (as asked)"));
    }
    if (first_fail != 0) {
        json_array_append_new(
            timeline, json_pack("{s:I,s:s}", "at", first_fail, "what", "first write failed"));
        json_array_append_new(
            timeline, json_pack("{s:I,s:s}", "at", back, "what", "writes succeed again"));
    }
    size_t i;
    json_t *f;
    json_array_foreach(faults, i, f)
    {
        char what[256];
        snprintf(what, sizeof(what), "fault %lld opened: %s %s on %s",
                 json_integer_value(json_object_get(f, "id")),
                 json_string_value(json_object_get(f, "severity")),
                 json_string_value(json_object_get(f, "kind")),
                 json_string_value(json_object_get(f, "component")));
        json_array_append_new(
            timeline,
            json_pack("{s:I,s:s}", "at", json_integer_value(json_object_get(f, "opened")),
                      "what", what));
    }
    json_array_foreach(runs, i, f)
    {
        char what[512];
        run_line(f, what, sizeof(what));
        json_array_append_new(
            timeline,
            json_pack("{s:I,s:s}", "at", json_integer_value(json_object_get(f, "triggered")),
                      "what", what));
    }
    return json_pack(
        "{s:s,s:s,s:s,s:i,s:I,s:I,s:o,s:{s:i,s:i,s:i,s:I,s:I,s:{s:o,s:o}},s:o,s:o,s:I,s:I,s:b,"
        "s:s}",
        "kind", d->kind, "target", d->target, "target_role", d->target_role, "seconds",
        d->seconds, "started", d->t0, "ended", now_ms(), "timeline", timeline, "probe",
        "attempts", (int)d->n, "accepted", accepted, "lost", lost, "unavailable_ms", worst,
        "max_unavailable_ms", d->max_unavailable_ms, "latency_ms", "before",
        latency(d, d->t0, d->sent), "during",
        latency(d, d->sent,
                fault_end != 0 ? fault_end : d->sent + (long long)d->watch_s * 1000),
        "faults", faults, "runbooks", runs, "recovered_ms",
        first_fail != 0 ? back - d->sent : 0LL, "drill_answer_ms",
        d->accepted_at ? d->accepted_at - d->sent : 0LL, "pass", pass, "answer",
        d->sent_answer);
}

static void print_report(const json_t *r)
{
    const json_t *p = json_object_get(r, "probe");
    char t[64];
    printf("Drill %s on %s (%s): %s\n", json_string_value(json_object_get(r, "kind")),
           json_string_value(json_object_get(r, "target")),
           json_string_value(json_object_get(r, "target_role")),
           json_is_true(json_object_get(r, "pass")) ? "PASS" : "FAIL");
    printf("\nTimeline:\n");
    size_t i;
    json_t *e;
    long long t0 = json_integer_value(json_object_get(r, "started"));
    json_array_foreach(json_object_get(r, "timeline"), i, e)
    {
        long long at = json_integer_value(json_object_get(e, "at"));
        printf("  %s  +%6.3f s  %s\n", ctl_time(at, t, sizeof(t)), (double)(at - t0) / 1000.0,
               json_string_value(json_object_get(e, "what")));
    }
    printf("\nProbe: %lld writes tried, %lld contacts accepted, %lld lost\n",
           json_integer_value(json_object_get(p, "attempts")),
           json_integer_value(json_object_get(p, "accepted")),
           json_integer_value(json_object_get(p, "lost")));
    printf("Unavailability: %lld ms (at most %lld)\n",
           json_integer_value(json_object_get(p, "unavailable_ms")),
           json_integer_value(json_object_get(p, "max_unavailable_ms")));
    const json_t *lat = json_object_get(p, "latency_ms");
    for (int k = 0; lat != NULL && k < 2; k++) {
        const json_t *w = json_object_get(lat, k == 0 ? "before" : "during");
        if (json_integer_value(json_object_get(w, "writes")) > 0) {
            printf("Write latency %s: p50 %lld ms, p99 %lld ms, max %lld ms (%lld writes)\n",
                   k == 0 ? "before the drill" : "during the fault",
                   json_integer_value(json_object_get(w, "p50")),
                   json_integer_value(json_object_get(w, "p99")),
                   json_integer_value(json_object_get(w, "max")),
                   json_integer_value(json_object_get(w, "writes")));
        }
    }
    long long rec = json_integer_value(json_object_get(r, "recovered_ms"));
    if (rec < 0) {
        printf("Recovered: not within the watch (writes still failed at its end)\n");
    } else {
        printf("Recovered: %lld ms after the drill was sent\n", rec);
    }
    printf("Faults opened: %zu\n", json_array_size(json_object_get(r, "faults")));
    printf("Runbooks run: %zu\n", json_array_size(json_object_get(r, "runbooks")));
    json_array_foreach(json_object_get(r, "runbooks"), i, e)
    {
        char line[512];
        run_line(e, line, sizeof(line));
        printf("  %s\n", line);
    }
}

/* Keeps the report in the cluster; its id goes into the report ("stored"), or 0. */
static void store(struct ctl *c, json_t *r)
{
    json_t *ans;
    char *body = json_dumps(r, JSON_COMPACT);
    long long id = 0;
    if (body != NULL && ctl_call(c, "POST", "/v1/drills", body, &ans) == CTL_OK) {
        id = json_integer_value(json_object_get(ans, "drill"));
        json_decref(ans);
    }
    free(body);
    json_object_set_new(r, "stored", json_integer(id));
}

static const struct ctl_column kept[] = {
    {"ID", "id", false},
    {"AT", "at", true},
    {"KIND", "kind", false},
    {"TARGET", "target", false},
    {"PASS", "pass", false},
    {"LOST", "lost", false},
    {"UNAVAILABLE MS", "unavailable_ms", false},
    {"BY", "actor", false},
};

static int reports(struct ctl *c, int argc, char **argv)
{
    char path[128];
    if (strcmp(argv[0], "reports") == 0) {
        return argc == 1 ? ctl_get_show(c, "/v1/drills", CTL_COLS(kept), true) : CTL_USAGE;
    }
    if (argc != 2) {
        fprintf(stderr, "contactctl: drill report ID\n");
        return CTL_USAGE;
    }
    json_t *doc;
    int rv =
        ctl_call(c, "GET", ctl_path(path, sizeof(path), "/v1/drills/%s", argv[1]), NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        char t[64];
        printf("Drill report %lld, kept %s by %s\n\n",
               json_integer_value(json_object_get(doc, "id")),
               ctl_time(json_integer_value(json_object_get(doc, "at")), t, sizeof(t)),
               json_string_value(json_object_get(doc, "actor")));
        print_report(json_object_get(doc, "report"));
    }
    json_decref(doc);
    return CTL_OK;
}

int ctl_cmd_drill(struct ctl *c, int argc, char **argv)
{
    struct drill d = {.channel = "voice", .probe_ms = 200, .max_unavailable_ms = 1000};
    const char *node = ctl_opt(argc, argv, "node"), *secs = ctl_opt(argc, argv, "seconds");
    const char *watch = ctl_opt(argc, argv, "watch"), *queue = ctl_opt(argc, argv, "queue");
    const char *chan = ctl_opt(argc, argv, "channel"), *pms = ctl_opt(argc, argv, "probe-ms");
    const char *maxu = ctl_opt(argc, argv, "max-unavailable-ms");
    const char *file = ctl_opt(argc, argv, "report");
    const char *delay = ctl_opt(argc, argv, "delay-ms"),
               *leave = ctl_opt(argc, argv, "leave-mb");
    bool dry = ctl_flag(argc, argv, "dry-run");
    if (argc >= 1 && (strcmp(argv[0], "reports") == 0 || strcmp(argv[0], "report") == 0)) {
        return reports(c, argc, argv);
    }
    if (argc < 1 || ctl_extra(argc, argv, 1, "drill")) {
        return CTL_USAGE;
    }
    d.kind = argv[0];
    static const char *const lasting[] = {"pause", "isolate", "slow-disk", "disk-full"};
    bool lasts = false, crash = strcmp(d.kind, "crash") == 0,
         leader = strcmp(d.kind, "kill-leader") == 0;
    for (size_t k = 0; k < sizeof(lasting) / sizeof(lasting[0]); k++) {
        lasts = lasts || strcmp(d.kind, lasting[k]) == 0;
    }
    if ((!lasts && !crash && !leader) || (!leader && node == NULL) ||
        (lasts != (secs != NULL)) || (leader && node != NULL) ||
        (delay != NULL && strcmp(d.kind, "slow-disk") != 0) ||
        (leave != NULL && strcmp(d.kind, "disk-full") != 0)) {
        fprintf(stderr,
                "contactctl: drill crash --node ID | kill-leader | pause --node ID --seconds N "
                "| isolate --node ID --seconds N | slow-disk --node ID --seconds N "
                "[--delay-ms D] | disk-full --node ID --seconds N [--leave-mb M] "
                "(docs/continuity.md)\n");
        return CTL_USAGE;
    }
    bool pause = strcmp(d.kind, "pause") == 0;
    d.seconds = secs != NULL ? atoi(secs) : 0;
    d.delay_ms = delay != NULL ? atoll(delay) : -1;
    d.leave_mb = leave != NULL ? atoll(leave) : -1;
    d.watch_s = watch != NULL ? atoi(watch) : d.seconds + 10;
    d.probe_ms = pms != NULL ? atoi(pms) : d.probe_ms;
    d.max_unavailable_ms = maxu != NULL ? atoll(maxu) : d.max_unavailable_ms;
    d.channel = chan != NULL ? chan : d.channel;
    if ((pause && (d.seconds < 1 || d.seconds > 60)) ||
        (lasts && (d.seconds < 1 || d.seconds > 600)) || d.watch_s < 1 || d.watch_s > 900 ||
        d.probe_ms < 10 || d.probe_ms > 10000 || d.max_unavailable_ms < 0 ||
        (delay != NULL && (d.delay_ms < 1 || d.delay_ms > 10000)) ||
        (leave != NULL && d.leave_mb < 0)) {
        fprintf(stderr,
                "contactctl: drill: --seconds 1-60 for a pause, 1-600 otherwise, --watch "
                "1-900, --probe-ms 10-10000, --max-unavailable-ms from 0, --delay-ms "
                "1-10000, --leave-mb from 0\n");
        return CTL_USAGE;
    }
    int rv = plan(c, &d, node);
    if (rv != CTL_OK) {
        return rv;
    }
    if (queue != NULL) {
        snprintf(d.queue, sizeof(d.queue), "%s", queue);
    } else {
        json_t *qs;
        rv = ctl_call(c, "GET", "/v1/queues", NULL, &qs);
        if (rv != CTL_OK) {
            return rv;
        }
        const char *first = json_string_value(
            json_object_get(json_array_get(json_object_get(qs, "items"), 0), "name"));
        snprintf(d.queue, sizeof(d.queue), "%s", first != NULL ? first : "");
        json_decref(qs);
        if (d.queue[0] == 0) {
            fprintf(stderr, "contactctl: drill: the model has no queue to probe (--queue)\n");
            return CTL_REFUSED;
        }
    }
    if (dry) {
        print_plan(&d);
        return CTL_OK;
    }
    d.a = calloc(ATTEMPTS_MAX, sizeof(*d.a));
    if (d.a == NULL) {
        return CTL_REFUSED;
    }
    hb_client_timeout(c->http, PROBE_TIMEOUT_MS);
    d.endpoint = c->current;
    d.t0 = now_ms();
    probe_until(c, &d, d.t0 + BASELINE_MS);
    char body[256];
    if (!lasts) {
        snprintf(body, sizeof(body), "{\"kind\":\"crash\"}");
    } else if (d.delay_ms >= 0) {
        snprintf(body, sizeof(body), "{\"kind\":\"%s\",\"seconds\":%d,\"delay_ms\":%lld}",
                 d.kind, d.seconds, d.delay_ms);
    } else if (d.leave_mb >= 0) {
        snprintf(body, sizeof(body), "{\"kind\":\"%s\",\"seconds\":%d,\"leave_mb\":%lld}",
                 d.kind, d.seconds, d.leave_mb);
    } else {
        snprintf(body, sizeof(body), "{\"kind\":\"%s\",\"seconds\":%d}", d.kind, d.seconds);
    }
    struct hb_answer ans;
    char err[256];
    hb_client_timeout(c->http, 0);
    d.sent = now_ms();
    if (hb_request(c->http, d.target_api, "POST", "/v1/drill", body, &ans, err, sizeof(err)) ==
        0) {
        snprintf(d.sent_answer, sizeof(d.sent_answer), "%d %.200s", ans.status, ans.body);
        d.accepted_at = ans.status == 202 ? now_ms() : 0;
        hb_answer_free(&ans);
    } else {
        snprintf(d.sent_answer, sizeof(d.sent_answer), "%s", err);
    }
    hb_client_timeout(c->http, PROBE_TIMEOUT_MS);
    if (d.accepted_at == 0) {
        fprintf(stderr, "contactctl: drill: %s refused it: %s\n", d.target, d.sent_answer);
    } else {
        probe_until(c, &d, d.sent + (long long)d.watch_s * 1000);
    }
    hb_client_timeout(c->http, 0);
    json_t *r = report(c, &d);
    free(d.a);
    store(c, r);
    if (file != NULL) {
        if (json_dump_file(r, file, JSON_INDENT(2)) != 0) {
            fprintf(stderr, "contactctl: drill: cannot write the report to '%s'\n", file);
        }
    }
    if (c->json) {
        ctl_print_json(r);
    } else {
        print_report(r);
        long long id = json_integer_value(json_object_get(r, "stored"));
        if (id != 0) {
            printf("Kept in the cluster as drill report %lld (contactctl drill report %lld)\n",
                   id, id);
        }
    }
    bool pass = json_is_true(json_object_get(r, "pass"));
    json_decref(r);
    return pass ? CTL_OK : CTL_REFUSED;
}
