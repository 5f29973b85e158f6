/*
 * Coinbase Advanced Trade REST signing with CDP API keys (trusted).
 * One JWT per request, sent as "Authorization: Bearer <jwt>":
 *   ES256 (P-256 PEM key, SEC1 or PKCS#8 — what the Advanced Trade docs
 *   require): header {"alg":"ES256","kid":K,"nonce":N,"typ":"JWT"}, claims
 *   {"sub":K,"iss":"cdp","nbf":now,"exp":now+120,"uri":"METHOD host/path"},
 *   as coinbase-advanced-py's build_rest_jwt; signature raw r ‖ s with an
 *   RFC 6979 nonce, so the same request gives the same JWT.
 *   EdDSA (CDP Ed25519 key: base64 of seed ‖ public key, 64 bytes): header
 *   {"alg":"EdDSA","kid":K,"typ":"JWT","nonce":N}, claims with
 *   "aud":["cdp_service"] after "iss", as the CDP SDKs.
 * K is credentials.api_key (the key name), now = request.timestamp / 1000.
 * The "nonce" header is random (16 bytes hex for EdDSA, 32 for ES256, as the
 * SDKs) unless request.nonce gives one (16..64 lowercase hex digits). The
 * query is not part of uri and travels unsigned, as Coinbase defines it.
 * Sandbox (--network testnet) takes no authentication and is refused; no
 * recv_window (the JWT is valid 120 s); WebSocket JWTs are not offered yet.
 * The secret key is parsed per signature, its scalar wiped afterwards.
 */
#include <string.h>
#include <sys/random.h>

#include "crypto/p256.h"
#include "venues/venues_internal.h"

#define CB_HOST "api.coinbase.com"
#define CB_JWT_TTL 120
#define CB_NONCE_MAX 64
#define CB_JWT_MAX 2048

typedef enum { CB_ES256, CB_EDDSA } cb_alg;

static const char PEM_BEGIN[] = "-----BEGIN";

static bool is_pem(const sigil_secret *s)
{
    size_t n = sizeof(PEM_BEGIN) - 1;
    for (size_t i = 0; i + n <= s->len; i++) {
        if (memcmp(s->p + i, PEM_BEGIN, n) == 0)
            return true;
        if (s->p[i] != ' ' && s->p[i] != '\n' && s->p[i] != '\r' && s->p[i] != '\t')
            return false;
    }
    return false;
}

/* The request minus its "nonce" member, reparsed, so the common CEX parser
 * sees only its own fields. */
