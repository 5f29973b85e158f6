/*
 * Shared inside src/policy: the signed message (prefix || canonical form) in
 * a per-thread buffer, and the venue classification table.
 */
#ifndef SIGIL_POLICY_INTERNAL_H
#define SIGIL_POLICY_INTERNAL_H

#include "sigil/policy.h"

/* Writes the v2 signed message (docs/POLICY.md) into a per-thread buffer;
 * *msg points at it (valid until the next call on this thread). */
SIGIL_WARN_UNUSED_RESULT int policy_signed_message(sigil_slice *msg, const sigil_policy *p,
                                                   const char *json, size_t len,
                                                   const char *key_id);
/* canonical(json) in a per-thread buffer (a different one). */
SIGIL_WARN_UNUSED_RESULT int policy_canonical(sigil_slice *out, const char *json, size_t len);

/* Parses a request strictly into per-thread tokens; the root must be an
 * object. */
SIGIL_WARN_UNUSED_RESULT int policy_request_parse(sigil_json *d, const char *req, size_t len);
/* request.timestamp (ms) where it is not part of what is signed (dydx,
 * eip191, eip712; request_time.c): *found false when absent or null. */
SIGIL_WARN_UNUSED_RESULT int policy_time_unsigned(uint64_t *out, const sigil_json *d, bool *found);

/* ---- the schema walker (policy_rules.c): one parser per member ---- */
#define POLICY_PATH_MAX 160
typedef int (*policy_member_fn)(void *ctx, const sigil_json *d, uint32_t v, const char *path);
typedef struct {
    const char *name;
    bool required;
    policy_member_fn parse;
} policy_member;
/* Walks obj's members through the table: unknown members refused, required
 * ones checked, each parser given the member's full path ("policy.http"). */
SIGIL_WARN_UNUSED_RESULT int policy_parse_object(void *ctx, const sigil_json *d, uint32_t obj,
                                                 const policy_member *members, size_t n,
                                                 const char *path);
SIGIL_WARN_UNUSED_RESULT int policy_get_uint(uint64_t *out, const sigil_json *d, uint32_t v,
                                             const char *path, uint64_t min, uint64_t max);
SIGIL_WARN_UNUSED_RESULT int policy_get_str(char *dst, size_t cap, const sigil_json *d, uint32_t v,
                                            const char *path);
/* Member parsers of the rules (ctx is the sigil_policy). */
SIGIL_WARN_UNUSED_RESULT int policy_parse_http(void *ctx, const sigil_json *d, uint32_t v,
                                               const char *path);
SIGIL_WARN_UNUSED_RESULT int policy_parse_symbols(void *ctx, const sigil_json *d, uint32_t v,
                                                  const char *path);
SIGIL_WARN_UNUSED_RESULT int policy_parse_destinations(void *ctx, const sigil_json *d, uint32_t v,
                                                       const char *path);
SIGIL_WARN_UNUSED_RESULT int policy_parse_agents(void *ctx, const sigil_json *d, uint32_t v,
                                                 const char *path);
SIGIL_WARN_UNUSED_RESULT int policy_parse_hyperliquid(void *ctx, const sigil_json *d, uint32_t v,
                                                      const char *path);
SIGIL_WARN_UNUSED_RESULT int policy_parse_limits(void *ctx, const sigil_json *d, uint32_t v,
                                                 const char *path);
/* "GET" -> SIGIL_METHOD_GET …; 0 when unknown. */
uint8_t policy_method_bit(const char *name);
const char *policy_method_name(uint8_t bit);
/* 0x + 40 hex digits. */
bool policy_is_address(const char *s);
/* Names compare exactly, addresses case-insensitively. */
bool policy_name_eq(const char *a, const char *b);

/* ---- shared with receipts (canonical.c) ---- */
/* Appends n bytes of valid UTF-8 as a JCS string literal (RFC 8785
 * §3.2.2.2: quotes, \" \\ \b \f \n \r \t, other controls as \u00xx). */
SIGIL_WARN_UNUSED_RESULT int policy_put_jcs_string(sigil_buf *out, const uint8_t *p, size_t n);

/* The method (SIGIL_METHOD_* bit; 0 when not GET, POST, PUT or DELETE) and
 * the normalised path of a CEX request (docs/POLICY.md "Paths"), as the
 * classifier and the inspectors both read them (request_class.c). */
SIGIL_WARN_UNUSED_RESULT int policy_request_endpoint(uint8_t *method, char *path, size_t cap,
                                                     size_t *path_len, const sigil_json *d);

#endif
