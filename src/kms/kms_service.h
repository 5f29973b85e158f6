/*
 * The key-service side of the KMS JSON protocol, as sigil-kms runs it
 * (untrusted host process in dev; none of this is linked into the enclave):
 * request parsing, key policy evaluation, CiphertextBlob sealing, CMS
 * EnvelopedData for a Recipient, state files and the request handler. In
 * libsigil-kms so the unit tests reach every piece without HTTP.
 */
#ifndef SIGIL_KMS_SERVICE_H
#define SIGIL_KMS_SERVICE_H

#include "sigil/attest.h"
#include "sigil/kms.h"

#define SIGIL_KMS_ACCOUNT "111122223333"
#define SIGIL_KMS_DEFAULT_ALIAS "alias/sigil"
#define SIGIL_KMS_BODY_MAX 65536
#define SIGIL_KMS_KEY_ID_MAX 256
#define SIGIL_KMS_BLOB_MAX 6144
#define SIGIL_KMS_MAX_SKEW 300
#define SIGIL_KMS_FUTURE_SKEW_MS 60000
#define SIGIL_KMS_UNPINNED "unpinned: run sigil-kms pin --image-sha384 HEX96"

typedef enum {
    SIGIL_KMS_OP_GENERATE_DATA_KEY = 0,
    SIGIL_KMS_OP_DECRYPT,
    SIGIL_KMS_OP_ENCRYPT,
    SIGIL_KMS_OP_COUNT_
} sigil_kms_op;

/* "GenerateDataKey", … (the X-Amz-Target suffix and the kms: action name). */
const char *sigil_kms_op_name(sigil_kms_op op);
/* "TrentService.<op>" -> op; -1 for anything else. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_op_from_target(sigil_kms_op *op, sigil_slice target);

/* ---- request parsing (strict: unknown fields refused) ---- */
typedef struct {
    sigil_kms_op op;
    char key_id[SIGIL_KMS_KEY_ID_MAX + 1]; /* "" when absent (Decrypt) */
    size_t data_key_len;                   /* GenerateDataKey: 16, 32 or NumberOfBytes */
    uint8_t blob[SIGIL_KMS_BLOB_MAX];      /* Decrypt: CiphertextBlob */
    size_t blob_len;
    bool has_recipient;
    uint8_t doc[SIGIL_ATTEST_DOC_MAX]; /* Recipient.AttestationDocument */
    size_t doc_len;
    sigil_secret plaintext; /* Encrypt: Plaintext (free with sigil_kms_request_clear) */
} sigil_kms_request;

/* Errors: SIGIL_E_BAD_JSON (SerializationException) and the schema errors
 * (ValidationException), each naming the field. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_request_parse(sigil_kms_request *req, sigil_kms_op op,
                                                     const char *body, size_t len);
void sigil_kms_request_clear(sigil_kms_request *req);

/* ---- key policy (AWS policy syntax, the subset sigil-kms enforces) ---- */
typedef struct {
    bool has_recipient; /* a verified Recipient document came with the request */
    uint32_t pcr_mask;
    const uint8_t (*pcrs)[48];
} sigil_kms_attest_ctx;

/* Evaluates policy text for op: Deny statements that match win, then any
 * matching Allow; otherwise denied. A statement matches when its Action
 * names the op and every Condition holds (StringEquals /
 * StringEqualsIgnoreCase on kms:RecipientAttestation:ImageSha384 and
 * :PCR<n>; a key the request does not carry never matches). A request
 * without Recipient is denied whenever the policy names attestation keys.
 * Returns -1 (SIGIL_E_BAD_REQUEST naming the place) when the policy does not
 * parse: the caller refuses the key. reason gets a one-line explanation. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_policy_eval(bool *allowed, char *reason, size_t cap,
                                                   const char *policy, size_t len, sigil_kms_op op,
                                                   const sigil_kms_attest_ctx *ctx);
/* Writes the default policy (Allow GenerateDataKey/Decrypt/Encrypt only with
 * ImageSha384 = image_sha384_hex). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_policy_default(sigil_buf *out, const char *image_sha384_hex);
/* Rewrites policy text with every ImageSha384 condition value set to hex;
 * fails when the policy has none. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_policy_pin(sigil_buf *out, const char *policy, size_t len,
                                                  const char *image_sha384_hex);

/* ---- CiphertextBlob: 0x01 ‖ u8 len ‖ key uuid ‖ iv(12) ‖ AES-256-GCM ct ‖
 * tag(16), AAD = the bytes before the IV (nitro.md §8.3) ---- */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_blob_seal(sigil_buf *out, const uint8_t key[32],
                                                 const char *key_uuid, const uint8_t *pt, size_t n);
/* The key uuid a blob names (slice into blob). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_blob_key(sigil_slice *key_uuid, const uint8_t *blob,
                                                size_t len);
SIGIL_WARN_UNUSED_RESULT int sigil_kms_blob_open(sigil_secret *out, const uint8_t key[32],
                                                 const uint8_t *blob, size_t len);

/* ---- CMS EnvelopedData for a Recipient (nitro.md §5.2/§8.3) ---- */
/* Refuses anything but a DER RSA SubjectPublicKeyInfo of 2048..4096 bits. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_check_recipient_spki(const uint8_t *spki, size_t len);
/* KTRI with SKI = SHA-256(SPKI), RSAES-OAEP-SHA256/MGF1-SHA256, AES-256-CBC,
 * BER with indefinite lengths. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_cms_encrypt(sigil_buf *out, const uint8_t *spki,
                                                   size_t spki_len, const uint8_t *pt, size_t n);

/* ---- state directory ---- */
/* Creates what is missing in dir (0700): tls/ca.pem, tls/server.pem,
 * tls/server.key, keys.json, credentials.json, client-credentials.json,
 * key-policy.json (the default policy with image_sha384_hex, or with
 * SIGIL_KMS_UNPINNED when NULL). Existing files are kept. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_state_init(const char *dir, const char *image_sha384_hex);
/* Sets the ImageSha384 condition of dir/key-policy.json (atomic rewrite). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_state_pin(const char *dir, const char *image_sha384_hex);
/* Writes data to path atomically (tmp + fsync + rename) with mode. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_write_file(const char *path, const void *data, size_t len,
                                                  unsigned mode);
/* Reads a whole file (at most cap bytes) into out. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_read_file(sigil_buf *out, const char *path);

/* ---- the service ---- */
typedef struct sigil_kms_service sigil_kms_service;
typedef struct {
    const char *state_dir;
    const uint8_t *root_der; /* attestation root (copied) */
    size_t root_der_len;
    long max_doc_age; /* seconds; default 300 when 0 */
} sigil_kms_service_config;

SIGIL_WARN_UNUSED_RESULT int sigil_kms_service_new(sigil_kms_service **s,
                                                   const sigil_kms_service_config *cfg);
void sigil_kms_service_free(sigil_kms_service *s);

typedef struct {
    unsigned status; /* 200, 400, 404, 405, 415, 500 */
    sigil_buf body;  /* JSON; caller provides the memory */
    char log[320];   /* "sigil-kms: Decrypt allow pcr0=…" / "… deny: reason" */
} sigil_kms_response;

/* Handles one request at time now. Thread-safe. Always fills resp (an
 * AWS-shaped {"__type","message"} on errors); returns -1 only when the body
 * memory cannot hold even an error. */
SIGIL_WARN_UNUSED_RESULT int
sigil_kms_service_handle(sigil_kms_service *s, sigil_kms_response *resp, const char *method,
                         const char *path, const sigil_http_header *headers, size_t nheaders,
                         const uint8_t *body, size_t len, time_t now);

#endif
