/* engine_sim: a seeded simulation of a contact centre driving the engine with random but
 * plausible commands and checking its invariants after every one.
 *
 *   engine_sim [--seed N] [--steps M] [--agents K] [--snapshot-every N]
 *              [--model-every-s S] [--verbose]
 *
 * --snapshot-every 0 turns the periodic snapshot round trip off (default every 25,000
 * commands); --model-every-s is the mean simulated time between model versions (default
 * 4 hours; 0 = only the first). *
 * A failure prints `SEED=<n> STEP=<k>` and what failed; the same seed and --steps k replay
 * the run up to the failure exactly. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

#define DEFAULT_SEED 20240325
#define DEFAULT_STEPS 1000000
#define DEFAULT_AGENTS 120
#define EPOCH_MS 1711324800000LL /* Monday 2024-03-25 00:00 UTC */

void sim_fail(const struct sim *s, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr,
            "engine_sim: FAILED SEED=%llu STEP=%llu (time %lld): ", (unsigned long long)s->seed,
            (unsigned long long)s->step, (long long)s->now);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nreplay: engine_sim --seed %llu --steps %llu\n",
            (unsigned long long)s->seed, (unsigned long long)s->step);
    exit(1);
}

int64_t rng_exp_ms(struct sim_rng *r, int64_t mean_ms)
{
    double u = ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    double v = -log(u) * (double)mean_ms;
    return v > 1e12 ? (int64_t)1e12 : (int64_t)v;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: engine_sim [--seed N] [--steps M] [--agents 1-%d] [--snapshot-every N] "
            "[--model-every-s S] [--verbose]\n",
            SIM_AGENTS_MAX / 2);
    exit(2);
}

static void parse_args(struct sim *s, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--verbose") == 0) {
            s->verbose = true;
        } else if (v != NULL && strcmp(argv[i], "--seed") == 0) {
            s->seed = strtoull(v, NULL, 10);
            i++;
        } else if (v != NULL && strcmp(argv[i], "--steps") == 0) {
            s->steps = strtoull(v, NULL, 10);
            i++;
        } else if (v != NULL && strcmp(argv[i], "--snapshot-every") == 0) {
            s->snapshot_every = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else if (v != NULL && strcmp(argv[i], "--model-every-s") == 0) {
            s->model_mean_ms = 1000 * (int64_t)strtoll(v, NULL, 10);
            i++;
        } else if (v != NULL && strcmp(argv[i], "--agents") == 0) {
            s->n_model_agents = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else {
            usage();
        }
    }
    if (s->n_model_agents < 1 || s->n_model_agents > SIM_AGENTS_MAX / 2) {
        usage();
    }
}

static void sim_init(struct sim *s)
{
    memset(s, 0, sizeof(*s));
    s->seed = DEFAULT_SEED;
    s->steps = DEFAULT_STEPS;
    s->n_model_agents = DEFAULT_AGENTS;
    s->check_every = 1000;
    s->replica_every = 2000;
    s->snapshot_every = 25000;
    s->epoch_ms = EPOCH_MS;
    s->arrival_mean_ms = 800;
    s->model_mean_ms = 4 * 3600000LL;
    s->redefine = -1;
    engine_model_init(&s->model);
}

static void sim_open(struct sim *s)
{
    s->rng.s = s->seed;
    s->order_rng.s = ~s->seed;
    if (engine_new(&s->e) != 0 || engine_new(&s->replica) != 0) {
        fprintf(stderr, "engine_sim: engine_new failed\n");
        exit(2);
    }
}

static void sim_close(struct sim *s)
{
    for (uint64_t id = 1; id <= s->created; id++) {
        free(s->contacts[id].ring);
    }
    for (uint32_t qi = 0; qi < SIM_QUEUES_MAX; qi++) {
        free(s->queues[qi].waiting);
        free(s->queues[qi].ewt_rel);
    }
    free(s->contacts);
    free(s->live);
    free(s->ev);
    free(s->touched_contacts);
    sim_model_free(&s->model);
    engine_free(s->e);
    engine_free(s->replica);
}

