/* adapters/mail: mail_message(), the message builder: header lines, encoded words, base64
 * bodies, multipart with an attachment, and refusals that leave the buffer as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/mail/mail.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

struct fixture
{
    struct cd_buf out;
    char text[1 << 16]; /* out as a string */
    const char *to[40];
    struct mail_headers h;
};

#define F struct fixture *f = *state

static int setup(void **state)
{
    static struct fixture fx;
    struct fixture *f = &fx;

    memset(f, 0, sizeof(*f));
    cd_buf_init(&f->out);
    f->to[0] = "ops@example.com";
    f->h = (struct mail_headers){
        .from = "reports@contactd.test",
        .from_name = "contactd reports",
        .to = f->to,
        .n_to = 1,
        .subject = "Daily report",
        .date_ms = 1767225600000, /* 2026-01-01T00:00:00Z */
        .message_id = "delivery-7-1@contactd.test",
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    F;
    cd_buf_close(&f->out);
    return 0;
}

/* Builds into f->out and f->text; returns mail_message()'s code. */
static int build(struct fixture *f,
                 const char *type,
                 const void *body,
                 size_t len,
                 const struct mail_attachment *a)
{
    int rc = mail_message(&f->out, &f->h, type, body, len, a);

    assert_true(f->out.len < sizeof(f->text));
    memcpy(f->text, f->out.data != NULL ? (const char *)f->out.data : "", f->out.len);
    f->text[f->out.len] = '\0';
    return rc;
}

#define BUILD(type, body) build(f, (type), (body), strlen(body), NULL)

/* The value of header name (its first line), copied into out. */
static const char *header(const char *msg, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *end = strstr(msg, "\r\n\r\n");

    for (const char *p = msg; p != NULL && p < end; p = strstr(p, "\r\n") + 2) {
        if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
            const char *eol = strstr(p, "\r\n");
            snprintf(out, cap, "%.*s", (int)(eol - p - n - 2), p + n + 2);
            return out;
        }
    }
    return NULL;
}

static size_t b64_decode(const char *text, size_t len, char *out, size_t cap)
{
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    for (size_t i = 0; i < len && text[i] != '='; i++) {
        const char *p;
        if (text[i] == '\r' || text[i] == '\n') {
            continue;
        }
        p = strchr(alphabet, text[i]);
        assert_non_null(p);
        acc = acc << 6 | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert_true(n < cap);
            out[n++] = (char)(acc >> bits & 0xff);
        }
    }
    return n;
}

/* Decodes a folded run of "=?UTF-8?B?...?=" words into out (NUL-terminated), checking that
 * every line holds at most 76 characters. */
static void decode_words(const char *s, const char *stop, char *out, size_t cap)
{
    size_t n = 0;

    while (s < stop) {
        const char *end = strstr(s, "?=");
        assert_int_equal(strncmp(s, "=?UTF-8?B?", 10), 0);
        assert_non_null(end);
        assert_true(end + 2 - s <= 75);
        n += b64_decode(s + 10, (size_t)(end - s - 10), out + n, cap - n - 1);
        s = end + 2;
        if (strncmp(s, "\r\n ", 3) == 0) {
            s += 3;
        } else {
            break;
        }
    }
    out[n] = '\0';
}

/* Every line of msg fits in max characters. */
static void assert_lines_within(const char *msg, size_t max)
{
    for (const char *p = msg; *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        assert_true((size_t)(eol - p) <= max);
        p = eol + 2;
    }
}

/* ---- Tests ---------------------------------------------------------------------------- */

static void a_plain_text_message(void **state)
{
    F;

    assert_int_equal(BUILD("text/plain; charset=utf-8", "Line one\nLine two\r\nthree\rfour\n"),
                     0);
    assert_string_equal(f->text,
                        "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
                        "From: \"contactd reports\" <reports@contactd.test>\r\n"
                        "To: ops@example.com\r\n"
                        "Subject: Daily report\r\n"
                        "Message-ID: <delivery-7-1@contactd.test>\r\n"
                        "MIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: 7bit\r\n"
                        "\r\n"
                        "Line one\r\nLine two\r\nthree\r\nfour\r\n");
}

