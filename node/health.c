/* Health (node.h, "Health"): what this node measures, what it tells the other members, and
 * on the leader, the HEALTH commands that put the cluster's view into the replicated state
 * (engine/health.h), where the fault policy turns state changes into faults.
 *
 * Every second each node measures its own signals (node.ID.disk_free: % of the data
 * directory's file system free; node.ID.store_used: % of the LMDB map in use;
 * node.ID.api_errors: % of its API's answers in the last minute that were 5xx;
 * node.ID.commit_latency: the 99th percentile, in ms, of the time from proposing an entry to
 * applying it over the last minute (only the leader proposes); node.ID.disk_latency: the
 * 99th percentile, in ms, of its writes to the Raft log over the last minute, their fsync
 * included, which a slow disk shows in on every member; whether it knows a leader) and sends
 * them to every other member as a signal (node/signal.c: a body that starts with contact id 0).
 * The leader adds what only it can see: each voter's reachability (Raft's record of hearing
 * from it, confirmed for REACH_CONFIRM_MS so that one late heartbeat is not a fault), how far
 * behind each reachable member is, and how often the leadership changed in the last
 * ELECTION_WINDOW_MS; and the business, per queue, from the replicated state (queue_view()). It
 * proposes the signals whose state differs from the replicated one, one command at a time, and
 * forgets the signals of queues and members that are gone.
 *
 * Quorum lost cannot be written while it lasts: nothing commits without a quorum. Each node
 * remembers its latest stretch without a leader that lasted OUTAGE_MIN_MS or more, and
 * sends it with its signals; a leader that finds such a stretch, ended, and had no leader
 * itself for all of it (from its own start, if it started during it), records it after the
 * fact: cluster.quorum bad since the stretch began, then ok since it ended. A member cut
 * off alone reports a stretch too, but the leader had a leader then, and passes over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "adapters/http/http.h"
#include "common/buf.h"
#include "common/hist.h"
#include "common/error.h"
#include "common/log.h"
#include "node/internal.h"
#include "storage/storage.h"

#define TICK_MS 1000
#define REACH_CONFIRM_MS 3000     /* unheard this long before a member is unreachable */
#define REPORT_STALE_MS 10000     /* a member's report older than this is not used */
#define ELECTION_WINDOW_MS 600000 /* leader changes counted over the last 10 minutes */
#define OUTAGE_MIN_MS 3000        /* a stretch without a leader that counts as quorum lost */
#define OUTAGE_SLACK_MS 2000      /* two nodes see a leader come and go this far apart */
#define LOCAL_MAX 8
#define QUEUE_RESERVE 64 /* signals queues may not take: members' and the cluster's */
#define STRETCHES 8

/* Thresholds (percent): the defaults an operator of a contact centre would set. */
#define DISK_WARN 15
#define DISK_BAD 5
#define STORE_WARN 80
#define STORE_BAD 95
#define LAG_WARN 1000 /* entries */
#define LAG_BAD 20000
#define ELECTIONS_WARN 3
#define ELECTIONS_BAD 6
#define WINDOW_S 60       /* the API's errors and commit latency: over the last minute */
#define SAMPLES_MIN 20    /* ... once it has at least this many answers or commits */
#define API_ERRORS_WARN 2 /* % 5xx: a few during an election are normal */
#define API_ERRORS_BAD 10
#define COMMIT_WARN_MS 250 /* p99, ms: a commit is one fsync on a majority */
#define COMMIT_BAD_MS 1000
#define DISK_WARN_MS 100 /* p99, ms: a write to the Raft log, its fsync included */
#define DISK_BAD_MS 500
#define SL_WINDOW_MS (15 * 60000) /* a queue's service level now: over the last 15 minutes */
#define SL_SAMPLE_MS 60000        /* ... from its totals sampled once a minute */
#define SL_SAMPLES 16

struct sig
{
    char name[ENGINE_NAME_MAX];
    uint8_t state;
    int64_t value;
    int64_t since;
};

struct stretch
{
    int64_t from, to; /* wall ms; to 0 while it lasts */
};

struct report
{
    char member[ENGINE_NAME_MAX];
    uint64_t at; /* uv_now when it came */
    struct sig s[LOCAL_MAX];
    unsigned n;
    struct stretch outage; /* the member's latest, ended; 0s when none */
};

struct reach
{
    char member[ENGINE_NAME_MAX];
    uint64_t unheard_since; /* uv_now; 0 while heard */
};

/* A queue's replicated totals as they were at `at`: the service level over a window is the
 * difference of two. Every node samples them, so a new leader has the window at once. */
struct sl_sample
{
    int64_t at;
    uint64_t in_sl, answered, after;
};

