/* From what storage and the engine keep of a contact (its history row or live state, and
 * its path) to the segments and offers a report counts. */
#include <string.h>

#include "common/error.h"
#include "report/report.h"

struct build
{
    const struct report_facts *f;
    struct report_buf *buf;
    struct report_contact *out;
    struct report_segment *cur; /* the segment in progress, NULL = none */
    int64_t talk_end;           /* of the answered segment in progress; 0 = talking */
    int64_t hold_start;         /* the customer on hold since; 0 = not */
    const char *(*site_of)(void *data, const char *agent);
    void *site_data;
};

static struct report_segment *open_segment(struct build *b,
                                           const char *queue,
                                           uint8_t via,
                                           int64_t at,
                                           int64_t ewt_ms)
{
    struct report_buf *buf = b->buf;
    if (b->out->n_segments == REPORT_SEGMENTS_MAX) {
        buf->truncated = true;
        b->cur = NULL;
        return NULL;
    }
    struct report_segment *s = &buf->segments[b->out->n_segments++];
    *s = (struct report_segment){.queue = queue,
                                 .via = via,
                                 .end = REPORT_END_WAITING,
                                 .entered = at,
                                 .left = at,
                                 .ewt_ms = ewt_ms,
                                 .agent = "",
                                 .site = ""};
    b->cur = s;
    b->talk_end = 0;
    return s;
}

/* The segment in progress ends at `at`: how, if it was still waiting; an answered one's
 * talk ends there (unless it already did) and its handling is over. */
static void close_segment(struct build *b, uint8_t end_if_waiting, int64_t at)
{
    struct report_segment *s = b->cur;
    if (s == NULL) {
        return;
    }
    if (s->end == REPORT_END_WAITING) {
        s->end = end_if_waiting;
        s->left = at;
    } else if (s->end == REPORT_END_ANSWERED && !s->handled) {
        int64_t talk_end = b->talk_end ? b->talk_end : at;
        s->talk_ms = talk_end - s->left;
        s->wrap_ms = at - talk_end;
        s->handled = true;
    }
    b->cur = NULL;
}

static void add_offer(struct build *b, const struct engine_path_step *st)
{
    if (b->out->n_offers == REPORT_OFFERS_MAX) {
        b->buf->truncated = true;
        return;
    }
    b->buf->offers[b->out->n_offers++] = (struct report_offer){
        .agent = st->agent, .at = st->at, .ended = st->at, .outcome = REPORT_OFFER_OPEN};
}

static const uint8_t offer_outcome[] = {
    [ENGINE_OFFER_ACCEPTED] = REPORT_OFFER_ACCEPTED,
    [ENGINE_OFFER_REJECTED] = REPORT_OFFER_REJECTED,
    [ENGINE_OFFER_NO_ANSWER] = REPORT_OFFER_NO_ANSWER,
    [ENGINE_OFFER_CANCELLED] = REPORT_OFFER_CANCELLED,
};

static void end_offer(struct build *b, const struct engine_path_step *st)
{
    /* The latest open offer to that agent: ids are not kept, and an agent holds one offer
     * of a contact at a time. */
    for (uint32_t i = b->out->n_offers; i-- > 0;) {
        struct report_offer *o = &b->buf->offers[i];
        if (o->outcome == REPORT_OFFER_OPEN && strcmp(o->agent, st->agent) == 0) {
            o->outcome = offer_outcome[st->n];
            o->ended = st->at;
            break;
        }
    }
    if (st->n == ENGINE_OFFER_ACCEPTED && b->cur != NULL && b->cur->end == REPORT_END_WAITING) {
        struct report_segment *s = b->cur;
        s->end = REPORT_END_ANSWERED;
        s->left = st->at;
        s->agent = st->agent;
        s->site = b->site_of != NULL ? b->site_of(b->site_data, st->agent) : "";
        b->talk_end = 0;
    }
}

