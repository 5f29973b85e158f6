/*
 * Stark curve cryptography for StarkNet venues (trusted): ECDSA with the
 * RFC 6979 nonces of @scure/starknet / starknet.js, the Pedersen hash and
 * StarkNet's 250-bit Keccak. Field elements ("felts") are 32-byte big-endian
 * integers below the Stark prime p.
 */
#ifndef SIGIL_STARK_H
#define SIGIL_STARK_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/stark_field.h"
#include "sigil/common.h"

#define SIGIL_STARK_FELT_BYTES 32

/* Whether 0 < key < n, without a branch on the key except on the verdict. */
SIGIL_WARN_UNUSED_RESULT int sigil_stark_check_key(const uint8_t key[static 32]);
/* The public key: x(key·G). */
SIGIL_WARN_UNUSED_RESULT int sigil_stark_public_key(uint8_t x[static 32],
                                                    const uint8_t key[static 32]);
/* ECDSA over a message hash below 2^251, k by RFC 6979 (HMAC-SHA256) with
 * StarkWare's truncation; the key and the nonce are handled in constant time.
 * Fails (crypto_error) where @scure/starknet throws: r or s^-1 not below 2^251. */
SIGIL_WARN_UNUSED_RESULT int sigil_stark_sign(uint8_t r[static 32], uint8_t s[static 32],
                                              const uint8_t key[static 32],
                                              const uint8_t hash[static 32]);
/* Verifies (r, s) on hash for the public point (x, y). Public data only. */
bool sigil_stark_verify(const uint8_t r[static 32], const uint8_t s[static 32],
                        const uint8_t pub_x[static 32], const uint8_t pub_y[static 32],
                        const uint8_t hash[static 32]);
/* y of key·G (tests: the point sigil_stark_verify takes). */
SIGIL_WARN_UNUSED_RESULT int sigil_stark_public_point(uint8_t x[static 32], uint8_t y[static 32],
                                                      const uint8_t key[static 32]);

/* Pedersen hash of two felts (each < p). Public data: variable time. */
void sigil_stark_pedersen_u256(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b);
SIGIL_WARN_UNUSED_RESULT int sigil_stark_pedersen(uint8_t out[static 32],
                                                  const uint8_t a[static 32],
                                                  const uint8_t b[static 32]);
/* computeHashOnElements: h(…h(h(0, e0), e1)…, n). Each element < p. */
void sigil_stark_hash_elements(sigil_u256 *out, const sigil_u256 *elems, size_t n);
/* StarkNet Keccak: Keccak-256 truncated to its low 250 bits. */
void sigil_stark_keccak(sigil_u256 *out, const void *p, size_t n);
/* Whether a < p (a felt). */
bool sigil_stark_is_felt(const sigil_u256 *a);

/* Marks p[0..n), derived from a secret, as public from here on: a no-op
 * except in tests/ctime, which wraps it (stark_declassify.c). */
void sigil_stark_declassify(const void *p, size_t n);

#endif