struct sl_ring
{
    char name[ENGINE_NAME_MAX];
    struct sl_sample s[SL_SAMPLES]; /* oldest first */
    unsigned n;
};

/* Cumulative counts sampled once a tick: a minute's are the difference of two. */
struct sample
{
    uint64_t answers[6];
    struct cd_hist commit, disk;
};

struct node__health
{
    uv_timer_t timer; /* first: the close callback frees the whole struct */
    struct node *node;
    struct sample window[WINDOW_S + 1]; /* a ring: the latest WINDOW_S seconds */
    unsigned window_head, window_n;
    struct sl_ring *rings; /* one per queue, by the engine's index */
    size_t n_rings, cap_rings;
    int64_t started; /* wall ms */
    struct sig local[LOCAL_MAX];
    unsigned n_local;
    /* This node's stretches without a leader, oldest first; the last may be open. */
    struct stretch own[STRETCHES];
    unsigned n_own;
    struct report reports[CLUSTER_MEMBERS_MAX];
    unsigned n_reports;
    struct reach reach[CLUSTER_MEMBERS_MAX];
    unsigned n_reach;
    uint64_t changes_seen;
    int64_t change_at[ELECTIONS_BAD + 1]; /* wall ms of the latest leader changes, a ring */
    unsigned change_head;
    bool proposing;
    struct stretch recording; /* the outage being recorded (cluster.quorum bad) */
    void (*done)(void *arg);
    void *done_arg;
};

static uint8_t grade_low(int64_t v, int64_t warn, int64_t bad)
{
    return v <= bad ? ENGINE_SIGNAL_BAD : v <= warn ? ENGINE_SIGNAL_WARN : ENGINE_SIGNAL_OK;
}

static uint8_t grade_high(int64_t v, int64_t warn, int64_t bad)
{
    return v >= bad ? ENGINE_SIGNAL_BAD : v >= warn ? ENGINE_SIGNAL_WARN : ENGINE_SIGNAL_OK;
}

/* Sets a signal in a small table, keeping its since while its state holds. */
static void put(struct sig *t,
                unsigned *n,
                unsigned max,
                const char *name,
                uint8_t state,
                int64_t value,
                int64_t now)
{
    for (unsigned i = 0; i < *n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            if (t[i].state != state) {
                t[i].since = now;
            }
            t[i].state = state;
            t[i].value = value;
            return;
        }
    }
    if (*n < max) {
        struct sig *s = &t[(*n)++];
        snprintf(s->name, sizeof(s->name), "%s", name);
        s->state = state;
        s->value = value;
        s->since = now;
    }
}

/* ---- measuring ---------------------------------------------------------------------- */

static void track_leader(struct node__health *h, const struct cluster_status *st, int64_t now)
{
    bool leaderless = st->leader[0] == 0;
    struct stretch *last = h->n_own > 0 ? &h->own[h->n_own - 1] : NULL;
    bool open = last != NULL && last->to == 0;
    if (leaderless && !open) {
        if (h->n_own == STRETCHES) {
            memmove(&h->own[0], &h->own[1], (STRETCHES - 1) * sizeof(h->own[0]));
            h->n_own--;
        }
        h->own[h->n_own++] = (struct stretch){.from = now};
    } else if (!leaderless && open) {
        last->to = now;
    }
    if (st->leader_changes != h->changes_seen) {
        for (uint64_t k = h->changes_seen; k < st->leader_changes && k < h->changes_seen + 8;
             k++) {
            h->change_at[h->change_head] = now;
            h->change_head = (h->change_head + 1) % (ELECTIONS_BAD + 1);
        }
        h->changes_seen = st->leader_changes;
    }
}

/* The latest ended stretch of OUTAGE_MIN_MS or more (0s: none). The stretch this node spent
 * starting (reading its log, finding its leader) is not an outage: it is only evidence for
 * another member's stretch. */
static struct stretch latest_outage(const struct node__health *h)
{
    for (unsigned i = h->n_own; i-- > 0;) {
        if (h->own[i].to != 0 && h->own[i].to - h->own[i].from >= OUTAGE_MIN_MS &&
            h->own[i].from != h->started) {
            return h->own[i];
        }
    }
    return (struct stretch){0, 0};
}

static void sample_queues(struct node__health *h, const struct engine *e, int64_t now);

/* The 99th percentile of a histogram's samples, as its bucket's upper bound in ms. */
static int64_t p99_ms(const struct cd_hist *d)
{
    uint64_t want = d->count - d->count / 100;
    for (unsigned i = 0; i < CD_HIST_BOUNDS; i++) {
        if (cd_hist_cumulative(d, i) >= want) {
            return (int64_t)(cd_hist_bounds_us[i] / 1000);
        }
    }
    return (int64_t)(cd_hist_bounds_us[CD_HIST_BOUNDS - 1] / 1000) * 2;
}

