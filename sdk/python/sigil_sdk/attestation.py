"""Nitro attestation documents: COSE_Sign1 ES384, certificate chain to a pinned
root, PCR0 against a pinned measurement, nonce, freshness and the Sigil boot
binding (docs/ATTESTATION.md, docs/PROVISIONING.md step 2)."""
import datetime
import hashlib
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from . import cbor
from .errors import AttestationError

# AWS Nitro Enclaves Root-G1 (public certificate; SHA-256 fingerprint 641a0321…bb5b).
AWS_NITRO_ROOT_G1_PEM = b"""-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
"""
AWS_NITRO_ROOT_G1_SHA256 = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

MANDATORY = ("module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle")
OPTIONAL = ("public_key", "user_data", "nonce")
MAX_AGE_MS = 5 * 60 * 1000
MAX_AHEAD_MS = 60 * 1000


def fail(msg):
    raise AttestationError(msg)


def aws_root():
    cert = x509.load_pem_x509_certificate(AWS_NITRO_ROOT_G1_PEM)
    der = cert.public_bytes(Encoding.DER)
    if hashlib.sha256(der).hexdigest() != AWS_NITRO_ROOT_G1_SHA256:
        fail("built-in AWS root does not match its fingerprint")
    return cert


def load_root(root):
    """root: "aws", a PEM path, PEM bytes or an x509.Certificate."""
    if isinstance(root, x509.Certificate):
        return root
    if root == "aws":
        return aws_root()
    if isinstance(root, str):
        with open(root, "rb") as f:
            root = f.read()
    try:
        return x509.load_pem_x509_certificate(root)
    except ValueError as e:
        raise AttestationError("root: not a PEM certificate") from e


class Document:
    """A parsed attestation document (fields of the CBOR payload)."""

    def __init__(self, fields, protected, payload, signature):
        self.fields = fields
        self.protected, self.payload, self.signature = protected, payload, signature

    def __getattr__(self, name):
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def pcr0(self):
        return self.fields["pcrs"].get(0)


def _map(pairs, what):
    if not isinstance(pairs, list) or not all(isinstance(p, tuple) for p in pairs):
        fail(f"{what}: not a map")
    keys = [k for k, _ in pairs]
    if len(set(map(repr, keys))) != len(keys):
        fail(f"{what}: duplicate key")
    return dict(pairs)


def _check_fields(f):
    for k in f:
        if k not in MANDATORY + OPTIONAL:
            fail(f"payload: unknown key {k!r}")
    for k in MANDATORY:
        if k not in f:
            fail(f"payload: {k} missing")
    if f["digest"] != "SHA384":
        fail("payload: digest is not SHA384")
    if not isinstance(f["timestamp"], int) or isinstance(f["timestamp"], bool) \
            or f["timestamp"] <= 0:
        fail("payload: bad timestamp")
    mid = f["module_id"]
    if not isinstance(mid, str) or not mid or not all(0x20 <= ord(c) < 0x7F for c in mid):
        fail("payload: bad module_id")
    pcrs = _map(f["pcrs"], "pcrs")
    if not 1 <= len(pcrs) <= 32:
        fail("payload: 1..32 PCRs")
    for i, v in pcrs.items():
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < 32:
            fail("payload: bad PCR index")
        if not isinstance(v, bytes) or len(v) != 48:
            fail("payload: PCR values must be 48 bytes")
    f["pcrs"] = pcrs
    certs = [f["certificate"]] + (f["cabundle"] if isinstance(f["cabundle"], list) else [None])
    if not isinstance(f["cabundle"], list) or not 1 <= len(f["cabundle"]) <= 8:
        fail("payload: cabundle must hold 1..8 certificates")
    for c in certs:
        if not isinstance(c, bytes) or not 1 <= len(c) <= 1024:
            fail("payload: certificates must be 1..1024 bytes")
    for k in OPTIONAL:
        v = f.get(k)
        if v is not None and (not isinstance(v, bytes) or len(v) > 1024):
            fail(f"payload: {k} must be at most 1024 bytes")
        f.setdefault(k, None)


def parse(document):
    """Parses the COSE_Sign1 envelope and the payload (no trust decisions)."""
    try:
        item = cbor.decode(document)
        if isinstance(item, cbor.Tag):
            if item.tag != 18:
                fail("envelope: unexpected tag")
            item = item.value
        if not isinstance(item, list) or len(item) != 4:
            fail("envelope: not a COSE_Sign1 array")
        protected, unprotected, payload, sig = item
        if not isinstance(protected, bytes) or protected != b"\xa1\x01\x38\x22":
            fail("envelope: protected header must be exactly {1: -35} (ES384)")
        _map(unprotected, "unprotected header")
        if not isinstance(payload, bytes) or not payload:
            fail("envelope: empty payload")
        if not isinstance(sig, bytes) or len(sig) != 96:
            fail("envelope: signature must be 96 bytes")
        fields = _map(cbor.decode(payload), "payload")
    except cbor.CborError as e:
        raise AttestationError(str(e)) from e
    _check_fields(fields)
    return Document(fields, protected, payload, sig)


