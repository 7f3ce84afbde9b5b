/* adapters/http: helpers that read a parsed request, and reason phrases. */
#include <string.h>
#include <strings.h>

#include "adapters/http/server_internal.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The byte an escape at in[i] stands for, or -1 when in[i] does not start a valid,
 * non-NUL escape. */
static int escape_at(const char *in, size_t len, size_t i)
{
    if (in[i] != '%' || len - i < 3) {
        return -1;
    }
    int hi = hex_value(in[i + 1]);
    int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        return -1;
    }
    return hi * 16 + lo;
}

int http__percent_decode(const char *in, size_t len, char *out, size_t cap, bool query)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            int decoded = escape_at(in, len, i);
            if (decoded >= 0) {
                c = decoded;
                i += 2;
            } else if (!query) {
                /* A path is routed on: an ambiguous one is refused, not guessed at. */
                return -1;
            }
        } else if (c == '+' && query) {
            c = ' ';
        }
        if (n + 1 >= cap) {
            return -2;
        }
        out[n++] = (char)c;
    }
    if (cap == 0) {
        return -2;
    }
    out[n] = '\0';
    return (int)n;
}

const char *http_header_get(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return req->headers[i].value;
        }
    }
    return NULL;
}

/* Whether the raw (still encoded) key k[0..len) decodes to name. */
static bool key_matches(const char *k, size_t len, const char *name)
{
    char key[256];
    int n = http__percent_decode(k, len, key, sizeof(key), true);

    return n >= 0 && (size_t)n == strlen(name) && memcmp(key, name, (size_t)n) == 0;
}

int http_query_get(const struct http_request *req, const char *name, char *buf, size_t len)
{
    const char *p = req->query;

    while (*p != '\0') {
        size_t pair_len = strcspn(p, "&");
        size_t key_len = strcspn(p, "=&");
        if (key_matches(p, key_len, name)) {
            const char *value = key_len < pair_len ? p + key_len + 1 : p + key_len;
            size_t value_len = (size_t)(p + pair_len - value);
            /* Query decoding is lenient, so -2 (no room) is its only failure. */
            return http__percent_decode(value, value_len, buf, len, true);
        }
        p += pair_len;
        if (*p == '&') {
            p++;
        }
    }
    return -1;
}

/* Reason phrases of RFC 9110, section 15, for the codes an API answers with. */
static const struct
{
    int status;
    const char *text;
} status_texts[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {425, "Too Early"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *http_status_text(int status)
{
    for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++) {
        if (status_texts[i].status == status) {
            return status_texts[i].text;
        }
    }
    return "Unknown";
}
