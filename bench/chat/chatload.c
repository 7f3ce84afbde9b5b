/* chatload: customers on the chat's WebSocket and agents on their event feeds against a
 * contactd cluster, in one process on one loop; prints a JSON summary (README.md).
 *
 *   chatload --nodes 127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 --ca ca.crt --agents FILE
 *            --sessions N --rates 500,1000,2000 --seconds D [--ramp R] [--inflight K]
 *            [--per-address A] [--text-bytes B] [--entry NAME] [--pids P1,P2,P3]
 *            [--settle S]
 *
 * Phases, each bounded in time: the agents' feeds open and the agents log in; N customers
 * open their pages, R a second at most, K at a time at most, and say hello; the offers the
 * agents get are accepted; once the connected chats stop changing, a settle pause; then
 * one step per rate: the customers send messages, round robin, at that aggregate rate for
 * D seconds, and the answers are awaited (5 s at most). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/chat/chatload.h"

#define TICK_MS 1
#define FEEDS_INFLIGHT 64
#define FEEDS_TIMEOUT_NS (60 * NS)
#define RAMP_GRACE_NS (60 * NS)
#define CONNECT_QUIET_NS (3 * NS)
#define DRAIN_NS (5 * NS)
#define NS 1000000000ull

enum phase { P_FEEDS, P_RAMP, P_CONNECTING, P_SETTLE, P_SEND, P_DRAIN, P_DONE };

struct load *LOAD;

static struct run
{
    uv_timer_t tick;
    enum phase phase;
    uint64_t t_phase;   /* when the phase began */
    uint64_t t_changed; /* P_CONNECTING: the connected count last changed */
    unsigned last_connected;
    uint64_t ramp_ns; /* first connect to the last welcome */
    bool feeds_timed_out, ramp_timed_out;
    double settle_s;
    unsigned held; /* sessions open after the ramp */
    unsigned connected_held;
    long rss[3][LOAD_NODES_MAX], anon[3][LOAD_NODES_MAX]; /* kB: base, open, end */
    unsigned long long cpu0[LOAD_NODES_MAX + 1];
} RUN;

uint64_t load_now(void)
{
    return uv_hrtime();
}

void tally_add(struct tally *t, const char *name)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], name) == 0) {
            t->count[i]++;
            return;
        }
    }
    unsigned i = t->n < LOAD_TALLY_MAX ? t->n++ : LOAD_TALLY_MAX - 1;
    snprintf(t->name[i], sizeof(t->name[i]), "%s", i < LOAD_TALLY_MAX - 1 ? name : "other");
    t->count[i]++;
}

json_t *tally_json(const struct tally *t)
{
    json_t *j = json_object();
    for (unsigned i = 0; i < t->n; i++) {
        json_object_set_new(j, t->name[i], json_integer((json_int_t)t->count[i]));
    }
    return j;
}

uint64_t load_id_time(const char *id, int *step)
{
    char *end = NULL;
    if (id == NULL || id[0] != 'b') {
        return 0;
    }
    long s = strtol(id + 1, &end, 10);
    if (end == NULL || *end != '-') {
        return 0;
    }
    unsigned long long t = strtoull(end + 1, NULL, 10);
    *step = (int)s;
    return t;
}

/* ---- /proc ----------------------------------------------------------------------------- */

/* VmRSS and RssAnon of pid, kB; -1 when unreadable. */
static void rss_of(int pid, long *rss, long *anon)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    *rss = *anon = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        sscanf(line, "VmRSS: %ld", rss);
        sscanf(line, "RssAnon: %ld", anon);
    }
    if (f != NULL) {
        fclose(f);
    }
}

/* User and system CPU ticks of pid (0: this process). */
static unsigned long long cpu_of(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), pid ? "/proc/%d/stat" : "/proc/self/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (p != NULL) {
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    }
    return ut + st;
}

