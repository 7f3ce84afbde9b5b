/* node: the effect bus on a real single-node cluster (raft_uv, LMDB) in a scratch directory.
 * A durable subscriber is given every effect it asked for once, in order, across a restart
 * of the node (nothing twice, nothing skipped); one that acts later is given nothing more
 * until it acknowledges, and an effect not acknowledged before a stop comes again after the
 * restart; filters by kind and by home hold; a subscriber that is not durable is told where
 * its backlog starts. Each is checked against the outbox the node kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "node/node.h"
#include "storage/storage.h"
#include "tests/unit/node_fixture.h"

#define SEEN_MAX 4096

struct id
{
    uint64_t index;
    uint32_t n;
};

struct recorder
{
    struct node **node; /* the fixture's current node */
    const char *name;
    struct node_subscription sub;
    unsigned later_every; /* answer NODE_LATER to every k-th delivery (0: never) */
    unsigned calls;
    unsigned leader; /* deliveries made while the node led */
    bool waiting;
    uint64_t restored; /* UINT64_MAX: never told */
    struct id seen[SEEN_MAX];
    uint8_t kind[SEEN_MAX];
    char home[SEEN_MAX][8];
    size_t n_seen;
    struct node_adapter_ops ops;
};

struct fixture
{
    uv_loop_t loop;
    char dir[PATH_MAX];
    struct config_node config;
    struct node *node;
    bool stopped;
    unsigned answers;
};

static int rec_start(void *self, struct node *n, char *err, size_t errlen)
{
    (void)self;
    (void)n;
    (void)err;
    (void)errlen;
    return 0;
}

static int rec_deliver(void *self, const struct node_delivery *d)
{
    struct recorder *r = self;
    assert_false(r->waiting); /* nothing is delivered while an acknowledgement is due */
    assert_true(r->n_seen < SEEN_MAX);
    r->seen[r->n_seen] = (struct id){d->index, d->n};
    r->kind[r->n_seen] = d->fx->kind;
    snprintf(r->home[r->n_seen], sizeof(r->home[0]), "%s", d->fx->home);
    r->n_seen++;
    r->calls++;
    r->leader += d->leader;
    if (r->later_every != 0 && r->calls % r->later_every == 0) {
        r->waiting = true;
        return NODE_LATER;
    }
    return 0;
}

static void rec_restored(void *self, uint64_t index)
{
    struct recorder *r = self;
    r->restored = index;
}

static void rec_close(void *self, void (*done)(void *), void *arg)
{
    (void)self;
    done(arg);
}

static void rec_init(struct recorder *r, struct fixture *f, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->node = &f->node;
    r->name = name;
    r->restored = UINT64_MAX;
    r->ops = (struct node_adapter_ops){.name = name,
                                       .start = rec_start,
                                       .subscription = &r->sub,
                                       .deliver = rec_deliver,
                                       .restored = rec_restored,
                                       .close = rec_close};
}

static void rec_ack(struct recorder *r)
{
    assert_true(r->waiting);
    r->waiting = false;
    assert_int_equal(node_ack(*r->node, r), 0);
}

/* ---- The node ----------------------------------------------------------------------- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    nf_config(f->dir, &f->config);
    *state = f;
    return 0;
}

static bool leads(void *arg)
{
    struct fixture *f = arg;
    struct cluster_status st;
    cluster_status(node_cluster(f->node), &st);
    return st.role == CLUSTER_LEADER;
}

/* A node with the given subscribers (in that order), started and leading. */
static void start(struct fixture *f, struct recorder **recs, unsigned n)
{
    struct node_options opt = {.config = &f->config, .boot_id = "test-boot"};
    char err[512];
    assert_int_equal(node_new(&f->loop, &opt, &f->node, err, sizeof(err)), 0);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(node_add(f->node, &recs[i]->ops, recs[i]), 0);
    }
    if (node_start(f->node, err, sizeof(err)) != 0) {
        fail_msg("start: %s", err);
    }
    nf_run_until(&f->loop, leads, f);
}

static void on_stopped(void *data)
{
    struct fixture *f = data;
    f->stopped = true;
}

static bool stopped(void *arg)
{
    return ((struct fixture *)arg)->stopped;
}

static void stop(struct fixture *f)
{
    f->stopped = false;
    node_stop(f->node, on_stopped, f);
    nf_run_until(&f->loop, stopped, f);
    node_free(f->node);
    f->node = NULL;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->node != NULL) {
        stop(f);
    }
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* ---- Commands ------------------------------------------------------------------------- */

static void answered(void *data, const struct engine_result *res)
{
    struct fixture *f = data;
    if (res->code != 0) {
        fail_msg("command refused: %s", res->message);
    }
    f->answers++;
}

struct waiting
{
    struct fixture *f;
    unsigned want;
};

static bool all_answered(void *arg)
{
    struct waiting *w = arg;
    return w->f->answers >= w->want;
}

