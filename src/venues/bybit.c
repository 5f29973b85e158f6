/*
 * Bybit V5 REST signing (trusted).
 * presign = timestamp ‖ api_key ‖ recv_window ‖ (query of a GET/DELETE | body
 * of a POST/PUT), as sent; HMAC-SHA256 → lowercase hex, or RSA-SHA256 with a
 * self-generated key → base64. Sent in X-BAPI-SIGN. Testnet
 * (api-testnet.bybit.com) differs only in host, so the signature is the same.
 */
#include <string.h>

#include "venues/venues_internal.h"

#define BYBIT_DEFAULT_RECV_WINDOW 5000

static const struct {
    const char *method;
    bool signs_body;
} SIGNED_PART[] = {
    {"GET", false},
    {"DELETE", false},
    {"POST", true},
    {"PUT", true},
};

/* Bybit signs only one part of the request; the other must be empty, or it
 * would carry parameters the signature does not cover. */
static int signed_part(sigil_slice *out, const sigil_cex_request *r)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SIGNED_PART); i++) {
        if (strcmp(r->method, SIGNED_PART[i].method) != 0)
            continue;
        bool body = SIGNED_PART[i].signs_body;
        ENSURE((body ? r->query.len : r->body.len) == 0, SIGIL_E_BAD_FIELD,
               "request.%s: Bybit signs only the %s of a %s request; send no %s",
               body ? "query" : "body", body ? "body" : "query", r->method,
               body ? "query" : "body");
        *out = body ? r->body : r->query;
        return 0;
    }
    BAIL(SIGIL_E_INTERNAL, "request.method: no Bybit signing rule");
}

/* Private WebSocket authentication: {"op":"auth","expires":ms} gives the
 * message to send, {"op":"auth","args":[api_key, expires, sign]} with
 * sign over "GET/realtime" ‖ expires. */
static int bybit_ws_auth(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    uint64_t expires;
    sigil_u64_text ex;
    char presign[32], sig_mem[SIGIL_B64_LEN(SIGIL_CEX_RSA_SIG_MAX) + 1];
    sigil_buf pb, sig;
    sigil_jw w;
    GUARD(sigil_cex_ws_auth_parse(&expires, ctx, "auth", "expires", 1000000000000ull,
                                  100000000000000ull));
    sigil_u64_text_init(&ex, expires);
    sigil_buf_init(&pb, presign, sizeof(presign));
    GUARD(sigil_buf_puts(&pb, "GET/realtime"));
    GUARD(sigil_buf_put(&pb, ex.s, ex.len));
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_cex_sign_by_key(&sig, ctx->cred, presign, pb.len));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "op"));
    GUARD(sigil_jw_str(&w, "auth"));
    GUARD(sigil_jw_key(&w, "args"));
    GUARD(sigil_jw_arr_begin(&w));
    GUARD(sigil_jw_strn(&w, ctx->cred->api_key, ctx->cred->api_key_len));
    GUARD(sigil_jw_u64(&w, expires));
    GUARD(sigil_jw_strn(&w, sig_mem, sig.len));
    GUARD(sigil_jw_arr_end(&w));
    return sigil_jw_obj_end(&w);
}

static int bybit_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_buf *scratch = ctx->scratch;
    sigil_cex_request r;
    sigil_slice part = {NULL, 0};
    if (sigil_cex_is_ws_auth(ctx))
        return bybit_ws_auth(out, ctx);
    GUARD(sigil_cex_request_parse(&r, scratch, ctx, SIGIL_BODY_JSON));
    GUARD(signed_part(&part, &r));

    sigil_u64_text ts, rw;
    sigil_u64_text_init(&ts, r.timestamp);
    sigil_u64_text_init(&rw, r.has_recv_window ? r.recv_window : BYBIT_DEFAULT_RECV_WINDOW);
    size_t mark = scratch->len;
    GUARD(sigil_buf_put(scratch, ts.s, ts.len));
    GUARD(sigil_buf_put(scratch, c->api_key, c->api_key_len));
    GUARD(sigil_buf_put(scratch, rw.s, rw.len));
    GUARD(sigil_buf_put(scratch, part.p, part.len));
    sigil_slice presign = {(const char *)scratch->data + mark, scratch->len - mark};

    char sig_mem[SIGIL_B64_LEN(SIGIL_CEX_RSA_SIG_MAX) + 1];
    sigil_buf sig;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_cex_sign_by_key(&sig, c, presign.p, presign.len));

    /* ccxt's order; its "Referer: CCXT" broker tag is not ours to send. */
    const sigil_header h[] = {
        {"Content-Type", "application/json", 16}, {"X-BAPI-API-KEY", c->api_key, c->api_key_len},
        {"X-BAPI-TIMESTAMP", ts.s, ts.len},       {"X-BAPI-RECV-WINDOW", rw.s, rw.len},
        {"X-BAPI-SIGN", sig_mem, sig.len},
    };
    return sigil_cex_write(out, &r, r.query, r.body, h, SIGIL_ARRAY_LEN(h));
}

const sigil_venue sigil_venue_bybit = {
    .name = "bybit",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC | SIGIL_KEY_RSA,
    .needs_passphrase = false,
    .sign = bybit_sign,
};
