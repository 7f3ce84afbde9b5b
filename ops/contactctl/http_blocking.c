/* Blocking HTTP for contactctl: getaddrinfo, connect, write, read until the peer closes. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ops/contactctl/http_blocking.h"

#define TIMEOUT_S 15

static int dial(const char *node, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(node, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    size_t n = colon != NULL ? (size_t)(colon - node) : 0;
    if (colon == NULL || n == 0 || n >= sizeof(host)) {
        snprintf(err, errlen, "node '%s': expected HOST:PORT", node);
        return -1;
    }
    if (node[0] == '[' && n > 2) {
        memcpy(host, node + 1, n - 2);
        host[n - 2] = 0;
    } else {
        memcpy(host, node, n);
        host[n] = 0;
    }
    int rv = getaddrinfo(host, colon + 1, &hints, &res);
    if (rv != 0) {
        snprintf(err, errlen, "resolve '%s': %s", node, gai_strerror(rv));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    struct timeval tv = {.tv_sec = TIMEOUT_S};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        snprintf(err, errlen, "connect to '%s': %s", node, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static char *read_all(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            buf[n] = 0;
            *len = n;
            return r == 0 ? buf : (free(buf), NULL);
        }
        n += (size_t)r;
    }
    free(buf);
    return NULL;
}

/* Splits a whole answer into status and body (no chunked encoding: the server sends
 * Content-Length and closes when asked). */
static int parse_answer(char *raw, size_t len, struct hb_answer *out)
{
    char *eoh = strstr(raw, "\r\n\r\n");
    if (eoh == NULL || sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1) {
        return -1;
    }
    size_t off = (size_t)(eoh + 4 - raw);
    out->len = len - off;
    out->body = malloc(out->len + 1);
    if (out->body == NULL) {
        return -1;
    }
    memcpy(out->body, raw + off, out->len);
    out->body[out->len] = 0;
    return 0;
}

int hb_request(const char *node,
               const char *method,
               const char *path,
               const char *json_body,
               struct hb_answer *out,
               char *err,
               size_t errlen)
{
    char head[1024];
    size_t body_len = json_body != NULL ? strlen(json_body) : 0;
    int fd = dial(node, err, errlen);
    if (fd < 0) {
        return HB_NOT_SENT;
    }
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, node, body_len);
    size_t len = 0;
    char *raw = NULL;
    int rv = HB_NO_ANSWER;
    if (n > 0 && (size_t)n < sizeof(head) && write_all(fd, head, (size_t)n) == 0 &&
        write_all(fd, json_body ? json_body : "", body_len) == 0 &&
        (raw = read_all(fd, &len)) != NULL && parse_answer(raw, len, out) == 0) {
        rv = 0;
    } else {
        snprintf(err, errlen, "%s %s on '%s': no answer (%s)", method, path, node,
                 errno ? strerror(errno) : "malformed");
    }
    free(raw);
    close(fd);
    return rv;
}

void hb_answer_free(struct hb_answer *a)
{
    free(a->body);
    a->body = NULL;
}
