/*
 * Request bodies and headers of the gateway API, read strictly. Untrusted
 * host code parsing client bytes: every failure is a typed error naming
 * the field; nothing allocates. The sign request's text is passed on as the
 * exact slice the client sent, never re-serialised.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"

static int parse_object(sigil_json *doc, sigil_json_tok *toks, uint32_t cap, const char *text,
                        size_t len)
{
    ENSURE(len > 0, SIGIL_E_BAD_JSON, "body: empty (expected a JSON object)");
    GUARD(sigil_json_parse(doc, text, len, toks, cap));
    return sigil_json_expect(doc, 0, SIGIL_JSON_OBJECT, "body", NULL);
}

/* A hex member of exactly n bytes. */
static int hex_member(uint8_t *out, size_t n, const sigil_json *doc, uint32_t obj, const char *key,
                      const char *what)
{
    uint32_t t;
    GUARD(sigil_json_get_str(doc, obj, key, true, &t, what));
    sigil_slice s = sigil_json_raw(doc, t);
    ENSURE(sigil_json_str_is_plain(doc, t), SIGIL_E_BAD_FIELD, "%s.%s: expected hex", what, key);
    char field[64];
    (void)snprintf(field, sizeof(field), "%s.%s", what, key);
    return sigil_hex_decode_exact(out, n, s.p, s.len, false, field);
}

/* {"timestamp": ms, "nonce": "…", "signature": "<128 hex>"} */
static int parse_client(gw_sign_body *out, const sigil_json *doc, uint32_t obj)
{
    static const sigil_json_field FIELDS[] = {
        {"timestamp", true}, {"nonce", true}, {"signature", true}};
    uint32_t t;
    GUARD(sigil_json_expect(doc, obj, SIGIL_JSON_OBJECT, "body", "client"));
    GUARD(sigil_json_check_fields(doc, obj, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "body.client"));
    GUARD(sigil_json_get_u64(doc, obj, "timestamp", true, &out->client_ts, NULL, "body.client"));
    GUARD(sigil_json_get_str(doc, obj, "nonce", true, &t, "body.client"));
    ENSURE(sigil_json_str_is_plain(doc, t), SIGIL_E_BAD_FIELD,
           "body.client.nonce: 16..64 of A-Z a-z 0-9 _ -");
    out->client_nonce = sigil_json_raw(doc, t);
    GUARD(hex_member(out->client_sig, 64, doc, obj, "signature", "body.client"));
    out->has_client = true;
    return 0;
}

int gw_parse_sign_body(gw_sign_body *out, sigil_json *doc, sigil_json_tok *toks, uint32_t cap,
                       const char *text, size_t len)
{
    static const sigil_json_field FIELDS[] = {
        {"key_id", true}, {"request", true}, {"client", false}};
    uint32_t kid;
    memset(out, 0, sizeof(*out));
    GUARD(parse_object(doc, toks, cap, text, len));
    GUARD(sigil_json_check_fields(doc, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "body"));
    GUARD(sigil_json_get_str(doc, 0, "key_id", true, &kid, "body"));
    sigil_slice id = sigil_json_raw(doc, kid);
    ENSURE(sigil_json_str_is_plain(doc, kid), SIGIL_E_BAD_FIELD,
           "body.key_id: may hold only A-Z, a-z, 0-9, '_' and '-'");
    GUARD(sigil_key_id_check(id.p, id.len));
    memcpy(out->key_id, id.p, id.len);
    uint32_t req = sigil_json_get(doc, 0, "request");
    GUARD(sigil_json_expect(doc, req, SIGIL_JSON_OBJECT, "body", "request"));
    out->request = sigil_json_raw(doc, req);
    uint32_t client = sigil_json_get(doc, 0, "client");
    if (client != 0 && sigil_json_type_of(doc, client) != SIGIL_JSON_NULL)
        GUARD(parse_client(out, doc, client));
    return 0;
}

int gw_parse_policy_body(gw_policy_body *out, sigil_json *doc, sigil_json_tok *toks, uint32_t cap,
                         const char *text, size_t len)
{
    static const sigil_json_field FIELDS[] = {{"policy", true}, {"policy_signature", true}};
    memset(out, 0, sizeof(*out));
    GUARD(parse_object(doc, toks, cap, text, len));
    GUARD(sigil_json_check_fields(doc, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "body"));
    uint32_t pol = sigil_json_get(doc, 0, "policy");
    GUARD(sigil_json_expect(doc, pol, SIGIL_JSON_OBJECT, "body", "policy"));
    out->policy = sigil_json_raw(doc, pol);
    return hex_member(out->signature, 64, doc, 0, "policy_signature", "body");
}

