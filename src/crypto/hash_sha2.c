/* SHA-2 one-shot hashes (public data). libsodium for SHA-256/512, OpenSSL
 * for SHA-384 which libsodium lacks. */
#include <openssl/sha.h>
#include <sodium.h>

#include "sigil/crypto.h"

void sigil_sha256(uint8_t out[static 32], const void *p, size_t n)
{
    crypto_hash_sha256(out, p, n);
}

void sigil_sha512(uint8_t out[static 64], const void *p, size_t n)
{
    crypto_hash_sha512(out, p, n);
}

void sigil_sha384(uint8_t out[static 48], const void *p, size_t n)
{
    SHA384(p, n, out);
}
