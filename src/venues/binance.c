/*
 * Binance spot and USD-M futures REST signing (trusted).
 * payload = query ‖ body (no separator), as sent; HMAC-SHA256 → hex,
 * Ed25519 / RSA-PKCS1v15-SHA256 → base64, percent-encoded; appended as the
 * last parameter `signature` of the body when there is one, else the query.
 * A request with "params" is a WebSocket API request (binance_ws.c).
 */
#include <string.h>

#include "venues/venues_internal.h"

/* Appends "name=value" to a parameter string held in dst. */
static int append_param(sigil_buf *dst, sigil_slice *s, const char *name, const char *value,
                        size_t vlen)
{
    size_t mark = dst->len;
    if (s->len > 0) {
        GUARD(sigil_buf_put(dst, s->p, s->len));
        GUARD(sigil_buf_putc(dst, '&'));
    }
    GUARD(sigil_buf_puts(dst, name));
    GUARD(sigil_buf_putc(dst, '='));
    GUARD(sigil_buf_put(dst, value, vlen));
    s->p = (const char *)dst->data + mark;
    s->len = dst->len - mark;
    return 0;
}

static int append_u64(sigil_buf *dst, sigil_slice *s, const char *name, uint64_t v)
{
    char num[24];
    sigil_buf nb;
    sigil_buf_init(&nb, num, sizeof(num));
    GUARD(sigil_buf_put_u64(&nb, v));
    return append_param(dst, s, name, num, nb.len);
}

/* A parameter that is present must carry exactly the request's value. */
static int check_param_u64(const sigil_query_param *p, uint64_t want, const char *name)
{
    char num[24];
    sigil_buf nb;
    sigil_buf_init(&nb, num, sizeof(num));
    GUARD(sigil_buf_put_u64(&nb, want));
    ENSURE(p->value.len == nb.len && memcmp(p->value.p, num, nb.len) == 0, SIGIL_E_BAD_FIELD,
           "request: the %s parameter differs from request.%s", name,
           strcmp(name, "timestamp") == 0 ? "timestamp" : "recv_window");
    return 0;
}

/* A recvWindow parameter sent without request.recv_window must still be
 * within Binance's bounds: 0 < value <= 60000 ms, at most three decimals. */
int sigil_binance_check_recv_window_text(sigil_slice v)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    uint64_t thousandths = 0, scale = 100;
    while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9' && int_digits < 6) {
        thousandths = thousandths * 10 + (uint64_t)(v.p[i++] - '0');
        int_digits++;
    }
    thousandths *= 1000;
    if (i < v.len && v.p[i] == '.') {
        for (i++; i < v.len && v.p[i] >= '0' && v.p[i] <= '9' && frac_digits < 3; i++) {
            thousandths += (uint64_t)(v.p[i] - '0') * scale;
            scale /= 10;
            frac_digits++;
        }
        if (frac_digits == 0)
            i = 0; /* "5000." is malformed */
    }
    ENSURE(i == v.len && int_digits > 0 && (int_digits == 1 || v.p[0] != '0') && thousandths > 0 &&
               thousandths <= 60000000,
           SIGIL_E_OUT_OF_RANGE,
           "request: the recvWindow parameter must be a number of ms in (0, 60000] with at most "
           "three decimals");
    return 0;
}

/* Finds a parameter Sigil reads (timestamp, recvWindow, signature) in the
 * query or the body (they share no names: checked before). A spelling that
 * differs only by case is refused: Binance reads names exactly. */
static int find_reserved(const sigil_query_param **out, const sigil_query *query,
                         const sigil_query *body, const char *name)
{
    const sigil_query_param *in_query, *in_body;
    GUARD(sigil_query_get(&in_query, query, name, "request.query"));
    GUARD(sigil_query_get(&in_body, body, name, "request.body"));
    *out = in_query != NULL ? in_query : in_body;
    return 0;
}

/* HMAC → hex; Ed25519 / RSA → base64, percent-encoded for the query/body. */
static int sign_payload(sigil_buf *sig, const sigil_credentials *c, const sigil_buf *payload)
{
    char mem[SIGIL_B64_LEN(SIGIL_CEX_RSA_SIG_MAX) + 1];
    sigil_buf raw;
    sigil_buf_init(&raw, mem, sizeof(mem));
    GUARD(sigil_cex_sign_by_key(&raw, c, payload->data, payload->len));
    return sigil_pct_encode(sig, mem, raw.len);
}

static int binance_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    sigil_buf *scratch = ctx->scratch;
    sigil_cex_request r;
    if (sigil_binance_is_ws(ctx))
        return sigil_binance_ws_sign(out, ctx);
    GUARD(sigil_cex_request_parse(&r, scratch, ctx, SIGIL_BODY_FORM));
    ENSURE(!r.has_recv_window || r.recv_window <= 60000, SIGIL_E_OUT_OF_RANGE,
           "request.recv_window: Binance accepts at most 60000 ms");
    /* Binance reads query ‖ body as one parameter set (a name in both: the
     * query's value wins), so a name may appear in only one of them. */
    GUARD(sigil_query_check_disjoint(&r.query_params, &r.body_params, "request"));
    const sigil_query_param *sig_param, *ts, *rw;
    GUARD(find_reserved(&sig_param, &r.query_params, &r.body_params, "signature"));
    GUARD(find_reserved(&ts, &r.query_params, &r.body_params, "timestamp"));
    GUARD(find_reserved(&rw, &r.query_params, &r.body_params, "recvWindow"));
    ENSURE(sig_param == NULL, SIGIL_E_BAD_FIELD,
           "request: the signature parameter is added by Sigil and must not be sent");

    bool in_body = strcmp(r.method, "POST") == 0 || strcmp(r.method, "PUT") == 0;
    sigil_slice *target = in_body ? &r.body : &r.query;
    if (ts != NULL)
        GUARD(check_param_u64(ts, r.timestamp, "timestamp"));
    else
        GUARD(append_u64(scratch, target, "timestamp", r.timestamp));
    if (rw != NULL && r.has_recv_window)
        GUARD(check_param_u64(rw, r.recv_window, "recvWindow"));
    else if (rw != NULL)
        GUARD(sigil_binance_check_recv_window_text(rw->value));
    else if (r.has_recv_window)
        GUARD(append_u64(scratch, target, "recvWindow", r.recv_window));

    /* payload = query ‖ body, laid out after the request strings */
    sigil_buf payload;
    char sig_mem[3 * SIGIL_B64_LEN(SIGIL_CEX_RSA_SIG_MAX) + 1];
    sigil_buf sig;
    sigil_buf_init(&payload, scratch->data + scratch->len, scratch->cap - scratch->len);
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_buf_put(&payload, r.query.p, r.query.len));
    GUARD(sigil_buf_put(&payload, r.body.p, r.body.len));
    GUARD(sign_payload(&sig, ctx->cred, &payload));
    scratch->len += payload.len;
    GUARD(append_param(scratch, r.body.len > 0 ? &r.body : &r.query, "signature",
                       (const char *)sig.data, sig.len));

    sigil_header h[2] = {
        {"X-MBX-APIKEY", ctx->cred->api_key, ctx->cred->api_key_len},
        {"Content-Type", "application/x-www-form-urlencoded", 33},
    };
    return sigil_cex_write(out, &r, r.query, r.body, h, r.body.len > 0 ? 2 : 1);
}

const sigil_venue sigil_venue_binance = {
    .name = "binance",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC | SIGIL_KEY_ED25519 | SIGIL_KEY_RSA,
    .needs_passphrase = false,
    .sign = binance_sign,
};
