/* What the fuzz targets of tests/fuzz share: a check that stops the run with a message
 * (libFuzzer then keeps the input that broke it as a crash file), and a sample state built
 * from the project's own sample model (ops/sample-model.yaml) by a short script of
 * commands, which the targets apply their commands to and the seed generator encodes. */
#ifndef CD_TESTS_FUZZ_FUZZ_H
#define CD_TESTS_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "engine/engine.h"

/* libFuzzer's entry points. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the input broke: prints where and why, then aborts. */
#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* The harness itself cannot go on (a sample file is missing, memory ran out at setup). */
#define FUZZ_DIE(...)                                \
    do {                                             \
        fprintf(stderr, "fuzz setup: " __VA_ARGS__); \
        fputc('\n', stderr);                         \
        exit(2);                                     \
    } while (0)

/* Wednesday 2026-03-04 10:00:00Z in ms: the sample model's queues are open then. */
#define FUZZ_SAMPLE_T0 INT64_C(1772618400000)

/* ops/sample-model.yaml and tests/integration/data/model.yaml, from the source tree. */
#define FUZZ_SAMPLE_MODEL CD_SOURCE_DIR "/ops/sample-model.yaml"
#define FUZZ_SMALL_MODEL CD_SOURCE_DIR "/tests/integration/data/model.yaml"

/* Sees each command of the sample script just before it is applied to e at now_ms. */
typedef void (*fuzz_script_cb)(void *data,
                               const struct engine *e,
                               const struct engine_command *cmd,
                               int64_t now_ms);

/* Reads a whole file into *out (malloc'd, NUL-terminated, *len without the NUL); dies on
 * failure. */
char *fuzz_read_file(const char *path, size_t *len);

/* Builds the sample state: ops/sample-model.yaml installed as version 1, agents logged in,
 * away and logged out, contacts queued, offered, connected, in wrap-up, transferred,
 * abandoned and finished, a queue paused, an agent defined and removed. cb (may be NULL)
 * sees every command first; sink (may be NULL) gets every effect. Dies when a command of
 * the script does not succeed. The caller frees the state. */
struct engine *fuzz_sample_state(fuzz_script_cb cb, void *data, const struct engine_sink *sink);

/* A fresh copy of the sample state, decoded from its snapshot (built once per process).
 * The caller frees it. */
struct engine *fuzz_sample_copy(void);

/* Applies cmd to e at now_ms and checks what must hold whatever the command: a
 * deterministic answer (never CD_ENOMEM here), and a state that passes engine_check().
 * res (may be NULL) receives the answer. */
void fuzz_apply_checked(struct engine *e,
                        const struct engine_command *cmd,
                        int64_t now_ms,
                        struct engine_result *res);

#endif
