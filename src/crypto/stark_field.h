/*
 * Arithmetic modulo the Stark field prime p and the curve order n (trusted):
 * 256-bit integers as four little-endian 64-bit limbs, Montgomery
 * multiplication, and conditional moves by mask. Every function runs in time
 * independent of the values (not of the modulus), so secret keys and nonces
 * may pass through any of them.
 */
#ifndef SIGIL_STARK_FIELD_H
#define SIGIL_STARK_FIELD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t v[4]; /* little-endian limbs */
} sigil_u256;

/* A modulus m < 2^252 with its Montgomery constants (R = 2^256). */
typedef struct {
    sigil_u256 m;
    uint64_t m0inv; /* -m^-1 mod 2^64 */
    sigil_u256 r2;  /* R^2 mod m */
    sigil_u256 one; /* R mod m */
    sigil_u256 m_minus_2;
} sigil_stark_mod;

extern const sigil_stark_mod SIGIL_STARK_P; /* 2^251 + 17·2^192 + 1 */
extern const sigil_stark_mod SIGIL_STARK_N; /* the order of the generator */

/* Big-endian 32 bytes <-> limbs (no reduction). */
void sigil_u256_from_be(sigil_u256 *out, const uint8_t in[static 32]);
void sigil_u256_to_be(uint8_t out[static 32], const sigil_u256 *in);
void sigil_u256_from_u64(sigil_u256 *out, uint64_t v);
/* All-ones when a < b, else 0; constant time. */
uint64_t sigil_u256_lt_mask(const sigil_u256 *a, const sigil_u256 *b);
/* All-ones when a == 0, else 0; constant time. */
uint64_t sigil_u256_zero_mask(const sigil_u256 *a);
/* out = mask ? a : out (mask all-ones or 0). */
void sigil_u256_cmov(sigil_u256 *out, const sigil_u256 *a, uint64_t mask);
bool sigil_u256_eq(const sigil_u256 *a, const sigil_u256 *b); /* public values only */

/* Modular operations on reduced inputs (< m); out may alias inputs. */
void sigil_mod_add(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b,
                   const sigil_stark_mod *m);
void sigil_mod_sub(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b,
                   const sigil_stark_mod *m);
/* Montgomery product a·b·R^-1 mod m. */
void sigil_mod_mul(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b,
                   const sigil_stark_mod *m);
void sigil_mod_to_mont(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m);
void sigil_mod_from_mont(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m);
/* Inverse in Montgomery form by Fermat (a^(m-2)): a fixed sequence of
 * squarings and multiplications; 0 maps to 0. */
void sigil_mod_inv(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m);
/* Reduces a < 2m into [0, m). */
void sigil_mod_reduce_once(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m);

#endif
