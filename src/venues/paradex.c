/*
 * Paradex signing (trusted): Stark-curve ECDSA over StarkNet typed data
 * (revision 0) for orders, order modifications, JWT requests and
 * onboarding. The request names the message and its fields in Paradex's
 * REST terms (docs/CLI.md "Paradex"); the output is what Paradex reads:
 * the order body fields with `signature` and `signature_timestamp`, or the
 * headers of POST /v1/auth and /v1/onboarding.
 */
#include <stdio.h>
#include <string.h>

#include "venues/paradex_internal.h"

#define TEXT_MAX 80
#define SIG_TEXT_MAX (2 * 78 + 8)
/* Unix s between 2001 and 5138, as SIGIL_REQUEST_TS_MIN/MAX bound ms. */
#define S_MIN 1000000000ull
#define S_MAX 100000000000ull

typedef struct {
    const char *name; /* request.message */
    sigil_paradex_kind kind;
    const sigil_json_field *fields;
    size_t nfields;
} paradex_message_kind;

static const sigil_json_field ORDER_FIELDS[] = {
    {"message", true}, {"account", true}, {"signature_timestamp", true},
    {"market", true},  {"side", true},    {"type", true},
    {"size", true},    {"price", false},
};
static const sigil_json_field MODIFY_FIELDS[] = {
    {"message", true}, {"account", true}, {"signature_timestamp", true},
    {"market", true},  {"side", true},    {"type", true},
    {"size", true},    {"price", false},  {"id", true},
};
static const sigil_json_field AUTH_FIELDS[] = {
    {"message", true}, {"account", true}, {"timestamp", true}, {"expiration", true}};
/* timestamp (ms) is not signed: the service's freshness check reads it. */
static const sigil_json_field ONBOARDING_FIELDS[] = {
    {"message", true}, {"account", true}, {"timestamp", false}};

static const paradex_message_kind KINDS[] = {
    {"order", SIGIL_PARADEX_ORDER, ORDER_FIELDS, SIGIL_ARRAY_LEN(ORDER_FIELDS)},
    {"modify_order", SIGIL_PARADEX_MODIFY, MODIFY_FIELDS, SIGIL_ARRAY_LEN(MODIFY_FIELDS)},
    {"auth", SIGIL_PARADEX_AUTH, AUTH_FIELDS, SIGIL_ARRAY_LEN(AUTH_FIELDS)},
    {"onboarding", SIGIL_PARADEX_ONBOARDING, ONBOARDING_FIELDS, SIGIL_ARRAY_LEN(ONBOARDING_FIELDS)},
};

/* Paradex's order types; those containing MARKET are signed with price 0. */
static const struct {
    const char *name;
    bool market;
} ORDER_TYPES[] = {
    {"LIMIT", false},
    {"MARKET", true},
    {"STOP_LIMIT", false},
    {"STOP_MARKET", true},
    {"TAKE_PROFIT_LIMIT", false},
    {"TAKE_PROFIT_MARKET", true},
    {"STOP_LOSS_LIMIT", false},
    {"STOP_LOSS_MARKET", true},
};

/* Side: the signed felt is 1 for BUY, 2 for SELL. */
static const char *const SIDES[] = {"BUY", "SELL"};

typedef struct {
    char s[TEXT_MAX + 1];
    size_t len;
} text_field;

typedef struct {
    const paradex_message_kind *kind;
    sigil_u256 account;
    sigil_paradex_message msg;
    uint64_t time;       /* signature_timestamp (ms) or timestamp (s) */
    uint64_t expiration; /* auth */
    text_field market, side, type, size, price, id;
    bool has_price;
} paradex_request;

