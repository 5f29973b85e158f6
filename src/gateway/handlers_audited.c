/*
 * The handlers that reach a tenant's key material: POST /v1/keys (import a
 * sealed upload), POST /v1/sign, PUT /v1/keys/{id}/policy, PUT
 * /v1/keys/{id}/credentials (rotation), POST /v1/keys/{id}/rewrap (a new
 * data key), and the key's lifecycle: POST /v1/keys/{id}/revoke (the
 * owner's, through the enclave), /disable and /enable (the tenant's,
 * host-side). Untrusted host code: it moves
 * sealed bytes and blobs, never plaintext. Every outcome past
 * authentication is written to the audit log before the response leaves;
 * if that write fails the client gets 503 and never the signed output.
 * Idempotency-Key on /v1/sign: a retry gets the stored response and is
 * neither signed nor audited again.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"
#include "sigil/crypto.h"
#include "sigil/receipt.h"

typedef struct {
    const char *op;
    char action[SIGIL_ACTION_MAX + 1];
    uint8_t request_hash[32];
    bool has_request_hash;
    uint8_t output_hash[32];
    bool has_output_hash;
    /* the enclave's receipt of its decision (JSON), when it made one */
    char receipt[SIGIL_RECEIPT_MAX_BYTES];
    size_t receipt_len;
    bool receipt_allows; /* the receipt's decision */
    /* the enclave's usage report of a key with limits (sign), stored with the record */
    uint8_t usage_report[SIGIL_USAGE_REPORT_MAX];
    sigil_usage_record usage;
    bool has_usage;
    /* idempotency */
    char idem_key[SIGIL_IDEM_KEY_MAX + 1];
    bool reserved; /* this request holds the reservation */
    bool replayed; /* rs holds a stored response */
} outcome;

/* Codes that are the enclave's (or policy's) decision against the request. */
static const char *decision_of(int rc, sigil_err e)
{
    static const sigil_err DENY[] = {SIGIL_E_POLICY_DENIED, SIGIL_E_STALE_REQUEST,
                                     SIGIL_E_FORBIDDEN,     SIGIL_E_BAD_SIGNATURE,
                                     SIGIL_E_REVOKED,       SIGIL_E_KEY_DISABLED};
    if (rc == 0)
        return "allow";
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(DENY); i++)
        if (DENY[i] == e)
            return "deny";
    return "error";
}

/* Turns the handler's result into the final response, after the audit
 * record (and the idempotent response) are durable. */
static int finish(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o, int rc)
{
    sigil_err e = rc == 0 ? SIGIL_OK : sigil_errno();
    if (o->replayed)
        return 0;
    if (rc != 0)
        gw_error_response_receipt(rs, o->receipt_len > 0 ? o->receipt : NULL, o->receipt_len);
    sigil_audit_record a = {
        .time_ms = rq->start_ms,
        .tenant = rq->tenant,
        .key_id = rq->key_id[0] != '\0' ? rq->key_id : NULL,
        .op = o->op,
        .action = o->action[0] != '\0' ? o->action : NULL,
        .decision =
            o->receipt_len > 0 ? (o->receipt_allows ? "allow" : "deny") : decision_of(rc, e),
        .http_status = rs->status,
        .error_code = rc != 0 ? sigil_err_code(e) : NULL,
        .request_hash = o->has_request_hash ? o->request_hash : NULL,
        .output_hash = o->has_output_hash ? o->output_hash : NULL,
        .receipt = o->receipt_len > 0 ? o->receipt : NULL,
        .receipt_len = o->receipt_len,
        .usage = o->has_usage ? &o->usage : NULL,
    };
    sigil_idem_outcome idem = {o->idem_key, rs->status, rs->body.data, rs->body.len};
    bool keep = o->reserved && rs->status < 500; /* a 5xx may succeed when retried */
    sigil_store *st = g->store;
    uint64_t t0 = gw_mono_us();
    int wrc = st->ops->record_outcome(st, &a, keep ? &idem : NULL, NULL);
    gw_metrics_audit_write(t0, gw_mono_us(), wrc == 0);
    if (strcmp(o->op, "sign") == 0)
        gw_metrics_sign_outcome(rq->venue, wrc == 0 ? a.decision : "error",
                                wrc == 0 ? e : SIGIL_E_AUDIT_UNAVAILABLE);
    if (wrc != 0) {
        gw_log_warn("audit: record not written (%s); response withheld", sigil_errmsg());
        if (o->reserved)
            (void)st->ops->idem_abort(st, rq->tenant, o->idem_key);
        BAIL(SIGIL_E_AUDIT_UNAVAILABLE, "audit log unavailable; the result was not released");
    }
    if (o->reserved && !keep)
        (void)st->ops->idem_abort(st, rq->tenant, o->idem_key);
    return 0;
}

