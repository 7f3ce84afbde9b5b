/* Private to adapters/api. */
#ifndef CD_API_INTERNAL_H
#define CD_API_INTERNAL_H

#include <jansson.h>

#include "adapters/api/api.h"
#include "engine/engine.h"

struct api__model_job;
struct api__kdf_job;

/* throttle.c: failed sign-ins of one user name, or from one client address, on this node.
 * A window opens at the first failure; once `limit` attempts (API__SIGNIN_USER_FAILURES a
 * name, API__SIGNIN_ADDR_FAILURES an address) have failed in it, that name or address is
 * refused until the window has passed. An attempt counts from its start (so that many at
 * once cannot slip through together); one that succeeds is taken back. A table holds at
 * most API__STRIKES_MAX entries; when full, the entry whose window began first makes
 * room. */
#define API__STRIKES_MAX 4096
#define API__STRIKE_WINDOW_MS (15 * 60 * 1000)
#define API__SIGNIN_USER_FAILURES 5
#define API__SIGNIN_ADDR_FAILURES 20
struct api__strike
{
    char key[ENGINE_NAME_MAX]; /* a user name, or an address as text */
    uint64_t since_ms;         /* loop time the window began */
    uint32_t count;            /* attempts that failed (or are still being checked) */
};
struct api__strikes
{
    struct api__strike e[API__STRIKES_MAX];
    size_t n;
};
/* How long (ms) key must wait before it may try again: 0 when it may now. */
uint64_t api__strikes_wait(struct api__strikes *t,
                           const char *key,
                           uint32_t limit,
                           uint64_t now);
/* Counts an attempt of key; takes one back; forgets key. */
void api__strikes_charge(struct api__strikes *t, const char *key, uint64_t now);
void api__strikes_refund(struct api__strikes *t, const char *key);
void api__strikes_clear(struct api__strikes *t, const char *key);
struct api__note;

struct api
{
    uv_loop_t *loop;
    struct cluster *cluster;
    struct http_server *server; /* for its own figures in /metrics; may be NULL */
    struct api__events *events;
    struct api__webhooks *webhooks;
    struct api__distrib *distrib;   /* distribute.c: scheduled reports, while leading */
    struct api__escalate *escalate; /* escalate.c: faults' notifications, while leading */
    struct api__drill *drill;       /* drill.c: the drill under way; NULL none */
    bool runbook_busy;              /* runbook.c: a runbook command is on its way */
    bool runbook_parsing; /* runbook.c: a run's model is being read in the thread pool */
    const struct config_node *reports; /* the node file (its reports section); borrowed */
    struct api__tokens *tokens;
    /* model.c: model documents read in the thread pool, one at a time, the rest waiting. */
    struct api__model_job *job_running, *jobs_head, *jobs_tail;
    unsigned jobs_waiting;
    /* kdf.c: password hashes in the thread pool, a few at a time, the rest waiting. */
    struct api__kdf_job *kdf_head, *kdf_tail;
    unsigned kdf_running, kdf_waiting;
    unsigned reports_running;     /* reports.c: reports being made in the thread pool */
    unsigned pdfs;                /* pdf.c: PDF prints reserved or under way */
    struct api__pdf *pdf_running; /* pdf.c: those whose Chromium runs */
    /* signin.c: failed sign-ins by user name and by client address. */
    struct api__strikes strikes_user, strikes_addr;
    struct api__note *notes; /* audit.c: membership changes whose note is on its way */
    /* cors.c: the node file's web_origins, and whether members' APIs are plain HTTP. */
    struct config_origin origins[CONFIG_WEB_ORIGINS_MAX];
    uint32_t n_origins;
    /* and its public_urls, which GET /v1/desk hands the desk */
    struct config_origin public_urls[CONFIG_PUBLIC_URLS_MAX];
    uint32_t n_public_urls;
    bool insecure;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
    /* api_set_signals(): how a desk's signals reach the customer's page. */
    int (*publish)(void *data, uint64_t contact, const char *json, size_t len);
    void *publish_data;
    /* api_set_local_health(): this node's own health measurements. */
    size_t (*local_health)(void *data, struct api_signal *out, size_t max);
    void *local_health_data;
};

/* A route: method, path pattern with "{kind}" for one segment, handler with the segments.
 * Before the handler runs, every segment is checked by its kind: {contact}, {offer} and
 * {version} are ids (api__u64_parse, from 1), also in ids[]; {agent}, {queue} and {member}
 * are names (engine_name_valid). */
