/* Building benchmark states: a model with ~50 skills and several chat queues, agents with
 * 3-8 skills and capacity 1, contacts requiring 1-2 skills (two workloads, see bench.h);
 * and the steady-state cycle (end a contact, the engine routes the next waiting one,
 * accept it, a new one arrives).
 *
 * Rule-driven skills: 0-7 products (queue i requires product i at level 3), 8-19
 * languages, 20-49 specialties. Profile p requires language 8 + p % 12 at level 5 and,
 * for odd p, specialty 20 + p % 30 at level 6. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/engine/bench.h"
#include "common/error.h"

static uint64_t next_rand(struct bench_world *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(struct bench_world *w, uint32_t n)
{
    return (uint32_t)(next_rand(w) % n);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_engine: %s: %s\n", what, cd_strerror(rc));
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL) {
        die("calloc", CD_ENOMEM);
    }
    return p;
}

/* Agents are named "a<index>"; parsed by hand so the harness costs little per decision. */
static uint32_t agent_index(const char *name)
{
    uint32_t v = 0;
    for (const char *p = name + 1; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint32_t)(*p - '0');
    }
    return v;
}

/* Names of skills and queues, made once: arrivals only point at them. */
static char skill_names[BENCH_SKILLS][24]; /* "skill-" and any int */
static char queue_names[BENCH_QUEUES][24];

static void make_names(void)
{
    for (int i = 0; i < BENCH_SKILLS; i++) {
        snprintf(skill_names[i], sizeof(skill_names[i]), "skill-%02d", i);
    }
    for (int i = 0; i < BENCH_QUEUES; i++) {
        snprintf(queue_names[i], sizeof(queue_names[i]), "queue-%d", i);
    }
}

/* Effects: accept every offer at once (remembering the connected contact per agent). */
static void on_effect(void *data, const struct engine_effect *fx)
{
    struct bench_world *w = data;
    if (fx->kind == ENGINE_FX_OFFER) {
        w->decisions++;
        w->pending[w->n_pending].offer = fx->offer;
        w->pending[w->n_pending].contact = fx->contact;
        w->pending[w->n_pending].agent = agent_index(fx->agent);
        w->n_pending++;
    } else if (fx->kind == ENGINE_FX_QUEUED) {
        w->waiting++;
    }
}

static void apply(struct bench_world *w, const struct engine_command *cmd)
{
    struct engine_sink sink = {on_effect, w};
    struct engine_result res;
    int rc = engine_apply(w->e, cmd, w->now, &res, &sink);
    if (rc != 0) {
        fprintf(stderr, "bench_engine: %s: %s\n", engine_cmd_name(cmd->kind), res.message);
        exit(1);
    }
    w->now++;
}

/* Accepts every offer made by the last command. */
static void accept_pending(struct bench_world *w)
{
    for (uint32_t i = 0; i < w->n_pending; i++) {
        struct engine_command cmd = {.kind = ENGINE_CMD_OFFER_ACCEPT};
        cmd.u.offer.id = w->pending[i].offer;
        cmd.u.offer.agent = w->names[w->pending[i].agent];
        apply(w, &cmd);
        w->waiting--;
        w->connected[w->pending[i].agent] = w->pending[i].contact;
        w->busy[w->busy_tail++ % w->n_agents] = w->pending[i].agent;
    }
    w->n_pending = 0;
}

static void add_skill(struct engine_agent_def *d, uint16_t skill, uint8_t level)
{
    for (uint8_t i = 0; i < d->n_skills; i++) {
        if (d->skills[i].skill == skill) {
            return;
        }
    }
    d->skills[d->n_skills++] = (struct engine_skill_level){skill, level};
}

/* Agents of the rule-driven workload: 2-3 queues with their products, 1-2 languages and
 * 1-3 specialties, levels 5-10. */
