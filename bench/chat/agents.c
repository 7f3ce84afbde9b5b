/* The agents of chatload: each follows its own events on a WebSocket of the event feed
 * (/v1/events?agent=NAME&after=now, with its agent token), logs in as available through
 * the HTTPS API of the same node, accepts every offer the feed brings, and counts the
 * customers' messages the feed delivers, with their latency (chatload.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/chat/chatload.h"

#define API_TIMEOUT_MS 30000

/* An accept in flight: when its offer came. */
struct accept_call
{
    struct agent *a;
    uint64_t t_offer;
};

static void count_status(const char *what, int status)
{
    char name[40];
    snprintf(name, sizeof(name), "%s_%d", what, status);
    tally_add(&LOAD->errors, name);
}

static void login_done(void *data, const struct http_response *res)
{
    struct agent *a = data;
    if (res->status == 200) {
        a->logged_in = true;
        LOAD->logins_ok++;
    } else {
        LOAD->logins_failed++;
        count_status("login", res->status);
    }
}

static void login(struct agent *a)
{
    char target[128];
    static const char body[] = "{\"presence\":\"available\"}";
    snprintf(target, sizeof(target), "/v1/agents/%s/login", a->name);
    if (http_client_request_headers(LOAD->api[a->node], "POST", target, "application/json",
                                    a->auth, body, sizeof(body) - 1, API_TIMEOUT_MS, login_done,
                                    a) != 0) {
        LOAD->logins_failed++;
        tally_add(&LOAD->errors, "login_request");
    }
}

static void accept_done(void *data, const struct http_response *res)
{
    struct accept_call *call = data;
    if (res->status == 200) {
        LOAD->accepts_ok++;
        lhist_add(&LOAD->accept_h, (load_now() - call->t_offer) / 1000);
    } else {
        count_status("accept", res->status);
    }
    free(call);
}

static void accept_offer(struct agent *a, json_t *j)
{
    char target[96], body[128];
    json_int_t offer = json_integer_value(json_object_get(j, "offer"));
    const char *to = json_string_value(json_object_get(j, "agent"));
    struct accept_call *call = malloc(sizeof(*call));
    if (offer <= 0 || to == NULL || strcmp(to, a->name) != 0 || call == NULL) {
        free(call);
        return;
    }
    LOAD->offers++;
    *call = (struct accept_call){.a = a, .t_offer = load_now()};
    snprintf(target, sizeof(target), "/v1/offers/%lld/accept", (long long)offer);
    int n = snprintf(body, sizeof(body), "{\"agent\":\"%s\"}", a->name);
    if (http_client_request_headers(LOAD->api[a->node], "POST", target, "application/json",
                                    a->auth, body, (size_t)n, API_TIMEOUT_MS, accept_done,
                                    call) != 0) {
        free(call);
        tally_add(&LOAD->errors, "accept_request");
    }
}

static void customer_message(json_t *j, uint64_t now)
{
    const char *from = json_string_value(json_object_get(j, "from"));
    int step = -1;
    uint64_t t = load_id_time(json_string_value(json_object_get(j, "msg_id")), &step);
    if (from == NULL || strcmp(from, "customer") != 0 || t == 0 || step < 0 ||
        step >= (int)LOAD->steps_n) {
        return;
    }
    struct step *s = &LOAD->steps[step];
    s->at_agents++;
    lhist_add(&s->agent, (now - t) / 1000);
}

static void on_text(struct wsc *w, const char *msg, size_t len)
{
    struct agent *a = wsc_data(w);
    uint64_t now = load_now();
    json_t *j = json_loadb(msg, len, 0, NULL);
    const char *kind = json_string_value(json_object_get(j, "kind"));
    if (kind == NULL) {
        tally_add(&LOAD->errors, "feed_unreadable");
    } else if (strcmp(kind, "message") == 0) {
        customer_message(j, now);
    } else if (strcmp(kind, "offer") == 0) {
        accept_offer(a, j);
    } else if (strcmp(kind, "error") == 0) {
        tally_add(&LOAD->errors, "feed_error");
    }
    json_decref(j);
}

static void on_open(struct wsc *w)
{
    struct agent *a = wsc_data(w);
    a->open = true;
    LOAD->feeds_open++;
    login(a);
}

static void on_end(struct wsc *w, int code)
{
    struct agent *a = wsc_data(w);
    char name[40];
    snprintf(name, sizeof(name), "%d", code);
    tally_add(&LOAD->feed_closes, name);
    if (a->open) {
        LOAD->feeds_open--;
    } else {
        LOAD->feeds_failed++;
    }
    a->open = false;
    a->feed = NULL;
}

static const struct wsc_handler FEED = {.on_open = on_open,
                                        .on_text = on_text,
                                        .on_end = on_end};

int agent_start(struct load *l, struct agent *a)
{
    char target[160];
    snprintf(target, sizeof(target), "/v1/events?agent=%s&after=now", a->name);
    struct wsc_options o = {
        .loop = l->loop,
        .tls = l->tls,
        .dst = &l->nodes[a->node],
        .target = target,
        .headers = a->auth,
        .h = &FEED,
        .data = a,
    };
    int rv = wsc_open(&o, &a->feed);
    if (rv != 0) {
        l->feeds_failed++;
        a->feed = NULL;
        tally_add(&l->errors, "feed_connect");
    }
    return rv;
}

void agent_close(struct agent *a)
{
    if (a->feed != NULL) {
        wsc_close(a->feed);
        a->feed = NULL;
    }
    free(a->auth);
    a->auth = NULL;
}

/* One line per agent: NAME TOKEN. Agent i follows its feed on node i mod the nodes. */
int agents_read(struct load *l, const char *path)
{
    FILE *f = fopen(path, "r");
    char name[LOAD_NAME_MAX], token[256];
    unsigned cap = 0;
    if (f == NULL) {
        fprintf(stderr, "chatload: cannot read the agents file '%s'\n", path);
        return -1;
    }
    while (fscanf(f, "%63s %255s", name, token) == 2) {
        if (l->n_agents == cap) {
            cap = cap ? 2 * cap : 256;
            struct agent *more = realloc(l->agents, cap * sizeof(*more));
            if (more == NULL) {
                fclose(f);
                return -1;
            }
            l->agents = more;
        }
        struct agent *a = &l->agents[l->n_agents];
        *a = (struct agent){.node = (uint8_t)(l->n_agents % l->n_nodes)};
        snprintf(a->name, sizeof(a->name), "%s", name);
        size_t n = strlen(token) + 32;
        if ((a->auth = malloc(n)) == NULL) {
            fclose(f);
            return -1;
        }
        snprintf(a->auth, n, "Authorization: Bearer %s\r\n", token);
        l->n_agents++;
    }
    fclose(f);
    return 0;
}
