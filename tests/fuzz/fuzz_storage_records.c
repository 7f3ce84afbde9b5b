/* storage's record decoders (storage/internal.h), as the rows of a data directory reach
 * them: contacts, agents and history rows, the applied index, the history gaps and audit
 * rows.
 *
 * Input: one byte naming the record (its value modulo 6: contact, agent, history, applied,
 * gaps, audit); for an agent one byte of key length; the key (8 bytes for a contact, 16 for
 * a history row, 20 for an audit row, that length for an agent, none for the meta records);
 * then the value.
 *
 * Properties: a decoder answers 0 or CD_ECORRUPT; what it accepts encodes back to exactly
 * the value it read (the codecs of common/buf.h accept one encoding per value), except for
 * history rows and gaps in the first format, which encode in the current one, and then
 * decode to the same fields. */
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"
#include "tests/fuzz/fuzz.h"

enum record { CONTACT, AGENT, HISTORY, APPLIED, GAPS, AUDIT, N_RECORDS };

struct input
{
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
};

static void check_same_bytes(const struct cd_buf *b, const struct input *in, const char *what)
{
    FUZZ_CHECK(b->err == 0, "%s: encoding failed", what);
    FUZZ_CHECK(b->len == in->vlen && memcmp(b->data, in->val, in->vlen) == 0,
               "%s: re-encodes to %zu bytes that differ from its %zu input bytes", what, b->len,
               in->vlen);
}

static void contact(const struct input *in, struct cd_buf *b)
{
    struct storage_contact c;
    const char *why;
    if (storage__contact_decode(in->key, in->klen, in->val, in->vlen, &c) != 0) {
        return;
    }
    FUZZ_CHECK(c.id == storage__key_u64_read(in->key), "contact id not from its key");
    struct engine_contact_info ci = {
        .id = c.id,
        .channel = c.channel,
        .state = c.state,
        .priority = c.priority,
        .step = c.step,
        .callback = c.callback,
        .key = c.key,
        .queue = c.queue,
        .agent = c.agent,
        .offer = c.offer,
        .arrived = c.arrived,
        .enqueued = c.enqueued,
        .answered = c.answered,
    };
    FUZZ_CHECK(storage__contact_encode(&ci, b, &why) == 0, "contact: %s", why);
    check_same_bytes(b, in, "contact");
}

static void agent(const struct input *in, struct cd_buf *b)
{
    struct storage_agent a;
    const char *why;
    if (storage__agent_decode(in->key, in->klen, in->val, in->vlen, &a) != 0) {
        return;
    }
    FUZZ_CHECK(strlen(a.name) == in->klen && memcmp(a.name, in->key, in->klen) == 0,
               "agent name not its key");
    struct engine_agent_info ai = {
        .name = a.name,
        .site = a.site,
        .presence = a.presence,
        .state = a.state,
        .reason = a.reason,
        .last_idle = a.last_idle,
    };
    memcpy(ai.capacity, a.capacity, sizeof(ai.capacity));
    memcpy(ai.load, a.load, sizeof(ai.load));
    FUZZ_CHECK(storage__agent_encode(&ai, b, &why) == 0, "agent: %s", why);
    check_same_bytes(b, in, "agent");
}

static void history_fields_equal(const struct storage_history *x,
                                 const struct storage_history *y)
{
    FUZZ_CHECK(
        x->contact == y->contact && x->channel == y->channel && x->outcome == y->outcome &&
            x->priority == y->priority && strcmp(x->queue, y->queue) == 0 &&
            strcmp(x->agent, y->agent) == 0 && strcmp(x->reason, y->reason) == 0 &&
            x->arrived == y->arrived && x->offered == y->offered &&
            x->answered == y->answered && x->ended == y->ended &&
            x->completed == y->completed && x->offers == y->offers &&
            x->transfers == y->transfers && x->callback == y->callback &&
            x->index == y->index && strcmp(x->key, y->key) == 0 && x->n_attrs == y->n_attrs &&
            strcmp(x->disposition, y->disposition) == 0 && strcmp(x->notes, y->notes) == 0 &&
            x->n_messages == y->n_messages && x->transcript_len == y->transcript_len &&
            (x->transcript_len == 0 ||
             memcmp(x->transcript, y->transcript, x->transcript_len) == 0),
        "history row %llu changed in a round trip", (unsigned long long)x->contact);
    for (uint8_t i = 0; i < x->n_attrs; i++) {
        FUZZ_CHECK(strcmp(x->attrs[i].key, y->attrs[i].key) == 0 &&
                       strcmp(x->attrs[i].value, y->attrs[i].value) == 0,
                   "history row %llu: attribute %u changed in a round trip",
                   (unsigned long long)x->contact, i);
    }
}