static void names_and_dates(void **state)
{
    F;
    char v[128];

    f->h.from_name = NULL;
    f->h.date_ms = 0;
    assert_int_equal(BUILD("text/plain", "x"), 0);
    assert_string_equal(header(f->text, "From", v, sizeof(v)), "reports@contactd.test");
    assert_string_equal(header(f->text, "Date", v, sizeof(v)),
                        "Thu, 01 Jan 1970 00:00:00 +0000");
    /* The body gets the CRLF it lacked. */
    assert_string_equal(f->text + f->out.len - 3, "x\r\n");

    cd_buf_reset(&f->out);
    f->h.from_name = "Ops \"night\" \\ desk";
    f->h.date_ms = 951825599999; /* a leap day, the last millisecond of it */
    assert_int_equal(BUILD("text/plain", "x"), 0);
    assert_string_equal(header(f->text, "From", v, sizeof(v)),
                        "\"Ops \\\"night\\\" \\\\ desk\" <reports@contactd.test>");
    assert_string_equal(header(f->text, "Date", v, sizeof(v)),
                        "Tue, 29 Feb 2000 11:59:59 +0000");

    cd_buf_reset(&f->out);
    f->h.date_ms = 253402300799999;
    assert_int_equal(BUILD("text/plain", "x"), 0);
    assert_string_equal(header(f->text, "Date", v, sizeof(v)),
                        "Fri, 31 Dec 9999 23:59:59 +0000");
}

static void a_subject_not_in_ascii_is_encoded_words(void **state)
{
    F;
    char decoded[512];
    const char *subject =
        "Rapport quotidien — files d’attente, « Lisbonne » et Zürich: 日本語のテキストも少し";
    const char *start, *stop;

    f->h.subject = subject;
    assert_int_equal(BUILD("text/plain", "x"), 0);
    start = strstr(f->text, "Subject: ") + 9;
    stop = strstr(start, "\r\nMessage-ID");
    assert_non_null(stop);
    assert_non_null(strstr(start, "\r\n =?UTF-8?B?")); /* long enough to fold */
    decode_words(start, stop, decoded, sizeof(decoded));
    assert_string_equal(decoded, subject);
    assert_lines_within(f->text, 76);
}

static void an_ascii_subject_that_looks_encoded_is_encoded(void **state)
{
    F;
    char decoded[128];
    const char *start;

    f->h.subject = "=?UTF-8?B?aGk=?= is not a word here";
    assert_int_equal(BUILD("text/plain", "x"), 0);
    start = strstr(f->text, "Subject: ") + 9;
    decode_words(start, strstr(start, "\r\nMessage-ID"), decoded, sizeof(decoded));
    assert_string_equal(decoded, f->h.subject);
}

static void a_display_name_not_in_ascii_is_encoded(void **state)
{
    F;
    char v[128], decoded[64];

    f->h.from_name = "Relatórios";
    assert_int_equal(BUILD("text/plain", "x"), 0);
    header(f->text, "From", v, sizeof(v));
    assert_non_null(strstr(v, "?= <reports@contactd.test>"));
    decode_words(v, strstr(v, " <"), decoded, sizeof(decoded));
    assert_string_equal(decoded, "Relatórios");
}

static void many_recipients_fold(void **state)
{
    F;
    char names[40][32];

    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "agent-%02d@example.com", i);
        f->to[i] = names[i];
    }
    f->h.n_to = 40;
    assert_int_equal(BUILD("text/plain", "x"), 0);
    assert_lines_within(f->text, 78);
    for (int i = 0; i < 40; i++) {
        assert_non_null(strstr(f->text, names[i]));
    }
    assert_non_null(strstr(f->text, "agent-00@example.com, agent-01@example.com,"));
}

