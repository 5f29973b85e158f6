/*
 * Shared pieces of the venue files (trusted): the venue entries, CEX request
 * parsing and output, and the wallet signature helpers.
 */
#ifndef SIGIL_VENUES_INTERNAL_H
#define SIGIL_VENUES_INTERNAL_H

#include "sigil/venues.h"

#define SIGIL_REQUEST_MAX_BYTES (256 * 1024) /* int: also used in messages */
#define SIGIL_REQUEST_MAX_TOKENS 8192
/* Working memory per signing thread: decoded request strings, pre-sign
 * bytes, encodings. Four times the request bound covers every venue. */
#define SIGIL_SCRATCH_BYTES (4 * SIGIL_REQUEST_MAX_BYTES)

extern const sigil_venue sigil_venue_binance;
extern const sigil_venue sigil_venue_bybit;
extern const sigil_venue sigil_venue_okx;
extern const sigil_venue sigil_venue_kucoinfutures;
extern const sigil_venue sigil_venue_kucoin;
extern const sigil_venue sigil_venue_hyperliquid;
extern const sigil_venue sigil_venue_aster;
extern const sigil_venue sigil_venue_eip712;
extern const sigil_venue sigil_venue_eip191;
extern const sigil_venue sigil_venue_kraken;
extern const sigil_venue sigil_venue_bitget;
extern const sigil_venue sigil_venue_gate;
extern const sigil_venue sigil_venue_deribit;
extern const sigil_venue sigil_venue_bitfinex;

/* ---- CEX requests: {method, path, query, body, timestamp, recv_window?} ---- */
typedef enum {
    SIGIL_BODY_FORM, /* x-www-form-urlencoded, parsed strictly */
    SIGIL_BODY_JSON, /* strict JSON */
} sigil_body_kind;

typedef struct {
    char method[8]; /* GET, POST, PUT, DELETE */
    sigil_slice path;
    sigil_slice query; /* without '?' */
    sigil_slice body;
    uint64_t timestamp; /* ms */
    bool has_recv_window;
    uint64_t recv_window;
    sigil_query query_params; /* parsed strictly */
    sigil_query body_params;  /* SIGIL_BODY_FORM bodies, parsed strictly */
} sigil_cex_request;

/* Parses the CEX request fields; decoded strings are stored in scratch,
 * which must outlive r. Extra allowed fields (beyond the common ones) may be
 * listed in extra/nextra. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_request_parse(sigil_cex_request *r, sigil_buf *scratch,
                                                     const sigil_sign_ctx *ctx,
                                                     sigil_body_kind body_kind);

/* ---- private WebSocket authentication: {"op": OP, <time field>: N} ---- */
/* True when the request is a WebSocket authentication (it has "op"). */
bool sigil_cex_is_ws_auth(const sigil_sign_ctx *ctx);
/* Checks the request is exactly {"op": op, time_field: integer in [min, max)}
 * and returns the integer. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_ws_auth_parse(uint64_t *time, const sigil_sign_ctx *ctx,
                                                     const char *op, const char *time_field,
                                                     uint64_t min, uint64_t max);

/* Only characters HTTP clients send as they are (RFC 3986 unreserved, '%'
 * escapes and path/query delimiters except ';'), minus the bytes in
 * forbidden: what goes on the request line must be sent as signed. Names
 * request.<field>. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_check_ascii(sigil_slice s, const char *field,
                                                   const char *forbidden);
/* A request path: starts with '/', sigil_cex_check_ascii, and no empty, "."
 * or ".." segment and no encoded '/', '.' or '\' (a trailing '/' is kept). */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_check_path(sigil_slice path);

typedef struct {
    const char *name;
    const char *value;
    size_t len;
} sigil_header;

