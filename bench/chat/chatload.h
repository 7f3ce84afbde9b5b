/* chatload: the load generator of bench/chat (README.md). One process, one libuv loop:
 * customers on the chat's WebSocket (customers.c), agents on their event feeds and the
 * HTTPS API (agents.c), the phases and the summary (chatload.c). Internal to the bench. */
#ifndef CHATLOAD_H
#define CHATLOAD_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "adapters/http/http.h"
#include "bench/chat/lhist.h"
#include "bench/chat/wsc.h"
#include "net/net.h"

#define LOAD_NODES_MAX 8
#define LOAD_STEPS_MAX 8
#define LOAD_NAME_MAX 64
#define LOAD_TALLY_MAX 48
#define LOAD_SECONDS_MAX 300

enum customer_state {
    C_IDLE,       /* not started */
    C_CONNECTING, /* TCP, TLS, the upgrade, then hello: not yet welcomed */
    C_WAITING,    /* welcomed; queued or offered */
    C_CONNECTED,  /* the page heard state "connected" */
    C_ENDED,      /* the connection ended or the chat did */
};

struct customer
{
    struct wsc *ws;
    uint64_t contact;
    uint64_t t_start; /* ns: the connect began */
    uint64_t t_open;  /* ns: the server answered 101 */
    uint32_t idx;
    uint8_t node;
    uint8_t state; /* enum customer_state */
};

struct agent
{
    char name[LOAD_NAME_MAX];
    char *auth; /* "Authorization: Bearer TOKEN\r\n" */
    struct wsc *feed;
    uint8_t node;
    bool open;
    bool logged_in;
};

/* Counts by name ("close_1008", "accept_409"...): a few distinct names. */
struct tally
{
    unsigned n;
    char name[LOAD_TALLY_MAX][40];
    uint64_t count[LOAD_TALLY_MAX];
};

/* What one rate step measured. */
struct step
{
    double rate;
    uint64_t t_start, t_end; /* ns: sending began and stopped */
    uint64_t sent;
    uint64_t sent_connected; /* sent by customers whose chat was connected */
    uint64_t acked;
    uint64_t acked_in_window;                 /* acks that came before t_end */
    uint64_t at_agents;                       /* customer message events on the agents' feeds */
    uint64_t refused;                         /* error answers to messages */
    struct lhist ack;                         /* send -> "sent", µs */
    struct lhist ack_by_node[LOAD_NODES_MAX]; /* the same by the customer's node */
    uint32_t max_us_by_second[LOAD_SECONDS_MAX]; /* the slowest ack of messages sent in each
                                                    second */
    struct lhist agent;                          /* send -> the agent's feed, µs */
    struct lhist lag;                            /* when sent -> when due (open loop), µs */
    uint64_t cpu_ticks[LOAD_NODES_MAX + 1];      /* each node's, then the generator's */
    struct tally closes;                         /* connections ended during the step */
};

struct load
{
    uv_loop_t *loop;
    struct net_tls *tls;
    unsigned n_nodes;
    struct sockaddr_in nodes[LOAD_NODES_MAX];
    struct http_client *api[LOAD_NODES_MAX];
    int pids[LOAD_NODES_MAX];
    unsigned n_pids;

    /* options */
    unsigned n_sessions;
    double ramp_rate;
    unsigned inflight_max;
    unsigned per_address; /* customers of one source address on one node */
    unsigned steps_n;
    double rates[LOAD_STEPS_MAX];
    double seconds;
    unsigned text_bytes;
    const char *entry;

    struct customer *customers;
    struct agent *agents;
    unsigned n_agents;

    /* progress */
    unsigned started, inflight, welcomed, connected, customers_ended;
    unsigned feeds_open, logins_ok, logins_failed, feeds_failed, agents_started;
    uint64_t offers, accepts_ok;
    uint32_t next_sender;
    int step; /* the step sending or draining; -1 outside them */
    bool sending;
    struct step steps[LOAD_STEPS_MAX];

    struct lhist connect_h; /* connect start -> 101, µs */
    struct lhist welcome_h; /* hello -> welcome, µs */
    struct lhist accept_h;  /* offer on the feed -> the accept answered, µs */
    struct tally errors;    /* error answers, failed connects, refused logins... */
    struct tally ramp_closes;
    struct tally feed_closes;
    uint64_t resumed_tls;
};

extern struct load *LOAD;

uint64_t load_now(void); /* ns, the loop's monotonic clock (uv_hrtime) */
void tally_add(struct tally *t, const char *name);
json_t *tally_json(const struct tally *t);

/* customers.c */
int customer_start(struct load *l, struct customer *c);
/* Sends one message for step at now; returns 0 or -1 (the connection is gone). */
int customer_send(struct load *l, struct customer *c, int step, uint64_t now);
void customer_close(struct customer *c);

/* agents.c */
int agents_read(struct load *l, const char *path);
int agent_start(struct load *l, struct agent *a);
void agent_close(struct agent *a);

/* The time in the message id "b<step>-<ns>", or 0 with *step untouched when id is not one. */
uint64_t load_id_time(const char *id, int *step);

#endif
