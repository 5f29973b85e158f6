/*
 * Wallet keys made inside the enclave (trusted; docs/PROVISIONING.md
 * "Generated keys"). A payload with "generate": true gets a secp256k1 key
 * drawn from libsodium's CSPRNG (the source of every other enclave secret)
 * in locked memory, written into the payload as the credentials the venue
 * parses; from then on it is an ordinary payload. Only the address leaves.
 */
#include <string.h>

#include <sodium.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"

#define KEY_DRAWS 8 /* a draw is out of range with probability < 2^-127 */
#define CRED_PREFIX "{\"private_key\":\"0x"
#define CRED_LEN (sizeof(CRED_PREFIX) - 1 + 64 + 2)

/* A scalar in [1, n-1]: drawn again when out of range, never reduced. */
static int draw_scalar(sigil_secret *k)
{
    GUARD(sigil_secret_alloc(k, 32));
    k->len = 32;
    for (int i = 0; i < KEY_DRAWS; i++) {
        randombytes_buf(k->p, 32);
        if (sigil_secp256k1_check_key(k->p) == 0)
            return 0;
        sigil_clear_error();
    }
    BAIL(SIGIL_E_CRYPTO, "keygen: no valid secp256k1 key in %d draws", KEY_DRAWS);
}

/* {"private_key":"0x<64 hex>"} (sodium_bin2hex: constant time). */
static int credentials_text(sigil_secret *out, const sigil_secret *k)
{
    GUARD(sigil_secret_alloc(out, CRED_LEN + 1));
    memcpy(out->p, CRED_PREFIX, sizeof(CRED_PREFIX) - 1);
    sigil_hex_encode((char *)out->p + sizeof(CRED_PREFIX) - 1, k->p, 32);
    memcpy(out->p + CRED_LEN - 2, "\"}", 2);
    out->len = CRED_LEN;
    return 0;
}

int enclave_keygen_payload(sigil_secret *out, const enclave_payload *p)
{
    SIGIL_SECRET(k);
    SIGIL_SECRET(cred);
    ENSURE(p->generate, SIGIL_E_INTERNAL, "keygen: the payload does not ask for a key");
    const sigil_venue *v = sigil_venue_find(p->venue);
    ENSURE(
        v != NULL && sigil_venue_can_generate(v), SIGIL_E_BAD_REQUEST,
        "payload.generate: %s keys cannot be generated in the enclave (" SIGIL_VENUE_GENERATE_NAMES
        " can)",
        p->venue);
    ENSURE(strcmp(p->key_type, "secp256k1") == 0, SIGIL_E_BAD_REQUEST,
           "payload.key_type: a generated key is secp256k1, not %s", p->key_type);
    GUARD(draw_scalar(&k));
    GUARD(credentials_text(&cred, &k));
    const enclave_member over[] = {{"credentials", (const char *)cred.p, cred.len}};
    return enclave_payload_rebuild(out, p, over, SIGIL_ARRAY_LEN(over));
}
