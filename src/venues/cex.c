/*
 * Shared CEX request handling (trusted): the strict request schema
 * {method, path, query, body, timestamp, recv_window?}, the output document,
 * and HMAC-SHA256 encodings most venues use.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "venues/venues_internal.h"

static const char *const METHODS[] = {"GET", "POST", "PUT", "DELETE"};

static int decode_field(sigil_slice *out, sigil_buf *scratch, const sigil_json *d, uint32_t obj,
                        const char *key, bool required)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, obj, key, required, &t, "request"));
    out->p = (const char *)scratch->data + scratch->len;
    out->len = 0;
    if (t == 0)
        return 0;
    if (sigil_json_str_is_plain(d, t)) { /* no escapes: the request's bytes will do */
        *out = sigil_json_raw(d, t);
        return 0;
    }
    size_t mark = scratch->len;
    GUARD(sigil_json_str(d, t, scratch));
    out->len = scratch->len - mark;
    return 0;
}

/* RFC 3986 characters an HTTP client sends as they are: unreserved, '%' of
 * an escape, and the delimiters of paths and queries. Anything else (space,
 * quotes, braces, '|', '\\', '^', '`', '<', '>', '[', ']', ';', non-ASCII)
 * is rewritten differently by different clients, so the bytes sent would not
 * be the bytes signed. */
#define SAFE_RANGE(a, b) [(a)...(b)] = 1
static const uint8_t URI_SAFE[256] = {
    SAFE_RANGE('a', 'z'),
    SAFE_RANGE('A', 'Z'),
    SAFE_RANGE('0', '9'),
    ['-'] = 1,
    ['.'] = 1,
    ['_'] = 1,
    ['~'] = 1,
    ['%'] = 1,
    ['!'] = 1,
    ['$'] = 1,
    ['&'] = 1,
    ['\''] = 1,
    ['('] = 1,
    [')'] = 1,
    ['*'] = 1,
    ['+'] = 1,
    [','] = 1,
    ['='] = 1,
    [':'] = 1,
    ['@'] = 1,
    ['/'] = 1,
    ['?'] = 1,
};
#undef SAFE_RANGE

int sigil_cex_check_ascii(sigil_slice s, const char *field, const char *forbidden)
{
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = (uint8_t)s.p[i];
        bool ok = URI_SAFE[c] && ((c != '?' && c != '+') || strchr(forbidden, c) == NULL);
        ENSURE(ok, SIGIL_E_BAD_FIELD,
               "request.%s: byte %zu is not allowed (send it percent-encoded)", field, i);
    }
    return 0;
}

int sigil_cex_check_path(sigil_slice path)
{
    static const char *const ENCODED_SEPARATORS[] = {"%2f", "%2e", "%5c"};
    ENSURE(path.len > 0 && path.p[0] == '/', SIGIL_E_BAD_FIELD,
           "request.path: must start with '/'");
    GUARD(sigil_cex_check_ascii(path, "path", "?#"));
    for (size_t i = 0; i < path.len; i++) {
        if (path.p[i] == '%' && i + 2 < path.len) {
            char esc[4] = {'%', (char)(path.p[i + 1] | 0x20), (char)(path.p[i + 2] | 0x20), 0};
            for (size_t k = 0; k < SIGIL_ARRAY_LEN(ENCODED_SEPARATORS); k++)
                ENSURE(strcmp(esc, ENCODED_SEPARATORS[k]) != 0, SIGIL_E_BAD_FIELD,
                       "request.path: an encoded '/', '.' or '\\' at byte %zu is not allowed", i);
        }
        if (path.p[i] != '/')
            continue;
        /* The segment after this '/': empty, "." and ".." are refused because
         * clients and servers normalise them away. */
        size_t end = i + 1;
        while (end < path.len && path.p[end] != '/')
            end++;
        size_t n = end - i - 1;
        bool dots = (n == 1 && path.p[i + 1] == '.') ||
                    (n == 2 && path.p[i + 1] == '.' && path.p[i + 2] == '.');
        ENSURE(!dots && (n > 0 || end == path.len), SIGIL_E_BAD_FIELD,
               "request.path: empty, '.' or '..' segment at byte %zu", i + 1);
    }
    return 0;
}

static int parse_method(sigil_cex_request *r, const sigil_json *d, uint32_t obj)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, obj, "method", true, &t, "request"));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(METHODS); i++) {
        if (sigil_json_str_eq(d, t, METHODS[i])) {
            memcpy(r->method, METHODS[i], strlen(METHODS[i]) + 1);
            return 0;
        }
    }
    BAIL(SIGIL_E_BAD_FIELD, "request.method: expected GET, POST, PUT or DELETE");
}

