/*
 * KMS JSON requests as sigil-kms reads them (untrusted input from the
 * network): strict JSON, only the members AWS defines for each operation and
 * Sigil uses, base64 blobs decoded into fixed buffers. Errors name the field.
 */
#include <string.h>

#include "kms/kms_service.h"
#include "sigil/codec.h"

#define REQ_MAX_TOKENS 64
#define KMS_NUMBER_OF_BYTES_MAX 1024

static const char *const OP_NAMES[SIGIL_KMS_OP_COUNT_] = {
    [SIGIL_KMS_OP_GENERATE_DATA_KEY] = "GenerateDataKey",
    [SIGIL_KMS_OP_DECRYPT] = "Decrypt",
    [SIGIL_KMS_OP_ENCRYPT] = "Encrypt",
};

const char *sigil_kms_op_name(sigil_kms_op op)
{
    return (unsigned)op < SIGIL_KMS_OP_COUNT_ ? OP_NAMES[op] : "Unknown";
}

int sigil_kms_op_from_target(sigil_kms_op *op, sigil_slice target)
{
    static const char prefix[] = "TrentService.";
    size_t pl = sizeof(prefix) - 1;
    if (target.len > pl && memcmp(target.p, prefix, pl) == 0)
        for (unsigned i = 0; i < SIGIL_KMS_OP_COUNT_; i++)
            if (sigil_slice_eq((sigil_slice){target.p + pl, target.len - pl}, OP_NAMES[i])) {
                *op = (sigil_kms_op)i;
                return 0;
            }
    BAIL(SIGIL_E_NOT_FOUND, "X-Amz-Target: unknown operation");
}

/* Unescapes a string member (json-c writes "\/" in base64) and decodes it. */
static int get_b64(uint8_t *out, size_t cap, size_t *out_len, const sigil_json *d, uint32_t t,
                   const char *what)
{
    char text[SIGIL_B64_LEN(SIGIL_ATTEST_DOC_MAX) + 4];
    sigil_buf b;
    sigil_buf_init(&b, text, sizeof(text));
    if (sigil_json_str(d, t, &b) != 0)
        BAIL(SIGIL_E_TOO_LARGE, "%s: longer than %zu bytes", what, cap);
    int rc = sigil_b64_decode(out, cap, out_len, text, b.len, SIGIL_B64_STD, what);
    sigil_wipe(text, b.len); /* Encrypt's Plaintext passes through here */
    GUARD(rc);
    ENSURE(*out_len > 0, SIGIL_E_BAD_FIELD, "%s: must not be empty", what);
    return 0;
}

static int get_key_id(sigil_kms_request *req, const sigil_json *d, uint32_t obj, bool required,
                      const char *where)
{
    uint32_t t;
    sigil_buf b;
    GUARD(sigil_json_get_str(d, obj, "KeyId", required, &t, where));
    if (t == 0)
        return 0;
    sigil_buf_init(&b, req->key_id, sizeof(req->key_id));
    ENSURE(sigil_json_str(d, t, &b) == 0 && b.len > 0 && b.len <= SIGIL_KMS_KEY_ID_MAX,
           SIGIL_E_BAD_FIELD, "%s.KeyId: must be 1..%d characters", where, SIGIL_KMS_KEY_ID_MAX);
    for (size_t i = 0; i < b.len; i++)
        ENSURE(req->key_id[i] > 0x20 && req->key_id[i] < 0x7f, SIGIL_E_BAD_FIELD,
               "%s.KeyId: printable ASCII only", where);
    req->key_id[b.len] = 0;
    return 0;
}

static int expect_literal(const sigil_json *d, uint32_t obj, const char *key, const char *lit,
                          const char *where)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, obj, key, false, &t, where));
    ENSURE(t == 0 || sigil_json_str_eq(d, t, lit), SIGIL_E_BAD_FIELD, "%s.%s: must be %s", where,
           key, lit);
    return 0;
}

static int parse_recipient(sigil_kms_request *req, const sigil_json *d, uint32_t obj)
{
    static const sigil_json_field FIELDS[] = {
        {"AttestationDocument", true},
        {"KeyEncryptionAlgorithm", false},
    };
    uint32_t r = sigil_json_get(d, obj, "Recipient"), t;
    if (r == 0 || sigil_json_type_of(d, r) == SIGIL_JSON_NULL)
        return 0;
    GUARD(sigil_json_check_fields(d, r, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "Recipient"));
    GUARD(expect_literal(d, r, "KeyEncryptionAlgorithm", "RSAES_OAEP_SHA_256", "Recipient"));
    GUARD(sigil_json_get_str(d, r, "AttestationDocument", true, &t, "Recipient"));
    GUARD(
        get_b64(req->doc, sizeof(req->doc), &req->doc_len, d, t, "Recipient.AttestationDocument"));
    req->has_recipient = true;
    return 0;
}

