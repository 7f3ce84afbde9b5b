/* engine: the pure, deterministic routing core of contactd.
 *
 * Every change of routing state goes through engine_apply(state, command, now). Given the
 * same sequence of commands (with the same timestamps) every node reaches the same state
 * and emits the same effects: the engine reads no clock, draws no random numbers, does no
 * I/O and uses no floating point. Time arrives with each command (milliseconds since the
 * Unix epoch, UTC) and is clamped so that it never runs backwards.
 *
 * Three groups of types live here:
 *   - the routing model (struct engine_model): skills, time zones, hours, queues, agents,
 *     rules. config/ builds one from YAML; MODEL_INSTALL carries it into the state.
 *     Cross-references inside a model are indices into the model's own arrays.
 *   - commands (struct engine_command): what adapters ask for. Commands name agents,
 *     queues and skills by string and contacts and offers by the 64-bit ids the engine
 *     handed out, so they can be produced without access to the state.
 *   - effects (struct engine_effect): what the node that owns a customer's session must do.
 *
 * Ownership: strings and arrays inside a command are borrowed for the duration of the call
 * that takes the command. Pointers inside an info struct are borrowed until the next call
 * that changes the state (engine_apply, engine_free); pointers inside an effect only for
 * the duration of the sink's callback. Model arrays are owned by the model and released by
 * engine_model_close().
 */
#ifndef CD_ENGINE_H
#define CD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* ---- Limits ------------------------------------------------------------------------- */

#define ENGINE_NAME_MAX 64    /* names of skills, queues, agents, rules, zones (with NUL) */
#define ENGINE_KEY_MAX 32     /* attribute keys (with NUL) */
#define ENGINE_VALUE_MAX 64   /* attribute values, condition values, reasons (with NUL) */
#define ENGINE_TARGET_MAX 128 /* external overflow targets such as "sip:queue@site-b" */
#define ENGINE_SITE_MAX 32
#define ENGINE_SESSION_MAX 128 /* a session key: a SIP Call-ID, a chat token (with NUL) */
#define ENGINE_AGENT_SKILLS 32 /* skills one agent may hold */
#define ENGINE_AGENT_QUEUES 32 /* queues one agent serves */
#define ENGINE_REQ_SKILLS 8    /* skills one contact, queue or action may require */
#define ENGINE_ATTRS_MAX 16    /* attributes on one contact */
#define ENGINE_COND_VALUES 8   /* values listed in one condition */
#define ENGINE_STEPS_MAX 8     /* escalation steps of one queue */
#define ENGINE_INTERVALS_MAX 4 /* opening intervals in one day */
#define ENGINE_SET_MAX 8       /* attributes one SET action assigns */
#define ENGINE_RING_ALL_MAX 32 /* agents one ring-all offer rings at once */
#define ENGINE_PROFICIENCY_MAX 10
#define ENGINE_ACTOR_MAX 128       /* who gave a command: "user:alice" (with NUL) */
#define ENGINE_TOKEN_HASH_LEN 32   /* SHA-256 of a token's secret */
#define ENGINE_PERSONAL_MAX 16     /* attribute keys the model marks as personal data */
#define ENGINE_REASONS_MAX 32      /* away reasons one model lists */
#define ENGINE_DISPOSITIONS_MAX 64 /* wrap-up dispositions one model lists */
#define ENGINE_NOTES_MAX 1025      /* wrap-up notes (with NUL) */
#define ENGINE_MESSAGE_MAX 4096    /* the text of one chat message (with NUL) */
#define ENGINE_MSG_ID_MAX 65       /* a chat message's id, chosen by its sender (with NUL) */
#define ENGINE_TRANSCRIPT_MAX 1000 /* messages one contact's transcript holds */
#define ENGINE_TRANSCRIPT_BYTES (256 * 1024) /* text one transcript holds, in all */

/* Health, faults and the model's continuity part: their own header, part of this one. */
#include "engine/health.h"

/* ---- Enumerations ------------------------------------------------------------------- */

enum engine_channel {
    ENGINE_CH_VOICE = 0,
    ENGINE_CH_EMAIL,
    ENGINE_CH_SMS,
    ENGINE_CH_CHAT,
    ENGINE_CH_COUNT
};
#define ENGINE_CH_BIT(c) ((uint8_t)(1u << (c)))
#define ENGINE_CH_ALL ((uint8_t)((1u << ENGINE_CH_COUNT) - 1))

enum engine_strategy {
    ENGINE_STRATEGY_LONGEST_IDLE = 0, /* fewest contacts in hand, then idle longest */
    ENGINE_STRATEGY_LEAST_OCCUPIED, /* lowest load relative to capacity, then least talk time */
    ENGINE_STRATEGY_BEST_SKILL,     /* highest proficiency sum on the required skills */
    ENGINE_STRATEGY_ROUND_ROBIN,    /* the agent this queue offered to least recently */
    ENGINE_STRATEGY_RING_ALL,       /* voice: ring every eligible agent, first accept wins */
    ENGINE_STRATEGY_COUNT
};

/* How a queue's service level is figured in reports and on the wallboard: contacts
 * answered within the target divided by ... */
enum engine_sl_formula {
    ENGINE_SL_ANSWERED_ABANDONED = 0, /* ... answered + abandoned after the target (the live
                                         sl_permille) */
    ENGINE_SL_OFFERED,                /* ... offered */
    ENGINE_SL_SHORT_EXCLUDED,         /* ... offered - short abandons */
    ENGINE_SL_FORMULA_COUNT
};

/* Live states of a contact, and the terminal outcomes reported in history. */
enum engine_contact_state {
    ENGINE_CONTACT_QUEUED = 0,
    ENGINE_CONTACT_OFFERED, /* reserved for one agent (or a ring-all group) */
    ENGINE_CONTACT_CONNECTED,
    ENGINE_CONTACT_WRAPUP,    /* talk ended, the agent is still wrapping up */
    ENGINE_CONTACT_COMPLETED, /* terminal outcomes from here on */
    ENGINE_CONTACT_ABANDONED,
    ENGINE_CONTACT_TRANSFERRED, /* handed to an external target by a transfer */
    ENGINE_CONTACT_OVERFLOWED,  /* handed to an external target by overflow */
    ENGINE_CONTACT_TIMED_OUT,
    ENGINE_CONTACT_REJECTED,
    ENGINE_CONTACT_STATE_COUNT
};

/* What an agent chose (presence) ... */
enum engine_presence {
    ENGINE_PRESENCE_OFFLINE = 0,
    ENGINE_PRESENCE_AVAILABLE,
    ENGINE_PRESENCE_AWAY, /* with a reason code */
};

/* ... and what an agent is, derived from presence and the contacts in hand. */
enum engine_agent_state {
    ENGINE_AGENT_OFFLINE = 0,
    ENGINE_AGENT_AVAILABLE,
    ENGINE_AGENT_BUSY,   /* at least one contact offered or connected */
    ENGINE_AGENT_WRAPUP, /* only wrap-up work in hand */
    ENGINE_AGENT_AWAY,
};

/* Who wrote a chat message. */
enum engine_side { ENGINE_SIDE_CUSTOMER = 0, ENGINE_SIDE_AGENT, ENGINE_SIDE_COUNT };

