/* The encodings a message needs: base64 (RFC 2045), encoded words (RFC 2047), extended
 * parameter values (RFC 2231) and the date (RFC 5322 3.3). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapters/mail/internal.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Bytes of UTF-8 text encoded per word: 52 base64 characters, so that a word (64
 * characters with "=?UTF-8?B?" and "?=") fits on a line after "Subject: " within the
 * 76 RFC 2047 allows. */
#define WORD_BYTES 39

void mail__put(struct cd_buf *b, const char *s)
{
    cd_buf_put(b, s, strlen(s));
}

/* Three bytes (n of them real, 1..3) as four characters. */
static void b64_group(char out[4], const uint8_t *p, size_t n)
{
    uint32_t v = (uint32_t)p[0] << 16 | (n > 1 ? (uint32_t)p[1] << 8 : 0) | (n > 2 ? p[2] : 0);

    out[0] = b64[v >> 18 & 63];
    out[1] = b64[v >> 12 & 63];
    out[2] = n > 1 ? b64[v >> 6 & 63] : '=';
    out[3] = n > 2 ? b64[v & 63] : '=';
}

void mail__base64(struct cd_buf *b, const void *data, size_t len, bool lines)
{
    const uint8_t *p = data;
    size_t col = 0;

    for (size_t i = 0; i < len; i += 3) {
        char group[4];

        if (lines && col == 76) {
            cd_buf_put(b, "\r\n", 2);
            col = 0;
        }
        b64_group(group, p + i, len - i < 3 ? len - i : 3);
        cd_buf_put(b, group, 4);
        col += 4;
    }
}

/* The length of the UTF-8 sequence s[0..len) starts with, 0 when it is not one. */
static size_t utf8_seq(const uint8_t *s, size_t len)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    uint32_t c;

    if (n == 0 || n > len) {
        return 0;
    }
    c = n == 1 ? s[0] : s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    /* The shortest form only, and no surrogates or code points past U+10FFFF. */
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
        return 0;
    }
    return n;
}

bool mail__text_ok(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s);

    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0 || (n == 1 && (p[i] < ' ' || p[i] == 0x7f))) {
            return false;
        }
        i += n;
    }
    return true;
}

bool mail__ascii_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f) {
            return false;
        }
    }
    return true;
}

void mail__encoded_words(struct cd_buf *b, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s), i = 0;

    while (i < len) {
        size_t n = 0;

        /* Whole characters only: a word must decode to text on its own. */
        while (i + n < len) {
            size_t seq = utf8_seq(p + i + n, len - i - n);
            if (seq == 0 || n + seq > WORD_BYTES) {
                break;
            }
            n += seq;
        }
        if (i > 0) {
            cd_buf_put(b, "\r\n ", 3);
        }
        mail__put(b, "=?UTF-8?B?");
        mail__base64(b, p + i, n, false);
        mail__put(b, "?=");
        i += n;
    }
}

void mail__ext_value(struct cd_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    mail__put(b, "UTF-8''");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        /* RFC 2231 attribute-char: a token character other than '*', '\'' and '%'. */
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("!#$&+-.^_`|~", c) != NULL) {
            cd_buf_put(b, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            cd_buf_put(b, esc, 3);
        }
    }
}

bool mail__date(char out[32], int64_t ms)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int64_t max_ms = 253402300799999; /* 9999-12-31T23:59:59.999Z */
    time_t t;
    struct tm tm;

    if (ms < 0 || ms > max_ms) {
        return false;
    }
    t = (time_t)(ms / 1000);
    if (gmtime_r(&t, &tm) == NULL) {
        return false;
    }
    /* The ranges of the fields are gmtime_r()'s; the modulos tell the compiler so. */
    snprintf(out, 32, "%s, %02u %s %04u %02u:%02u:%02u +0000", days[tm.tm_wday],
             (unsigned)tm.tm_mday % 100u, months[tm.tm_mon],
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
    return true;
}