#define API__ARGS_MAX 2

/* Who made a request (auth.c): the token or browser session it presented. */
struct api__principal
{
    bool known;   /* authenticated; false on the public routes */
    bool session; /* a user's browser session, not an API token */
    uint8_t role; /* enum engine_role */
    uint32_t token_id;
    char name[ENGINE_NAME_MAX];   /* the token's name, or the user's */
    char agent[ENGINE_NAME_MAX];  /* the agent it acts as; "" = none */
    char actor[ENGINE_ACTOR_MAX]; /* "token:NAME" or "user:NAME": every command's actor */
    int64_t expires_at;           /* the token's; 0 = never */
};

struct api__call
{
    struct api *api;
    struct http_exchange *x;
    const struct http_request *req;
    char args[API__ARGS_MAX][128];
    uint64_t ids[API__ARGS_MAX];
    struct api__principal who;
};

/* auth.c */
/* A token's text: "cdt_" and 43 base64url characters, with NUL. */
#define API__TOKEN_MAX 64
/* Finds the principal of the request's token or session cookie into call->who: OK. Answers
 * 401 UNAUTHENTICATED when there is none, it is expired, or (when final) this node's state
 * does not know it (never made, or revoked at an index this node has applied), and 403
 * FORBIDDEN for a session cookie on a request that changes something without the header
 * API__CSRF_HEADER: API__CSRF_VALUE (which a page of another site cannot send): REFUSED.
 * Not final, an unknown token is UNKNOWN, unanswered: a token made a moment ago may not have
 * reached this node yet. */
enum api__auth {
    API__AUTH_OK,
    API__AUTH_REFUSED,
    API__AUTH_UNKNOWN,
};
enum api__auth api__authenticate(struct api__call *call, bool final);
#define API__CSRF_HEADER "X-Requested-With"
#define API__CSRF_VALUE "contactd"
/* Whether the request carries API__CSRF_HEADER: API__CSRF_VALUE. */
bool api__csrf_header(const struct http_request *req);
#define API__SESSION_COOKIE "cd_session"
/* A new token from the system's random generator into out, and its SHA-256. Returns 0 or
 * CD_EIO. */
int api__token_new(char out[API__TOKEN_MAX], uint8_t hash[ENGINE_TOKEN_HASH_LEN]);
void api__token_hash(const char *token, uint8_t out[ENGINE_TOKEN_HASH_LEN]);
/* "admin", ...; and back (-1: none). */
const char *api__role_name(int role);
int api__role_parse(const char *s);

/* A query parameter a route takes. Names, text and booleans are checked before the handler
 * runs (names and text at most cap - 1 bytes); the handler checks the others (numbers,
 * enumerations). */
enum api__param_kind {
    API__Q_HANDLER,
    API__Q_NAME,
    API__Q_TEXT,
    API__Q_BOOL, /* true or false */
};
struct api__param
{
    const char *name;
    enum api__param_kind kind;
    size_t cap;
};
#define API__PARAMS_MAX 16 /* parameters of one route */

/* input.c */
/* A decimal number: digits only, no sign, spaces or leading zero ("0" itself is one), at
 * most UINT64_MAX. Returns 0 or -1. */
int api__u64_parse(const char *text, uint64_t *out);
/* UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without control
 * characters (C0, DEL, C1). */
bool api__text_valid(const char *s);
/* s checked as a name of at most cap - 1 bytes / as text; answers 400 naming what when
 * not. */
bool api__name_ok(struct api__call *call, const char *what, const char *s, size_t cap);
bool api__text_ok(struct api__call *call, const char *what, const char *s);
/* An optional numeric query parameter within [lo, hi] into *v (unchanged when absent);
 * answers 400 naming it when bad. */
bool api__query_u64(struct api__call *call,
                    const char *name,
                    uint64_t lo,
                    uint64_t hi,
                    uint64_t *v);
/* Refuses (400) a query parameter not in params (NULL-name-terminated; NULL = none), one
 * given twice, and a name or text parameter whose value is not one. */
bool api__query_check(struct api__call *call, const struct api__param *params);

