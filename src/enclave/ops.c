/*
 * The enclave's operation table (trusted; docs/FRAMES.md). Arguments are
 * read against a per-operation spec — unknown or missing keys are refused —
 * and every handler writes one complete response frame. Error messages
 * cross into the untrusted host, so they never carry secret material.
 */
#include <stdio.h>
#include <string.h>

#include "enclave/enclave.h"

typedef sigil_frame_field arg_spec;
typedef sigil_frame_value arg_val;

/* Unknown argument keys are refused with bad_request; the connection stays. */
static int args_read(const sigil_frame *f, const arg_spec *spec, size_t n, arg_val *vals)
{
    return sigil_frame_fields(f->body, spec, n, vals, SIGIL_E_BAD_REQUEST);
}

/* ---- result writing ---- */

static int put_bytes_kv(sigil_buf *b, const char *k, const void *p, size_t n)
{
    GUARD(sigil_cbor_put_cstr(b, k));
    return sigil_cbor_put_bytes_or_null(b, p, n);
}

static int put_text_kv(sigil_buf *b, const char *k, const char *v)
{
    GUARD(sigil_cbor_put_cstr(b, k));
    return v == NULL ? sigil_cbor_put_null(b) : sigil_cbor_put_cstr(b, v);
}

/* boot_id, sealing_key, receipt_key and measurement (4 pairs). */
static int put_boot_facts(sigil_buf *b, enclave_state *st)
{
    GUARD(put_bytes_kv(b, "boot_id", st->boot_id, sizeof(st->boot_id)));
    GUARD(put_bytes_kv(b, "sealing_key", st->sealing_pk, sizeof(st->sealing_pk)));
    GUARD(put_bytes_kv(b, "receipt_key", st->receipt_pk, sizeof(st->receipt_pk)));
    return put_bytes_kv(b, "measurement", st->measurement, sizeof(st->measurement));
}

static int require_booted(enclave_state *st)
{
    pthread_mutex_lock(&st->lock);
    bool booted = st->booted;
    pthread_mutex_unlock(&st->lock);
    ENSURE(booted, SIGIL_E_UNAVAILABLE, "enclave: not booted yet (no seed from the key service)");
    return 0;
}

/* The receipt of the decision this thread's current operation made; the
 * dispatcher puts it into the error frame of a denial. */
static _Thread_local uint8_t tl_receipt_mem[SIGIL_RECEIPT_MAX_BYTES + 256];
static _Thread_local sigil_buf tl_receipt;

static sigil_buf *receipt_buf(void)
{
    sigil_buf_init(&tl_receipt, tl_receipt_mem, sizeof(tl_receipt_mem));
    return &tl_receipt;
}

/* The blob a key operation (import, policy, rotate, rewrap) writes. */
static _Thread_local uint8_t tl_blob_mem[128 * 1024];
static _Thread_local sigil_buf tl_blob;

static sigil_buf *blob_buf(void)
{
    sigil_buf_init(&tl_blob, tl_blob_mem, sizeof(tl_blob_mem));
    return &tl_blob;
}

/* A key operation's arguments, once the enclave is booted. */
static int key_op_args(enclave_state *st, const sigil_frame *f, const arg_spec *spec, size_t n,
                       arg_val *vals)
{
    GUARD(args_read(f, spec, n, vals));
    return require_booted(st);
}

static int put_receipt(sigil_buf *out)
{
    GUARD(sigil_cbor_put_cstr(out, "receipt"));
    return sigil_cbor_put_text(out, (const char *)tl_receipt.data, tl_receipt.len);
}

/* ---- handlers ---- */

typedef int (*op_fn)(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out);

static int op_ping(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    static const arg_spec spec[] = {{"probe_kms", SIGIL_FF_BOOL, 0}};
    arg_val a[1];
    GUARD(args_read(f, spec, 1, a));
    pthread_mutex_lock(&st->lock);
    bool booted = st->booted;
    pthread_mutex_unlock(&st->lock);
    if (a[0].b && booted) {
        SIGIL_SECRET(seed);
        /* The outcome is recorded in kms_ok; the seed itself is wiped. */
        if (enclave_kms_decrypt(st, &seed, st->seed_ct, st->seed_ct_len) != 0)
            sigil_clear_error();
    }
    pthread_mutex_lock(&st->lock);
    const char *kms = !st->kms_called ? "unknown" : st->kms_ok ? "ok" : "down";
    pthread_mutex_unlock(&st->lock);
    GUARD(sigil_frame_begin_result(out, v, f->id, 5));
    GUARD(sigil_cbor_put_cstr(out, "receipt_seq"));
    GUARD(sigil_cbor_put_uint(out, enclave_receipt_seq(st)));
    GUARD(sigil_cbor_put_cstr(out, "booted"));
    GUARD(sigil_cbor_put_bool(out, booted));
    GUARD(sigil_cbor_put_cstr(out, "time_ms"));
    GUARD(sigil_cbor_put_uint(out, enclave_now_ms()));
    GUARD(put_text_kv(out, "kms", kms));
    GUARD(put_bytes_kv(out, "boot_id", booted ? st->boot_id : NULL, sizeof(st->boot_id)));
    return sigil_frame_finish(out);
}