static void run(struct fixture *f, const struct engine_command *cmd)
{
    struct waiting w = {f, f->answers + 1};
    assert_int_equal(cluster_submit(node_cluster(f->node), cmd, answered, f), 0);
    nf_run_until(&f->loop, all_answered, &w);
}

static void install(struct fixture *f)
{
    struct engine_model m;
    char err[256];
    engine_model_init(&m);
    m.n_queues = 1;
    m.queues = calloc(1, sizeof(*m.queues));
    assert_non_null(m.queues);
    snprintf(m.queues[0].name, sizeof(m.queues[0].name), "q");
    m.queues[0].channels = ENGINE_CH_ALL;
    m.queues[0].strategy = ENGINE_STRATEGY_LONGEST_IDLE;
    m.queues[0].sl_target_s = 20;
    m.queues[0].sl_percent = 80;
    m.queues[0].hours = -1;
    m.queues[0].overflow_queue = -1;
    assert_int_equal(engine_model_validate(&m, err, sizeof(err)), 0);
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
    cmd.u.install.version = 1;
    cmd.u.install.model = &m;
    cmd.actor = "test";
    run(f, &cmd);
    engine_model_close(&m);
}

/* A contact homed at home (NULL: none), queued: a QUEUED effect. */
static void contact(struct fixture *f, const char *home)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    cmd.u.create.channel = ENGINE_CH_CHAT;
    cmd.u.create.queue = "q";
    cmd.u.create.home = home;
    cmd.u.create.session = home != NULL ? "tok" : NULL;
    run(f, &cmd);
}

/* ---- What the node kept --------------------------------------------------------------- */

struct outbox
{
    struct id ids[SEEN_MAX];
    size_t n;
};

struct outbox_entry
{
    struct outbox *o;
    uint64_t index;
};

static int outbox_effect(void *data, uint32_t i, const struct engine_effect *fx)
{
    struct outbox_entry *e = data;
    (void)fx;
    assert_true(e->o->n < SEEN_MAX);
    e->o->ids[e->o->n++] = (struct id){e->index, i};
    return 0;
}

static int outbox_row(void *data, uint64_t index, const void *bytes, size_t len)
{
    struct outbox_entry e = {data, index};
    assert_int_equal(cluster_effects_each(bytes, len, outbox_effect, &e), 0);
    return 0;
}

static void outbox(struct fixture *f, struct outbox *o)
{
    o->n = 0;
    assert_int_equal(
        storage_foreach_effects(cluster_storage(node_cluster(f->node)), 0, outbox_row, o), 0);
}

static int id_cmp(struct id a, struct id b)
{
    return a.index != b.index ? (a.index < b.index ? -1 : 1) : (a.n < b.n ? -1 : a.n > b.n);
}

/* What both runs of r were given, one after the other, is exactly the kept effects from the
 * first one given on: in order, none twice, none missing. */
static void assert_exactly_once(const struct recorder *a,
                                const struct recorder *b,
                                const struct outbox *o)
{
    size_t k = 0;
    while (k < o->n && id_cmp(o->ids[k], a->seen[0]) != 0) {
        k++;
    }
    for (size_t i = 0; i < a->n_seen + b->n_seen; i++, k++) {
        struct id got = i < a->n_seen ? a->seen[i] : b->seen[i - a->n_seen];
        assert_true(k < o->n);
        if (id_cmp(got, o->ids[k]) != 0) {
            fail_msg("delivery %zu: %llu.%u, expected %llu.%u", i,
                     (unsigned long long)got.index, got.n, (unsigned long long)o->ids[k].index,
                     o->ids[k].n);
        }
    }
    assert_int_equal(k, o->n);
}

/* ---- Tests ---------------------------------------------------------------------------- */

static void durable_subscriber_resumes_after_a_restart(void **state)
{
    struct fixture *f = *state;
    struct recorder *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
    struct outbox *o = calloc(1, sizeof(*o));
    rec_init(r1, f, "rec");
    r1->sub.durable = true;
    struct recorder *recs[] = {r1};
    start(f, recs, 1);
    install(f);
    for (int i = 0; i < 5; i++) {
        contact(f, NULL);
    }
    assert_int_equal(r1->restored, UINT64_MAX); /* durable: nothing to say at start */
    assert_true(r1->n_seen >= 6);               /* the model and five QUEUED */
    assert_int_equal(r1->leader, r1->n_seen);   /* a single node leads */
    stop(f);

    rec_init(r2, f, "rec");
    r2->sub.durable = true;
    recs[0] = r2;
    start(f, recs, 1);
    assert_int_equal(r2->n_seen, 0); /* it had acted on everything: nothing again */
    for (int i = 0; i < 5; i++) {
        contact(f, NULL);
    }
    assert_int_equal(r2->n_seen, 5);
    outbox(f, o);
    assert_exactly_once(r1, r2, o);
    struct node_bus_stats st;
    node_bus_stats(f->node, &st);
    assert_int_equal(st.replayed, 0);
    stop(f);
    free(r1);
    free(r2);
    free(o);
}

