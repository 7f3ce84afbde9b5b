/* GET /metrics: this node's figures in the Prometheus text format (version 0.0.4), written
 * by hand. Everything comes from the node's own applied state and counters, with no read
 * barrier: a scrape of a follower shows that follower, as Prometheus expects of a target.
 *
 * Cost: the contacts by channel and state walk the live contacts (O(contacts)); the rest
 * is O(queues + agents). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped. */
static void label(FILE *f, const char *value)
{
    fputc('"', f);
    for (const char *p = value; *p != 0; p++) {
        if (*p == '\\' || *p == '"') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p == '\n') {
            fputs("\\n", f);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void histogram(FILE *f, const char *name, const char *help, const struct cd_hist *h)
{
    head(f, name, "histogram", help);
    for (unsigned i = 0; i < CD_HIST_BOUNDS; i++) {
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, (double)cd_hist_bounds_us[i] / 1e6,
                (unsigned long long)cd_hist_cumulative(h, i));
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name, (double)h->sum_us / 1e6, name,
            (unsigned long long)h->count);
}

static void scalar(FILE *f, const char *name, const char *type, const char *help, double v)
{
    head(f, name, type, help);
    fprintf(f, "%s %.17g\n", name, v);
}

static void raft_metrics(FILE *f, struct cluster *c)
{
    struct cluster_status st;
    struct cd_hist apply;
    cluster_status(c, &st);
    cluster_apply_latency(c, &apply);
    head(f, "contactd_raft_role", "gauge", "1 for this node's current Raft role.");
    for (int role = 0; role <= 3; role++) {
        fprintf(f, "contactd_raft_role{role=\"%s\"} %d\n", cluster_role_name(role),
                role == st.role);
    }
    scalar(f, "contactd_ready", "gauge", "1 when a leader is known and this node is caught up.",
           st.ready);
    scalar(f, "contactd_raft_term", "gauge", "Current Raft term.", (double)st.term);
    scalar(f, "contactd_raft_commit_index", "gauge", "Highest log index known committed.",
           (double)st.commit_index);
    scalar(f, "contactd_raft_applied_index", "gauge", "Highest log index applied here.",
           (double)st.applied_index);
    scalar(f, "contactd_raft_last_index", "gauge", "Highest log index stored here.",
           (double)st.last_index);
    scalar(f, "contactd_raft_snapshot_index", "gauge", "Index of the latest snapshot.",
           (double)st.snapshot_index);
    scalar(f, "contactd_raft_members", "gauge", "Members in the Raft configuration.",
           st.n_members);
    scalar(f, "contactd_raft_leader_changes_total", "counter",
           "Leaders this node has followed or been since it started.",
           (double)st.leader_changes);
    scalar(f, "contactd_raft_leaders_lost_total", "counter",
           "Leaders this node found gone (their API port refused), since start.",
           (double)st.leaders_lost);
    scalar(f, "contactd_raft_early_elections_total", "counter",
           "Elections this node started early because its leader was gone.",
           (double)st.early_elections);
    scalar(f, "contactd_members_declared_lost_total", "counter",
           "Members this node, leading, declared lost (sessions.lost_after_ms unheard).",
           (double)st.members_declared_lost);
    head(f, "contactd_raft_port_connections_total", "counter",
         "Connections to the Raft port since start, by what the guard made of them.");
    const struct
    {
        const char *outcome;
        uint64_t n;
    } port[] = {{"accepted", st.raft_port.accepted},
                {"refused", st.raft_port.refused},
                {"timed_out", st.raft_port.timed_out},
                {"over_cap", st.raft_port.over_cap},
                {"bad_frame", st.raft_port.bad_frames}};
    for (size_t i = 0; i < sizeof(port) / sizeof(port[0]); i++) {
        fprintf(f, "contactd_raft_port_connections_total{outcome=\"%s\"} %llu\n",
                port[i].outcome, (unsigned long long)port[i].n);
    }
    scalar(f, "contactd_raft_entries_applied_total", "counter", "Log entries applied.",
           (double)st.entries_applied);
    scalar(f, "contactd_raft_commands_applied_total", "counter",
           "Engine commands applied (an entry carries one or more).",
           (double)st.commands_applied);
    histogram(f, "contactd_raft_apply_latency_seconds",
              "From proposing an entry to having applied it, on the leader.", &apply);
}

/* A queue's figure: the value, or "no data" (the series is left out for that queue). */
struct qvalue
{
    double v;
    bool none;
};

static struct qvalue val(double v)
{
    return (struct qvalue){v, false};
}

static struct qvalue qfigure(const struct engine_queue_info *q,
                             uint32_t past,
                             int64_t now,
                             size_t k)
{
    const struct engine_queue_totals *t = &q->totals;
    uint64_t sl_base = (uint64_t)q->answered + q->abandoned_after_sl + past;
    switch (k) {
        case 0:
            return val(q->open);
        case 1:
            return val(q->paused);
        case 2:
            return val(q->waiting);
        case 3:
            return val(q->oldest_enqueued ? (double)(now - q->oldest_enqueued) / 1000 : 0);
        case 4:
            return val((double)q->ewt_ms / 1000);
        case 5:
            return val(q->staffed);
        case 6:
            return val(q->available);
        case 7:
            return val(past);
        case 8:
            return (struct qvalue){sl_base ? (double)q->answered_in_sl / (double)sl_base : 0,
                                   sl_base == 0};
        case 9:
            return val(q->arrived);
        case 10:
            return val(q->offered);
        case 11:
            return val(q->answered);
        case 12:
            return val(q->abandoned);
        case 13:
            return val(q->overflowed);
        case 14:
            return val(q->timed_out);
        case 15:
            return val((double)t->arrived);
        case 16:
            return val((double)t->offered);
        case 17:
            return val((double)t->answered);
        case 18:
            return val((double)t->answered_in_sl);
        case 19:
            return val((double)t->abandoned);
        case 20:
            return val((double)t->abandoned_after_sl);
        case 21:
            return val((double)t->overflowed);
        case 22:
            return val((double)t->timed_out);
        case 23:
            return val((double)t->handled);
        case 24:
            return val((double)t->answer_wait_ms / 1000);
        default:
            return val((double)t->handle_ms / 1000);
    }
}

static void queue_metrics(FILE *f, const struct engine *e)
{
    static const struct
    {
        const char *name, *type, *help;
    } m[] = {
        {"contactd_queue_open", "gauge", "1 when the queue's hours have it open."},
        {"contactd_queue_paused", "gauge", "1 while a supervisor has the queue paused."},
        {"contactd_queue_waiting", "gauge", "Contacts waiting in the queue."},
        {"contactd_queue_oldest_wait_seconds", "gauge", "Wait of the longest-waiting contact."},
        {"contactd_queue_ewt_seconds", "gauge", "Estimated wait for a contact arriving now."},
        {"contactd_queue_agents_staffed", "gauge", "Agents logged in, not away, serving it."},
        {"contactd_queue_agents_available", "gauge", "Of those, ready for a new contact."},
        {"contactd_queue_waiting_past_target", "gauge",
         "Contacts waiting longer than the service level target now."},
        {"contactd_queue_service_level_ratio", "gauge",
         "Today: answered within target / (answered + abandoned after target + waiting past "
         "target now); absent when there is nothing to divide by."},
        {"contactd_queue_arrived_today", "gauge", "Arrivals since local midnight."},
        {"contactd_queue_offered_today", "gauge", "Offers made since local midnight."},
        {"contactd_queue_answered_today", "gauge", "Answered since local midnight."},
        {"contactd_queue_abandoned_today", "gauge", "Abandoned since local midnight."},
        {"contactd_queue_overflowed_today", "gauge", "Overflowed since local midnight."},
        {"contactd_queue_timed_out_today", "gauge", "Timed out since local midnight."},
        {"contactd_queue_arrived_total", "counter", "Arrivals in the queue."},
        {"contactd_queue_offers_total", "counter", "Offers made to agents from the queue."},
        {"contactd_queue_answered_total", "counter", "Contacts answered from the queue."},
        {"contactd_queue_answered_in_target_total", "counter",
         "Of those, answered within the service level target."},
        {"contactd_queue_abandoned_total", "counter", "Contacts abandoned while waiting."},
        {"contactd_queue_abandoned_after_target_total", "counter",
         "Of those, abandoned after waiting longer than the target."},
        {"contactd_queue_overflowed_total", "counter", "Contacts overflowed out of the queue."},
        {"contactd_queue_timed_out_total", "counter", "Contacts whose maximum wait passed."},
        {"contactd_queue_handled_total", "counter", "Answered contacts whose handling ended."},
        {"contactd_queue_answer_wait_seconds_total", "counter",
         "Waits of the answered contacts, summed: ASA over a window is its rate over the "
         "answered's."},
        {"contactd_queue_handle_seconds_total", "counter",
         "Answer to completion of the handled contacts, summed (talk and wrap-up)."},
    };
    size_t n = engine_queue_count(e);
    struct engine_queue_info *qs = calloc(n ? n : 1, sizeof(*qs));
    uint32_t *past = api__waiting_past(e);
    if (qs == NULL || past == NULL) {
        free(qs);
        free(past);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        engine_queue_get(e, engine_queue_name(e, i), &qs[i]);
    }
    int64_t now = engine_now(e);
    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
        head(f, m[k].name, m[k].type, m[k].help);
        for (size_t i = 0; i < n; i++) {
            struct qvalue v = qfigure(&qs[i], past[i], now, k);
            if (v.none) {
                continue;
            }
            fprintf(f, "%s{queue=", m[k].name);
            label(f, qs[i].name);
            fprintf(f, "} %.17g\n", v.v);
        }
    }
    free(qs);
    free(past);
}

