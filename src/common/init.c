/* Library initialisation shared by every Sigil process. */
#include <sodium.h>

#include "sigil/common.h"

int sigil_init(void)
{
    ENSURE(sodium_init() >= 0, SIGIL_E_CRYPTO, "libsodium failed to initialise");
    return 0;
}