/* The 99th percentile, in ms, of what was added to a histogram between old and cur; 0 with
 * fewer than SAMPLES_MIN samples. */
static int64_t window_p99(const struct cd_hist *cur, const struct cd_hist *old)
{
    struct cd_hist d = {.count = cur->count - old->count};
    for (unsigned i = 0; i <= CD_HIST_BOUNDS; i++) {
        d.buckets[i] = cur->buckets[i] - old->buckets[i];
    }
    return d.count >= SAMPLES_MIN ? p99_ms(&d) : 0;
}

/* The API's 5xx share and the commit latency over the last minute. */
static void measure_window(struct node__health *h, const char *id, int64_t now)
{
    struct node *n = h->node;
    struct sample cur;
    memset(&cur, 0, sizeof(cur));
    char name[2 * ENGINE_NAME_MAX];
    if (n->http != NULL) {
        struct http_server_stats hs;
        http_server_stats(n->http, &hs);
        memcpy(cur.answers, hs.answers, sizeof(cur.answers));
    }
    cluster_apply_latency(n->cluster, &cur.commit);
    cluster_disk_latency(n->cluster, &cur.disk);
    const struct sample *old =
        h->window_n > 0
            ? &h->window[(h->window_head + WINDOW_S + 1 - h->window_n) % (WINDOW_S + 1)]
            : &cur;
    h->window[h->window_head] = cur;
    h->window_head = (h->window_head + 1) % (WINDOW_S + 1);
    h->window_n = h->window_n < WINDOW_S ? h->window_n + 1 : WINDOW_S;
    uint64_t total = 0, errors = cur.answers[5] - old->answers[5];
    for (unsigned k = 1; k < 6; k++) {
        total += cur.answers[k] - old->answers[k];
    }
    int64_t pct = total >= SAMPLES_MIN ? (int64_t)(errors * 100 / total) : 0;
    snprintf(name, sizeof(name), "node.%s.api_errors", id);
    put(h->local, &h->n_local, LOCAL_MAX, name,
        grade_high(pct, API_ERRORS_WARN, API_ERRORS_BAD), pct, now);
    int64_t p99 = window_p99(&cur.commit, &old->commit);
    snprintf(name, sizeof(name), "node.%s.commit_latency", id);
    put(h->local, &h->n_local, LOCAL_MAX, name, grade_high(p99, COMMIT_WARN_MS, COMMIT_BAD_MS),
        p99, now);
    p99 = window_p99(&cur.disk, &old->disk);
    snprintf(name, sizeof(name), "node.%s.disk_latency", id);
    put(h->local, &h->n_local, LOCAL_MAX, name, grade_high(p99, DISK_WARN_MS, DISK_BAD_MS), p99,
        now);
}

static void measure(struct node__health *h, const struct cluster_status *st, int64_t now)
{
    struct node *n = h->node;
    char name[2 * ENGINE_NAME_MAX];
    struct statvfs vfs;
    if (statvfs(n->config.data_dir, &vfs) == 0 && vfs.f_blocks > 0) {
        int64_t pct = (int64_t)((double)vfs.f_bavail * 100.0 / (double)vfs.f_blocks);
        snprintf(name, sizeof(name), "node.%s.disk_free", st->id);
        put(h->local, &h->n_local, LOCAL_MAX, name, grade_low(pct, DISK_WARN, DISK_BAD), pct,
            now);
    }
    struct storage_stats ss;
    struct storage *s = cluster_storage(n->cluster);
    uint64_t map = n->config.storage_map_mb != 0 ? (uint64_t)n->config.storage_map_mb << 20
                                                 : (uint64_t)4 << 30; /* storage's default */
    if (s != NULL && storage_stats(s, &ss) == 0) {
        int64_t pct = (int64_t)(ss.bytes_in_use * 100 / map);
        snprintf(name, sizeof(name), "node.%s.store_used", st->id);
        put(h->local, &h->n_local, LOCAL_MAX, name, grade_high(pct, STORE_WARN, STORE_BAD), pct,
            now);
    }
    measure_window(h, st->id, now);
    sample_queues(h, cluster_engine(n->cluster), now);
    track_leader(h, st, now);
}

/* ---- telling the others -------------------------------------------------------------- */

