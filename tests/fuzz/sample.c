/* The sample state of the fuzz targets (fuzz.h): the project's sample model and a script
 * of commands that puts contacts and agents in every state a command can meet, and users,
 * tokens and a session for the commands about principals to meet. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "config/config.h"
#include "tests/fuzz/fuzz.h"

char *fuzz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        FUZZ_DIE("open '%s': %s", path, strerror(errno));
    }
    struct cd_buf b;
    cd_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        cd_buf_put(&b, chunk, n);
    }
    cd_buf_u8(&b, 0);
    if (ferror(f) || b.err != 0) {
        FUZZ_DIE("read '%s'", path);
    }
    fclose(f);
    *len = b.len - 1;
    return (char *)b.data;
}

struct script
{
    struct engine *e;
    int64_t now;
    fuzz_script_cb cb;
    void *data;
    const struct engine_sink *sink;
};

static void run(struct script *s, const struct engine_command *cmd)
{
    struct engine_result res;
    s->now += 1000;
    if (s->cb != NULL) {
        s->cb(s->data, s->e, cmd, s->now);
    }
    if (engine_apply(s->e, cmd, s->now, &res, s->sink) != 0) {
        FUZZ_DIE("sample script: %s: %s: %s", engine_cmd_name(cmd->kind), cd_errname(res.code),
                 res.message);
    }
}

static void agent(struct script *s, int kind, const char *name, const char *reason)
{
    struct engine_command c = {.kind = (uint8_t)kind};
    c.u.agent.name = name;
    c.u.agent.presence = reason != NULL ? ENGINE_PRESENCE_AWAY : ENGINE_PRESENCE_AVAILABLE;
    c.u.agent.reason = reason;
    run(s, &c);
}

/* Creates a contact with up to two attributes; returns its id. */
static uint64_t create(struct script *s,
                       int channel,
                       const char *queue,
                       const char *key,
                       const struct engine_attr *attrs,
                       uint8_t n_attrs)
{
    static const struct engine_skill_ref support = {"support", 3};
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_CREATE};
    struct engine_result res;
    c.u.create.channel = (uint8_t)channel;
    c.u.create.queue = queue;
    c.u.create.key = key;
    c.u.create.priority = (int16_t)(queue != NULL ? 3 : 0);
    c.u.create.n_skills = queue != NULL ? 1 : 0;
    c.u.create.skills = &support;
    c.u.create.attrs = attrs;
    c.u.create.n_attrs = n_attrs;
    s->now += 1000;
    if (s->cb != NULL) {
        s->cb(s->data, s->e, &c, s->now);
    }
    if (engine_apply(s->e, &c, s->now, &res, s->sink) != 0) {
        FUZZ_DIE("sample script: create: %s", res.message);
    }
    return res.contact;
}

/* Accepts or rejects the contact's open offer as agent, or as the agent it was offered to
 * when agent is NULL (a ring-all offer names none). */
static void offer(struct script *s, int kind, uint64_t contact, const char *agent)
{
    struct engine_contact_info ci;
    if (engine_contact_get(s->e, contact, &ci) != 0 || ci.offer == 0) {
        FUZZ_DIE("sample script: contact %llu has no offer", (unsigned long long)contact);
    }
    struct engine_command c = {.kind = (uint8_t)kind};
    c.u.offer.id = ci.offer;
    c.u.offer.agent = agent != NULL ? agent : ci.agent;
    run(s, &c);
}

static void contact(struct script *s, int kind, uint64_t id)
{
    struct engine_command c = {.kind = (uint8_t)kind};
    c.u.contact.id = id;
    run(s, &c);
}

/* A chat message from the customer, or from the agent the chat is connected with. */
static void say(struct script *s,
                uint64_t id,
                bool from_agent,
                const char *msg_id,
                const char *text)
{
    struct engine_contact_info ci;
    struct engine_command c = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    if (engine_contact_get(s->e, id, &ci) != 0) {
        FUZZ_DIE("sample script: chat %llu is gone", (unsigned long long)id);
    }
    c.u.message.id = id;
    c.u.message.from = from_agent ? ENGINE_SIDE_AGENT : ENGINE_SIDE_CUSTOMER;
    c.u.message.agent = from_agent ? ci.agent : NULL;
    c.u.message.msg_id = msg_id;
    c.u.message.text = text;
    run(s, &c);
}