/* {access_key_id, secret_access_key, session_token|null, region} */
static int boot_creds(enclave_state *st, sigil_cursor map)
{
    static const arg_spec spec[] = {{"access_key_id", SIGIL_FF_TEXT, 0},
                                    {"secret_access_key", SIGIL_FF_TEXT, 0},
                                    {"session_token", SIGIL_FF_TEXT_OR_NULL, 0},
                                    {"region", SIGIL_FF_TEXT, 0}};
    arg_val a[4];
    sigil_aws_creds creds;
    memset(&creds, 0, sizeof(creds));
    GUARD(sigil_frame_fields(map, spec, 4, a, SIGIL_E_BAD_REQUEST));
    GUARD(sigil_aws_creds_set(&creds, (const char *)a[0].p, a[0].len, a[1].p, a[1].len,
                              (const char *)a[2].p, a[2].len, (const char *)a[3].p, a[3].len));
    int rc = sigil_kms_client_set_creds(st->kms, &creds);
    sigil_aws_creds_clear(&creds);
    return rc;
}

static pthread_mutex_t boot_lock = PTHREAD_MUTEX_INITIALIZER;

static int op_boot(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    static const arg_spec spec[] = {{"seed_ciphertext", SIGIL_FF_BYTES_OR_NULL, 0},
                                    {"kms", SIGIL_FF_MAP, 0}};
    arg_val a[2];
    GUARD(args_read(f, spec, 2, a));
    pthread_mutex_lock(&boot_lock);
    int rc = boot_creds(st, a[1].map);
    if (rc == 0 && !st->booted)
        rc = enclave_boot(st, a[0].p, a[0].len);
    pthread_mutex_unlock(&boot_lock);
    GUARD(rc);
    GUARD(sigil_frame_begin_result(out, v, f->id, 6));
    GUARD(put_bytes_kv(out, "seed_ciphertext", st->seed_ct, st->seed_ct_len));
    GUARD(put_bytes_kv(out, "document", st->boot_doc, st->boot_doc_len));
    GUARD(put_boot_facts(out, st));
    return sigil_frame_finish(out);
}

static int op_attestation(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    static const arg_spec spec[] = {{"nonce", SIGIL_FF_BYTES, 0}};
    static _Thread_local uint8_t mem[ENCLAVE_DOC_MAX];
    arg_val a[1];
    sigil_buf doc;
    GUARD(args_read(f, spec, 1, a));
    ENSURE(a[0].len >= 1 && a[0].len <= 64, SIGIL_E_BAD_FIELD, "nonce: must be 1..64 bytes");
    GUARD(require_booted(st));
    sigil_buf_init(&doc, mem, sizeof(mem));
    GUARD(enclave_attest(st, &doc, a[0].p, a[0].len, NULL, 0));
    GUARD(sigil_frame_begin_result(out, v, f->id, 5));
    GUARD(put_bytes_kv(out, "document", doc.data, doc.len));
    GUARD(put_boot_facts(out, st));
    return sigil_frame_finish(out);
}

/* The result of import and rotate: the key's public facts, its blob and the receipt. */
static int put_key_result(sigil_buf *out, uint64_t v, const sigil_frame *f,
                          const enclave_import_result *r, const sigil_buf *blob)
{
    GUARD(sigil_frame_begin_result(out, v, f->id, 10));
    GUARD(put_receipt(out));
    GUARD(sigil_cbor_put_cstr(out, "client_key"));
    GUARD(sigil_cbor_put_bool(out, r->client_key));
    GUARD(sigil_cbor_put_cstr(out, "version"));
    GUARD(sigil_cbor_put_uint(out, r->policy_version));
    GUARD(put_text_kv(out, "key_id", r->key_id));
    GUARD(put_text_kv(out, "venue", r->venue));
    GUARD(put_text_kv(out, "network", r->network));
    GUARD(put_text_kv(out, "key_type", r->key_type));
    GUARD(put_text_kv(out, "address", r->address[0] != '\0' ? r->address : NULL));
    GUARD(put_bytes_kv(out, "policy_hash", r->policy_hash, sizeof(r->policy_hash)));
    GUARD(put_bytes_kv(out, "blob", blob->data, blob->len));
    return sigil_frame_finish(out);
}

