/*
 * The provisioning payload (trusted; docs/PROVISIONING.md): strict parsing
 * of the JSON opened from a sealed box or an at-rest blob, the owner-signed
 * policy inside it and the credentials it carries.
 */
#include <stdio.h>
#include <string.h>

#include "enclave/enclave.h"
#include "sigil/venues.h"

static const sigil_json_field PAYLOAD_FIELDS[] = {
    {"v", true},
    {"tenant", true},
    {"key_id", true},
    {"venue", true},
    {"network", true},
    {"key_type", true},
    {"credentials", false},
    {"generate", false},
    {"owner_pubkey", true},
    {"client_pubkey", false},
    {"policy", true},
    {"policy_signature", true},
};

/* key_type names as in the payload, by credential type. */
static const struct {
    const char *name;
    sigil_key_type type;
} KEY_TYPES[] = {
    {"hmac", SIGIL_KEY_HMAC},
    {"ed25519", SIGIL_KEY_ED25519},
    {"rsa", SIGIL_KEY_RSA},
    {"secp256k1", SIGIL_KEY_SECP256K1},
};

static int key_type_name(const char **out, sigil_key_type t)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KEY_TYPES); i++) {
        if (KEY_TYPES[i].type == t) {
            *out = KEY_TYPES[i].name;
            return 0;
        }
    }
    BAIL(SIGIL_E_INTERNAL, "import: unnamed key type");
}

/* A short plain string member copied NUL-terminated. */
static int get_plain(const sigil_json *d, uint32_t obj, const char *key, char *out, size_t cap)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, obj, key, true, &t, "payload"));
    sigil_slice s = sigil_json_raw(d, t);
    ENSURE(sigil_json_str_is_plain(d, t) && s.len > 0 && s.len < cap, SIGIL_E_BAD_FIELD,
           "payload.%s: must be 1..%zu plain characters", key, cap - 1);
    memcpy(out, s.p, s.len);
    out[s.len] = '\0';
    return 0;
}

static int get_hex(const sigil_json *d, uint32_t obj, const char *key, uint8_t *out, size_t n,
                   bool required, bool *present)
{
    uint32_t t;
    char what[40];
    GUARD(sigil_json_get_str(d, obj, key, required, &t, "payload"));
    if (present != NULL)
        *present = t != 0;
    if (t == 0)
        return 0;
    sigil_slice s = sigil_json_raw(d, t);
    snprintf(what, sizeof(what), "payload.%s", key);
    return sigil_hex_decode_exact(out, n, s.p, s.len, false, what);
}

/* Parsed policies, by hash, per thread: a key's policy is parsed (JSON,
 * canonical form, hash: ~15 µs) once, not on every request. Policies are
 * not secret. */
#define POLICY_CACHE 8u
static _Thread_local sigil_policy tl_policies[POLICY_CACHE];
static _Thread_local bool tl_valid[POLICY_CACHE];
static _Thread_local unsigned tl_next;
static const sigil_policy NO_POLICY;

static int policy_get(const sigil_policy **out, const char *json, size_t len,
                      const uint8_t *header_hash)
{
    for (unsigned i = 0; header_hash != NULL && i < POLICY_CACHE; i++) {
        if (tl_valid[i] && memcmp(tl_policies[i].hash, header_hash, 32) == 0) {
            *out = &tl_policies[i];
            return 0;
        }
    }
    unsigned i = tl_next++ % POLICY_CACHE;
    tl_valid[i] = false;
    GUARD(sigil_policy_parse(&tl_policies[i], json, len));
    /* Cannot differ for a blob this enclave sealed (the AAD binds it). */
    ENSURE(header_hash == NULL || memcmp(tl_policies[i].hash, header_hash, 32) == 0,
           SIGIL_E_FORBIDDEN, "key: the blob's policy does not match its header");
    tl_valid[i] = true;
    *out = &tl_policies[i];
    return 0;
}

/* Exactly one of "credentials" (an object) and "generate" (true): a key
 * the client brings or one the enclave makes. */
static int payload_secret_source(enclave_payload *p)
{
    uint32_t gen = sigil_json_get(&p->doc, 0, "generate");
    uint32_t cred = sigil_json_get(&p->doc, 0, "credentials");
    p->generate = gen != 0 && sigil_json_type_of(&p->doc, gen) != SIGIL_JSON_NULL;
    if (!p->generate) {
        /* (token 0 is the root: an absent member must not reach expect) */
        ENSURE(cred != 0, SIGIL_E_MISSING_FIELD,
               "payload.credentials: required (or \"generate\": true for a key the enclave "
               "makes)");
        return sigil_json_expect(&p->doc, cred, SIGIL_JSON_OBJECT, "payload", "credentials");
    }
    ENSURE(sigil_json_type_of(&p->doc, gen) == SIGIL_JSON_TRUE, SIGIL_E_BAD_FIELD,
           "payload.generate: must be true (or absent)");
    ENSURE(cred == 0, SIGIL_E_BAD_FIELD,
           "payload: credentials and generate are exclusive (generate asks the enclave to make "
           "the key)");
    return 0;
}

