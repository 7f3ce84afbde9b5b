/* Password verifiers: what the cluster keeps of a user's password (USER_SET), and the
 * check of a password against one at sign-in. Pure functions of their arguments (and of
 * the system's random generator for a new salt), so the API runs them on a pool thread and
 * tests run them directly.
 *
 * A verifier is "scrypt$LOG2N$R$P$SALT$HASH": scrypt (RFC 7914, OpenSSL's EVP_PBE_scrypt)
 * with cost N = 2^LOG2N, block size R and parallelism P, a 16-byte salt and a 32-byte
 * hash, both in standard base64 with padding. The parameters travel with the verifier, so
 * a later release may raise the cost for new passwords while the old verifiers still
 * check. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define SALT_B64 24 /* characters, padding included */
#define HASH_B64 44
#define FIELDS 6

/* What a verifier may ask for at most: a bound on the work and memory one check costs. */
#define LOG2N_MAX 20
#define R_MAX 16
#define P_MAX 4
#define MEMORY_MAX (256ull << 20)

const struct api__scrypt API__SCRYPT = {15, 8, 1};

/* Checked with no password known to match it: what a sign-in for a user who does not exist
 * is checked against, so that it costs what a wrong password for one who does costs. */
static const char dummy[] =
    "scrypt$15$8$1$v4NCqCYgyXG6NEift/Gf7A==$"
    "yPFX89IUisGxbhbPi7Ep5ukSDr7a24eYtw9vHPy86Ik=";

const char *api__verifier_dummy(void)
{
    return dummy;
}

/* Memory scrypt needs with these parameters (OpenSSL's own count: B, then V). */
static uint64_t memory_of(const struct api__scrypt *s)
{
    return 128ull * s->r * s->p + 128ull * s->r * ((1ull << s->log2n) + 2);
}

static bool params_ok(const struct api__scrypt *s)
{
    return s->log2n >= 1 && s->log2n <= LOG2N_MAX && s->r >= 1 && s->r <= R_MAX && s->p >= 1 &&
           s->p <= P_MAX && memory_of(s) <= MEMORY_MAX;
}

static int derive(const char *password,
                  size_t len,
                  const uint8_t *salt,
                  const struct api__scrypt *s,
                  uint8_t out[HASH_LEN])
{
    /* A little over what it needs: OpenSSL refuses work past maxmem. */
    uint64_t maxmem = memory_of(s) + (1u << 20);
    int ok = EVP_PBE_scrypt(password, len, salt, SALT_LEN, 1ull << s->log2n, s->r, s->p, maxmem,
                            out, HASH_LEN);
    return ok == 1 ? 0 : CD_ENOMEM;
}

int api__verifier_make(const char *password,
                       size_t len,
                       const struct api__scrypt *s,
                       const uint8_t *salt_in,
                       char out[ENGINE_VERIFIER_MAX])
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    char salt_b64[SALT_B64 + 1], hash_b64[HASH_B64 + 1];
    if (!params_ok(s)) {
        return CD_EINVAL;
    }
    if (salt_in != NULL) {
        memcpy(salt, salt_in, SALT_LEN);
    } else if (RAND_bytes(salt, SALT_LEN) != 1) {
        return CD_EIO;
    }
    int rv = derive(password, len, salt, s, hash);
    if (rv == 0) {
        EVP_EncodeBlock((unsigned char *)salt_b64, salt, SALT_LEN);
        EVP_EncodeBlock((unsigned char *)hash_b64, hash, HASH_LEN);
        snprintf(out, ENGINE_VERIFIER_MAX, "scrypt$%u$%u$%u$%s$%s", s->log2n, s->r, s->p,
                 salt_b64, hash_b64);
    }
    OPENSSL_cleanse(hash, sizeof(hash));
    return rv;
}

/* A decimal number from 1, without sign or leading zero, of [text, end). */
static bool number(const char *text, const char *end, unsigned *out)
{
    unsigned long v = 0;
    if (end == text || end - text > 4 || *text == '0') {
        return false;
    }
    for (const char *p = text; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    *out = (unsigned)v;
    return true;
}

/* base64 of [text, text + chars) into out, which must decode to exactly want bytes. */
static bool base64(const char *text, size_t chars, uint8_t *out, size_t want)
{
    uint8_t buf[HASH_B64];
    size_t pad = chars >= 2 && text[chars - 1] == '=' ? (text[chars - 2] == '=' ? 2 : 1) : 0;
    if (chars > sizeof(buf) || (chars * 3 / 4) - pad != want) {
        return false;
    }
    int n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)chars);
    if (n < 0 || (size_t)n != chars * 3 / 4) {
        return false;
    }
    memcpy(out, buf, want);
    return true;
}

/* The parts of a verifier; false when it is not one this code can check. */
static bool parse(const char *v, struct api__scrypt *s, uint8_t *salt, uint8_t *hash)
{
    const char *field[FIELDS + 1];
    int n = 0;
    field[n++] = v;
    for (const char *p = v; *p != 0; p++) {
        if (*p == '$') {
            if (n == FIELDS) {
                return false;
            }
            field[n++] = p + 1;
        }
    }
    if (n != FIELDS) {
        return false;
    }
    field[FIELDS] = v + strlen(v) + 1; /* so that each field ends one before the next */
    return field[1] - field[0] == 7 && strncmp(v, "scrypt$", 7) == 0 &&
           number(field[1], field[2] - 1, &s->log2n) && number(field[2], field[3] - 1, &s->r) &&
           number(field[3], field[4] - 1, &s->p) && params_ok(s) &&
           base64(field[4], (size_t)(field[5] - 1 - field[4]), salt, SALT_LEN) &&
           base64(field[5], (size_t)(field[6] - 1 - field[5]), hash, HASH_LEN);
}

bool api__verifier_valid(const char *verifier)
{
    struct api__scrypt s;
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    return parse(verifier, &s, salt, hash);
}

bool api__verifier_matches(const char *password, size_t len, const char *verifier)
{
    struct api__scrypt s;
    uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (!parse(verifier, &s, salt, want) || derive(password, len, salt, &s, got) != 0) {
        return false;
    }
    bool same = CRYPTO_memcmp(got, want, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return same;
}

const char *api__password_problem(const char *password, size_t len)
{
    size_t chars = 0;
    if (len > API__PASSWORD_MAX) {
        return "password: longer than 1024 bytes";
    }
    if (memchr(password, 0, len) != NULL || !api__text_valid(password)) {
        return "password: expected UTF-8 text without control characters";
    }
    for (size_t i = 0; i < len; i++) {
        chars += ((unsigned char)password[i] & 0xc0) != 0x80; /* a character's first byte */
    }
    if (chars < API__PASSWORD_MIN) {
        return "password: shorter than 12 characters";
    }
    return NULL;
}
