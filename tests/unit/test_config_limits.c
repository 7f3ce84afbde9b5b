/* The bounds on one document: bytes, nodes (aliases expanded) and nesting depth, for the
 * routing model and the node file. Each bound is checked at the limit (the reader accepts
 * the document, and the first error is a schema error) and one past it (refused with the
 * position where the document crosses the limit, and a message naming it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"
#include "tmpdir.h"

struct fixture
{
    struct config_model cm;
    struct config_node node;
    char *text; /* the document being built */
    size_t len;
    size_t cap;
    char dir[64];
    char err[1024];
    int rv;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    unsetenv("CONTACTD_ZONEINFO");
    config_model_init(&f->cm);
    snprintf(f->dir, sizeof(f->dir), "/tmp/cd-limits-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_model_close(&f->cm);
    rm_tree(f->dir);
    free(f->text);
    free(f);
    return 0;
}

#define F struct fixture *f = *state

/* Appends n copies of s to the document. */
static void put(struct fixture *f, const char *s, size_t n)
{
    size_t l = strlen(s);
    if (f->len + l * n + 1 > f->cap) {
        f->cap = (f->len + l * n + 1) * 2;
        f->text = realloc(f->text, f->cap);
        assert_non_null(f->text);
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(f->text + f->len, s, l);
        f->len += l;
    }
    f->text[f->len] = 0;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void reset(struct fixture *f)
{
    f->len = 0;
    if (f->text != NULL) {
        f->text[0] = 0;
    }
}

#define PARSE_MODEL() \
    (f->rv = config_model_parse("model.yaml", f->text, f->len, &f->cm, f->err, sizeof(f->err)))
#define PARSE_NODE() \
    (f->rv = config_node_parse("node.yaml", f->text, f->len, &f->node, f->err, sizeof(f->err)))
#define ASSERT_ERROR(msg)                   \
    do {                                    \
        assert_int_equal(f->rv, CD_EPARSE); \
        assert_string_equal(f->err, (msg)); \
    } while (0)
/* The reader took the document: what stops it is the schema (unknown key 'x'). */
#define ASSERT_READ()                                                                    \
    do {                                                                                 \
        assert_int_equal(f->rv, CD_EPARSE);                                              \
        assert_string_equal(                                                             \
            f->err,                                                                      \
            "model.yaml:1:1: unknown key 'x' (expected one of: "                         \
            "version, skills, defaults, hours, queues, agents, "                         \
            "rules, runbooks, personal, away_reasons, dispositions, chat, continuity)"); \
    } while (0)

#define BASE                    \
    "version: 1\n"              \
    "skills: [sales, french]\n" \
    "queues:\n"                 \
    "  sales:\n"                \
    "    channels: voice\n"

/* BASE and a comment line that brings the document to exactly len bytes. */
static void padded_model(struct fixture *f, size_t len)
{
    reset(f);
    put(f, BASE "#", 1);
    put(f, "x", len - f->len - 1);
    put(f, "\n", 1);
    assert_int_equal(f->len, len);
}

static void model_of_the_largest_size_is_read(void **state)
{
    F;
    padded_model(f, CONFIG_MODEL_BYTES_MAX);
    PARSE_MODEL();
    assert_int_equal(f->rv, 0);
    assert_int_equal(f->cm.model.n_queues, 1);
}

static void model_one_byte_larger_is_refused_where_it_crosses(void **state)
{
    F;
    padded_model(f, CONFIG_MODEL_BYTES_MAX + 1);
    PARSE_MODEL();
    char want[128];
    /* Byte 4194305 is on line 6 (the comment), which starts after BASE. */
    snprintf(want, sizeof(want), "model.yaml:6:%zu: document too large: more than %u bytes",
             (size_t)CONFIG_MODEL_BYTES_MAX - strlen(BASE) + 1, CONFIG_MODEL_BYTES_MAX);
    ASSERT_ERROR(want);
    assert_int_equal(f->cm.model.n_queues, 0);
}

/* A file far beyond the limit is read only up to it. */
static void model_file_too_large(void **state)
{
    F;
    char path[128];
    snprintf(path, sizeof(path), "%s/model.yaml", f->dir);
    padded_model(f, CONFIG_MODEL_BYTES_MAX + 4096);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f->text, 1, f->len, fp), f->len);
    fclose(fp);
    f->rv = config_model_load(path, &f->cm, f->err, sizeof(f->err));
    char want[256];
    snprintf(want, sizeof(want), "%s:6:%zu: document too large: more than %u bytes", path,
             (size_t)CONFIG_MODEL_BYTES_MAX - strlen(BASE) + 1, CONFIG_MODEL_BYTES_MAX);
    ASSERT_ERROR(want);
}