int enclave_payload_parse(enclave_payload *p, const char *text, size_t len, sigil_json_tok *toks)
{
    uint64_t v;
    p->policy = &NO_POLICY;
    GUARD(sigil_json_parse(&p->doc, text, len, toks, ENCLAVE_PAYLOAD_TOKENS));
    ENSURE(sigil_json_type_of(&p->doc, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "payload: must be a JSON object");
    GUARD(sigil_json_check_fields(&p->doc, 0, PAYLOAD_FIELDS, SIGIL_ARRAY_LEN(PAYLOAD_FIELDS),
                                  "payload"));
    GUARD(sigil_json_get_u64(&p->doc, 0, "v", true, &v, NULL, "payload"));
    ENSURE(v == 1, SIGIL_E_BAD_FIELD, "payload.v: version %llu is not supported (expected 1)",
           (unsigned long long)v);
    GUARD(get_plain(&p->doc, 0, "tenant", p->tenant, sizeof(p->tenant)));
    GUARD(get_plain(&p->doc, 0, "key_id", p->key_id, sizeof(p->key_id)));
    GUARD(sigil_key_id_valid(p->key_id, strlen(p->key_id)));
    GUARD(get_plain(&p->doc, 0, "venue", p->venue, sizeof(p->venue)));
    GUARD(get_plain(&p->doc, 0, "network", p->network, sizeof(p->network)));
    GUARD(get_plain(&p->doc, 0, "key_type", p->key_type, sizeof(p->key_type)));
    GUARD(get_hex(&p->doc, 0, "owner_pubkey", p->owner_pk, 32, true, NULL));
    GUARD(get_hex(&p->doc, 0, "client_pubkey", p->client_pk, 32, false, &p->has_client_pk));
    GUARD(get_hex(&p->doc, 0, "policy_signature", p->policy_sig, 64, true, NULL));
    GUARD(payload_secret_source(p));
    return sigil_json_expect(&p->doc, sigil_json_get(&p->doc, 0, "policy"), SIGIL_JSON_OBJECT,
                             "payload", "policy");
}

/* The owner-signed policy must be for exactly this tenant, venue and network. */
int enclave_payload_policy(enclave_payload *p, sigil_network net, bool at_import,
                           const uint8_t *header_hash)
{
    sigil_slice pol = sigil_json_raw(&p->doc, sigil_json_get(&p->doc, 0, "policy"));
    GUARD(policy_get(&p->policy, pol.p, pol.len, header_hash));
    /* At sign time the blob's AEAD already vouches for what import verified. */
    if (at_import)
        GUARD(
            sigil_policy_verify(p->policy, pol.p, pol.len, p->key_id, p->policy_sig, p->owner_pk));
    ENSURE(strcmp(p->policy->tenant, p->tenant) == 0, SIGIL_E_FORBIDDEN,
           "import: the policy is for another tenant");
    ENSURE(strcmp(p->policy->venue, p->venue) == 0, SIGIL_E_BAD_REQUEST,
           "import: the policy is for venue %s, the key for %s", p->policy->venue, p->venue);
    ENSURE(p->policy->network == net, SIGIL_E_BAD_REQUEST,
           "import: the policy is for another network than the key");
    ENSURE(!at_import || p->policy->not_after > enclave_now_ms() / 1000u, SIGIL_E_BAD_REQUEST,
           "import: the policy expired (not_after %llu)", (unsigned long long)p->policy->not_after);
    return 0;
}

/* Credentials valid for the venue, of the declared key type; the address
 * of a wallet key. */
int enclave_payload_credentials(const enclave_payload *p, const sigil_venue *v,
                                char address[static SIGIL_VENUE_ADDRESS_MAX + 1])
{
    sigil_credentials cred;
    const char *type_name = NULL;
    sigil_slice cs = sigil_json_raw(&p->doc, sigil_json_get(&p->doc, 0, "credentials"));
    GUARD(sigil_credentials_parse(&cred, v, cs.p, cs.len));
    int rc = key_type_name(&type_name, cred.type);
    if (rc == 0 && strcmp(type_name, p->key_type) != 0)
        rc = sigil_fail(SIGIL_E_BAD_REQUEST, "payload.key_type: %s does not match the credentials",
                        p->key_type);
    if (rc == 0)
        rc = sigil_venue_address(address, v, &cred);
    sigil_credentials_free(&cred);
    return rc;
}
