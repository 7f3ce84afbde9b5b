/* mail_message(): a simple MIME message (RFC 5322, RFC 2045..2047), one body and at most
 * one attachment. Everything it writes is 7-bit, in lines of at most 998 bytes. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/mail/internal.h"
#include "common/error.h"
#include "common/hash.h"

#define LINE_MAX_BYTES 998
/* The longest content type or file name taken. */
#define PARAM_MAX 200

/* How a part's bytes go: as they are (line ends made CRLF) or in base64. */
static bool as_is(const char *content_type, const uint8_t *p, size_t len)
{
    size_t col = 0;

    if (strncasecmp(content_type, "text/", 5) != 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0 || p[i] >= 0x80) {
            return false;
        }
        col = p[i] == '\r' || p[i] == '\n' ? 0 : col + 1;
        if (col > LINE_MAX_BYTES) {
            return false;
        }
    }
    return true;
}

/* Text with every line end (CRLF, LF or a lone CR) written as CRLF. */
static void put_lines(struct cd_buf *b, const uint8_t *p, size_t len)
{
    size_t from = 0;

    for (size_t i = 0; i < len; i++) {
        if (p[i] != '\r' && p[i] != '\n') {
            continue;
        }
        cd_buf_put(b, p + from, i - from);
        cd_buf_put(b, "\r\n", 2);
        if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
            i++;
        }
        from = i + 1;
    }
    cd_buf_put(b, p + from, len - from);
}

static bool ends_in_crlf(const struct cd_buf *b)
{
    return b->len >= 2 && b->data[b->len - 2] == '\r' && b->data[b->len - 1] == '\n';
}

static bool content_type_ok(const char *t)
{
    return t != NULL && strchr(t, '/') != NULL && strlen(t) <= PARAM_MAX && mail__ascii_ok(t);
}

/* One part: its header lines (name, when not NULL, makes it an attachment), the blank line
 * and its content (base64 without a last CRLF). */
static void put_part(struct cd_buf *b,
                     const char *content_type,
                     const void *data,
                     size_t len,
                     const char *name)
{
    bool plain = as_is(content_type, data, len);

    mail__put(b, "Content-Type: ");
    mail__put(b, content_type);
    mail__put(b, "\r\n");
    if (name != NULL && mail__ascii_ok(name) && strpbrk(name, "\"\\") == NULL) {
        mail__put(b, "Content-Disposition: attachment; filename=\"");
        mail__put(b, name);
        mail__put(b, "\"\r\n");
    } else if (name != NULL) {
        mail__put(b, "Content-Disposition: attachment; filename*=");
        mail__ext_value(b, name);
        mail__put(b, "\r\n");
    }
    mail__put(b, plain ? "Content-Transfer-Encoding: 7bit\r\n\r\n"
                       : "Content-Transfer-Encoding: base64\r\n\r\n");
    if (plain) {
        put_lines(b, data, len);
    } else {
        mail__base64(b, data, len, true);
    }
}

/* Whether needle occurs in hay[0..len). */
static bool contains(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

/* A boundary found in neither part. "=_" never occurs in base64; text parts are searched. */
static void boundary(char out[32],
                     const char *message_id,
                     const void *body,
                     size_t len,
                     const struct mail_attachment *a)
{
    for (uint64_t seed = 0;; seed++) {
        snprintf(out, 32, "=_cd_%016llx",
                 (unsigned long long)cd_hash64(message_id, strlen(message_id), seed));
        if (!contains(body, len, out) && !contains(a->data, a->len, out)) {
            return;
        }
    }
}

static bool message_id_ok(const char *id)
{
    const char *at = id != NULL ? strchr(id, '@') : NULL;

    return at != NULL && at != id && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
           strlen(id) <= PARAM_MAX && mail__ascii_ok(id) && strpbrk(id, " <>") == NULL;
}

static bool headers_ok(const struct mail_headers *h, char date[32])
{
    if (!mail__address_ok(h->from) || h->n_to == 0 || h->to == NULL ||
        !message_id_ok(h->message_id) || !mail__date(date, h->date_ms)) {
        return false;
    }
    if ((h->from_name != NULL && !mail__text_ok(h->from_name)) ||
        (h->subject != NULL && !mail__text_ok(h->subject))) {
        return false;
    }
    for (size_t i = 0; i < h->n_to; i++) {
        if (!mail__address_ok(h->to[i])) {
            return false;
        }
    }
    return true;
}

static void put_from(struct cd_buf *b, const struct mail_headers *h)
{
    mail__put(b, "From: ");
    if (h->from_name != NULL && mail__ascii_ok(h->from_name)) {
        mail__put(b, "\"");
        for (const char *c = h->from_name; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\') {
                mail__put(b, "\\");
            }
            cd_buf_put(b, c, 1);
        }
        mail__put(b, "\" ");
    } else if (h->from_name != NULL) {
        mail__encoded_words(b, h->from_name);
        mail__put(b, " ");
    }
    mail__put(b, h->from_name != NULL ? "<" : "");
    mail__put(b, h->from);
    mail__put(b, h->from_name != NULL ? ">\r\n" : "\r\n");
}

