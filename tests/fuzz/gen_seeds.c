/* Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from the
 * project's own data: the sample model and node file, the integration tests' model, the
 * sample state's commands, snapshots and storage records, requests shaped like those
 * docs/api.md describes, and the TLS records a client starts a handshake with. Usage:
 * fuzz_seeds DIR (ops/fuzz --seeds runs it).
 *
 * The output is deterministic, so regenerating the corpus changes nothing unless the
 * formats or the samples did. Regression inputs (crashes a fuzzer found, once fixed) live
 * beside these seeds under their own names and are not written here. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "config/config.h"
#include "storage/internal.h"
#include "tests/fuzz/fuzz.h"

static const char *out_dir;

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        FUZZ_DIE("mkdir '%s': %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        FUZZ_DIE("write '%s'", path);
    }
}

static void copy_file(const char *target, const char *name, const char *path)
{
    size_t len;
    char *text = fuzz_read_file(path, &len);
    write_seed(target, name, text, len);
    free(text);
}

/* ---- Commands and snapshots of the sample state ---------------------------------------- */

struct script_seeds
{
    unsigned n;
    struct cd_buf buf;
};

static void command_seed(void *data,
                         const struct engine *e,
                         const struct engine_command *cmd,
                         int64_t now_ms)
{
    struct script_seeds *s = data;
    char name[64];
    (void)now_ms;
    cd_buf_reset(&s->buf);
    if (engine_command_encode(cmd, &s->buf) != 0) {
        FUZZ_DIE("encode %s", engine_cmd_name(cmd->kind));
    }
    snprintf(name, sizeof(name), "cmd-%02u-%s", s->n++, engine_cmd_name(cmd->kind));
    write_seed("engine_command", name, s->buf.data, s->buf.len);
    /* A snapshot just after the install and one in the middle of the traffic. */
    if (s->n == 2 || s->n == 30) {
        cd_buf_reset(&s->buf);
        if (engine_encode(e, &s->buf) != 0) {
            FUZZ_DIE("engine_encode");
        }
        snprintf(name, sizeof(name), "sample-after-%02u", s->n - 1);
        write_seed("engine_snapshot", name, s->buf.data, s->buf.len);
    }
}

/* History rows of finished contacts, as the ENDED effects carry them. */
struct ended
{
    unsigned n;
    struct cd_buf buf;
};

static void history_seed(void *data, const struct engine_effect *fx)
{
    struct ended *h = data;
    uint8_t key[1 + STORAGE_HISTORY_KEY];
    const char *why;
    char name[64];
    if (fx->kind != ENGINE_FX_ENDED || fx->history == NULL) {
        return;
    }
    key[0] = 2; /* history */
    storage__history_key(key + 1, fx->history->completed, fx->history->contact);
    if (storage__history_encode(fx->history, 40 + h->n, &h->buf, &why) != 0) {
        FUZZ_DIE("history: %s", why);
    }
    struct cd_buf seed;
    cd_buf_init(&seed);
    cd_buf_put(&seed, key, sizeof(key));
    cd_buf_put(&seed, h->buf.data, h->buf.len);
    snprintf(name, sizeof(name), "history-%u-%s", h->n++,
             engine_contact_state_name(fx->history->outcome));
    write_seed("storage_records", name, seed.data, seed.len);
    /* The same row in the first format: no index at the end. */
    seed.data[1 + STORAGE_HISTORY_KEY] = STORAGE_RECORD_V1;
    snprintf(name, sizeof(name), "history-v1-%u", h->n - 1);
    write_seed("storage_records", name, seed.data, seed.len - 1);
    cd_buf_close(&seed);
}

static void record_seed(const char *name,
                        uint8_t kind,
                        const void *key,
                        size_t klen,
                        const struct cd_buf *val)
{
    struct cd_buf seed;
    cd_buf_init(&seed);
    cd_buf_u8(&seed, kind);
    if (kind == 1) {
        cd_buf_u8(&seed, (uint8_t)klen); /* an agent's key has a length */
    }
    cd_buf_put(&seed, key, klen);
    cd_buf_put(&seed, val->data, val->len);
    write_seed("storage_records", name, seed.data, seed.len);
    cd_buf_close(&seed);
}

static int contact_record(void *data, const struct engine_contact_info *c)
{
    struct cd_buf *b = data;
    uint8_t key[STORAGE_ID_KEY];
    const char *why;
    char name[64];
    if (storage__contact_encode(c, b, &why) != 0) {
        FUZZ_DIE("contact: %s", why);
    }
    storage__key_u64(key, c->id);
    snprintf(name, sizeof(name), "contact-%llu-%s", (unsigned long long)c->id,
             engine_contact_state_name(c->state));
    record_seed(name, 0, key, sizeof(key), b);
    return 0;
}

