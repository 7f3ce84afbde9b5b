/* Applying commands: every command goes to the primary engine and to a replica, and both
 * must give the same result and the same stream of effects (compared as a running hash
 * per command). Digests are compared periodically, and the primary is periodically
 * replaced by its own snapshot (encode, decode) to prove the snapshot complete. */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "tests/sim/sim.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
    return cd_mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

static uint64_t mix_str(uint64_t h, const char *p)
{
    return mix(h, p ? cd_hash_str(p) : 1);
}

static uint64_t history_hash(uint64_t h, const struct engine_history *x)
{
    h = mix(h, x->contact);
    h = mix(h, (uint64_t)x->channel << 8 | x->outcome);
    h = mix(h, (uint64_t)(uint16_t)x->priority);
    h = mix_str(mix_str(mix_str(h, x->queue), x->agent), x->reason);
    h = mix(mix(mix(h, (uint64_t)x->arrived), (uint64_t)x->offered), (uint64_t)x->answered);
    h = mix(mix(h, (uint64_t)x->ended), (uint64_t)x->completed);
    return mix(h, (uint64_t)x->offers << 40 | (uint64_t)x->transfers << 8 | x->callback);
}

static uint64_t effect_hash(uint64_t h, const struct engine_effect *fx)
{
    h = mix(h, (uint64_t)fx->kind << 24 | (uint64_t)fx->channel << 16 |
                   (uint64_t)fx->state << 8 | fx->step);
    h = mix(mix(h, fx->contact), fx->offer);
    h = mix_str(mix_str(mix_str(h, fx->agent), fx->queue), fx->text);
    h = mix(mix(h, (uint64_t)fx->at), (uint64_t)fx->ewt_ms);
    return fx->history ? history_hash(h, fx->history) : h;
}

static void primary_emit(void *data, const struct engine_effect *fx)
{
    struct sim *s = data;
    s->fx_hash[0] = effect_hash(s->fx_hash[0], fx);
    s->n_fx++;
    s->st.effects++;
    sim_shadow_effect(s, fx);
}

static void replica_emit(void *data, const struct engine_effect *fx)
{
    struct sim *s = data;
    s->fx_hash[1] = effect_hash(s->fx_hash[1], fx);
}

static void begin_command(struct sim *s, uint8_t kind)
{
    s->step++;
    s->cur_kind = kind;
    s->fx_hash[0] = s->fx_hash[1] = 0;
    s->n_fx = 0;
    s->n_touched_contacts = 0;
    s->n_touched_agents = 0;
    s->model_changed = false;
}

static void compare_results(struct sim *s,
                            const struct engine_command *cmd,
                            const struct engine_result *a,
                            const struct engine_result *b)
{
    if (a->code != b->code || a->contact != b->contact || a->existing != b->existing) {
        sim_fail(s, "%s: replica result differs (%d/%d, contact %llu/%llu)",
                 engine_cmd_name(cmd->kind), a->code, b->code, (unsigned long long)a->contact,
                 (unsigned long long)b->contact);
    }
    if (s->fx_hash[0] != s->fx_hash[1]) {
        sim_fail(s, "%s: replica emitted different effects", engine_cmd_name(cmd->kind));
    }
    if (a->code == CD_ENOMEM) {
        sim_fail(s, "%s: out of memory", engine_cmd_name(cmd->kind));
    }
}

static void periodic(struct sim *s)
{
    if (s->step % s->check_every == 0) {
        sim_check_full(s);
    }
    if (s->step % s->replica_every == 0) {
        sim_compare_replica(s);
    }
    if (s->snapshot_every > 0 && s->step % s->snapshot_every == 0) {
        sim_snapshot_roundtrip(s);
    }
}

int sim_apply(struct sim *s, const struct engine_command *cmd, struct engine_result *res)
{
    struct engine_sink sink = {primary_emit, s}, rsink = {replica_emit, s};
    struct engine_result mine, other;
    res = res ? res : &mine;
    begin_command(s, cmd->kind);
    memset(res, 0, sizeof(*res));
    int rc = engine_apply(s->e, cmd, s->now, res, &sink);
    engine_apply(s->replica, cmd, s->now, &other, &rsink);
    compare_results(s, cmd, res, &other);
    s->st.by_kind[cmd->kind]++;
    if (rc == 0) {
        s->st.ok++;
    } else {
        s->st.errors++;
    }
    if (cmd->kind == ENGINE_CMD_CONTACT_CREATE && rc == 0 && !res->existing &&
        res->contact != s->created) {
        sim_fail(s, "create returned id %llu, effects named %llu",
                 (unsigned long long)res->contact, (unsigned long long)s->created);
    }
    sim_check_after_command(s);
    periodic(s);
    return rc;
}

/* A command the shadow world knows to be wrong: it must fail with `code`, emit nothing and
 * leave the state exactly as it was. Due deadlines are fired first by a TICK, so that the
 * digest may be compared. */
void sim_apply_expect_error(struct sim *s, const struct engine_command *cmd, int code)
{
    if (engine_next_deadline(s->e) <= s->now || engine_now(s->e) < s->now) {
        struct engine_command tick = {.kind = ENGINE_CMD_TICK};
        sim_apply(s, &tick, NULL);
    }
    bool digest = s->st.expected_errors % 32 == 0;
    uint64_t before = digest ? engine_digest(s->e) : 0;
    struct engine_result res;
    int rc = sim_apply(s, cmd, &res);
    s->st.expected_errors++;
    if (rc != code) {
        sim_fail(s, "%s: expected %s, got %s (%s)", engine_cmd_name(cmd->kind),
                 cd_errname(code), rc ? cd_errname(rc) : "success", res.message);
    }
    if (s->n_fx != 0) {
        sim_fail(s, "%s failed with %s but emitted %u effects", engine_cmd_name(cmd->kind),
                 cd_errname(rc), s->n_fx);
    }
    if (digest) {
        s->st.digest_checked_errors++;
        if (engine_digest(s->e) != before) {
            sim_fail(s, "%s failed with %s but changed the state digest",
                     engine_cmd_name(cmd->kind), cd_errname(rc));
        }
    }
}

void sim_compare_replica(struct sim *s)
{
    s->st.replica_digests++;
    if (engine_digest(s->e) != engine_digest(s->replica)) {
        sim_fail(s, "primary and replica digests differ");
    }
}

/* Encode, decode, compare, and go on with the decoded copy. */
void sim_snapshot_roundtrip(struct sim *s)
{
    struct cd_buf buf;
    struct engine *copy = NULL;
    cd_buf_init(&buf);
    if (engine_encode(s->e, &buf) != 0 || buf.err != 0) {
        sim_fail(s, "engine_encode failed");
    }
    int rc = engine_decode(buf.data, buf.len, &copy);
    if (rc != 0) {
        sim_fail(s, "engine_decode of a fresh snapshot (%zu bytes): %s", buf.len,
                 cd_errname(rc));
    }
    if (engine_digest(copy) != engine_digest(s->e)) {
        sim_fail(s, "decoded snapshot has a different digest");
    }
    char err[256];
    if (engine_check(copy, err, sizeof(err)) != 0) {
        sim_fail(s, "engine_check of a decoded snapshot: %s", err);
    }
    if (engine_next_deadline(copy) != engine_next_deadline(s->e)) {
        sim_fail(s, "decoded snapshot has a different next deadline");
    }
    s->st.snapshots++;
    s->st.snapshot_bytes += buf.len;
    cd_buf_close(&buf);
    engine_free(s->e);
    s->e = copy;
}
