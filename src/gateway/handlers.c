/*
 * Handlers that neither sign nor import: health, readiness, metrics,
 * attestation relay, archived boot documents, listing and deleting keys.
 * Untrusted host code: it relays what the enclave attests, it cannot alter
 * it (clients verify the document themselves).
 */
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"

#define READY_TTL_US 1000000u

static int json_begin(gw_resp *rs, sigil_jw *w, unsigned status)
{
    rs->status = status;
    rs->body.len = 0;
    sigil_jw_init(w, &rs->body);
    return sigil_jw_obj_begin(w);
}

int gw_h_healthz(gw_server *g, gw_req *rq, gw_resp *rs)
{
    sigil_jw w;
    (void)rq;
    GUARD(json_begin(rs, &w, 200));
    GUARD(sigil_jw_key(&w, "status"));
    GUARD(sigil_jw_str(&w, "ok"));
    GUARD(sigil_jw_key(&w, "mode"));
    GUARD(sigil_jw_str(&w, g->mode));
    return sigil_jw_obj_end(&w);
}

/* ---- /readyz ---- */
static int ping_args(void *ctx, sigil_buf *b)
{
    (void)ctx;
    GUARD(sigil_cbor_put_cstr(b, "probe_kms"));
    return sigil_cbor_put_bool(b, true);
}

/* Asks the enclave; fills the cached verdict (status 200 or 503). */
static void ready_probe(gw_server *g, const gw_req *rq)
{
    static const gw_field SPEC[] = {{"booted", GW_F_BOOL, 0},
                                    {"time_ms", GW_F_UINT, 0},
                                    {"kms", GW_F_TEXT, 0},
                                    {"boot_id", GW_F_BYTES_OR_NULL, SIGIL_BOOT_ID_LEN},
                                    {"receipt_seq", GW_F_UINT, 0}};
    gw_work *w = gw_work_get();
    gw_value v[5];
    sigil_buf frame, in;
    sigil_frame f;
    g->ready_status = 503;
    if (gw_enclave_ready_conns(g->enclave) == 0) {
        gw_enclave_down_reason(g->enclave, g->ready_msg, sizeof(g->ready_msg));
        return;
    }
    if (w == NULL) {
        snprintf(g->ready_msg, sizeof(g->ready_msg), "gateway: out of memory");
        return;
    }
    sigil_buf_init(&frame, w->frame, sizeof(w->frame));
    sigil_buf_init(&in, w->in, sizeof(w->in));
    if (gw_enclave_call(g->enclave, "ping", 1, ping_args, NULL, &frame, &in, gw_deadline(g, rq),
                        &f) != 0 ||
        gw_result_read(&f, SPEC, 5, v) != 0) {
        snprintf(g->ready_msg, sizeof(g->ready_msg), "%s", sigil_errmsg());
        return;
    }
    snprintf(g->ready_kms, sizeof(g->ready_kms), "%.*s", (int)(v[2].len < 15 ? v[2].len : 15),
             (const char *)v[2].p);
    if (!v[0].b || v[3].null) {
        snprintf(g->ready_msg, sizeof(g->ready_msg), "enclave: not booted");
        return;
    }
    if (strcmp(g->ready_kms, "down") == 0) {
        snprintf(g->ready_msg, sizeof(g->ready_msg), "key service: down");
        return;
    }
    if (gw_ready_store(g, g->ready_msg, sizeof(g->ready_msg)) != 0)
        return;
    memcpy(g->ready_boot_id, v[3].p, SIGIL_BOOT_ID_LEN);
    g->ready_receipt_seq = v[4].u;
    g->ready_status = 200;
}

static int ready_body(gw_server *g, gw_resp *rs)
{
    sigil_jw w;
    GUARD(json_begin(rs, &w, 200));
    GUARD(sigil_jw_key(&w, "status"));
    GUARD(sigil_jw_str(&w, "ready"));
    GUARD(sigil_jw_key(&w, "mode"));
    GUARD(sigil_jw_str(&w, g->mode));
    GUARD(gw_jw_hex(&w, "boot_id", g->ready_boot_id, SIGIL_BOOT_ID_LEN));
    GUARD(sigil_jw_key(&w, "kms"));
    GUARD(sigil_jw_str(&w, g->ready_kms));
    GUARD(sigil_jw_key(&w, "receipt_seq"));
    GUARD(sigil_jw_u64(&w, g->ready_receipt_seq));
    GUARD(sigil_jw_key(&w, "enclave_connections"));
    GUARD(sigil_jw_u64(&w, gw_enclave_ready_conns(g->enclave)));
    return sigil_jw_obj_end(&w);
}

