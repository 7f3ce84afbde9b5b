/* Large models read right: long lists keep their order, duplicates in large mappings and
 * lists are found with the position of the first occurrence, long overflow chains are
 * checked for loops, and anchors named twice refer to the later one. These are the shapes
 * whose checks the reader keeps in indexes (rather than walks) once collections grow. */
#include "config_fixture.h"

#define PARSE() PARSE_PUT()

#define N_SKILLS 20000
#define N_QUEUES 3000
#define N_AGENTS 5000

/* Skills s00000.., queues q0000.. each overflowing to the next, agents a00000.. serving
 * queue i % N_QUEUES with skill i % N_SKILLS: one line per entry, line numbers known. */
static void big_model(struct fixture *f)
{
    put(f, "version: 1\nskills:\n");
    for (int i = 0; i < N_SKILLS; i++) {
        put(f, "  - s%05d\n", i); /* line 3 + i */
    }
    put(f, "queues:\n");
    for (int i = 0; i < N_QUEUES; i++) {
        if (i + 1 < N_QUEUES) {
            put(f, "  q%04d: { channels: chat, overflow: { queue: q%04d } }\n", i, i + 1);
        } else {
            put(f, "  q%04d: { channels: chat }\n", i);
        }
    }
    put(f, "agents:\n");
    for (int i = 0; i < N_AGENTS; i++) {
        put(f,
            "  - { id: a%05d, skills: { s%05d: 5 }, capacity: { chat: 2 }, queues: q%04d }\n",
            i, i % N_SKILLS, i % N_QUEUES);
    }
}

#define QUEUE_LINE(i) (4 + N_SKILLS + (i))
#define AGENT_LINE(i) (5 + N_SKILLS + N_QUEUES + (i))

static void long_lists_keep_their_order(void **state)
{
    F;
    big_model(f);
    PARSE();
    ASSERT_OK;
    assert_int_equal(f->m->n_skills, N_SKILLS);
    assert_int_equal(f->m->n_queues, N_QUEUES);
    assert_int_equal(f->m->n_agents, N_AGENTS);
    char name[16];
    for (int i = 0; i < N_SKILLS; i += 997) {
        snprintf(name, sizeof(name), "s%05d", i);
        assert_string_equal(f->m->skills[i].s, name);
    }
    for (int i = 0; i < N_QUEUES; i++) {
        snprintf(name, sizeof(name), "q%04d", i);
        assert_string_equal(f->m->queues[i].name, name);
        assert_int_equal(f->m->queues[i].overflow_queue, i + 1 < N_QUEUES ? i + 1 : -1);
    }
    const struct engine_agent_def *last = &f->m->agents[N_AGENTS - 1];
    assert_string_equal(last->name, "a04999");
    assert_int_equal(last->skills[0].skill, (N_AGENTS - 1) % N_SKILLS);
    assert_int_equal(last->queues[0], (N_AGENTS - 1) % N_QUEUES);
}

static void duplicate_key_in_a_large_mapping(void **state)
{
    F;
    big_model(f);
    put(f, "rules: []\n");
    /* A second q1234 after every queue: reported at its key, naming the first. */
    size_t at = (size_t)(strstr(f->text, "agents:\n") - f->text);
    char *tail = strdup(f->text + at);
    f->len = at;
    put(f, "  q1234: { channels: voice }\n%s", tail);
    free(tail);
    PARSE();
    char want[128];
    snprintf(want, sizeof(want),
             "model.yaml:%d:3: duplicate key 'q1234' (first at line %d, "
             "column 3)",
             QUEUE_LINE(N_QUEUES), QUEUE_LINE(1234));
    ASSERT_ERROR(want);
}

/* Small mappings are checked by a walk, large ones by an index: at the seam both agree. */
static void duplicate_keys_around_the_index_size(void **state)
{
    F;
    for (int n = 1; n < 20; n++) {
        for (int dup = 0; dup < n; dup++) {
            f->len = 0;
            put(f, "{");
            for (int i = 0; i < n; i++) {
                put(f, "k%d: 1, ", i);
            }
            put(f, "k%d: 2}\n", dup);
            config_model_close(&f->cm);
            PARSE();
            char want[128];
            /* Column of the first k<dup>: after "{" and the entries before it. */
            size_t first = 2;
            for (int i = 0; i < dup; i++) {
                first += (size_t)snprintf(NULL, 0, "k%d: 1, ", i);
            }
            snprintf(want, sizeof(want),
                     "model.yaml:1:%zu: duplicate key 'k%d' (first at line 1, column %zu)",
                     f->len - (size_t)snprintf(NULL, 0, "k%d: 2}\n", dup) + 1, dup, first);
            ASSERT_ERROR(want);
        }
    }
}