/* errors.c */
int api__status_of(int code);
void api__fail(struct http_exchange *x, int code, const char *message);
void api__fail_result(struct http_exchange *x, const struct engine_result *res);
/* Parses the body as a JSON object whose members are all named in keys (NULL-terminated;
 * an endpoint that takes no fields passes {NULL}); every endpoint reads its body so. An
 * empty body is an empty object. Answers 400 and returns NULL for malformed JSON (PARSE),
 * a member named twice, something other than an object, or an unknown member (INVAL). */
json_t *api__body_with(struct api__call *call, const char *const *keys);
/* Reads an optional string member; NULL when absent; answers 400 and sets *bad when it is
 * not a string. Does nothing when *bad is already set. */
const char *api__opt_str(struct api__call *call, json_t *obj, const char *key, bool *bad);
/* The same for a name of at most cap - 1 bytes (engine_name_valid; "" reads as absent) /
 * for text. */
const char *api__opt_name(struct api__call *call,
                          json_t *obj,
                          const char *key,
                          size_t cap,
                          bool *bad);
const char *api__opt_text(struct api__call *call, json_t *obj, const char *key, bool *bad);
/* Overwrites the string member key of obj (a password) before releasing obj (may be
 * NULL): the parsed body's copy must not linger in freed memory. */
void api__body_wipe(json_t *obj, const char *key);
bool api__stale_ok(const struct http_request *req);
/* Runs cb(data, status) for a read: at once with status 0 when the query says
 * ?stale=true, else once a read barrier has passed (or failed: its status). When the
 * barrier cannot be started, frees data (malloc'd) and answers 503 instead. */
void api__read_fenced(struct api__call *call, void (*cb)(void *data, int status), void *data);

/* json.c */
json_t *api__contact_json(const struct engine_contact_info *c);
json_t *api__agent_json(const struct engine_agent_info *a);
/* A queue, with waiting_past (its contacts waiting longer than the target now) counted
 * against its live service level. */
json_t *api__queue_json(const struct engine_queue_info *q, uint32_t waiting_past);
/* engine_queues_waiting_past() at the node's clock, into a new array (NULL when out of
 * memory: then counted as none), by queue position. */
uint32_t *api__waiting_past(const struct engine *e);
struct storage_history;
json_t *api__history_json(const struct storage_history *h);
/* A contact's path (engine.h) as a JSON array of steps; the rule it names ("" = none); and
 * the explanation of a finished contact told from its history row and path (path.c). */
json_t *api__path_json(const void *data, size_t len);
const char *api__path_rule(const void *data, size_t len);
void api__path_explain(const struct storage_history *h,
                       const void *data,
                       size_t len,
                       char *buf,
                       size_t buflen);
/* The history row of a finished contact with its path (h->path pointing into path, which
 * is reset first). Returns 0, CD_ENOTFOUND, CD_ENOMEM, CD_EIO or CD_ECORRUPT. */
int api__history_with_path(struct api *a,
                           uint64_t id,
                           struct storage_history *h,
                           struct cd_buf *path);

/* cors.c: for a request under /v1/ from an allowed Origin, sets the CORS headers every
 * answer of it carries, or answers its preflight (OPTIONS with
 * Access-Control-Request-Method) 204; a preflight from another origin is answered 403
 * FORBIDDEN. Returns false when it answered. */
bool api__cors(struct api__call *call);

/* privacy.c: personal data (the attribute keys the model marks personal). */
#define API__MASKED "***"
/* True when the caller may see personal values: admin, supervisor, agent (which the routes
 * limit to its own contacts); false for reporter and integration. */
bool api__may_see_personal(const struct api__call *call);
/* Replaces the value of every personal key of attrs (a JSON object; anything else is left
 * alone) with API__MASKED, keeping the key. m may be NULL (no model: nothing is personal). */
void api__mask_personal(json_t *attrs, const struct engine_model *m);
/* The same for a contact as api__contact_json() made it, with the running model. */
void api__mask_contact(const struct api *a, json_t *contact);
/* The same for a history row as api__history_json() made it, and its notes (free text).
 * Message texts are masked where they are shown (chat.c). */
void api__mask_history(const struct api *a, json_t *row);
/* POST /v1/privacy/erase {"attr", "value"} and GET /v1/privacy/export?attr=&value=. */
void api__privacy_erase(struct api__call *call);
void api__privacy_export(struct api__call *call);

/* write.c: commands. */
void api__submit(struct api__call *call, const struct engine_command *cmd, int ok_status);
/* The same for a request whose principal is not at hand any more (a job's). */
void api__submit_as(struct api *a,
                    struct http_exchange *x,
                    const char *actor,
                    const struct engine_command *cmd,
                    int ok_status);
