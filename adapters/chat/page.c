/* One customer's page on its WebSocket: the requests of docs/chat.md, each checked, then
 * carried out as commands; the answers once they have committed. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/chat/internal.h"
#include "common/error.h"
#include "common/log.h"

/* A command of a page in flight, and what its answer needs. */
struct op
{
    struct chat__page *p; /* NULL: chat__end_orphan() */
    struct chat *chat;
    uint8_t kind; /* the command's */
    bool resumed;
    bool then_callback; /* SET_ATTRS of a callback: CONTACT_CALLBACK follows */
    char msg_id[ENGINE_MSG_ID_MAX];
};

/* ---- the page's secret ----------------------------------------------------------------- */

static bool b64url_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

/* The session key (and idempotency key) of the chat whose page holds secret:
 * "chat-" + base64url(SHA-256("contactd chat:" + secret)). false for a malformed secret. */
static bool key_of(const char *secret, char out[CHAT__KEY_LEN + 1])
{
    static const char prefix[] = "contactd chat:";
    if (secret == NULL || strlen(secret) != CHAT__SECRET_LEN) {
        return false;
    }
    for (const char *s = secret; *s != 0; s++) {
        if (!b64url_char(*s)) {
            return false;
        }
    }
    uint8_t md[SHA256_DIGEST_LENGTH];
    unsigned char text[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, prefix, sizeof(prefix) - 1) == 1 &&
              EVP_DigestUpdate(ctx, secret, CHAT__SECRET_LEN) == 1 &&
              EVP_DigestFinal_ex(ctx, md, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return false;
    }
    int n = EVP_EncodeBlock(text, md, sizeof(md));
    char *o = out + 5;
    memcpy(out, "chat-", 5);
    for (int i = 0; i < n && text[i] != '='; i++) {
        *o++ = text[i] == '+' ? '-' : text[i] == '/' ? '_' : (char)text[i];
    }
    *o = 0;
    return o - out == CHAT__KEY_LEN;
}

static bool same_key(const char *a, const char *b)
{
    return strlen(a) == CHAT__KEY_LEN && strlen(b) == CHAT__KEY_LEN &&
           CRYPTO_memcmp(a, b, CHAT__KEY_LEN) == 0;
}

/* ---- commands -------------------------------------------------------------------------- */

static void answered(void *data, const struct engine_result *res);

static struct op *op_new(struct chat__page *p, uint8_t kind)
{
    struct op *op = calloc(1, sizeof(*op));
    if (op != NULL) {
        op->p = p;
        op->chat = p->chat;
        op->kind = kind;
    }
    return op;
}

void chat__end_orphan(struct chat *c, uint64_t contact, const char *session)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_SESSION_END, .actor = CHAT__ACTOR};
    struct op *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        return;
    }
    op->chat = c;
    op->kind = cmd.kind;
    cmd.u.session.id = contact;
    cmd.u.session.home = c->member;
    cmd.u.session.session = session;
    c->inflight++;
    if (cluster_submit(c->cluster, &cmd, answered, op) != 0) {
        c->inflight--;
        free(op);
    }
}

/* Submits cmd for p; the answer goes to answered() with op. On failure the page hears why
 * and op is freed. */
static void submit(struct chat__page *p, struct engine_command *cmd, struct op *op)
{
    struct chat *c = p->chat;
    if (op == NULL) {
        chat__send_error(p, "UNAVAILABLE", "out of memory", NULL, NULL);
        return;
    }
    cmd->actor = CHAT__ACTOR;
    p->refs++;
    c->inflight++;
    int rv = cluster_submit(c->cluster, cmd, answered, op);
    if (rv != 0) {
        p->refs--;
        c->inflight--;
        chat__send_error(p, "UNAVAILABLE", cd_strerror(rv), op->msg_id[0] ? op->msg_id : NULL,
                         NULL);
        free(op);
    }
}

static void session_move(struct chat__page *p, bool resumed)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_SESSION_MOVE};
    cmd.u.session.id = p->contact;
    cmd.u.session.home = p->chat->member;
    cmd.u.session.session = p->key;
    struct op *op = op_new(p, cmd.kind);
    if (op != NULL) {
        op->resumed = resumed;
    }
    submit(p, &cmd, op);
}

