/*
 * Ed25519 (RFC 8032, pure) through libsodium (trusted code). The expanded
 * key lives in locked memory for the duration of one signature.
 */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "sigil/codec.h"

#include "crypto/crypto_internal.h"

int sigil_ed25519_expand(uint8_t sk[static 64], const uint8_t seed[static 32])
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    ENSURE(crypto_sign_seed_keypair(pk, sk, seed) == 0, SIGIL_E_CRYPTO,
           "Ed25519 key expansion failed");
    return 0;
}

int sigil_ed25519_sign_expanded(uint8_t sig[static 64], const uint8_t sk[static 64],
                                const void *msg, size_t n)
{
    ENSURE(crypto_sign_detached(sig, NULL, msg, n, sk) == 0, SIGIL_E_CRYPTO,
           "Ed25519 signing failed");
    return 0;
}

int sigil_ed25519_sign(uint8_t sig[static 64], const uint8_t seed[static 32], const void *msg,
                       size_t n)
{
    SIGIL_SECRET(sk);
    GUARD(sigil_secret_alloc(&sk, crypto_sign_SECRETKEYBYTES));
    GUARD(sigil_ed25519_expand(sk.p, seed));
    return sigil_ed25519_sign_expanded(sig, sk.p, msg, n);
}

/* ---- PEM keys. The form OpenSSL writes for an Ed25519 key (RFC 8410 §7,
 * PKCS#8 v1) is 48 bytes: a fixed 16-byte DER prefix and the 32-byte seed,
 * one 64-character base64 line between the BEGIN and END lines. That form
 * is read here in constant time: the framing is public (its place depends
 * only on the length), the body goes through the branch-free base64
 * decoder and the prefix is compared without branching on the secret.
 * Any other layout (PKCS#8 v2 with the public key, extra headers, other
 * line breaks) goes to OpenSSL's PEM reader, which is not constant time
 * (docs/HARDENING.md). ---- */
#define PEM_BEGIN "-----BEGIN PRIVATE KEY-----"
#define PEM_END "-----END PRIVATE KEY-----"
#define PEM_BODY 64 /* base64 of 48 bytes, no padding needed */
#define PKCS8_LEN 48

static const uint8_t PKCS8_ED25519_PREFIX[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                                 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

/* Where the body starts when pem has the fixed layout with line break eol
 * (and at most one more eol at the end), else NULL. Looks only at the
 * framing, whose place the length gives. */
static const char *pem_fixed_body(const char *pem, size_t len, const char *eol)
{
    size_t b = strlen(PEM_BEGIN), e = strlen(PEM_END), l = strlen(eol);
    size_t core = b + l + PEM_BODY + l + e;
    if (len != core && len != core + l)
        return NULL;
    const char *body = pem + b + l, *end = body + PEM_BODY;
    bool framed = memcmp(pem, PEM_BEGIN, b) == 0 && memcmp(pem + b, eol, l) == 0 &&
                  memcmp(end, eol, l) == 0 && memcmp(end + l, PEM_END, e) == 0 &&
                  (len == core || memcmp(pem + core, eol, l) == 0);
    return framed ? body : NULL;
}

/* The one branch on secret-derived data: whether the decoded DER is an
 * Ed25519 PKCS#8 v1 key at all (a format verdict, like the decoders').
 * Out of line: tests/ctime/ctime.supp names it as a declassification
 * point; the failing path wipes what was decoded. */
static __attribute__((noinline)) int pkcs8_verdict(uint32_t bad, sigil_secret *der)
{
    if (bad != 0) {
        sodium_memzero(der->p, PKCS8_LEN);
        BAIL(SIGIL_E_BAD_CREDENTIALS, "secret: PEM key is not an Ed25519 private key");
    }
    return 0;
}

static int seed_from_fixed_pem(uint8_t seed[static 32], const char *body)
{
    SIGIL_SECRET(der);
    size_t n = 0;
    GUARD(sigil_secret_alloc(&der, PKCS8_LEN));
    ENSURE(sigil_b64_decode(der.p, PKCS8_LEN, &n, body, PEM_BODY, SIGIL_B64_STD, "secret") == 0,
           SIGIL_E_BAD_CREDENTIALS, "secret: the PEM key's body is not base64");
    ENSURE(n == PKCS8_LEN, SIGIL_E_BAD_CREDENTIALS,
           "secret: PEM key is not an Ed25519 private key");
    /* sodium_memcmp is 0 or -1, computed without a branch */
    uint32_t bad =
        (uint32_t)sodium_memcmp(der.p, PKCS8_ED25519_PREFIX, sizeof(PKCS8_ED25519_PREFIX));
    GUARD(pkcs8_verdict(bad, &der));
    memcpy(seed, der.p + 16, 32);
    return 0;
}

int sigil_ed25519_seed_from_pem(uint8_t seed[static 32], const char *pem, size_t len)
{
    static const char *const EOLS[] = {"\n", "\r\n"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(EOLS); i++) {
        const char *body = pem_fixed_body(pem, len, EOLS[i]);
        if (body != NULL)
            return seed_from_fixed_pem(seed, body);
    }
    EVP_PKEY *pkey;
    GUARD(sigil_pem_read_private_key(&pkey, pem, len, "PKCS#8 (-----BEGIN PRIVATE KEY-----)"));
    size_t n = 32;
    int ok = EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 &&
             EVP_PKEY_get_raw_private_key(pkey, seed, &n) == 1 && n == 32;
    EVP_PKEY_free(pkey);
    if (!ok) {
        sodium_memzero(seed, 32);
        BAIL(SIGIL_E_BAD_CREDENTIALS, "secret: PEM key is not an Ed25519 private key");
    }
    return 0;
}