void api__contact_create(struct api__call *call);
/* An "attributes" object into out (at most ENGINE_ATTRS_MAX); answers 400 when bad. Strings
 * are borrowed from obj. */
bool api__read_attrs(struct api__call *call, json_t *obj, struct engine_attr *out, uint8_t *n);
void api__contact_action(struct api__call *call, int kind);
void api__contact_session(struct api__call *call, int kind); /* SESSION_MOVE, SESSION_END */
void api__offer_action(struct api__call *call, int kind);
void api__agent_action(struct api__call *call, int kind);
void api__queue_action(struct api__call *call, int kind);

/* model.c: the routing model's versions, diff and rollback. */
enum api__model_read {
    API__MODEL_RUNNING,
    API__MODEL_VERSIONS,
    API__MODEL_VERSION,
};
void api__model_install(struct api__call *call);
void api__model_validate(struct api__call *call);
void api__model_diff(struct api__call *call);
void api__model_rollback(struct api__call *call);
void api__model_read(struct api__call *call, int kind);
/* Answers the waiting model requests 503 (a->closing refuses new ones). */
void api__model_close(struct api *a);
/* routes.c: once the API is closing and none of its work is in the thread pool (a model
 * document, a password hash), fires api_close()'s callback (once). */
void api__close_settle(struct api *a);

/* manage.c: agents' definitions, transfers, attributes. */
void api__agent_put(struct api__call *call);
void api__agent_skills(struct api__call *call);
void api__agent_delete(struct api__call *call);
void api__contact_transfer(struct api__call *call);
void api__contact_attributes(struct api__call *call);

/* chat.c: chat messages, transcripts, wrap-up, one history row, the model's chat part and
 * the public pre-chat forms. */
void api__message_post(struct api__call *call);
void api__messages_get(struct api__call *call);
void api__wrapup_done(struct api__call *call);
void api__history_get(struct api__call *call);
/* Adds away_reasons, dispositions, disposition_required and chat to a model's JSON. */
void api__model_chat_json(const struct engine_model *m, json_t *j);
void api__chat_entries(struct api__call *call, int one);

/* read.c: barrier-fenced reads. */
enum api__read_kind {
    API__READ_CONTACT,
    API__READ_CONTACTS,
    API__READ_AGENT,
    API__READ_AGENTS,
    API__READ_QUEUE,
    API__READ_QUEUES,
    API__READ_HISTORY,
    API__READ_CHECK,
    API__READ_EXPLAIN,
};
void api__read(struct api__call *call, enum api__read_kind kind);

/* admin.c: cluster status, membership, health. */
void api__healthz(struct api__call *call);
void api__readyz(struct api__call *call);
void api__cluster_status(struct api__call *call);
void api__metrics(struct api__call *call);

/* health.c: GET /v1/health, the faults and what people on call do with them. */
void api__health(struct api__call *call);
/* POST /v1/health/signals: an outside monitor's signals. */
void api__health_signals(struct api__call *call);
void api__faults(struct api__call *call);
void api__fault_get(struct api__call *call);
void api__fault_action(struct api__call *call, int kind); /* FAULT_ACK, _NOTE, _CLOSE */
/* runbook.c: the runbooks' routes, and their runs carried out by the leader. */
void api__runbooks(struct api__call *call);
void api__runbook_runs(struct api__call *call);
void api__runbook_run_get(struct api__call *call);
void api__runbook_start(struct api__call *call);
void api__runbook_action(struct api__call *call, int kind); /* RUNBOOK_APPROVE, _END */
void api__runbook_simulate(struct api__call *call);
/* The leader's round (each second, from escalate.c's). */
void api__runbooks_tick(struct api *a);
/* model.c: models saved by name for runbooks. one: GET /v1/model/saved/{saved}. */
void api__model_save(struct api__call *call);
void api__model_saved(struct api__call *call, int one);
void api__model_forget(struct api__call *call);

/* drill.c: POST /v1/drill, a fault this node carries out on itself (one at a time);
 * api__drill_close() drops one not carried out yet. */
struct api__drill;
void api__drill(struct api__call *call);
void api__drill_close(struct api *a);
/* Removes a disk-full drill's reserve that a node stopped during the drill left behind. */
void api__drill_leftover(const struct config_node *cfg);
/* POST /v1/drills (a report kept), GET /v1/drills[/{drill}] (one: the second). */
void api__drill_record(struct api__call *call);
void api__drills(struct api__call *call, int one);

