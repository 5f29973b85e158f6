/*
 * Binance WebSocket API request signing (trusted). The request is the message
 * itself, {"id","method","params":{…}}, plus sigil's optional "timestamp" and
 * "recv_window"; every param but signature, sorted by name, joined k=v with
 * '&', values as raw UTF-8 (not percent-encoded), is signed: HMAC-SHA256 →
 * hex, Ed25519 / RSA-PKCS1v15-SHA256 → base64, into params.signature.
 */
#include <string.h>
#include <strings.h>

#include "venues/venues_internal.h"

#define WS_NAME_MAX 64
#define WS_MAX_PARAMS SIGIL_QUERY_MAX_PARAMS
#define WS_SIG_MAX SIGIL_B64_LEN(SIGIL_CEX_RSA_SIG_MAX)

typedef struct {
    char name[WS_NAME_MAX + 1];
    sigil_slice value; /* as signed */
    uint32_t tok;      /* the request's value token; 0 for a param sigil adds */
} ws_param;

typedef struct {
    ws_param p[WS_MAX_PARAMS + 2]; /* + apiKey and timestamp sigil may add */
    size_t n;
    const ws_param *api_key, *timestamp, *recv_window;
    sigil_u64_text ts_text, rw_text; /* values of added params */
} ws_params;

/* Names Sigil reads; a spelling that differs only in letter case is refused
 * (Binance reads names exactly, so it would not be the param Sigil checked). */
static const char *const RESERVED[] = {"apiKey", "timestamp", "recvWindow", "signature"};

static int name_of(char out[static WS_NAME_MAX + 1], const sigil_json *d, uint32_t k)
{
    sigil_slice s = sigil_json_raw(d, k);
    ENSURE(s.len > 0 && s.len <= WS_NAME_MAX, SIGIL_E_BAD_FIELD,
           "request.params: parameter names are 1..%d characters", WS_NAME_MAX);
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        ENSURE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_',
               SIGIL_E_BAD_FIELD, "request.params: parameter names are ASCII letters, digits, _");
    }
    memcpy(out, s.p, s.len);
    out[s.len] = '\0';
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(RESERVED); i++)
        ENSURE(strcmp(out, RESERVED[i]) == 0 || strcasecmp(out, RESERVED[i]) != 0,
               SIGIL_E_BAD_FIELD, "request.params.%s: spelled like %s but with other letter case",
               out, RESERVED[i]);
    ENSURE(strcmp(out, "signature") != 0, SIGIL_E_BAD_FIELD,
           "request.params.signature: added by Sigil and must not be sent");
    return 0;
}

/* The value's text as Binance signs it: strings unescaped, numbers as written
 * (no exponent: the text signed must be the one Binance reads), booleans. */
static int value_of(ws_param *p, sigil_buf *scratch, const sigil_json *d, uint32_t v)
{
    p->value = sigil_json_raw(d, v);
    switch (sigil_json_type_of(d, v)) {
    case SIGIL_JSON_STRING:
        if (!sigil_json_str_is_plain(d, v)) {
            size_t mark = scratch->len;
            GUARD(sigil_json_str(d, v, scratch));
            p->value = (sigil_slice){(const char *)scratch->data + mark, scratch->len - mark};
        }
        return 0;
    case SIGIL_JSON_NUMBER:
        ENSURE(memchr(p->value.p, 'e', p->value.len) == NULL &&
                   memchr(p->value.p, 'E', p->value.len) == NULL,
               SIGIL_E_BAD_FIELD, "request.params.%s: write the number without an exponent",
               p->name);
        return 0;
    case SIGIL_JSON_TRUE:
    case SIGIL_JSON_FALSE:
        return 0;
    default:
        BAIL(SIGIL_E_BAD_FIELD, "request.params.%s: expected a string, number or boolean", p->name);
    }
}

static int collect(ws_params *ps, sigil_buf *scratch, const sigil_json *d, uint32_t params)
{
    memset(ps, 0, sizeof(*ps));
    for (uint32_t k = sigil_json_first(d, params); k != 0; k = sigil_json_sibling(d, params, k)) {
        ENSURE(ps->n < WS_MAX_PARAMS, SIGIL_E_TOO_LARGE, "request.params: more than %d parameters",
               WS_MAX_PARAMS);
        ws_param *p = &ps->p[ps->n++];
        GUARD(name_of(p->name, d, k));
        p->tok = sigil_json_value(k);
        GUARD(value_of(p, scratch, d, p->tok));
        if (strcmp(p->name, "apiKey") == 0)
            ps->api_key = p;
        else if (strcmp(p->name, "timestamp") == 0)
            ps->timestamp = p;
        else if (strcmp(p->name, "recvWindow") == 0)
            ps->recv_window = p;
    }
    return 0;
}

static void add_param(ws_params *ps, const char *name, const char *value, size_t len)
{
    ws_param *p = &ps->p[ps->n++];
    memset(p, 0, sizeof(*p));
    memcpy(p->name, name, strlen(name) + 1);
    p->value = (sigil_slice){value, len};
}

