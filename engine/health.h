/* Health, faults and the routing model's continuity part: part of the engine's public
 * interface. engine.h includes it after its limits: include engine/engine.h, not this.
 *
 * Health signals. The cluster's view of its own health is replicated state: a table of
 * signals, each a name ("cluster.quorum", "member.n2.reachable", "node.n1.disk_free"), a
 * state (ok, warn, bad), the value measured when it was last set, and since when it has
 * been in its state. The engine measures nothing: the leader measures (and gathers what the
 * other members measure) and proposes HEALTH with the signals whose state changed, so
 * every node holds the same view and decides the same faults at the same log index.
 *
 * HEALTH (signals[1..ENGINE_HEALTH_BATCH]): each entry sets its signal, in order; state GONE
 * forgets it (a member removed). since: when the signal entered that state, 0 for the
 * command's time, else at most the state's clock (a past outage reported once a leader is
 * back: "quorum lost since T"). A signal set to the state it has keeps its since and takes
 * the new value. Malformed entries (a name that is not a name, a state out of range, a
 * since in the future or negative, a name twice) are CD_EINVAL, and a command that would
 * hold more than ENGINE_SIGNALS_MAX signals CD_ETOOBIG; either changes nothing.
 *
 * Faults. A signal that enters a state the fault policy names opens a fault: id (1, 2,
 * ... from a counter in the state), kind, component, severity, the signal, opened (the
 * signal's since). The policy (engine_fault_policy(): the built-in rules; the model's
 * continuity section will come before them) is an ordered list of (signal pattern, state,
 * kind, severity); the first rule whose pattern and state match wins; a '*' segment matches
 * any one segment. A signal holds at most one open fault: a change between warn and bad
 * that changes the severity is logged in it; a return to ok (or GONE) closes it
 * ("recovered", at the signal's since). The component is "cluster" for cluster.*,
 * "node:ID" for member.ID.* and node.ID.*, else the signal's first segment.
 *
 * FAULT_ACK (id, text): someone on call has seen it (acked, acked_by = the actor; text,
 * if any, goes into the log). Acknowledging one already acknowledged changes nothing
 * (existing = true). FAULT_NOTE (id, text): a line in its log (1..ENGINE_FAULT_TEXT_MAX-1
 * bytes; a log holds at most ENGINE_FAULT_LOG_MAX lines: CD_ETOOBIG past it). FAULT_CLOSE
 * (id, text): closed by hand, by the actor; its signal keeps its state, and opens a new
 * fault only after it has been ok again (a change between warn and bad opens none). ACK and
 * CLOSE of a closed fault are CD_ESTATE; an unknown id CD_ENOTFOUND; a full log refuses
 * only notes (an ACK or CLOSE still takes effect, without its line). Each of the three is
 * audited (object: the fault's id).
 *
 * Escalation (the model's continuity part, engine.h): while a fault is open and nobody has
 * acknowledged it, the leader opens each level of each path that takes it once it is due
 * (FAULT_ESCALATE: id, path, level; the fault's opened + the level's after_s has passed; a
 * level opened already is CD_EEXISTS, an acknowledged or closed fault CD_ESTATE, a path
 * the model does not have or that does not take the fault CD_EINVAL). That makes one
 * pending notification per address of the level, with the address copied (a later model
 * keeps it meaningful). The leader sends each pending one whose retry_at has passed, with
 * an idempotency key made of the fault, path, level and target, and records the outcome
 * (FAULT_NOTIFIED: id, path, level, target, ok, text, retry_at): sent; or failed, to try
 * again at retry_at, until the tenth failure gives it up. Acknowledging or closing the fault
 * (by hand, or by its signal's recovery) cancels the ones not sent yet: somebody has it, or
 * there is nothing left to say (one already on its way is still recorded as sent if it went;
 * a failure of a cancelled one changes nothing). A notification sent or given up is CD_ESTATE:
 * a new leader that sends one again cannot record it twice. Sent and given-up notifications are
 * logged in the fault.
 *
 * The state keeps every open fault and the ENGINE_FAULTS_KEPT closed last (ids are never
 * reused). The signal limit counts names new to the state, whatever else the command
 * forgets. Signals and faults are in snapshots and in the digest. */
#ifndef CD_ENGINE_HEALTH_H
#define CD_ENGINE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;

