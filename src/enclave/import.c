/*
 * `import` (trusted): opens a sealed provisioning payload
 * (docs/PROVISIONING.md) into locked memory, checks it completely — tenant,
 * venue, credentials, owner-signed policy — and returns the at-rest blob.
 * Nothing from the payload leaves except the key's public facts.
 */
#include <string.h>

#include <sodium.h>

#include "enclave/enclave.h"
#include "sigil/venues.h"

#define PAYLOAD_MAX ((size_t)64 * 1024)

static int import_open(enclave_state *st, sigil_secret *plain, const enclave_import_args *a)
{
    ENSURE(a->sealed_len > crypto_box_SEALBYTES &&
               a->sealed_len - crypto_box_SEALBYTES <= PAYLOAD_MAX,
           SIGIL_E_BAD_FIELD, "sealed: must be a sealed box of 1..%zu payload bytes", PAYLOAD_MAX);
    size_t n = a->sealed_len - crypto_box_SEALBYTES;
    GUARD(sigil_secret_alloc(plain, n));
    ENSURE(crypto_box_seal_open(plain->p, a->sealed, a->sealed_len, st->sealing_pk,
                                st->sealing_sk.p) == 0,
           SIGIL_E_BAD_SIGNATURE, "sealed: does not open with this enclave's sealing key");
    plain->len = n;
    return 0;
}

int enclave_import(enclave_state *st, enclave_import_result *res, sigil_buf *blob,
                   const enclave_import_args *a)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    SIGIL_SECRET(plain);
    sigil_network net;
    memset(res, 0, sizeof(*res));
    GUARD(import_open(st, &plain, a));
    GUARD(enclave_payload_parse(&p, (const char *)plain.p, plain.len, toks));
    ENSURE(strlen(p.tenant) == a->tenant_len && memcmp(p.tenant, a->tenant, a->tenant_len) == 0,
           SIGIL_E_FORBIDDEN, "import: the payload was sealed for another tenant");
    const sigil_venue *v = sigil_venue_find(p.venue);
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "payload.venue: %s is not supported", p.venue);
    GUARD(sigil_network_parse(&net, p.network));
    GUARD(enclave_payload_policy(&p, net, true));
    GUARD(enclave_payload_credentials(&p, v, res->address));

    uint8_t id[16];
    randombytes_buf(id, sizeof(id));
    sigil_hex_encode(res->key_id, id, sizeof(id));
    memcpy(res->venue, p.venue, strlen(p.venue) + 1);
    memcpy(res->network, p.network, strlen(p.network) + 1);
    memcpy(res->key_type, p.key_type, strlen(p.key_type) + 1);
    memcpy(res->policy_hash, p.policy.hash, 32);
    enclave_blob_meta m = {
        .tenant = p.tenant, .key_id = res->key_id, .venue = p.venue, .network = p.network};
    memcpy(m.policy_hash, p.policy.hash, 32);
    int rc = enclave_blob_seal(st, blob, &m, plain.p, plain.len);
    sodium_memzero(toks, sizeof(toks));
    return rc;
}
