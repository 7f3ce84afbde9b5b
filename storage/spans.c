/* Agents' state spans, and the scan reports run over the history table.
 *
 * A span is a row of the history table: its key is (end, id) like a contact's, with an id
 * of its own that names no contact (storage.h, STORAGE_SPAN_ID), so that spans are kept,
 * trimmed, counted in the digest and copied from a peer to fill a gap exactly as contacts'
 * rows are. Value: u8 STORAGE_SPAN_V1, agent, site, u8 state, reason, svar from, uvar the
 * index of the entry that wrote it. */
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define SPAN_N_BITS 24 /* effects of one entry a span id tells apart */

/* ---- A reader for the report scan ----------------------------------------------------- */

/* The encoding of common/buf.h (cd_reader), read inline: a report reads every row of a
 * month, a million or more, and a call per byte of every number was a good part of its
 * time. The same checks: numbers in their one shortest form, strings with their NUL where
 * their length says and none before it; a string the scan does not use is skipped by its
 * length. After an error every read gives 0 or "", and err stays set. */
struct lean
{
    const uint8_t *p, *end;
    bool err;
};

static uint64_t lean_fail(struct lean *r)
{
    r->err = true;
    r->p = r->end;
    return 0;
}

static uint64_t lean_uvar_long(struct lean *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t byte = *r->p++;
        if (shift == 63 && byte > 1) {
            break;
        }
        v |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            return byte == 0 && shift > 0 ? lean_fail(r) : v;
        }
    }
    return lean_fail(r);
}

static inline uint64_t lean_uvar(struct lean *r)
{
    if (r->p < r->end && *r->p < 0x80) {
        return *r->p++;
    }
    return lean_uvar_long(r);
}