/* A plain string member (no escapes: every accepted value is ASCII) into t. */
static int get_text(text_field *t, bool *present, const sigil_sign_ctx *ctx, const char *key)
{
    uint32_t tok;
    GUARD(sigil_json_get_str(ctx->req, ctx->root, key, present == NULL, &tok, "request"));
    if (present != NULL)
        *present = tok != 0;
    if (tok == 0) {
        t->len = 0;
        t->s[0] = '\0';
        return 0;
    }
    sigil_slice s = sigil_json_raw(ctx->req, tok);
    ENSURE(sigil_json_str_is_plain(ctx->req, tok) && s.len <= TEXT_MAX &&
               memchr(s.p, '\\', s.len) == NULL,
           SIGIL_E_BAD_FIELD, "request.%s: expected at most %d plain ASCII characters", key,
           TEXT_MAX);
    memcpy(t->s, s.p, s.len);
    t->s[s.len] = '\0';
    t->len = s.len;
    return 0;
}

static int get_time(uint64_t *out, const sigil_sign_ctx *ctx, const char *key, uint64_t min,
                    uint64_t max, const char *unit)
{
    GUARD(sigil_json_get_u64(ctx->req, ctx->root, key, true, out, NULL, "request"));
    ENSURE(*out >= min && *out < max, SIGIL_E_OUT_OF_RANGE,
           "request.%s: expected Unix time in %s (years 2001 to 5138)", key, unit);
    return 0;
}

static int parse_kind(paradex_request *r, const sigil_sign_ctx *ctx)
{
    uint32_t t;
    size_t i = 0;
    GUARD(sigil_json_get_str(ctx->req, ctx->root, "message", true, &t, "request"));
    while (i < SIGIL_ARRAY_LEN(KINDS) && !sigil_json_str_eq(ctx->req, t, KINDS[i].name))
        i++;
    ENSURE(i < SIGIL_ARRAY_LEN(KINDS), SIGIL_E_BAD_FIELD,
           "request.message: expected order, modify_order, auth, onboarding or account_info");
    r->kind = &KINDS[i];
    r->msg.kind = KINDS[i].kind;
    GUARD(
        sigil_json_check_fields(ctx->req, ctx->root, r->kind->fields, r->kind->nfields, "request"));
    text_field acc;
    GUARD(get_text(&acc, NULL, ctx, "account"));
    return sigil_paradex_hex_felt(&r->account, acc.s, acc.len, "request.account");
}

/* Order and modify: timestamp, market, side, orderType, size, price[, id]. */
static int parse_order(paradex_request *r, const sigil_sign_ctx *ctx)
{
    sigil_u256 *f = r->msg.fields;
    size_t side = 0, type = 0;
    GUARD(get_time(&r->time, ctx, "signature_timestamp", SIGIL_REQUEST_TS_MIN, SIGIL_REQUEST_TS_MAX,
                   "milliseconds"));
    sigil_u256_from_u64(&f[0], r->time);
    GUARD(get_text(&r->market, NULL, ctx, "market"));
    ENSURE(r->market.len > 0, SIGIL_E_BAD_FIELD, "request.market: must not be empty");
    GUARD(sigil_paradex_short_string(&f[1], r->market.s, r->market.len, "request.market"));
    GUARD(get_text(&r->side, NULL, ctx, "side"));
    while (side < SIGIL_ARRAY_LEN(SIDES) && strcmp(r->side.s, SIDES[side]) != 0)
        side++;
    ENSURE(side < SIGIL_ARRAY_LEN(SIDES), SIGIL_E_BAD_FIELD, "request.side: expected BUY or SELL");
    sigil_u256_from_u64(&f[2], side + 1);
    GUARD(get_text(&r->type, NULL, ctx, "type"));
    while (type < SIGIL_ARRAY_LEN(ORDER_TYPES) && strcmp(r->type.s, ORDER_TYPES[type].name) != 0)
        type++;
    ENSURE(type < SIGIL_ARRAY_LEN(ORDER_TYPES), SIGIL_E_BAD_FIELD,
           "request.type: expected LIMIT, MARKET, STOP_LIMIT, STOP_MARKET, TAKE_PROFIT_LIMIT, "
           "TAKE_PROFIT_MARKET, STOP_LOSS_LIMIT or STOP_LOSS_MARKET");
    GUARD(sigil_paradex_short_string(&f[3], r->type.s, r->type.len, "request.type"));
    GUARD(get_text(&r->size, NULL, ctx, "size"));
    GUARD(sigil_paradex_scaled(&f[4], r->size.s, r->size.len, "request.size"));
    GUARD(get_text(&r->price, &r->has_price, ctx, "price"));
    if (ORDER_TYPES[type].market) {
        ENSURE(!r->has_price || strcmp(r->price.s, "0") == 0, SIGIL_E_BAD_FIELD,
               "request.price: a %s order is signed with price 0; omit it", r->type.s);
        sigil_u256_from_u64(&f[5], 0);
    } else {
        ENSURE(r->has_price, SIGIL_E_MISSING_FIELD, "request.price: required for %s orders",
               r->type.s);
        GUARD(sigil_paradex_scaled(&f[5], r->price.s, r->price.len, "request.price"));
    }
    if (r->msg.kind != SIGIL_PARADEX_MODIFY)
        return 0;
    GUARD(get_text(&r->id, NULL, ctx, "id"));
    return sigil_paradex_decimal_felt(&f[6], r->id.s, r->id.len, "request.id");
}

