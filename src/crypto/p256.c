/*
 * ECDSA P-256 with RFC 6979 nonces (trusted code). See p256.h.
 * The secret scalar and k live in BIGNUMs from BN_secure_new with
 * BN_FLG_CONSTTIME, are cleared on every path, and byte copies are wiped.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <string.h>

#include "crypto/crypto_internal.h"
#include "crypto/p256.h"

/* The P-256 group order n. */
static const uint8_t P256_N[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                   0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

/* Big-endian a < b, constant time in the values. */
static int lt_be32(const uint8_t a[32], const uint8_t b[32])
{
    unsigned lt = 0, gt = 0;
    for (size_t i = 0; i < 32; i++) {
        unsigned x = a[i], y = b[i];
        unsigned l = ((x - y) >> 8) & 1u & ~(lt | gt);
        unsigned g = ((y - x) >> 8) & 1u & ~(lt | gt);
        lt |= l;
        gt |= g;
    }
    return (int)lt;
}

static int is_zero32(const uint8_t a[32])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < 32; i++)
        acc |= a[i];
    return acc == 0;
}

/* a -= n (a < 2^256, so one subtraction reduces a value in [n, 2^256)). */
static void sub_n(uint8_t a[32])
{
    unsigned borrow = 0;
    for (size_t i = 32; i-- > 0;) {
        unsigned v = (unsigned)a[i] - P256_N[i] - borrow;
        a[i] = (uint8_t)v;
        borrow = (v >> 8) & 1u;
    }
}

static int scalar_ok(const uint8_t d[32])
{
    return !is_zero32(d) && lt_be32(d, P256_N);
}

int sigil_p256_rfc6979_k(uint8_t k[static 32], const uint8_t d[static 32],
                         const uint8_t h1[static 32], unsigned attempt)
{
    /* 3.2 d: K = HMAC_K(V ‖ 0x00 ‖ int2octets(x) ‖ bits2octets(h1)). */
    uint8_t K[32], V[32], buf[32 + 1 + 32 + 32];
    uint8_t h[32];
    memcpy(h, h1, 32);
    if (!lt_be32(h, P256_N))
        sub_n(h); /* bits2octets: qlen = hlen, so reduce mod n once */
    memset(V, 0x01, sizeof(V));
    memset(K, 0x00, sizeof(K));
    for (uint8_t round = 0; round < 2; round++) {
        memcpy(buf, V, 32);
        buf[32] = round;
        memcpy(buf + 33, d, 32);
        memcpy(buf + 65, h, 32);
        sigil_hmac_sha256(K, K, 32, buf, sizeof(buf));
        sigil_hmac_sha256(V, K, 32, V, 32);
    }
    sigil_wipe(buf, sizeof(buf));
    /* 3.2 h: tlen = qlen, so one HMAC per candidate. */
    int rc = -1;
    for (unsigned i = 0; i < attempt + 64u; i++) {
        sigil_hmac_sha256(V, K, 32, V, 32);
        if (scalar_ok(V)) {
            if (attempt == 0) {
                memcpy(k, V, 32);
                rc = 0;
                break;
            }
            attempt--;
        }
        uint8_t kv[33];
        memcpy(kv, V, 32);
        kv[32] = 0x00;
        sigil_hmac_sha256(K, K, 32, kv, sizeof(kv));
        sigil_hmac_sha256(V, K, 32, V, 32);
        sigil_wipe(kv, sizeof(kv));
    }
    sigil_wipe(K, sizeof(K));
    sigil_wipe(V, sizeof(V));
    sigil_wipe(h, sizeof(h));
    ENSURE(rc == 0, SIGIL_E_CRYPTO, "P-256: no RFC 6979 nonce found");
    return 0;
}

static EC_GROUP *p256_group(void)
{
    return EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}

