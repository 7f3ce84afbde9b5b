/* What reports read from the routing model: a queue's service-level formula, its short
 * abandons and thresholds, and the model's report zone. Validation refuses what engine.h
 * rules out; the binary form writes them as format 4 only when one is set, so a model
 * without them encodes to the bytes it always did and a format-4 model whose reports part
 * says nothing is refused; a snapshot carries them in each queue's definition, retired
 * queues' too; the queue view (engine_queue_get) shows them to the wallboard. */
#include "engine/internal.h"
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_zone(f, "Europe/London", 0);
    fx_queue(f, "sales", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "chat", ENGINE_CH_BIT(ENGINE_CH_CHAT), ENGINE_STRATEGY_LEAST_OCCUPIED);
    fx_queue(f, "mail", ENGINE_CH_BIT(ENGINE_CH_EMAIL), ENGINE_STRATEGY_BEST_SKILL);
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static void set_reports(struct fixture *f)
{
    f->m.report_zone = 0;
    Q("sales")->sl_formula = ENGINE_SL_OFFERED;
    Q("sales")->short_abandon_s = 7;
    Q("sales")->thresholds = (struct engine_thresholds){80, 60, 10, 20, 60, 120};
    Q("chat")->sl_formula = ENGINE_SL_SHORT_EXCLUDED;
    Q("mail")->thresholds.wait_alarm_s = 86400;
}

static void clear_reports(struct fixture *f)
{
    f->m.report_zone = -1;
    for (uint32_t i = 0; i < f->m.n_queues; i++) {
        f->m.queues[i].sl_formula = 0;
        f->m.queues[i].short_abandon_s = 0;
        memset(&f->m.queues[i].thresholds, 0, sizeof(f->m.queues[i].thresholds));
    }
}

static void assert_reports_equal(const struct engine_queue *a, const struct engine_queue *b)
{
    assert_int_equal(a->sl_formula, b->sl_formula);
    assert_int_equal(a->short_abandon_s, b->short_abandon_s);
    assert_int_equal(a->thresholds.sl_warn, b->thresholds.sl_warn);
    assert_int_equal(a->thresholds.sl_alarm, b->thresholds.sl_alarm);
    assert_int_equal(a->thresholds.waiting_warn, b->thresholds.waiting_warn);
    assert_int_equal(a->thresholds.waiting_alarm, b->thresholds.waiting_alarm);
    assert_int_equal(a->thresholds.wait_warn_s, b->thresholds.wait_warn_s);
    assert_int_equal(a->thresholds.wait_alarm_s, b->thresholds.wait_alarm_s);
}

static void encode(const struct engine_model *m, struct cd_buf *b)
{
    cd_buf_reset(b);
    assert_int_equal(engine_model_encode(m, b), 0);
}

/* Decodes all of b into out (initialised by the decoder) and checks that it encodes back
 * to the same bytes. */
