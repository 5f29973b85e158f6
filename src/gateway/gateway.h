/*
 * sigil-gateway internals: the request/response model the route handlers
 * see (independent of the HTTP library), rate limiting, route matching,
 * request-body schemas, metrics and the enclave client. Untrusted host
 * code: it never sees a plaintext secret, only sealed uploads and blobs.
 */
#ifndef SIGIL_GATEWAY_H
#define SIGIL_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gateway/store.h"
#include "sigil/codec.h"
#include "sigil/frame.h"

/* ---- limits ---- */
#define GW_JSON_TOKS 8192          /* tokens per request body */
#define GW_RESP_MAX (2u << 20)     /* bytes of one HTTP response body */
#define GW_BLOB_MAX (256u << 10)   /* bytes of one sealed key blob */
#define GW_DOC_MAX (64u << 10)     /* bytes of one attestation document */
#define GW_SEALED_MAX (192u << 10) /* bytes of one decoded sealed upload */
#define GW_QUERY_MAX 8             /* query parameters kept per request */
#define GW_NONCE_MAX 64            /* attestation nonce bytes */
#define GW_REQUEST_ID_MAX 64       /* X-Request-Id bytes */

/* ---- token bucket (ratelimit.c); time is passed in, never read ---- */
typedef struct {
    uint64_t per_sec; /* refill rate, >= 1 */
    uint64_t burst;   /* capacity, >= 1 */
} gw_rate;

typedef struct {
    int64_t micro; /* tokens * 1e6 */
    int64_t last_ms;
    bool init;
} gw_bucket;

/* Takes one token: true when allowed; false with the whole seconds after
 * which one will be available. */
bool gw_bucket_take(gw_bucket *b, const gw_rate *r, int64_t now_ms, uint32_t *retry_after_s);

#define GW_LIMITER_KEY_MAX 32
typedef struct {
    char key[GW_LIMITER_KEY_MAX + 1];
    gw_bucket b;
} gw_limiter_slot;

/* Buckets per key (a token id) in a fixed table sized at start; a full
 * bucket is indistinguishable from a fresh one, so it may be reused. When
 * no slot is free the request is limited (never unbounded growth). */
typedef struct {
    gw_rate rate;
    gw_limiter_slot *slots;
    size_t nslots;
    pthread_mutex_t mu;
} gw_limiter;

SIGIL_WARN_UNUSED_RESULT int gw_limiter_init(gw_limiter *l, gw_rate rate, size_t nslots);
void gw_limiter_free(gw_limiter *l);
bool gw_limiter_take(gw_limiter *l, const char *key, int64_t now_ms, uint32_t *retry_after_s);

/* ---- request and response as the handlers see them ---- */
typedef struct {
    const char *name;
    const char *value; /* NULL for "?name" without '=' */
} gw_kv;

typedef struct {
    const char *method;
    const char *path;
    sigil_slice param; /* the {} segment of the route pattern */
    const char *authorization;
    unsigned authorization_count;
    const char *idem_key;
    unsigned idem_count;
    const char *content_type;
    unsigned content_type_count;
    gw_kv query[GW_QUERY_MAX];
    size_t nquery;
    bool query_overflow;
    const char *body;
    size_t body_len;
    int64_t start_ms;           /* wall clock, for records */
    uint64_t start_mono_us;     /* monotonic, for deadlines and latency */
    const char *request_id_hdr; /* X-Request-Id as sent, or NULL */
    unsigned request_id_count;
    /* filled while handling: for the log line, metrics and audit */
    char request_id[GW_REQUEST_ID_MAX + 1]; /* gw_request_id_assign */
    char tenant[SIGIL_TENANT_MAX + 1];
    char token_id[SIGIL_TOKEN_ID_HEX + 1];
    char key_id[SIGIL_KEY_ID_MAX + 1];
    char venue[SIGIL_VENUE_MAX + 1]; /* the signing key's venue, once loaded */
    const char *error_code;          /* the error of a >= 400 answer (gw_dispatch) */
} gw_req;

