"""Attestation and receipt verification: live documents and receipts from the
dev stack, the real AWS documents of tests/vectors/nitro at their own time,
and rejection of every flipped byte, a wrong measurement and an untrusted root."""
import base64
import datetime
import json
import os
import random
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sigil_sdk import attestation, receipts
from sigil_sdk.errors import AttestationError, ReceiptError, VerificationError

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests",
                       "vectors", "nitro")
SEED = 20261125


def other_root_pem():
    """A self-signed P-384 CA with the dev root's name: trusted by no one."""
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dev.nitro-enclaves"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DEV-ONLY")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA384()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def live(client):
    nonce = os.urandom(32)
    att = client.attestation(nonce)
    return nonce, base64.b64decode(att["document"]), att


def test_live_document_verifies(live, pins):
    nonce, doc, att = live
    d, binding = attestation.verify_live(doc, pins[1], pins[0], nonce)
    assert d.pcr0.hex() == att["measurement"] == pins[0]
    assert binding["sealing_key"].hex() == att["sealing_key"]
    assert binding["receipt_key"].hex() == att["receipt_key"]
    assert binding["boot_id"].hex() == att["boot_id"]


def test_live_document_wrong_nonce_measurement_root(live, pins):
    nonce, doc, _ = live
    with pytest.raises(AttestationError, match="nonce"):
        attestation.verify_live(doc, pins[1], pins[0], os.urandom(32))
    wrong = ("0" if pins[0][0] != "0" else "1") + pins[0][1:]
    with pytest.raises(AttestationError, match="PCR0"):
        attestation.verify_live(doc, pins[1], wrong, nonce)
    with pytest.raises(AttestationError, match="chain"):
        attestation.verify_live(doc, other_root_pem(), pins[0], nonce)
    with pytest.raises(AttestationError, match="chain"):
        attestation.verify_live(doc, "aws", pins[0], nonce)


def test_live_document_freshness(live, pins):
    nonce, doc, _ = live
    d = attestation.parse(doc)
    with pytest.raises(AttestationError, match="5 minutes"):
        attestation.verify_live(doc, pins[1], pins[0], nonce, now_ms=d.timestamp + 301_000)
    with pytest.raises(AttestationError, match="future"):
        attestation.verify_live(doc, pins[1], pins[0], nonce, now_ms=d.timestamp - 61_000)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_every_flipped_byte_of_a_document_is_refused(live, pins):
    nonce, doc, _ = live
    rng = random.Random(SEED)
    root = attestation.load_root(pins[1])
    refused = 0
    for i in range(len(doc)):
        bad = bytearray(doc)
        bad[i] ^= rng.randrange(1, 256)
        with pytest.raises(AttestationError):
            attestation.verify(bytes(bad), root, pins[0], nonce=nonce)
        refused += 1
    assert refused == len(doc) > 1000


def _manifest():
    with open(os.path.join(VECTORS, "MANIFEST.json")) as f:
        return {e["file"]: e for e in json.load(f) if "file" in e}


def test_real_aws_documents_at_their_time():
    m = _manifest()
    for name in ("nitro_attestation_blocky_prod_20240907.bin",
                 "nitro_attestation_evervault_pcr8_20221013.bin"):
        with open(os.path.join(VECTORS, name), "rb") as f:
            doc = f.read()
        e = m[name]
        d = attestation.verify(doc, "aws", e["pcrs"]["0"], at=e["verify_at_unix"])
        assert d.module_id == e["module_id"]
        # now the leaf has expired; a dev root never trusts it; another PCR0 fails
        with pytest.raises(AttestationError, match="chain"):
            attestation.verify(doc, "aws", e["pcrs"]["0"])
        with pytest.raises(AttestationError, match="PCR0"):
            attestation.verify(doc, "aws", "ab" * 48, at=e["verify_at_unix"])
        with pytest.raises(AttestationError, match="chain"):
            attestation.verify(doc, other_root_pem(), e["pcrs"]["0"], at=e["verify_at_unix"])


def test_real_aws_debug_document_refused():
    e = _manifest()["nitro_attestation_blocky_debug_20240907.bin"]
    with open(os.path.join(VECTORS, e["file"]), "rb") as f:
        doc = f.read()
    with pytest.raises(AttestationError, match="debug"):
        attestation.verify(doc, "aws", "00" * 48, at=e["verify_at_unix"])


def test_aws_root_fingerprint():
    import hashlib
    with open(os.path.join(VECTORS, "aws_nitro_enclaves_root_g1.pem"), "rb") as f:
        shipped = x509.load_pem_x509_certificate(f.read())
    der = attestation.aws_root().public_bytes(serialization.Encoding.DER)
    assert der == shipped.public_bytes(serialization.Encoding.DER)
    assert hashlib.sha256(der).hexdigest().startswith("641a0321")


# ---- receipts ------------------------------------------------------------------
def _order(ts, qty):
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price=1",
            "timestamp": ts}