/* Request{method: "POST", path: "/v1/auth", body: "", timestamp, expiration}. */
static int parse_auth(paradex_request *r, const sigil_sign_ctx *ctx)
{
    sigil_u256 *f = r->msg.fields;
    GUARD(get_time(&r->time, ctx, "timestamp", S_MIN, S_MAX, "seconds"));
    GUARD(get_time(&r->expiration, ctx, "expiration", S_MIN, S_MAX, "seconds"));
    ENSURE(r->expiration > r->time, SIGIL_E_BAD_FIELD,
           "request.expiration: must be later than request.timestamp");
    GUARD(sigil_paradex_short_string(&f[0], "POST", 4, "method"));
    GUARD(sigil_paradex_short_string(&f[1], "/v1/auth", 8, "path"));
    sigil_u256_from_u64(&f[2], 0); /* body "" */
    sigil_u256_from_u64(&f[3], r->time);
    sigil_u256_from_u64(&f[4], r->expiration);
    return 0;
}

/* Constant{action: "Onboarding"}. */
static int parse_onboarding(paradex_request *r, const sigil_sign_ctx *ctx)
{
    GUARD(sigil_request_timestamp(&r->time, ctx->req, ctx->root));
    return sigil_paradex_short_string(&r->msg.fields[0], "Onboarding", 10, "action");
}

typedef int (*parse_fn)(paradex_request *r, const sigil_sign_ctx *ctx);
static const parse_fn PARSERS[SIGIL_PARADEX_KIND_COUNT_] = {
    [SIGIL_PARADEX_ORDER] = parse_order,
    [SIGIL_PARADEX_MODIFY] = parse_order,
    [SIGIL_PARADEX_AUTH] = parse_auth,
    [SIGIL_PARADEX_ONBOARDING] = parse_onboarding,
};

/* ---- output ---- */

typedef struct {
    char text[SIG_TEXT_MAX];
    size_t len;
    char hash[2 + 64 + 1];
    size_t hash_len;
} paradex_signature;

static int put_hex_felt(char *out, size_t cap, size_t *len, const sigil_u256 *v)
{
    uint8_t be[32];
    sigil_buf b;
    sigil_buf_init(&b, out, cap);
    sigil_u256_to_be(be, v);
    GUARD(sigil_put_hex_int(&b, be, 32));
    *len = b.len;
    return 0;
}

/* ["<r decimal>","<s decimal>"], the text Paradex takes as the signature. */
static int sign_message(paradex_signature *sig, const sigil_sign_ctx *ctx, const paradex_request *r)
{
    sigil_u256 h, rs[2];
    uint8_t hash[32], rb[32], sb[32];
    sigil_buf b;
    sigil_paradex_message_hash(&h, ctx->network, &r->account, &r->msg);
    sigil_u256_to_be(hash, &h);
    GUARD(sigil_stark_sign(rb, sb, ctx->cred->secret.p, hash));
    sigil_u256_from_be(&rs[0], rb);
    sigil_u256_from_be(&rs[1], sb);
    sigil_buf_init(&b, sig->text, sizeof(sig->text));
    GUARD(sigil_buf_puts(&b, "[\""));
    GUARD(sigil_paradex_put_decimal(&b, &rs[0]));
    GUARD(sigil_buf_puts(&b, "\",\""));
    GUARD(sigil_paradex_put_decimal(&b, &rs[1]));
    GUARD(sigil_buf_puts(&b, "\"]"));
    sig->len = b.len;
    return put_hex_felt(sig->hash, sizeof(sig->hash), &sig->hash_len, &h);
}

