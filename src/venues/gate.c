/*
 * Gate API v4 REST signing (trusted).
 * SIGN = hex(HMAC-SHA512(secret, METHOD "\n" path "\n" decoded query "\n"
 * hex(SHA512(body)) "\n" timestamp in seconds)).
 *
 * request.path is the whole path as sent and signed, /api/v4 included
 * (ccxt sends and signs "/api/v4" + endpoint), so it must start with
 * "/api/v4/". The query is sent as given and signed percent-decoded, as ccxt
 * signs rawencode() of what it sends urlencode()d; a raw '+' is refused
 * (space or plus?). Timestamp = floor(request.timestamp / 1000) in the
 * Timestamp header. Gate has no receive window (recv_window is refused). Its
 * testnet has the same signature on another host, so --network is accepted.
 */
#include <string.h>

#include "venues/venues_internal.h"

#define PATH_PREFIX "/api/v4/"

static int gate_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_buf *scratch = ctx->scratch;
    sigil_cex_request r;
    GUARD(sigil_cex_request_parse(&r, scratch, ctx, SIGIL_BODY_JSON));
    ENSURE(!r.has_recv_window, SIGIL_E_UNKNOWN_FIELD,
           "request.recv_window: Gate has no receive window; omit it");
    ENSURE(r.path.len > strlen(PATH_PREFIX) &&
               memcmp(r.path.p, PATH_PREFIX, strlen(PATH_PREFIX)) == 0,
           SIGIL_E_BAD_FIELD, "request.path: expected " PATH_PREFIX "… (the path as sent)");
    GUARD(sigil_cex_check_ascii(r.query, "query", "#+"));
    ENSURE(c->hmac512_state.len > 0, SIGIL_E_INTERNAL, "credentials: no HMAC-SHA512 key");

    sigil_u64_text ts;
    sigil_u64_text_init(&ts, r.timestamp / 1000);
    uint8_t body_hash[64], mac[64];
    sigil_sha512(body_hash, r.body.p, r.body.len);

    size_t mark = scratch->len;
    GUARD(sigil_buf_puts(scratch, r.method));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put(scratch, r.path.p, r.path.len));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_pct_decode(scratch, r.query.p, r.query.len, false, "request.query"));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put_hex(scratch, body_hash, sizeof(body_hash)));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put(scratch, ts.s, ts.len));
    sigil_hmac_sha512_keyed(mac, &c->hmac512_state, scratch->data + mark, scratch->len - mark);
    scratch->len = mark;
    char sig_mem[2 * 64 + 1];
    sigil_buf sig;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_buf_put_hex(&sig, mac, sizeof(mac)));

    /* ccxt's order; Content-Type on every request, as ccxt sends it. */
    sigil_header h[4] = {
        {"KEY", c->api_key, c->api_key_len},
        {"Timestamp", ts.s, ts.len},
        {"SIGN", sig_mem, sig.len},
        {"Content-Type", "application/json", 16},
    };
    return sigil_cex_write(out, &r, r.query, r.body, h, 4);
}

const sigil_venue sigil_venue_gate = {
    .name = "gate",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = false,
    .sign = gate_sign,
    .hmac_sha512 = true,
};