static void broadcast(struct node__health *h, const struct cluster_status *st)
{
    struct cd_buf b;
    cd_buf_init(&b);
    cd_buf_uvar(&b, 0); /* no contact: a health report (node/signal.c) */
    cd_buf_str(&b, st->id);
    cd_buf_uvar(&b, h->n_local);
    for (unsigned i = 0; i < h->n_local; i++) {
        cd_buf_str(&b, h->local[i].name);
        cd_buf_uvar(&b, h->local[i].state);
        cd_buf_svar(&b, h->local[i].value);
        cd_buf_svar(&b, h->local[i].since);
    }
    struct stretch o = latest_outage(h);
    cd_buf_svar(&b, o.from);
    cd_buf_svar(&b, o.to);
    if (b.err == 0) {
        cluster_signal_broadcast(h->node->cluster, b.data, b.len); /* best effort */
    }
    cd_buf_close(&b);
}

void node__health_report(struct node *n, const void *body, size_t len)
{
    struct node__health *h = n->health;
    struct cd_reader r;
    struct report rep = {.at = uv_now(n->loop)};
    if (h == NULL) {
        return;
    }
    cd_reader_init(&r, body, len);
    cd_rd_strcpy(&r, rep.member, sizeof(rep.member));
    rep.n = (unsigned)cd_rd_uint(&r, LOCAL_MAX);
    for (unsigned i = 0; i < rep.n; i++) {
        cd_rd_strcpy(&r, rep.s[i].name, sizeof(rep.s[i].name));
        rep.s[i].state = (uint8_t)cd_rd_uint(&r, ENGINE_SIGNAL_BAD);
        rep.s[i].value = cd_rd_svar(&r);
        rep.s[i].since = cd_rd_svar(&r);
    }
    rep.outage.from = cd_rd_svar(&r);
    rep.outage.to = cd_rd_svar(&r);
    if (r.err != 0 || cd_rd_left(&r) != 0 || !engine_name_valid(rep.member, ENGINE_NAME_MAX)) {
        return;
    }
    for (unsigned i = 0; i < h->n_reports; i++) {
        if (strcmp(h->reports[i].member, rep.member) == 0) {
            h->reports[i] = rep;
            return;
        }
    }
    if (h->n_reports < CLUSTER_MEMBERS_MAX) {
        h->reports[h->n_reports++] = rep;
    }
}

/* ---- the leader's view --------------------------------------------------------------- */

struct view
{
    struct engine_signal_set set[ENGINE_HEALTH_BATCH];
    char names[ENGINE_HEALTH_BATCH][ENGINE_NAME_MAX];
    uint8_t n;
    uint32_t added; /* names new to the state, which holds at most ENGINE_SIGNALS_MAX */
    uint32_t limit; /* of the state's signals, what new names may fill */
};

/* Adds the signal when its state differs from the replicated one (or it has none). */
static void want(struct view *v,
                 const struct engine *e,
                 const char *name,
                 uint8_t state,
                 int64_t value,
                 int64_t since,
                 int64_t now)
{
    struct engine_signal_info cur;
    if (strlen(name) >= ENGINE_NAME_MAX) {
        return; /* a member id too long to name a signal with */
    }
    for (uint8_t i = 0; i < v->n; i++) {
        if (strcmp(v->names[i], name) == 0) {
            return; /* the first word on it in this batch stands */
        }
    }
    bool have = engine_signal_find(e, name, &cur) == 0;
    if ((have && cur.state == state) || (!have && state == ENGINE_SIGNAL_GONE) ||
        v->n == ENGINE_HEALTH_BATCH ||
        (!have && engine_signal_count(e) + v->added >= v->limit)) {
        return;
    }
    v->added += !have;
    snprintf(v->names[v->n], ENGINE_NAME_MAX, "%s", name);
    int64_t floor = have ? cur.since : 0;
    since = since > now ? now : since;
    since = since < floor ? floor : since;
    v->set[v->n] = (struct engine_signal_set){v->names[v->n], state, value, since};
    v->n++;
}

/* For a signal no longer measured: set it to state (ok: nothing to measure now; GONE: not
 * measured any more) if the state holds it, else nothing. */
static void settle(struct view *v,
                   const struct engine *e,
                   const char *name,
                   uint8_t state,
                   int64_t now)
{
    struct engine_signal_info cur;
    if (strlen(name) < ENGINE_NAME_MAX && engine_signal_find(e, name, &cur) == 0) {
        want(v, e, name, state, 0, now, now);
    }
}

static struct reach *reach_of(struct node__health *h, const char *member)
{
    for (unsigned i = 0; i < h->n_reach; i++) {
        if (strcmp(h->reach[i].member, member) == 0) {
            return &h->reach[i];
        }
    }
    if (h->n_reach == CLUSTER_MEMBERS_MAX) {
        return NULL;
    }
    struct reach *r = &h->reach[h->n_reach++];
    memset(r, 0, sizeof(*r));
    snprintf(r->member, sizeof(r->member), "%s", member);
    return r;
}