static void a_body_not_in_7bit_is_base64(void **state)
{
    F;
    const char *body = "Olá, o relatório está anexo.\r\n";
    char decoded[128], *start;
    char binary[300], back[300];

    assert_int_equal(BUILD("text/plain; charset=utf-8", body), 0);
    assert_non_null(strstr(f->text, "Content-Transfer-Encoding: base64\r\n\r\n"));
    start = strstr(f->text, "\r\n\r\n") + 4;
    assert_int_equal(b64_decode(start, strlen(start), decoded, sizeof(decoded)), strlen(body));
    assert_memory_equal(decoded, body, strlen(body));

    /* Not text: base64 whatever the bytes, in lines of 76. */
    for (int i = 0; i < 300; i++) {
        binary[i] = (char)(i * 7);
    }
    cd_buf_reset(&f->out);
    assert_int_equal(build(f, "application/octet-stream", binary, sizeof(binary), NULL), 0);
    start = strstr(f->text, "\r\n\r\n") + 4;
    assert_int_equal(strlen(start), 400 + 5 * 2 + 2); /* 400 characters, 6 lines */
    assert_lines_within(start, 76);
    assert_int_equal(b64_decode(start, strlen(start), back, sizeof(back)), sizeof(binary));
    assert_memory_equal(back, binary, sizeof(binary));
}

