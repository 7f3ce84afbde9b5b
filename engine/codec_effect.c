/* Binary form of effects: what the effect bus keeps in a node's storage so that a subscriber
 * behind (after a restart, or waiting on its own acknowledgement) is given the same effects
 * later, byte for byte.
 *
 * Layout: kind, channel, state, step (u8 each), contact, offer (varints), agent, queue, text,
 * at, ewt_ms, home, session, old_home, object, then, for the AUDIT of an AUDIT_NOTE only,
 * its action; then a u8 saying whether a history follows and, if so, its fields in the
 * order of struct engine_history. Strings as in codec.c (a NULL string as ""). object came
 * with the AUDIT kind: effects kept before it do not decode. The action of every other
 * AUDIT is its command's name, so it is not written: effects kept before notes existed
 * decode as they did, to the same action. */
#include "common/error.h"
#include "engine/engine.h"

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
}

int engine_effect_encode(const struct engine_effect *fx, struct cd_buf *out)
{
    uint8_t head[] = {fx->kind, fx->channel, fx->state, fx->step};
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
    cd_buf_u8(out, fx->history != NULL);
    if (fx->history != NULL) {
        put_history(out, fx->history);
    }
    return out->err;
}

static void get_history(struct cd_reader *r, struct engine_history *h)
{
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
}

int engine_effect_decode(struct cd_reader *r,
                         struct engine_effect *fx,
                         struct engine_history *h)
{
    *fx = (struct engine_effect){0};
    fx->kind = cd_rd_u8(r);
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
    if (cd_rd_bool(r)) {
        get_history(r, h);
        fx->history = h;
    }
    if (r->err != 0 || fx->kind == 0 || fx->kind >= ENGINE_FX_KIND_COUNT ||
        fx->channel >= ENGINE_CH_COUNT) {
        *fx = (struct engine_effect){0};
        return CD_ECORRUPT;
    }
    return 0;
}