static void decode_canonical(const struct cd_buf *b, struct engine_model *out)
{
    struct cd_reader r;
    struct cd_buf again;
    cd_reader_init(&r, b->data, b->len);
    assert_int_equal(engine_model_decode(&r, out), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    cd_buf_init(&again);
    encode(out, &again);
    assert_int_equal(again.len, b->len);
    assert_memory_equal(again.data, b->data, b->len);
    cd_buf_close(&again);
}

static int decode_status(const struct cd_buf *b)
{
    struct cd_reader r;
    struct engine_model m;
    cd_reader_init(&r, b->data, b->len);
    int rc = engine_model_decode(&r, &m);
    engine_model_close(&m);
    return rc;
}

/* ---- Validation --------------------------------------------------------------------- */

#define REJECTS(change, message)                                                       \
    do {                                                                               \
        char err_[256];                                                                \
        clear_reports(f), set_reports(f);                                              \
        change;                                                                        \
        assert_int_equal(engine_model_validate(&f->m, err_, sizeof(err_)), CD_EINVAL); \
        assert_string_equal(err_, (message));                                          \
    } while (0)
#define ACCEPTS(...)                                                 \
    do {                                                             \
        char err_[256];                                              \
        clear_reports(f), set_reports(f);                            \
        __VA_ARGS__;                                                 \
        if (engine_model_validate(&f->m, err_, sizeof(err_)) != 0) { \
            fail_msg("%s: refused: %s", #__VA_ARGS__, err_);         \
        }                                                            \
    } while (0)

TEST(validation_refuses_what_engine_h_rules_out)
{
    REJECTS(Q("sales")->sl_formula = ENGINE_SL_FORMULA_COUNT,
            "queue 'sales': sl_formula 3 unknown");
    REJECTS(Q("chat")->short_abandon_s = ENGINE_SHORT_ABANDON_MAX + 1,
            "queue 'chat': short_abandon_s 601 above 600");
    REJECTS(Q("sales")->thresholds.sl_warn = 101,
            "queue 'sales': sl_warn 101 or sl_alarm 60 above 100");
    REJECTS(Q("mail")->thresholds.sl_alarm = 101,
            "queue 'mail': sl_warn 0 or sl_alarm 101 above 100");
    REJECTS(Q("sales")->thresholds.sl_alarm = 80,
            "queue 'sales': sl_alarm 80 not below sl_warn 80");
    REJECTS(Q("sales")->thresholds.waiting_alarm = 9,
            "queue 'sales': waiting_alarm 9 not above waiting_warn 10");
    REJECTS(Q("sales")->thresholds.wait_alarm_s = 60,
            "queue 'sales': wait_alarm_s 60 not above wait_warn_s 60");
    REJECTS(f->m.report_zone = 1, "model: report_zone 1 out of range");
    REJECTS(f->m.report_zone = -2, "model: report_zone -2 out of range");
}

TEST(validation_accepts_each_alone_and_the_edges)
{
    ACCEPTS((void)0);
    ACCEPTS(clear_reports(f));
    ACCEPTS(Q("sales")->thresholds.sl_warn = 0);
    ACCEPTS(Q("sales")->thresholds.sl_alarm = 0);
    ACCEPTS(Q("sales")->thresholds.waiting_warn = 0);
    ACCEPTS(Q("sales")->thresholds.wait_alarm_s = 0);
    ACCEPTS(Q("sales")->thresholds = (struct engine_thresholds){100, 99, 1, 2, 1, 2});
    ACCEPTS(Q("sales")->short_abandon_s = ENGINE_SHORT_ABANDON_MAX);
    ACCEPTS(f->m.report_zone = -1);
}

TEST(formula_names)
{
    (void)f;
    assert_string_equal(engine_sl_formula_name(ENGINE_SL_ANSWERED_ABANDONED),
                        "answered_abandoned");
    assert_string_equal(engine_sl_formula_name(ENGINE_SL_OFFERED), "offered");
    assert_string_equal(engine_sl_formula_name(ENGINE_SL_SHORT_EXCLUDED), "short_excluded");
    assert_null(engine_sl_formula_name(ENGINE_SL_FORMULA_COUNT));
    assert_null(engine_sl_formula_name(-1));
    assert_int_equal(engine_sl_formula_parse("offered"), ENGINE_SL_OFFERED);
    assert_int_equal(engine_sl_formula_parse("Offered"), -1);
    assert_int_equal(engine_sl_formula_parse(NULL), -1);
}

/* ---- Binary form -------------------------------------------------------------------- */

TEST(format_4_round_trips)
{
    struct cd_buf b;
    struct engine_model back, copy;
    set_reports(f);
    cd_buf_init(&b);
    encode(&f->m, &b);
    assert_int_equal(b.data[0], 4);
    decode_canonical(&b, &back);
    assert_int_equal(back.report_zone, 0);
    for (uint32_t i = 0; i < f->m.n_queues; i++) {
        assert_reports_equal(&back.queues[i], &f->m.queues[i]);
    }
    engine_model_init(&copy);
    assert_int_equal(engine_model_copy(&copy, &back), 0);
    assert_int_equal(copy.report_zone, 0);
    assert_reports_equal(&copy.queues[0], &f->m.queues[0]);
    engine_model_close(&copy);
    engine_model_close(&back);
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes, so that ASan sees any read past the end. */
        struct cd_buf cut = {.data = malloc(n + 1), .len = n};
        assert_non_null(cut.data);
        memcpy(cut.data, b.data, n);
        assert_int_equal(decode_status(&cut), CD_ECORRUPT);
        free(cut.data);
    }
    cd_buf_close(&b);
}

/* One setting alone is enough for format 4: the report zone, or one number of one queue. */
TEST(any_one_setting_makes_format_4)
{
    struct cd_buf b;
    struct engine_model back;
    cd_buf_init(&b);
    encode(&f->m, &b);
    assert_int_equal(b.data[0], 1);
    f->m.report_zone = 0;
    encode(&f->m, &b);
    assert_int_equal(b.data[0], 4);
    decode_canonical(&b, &back);
    assert_int_equal(back.report_zone, 0);
    engine_model_close(&back);
    f->m.report_zone = -1;
    for (int field = 0; field < 8; field++) {
        struct engine_queue *q = Q("mail");
        uint32_t *numbers[] = {&q->short_abandon_s, &q->thresholds.waiting_warn,
                               &q->thresholds.waiting_alarm, &q->thresholds.wait_warn_s,
                               &q->thresholds.wait_alarm_s};
        clear_reports(f);
        if (field < 5) {
            *numbers[field] = 1;
        } else if (field == 5) {
            q->thresholds.sl_warn = 1;
        } else if (field == 6) {
            q->thresholds.sl_alarm = 1;
        } else {
            q->sl_formula = ENGINE_SL_OFFERED;
        }
        encode(&f->m, &b);
        assert_int_equal(b.data[0], 4);
        decode_canonical(&b, &back);
        assert_int_equal(back.report_zone, -1);
        assert_reports_equal(&back.queues[2], q);
        engine_model_close(&back);
    }
    cd_buf_close(&b);
}

/* A model without any of it encodes to the bytes it did before format 4 (the same model
 * with the settings zeroed); with them, format 4 is format 3's bytes and then the reports
 * part, whatever format the model needed otherwise. */
TEST(models_without_them_keep_their_bytes)
{
    struct cd_buf before, with, after;
    cd_buf_init(&before);
    cd_buf_init(&with);
    cd_buf_init(&after);
    for (int variant = 0; variant < 3; variant++) {
        if (variant == 1) {
            fx_copy_str(f->m.personal[f->m.n_personal++], ENGINE_KEY_MAX, "phone");
        } else if (variant == 2) {
            fx_copy_str(f->m.away[f->m.n_away++], ENGINE_VALUE_MAX, "lunch");
        }
        clear_reports(f);
        encode(&f->m, &before);
        assert_int_equal(before.data[0], variant + 1);
        set_reports(f);
        encode(&f->m, &with);
        assert_int_equal(with.data[0], 4);
        clear_reports(f);
        encode(&f->m, &after);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.data, before.data, before.len);
        if (variant == 2) {
            /* The format-3 part, unchanged, before the reports part. */
            assert_true(with.len > before.len);
            assert_memory_equal(with.data + 1, before.data + 1, before.len - 1);
        }
    }
    cd_buf_close(&before);
    cd_buf_close(&with);
    cd_buf_close(&after);
}

