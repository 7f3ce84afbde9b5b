/* cluster: signals between members (cluster_signal_broadcast()), driven by raft's in-memory
 * fixture (cluster_fixture.h): every other member's handler gets the bytes once, the sender's
 * does not; a member that cannot be reached is counted, not retried; sizes are bounded; a
 * member without a handler drops them. */
#include "cluster_fixture.h"

struct heard
{
    unsigned n;
    char last[64];
};

static struct heard heard[CF_NODES_MAX];

static void on_signal(void *data, const void *body, size_t len)
{
    struct heard *h = data;
    h->n++;
    assert_true(len < sizeof(h->last));
    memcpy(h->last, body, len);
    h->last[len] = 0;
}

static int setup(void **state)
{
    struct cf_options opt = {.n = 3};
    struct cf *f = cf_new(&opt);
    memset(heard, 0, sizeof(heard));
    for (unsigned i = 0; i < f->n; i++) {
        cluster_set_signal_handler(CF_C(i), on_signal, &heard[i]);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    cf_free(*state);
    return 0;
}

static bool all_others_heard(struct cf *f, void *arg)
{
    unsigned from = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < f->n; i++) {
        if (i != from && heard[i].n == 0) {
            return false;
        }
    }
    return cf_pending(f, CLUSTER_FWD_SIGNAL) == 0;
}

static void reaches_every_other_member(void **state)
{
    struct cf *f = *state;
    CF_UNTIL_LEADER(0);
    /* from a follower: it needs no leader */
    assert_int_equal(cluster_signal_broadcast(CF_C(2), "typing", 6), 0);
    assert_true(cf_step_until(f, all_others_heard, (void *)(uintptr_t)2, 5000));
    assert_int_equal(heard[0].n, 1);
    assert_int_equal(heard[1].n, 1);
    assert_int_equal(heard[2].n, 0); /* not to itself */
    assert_string_equal(heard[1].last, "typing");
    struct cluster_status st = cf_status(f, 2);
    assert_int_equal(st.signals_sent, 2);
    assert_int_equal(st.signals_failed, 0);
    assert_int_equal(cf_status(f, 0).signals_received, 1);
}

static void a_member_down_is_counted(void **state)
{
    struct cf *f = *state;
    CF_UNTIL_LEADER(0);
    cf_kill(f, 1);
    cf_drain(f);
    cf_close(f, 1);
    assert_int_equal(cluster_signal_broadcast(CF_C(0), "seen 3", 6), 0);
    for (int i = 0; i < 50; i++) {
        cf_step(f);
    }
    assert_int_equal(heard[2].n, 1);
    assert_int_equal(heard[1].n, 0);
    struct cluster_status st = cf_status(f, 0);
    assert_int_equal(st.signals_sent, 2);
    assert_int_equal(st.signals_failed, 1);
}

static void sizes_are_bounded(void **state)
{
    struct cf *f = *state;
    static char big[CLUSTER_SIGNAL_MAX + 1];
    CF_UNTIL_LEADER(0);
    assert_int_equal(cluster_signal_broadcast(CF_C(0), big, sizeof(big)), CD_ETOOBIG);
    assert_int_equal(cluster_signal_broadcast(CF_C(0), big, 0), CD_EINVAL);
    assert_int_equal(cf_status(f, 0).signals_sent, 0);
    cluster_set_signal_handler(CF_C(1), NULL, NULL);
    assert_int_equal(cluster_signal_broadcast(CF_C(0), "x", 1), 0);
    for (int i = 0; i < 50; i++) {
        cf_step(f);
    }
    assert_int_equal(heard[2].n, 1);
    assert_int_equal(heard[1].n, 0); /* no handler there: dropped */
    assert_int_equal(cf_status(f, 1).signals_received, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reaches_every_other_member, setup, teardown),
        cmocka_unit_test_setup_teardown(a_member_down_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(sizes_are_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
