/* Binary form of effects: what the effect bus keeps in a node's storage so that a subscriber
 * behind (after a restart, or waiting on its own acknowledgement) is given the same effects
 * later, byte for byte.
 *
 * Layout: u8 format (EFFECT_FORMAT), kind, channel, state, step (u8 each), contact, offer
 * (varints), agent, queue, text, at, ewt_ms, home, session, old_home, object, then, for the
 * AUDIT of an AUDIT_NOTE only, its action; seq, msg_id, side; then a u8 saying whether a
 * history follows and, if so, its fields in the order of struct engine_history (attrs as a
 * count and key, value pairs; the transcript as a varint length and its bytes). Strings as
 * in codec.c (a NULL string as ""). object came with the AUDIT kind: effects kept before it
 * do not decode. The action of every other AUDIT is its command's name, so it is not
 * written: effects kept before notes existed decode as they did, to the same action.
 *
 * Effects kept before the format byte existed start with their kind (below 0x80, the
 * smallest format byte) and have no seq, msg_id or side, nor a history's key, attributes,
 * disposition, notes and transcript: they decode as they did, with those empty. */
#include <string.h>

#include "common/error.h"
#include "engine/engine.h"

#define EFFECT_FORMAT 0x81 /* 0x80 | 1: above every kind, so that legacy effects read */

/* Whether the effect's action is its own, not its command's name. */
static bool own_action(const struct engine_effect *fx)
{
    return fx->kind == ENGINE_FX_AUDIT && fx->state == ENGINE_CMD_AUDIT_NOTE;
}

static void put_history(struct cd_buf *b, const struct engine_history *h)
{
    cd_buf_uvar(b, h->contact);
    cd_buf_u8(b, h->channel);
    cd_buf_u8(b, h->outcome);
    cd_buf_svar(b, h->priority);
    cd_buf_str(b, h->queue);
    cd_buf_str(b, h->agent);
    cd_buf_str(b, h->reason);
    int64_t times[] = {h->arrived, h->offered, h->answered, h->ended, h->completed};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        cd_buf_svar(b, times[i]);
    }
    cd_buf_uvar(b, h->offers);
    cd_buf_uvar(b, h->transfers);
    cd_buf_u8(b, h->callback);
    cd_buf_str(b, h->key);
    cd_buf_u8(b, h->n_attrs);
    for (uint8_t i = 0; i < h->n_attrs && i < ENGINE_ATTRS_MAX; i++) {
        cd_buf_str(b, h->attrs[i].key);
        cd_buf_str(b, h->attrs[i].value);
    }
    cd_buf_str(b, h->disposition);
    cd_buf_str(b, h->notes);
    cd_buf_uvar(b, h->transcript.len);
    if (h->transcript.len > 0) {
        cd_buf_put(b, h->transcript.data, h->transcript.len);
    }
}

int engine_effect_encode(const struct engine_effect *fx, struct cd_buf *out)
{
    uint8_t head[] = {EFFECT_FORMAT, fx->kind, fx->channel, fx->state, fx->step};
    cd_buf_put(out, head, sizeof(head));
    cd_buf_uvar(out, fx->contact);
    cd_buf_uvar(out, fx->offer);
    cd_buf_str(out, fx->agent);
    cd_buf_str(out, fx->queue);
    cd_buf_str(out, fx->text);
    cd_buf_svar(out, fx->at);
    cd_buf_svar(out, fx->ewt_ms);
    cd_buf_str(out, fx->home);
    cd_buf_str(out, fx->session);
    cd_buf_str(out, fx->old_home);
    cd_buf_str(out, fx->object);
    if (own_action(fx)) {
        cd_buf_str(out, fx->action);
    }
    cd_buf_uvar(out, fx->seq);
    cd_buf_str(out, fx->msg_id);
    cd_buf_u8(out, fx->side);
    cd_buf_u8(out, fx->history != NULL);
    if (fx->history != NULL) {
        put_history(out, fx->history);
    }
    return out->err;
}