/* events.c: the long-poll feed of effects. */
struct api__events;
int api__events_new(struct api *a);
void api__events_free(struct api__events *ev);
void api__events(struct api__call *call);
/* desk.c: GET /v1/desk, GET /v1/contacts/{id}/earlier. */
void api__desk(struct api__call *call);
void api__earlier(struct api__call *call);
/* Closes the feeds' WebSockets; api__events_closed() once they all are. */
void api__events_close(struct api *a);
bool api__events_closed(const struct api *a);
/* An effect as the feed and webhooks show it: {"id": "INDEX.N", "kind", ...}. */
json_t *api__event_json(uint64_t index, uint32_t n, const struct engine_effect *fx);
/* The feed's text of event INDEX.N while it keeps it (borrowed until the next effect), or
 * NULL. */
const char *api__event_text(const struct api *a, uint64_t index, uint32_t n);

/* webhooks.c: the subscriptions' routes, and their delivery by the leader. */
struct api__webhooks;
/* escalate.c: faults' notifications along the model's escalation paths, by the leader. */
struct api__escalate;
int api__escalate_new(struct api *a);
void api__escalate_start(struct api__escalate *s);
void api__escalate_stop(struct api__escalate *s);
void api__escalate_free(struct api__escalate *s);
/* Notifications this node attempted while leading, by outcome, since it started. */
void api__escalate_stats(const struct api__escalate *s, uint64_t *sent, uint64_t *failed);

/* distribute.c: scheduled reports, delivered by the leader. */
struct api__distrib;
int api__distrib_new(struct api *a);
/* Starts the leader's round (once the cluster is set). */
void api__distrib_start(struct api__distrib *d);
void api__distrib_stop(struct api__distrib *d);
void api__distrib_free(struct api__distrib *d);
void api__distrib_stats(const struct api__distrib *d, uint64_t *delivered, uint64_t *failed);
/* "http://HOST[:PORT]/PATH" with HOST an IP literal ([v6] in brackets) into host, port and
 * path (pointing into url). False when url is not one. */
bool api__url_split(const char *url,
                    char *host,
                    size_t hostlen,
                    uint16_t *port,
                    const char **path);
int api__webhooks_new(struct api *a);
void api__webhooks_stop(struct api__webhooks *w);
void api__webhooks_free(struct api__webhooks *w);
void api__webhooks_stats(const struct api__webhooks *w, uint64_t *posted, uint64_t *failed);
void api__webhook_add(struct api__call *call);
void api__webhook_list(struct api__call *call);
void api__webhook_get(struct api__call *call);
void api__webhook_delete(struct api__call *call);
/* verifier.c: password verifiers (scrypt), what USER_SET keeps of a password. */
#define API__PASSWORD_MIN 12   /* characters */
#define API__PASSWORD_MAX 1024 /* bytes */
struct api__scrypt
{
    unsigned log2n; /* cost: N = 2^log2n */
    unsigned r;     /* block size */
    unsigned p;     /* parallelism */
};
/* What new verifiers use: N = 2^15, r = 8, p = 1 (32 MiB and about 0.1 s a hash). */
extern const struct api__scrypt API__SCRYPT;
/* A verifier "scrypt$LOG2N$R$P$SALT$HASH" for password (len bytes) into out, with salt (16
 * bytes; NULL: drawn from the system's random generator). Returns 0, CD_EINVAL (parameters
 * out of bounds), CD_EIO (no random bytes) or CD_ENOMEM (scrypt failed). */
int api__verifier_make(const char *password,
                       size_t len,
                       const struct api__scrypt *s,
                       const uint8_t *salt,
                       char out[ENGINE_VERIFIER_MAX]);
/* Whether password is the one verifier was made from: false too when verifier is not one
 * (malformed, or parameters past the bounds: log2n <= 20, r <= 16, p <= 4, 256 MiB).
 * Compares in constant time. */
bool api__verifier_matches(const char *password, size_t len, const char *verifier);
bool api__verifier_valid(const char *verifier);
/* A well-formed verifier of API__SCRYPT's cost that no known password matches. */
const char *api__verifier_dummy(void);
/* What is wrong with a new password: NULL when nothing; else the message of a 400. At
 * least API__PASSWORD_MIN characters, at most API__PASSWORD_MAX bytes, UTF-8 text without
 * control characters (no NUL). */
