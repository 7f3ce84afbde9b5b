/* The config model tests' fixture: a struct config_model to parse into, the error message
 * and code of the last parse, and a growing text buffer for documents built line by line.
 * Each test file includes it once, before its own macros. */
#ifndef CD_TEST_CONFIG_FIXTURE_H
#define CD_TEST_CONFIG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"

struct fixture
{
    struct config_model cm;
    const struct engine_model *m; /* &cm.model */
    struct config_node node;
    char *text; /* put()'s document */
    size_t len;
    size_t cap;
    char err[1024];
    int rv;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    unsetenv("CONTACTD_ZONEINFO");
    config_model_init(&f->cm);
    f->m = &f->cm.model;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_model_close(&f->cm);
    free(f->text);
    free(f);
    return 0;
}

/* Appends to the fixture's document. */
static void put(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void put(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (f->len + (size_t)n + 1 > f->cap) {
        f->cap = (f->len + (size_t)n + 1) * 2;
        f->text = realloc(f->text, f->cap);
        assert_non_null(f->text);
    }
    va_start(ap, fmt);
    vsnprintf(f->text + f->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    f->len += (size_t)n;
}

#define F struct fixture *f = *state
#define PARSE_N(text, n) \
    (f->rv = config_model_parse("model.yaml", (text), (n), &f->cm, f->err, sizeof(f->err)))
#define PARSE_PUT() PARSE_N(f->text, f->len)
#define ASSERT_OK                                    \
    do {                                             \
        if (f->rv != 0) {                            \
            print_error("unexpected: %s\n", f->err); \
        }                                            \
        assert_int_equal(f->rv, 0);                  \
    } while (0)
#define ASSERT_ERROR(msg)                   \
    do {                                    \
        assert_int_equal(f->rv, CD_EPARSE); \
        assert_string_equal(f->err, (msg)); \
    } while (0)

#endif
