/*
 * PEM private keys (trusted): no passphrase prompts, and encrypted keys
 * refused up front with an error that says so.
 */
#include <string.h>

#include "sigil/crypto.h"

int sigil_pem_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int sigil_pem_check_unencrypted(const char *pem, size_t len)
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
