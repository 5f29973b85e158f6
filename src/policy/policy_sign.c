/*
 * Owner signatures over policies: Ed25519 over the v2 message (docs/POLICY.md:
 * prefix, tenant, key id, version, canonical policy). Verification runs in the enclave on untrusted
 * input; signing runs in the CLI with the owner's seed, which stays in the caller's locked memory
 * (the expanded key lives in a guarded libsodium allocation for the duration of one signature).
 * Kept in its own file so that processes which only verify never link the signing half.
 */
#include <sodium.h>

#include "policy/policy_internal.h"

int sigil_policy_verify(const sigil_policy *p, const char *json, size_t len, const char *key_id,
                        const uint8_t sig[64], const uint8_t owner_pk[32])
{
    sigil_slice msg;
    GUARD(policy_signed_message(&msg, p, json, len, key_id));
    ENSURE(crypto_sign_verify_detached(sig, (const uint8_t *)msg.p, msg.len, owner_pk) == 0,
           SIGIL_E_BAD_SIGNATURE, "policy_signature: does not verify under owner_pubkey");
    return 0;
}

int sigil_policy_sign(uint8_t sig[64], const sigil_policy *p, const char *json, size_t len,
                      const char *key_id, const uint8_t seed[32])
{
    sigil_slice msg;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    GUARD(policy_signed_message(&msg, p, json, len, key_id));
    uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    ENSURE(sk != NULL, SIGIL_E_NO_MEMORY, "cannot allocate locked memory for a secret");
    int ok = crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
             crypto_sign_detached(sig, NULL, (const uint8_t *)msg.p, msg.len, sk) == 0;
    sodium_free(sk); /* wipes */
    ENSURE(ok, SIGIL_E_CRYPTO, "policy: Ed25519 signing failed");
    return 0;
}
