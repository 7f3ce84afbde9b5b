/* Internal state of the engine, shared by the files of engine/ and nothing else.
 *
 * Primary data (what the snapshot holds): the clock and id counters, the installed model,
 * the append-only tables of skills, queues and agents, the live contacts, and the recent
 * idempotency keys. Everything else (classes, memberships, heaps, maps) is derived and
 * rebuilt by engine__reindex() after a decode or a model install. Every comparison that
 * orders contacts or agents ends in a unique id, so decisions never depend on the layout
 * of a derived structure. */
#ifndef CD_ENGINE_INTERNAL_H
#define CD_ENGINE_INTERNAL_H

#include "engine/engine.h"

#define NONE32 UINT32_MAX
#define NONE16 UINT16_MAX
#define NEVER INT64_MAX
#define RECENT_KEYS 65536
/* The first byte of a snapshot (snapshot.c writes it, snapshot_decode.c checks it).
 * 2: idempotency keys carry the fingerprint of their create.
 * 3: contacts carry their home, session key and session_lost mark; webhooks follow the
 *    archive.
 * 4: users and tokens follow the webhooks.
 * 5: contacts carry their state's timer and their reconnect deadline in place of the one
 *    deadline, the customer_gone mark and their transcript; models may be format 3.
 * 6: contacts carry their path; agents when their shown state began, and its reason;
 *    queues their totals; report definitions follow the tokens. */
#define SNAPSHOT_FORMAT 8
#define DEFAULT_RING_S 20
#define DEFAULT_AHT_MS 180000

/* ---- Containers (heap.c, map.c) ----------------------------------------------------- */

struct engine;
typedef bool (*heap_less_fn)(const struct engine *e, uint32_t a, uint32_t b);
typedef void (*heap_pos_fn)(struct engine *e, uint32_t item, uint32_t pos);
struct heap_ops
{
    heap_less_fn less;
    heap_pos_fn setpos;
};

struct heap
{
    uint32_t *v;
    uint32_t n;
    uint32_t cap;
};

/* A class's waiting line (waitline.c): entries carry their order key. */
struct wait_entry
{
    int64_t enqueued;
    uint64_t id;
    uint32_t slot;
    uint32_t gen;
    int16_t priority;
};
struct waitline
{
    struct wait_entry *v;
    uint32_t n, cap;
    uint32_t stale; /* entries of contacts that left */
};
struct contact;
int engine__wait_push(struct engine *e, struct waitline *w, struct contact *c);
void engine__wait_drop(struct engine *e, struct waitline *w, uint32_t cls, uint64_t id);
/* The live head, or NULL when the line is empty. */
const struct wait_entry *engine__wait_head(const struct waitline *w);
uint32_t engine__wait_live(const struct waitline *w);
void engine__wait_close(struct waitline *w);

int engine__heap_push(struct engine *e,
                      struct heap *h,
                      const struct heap_ops *ops,
                      uint32_t item);
void engine__heap_remove(struct engine *e,
                         struct heap *h,
                         const struct heap_ops *ops,
                         uint32_t pos);
/* Restores order after the key of the item at pos changed either way. */
void engine__heap_fix(struct engine *e,
                      struct heap *h,
                      const struct heap_ops *ops,
                      uint32_t pos);
void engine__heap_close(struct heap *h);

/* Open addressing from a 64-bit key to a 32-bit value. Keys may repeat (string maps key
 * by hash); match() tells the wanted entry apart. */
struct map_entry
{
    uint64_t key;
    uint32_t val;
    uint32_t used;
};
struct map
{
    struct map_entry *t;
    uint32_t mask; /* capacity - 1; capacity is a power of two */
    uint32_t n;
};
typedef bool (*map_match_fn)(const void *ctx, uint32_t val);
int engine__map_put(struct map *m, uint64_t key, uint32_t val);
bool engine__map_get(const struct map *m,
                     uint64_t key,
                     map_match_fn match,
                     const void *ctx,
                     uint32_t *val);
bool engine__map_del(struct map *m, uint64_t key, uint32_t val);
void engine__map_close(struct map *m);

/* ---- Tables ------------------------------------------------------------------------- */

/* Requirements, sorted by skill id, one entry per skill. */
struct reqs
{
    uint8_t n;
    struct engine_skill_level s[ENGINE_REQ_SKILLS];
};

struct skill
{
    char name[ENGINE_NAME_MAX];
};

struct queue_stats
{
    int32_t day; /* local date the counters belong to */
    uint32_t arrived, answered, answered_in_sl, abandoned, abandoned_after_sl, overflowed,
        timed_out, offered;
};

