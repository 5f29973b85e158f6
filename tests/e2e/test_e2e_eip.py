#!/usr/bin/env python3
"""End to end: eip191 and eip712 keys sign through a live dev stack.

Neither an EIP-191 message nor EIP-712 typed data carries a time, so, as for
dydx, the request takes an unsigned top-level `timestamp` (Unix ms) for the
enclave's freshness check (docs/POLICY.md "Request time"). Keys imported with
the vectors' test key and keys the enclave generates sign with a fresh
timestamp; every signature is checked independently of Sigil's C code: the
EIP-191 and EIP-712 digests are recomputed here (a small EIP-712 encoder,
itself checked against the ethers vectors of tests/vectors/eip712_eip191.json)
and the signer is recovered with tests/soak/hl_verify.py's pure-Python
secp256k1. The imported key's signatures equal the ethers vectors and offline
`sigil sign` without the timestamp, byte for byte. Receipts: output_hash is
SHA-256 of the returned `signed` text, request_hash SHA-256 of the request's
JCS form (timestamp included), both signed by the boot's receipt key. A stale
timestamp is 422 stale_request with a deny receipt; none is 400 bad_request
naming request.timestamp; a bad one or another extra member is refused.
"""
import base64
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "soak"))
from e2e_util import box_seal, canonical, ed25519_verify, grep_tree, new_key_id, now_ms, \
    payload, run_on_stack  # noqa: E402
import hl_verify  # noqa: E402  (independent keccak and secp256k1 recovery)

VECTORS = os.path.join(HERE, "..", "vectors", "eip712_eip191.json")
OWNER = bytes(range(32))
STALE_MS = 10 * 60 * 1000
NO_TS = "add request.timestamp"
keccak = hl_verify.keccak256


def policy(venue):
    return {"version": 1, "tenant": "default", "venue": venue, "network": "mainnet",
            "actions": ["other"], "not_after": int(now_ms() / 1000) + 86400}


# ---- EIP-191 and EIP-712, independently of src/codec ------------------------
def eip191_digest(msg):
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(msg)).encode() + msg)


DOMAIN_FIELDS = [("name", "string"), ("version", "string"), ("chainId", "uint256"),
                 ("verifyingContract", "address"), ("salt", "bytes32")]


def _deps(types, name, seen):
    if name in seen or name not in types:
        return
    seen.add(name)
    for f in types[name]:
        _deps(types, f["type"].split("[")[0], seen)


def encode_type(types, name):
    seen = set()
    _deps(types, name, seen)
    order = [name] + sorted(seen - {name})
    return "".join(t + "(" + ",".join(f["type"] + " " + f["name"] for f in types[t]) + ")"
                   for t in order)


def encode_value(types, typ, v):
    if typ in types:
        return hash_struct(types, typ, v)
    if typ == "string":
        return keccak(v.encode())
    if typ == "bytes":
        return keccak(bytes.fromhex(v[2:]))
    if typ == "address":
        return int(v, 16).to_bytes(32, "big")
    if typ == "bool":
        return int(v).to_bytes(32, "big")
    if typ.startswith("uint"):
        return int(v, 0).to_bytes(32, "big") if isinstance(v, str) else v.to_bytes(32, "big")
    if typ.startswith("bytes"):
        return bytes.fromhex(v[2:]).ljust(32, b"\0")
    raise ValueError(f"encoder subset: no {typ}")


def hash_struct(types, name, value):
    data = keccak(encode_type(types, name).encode())
    for f in types[name]:
        data += encode_value(types, f["type"], value[f["name"]])
    return keccak(data)


def eip712_digest(doc):
    types = dict(doc["types"])
    if "EIP712Domain" not in types:
        types["EIP712Domain"] = [{"name": n, "type": t} for n, t in DOMAIN_FIELDS
                                 if n in doc["domain"]]
    domain = hash_struct(types, "EIP712Domain", doc["domain"])
    return keccak(b"\x19\x01" + domain + hash_struct(types, doc["primaryType"], doc["message"]))


def recover(digest, sig_hex):
    sig = bytes.fromhex(sig_hex.removeprefix("0x"))
    if len(sig) != 65:
        return None
    return hl_verify.recover(digest, int.from_bytes(sig[:32], "big"),
                             int.from_bytes(sig[32:64], "big"), sig[64])


