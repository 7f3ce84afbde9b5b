/* histfill: fills a contactd cluster's history with finished contacts through the HTTPS
 * API of one node (the leader), and prints a JSON summary (README.md).
 *
 *   histfill --node 127.0.0.1:PORT --ca ca.crt --token-file FILE --agents FILE
 *            --queues NAME:CHANNEL:WEIGHT,... --contacts N [--inflight K] [--conns C]
 *            [--dispositions A,B,...] [--seconds-max S] [--seed N] [--key-prefix P]
 *
 * First every agent of the agents file (one name a line) logs in as available; then the
 * event log's place is taken, and N contacts are carried through their plans, K at a time,
 * over C connections, until every one is done or S seconds have passed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench/reports/histfill.h"

#define TICK_MS 1000
#define PROGRESS_EVERY 5
#define REQUEST_TIMEOUT_MS 30000

struct fill *FILL;

static struct
{
    uv_timer_t tick;
    unsigned ticks;
    uint64_t rng;
} RUN;

uint64_t fill_now(void)
{
    return uv_hrtime();
}

uint64_t fill_random(void)
{
    RUN.rng ^= RUN.rng << 13;
    RUN.rng ^= RUN.rng >> 7;
    RUN.rng ^= RUN.rng << 17;
    return RUN.rng;
}

void fill_tally_add(struct fill_tally *t, const char *name)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], name) == 0) {
            t->count[i]++;
            return;
        }
    }
    unsigned i = t->n < FILL_TALLY_MAX ? t->n++ : FILL_TALLY_MAX - 1;
    snprintf(t->name[i], sizeof(t->name[i]), "%s", i < FILL_TALLY_MAX - 1 ? name : "other");
    t->count[i]++;
}

int fill_post(const char *target, const char *body, http_client_cb cb, void *data)
{
    FILL->requests++;
    return http_client_request_headers(FILL->api, "POST", target, "application/json",
                                       FILL->auth, body, strlen(body), REQUEST_TIMEOUT_MS, cb,
                                       data);
}

/* ---- Phases ----------------------------------------------------------------------------- */

static void login_done(void *data, const struct http_response *res)
{
    struct fill *f = FILL;
    (void)data;
    f->logins_done++;
    if (res->status == 200) {
        f->logins_ok++;
    } else {
        char name[40];
        snprintf(name, sizeof(name), "login_%d", res->status);
        fill_tally_add(&f->errors, name);
    }
    if (f->logins_done == f->n_agents) {
        fprintf(stderr, "histfill: %u/%u agents logged in in %.1f s\n", f->logins_ok,
                f->n_agents, (double)(fill_now() - f->t_start) / 1e9);
        f->t_fill = fill_now();
        offers_poll(f); /* its first answer starts the contacts */
    }
}

static void login_all(struct fill *f)
{
    char target[128];
    for (unsigned i = 0; i < f->n_agents; i++) {
        snprintf(target, sizeof(target), "/v1/agents/%s/login", f->agents[i]);
        if (fill_post(target, "{\"presence\":\"available\"}", login_done, NULL) != 0) {
            struct http_response res = {.status = -1};
            login_done(NULL, &res);
        }
    }
}

