/*
 * Stark curve points (trusted). The complete addition law has no exceptional
 * case to branch on, so the generator multiplication is a fixed sequence of
 * 63 additions of entries read by a full-table scan: no branch and no
 * memory index depends on the scalar.
 */
#include <pthread.h>

#include "crypto/stark_curve.h"

/* Affine normal-form (x, y) of G and of the Pedersen points P0..P4
 * (StarkWare's nothing-up-my-sleeve constants, as in @scure/starknet). */
static const sigil_u256 POINTS[6][2] = {
    {{{0x3d723d8bc943cfcaull, 0xdeacfd9b0d1819e0ull, 0x7beced415a40f0c7ull, 0x01ef15c18599971bull}},
     {{0x2873000c36e8dc1full, 0xde53ecd11abe43a3ull, 0xb7be4801df46ec62ull,
       0x005668060aa49730ull}}},
    {{{0x551fde4050ca6804ull, 0x716b0b1022947733ull, 0x00ee1b87eb599f16ull, 0x049ee3eba8c16007ull}},
     {{0xd0405d266e10268aull, 0x4e621062c0e056c1ull, 0xf346d49d06ea0ed3ull,
       0x03ca0cfe4b3bc6ddull}}},
    {{{0x1080d17957ebe47bull, 0x8fa8120b6d56eb0cull, 0x969c748655fca9e5ull, 0x0234287dcbaffe7full}},
     {{0x6ed0268ee89e5615ull, 0x940135dd7a6c94ccull, 0x1e889527d41f4e39ull,
       0x03b056f100f96fb2ull}}},
    {{{0xb7a6932dba8aa378ull, 0x99099ec1de5e3018ull, 0x3f9dab2656558f33ull, 0x04fa56f376c83db3ull}},
     {{0x5168f4e80ff5b54dull, 0x562761f92a7a23b4ull, 0x8113e0c0e47e4401ull,
       0x03fa0984c931c9e3ull}}},
    {{{0x3aa372f0bd2d6997ull, 0x40c690c74709e90full, 0x764910f75b45f74bull, 0x04ba4cc166be8decull}},
     {{0x48151f27b24b219cull, 0xcac5c59a5ce5ae7cull, 0x4b971e46c4ede85full,
       0x0040301cf5c1751full}}},
    {{{0xd36ff12c49a58202ull, 0x2ca65048d53fb325ull, 0x6e44cca8f61a63bbull, 0x054302dcb0e6cc1cull}},
     {{0x879dcc77e99c2426ull, 0xce98ad783c25561aull, 0xb348046268d8ae25ull,
       0x01b77b3e37d13504ull}}},
};

/* 3·β·2^256 mod p: b3 = 3b of the complete formulas, in Montgomery form. */
static const sigil_u256 B3_MONT = {
    {0xa0d9983720ce655eull, 0x3571d66a7002b012ull, 0x029e5a007ec5ebd6ull, 0x03ab942f465c6d7full}};

static const sigil_stark_mod *const P = &SIGIL_STARK_P;

static sigil_stark_point g_gen_table[SIGIL_STARK_SCALAR_WINDOWS * SIGIL_STARK_WINDOW];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void sigil_stark_point_from_affine(sigil_stark_point *out, const sigil_u256 *x, const sigil_u256 *y)
{
    sigil_mod_to_mont(&out->x, x, P);
    sigil_mod_to_mont(&out->y, y, P);
    out->z = P->one;
}

void sigil_stark_generator(sigil_stark_point *out)
{
    sigil_stark_point_from_affine(out, &POINTS[0][0], &POINTS[0][1]);
}

void sigil_stark_pedersen_point(sigil_stark_point *out, size_t i)
{
    sigil_stark_point_from_affine(out, &POINTS[1 + i][0], &POINTS[1 + i][1]);
}

#define MUL(o, a, b) sigil_mod_mul((o), (a), (b), P)
#define ADD(o, a, b) sigil_mod_add((o), (a), (b), P)
#define SUB(o, a, b) sigil_mod_sub((o), (a), (b), P)

/* Renes–Costello–Batina 2015, Algorithm 1 (complete addition, any a), with
 * a = 1 so the multiplications by a vanish. */
void sigil_stark_point_add(sigil_stark_point *out, const sigil_stark_point *a,
                           const sigil_stark_point *b)
{
    sigil_u256 t0, t1, t2, t3, t4, t5, x3, y3, z3;
    MUL(&t0, &a->x, &b->x);
    MUL(&t1, &a->y, &b->y);
    MUL(&t2, &a->z, &b->z);
    ADD(&t3, &a->x, &a->y);
    ADD(&t4, &b->x, &b->y);
    MUL(&t3, &t3, &t4);
    ADD(&t4, &t0, &t1);
    SUB(&t3, &t3, &t4);
    ADD(&t4, &a->x, &a->z);
    ADD(&t5, &b->x, &b->z);
    MUL(&t4, &t4, &t5);
    ADD(&t5, &t0, &t2);
    SUB(&t4, &t4, &t5);
    ADD(&t5, &a->y, &a->z);
    ADD(&x3, &b->y, &b->z);
    MUL(&t5, &t5, &x3);
    ADD(&x3, &t1, &t2);
    SUB(&t5, &t5, &x3);
    z3 = t4; /* a·t4 */
    MUL(&x3, &B3_MONT, &t2);
    ADD(&z3, &x3, &z3);
    SUB(&x3, &t1, &z3);
    ADD(&z3, &t1, &z3);
    MUL(&y3, &x3, &z3);
    ADD(&t1, &t0, &t0);
    ADD(&t1, &t1, &t0);
    /* t2 = a·t2 = t2 */
    MUL(&t4, &B3_MONT, &t4);
    ADD(&t1, &t1, &t2);
    SUB(&t2, &t0, &t2);
    /* t2 = a·t2 = t2 */
    ADD(&t4, &t4, &t2);
    MUL(&t0, &t1, &t4);
    ADD(&y3, &y3, &t0);
    MUL(&t0, &t5, &t4);
    MUL(&x3, &t3, &x3);
    SUB(&x3, &x3, &t0);
    MUL(&t0, &t3, &t1);
    MUL(&z3, &t5, &z3);
    ADD(&z3, &z3, &t0);
    out->x = x3;
    out->y = y3;
    out->z = z3;
}