static int check_body(sigil_cex_request *r, sigil_body_kind kind)
{
    static _Thread_local sigil_json_tok toks[SIGIL_REQUEST_MAX_TOKENS];
    sigil_json body;
    r->body_params.n = 0;
    if (r->body.len == 0)
        return 0;
    if (kind == SIGIL_BODY_FORM) {
        /* A form body is read like a query: only bytes every reader agrees on. */
        GUARD(sigil_cex_check_ascii(r->body, "body", "#"));
        return sigil_query_parse(&r->body_params, r->body.p, r->body.len, "request.body");
    }
    if (sigil_json_parse(&body, r->body.p, r->body.len, toks, SIGIL_REQUEST_MAX_TOKENS) != 0) {
        char why[160];
        sigil_err e = sigil_errno();
        strncpy(why, sigil_errmsg(), sizeof(why) - 1);
        why[sizeof(why) - 1] = '\0';
        BAIL(e, "request.body: %s", why);
    }
    return 0;
}

int sigil_cex_request_parse(sigil_cex_request *r, sigil_buf *scratch, const sigil_sign_ctx *ctx,
                            sigil_body_kind body_kind)
{
    static const sigil_json_field FIELDS[] = {
        {"method", true}, {"path", true},      {"query", false},
        {"body", false},  {"timestamp", true}, {"recv_window", false},
    };
    const sigil_json *d = ctx->req;
    memset(r, 0, offsetof(sigil_cex_request, query_params));
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(parse_method(r, d, ctx->root));
    GUARD(decode_field(&r->path, scratch, d, ctx->root, "path", true));
    GUARD(decode_field(&r->query, scratch, d, ctx->root, "query", false));
    GUARD(decode_field(&r->body, scratch, d, ctx->root, "body", false));
    GUARD(sigil_json_get_u64(d, ctx->root, "timestamp", true, &r->timestamp, NULL, "request"));
    GUARD(sigil_json_get_u64(d, ctx->root, "recv_window", false, &r->recv_window,
                             &r->has_recv_window, "request"));

    GUARD(sigil_cex_check_path(r->path));
    ENSURE(r->query.len == 0 || r->query.p[0] != '?', SIGIL_E_BAD_FIELD,
           "request.query: give the query without the leading '?'");
    GUARD(sigil_cex_check_ascii(r->query, "query", "#"));
    GUARD(sigil_query_parse(&r->query_params, r->query.p, r->query.len, "request.query"));
    ENSURE(sigil_utf8_valid((const uint8_t *)r->body.p, r->body.len), SIGIL_E_BAD_ENCODING,
           "request.body: not UTF-8");
    ENSURE(r->body.len == 0 || strcmp(r->method, "GET") != 0, SIGIL_E_BAD_FIELD,
           "request.body: a GET request has no body");
    ENSURE(r->timestamp >= 1000000000000ull && r->timestamp < 100000000000000ull,
           SIGIL_E_OUT_OF_RANGE, "request.timestamp: expected Unix milliseconds");
    ENSURE(!r->has_recv_window || (r->recv_window > 0 && r->recv_window <= 86400000),
           SIGIL_E_OUT_OF_RANGE, "request.recv_window: expected 1..86400000 ms");
    return check_body(r, body_kind);
}

bool sigil_cex_is_ws_auth(const sigil_sign_ctx *ctx)
{
    return sigil_json_get(ctx->req, ctx->root, "op") != 0;
}

int sigil_cex_ws_auth_parse(uint64_t *time, const sigil_sign_ctx *ctx, const char *op,
                            const char *time_field, uint64_t min, uint64_t max)
{
    const sigil_json_field fields[] = {{"op", true}, {time_field, true}};
    uint32_t t;
    if (sigil_json_check_fields(ctx->req, ctx->root, fields, SIGIL_ARRAY_LEN(fields), "request") !=
        0) {
        char why[160];
        snprintf(why, sizeof(why), "%s", sigil_errmsg());
        BAIL(sigil_errno(),
             "%s (a request with \"op\" is a WebSocket authentication: it takes "
             "only op and %s)",
             why, time_field);
    }
    GUARD(sigil_json_get_str(ctx->req, ctx->root, "op", true, &t, "request"));
    ENSURE(sigil_json_str_eq(ctx->req, t, op), SIGIL_E_BAD_FIELD,
           "request.op: the only WebSocket operation signed is \"%s\"", op);
    GUARD(sigil_json_get_u64(ctx->req, ctx->root, time_field, true, time, NULL, "request"));
    ENSURE(*time >= min && *time < max, SIGIL_E_OUT_OF_RANGE, "request.%s: out of range (%s)",
           time_field, min >= 1000000000000ull ? "Unix milliseconds" : "Unix seconds");
    return 0;
}

