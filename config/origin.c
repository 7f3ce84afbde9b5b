/* Web origins (RFC 6454): the node file's web_origins, and what the API compares a
 * browser's Origin header with. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

/* A DNS name or an IPv4 literal; or, bracketed, an IPv6 literal. */
static bool origin_host_ok(const char *h, size_t n, bool bracketed)
{
    const char *set = bracketed ? "0123456789abcdefABCDEF:."
                                : "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789.-";
    if (n == 0 || n >= CONFIG_HOST_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (strchr(set, h[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/* ":PORT" at p, through to the end of the text: 1..65535, digits only. */
static bool origin_port(const char *p, uint16_t *out)
{
    long port = 0;
    const char *d = p;
    for (; *d >= '0' && *d <= '9' && port <= 65535; d++) {
        port = port * 10 + (*d - '0');
    }
    if (d == p || *d != '\0' || port < 1 || port > 65535) {
        return false;
    }
    *out = (uint16_t)port;
    return true;
}

bool config_origin_parse(const char *text, struct config_origin *out)
{
    struct config_origin o = {0};
    const char *h;

    if (strncasecmp(text, "https://", 8) == 0) {
        o.https = true;
        h = text + 8;
    } else if (strncasecmp(text, "http://", 7) == 0) {
        h = text + 7;
    } else {
        return false;
    }
    bool bracketed = h[0] == '[';
    const char *end = bracketed ? strchr(h, ']') : h + strcspn(h, ":");
    if (end == NULL) {
        return false;
    }
    const char *host = bracketed ? h + 1 : h;
    size_t n = (size_t)(end - host);
    const char *rest = bracketed ? end + 1 : end;
    if (!origin_host_ok(host, n, bracketed)) {
        return false;
    }
    o.port = o.https ? 443 : 80;
    if (*rest == ':' && !origin_port(rest + 1, &o.port)) {
        return false;
    }
    if (*rest != ':' && *rest != '\0') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        o.host[i] = (char)tolower((unsigned char)host[i]);
    }
    o.host[n] = '\0';
    *out = o;
    return true;
}

bool config_origin_equal(const struct config_origin *a, const struct config_origin *b)
{
    return a->https == b->https && a->port == b->port && strcmp(a->host, b->host) == 0;
}

void config_origin_text(const struct config_origin *o, char *buf, size_t len)
{
    bool v6 = strchr(o->host, ':') != NULL;
    bool usual = o->port == (o->https ? 443 : 80);
    char port[8] = "";
    if (!usual) {
        snprintf(port, sizeof(port), ":%u", (unsigned)o->port);
    }
    snprintf(buf, len, "%s://%s%s%s%s", o->https ? "https" : "http", v6 ? "[" : "", o->host,
             v6 ? "]" : "", port);
}
