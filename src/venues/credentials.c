/*
 * Credentials parsing (trusted). The document and every secret decoded from
 * it stay in locked memory; error messages name fields, never values.
 */
#include <string.h>

#include "common/ct.h"
#include "venues/venues_internal.h"

#define CRED_MAX_TOKENS 32

static const struct {
    const char *name;
    sigil_key_type type;
} KEY_TYPES[] = {
    {"hmac", SIGIL_KEY_HMAC},
    {"ed25519", SIGIL_KEY_ED25519},
    {"rsa", SIGIL_KEY_RSA},
};

/* The one branch on a header value's bytes: whether it passed, which the
 * caller learns from the result. Kept out of line: tests/ctime/ctime.supp
 * names it as a declassification point. */
static __attribute__((noinline)) int header_verdict(uint32_t bad_byte, uint32_t bad_edge,
                                                    bool inner_space, const char *field)
{
    ENSURE(bad_byte == 0, SIGIL_E_BAD_CREDENTIALS, "credentials.%s: must be printable ASCII%s",
           field, inner_space ? "" : " without spaces");
    ENSURE(bad_edge == 0, SIGIL_E_BAD_CREDENTIALS,
           "credentials.%s: must not start or end with a space", field);
    return 0;
}

/* Values that go into HTTP headers: printable ASCII. Inner spaces are kept
 * where allowed (passphrases); leading or trailing ones would be trimmed by
 * HTTP and so change the value. A passphrase is a secret: every byte is
 * checked without a branch or an early exit. */
static int check_header_safe(const uint8_t *p, size_t n, bool inner_space, const char *field)
{
    ENSURE(n > 0, SIGIL_E_BAD_CREDENTIALS, "credentials.%s: must not be empty", field);
    uint32_t space_ok = inner_space ? 1u : 0u, bad_byte = 0;
    for (size_t i = 0; i < n; i++)
        bad_byte |= 1u ^ (sigil_ct_in_range(p[i], 0x21, 0x7e) |
                          (space_ok & sigil_ct_in_range(p[i], ' ', ' ')));
    uint32_t bad_edge = sigil_ct_in_range(p[0], ' ', ' ') | sigil_ct_in_range(p[n - 1], ' ', ' ');
    return header_verdict(bad_byte, bad_edge, inner_space, field);
}

/* Like sigil_json_check_fields, but an unknown member is not quoted: a
 * mistyped credentials file can carry a secret where a key name belongs. */
static int check_cred_fields(const sigil_json *d, const sigil_json_field *fields, size_t n,
                             const char *allowed)
{
    if (sigil_json_check_fields(d, 0, fields, n, "credentials") == 0)
        return 0;
    if (sigil_errno() == SIGIL_E_UNKNOWN_FIELD)
        BAIL(SIGIL_E_UNKNOWN_FIELD, "credentials: unknown field (allowed: %s)", allowed);
    return -1;
}

static int decode_secret_str(sigil_secret *dst, const sigil_json *d, uint32_t t, const char *field)
{
    sigil_slice raw = sigil_json_raw(d, t);
    sigil_buf b;
    GUARD(sigil_secret_alloc(dst, raw.len));
    sigil_buf_init(&b, dst->p, dst->cap);
    GUARD(sigil_json_str(d, t, &b));
    dst->len = b.len;
    ENSURE(b.len > 0, SIGIL_E_BAD_CREDENTIALS, "credentials.%s: must not be empty", field);
    return 0;
}

/* Venues that show the secret as base64 (Kraken) key the HMAC with the decoded
 * bytes. Decoded once here, into locked memory; the message never quotes it. */
