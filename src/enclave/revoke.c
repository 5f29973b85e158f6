/*
 * `revoke` (trusted): the owner's revocation of one key (docs/POLICY.md
 * "Revocation"). The key's blob is opened only to read its owner key; the
 * signature over "sigil-revoke-v1" 0x00 || tenant || key_id must verify
 * under it. The key then joins this boot's revocation set (src/policy/
 * limits.c), after which every sign, policy update, import and revocation of
 * it is refused, whatever blob or key row the host presents. A revocation
 * the host replays after a restart (replay) makes no receipt: it is not a
 * new decision, and an already revoked key is then no error.
 */
#include "enclave/enclave.h"

static int decide(enclave_state *st, const enclave_payload *p, const sigil_receipt *r,
                  const enclave_revoke_args *a, bool *added)
{
    ENSURE(a->signature_len == 64, SIGIL_E_BAD_FIELD, "signature: must be 64 bytes");
    GUARD(sigil_revoke_verify(a->signature, r->tenant, r->key_id, p->owner_pk));
    GUARD(sigil_limits_revoke(st->limits, r->tenant, r->key_id, added));
    ENSURE(*added || a->replay, SIGIL_E_REVOKED, "key: already revoked");
    return 0;
}

int enclave_revoke(enclave_state *st, sigil_buf *receipt, bool *added, const enclave_revoke_args *a)
{
    static _Thread_local enclave_key_decision d;
    SIGIL_SECRET(plain);
    *added = false;
    GUARD(enclave_key_decision_open(st, &d, &plain, receipt, &a->key, "revoke", a->signature,
                                    a->signature_len));
    int rc = decide(st, &d.p, &d.r, a, added);
    if (!a->replay)
        rc = enclave_decision_receipt(st, receipt, &d.r, rc, a->signature, a->signature_len);
    enclave_key_decision_wipe(&d);
    return rc;
}
