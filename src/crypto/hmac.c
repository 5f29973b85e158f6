/*
 * HMAC with secret keys (trusted code). libsodium for SHA-256/512 (its state
 * is wiped after use); OpenSSL's EVP_MAC, fetched once, for SHA-384.
 */
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 but are the only
 * interface whose state is a plain struct we can keep in locked memory. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

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

typedef struct {
    SHA256_CTX inner; /* after absorbing key ^ ipad */
    SHA256_CTX outer; /* after absorbing key ^ opad */
} hmac256_state;

int sigil_hmac_sha256_key(sigil_secret *state, const uint8_t *key, size_t klen)
{
    uint8_t k[64] = {0}, pad[64];
    GUARD(sigil_secret_alloc(state, sizeof(hmac256_state)));
    hmac256_state *h = (hmac256_state *)(void *)state->p;
    if (klen > sizeof(k))
        SHA256(key, klen, k);
    else
        memcpy(k, key, klen);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&h->inner);
    SHA256_Update(&h->inner, pad, sizeof(pad));
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&h->outer);
    SHA256_Update(&h->outer, pad, sizeof(pad));
    sodium_memzero(k, sizeof(k));
    sodium_memzero(pad, sizeof(pad));
    state->len = sizeof(hmac256_state);
    return 0;
}

void sigil_hmac_sha256_keyed(uint8_t out[static 32], const sigil_secret *state, const void *msg,
                             size_t mlen)
{
    hmac256_state h;
    uint8_t ih[32];
    memcpy(&h, state->p, sizeof(h));
    SHA256_Update(&h.inner, msg, mlen);
    SHA256_Final(ih, &h.inner);
    SHA256_Update(&h.outer, ih, sizeof(ih));
    SHA256_Final(out, &h.outer);
    sodium_memzero(&h, sizeof(h));
    sodium_memzero(ih, sizeof(ih));
}

typedef struct {
    SHA512_CTX inner; /* after absorbing key ^ ipad */
    SHA512_CTX outer; /* after absorbing key ^ opad */
} hmac512_state;

int sigil_hmac_sha512_key(sigil_secret *state, const uint8_t *key, size_t klen)
{
    uint8_t k[128] = {0}, pad[128];
    GUARD(sigil_secret_alloc(state, sizeof(hmac512_state)));
    hmac512_state *h = (hmac512_state *)(void *)state->p;
    if (klen > sizeof(k))
        SHA512(key, klen, k);
    else
        memcpy(k, key, klen);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    SHA512_Init(&h->inner);
    SHA512_Update(&h->inner, pad, sizeof(pad));
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    SHA512_Init(&h->outer);
    SHA512_Update(&h->outer, pad, sizeof(pad));
    sodium_memzero(k, sizeof(k));
    sodium_memzero(pad, sizeof(pad));
    state->len = sizeof(hmac512_state);
    return 0;
}

void sigil_hmac_sha512_keyed(uint8_t out[static 64], const sigil_secret *state, const void *msg,
                             size_t mlen)
{
    hmac512_state h;
    uint8_t ih[64];
    memcpy(&h, state->p, sizeof(h));
    SHA512_Update(&h.inner, msg, mlen);
    SHA512_Final(ih, &h.inner);
    SHA512_Update(&h.outer, ih, sizeof(ih));
    SHA512_Final(out, &h.outer);
    sodium_memzero(&h, sizeof(h));
    sodium_memzero(ih, sizeof(ih));
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
