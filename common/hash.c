#include "common/hash.h"

#include <string.h>

/* Eight bytes at a time through a multiply-mix, then the tail; the length is mixed in so
 * that inputs differing only by trailing zeros differ. */
uint64_t cd_hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w = 0;
        for (int i = 0; i < 8; i++) {
            w |= (uint64_t)p[i] << (8 * i);
        }
        h = cd_mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++) {
        w |= (uint64_t)p[i] << (8 * i);
    }
    return cd_mix64(h ^ w ^ 0xff51afd7ed558ccdULL);
}

uint64_t cd_hash_str(const char *s)
{
    return cd_hash64(s, strlen(s), 0);
}
