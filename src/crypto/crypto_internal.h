/*
 * Pieces shared inside src/crypto (trusted): reading PEM private keys.
 */
#ifndef SIGIL_CRYPTO_INTERNAL_H
#define SIGIL_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "sigil/crypto.h"

/* Reads an unencrypted PEM private key. Never prompts for a passphrase (a
 * prompt would write to stderr and read the request from stdin); an
 * encrypted key is refused with an error that says so. `expect` names the
 * key kind for the error message. */
SIGIL_WARN_UNUSED_RESULT int sigil_pem_read_private_key(EVP_PKEY **out, const char *pem, size_t len,
                                                        const char *expect);

#endif
