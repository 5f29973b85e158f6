/*
 * `sign` (trusted): opens the key's blob into locked memory for this call
 * only, checks the request's freshness against the enclave clock and the
 * owner's policy, signs with libsigil-sign, and wipes on every path.
 */
#include <string.h>

#include "enclave/enclave.h"

#define SIGN_PLAIN_MAX ((size_t)72 * 1024) /* payload (64 KiB) + blob header */

static int copy_id(char *out, size_t cap, const char *p, size_t len, const char *what)
{
    ENSURE(len > 0 && len < cap, SIGIL_E_BAD_FIELD, "%s: must be 1..%zu bytes", what, cap - 1);
    for (size_t i = 0; i < len; i++)
        ENSURE(p[i] > 0x20 && p[i] < 0x7f, SIGIL_E_BAD_FIELD, "%s: must be printable ASCII", what);
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

/* The request's own time must be within the window around the enclave's clock. */
static int check_fresh(const enclave_state *st, const char *venue, const char *req, size_t len)
{
    uint64_t t, now = enclave_now_ms();
    GUARD(sigil_request_time_ms(&t, venue, req, len));
    uint64_t skew = st->cfg->skew_ms;
    ENSURE(t + skew >= now && t <= now + skew, SIGIL_E_STALE_REQUEST,
           "request time %llu ms is outside ±%llu ms of the enclave clock (%llu)",
           (unsigned long long)t, (unsigned long long)skew, (unsigned long long)now);
    return 0;
}

static int sign_with(const enclave_payload *p, const sigil_venue *v, sigil_network net,
                     sigil_buf *out, const enclave_sign_args *a)
{
    sigil_credentials cred;
    uint32_t t = sigil_json_get(&p->doc, 0, "credentials");
    sigil_slice cs = sigil_json_raw(&p->doc, t);
    GUARD(sigil_credentials_parse(&cred, v, cs.p, cs.len));
    int rc = sigil_sign(out, v, &cred, net, a->request, a->request_len);
    sigil_credentials_free(&cred);
    return rc;
}

int enclave_sign(enclave_state *st, sigil_buf *out, const char **action, const enclave_sign_args *a)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    char tenant[65], key_id[65];
    sigil_network net;
    sigil_action act;
    SIGIL_SECRET(plain);

    GUARD(copy_id(tenant, sizeof(tenant), a->tenant, a->tenant_len, "tenant"));
    GUARD(copy_id(key_id, sizeof(key_id), a->key_id, a->key_id_len, "key_id"));
    ENSURE(a->blob_len <= SIGN_PLAIN_MAX, SIGIL_E_TOO_LARGE, "blob: larger than %zu bytes",
           SIGN_PLAIN_MAX);
    GUARD(sigil_secret_alloc(&plain, a->blob_len));
    GUARD(enclave_blob_open(st, &plain, tenant, key_id, a->blob, a->blob_len));
    GUARD(enclave_payload_parse(&p, (const char *)plain.p, plain.len, toks));
    const sigil_venue *v = sigil_venue_find(p.venue);
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "key: venue %s is no longer supported", p.venue);
    GUARD(sigil_network_parse(&net, p.network));
    GUARD(enclave_payload_policy(&p, net, false));

    GUARD(sigil_request_action(&act, p.venue, a->request, a->request_len));
    *action = sigil_action_name(act);
    GUARD(sigil_policy_check(&p.policy, p.venue, net, act, enclave_now_ms() / 1000u));
    GUARD(check_fresh(st, p.venue, a->request, a->request_len));
    return sign_with(&p, v, net, out, a);
}