/* Counts bumped with both the day's counters and the totals that never reset. */
#define STAT(q, field) ((q)->stats.field++, (q)->totals.field++)

struct queue
{
    /* Hot: counters touched on every decision. */
    uint32_t waiting;
    uint32_t staffed;
    uint32_t ready[ENGINE_CH_COUNT]; /* agents serving it, ready for the channel */
    bool retired;
    bool paused; /* QUEUE_PAUSE: no offers; kept across model installs */
    uint32_t waits_seen;
    int64_t wait_ms;   /* EWMA of the waits of contacts as they left the line for an agent */
    int64_t aht_ms;    /* EWMA of handle time (answer to completion) */
    uint64_t rr_clock; /* round-robin stamps */
    struct queue_stats stats;
    struct engine_queue_totals totals; /* since the queue was made: never reset */
    /* derived */
    uint32_t *classes;
    uint32_t n_classes, cap_classes;
    uint32_t *agents; /* agents serving it, by index */
    uint32_t n_agents, cap_agents;
    struct reqs reqs;        /* def.skills as reqs */
    struct engine_queue def; /* skills, drops and overflow_queue remapped to state ids;
                                hours stays an index into the installed model */
    char name[ENGINE_NAME_MAX];
};

struct agent_queue
{
    uint16_t queue;
    uint64_t rr; /* rr_clock of the queue at this agent's last offer from it */
};

struct agent
{
    /* Hot: read on every routing decision. */
    uint8_t presence;
    bool deleted;
    bool hold;     /* transient inside one apply: skip while re-offering a refused contact */
    bool attached; /* on its queues' agent lists and counters */
    bool dirty;    /* its ready-heap entries await engine__flush() */
    bool staffed;
    uint8_t ready_mask;      /* channels it could be offered now (derived) */
    uint8_t member_channels; /* channels of its memberships (derived) */
    uint8_t shown_state;     /* derived state last reported in an AGENT_STATE effect */
    uint8_t capacity[ENGINE_CH_COUNT];
    uint8_t load[ENGINE_CH_COUNT];   /* offered + connected + wrap-up */
    uint8_t active[ENGINE_CH_COUNT]; /* offered + connected */
    /* After a capacity cut below the load: the load it may still hold; shrinks with it. */
    uint8_t allowance[ENGINE_CH_COUNT];
    uint8_t n_queues;
    uint8_t n_skills;
    uint64_t skill_bits; /* bit (skill % 64) for each skill held: a quick eligibility filter */
    uint32_t n_held, cap_held;
    uint32_t *held; /* slots of the contacts in hand (derived) */
    uint32_t n_members, cap_members;
    uint32_t *members;    /* derived */
    uint32_t *member_cls; /* class of each membership, beside members[] */
    int64_t last_idle;
    int64_t login_at;
    int64_t busy_since;                  /* 0 when nothing is in hand */
    int64_t busy_ms;                     /* since login, up to busy_since */
    int64_t shown_since;                 /* when shown_state (and shown_reason) began */
    char shown_reason[ENGINE_VALUE_MAX]; /* the away reason shown with it ("" unless away) */
    /* Cold: definition and names. */
    struct agent_queue queues[ENGINE_AGENT_QUEUES];
    struct engine_skill_level skills[ENGINE_AGENT_SKILLS]; /* sorted by skill id */
    char name[ENGINE_NAME_MAX];
    char site[ENGINE_SITE_MAX];
    char reason[ENGINE_VALUE_MAX];
};