/* The result of policy and rewrap: the new blob, its policy and the receipt. */
static int put_blob_result(sigil_buf *out, uint64_t v, const sigil_frame *f,
                           const enclave_policy_result *r, const sigil_buf *blob)
{
    GUARD(sigil_frame_begin_result(out, v, f->id, 4));
    GUARD(put_bytes_kv(out, "blob", blob->data, blob->len));
    GUARD(put_bytes_kv(out, "policy_hash", r->policy_hash, sizeof(r->policy_hash)));
    GUARD(sigil_cbor_put_cstr(out, "version"));
    GUARD(sigil_cbor_put_uint(out, r->version));
    GUARD(put_receipt(out));
    return sigil_frame_finish(out);
}

static int op_import(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    static const arg_spec spec[] = {{"tenant", SIGIL_FF_TEXT, 0}, {"sealed", SIGIL_FF_BYTES, 0}};
    arg_val a[2];
    enclave_import_result r;
    sigil_buf *blob = blob_buf();
    GUARD(key_op_args(st, f, spec, 2, a));
    enclave_import_args ia = {.tenant = (const char *)a[0].p,
                              .tenant_len = a[0].len,
                              .sealed = a[1].p,
                              .sealed_len = a[1].len};
    GUARD(enclave_import(st, &r, blob, receipt_buf(), &ia));
    return put_key_result(out, v, f, &r, blob);
}

/* args 0..2 of sign, policy, rotate, rewrap and revoke: tenant, key_id, blob. */
static enclave_key_ref key_ref(const arg_val *a)
{
    return (enclave_key_ref){.tenant = (const char *)a[0].p,
                             .tenant_len = a[0].len,
                             .key_id = (const char *)a[1].p,
                             .key_id_len = a[1].len,
                             .blob = a[2].p,
                             .blob_len = a[2].len};
}

static int op_sign(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    static const arg_spec spec[] = {
        {"tenant", SIGIL_FF_TEXT, 0},
        {"key_id", SIGIL_FF_TEXT, 0},
        {"blob", SIGIL_FF_BYTES, 0},
        {"request", SIGIL_FF_TEXT, 0},
        {"client_sig", SIGIL_FF_BYTES_OR_NULL, 0},
        {"client_ts", SIGIL_FF_UINT, 0},
        {"client_nonce", SIGIL_FF_TEXT_OR_NULL, 0},
        {"peers", SIGIL_FF_BYTES_OR_NULL, 0},
    };
    static _Thread_local uint8_t signed_mem[SIGIL_FRAME_MAX / 2];
    static _Thread_local sigil_limits_usage peers[SIGIL_LIMITS_PEERS_MAX];
    static _Thread_local uint8_t usage_mem[512];
    sigil_limits_usage usage;
    arg_val a[8];
    sigil_buf signed_out, usage_out;
    const char *action = NULL;
    size_t n_peers = 0;
    GUARD(args_read(f, spec, 8, a));
    GUARD(require_booted(st));
    ENSURE((a[4].p == NULL) == (a[6].p == NULL), SIGIL_E_BAD_REQUEST,
           "client_sig and client_nonce: both or neither");
    if (a[7].p != NULL) {
        sigil_cursor pc;
        sigil_cursor_init(&pc, a[7].p, a[7].len);
        GUARD(sigil_limits_peers_read(peers, &n_peers, pc));
    }
    sigil_buf_init(&signed_out, signed_mem, sizeof(signed_mem));
    sigil_buf_init(&usage_out, usage_mem, sizeof(usage_mem));
    enclave_sign_args sa = {.key = key_ref(a),
                            .request = (const char *)a[3].p,
                            .request_len = a[3].len,
                            .client_sig = a[4].p,
                            .client_sig_len = a[4].len,
                            .client_ts = a[5].u,
                            .client_nonce = (const char *)a[6].p,
                            .client_nonce_len = a[6].len,
                            .peers = {peers, n_peers, st->boot_id},
                            .usage = &usage};
    GUARD(enclave_sign(st, &signed_out, receipt_buf(), &action, &sa));
    if (usage.seq != 0)
        GUARD(sigil_limits_usage_write(&usage_out, &usage));
    GUARD(sigil_frame_begin_result(out, v, f->id, 4));
    GUARD(sigil_cbor_put_cstr(out, "signed"));
    GUARD(sigil_cbor_put_text(out, (const char *)signed_out.data, signed_out.len));
    GUARD(put_receipt(out));
    GUARD(put_bytes_kv(out, "usage", usage.seq != 0 ? usage_out.data : NULL, usage_out.len));
    return put_text_kv(out, "action", action) == 0 ? sigil_frame_finish(out) : -1;
}

