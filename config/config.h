/* config: YAML configuration of a contactd node and of its routing model.
 *
 * Two documents configure a node (docs/config.md is the schema reference):
 *   - the node file: who this node is, where it listens, its peers, its data directory,
 *     the cluster secret, TLS material and log level (struct config_node);
 *   - the routing model: skills, business hours, queues, agents, routing rules and
 *     runbooks (struct config_model), validated and turned into the struct engine_model
 *     that the engine installs.
 *
 * Every function that reads a document reports the first problem it finds as one line
 * "FILE:LINE:COLUMN: message" in the caller's err buffer (always NUL-terminated, truncated
 * to errlen), e.g.
 *     model.yaml:12:7: queue 'sales': unknown key 'stratgy' (expected one of: ...)
 * LINE and COLUMN are 1-based and point at the offending key or value. Problems that have
 * no position (an unreadable file) read "FILE: message".
 *
 * Time zones are resolved here, from the system's tzdata, into transition tables inside
 * the model, so the engine computes local time without I/O. The zoneinfo directory is
 * /usr/share/zoneinfo, or the directory named by the environment variable
 * CONTACTD_ZONEINFO when it is set (tests use this).
 *
 * On error every function leaves its out-parameter unchanged.
 *
 * Every function here is reentrant: no static buffers, no non-reentrant C library calls,
 * files read with plain read(2). Documents may be parsed on several threads at once (the
 * API parses request bodies in libuv's thread pool), provided nobody changes the
 * environment (CONTACTD_ZONEINFO) meanwhile.
 */
#ifndef CD_CONFIG_H
#define CD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

/* ---- Document limits ---------------------------------------------------------------- */

/* What one document may hold. A longer, larger or deeper one is refused with
 * "FILE:LINE:COLUMN: document too large: more than N bytes", "... more than N nodes
 * (...)" or "nesting deeper than N levels", at the point where it crosses the limit.
 * Nodes are scalars (mapping keys included) and collections, aliases counted as expanded.
 * Reading a document costs time and memory linear in its size. */
#define CONFIG_MODEL_BYTES_MAX (4u << 20)
#define CONFIG_MODEL_NODES_MAX 1000000u
#define CONFIG_MODEL_DEPTH_MAX 32u
#define CONFIG_NODE_BYTES_MAX (64u << 10)
#define CONFIG_NODE_NODES_MAX 10000u
#define CONFIG_NODE_DEPTH_MAX 16u

/* ---- Node file ---------------------------------------------------------------------- */

#define CONFIG_HOST_MAX 256 /* host part of an address (with NUL) */
#define CONFIG_PATH_MAX 4096
#define CONFIG_PEERS_MAX 16
#define CONFIG_SECRET_MIN 32   /* bytes of the cluster secret, at least */
#define CONFIG_SECRET_MAX 1024 /* and at most */

enum config_log_level {
    CONFIG_LOG_DEBUG = 0,
    CONFIG_LOG_INFO,
    CONFIG_LOG_WARN,
    CONFIG_LOG_ERROR,
};

/* "host:port" or "[ipv6]:port"; host is stored without brackets. */
struct config_addr
{
    char host[CONFIG_HOST_MAX];
    uint16_t port; /* 1..65535 */
};

struct config_peer
{
    char id[ENGINE_NAME_MAX];
    struct config_addr raft; /* where the other nodes reach this peer's Raft endpoint */
    struct config_addr api;  /* where clients reach its HTTP API */
    struct config_addr peer; /* where members reach its peer channel (forwarding, failover) */
};

struct config_tls
{
    char cert[CONFIG_PATH_MAX];
    char key[CONFIG_PATH_MAX];
    char ca[CONFIG_PATH_MAX];
};

/* Raft tuning; every field has a default (docs/config.md). */
struct config_raft
{
    uint32_t election_timeout_ms; /* default 1000 */
    uint32_t heartbeat_ms;        /* default 100 */
    uint32_t snapshot_threshold;  /* the fewest entries between snapshots; default 4096 */
    uint32_t snapshot_trailing;   /* entries kept behind a snapshot; default 2048 */
    bool pre_vote;                /* default true */
    bool fast_failover;           /* default true; acts only with pre_vote */
    bool snapshot_growth;         /* default true: more entries while the state is large */
};

