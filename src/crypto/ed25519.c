/*
 * Ed25519 (RFC 8032, pure) through libsodium (trusted code). The expanded
 * key lives in locked memory for the duration of one signature.
 */
#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/crypto_internal.h"

int sigil_ed25519_expand(uint8_t sk[static 64], const uint8_t seed[static 32])
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    ENSURE(crypto_sign_seed_keypair(pk, sk, seed) == 0, SIGIL_E_CRYPTO,
           "Ed25519 key expansion failed");
    return 0;
}

int sigil_ed25519_sign_expanded(uint8_t sig[static 64], const uint8_t sk[static 64],
                                const void *msg, size_t n)
{
    ENSURE(crypto_sign_detached(sig, NULL, msg, n, sk) == 0, SIGIL_E_CRYPTO,
           "Ed25519 signing failed");
    return 0;
}

int sigil_ed25519_sign(uint8_t sig[static 64], const uint8_t seed[static 32], const void *msg,
                       size_t n)
{
    SIGIL_SECRET(sk);
    GUARD(sigil_secret_alloc(&sk, crypto_sign_SECRETKEYBYTES));
    GUARD(sigil_ed25519_expand(sk.p, seed));
    return sigil_ed25519_sign_expanded(sig, sk.p, msg, n);
}

int sigil_ed25519_seed_from_pem(uint8_t seed[static 32], const char *pem, size_t len)
{
    EVP_PKEY *pkey;
    GUARD(sigil_pem_read_private_key(&pkey, pem, len, "PKCS#8 (-----BEGIN PRIVATE KEY-----)"));
    size_t n = 32;
    int ok = EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 &&
             EVP_PKEY_get_raw_private_key(pkey, seed, &n) == 1 && n == 32;
    EVP_PKEY_free(pkey);
    if (!ok) {
        sodium_memzero(seed, 32);
        BAIL(SIGIL_E_BAD_CREDENTIALS, "secret: PEM key is not an Ed25519 private key");
    }
    return 0;
}
