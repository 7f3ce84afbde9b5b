/* Typed reading of YAML nodes with positioned error messages. Private to config/.
 *
 * Every function returns 0 or CD_EPARSE after writing
 *     FILE:LINE:COLUMN: [SUBJECT: ][KEY: ]message
 * into the context's err buffer, where SUBJECT names the object being read ("queue
 * 'sales'") and KEY is the mapping key of the offending value, when it has one. */
#ifndef CD_CONFIG_CHECK_H
#define CD_CONFIG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/yaml_doc.h"

struct cfg_ctx
{
    const char *file;
    char *err;
    size_t errlen;
    char subject[160]; /* "" when reading top-level keys */
};

#define CFG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Error at the start of node n (its value). */
int cfg_fail(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...) CFG_PRINTF(3, 4);
/* Error at the key of mapping entry n (n must have a key). */
int cfg_fail_key(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...)
    CFG_PRINTF(3, 4);
/* Error without a position: "FILE: message". */
int cfg_fail_file(struct cfg_ctx *c, const char *fmt, ...) CFG_PRINTF(2, 3);
void cfg_subject(struct cfg_ctx *c, const char *fmt, ...) CFG_PRINTF(2, 3);

/* n must be a mapping whose keys are all in allowed (NULL-terminated). */
int cfg_keys(struct cfg_ctx *c, const struct ynode *n, const char *const *allowed);
/* Key of map that must be present: its entry, or NULL after an error. */
const struct ynode *cfg_require(struct cfg_ctx *c, const struct ynode *map, const char *key);
int cfg_expect_map(struct cfg_ctx *c, const struct ynode *n);
int cfg_expect_seq(struct cfg_ctx *c, const struct ynode *n);
/* Either a sequence or a single scalar standing for a one-item list. */
int cfg_expect_list(struct cfg_ctx *c, const struct ynode *n);

/* Scalar n holds no control character (C0, DEL, C1, NUL; newline and tab are allowed when
 * allow_lines). */
int cfg_check_chars(struct cfg_ctx *c, const struct ynode *n, bool allow_lines);
/* A non-empty scalar of at most cap - 1 bytes without control characters (C0, DEL, C1,
 * NUL), copied into dst. */
int cfg_string(struct cfg_ctx *c, const struct ynode *n, char *dst, size_t cap);
/* A non-empty scalar (of any length) without control characters other than newline and
 * tab. */
int cfg_text(struct cfg_ctx *c, const struct ynode *n);
/* The key of mapping entry e as free text (an attribute's name): as cfg_string(), the
 * error at the key and labelled what. */
int cfg_key_text(struct cfg_ctx *c,
                 const struct ynode *e,
                 const char *what,
                 char *dst,
                 size_t cap);
/* A name: 1 to cap - 1 characters of the engine's name set (engine_name_valid()). */
int cfg_name(struct cfg_ctx *c, const struct ynode *n, char *dst, size_t cap);
/* The key of mapping entry e, checked as by cfg_name(). */
int cfg_key_name(struct cfg_ctx *c, const struct ynode *e, char *dst, size_t cap);
int cfg_int(struct cfg_ctx *c, const struct ynode *n, int64_t lo, int64_t hi, int64_t *out);
int cfg_bool(struct cfg_ctx *c, const struct ynode *n, bool *out);
/* "20s", "15m", "2h", "1h30m" or plain seconds, within [lo, hi] seconds. */
int cfg_duration(struct cfg_ctx *c,
                 const struct ynode *n,
                 uint32_t lo,
                 uint32_t hi,
                 uint32_t *out);
/* "HH:MM" in minutes of the day; "24:00" (1440) only when allow_end. */
int cfg_clock(struct cfg_ctx *c, const struct ynode *n, bool allow_end, uint16_t *out);
/* "YYYY-MM-DD" as days since 1970-01-01. */
int cfg_date(struct cfg_ctx *c, const struct ynode *n, int32_t *out);
/* voice | email | sms | chat. */
int cfg_channel(struct cfg_ctx *c, const struct ynode *n, int *out);
/* One channel or a list of channels, as a non-empty ENGINE_CH_BIT() mask. */
int cfg_channels(struct cfg_ctx *c, const struct ynode *n, uint8_t *out);

/* Reads a whole file of at most max bytes into a NUL-terminated heap buffer (*data, owned
 * by the caller) with plain read(2). Returns 0, CD_ENOTFOUND (no such file), CD_ETOOBIG,
 * CD_EIO (with errno in *sys_errno) or CD_ENOMEM. */
int cfg_read_file(const char *path, size_t max, char **data, size_t *len, int *sys_errno);
/* For a document loader: reads the file, or its first max + 1 bytes when it is longer, so
 * that the parser refuses it with the position where it crosses max. On failure err says
 * "PATH: cannot read: REASON" (CD_EIO, CD_ENOMEM). */
int cfg_load_text(const char *path,
                  size_t max,
                  char **text,
                  size_t *len,
                  char *err,
                  size_t errlen);
/* strerror() into the caller's buffer (reentrant). */
void cfg_strerror(int sys_errno, char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date; shared with tz.c. */
int64_t cfg_days_from_civil(int64_t y, unsigned m, unsigned d);
bool cfg_leap_year(int64_t y);

#endif
