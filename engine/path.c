/* A contact's path (engine.h, "A contact's path"): recorded as its effects are emitted, so
 * that every decision the engine announces is also written down, in order, on every node.
 * Two things an effect does not say come from the command in progress: how a contact came
 * to a queue (e->path_via) and how an offer ended (e->offer_end). */
#include <string.h>

#include "common/error.h"
#include "engine/internal.h"

static const char *const kind_names[ENGINE_PATH_KIND_COUNT] = {
    [ENGINE_PATH_RULE] = "rule",         [ENGINE_PATH_QUEUED] = "queued",
    [ENGINE_PATH_REFUSED] = "refused",   [ENGINE_PATH_STEP] = "step",
    [ENGINE_PATH_OFFER] = "offer",       [ENGINE_PATH_OFFER_END] = "offer_end",
    [ENGINE_PATH_TALK_END] = "talk_end", [ENGINE_PATH_TRANSFER] = "transfer",
    [ENGINE_PATH_CALLBACK] = "callback", [ENGINE_PATH_TRUNCATED] = "truncated",
    [ENGINE_PATH_HOLD] = "hold",         [ENGINE_PATH_RESUME] = "resume",
};
static const char *const via_names[] = {"arrival", "transfer", "overflow"};
static const char *const end_names[] = {"accepted", "rejected", "no_answer", "cancelled"};
static const char *const to_names[] = {"queue", "agent", "target"};

const char *engine_path_kind_name(uint8_t kind)
{
    return kind < ENGINE_PATH_KIND_COUNT && kind_names[kind] ? kind_names[kind] : "";
}

const char *engine_via_name(uint8_t via)
{
    return via < sizeof(via_names) / sizeof(via_names[0]) ? via_names[via] : "";
}

const char *engine_transfer_to_name(uint8_t to)
{
    return to < sizeof(to_names) / sizeof(to_names[0]) ? to_names[to] : "";
}

const char *engine_offer_end_name(uint8_t end)
{
    return end < sizeof(end_names) / sizeof(end_names[0]) ? end_names[end] : "";
}

/* The largest n each kind takes. */
static uint8_t n_max(uint8_t kind)
{
    switch (kind) {
        case ENGINE_PATH_QUEUED:
            return ENGINE_VIA_OVERFLOW;
        case ENGINE_PATH_STEP:
            return UINT8_MAX;
        case ENGINE_PATH_OFFER_END:
            return ENGINE_OFFER_CANCELLED;
        case ENGINE_PATH_TRANSFER:
            return ENGINE_TRANSFER_OUT;
        default:
            return 0;
    }
}

int engine_path_next(const struct engine_path *p, size_t *off, struct engine_path_step *out)
{
    struct cd_reader r;
    if (*off >= p->len) {
        return 0;
    }
    cd_reader_init(&r, (const uint8_t *)p->data + *off, p->len - *off);
    out->kind = cd_rd_u8(&r);
    out->n = cd_rd_u8(&r);
    out->at = cd_rd_svar(&r);
    out->offer = cd_rd_uvar(&r);
    out->ewt_ms = cd_rd_svar(&r);
    out->queue = cd_rd_str(&r, NULL);
    out->agent = cd_rd_str(&r, NULL);
    out->text = cd_rd_str(&r, NULL);
    if (r.err != 0 || out->kind == 0 || out->kind >= ENGINE_PATH_KIND_COUNT ||
        out->n > n_max(out->kind)) {
        return CD_ECORRUPT;
    }
    *off = p->len - cd_rd_left(&r);
    return 1;
}

int engine_path_check(const void *data, size_t len)
{
    struct engine_path p = {data, len};
    struct engine_path_step s;
    size_t off = 0;
    int rv;
    bool truncated = false;
    if (len > ENGINE_PATH_BYTES + 64) {
        return CD_ECORRUPT;
    }
    while ((rv = engine_path_next(&p, &off, &s)) == 1) {
        if (truncated) {
            return CD_ECORRUPT; /* nothing follows the mark */
        }
        truncated = s.kind == ENGINE_PATH_TRUNCATED;
    }
    return rv;
}

static void put(struct cd_buf *b, const struct engine_path_step *s)
{
    uint8_t head[] = {s->kind, s->n};
    cd_buf_put(b, head, sizeof(head));
    cd_buf_svar(b, s->at);
    cd_buf_uvar(b, s->offer);
    cd_buf_svar(b, s->ewt_ms);
    cd_buf_str(b, s->queue ? s->queue : "");
    cd_buf_str(b, s->agent ? s->agent : "");
    cd_buf_str(b, s->text ? s->text : "");
}