static void sample_rss(int when)
{
    for (unsigned i = 0; i < LOAD->n_pids; i++) {
        rss_of(LOAD->pids[i], &RUN.rss[when][i], &RUN.anon[when][i]);
    }
}

static void cpu_mark(void)
{
    for (unsigned i = 0; i < LOAD->n_pids; i++) {
        RUN.cpu0[i] = cpu_of(LOAD->pids[i]);
    }
    RUN.cpu0[LOAD->n_pids] = cpu_of(0);
}

static void cpu_since(struct step *s)
{
    for (unsigned i = 0; i < LOAD->n_pids; i++) {
        s->cpu_ticks[i] = cpu_of(LOAD->pids[i]) - RUN.cpu0[i];
    }
    s->cpu_ticks[LOAD->n_pids] = cpu_of(0) - RUN.cpu0[LOAD->n_pids];
}

/* ---- Phases ---------------------------------------------------------------------------- */

static void enter(enum phase p, uint64_t now)
{
    RUN.phase = p;
    RUN.t_phase = now;
}

static void progress(const char *what)
{
    fprintf(stderr,
            "chatload: %s: %u/%u pages welcomed, %u connected to agents, %u ended; %u/%u "
            "feeds, %u logins\n",
            what, LOAD->welcomed, LOAD->n_sessions, LOAD->connected, LOAD->customers_ended,
            LOAD->feeds_open, LOAD->n_agents, LOAD->logins_ok);
}

static void tick_feeds(uint64_t now)
{
    struct load *l = LOAD;
    while (l->agents_started < l->n_agents &&
           l->agents_started - l->feeds_open - l->feeds_failed < FEEDS_INFLIGHT) {
        agent_start(l, &l->agents[l->agents_started++]);
    }
    bool all = l->agents_started == l->n_agents &&
               l->feeds_open + l->feeds_failed == l->n_agents &&
               l->logins_ok + l->logins_failed >= l->feeds_open;
    RUN.feeds_timed_out = !all && now - RUN.t_phase > FEEDS_TIMEOUT_NS;
    if (all || RUN.feeds_timed_out) {
        progress("agents ready");
        sample_rss(0);
        enter(P_RAMP, now);
    }
}

static void tick_ramp(uint64_t now)
{
    struct load *l = LOAD;
    uint64_t due = (uint64_t)((double)(now - RUN.t_phase) * l->ramp_rate / 1e9) + 1;
    while (l->started < l->n_sessions && l->started < due && l->inflight < l->inflight_max) {
        struct customer *c = &l->customers[l->started];
        c->idx = l->started++;
        c->node = (uint8_t)(c->idx % l->n_nodes);
        customer_start(l, c);
    }
    uint64_t limit = (uint64_t)((double)l->n_sessions / l->ramp_rate * 1e9) + RAMP_GRACE_NS;
    RUN.ramp_timed_out = now - RUN.t_phase > limit;
    if ((l->started == l->n_sessions && l->inflight == 0) || RUN.ramp_timed_out) {
        RUN.ramp_ns = now - RUN.t_phase;
        progress("pages opened");
        RUN.last_connected = l->connected;
        RUN.t_changed = now;
        enter(P_CONNECTING, now);
    }
}

static void tick_connecting(uint64_t now)
{
    if (LOAD->connected != RUN.last_connected) {
        RUN.last_connected = LOAD->connected;
        RUN.t_changed = now;
    }
    if (LOAD->connected >= LOAD->welcomed || now - RUN.t_changed > CONNECT_QUIET_NS) {
        progress("chats connected");
        enter(P_SETTLE, now);
    }
}

static void step_begin(int k, uint64_t now)
{
    LOAD->step = k;
    LOAD->steps[k].rate = LOAD->rates[k];
    LOAD->steps[k].t_start = now;
    cpu_mark();
    fprintf(stderr, "chatload: step %d begins: %.0f messages/s for %.0f s\n", k, LOAD->rates[k],
            LOAD->seconds);
    enter(P_SEND, now);
}

