/*
 * Stark field, curve, Pedersen and ECDSA (src/crypto/stark*.c): constants
 * against their definitions, known answers from @scure/starknet 2.4.0 and
 * the Paradex vectors (starknet.js 7.1.0 / 8.9.2, ccxt), and algebraic
 * identities on a fixed-seed sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "crypto/stark.h"
#include "crypto/stark_curve.h"
#include "test_util.h"

static void felt_from_hex(uint8_t out[32], const char *hex)
{
    char pad[65];
    size_t n = strlen(hex);
    if (n > 2 && hex[0] == '0' && hex[1] == 'x') {
        hex += 2;
        n -= 2;
    }
    assert_true(n <= 64);
    memset(pad, '0', 64 - n);
    memcpy(pad + 64 - n, hex, n);
    pad[64] = '\0';
    assert_int_equal(sigil_hex_decode_exact(out, 32, pad, 64, false, "test"), 0);
}

static void u256_from_hex(sigil_u256 *out, const char *hex)
{
    uint8_t b[32];
    felt_from_hex(b, hex);
    sigil_u256_from_be(out, b);
}

static void assert_felt(const uint8_t got[32], const char *want)
{
    uint8_t w[32];
    felt_from_hex(w, want);
    assert_memory_equal(got, w, 32);
}

static void assert_u256(const sigil_u256 *got, const char *want)
{
    uint8_t g[32];
    sigil_u256_to_be(g, got);
    assert_felt(g, want);
}

/* ---- field constants: each against its definition ---- */

static void check_mod(const sigil_stark_mod *m)
{
    sigil_u256 t, one = {{1, 0, 0, 0}};
    /* m0inv·m ≡ -1 (mod 2^64) */
    assert_true(m->m0inv * m->m.v[0] == UINT64_MAX);
    /* to_mont(1) = R mod m; from_mont(R mod m) = 1 */
    sigil_mod_to_mont(&t, &one, m);
    assert_true(sigil_u256_eq(&t, &m->one));
    sigil_mod_from_mont(&t, &m->one, m);
    assert_true(sigil_u256_eq(&t, &one));
    /* from_mont(r2) = R mod m */
    sigil_mod_from_mont(&t, &m->r2, m);
    assert_true(sigil_u256_eq(&t, &m->one));
    /* m_minus_2 + 2 = m */
    sigil_u256 two = {{2, 0, 0, 0}}, s;
    uint64_t c = 0;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 x = (unsigned __int128)m->m_minus_2.v[i] + two.v[i] + c;
        s.v[i] = (uint64_t)x;
        c = (uint64_t)(x >> 64);
    }
    assert_true(sigil_u256_eq(&s, &m->m));
}

static void test_constants(void **state)
{
    (void)state;
    sigil_u256 p, n;
    u256_from_hex(&p, "0800000000000011000000000000000000000000000000000000000000000001");
    u256_from_hex(&n, "0800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2f");
    assert_true(sigil_u256_eq(&p, &SIGIL_STARK_P.m));
    assert_true(sigil_u256_eq(&n, &SIGIL_STARK_N.m));
    check_mod(&SIGIL_STARK_P);
    check_mod(&SIGIL_STARK_N);
    sigil_stark_point g;
    sigil_u256 x, y;
    sigil_stark_generator(&g);
    sigil_stark_point_xy(&x, &y, &g);
    assert_true(sigil_stark_on_curve(&x, &y));
    for (size_t i = 0; i < 5; i++) {
        sigil_stark_pedersen_point(&g, i);
        sigil_stark_point_xy(&x, &y, &g);
        assert_true(sigil_stark_on_curve(&x, &y));
    }
}

/* ---- field arithmetic against small-number identities ---- */

static uint64_t g_seed = 0x5eed5eed12345678ull;
static uint64_t rnd(void)
{
    g_seed ^= g_seed << 13;
    g_seed ^= g_seed >> 7;
    g_seed ^= g_seed << 17;
    return g_seed;
}

static void random_below(sigil_u256 *out, const sigil_stark_mod *m)
{
    do {
        for (int i = 0; i < 4; i++)
            out->v[i] = rnd();
        out->v[3] &= 0x0fffffffffffffffull;
    } while (!sigil_u256_lt_mask(out, &m->m));
}

