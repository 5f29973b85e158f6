/*
 * Base64 codec, constant time: standard alphabet with padding for venue
 * signatures and secrets, URL-safe without padding for JWTs. Encoding is
 * libsodium's; decoding is ours (libsodium's decoder stops at the first
 * character outside the alphabet, a branch on each character of a secret).
 */
#include <sodium.h>
#include <string.h>

#include "common/ct.h"
#include "sigil/codec.h"

static int sodium_variant(sigil_b64_variant v)
{
    return v == SIGIL_B64_URL_NP ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                                 : sodium_base64_VARIANT_ORIGINAL;
}

/* libsodium writes a terminating NUL; the buffer need not have room for it:
 * whole 3-byte groups but the last are encoded in place (the last group's
 * room holds their NUL), the last group through a small stack buffer. */
int sigil_b64_put(sigil_buf *b, const uint8_t *in, size_t n, sigil_b64_variant v)
{
    int sv = sodium_variant(v);
    size_t need = sodium_base64_encoded_len(n, sv) - 1;
    ENSURE(need <= b->cap - b->len, SIGIL_E_TOO_LARGE, "output exceeds %zu bytes", b->cap);
    if (n == 0)
        return 0;
    size_t tail = n % 3 ? n % 3 : 3;
    size_t head = n - tail;
    char last[5];
    if (head > 0) {
        size_t hlen = sodium_base64_encoded_len(head, sv);
        sodium_bin2base64((char *)b->data + b->len, hlen, in, head, sv);
        b->len += hlen - 1;
    }
    size_t tlen = sodium_base64_encoded_len(tail, sv);
    sodium_bin2base64(last, sizeof(last), in + head, tail, sv);
    memcpy(b->data + b->len, last, tlen - 1);
    b->len += tlen - 1;
    sodium_memzero(last, sizeof(last));
    return 0;
}

/* 1 when c == x. */
static uint32_t ct_eq(uint32_t c, uint32_t x)
{
    return sigil_ct_in_range(c, x, x);
}

/* The 6-bit value of base64 character c (c62, c63: the variant's last two
 * characters); *bad gets 1 when c is not in the alphabet. No branch and no
 * table on c. */
static uint32_t ct_b64_value(uint32_t c, uint32_t c62, uint32_t c63, uint32_t *bad)
{
    uint32_t u = sigil_ct_in_range(c, 'A', 'Z');
    uint32_t l = sigil_ct_in_range(c, 'a', 'z');
    uint32_t d = sigil_ct_in_range(c, '0', '9');
    uint32_t p = ct_eq(c, c62);
    uint32_t s = ct_eq(c, c63);
    *bad |= 1u ^ (u | l | d | p | s);
    return ((0u - u) & (c - 'A')) | ((0u - l) & (c - 'a' + 26)) | ((0u - d) & (c - '0' + 52)) |
           ((0u - p) & 62u) | ((0u - s) & 63u);
}

/* How many '=' end padded text (0 to 2). The decoded length, which the
 * caller learns, tells as much. Kept out of line: tests/ctime/ctime.supp
 * names it as a declassification point. */
static __attribute__((noinline)) size_t b64_padding(const char *in, size_t in_len)
{
    size_t pad = 0;
    while (pad < 2 && pad < in_len && in[in_len - 1 - pad] == '=')
        pad++;
    return pad;
}

/* The one branch on the characters: whether the text was valid, which the
 * caller learns from the result. Out of line for the same reason. */
static __attribute__((noinline)) int b64_verdict(uint32_t bad, uint8_t *out, size_t n,
                                                 size_t out_cap, const char *what)
{
    if (bad != 0) {
        sodium_memzero(out, n);
        BAIL(SIGIL_E_BAD_ENCODING, "%s: not valid base64 (or longer than %zu bytes)", what,
             out_cap);
    }
    return 0;
}

/* Decodes without a branch or table lookup on the characters: lengths and
 * the padding are public, the rest is arithmetic. Accepts exactly what
 * libsodium's sodium_base642bin accepted here before (padding required for
 * SIGIL_B64_STD and refused for SIGIL_B64_URL_NP, unused low bits zero, no
 * other characters). */
int sigil_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len,
                     sigil_b64_variant v, const char *what)
{
    uint32_t c62 = v == SIGIL_B64_URL_NP ? '-' : '+';
    uint32_t c63 = v == SIGIL_B64_URL_NP ? '_' : '/';
    size_t chars = in_len;
    if (v != SIGIL_B64_URL_NP) {
        ENSURE(in_len % 4 == 0, SIGIL_E_BAD_ENCODING,
               "%s: not valid base64 (or longer than %zu bytes)", what, out_cap);
        chars -= b64_padding(in, in_len);
    }
    size_t tail = chars % 4, n = chars / 4 * 3 + (tail == 0 ? 0 : tail - 1);
    ENSURE(tail != 1 && n <= out_cap, SIGIL_E_BAD_ENCODING,
           "%s: not valid base64 (or longer than %zu bytes)", what, out_cap);
    const uint8_t *p = (const uint8_t *)in;
    uint32_t bad = 0;
    size_t o = 0, i = 0;
    for (; i + 4 <= chars; i += 4) {
        uint32_t w = ct_b64_value(p[i], c62, c63, &bad) << 18 |
                     ct_b64_value(p[i + 1], c62, c63, &bad) << 12 |
                     ct_b64_value(p[i + 2], c62, c63, &bad) << 6 |
                     ct_b64_value(p[i + 3], c62, c63, &bad);
        out[o++] = (uint8_t)(w >> 16);
        out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    if (tail > 1) { /* 2 or 3 characters: 1 or 2 bytes, and 4 or 2 bits that must be 0 */
        uint32_t w = 0;
        for (size_t k = 0; k < tail; k++)
            w = w << 6 | ct_b64_value(p[i + k], c62, c63, &bad);
        size_t spare = 6 * tail - 8 * (tail - 1);
        uint32_t low = w & ((1u << spare) - 1u);
        bad |= (low + (1u << spare) - 1u) >> spare; /* 1 when low != 0 */
        w >>= spare;
        if (tail == 3)
            out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    GUARD(b64_verdict(bad, out, n, out_cap, what));
    *out_len = n;
    return 0;
}
