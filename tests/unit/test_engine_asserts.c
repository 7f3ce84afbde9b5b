/* The engine stops on a corrupt replicated state rather than spreading it: each test
 * corrupts one invariant behind the engine's back (through engine/internal.h, as only a bug
 * could) and checks, in a child process, that the next command aborts with CD_ASSERT's
 * message naming it. Bad input, by contrast, is answered with an error (the other engine
 * tests), and so never reaches an assertion. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/internal.h"
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "q", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "q");
    AGENT("a2", "q");
    MODEL_INSTALL;
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

typedef void (*corrupt_fn)(struct fixture *f);

static struct agent *e_agent(struct fixture *f, const char *name)
{
    int ai = engine__agent_id(f->e, name);
    assert_true(ai >= 0);
    return &f->e->agents[ai];
}

/* Runs fn in a child; the child must abort on a CD_ASSERT whose text contains want. */
static void expect_abort(struct fixture *f, corrupt_fn fn, const char *want)
{
    int fds[2];
    char err[1024];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        f->check = false; /* the corrupt state must reach the engine, not engine_check() */
        fn(f);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < sizeof(err) && (got = read(fds[0], err + n, sizeof(err) - n - 1)) > 0) {
        n += (size_t)got;
    }
    err[n] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT || strstr(err, want) == NULL ||
        strstr(err, "invariant") == NULL) {
        fail_msg("expected an abort on '%s'; the child said: %s", want, err);
    }
}

static void load_at_capacity_yet_ready(struct fixture *f)
{
    e_agent(f, "a1")->load[ENGINE_CH_VOICE] = 1; /* capacity 1, still marked ready */
    CREATE_IN("q", ENGINE_CH_VOICE, 0);
}

TEST(an_offer_past_capacity_stops_the_node)
{
    LOGIN("a1");
    expect_abort(f, load_at_capacity_yet_ready, "load[c->channel] < a->capacity[c->channel]");
}

static void offer_id_in_use(struct fixture *f)
{
    f->e->next_offer = 1; /* contact 1 holds offer 1 */
    CREATE_IN("q", ENGINE_CH_VOICE, 0);
}

TEST(an_offer_id_used_twice_stops_the_node)
{
    LOGIN("a1");
    LOGIN("a2");
    uint64_t id = CREATE_IN("q", ENGINE_CH_VOICE, 0);
    assert_int_equal(OFFER_OF(id), 1);
    expect_abort(f, offer_id_in_use, "engine__map_get(&e->by_offer");
}

static void contact_id_in_use(struct fixture *f)
{
    f->e->next_contact = 1;
    CREATE_IN("q", ENGINE_CH_VOICE, 0);
}

TEST(a_contact_id_used_twice_stops_the_node)
{
    CREATE_IN("q", ENGINE_CH_VOICE, 0);
    expect_abort(f, contact_id_in_use, "engine__contact(e, e->next_contact) == NULL");
}

static void waiting_count_lost(struct fixture *f)
{
    f->e->queues[0].waiting = 0;
    ABANDON(1);
}

TEST(a_waiting_count_below_zero_stops_the_node)
{
    CREATE_IN("q", ENGINE_CH_VOICE, 0);
    expect_abort(f, waiting_count_lost, "waiting > 0");
}

static void slot_not_held(struct fixture *f)
{
    e_agent(f, "a1")->n_held = 0; /* forgets the contact it was offered */
    ABANDON(1);
}

TEST(an_agent_releasing_what_it_does_not_hold_stops_the_node)
{
    LOGIN("a1");
    uint64_t id = CREATE_IN("q", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(id, "a1");
    expect_abort(f, slot_not_held, "i < a->n_held");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(an_offer_past_capacity_stops_the_node),
        FX_TEST(an_offer_id_used_twice_stops_the_node),
        FX_TEST(a_contact_id_used_twice_stops_the_node),
        FX_TEST(a_waiting_count_below_zero_stops_the_node),
        FX_TEST(an_agent_releasing_what_it_does_not_hold_stops_the_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