struct contact
{
    uint64_t id;
    uint64_t offer; /* open offer id, 0 = none */
    int64_t arrived;
    int64_t enqueued; /* order in line: arrival, kept across transfers and callbacks */
    int64_t entered;  /* entry into the current queue: escalation and max wait */
    int64_t offered;
    int64_t answered;
    int64_t ended;
    int64_t deadline;     /* the earlier of timer and reconnect_by: its key in the deadlines */
    int64_t timer;        /* its state's own: ring, escalation or timeout, wrap-up end; NEVER */
    int64_t reconnect_by; /* chat: the customer's reconnect deadline (sessions.c); NEVER */
    uint32_t agent;       /* offered to / connected with; NONE32 */
    uint32_t keyrec;
    uint16_t queue;
    uint16_t rule; /* matched rule + 1; 0 = sent straight to a queue */
    int16_t base_priority;
    int16_t priority;
    uint8_t channel;
    uint8_t state;
    uint8_t step;
    uint8_t callback;
    uint8_t last_strategy; /* explanation of the last offer */
    uint32_t last_eligible;
    uint32_t offers;
    uint32_t transfers;
    struct reqs reqs; /* before escalation */
    uint8_t n_attrs;
    char *attrs;    /* "k\0v\0k\0v\0...", owned */
    uint32_t *ring; /* ring-all: agents rung, owned */
    uint8_t n_ring;
    uint8_t session_lost;     /* its home was declared lost (NODE_LOST) */
    char *where;              /* "home\0session\0", owned; NULL = no home (sessions.c) */
    uint8_t gone;             /* the customer did not come back: it ends as customer_gone */
    uint32_t n_msgs;          /* messages in the transcript (chat.c) */
    uint32_t msg_bytes;       /* their text */
    struct cd_buf transcript; /* owned: the messages as struct engine_transcript says */
    struct msg_ref *msgs;     /* derived: one per message, for retries and reads by seq */
    struct cd_buf path;       /* owned: what happened to it (engine.h, path.c) */
    uint8_t path_full;        /* the path holds its TRUNCATED mark: nothing more is kept */
    int64_t held_since;       /* on hold since (CONTACT_HOLD); 0 = not on hold */
    /* derived */
    uint32_t cls;
    uint32_t qgen; /* generation of its waitline entry */
    uint32_t dpos;
};

/* Where a message sits in its contact's transcript, and a hash of its side and id. */
struct msg_ref
{
    uint64_t hash;
    uint32_t off;
};

/* A requirement class: contacts of one queue and channel with equal effective
 * requirements wait in one heap; the agents eligible for it are its members. */
struct cls
{
    uint16_t queue;
    uint8_t channel;
    uint64_t req_bits; /* bit (skill % 64) for each skill required */
    struct reqs reqs;
    struct waitline contacts;
    struct heap ready; /* members ready now (and some stale: see engine__ready_top) */
    uint32_t *members;
    uint32_t n_members, cap_members;
};

/* The head of a class's waiting line, kept for every class in one compact array so that
 * an agent choosing among many classes reads nothing else. id 0 = empty line. */
struct class_head
{
    int64_t enqueued;
    uint64_t id;
    int16_t priority;
    uint16_t queue;
    uint8_t channel;
};

struct member
{
    uint32_t agent;
    uint32_t cls;
    uint32_t pos;  /* in cls.ready, or NONE32 */
    uint32_t mpos; /* in cls.members */
    int64_t k1, k2;
};

struct keyrec
{
    char *key; /* owned; NULL = free slot */
    uint64_t contact;
    uint64_t fingerprint; /* of the create that took the key (engine__create_fingerprint) */
    uint32_t ring_pos;    /* position in recent ring once finished, NONE32 while live */
};

/* webhooks.c */
struct engine__delivery
{
    int64_t at;
    uint64_t from_index, to_index;
    uint32_t from_n, to_n;
    uint32_t count;
    uint16_t status;
    bool ok;
    char *text; /* owned */
};
struct engine__webhook
{
    uint32_t id;
    uint32_t kinds;
    char *url, *secret; /* owned */
    uint64_t after_index;
    uint32_t after_n;
    uint32_t attempts;
    int64_t next_at;
    int64_t created;
    uint64_t delivered;
    uint32_t n_log;
    struct engine__delivery log[ENGINE_WEBHOOK_LOG]; /* newest first */
};

/* tokens.c, users.c */
struct engine__token
{
    uint32_t id;
    uint8_t kind, role;
    uint8_t hash[ENGINE_TOKEN_HASH_LEN];
    int64_t created_at, expires_at;
    char name[ENGINE_NAME_MAX];
    char agent[ENGINE_NAME_MAX];
    char user[ENGINE_NAME_MAX];
    char created_by[ENGINE_ACTOR_MAX];
};
struct engine__user
{
    uint8_t role;
    uint32_t sessions; /* derived: its session tokens */
    int64_t created_at, updated_at;
    char *verifier; /* owned */
    char name[ENGINE_NAME_MAX];
    char agent[ENGINE_NAME_MAX];
    char updated_by[ENGINE_ACTOR_MAX];
};

/* Health (health.c). */
struct engine__signal
{
    char name[ENGINE_NAME_MAX];
    uint8_t state;
    int64_t value, since;
    uint32_t fault; /* its open fault; 0 none */
    bool closed;    /* its fault was closed by hand: none opens until it has been ok */
};

struct engine__fault_line
{
    int64_t at;
    char what[16];
    char *actor; /* owned */
    char *text;  /* owned */
};

