/*
 * Loads a pinned root certificate from a PEM file (a dev root, or the AWS
 * root as published). libsigil-core. Exactly one certificate is accepted:
 * a file with several would leave which one is trusted to chance.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/attest.h"

static int x509_to_der(uint8_t **der, size_t *len, X509 *x)
{
    unsigned char *tmp = NULL;
    int n = i2d_X509(x, &tmp);
    ENSURE(n > 0, SIGIL_E_CRYPTO, "root certificate: cannot encode DER");
    *der = malloc((size_t)n);
    if (*der == NULL) {
        OPENSSL_free(tmp);
        BAIL(SIGIL_E_NO_MEMORY, "root certificate: out of memory");
    }
    memcpy(*der, tmp, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(tmp);
    return 0;
}

int sigil_attest_load_root_pem(uint8_t **der, size_t *len, const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    ENSURE(b != NULL, SIGIL_E_IO, "root certificate: cannot open %s", path);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509 *extra = x != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    if (x == NULL || extra != NULL) {
        X509_free(x);
        X509_free(extra);
        BAIL(SIGIL_E_BAD_ENCODING, "root certificate: %s must hold exactly one PEM certificate",
             path);
    }
    int rc = x509_to_der(der, len, x);
    X509_free(x);
    return rc;
}
