/*
 * The sigil-kms request handler (untrusted host side, dev key service):
 * POST / with X-Amz-Target TrentService.{GenerateDataKey,Decrypt,Encrypt},
 * SigV4, strict JSON, Recipient attestation verified with the same verifier
 * production clients use, the key policy read per request, and AWS-shaped
 * answers. One log line per decision, never key material.
 */
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms/kms_service.h"
#include "sigil/codec.h"

#define PATH_CAP 4096
#define MAX_KEYS 16
#define KEYS_FILE_MAX 8192
#define CREDS_FILE_MAX 8192
#define POLICY_FILE_MAX 65536
#define B64_TEXT_MAX (SIGIL_B64_LEN(SIGIL_KMS_BLOB_MAX) + 3)

typedef struct {
    char uuid[37];
    char alias[128]; /* "" when none */
} kms_key;

struct sigil_kms_service {
    char dir[PATH_CAP];
    uint8_t *root;
    size_t root_len;
    long max_doc_age;
    sigil_aws_creds creds;
    kms_key keys[MAX_KEYS];
    size_t nkeys;
    sigil_secret keymat; /* 32 bytes per key */
};

/* ---- loading state ---- */
static int read_state_file(sigil_secret *mem, const sigil_kms_service *s, const char *name,
                           size_t cap)
{
    char p[PATH_CAP];
    sigil_buf b;
    int n = snprintf(p, sizeof(p), "%s/%s", s->dir, name);
    ENSURE(n > 0 && (size_t)n < sizeof(p), SIGIL_E_IO, "%s: path too long", name);
    GUARD(sigil_secret_alloc(mem, cap));
    sigil_buf_init(&b, mem->p, mem->cap);
    GUARD(sigil_kms_read_file(&b, p));
    mem->len = b.len;
    return 0;
}

static bool is_uuid(const char *u, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f');
        if (dash ? u[i] != '-' : !hex)
            return false;
    }
    return true;
}

static int load_key(sigil_kms_service *s, const sigil_json *d, uint32_t k)
{
    static const sigil_json_field FIELDS[] = {{"aes256", true}, {"alias", false}};
    kms_key *key = &s->keys[s->nkeys];
    sigil_buf b;
    uint32_t t, v = sigil_json_value(k);
    size_t len;
    sigil_buf_init(&b, key->uuid, sizeof(key->uuid));
    ENSURE(sigil_json_str(d, k, &b) == 0 && is_uuid(key->uuid, b.len) && sigil_buf_cstr(&b) == 0,
           SIGIL_E_BAD_FIELD, "keys.json: key ids must be lowercase UUIDs");
    GUARD(sigil_json_check_fields(d, v, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "keys.json key"));
    GUARD(sigil_json_get_str(d, v, "aes256", true, &t, "keys.json key"));
    sigil_slice raw = sigil_json_raw(d, t);
    GUARD(sigil_b64_decode(s->keymat.p + 32 * s->nkeys, 32, &len, raw.p, raw.len, SIGIL_B64_STD,
                           "keys.json aes256"));
    ENSURE(len == 32, SIGIL_E_BAD_FIELD, "keys.json: aes256 must be 32 bytes");
    GUARD(sigil_json_get_str(d, v, "alias", false, &t, "keys.json key"));
    sigil_buf_init(&b, key->alias, sizeof(key->alias));
    if (t != 0)
        ENSURE(sigil_json_str(d, t, &b) == 0 && b.len > 6 && memcmp(key->alias, "alias/", 6) == 0,
               SIGIL_E_BAD_FIELD, "keys.json: alias must start with alias/");
    GUARD(sigil_buf_cstr(&b));
    s->nkeys++;
    return 0;
}

