/*
 * dYdX v4 signing (trusted): a Cosmos SDK transaction of one MsgPlaceOrder or
 * MsgCancelOrder, signed in SIGN_MODE_DIRECT (secp256k1 over SHA-256 of the
 * SignDoc, 64-byte r‖s, low-S) and returned as the TxRaw to broadcast:
 * {"tx_bytes": base64, "txhash": hex, "signature": base64}. Permissioned
 * keys sign for their owner through the selected authenticators. venues.md §7.
 */
#include <string.h>

#include "venues/dydx_internal.h"

#define BODY_MAX 2048
#define AUTH_INFO_MAX 2048
#define SIGN_DOC_MAX (BODY_MAX + AUTH_INFO_MAX + 64)

/* The next n bytes of scratch as a buffer of their own. */
static int carve(sigil_buf *out, sigil_buf *scratch, size_t n)
{
    ENSURE(scratch->cap - scratch->len >= n, SIGIL_E_INTERNAL, "dydx: scratch exhausted");
    sigil_buf_init(out, scratch->data + scratch->len, n);
    scratch->len += n;
    return 0;
}

static sigil_slice slice_of(const sigil_buf *b)
{
    return (sigil_slice){(const char *)b->data, b->len};
}

/* Without authenticators the key signs for its own account: every address
 * the message acts for must be the key's. A permissioned key signs for an
 * owner that added it; the chain checks that, not Sigil. */
static int check_owner(const dydx_tx *tx, const uint8_t pubkey[static 33])
{
    char addr[DYDX_ADDR_MAX + 1];
    size_t n;
    if (tx->n_authenticators > 0)
        return 0;
    GUARD(sigil_dydx_address(addr, &n, pubkey));
    ENSURE(tx->order.id.owner_len == n && memcmp(tx->order.id.owner, addr, n) == 0,
           SIGIL_E_BAD_ADDRESS,
           "request: owner is not the signing key's address (a permissioned key signs for "
           "another owner with request.authenticators)");
    return 0;
}

static int write_output(sigil_buf *out, sigil_buf *scratch, const sigil_buf *tx_raw,
                        const uint8_t sig[static 64])
{
    uint8_t hash[32];
    char hex[65];
    sigil_buf b64;
    sigil_jw w;
    GUARD(carve(&b64, scratch, SIGIL_B64_LEN(tx_raw->len) + SIGIL_B64_LEN((size_t)64)));
    sigil_sha256(hash, tx_raw->data, tx_raw->len);
    sigil_hex_encode(hex, hash, sizeof(hash));
    for (size_t i = 0; i < 64; i++)
        if (hex[i] >= 'a' && hex[i] <= 'f')
            hex[i] = (char)(hex[i] - 'a' + 'A');
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_b64_put(&b64, tx_raw->data, tx_raw->len, SIGIL_B64_STD));
    GUARD(sigil_jw_key(&w, "tx_bytes"));
    GUARD(sigil_jw_strn(&w, (const char *)b64.data, b64.len));
    GUARD(sigil_jw_key(&w, "txhash"));
    GUARD(sigil_jw_strn(&w, hex, 64));
    size_t mark = b64.len;
    GUARD(sigil_b64_put(&b64, sig, 64, SIGIL_B64_STD));
    GUARD(sigil_jw_key(&w, "signature"));
    GUARD(sigil_jw_strn(&w, (const char *)b64.data + mark, b64.len - mark));
    return sigil_jw_obj_end(&w);
}

static int dydx_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    static _Thread_local dydx_tx tx;
    uint8_t pubkey[33], digest[32], sig[64];
    sigil_buf body, auth, doc, raw;
    int recid;
    GUARD(sigil_dydx_request_parse(&tx, ctx->req, ctx->root, ctx->network));
    GUARD(sigil_dydx_pubkey(pubkey, ctx->cred));
    GUARD(check_owner(&tx, pubkey));

    GUARD(carve(&body, ctx->scratch, BODY_MAX));
    GUARD(carve(&auth, ctx->scratch, AUTH_INFO_MAX));
    GUARD(carve(&doc, ctx->scratch, SIGN_DOC_MAX));
    GUARD(carve(&raw, ctx->scratch, SIGN_DOC_MAX + 80));
    GUARD(sigil_dydx_body_bytes(&body, &tx));
    GUARD(sigil_dydx_auth_info_bytes(&auth, &tx, pubkey));
    GUARD(sigil_dydx_sign_doc_bytes(&doc, slice_of(&body), slice_of(&auth), tx.chain_id,
                                    tx.account_number));
    sigil_sha256(digest, doc.data, doc.len);
    GUARD(sigil_secp256k1_sign(sig, &recid, ctx->cred->secret.p, digest));
    GUARD(sigil_dydx_tx_raw_bytes(&raw, slice_of(&body), slice_of(&auth), sig));
    return write_output(out, ctx->scratch, &raw, sig);
}

/* Key listings show the key's own bech32 account address (dydx1…). */
static int dydx_key_address(char *out, size_t cap, const sigil_credentials *c)
{
    uint8_t pubkey[33];
    char addr[DYDX_ADDR_MAX + 1];
    size_t n;
    GUARD(sigil_dydx_pubkey(pubkey, c));
    GUARD(sigil_dydx_address(addr, &n, pubkey));
    ENSURE(n < cap, SIGIL_E_TOO_LARGE, "dydx: address longer than %zu characters", cap - 1);
    memcpy(out, addr, n);
    out[n] = '\0';
    return 0;
}

const sigil_venue sigil_venue_dydx = {
    .name = "dydx",
    .kind = SIGIL_VENUE_WALLET,
    .key_types = SIGIL_KEY_SECP256K1,
    .needs_passphrase = false,
    .sign = dydx_sign,
    .address = dydx_key_address,
};