const char *api__password_problem(const char *password, size_t len);

/* kdf.c: a password's slow hash (verifier.c), made or checked in libuv's thread pool, off
 * the loop: at most API__KDF_RUNNING at once, so that the pool keeps threads for the other
 * work there, and API__KDF_WAITING more waiting in order. */
#define API__KDF_RUNNING 2
#define API__KDF_WAITING 32
struct api__kdf_job
{
    uv_work_t work;
    struct api *api;
    void (*run)(struct api__kdf_job *j); /* on a pool thread: touches the job only */
    /* On the loop, once, last: answers and frees the job. stopped: the node is shutting
     * down (run may not have run); answer 503. */
    void (*done)(struct api__kdf_job *j, bool stopped);
    struct api__kdf_job *next; /* while waiting */
};
/* Takes j (api, run and done set): runs it now, or after those waiting. Returns 0, or
 * CD_EUNAVAIL when API__KDF_WAITING wait already or the API is closing: j is then left to
 * the caller. */
int api__kdf_submit(struct api__kdf_job *j);
/* The waiting jobs' done(j, true), now. */
void api__kdf_close(struct api *a);

/* report_names.c: the words reports take. Each parse returns the index (the report
 * module's enum for intervals and groups) or -1. api__report_names() lists a word's values
 * for an error message. */
#define API__PERIOD_COUNT 12
#define API__FORMAT_COUNT 4 /* json, csv, html, pdf */
int api__report_interval_parse(const char *s);
int api__report_group_parse(const char *s);
int api__report_period_parse(const char *s);
int api__report_format_parse(const char *s);
int api__channel_parse(const char *s);
const char *api__report_interval_name(int i);
const char *api__report_group_name(int i);
const char *api__report_names(const char *what);
/* The centre's time zone (the model's defaults.zone), or NULL: UTC. */
const struct engine_zone *api__centre_zone(const struct engine_model *m);
/* A time: milliseconds since 1970; RFC 3339 with Z or an offset; or a local date or date
 * and time in zone z. False when s is none of these. */
bool api__report_time_parse(const char *s, const struct engine_zone *z, int64_t *out);
/* The period api__report_period_parse() named (which), as of now, in zone z. */
void api__report_period_range(int which,
                              const struct engine_zone *z,
                              int64_t now,
                              int64_t *from,
                              int64_t *to);
/* When a scheduled report is due, in the centre's time zone. */
enum api__schedule_kind { API__EVERY = 1, API__DAILY, API__WEEKLY, API__MONTHLY };
struct api__schedule
{
    uint8_t kind;
    uint16_t minutes; /* EVERY: 1, 5, 15, 30 or 60 */
    uint16_t minute;  /* DAILY, WEEKLY, MONTHLY: of the day */
    uint8_t day;      /* WEEKLY: 0 = Monday; MONTHLY: 1-28 */
};
/* "every 1m|5m|15m|30m|60m", "daily HH:MM", "weekly mon HH:MM", "monthly D HH:MM". 0 or -1.
 * (schedule.c) */
int api__schedule_parse(const char *s, struct api__schedule *out);
/* The latest slot of s at or before now (ms), in zone z (NULL: UTC): the scheduled moment
 * that is due. A moment a clock change skips comes as late after the change as the clock
 * was set forward (01:30 on a night clocks go from 01:00 to 02:00 is 02:30); one it repeats
 * comes the second time. */
int64_t api__schedule_slot(const struct api__schedule *s,
                           const struct engine_zone *z,
                           int64_t now);
/* Local seconds (as the zone's clock reads) to UTC seconds. */
int64_t api__local_to_utc(const struct engine_zone *z, int64_t local_s);

/* report_defs.c: report definitions (engine.h): reads, and the changes a supervisor makes. */
enum api__defs_read {
    API__DEFS_LIST,
    API__DEFS_ONE,
    API__DEFS_VERSIONS,
    API__DEFS_DIFF,
    API__DEFS_DELIVERIES
};
void api__report_def_read(struct api__call *call, int what);
void api__report_def_put(struct api__call *call);
void api__report_def_validate(struct api__call *call);
void api__report_def_rollback(struct api__call *call);
void api__report_def_delete(struct api__call *call);
/* The definition's version (0: current) as JSON (json_decref() it). Returns 0,
 * CD_ENOTFOUND or CD_ECORRUPT. */