/* Audit rows as a batch writes them: a command's, with its agent, and a note's. */
static void audit_records(struct cd_buf *b)
{
    const struct engine_effect rows[] = {
        {.kind = ENGINE_FX_AUDIT,
         .state = ENGINE_CMD_AGENT_UPSERT,
         .text = "token:ops-admin",
         .object = "a01",
         .agent = "a01",
         .at = FUZZ_SAMPLE_T0 + 5000},
        {.kind = ENGINE_FX_AUDIT,
         .state = ENGINE_CMD_AUDIT_NOTE,
         .text = "user:alice",
         .action = "member_add",
         .object = "n4",
         .at = FUZZ_SAMPLE_T0 + 6000},
    };
    const char *names[] = {"audit-agent-upsert", "audit-note"};
    uint8_t key[STORAGE_AUDIT_KEY];
    const char *why;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (storage__audit_encode(&rows[i], b, &why) != 0) {
            FUZZ_DIE("audit: %s", why);
        }
        storage__audit_key(key, rows[i].at, (struct storage_audit_id){40 + i, (uint32_t)i});
        record_seed(names[i], 5, key, sizeof(key), b);
    }
}

static void state_records(const struct engine *e)
{
    struct cd_buf b;
    const char *why, *agent;
    char name[64];
    cd_buf_init(&b);
    engine_contacts_foreach(e, contact_record, &b);
    for (size_t i = 0; i < 6 && (agent = engine_agent_name(e, i)) != NULL; i++) {
        struct engine_agent_info ai;
        engine_agent_get(e, agent, &ai);
        if (storage__agent_encode(&ai, &b, &why) != 0) {
            FUZZ_DIE("agent: %s", why);
        }
        snprintf(name, sizeof(name), "agent-%s-%s", agent, engine_agent_state_name(ai.state));
        record_seed(name, 1, agent, strlen(agent), &b);
    }
    storage__applied_encode(1234, &b);
    record_seed("applied", 3, NULL, 0, &b);
    struct storage__gaps g = {.count = 2, .first = 100, .last = 180, .n_pending = 2};
    g.pending[0] = (struct storage_gap){10, 40, FUZZ_SAMPLE_T0 - 86400000, FUZZ_SAMPLE_T0};
    g.pending[1] = (struct storage_gap){100, 180, FUZZ_SAMPLE_T0, FUZZ_SAMPLE_T0 + 60000};
    storage__gaps_encode(&g, &b);
    record_seed("gaps", 4, NULL, 0, &b);
    cd_buf_reset(&b);
    cd_buf_u8(&b, STORAGE_RECORD_V1);
    cd_buf_uvar(&b, 1), cd_buf_uvar(&b, 7), cd_buf_uvar(&b, 9);
    record_seed("gaps-v1", 4, NULL, 0, &b);
    audit_records(&b);
    cd_buf_close(&b);
}

/* Accepting and rejecting the offers open in the sample state, by their ids. */
static void offer_seeds(const struct engine *e)
{
    static const struct
    {
        const char *name, *verb;
        uint64_t contact;
        const char *agent; /* for a ring-all offer, which names none */
    } offers[] = {{"accept", "accept", 4, NULL}, {"reject", "reject", 5, "lv002"}};
    char text[256];
    for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        struct engine_contact_info ci;
        if (engine_contact_get(e, offers[i].contact, &ci) != 0 || ci.offer == 0) {
            FUZZ_DIE("sample contact %llu has no offer", (unsigned long long)offers[i].contact);
        }
        int n = snprintf(text, sizeof(text), "POST /v1/offers/%llu/%s\n{\"agent\": \"%s\"}",
                         (unsigned long long)ci.offer, offers[i].verb,
                         ci.agent[0] != 0 ? ci.agent : offers[i].agent);
        write_seed("api_body", offers[i].name, text, (size_t)n);
    }
}

static void snapshot_seed(const struct engine *e, const char *name)
{
    struct cd_buf b;
    cd_buf_init(&b);
    if (engine_encode(e, &b) != 0) {
        FUZZ_DIE("engine_encode");
    }
    write_seed("engine_snapshot", name, b.data, b.len);
    cd_buf_close(&b);
}

static void sample_seeds(void)
{
    struct script_seeds s = {0};
    struct ended h = {0};
    struct engine_sink sink = {history_seed, &h};
    cd_buf_init(&s.buf);
    cd_buf_init(&h.buf);
    struct engine *e = fuzz_sample_state(command_seed, &s, &sink);
    snapshot_seed(e, "sample-end");
    state_records(e);
    offer_seeds(e);
    engine_free(e);
    if (engine_new(&e) != 0) {
        FUZZ_DIE("engine_new");
    }
    snapshot_seed(e, "empty");
    engine_free(e);
    cd_buf_close(&s.buf);
    cd_buf_close(&h.buf);
}

