/*
 * A decision that re-seals a stored key (trusted): policy update, credential
 * rotation, rewrap. The key's blob is opened into locked memory, the change
 * runs on its payload (unless the owner revoked the key) and writes the new
 * blob, and the decision's receipt (allowed or denied) is appended to this
 * boot's chain. A blob that does not open is no decision and has no receipt.
 * The opening is shared with revoke.c (enclave_key_decision_open).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"

int enclave_key_decision_open(enclave_state *st, enclave_key_decision *d, sigil_secret *plain,
                              sigil_buf *receipt, const enclave_key_ref *key, const char *action,
                              const void *request, size_t request_len)
{
    memset(&d->r, 0, sizeof(d->r));
    receipt->len = 0;
    if (enclave_open_key(st, key, plain, &d->p, &d->r, d->toks) != 0) {
        enclave_key_decision_wipe(d);
        return -1;
    }
    (void)snprintf(d->r.action, sizeof(d->r.action), "%s", action);
    sigil_sha256(d->r.request_hash, request, request_len);
    return 0;
}

void enclave_key_decision_wipe(enclave_key_decision *d)
{
    sodium_memzero(&d->p, sizeof(d->p));
    sodium_memzero(d->toks, sizeof(d->toks));
}

int enclave_key_change(enclave_state *st, sigil_buf *blob, sigil_buf *receipt,
                       const enclave_key_change_args *a)
{
    static _Thread_local enclave_key_decision d;
    SIGIL_SECRET(plain);
    uint8_t policy_hash[32];
    GUARD(enclave_key_decision_open(st, &d, &plain, receipt, a->key, a->action, a->request,
                                    a->request_len));
    /* A key its owner revoked takes no change (docs/POLICY.md "Revocation"). */
    int rc = sigil_limits_check_revoked(st->limits, d.p.tenant, d.p.key_id);
    if (rc == 0)
        rc = a->change(st, &d.p, &plain, blob, policy_hash, a->ctx);
    if (rc == 0)
        memcpy(d.r.policy_hash, policy_hash, 32);
    rc = enclave_decision_receipt(st, receipt, &d.r, rc, blob->data, blob->len);
    enclave_key_decision_wipe(&d);
    return rc;
}
