/* Binary form of a routing model, inside MODEL_INSTALL commands and state snapshots.
 *
 * Layout (every integer a varint, signed ones zigzag; every string a varint length, the
 * bytes and a NUL; an array is its count followed by its elements):
 *
 *   u8 format (1 to 5: the fewest of the parts below the model needs)
 *   skills[]   name
 *   zones[]    name, base_offset, transitions[] (at, offset)
 *   hours[]    name, zone, 7 x day, holidays[] (date, day)       day = n, n x (from, to)
 *   queues[]   name, channels, strategy, sl_target_s, sl_percent, max_size, max_wait_s,
 *              ring_s, wrapup_s, hours, overflow_queue, overflow_target,
 *              skills[] (skill, level), steps[] (after_s, relax, priority_boost, drop[])
 *   agents[]   name, site, 4 x capacity, skills[] (skill, level), queues[]
 *   rules[]    name, conds[], action
 *              cond   = kind, op, channels, days, from_min, to_min, zone, queue, number,
 *                       key, values[]
 *              action = kind, has_priority, priority, queue, target, reason,
 *                       skills[] (skill, level), set[] (key, value)
 *   4 x blocks, rna_reason
 *   format 2 only: personal[] key  (a model without personal keys is written as format 1,
 *                                   so models and snapshots made before the list read
 *                                   back and encode to the same bytes)
 *   format 3 and 4: personal[] key (may be empty), away[] name, dispositions[] name,
 *              required[] queue index (the queues with disposition_required, ascending),
 *              chat_reconnect_s, entries[] (name, queue, fields[] (key, label, type,
 *              required, max, options[] value))
 *              (format 3 is written only for a model that has any of these, for the same
 *              reason; format 4 writes this part even when all of it is empty)
 *   format 4 and 5: the reports part: report_zone, then for each queue, in order and
 *              without a count: sl_formula, short_abandon_s, sl_warn, sl_alarm,
 *              waiting_warn, waiting_alarm, wait_warn_s, wait_alarm_s
 *              (format 4 is written only for a model with a report_zone other than -1 or a
 *              queue with any of these other than 0, for the same reason; format 5 writes
 *              this part even when all of it is unset)
 *   format 5 only: the continuity part: fault_rules[] (signal, state, kind, severity),
 *              escalations[] (name, severities, components[], levels[] (after_s,
 *              to[] (kind, address))) (written only for a model with a rule or a path)
 *   format 6: the continuity part, then runbooks[] (engine__runbook_def_encode()) (format 6
 *              is written only for a model with a runbook, so every other model keeps the
 *              bytes it had)
 *
 * Only the used part of a fixed array is written, so the form is canonical: the decoder
 * accepts one byte string per model (minimal varints, every value within its field's
 * type, counts within the arrays) and encode(decode(x)) == x. The decoder checks
 * structure only; indices and orderings are engine_model_validate()'s business. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"
#include "common/buf.h"

#define MODEL_FORMAT 1
#define MODEL_FORMAT_PERSONAL 2
#define MODEL_FORMAT_CHAT 3
#define MODEL_FORMAT_REPORTS 4
#define MODEL_FORMAT_CONTINUITY 5
#define MODEL_FORMAT_RUNBOOKS 6

/* Fewest bytes one element of each array encodes to: a count is accepted only if that
 * many elements could fit in the bytes left, so a forged count cannot make us allocate
 * more than a small multiple of the input's size. */
#define MIN_SKILL 2
#define MIN_ZONE 4
#define MIN_TRANSITION 2
#define MIN_HOURS 11
#define MIN_HOLIDAY 2
#define MIN_QUEUE 16
#define MIN_AGENT 10
#define MIN_RULE 13
#define MIN_COND 12
#define MIN_ENTRY 3

struct enc
{
    struct cd_buf *b;
    int err;
};

/* ---- Encoding ----------------------------------------------------------------------- */

static void put_str(struct enc *w, const char *s, size_t size)
{
    cd_buf_fixed(w->b, s, size, &w->err);
}

static void put_count(struct enc *w, uint32_t n, uint32_t max)
{
    if (n > max) {
        w->err = CD_EINVAL;
    }
    cd_buf_uvar(w->b, n);
}

static void put_levels(struct enc *w,
                       const struct engine_skill_level *s,
                       uint8_t n,
                       uint8_t max)
{
    put_count(w, n, max);
    for (uint8_t i = 0; i < n && i < max; i++) {
        cd_buf_uvar(w->b, s[i].skill);
        cd_buf_uvar(w->b, s[i].level);
    }
}

static void put_day(struct enc *w, const struct engine_day_hours *d)
{
    put_count(w, d->n, ENGINE_INTERVALS_MAX);
    for (uint8_t i = 0; i < d->n && i < ENGINE_INTERVALS_MAX; i++) {
        cd_buf_uvar(w->b, d->iv[i].from_min);
        cd_buf_uvar(w->b, d->iv[i].to_min);
    }
}

