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
#include "sigil/venues.h" /* sigil_network (the type only: nothing of libsigil-sign is used) */

/* Limits. A policy file is small; the canonicaliser is shared with receipts. */
#define SIGIL_POLICY_MAX_BYTES (64 * 1024)
#define SIGIL_CANON_MAX_BYTES (64 * 1024)
#define SIGIL_CANON_MAX_TOKENS 2048
#define SIGIL_POLICY_MAX_ACTIONS 16
/* The signature's domain separator: "sigil-policy-v1" and its NUL, 16 bytes. */
#define SIGIL_POLICY_SIG_PREFIX "sigil-policy-v1"
#define SIGIL_POLICY_SIG_PREFIX_LEN sizeof(SIGIL_POLICY_SIG_PREFIX)
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

typedef struct {
    uint64_t version;
    char tenant[65];
    char venue[33];
    sigil_network network;
    uint32_t actions;               /* bitmask of 1u << sigil_action (all bits for "*") */
    uint64_t not_before, not_after; /* unix seconds; not_before 0 when absent */
    uint8_t hash[32];               /* SHA-256 of the canonical form */
} sigil_policy;

/* Canonicalises (RFC 8785 subset) into out: members sorted by the UTF-16
 * code units of their keys, no whitespace, JCS string escaping, integers
 * only (|n| <= 2^53-1; fractions and exponents refused). Fails atomically. */
SIGIL_WARN_UNUSED_RESULT int sigil_json_canonicalize(sigil_buf *out, const char *json, size_t len);

/* Strict parse of a policy object's JSON text (docs/POLICY.md); fills hash. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_parse(sigil_policy *p, const char *json, size_t len);

/* Verifies the owner's signature over "sigil-policy-v1\0" || canonical(json).
 * SIGIL_E_BAD_SIGNATURE on mismatch. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_verify(const char *json, size_t len,
                                                 const uint8_t sig[64], const uint8_t owner_pk[32]);

/* Signs (CLI side); the secret seed stays in the caller's locked memory. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_sign(uint8_t sig[64], const char *json, size_t len,
                                               const uint8_t seed[32]);

/* Deny by default: SIGIL_E_POLICY_DENIED with a message naming the rule
 * ("policy: action withdraw not allowed", "policy: expired at …",
 * "policy: venue …"). Valid while not_before <= now_s < not_after. */
SIGIL_WARN_UNUSED_RESULT int sigil_policy_check(const sigil_policy *p, const char *venue,
                                                sigil_network net, sigil_action action,
                                                uint64_t now_s);

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
 * when none. */
SIGIL_WARN_UNUSED_RESULT int sigil_request_time_ms(uint64_t *out, const char *venue,
                                                   const char *request, size_t len);

#endif
