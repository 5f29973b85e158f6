/*
 * Generic EIP-712 signing (trusted): the request is an eth_signTypedData_v4
 * document {domain, types, primaryType, message} plus an optional unsigned
 * "timestamp" (Unix ms) for the service's freshness check; the output is the
 * digest and the 65-byte r‖s‖v signature of the wallet key.
 */
#include "venues/venues_internal.h"

static int eip712_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field REQUEST_EXTRA[] = {{"timestamp", false}};
    uint8_t digest[32], domain_separator[32];
    uint64_t ts;
    char hex_mem[2 + 2 * 65 + 1];
    sigil_buf hex;
    sigil_eth_sig sig;
    sigil_jw w;
    GUARD(sigil_eip712_hash_typed_data(digest, domain_separator, ctx->req, ctx->root, REQUEST_EXTRA,
                                       SIGIL_ARRAY_LEN(REQUEST_EXTRA)));
    GUARD(sigil_request_timestamp(&ts, ctx->req, ctx->root));
    GUARD(sigil_eth_sign_digest(&sig, ctx->cred, digest));

    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "digest"));
    sigil_buf_init(&hex, hex_mem, sizeof(hex_mem));
    GUARD(sigil_buf_puts(&hex, "0x"));
    GUARD(sigil_buf_put_hex(&hex, digest, sizeof(digest)));
    GUARD(sigil_jw_strn(&w, hex_mem, hex.len));
    GUARD(sigil_jw_key(&w, "signature"));
    sigil_buf_init(&hex, hex_mem, sizeof(hex_mem));
    GUARD(sigil_eth_sig_put_hex65(&hex, &sig));
    GUARD(sigil_jw_strn(&w, hex_mem, hex.len));
    return sigil_jw_obj_end(&w);
}

const sigil_venue sigil_venue_eip712 = {
    .name = "eip712",
    .kind = SIGIL_VENUE_WALLET,
    .key_types = SIGIL_KEY_SECP256K1,
    .needs_passphrase = false,
    .sign = eip712_sign,
};
