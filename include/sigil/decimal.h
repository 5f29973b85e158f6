/*
 * Exact non-negative decimals (libsigil-core) for policy caps: quantities,
 * prices, notionals and daily sums are compared and multiplied exactly,
 * never through floating point. Text form: digits with at most one '.',
 * at least one digit ("5", "0.5", ".5", "5." are valid; "", ".", "1e5",
 * "-1", "+1", "1.2.3", " 1" are not), at most SIGIL_DEC_MAX_TEXT bytes.
 * Values are base-10^9 limbs (little-endian) and a scale: value =
 * limbs / 10^scale. Results that do not fit SIGIL_DEC_LIMBS limbs fail with
 * SIGIL_E_OUT_OF_RANGE rather than round.
 */
#ifndef SIGIL_DECIMAL_H
#define SIGIL_DECIMAL_H

#include <stdbool.h>

#include "sigil/common.h"

#define SIGIL_DEC_MAX_TEXT 64
#define SIGIL_DEC_LIMBS 32 /* 288 digits: a 64-digit product of three operands, plus sums */

typedef struct {
    uint32_t limb[SIGIL_DEC_LIMBS]; /* base 10^9, least significant first */
    uint16_t n;                     /* limbs in use (0 for zero) */
    uint16_t scale;                 /* digits after the point */
} sigil_dec;

/* Parses the text form above. SIGIL_E_BAD_FIELD naming `what` when malformed,
 * SIGIL_E_OUT_OF_RANGE when longer than SIGIL_DEC_MAX_TEXT. */
SIGIL_WARN_UNUSED_RESULT int sigil_dec_parse(sigil_dec *out, const char *s, size_t n,
                                             const char *what);
/* Integers (e.g. Hyperliquid or Gate sizes given as JSON integers). */
void sigil_dec_from_u64(sigil_dec *out, uint64_t v);
/* -1, 0 or 1: exact comparison ("0.1" == "0.10", "0" == "0.0"). */
int sigil_dec_cmp(const sigil_dec *a, const sigil_dec *b);
bool sigil_dec_is_zero(const sigil_dec *a);
/* out = a * b and out = a + b, exact; out may alias an operand. */
SIGIL_WARN_UNUSED_RESULT int sigil_dec_mul(sigil_dec *out, const sigil_dec *a, const sigil_dec *b);
SIGIL_WARN_UNUSED_RESULT int sigil_dec_add(sigil_dec *out, const sigil_dec *a, const sigil_dec *b);
/* Scales by 10^-k (a venue's integer units to its decimal units). */
SIGIL_WARN_UNUSED_RESULT int sigil_dec_shift(sigil_dec *out, const sigil_dec *a, unsigned k);
/* Digits after the point once trailing zeros are removed ("1.50" -> 1). */
unsigned sigil_dec_fraction_digits(const sigil_dec *a);
/* Shortest text: no leading zeros (but "0.x"), no trailing fraction zeros,
 * "0" for zero. SIGIL_E_TOO_LARGE when cap is too small. */
SIGIL_WARN_UNUSED_RESULT int sigil_dec_format(char *out, size_t cap, const sigil_dec *a);

#endif