#define ENGINE_SIGNALS_MAX 512    /* signals the state holds */
#define ENGINE_HEALTH_BATCH 64    /* signals one HEALTH sets */
#define ENGINE_FAULTS_KEPT 256    /* closed faults kept, the newest */
#define ENGINE_FAULT_LOG_MAX 64   /* lines of one fault's log */
#define ENGINE_FAULT_TEXT_MAX 256 /* one line's text (with NUL) */

enum engine_signal_state {
    ENGINE_SIGNAL_OK = 0,
    ENGINE_SIGNAL_WARN,
    ENGINE_SIGNAL_BAD,
    ENGINE_SIGNAL_GONE, /* HEALTH only: forget the signal */
};
enum engine_severity { ENGINE_SEVERITY_MINOR = 1, ENGINE_SEVERITY_MAJOR };

/* One health signal as HEALTH sets it (above). */
struct engine_signal_set
{
    const char *name; /* a name (engine_name_valid, ENGINE_NAME_MAX): "member.n2.reachable" */
    uint8_t state;    /* enum engine_signal_state */
    int64_t value;    /* what was measured (its unit is the signal's) */
    int64_t since;    /* when it entered this state (ms); 0 = the command's time */
};

/* Continuity (docs/continuity.md): fault rules the model sets before the built-in policy
 * (engine/health.h), and the escalation paths a fault's notifications follow. */
#define ENGINE_FAULT_RULES_MAX 32
#define ENGINE_ESCALATIONS_MAX 8
#define ENGINE_LEVELS_MAX 4     /* levels of one path */
#define ENGINE_NOTIFY_MAX 4     /* whom one level notifies */
#define ENGINE_COMPONENTS_MAX 4 /* component patterns of one path */
#define ENGINE_ADDRESS_MAX 256  /* a webhook's URL or an email address (with NUL) */

enum engine_notify_kind {
    ENGINE_NOTIFY_WEBHOOK = 0,
    ENGINE_NOTIFY_EMAIL,
    ENGINE_NOTIFY_KIND_COUNT
};

struct engine_fault_rule_def
{
    char signal[ENGINE_NAME_MAX]; /* a pattern: dotted segments, '*' for any one */
    uint8_t state;                /* enum engine_signal_state: WARN or BAD */
    char kind[ENGINE_NAME_MAX];   /* a name; "" = the signal's name */
    uint8_t severity;             /* enum engine_severity */
};

struct engine_notify_to
{
    uint8_t kind;                     /* enum engine_notify_kind */
    char address[ENGINE_ADDRESS_MAX]; /* http://IP:PORT/PATH, or an email address */
};

struct engine_escalation_level
{
    uint32_t after_s; /* after the fault opened, while nobody has acknowledged it */
    uint8_t n_to;     /* 1..ENGINE_NOTIFY_MAX */
    struct engine_notify_to to[ENGINE_NOTIFY_MAX];
};

/* A path: the faults it takes (their severities, and optionally their components by
 * pattern: '*' matches any run of characters, "node:*"), and its levels, ascending in
 * after_s. A vendor's support is a path with the components the vendor supports. */
struct engine_escalation_path
{
    char name[ENGINE_NAME_MAX];
    uint8_t severities; /* bit (1u << enum engine_severity) for each it takes; not 0 */
    uint8_t n_components;
    char components[ENGINE_COMPONENTS_MAX][ENGINE_NAME_MAX + 8];
    uint8_t n_levels; /* 1..ENGINE_LEVELS_MAX */
    struct engine_escalation_level levels[ENGINE_LEVELS_MAX];
};

struct engine_signal_info
{
    const char *name;
    uint8_t state; /* ok, warn or bad */
    int64_t value;
    int64_t since;
    uint32_t fault; /* the open fault it holds; 0 none */
};

size_t engine_signal_count(const struct engine *e);
/* In name order. Strings borrowed until the next command. Returns 0 or CD_ENOTFOUND. */
int engine_signal_at(const struct engine *e, size_t i, struct engine_signal_info *out);
int engine_signal_find(const struct engine *e,
                       const char *name,
                       struct engine_signal_info *out);