struct engine__notice
{
    char path[ENGINE_NAME_MAX];
    uint8_t level, target, kind, state, attempts;
    char address[ENGINE_ADDRESS_MAX];
    int64_t opened, retry_at, at;
    char *text; /* owned; NULL until the first attempt */
};

struct engine__fault
{
    uint32_t id;
    uint8_t severity;
    char kind[ENGINE_NAME_MAX];
    char component[ENGINE_NAME_MAX + 8];
    char signal[ENGINE_NAME_MAX];
    int64_t opened, closed, acked;
    char acked_by[ENGINE_ACTOR_MAX];
    char closed_by[ENGINE_ACTOR_MAX];
    struct engine__fault_line *log; /* owned */
    uint32_t n_log, cap_log;
    struct engine__notice *notices; /* owned: escalation (continuity.c) */
    uint32_t n_notices, cap_notices;
};

/* Runbooks (runbooks.c). */
struct engine__run
{
    uint32_t id;
    uint8_t state;
    char signal[ENGINE_NAME_MAX];
    char actor[ENGINE_ACTOR_MAX];
    char approved_by[ENGINE_ACTOR_MAX];
    char ended_by[ENGINE_ACTOR_MAX];
    char why[ENGINE_FAULT_TEXT_MAX];
    int64_t triggered, started, ended;
    uint32_t model_before, model_installed, fault;
    struct engine_runbook_def def;
    uint8_t steps[ENGINE_ACTIONS_MAX];
    char notes[ENGINE_ACTIONS_MAX][ENGINE_STEP_NOTE_MAX];
};

struct engine__drill
{
    uint32_t id;
    int64_t at;
    char actor[ENGINE_ACTOR_MAX];
    char *text; /* owned */
};

struct engine__saved
{
    char name[ENGINE_NAME_MAX];
    char actor[ENGINE_ACTOR_MAX];
    int64_t at;
    char *source;  /* owned */
    char *comment; /* owned */
};

struct engine
{
    int64_t clock;
    uint64_t next_contact;
    uint64_t next_offer;
    uint32_t version;
    bool has_model;
    struct engine_model model;
    struct engine__archived *archive; /* n_archive of ENGINE_ARCHIVE_MAX, oldest first */
    uint32_t n_archive;
    struct engine__webhook *webhooks; /* ascending ids */
    uint32_t n_webhooks, cap_webhooks;
    uint32_t next_webhook;      /* the last id handed out */
    struct engine__user *users; /* ascending names */
    uint32_t n_users, cap_users;
    struct engine__token *tokens; /* ascending ids */
    uint32_t n_tokens, cap_tokens;
    uint32_t n_api_tokens; /* derived: tokens of kind API */
    uint32_t next_token;   /* the last id handed out */
    struct map by_hash;    /* derived: first 8 bytes of a token's hash -> its id */
    struct map by_token;   /* derived: hash of a token's name -> its id */
    uint16_t *mq_map;      /* model queue index -> queue id */
    uint16_t *ms_map;      /* model skill index -> skill id */

    struct skill *skills;
    uint32_t n_skills, cap_skills;
    struct queue *queues;
    uint32_t n_queues, cap_queues;
    struct agent *agents;
    uint32_t n_agents, cap_agents;

    struct contact *contacts; /* slots */
    uint32_t n_slots, cap_slots;
    uint32_t *free_slots;
    uint32_t n_free, cap_free;
    size_t n_live;

    struct keyrec *keyrecs;
    uint32_t n_keyrecs, cap_keyrecs;
    uint32_t *free_keyrecs;
    uint32_t n_free_keyrecs, cap_free_keyrecs;
    uint32_t recent[RECENT_KEYS]; /* finished keyrecs, oldest at recent_head */
    uint32_t recent_head, n_recent;

    /* derived */
    struct map by_id;    /* contact id -> slot */
    struct map by_offer; /* offer id -> slot */
    struct map by_agent; /* hash(name) -> agent */
    struct map by_queue;
    struct map by_skill;
    struct map by_key;   /* hash(key) -> keyrec */
    struct map by_class; /* class hash -> cls */
    struct cls *classes;
    struct class_head *heads; /* beside classes[] */
    uint32_t n_classes, cap_classes;
    struct member *members;
    uint32_t n_members, cap_members;
    uint32_t *free_members;
    uint32_t n_free_members, cap_free_members;
    struct heap deadlines;
    uint32_t *dirty; /* agents whose ready-heap entries are out of date */
    uint32_t n_dirty, cap_dirty;