typedef struct {
    unsigned status;
    sigil_buf body;
    const char *content_type; /* NULL: application/json */
    uint32_t retry_after;     /* seconds; 0 = no header */
    bool no_store;
    char allow[64]; /* Allow header for 405; empty = none */
} gw_resp;

/* ---- routes (routes.c) ---- */
typedef struct gw_server gw_server;
typedef int (*gw_handler)(gw_server *g, gw_req *rq, gw_resp *rs);

typedef enum {
    GW_AUTH_NONE,
    GW_AUTH_TENANT,
} gw_auth;

typedef enum {
    GW_LIMIT_NONE,
    GW_LIMIT_API,         /* the per-token bucket (--rate, --burst) */
    GW_LIMIT_ATTESTATION, /* the per-token attestation bucket */
} gw_limit;

typedef struct {
    const char *method;
    const char *pattern; /* "/v1/keys/{}": one {} segment at most */
    gw_handler handler;
    gw_auth auth;
    gw_limit limit;
    const char *query; /* the query parameters allowed, comma-separated, or NULL */
} gw_route;

typedef enum {
    GW_MATCH_OK,
    GW_MATCH_NO_ROUTE,  /* 404 */
    GW_MATCH_NO_METHOD, /* 405; allow lists the methods */
} gw_match;

/* Finds the route for method and path: a {} segment matches 1..128 bytes of
 * [A-Za-z0-9_-] (captured in *param). */
gw_match gw_route_match(const gw_route *routes, size_t n, const char *method, const char *path,
                        size_t *idx, sigil_slice *param, char *allow, size_t allow_cap);

/* ---- request bodies and headers (body.c) ---- */
typedef struct {
    char key_id[SIGIL_KEY_ID_MAX + 1];
    sigil_slice request; /* exact text of the request object */
    bool has_client;     /* a client signature (docs/POLICY.md) */
    uint64_t client_ts;
    sigil_slice client_nonce;
    uint8_t client_sig[64];
} gw_sign_body;

/* {"key_id": "<id>", "request": {…}, "client"?: {"timestamp", "nonce", "signature"}} */
SIGIL_WARN_UNUSED_RESULT int gw_parse_sign_body(gw_sign_body *out, sigil_json *doc,
                                                sigil_json_tok *toks, uint32_t cap,
                                                const char *text, size_t len);
/* PUT /v1/keys/{id}/policy: {"policy": {…}, "policy_signature": "<128 hex>"} */
typedef struct {
    sigil_slice policy; /* exact text of the policy object */
    uint8_t signature[64];
} gw_policy_body;
SIGIL_WARN_UNUSED_RESULT int gw_parse_policy_body(gw_policy_body *out, sigil_json *doc,
                                                  sigil_json_tok *toks, uint32_t cap,
                                                  const char *text, size_t len);
/* POST /v1/keys/{id}/revoke: {"signature": "<128 hex>"} (docs/POLICY.md "Revocation") */
SIGIL_WARN_UNUSED_RESULT int gw_parse_revoke_body(uint8_t signature[64], sigil_json *doc,
                                                  sigil_json_tok *toks, uint32_t cap,
                                                  const char *text, size_t len);
/* {"sealed": "<base64>"}: the decoded bytes go to sealed. */
SIGIL_WARN_UNUSED_RESULT int gw_parse_import_body(sigil_buf *sealed, sigil_json *doc,
                                                  sigil_json_tok *toks, uint32_t cap,
                                                  const char *text, size_t len);
/* The {key_id} route segment, checked, into rq->key_id. */
SIGIL_WARN_UNUSED_RESULT int gw_key_param(gw_req *rq);
/* Idempotency-Key: 1..128 bytes of visible ASCII (0x21..0x7e). */
SIGIL_WARN_UNUSED_RESULT int gw_check_idem_key(const char *v, size_t len);
/* Content-Type of a JSON body: absent, or application/json with an
 * optional "; charset=utf-8". */
