/*
 * Deribit API v2 signing (trusted). HTTP: "Authorization: deri-hmac-sha256
 * id=…,ts=…,sig=…,nonce=…" with sig = hex(HMAC-SHA256(secret, ts \n nonce \n
 * METHOD \n path[?query] \n body \n)), everything as sent. JSON-RPC public/auth
 * (grant_type client_signature): sig over ts \n nonce \n data. Testnet
 * (test.deribit.com) differs only in host, so the signature is the same.
 */
#include <string.h>

#include "venues/venues_internal.h"

#define NONCE_MAX 128
#define SIG_HEX_LEN 64

typedef struct {
    sigil_slice nonce;
    uint64_t timestamp;
} deribit_auth;

static int get_text(sigil_slice *out, sigil_buf *scratch, const sigil_json *d, uint32_t obj,
                    const char *key, const char *where)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, obj, key, false, &t, where));
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

/* The nonce goes into a comma-separated header and a newline-separated
 * pre-sign string: RFC 3986 unreserved characters only. */
static int check_nonce(sigil_slice n, const char *field)
{
    ENSURE(n.len > 0 && n.len <= NONCE_MAX, SIGIL_E_BAD_FIELD, "%s: 1..%d characters", field,
           NONCE_MAX);
    for (size_t i = 0; i < n.len; i++) {
        char c = n.p[i];
        ENSURE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   strchr("-._~", c) != NULL,
               SIGIL_E_BAD_FIELD, "%s: letters, digits and -._~ only", field);
    }
    return 0;
}

static int check_timestamp(uint64_t ts, const char *field)
{
    ENSURE(ts >= 1000000000000ull && ts < 100000000000000ull, SIGIL_E_OUT_OF_RANGE,
           "%s: expected Unix milliseconds", field);
    return 0;
}

/* hex(HMAC-SHA256(secret, ts \n nonce \n rest)) into sig. */
static int sign_presign(char sig[static SIG_HEX_LEN + 1], const sigil_sign_ctx *ctx,
                        const deribit_auth *a, sigil_slice rest)
{
    sigil_buf *scratch = ctx->scratch;
    sigil_u64_text ts;
    sigil_buf sb;
    sigil_u64_text_init(&ts, a->timestamp);
    size_t mark = scratch->len;
    GUARD(sigil_buf_put(scratch, ts.s, ts.len));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put(scratch, a->nonce.p, a->nonce.len));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put(scratch, rest.p, rest.len));
    sigil_buf_init(&sb, sig, SIG_HEX_LEN + 1);
    GUARD(sigil_cex_hmac256_hex(&sb, ctx->cred, scratch->data + mark, scratch->len - mark));
    return sigil_buf_cstr(&sb);
}

/* ---- HTTP: {method, path, query?, body?, timestamp, nonce} ---- */
static int parse_http(sigil_cex_request *r, deribit_auth *a, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"method", true}, {"path", true},      {"query", false},
        {"body", false},  {"timestamp", true}, {"nonce", true},
    };
    static _Thread_local sigil_json_tok toks[SIGIL_REQUEST_MAX_TOKENS];
    const sigil_json *d = ctx->req;
    sigil_slice method;
    sigil_json body;
    memset(r, 0, sizeof(*r));
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(get_text(&method, ctx->scratch, d, ctx->root, "method", "request"));
    ENSURE(sigil_slice_eq(method, "GET") || sigil_slice_eq(method, "POST"), SIGIL_E_BAD_FIELD,
           "request.method: expected GET or POST");
    memcpy(r->method, method.p, method.len);
    GUARD(get_text(&r->path, ctx->scratch, d, ctx->root, "path", "request"));
    GUARD(get_text(&r->query, ctx->scratch, d, ctx->root, "query", "request"));
    GUARD(get_text(&r->body, ctx->scratch, d, ctx->root, "body", "request"));
    GUARD(get_text(&a->nonce, ctx->scratch, d, ctx->root, "nonce", "request"));
    GUARD(sigil_json_get_u64(d, ctx->root, "timestamp", true, &r->timestamp, NULL, "request"));
    a->timestamp = r->timestamp;

    GUARD(sigil_cex_check_path(r->path));
    ENSURE(r->query.len == 0 || r->query.p[0] != '?', SIGIL_E_BAD_FIELD,
           "request.query: give the query without the leading '?'");
    GUARD(sigil_cex_check_ascii(r->query, "query", "#"));
    GUARD(sigil_query_parse(&r->query_params, r->query.p, r->query.len, "request.query"));
    ENSURE(r->body.len == 0 || strcmp(r->method, "GET") != 0, SIGIL_E_BAD_FIELD,
           "request.body: a GET request has no body");
    if (r->body.len > 0 &&
        sigil_json_parse(&body, r->body.p, r->body.len, toks, SIGIL_REQUEST_MAX_TOKENS) != 0)
        BAIL(sigil_errno(), "request.body: not strict JSON (%s)", sigil_err_code(sigil_errno()));
    GUARD(check_timestamp(r->timestamp, "request.timestamp"));
    return check_nonce(a->nonce, "request.nonce");
}