static int put_str(sigil_jw *w, const char *key, const char *s, size_t n)
{
    GUARD(sigil_jw_key(w, key));
    return sigil_jw_strn(w, s, n);
}

static int write_order(sigil_jw *w, const paradex_request *r, const paradex_signature *sig)
{
    GUARD(put_str(w, "market", r->market.s, r->market.len));
    GUARD(put_str(w, "side", r->side.s, r->side.len));
    GUARD(put_str(w, "type", r->type.s, r->type.len));
    GUARD(put_str(w, "size", r->size.s, r->size.len));
    if (r->has_price)
        GUARD(put_str(w, "price", r->price.s, r->price.len));
    if (r->msg.kind == SIGIL_PARADEX_MODIFY)
        GUARD(put_str(w, "id", r->id.s, r->id.len));
    GUARD(put_str(w, "signature", sig->text, sig->len));
    GUARD(sigil_jw_key(w, "signature_timestamp"));
    return sigil_jw_u64(w, r->time);
}

/* The CEX shape (docs/CLI.md): method, path, query, body, then headers
 * starting with the account and the signature. */
static int write_headers_begin(sigil_jw *w, const char *path, sigil_slice body,
                               const paradex_request *r, const paradex_signature *sig)
{
    char acc[2 + 64 + 1];
    size_t n;
    GUARD(put_str(w, "method", "POST", 4));
    GUARD(put_str(w, "path", path, strlen(path)));
    GUARD(put_str(w, "query", "", 0));
    GUARD(put_str(w, "body", body.p, body.len));
    GUARD(sigil_jw_key(w, "headers"));
    GUARD(sigil_jw_obj_begin(w));
    GUARD(put_hex_felt(acc, sizeof(acc), &n, &r->account));
    GUARD(put_str(w, "PARADEX-STARKNET-ACCOUNT", acc, n));
    return put_str(w, "PARADEX-STARKNET-SIGNATURE", sig->text, sig->len);
}

static int write_auth(sigil_jw *w, const paradex_request *r, const paradex_signature *sig)
{
    sigil_u64_text t;
    GUARD(write_headers_begin(w, "/v1/auth", (sigil_slice){"", 0}, r, sig));
    sigil_u64_text_init(&t, r->time);
    GUARD(put_str(w, "PARADEX-TIMESTAMP", t.s, t.len));
    sigil_u64_text_init(&t, r->expiration);
    GUARD(put_str(w, "PARADEX-SIGNATURE-EXPIRATION", t.s, t.len));
    return sigil_jw_obj_end(w);
}

/* The body carries the key's public key, derived here; the client adds
 * PARADEX-ETHEREUM-ACCOUNT (the wallet that onboarded, not Sigil's key). */
static int write_onboarding(sigil_jw *w, const paradex_request *r, const paradex_signature *sig,
                            const sigil_sign_ctx *ctx)
{
    uint8_t pub[32];
    char body[32 + 66];
    sigil_buf b;
    GUARD(sigil_stark_public_key(pub, ctx->cred->secret.p));
    sigil_buf_init(&b, body, sizeof(body));
    GUARD(sigil_buf_puts(&b, "{\"public_key\":\""));
    GUARD(sigil_put_hex_int(&b, pub, 32));
    GUARD(sigil_buf_puts(&b, "\"}"));
    GUARD(write_headers_begin(w, "/v1/onboarding", (sigil_slice){body, b.len}, r, sig));
    return sigil_jw_obj_end(w);
}