/* True when this node had no leader for all of [from, to] it was running (it must have been
 * running by its end: otherwise it cannot vouch for it). */
static bool leaderless_through(const struct node__health *h, int64_t from, int64_t to)
{
    if (to < h->started) {
        return false;
    }
    from = from < h->started ? h->started : from;
    for (unsigned i = 0; i < h->n_own; i++) {
        int64_t end = h->own[i].to != 0 ? h->own[i].to : INT64_MAX;
        if (h->own[i].from <= from + OUTAGE_SLACK_MS && end >= to - OUTAGE_SLACK_MS) {
            return true;
        }
    }
    return false;
}

/* A past quorum loss to record: the stretches without a leader (this node's, and the ones
 * members reported) that ended, began after the last one recorded, and that this node also
 * spent without a leader, merged into one: from the earliest start to the latest end of
 * those that overlap it (each node sees the same outage begin and end up to a tick apart). */
static bool outage_to_record(const struct node__health *h,
                             const struct engine *e,
                             uint64_t now_loop,
                             struct stretch *out)
{
    struct engine_signal_info q;
    int64_t recorded = engine_signal_find(e, "cluster.quorum", &q) == 0 ? q.since : 0;
    struct stretch found = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i <= h->n_reports; i++) {
            struct stretch s = latest_outage(h);
            if (i < h->n_reports) {
                if (now_loop - h->reports[i].at > REPORT_STALE_MS) {
                    continue;
                }
                s = h->reports[i].outage;
            }
            if (s.to == 0 || s.from <= recorded || s.to < h->started ||
                !leaderless_through(h, s.from, s.to)) {
                continue;
            }
            if (pass == 0 && (found.to == 0 || s.from < found.from)) {
                found = s; /* the earliest */
            } else if (pass == 1 && s.from <= found.to && s.to > found.to) {
                found.to = s.to; /* the same outage, seen ending later */
            }
        }
    }
    *out = found;
    return found.to != 0;
}

/* Samples each queue's totals once a minute. Ring i is the engine's queue i (queues keep
 * their index; a ring whose name differs is a queue defined anew and starts again), so a
 * tick is O(queues): a model of thousands of queues must not stall the loop. */
static void sample_queues(struct node__health *h, const struct engine *e, int64_t now)
{
    size_t nq = engine_queue_count(e);
    if (nq > h->cap_rings) {
        struct sl_ring *r = realloc(h->rings, nq * sizeof(*r));
        if (r == NULL) {
            return;
        }
        memset(r + h->cap_rings, 0, (nq - h->cap_rings) * sizeof(*r));
        h->rings = r;
        h->cap_rings = nq;
    }
    h->n_rings = nq;
    for (size_t i = 0; i < nq; i++) {
        struct engine_queue_info q;
        struct sl_ring *r = &h->rings[i];
        if (engine_queue_get(e, engine_queue_name(e, i), &q) != 0) {
            continue;
        }
        struct sl_sample cur = {now, q.totals.answered_in_sl, q.totals.answered,
                                q.totals.abandoned_after_sl};
        const struct sl_sample *last = r->n > 0 ? &r->s[r->n - 1] : NULL;
        if (strcmp(r->name, q.name) != 0 ||
            (last != NULL && (cur.in_sl < last->in_sl || cur.answered < last->answered ||
                              cur.after < last->after))) {
            snprintf(r->name, sizeof(r->name), "%s", q.name);
            r->n = 0;
            last = NULL;
        }
        if (last == NULL || now - last->at >= SL_SAMPLE_MS) {
            if (r->n == SL_SAMPLES) {
                memmove(&r->s[0], &r->s[1], (SL_SAMPLES - 1) * sizeof(r->s[0]));
                r->n--;
            }
            r->s[r->n++] = cur;
        }
    }
}

/* Queue i's service level (%) over the window its ring covers, up to SL_WINDOW_MS: -1 with
 * nothing answered or abandoned after the target in it; *full: it covers the whole window
 * (a node that started less than SL_WINDOW_MS ago has less). */
static int64_t sl_now(const struct node__health *h,
                      size_t i,
                      const struct engine_queue_info *q,
                      int64_t now,
                      bool *full)
{
    const struct sl_ring *r = i < h->n_rings ? &h->rings[i] : NULL;
    *full = false;
    if (r == NULL || r->n == 0 || strcmp(r->name, q->name) != 0) {
        return -1;
    }
    const struct sl_sample *from = &r->s[0];
    for (unsigned k = 0; k < r->n && now - r->s[k].at > SL_WINDOW_MS; k++) {
        from = &r->s[k];
    }
    *full = now - from->at >= SL_WINDOW_MS;
    uint64_t in_sl = q->totals.answered_in_sl - from->in_sl;
    uint64_t denom =
        (q->totals.answered - from->answered) + (q->totals.abandoned_after_sl - from->after);
    return denom > 0 ? (int64_t)(in_sl * 100 / denom) : -1;
}

