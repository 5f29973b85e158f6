/*
 * The dYdX signer's compressed secp256k1 public key (trusted), for the
 * transaction's SignerInfo. libsecp256k1 with a context of its own, created
 * and randomised once: src/crypto/secp256k1.c keeps its context private and
 * offers no public-key export yet.
 */
#include <pthread.h>
#include <secp256k1.h>
#include <sodium.h>

#include "venues/dydx_internal.h"

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

int sigil_dydx_pubkey(uint8_t out[static 33], const sigil_credentials *c)
{
    secp256k1_pubkey pub;
    size_t len = 33;
    ENSURE(c->type == SIGIL_KEY_SECP256K1 && c->secret.len == 32, SIGIL_E_INTERNAL,
           "dydx: wallet venue without a wallet key");
    pthread_once(&g_once, make_ctx);
    ENSURE(g_ctx != NULL, SIGIL_E_CRYPTO, "secp256k1 context unavailable");
    ENSURE(secp256k1_ec_pubkey_create(g_ctx, &pub, c->secret.p) == 1, SIGIL_E_BAD_CREDENTIALS,
           "credentials.private_key: not a valid secp256k1 secret key");
    secp256k1_ec_pubkey_serialize(g_ctx, out, &len, &pub, SECP256K1_EC_COMPRESSED);
    return 0;
}
