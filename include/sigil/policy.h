/*
 * Sigil policy (libsigil-core, no secrets except the seed that
 * sigil_policy_sign borrows from the caller's locked memory): the owner-signed
 * policy JSON, its RFC 8785 canonical form and hash, evaluation (deny by
 * default), and the classification of a venue request into an action.
 * docs/POLICY.md is the reference for every rule and table here.
 */
#ifndef SIGIL_POLICY_H
#define SIGIL_POLICY_H

#include <stdbool.h>

#include "sigil/codec.h"
#include "sigil/decimal.h"
#include "sigil/venues.h" /* sigil_network (the type only: nothing of libsigil-sign is used) */

/* Limits. A policy file is small; the canonicaliser is shared with receipts. */
#define SIGIL_POLICY_MAX_BYTES (64 * 1024)
#define SIGIL_CANON_MAX_BYTES (64 * 1024)
#define SIGIL_CANON_MAX_TOKENS 2048
#define SIGIL_POLICY_MAX_ACTIONS 16
/* The signature's domain separator: "sigil-policy-v2" and its NUL, 16 bytes;
 * the signed message is prefix || u32be(len) tenant || u32be(len) key_id ||
 * u64be(version) || canonical (docs/POLICY.md). */
#define SIGIL_POLICY_SIG_PREFIX "sigil-policy-v2"
#define SIGIL_POLICY_SIG_PREFIX_LEN sizeof(SIGIL_POLICY_SIG_PREFIX)
/* Client request signatures (docs/POLICY.md): prefix (17 bytes with NUL) ||
 * u32be(len) key_id || SHA-256(JCS(request)) || u64be(timestamp_ms) ||
 * u32be(len) nonce. */
#define SIGIL_REQUEST_SIG_PREFIX "sigil-request-v1"
#define SIGIL_REQUEST_SIG_PREFIX_LEN sizeof(SIGIL_REQUEST_SIG_PREFIX)
#define SIGIL_CLIENT_NONCE_MIN 16
#define SIGIL_CLIENT_NONCE_MAX 64

/* Rule sizes (docs/POLICY.md). */
#define SIGIL_POLICY_MAX_PATHS 32
#define SIGIL_POLICY_MAX_PATH_BYTES 128
#define SIGIL_POLICY_MAX_SYMBOLS 64
#define SIGIL_POLICY_MAX_SYMBOL_BYTES 64
#define SIGIL_POLICY_MAX_NAMES 32 /* destinations, agents, vaults, user actions */
#define SIGIL_POLICY_MAX_NAME_BYTES 128
#define SIGIL_POLICY_MAX_SKEW_MS 300000u
/* Integers in canonical JSON stay within what every JCS implementation
 * (ECMAScript numbers) reproduces exactly. */
#define SIGIL_JSON_MAX_SAFE_INT 9007199254740991ull

typedef enum {
    SIGIL_ACTION_ORDER,
    SIGIL_ACTION_CANCEL,
    SIGIL_ACTION_MODIFY,
    SIGIL_ACTION_LEVERAGE,
    SIGIL_ACTION_READ,
    SIGIL_ACTION_TRANSFER,
    SIGIL_ACTION_WITHDRAW,
    SIGIL_ACTION_AGENT,
    SIGIL_ACTION_AUTH,
    SIGIL_ACTION_OTHER,
    SIGIL_ACTION_COUNT_
} sigil_action;

/* "order", "cancel", …; "unknown" for out-of-range values. */
const char *sigil_action_name(sigil_action a);
/* Inverse of sigil_action_name over exactly n bytes; -1 (no error set) when
 * the name is not an action. */
SIGIL_WARN_UNUSED_RESULT int sigil_action_parse(sigil_action *out, const char *name, size_t n);

#define SIGIL_ACTIONS_ALL ((1u << SIGIL_ACTION_COUNT_) - 1u)

/* HTTP methods, as bits (policy.http.methods). */
enum {
    SIGIL_METHOD_GET = 1,
    SIGIL_METHOD_POST = 2,
    SIGIL_METHOD_PUT = 4,
    SIGIL_METHOD_DELETE = 8,
    SIGIL_METHODS_ALL = 15
};