void sigil_stark_point_xy(sigil_u256 *x, sigil_u256 *y, const sigil_stark_point *p)
{
    sigil_u256 zi, t;
    sigil_mod_inv(&zi, &p->z, P); /* 0 for the identity: x = y = 0 */
    MUL(&t, &p->x, &zi);
    sigil_mod_from_mont(x, &t, P);
    if (y != NULL) {
        MUL(&t, &p->y, &zi);
        sigil_mod_from_mont(y, &t, P);
    }
}

void sigil_stark_point_x(sigil_u256 *x, const sigil_stark_point *p)
{
    sigil_stark_point_xy(x, NULL, p);
}

static void identity(sigil_stark_point *out)
{
    sigil_u256_from_u64(&out->x, 0);
    out->y = P->one;
    sigil_u256_from_u64(&out->z, 0);
}

/* Normalises row[1..width) to Z = 1 with one inversion (Montgomery's trick). */
static void normalise_row(sigil_stark_point *row, size_t width)
{
    sigil_u256 prefix[SIGIL_STARK_WIDE_WINDOW], inv, zi, t;
    prefix[1] = row[1].z;
    for (size_t j = 2; j < width; j++)
        MUL(&prefix[j], &prefix[j - 1], &row[j].z);
    sigil_mod_inv(&inv, &prefix[width - 1], P);
    for (size_t j = width - 1; j >= 1; j--) {
        if (j > 1) {
            MUL(&zi, &inv, &prefix[j - 1]);
            MUL(&inv, &inv, &row[j].z);
        } else {
            zi = inv;
        }
        MUL(&t, &row[j].x, &zi);
        row[j].x = t;
        MUL(&t, &row[j].y, &zi);
        row[j].y = t;
        row[j].z = P->one;
    }
}

void sigil_stark_table_build(sigil_stark_point *table, const sigil_stark_point *base,
                             size_t windows, size_t width)
{
    sigil_stark_point b = *base;
    for (size_t i = 0; i < windows; i++) {
        sigil_stark_point *row = table + i * width;
        identity(&row[0]);
        row[1] = b;
        for (size_t j = 2; j < width; j++)
            sigil_stark_point_add(&row[j], &row[j - 1], &b);
        sigil_stark_point_add(&b, &row[width - 1], &b); /* width·b */
        normalise_row(row, width);
    }
}

void sigil_stark_table_select(sigil_stark_point *out, const sigil_stark_point *table16,
                              uint64_t idx)
{
    identity(out);
    for (uint64_t j = 0; j < SIGIL_STARK_WINDOW; j++) {
        uint64_t d = j ^ idx;
        uint64_t mask = ((d | ((uint64_t)0 - d)) >> 63) - 1; /* all-ones when j == idx */
        sigil_u256_cmov(&out->x, &table16[j].x, mask);
        sigil_u256_cmov(&out->y, &table16[j].y, mask);
        sigil_u256_cmov(&out->z, &table16[j].z, mask);
    }
}

static void init_once(void)
{
    sigil_stark_point g;
    sigil_stark_generator(&g);
    sigil_stark_table_build(g_gen_table, &g, SIGIL_STARK_SCALAR_WINDOWS, SIGIL_STARK_WINDOW);
}

void sigil_stark_mul_generator(sigil_stark_point *out, const sigil_u256 *k)
{
    (void)pthread_once(&g_once, init_once);
    sigil_stark_point acc, e;
    identity(&acc);
    for (size_t i = 0; i < SIGIL_STARK_SCALAR_WINDOWS; i++) {
        uint64_t nib = (k->v[i / 16] >> (4 * (i % 16))) & 15;
        sigil_stark_table_select(&e, g_gen_table + i * SIGIL_STARK_WINDOW, nib);
        sigil_stark_point_add(&acc, &acc, &e);
    }
    *out = acc;
}

void sigil_stark_mul_public(sigil_stark_point *out, const sigil_stark_point *p, const sigil_u256 *k)
{
    sigil_stark_point acc;
    identity(&acc);
    for (int bit = 255; bit >= 0; bit--) {
        sigil_stark_point_add(&acc, &acc, &acc);
        if ((k->v[bit / 64] >> (bit % 64)) & 1)
            sigil_stark_point_add(&acc, &acc, p);
    }
    *out = acc;
}

bool sigil_stark_on_curve(const sigil_u256 *x, const sigil_u256 *y)
{
    sigil_u256 xm, ym, lhs, rhs, t, b;
    sigil_mod_to_mont(&xm, x, P);
    sigil_mod_to_mont(&ym, y, P);
    MUL(&lhs, &ym, &ym);
    MUL(&rhs, &xm, &xm);
    MUL(&rhs, &rhs, &xm);
    ADD(&rhs, &rhs, &xm);
    /* β = b3 / 3: compare 3·y² with 3·(x³ + x) + b3 instead. */
    ADD(&t, &lhs, &lhs);
    ADD(&lhs, &t, &lhs);
    ADD(&t, &rhs, &rhs);
    ADD(&rhs, &t, &rhs);
    ADD(&rhs, &rhs, &B3_MONT);
    b = lhs;
    return sigil_u256_eq(&b, &rhs);
}
