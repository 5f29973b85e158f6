/*
 * Keccak-256 as Ethereum uses it (Keccak[r=1088,c=512] with the original
 * 0x01 domain padding). Public data only: not constant-time-sensitive.
 */
#include <string.h>

#include "sigil/crypto.h"

#define RATE 136

static const uint64_t RC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
    0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
    0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};
static const unsigned ROT[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                 25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static inline uint64_t rol(uint64_t x, unsigned n)
{
    return n == 0 ? x : (x << n) | (x >> (64 - n));
}

static void keccak_f1600(uint64_t a[25])
{
    uint64_t b[25], c[5], d;
    for (int round = 0; round < 24; round++) {
#pragma GCC unroll 5
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
#pragma GCC unroll 5
        for (int x = 0; x < 5; x++) {
            d = c[(x + 4) % 5] ^ rol(c[(x + 1) % 5], 1);
#pragma GCC unroll 5
            for (int y = 0; y < 25; y += 5)
                a[y + x] ^= d;
        }
        /* rho and pi: b[y, 2x+3y] = rot(a[x, y]) */
#pragma GCC unroll 5
        for (int x = 0; x < 5; x++)
#pragma GCC unroll 5
            for (int y = 0; y < 5; y++)
                b[((2 * x + 3 * y) % 5) * 5 + y] = rol(a[y * 5 + x], ROT[y * 5 + x]);
#pragma GCC unroll 5
        for (int y = 0; y < 25; y += 5)
#pragma GCC unroll 5
            for (int x = 0; x < 5; x++)
                a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
        a[0] ^= RC[round];
    }
}

static void absorb_byte(sigil_keccak_ctx *c, uint8_t v)
{
    c->st[c->pos / 8] ^= (uint64_t)v << (8 * (c->pos % 8));
    if (++c->pos == RATE) {
        keccak_f1600(c->st);
        c->pos = 0;
    }
}

void sigil_keccak256_init(sigil_keccak_ctx *c)
{
    memset(c, 0, sizeof(*c));
}

void sigil_keccak256_update(sigil_keccak_ctx *c, const void *p, size_t n)
{
    const uint8_t *in = p;
    while (n > 0 && c->pos % 8 != 0) {
        absorb_byte(c, *in++);
        n--;
    }
    while (n >= 8) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; k--)
            w = w << 8 | in[k];
        c->st[c->pos / 8] ^= w;
        c->pos += 8;
        if (c->pos == RATE) {
            keccak_f1600(c->st);
            c->pos = 0;
        }
        in += 8;
        n -= 8;
    }
    while (n-- > 0)
        absorb_byte(c, *in++);
}

void sigil_keccak256_final(sigil_keccak_ctx *c, uint8_t out[static 32])
{
    c->st[c->pos / 8] ^= (uint64_t)0x01 << (8 * (c->pos % 8));
    c->st[(RATE - 1) / 8] ^= (uint64_t)0x80 << (8 * ((RATE - 1) % 8));
    keccak_f1600(c->st);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(c->st[i / 8] >> (8 * (i % 8)));
    memset(c, 0, sizeof(*c));
}

void sigil_keccak256(uint8_t out[static 32], const void *p, size_t n)
{
    sigil_keccak_ctx c;
    sigil_keccak256_init(&c);
    sigil_keccak256_update(&c, p, n);
    sigil_keccak256_final(&c, out);
}
