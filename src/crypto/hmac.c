/*
 * HMAC with secret keys (trusted code). libsodium for SHA-256/512 (its state
 * is wiped after use); OpenSSL's EVP_MAC, fetched once, for SHA-384.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>

#include "sigil/crypto.h"

void sigil_hmac_sha256(uint8_t out[static 32], const uint8_t *key, size_t klen, const void *msg,
                       size_t mlen)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, msg, mlen);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

void sigil_hmac_sha512(uint8_t out[static 64], const uint8_t *key, size_t klen, const void *msg,
                       size_t mlen)
{
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, key, klen);
    crypto_auth_hmacsha512_update(&st, msg, mlen);
    crypto_auth_hmacsha512_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

static EVP_MAC *g_hmac;
static pthread_once_t g_hmac_once = PTHREAD_ONCE_INIT;

static void fetch_hmac(void)
{
    g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int sigil_hmac_sha384(uint8_t out[static 48], const uint8_t *key, size_t klen, const void *msg,
                      size_t mlen)
{
    char digest[] = "SHA384";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outl = 0;
    pthread_once(&g_hmac_once, fetch_hmac);
    ENSURE(g_hmac != NULL, SIGIL_E_CRYPTO, "HMAC is not available in OpenSSL");
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(g_hmac);
    ENSURE(ctx != NULL, SIGIL_E_NO_MEMORY, "cannot allocate an HMAC context");
    int ok = EVP_MAC_init(ctx, key, klen, params) == 1 && EVP_MAC_update(ctx, msg, mlen) == 1 &&
             EVP_MAC_final(ctx, out, &outl, 48) == 1 && outl == 48;
    EVP_MAC_CTX_free(ctx); /* OpenSSL clears the key schedule */
    ENSURE(ok, SIGIL_E_CRYPTO, "HMAC-SHA384 failed");
    return 0;
}