struct engine_fault_info
{
    uint32_t id;
    uint8_t severity; /* enum engine_severity */
    const char *kind;
    const char *component;
    const char *signal; /* "" for none */
    int64_t opened;
    int64_t closed; /* 0 while open */
    int64_t acked;  /* 0 until acknowledged */
    const char *acked_by;
    const char *closed_by; /* "" when it recovered, or is open */
    uint32_t n_log;
    uint32_t n_notices;
};

enum engine_notice_state {
    ENGINE_NOTICE_PENDING = 0,
    ENGINE_NOTICE_SENT,
    ENGINE_NOTICE_GIVEN_UP,
    ENGINE_NOTICE_CANCELLED, /* the fault was acknowledged or closed before it went */
};

struct engine_fault_notice
{
    const char *path;
    uint8_t level, target;
    uint8_t kind; /* enum engine_notify_kind */
    const char *address;
    uint8_t state; /* enum engine_notice_state */
    uint8_t attempts;
    int64_t opened, retry_at, at;
    const char *text; /* the last attempt's receipt or failure; "" before the first */
};
/* The fault's notifications in the order their levels opened. Returns 0 or CD_ENOTFOUND. */
int engine_fault_notice(const struct engine *e,
                        uint32_t id,
                        uint32_t i,
                        struct engine_fault_notice *out);
/* "pending", "sent", "given_up", "cancelled" */
const char *engine_notice_state_name(int state);
/* True when the path takes the fault (its severity, and one of its component patterns,
 * if it has any). */
bool engine_escalation_takes(const struct engine_escalation_path *p,
                             const struct engine_fault_info *f);
/* Glob: '*' matches any run of characters. */
bool engine_component_match(const char *pattern, const char *s);

struct engine_fault_line
{
    int64_t at;
    const char *actor; /* "" for the node itself */
    const char *what;  /* opened, severity, acked, note, recovered, closed */
    const char *text;
};

size_t engine_fault_count(const struct engine *e); /* open and kept closed ones */
size_t engine_fault_open_count(const struct engine *e, int severity); /* 0: any severity */
/* In id order. Strings borrowed until the next command. Returns 0 or CD_ENOTFOUND. */
int engine_fault_at(const struct engine *e, size_t i, struct engine_fault_info *out);
int engine_fault_get(const struct engine *e, uint32_t id, struct engine_fault_info *out);
int engine_fault_log(const struct engine *e,
                     uint32_t id,
                     uint32_t i,
                     struct engine_fault_line *out);

/* The built-in fault policy: rules in order, the first match wins; the model's rules
 * (engine.h, "Continuity") come before them. */
struct engine_fault_rule
{
    const char *signal; /* a pattern: segments separated by '.', '*' matches one */
    uint8_t state;      /* WARN or BAD */
    const char *kind;   /* NULL: the signal's name */
    uint8_t severity;
};
size_t engine_fault_policy(const struct engine *e, const struct engine_fault_rule **rules);
/* True when p (NUL within ENGINE_NAME_MAX) is dotted segments, each a name or '*'. */
bool engine_signal_pattern_valid(const char *p);
/* True when the pattern matches the signal's name. */
bool engine_signal_match(const char *pattern, const char *name);

const char *engine_signal_state_name(int state); /* "ok", "warn", "bad", "gone" */
int engine_signal_state_parse(const char *s);
const char *engine_severity_name(int severity); /* "minor", "major" */

