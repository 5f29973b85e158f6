/*
 * Errors as HTTP responses ({"error":{"code","message"}} and a status from
 * one table) and the JSON helpers the handlers share. Untrusted host code;
 * messages name fields, never secrets.
 */
#include "gateway/gateway.h"

/* ---- errors ---- */
static const struct {
    sigil_err err;
    unsigned status;
} STATUS_OF[] = {
    {SIGIL_E_BAD_REQUEST, 400},
    {SIGIL_E_BAD_JSON, 400},
    {SIGIL_E_DUPLICATE_KEY, 400},
    {SIGIL_E_MISSING_FIELD, 400},
    {SIGIL_E_UNKNOWN_FIELD, 400},
    {SIGIL_E_BAD_FIELD, 400},
    {SIGIL_E_OUT_OF_RANGE, 400},
    {SIGIL_E_BAD_ENCODING, 400},
    {SIGIL_E_UNKNOWN_VENUE, 400},
    {SIGIL_E_UNKNOWN_KEY_TYPE, 400},
    {SIGIL_E_BAD_CREDENTIALS, 400},
    {SIGIL_E_BAD_ADDRESS, 400},
    {SIGIL_E_USAGE, 400},
    {SIGIL_E_TOO_LARGE, 413},
    {SIGIL_E_UNAUTHORIZED, 401},
    {SIGIL_E_FORBIDDEN, 403},
    {SIGIL_E_BAD_SIGNATURE, 403},
    {SIGIL_E_NOT_FOUND, 404},
    {SIGIL_E_CONFLICT, 409},
    {SIGIL_E_KEY_DISABLED, 409},
    {SIGIL_E_REVOKED, 410},
    {SIGIL_E_POLICY_DENIED, 422},
    {SIGIL_E_STALE_REQUEST, 422},
    {SIGIL_E_RATE_LIMITED, 429},
    {SIGIL_E_UNAVAILABLE, 503},
    {SIGIL_E_AUDIT_UNAVAILABLE, 503},
    {SIGIL_E_ACCESS_DENIED, 503},
    {SIGIL_E_KEY_SERVICE, 503},
    {SIGIL_E_ATTESTATION, 503},
    {SIGIL_E_NO_MEMORY, 503},
    {SIGIL_E_IO, 503},
    {SIGIL_E_TIMEOUT, 504},
    {SIGIL_E_PROTOCOL, 502},
    {SIGIL_E_CRYPTO, 500},
    {SIGIL_E_INTERNAL, 500},
};

unsigned gw_status_for(sigil_err e)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(STATUS_OF); i++)
        if (STATUS_OF[i].err == e)
            return STATUS_OF[i].status;
    return 500;
}

void gw_error_response(gw_resp *rs)
{
    gw_error_response_receipt(rs, NULL, 0);
}

void gw_error_response_receipt(gw_resp *rs, const char *receipt, size_t receipt_len)
{
    static const char FALLBACK[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"error report too long\"}}";
    sigil_err e = sigil_errno();
    sigil_jw w;
    if (e == SIGIL_OK)
        (void)sigil_fail(SIGIL_E_INTERNAL, "unknown error");
    e = sigil_errno();
    rs->status = gw_status_for(e);
    rs->content_type = NULL;
    rs->body.len = 0;
    sigil_jw_init(&w, &rs->body);
    if (sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "error") || sigil_jw_obj_begin(&w) ||
        sigil_jw_key(&w, "code") || sigil_jw_str(&w, sigil_err_code(e)) ||
        sigil_jw_key(&w, "message") || sigil_jw_str(&w, sigil_errmsg()) || sigil_jw_obj_end(&w) ||
        (receipt != NULL &&
         (sigil_jw_key(&w, "receipt") || sigil_jw_raw(&w, receipt, receipt_len))) ||
        sigil_jw_obj_end(&w)) {
        rs->status = 500;
        rs->body.len = 0;
        if (sigil_buf_puts(&rs->body, FALLBACK) != 0)
            rs->body.len = 0;
    }
}

/* ---- JSON helpers ---- */
int gw_jw_hex(sigil_jw *w, const char *key, const uint8_t *p, size_t n)
{
    GUARD(sigil_jw_key(w, key));
    return sigil_jw_hex(w, p, n);
}

int gw_jw_b64(sigil_jw *w, const char *key, const uint8_t *p, size_t n)
{
    GUARD(sigil_jw_key(w, key));
    GUARD(sigil_jw_raw(w, "\"", 1));
    GUARD(sigil_b64_put(w->b, p, n, SIGIL_B64_STD));
    return sigil_buf_putc(w->b, '"');
}

int gw_jw_text(sigil_jw *w, const char *key, const uint8_t *p, size_t n)
{
    GUARD(sigil_jw_key(w, key));
    return p != NULL ? sigil_jw_strn(w, (const char *)p, n) : sigil_jw_null(w);
}