static int deribit_http(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_buf *scratch = ctx->scratch;
    sigil_cex_request r;
    deribit_auth a;
    GUARD(parse_http(&r, &a, ctx));

    /* RequestData = METHOD \n path[?query] \n body \n */
    size_t mark = scratch->len;
    GUARD(sigil_buf_puts(scratch, r.method));
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put(scratch, r.path.p, r.path.len));
    if (r.query.len > 0) {
        GUARD(sigil_buf_putc(scratch, '?'));
        GUARD(sigil_buf_put(scratch, r.query.p, r.query.len));
    }
    GUARD(sigil_buf_putc(scratch, '\n'));
    GUARD(sigil_buf_put(scratch, r.body.p, r.body.len));
    GUARD(sigil_buf_putc(scratch, '\n'));
    sigil_slice data = {(const char *)scratch->data + mark, scratch->len - mark};
    char sig[SIG_HEX_LEN + 1];
    GUARD(sign_presign(sig, ctx, &a, data));

    sigil_u64_text ts;
    sigil_u64_text_init(&ts, a.timestamp);
    mark = scratch->len;
    GUARD(sigil_buf_puts(scratch, "deri-hmac-sha256 id="));
    GUARD(sigil_buf_put(scratch, c->api_key, c->api_key_len));
    GUARD(sigil_buf_puts(scratch, ",ts="));
    GUARD(sigil_buf_put(scratch, ts.s, ts.len));
    GUARD(sigil_buf_puts(scratch, ",sig="));
    GUARD(sigil_buf_put(scratch, sig, SIG_HEX_LEN));
    GUARD(sigil_buf_puts(scratch, ",nonce="));
    GUARD(sigil_buf_put(scratch, a.nonce.p, a.nonce.len));
    const sigil_header h[] = {
        {"Authorization", (const char *)scratch->data + mark, scratch->len - mark},
        {"Content-Type", "application/json", 16},
    };
    return sigil_cex_write(out, &r, r.query, r.body, h, r.body.len > 0 ? 2 : 1);
}

/* ---- JSON-RPC public/auth: {"jsonrpc":"2.0","id"?,"method":"public/auth",
 * "params":{"grant_type":"client_signature","client_id"?,"timestamp","nonce",
 * "data"?}} → the same message with client_id and signature ---- */