@pytest.fixture(scope="module")
def signed(client, stack):
    key = stack["keys"]["binance"]["key_id"]
    ts = int(time.time() * 1000)
    out = [client.sign(key, _order(ts, f"0.{i + 1}")) for i in range(3)]
    doc = client.boot_document(out[0].receipt["boot_id"])
    return out, doc


def test_receipt_verifies_offline(signed, pins):
    out, doc = signed
    r = receipts.verify_receipt(out[0].receipt_text, *pins, document=doc)
    assert r["ok"] and r["decision"] == "allow" and r["action"] == "order"
    # raw document bytes work too, and a whole response body
    raw = base64.b64decode(doc["document"])
    assert receipts.verify_receipt({"receipt": out[0].receipt}, *pins, document=raw)["ok"]


def test_receipt_chain_prev(signed, pins):
    out, _ = signed
    rs = [o.receipt_text for o in out]
    assert receipts.verify_chain(rs)
    seqs = [o.receipt["seq"] for o in out]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    assert out[1].receipt["prev"] == receipts.receipt_hash(rs[0])
    with pytest.raises(ReceiptError, match="seq"):
        receipts.verify_chain([rs[0], rs[2]])
    with pytest.raises(ReceiptError):
        receipts.verify_chain([rs[1], rs[0]])


def test_every_flipped_byte_of_a_receipt_is_refused(signed, pins):
    out, doc = signed
    wire = out[0].receipt_text.encode()
    raw_doc = base64.b64decode(doc["document"])
    rng = random.Random(SEED)
    for i in range(len(wire)):
        bad = bytearray(wire)
        bad[i] ^= rng.randrange(1, 256)
        with pytest.raises(VerificationError):
            receipts.verify_receipt(bytes(bad), *pins, document=raw_doc)


def test_receipt_with_a_flipped_document_byte_is_refused(signed, pins):
    out, doc = signed
    raw = base64.b64decode(doc["document"])
    rng = random.Random(SEED + 1)
    for i in sorted(rng.sample(range(len(raw)), 300)):
        bad = bytearray(raw)
        bad[i] ^= rng.randrange(1, 256)
        with pytest.raises(AttestationError):
            receipts.verify_receipt(out[0].receipt_text, *pins, document=bytes(bad))


def test_receipt_wrong_measurement_and_untrusted_root(signed, pins, client):
    out, doc = signed
    wrong = ("0" if pins[0][0] != "0" else "1") + pins[0][1:]
    with pytest.raises(AttestationError, match="PCR0"):
        receipts.verify_receipt(out[0].receipt_text, wrong, pins[1], document=doc)
    with pytest.raises(AttestationError, match="chain"):
        receipts.verify_receipt(out[0].receipt_text, pins[0], other_root_pem(), document=doc)
    with pytest.raises(AttestationError, match="chain"):
        receipts.verify_receipt(out[0].receipt_text, pins[0], "aws", document=doc)


def test_receipt_strict_members(signed, pins):
    out, doc = signed
    r = dict(out[0].receipt)
    cases = [({**r, "extra": 1}, "unknown_field"),
             ({k: v for k, v in r.items() if k != "seq"}, "missing_field"),
             ({**r, "seq": 0}, "out_of_range"),
             ({**r, "seq": "1"}, "bad_field"),
             ({**r, "reason": "x"}, "bad_field"),
             ({**r, "key_id": r["key_id"].upper()}, "bad_field")]
    for bad, code in cases:
        with pytest.raises(ReceiptError) as ei:
            receipts.verify_receipt(bad, *pins, document=doc)
        assert ei.value.code == code
    text = out[0].receipt_text
    dup = text[:-1] + ',"seq":1}'
    with pytest.raises(ReceiptError) as ei:
        receipts.parse(dup)
    assert ei.value.code == "duplicate_key"


def test_documented_receipt_example():
    """docs/RECEIPTS.md "Worked example": canonical bytes, hash and signature."""
    from nacl.signing import SigningKey
    wire = ('{"action":"order","boot_id":"00112233445566778899aabbccddeeff","decision":"allow",'
            '"key_id":"0123456789abcdef0123456789abcdef","measurement":"' + "ab" * 48 + '",'
            '"mode":"dev","network":"mainnet","output_hash":"' + "33" * 32 + '","policy_hash":"'
            + "22" * 32 + '","prev":"' + "00" * 32 + '","request_hash":"' + "11" * 32 + '",'
            '"seq":1,"tenant":"acme","time":1767225600000,"v":1,"venue":"binance",'
            '"signature":"356da573698a6a27365fa03fffc87b5f49d6666c69420aec4351ac8a2099e9d9'
            'ce719024a8c90ff2e590b06cc0415c99e32711394b035af8b7f339181526f405"}')
    members, sig = receipts.parse(wire)
    assert len(receipts.canonical(members)) == 659
    assert receipts.receipt_hash(wire) == \
        "59af6ef6a3f98edd78c5a0ce28a35380334f35faa5042b51c04300e5d637ce6b"
    pk = SigningKey(b"\x42" * 32).verify_key.encode()
    receipts.check_signature(members, sig, pk)