SIGIL_WARN_UNUSED_RESULT int gw_check_content_type(const char *v, size_t len);
/* nonce=HEX: 1..64 bytes, even-length hex. */
SIGIL_WARN_UNUSED_RESULT int gw_parse_nonce(uint8_t out[static GW_NONCE_MAX], size_t *n,
                                            const char *hex, size_t len);
/* A boot id in a path: exactly 32 hex digits. */
SIGIL_WARN_UNUSED_RESULT int gw_parse_boot_id(uint8_t out[static SIGIL_BOOT_ID_LEN],
                                              const char *hex, size_t len);

/* ---- metrics (metrics.c; docs/OBSERVABILITY.md) ---- */
#define GW_METRIC_ROUTES 24
void gw_metrics_request(size_t route, unsigned status); /* route GW_METRIC_ROUTES-1: unmatched */
void gw_metrics_sign_latency(uint64_t us);
void gw_metrics_rate_limited(void);
void gw_metrics_inflight(int delta);
void gw_metrics_enclave_conns(int delta);
/* A signing decision: venue (a key's venue, "" before the key is known),
 * decision ("allow", "deny", "error") and its error (SIGIL_OK for allow). */
void gw_metrics_sign_outcome(const char *venue, const char *decision, sigil_err code);
/* One enclave round trip of op (sign, import, policy, attestation, ping,
 * else "other"), whatever its outcome. */
void gw_metrics_enclave_call(const char *op, uint64_t us);
/* The enclave request pool: slots in use after a take or release, of
 * capacity; a take refused because none was free. */
void gw_metrics_enclave_pool(size_t in_use, size_t capacity);
void gw_metrics_enclave_pool_full(void);
/* One audit write (record_outcome: group-commit wait and commit) between
 * two monotonic times; ok false when it failed. A group commit of n
 * records. */
void gw_metrics_audit_write(uint64_t start_us, uint64_t end_us, bool ok);
void gw_metrics_audit_batch(size_t n);
/* A key-service credential fetch by the gateway (IMDS), and its outcome. */
void gw_metrics_key_service(uint64_t us, bool ok);
/* Audit-write health for /readyz: 0 when the last write succeeded (or
 * none failed), else the monotonic time (us) of the failure. */
uint64_t gw_metrics_audit_failed_at(void);
/* Prometheus text exposition; names[i] labels route i (NULL ends). */
SIGIL_WARN_UNUSED_RESULT int gw_metrics_render(sigil_buf *out, const char *const *names, size_t n);

/* ---- enclave client (enclave_client.c) ---- */
typedef struct gw_enclave gw_enclave;

typedef struct {
    sigil_addr addr;
    unsigned conns;
    const char *kms_credentials; /* file path, "imds", or NULL (AWS_* environment) */
    const char *imds_url;        /* with "imds": the metadata service (NULL: the default) */
    const char *mode;            /* the mode the enclave must report */
    sigil_store *store;
} gw_enclave_config;

/* Writes exactly the announced number of arg pairs into b. */
typedef int (*gw_args_fn)(void *ctx, sigil_buf *b);

typedef struct {
    bool booted;
    char kms[16];
    uint8_t boot_id[SIGIL_BOOT_ID_LEN];
    bool has_boot_id;
} gw_ping;

SIGIL_WARN_UNUSED_RESULT int gw_enclave_start(gw_enclave **out, const gw_enclave_config *cfg);
void gw_enclave_stop(gw_enclave *e);
/* Sends one request and waits for its response until deadline_us
 * (monotonic). frame is scratch for the request; resp receives the
 * response payload, which *out slices. Errors: the enclave's own code and
 * message; unavailable (no connection, connection lost); timeout. */