static void test_field_identities(void **state)
{
    (void)state;
    const sigil_stark_mod *mods[2] = {&SIGIL_STARK_P, &SIGIL_STARK_N};
    for (int mi = 0; mi < 2; mi++) {
        const sigil_stark_mod *m = mods[mi];
        for (int i = 0; i < 200; i++) {
            sigil_u256 a, b, am, bm, t, u, v;
            random_below(&a, m);
            random_below(&b, m);
            sigil_mod_to_mont(&am, &a, m);
            sigil_mod_to_mont(&bm, &b, m);
            /* (a + b) - b = a */
            sigil_mod_add(&t, &a, &b, m);
            sigil_mod_sub(&t, &t, &b, m);
            assert_true(sigil_u256_eq(&t, &a));
            /* a·a^-1 = 1 */
            sigil_mod_inv(&t, &am, m);
            sigil_mod_mul(&t, &t, &am, m);
            assert_true(sigil_u256_eq(&t, &m->one));
            /* (a + b)² = a² + 2ab + b² */
            sigil_mod_add(&t, &am, &bm, m);
            sigil_mod_mul(&t, &t, &t, m);
            sigil_mod_mul(&u, &am, &bm, m);
            sigil_mod_add(&u, &u, &u, m);
            sigil_mod_mul(&v, &am, &am, m);
            sigil_mod_add(&u, &u, &v, m);
            sigil_mod_mul(&v, &bm, &bm, m);
            sigil_mod_add(&u, &u, &v, m);
            assert_true(sigil_u256_eq(&t, &u));
            /* round trip */
            sigil_mod_from_mont(&t, &am, m);
            assert_true(sigil_u256_eq(&t, &a));
        }
    }
}

/* (a + b)·G = a·G + b·G, and the constant-time and public multiplications agree. */
static void test_scalar_mul(void **state)
{
    (void)state;
    for (int i = 0; i < 8; i++) {
        sigil_u256 a, b, c, x1, x2, x3;
        sigil_stark_point pa, pb, pc, g, pg;
        random_below(&a, &SIGIL_STARK_N);
        random_below(&b, &SIGIL_STARK_N);
        sigil_mod_add(&c, &a, &b, &SIGIL_STARK_N);
        sigil_stark_mul_generator(&pa, &a);
        sigil_stark_mul_generator(&pb, &b);
        sigil_stark_mul_generator(&pc, &c);
        sigil_stark_point_add(&pa, &pa, &pb);
        sigil_stark_point_x(&x1, &pa);
        sigil_stark_point_x(&x2, &pc);
        assert_true(sigil_u256_eq(&x1, &x2));
        sigil_stark_generator(&g);
        sigil_stark_mul_public(&pg, &g, &c);
        sigil_stark_point_x(&x3, &pg);
        assert_true(sigil_u256_eq(&x3, &x2));
    }
    /* n·G is the identity; (n-1)·G = -G has G's x */
    sigil_stark_point q;
    sigil_u256 x, gx, nm1 = SIGIL_STARK_N.m;
    sigil_stark_mul_generator(&q, &SIGIL_STARK_N.m);
    assert_true(sigil_u256_zero_mask(&q.z) != 0);
    nm1.v[0] -= 1;
    sigil_stark_mul_generator(&q, &nm1);
    sigil_stark_point_x(&x, &q);
    sigil_stark_generator(&q);
    sigil_stark_point_x(&gx, &q);
    assert_true(sigil_u256_eq(&x, &gx));
}

/* ---- known answers ---- */

static const char *const KEY = "06c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f";

static void test_public_key(void **state)
{
    (void)state;
    uint8_t key[32], x[32], y[32];
    felt_from_hex(key, KEY);
    assert_int_equal(sigil_stark_public_point(x, y, key), 0);
    assert_felt(x, "0x5644ab931ae1b485173822d5da025f8699c86ebc37c6385005762a05151ab71");
    assert_felt(y, "0x4bf1d1918ff14f5a033e3f29b06c1d82f6dd62e3674fbfc7947826e7697e96d");
    assert_int_equal(sigil_stark_public_key(x, key), 0);
    assert_felt(x, "0x5644ab931ae1b485173822d5da025f8699c86ebc37c6385005762a05151ab71");
}