def _at(cert, when, what):
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not nb <= when <= na:
        fail(f"chain: {what} not valid at {when.isoformat()}")


def _issued_by(cert, issuer, what):
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        fail(f"chain: {what} is not signed by its issuer")
    try:
        bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        fail(f"chain: the issuer of {what} is not a CA")
    if not bc.ca:
        fail(f"chain: the issuer of {what} is not a CA")


def _check_chain(doc, root, when):
    try:
        return _chain(doc, root, when)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.ExtensionNotFound,
            x509.InvalidVersion) as e:
        raise AttestationError(f"chain: malformed certificate ({type(e).__name__})") from e


def _chain(doc, root, when):
    leaf = x509.load_der_x509_certificate(doc.certificate)
    bundle = [x509.load_der_x509_certificate(c) for c in doc.cabundle]
    pk = leaf.public_key()
    if not isinstance(pk, ec.EllipticCurvePublicKey) or pk.curve.name != "secp384r1":
        fail("chain: leaf is not an EC P-384 key")
    if leaf.signature_algorithm_oid != x509.SignatureAlgorithmOID.ECDSA_WITH_SHA384:
        fail("chain: leaf is not signed ecdsa-with-SHA384")
    try:
        if leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            fail("chain: leaf is a CA")
    except x509.ExtensionNotFound:
        pass
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            fail("chain: leaf lacks digitalSignature")
    except x509.ExtensionNotFound:
        fail("chain: leaf lacks keyUsage")
    # leaf -> cabundle[n-1] -> ... -> cabundle[1] -> pinned root (cabundle[0] never trusted)
    path = [leaf] + bundle[:0:-1]
    for i, cert in enumerate(path):
        _at(cert, when, "leaf" if i == 0 else f"cabundle[{len(bundle) - i}]")
        issuer = path[i + 1] if i + 1 < len(path) else root
        _issued_by(cert, issuer, "leaf" if i == 0 else f"cabundle[{len(bundle) - i}]")
        if i > 0:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            if bc.path_length is not None and bc.path_length < i - 1:
                fail("chain: path length constraint exceeded")
    _at(root, when, "root")
    return pk


def _check_signature(doc, pk):
    sig_structure = cbor.encode(["Signature1", doc.protected, b"", doc.payload])
    r = int.from_bytes(doc.signature[:48], "big")
    s = int.from_bytes(doc.signature[48:], "big")
    try:
        pk.verify(encode_dss_signature(r, s), sig_structure, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        fail("signature: ES384 signature does not verify")


def decode_boot_binding(user_data):
    """{"sigil":"boot-v1","boot_id","sealing_key","receipt_key"} with one byte form."""
    if user_data is None or len(user_data) != 132:
        fail("user_data: not a Sigil boot binding")
    try:
        pairs = cbor.decode(user_data)
    except cbor.CborError as e:
        raise AttestationError("user_data: not a Sigil boot binding") from e
    want = [("sigil", None), ("boot_id", 16), ("sealing_key", 32), ("receipt_key", 32)]
    if not isinstance(pairs, list) or [k for k, _ in pairs] != [k for k, _ in want]:
        fail("user_data: not a Sigil boot binding")
    out = {}
    for (k, v), (_, n) in zip(pairs, want):
        if n is None:
            if v != "boot-v1":
                fail("user_data: not a Sigil boot binding")
        elif not isinstance(v, bytes) or len(v) != n:
            fail("user_data: not a Sigil boot binding")
        else:
            out[k] = v
    return out


def verify(document, root, measurement, at=None, nonce=None, allow_debug=False):
    """Verifies a document: chain to `root` at `at` (unix seconds; default now,
    "document" = the document's own timestamp), ES384 signature, not debug,
    PCR0 == measurement (96 hex), nonce (bytes) if given. Returns the Document."""
    if not measurement or len(measurement) != 96:
        fail("a pinned measurement (96 hex) is required")
    doc = parse(document)
    root_cert = load_root(root)
    when_s = doc.timestamp / 1000 if at == "document" else (time.time() if at is None else at)
    when = datetime.datetime.fromtimestamp(when_s, datetime.timezone.utc)
    pk = _check_chain(doc, root_cert, when)
    _check_signature(doc, pk)
    if not allow_debug:
        for i in (0, 1, 2):
            v = doc.pcrs.get(i)
            if v is None or v == bytes(48):
                fail("debug enclave: PCR0..2 are zero or missing")
    if doc.pcr0 is None or doc.pcr0.hex() != measurement.lower():
        fail("PCR0 does not equal the pinned measurement")
    if nonce is not None and doc.nonce != nonce:
        fail("nonce does not equal the challenge")
    return doc


def verify_live(document, root, measurement, nonce, now_ms=None):
    """docs/PROVISIONING.md step 2: all of verify() plus freshness and the boot
    binding. Returns (Document, binding dict)."""
    doc = verify(document, root, measurement, nonce=nonce)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if doc.timestamp < now - MAX_AGE_MS:
        fail("document is more than 5 minutes old")
    if doc.timestamp > now + MAX_AHEAD_MS:
        fail("document is more than 60 s in the future")
    return doc, decode_boot_binding(doc.user_data)