static void history(const struct input *in, struct cd_buf *b)
{
    struct storage_history h, again;
    const char *why;
    if (storage__history_decode(in->key, in->klen, in->val, in->vlen, &h) != 0) {
        return; /* not a row, or an agent's span (span() checks those) */
    }
    struct engine_history eh = {
        .contact = h.contact,
        .channel = h.channel,
        .outcome = h.outcome,
        .priority = h.priority,
        .queue = h.queue,
        .agent = h.agent,
        .reason = h.reason,
        .arrived = h.arrived,
        .offered = h.offered,
        .answered = h.answered,
        .ended = h.ended,
        .completed = h.completed,
        .offers = h.offers,
        .transfers = h.transfers,
        .callback = h.callback,
        .key = h.key,
        .n_attrs = h.n_attrs,
        .disposition = h.disposition,
        .notes = h.notes,
        .path = {h.path, h.path_len},
    };
    for (uint8_t i = 0; i < h.n_attrs && i < ENGINE_ATTRS_MAX; i++) {
        eh.attrs[i] = (struct engine_attr){h.attrs[i].key, h.attrs[i].value};
    }
    FUZZ_CHECK(h.transcript_len == 0 ||
                   engine_transcript_parse(h.transcript, h.transcript_len, &eh.transcript) == 0,
               "history row %llu: a transcript the decoder took does not parse",
               (unsigned long long)h.contact);
    FUZZ_CHECK(storage__history_encode(&eh, h.index, b, &why) == 0, "history: %s", why);
    /* rows of the current format re-encode to their own bytes; older ones are read into
     * it (with what they did not have empty) */
    if (in->val[0] == STORAGE_HISTORY_V4) {
        check_same_bytes(b, in, "history row");
    }
    FUZZ_CHECK(storage__history_decode(in->key, in->klen, b->data, b->len, &again) == 0,
               "a re-encoded history row does not decode");
    history_fields_equal(&h, &again);
}

static void applied(const struct input *in, struct cd_buf *b)
{
    uint64_t v;
    if (storage__applied_decode(in->val, in->vlen, &v) == 0) {
        storage__applied_encode(v, b);
        check_same_bytes(b, in, "applied index");
    }
}

static void gaps(const struct input *in, struct cd_buf *b)
{
    struct storage__gaps g, again;
    if (storage__gaps_decode(in->val, in->vlen, &g) != 0) {
        return;
    }
    storage__gaps_encode(&g, b);
    if (in->val[0] == STORAGE_HISTORY_V2) {
        check_same_bytes(b, in, "gaps");
    }
    FUZZ_CHECK(storage__gaps_decode(b->data, b->len, &again) == 0,
               "re-encoded gaps do not decode");
    FUZZ_CHECK(memcmp(&g, &again, sizeof(g)) == 0, "gaps changed in a round trip");
}

static void audit(const struct input *in, struct cd_buf *b)
{
    struct storage_audit a;
    int64_t at;
    struct storage_audit_id id;
    const char *why;
    if (storage__audit_decode(in->key, in->klen, in->val, in->vlen, &a) != 0) {
        return;
    }
    storage__audit_key_read(in->key, &at, &id);
    FUZZ_CHECK(a.at == at && a.id.index == id.index && a.id.n == id.n,
               "audit row's time and id not from its key");
    struct engine_effect fx = {
        .kind = ENGINE_FX_AUDIT,
        .state = a.kind,
        .text = a.actor,
        .action = a.action,
        .object = a.object,
        .agent = a.agent,
        .queue = a.queue,
        .contact = a.contact,
        .at = a.at,
    };
    FUZZ_CHECK(storage__audit_encode(&fx, b, &why) == 0, "audit: %s", why);
    check_same_bytes(b, in, "audit row");
}

/* Splits the input as the comment at the top says; false when it is too short. */
static bool split(const uint8_t *data, size_t size, enum record *kind, struct input *in)
{
    if (size < 1) {
        return false;
    }
    *kind = (enum record)(data[0] % N_RECORDS);
    data++, size--;
    size_t klen = *kind == CONTACT   ? STORAGE_ID_KEY
                  : *kind == HISTORY ? STORAGE_HISTORY_KEY
                  : *kind == AUDIT   ? STORAGE_AUDIT_KEY
                                     : 0;
    if (*kind == AGENT) {
        if (size < 1) {
            return false;
        }
        klen = data[0];
        data++, size--;
    }
    if (size < klen) {
        return false;
    }
    *in = (struct input){data, klen, data + klen, size - klen};
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const decoders[N_RECORDS])(const struct input *, struct cd_buf *) = {
        contact, agent, history, applied, gaps, audit};
    enum record kind;
    struct input in;
    struct cd_buf b;
    if (!split(data, size, &kind, &in)) {
        return 0;
    }
    /* The value ends the input, so ASan sees any read past its end. */
    cd_buf_init(&b);
    decoders[kind](&in, &b);
    cd_buf_close(&b);
    return 0;
}
