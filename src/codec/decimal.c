/*
 * Exact non-negative decimals (libsigil-core, parses untrusted text): base
 * 10^9 limbs and a scale, no floating point, no allocation. Every result is
 * normalised (no trailing fraction zeros, no high zero limbs), so equal values
 * have equal representations; a result that does not fit fails rather than
 * rounds.
 */
#include <string.h>

#include "sigil/decimal.h"

#define BASE 1000000000u
#define LIMB_DIGITS 9u
/* Scales above this could not be aligned within WIDE limbs. */
#define MAX_SCALE (SIGIL_DEC_LIMBS * LIMB_DIGITS)
/* Temporaries: a product of two full values, or one aligned by MAX_SCALE. */
#define WIDE (2 * SIGIL_DEC_LIMBS + 2)

typedef struct {
    uint32_t limb[WIDE];
    size_t n;
    unsigned scale;
} wide;

static const uint32_t POW10[LIMB_DIGITS] = {1,      10,      100,      1000,     10000,
                                            100000, 1000000, 10000000, 100000000};

static void wide_trim(wide *w)
{
    while (w->n > 0 && w->limb[w->n - 1] == 0)
        w->n--;
}

static void wide_from(wide *w, const sigil_dec *a)
{
    memset(w, 0, sizeof(*w));
    w->n = a->n <= SIGIL_DEC_LIMBS ? a->n : SIGIL_DEC_LIMBS;
    memcpy(w->limb, a->limb, w->n * sizeof(w->limb[0]));
    w->scale = a->scale;
    wide_trim(w);
}

/* w *= m, m < BASE; fails when the result needs more than WIDE limbs. */
static int wide_mul_small(wide *w, uint32_t m)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < w->n; i++) {
        uint64_t t = (uint64_t)w->limb[i] * m + carry;
        w->limb[i] = (uint32_t)(t % BASE);
        carry = t / BASE;
    }
    if (carry != 0) {
        ENSURE(w->n < WIDE, SIGIL_E_OUT_OF_RANGE, "decimal: result out of range");
        w->limb[w->n++] = (uint32_t)carry;
    }
    return 0;
}

/* w *= 10^k (the scale grows by k: the value is unchanged). */
static int wide_align(wide *w, unsigned k)
{
    size_t limbs = k / LIMB_DIGITS;
    w->scale += k;
    if (w->n == 0)
        return 0;
    ENSURE(w->n + limbs <= WIDE, SIGIL_E_OUT_OF_RANGE, "decimal: result out of range");
    memmove(w->limb + limbs, w->limb, w->n * sizeof(w->limb[0]));
    memset(w->limb, 0, limbs * sizeof(w->limb[0]));
    w->n += limbs;
    return wide_mul_small(w, POW10[k % LIMB_DIGITS]);
}

/* Removes trailing fraction zeros: whole zero limbs first, then digits. */
static void wide_normalise(wide *w)
{
    wide_trim(w);
    if (w->n == 0) {
        w->scale = 0;
        return;
    }
    size_t drop = 0;
    while (drop < w->n && w->limb[drop] == 0 && w->scale >= LIMB_DIGITS * (drop + 1))
        drop++;
    memmove(w->limb, w->limb + drop, (w->n - drop) * sizeof(w->limb[0]));
    w->n -= drop;
    w->scale -= (unsigned)(drop * LIMB_DIGITS);
    while (w->scale > 0 && w->limb[0] % 10 == 0) {
        uint32_t rem = 0;
        for (size_t i = w->n; i-- > 0;) {
            uint64_t t = (uint64_t)rem * BASE + w->limb[i];
            w->limb[i] = (uint32_t)(t / 10);
            rem = (uint32_t)(t % 10);
        }
        w->scale--;
        wide_trim(w);
    }
}

static int wide_to_dec(sigil_dec *out, wide *w)
{
    wide_normalise(w);
    ENSURE(w->n <= SIGIL_DEC_LIMBS && w->scale <= MAX_SCALE, SIGIL_E_OUT_OF_RANGE,
           "decimal: result out of range");
    memset(out, 0, sizeof(*out));
    memcpy(out->limb, w->limb, w->n * sizeof(w->limb[0]));
    out->n = (uint16_t)w->n;
    out->scale = (uint16_t)w->scale;
    return 0;
}

static int wide_cmp_aligned(const wide *a, const wide *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (size_t i = a->n; i-- > 0;)
        if (a->limb[i] != b->limb[i])
            return a->limb[i] < b->limb[i] ? -1 : 1;
    return 0;
}

/* Brings both to the larger scale. Values within bounds always fit WIDE. */
static int wide_align_pair(wide *a, wide *b)
{
    if (a->scale < b->scale)
        return wide_align(a, b->scale - a->scale);
    return wide_align(b, a->scale - b->scale);
}

/* ---- public ---- */

int sigil_dec_parse(sigil_dec *out, const char *s, size_t n, const char *what)
{
    wide w;
    size_t digits = 0, dots = 0, frac = 0;
    ENSURE(n <= SIGIL_DEC_MAX_TEXT, SIGIL_E_OUT_OF_RANGE, "%s: longer than %d characters", what,
           SIGIL_DEC_MAX_TEXT);
    for (size_t i = 0; i < n; i++) {
        bool digit = s[i] >= '0' && s[i] <= '9';
        ENSURE(digit || s[i] == '.', SIGIL_E_BAD_FIELD,
               "%s: not a decimal (digits with at most one '.')", what);
        digits += digit;
        frac += digit && dots > 0;
        dots += !digit;
    }
    ENSURE(digits > 0 && dots <= 1, SIGIL_E_BAD_FIELD,
           "%s: not a decimal (digits with at most one '.')", what);
    memset(&w, 0, sizeof(w));
    w.scale = (unsigned)frac;
    size_t k = 0; /* digits placed so far, least significant first */
    for (size_t i = n; i-- > 0;) {
        if (s[i] == '.')
            continue;
        w.limb[k / LIMB_DIGITS] += (uint32_t)(s[i] - '0') * POW10[k % LIMB_DIGITS];
        k++;
    }
    w.n = (k + LIMB_DIGITS - 1) / LIMB_DIGITS;
    return wide_to_dec(out, &w);
}