typedef enum { SIGIL_SIDE_NONE, SIGIL_SIDE_BUY, SIGIL_SIDE_SELL } sigil_side;
enum { SIGIL_SIDES_BUY = 1u << SIGIL_SIDE_BUY, SIGIL_SIDES_SELL = 1u << SIGIL_SIDE_SELL };

typedef struct {
    char v[SIGIL_POLICY_MAX_NAME_BYTES + 1];
} sigil_policy_name;

typedef struct {
    char v[SIGIL_POLICY_MAX_PATH_BYTES + 1];
} sigil_policy_path;

/* One entry of policy.symbols: caps in the venue's own units. */
typedef struct {
    char name[SIGIL_POLICY_MAX_SYMBOL_BYTES + 1]; /* the instrument as the request names it */
    sigil_dec max_qty;
    bool has_max_notional;
    sigil_dec max_notional; /* qty x multiplier x price */
    bool has_multiplier;
    sigil_dec multiplier; /* contract size; 1 when absent */
    int size_decimals;    /* -1 when absent: qty may have at most this many decimals */
    uint8_t sides;        /* SIGIL_SIDES_* bits; both when absent */
    bool reduce_only;     /* only reduce-only orders */
} sigil_policy_symbol;

typedef struct {
    uint64_t version;
    char tenant[65];
    char venue[33];
    sigil_network network;
    uint32_t actions;               /* bitmask of 1u << sigil_action (all bits for "*") */
    uint64_t not_before, not_after; /* unix seconds; not_before 0 when absent */
    uint64_t skew_ms;               /* request time window; 0 = the enclave's default */

    /* http: CEX method and path rules (absent: any method, any path) */
    bool has_http;
    uint8_t methods; /* SIGIL_METHOD_* bits */
    bool has_allow_paths;
    unsigned n_allow_paths, n_deny_paths;
    sigil_policy_path allow_paths[SIGIL_POLICY_MAX_PATHS];
    sigil_policy_path deny_paths[SIGIL_POLICY_MAX_PATHS];

    /* symbols (absent: any symbol, no caps) */
    bool has_symbols;
    unsigned n_symbols;
    sigil_policy_symbol symbols[SIGIL_POLICY_MAX_SYMBOLS];

    /* where money may go and who may be granted authority (absent: nowhere, no one) */
    unsigned n_destinations, n_agents;
    sigil_policy_name destinations[SIGIL_POLICY_MAX_NAMES];
    sigil_policy_name agents[SIGIL_POLICY_MAX_NAMES];

    /* hyperliquid */
    bool has_hyperliquid;
    unsigned n_vaults;
    sigil_policy_name vaults[SIGIL_POLICY_MAX_NAMES];
    bool has_user_actions;
    unsigned n_user_actions;
    sigil_policy_name user_actions[SIGIL_POLICY_MAX_NAMES];

    /* limits, per key, in the enclave (0 / absent: none) */
    uint32_t requests_per_minute, orders_per_minute;
    bool has_daily_notional;
    sigil_dec daily_notional;

    uint8_t hash[32]; /* SHA-256 of the canonical form */
} sigil_policy;

/* Canonicalises (RFC 8785 subset) into out: members sorted by the UTF-16
 * code units of their keys, no whitespace, JCS string escaping, integers
 * only (|n| <= 2^53-1; fractions and exponents refused). Fails atomically. */
SIGIL_WARN_UNUSED_RESULT int sigil_json_canonicalize(sigil_buf *out, const char *json, size_t len);
/* Full RFC 8785: as above, but any JSON number is accepted and written as
 * ECMAScript's Number::toString of its IEEE double (RFC 8785 §3.2.2.3). For
 * request hashes, where venues allow fractional numbers. */
SIGIL_WARN_UNUSED_RESULT int sigil_json_canonicalize_any(sigil_buf *out, const char *json,
                                                         size_t len);