/* The business, from the replicated state and graded by the model's thresholds (the same
 * the wallboard colours by): per queue, its service level now (answered within the target
 * against answered and abandoned after it, over the last 15 minutes), how many wait, the
 * longest wait, and whether anyone who serves it is logged in while contacts wait. A queue
 * without thresholds for a figure has no signal for it. All of it is O(queues): counting the
 * contacts waiting past the target would walk every live contact each second (at 100,000 of
 * them that held the loop 18 ms, and showed in the leader's p99), and the longest wait already
 * speaks for them. */
static void queue_view(const struct node__health *h,
                       const struct engine *e,
                       int64_t now,
                       struct view *v)
{
    size_t nq = engine_queue_count(e);
    char name[2 * ENGINE_NAME_MAX];
    for (size_t i = 0; i < nq; i++) {
        struct engine_queue_info q;
        if (engine_queue_get(e, engine_queue_name(e, i), &q) != 0 || q.retired) {
            continue;
        }
        const struct engine_thresholds *t = &q.thresholds;
        snprintf(name, sizeof(name), "queue.%s.service_level", q.name);
        bool full;
        int64_t pct = sl_now(h, i, &q, now, &full);
        if ((t->sl_warn != 0 || t->sl_alarm != 0) && pct >= 0) {
            uint8_t st = t->sl_alarm != 0 && pct < t->sl_alarm ? ENGINE_SIGNAL_BAD
                         : t->sl_warn != 0 && pct < t->sl_warn ? ENGINE_SIGNAL_WARN
                                                               : ENGINE_SIGNAL_OK;
            want(v, e, name, st, pct, now, now);
        } else if (t->sl_warn == 0 && t->sl_alarm == 0) {
            settle(v, e, name, ENGINE_SIGNAL_GONE, now); /* no thresholds, nothing to watch */
        } else if (full) {
            /* nothing answered or abandoned late in 15 minutes is nothing wrong; a node
             * that has watched less than that leaves the signal as it is */
            settle(v, e, name, ENGINE_SIGNAL_OK, now);
        }
        snprintf(name, sizeof(name), "queue.%s.waiting", q.name);
        if (t->waiting_warn != 0 || t->waiting_alarm != 0) {
            uint8_t st =
                t->waiting_alarm != 0 && q.waiting >= t->waiting_alarm ? ENGINE_SIGNAL_BAD
                : t->waiting_warn != 0 && q.waiting >= t->waiting_warn ? ENGINE_SIGNAL_WARN
                                                                       : ENGINE_SIGNAL_OK;
            want(v, e, name, st, q.waiting, now, now);
        } else {
            settle(v, e, name, ENGINE_SIGNAL_GONE, now);
        }
        snprintf(name, sizeof(name), "queue.%s.longest_wait", q.name);
        if (t->wait_warn_s != 0 || t->wait_alarm_s != 0) {
            int64_t wait_s = q.oldest_enqueued != 0 && now > q.oldest_enqueued
                                 ? (now - q.oldest_enqueued) / 1000
                                 : 0;
            uint8_t st = t->wait_alarm_s != 0 && wait_s >= t->wait_alarm_s ? ENGINE_SIGNAL_BAD
                         : t->wait_warn_s != 0 && wait_s >= t->wait_warn_s ? ENGINE_SIGNAL_WARN
                                                                           : ENGINE_SIGNAL_OK;
            want(v, e, name, st, wait_s, now, now);
        } else {
            settle(v, e, name, ENGINE_SIGNAL_GONE, now);
        }
        bool nobody = q.open && !q.paused && q.waiting > 0 && q.staffed == 0;
        snprintf(name, sizeof(name), "queue.%s.agents", q.name);
        want(v, e, name, nobody ? ENGINE_SIGNAL_BAD : ENGINE_SIGNAL_OK, q.staffed, now, now);
    }
}

