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

static int rebuild(sigil_secret *out, const enclave_payload *p, const enclave_policy_args *a)
{
    char sig_json[131];
    sig_json[0] = '"';
    sigil_hex_encode(sig_json + 1, a->policy_sig, 64);
    sig_json[129] = '"';
    const enclave_member over[] = {{"policy", a->policy, a->policy_len},
                                   {"policy_signature", sig_json, 130}};
    return enclave_payload_rebuild(out, p, over, SIGIL_ARRAY_LEN(over));
}

/* The new policy: signed by the key's owner for this key, same tenant,
 * venue and network, a higher version, not expired. */
static int check_new(enclave_state *st, const enclave_payload *old, sigil_policy *np,
                     const enclave_policy_args *a)
{
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

typedef struct {
    enclave_policy_result *res;
    const enclave_policy_args *a;
} policy_ctx;

static int policy_change(enclave_state *st, enclave_payload *p, const sigil_secret *plain,
                         sigil_buf *blob, uint8_t policy_hash[32], void *ctx)
{
    const policy_ctx *c = ctx;
    (void)plain; /* the payload is rebuilt from p */
    GUARD(update(st, p, c->res, blob, c->a));
    memcpy(policy_hash, c->res->policy_hash, 32);
    return 0;
}

int enclave_policy_update(enclave_state *st, enclave_policy_result *res, sigil_buf *blob,
                          sigil_buf *receipt, const enclave_policy_args *a)
{
    memset(res, 0, sizeof(*res));
    policy_ctx c = {res, a};
    enclave_key_change_args ka = {.key = &a->key,
                                  .action = "policy_update",
                                  .request = a->policy,
                                  .request_len = a->policy_len,
                                  .change = policy_change,
                                  .ctx = &c};
    return enclave_key_change(st, blob, receipt, &ka);
}
