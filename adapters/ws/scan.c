/* adapters/ws: a client's frames, checked before wslay reads them.
 *
 * wslay refuses what RFC 6455 forbids and messages over its length limit, but closes
 * without a reason text, and it allocates a frame's whole payload as soon as it has read
 * the header. Reading the headers first lets every refusal carry its reason, keeps a
 * frame over the limits from costing memory, and is where the rate counts messages. The
 * scanner unmasks text payloads to check their UTF-8 across frames; it never changes the
 * bytes wslay is given. */
#include <string.h>

#include "adapters/ws/internal.h"

enum {
    OP_CONTINUATION = 0x0,
    OP_TEXT = 0x1,
    OP_BINARY = 0x2,
    OP_CLOSE = 0x8,
    OP_PING = 0x9,
    OP_PONG = 0xa,
};

void ws__scan_init(struct ws__scan *sc,
                   size_t max_frame,
                   size_t max_message,
                   bool (*take_message)(void *arg),
                   void *arg)
{
    memset(sc, 0, sizeof(*sc));
    sc->max_frame = max_frame;
    sc->max_message = max_message;
    sc->take_message = take_message;
    sc->arg = arg;
}

/* ---- UTF-8 (RFC 3629) ------------------------------------------------------------- */

struct utf8
{
    uint8_t need;
    uint8_t lo, hi;
};

/* One byte more; false when it cannot continue valid UTF-8. */
static bool utf8_step(struct utf8 *u, uint8_t b)
{
    if (u->need > 0) {
        if (b < u->lo || b > u->hi) {
            return false;
        }
        u->need--;
        u->lo = 0x80;
        u->hi = 0xbf;
        return true;
    }
    u->lo = 0x80;
    u->hi = 0xbf;
    if (b < 0x80) {
        return true;
    } else if (b >= 0xc2 && b <= 0xdf) {
        u->need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
        u->need = 2;
        u->lo = b == 0xe0 ? 0xa0 : 0x80; /* overlong */
        u->hi = b == 0xed ? 0x9f : 0xbf; /* surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        u->need = 3;
        u->lo = b == 0xf0 ? 0x90 : 0x80; /* overlong */
        u->hi = b == 0xf4 ? 0x8f : 0xbf; /* past U+10FFFF */
    } else {
        return false;
    }
    return true;
}

bool ws__utf8_valid(const char *s, size_t len)
{
    struct utf8 u = {0, 0x80, 0xbf};
    for (size_t i = 0; i < len; i++) {
        if (!utf8_step(&u, (uint8_t)s[i])) {
            return false;
        }
    }
    return u.need == 0;
}

/* ---- Frames ----------------------------------------------------------------------- */

static const struct ws__verdict ok = {0, NULL};

static struct ws__verdict refuse(uint16_t code, const char *reason)
{
    return (struct ws__verdict){code, reason};
}

/* The header's size once its first two bytes are known. */
static size_t head_size(const uint8_t *head)
{
    uint8_t len7 = head[1] & 0x7f;
    size_t n = 2 + ((head[1] & 0x80) ? 4 : 0);
    return n + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
}

static uint64_t payload_length(const uint8_t *head)
{
    uint8_t len7 = head[1] & 0x7f;
    uint64_t n = 0;
    if (len7 < 126) {
        return len7;
    }
    size_t bytes = len7 == 126 ? 2 : 8;
    for (size_t i = 0; i < bytes; i++) {
        n = (n << 8) | head[2 + i];
    }
    return n;
}

static struct ws__verdict check_control(const struct ws__scan *sc, uint64_t len)
{
    if (!sc->fin) {
        return refuse(1002, "protocol error: a fragmented control frame");
    }
    if (len > 125) {
        return refuse(1002, "protocol error: a control frame over 125 bytes");
    }
    return ok;
}

/* A data frame: its place in a message, its size, and the rate. */
static struct ws__verdict check_data(struct ws__scan *sc, uint64_t len)
{
    if (sc->opcode == OP_CONTINUATION) {
        if (!sc->in_message) {
            return refuse(1002, "protocol error: a continuation frame without a message");
        }
    } else if (sc->in_message) {
        return refuse(1002, "protocol error: a new message inside a fragmented one");
    } else if (sc->opcode == OP_BINARY) {
        return refuse(1003, "binary messages are not accepted");
    } else {
        if (sc->take_message != NULL && !sc->take_message(sc->arg)) {
            return refuse(1008, "too many messages");
        }
        sc->message_len = 0;
        sc->text = true;
    }
    if (len > sc->max_frame) {
        return refuse(1009, "frame too large");
    }
    if (len > sc->max_message - sc->message_len) {
        return refuse(1009, "message too large");
    }
    sc->message_len += len;
    sc->in_message = !sc->fin;
    return ok;
}