/* Users, tokens and a session, each command as its actor gives it; then what revokes them. */
static void principal_seeds(struct engine *e)
{
    static const struct
    {
        const char *name;
        struct engine_command cmd;
    } cmds[] = {
        {"user-set",
         {.kind = ENGINE_CMD_USER_SET,
          .actor = "token:bootstrap",
          .u.user = {.name = "alice",
                     .role = ENGINE_ROLE_AGENT,
                     .agent = "a01",
                     .verifier = "scrypt$16384$8$1$c2FsdA$aGFzaA"}}},
        {"token-create",
         {.kind = ENGINE_CMD_TOKEN_CREATE,
          .actor = "user:alice",
          .u.token = {.name = "ops-admin",
                      .role = ENGINE_ROLE_ADMIN,
                      .hash = {0x9f, 0x86, 0xd0, 0x81, 0x88, 0x4c, 0x7d, 0x65, 0x9a, 0x2f, 0xea,
                               0xa0, 0xc5, 0x5a, 0xd0, 0x15, 0xa3, 0xbf, 0x4f, 0x1b, 0x2b, 0x0b,
                               0x82, 0x2c, 0xd1, 0x5d, 0x6c, 0x15, 0xb0, 0xf0, 0x0a, 0x08}}}},
        {"token-session",
         {.kind = ENGINE_CMD_TOKEN_CREATE,
          .actor = "user:alice",
          .u.token = {.name = "alice-1",
                      .kind = ENGINE_TOKEN_SESSION,
                      .role = ENGINE_ROLE_AGENT,
                      .agent = "a01",
                      .user = "alice",
                      .expires_at = FUZZ_SAMPLE_T0 + 8 * 3600000,
                      .hash = {0x60, 0x30, 0x3a, 0xe2, 0x2b, 0x99, 0x88, 0x61, 0xbc, 0xe3, 0xb2,
                               0x8f, 0x33, 0xee, 0xc1, 0xbe, 0x75, 0x8a, 0x21, 0x3c, 0x86, 0xc9,
                               0x3c, 0x07, 0x6d, 0xbe, 0x9f, 0x55, 0x8c, 0x11, 0xc7, 0x52}}}},
        {"token-revoke",
         {.kind = ENGINE_CMD_TOKEN_REVOKE, .actor = "user:alice", .u.token = {.id = 1}}},
        {"user-delete",
         {.kind = ENGINE_CMD_USER_DELETE,
          .actor = "token:ops-admin",
          .u.user = {.name = "alice"}}},
        {"audit-note",
         {.kind = ENGINE_CMD_AUDIT_NOTE,
          .actor = "token:ops-admin",
          .u.note = {.action = "leader_transfer", .object = "n2"}}},
    };
    struct cd_buf b;
    cd_buf_init(&b);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        cd_buf_reset(&b);
        if (engine_command_encode(&cmds[i].cmd, &b) != 0) {
            FUZZ_DIE("encode %s", cmds[i].name);
        }
        write_seed("engine_command", cmds[i].name, b.data, b.len);
        struct engine_result res;
        if (engine_apply(e, &cmds[i].cmd, FUZZ_SAMPLE_T0 + 4000 + (int64_t)i, &res, NULL) !=
            0) {
            FUZZ_DIE("%s: %s", cmds[i].name, res.message);
        }
        if (i == 2) {
            snapshot_seed(e, "small-principals");
        }
    }
    cd_buf_close(&b);
}

