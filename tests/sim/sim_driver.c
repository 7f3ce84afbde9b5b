/* The calendar: customers arrive with Poisson gaps, wait with a patience of their own,
 * agents answer offers after a few seconds (or miss them), talk, wrap up, take breaks and
 * log out; supervisors change skills and install new model versions. Each event becomes
 * at most one command; the engine's own deadlines are met with TICKs in between. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "tests/sim/sim.h"

/* ---- The calendar: a binary heap ordered by (at, seq) -------------------------------- */

static bool ev_less(const struct sim_event *a, const struct sim_event *b)
{
    return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void ev_swap(struct sim_event *a, struct sim_event *b)
{
    struct sim_event t = *a;
    *a = *b;
    *b = t;
}

void sim_schedule(struct sim *s,
                  int64_t at,
                  uint8_t kind,
                  uint64_t contact,
                  uint64_t offer,
                  uint16_t agent)
{
    if (s->n_ev == s->cap_ev) {
        s->cap_ev = s->cap_ev ? 2 * s->cap_ev : 1024;
        s->ev = sim_xalloc(s->ev, s->cap_ev * sizeof(*s->ev));
    }
    size_t i = s->n_ev++;
    s->ev[i] =
        (struct sim_event){at, s->ev_seq++, kind, agent, s->agents[agent].gen, contact, offer};
    while (i > 0 && ev_less(&s->ev[i], &s->ev[(i - 1) / 2])) {
        ev_swap(&s->ev[i], &s->ev[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static struct sim_event ev_pop(struct sim *s)
{
    struct sim_event top = s->ev[0];
    s->ev[0] = s->ev[--s->n_ev];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        m = l < s->n_ev && ev_less(&s->ev[l], &s->ev[m]) ? l : m;
        m = r < s->n_ev && ev_less(&s->ev[r], &s->ev[m]) ? r : m;
        if (m == i) {
            return top;
        }
        ev_swap(&s->ev[i], &s->ev[m]);
        i = m;
    }
}

/* ---- Reactions to effects (called from the shadow world) ------------------------------ */

void sim_on_offer(struct sim *s, uint64_t contact, uint64_t offer, uint32_t ai)
{
    int64_t delay = rng_range(&s->rng, 500, 7000);
    if (rng_permille(&s->rng, 30)) {
        delay = rng_range(&s->rng, 21000, 40000); /* after the ring timeout: stale */
    }
    sim_schedule(s, s->now + delay, EV_ANSWER, contact, offer, (uint16_t)ai);
}

void sim_on_connected(struct sim *s, uint64_t contact)
{
    static const int64_t mean_ms[ENGINE_CH_COUNT] = {150000, 200000, 90000, 240000};
    uint8_t ch = s->contacts[contact].channel;
    int64_t talk = 10000 + rng_exp_ms(&s->rng, mean_ms[ch]);
    sim_schedule(s, s->now + talk, EV_TALK_END, contact, 0, 0);
}

void sim_on_wrapup(struct sim *s, uint64_t contact, int64_t auto_end)
{
    int64_t span = auto_end - s->now;
    int64_t at = rng_permille(&s->rng, 750) ? s->now + 1000 + rng_below(&s->rng, (uint32_t)span)
                                            : auto_end + 1000;
    sim_schedule(s, at, EV_WRAPUP_DONE, contact, 0, 0);
}

void sim_on_queued_first(struct sim *s, uint64_t contact, uint8_t channel)
{
    static const int64_t patience_ms[ENGINE_CH_COUNT] = {240000, 3600000, 1800000, 600000};
    if (channel == ENGINE_CH_VOICE || channel == ENGINE_CH_CHAT || rng_permille(&s->rng, 50)) {
        int64_t wait = 5000 + rng_exp_ms(&s->rng, patience_ms[channel]);
        sim_schedule(s, s->now + wait, EV_ABANDON, contact, 0, 0);
    }
    if (channel == ENGINE_CH_VOICE && rng_permille(&s->rng, 40)) {
        sim_schedule(s, s->now + rng_range(&s->rng, 10000, 60000), EV_CALLBACK, contact, 0, 0);
    }
}

void sim_on_agent_away(struct sim *s, uint32_t ai)
{
    struct engine_agent_info a;
    if (engine_agent_get(s->e, s->agents[ai].name, &a) != 0 ||
        (strcmp(a.reason, "ring_no_answer") != 0 && strcmp(a.reason, "missed_call") != 0)) {
        return; /* a break the agent chose; its own calendar brings it back */
    }
    s->agents[ai].gen++;
    sim_schedule(s, s->now + rng_range(&s->rng, 20000, 120000), EV_AGENT, 0, 0, (uint16_t)ai);
}

/* ---- Helpers building commands -------------------------------------------------------- */

void sim_apply_ok(struct sim *s, const struct engine_command *cmd, struct engine_result *out)
{
    struct engine_result res;
    int rc = sim_apply(s, cmd, &res);
    if (rc != 0) {
        sim_fail(s, "%s: unexpected %s: %s", engine_cmd_name(cmd->kind), cd_errname(rc),
                 res.message);
    }
    if (out != NULL) {
        *out = res;
    }
}

bool sim_rung(const struct sim_contact *c, uint32_t ai)
{
    if (c->ring == NULL) {
        return c->n_ring == 1 && c->agent == ai;
    }
    for (uint8_t i = 0; i < c->n_ring; i++) {
        if (c->ring[i] == ai) {
            return true;
        }
    }
    return false;
}

/* The error a contact command must get when the contact is not in a state that allows it;
 * 0 when it is. */
static int contact_error(const struct sim_contact *c, uint8_t kind)
{
    if (c == NULL || c->state == SC_ENDED || c->state == SC_UNKNOWN) {
        return CD_ENOTFOUND;
    }
    switch (kind) {
        case ENGINE_CMD_CONTACT_ABANDON:
            return c->state == SC_QUEUED || c->state == SC_OFFERED ? 0 : CD_ESTATE;
        case ENGINE_CMD_CONTACT_END:
            return c->state == SC_CONNECTED ? 0 : CD_ESTATE;
        case ENGINE_CMD_WRAPUP_DONE:
            return c->state == SC_WRAPUP ? 0 : CD_ESTATE;
        case ENGINE_CMD_CONTACT_CALLBACK:
            return c->state == SC_QUEUED && c->channel == ENGINE_CH_VOICE ? 0 : CD_ESTATE;
        default:
            return 0;
    }
}

/* A contact command whose outcome the shadow predicts; wrong ones are sent only
 * sometimes (stale_permille), as late customers and agents would. */
static void contact_command(struct sim *s, uint8_t kind, uint64_t id, uint32_t stale_permille)
{
    struct engine_command cmd = {.kind = kind};
    cmd.u.contact.id = id;
    int want = contact_error(sim_contact(s, id), kind);
    if (want == 0) {
        sim_apply_ok(s, &cmd, NULL);
    } else if (rng_permille(&s->rng, stale_permille)) {
        sim_apply_expect_error(s, &cmd, want);
    }
}

static const char *pick(struct sim *s, const char *const *v, uint32_t n)
{
    return v[rng_below(&s->rng, n)];
}

#define PICK(s, arr) pick((s), (arr), sizeof(arr) / sizeof((arr)[0]))

/* The end of wrap-up, with a disposition where the contact's queue requires one and now and
 * then where it does not, and notes now and then. */
static void wrapup_done(struct sim *s, uint64_t id)
{
    static const char *const dispositions[] = {"resolved", "sale", "follow-up"};
    struct engine_contact_info info;
    struct engine_command cmd = {.kind = ENGINE_CMD_WRAPUP_DONE};
    cmd.u.wrapup.id = id;
    const struct engine_model *m = engine_model(s->e);
    bool required = false;
    if (engine_contact_get(s->e, id, &info) == 0) {
        int qi = engine_model_queue(m, info.queue);
        required = qi >= 0 && m->queues[qi].disposition_required;
    }
    if (required || rng_permille(&s->rng, 500)) {
        cmd.u.wrapup.disposition = PICK(s, dispositions);
    }
    if (rng_permille(&s->rng, 300)) {
        cmd.u.wrapup.notes = "Customer satisfied.\nNothing more to do.";
    }
    int want = contact_error(sim_contact(s, id), ENGINE_CMD_WRAPUP_DONE);
    if (want == 0) {
        sim_apply_ok(s, &cmd, NULL);
    } else if (rng_permille(&s->rng, 300)) {
        sim_apply_expect_error(s, &cmd, want);
    }
}

/* ---- Chat: messages, and customers' connections dropping and coming back --------------- */

static void chat_message(struct sim *s, uint64_t id, const struct engine_contact_info *c)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    char msg_id[24];
    bool agent = c->state == ENGINE_CONTACT_CONNECTED && rng_permille(&s->rng, 500);
    snprintf(msg_id, sizeof(msg_id), "m-%llu", (unsigned long long)++s->n_messages);
    cmd.u.message.id = id;
    cmd.u.message.from = agent ? ENGINE_SIDE_AGENT : ENGINE_SIDE_CUSTOMER;
    cmd.u.message.agent = agent ? c->agent : NULL;
    cmd.u.message.msg_id = msg_id;
    cmd.u.message.text = agent ? "How can I help?" : "Hello, my order has not arrived.";
    if (c->state == ENGINE_CONTACT_WRAPUP) {
        sim_apply_expect_error(s, &cmd, CD_ESTATE);
        return;
    }
    struct engine_result res;
    sim_apply_ok(s, &cmd, &res);
    if (res.existing || res.contact != c->messages + 1) {
        sim_fail(s, "message %s to contact %llu got seq %llu (existing %d), expected %u",
                 msg_id, (unsigned long long)id, (unsigned long long)res.contact, res.existing,
                 c->messages + 1);
    }
    s->last_msg_contact = id;
    s->last_msg_side = cmd.u.message.from;
    snprintf(s->last_msg_id, sizeof(s->last_msg_id), "%s", msg_id);
    snprintf(s->last_msg_agent, sizeof(s->last_msg_agent), "%s", agent ? c->agent : "");
}

/* The last message sent again, as a client retries after a failover: taken once. */
static void chat_retry(struct sim *s)
{
    struct engine_contact_info c;
    if (s->last_msg_contact == 0 || engine_contact_get(s->e, s->last_msg_contact, &c) != 0) {
        return;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    bool agent = s->last_msg_side == ENGINE_SIDE_AGENT;
    cmd.u.message.id = s->last_msg_contact;
    cmd.u.message.from = s->last_msg_side;
    cmd.u.message.agent = agent ? s->last_msg_agent : NULL;
    cmd.u.message.msg_id = s->last_msg_id;
    cmd.u.message.text = agent ? "How can I help?" : "Hello, my order has not arrived.";
    bool writable =
        agent ? c.state == ENGINE_CONTACT_CONNECTED && strcmp(c.agent, s->last_msg_agent) == 0
              : c.state != ENGINE_CONTACT_WRAPUP;
    if (!writable) {
        return; /* its state or agent changed since: the engine refuses it before looking */
    }
    struct engine_result res;
    sim_apply_ok(s, &cmd, &res);
    if (!res.existing) {
        sim_fail(s, "message %s sent again to contact %llu was taken again", s->last_msg_id,
                 (unsigned long long)s->last_msg_contact);
    }
}

static void chat_event(struct sim *s)
{
    struct engine_contact_info c;
    if (s->n_live == 0) {
        return;
    }
    uint64_t id = s->live[rng_below(&s->rng, (uint32_t)s->n_live)];
    if (engine_contact_get(s->e, id, &c) != 0 || c.channel != ENGINE_CH_CHAT) {
        return;
    }
    uint32_t r = rng_below(&s->rng, 100);
    struct engine_command cmd = {.kind = ENGINE_CMD_SESSION_END};
    cmd.u.session.id = id;
    if (r < 70) {
        chat_message(s, id, &c);
    } else if (r < 80) {
        chat_retry(s);
    } else if (c.home[0] != 0) {
        sim_apply_ok(s, &cmd, NULL);      /* the customer's connection drops */
        if (rng_permille(&s->rng, 600)) { /* most come back, some too late */
            sim_schedule(s, s->now + rng_range(&s->rng, 2000, 80000), EV_CHAT, id, 0, 0);
        }
    }
}

/* The customer of a chat whose connection dropped comes back through some member. */
static void chat_back(struct sim *s, uint64_t id)
{
    struct engine_contact_info c;
    if (engine_contact_get(s->e, id, &c) != 0 || c.home[0] != 0) {
        return; /* ended meanwhile (gone, abandoned, ...), or back already */
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_SESSION_MOVE};
    cmd.u.session.id = id;
    cmd.u.session.home = PICK(s, ((const char *const[]){"n1", "n2", "n3"}));
    cmd.u.session.session = "tok-back";
    sim_apply_ok(s, &cmd, NULL);
}

/* ---- Arrivals ------------------------------------------------------------------------ */

struct arrival
{
    struct engine_attr attrs[8];
    char account[16], subject[32], key[32];
    struct engine_skill_ref skill;
};

static uint8_t arrival_attrs(struct sim *s, struct arrival *a, uint8_t channel)
{
    static const char *const intents[] = {"sales", "support", "tech", "billing", "other"};
    static const char *const locations[] = {"GB",    "GB-LND", "ES", "MX",   "SE",
                                            "US-NY", "FR",     "AR", "DE-BE"};
    static const char *const tiers[] = {"bronze", "silver", "silver", "gold", "platinum"};
    uint8_t n = 0;
    a->attrs[n++] = (struct engine_attr){"intent", PICK(s, intents)};
    a->attrs[n++] = (struct engine_attr){"location", PICK(s, locations)};
    a->attrs[n++] = (struct engine_attr){"tier", PICK(s, tiers)};
    snprintf(a->account, sizeof(a->account), "%c%05u", rng_permille(&s->rng, 200) ? 'G' : 'A',
             rng_below(&s->rng, 100000));
    a->attrs[n++] = (struct engine_attr){"account", a->account};
    if (channel == ENGINE_CH_EMAIL) {
        snprintf(a->subject, sizeof(a->subject), "%s %u",
                 rng_permille(&s->rng, 300) ? "claim" : "question", rng_below(&s->rng, 999));
        a->attrs[n++] = (struct engine_attr){"subject", a->subject};
    }
    if (rng_permille(&s->rng, 5)) {
        a->attrs[n++] = (struct engine_attr){"blocked", "yes"};
    }
    return n;
}

static uint8_t arrival_channel(struct sim *s)
{
    uint32_t r = rng_below(&s->rng, 100);
    return r < 45   ? ENGINE_CH_VOICE
           : r < 70 ? ENGINE_CH_CHAT
           : r < 90 ? ENGINE_CH_EMAIL
                    : ENGINE_CH_SMS;
}

/* A direct queue for the contact, or NULL for the rules; now and then one that does not
 * serve its channel (the engine rejects the contact). */
static const char *arrival_queue(struct sim *s, uint8_t channel)
{
    if (!rng_permille(&s->rng, 250)) {
        return NULL;
    }
    const struct engine_model *m = &s->model;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t qi = rng_below(&s->rng, m->n_queues);
        if ((m->queues[qi].channels & ENGINE_CH_BIT(channel)) || rng_permille(&s->rng, 30)) {
            return m->queues[qi].name;
        }
    }
    return NULL;
}

static int16_t arrival_priority(struct sim *s)
{
    uint32_t r = rng_below(&s->rng, 100);
    return r < 88 ? 0 : r < 98 ? (int16_t)rng_range(&s->rng, 1, 3) : -1;
}

/* Keys: some contacts carry one. A few repeat a recent key with another request (the
 * engine must refuse it and change nothing); a few are sent twice at once, as a client
 * retries, and the second must get the first one's contact. */
static void arrival_key(struct sim *s,
                        struct arrival *a,
                        struct engine_contact_create *cr,
                        bool *repeat)
{
    *repeat = false;
    if (s->n_keys > 0 && rng_permille(&s->rng, 20)) {
        uint32_t k = s->n_keys - 1 - rng_below(&s->rng, s->n_keys < 500 ? s->n_keys : 500);
        snprintf(a->key, sizeof(a->key), "key-%u", k);
        cr->key = a->key;
        /* No first request carries this attribute: the repeat always asks for another. */
        a->attrs[cr->n_attrs++] = (struct engine_attr){"repeat", "yes"};
        *repeat = true;
    } else if (rng_permille(&s->rng, 50)) {
        snprintf(a->key, sizeof(a->key), "key-%u", s->n_keys);
        cr->key = a->key;
    }
}

static void arrival(struct sim *s)
{
    struct arrival a;
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    struct engine_contact_create *cr = &cmd.u.create;
    bool repeat = false;
    cr->channel = arrival_channel(s);
    cr->queue = arrival_queue(s, cr->channel);
    cr->priority = arrival_priority(s);
    cr->n_attrs = arrival_attrs(s, &a, cr->channel);
    cr->attrs = a.attrs;
    if (rng_permille(&s->rng, 50)) {
        a.skill = (struct engine_skill_ref){sim_skill_names[rng_below(&s->rng, 8)],
                                            (uint8_t)rng_range(&s->rng, 1, 3)};
        cr->skills = &a.skill;
        cr->n_skills = 1;
    }
    arrival_key(s, &a, cr, &repeat);
    char session[32];
    if (cr->channel == ENGINE_CH_CHAT && rng_permille(&s->rng, 700)) {
        snprintf(session, sizeof(session), "tok-%llu", (unsigned long long)s->created);
        cr->home = PICK(s, ((const char *const[]){"n1", "n2", "n3"}));
        cr->session = session;
    }
    if (repeat) {
        sim_apply_expect_error(s, &cmd, CD_EEXISTS);
        return;
    }
    struct engine_result res, again;
    sim_apply_ok(s, &cmd, &res);
    if (cr->key == NULL) {
        return;
    }
    s->n_keys++;
    if (rng_permille(&s->rng, 100)) {
        sim_apply_ok(s, &cmd, &again);
        if (!again.existing || again.contact != res.contact) {
            sim_fail(s, "key '%s' sent again gave contact %llu (existing %d), expected %llu",
                     a.key, (unsigned long long)again.contact, again.existing,
                     (unsigned long long)res.contact);
        }
    }
}

/* Arrivals follow the day: busier in the European working day, quiet at night. */
static int64_t arrival_gap(struct sim *s)
{
    int64_t hour = ((s->now + 3600000) / 3600000) % 24;
    int64_t mean = hour >= 8 && hour < 20 ? s->arrival_mean_ms : s->arrival_mean_ms * 3;
    return 1 + rng_exp_ms(&s->rng, mean);
}

/* ---- Agents answering and finishing ---------------------------------------------------- */

static void answer(struct sim *s, const struct sim_event *ev)
{
    struct sim_contact *c = sim_contact(s, ev->contact);
    struct engine_command cmd = {.kind = ENGINE_CMD_OFFER_ACCEPT};
    cmd.u.offer.id = ev->offer;
    cmd.u.offer.agent = s->agents[ev->agent].name;
    bool open = c->state == SC_OFFERED && c->offer == ev->offer;
    if (!open || !sim_rung(c, ev->agent)) {
        if (rng_permille(&s->rng, 300)) {
            sim_apply_expect_error(s, &cmd, open ? CD_EINVAL : CD_ESTALE);
        }
        return;
    }
    uint32_t r = rng_below(&s->rng, 100);
    if (r >= 96) {
        return; /* never picks up: ring-no-answer */
    }
    cmd.kind = r < 90 || c->ring != NULL ? ENGINE_CMD_OFFER_ACCEPT : ENGINE_CMD_OFFER_REJECT;
    sim_apply_ok(s, &cmd, NULL);
}

static const char *random_queue_for(struct sim *s, uint8_t channel)
{
    for (int tries = 0; tries < 16; tries++) {
        uint32_t qi = rng_below(&s->rng, s->model.n_queues);
        if (s->model.queues[qi].channels & ENGINE_CH_BIT(channel)) {
            return s->model.queues[qi].name;
        }
    }
    return NULL;
}

/* Whether the engine must accept a transfer of contact c to agent ai now. */
static bool agent_ready_for(struct sim *s, uint32_t ai, const struct sim_contact *c)
{
    struct engine_agent_info a;
    int ch = c->channel;
    if (engine_agent_get(s->e, s->agents[ai].name, &a) != 0 ||
        a.presence != ENGINE_PRESENCE_AVAILABLE || a.load[ch] >= a.capacity[ch] ||
        (c->state == SC_CONNECTED && c->agent == ai)) {
        return false;
    }
    const uint8_t *blocks = engine_model(s->e)->blocks;
    for (int b = 0; b < ENGINE_CH_COUNT; b++) {
        if (a.load[b] > 0 && (blocks[b] & ENGINE_CH_BIT(ch))) {
            return false;
        }
    }
    return true;
}

/* Transfers a connected contact; when the transfer cannot happen the talk goes on and
 * ends a little later. */
static void transfer(struct sim *s, uint64_t id, struct sim_contact *c, uint32_t r)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_TRANSFER};
    cmd.u.transfer.id = id;
    if (r < 50) {
        cmd.u.transfer.queue = random_queue_for(s, c->channel);
        if (cmd.u.transfer.queue == NULL) {
            sim_schedule(s, s->now + 5000, EV_TALK_END, id, 0, 0);
            return;
        }
    } else if (r < 85) {
        uint32_t ai = rng_below(&s->rng, s->n_agents);
        cmd.u.transfer.agent = s->agents[ai].name;
        if (!s->agents[ai].defined || !agent_ready_for(s, ai, c)) {
            if (s->agents[ai].defined) {
                sim_apply_expect_error(s, &cmd, CD_ECAPACITY);
            }
            sim_schedule(s, s->now + 5000, EV_TALK_END, id, 0, 0);
            return;
        }
    } else {
        cmd.u.transfer.target = "tel:+442071234567";
    }
    s->transfer_contact = id;
    sim_apply_ok(s, &cmd, NULL);
}

static void talk_end(struct sim *s, const struct sim_event *ev)
{
    struct sim_contact *c = sim_contact(s, ev->contact);
    uint32_t r = rng_below(&s->rng, 100);
    if (c->state != SC_CONNECTED || r < 88) {
        contact_command(s, ENGINE_CMD_CONTACT_END, ev->contact, 200);
        return;
    }
    transfer(s, ev->contact, c, (r - 88) * 100 / 12);
}

/* ---- Customers' attributes ------------------------------------------------------------ */

static void set_attrs(struct sim *s)
{
    if (s->n_live == 0) {
        return;
    }
    uint64_t id = s->live[rng_below(&s->rng, (uint32_t)s->n_live)];
    char value[16];
    snprintf(value, sizeof(value), "v%u", rng_below(&s->rng, 1000));
    struct engine_attr attrs[2] = {{"note", value},
                                   {"mood", rng_permille(&s->rng, 300) ? "" : "ok"}};
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    cmd.u.set_attrs.id = id;
    cmd.u.set_attrs.n_attrs = (uint8_t)rng_range(&s->rng, 1, 2);
    cmd.u.set_attrs.attrs = attrs;
    sim_apply_ok(s, &cmd, NULL);
}

/* A supervisor pauses a running queue picked at random (offer 0), and a few minutes of
 * simulated time later resumes every paused queue (offer 1). */
static void pause_event(struct sim *s, bool resume)
{
    struct engine_queue_info q;
    size_t n = engine_queue_count(s->e);
    for (size_t i = 0; resume && i < n; i++) {
        const char *name = engine_queue_name(s->e, i);
        if (engine_queue_get(s->e, name, &q) == 0 && q.paused && !q.retired) {
            struct engine_command cmd = {.kind = ENGINE_CMD_QUEUE_RESUME};
            cmd.u.queue.name = name;
            sim_apply_ok(s, &cmd, NULL);
        }
    }
    const char *name =
        n && !resume ? engine_queue_name(s->e, rng_below(&s->rng, (uint32_t)n)) : NULL;
    if (name != NULL && engine_queue_get(s->e, name, &q) == 0 && !q.retired && !q.paused) {
        struct engine_command cmd = {.kind = ENGINE_CMD_QUEUE_PAUSE};
        cmd.u.queue.name = name;
        sim_apply_ok(s, &cmd, NULL);
        s->st.pauses++;
        sim_schedule(s, s->now + rng_range(&s->rng, 60000, 300000), EV_PAUSE, 0, 1, 0);
    }
}

static void sim_schedule_model(struct sim *s)
{
    if (s->model_mean_ms > 0) {
        sim_schedule(s, s->now + rng_exp_ms(&s->rng, s->model_mean_ms), EV_MODEL, 0, 0, 0);
    }
}

/* ---- Dispatch ------------------------------------------------------------------------- */

static void handle(struct sim *s, const struct sim_event *ev)
{
    switch (ev->kind) {
        case EV_ARRIVAL:
            arrival(s);
            sim_schedule(s, s->now + arrival_gap(s), EV_ARRIVAL, 0, 0, 0);
            break;
        case EV_ANSWER:
            answer(s, ev);
            break;
        case EV_TALK_END:
            talk_end(s, ev);
            break;
        case EV_WRAPUP_DONE:
            wrapup_done(s, ev->contact);
            break;
        case EV_CHAT:
            if (ev->contact != 0) {
                chat_back(s, ev->contact);
                break;
            }
            chat_event(s);
            sim_schedule(s, s->now + rng_exp_ms(&s->rng, 4000), EV_CHAT, 0, 0, 0);
            break;
        case EV_ABANDON:
            contact_command(s, ENGINE_CMD_CONTACT_ABANDON, ev->contact, 100);
            break;
        case EV_CALLBACK:
            contact_command(s, ENGINE_CMD_CONTACT_CALLBACK, ev->contact, 100);
            break;
        case EV_SET_ATTRS:
            set_attrs(s);
            sim_schedule(s, s->now + rng_exp_ms(&s->rng, 20000), EV_SET_ATTRS, 0, 0, 0);
            break;
        case EV_AGENT:
            sim_agent_event(s, ev);
            break;
        case EV_MODEL:
            sim_install_next_model(s);
            sim_schedule_model(s);
            break;
        case EV_PAUSE:
            pause_event(s, ev->offer == 1);
            if (ev->offer == 0) {
                sim_schedule(s, s->now + rng_exp_ms(&s->rng, 1800000), EV_PAUSE, 0, 0, 0);
            }
            break;
        default:
            sim_fail(s, "unknown event kind %u", ev->kind);
    }
}

void sim_driver_start(struct sim *s)
{
    s->now = s->epoch_ms + 6 * 3600000LL;
    sim_install_next_model(s);
    for (uint32_t ai = 0; ai < s->n_agents; ai++) {
        sim_schedule(s, s->now + rng_below(&s->rng, 120000), EV_AGENT, 0, 0, (uint16_t)ai);
    }
    sim_schedule(s, s->now + 1000, EV_ARRIVAL, 0, 0, 0);
    sim_schedule(s, s->now + 5000, EV_SET_ATTRS, 0, 0, 0);
    sim_schedule(s, s->now + 600000, EV_PAUSE, 0, 0, 0);
    sim_schedule(s, s->now + 3000, EV_CHAT, 0, 0, 0);
    sim_schedule_model(s);
}

/* One step: a deliberately wrong command now and then, else the next of the engine's
 * deadline (a TICK) and the calendar's next event. */
void sim_driver_step(struct sim *s)
{
    if (rng_permille(&s->rng, 20)) {
        sim_invalid_command(s);
        return;
    }
    int64_t deadline = engine_next_deadline(s->e);
    if (s->n_ev == 0 || deadline <= s->ev[0].at) {
        if (deadline == INT64_MAX) {
            sim_fail(s, "nothing left to do");
        }
        s->now = deadline > s->now ? deadline : s->now;
        struct engine_command tick = {.kind = ENGINE_CMD_TICK};
        sim_apply_ok(s, &tick, NULL);
        return;
    }
    struct sim_event ev = ev_pop(s);
    s->now = ev.at > s->now ? ev.at : s->now;
    handle(s, &ev);
}