static void rule_driven_agents(struct bench_world *w, struct engine_model *m)
{
    m->n_agents = w->n_agents;
    m->agents = xcalloc(w->n_agents, sizeof(*m->agents));
    for (uint32_t a = 0; a < w->n_agents; a++) {
        struct engine_agent_def *d = &m->agents[a];
        snprintf(d->name, sizeof(d->name), "%s", w->names[a]);
        d->capacity[ENGINE_CH_CHAT] = 1;
        uint32_t nq = 2 + below(w, 2), first = below(w, BENCH_QUEUES);
        for (uint32_t k = 0; k < nq; k++) {
            uint16_t q = (uint16_t)((first + k) % BENCH_QUEUES);
            d->queues[d->n_queues++] = q;
            add_skill(d, q, (uint8_t)(5 + below(w, 6)));
        }
        for (uint32_t k = 1 + below(w, 2); k > 0; k--) {
            add_skill(d, (uint16_t)(8 + below(w, 12)), (uint8_t)(5 + below(w, 6)));
        }
        for (uint32_t k = 1 + below(w, 3); k > 0; k--) {
            add_skill(d, (uint16_t)(20 + below(w, 30)), (uint8_t)(5 + below(w, 6)));
        }
        w->skills[a] = (uint16_t)first;
    }
}

static void build_model(struct bench_world *w, struct engine_model *m)
{
    engine_model_init(m);
    m->n_skills = BENCH_SKILLS;
    m->skills = xcalloc(BENCH_SKILLS, sizeof(*m->skills));
    for (int i = 0; i < BENCH_SKILLS; i++) {
        snprintf(m->skills[i].s, sizeof(m->skills[i].s), "skill-%02d", i);
    }
    m->n_queues = BENCH_QUEUES;
    m->queues = xcalloc(BENCH_QUEUES, sizeof(*m->queues));
    for (int i = 0; i < BENCH_QUEUES; i++) {
        struct engine_queue *q = &m->queues[i];
        snprintf(q->name, sizeof(q->name), "queue-%d", i);
        q->channels = ENGINE_CH_BIT(ENGINE_CH_CHAT);
        q->strategy = (uint8_t)(i % ENGINE_STRATEGY_RING_ALL);
        q->sl_target_s = 20 + 10 * (uint32_t)i;
        q->hours = -1;
        q->overflow_queue = -1;
    }
    if (w->workload == BENCH_RULE_DRIVEN) {
        for (int i = 0; i < BENCH_QUEUES; i++) {
            m->queues[i].n_skills = 1;
            m->queues[i].skills[0] = (struct engine_skill_level){(uint16_t)i, 3};
        }
        rule_driven_agents(w, m);
        return;
    }
    m->n_agents = w->n_agents;
    m->agents = xcalloc(w->n_agents, sizeof(*m->agents));
    for (uint32_t a = 0; a < w->n_agents; a++) {
        struct engine_agent_def *d = &m->agents[a];
        snprintf(d->name, sizeof(d->name), "%s", w->names[a]);
        d->capacity[ENGINE_CH_CHAT] = 1;
        uint32_t n = 3 + below(w, 6), first = below(w, BENCH_SKILLS);
        for (uint32_t k = 0; k < n; k++) {
            d->skills[d->n_skills++] = (struct engine_skill_level){
                (uint16_t)((first + k * 7) % BENCH_SKILLS), (uint8_t)(5 + below(w, 6))};
        }
        w->skills[a] = (uint16_t)first;
        for (int q = 0; q < BENCH_QUEUES; q++) {
            d->queues[d->n_queues++] = (uint16_t)q;
        }
    }
}

void bench_world_open(struct bench_world *w,
                      enum bench_workload workload,
                      uint32_t agents,
                      uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    make_names();
    w->workload = workload;
    w->n_agents = agents;
    w->rng = seed;
    w->now = 1711324800000LL;
    w->names = xcalloc(agents, sizeof(*w->names));
    w->name_buf = xcalloc(agents, 16);
    w->connected = xcalloc(agents, sizeof(*w->connected));
    w->pending = xcalloc(agents + ENGINE_RING_ALL_MAX + 16, sizeof(*w->pending));
    w->busy = xcalloc(agents, sizeof(*w->busy));
    w->skills = xcalloc(agents, sizeof(*w->skills));
    for (uint32_t a = 0; a < agents; a++) {
        w->names[a] = w->name_buf + 16 * (size_t)a;
        snprintf(w->name_buf + 16 * (size_t)a, 16, "a%u", a);
    }
    if (engine_new(&w->e) != 0) {
        die("engine_new", CD_ENOMEM);
    }
    struct engine_model m;
    build_model(w, &m);
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
    cmd.u.install.version = 1;
    cmd.u.install.model = &m;
    apply(w, &cmd);
    engine_model_close(&m);
}