static bool text_is(sigil_slice s, const sigil_u64_text *t)
{
    return s.len == t->len && memcmp(s.p, t->s, t->len) == 0;
}

/* params.timestamp: Unix ms as a number or a digit string; equal to
 * request.timestamp (want) when that is given too. */
static int check_timestamp_param(const ws_param *p, const sigil_json *d, const uint64_t *want)
{
    uint64_t pt = 0;
    sigil_json_type ty = sigil_json_type_of(d, p->tok);
    ENSURE(ty == SIGIL_JSON_NUMBER || ty == SIGIL_JSON_STRING, SIGIL_E_BAD_FIELD,
           "request.params.timestamp: expected Unix milliseconds");
    for (size_t i = 0; i < p->value.len; i++) {
        char c = p->value.p[i];
        ENSURE(c >= '0' && c <= '9' && (i > 0 || c != '0') && i < 19, SIGIL_E_BAD_FIELD,
               "request.params.timestamp: expected Unix milliseconds");
        pt = pt * 10 + (uint64_t)(c - '0');
    }
    ENSURE(pt >= 1000000000000ull && pt < 100000000000000ull, SIGIL_E_OUT_OF_RANGE,
           "request.params.timestamp: expected Unix milliseconds");
    ENSURE(want == NULL || pt == *want, SIGIL_E_BAD_FIELD,
           "request: params.timestamp differs from request.timestamp");
    return 0;
}

/* apiKey, timestamp, recvWindow: a param the client sent must carry the
 * credentials' key / the request's field; a missing one is added from them. */
static int check_reserved(ws_params *ps, const sigil_sign_ctx *ctx)
{
    sigil_u64_text *ts = &ps->ts_text, *rw = &ps->rw_text;
    const sigil_credentials *c = ctx->cred;
    const sigil_json *d = ctx->req;
    uint64_t t = 0, w = 0;
    bool has_t = false, has_w = false;
    GUARD(sigil_json_get_u64(d, ctx->root, "timestamp", false, &t, &has_t, "request"));
    GUARD(sigil_json_get_u64(d, ctx->root, "recv_window", false, &w, &has_w, "request"));
    ENSURE(!has_t || (t >= 1000000000000ull && t < 100000000000000ull), SIGIL_E_OUT_OF_RANGE,
           "request.timestamp: expected Unix milliseconds");
    ENSURE(!has_w || (w > 0 && w <= 60000), SIGIL_E_OUT_OF_RANGE,
           "request.recv_window: expected 1..60000 ms");

    if (ps->api_key == NULL)
        add_param(ps, "apiKey", c->api_key, c->api_key_len);
    else
        ENSURE(sigil_json_type_of(d, ps->api_key->tok) == SIGIL_JSON_STRING &&
                   ps->api_key->value.len == c->api_key_len &&
                   memcmp(ps->api_key->value.p, c->api_key, c->api_key_len) == 0,
               SIGIL_E_BAD_FIELD, "request.params.apiKey: not the credentials' api_key");

    if (ps->timestamp == NULL) {
        ENSURE(has_t, SIGIL_E_MISSING_FIELD,
               "request.timestamp: required when params.timestamp is absent");
        sigil_u64_text_init(ts, t);
        add_param(ps, "timestamp", ts->s, ts->len);
    } else {
        GUARD(check_timestamp_param(ps->timestamp, d, has_t ? &t : NULL));
    }

    if (ps->recv_window != NULL && has_w) {
        sigil_u64_text_init(rw, w);
        ENSURE(text_is(ps->recv_window->value, rw), SIGIL_E_BAD_FIELD,
               "request: params.recvWindow differs from request.recv_window");
    } else if (ps->recv_window != NULL) {
        GUARD(sigil_binance_check_recv_window_text(ps->recv_window->value));
    } else if (has_w) {
        sigil_u64_text_init(rw, w);
        add_param(ps, "recvWindow", rw->s, rw->len);
    }
    return 0;
}

/* session.logon authenticates the connection: Ed25519 keys only (Binance),
 * and nothing but the authentication params. */
static int check_logon(const ws_params *ps, const sigil_credentials *c)
{
    static const char *const LOGON[] = {"apiKey", "timestamp", "recvWindow"};
    ENSURE(c->type == SIGIL_KEY_ED25519, SIGIL_E_UNKNOWN_KEY_TYPE,
           "request.method: session.logon needs an Ed25519 key");
    for (size_t i = 0; i < ps->n; i++) {
        size_t j = 0;
        while (j < SIGIL_ARRAY_LEN(LOGON) && strcmp(ps->p[i].name, LOGON[j]) != 0)
            j++;
        ENSURE(j < SIGIL_ARRAY_LEN(LOGON), SIGIL_E_UNKNOWN_FIELD,
               "request.params.%s: session.logon takes apiKey, timestamp, recvWindow only",
               ps->p[i].name);
    }
    return 0;
}

