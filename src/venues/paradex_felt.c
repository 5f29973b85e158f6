/*
 * Felts from Paradex request text (trusted code, untrusted input): short
 * strings, decimal and hex integers, sizes and prices scaled by 10^8, and
 * the decimal text of a signature. Every value is checked to be below the
 * Stark prime; nothing is reduced silently.
 */
#include <string.h>

#include "venues/paradex_internal.h"

typedef unsigned __int128 u128;

/* v = v·mul + add; 0, or -1 when the result passes 2^256. */
static int mul_add(sigil_u256 *v, uint64_t mul, uint64_t add)
{
    u128 c = add;
    for (int i = 0; i < 4; i++) {
        c += (u128)v->v[i] * mul;
        v->v[i] = (uint64_t)c;
        c >>= 64;
    }
    return c == 0 ? 0 : -1;
}

static int check_felt(const sigil_u256 *v, int overflow, const char *what)
{
    ENSURE(overflow == 0 && sigil_stark_is_felt(v), SIGIL_E_OUT_OF_RANGE,
           "%s: not below the Stark prime", what);
    return 0;
}

int sigil_paradex_short_string(sigil_u256 *out, const char *s, size_t n, const char *what)
{
    ENSURE(n <= SIGIL_PARADEX_SHORT_MAX, SIGIL_E_OUT_OF_RANGE,
           "%s: longer than %d characters (a Cairo short string)", what, SIGIL_PARADEX_SHORT_MAX);
    sigil_u256_from_u64(out, 0);
    for (size_t i = 0; i < n; i++) {
        ENSURE(s[i] >= 0x20 && s[i] < 0x7f, SIGIL_E_BAD_FIELD, "%s: printable ASCII only", what);
        (void)mul_add(out, 256, (uint8_t)s[i]); /* 31 bytes fit */
    }
    return 0;
}

int sigil_paradex_decimal_felt(sigil_u256 *out, const char *s, size_t n, const char *what)
{
    int overflow = 0;
    ENSURE(n > 0 && n <= 78 && (s[0] != '0' || n == 1), SIGIL_E_BAD_FIELD,
           "%s: expected a decimal integer without leading zeros", what);
    sigil_u256_from_u64(out, 0);
    for (size_t i = 0; i < n; i++) {
        ENSURE(s[i] >= '0' && s[i] <= '9', SIGIL_E_BAD_FIELD, "%s: expected a decimal integer",
               what);
        overflow |= mul_add(out, 10, (uint64_t)(s[i] - '0'));
    }
    return check_felt(out, overflow, what);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sigil_paradex_hex_felt(sigil_u256 *out, const char *s, size_t n, const char *what)
{
    ENSURE(n > 2 && n <= 66 && s[0] == '0' && s[1] == 'x', SIGIL_E_BAD_FIELD,
           "%s: expected 0x and 1 to 64 hex digits", what);
    sigil_u256_from_u64(out, 0);
    for (size_t i = 2; i < n; i++) {
        int d = hex_digit(s[i]);
        ENSURE(d >= 0, SIGIL_E_BAD_FIELD, "%s: expected 0x and 1 to 64 hex digits", what);
        (void)mul_add(out, 16, (uint64_t)d); /* 64 digits fit */
    }
    return check_felt(out, 0, what);
}

/* Digits with at most one '.', at least one digit before it, at most 8
 * after it; no sign, exponent or leading zero ("0.5" but not "00.5"). */
int sigil_paradex_scaled(sigil_u256 *out, const char *s, size_t n, const char *what)
{
    size_t dot = n, frac = 0;
    int overflow = 0;
    ENSURE(n > 0 && n <= 64, SIGIL_E_BAD_FIELD, "%s: expected a decimal number", what);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' && dot == n)
            dot = i;
    ENSURE(dot > 0 && dot != n - 1, SIGIL_E_BAD_FIELD,
           "%s: expected a decimal number (digits, at most one '.', digits on both sides)", what);
    ENSURE(s[0] != '0' || dot == 1, SIGIL_E_BAD_FIELD, "%s: leading zeros are not allowed", what);
    frac = dot == n ? 0 : n - dot - 1;
    ENSURE(frac <= SIGIL_PARADEX_DECIMALS, SIGIL_E_BAD_FIELD,
           "%s: more than %d decimal places (Paradex scales by 10^8)", what,
           SIGIL_PARADEX_DECIMALS);
    sigil_u256_from_u64(out, 0);
    for (size_t i = 0; i < n; i++) {
        if (i == dot)
            continue;
        ENSURE(s[i] >= '0' && s[i] <= '9', SIGIL_E_BAD_FIELD,
               "%s: expected a decimal number (digits and one '.')", what);
        overflow |= mul_add(out, 10, (uint64_t)(s[i] - '0'));
    }
    for (size_t i = frac; i < SIGIL_PARADEX_DECIMALS; i++)
        overflow |= mul_add(out, 10, 0);
    return check_felt(out, overflow, what);
}

int sigil_paradex_put_decimal(sigil_buf *b, const sigil_u256 *v)
{
    char digits[80];
    size_t n = 0;
    sigil_u256 t = *v;
    do {
        u128 rem = 0;
        for (int i = 3; i >= 0; i--) {
            u128 cur = (rem << 64) | t.v[i];
            t.v[i] = (uint64_t)(cur / 10);
            rem = cur % 10;
        }
        digits[n++] = (char)('0' + (int)rem);
    } while ((t.v[0] | t.v[1] | t.v[2] | t.v[3]) != 0 && n < sizeof(digits));
    for (size_t i = 0; i < n; i++)
        GUARD(sigil_buf_putc(b, digits[n - 1 - i]));
    return 0;
}