/* One signature attempt with nonce k; *retry when r or s is zero. */
static int sign_with_k(uint8_t sig[64], bool *retry, const EC_GROUP *g, const uint8_t d[32],
                       const uint8_t k[32], const uint8_t h[32], BN_CTX *bc)
{
    int ok = 0;
    *retry = false;
    BN_CTX_start(bc);
    BIGNUM *kb = BN_CTX_get(bc), *db = BN_CTX_get(bc), *x = BN_CTX_get(bc);
    BIGNUM *r = BN_CTX_get(bc), *s = BN_CTX_get(bc), *e = BN_CTX_get(bc);
    BIGNUM *kinv = BN_CTX_get(bc), *nm2 = BN_CTX_get(bc);
    const BIGNUM *n = EC_GROUP_get0_order(g);
    EC_POINT *R = EC_POINT_new(g);
    if (nm2 == NULL || R == NULL || n == NULL)
        goto done;
    BN_set_flags(kb, BN_FLG_CONSTTIME);
    BN_set_flags(db, BN_FLG_CONSTTIME);
    BN_set_flags(kinv, BN_FLG_CONSTTIME);
    if (BN_bin2bn(k, 32, kb) == NULL || BN_bin2bn(d, 32, db) == NULL || BN_bin2bn(h, 32, e) == NULL)
        goto done;
    /* R = kG; r = x(R) mod n. */
    if (EC_POINT_mul(g, R, kb, NULL, NULL, bc) != 1 ||
        EC_POINT_get_affine_coordinates(g, R, x, NULL, bc) != 1 || BN_nnmod(r, x, n, bc) != 1)
        goto done;
    if (BN_is_zero(r)) {
        *retry = true;
        ok = 1;
        goto done;
    }
    /* k^-1 = k^(n-2) mod n (Fermat, constant-time exponentiation). */
    if (BN_copy(nm2, n) == NULL || BN_sub_word(nm2, 2) != 1 ||
        BN_mod_exp_mont_consttime(kinv, kb, nm2, n, bc, NULL) != 1)
        goto done;
    /* s = k^-1 (e + r d) mod n; e < 2^256 < 2n. */
    if (BN_mod_mul(s, r, db, n, bc) != 1 || BN_mod_add(s, s, e, n, bc) != 1 ||
        BN_mod_mul(s, s, kinv, n, bc) != 1)
        goto done;
    if (BN_is_zero(s)) {
        *retry = true;
        ok = 1;
        goto done;
    }
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
        goto done;
    ok = 1;
done:
    BN_clear(kb);
    BN_clear(db);
    BN_clear(kinv);
    EC_POINT_clear_free(R);
    BN_CTX_end(bc);
    return ok ? 0 : -1;
}

int sigil_p256_sign_digest(uint8_t sig[static 64], const uint8_t d[static 32],
                           const uint8_t h1[static 32])
{
    ENSURE(scalar_ok(d), SIGIL_E_BAD_CREDENTIALS, "secret: not a valid P-256 private key");
    EC_GROUP *g = p256_group();
    BN_CTX *bc = BN_CTX_secure_new();
    int rc = -1;
    if (g == NULL || bc == NULL) {
        (void)sigil_fail(SIGIL_E_NO_MEMORY, "P-256: cannot allocate");
        goto out;
    }
    uint8_t k[32];
    bool reported = false;
    for (unsigned attempt = 0; attempt < 8; attempt++) {
        bool retry = false;
        if (sigil_p256_rfc6979_k(k, d, h1, attempt) != 0) {
            reported = true;
            break;
        }
        int r = sign_with_k(sig, &retry, g, d, k, h1, bc);
        sigil_wipe(k, sizeof(k));
        if (r != 0)
            break;
        if (!retry) {
            rc = 0;
            break;
        }
    }
    if (rc != 0 && !reported)
        (void)sigil_fail(SIGIL_E_CRYPTO, "P-256 signing failed");
out:
    BN_CTX_free(bc);
    EC_GROUP_free(g);
    return rc;
}

int sigil_p256_scalar_from_pem(uint8_t d[static 32], const char *pem, size_t len)
{
    EVP_PKEY *pkey;
    GUARD(sigil_pem_read_private_key(&pkey, pem, len,
                                     "P-256 (-----BEGIN EC PRIVATE KEY----- or PKCS#8)"));
    char group[32];
    size_t glen = 0;
    BIGNUM *priv = NULL;
    int ok = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
             EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                            &glen) == 1 &&
             strcmp(group, "prime256v1") == 0 &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 &&
             BN_bn2binpad(priv, d, 32) == 32;
    BN_clear_free(priv);
    EVP_PKEY_free(pkey);
    if (!ok || !scalar_ok(d)) {
        sigil_wipe(d, 32);
        BAIL(SIGIL_E_BAD_CREDENTIALS, "secret: not a P-256 (prime256v1) EC private key");
    }
    return 0;
}