static void progress(const struct sim *s)
{
    uint32_t by_state[5] = {0};
    for (uint32_t ai = 0; ai < s->n_agents; ai++) {
        struct engine_agent_info a;
        if (s->agents[ai].defined && engine_agent_get(s->e, s->agents[ai].name, &a) == 0) {
            by_state[a.state < 5 ? a.state : 0]++;
        }
    }
    printf(
        "step %8llu  day %.2f  live %6llu  created %7llu  offers %7llu  errors %6llu  "
        "agents offline/available/busy/wrapup/away %u/%u/%u/%u/%u\n",
        (unsigned long long)s->step, (double)(s->now - s->epoch_ms) / 86400000.0,
        (unsigned long long)s->n_live, (unsigned long long)s->created,
        (unsigned long long)s->st.offers, (unsigned long long)s->st.errors, by_state[0],
        by_state[1], by_state[2], by_state[3], by_state[4]);
}

static void summary(struct sim *s, double secs)
{
    const struct sim_stats *st = &s->st;
    printf("outcomes:");
    for (int o = ENGINE_CONTACT_COMPLETED; o < ENGINE_CONTACT_STATE_COUNT; o++) {
        printf(" %s=%llu", engine_contact_state_name(o), (unsigned long long)st->outcomes[o]);
    }
    printf("\nchat: messages=%llu session_end=%llu session_move=%llu wrapup_done=%llu",
           (unsigned long long)st->by_kind[ENGINE_CMD_CHAT_MESSAGE],
           (unsigned long long)st->by_kind[ENGINE_CMD_SESSION_END],
           (unsigned long long)st->by_kind[ENGINE_CMD_SESSION_MOVE],
           (unsigned long long)st->by_kind[ENGINE_CMD_WRAPUP_DONE]);
    printf(
        "\nchecks: full=%llu replica_digests=%llu snapshots=%llu (avg %llu bytes) "
        "order_checks=%llu compared=%llu error_digests=%llu\n",
        (unsigned long long)st->full_checks, (unsigned long long)st->replica_digests,
        (unsigned long long)st->snapshots,
        (unsigned long long)(st->snapshots ? st->snapshot_bytes / st->snapshots : 0),
        (unsigned long long)st->order_checks, (unsigned long long)st->order_compared,
        (unsigned long long)st->digest_checked_errors);
    sim_ewt_report(s);
    printf(
        "engine_sim: OK SEED=%llu steps=%llu simulated_days=%.2f contacts=%llu offers=%llu "
        "connected=%llu ended=%llu max_live=%llu max_waiting=%llu expected_errors=%llu "
        "models=%llu pauses=%llu agents=%u wall=%.1fs\n",
        (unsigned long long)s->seed, (unsigned long long)s->step,
        (double)(s->now - s->epoch_ms) / 86400000.0, (unsigned long long)s->created,
        (unsigned long long)st->offers, (unsigned long long)st->connected,
        (unsigned long long)st->ended, (unsigned long long)st->max_live,
        (unsigned long long)st->max_waiting, (unsigned long long)st->expected_errors,
        (unsigned long long)st->models, (unsigned long long)st->pauses, s->n_agents, secs);
}

int main(int argc, char **argv)
{
    struct sim *s = malloc(sizeof(*s));
    struct timespec t0, t1;
    if (s == NULL) {
        return 2;
    }
    sim_init(s);
    parse_args(s, argc, argv);
    sim_open(s);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sim_driver_start(s);
    uint64_t shown = 0;
    while (s->step < s->steps) {
        sim_driver_step(s);
        if (s->verbose && s->step / 50000 != shown) {
            shown = s->step / 50000;
            progress(s);
        }
    }
    sim_check_full(s);
    sim_compare_replica(s);
    if (s->snapshot_every > 0) {
        sim_snapshot_roundtrip(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    summary(s, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    sim_close(s);
    free(s);
    return 0;
}
