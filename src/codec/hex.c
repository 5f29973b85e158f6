/*
 * Hex codec. Encoding is libsodium's (constant time); decoding is ours, with
 * no branch and no table lookup on the digits, so the same functions serve
 * secrets and public values. The one branch on the digits, in hex_verdict,
 * is on whether they were hex, which the caller learns anyway; tests/ctime
 * checks the rest under valgrind.
 */
#include <sodium.h>

#include "common/ct.h"
#include "sigil/codec.h"

void sigil_hex_encode(char *out, const uint8_t *in, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

/* The value of hex digit c (either case); *bad gets 1 when c is not one. */
static uint32_t ct_hex_digit(uint32_t c, uint32_t *bad)
{
    uint32_t d = sigil_ct_in_range(c, '0', '9');
    uint32_t l = sigil_ct_in_range(c, 'a', 'f');
    uint32_t u = sigil_ct_in_range(c, 'A', 'F');
    *bad |= 1u ^ (d | l | u);
    return ((0u - d) & (c - '0')) | ((0u - l) & (c - 'a' + 10)) | ((0u - u) & (c - 'A' + 10));
}

/* An optional 0x prefix is found by looking at the first two characters:
 * sigil_hex_decode with allow_0x is for public text. Secrets go without
 * allow_0x or through sigil_hex_decode_exact, which looks only when the
 * length says there is a prefix. */
static size_t skip_0x(const char **in, size_t in_len, bool allow_0x)
{
    if (allow_0x && in_len >= 2 && (*in)[0] == '0' && ((*in)[1] == 'x' || (*in)[1] == 'X')) {
        *in += 2;
        return in_len - 2;
    }
    return in_len;
}

/* The one branch on the digits: whether they were all hex, which the caller
 * learns from the result. Kept out of line: tests/ctime/ctime.supp names it
 * as a declassification point. */
static __attribute__((noinline)) int hex_verdict(uint32_t bad, uint8_t *out, size_t n,
                                                 const char *what)
{
    if (bad != 0) {
        sodium_memzero(out, n);
        BAIL(SIGIL_E_BAD_ENCODING, "%s: not hexadecimal", what);
    }
    return 0;
}

int sigil_hex_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len,
                     bool allow_0x, const char *what)
{
    in_len = skip_0x(&in, in_len, allow_0x);
    ENSURE(in_len % 2 == 0, SIGIL_E_BAD_ENCODING, "%s: hex has an odd number of digits", what);
    ENSURE(in_len / 2 <= out_cap, SIGIL_E_TOO_LARGE, "%s: longer than %zu bytes", what, out_cap);
    size_t n = in_len / 2;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t hi = ct_hex_digit((uint8_t)in[2 * i], &bad);
        uint32_t lo = ct_hex_digit((uint8_t)in[2 * i + 1], &bad);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    GUARD(hex_verdict(bad, out, n, what));
    *out_len = n;
    return 0;
}

int sigil_hex_decode_exact(uint8_t *out, size_t out_len, const char *in, size_t in_len,
                           bool allow_0x, const char *what)
{
    size_t n;
    /* Text of exactly the digits' length is decoded without a look at its
     * first two characters, which are then digits; any other length has a
     * prefix or is refused, so those characters are format. */
    if (in_len != 2 * out_len)
        in_len = skip_0x(&in, in_len, allow_0x);
    ENSURE(in_len == 2 * out_len, SIGIL_E_BAD_FIELD, "%s: expected %zu hex digits, got %zu", what,
           2 * out_len, in_len);
    return sigil_hex_decode(out, out_len, &n, in, in_len, false, what);
}