#define CONFIG_WEB_ORIGINS_MAX 16
#define CONFIG_PUBLIC_URLS_MAX 8

/* A web origin (RFC 6454) as a browser's Origin header names it: scheme, host, port. */
struct config_origin
{
    bool https;                 /* else http */
    char host[CONFIG_HOST_MAX]; /* lower case; an IPv6 literal without its brackets */
    uint16_t port;              /* the scheme's default (443, 80) when the text names none */
};

/* Reads "https://HOST[:PORT]" or "http://HOST[:PORT]" into *out: HOST a DNS name, an IPv4
 * literal or a bracketed IPv6 literal, scheme and host without regard to case; no user,
 * path (a trailing '/' is one), query or fragment. Returns true, or false with out
 * unchanged. */
bool config_origin_parse(const char *text, struct config_origin *out);
/* Whether a and b are the same origin. */
bool config_origin_equal(const struct config_origin *a, const struct config_origin *b);
/* The origin as text, "https://HOST[:PORT]" (the port left out when it is the scheme's
 * default; an IPv6 host in brackets), into buf of len bytes. */
void config_origin_text(const struct config_origin *o, char *buf, size_t len);

/* Plain data: no pointers, nothing to free. */
struct config_node
{
    char id[ENGINE_NAME_MAX];
    struct config_addr api_listen;
    struct config_addr raft_listen;
    struct config_addr peer_listen; /* the peer channel: members only (docs/config.md) */
    char data_dir[CONFIG_PATH_MAX];
    uint32_t n_peers; /* every member of the cluster, this node included */
    struct config_peer peers[CONFIG_PEERS_MAX];
    bool has_tls;
    struct config_tls tls;
    uint8_t log_level; /* enum config_log_level; default INFO */
    bool join;         /* joins a running cluster (contactctl member add) instead of
                        * bootstrapping one from peers */
    bool drills;       /* an admin may have this node carry out a drill's fault on itself
                        * (docs/continuity.md, "Drills"); default false */
    struct config_raft raft;
    /* sessions.lost_after_ms: a member unreachable from the leader this long is declared
     * lost (NODE_LOST) and the sessions it held get their outcome; at least twice the
     * election timeout (a leader's own election must not look like a loss); default 5000 or
     * that, whichever is more. */
    uint32_t lost_after_ms;
    uint32_t history_days;   /* contact history retention; default 90 */
    uint32_t audit_days;     /* audit records' retention; default 365 */
    uint32_t storage_map_mb; /* LMDB map size; default 4096 */
    /* TLS is required (has_tls) unless the node file says "insecure: true" (a test bed:
     * plain TCP everywhere, no proof of membership). With TLS, members' certificates from
     * the cluster's CA authenticate them to each other; the secret every member holds
     * (cluster_secret_file, optional with TLS, refused when insecure) adds a proof of its
     * own on the Raft port and the peer channel. The file's bytes without trailing white
     * space, CONFIG_SECRET_MIN to CONFIG_SECRET_MAX of them; the file must not be readable
     * by every user. cluster_secret_len 0: none. */
    bool insecure;
    /* web_root: the directory of the pages this node serves (adapters/web/web.h); "" when
     * the file names none: the node serves the installed pages, or the source tree's when
     * those are absent (docs/config.md). */
    char web_root[CONFIG_PATH_MAX];
    /* web_origins: origins whose pages may call this node's API from a browser (CORS,
     * docs/api.md), besides the members' own API addresses; each listed once. */
    uint32_t n_web_origins;
    struct config_origin web_origins[CONFIG_WEB_ORIGINS_MAX];
    /* public_urls: where browsers reach the cluster (a load balancer's address), which the
     * chat page and the agent desk reconnect to; none: every member's API address. */
    uint32_t n_public_urls;
    struct config_origin public_urls[CONFIG_PUBLIC_URLS_MAX];
    /* chat.max_per_address: chat connections one client address may hold; 0 = no cap.
     * Default 256; behind a load balancer (every connection from its address) 0. */
    uint32_t chat_max_per_address;
    /* reports: where scheduled reports go from this node when it leads (docs/reports.md):
     * directory, under which a definition's {"directory": NAME} audience is the
     * subdirectory NAME ("" = none: such deliveries fail, saying so); smtp, the relay's URL
     * (smtp://host:port or smtps://host:port; "" = none); mail_from, the sender's address;
     * smtp_ca, the CA file the relay's certificate must chain to ("" = the system's);
     * smtp_starttls, STARTTLS required on smtp://. */
    char reports_directory[CONFIG_PATH_MAX];
    char reports_smtp[CONFIG_PATH_MAX];
    char reports_mail_from[256];
    char reports_smtp_ca[CONFIG_PATH_MAX];
    bool reports_smtp_starttls;
    char cluster_secret_file[CONFIG_PATH_MAX];
    uint32_t cluster_secret_len;
    uint8_t cluster_secret[CONFIG_SECRET_MAX];
};