/* Keeps the enclave's receipt: from the result (v, when given) or from the
 * error frame of a denial. It is inserted verbatim into responses, so it
 * must be one strict JSON object. */
static int keep_receipt(outcome *o, const sigil_frame *f, const gw_value *v)
{
    static _Thread_local sigil_json_tok toks[256];
    const char *p = v != NULL ? (const char *)v->p : f->receipt;
    size_t n = v != NULL ? v->len : f->receipt_len;
    sigil_json doc;
    if (p == NULL)
        return 0;
    ENSURE(n > 0 && n <= sizeof(o->receipt), SIGIL_E_PROTOCOL,
           "enclave result: receipt has a bad length");
    if (sigil_json_parse(&doc, p, n, toks, SIGIL_ARRAY_LEN(toks)) != 0 ||
        sigil_json_type_of(&doc, 0) != SIGIL_JSON_OBJECT)
        BAIL(SIGIL_E_PROTOCOL, "enclave result: receipt is not a JSON object");
    memcpy(o->receipt, p, n);
    o->receipt_len = n;
    /* The row records the enclave's decision (a later gateway failure shows
     * in its status and code); a denial names its action only here. */
    uint32_t d = sigil_json_get(&doc, 0, "decision");
    o->receipt_allows = d != 0 && sigil_json_str_eq(&doc, d, "allow");
    uint32_t t = sigil_json_get(&doc, 0, "action");
    if (o->action[0] == '\0' && t != 0 && sigil_json_type_of(&doc, t) == SIGIL_JSON_STRING) {
        sigil_slice a = sigil_json_raw(&doc, t);
        if (sigil_json_str_is_plain(&doc, t) && a.len > 0 && a.len < sizeof(o->action)) {
            memcpy(o->action, a.p, a.len);
            o->action[a.len] = '\0';
        }
    }
    return 0;
}

