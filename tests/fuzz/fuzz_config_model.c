/* The YAML routing model from a buffer (config_model_parse), as POST /v1/model and the
 * model file reach it.
 *
 * Properties, for any input:
 *   - the parser answers 0 or CD_EPARSE; on error the message is one NUL-terminated line
 *     that starts with the document's name, and the output is left as it was;
 *   - a model it accepts passes engine_model_validate(), its binary form round-trips byte
 *     for byte (encode, decode, encode), it installs into an empty engine, and installing
 *     it over the sample state (live contacts, agents with work in hand) answers
 *     deterministically and leaves a consistent state;
 *   - a document compared with itself (config_model_diff) shows no change. */
#include <string.h>

#include "common/error.h"
#include "config/config.h"
#include "tests/fuzz/fuzz.h"

/* No control character: the message is one line of a log or of an answer. */
static bool one_line(const char *s)
{
    for (; *s != 0; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

#define NAME "fuzz.yaml"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    engine_free(fuzz_sample_copy());
    return 0;
}

static void check_refused(int rc, const struct config_model *m, const char *err)
{
    struct config_model empty;
    config_model_init(&empty);
    FUZZ_CHECK(rc == CD_EPARSE, "parse returned %s: %s", cd_errname(rc), err);
    FUZZ_CHECK(strncmp(err, NAME ":", strlen(NAME) + 1) == 0, "message without the name: %s",
               err);
    FUZZ_CHECK(one_line(err), "message of more than one line: %s", err);
    FUZZ_CHECK(memcmp(m, &empty, sizeof(empty)) == 0, "a refused model changed the output");
}

static void check_codec(const struct engine_model *m)
{
    struct cd_buf a, b;
    struct engine_model copy;
    struct cd_reader r;
    cd_buf_init(&a);
    cd_buf_init(&b);
    engine_model_init(&copy);
    FUZZ_CHECK(engine_model_encode(m, &a) == 0, "an accepted model does not encode");
    cd_reader_init(&r, a.data, a.len);
    FUZZ_CHECK(engine_model_decode(&r, &copy) == 0 && cd_rd_left(&r) == 0,
               "an encoded model does not decode");
    FUZZ_CHECK(engine_model_encode(&copy, &b) == 0, "a decoded model does not encode");
    FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
               "a model changed in a round trip");
    engine_model_close(&copy);
    cd_buf_close(&a);
    cd_buf_close(&b);
}

static void check_installs(const struct engine_model *m, const char *text)
{
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_INSTALL};
    struct engine_result res;
    struct engine *e;
    char err[256];
    c.u.install.version = 2;
    c.u.install.model = m;
    c.u.install.source = text;
    FUZZ_CHECK(engine_new(&e) == 0, "engine_new");
    engine_apply(e, &c, FUZZ_SAMPLE_T0, &res, NULL);
    FUZZ_CHECK(res.code == 0, "an accepted model does not install: %s: %s",
               cd_errname(res.code), res.message);
    FUZZ_CHECK(engine_check(e, err, sizeof(err)) == 0, "after install: %s", err);
    engine_free(e);

    e = fuzz_sample_copy();
    fuzz_apply_checked(e, &c, engine_now(e) + 1000, NULL);
    engine_free(e);
}

static void check_diff_self(const char *text, size_t len, bool parsed)
{
    char *diff = NULL;
    char err[256];
    int rc = config_model_diff(text, len, text, len, &diff, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || (!parsed && rc == CD_EPARSE), "diff with itself: %s: %s",
               cd_errname(rc), err);
    FUZZ_CHECK(rc != 0 || diff[0] == 0, "a document differs from itself: %.200s", diff);
    free(diff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config_model m;
    char err[512];
    /* A NUL-terminated copy for the install's source text; the parser gets the length. */
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    text[size] = 0;

    config_model_init(&m);
    int rc = config_model_parse(NAME, text, size, &m, err, sizeof(err));
    if (rc != 0) {
        check_refused(rc, &m, err);
    } else {
        FUZZ_CHECK(engine_model_validate(&m.model, err, sizeof(err)) == 0,
                   "an accepted model is invalid: %s", err);
        check_codec(&m.model);
        check_installs(&m.model, text);
    }
    check_diff_self(text, size, rc == 0);
    config_model_close(&m);
    free(text);
    return 0;
}