/* "x: [a,a,...]" holds n + 3 nodes: the mapping, its key, the list and n scalars. */
static void flat_list(struct fixture *f, size_t n)
{
    reset(f);
    put(f, "x: [a", 1);
    put(f, ",a", n - 1);
    put(f, "]\n", 1);
}

static void model_of_the_most_nodes_is_read(void **state)
{
    F;
    flat_list(f, CONFIG_MODEL_NODES_MAX - 3);
    PARSE_MODEL();
    ASSERT_READ();
}

static void model_with_one_node_more_is_refused(void **state)
{
    F;
    flat_list(f, CONFIG_MODEL_NODES_MAX - 2);
    PARSE_MODEL();
    char want[192];
    /* The last scalar crosses the limit: column 5 + 2 * (n - 1). */
    snprintf(want, sizeof(want),
             "model.yaml:1:%u: document too large: more than %u nodes (scalars and "
             "collections, aliases counted as expanded)",
             5 + 2 * (CONFIG_MODEL_NODES_MAX - 3), CONFIG_MODEL_NODES_MAX);
    ASSERT_ERROR(want);
}

/* Ten copies of ten copies ... of a list of ten: over a million nodes from a few hundred
 * bytes. */
static void alias_expansion_is_bounded(void **state)
{
    F;
    reset(f);
    put(f, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n", 1);
    for (int i = 1; i <= 5; i++) {
        char line[128];
        snprintf(line, sizeof(line),
                 "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i,
                 i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        put(f, line, 1);
    }
    PARSE_MODEL();
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "document too large: more than 1000000 nodes"));
    assert_true(starts_with(f->err, "model.yaml:6:"));
}

/* "x: [[[...]]]": the root mapping and n lists, n + 1 levels. */
static void nested(struct fixture *f, size_t n)
{
    reset(f);
    put(f, "x: ", 1);
    put(f, "[", n);
    put(f, "]", n);
    put(f, "\n", 1);
}

static void model_of_the_largest_depth_is_read(void **state)
{
    F;
    nested(f, CONFIG_MODEL_DEPTH_MAX - 1);
    PARSE_MODEL();
    ASSERT_READ();
}

static void model_one_level_deeper_is_refused(void **state)
{
    F;
    nested(f, CONFIG_MODEL_DEPTH_MAX);
    PARSE_MODEL();
    char want[128];
    snprintf(want, sizeof(want), "model.yaml:1:%u: nesting deeper than %u levels",
             3 + CONFIG_MODEL_DEPTH_MAX, CONFIG_MODEL_DEPTH_MAX);
    ASSERT_ERROR(want);
}

/* A deep anchored list copied into a deep place is as deep as both together. */
static void alias_depth_is_bounded(void **state)
{
    F;
    const unsigned inner = 20, outer = CONFIG_MODEL_DEPTH_MAX - inner - 1;
    for (unsigned extra = 0; extra < 2; extra++) {
        reset(f);
        put(f, "x: &a ", 1);
        put(f, "[", inner);
        put(f, "]", inner);
        put(f, "\ny: ", 1);
        put(f, "[", outer + extra);
        put(f, "*a", 1);
        put(f, "]", outer + extra);
        put(f, "\n", 1);
        config_model_close(&f->cm);
        PARSE_MODEL();
        if (extra == 0) {
            ASSERT_READ();
        } else {
            char want[128];
            snprintf(want, sizeof(want),
                     "model.yaml:2:%u: nesting deeper than %u levels (alias '*a')",
                     4 + outer + 1, CONFIG_MODEL_DEPTH_MAX);
            ASSERT_ERROR(want);
        }
    }
}

