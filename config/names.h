/* A set of borrowed names with an index each, for duplicate detection and reference
 * lookup in large models: adding and finding take constant time on average. Private to
 * config/; reentrant (each set is its own). */
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
    uint64_t seed; /* of the hash: random, so that no document can be made of colliding
                    * names in advance */
};

void names_init(struct names *s);
void names_close(struct names *s);
/* Adds key with value val. Returns 0, CD_EEXISTS (key present: *prev receives its value
 * if prev is not NULL) or CD_ENOMEM. */
int names_add(struct names *s, const char *key, int32_t val, int32_t *prev);
/* Adds key with value val, or gives a key already present the value val (the set keeps
 * the pointer it had). Returns 0 or CD_ENOMEM. */
int names_put(struct names *s, const char *key, int32_t val);
/* Value of key, or -1. */
int32_t names_find(const struct names *s, const char *key);

#endif
