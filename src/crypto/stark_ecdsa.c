/*
 * Stark ECDSA (trusted): the signatures starknet.js / @scure/starknet make.
 * k comes from RFC 6979's HMAC-DRBG (SHA-256) seeded with be32(key) ‖
 * be32(hash); a candidate T is read as StarkWare's bits2int does (T >> 4,
 * or all of T when its first byte is zero) and retried until 0 < k < n.
 * Key, DRBG state and nonce never steer a branch or an index; only the
 * verdicts below (key valid, candidate usable) are learnt, as libsecp256k1
 * declassifies them.
 */
#include <string.h>

#include "crypto/stark.h"
#include "crypto/stark_curve.h"
#include "sigil/crypto.h"

#define DRBG_MAX_TRIES 1000

static const sigil_stark_mod *const N = &SIGIL_STARK_N;

/* A secret-derived verdict the caller learns anyway, declassified before
 * it becomes a branch. */
static bool stark_verdict(uint64_t ok_mask)
{
    sigil_stark_declassify(&ok_mask, sizeof(ok_mask));
    return ok_mask != 0;
}

/* All-ones when 0 < v < n. */
static uint64_t scalar_ok(const sigil_u256 *v)
{
    return ~sigil_u256_zero_mask(v) & sigil_u256_lt_mask(v, &N->m);
}

int sigil_stark_check_key(const uint8_t key[static 32])
{
    sigil_u256 d;
    sigil_u256_from_be(&d, key);
    uint64_t ok = scalar_ok(&d);
    sigil_wipe(&d, sizeof(d));
    ENSURE(stark_verdict(ok), SIGIL_E_BAD_CREDENTIALS,
           "credentials.private_key: not a Stark key (must be below the curve order)");
    return 0;
}

int sigil_stark_public_point(uint8_t x[static 32], uint8_t y[static 32],
                             const uint8_t key[static 32])
{
    sigil_u256 d, ax, ay;
    sigil_stark_point q;
    GUARD(sigil_stark_check_key(key));
    sigil_u256_from_be(&d, key);
    sigil_stark_mul_generator(&q, &d);
    sigil_stark_point_xy(&ax, &ay, &q);
    sigil_stark_declassify(&ax, sizeof(ax));
    sigil_stark_declassify(&ay, sizeof(ay));
    sigil_u256_to_be(x, &ax);
    sigil_u256_to_be(y, &ay);
    sigil_wipe(&d, sizeof(d));
    sigil_wipe(&q, sizeof(q));
    return 0;
}

int sigil_stark_public_key(uint8_t x[static 32], const uint8_t key[static 32])
{
    uint8_t y[32];
    return sigil_stark_public_point(x, y, key);
}

/* ---- RFC 6979 HMAC-DRBG (SHA-256), as noble-curves' createHmacDrbg ---- */

typedef struct {
    uint8_t k[32];
    uint8_t v[32];
} drbg;

/* k = HMAC(k, v ‖ sep ‖ seed); v = HMAC(k, v). sep < 0: no separator. */
static void drbg_step(drbg *g, int sep, const uint8_t *seed, size_t n)
{
    uint8_t msg[32 + 1 + 64];
    size_t len = 32;
    memcpy(msg, g->v, 32);
    if (sep >= 0)
        msg[len++] = (uint8_t)sep;
    if (n > 0)
        memcpy(msg + len, seed, n);
    sigil_hmac_sha256(g->k, g->k, 32, msg, len + n);
    sigil_hmac_sha256(g->v, g->k, 32, g->v, 32);
    sigil_wipe(msg, sizeof(msg));
}

static void drbg_init(drbg *g, const uint8_t seed[static 64])
{
    memset(g->k, 0, 32);
    memset(g->v, 1, 32);
    drbg_step(g, 0, seed, 64);
    drbg_step(g, 1, seed, 64);
}

/* The next candidate: T = v = HMAC(k, v); k = bits2int(T) over 252 bits. */
static void drbg_candidate(sigil_u256 *k, drbg *g)
{
    sigil_u256 t, shifted;
    sigil_hmac_sha256(g->v, g->k, 32, g->v, 32);
    sigil_u256_from_be(&t, g->v);
    for (int i = 0; i < 4; i++)
        shifted.v[i] = (t.v[i] >> 4) | (i < 3 ? t.v[i + 1] << 60 : 0);
    /* bits2int strips leading zero bytes first: with a zero first byte T is
     * at most 248 bits and is taken whole. */
    uint64_t top = t.v[3] >> 56;
    uint64_t first_zero = ((top | ((uint64_t)0 - top)) >> 63) - 1;
    *k = shifted;
    sigil_u256_cmov(k, &t, first_zero);
    sigil_wipe(&t, sizeof(t));
    sigil_wipe(&shifted, sizeof(shifted));
}

/* s = k^-1 (h + r·d) mod n, all in Montgomery form over n. */
static void ecdsa_s(sigil_u256 *s, const sigil_u256 *k, const sigil_u256 *r, const sigil_u256 *d,
                    const sigil_u256 *h)
{
    sigil_u256 km, rm, dm, hm, t;
    sigil_mod_to_mont(&km, k, N);
    sigil_mod_to_mont(&rm, r, N);
    sigil_mod_to_mont(&dm, d, N);
    sigil_mod_to_mont(&hm, h, N);
    sigil_mod_mul(&t, &rm, &dm, N);
    sigil_mod_add(&t, &t, &hm, N);
    sigil_mod_inv(&km, &km, N);
    sigil_mod_mul(&t, &km, &t, N);
    sigil_mod_from_mont(s, &t, N);
    sigil_wipe(&km, sizeof(km));
    sigil_wipe(&dm, sizeof(dm));
    sigil_wipe(&t, sizeof(t));
}