/* An enclave call whose answer carries a receipt, allowed or denied. */
static int call_decision(gw_server *g, gw_req *rq, outcome *o, const char *op, size_t nargs,
                         gw_args_fn args, void *ctx, gw_work *w, sigil_frame *f)
{
    sigil_buf frame, in;
    sigil_buf_init(&frame, w->frame, sizeof(w->frame));
    sigil_buf_init(&in, w->in, sizeof(w->in));
    memset(f, 0, sizeof(*f));
    int rc = gw_enclave_call(g->enclave, op, nargs, args, ctx, &frame, &in, gw_deadline(g, rq), f);
    if (rc != 0 && f->kind == SIGIL_FRAME_ERROR && f->receipt != NULL) {
        sigil_err e = sigil_errno();
        char msg[512];
        (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
        GUARD(keep_receipt(o, f, NULL));
        return sigil_fail(e, "%s", msg);
    }
    return rc;
}

/* A route with a JSON body: scratch memory and the Content-Type. */
static int json_body_check(const gw_work *w, const gw_req *rq)
{
    ENSURE(w != NULL, SIGIL_E_NO_MEMORY, "gateway: out of memory");
    GUARD(gw_check_content_type(rq->content_type, rq->content_type ? strlen(rq->content_type) : 0));
    ENSURE(rq->content_type_count <= 1, SIGIL_E_BAD_REQUEST, "Content-Type: given twice");
    return 0;
}

/* tenant, key_id and blob: the first three args of sign and policy. */
static int put_key_args(sigil_buf *b, const char *tenant, const char *key_id, const uint8_t *blob,
                        size_t blob_len)
{
    GUARD(sigil_cbor_put_cstr(b, "tenant"));
    GUARD(sigil_cbor_put_cstr(b, tenant));
    GUARD(sigil_cbor_put_cstr(b, "key_id"));
    GUARD(sigil_cbor_put_cstr(b, key_id));
    GUARD(sigil_cbor_put_cstr(b, "blob"));
    return sigil_cbor_put_bytes(b, blob, blob_len);
}

/* ---- POST /v1/keys ---- */
typedef struct {
    const char *tenant;
    const uint8_t *sealed;
    size_t len;
} import_ctx;

static int import_args(void *ctx, sigil_buf *b)
{
    const import_ctx *ic = ctx;
    GUARD(sigil_cbor_put_cstr(b, "tenant"));
    GUARD(sigil_cbor_put_cstr(b, ic->tenant));
    GUARD(sigil_cbor_put_cstr(b, "sealed"));
    return sigil_cbor_put_bytes(b, ic->sealed, ic->len);
}

enum {
    I_KEY_ID,
    I_VENUE,
    I_NETWORK,
    I_KEY_TYPE,
    I_ADDRESS,
    I_POLICY,
    I_BLOB,
    I_RECEIPT,
    I_VERSION,
    I_CLIENT_KEY,
    I_COUNT
};

static int text_field(char *out, size_t cap, const gw_value *v, const char *what)
{
    ENSURE(v->len >= 1 && v->len < cap, SIGIL_E_PROTOCOL, "enclave result: %s has a bad length",
           what);
    for (size_t i = 0; i < v->len; i++)
        ENSURE(v->p[i] > 0x20 && v->p[i] < 0x7f, SIGIL_E_PROTOCOL,
               "enclave result: %s is not printable ASCII", what);
    memcpy(out, v->p, v->len);
    out[v->len] = '\0';
    return 0;
}

static int import_record(sigil_key_record *k, const gw_req *rq, const gw_value *v)
{
    memset(k, 0, sizeof(*k));
    GUARD(text_field(k->key_id, sizeof(k->key_id), &v[I_KEY_ID], "key_id"));
    if (sigil_key_id_check(k->key_id, v[I_KEY_ID].len) != 0)
        BAIL(SIGIL_E_PROTOCOL, "enclave result: %s", sigil_errmsg());
    GUARD(text_field(k->venue, sizeof(k->venue), &v[I_VENUE], "venue"));
    GUARD(text_field(k->network, sizeof(k->network), &v[I_NETWORK], "network"));
    GUARD(text_field(k->key_type, sizeof(k->key_type), &v[I_KEY_TYPE], "key_type"));
    if (!v[I_ADDRESS].null)
        GUARD(text_field(k->address, sizeof(k->address), &v[I_ADDRESS], "address"));
    ENSURE(v[I_BLOB].len > 0 && v[I_BLOB].len <= GW_BLOB_MAX, SIGIL_E_PROTOCOL,
           "enclave result: blob has a bad length");
    memcpy(k->tenant, rq->tenant, sizeof(k->tenant));
    memcpy(k->policy_hash, v[I_POLICY].p, sizeof(k->policy_hash));
    k->policy_version = v[I_VERSION].u;
    k->client_key = v[I_CLIENT_KEY].b ? 1 : 0;
    k->created_ms = rq->start_ms;
    return 0;
}

static int put_receipt(sigil_jw *w, const outcome *o)
{
    GUARD(sigil_jw_key(w, "receipt"));
    return sigil_jw_raw(w, o->receipt, o->receipt_len);
}

/* A response body {"key_id": …, …} with its status; the caller adds the
 * rest and closes it. */
static int key_body_begin(gw_resp *rs, sigil_jw *w, unsigned status, const char *key_id)
{
    rs->status = status;
    rs->body.len = 0;
    sigil_jw_init(w, &rs->body);
    GUARD(sigil_jw_obj_begin(w));
    GUARD(sigil_jw_key(w, "key_id"));
    return sigil_jw_str(w, key_id);
}

/* The key's cached record, dropped after a change through this gateway. */
static void drop_cached_key(gw_server *g, const gw_req *rq)
{
    char ck[SIGIL_TENANT_MAX + SIGIL_KEY_ID_MAX + 2];
    (void)snprintf(ck, sizeof(ck), "%s/%s", rq->tenant, rq->key_id);
    gw_cache_drop(g->key_cache, ck);
}

static int import_body(gw_resp *rs, const sigil_key_record *k, const outcome *o, unsigned status)
{
    sigil_jw w;
    GUARD(key_body_begin(rs, &w, status, k->key_id));
    GUARD(sigil_jw_key(&w, "venue"));
    GUARD(sigil_jw_str(&w, k->venue));
    GUARD(sigil_jw_key(&w, "network"));
    GUARD(sigil_jw_str(&w, k->network));
    GUARD(sigil_jw_key(&w, "key_type"));
    GUARD(sigil_jw_str(&w, k->key_type));
    if (k->address[0] != '\0') {
        GUARD(sigil_jw_key(&w, "address"));
        GUARD(sigil_jw_str(&w, k->address));
    }
    GUARD(gw_jw_hex(&w, "policy_hash", k->policy_hash, sizeof(k->policy_hash)));
    GUARD(sigil_jw_key(&w, "version"));
    GUARD(sigil_jw_u64(&w, k->policy_version));
    GUARD(put_receipt(&w, o));
    return sigil_jw_obj_end(&w);
}

/* The enclave's answer to import and rotate. */
static const gw_field IMPORT_SPEC[I_COUNT] = {
    [I_KEY_ID] = {"key_id", GW_F_TEXT, 0},
    [I_VENUE] = {"venue", GW_F_TEXT, 0},
    [I_NETWORK] = {"network", GW_F_TEXT, 0},
    [I_KEY_TYPE] = {"key_type", GW_F_TEXT, 0},
    [I_ADDRESS] = {"address", GW_F_TEXT_OR_NULL, 0},
    [I_POLICY] = {"policy_hash", GW_F_BYTES, 32},
    [I_BLOB] = {"blob", GW_F_BYTES, 0},
    [I_RECEIPT] = {"receipt", GW_F_TEXT, 0},
    [I_VERSION] = {"version", GW_F_UINT, 0},
    [I_CLIENT_KEY] = {"client_key", GW_F_BOOL, 0},
};

static int import_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    gw_work *w = gw_work_get();
    sigil_buf sealed;
    sigil_frame f;
    gw_value v[I_COUNT];
    sigil_key_record k;
    sigil_json doc;
    GUARD(json_body_check(w, rq));
    sigil_buf_init(&sealed, w->sealed, sizeof(w->sealed));
    GUARD(gw_parse_import_body(&sealed, &doc, w->toks, GW_JSON_TOKS, rq->body, rq->body_len));
    sigil_sha256(o->request_hash, sealed.data, sealed.len);
    o->has_request_hash = true;
    import_ctx ic = {rq->tenant, sealed.data, sealed.len};
    GUARD(call_decision(g, rq, o, "import", 2, import_args, &ic, w, &f));
    GUARD(gw_result_read(&f, IMPORT_SPEC, I_COUNT, v));
    GUARD(keep_receipt(o, &f, &v[I_RECEIPT]));
    GUARD(import_record(&k, rq, v));
    memcpy(rq->key_id, k.key_id, sizeof(rq->key_id));
    sigil_sha256(o->output_hash, v[I_BLOB].p, v[I_BLOB].len);
    o->has_output_hash = true;
    GUARD(g->store->ops->key_put(g->store, &k, v[I_BLOB].p, v[I_BLOB].len));
    return import_body(rs, &k, o, 201);
}