static void put_zone(struct enc *w, const struct engine_zone *z)
{
    put_str(w, z->name, sizeof(z->name));
    cd_buf_svar(w->b, z->base_offset);
    put_count(w, z->n_transitions, z->transitions != NULL ? UINT32_MAX : 0);
    for (uint32_t i = 0; i < z->n_transitions && z->transitions != NULL; i++) {
        cd_buf_svar(w->b, z->transitions[i].at);
        cd_buf_svar(w->b, z->transitions[i].offset);
    }
}

static void put_hours(struct enc *w, const struct engine_hours *h)
{
    put_str(w, h->name, sizeof(h->name));
    cd_buf_uvar(w->b, h->zone);
    for (int d = 0; d < 7; d++) {
        put_day(w, &h->week[d]);
    }
    put_count(w, h->n_holidays, h->holidays != NULL ? UINT32_MAX : 0);
    for (uint32_t i = 0; i < h->n_holidays && h->holidays != NULL; i++) {
        cd_buf_svar(w->b, h->holidays[i].date);
        put_day(w, &h->holidays[i].hours);
    }
}

static void put_step(struct enc *w, const struct engine_escalation *s)
{
    cd_buf_uvar(w->b, s->after_s);
    cd_buf_uvar(w->b, s->relax);
    cd_buf_svar(w->b, s->priority_boost);
    put_count(w, s->n_drop, ENGINE_REQ_SKILLS);
    for (uint8_t i = 0; i < s->n_drop && i < ENGINE_REQ_SKILLS; i++) {
        cd_buf_uvar(w->b, s->drop[i]);
    }
}

static void put_queue(struct enc *w, const struct engine_queue *q)
{
    put_str(w, q->name, sizeof(q->name));
    cd_buf_uvar(w->b, q->channels);
    cd_buf_uvar(w->b, q->strategy);
    cd_buf_uvar(w->b, q->sl_target_s);
    cd_buf_uvar(w->b, q->sl_percent);
    cd_buf_uvar(w->b, q->max_size);
    cd_buf_uvar(w->b, q->max_wait_s);
    cd_buf_uvar(w->b, q->ring_s);
    cd_buf_uvar(w->b, q->wrapup_s);
    cd_buf_svar(w->b, q->hours);
    cd_buf_svar(w->b, q->overflow_queue);
    put_str(w, q->overflow_target, sizeof(q->overflow_target));
    put_levels(w, q->skills, q->n_skills, ENGINE_REQ_SKILLS);
    put_count(w, q->n_steps, ENGINE_STEPS_MAX);
    for (uint8_t i = 0; i < q->n_steps && i < ENGINE_STEPS_MAX; i++) {
        put_step(w, &q->steps[i]);
    }
}

static void put_agent(struct enc *w, const struct engine_agent_def *a)
{
    put_str(w, a->name, sizeof(a->name));
    put_str(w, a->site, sizeof(a->site));
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        cd_buf_uvar(w->b, a->capacity[c]);
    }
    put_levels(w, a->skills, a->n_skills, ENGINE_AGENT_SKILLS);
    put_count(w, a->n_queues, ENGINE_AGENT_QUEUES);
    for (uint8_t i = 0; i < a->n_queues && i < ENGINE_AGENT_QUEUES; i++) {
        cd_buf_uvar(w->b, a->queues[i]);
    }
}

static void put_cond(struct enc *w, const struct engine_condition *c)
{
    cd_buf_uvar(w->b, c->kind);
    cd_buf_uvar(w->b, c->op);
    cd_buf_uvar(w->b, c->channels);
    cd_buf_uvar(w->b, c->days);
    cd_buf_uvar(w->b, c->from_min);
    cd_buf_uvar(w->b, c->to_min);
    cd_buf_svar(w->b, c->zone);
    cd_buf_svar(w->b, c->queue);
    cd_buf_svar(w->b, c->number);
    put_str(w, c->key, sizeof(c->key));
    put_count(w, c->n_values, ENGINE_COND_VALUES);
    for (uint8_t i = 0; i < c->n_values && i < ENGINE_COND_VALUES; i++) {
        put_str(w, c->values[i], sizeof(c->values[i]));
    }
}

