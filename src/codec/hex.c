/*
 * Hex codec. Decoding and encoding are constant-time (libsodium) so the same
 * functions serve secrets and public values.
 */
#include <sodium.h>

#include "sigil/codec.h"

void sigil_hex_encode(char *out, const uint8_t *in, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

static size_t skip_0x(const char **in, size_t in_len, bool allow_0x)
{
    if (allow_0x && in_len >= 2 && (*in)[0] == '0' && ((*in)[1] == 'x' || (*in)[1] == 'X')) {
        *in += 2;
        return in_len - 2;
    }
    return in_len;
}

int sigil_hex_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len,
                     bool allow_0x, const char *what)
{
    in_len = skip_0x(&in, in_len, allow_0x);
    ENSURE(in_len % 2 == 0, SIGIL_E_BAD_ENCODING, "%s: hex has an odd number of digits", what);
    ENSURE(in_len / 2 <= out_cap, SIGIL_E_TOO_LARGE, "%s: longer than %zu bytes", what, out_cap);
    const char *end = NULL;
    size_t n = 0;
    if (sodium_hex2bin(out, out_cap, in, in_len, NULL, &n, &end) != 0 || end != in + in_len)
        BAIL(SIGIL_E_BAD_ENCODING, "%s: not hexadecimal", what);
    *out_len = n;
    return 0;
}

int sigil_hex_decode_exact(uint8_t *out, size_t out_len, const char *in, size_t in_len,
                           bool allow_0x, const char *what)
{
    size_t n;
    in_len = skip_0x(&in, in_len, allow_0x);
    ENSURE(in_len == 2 * out_len, SIGIL_E_BAD_FIELD, "%s: expected %zu hex digits, got %zu", what,
           2 * out_len, in_len);
    return sigil_hex_decode(out, out_len, &n, in, in_len, false, what);
}
