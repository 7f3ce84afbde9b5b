/* What the leader delivers: webhook subscriptions, report definitions
 * and their scheduled rounds. Part of the engine's public interface: engine.h
 * includes it at this place, after everything it uses; include engine/engine.h, not this. */
#ifndef CD_ENGINE_DELIVERY_H
#define CD_ENGINE_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Webhook subscriptions (webhooks.c) -------------------------------------------- */

/* A webhook is replicated state: where to POST which effects, and how far the receiver has
 * acknowledged. The leader delivers; DELIVERED and FAILED record each attempt's outcome,
 * fenced by the cursor it started from, so a failover neither repeats an acknowledged
 * delivery nor skips one. */
#define ENGINE_WEBHOOKS_MAX 64

/* ---- Report definitions (reportdefs.c) -------------------------------------------- */

/* A report definition is a named text (the API's canonical JSON: which figures, grouping,
 * filters, interval, period, thresholds, schedule and audience) that every node holds at
 * the same log index, with its latest ENGINE_REPORT_VERSIONS versions: who changed it,
 * when and why. The engine checks the text's size, not its meaning.
 *
 *   REPORT_PUT     makes version 1 of a new name, or the next version of one; with expect
 *                  set, only while that is the current version (else CD_ESTATE: somebody
 *                  changed it since). A text equal to the current one changes nothing:
 *                  result.existing is set and result.contact is that version. Else
 *                  result.contact is the new version. CD_ECAPACITY past ENGINE_REPORTS_MAX.
 *   REPORT_DELETE  removes the name and its versions (CD_ENOTFOUND when there is none).
 *
 * Both are audited (object: the name). */
#define ENGINE_REPORTS_MAX 256
#define ENGINE_REPORT_VERSIONS 16
#define ENGINE_REPORT_TEXT_MAX 16384
#define ENGINE_COMMENT_MAX 512

/* Scheduled delivery: an obligation per scheduled moment ("slot"). The leader opens a
 * round when a definition's slot is due (REPORT_SLOT: refused with CD_EEXISTS when that
 * slot, or a later one, was opened already, so a new leader neither skips nor repeats a
 * slot), makes the report, delivers it to each member of the audience with an idempotency
 * key made of the name, slot and target, and reports each outcome (REPORT_SENT). A failed
 * delivery waits until retry_at (the leader's backoff) and is tried again, by whichever
 * node leads then, until ENGINE_DELIVERY_ATTEMPTS have failed: then it has failed for
 * good. A SENT for a delivery already done or failed for good is CD_EEXISTS (a new leader
 * repeating an outcome the old one reported). The latest ENGINE_ROUNDS_KEPT rounds of each
 * definition are kept, for all to see. */
#define ENGINE_AUDIENCE_MAX 16
#define ENGINE_DELIVERY_ATTEMPTS 8
#define ENGINE_ROUNDS_KEPT 32
enum engine_delivery_state {
    ENGINE_DELIVERY_PENDING = 0, /* not tried yet, or to be tried again at retry_at */
    ENGINE_DELIVERY_DONE,
    ENGINE_DELIVERY_FAILED, /* every attempt failed */
};
struct engine_delivery_info
{
    uint8_t state; /* enum engine_delivery_state */
    uint8_t attempts;
    int64_t retry_at; /* PENDING: not before; 0 = now */
    int64_t at;       /* of the last outcome; 0 = none yet */
    const char *text; /* receipt, or the last failure */
};
struct engine_round_info
{
    int64_t slot;
    uint32_t version;
    int64_t opened;
    uint8_t n_targets;
    struct engine_delivery_info targets[ENGINE_AUDIENCE_MAX];
};
/* The definition's i-th round kept (0 = the oldest); CD_ENOTFOUND past the end or for no
 * such definition. Strings borrowed until the next command. */
int engine_report_round(const struct engine *e,
                        const char *name,
                        size_t i,
                        struct engine_round_info *out);
/* The latest slot opened for the definition (0: none). */
int64_t engine_report_last_slot(const struct engine *e, const char *name);

struct engine_report_def_info
{
    const char *name;
    uint32_t version; /* of this text */
    uint32_t current; /* the definition's current version */
    uint32_t oldest;  /* the oldest version kept */
    int64_t at;
    const char *actor;
    const char *comment;
    const char *text;
};

size_t engine_report_def_count(const struct engine *e);
/* Names in order (sorted), NULL past the end. */
const char *engine_report_def_name(const struct engine *e, size_t i);
/* The definition's version (0: the current one); strings borrowed until the next command.
 * Returns 0 or CD_ENOTFOUND (no such name, or that version is not kept). */
int engine_report_def_get(const struct engine *e,
                          const char *name,
                          uint32_t version,
                          struct engine_report_def_info *out);
#define ENGINE_URL_MAX 512    /* with NUL */
#define ENGINE_SECRET_MAX 128 /* with NUL */
#define ENGINE_SECRET_MIN 16
#define ENGINE_WEBHOOK_LOG 16  /* delivery attempts kept per webhook */
#define ENGINE_WEBHOOK_TEXT 96 /* with NUL */

struct engine_webhook_delivery
{
    int64_t at;
    uint64_t from_index, to_index;
    uint32_t from_n, to_n;
    uint32_t count;
    uint16_t status;
    bool ok;
    const char *text;
};

struct engine_webhook_info
{
    uint32_t id;
    const char *url;
    const char *secret; /* for the deliverer only: never shown */
    uint32_t kinds;
    uint64_t after_index; /* acknowledged up to and including effect after_n of it */
    uint32_t after_n;
    uint32_t attempts; /* failed attempts since the last delivery */
    int64_t next_at;   /* no attempt before (engine time, ms) */
    int64_t created;
    uint64_t delivered; /* events acknowledged in all */
    uint32_t n_log;
    struct engine_webhook_delivery log[ENGINE_WEBHOOK_LOG]; /* newest first */
};

size_t engine_webhook_count(const struct engine *e);
/* By position (0..count-1, ascending ids) / by id. Returns 0 or CD_ENOTFOUND; strings are
 * borrowed until the next command. */
int engine_webhook_at(const struct engine *e, size_t i, struct engine_webhook_info *out);
int engine_webhook_get(const struct engine *e, uint32_t id, struct engine_webhook_info *out);
/* How long an attempt waits after `attempts` failures in a row: 1 s doubling to 5 min. */
int64_t engine_webhook_backoff_ms(uint32_t attempts);

#endif
