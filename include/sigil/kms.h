/*
 * Sigil key-service client (libsigil-kms, trusted: holds AWS credentials and
 * unwrapped data keys). SigV4 request signing (and the verifier sigil-kms
 * uses), the Recipient key pair for KMS attestation, CMS EnvelopedData
 * decryption of CiphertextForRecipient, and the HTTPS client for the AWS KMS
 * JSON protocol, the same code for AWS KMS and the local sigil-kms.
 */
#ifndef SIGIL_KMS_H
#define SIGIL_KMS_H

#include <stdbool.h>
#include <time.h>

#include "sigil/common.h"

/* ---- AWS credentials; the secret in locked memory ---- */
typedef struct {
    char access_key_id[129];
    sigil_secret secret_access_key;
    char *session_token; /* malloc'd or NULL */
    char region[33];
} sigil_aws_creds;

/* Copies the credentials (the secret into locked memory). The access key id
 * is 16..128 characters of [A-Z0-9], the region a lowercase AWS region name
 * ("us-east-1"), the token printable ASCII; token_len 0 means none. On
 * failure c is left cleared. */
SIGIL_WARN_UNUSED_RESULT int sigil_aws_creds_set(sigil_aws_creds *c, const char *akid,
                                                 size_t akid_len, const uint8_t *secret,
                                                 size_t secret_len, const char *token,
                                                 size_t token_len, const char *region,
                                                 size_t region_len);
/* Deep copy (dst must be cleared or zero-initialised). */
SIGIL_WARN_UNUSED_RESULT int sigil_aws_creds_copy(sigil_aws_creds *dst, const sigil_aws_creds *src);
/* Wipes and frees; safe on a zero-initialised or already cleared struct. */
void sigil_aws_creds_clear(sigil_aws_creds *c);

/* ---- SigV4 (header signing, nitro.md §5.4) ---- */
#define SIGIL_SIGV4_DATE_LEN 16 /* "YYYYMMDDTHHMMSSZ" */
#define SIGIL_SIGV4_MAX_HEADERS 24
#define SIGIL_SIGV4_AUTH_MAX 1024

typedef struct {
    sigil_slice name; /* any case; compared case-insensitively */
    sigil_slice value;
} sigil_http_header;

/* A request to sign or to verify. For signing, headers are the ones that go
 * out and are signed (host included; the signer adds x-amz-date and, when
 * asked, x-amz-content-sha256 and x-amz-security-token). For verifying,
 * headers are all the headers received (authorization included). */
typedef struct {
    const char *method; /* "POST" */
    const char *path;   /* canonical URI, "/" */
    const char *query;  /* canonical query string, "" when none */
    const sigil_http_header *headers;
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
    const char *service; /* "kms" */
} sigil_sigv4_request;

typedef struct {
    bool content_sha256; /* add and sign x-amz-content-sha256 */
    bool security_token; /* add and sign x-amz-security-token when the creds carry one */
} sigil_sigv4_options;

/* What the signer produces: the header values to add to the request. */
typedef struct {
    char amz_date[SIGIL_SIGV4_DATE_LEN + 1];
    char content_sha256[65]; /* hex SHA-256 of the body (always filled) */
    char authorization[SIGIL_SIGV4_AUTH_MAX];
    char signature[65];
} sigil_sigv4_signature;

/* Signs req at time now with creds (scope date/region/service/aws4_request).
 * Fails on headers that cannot be signed unambiguously (duplicates, control
 * characters, more than SIGIL_SIGV4_MAX_HEADERS). */
SIGIL_WARN_UNUSED_RESULT int sigil_sigv4_sign(sigil_sigv4_signature *out,
                                              const sigil_aws_creds *creds,
                                              const sigil_sigv4_request *req,
                                              const sigil_sigv4_options *opt, time_t now);

/* The intermediate strings of the signature (for tests and diagnostics).
 * signed_headers is "h1;h2;…" in lowercase; the headers listed are looked up
 * in req (the x-amz-* headers the signer adds must therefore be in req). */
SIGIL_WARN_UNUSED_RESULT int sigil_sigv4_canonical_request(sigil_buf *out,
                                                           const sigil_sigv4_request *req,
                                                           const char *signed_headers,
                                                           size_t signed_len,
                                                           const char *payload_hash_hex);
SIGIL_WARN_UNUSED_RESULT int sigil_sigv4_string_to_sign(sigil_buf *out, const char *amz_date,
                                                        const char *scope, const uint8_t *canonical,
                                                        size_t len);

/* Server side: verifies req (headers as received, authorization included)
 * against the credentials expected: credential scope <date>/<region of
 * expected>/<service>/aws4_request with the date of x-amz-date; host and
 * x-amz-date signed; x-amz-security-token signed and equal to expected's
 * token when expected carries one; x-amz-content-sha256, when present,
 * equal to the body's hash; |x-amz-date - now| <= max_skew seconds.
 * Errors: SIGIL_E_UNAUTHORIZED (missing or malformed authorization, unknown
 * access key, token mismatch), SIGIL_E_STALE_REQUEST (skew),
 * SIGIL_E_BAD_SIGNATURE (signature does not match). */