    /* per apply */
    bool routing_paused;           /* inside a model install, until every contact is placed */
    char revoked[ENGINE_NAME_MAX]; /* TOKEN_REVOKE: the name, for the audit effect */
    const struct engine_sink *sink;
    int oom;                                /* set by any failed allocation inside apply */
    struct engine__report_def *report_defs; /* sorted by name (reportdefs.c) */
    uint32_t n_report_defs;
    struct engine__signal *signals; /* sorted by name (health.c) */
    uint32_t n_signals, cap_signals;
    struct engine__fault *faults; /* ascending ids */
    uint32_t n_faults, cap_faults;
    uint32_t next_fault;      /* the last id handed out */
    struct engine__run *runs; /* ascending ids (runbooks.c) */
    uint32_t n_runs, cap_runs;
    uint32_t next_run;
    struct engine__saved *saved; /* ascending names */
    uint32_t n_saved, cap_saved;
    struct engine__drill *drills; /* ascending ids, the latest ENGINE_DRILLS_KEPT */
    uint32_t n_drills, cap_drills;
    uint32_t next_drill;
    /* What the path of a contact needs from the command in progress (path.c): how the
     * next contact to enter a queue came there, and how an offer being withdrawn ended
     * (agent NONE32: for every agent it rang). Reset before every command. */
    uint8_t path_via;
    struct engine__offer_end
    {
        uint64_t offer;
        uint32_t agent;
        uint8_t end;
    } offer_end;
};

extern const struct heap_ops engine__ready_heap;
extern const struct heap_ops engine__deadline_heap;

/* Grows *arr (element size sz) to hold at least need elements. */
int engine__grow(void **arr, uint32_t *cap, uint32_t need, size_t sz);
#define GROW(arr, cap, need) engine__grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))
/* In an array of n elements of `size` bytes sorted by the name each holds at `offset`: the
 * position of name, or where it would go, in *at; true when it is there. */
bool engine__find_sorted(const void *base,
                         uint32_t n,
                         size_t size,
                         size_t offset,
                         const char *name,
                         uint32_t *at);
#define FIND_SORTED(arr, n, field, name, at)                                             \
    engine__find_sorted((arr), (n), sizeof(*(arr)), offsetof(__typeof__(*(arr)), field), \
                        (name), (at))

/* ---- state.c ------------------------------------------------------------------------ */
int engine__skill_id(const struct engine *e, const char *name);
int engine__skill_add(struct engine *e, const char *name, uint16_t *id);
int engine__queue_id(const struct engine *e, const char *name);
int engine__queue_add(struct engine *e, const char *name, uint16_t *id);
int engine__agent_id(const struct engine *e, const char *name);
int engine__agent_add(struct engine *e, const char *name, uint32_t *id);
struct contact *engine__contact(const struct engine *e, uint64_t id);
struct contact *engine__contact_new(struct engine *e);
void engine__contact_release(struct engine *e, struct contact *c);
uint32_t engine__slot(const struct engine *e, const struct contact *c);
int engine__keyrec_new(struct engine *e,
                       const char *key,
                       uint64_t contact,
                       uint64_t fingerprint,
                       uint32_t *out);
void engine__keyrec_finish(struct engine *e, uint32_t kr);
int engine__keyrec_find(const struct engine *e, const char *key, uint32_t *out);
/* An effect about no contact (agent state, model), and one about c: it carries c's home and
 * session as they are now. */
void engine__emit(struct engine *e, const struct engine_effect *fx);
void engine__emit_contact(struct engine *e, struct contact *c, const struct engine_effect *fx);
void engine__clear_derived(struct engine *e);
void engine__free_tables(struct engine *e);

/* A contact id with its slot, for visiting contacts in id order. */
struct id_slot
{
    uint64_t id; /* first: engine__by_id() compares it */
    uint32_t slot;
};
/* qsort() comparator for arrays of uint64_t ids or of struct id_slot, by id. */
int engine__by_id(const void *a, const void *b);

