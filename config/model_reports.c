/* What reports and the wallboard read from a queue, in defaults: and in each queue: the
 * service level's goal and formula, what counts as a short abandon, and the thresholds at
 * which a figure turns to a warning or an alarm. */
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define SL_TARGET_MAX 86400
#define WAITING_MAX 1000000
#define LONGEST_WAIT_MAX (30u * 86400)

static int read_formula(struct model_builder *b, const struct ynode *n, uint8_t *out)
{
    int f = n->kind == YNODE_SCALAR ? engine_sl_formula_parse(n->value) : -1;
    if (f < 0) {
        return cfg_fail(&b->c, n,
                        "formula: unknown formula '%s' (expected one of: answered_abandoned, "
                        "offered, short_excluded)",
                        n->kind == YNODE_SCALAR ? n->value : "a collection");
    }
    *out = (uint8_t)f;
    return 0;
}

int model_read_service_level(struct model_builder *b,
                             const struct ynode *n,
                             struct model_sl *sl)
{
    static const char *const keys[] = {"target", "percent", "formula", "short_abandon", NULL};
    const struct ynode *e;
    int64_t pct;
    if (cfg_keys(&b->c, n, keys) != 0 ||
        ((e = ynode_get(n, "target")) != NULL &&
         cfg_duration(&b->c, e, 1, SL_TARGET_MAX, &sl->target_s) != 0) ||
        ((e = ynode_get(n, "formula")) != NULL && read_formula(b, e, &sl->formula) != 0) ||
        ((e = ynode_get(n, "short_abandon")) != NULL &&
         cfg_duration(&b->c, e, 0, ENGINE_SHORT_ABANDON_MAX, &sl->short_abandon_s) != 0)) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "percent")) != NULL) {
        if (cfg_int(&b->c, e, 1, 100, &pct) != 0) {
            return CD_EPARSE;
        }
        sl->percent = (uint8_t)pct;
    }
    return 0;
}

/* One kind of threshold: how its values are written and which way is worse. */
struct level_kind
{
    const char *key;
    const char *what; /* for the message when warn and alarm are the wrong way round */
    bool duration;
    uint32_t max;
    bool lower_is_worse;
};

static const struct level_kind service_level = {"service_level", "a lower service level", false,
                                                100, true};
static const struct level_kind waiting = {"waiting", "more contacts waiting", false,
                                          WAITING_MAX, false};
static const struct level_kind longest_wait = {"longest_wait", "a longer wait", true,
                                               LONGEST_WAIT_MAX, false};

static int read_level(struct model_builder *b,
                      const struct ynode *n,
                      const struct level_kind *k,
                      uint32_t *out)
{
    int64_t v;
    if (k->duration) {
        return cfg_duration(&b->c, n, 1, k->max, out);
    }
    if (cfg_int(&b->c, n, 1, k->max, &v) != 0) {
        return CD_EPARSE;
    }
    *out = (uint32_t)v;
    return 0;
}

/* {warn: X, alarm: Y}, either may be left out; both replace what was inherited, so {}
 * clears the pair. */
static int read_pair(struct model_builder *b,
                     const struct ynode *n,
                     const struct level_kind *k,
                     uint32_t *warn,
                     uint32_t *alarm)
{
    static const char *const keys[] = {"warn", "alarm", NULL};
    const struct ynode *w = NULL, *a = NULL;
    *warn = *alarm = 0;
    if (cfg_keys(&b->c, n, keys) != 0 ||
        ((w = ynode_get(n, "warn")) != NULL && read_level(b, w, k, warn) != 0) ||
        ((a = ynode_get(n, "alarm")) != NULL && read_level(b, a, k, alarm) != 0)) {
        return CD_EPARSE;
    }
    if (w != NULL && a != NULL && (k->lower_is_worse ? *alarm >= *warn : *alarm <= *warn)) {
        return cfg_fail(&b->c, a, "alarm %s must be %s warn %s (%s is worse)", a->value,
                        k->lower_is_worse ? "below" : "above", w->value, k->what);
    }
    return 0;
}

static int read_sl_pair(struct model_builder *b,
                        const struct ynode *n,
                        struct engine_thresholds *t)
{
    uint32_t warn, alarm;
    if (read_pair(b, n, &service_level, &warn, &alarm) != 0) {
        return CD_EPARSE;
    }
    t->sl_warn = (uint8_t)warn;
    t->sl_alarm = (uint8_t)alarm;
    return 0;
}

/* A pair's mapping, and then a subject that names it ("queue 'sales': thresholds:
 * waiting"), so that a bad warn or alarm says which threshold it belongs to. */
static int enter_pair(struct model_builder *b, const char *outer, const struct ynode *n)
{
    cfg_subject(&b->c, "%s: thresholds", outer);
    if (cfg_expect_map(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    cfg_subject(&b->c, "%s: thresholds: %s", outer, n->key);
    return 0;
}

static int read_pairs(struct model_builder *b,
                      const struct ynode *n,
                      const char *outer,
                      struct engine_thresholds *t)
{
    const struct ynode *e;
    if (((e = ynode_get(n, service_level.key)) != NULL &&
         (enter_pair(b, outer, e) != 0 || read_sl_pair(b, e, t) != 0)) ||
        ((e = ynode_get(n, waiting.key)) != NULL &&
         (enter_pair(b, outer, e) != 0 ||
          read_pair(b, e, &waiting, &t->waiting_warn, &t->waiting_alarm) != 0)) ||
        ((e = ynode_get(n, longest_wait.key)) != NULL &&
         (enter_pair(b, outer, e) != 0 ||
          read_pair(b, e, &longest_wait, &t->wait_warn_s, &t->wait_alarm_s) != 0))) {
        return CD_EPARSE;
    }
    return 0;
}

int model_read_thresholds(struct model_builder *b,
                          const struct ynode *n,
                          struct engine_thresholds *t)
{
    static const char *const keys[] = {"service_level", "waiting", "longest_wait", NULL};
    char outer[sizeof(b->c.subject)];
    if (cfg_expect_map(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    memcpy(outer, b->c.subject, sizeof(outer));
    cfg_subject(&b->c, "%s: thresholds", outer);
    int rv = cfg_keys(&b->c, n, keys) != 0 ? CD_EPARSE : read_pairs(b, n, outer, t);
    memcpy(b->c.subject, outer, sizeof(outer));
    return rv;
}