static int load_keys(sigil_kms_service *s)
{
    SIGIL_SECRET(mem);
    sigil_json_tok toks[8 * MAX_KEYS + 8];
    sigil_json d;
    GUARD(read_state_file(&mem, s, "keys.json", KEYS_FILE_MAX));
    GUARD(sigil_json_parse(&d, (const char *)mem.p, mem.len, toks, SIGIL_ARRAY_LEN(toks)));
    static const sigil_json_field ROOT[] = {{"keys", true}};
    GUARD(sigil_json_check_fields(&d, 0, ROOT, 1, "keys.json"));
    uint32_t keys = sigil_json_get(&d, 0, "keys");
    GUARD(sigil_json_expect(&d, keys, SIGIL_JSON_OBJECT, "keys.json", "keys"));
    ENSURE(d.toks[keys].size > 0 && d.toks[keys].size <= MAX_KEYS, SIGIL_E_BAD_FIELD,
           "keys.json: 1..%d keys", MAX_KEYS);
    GUARD(sigil_secret_alloc(&s->keymat, 32 * (size_t)MAX_KEYS));
    for (uint32_t k = sigil_json_first(&d, keys); k != 0; k = sigil_json_sibling(&d, keys, k))
        GUARD(load_key(s, &d, k));
    return 0;
}

static int creds_field(sigil_slice *out, const sigil_json *d, const char *key, bool required)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, 0, key, required, &t, "credentials.json"));
    *out = t ? sigil_json_raw(d, t) : (sigil_slice){NULL, 0};
    ENSURE(t == 0 || sigil_json_str_is_plain(d, t), SIGIL_E_BAD_FIELD,
           "credentials.json.%s: escapes not allowed", key);
    return 0;
}

static int load_creds(sigil_kms_service *s)
{
    static const sigil_json_field FIELDS[] = {
        {"access_key_id", true},
        {"secret_access_key", true},
        {"region", true},
        {"session_token", false},
    };
    SIGIL_SECRET(mem);
    sigil_json_tok toks[16];
    sigil_json d;
    sigil_slice akid, secret, region, token;
    GUARD(read_state_file(&mem, s, "credentials.json", CREDS_FILE_MAX));
    GUARD(sigil_json_parse(&d, (const char *)mem.p, mem.len, toks, SIGIL_ARRAY_LEN(toks)));
    GUARD(sigil_json_check_fields(&d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "credentials.json"));
    GUARD(creds_field(&akid, &d, "access_key_id", true));
    GUARD(creds_field(&secret, &d, "secret_access_key", true));
    GUARD(creds_field(&region, &d, "region", true));
    GUARD(creds_field(&token, &d, "session_token", false));
    return sigil_aws_creds_set(&s->creds, akid.p, akid.len, (const uint8_t *)secret.p, secret.len,
                               token.p, token.len, region.p, region.len);
}

