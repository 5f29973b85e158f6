/*
 * PEM private keys (trusted): no passphrase prompts, and encrypted keys
 * refused up front with an error that says so.
 */
#include <openssl/pem.h>
#include <string.h>

#include "crypto/crypto_internal.h"

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int check_unencrypted(const char *pem, size_t len)
{
    static const char *const MARKERS[] = {"ENCRYPTED PRIVATE KEY", "Proc-Type: 4,ENCRYPTED"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MARKERS); i++) {
        size_t m = strlen(MARKERS[i]);
        for (size_t k = 0; k + m <= len; k++)
            ENSURE(memcmp(pem + k, MARKERS[i], m) != 0, SIGIL_E_BAD_CREDENTIALS,
                   "secret: the PEM key is passphrase-encrypted; give it unencrypted (the "
                   "credentials file itself is the secret to protect)");
    }
    return 0;
}

int sigil_pem_read_private_key(EVP_PKEY **out, const char *pem, size_t len, const char *expect)
{
    *out = NULL;
    ENSURE(len <= INT32_MAX, SIGIL_E_BAD_CREDENTIALS, "secret: PEM too large");
    GUARD(check_unencrypted(pem, len));
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, SIGIL_E_NO_MEMORY, "cannot allocate a PEM reader");
    *out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ENSURE(*out != NULL, SIGIL_E_BAD_CREDENTIALS, "secret: not a PEM %s private key", expect);
    return 0;
}