static int parse_generate(sigil_kms_request *req, const sigil_json *d)
{
    static const sigil_json_field FIELDS[] = {
        {"KeyId", true},
        {"KeySpec", false},
        {"NumberOfBytes", false},
        {"Recipient", false},
    };
    uint32_t spec;
    uint64_t nbytes = 0;
    bool has_n;
    GUARD(sigil_json_check_fields(d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(get_key_id(req, d, 0, true, "request"));
    GUARD(sigil_json_get_str(d, 0, "KeySpec", false, &spec, "request"));
    GUARD(sigil_json_get_u64(d, 0, "NumberOfBytes", false, &nbytes, &has_n, "request"));
    ENSURE((spec != 0) != has_n, SIGIL_E_BAD_REQUEST,
           "request: exactly one of KeySpec and NumberOfBytes is required");
    if (has_n) {
        ENSURE(nbytes >= 1 && nbytes <= KMS_NUMBER_OF_BYTES_MAX, SIGIL_E_OUT_OF_RANGE,
               "request.NumberOfBytes: must be 1..%d", KMS_NUMBER_OF_BYTES_MAX);
        req->data_key_len = (size_t)nbytes;
    } else if (sigil_json_str_eq(d, spec, "AES_256"))
        req->data_key_len = 32;
    else if (sigil_json_str_eq(d, spec, "AES_128"))
        req->data_key_len = 16;
    else
        BAIL(SIGIL_E_BAD_FIELD, "request.KeySpec: must be AES_256 or AES_128");
    return parse_recipient(req, d, 0);
}

static int parse_decrypt(sigil_kms_request *req, const sigil_json *d)
{
    static const sigil_json_field FIELDS[] = {
        {"CiphertextBlob", true},
        {"KeyId", false},
        {"EncryptionAlgorithm", false},
        {"Recipient", false},
    };
    uint32_t t;
    GUARD(sigil_json_check_fields(d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(get_key_id(req, d, 0, false, "request"));
    GUARD(expect_literal(d, 0, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT", "request"));
    GUARD(sigil_json_get_str(d, 0, "CiphertextBlob", true, &t, "request"));
    GUARD(get_b64(req->blob, sizeof(req->blob), &req->blob_len, d, t, "request.CiphertextBlob"));
    return parse_recipient(req, d, 0);
}

static int parse_encrypt(sigil_kms_request *req, const sigil_json *d)
{
    static const sigil_json_field FIELDS[] = {
        {"KeyId", true},
        {"Plaintext", true},
        {"EncryptionAlgorithm", false},
    };
    uint32_t t;
    GUARD(sigil_json_check_fields(d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(get_key_id(req, d, 0, true, "request"));
    GUARD(expect_literal(d, 0, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT", "request"));
    GUARD(sigil_json_get_str(d, 0, "Plaintext", true, &t, "request"));
    GUARD(sigil_secret_alloc(&req->plaintext, SIGIL_KMS_PLAINTEXT_MAX));
    return get_b64(req->plaintext.p, req->plaintext.cap, &req->plaintext.len, d, t,
                   "request.Plaintext");
}

typedef int (*parse_fn)(sigil_kms_request *req, const sigil_json *d);
static const parse_fn PARSERS[SIGIL_KMS_OP_COUNT_] = {
    [SIGIL_KMS_OP_GENERATE_DATA_KEY] = parse_generate,
    [SIGIL_KMS_OP_DECRYPT] = parse_decrypt,
    [SIGIL_KMS_OP_ENCRYPT] = parse_encrypt,
};

int sigil_kms_request_parse(sigil_kms_request *req, sigil_kms_op op, const char *body, size_t len)
{
    sigil_json_tok toks[REQ_MAX_TOKENS];
    sigil_json d;
    memset(req, 0, offsetof(sigil_kms_request, blob));
    req->blob_len = 0;
    req->has_recipient = false;
    req->doc_len = 0;
    req->plaintext = (sigil_secret){0};
    req->op = op;
    ENSURE((unsigned)op < SIGIL_KMS_OP_COUNT_, SIGIL_E_INTERNAL, "request: unknown operation");
    ENSURE(len <= SIGIL_KMS_BODY_MAX, SIGIL_E_TOO_LARGE, "request: body over %d bytes",
           SIGIL_KMS_BODY_MAX);
    GUARD(sigil_json_parse(&d, body, len, toks, REQ_MAX_TOKENS));
    GUARD(sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "request", NULL));
    if (PARSERS[op](req, &d) != 0) {
        sigil_kms_request_clear(req);
        return -1;
    }
    return 0;
}

void sigil_kms_request_clear(sigil_kms_request *req)
{
    sigil_secret_free(&req->plaintext);
}