static void install(struct script *s)
{
    struct config_model cm;
    char err[512];
    size_t len;
    char *text = fuzz_read_file(FUZZ_SAMPLE_MODEL, &len);
    config_model_init(&cm);
    if (config_model_parse("sample-model.yaml", text, len, &cm, err, sizeof(err)) != 0) {
        FUZZ_DIE("%s", err);
    }
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL};
    c.u.install.version = 1;
    c.u.install.model = &cm.model;
    c.u.install.source = text;
    c.actor = "ops";
    c.u.install.comment = "first model";
    run(s, &c);
    config_model_close(&cm);
    free(text);
}

static void staff(struct script *s)
{
    static const char *const on[] = {"ls001", "ls002", "lt001", "lt003", "lb001",
                                     "lv001", "lv002", "pt001", "pf001"};
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        agent(s, ENGINE_CMD_AGENT_LOGIN, on[i], NULL);
    }
    agent(s, ENGINE_CMD_AGENT_LOGIN, "lt005", NULL);
    agent(s, ENGINE_CMD_AGENT_STATE, "lt005", "training");
    agent(s, ENGINE_CMD_AGENT_LOGIN, "ls003", NULL);
    agent(s, ENGINE_CMD_AGENT_LOGOUT, "ls003", NULL);
}

static void queue(struct script *s, int kind, const char *name)
{
    struct engine_command c = {.kind = (uint8_t)kind};
    c.u.queue.name = name;
    run(s, &c);
}

static void redefine(struct script *s)
{
    static const struct engine_skill_ref skills[] = {{"support", 5}, {"english", 7}};
    static const char *const queues[] = {"support-voice", "support-chat"};
    struct engine_command c = {.kind = ENGINE_CMD_AGENT_UPSERT};
    c.u.upsert =
        (struct engine_agent_spec){"tmp01", "lisbon", {1, 0, 0, 2}, 2, skills, 2, queues};
    run(s, &c);
    c = (struct engine_command){.kind = ENGINE_CMD_AGENT_SKILLS};
    c.u.skills.name = "tmp01";
    c.u.skills.n_skills = 1;
    c.u.skills.skills = skills;
    run(s, &c);
    agent(s, ENGINE_CMD_AGENT_DELETE, "tmp01", NULL);
    queue(s, ENGINE_CMD_QUEUE_PAUSE, "support-sms");
    queue(s, ENGINE_CMD_QUEUE_RESUME, "support-sms");
    queue(s, ENGINE_CMD_QUEUE_PAUSE, "sales-backup");
}

static void traffic(struct script *s)
{
    static const struct engine_attr sales[] = {{"intent", "sales"}, {"language", "en"}};
    static const struct engine_attr web[] = {{"source", "web-shop"}};
    static const struct engine_attr gb[] = {{"location", "GB"}};
    static const struct engine_attr vip[] = {{"tier", "vip"}};
    static const struct engine_attr note[] = {{"note", "refund"}, {"source", ""}};
    uint64_t call = create(s, ENGINE_CH_VOICE, NULL, "call-1", sales, 2);
    offer(s, ENGINE_CMD_OFFER_ACCEPT, call, NULL);
    uint64_t chat = create(s, ENGINE_CH_CHAT, NULL, NULL, web, 1);
    say(s, chat, false, "c-1", "Hello, is anyone there?");
    offer(s, ENGINE_CMD_OFFER_ACCEPT, chat, NULL);
    say(s, chat, true, "a-1", "Hi! How can I help?\nI can see your order.");
    create(s, ENGINE_CH_EMAIL, NULL, "mail-1", NULL, 0);
    create(s, ENGINE_CH_SMS, NULL, NULL, gb, 1);
    uint64_t v = create(s, ENGINE_CH_VOICE, NULL, NULL, vip, 1);
    offer(s, ENGINE_CMD_OFFER_REJECT, v, "lv001");
    contact(s, ENGINE_CMD_CONTACT_END, call);
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    c.u.set_attrs.id = chat;
    c.u.set_attrs.n_attrs = 2;
    c.u.set_attrs.attrs = note;
    run(s, &c);
    uint64_t queued = create(s, ENGINE_CH_VOICE, "support-voice", "order-1", NULL, 0);
    c = (struct engine_command){.kind = ENGINE_CMD_CONTACT_TRANSFER};
    c.u.transfer.id = queued;
    c.u.transfer.target = "sip:desk@example.net";
    run(s, &c);
    contact(s, ENGINE_CMD_CONTACT_ABANDON, create(s, ENGINE_CH_VOICE, NULL, NULL, sales, 1));
    /* sales-backup is paused: its contacts wait. */
    contact(s, ENGINE_CMD_CONTACT_CALLBACK,
            create(s, ENGINE_CH_VOICE, "sales-backup", NULL, NULL, 0));
    contact(s, ENGINE_CMD_CONTACT_END, chat);
    c = (struct engine_command){.kind = ENGINE_CMD_WRAPUP_DONE}; /* support-chat needs one */
    c.u.wrapup.id = chat;
    c.u.wrapup.disposition = "resolved";
    c.u.wrapup.notes = "Refund sent.";
    run(s, &c);
    c = (struct engine_command){.kind = ENGINE_CMD_TICK};
    s->now += 40 * 1000; /* the call's wrap-up ends by itself */
    run(s, &c);
}

