/* Non-cryptographic 64-bit hashing for hash tables and state digests. Stable across
 * builds and machines: digests are compared between nodes. */
#ifndef CD_COMMON_HASH_H
#define CD_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t cd_hash64(const void *data, size_t len, uint64_t seed);
uint64_t cd_hash_str(const char *s);
/* Finaliser of splitmix64: a good mix for integer keys. */
static inline uint64_t cd_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
