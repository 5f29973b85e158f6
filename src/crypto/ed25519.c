/*
 * Ed25519 (RFC 8032, pure) through libsodium (trusted code). The expanded
 * key lives in locked memory for the duration of one signature.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "sigil/crypto.h"

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
    ENSURE(len <= INT32_MAX, SIGIL_E_BAD_CREDENTIALS, "secret: PEM too large");
    GUARD(sigil_pem_check_unencrypted(pem, len));
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, SIGIL_E_NO_MEMORY, "cannot allocate a PEM reader");
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, sigil_pem_no_passphrase, NULL);
    BIO_free(bio);
    ENSURE(pkey != NULL, SIGIL_E_BAD_CREDENTIALS,
           "secret: not a PKCS#8 PEM private key (expected -----BEGIN PRIVATE KEY-----)");
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