/* account_info: no signature; the key's public key and the account address
 * it deploys to, from the class hashes of GET /v1/system/config. */
static int account_info(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {{"message", true},
                                              {"paraclear_account_hash", true},
                                              {"paraclear_account_proxy_hash", true},
                                              {"timestamp", false}};
    static const char *const HASHES[] = {"paraclear_account_hash", "paraclear_account_proxy_hash"};
    sigil_u256 h[2], pub, addr;
    uint8_t be[32];
    char text[2][2 + 64 + 1];
    size_t n[2];
    uint64_t ts;
    sigil_jw w;
    GUARD(sigil_json_check_fields(ctx->req, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(sigil_request_timestamp(&ts, ctx->req, ctx->root));
    for (size_t i = 0; i < 2; i++) {
        text_field t;
        char what[64];
        GUARD(get_text(&t, NULL, ctx, HASHES[i]));
        (void)snprintf(what, sizeof(what), "request.%s", HASHES[i]);
        GUARD(sigil_paradex_hex_felt(&h[i], t.s, t.len, what));
    }
    GUARD(sigil_stark_public_key(be, ctx->cred->secret.p));
    sigil_u256_from_be(&pub, be);
    sigil_paradex_account_address(&addr, &pub, &h[0], &h[1]);
    GUARD(put_hex_felt(text[0], sizeof(text[0]), &n[0], &pub));
    GUARD(put_hex_felt(text[1], sizeof(text[1]), &n[1], &addr));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(put_str(&w, "public_key", text[0], n[0]));
    GUARD(put_str(&w, "account", text[1], n[1]));
    return sigil_jw_obj_end(&w);
}

static int paradex_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    paradex_request r;
    paradex_signature sig;
    sigil_jw w;
    uint32_t t;
    ENSURE(ctx->cred->type == SIGIL_KEY_SECP256K1 && ctx->cred->secret.len == 32, SIGIL_E_INTERNAL,
           "paradex: wallet key expected");
    GUARD(sigil_json_get_str(ctx->req, ctx->root, "message", true, &t, "request"));
    if (sigil_json_str_eq(ctx->req, t, "account_info"))
        return account_info(out, ctx);
    memset(&r, 0, sizeof(r));
    GUARD(parse_kind(&r, ctx));
    GUARD(PARSERS[r.msg.kind](&r, ctx));
    GUARD(sign_message(&sig, ctx, &r));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    switch (r.msg.kind) {
    case SIGIL_PARADEX_ORDER:
    case SIGIL_PARADEX_MODIFY:
        GUARD(write_order(&w, &r, &sig));
        break;
    case SIGIL_PARADEX_AUTH:
        GUARD(write_auth(&w, &r, &sig));
        break;
    case SIGIL_PARADEX_ONBOARDING:
        GUARD(write_onboarding(&w, &r, &sig, ctx));
        break;
    default:
        BAIL(SIGIL_E_INTERNAL, "paradex: unexpected message kind");
    }
    GUARD(put_str(&w, "message_hash", sig.hash, sig.hash_len));
    return sigil_jw_obj_end(&w);
}

/* Key listings show the Stark public key (the account address also needs
 * the class hashes of GET /v1/system/config: account_info gives it). */
static int paradex_key_address(char *out, size_t cap, const sigil_credentials *c)
{
    uint8_t be[32];
    sigil_u256 pub;
    size_t n;
    ENSURE(cap > 0, SIGIL_E_TOO_LARGE, "paradex: no room for the public key");
    GUARD(sigil_stark_public_key(be, c->secret.p));
    sigil_u256_from_be(&pub, be);
    GUARD(put_hex_felt(out, cap - 1, &n, &pub));
    out[n] = '\0';
    return 0;
}

const sigil_venue sigil_venue_paradex = {
    .name = "paradex",
    .kind = SIGIL_VENUE_WALLET,
    .key_types = SIGIL_KEY_SECP256K1,
    .needs_passphrase = false,
    .sign = paradex_sign,
    .address = paradex_key_address,
};
