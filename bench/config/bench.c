/* bench_config: time to read a routing model (YAML parse, build, every reference resolved,
 * engine validation) and to diff two versions of it, for documents of growing size. See
 * README.md. Every family stops growing once one of its rows takes longer than
 * BENCH_ROW_BUDGET_NS, so a quadratic reader cannot hold the run for hours. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "config/config.h"

#define BENCH_ROW_BUDGET_NS 30000000000LL
#define BENCH_MIN_NS 300000000LL /* repeat small rows until this much time is measured */
#define KIB 1024u

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- Documents ------------------------------------------------------------------------ */

struct doc
{
    char *text;
    size_t len;
    unsigned agents, queues, rules, skills, holidays;
};

/* Counts for a "centre" model of about target bytes: most of the text is agents, then
 * queues, rules and holidays, as in a real contact centre. */
struct shape
{
    unsigned skills, hours, holidays, queues, agents, rules;
};

static struct shape centre_shape(size_t target)
{
    struct shape s;
    s.skills = 20 + (unsigned)(target / 4096);
    s.hours = 2 + (unsigned)(target / (256 * KIB));
    s.holidays = 20 + (unsigned)(target / 2 / KIB) / s.hours; /* ~5 % of the text */
    s.queues = 4 + (unsigned)(target / 5 / 150);              /* ~20 % */
    s.agents = 4 + (unsigned)(target * 11 / 20 / 190);        /* ~55 % */
    s.rules = 4 + (unsigned)(target / 5 / 130);               /* ~20 % */
    return s;
}