/* One attempt with candidate k: 0 when (r, s) is usable. */
static int attempt(sigil_u256 *r, sigil_u256 *s, const sigil_u256 *k, const sigil_u256 *d,
                   const sigil_u256 *h)
{
    sigil_stark_point q;
    sigil_u256 x;
    if (!stark_verdict(scalar_ok(k)))
        return -1;
    sigil_stark_mul_generator(&q, k);
    sigil_stark_point_x(&x, &q);
    sigil_mod_reduce_once(r, &x, N); /* x < p < 2n */
    sigil_wipe(&q, sizeof(q));
    if (!stark_verdict(~sigil_u256_zero_mask(r)))
        return -1;
    ecdsa_s(s, k, r, d, h);
    return stark_verdict(~sigil_u256_zero_mask(s)) ? 0 : -1;
}

/* 2^251: the bound StarkWare puts on hashes, r and s^-1. */
static const sigil_u256 MAX_VALUE = {{0, 0, 0, 0x0800000000000000ull}};

int sigil_stark_sign(uint8_t r_out[static 32], uint8_t s_out[static 32],
                     const uint8_t key[static 32], const uint8_t hash[static 32])
{
    sigil_u256 d, h, k, r, s, w;
    uint8_t seed[64];
    drbg g;
    int tries = 0, rc = -1;
    sigil_u256_from_be(&h, hash);
    ENSURE(sigil_u256_lt_mask(&h, &MAX_VALUE) != 0, SIGIL_E_OUT_OF_RANGE,
           "stark sign: message hash not below 2^251");
    GUARD(sigil_stark_check_key(key));
    sigil_u256_from_be(&d, key);
    memcpy(seed, key, 32);
    memcpy(seed + 32, hash, 32);
    drbg_init(&g, seed);
    for (; tries < DRBG_MAX_TRIES; tries++) {
        drbg_candidate(&k, &g);
        if (attempt(&r, &s, &k, &d, &h) == 0)
            break;
        drbg_step(&g, 0, NULL, 0);
    }
    sigil_wipe(&k, sizeof(k));
    sigil_wipe(&d, sizeof(d));
    sigil_wipe(&g, sizeof(g));
    sigil_wipe(seed, sizeof(seed));
    ENSURE(tries < DRBG_MAX_TRIES, SIGIL_E_CRYPTO, "stark sign: no nonce found");
    /* Public from here on: the signature. */
    sigil_stark_declassify(&r, sizeof(r));
    sigil_stark_declassify(&s, sizeof(s));
    sigil_mod_to_mont(&w, &s, N);
    sigil_mod_inv(&w, &w, N);
    sigil_mod_from_mont(&w, &w, N);
    if (sigil_u256_lt_mask(&r, &MAX_VALUE) != 0 && sigil_u256_lt_mask(&w, &MAX_VALUE) != 0)
        rc = 0;
    ENSURE(rc == 0, SIGIL_E_CRYPTO, "stark sign: r or 1/s not below 2^251 (as StarkWare refuses)");
    sigil_u256_to_be(r_out, &r);
    sigil_u256_to_be(s_out, &s);
    return 0;
}

bool sigil_stark_verify(const uint8_t r_be[static 32], const uint8_t s_be[static 32],
                        const uint8_t pub_x[static 32], const uint8_t pub_y[static 32],
                        const uint8_t hash[static 32])
{
    sigil_u256 r, s, h, w, u1, u2, x, y, rx;
    sigil_stark_point g, q, a, b;
    sigil_u256_from_be(&r, r_be);
    sigil_u256_from_be(&s, s_be);
    sigil_u256_from_be(&h, hash);
    sigil_u256_from_be(&x, pub_x);
    sigil_u256_from_be(&y, pub_y);
    if (!scalar_ok(&r) || !scalar_ok(&s) || !sigil_u256_lt_mask(&h, &MAX_VALUE) ||
        !sigil_stark_is_felt(&x) || !sigil_stark_is_felt(&y) || !sigil_stark_on_curve(&x, &y))
        return false;
    sigil_mod_to_mont(&w, &s, N);
    sigil_mod_inv(&w, &w, N);
    sigil_mod_to_mont(&u1, &h, N);
    sigil_mod_mul(&u1, &u1, &w, N);
    sigil_mod_from_mont(&u1, &u1, N);
    sigil_mod_to_mont(&u2, &r, N);
    sigil_mod_mul(&u2, &u2, &w, N);
    sigil_mod_from_mont(&u2, &u2, N);
    sigil_stark_generator(&g);
    sigil_stark_point_from_affine(&q, &x, &y);
    sigil_stark_mul_public(&a, &g, &u1);
    sigil_stark_mul_public(&b, &q, &u2);
    sigil_stark_point_add(&a, &a, &b);
    sigil_stark_point_x(&rx, &a);
    sigil_mod_reduce_once(&rx, &rx, N);
    return sigil_u256_eq(&rx, &r);
}