/* ---- reportdefs.c ------------------------------------------------------------------- */
struct engine__report_version
{
    uint32_t version;
    int64_t at;
    char *actor, *comment, *text; /* owned */
};
struct engine__report_delivery
{
    uint8_t state, attempts;
    int64_t retry_at, at;
    char *text; /* owned; NULL = "" */
};
struct engine__round
{
    int64_t slot;
    uint32_t version;
    int64_t opened;
    uint8_t n_targets;
    struct engine__report_delivery t[ENGINE_AUDIENCE_MAX];
};
struct engine__report_def
{
    char name[ENGINE_NAME_MAX];
    uint32_t n_versions;
    struct engine__report_version v[ENGINE_REPORT_VERSIONS]; /* oldest first */
    int64_t last_slot;            /* the latest slot a round was opened for */
    uint32_t n_rounds;            /* kept, oldest first */
    struct engine__round *rounds; /* owned, ENGINE_ROUNDS_KEPT places once any */
};
int engine__cmd_report(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res);
void engine__report_defs_encode(const struct engine *e, struct cd_buf *b);
int engine__report_defs_decode(struct engine *e, struct cd_reader *r);
void engine__report_defs_free(struct engine *e);
/* HEALTH and FAULT_* (health.c). */
int engine__cmd_health(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res);
void engine__health_encode(const struct engine *e, struct cd_buf *b);
int engine__health_decode(struct engine *e, struct cd_reader *r);
void engine__health_free(struct engine *e);
struct engine__fault *engine__fault_find(const struct engine *e, uint32_t id);
/* A line in the fault's log; CD_ETOOBIG when it is full, CD_ENOMEM. */
int engine__fault_log(struct engine *e,
                      struct engine__fault *f,
                      int64_t at,
                      const char *actor,
                      const char *what,
                      const char *text);
/* A fault no signal holds (a runbook's): opened now, its id in *id. CD_ENOMEM, or the
 * log's CD_ETOOBIG (never for the first line). */
int engine__fault_open(struct engine *e,
                       const char *kind,
                       const char *component,
                       uint8_t severity,
                       const char *text,
                       uint32_t *id);
/* Closes it now, if it is open (by the node: `what` is "recovered" or "closed"). */
int engine__fault_end(struct engine *e, uint32_t id, const char *what, const char *text);
/* runbooks.c: the model's runbooks, their runs, saved models. */
int engine__runbooks_check(const struct engine_model *m, char *err, size_t errlen);
int engine__cmd_runbook(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res);
void engine__runbooks_encode(const struct engine *e, struct cd_buf *b);
int engine__runbooks_decode(struct engine *e, struct cd_reader *r);
void engine__runbooks_free(struct engine *e);
/* A runbook's definition in the model's and the snapshot's binary form. */
void engine__runbook_def_encode(struct cd_buf *b, const struct engine_runbook_def *d);
int engine__runbook_def_decode(struct cd_reader *r, struct engine_runbook_def *d);
/* continuity.c: the model's continuity part; FAULT_ESCALATE and FAULT_NOTIFIED. A model
 * check's failure: the message into err, and CD_EINVAL. */
int engine__check_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int engine__continuity_check(const struct engine_model *m, char *err, size_t errlen);
int engine__cmd_escalation(struct engine *e,
                           const struct engine_command *cmd,
                           struct engine_result *res);

/* ---- path.c ------------------------------------------------------------------------- */
/* Appends a step to c's path (a TRUNCATED mark instead once it is full). */
void engine__path_add(struct engine *e, struct contact *c, const struct engine_path_step *s);
/* The step an effect about c stands for, if any (called for every one emitted). */
void engine__path_note(struct engine *e, struct contact *c, const struct engine_effect *fx);
/* A transfer to a queue or agent (the contact's next QUEUED comes by transfer), or out. */
void engine__path_to(struct engine *e, struct contact *c, uint8_t to, const char *target);
void engine__path_get(const struct contact *c, struct engine_path *out);
/* Replaces c's path with a checked copy of data. Returns 0, CD_ECORRUPT or CD_ENOMEM. */
int engine__path_set(struct contact *c, const void *data, size_t len);
void engine__path_free(struct contact *c);
/* contact_cmds.c: CONTACT_HOLD / _RESUME; and the end of a hold when the talk ends, the
 * contact is transferred or finishes (a HOLD effect with state 0 when it was on hold). */
int engine__cmd_hold(struct engine *e, uint64_t id, bool on, struct engine_result *res);
void engine__hold_off(struct engine *e, struct contact *c);

/* ---- clock.c ------------------------------------------------------------------------ */
struct local_time
{
    int32_t date;    /* days since 1970-01-01 */
    uint8_t weekday; /* 0 = Monday */
    uint16_t minute;
};
void engine__local_time(const struct engine_model *m,
                        int32_t zone,
                        int64_t now_ms,
                        struct local_time *lt);
bool engine__hours_open(const struct engine_model *m, int32_t hours, int64_t now_ms);
bool engine__queue_open(const struct engine *e, const struct queue *q);
/* The zone of the queue's hours (its "today"), or -1 (UTC) for a queue always open. */
int32_t engine__queue_zone(const struct engine *e, const struct queue *q);