static int count_contact(void *data, const struct engine_contact_info *c)
{
    uint64_t(*counts)[ENGINE_CONTACT_STATE_COUNT] = data;
    if (c->channel < ENGINE_CH_COUNT && c->state < ENGINE_CONTACT_STATE_COUNT) {
        counts[c->channel][c->state]++;
    }
    return 0;
}

static void contact_metrics(FILE *f, const struct engine *e)
{
    uint64_t counts[ENGINE_CH_COUNT][ENGINE_CONTACT_STATE_COUNT] = {{0}};
    engine_contacts_foreach(e, count_contact, counts);
    head(f, "contactd_contacts", "gauge", "Live contacts by channel and state.");
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        for (int s = ENGINE_CONTACT_QUEUED; s < ENGINE_CONTACT_COMPLETED; s++) {
            fprintf(f, "contactd_contacts{channel=\"%s\",state=\"%s\"} %llu\n",
                    engine_channel_name(ch), engine_contact_state_name(s),
                    (unsigned long long)counts[ch][s]);
        }
    }
}

static void agent_metrics(FILE *f, const struct engine *e)
{
    uint64_t by_state[ENGINE_AGENT_AWAY + 1] = {0}, load[ENGINE_CH_COUNT] = {0};
    struct engine_agent_info a;
    for (size_t i = 0; engine_agent_name(e, i) != NULL; i++) {
        if (engine_agent_get(e, engine_agent_name(e, i), &a) == 0 &&
            a.state <= ENGINE_AGENT_AWAY) {
            by_state[a.state]++;
            for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
                load[ch] += a.load[ch];
            }
        }
    }
    head(f, "contactd_agents", "gauge", "Agents by state.");
    for (int s = 0; s <= ENGINE_AGENT_AWAY; s++) {
        fprintf(f, "contactd_agents{state=\"%s\"} %llu\n", engine_agent_state_name(s),
                (unsigned long long)by_state[s]);
    }
    head(f, "contactd_agent_contacts", "gauge",
         "Contacts in agents' hands (offered to wrap-up), by channel.");
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        fprintf(f, "contactd_agent_contacts{channel=\"%s\"} %llu\n", engine_channel_name(ch),
                (unsigned long long)load[ch]);
    }
}