/* Strict parse of a policy object's JSON text (docs/POLICY.md); fills hash.
 * Parses in place (the struct is large); on failure *p is all zero. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_parse(sigil_policy *p, const char *json, size_t len);

/* Verifies the owner's signature over the v2 message (above) for this key:
 * tenant and version come from the parsed policy p (parsed from json).
 * SIGIL_E_BAD_SIGNATURE on mismatch. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_verify(const sigil_policy *p, const char *json,
                                                 size_t len, const char *key_id,
                                                 const uint8_t sig[64], const uint8_t owner_pk[32]);

/* Signs (CLI side); the secret seed stays in the caller's locked memory. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_sign(uint8_t sig[64], const sigil_policy *p,
                                               const char *json, size_t len, const char *key_id,
                                               const uint8_t seed[32]);

/* Key ids: 32 lowercase hex digits (16 random bytes chosen by the client). */
#define SIGIL_KEY_ID_HEX 32
SIGIL_WARN_UNUSED_RESULT int sigil_key_id_valid(const char *key_id, size_t len);

/* Deny by default: SIGIL_E_POLICY_DENIED with a message naming the rule
 * ("policy: action withdraw not allowed", "policy: expired at …",
 * "policy: venue …"). Valid while not_before <= now_s < not_after. The
 * venue/network/time/action rules only; sigil_policy_evaluate runs all. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_check(const sigil_policy *p, const char *venue,
                                                sigil_network net, sigil_action action,
                                                uint64_t now_s);

/* ---- what a request asks for (src/policy/inspect*.c) ---- */

#define SIGIL_MAX_ORDERS 64
#define SIGIL_MAX_REQUEST_NAMES 8

/* One order (or cancel, or amendment) as the venue will read it. */
typedef struct {
    char symbol[SIGIL_POLICY_MAX_SYMBOL_BYTES + 1]; /* "" when the request names none */
    sigil_side side;                                /* NONE when the request has none */
    bool has_qty;
    sigil_dec qty; /* the venue's size units (base currency, contracts, lots) */
    bool has_price;
    sigil_dec price; /* limit price; absent for market orders */
    bool has_quote_qty;
    sigil_dec quote_qty; /* a notional given directly (binance quoteOrderQty) */
    bool reduce_only;
} sigil_order;

typedef struct {
    /* CEX requests: the normalised method and path (docs/POLICY.md "Paths") */
    bool has_path;
    uint8_t method; /* SIGIL_METHOD_* bit */
    char path[1025];

    /* order, modify, cancel: what the request places, amends or cancels */
    bool orders_known; /* the venue's parser understood this endpoint's orders */
    size_t n_orders;
    sigil_order orders[SIGIL_MAX_ORDERS];

    /* withdraw, transfer: every destination the request names */
    size_t n_destinations;
    sigil_policy_name destinations[SIGIL_MAX_REQUEST_NAMES];
    /* agent: every address the request grants authority to */
    size_t n_agents;
    sigil_policy_name agents[SIGIL_MAX_REQUEST_NAMES];

    /* hyperliquid */
    bool has_vault;
    char vault[43];   /* lowercase 0x address */
    char kind[48];    /* action.type */
    bool user_signed; /* a user-signed action (not L1) */
} sigil_request_info;

/* Reads the orders, destinations, agents and vault of a request already
 * classified as `action` (sigil_request_action). Malformed order fields are
 * SIGIL_E_BAD_REQUEST (or a field code) naming the member; an endpoint whose
 * orders the venue's parser does not know leaves orders_known false. */
SIGIL_WARN_UNUSED_RESULT int sigil_request_inspect(sigil_request_info *out, const char *venue,
                                                   sigil_action action, const char *request,
                                                   size_t len);

/* ---- evaluation of every rule (src/policy/evaluate.c) ---- */

typedef struct {
    const char *venue;
    sigil_network network;
    sigil_action action;
    const sigil_request_info *info;
    uint64_t now_ms;
} sigil_policy_input;

/* What the request costs against the per-key limits. */
typedef struct {
    uint32_t orders;   /* orders placed or amended */
    bool has_notional; /* false when no order in the request has a price or quote quantity */
    sigil_dec notional;
} sigil_policy_cost;

/* Deny by default: every rule must allow; the first that does not is named
 * in the SIGIL_E_POLICY_DENIED message. Fills cost for sigil_limits_admit. */
