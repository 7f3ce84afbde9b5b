/* contactctl's shared parts: talking to the cluster through any of its nodes, and printing
 * answers as tables or JSON. */
#ifndef CD_OPS_CONTACTCTL_CTL_H
#define CD_OPS_CONTACTCTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit codes, for scripts. */
#define CTL_OK 0
#define CTL_REFUSED 1     /* the cluster answered with an error (printed) */
#define CTL_USAGE 2       /* the command line is wrong */
#define CTL_UNREACHABLE 3 /* no node answered, or none had a leader */

#define CTL_ENDPOINTS_MAX 16
#define CTL_ADDR_MAX 300

struct hb_client;

struct ctl
{
    /* [https:// or http://]HOST:PORT; a bare one speaks TLS when a CA file was given */
    char endpoints[CTL_ENDPOINTS_MAX][CTL_ADDR_MAX];
    int n_endpoints;
    /* Borrowed, for the life of the ctl: the CAs a TLS node must prove itself with and the
     * bearer token sent on every request. NULL: plain HTTP only, no token. */
    struct hb_client *http;
    int current; /* the endpoint that answered last */
    bool json;   /* --output json */
    /* The request may be sent again to another node after one failed to answer it: true
     * for reads always, and for a change that carries its own idempotency key. */
    bool replay_safe;
};

/* Sends a request to the current endpoint, moving on to the next ones while a node cannot be
 * reached or answers 503 (no leader, or shutting down); a change that only the leader makes
 * (NOTLEADER) goes to the leader the node names. A change (any method but GET, unless
 * c->replay_safe) that a node may have received is never sent to another one: a node that
 * took it and then failed to answer, or answered 503 "may or may not have been applied",
 * leaves it unknown, and sending it again would turn a made change into a misleading
 * refusal (EXISTS); contactctl says so and stops. A node whose TLS certificate fails
 * verification saw nothing of the request: the next one is tried. body is sent as it is
 * (JSON or a model's YAML), may be NULL. On CTL_OK *out (when out is not NULL) holds the
 * parsed JSON answer, or NULL for an answer that is not JSON. Errors are printed (a 401 with
 * a hint on how to give a token). */
int ctl_call(struct ctl *c,
             const char *method,
             const char *path,
             const char *body,
             json_t **out);

/* GET path as ctl_call() does, keeping the answer's body as it came (CSV, say): *out is
 * NUL-terminated, for free(), on CTL_OK. */
int ctl_call_raw(struct ctl *c, const char *path, char **out);
/* The same for a body that may hold any byte (a PDF): *len is its length (the NUL after it
 * is not counted). */
int ctl_call_bytes(struct ctl *c, const char *path, char **out, size_t *len);

/* A path with printf-style arguments; each %s argument is percent-encoded. */
const char *ctl_path(char *buf, size_t len, const char *fmt, ...);

/* The file's contents, NUL-terminated (free()), or NULL with the error printed. */
char *ctl_read_file(const char *path);

/* A column: its title and where the value sits in each object ("today.waiting"). */
struct ctl_column
{
    const char *title;
    const char *path;
    bool time; /* ms since the epoch, shown as UTC date and time */
};

/* ms since the epoch as "2026-12-04 15:02:11Z" ("-" for 0). */
const char *ctl_time(long long ms, char *buf, size_t len);

/* Prints doc as indented JSON. */
void ctl_print_json(const json_t *doc);
/* Prints an array of objects as a table with the columns given. */
void ctl_table(const json_t *items, const struct ctl_column *cols, size_t n);
/* Prints one object as "Title: value" lines. */
void ctl_fields(const json_t *obj, const struct ctl_column *cols, size_t n);
/* The JSON answer as JSON (--output json), else as a table or fields. */
void ctl_show(const struct ctl *c,
              const json_t *doc,
              const struct ctl_column *cols,
              size_t n,
              bool table);
#define CTL_COLS(a) (a), (sizeof(a) / sizeof((a)[0]))

int ctl_usage(void);

/* GET path and show it (a table of its items, or fields). */
int ctl_get_show(struct ctl *c,
                 const char *path,
                 const struct ctl_column *cols,
                 size_t n,
                 bool table);
/* A change: sends body (a JSON object, taken; may be NULL) and prints done, or the JSON
 * answer with --output json. */
int ctl_change(struct ctl *c,
               const char *method,
               const char *path,
               json_t *body,
               const char *done);
/* NAME=VALUE pairs into an object: every argument from first on, or with option the values
 * of each `option NAME=VALUE`. Values are integers when as_int. NULL (printed) on a
 * malformed pair. */
json_t *ctl_pairs(int argc, char **argv, int first, const char *option, bool as_int);

/* The command groups; argv[0] is the group's first word after the group name. */
int ctl_cmd_status(struct ctl *c, int argc, char **argv);
int ctl_cmd_member(struct ctl *c, int argc, char **argv);
int ctl_cmd_leader(struct ctl *c, int argc, char **argv);
int ctl_cmd_model(struct ctl *c, int argc, char **argv);
int ctl_cmd_audit(struct ctl *c, int argc, char **argv);
int ctl_cmd_queue(struct ctl *c, int argc, char **argv);
int ctl_cmd_agent(struct ctl *c, int argc, char **argv);
int ctl_cmd_contact(struct ctl *c, int argc, char **argv);
int ctl_cmd_offer(struct ctl *c, int argc, char **argv);
int ctl_cmd_events(struct ctl *c, int argc, char **argv);
int ctl_cmd_history(struct ctl *c, int argc, char **argv);
int ctl_cmd_webhook(struct ctl *c, int argc, char **argv);
int ctl_cmd_token(struct ctl *c, int argc, char **argv);
int ctl_cmd_whoami(struct ctl *c, int argc, char **argv);
int ctl_cmd_privacy(struct ctl *c, int argc, char **argv);
int ctl_cmd_user(struct ctl *c, int argc, char **argv);
int ctl_cmd_report(struct ctl *c, int argc, char **argv);
int ctl_cmd_reportdef(struct ctl *c, int argc, char **argv);
int ctl_cmd_health(struct ctl *c, int argc, char **argv);
int ctl_cmd_fault(struct ctl *c, int argc, char **argv);
int ctl_cmd_drill(struct ctl *c, int argc, char **argv);
int ctl_cmd_runbook(struct ctl *c, int argc, char **argv);

/* Options after a command's words: "--name value"; returns the value or NULL. Marks the
 * options it consumed so that ctl_extra() can report the ones nobody asked for. */
const char *ctl_opt(int argc, char **argv, const char *name);
bool ctl_flag(int argc, char **argv, const char *name);
/* True (and says so, naming the command `what`) when an argument is neither a consumed
 * option nor one of the first n_words words. */
bool ctl_extra(int argc, char **argv, int n_words, const char *what);
/* Appends "&param=value" (value percent-encoded) to buf for each option opts[i][0] given
 * on the command line, param being opts[i][1]. */
void ctl_query(char *buf,
               size_t len,
               int argc,
               char **argv,
               const char *const (*opts)[2],
               size_t n);

#endif