/* The header is complete: judge the frame. */
static struct ws__verdict frame_begins(struct ws__scan *sc)
{
    const uint8_t *h = sc->head;
    uint64_t len = payload_length(h);

    sc->frames++;
    sc->fin = (h[0] & 0x80) != 0;
    sc->opcode = h[0] & 0x0f;
    sc->payload_left = len;
    sc->payload_off = 0;
    if (h[0] & 0x70) {
        return refuse(1002, "protocol error: reserved bits set (no extension is in use)");
    }
    if (!(h[1] & 0x80)) {
        return refuse(1002, "protocol error: frames from a client must be masked");
    }
    if (len >> 63) {
        return refuse(1002, "protocol error: a payload length with its top bit set");
    }
    memcpy(sc->mask, h + head_size(h) - 4, 4);
    switch (sc->opcode) {
        case OP_CLOSE:
        case OP_PING:
        case OP_PONG:
            return check_control(sc, len);
        case OP_CONTINUATION:
        case OP_TEXT:
        case OP_BINARY:
            return check_data(sc, len);
        default:
            return refuse(1002, "protocol error: a reserved opcode");
    }
}

/* Payload bytes of the frame being read; only text is looked into. */
static struct ws__verdict payload(struct ws__scan *sc, const uint8_t *p, size_t n)
{
    bool data = sc->opcode == OP_TEXT || sc->opcode == OP_CONTINUATION;
    struct utf8 u = {sc->utf8_need, sc->utf8_lo, sc->utf8_hi};

    for (size_t i = 0; data && sc->text && i < n; i++) {
        uint8_t b = p[i] ^ sc->mask[(sc->payload_off + i) & 3];
        if (!utf8_step(&u, b)) {
            return refuse(1007, "invalid UTF-8 in a text message");
        }
    }
    sc->utf8_need = u.need;
    sc->utf8_lo = u.lo;
    sc->utf8_hi = u.hi;
    sc->payload_off += n;
    sc->payload_left -= n;
    return ok;
}

/* The frame's payload has all been read. */
static struct ws__verdict frame_ends(struct ws__scan *sc)
{
    bool data = sc->opcode == OP_TEXT || sc->opcode == OP_CONTINUATION;

    sc->head_len = 0;
    if (sc->opcode == OP_CLOSE) {
        /* wslay reads nothing after it. */
        sc->closed = true;
    }
    if (data && sc->fin && sc->utf8_need > 0) {
        return refuse(1007, "invalid UTF-8 in a text message");
    }
    if (data && sc->fin) {
        sc->text = false;
        sc->utf8_need = 0;
    }
    return ok;
}

/* Reads one step (header bytes, or payload) at data[off]; returns the bytes used. */
static size_t step(struct ws__scan *sc, const uint8_t *data, size_t len, struct ws__verdict *v)
{
    if (sc->head_len < 2 || sc->head_len < head_size(sc->head)) {
        sc->head[sc->head_len++] = data[0];
        if (sc->head_len >= 2 && sc->head_len == head_size(sc->head)) {
            *v = frame_begins(sc);
            if (v->code == 0 && sc->payload_left == 0) {
                *v = frame_ends(sc);
            }
        }
        return 1;
    }
    size_t n = len < sc->payload_left ? len : (size_t)sc->payload_left;
    *v = payload(sc, data, n);
    if (v->code == 0 && sc->payload_left == 0) {
        *v = frame_ends(sc);
    }
    return n;
}

size_t ws__scan(struct ws__scan *sc, const char *data, size_t len, struct ws__verdict *v)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t off = 0;

    *v = ok;
    while (off < len && !sc->closed) {
        /* Where the frame at fault would start, if it does: its header, when that began
         * in these bytes; else the byte at hand. */
        size_t frame_start = off >= sc->head_len ? off - sc->head_len : 0;
        bool in_head = sc->head_len < 2 || sc->head_len < head_size(sc->head);
        size_t used = step(sc, p + off, len - off, v);
        if (v->code != 0) {
            if (in_head) {
                return frame_start;
            }
            /* The byte at fault in the payload: UTF-8 is judged byte by byte, so the
             * bytes before it in this step are fine. */
            return off;
        }
        off += used;
    }
    return len;
}
