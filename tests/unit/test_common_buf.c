/* common/buf: the byte codec every binary format stands on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"

struct fixture
{
    struct cd_buf b;
    struct cd_reader r;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    cd_buf_init(&f.b);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cd_buf_close(&f->b);
    return 0;
}

#define F struct fixture *f = *state
#define READ_BACK cd_reader_init(&f->r, f->b.data, f->b.len)
#define READ_BYTES(...)                                \
    do {                                               \
        static const uint8_t bytes_[] = {__VA_ARGS__}; \
        cd_reader_init(&f->r, bytes_, sizeof(bytes_)); \
    } while (0)

static void uvar_round_trips_edge_values(void **state)
{
    F;
    const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        cd_buf_uvar(&f->b, values[i]);
    }
    READ_BACK;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(cd_rd_uvar(&f->r), values[i]);
    }
    assert_int_equal(f->r.err, 0);
    assert_int_equal(cd_rd_left(&f->r), 0);
}

static void svar_round_trips_signs(void **state)
{
    F;
    const int64_t values[] = {0, -1, 1, -64, 64, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        cd_buf_svar(&f->b, values[i]);
    }
    assert_int_equal(f->b.data[1], 1); /* -1 zigzags to one byte */
    READ_BACK;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(cd_rd_svar(&f->r), values[i]);
    }
    assert_int_equal(f->r.err, 0);
}

static void padded_varint_is_corrupt(void **state)
{
    F;
    READ_BYTES(0x85, 0x00); /* 5 with an empty high group */
    assert_int_equal(cd_rd_uvar(&f->r), 0);
    assert_int_equal(f->r.err, CD_ECORRUPT);
}

static void varint_past_64_bits_is_corrupt(void **state)
{
    F;
    READ_BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
    cd_rd_uvar(&f->r);
    assert_int_equal(f->r.err, CD_ECORRUPT);
}

static void truncated_input_is_corrupt_and_sticky(void **state)
{
    F;
    READ_BYTES(0x80);
    assert_int_equal(cd_rd_uvar(&f->r), 0);
    assert_int_equal(f->r.err, CD_ECORRUPT);
    assert_int_equal(cd_rd_u8(&f->r), 0);
    assert_int_equal(cd_rd_left(&f->r), 0);
}

static void strings_point_into_the_input(void **state)
{
    F;
    cd_buf_str(&f->b, "sales");
    cd_buf_str(&f->b, NULL);
    READ_BACK;
    size_t len;
    const char *s = cd_rd_str(&f->r, &len);
    assert_string_equal(s, "sales");
    assert_int_equal(len, 5);
    assert_ptr_equal(s, (const char *)f->b.data + 1);
    assert_string_equal(cd_rd_str(&f->r, NULL), "");
    assert_int_equal(f->r.err, 0);
}

static void string_with_inner_nul_is_corrupt(void **state)
{
    F;
    READ_BYTES(3, 'a', 0, 'b', 0);
    assert_string_equal(cd_rd_str(&f->r, NULL), "");
    assert_int_equal(f->r.err, CD_ECORRUPT);
}

static void strcpy_refuses_what_does_not_fit(void **state)
{
    F;
    char small[4];
    cd_buf_str(&f->b, "toolong");
    READ_BACK;
    cd_rd_strcpy(&f->r, small, sizeof(small));
    assert_string_equal(small, "");
    assert_int_equal(f->r.err, CD_ECORRUPT);
}

static void range_reads_reject_out_of_range(void **state)
{
    F;
    cd_buf_uvar(&f->b, 11);
    cd_buf_svar(&f->b, -3);
    cd_buf_uvar(&f->b, 2);
    READ_BACK;
    assert_int_equal(cd_rd_uint(&f->r, 10), 0);
    assert_int_equal(f->r.err, CD_ECORRUPT);
    READ_BACK;
    f->r.err = 0;
    assert_int_equal(cd_rd_uint(&f->r, 11), 11);
    assert_int_equal(cd_rd_int(&f->r, -3, 3), -3);
    assert_false(cd_rd_bool(&f->r));
    assert_int_equal(f->r.err, CD_ECORRUPT);
}

static void fixed_array_without_nul_is_invalid(void **state)
{
    F;
    char name[3] = {'a', 'b', 'c'};
    int err = 0;
    cd_buf_fixed(&f->b, name, sizeof(name), &err);
    assert_int_equal(err, CD_EINVAL);
    READ_BACK;
    assert_string_equal(cd_rd_str(&f->r, NULL), "");
}

static void fixed_width_integers_are_little_endian(void **state)
{
    F;
    cd_buf_u16(&f->b, 0x0102);
    cd_buf_u32(&f->b, 0x03040506);
    cd_buf_u64(&f->b, 0x0708090a0b0c0d0eULL);
    assert_int_equal(f->b.data[0], 0x02);
    assert_int_equal(f->b.data[2], 0x06);
    READ_BACK;
    assert_int_equal(cd_rd_u16(&f->r), 0x0102);
    assert_int_equal(cd_rd_u32(&f->r), 0x03040506);
    assert_int_equal(cd_rd_u64(&f->r), 0x0708090a0b0c0d0eULL);
}

static void hash_is_stable_across_builds(void **state)
{
    (void)state;
    /* Digests are compared between nodes and across versions: these values must never
     * change. */
    assert_int_equal(cd_hash_str("sales"), 0xafb7f4d819593b0cULL);
    assert_int_equal(cd_hash64("0123456789abcdef!", 17, 42), 0x2c00605be92ad513ULL);
    assert_int_equal(cd_hash_str(""), cd_hash64("", 0, 0));
    assert_true(cd_hash_str("sales") != cd_hash_str("salet"));
    assert_true(cd_hash64("ab", 2, 0) != cd_hash64("ab\0", 3, 0));
    assert_int_equal(cd_mix64(0), 0);
}

static void strerror_names_every_code(void **state)
{
    (void)state;
    assert_string_equal(cd_strerror(CD_ESTALE), "offer is no longer open");
    assert_string_equal(cd_errname(CD_ENOTFOUND), "NOTFOUND");
    assert_string_equal(cd_strerror(0), "success");
    assert_string_equal(cd_strerror(-999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(uvar_round_trips_edge_values, setup, teardown),
        cmocka_unit_test_setup_teardown(svar_round_trips_signs, setup, teardown),
        cmocka_unit_test_setup_teardown(padded_varint_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(varint_past_64_bits_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_input_is_corrupt_and_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(strings_point_into_the_input, setup, teardown),
        cmocka_unit_test_setup_teardown(string_with_inner_nul_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(strcpy_refuses_what_does_not_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(range_reads_reject_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_array_without_nul_is_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_width_integers_are_little_endian, setup,
                                        teardown),
        cmocka_unit_test(hash_is_stable_across_builds),
        cmocka_unit_test(strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