/* Runbooks (docs/continuity.md, "Runbooks"). A runbook in the model is a trigger and
 * ordered actions. A trigger on signals holds while a signal its pattern matches has been in
 * the trigger's state or worse (warn: warn or bad; bad: bad) for at least for_s; it has
 * cleared once every signal the pattern matches has been better than that state for at least
 * clear_s (or none is left): the hysteresis that keeps a flapping signal from running it
 * again and again. A trigger on faults holds for a fault whose kind its pattern matches
 * ('*' any run of characters), of its severity or worse, that has lasted for_s (open, or
 * from opened to closed: a quorum loss is only on record once it is over), opened in the
 * last hour and not the cause of a run of the runbook already; that run's trigger clears
 * once the fault has been closed for clear_s. Its run's signal reads "fault:ID".
 *
 * RUNBOOK_RUN (name, signal): a run of the runbook, with a copy of its definition (its
 * recovery and reverts do not depend on the model that comes next: a contingency model
 * need not hold the runbook that installed it). From the leader (no actor) the trigger must
 * hold now on the signal it names; by hand (an actor) it runs whatever the signals say.
 * Refused (CD_EEXISTS) while a run of the runbook is awaiting approval or active, and
 * (CD_ECAPACITY) when max_per_hour runs of it started in the last hour. With approval it
 * waits for RUNBOOK_APPROVE (a supervisor's); else its actions are carried out at once, in
 * order, in this same command, so a failover cannot split them:
 *   pause / resume QUEUE: the queue pauses or resumes (already so: skipped, and left alone
 *     by the revert);
 *   fault KIND SEVERITY: opens a fault of component "runbook:NAME"; the escalation paths
 *     that take it notify the people on call (this is how a runbook notifies);
 *   model SAVED: the saved model (MODEL_SAVE) is to be installed: the step is pending until
 *     the leader, which parses its text, gives it with RUNBOOK_MODEL.
 * RUNBOOK_END (run, text): the trigger has cleared (the leader: it must have), or someone
 * ends it by hand. An awaiting run ends without acting; an active one that reverts undoes
 * its steps in reverse order (resumes what it paused, pauses what it resumed, closes its
 * fault; the model step becomes pending again, for the leader to put the version before
 * back, unless a version other than the one it installed is running: an admin has changed
 * the model since, and that stands). Without revert, the steps stand; its fault closes.
 * RUNBOOK_MODEL (run, version, model, ok, text): the leader installs the model step's
 * model (the saved one, or on revert the version before, as rollback_of) as `version`, or
 * says why it could not (ok false: the step fails). A step not pending is CD_ESTATE: a new
 * leader that gives it again cannot install it twice. The install is archived with the
 * saved model's text (or the version's it restores) and actor "runbook:NAME".
 * MODEL_SAVE (name, text, comment) keeps a model's text by name for runbooks to install
 * (the edge has parsed and validated it; at most ENGINE_SAVED_MAX, CD_ECAPACITY past it);
 * MODEL_FORGET (name) drops it (CD_ESTATE while the installed model's runbooks name it).
 * Every one of these is audited. The state keeps every open run and the ENGINE_RUNS_KEPT
 * ended last; runs and saved models are in snapshots and in the digest. */
#define ENGINE_RUNBOOKS_MAX 16
#define ENGINE_ACTIONS_MAX 8
#define ENGINE_RUNS_KEPT 64
#define ENGINE_SAVED_MAX 8
#define ENGINE_SAVED_TEXT_MAX (1024 * 1024)
#define ENGINE_STEP_NOTE_MAX 96

enum engine_runbook_do {
    ENGINE_DO_MODEL = 0,
    ENGINE_DO_PAUSE,
    ENGINE_DO_RESUME,
    ENGINE_DO_FAULT,
    ENGINE_DO_COUNT
};

struct engine_runbook_action
{
    uint8_t kind;              /* enum engine_runbook_do */
    uint8_t severity;          /* FAULT: enum engine_severity */
    char arg[ENGINE_NAME_MAX]; /* MODEL: a saved model; PAUSE, RESUME: a queue; FAULT: kind */
};

enum engine_trigger_on { ENGINE_ON_SIGNAL = 0, ENGINE_ON_FAULT };

struct engine_runbook_def
{
    char name[ENGINE_NAME_MAX];
    uint8_t on; /* enum engine_trigger_on */
    /* SIGNAL: a signal pattern (engine_signal_pattern_valid); FAULT: a kind pattern (a name,
     * '*' for any run of characters) */
    char signal[ENGINE_NAME_MAX];
    uint8_t state;    /* SIGNAL: WARN (warn or bad) or BAD */
    uint8_t severity; /* FAULT: MINOR (any) or MAJOR */
    uint32_t for_s, clear_s;
    uint8_t max_per_hour; /* 1..60 */
    bool approval, revert;
    uint8_t n_actions; /* 1..ENGINE_ACTIONS_MAX */
    struct engine_runbook_action actions[ENGINE_ACTIONS_MAX];
};

enum engine_run_state {
    ENGINE_RUN_AWAITING = 0, /* approval */
    ENGINE_RUN_ACTIVE,
    ENGINE_RUN_ENDED,
};