static void put_action(struct enc *w, const struct engine_action *a)
{
    cd_buf_uvar(w->b, a->kind);
    cd_buf_uvar(w->b, a->has_priority ? 1 : 0);
    cd_buf_svar(w->b, a->priority);
    cd_buf_svar(w->b, a->queue);
    put_str(w, a->target, sizeof(a->target));
    put_str(w, a->reason, sizeof(a->reason));
    put_levels(w, a->skills, a->n_skills, ENGINE_REQ_SKILLS);
    put_count(w, a->n_set, ENGINE_SET_MAX);
    for (uint8_t i = 0; i < a->n_set && i < ENGINE_SET_MAX; i++) {
        put_str(w, a->set[i].key, sizeof(a->set[i].key));
        put_str(w, a->set[i].value, sizeof(a->set[i].value));
    }
}

static void put_rule(struct enc *w, const struct engine_rule *r)
{
    put_str(w, r->name, sizeof(r->name));
    put_count(w, r->n_conds, r->conds != NULL ? UINT32_MAX : 0);
    for (uint32_t i = 0; i < r->n_conds && r->conds != NULL; i++) {
        put_cond(w, &r->conds[i]);
    }
    put_action(w, &r->action);
}

/* A top-level array: its count, then each element; a count without an array is an
 * error rather than a crash. */
#define PUT_ARRAY(w, n, arr, put)                                \
    do {                                                         \
        put_count((w), (n), (arr) != NULL ? UINT32_MAX : 0);     \
        for (uint32_t i_ = 0; i_ < (n) && (arr) != NULL; i_++) { \
            put((w), &(arr)[i_]);                                \
        }                                                        \
    } while (0)

static void put_skill(struct enc *w, const struct engine_name *s)
{
    put_str(w, s->s, sizeof(s->s));
}

static bool any_required(const struct engine_model *m)
{
    for (uint32_t i = 0; m->queues != NULL && i < m->n_queues; i++) {
        if (m->queues[i].disposition_required) {
            return true;
        }
    }
    return false;
}

/* Whether the model needs format 3. */
static bool has_chat_part(const struct engine_model *m)
{
    return m->n_away > 0 || m->n_dispositions > 0 || m->chat_reconnect_s != 0 ||
           m->n_chat_entries > 0 || any_required(m);
}

static void put_names(struct enc *w,
                      const char (*list)[ENGINE_VALUE_MAX],
                      uint32_t n,
                      uint32_t max)
{
    put_count(w, n, max);
    for (uint32_t i = 0; i < n && i < max; i++) {
        put_str(w, list[i], ENGINE_VALUE_MAX);
    }
}

static void put_field(struct enc *w, const struct engine_chat_field *f)
{
    put_str(w, f->key, sizeof(f->key));
    put_str(w, f->label, sizeof(f->label));
    cd_buf_uvar(w->b, f->type);
    cd_buf_uvar(w->b, f->required ? 1 : 0);
    cd_buf_uvar(w->b, f->max);
    put_count(w, f->n_options, ENGINE_CHAT_OPTIONS_MAX);
    for (uint8_t i = 0; i < f->n_options && i < ENGINE_CHAT_OPTIONS_MAX; i++) {
        put_str(w, f->options[i], sizeof(f->options[i]));
    }
}

static void put_entry(struct enc *w, const struct engine_chat_entry *ce)
{
    put_str(w, ce->name, sizeof(ce->name));
    cd_buf_svar(w->b, ce->queue);
    put_count(w, ce->n_fields, ENGINE_CHAT_FIELDS_MAX);
    for (uint8_t i = 0; i < ce->n_fields && i < ENGINE_CHAT_FIELDS_MAX; i++) {
        put_field(w, &ce->fields[i]);
    }
}

static void put_chat_part(struct enc *w, const struct engine_model *m)
{
    uint32_t n_required = 0;
    for (uint32_t i = 0; m->queues != NULL && i < m->n_queues; i++) {
        n_required += m->queues[i].disposition_required;
    }
    put_names(w, m->away, m->n_away, ENGINE_REASONS_MAX);
    put_names(w, m->dispositions, m->n_dispositions, ENGINE_DISPOSITIONS_MAX);
    cd_buf_uvar(w->b, n_required);
    for (uint32_t i = 0; m->queues != NULL && i < m->n_queues; i++) {
        if (m->queues[i].disposition_required) {
            cd_buf_uvar(w->b, i);
        }
    }
    cd_buf_uvar(w->b, m->chat_reconnect_s);
    PUT_ARRAY(w, m->n_chat_entries, m->chat_entries, put_entry);
}

static bool queue_reports_set(const struct engine_queue *q)
{
    const struct engine_thresholds *t = &q->thresholds;
    return q->sl_formula != 0 || q->short_abandon_s != 0 || t->sl_warn != 0 ||
           t->sl_alarm != 0 || t->waiting_warn != 0 || t->waiting_alarm != 0 ||
           t->wait_warn_s != 0 || t->wait_alarm_s != 0;
}