static void tick_settle(uint64_t now)
{
    if (now - RUN.t_phase < (uint64_t)(RUN.settle_s * 1e9)) {
        return;
    }
    sample_rss(1);
    RUN.held = LOAD->welcomed;
    RUN.connected_held = LOAD->connected;
    if (LOAD->steps_n == 0) {
        enter(P_DONE, now);
        return;
    }
    step_begin(0, now);
}

/* The next customer whose page is open, round robin; NULL when none is. */
static struct customer *next_sender(void)
{
    struct load *l = LOAD;
    for (unsigned tries = 0; tries < l->started; tries++) {
        struct customer *c = &l->customers[l->next_sender++ % l->started];
        if (c->state == C_WAITING || c->state == C_CONNECTED) {
            return c;
        }
    }
    return NULL;
}

static void tick_send(uint64_t now)
{
    struct step *s = &LOAD->steps[LOAD->step];
    uint64_t window = (uint64_t)(LOAD->seconds * 1e9);
    uint64_t elapsed = now - s->t_start < window ? now - s->t_start : window;
    /* Message k is due at k / rate; the step sends rate * seconds of them. */
    uint64_t total = (uint64_t)((double)window * s->rate / 1e9);
    uint64_t due = (uint64_t)((double)elapsed * s->rate / 1e9) + 1;
    due = due < total ? due : total;
    while (s->sent < due) {
        struct customer *c = next_sender();
        if (c == NULL) {
            break;
        }
        uint64_t intended = s->t_start + (uint64_t)((double)s->sent * 1e9 / s->rate);
        bool connected = c->state == C_CONNECTED;
        if (customer_send(LOAD, c, LOAD->step, now) == 0) {
            s->sent++;
            s->sent_connected += connected ? 1 : 0;
            lhist_add(&s->lag, (now - intended) / 1000);
        }
    }
    if (now - s->t_start >= window) {
        s->t_end = now;
        cpu_since(s);
        enter(P_DRAIN, now);
    }
}

static void tick_drain(uint64_t now)
{
    struct step *s = &LOAD->steps[LOAD->step];
    bool answered = s->acked + s->refused >= s->sent && s->at_agents >= s->sent_connected;
    if (!answered && now - RUN.t_phase < DRAIN_NS) {
        return;
    }
    fprintf(stderr, "chatload: step %d (%.0f/s): %llu sent, %llu acked, %llu at agents\n",
            LOAD->step, s->rate, (unsigned long long)s->sent, (unsigned long long)s->acked,
            (unsigned long long)s->at_agents);
    if ((unsigned)LOAD->step + 1 < LOAD->steps_n) {
        step_begin(LOAD->step + 1, now);
    } else {
        LOAD->step = -1;
        enter(P_DONE, now);
    }
}

static void finish(void);

static void on_tick(uv_timer_t *t)
{
    uint64_t now = load_now();
    (void)t;
    switch (RUN.phase) {
        case P_FEEDS:
            tick_feeds(now);
            break;
        case P_RAMP:
            tick_ramp(now);
            break;
        case P_CONNECTING:
            tick_connecting(now);
            break;
        case P_SETTLE:
            tick_settle(now);
            break;
        case P_SEND:
            tick_send(now);
            break;
        case P_DRAIN:
            tick_drain(now);
            break;
        case P_DONE:
            finish();
            break;
    }
}

/* ---- The summary ----------------------------------------------------------------------- */

static json_t *ms_json(const struct lhist *h)
{
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t)h->n, "p50",
                     lhist_percentile(h, 50) / 1000.0, "p90", lhist_percentile(h, 90) / 1000.0,
                     "p99", lhist_percentile(h, 99) / 1000.0, "p999",
                     lhist_percentile(h, 99.9) / 1000.0, "max", h->max / 1000.0);
}

