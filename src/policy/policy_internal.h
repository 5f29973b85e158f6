/*
 * Shared inside src/policy: the signed message (prefix || canonical form) in
 * a per-thread buffer, and the venue classification table.
 */
#ifndef SIGIL_POLICY_INTERNAL_H
#define SIGIL_POLICY_INTERNAL_H

#include "sigil/policy.h"

/* Writes "sigil-policy-v1\0" || canonical(json) into a per-thread buffer;
 * *msg points at it (valid until the next call on this thread). */
SIGIL_WARN_UNUSED_RESULT int policy_signed_message(sigil_slice *msg, const char *json, size_t len);

/* Parses a request strictly into per-thread tokens; the root must be an
 * object. */
SIGIL_WARN_UNUSED_RESULT int policy_request_parse(sigil_json *d, const char *req, size_t len);

#endif
