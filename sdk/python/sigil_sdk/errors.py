"""Typed exceptions mirroring the gateway's error codes (docs/API.md "Errors",
src/gateway/errors.c). Every error carries `code`, `message`, the HTTP
`status` and, for enclave decisions, the signed `receipt`."""


class SigilError(Exception):
    code = "internal"
    status = None

    def __init__(self, message="", code=None, status=None, receipt=None, body=None,
                 retry_after=None):
        super().__init__(f"{code or self.code}: {message}")
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.receipt = receipt
        self.body = body
        self.retry_after = retry_after


class BadRequest(SigilError):
    """400: bad_json, bad_request, duplicate_key, missing_field, unknown_field,
    bad_field, out_of_range, bad_encoding, unknown_venue, unknown_key_type,
    bad_credentials, bad_address (also 405)."""
    code, status = "bad_request", 400


class Unauthorized(SigilError):
    code, status = "unauthorized", 401


class Forbidden(SigilError):
    code, status = "forbidden", 403


class BadSignature(Forbidden):
    """403 bad_signature: a bad or missing client signature, a bad policy signature."""
    code = "bad_signature"


class NotFound(SigilError):
    code, status = "not_found", 404


class Conflict(SigilError):
    code, status = "conflict", 409


class KeyDisabled(Conflict):
    """409 key_disabled: the tenant disabled the key (Client.enable undoes it);
    refused by the gateway without an enclave call, so without a receipt."""
    code = "key_disabled"


class Revoked(SigilError):
    """410: the key's owner revoked it (final); `receipt` holds the enclave's decision."""
    code, status = "revoked", 410


class TooLarge(SigilError):
    code, status = "too_large", 413


class Denied(SigilError):
    """422: the enclave refused the request; `receipt` holds its signed decision."""
    status = 422


class PolicyDenied(Denied):
    code = "policy_denied"


class StaleRequest(Denied):
    code = "stale_request"


class RateLimited(SigilError):
    """429; `retry_after` in seconds."""
    code, status = "rate_limited", 429


class ServerError(SigilError):
    """5xx."""
    status = 500


class InternalError(ServerError):
    code = "internal"


class CryptoError(ServerError):
    code = "crypto_error"


class ProtocolError(ServerError):
    """502 from the gateway; also a malformed answer seen by the SDK."""
    code, status = "protocol_error", 502


class Unavailable(ServerError):
    """503: unavailable, audit_unavailable, access_denied, key_service_error,
    attestation_failed, io_error, no_memory."""
    code, status = "unavailable", 503


class AuditUnavailable(Unavailable):
    code = "audit_unavailable"


class Timeout(ServerError):
    """504 from the gateway, or no answer within the client's timeout."""
    code, status = "timeout", 504


class VerificationError(SigilError):
    """A local check failed (attestation, receipt, provisioning answer)."""


class AttestationError(VerificationError):
    code = "attestation_failed"


class ReceiptError(VerificationError):
    """A malformed or unverifiable receipt; `code` says which check
    (missing_field, unknown_field, bad_field, out_of_range, bad_signature, …)."""
    code = "bad_field"


_BAD_REQUEST_CODES = ("bad_json", "bad_request", "duplicate_key", "missing_field",
                      "unknown_field", "bad_field", "out_of_range", "bad_encoding",
                      "unknown_venue", "unknown_key_type", "bad_credentials", "bad_address",
                      "usage")
_UNAVAILABLE_CODES = ("unavailable", "access_denied", "key_service_error",
                      "attestation_failed", "io_error", "no_memory")

CLASS_OF_CODE = {
    **{c: BadRequest for c in _BAD_REQUEST_CODES},
    **{c: Unavailable for c in _UNAVAILABLE_CODES},
    "unauthorized": Unauthorized,
    "forbidden": Forbidden,
    "bad_signature": BadSignature,
    "not_found": NotFound,
    "conflict": Conflict,
    "key_disabled": KeyDisabled,
    "revoked": Revoked,
    "too_large": TooLarge,
    "policy_denied": PolicyDenied,
    "stale_request": StaleRequest,
    "rate_limited": RateLimited,
    "internal": InternalError,
    "crypto_error": CryptoError,
    "protocol_error": ProtocolError,
    "audit_unavailable": AuditUnavailable,
    "timeout": Timeout,
}

CLASS_OF_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
                   405: BadRequest, 409: Conflict, 410: Revoked, 413: TooLarge, 422: Denied,
                   429: RateLimited, 502: ProtocolError, 503: Unavailable, 504: Timeout}


def from_response(status, body, retry_after=None):
    """The exception for an error response (body: parsed JSON or None)."""
    err = body.get("error") if isinstance(body, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    message = err.get("message", "") if isinstance(err, dict) else f"HTTP {status}"
    cls = CLASS_OF_CODE.get(code) or CLASS_OF_STATUS.get(status) or (
        ServerError if status >= 500 else SigilError)
    receipt = body.get("receipt") if isinstance(body, dict) else None
    return cls(message, code=code or cls.code, status=status, receipt=receipt, body=body,
               retry_after=retry_after)
