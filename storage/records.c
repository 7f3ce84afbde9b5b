/* Keys and record values. Keys are big-endian so that LMDB's byte order is numeric order;
 * values start with a format byte and use the varints of common/buf.h. storage/README.md
 * has the table. */
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define SIGN_BIT (UINT64_C(1) << 63)

/* Which optional times a history row carries after its arrival time. */
#define HAS_OFFERED 1u
#define HAS_ANSWERED 2u
#define HAS_ENDED 4u
#define HAS_ALL 7u

void storage__key_u64(uint8_t key[STORAGE_ID_KEY], uint64_t v)
{
    for (int i = 0; i < STORAGE_ID_KEY; i++) {
        key[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

uint64_t storage__key_u64_read(const uint8_t key[STORAGE_ID_KEY])
{
    uint64_t v = 0;
    for (int i = 0; i < STORAGE_ID_KEY; i++) {
        v = v << 8 | key[i];
    }
    return v;
}

/* Flipping the sign bit (offset binary) makes negative times sort before positive ones. */
void storage__history_key(uint8_t key[STORAGE_HISTORY_KEY], int64_t completed, uint64_t contact)
{
    storage__key_u64(key, (uint64_t)completed ^ SIGN_BIT);
    storage__key_u64(key + STORAGE_ID_KEY, contact);
}

void storage__history_key_read(const uint8_t key[STORAGE_HISTORY_KEY],
                               int64_t *completed,
                               uint64_t *contact)
{
    *completed = (int64_t)(storage__key_u64_read(key) ^ SIGN_BIT);
    *contact = storage__key_u64_read(key + STORAGE_ID_KEY);
}

/* A string fits a stored array of size bytes (NULL is stored as ""). */
static bool fits(const char *s, size_t size)
{
    return s == NULL || strnlen(s, size) < size;
}

bool storage__agent_key_ok(const char *name)
{
    return name != NULL && name[0] != 0 && fits(name, ENGINE_NAME_MAX);
}

/* Times relative to the arrival are short varints; unsigned arithmetic makes every pair of
 * values round-trip without overflow. */
static int64_t delta(int64_t t, int64_t base)
{
    return (int64_t)((uint64_t)t - (uint64_t)base);
}

static int64_t undelta(int64_t d, int64_t base)
{
    return (int64_t)((uint64_t)base + (uint64_t)d);
}

static int finish_read(struct cd_reader *r)
{
    return r->err != 0 || r->p != r->end ? CD_ECORRUPT : 0;
}

/* ---- contacts ------------------------------------------------------------------------ */

static const char *contact_invalid(const struct engine_contact_info *c)
{
    if (c->channel >= ENGINE_CH_COUNT) {
        return "channel out of range";
    }
    if (c->state >= ENGINE_CONTACT_COMPLETED) {
        return "not a live state";
    }
    if (!fits(c->key, sizeof(((struct storage_contact *)0)->key))) {
        return "idempotency key too long";
    }
    if (!fits(c->queue, ENGINE_NAME_MAX) || !fits(c->agent, ENGINE_NAME_MAX)) {
        return "queue or agent name too long";
    }
    return NULL;
}

int storage__contact_encode(const struct engine_contact_info *c,
                            struct cd_buf *b,
                            const char **why)
{
    *why = contact_invalid(c);
    if (*why != NULL) {
        return CD_EINVAL;
    }
    cd_buf_reset(b);
    cd_buf_u8(b, STORAGE_RECORD_V1);
    cd_buf_uvar(b, c->channel);
    cd_buf_uvar(b, c->state);
    cd_buf_svar(b, c->priority);
    cd_buf_uvar(b, c->step);
    cd_buf_uvar(b, c->callback);
    cd_buf_uvar(b, c->offer);
    cd_buf_svar(b, c->arrived);
    cd_buf_svar(b, c->enqueued);
    cd_buf_svar(b, c->answered);
    cd_buf_str(b, c->key);
    cd_buf_str(b, c->queue);
    cd_buf_str(b, c->agent);
    *why = b->err != 0 ? "out of memory" : NULL;
    return b->err;
}

int storage__contact_decode(const void *key,
                            size_t klen,
                            const void *val,
                            size_t vlen,
                            struct storage_contact *out)
{
    struct cd_reader r;
    memset(out, 0, sizeof(*out));
    if (klen != STORAGE_ID_KEY) {
        return CD_ECORRUPT;
    }
    cd_reader_init(&r, val, vlen);
    if (cd_rd_u8(&r) != STORAGE_RECORD_V1) {
        return CD_ECORRUPT;
    }
    out->id = storage__key_u64_read(key);
    out->channel = (uint8_t)cd_rd_uint(&r, ENGINE_CH_COUNT - 1);
    out->state = (uint8_t)cd_rd_uint(&r, ENGINE_CONTACT_COMPLETED - 1);
    out->priority = (int16_t)cd_rd_int(&r, INT16_MIN, INT16_MAX);
    out->step = (uint8_t)cd_rd_uint(&r, UINT8_MAX);
    out->callback = cd_rd_bool(&r);
    out->offer = cd_rd_uvar(&r);
    out->arrived = cd_rd_svar(&r);
    out->enqueued = cd_rd_svar(&r);
    out->answered = cd_rd_svar(&r);
    cd_rd_strcpy(&r, out->key, sizeof(out->key));
    cd_rd_strcpy(&r, out->queue, sizeof(out->queue));
    cd_rd_strcpy(&r, out->agent, sizeof(out->agent));
    return finish_read(&r);
}

/* ---- agents -------------------------------------------------------------------------- */

static const char *agent_invalid(const struct engine_agent_info *a)
{
    if (!storage__agent_key_ok(a->name)) {
        return "name empty or too long";
    }
    if (!fits(a->site, ENGINE_SITE_MAX) || !fits(a->reason, ENGINE_VALUE_MAX)) {
        return "site or reason too long";
    }
    if (a->presence > ENGINE_PRESENCE_AWAY || a->state > ENGINE_AGENT_AWAY) {
        return "presence or state out of range";
    }
    return NULL;
}

int storage__agent_encode(const struct engine_agent_info *a, struct cd_buf *b, const char **why)
{
    *why = agent_invalid(a);
    if (*why != NULL) {
        return CD_EINVAL;
    }
    cd_buf_reset(b);
    cd_buf_u8(b, STORAGE_RECORD_V1);
    cd_buf_uvar(b, a->presence);
    cd_buf_uvar(b, a->state);
    cd_buf_str(b, a->site);
    cd_buf_str(b, a->reason);
    cd_buf_put(b, a->capacity, ENGINE_CH_COUNT);
    cd_buf_put(b, a->load, ENGINE_CH_COUNT);
    cd_buf_svar(b, a->last_idle);
    *why = b->err != 0 ? "out of memory" : NULL;
    return b->err;
}

int storage__agent_decode(const void *key,
                          size_t klen,
                          const void *val,
                          size_t vlen,
                          struct storage_agent *out)
{
    struct cd_reader r;
    memset(out, 0, sizeof(*out));
    if (klen == 0 || klen >= sizeof(out->name) || memchr(key, 0, klen) != NULL) {
        return CD_ECORRUPT;
    }
    memcpy(out->name, key, klen);
    cd_reader_init(&r, val, vlen);
    if (cd_rd_u8(&r) != STORAGE_RECORD_V1) {
        return CD_ECORRUPT;
    }
    out->presence = (uint8_t)cd_rd_uint(&r, ENGINE_PRESENCE_AWAY);
    out->state = (uint8_t)cd_rd_uint(&r, ENGINE_AGENT_AWAY);
    cd_rd_strcpy(&r, out->site, sizeof(out->site));
    cd_rd_strcpy(&r, out->reason, sizeof(out->reason));
    const uint8_t *capacity = cd_rd_bytes(&r, ENGINE_CH_COUNT);
    const uint8_t *load = cd_rd_bytes(&r, ENGINE_CH_COUNT);
    if (capacity != NULL && load != NULL) {
        memcpy(out->capacity, capacity, ENGINE_CH_COUNT);
        memcpy(out->load, load, ENGINE_CH_COUNT);
    }
    out->last_idle = cd_rd_svar(&r);
    return finish_read(&r);
}

/* ---- history ------------------------------------------------------------------------- */

static const char *history_invalid(const struct engine_history *h)
{
    if (h->channel >= ENGINE_CH_COUNT) {
        return "channel out of range";
    }
    if (h->outcome < ENGINE_CONTACT_COMPLETED || h->outcome >= ENGINE_CONTACT_STATE_COUNT) {
        return "outcome is not terminal";
    }
    if (!fits(h->queue, ENGINE_NAME_MAX) || !fits(h->agent, ENGINE_NAME_MAX)) {
        return "queue or agent name too long";
    }
    if (!fits(h->reason, ENGINE_TARGET_MAX)) {
        return "reason too long";
    }
    if (engine_path_check(h->path.data, h->path.len) != 0) {
        return "malformed path";
    }
    if (!fits(h->key, ENGINE_VALUE_MAX * 2) || !fits(h->disposition, ENGINE_VALUE_MAX) ||
        !fits(h->notes, ENGINE_NOTES_MAX) || h->n_attrs > ENGINE_ATTRS_MAX) {
        return "key, disposition, notes or attributes too long";
    }
    for (uint8_t i = 0; i < h->n_attrs; i++) {
        if (!fits(h->attrs[i].key, ENGINE_KEY_MAX) ||
            !fits(h->attrs[i].value, ENGINE_VALUE_MAX)) {
            return "attribute too long";
        }
    }
    return NULL;
}

/* Format 3: what the contact was about. */
static void put_about(struct cd_buf *b, const struct engine_history *h)
{
    cd_buf_str(b, h->key);
    cd_buf_uvar(b, h->n_attrs);
    for (uint8_t i = 0; i < h->n_attrs; i++) {
        cd_buf_str(b, h->attrs[i].key);
        cd_buf_str(b, h->attrs[i].value);
    }
    cd_buf_str(b, h->disposition);
    cd_buf_str(b, h->notes);
    cd_buf_uvar(b, h->transcript.len);
    if (h->transcript.len > 0) {
        cd_buf_put(b, h->transcript.data, h->transcript.len);
    }
}

static void read_about(struct cd_reader *r, struct storage_history *out)
{
    struct engine_transcript t;
    cd_rd_strcpy(r, out->key, sizeof(out->key));
    out->n_attrs = (uint8_t)cd_rd_uint(r, ENGINE_ATTRS_MAX);
    for (uint8_t i = 0; i < out->n_attrs; i++) {
        cd_rd_strcpy(r, out->attrs[i].key, sizeof(out->attrs[i].key));
        cd_rd_strcpy(r, out->attrs[i].value, sizeof(out->attrs[i].value));
    }
    cd_rd_strcpy(r, out->disposition, sizeof(out->disposition));
    cd_rd_strcpy(r, out->notes, sizeof(out->notes));
    uint64_t len = cd_rd_uvar(r);
    const uint8_t *bytes = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || (len > 0 && bytes == NULL) ||
        engine_transcript_parse(bytes, (size_t)len, &t) != 0) {
        cd_rd_fail(r);
        return;
    }
    out->n_messages = t.n;
    out->transcript = len > 0 ? bytes : NULL;
    out->transcript_len = (size_t)len;
}

/* Format 4: the contact's path. */
static void read_path(struct cd_reader *r, struct storage_history *out)
{
    uint64_t len = cd_rd_uvar(r);
    const uint8_t *bytes = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || (len > 0 && bytes == NULL) || engine_path_check(bytes, (size_t)len)) {
        cd_rd_fail(r);
        return;
    }
    out->path = len > 0 ? bytes : NULL;
    out->path_len = (size_t)len;
}

static void put_times(struct cd_buf *b, const struct engine_history *h)
{
    unsigned has = (h->offered != 0 ? HAS_OFFERED : 0) | (h->answered != 0 ? HAS_ANSWERED : 0) |
                   (h->ended != 0 ? HAS_ENDED : 0);
    cd_buf_svar(b, h->arrived);
    cd_buf_uvar(b, has);
    if (has & HAS_OFFERED) {
        cd_buf_svar(b, delta(h->offered, h->arrived));
    }
    if (has & HAS_ANSWERED) {
        cd_buf_svar(b, delta(h->answered, h->arrived));
    }
    if (has & HAS_ENDED) {
        cd_buf_svar(b, delta(h->ended, h->arrived));
    }
}

int storage__history_encode(const struct engine_history *h,
                            uint64_t index,
                            struct cd_buf *b,
                            const char **why)
{
    *why = history_invalid(h);
    if (*why != NULL) {
        return CD_EINVAL;
    }
    cd_buf_reset(b);
    cd_buf_u8(b, STORAGE_HISTORY_V4);
    cd_buf_uvar(b, h->channel);
    cd_buf_uvar(b, h->outcome);
    cd_buf_svar(b, h->priority);
    cd_buf_str(b, h->queue);
    cd_buf_str(b, h->agent);
    cd_buf_str(b, h->reason);
    put_times(b, h);
    cd_buf_uvar(b, h->offers);
    cd_buf_uvar(b, h->transfers);
    cd_buf_uvar(b, h->callback);
    cd_buf_uvar(b, index);
    put_about(b, h);
    cd_buf_uvar(b, h->path.len);
    if (h->path.len > 0) {
        cd_buf_put(b, h->path.data, h->path.len);
    }
    *why = b->err != 0 ? "out of memory" : NULL;
    return b->err;
}

/* An optional time: present only when its bit is set, and then never 0, so that each row has
 * exactly one encoding. */
static int64_t read_time(struct cd_reader *r, unsigned has, unsigned bit, int64_t arrived)
{
    if ((has & bit) == 0) {
        return 0;
    }
    int64_t t = undelta(cd_rd_svar(r), arrived);
    if (t == 0) {
        cd_rd_fail(r);
    }
    return t;
}

static void read_times(struct cd_reader *r, struct storage_history *out)
{
    out->arrived = cd_rd_svar(r);
    unsigned has = (unsigned)cd_rd_uint(r, HAS_ALL);
    out->offered = read_time(r, has, HAS_OFFERED, out->arrived);
    out->answered = read_time(r, has, HAS_ANSWERED, out->arrived);
    out->ended = read_time(r, has, HAS_ENDED, out->arrived);
}

int storage__history_decode(const void *key,
                            size_t klen,
                            const void *val,
                            size_t vlen,
                            struct storage_history *out)
{
    struct cd_reader r;
    memset(out, 0, sizeof(*out));
    if (klen != STORAGE_HISTORY_KEY) {
        return CD_ECORRUPT;
    }
    storage__history_key_read(key, &out->completed, &out->contact);
    if (vlen > 0 && ((const uint8_t *)val)[0] == STORAGE_SPAN_V1) {
        struct storage_span span;
        if (storage__span_decode(key, klen, val, vlen, &span) != 0) {
            return CD_ECORRUPT;
        }
        out->index = span.index;
        return 1;
    }
    cd_reader_init(&r, val, vlen);
    uint8_t format = cd_rd_u8(&r);
    if (format != STORAGE_RECORD_V1 && format != STORAGE_HISTORY_V2 &&
        format != STORAGE_HISTORY_V3 && format != STORAGE_HISTORY_V4) {
        return CD_ECORRUPT;
    }
    out->channel = (uint8_t)cd_rd_uint(&r, ENGINE_CH_COUNT - 1);
    out->outcome = (uint8_t)cd_rd_uint(&r, ENGINE_CONTACT_STATE_COUNT - 1);
    if (out->outcome < ENGINE_CONTACT_COMPLETED) {
        cd_rd_fail(&r);
    }
    out->priority = (int16_t)cd_rd_int(&r, INT16_MIN, INT16_MAX);
    cd_rd_strcpy(&r, out->queue, sizeof(out->queue));
    cd_rd_strcpy(&r, out->agent, sizeof(out->agent));
    cd_rd_strcpy(&r, out->reason, sizeof(out->reason));
    read_times(&r, out);
    out->offers = (uint32_t)cd_rd_uint(&r, UINT32_MAX);
    out->transfers = (uint32_t)cd_rd_uint(&r, UINT32_MAX);
    out->callback = (uint8_t)cd_rd_uint(&r, UINT8_MAX);
    out->index = format >= STORAGE_HISTORY_V2 ? cd_rd_uvar(&r) : 0;
    if (format >= STORAGE_HISTORY_V3) {
        read_about(&r, out);
    }
    if (format >= STORAGE_HISTORY_V4) {
        read_path(&r, out);
    }
    return finish_read(&r);
}

/* ---- meta ---------------------------------------------------------------------------- */

void storage__applied_encode(uint64_t applied, struct cd_buf *b)
{
    cd_buf_reset(b);
    cd_buf_u8(b, STORAGE_RECORD_V1);
    cd_buf_uvar(b, applied);
}

int storage__applied_decode(const void *val, size_t len, uint64_t *applied)
{
    struct cd_reader r;
    cd_reader_init(&r, val, len);
    if (cd_rd_u8(&r) != STORAGE_RECORD_V1) {
        return CD_ECORRUPT;
    }
    *applied = cd_rd_uvar(&r);
    return finish_read(&r);
}

void storage__gaps_encode(const struct storage__gaps *g, struct cd_buf *b)
{
    cd_buf_reset(b);
    cd_buf_u8(b, STORAGE_HISTORY_V2);
    cd_buf_uvar(b, g->count);
    cd_buf_uvar(b, g->first);
    cd_buf_uvar(b, g->last);
    cd_buf_uvar(b, g->n_pending);
    for (uint32_t i = 0; i < g->n_pending; i++) {
        cd_buf_uvar(b, g->pending[i].first);
        cd_buf_uvar(b, g->pending[i].last);
        cd_buf_svar(b, g->pending[i].from_ms);
        cd_buf_svar(b, g->pending[i].to_ms);
    }
}

int storage__gaps_decode(const void *val, size_t len, struct storage__gaps *g)
{
    struct cd_reader r;
    cd_reader_init(&r, val, len);
    memset(g, 0, sizeof(*g));
    uint8_t format = cd_rd_u8(&r);
    if (format != STORAGE_RECORD_V1 && format != STORAGE_HISTORY_V2) {
        return CD_ECORRUPT;
    }
    g->count = (uint32_t)cd_rd_uint(&r, UINT32_MAX);
    g->first = cd_rd_uvar(&r);
    g->last = cd_rd_uvar(&r);
    if (g->first > g->last) {
        cd_rd_fail(&r);
    }
    g->n_pending =
        format == STORAGE_HISTORY_V2 ? (uint32_t)cd_rd_uint(&r, STORAGE_GAPS_PENDING_MAX) : 0;
    for (uint32_t i = 0; i < g->n_pending; i++) {
        struct storage_gap *p = &g->pending[i];
        p->first = cd_rd_uvar(&r);
        p->last = cd_rd_uvar(&r);
        p->from_ms = cd_rd_svar(&r);
        p->to_ms = cd_rd_svar(&r);
        if (p->first >= p->last || p->from_ms > p->to_ms) {
            cd_rd_fail(&r);
        }
    }
    return finish_read(&r);
}