/* What a principal (an API token, a user, a user's browser session) may do. The engine
 * stores the role; the API decides what each role may call. */
enum engine_role {
    ENGINE_ROLE_ADMIN = 0,
    ENGINE_ROLE_SUPERVISOR,
    ENGINE_ROLE_AGENT, /* bound to one agent, and acts as that agent only */
    ENGINE_ROLE_REPORTER,
    ENGINE_ROLE_INTEGRATION,
    ENGINE_ROLE_COUNT
};

enum engine_token_kind {
    ENGINE_TOKEN_API = 0, /* made by an operator for a program or a person */
    ENGINE_TOKEN_SESSION, /* made by a user's sign-in; revoked with the user */
    ENGINE_TOKEN_KIND_COUNT
};

/* ---- Routing model ------------------------------------------------------------------ */

struct engine_name
{
    char s[ENGINE_NAME_MAX];
};

/* A required or held skill; skill is an index into engine_model.skills. */
struct engine_skill_level
{
    uint16_t skill;
    uint8_t level; /* 1..ENGINE_PROFICIENCY_MAX */
};

/* From `at` (UTC seconds) on, local time is UTC + offset seconds. */
struct engine_tz_transition
{
    int64_t at;
    int32_t offset;
};

/* A named time zone resolved by config/ from the system's tzdata into a table, so that
 * every node computes local time identically and without I/O. */
struct engine_zone
{
    char name[ENGINE_NAME_MAX];
    int32_t base_offset; /* in force before the first transition */
    uint32_t n_transitions;
    struct engine_tz_transition *transitions; /* owned; sorted by at */
};

/* The zone's offset from UTC, in seconds, at the instant utc_s (seconds since 1970): that
 * of the last transition at or before it, or base_offset before the first. */
int32_t engine_zone_offset(const struct engine_zone *z, int64_t utc_s);

/* [from_min, to_min) in minutes of the local day; to_min may be 1440 (midnight). */
struct engine_interval
{
    uint16_t from_min;
    uint16_t to_min;
};

struct engine_day_hours
{
    uint8_t n; /* 0 = closed all day */
    struct engine_interval iv[ENGINE_INTERVALS_MAX];
};

/* A holiday replaces the weekly hours of one local date. */
struct engine_holiday
{
    int32_t date; /* local days since 1970-01-01 in the hours' zone */
    struct engine_day_hours hours;
};

struct engine_hours
{
    char name[ENGINE_NAME_MAX];
    uint32_t zone;                   /* index into engine_model.zones */
    struct engine_day_hours week[7]; /* [0] = Monday ... [6] = Sunday */
    uint32_t n_holidays;
    struct engine_holiday *holidays; /* owned; sorted by date, no duplicates */
};

/* After a contact has waited after_s seconds in its queue, its requirements widen:
 * every minimum proficiency drops by `relax` (never below 1), the listed skills are no
 * longer required, and its priority rises by priority_boost. Steps apply cumulatively in
 * order; after_s strictly increases from step to step. */
struct engine_escalation
{
    uint32_t after_s;
    uint8_t relax;
    int16_t priority_boost;
    uint8_t n_drop;
    uint16_t drop[ENGINE_REQ_SKILLS]; /* skill indices */
};

#define ENGINE_SHORT_ABANDON_MAX 600 /* seconds: the longest a short abandon may be */

/* When the wallboard shows a queue's figure as a warning and as an alarm. 0 = not set;
 * where both of a pair are set, the alarm is the worse one: a lower service level, more
 * contacts waiting, a longer wait. */
struct engine_thresholds
{
    uint8_t sl_warn, sl_alarm;            /* percent 0..100; sl_warn > sl_alarm */
    uint32_t waiting_warn, waiting_alarm; /* contacts waiting; waiting_warn < waiting_alarm */
    uint32_t wait_warn_s, wait_alarm_s;   /* longest wait; wait_warn_s < wait_alarm_s */
};

struct engine_queue
{
    char name[ENGINE_NAME_MAX];
    uint8_t channels;       /* bitmask of ENGINE_CH_BIT() */
    uint8_t strategy;       /* enum engine_strategy; RING_ALL only on a voice-only queue */
    uint32_t sl_target_s;   /* service level: answered within this many seconds ... */
    uint8_t sl_percent;     /* ... for this share of contacts (reporting only) */
    uint32_t max_size;      /* waiting contacts; 0 = unlimited. A full queue overflows */
    uint32_t max_wait_s;    /* 0 = none; then the contact overflows or times out */
    uint32_t ring_s;        /* ring-no-answer timeout of an offer; 0 = 20 s */
    uint32_t wrapup_s;      /* automatic end of wrap-up; 0 = no wrap-up at all */
    int32_t hours;          /* index into engine_model.hours; -1 = always open */
    int32_t overflow_queue; /* index into engine_model.queues; -1 = none */
    char overflow_target[ENGINE_TARGET_MAX]; /* external target when overflow_queue < 0 */
    uint8_t n_skills; /* requirements every contact of this queue carries */
    struct engine_skill_level skills[ENGINE_REQ_SKILLS];
    uint8_t n_steps;
    struct engine_escalation steps[ENGINE_STEPS_MAX];
    /* WRAPUP_DONE of a contact last in this queue must give a disposition (the model must
     * list some); the automatic end of wrap-up records none all the same. */
    bool disposition_required;
    /* Reporting only (the engine routes the same whatever they hold). */
    uint8_t sl_formula;       /* enum engine_sl_formula */
    uint32_t short_abandon_s; /* abandons sooner than this are short; 0 = none are;
                                 at most ENGINE_SHORT_ABANDON_MAX */
    struct engine_thresholds thresholds;
};

struct engine_agent_def
{
    char name[ENGINE_NAME_MAX];
    char site[ENGINE_SITE_MAX];
    uint8_t capacity[ENGINE_CH_COUNT]; /* concurrent contacts per channel; 0 = not served */
    uint8_t n_skills;
    struct engine_skill_level skills[ENGINE_AGENT_SKILLS];
    uint8_t n_queues;
    uint16_t queues[ENGINE_AGENT_QUEUES]; /* queue indices, the queues this agent serves */
};

enum engine_cond_kind {
    ENGINE_COND_CHANNEL = 0,      /* channels: contact's channel in the mask */
    ENGINE_COND_ATTR,             /* key op values (EQ/NE/IN/NOT_IN/EXISTS/PREFIX) */
    ENGINE_COND_LOCATION,         /* attribute "location" is, or is under, one of values:
                                     "GB" matches "GB" and "GB-LND" */
    ENGINE_COND_TIME_OF_DAY,      /* local time in [from_min, to_min) (wraps if from > to) */
    ENGINE_COND_DAY_OF_WEEK,      /* local weekday in the days mask */
    ENGINE_COND_EWT,              /* estimated wait of the queue, seconds, op number */
    ENGINE_COND_QUEUE_SIZE,       /* contacts waiting in the queue, op number */
    ENGINE_COND_AGENTS_AVAILABLE, /* agents ready for the contact's channel, op number */
    ENGINE_COND_QUEUE_OPEN,       /* number != 0: queue open now; number == 0: closed now */
    ENGINE_COND_PRIORITY,         /* contact priority op number */
    ENGINE_COND_KIND_COUNT
};

