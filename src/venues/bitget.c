/*
 * Bitget V2 REST signing (trusted).
 * ACCESS-SIGN = base64(HMAC-SHA256(secret, ms timestamp ‖ METHOD ‖ path
 * ["?" decoded query] ‖ body)). Bitget verifies the query un-percent-encoded
 * (ccxt signs rawencode() of the parameters it sends urlencode()d), so the
 * query is sent as given and signed percent-decoded; a raw '+' is refused
 * (space or plus? send %2B or %20). ACCESS-PASSPHRASE carries the passphrase
 * itself, so it leaves the enclave in the output, as OKX's does.
 * Testnet is demo trading: same host and signature plus "PAPTRADING: 1",
 * except for the legacy demo product types S*-FUTURES, as ccxt does.
 * Bitget has no receive window: recv_window is refused. No broker header
 * (ccxt's X-CHANNEL-API-CODE is its affiliate tag, not signed).
 */
#include <string.h>

#include "venues/venues_internal.h"

static const char *const LEGACY_DEMO[] = {"SCOIN-FUTURES", "SUSDT-FUTURES", "SUSDC-FUTURES"};

static bool is_legacy_demo(const char *s, size_t n)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(LEGACY_DEMO); i++) {
        if (strlen(LEGACY_DEMO[i]) == n && memcmp(LEGACY_DEMO[i], s, n) == 0)
            return true;
    }
    return false;
}

/* ccxt sends PAPTRADING unless productType (query or top-level body member)
 * is a legacy demo product type. */
static int wants_demo_header(bool *out, const sigil_cex_request *r)
{
    static _Thread_local sigil_json_tok toks[SIGIL_REQUEST_MAX_TOKENS];
    *out = true;
    const sigil_query_param *p = sigil_query_find(&r->query_params, "productType");
    if (p != NULL && is_legacy_demo(p->value.p, p->value.len))
        *out = false;
    if (r->body.len == 0)
        return 0;
    sigil_json d;
    GUARD(sigil_json_parse(&d, r->body.p, r->body.len, toks, SIGIL_REQUEST_MAX_TOKENS));
    if (sigil_json_type_of(&d, 0) != SIGIL_JSON_OBJECT)
        return 0;
    uint32_t t = sigil_json_get(&d, 0, "productType");
    if (t != 0 && sigil_json_type_of(&d, t) == SIGIL_JSON_STRING) {
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(LEGACY_DEMO); i++) {
            if (sigil_json_str_eq(&d, t, LEGACY_DEMO[i]))
                *out = false;
        }
    }
    return 0;
}

static int bitget_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_buf *scratch = ctx->scratch;
    sigil_cex_request r;
    GUARD(sigil_cex_request_parse(&r, scratch, ctx, SIGIL_BODY_JSON));
    ENSURE(!r.has_recv_window, SIGIL_E_UNKNOWN_FIELD,
           "request.recv_window: Bitget has no receive window; omit it");
    GUARD(sigil_cex_check_ascii(r.query, "query", "#+"));

    sigil_u64_text ts;
    sigil_u64_text_init(&ts, r.timestamp);
    size_t mark = scratch->len;
    GUARD(sigil_buf_put(scratch, ts.s, ts.len));
    GUARD(sigil_buf_puts(scratch, r.method));
    GUARD(sigil_buf_put(scratch, r.path.p, r.path.len));
    if (r.query.len > 0) {
        GUARD(sigil_buf_putc(scratch, '?'));
        GUARD(sigil_pct_decode(scratch, r.query.p, r.query.len, false, "request.query"));
    }
    GUARD(sigil_buf_put(scratch, r.body.p, r.body.len));
    char sig_mem[SIGIL_B64_LEN(32) + 1];
    sigil_buf sig;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_cex_hmac256_b64(&sig, c, scratch->data + mark, scratch->len - mark));
    scratch->len = mark;

    /* ccxt's order; Content-Type on POST, the demo flag last. */
    sigil_header h[6] = {
        {"ACCESS-KEY", c->api_key, c->api_key_len},
        {"ACCESS-SIGN", sig_mem, sig.len},
        {"ACCESS-TIMESTAMP", ts.s, ts.len},
        {"ACCESS-PASSPHRASE", (const char *)c->passphrase.p, c->passphrase.len},
    };
    size_t n = 4;
    if (strcmp(r.method, "POST") == 0)
        h[n++] = (sigil_header){"Content-Type", "application/json", 16};
    bool demo = false;
    if (ctx->network == SIGIL_NET_TESTNET)
        GUARD(wants_demo_header(&demo, &r));
    if (demo)
        h[n++] = (sigil_header){"PAPTRADING", "1", 1};
    return sigil_cex_write(out, &r, r.query, r.body, h, n);
}

const sigil_venue sigil_venue_bitget = {
    .name = "bitget",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = true,
    .sign = bitget_sign,
};
