/*
 * Bitfinex API v2 signing (trusted). REST: bfx-signature = hex(HMAC-SHA384(
 * secret, "/api" + path + nonce + body)), body as sent ("{}" when empty, as
 * ccxt sends it); nonce = request.timestamp in ms as ccxt does, or an explicit
 * request.nonce. WebSocket: authSig = hex(HMAC-SHA384(secret, "AUTH" + nonce)).
 */
#include <string.h>

#include "venues/venues_internal.h"

#define BFX_PATH_PREFIX "/v2/auth/"
#define BFX_NONCE_MAX 9007199254740991ull /* Bitfinex: at most 2^53 - 1 */
#define BFX_SIG_HEX_LEN 96

/* hex(HMAC-SHA384(secret, msg)) into sig. */
static int hmac384_hex(char sig[static BFX_SIG_HEX_LEN + 1], const sigil_credentials *c,
                       const void *msg, size_t n)
{
    uint8_t mac[48];
    GUARD(sigil_hmac_sha384(mac, c->secret.p, c->secret.len, msg, n));
    sigil_hex_encode(sig, mac, sizeof(mac));
    sigil_wipe(mac, sizeof(mac));
    return 0;
}

static int get_text(sigil_slice *out, sigil_buf *scratch, const sigil_json *d, const char *key)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, 0, key, false, &t, "request"));
    *out = (sigil_slice){"", 0};
    if (t == 0)
        return 0;
    if (sigil_json_str_is_plain(d, t)) {
        *out = sigil_json_raw(d, t);
        return 0;
    }
    size_t mark = scratch->len;
    GUARD(sigil_json_str(d, t, scratch));
    *out = (sigil_slice){(const char *)scratch->data + mark, scratch->len - mark};
    return 0;
}

static int check_nonce(uint64_t nonce, const char *field)
{
    ENSURE(nonce > 0 && nonce <= BFX_NONCE_MAX, SIGIL_E_OUT_OF_RANGE,
           "%s: expected 1..9007199254740991", field);
    return 0;
}

/* nonce: request.timestamp (ms, ccxt's choice) or request.nonce (e.g. µs, as
 * Bitfinex's own clients send); exactly one of the two. */
static int parse_nonce(uint64_t *nonce, const sigil_sign_ctx *ctx)
{
    uint64_t ts = 0;
    bool has_ts = false, has_nonce = false;
    GUARD(sigil_json_get_u64(ctx->req, ctx->root, "timestamp", false, &ts, &has_ts, "request"));
    GUARD(sigil_json_get_u64(ctx->req, ctx->root, "nonce", false, nonce, &has_nonce, "request"));
    ENSURE(has_ts != has_nonce, SIGIL_E_BAD_REQUEST,
           "request: give exactly one of timestamp (ms, used as the nonce) and nonce");
    if (has_nonce)
        return check_nonce(*nonce, "request.nonce");
    ENSURE(ts >= 1000000000000ull && ts < 100000000000000ull, SIGIL_E_OUT_OF_RANGE,
           "request.timestamp: expected Unix milliseconds");
    *nonce = ts;
    return 0;
}

static int parse_rest(sigil_cex_request *r, uint64_t *nonce, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"method", true}, {"path", true},       {"query", false},
        {"body", false},  {"timestamp", false}, {"nonce", false},
    };
    static _Thread_local sigil_json_tok toks[SIGIL_REQUEST_MAX_TOKENS];
    const sigil_json *d = ctx->req;
    sigil_slice method;
    sigil_json body;
    memset(r, 0, sizeof(*r));
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(get_text(&method, ctx->scratch, d, "method"));
    ENSURE(sigil_slice_eq(method, "POST"), SIGIL_E_BAD_FIELD,
           "request.method: Bitfinex authenticated endpoints are POST");
    memcpy(r->method, "POST", 5);
    GUARD(get_text(&r->path, ctx->scratch, d, "path"));
    GUARD(get_text(&r->query, ctx->scratch, d, "query"));
    GUARD(get_text(&r->body, ctx->scratch, d, "body"));
    GUARD(parse_nonce(nonce, ctx));
    ENSURE(r->path.len > strlen(BFX_PATH_PREFIX) &&
               memcmp(r->path.p, BFX_PATH_PREFIX, strlen(BFX_PATH_PREFIX)) == 0,
           SIGIL_E_BAD_FIELD, "request.path: expected %s… (sent path, without /api)",
           BFX_PATH_PREFIX);
    GUARD(sigil_cex_check_path(r->path));
    ENSURE(r->query.len == 0, SIGIL_E_BAD_FIELD,
           "request.query: Bitfinex signs only the body; send no query");
    if (r->body.len == 0) {
        r->body = (sigil_slice){"{}", 2};
        return 0;
    }
    if (sigil_json_parse(&body, r->body.p, r->body.len, toks, SIGIL_REQUEST_MAX_TOKENS) != 0)
        BAIL(sigil_errno(), "request.body: not strict JSON (%s)", sigil_err_code(sigil_errno()));
    ENSURE(sigil_json_type_of(&body, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "request.body: expected a JSON object");
    return 0;
}

