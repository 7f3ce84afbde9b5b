/* Queries of the state: contacts, agents, queues, names, paths and
 * transcripts as the API and adapters read them. Part of the engine's public interface:
 * engine.h includes it at this place, after everything it uses; include engine/engine.h, not
 * this. */
#ifndef CD_ENGINE_QUERY_H
#define CD_ENGINE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Queries ------------------------------------------------------------------------ */

struct engine_contact_info
{
    uint64_t id;
    uint8_t channel;
    uint8_t state; /* enum engine_contact_state (live states only) */
    int16_t priority;
    uint8_t step; /* escalation step reached */
    bool callback;
    const char *key;
    const char *queue;
    const char *agent; /* offered to / connected with; "" if none */
    uint64_t offer;    /* open offer id, 0 if none */
    int64_t arrived;
    int64_t enqueued; /* arrival in the current queue */
    int64_t answered;
    int64_t held_since; /* on hold since; 0 = not on hold */
    uint8_t n_attrs;
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    uint8_t n_skills; /* effective requirements now */
    struct engine_skill_ref skills[ENGINE_REQ_SKILLS];
    const char *home;     /* "" = none */
    const char *session;  /* "" = none */
    bool session_lost;    /* its home was declared lost (NODE_LOST) */
    int64_t reconnect_by; /* chat: ends unless the customer comes back by then; 0 = none */
    uint32_t messages;    /* chat: messages in its transcript */
};

struct engine_agent_info
{
    const char *name;
    const char *site;
    uint8_t presence;
    uint8_t state;
    const char *reason;
    uint8_t capacity[ENGINE_CH_COUNT];
    uint8_t load[ENGINE_CH_COUNT]; /* contacts in hand per channel (offered..wrap-up) */
    int64_t last_idle;
    int64_t state_since;         /* when its state (and, away, its reason) began */
    uint32_t occupancy_permille; /* busy time / logged-in time since login */
    uint8_t n_skills;
    struct engine_skill_ref skills[ENGINE_AGENT_SKILLS];
    uint8_t n_queues;
    const char *queues[ENGINE_AGENT_QUEUES]; /* the queues it serves, as its definition says */
};

/* A queue's counts since it was made, never reset (the day's counters fall back to 0 at
 * local midnight): the same on every node at one applied index. */
struct engine_queue_totals
{
    uint64_t arrived, answered, answered_in_sl, abandoned, abandoned_after_sl, overflowed,
        timed_out, offered;
    uint64_t handled;       /* answered contacts whose handling ended (completed) */
    int64_t answer_wait_ms; /* waits of the answered, summed */
    int64_t handle_ms;      /* answer to completion of the handled, summed */
};

struct engine_queue_info
{
    const char *name;
    bool open;
    bool retired; /* no longer in the installed model; drains */
    bool paused;  /* QUEUE_PAUSE: makes no offers until QUEUE_RESUME */
    uint32_t waiting;
    int64_t oldest_enqueued; /* 0 when empty */
    int64_t ewt_ms;          /* for a contact arriving now */
    uint32_t staffed;        /* agents logged in and not away who serve it */
    uint32_t available;      /* of those, ready for a new contact now */
    /* Counters since local midnight in the queue's zone. */
    uint32_t arrived, offered, answered, answered_in_sl, abandoned, overflowed, timed_out;
    uint32_t abandoned_after_sl;
    uint32_t sl_permille; /* answered_in_sl / (answered + abandoned after target);
                             ENGINE_NO_DATA when nothing was answered or abandoned after
                             the target today */
    struct engine_queue_totals totals;
    /* What the model says of it for reports and the wallboard (struct engine_queue): the
     * service level goal, its formula (enum engine_sl_formula) and the thresholds, 0 where
     * one is not set. A retired queue's are those of the definition it last had. */
    uint32_t sl_target_s;
    uint8_t sl_percent;
    uint8_t sl_formula;
    struct engine_thresholds thresholds;
};
#define ENGINE_NO_DATA UINT32_MAX

/* Per queue (by position, as engine_queue_name() names them; counts has
 * engine_queue_count() places): the contacts waiting (queued or ringing) in it for longer
 * than its service level target at now_ms. */
void engine_queues_waiting_past(const struct engine *e, int64_t now_ms, uint32_t *counts);

int engine_contact_get(const struct engine *e, uint64_t id, struct engine_contact_info *out);
int engine_agent_get(const struct engine *e, const char *name, struct engine_agent_info *out);
int engine_queue_get(const struct engine *e, const char *name, struct engine_queue_info *out);
size_t engine_contact_count(const struct engine *e);
/* Live contacts whose home is node (O(live contacts)). */
size_t engine_homed_count(const struct engine *e, const char *node);
size_t engine_agent_count(const struct engine *e);
size_t engine_queue_count(const struct engine *e);
/* Calls cb for every live contact in ascending id order; stops early if cb returns
 * non-zero and returns that value. CD_ENOMEM, before any call, when memory runs out. */
int engine_contacts_foreach(const struct engine *e,
                            int (*cb)(void *data, const struct engine_contact_info *c),
                            void *data);
/* Names by position 0..count-1, in a stable order; NULL past the end. */
const char *engine_agent_name(const struct engine *e, size_t i);
const char *engine_queue_name(const struct engine *e, size_t i);

/* Why a contact is where it is: which rule matched, which queue and priority, which
 * escalation step, and why its agent was chosen. Writes a NUL-terminated text of at most
 * len bytes. Returns 0 or CD_ENOTFOUND. */
int engine_explain(const struct engine *e, uint64_t id, char *buf, size_t len);

/* The transcript of a live contact (every contact has one; only a chat's holds messages):
 * its bytes are borrowed until the next command or engine_free(). Returns 0 or
 * CD_ENOTFOUND. */
int engine_transcript_get(const struct engine *e, uint64_t id, struct engine_transcript *out);
/* The path of a live contact, borrowed until the next command or engine_free(). Returns 0
 * or CD_ENOTFOUND. */
int engine_path_get(const struct engine *e, uint64_t id, struct engine_path *out);
/* Calls cb for each message of t whose seq is above after, in seq order, at most limit of
 * them (0: all); stops early when cb returns non-zero and returns that value. The message
 * passed to cb points into t's bytes. Returns 0, cb's value, or CD_ECORRUPT for bytes that
 * are not a transcript (cb may have been called for the messages before the damage). */
int engine_transcript_read(const struct engine_transcript *t,
                           uint32_t after,
                           uint32_t limit,
                           int (*cb)(void *data, const struct engine_message *m),
                           void *data);
/* Checks that data is a well-formed transcript within the limits above (seqs 1..n in
 * order, sides in range, msg_ids and texts as CHAT_MESSAGE takes them) and fills *out
 * (pointing at data). Returns 0 or CD_ECORRUPT (*out then zeroed). */
int engine_transcript_parse(const void *data, size_t len, struct engine_transcript *out);

#endif
