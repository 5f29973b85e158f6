/*
 * `import` (trusted): opens a sealed provisioning payload
 * (docs/PROVISIONING.md) into locked memory, checks it completely — tenant,
 * venue, credentials, owner-signed policy — and returns the at-rest blob.
 * Nothing from the payload leaves except the key's public facts.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"
#include "sigil/venues.h"

#define PAYLOAD_MAX ((size_t)64 * 1024)

int enclave_import_open(enclave_state *st, sigil_secret *plain, const uint8_t *sealed,
                        size_t sealed_len)
{
    ENSURE(sealed_len > crypto_box_SEALBYTES && sealed_len - crypto_box_SEALBYTES <= PAYLOAD_MAX,
           SIGIL_E_BAD_FIELD, "sealed: must be a sealed box of 1..%zu payload bytes", PAYLOAD_MAX);
    size_t n = sealed_len - crypto_box_SEALBYTES;
    GUARD(sigil_secret_alloc(plain, n));
    ENSURE(crypto_box_seal_open(plain->p, sealed, sealed_len, st->sealing_pk, st->sealing_sk.p) ==
               0,
           SIGIL_E_BAD_SIGNATURE, "sealed: does not open with this enclave's sealing key");
    plain->len = n;
    return 0;
}

/* A generated key's payload becomes an ordinary one here: the key is drawn,
 * the payload rebuilt around it (replacing plain) and parsed again. */
int enclave_import_materialise(enclave_payload *p, sigil_secret *plain, sigil_json_tok *toks)
{
    SIGIL_SECRET(built);
    if (!p->generate)
        return 0;
    GUARD(enclave_keygen_payload(&built, p));
    sigil_secret_free(plain);
    *plain = built;
    memset(&built, 0, sizeof(built)); /* plain owns it now */
    GUARD(enclave_payload_parse(p, (const char *)plain->p, plain->len, toks));
    ENSURE(!p->generate, SIGIL_E_INTERNAL, "keygen: the rebuilt payload still asks for a key");
    return 0;
}

/* Everything the payload must satisfy; fills res (the key's public facts). */
int enclave_import_check(enclave_payload *p, enclave_import_result *res, const char *tenant,
                         size_t tenant_len)
{
    sigil_network net;
    ENSURE(strlen(p->tenant) == tenant_len && memcmp(p->tenant, tenant, tenant_len) == 0,
           SIGIL_E_FORBIDDEN, "import: the payload was sealed for another tenant");
    const sigil_venue *v = sigil_venue_find(p->venue);
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "payload.venue: %s is not supported", p->venue);
    GUARD(sigil_network_parse(&net, p->network));
    GUARD(enclave_payload_policy(p, net, true, NULL));
    GUARD(enclave_payload_credentials(p, v, res->address));
    memcpy(res->key_id, p->key_id, sizeof(res->key_id));
    memcpy(res->venue, p->venue, strlen(p->venue) + 1);
    memcpy(res->network, p->network, strlen(p->network) + 1);
    memcpy(res->key_type, p->key_type, strlen(p->key_type) + 1);
    memcpy(res->policy_hash, p->policy->hash, 32);
    res->policy_version = p->policy->version;
    res->client_key = p->has_client_pk;
    return 0;
}

/* Records the policy version as the key's highest and seals the blob. */
int enclave_import_seal(enclave_state *st, const enclave_payload *p, sigil_buf *blob,
                        const sigil_secret *plain)
{
    GUARD(sigil_limits_version(st->limits, p->tenant, p->key_id, p->policy->version));
    enclave_blob_meta m = {
        .tenant = p->tenant, .key_id = p->key_id, .venue = p->venue, .network = p->network};
    memcpy(m.policy_hash, p->policy->hash, 32);
    return enclave_blob_seal(st, blob, &m, plain->p, plain->len);
}

static int import_decide(enclave_state *st, enclave_payload *p, enclave_import_result *res,
                         sigil_buf *blob, const sigil_secret *plain, const enclave_import_args *a)
{
    GUARD(enclave_import_check(p, res, a->tenant, a->tenant_len));
    return enclave_import_seal(st, p, blob, plain);
}

/* A receipt for a decision on a key (import, policy update); on failure the
 * decision's own error is kept. */
int enclave_decision_receipt(enclave_state *st, sigil_buf *receipt, sigil_receipt *r, int rc,
                             const uint8_t *output, size_t output_len)
{
    sigil_err code = sigil_errno();
    char msg[512];
    (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
    if (rc == 0) {
        r->allow = true;
        sigil_sha256(r->output_hash, output, output_len);
    } else {
        enclave_receipt_deny(r, code, msg);
    }
    GUARD(enclave_receipt(st, receipt, r));
    if (rc != 0)
        return sigil_fail(code, "%s", msg);
    return 0;
}

int enclave_import(enclave_state *st, enclave_import_result *res, sigil_buf *blob,
                   sigil_buf *receipt, const enclave_import_args *a)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    static _Thread_local sigil_receipt r;
    SIGIL_SECRET(plain);
    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    receipt->len = 0;
    GUARD(enclave_import_open(st, &plain, a->sealed, a->sealed_len));
    int rc = enclave_payload_parse(&p, (const char *)plain.p, plain.len, toks);
    if (rc == 0) {
        rc = enclave_copy_id(r.tenant, sizeof(r.tenant), a->tenant, a->tenant_len, "tenant");
        memcpy(r.key_id, p.key_id, sizeof(p.key_id));
        (void)snprintf(r.venue, sizeof(r.venue), "%s", p.venue);
        (void)snprintf(r.network, sizeof(r.network), "%s", p.network);
        (void)snprintf(r.action, sizeof(r.action), "import");
        sigil_sha256(r.request_hash, a->sealed, a->sealed_len);
    }
    if (rc == 0) {
        rc = enclave_import_materialise(&p, &plain, toks);
        if (rc == 0)
            rc = import_decide(st, &p, res, blob, &plain, a);
        memcpy(r.policy_hash, p.policy->hash, sizeof(r.policy_hash));
        rc = enclave_decision_receipt(st, receipt, &r, rc, blob->data, blob->len);
    }
    sodium_memzero(toks, sizeof(toks));
    sodium_memzero(&p, sizeof(p));
    return rc;
}
