/*
 * Aster (asterdex) API V3 signing (trusted). msg = the query string exactly
 * as sent, with `nonce` (µs) and the signer's address appended when absent;
 * the wallet key signs EIP-712 Message{msg: string} under the domain
 * AsterSignTransaction / 1 / chainId / 0x0…0, and `signature` (65-byte hex)
 * is appended to the query. No API-key header.
 */
#include <string.h>
#include <time.h>

#include "venues/venues_internal.h"

#define ASTER_NONCE_MIN 1000000000000000ull   /* Unix µs, 2001 */
#define ASTER_NONCE_MAX 100000000000000000ull /* Unix µs, 5138 */
#define ADDR_TEXT_MAX 64

static const char *const METHODS[] = {"GET", "POST", "PUT", "DELETE"};
static const uint64_t NETWORK_CHAIN_IDS[] = {
    [SIGIL_NET_MAINNET] = 1666,
    [SIGIL_NET_TESTNET] = 714,
};

static const sigil_eip712_field MESSAGE_FIELDS[] = {{{"msg", 3}, {"string", 6}}};
static const sigil_eip712_type MESSAGE_TYPE = {{"Message", 7}, MESSAGE_FIELDS, 1};
static const sigil_eip712_types MESSAGE_TYPES = {&MESSAGE_TYPE, 1};

typedef int (*chain_id_fn)(uint64_t *out, const sigil_sign_ctx *ctx, const sigil_query *q);

typedef struct {
    const char *path;     /* exact path; NULL: every other endpoint */
    const char *identity; /* parameter carrying the signing key's address */
    const char *refused;  /* parameter that must not be sent; NULL: none */
    chain_id_fn chain_id;
} aster_endpoint;

/* Canonical decimal (no sign, no leading zero) of a parameter value. */
static int param_u64(uint64_t *out, const sigil_query_param *p, const char *name)
{
    uint64_t v = 0;
    ENSURE(p->value.len > 0 && p->value.len <= 19 && (p->value.p[0] != '0' || p->value.len == 1),
           SIGIL_E_BAD_FIELD, "request.query: %s must be a decimal integer", name);
    for (size_t i = 0; i < p->value.len; i++) {
        char c = p->value.p[i];
        ENSURE(c >= '0' && c <= '9', SIGIL_E_BAD_FIELD,
               "request.query: %s must be a decimal integer", name);
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return 0;
}

static int chain_from_network(uint64_t *out, const sigil_sign_ctx *ctx, const sigil_query *q)
{
    (void)q;
    ENSURE((size_t)ctx->network < SIGIL_ARRAY_LEN(NETWORK_CHAIN_IDS), SIGIL_E_INTERNAL,
           "unexpected network");
    *out = NETWORK_CHAIN_IDS[ctx->network];
    return 0;
}

/* registerAndApproveAgent is signed by the user's own wallet for the chain
 * its message names (signatureChainId, 56 for BNB Chain), not Aster's 1666:
 * the domain takes the chain from the signed text, so the two cannot differ.
 * Aster does not sign the path, so a message signed here must never be a
 * valid trading signature: Aster's own chain ids are refused. */
static int chain_from_message(uint64_t *out, const sigil_sign_ctx *ctx, const sigil_query *q)
{
    (void)ctx;
    const sigil_query_param *p;
    GUARD(sigil_query_get(&p, q, "signatureChainId", "request.query"));
    ENSURE(p != NULL, SIGIL_E_MISSING_FIELD,
           "request.query: registerAndApproveAgent needs signatureChainId");
    GUARD(param_u64(out, p, "signatureChainId"));
    ENSURE(*out > 0, SIGIL_E_OUT_OF_RANGE, "request.query: signatureChainId must not be 0");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NETWORK_CHAIN_IDS); i++)
        ENSURE(*out != NETWORK_CHAIN_IDS[i], SIGIL_E_BAD_FIELD,
               "request.query: signatureChainId %llu is Aster's trading domain; an agent "
               "registration is signed on the wallet's chain",
               (unsigned long long)*out);
    return 0;
}

static const aster_endpoint ENDPOINTS[] = {
    {"/fapi/v3/registerAndApproveAgent", "user", "signer", chain_from_message},
    {"/api/v3/registerAndApproveAgent", "user", "signer", chain_from_message},
    {NULL, "signer", NULL, chain_from_network},
};