static void step(struct build *b, const struct engine_path_step *st)
{
    struct report_segment *s = b->cur;
    switch (st->kind) {
        case ENGINE_PATH_QUEUED:
            close_segment(
                b,
                st->n == ENGINE_VIA_TRANSFER ? REPORT_END_TRANSFERRED : REPORT_END_OVERFLOWED,
                st->at);
            open_segment(b, st->queue, st->n, st->at, st->ewt_ms);
            break;
        case ENGINE_PATH_REFUSED:
            /* refused at the door; a contact waiting elsewhere overflowed on to here */
            close_segment(b, REPORT_END_OVERFLOWED, st->at);
            s = open_segment(b, st->queue, REPORT_VIA_ARRIVAL, st->at, -1);
            if (s != NULL) {
                s->end = REPORT_END_REFUSED;
            }
            b->cur = NULL;
            break;
        case ENGINE_PATH_STEP:
            if (s != NULL && st->n > s->steps) {
                s->steps = st->n;
            }
            break;
        case ENGINE_PATH_OFFER:
            add_offer(b, st);
            break;
        case ENGINE_PATH_OFFER_END:
            end_offer(b, st);
            break;
        case ENGINE_PATH_TALK_END:
            if (s != NULL && s->end == REPORT_END_ANSWERED && b->talk_end == 0) {
                b->talk_end = st->at;
            }
            break;
        case ENGINE_PATH_TRANSFER:
            if (s != NULL && s->end == REPORT_END_ANSWERED) {
                s->transferred_out = true;
            }
            close_segment(b, REPORT_END_TRANSFERRED, st->at);
            if (st->n == ENGINE_TRANSFER_AGENT && s != NULL) {
                /* straight to an agent: a new visit of the same queue, by transfer */
                open_segment(b, s->queue, REPORT_VIA_TRANSFER, st->at, -1);
            }
            break;
        case ENGINE_PATH_CALLBACK:
            b->out->callback = true;
            break;
        case ENGINE_PATH_HOLD:
            if (s != NULL && s->end == REPORT_END_ANSWERED && b->hold_start == 0) {
                b->hold_start = st->at;
            }
            break;
        case ENGINE_PATH_RESUME:
            if (s != NULL && b->hold_start != 0) {
                s->hold_ms += st->at - b->hold_start;
            }
            b->hold_start = 0;
            break;
        default:
            break;
    }
}

/* How a segment still waiting when the contact ended came to its end. */
static uint8_t waiting_end(uint8_t outcome)
{
    switch (outcome) {
        case ENGINE_CONTACT_ABANDONED:
            return REPORT_END_ABANDONED;
        case ENGINE_CONTACT_OVERFLOWED:
            return REPORT_END_OVERFLOWED;
        case ENGINE_CONTACT_TRANSFERRED:
            return REPORT_END_TRANSFERRED;
        case ENGINE_CONTACT_TIMED_OUT:
            return REPORT_END_TIMED_OUT;
        default:
            return REPORT_END_OTHER;
    }
}

/* A row from before paths were kept: one segment, from what the row says. */
static void without_path(struct build *b)
{
    const struct report_facts *f = b->f;
    if (f->queue == NULL || f->queue[0] == 0) {
        return;
    }
    open_segment(b, f->queue, REPORT_VIA_ARRIVAL, f->arrived, -1);
    if (f->answered != 0 && b->cur != NULL) {
        struct report_segment *s = b->cur;
        s->end = REPORT_END_ANSWERED;
        s->left = f->answered;
        s->agent = f->agent != NULL ? f->agent : "";
        s->site = b->site_of != NULL ? b->site_of(b->site_data, s->agent) : "";
        b->talk_end = f->ended;
    }
}

int report_contact_build(const struct report_facts *f,
                         const void *path,
                         size_t len,
                         const char *(*site_of)(void *data, const char *agent),
                         void *site_data,
                         struct report_buf *buf,
                         struct report_contact *out)
{
    struct build b = {
        .f = f, .buf = buf, .out = out, .site_of = site_of, .site_data = site_data};
    struct engine_path p = {path, len};
    struct engine_path_step st;
    size_t off = 0;
    int rv;
    *out = (struct report_contact){.id = f->id,
                                   .channel = f->channel,
                                   .outcome = f->outcome,
                                   .disposition = f->disposition ? f->disposition : "",
                                   .callback = f->callback,
                                   .live = f->live,
                                   .segments = buf->segments,
                                   .offers = buf->offers};
    buf->truncated = false;
    if (len == 0) {
        without_path(&b);
    }
    while ((rv = engine_path_next(&p, &off, &st)) == 1) {
        step(&b, &st);
    }
    if (rv != 0) {
        return CD_ECORRUPT;
    }
    int64_t end = f->live ? f->now : (f->ended ? f->ended : f->completed);
    if (f->live) {
        struct report_segment *s = b.cur;
        if (s != NULL && s->end == REPORT_END_ANSWERED) {
            int64_t talk_end = b.talk_end ? b.talk_end : f->now;
            s->talk_ms = talk_end - s->left;
            s->wrap_ms = f->now - talk_end;
            if (b.hold_start != 0) {
                s->hold_ms += f->now - b.hold_start; /* on hold now */
            }
        } else if (s != NULL) {
            s->left = f->now; /* still waiting */
        }
    } else if (b.cur != NULL && b.cur->end == REPORT_END_ANSWERED) {
        b.talk_end = b.talk_end ? b.talk_end : end;
        close_segment(&b, REPORT_END_OTHER, f->completed);
    } else {
        close_segment(&b, waiting_end(f->outcome), end);
    }
    for (uint32_t i = 0; i < out->n_offers; i++) {
        struct report_offer *o = &buf->offers[i];
        if (o->outcome == REPORT_OFFER_OPEN && !f->live) {
            o->outcome = REPORT_OFFER_CANCELLED;
            o->ended = end;
        } else if (o->outcome == REPORT_OFFER_OPEN) {
            o->ended = f->now;
        }
    }
    return 0;
}