static void summary(struct fill *f)
{
    static const char *const plan_names[PLAN_COUNT] = {"answered",
                                                       "answered_no_disposition",
                                                       "rejected_then_answered",
                                                       "transferred_then_answered",
                                                       "abandoned_ringing",
                                                       "abandoned_waiting"};
    double secs = (double)(f->t_end - f->t_fill) / 1e9;
    json_t *plans = json_object(), *errors = json_object();
    for (unsigned p = 0; p < PLAN_COUNT; p++) {
        json_object_set_new(plans, plan_names[p], json_integer((json_int_t)f->plans[p]));
    }
    for (unsigned i = 0; i < f->errors.n; i++) {
        json_object_set_new(errors, f->errors.name[i],
                            json_integer((json_int_t)f->errors.count[i]));
    }
    json_t *j = json_pack(
        "{s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "contacts",
        (json_int_t)f->n_contacts, "started", (json_int_t)f->started, "finished",
        (json_int_t)f->finished, "failed", (json_int_t)f->failed, "seconds", secs,
        "finished_per_s", secs > 0 ? f->finished / secs : 0.0, "requests",
        (json_int_t)f->requests, "offers_seen", (json_int_t)f->offers_seen, "events_lost",
        (json_int_t)f->offers_lost, "stuck_abandoned", (json_int_t)f->stuck_abandoned,
        "agents_logged_in", (json_int_t)f->logins_ok, "plans", plans, "errors", errors);
    json_dumpf(j, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

static void tick_closed(uv_handle_t *h)
{
    (void)h;
}

static void finish(struct fill *f)
{
    f->stopping = true;
    f->t_end = fill_now();
    summary(f);
    uv_timer_stop(&RUN.tick);
    uv_close((uv_handle_t *)&RUN.tick, tick_closed);
    offers_close();
    http_client_close(f->api);
    http_client_close(f->poll);
    f->api = f->poll = NULL;
}

static void on_tick(uv_timer_t *t)
{
    struct fill *f = FILL;
    uint64_t now = fill_now();
    (void)t;
    RUN.ticks++;
    if (f->t_fill != 0) {
        contacts_sweep(f, now);
    }
    double secs = (double)(now - (f->t_fill ? f->t_fill : f->t_start)) / 1e9;
    if (RUN.ticks % PROGRESS_EVERY == 0) {
        fprintf(stderr,
                "histfill: %.0f s: %u started, %u finished (%.0f/s), %u failed, %llu requests, "
                "%llu offers\n",
                secs, f->started, f->finished, secs > 0 ? f->finished / secs : 0.0, f->failed,
                (unsigned long long)f->requests, (unsigned long long)f->offers_seen);
    }
    bool done = f->finished + f->failed >= f->n_contacts;
    bool late = f->seconds_max > 0 && (double)(now - f->t_start) / 1e9 > f->seconds_max;
    if (done || late) {
        if (late && !done) {
            fprintf(stderr, "histfill: stopped after %.0f s\n", f->seconds_max);
        }
        finish(f);
    }
}

/* ---- Options ---------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr,
            "usage: histfill --node HOST:PORT --ca FILE --token-file FILE --agents FILE "
            "--queues NAME:CHANNEL:WEIGHT,... --contacts N [--inflight K] [--conns C] "
            "[--dispositions A,B,...] [--seconds-max S] [--seed N] [--key-prefix P]\n");
    return 2;
}

struct options
{
    const char *node, *ca, *token_file, *agents_file;
    char *queues, *dispositions;
};

static int parse_queues(struct fill *f, char *list)
{
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        struct fill_queue *q = &f->queues[f->n_queues];
        unsigned weight = 1;
        if (f->n_queues == FILL_QUEUES_MAX ||
            sscanf(tok, "%63[^:]:%15[^:]:%u", q->name, q->channel, &weight) < 2 ||
            weight == 0) {
            return -1;
        }
        q->weight = weight;
        f->n_queues++;
    }
    return f->n_queues > 0 ? 0 : -1;
}

static void parse_dispositions(struct fill *f, char *list)
{
    for (char *save = NULL, *tok = strtok_r(list, ",", &save);
         tok != NULL && f->n_dispositions < 8; tok = strtok_r(NULL, ",", &save)) {
        snprintf(f->dispositions[f->n_dispositions++], FILL_NAME_MAX, "%s", tok);
    }
}

static int parse_one(struct fill *f, struct options *o, const char *opt, char *v)
{
    if (strcmp(opt, "--node") == 0) {
        o->node = v;
    } else if (strcmp(opt, "--ca") == 0) {
        o->ca = v;
    } else if (strcmp(opt, "--token-file") == 0) {
        o->token_file = v;
    } else if (strcmp(opt, "--agents") == 0) {
        o->agents_file = v;
    } else if (strcmp(opt, "--queues") == 0) {
        o->queues = v;
    } else if (strcmp(opt, "--dispositions") == 0) {
        o->dispositions = v;
    } else if (strcmp(opt, "--contacts") == 0) {
        f->n_contacts = (uint32_t)strtoul(v, NULL, 10);
    } else if (strcmp(opt, "--inflight") == 0) {
        f->inflight = (uint32_t)strtoul(v, NULL, 10);
    } else if (strcmp(opt, "--conns") == 0) {
        f->conns = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(opt, "--seconds-max") == 0) {
        f->seconds_max = atof(v);
    } else if (strcmp(opt, "--seed") == 0) {
        f->seed = strtoull(v, NULL, 10);
    } else if (strcmp(opt, "--key-prefix") == 0) {
        snprintf(f->key_prefix, sizeof(f->key_prefix), "%s", v);
    } else {
        return -1;
    }
    return 0;
}

static int parse(struct fill *f, struct options *o, int argc, char **argv)
{
    *f = (struct fill){.inflight = 512, .conns = 64, .seed = 1, .key_prefix = "h"};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (parse_one(f, o, argv[i], argv[i + 1]) != 0) {
            fprintf(stderr, "histfill: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    if (argc % 2 != 1 || o->node == NULL || o->ca == NULL || o->token_file == NULL ||
        o->agents_file == NULL || o->queues == NULL || f->n_contacts == 0 || f->inflight == 0 ||
        f->inflight > 65536 || f->conns == 0 || parse_queues(f, o->queues) != 0) {
        return -1;
    }
    if (o->dispositions != NULL) {
        parse_dispositions(f, o->dispositions);
    }
    return 0;
}

/* ---- Setup ------------------------------------------------------------------------------ */

static int read_token(struct fill *f, const char *path)
{
    char token[512];
    FILE *in = fopen(path, "r");
    if (in == NULL || fscanf(in, "%511s", token) != 1) {
        fprintf(stderr, "histfill: cannot read a token from '%s'\n", path);
        if (in != NULL) {
            fclose(in);
        }
        return -1;
    }
    fclose(in);
    size_t n = strlen(token) + 32;
    f->auth = malloc(n);
    if (f->auth == NULL) {
        return -1;
    }
    snprintf(f->auth, n, "Authorization: Bearer %s\r\n", token);
    return 0;
}

static int read_agents(struct fill *f, const char *path)
{
    char name[FILL_NAME_MAX];
    unsigned cap = 0;
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        fprintf(stderr, "histfill: cannot read the agents file '%s'\n", path);
        return -1;
    }
    while (fscanf(in, "%63s", name) == 1) {
        if (f->n_agents == cap) {
            cap = cap ? 2 * cap : 256;
            char(*more)[FILL_NAME_MAX] = realloc(f->agents, cap * sizeof(*more));
            if (more == NULL) {
                fclose(in);
                return -1;
            }
            f->agents = more;
        }
        snprintf(f->agents[f->n_agents++], FILL_NAME_MAX, "%s", name);
    }
    fclose(in);
    return f->n_agents > 0 ? 0 : -1;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 64;
    while (p < n) {
        p *= 2;
    }
    return p;
}

static int setup_tables(struct fill *f)
{
    f->slots = calloc(f->inflight, sizeof(*f->slots));
    f->free_slots = calloc(f->inflight, sizeof(*f->free_slots));
    f->n_early = 4 * f->inflight;
    f->early_offers = calloc(f->n_early, sizeof(*f->early_offers));
    if (f->slots == NULL || f->free_slots == NULL || f->early_offers == NULL ||
        idmap_init(&f->by_id, pow2_at_least(4 * f->inflight)) != 0 ||
        idmap_init(&f->early, pow2_at_least(4 * f->n_early)) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < f->inflight; i++) {
        f->free_slots[f->n_free++] = f->inflight - 1 - i;
    }
    snprintf(f->after, sizeof(f->after), "now");
    return 0;
}

static int setup(struct fill *f, const struct options *o)
{
    char err[256], host[64];
    unsigned port = 0;
    struct net_tls_options to = {.ca = o->ca, .server = false};
    if (sscanf(o->node, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535) {
        fprintf(stderr, "histfill: --node '%s' is not HOST:PORT\n", o->node);
        return -1;
    }
    if (net_tls_new(&to, &f->tls, err, sizeof(err)) != 0) {
        fprintf(stderr, "histfill: %s\n", err);
        return -1;
    }
    if (http_client_new(f->loop, host, (uint16_t)port, f->conns, &f->api) != 0 ||
        http_client_set_tls(f->api, f->tls, NULL) != 0 ||
        http_client_new(f->loop, host, (uint16_t)port, 1, &f->poll) != 0 ||
        http_client_set_tls(f->poll, f->tls, NULL) != 0) {
        fprintf(stderr, "histfill: cannot make the HTTPS clients of '%s'\n", o->node);
        return -1;
    }
    if (read_token(f, o->token_file) != 0 || read_agents(f, o->agents_file) != 0 ||
        setup_tables(f) != 0) {
        return -1;
    }
    RUN.rng = f->seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
    return 0;
}

static void teardown(struct fill *f)
{
    net_tls_free(f->tls);
    idmap_close(&f->by_id);
    idmap_close(&f->early);
    free(f->slots);
    free(f->free_slots);
    free(f->early_offers);
    free(f->agents);
    free(f->auth);
}

int main(int argc, char **argv)
{
    static struct fill fill;
    struct options o = {0};
    FILL = &fill;
    if (parse(&fill, &o, argc, argv) != 0) {
        return usage();
    }
    signal(SIGPIPE, SIG_IGN);
    fill.loop = uv_default_loop();
    if (setup(&fill, &o) != 0) {
        fprintf(stderr, "histfill: setup failed\n");
        return 1;
    }
    fill.t_start = fill_now();
    uv_timer_init(fill.loop, &RUN.tick);
    uv_timer_start(&RUN.tick, on_tick, TICK_MS, TICK_MS);
    login_all(&fill);
    uv_run(fill.loop, UV_RUN_DEFAULT);
    teardown(&fill);
    int rc = uv_loop_close(fill.loop) == 0 ? 0 : 1;
    return rc != 0 ? rc : fill.finished == fill.n_contacts ? 0 : 3;
}