/* Reads and validates the node file at path into *out, and the cluster secret from the file
 * it names (a missing, unreadable, short or world-readable secret file is a CD_EPARSE
 * error positioned at the cluster_secret_file value).
 * Returns 0, CD_EIO (file unreadable), CD_EPARSE (syntax or validation error, described in
 * err) or CD_ENOMEM. */
int config_node_load(const char *path, struct config_node *out, char *err, size_t errlen);

/* As config_node_load() for a document held in memory (text need not be NUL-terminated);
 * name_for_errors is the FILE part of error messages. */
int config_node_parse(const char *name_for_errors,
                      const char *text,
                      size_t len,
                      struct config_node *out,
                      char *err,
                      size_t errlen);

const char *config_log_level_name(int level);

/* ---- Routing model ------------------------------------------------------------------ */

/* A model document read: the engine's model. (A `runbooks:` section is refused until the
 * continuity runbooks exist.) */
struct config_model
{
    struct engine_model model; /* owned; ready for engine_model_validate() and install */
};

/* Leaves m empty, as after config_model_close(). */
void config_model_init(struct config_model *m);

/* Frees everything m owns (the engine model included) and leaves it empty. */
void config_model_close(struct config_model *m);

/* Reads and validates the routing model at path into *out, loading every time zone it
 * names. out must be empty (initialised or closed); on success the caller owns its
 * contents and releases them with config_model_close(); on error it is left unchanged.
 * Returns 0, CD_EIO (file unreadable), CD_EPARSE (syntax error, validation error, bad
 * reference or unloadable time zone, described in err) or CD_ENOMEM. */
int config_model_load(const char *path, struct config_model *out, char *err, size_t errlen);

/* As config_model_load() for a document held in memory (text need not be
 * NUL-terminated); name_for_errors is the FILE part of error messages. */
int config_model_parse(const char *name_for_errors,
                       const char *text,
                       size_t len,
                       struct config_model *out,
                       char *err,
                       size_t errlen);

/* What changed from one model document to another, for people (the audit, `model diff`):
 * one line per change, "+ path: value", "- path" or "~ path: old -> new", newline-ended;
 * "" when nothing changed. Either document may be empty. Only YAML syntax is checked, not
 * the model. On success *out is malloc'd and the caller's; returns 0, CD_EPARSE ("running"
 * or "model" named in err with the line and column) or CD_ENOMEM. */
int config_model_diff(const char *old_text,
                      size_t old_len,
                      const char *new_text,
                      size_t new_len,
                      char **out,
                      char *err,
                      size_t errlen);

/* ---- Time zones --------------------------------------------------------------------- */

/* Loads the TZif file of zone_name (e.g. "Europe/London") from the zoneinfo directory and
 * fills *out: name, base offset, and every transition from the file's explicit table
 * followed by the transitions its POSIX TZ footer implies up to the end of year 2100.
 * Consecutive transitions that do not change the UTC offset are dropped. On success
 * out->transitions is owned by the caller (free(), or engine_model_close() once the zone
 * is inside a model). Returns 0, CD_EINVAL (bad zone name: empty, too long, absolute, with
 * "..", or odd characters), CD_ENOTFOUND (no such zone), CD_EIO (unreadable file),
 * CD_ECORRUPT (not a valid TZif v2+ file, or a footer it cannot interpret) or
 * CD_ENOMEM; err describes the problem. */
int config_tz_load(const char *zone_name, struct engine_zone *out, char *err, size_t errlen);

#endif