static void test_bad_keys(void **state)
{
    (void)state;
    uint8_t key[32] = {0}, x[32];
    assert_int_equal(sigil_stark_public_key(x, key), -1);
    sigil_u256_to_be(key, &SIGIL_STARK_N.m);
    assert_int_equal(sigil_stark_public_key(x, key), -1);
    memset(key, 0xff, 32);
    assert_int_equal(sigil_stark_check_key(key), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
}

static void test_pedersen(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *h;
    } KAT[] = {
        {"1", "2", "0x5bb9440e27889a364bcb678b1f679ecd1347acdedcbf36e83494f857cc58026"},
        {"0", "0", "0x49ee3eba8c1600700ee1b87eb599f16716b0b1022947733551fde4050ca6804"},
        {"0x3d937c035c878245caf64531a5756109c53068da139362728feb561405371cb",
         "0x208a0a10250e382e1e4bbe2880906c2791bf6275695e02fbbc6aeff9cd8b31a",
         "0x30e480bed5fe53fa909cc0f8c4d99b8f9f2c016be4c41e13a4848797979c662"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KAT); i++) {
        uint8_t a[32], b[32], h[32];
        felt_from_hex(a, KAT[i].a);
        felt_from_hex(b, KAT[i].b);
        assert_int_equal(sigil_stark_pedersen(h, a, b), 0);
        assert_felt(h, KAT[i].h);
    }
    sigil_u256 e[3] = {{{1, 0, 0, 0}}, {{2, 0, 0, 0}}, {{3, 0, 0, 0}}}, h;
    sigil_stark_hash_elements(&h, e, 3);
    assert_u256(&h, "0xf9d95fbf356fbeda26538c92f7040abe51bf142350f73c9ee5ba7c660bae71");
    /* p itself is not a felt */
    uint8_t a[32], out[32];
    sigil_u256_to_be(a, &SIGIL_STARK_P.m);
    assert_int_equal(sigil_stark_pedersen(out, a, a), -1);
}

static void test_keccak(void **state)
{
    (void)state;
    sigil_u256 h;
    /* typeHash of Paradex's Order (venues.md §8) */
    const char *t = "Order(timestamp:felt,market:felt,side:felt,orderType:felt,size:felt,"
                    "price:felt)";
    sigil_stark_keccak(&h, t, strlen(t));
    assert_u256(&h, "0xa56d5225b97b257c15ae2cb1cc0ea605381a886cd75463db45fd2ef9fbc255");
}

/* Message hash → (r, s): venues.md §8 vectors, key 0x6c9b…46f; and
 * @scure/starknet sign(hash, key) for short keys and the largest hash. */