/* The chat is this connection's from now on: welcome, what it missed, where it stands. */
static void welcome(struct chat__page *p, bool resumed)
{
    struct chat *c = p->chat;
    struct engine_contact_info info;
    if (engine_contact_get(cluster_engine(c->cluster), p->contact, &info) != 0) {
        chat__end_page(p, resumed ? "ended" : "rejected");
        return;
    }
    chat__bind(c, p);
    p->phase = CHAT__LIVE;
    if (resumed) {
        c->stats.resumed++;
    } else {
        c->stats.chats_started++;
    }
    chat__send_json(p, json_pack("{s:s,s:I,s:b}", "t", "welcome", "contact",
                                 (json_int_t)p->contact, "resumed", resumed));
    chat__send_transcript(p);
    chat__send_state(p, &info, true);
}

/* Where the contact is now: this node holds the session already, or must take it over. */
static void take_over(struct chat__page *p, bool resumed)
{
    struct engine_contact_info info;
    if (engine_contact_get(cluster_engine(p->chat->cluster), p->contact, &info) != 0) {
        chat__end_page(p, resumed ? "ended" : "rejected");
        return;
    }
    if (strcmp(info.home, p->chat->member) == 0 && strcmp(info.session, p->key) == 0) {
        welcome(p, resumed);
    } else {
        session_move(p, resumed);
    }
}

static const char *code_name(int code)
{
    switch (code) {
        case CD_EINVAL:
            return "INVAL";
        case CD_ENOTFOUND:
            return "NOTFOUND";
        case CD_ESTATE:
            return "STATE";
        case CD_EEXISTS:
            return "EXISTS";
        case CD_ETOOBIG:
            return "TOO_LARGE";
        default:
            return "UNAVAILABLE";
    }
}

/* The session this page's connection held ends (fenced: only if it is still the contact's,
 * so that a page that already resumed elsewhere keeps its home): the chat waits for its
 * customer, who may resume it on any member. */
static void end_session(struct chat__page *p)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_SESSION_END};
    cmd.u.session.id = p->contact;
    cmd.u.session.home = p->chat->member;
    cmd.u.session.session = p->key;
    submit(p, &cmd, op_new(p, cmd.kind));
}

static void answered(void *data, const struct engine_result *res)
{
    struct op *op = data;
    struct chat__page *p = op->p;
    if (p == NULL) { /* an orphan's session (chat__end_orphan()) */
        struct chat *c = op->chat;
        c->inflight--;
        free(op);
        chat__maybe_done(c);
        return;
    }
    struct chat *c = p->chat;
    c->inflight--;
    bool gone = p->ws == NULL || p->phase == CHAT__DONE;
    if (gone) {
        /* The page went away meanwhile. A session this node took for it (a chat made, or
         * moved here) ends like any other the customer left without a goodbye. */
        bool took =
            op->kind == ENGINE_CMD_CONTACT_CREATE || op->kind == ENGINE_CMD_SESSION_MOVE;
        if (took && res->code == 0 && !c->closing) {
            p->contact = op->kind == ENGINE_CMD_CONTACT_CREATE ? res->contact : p->contact;
            end_session(p);
        }
    } else if (res->code != 0) {
        bool starting =
            op->kind == ENGINE_CMD_CONTACT_CREATE || op->kind == ENGINE_CMD_SESSION_MOVE;
        chat__send_error(p, code_name(res->code), res->message,
                         op->msg_id[0] ? op->msg_id : NULL, NULL);
        if (starting) {
            p->phase = CHAT__FRESH;
        }
    } else {
        switch (op->kind) {
            case ENGINE_CMD_CONTACT_CREATE:
                p->contact = res->contact;
                take_over(p, res->existing);
                break;
            case ENGINE_CMD_SESSION_MOVE:
                welcome(p, op->resumed);
                break;
            case ENGINE_CMD_CHAT_MESSAGE:
                c->stats.messages_in += !res->existing;
                chat__send_json(p, json_pack("{s:s,s:s,s:I}", "t", "sent", "id", op->msg_id,
                                             "seq", (json_int_t)res->contact));
                break;
            case ENGINE_CMD_CONTACT_SET_ATTRS: {
                struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CALLBACK};
                cmd.u.contact.id = p->contact;
                submit(p, &cmd, op_new(p, cmd.kind));
                break;
            }
            case ENGINE_CMD_CONTACT_CALLBACK:
                /* the customer waits no more: the contact keeps its place as a callback */
                p->ended = true;
                end_session(p);
                chat__end_page(p, "callback");
                break;
            case ENGINE_CMD_CONTACT_ABANDON:
            case ENGINE_CMD_CONTACT_END:
                chat__end_page(p, "customer");
                break;
            default:
                break;
        }
    }
    free(op);
    chat__page_put(p);
    chat__maybe_done(c);
}