void sigil_dec_from_u64(sigil_dec *out, uint64_t v)
{
    memset(out, 0, sizeof(*out));
    while (v != 0) {
        out->limb[out->n++] = (uint32_t)(v % BASE);
        v /= BASE;
    }
}

int sigil_dec_cmp(const sigil_dec *a, const sigil_dec *b)
{
    wide x, y;
    wide_from(&x, a);
    wide_from(&y, b);
    wide_normalise(&x);
    wide_normalise(&y);
    if (wide_align_pair(&x, &y) != 0) /* only for values outside the bounds */
        return x.scale > y.scale ? 1 : -1;
    return wide_cmp_aligned(&x, &y);
}

bool sigil_dec_is_zero(const sigil_dec *a)
{
    wide x;
    wide_from(&x, a);
    return x.n == 0;
}

int sigil_dec_mul(sigil_dec *out, const sigil_dec *a, const sigil_dec *b)
{
    wide x, y, p;
    wide_from(&x, a);
    wide_from(&y, b);
    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < x.n; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < y.n; j++) {
            uint64_t t = (uint64_t)x.limb[i] * y.limb[j] + p.limb[i + j] + carry;
            p.limb[i + j] = (uint32_t)(t % BASE);
            carry = t / BASE;
        }
        p.limb[i + y.n] = (uint32_t)carry;
    }
    p.n = x.n + y.n;
    p.scale = x.scale + y.scale;
    return wide_to_dec(out, &p);
}

int sigil_dec_add(sigil_dec *out, const sigil_dec *a, const sigil_dec *b)
{
    wide x, y;
    wide_from(&x, a);
    wide_from(&y, b);
    GUARD(wide_align_pair(&x, &y));
    uint32_t carry = 0;
    size_t n = x.n > y.n ? x.n : y.n;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = x.limb[i] + y.limb[i] + carry; /* < 2 * BASE: fits */
        x.limb[i] = t % BASE;
        carry = t / BASE;
    }
    x.n = n;
    if (carry != 0) {
        ENSURE(x.n < WIDE, SIGIL_E_OUT_OF_RANGE, "decimal: result out of range");
        x.limb[x.n++] = carry;
    }
    return wide_to_dec(out, &x);
}

int sigil_dec_shift(sigil_dec *out, const sigil_dec *a, unsigned k)
{
    wide x;
    wide_from(&x, a);
    wide_normalise(&x);
    if (x.n == 0) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    ENSURE(k <= MAX_SCALE && x.scale + k <= MAX_SCALE, SIGIL_E_OUT_OF_RANGE,
           "decimal: result out of range");
    x.scale += k;
    return wide_to_dec(out, &x);
}

unsigned sigil_dec_fraction_digits(const sigil_dec *a)
{
    wide x;
    wide_from(&x, a);
    wide_normalise(&x);
    return x.scale;
}

/* The integer's digits, most significant first, without leading zeros. */
static size_t wide_digits(char *buf, const wide *w)
{
    size_t len = 0;
    for (size_t i = w->n; i-- > 0;) {
        uint32_t v = w->limb[i];
        char tmp[LIMB_DIGITS];
        for (size_t k = LIMB_DIGITS; k-- > 0;) {
            tmp[k] = (char)('0' + v % 10);
            v /= 10;
        }
        size_t skip = 0;
        while (len == 0 && skip < LIMB_DIGITS - 1 && tmp[skip] == '0')
            skip++;
        memcpy(buf + len, tmp + skip, LIMB_DIGITS - skip);
        len += LIMB_DIGITS - skip;
    }
    return len;
}

int sigil_dec_format(char *out, size_t cap, const sigil_dec *a)
{
    char digits[WIDE * LIMB_DIGITS];
    char text[WIDE * LIMB_DIGITS + MAX_SCALE + 3];
    wide x;
    size_t n = 0;
    wide_from(&x, a);
    wide_normalise(&x);
    ENSURE(x.scale <= MAX_SCALE, SIGIL_E_OUT_OF_RANGE, "decimal: scale out of range");
    size_t nd = x.n == 0 ? 0 : wide_digits(digits, &x);
    if (x.n == 0) {
        text[n++] = '0';
    } else if (nd > x.scale) {
        memcpy(text, digits, nd - x.scale);
        n = nd - x.scale;
        if (x.scale > 0)
            text[n++] = '.';
        memcpy(text + n, digits + nd - x.scale, x.scale);
        n += x.scale;
    } else {
        text[n++] = '0';
        text[n++] = '.';
        memset(text + n, '0', x.scale - nd);
        n += x.scale - nd;
        memcpy(text + n, digits, nd);
        n += nd;
    }
    ENSURE(n < cap, SIGIL_E_TOO_LARGE, "decimal: %zu characters do not fit %zu bytes", n, cap);
    memcpy(out, text, n);
    out[n] = '\0';
    return 0;
}