SIGIL_WARN_UNUSED_RESULT int gw_enclave_call(gw_enclave *e, const char *op, size_t nargs,
                                             gw_args_fn args, void *ctx, sigil_buf *frame,
                                             sigil_buf *resp, uint64_t deadline_us,
                                             sigil_frame *out);
/* A stored revocation as the enclave's `revoke` op takes it (its args, with
 * gw_revocation_args); replay: restoring one after a (re)connect. */
typedef struct {
    sigil_revocation_record rec;
    const uint8_t *blob;
    size_t blob_len;
    bool replay;
} gw_revocation;
typedef struct {
    gw_revocation *v;
    size_t n, cap;
} gw_revocations;
/* enclave_revocations.c: every stored revocation, copied (free with
 * gw_revocations_free). */
SIGIL_WARN_UNUSED_RESULT int gw_revocations_load(sigil_store *s, gw_revocations *out);
void gw_revocations_free(gw_revocations *l);
/* The 5 args of `revoke` for ctx, a const gw_revocation *. */
int gw_revocation_args(void *ctx, sigil_buf *b);

/* Number of connections that finished hello, boot and the revocation replay. */
unsigned gw_enclave_ready_conns(const gw_enclave *e);
/* Why no connection is ready ("enclave: not connected" / "enclave: not
 * booted"), written to msg. */
void gw_enclave_down_reason(gw_enclave *e, char *msg, size_t cap);

uint64_t gw_mono_us(void);

/* ---- IMDSv2 (imds.c): the instance role's credentials for the key service ---- */
#define GW_IMDS_DEFAULT_URL "http://169.254.169.254"
#define GW_IMDS_TOKEN_MAX 4096

typedef struct {
    char access_key_id[256];
    char secret_access_key[256];
    char session_token[GW_IMDS_TOKEN_MAX];
    char region[64];
    time_t expiration; /* unix seconds */
} gw_imds_creds;

/* "http://HOST[:PORT]" (no path). */
SIGIL_WARN_UNUSED_RESULT int gw_imds_check_url(const char *url);
/* PUT /latest/api/token (TTL 21600 s), the first role under
 * /latest/meta-data/iam/security-credentials/, its credentials, and the
 * region of /latest/dynamic/instance-identity/document. Errors:
 * unavailable (unreachable, HTTP status, no role), protocol, bad_field. */
SIGIL_WARN_UNUSED_RESULT int gw_imds_fetch(gw_imds_creds *out, const char *base_url,
                                           long timeout_ms);
SIGIL_WARN_UNUSED_RESULT int gw_imds_parse_creds(gw_imds_creds *out, const char *json, size_t len);
SIGIL_WARN_UNUSED_RESULT int gw_imds_parse_region(char *out, size_t cap, const char *json,
                                                  size_t len);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
SIGIL_WARN_UNUSED_RESULT int gw_imds_parse_time(time_t *out, const char *s, size_t n);
/* How long until the next fetch: at 80 % of the time left, and at least 15
 * minutes before expiry when more than 30 remain; never under 1 s. */
uint64_t gw_imds_refresh_delay_ms(time_t now, time_t expiration);

/* ---- enclave results (enclave_client.c) ---- */
typedef sigil_frame_field gw_field;
typedef sigil_frame_value gw_value;
#define GW_F_TEXT SIGIL_FF_TEXT
#define GW_F_TEXT_OR_NULL SIGIL_FF_TEXT_OR_NULL
#define GW_F_BYTES SIGIL_FF_BYTES
#define GW_F_BYTES_OR_NULL SIGIL_FF_BYTES_OR_NULL
#define GW_F_BOOL SIGIL_FF_BOOL
#define GW_F_UINT SIGIL_FF_UINT

/* Reads a result map against spec: every field required, no other key;
 * anything else is SIGIL_E_PROTOCOL naming the field. */
SIGIL_WARN_UNUSED_RESULT int gw_result_read(const sigil_frame *f, const gw_field *spec, size_t n,
                                            gw_value *vals);

