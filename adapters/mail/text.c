/* Byte-level helpers: addresses, the DATA payload, the relay's replies. */
#include <stdlib.h>
#include <string.h>

#include "adapters/mail/internal.h"
#include "common/error.h"

bool mail__address_ok(const char *s)
{
    size_t n = 0;

    if (s == NULL || *s == '\0') {
        return false;
    }
    for (; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || n >= MAIL_ADDRESS_MAX) {
            return false;
        }
    }
    return true;
}

/* Checks the line ends and counts the lines that start with '.'. */
static int scan(const char *m, size_t len, size_t *dots)
{
    *dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (m[i] == '\0') {
            return CD_EINVAL;
        }
        if (m[i] == '\r' && (i + 1 == len || m[i + 1] != '\n')) {
            return CD_EINVAL;
        }
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) {
            return CD_EINVAL;
        }
        if (m[i] == '.' && (i == 0 || m[i - 1] == '\n')) {
            (*dots)++;
        }
    }
    return 0;
}

int mail__stuff(const char *message, size_t len, char **out, size_t *out_len)
{
    size_t dots, n = 0;
    bool crlf = len >= 2 && message[len - 2] == '\r' && message[len - 1] == '\n';
    char *p;
    int rc;

    if (len == 0) {
        return CD_EINVAL;
    }
    rc = scan(message, len, &dots);
    if (rc != 0) {
        return rc;
    }
    /* RFC 5321 4.5.2: a line that starts with '.' gets one more; the data ends with
     * CRLF "." CRLF, the first CRLF being the last line's own. */
    p = malloc(len + dots + (crlf ? 0 : 2) + 3);
    if (p == NULL) {
        return CD_ENOMEM;
    }
    for (size_t i = 0; i < len; i++) {
        if (message[i] == '.' && (i == 0 || message[i - 1] == '\n')) {
            p[n++] = '.';
        }
        p[n++] = message[i];
    }
    if (!crlf) {
        memcpy(p + n, "\r\n", 2);
        n += 2;
    }
    memcpy(p + n, ".\r\n", 3);
    *out = p;
    *out_len = n + 3;
    return 0;
}

/* A tab reads as a space, other control bytes and non-ASCII as '?'. */
static char printable(char ch)
{
    unsigned char c = (unsigned char)ch;
    return c == '\t' ? ' ' : (c < ' ' || c >= 0x7f) ? '?' : ch;
}

void mail__clean(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (; src[n] != '\0' && n + 1 < cap; n++) {
        dst[n] = printable(src[n]);
    }
    dst[n] = '\0';
}

/* Appends src[0..len) to r->text as far as it fits. */
static void text_add(struct mail__reply *r, size_t *at, const char *src, size_t len)
{
    size_t room = sizeof(r->text) - 1 - *at;
    size_t n = len < room ? len : room;

    for (size_t i = 0; i < n; i++) {
        r->text[*at + i] = printable(src[i]);
    }
    *at += n;
    r->text[*at] = '\0';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

long mail__reply_take(const char *in, size_t len, struct mail__reply *r)
{
    size_t pos = 0, at = 0;

    r->text[0] = '\0';
    for (;;) {
        const char *line = in + pos;
        const char *lf = memchr(line, '\n', len - pos);
        size_t n;

        if (lf == NULL) {
            return 0;
        }
        n = (size_t)(lf - line);
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        if (n < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
            (n > 3 && line[3] != ' ' && line[3] != '-')) {
            return -1;
        }
        r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        /* "250-first" "250 second" reads "250 first second". */
        if (at == 0) {
            text_add(r, &at, line, 3);
        }
        if (n > 4) {
            text_add(r, &at, " ", 1);
            text_add(r, &at, line + 4, n - 4);
        }
        pos = (size_t)(lf - in) + 1;
        if (n == 3 || line[3] == ' ') {
            return r->code >= 100 && r->code < 600 ? (long)pos : -1;
        }
    }
}