/* The model's format-1 bytes with an empty format-3 part and the given reports part. */
static void forge_format_4(struct fixture *f, struct cd_buf *b, int64_t zone, uint32_t short_s)
{
    clear_reports(f);
    encode(&f->m, b);
    assert_int_equal(b->data[0], 1);
    b->data[0] = 4;
    for (int i = 0; i < 6;
         i++) { /* personal, away, dispositions, required, reconnect, entries */
        cd_buf_uvar(b, 0);
    }
    cd_buf_svar(b, zone);
    for (uint32_t i = 0; i < f->m.n_queues; i++) {
        cd_buf_uvar(b, 0);                    /* sl_formula */
        cd_buf_uvar(b, i == 1 ? short_s : 0); /* short_abandon_s */
        for (int j = 0; j < 6; j++) {         /* thresholds */
            cd_buf_uvar(b, 0);
        }
    }
}

TEST(a_format_4_that_says_nothing_is_refused)
{
    struct cd_buf b;
    struct engine_model back;
    cd_buf_init(&b);
    forge_format_4(f, &b, -1, 0);
    assert_int_equal(decode_status(&b), CD_ECORRUPT);
    /* The same forgery with one thing set is the canonical form of that model. */
    forge_format_4(f, &b, 0, 0);
    decode_canonical(&b, &back);
    assert_int_equal(back.report_zone, 0);
    engine_model_close(&back);
    forge_format_4(f, &b, -1, 5);
    decode_canonical(&b, &back);
    assert_int_equal(back.queues[1].short_abandon_s, 5);
    engine_model_close(&back);
    /* A value past its field's type is corrupt, not cut down. */
    forge_format_4(f, &b, INT64_C(1) << 31, 0);
    assert_int_equal(decode_status(&b), CD_ECORRUPT);
    forge_format_4(f, &b, -1, UINT32_MAX);
    decode_canonical(&b, &back);
    engine_model_close(&back);
    /* Format 5 adds the continuity part after it: without it, the bytes are cut short. */
    forge_format_4(f, &b, 0, 0);
    b.data[0] = 5;
    assert_int_equal(decode_status(&b), CD_ECORRUPT);
    /* An unknown format after 6 (6 adds runbooks after the continuity part). */
    b.data[0] = 7;
    assert_int_equal(decode_status(&b), CD_EVERSION);
    cd_buf_close(&b);
}

/* ---- Snapshots ---------------------------------------------------------------------- */

static const struct engine_queue *live_def(struct engine *e, const char *name)
{
    int qi = engine__queue_id(e, name);
    assert_true(qi >= 0);
    return &e->queues[qi].def;
}

