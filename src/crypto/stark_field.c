/*
 * Montgomery arithmetic modulo the Stark prime and curve order (trusted).
 * Fixed four-limb loops, no branch or index on the values: the secret key
 * and the nonce go through here (tests/ctime checks it under valgrind).
 */
#include "crypto/stark_field.h"

typedef unsigned __int128 u128;

/* R = 2^256: r2 = R^2 mod m, one = R mod m, m0inv = -m^-1 mod 2^64
 * (tests/unit/test_stark.c checks each against its definition). */
const sigil_stark_mod SIGIL_STARK_P = {
    .m = {{0x0000000000000001ull, 0x0000000000000000ull, 0x0000000000000000ull,
           0x0800000000000011ull}},
    .m0inv = 0xffffffffffffffffull,
    .r2 = {{0xfffffd737e000401ull, 0x00000001330fffffull, 0xffffffffff6f8000ull,
            0x07ffd4ab5e008810ull}},
    .one = {{0xffffffffffffffe1ull, 0xffffffffffffffffull, 0xffffffffffffffffull,
             0x07fffffffffffdf0ull}},
    .m_minus_2 = {{0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull,
                   0x0800000000000010ull}},
};

const sigil_stark_mod SIGIL_STARK_N = {
    .m = {{0x1e66a241adc64d2full, 0xb781126dcae7b232ull, 0xffffffffffffffffull,
           0x0800000000000010ull}},
    .m0inv = 0xbb6b3c4ce8bde631ull,
    .r2 = {{0x6021b3f1ea1c688dull, 0x509cf64d14ce60b9ull, 0xbaf0ab4cf78bbabbull,
            0x07d9e57c2333766eull}},
    .one = {{0x51925a0bf4fca74full, 0xc75ec4b46df16beeull, 0x0000000000000008ull,
             0x07fffffffffffdf1ull}},
    .m_minus_2 = {{0x1e66a241adc64d2dull, 0xb781126dcae7b232ull, 0xffffffffffffffffull,
                   0x0800000000000010ull}},
};

void sigil_u256_from_be(sigil_u256 *out, const uint8_t in[static 32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int j = 0; j < 8; j++)
            w = (w << 8) | in[(3 - i) * 8 + j];
        out->v[i] = w;
    }
}

void sigil_u256_to_be(uint8_t out[static 32], const sigil_u256 *in)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[(3 - i) * 8 + j] = (uint8_t)(in->v[i] >> (56 - 8 * j));
}

void sigil_u256_from_u64(sigil_u256 *out, uint64_t v)
{
    *out = (sigil_u256){{v, 0, 0, 0}};
}

uint64_t sigil_u256_lt_mask(const sigil_u256 *a, const sigil_u256 *b)
{
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->v[i] - b->v[i] - borrow;
        borrow = (d >> 64) & 1;
    }
    return (uint64_t)0 - (uint64_t)borrow;
}

uint64_t sigil_u256_zero_mask(const sigil_u256 *a)
{
    uint64_t x = a->v[0] | a->v[1] | a->v[2] | a->v[3];
    /* (x | -x) has its top bit set exactly when x != 0. */
    return ((x | ((uint64_t)0 - x)) >> 63) - 1;
}

void sigil_u256_cmov(sigil_u256 *out, const sigil_u256 *a, uint64_t mask)
{
    for (int i = 0; i < 4; i++)
        out->v[i] ^= mask & (out->v[i] ^ a->v[i]);
}

bool sigil_u256_eq(const sigil_u256 *a, const sigil_u256 *b)
{
    return ((a->v[0] ^ b->v[0]) | (a->v[1] ^ b->v[1]) | (a->v[2] ^ b->v[2]) |
            (a->v[3] ^ b->v[3])) == 0;
}

