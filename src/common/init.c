/* Library initialisation shared by every Sigil process. */
#include <openssl/crypto.h>
#include <sodium.h>

#include "sigil/common.h"

/* OpenSSL's secure heap: private BIGNUMs (RSA keys) and secure PEM buffers
 * are then allocated from an mlock'ed, non-dumpable arena. */
#define OPENSSL_SECURE_HEAP ((size_t)256 * 1024)
#define OPENSSL_SECURE_MIN 32

int sigil_init(void)
{
    ENSURE(sodium_init() >= 0, SIGIL_E_CRYPTO, "libsodium failed to initialise");
    if (CRYPTO_secure_malloc_initialized() == 0)
        (void)CRYPTO_secure_malloc_init(OPENSSL_SECURE_HEAP, OPENSSL_SECURE_MIN);
    return 0;
}