static void test_sign_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *key, *hash, *r, *s;
    } KAT[] = {
        {KEY, "0x2c69063d17720829801e20cfc6c3d88170c8f82b80a3299e5a048b024d158e3",
         "0x57077398f33fb58e50c94ecd07f7255afbd9425409def1b202d58ac39cd0026",
         "0x16c2d1ac3315703c6002f461d755f01f9228b254170d8761df3e801eb3cc50a"},
        {KEY, "0x2e3d893e08d2193e210a8e6b3a680c9409cc7c8878c0b59a05355588c23b443",
         "0x714752e129de5e30da8c9569dd4665006a4390667722f3d973772a0d40d56b5",
         "0xd40bd6a70162fc9c3142d28b6b9a0c614c9aef92f36b4bc11a2a7623c564e8"},
        {KEY, "0x5e931462a048549200a5c327262b64c6f72da018d639afd561ae2e71f8af157",
         "0x6eedddfbb4ec67f43fd9820d2b05546263e2379f8eaf19e405aff5fa227f391",
         "0x598fdf4e9566bbb0ffd18e8ea32d179724c74fdda5cffb2a224d2b4a6168088"},
        {KEY, "0x3bbee539d6baed4110f3a2a2b352f5914e4bcf875b41148091cf3a1934cc489",
         "0xa09dcfef96aadcfae4512b2c66682ef25003562e9dc8249ce2d4b2d7e13469",
         "0x327a0daa042b52d0aa970968783772aee45241203d6f38fe3a14b419e3f3eb7"},
        {KEY, "0x7bf25464fb016a5a45ec87922c1716f7272f592f6cde03681357eb1b37062d4",
         "0x283ebca41802b980e88c0c83ce95d27ca7fc6d435ba0ab3b2173a74270c267b",
         "0x7b6fb8bde29f91ee8e5bd05703fd325fb7b14ae2a002e0bf3fe8178c167f9cc"},
        {KEY, "0x74a89eb64b1f7710cc33a29d9704d7de456b0efc248136ee4a1f73f7427a85f",
         "0x49c5a489d0ca53e888145aa0ed1f0879a5b2abc59b11d39c49785d31f111baf",
         "0x64ee6a2c95d331bd170ccebc8fe8f4af0e10649222c8305dc3ab652fc60bea3"},
        {KEY, "0x63bc6c10ca7193fd38535bb51fb6f1178e975f6427d09918f10ec6fd79593a0",
         "0x7b1df12ea5165d96e182cb221c872f49f86429e3545ebaa7ff60d7e8c4682ea",
         "0x73a3abf091fb1bac0f36b2e247f41c90b93e9ce420b79eabbfd720d805af0d"},
        {KEY, "0x55e184c2cec4eec9784d17b2c917ef4b7438d8832c65b02a5b6c8e3839490a3",
         "0x2b83901d098dd6cca330c54a1c10694d83bd8f54648e53bd258a92c22de846d",
         "0x2ff1a4069b34027dfa72ab11d0ad424f59be4cdb2e8a5fcbd47ebcfe5a57456"},
        {KEY, "0x351d1cc8540e4c3021f3f8aca0effd77d65390e009c6201ef4ada0c0c6f0102",
         "0x78474de9059be92c1987b207fc8c92cb7ccb951c51f2860158c38ece42747d0",
         "0x2e9eab8543d910c1b0dda70cf75fb08e3755ca1f15163faf8e1deab50902ee9"},
        {KEY, "0x251cba928252bdca8cdc79213cde23f7e66dffbc2afa7dd39d13c976883ad68",
         "0x679dcabd5d83d49420d230153ab1b66cd97796b75df2e0e7feb4ca670b764ba",
         "0x7f2d10e2cfddb581e76a1633b9e811b0056db3d876f21af5afe0f083404f395"},
        {"0x1", "0x1", "0xedf3922fdf0c1b98a861a38874120a437e33c08841923317aeb8ec6bad1400",
         "0xa658327ad247b8e816aadd7758d96450f8d43c691aadf768cadd8784f3b8ef"},
        {"0x7", "0x7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
         "0x229f983306e18b4c9214e42bb0b2d1d2e891e5d1d565b2e9089b3876094668d",
         "0x7f019a827b06a5acd440048211df0f5f2e89bb2f30f01cb043a176e6adf281a"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KAT); i++) {
        uint8_t key[32], hash[32], r[32], s[32], px[32], py[32];
        felt_from_hex(key, KAT[i].key);
        felt_from_hex(hash, KAT[i].hash);
        assert_int_equal(sigil_stark_sign(r, s, key, hash), 0);
        assert_felt(r, KAT[i].r);
        assert_felt(s, KAT[i].s);
        assert_int_equal(sigil_stark_public_point(px, py, key), 0);
        assert_true(sigil_stark_verify(r, s, px, py, hash));
        hash[31] ^= 1;
        assert_false(sigil_stark_verify(r, s, px, py, hash));
    }
}

static void test_sign_refuses(void **state)
{
    (void)state;
    uint8_t key[32], hash[32], r[32], s[32];
    felt_from_hex(key, KEY);
    felt_from_hex(hash, "0x800000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(sigil_stark_sign(r, s, key, hash), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    memset(key, 0, 32);
    felt_from_hex(hash, "0x1");
    assert_int_equal(sigil_stark_sign(r, s, key, hash), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),    cmocka_unit_test(test_field_identities),
        cmocka_unit_test(test_scalar_mul),   cmocka_unit_test(test_public_key),
        cmocka_unit_test(test_bad_keys),     cmocka_unit_test(test_pedersen),
        cmocka_unit_test(test_keccak),       cmocka_unit_test(test_sign_vectors),
        cmocka_unit_test(test_sign_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