static int decode_secret_base64(sigil_secret *dst, const sigil_secret *text)
{
    size_t n = 0;
    GUARD(sigil_secret_alloc(dst, text->len));
    if (sigil_b64_decode(dst->p, dst->cap, &n, (const char *)text->p, text->len, SIGIL_B64_STD,
                         "credentials.secret") != 0)
        BAIL(SIGIL_E_BAD_CREDENTIALS, "credentials.secret: not valid base64 (padded, standard "
                                      "alphabet), as the venue shows the secret");
    ENSURE(n > 0, SIGIL_E_BAD_CREDENTIALS, "credentials.secret: decodes to no bytes");
    dst->len = n;
    return 0;
}

static int parse_key_type(sigil_key_type *out, const sigil_json *d, uint32_t obj,
                          const sigil_venue *v)
{
    uint32_t t;
    *out = SIGIL_KEY_HMAC;
    GUARD(sigil_json_get_str(d, obj, "key_type", false, &t, "credentials"));
    if (t != 0) {
        size_t i = 0;
        while (i < SIGIL_ARRAY_LEN(KEY_TYPES) && !sigil_json_str_eq(d, t, KEY_TYPES[i].name))
            i++;
        ENSURE(i < SIGIL_ARRAY_LEN(KEY_TYPES), SIGIL_E_UNKNOWN_KEY_TYPE,
               "credentials.key_type: expected hmac, ed25519 or rsa");
        *out = KEY_TYPES[i].type;
    }
    ENSURE(v->key_types & *out, SIGIL_E_UNKNOWN_KEY_TYPE,
           "credentials.key_type: not supported by venue %s", v->name);
    return 0;
}

static int parse_cex(sigil_credentials *c, const sigil_venue *v, const sigil_json *d)
{
    static const sigil_json_field FIELDS[] = {
        {"api_key", true}, {"secret", true}, {"passphrase", false}, {"key_type", false}};
    uint32_t t;
    GUARD(check_cred_fields(d, FIELDS, SIGIL_ARRAY_LEN(FIELDS),
                            "api_key, secret, passphrase, key_type"));
    GUARD(parse_key_type(&c->type, d, 0, v));

    GUARD(sigil_json_get_str(d, 0, "api_key", true, &t, "credentials"));
    sigil_buf kb;
    sigil_buf_init(&kb, c->api_key, SIGIL_API_KEY_MAX);
    if (sigil_json_str(d, t, &kb) != 0)
        BAIL(SIGIL_E_BAD_CREDENTIALS, "credentials.api_key: longer than %d bytes",
             SIGIL_API_KEY_MAX);
    c->api_key_len = kb.len;
    c->api_key[kb.len] = '\0';
    GUARD(check_header_safe((const uint8_t *)c->api_key, kb.len, false, "api_key"));

    GUARD(sigil_json_get_str(d, 0, "secret", true, &t, "credentials"));
    ENSURE(sigil_json_raw(d, t).len <= SIGIL_SECRET_MAX, SIGIL_E_BAD_CREDENTIALS,
           "credentials.secret: longer than %d bytes", SIGIL_SECRET_MAX);
    SIGIL_SECRET(raw);
    GUARD(decode_secret_str(&raw, d, t, "secret"));
    switch (c->type) {
    case SIGIL_KEY_HMAC:
        if (v->secret_base64) {
            GUARD(decode_secret_base64(&c->secret, &raw));
        } else {
            c->secret = raw;
            raw = (sigil_secret){0};
        }
        GUARD(sigil_hmac_sha256_key(&c->hmac_state, c->secret.p, c->secret.len));
        if (v->hmac_sha512)
            GUARD(sigil_hmac_sha512_key(&c->hmac512_state, c->secret.p, c->secret.len));
        break;
    case SIGIL_KEY_ED25519: {
        SIGIL_SECRET(seed);
        GUARD(sigil_secret_alloc(&seed, 32));
        GUARD(sigil_ed25519_seed_from_pem(seed.p, (const char *)raw.p, raw.len));
        GUARD(sigil_secret_alloc(&c->secret, 64));
        GUARD(sigil_ed25519_expand(c->secret.p, seed.p));
        c->secret.len = 64;
        break;
    }
    case SIGIL_KEY_RSA:
        GUARD(sigil_rsa_key_from_pem(&c->rsa, (const char *)raw.p, raw.len));
        break;
    default:
        BAIL(SIGIL_E_INTERNAL, "unexpected key type");
    }

    GUARD(sigil_json_get_str(d, 0, "passphrase", v->needs_passphrase, &t, "credentials"));
    /* A venue without passphrases would never send it: refuse rather than
     * hold a secret that serves nothing. */
    ENSURE(t == 0 || v->needs_passphrase, SIGIL_E_UNKNOWN_FIELD,
           "credentials.passphrase: %s keys have no passphrase; remove it", v->name);
    if (t != 0) {
        GUARD(decode_secret_str(&c->passphrase, d, t, "passphrase"));
        GUARD(check_header_safe(c->passphrase.p, c->passphrase.len, true, "passphrase"));
        c->has_passphrase = true;
    }
    return 0;
}