void engine__path_add(struct engine *e, struct contact *c, const struct engine_path_step *s)
{
    if (c->path_full) {
        return;
    }
    size_t before = c->path.len;
    put(&c->path, s);
    if (c->path.len > ENGINE_PATH_BYTES) {
        /* Too long: the step goes, a mark takes its place, and nothing more is kept. */
        c->path.len = before;
        put(&c->path, &(struct engine_path_step){.kind = ENGINE_PATH_TRUNCATED, .at = s->at});
        c->path_full = 1;
    }
    if (c->path.err != 0) {
        e->oom = CD_ENOMEM;
    }
}

void engine__path_to(struct engine *e, struct contact *c, uint8_t to, const char *target)
{
    engine__path_add(
        e, c,
        &(struct engine_path_step){
            .kind = ENGINE_PATH_TRANSFER, .n = to, .at = e->clock, .text = target});
    if (to != ENGINE_TRANSFER_OUT) {
        e->path_via = ENGINE_VIA_TRANSFER;
    }
}

/* How the offer named by fx ended for fx's agent. */
static uint8_t offer_end(const struct engine *e, const struct engine_effect *fx)
{
    const struct engine__offer_end *oe = &e->offer_end;
    if (oe->offer == fx->offer &&
        (oe->agent == NONE32 || strcmp(e->agents[oe->agent].name, fx->agent) == 0)) {
        return oe->end;
    }
    return ENGINE_OFFER_CANCELLED;
}

void engine__path_note(struct engine *e, struct contact *c, const struct engine_effect *fx)
{
    struct engine_path_step s = {.at = e->clock, .queue = fx->queue, .agent = fx->agent};
    switch (fx->kind) {
        case ENGINE_FX_QUEUED:
            s.kind = ENGINE_PATH_QUEUED;
            s.n = e->path_via;
            s.ewt_ms = fx->ewt_ms;
            e->path_via = ENGINE_VIA_ARRIVAL;
            break;
        case ENGINE_FX_ESCALATED:
            s.kind = ENGINE_PATH_STEP;
            s.n = fx->step;
            break;
        case ENGINE_FX_OFFER:
            s.kind = ENGINE_PATH_OFFER;
            s.offer = fx->offer;
            break;
        case ENGINE_FX_OFFER_CANCEL:
            s.kind = ENGINE_PATH_OFFER_END;
            s.offer = fx->offer;
            s.n = offer_end(e, fx);
            break;
        case ENGINE_FX_CONNECTED:
            s.kind = ENGINE_PATH_OFFER_END;
            s.offer = fx->offer;
            s.n = ENGINE_OFFER_ACCEPTED;
            break;
        case ENGINE_FX_WRAPUP:
            s.kind = ENGINE_PATH_TALK_END;
            s.queue = s.agent = "";
            break;
        case ENGINE_FX_HOLD:
            s.kind = fx->state ? ENGINE_PATH_HOLD : ENGINE_PATH_RESUME;
            s.queue = "";
            break;
        default:
            return;
    }
    engine__path_add(e, c, &s);
}

int engine_path_get(const struct engine *e, uint64_t id, struct engine_path *out)
{
    const struct contact *c = engine__contact(e, id);
    if (c == NULL) {
        return CD_ENOTFOUND;
    }
    engine__path_get(c, out);
    return 0;
}

void engine__path_free(struct contact *c)
{
    cd_buf_close(&c->path);
    c->path_full = 0;
}

void engine__path_get(const struct contact *c, struct engine_path *out)
{
    *out = (struct engine_path){c->path.len ? c->path.data : NULL, c->path.len};
}

int engine__path_set(struct contact *c, const void *data, size_t len)
{
    struct engine_path p = {data, len};
    struct engine_path_step s;
    size_t off = 0;
    if (engine_path_check(data, len) != 0) {
        return CD_ECORRUPT;
    }
    cd_buf_reset(&c->path);
    cd_buf_put(&c->path, data, len);
    c->path_full = 0;
    while (engine_path_next(&p, &off, &s) == 1) {
        c->path_full = s.kind == ENGINE_PATH_TRUNCATED;
    }
    return c->path.err;
}
