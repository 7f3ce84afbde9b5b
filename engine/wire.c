/* Strict primitives for canonical binary forms: see wire.h. */
#include "engine/wire.h"

#include <stdbool.h>
#include <string.h>

#include "common/error.h"

void engine__put_fixed(struct cd_buf *b, const char *s, size_t size, int *err)
{
    const char *nul = memchr(s, 0, size);
    size_t n = nul != NULL ? (size_t)(nul - s) : 0;
    if (nul == NULL) {
        *err = CD_EINVAL;
    }
    cd_buf_uvar(b, n);
    cd_buf_put(b, s, n);
    cd_buf_u8(b, 0);
}

void engine__rd_fail(struct cd_reader *r)
{
    r->err = CD_ECORRUPT;
}

/* LEB128 that rejects trailing zero groups and bits beyond 64. */
static uint64_t rd_uvar(struct cd_reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = cd_rd_bytes(r, 1);
        if (p == NULL) {
            return 0;
        }
        if (shift == 63 && *p > 1) {
            break;
        }
        v |= (uint64_t)(*p & 0x7f) << shift;
        if ((*p & 0x80) == 0) {
            if (*p == 0 && shift > 0) {
                break;
            }
            return v;
        }
    }
    engine__rd_fail(r);
    return 0;
}

uint64_t engine__rd_uint(struct cd_reader *r, uint64_t max)
{
    uint64_t v = rd_uvar(r);
    if (r->err != 0 || v > max) {
        engine__rd_fail(r);
        return 0;
    }
    return v;
}

int64_t engine__rd_int(struct cd_reader *r, int64_t min, int64_t max)
{
    uint64_t u = rd_uvar(r);
    int64_t v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    if (r->err != 0 || v < min || v > max) {
        engine__rd_fail(r);
        return 0;
    }
    return v;
}

bool engine__rd_bool(struct cd_reader *r)
{
    return engine__rd_uint(r, 1) != 0;
}

const char *engine__rd_str(struct cd_reader *r, size_t *len)
{
    uint64_t n = rd_uvar(r);
    const uint8_t *p = NULL;
    if (r->err == 0 && n < cd_rd_left(r)) {
        p = cd_rd_bytes(r, (size_t)n + 1);
    }
    /* The NUL must be where the length says and nowhere earlier. */
    if (p == NULL || p[n] != 0 || memchr(p, 0, (size_t)n) != NULL) {
        engine__rd_fail(r);
        n = 0;
        p = (const uint8_t *)"";
    }
    if (len != NULL) {
        *len = (size_t)n;
    }
    return (const char *)p;
}

void engine__rd_fixed(struct cd_reader *r, char *dst, size_t size)
{
    size_t n;
    const char *s = engine__rd_str(r, &n);
    if (n >= size) {
        engine__rd_fail(r);
        n = 0;
    }
    memcpy(dst, s, n);
    dst[n] = 0;
}
