/* The customers of chatload: each a page on /chat/ws of one node, from a source address of
 * its own range (the node takes 32 connections per address), saying hello with a small
 * form and then sending the messages the rate steps give it (chatload.h). */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/chat/chatload.h"

#define SECRET_BYTES 32
#define TEXT_MAX 4000

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 43 base64url characters of 32 random bytes, as the chat page draws its secret. */
static void secret(char out[44])
{
    uint8_t b[SECRET_BYTES + 1] = {0};
    if (RAND_bytes(b, SECRET_BYTES) != 1) {
        for (size_t i = 0; i < SECRET_BYTES; i++) {
            b[i] = (uint8_t)rand();
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < SECRET_BYTES; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 |
                     (i + 2 < SECRET_BYTES ? b[i + 2] : 0);
        unsigned chars = i + 2 < SECRET_BYTES ? 4 : 3;
        for (unsigned k = 0; k < chars; k++) {
            out[o++] = B64URL[(v >> (18 - 6 * k)) & 63];
        }
    }
    out[o] = 0;
}

static void send_hello(struct customer *c)
{
    char sec[44], text[256];
    secret(sec);
    int n = snprintf(text, sizeof(text),
                     "{\"t\":\"hello\",\"entry\":\"%s\",\"secret\":\"%s\",\"form\":{\"name\":"
                     "\"Customer %u\",\"topic\":\"support\"}}",
                     LOAD->entry, sec, c->idx);
    wsc_send(c->ws, text, (size_t)n);
}

static void on_open(struct wsc *w)
{
    struct customer *c = wsc_data(w);
    c->t_open = load_now();
    lhist_add(&LOAD->connect_h, (c->t_open - c->t_start) / 1000);
    LOAD->resumed_tls += wsc_resumed(w) ? 1 : 0;
    send_hello(c);
}

static void on_welcome(struct customer *c, json_t *j)
{
    if (c->state != C_CONNECTING) {
        return;
    }
    c->contact = (uint64_t)json_integer_value(json_object_get(j, "contact"));
    c->state = C_WAITING;
    LOAD->inflight--;
    LOAD->welcomed++;
    lhist_add(&LOAD->welcome_h, (load_now() - c->t_open) / 1000);
}

static void on_state(struct customer *c, json_t *j)
{
    const char *state = json_string_value(json_object_get(j, "state"));
    if (state == NULL || c->state == C_CONNECTING) {
        return;
    }
    bool connected = strcmp(state, "connected") == 0;
    if (connected && c->state != C_CONNECTED) {
        LOAD->connected++;
    } else if (!connected && c->state == C_CONNECTED) {
        LOAD->connected--;
    }
    c->state = connected ? C_CONNECTED : C_WAITING;
}

static void on_sent(const struct customer *c, json_t *j, uint64_t now)
{
    int step = -1;
    uint64_t t = load_id_time(json_string_value(json_object_get(j, "id")), &step);
    if (t == 0 || step < 0 || step >= (int)LOAD->steps_n) {
        return;
    }
    struct step *s = &LOAD->steps[step];
    s->acked++;
    s->acked_in_window += s->t_end == 0 || now <= s->t_end ? 1 : 0;
    lhist_add(&s->ack, (now - t) / 1000);
    lhist_add(&s->ack_by_node[c->node], (now - t) / 1000);
    uint64_t second = t > s->t_start ? (t - s->t_start) / 1000000000u : 0;
    uint32_t *max = &s->max_us_by_second[second < LOAD_SECONDS_MAX ? second : 0];
    *max = (now - t) / 1000 > *max ? (uint32_t)((now - t) / 1000) : *max;
}

static void on_error(json_t *j)
{
    char name[40];
    const char *code = json_string_value(json_object_get(j, "code"));
    snprintf(name, sizeof(name), "chat_error_%s", code != NULL ? code : "?");
    tally_add(&LOAD->errors, name);
    static unsigned shown;
    if (shown++ < 5) { /* the first few, for the log: what the node said */
        const char *m = json_string_value(json_object_get(j, "message"));
        fprintf(stderr, "chatload: error %s: %s\n", name, m != NULL ? m : "");
    }
    int step = -1;
    if (load_id_time(json_string_value(json_object_get(j, "id")), &step) != 0 && step >= 0 &&
        step < (int)LOAD->steps_n) {
        LOAD->steps[step].refused++;
    }
}

static void on_text(struct wsc *w, const char *msg, size_t len)
{
    struct customer *c = wsc_data(w);
    uint64_t now = load_now();
    json_t *j = json_loadb(msg, len, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "t"));
    if (t == NULL) {
        tally_add(&LOAD->errors, "chat_unreadable");
    } else if (strcmp(t, "sent") == 0) {
        on_sent(c, j, now);
    } else if (strcmp(t, "welcome") == 0) {
        on_welcome(c, j);
    } else if (strcmp(t, "state") == 0) {
        on_state(c, j);
    } else if (strcmp(t, "error") == 0) {
        on_error(j);
    }
    json_decref(j);
}