/* ---- the page's requests --------------------------------------------------------------- */

static const struct engine_chat_entry *find_entry(const struct engine_model *m,
                                                  const char *name)
{
    for (uint32_t i = 0; m != NULL && i < m->n_chat_entries; i++) {
        if (name == NULL || name[0] == 0 || strcmp(m->chat_entries[i].name, name) == 0) {
            return &m->chat_entries[i];
        }
    }
    return NULL;
}

static void on_hello(struct chat__page *p, json_t *j)
{
    const struct engine_model *m = engine_model(cluster_engine(p->chat->cluster));
    json_t *entry_j = json_object_get(j, "entry");
    const char *name = json_string_value(entry_j);
    if (entry_j != NULL && !json_is_null(entry_j) && name == NULL) {
        chat__send_error(p, "INVAL", "entry: expected a name", NULL, "entry");
        return;
    }
    const struct engine_chat_entry *entry = find_entry(m, name);
    if (entry == NULL) {
        chat__send_error(
            p, "NOTFOUND",
            name != NULL && name[0] != 0 ? "no such chat entry" : "chat is not offered here",
            NULL, "entry");
        return;
    }
    if (!key_of(json_string_value(json_object_get(j, "secret")), p->key)) {
        chat__send_error(p, "INVAL", "secret: expected 32 random bytes in base64url", NULL,
                         NULL);
        return;
    }
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    uint8_t n_attrs = 0;
    const char *field = NULL;
    char why[160];
    if (chat__form(entry, json_object_get(j, "form"), attrs, &n_attrs, &field, why,
                   sizeof(why)) != 0) {
        chat__send_error(p, "INVAL", why, NULL, field != NULL ? field : "form");
        return;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    cmd.u.create.key = p->key;
    cmd.u.create.channel = ENGINE_CH_CHAT;
    cmd.u.create.queue = entry->queue >= 0 && (uint32_t)entry->queue < m->n_queues
                             ? m->queues[entry->queue].name
                             : NULL;
    cmd.u.create.n_attrs = n_attrs;
    cmd.u.create.attrs = attrs;
    cmd.u.create.home = p->chat->member;
    cmd.u.create.session = p->key;
    p->phase = CHAT__STARTING;
    submit(p, &cmd, op_new(p, cmd.kind));
}

static void on_resume(struct chat__page *p, json_t *j)
{
    json_t *contact = json_object_get(j, "contact"), *after = json_object_get(j, "after");
    struct engine_contact_info info;
    char key[CHAT__KEY_LEN + 1];
    if (!key_of(json_string_value(json_object_get(j, "secret")), key) ||
        !json_is_integer(contact) || json_integer_value(contact) <= 0 ||
        (after != NULL && (!json_is_integer(after) || json_integer_value(after) < 0))) {
        chat__send_error(p, "INVAL", "resume: expected a secret, a contact and after >= 0",
                         NULL, NULL);
        return;
    }
    p->contact = (uint64_t)json_integer_value(contact);
    if (engine_contact_get(cluster_engine(p->chat->cluster), p->contact, &info) != 0 ||
        info.channel != ENGINE_CH_CHAT || !same_key(info.key, key)) {
        /* unknown, over, or not this secret's: all the same to the page */
        p->phase = CHAT__DONE;
        ws_close(p->ws, 4404, "no such chat");
        return;
    }
    memcpy(p->key, key, sizeof(key));
    json_int_t seq = after != NULL ? json_integer_value(after) : 0;
    p->seq = seq > UINT32_MAX ? UINT32_MAX : (uint32_t)seq;
    p->phase = CHAT__STARTING;
    take_over(p, true);
}

static bool msg_id_ok(const char *s)
{
    return s != NULL && engine_visible_valid(s, ENGINE_MSG_ID_MAX);
}

static void on_msg(struct chat__page *p, json_t *j)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    json_t *text_j = json_object_get(j, "text");
    const char *text = json_string_value(text_j);
    size_t len = json_string_length(text_j);
    if (!msg_id_ok(id)) {
        chat__send_error(p, "INVAL", "id: expected 1-64 visible ASCII characters", NULL, NULL);
        return;
    }
    if (text == NULL || len == 0 || len >= ENGINE_MESSAGE_MAX || strlen(text) != len) {
        chat__send_error(p, "INVAL", "text: expected 1-4095 bytes of text", id, "text");
        return;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    cmd.u.message.id = p->contact;
    cmd.u.message.from = ENGINE_SIDE_CUSTOMER;
    cmd.u.message.msg_id = id;
    cmd.u.message.text = text;
    struct op *op = op_new(p, cmd.kind);
    if (op != NULL) {
        snprintf(op->msg_id, sizeof(op->msg_id), "%s", id);
    }
    submit(p, &cmd, op);
}

/* typing and seen: to the agent's desk, wherever it is connected. */
static void on_signal(struct chat__page *p, const char *t, json_t *j)
{
    json_t *s = NULL;
    if (strcmp(t, "typing") == 0 && json_is_boolean(json_object_get(j, "on"))) {
        s = json_pack("{s:s,s:s,s:b}", "t", "typing", "side", "customer", "on",
                      json_is_true(json_object_get(j, "on")));
    } else if (strcmp(t, "seen") == 0 && json_is_integer(json_object_get(j, "seq")) &&
               json_integer_value(json_object_get(j, "seq")) > 0) {
        s = json_pack("{s:s,s:s,s:I}", "t", "seen", "side", "customer", "seq",
                      json_integer_value(json_object_get(j, "seq")));
    } else {
        chat__send_error(p, "INVAL", "typing takes on (true|false), seen a seq", NULL, NULL);
        return;
    }
    char *text = s != NULL ? json_dumps(s, JSON_COMPACT) : NULL;
    if (text != NULL && p->chat->publish != NULL) {
        p->chat->publish(p->chat->publish_data, p->contact, text, strlen(text));
    }
    free(text);
    json_decref(s);
}

static void on_callback(struct chat__page *p, json_t *j)
{
    const char *via = json_string_value(json_object_get(j, "via"));
    const char *value = json_string_value(json_object_get(j, "value"));
    struct engine_chat_field f = {.max = ENGINE_VALUE_MAX - 1};
    if (via == NULL || (strcmp(via, "phone") != 0 && strcmp(via, "email") != 0)) {
        chat__send_error(p, "INVAL", "via: expected phone or email", NULL, "via");
        return;
    }
    snprintf(f.key, sizeof(f.key), "%s", via);
    snprintf(f.label, sizeof(f.label), "%s", strcmp(via, "phone") == 0 ? "Phone" : "Email");
    f.type = strcmp(via, "phone") == 0 ? ENGINE_FIELD_PHONE : ENGINE_FIELD_EMAIL;
    f.required = true;
    struct engine_chat_entry one = {.n_fields = 1, .queue = -1};
    one.fields[0] = f;
    json_t *form = json_pack("{s:s?}", via, value);
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    uint8_t n = 0;
    const char *field = NULL;
    char why[160];
    if (form == NULL || chat__form(&one, form, attrs, &n, &field, why, sizeof(why)) != 0) {
        chat__send_error(p, "INVAL", form == NULL ? "value: required" : why, NULL, "value");
        json_decref(form);
        return;
    }
    attrs[n++] = (struct engine_attr){"callback_via", via};
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    cmd.u.set_attrs.id = p->contact;
    cmd.u.set_attrs.n_attrs = n;
    cmd.u.set_attrs.attrs = attrs;
    submit(p, &cmd, op_new(p, cmd.kind));
    json_decref(form);
}

static void on_bye(struct chat__page *p)
{
    struct engine_contact_info info;
    if (engine_contact_get(cluster_engine(p->chat->cluster), p->contact, &info) != 0) {
        chat__end_page(p, "customer");
        return;
    }
    p->ended = true;
    struct engine_command cmd = {.kind = info.state == ENGINE_CONTACT_CONNECTED
                                             ? ENGINE_CMD_CONTACT_END
                                             : ENGINE_CMD_CONTACT_ABANDON};
    if (info.state == ENGINE_CONTACT_WRAPUP) {
        chat__end_page(p, "customer");
        return;
    }
    cmd.u.contact.id = p->contact;
    submit(p, &cmd, op_new(p, cmd.kind));
}

static void on_text(void *data, struct ws_conn *ws, const char *msg, size_t len)
{
    struct chat__page *p = data;
    (void)ws;
    json_error_t err;
    json_t *j = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &err);
    const char *t = json_string_value(json_object_get(j, "t"));
    if (!json_is_object(j) || t == NULL) {
        ws_close(p->ws, 1008, "not a message of the chat protocol");
        json_decref(j);
        return;
    }
    bool fresh = p->phase == CHAT__FRESH, live = p->phase == CHAT__LIVE;
    if (strcmp(t, "hello") == 0 && fresh) {
        on_hello(p, j);
    } else if (strcmp(t, "resume") == 0 && fresh) {
        on_resume(p, j);
    } else if (strcmp(t, "msg") == 0 && live) {
        on_msg(p, j);
    } else if ((strcmp(t, "typing") == 0 || strcmp(t, "seen") == 0) && live) {
        on_signal(p, t, j);
    } else if (strcmp(t, "callback") == 0 && live) {
        on_callback(p, j);
    } else if (strcmp(t, "bye") == 0 && live) {
        on_bye(p);
    } else if (strcmp(t, "hello") == 0 || strcmp(t, "resume") == 0 || strcmp(t, "msg") == 0 ||
               strcmp(t, "typing") == 0 || strcmp(t, "seen") == 0 ||
               strcmp(t, "callback") == 0 || strcmp(t, "bye") == 0) {
        chat__send_error(p, "STATE",
                         fresh  ? "say hello or resume first"
                         : live ? "the chat has started already"
                                : "not now",
                         NULL, NULL);
    } else {
        ws_close(p->ws, 1008, "unknown message type");
    }
    json_decref(j);
}

