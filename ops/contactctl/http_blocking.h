/* A minimal blocking HTTP/1.1 client for command-line tools, over TLS or plain TCP: one
 * request per connection (Connection: close), answers read to the end. */
#ifndef CD_OPS_HTTP_BLOCKING_H
#define CD_OPS_HTTP_BLOCKING_H

#include <stddef.h>

/* The longest bearer token sent. */
#define HB_TOKEN_MAX 4096

/* How every request is made: the certificates a TLS node must prove itself with, whether a
 * bare HOST:PORT endpoint means TLS, and the bearer token. */
struct hb_client;

/* A client that trusts the CA certificates in the PEM file cacert (copied path; NULL: the
 * system's default trust store) and sends token (copied; NULL or "": none) as
 * "Authorization: Bearer TOKEN". A bare HOST:PORT endpoint speaks TLS when cacert is given,
 * plain HTTP otherwise. Returns 0 with *out (hb_client_free() it); -1 with a message in err
 * when the CA file cannot be read or holds no certificate, or the token is not 1 to
 * HB_TOKEN_MAX visible ASCII characters. */
int hb_client_new(const char *cacert,
                  const char *token,
                  struct hb_client **out,
                  char *err,
                  size_t errlen);
void hb_client_free(struct hb_client *client);
/* How long a request may wait for the node (connect, each read and write); 0: 15 s. */
void hb_client_timeout(struct hb_client *client, int ms);

struct hb_answer
{
    int status;
    char *body; /* owned, NUL-terminated */
    size_t len;
};

/* Sends method path to node ("https://host:port", "http://host:port" or "host:port", see
 * hb_client_new(); client may be NULL: plain HTTP only, no token) with an optional JSON
 * body. Returns 0 with the answer; HB_NOT_SENT with a message in err when the node could not
 * be reached ("connect to '127.0.0.1:8080': Connection refused") or did not prove itself
 * ("connect to 'https://127.0.0.1:8081': certificate verify failed (unable to get local
 * issuer certificate)"): it saw nothing of the request; HB_NO_ANSWER when the request may
 * have reached it but no whole answer came back (the peer went silent, closed early, or
 * sent less than its Content-Length). */
#define HB_NOT_SENT (-1)
#define HB_NO_ANSWER (-2)
int hb_request(const struct hb_client *client,
               const char *node,
               const char *method,
               const char *path,
               const char *json_body,
               struct hb_answer *out,
               char *err,
               size_t errlen);
void hb_answer_free(struct hb_answer *a);

/* addr (HOST:PORT, as a node names another member's API) to be reached the way node is:
 * with node's scheme when addr has none and node has one. Written to out, truncated to len. */
void hb_endpoint_like(const char *node, const char *addr, char *out, size_t len);

#endif