enum engine_op {
    ENGINE_OP_EQ = 0,
    ENGINE_OP_NE,
    ENGINE_OP_LT,
    ENGINE_OP_LE,
    ENGINE_OP_GT,
    ENGINE_OP_GE,
    ENGINE_OP_IN,
    ENGINE_OP_NOT_IN,
    ENGINE_OP_EXISTS,
    ENGINE_OP_PREFIX,
    ENGINE_OP_COUNT
};

struct engine_condition
{
    uint8_t kind; /* enum engine_cond_kind */
    uint8_t op;   /* enum engine_op */
    uint8_t channels;
    uint8_t days;      /* bit 0 = Monday ... bit 6 = Sunday */
    uint16_t from_min; /* TIME_OF_DAY */
    uint16_t to_min;
    int32_t zone;  /* TIME_OF_DAY, DAY_OF_WEEK: zone index; -1 = UTC */
    int32_t queue; /* EWT, QUEUE_SIZE, AGENTS_AVAILABLE, QUEUE_OPEN: queue index;
                      -1 = the queue the rule's action names */
    int64_t number;
    char key[ENGINE_KEY_MAX];
    uint8_t n_values;
    char values[ENGINE_COND_VALUES][ENGINE_VALUE_MAX];
};

enum engine_action_kind {
    ENGINE_ACTION_ROUTE = 0, /* queue, optional priority, extra skills */
    ENGINE_ACTION_OVERFLOW,  /* to queue, or to external target when queue < 0 */
    ENGINE_ACTION_CALLBACK,  /* route to queue and, when a voice or chat contact waits there,
                                offer the customer a callback */
    ENGINE_ACTION_REJECT,    /* with reason */
    ENGINE_ACTION_SET,       /* set attributes, then go on with the next rule */
    ENGINE_ACTION_KIND_COUNT
};

struct engine_kv
{
    char key[ENGINE_KEY_MAX];
    char value[ENGINE_VALUE_MAX];
};

struct engine_action
{
    uint8_t kind; /* enum engine_action_kind */
    bool has_priority;
    int16_t priority; /* replaces the contact's priority when has_priority */
    int32_t queue;    /* queue index: ROUTE, CALLBACK, and OVERFLOW to a queue; otherwise -1 */
    char target[ENGINE_TARGET_MAX];
    char reason[ENGINE_VALUE_MAX];
    uint8_t n_skills; /* added to the contact's own requirements */
    struct engine_skill_level skills[ENGINE_REQ_SKILLS];
    uint8_t n_set;
    struct engine_kv set[ENGINE_SET_MAX];
};

/* Web chat entries: the pre-chat forms a customer fills in before a chat starts. The engine
 * stores them for the adapters (engine_model()) and does not act on them: the chat adapter
 * shows a form, checks the answers and creates the contact with them as attributes. */
#define ENGINE_CHAT_ENTRIES_MAX 16
#define ENGINE_CHAT_FIELDS_MAX 12  /* fields of one entry's form */
#define ENGINE_CHAT_OPTIONS_MAX 16 /* choices of one select field */
#define ENGINE_LABEL_MAX 65        /* a field's label: UTF-8 display text (with NUL) */
#define ENGINE_CHAT_RECONNECT_DEFAULT 120
#define ENGINE_CHAT_RECONNECT_MIN 10
#define ENGINE_CHAT_RECONNECT_MAX 3600

enum engine_field_type {
    ENGINE_FIELD_TEXT = 0,
    ENGINE_FIELD_EMAIL,
    ENGINE_FIELD_PHONE,
    ENGINE_FIELD_SELECT, /* one of options */
    ENGINE_FIELD_TEXTAREA,
    ENGINE_FIELD_TYPE_COUNT
};

struct engine_chat_field
{
    char key[ENGINE_KEY_MAX];     /* the attribute it fills (a personal one is usual) */
    char label[ENGINE_LABEL_MAX]; /* 1..64 bytes without control characters */
    uint8_t type;                 /* enum engine_field_type */
    bool required;
    uint8_t max;       /* longest answer in bytes: 1..ENGINE_VALUE_MAX-1 */
    uint8_t n_options; /* SELECT: 1..ENGINE_CHAT_OPTIONS_MAX; every other type: 0 */
    char options[ENGINE_CHAT_OPTIONS_MAX][ENGINE_VALUE_MAX]; /* values without control
                                                                characters, none twice */
};

struct engine_chat_entry
{
    char name[ENGINE_NAME_MAX]; /* unique among the entries */
    int32_t queue;              /* straight to this queue; -1 = the routing rules decide */
    uint8_t n_fields;           /* keys unique within the entry */
    struct engine_chat_field fields[ENGINE_CHAT_FIELDS_MAX];
};

struct engine_rule
{
    char name[ENGINE_NAME_MAX];
    uint32_t n_conds;               /* all must hold; 0 = always */
    struct engine_condition *conds; /* owned */
    struct engine_action action;
};

/* At most 65535 skills, queues and rules each (ids are 16 bits in the state). */
struct engine_model
{
    uint32_t n_skills;
    struct engine_name *skills; /* owned */
    uint32_t n_zones;
    struct engine_zone *zones;
    uint32_t n_hours;
    struct engine_hours *hours;
    uint32_t n_queues;
    struct engine_queue *queues;
    uint32_t n_agents;
    struct engine_agent_def *agents;
    uint32_t n_rules;
    struct engine_rule *rules; /* ordered: first match wins */
    /* blocks[c]: channels (mask) an agent is not offered while holding any contact on c. */
    uint8_t blocks[ENGINE_CH_COUNT];
    char rna_reason[ENGINE_VALUE_MAX]; /* away reason after ring-no-answer; "" =
                                          "ring_no_answer" */
    /* Attribute keys whose values are personal data (a phone number, an email address, a
     * name, free text): the API masks them for roles without the right to see them. Valid
     * attribute keys (engine_name_valid, ENGINE_KEY_MAX), none twice. The engine routes on
     * them like any other key; the list only says what they are. */
    uint8_t n_personal;
    char personal[ENGINE_PERSONAL_MAX][ENGINE_KEY_MAX];
    /* Away reasons an agent may give (AGENT_LOGIN, AGENT_STATE going away): names
     * (engine_name_valid, ENGINE_VALUE_MAX), none twice. None listed: any valid name. The
     * ring-no-answer reason (rna_reason) is the system's and always allowed. */
    uint8_t n_away;
    char away[ENGINE_REASONS_MAX][ENGINE_VALUE_MAX];
    /* Wrap-up dispositions (WRAPUP_DONE): names as for away reasons, none twice. */
    uint8_t n_dispositions;
    char dispositions[ENGINE_DISPOSITIONS_MAX][ENGINE_VALUE_MAX];
    /* Web chat (below): how long a chat whose customer's connection ended waits for the
     * customer to come back, in seconds (ENGINE_CHAT_RECONNECT_MIN..MAX; 0 = the default),
     * and the pre-chat forms. */
    uint32_t chat_reconnect_s;
    uint32_t n_chat_entries;
    struct engine_chat_entry *chat_entries; /* owned */
    /* Index into zones of the centre's time zone, in which reports cut days; -1 = UTC
     * (engine_model_init() sets -1). */
    int32_t report_zone;
    /* Continuity (above): at most ENGINE_FAULT_RULES_MAX rules, in order, and at most
     * ENGINE_ESCALATIONS_MAX paths with names unique. */
    uint32_t n_fault_rules;
    struct engine_fault_rule_def *fault_rules; /* owned */
    uint32_t n_escalations;
    struct engine_escalation_path *escalations; /* owned */
    /* Runbooks (engine/health.h): at most ENGINE_RUNBOOKS_MAX, names unique. */
    uint32_t n_runbooks;
    struct engine_runbook_def *runbooks; /* owned */
};

