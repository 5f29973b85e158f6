/*
 * Thread-local error state and the table of stable error codes.
 * Untrusted-input layer: messages name fields, never values of secrets.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/common.h"

static _Thread_local sigil_err tl_err;
static _Thread_local char tl_msg[512];

static const char *const ERR_CODES[SIGIL_E_COUNT_] = {
    [SIGIL_OK] = "ok",
    [SIGIL_E_BAD_REQUEST] = "bad_request",
    [SIGIL_E_BAD_JSON] = "bad_json",
    [SIGIL_E_TOO_LARGE] = "too_large",
    [SIGIL_E_DUPLICATE_KEY] = "duplicate_key",
    [SIGIL_E_MISSING_FIELD] = "missing_field",
    [SIGIL_E_UNKNOWN_FIELD] = "unknown_field",
    [SIGIL_E_BAD_FIELD] = "bad_field",
    [SIGIL_E_OUT_OF_RANGE] = "out_of_range",
    [SIGIL_E_BAD_ENCODING] = "bad_encoding",
    [SIGIL_E_UNKNOWN_VENUE] = "unknown_venue",
    [SIGIL_E_UNKNOWN_KEY_TYPE] = "unknown_key_type",
    [SIGIL_E_BAD_CREDENTIALS] = "bad_credentials",
    [SIGIL_E_BAD_ADDRESS] = "bad_address",
    [SIGIL_E_USAGE] = "usage",
    [SIGIL_E_IO] = "io_error",
    [SIGIL_E_NO_MEMORY] = "no_memory",
    [SIGIL_E_CRYPTO] = "crypto_error",
    [SIGIL_E_INTERNAL] = "internal",
    [SIGIL_E_UNAUTHORIZED] = "unauthorized",
    [SIGIL_E_FORBIDDEN] = "forbidden",
    [SIGIL_E_NOT_FOUND] = "not_found",
    [SIGIL_E_CONFLICT] = "conflict",
    [SIGIL_E_POLICY_DENIED] = "policy_denied",
    [SIGIL_E_STALE_REQUEST] = "stale_request",
    [SIGIL_E_BAD_SIGNATURE] = "bad_signature",
    [SIGIL_E_ATTESTATION] = "attestation_failed",
    [SIGIL_E_ACCESS_DENIED] = "access_denied",
    [SIGIL_E_KEY_SERVICE] = "key_service_error",
    [SIGIL_E_UNAVAILABLE] = "unavailable",
    [SIGIL_E_RATE_LIMITED] = "rate_limited",
    [SIGIL_E_TIMEOUT] = "timeout",
    [SIGIL_E_PROTOCOL] = "protocol_error",
    [SIGIL_E_AUDIT_UNAVAILABLE] = "audit_unavailable",
    [SIGIL_E_REVOKED] = "revoked",
    [SIGIL_E_KEY_DISABLED] = "key_disabled",
};

int sigil_fail(sigil_err code, const char *fmt, ...)
{
    va_list ap;
    tl_err = code;
    va_start(ap, fmt);
    vsnprintf(tl_msg, sizeof(tl_msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    return -1;
}

sigil_err sigil_errno(void)
{
    return tl_err;
}

const char *sigil_errmsg(void)
{
    return tl_err == SIGIL_OK ? "" : tl_msg;
}

const char *sigil_err_code(sigil_err code)
{
    if ((unsigned)code >= SIGIL_E_COUNT_)
        return "internal";
    return ERR_CODES[code];
}

sigil_err sigil_err_from_code(const char *code, size_t len)
{
    for (size_t i = 1; i < SIGIL_E_COUNT_; i++)
        if (strlen(ERR_CODES[i]) == len && memcmp(ERR_CODES[i], code, len) == 0)
            return (sigil_err)i;
    return SIGIL_E_INTERNAL;
}

void sigil_clear_error(void)
{
    tl_err = SIGIL_OK;
    tl_msg[0] = '\0';
}