/* To, folded before an address that would take the line past 78 characters. */
static void put_to(struct cd_buf *b, const struct mail_headers *h)
{
    size_t col = 4;

    mail__put(b, "To: ");
    for (size_t i = 0; i < h->n_to; i++) {
        size_t n = strlen(h->to[i]);
        if (i > 0) {
            bool fold = col + 2 + n > 78;
            mail__put(b, fold ? ",\r\n " : ", ");
            col = fold ? 1 : col + 2;
        }
        mail__put(b, h->to[i]);
        col += n;
    }
    mail__put(b, "\r\n");
}

static void put_subject(struct cd_buf *b, const char *subject)
{
    mail__put(b, "Subject: ");
    /* Plain ASCII goes as it is, unless it could read as an encoded word ("=?"). */
    if (mail__ascii_ok(subject) && strstr(subject, "=?") == NULL &&
        strlen(subject) <= LINE_MAX_BYTES - 9) {
        mail__put(b, subject);
    } else {
        mail__encoded_words(b, subject);
    }
    mail__put(b, "\r\n");
}

static void put_headers(struct cd_buf *b, const struct mail_headers *h, const char *date)
{
    mail__put(b, "Date: ");
    mail__put(b, date);
    mail__put(b, "\r\n");
    put_from(b, h);
    put_to(b, h);
    put_subject(b, h->subject != NULL ? h->subject : "");
    mail__put(b, "Message-ID: <");
    mail__put(b, h->message_id);
    mail__put(b, ">\r\nMIME-Version: 1.0\r\n");
}

int mail_message(struct cd_buf *out,
                 const struct mail_headers *h,
                 const char *content_type,
                 const void *body,
                 size_t len,
                 const struct mail_attachment *attachment)
{
    size_t start = out->len;
    char date[32], bound[32];

    if (out->err != 0) {
        return out->err;
    }
    if (h == NULL || !headers_ok(h, date) || !content_type_ok(content_type) ||
        (body == NULL && len > 0)) {
        return CD_EINVAL;
    }
    if (attachment != NULL &&
        (!content_type_ok(attachment->content_type) || attachment->filename == NULL ||
         attachment->filename[0] == '\0' || strlen(attachment->filename) > PARAM_MAX ||
         !mail__text_ok(attachment->filename) ||
         (attachment->data == NULL && attachment->len > 0))) {
        return CD_EINVAL;
    }
    put_headers(out, h, date);
    if (attachment == NULL) {
        put_part(out, content_type, body, len, NULL);
    } else {
        boundary(bound, h->message_id, body, len, attachment);
        mail__put(out, "Content-Type: multipart/mixed; boundary=\"");
        mail__put(out, bound);
        mail__put(out, "\"\r\n\r\n--");
        mail__put(out, bound);
        mail__put(out, "\r\n");
        put_part(out, content_type, body, len, NULL);
        mail__put(out, "\r\n--");
        mail__put(out, bound);
        mail__put(out, "\r\n");
        put_part(out, attachment->content_type, attachment->data, attachment->len,
                 attachment->filename);
        mail__put(out, "\r\n--");
        mail__put(out, bound);
        mail__put(out, "--");
    }
    if (!ends_in_crlf(out)) {
        mail__put(out, "\r\n");
    }
    if (out->err != 0) {
        out->err = 0;
        out->len = start;
        return CD_ENOMEM;
    }
    return 0;
}