static void token(struct script *s,
                  const char *actor,
                  const char *name,
                  uint8_t role,
                  const char *agent,
                  const char *user,
                  int64_t ttl_ms)
{
    struct engine_command c = {.kind = ENGINE_CMD_TOKEN_CREATE, .actor = actor};
    c.u.token.name = name;
    c.u.token.kind = user != NULL ? ENGINE_TOKEN_SESSION : ENGINE_TOKEN_API;
    c.u.token.role = role;
    c.u.token.agent = agent;
    c.u.token.user = user;
    c.u.token.expires_at = ttl_ms != 0 ? s->now + ttl_ms : 0;
    for (size_t i = 0; i < ENGINE_TOKEN_HASH_LEN; i++) {
        c.u.token.hash[i] = (uint8_t)(name[i % strlen(name)] + i);
    }
    run(s, &c);
}

/* Who may sign in and call the API: a supervisor and an agent with passwords, an API token
 * for programs, one for an agent's desk, and the supervisor signed in. */
static void principals(struct script *s)
{
    struct engine_command c = {.kind = ENGINE_CMD_USER_SET, .actor = "token:bootstrap"};
    c.u.user.name = "sam";
    c.u.user.role = ENGINE_ROLE_SUPERVISOR;
    c.u.user.verifier = "scrypt$16384$8$1$c2FsdC1zYW0$aGFzaC1zYW0";
    run(s, &c);
    c.u.user.name = "lena";
    c.u.user.role = ENGINE_ROLE_AGENT;
    c.u.user.agent = "ls001";
    c.u.user.verifier = "scrypt$16384$8$1$c2FsdC1sZW5h$aGFzaC1sZW5h";
    run(s, &c);
    token(s, "user:sam", "ops", ENGINE_ROLE_ADMIN, NULL, NULL, 0);
    token(s, "user:sam", "desk-ls001", ENGINE_ROLE_AGENT, "ls001", NULL, 86400000);
    token(s, "user:sam", "sam-1", ENGINE_ROLE_SUPERVISOR, NULL, "sam", 8 * 3600000);
}

struct engine *fuzz_sample_state(fuzz_script_cb cb, void *data, const struct engine_sink *sink)
{
    struct script s = {.now = FUZZ_SAMPLE_T0, .cb = cb, .data = data, .sink = sink};
    if (engine_new(&s.e) != 0) {
        FUZZ_DIE("engine_new");
    }
    install(&s);
    staff(&s);
    redefine(&s);
    traffic(&s);
    principals(&s);
    return s.e;
}

struct engine *fuzz_sample_copy(void)
{
    static struct cd_buf snapshot;
    struct engine *e;
    if (snapshot.len == 0) {
        e = fuzz_sample_state(NULL, NULL, NULL);
        if (engine_encode(e, &snapshot) != 0) {
            FUZZ_DIE("engine_encode");
        }
        engine_free(e);
    }
    if (engine_decode(snapshot.data, snapshot.len, &e) != 0) {
        FUZZ_DIE("engine_decode of the sample snapshot");
    }
    return e;
}

void fuzz_apply_checked(struct engine *e,
                        const struct engine_command *cmd,
                        int64_t now_ms,
                        struct engine_result *res)
{
    struct engine_result own;
    char err[256];
    res = res != NULL ? res : &own;
    int rc = engine_apply(e, cmd, now_ms, res, NULL);
    FUZZ_CHECK(rc == res->code, "engine_apply returned %d, its result says %d", rc, res->code);
    FUZZ_CHECK(rc != CD_ENOMEM, "%s: out of memory", engine_cmd_name(cmd->kind));
    FUZZ_CHECK(engine_check(e, err, sizeof(err)) == 0, "after %s (%s): %s",
               engine_cmd_name(cmd->kind), cd_errname(rc), err);
}
