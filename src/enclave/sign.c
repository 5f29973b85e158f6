/*
 * `sign` (trusted): opens the key's blob into locked memory for this call
 * only, then decides — client signature, classification, every policy rule,
 * freshness, per-key limits — signs with libsigil-sign, wipes, and writes
 * the decision's receipt (allow or deny). Errors before the key and the
 * request are known (a blob that does not open, a request that is not JSON)
 * are not decisions and carry no receipt.
 */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"

#define SIGN_PLAIN_MAX ((size_t)72 * 1024) /* payload (64 KiB) + blob header */

int enclave_copy_id(char *out, size_t cap, const char *p, size_t len, const char *what)
{
    ENSURE(len > 0 && len < cap, SIGIL_E_BAD_FIELD, "%s: must be 1..%zu bytes", what, cap - 1);
    for (size_t i = 0; i < len; i++)
        ENSURE(p[i] > 0x20 && p[i] < 0x7f, SIGIL_E_BAD_FIELD, "%s: must be printable ASCII", what);
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

uint64_t enclave_skew_ms(const enclave_state *st, const sigil_policy *p)
{
    return p->skew_ms != 0 ? p->skew_ms : st->cfg->skew_ms;
}

/* t within ±skew of the enclave clock. */
static int check_window(uint64_t t, uint64_t skew, const char *what)
{
    uint64_t now = enclave_now_ms();
    ENSURE(t + skew >= now && t <= now + skew, SIGIL_E_STALE_REQUEST,
           "%s %" PRIu64 " ms is outside ±%" PRIu64 " ms of the enclave clock (%" PRIu64 ")", what,
           t, skew, now);
    return 0;
}

/* The client's own signature over this exact request, fresh and unused. */
static int check_client(const enclave_state *st, const enclave_payload *p, const char *key_id,
                        const uint8_t request_hash[32], const enclave_sign_args *a)
{
    static _Thread_local uint8_t mem[SIGIL_REQUEST_SIG_PREFIX_LEN + 4 + SIGIL_KEY_ID_HEX + 32 + 8 +
                                     4 + SIGIL_CLIENT_NONCE_MAX];
    sigil_buf msg;
    uint8_t h[32];
    if (!p->has_client_pk) {
        ENSURE(a->client_sig == NULL, SIGIL_E_BAD_REQUEST,
               "client: this key has no client key; send the request without a client signature");
        return 0;
    }
    ENSURE(a->client_sig != NULL, SIGIL_E_BAD_SIGNATURE, "key requires a client signature");
    ENSURE(a->client_sig_len == 64, SIGIL_E_BAD_FIELD, "client.signature: must be 64 bytes");
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(sigil_client_message(&msg, key_id, request_hash, a->client_ts, a->client_nonce,
                               a->client_nonce_len));
    ENSURE(crypto_sign_verify_detached(a->client_sig, msg.data, msg.len, p->client_pk) == 0,
           SIGIL_E_BAD_SIGNATURE, "client.signature: does not verify under the key's client key");
    uint64_t skew = enclave_skew_ms(st, p->policy);
    GUARD(check_window(a->client_ts, skew, "client.timestamp"));
    sigil_sha256(h, msg.data, msg.len);
    return enclave_replay_check(h, enclave_now_ms(), a->client_ts + skew + 1);
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

static bool has_limits(const sigil_policy *p)
{
    return p->requests_per_minute != 0 || p->orders_per_minute != 0 || p->has_daily_notional;
}

/* Everything after the action is known; any failure here is a denial. */
static int decide(enclave_state *st, const enclave_payload *p, const sigil_venue *v,
                  sigil_network net, sigil_action act, sigil_buf *out, const enclave_sign_args *a,
                  const sigil_receipt *r)
{
    static _Thread_local sigil_request_info info;
    sigil_policy_cost cost;
    uint64_t t;
    GUARD(sigil_limits_check_revoked(st->limits, r->tenant, r->key_id));
    GUARD(check_client(st, p, r->key_id, r->request_hash, a));
    GUARD(sigil_request_inspect(&info, p->venue, act, a->request, a->request_len));
    sigil_policy_input in = {.venue = p->venue,
                             .network = net,
                             .action = act,
                             .info = &info,
                             .now_ms = enclave_now_ms()};
    GUARD(sigil_policy_evaluate(p->policy, &in, &cost));
    GUARD(sigil_request_time_ms(&t, p->venue, a->request, a->request_len));
    GUARD(check_window(t, enclave_skew_ms(st, p->policy), "request time"));
    GUARD(sigil_limits_admit_shared(st->limits, r->tenant, r->key_id, p->policy, &cost,
                                    enclave_now_ms(), &a->peers,
                                    has_limits(p->policy) ? a->usage : NULL));
    return sign_with(p, v, net, out, a);
}

int enclave_open_key(enclave_state *st, const enclave_key_ref *k, sigil_secret *plain,
                     enclave_payload *p, sigil_receipt *r, sigil_json_tok *toks)
{
    sigil_network net;
    GUARD(enclave_copy_id(r->tenant, sizeof(r->tenant), k->tenant, k->tenant_len, "tenant"));
    GUARD(enclave_copy_id(r->key_id, sizeof(r->key_id), k->key_id, k->key_id_len, "key_id"));
    ENSURE(k->blob_len <= SIGN_PLAIN_MAX, SIGIL_E_TOO_LARGE, "blob: larger than %zu bytes",
           SIGN_PLAIN_MAX);
    GUARD(sigil_secret_alloc(plain, k->blob_len));
    uint8_t header_hash[32];
    GUARD(enclave_blob_open(st, plain, r->tenant, r->key_id, k->blob, k->blob_len, header_hash));
    GUARD(enclave_payload_parse(p, (const char *)plain->p, plain->len, toks));
    ENSURE(strcmp(p->key_id, r->key_id) == 0, SIGIL_E_FORBIDDEN,
           "key: the blob holds another key id");
    memcpy(r->venue, p->venue, sizeof(p->venue));
    memcpy(r->network, p->network, sizeof(p->network));
    GUARD(sigil_network_parse(&net, p->network));
    GUARD(enclave_payload_policy(p, net, false, header_hash));
    memcpy(r->policy_hash, p->policy->hash, sizeof(r->policy_hash));
    return 0;
}

int enclave_sign(enclave_state *st, sigil_buf *out, sigil_buf *receipt, const char **action,
                 const enclave_sign_args *a)
{
    static _Thread_local sigil_json_tok toks[ENCLAVE_PAYLOAD_TOKENS];
    static _Thread_local enclave_payload p;
    static _Thread_local sigil_receipt r;
    sigil_network net;
    sigil_action act;
    SIGIL_SECRET(plain);

    memset(&r, 0, sizeof(r));
    receipt->len = 0;
    memset(a->usage, 0, sizeof(*a->usage));
    memcpy(a->usage->boot_id, st->boot_id, sizeof(a->usage->boot_id));
    GUARD(enclave_open_key(st, &a->key, &plain, &p, &r, toks));
    const sigil_venue *v = sigil_venue_find(p.venue);
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "key: venue %s is no longer supported", p.venue);
    GUARD(sigil_network_parse(&net, p.network));
    GUARD(sigil_request_hash(r.request_hash, a->request, a->request_len));
    GUARD(sigil_request_action(&act, p.venue, a->request, a->request_len));
    *action = sigil_action_name(act);
    (void)snprintf(r.action, sizeof(r.action), "%s", *action);

    int rc = decide(st, &p, v, net, act, out, a, &r);
    return enclave_decision_receipt(st, receipt, &r, rc, out->data, out->len);
}