/* The replicated health signals (0 ok, 1 warn, 2 bad) and the open faults; faults opened
 * since the state began, as a counter (ids are handed out in order and never reused). */
static void health_metrics(FILE *f, const struct engine *e)
{
    struct engine_signal_info s;
    head(f, "contactd_health_signal", "gauge",
         "Health signals as the cluster holds them: 0 ok, 1 warn, 2 bad.");
    for (size_t i = 0; engine_signal_at(e, i, &s) == 0; i++) {
        fputs("contactd_health_signal{signal=", f);
        label(f, s.name);
        fprintf(f, "} %d\n", s.state);
    }
    head(f, "contactd_faults_open", "gauge", "Open faults, by severity.");
    for (int sev = ENGINE_SEVERITY_MINOR; sev <= ENGINE_SEVERITY_MAJOR; sev++) {
        fprintf(f, "contactd_faults_open{severity=\"%s\"} %zu\n", engine_severity_name(sev),
                engine_fault_open_count(e, sev));
    }
    struct engine_fault_info last;
    size_t n = engine_fault_count(e);
    head(f, "contactd_faults_opened_total", "counter",
         "Faults opened since the cluster began.");
    fprintf(f, "contactd_faults_opened_total %u\n",
            n > 0 && engine_fault_at(e, n - 1, &last) == 0 ? last.id : 0);
    /* Runbooks: open runs by state, and runs started (run ids, like fault ids, are handed out
     * in order and never reused). */
    size_t by_state[ENGINE_RUN_ENDED + 1] = {0};
    struct engine_run_info r;
    uint32_t started = 0;
    for (size_t i = 0; engine_run_at(e, i, &r) == 0; i++) {
        by_state[r.state]++;
        started = r.id > started ? r.id : started;
    }
    head(f, "contactd_runbook_runs", "gauge", "Runbook runs open, by state.");
    for (int st = ENGINE_RUN_AWAITING; st < ENGINE_RUN_ENDED; st++) {
        fprintf(f, "contactd_runbook_runs{state=\"%s\"} %zu\n", engine_run_state_name(st),
                by_state[st]);
    }
    head(f, "contactd_runbook_runs_started_total", "counter",
         "Runbook runs started since the cluster began.");
    fprintf(f, "contactd_runbook_runs_started_total %u\n", started);
}

