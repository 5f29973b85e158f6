"""Sigil Python SDK: gateway client, provisioning, attestation and receipt
verification, and a ccxt drop-in (sigil_sdk.ccxt.sigil_wrap)."""
from . import errors
from .aio import AsyncClient
from .attestation import verify as verify_attestation
from .client import Client, SignResult, client_signature
from .errors import (AttestationError, BadRequest, BadSignature, Conflict, Denied, Forbidden,
                     KeyDisabled, NotFound, PolicyDenied, RateLimited, ReceiptError, Revoked,
                     SigilError, StaleRequest, Timeout, Unauthorized, Unavailable,
                     VerificationError)
from .provision import new_key, policy_hash, policy_signature, revoke_message, revoke_signature
from .receipts import receipt_hash, verify_chain, verify_receipt

__all__ = ["errors", "verify_attestation", "Client", "SignResult", "client_signature",
           "AttestationError", "BadRequest", "BadSignature", "Conflict", "Denied", "Forbidden",
           "KeyDisabled", "NotFound", "PolicyDenied", "RateLimited", "ReceiptError", "Revoked",
           "SigilError", "StaleRequest", "Timeout", "Unauthorized", "Unavailable",
           "VerificationError", "new_key", "policy_hash", "policy_signature", "revoke_message",
           "revoke_signature", "receipt_hash", "verify_chain",
           "verify_receipt", "sigil_wrap", "sigil_wrap_async", "AsyncClient"]

__version__ = "0.1.0"


def sigil_wrap(exchange, client, key_id, **kw):
    """Makes a ccxt exchange sign its private requests through Sigil (needs ccxt)."""
    from .ccxt import sigil_wrap as wrap
    return wrap(exchange, client, key_id, **kw)


async def sigil_wrap_async(exchange, client, key_id, **kw):
    """sigil_wrap for a ccxt.async_support exchange, without blocking the event loop
    (needs ccxt)."""
    from .ccxt import sigil_wrap_async as wrap
    return await wrap(exchange, client, key_id, **kw)