int api__report_def_text(const struct engine *e,
                         const char *name,
                         uint32_t version,
                         json_t **out);

/* pdf.c: an HTML page printed to PDF by headless Chromium (the program at
 * $CONTACTD_CHROMIUM, or /usr/bin/chromium), at most API__PDF_RUNNING at once, each killed
 * after API__PDF_TIMEOUT_MS. */
#define API__PDF_RUNNING 2
#define API__PDF_TIMEOUT_MS 60000
struct api__pdf;
/* Called once, on the loop: status 0 with the PDF (taken: free() it), or an error code with
 * why (borrowed for the call): CD_ENOTFOUND (Chromium could not be started), CD_ETIMEDOUT,
 * CD_EUNAVAIL (the API is closing), CD_EIO (Chromium failed, or a temporary file did). */
typedef void (*api__pdf_cb)(void *data, int status, const char *why, char *pdf, size_t len);
const char *api__pdf_chromium(void);
/* Whether Chromium is there to run; when not, why says so, for an answer. */
bool api__pdf_ready(char *why, size_t len);
/* Takes one of the API__PDF_RUNNING places (false: all are taken, or the API is closing).
 * The place goes with the print to api__pdf_print(), or back with api__pdf_release(). */
bool api__pdf_reserve(struct api *a);
void api__pdf_release(struct api *a);
/* Prints html (len bytes; taken: the printer frees it) in a place reserved, calling cb
 * later. Returns 0, or CD_ENOMEM (cb is never called; html and the place stay the
 * caller's). */
int api__pdf_print(struct api *a, char *html, size_t len, api__pdf_cb cb, void *data);
/* At api_close(): kills every Chromium still printing; their callbacks follow. */
void api__pdf_close(struct api *a);

/* reports.c: GET /v1/reports and GET /v1/reports/contacts (drill-down). */
/* A report made for the node itself: status 0 with the body (taken: free() it) and its
 * content type, or a CD_E* code with why (borrowed for the call). Called once, on the loop,
 * after api__report_make() returned 0. */
typedef void (*api__report_done)(void *data,
                                 int status,
                                 const char *why,
                                 const char *ctype,
                                 char *body,
                                 size_t len);
/* Makes the report definition def (borrowed) defines, as of now (ms: its period is the one
 * before now, as if asked then; or [from, now) when from is not 0), in format (an
 * api__report_format_parse() value). Returns
 * 0 (done follows), CD_EINVAL (def is not a report) or CD_ENOMEM. Reads the node's state
 * as it is (no read barrier): the leader calls it. */
int api__report_make(struct api *a,
                     json_t *def,
                     int64_t now,
                     int64_t from,
                     int format,
                     api__report_done done,
                     void *data);
void api__report(struct api__call *call);
void api__report_contacts(struct api__call *call);

/* users.c: users who sign in with a password (admin). */
void api__user_put(struct api__call *call);
void api__user_list(struct api__call *call);
void api__user_get(struct api__call *call);
void api__user_delete(struct api__call *call);

/* signin.c: browser sessions: sign in, who is signed in, sign out. */
void api__signin(struct api__call *call);
void api__session_get(struct api__call *call);
void api__signout(struct api__call *call);

/* tokens.c: API tokens, and the first admin token the leader makes. */
struct api__tokens;
int api__tokens_new(struct api *a);
void api__tokens_stop(struct api__tokens *t);
void api__tokens_free(struct api__tokens *t);
void api__token_create(struct api__call *call);
void api__token_list(struct api__call *call);
void api__token_revoke(struct api__call *call);
void api__whoami(struct api__call *call);
void api__member_add(struct api__call *call);
void api__member_remove(struct api__call *call);
void api__leader_transfer(struct api__call *call);

/* audit.c: GET /v1/audit, and the notes of changes made outside the engine. */
void api__audit(struct api__call *call);
/* A change outside the engine (action, on object, by actor) has succeeded: proposes its
 * AUDIT_NOTE, retrying for a few seconds while no leader takes it, then answers x 200
 * {"ok": true, "message": message, "audited": true|false}. Copies the strings. */
void api__audit_note(struct api *a,
                     struct http_exchange *x,
                     const char *actor,
                     const char *action,
                     const char *object,
                     const char *message);
/* At close (a->closing set): answers the notes waiting to try again; those in flight are
 * answered when the cluster answers them. */
void api__notes_stop(struct api *a);

#endif