/* The integration tests' small model installed, one agent on a chat. */
static void small_seeds(void)
{
    struct config_model cm;
    struct engine *e;
    struct cd_buf b;
    char err[512];
    config_model_init(&cm);
    if (config_model_load(FUZZ_SMALL_MODEL, &cm, err, sizeof(err)) != 0 ||
        engine_new(&e) != 0) {
        FUZZ_DIE("%s", err);
    }
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL};
    c.u.install.version = 1;
    c.u.install.model = &cm.model;
    c.actor = "it";
    cd_buf_init(&b);
    engine_command_encode(&c, &b);
    write_seed("engine_command", "small-model-install", b.data, b.len);
    engine_apply(e, &c, FUZZ_SAMPLE_T0, NULL, NULL);
    c = (struct engine_command){.kind = ENGINE_CMD_AGENT_LOGIN};
    c.u.agent.name = "a01";
    c.u.agent.presence = ENGINE_PRESENCE_AVAILABLE;
    engine_apply(e, &c, FUZZ_SAMPLE_T0 + 1000, NULL, NULL);
    c = (struct engine_command){.kind = ENGINE_CMD_CONTACT_CREATE};
    c.u.create.channel = ENGINE_CH_CHAT;
    c.u.create.home = "n1";
    c.u.create.session = "chat-tok-1";
    engine_apply(e, &c, FUZZ_SAMPLE_T0 + 2000, NULL, NULL);
    /* A message in its transcript, and its customer's connection gone: a reconnect
     * deadline beside the ring timer. */
    c = (struct engine_command){.kind = ENGINE_CMD_CHAT_MESSAGE};
    c.u.message.id = 1;
    c.u.message.msg_id = "c-1";
    c.u.message.text = "Hello?\nAnyone?";
    cd_buf_reset(&b);
    engine_command_encode(&c, &b);
    write_seed("engine_command", "chat-message", b.data, b.len);
    engine_apply(e, &c, FUZZ_SAMPLE_T0 + 2500, NULL, NULL);
    c = (struct engine_command){.kind = ENGINE_CMD_SESSION_END};
    c.u.session.id = 1;
    cd_buf_reset(&b);
    engine_command_encode(&c, &b);
    write_seed("engine_command", "session-end", b.data, b.len);
    engine_apply(e, &c, FUZZ_SAMPLE_T0 + 2600, NULL, NULL);
    snapshot_seed(e, "small-offered");
    /* Sessions, node loss and a webhook: a homed contact, a move, a loss, a subscription
     * with one delivery and one failure. */
    static const struct
    {
        const char *name;
        struct engine_command cmd;
    } more[] = {
        {"create-homed",
         {.kind = ENGINE_CMD_CONTACT_CREATE,
          .u.create = {.channel = ENGINE_CH_VOICE, .home = "n2", .session = "a84b4c76@pc33"}}},
        {"session-move",
         {.kind = ENGINE_CMD_SESSION_MOVE,
          .u.session = {.id = 2, .home = "n3", .session = ""}}},
        {"node-lost", {.kind = ENGINE_CMD_NODE_LOST, .u.node = {.name = "n3"}}},
        {"webhook-add",
         {.kind = ENGINE_CMD_WEBHOOK_ADD,
          .u.webhook = {.url = "http://127.0.0.1:9000/hook",
                        .secret = "0123456789abcdef",
                        .kinds = 0x1fe,
                        .from_index = 3,
                        .from_n = UINT32_MAX}}},
        {"webhook-delivered",
         {.kind = ENGINE_CMD_WEBHOOK_DELIVERED,
          .u.webhook = {.id = 1,
                        .from_index = 3,
                        .from_n = UINT32_MAX,
                        .to_index = 5,
                        .to_n = 1,
                        .count = 2,
                        .status = 200,
                        .text = "rcv-1"}}},
        {"webhook-failed",
         {.kind = ENGINE_CMD_WEBHOOK_FAILED,
          .u.webhook =
              {.id = 1, .from_index = 5, .from_n = 1, .status = 503, .text = "HTTP 503"}}},
    };
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        cd_buf_reset(&b);
        engine_command_encode(&more[i].cmd, &b);
        write_seed("engine_command", more[i].name, b.data, b.len);
        engine_apply(e, &more[i].cmd, FUZZ_SAMPLE_T0 + 3000 + (int64_t)i, NULL, NULL);
    }
    snapshot_seed(e, "small-sessions-webhooks");
    principal_seeds(e);
    engine_free(e);
    config_model_close(&cm);
    cd_buf_close(&b);
}

/* ---- Documents ------------------------------------------------------------------------- */

static const char insecure_node[] =
    "# Three members on one machine, without a cluster secret (a test bed).\n"
    "id: n2\n"
    "listen: { api: 127.0.0.1:18082, raft: 127.0.0.1:17002, peer: 127.0.0.1:19002 }\n"
    "data_dir: /var/lib/contactd/n2\n"
    "insecure: true\n"
    "join: false\n"
    "peers:\n"
    "  - { id: n1, raft: \"127.0.0.1:17001\", api: \"127.0.0.1:18081\", peer: "
    "\"127.0.0.1:19001\" }\n"
    "  - { id: n2, raft: \"127.0.0.1:17002\", api: \"127.0.0.1:18082\", peer: "
    "\"127.0.0.1:19002\" }\n"
    "  - { id: n3, raft: \"[::1]:17003\", api: \"[::1]:18083\", peer: \"[::1]:19003\" }\n"
    "raft:\n"
    "  election_timeout_ms: 1500\n"
    "  heartbeat_ms: 150\n"
    "  snapshot_threshold: 1024\n"
    "  snapshot_trailing: 512\n"
    "  pre_vote: true\n"
    "  fast_failover: false\n"
    "history_days: 30\n"
    "storage_map_mb: 512\n"
    "log_level: debug\n";

