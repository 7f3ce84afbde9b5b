/* Building a routing model from its YAML tree. Private to config/.
 *
 * The builder reads the document section by section into a struct config_model it owns;
 * every reference (skill, queue, hours, zone) is resolved to an index on the way, and the
 * first problem ends the build with a positioned message in b->c. */
#ifndef CD_CONFIG_MODEL_H
#define CD_CONFIG_MODEL_H

#include "config/check.h"
#include "config/config.h"
#include "config/names.h"
#include "config/yaml_doc.h"

/* A queue's service level as service_level: gives it. */
struct model_sl
{
    uint32_t target_s;
    uint8_t percent;
    uint8_t formula; /* enum engine_sl_formula */
    uint32_t short_abandon_s;
};

struct model_defaults
{
    uint32_t ring_s;
    uint32_t wrapup_s;
    uint32_t max_wait_s;
    struct model_sl sl;
    struct engine_thresholds thresholds;
    uint8_t capacity[ENGINE_CH_COUNT];
    const struct ynode *zone; /* default zone of time conditions; NULL = UTC */
};

struct model_builder
{
    struct cfg_ctx c;
    struct config_model *out;
    struct engine_model *m; /* &out->model */
    uint32_t cap_zones;
    /* Names borrow the document's strings: the tree outlives the builder. */
    struct names skills, zones, hours, queues, agents, rules;
    struct model_defaults def;
};

/* Index of the zone named by scalar n, loading it on first use. */
int model_zone(struct model_builder *b, const struct ynode *n, int32_t *out);
/* Index of the skill named by scalar n. */
int model_skill(struct model_builder *b, const struct ynode *n, uint16_t *out);
/* Index of the queue named by scalar n. */
int model_queue(struct model_builder *b, const struct ynode *n, int32_t *out);
/* A mapping {skill: proficiency} of at most max entries. */
int model_skill_levels(struct model_builder *b,
                       const struct ynode *n,
                       uint8_t max,
                       struct engine_skill_level *v,
                       uint8_t *count);
/* An overflow mapping {queue: name} or {target: "sip:..."}. */
int model_overflow(struct model_builder *b,
                   const struct ynode *n,
                   int32_t *queue,
                   char *target,
                   size_t cap);

/* service_level: {target, percent, formula, short_abandon}: each key given replaces that
 * of *sl (model_reports.c). */
int model_read_service_level(struct model_builder *b,
                             const struct ynode *n,
                             struct model_sl *sl);
/* thresholds: {service_level, waiting, longest_wait}, each {warn, alarm}: each pair given
 * replaces that of *t as a whole. */
int model_read_thresholds(struct model_builder *b,
                          const struct ynode *n,
                          struct engine_thresholds *t);

/* A mapping {channel: 0..255}; channels not named get 0. */
int model_read_capacity(struct model_builder *b, const struct ynode *n, uint8_t *cap);

int model_read_hours(struct model_builder *b, const struct ynode *n);
/* continuity: {faults, escalation} (model_continuity.c). */
int model_read_continuity(struct model_builder *b, const struct ynode *n);
int model_read_runbooks(struct model_builder *b, const struct ynode *n);
/* Registers every queue name (so that queues may refer to later ones), then reads them. */
int model_read_queues(struct model_builder *b, const struct ynode *n);
int model_check_overflow_loops(struct model_builder *b, const struct ynode *n);
int model_read_agents(struct model_builder *b, const struct ynode *n);
/* when: a mapping of conditions, or a list of such mappings; all must hold. Conditions
 * that look at a queue default to the queue of r's action, which must be read first. */
int model_read_when(struct model_builder *b, struct engine_rule *r, const struct ynode *n);
int model_read_rules(struct model_builder *b, const struct ynode *n);
/* away_reasons, dispositions and chat (model_chat.c); chat refers to queues. */
int model_read_away(struct model_builder *b, const struct ynode *n);
int model_read_dispositions(struct model_builder *b, const struct ynode *n);
int model_check_dispositions(struct model_builder *b, const struct ynode *queues);
int model_read_chat(struct model_builder *b, const struct ynode *n);

#endif
