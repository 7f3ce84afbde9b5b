/* PRIVACY_ERASE (engine/privacy.c): one attribute value taken out of every live contact that
 * holds it, the same on every node; counted in the result; audited without the value; and
 * the command's binary form round-trips. */
#define _GNU_SOURCE /* memmem */
#include "engine_fixture.h"

#define PHONE "+44-7700-900-PRIV"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "q", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "q");
    MODEL_INSTALL;
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static uint64_t create(struct fixture *f, const char *phone, const char *tier)
{
    struct engine_attr attrs[] = {{"tier", tier}, {"phone", phone}};
    return fx_create_ok(f, "q", ENGINE_CH_EMAIL, 0, 2, attrs);
}

static int erase(struct fixture *f, const char *key, const char *value)
{
    struct engine_command c = {.kind = ENGINE_CMD_PRIVACY_ERASE, .actor = "token:ops"};
    c.u.erase.key = key;
    c.u.erase.value = value;
    return fx_apply(f, &c);
}

static const char *attr(struct fixture *f, uint64_t id, const char *key)
{
    static struct engine_contact_info info;
    assert_int_equal(engine_contact_get(f->e, id, &info), 0);
    for (unsigned i = 0; i < info.n_attrs; i++) {
        if (strcmp(info.attrs[i].key, key) == 0) {
            return info.attrs[i].value;
        }
    }
    return NULL;
}

TEST(erase_takes_the_value_out_of_every_contact_holding_it)
{
    f->check = true;
    uint64_t a = create(f, PHONE, "gold");
    uint64_t b = create(f, "+44-1", "gold");
    uint64_t c = create(f, PHONE, "silver");
    EXPECT_OK(erase(f, "phone", PHONE));
    assert_int_equal(f->res.contact, 2);
    assert_null(attr(f, a, "phone"));
    assert_string_equal(attr(f, a, "tier"), "gold");
    assert_string_equal(attr(f, b, "phone"), "+44-1");
    assert_null(attr(f, c, "phone"));
    assert_string_equal(attr(f, c, "tier"), "silver");
    /* Audited under the key only: the value is in no effect. */
    assert_int_equal(f->n_fx - f->mark, 1);
    struct fx_effect *x = &f->fx[f->mark];
    assert_int_equal(x->kind, ENGINE_FX_AUDIT);
    assert_int_equal(x->state, ENGINE_CMD_PRIVACY_ERASE);
    assert_string_equal(x->object, "attr:phone");
    assert_string_equal(x->text, "token:ops");
    for (size_t i = 0; i < f->n_fx; i++) {
        assert_null(strstr(f->fx[i].text, PHONE));
        assert_null(strstr(f->fx[i].object, PHONE));
    }
    /* Again: nothing left to erase, still a success. */
    EXPECT_OK(erase(f, "phone", PHONE));
    assert_int_equal(f->res.contact, 0);
}

TEST(erase_of_the_only_attribute_leaves_none)
{
    f->check = true;
    struct engine_attr one[] = {{"phone", PHONE}};
    uint64_t a = fx_create_ok(f, "q", ENGINE_CH_SMS, 0, 1, one);
    EXPECT_OK(erase(f, "phone", PHONE));
    struct engine_contact_info info;
    assert_int_equal(engine_contact_get(f->e, a, &info), 0);
    assert_int_equal(info.n_attrs, 0);
}

TEST(erase_matches_the_key_and_the_exact_value)
{
    uint64_t a = create(f, PHONE, PHONE);
    EXPECT_OK(erase(f, "phone", "+44-7700"));
    assert_int_equal(f->res.contact, 0);
    EXPECT_OK(erase(f, "tier", PHONE));
    assert_int_equal(f->res.contact, 1);
    assert_string_equal(attr(f, a, "phone"), PHONE);
    assert_null(attr(f, a, "tier"));
}

TEST(erase_refuses_a_bad_key_or_value)
{
    char longv[ENGINE_VALUE_MAX + 1];
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = 0;
    assert_int_equal(erase(f, "", PHONE), CD_EINVAL);
    assert_int_equal(erase(f, "a key", PHONE), CD_EINVAL);
    assert_int_equal(erase(f, "phone", ""), CD_EINVAL);
    assert_int_equal(erase(f, "phone", NULL), CD_EINVAL);
    assert_int_equal(erase(f, "phone", longv), CD_EINVAL);
    assert_int_equal(f->n_fx, f->mark); /* a refused command is not audited */
}

/* Two states that applied the same commands are equal after the erase too. */
TEST(erase_is_deterministic_and_round_trips)
{
    create(f, PHONE, "gold");
    create(f, "+1", "gold");
    uint64_t before = engine_digest(f->e);
    struct engine_command c = {.kind = ENGINE_CMD_PRIVACY_ERASE, .actor = "token:ops"};
    c.u.erase.key = "phone";
    c.u.erase.value = PHONE;
    struct cd_buf buf;
    cd_buf_init(&buf);
    assert_int_equal(engine_command_encode(&c, &buf), 0);
    struct engine_command out;
    struct engine_cmd_store store;
    engine_cmd_store_init(&store);
    assert_int_equal(engine_command_decode(buf.data, buf.len, &out, &store), 0);
    assert_int_equal(out.kind, ENGINE_CMD_PRIVACY_ERASE);
    assert_string_equal(out.u.erase.key, "phone");
    assert_string_equal(out.u.erase.value, PHONE);
    assert_string_equal(engine_cmd_name(ENGINE_CMD_PRIVACY_ERASE), "privacy_erase");
    EXPECT_OK(fx_apply(f, &out));
    assert_true(engine_digest(f->e) != before);
    /* The snapshot of the erased state decodes to the same digest. */
    struct cd_buf snap;
    cd_buf_init(&snap);
    assert_int_equal(engine_encode(f->e, &snap), 0);
    struct engine *copy;
    assert_int_equal(engine_decode(snap.data, snap.len, &copy), 0);
    assert_int_equal(engine_digest(copy), engine_digest(f->e));
    assert_null(memmem(snap.data, snap.len, PHONE, strlen(PHONE)));
    engine_free(copy);
    cd_buf_close(&snap);
    engine_cmd_store_close(&store);
    cd_buf_close(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(erase_takes_the_value_out_of_every_contact_holding_it),
        FX_TEST(erase_of_the_only_attribute_leaves_none),
        FX_TEST(erase_matches_the_key_and_the_exact_value),
        FX_TEST(erase_refuses_a_bad_key_or_value),
        FX_TEST(erase_is_deterministic_and_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