/* What the server's connection policy refused and closed (adapters/http/http.h). */
static void http_policy_metrics(FILE *f, const struct http_server_stats *st)
{
    head(f, "contactd_http_connections_refused_total", "counter",
         "API connections refused with 503 at accept, by reason.");
    fprintf(f, "contactd_http_connections_refused_total{reason=\"busy\"} %llu\n",
            (unsigned long long)st->refused_busy);
    fprintf(f, "contactd_http_connections_refused_total{reason=\"address\"} %llu\n",
            (unsigned long long)st->refused_address);
    head(f, "contactd_http_connections_closed_total", "counter",
         "API connections the server closed by its policy, by reason.");
    const struct
    {
        const char *reason;
        uint64_t n;
    } closed[] = {{"evicted", st->evicted},
                  {"idle", st->idle_closed},
                  {"timeout", st->timed_out},
                  {"output", st->output_closed}};
    for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
        fprintf(f, "contactd_http_connections_closed_total{reason=\"%s\"} %llu\n",
                closed[i].reason, (unsigned long long)closed[i].n);
    }
    scalar(f, "contactd_http_output_paused_total", "counter",
           "Times an API connection stopped being parsed until its client took its answers.",
           (double)st->output_paused);
}

static void http_metrics(FILE *f, const struct http_server *s)
{
    struct http_server_stats st;
    http_server_stats(s, &st);
    head(f, "contactd_http_responses_total", "counter", "API answers by status class.");
    for (int k = 1; k <= 5; k++) {
        fprintf(f, "contactd_http_responses_total{code=\"%dxx\"} %llu\n", k,
                (unsigned long long)st.answers[k]);
    }
    scalar(f, "contactd_http_connections", "gauge", "Open API connections.",
           http_server_connections(s));
    histogram(f, "contactd_http_request_duration_seconds",
              "From a complete request to its answer (forwarding and commit included).",
              &st.latency);
    http_policy_metrics(f, &st);
}

/* A counter of attempts by outcome: the good one and the failed. */
static void outcomes(FILE *f,
                     const char *name,
                     const char *help,
                     const char *good,
                     uint64_t n_good,
                     const char *bad,
                     uint64_t n_bad)
{
    head(f, name, "counter", help);
    fprintf(f, "%s{outcome=\"%s\"} %llu\n", name, good, (unsigned long long)n_good);
    fprintf(f, "%s{outcome=\"%s\"} %llu\n", name, bad, (unsigned long long)n_bad);
}

void api__metrics(struct api__call *call)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) {
        http_reply_error(call->x, 500, "NOMEM", "out of memory");
        return;
    }
    const struct engine *e = cluster_engine(call->api->cluster);
    raft_metrics(f, call->api->cluster);
    uint64_t posted, failed;
    api__webhooks_stats(call->api->webhooks, &posted, &failed);
    outcomes(f, "contactd_webhook_attempts_total",
             "Webhook deliveries this node attempted while leading, by outcome.", "ok", posted,
             "failed", failed);
    api__escalate_stats(call->api->escalate, &posted, &failed);
    outcomes(f, "contactd_fault_notifications_total",
             "Fault notifications this node attempted while leading, by outcome.", "sent",
             posted, "failed", failed);
    queue_metrics(f, e);
    contact_metrics(f, e);
    agent_metrics(f, e);
    health_metrics(f, e);
    if (call->api->server != NULL) {
        http_metrics(f, call->api->server);
    }
    if (fclose(f) != 0) {
        free(text);
        http_reply_error(call->x, 500, "NOMEM", "out of memory");
        return;
    }
    http_reply(call->x, 200, CONTENT_TYPE, text, len);
    free(text);
}