SIGIL_WARN_UNUSED_RESULT int
sigil_policy_evaluate(const sigil_policy *p, const sigil_policy_input *in, sigil_policy_cost *cost);

/* ---- per-key state in the enclave: rates, daily notional, highest policy
 * version (src/policy/limits.c). Memory only: docs/POLICY.md says what a
 * restart forgets. Thread-safe. ---- */

typedef struct sigil_limits sigil_limits;
SIGIL_WARN_UNUSED_RESULT int sigil_limits_new(sigil_limits **out);
void sigil_limits_free(sigil_limits *l);
/* Atomically checks and then records, all or nothing: the policy version is
 * not below the highest seen for the key (SIGIL_E_POLICY_DENIED "superseded"),
 * the request and order rates, and the UTC-day notional. */
SIGIL_WARN_UNUSED_RESULT int sigil_limits_admit(sigil_limits *l, const char *tenant,
                                                const char *key_id, const sigil_policy *p,
                                                const sigil_policy_cost *cost, uint64_t now_ms);
/* Limits shared by several enclaves serving one key (docs/POLICY.md
 * "Limits across enclaves"). Each enclave reports its own usage of a key
 * after every allowed request; the host stores the latest report per boot
 * and hands the other boots' reports to the next admission, which can only
 * become stricter from them. */
#define SIGIL_LIMITS_PEERS_MAX 16 /* reports one admission takes (own boot's included) */
#define SIGIL_LIMITS_BOOT_ID_LEN 16

typedef struct {
    uint8_t boot_id[SIGIL_LIMITS_BOOT_ID_LEN]; /* the reporting enclave's boot */
    uint64_t seq;                              /* the boot's admissions of this key, 1.. */
    uint64_t time_ms;                          /* its clock at the report */
    /* this boot's own consumption only (never its peers'): */
    uint64_t requests_used, orders_used;       /* since boot, in requests and orders */
    uint64_t requests_deficit, orders_deficit; /* bucket capacity - level at time_ms,
                                                  in 1/60000 of a token (limits.c units) */
    uint64_t day;                              /* UTC day (time_ms / 86400000) of notional */
    sigil_dec notional;                        /* that day's notional signed */
} sigil_limits_usage;

typedef struct {
    const sigil_limits_usage *v; /* reports of other boots (one of self_boot_id is skipped) */
    size_t n;                    /* 0..SIGIL_LIMITS_PEERS_MAX */
    const uint8_t *self_boot_id; /* SIGIL_LIMITS_BOOT_ID_LEN bytes, or NULL */
} sigil_limits_peers;

/* sigil_limits_admit counting the peers' usage too (peers NULL: none, the
 * same as sigil_limits_admit); on success fills *report (when not NULL)
 * with this enclave's own usage of the key after the admission, boot_id
 * left as the caller set it. */
SIGIL_WARN_UNUSED_RESULT int
sigil_limits_admit_shared(sigil_limits *l, const char *tenant, const char *key_id,
                          const sigil_policy *p, const sigil_policy_cost *cost, uint64_t now_ms,
                          const sigil_limits_peers *peers, sigil_limits_usage *report);
/* Strict reading and writing of reports as CBOR maps (docs/FRAMES.md
 * "Usage reports"): read takes one map, write appends one. Unknown or
 * missing keys, values over their bounds, a bad decimal: SIGIL_E_BAD_FIELD
 * or SIGIL_E_BAD_REQUEST naming the field. */
SIGIL_WARN_UNUSED_RESULT int sigil_limits_usage_read(sigil_limits_usage *out, sigil_cursor map);
SIGIL_WARN_UNUSED_RESULT int sigil_limits_usage_write(sigil_buf *b, const sigil_limits_usage *u);
/* Reads a CBOR array of at most SIGIL_LIMITS_PEERS_MAX report maps into
 * out[SIGIL_LIMITS_PEERS_MAX] (more: SIGIL_E_TOO_LARGE). */
SIGIL_WARN_UNUSED_RESULT int sigil_limits_peers_read(sigil_limits_usage *out, size_t *n,
                                                     sigil_cursor array);

/* Records a new highest version (policy update); refuses a lower one. */
SIGIL_WARN_UNUSED_RESULT int sigil_limits_version(sigil_limits *l, const char *tenant,
                                                  const char *key_id, uint64_t version);
