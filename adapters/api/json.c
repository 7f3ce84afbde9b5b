/* Engine and storage records as JSON. Times are milliseconds since the epoch; 0 = never. */
#include <stdlib.h>

#include "adapters/api/internal.h"
#include "storage/storage.h"

static json_t *skills_json(const struct engine_skill_ref *skills, unsigned n)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{s:s,s:i}", "skill", skills[i].skill, "level",
                                             (int)skills[i].level));
    }
    return arr;
}

static json_t *per_channel(const uint8_t *v)
{
    json_t *obj = json_object();
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        json_object_set_new(obj, engine_channel_name(ch), json_integer(v[ch]));
    }
    return obj;
}

json_t *api__contact_json(const struct engine_contact_info *c)
{
    json_t *attrs = json_object();
    for (unsigned i = 0; i < c->n_attrs; i++) {
        json_object_set_new(attrs, c->attrs[i].key, json_string(c->attrs[i].value));
    }
    json_t *session = json_pack("{s:s,s:s,s:b,s:I}", "home", c->home ? c->home : "", "key",
                                c->session ? c->session : "", "lost", c->session_lost,
                                "reconnect_by", (json_int_t)c->reconnect_by);
    json_t *j =
        json_pack("{s:I,s:s,s:s,s:i,s:i,s:b,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "id",
                  (json_int_t)c->id, "channel", engine_channel_name(c->channel), "state",
                  engine_contact_state_name(c->state), "priority", (int)c->priority, "step",
                  (int)c->step, "callback", c->callback, "key", c->key ? c->key : "", "queue",
                  c->queue ? c->queue : "", "agent", c->agent ? c->agent : "", "offer",
                  (json_int_t)c->offer, "arrived", (json_int_t)c->arrived, "enqueued",
                  (json_int_t)c->enqueued, "answered", (json_int_t)c->answered, "attributes",
                  attrs, "skills", skills_json(c->skills, c->n_skills), "session", session);
    json_object_set_new(j, "message_count", json_integer(c->messages));
    json_object_set_new(j, "held_since", json_integer(c->held_since));
    return j;
}

json_t *api__agent_json(const struct engine_agent_info *a)
{
    json_t *queues = json_array();
    for (unsigned i = 0; i < a->n_queues; i++) {
        json_array_append_new(queues, json_string(a->queues[i]));
    }
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:i,s:o}", "name", a->name, "site",
                          a->site ? a->site : "", "presence", engine_presence_name(a->presence),
                          "state", engine_agent_state_name(a->state), "reason",
                          a->reason ? a->reason : "", "capacity", per_channel(a->capacity),
                          "load", per_channel(a->load), "last_idle", (json_int_t)a->last_idle,
                          "occupancy_permille", (int)a->occupancy_permille, "skills",
                          skills_json(a->skills, a->n_skills));
    json_object_set_new(j, "state_since", json_integer(a->state_since));
    json_object_set_new(j, "queues", queues);
    return j;
}

/* {"warn", "alarm"}, each null when not set (0). */
static json_t *threshold_pair(uint32_t warn, uint32_t alarm)
{
    return json_pack("{s:o,s:o}", "warn", warn ? json_integer(warn) : json_null(), "alarm",
                     alarm ? json_integer(alarm) : json_null());
}

static json_t *thresholds_json(const struct engine_thresholds *t)
{
    return json_pack("{s:o,s:o,s:o}", "service_level", threshold_pair(t->sl_warn, t->sl_alarm),
                     "waiting", threshold_pair(t->waiting_warn, t->waiting_alarm),
                     "longest_wait_s", threshold_pair(t->wait_warn_s, t->wait_alarm_s));
}

/* Today's service level, counting the contacts waiting past the target now against it
 * (as abandoned after the target would be); null when there is nothing to divide by. */
static json_t *live_sl(const struct engine_queue_info *q, uint32_t waiting_past)
{
    uint64_t base = (uint64_t)q->answered + q->abandoned_after_sl + waiting_past;
    if (base == 0) {
        return json_null();
    }
    return json_integer((json_int_t)((uint64_t)q->answered_in_sl * 1000 / base));
}