void bench_world_login(struct bench_world *w)
{
    for (uint32_t a = 0; a < w->n_agents; a++) {
        struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_LOGIN};
        cmd.u.agent.name = w->names[a];
        cmd.u.agent.presence = ENGINE_PRESENCE_AVAILABLE;
        apply(w, &cmd);
    }
}

/* A contact requiring 1-2 skills at level 1..5 in one of the queues: the skills of a
 * random agent, so that demand spreads over the agents as it would in a sized centre. */
static uint8_t free_form_skills(struct bench_world *w, struct engine_skill_ref *skills)
{
    uint8_t n = (uint8_t)(1 + below(w, 2));
    uint32_t first = w->skills[below(w, w->n_agents)];
    for (uint8_t i = 0; i < n; i++) {
        uint32_t s = (first + i * 7u) % BENCH_SKILLS;
        skills[i] = (struct engine_skill_ref){skill_names[s], (uint8_t)(1 + below(w, 5))};
    }
    return n;
}

static uint8_t profile_skills(struct bench_world *w, struct engine_skill_ref *skills)
{
    uint32_t p = below(w, BENCH_PROFILES);
    uint32_t lang = 8 + p % 12, special = 20 + p % 30;
    skills[0] = (struct engine_skill_ref){skill_names[lang], 5};
    if (p % 2 == 0) {
        return 1;
    }
    skills[1] = (struct engine_skill_ref){skill_names[special], 6};
    return 2;
}

void bench_world_arrival(struct bench_world *w)
{
    struct engine_skill_ref skills[2];
    uint8_t n = w->workload == BENCH_FREE_FORM ? free_form_skills(w, skills)
                                               : profile_skills(w, skills);
    const char *qname = queue_names[below(w, BENCH_QUEUES)];
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    cmd.u.create.channel = ENGINE_CH_CHAT;
    cmd.u.create.queue = qname;
    cmd.u.create.priority = (int16_t)(below(w, 10) == 0);
    cmd.u.create.n_skills = n;
    cmd.u.create.skills = skills;
    apply(w, &cmd);
    accept_pending(w);
}

/* Fills the state: every agent busy where a contact fits it, `queued` contacts waiting. */
void bench_world_fill(struct bench_world *w, uint64_t queued, int64_t limit_ns)
{
    int64_t until = bench_now_ns() + limit_ns;
    while (w->waiting < queued && (w->waiting % 1024 != 0 || bench_now_ns() < until)) {
        bench_world_arrival(w);
    }
}

/* One cycle: a busy agent ends its contact; the engine offers it the next waiting contact
 * (the decision, timed separately); the agent accepts; a new contact arrives. */
void bench_world_cycle(struct bench_world *w, int64_t *apply_ns)
{
    if (w->busy_head == w->busy_tail) {
        bench_world_arrival(w);
        return;
    }
    uint32_t a = w->busy[w->busy_head++ % w->n_agents];
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_END};
    cmd.u.contact.id = w->connected[a];
    w->connected[a] = 0;
    uint64_t before = w->decisions;
    int64_t t0 = bench_now_ns();
    apply(w, &cmd);
    *apply_ns += bench_now_ns() - t0;
    w->end_decisions += w->decisions - before;
    accept_pending(w);
    bench_world_arrival(w);
}

void bench_world_close(struct bench_world *w)
{
    engine_free(w->e);
    free(w->names);
    free(w->name_buf);
    free(w->connected);
    free(w->pending);
    free(w->busy);
    free(w->skills);
}