static int parse_rpc(deribit_auth *a, sigil_slice *data, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"jsonrpc", true}, {"id", false}, {"method", true}, {"params", true}};
    static const sigil_json_field PARAMS[] = {{"grant_type", true}, {"client_id", false},
                                              {"timestamp", true},  {"nonce", true},
                                              {"data", false},      {"signature", false}};
    const sigil_json *d = ctx->req;
    uint32_t t, p;
    sigil_slice client_id;
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(sigil_json_get_str(d, ctx->root, "jsonrpc", true, &t, "request"));
    ENSURE(sigil_json_str_eq(d, t, "2.0"), SIGIL_E_BAD_FIELD, "request.jsonrpc: expected \"2.0\"");
    GUARD(sigil_json_get_str(d, ctx->root, "method", true, &t, "request"));
    ENSURE(sigil_json_str_eq(d, t, "public/auth"), SIGIL_E_BAD_FIELD,
           "request.method: the only JSON-RPC method signed is \"public/auth\"");
    t = sigil_json_get(d, ctx->root, "id");
    ENSURE(t == 0 || sigil_json_type_of(d, t) == SIGIL_JSON_NULL ||
               sigil_json_type_of(d, t) == SIGIL_JSON_STRING ||
               (sigil_json_type_of(d, t) == SIGIL_JSON_NUMBER && sigil_json_is_integer(d, t)),
           SIGIL_E_BAD_FIELD, "request.id: expected an integer or a string");
    p = sigil_json_get(d, ctx->root, "params");
    GUARD(sigil_json_check_fields(d, p, PARAMS, SIGIL_ARRAY_LEN(PARAMS), "request.params"));
    ENSURE(sigil_json_get(d, p, "signature") == 0, SIGIL_E_BAD_FIELD,
           "request.params.signature: added by Sigil and must not be sent");
    GUARD(sigil_json_get_str(d, p, "grant_type", true, &t, "request.params"));
    ENSURE(sigil_json_str_eq(d, t, "client_signature"), SIGIL_E_BAD_FIELD,
           "request.params.grant_type: the only grant signed is \"client_signature\"");
    GUARD(get_text(&client_id, ctx->scratch, d, p, "client_id", "request.params"));
    ENSURE(sigil_json_get(d, p, "client_id") == 0 ||
               (client_id.len == ctx->cred->api_key_len &&
                memcmp(client_id.p, ctx->cred->api_key, client_id.len) == 0),
           SIGIL_E_BAD_FIELD, "request.params.client_id: not the credentials' api_key");
    GUARD(sigil_json_get_u64(d, p, "timestamp", true, &a->timestamp, NULL, "request.params"));
    GUARD(check_timestamp(a->timestamp, "request.params.timestamp"));
    GUARD(get_text(&a->nonce, ctx->scratch, d, p, "nonce", "request.params"));
    GUARD(check_nonce(a->nonce, "request.params.nonce"));
    GUARD(get_text(data, ctx->scratch, d, p, "data", "request.params"));
    return 0;
}

static int deribit_rpc_auth(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_json *d = ctx->req;
    deribit_auth a;
    sigil_slice data;
    char sig[SIG_HEX_LEN + 1];
    sigil_jw w;
    GUARD(parse_rpc(&a, &data, ctx));
    GUARD(sign_presign(sig, ctx, &a, data));
    uint32_t id = sigil_json_get(d, ctx->root, "id");
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "jsonrpc"));
    GUARD(sigil_jw_str(&w, "2.0"));
    if (id != 0 && sigil_json_type_of(d, id) != SIGIL_JSON_NULL) {
        GUARD(sigil_jw_key(&w, "id"));
        GUARD(sigil_jw_copy(&w, d, id));
    }
    GUARD(sigil_jw_key(&w, "method"));
    GUARD(sigil_jw_str(&w, "public/auth"));
    GUARD(sigil_jw_key(&w, "params"));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "grant_type"));
    GUARD(sigil_jw_str(&w, "client_signature"));
    GUARD(sigil_jw_key(&w, "client_id"));
    GUARD(sigil_jw_strn(&w, ctx->cred->api_key, ctx->cred->api_key_len));
    GUARD(sigil_jw_key(&w, "timestamp"));
    GUARD(sigil_jw_u64(&w, a.timestamp));
    GUARD(sigil_jw_key(&w, "signature"));
    GUARD(sigil_jw_strn(&w, sig, SIG_HEX_LEN));
    GUARD(sigil_jw_key(&w, "nonce"));
    GUARD(sigil_jw_strn(&w, a.nonce.p, a.nonce.len));
    GUARD(sigil_jw_key(&w, "data"));
    GUARD(sigil_jw_strn(&w, data.p, data.len));
    GUARD(sigil_jw_obj_end(&w));
    return sigil_jw_obj_end(&w);
}

static int deribit_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    /* A JSON-RPC message (it has "jsonrpc") is the public/auth grant. */
    if (sigil_json_get(ctx->req, ctx->root, "jsonrpc") != 0)
        return deribit_rpc_auth(out, ctx);
    return deribit_http(out, ctx);
}

const sigil_venue sigil_venue_deribit = {
    .name = "deribit",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = false,
    .sign = deribit_sign,
};
