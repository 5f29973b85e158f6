/*
 * RSASSA-PKCS1-v1_5 with SHA-256 through OpenSSL (trusted code). The parsed
 * key is held by OpenSSL; sigil_rsa_key_free releases it (OpenSSL clears
 * private BIGNUMs on free).
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include "crypto/crypto_internal.h"

struct sigil_rsa_key {
    EVP_PKEY *pkey;
};

int sigil_rsa_key_from_pem(sigil_rsa_key **out, const char *pem, size_t len)
{
    EVP_PKEY *pkey;
    *out = NULL;
    GUARD(sigil_pem_read_private_key(&pkey, pem, len, "RSA"));
    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) < 2048 ||
        EVP_PKEY_get_bits(pkey) > SIGIL_RSA_MAX_BITS) {
        EVP_PKEY_free(pkey);
        BAIL(SIGIL_E_BAD_CREDENTIALS, "secret: expected an RSA private key of 2048 to %d bits",
             SIGIL_RSA_MAX_BITS);
    }
    sigil_rsa_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        BAIL(SIGIL_E_NO_MEMORY, "cannot allocate an RSA key");
    }
    k->pkey = pkey;
    *out = k;
    return 0;
}

void sigil_rsa_key_free(sigil_rsa_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

int sigil_rsa_sign_sha256(uint8_t *sig, size_t cap, size_t *sig_len, const sigil_rsa_key *k,
                          const void *msg, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ENSURE(md != NULL, SIGIL_E_NO_MEMORY, "cannot allocate a digest context");
    size_t len = cap;
    int ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestSign(md, sig, &len, msg, n) == 1;
    EVP_MD_CTX_free(md);
    ENSURE(ok, SIGIL_E_CRYPTO, "RSA signing failed");
    *sig_len = len;
    return 0;
}
