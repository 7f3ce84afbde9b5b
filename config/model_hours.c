/* Business hours: weekly opening intervals in a time zone, and holidays. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

static const char *const day_keys[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};

static bool parse_hhmm(const char *s, unsigned *min)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' || s[3] < '0' ||
        s[3] > '5' || s[4] < '0' || s[4] > '9') {
        return false;
    }
    unsigned h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    *min = h * 60 + (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
    return *min <= 24 * 60;
}

/* "HH:MM-HH:MM" with the end after the start; the end may be 24:00. */
static bool parse_interval(const struct ynode *n, struct engine_interval *iv)
{
    unsigned from, to;
    if (n->kind != YNODE_SCALAR || n->len != 11 || n->value[5] != '-' ||
        !parse_hhmm(n->value, &from) || !parse_hhmm(n->value + 6, &to) || from >= to ||
        from >= 24 * 60) {
        return false;
    }
    iv->from_min = (uint16_t)from;
    iv->to_min = (uint16_t)to;
    return true;
}

static int add_interval(struct model_builder *b,
                        const struct ynode *n,
                        const struct ynode *item,
                        struct engine_day_hours *d)
{
    struct engine_interval iv;
    if (!parse_interval(item, &iv)) {
        return cfg_fail(&b->c, item,
                        "%s: expected opening hours as HH:MM-HH:MM or 'closed', got '%s'",
                        n->key ? n->key : "hours",
                        item->kind == YNODE_SCALAR ? item->value : "a collection");
    }
    if (d->n == ENGINE_INTERVALS_MAX) {
        return cfg_fail(&b->c, item, "%s: more than %d opening intervals in one day",
                        n->key ? n->key : "hours", ENGINE_INTERVALS_MAX);
    }
    if (d->n > 0 && iv.from_min < d->iv[d->n - 1].to_min) {
        return cfg_fail(&b->c, item, "%s: interval '%s' overlaps or precedes the one before it",
                        n->key ? n->key : "hours", item->value);
    }
    d->iv[d->n++] = iv;
    return 0;
}

/* "closed", one interval, or a list of intervals. */
static int read_day(struct model_builder *b, const struct ynode *n, struct engine_day_hours *d)
{
    memset(d, 0, sizeof(*d));
    if (n->kind == YNODE_SCALAR && strcmp(n->value, "closed") == 0) {
        return 0;
    }
    if (n->kind == YNODE_SCALAR) {
        return add_interval(b, n, n, d);
    }
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (add_interval(b, n, i, d) != 0) {
            return CD_EPARSE;
        }
    }
    return 0;
}

/* daily, then weekdays / weekend, then the named days: the most specific key wins. */
static int read_week(struct model_builder *b, const struct ynode *n, struct engine_hours *h)
{
    static const struct
    {
        const char *key;
        uint8_t first, last;
    } groups[] = {{"daily", 0, 6}, {"weekdays", 0, 4}, {"weekend", 5, 6}};
    const struct ynode *e;
    struct engine_day_hours d;
    for (size_t g = 0; g < 3; g++) {
        if ((e = ynode_get(n, groups[g].key)) == NULL) {
            continue;
        }
        if (read_day(b, e, &d) != 0) {
            return CD_EPARSE;
        }
        for (uint8_t i = groups[g].first; i <= groups[g].last; i++) {
            h->week[i] = d;
        }
    }
    for (int i = 0; i < 7; i++) {
        if ((e = ynode_get(n, day_keys[i])) != NULL && read_day(b, e, &h->week[i]) != 0) {
            return CD_EPARSE;
        }
    }
    return 0;
}