/* out = t - m when t >= m, else t; t has a fifth limb hi. */
static void sub_if_ge(sigil_u256 *out, const uint64_t t[4], uint64_t hi, const sigil_u256 *m)
{
    uint64_t d[4];
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 x = (u128)t[i] - m->v[i] - borrow;
        d[i] = (uint64_t)x;
        borrow = (x >> 64) & 1;
    }
    /* t < m exactly when the subtraction borrows past the fifth limb. */
    uint64_t keep_t = (uint64_t)0 - (uint64_t)(((u128)hi - borrow) >> 64 & 1);
    for (int i = 0; i < 4; i++)
        out->v[i] = (t[i] & keep_t) | (d[i] & ~keep_t);
}

void sigil_mod_reduce_once(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m)
{
    sub_if_ge(out, a->v, 0, &m->m);
}

void sigil_mod_add(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b,
                   const sigil_stark_mod *m)
{
    uint64_t t[4];
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)a->v[i] + b->v[i];
        t[i] = (uint64_t)c;
        c >>= 64;
    }
    sub_if_ge(out, t, (uint64_t)c, &m->m);
}

void sigil_mod_sub(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b,
                   const sigil_stark_mod *m)
{
    uint64_t t[4];
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 x = (u128)a->v[i] - b->v[i] - borrow;
        t[i] = (uint64_t)x;
        borrow = (x >> 64) & 1;
    }
    uint64_t mask = (uint64_t)0 - (uint64_t)borrow;
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)t[i] + (m->m.v[i] & mask);
        out->v[i] = (uint64_t)c;
        c >>= 64;
    }
}

/* CIOS for the Stark prime: p = 2^251 + 17·2^192 + 1 has m0inv = -1 and two
 * zero middle limbs, so each reduction step is one multiplication. */
static void mul_p(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b)
{
    const uint64_t p3 = SIGIL_STARK_P.m.v[3];
    uint64_t t[6] = {0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a->v[j] * b->v[i] + t[j];
            t[j] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (uint64_t)c;
        t[5] = (uint64_t)(c >> 64);
        uint64_t q = (uint64_t)0 - t[0];
        c = ((u128)q + t[0]) >> 64;
        c += t[1];
        t[0] = (uint64_t)c;
        c >>= 64;
        c += t[2];
        t[1] = (uint64_t)c;
        c >>= 64;
        c += (u128)q * p3 + t[3];
        t[2] = (uint64_t)c;
        c >>= 64;
        c += t[4];
        t[3] = (uint64_t)c;
        t[4] = t[5] + (uint64_t)(c >> 64);
    }
    sub_if_ge(out, t, t[4], &SIGIL_STARK_P.m);
}

/* CIOS Montgomery multiplication. The branch is on which modulus, public. */
void sigil_mod_mul(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b,
                   const sigil_stark_mod *m)
{
    if (m == &SIGIL_STARK_P) {
        mul_p(out, a, b);
        return;
    }
    uint64_t t[6] = {0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a->v[j] * b->v[i] + t[j];
            t[j] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (uint64_t)c;
        t[5] = (uint64_t)(c >> 64);
        uint64_t q = t[0] * m->m0inv;
        c = ((u128)q * m->m.v[0] + t[0]) >> 64;
        for (int j = 1; j < 4; j++) {
            c += (u128)q * m->m.v[j] + t[j];
            t[j - 1] = (uint64_t)c;
            c >>= 64;
        }
        c += t[4];
        t[3] = (uint64_t)c;
        t[4] = t[5] + (uint64_t)(c >> 64);
    }
    sub_if_ge(out, t, t[4], &m->m);
}

void sigil_mod_to_mont(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m)
{
    sigil_mod_mul(out, a, &m->r2, m);
}

void sigil_mod_from_mont(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m)
{
    static const sigil_u256 ONE = {{1, 0, 0, 0}};
    sigil_mod_mul(out, a, &ONE, m);
}

void sigil_mod_inv(sigil_u256 *out, const sigil_u256 *a, const sigil_stark_mod *m)
{
    sigil_u256 r = m->one, base = *a;
    /* The exponent is public: the branch below depends on it only. */
    for (int bit = 255; bit >= 0; bit--) {
        sigil_mod_mul(&r, &r, &r, m);
        if ((m->m_minus_2.v[bit / 64] >> (bit % 64)) & 1)
            sigil_mod_mul(&r, &r, &base, m);
    }
    *out = r;
}