/* Signals of queues and members that are no longer there are forgotten. */
static void forget_gone(const struct cluster_status *st,
                        const struct engine *e,
                        int64_t now,
                        struct view *v)
{
    struct engine_signal_info s;
    for (size_t i = 0; engine_signal_at(e, i, &s) == 0; i++) {
        const char *dot = strchr(s.name, '.');
        const char *last = strrchr(s.name, '.');
        if (dot == NULL || last == dot) {
            continue;
        }
        char id[ENGINE_NAME_MAX];
        snprintf(id, sizeof(id), "%.*s", (int)(last - dot - 1), dot + 1);
        bool there = true;
        if (strncmp(s.name, "queue.", 6) == 0) {
            struct engine_queue_info q;
            there = engine_queue_get(e, id, &q) == 0 && !q.retired;
        } else if (strncmp(s.name, "member.", 7) == 0 || strncmp(s.name, "node.", 5) == 0) {
            there = false;
            for (uint32_t k = 0; k < st->n_members && !there; k++) {
                there = strcmp(st->members[k].id, id) == 0;
            }
        }
        if (!there) {
            want(v, e, s.name, ENGINE_SIGNAL_GONE, 0, now, now);
        }
    }
}

static void leader_view(struct node__health *h,
                        const struct cluster_status *st,
                        const struct engine *e,
                        int64_t now,
                        struct view *v)
{
    uint64_t loop_now = uv_now(h->node->loop);
    char name[2 * ENGINE_NAME_MAX];
    struct engine_signal_info q;
    bool quorum_bad =
        engine_signal_find(e, "cluster.quorum", &q) == 0 && q.state == ENGINE_SIGNAL_BAD;
    struct stretch o;
    if (quorum_bad) {
        /* recorded after the fact: ok since it ended (a leader knows no other bad quorum) */
        bool ours = h->recording.from == q.since;
        want(v, e, "cluster.quorum", ENGINE_SIGNAL_OK, 0, ours ? h->recording.to : now, now);
    } else if (engine_signal_find(e, "cluster.quorum", &q) == 0 &&
               outage_to_record(h, e, loop_now, &o)) {
        /* bad since it began now, ok since it ended in the next round */
        h->recording = o;
        want(v, e, "cluster.quorum", ENGINE_SIGNAL_BAD, o.to - o.from, o.from, now);
        return;
    } else {
        want(v, e, "cluster.quorum", ENGINE_SIGNAL_OK, 0, now, now);
    }
    for (uint32_t i = 0; i < st->n_members; i++) {
        const struct cluster_member *m = &st->members[i];
        if (strcmp(m->id, st->id) == 0) {
            /* the leader itself: reachable and caught up, whatever an earlier leader said */
            snprintf(name, sizeof(name), "member.%s.reachable", m->id);
            want(v, e, name, ENGINE_SIGNAL_OK, 0, now, now);
            snprintf(name, sizeof(name), "member.%s.lag", m->id);
            want(v, e, name, ENGINE_SIGNAL_OK, 0, now, now);
            continue;
        }
        if (m->role != CLUSTER_VOTER) {
            continue;
        }
        struct reach *r = reach_of(h, m->id);
        if (r == NULL) {
            continue;
        }
        if (m->recent) {
            r->unheard_since = 0;
        } else if (r->unheard_since == 0) {
            r->unheard_since = loop_now;
        }
        int64_t unheard = r->unheard_since != 0 ? (int64_t)(loop_now - r->unheard_since) : 0;
        bool down = unheard >= REACH_CONFIRM_MS;
        snprintf(name, sizeof(name), "member.%s.reachable", m->id);
        want(v, e, name, down ? ENGINE_SIGNAL_BAD : ENGINE_SIGNAL_OK, unheard,
             down ? now - unheard : now, now);
        if (!down && m->recent && m->match_index > 0) { /* a new leader knows no match yet */
            int64_t lag = st->last_index > m->match_index
                              ? (int64_t)(st->last_index - m->match_index)
                              : 0;
            snprintf(name, sizeof(name), "member.%s.lag", m->id);
            want(v, e, name, grade_high(lag, LAG_WARN, LAG_BAD), lag, now, now);
        }
    }
    int64_t changes = 0;
    for (unsigned i = 0; i <= ELECTIONS_BAD; i++) {
        changes += h->change_at[i] != 0 && now - h->change_at[i] <= ELECTION_WINDOW_MS;
    }
    want(v, e, "cluster.elections", grade_high(changes, ELECTIONS_WARN, ELECTIONS_BAD), changes,
         now, now);
    for (unsigned i = 0; i < h->n_local; i++) {
        want(v, e, h->local[i].name, h->local[i].state, h->local[i].value, h->local[i].since,
             now);
    }
    for (unsigned k = 0; k < h->n_reports; k++) {
        const struct report *rep = &h->reports[k];
        if (loop_now - rep->at > REPORT_STALE_MS) {
            continue;
        }
        for (unsigned i = 0; i < rep->n; i++) {
            want(v, e, rep->s[i].name, rep->s[i].state, rep->s[i].value, rep->s[i].since, now);
        }
    }
    v->limit = ENGINE_SIGNALS_MAX - QUEUE_RESERVE; /* room for the cluster's own, always */
    queue_view(h, e, now, v);
    v->limit = ENGINE_SIGNALS_MAX;
    forget_gone(st, e, now, v);
}