void engine_model_init(struct engine_model *m);
/* Frees every array the model owns and leaves it as after init. */
void engine_model_close(struct engine_model *m);
/* Deep copy; dst must be initialised and empty. Returns 0 or CD_ENOMEM (dst left empty). */
int engine_model_copy(struct engine_model *dst, const struct engine_model *src);
/* Checks every index, range and ordering rule stated above. Returns 0 or CD_EINVAL with
 * a message naming the object ("queue 'sales': overflow_queue 9 out of range"). */
int engine_model_validate(const struct engine_model *m, char *err, size_t errlen);
/* Index of a named object, or -1. */
int engine_model_skill(const struct engine_model *m, const char *name);
int engine_model_queue(const struct engine_model *m, const char *name);
/* True when the model (may be NULL) marks attribute key as personal. */
bool engine_model_personal(const struct engine_model *m, const char *key);
/* Index of a listed disposition / away reason / chat entry, or -1. */
int engine_model_disposition(const struct engine_model *m, const char *name);
int engine_model_away(const struct engine_model *m, const char *name);
int engine_model_chat_entry(const struct engine_model *m, const char *name);
/* How long a chat waits for its customer to come back, in ms (the model's, or the
 * default's when it gives none). */
int64_t engine_model_reconnect_ms(const struct engine_model *m);
/* Binary form of a model (inside MODEL_INSTALL commands and state snapshots). encode
 * returns 0, CD_ENOMEM, or CD_EINVAL for a count above its array or a name without a NUL
 * (then nothing is appended). decode fills an initialised, empty model and checks
 * structure only (validation is the installer's job); on error the model is left empty.
 * It returns 0, CD_ENOMEM, CD_ECORRUPT, or CD_EVERSION for an unknown format byte. */
int engine_model_encode(const struct engine_model *m, struct cd_buf *out);
int engine_model_decode(struct cd_reader *r, struct engine_model *m);

/* ---- Commands ----------------------------------------------------------------------- */

enum engine_cmd_kind {
    ENGINE_CMD_TICK = 1, /* only advances time and fires due deadlines */
    ENGINE_CMD_CONTACT_CREATE,
    ENGINE_CMD_CONTACT_ABANDON,  /* customer left while queued or offered */
    ENGINE_CMD_CONTACT_END,      /* talk over: to wrap-up, or completed */
    ENGINE_CMD_CONTACT_TRANSFER, /* to a queue, an agent, or an external target */
    ENGINE_CMD_CONTACT_CALLBACK, /* customer took the callback offer and hung up (voice) or
                                    left the chat (chat): queued, it keeps its place */
    ENGINE_CMD_CONTACT_SET_ATTRS,
    ENGINE_CMD_OFFER_ACCEPT,
    ENGINE_CMD_OFFER_REJECT,
    ENGINE_CMD_WRAPUP_DONE,
    ENGINE_CMD_AGENT_LOGIN,
    ENGINE_CMD_AGENT_LOGOUT,
    ENGINE_CMD_AGENT_STATE,  /* available, or away with a reason */
    ENGINE_CMD_AGENT_SKILLS, /* replace the agent's skills */
    ENGINE_CMD_AGENT_UPSERT, /* create or redefine an agent */
    ENGINE_CMD_AGENT_DELETE, /* only an offline agent with nothing in hand */
    ENGINE_CMD_MODEL_INSTALL,
    ENGINE_CMD_QUEUE_PAUSE,  /* the queue makes no offers; contacts still join it and wait */
    ENGINE_CMD_QUEUE_RESUME, /* offers again, most overdue first */
    ENGINE_CMD_SESSION_MOVE, /* the customer's live session is now held by another node */
    ENGINE_CMD_SESSION_END,  /* the customer's live session ended; the contact goes on */
    ENGINE_CMD_NODE_LOST,   /* a member was unreachable past the grace: its sessions are lost */
    ENGINE_CMD_WEBHOOK_ADD, /* subscribe a URL to effects (engine/webhooks.c) */
    ENGINE_CMD_WEBHOOK_DELETE,
    ENGINE_CMD_WEBHOOK_DELIVERED, /* the receiver took events (from, to]: the cursor moves */
    ENGINE_CMD_WEBHOOK_FAILED,    /* an attempt failed: retry after a backoff */
    ENGINE_CMD_TOKEN_CREATE,      /* an API token or a browser session (engine/tokens.c) */
    ENGINE_CMD_TOKEN_REVOKE,
    ENGINE_CMD_USER_SET,      /* create or replace a user who signs in with a password */
    ENGINE_CMD_USER_DELETE,   /* and revoke every session of that user */
    ENGINE_CMD_PRIVACY_ERASE, /* remove one attribute value from every live contact */
    ENGINE_CMD_AUDIT_NOTE,    /* a change made outside the engine, for the audit (below) */
    ENGINE_CMD_CHAT_MESSAGE,  /* a chat message from the customer or the agent (below) */
    ENGINE_CMD_REPORT_PUT,    /* a report definition, new or changed (below) */
    ENGINE_CMD_REPORT_DELETE,
    ENGINE_CMD_REPORT_SLOT,  /* the leader opens a scheduled report's delivery round (below) */
    ENGINE_CMD_REPORT_SENT,  /* the leader reports how one delivery of a round went */
    ENGINE_CMD_CONTACT_HOLD, /* the agent put the connected customer on hold ... */
    ENGINE_CMD_CONTACT_RESUME, /* ... and back (a talk's end or a transfer resumes it too) */
    ENGINE_CMD_HEALTH,         /* the leader's word on health signals (engine/health.h) */
    ENGINE_CMD_FAULT_ACK,      /* someone on call has seen a fault ... */
    ENGINE_CMD_FAULT_NOTE,     /* ... writes what was done into its log ... */
    ENGINE_CMD_FAULT_CLOSE,    /* ... or closes it by hand */
    ENGINE_CMD_FAULT_ESCALATE, /* the leader opens a level of an escalation path ... */
    ENGINE_CMD_FAULT_NOTIFIED, /* ... and says how each of its notifications went */
    ENGINE_CMD_MODEL_SAVE,     /* keep a model's text by name, for runbooks to install */
    ENGINE_CMD_MODEL_FORGET,
    ENGINE_CMD_RUNBOOK_RUN,     /* the trigger holds (the leader), or someone runs it */
    ENGINE_CMD_RUNBOOK_APPROVE, /* a supervisor lets an awaiting run act */
    ENGINE_CMD_RUNBOOK_END,     /* the trigger has cleared, or someone ends the run */
    ENGINE_CMD_RUNBOOK_MODEL,   /* the leader installs (or puts back) a run's model */
    ENGINE_CMD_DRILL_RECORD,    /* a drill's report, kept (engine/health.h) */
    ENGINE_CMD_KIND_COUNT
};