/* ---- index.c ------------------------------------------------------------------------ */
bool engine__agent_eligible(const struct agent *a, const struct cls *k);
uint64_t engine__skill_bits(const struct engine_skill_level *s, uint8_t n);
/* Recomputes an agent's readiness and its queues' counters at once; its entries in the
 * ready heaps follow at the next engine__flush(), which every reader of a ready heap calls
 * first. An agent that becomes ready and is matched within one command never touches the
 * heaps. */
void engine__agent_update(struct engine *e, uint32_t ai);
void engine__flush(struct engine *e);
int engine__agent_rebuild(struct engine *e, uint32_t ai);
void engine__agent_drop_members(struct engine *e, uint32_t ai);
int engine__class_for(struct engine *e, const struct contact *c, uint32_t *out);
void engine__effective_reqs(const struct engine *e, const struct contact *c, struct reqs *r);
bool engine__reqs_equal(const struct reqs *a, const struct reqs *b);
/* The class of exactly these requirements, or NONE32. */
uint32_t engine__class_find(const struct engine *e,
                            uint16_t queue,
                            uint8_t channel,
                            const struct reqs *r);
int engine__reindex(struct engine *e);
/* True when the member's stored key is a lower bound of a fresh computation. */
bool engine__member_fresh(const struct engine *e, uint32_t mi);
/* The best ready member of a class (stale entries on top are dropped or re-keyed on the
 * way), or NONE32. Call engine__flush() first. */
uint32_t engine__ready_top(struct engine *e, struct cls *k);
uint8_t engine__ready_mask(const struct engine *e, const struct agent *a);

/* ---- route.c ------------------------------------------------------------------------ */
int engine__enqueue(struct engine *e, struct contact *c);
void engine__dequeue(struct engine *e, struct contact *c);
void engine__route_contact(struct engine *e, struct contact *c);
void engine__route_agent(struct engine *e, uint32_t ai);
void engine__route_all(struct engine *e);
void engine__offer(struct engine *e, struct contact *c, uint32_t ai, uint32_t eligible);
void engine__withdraw_offer(struct engine *e, struct contact *c, bool requeue);
int engine__load_add(struct engine *e, uint32_t ai, struct contact *c);
void engine__load_sub(struct engine *e, uint32_t ai, struct contact *c, bool active);
void engine__route_agents(struct engine *e, const uint32_t *agents, uint32_t n);
void engine__set_deadline(struct engine *e, struct contact *c, int64_t at);
void engine__agent_state_fx(struct engine *e, uint32_t ai);
uint8_t engine__agent_state(const struct agent *a);

/* ---- contacts.c --------------------------------------------------------------------- */
void engine__finish(struct engine *e, struct contact *c, uint8_t outcome, const char *reason);
/* As engine__finish(), with the disposition and notes of a WRAPUP_DONE for the history. */
void engine__finish_with(struct engine *e,
                         struct contact *c,
                         uint8_t outcome,
                         const char *reason,
                         const char *disposition,
                         const char *notes);
void engine__arrive(struct engine *e, struct contact *c, uint16_t q);
void engine__to_queue(struct engine *e, struct contact *c, uint16_t q);
void engine__overflow(struct engine *e,
                      struct contact *c,
                      const struct queue *from,
                      const char *why);
void engine__requeue_timers(struct engine *e, struct contact *c);

/* ---- sessions.c --------------------------------------------------------------------- */
/* The contact's home and session key, "" when it has none. */
const char *engine__home(const struct contact *c);
const char *engine__session(const struct contact *c);
/* Sets both (home "" clears both). Returns 0 or CD_ENOMEM (the contact is unchanged). */
int engine__where_set(struct contact *c, const char *home, const char *session);
/* Checks a create's or a move's home and session; 0 or CD_EINVAL with a message. */
int engine__where_check(const char *home,
                        const char *session,
                        bool need_home,
                        struct engine_result *res);
int engine__cmd_session(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res);
int engine__cmd_node_lost(struct engine *e, const char *node, struct engine_result *res);

/* ---- chat.c ------------------------------------------------------------------------- */
int engine__cmd_message(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res);
/* The contact's transcript as the public struct (borrowed from the contact). */
void engine__transcript(const struct contact *c, struct engine_transcript *out);
/* Replaces the contact's (empty) transcript with a copy of t, checked by the caller, and
 * indexes it. Returns 0 or CD_ENOMEM. */
