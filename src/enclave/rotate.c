/*
 * `rotate` (trusted): replaces the credentials of an existing key
 * (docs/PROVISIONING.md "Rotating credentials"). The new sealed payload must
 * be for the same tenant, key id, venue, network and owner key as the
 * key's current blob, with a policy version above the blob's: the version is
 * recorded as the key's highest, so neither the old blob nor an older
 * rotation payload is accepted again (within this boot; the gateway's
 * compare-and-swap keeps the old blob out of its store).
 */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "enclave/enclave.h"

typedef struct {
    enclave_import_result *res;
    const enclave_rotate_args *a;
} rotate_ctx;

/* The cheap checks first: the payload is for this key, as it is. */
static int same_key(const enclave_payload *p, const enclave_payload *old,
                    const enclave_rotate_args *a)
{
    ENSURE(strlen(p->tenant) == a->key.tenant_len &&
               memcmp(p->tenant, a->key.tenant, a->key.tenant_len) == 0,
           SIGIL_E_FORBIDDEN, "rotate: the payload was sealed for another tenant");
    ENSURE(strcmp(p->key_id, old->key_id) == 0, SIGIL_E_FORBIDDEN,
           "rotate: the payload is for key %s, not this key", p->key_id);
    ENSURE(strcmp(p->venue, old->venue) == 0 && strcmp(p->network, old->network) == 0,
           SIGIL_E_BAD_REQUEST, "rotate: a rotation keeps the key's venue and network (%s %s)",
           old->venue, old->network);
    ENSURE(memcmp(p->owner_pk, old->owner_pk, 32) == 0, SIGIL_E_FORBIDDEN,
           "rotate: the payload names another owner key than the key's");
    return 0;
}

/* old: the key's current payload (its policy parsed); the new one is
 * opened, checked as an import is, and sealed. */
static int rotate_change(enclave_state *st, enclave_payload *old, const sigil_secret *old_plain,
                         sigil_buf *blob, uint8_t policy_hash[32], void *ctx)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    const rotate_ctx *c = ctx;
    uint64_t old_version = old->policy->version;
    SIGIL_SECRET(plain);
    (void)old_plain; /* the old credentials are not used */
    int rc = enclave_import_open(st, &plain, c->a->sealed, c->a->sealed_len);
    if (rc == 0)
        rc = enclave_payload_parse(&p, (const char *)plain.p, plain.len, toks);
    if (rc == 0)
        rc = same_key(&p, old, c->a);
    if (rc == 0)
        rc = enclave_import_materialise(&p, &plain, toks);
    if (rc == 0)
        rc = enclave_import_check(&p, c->res, c->a->key.tenant, c->a->key.tenant_len);
    if (rc == 0 && p.policy->version <= old_version)
        rc = sigil_fail(SIGIL_E_POLICY_DENIED,
                        "rotate: policy version %" PRIu64 " is not above the key's version %" PRIu64
                        " (a rotation needs a new policy version; old payloads are refused)",
                        p.policy->version, old_version);
    if (rc == 0)
        rc = enclave_import_seal(st, &p, blob, &plain);
    if (rc == 0)
        memcpy(policy_hash, c->res->policy_hash, 32);
    sodium_memzero(&p, sizeof(p));
    sodium_memzero(toks, sizeof(toks));
    return rc;
}

int enclave_rotate(enclave_state *st, enclave_import_result *res, sigil_buf *blob,
                   sigil_buf *receipt, const enclave_rotate_args *a)
{
    memset(res, 0, sizeof(*res));
    rotate_ctx c = {res, a};
    enclave_key_change_args ka = {.key = &a->key,
                                  .action = "rotate",
                                  .request = a->sealed,
                                  .request_len = a->sealed_len,
                                  .change = rotate_change,
                                  .ctx = &c};
    return enclave_key_change(st, blob, receipt, &ka);
}