static inline int64_t lean_svar(struct lean *r)
{
    uint64_t u = lean_uvar(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline uint64_t lean_uint(struct lean *r, uint64_t max)
{
    uint64_t v = lean_uvar(r);
    return v <= max ? v : lean_fail(r);
}

static inline uint8_t lean_u8(struct lean *r)
{
    return r->p < r->end ? *r->p++ : (uint8_t)lean_fail(r);
}

/* The n bytes at the reader, or NULL (err set) when fewer are left. */
static inline const uint8_t *lean_bytes(struct lean *r, uint64_t n)
{
    if (n > (uint64_t)(r->end - r->p)) {
        lean_fail(r);
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

/* A string's bytes with their NUL, its length in *len; NULL (err set) when malformed. */
static inline const uint8_t *lean_str_bytes(struct lean *r, size_t *len)
{
    uint64_t n = lean_uvar(r);
    const uint8_t *at = n < (uint64_t)(r->end - r->p) ? lean_bytes(r, n + 1) : NULL;
    if (at == NULL || at[n] != 0) {
        lean_fail(r);
        *len = 0;
        return NULL;
    }
    *len = (size_t)n;
    return at;
}

static inline const char *lean_str(struct lean *r, size_t *len)
{
    size_t n;
    const uint8_t *at = lean_str_bytes(r, &n);
    if (at == NULL || memchr(at, 0, n) != NULL) {
        lean_fail(r);
        n = 0;
        at = NULL;
    }
    if (len != NULL) {
        *len = n;
    }
    return at != NULL ? (const char *)at : "";
}

static inline void lean_skip_str(struct lean *r)
{
    size_t n;
    (void)lean_str_bytes(r, &n);
}

static bool fits(const char *s, size_t size)
{
    return s != NULL && strnlen(s, size) < size;
}

int storage_put_span(struct storage_batch *b, uint32_t n, const struct engine_effect *fx)
{
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    if (fx->kind != ENGINE_FX_AGENT_STATE || fx->prev_state == ENGINE_AGENT_OFFLINE ||
        fx->since <= 0 || fx->at <= fx->since) {
        return 0; /* offline time, or nothing to count */
    }
    if (n >= (1u << SPAN_N_BITS) || b->index >= (UINT64_C(1) << (63 - SPAN_N_BITS))) {
        return storage__batch_fail(b, CD_EINVAL,
                                   "span of agent '%s': effect %u of entry %llu "
                                   "is past what a span id can name",
                                   fx->agent, n, (unsigned long long)b->index);
    }
    if (!fits(fx->agent, ENGINE_NAME_MAX) || !fits(fx->site, ENGINE_SITE_MAX) ||
        !fits(fx->prev_reason, ENGINE_VALUE_MAX) || fx->prev_state > ENGINE_AGENT_AWAY) {
        return storage__batch_fail(b, CD_EINVAL, "span of agent '%s': malformed",
                                   fits(fx->agent, ENGINE_NAME_MAX) ? fx->agent : "?");
    }
    uint64_t id = STORAGE_SPAN_ID | (b->index << SPAN_N_BITS) | n;
    uint8_t hkey[STORAGE_HISTORY_KEY];
    storage__history_key(hkey, fx->at, id);
    struct cd_buf *buf = &b->s->buf;
    cd_buf_reset(buf);
    cd_buf_u8(buf, STORAGE_SPAN_V1);
    cd_buf_str(buf, fx->agent);
    cd_buf_str(buf, fx->site);
    cd_buf_u8(buf, fx->prev_state);
    cd_buf_str(buf, fx->prev_reason);
    cd_buf_svar(buf, fx->since);
    cd_buf_uvar(buf, b->index);
    if (buf->err != 0) {
        return storage__batch_fail(b, CD_ENOMEM, "span of agent '%s': out of memory",
                                   fx->agent);
    }
    MDB_val row = {buf->len, buf->data};
    rc = storage__history_put_raw(b->txn, b->s, &b->hsum, hkey, &row);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "span of agent '%s': %s",
                                   fx->agent, mdb_strerror(rc));
    }
    return 0;
}

int storage__span_decode(const void *key,
                         size_t klen,
                         const void *val,
                         size_t vlen,
                         struct storage_span *out)
{
    struct lean r = {val, (const uint8_t *)val + vlen, false};
    uint64_t id;
    size_t len;
    memset(out, 0, sizeof(*out));
    if (klen != STORAGE_HISTORY_KEY) {
        return CD_ECORRUPT;
    }
    storage__history_key_read(key, &out->to, &id);
    if (lean_u8(&r) != STORAGE_SPAN_V1 || (id & STORAGE_SPAN_ID) == 0) {
        return CD_ECORRUPT;
    }
    out->agent = lean_str(&r, &len);
    bool ok = len > 0 && len < ENGINE_NAME_MAX;
    out->site = lean_str(&r, &len);
    ok = ok && len < ENGINE_SITE_MAX;
    out->state = lean_u8(&r);
    out->reason = lean_str(&r, &len);
    ok = ok && len < ENGINE_VALUE_MAX;
    out->from = lean_svar(&r);
    out->index = lean_uvar(&r);
    if (r.err || r.p != r.end || !ok || out->state == ENGINE_AGENT_OFFLINE ||
        out->state > ENGINE_AGENT_AWAY || out->from <= 0 || out->from >= out->to ||
        out->index != (id & ~STORAGE_SPAN_ID) >> SPAN_N_BITS) {
        return CD_ECORRUPT;
    }
    return 0;
}

/* ---- The report scan ------------------------------------------------------------------ */

/* The parts of a contact's row a report reads, without copying anything. The layout is
 * storage__history_encode()'s (records.c); rows before format 4 have no path, before
 * format 3 no disposition. */
static int lean_contact(const void *key, const void *val, size_t vlen, struct storage_row *out)
{
    struct lean r = {val, (const uint8_t *)val + vlen, false};
    memset(out, 0, sizeof(*out));
    out->disposition = "";
    storage__history_key_read(key, &out->completed, &out->contact);
    uint8_t format = lean_u8(&r);
    out->channel = (uint8_t)lean_uint(&r, ENGINE_CH_COUNT - 1);
    out->outcome = (uint8_t)lean_uint(&r, ENGINE_CONTACT_STATE_COUNT - 1);
    (void)lean_svar(&r); /* priority */
    out->queue = lean_str(&r, NULL);
    out->agent = lean_str(&r, NULL);
    out->reason = lean_str(&r, NULL);
    out->arrived = lean_svar(&r);
    unsigned has = (unsigned)lean_uint(&r, 7);
    int64_t *times[] = {&out->offered, &out->answered, &out->ended};
    for (unsigned i = 0; i < 3; i++) {
        *times[i] =
            has & (1u << i) ? (int64_t)((uint64_t)out->arrived + (uint64_t)lean_svar(&r)) : 0;
    }
    (void)lean_uvar(&r); /* offers */
    (void)lean_uvar(&r); /* transfers */
    out->callback = (uint8_t)lean_uint(&r, UINT8_MAX);
    out->index = format >= STORAGE_HISTORY_V2 ? lean_uvar(&r) : 0;
    if (format >= STORAGE_HISTORY_V3) {
        lean_skip_str(&r); /* key */
        uint64_t n = lean_uint(&r, ENGINE_ATTRS_MAX);
        for (uint64_t i = 0; i < 2 * n; i++) {
            lean_skip_str(&r);
        }
        out->disposition = lean_str(&r, NULL);
        lean_skip_str(&r);                   /* notes */
        (void)lean_bytes(&r, lean_uvar(&r)); /* transcript */
    }
    if (format >= STORAGE_HISTORY_V4) {
        uint64_t len = lean_uvar(&r);
        out->path = lean_bytes(&r, len);
        out->path_len = out->path != NULL ? (size_t)len : 0;
    }
    return r.err ? CD_ECORRUPT : 0;
}

struct report_scan
{
    int64_t to_ms;
    uint64_t max_index;
    int (*on_contact)(void *data, const struct storage_row *row);
    int (*on_span)(void *data, const struct storage_span *span);
    void *data;
    bool past_end;
};

static int report_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
    struct report_scan *rs = ctx;
    if (k->mv_size != STORAGE_HISTORY_KEY || v->mv_size == 0) {
        return CD_ECORRUPT;
    }
    if (((const uint8_t *)v->mv_data)[0] == STORAGE_SPAN_V1) {
        struct storage_span span;
        if (storage__span_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, &span) != 0) {
            return CD_ECORRUPT;
        }
        if (span.to > rs->to_ms) {
            rs->past_end = true;
            return 1;
        }
        bool wanted =
            rs->on_span != NULL && (rs->max_index == 0 || span.index <= rs->max_index);
        return wanted ? rs->on_span(rs->data, &span) : 0;
    }
    struct storage_row row;
    if (lean_contact(k->mv_data, v->mv_data, v->mv_size, &row) != 0) {
        return CD_ECORRUPT;
    }
    if (row.completed > rs->to_ms) {
        rs->past_end = true;
        return 1;
    }
    bool wanted = rs->on_contact != NULL && (rs->max_index == 0 || row.index <= rs->max_index);
    return wanted ? rs->on_contact(rs->data, &row) : 0;
}

int storage_report_scan(struct storage *s,
                        int64_t from_ms,
                        int64_t to_ms,
                        uint64_t max_index,
                        int (*on_contact)(void *data, const struct storage_row *row),
                        int (*on_span)(void *data, const struct storage_span *span),
                        void *data)
{
    struct report_scan rs = {to_ms, max_index, on_contact, on_span, data, false};
    uint8_t start[STORAGE_HISTORY_KEY];
    if (from_ms > to_ms) {
        return 0;
    }
    storage__history_key(start, from_ms, 0);
    MDB_val k = {sizeof(start), start};
    int rc = storage__scan(s, s->history, &k, report_row, &rs);
    return rs.past_end ? 0 : rc;
}