/* Where an ended connection is counted: the step under way, else the ramp's. */
static struct tally *closes_now(void)
{
    return LOAD->step >= 0 ? &LOAD->steps[LOAD->step].closes : &LOAD->ramp_closes;
}

static void on_end(struct wsc *w, int code)
{
    struct customer *c = wsc_data(w);
    char name[40];
    snprintf(name, sizeof(name), "%d", code);
    tally_add(closes_now(), name);
    if (c->state == C_CONNECTING) {
        LOAD->inflight--;
    } else if (c->state == C_CONNECTED) {
        LOAD->connected--;
    }
    if (c->state == C_WAITING || c->state == C_CONNECTED) {
        LOAD->welcomed--;
    }
    c->state = C_ENDED;
    c->ws = NULL;
    LOAD->customers_ended++;
}

static const struct wsc_handler PAGE = {.on_open = on_open,
                                        .on_text = on_text,
                                        .on_end = on_end};

/* Customer i's source address: 127.1.x.y, a new one every per_address customers of a
 * node, so that no address holds more than that many connections on any node. */
static void source_of(const struct load *l, const struct customer *c, struct sockaddr_in *src)
{
    uint32_t k = c->idx / l->n_nodes / l->per_address;
    char text[INET_ADDRSTRLEN];
    snprintf(text, sizeof(text), "127.1.%u.%u", (k / 250) % 256, k % 250 + 1);
    uv_ip4_addr(text, 0, src);
}

int customer_start(struct load *l, struct customer *c)
{
    struct sockaddr_in src;
    source_of(l, c, &src);
    struct wsc_options o = {
        .loop = l->loop,
        .tls = l->tls,
        .dst = &l->nodes[c->node],
        .src = &src,
        .target = "/chat/ws",
        .h = &PAGE,
        .data = c,
    };
    c->t_start = load_now();
    c->state = C_CONNECTING;
    l->inflight++;
    int rv = wsc_open(&o, &c->ws);
    if (rv != 0) {
        char name[40];
        snprintf(name, sizeof(name), "connect_%s", uv_err_name(rv));
        tally_add(&l->errors, name);
        c->state = C_ENDED;
        c->ws = NULL;
        l->inflight--;
        l->customers_ended++;
    }
    return rv;
}

int customer_send(struct load *l, struct customer *c, int step, uint64_t now)
{
    static char text[TEXT_MAX + 128];
    static char filler[TEXT_MAX + 1];
    if (filler[0] == 0) {
        for (size_t i = 0; i < TEXT_MAX; i++) {
            filler[i] = "abcdefghijklmnopqrstuvwxyz "[i % 27];
        }
    }
    unsigned len = l->text_bytes < TEXT_MAX ? l->text_bytes : TEXT_MAX;
    int n =
        snprintf(text, sizeof(text), "{\"t\":\"msg\",\"id\":\"b%d-%llu\",\"text\":\"%.*s\"}",
                 step, (unsigned long long)now, (int)len, filler);
    return wsc_send(c->ws, text, (size_t)n);
}

void customer_close(struct customer *c)
{
    if (c->ws != NULL) {
        wsc_close(c->ws);
        c->ws = NULL;
    }
}