struct engine_skill_ref
{
    const char *skill;
    uint8_t level;
};

struct engine_attr
{
    const char *key;
    const char *value;
};

struct engine_contact_create
{
    const char *key;   /* idempotency key; NULL or "" = none */
    uint8_t channel;   /* enum engine_channel */
    const char *queue; /* NULL or "": the routing rules decide; else straight to this queue */
    int16_t priority;  /* higher is served first */
    uint8_t n_skills;
    const struct engine_skill_ref *skills;
    uint8_t n_attrs;
    const struct engine_attr *attrs;
    /* Where the customer's live session is: the member holding it (its id in peers; NULL or
     * "" = none: email, SMS and contacts made through the API) and the key its adapter chose
     * (a SIP Call-ID, a chat token). Neither is part of what an idempotency key is checked
     * against: a retry that reaches another node asks for the same contact. */
    const char *home;
    const char *session;
};

struct engine_agent_spec
{
    const char *name;
    const char *site;
    uint8_t capacity[ENGINE_CH_COUNT];
    uint8_t n_skills;
    const struct engine_skill_ref *skills;
    uint8_t n_queues;
    const char *const *queues;
};

struct engine_command
{
    uint8_t kind; /* enum engine_cmd_kind */
    /* Who gave the command: the authenticated principal as the edge names it
     * ("token:ops-admin", "user:alice"); NULL or "" = the node itself (a TICK, a NODE_LOST).
     * At most ENGINE_ACTOR_MAX - 1 bytes, else the command is CD_EINVAL. It is in every
     * command's binary form, goes into the audit effect of the commands that have one, the
     * model archive (MODEL_INSTALL) and the tokens made (TOKEN_CREATE: created_by). */
    const char *actor;
    union {
        struct engine_contact_create create;
        struct
        {
            uint64_t id;
        } contact; /* ABANDON, END, CALLBACK */
        /* WRAPUP_DONE: the agent finished wrap-up. disposition: NULL or "" (none), or one
         * the model lists (else CD_EINVAL); none while the contact's queue has
         * disposition_required is CD_EINVAL. notes: NULL, or 0..ENGINE_NOTES_MAX-1 bytes
         * of text (no NUL inside: its length is what it is). Both go into the history. */
        struct
        {
            uint64_t id;
            const char *disposition;
            const char *notes;
        } wrapup;
        /* CHAT_MESSAGE: see "Chat" below. */
        struct
        {
            uint64_t id;
            uint8_t from;       /* enum engine_side */
            const char *agent;  /* from AGENT: the contact's connected agent; else NULL/"" */
            const char *msg_id; /* chosen by the sender: 1..ENGINE_MSG_ID_MAX-1 visible ASCII
                                   characters (engine_visible_valid) */
            const char *text;   /* 1..ENGINE_MESSAGE_MAX-1 bytes */
        } message;
        struct
        {
            uint64_t id;
            const char *queue; /* exactly one of queue, agent, target */
            const char *agent;
            const char *target;
        } transfer;
        struct
        {
            uint64_t id;
            uint8_t n_attrs;
            const struct engine_attr *attrs; /* value "" removes the key */
        } set_attrs;
        struct
        {
            uint64_t id;
            const char *agent; /* must be the agent the offer was made to */
        } offer;               /* ACCEPT, REJECT */
        struct
        {
            const char *name;
            uint8_t presence; /* LOGIN, STATE: AVAILABLE or AWAY */
            const char *reason;
        } agent; /* LOGIN, LOGOUT, STATE, DELETE */
        struct
        {
            const char *name;
            uint8_t n_skills;
            const struct engine_skill_ref *skills;
        } skills;
        struct engine_agent_spec upsert;
        struct
        {
            uint32_t version; /* must exceed the installed version */
            const struct engine_model *model;
            /* For the archive (NULL reads as ""): the model's text as it was given, why,
             * what changed against the version before it, and the version it restores (0
             * when it is not a rollback). Who installed it is the command's actor. */
            const char *source;
            const char *comment;
            const char *diff;
            uint32_t rollback_of;
        } install;
        struct
        {
            const char *name;
        } queue; /* QUEUE_PAUSE, QUEUE_RESUME */
        struct
        {
            uint64_t id;
            /* SESSION_MOVE: the member that holds it now (not "") and its key there ("" keeps
             * the key). SESSION_END: the session to end, "" for any: one given that is not
             * the contact's any more (the customer moved on) is CD_ESTATE. */
            const char *home;
            const char *session;
        } session; /* SESSION_MOVE, SESSION_END */
        struct
        {
            const char *name; /* the member's id */
        } node;               /* NODE_LOST */
        struct
        {
            uint32_t id;        /* all but ADD */
            const char *url;    /* ADD: http://host:port/path */
            const char *secret; /* ADD: signs each delivery (HMAC-SHA256) */
            uint32_t kinds;     /* ADD: bit (1u << kind) per effect kind; not 0 */
            /* ADD: events after this one are delivered; DELIVERED, FAILED: the cursor the
             * attempt started from (a stale report, whose cursor moved since, is refused) */
            uint64_t from_index;
            uint32_t from_n;
            uint64_t to_index; /* DELIVERED: the last event the receiver took (or passed) */
            uint32_t to_n;
            uint32_t count;   /* DELIVERED, FAILED: events in the attempt */
            uint16_t status;  /* DELIVERED, FAILED: the receiver's HTTP status; 0 = none */
            const char *text; /* DELIVERED: the receiver's id for it; FAILED: what failed */
        } webhook;
        struct
        {
            const char *name;    /* a name (engine_name_valid), at most ENGINE_NAME_MAX - 1 */
            const char *text;    /* PUT: the definition, 1..ENGINE_REPORT_TEXT_MAX - 1 bytes */
            const char *comment; /* PUT: why (NULL reads as ""), < ENGINE_COMMENT_MAX bytes */
            uint32_t expect;     /* PUT: the version it changes; 0 = whichever is current */
        } report;                /* REPORT_PUT, REPORT_DELETE */
        struct
        {
            const char *name; /* the definition */
            int64_t slot;     /* the scheduled moment (ms), the round's name */
            uint32_t version; /* SLOT: the definition's version the round runs */
            uint8_t targets;  /* SLOT: its audience, 1..ENGINE_AUDIENCE_MAX deliveries */
            uint8_t target;   /* SENT: which delivery of the round */
            bool ok;          /* SENT: delivered (text: the receiver's id for it) or failed */
            const char *text; /* SENT: receipt or what failed, < ENGINE_TARGET_MAX bytes */
            int64_t retry_at; /* SENT, failed: when to try again */
        } round;              /* REPORT_SLOT, REPORT_SENT */
        struct
        {
            uint32_t id;        /* REVOKE: the token; 0 = the one named `name` */
            const char *name;   /* CREATE: unique among the tokens; REVOKE when id is 0 */
            uint8_t kind;       /* CREATE: enum engine_token_kind */
            uint8_t role;       /* CREATE: enum engine_role */
            const char *agent;  /* CREATE: role AGENT: the agent it acts as; else "" */
            const char *user;   /* CREATE, SESSION: the user signed in; else "" */
            int64_t expires_at; /* CREATE: ms since the epoch; 0 = never (not for a SESSION) */
            uint8_t hash[ENGINE_TOKEN_HASH_LEN]; /* CREATE: SHA-256 of the secret */
        } token;                                 /* TOKEN_CREATE, TOKEN_REVOKE */
        struct
        {
            const char *name;
            uint8_t role;         /* SET: enum engine_role */
            const char *agent;    /* SET: role AGENT: the agent the user is; else "" */
            const char *verifier; /* SET: the edge's password verifier, opaque */
        } user;                   /* USER_SET, USER_DELETE */
        /* PRIVACY_ERASE: every live contact whose attribute `key` is exactly `value` loses
         * that attribute (as a SET_ATTRS with value "" would remove it). key: an attribute
         * key (engine_name_valid, ENGINE_KEY_MAX); value: 1..ENGINE_VALUE_MAX-1 bytes; else
         * CD_EINVAL. Finding none is not an error. The result's `contact` is the number of
         * contacts changed. Routing decisions already made stay; later rules see the
         * attribute absent. The AUDIT effect's object is "attr:KEY": never the value. */
        struct
        {
            const char *key;
            const char *value;
        } erase;
        struct
        {
            const char *action; /* a name, and not a command's (engine_cmd_name()) */
            const char *object; /* 1..ENGINE_TARGET_MAX-1 visible ASCII characters */
        } note;                 /* AUDIT_NOTE */
        struct
        {
            uint8_t n; /* 1..ENGINE_HEALTH_BATCH */
            const struct engine_signal_set *signals;
        } health; /* HEALTH */
        struct
        {
            uint32_t id;
            /* NOTE: 1..ENGINE_FAULT_TEXT_MAX-1 bytes; ACK, CLOSE: may be ""; NOTIFIED: the
             * receiver's receipt, or what failed */
            const char *text;
            const char *path; /* ESCALATE, NOTIFIED: the escalation path's name */
            uint8_t level;    /* ESCALATE, NOTIFIED: from 0 */
            uint8_t target;   /* NOTIFIED: which of the level's addresses, from 0 */
            bool ok;          /* NOTIFIED: delivered */
            int64_t retry_at; /* NOTIFIED, failed: when to try again */
        } fault;              /* FAULT_* */
        /* Runbooks, saved models and drill reports (engine/health.h). */
        struct
        {
            const char *name;    /* RUN: the runbook; MODEL_SAVE, MODEL_FORGET: the model */
            const char *signal;  /* RUN from the leader: the signal that holds the trigger */
            const char *text;    /* MODEL_SAVE: the model's source, 1..ENGINE_SAVED_TEXT_MAX-1
                                    bytes; END: why; RUNBOOK_MODEL not ok: what failed;
                                    DRILL_RECORD: the report */
            const char *comment; /* MODEL_SAVE: why (< ENGINE_COMMENT_MAX bytes);
                                    RUNBOOK_MODEL: what changes, for the archive (the
                                    leader's diff of the running text and the new one) */
            uint32_t run;        /* APPROVE, END, RUNBOOK_MODEL */
            uint32_t version;    /* RUNBOOK_MODEL ok: above the installed version */
            bool ok;             /* RUNBOOK_MODEL: model holds the model to install */
            bool revert;         /* RUNBOOK_MODEL: the version before goes back (else the
                                    saved model goes in): the step must be in that state */
            int64_t saved_at;    /* RUNBOOK_MODEL, install: the saved text's `at`, which the
                                    model was parsed from (a text saved since is refused) */
            const struct engine_model *model;
        } runbook;
    } u;
};

