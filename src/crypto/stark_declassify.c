/*
 * The point where a value derived from a Stark secret becomes public
 * (trusted): a verdict the caller learns anyway, a signature, a public key.
 * A no-op here; tests/ctime links with --wrap=sigil_stark_declassify so that
 * under valgrind it marks the bytes defined, as libsecp256k1's
 * secp256k1_declassify does. Kept in its own file so that every call goes
 * through the symbol.
 */
#include "crypto/stark.h"

void sigil_stark_declassify(const void *p, size_t n)
{
    (void)p;
    (void)n;
}