enum engine_step_state {
    ENGINE_STEP_WAITING = 0, /* not started: the run awaits approval */
    ENGINE_STEP_PENDING,     /* model: the leader installs it */
    ENGINE_STEP_DONE,
    ENGINE_STEP_SKIPPED, /* nothing to do (the queue was so already) */
    ENGINE_STEP_FAILED,
    ENGINE_STEP_REVERTING, /* model: the leader puts the version before back */
    ENGINE_STEP_REVERTED,
    ENGINE_STEP_KEPT, /* not undone: the run does not revert, or the model changed since */
    ENGINE_STEP_STATE_COUNT
};

struct engine_run_info
{
    uint32_t id;
    uint8_t state; /* enum engine_run_state */
    const char *runbook;
    const char *signal;                /* what triggered it; "" when run by hand */
    const char *actor;                 /* who ran it by hand; "" for the leader */
    const char *approved_by;           /* "" without approval */
    const char *ended_by;              /* "" for the leader (the trigger cleared) */
    const char *why;                   /* why it ended; "" */
    int64_t triggered, started, ended; /* started: its actions ran (0 while awaiting) */
    uint32_t model_before, model_installed, fault;
    const struct engine_runbook_def *def; /* its copy */
    uint8_t steps[ENGINE_ACTIONS_MAX];    /* enum engine_step_state */
    const char *notes[ENGINE_ACTIONS_MAX];
};

size_t engine_run_count(const struct engine *e);
/* In id order (ended ones kept first, then open); strings borrowed until the next command. */
int engine_run_at(const struct engine *e, size_t i, struct engine_run_info *out);
int engine_run_get(const struct engine *e, uint32_t id, struct engine_run_info *out);
/* The runbook's run awaiting approval or active, 0 when none. */
uint32_t engine_run_open(const struct engine *e, const char *runbook);
/* Runs of the runbook started in the hour before now (ms). */
uint32_t engine_runs_in_hour(const struct engine *e, const char *runbook, int64_t now);
/* True when the trigger holds at now: *signal (may be NULL) is the first signal (in name
 * order) that makes it hold, or "fault:ID" (in buf, of ENGINE_NAME_MAX bytes) for the
 * fault. */
bool engine_runbook_holds(const struct engine *e,
                          const struct engine_runbook_def *d,
                          int64_t now,
                          const char **signal,
                          char *buf);
/* Whether the trigger of the run has cleared at now (its fault's, or its signals'): the
 * leader then ends it. Never for a run by hand, which ends by hand. */
bool engine_run_cleared(const struct engine *e, const struct engine_run_info *r, int64_t now);
/* The trigger alone: would a signal of this name, in this state for held_ms, hold it? Or
 * (fault true) a fault of this kind, of severity `state`, lasting held_ms? (contactctl
 * runbook simulate) */
bool engine_runbook_fires(const struct engine_runbook_def *d,
                          bool fault,
                          const char *name,
                          int state,
                          int64_t held_ms);
const struct engine_runbook_def *engine_runbook_find(const struct engine *e, const char *name);
const char *engine_runbook_do_name(int kind); /* "model", "pause", "resume", "fault" */
int engine_runbook_do_parse(const char *s);
const char *engine_run_state_name(int state); /* "awaiting", "active", "ended" */
const char *engine_step_state_name(int state);

/* Drill reports (docs/continuity.md, "Drills"): DRILL_RECORD (text) keeps a drill's report
 * as its client wrote it (JSON; the engine keeps it as text, 1..ENGINE_DRILL_TEXT_MAX-1
 * bytes), with who and when; result.contact is its id. The ENGINE_DRILLS_KEPT latest are
 * kept, in snapshots and the digest; audited. */
#define ENGINE_DRILLS_KEPT 32
#define ENGINE_DRILL_TEXT_MAX (64 * 1024)

struct engine_drill_info
{
    uint32_t id;
    int64_t at;
    const char *actor, *text;
};
size_t engine_drill_count(const struct engine *e);
int engine_drill_at(const struct engine *e, size_t i, struct engine_drill_info *out);
int engine_drill_get(const struct engine *e, uint32_t id, struct engine_drill_info *out);

struct engine_saved_info
{
    const char *name, *source, *comment, *actor;
    int64_t at;
};
size_t engine_saved_count(const struct engine *e);
int engine_saved_at(const struct engine *e, size_t i, struct engine_saved_info *out);
int engine_saved_find(const struct engine *e, const char *name, struct engine_saved_info *out);

#endif
