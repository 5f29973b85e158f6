"""Receipt verification exactly as `sigil receipt verify` (docs/RECEIPTS.md,
src/policy/receipt.c): strict parse, boot document verified at its own time,
receipt-key binding, Ed25519 over the domain-separated RFC 8785 form, and the
per-boot chain (`seq`, `prev`)."""
import base64
import hashlib
import json
import re

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from . import attestation, jcs
from .errors import AttestationError, ReceiptError

PREFIX = b"sigil-receipt-v1\0"
MAX_BYTES = 4096
MAX_SAFE = 2 ** 53 - 1
ACTIONS = ("order", "cancel", "modify", "leverage", "read", "transfer", "withdraw", "agent",
           "auth", "other", "import", "policy_update", "rotate", "rewrap", "revoke")


def _hex(n):
    return re.compile("[0-9a-f]{%d}" % n).fullmatch


def _set(chars, maxlen):
    return re.compile("[%s]{1,%d}" % (chars, maxlen)).fullmatch


def _one_of(*values):
    return lambda v: v in values


def _reason(v):
    b = v.encode("utf-8", "surrogatepass")
    return 1 <= len(b) <= 512 and "\0" not in v


# name -> (when: always/allow/deny, kind: text/int, check)
MEMBERS = {
    "action": ("always", "text", _one_of(*ACTIONS)),
    "boot_id": ("always", "text", _hex(32)),
    "decision": ("always", "text", _one_of("allow", "deny")),
    "key_id": ("always", "text", _hex(32)),
    "measurement": ("always", "text", _hex(96)),
    "mode": ("always", "text", _one_of("dev", "nitro")),
    "network": ("always", "text", _one_of("mainnet", "testnet")),
    "output_hash": ("allow", "text", _hex(64)),
    "policy_hash": ("always", "text", _hex(64)),
    "prev": ("always", "text", _hex(64)),
    "reason": ("deny", "text", _reason),
    "request_hash": ("always", "text", _hex(64)),
    "seq": ("always", "int", 1),
    "tenant": ("always", "text", _set("a-z0-9_-", 64)),
    "time": ("always", "int", 0),
    "v": ("always", "version", None),
    "venue": ("always", "text", _set("a-z0-9_", 32)),
}


def _fail(code, msg):
    raise ReceiptError(msg, code=code)


