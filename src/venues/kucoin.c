/*
 * KuCoin spot and futures REST signing, API-key version 2 (trusted).
 * prehash = ms timestamp ‖ METHOD ‖ path ["?" query] ‖ body;
 * KC-API-SIGN = base64(HMAC-SHA256(secret, prehash)) and
 * KC-API-PASSPHRASE = base64(HMAC-SHA256(secret, passphrase)).
 *
 * The query is signed exactly as sent, percent-escapes included, as ccxt
 * 4.5.84 sends and signs it (the differential tests hold sigil to that).
 * KuCoin's newer docs say to sign the un-encoded text; a venue that reads it
 * differently fails verification rather than executing something unsigned.
 * No broker (KC-API-PARTNER*) headers.
 */
#include <string.h>

#include "venues/venues_internal.h"

static int kucoin_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_cex_request r;
    sigil_slice prehash;
    /* ccxt 4.5.84 lists no KuCoin test host: refuse rather than guess one. */
    ENSURE(ctx->network == SIGIL_NET_MAINNET, SIGIL_E_BAD_REQUEST,
           "--network: KuCoin has no testnet; use mainnet");
    GUARD(sigil_cex_request_parse(&r, ctx->scratch, ctx, SIGIL_BODY_JSON));
    ENSURE(!r.has_recv_window, SIGIL_E_BAD_FIELD,
           "request.recv_window: KuCoin has no receive window; omit it");
    sigil_u64_text ts;
    sigil_u64_text_init(&ts, r.timestamp);
    GUARD(sigil_cex_prehash_target(&prehash, ctx->scratch, (sigil_slice){ts.s, ts.len}, &r));

    char sig_mem[SIGIL_B64_LEN(32) + 1], pass_mem[SIGIL_B64_LEN(32) + 1];
    sigil_buf sig, pass;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    sigil_buf_init(&pass, pass_mem, sizeof(pass_mem));
    GUARD(sigil_cex_hmac256_b64(&sig, c, prehash.p, prehash.len));
    GUARD(sigil_cex_hmac256_b64(&pass, c, c->passphrase.p, c->passphrase.len));

    /* ccxt's order; Content-Type only when there is a body, as ccxt does. */
    sigil_header h[6] = {
        {"KC-API-KEY-VERSION", "2", 1},
        {"KC-API-KEY", c->api_key, c->api_key_len},
        {"KC-API-TIMESTAMP", ts.s, ts.len},
    };
    size_t n = 3;
    if (r.body.len > 0)
        h[n++] = (sigil_header){"Content-Type", "application/json", 16};
    h[n++] = (sigil_header){"KC-API-PASSPHRASE", pass_mem, pass.len};
    h[n++] = (sigil_header){"KC-API-SIGN", sig_mem, sig.len};
    int rc = sigil_cex_write(out, &r, r.query, r.body, h, n);
    sigil_wipe(pass_mem, sizeof(pass_mem)); /* derived from the secret */
    return rc;
}

const sigil_venue sigil_venue_kucoinfutures = {
    .name = "kucoinfutures",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = true,
    .sign = kucoin_sign,
};

const sigil_venue sigil_venue_kucoin = {
    .name = "kucoin",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = true,
    .sign = kucoin_sign,
};
