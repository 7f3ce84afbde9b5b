#include "common/buf.h"

#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

void cd_buf_init(struct cd_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void cd_buf_close(struct cd_buf *b)
{
    cd_free(b->data);
    memset(b, 0, sizeof(*b));
}

void cd_buf_reset(struct cd_buf *b)
{
    b->len = 0;
    b->err = 0;
}

int cd_buf_reserve(struct cd_buf *b, size_t n)
{
    if (b->err != 0) {
        return b->err;
    }
    if (b->cap - b->len >= n) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->err = CD_ENOMEM;
            return b->err;
        }
        cap *= 2;
    }
    uint8_t *data = cd_realloc(b->data, cap);
    if (data == NULL) {
        b->err = CD_ENOMEM;
        return b->err;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void cd_buf_put(struct cd_buf *b, const void *p, size_t n)
{
    if (n == 0 || cd_buf_reserve(b, n) != 0) {
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void cd_buf_u8(struct cd_buf *b, uint8_t v)
{
    cd_buf_put(b, &v, 1);
}

void cd_buf_u16(struct cd_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    cd_buf_put(b, x, sizeof(x));
}

void cd_buf_u32(struct cd_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    cd_buf_put(b, x, sizeof(x));
}

void cd_buf_u64(struct cd_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    cd_buf_put(b, x, sizeof(x));
}

void cd_buf_uvar(struct cd_buf *b, uint64_t v)
{
    uint8_t x[10];
    size_t n = 0;
    while (v >= 0x80) {
        x[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    x[n++] = (uint8_t)v;
    cd_buf_put(b, x, n);
}

void cd_buf_svar(struct cd_buf *b, int64_t v)
{
    /* Zigzag keeps small negative numbers short; the cast avoids shifting a negative. */
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    cd_buf_uvar(b, u);
}

void cd_buf_str(struct cd_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    cd_buf_uvar(b, n);
    cd_buf_put(b, s, n);
    cd_buf_u8(b, 0);
}

void cd_reader_init(struct cd_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = len > 0 ? r->p + len : r->p; /* no offset on a NULL pointer, even a zero one */
    r->err = 0;
}

const uint8_t *cd_rd_bytes(struct cd_reader *r, size_t n)
{
    if (r->err != 0 || (size_t)(r->end - r->p) < n) {
        r->err = CD_ECORRUPT;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

size_t cd_rd_left(const struct cd_reader *r)
{
    return r->err ? 0 : (size_t)(r->end - r->p);
}

static uint64_t rd_le(struct cd_reader *r, size_t n)
{
    const uint8_t *p = cd_rd_bytes(r, n);
    uint64_t v = 0;
    if (p == NULL) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

uint8_t cd_rd_u8(struct cd_reader *r)
{
    return (uint8_t)rd_le(r, 1);
}

uint16_t cd_rd_u16(struct cd_reader *r)
{
    return (uint16_t)rd_le(r, 2);
}

uint32_t cd_rd_u32(struct cd_reader *r)
{
    return (uint32_t)rd_le(r, 4);
}

uint64_t cd_rd_u64(struct cd_reader *r)
{
    return rd_le(r, 8);
}

/* LEB128 in its shortest form only: no trailing zero groups, nothing past 64 bits. So
 * every value has exactly one encoding and decode(encode(x)) is canonical. */
uint64_t cd_rd_uvar(struct cd_reader *r)
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
    r->err = CD_ECORRUPT;
    return 0;
}

int64_t cd_rd_svar(struct cd_reader *r)
{
    uint64_t u = cd_rd_uvar(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

const char *cd_rd_str(struct cd_reader *r, size_t *len)
{
    uint64_t n = cd_rd_uvar(r);
    const uint8_t *p = NULL;
    if (r->err == 0 && n < (uint64_t)(r->end - r->p)) {
        p = cd_rd_bytes(r, (size_t)n + 1);
    } else {
        r->err = CD_ECORRUPT;
    }
    /* The NUL must be where the length says and nowhere earlier. */
    if (p == NULL || p[n] != 0 || memchr(p, 0, (size_t)n) != NULL) {
        r->err = CD_ECORRUPT;
        if (len) {
            *len = 0;
        }
        return "";
    }
    if (len) {
        *len = (size_t)n;
    }
    return (const char *)p;
}

void cd_rd_strcpy(struct cd_reader *r, char *dst, size_t n)
{
    size_t len;
    const char *s = cd_rd_str(r, &len);
    if (len >= n) {
        r->err = CD_ECORRUPT;
        len = 0;
    }
    memcpy(dst, s, len);
    dst[len] = 0;
}

void cd_rd_fail(struct cd_reader *r)
{
    r->err = CD_ECORRUPT;
}

uint64_t cd_rd_uint(struct cd_reader *r, uint64_t max)
{
    uint64_t v = cd_rd_uvar(r);
    if (r->err != 0 || v > max) {
        r->err = CD_ECORRUPT;
        return 0;
    }
    return v;
}

int64_t cd_rd_int(struct cd_reader *r, int64_t min, int64_t max)
{
    int64_t v = cd_rd_svar(r);
    if (r->err != 0 || v < min || v > max) {
        r->err = CD_ECORRUPT;
        return 0;
    }
    return v;
}

bool cd_rd_bool(struct cd_reader *r)
{
    return cd_rd_uint(r, 1) != 0;
}

void cd_buf_fixed(struct cd_buf *b, const char *s, size_t size, int *err)
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