def _pairs_no_dup(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            _fail("duplicate_key", f'receipt: duplicate member "{k}"')
        seen[k] = v
    return seen


def _receipt_text(receipt):
    """The receipt's JSON text from: its text, bytes, a dict, or a response /
    error body (text or dict) with a top-level `receipt`."""
    if isinstance(receipt, (bytes, bytearray)):
        try:
            receipt = bytes(receipt).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ReceiptError("receipt: not UTF-8", code="bad_encoding") from e
    if isinstance(receipt, dict):
        if "receipt" in receipt and isinstance(receipt["receipt"], dict):
            receipt = receipt["receipt"]
        return jcs.compact(receipt)
    if not isinstance(receipt, str):
        _fail("bad_field", "receipt: not JSON text or an object")
    try:
        spans = jcs.member_spans(receipt)
    except ValueError as e:
        raise ReceiptError("receipt: not strict JSON", code="bad_json") from e
    return spans["receipt"] if "receipt" in spans and spans["receipt"].startswith("{") \
        else receipt


def parse(receipt):
    """Strict parse: exactly the documented members, each typed and formatted.
    Returns (members without signature, signature bytes)."""
    text = _receipt_text(receipt)
    if len(text.encode("utf-8")) > MAX_BYTES:
        _fail("too_large", f"receipt: larger than {MAX_BYTES} bytes")
    try:
        obj = json.loads(text, object_pairs_hook=_pairs_no_dup)
    except json.JSONDecodeError as e:
        raise ReceiptError("receipt: not strict JSON", code="bad_json") from e
    if not isinstance(obj, dict):
        _fail("bad_field", "receipt: not an object")
    for k in obj:
        if k not in MEMBERS and k != "signature":
            _fail("unknown_field", f'receipt: unknown member "{k}"')
    if "decision" not in obj:
        _fail("missing_field", 'receipt: missing member "decision"')
    if obj["decision"] not in ("allow", "deny"):
        _fail("bad_field", "receipt.decision: must be allow or deny")
    allow = obj["decision"] == "allow"
    for name, (when, kind, check) in MEMBERS.items():
        wanted = when == "always" or (when == "allow") == allow
        if name not in obj:
            if wanted:
                _fail("missing_field", f'receipt: missing member "{name}"')
            continue
        if not wanted:
            _fail("bad_field", f'receipt: member "{name}" does not belong to this decision')
        _check_member(name, kind, check, obj[name])
    sig = obj.pop("signature", None)
    if sig is None:
        _fail("missing_field", 'receipt: missing member "signature"')
    if not isinstance(sig, str) or not _hex(128)(sig):
        _fail("bad_field", "receipt.signature: expected 128 lowercase hex digits")
    return obj, bytes.fromhex(sig)


def _check_member(name, kind, check, v):
    if kind == "text":
        if not isinstance(v, str) or not check(v):
            _fail("bad_field", f"receipt.{name}: malformed")
    elif kind == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            _fail("bad_field", f"receipt.{name}: must be an integer")
        if not check <= v <= MAX_SAFE:
            _fail("out_of_range", f"receipt.{name}: out of range")
    elif isinstance(v, bool) or not isinstance(v, int) or v != 1:
        _fail("bad_field", "receipt.v: must be 1")


def canonical(members):
    return jcs.canonical(members)


def receipt_hash(receipt):
    """SHA-256 of the canonical bytes (what the next receipt's `prev` holds)."""
    members, _ = parse(receipt)
    return hashlib.sha256(canonical(members)).hexdigest()


def check_signature(members, sig, receipt_key):
    try:
        VerifyKey(receipt_key).verify(PREFIX + canonical(members), sig)
    except BadSignatureError:
        _fail("bad_signature", "receipt: signature does not verify under the boot's receipt key")


def _document_bytes(document, boot_id):
    """Raw COSE bytes from raw bytes or the archive's JSON (dict or text)."""
    if isinstance(document, (bytes, bytearray)) and not bytes(document).lstrip().startswith(b"{"):
        return bytes(document)
    if isinstance(document, (bytes, bytearray, str)):
        document = json.loads(document)
    if document.get("boot_id") not in (None, boot_id):
        raise AttestationError(f"the archive is for boot {document.get('boot_id')}, "
                               f"the receipt is from boot {boot_id}")
    return base64.b64decode(document["document"], validate=True)


def verify_receipt(receipt, measurement, root, document=None, client=None):
    """`sigil receipt verify`, steps 1–6. `document`: the boot's attestation
    document (raw bytes or archive JSON); else fetched with `client` from
    GET /v1/attestation/boots/{boot_id}. Returns
    {"ok","boot_id","seq","decision","action","key_id","hash"}."""
    members, sig = parse(receipt)
    boot_id = members["boot_id"]
    if document is None:
        if client is None:
            raise ValueError("verify_receipt: give the boot document or a client")
        document = client.boot_document(boot_id)
    doc = attestation.verify(_document_bytes(document, boot_id), root, measurement,
                             at="document")
    binding = attestation.decode_boot_binding(doc.user_data)
    if binding["boot_id"].hex() != boot_id:
        raise AttestationError(f"the document attests boot {binding['boot_id'].hex()}, "
                               f"the receipt is from boot {boot_id}")
    if members["measurement"] != doc.pcr0.hex():
        raise AttestationError("the receipt's measurement is not the document's PCR0")
    check_signature(members, sig, binding["receipt_key"])
    return {"ok": True, "boot_id": boot_id, "seq": members["seq"],
            "decision": members["decision"], "action": members["action"],
            "key_id": members["key_id"], "hash": hashlib.sha256(canonical(members)).hexdigest()}


def verify_chain(receipts):
    """Checks that receipts of one boot (in order) are consecutive: each `seq`
    is the previous + 1 and each `prev` the previous receipt's hash; the first
    with seq 1 must have 64 zeros. Signatures are not checked here."""
    prev = None
    for r in receipts:
        members, _ = parse(r)
        if members["seq"] == 1 and members["prev"] != "0" * 64:
            _fail("bad_field", "receipt chain: seq 1 must have prev = 64 zeros")
        if prev is not None:
            if members["boot_id"] != prev[0]["boot_id"]:
                _fail("bad_field", "receipt chain: receipts of different boots")
            if members["seq"] != prev[0]["seq"] + 1:
                _fail("bad_field", f"receipt chain: seq {members['seq']} does not follow "
                                   f"{prev[0]['seq']}")
            if members["prev"] != prev[1]:
                _fail("bad_field", f"receipt chain: prev of seq {members['seq']} is not the "
                                   "hash of the previous receipt")
        prev = (members, hashlib.sha256(canonical(members)).hexdigest())
    return True