ORDER_DOC = {"domain": {"name": "Sigil e2e", "chainId": 42161},
             "types": {"Order": [{"name": "maker", "type": "address"},
                                 {"name": "amount", "type": "uint256"},
                                 {"name": "memo", "type": "string"},
                                 {"name": "salt", "type": "bytes32"}]},
             "primaryType": "Order",
             "message": {"maker": "0x8ba1f109551bd432803012645ac136ddd64dba72",
                         "amount": "1000000000000000000000", "memo": "through /v1/sign",
                         "salt": "0x" + "ab" * 32}}


def err(body):
    return body.get("error", {}) if isinstance(body, dict) else {}


def signed_text(raw):
    """The `signed` member's JSON text, byte for byte, in a raw response."""
    at = raw.index(b'"signed":') + len(b'"signed":')
    _, end = json.JSONDecoder().raw_decode(raw.decode(), at)
    return raw[at:end]


class Stack:
    """The stack's HTTP client, its receipt key and what a test key needs."""

    def __init__(self, st, t):
        self.st, self.t, self.h = st, t, st.http()
        status, _, att = self.h.request("GET", "/v1/attestation?nonce=" + "ef" * 16)
        t.check("attestation: sealing and receipt keys", status == 200, (status, att))
        self.sealing_pk = bytes.fromhex(att["sealing_key"])
        self.receipt_pk = bytes.fromhex(att["receipt_key"])

    def receipt_ok(self, rc):
        body = {k: v for k, v in rc.items() if k != "signature"}
        return ed25519_verify(self.receipt_pk, b"sigil-receipt-v1\0" + canonical(body),
                              bytes.fromhex(rc["signature"]))

    def generate(self, venue):
        """A key the enclave makes (docs/PROVISIONING.md "Generated keys")."""
        key_id = new_key_id()
        doc = json.loads(payload("default", venue, "mainnet", "secp256k1", None, policy(venue),
                                 OWNER, key_id=key_id))
        del doc["credentials"]
        doc["generate"] = True
        raw = json.dumps(doc, separators=(",", ":")).encode()
        status, _, body = self.h.request(
            "POST", "/v1/keys", {"sealed": base64.b64encode(box_seal(self.sealing_pk, raw))
                                 .decode()})
        self.t.check(f"generated {venue} key: 201 with an address", status == 201
                     and len(body.get("address", "")) == 42, (status, body))
        return key_id, body.get("address", "")

    def sign(self, key_id, request):
        """(status, body, raw bytes) of POST /v1/sign."""
        text = json.dumps({"key_id": key_id, "request": request}, separators=(",", ":"))
        status, _, raw = self.h.request("POST", "/v1/sign", text, raw=True)
        return status, json.loads(raw), raw


def check_signed(s, name, key_id, address, request, digest, want=None):
    """Signs request with a fresh timestamp; checks the signature, the
    receipt's hashes and, when want is given, the signed text."""
    t = s.t
    request = dict(request, timestamp=now_ms())
    status, body, raw = s.sign(key_id, request)
    t.check(f"{name}: 200, action other", status == 200 and body.get("action") == "other",
            (status, body))
    if status != 200:
        return None
    got = body["signed"]
    t.check(f"{name}: signer recovered from the signature is the key's address",
            (recover(digest, got.get("signature", "")) or "").lower() == address.lower(),
            (got, address))
    if "digest" in got:
        t.check(f"{name}: digest equals the independent EIP-712 encoding",
                got["digest"] == "0x" + digest.hex(), got)
    if want is not None:
        t.check(f"{name}: signed text as expected, byte for byte", signed_text(raw) == want,
                (signed_text(raw), want))
    rc = body.get("receipt", {})
    t.check(f"{name}: allow receipt, signed by the boot's receipt key",
            rc.get("decision") == "allow" and s.receipt_ok(rc), rc)
    t.check(f"{name}: receipt output_hash = SHA-256 of the signed text",
            rc.get("output_hash") == hashlib.sha256(signed_text(raw)).hexdigest(),
            (rc, signed_text(raw)))
    t.check(f"{name}: receipt request_hash = SHA-256 of JCS(request), timestamp included",
            rc.get("request_hash") == hashlib.sha256(canonical(request)).hexdigest()
            and rc.get("request_hash") != hashlib.sha256(
                canonical({k: v for k, v in request.items() if k != "timestamp"})).hexdigest(),
            rc)
    return got


