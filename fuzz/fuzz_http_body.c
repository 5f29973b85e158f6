/*
 * libFuzzer target: the gateway's request-body and header parsers
 * (src/gateway/body.c) for POST /v1/sign (with and without a client
 * signature), POST /v1/keys and PUT /v1/keys/{id}/credentials (one parser:
 * {"sealed"}), PUT /v1/keys/{id}/policy, POST /v1/keys/{id}/revoke, and bearer tokens. The first
 * byte picks the parser (mod 8: 4 is revoke, the rest mod 4 as before). Properties: a sign body's
 * request slice lies inside the input, is itself one strict JSON object, and its key id passes the
 * key-id check; a decoded sealed upload fits its buffer; a revoke body's signature is the hex text
 * of the input's one member.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "gateway/body.c"

static sigil_json_tok toks[GW_JSON_TOKS];
static sigil_json_tok toks2[GW_JSON_TOKS];
static uint8_t sealed_mem[4096];

static void sign_body(const char *p, size_t n)
{
    gw_sign_body b;
    sigil_json d, d2;
    if (gw_parse_sign_body(&b, &d, toks, GW_JSON_TOKS, p, n) != 0)
        return;
    if (b.request.p < p || b.request.p + b.request.len > p + n)
        __builtin_trap();
    if (sigil_json_parse(&d2, b.request.p, b.request.len, toks2, GW_JSON_TOKS) != 0 ||
        sigil_json_type_of(&d2, 0) != SIGIL_JSON_OBJECT)
        __builtin_trap();
    if (sigil_key_id_check(b.key_id, strlen(b.key_id)) != 0)
        __builtin_trap();
    if (b.has_client && (b.client_nonce.p < p || b.client_nonce.p + b.client_nonce.len > p + n))
        __builtin_trap();
}

static void policy_body(const char *p, size_t n)
{
    gw_policy_body b;
    sigil_json d, d2;
    if (gw_parse_policy_body(&b, &d, toks, GW_JSON_TOKS, p, n) != 0)
        return;
    if (b.policy.p < p || b.policy.p + b.policy.len > p + n)
        __builtin_trap();
    if (sigil_json_parse(&d2, b.policy.p, b.policy.len, toks2, GW_JSON_TOKS) != 0 ||
        sigil_json_type_of(&d2, 0) != SIGIL_JSON_OBJECT)
        __builtin_trap();
}

static void import_body(const char *p, size_t n)
{
    sigil_buf sealed;
    sigil_json d;
    sigil_buf_init(&sealed, sealed_mem, sizeof(sealed_mem));
    if (gw_parse_import_body(&sealed, &d, toks, GW_JSON_TOKS, p, n) != 0)
        return;
    if (sealed.len == 0 || sealed.len > sizeof(sealed_mem))
        __builtin_trap();
}

static void revoke_body(const char *p, size_t n)
{
    uint8_t sig[64];
    char hex[129];
    sigil_json d;
    if (gw_parse_revoke_body(sig, &d, toks, GW_JSON_TOKS, p, n) != 0)
        return;
    uint32_t t = sigil_json_get(&d, 0, "signature");
    sigil_slice raw = sigil_json_raw(&d, t);
    sigil_hex_encode(hex, sig, sizeof(sig));
    if (t == 0 || raw.len != 128 || strncasecmp(raw.p, hex, 128) != 0)
        __builtin_trap();
}

static void headers(const char *p, size_t n)
{
    sigil_token t;
    uint8_t nonce[GW_NONCE_MAX], boot[SIGIL_BOOT_ID_LEN];
    size_t nn;
    (void)gw_check_idem_key(p, n);
    (void)gw_check_content_type(p, n);
    (void)gw_parse_boot_id(boot, p, n);
    if (gw_parse_nonce(nonce, &nn, p, n) == 0 && (nn == 0 || nn > GW_NONCE_MAX))
        __builtin_trap();
    if (sigil_token_from_header(&t, p, n) == 0 && strlen(t.id) != SIGIL_TOKEN_ID_HEX)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] % 8 == 4) {
        revoke_body(p, n);
        return 0;
    }
    switch (data[0] % 4) {
    case 0:
        sign_body(p, n);
        break;
    case 1:
        import_body(p, n);
        break;
    case 3:
        policy_body(p, n);
        break;
    default:
        headers(p, n);
        break;
    }
    return 0;
}
