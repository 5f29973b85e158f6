// Typed errors mirroring the gateway's error codes (docs/API.md "Errors").

export class SigilError extends Error {
  /**
   * @param {string} code the API's error code
   * @param {string} message
   * @param {{status?: number, receipt?: object, retryAfter?: number, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = extra.status ?? null;
    this.receipt = extra.receipt ?? null;
    this.retryAfter = extra.retryAfter ?? null;
  }
}

export class BadRequestError extends SigilError {}
export class UnauthorizedError extends SigilError {}
export class ForbiddenError extends SigilError {}
export class BadSignatureError extends ForbiddenError {}
export class NotFoundError extends SigilError {}
export class ConflictError extends SigilError {}
export class TooLargeError extends SigilError {}
/** 410: the key's owner revoked it (final; with the enclave's receipt when it decided). */
export class RevokedError extends SigilError {}
/** 422: the enclave refused the request (with the decision's receipt). */
export class DeniedError extends SigilError {}
export class PolicyDeniedError extends DeniedError {}
export class StaleRequestError extends DeniedError {}
export class RateLimitedError extends SigilError {}
export class InternalError extends SigilError {}
export class ProtocolError extends SigilError {}
export class UnavailableError extends SigilError {}
export class TimeoutError extends SigilError {}
/** A document failed a verification step (code attestation_failed). */
export class AttestationError extends SigilError {
  constructor(message, extra) {
    super('attestation_failed', `attestation: ${message}`, extra);
  }
}
/** A receipt failed verification (code: the failing check's, e.g. bad_signature). */
export class ReceiptError extends SigilError {}

const BY_CODE = {
  bad_json: BadRequestError, bad_request: BadRequestError, duplicate_key: BadRequestError,
  missing_field: BadRequestError, unknown_field: BadRequestError, bad_field: BadRequestError,
  out_of_range: BadRequestError, bad_encoding: BadRequestError, unknown_venue: BadRequestError,
  unknown_key_type: BadRequestError, bad_credentials: BadRequestError, bad_address: BadRequestError,
  unauthorized: UnauthorizedError, forbidden: ForbiddenError, bad_signature: BadSignatureError,
  not_found: NotFoundError, conflict: ConflictError, key_disabled: ConflictError,
  revoked: RevokedError, too_large: TooLargeError,
  policy_denied: PolicyDeniedError, stale_request: StaleRequestError, rate_limited: RateLimitedError,
  internal: InternalError, crypto_error: InternalError, protocol_error: ProtocolError,
  unavailable: UnavailableError, audit_unavailable: UnavailableError, access_denied: UnavailableError,
  key_service_error: UnavailableError, attestation_failed: UnavailableError, io_error: UnavailableError,
  no_memory: UnavailableError, timeout: TimeoutError,
};

const BY_STATUS = {
  400: BadRequestError, 401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError,
  405: BadRequestError, 409: ConflictError, 410: RevokedError, 413: TooLargeError,
  422: DeniedError,
  429: RateLimitedError, 500: InternalError, 502: ProtocolError, 503: UnavailableError,
  504: TimeoutError,
};

/** The error class for an API code (falls back on the HTTP status). */
export function errorClass(code, status) {
  return BY_CODE[code] ?? BY_STATUS[status] ?? SigilError;
}