/* Whether the model needs format 4. */
static bool has_reports_part(const struct engine_model *m)
{
    for (uint32_t i = 0; m->queues != NULL && i < m->n_queues; i++) {
        if (queue_reports_set(&m->queues[i])) {
            return true;
        }
    }
    return m->report_zone != -1;
}

static void put_reports_part(struct enc *w, const struct engine_model *m)
{
    cd_buf_svar(w->b, m->report_zone);
    for (uint32_t i = 0; m->queues != NULL && i < m->n_queues; i++) {
        const struct engine_queue *q = &m->queues[i];
        const struct engine_thresholds *t = &q->thresholds;
        cd_buf_uvar(w->b, q->sl_formula);
        cd_buf_uvar(w->b, q->short_abandon_s);
        cd_buf_uvar(w->b, t->sl_warn);
        cd_buf_uvar(w->b, t->sl_alarm);
        cd_buf_uvar(w->b, t->waiting_warn);
        cd_buf_uvar(w->b, t->waiting_alarm);
        cd_buf_uvar(w->b, t->wait_warn_s);
        cd_buf_uvar(w->b, t->wait_alarm_s);
    }
}

static void put_fault_rule(struct enc *w, const struct engine_fault_rule_def *f)
{
    put_str(w, f->signal, sizeof(f->signal));
    cd_buf_uvar(w->b, f->state);
    put_str(w, f->kind, sizeof(f->kind));
    cd_buf_uvar(w->b, f->severity);
}

static void put_escalation(struct enc *w, const struct engine_escalation_path *p)
{
    put_str(w, p->name, sizeof(p->name));
    cd_buf_uvar(w->b, p->severities);
    put_count(w, p->n_components, ENGINE_COMPONENTS_MAX);
    for (uint32_t i = 0; i < p->n_components && i < ENGINE_COMPONENTS_MAX; i++) {
        put_str(w, p->components[i], sizeof(p->components[i]));
    }
    put_count(w, p->n_levels, ENGINE_LEVELS_MAX);
    for (uint32_t i = 0; i < p->n_levels && i < ENGINE_LEVELS_MAX; i++) {
        const struct engine_escalation_level *l = &p->levels[i];
        cd_buf_uvar(w->b, l->after_s);
        put_count(w, l->n_to, ENGINE_NOTIFY_MAX);
        for (uint32_t k = 0; k < l->n_to && k < ENGINE_NOTIFY_MAX; k++) {
            cd_buf_uvar(w->b, l->to[k].kind);
            put_str(w, l->to[k].address, sizeof(l->to[k].address));
        }
    }
}

static bool has_continuity_part(const struct engine_model *m)
{
    return m->n_fault_rules > 0 || m->n_escalations > 0;
}

static uint8_t format_of(const struct engine_model *m)
{
    if (m->n_runbooks > 0) {
        return MODEL_FORMAT_RUNBOOKS;
    }
    if (has_continuity_part(m)) {
        return MODEL_FORMAT_CONTINUITY;
    }
    if (has_reports_part(m)) {
        return MODEL_FORMAT_REPORTS;
    }
    if (has_chat_part(m)) {
        return MODEL_FORMAT_CHAT;
    }
    return m->n_personal > 0 ? MODEL_FORMAT_PERSONAL : MODEL_FORMAT;
}

int engine_model_encode(const struct engine_model *m, struct cd_buf *out)
{
    struct enc w = {out, 0};
    size_t start = out->len;
    uint8_t format = format_of(m);
    bool chat = format >= MODEL_FORMAT_CHAT;
    cd_buf_u8(out, format);
    PUT_ARRAY(&w, m->n_skills, m->skills, put_skill);
    PUT_ARRAY(&w, m->n_zones, m->zones, put_zone);
    PUT_ARRAY(&w, m->n_hours, m->hours, put_hours);
    PUT_ARRAY(&w, m->n_queues, m->queues, put_queue);
    PUT_ARRAY(&w, m->n_agents, m->agents, put_agent);
    PUT_ARRAY(&w, m->n_rules, m->rules, put_rule);
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        cd_buf_uvar(out, m->blocks[c]);
    }
    put_str(&w, m->rna_reason, sizeof(m->rna_reason));
    if (m->n_personal > ENGINE_PERSONAL_MAX) {
        w.err = CD_EINVAL;
    } else if (m->n_personal > 0 || chat) {
        cd_buf_uvar(out, m->n_personal);
        for (uint32_t i = 0; i < m->n_personal; i++) {
            put_str(&w, m->personal[i], sizeof(m->personal[i]));
        }
    }
    if (chat) {
        put_chat_part(&w, m);
    }
    if (format >= MODEL_FORMAT_REPORTS) {
        put_reports_part(&w, m);
    }
    if (format >= MODEL_FORMAT_CONTINUITY) {
        if (m->n_fault_rules > ENGINE_FAULT_RULES_MAX ||
            m->n_escalations > ENGINE_ESCALATIONS_MAX) {
            w.err = CD_EINVAL;
        }
        PUT_ARRAY(&w, m->n_fault_rules, m->fault_rules, put_fault_rule);
        PUT_ARRAY(&w, m->n_escalations, m->escalations, put_escalation);
    }
    if (format == MODEL_FORMAT_RUNBOOKS) {
        if (m->n_runbooks > ENGINE_RUNBOOKS_MAX) {
            w.err = CD_EINVAL;
        }
        cd_buf_uvar(out, m->n_runbooks);
        for (uint32_t i = 0; i < m->n_runbooks && i < ENGINE_RUNBOOKS_MAX; i++) {
            engine__runbook_def_encode(out, &m->runbooks[i]);
        }
    }
    int rv = out->err != 0 ? out->err : w.err;
    if (rv != 0 && out->err == 0) {
        out->len = start;
    }
    return rv;
}

