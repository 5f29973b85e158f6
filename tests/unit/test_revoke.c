/*
 * Unit tests for owner-signed revocation (docs/POLICY.md "Revocation"): the
 * signed message's bytes (built independently here), signing and
 * verification, and the enclave's revocation set in src/policy/limits.c —
 * what it refuses afterwards, that one revocation never touches another key
 * or tenant, many threads revoking one key at once (exactly one is new), and
 * the bound (full: refused, nothing forgotten).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sigil/policy.h"

#define KID "00112233445566778899aabbccddeeff"
#define KID2 "ffeeddccbbaa99887766554433221100"
#define T0 1767225600000ull

static const uint8_t SEED[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* "sigil-revoke-v1" 0x00, u32be 4 "acme", u32be 32 KID */
static size_t expected_message(uint8_t *out)
{
    static const uint8_t PREFIX[16] = "sigil-revoke-v1"; /* with its NUL */
    size_t n = 0;
    memcpy(out, PREFIX, 16);
    n += 16;
    memcpy(out + n, "\0\0\0\4acme", 8);
    n += 8;
    memcpy(out + n, "\0\0\0\x20", 4);
    n += 4;
    memcpy(out + n, KID, 32);
    return n + 32;
}

static void test_message_bytes(void **state)
{
    (void)state;
    uint8_t want[80], mem[SIGIL_REVOKE_MSG_MAX];
    sigil_buf b;
    size_t n = expected_message(want);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_revoke_message(&b, "acme", KID), 0);
    assert_int_equal(b.len, n);
    assert_int_equal(b.len, 60);
    assert_memory_equal(b.data, want, n);
    /* the longest tenant fits the documented maximum */
    char tenant[65];
    memset(tenant, 'a', 64);
    tenant[64] = '\0';
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_revoke_message(&b, tenant, KID), 0);
    assert_int_equal(b.len, SIGIL_REVOKE_MSG_MAX);
}

static void test_message_refuses(void **state)
{
    (void)state;
    static const char *const TENANTS[] = {"", "Acme", "ac me", "acme/x", "acme\xc3\xa9"};
    static const char *const KEYS[] = {"", "00112233", KID "00",
                                       "00112233445566778899AABBCCDDEEFF"};
    uint8_t mem[SIGIL_REVOKE_MSG_MAX];
    sigil_buf b;
    char long_tenant[66];
    memset(long_tenant, 'a', 65);
    long_tenant[65] = '\0';
    for (size_t i = 0; i < sizeof(TENANTS) / sizeof(TENANTS[0]); i++) {
        sigil_buf_init(&b, mem, sizeof(mem));
        assert_int_equal(sigil_revoke_message(&b, TENANTS[i], KID), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
        assert_int_equal(b.len, 0);
    }
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_revoke_message(&b, long_tenant, KID), -1);
    for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
        sigil_buf_init(&b, mem, sizeof(mem));
        assert_int_equal(sigil_revoke_message(&b, "acme", KEYS[i]), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    }
    /* a buffer too small leaves nothing behind */
    sigil_buf_init(&b, mem, 20);
    assert_int_equal(sigil_revoke_message(&b, "acme", KID), -1);
    assert_int_equal(b.len, 0);
}

static void test_sign_verify(void **state)
{
    (void)state;
    uint8_t pk[32], sk[64], sig[64], msg[80];
    uint8_t other_pk[32], other_sk[64], other_seed[32];
    size_t n = expected_message(msg);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, SEED), 0);
    assert_int_equal(sigil_revoke_sign(sig, "acme", KID, SEED), 0);
    /* libsodium's own check over the independently built message */
    assert_int_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
    assert_int_equal(sigil_revoke_verify(sig, "acme", KID, pk), 0);
    /* another tenant, key id or owner key: refused */
    assert_int_equal(sigil_revoke_verify(sig, "acmf", KID, pk), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
    assert_int_equal(sigil_revoke_verify(sig, "acme", KID2, pk), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_SIGNATURE);
    memcpy(other_seed, SEED, 32);
    other_seed[0] ^= 1;
    assert_int_equal(crypto_sign_seed_keypair(other_pk, other_sk, other_seed), 0);
    assert_int_equal(sigil_revoke_verify(sig, "acme", KID, other_pk), -1);
    /* every flipped bit of the signature */
    for (unsigned bit = 0; bit < 512; bit += 7) {
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(sigil_revoke_verify(bad, "acme", KID, pk), -1);
    }
}