SIGIL_WARN_UNUSED_RESULT int sigil_sigv4_verify(const sigil_aws_creds *expected,
                                                const sigil_sigv4_request *req, time_t now,
                                                long max_skew);

/* "YYYYMMDDTHHMMSSZ" for a unix time; parse refuses anything else. */
SIGIL_WARN_UNUSED_RESULT int sigil_sigv4_format_date(char out[static SIGIL_SIGV4_DATE_LEN + 1],
                                                     time_t t);
SIGIL_WARN_UNUSED_RESULT int sigil_sigv4_parse_date(time_t *out, const char *s, size_t len);

/* ---- Recipient: ephemeral RSA key whose SPKI goes into the attestation
 * document's public_key ---- */
typedef struct sigil_kms_recipient sigil_kms_recipient;
/* RSA-2048, generated here; the private key never leaves the process. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_recipient_new(sigil_kms_recipient **r);
/* From an unencrypted PEM RSA private key (2048..4096 bits): test vectors. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_recipient_from_pem(sigil_kms_recipient **r, const char *pem,
                                                          size_t len);
/* DER SubjectPublicKeyInfo; valid while r lives. */
const uint8_t *sigil_kms_recipient_spki(const sigil_kms_recipient *r, size_t *len);
void sigil_kms_recipient_free(sigil_kms_recipient *r);

/* ---- CMS EnvelopedData (CiphertextForRecipient) ---- */
#define SIGIL_KMS_CMS_MAX 6144       /* KMS's CiphertextForRecipient limit */
#define SIGIL_KMS_PLAINTEXT_MAX 4096 /* KMS's plaintext limit */

/* BER (indefinite lengths, both encryptedContent forms) -> plaintext in
 * locked memory (*out allocated here; free with sigil_secret_free). Requires
 * one key-transport recipient with RSAES-OAEP (SHA-256, MGF1-SHA-256) that
 * the recipient key opens. Errors: SIGIL_E_BAD_ENCODING (not CMS
 * EnvelopedData), SIGIL_E_BAD_FIELD (unsupported algorithms),
 * SIGIL_E_CRYPTO (does not decrypt with this key). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_cms_decrypt(sigil_secret *out, const sigil_kms_recipient *r,
                                                   const uint8_t *cms, size_t len);

/* Structure of a CiphertextForRecipient, read without decrypting. */
typedef struct {
    size_t recipients;  /* RecipientInfos */
    size_t key_id_len;  /* subjectKeyIdentifier of the first recipient (0: issuer+serial) */
    bool oaep_sha256;   /* first recipient: RSAES-OAEP with SHA-256 and MGF1-SHA-256 */
    size_t content_len; /* bytes of encrypted content (chunks joined) */
} sigil_kms_cms_info;
SIGIL_WARN_UNUSED_RESULT int sigil_kms_cms_inspect(sigil_kms_cms_info *out, const uint8_t *cms,
                                                   size_t len);

/* ---- Endpoint: region table and the connection proxy ---- */
#define SIGIL_KMS_URL_MAX 128

/* "https://kms.<region>.<suffix>" into url (cap bytes): the DNS suffix of the
 * region's partition from a table of region prefixes ("cn-" ->
 * amazonaws.com.cn, "us-iso-" -> c2s.ic.gov, "us-isob-" -> sc2s.sgov.gov,
 * otherwise amazonaws.com). Errors: SIGIL_E_USAGE (not a region name). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_region_endpoint(char *url, size_t cap, const char *region);

typedef enum {
    SIGIL_KMS_PROXY_TCP,   /* a TCP forwarder (tests, a host-side proxy) */
    SIGIL_KMS_PROXY_VSOCK, /* the parent's vsock-proxy (Nitro: CID 3) */
} sigil_kms_proxy_kind;

/* Where the client's connections go instead of the endpoint's address; TLS
 * (SNI, certificate name, Host) still names the endpoint. */
typedef struct {
    sigil_kms_proxy_kind kind;
    char ip[48];  /* TCP: numeric IPv4 or IPv6 (no DNS inside an enclave) */
    uint32_t cid; /* vsock */
    uint16_t port;
} sigil_kms_proxy;

/* "vsock:CID:PORT", "tcp:IPV4:PORT" or "tcp:[IPV6]:PORT". */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_proxy_parse(sigil_kms_proxy *out, const char *spec);
/* A connected, blocking stream socket to the proxy (the family chosen by
 * its kind); connect waits at most timeout_ms. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_proxy_connect(int *fd, const sigil_kms_proxy *p,
                                                     long timeout_ms);

/* ---- Retries and AWS errors ---- */
/* Exponential backoff with full jitter: before retry n (0-based) the client
 * sleeps a uniform draw in [0, min(cap_ms, base_ms * 2^n)], at most
 * max_retries times, and never starts a sleep that would end past budget_ms
 * after the first attempt began. */