static const aster_endpoint *endpoint_for(sigil_slice path)
{
    size_t i = 0;
    while (ENDPOINTS[i].path != NULL && !sigil_slice_eq(path, ENDPOINTS[i].path))
        i++;
    return &ENDPOINTS[i];
}

/* ---- request: {method, path, query, nonce?} ---- */

static int decode_str(sigil_slice *out, const sigil_sign_ctx *ctx, const char *key)
{
    uint32_t t;
    size_t mark = ctx->scratch->len;
    GUARD(sigil_json_get_str(ctx->req, ctx->root, key, true, &t, "request"));
    GUARD(sigil_json_str(ctx->req, t, ctx->scratch));
    *out = (sigil_slice){(const char *)ctx->scratch->data + mark, ctx->scratch->len - mark};
    return 0;
}

/* The query is decoded last, so it ends the scratch and can be extended. */
static int parse_request(sigil_cex_request *r, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"method", true}, {"path", true}, {"query", true}, {"nonce", false}};
    const sigil_json *d = ctx->req;
    uint32_t t;
    size_t i = 0;
    memset(r, 0, offsetof(sigil_cex_request, query_params));
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(sigil_json_get_str(d, ctx->root, "method", true, &t, "request"));
    while (i < SIGIL_ARRAY_LEN(METHODS) && !sigil_json_str_eq(d, t, METHODS[i]))
        i++;
    ENSURE(i < SIGIL_ARRAY_LEN(METHODS), SIGIL_E_BAD_FIELD,
           "request.method: expected GET, POST, PUT or DELETE");
    memcpy(r->method, METHODS[i], strlen(METHODS[i]) + 1);
    GUARD(decode_str(&r->path, ctx, "path"));
    GUARD(sigil_cex_check_path(r->path));
    GUARD(decode_str(&r->query, ctx, "query"));
    ENSURE(r->query.len == 0 || r->query.p[0] != '?', SIGIL_E_BAD_FIELD,
           "request.query: give the query without the leading '?'");
    GUARD(sigil_cex_check_ascii(r->query, "query", "#"));
    GUARD(sigil_query_parse(&r->query_params, r->query.p, r->query.len, "request.query"));
    const sigil_query_param *sig;
    GUARD(sigil_query_get(&sig, &r->query_params, "signature", "request.query"));
    ENSURE(sig == NULL, SIGIL_E_BAD_FIELD,
           "request.query: the signature parameter is added by Sigil and must not be sent");
    return 0;
}

/* ---- nonce and signer ---- */
static uint64_t now_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0; /* refused below as out of range */
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The nonce in the query wins; request.nonce, when also given, must agree.
 * With neither, the nonce is the current time in µs (Aster accepts nonces
 * within 10 s of its clock); offline signing passes request.nonce. */
static int resolve_nonce(uint64_t *nonce, bool *append, const sigil_sign_ctx *ctx,
                         const sigil_query *q)
{
    uint64_t given = 0;
    bool has_given;
    const sigil_query_param *p;
    GUARD(sigil_query_get(&p, q, "nonce", "request.query"));
    GUARD(sigil_json_get_u64(ctx->req, ctx->root, "nonce", false, &given, &has_given, "request"));
    *append = p == NULL;
    if (p != NULL) {
        GUARD(param_u64(nonce, p, "nonce"));
        ENSURE(!has_given || given == *nonce, SIGIL_E_BAD_FIELD,
               "request: the nonce parameter differs from request.nonce");
    } else {
        *nonce = has_given ? given : now_us();
    }
    ENSURE(*nonce >= ASTER_NONCE_MIN && *nonce < ASTER_NONCE_MAX, SIGIL_E_OUT_OF_RANGE,
           "request: nonce must be Unix time in microseconds");
    return 0;
}

/* A signer/user given in the query must be the signing key's address
 * (compared case-insensitively: the checksum is not what Aster checks). */
static int check_identity(const sigil_query_param *p, const sigil_credentials *c, const char *name)
{
    char text[ADDR_TEXT_MAX];
    uint8_t addr[20];
    sigil_buf b;
    sigil_buf_init(&b, text, sizeof(text));
    bool ok = sigil_pct_decode(&b, p->value.p, p->value.len, true, "request.query") == 0 &&
              b.len == 42 && text[0] == '0' && text[1] == 'x' &&
              sigil_hex_decode_exact(addr, 20, text + 2, 40, false, "request.query") == 0;
    ENSURE(ok, SIGIL_E_BAD_ADDRESS, "request.query: %s is not a 0x address", name);
    ENSURE(memcmp(addr, c->address, 20) == 0, SIGIL_E_BAD_ADDRESS,
           "request.query: %s is not the address of the signing key", name);
    return 0;
}