TEST(snapshots_keep_them_in_each_queue_definition)
{
    set_reports(f);
    MODEL_INSTALL;
    /* Version 2 leaves mail out: it retires, keeping the definition it had. */
    f->m.n_queues = 2;
    Q("sales")->thresholds.waiting_alarm = 25;
    MODEL_INSTALL;
    f->m.n_queues = 3;
    struct engine *copy = fx_snapshot_copy(f);
    const char *names[] = {"sales", "chat", "mail"};
    for (int i = 0; i < 3; i++) {
        assert_reports_equal(live_def(copy, names[i]), live_def(f->e, names[i]));
        assert_reports_equal(live_def(copy, names[i]), &f->m.queues[i]);
    }
    assert_int_equal(live_def(copy, "sales")->thresholds.waiting_alarm, 25);
    assert_true(copy->queues[engine__queue_id(copy, "mail")].retired);
    assert_int_equal(engine_model(copy)->report_zone, 0);
    assert_int_equal(engine_model(copy)->n_queues, 2);
    engine_free(copy);
}

/* ---- What the API shows of them ------------------------------------------------------ */

static struct engine_queue_info queue_info(struct fixture *f, const char *name)
{
    struct engine_queue_info q;
    assert_int_equal(engine_queue_get(f->e, name, &q), 0);
    return q;
}

static void assert_thresholds(const struct engine_thresholds *t, const uint32_t want[6])
{
    assert_int_equal(t->sl_warn, want[0]);
    assert_int_equal(t->sl_alarm, want[1]);
    assert_int_equal(t->waiting_warn, want[2]);
    assert_int_equal(t->waiting_alarm, want[3]);
    assert_int_equal(t->wait_warn_s, want[4]);
    assert_int_equal(t->wait_alarm_s, want[5]);
}

/* The wallboard reads a queue's goal and thresholds, and each agent's queues and the time
 * its state began, from engine_queue_get() and engine_agent_get(). */
TEST(queue_and_agent_views_show_them)
{
    set_reports(f);
    Q("sales")->sl_target_s = 15;
    Q("sales")->sl_percent = 90;
    AGENT("ann", "sales", "mail");
    MODEL_INSTALL;
    struct engine_queue_info q = queue_info(f, "sales");
    assert_int_equal(q.sl_target_s, 15);
    assert_int_equal(q.sl_percent, 90);
    assert_int_equal(q.sl_formula, ENGINE_SL_OFFERED);
    assert_thresholds(&q.thresholds, (const uint32_t[6]){80, 60, 10, 20, 60, 120});
    q = queue_info(f, "chat");
    assert_int_equal(q.sl_target_s, 20);
    assert_int_equal(q.sl_percent, 80);
    assert_int_equal(q.sl_formula, ENGINE_SL_SHORT_EXCLUDED);
    assert_thresholds(&q.thresholds, (const uint32_t[6]){0, 0, 0, 0, 0, 0});
    struct engine_agent_info a;
    AFTER(5 * FX_SEC);
    LOGIN("ann");
    int64_t login = f->now;
    AFTER(7 * FX_SEC);
    assert_int_equal(engine_agent_get(f->e, "ann", &a), 0);
    assert_int_equal(a.n_queues, 2);
    assert_string_equal(a.queues[0], "sales");
    assert_string_equal(a.queues[1], "mail");
    assert_int_equal(a.state, ENGINE_AGENT_AVAILABLE);
    assert_int_equal(a.state_since, login);
    /* Version 2 leaves mail out: the retired queue shows the definition it had. */
    A("ann")->n_queues = 1;
    f->m.n_queues = 2;
    MODEL_INSTALL;
    q = queue_info(f, "mail");
    assert_true(q.retired);
    assert_thresholds(&q.thresholds, (const uint32_t[6]){0, 0, 0, 0, 0, 86400});
    assert_int_equal(engine_agent_get(f->e, "ann", &a), 0);
    assert_int_equal(a.n_queues, 1);
    assert_string_equal(a.queues[0], "sales");
    f->m.n_queues = 3;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(validation_refuses_what_engine_h_rules_out),
        FX_TEST(validation_accepts_each_alone_and_the_edges),
        FX_TEST(formula_names),
        FX_TEST(format_4_round_trips),
        FX_TEST(any_one_setting_makes_format_4),
        FX_TEST(models_without_them_keep_their_bytes),
        FX_TEST(a_format_4_that_says_nothing_is_refused),
        FX_TEST(snapshots_keep_them_in_each_queue_definition),
        FX_TEST(queue_and_agent_views_show_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
