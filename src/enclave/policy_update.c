/*
 * `policy` (trusted): replaces a key's policy with a newer one signed by
 * the same owner key (docs/POLICY.md "Versions, updates"). The blob is
 * opened into locked memory, the payload rebuilt with the new policy and
 * signature, and sealed again: the blob's AAD binds the new policy hash.
 * The enclave records the new version as the key's highest, so the old blob
 * is refused from then on within this boot. A revoked key takes no update.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"

/* Payload members in their order (docs/PROVISIONING.md); the two policy
 * members are replaced, the others copied as they are. */
static const char *const MEMBERS[] = {
    "v",           "tenant",       "key_id",        "venue",  "network",         "key_type",
    "credentials", "owner_pubkey", "client_pubkey", "policy", "policy_signature"};

static int put_member(sigil_buf *b, const sigil_json *d, const char *name, bool first,
                      const char *policy, size_t policy_len, const char *sig_hex)
{
    uint32_t t = sigil_json_get(d, 0, name);
    if (t == 0 && strcmp(name, "client_pubkey") == 0)
        return 0;
    GUARD(sigil_buf_put(b, first ? "{\"" : ",\"", 2));
    GUARD(sigil_buf_put(b, name, strlen(name)));
    GUARD(sigil_buf_put(b, "\":", 2));
    if (strcmp(name, "policy") == 0)
        return sigil_buf_put(b, policy, policy_len);
    if (strcmp(name, "policy_signature") == 0) {
        GUARD(sigil_buf_put(b, "\"", 1));
        GUARD(sigil_buf_put(b, sig_hex, 128));
        return sigil_buf_put(b, "\"", 1);
    }
    sigil_slice raw = sigil_json_raw(d, t);
    bool quoted = sigil_json_type_of(d, t) == SIGIL_JSON_STRING;
    if (quoted)
        GUARD(sigil_buf_put(b, "\"", 1));
    GUARD(sigil_buf_put(b, raw.p, raw.len));
    return quoted ? sigil_buf_put(b, "\"", 1) : 0;
}

static int rebuild(sigil_secret *out, const enclave_payload *p, const enclave_policy_args *a)
{
    sigil_buf b;
    char sig_hex[129];
    sigil_hex_encode(sig_hex, a->policy_sig, 64);
    GUARD(sigil_secret_alloc(out, p->doc.len + a->policy_len + 256));
    sigil_buf_init(&b, out->p, out->cap);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MEMBERS); i++)
        GUARD(put_member(&b, &p->doc, MEMBERS[i], i == 0, a->policy, a->policy_len, sig_hex));
    GUARD(sigil_buf_put(&b, "}", 1));
    out->len = b.len;
    return 0;
}

/* The new policy: signed by the key's owner for this key, same tenant,
 * venue and network, a higher version, not expired. */
static int check_new(enclave_state *st, const enclave_payload *old, sigil_policy *np,
                     const enclave_policy_args *a)
{
    GUARD(sigil_limits_check_revoked(st->limits, old->tenant, old->key_id));
    ENSURE(a->policy_sig_len == 64, SIGIL_E_BAD_FIELD, "policy_signature: must be 64 bytes");
    GUARD(sigil_policy_parse(np, a->policy, a->policy_len));
    GUARD(sigil_policy_verify(np, a->policy, a->policy_len, old->key_id, a->policy_sig,
                              old->owner_pk));
    ENSURE(strcmp(np->tenant, old->policy->tenant) == 0 &&
               strcmp(np->venue, old->policy->venue) == 0 && np->network == old->policy->network,
           SIGIL_E_BAD_REQUEST, "policy: an update keeps the key's tenant, venue and network");
    ENSURE(np->version > old->policy->version, SIGIL_E_POLICY_DENIED,
           "policy: version %" PRIu64 " is not above the key's version %" PRIu64, np->version,
           old->policy->version);
    ENSURE(np->not_after > enclave_now_ms() / 1000u, SIGIL_E_BAD_REQUEST,
           "policy: expired (not_after %" PRIu64 ")", np->not_after);
    return sigil_limits_version(st->limits, old->tenant, old->key_id, np->version);
}

static int update(enclave_state *st, enclave_payload *p, enclave_policy_result *res,
                  sigil_buf *blob, const enclave_policy_args *a)
{
    static _Thread_local sigil_policy np;
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload q;
    SIGIL_SECRET(plain);
    GUARD(check_new(st, p, &np, a));
    GUARD(rebuild(&plain, p, a));
    /* The rebuilt payload must read back exactly as a provisioned one. */
    GUARD(enclave_payload_parse(&q, (const char *)plain.p, plain.len, toks));
    enclave_blob_meta m = {
        .tenant = p->tenant, .key_id = p->key_id, .venue = p->venue, .network = p->network};
    memcpy(m.policy_hash, np.hash, 32);
    memcpy(res->policy_hash, np.hash, 32);
    res->version = np.version;
    int rc = enclave_blob_seal(st, blob, &m, plain.p, plain.len);
    sodium_memzero(&q, sizeof(q));
    sodium_memzero(toks, sizeof(toks));
    return rc;
}

int enclave_policy_update(enclave_state *st, enclave_policy_result *res, sigil_buf *blob,
                          sigil_buf *receipt, const enclave_policy_args *a)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    static _Thread_local sigil_receipt r;
    SIGIL_SECRET(plain);
    memset(&r, 0, sizeof(r));
    memset(res, 0, sizeof(*res));
    receipt->len = 0;
    GUARD(enclave_open_key(st, &a->key, &plain, &p, &r, toks));
    (void)snprintf(r.action, sizeof(r.action), "policy_update");
    sigil_sha256(r.request_hash, a->policy, a->policy_len);
    int rc = update(st, &p, res, blob, a);
    if (rc == 0)
        memcpy(r.policy_hash, res->policy_hash, 32);
    rc = enclave_decision_receipt(st, receipt, &r, rc, blob->data, blob->len);
    sodium_memzero(&p, sizeof(p));
    sodium_memzero(toks, sizeof(toks));
    return rc;
}
