/* bench_engine: routing decisions per second at several sizes, snapshot encode/decode
 * speed, and memory per contact and per agent. See README.md. Every measurement is bounded
 * in time (BENCH_RUN_NS per row). */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/engine/bench.h"
#include "common/buf.h"

#define BENCH_RUN_NS 1000000000LL /* measured loop per row */
#define BENCH_WARMUP 2000

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

struct row
{
    double cycle_per_s;  /* decisions per second of the whole cycle of commands */
    double apply_per_s;  /* decisions per second of CONTACT_END applies alone */
    double ns_per_cycle; /* ns per decision, whole cycle */
    double ns_per_apply;
};

static struct row measure(enum bench_workload workload, uint32_t agents, uint64_t queued)
{
    struct bench_world w;
    struct row r = {0, 0, 0, 0};
    int64_t apply_ns = 0;
    bench_world_open(&w, workload, agents, 42 + agents + queued);
    bench_world_login(&w);
    bench_world_fill(&w, queued, 30000000000LL);
    for (int i = 0; i < BENCH_WARMUP; i++) {
        bench_world_cycle(&w, &apply_ns);
    }
    apply_ns = 0;
    uint64_t d0 = w.decisions, e0 = w.end_decisions;
    int64_t t0 = bench_now_ns(), t1 = t0;
    while (t1 - t0 < BENCH_RUN_NS) {
        for (int i = 0; i < 256; i++) {
            bench_world_cycle(&w, &apply_ns);
        }
        t1 = bench_now_ns();
    }
    double d = (double)(w.decisions - d0), e = (double)(w.end_decisions - e0);
    r.cycle_per_s = d * 1e9 / (double)(t1 - t0);
    r.ns_per_cycle = (double)(t1 - t0) / d;
    r.apply_per_s = e * 1e9 / (double)apply_ns;
    r.ns_per_apply = (double)apply_ns / e;
    bench_world_close(&w);
    return r;
}

static double decisions_table(enum bench_workload workload)
{
    static const uint32_t agents[] = {100, 1000, 10000};
    static const uint64_t queued[] = {1000, 10000, 100000};
    double result = 0;
    printf("%s workload\n",
           workload == BENCH_RULE_DRIVEN
               ? "rule-driven (40 requirement profiles, agents serve 2-3 queues)"
               : "free-form (each contact its own skills and levels)");
    printf("%-8s %-8s %16s %14s %16s %14s\n", "agents", "queued", "decisions/s", "ns/decision",
           "per-apply dec/s", "ns/apply-dec");
    for (int a = 0; a < 3; a++) {
        for (int q = 0; q < 3; q++) {
            struct row r = measure(workload, agents[a], queued[q]);
            printf("%-8u %-8llu %16.0f %14.0f %16.0f %14.0f\n", agents[a],
                   (unsigned long long)queued[q], r.cycle_per_s, r.ns_per_cycle, r.apply_per_s,
                   r.ns_per_apply);
            fflush(stdout);
            if (agents[a] == 10000 && queued[q] == 100000) {
                result = r.cycle_per_s;
            }
        }
    }
    return result;
}

static void snapshot_speed(void)
{
    struct bench_world w;
    struct cd_buf buf;
    struct engine *copy = NULL;
    bench_world_open(&w, BENCH_RULE_DRIVEN, 10000, 7);
    bench_world_login(&w);
    bench_world_fill(&w, 100000, 30000000000LL);
    cd_buf_init(&buf);
    int64_t t0 = bench_now_ns();
    engine_encode(w.e, &buf);
    int64_t t1 = bench_now_ns();
    int rc = engine_decode(buf.data, buf.len, &copy);
    int64_t t2 = bench_now_ns();
    double mb = (double)buf.len / 1e6;
    printf(
        "snapshot at 10000 agents, %zu live contacts: %.1f MB, encode %.0f MB/s (%.1f ms), "
        "decode %.0f MB/s (%.1f ms)%s\n",
        engine_contact_count(w.e), mb, mb * 1e9 / (double)(t1 - t0), (double)(t1 - t0) / 1e6,
        mb * 1e9 / (double)(t2 - t1), (double)(t2 - t1) / 1e6, rc == 0 ? "" : " DECODE FAILED");
    if (copy != NULL) {
        engine_free(copy);
    }
    cd_buf_close(&buf);
    bench_world_close(&w);
}

/* Memory: the malloc'd bytes (mallinfo2) an engine holds for agents and for contacts. */
static void memory(uint32_t agents, uint64_t contacts)
{
    struct bench_world w;
    size_t base = heap_bytes();
    bench_world_open(&w, BENCH_RULE_DRIVEN, agents, 9);
    size_t names = heap_bytes();
    bench_world_login(&w);
    size_t with_agents = heap_bytes();
    int64_t t0 = bench_now_ns();
    bench_world_fill(&w, contacts - agents, 60000000000LL);
    int64_t t1 = bench_now_ns();
    size_t full = heap_bytes();
    size_t live = engine_contact_count(w.e);
    printf(
        "memory at %u agents, %zu live contacts: total %.1f MB; per agent %.0f B "
        "(model and roster), per live contact %.0f B (filled in %.1f s)\n",
        agents, live, (double)(full - base) / 1e6, (double)(with_agents - base) / agents,
        (double)(full - with_agents) / (double)live, (double)(t1 - t0) / 1e9);
    (void)names;
    bench_world_close(&w);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    double result = decisions_table(BENCH_RULE_DRIVEN);
    decisions_table(BENCH_FREE_FORM);
    snapshot_speed();
    memory(quick ? 5000 : 50000, quick ? 100000 : 1000000);
    printf("RESULT decisions_per_s=%.0f agents=10000 queued=100000\n", result);
    return 0;
}
