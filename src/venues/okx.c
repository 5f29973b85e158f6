/*
 * OKX V5 REST signing (trusted).
 * prehash = ISO-8601 ms timestamp ‖ METHOD ‖ path ["?" query] ‖ body, as
 * sent; base64(HMAC-SHA256) in OK-ACCESS-SIGN. OKX wants the passphrase
 * itself in OK-ACCESS-PASSPHRASE, so it leaves the enclave in the output.
 * Testnet is OKX demo trading: same host and signature, plus the unsigned
 * header "x-simulated-trading: 1".
 */
#include <string.h>

#include "venues/venues_internal.h"

#define ISO_MAX_MS 253402300799999ull /* 9999-12-31T23:59:59.999Z */

typedef struct {
    unsigned year, month, day;
} civil_date;

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
 * civil_from_days, unsigned: exact for every day >= 0). Eras of 400 years
 * are 146097 days; years are counted from March so leap days come last. */
static civil_date civil_from_days(uint64_t days)
{
    uint64_t z = days + 719468; /* days since 0000-03-01 */
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;                                      /* [0, 146096] */
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    uint64_t mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    civil_date c;
    c.day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    c.year = (unsigned)(era * 400 + yoe + (c.month <= 2));
    return c;
}

static char *put_digits(char *p, unsigned v, unsigned width)
{
    for (unsigned i = width; i > 0; i--) {
        p[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

int sigil_iso8601_ms(char out[static SIGIL_ISO8601_MS_LEN + 1], uint64_t ms)
{
    ENSURE(ms <= ISO_MAX_MS, SIGIL_E_OUT_OF_RANGE, "request.timestamp: after year 9999");
    uint64_t secs = ms / 1000;
    unsigned sod = (unsigned)(secs % 86400);
    civil_date c = civil_from_days(secs / 86400);
    const struct {
        unsigned value, width;
        char after;
    } parts[] = {
        {c.year, 4, '-'},
        {c.month, 2, '-'},
        {c.day, 2, 'T'},
        {sod / 3600, 2, ':'},
        {sod / 60 % 60, 2, ':'},
        {sod % 60, 2, '.'},
        {(unsigned)(ms % 1000), 3, 'Z'},
    };
    char *p = out;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(parts); i++) {
        p = put_digits(p, parts[i].value, parts[i].width);
        *p++ = parts[i].after;
    }
    *p = '\0';
    return 0;
}

/* WebSocket login: {"op":"login","timestamp":s} gives the message to send,
 * {"op":"login","args":[{apiKey, passphrase, timestamp, sign}]} with sign
 * over timestamp ‖ "GET/users/self/verify" (seconds, unlike REST). */
static int okx_ws_login(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    uint64_t ts;
    sigil_u64_text tt;
    char prehash[48], sig_mem[SIGIL_B64_LEN(32) + 1];
    sigil_buf pb, sig;
    sigil_jw w;
    GUARD(sigil_cex_ws_auth_parse(&ts, ctx, "login", "timestamp", 1000000000ull, 100000000000ull));
    sigil_u64_text_init(&tt, ts);
    sigil_buf_init(&pb, prehash, sizeof(prehash));
    GUARD(sigil_buf_put(&pb, tt.s, tt.len));
    GUARD(sigil_buf_puts(&pb, "GET/users/self/verify"));
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_cex_hmac256_b64(&sig, c, prehash, pb.len));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "op"));
    GUARD(sigil_jw_str(&w, "login"));
    GUARD(sigil_jw_key(&w, "args"));
    GUARD(sigil_jw_arr_begin(&w));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "apiKey"));
    GUARD(sigil_jw_strn(&w, c->api_key, c->api_key_len));
    GUARD(sigil_jw_key(&w, "passphrase"));
    GUARD(sigil_jw_strn(&w, (const char *)c->passphrase.p, c->passphrase.len));
    GUARD(sigil_jw_key(&w, "timestamp"));
    GUARD(sigil_jw_strn(&w, tt.s, tt.len));
    GUARD(sigil_jw_key(&w, "sign"));
    GUARD(sigil_jw_strn(&w, sig_mem, sig.len));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_arr_end(&w));
    return sigil_jw_obj_end(&w);
}

static int okx_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_cex_request r;
    char iso[SIGIL_ISO8601_MS_LEN + 1];
    sigil_slice prehash;
    if (sigil_cex_is_ws_auth(ctx))
        return okx_ws_login(out, ctx);
    GUARD(sigil_cex_request_parse(&r, ctx->scratch, ctx, SIGIL_BODY_JSON));
    /* OKX has no receive window: it rejects requests 30 s off its clock. Its
     * per-request deadline header (expTime) is not mapped: not verified here. */
    ENSURE(!r.has_recv_window, SIGIL_E_BAD_FIELD,
           "request.recv_window: OKX has no receive window; omit it");
    GUARD(sigil_iso8601_ms(iso, r.timestamp));
    GUARD(sigil_cex_prehash_target(&prehash, ctx->scratch, (sigil_slice){iso, SIGIL_ISO8601_MS_LEN},
                                   &r));
    char sig_mem[SIGIL_B64_LEN(32) + 1];
    sigil_buf sig;
    sigil_buf_init(&sig, sig_mem, sizeof(sig_mem));
    GUARD(sigil_cex_hmac256_b64(&sig, c, prehash.p, prehash.len));

    /* ccxt's order: its default headers (the demo flag) first, then sign()'s,
     * with Content-Type on every request but a GET. */
    sigil_header h[6];
    size_t n = 0;
    if (ctx->network == SIGIL_NET_TESTNET)
        h[n++] = (sigil_header){"x-simulated-trading", "1", 1};
    h[n++] = (sigil_header){"OK-ACCESS-KEY", c->api_key, c->api_key_len};
    h[n++] =
        (sigil_header){"OK-ACCESS-PASSPHRASE", (const char *)c->passphrase.p, c->passphrase.len};
    h[n++] = (sigil_header){"OK-ACCESS-TIMESTAMP", iso, SIGIL_ISO8601_MS_LEN};
    if (strcmp(r.method, "GET") != 0)
        h[n++] = (sigil_header){"Content-Type", "application/json", 16};
    h[n++] = (sigil_header){"OK-ACCESS-SIGN", sig_mem, sig.len};
    return sigil_cex_write(out, &r, r.query, r.body, h, n);
}

const sigil_venue sigil_venue_okx = {
    .name = "okx",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC,
    .needs_passphrase = true,
    .sign = okx_sign,
};