static int strip_nonce(sigil_json *out, sigil_slice *nonce, sigil_buf *scratch,
                       const sigil_sign_ctx *ctx)
{
    static _Thread_local sigil_json_tok toks[SIGIL_REQUEST_MAX_TOKENS];
    const sigil_json *d = ctx->req;
    uint32_t t = sigil_json_get(d, ctx->root, "nonce");
    nonce->len = 0;
    if (t == 0)
        return 0;
    ENSURE(sigil_json_type_of(d, t) == SIGIL_JSON_STRING && sigil_json_str_is_plain(d, t),
           SIGIL_E_BAD_FIELD, "request.nonce: expected a string of 16..64 lowercase hex digits");
    *nonce = sigil_json_raw(d, t);
    ENSURE(nonce->len >= 16 && nonce->len <= CB_NONCE_MAX, SIGIL_E_BAD_FIELD,
           "request.nonce: expected a string of 16..64 lowercase hex digits");
    for (size_t i = 0; i < nonce->len; i++) {
        char ch = nonce->p[i];
        ENSURE((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'), SIGIL_E_BAD_FIELD,
               "request.nonce: expected a string of 16..64 lowercase hex digits");
    }
    size_t mark = scratch->len;
    bool first = true;
    GUARD(sigil_buf_putc(scratch, '{'));
    for (uint32_t k = sigil_json_first(d, ctx->root); k != 0;
         k = sigil_json_sibling(d, ctx->root, k)) {
        uint32_t v = sigil_json_value(k);
        if (v == t)
            continue;
        sigil_slice ks = sigil_json_raw(d, k), vs = sigil_json_raw(d, v);
        bool vstr = sigil_json_type_of(d, v) == SIGIL_JSON_STRING;
        if (!first)
            GUARD(sigil_buf_putc(scratch, ','));
        first = false;
        GUARD(sigil_buf_putc(scratch, '"'));
        GUARD(sigil_buf_put(scratch, ks.p, ks.len));
        GUARD(sigil_buf_puts(scratch, "\":"));
        if (vstr)
            GUARD(sigil_buf_putc(scratch, '"'));
        GUARD(sigil_buf_put(scratch, vs.p, vs.len));
        if (vstr)
            GUARD(sigil_buf_putc(scratch, '"'));
    }
    GUARD(sigil_buf_putc(scratch, '}'));
    GUARD(sigil_json_parse(out, (const char *)scratch->data + mark, scratch->len - mark, toks,
                           SIGIL_REQUEST_MAX_TOKENS));
    return 0;
}

static int random_nonce(char *dst, size_t nbytes)
{
    uint8_t rnd[32];
    ENSURE(nbytes <= sizeof(rnd) && getrandom(rnd, nbytes, 0) == (ssize_t)nbytes, SIGIL_E_CRYPTO,
           "coinbase: no randomness for the JWT nonce");
    sigil_hex_encode(dst, rnd, nbytes);
    return 0;
}

static int put_b64url_json(sigil_buf *jwt, sigil_buf *tmp)
{
    return sigil_b64_put(jwt, tmp->data, tmp->len, SIGIL_B64_URL_NP);
}

/* Ed25519 CDP secret: base64 of seed ‖ public key; the public half must be
 * the seed's. */
static int eddsa_sign(uint8_t sig[64], const sigil_secret *secret, const void *msg, size_t n)
{
    SIGIL_SECRET(raw);
    SIGIL_SECRET(sk);
    size_t len = 0;
    GUARD(sigil_secret_alloc(&raw, secret->len));
    if (sigil_b64_decode(raw.p, raw.cap, &len, (const char *)secret->p, secret->len, SIGIL_B64_STD,
                         "credentials.secret") != 0 ||
        len != 64)
        BAIL(SIGIL_E_BAD_CREDENTIALS,
             "credentials.secret: expected a PEM EC (P-256) key or the base64 of a 64-byte "
             "Ed25519 key");
    GUARD(sigil_secret_alloc(&sk, 64));
    GUARD(sigil_ed25519_expand(sk.p, raw.p));
    ENSURE(sigil_ct_eq(sk.p + 32, raw.p + 32, 32), SIGIL_E_BAD_CREDENTIALS,
           "credentials.secret: the Ed25519 public key does not match its private key");
    return sigil_ed25519_sign_expanded(sig, sk.p, msg, n);
}

static int es256_sign(uint8_t sig[64], const sigil_secret *secret, const void *msg, size_t n)
{
    SIGIL_SECRET(d);
    uint8_t h[32];
    GUARD(sigil_secret_alloc(&d, 32));
    GUARD(sigil_p256_scalar_from_pem(d.p, (const char *)secret->p, secret->len));
    sigil_sha256(h, msg, n);
    return sigil_p256_sign_digest(sig, d.p, h);
}

static int coinbase_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    const sigil_credentials *c = ctx->cred;
    sigil_buf *scratch = ctx->scratch;
    ENSURE(ctx->network == SIGIL_NET_MAINNET, SIGIL_E_BAD_REQUEST,
           "--network: Coinbase's Advanced Trade sandbox takes no authentication; use mainnet");
    ENSURE(sigil_json_get(ctx->req, ctx->root, "op") == 0, SIGIL_E_UNKNOWN_FIELD,
           "request.op: Coinbase WebSocket JWTs are not supported");
    for (size_t i = 0; i < c->api_key_len; i++)
        ENSURE(c->api_key[i] != '"' && c->api_key[i] != '\\', SIGIL_E_BAD_CREDENTIALS,
               "credentials.api_key: the CDP key name has no quotes or backslashes");

    sigil_json stripped;
    sigil_slice given;
    GUARD(strip_nonce(&stripped, &given, scratch, ctx));
    sigil_sign_ctx rctx = *ctx;
    if (given.len > 0) {
        rctx.req = &stripped;
        rctx.root = 0;
    }
    sigil_cex_request r;
    GUARD(sigil_cex_request_parse(&r, scratch, &rctx, SIGIL_BODY_JSON));
    ENSURE(!r.has_recv_window, SIGIL_E_UNKNOWN_FIELD,
           "request.recv_window: a Coinbase JWT is valid 120 s; omit it");
    GUARD(sigil_cex_check_ascii(r.query, "query", "#"));

    cb_alg alg = is_pem(&c->secret) ? CB_ES256 : CB_EDDSA;
    char nonce[CB_NONCE_MAX + 1];
    size_t nonce_len;
    if (given.len > 0) {
        memcpy(nonce, given.p, given.len);
        nonce_len = given.len;
    } else {
        size_t nbytes = alg == CB_ES256 ? 32 : 16;
        GUARD(random_nonce(nonce, nbytes));
        nonce_len = 2 * nbytes;
    }
    uint64_t now = r.timestamp / 1000;

    /* header and claims JSON (no value needs escaping: checked above). */
    char json_mem[1024];
    sigil_buf j;
    sigil_buf_init(&j, json_mem, sizeof(json_mem));
    char jwt_mem[CB_JWT_MAX];
    sigil_buf jwt;
    sigil_buf_init(&jwt, jwt_mem, sizeof(jwt_mem));

    GUARD(sigil_buf_puts(&j, alg == CB_ES256 ? "{\"alg\":\"ES256\",\"kid\":\""
                                             : "{\"alg\":\"EdDSA\",\"kid\":\""));
    GUARD(sigil_buf_put(&j, c->api_key, c->api_key_len));
    if (alg == CB_ES256) {
        GUARD(sigil_buf_puts(&j, "\",\"nonce\":\""));
        GUARD(sigil_buf_put(&j, nonce, nonce_len));
        GUARD(sigil_buf_puts(&j, "\",\"typ\":\"JWT\"}"));
    } else {
        GUARD(sigil_buf_puts(&j, "\",\"typ\":\"JWT\",\"nonce\":\""));
        GUARD(sigil_buf_put(&j, nonce, nonce_len));
        GUARD(sigil_buf_puts(&j, "\"}"));
    }
    GUARD(put_b64url_json(&jwt, &j));
    GUARD(sigil_buf_putc(&jwt, '.'));

    j.len = 0;
    GUARD(sigil_buf_puts(&j, "{\"sub\":\""));
    GUARD(sigil_buf_put(&j, c->api_key, c->api_key_len));
    GUARD(sigil_buf_puts(&j, "\",\"iss\":\"cdp\","));
    if (alg == CB_EDDSA)
        GUARD(sigil_buf_puts(&j, "\"aud\":[\"cdp_service\"],"));
    GUARD(sigil_buf_puts(&j, "\"nbf\":"));
    GUARD(sigil_buf_put_u64(&j, now));
    GUARD(sigil_buf_puts(&j, ",\"exp\":"));
    GUARD(sigil_buf_put_u64(&j, now + CB_JWT_TTL));
    GUARD(sigil_buf_puts(&j, ",\"uri\":\""));
    GUARD(sigil_buf_puts(&j, r.method));
    GUARD(sigil_buf_puts(&j, " " CB_HOST));
    GUARD(sigil_buf_put(&j, r.path.p, r.path.len));
    GUARD(sigil_buf_puts(&j, "\"}"));
    GUARD(put_b64url_json(&jwt, &j));

    uint8_t sig[64];
    if (alg == CB_ES256)
        GUARD(es256_sign(sig, &c->secret, jwt.data, jwt.len));
    else
        GUARD(eddsa_sign(sig, &c->secret, jwt.data, jwt.len));
    GUARD(sigil_buf_putc(&jwt, '.'));
    GUARD(sigil_b64_put(&jwt, sig, sizeof(sig), SIGIL_B64_URL_NP));

    char auth_mem[CB_JWT_MAX + 8];
    sigil_buf auth;
    sigil_buf_init(&auth, auth_mem, sizeof(auth_mem));
    GUARD(sigil_buf_puts(&auth, "Bearer "));
    GUARD(sigil_buf_put(&auth, jwt.data, jwt.len));

    sigil_header h[2] = {{"Authorization", auth_mem, auth.len}};
    size_t nh = 1;
    if (r.body.len > 0)
        h[nh++] = (sigil_header){"Content-Type", "application/json", 16};
    return sigil_cex_write(out, &r, r.query, r.body, h, nh);
}

const sigil_venue sigil_venue_coinbase = {
    .name = "coinbase",
    .kind = SIGIL_VENUE_CEX,
    .key_types = SIGIL_KEY_HMAC, /* the secret as given: PEM or base64, parsed when signing */
    .sign = coinbase_sign,
};
