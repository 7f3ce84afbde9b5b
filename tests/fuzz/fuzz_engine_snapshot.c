/* The engine's snapshot decoder (engine_decode), as a snapshot from a peer or from disk
 * reaches it.
 *
 * Properties, for any input:
 *   - decode answers 0, CD_ECORRUPT or CD_EVERSION;
 *   - a decoded state encodes to exactly the input: equal states encode to equal bytes and
 *     the digest relies on it, so a decoder that took two encodings of one state, or read
 *     something the encoder cannot write, would let two nodes disagree;
 *   - the decoded state passes engine_check(), and stays so after time has run on: a TICK
 *     an hour later fires every deadline it holds. */
#include <string.h>

#include "common/error.h"
#include "tests/fuzz/fuzz.h"

static void check_reencodes(const struct engine *e, const uint8_t *data, size_t size)
{
    struct cd_buf b;
    struct engine *again;
    cd_buf_init(&b);
    FUZZ_CHECK(engine_encode(e, &b) == 0, "a decoded state does not encode");
    FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0,
               "a decoded state encodes to %zu bytes that differ from its %zu input bytes",
               b.len, size);
    FUZZ_CHECK(engine_decode(b.data, b.len, &again) == 0,
               "the re-encoded state does not decode");
    FUZZ_CHECK(engine_digest(again) == engine_digest(e), "the digest changed in a round trip");
    engine_free(again);
    cd_buf_close(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct engine *e;
    char err[256];
    int rc = engine_decode(data, size, &e);
    if (rc != 0) {
        FUZZ_CHECK(rc == CD_ECORRUPT || rc == CD_EVERSION, "decode returned %s",
                   cd_errname(rc));
        return 0;
    }
    check_reencodes(e, data, size);
    FUZZ_CHECK(engine_check(e, err, sizeof(err)) == 0, "a decoded state is inconsistent: %s",
               err);

    struct engine_command tick = {.kind = ENGINE_CMD_TICK};
    int64_t now = engine_now(e);
    fuzz_apply_checked(e, &tick, now <= INT64_MAX - 3600000 ? now + 3600000 : now, NULL);
    engine_free(e);
    return 0;
}