int gw_h_keys_import(gw_server *g, gw_req *rq, gw_resp *rs)
{
    outcome o = {.op = "import"};
    int rc = import_run(g, rq, rs, &o);
    return finish(g, rq, rs, &o, rc);
}

/* ---- POST /v1/sign ---- */
/* An enclave call on a stored key: whose, which, its blob, and the route's
 * parsed body (gw_sign_body or gw_policy_body). */
typedef struct {
    const char *tenant;
    const char *key_id;
    const uint8_t *blob;
    size_t blob_len;
    const void *body;
    sigil_buf peers; /* sign: the peers' usage reports (len 0: none) */
} key_call;

static int sign_args(void *ctx, sigil_buf *b)
{
    const key_call *sc = ctx;
    GUARD(put_key_args(b, sc->tenant, sc->key_id, sc->blob, sc->blob_len));
    GUARD(sigil_cbor_put_cstr(b, "request"));
    const gw_sign_body *bd = sc->body;
    GUARD(sigil_cbor_put_text(b, bd->request.p, bd->request.len));
    GUARD(sigil_cbor_put_cstr(b, "client_sig"));
    GUARD(sigil_cbor_put_bytes_or_null(b, bd->has_client ? bd->client_sig : NULL, 64));
    GUARD(sigil_cbor_put_cstr(b, "client_ts"));
    GUARD(sigil_cbor_put_uint(b, bd->has_client ? bd->client_ts : 0));
    GUARD(sigil_cbor_put_cstr(b, "client_nonce"));
    if (!bd->has_client)
        GUARD(sigil_cbor_put_null(b));
    else
        GUARD(sigil_cbor_put_text(b, bd->client_nonce.p, bd->client_nonce.len));
    GUARD(sigil_cbor_put_cstr(b, "peers"));
    return sigil_cbor_put_bytes_or_null(b, sc->peers.len > 0 ? sc->peers.data : NULL,
                                        sc->peers.len);
}

/* Reserves the Idempotency-Key, or fills rs with what it already holds. */
static int idem_begin(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    uint8_t body_hash[32];
    sigil_idem_state state;
    unsigned status = 0;
    size_t n = strnlen(rq->idem_key, SIGIL_IDEM_KEY_MAX + 1);
    ENSURE(rq->idem_count == 1, SIGIL_E_BAD_REQUEST, "Idempotency-Key: given more than once");
    GUARD(gw_check_idem_key(rq->idem_key, n));
    memcpy(o->idem_key, rq->idem_key, n + 1);
    sigil_sha256(body_hash, rq->body, rq->body_len);
    rs->body.len = 0;
    GUARD(g->store->ops->idem_begin(g->store, rq->tenant, o->idem_key, body_hash, rq->start_ms,
                                    &state, &status, &rs->body));
    switch (state) {
    case SIGIL_IDEM_NEW:
        o->reserved = true;
        return 0;
    case SIGIL_IDEM_DONE:
        o->replayed = true;
        rs->status = status;
        return 0;
    case SIGIL_IDEM_IN_PROGRESS:
        BAIL(SIGIL_E_CONFLICT, "Idempotency-Key: a request with this key is in progress");
    case SIGIL_IDEM_MISMATCH:
        BAIL(SIGIL_E_CONFLICT, "Idempotency-Key: already used with a different request");
    default:
        BAIL(SIGIL_E_INTERNAL, "Idempotency-Key: unknown state");
    }
}