int gw_h_readyz(gw_server *g, gw_req *rq, gw_resp *rs)
{
    int rc;
    (void)pthread_mutex_lock(&g->ready_mu);
    uint64_t now = gw_mono_us();
    if (!g->ready_cached || now - g->ready_at_us > READY_TTL_US) {
        ready_probe(g, rq);
        g->ready_at_us = gw_mono_us();
        g->ready_cached = true;
    }
    if (g->ready_status == 200)
        rc = ready_body(g, rs);
    else
        rc = sigil_fail(SIGIL_E_UNAVAILABLE, "%s", g->ready_msg);
    (void)pthread_mutex_unlock(&g->ready_mu);
    return rc;
}

int gw_h_metrics(gw_server *g, gw_req *rq, gw_resp *rs)
{
    (void)g;
    (void)rq;
    rs->status = 200;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
    rs->body.len = 0;
    return gw_metrics_render(&rs->body, GW_ROUTE_NAMES, GW_NROUTES);
}

/* ---- attestation ---- */
typedef struct {
    const uint8_t *nonce;
    size_t len;
} nonce_ctx;

static int attestation_args(void *ctx, sigil_buf *b)
{
    const nonce_ctx *n = ctx;
    GUARD(sigil_cbor_put_cstr(b, "nonce"));
    return sigil_cbor_put_bytes(b, n->nonce, n->len);
}

enum { A_DOC, A_BOOT_ID, A_SEALING, A_RECEIPT, A_MEASUREMENT, A_COUNT };

static int attestation_body(gw_server *g, gw_resp *rs, const gw_value *v)
{
    sigil_jw w;
    GUARD(json_begin(rs, &w, 200));
    GUARD(gw_jw_b64(&w, "document", v[A_DOC].p, v[A_DOC].len));
    GUARD(gw_jw_hex(&w, "measurement", v[A_MEASUREMENT].p, v[A_MEASUREMENT].len));
    GUARD(sigil_jw_key(&w, "mode"));
    GUARD(sigil_jw_str(&w, g->mode));
    GUARD(gw_jw_hex(&w, "sealing_key", v[A_SEALING].p, v[A_SEALING].len));
    GUARD(gw_jw_hex(&w, "receipt_key", v[A_RECEIPT].p, v[A_RECEIPT].len));
    GUARD(gw_jw_hex(&w, "boot_id", v[A_BOOT_ID].p, v[A_BOOT_ID].len));
    GUARD(sigil_jw_obj_end(&w));
    rs->no_store = true;
    return 0;
}

int gw_h_attestation(gw_server *g, gw_req *rq, gw_resp *rs)
{
    static const gw_field SPEC[A_COUNT] = {
        [A_DOC] = {"document", GW_F_BYTES, 0},
        [A_BOOT_ID] = {"boot_id", GW_F_BYTES, SIGIL_BOOT_ID_LEN},
        [A_SEALING] = {"sealing_key", GW_F_BYTES, 32},
        [A_RECEIPT] = {"receipt_key", GW_F_BYTES, 32},
        [A_MEASUREMENT] = {"measurement", GW_F_BYTES, SIGIL_MEASUREMENT_LEN},
    };
    uint8_t nonce[GW_NONCE_MAX];
    nonce_ctx nc = {nonce, 0};
    gw_value v[A_COUNT];
    sigil_buf frame, in;
    sigil_frame f;
    gw_work *w = gw_work_get();
    const char *hex = rq->nquery == 1 ? rq->query[0].value : NULL;
    rs->no_store = true;
    ENSURE(w != NULL, SIGIL_E_NO_MEMORY, "gateway: out of memory");
    GUARD(gw_parse_nonce(nonce, &nc.len, hex, hex != NULL ? strnlen(hex, 1024) : 0));
    sigil_buf_init(&frame, w->frame, sizeof(w->frame));
    sigil_buf_init(&in, w->in, sizeof(w->in));
    GUARD(gw_enclave_call(g->enclave, "attestation", 1, attestation_args, &nc, &frame, &in,
                          gw_deadline(g, rq), &f));
    GUARD(gw_result_read(&f, SPEC, A_COUNT, v));
    return attestation_body(g, rs, v);
}

