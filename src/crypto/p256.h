/*
 * ECDSA P-256 / SHA-256 (ES256) with RFC 6979 deterministic nonces (trusted).
 * OpenSSL 3.0 has no deterministic ECDSA, so k is derived here (RFC 6979
 * §3.2, HMAC-SHA256) and the signature computed with OpenSSL's EC/BN
 * primitives, constant-time flags set on every secret value.
 */
#ifndef SIGIL_CRYPTO_P256_H
#define SIGIL_CRYPTO_P256_H

#include "sigil/crypto.h"

/* The 32-byte secret scalar of an unencrypted PEM P-256 private key, SEC1
 * ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). Never prompts; errors never
 * quote the key. */
SIGIL_WARN_UNUSED_RESULT int sigil_p256_scalar_from_pem(uint8_t d[static 32], const char *pem,
                                                        size_t len);

/* RFC 6979 §3.2 nonce for secret d and digest h1 (qlen = hlen = 256): the
 * `attempt`-th candidate in [1, n-1] (attempt 0 is the first). */
SIGIL_WARN_UNUSED_RESULT int sigil_p256_rfc6979_k(uint8_t k[static 32], const uint8_t d[static 32],
                                                  const uint8_t h1[static 32], unsigned attempt);

/* sig = r ‖ s (32 bytes each, big-endian), as JWS ES256 wants. s is not
 * normalised (RFC 6979 A.2.5 values). */
SIGIL_WARN_UNUSED_RESULT int sigil_p256_sign_digest(uint8_t sig[static 64],
                                                    const uint8_t d[static 32],
                                                    const uint8_t h1[static 32]);

#endif
