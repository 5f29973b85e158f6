/*
 * Pieces shared inside src/kms (trusted): the Recipient key object and
 * OpenSSL helpers. Not part of the public API.
 */
#ifndef SIGIL_KMS_INTERNAL_H
#define SIGIL_KMS_INTERNAL_H

#include <openssl/evp.h>

#include "sigil/kms.h"

struct sigil_kms_recipient {
    EVP_PKEY *pkey;
    unsigned char *spki; /* DER SubjectPublicKeyInfo (OPENSSL_malloc'd) */
    size_t spki_len;
};

/* pem_password_cb that refuses to prompt: encrypted keys fail to load. */
int sigil_kms_no_passphrase(char *buf, int size, int rwflag, void *u);

#endif