static int read_holiday(struct model_builder *b,
                        const struct ynode *n,
                        struct engine_holiday *hd)
{
    static const char *const keys[] = {"date", "name", "hours", NULL};
    const struct ynode *date, *hours;
    if (cfg_keys(&b->c, n, keys) != 0 || (date = cfg_require(&b->c, n, "date")) == NULL ||
        cfg_date(&b->c, date, &hd->date) != 0) {
        return CD_EPARSE;
    }
    memset(&hd->hours, 0, sizeof(hd->hours));
    hours = ynode_get(n, "hours");
    const struct ynode *name = ynode_get(n, "name");
    if (name != NULL && name->kind != YNODE_SCALAR) {
        return cfg_fail(&b->c, name, "name: expected a string");
    }
    return hours != NULL ? read_day(b, hours, &hd->hours) : 0;
}

static int holiday_cmp(const void *a, const void *b)
{
    const struct engine_holiday *x = a, *y = b;
    return (x->date > y->date) - (x->date < y->date);
}

/* Dates are checked for repeats by their text: cfg_date() takes only the one spelling
 * YYYY-MM-DD, so two entries name the same day exactly when their texts are equal. */
static int add_holidays(struct model_builder *b,
                        const struct ynode *n,
                        struct engine_hours *h,
                        struct names *dates)
{
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        struct engine_holiday *hd = &h->holidays[h->n_holidays];
        if (read_holiday(b, i, hd) != 0) {
            return CD_EPARSE;
        }
        const struct ynode *date = ynode_get(i, "date");
        int rv = names_add(dates, date->value, (int32_t)h->n_holidays, NULL);
        if (rv == CD_EEXISTS) {
            return cfg_fail(&b->c, date, "date: holiday listed twice");
        }
        if (rv != 0) {
            return rv;
        }
        h->n_holidays++;
    }
    return 0;
}

static int read_holidays(struct model_builder *b, const struct ynode *n, struct engine_hours *h)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n == 0) {
        return 0;
    }
    h->holidays = calloc(n->n, sizeof(*h->holidays));
    if (h->holidays == NULL) {
        return CD_ENOMEM;
    }
    struct names dates;
    names_init(&dates);
    int rv = add_holidays(b, n, h, &dates);
    names_close(&dates);
    if (rv == 0) {
        qsort(h->holidays, h->n_holidays, sizeof(*h->holidays), holiday_cmp);
    }
    return rv;
}

static int read_one(struct model_builder *b, const struct ynode *n, struct engine_hours *h)
{
    static const char *const keys[] = {
        "zone",     "daily",  "weekdays", "weekend", "monday",   "tuesday", "wednesday",
        "thursday", "friday", "saturday", "sunday",  "holidays", NULL};
    const struct ynode *zone, *holidays;
    int32_t zi;
    cfg_subject(&b->c, "hours '%s'", n->key);
    if (cfg_key_name(&b->c, n, h->name, sizeof(h->name)) != 0 ||
        cfg_keys(&b->c, n, keys) != 0) {
        return CD_EPARSE;
    }
    zone = ynode_get(n, "zone");
    if (zone == NULL && b->def.zone == NULL) {
        return cfg_fail(&b->c, n, "missing key 'zone' (and no defaults.zone)");
    }
    if (model_zone(b, zone != NULL ? zone : b->def.zone, &zi) != 0 || read_week(b, n, h) != 0) {
        return CD_EPARSE;
    }
    h->zone = (uint32_t)zi;
    holidays = ynode_get(n, "holidays");
    return holidays != NULL ? read_holidays(b, holidays, h) : 0;
}

int model_read_hours(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_map(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    b->m->hours = calloc(n->n ? n->n : 1, sizeof(*b->m->hours));
    if (b->m->hours == NULL) {
        return CD_ENOMEM;
    }
    for (const struct ynode *e = n->child; e != NULL; e = e->next) {
        struct engine_hours *h = &b->m->hours[b->m->n_hours++];
        int rv = read_one(b, e, h);
        if (rv != 0) {
            return rv;
        }
        if ((rv = names_add(&b->hours, e->key, (int32_t)(b->m->n_hours - 1), NULL)) != 0) {
            return rv;
        }
    }
    b->c.subject[0] = 0;
    return 0;
}