int sigil_cex_write(sigil_buf *out, const sigil_cex_request *r, sigil_slice query, sigil_slice body,
                    const sigil_header *h, size_t nh)
{
    sigil_jw w;
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "method"));
    GUARD(sigil_jw_str(&w, r->method));
    GUARD(sigil_jw_key(&w, "path"));
    GUARD(sigil_jw_strn(&w, r->path.p, r->path.len));
    GUARD(sigil_jw_key(&w, "query"));
    GUARD(sigil_jw_strn(&w, query.p, query.len));
    GUARD(sigil_jw_key(&w, "body"));
    GUARD(sigil_jw_strn(&w, body.p, body.len));
    GUARD(sigil_jw_key(&w, "headers"));
    GUARD(sigil_jw_obj_begin(&w));
    for (size_t i = 0; i < nh; i++) {
        GUARD(sigil_jw_key(&w, h[i].name));
        GUARD(sigil_jw_strn(&w, h[i].value, h[i].len));
    }
    GUARD(sigil_jw_obj_end(&w));
    return sigil_jw_obj_end(&w);
}

int sigil_cex_hmac256_b64(sigil_buf *dst, const sigil_credentials *c, const void *msg, size_t n)
{
    uint8_t mac[32];
    sigil_hmac_sha256_keyed(mac, &c->hmac_state, msg, n);
    return sigil_b64_put(dst, mac, sizeof(mac), SIGIL_B64_STD);
}

int sigil_cex_hmac256_hex(sigil_buf *dst, const sigil_credentials *c, const void *msg, size_t n)
{
    uint8_t mac[32];
    sigil_hmac_sha256_keyed(mac, &c->hmac_state, msg, n);
    return sigil_buf_put_hex(dst, mac, sizeof(mac));
}

int sigil_cex_prehash_target(sigil_slice *out, sigil_buf *scratch, sigil_slice ts,
                             const sigil_cex_request *r)
{
    size_t mark = scratch->len;
    GUARD(sigil_buf_put(scratch, ts.p, ts.len));
    GUARD(sigil_buf_puts(scratch, r->method));
    GUARD(sigil_buf_put(scratch, r->path.p, r->path.len));
    if (r->query.len > 0) {
        GUARD(sigil_buf_putc(scratch, '?'));
        GUARD(sigil_buf_put(scratch, r->query.p, r->query.len));
    }
    GUARD(sigil_buf_put(scratch, r->body.p, r->body.len));
    out->p = (const char *)scratch->data + mark;
    out->len = scratch->len - mark;
    return 0;
}

int sigil_cex_rsa256_b64(sigil_buf *dst, const sigil_credentials *c, const void *msg, size_t n)
{
    uint8_t sig[SIGIL_CEX_RSA_SIG_MAX];
    size_t len = 0;
    ENSURE(c->rsa != NULL, SIGIL_E_INTERNAL, "credentials: no RSA key loaded");
    GUARD(sigil_rsa_sign_sha256(sig, sizeof(sig), &len, c->rsa, msg, n));
    return sigil_b64_put(dst, sig, len, SIGIL_B64_STD);
}

void sigil_u64_text_init(sigil_u64_text *t, uint64_t v)
{
    char rev[20];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        t->s[i] = rev[n - 1 - i];
    t->s[n] = '\0';
    t->len = n;
}

static int ed25519_b64(sigil_buf *dst, const sigil_credentials *c, const void *msg, size_t n)
{
    uint8_t sig[64];
    GUARD(sigil_ed25519_sign_expanded(sig, c->secret.p, msg, n));
    return sigil_b64_put(dst, sig, sizeof(sig), SIGIL_B64_STD);
}

int sigil_cex_sign_by_key(sigil_buf *dst, const sigil_credentials *c, const void *msg, size_t n)
{
    static const struct {
        sigil_key_type type;
        int (*sign)(sigil_buf *dst, const sigil_credentials *c, const void *msg, size_t n);
    } SIGNERS[] = {
        {SIGIL_KEY_HMAC, sigil_cex_hmac256_hex},
        {SIGIL_KEY_ED25519, ed25519_b64},
        {SIGIL_KEY_RSA, sigil_cex_rsa256_b64},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SIGNERS); i++) {
        if (SIGNERS[i].type == c->type)
            return SIGNERS[i].sign(dst, c, msg, n);
    }
    BAIL(SIGIL_E_UNKNOWN_KEY_TYPE, "credentials.key_type: not supported by this venue");
}
