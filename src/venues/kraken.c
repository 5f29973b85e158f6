/*
 * Kraken spot REST signing (trusted).
 * API-Sign = base64(HMAC-SHA512(base64decode(secret), path ‖ SHA256(nonce ‖ body))),
 * SHA-256 as its 32 raw bytes. The key is decoded once, when the credentials
 * are parsed (sigil_venue.secret_base64).
 *
 * Nonce: the body's `nonce` parameter is what Kraken reads and what is
 * hashed, so it must be there and equal request.timestamp (decimal ms, the
 * nonce ccxt sends). When the body has none, `nonce=<timestamp>` is inserted
 * as its first parameter (form) or `"nonce":"<timestamp>"` as its first
 * member (JSON), where ccxt and Kraken's docs put it. A nonce spelled in
 * another letter case is refused (Kraken would not read it as the nonce).
 *
 * Body: form text, or a JSON object when it starts with '{' (Kraken's batch
 * endpoints; Content-Type follows). Only POST to /0/private/…; a query would
 * travel unsigned and is refused. Kraken spot has no testnet and no receive
 * window: --network testnet and recv_window are refused.
 */
#include <string.h>

#include "venues/venues_internal.h"

#define PRIVATE_PREFIX "/0/private/"

/* Whether request.body is JSON text: its first decoded character is '{'. */
static bool body_is_json(const sigil_sign_ctx *ctx)
{
    uint32_t t = sigil_json_get(ctx->req, ctx->root, "body");
    if (t == 0 || sigil_json_type_of(ctx->req, t) != SIGIL_JSON_STRING)
        return false;
    sigil_slice raw = sigil_json_raw(ctx->req, t);
    return (raw.len > 0 && raw.p[0] == '{') ||
           (raw.len >= 6 && (memcmp(raw.p, "\\u007b", 6) == 0 || memcmp(raw.p, "\\u007B", 6) == 0));
}

/* Form body: checks a present nonce, or inserts one first. */
static int form_nonce(sigil_slice *body, sigil_buf *scratch, const sigil_u64_text *ts)
{
    sigil_query q;
    GUARD(sigil_query_parse(&q, body->p, body->len, "request.body"));
    const sigil_query_param *exact = sigil_query_find(&q, "nonce");
    const sigil_query_param *folded = sigil_query_find_folded(&q, "nonce");
    ENSURE(
        folded == exact, SIGIL_E_BAD_FIELD,
        "request.body: a parameter spelled like nonce but with other letter case is not allowed");
    if (exact != NULL) {
        ENSURE(exact->value.len == ts->len && memcmp(exact->value.p, ts->s, ts->len) == 0,
               SIGIL_E_BAD_FIELD,
               "request.body: the nonce parameter differs from request.timestamp");
        return 0;
    }
    size_t mark = scratch->len;
    GUARD(sigil_buf_puts(scratch, "nonce="));
    GUARD(sigil_buf_put(scratch, ts->s, ts->len));
    if (body->len > 0) {
        GUARD(sigil_buf_putc(scratch, '&'));
        GUARD(sigil_buf_put(scratch, body->p, body->len));
    }
    *body = (sigil_slice){(const char *)scratch->data + mark, scratch->len - mark};
    return 0;
}

/* JSON body: a top-level "nonce" (string or integer) must equal the
 * timestamp; without one, "nonce":"<ts>" becomes the first member. */
