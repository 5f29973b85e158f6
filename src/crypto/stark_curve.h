/*
 * The Stark curve y² = x³ + x + β over the Stark prime (trusted): projective
 * points in Montgomery form with the complete addition law of Renes,
 * Costello and Batina (one formula for every pair, the identity included),
 * fixed-window tables and a constant-time multiplication of the generator.
 */
#ifndef SIGIL_STARK_CURVE_H
#define SIGIL_STARK_CURVE_H

#include <stddef.h>

#include "crypto/stark_field.h"

typedef struct {
    sigil_u256 x, y, z; /* (X:Y:Z), Montgomery form; the identity is (0:1:0) */
} sigil_stark_point;

/* Window tables: 16 entries per 4-bit window, entry j of window i is
 * j·16^i·base, normalised to Z = 1 (entry 0 the identity). */
#define SIGIL_STARK_WINDOW ((size_t)16)
/* Windows covering a scalar below 2^252. */
#define SIGIL_STARK_SCALAR_WINDOWS ((size_t)63)

/* The generator and the five Pedersen points (P0 the shift point), affine. */
void sigil_stark_generator(sigil_stark_point *out);
void sigil_stark_pedersen_point(sigil_stark_point *out, size_t i);
/* Affine normal-form coordinates (< p) to a point; no curve check. */
void sigil_stark_point_from_affine(sigil_stark_point *out, const sigil_u256 *x,
                                   const sigil_u256 *y);

void sigil_stark_point_add(sigil_stark_point *out, const sigil_stark_point *a,
                           const sigil_stark_point *b);
/* x of the affine point in normal form (0 for the identity); constant time. */
void sigil_stark_point_x(sigil_u256 *x, const sigil_stark_point *p);
/* Affine (x, y) in normal form; constant time. */
void sigil_stark_point_xy(sigil_u256 *x, sigil_u256 *y, const sigil_stark_point *p);

/* Fills windows·width entries for base: entry j of window i is
 * j·width^i·base (width a power of two up to SIGIL_STARK_WIDE_WINDOW).
 * Public data: variable time. */
#define SIGIL_STARK_WIDE_WINDOW ((size_t)256)
void sigil_stark_table_build(sigil_stark_point *table, const sigil_stark_point *base,
                             size_t windows, size_t width);
/* out = table[idx] for idx < 16, reading every entry (constant time). */
void sigil_stark_table_select(sigil_stark_point *out, const sigil_stark_point *table16,
                              uint64_t idx);

/* k·G for k < 2^252 (normal form), constant time in k. */
void sigil_stark_mul_generator(sigil_stark_point *out, const sigil_u256 *k);
/* k·P for public k and P (signature verification), variable time. */
void sigil_stark_mul_public(sigil_stark_point *out, const sigil_stark_point *p,
                            const sigil_u256 *k);
/* Whether (x, y) (normal form) satisfies the curve equation. */
bool sigil_stark_on_curve(const sigil_u256 *x, const sigil_u256 *y);

#endif