json_t *api__queue_json(const struct engine_queue_info *q, uint32_t waiting_past)
{
    const struct engine_queue_totals *t = &q->totals;
    json_t *j = json_pack(
        "{s:s,s:b,s:b,s:b,s:i,s:I,s:I,s:i,s:i,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i}}", "name",
        q->name, "open", q->open, "paused", q->paused, "retired", q->retired, "waiting",
        (int)q->waiting, "oldest_enqueued", (json_int_t)q->oldest_enqueued, "ewt_ms",
        (json_int_t)q->ewt_ms, "staffed", (int)q->staffed, "available", (int)q->available,
        "today", "arrived", (int)q->arrived, "offered", (int)q->offered, "answered",
        (int)q->answered, "answered_in_sl", (int)q->answered_in_sl, "abandoned",
        (int)q->abandoned, "overflowed", (int)q->overflowed, "timed_out", (int)q->timed_out);
    json_object_set_new(j, "waiting_past_target", json_integer(waiting_past));
    json_object_set_new(json_object_get(j, "today"), "sl_permille", live_sl(q, waiting_past));
    json_object_set_new(
        j, "totals",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "arrived",
                  (json_int_t)t->arrived, "offered", (json_int_t)t->offered, "answered",
                  (json_int_t)t->answered, "answered_in_sl", (json_int_t)t->answered_in_sl,
                  "abandoned", (json_int_t)t->abandoned, "abandoned_after_sl",
                  (json_int_t)t->abandoned_after_sl, "overflowed", (json_int_t)t->overflowed,
                  "timed_out", (json_int_t)t->timed_out, "handled", (json_int_t)t->handled,
                  "answer_wait_ms", (json_int_t)t->answer_wait_ms, "handle_ms",
                  (json_int_t)t->handle_ms));
    const char *formula = engine_sl_formula_name(q->sl_formula);
    json_object_set_new(j, "service_level",
                        json_pack("{s:I,s:i,s:s}", "target_s", (json_int_t)q->sl_target_s,
                                  "percent", (int)q->sl_percent, "formula",
                                  formula != NULL ? formula : "answered_abandoned"));
    json_object_set_new(j, "thresholds", thresholds_json(&q->thresholds));
    return j;
}

uint32_t *api__waiting_past(const struct engine *e)
{
    size_t n = engine_queue_count(e);
    uint32_t *counts = calloc(n ? n : 1, sizeof(*counts));
    if (counts != NULL) {
        engine_queues_waiting_past(e, cluster_wall_ms(), counts);
    }
    return counts;
}

json_t *api__history_json(const struct storage_history *h)
{
    json_t *attrs = json_object();
    for (unsigned i = 0; i < h->n_attrs; i++) {
        json_object_set_new(attrs, h->attrs[i].key, json_string(h->attrs[i].value));
    }
    json_t *j =
        json_pack("{s:I,s:s,s:s,s:b,s:i,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:b}", "id",
                  (json_int_t)h->contact, "channel", engine_channel_name(h->channel), "state",
                  engine_contact_state_name(h->outcome), "finished", 1, "priority",
                  (int)h->priority, "queue", h->queue, "agent", h->agent, "reason", h->reason,
                  "arrived", (json_int_t)h->arrived, "offered", (json_int_t)h->offered,
                  "answered", (json_int_t)h->answered, "ended", (json_int_t)h->ended,
                  "completed", (json_int_t)h->completed, "offers", (int)h->offers, "transfers",
                  (int)h->transfers, "callback", (int)h->callback);
    json_object_set_new(j, "key", json_string(h->key));
    json_object_set_new(j, "attributes", attrs);
    json_object_set_new(j, "disposition", json_string(h->disposition));
    json_object_set_new(j, "notes", json_string(h->notes));
    json_object_set_new(j, "message_count", json_integer(h->n_messages));
    json_object_set_new(j, "rule", json_string(api__path_rule(h->path, h->path_len)));
    json_object_set_new(j, "path", api__path_json(h->path, h->path_len));
    return j;
}