typedef struct {
    unsigned max_retries;
    unsigned base_ms;
    unsigned cap_ms;
    unsigned budget_ms;
    /* uniform in [0, upper] (upper inclusive); NULL: libsodium's generator */
    uint32_t (*random)(void *ctx, uint32_t upper);
    void *random_ctx;
} sigil_kms_retry;

#define SIGIL_KMS_RETRY_MAX_RETRIES 4
#define SIGIL_KMS_RETRY_BASE_MS 100
#define SIGIL_KMS_RETRY_CAP_MS 2000
#define SIGIL_KMS_RETRY_BUDGET_MS 10000

/* The ceiling of the sleep before retry n: min(cap_ms, base_ms * 2^n). */
uint32_t sigil_kms_backoff_ceiling(const sigil_kms_retry *p, unsigned n);
/* Whether retry n may run when elapsed_ms have passed since the first
 * attempt; *delay_ms gets the jittered sleep. */
bool sigil_kms_retry_next(const sigil_kms_retry *p, unsigned n, uint64_t elapsed_ms,
                          uint32_t *delay_ms);

/* How an AWS error is reported and whether it is worth another attempt. */
typedef struct {
    const char *type; /* the __type the row matches ("" for the HTTP-status rows) */
    sigil_err err;
    bool retryable;
} sigil_kms_error_class;

/* By __type (namespace prefix "ns#" already removed) from a table; a type
 * not in it by HTTP status: 429 and 5xx retryable, anything else not;
 * both SIGIL_E_KEY_SERVICE. */
sigil_kms_error_class sigil_kms_classify_error(const char *type, long http_status);

/* ---- Client: the same code for AWS KMS and sigil-kms ---- */
typedef struct sigil_kms_client sigil_kms_client;
typedef struct {
    /* "https://host:port" (sigil-kms) or "https://kms.<region>.amazonaws.com";
     * NULL: derived from sigil_kms_options.region (sigil_kms_region_endpoint) */
    const char *endpoint;
    const char *ca_file;  /* PEM bundle to trust; NULL = system store */
    const char *tls_name; /* hostname to verify if different from the endpoint's (may be NULL) */
    long timeout_ms;      /* per attempt; default 5000 when 0 */
} sigil_kms_config;

/* The production routing and the retry policy (every member optional). */
typedef struct {
    const char *region; /* endpoint derived from it when cfg->endpoint is NULL */
    const char *proxy;  /* NULL, "vsock:CID:PORT" or "tcp:IP:PORT" (sigil_kms_proxy_parse) */
    const sigil_kms_retry *retry; /* NULL: the SIGIL_KMS_RETRY_* defaults */
} sigil_kms_options;

SIGIL_WARN_UNUSED_RESULT int sigil_kms_client_new(sigil_kms_client **c,
                                                  const sigil_kms_config *cfg);
/* sigil_kms_client_new with options (opt NULL: none). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_client_new_ex(sigil_kms_client **c,
                                                     const sigil_kms_config *cfg,
                                                     const sigil_kms_options *opt);
void sigil_kms_client_free(sigil_kms_client *c);
/* Thread-safe replacement of credentials (the host pushes them; they expire). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_client_set_creds(sigil_kms_client *c,
                                                        const sigil_aws_creds *creds);

/* GenerateDataKey (KeySpec AES_256) with Recipient {AttestationDocument =
 * doc, RSAES_OAEP_SHA_256}: the 32-byte plaintext from CiphertextForRecipient
 * through sigil_kms_cms_decrypt; the CiphertextBlob is appended to blob_out.
 * doc NULL: no Recipient; the service's Plaintext is returned (tests of the
 * deny path). *plaintext is allocated here.
 * Throttling, 5xx answers and connection failures are retried (see
 * sigil_kms_retry); the last failure is reported.
 * Errors: the class of the AWS error (sigil_kms_classify_error) with
 * "kms: <__type>: <message>" (SIGIL_E_ACCESS_DENIED for AccessDeniedException),
 * SIGIL_E_KEY_SERVICE ("kms: unreachable: …", malformed responses), and the
 * errors of the CMS decryption. */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_generate_data_key(sigil_kms_client *c,
                                                         sigil_secret *plaintext,
                                                         sigil_buf *blob_out, const char *key_id,
                                                         const sigil_kms_recipient *r,
                                                         const uint8_t *doc, size_t doc_len);
/* Decrypt with Recipient (doc NULL: without, as above). */
SIGIL_WARN_UNUSED_RESULT int sigil_kms_decrypt(sigil_kms_client *c, sigil_secret *plaintext,
                                               const uint8_t *blob, size_t blob_len,
                                               const sigil_kms_recipient *r, const uint8_t *doc,
                                               size_t doc_len);

#endif