int gw_h_boot(gw_server *g, gw_req *rq, gw_resp *rs)
{
    uint8_t boot_id[SIGIL_BOOT_ID_LEN];
    sigil_boot_record rec;
    sigil_buf doc;
    sigil_jw w;
    gw_work *wk = gw_work_get();
    ENSURE(wk != NULL, SIGIL_E_NO_MEMORY, "gateway: out of memory");
    GUARD(gw_parse_boot_id(boot_id, rq->param.p, rq->param.len));
    sigil_buf_init(&doc, wk->in, sizeof(wk->in));
    GUARD(g->store->ops->boot_get(g->store, boot_id, &rec, &doc));
    GUARD(json_begin(rs, &w, 200));
    GUARD(gw_jw_hex(&w, "boot_id", rec.boot_id, sizeof(rec.boot_id)));
    GUARD(gw_jw_b64(&w, "document", doc.data, doc.len));
    GUARD(gw_jw_hex(&w, "measurement", rec.measurement, sizeof(rec.measurement)));
    GUARD(sigil_jw_key(&w, "created_at"));
    GUARD(sigil_jw_u64(&w, (uint64_t)rec.created_ms));
    return sigil_jw_obj_end(&w);
}

/* ---- keys: list and delete ---- */
static int key_json(void *ctx, const sigil_key_record *k)
{
    sigil_jw *w = ctx;
    GUARD(sigil_jw_obj_begin(w));
    GUARD(sigil_jw_key(w, "key_id"));
    GUARD(sigil_jw_str(w, k->key_id));
    GUARD(sigil_jw_key(w, "venue"));
    GUARD(sigil_jw_str(w, k->venue));
    GUARD(sigil_jw_key(w, "network"));
    GUARD(sigil_jw_str(w, k->network));
    GUARD(sigil_jw_key(w, "key_type"));
    GUARD(sigil_jw_str(w, k->key_type));
    if (k->address[0] != '\0') {
        GUARD(sigil_jw_key(w, "address"));
        GUARD(sigil_jw_str(w, k->address));
    }
    GUARD(gw_jw_hex(w, "policy_hash", k->policy_hash, sizeof(k->policy_hash)));
    GUARD(sigil_jw_key(w, "policy_version"));
    GUARD(sigil_jw_u64(w, k->policy_version));
    GUARD(sigil_jw_key(w, "created_at"));
    GUARD(sigil_jw_u64(w, (uint64_t)k->created_ms));
    GUARD(sigil_jw_key(w, "state"));
    GUARD(sigil_jw_str(w, sigil_key_state_name(k->state)));
    if (k->client_key >= 0) {
        GUARD(sigil_jw_key(w, "client_key"));
        GUARD(sigil_jw_bool(w, k->client_key == 1));
    }
    return sigil_jw_obj_end(w);
}

int gw_h_keys_list(gw_server *g, gw_req *rq, gw_resp *rs)
{
    sigil_jw w;
    GUARD(json_begin(rs, &w, 200));
    GUARD(sigil_jw_key(&w, "keys"));
    GUARD(sigil_jw_arr_begin(&w));
    GUARD(g->store->ops->key_list(g->store, rq->tenant, key_json, &w));
    GUARD(sigil_jw_arr_end(&w));
    return sigil_jw_obj_end(&w);
}

int gw_h_keys_delete(gw_server *g, gw_req *rq, gw_resp *rs)
{
    GUARD(gw_key_param(rq));
    char ck[SIGIL_TENANT_MAX + SIGIL_KEY_ID_MAX + 2];
    snprintf(ck, sizeof(ck), "%s/%s", rq->tenant, rq->key_id);
    gw_cache_drop(g->key_cache, ck);
    GUARD(g->store->ops->key_delete(g->store, rq->tenant, rq->key_id, sigil_store_now_ms()));
    gw_cache_drop(g->key_cache, ck); /* a racing sign may have refilled it */
    rs->status = 204;
    rs->body.len = 0;
    return 0;
}
