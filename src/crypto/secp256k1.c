/*
 * secp256k1 ECDSA through libsecp256k1 (trusted code): RFC 6979 nonces,
 * low-S normalised signatures, recovery ids, Ethereum addresses. The signing
 * context is created and randomised once.
 */
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <string.h>

#include "sigil/crypto.h"

static secp256k1_context *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void make_ctx(void)
{
    uint8_t seed[32];
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (c == NULL)
        return;
    randombytes_buf(seed, sizeof(seed));
    if (!secp256k1_context_randomize(c, seed)) {
        secp256k1_context_destroy(c);
        c = NULL;
    }
    sodium_memzero(seed, sizeof(seed));
    g_ctx = c;
}

static const secp256k1_context *ctx(void)
{
    pthread_once(&g_once, make_ctx);
    return g_ctx;
}

int sigil_secp256k1_check_key(const uint8_t seckey[static 32])
{
    ENSURE(ctx() != NULL, SIGIL_E_CRYPTO, "secp256k1 context unavailable");
    ENSURE(secp256k1_ec_seckey_verify(ctx(), seckey) == 1, SIGIL_E_BAD_CREDENTIALS,
           "credentials.private_key: not a valid secp256k1 secret key");
    return 0;
}

int sigil_secp256k1_sign(uint8_t sig64[static 64], int *recid, const uint8_t seckey[static 32],
                         const uint8_t msg32[static 32])
{
    secp256k1_ecdsa_recoverable_signature sig;
    ENSURE(ctx() != NULL, SIGIL_E_CRYPTO, "secp256k1 context unavailable");
    ENSURE(secp256k1_ecdsa_sign_recoverable(ctx(), &sig, msg32, seckey, NULL, NULL) == 1,
           SIGIL_E_CRYPTO, "secp256k1 signing failed");
    /* libsecp256k1 only produces low-S signatures. */
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx(), sig64, recid, &sig);
    return 0;
}

int sigil_secp256k1_pubkey_compressed(uint8_t out[static 33], const uint8_t seckey[static 32])
{
    secp256k1_pubkey pub;
    size_t len = 33;
    GUARD(sigil_secp256k1_check_key(seckey));
    ENSURE(secp256k1_ec_pubkey_create(ctx(), &pub, seckey) == 1, SIGIL_E_CRYPTO,
           "secp256k1 public key derivation failed");
    secp256k1_ec_pubkey_serialize(ctx(), out, &len, &pub, SECP256K1_EC_COMPRESSED);
    return 0;
}

int sigil_secp256k1_address(uint8_t addr[static 20], const uint8_t seckey[static 32])
{
    secp256k1_pubkey pub;
    uint8_t ser[65], h[32];
    size_t len = sizeof(ser);
    GUARD(sigil_secp256k1_check_key(seckey));
    ENSURE(secp256k1_ec_pubkey_create(ctx(), &pub, seckey) == 1, SIGIL_E_CRYPTO,
           "secp256k1 public key derivation failed");
    secp256k1_ec_pubkey_serialize(ctx(), ser, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
    sigil_keccak256(h, ser + 1, 64);
    memcpy(addr, h + 12, 20);
    return 0;
}
