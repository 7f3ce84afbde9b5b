/* A contact's path (engine/path.c). Part of the engine's public interface: engine.h includes
 * it at this place, after everything it uses; include engine/engine.h, not this. */
#ifndef CD_ENGINE_PATH_H
#define CD_ENGINE_PATH_H

#include <stddef.h>
#include <stdint.h>

/* A contact's path: what happened to it, step by step, in the order it happened, kept in
 * the contact while it lives and handed out in its history. Reports cut it into segments
 * (one per visit to a queue); `contact explain` reads it for ended contacts.
 *
 *   RULE       text: the routing rule that matched it (at arrival)
 *   QUEUED     queue; n: how it came (enum engine_via); ewt_ms: the wait estimated then
 *   REFUSED    queue; text: why it did not enter (closed, queue_full, ...)
 *   STEP       queue; n: the escalation step reached
 *   OFFER      agent; offer: the offer's id (a ring-all offer: one step per agent rung)
 *   OFFER_END  agent; offer; n: how it ended (enum engine_offer_end)
 *   TALK_END   the talk ended (wrap-up follows)
 *   TRANSFER   n: to what (enum engine_transfer_to); text: the queue, agent or target
 *   CALLBACK   the customer took the offer of a callback
 *   HOLD       the agent put the customer on hold (agent)
 *   RESUME     the hold ended: the agent resumed, or the talk ended or was transferred
 *   TRUNCATED  the path reached ENGINE_PATH_BYTES: later steps are not kept
 *
 * Binary form, one step after another: kind (u8), n (u8), at (svar), offer (uvar), ewt_ms
 * (svar), queue, agent, text (strings as in common/buf.h). */
#define ENGINE_PATH_BYTES 8192 /* of steps one contact keeps, at most */
enum engine_path_kind {
    ENGINE_PATH_RULE = 1,
    ENGINE_PATH_QUEUED,
    ENGINE_PATH_REFUSED,
    ENGINE_PATH_STEP,
    ENGINE_PATH_OFFER,
    ENGINE_PATH_OFFER_END,
    ENGINE_PATH_TALK_END,
    ENGINE_PATH_TRANSFER,
    ENGINE_PATH_CALLBACK,
    ENGINE_PATH_HOLD,
    ENGINE_PATH_RESUME,
    ENGINE_PATH_TRUNCATED,
    ENGINE_PATH_KIND_COUNT
};
enum engine_via { ENGINE_VIA_ARRIVAL = 0, ENGINE_VIA_TRANSFER, ENGINE_VIA_OVERFLOW };
enum engine_offer_end {
    ENGINE_OFFER_ACCEPTED = 0,
    ENGINE_OFFER_REJECTED,
    ENGINE_OFFER_NO_ANSWER,
    ENGINE_OFFER_CANCELLED, /* withdrawn: the customer left, another agent took it, ... */
};
enum engine_transfer_to {
    ENGINE_TRANSFER_QUEUE = 0,
    ENGINE_TRANSFER_AGENT,
    ENGINE_TRANSFER_OUT
};

struct engine_path
{
    const void *data; /* borrowed (see where it came from); NULL when len is 0 */
    size_t len;
};

struct engine_path_step
{
    uint8_t kind; /* enum engine_path_kind */
    uint8_t n;
    int64_t at;
    uint64_t offer;
    int64_t ewt_ms;
    const char *queue; /* "" when the kind has none; the strings point into the path */
    const char *agent;
    const char *text;
};

/* Reads the step at *off and moves *off past it. Returns 1 (a step), 0 (the end) or
 * CD_ECORRUPT. */
int engine_path_next(const struct engine_path *p, size_t *off, struct engine_path_step *out);
/* Checks that data is a well-formed path (every step readable, kinds and n in range, at
 * most ENGINE_PATH_BYTES + a TRUNCATED step). Returns 0 or CD_ECORRUPT. */
int engine_path_check(const void *data, size_t len);
const char *engine_path_kind_name(uint8_t kind);
const char *engine_via_name(uint8_t via);
const char *engine_offer_end_name(uint8_t end);
const char *engine_transfer_to_name(uint8_t to);

#endif
