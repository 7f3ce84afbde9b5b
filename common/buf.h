/* Byte buffers and the little-endian codec primitives every binary format here uses.
 *
 * A writer (struct cd_buf) grows on demand; a failed allocation sets buf->err = CD_ENOMEM
 * and later writes do nothing, so an encoder checks once at the end. A reader
 * (struct cd_reader) is a cursor over borrowed bytes; reading past the end or a malformed
 * value sets rd->err = CD_ECORRUPT and later reads return zeros, so a decoder also checks
 * once. Integers are little-endian fixed width or LEB128 varints (unsigned, and zigzag for
 * signed). Readers accept only the shortest encoding of a value, so a decoder that checks
 * every field accepts exactly one byte string per value: encode(decode(x)) == x. */
#ifndef CD_COMMON_BUF_H
#define CD_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cd_buf
{
    uint8_t *data; /* owned; NULL while empty */
    size_t len;
    size_t cap;
    int err; /* 0 or CD_ENOMEM: sticky */
};

void cd_buf_init(struct cd_buf *b);
void cd_buf_close(struct cd_buf *b);
/* Forget the contents but keep the allocation. */
void cd_buf_reset(struct cd_buf *b);
/* Make room for n more bytes; returns 0 or CD_ENOMEM (and sets b->err). */
int cd_buf_reserve(struct cd_buf *b, size_t n);
void cd_buf_put(struct cd_buf *b, const void *p, size_t n);
void cd_buf_u8(struct cd_buf *b, uint8_t v);
void cd_buf_u16(struct cd_buf *b, uint16_t v);
void cd_buf_u32(struct cd_buf *b, uint32_t v);
void cd_buf_u64(struct cd_buf *b, uint64_t v);
void cd_buf_uvar(struct cd_buf *b, uint64_t v);
void cd_buf_svar(struct cd_buf *b, int64_t v);
/* A string as a varint length, the bytes and a NUL, so that a reader can hand out a
 * pointer into its input. s == NULL is written as the empty string. */
void cd_buf_str(struct cd_buf *b, const char *s);
/* The string held in a fixed array of size bytes, written as cd_buf_str() does; sets *err
 * to CD_EINVAL (and writes "") when the array holds no NUL. */
void cd_buf_fixed(struct cd_buf *b, const char *s, size_t size, int *err);

struct cd_reader
{
    const uint8_t *p; /* borrowed */
    const uint8_t *end;
    int err; /* 0 or CD_ECORRUPT: sticky */
};

void cd_reader_init(struct cd_reader *r, const void *data, size_t len);
uint8_t cd_rd_u8(struct cd_reader *r);
uint16_t cd_rd_u16(struct cd_reader *r);
uint32_t cd_rd_u32(struct cd_reader *r);
uint64_t cd_rd_u64(struct cd_reader *r);
uint64_t cd_rd_uvar(struct cd_reader *r);
int64_t cd_rd_svar(struct cd_reader *r);
/* Points into the reader's input (valid as long as that input is); "" on error. The
 * length, when len is not NULL, excludes the NUL. */
const char *cd_rd_str(struct cd_reader *r, size_t *len);
/* Copies a string into dst (size n, always NUL-terminated); a string that does not fit
 * is an error (CD_ECORRUPT). */
void cd_rd_strcpy(struct cd_reader *r, char *dst, size_t n);
const uint8_t *cd_rd_bytes(struct cd_reader *r, size_t n);
/* A varint no greater than max / a zigzag varint within [min, max] / 0 or 1; anything
 * else is CD_ECORRUPT and reads as 0. */
uint64_t cd_rd_uint(struct cd_reader *r, uint64_t max);
int64_t cd_rd_int(struct cd_reader *r, int64_t min, int64_t max);
bool cd_rd_bool(struct cd_reader *r);
/* Marks the input corrupt: for counts or values the caller found impossible. */
void cd_rd_fail(struct cd_reader *r);
size_t cd_rd_left(const struct cd_reader *r);

#endif