static int bitfinex_rest(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_buf *scratch = ctx->scratch;
    sigil_cex_request r;
    uint64_t nonce;
    sigil_u64_text nt;
    char sig[BFX_SIG_HEX_LEN + 1];
    GUARD(parse_rest(&r, &nonce, ctx));
    sigil_u64_text_init(&nt, nonce);
    size_t mark = scratch->len;
    GUARD(sigil_buf_puts(scratch, "/api"));
    GUARD(sigil_buf_put(scratch, r.path.p, r.path.len));
    GUARD(sigil_buf_put(scratch, nt.s, nt.len));
    GUARD(sigil_buf_put(scratch, r.body.p, r.body.len));
    GUARD(hmac384_hex(sig, c, scratch->data + mark, scratch->len - mark));
    /* ccxt's order */
    const sigil_header h[] = {
        {"bfx-nonce", nt.s, nt.len},
        {"bfx-apikey", c->api_key, c->api_key_len},
        {"bfx-signature", sig, BFX_SIG_HEX_LEN},
        {"Content-Type", "application/json", 16},
    };
    return sigil_cex_write(out, &r, r.query, r.body, h, SIGIL_ARRAY_LEN(h));
}

/* WebSocket: {"event":"auth","authNonce":N} gives the message to send,
 * {"apiKey","authSig","authNonce","authPayload","event"} (ccxt's order). */
static int bitfinex_ws_auth(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {{"event", true}, {"authNonce", true}};
    const sigil_json *d = ctx->req;
    uint32_t t;
    uint64_t nonce;
    sigil_u64_text nt;
    char payload[32], sig[BFX_SIG_HEX_LEN + 1];
    sigil_buf pb;
    sigil_jw w;
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(sigil_json_get_str(d, ctx->root, "event", true, &t, "request"));
    ENSURE(sigil_json_str_eq(d, t, "auth"), SIGIL_E_BAD_FIELD,
           "request.event: the only WebSocket event signed is \"auth\"");
    GUARD(sigil_json_get_u64(d, ctx->root, "authNonce", true, &nonce, NULL, "request"));
    GUARD(check_nonce(nonce, "request.authNonce"));
    sigil_u64_text_init(&nt, nonce);
    sigil_buf_init(&pb, payload, sizeof(payload));
    GUARD(sigil_buf_puts(&pb, "AUTH"));
    GUARD(sigil_buf_put(&pb, nt.s, nt.len));
    GUARD(hmac384_hex(sig, ctx->cred, payload, pb.len));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "apiKey"));
    GUARD(sigil_jw_strn(&w, ctx->cred->api_key, ctx->cred->api_key_len));
    GUARD(sigil_jw_key(&w, "authSig"));
    GUARD(sigil_jw_strn(&w, sig, BFX_SIG_HEX_LEN));
    GUARD(sigil_jw_key(&w, "authNonce"));
    GUARD(sigil_jw_u64(&w, nonce));
    GUARD(sigil_jw_key(&w, "authPayload"));
    GUARD(sigil_jw_strn(&w, payload, pb.len));
    GUARD(sigil_jw_key(&w, "event"));
    GUARD(sigil_jw_str(&w, "auth"));
    return sigil_jw_obj_end(&w);
}

static int bitfinex_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    /* A request with "event" is the WebSocket authentication message. */
    if (sigil_json_get(ctx->req, ctx->root, "event") != 0)
        return bitfinex_ws_auth(out, ctx);
    return bitfinex_rest(out, ctx);
}

const sigil_venue sigil_venue_bitfinex = {
    .name = "bitfinex",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = false,
    .sign = bitfinex_sign,
};