/* The connection is gone. A chat it held without a goodbye waits for its customer: its
 * session ends here (fenced: only if this connection's session is still the contact's),
 * and the page may resume it on any member. */
static void on_close(void *data, struct ws_conn *ws, uint16_t code, const char *reason)
{
    struct chat__page *p = data;
    struct chat *c = p->chat;
    (void)ws;
    (void)code;
    (void)reason;
    p->ws = NULL;
    if (p->phase == CHAT__LIVE) {
        chat__unbind(c, p);
        if (!p->ended && !c->closing) {
            end_session(p);
        }
    }
    p->phase = CHAT__DONE;
    chat__page_put(p);
}

const struct ws_handler chat__handler = {.on_text = on_text, .on_close = on_close};

void chat_serve_ws(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct chat *c = data;
    if (c->closing || c->ws == NULL) {
        http_reply_error(x, 503, "UNAVAILABLE", "this node is stopping");
        return;
    }
    if (strcmp(req->path, "/chat/ws") != 0) {
        http_reply_error(x, 404, "NOTFOUND", "no such path: %s", req->path);
        return;
    }
    struct chat__page *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        http_reply_error(x, 503, "UNAVAILABLE", "out of memory");
        return;
    }
    p->chat = c;
    p->refs = 1;
    p->state = ENGINE_CONTACT_STATE_COUNT;
    if (ws_accept(c->ws, x, req, &chat__handler, p, &p->ws) != 0) {
        free(p);
    }
}
