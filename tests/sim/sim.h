/* The seeded simulation of the engine: shared fixture and helpers.
 *
 * One struct sim holds everything a run needs: the engines under test (a primary that is
 * checked and a replica that receives the same commands), the shadow world the simulation
 * keeps from the effects it sees, the calendar of future customer and agent behaviour, and
 * the counters printed at the end. Every file of tests/sim works on this fixture. */
#ifndef CD_TESTS_SIM_H
#define CD_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

#define SIM_QUEUES_MAX 16
#define SIM_AGENTS_MAX 512
#define SIM_SKILLS 20
#define SIM_ORDER_SAMPLE 48 /* queued contacts compared per offer in the order check */

/* ---- Random numbers: splitmix64, seeded from the command line -------------------- */

struct sim_rng
{
    uint64_t s;
};

static inline uint64_t rng_next(struct sim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint32_t rng_below(struct sim_rng *r, uint32_t n)
{
    return n == 0 ? 0 : (uint32_t)(rng_next(r) % n);
}

static inline uint32_t rng_range(struct sim_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

static inline bool rng_permille(struct sim_rng *r, uint32_t p)
{
    return rng_below(r, 1000) < p;
}

/* Exponentially distributed delay with the given mean (Poisson arrivals). */
int64_t rng_exp_ms(struct sim_rng *r, int64_t mean_ms);

/* ---- Shadow world ---------------------------------------------------------------- */

enum sim_contact_state {
    SC_UNKNOWN = 0, /* id never handed out by a successful create */
    SC_QUEUED,
    SC_OFFERED,
    SC_CONNECTED,
    SC_WRAPUP,
    SC_LIMBO, /* offer withdrawn without requeue, inside one transfer */
    SC_ENDED,
};

struct sim_contact
{
    uint8_t state; /* enum sim_contact_state */
    uint8_t channel;
    uint8_t n_ring; /* agents holding the open offer */
    bool ewt_valid; /* still in the queue its first QUEUED effect named */
    int16_t queue;  /* sim queue index, -1 before any */
    uint16_t agent; /* offered (single offer) or connected agent */
    uint16_t *ring; /* ring-all group, owned; NULL otherwise */
    uint64_t offer;
    uint64_t touched; /* step that last changed it */
    uint32_t qpos;    /* position in its queue's waiting list */
    uint32_t lpos;    /* position in the live list */
    int64_t queued_at;
    int64_t ewt_ms;
    int64_t offered_at; /* for the wait measured by the EWT statistics */
};

struct sim_agent
{
    char name[ENGINE_NAME_MAX];
    bool defined;
    bool in_model;
    uint8_t load[ENGINE_CH_COUNT];
    uint8_t allowance[ENGINE_CH_COUNT];
    uint8_t pre_load[ENGINE_CH_COUNT];
    uint32_t n_offered, n_connected, n_wrapup;
    uint64_t touched;
    uint32_t gen; /* generation of its pending behaviour event */
};

struct sim_queue
{
    char name[ENGINE_NAME_MAX];
    bool ring_all;
    bool retired;
    uint64_t *waiting; /* ids of contacts queued here (shadow) */
    uint32_t n_waiting, cap_waiting;
    /* EWT accuracy */
    uint64_t ewt_n;
    double ewt_abs_sum_ms;
    double *ewt_rel;
    uint64_t ewt_within;
    uint32_t cap_rel;
};

/* ---- Calendar of future behaviour ------------------------------------------------ */

enum sim_event_kind {
    EV_ARRIVAL = 1,
    EV_ANSWER,   /* an agent answers an offer */
    EV_TALK_END, /* talk is over: end or transfer */
    EV_WRAPUP_DONE,
    EV_ABANDON,
    EV_CALLBACK,
    EV_SET_ATTRS,
    EV_AGENT, /* presence, skills, definition */
    EV_MODEL,
    EV_PAUSE, /* a supervisor pauses a queue, or resumes a paused one */
    EV_CHAT,  /* a chat message, now and then a dropped or resumed connection */
};

struct sim_event
{
    int64_t at;
    uint64_t seq;
    uint8_t kind;
    uint16_t agent;
    uint32_t gen;
    uint64_t contact;
    uint64_t offer;
};

/* ---- The fixture ----------------------------------------------------------------- */

struct sim_stats
{
    uint64_t by_kind[ENGINE_CMD_KIND_COUNT];
    uint64_t ok, errors, expected_errors, digest_checked_errors;
    uint64_t effects, offers, connected, ended, outcomes[ENGINE_CONTACT_STATE_COUNT];
    uint64_t order_checks, order_compared, full_checks, replica_digests, snapshots;
    uint64_t pauses; /* queues paused (each resumed a few minutes later) */
    uint64_t snapshot_bytes, models, max_live, max_waiting;
};

struct sim
{
    /* configuration */
    uint64_t seed;
    uint64_t steps;
    uint32_t n_model_agents;
    uint32_t check_every;   /* engine_check() period */
    uint32_t replica_every; /* digest comparison period */
    uint32_t snapshot_every;
    bool verbose;
    struct sim_rng rng;

    /* engines */
    struct engine *e;
    struct engine *replica;
    struct engine_model model;
    uint32_t version;
    int64_t epoch_ms;

    /* shadow world */
    struct sim_contact *contacts; /* by id */
    uint64_t cap_contacts;
    uint64_t *live;
    uint64_t n_live, cap_live;
    struct sim_agent agents[SIM_AGENTS_MAX];
    uint32_t n_agents;
    struct sim_queue queues[SIM_QUEUES_MAX];
    uint32_t n_queues;
    uint64_t created;
    uint32_t n_keys;
    uint64_t n_messages;       /* chat messages sent, for their ids */
    uint64_t last_msg_contact; /* the last one, to send again as a retry */
    uint8_t last_msg_side;
    char last_msg_id[24];
    char last_msg_agent[ENGINE_NAME_MAX];
    int64_t arrival_mean_ms;
    int64_t model_mean_ms;

    /* calendar */
    struct sim_event *ev;
    size_t n_ev, cap_ev;
    uint64_t ev_seq;

    /* the command being applied */
    uint8_t cur_kind;
    int redefine; /* agents an install or upsert redefines: -1 none, -2 all, or one */
    struct sim_rng order_rng; /* samples for the queue-order check */
    uint64_t step;
    int64_t now;
    uint64_t fx_hash[2];
    uint32_t n_fx;
    uint64_t transfer_contact; /* a transfer's OFFER is not a queue-order decision */
    uint64_t *touched_contacts;
    uint32_t n_touched_contacts, cap_touched_contacts;
    uint16_t touched_agents[SIM_AGENTS_MAX];
    uint32_t n_touched_agents;
    bool model_changed;

    struct sim_stats st;
};

/* sim_main.c */
_Noreturn void sim_fail(const struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *sim_xalloc(void *p, size_t n);

/* sim_model.c: the routing model, built in code; version v > 1 is a mutation of v - 1. */
void sim_model_build(struct sim *s, uint32_t version, struct engine_model *m);
void sim_model_free(struct engine_model *m);
void sim_queues_sync(struct sim *s, const struct engine_model *m);
void sim_agent_def_random(struct engine_agent_def *a,
                          const struct engine_model *m,
                          struct sim_rng *r,
                          uint32_t index);
int sim_queue_index(const struct sim *s, const char *name);
int sim_agent_index(const char *name);
extern const char *const sim_skill_names[SIM_SKILLS];

/* sim_engine.c: apply one command to both engines and compare them. */
int sim_apply(struct sim *s, const struct engine_command *cmd, struct engine_result *res);
void sim_apply_expect_error(struct sim *s, const struct engine_command *cmd, int code);
void sim_compare_replica(struct sim *s);
void sim_snapshot_roundtrip(struct sim *s);

/* sim_shadow.c: effects into the shadow world, with per-effect checks. */
void sim_shadow_effect(struct sim *s, const struct engine_effect *fx);
struct sim_contact *sim_contact(struct sim *s, uint64_t id);
void sim_touch_agent(struct sim *s, uint32_t ai);
/* Whether contact c is offered to agent ai (alone or in its ring-all group). */
bool sim_rung(const struct sim_contact *c, uint32_t ai);

/* sim_checks.c */
void sim_check_offer(struct sim *s, const struct engine_effect *fx, uint32_t ai);
void sim_check_queue_order(struct sim *s, const struct engine_effect *fx, uint32_t ai);
void sim_check_after_command(struct sim *s);
void sim_check_full(struct sim *s);

/* sim_driver.c: the calendar and the commands it produces. */
void sim_schedule(struct sim *s,
                  int64_t at,
                  uint8_t kind,
                  uint64_t contact,
                  uint64_t offer,
                  uint16_t agent);
void sim_driver_start(struct sim *s);
void sim_driver_step(struct sim *s);
void sim_apply_ok(struct sim *s, const struct engine_command *cmd, struct engine_result *out);
void sim_on_offer(struct sim *s, uint64_t contact, uint64_t offer, uint32_t ai);
void sim_on_connected(struct sim *s, uint64_t contact);
void sim_on_wrapup(struct sim *s, uint64_t contact, int64_t auto_end);
void sim_on_queued_first(struct sim *s, uint64_t contact, uint8_t channel);
void sim_on_agent_away(struct sim *s, uint32_t ai);

/* sim_agents.c: agents' own behaviour, and new model versions. */
void sim_agent_event(struct sim *s, const struct sim_event *ev);
void sim_install_next_model(struct sim *s);
void sim_agent_spec(struct sim *s,
                    const struct engine_agent_def *d,
                    struct engine_agent_spec *spec,
                    struct engine_skill_ref *skills,
                    const char **queues);

/* sim_invalid.c: deliberately wrong commands that must fail and change nothing. */
void sim_invalid_command(struct sim *s);

/* sim_ewt.c */
void sim_ewt_record(struct sim *s, uint32_t q, int64_t ewt_ms, int64_t actual_ms);
void sim_ewt_report(struct sim *s);

#endif