static void a_line_over_998_bytes_is_base64(void **state)
{
    F;
    char body[1200];

    memset(body, 'a', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    assert_int_equal(BUILD("text/plain", body), 0);
    assert_non_null(strstr(f->text, "Content-Transfer-Encoding: base64"));
    assert_lines_within(f->text, 76);
}

static void an_attachment_makes_it_multipart(void **state)
{
    F;
    static const char csv[] = "queue,offered\r\nsales,\xc3\xa9t\xc3\xa9\r\n";
    struct mail_attachment a = {"report.csv", "text/csv; charset=utf-8", csv, sizeof(csv) - 1};
    char v[128], want[1024], bound[64], decoded[128];
    const char *part, *b64;

    assert_int_equal(build(f, "text/plain", "See the attachment.\r\n", 21, &a), 0);
    assert_non_null(header(f->text, "Content-Type", v, sizeof(v)));
    assert_int_equal(sscanf(v, "multipart/mixed; boundary=\"%63[^\"]\"", bound), 1);
    snprintf(want, sizeof(want),
             "MIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
             "\r\n"
             "--%s\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Transfer-Encoding: 7bit\r\n"
             "\r\n"
             "See the attachment.\r\n"
             "\r\n--%s\r\n"
             "Content-Type: text/csv; charset=utf-8\r\n"
             "Content-Disposition: attachment; filename=\"report.csv\"\r\n"
             "Content-Transfer-Encoding: base64\r\n"
             "\r\n",
             bound, bound, bound);
    part = strstr(f->text, "MIME-Version");
    assert_memory_equal(part, want, strlen(want));
    b64 = part + strlen(want);
    snprintf(want, sizeof(want), "\r\n--%s--\r\n", bound);
    assert_string_equal(f->text + f->out.len - strlen(want), want);
    assert_int_equal(b64_decode(b64, strlen(b64) - strlen(want), decoded, sizeof(decoded)),
                     sizeof(csv) - 1);
    assert_memory_equal(decoded, csv, sizeof(csv) - 1);
}

static void the_boundary_is_not_in_a_text_part(void **state)
{
    F;
    char body[256], first[64], v[128];
    struct mail_attachment a = {"a.txt", "text/plain", "x", 1};

    /* Whatever boundary the first build chose, put it in the body of the second. */
    assert_int_equal(build(f, "text/plain", "hello", 5, &a), 0);
    header(f->text, "Content-Type", v, sizeof(v));
    assert_int_equal(sscanf(v, "multipart/mixed; boundary=\"%63[^\"]\"", first), 1);
    snprintf(body, sizeof(body), "--%s\r\nnot a boundary\r\n", first);
    cd_buf_reset(&f->out);
    assert_int_equal(build(f, "text/plain", body, strlen(body), &a), 0);
    header(f->text, "Content-Type", v, sizeof(v));
    assert_null(strstr(v, first));
}

static void a_file_name_not_in_ascii_is_rfc2231(void **state)
{
    F;
    struct mail_attachment a = {"relatório 1.pdf", "application/pdf", "%PDF", 4};

    assert_int_equal(build(f, "text/plain", "x", 1, &a), 0);
    assert_non_null(strstr(f->text,
                           "Content-Disposition: attachment; "
                           "filename*=UTF-8''relat%C3%B3rio%201.pdf\r\n"));
}

static void bad_headers_are_refused_and_change_nothing(void **state)
{
    F;
    struct mail_headers good = f->h;
    struct mail_attachment a = {"a.txt", "text/plain", "x", 1};
    const char *const bad_to[] = {"a b@example.com"};

    cd_buf_put(&f->out, "kept", 4);
#define REFUSED(field, value)                                                                  \
    do {                                                                                       \
        f->h = good;                                                                           \
        f->h.field = (value);                                                                  \
        assert_int_equal(mail_message(&f->out, &f->h, "text/plain", "x", 1, NULL), CD_EINVAL); \
        assert_int_equal(f->out.len, 4);                                                       \
    } while (0)
    REFUSED(subject, "two\r\nlines");
    REFUSED(subject, "bad \xff utf-8");
    REFUSED(subject, "overlong \xc0\xaf");
    REFUSED(from_name, "tab\there");
    REFUSED(from, "a b@example.com");
    REFUSED(from, NULL);
    REFUSED(to, bad_to);
    REFUSED(n_to, 0);
    REFUSED(message_id, "no-at-sign");
    REFUSED(message_id, "two@at@signs");
    REFUSED(message_id, "sp ace@example.com");
    REFUSED(message_id, "<x@example.com>");
    REFUSED(message_id, NULL);
    REFUSED(date_ms, -1);
    REFUSED(date_ms, 253402300800000);
#undef REFUSED
    f->h = good;
    assert_int_equal(mail_message(&f->out, &f->h, "text/plain\r\nX: y", "x", 1, NULL),
                     CD_EINVAL);
    assert_int_equal(mail_message(&f->out, &f->h, "plain", "x", 1, NULL), CD_EINVAL);
    a.filename = "";
    assert_int_equal(mail_message(&f->out, &f->h, "text/plain", "x", 1, &a), CD_EINVAL);
    a.filename = "a.txt";
    a.content_type = "text/plain\n";
    assert_int_equal(mail_message(&f->out, &f->h, "text/plain", "x", 1, &a), CD_EINVAL);
    assert_int_equal(f->out.len, 4);
    assert_int_equal(f->out.err, 0);
}

static void out_of_memory_changes_nothing(void **state)
{
    F;
    struct cd_alloc_fault fault;
    int rc;

    cd_buf_put(&f->out, "kept", 4);
    assert_int_equal(cd_buf_reserve(&f->out, 60), 0); /* room for a little, not all */
    cd_alloc_fault_start(&fault, 1, UINT64_MAX);
    rc = mail_message(&f->out, &f->h, "text/plain", "x", 1, NULL);
    cd_alloc_fault_stop(&fault);
    assert_int_equal(rc, CD_ENOMEM);
    assert_true(fault.failed > 0);
    assert_int_equal(f->out.len, 4);
    assert_int_equal(f->out.err, 0);
    assert_memory_equal(f->out.data, "kept", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(a_plain_text_message),
        T(names_and_dates),
        T(a_subject_not_in_ascii_is_encoded_words),
        T(an_ascii_subject_that_looks_encoded_is_encoded),
        T(a_display_name_not_in_ascii_is_encoded),
        T(many_recipients_fold),
        T(a_body_not_in_7bit_is_base64),
        T(a_line_over_998_bytes_is_base64),
        T(an_attachment_makes_it_multipart),
        T(the_boundary_is_not_in_a_text_part),
        T(a_file_name_not_in_ascii_is_rfc2231),
        T(bad_headers_are_refused_and_change_nothing),
        T(out_of_memory_changes_nothing),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