static void proposed(void *data, const struct engine_result *res)
{
    struct node__health *h = data;
    h->proposing = false;
    if (res->code != 0) {
        if (res->code != CD_EUNAVAIL) {
            cd_logf(CD_LOG_WARN, "health", "not applied: %s", res->message);
        }
    }
}

/* Reports of ids that are no longer members are dropped (their signals are forgotten). */
static void prune_reports(struct node__health *h, const struct cluster_status *st)
{
    for (unsigned i = 0; i < h->n_reports;) {
        bool member = false;
        for (uint32_t k = 0; k < st->n_members && !member; k++) {
            member = strcmp(st->members[k].id, h->reports[i].member) == 0;
        }
        if (member) {
            i++;
        } else {
            h->reports[i] = h->reports[--h->n_reports];
        }
    }
}

static void tick(uv_timer_t *t)
{
    struct node__health *h = (struct node__health *)t;
    struct node *n = h->node;
    if (n->cluster == NULL || n->stopping) {
        return;
    }
    struct cluster_status st;
    cluster_status(n->cluster, &st);
    int64_t now = cluster_wall_ms();
    measure(h, &st, now);
    broadcast(h, &st);
    prune_reports(h, &st);
    if (st.role != CLUSTER_LEADER) {
        h->n_reach = 0; /* a later leadership starts its own count */
    }
    if (st.role != CLUSTER_LEADER || h->proposing || !st.ready) {
        return;
    }
    struct view v = {.n = 0, .limit = ENGINE_SIGNALS_MAX};
    leader_view(h, &st, cluster_engine(n->cluster), now, &v);
    if (v.n == 0) {
        return;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_HEALTH};
    cmd.u.health.n = v.n;
    cmd.u.health.signals = v.set;
    if (cluster_submit(n->cluster, &cmd, proposed, h) == 0) {
        h->proposing = true;
    }
}

size_t node_health_local(const struct node *n, struct node_signal *out, size_t max)
{
    const struct node__health *h = n->health;
    size_t k = 0;
    if (h == NULL) {
        return 0;
    }
    const struct stretch *last = h->n_own > 0 ? &h->own[h->n_own - 1] : NULL;
    if (k < max) {
        bool open = last != NULL && last->to == 0;
        out[k++] = (struct node_signal){.name = "cluster.leader",
                                        .state = open ? ENGINE_SIGNAL_BAD : ENGINE_SIGNAL_OK,
                                        .value = open ? cluster_wall_ms() - last->from : 0,
                                        .since = open           ? last->from
                                                 : last != NULL ? last->to
                                                                : h->started};
    }
    for (unsigned i = 0; i < h->n_local && k < max; i++) {
        out[k++] = (struct node_signal){.name = h->local[i].name,
                                        .state = h->local[i].state,
                                        .value = h->local[i].value,
                                        .since = h->local[i].since};
    }
    return k;
}

/* ---- the adapter --------------------------------------------------------------------- */

static int health_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct node__health *h = self;
    (void)err;
    (void)errlen;
    h->started = cluster_wall_ms();
    h->own[0] = (struct stretch){.from = h->started}; /* a node starts knowing no leader */
    h->n_own = 1;
    uv_timer_init(n->loop, &h->timer);
    uv_timer_start(&h->timer, tick, TICK_MS, TICK_MS);
    return 0;
}

static void timer_closed(uv_handle_t *handle)
{
    struct node__health *h = (struct node__health *)handle;
    h->done(h->done_arg);
}

static void health_close(void *self, void (*done)(void *arg), void *arg)
{
    struct node__health *h = self;
    h->done = done;
    h->done_arg = arg;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed);
}

static void health_free(void *self)
{
    struct node__health *h = self;
    if (h->node != NULL) {
        h->node->health = NULL;
    }
    free(h->rings);
    free(h);
}

static const struct node_adapter_ops HEALTH_OPS = {
    .name = "health",
    .start = health_start,
    .close = health_close,
    .free = health_free,
};

int node__add_health(struct node *n, char *err, size_t errlen)
{
    struct node__health *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    h->node = n;
    int rv = node_add(n, &HEALTH_OPS, h);
    if (rv != 0) {
        free(h);
        snprintf(err, errlen, "cannot register health: %s", cd_strerror(rv));
        return rv;
    }
    n->health = h;
    return 0;
}