/* ---- Decoding ----------------------------------------------------------------------- */

static uint8_t get_u8(struct cd_reader *r)
{
    return (uint8_t)cd_rd_uint(r, UINT8_MAX);
}

static uint16_t get_u16(struct cd_reader *r)
{
    return (uint16_t)cd_rd_uint(r, UINT16_MAX);
}

static uint32_t get_u32(struct cd_reader *r)
{
    return (uint32_t)cd_rd_uint(r, UINT32_MAX);
}

static int32_t get_s32(struct cd_reader *r)
{
    return (int32_t)cd_rd_int(r, INT32_MIN, INT32_MAX);
}

static uint8_t get_count8(struct cd_reader *r, uint8_t max)
{
    return (uint8_t)cd_rd_uint(r, max);
}

/* An array's count, no more than `max` and than the bytes left allow, and a zeroed array
 * for it (NULL for 0). Returns 0, CD_ECORRUPT or CD_ENOMEM. */
static int get_array(struct cd_reader *r,
                     uint64_t max,
                     size_t min_size,
                     size_t size,
                     uint32_t *n,
                     void **arr)
{
    uint64_t count = cd_rd_uint(r, max);
    if (r->err != 0 || count > cd_rd_left(r) / min_size) {
        cd_rd_fail(r);
        return CD_ECORRUPT;
    }
    if (count == 0) {
        return 0;
    }
    *arr = cd_calloc((size_t)count, size);
    if (*arr == NULL) {
        return CD_ENOMEM;
    }
    *n = (uint32_t)count;
    return 0;
}

static void get_levels(struct cd_reader *r,
                       struct engine_skill_level *s,
                       uint8_t *n,
                       uint8_t max)
{
    *n = get_count8(r, max);
    for (uint8_t i = 0; i < *n; i++) {
        s[i].skill = get_u16(r);
        s[i].level = get_u8(r);
    }
}

static void get_day(struct cd_reader *r, struct engine_day_hours *d)
{
    d->n = get_count8(r, ENGINE_INTERVALS_MAX);
    for (uint8_t i = 0; i < d->n; i++) {
        d->iv[i].from_min = get_u16(r);
        d->iv[i].to_min = get_u16(r);
    }
}

static int get_zone(struct cd_reader *r, struct engine_zone *z)
{
    cd_rd_strcpy(r, z->name, sizeof(z->name));
    z->base_offset = get_s32(r);
    int rv = get_array(r, UINT32_MAX, MIN_TRANSITION, sizeof(*z->transitions),
                       &z->n_transitions, (void **)&z->transitions);
    for (uint32_t i = 0; rv == 0 && i < z->n_transitions; i++) {
        z->transitions[i].at = cd_rd_int(r, INT64_MIN, INT64_MAX);
        z->transitions[i].offset = get_s32(r);
    }
    return rv != 0 ? rv : r->err;
}

static int get_hours(struct cd_reader *r, struct engine_hours *h)
{
    cd_rd_strcpy(r, h->name, sizeof(h->name));
    h->zone = get_u32(r);
    for (int d = 0; d < 7; d++) {
        get_day(r, &h->week[d]);
    }
    int rv = get_array(r, UINT32_MAX, MIN_HOLIDAY, sizeof(*h->holidays), &h->n_holidays,
                       (void **)&h->holidays);
    for (uint32_t i = 0; rv == 0 && i < h->n_holidays; i++) {
        h->holidays[i].date = get_s32(r);
        get_day(r, &h->holidays[i].hours);
    }
    return rv != 0 ? rv : r->err;
}

static void get_step(struct cd_reader *r, struct engine_escalation *s)
{
    s->after_s = get_u32(r);
    s->relax = get_u8(r);
    s->priority_boost = (int16_t)cd_rd_int(r, INT16_MIN, INT16_MAX);
    s->n_drop = get_count8(r, ENGINE_REQ_SKILLS);
    for (uint8_t i = 0; i < s->n_drop; i++) {
        s->drop[i] = get_u16(r);
    }
}

