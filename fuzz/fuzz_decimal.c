/*
 * Fuzz target for exact decimals (src/codec/decimal.c): the first byte picks
 * a shift; the rest is two operands separated by the first ','. Properties,
 * checked with abort(): parsing agrees with an independent digit-string
 * comparison, formatting round-trips, add and mul commute, a sum is never
 * below an operand, a product by one is the operand, and failures leave the
 * output unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The integer and fraction digits of valid text, without the zeros that do
 * not change the value. */
typedef struct {
    const char *i, *f;
    size_t ni, nf;
} digits;

static digits split(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    digits d = {s, dot ? dot + 1 : s + n, dot ? (size_t)(dot - s) : n,
                dot ? n - (size_t)(dot - s) - 1 : 0};
    while (d.ni > 0 && d.i[0] == '0') {
        d.i++;
        d.ni--;
    }
    while (d.nf > 0 && d.f[d.nf - 1] == '0')
        d.nf--;
    return d;
}

static int ref_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    digits x = split(a, na), y = split(b, nb);
    if (x.ni != y.ni)
        return x.ni < y.ni ? -1 : 1;
    int c = memcmp(x.i, y.i, x.ni);
    if (c != 0)
        return c < 0 ? -1 : 1;
    for (size_t k = 0; k < x.nf || k < y.nf; k++) {
        char p = k < x.nf ? x.f[k] : '0', q = k < y.nf ? y.f[k] : '0';
        if (p != q)
            return p < q ? -1 : 1;
    }
    return 0;
}

static void round_trip(const sigil_dec *a)
{
    char text[700];
    sigil_dec b;
    if (sigil_dec_format(text, sizeof(text), a) != 0)
        abort();
    size_t n = strlen(text);
    if (n <= SIGIL_DEC_MAX_TEXT &&
        (sigil_dec_parse(&b, text, n, "fuzz") != 0 || memcmp(a, &b, sizeof(b)) != 0))
        abort();
}

static void arithmetic(const sigil_dec *a, const sigil_dec *b, unsigned shift)
{
    static const sigil_dec ONE = {.limb = {1}, .n = 1};
    sigil_dec x, y, keep;
    if (sigil_dec_add(&x, a, b) != 0 || sigil_dec_add(&y, b, a) != 0 ||
        sigil_dec_cmp(&x, &y) != 0 || sigil_dec_cmp(&x, a) < 0 || sigil_dec_cmp(&x, b) < 0)
        abort(); /* two 64-character operands always fit */
    round_trip(&x);
    if (sigil_dec_mul(&x, a, b) != 0 || sigil_dec_mul(&y, b, a) != 0 ||
        memcmp(&x, &y, sizeof(x)) != 0)
        abort();
    round_trip(&x);
    if (sigil_dec_mul(&y, a, &ONE) != 0 || sigil_dec_cmp(&y, a) != 0)
        abort();
    keep = y;
    if (sigil_dec_shift(&y, &y, shift) != 0) {
        if (memcmp(&y, &keep, sizeof(y)) != 0)
            abort(); /* unchanged on failure */
        return;
    }
    if (sigil_dec_cmp(&y, &keep) > 0 || sigil_dec_fraction_digits(&y) > 288)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_dec a, b;
    if (size < 1)
        return 0;
    unsigned shift = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    const char *comma = memchr(s, ',', n);
    size_t na = comma ? (size_t)(comma - s) : n;
    const char *t = comma ? comma + 1 : s;
    size_t nb = comma ? n - na - 1 : n;
    int ra = sigil_dec_parse(&a, s, na, "a");
    int rb = sigil_dec_parse(&b, t, nb, "b");
    if (ra == 0)
        round_trip(&a);
    if (ra != 0 || rb != 0)
        return 0;
    if (sigil_dec_cmp(&a, &b) != ref_cmp(s, na, t, nb) ||
        sigil_dec_cmp(&b, &a) != -sigil_dec_cmp(&a, &b))
        abort();
    arithmetic(&a, &b, shift);
    return 0;
}
