/* Time-zone internals shared by the TZif reader and the POSIX TZ footer. Private to
 * config/. */
#ifndef CD_CONFIG_TZ_H
#define CD_CONFIG_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

#define TZ_LAST_YEAR 2100 /* footer rules are expanded through the end of this year */

/* A growing transition table that only records changes of offset. */
struct tz_table
{
    int32_t base; /* offset before the first transition */
    struct engine_tz_transition *v;
    uint32_t n;
    uint32_t cap;
};

/* Appends "from at on, offset off". A transition at the same instant as the last one
 * replaces it; one that does not change the offset in force is dropped. Returns 0,
 * CD_ECORRUPT (at is earlier than the last transition) or CD_ENOMEM. */
int tz_table_push(struct tz_table *t, int64_t at, int32_t off);

/* One of the two yearly switch dates of a POSIX TZ rule. */
struct tz_switch
{
    char form;    /* 'J' (Julian, 1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day) */
    uint16_t day; /* J and N forms */
    uint8_t month, week, wday; /* M form: 1..12, 1..5 (5 = last), 0..6 (0 = Sunday) */
    int32_t time;              /* seconds after local midnight; -167h..167h */
};

/* A POSIX TZ string as RFC 8536 extends it: offsets are seconds east of UTC. */
struct tz_posix
{
    int32_t std_off;
    bool has_dst;
    int32_t dst_off;
    struct tz_switch start; /* into daylight time (given in standard time) */
    struct tz_switch end;   /* back to standard time (given in daylight time) */
};

/* Parses the footer text (len bytes, no newlines). Returns 0 or CD_ECORRUPT with a short
 * reason in *why (static storage). */
int tz_posix_parse(const char *s, size_t len, struct tz_posix *out, const char **why);

/* Appends the daylight-time switches of tz strictly after `after`, for every year from
 * the one containing `after` through TZ_LAST_YEAR. Returns 0, CD_ECORRUPT or CD_ENOMEM. */
int tz_posix_expand(const struct tz_posix *tz, int64_t after, struct tz_table *t);

#endif