/* y-m-d of a day count since 1970-01-01 (proleptic Gregorian, eras of 400 years). */
static void civil(long days, unsigned *y, unsigned *m, unsigned *d)
{
    long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

static void put_hours(FILE *f, const struct shape *s)
{
    fputs("hours:\n", f);
    for (unsigned h = 0; h < s->hours; h++) {
        fprintf(f,
                "  h-%03u:\n    weekdays: [\"08:00-12:00\", \"13:00-18:00\"]\n"
                "    saturday: \"09:00-13:00\"\n    holidays:\n",
                h);
        for (unsigned i = 0; i < s->holidays; i++) {
            unsigned y, m, d;
            civil(20454 + 3L * i, &y, &m, &d); /* from 2026-01-01, every third day */
            fprintf(f, "      - { date: %04u-%02u-%02u, name: holiday %u }\n", y, m, d, i);
        }
    }
}

static void put_queues(FILE *f, const struct shape *s)
{
    fputs("queues:\n", f);
    for (unsigned q = 0; q < s->queues; q++) {
        fprintf(f,
                "  q-%05u:\n    channels: [chat, email]\n    strategy: longest-idle\n"
                "    hours: h-%03u\n    skills: { sk-%05u: 3, sk-%05u: 4 }\n",
                q, q % s->hours, q % s->skills, (q + 1) % s->skills);
        if (q + 1 < s->queues) {
            /* One long overflow chain: the worst case for the loop check. */
            fprintf(f, "    overflow: { queue: q-%05u }\n", q + 1);
        }
    }
}

static void put_agents(FILE *f, const struct shape *s)
{
    fputs("agents:\n", f);
    for (unsigned a = 0; a < s->agents; a++) {
        unsigned q = a % s->queues;
        fprintf(f,
                "  - id: a-%06u\n    site: london\n"
                "    skills: { sk-%05u: 5, sk-%05u: 7, sk-%05u: 3 }\n"
                "    capacity: { chat: 3, email: 5 }\n    queues: [q-%05u",
                a, a % s->skills, (a + 7) % s->skills, (a + 13) % s->skills, q);
        for (unsigned k = 1; k < 3 && k < s->queues; k++) {
            fprintf(f, ", q-%05u", (q + k) % s->queues);
        }
        fputs("]\n", f);
    }
}

static void put_rules(FILE *f, const struct shape *s)
{
    fputs("rules:\n", f);
    for (unsigned r = 0; r < s->rules; r++) {
        fprintf(f,
                "  - name: r-%05u\n    when: { channel: chat, attribute: { tier: [gold, "
                "t%u] } }\n    route: { queue: q-%05u, priority: %u }\n",
                r, r, r % s->queues, r % 100);
    }
}

/* A centre model; variant != 0 changes some agents' skills and drops one agent, as a
 * routine edit would, for the diff. */
static struct doc centre_doc(size_t target, int variant)
{
    struct shape s = centre_shape(target);
    struct doc d = {0};
    FILE *f = open_memstream(&d.text, &d.len);
    if (f == NULL) {
        abort();
    }
    fprintf(f, "version: 1\nskills:\n");
    for (unsigned k = 0; k < s.skills; k++) {
        fprintf(f, "  - sk-%05u\n", k);
    }
    fputs("defaults:\n  zone: Europe/London\n  ring_timeout: 20s\n", f);
    put_hours(f, &s);
    put_queues(f, &s);
    if (variant) {
        s.agents--; /* the last agent leaves */
    }
    put_agents(f, &s);
    put_rules(f, &s);
    fclose(f);
    if (variant) {
        for (char *p = d.text; (p = strstr(p, ": 7, sk-")) != NULL; p += 8) {
            if ((p - d.text) % 11 == 0) {
                p[2] = '8';
            }
        }
    }
    d.agents = s.agents;
    d.queues = s.queues;
    d.rules = s.rules;
    d.skills = s.skills;
    d.holidays = s.hours * s.holidays;
    return d;
}

/* The widest document the schema allows: one flat list of skill names and one mapping
 * with a key per queue, short entries, nothing else. */
static struct doc flat_doc(size_t target)
{
    struct doc d = {0};
    unsigned skills = (unsigned)(target / 2 / 13), queues = (unsigned)(target / 2 / 40);
    skills = skills > 65535 ? 65535 : skills;
    queues = queues > 65535 ? 65535 : queues;
    FILE *f = open_memstream(&d.text, &d.len);
    if (f == NULL) {
        abort();
    }
    fputs("version: 1\nskills:\n", f);
    for (unsigned k = 0; k < skills; k++) {
        fprintf(f, "- s%08u\n", k);
    }
    fputs("queues:\n", f);
    for (unsigned q = 0; q < queues; q++) {
        fprintf(f, "  q%08u: { channels: chat }\n", q);
    }
    fclose(f);
    d.skills = skills;
    d.queues = queues;
    return d;
}

/* A list of "- a" lines under one key: the most nodes a byte can hold in block style.
 * The schema refuses the key, but only once the reader has read the whole document. */
static struct doc dense_doc(size_t target)
{
    struct doc d = {0};
    FILE *f = open_memstream(&d.text, &d.len);
    if (f == NULL) {
        abort();
    }
    fputs("version: 1\nqueues: {}\nitems:\n", f);
    for (size_t n = 0; n < target / 4; n++) {
        fputs("- a\n", f);
    }
    fclose(f);
    d.skills = (unsigned)(target / 4);
    return d;
}

/* ---- Measuring ------------------------------------------------------------------------ */

/* Mean ns of one config_model_parse() of d, repeated until BENCH_MIN_NS have passed;
 * -1 when d is refused (unless refused is expected). */
static int64_t time_parse(const struct doc *d, bool refused, char *err, size_t errlen)
{
    int64_t t0 = now_ns(), t = t0;
    unsigned n = 0;
    do {
        struct config_model m;
        config_model_init(&m);
        int rv = config_model_parse("bench", d->text, d->len, &m, err, errlen);
        config_model_close(&m);
        if ((rv != 0) != refused) {
            return -1;
        }
        n++;
        t = now_ns();
    } while (t - t0 < BENCH_MIN_NS && t - t0 < BENCH_ROW_BUDGET_NS / 8);
    return (t - t0) / n;
}

static int64_t time_diff(const struct doc *a, const struct doc *b, size_t *lines)
{
    int64_t t0 = now_ns(), t = t0;
    unsigned n = 0;
    char err[512];
    do {
        char *out = NULL;
        if (config_model_diff(a->text, a->len, b->text, b->len, &out, err, sizeof(err)) != 0) {
            fprintf(stderr, "diff failed: %s\n", err);
            return -1;
        }
        *lines = 0;
        for (const char *p = out; *p != 0; p++) {
            *lines += *p == '\n';
        }
        free(out);
        n++;
        t = now_ns();
    } while (t - t0 < BENCH_MIN_NS && t - t0 < BENCH_ROW_BUDGET_NS / 8);
    return (t - t0) / n;
}

static const size_t sizes[] = {10 * KIB, 40 * KIB, 160 * KIB,  640 * KIB,
                               1 << 20,  2u << 20, 4000 * KIB, 0};

static void centre_family(bool quick)
{
    char err[512];
    bool stop = false;
    printf("centre models: parse + build + validate, and diff against a routine edit\n");
    printf("%9s %7s %6s %6s %6s %12s %9s %12s %6s\n", "bytes", "agents", "queues", "rules",
           "skills", "parse ms", "ns/byte", "diff ms", "lines");
    for (size_t i = 0; sizes[i] != 0 && !(quick && sizes[i] > (1u << 20)); i++) {
        struct doc a = centre_doc(sizes[i], 0);
        if (stop) {
            printf("%9zu %7u %6u %6u %6u %12s\n", a.len, a.agents, a.queues, a.rules, a.skills,
                   "skipped");
            free(a.text);
            continue;
        }
        struct doc b = centre_doc(sizes[i], 1);
        int64_t p = time_parse(&a, false, err, sizeof(err));
        if (p < 0) {
            fprintf(stderr, "centre model of %zu bytes refused: %s\n", a.len, err);
            exit(1);
        }
        size_t lines = 0;
        int64_t dt = p > BENCH_ROW_BUDGET_NS ? -1 : time_diff(&a, &b, &lines);
        printf("%9zu %7u %6u %6u %6u %12.2f %9.1f %12.2f %6zu\n", a.len, a.agents, a.queues,
               a.rules, a.skills, (double)p / 1e6, (double)p / (double)a.len,
               dt < 0 ? -1.0 : (double)dt / 1e6, lines);
        fflush(stdout);
        stop = p > BENCH_ROW_BUDGET_NS || dt > BENCH_ROW_BUDGET_NS || dt < 0;
        free(a.text);
        free(b.text);
    }
}

static void flat_family(bool quick)
{
    char err[512];
    bool stop = false;
    printf("\nflat documents: one long list of skills, one wide mapping of queues\n");
    printf("%9s %7s %7s %12s %9s\n", "bytes", "skills", "queues", "parse ms", "ns/byte");
    for (size_t i = 0; sizes[i] != 0 && !(quick && sizes[i] > (1u << 20)); i++) {
        struct doc a = flat_doc(sizes[i]);
        if (stop) {
            printf("%9zu %7u %7u %12s\n", a.len, a.skills, a.queues, "skipped");
            free(a.text);
            continue;
        }
        int64_t p = time_parse(&a, false, err, sizeof(err));
        if (p < 0) {
            fprintf(stderr, "flat document of %zu bytes refused: %s\n", a.len, err);
            exit(1);
        }
        printf("%9zu %7u %7u %12.2f %9.1f\n", a.len, a.skills, a.queues, (double)p / 1e6,
               (double)p / (double)a.len);
        fflush(stdout);
        stop = p > BENCH_ROW_BUDGET_NS;
        free(a.text);
    }
}

static void dense_family(bool quick)
{
    char err[512];
    bool stop = false;
    printf("\ndense lists: one \"- a\" per line, read whole, then refused by the schema\n");
    printf("%9s %7s %12s %9s\n", "bytes", "items", "parse ms", "ns/byte");
    for (size_t i = 0; sizes[i] != 0 && !(quick && sizes[i] > (1u << 20)); i++) {
        struct doc a = dense_doc(sizes[i]);
        if (stop) {
            printf("%9zu %7u %12s\n", a.len, a.skills, "skipped");
            free(a.text);
            continue;
        }
        int64_t p = time_parse(&a, true, err, sizeof(err));
        if (p < 0) {
            fprintf(stderr, "dense list of %zu bytes accepted\n", a.len);
            exit(1);
        }
        printf("%9zu %7u %12.2f %9.1f\n", a.len, a.skills, (double)p / 1e6,
               (double)p / (double)a.len);
        fflush(stdout);
        stop = p > BENCH_ROW_BUDGET_NS;
        free(a.text);
    }
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: bench_config [--quick]\n");
        return 2;
    }
    centre_family(quick);
    flat_family(quick);
    dense_family(quick);
    return 0;
}