static int get_queue(struct cd_reader *r, struct engine_queue *q)
{
    cd_rd_strcpy(r, q->name, sizeof(q->name));
    q->channels = get_u8(r);
    q->strategy = get_u8(r);
    q->sl_target_s = get_u32(r);
    q->sl_percent = get_u8(r);
    q->max_size = get_u32(r);
    q->max_wait_s = get_u32(r);
    q->ring_s = get_u32(r);
    q->wrapup_s = get_u32(r);
    q->hours = get_s32(r);
    q->overflow_queue = get_s32(r);
    cd_rd_strcpy(r, q->overflow_target, sizeof(q->overflow_target));
    get_levels(r, q->skills, &q->n_skills, ENGINE_REQ_SKILLS);
    q->n_steps = get_count8(r, ENGINE_STEPS_MAX);
    for (uint8_t i = 0; i < q->n_steps; i++) {
        get_step(r, &q->steps[i]);
    }
    return r->err;
}

static int get_agent(struct cd_reader *r, struct engine_agent_def *a)
{
    cd_rd_strcpy(r, a->name, sizeof(a->name));
    cd_rd_strcpy(r, a->site, sizeof(a->site));
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        a->capacity[c] = get_u8(r);
    }
    get_levels(r, a->skills, &a->n_skills, ENGINE_AGENT_SKILLS);
    a->n_queues = get_count8(r, ENGINE_AGENT_QUEUES);
    for (uint8_t i = 0; i < a->n_queues; i++) {
        a->queues[i] = get_u16(r);
    }
    return r->err;
}

static void get_cond(struct cd_reader *r, struct engine_condition *c)
{
    c->kind = get_u8(r);
    c->op = get_u8(r);
    c->channels = get_u8(r);
    c->days = get_u8(r);
    c->from_min = get_u16(r);
    c->to_min = get_u16(r);
    c->zone = get_s32(r);
    c->queue = get_s32(r);
    c->number = cd_rd_int(r, INT64_MIN, INT64_MAX);
    cd_rd_strcpy(r, c->key, sizeof(c->key));
    c->n_values = get_count8(r, ENGINE_COND_VALUES);
    for (uint8_t i = 0; i < c->n_values; i++) {
        cd_rd_strcpy(r, c->values[i], sizeof(c->values[i]));
    }
}

static void get_action(struct cd_reader *r, struct engine_action *a)
{
    a->kind = get_u8(r);
    a->has_priority = cd_rd_bool(r);
    a->priority = (int16_t)cd_rd_int(r, INT16_MIN, INT16_MAX);
    a->queue = get_s32(r);
    cd_rd_strcpy(r, a->target, sizeof(a->target));
    cd_rd_strcpy(r, a->reason, sizeof(a->reason));
    get_levels(r, a->skills, &a->n_skills, ENGINE_REQ_SKILLS);
    a->n_set = get_count8(r, ENGINE_SET_MAX);
    for (uint8_t i = 0; i < a->n_set; i++) {
        cd_rd_strcpy(r, a->set[i].key, sizeof(a->set[i].key));
        cd_rd_strcpy(r, a->set[i].value, sizeof(a->set[i].value));
    }
}

static int get_rule(struct cd_reader *r, struct engine_rule *x)
{
    cd_rd_strcpy(r, x->name, sizeof(x->name));
    int rv =
        get_array(r, UINT32_MAX, MIN_COND, sizeof(*x->conds), &x->n_conds, (void **)&x->conds);
    for (uint32_t i = 0; rv == 0 && i < x->n_conds; i++) {
        get_cond(r, &x->conds[i]);
    }
    if (rv == 0) {
        get_action(r, &x->action);
    }
    return rv != 0 ? rv : r->err;
}

static int get_skill(struct cd_reader *r, struct engine_name *s)
{
    cd_rd_strcpy(r, s->s, sizeof(s->s));
    return r->err;
}

/* A top-level array: count, allocation, then each element until the first error. The
 * count is stored before the elements are read, so engine_model_close() frees whatever
 * nested arrays were allocated. */
#define GET_ARRAY(r, max, min_size, n, arr, get)                                            \
    do {                                                                                    \
        int rv_ = get_array((r), (max), (min_size), sizeof(*(arr)), &(n), (void **)&(arr)); \
        for (uint32_t i_ = 0; rv_ == 0 && i_ < (n); i_++) {                                 \
            rv_ = get((r), &(arr)[i_]);                                                     \
        }                                                                                   \
        if (rv_ != 0) {                                                                     \
            return rv_ == CD_ENOMEM ? rv_ : CD_ECORRUPT;                                    \
        }                                                                                   \
    } while (0)

