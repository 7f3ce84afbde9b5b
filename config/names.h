/* A set of borrowed names with an index each, for duplicate detection and reference
 * lookup in large models. Private to config/. */
#ifndef CD_CONFIG_NAMES_H
#define CD_CONFIG_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct names
{
    const char **keys; /* borrowed: each must outlive the set */
    int32_t *vals;
    size_t cap; /* power of two, or 0 */
    size_t n;
};

void names_init(struct names *s);
void names_close(struct names *s);
/* Adds key with value val. Returns 0, CD_EEXISTS (key present: *prev receives its value
 * if prev is not NULL) or CD_ENOMEM. */
int names_add(struct names *s, const char *key, int32_t val, int32_t *prev);
/* Value of key, or -1. */
int32_t names_find(const struct names *s, const char *key);

#endif
