/* The engine benchmark: shared declarations of bench.c and bench_world.c. */
#ifndef CD_BENCH_ENGINE_H
#define CD_BENCH_ENGINE_H

#include <stdint.h>

#include "engine/engine.h"

#define BENCH_SKILLS 50
#define BENCH_QUEUES 8
#define BENCH_PROFILES 40 /* requirement profiles of the rule-driven workload */

/* Rule-driven: requirements come from a catalogue, as routing rules and queue
 * definitions produce them; agents serve 2-3 queues. Free-form: every contact brings its
 * own 1-2 skills at levels 1-5 and every agent serves every queue (thousands of distinct
 * requirement sets: the engine's worst case). */
enum bench_workload {
    BENCH_RULE_DRIVEN = 0,
    BENCH_FREE_FORM,
};

struct bench_offer
{
    uint64_t offer;
    uint64_t contact;
    uint32_t agent;
};

struct bench_world
{
    struct engine *e;
    enum bench_workload workload;
    uint32_t n_agents;
    const char **names; /* "a<index>", in name_buf */
    char *name_buf;
    uint64_t *connected; /* contact each agent talks to, 0 = none */
    uint32_t *busy;      /* agents in the order they connected: a ring */
    uint64_t busy_head, busy_tail;
    uint16_t *skills; /* first skill of each agent */
    struct bench_offer *pending;
    uint32_t n_pending;
    uint64_t waiting; /* QUEUED effects minus accepted offers */
    uint64_t decisions;
    uint64_t end_decisions; /* decisions made inside the timed CONTACT_END applies */
    uint64_t rng;
    int64_t now;
};

int64_t bench_now_ns(void);
void bench_world_open(struct bench_world *w,
                      enum bench_workload workload,
                      uint32_t agents,
                      uint64_t seed);
void bench_world_login(struct bench_world *w);
void bench_world_arrival(struct bench_world *w);
void bench_world_fill(struct bench_world *w, uint64_t queued, int64_t limit_ns);
void bench_world_cycle(struct bench_world *w, int64_t *apply_ns);
void bench_world_close(struct bench_world *w);

#endif