/* What format 1 added to a history. */
static void get_history_more(struct cd_reader *r, struct engine_history *h)
{
    h->key = cd_rd_str(r, NULL);
    h->n_attrs = cd_rd_u8(r);
    if (h->n_attrs > ENGINE_ATTRS_MAX) {
        cd_rd_fail(r);
        h->n_attrs = 0;
    }
    for (uint8_t i = 0; i < h->n_attrs; i++) {
        h->attrs[i].key = cd_rd_str(r, NULL);
        h->attrs[i].value = cd_rd_str(r, NULL);
    }
    h->disposition = cd_rd_str(r, NULL);
    h->notes = cd_rd_str(r, NULL);
    uint64_t len = cd_rd_uvar(r);
    const uint8_t *bytes = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || (len > 0 && bytes == NULL) ||
        engine_transcript_parse(bytes, (size_t)len, &h->transcript) != 0) {
        cd_rd_fail(r);
    }
}

static void get_history(struct cd_reader *r, struct engine_history *h, bool more)
{
    memset(h, 0, sizeof(*h));
    h->key = h->disposition = h->notes = "";
    h->contact = cd_rd_uvar(r);
    h->channel = cd_rd_u8(r);
    h->outcome = cd_rd_u8(r);
    h->priority = (int16_t)cd_rd_int(r, INT16_MIN, INT16_MAX);
    h->queue = cd_rd_str(r, NULL);
    h->agent = cd_rd_str(r, NULL);
    h->reason = cd_rd_str(r, NULL);
    h->arrived = cd_rd_svar(r);
    h->offered = cd_rd_svar(r);
    h->answered = cd_rd_svar(r);
    h->ended = cd_rd_svar(r);
    h->completed = cd_rd_svar(r);
    h->offers = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    h->transfers = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    h->callback = cd_rd_u8(r);
    if (more) {
        get_history_more(r, h);
    }
}

int engine_effect_decode(struct cd_reader *r,
                         struct engine_effect *fx,
                         struct engine_history *h)
{
    *fx = (struct engine_effect){0};
    uint8_t first = cd_rd_u8(r);
    bool legacy = first < 0x80;
    if (!legacy && first != EFFECT_FORMAT) {
        cd_rd_fail(r);
    }
    fx->kind = legacy ? first : cd_rd_u8(r);
    fx->channel = cd_rd_u8(r);
    fx->state = cd_rd_u8(r);
    fx->step = cd_rd_u8(r);
    fx->contact = cd_rd_uvar(r);
    fx->offer = cd_rd_uvar(r);
    fx->agent = cd_rd_str(r, NULL);
    fx->queue = cd_rd_str(r, NULL);
    fx->text = cd_rd_str(r, NULL);
    fx->at = cd_rd_svar(r);
    fx->ewt_ms = cd_rd_svar(r);
    fx->home = cd_rd_str(r, NULL);
    fx->session = cd_rd_str(r, NULL);
    fx->old_home = cd_rd_str(r, NULL);
    fx->object = cd_rd_str(r, NULL);
    if (own_action(fx)) {
        fx->action = cd_rd_str(r, NULL);
    } else {
        const char *name = fx->kind == ENGINE_FX_AUDIT ? engine_cmd_name(fx->state) : NULL;
        fx->action = name != NULL ? name : "";
    }
    fx->msg_id = "";
    if (!legacy) {
        fx->seq = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        fx->msg_id = cd_rd_str(r, NULL);
        fx->side = cd_rd_u8(r);
    }
    if (cd_rd_bool(r)) {
        get_history(r, h, !legacy);
        fx->history = h;
    }
    if (r->err != 0 || fx->kind == 0 || fx->kind >= ENGINE_FX_KIND_COUNT ||
        fx->channel >= ENGINE_CH_COUNT) {
        *fx = (struct engine_effect){0};
        return CD_ECORRUPT;
    }
    return 0;
}