/* Format 2: at least one key (none is written as format 1, keeping the form canonical). */
static void get_personal(struct cd_reader *r, struct engine_model *m)
{
    uint64_t n = cd_rd_uvar(r);
    if (r->err != 0 || n == 0 || n > ENGINE_PERSONAL_MAX) {
        cd_rd_fail(r);
        return;
    }
    m->n_personal = (uint8_t)n;
    for (uint32_t i = 0; i < m->n_personal; i++) {
        cd_rd_strcpy(r, m->personal[i], sizeof(m->personal[i]));
    }
}

/* Format 3: the personal keys (maybe none), then the lists and the chat section. */
static void get_names(struct cd_reader *r,
                      char (*list)[ENGINE_VALUE_MAX],
                      uint8_t *n,
                      uint8_t max)
{
    *n = get_count8(r, max);
    for (uint8_t i = 0; i < *n; i++) {
        cd_rd_strcpy(r, list[i], ENGINE_VALUE_MAX);
    }
}

static void get_field(struct cd_reader *r, struct engine_chat_field *f)
{
    cd_rd_strcpy(r, f->key, sizeof(f->key));
    cd_rd_strcpy(r, f->label, sizeof(f->label));
    f->type = get_u8(r);
    f->required = cd_rd_bool(r);
    f->max = get_u8(r);
    f->n_options = get_count8(r, ENGINE_CHAT_OPTIONS_MAX);
    for (uint8_t i = 0; i < f->n_options; i++) {
        cd_rd_strcpy(r, f->options[i], sizeof(f->options[i]));
    }
}

static int get_entry(struct cd_reader *r, struct engine_chat_entry *ce)
{
    cd_rd_strcpy(r, ce->name, sizeof(ce->name));
    ce->queue = get_s32(r);
    ce->n_fields = get_count8(r, ENGINE_CHAT_FIELDS_MAX);
    for (uint8_t i = 0; i < ce->n_fields; i++) {
        get_field(r, &ce->fields[i]);
    }
    return r->err;
}

/* Queue indices ascending and in range: one encoding per set of queues. */
static void get_required(struct cd_reader *r, struct engine_model *m)
{
    uint64_t n = cd_rd_uint(r, m->n_queues);
    int64_t prev = -1;
    for (uint64_t i = 0; i < n && r->err == 0; i++) {
        uint64_t q = cd_rd_uint(r, m->n_queues > 0 ? m->n_queues - 1 : 0);
        if (m->n_queues == 0 || (int64_t)q <= prev) {
            cd_rd_fail(r);
            return;
        }
        m->queues[q].disposition_required = true;
        prev = (int64_t)q;
    }
}

/* only_part: format 3, where this part is the last and so written only when something in
 * it is set. */