static int sign_body(gw_resp *rs, const char *key_id, const gw_value *signed_json, const outcome *o)
{
    sigil_jw w;
    GUARD(key_body_begin(rs, &w, 200, key_id));
    GUARD(sigil_jw_key(&w, "action"));
    GUARD(sigil_jw_str(&w, o->action));
    GUARD(sigil_jw_key(&w, "signed"));
    GUARD(sigil_jw_raw(&w, (const char *)signed_json->p, signed_json->len));
    GUARD(put_receipt(&w, o));
    return sigil_jw_obj_end(&w);
}

static int sign_enclave(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o, gw_work *w, key_call *sc)
{
    static const gw_field SPEC[] = {{"signed", GW_F_TEXT, 0},
                                    {"receipt", GW_F_TEXT, 0},
                                    {"action", GW_F_TEXT, 0},
                                    {"usage", GW_F_BYTES_OR_NULL, 0}};
    static _Thread_local uint8_t peers_mem[GW_PEERS_MAX];
    sigil_frame f;
    gw_value v[4];
    sigil_json doc;
    sigil_buf_init(&sc->peers, peers_mem, sizeof(peers_mem));
    GUARD(gw_peers_get(g, sc->tenant, sc->key_id, &sc->peers));
    GUARD(call_decision(g, rq, o, "sign", 8, sign_args, sc, w, &f));
    GUARD(gw_result_read(&f, SPEC, 4, v));
    GUARD(keep_receipt(o, &f, &v[1]));
    if (v[3].p != NULL) {
        GUARD(gw_usage_take(&o->usage, o->usage_report, v[3].p, v[3].len));
        o->has_usage = true;
    }
    ENSURE(v[2].len >= 1 && v[2].len <= SIGIL_ACTION_MAX, SIGIL_E_PROTOCOL,
           "enclave result: action has a bad length");
    memcpy(o->action, v[2].p, v[2].len);
    o->action[v[2].len] = '\0';
    /* inserted verbatim, so it must be one strict JSON value */
    if (sigil_json_parse(&doc, (const char *)v[0].p, v[0].len, w->toks, GW_JSON_TOKS) != 0)
        BAIL(SIGIL_E_PROTOCOL, "enclave result: signed is not JSON: %s", sigil_errmsg());
    sigil_sha256(o->output_hash, v[0].p, v[0].len);
    o->has_output_hash = true;
    return sign_body(rs, sc->key_id, &v[0], o);
}

/* The key's record and sealed blob, through the read-through cache. */
static int key_load(gw_server *g, const char *tenant, const char *key_id, sigil_key_record *k,
                    sigil_buf *blob)
{
    static _Thread_local uint8_t entry[4096];
    char ck[SIGIL_TENANT_MAX + SIGIL_KEY_ID_MAX + 2];
    uint64_t now = (uint64_t)sigil_store_now_ms();
    size_t len = sizeof(entry);
    snprintf(ck, sizeof(ck), "%s/%s", tenant, key_id);
    if (gw_cache_get(g->key_cache, ck, entry, &len, now) && len >= sizeof(*k) &&
        len - sizeof(*k) <= blob->cap) {
        memcpy(k, entry, sizeof(*k));
        memcpy(blob->data, entry + sizeof(*k), len - sizeof(*k));
        blob->len = len - sizeof(*k);
        return 0;
    }
    GUARD(g->store->ops->key_get(g->store, tenant, key_id, k, blob));
    if (sizeof(*k) + blob->len <= sizeof(entry)) {
        memcpy(entry, k, sizeof(*k));
        memcpy(entry + sizeof(*k), blob->data, blob->len);
        gw_cache_put(g->key_cache, ck, entry, sizeof(*k) + blob->len, now);
    }
    return 0;
}

