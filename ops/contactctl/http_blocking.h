/* A minimal blocking HTTP/1.1 client for command-line tools: one request per connection
 * (Connection: close), answers read to the end. */
#ifndef CD_OPS_HTTP_BLOCKING_H
#define CD_OPS_HTTP_BLOCKING_H

#include <stddef.h>

struct hb_answer
{
    int status;
    char *body; /* owned, NUL-terminated */
    size_t len;
};

/* Sends method path to node ("host:port") with an optional JSON body. Returns 0 with the
 * answer; HB_NOT_SENT with a message in err when the node could not be reached ("connect to
 * '127.0.0.1:8080': Connection refused"): it saw nothing of the request; HB_NO_ANSWER when
 * the request may have reached it but no whole answer came back. */
#define HB_NOT_SENT (-1)
#define HB_NO_ANSWER (-2)
int hb_request(const char *node,
               const char *method,
               const char *path,
               const char *json_body,
               struct hb_answer *out,
               char *err,
               size_t errlen);
void hb_answer_free(struct hb_answer *a);

#endif