int sigil_kms_service_new(sigil_kms_service **out, const sigil_kms_service_config *cfg)
{
    *out = NULL;
    ENSURE(cfg->root_der != NULL && cfg->root_der_len > 0, SIGIL_E_USAGE,
           "--attestation-root: required");
    sigil_kms_service *s = calloc(1, sizeof(*s));
    ENSURE(s != NULL, SIGIL_E_NO_MEMORY, "sigil-kms: no memory");
    int n = snprintf(s->dir, sizeof(s->dir), "%s", cfg->state_dir);
    s->max_doc_age = cfg->max_doc_age > 0 ? cfg->max_doc_age : 300;
    s->root = malloc(cfg->root_der_len);
    if (n <= 0 || (size_t)n >= sizeof(s->dir) || s->root == NULL) {
        sigil_kms_service_free(s);
        BAIL(SIGIL_E_USAGE, "--state: path too long");
    }
    memcpy(s->root, cfg->root_der, cfg->root_der_len);
    s->root_len = cfg->root_der_len;
    if (load_keys(s) != 0 || load_creds(s) != 0) {
        sigil_kms_service_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void sigil_kms_service_free(sigil_kms_service *s)
{
    if (s == NULL)
        return;
    sigil_secret_free(&s->keymat);
    sigil_aws_creds_clear(&s->creds);
    free(s->root);
    free(s);
}

/* ---- responses ---- */
typedef struct {
    sigil_kms_service *s;
    sigil_kms_response *resp;
    sigil_kms_op op;
    const char *opname;
    time_t now;
    char pcr0[17]; /* first 16 hex digits of the document's PCR0, for the log */
    const kms_key *key;
    size_t key_index;
} hctx;

/* Printable ASCII only, so a message cannot break the log or the JSON. */
static void clean_message(char *out, size_t cap, const char *msg)
{
    size_t i = 0;
    for (; msg[i] != 0 && i + 1 < cap; i++)
        out[i] = (char)((msg[i] >= 0x20 && msg[i] < 0x7f) ? msg[i] : '?');
    out[i] = 0;
}

static int respond_error(hctx *h, unsigned status, const char *type, const char *msg)
{
    char clean[300];
    sigil_jw w;
    clean_message(clean, sizeof(clean), msg);
    h->resp->status = status;
    h->resp->body.len = 0;
    sigil_jw_init(&w, &h->resp->body);
    snprintf(h->resp->log, sizeof(h->resp->log), "sigil-kms: %s deny: %s: %s", h->opname, type,
             clean);
    return sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "__type") || sigil_jw_str(&w, type) ||
                   sigil_jw_key(&w, "message") || sigil_jw_str(&w, clean) || sigil_jw_obj_end(&w)
               ? -1
               : 0;
}

/* The current sigil error as an AWS error of the given type. */
static int respond_errno(hctx *h, unsigned status, const char *type)
{
    return respond_error(h, status, type, sigil_errmsg());
}

static int jw_b64(sigil_jw *w, const char *key, const uint8_t *p, size_t n)
{
    char text[B64_TEXT_MAX];
    sigil_buf b;
    sigil_buf_init(&b, text, sizeof(text));
    int rc = sigil_buf_putc(&b, '"') || sigil_b64_put(&b, p, n, SIGIL_B64_STD) ||
             sigil_buf_putc(&b, '"') || sigil_jw_key(w, key) ||
             sigil_jw_raw(w, (const char *)b.data, b.len);
    sigil_wipe(text, b.len);
    return rc ? -1 : 0;
}

static int key_arn(char *out, size_t cap, const hctx *h)
{
    int n = snprintf(out, cap, "arn:aws:kms:%s:" SIGIL_KMS_ACCOUNT ":key/%s", h->s->creds.region,
                     h->key->uuid);
    ENSURE(n > 0 && (size_t)n < cap, SIGIL_E_INTERNAL, "arn too long");
    return 0;
}

/* ---- key resolution ---- */
/* uuid, alias/…, arn:aws:kms:<region>:<account>:key/<uuid> or …:alias/… */
static int resolve_key(hctx *h, const char *id)
{
    char prefix[96];
    int n = snprintf(prefix, sizeof(prefix), "arn:aws:kms:%s:" SIGIL_KMS_ACCOUNT ":",
                     h->s->creds.region);
    size_t pl = (size_t)n;
    if (strncmp(id, "arn:", 4) == 0) {
        ENSURE(strncmp(id, prefix, pl) == 0, SIGIL_E_NOT_FOUND,
               "Invalid keyId: ARN not of this region and account");
        id += pl;
        if (strncmp(id, "key/", 4) == 0)
            id += 4;
    }
    for (size_t i = 0; i < h->s->nkeys; i++) {
        const kms_key *k = &h->s->keys[i];
        if (strcmp(id, k->uuid) == 0 || (k->alias[0] != 0 && strcmp(id, k->alias) == 0)) {
            h->key = k;
            h->key_index = i;
            return 0;
        }
    }
    BAIL(SIGIL_E_NOT_FOUND, "Key '%.80s' does not exist", id);
}

static const uint8_t *key_material(const hctx *h)
{
    return h->s->keymat.p + 32 * h->key_index;
}

/* ---- Recipient ---- */
static int verify_recipient(hctx *h, sigil_attest_doc *doc, const sigil_kms_request *req)
{
    sigil_attest_policy pol = {h->s->root, h->s->root_len, (int64_t)h->now, false};
    GUARD(sigil_attest_verify(doc, &pol, req->doc, req->doc_len));
    sigil_hex_encode(h->pcr0, doc->pcrs[0], 8);
    int64_t now_ms = (int64_t)h->now * 1000, ts = (int64_t)doc->timestamp_ms;
    ENSURE(now_ms - ts <= (int64_t)h->s->max_doc_age * 1000, SIGIL_E_ATTESTATION,
           "AttestationDocument is older than %ld s", h->s->max_doc_age);
    ENSURE(ts - now_ms <= SIGIL_KMS_FUTURE_SKEW_MS, SIGIL_E_ATTESTATION,
           "AttestationDocument timestamp is in the future");
    ENSURE(doc->pcr_mask & 1, SIGIL_E_ATTESTATION, "AttestationDocument has no PCR0");
    return sigil_kms_check_recipient_spki(doc->public_key, doc->public_key_len);
}

static int check_policy(hctx *h, const sigil_attest_doc *doc, bool has_recipient)
{
    SIGIL_SECRET(mem); /* not secret, but read per request into a bounded buffer */
    char reason[160], arn[160];
    bool allowed;
    sigil_kms_attest_ctx ctx = {has_recipient, has_recipient ? doc->pcr_mask : 0,
                                (const uint8_t(*)[48])doc->pcrs};
    if (read_state_file(&mem, h->s, "key-policy.json", POLICY_FILE_MAX) != 0 ||
        sigil_kms_policy_eval(&allowed, reason, sizeof(reason), (const char *)mem.p, mem.len, h->op,
                              &ctx) != 0) {
        char why[300];
        snprintf(why, sizeof(why), "key policy unreadable: %s", sigil_errmsg());
        return respond_error(h, 500, "KMSInternalException", why) ? -1 : 1;
    }
    if (allowed)
        return 0;
    GUARD(key_arn(arn, sizeof(arn), h));
    char msg[400];
    snprintf(msg, sizeof(msg), "not authorized to perform kms:%s on resource %s: %s", h->opname,
             arn, reason);
    return respond_error(h, 400, "AccessDeniedException", msg) ? -1 : 1;
}

/* ---- operations ---- */
/* Plaintext -> Plaintext or CiphertextForRecipient. */
static int put_plaintext(hctx *h, sigil_jw *w, const sigil_secret *pt, const sigil_attest_doc *doc,
                         bool has_recipient)
{
    if (!has_recipient)
        return jw_b64(w, "Plaintext", pt->p, pt->len);
    uint8_t cms[SIGIL_KMS_CMS_MAX];
    sigil_buf b;
    sigil_buf_init(&b, cms, sizeof(cms));
    (void)h;
    GUARD(sigil_kms_cms_encrypt(&b, doc->public_key, doc->public_key_len, pt->p, pt->len));
    return jw_b64(w, "CiphertextForRecipient", b.data, b.len);
}

static int op_generate(hctx *h, sigil_jw *w, const sigil_kms_request *req,
                       const sigil_attest_doc *doc)
{
    SIGIL_SECRET(dk);
    uint8_t blob[SIGIL_KMS_BLOB_MAX];
    char arn[160];
    sigil_buf b;
    GUARD(sigil_secret_alloc(&dk, req->data_key_len));
    ENSURE(RAND_priv_bytes(dk.p, (int)req->data_key_len) == 1, SIGIL_E_CRYPTO, "no randomness");
    dk.len = req->data_key_len;
    sigil_buf_init(&b, blob, sizeof(blob));
    GUARD(sigil_kms_blob_seal(&b, key_material(h), h->key->uuid, dk.p, dk.len));
    GUARD(key_arn(arn, sizeof(arn), h));
    GUARD(jw_b64(w, "CiphertextBlob", b.data, b.len));
    GUARD(put_plaintext(h, w, &dk, doc, req->has_recipient));
    return sigil_jw_key(w, "KeyId") || sigil_jw_str(w, arn) ? -1 : 0;
}

static int op_decrypt(hctx *h, sigil_jw *w, const sigil_kms_request *req,
                      const sigil_attest_doc *doc)
{
    SIGIL_SECRET(pt);
    char arn[160];
    GUARD(sigil_kms_blob_open(&pt, key_material(h), req->blob, req->blob_len));
    GUARD(key_arn(arn, sizeof(arn), h));
    GUARD(sigil_jw_key(w, "KeyId") || sigil_jw_str(w, arn));
    GUARD(put_plaintext(h, w, &pt, doc, req->has_recipient));
    return sigil_jw_key(w, "EncryptionAlgorithm") || sigil_jw_str(w, "SYMMETRIC_DEFAULT") ? -1 : 0;
}

static int op_encrypt(hctx *h, sigil_jw *w, const sigil_kms_request *req,
                      const sigil_attest_doc *doc)
{
    uint8_t blob[SIGIL_KMS_BLOB_MAX];
    char arn[160];
    sigil_buf b;
    (void)doc;
    sigil_buf_init(&b, blob, sizeof(blob));
    GUARD(sigil_kms_blob_seal(&b, key_material(h), h->key->uuid, req->plaintext.p,
                              req->plaintext.len));
    GUARD(key_arn(arn, sizeof(arn), h));
    GUARD(jw_b64(w, "CiphertextBlob", b.data, b.len));
    return sigil_jw_key(w, "KeyId") || sigil_jw_str(w, arn) ||
                   sigil_jw_key(w, "EncryptionAlgorithm") || sigil_jw_str(w, "SYMMETRIC_DEFAULT")
               ? -1
               : 0;
}

typedef int (*op_fn)(hctx *h, sigil_jw *w, const sigil_kms_request *req,
                     const sigil_attest_doc *doc);
static const op_fn OPS[SIGIL_KMS_OP_COUNT_] = {
    [SIGIL_KMS_OP_GENERATE_DATA_KEY] = op_generate,
    [SIGIL_KMS_OP_DECRYPT] = op_decrypt,
    [SIGIL_KMS_OP_ENCRYPT] = op_encrypt,
};

/* ---- request checks ---- */
static int header_is(const sigil_http_header *hs, size_t n, const char *name, sigil_slice *out)
{
    size_t nl = strlen(name);
    *out = (sigil_slice){NULL, 0};
    for (size_t i = 0; i < n; i++) {
        if (hs[i].name.len != nl || strncasecmp(hs[i].name.p, name, nl) != 0)
            continue;
        ENSURE(out->p == NULL, SIGIL_E_BAD_REQUEST, "header %s given twice", name);
        *out = hs[i].value;
    }
    return 0;
}

/* Returns 1 when an error response was written, 0 to go on, -1 on failure
 * to write a response at all. */
static int check_envelope(hctx *h, const char *method, const char *path,
                          const sigil_http_header *hs, size_t n)
{
    sigil_slice ct, target;
    if (strcmp(method, "POST") != 0 || strcmp(path, "/") != 0)
        return respond_error(h, 400, "UnknownOperationException", "only POST / is served") ? -1 : 1;
    if (header_is(hs, n, "content-type", &ct) != 0 || header_is(hs, n, "x-amz-target", &target))
        return respond_errno(h, 400, "ValidationException") ? -1 : 1;
    if (!sigil_slice_eq(ct, "application/x-amz-json-1.1"))
        return respond_error(h, 400, "UnsupportedMediaTypeException",
                             "Content-Type must be application/x-amz-json-1.1")
                   ? -1
                   : 1;
    if (target.p == NULL || sigil_kms_op_from_target(&h->op, target) != 0)
        return respond_error(h, 400, "UnknownOperationException",
                             "X-Amz-Target must be TrentService.GenerateDataKey, .Decrypt or "
                             ".Encrypt")
                   ? -1
                   : 1;
    h->opname = sigil_kms_op_name(h->op);
    return 0;
}

static const char *parse_error_type(void)
{
    return sigil_errno() == SIGIL_E_BAD_JSON ? "SerializationException" : "ValidationException";
}

/* Resolves the key the request is about (Decrypt: the blob's, which a
 * given KeyId must name too). 1 = error response written. */
static int request_key(hctx *h, const sigil_kms_request *req)
{
    if (h->op != SIGIL_KMS_OP_DECRYPT)
        return resolve_key(h, req->key_id) == 0             ? 0
               : respond_errno(h, 400, "NotFoundException") ? -1
                                                            : 1;
    sigil_slice id;
    char uuid[64];
    if (sigil_kms_blob_key(&id, req->blob, req->blob_len) != 0 || id.len >= sizeof(uuid))
        return respond_errno(h, 400, "InvalidCiphertextException") ? -1 : 1;
    memcpy(uuid, id.p, id.len);
    uuid[id.len] = 0;
    if (resolve_key(h, uuid) != 0)
        return respond_error(h, 400, "InvalidCiphertextException",
                             "CiphertextBlob names no key of this service")
                   ? -1
                   : 1;
    const kms_key *blob_key = h->key;
    if (req->key_id[0] != 0 && (resolve_key(h, req->key_id) != 0 || h->key != blob_key))
        return respond_error(h, 400, "IncorrectKeyException",
                             "KeyId does not name the key of the CiphertextBlob")
                   ? -1
                   : 1;
    return 0;
}

static int run_op(hctx *h, const sigil_kms_request *req, const sigil_attest_doc *doc)
{
    sigil_jw w;
    h->resp->status = 200;
    h->resp->body.len = 0;
    sigil_jw_init(&w, &h->resp->body);
    if (sigil_jw_obj_begin(&w) != 0 || OPS[h->op](h, &w, req, doc) != 0 ||
        sigil_jw_obj_end(&w) != 0) {
        bool ct = h->op == SIGIL_KMS_OP_DECRYPT && sigil_errno() == SIGIL_E_CRYPTO;
        h->resp->body.len = 0;
        return ct ? respond_errno(h, 400, "InvalidCiphertextException")
                  : respond_errno(h, 500, "KMSInternalException");
    }
    snprintf(h->resp->log, sizeof(h->resp->log), "sigil-kms: %s allow pcr0=%s%s key=%s", h->opname,
             req->has_recipient ? h->pcr0 : "-", req->has_recipient ? "..." : "", h->key->uuid);
    return 0;
}

static int handle_parsed(hctx *h, const sigil_kms_request *req)
{
    static const sigil_attest_doc NO_DOC;
    sigil_attest_doc *doc = calloc(1, sizeof(*doc));
    int rc;
    if (doc == NULL)
        return respond_error(h, 500, "KMSInternalException", "no memory");
    if ((rc = request_key(h, req)) != 0)
        goto out;
    if (req->has_recipient && verify_recipient(h, doc, req) != 0) {
        rc = respond_errno(h, 400, "ValidationException");
        goto out;
    }
    rc = check_policy(h, req->has_recipient ? doc : &NO_DOC, req->has_recipient);
    if (rc == 0)
        rc = run_op(h, req, doc);
out:
    free(doc);
    return rc < 0 ? -1 : 0;
}

int sigil_kms_service_handle(sigil_kms_service *s, sigil_kms_response *resp, const char *method,
                             const char *path, const sigil_http_header *headers, size_t nheaders,
                             const uint8_t *body, size_t len, time_t now)
{
    hctx h = {.s = s, .resp = resp, .opname = "-", .now = now};
    sigil_kms_request *req;
    sigil_sigv4_request sr = {"POST", "/", "", headers, nheaders, body, len, "kms"};
    int rc = check_envelope(&h, method, path, headers, nheaders);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (sigil_sigv4_verify(&s->creds, &sr, now, SIGIL_KMS_MAX_SKEW) != 0)
        return respond_errno(&h, 400, "InvalidSignatureException");
    req = malloc(sizeof(*req));
    if (req == NULL)
        return respond_error(&h, 500, "KMSInternalException", "no memory");
    if (sigil_kms_request_parse(req, h.op, (const char *)body, len) != 0)
        rc = respond_errno(&h, 400, parse_error_type());
    else
        rc = handle_parsed(&h, req);
    sigil_kms_request_clear(req);
    free(req);
    return rc;
}