static int sign_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    gw_work *w = gw_work_get();
    gw_sign_body body;
    sigil_json doc;
    sigil_key_record k;
    sigil_buf blob;
    GUARD(json_body_check(w, rq));
    GUARD(gw_parse_sign_body(&body, &doc, w->toks, GW_JSON_TOKS, rq->body, rq->body_len));
    memcpy(rq->key_id, body.key_id, sizeof(rq->key_id));
    sigil_sha256(o->request_hash, body.request.p, body.request.len);
    o->has_request_hash = true;
    if (rq->idem_count > 0) {
        GUARD(idem_begin(g, rq, rs, o));
        if (o->replayed)
            return 0;
    }
    sigil_buf_init(&blob, w->blob, sizeof(w->blob));
    GUARD(key_load(g, rq->tenant, body.key_id, &k, &blob));
    memcpy(rq->venue, k.venue, sizeof(rq->venue));
    /* A revoked key still goes to the enclave: its refusal is the receipt. */
    ENSURE(k.state != SIGIL_KEY_DISABLED, SIGIL_E_KEY_DISABLED,
           "key: disabled by its tenant (POST /v1/keys/{key_id}/enable turns it back on)");
    key_call sc = {rq->tenant, body.key_id, blob.data, blob.len, &body, {0}};
    return sign_enclave(g, rq, rs, o, w, &sc);
}

int gw_h_sign(gw_server *g, gw_req *rq, gw_resp *rs)
{
    outcome o = {.op = "sign"};
    int rc = sign_run(g, rq, rs, &o);
    return finish(g, rq, rs, &o, rc);
}

/* ---- changes to a stored key: PUT /v1/keys/{key_id}/policy,
 * PUT /v1/keys/{key_id}/credentials, POST /v1/keys/{key_id}/rewrap ---- */

/* The stored key (never the cached copy: the swap compares against what
 * was read here) and the policy hash the swap will expect. */
static int key_read(gw_server *g, gw_req *rq, sigil_key_record *k, sigil_buf *blob,
                    uint8_t old_hash[32], gw_work *w)
{
    sigil_buf_init(blob, w->blob, sizeof(w->blob));
    GUARD(g->store->ops->key_get(g->store, rq->tenant, rq->key_id, k, blob));
    memcpy(old_hash, k->policy_hash, 32);
    return 0;
}

/* Stores the enclave's new blob by compare-and-swap on the policy hash the
 * old one was read with (a concurrent change is SIGIL_E_CONFLICT) and drops
 * the cached copy. */
static int key_swap(gw_server *g, gw_req *rq, outcome *o, const uint8_t old_hash[32],
                    const sigil_key_record *k, const gw_value *blob)
{
    ENSURE(blob->len > 0 && blob->len <= GW_BLOB_MAX, SIGIL_E_PROTOCOL,
           "enclave result: blob has a bad length");
    sigil_sha256(o->output_hash, blob->p, blob->len);
    o->has_output_hash = true;
    GUARD(g->store->ops->key_update(g->store, rq->tenant, rq->key_id, old_hash, k, blob->p,
                                    blob->len));
    drop_cached_key(g, rq);
    return 0;
}

static int policy_args(void *ctx, sigil_buf *b)
{
    const key_call *pc = ctx;
    GUARD(put_key_args(b, pc->tenant, pc->key_id, pc->blob, pc->blob_len));
    const gw_policy_body *pb = pc->body;
    if (pb == NULL) /* rewrap: the key alone */
        return 0;
    GUARD(sigil_cbor_put_cstr(b, "policy"));
    GUARD(sigil_cbor_put_text(b, pb->policy.p, pb->policy.len));
    GUARD(sigil_cbor_put_cstr(b, "policy_signature"));
    return sigil_cbor_put_bytes(b, pb->signature, sizeof(pb->signature));
}

static int policy_body(gw_resp *rs, const sigil_key_record *k, const outcome *o)
{
    sigil_jw w;
    GUARD(key_body_begin(rs, &w, 200, k->key_id));
    GUARD(gw_jw_hex(&w, "policy_hash", k->policy_hash, sizeof(k->policy_hash)));
    GUARD(sigil_jw_key(&w, "version"));
    GUARD(sigil_jw_u64(&w, k->policy_version));
    GUARD(put_receipt(&w, o));
    return sigil_jw_obj_end(&w);
}

enum { P_BLOB, P_HASH, P_VERSION, P_RECEIPT, P_COUNT };

/* The enclave's `policy` (body: the parsed policy) or `rewrap` (body NULL)
 * on the stored key; the answer is the new blob, policy hash and version. */
