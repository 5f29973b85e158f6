/*
 * A decision that re-seals a stored key (trusted): policy update, credential
 * rotation, rewrap. The key's blob is opened into locked memory, the change
 * runs on its payload (unless the owner revoked the key) and writes the new blob, and the
 * decision's receipt (allowed or denied) is appended to this boot's chain. A blob that does not
 * open is no decision and has no receipt.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"

int enclave_key_change(enclave_state *st, sigil_buf *blob, sigil_buf *receipt,
                       const enclave_key_change_args *a)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    static _Thread_local sigil_receipt r;
    SIGIL_SECRET(plain);
    memset(&r, 0, sizeof(r));
    receipt->len = 0;
    GUARD(enclave_open_key(st, a->key, &plain, &p, &r, toks));
    (void)snprintf(r.action, sizeof(r.action), "%s", a->action);
    sigil_sha256(r.request_hash, a->request, a->request_len);
    uint8_t policy_hash[32];
    /* A key its owner revoked takes no change (docs/POLICY.md "Revocation"). */
    int rc = sigil_limits_check_revoked(st->limits, p.tenant, p.key_id);
    if (rc == 0)
        rc = a->change(st, &p, &plain, blob, policy_hash, a->ctx);
    if (rc == 0)
        memcpy(r.policy_hash, policy_hash, 32);
    rc = enclave_decision_receipt(st, receipt, &r, rc, blob->data, blob->len);
    sodium_memzero(&p, sizeof(p));
    sodium_memzero(toks, sizeof(toks));
    return rc;
}
