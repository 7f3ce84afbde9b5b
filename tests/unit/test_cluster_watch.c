/* cluster: the order in which the survivors of a dead leader stand for election (fast
 * failover, cluster/watch.c). Exactly one survivor goes first, the order is the same on
 * every node, and a node that is not a voter never stands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "cluster/internal.h"

struct fixture
{
    struct raft_configuration conf;
};

static int setup(void **state)
{
    struct fixture *f = test_malloc(sizeof(*f));
    raft_configuration_init(&f->conf);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    raft_configuration_close(&f->conf);
    test_free(f);
    return 0;
}

#define F struct fixture *f = *state
#define SERVER(ID, ROLE)                                                              \
    do {                                                                              \
        char address_[32];                                                            \
        snprintf(address_, sizeof(address_), "127.0.0.1:%u", 9000u + (unsigned)(ID)); \
        assert_int_equal(raft_configuration_add(&f->conf, ID, address_, ROLE), 0);    \
    } while (0)
#define RANK(SELF, LOST) cluster__watch_rank(&f->conf, SELF, LOST)

/* The voters' ids in any order: ranks follow the ids, the lost leader left out. */
static void ranks_follow_ids(void **state)
{
    F;
    SERVER(30, RAFT_VOTER);
    SERVER(10, RAFT_VOTER);
    SERVER(20, RAFT_VOTER);
    assert_int_equal(RANK(10, 30), 0);
    assert_int_equal(RANK(20, 30), 1);
    assert_int_equal(RANK(20, 10), 0);
    assert_int_equal(RANK(30, 10), 1);
}

/* Five voters, one lost: the four survivors take four different turns. */
static void every_survivor_its_own_turn(void **state)
{
    F;
    raft_id ids[] = {5, 1, 4, 2, 3};
    for (size_t i = 0; i < 5; i++) {
        SERVER(ids[i], RAFT_VOTER);
    }
    int seen = 0;
    for (raft_id self = 1; self <= 5; self++) {
        if (self == 4) {
            continue; /* the lost leader */
        }
        int rank = RANK(self, 4);
        assert_in_range(rank, 0, 3);
        assert_false(seen & (1 << rank));
        seen |= 1 << rank;
    }
    assert_int_equal(seen, 0xf);
}

/* Standbys and spares do not stand, nor count in the order of those who do. */
static void non_voters_stay_out(void **state)
{
    F;
    SERVER(1, RAFT_VOTER);
    SERVER(2, RAFT_STANDBY);
    SERVER(3, RAFT_SPARE);
    SERVER(4, RAFT_VOTER);
    SERVER(5, RAFT_VOTER);
    assert_int_equal(RANK(2, 1), -1);
    assert_int_equal(RANK(3, 1), -1);
    assert_int_equal(RANK(4, 1), 0);
    assert_int_equal(RANK(5, 1), 1);
}

/* A node missing from the configuration (removed, or not yet added) does not stand. */
static void unknown_node_stays_out(void **state)
{
    F;
    SERVER(1, RAFT_VOTER);
    SERVER(2, RAFT_VOTER);
    assert_int_equal(RANK(9, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ranks_follow_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(every_survivor_its_own_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(non_voters_stay_out, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_node_stays_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