static int append_sep(sigil_buf *b, size_t mark)
{
    return b->len > mark ? sigil_buf_putc(b, '&') : 0;
}

/* Extends the query (at the end of scratch, from mark) into the msg. */
static int build_msg(sigil_slice *msg, const sigil_sign_ctx *ctx, const sigil_cex_request *r,
                     const aster_endpoint *e)
{
    sigil_buf *s = ctx->scratch;
    size_t mark = (size_t)((const uint8_t *)r->query.p - s->data);
    uint64_t nonce;
    bool add_nonce;
    ENSURE(mark + r->query.len == s->len, SIGIL_E_INTERNAL, "query is not at the end of scratch");
    GUARD(resolve_nonce(&nonce, &add_nonce, ctx, &r->query_params));
    if (add_nonce) {
        GUARD(append_sep(s, mark));
        GUARD(sigil_buf_puts(s, "nonce="));
        GUARD(sigil_buf_put_u64(s, nonce));
    }
    const sigil_query_param *id, *refused = NULL;
    GUARD(sigil_query_get(&id, &r->query_params, e->identity, "request.query"));
    if (e->refused != NULL)
        GUARD(sigil_query_get(&refused, &r->query_params, e->refused, "request.query"));
    ENSURE(refused == NULL, SIGIL_E_BAD_FIELD, "request.query: %s is not sent to this endpoint",
           e->refused);
    if (id != NULL) {
        GUARD(check_identity(id, ctx->cred, e->identity));
    } else {
        char cs[43];
        sigil_eth_address_checksum(cs, ctx->cred->address);
        GUARD(append_sep(s, mark));
        GUARD(sigil_buf_puts(s, e->identity));
        GUARD(sigil_buf_putc(s, '='));
        GUARD(sigil_buf_puts(s, cs));
    }
    *msg = (sigil_slice){(const char *)s->data + mark, s->len - mark};
    return 0;
}

/* keccak(0x1901 ‖ domainSeparator ‖ keccak(typeHash(Message) ‖ keccak(msg))) */
static int aster_digest(uint8_t digest[static 32], sigil_slice msg, uint64_t chain_id)
{
    static const uint8_t ZERO_ADDRESS[20] = {0};
    uint8_t enc[64], domain[32], struct_hash[32];
    GUARD(sigil_eip712_type_hash(enc, &MESSAGE_TYPES, (sigil_slice){"Message", 7}));
    sigil_keccak256(enc + 32, msg.p, msg.len);
    sigil_keccak256(struct_hash, enc, sizeof(enc));
    sigil_eip712_domain_hash(domain, "AsterSignTransaction", "1", chain_id, ZERO_ADDRESS);
    sigil_eip712_digest(digest, domain, struct_hash);
    return 0;
}

static int aster_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    sigil_cex_request r;
    sigil_slice msg = {NULL, 0};
    sigil_eth_sig sig;
    uint8_t digest[32];
    uint64_t chain_id = 0;
    GUARD(parse_request(&r, ctx));
    const aster_endpoint *e = endpoint_for(r.path);
    GUARD(e->chain_id(&chain_id, ctx, &r.query_params));
    GUARD(build_msg(&msg, ctx, &r, e));
    GUARD(aster_digest(digest, msg, chain_id));
    GUARD(sigil_eth_sign_digest(&sig, ctx->cred, digest));

    GUARD(sigil_buf_puts(ctx->scratch, "&signature="));
    GUARD(sigil_eth_sig_put_hex65(ctx->scratch, &sig));
    sigil_slice query = {msg.p,
                         (size_t)(ctx->scratch->data + ctx->scratch->len - (const uint8_t *)msg.p)};
    return sigil_cex_write(out, &r, query, (sigil_slice){"", 0}, NULL, 0);
}

const sigil_venue sigil_venue_aster = {
    .name = "aster",
    .kind = SIGIL_VENUE_WALLET,
    .key_types = SIGIL_KEY_SECP256K1,
    .needs_passphrase = false,
    .sign = aster_sign,
    .needs_address = true,
};
