/* The API's write endpoints (adapters/api: api_handle and the handlers that turn a JSON
 * body into an engine command), without a cluster: the target links with
 * -Wl,--wrap=cluster_submit, so the command a request would propose arrives here instead,
 * and with the reply functions wrapped the same way, so that every answer is seen.
 *
 * Input: a first line "METHOD TARGET" (POST, PUT, PATCH or DELETE on /v1/contacts,
 * /v1/offers, /v1/agents or /v1/queues: the routes that need no cluster to answer), then
 * the body. Every request carries an admin token, which the state the API authenticates
 * against (cluster_engine() is wrapped too) holds, so that requests reach the handlers.
 *
 * Properties, for any input:
 *   - every request gets exactly one answer;
 *   - a request that proposes nothing is refused with a 4xx status, never a 5xx, and a
 *     request the API accepts proposes exactly one command;
 *   - that command encodes (what the API accepts, the log can carry), its binary form
 *     round-trips byte for byte, and the sample state it is applied to answers
 *     deterministically and stays consistent;
 *   - the answer of an accepted request is 200 or 201 when the engine took the command,
 *     else the engine's error with its status. */
#include <stdarg.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "adapters/http/server_internal.h"
#include "common/error.h"
#include "tests/fuzz/fuzz.h"

static struct api *api;
/* The sample state with the admin token FUZZ_TOKEN in it: what the API reads. */
static struct engine *state;
#define FUZZ_TOKEN "cdt_fuzz"

/* What the wrapped functions saw during one request. */
struct seen
{
    int answers;
    int status;
    bool submitted;
    cluster_result_cb cb;
    void *cb_data;
    struct engine_result res;
};
static struct seen h;

int __wrap_cluster_submit(struct cluster *c,
                          const struct engine_command *cmd,
                          cluster_result_cb cb,
                          void *data);
void __real_http_reply(struct http_exchange *x,
                       int status,
                       const char *content_type,
                       const void *body,
                       size_t len);
void __wrap_http_reply(struct http_exchange *x,
                       int status,
                       const char *content_type,
                       const void *body,
                       size_t len);
void __real_http_reply_json(struct http_exchange *x, int status, json_t *json);
void __wrap_http_reply_json(struct http_exchange *x, int status, json_t *json);
void __real_http_reply_error(struct http_exchange *x,
                             int status,
                             const char *code,
                             const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));
void __wrap_http_reply_error(struct http_exchange *x,
                             int status,
                             const char *code,
                             const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));

static void answered(int status)
{
    h.answers++;
    h.status = status;
}

void __wrap_http_reply(struct http_exchange *x,
                       int status,
                       const char *content_type,
                       const void *body,
                       size_t len)
{
    answered(status);
    __real_http_reply(x, status, content_type, body, len);
}

void __wrap_http_reply_json(struct http_exchange *x, int status, json_t *json)
{
    answered(status);
    __real_http_reply_json(x, status, json);
}

void __wrap_http_reply_error(struct http_exchange *x,
                             int status,
                             const char *code,
                             const char *fmt,
                             ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    FUZZ_CHECK(code != NULL && code[0] != 0 && msg[0] != 0, "an error without code or message");
    answered(status);
    __real_http_reply_error(x, status, code, "%s", msg);
}

/* The command's binary form round-trips; the engine answers it on the sample state. */
int __wrap_cluster_submit(struct cluster *c,
                          const struct engine_command *cmd,
                          cluster_result_cb cb,
                          void *data)
{
    struct cd_buf b, again;
    struct engine_command decoded;
    struct engine_cmd_store store;
    (void)c;
    FUZZ_CHECK(!h.submitted, "one request proposed twice");
    cd_buf_init(&b);
    cd_buf_init(&again);
    engine_cmd_store_init(&store);
    int rc = engine_command_encode(cmd, &b);
    FUZZ_CHECK(rc == 0, "the API accepted a %s the codec refuses: %s",
               engine_cmd_name(cmd->kind), cd_errname(rc));
    FUZZ_CHECK(engine_command_decode(b.data, b.len, &decoded, &store) == 0,
               "an encoded %s does not decode", engine_cmd_name(cmd->kind));
    FUZZ_CHECK(engine_command_encode(&decoded, &again) == 0 && again.len == b.len &&
                   memcmp(again.data, b.data, b.len) == 0,
               "%s changed in a round trip", engine_cmd_name(cmd->kind));

    struct engine *e = fuzz_sample_copy();
    fuzz_apply_checked(e, &decoded, engine_now(e) + 1000, &h.res);
    engine_free(e);

    h.submitted = true;
    h.cb = cb;
    h.cb_data = data;
    engine_cmd_store_close(&store);
    cd_buf_close(&again);
    cd_buf_close(&b);
    return 0;
}

const struct engine *__wrap_cluster_engine(const struct cluster *c);
bool __wrap_cluster_is_leader(const struct cluster *c);