static void late_acknowledgement_holds_back_and_survives_a_stop(void **state)
{
    struct fixture *f = *state;
    struct recorder *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
    struct outbox *o = calloc(1, sizeof(*o));
    rec_init(r1, f, "slow");
    r1->sub.durable = true;
    r1->later_every = 2;
    struct recorder *recs[] = {r1};
    start(f, recs, 1);
    install(f);
    contact(f, NULL); /* given: the model (acted), then this one, held back */
    assert_true(r1->waiting);
    size_t held = r1->n_seen;
    contact(f, NULL);
    contact(f, NULL);
    assert_int_equal(r1->n_seen, held); /* nothing more until it acknowledges */
    rec_ack(r1); /* the two others now come from the outbox: one acted on, one held back */
    assert_int_equal(r1->n_seen, held + 2);
    assert_true(r1->waiting);
    struct node_bus_stats st;
    node_bus_stats(f->node, &st);
    assert_true(st.replayed >= 1);
    stop(f); /* with one effect not acknowledged */

    rec_init(r2, f, "slow");
    r2->sub.durable = true;
    recs[0] = r2;
    start(f, recs, 1);
    /* The one not acknowledged comes again first, then the one after it. */
    assert_true(r2->n_seen >= 1);
    assert_int_equal(id_cmp(r2->seen[0], r1->seen[r1->n_seen - 1]), 0);
    contact(f, NULL);
    r1->n_seen--; /* it was given twice: once before the stop, unacknowledged */
    outbox(f, o);
    assert_exactly_once(r1, r2, o);
    stop(f);
    free(r1);
    free(r2);
    free(o);
}

static void filters_by_kind_and_by_home(void **state)
{
    struct fixture *f = *state;
    struct recorder *mine = calloc(1, sizeof(*mine)), *models = calloc(1, sizeof(*models));
    rec_init(mine, f, "mine");
    mine->sub.home_only = true;
    rec_init(models, f, "models");
    models->sub.kinds = 1u << ENGINE_FX_MODEL;
    struct recorder *recs[] = {mine, models};
    start(f, recs, 2);
    install(f);
    contact(f, "n1");
    contact(f, "n2");
    contact(f, NULL);
    uint64_t id_n2 = 2;
    struct engine_command move = {.kind = ENGINE_CMD_SESSION_MOVE};
    move.u.session.id = id_n2;
    move.u.session.home = "n1";
    run(f, &move); /* now addressed here */
    struct engine_command lost = {.kind = ENGINE_CMD_NODE_LOST};
    lost.u.node.name = "n1";
    run(f, &lost); /* both lose their home here: old_home n1 */
    assert_int_equal(models->n_seen, 1);
    assert_int_equal(models->kind[0], ENGINE_FX_MODEL);
    /* QUEUED (n1), SESSION_MOVED (to n1), two SESSION_LOST (from n1). */
    assert_int_equal(mine->n_seen, 4);
    assert_int_equal(mine->kind[0], ENGINE_FX_QUEUED);
    assert_string_equal(mine->home[0], "n1");
    assert_int_equal(mine->kind[1], ENGINE_FX_SESSION_MOVED);
    assert_int_equal(mine->kind[2], ENGINE_FX_SESSION_LOST);
    assert_int_equal(mine->kind[3], ENGINE_FX_SESSION_LOST);
    assert_string_equal(mine->home[3], "");
    stop(f);
    free(mine);
    free(models);
}

static void a_subscriber_that_is_not_durable_takes_its_backlog(void **state)
{
    struct fixture *f = *state;
    struct recorder *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
    struct outbox *o = calloc(1, sizeof(*o));
    rec_init(r1, f, "feed");
    struct recorder *recs[] = {r1};
    start(f, recs, 1);
    install(f);
    for (int i = 0; i < 4; i++) {
        contact(f, NULL);
    }
    stop(f);
    rec_init(r2, f, "feed");
    r2->sub.backlog = 2; /* the last two entries */
    recs[0] = r2;
    start(f, recs, 1);
    outbox(f, o);
    assert_true(o->n >= 2);
    assert_int_equal(r2->n_seen, 2);
    assert_int_equal(id_cmp(r2->seen[0], o->ids[o->n - 2]), 0);
    assert_int_equal(r2->restored, o->ids[o->n - 2].index - 1);
    stop(f);
    free(r1);
    free(r2);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(durable_subscriber_resumes_after_a_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(late_acknowledgement_holds_back_and_survives_a_stop,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(filters_by_kind_and_by_home, setup, teardown),
        cmocka_unit_test_setup_teardown(a_subscriber_that_is_not_durable_takes_its_backlog,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