def check_refusals(s, name, key_id, request):
    t = s.t
    status, body, _ = s.sign(key_id, request)
    t.check(f"{name}, no timestamp: 400 bad_request naming request.timestamp",
            status == 400 and err(body).get("code") == "bad_request"
            and NO_TS in err(body).get("message", ""), (status, body))
    t.check(f"{name}, no timestamp: no signature", "signed" not in body, body)
    status, body, _ = s.sign(key_id, dict(request, timestamp=now_ms() - STALE_MS))
    rc = err(body).get("receipt") or body.get("receipt") or {}
    t.check(f"{name}, stale timestamp: 422 stale_request", status == 422
            and err(body).get("code") == "stale_request", (status, body))
    t.check(f"{name}, stale timestamp: deny receipt, signed, without output_hash",
            rc.get("decision") == "deny" and "output_hash" not in rc and s.receipt_ok(rc), body)
    status, body, _ = s.sign(key_id, dict(request, timestamp=now_ms() + STALE_MS))
    t.check(f"{name}, future timestamp: 422 stale_request",
            status == 422 and err(body).get("code") == "stale_request", (status, body))
    status, body, _ = s.sign(key_id, dict(request, timestamp=str(now_ms())))
    t.check(f"{name}, timestamp as a string: 400 bad_field",
            status == 400 and err(body).get("code") == "bad_field", (status, body))
    status, body, _ = s.sign(key_id, dict(request, timestamp=now_ms(), nonce=1))
    t.check(f"{name}, another extra member: 400 unknown_field",
            status == 400 and err(body).get("code") == "unknown_field", (status, body))


def main():
    return run_on_stack(run)


def run(st, t):
    with open(VECTORS) as f:
        vec = json.load(f)
    v191 = vec["eip191"][0]
    v712 = next(v for v in vec["eip712"] if v["inputs"]["private_key"] == v191["inputs"]
                ["private_key"])
    mail = vec["eip712"][0]["inputs"]
    mail_doc = {k: mail[k] for k in ("domain", "types", "primaryType", "message")}
    t.check("independent EIP-712 encoder: the Mail vector's digest",
            eip712_digest(mail_doc).hex() == vec["eip712"][0]["expected"]["digest"][2:])
    t.check("independent EIP-191 digest: the vector's",
            eip191_digest(b"Hello World").hex() == v191["expected"]["digest"][2:])
    key = v191["inputs"]["private_key"]
    address = hl_verify.address_of_key(key)
    t.check("the test key's address is the vectors'",
            address == v191["inputs"]["signer_address"].lower())

    s = Stack(st, t)
    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("wallet.json", {"private_key": key})
    hello = {"message": v191["inputs"]["message_utf8"]}
    for venue, request, digest, vector in (
            ("eip191", hello, eip191_digest(b"Hello World"), v191["expected"]),
            ("eip712", mail_doc, eip712_digest(mail_doc), v712["expected"])):
        out = st.seal(venue, "mainnet", creds, st.write(f"policy-{venue}.json", policy(venue)),
                      owner)
        key_id = out.get("key_id", "")
        t.check(f"seal {venue}: the key's address",
                out.get("address", "").lower() == address, out)
        offline = st.sign_offline(venue, creds, request).encode()
        want = (b'{"digest":"0x' + digest.hex().encode() + b'",' if venue == "eip712" else b"{"
                ) + b'"signature":"' + vector["signature_65_hex"].encode() + b'"}'
        t.check(f"{venue}: offline `sigil sign` (no timestamp) gives the ethers vector",
                offline == want, (offline, want))
        check_signed(s, f"imported {venue}", key_id, address, request, digest, want)
        check_refusals(s, f"imported {venue}", key_id, request)

    hex_msg = {"message_hex": "0x" + bytes(range(40)).hex()}
    for venue, request, digest in (
            ("eip191", hex_msg, eip191_digest(bytes(range(40)))),
            ("eip712", ORDER_DOC, eip712_digest(ORDER_DOC))):
        key_id, gen_addr = s.generate(venue)
        t.check(f"generated {venue}: another address than the imported key's",
                gen_addr.lower() not in ("", address), gen_addr)
        check_signed(s, f"generated {venue}", key_id, gen_addr, request, digest)
        check_refusals(s, f"generated {venue}", key_id, request)

    st.stop()
    leaks = grep_tree(st.state_dirs(), [key[2:]])
    t.check("the private key appears in no file of the stack", not leaks, leaks)


if __name__ == "__main__":
    sys.exit(main())