static void test_set(void **state)
{
    (void)state;
    sigil_limits *l;
    sigil_policy p;
    sigil_policy_cost c;
    bool added = false;
    memset(&p, 0, sizeof(p));
    memset(&c, 0, sizeof(c));
    p.version = 1;
    assert_int_equal(sigil_limits_new(&l), 0);
    assert_int_equal(sigil_limits_admit(l, "acme", KID, &p, &c, T0), 0);
    assert_int_equal(sigil_limits_check_revoked(l, "acme", KID), 0);
    assert_int_equal(sigil_limits_revoke(l, "acme", KID, &added), 0);
    assert_true(added);
    assert_int_equal(sigil_limits_revoked_count(l), 1);
    assert_int_equal(sigil_limits_check_revoked(l, "acme", KID), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_REVOKED);
    assert_int_equal(sigil_limits_admit(l, "acme", KID, &p, &c, T0), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_REVOKED);
    assert_int_equal(sigil_limits_version(l, "acme", KID, 9), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_REVOKED);
    /* again: no error, not new, not counted twice */
    assert_int_equal(sigil_limits_revoke(l, "acme", KID, &added), 0);
    assert_false(added);
    assert_int_equal(sigil_limits_revoked_count(l), 1);
    /* another key, and the same key id of another tenant, are untouched */
    assert_int_equal(sigil_limits_admit(l, "acme", KID2, &p, &c, T0), 0);
    assert_int_equal(sigil_limits_admit(l, "other", KID, &p, &c, T0), 0);
    assert_int_equal(sigil_limits_version(l, "other", KID, 2), 0);
    sigil_limits_free(l);
}

#define THREADS 8

typedef struct {
    sigil_limits *l;
    atomic_uint *added;
} race_arg;

static void *racer(void *arg)
{
    race_arg *a = arg;
    for (unsigned i = 0; i < 100; i++) {
        char kid[33];
        bool added = false;
        (void)snprintf(kid, sizeof(kid), "%032x", i);
        if (sigil_limits_revoke(a->l, "acme", kid, &added) == 0 && added)
            atomic_fetch_add(a->added, 1);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    sigil_limits *l;
    pthread_t th[THREADS];
    race_arg args[THREADS];
    atomic_uint added = 0;
    assert_int_equal(sigil_limits_new(&l), 0);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (race_arg){l, &added};
        assert_int_equal(pthread_create(&th[i], NULL, racer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* 8 threads revoke the same 100 keys: each is new exactly once */
    assert_int_equal(atomic_load(&added), 100);
    assert_int_equal(sigil_limits_revoked_count(l), 100);
    sigil_limits_free(l);
}

static void test_bound(void **state)
{
    (void)state;
    sigil_limits *l;
    bool added = false;
    char kid[33];
    assert_int_equal(sigil_limits_new(&l), 0);
    for (unsigned i = 0; i < SIGIL_REVOKED_MAX; i++) {
        (void)snprintf(kid, sizeof(kid), "%032x", i);
        assert_int_equal(sigil_limits_revoke(l, "acme", kid, &added), 0);
        assert_true(added);
    }
    (void)snprintf(kid, sizeof(kid), "%032x", SIGIL_REVOKED_MAX);
    assert_int_equal(sigil_limits_revoke(l, "acme", kid, &added), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNAVAILABLE);
    assert_false(added);
    assert_int_equal(sigil_limits_check_revoked(l, "acme", kid), 0);
    assert_int_equal(sigil_limits_revoked_count(l), SIGIL_REVOKED_MAX);
    /* nothing was forgotten: the first is still refused, and re-revoking it is fine */
    (void)snprintf(kid, sizeof(kid), "%032x", 0u);
    assert_int_equal(sigil_limits_check_revoked(l, "acme", kid), -1);
    assert_int_equal(sigil_limits_revoke(l, "acme", kid, &added), 0);
    assert_false(added);
    sigil_limits_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_bytes), cmocka_unit_test(test_message_refuses),
        cmocka_unit_test(test_sign_verify),   cmocka_unit_test(test_set),
        cmocka_unit_test(test_concurrent),    cmocka_unit_test(test_bound),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