const struct engine *__wrap_cluster_engine(const struct cluster *c)
{
    (void)c;
    return state;
}

bool __wrap_cluster_is_leader(const struct cluster *c)
{
    (void)c;
    return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_TOKEN_CREATE};
    struct engine_result res;
    (void)argc;
    (void)argv;
    state = fuzz_sample_copy();
    cmd.u.token.name = "fuzz";
    cmd.u.token.role = ENGINE_ROLE_ADMIN;
    cmd.u.token.agent = "";
    cmd.u.token.user = "";
    api__token_hash(FUZZ_TOKEN, cmd.u.token.hash);
    fuzz_apply_checked(state, &cmd, engine_now(state) + 1, &res);
    if (res.code != 0 || api_new(uv_default_loop(), &api) != 0) {
        FUZZ_DIE("the fuzz token or api_new");
    }
    return 0;
}

static enum http_method method_of(const char *s, size_t n)
{
    static const struct
    {
        const char *name;
        enum http_method method;
    } writes[] = {
        {"POST", HTTP_M_POST},
        {"PUT", HTTP_M_PUT},
        {"PATCH", HTTP_M_PATCH},
        {"DELETE", HTTP_M_DELETE},
    };
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        if (strlen(writes[i].name) == n && memcmp(writes[i].name, s, n) == 0) {
            return writes[i].method;
        }
    }
    return HTTP_M_OTHER;
}

/* A target the HTTP layer would let through (printable ASCII) to one of the routes that
 * answer without a cluster. */
static bool target_ok(const char *t, size_t n)
{
    static const char *const prefixes[] = {"/v1/contacts", "/v1/offers", "/v1/agents",
                                           "/v1/queues"};
    bool known = false;
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= ' ' || t[i] > '~') {
            return false;
        }
    }
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t len = strlen(prefixes[i]);
        known = known || (n >= len && memcmp(t, prefixes[i], len) == 0);
    }
    return known;
}

/* The exchange the HTTP server would hand over: head holds the target, then the decoded
 * path; NULL when the line is not a request this target takes. */
static struct http_exchange *exchange_new(const char *line,
                                          size_t n,
                                          const char *body,
                                          size_t len)
{
    const char *space = memchr(line, ' ', n);
    if (space == NULL) {
        return NULL;
    }
    enum http_method method = method_of(line, (size_t)(space - line));
    const char *target = space + 1;
    size_t tlen = n - (size_t)(target - line);
    size_t plen = strcspn(target, "?");
    plen = plen < tlen ? plen : tlen;
    if (method == HTTP_M_OTHER || !target_ok(target, tlen)) {
        return NULL;
    }
    struct http_exchange *x = calloc(1, sizeof(*x));
    char *head = malloc(2 * tlen + 2);
    char *copy = malloc(len + 1);
    FUZZ_CHECK(x != NULL && head != NULL && copy != NULL, "out of memory");
    memcpy(head, target, tlen);
    head[tlen] = 0;
    if (http__percent_decode(head, plen, head + tlen + 1, tlen + 1, false) < 0) {
        free(head), free(copy), free(x);
        return NULL; /* the HTTP layer refuses it */
    }
    memcpy(copy, body, len);
    copy[len] = 0;
    x->head = head;
    x->body = copy;
    x->req = (struct http_request){
        .method = method,
        .method_name = line,
        .target = head,
        .path = head + tlen + 1,
        .query = plen < tlen ? head + plen + 1 : "",
        .body = copy,
        .body_len = len,
        .n_headers = 1,
        .headers = {{"Authorization", "Bearer " FUZZ_TOKEN}},
    };
    return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t n = nl != NULL ? (size_t)(nl - text) : size;
    const char *body = nl != NULL ? nl + 1 : text + size;
    char line[1024];
    if (n >= sizeof(line)) {
        return 0;
    }
    memcpy(line, text, n);
    line[n] = 0;
    struct http_exchange *x = exchange_new(line, n, body, size - (size_t)(body - text));
    if (x == NULL) {
        return 0;
    }
    line[strcspn(line, " ")] = 0; /* the method's name */
    memset(&h, 0, sizeof(h));

    api_handle(api, x, &x->req);
    if (h.submitted) {
        FUZZ_CHECK(h.answers == 0, "answered before the command was applied");
        h.cb(h.cb_data, &h.res);
        FUZZ_CHECK(h.res.code == 0 ? h.status == 200 || h.status == 201
                                   : h.status == api__status_of(h.res.code),
                   "the engine said %s, the answer is %d", cd_errname(h.res.code), h.status);
    } else {
        FUZZ_CHECK(h.status >= 400 && h.status < 500, "a refusal with status %d", h.status);
    }
    FUZZ_CHECK(h.answers == 1, "%d answers to one request", h.answers);
    return 0;
}
