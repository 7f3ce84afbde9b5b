/* The engine's command decoder (engine_command_decode), as a Raft entry's bytes reach it.
 *
 * Properties, for any input:
 *   - decode answers 0, CD_ECORRUPT or CD_EVERSION, and on error leaves the store empty;
 *   - a decoded command re-encodes to exactly the input (one encoding per command), and
 *     decoding that again gives the same bytes once more;
 *   - applying it to the sample state answers deterministically and leaves a state that
 *     passes engine_check(), whatever the command says. */
#include <string.h>

#include "common/error.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    engine_free(fuzz_sample_copy()); /* builds the snapshot outside the measured runs */
    return 0;
}

static void check_reencodes(const struct engine_command *cmd, const uint8_t *data, size_t size)
{
    struct cd_buf b;
    cd_buf_init(&b);
    int rc = engine_command_encode(cmd, &b);
    FUZZ_CHECK(rc == 0, "a decoded %s does not encode: %s", engine_cmd_name(cmd->kind),
               cd_errname(rc));
    FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0,
               "%s re-encodes to %zu bytes that differ from its %zu input bytes",
               engine_cmd_name(cmd->kind), b.len, size);

    struct engine_command again;
    struct engine_cmd_store store;
    engine_cmd_store_init(&store);
    FUZZ_CHECK(engine_command_decode(b.data, b.len, &again, &store) == 0,
               "the re-encoded %s does not decode", engine_cmd_name(cmd->kind));
    FUZZ_CHECK(again.kind == cmd->kind, "kind changed in a round trip");
    engine_cmd_store_close(&store);
    cd_buf_close(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct engine_command cmd;
    struct engine_cmd_store store;
    engine_cmd_store_init(&store);
    int rc = engine_command_decode(data, size, &cmd, &store);
    if (rc != 0) {
        FUZZ_CHECK(rc == CD_ECORRUPT || rc == CD_EVERSION, "decode returned %s",
                   cd_errname(rc));
        FUZZ_CHECK(store.n_blocks == 0, "a failed decode kept %zu blocks", store.n_blocks);
        engine_cmd_store_close(&store);
        return 0;
    }
    check_reencodes(&cmd, data, size);

    struct engine *e = fuzz_sample_copy();
    fuzz_apply_checked(e, &cmd, engine_now(e) + 1000, NULL);
    engine_free(e);
    engine_cmd_store_close(&store);
    return 0;
}