static int json_nonce(sigil_slice *body, sigil_buf *scratch, const sigil_u64_text *ts)
{
    static _Thread_local sigil_json_tok toks[SIGIL_REQUEST_MAX_TOKENS];
    sigil_json d;
    GUARD(sigil_json_parse(&d, body->p, body->len, toks, SIGIL_REQUEST_MAX_TOKENS));
    GUARD(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "request", "body"));
    uint32_t t = sigil_json_get(&d, 0, "nonce");
    if (t != 0) {
        sigil_json_type ty = sigil_json_type_of(&d, t);
        sigil_slice raw = sigil_json_raw(&d, t);
        ENSURE((ty == SIGIL_JSON_STRING || ty == SIGIL_JSON_NUMBER) && raw.len == ts->len &&
                   memcmp(raw.p, ts->s, ts->len) == 0,
               SIGIL_E_BAD_FIELD, "request.body: the nonce member differs from request.timestamp");
        return 0;
    }
    size_t mark = scratch->len;
    GUARD(sigil_buf_puts(scratch, "{\"nonce\":\""));
    GUARD(sigil_buf_put(scratch, ts->s, ts->len));
    GUARD(sigil_buf_putc(scratch, '"'));
    if (d.toks[0].size > 0)
        GUARD(sigil_buf_putc(scratch, ','));
    GUARD(sigil_buf_put(scratch, body->p + 1, body->len - 1));
    *body = (sigil_slice){(const char *)scratch->data + mark, scratch->len - mark};
    return 0;
}

static int kraken_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_cex_request r;
    ENSURE(ctx->network == SIGIL_NET_MAINNET, SIGIL_E_BAD_REQUEST,
           "--network: Kraken spot has no testnet; use mainnet");
    bool json = body_is_json(ctx);
    GUARD(sigil_cex_request_parse(&r, ctx->scratch, ctx, json ? SIGIL_BODY_JSON : SIGIL_BODY_FORM));
    ENSURE(!r.has_recv_window, SIGIL_E_UNKNOWN_FIELD,
           "request.recv_window: Kraken has no receive window; omit it");
    ENSURE(strcmp(r.method, "POST") == 0, SIGIL_E_BAD_FIELD,
           "request.method: Kraken private endpoints are POST");
    ENSURE(r.path.len > strlen(PRIVATE_PREFIX) &&
               memcmp(r.path.p, PRIVATE_PREFIX, strlen(PRIVATE_PREFIX)) == 0,
           SIGIL_E_BAD_FIELD, "request.path: expected " PRIVATE_PREFIX "<Method>");
    ENSURE(r.query.len == 0, SIGIL_E_BAD_FIELD,
           "request.query: Kraken signs only the body; send the parameters there");
    ENSURE(c->hmac512_state.len > 0, SIGIL_E_INTERNAL, "credentials: no HMAC-SHA512 key");

    sigil_u64_text ts;
    sigil_u64_text_init(&ts, r.timestamp);
    sigil_slice body = r.body;
    GUARD(json ? json_nonce(&body, ctx->scratch, &ts) : form_nonce(&body, ctx->scratch, &ts));

    /* message = path ‖ SHA256(nonce ‖ body), in scratch */
    sigil_buf *scratch = ctx->scratch;
    size_t mark = scratch->len;
    GUARD(sigil_buf_put(scratch, ts.s, ts.len));
    GUARD(sigil_buf_put(scratch, body.p, body.len));
    uint8_t inner[32], mac[64];
    sigil_sha256(inner, scratch->data + mark, scratch->len - mark);
    scratch->len = mark;
    GUARD(sigil_buf_put(scratch, r.path.p, r.path.len));
    GUARD(sigil_buf_put(scratch, inner, sizeof(inner)));
    sigil_hmac_sha512_keyed(mac, &c->hmac512_state, scratch->data + mark, scratch->len - mark);
    scratch->len = mark;
    char sig_mem[SIGIL_B64_LEN(64) + 1];
    sigil_buf sig;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_b64_put(&sig, mac, sizeof(mac), SIGIL_B64_STD));

    /* ccxt's order */
    sigil_header h[3] = {
        {"API-Key", c->api_key, c->api_key_len},
        {"API-Sign", sig_mem, sig.len},
        json ? (sigil_header){"Content-Type", "application/json", 16}
             : (sigil_header){"Content-Type", "application/x-www-form-urlencoded", 33},
    };
    return sigil_cex_write(out, &r, r.query, body, h, 3);
}

const sigil_venue sigil_venue_kraken = {
    .name = "kraken",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = false,
    .sign = kraken_sign,
    .secret_base64 = true,
    .hmac_sha512 = true,
};