static int check_method(const sigil_json *d, uint32_t t)
{
    GUARD(sigil_json_expect(d, t, SIGIL_JSON_STRING, "request", "method"));
    sigil_slice s = sigil_json_raw(d, t);
    ENSURE(s.len > 0 && s.len <= WS_NAME_MAX, SIGIL_E_BAD_FIELD,
           "request.method: expected a Binance WebSocket API method such as order.place");
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        ENSURE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_',
               SIGIL_E_BAD_FIELD,
               "request.method: expected a Binance WebSocket API method such as order.place");
    }
    return 0;
}

static int check_id(const sigil_json *d, uint32_t t)
{
    ENSURE(t != 0, SIGIL_E_MISSING_FIELD, "request.id: required field missing (null is allowed)");
    sigil_json_type ty = sigil_json_type_of(d, t);
    ENSURE(ty == SIGIL_JSON_STRING || ty == SIGIL_JSON_NULL ||
               (ty == SIGIL_JSON_NUMBER && sigil_json_is_integer(d, t)),
           SIGIL_E_BAD_FIELD, "request.id: expected an integer, a string or null");
    return 0;
}

static void sort_params(ws_params *ps)
{
    for (size_t i = 1; i < ps->n; i++) {
        ws_param p = ps->p[i];
        size_t j = i;
        for (; j > 0 && strcmp(ps->p[j - 1].name, p.name) > 0; j--)
            ps->p[j] = ps->p[j - 1];
        ps->p[j] = p;
    }
}

static int sign_params(sigil_buf *sig, const ws_params *ps, const sigil_sign_ctx *ctx)
{
    sigil_buf *scratch = ctx->scratch;
    size_t mark = scratch->len;
    for (size_t i = 0; i < ps->n; i++) {
        if (i > 0)
            GUARD(sigil_buf_putc(scratch, '&'));
        GUARD(sigil_buf_puts(scratch, ps->p[i].name));
        GUARD(sigil_buf_putc(scratch, '='));
        GUARD(sigil_buf_put(scratch, ps->p[i].value.p, ps->p[i].value.len));
    }
    return sigil_cex_sign_by_key(sig, ctx->cred, scratch->data + mark, scratch->len - mark);
}

/* The message: id, method, then params as given, the added ones, signature. */
static int write_message(sigil_buf *out, const sigil_sign_ctx *ctx, const ws_params *sorted,
                         sigil_slice sig)
{
    const sigil_json *d = ctx->req;
    uint32_t params = sigil_json_get(d, ctx->root, "params");
    sigil_jw w;
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "id"));
    GUARD(sigil_jw_copy(&w, d, sigil_json_get(d, ctx->root, "id")));
    GUARD(sigil_jw_key(&w, "method"));
    GUARD(sigil_jw_copy(&w, d, sigil_json_get(d, ctx->root, "method")));
    GUARD(sigil_jw_key(&w, "params"));
    GUARD(sigil_jw_obj_begin(&w));
    for (uint32_t k = sigil_json_first(d, params); k != 0; k = sigil_json_sibling(d, params, k)) {
        char name[WS_NAME_MAX + 1];
        GUARD(name_of(name, d, k));
        GUARD(sigil_jw_key(&w, name));
        GUARD(sigil_jw_copy(&w, d, sigil_json_value(k)));
    }
    for (size_t i = 0; i < sorted->n; i++) {
        if (sorted->p[i].tok != 0)
            continue;
        GUARD(sigil_jw_key(&w, sorted->p[i].name));
        if (strcmp(sorted->p[i].name, "apiKey") == 0)
            GUARD(sigil_jw_strn(&w, sorted->p[i].value.p, sorted->p[i].value.len));
        else
            GUARD(sigil_jw_raw(&w, sorted->p[i].value.p, sorted->p[i].value.len));
    }
    GUARD(sigil_jw_key(&w, "signature"));
    GUARD(sigil_jw_strn(&w, sig.p, sig.len));
    GUARD(sigil_jw_obj_end(&w));
    return sigil_jw_obj_end(&w);
}

bool sigil_binance_is_ws(const sigil_sign_ctx *ctx)
{
    return sigil_json_get(ctx->req, ctx->root, "params") != 0;
}

int sigil_binance_ws_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"id", false},        {"method", true},       {"params", true},
        {"timestamp", false}, {"recv_window", false},
    };
    static _Thread_local ws_params ps;
    const sigil_json *d = ctx->req;
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(check_id(d, sigil_json_get(d, ctx->root, "id")));
    uint32_t method = sigil_json_get(d, ctx->root, "method");
    GUARD(check_method(d, method));
    uint32_t params = sigil_json_get(d, ctx->root, "params");
    GUARD(sigil_json_expect(d, params, SIGIL_JSON_OBJECT, "request", "params"));
    GUARD(collect(&ps, ctx->scratch, d, params));
    GUARD(check_reserved(&ps, ctx));
    if (sigil_json_str_eq(d, method, "session.logon"))
        GUARD(check_logon(&ps, ctx->cred));
    sort_params(&ps);

    char sig_mem[WS_SIG_MAX + 1];
    sigil_buf sig;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sign_params(&sig, &ps, ctx));
    return write_message(out, ctx, &ps, (sigil_slice){sig_mem, sig.len});
}