/* Chat. A chat contact (channel CHAT) keeps its transcript in the replicated state, so that
 * any member can serve it after a failover.
 *
 * CHAT_MESSAGE (id, from, agent, msg_id, text): the contact must be live (else
 * CD_ENOTFOUND) and a chat (else CD_EINVAL); a customer may write while it is queued,
 * offered or connected, an agent only while connected, and then only the agent it is
 * connected with (another is CD_EINVAL); any other state is CD_ESTATE. Malformed fields are
 * CD_EINVAL: a side out of range, a msg_id that is not 1..ENGINE_MSG_ID_MAX-1 visible ASCII
 * characters, a text that is empty or ENGINE_MESSAGE_MAX bytes or longer, an agent given for
 * a customer's message.
 *   - Each message taken gets the contact's next seq (1, 2, 3, ...), which the result's
 *     `contact` carries, and is kept with its seq, side, agent ("" for the customer), msg_id,
 *     time (the command's, the state's clock) and text. A MESSAGE effect follows.
 *   - The same msg_id from the same side on the same contact again is a retry (after a
 *     failover, say): with the same text (and agent) it is not applied again: code 0,
 *     existing = true, `contact` = the first one's seq, no effect. With another text it is
 *     CD_EEXISTS: an id names one message.
 *   - A transcript holds at most ENGINE_TRANSCRIPT_MAX messages and ENGINE_TRANSCRIPT_BYTES
 *     bytes of text; a message past either is CD_ETOOBIG.
 *   - The whole transcript goes into the contact's history when it ends.
 *
 * Reconnecting: a chat contact whose customer's session ends (SESSION_END) or whose home is
 * lost (NODE_LOST) while it is queued, offered or connected gets a reconnect deadline: the
 * command's time + engine_model_reconnect_ms(). SESSION_MOVE (the customer came back
 * through some member) clears it. When it passes, the contact ends with the customer gone:
 * queued or offered, it is abandoned with reason "customer_gone" (an offer is withdrawn);
 * connected, its talk ends as by CONTACT_END (the agent wraps up as usual) and its history
 * outcome is ABANDONED with reason "customer_gone", whenever it finishes. A contact that
 * reaches wrap-up keeps no reconnect deadline. The deadline is a contact's second one beside
 * its state's own (ring, escalation, queue timeout): engine_next_deadline() is the earlier
 * of all; both are in snapshots. */

/* Outcome of one command. code is 0 or a CD_E* error; an error changes nothing (but time
 * still advances and due deadlines still fire, since those belong to `now`). */
struct engine_result
{
    int code;
    uint64_t contact; /* CONTACT_CREATE: the new (or, for a repeated key, existing) id;
                         WEBHOOK_ADD: the new webhook's id; TOKEN_CREATE: the new token's
                         id; TOKEN_REVOKE: the id of the token revoked;
                         PRIVACY_ERASE: the number of contacts changed;
                         CHAT_MESSAGE: the message's seq in its transcript */
    bool existing;    /* CONTACT_CREATE: the key was seen before; nothing was created;
                         CHAT_MESSAGE: the message id was seen before; contact is its seq */
    char message[128];
};

/* ---- Effects ------------------------------------------------------------------------ */