int gw_parse_revoke_body(uint8_t signature[64], sigil_json *doc, sigil_json_tok *toks, uint32_t cap,
                         const char *text, size_t len)
{
    static const sigil_json_field FIELDS[] = {{"signature", true}};
    GUARD(parse_object(doc, toks, cap, text, len));
    GUARD(sigil_json_check_fields(doc, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "body"));
    return hex_member(signature, 64, doc, 0, "signature", "body");
}

int gw_parse_import_body(sigil_buf *sealed, sigil_json *doc, sigil_json_tok *toks, uint32_t cap,
                         const char *text, size_t len)
{
    static const sigil_json_field FIELDS[] = {{"sealed", true}};
    uint32_t t;
    size_t n = 0;
    sealed->len = 0;
    GUARD(parse_object(doc, toks, cap, text, len));
    GUARD(sigil_json_check_fields(doc, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "body"));
    GUARD(sigil_json_get_str(doc, 0, "sealed", true, &t, "body"));
    sigil_slice s = sigil_json_raw(doc, t);
    ENSURE(sigil_json_str_is_plain(doc, t), SIGIL_E_BAD_ENCODING,
           "body.sealed: not base64 (escape sequences are not allowed)");
    ENSURE(s.len > 0, SIGIL_E_BAD_FIELD, "body.sealed: empty");
    ENSURE(s.len / 4 * 3 <= sealed->cap, SIGIL_E_TOO_LARGE, "body.sealed: larger than %zu bytes",
           sealed->cap);
    GUARD(
        sigil_b64_decode(sealed->data, sealed->cap, &n, s.p, s.len, SIGIL_B64_STD, "body.sealed"));
    sealed->len = n;
    return 0;
}

int gw_check_idem_key(const char *v, size_t len)
{
    ENSURE(len >= 1 && len <= SIGIL_IDEM_KEY_MAX, SIGIL_E_BAD_REQUEST,
           "Idempotency-Key: must be 1..%d characters", SIGIL_IDEM_KEY_MAX);
    for (size_t i = 0; i < len; i++)
        ENSURE(v[i] >= 0x21 && v[i] <= 0x7e, SIGIL_E_BAD_REQUEST,
               "Idempotency-Key: only visible ASCII characters are allowed");
    return 0;
}

static bool ieq(const char *a, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

int gw_check_content_type(const char *v, size_t len)
{
    static const char JSON[] = "application/json";
    static const char CHARSET[] = "; charset=utf-8";
    const size_t j = sizeof(JSON) - 1, c = sizeof(CHARSET) - 1;
    if (v == NULL)
        return 0;
    ENSURE((len == j && ieq(v, JSON, j)) ||
               (len == j + c && ieq(v, JSON, j) && ieq(v + j, CHARSET, c)),
           SIGIL_E_BAD_REQUEST, "Content-Type: must be application/json");
    return 0;
}

int gw_parse_nonce(uint8_t out[static GW_NONCE_MAX], size_t *n, const char *hex, size_t len)
{
    ENSURE(hex != NULL && len > 0, SIGIL_E_MISSING_FIELD, "nonce: required query parameter");
    ENSURE(len % 2 == 0 && len <= 2 * (size_t)GW_NONCE_MAX, SIGIL_E_BAD_FIELD,
           "nonce: must be 1..%d bytes of hex", GW_NONCE_MAX);
    return sigil_hex_decode(out, GW_NONCE_MAX, n, hex, len, false, "nonce");
}

int gw_parse_boot_id(uint8_t out[static SIGIL_BOOT_ID_LEN], const char *hex, size_t len)
{
    ENSURE(len == 2 * (size_t)SIGIL_BOOT_ID_LEN, SIGIL_E_BAD_FIELD,
           "boot_id: must be %d hex digits", 2 * SIGIL_BOOT_ID_LEN);
    return sigil_hex_decode_exact(out, SIGIL_BOOT_ID_LEN, hex, len, false, "boot_id");
}

int gw_key_param(gw_req *rq)
{
    GUARD(sigil_key_id_check(rq->param.p, rq->param.len));
    memcpy(rq->key_id, rq->param.p, rq->param.len);
    rq->key_id[rq->param.len] = '\0';
    return 0;
}
