/*
 * Owner-signed revocation (docs/POLICY.md "Revocation"): the message an
 * owner key signs to revoke one key of one tenant for good,
 * "sigil-revoke-v1" 0x00 || u32be(len) tenant || u32be(len) key_id, its
 * verification (in the enclave, on untrusted input) and its signing (in the
 * CLI, with the owner's seed in the caller's locked memory; the expanded key
 * lives in a guarded libsodium allocation for one signature).
 */
#include <sodium.h>
#include <string.h>

#include "sigil/policy.h"

#define TENANT_MAX 64

static int check_tenant(const char *t, size_t n)
{
    bool ok = n >= 1 && n <= TENANT_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '_' ||
             t[i] == '-';
    ENSURE(ok, SIGIL_E_BAD_FIELD, "tenant: must be 1..%d of a-z 0-9 _ -", TENANT_MAX);
    return 0;
}

static int put_u32_str(sigil_buf *b, const char *s)
{
    size_t n = strlen(s);
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    GUARD(sigil_buf_put(b, len, sizeof(len)));
    return sigil_buf_put(b, s, n);
}

int sigil_revoke_message(sigil_buf *out, const char *tenant, const char *key_id)
{
    GUARD(check_tenant(tenant, strlen(tenant)));
    GUARD(sigil_key_id_valid(key_id, strlen(key_id)));
    size_t mark = out->len;
    if (sigil_buf_put(out, SIGIL_REVOKE_SIG_PREFIX, SIGIL_REVOKE_SIG_PREFIX_LEN) != 0 ||
        put_u32_str(out, tenant) != 0 || put_u32_str(out, key_id) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

int sigil_revoke_verify(const uint8_t sig[64], const char *tenant, const char *key_id,
                        const uint8_t owner_pk[32])
{
    uint8_t mem[SIGIL_REVOKE_MSG_MAX];
    sigil_buf msg;
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(sigil_revoke_message(&msg, tenant, key_id));
    ENSURE(crypto_sign_verify_detached(sig, msg.data, msg.len, owner_pk) == 0,
           SIGIL_E_BAD_SIGNATURE, "revocation signature: does not verify under owner_pubkey");
    return 0;
}

int sigil_revoke_sign(uint8_t sig[64], const char *tenant, const char *key_id,
                      const uint8_t seed[32])
{
    uint8_t mem[SIGIL_REVOKE_MSG_MAX], pk[crypto_sign_PUBLICKEYBYTES];
    sigil_buf msg;
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(sigil_revoke_message(&msg, tenant, key_id));
    uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    ENSURE(sk != NULL, SIGIL_E_NO_MEMORY, "cannot allocate locked memory for a secret");
    int ok = crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
             crypto_sign_detached(sig, NULL, msg.data, msg.len, sk) == 0;
    sodium_free(sk); /* wipes */
    ENSURE(ok, SIGIL_E_CRYPTO, "revocation: Ed25519 signing failed");
    return 0;
}
