/*
 * The Recipient key pair (trusted): an ephemeral RSA key whose public half
 * goes into the attestation document, so that KMS encrypts data keys to this
 * process only. The private key stays in OpenSSL's memory for the life of the
 * object (OpenSSL's secure heap when the process initialised one).
 */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include "kms/kms_internal.h"

#define RECIPIENT_BITS 2048

static int recipient_wrap(sigil_kms_recipient **out, EVP_PKEY *pkey)
{
    sigil_kms_recipient *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        EVP_PKEY_free(pkey);
        BAIL(SIGIL_E_NO_MEMORY, "kms: recipient: no memory");
    }
    r->pkey = pkey;
    int n = i2d_PUBKEY(pkey, &r->spki);
    if (n <= 0) {
        sigil_kms_recipient_free(r);
        BAIL(SIGIL_E_CRYPTO, "kms: recipient: cannot encode the public key");
    }
    r->spki_len = (size_t)n;
    *out = r;
    return 0;
}

int sigil_kms_recipient_new(sigil_kms_recipient **r)
{
    *r = NULL;
    EVP_PKEY *pkey = EVP_RSA_gen(RECIPIENT_BITS);
    ENSURE(pkey != NULL, SIGIL_E_CRYPTO, "kms: recipient: RSA key generation failed");
    return recipient_wrap(r, pkey);
}

int sigil_kms_recipient_from_pem(sigil_kms_recipient **r, const char *pem, size_t len)
{
    *r = NULL;
    ENSURE(len > 0 && len <= 16384, SIGIL_E_BAD_CREDENTIALS, "kms: recipient: PEM of %zu bytes",
           len);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, SIGIL_E_NO_MEMORY, "kms: recipient: no memory");
    /* An empty passphrase callback: never prompt on the terminal. */
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, sigil_kms_no_passphrase, NULL);
    BIO_free(bio);
    ENSURE(pkey != NULL, SIGIL_E_BAD_CREDENTIALS,
           "kms: recipient: not an unencrypted PEM private key");
    int bits = EVP_PKEY_get_bits(pkey);
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || bits < 2048 || bits > 4096) {
        EVP_PKEY_free(pkey);
        BAIL(SIGIL_E_BAD_CREDENTIALS, "kms: recipient: must be an RSA key of 2048..4096 bits");
    }
    return recipient_wrap(r, pkey);
}

const uint8_t *sigil_kms_recipient_spki(const sigil_kms_recipient *r, size_t *len)
{
    *len = r->spki_len;
    return r->spki;
}

void sigil_kms_recipient_free(sigil_kms_recipient *r)
{
    if (r == NULL)
        return;
    EVP_PKEY_free(r->pkey);
    OPENSSL_free(r->spki);
    free(r);
}

int sigil_kms_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}