static int reseal_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o, const gw_policy_body *body)
{
    static const gw_field SPEC[P_COUNT] = {
        [P_BLOB] = {"blob", GW_F_BYTES, 0},
        [P_HASH] = {"policy_hash", GW_F_BYTES, 32},
        [P_VERSION] = {"version", GW_F_UINT, 0},
        [P_RECEIPT] = {"receipt", GW_F_TEXT, 0},
    };
    gw_work *w = gw_work_get();
    sigil_key_record k;
    sigil_buf blob;
    sigil_frame f;
    gw_value v[P_COUNT];
    uint8_t old_hash[32];
    GUARD(key_read(g, rq, &k, &blob, old_hash, w));
    if (body == NULL) { /* a rewrap's request is the blob it re-seals */
        sigil_sha256(o->request_hash, blob.data, blob.len);
        o->has_request_hash = true;
    }
    key_call pc = {rq->tenant, rq->key_id, blob.data, blob.len, body, {0}};
    GUARD(call_decision(g, rq, o, body != NULL ? "policy" : "rewrap", body != NULL ? 5 : 3,
                        policy_args, &pc, w, &f));
    GUARD(gw_result_read(&f, SPEC, P_COUNT, v));
    GUARD(keep_receipt(o, &f, &v[P_RECEIPT]));
    memcpy(k.policy_hash, v[P_HASH].p, sizeof(k.policy_hash));
    k.policy_version = v[P_VERSION].u;
    GUARD(key_swap(g, rq, o, old_hash, &k, &v[P_BLOB]));
    return policy_body(rs, &k, o);
}

static int policy_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    gw_work *w = gw_work_get();
    gw_policy_body body;
    sigil_json doc;
    GUARD(gw_key_param(rq));
    GUARD(json_body_check(w, rq));
    GUARD(gw_parse_policy_body(&body, &doc, w->toks, GW_JSON_TOKS, rq->body, rq->body_len));
    sigil_sha256(o->request_hash, body.policy.p, body.policy.len);
    o->has_request_hash = true;
    return reseal_run(g, rq, rs, o, &body);
}

int gw_h_key_policy(gw_server *g, gw_req *rq, gw_resp *rs)
{
    outcome o = {.op = "policy_update"};
    (void)snprintf(o.action, sizeof(o.action), "policy_update");
    int rc = policy_run(g, rq, rs, &o);
    return finish(g, rq, rs, &o, rc);
}

static int rewrap_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    GUARD(gw_key_param(rq));
    ENSURE(rq->body_len == 0, SIGIL_E_BAD_REQUEST,
           "body: POST /v1/keys/{key_id}/rewrap takes no body");
    return reseal_run(g, rq, rs, o, NULL);
}

int gw_h_key_rewrap(gw_server *g, gw_req *rq, gw_resp *rs)
{
    outcome o = {.op = "rewrap"};
    (void)snprintf(o.action, sizeof(o.action), "rewrap");
    int rc = rewrap_run(g, rq, rs, &o);
    return finish(g, rq, rs, &o, rc);
}

/* ---- PUT /v1/keys/{key_id}/credentials ---- */
static int rotate_args(void *ctx, sigil_buf *b)
{
    const key_call *rc = ctx;
    const sigil_buf *sealed = rc->body;
    GUARD(put_key_args(b, rc->tenant, rc->key_id, rc->blob, rc->blob_len));
    GUARD(sigil_cbor_put_cstr(b, "sealed"));
    return sigil_cbor_put_bytes(b, sealed->data, sealed->len);
}

static int rotate_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    gw_work *w = gw_work_get();
    sigil_buf sealed, blob;
    sigil_frame f;
    gw_value v[I_COUNT];
    sigil_key_record k, nk;
    sigil_json doc;
    uint8_t old_hash[32];
    GUARD(gw_key_param(rq));
    GUARD(json_body_check(w, rq));
    sigil_buf_init(&sealed, w->sealed, sizeof(w->sealed));
    GUARD(gw_parse_import_body(&sealed, &doc, w->toks, GW_JSON_TOKS, rq->body, rq->body_len));
    sigil_sha256(o->request_hash, sealed.data, sealed.len);
    o->has_request_hash = true;
    GUARD(key_read(g, rq, &k, &blob, old_hash, w));
    key_call rc = {rq->tenant, rq->key_id, blob.data, blob.len, &sealed, {0}};
    GUARD(call_decision(g, rq, o, "rotate", 4, rotate_args, &rc, w, &f));
    GUARD(gw_result_read(&f, IMPORT_SPEC, I_COUNT, v));
    GUARD(keep_receipt(o, &f, &v[I_RECEIPT]));
    GUARD(import_record(&nk, rq, v));
    ENSURE(strcmp(nk.key_id, rq->key_id) == 0 && strcmp(nk.venue, k.venue) == 0 &&
               strcmp(nk.network, k.network) == 0,
           SIGIL_E_PROTOCOL, "enclave result: the rotated key is not the stored one");
    nk.created_ms = k.created_ms;
    GUARD(key_swap(g, rq, o, old_hash, &nk, &v[I_BLOB]));
    return import_body(rs, &nk, o, 200);
}

int gw_h_key_credentials(gw_server *g, gw_req *rq, gw_resp *rs)
{
    outcome o = {.op = "rotate"};
    (void)snprintf(o.action, sizeof(o.action), "rotate");
    int rc = rotate_run(g, rq, rs, &o);
    return finish(g, rq, rs, &o, rc);
}

