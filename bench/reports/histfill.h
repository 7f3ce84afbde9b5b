/* histfill: the history filler of bench/reports (README.md). One process, one libuv loop,
 * one node's HTTPS API (the leader's): contacts are created, offered to agents that were
 * logged in first, and finished the way a contact centre finishes them — most accepted,
 * ended and wrapped up with a disposition, some rejected first, some transferred to another
 * queue, some abandoned while waiting or ringing — K at a time (contacts.c). The offers are
 * learnt from the node's event log, long-polled (offers.c). Internal to the bench. */
#ifndef HISTFILL_H
#define HISTFILL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "adapters/http/http.h"
#include "net/net.h"

#define FILL_NAME_MAX 64
#define FILL_QUEUES_MAX 32
#define FILL_TALLY_MAX 48
#define FILL_NS 1000000000ull

/* What becomes of a contact: drawn at its creation (contacts.c has the mix). */
enum fill_plan {
    PLAN_ANSWER,          /* accepted, ended, wrap-up done with a disposition */
    PLAN_ANSWER_PLAIN,    /* accepted, ended, wrap-up done without a disposition */
    PLAN_REJECT_FIRST,    /* the first offer rejected, the next accepted */
    PLAN_TRANSFER,        /* accepted, transferred to another queue, accepted there */
    PLAN_ABANDON_RINGING, /* abandoned once offered */
    PLAN_ABANDON_WAITING, /* abandoned as soon as its create is answered */
    PLAN_COUNT
};

enum fill_stage {
    ST_FREE,       /* no contact in this slot */
    ST_BUSY,       /* a request about it is in flight */
    ST_WAIT_OFFER, /* created (or rejected, or transferred): waiting for an offer */
};

/* One contact in progress. At most one request about it is in flight at a time. */
struct fill_contact
{
    uint64_t id;               /* 0 until its create is answered */
    uint64_t offer;            /* the offer acted on */
    uint64_t next;             /* an offer that came while a request was in flight; 0 = none */
    uint64_t t_stage;          /* ns: when it began waiting for an offer */
    uint32_t seq;              /* its number in the run (its key) */
    uint8_t plan;              /* enum fill_plan */
    uint8_t stage;             /* enum fill_stage */
    uint8_t queue;             /* index in fill.queues */
    uint8_t step;              /* rejects or transfers done so far */
    char agent[FILL_NAME_MAX]; /* of .offer */
    char next_agent[FILL_NAME_MAX]; /* of .next */
};

/* Counts by name ("accept_409", ...): a few distinct names. */
struct fill_tally
{
    unsigned n;
    char name[FILL_TALLY_MAX][40];
    uint64_t count[FILL_TALLY_MAX];
};

struct fill_queue
{
    char name[FILL_NAME_MAX];
    char channel[16];
    unsigned weight;
};

/* An id -> value table (open addressing, linear probing, backward-shift deletion); key 0 is
 * never stored. */
struct idmap
{
    uint64_t *keys;
    uint32_t *values;
    uint32_t mask;
    uint32_t n;
};

int idmap_init(struct idmap *m, uint32_t slots_pow2);
void idmap_close(struct idmap *m);
/* Returns false when the table is full (over half the slots). */
bool idmap_put(struct idmap *m, uint64_t key, uint32_t value);
bool idmap_get(const struct idmap *m, uint64_t key, uint32_t *value);
void idmap_del(struct idmap *m, uint64_t key);

struct fill
{
    uv_loop_t *loop;
    struct net_tls *tls;
    struct http_client *api;  /* the contacts' requests */
    struct http_client *poll; /* the event log's long polls */
    char *auth;               /* "Authorization: Bearer TOKEN\r\n" */

    /* options */
    uint32_t n_contacts;
    uint32_t inflight;
    unsigned conns;
    double seconds_max;
    uint64_t seed;
    char key_prefix[32];
    struct fill_queue queues[FILL_QUEUES_MAX];
    unsigned n_queues;
    char (*agents)[FILL_NAME_MAX];
    unsigned n_agents;
    char dispositions[8][FILL_NAME_MAX];
    unsigned n_dispositions;

    /* the contacts */
    struct fill_contact *slots;
    uint32_t *free_slots; /* a stack of free slots' positions */
    uint32_t n_free;
    struct idmap by_id; /* contact id -> slot */
    /* Offers seen before their contact's create was answered (or of contacts not ours): a
     * ring, the oldest overwritten, found by contact id through early (id -> position). */
    struct idmap early;
    struct early_offer
    {
        uint64_t contact, offer;
        char agent[FILL_NAME_MAX];
    } * early_offers;
    uint32_t n_early, early_next;

    /* progress */
    uint32_t started, finished, failed;
    uint64_t plans[PLAN_COUNT];
    uint64_t requests, offers_seen, offers_unknown, offers_lost, stuck_abandoned;
    unsigned logins_ok, logins_done;
    uint64_t t_start, t_fill, t_end; /* ns */
    bool polling, stopping;
    struct fill_tally errors;
    char after[48]; /* the event log's place */
};

extern struct fill *FILL;

uint64_t fill_now(void); /* ns */
void fill_tally_add(struct fill_tally *t, const char *name);
/* A request about nothing in particular (c NULL) or about c; cb as http_client_cb. */
int fill_post(const char *target, const char *body, http_client_cb cb, void *data);
uint64_t fill_random(void); /* xorshift, seeded by --seed */

/* contacts.c */
void contacts_start(struct fill *f); /* tops the slots up to inflight */
void contact_offered(struct fill *f, uint64_t contact, uint64_t offer, const char *agent);
void contacts_sweep(struct fill *f, uint64_t now); /* abandons the ones stuck waiting */

/* offers.c */
void offers_poll(struct fill *f);
void offers_close(void); /* its retry timer */
/* Keeps an offer for a contact whose create is not answered yet. */
void offers_keep_early(struct fill *f, uint64_t contact, uint64_t offer, const char *agent);
/* The offer kept for contact, if any (then forgotten). */
bool offers_take_early(struct fill *f, uint64_t contact, uint64_t *offer, char *agent);

#endif