/* Revocation (docs/POLICY.md "Revocation"): once a key is revoked, admit and
 * version refuse it with SIGIL_E_REVOKED for the life of the set. revoke
 * marks the key; *added tells whether it was not revoked before. At most
 * SIGIL_REVOKED_MAX keys (then SIGIL_E_UNAVAILABLE: nothing is forgotten). */
#define SIGIL_REVOKED_MAX (1u << 16)
SIGIL_WARN_UNUSED_RESULT int sigil_limits_revoke(sigil_limits *l, const char *tenant,
                                                 const char *key_id, bool *added);
/* SIGIL_E_REVOKED when the key is revoked, else 0. */
SIGIL_WARN_UNUSED_RESULT int sigil_limits_check_revoked(sigil_limits *l, const char *tenant,
                                                        const char *key_id);
size_t sigil_limits_revoked_count(sigil_limits *l);

/* ---- owner-signed revocation (src/policy/revoke_sig.c) ---- */
/* "sigil-revoke-v1" and its NUL (16 bytes); the signed message is
 * prefix || u32be(len) tenant || u32be(len) key_id. */
#define SIGIL_REVOKE_SIG_PREFIX "sigil-revoke-v1"
#define SIGIL_REVOKE_SIG_PREFIX_LEN sizeof(SIGIL_REVOKE_SIG_PREFIX)
#define SIGIL_REVOKE_MSG_MAX (SIGIL_REVOKE_SIG_PREFIX_LEN + 4 + 64 + 4 + SIGIL_KEY_ID_HEX)
/* The message for tenant (1..64 of a-z 0-9 _ -) and key_id (32 lowercase hex). */
SIGIL_WARN_UNUSED_RESULT int sigil_revoke_message(sigil_buf *out, const char *tenant,
                                                  const char *key_id);
/* SIGIL_E_BAD_SIGNATURE when sig is not the owner's over the message. */
SIGIL_WARN_UNUSED_RESULT int sigil_revoke_verify(const uint8_t sig[64], const char *tenant,
                                                 const char *key_id, const uint8_t owner_pk[32]);
/* Signs (CLI side); the seed stays in the caller's locked memory. */
SIGIL_WARN_UNUSED_RESULT int sigil_revoke_sign(uint8_t sig[64], const char *tenant,
                                               const char *key_id, const uint8_t seed[32]);

/* ---- client-signed requests ---- */

/* SHA-256 of the request's RFC 8785 form (sigil_json_canonicalize_any). */
SIGIL_WARN_UNUSED_RESULT int sigil_request_hash(uint8_t out[32], const char *request, size_t len);
/* The client signature's message (SIGIL_REQUEST_SIG_PREFIX above). nonce:
 * 16..64 of A-Z a-z 0-9 _ - */
SIGIL_WARN_UNUSED_RESULT int sigil_client_message(sigil_buf *out, const char *key_id,
                                                  const uint8_t request_hash[32],
                                                  uint64_t timestamp_ms, const char *nonce,
                                                  size_t nonce_len);

/* Whether the policy layer knows the venue (it has classification tables for
 * it); a policy naming any other venue is refused. */
bool sigil_policy_venue_known(const char *venue);

/* Classifies a request (the JSON the venue signer takes, see docs/CLI.md)
 * into an action, by the per-venue tables of docs/POLICY.md. Where the venue's
 * signature does not bind the endpoint (binance, bybit, aster) the class is
 * the most dangerous one the signed parameters allow. */
SIGIL_WARN_UNUSED_RESULT int sigil_request_action(sigil_action *out, const char *venue,
                                                  const char *request, size_t len);

/* The request's time for freshness checks, in ms (docs/POLICY.md lists the
 * field per venue). SIGIL_E_BAD_REQUEST "request has no timestamp or nonce"
 * when none; for dydx, eip712 and eip191, whose time is an unsigned
 * request.timestamp, the message names that member. */
SIGIL_WARN_UNUSED_RESULT int sigil_request_time_ms(uint64_t *out, const char *venue,
                                                   const char *request, size_t len);

#endif