/* ---- POST /v1/keys/{key_id}/revoke ---- */

static int state_body(gw_resp *rs, const char *key_id, sigil_key_state state, const outcome *o)
{
    sigil_jw w;
    GUARD(key_body_begin(rs, &w, 200, key_id));
    GUARD(sigil_jw_key(&w, "state"));
    GUARD(sigil_jw_str(&w, sigil_key_state_name(state)));
    if (o->receipt_len > 0)
        GUARD(put_receipt(&w, o));
    return sigil_jw_obj_end(&w);
}

/* The enclave accepted the signature: keep it (again, if a first store
 * failed) so that every later enclave boot hears of it. */
static int revocation_keep(gw_server *g, gw_req *rq, const gw_revocation *r)
{
    GUARD(g->store->ops->revocation_put(g->store, &r->rec, r->blob, r->blob_len));
    drop_cached_key(g, rq);
    return 0;
}

static int revoke_run(gw_server *g, gw_req *rq, gw_resp *rs, outcome *o)
{
    static const gw_field SPEC[] = {{"added", GW_F_BOOL, 0}, {"receipt", GW_F_TEXT, 0}};
    gw_work *w = gw_work_get();
    gw_revocation r = {.replay = false};
    sigil_json doc;
    sigil_key_record k;
    sigil_buf blob;
    sigil_frame f;
    gw_value v[2];
    GUARD(gw_key_param(rq));
    GUARD(json_body_check(w, rq));
    GUARD(
        gw_parse_revoke_body(r.rec.signature, &doc, w->toks, GW_JSON_TOKS, rq->body, rq->body_len));
    sigil_sha256(o->request_hash, r.rec.signature, sizeof(r.rec.signature));
    o->has_request_hash = true;
    sigil_buf_init(&blob, w->blob, sizeof(w->blob));
    GUARD(g->store->ops->key_get(g->store, rq->tenant, rq->key_id, &k, &blob));
    memcpy(r.rec.tenant, rq->tenant, sizeof(r.rec.tenant));
    memcpy(r.rec.key_id, rq->key_id, sizeof(r.rec.key_id));
    r.rec.created_ms = rq->start_ms;
    r.blob = blob.data;
    r.blob_len = blob.len;
    if (call_decision(g, rq, o, "revoke", 5, gw_revocation_args, &r, w, &f) != 0) {
        /* "already revoked" comes only after the signature verified */
        if (sigil_errno() == SIGIL_E_REVOKED && o->receipt_len > 0) {
            char msg[512];
            (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
            GUARD(revocation_keep(g, rq, &r));
            BAIL(SIGIL_E_REVOKED, "%s", msg);
        }
        return -1;
    }
    GUARD(gw_result_read(&f, SPEC, 2, v));
    GUARD(keep_receipt(o, &f, &v[1]));
    GUARD(revocation_keep(g, rq, &r));
    return state_body(rs, rq->key_id, SIGIL_KEY_REVOKED, o);
}

int gw_h_key_revoke(gw_server *g, gw_req *rq, gw_resp *rs)
{
    outcome o = {.op = "revoke"};
    (void)snprintf(o.action, sizeof(o.action), "revoke");
    int rc = revoke_run(g, rq, rs, &o);
    return finish(g, rq, rs, &o, rc);
}

/* ---- POST /v1/keys/{key_id}/disable and /enable ---- */

static int set_state_run(gw_server *g, gw_req *rq, gw_resp *rs, const outcome *o,
                         sigil_key_state from, sigil_key_state to)
{
    GUARD(gw_key_param(rq));
    ENSURE(rq->body_len == 0, SIGIL_E_BAD_REQUEST, "body: this route takes no body");
    drop_cached_key(g, rq);
    GUARD(g->store->ops->key_set_state(g->store, rq->tenant, rq->key_id, from, to));
    drop_cached_key(g, rq); /* a racing sign may have refilled it */
    return state_body(rs, rq->key_id, to, o);
}

static int set_state(gw_server *g, gw_req *rq, gw_resp *rs, const char *op, sigil_key_state from,
                     sigil_key_state to)
{
    outcome o = {.op = op};
    (void)snprintf(o.action, sizeof(o.action), "%s", op);
    int rc = set_state_run(g, rq, rs, &o, from, to);
    return finish(g, rq, rs, &o, rc);
}

int gw_h_key_disable(gw_server *g, gw_req *rq, gw_resp *rs)
{
    return set_state(g, rq, rs, "disable", SIGIL_KEY_ACTIVE, SIGIL_KEY_DISABLED);
}

int gw_h_key_enable(gw_server *g, gw_req *rq, gw_resp *rs)
{
    return set_state(g, rq, rs, "enable", SIGIL_KEY_DISABLED, SIGIL_KEY_ACTIVE);
}
