/*
 * Tenant names, key ids and bearer tokens "sgl_<id>_<secret>". Untrusted host
 * code: the gateway stores only SHA-256 of a token's secret and compares
 * hashes in constant time; a token's text is shown once, when it is made.
 */
#include <openssl/crypto.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/ct.h"
#include "gateway/store.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"

static bool is_tenant_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_key_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

int sigil_tenant_name_check(const char *name, size_t len)
{
    ENSURE(len >= 1 && len <= SIGIL_TENANT_MAX, SIGIL_E_BAD_FIELD,
           "tenant: name must be 1..%d characters", SIGIL_TENANT_MAX);
    for (size_t i = 0; i < len; i++)
        ENSURE(is_tenant_char(name[i]), SIGIL_E_BAD_FIELD,
               "tenant: name may hold only a-z, 0-9, '_' and '-'");
    return 0;
}

int sigil_key_id_check(const char *id, size_t len)
{
    ENSURE(len >= 1 && len <= SIGIL_KEY_ID_MAX, SIGIL_E_BAD_FIELD,
           "key_id: must be 1..%d characters", SIGIL_KEY_ID_MAX);
    for (size_t i = 0; i < len; i++)
        ENSURE(is_key_id_char(id[i]), SIGIL_E_BAD_FIELD,
               "key_id: may hold only A-Z, a-z, 0-9, '_' and '-'");
    return 0;
}

#define TOKEN_MALFORMED "malformed bearer token (expected sgl_<id>_<secret>)"

/* 1 unless every character is lowercase hex; no branch on them (the token
 * secret is one of the texts). */
static uint32_t hex_bad(const char *p, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint8_t)p[i];
        bad |= 1u ^ (sigil_ct_in_range(c, '0', '9') | sigil_ct_in_range(c, 'a', 'f'));
    }
    return bad;
}

/* The one branch on a token's characters: whether they were all lowercase
 * hex, which the caller learns anyway. Out of line, and the failing side
 * makes a call, so the result the caller tests is a constant of one path:
 * tests/ctime/ctime.supp names this as a declassification point. */
static __attribute__((noinline)) int token_hex_verdict(uint32_t bad)
{
    if (bad != 0)
        return sigil_fail(SIGIL_E_UNAUTHORIZED, TOKEN_MALFORMED);
    return 0;
}

int sigil_token_parse(sigil_token *out, const char *text, size_t len)
{
    const size_t prefix = sizeof(SIGIL_TOKEN_PREFIX) - 1;
    const char *id = text + prefix;
    const char *secret = id + SIGIL_TOKEN_ID_HEX + 1;
    ENSURE(len == SIGIL_TOKEN_LEN && memcmp(text, SIGIL_TOKEN_PREFIX, prefix) == 0 &&
               id[SIGIL_TOKEN_ID_HEX] == '_',
           SIGIL_E_UNAUTHORIZED, TOKEN_MALFORMED);
    GUARD(token_hex_verdict(hex_bad(id, SIGIL_TOKEN_ID_HEX) |
                            hex_bad(secret, SIGIL_TOKEN_SECRET_HEX)));
    memcpy(out->id, id, SIGIL_TOKEN_ID_HEX);
    out->id[SIGIL_TOKEN_ID_HEX] = '\0';
    sigil_sha256(out->secret_hash, secret, SIGIL_TOKEN_SECRET_HEX);
    return 0;
}

int sigil_token_from_header(sigil_token *out, const char *hdr, size_t len)
{
    static const char scheme[] = "bearer ";
    const size_t n = sizeof(scheme) - 1;
    ENSURE(hdr != NULL && len > 0, SIGIL_E_UNAUTHORIZED, "missing bearer token");
    ENSURE(len > n, SIGIL_E_UNAUTHORIZED, "malformed Authorization header (expected Bearer)");
    for (size_t i = 0; i < n; i++) {
        char c = hdr[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        ENSURE(c == scheme[i], SIGIL_E_UNAUTHORIZED,
               "malformed Authorization header (expected Bearer)");
    }
    return sigil_token_parse(out, hdr + n, len - n);
}

int sigil_token_generate(char text[static SIGIL_TOKEN_LEN + 1], sigil_token_record *rec,
                         const char *tenant, int64_t now_ms)
{
    uint8_t rnd[SIGIL_TOKEN_ID_HEX / 2 + SIGIL_TOKEN_SECRET_HEX / 2];
    const size_t prefix = sizeof(SIGIL_TOKEN_PREFIX) - 1;
    size_t tlen = strnlen(tenant, SIGIL_TENANT_MAX + 1);
    sigil_token tok;
    GUARD(sigil_tenant_name_check(tenant, tlen));
    ENSURE(getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd), SIGIL_E_CRYPTO,
           "token: no randomness from the kernel");
    memcpy(text, SIGIL_TOKEN_PREFIX, prefix);
    sigil_hex_encode(text + prefix, rnd, SIGIL_TOKEN_ID_HEX / 2);
    text[prefix + SIGIL_TOKEN_ID_HEX] = '_';
    sigil_hex_encode(text + prefix + SIGIL_TOKEN_ID_HEX + 1, rnd + SIGIL_TOKEN_ID_HEX / 2,
                     SIGIL_TOKEN_SECRET_HEX / 2);
    OPENSSL_cleanse(rnd, sizeof(rnd));
    GUARD(sigil_token_parse(&tok, text, SIGIL_TOKEN_LEN));
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->id, tok.id, sizeof(rec->id));
    memcpy(rec->tenant, tenant, tlen);
    memcpy(rec->secret_hash, tok.secret_hash, sizeof(rec->secret_hash));
    rec->created_ms = now_ms;
    return 0;
}

int sigil_store_ct_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int sigil_token_verify(const sigil_token_record *rec, const sigil_token *tok)
{
    int same = sigil_store_ct_eq(rec->secret_hash, tok->secret_hash, sizeof(rec->secret_hash));
    ENSURE(same, SIGIL_E_UNAUTHORIZED, "unknown bearer token");
    ENSURE(rec->revoked_ms == 0, SIGIL_E_UNAUTHORIZED, "bearer token revoked");
    return 0;
}

int64_t sigil_store_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sigil_store_instance_id(char out[static SIGIL_STORE_INSTANCE_HEX + 1])
{
    uint8_t rnd[SIGIL_STORE_INSTANCE_HEX / 2];
    ENSURE(getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd), SIGIL_E_CRYPTO,
           "store: no randomness for the instance id");
    sigil_hex_encode(out, rnd, sizeof(rnd));
    out[SIGIL_STORE_INSTANCE_HEX] = '\0';
    return 0;
}