static json_t *cpu_json(const struct step *s)
{
    json_t *j = json_object();
    double secs = (double)(s->t_end - s->t_start) / 1e9;
    double hz = (double)sysconf(_SC_CLK_TCK);
    for (unsigned i = 0; i <= LOAD->n_pids; i++) {
        char name[16];
        snprintf(name, sizeof(name), i < LOAD->n_pids ? "n%u" : "chatload", i + 1);
        json_object_set_new(j, name, json_real(100.0 * (double)s->cpu_ticks[i] / hz / secs));
    }
    return j;
}

static json_t *by_node_json(const struct step *s)
{
    json_t *j = json_object();
    for (unsigned i = 0; i < LOAD->n_nodes; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%u", i + 1);
        json_object_set_new(j, name, ms_json(&s->ack_by_node[i]));
    }
    return j;
}

static json_t *step_json(const struct step *s)
{
    double secs = (double)(s->t_end - s->t_start) / 1e9;
    json_t *j = json_pack("{s:f,s:f,s:I,s:f,s:I,s:I,s:f,s:I,s:o,s:{s:I,s:I,s:o},s:o,s:o,s:o}",
                          "rate_target", s->rate, "seconds", secs, "sent", (json_int_t)s->sent,
                          "sent_per_s", (double)s->sent / secs, "acked", (json_int_t)s->acked,
                          "acked_in_window", (json_int_t)s->acked_in_window, "acked_per_s",
                          (double)s->acked_in_window / secs, "refused", (json_int_t)s->refused,
                          "ack_ms", ms_json(&s->ack), "agent", "expected",
                          (json_int_t)s->sent_connected, "received", (json_int_t)s->at_agents,
                          "ms", ms_json(&s->agent), "lag_ms", ms_json(&s->lag), "cpu_pct",
                          cpu_json(s), "closes", tally_json(&s->closes));
    json_object_set_new(j, "ack_ms_by_node", by_node_json(s));
    json_t *secs_max = json_array();
    for (unsigned k = 0; k < LOAD_SECONDS_MAX && k < (unsigned)(secs + 0.5); k++) {
        json_array_append_new(secs_max, json_real(s->max_us_by_second[k] / 1000.0));
    }
    json_object_set_new(j, "ack_max_ms_by_second", secs_max);
    return j;
}

static json_t *rss_json(long v[3][LOAD_NODES_MAX])
{
    json_t *j = json_object();
    static const char *when[3] = {"base", "open", "end"};
    for (int w = 0; w < 3; w++) {
        json_t *a = json_array();
        for (unsigned i = 0; i < LOAD->n_pids; i++) {
            json_array_append_new(a, json_integer(v[w][i]));
        }
        json_object_set_new(j, when[w], a);
    }
    return j;
}

static double growth_per_session(long v[3][LOAD_NODES_MAX])
{
    long sum = 0;
    for (unsigned i = 0; i < LOAD->n_pids; i++) {
        sum += v[1][i] - v[0][i];
    }
    return RUN.held > 0 ? (double)sum / RUN.held : 0;
}