/* Writes {"method","path","query","body","headers":{…}} with headers in the
 * given order. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_write(sigil_buf *out, const sigil_cex_request *r,
                                             sigil_slice query, sigil_slice body,
                                             const sigil_header *h, size_t nh);

/* base64(HMAC-SHA256(secret, msg)) or lowercase hex of it into dst. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_hmac256_b64(sigil_buf *dst, const sigil_credentials *c,
                                                   const void *msg, size_t n);
SIGIL_WARN_UNUSED_RESULT int sigil_cex_hmac256_hex(sigil_buf *dst, const sigil_credentials *c,
                                                   const void *msg, size_t n);

/* Appends ts ‖ METHOD ‖ path ["?" query] ‖ body to scratch, the request
 * target exactly as sent (OKX, KuCoin); *out is the appended bytes. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_prehash_target(sigil_slice *out, sigil_buf *scratch,
                                                      sigil_slice ts, const sigil_cex_request *r);

/* base64(RSA-PKCS1v15-SHA256(msg)) with the credentials' RSA key into dst. */
#define SIGIL_CEX_RSA_SIG_MAX (SIGIL_RSA_MAX_BITS / 8)
SIGIL_WARN_UNUSED_RESULT int sigil_cex_rsa256_b64(sigil_buf *dst, const sigil_credentials *c,
                                                  const void *msg, size_t n);

/* Decimal text of an integer, for header values and pre-sign strings. */
typedef struct {
    char s[21];
    size_t len;
} sigil_u64_text;
void sigil_u64_text_init(sigil_u64_text *t, uint64_t v);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) from Unix milliseconds, years 1970..9999
 * (okx.c; OKX's OK-ACCESS-TIMESTAMP). */
#define SIGIL_ISO8601_MS_LEN 24
SIGIL_WARN_UNUSED_RESULT int sigil_iso8601_ms(char out[static SIGIL_ISO8601_MS_LEN + 1],
                                              uint64_t ms);

/* ---- Binance WebSocket API (binance_ws.c): a request with "params" ---- */
bool sigil_binance_is_ws(const sigil_sign_ctx *ctx);
SIGIL_WARN_UNUSED_RESULT int sigil_binance_ws_sign(sigil_buf *out, const sigil_sign_ctx *ctx);
/* A recvWindow value sent without request.recv_window (binance.c). */
SIGIL_WARN_UNUSED_RESULT int sigil_binance_check_recv_window_text(sigil_slice v);

/* Signs msg with the credentials' key, in the encoding Binance and Bybit
 * use: HMAC-SHA256 → lowercase hex; Ed25519 and RSA-SHA256 → base64. The
 * venue's key_types decide which keys reach it. */
SIGIL_WARN_UNUSED_RESULT int sigil_cex_sign_by_key(sigil_buf *dst, const sigil_credentials *c,
                                                   const void *msg, size_t n);

/* ---- wallet signatures ---- */
/* Signs a 32-byte digest with the credentials' secp256k1 key: r, s, v (27/28). */
typedef struct {
    uint8_t r[32];
    uint8_t s[32];
    uint8_t v;
} sigil_eth_sig;
SIGIL_WARN_UNUSED_RESULT int sigil_eth_sign_digest(sigil_eth_sig *out, const sigil_credentials *c,
                                                   const uint8_t digest[static 32]);
/* "0x" + 130 hex digits (r ‖ s ‖ v). */
SIGIL_WARN_UNUSED_RESULT int sigil_eth_sig_put_hex65(sigil_buf *b, const sigil_eth_sig *sig);
/* "0x" + lowercase hex without leading zeros, as Python's hex(int) prints. */
SIGIL_WARN_UNUSED_RESULT int sigil_put_hex_int(sigil_buf *b, const uint8_t *be, size_t n);

/* ---- request.timestamp of venues whose signed bytes carry no time ---- */
/* dydx, eip191, eip712 and paradex onboarding / account_info take an
 * optional top-level "timestamp" (Unix ms; {"timestamp", false} in their
 * member lists) beside what they sign: never signed, it is the time the
 * enclave's freshness check reads (docs/POLICY.md "Request time"). The
 * request hash, and so the client signature and the receipt, cover it. */
#define SIGIL_REQUEST_TS_MIN 1000000000000ull   /* Unix ms, 2001 */
#define SIGIL_REQUEST_TS_MAX 100000000000000ull /* Unix ms, 5138 */
/* Reads request.timestamp of the object at root: *out 0 when absent or null;
 * otherwise an integer in [MIN, MAX), or SIGIL_E_BAD_FIELD (not an integer)
 * / SIGIL_E_OUT_OF_RANGE (negative, in seconds, beyond the range). */
SIGIL_WARN_UNUSED_RESULT int sigil_request_timestamp(uint64_t *out, const sigil_json *d,
                                                     uint32_t root);

#endif