/* ---- log.c (docs/OBSERVABILITY.md) ---- */
/* One JSON object per line on stderr: time, level, event (the message's
 * "word:" prefix, else "gateway"), the request id of the request this
 * thread is handling, and the message as msg. Never pass bodies, tokens,
 * blobs or credentials. */
/* Buffers stderr and starts its flusher (call once, at start-up). */
SIGIL_WARN_UNUSED_RESULT int gw_log_start(void);
void gw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gw_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the store keeper (keeper.c) ---- */
/* How often limit usage reports older than SIGIL_USAGE_KEEP_MS are deleted
 * (also once at start-up). */
#define GW_USAGE_PRUNE_MS (3600ll * 1000)
/* One thread until stopped (stop accepts NULL): renews the store handle's
 * idempotency reservations every SIGIL_IDEM_RENEW_MS and prunes old limit
 * usage reports every GW_USAGE_PRUNE_MS. */
typedef struct gw_keeper gw_keeper;
SIGIL_WARN_UNUSED_RESULT int gw_keeper_start(gw_keeper **out, sigil_store *store);
void gw_keeper_stop(gw_keeper *k);
/* level: "info", "warn" or "error". */
void gw_logv(const char *level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The request line: event "request", request_id, method, route, status,
 * duration_ms, tenant, key_id, venue and error code when set. */
void gw_log_request(const gw_req *rq, size_t route, unsigned status, uint64_t us);
/* After a failed enclave call: a warn line when the call itself failed
 * (unavailable, timeout, protocol, too large, internal) or the key service
 * did (key_service_error, access_denied); none for the enclave's decisions
 * and answers to bad requests. */
void gw_log_enclave_failure(const char *op);
/* The request id gw_log adds to this thread's lines (NULL: none). */
void gw_log_set_request(const char *request_id);

/* ---- request ids (reqid.c) ---- */
/* X-Request-Id accepted from a client: 1..GW_REQUEST_ID_MAX bytes of
 * [A-Za-z0-9._:-]. */
bool gw_request_id_valid(const char *s, size_t len);
/* rq->request_id: the client's X-Request-Id when there is exactly one and
 * it is valid, else a fresh one (32 lowercase hex digits). */
void gw_request_id_assign(gw_req *rq);

/* ---- readiness (ready.c) ---- */
/* The store's part of /readyz: 0, or -1 with the reason in msg (the store
 * cannot be read; an audit write failed in the last few seconds). */
SIGIL_WARN_UNUSED_RESULT int gw_ready_store(gw_server *g, char *msg, size_t cap);

/* ---- read-through cache (cache.c) ---- */
typedef struct gw_cache gw_cache;
#define GW_CACHE_TTL_MS 1000u
SIGIL_WARN_UNUSED_RESULT int gw_cache_init(gw_cache **c, size_t nslots, size_t value_max,
                                           uint64_t ttl_ms);
void gw_cache_free(gw_cache *c);
/* On a hit copies the value (at most *len bytes) and sets *len. */
bool gw_cache_get(gw_cache *c, const char *key, void *value, size_t *len, uint64_t now_ms);
void gw_cache_put(gw_cache *c, const char *key, const void *value, size_t len, uint64_t now_ms);
void gw_cache_drop(gw_cache *c, const char *key);

/* ---- limits across enclaves (limits_peers.c; docs/POLICY.md) ---- */
#define GW_PEER_USAGE_MS 250u /* --peer-usage-ms: how long peers' usage is reused */
#define GW_PEERS_MAX ((size_t)SIGIL_USAGE_REPORT_MAX * 16 + 8)
/* The `peers` argument of a sign on the key: a CBOR array of the latest
 * usage reports of every boot (this one's included; the enclave skips it),
 * read through g->peer_cache. out->len 0: none (send null). */
SIGIL_WARN_UNUSED_RESULT int gw_peers_get(gw_server *g, const char *tenant, const char *key_id,
                                          sigil_buf *out);
/* Checks the `usage` result of a sign (a report map) and fills u with it,
 * the bytes copied into mem (SIGIL_USAGE_REPORT_MAX). */
SIGIL_WARN_UNUSED_RESULT int gw_usage_take(sigil_usage_record *u, uint8_t *mem, const uint8_t *p,
                                           size_t len);

/* ---- the server (handlers.c) ---- */
struct gw_server {
    gw_cache *token_cache; /* token id -> sigil_token_record */
    gw_cache *key_cache;   /* tenant/key id -> sigil_key_record + blob */
    gw_cache *peer_cache;  /* tenant/key id -> `peers` (gw_peers_get), --peer-usage-ms */
    sigil_store *store;
    gw_enclave *enclave;
    gw_limiter api_limiter;
    gw_limiter attestation_limiter;
    const char *mode;
    uint64_t deadline_ms;
    /* /readyz: one ping at a time, its answer reused for up to a second */
    pthread_mutex_t ready_mu;
    uint64_t ready_at_us;
    bool ready_cached;
    unsigned ready_status;
    char ready_msg[512];
    char ready_kms[16];
    uint8_t ready_boot_id[SIGIL_BOOT_ID_LEN];
    uint64_t ready_receipt_seq; /* the enclave's last receipt of this boot */
};

extern const gw_route GW_ROUTES[];
extern const size_t GW_NROUTES;
extern const char *const GW_ROUTE_NAMES[];

/* Per-thread scratch, allocated once per worker thread. */
typedef struct {
    uint8_t resp[GW_RESP_MAX];
    uint8_t frame[SIGIL_FRAME_MAX];
    uint8_t in[SIGIL_FRAME_MAX];
    uint8_t blob[GW_BLOB_MAX];
    uint8_t sealed[GW_SEALED_MAX];
    sigil_json_tok toks[GW_JSON_TOKS];
} gw_work;

/* NULL when the memory cannot be had. */
gw_work *gw_work_get(void);

/* Routes, authenticates, rate-limits and runs the handler; rs always holds
 * a complete response afterwards. *route is the matched route index, or
 * GW_METRIC_ROUTES - 1 when none matched. */
void gw_dispatch(gw_server *g, gw_req *rq, gw_resp *rs, size_t *route);
/* HTTP status for an error code. */
unsigned gw_status_for(sigil_err e);
/* Replaces rs with {"error":{"code","message"}} for the current error. */
void gw_error_response(gw_resp *rs);
/* The same with a decision's receipt (strict JSON, inserted verbatim). */
void gw_error_response_receipt(gw_resp *rs, const char *receipt, size_t receipt_len);

/* ---- handlers (handlers.c, handlers_keys.c) ---- */
int gw_h_healthz(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_readyz(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_metrics(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_attestation(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_boot(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_keys_import(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_keys_list(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_keys_delete(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_sign(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_key_policy(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_key_credentials(gw_server *g, gw_req *rq, gw_resp *rs); /* rotation */
int gw_h_key_rewrap(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_key_revoke(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_key_disable(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_key_enable(gw_server *g, gw_req *rq, gw_resp *rs);
int gw_h_audit(gw_server *g, gw_req *rq, gw_resp *rs); /* handlers_audit.c */

/* JSON response helpers */
SIGIL_WARN_UNUSED_RESULT int gw_jw_hex(sigil_jw *w, const char *key, const uint8_t *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int gw_jw_b64(sigil_jw *w, const char *key, const uint8_t *p, size_t n);
SIGIL_WARN_UNUSED_RESULT int gw_jw_text(sigil_jw *w, const char *key, const uint8_t *p, size_t n);
/* Deadline of this request's enclave call (monotonic us). */
uint64_t gw_deadline(const gw_server *g, const gw_req *rq);

#endif