static void document_seeds(void)
{
    copy_file("config_model", "sample-model", FUZZ_SAMPLE_MODEL);
    copy_file("config_model", "integration-model", FUZZ_SMALL_MODEL);
    copy_file("config_model", "unknown-skill",
              CD_SOURCE_DIR "/tests/data/model-unknown-skill.yaml");
    copy_file("config_node", "sample-node", CD_SOURCE_DIR "/ops/sample-node.yaml");
    copy_file("config_node", "bad-peer", CD_SOURCE_DIR "/tests/data/node-bad-peer.yaml");
    write_seed("config_node", "insecure", insecure_node, sizeof(insecure_node) - 1);
}

/* ---- Requests -------------------------------------------------------------------------- */

/* The first byte of an http_parse input seeds where its reads end. */
static const char *const http_requests[][2] = {
    {"get", "\x01GET /healthz HTTP/1.1\r\nHost: n1\r\n\r\n"},
    {"create",
     "\x02POST /v1/contacts HTTP/1.1\r\nHost: n1\r\nContent-Type: application/json\r\n"
     "Content-Length: 41\r\n\r\n{\"channel\":\"chat\",\"attributes\":{\"a\":\"b\"}}"},
    {"pipelined",
     "\x03GET /v1/queues?stale=true HTTP/1.1\r\nHost: n1\r\n\r\n"
     "POST /v1/agents/ls001/login HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
     "HEAD /v1/cluster HTTP/1.1\r\nConnection: close\r\n\r\n"},
    {"chunked",
     "\x04PUT /v1/agents/tmp01 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\n{\"sit\r\n9\r\ne\":\"lab\"}\r\n0\r\nX-Checksum: 1\r\n\r\n"},
    {"continue",
     "\x05POST /v1/model?actor=ops&comment=new%20hours HTTP/1.1\r\nExpect: 100-continue\r\n"
     "Content-Length: 11\r\n\r\nversion: 1\n"},
    {"http10", "\x06GET /v1/contacts/%31 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
    {"upgrade",
     "\x07GET /v1/events HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
    {"bad-escape", "\x08GET /v1/agents/%zz HTTP/1.1\r\n\r\n"},
    {"bad-expect",
     "\x09POST /v1/contacts HTTP/1.1\r\nExpect: later\r\nContent-Length: 0\r\n\r\n"},
};

/* An api_body input: "METHOD TARGET", a newline, the body. */
static const char *const api_requests[][2] = {
    {"create",
     "POST /v1/contacts\n{\"channel\": \"voice\", \"key\": \"call-7\", \"priority\": 2, "
     "\"skills\": [{\"skill\": \"sales\", \"level\": 3}], "
     "\"attributes\": {\"intent\": \"sales\", \"language\": \"en\"}}"},
    {"create-queue", "POST /v1/contacts\n{\"channel\": \"chat\", \"queue\": \"support-chat\"}"},
    {"login", "POST /v1/agents/lt003/login\n{\"presence\": \"away\", \"reason\": \"lunch\"}"},
    {"state", "POST /v1/agents/ls001/state\n{\"presence\": \"available\"}"},
    {"logout", "POST /v1/agents/ls002/logout\n"},
    {"upsert",
     "PUT /v1/agents/tmp02\n{\"site\": \"lisbon\", \"skills\": {\"support\": 5}, "
     "\"capacity\": {\"voice\": 1, \"chat\": 3}, \"queues\": [\"support-chat\"]}"},
    {"skills", "PUT /v1/agents/lt001/skills\n{\"skills\": {\"support\": 9, \"english\": 4}}"},
    {"delete", "DELETE /v1/agents/ls003\n"},
    {"transfer", "POST /v1/contacts/8/transfer\n{\"queue\": \"support-voice\"}"},
    {"transfer-out", "POST /v1/contacts/3/transfer\n{\"target\": \"sip:desk@example.net\"}"},
    {"attributes",
     "PUT /v1/contacts/3/attributes\n{\"attributes\": {\"note\": \"\", \"tier\": \"gold\"}}"},
    {"end", "POST /v1/contacts/4/end\n{}"},
    {"wrapup", "POST /v1/contacts/3/wrapup-done\n"},
    {"pause", "POST /v1/queues/support-sms/pause?x=1\n"},
    {"resume", "POST /v1/queues/sales-backup/resume\n"},
    {"wrong-method", "PATCH /v1/contacts/1\n"},
    {"create-homed",
     "POST /v1/contacts\n{\"channel\": \"chat\", \"session\": {\"home\": \"n2\", "
     "\"key\": \"tok-1\"}}"},
    {"session-move", "PUT /v1/contacts/3/session\n{\"home\": \"n3\", \"key\": \"tok-2\"}"},
    {"session-end", "DELETE /v1/contacts/3/session\n"},
    {"webhook-add",
     "POST /v1/webhooks\n{\"url\": \"http://127.0.0.1:9000/hook\", \"secret\": "
     "\"0123456789abcdef\", \"kinds\": [\"offer\", \"ended\"]}"},
    {"webhook-delete", "DELETE /v1/webhooks/1\n"},
};

/* HTTP inside TLS: flags (0x01, and 0x02 for TLS 1.2, 0x04 to resume a session, 0x08 to
 * send the bytes many times over, 0x10 to end without close_notify, 0x20 for key updates),
 * then an http_parse input, whose first byte seeds the records the bytes are cut into. */
static void tls_http_seed(const char *name, uint8_t flags, const char *request)
{
    char text[2048];
    int n = snprintf(text, sizeof(text), "%c%s", flags, request);
    char seed_name[64];
    snprintf(seed_name, sizeof(seed_name), "http-%s", name);
    write_seed("tls_http", seed_name, text, (size_t)n);
}

static void request_seeds(void)
{
    for (size_t i = 0; i < sizeof(http_requests) / sizeof(http_requests[0]); i++) {
        write_seed("http_parse", http_requests[i][0], http_requests[i][1],
                   strlen(http_requests[i][1]));
        uint8_t flags =
            (uint8_t)(0x01 | (i % 4) << 1 | (i % 3 == 2 ? 0x10 : 0) | (i % 4 == 2 ? 0x20 : 0));
        tls_http_seed(http_requests[i][0], flags, http_requests[i][1]);
    }
    /* Answered on a later loop turn, with the next requests waiting behind. */
    tls_http_seed("later-pipelined", 0x05,
                  "\x0aPOST /later HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                  "GET /later?again HTTP/1.1\r\n\r\nDELETE /v1/agents/x HTTP/1.1\r\n\r\n"
                  "GET /v1/cluster HTTP/1.1\r\nHost: n1\r\n\r\nGET / HTTP/1.1\r\n");
    /* Sent 128 times over (flag 0x08): 140 KiB behind a request answered later. */
    char repeated[1200];
    snprintf(repeated, sizeof(repeated),
             "\x2cPOST /later HTTP/1.1\r\nContent-Length: 1024\r\n\r\n%01024d"
             "GET /v1/queues HTTP/1.1\r\n\r\n",
             0);
    tls_http_seed("later-repeated", 0x09, repeated);
    /* Refused for obs-fold when a record ends after the space, else for the bare CR. */
    tls_http_seed("obs-fold-or-bare-cr", 0x01, "\x15GET / HTTP/1.1\r\nA: b\r\n c\rd\r\n\r\n");
    for (size_t i = 0; i < sizeof(api_requests) / sizeof(api_requests[0]); i++) {
        write_seed("api_body", api_requests[i][0], api_requests[i][1],
                   strlen(api_requests[i][1]));
    }
}

/* ---- TLS records ---------------------------------------------------------------------- */

/* Big-endian integers and length prefixes, as TLS writes them. */
static void tls_int(struct cd_buf *b, uint32_t v, size_t width)
{
    for (size_t i = width; i-- > 0;) {
        cd_buf_u8(b, (uint8_t)(v >> (8 * i)));
    }
}

/* Opens a length prefix of width bytes; tls_close() fills it in once the contents are
 * written. */
static size_t tls_open(struct cd_buf *b, size_t width)
{
    size_t at = b->len;
    tls_int(b, 0, width);
    return at;
}

static void tls_close(struct cd_buf *b, size_t at, size_t width)
{
    size_t n = b->len - at - width;
    for (size_t i = 0; i < width; i++) {
        b->data[at + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
    }
}

static void tls_extension(struct cd_buf *b, uint16_t type, const void *data, size_t len)
{
    tls_int(b, type, 2);
    tls_int(b, (uint32_t)len, 2);
    cd_buf_put(b, data, len);
}

/* A ClientHello handshake message (type, 24-bit length, body) for n1 with fixed random,
 * session id and key share, so that the seeds are the same on every run: TLS 1.3 and 1.2
 * (X25519 key share, supported_versions) or TLS 1.2 only. */
static void client_hello(struct cd_buf *b, bool tls13)
{
    static const uint8_t suites13[] = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0,
                                       0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30};
    static const uint8_t sni[] = {0x00, 0x05, 0x00, 0x00, 0x02, 'n', '1'};
    static const uint8_t groups[] = {0x00, 0x04, 0x00, 0x1d, 0x00, 0x17};
    static const uint8_t points[] = {0x01, 0x00};
    static const uint8_t sigalgs[] = {0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01};
    static const uint8_t versions[] = {0x04, 0x03, 0x04, 0x03, 0x03};
    static const uint8_t psk_modes[] = {0x01, 0x01};
    static const uint8_t reneg[] = {0x00};
    uint8_t fixed[32];
    cd_buf_u8(b, 1); /* client_hello */
    size_t body = tls_open(b, 3);
    tls_int(b, 0x0303, 2);
    for (int i = 0; i < 32; i++) {
        fixed[i] = (uint8_t)i;
    }
    cd_buf_put(b, fixed, sizeof(fixed)); /* random */
    cd_buf_u8(b, 32);
    cd_buf_put(b, fixed, sizeof(fixed)); /* a session id, as middleboxes expect */
    size_t skip = tls13 ? 0 : 6;
    tls_int(b, (uint32_t)(sizeof(suites13) - skip), 2);
    cd_buf_put(b, suites13 + skip, sizeof(suites13) - skip);
    cd_buf_put(b, points, sizeof(points)); /* compression: null only */
    size_t ext = tls_open(b, 2);
    tls_extension(b, 0x0000, sni, sizeof(sni));
    tls_extension(b, 0x000a, groups, sizeof(groups));
    tls_extension(b, 0x000b, points, sizeof(points));
    tls_extension(b, 0x000d, sigalgs, sizeof(sigalgs));
    tls_extension(b, 0x0017, NULL, 0); /* extended master secret */
    tls_extension(b, 0x0023, NULL, 0); /* an empty session ticket */
    tls_extension(b, 0xff01, reneg, sizeof(reneg));
    if (tls13) {
        tls_extension(b, 0x002b, versions, sizeof(versions));
        tls_extension(b, 0x002d, psk_modes, sizeof(psk_modes));
        tls_int(b, 0x0033, 2);
        size_t shares = tls_open(b, 2);
        size_t list = tls_open(b, 2);
        tls_int(b, 0x001d, 2);
        tls_int(b, 32, 2);
        for (int i = 0; i < 32; i++) {
            cd_buf_u8(b, (uint8_t)(0x40 + i)); /* any 32 bytes are an X25519 key */
        }
        tls_close(b, list, 2);
        tls_close(b, shares, 2);
    }
    tls_close(b, ext, 2);
    tls_close(b, body, 3);
}

/* A record of type type holding data[0..len). */
static void tls_record(struct cd_buf *b, uint8_t type, const void *data, size_t len)
{
    cd_buf_u8(b, type);
    tls_int(b, type == 22 ? 0x0301 : 0x0303, 2);
    tls_int(b, (uint32_t)len, 2);
    cd_buf_put(b, data, len);
}

/* A tls_http input of the records mode: flags, then the bytes. */
static void records_seed(const char *name, uint8_t flags, const struct cd_buf *bytes)
{
    struct cd_buf seed;
    cd_buf_init(&seed);
    cd_buf_u8(&seed, flags);
    cd_buf_put(&seed, bytes->data, bytes->len);
    write_seed("tls_http", name, seed.data, seed.len);
    cd_buf_close(&seed);
}

static void record_seeds(void)
{
    static const uint8_t empty_certificate[] = {0x0b, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00};
    static const uint8_t fatal_alert[] = {0x02, 0x28}; /* handshake_failure */
    static const uint8_t ccs[] = {0x01};
    static const char http[] = "GET /healthz HTTP/1.1\r\nHost: n1\r\n\r\n";
    /* An SSLv2-style ClientHello: two ECDHE suites, no session id, a 16-byte challenge. */
    static const uint8_t sslv2[] = {0x80, 0x1f, 0x01, 0x03, 0x03, 0x00, 0x06, 0x00, 0x00,
                                    0x00, 0x10, 0x00, 0xc0, 0x2b, 0x00, 0xc0, 0x2f, 1,
                                    2,    3,    4,    5,    6,    7,    8,    9,    10,
                                    11,   12,   13,   14,   15,   16};
    struct cd_buf hello13, hello12, b;
    cd_buf_init(&hello13);
    cd_buf_init(&hello12);
    cd_buf_init(&b);
    client_hello(&hello13, true);
    client_hello(&hello12, false);

    tls_record(&b, 22, hello13.data, hello13.len);
    records_seed("hello13", 0x00, &b);
    records_seed("hello13-hold", 0x02, &b);
    records_seed("hello13-mutual-hold", 0x06, &b);
    b.len = b.len / 2;
    records_seed("hello13-cut", 0x00, &b);
    cd_buf_reset(&b);
    /* One ClientHello over two records, then a record that claims more than TLS allows. */
    tls_record(&b, 22, hello13.data, 40);
    tls_record(&b, 22, hello13.data + 40, hello13.len - 40);
    cd_buf_put(&b, "\x16\x03\x03\xff\xff", 5);
    cd_buf_put(&b, hello13.data, 64);
    records_seed("hello13-split-oversized", 0x00, &b);
    cd_buf_reset(&b);
    /* TLS 1.2, then a client certificate (an empty list) before the server asked. */
    tls_record(&b, 22, hello12.data, hello12.len);
    records_seed("hello12-mutual-hold", 0x06, &b);
    tls_record(&b, 22, empty_certificate, sizeof(empty_certificate));
    records_seed("hello12-empty-certificate", 0x04, &b);
    cd_buf_reset(&b);
    tls_record(&b, 20, ccs, sizeof(ccs));
    tls_record(&b, 22, hello13.data, hello13.len);
    records_seed("ccs-then-hello", 0x00, &b);
    cd_buf_reset(&b);
    tls_record(&b, 21, fatal_alert, sizeof(fatal_alert));
    records_seed("alert", 0x00, &b);
    cd_buf_reset(&b);
    tls_record(&b, 23, http, sizeof(http) - 1);
    records_seed("application-data-first", 0x02, &b);
    cd_buf_reset(&b);
    cd_buf_put(&b, http, sizeof(http) - 1);
    records_seed("plain-http", 0x00, &b);
    cd_buf_reset(&b);
    cd_buf_put(&b, sslv2, sizeof(sslv2));
    records_seed("sslv2-hello", 0x00, &b);
    cd_buf_reset(&b);
    records_seed("nothing", 0x00, &b);
    records_seed("nothing-hold", 0x02, &b);
    cd_buf_close(&hello13);
    cd_buf_close(&hello12);
    cd_buf_close(&b);
}

/* ---- ws: a client's frames after the opening handshake -------------------------------- */

/* One masked client frame appended to b. */
static void ws_frame(struct cd_buf *b, bool fin, uint8_t op, const char *p, size_t n)
{
    static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
    uint8_t head[14];
    size_t h = 0;

    head[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        head[h++] = (uint8_t)(0x80 | n);
    } else {
        head[h++] = 0x80 | 126;
        head[h++] = (uint8_t)(n >> 8);
        head[h++] = (uint8_t)n;
    }
    memcpy(head + h, key, 4);
    cd_buf_put(b, head, h + 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)p[i] ^ key[i & 3];
        cd_buf_put(b, &c, 1);
    }
}

/* A ws input: the byte that cuts the writes, then the frames. */
static void ws_seed(const char *name, uint8_t chunk, const struct cd_buf *frames)
{
    struct cd_buf seed;
    cd_buf_init(&seed);
    cd_buf_put(&seed, &chunk, 1);
    cd_buf_put(&seed, frames->data, frames->len);
    write_seed("ws", name, seed.data, seed.len);
    cd_buf_close(&seed);
}

static void ws_seeds(void)
{
    struct cd_buf b;
    char big[1100];

    cd_buf_init(&b);
    ws_frame(&b, true, 0x1, "hello", 5);
    ws_frame(&b, true, 0x8,
             "\x03\xe8"
             "bye",
             5);
    ws_seed("text-then-close", 0, &b);
    ws_seed("text-then-close-bytewise", 1, &b);
    cd_buf_reset(&b);
    ws_frame(&b, false, 0x1, "caf", 3);
    ws_frame(&b, true, 0x9, "ping", 4);
    ws_frame(&b, false, 0x0, "\xc3", 1);
    ws_frame(&b, true, 0x0, "\xa9", 1);
    ws_seed("fragments-and-ping", 3, &b);
    cd_buf_reset(&b);
    ws_frame(&b, true, 0x1, "bad \xc3\x28", 6);
    ws_seed("invalid-utf8", 0, &b);
    cd_buf_reset(&b);
    ws_frame(&b, true, 0x2, "\x01\x02", 2);
    ws_seed("binary", 0, &b);
    cd_buf_reset(&b);
    memset(big, 'a', sizeof(big));
    ws_frame(&b, true, 0x1, big, sizeof(big));
    ws_seed("frame-too-large", 0, &b);
    cd_buf_reset(&b);
    ws_frame(&b, true, 0x0, "x", 1);
    ws_seed("continuation-alone", 0, &b);
    cd_buf_reset(&b);
    ws_frame(&b, true, 0x8, "\x03\xed", 2); /* 1005 may not be sent */
    ws_seed("close-reserved-code", 0, &b);
    cd_buf_reset(&b);
    ws_frame(&b, true, 0xa, "", 0);
    ws_seed("pong-then-end", 0, &b);
    cd_buf_close(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    sample_seeds();
    small_seeds();
    document_seeds();
    request_seeds();
    record_seeds();
    ws_seeds();
    return 0;
}