int engine__transcript_set(struct contact *c, const struct engine_transcript *t);
void engine__transcript_free(struct contact *c);
/* Sets or (NEVER) clears a chat's reconnect deadline. */
void engine__set_reconnect(struct engine *e, struct contact *c, int64_t at);
/* The reconnect deadline passed: the customer is gone. */
void engine__customer_gone(struct engine *e, struct contact *c);
/* The outcome and reason of a contact whose work is done: completed, or abandoned as
 * customer_gone when its customer did not come back. */
uint8_t engine__done_outcome(const struct contact *c);
const char *engine__done_reason(const struct contact *c);

/* ---- webhooks.c --------------------------------------------------------------------- */
int engine__cmd_webhook(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res);
void engine__webhook_release(struct engine__webhook *w);
void engine__webhooks_encode(const struct engine *e, struct cd_buf *b);
int engine__webhooks_decode(struct engine *e, struct cd_reader *r);
void engine__webhooks_free(struct engine *e);

/* ---- tokens.c, users.c, audit.c ----------------------------------------------------- */
int engine__cmd_token(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res);
int engine__cmd_user(struct engine *e,
                     const struct engine_command *cmd,
                     struct engine_result *res);
/* Checks a role and its agent binding as TOKEN_CREATE and USER_SET do. */
int engine__role_check(const struct engine *e,
                       uint8_t role,
                       const char *agent,
                       struct engine_result *res);
/* Index of a user, or -1. */
int engine__user_index(const struct engine *e, const char *name);
/* Removes every session token of the user (allocates nothing). */
void engine__sessions_revoke(struct engine *e, const char *user);
void engine__users_encode(const struct engine *e, struct cd_buf *b);
int engine__users_decode(struct engine *e, struct cd_reader *r);
void engine__users_free(struct engine *e);
void engine__tokens_encode(const struct engine *e, struct cd_buf *b);
/* After the users: a session's user must be one of them. */
int engine__tokens_decode(struct engine *e, struct cd_reader *r);
void engine__tokens_free(struct engine *e);
int engine__principals_check(const struct engine *e, char *err, size_t errlen);
/* AUDIT_NOTE: checks the note; the AUDIT effect that follows is all it does. */
int engine__cmd_audit_note(struct engine *e,
                           const struct engine_command *cmd,
                           struct engine_result *res);
/* The AUDIT effect of a command that succeeded (nothing for kinds that have none). */
void engine__audit(struct engine *e,
                   const struct engine_command *cmd,
                   const struct engine_result *res);

/* ---- rules.c ------------------------------------------------------------------------ */
void engine__run_rules(struct engine *e, struct contact *c, struct engine_result *res);

/* ---- stats.c ------------------------------------------------------------------------ */
void engine__stats_touch(struct engine *e, struct queue *q);
void engine__stats_dequeue(struct engine *e, struct queue *q, const struct contact *c);
void engine__stats_answer(struct engine *e, struct queue *q, const struct contact *c);
void engine__stats_complete(struct engine *e, struct queue *q, const struct contact *c);
int64_t engine__ewt(const struct engine *e,
                    const struct queue *q,
                    uint32_t position,
                    uint8_t channel);

/* ---- timers.c ----------------------------------------------------------------------- */
void engine__advance(struct engine *e, int64_t now);
int64_t engine__contact_deadline(const struct engine *e, const struct contact *c);

/* ---- install.c, agents.c ------------------------------------------------------------ */
int engine__cmd_queue_pause(struct engine *e,
                            const char *name,
                            bool paused,
                            struct engine_result *res);

/* archive.c */
struct engine__archived
{
    uint32_t version, rollback_of;
    int64_t at;
    char *actor, *comment, *diff, *source; /* owned */
};
int engine__archive_add(struct engine *e, const struct engine_command *cmd);
void engine__archive_free(struct engine *e);
void engine__archive_encode(const struct engine *e, struct cd_buf *b);
int engine__archive_decode(struct engine *e, struct cd_reader *r);

int engine__install(struct engine *e,
                    uint32_t version,
                    const struct engine_model *m,
                    const char *actor,
                    struct engine_result *res);
int engine__agent_cmd(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res);
int engine__agent_define(struct engine *e,
                         const char *name,
                         const char *site,
                         const uint8_t *capacity,
                         uint8_t n_skills,
                         const struct engine_skill_level *skills,
                         uint8_t n_queues,
                         const uint16_t *queues,
                         uint32_t *out);

#define FAIL(res, code, ...) engine__fail((res), (code), __VA_ARGS__)
int engine__fail(struct engine_result *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