static const arg_spec KEY_SPEC[] = {{"tenant", SIGIL_FF_TEXT, 0},
                                    {"key_id", SIGIL_FF_TEXT, 0},
                                    {"blob", SIGIL_FF_BYTES, 0},
                                    {"policy", SIGIL_FF_TEXT, 0},
                                    {"policy_signature", SIGIL_FF_BYTES, 0}};
static const arg_spec ROTATE_SPEC[] = {{"tenant", SIGIL_FF_TEXT, 0},
                                       {"key_id", SIGIL_FF_TEXT, 0},
                                       {"blob", SIGIL_FF_BYTES, 0},
                                       {"sealed", SIGIL_FF_BYTES, 0}};

static int op_policy(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    arg_val a[5];
    enclave_policy_result r;
    sigil_buf *blob = blob_buf();
    GUARD(key_op_args(st, f, KEY_SPEC, 5, a));
    enclave_policy_args pa = {.key = key_ref(a),
                              .policy = (const char *)a[3].p,
                              .policy_len = a[3].len,
                              .policy_sig = a[4].p,
                              .policy_sig_len = a[4].len};
    GUARD(enclave_policy_update(st, &r, blob, receipt_buf(), &pa));
    return put_blob_result(out, v, f, &r, blob);
}

/* tenant, key_id, blob (the first three of KEY_SPEC) */
static int op_rewrap(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    arg_val a[3];
    enclave_policy_result r;
    sigil_buf *blob = blob_buf();
    GUARD(key_op_args(st, f, KEY_SPEC, 3, a));
    enclave_key_ref k = key_ref(a);
    GUARD(enclave_rewrap(st, &r, blob, receipt_buf(), &k));
    return put_blob_result(out, v, f, &r, blob);
}

static int op_rotate(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    arg_val a[4];
    enclave_import_result r;
    sigil_buf *blob = blob_buf();
    GUARD(key_op_args(st, f, ROTATE_SPEC, 4, a));
    enclave_rotate_args ra = {.key = key_ref(a), .sealed = a[3].p, .sealed_len = a[3].len};
    GUARD(enclave_rotate(st, &r, blob, receipt_buf(), &ra));
    return put_key_result(out, v, f, &r, blob);
}

static int op_revoke(enclave_state *st, uint64_t v, const sigil_frame *f, sigil_buf *out)
{
    static const arg_spec spec[] = {
        {"tenant", SIGIL_FF_TEXT, 0},     {"key_id", SIGIL_FF_TEXT, 0}, {"blob", SIGIL_FF_BYTES, 0},
        {"signature", SIGIL_FF_BYTES, 0}, {"replay", SIGIL_FF_BOOL, 0},
    };
    arg_val a[5];
    bool added = false;
    GUARD(args_read(f, spec, 5, a));
    GUARD(require_booted(st));
    enclave_revoke_args ra = {
        .key = key_ref(a), .signature = a[3].p, .signature_len = a[3].len, .replay = a[4].b};
    sigil_buf *receipt = receipt_buf();
    GUARD(enclave_revoke(st, receipt, &added, &ra));
    GUARD(sigil_frame_begin_result(out, v, f->id, 2));
    GUARD(sigil_cbor_put_cstr(out, "added"));
    GUARD(sigil_cbor_put_bool(out, added));
    GUARD(sigil_cbor_put_cstr(out, "receipt"));
    GUARD(receipt->len > 0 ? sigil_cbor_put_text(out, (const char *)receipt->data, receipt->len)
                           : sigil_cbor_put_null(out));
    return sigil_frame_finish(out);
}

static const struct {
    const char *name;
    op_fn fn;
} OPS[] = {
    {"ping", op_ping},     {"boot", op_boot},     {"attestation", op_attestation},
    {"import", op_import}, {"sign", op_sign},     {"policy", op_policy},
    {"rotate", op_rotate}, {"rewrap", op_rewrap}, {"revoke", op_revoke},
};

int enclave_dispatch(enclave_state *st, uint64_t version, const sigil_frame *f, sigil_buf *out)
{
    int rc = -1;
    out->len = 0;
    tl_receipt.len = 0;
    sigil_clear_error();
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(OPS); i++) {
        if (sigil_cbor_text_eq(f->op, f->op_len, OPS[i].name)) {
            rc = OPS[i].fn(st, version, f, out);
            break;
        }
    }
    if (rc == 0)
        return 0;
    if (sigil_errno() == SIGIL_OK)
        (void)sigil_fail(SIGIL_E_BAD_REQUEST, "unknown operation '%.*s'",
                         (int)(f->op_len > 32 ? 32 : f->op_len), f->op);
    sigil_err code = sigil_errno();
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
    out->len = 0;
    return sigil_frame_error_receipt(out, version, f->id, code, msg,
                                     tl_receipt.len > 0 ? (const char *)tl_receipt.data : NULL,
                                     tl_receipt.len);
}