static int get_chat_part(struct cd_reader *r, struct engine_model *m, bool only_part)
{
    uint64_t n = cd_rd_uint(r, ENGINE_PERSONAL_MAX);
    m->n_personal = (uint8_t)n;
    for (uint32_t i = 0; i < m->n_personal; i++) {
        cd_rd_strcpy(r, m->personal[i], sizeof(m->personal[i]));
    }
    get_names(r, m->away, &m->n_away, ENGINE_REASONS_MAX);
    get_names(r, m->dispositions, &m->n_dispositions, ENGINE_DISPOSITIONS_MAX);
    get_required(r, m);
    m->chat_reconnect_s = get_u32(r);
    if (r->err != 0) {
        return CD_ECORRUPT;
    }
    GET_ARRAY(r, ENGINE_CHAT_ENTRIES_MAX, MIN_ENTRY, m->n_chat_entries, m->chat_entries,
              get_entry);
    if (only_part && m->n_away == 0 && m->n_dispositions == 0 && m->chat_reconnect_s == 0 &&
        m->n_chat_entries == 0 && !any_required(m)) {
        cd_rd_fail(r);
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

/* Format 4: written only when something in it is set (only_part); format 5: always. */
static int get_reports_part(struct cd_reader *r, struct engine_model *m, bool only_part)
{
    m->report_zone = get_s32(r);
    bool set = m->report_zone != -1;
    for (uint32_t i = 0; i < m->n_queues && r->err == 0; i++) {
        struct engine_queue *q = &m->queues[i];
        struct engine_thresholds *t = &q->thresholds;
        q->sl_formula = get_u8(r);
        q->short_abandon_s = get_u32(r);
        t->sl_warn = get_u8(r);
        t->sl_alarm = get_u8(r);
        t->waiting_warn = get_u32(r);
        t->waiting_alarm = get_u32(r);
        t->wait_warn_s = get_u32(r);
        t->wait_alarm_s = get_u32(r);
        set = set || queue_reports_set(q);
    }
    if (!set && only_part) {
        cd_rd_fail(r);
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

static int get_fault_rule(struct cd_reader *r, struct engine_fault_rule_def *f)
{
    cd_rd_strcpy(r, f->signal, sizeof(f->signal));
    f->state = get_u8(r);
    cd_rd_strcpy(r, f->kind, sizeof(f->kind));
    f->severity = get_u8(r);
    return r->err != 0 ? CD_ECORRUPT : 0;
}

static int get_escalation(struct cd_reader *r, struct engine_escalation_path *p)
{
    cd_rd_strcpy(r, p->name, sizeof(p->name));
    p->severities = get_u8(r);
    p->n_components = get_count8(r, ENGINE_COMPONENTS_MAX);
    for (uint32_t i = 0; i < p->n_components; i++) {
        cd_rd_strcpy(r, p->components[i], sizeof(p->components[i]));
    }
    p->n_levels = get_count8(r, ENGINE_LEVELS_MAX);
    for (uint32_t i = 0; i < p->n_levels && r->err == 0; i++) {
        struct engine_escalation_level *l = &p->levels[i];
        l->after_s = get_u32(r);
        l->n_to = get_count8(r, ENGINE_NOTIFY_MAX);
        for (uint32_t k = 0; k < l->n_to; k++) {
            l->to[k].kind = get_u8(r);
            cd_rd_strcpy(r, l->to[k].address, sizeof(l->to[k].address));
        }
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

/* Format 5: written only when something in it is set; format 6: runbooks after it. */
static int get_continuity_part(struct cd_reader *r, struct engine_model *m, bool runbooks)
{
    GET_ARRAY(r, ENGINE_FAULT_RULES_MAX, 4, m->n_fault_rules, m->fault_rules, get_fault_rule);
    GET_ARRAY(r, ENGINE_ESCALATIONS_MAX, 5, m->n_escalations, m->escalations, get_escalation);
    if (!runbooks && !has_continuity_part(m)) {
        cd_rd_fail(r);
    }
    if (runbooks && r->err == 0) {
        uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_RUNBOOKS_MAX);
        if (n == 0 || r->err != 0) {
            cd_rd_fail(r);
            return CD_ECORRUPT;
        }
        m->runbooks = cd_calloc(n, sizeof(*m->runbooks));
        if (m->runbooks == NULL) {
            return CD_ENOMEM;
        }
        m->n_runbooks = n;
        for (uint32_t i = 0; i < n; i++) {
            if (engine__runbook_def_decode(r, &m->runbooks[i]) != 0) {
                return CD_ECORRUPT;
            }
        }
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

static int get_model(struct cd_reader *r, struct engine_model *m, uint8_t format)
{
    GET_ARRAY(r, UINT16_MAX, MIN_SKILL, m->n_skills, m->skills, get_skill);
    GET_ARRAY(r, UINT32_MAX, MIN_ZONE, m->n_zones, m->zones, get_zone);
    GET_ARRAY(r, UINT32_MAX, MIN_HOURS, m->n_hours, m->hours, get_hours);
    GET_ARRAY(r, UINT16_MAX, MIN_QUEUE, m->n_queues, m->queues, get_queue);
    GET_ARRAY(r, UINT32_MAX, MIN_AGENT, m->n_agents, m->agents, get_agent);
    GET_ARRAY(r, UINT16_MAX, MIN_RULE, m->n_rules, m->rules, get_rule);
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        m->blocks[c] = get_u8(r);
    }
    cd_rd_strcpy(r, m->rna_reason, sizeof(m->rna_reason));
    if (format == MODEL_FORMAT_PERSONAL) {
        get_personal(r, m);
    } else if (format >= MODEL_FORMAT_CHAT && r->err == 0) {
        int rv = get_chat_part(r, m, format == MODEL_FORMAT_CHAT);
        if (rv != 0 || format == MODEL_FORMAT_CHAT) {
            return rv;
        }
        rv = get_reports_part(r, m, format == MODEL_FORMAT_REPORTS);
        if (rv != 0 || format == MODEL_FORMAT_REPORTS) {
            return rv;
        }
        return get_continuity_part(r, m, format == MODEL_FORMAT_RUNBOOKS);
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

int engine_model_decode(struct cd_reader *r, struct engine_model *m)
{
    engine_model_init(m);
    uint8_t format = cd_rd_u8(r);
    if (r->err != 0) {
        return CD_ECORRUPT;
    }
    if (format < MODEL_FORMAT || format > MODEL_FORMAT_RUNBOOKS) {
        cd_rd_fail(r);
        return CD_EVERSION;
    }
    int rv = get_model(r, m, format);
    if (rv != 0) {
        cd_rd_fail(r);
        engine_model_close(m);
    }
    return rv;
}
