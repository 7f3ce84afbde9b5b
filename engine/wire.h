/* Private to engine/: strict primitives for canonical binary forms (models, commands).
 *
 * common/buf.h's reader accepts a varint padded with empty high groups (0x85 0x00 for 5)
 * and a 10th byte carrying bits past 64; these readers do not, and they check every value
 * against the range of the field it lands in. With them a decoder accepts exactly one byte
 * string per value, so encode(decode(x)) == x. */
#ifndef CD_ENGINE_WIRE_H
#define CD_ENGINE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Writes the string held in a fixed array of size bytes (varint length, bytes, NUL, as
 * cd_buf_str()); sets *err to CD_EINVAL when the array holds no NUL. */
void engine__put_fixed(struct cd_buf *b, const char *s, size_t size, int *err);

/* A minimal-length varint no greater than max; else CD_ECORRUPT and 0. */
uint64_t engine__rd_uint(struct cd_reader *r, uint64_t max);
/* A minimal-length zigzag varint within [min, max]; else CD_ECORRUPT and 0. */
int64_t engine__rd_int(struct cd_reader *r, int64_t min, int64_t max);
/* 0 or 1. */
bool engine__rd_bool(struct cd_reader *r);
/* A string as cd_buf_str() writes it, with a minimal length: a pointer into the input,
 * "" on error. */
const char *engine__rd_str(struct cd_reader *r, size_t *len);
/* Copies a string into a fixed array of size bytes; one that does not fit is an error. */
void engine__rd_fixed(struct cd_reader *r, char *dst, size_t size);
/* Marks the input corrupt (a count or a value the caller found impossible). */
void engine__rd_fail(struct cd_reader *r);

#endif