#define NODE_FILE                                                                             \
    "id: n1\n"                                                                                \
    "listen:\n"                                                                               \
    "  api: 0.0.0.0:8080\n"                                                                   \
    "  raft: 10.0.0.1:7001\n"                                                                 \
    "  peer: 10.0.0.1:7002\n"                                                                 \
    "data_dir: /var/lib/contactd\n"                                                           \
    "insecure: true\n"                                                                        \
    "peers:\n"                                                                                \
    "  - { id: n1, raft: \"10.0.0.1:7001\", api: \"10.0.0.1:8080\", peer: \"10.0.0.1:7002\" " \
    "}\n"

static void node_file_bytes(void **state)
{
    F;
    for (size_t extra = 0; extra < 2; extra++) {
        reset(f);
        put(f, NODE_FILE "#", 1);
        put(f, "x", CONFIG_NODE_BYTES_MAX + extra - f->len - 1);
        put(f, "\n", 1);
        PARSE_NODE();
        if (extra == 0) {
            assert_int_equal(f->rv, 0);
            assert_string_equal(f->node.id, "n1");
        } else {
            char want[128];
            snprintf(
                want, sizeof(want), "node.yaml:10:%zu: document too large: more than %u bytes",
                (size_t)CONFIG_NODE_BYTES_MAX - strlen(NODE_FILE) + 1, CONFIG_NODE_BYTES_MAX);
            ASSERT_ERROR(want);
        }
    }
}

static void node_file_nodes_and_depth(void **state)
{
    F;
    flat_list(f, CONFIG_NODE_NODES_MAX - 3);
    PARSE_NODE();
    assert_int_equal(f->rv, CD_EPARSE);
    assert_true(starts_with(f->err, "node.yaml:1:1: unknown key 'x' ("));
    flat_list(f, CONFIG_NODE_NODES_MAX - 2);
    PARSE_NODE();
    char want[192];
    snprintf(want, sizeof(want),
             "node.yaml:1:%u: document too large: more than %u nodes (scalars and "
             "collections, aliases counted as expanded)",
             5 + 2 * (CONFIG_NODE_NODES_MAX - 3), CONFIG_NODE_NODES_MAX);
    ASSERT_ERROR(want);
    nested(f, CONFIG_NODE_DEPTH_MAX - 1);
    PARSE_NODE();
    assert_int_equal(f->rv, CD_EPARSE);
    assert_true(starts_with(f->err, "node.yaml:1:1: unknown key 'x' ("));
    nested(f, CONFIG_NODE_DEPTH_MAX);
    PARSE_NODE();
    snprintf(want, sizeof(want), "node.yaml:1:%u: nesting deeper than %u levels",
             3 + CONFIG_NODE_DEPTH_MAX, CONFIG_NODE_DEPTH_MAX);
    ASSERT_ERROR(want);
}

/* The diff reads both documents under the model's bounds. */
static void diff_is_bounded_too(void **state)
{
    F;
    char *out = NULL;
    nested(f, CONFIG_MODEL_DEPTH_MAX);
    f->rv = config_model_diff("", 0, f->text, f->len, &out, f->err, sizeof(f->err));
    char want[128];
    snprintf(want, sizeof(want), "model:1:%u: nesting deeper than %u levels",
             3 + CONFIG_MODEL_DEPTH_MAX, CONFIG_MODEL_DEPTH_MAX);
    ASSERT_ERROR(want);
    assert_null(out);
    nested(f, CONFIG_MODEL_DEPTH_MAX - 1);
    assert_int_equal(config_model_diff("", 0, f->text, f->len, &out, f->err, sizeof(f->err)),
                     0);
    assert_true(starts_with(out, "+ x: [[["));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(model_of_the_largest_size_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(model_one_byte_larger_is_refused_where_it_crosses,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(model_file_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(model_of_the_most_nodes_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(model_with_one_node_more_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_expansion_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(model_of_the_largest_depth_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(model_one_level_deeper_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_depth_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(node_file_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(node_file_nodes_and_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(diff_is_bounded_too, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