static void report(void)
{
    struct load *l = LOAD;
    json_t *steps = json_array();
    for (unsigned k = 0; k < l->steps_n; k++) {
        json_array_append_new(steps, step_json(&l->steps[k]));
    }
    json_t *ramp = json_pack(
        "{s:f,s:f,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "rate", l->ramp_rate,
        "seconds", (double)RUN.ramp_ns / 1e9, "timed_out", RUN.ramp_timed_out, "started",
        (json_int_t)l->started, "welcomed", (json_int_t)RUN.held, "connected",
        (json_int_t)RUN.connected_held, "offers", (json_int_t)l->offers, "accepted",
        (json_int_t)l->accepts_ok, "tls_resumed", (json_int_t)l->resumed_tls, "connect_ms",
        ms_json(&l->connect_h), "welcome_ms", ms_json(&l->welcome_h), "accept_ms",
        ms_json(&l->accept_h), "closes", tally_json(&l->ramp_closes));
    json_t *agents =
        json_pack("{s:I,s:I,s:I,s:b,s:o}", "count", (json_int_t)l->n_agents, "feeds_open",
                  (json_int_t)l->feeds_open, "logged_in", (json_int_t)l->logins_ok, "timed_out",
                  RUN.feeds_timed_out, "feed_closes", tally_json(&l->feed_closes));
    json_t *j = json_pack(
        "{s:I,s:I,s:I,s:o,s:o,s:I,s:o,s:o,s:f,s:f,s:o,s:o}", "nodes", (json_int_t)l->n_nodes,
        "sessions_target", (json_int_t)l->n_sessions, "sessions_held", (json_int_t)RUN.held,
        "agents", agents, "ramp", ramp, "held_at_end", (json_int_t)l->welcomed, "rss_kb",
        rss_json(RUN.rss), "rss_anon_kb", rss_json(RUN.anon), "rss_per_session_kb",
        growth_per_session(RUN.rss), "anon_per_session_kb", growth_per_session(RUN.anon),
        "steps", steps, "errors", tally_json(&l->errors));
    json_dumpf(j, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

static void tick_closed(uv_handle_t *h)
{
    (void)h;
}

static void finish(void)
{
    struct load *l = LOAD;
    sample_rss(2);
    report();
    for (unsigned i = 0; i < l->started; i++) {
        customer_close(&l->customers[i]);
    }
    for (unsigned i = 0; i < l->n_agents; i++) {
        agent_close(&l->agents[i]);
    }
    for (unsigned i = 0; i < l->n_nodes; i++) {
        http_client_close(l->api[i]);
        l->api[i] = NULL;
    }
    uv_timer_stop(&RUN.tick);
    uv_close((uv_handle_t *)&RUN.tick, tick_closed);
}

/* ---- Options --------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr,
            "usage: chatload --nodes HOST:PORT,... --ca FILE --agents FILE --sessions N "
            "--rates R,R,... --seconds D [--ramp R] [--inflight K] [--per-address A] "
            "[--text-bytes B] [--entry NAME] [--pids PID,...] [--settle S]\n");
    return 2;
}

static int parse_nodes(struct load *l, char *list)
{
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        if (colon == NULL || l->n_nodes == LOAD_NODES_MAX) {
            return -1;
        }
        *colon = 0;
        if (uv_ip4_addr(tok, atoi(colon + 1), &l->nodes[l->n_nodes++]) != 0) {
            return -1;
        }
    }
    return l->n_nodes > 0 ? 0 : -1;
}

static void parse_list(char *list, double *out, unsigned *n, unsigned max)
{
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL && *n < max;
         tok = strtok_r(NULL, ",", &save)) {
        out[(*n)++] = atof(tok);
    }
}

struct files
{
    const char *ca;
    const char *agents;
};

static int parse_one(struct load *l, struct files *f, const char *opt, char *v)
{
    double pids[LOAD_NODES_MAX];
    if (strcmp(opt, "--nodes") == 0) {
        return parse_nodes(l, v);
    } else if (strcmp(opt, "--ca") == 0) {
        f->ca = v;
    } else if (strcmp(opt, "--agents") == 0) {
        f->agents = v;
    } else if (strcmp(opt, "--sessions") == 0) {
        l->n_sessions = (unsigned)atoi(v);
    } else if (strcmp(opt, "--rates") == 0) {
        parse_list(v, l->rates, &l->steps_n, LOAD_STEPS_MAX);
    } else if (strcmp(opt, "--seconds") == 0) {
        l->seconds = atof(v);
    } else if (strcmp(opt, "--ramp") == 0) {
        l->ramp_rate = atof(v);
    } else if (strcmp(opt, "--inflight") == 0) {
        l->inflight_max = (unsigned)atoi(v);
    } else if (strcmp(opt, "--per-address") == 0) {
        l->per_address = (unsigned)atoi(v);
    } else if (strcmp(opt, "--text-bytes") == 0) {
        l->text_bytes = (unsigned)atoi(v);
    } else if (strcmp(opt, "--entry") == 0) {
        l->entry = v;
    } else if (strcmp(opt, "--settle") == 0) {
        RUN.settle_s = atof(v);
    } else if (strcmp(opt, "--pids") == 0) {
        parse_list(v, pids, &l->n_pids, LOAD_NODES_MAX);
        for (unsigned i = 0; i < l->n_pids; i++) {
            l->pids[i] = (int)pids[i];
        }
    } else {
        return -1;
    }
    return 0;
}

static int parse(struct load *l, struct files *f, int argc, char **argv)
{
    *l = (struct load){.ramp_rate = 500,
                       .inflight_max = 200,
                       .per_address = 24,
                       .text_bytes = 64,
                       .seconds = 10,
                       .entry = "web",
                       .step = -1};
    RUN.settle_s = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (parse_one(l, f, argv[i], argv[i + 1]) != 0) {
            fprintf(stderr, "chatload: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    bool ok = argc % 2 == 1 && l->n_nodes > 0 && l->seconds < LOAD_SECONDS_MAX &&
              f->ca != NULL && f->agents != NULL && l->n_sessions > 0 && l->ramp_rate > 0 &&
              l->inflight_max > 0 && l->per_address > 0 && l->per_address <= 32 &&
              l->seconds > 0;
    for (unsigned k = 0; k < l->steps_n; k++) {
        ok = ok && l->rates[k] > 0;
    }
    return ok ? 0 : -1;
}

/* ---- main ------------------------------------------------------------------------------ */

/* Every customer and feed is a socket: the soft limit goes up to the hard one. */
static void raise_nofile(unsigned want)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < want) {
        fprintf(stderr, "chatload: %llu open files allowed, about %u needed\n",
                (unsigned long long)r.rlim_cur, want);
    }
}

