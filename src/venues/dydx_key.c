/*
 * The dYdX signer's compressed secp256k1 public key (trusted), for the
 * transaction's SignerInfo and the key's bech32 address.
 */
#include "venues/dydx_internal.h"

int sigil_dydx_pubkey(uint8_t out[static 33], const sigil_credentials *c)
{
    ENSURE(c->type == SIGIL_KEY_SECP256K1 && c->secret.len == 32, SIGIL_E_INTERNAL,
           "dydx: wallet venue without a wallet key");
    ENSURE(sigil_secp256k1_pubkey_compressed(out, c->secret.p) == 0, SIGIL_E_BAD_CREDENTIALS,
           "credentials.private_key: not a valid secp256k1 secret key");
    return 0;
}