static void duplicate_names_in_long_lists(void **state)
{
    F;
    big_model(f);
    put(f, "  - { id: a00017 }\n");
    PARSE();
    char want[128];
    snprintf(want, sizeof(want), "model.yaml:%d:11: agents: agent 'a00017' is defined twice",
             AGENT_LINE(N_AGENTS));
    ASSERT_ERROR(want);
}

/* y-m-d of a day count since 1970-01-01. */
static void civil(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void many_holidays(void **state)
{
    F;
    put(f, "version: 1\nqueues: {}\nhours:\n  h:\n    zone: Etc/UTC\n    holidays:\n");
    for (int i = 0; i < 3000; i++) {
        /* Every day from 2030-01-01 on, newest first: the model sorts them. */
        int y, m, d;
        civil(21915 + 2999 - i, &y, &m, &d);
        put(f, "      - { date: %04d-%02d-%02d }\n", y, m, d);
    }
    PARSE();
    ASSERT_OK;
    assert_int_equal(f->m->hours[0].n_holidays, 3000);
    for (uint32_t i = 1; i < 3000; i++) {
        assert_true(f->m->hours[0].holidays[i - 1].date < f->m->hours[0].holidays[i].date);
    }
    config_model_close(&f->cm);
    put(f, "      - { date: 2031-06-15 }\n");
    PARSE();
    ASSERT_ERROR("model.yaml:3007:17: hours 'h': date: holiday listed twice");
}

static void long_overflow_chains(void **state)
{
    F;
    /* q0 -> q1 -> ... -> q2999 -> q1500: the queues from q1500 on loop; q1500 is named. */
    big_model(f);
    char *last = strstr(f->text, "  q2999: { channels: chat }\n");
    assert_non_null(last);
    size_t at = (size_t)(last - f->text);
    char *tail = strdup(f->text + at + strlen("  q2999: { channels: chat }\n"));
    f->len = at;
    put(f, "  q2999: { channels: chat, overflow: { queue: q1500 } }\n%s", tail);
    free(tail);
    PARSE();
    char want[128];
    snprintf(want, sizeof(want),
             "model.yaml:%d:38: queue 'q1500': overflow: chain of overflows leads back to "
             "this queue",
             QUEUE_LINE(1500));
    ASSERT_ERROR(want);
}

/* A loop that a chain runs into is named at the first of its queues, not at the queues
 * that lead into it. */
static void chain_into_a_loop(void **state)
{
    F;
    put(f, "version: 1\nqueues:\n");
    put(f, "  a: { channels: chat, overflow: { queue: b } }\n");
    put(f, "  b: { channels: chat, overflow: { queue: c } }\n");
    put(f, "  c: { channels: chat, overflow: { queue: d } }\n");
    put(f, "  d: { channels: chat, overflow: { queue: c } }\n");
    PARSE();
    ASSERT_ERROR(
        "model.yaml:5:34: queue 'c': overflow: chain of overflows leads back to this queue");
}

static void anchor_named_twice_means_the_later(void **state)
{
    F;
    put(f,
        "version: 1\n"
        "skills: [&s sales, french, &s vip]\n"
        "queues:\n"
        "  q: { channels: voice, skills: { *s : 3 } }\n");
    PARSE();
    ASSERT_OK;
    assert_int_equal(f->m->queues[0].skills[0].skill, 2);
}

/* Many anchors and aliases: each alias finds its own anchor. */
static void many_anchors(void **state)
{
    F;
    put(f, "version: 1\nskills:\n");
    for (int i = 0; i < 3000; i++) {
        put(f, "  - &k%d s%d\n", i, i);
    }
    put(f, "queues:\n  q: { channels: voice }\nagents:\n");
    for (int i = 0; i < 3000; i++) {
        put(f, "  - { id: a%d, skills: { *k%d : 2 } }\n", i, 2999 - i);
    }
    PARSE();
    ASSERT_OK;
    for (int i = 0; i < 3000; i++) {
        assert_int_equal(f->m->agents[i].skills[0].skill, 2999 - i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(long_lists_keep_their_order, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_key_in_a_large_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_keys_around_the_index_size, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_names_in_long_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(many_holidays, setup, teardown),
        cmocka_unit_test_setup_teardown(long_overflow_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(chain_into_a_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(anchor_named_twice_means_the_later, setup, teardown),
        cmocka_unit_test_setup_teardown(many_anchors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