static int setup(struct load *l, const struct files *f)
{
    char err[256];
    struct net_tls_options o = {.ca = f->ca, .server = false};
    if (net_tls_new(&o, &l->tls, err, sizeof(err)) != 0) {
        fprintf(stderr, "chatload: %s\n", err);
        return -1;
    }
    for (unsigned i = 0; i < l->n_nodes; i++) {
        char host[INET_ADDRSTRLEN];
        uv_ip4_name(&l->nodes[i], host, sizeof(host));
        if (http_client_new(l->loop, host, ntohs(l->nodes[i].sin_port), 32, &l->api[i]) != 0 ||
            http_client_set_tls(l->api[i], l->tls, NULL) != 0) {
            return -1;
        }
    }
    l->customers = calloc(l->n_sessions, sizeof(*l->customers));
    if (l->customers == NULL || agents_read(l, f->agents) != 0) {
        return -1;
    }
    raise_nofile(l->n_sessions + l->n_agents + 64 * l->n_nodes + 64);
    return 0;
}

int main(int argc, char **argv)
{
    static struct load load;
    struct files files = {0};
    LOAD = &load;
    if (parse(&load, &files, argc, argv) != 0) {
        return usage();
    }
    signal(SIGPIPE, SIG_IGN);
    load.loop = uv_default_loop();
    if (setup(&load, &files) != 0) {
        fprintf(stderr, "chatload: setup failed\n");
        return 1;
    }
    uv_timer_init(load.loop, &RUN.tick);
    enter(P_FEEDS, load_now());
    uv_timer_start(&RUN.tick, on_tick, TICK_MS, TICK_MS);
    uv_run(load.loop, UV_RUN_DEFAULT);
    net_tls_free(load.tls);
    for (unsigned i = 0; i < load.n_agents; i++) {
        free(load.agents[i].auth);
    }
    free(load.agents);
    free(load.customers);
    return uv_loop_close(load.loop) == 0 ? 0 : 1;
}