static int parse_wallet(sigil_credentials *c, const sigil_venue *v, const sigil_json *d)
{
    static const sigil_json_field FIELDS[] = {{"private_key", true}};
    uint32_t t;
    GUARD(check_cred_fields(d, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "private_key"));
    GUARD(sigil_json_get_str(d, 0, "private_key", true, &t, "credentials"));
    ENSURE(sigil_json_str_is_plain(d, t), SIGIL_E_BAD_CREDENTIALS,
           "credentials.private_key: expected 0x followed by 64 hex digits");
    sigil_slice s = sigil_json_raw(d, t);
    ENSURE(s.len == 66 && s.p[0] == '0' && s.p[1] == 'x', SIGIL_E_BAD_CREDENTIALS,
           "credentials.private_key: expected 0x followed by 64 hex digits");
    c->type = SIGIL_KEY_SECP256K1;
    GUARD(sigil_secret_alloc(&c->secret, 32));
    if (sigil_hex_decode_exact(c->secret.p, 32, s.p + 2, 64, false, "credentials.private_key"))
        BAIL(SIGIL_E_BAD_CREDENTIALS, "credentials.private_key: not hexadecimal");
    c->secret.len = 32;
    /* Deriving the address is a point multiplication, as dear as the
     * signature itself: only for venues whose signer needs it. */
    if (!v->needs_address)
        return sigil_secp256k1_check_key(c->secret.p);
    GUARD(sigil_secp256k1_address(c->address, c->secret.p));
    c->has_address = true;
    return 0;
}

int sigil_credentials_parse(sigil_credentials *c, const sigil_venue *v, const char *json,
                            size_t len)
{
    sigil_json_tok toks[CRED_MAX_TOKENS];
    sigil_json d;
    memset(c, 0, sizeof(*c));
    if (sigil_json_parse(&d, json, len, toks, CRED_MAX_TOKENS) != 0) {
        /* The parser's message may quote a key; in a credentials file a
         * malformed document could put secret text there, so say only what
         * kind of error it was. */
        sigil_err e = sigil_errno();
        if (e == SIGIL_E_DUPLICATE_KEY)
            BAIL(e, "credentials: a key appears twice");
        BAIL(SIGIL_E_BAD_CREDENTIALS, "credentials: not a strict JSON object (%s)",
             sigil_err_code(e));
    }
    GUARD_GOTO(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "credentials", NULL), fail);
    GUARD_GOTO(v->kind == SIGIL_VENUE_WALLET ? parse_wallet(c, v, &d) : parse_cex(c, v, &d), fail);
    return 0;
fail:
    sigil_credentials_free(c);
    return -1;
}

void sigil_credentials_free(sigil_credentials *c)
{
    sigil_secret_free(&c->secret);
    sigil_secret_free(&c->passphrase);
    sigil_secret_free(&c->hmac_state);
    sigil_secret_free(&c->hmac512_state);
    sigil_rsa_key_free(c->rsa);
    c->rsa = NULL;
    sigil_wipe(c->address, sizeof(c->address));
}