enum engine_effect_kind {
    ENGINE_FX_QUEUED = 1,   /* contact waits in queue; ewt_ms estimated */
    ENGINE_FX_OFFER,        /* offer contact to agent; at = ring deadline */
    ENGINE_FX_OFFER_CANCEL, /* withdraw an offer (ring-all loser, abandon, logout, timeout) */
    ENGINE_FX_CONNECTED,
    ENGINE_FX_ESCALATED,      /* step = new escalation step */
    ENGINE_FX_CALLBACK_OFFER, /* ask the customer whether they want a callback */
    ENGINE_FX_ENDED,          /* terminal; history says how */
    ENGINE_FX_WRAPUP,         /* talk ended; at = automatic wrap-up end */
    ENGINE_FX_AGENT_STATE,    /* derived state (or away reason) changed; text = reason */
    ENGINE_FX_MODEL,          /* a model version was installed: at = version, text = actor */
    ENGINE_FX_SESSION_MOVED,  /* home/session: where it is now; old_home: where it was */
    ENGINE_FX_SESSION_ENDED,  /* old_home: the member that held it */
    ENGINE_FX_SESSION_LOST,   /* NODE_LOST: old_home was lost; text = what became of it */
    ENGINE_FX_AUDIT,          /* a change was made: see "Audit" below */
    ENGINE_FX_MESSAGE,        /* a chat message was taken: text, seq, side, msg_id, at */
    ENGINE_FX_HOLD,           /* state 1: the customer is on hold now; 0: no longer */
    ENGINE_FX_KIND_COUNT
};

/* A chat transcript in its binary form: what the engine keeps in a live contact and hands
 * out in a history, and what storage keeps in a history row, byte for byte. Each message:
 * seq (uvar, 1, 2, 3, ... in order), side (u8), at (svar), agent, msg_id, text (strings as
 * in common/buf.h). Read it with engine_transcript_read(). */
struct engine_transcript
{
    const void *data; /* borrowed (see where it came from); NULL when len is 0 */
    size_t len;
    uint32_t n;     /* messages */
    uint32_t bytes; /* of text, in all */
};

/* One message of a transcript; the strings point into the transcript's bytes. */
struct engine_message
{
    uint32_t seq;
    uint8_t side; /* enum engine_side */
    int64_t at;
    const char *agent; /* who wrote it for the agent's side; "" for the customer */
    const char *msg_id;
    const char *text;
};

#include "engine/path.h"

/* Everything a report needs about a finished contact. Times are ms since the epoch; 0 =
 * never happened. */
struct engine_history
{
    uint64_t contact;
    uint8_t channel;
    uint8_t outcome; /* terminal enum engine_contact_state */
    int16_t priority;
    const char *queue;  /* last queue; "" if it never reached one */
    const char *agent;  /* last agent; "" if none */
    const char *reason; /* REJECTED reason, OVERFLOWED/TRANSFERRED target */
    int64_t arrived;
    int64_t offered;
    int64_t answered;
    int64_t ended;     /* talk ended or customer left */
    int64_t completed; /* wrap-up done, or == ended */
    uint32_t offers;   /* offers made, ring-no-answers included */
    uint32_t transfers;
    uint8_t callback;
    /* What the contact was about. key: its idempotency key ("" = none); its attributes
     * as they were at the end; the disposition and notes of its WRAPUP_DONE ("" = none);
     * a chat's transcript (n 0 for every other contact). Attribute values the model marks
     * personal, notes and message texts are personal data. */
    const char *key;
    uint8_t n_attrs;
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    const char *disposition;
    const char *notes;
    struct engine_transcript transcript;
    struct engine_path path; /* what happened to it (above) */
};

struct engine_effect
{
    uint8_t kind; /* enum engine_effect_kind */
    uint8_t channel;
    uint8_t state; /* AGENT_STATE: enum engine_agent_state; OFFER_CANCEL: contact's new state;
                      AUDIT: the command's enum engine_cmd_kind */
    uint8_t step;
    uint64_t contact;
    uint64_t offer;
    const char *agent; /* borrowed, see the top of this file */
    const char *queue;
    const char *text;
    int64_t at;
    int64_t ewt_ms;
    const struct engine_history *history; /* ENDED only */
    /* Effects about a contact carry its home and session as they are after the effect
     * ("" = none): an adapter acts on those addressed to its own node. */
    const char *home;
    const char *session;
    const char *old_home; /* SESSION_MOVED, _ENDED, _LOST: the member that held it */
    const char *object;   /* AUDIT: what the command acted on; "" for every other kind */
    const char *action;   /* AUDIT: what was done; "" for every other kind */
    /* MESSAGE: the message (text is in `text`, its time in `at`); 0/""/0 for other kinds. */
    uint32_t seq;
    const char *msg_id;
    uint8_t side; /* enum engine_side */
    /* AGENT_STATE: the span it ends: the state shown before (prev_state, with prev_reason
     * when away) since `since`, and the agent's site. Not kept in the outbox (the codec
     * leaves them out): storage writes the span (a history row) as the entry applies. */
    uint8_t prev_state;
    int64_t since;
    const char *prev_reason;
    const char *site;
};

/* Audit: after every successful command that changes configuration, principals or a
 * contact by hand (MODEL_INSTALL, AGENT_UPSERT, AGENT_DELETE, AGENT_SKILLS, QUEUE_PAUSE,
 * QUEUE_RESUME, CONTACT_TRANSFER, CONTACT_SET_ATTRS, TOKEN_CREATE, TOKEN_REVOKE, USER_SET,
 * USER_DELETE, WEBHOOK_ADD, WEBHOOK_DELETE, PRIVACY_ERASE), and after every AUDIT_NOTE,
 * one AUDIT effect follows the command's other effects:
 *
 *   text    the command's actor ("" = the node itself)
 *   state   the command's kind (enum engine_cmd_kind; engine_cmd_name() spells it)
 *   action  what was done: engine_cmd_name(state), or an AUDIT_NOTE's own action
 *   object  what it acted on, as text: the queue, agent, token or user name, the contact
 *           id, the webhook id, the model version (decimal), "attr:KEY" for a
 *           PRIVACY_ERASE (the erased value is never in an effect), or an AUDIT_NOTE's
 *           object
 *   agent   AGENT_*: the agent; queue: QUEUE_*: the queue; contact: CONTACT_*: the
 *           contact (so that feeds filtered by agent or contact show them); else ""/0
 *   at      the command's time (the state's clock)
 *
 * It carries no home or session: no adapter acts on it. A failed command has none; nor do
 * the sessions a USER_DELETE or USER_SET revokes with it, or the oldest session of a user
 * that a new one replaces (the command that did it is audited). Never a secret: no token
 * hash, no password verifier, no webhook secret.
 *
 * AUDIT_NOTE (action, object) records a change the engine does not make itself (a cluster
 * member added or removed, a leadership transfer: Raft configuration, not engine state). It
 * changes nothing but the clock, and emits only its AUDIT effect. action must be a name
 * (engine_name_valid(), at most ENGINE_NAME_MAX - 1 bytes) that no command kind has (a note
 * cannot pass for a command); object 1..ENGINE_TARGET_MAX - 1 visible ASCII characters
 * (engine_visible_valid()); else CD_EINVAL. */

/* Where effects go: an ops table, so a test can collect them and a node can act on them. */
typedef void (*engine_emit_cb)(void *data, const struct engine_effect *fx);
struct engine_sink
{
    engine_emit_cb emit;
    void *data;
};

/* ---- State -------------------------------------------------------------------------- */

struct engine;

/* A new empty state: no model (version 0), no agents, no contacts, time 0. */
int engine_new(struct engine **out);
void engine_free(struct engine *e);

/* The only way the state changes. Advances the state's clock to max(clock, now_ms), fires
 * every deadline due by then, then executes cmd. res (may be NULL) receives the outcome;
 * sink (may be NULL) receives every effect in order. Returns res->code. The only error
 * that is not deterministic is CD_ENOMEM, after which the state must be discarded and
 * rebuilt from a snapshot and the log: the command may have been half applied (and some of
 * its effects emitted), so the state is unusable from then on. Every later engine_apply()
 * on it answers CD_ENOMEM and changes nothing, and engine_encode() refuses it; queries
 * stay memory-safe but may read the half-applied state, and engine_free() releases it all.
 * An allocation that fails without this outcome was absorbed: the state and effects are
 * exactly those of a run in which it succeeded. */
int engine_apply(struct engine *e,
                 const struct engine_command *cmd,
                 int64_t now_ms,
                 struct engine_result *res,
                 const struct engine_sink *sink);

/* Earliest pending deadline (ms), or INT64_MAX when none: the leader proposes a TICK then. */
int64_t engine_next_deadline(const struct engine *e);
int64_t engine_now(const struct engine *e);
uint32_t engine_model_version(const struct engine *e);

/* The archive of installed model versions, oldest first: the latest ENGINE_ARCHIVE_MAX
 * installs with their source text, who installed each, when, why and what changed. It is
 * replicated state: in snapshots and the digest like the rest. Strings are borrowed until
 * the next command or engine_free(). */
#define ENGINE_ARCHIVE_MAX 64
struct engine_archived
{
    uint32_t version;
    uint32_t rollback_of; /* 0, or the version this one restored */
    int64_t at;           /* the install's stamp */
    const char *actor, *comment, *diff, *source;
};
size_t engine_archive_count(const struct engine *e);
/* i from 0 (oldest kept) to engine_archive_count() - 1. Returns 0 or CD_ENOTFOUND. */
int engine_archive_get(const struct engine *e, size_t i, struct engine_archived *out);
/* The archived version v. Returns 0 or CD_ENOTFOUND (never installed, or no longer kept). */
int engine_archive_find(const struct engine *e, uint32_t version, struct engine_archived *out);
/* The installed model; NULL before the first install. Borrowed. */
const struct engine_model *engine_model(const struct engine *e);

/* Digest of the canonical encoding of the whole state: equal digests, equal states. 0 when
 * the encoding cannot be made (out of memory, or a state unusable after CD_ENOMEM). */
uint64_t engine_digest(const struct engine *e);
/* Versioned binary snapshot of the whole state, appended to out. Returns 0 or CD_ENOMEM:
 * memory ran out (out->err is set, what was appended is incomplete), or the state is
 * unusable after an engine_apply() that answered CD_ENOMEM (nothing is appended). */
int engine_encode(const struct engine *e, struct cd_buf *out);
/* Rebuilds a state from engine_encode() output. Returns 0, CD_ECORRUPT, CD_EVERSION or
 * CD_ENOMEM; *out is set only on success. */
int engine_decode(const void *data, size_t len, struct engine **out);

/* Full invariant check (O(size of state)), for tests and debug builds: capacity, offers,
 * indexes, queue order. Returns 0, CD_ECORRUPT with a description in err, or CD_ENOMEM
 * (nothing was checked; err is left as it was). */
int engine_check(const struct engine *e, char *err, size_t errlen);

#include "engine/query.h"

#include "engine/delivery.h"

#include "engine/principals.h"

/* ---- Codec of commands -------------------------------------------------------------- */

/* Appends the versioned binary form of cmd to out. Returns 0, CD_EINVAL (malformed
 * command) or CD_ENOMEM. */
int engine_command_encode(const struct engine_command *cmd, struct cd_buf *out);

/* Storage for what a decoded command points at beyond its input bytes (arrays, a model). */
struct engine_cmd_store
{
    void *blocks[8];
    size_t n_blocks;
    struct engine_model model;
};
void engine_cmd_store_init(struct engine_cmd_store *s);
void engine_cmd_store_close(struct engine_cmd_store *s);

/* Decodes one command. First releases whatever the store held, so one store can serve a
 * loop (the previous command's arrays are then gone). Strings in *cmd point into data
 * (which must outlive the command); a string encoded from NULL arrives as "". Arrays and
 * the model live in store. Returns 0, CD_ECORRUPT, CD_EVERSION (unknown format byte) or
 * CD_ENOMEM; on error *cmd and the store are left empty. */
int engine_command_decode(const void *data,
                          size_t len,
                          struct engine_command *cmd,
                          struct engine_cmd_store *store);

/* ---- Codec of effects -------------------------------------------------------------- */

/* Appends the binary form of fx (its history too) to out: the effect bus keeps effects so.
 * Returns 0 or CD_ENOMEM. */
int engine_effect_encode(const struct engine_effect *fx, struct cd_buf *out);
/* Decodes one effect from r. Strings point into r's bytes (a string encoded from NULL
 * arrives as ""); an ENDED effect's history is written to *h and fx->history points there.
 * Returns 0 or CD_ECORRUPT (*fx then zeroed). */
int engine_effect_decode(struct cd_reader *r,
                         struct engine_effect *fx,
                         struct engine_history *h);

/* Stable names for enums (API, logs, config); NULL for out-of-range values. Parsers return
 * -1 for an unknown name. */
const char *engine_channel_name(int c);
int engine_channel_parse(const char *s);
const char *engine_strategy_name(int s);
int engine_strategy_parse(const char *s);
/* "answered_abandoned", "offered", "short_excluded" */
const char *engine_sl_formula_name(int f);
int engine_sl_formula_parse(const char *s);
const char *engine_contact_state_name(int s);
const char *engine_agent_state_name(int s);
const char *engine_presence_name(int p);
const char *engine_cmd_name(int kind);
const char *engine_role_name(int role); /* "admin", "supervisor", "agent", ... */
int engine_role_parse(const char *s);
const char *engine_token_kind_name(int kind); /* "api", "session" */
int engine_token_kind_parse(const char *s);
const char *engine_side_name(int side); /* "customer", "agent" */
int engine_side_parse(const char *s);
const char *engine_field_type_name(int type); /* "text", "email", "phone", "select", ... */
int engine_field_type_parse(const char *s);
/* Effect kinds as the event feed, webhooks and subscriptions spell them ("offer", ...). */
const char *engine_effect_name(int kind);
int engine_effect_parse(const char *s);

/* The character set of the model's names (skills, queues, agents, rules, zones, hours,
 * members) and of the other identifiers clients hand in (attribute keys, reason codes,
 * idempotency keys, actors): ASCII letters, digits and the characters of
 * ENGINE_NAME_PUNCT. No spaces, quotes, control characters or non-ASCII bytes, so a name
 * reads the same in a path, a log line, YAML and JSON. */
#define ENGINE_NAME_PUNCT "-_./+:@"
#define ENGINE_NAME_CHARSET "letters, digits and - _ . / + : @"
/* True when s (NUL-terminated, not NULL) is 1..cap-1 bytes, all from that set. */
bool engine_name_valid(const char *s, size_t cap);
/* True when s (not NULL) is 1..cap-1 visible ASCII bytes (0x21..0x7e): no spaces or
 * control characters. A session key is such a string of at most ENGINE_SESSION_MAX - 1. */
bool engine_visible_valid(const char *s, size_t cap);
bool engine_session_valid(const char *s);

#endif
