#!/usr/bin/env python3
"""End to end: the key lifecycle without restarts (docs/PROVISIONING.md
"Generated keys" and "Rotating credentials", docs/OPERATIONS.md "Key
lifecycle").

Generated keys: a payload with "generate": true gets a key made in the
enclave; only the address comes back. A Hyperliquid order and an Aster
request signed with such keys recover (pure Python: tests/soak/hl_verify.py,
not Sigil's C) to exactly the returned address. The payload is never stored
in clear ("private_key" appears nowhere in the state tree), and no 64-hex
run anywhere in the state tree or logs is a key of a returned address.

Rotation (PUT /v1/keys/{id}/credentials): the new credentials sign (equal to
offline `sigil sign` with them), the old ones no longer do; the same
rotation payload replayed, the original import payload, a payload of another
owner key, another tenant's token and a payload sealed for another tenant
are all refused; the old blob put back into the store is refused by the
enclave as superseded; a generated wallet key rotated to a new generated
key changes the key listing's address.

Rewrap (POST /v1/keys/{id}/rewrap): the blob bytes and the key-service data
key ciphertext inside it change, the policy hash does not; a frozen Binance
request signs byte-identically before and after; signing in two threads
while the key is rewrapped again and again has zero failed requests;
receipts hash the old and new blobs; `sigil audit verify` accepts the log.

CLI: `sigil seal --generate` (and its refusals before upload), `sigil seal
--rotate`, `sigil keys rewrap --all` (every key's blob and data key change,
the superseded blob put back earlier is refused and reported on its line)
and `--key-id` of an unknown key.
"""
import base64
import hashlib
import json
import os
import re
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "soak"))
from e2e_util import box_seal, client_signed, ed25519_keypair, grep_tree, now_ms, payload, \
    policy_signature, run_on_stack  # noqa: E402
import hl_verify  # noqa: E402  (independent keccak, EIP-712, secp256k1 recovery)

BINANCE_A = {"api_key": "keygen-e2e-binance-A-0000000000000000000000000000000000000000000",
             "secret": "kgA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0jNhqPtmdSJYdKjV"}
BINANCE_B = {"api_key": "keygen-e2e-binance-B-1111111111111111111111111111111111111111111",
             "secret": "kgBZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"}
OWNER = bytes(range(32))
OTHER_OWNER = bytes(range(32, 64))
SECRETS = [BINANCE_A["secret"], BINANCE_B["secret"]]


def policy(venue, actions, version=1, tenant="default"):
    return {"version": version, "tenant": tenant, "venue": venue, "network": "mainnet",
            "actions": actions, "not_after": int(time.time()) + 86400}


def generate_payload(tenant, venue, pol, owner_seed, key_id, key_type="secp256k1", extra=None,
                     client_pubkey=None):
    """A docs/PROVISIONING.md payload asking the enclave to make the key."""
    owner_pk, _ = ed25519_keypair(owner_seed)
    sig = policy_signature(pol, owner_seed, key_id, tenant)
    doc = {"v": 1, "tenant": tenant, "key_id": key_id, "venue": venue, "network": "mainnet",
           "key_type": key_type, "generate": True, "owner_pubkey": owner_pk.hex(),
           "client_pubkey": client_pubkey, "policy": pol, "policy_signature": sig.hex()}
    doc.update(extra or {})
    return json.dumps(doc, separators=(",", ":")).encode()


def sealed_body(sealing_pk, raw):
    return {"sealed": base64.b64encode(box_seal(sealing_pk, raw)).decode()}


def err(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def blob_of(st, key_id):
    return st.store_query("SELECT blob FROM keys WHERE key_id = ?", (key_id,))[0][0]


def kms_part(blob):
    """The key-service ciphertext of the data key: "SGB1" | u16 len | it."""
    assert blob[:4] == b"SGB1", blob[:4]
    (n,) = struct.unpack(">H", blob[4:6])
    return blob[6:6 + n]


def key_row(h, key_id):
    _, _, body = h.request("GET", "/v1/keys")
    rows = body.get("keys", body) if isinstance(body, dict) else body
    return next((k for k in rows if k.get("key_id") == key_id), None)


# ---- independent signature checks ------------------------------------------
def hl_order(nonce):
    return {"action": {"type": "order", "orders": [{"a": 0, "b": True, "p": "30000", "s": "0.1",
                                                    "r": False, "t": {"limit": {"tif": "Gtc"}}}],
                       "grouping": "na"},
            "nonce": nonce}


def hl_signer(signed):
    return hl_verify.recover_l1_signer(signed["action"], signed["nonce"], signed["signature"],
                                       True)


_ASTER_DOMAIN = hl_verify.keccak256(
    hl_verify.keccak256(b"EIP712Domain(string name,string version,uint256 chainId,"
                        b"address verifyingContract)")
    + hl_verify.keccak256(b"AsterSignTransaction") + hl_verify.keccak256(b"1")
    + (1666).to_bytes(32, "big") + bytes(32))
_ASTER_MESSAGE = hl_verify.keccak256(b"Message(string msg)")


def aster_signer(signed):
    """The address that signed an Aster V3 query (docs/CLI.md "Aster (V3)")."""
    query = signed["query"]
    msg, _, sig_hex = query.rpartition("&signature=")
    sig = bytes.fromhex(sig_hex.removeprefix("0x"))
    struct_hash = hl_verify.keccak256(_ASTER_MESSAGE + hl_verify.keccak256(msg.encode()))
    digest = hl_verify.keccak256(b"\x19\x01" + _ASTER_DOMAIN + struct_hash)
    v = sig[64] if sig[64] >= 27 else sig[64] + 27
    return hl_verify.recover(digest, int.from_bytes(sig[:32], "big"),
                             int.from_bytes(sig[32:64], "big"), v), msg


def main():
    return run_on_stack(run)


def run(st, t):
    try:
        hl_verify.self_test(os.path.join(HERE, "..", "vectors", "hyperliquid.json"))
        t.check("pure-Python verifier agrees with the Hyperliquid SDK vectors", True)
    except AssertionError as e:
        t.check("pure-Python verifier agrees with the Hyperliquid SDK vectors", False, e)
    probe = "0x" + "5a" * 32
    t.check("leak scan finds a planted key (control)",
            list(_hex_runs(b"x" + probe[2:].upper().encode() + b"\n")) == [probe[2:]]
            and hl_verify.address_of_key(probe) == hl_verify.address_of_key(probe[2:]))
    h = st.http()
    status, _, att = h.request("GET", "/v1/attestation?nonce=" + "cd" * 16)
    t.check("attestation for the sealing key", status == 200, (status, att))
    pk = bytes.fromhex(att["sealing_key"])
    addresses = check_generated(st, t, h, pk)
    rotated, stale_key = check_rotation(st, t, h, pk)
    check_rewrap(st, t, h, pk)
    addresses += rotated + check_cli(st, t, h, stale_key)
    check_nothing_leaked(st, t, addresses)
    p = st.sigil("audit", "verify", *st.store.cli_args(), check=False)
    t.check("sigil audit verify accepts the log with rotate and rewrap rows",
            p.returncode == 0, (p.stdout[-400:], p.stderr[-400:]))


def import_generated(t, h, pk, venue, pol, name):
    key_id = os.urandom(16).hex()
    status, _, body = h.request("POST", "/v1/keys",
                                sealed_body(pk, generate_payload("default", venue, pol, OWNER,
                                                                 key_id)))
    t.check(f"{name}: generated key imported (201)", status == 201, (status, body))
    addr = body.get("address", "") if isinstance(body, dict) else ""
    t.check(f"{name}: an EIP-55 address and nothing secret back",
            len(addr) == 42 and addr.startswith("0x") and addr[2:] != addr[2:].lower()
            and set(body) == {"key_id", "venue", "network", "key_type", "address", "policy_hash",
                              "version", "receipt"} and body["key_type"] == "secp256k1"
            and body["receipt"]["action"] == "import", body)
    return key_id, addr


def check_generated(st, t, h, pk):
    hl_id, hl_addr = import_generated(t, h, pk, "hyperliquid", policy("hyperliquid", ["order"]),
                                      "hyperliquid")
    aster_id, aster_addr = import_generated(t, h, pk, "aster", policy("aster", ["order"]), "aster")
    t.check("two generated keys differ", hl_addr.lower() != aster_addr.lower(),
            (hl_addr, aster_addr))

    req = hl_order(now_ms())
    status, _, body = h.request("POST", "/v1/sign", {"key_id": hl_id, "request": req})
    t.check("generated hyperliquid key signs an order", status == 200, (status, body))
    signer = hl_signer(body["signed"]) if status == 200 else None
    t.check("hyperliquid signature recovers to the returned address (pure Python)",
            signer is not None and signer == hl_addr.lower(), (signer, hl_addr))

    areq = {"method": "POST", "path": "/fapi/v3/order",
            "query": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=100",
            "nonce": now_ms() * 1000}
    status, _, body = h.request("POST", "/v1/sign", {"key_id": aster_id, "request": areq})
    t.check("generated aster key signs an order", status == 200, (status, body))
    signer, msg = aster_signer(body["signed"]) if status == 200 else (None, "")
    t.check("aster signature recovers to the returned address (pure Python)",
            signer is not None and signer == aster_addr.lower(), (signer, aster_addr, body))
    t.check("aster query names the generated address as signer",
            f"signer={aster_addr}".lower() in msg.lower(), msg)

    # A generated key bound to a client key: as for an imported one.
    client_seed = bytes(range(64, 96))
    cid = os.urandom(16).hex()
    raw = generate_payload("default", "hyperliquid", policy("hyperliquid", ["order"]), OWNER, cid,
                           client_pubkey=ed25519_keypair(client_seed)[0].hex())
    status, _, body = h.request("POST", "/v1/keys", sealed_body(pk, raw))
    caddr = body.get("address", "") if status == 201 else ""
    status, _, b1 = h.request("POST", "/v1/sign", {"key_id": cid, "request": hl_order(now_ms())})
    t.check("generated key with a client key: unsigned request refused (403 bad_signature)",
            status == 403 and err(b1) == "bad_signature", (status, b1))
    status, _, b2 = h.request("POST", "/v1/sign",
                              client_signed(client_seed, cid, hl_order(now_ms())))
    t.check("generated key with a client key: client-signed request signs as its address",
            status == 200 and caddr and hl_signer(b2["signed"]) == caddr.lower(), (status, b2))
    wid = os.urandom(16).hex()
    wrong = policy_signature(policy("hyperliquid", ["order"]), OTHER_OWNER, wid, "default")
    raw = generate_payload("default", "hyperliquid", policy("hyperliquid", ["order"]), OWNER,
                           wid, extra={"policy_signature": wrong.hex()})
    status, _, body = h.request("POST", "/v1/keys", sealed_body(pk, raw))
    t.check("generated key: a policy not signed by the owner key is refused (bad_signature)",
            err(body) == "bad_signature", (status, body))

    row = key_row(h, hl_id)
    t.check("key listing shows the generated address", row is not None
            and row.get("address") == hl_addr, row)

    refused = [
        ("generate for a CEX venue", "binance", "secp256k1", None, "bad_request"),
        ("generate with key_type hmac", "hyperliquid", "hmac", None, "bad_request"),
        ("generate for paradex (Stark key)", "paradex", "secp256k1", None, "bad_request"),
        ("generate and credentials together", "hyperliquid", "secp256k1",
         {"credentials": {"private_key": "0x" + "11" * 32}}, "bad_field"),
        ("generate false", "hyperliquid", "secp256k1", {"generate": False}, "bad_field"),
        ("generate as a string", "hyperliquid", "secp256k1", {"generate": "true"}, "bad_field"),
    ]
    for name, venue, key_type, extra, code in refused:
        raw = generate_payload("default", venue, policy(venue, ["order"]), OWNER,
                               os.urandom(16).hex(), key_type, extra)
        status, _, body = h.request("POST", "/v1/keys", sealed_body(pk, raw))
        t.check(f"refused: {name} ({code})", status in (400, 422) and err(body) == code,
                (status, body))
    return [hl_addr, aster_addr, caddr]


def rotate(h, pk, key_id, raw, token=...):
    return h.request("PUT", f"/v1/keys/{key_id}/credentials", sealed_body(pk, raw), token=token)


def sign_binance(h, key_id, req):
    status, _, body = h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})
    return status, body.get("signed") if status == 200 else body


def binance_req():
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            "timestamp": now_ms(), "recv_window": 5000}


def check_rotation(st, t, h, pk):
    creds_a, creds_b = st.write("bin-a.json", BINANCE_A), st.write("bin-b.json", BINANCE_B)
    key_id = os.urandom(16).hex()
    pol = {1: policy("binance", ["order", "read"]), 2: policy("binance", ["order", "read"], 2),
           3: policy("binance", ["order", "read"], 3)}
    first = payload("default", "binance", "mainnet", "hmac", BINANCE_A, pol[1], OWNER,
                    key_id=key_id)
    status, _, body = h.request("POST", "/v1/keys", sealed_body(pk, first))
    t.check("binance key imported with credentials A", status == 201, (status, body))
    req = binance_req()
    _, before = sign_binance(h, key_id, req)
    t.check("credentials A sign as offline", json.dumps(before)
            == json.dumps(json.loads(st.sign_offline("binance", creds_a, req))), before)
    old_blob = blob_of(st, key_id)

    second = payload("default", "binance", "mainnet", "hmac", BINANCE_B, pol[2], OWNER,
                     key_id=key_id)
    sent = sealed_body(pk, second)
    status, _, body = h.request("PUT", f"/v1/keys/{key_id}/credentials", sent)
    t.check("rotation to credentials B (200, version 2, receipt rotate)",
            status == 200 and body.get("version") == 2 and body.get("key_id") == key_id
            and body["receipt"]["action"] == "rotate"
            and body["receipt"]["request_hash"]
            == hashlib.sha256(base64.b64decode(sent["sealed"])).hexdigest(), (status, body))
    t.check("rotation response hashes the stored blob",
            status == 200 and body["receipt"]["output_hash"]
            == hashlib.sha256(blob_of(st, key_id)).hexdigest(), body)
    status, after = sign_binance(h, key_id, req)
    offline_b = json.loads(st.sign_offline("binance", creds_b, req))
    t.check("credentials B sign as offline after rotation",
            status == 200 and json.dumps(after) == json.dumps(offline_b), (status, after))
    t.check("credentials A no longer sign", json.dumps(after) != json.dumps(before))

    cases = [
        ("the same rotation payload replayed", second, ..., "policy_denied"),
        ("the original import payload", first, ..., "policy_denied"),
        ("a payload of another owner key",
         payload("default", "binance", "mainnet", "hmac", BINANCE_A, pol[3], OTHER_OWNER,
                 key_id=key_id), ..., "forbidden"),
        ("a payload for another key id",
         payload("default", "binance", "mainnet", "hmac", BINANCE_A, pol[3], OWNER), ...,
         "forbidden"),
        ("a payload sealed for another tenant",
         payload("other", "binance", "mainnet", "hmac", BINANCE_A,
                 policy("binance", ["order"], 3, "other"), OWNER, key_id=key_id), ...,
         "forbidden"),
    ]
    token_b = st.ensure_tenant("other")  # on the stack's store, SQLite or PostgreSQL
    third = payload("default", "binance", "mainnet", "hmac", BINANCE_A, pol[3], OWNER,
                    key_id=key_id)
    cases.append(("another tenant's token", third, token_b, "not_found"))
    for name, raw, token, code in cases:
        status, _, body = rotate(h, pk, key_id, raw, token)
        t.check(f"rotation refused: {name} ({code})", err(body) == code, (status, body))
    status, still = sign_binance(h, key_id, req)
    t.check("after the refusals credentials B still sign",
            status == 200 and json.dumps(still) == json.dumps(offline_b), (status, still))

    # The old blob put back behind the gateway's back: the enclave refuses it.
    key2 = os.urandom(16).hex()
    p1 = payload("default", "binance", "mainnet", "hmac", BINANCE_A, pol[1], OWNER, key_id=key2)
    h.request("POST", "/v1/keys", sealed_body(pk, p1))
    stale = blob_of(st, key2)
    p2 = payload("default", "binance", "mainnet", "hmac", BINANCE_B, pol[2], OWNER, key_id=key2)
    status, _, _ = rotate(h, pk, key2, p2)
    st.store_exec("UPDATE keys SET blob = ? WHERE key_id = ?", (stale, key2))
    status, body = sign_binance(h, key2, binance_req())
    t.check("the pre-rotation blob is refused by the enclave as superseded",
            status == 422 and err(body) == "policy_denied"
            and "superseded" in body["error"]["message"], (status, body))
    t.check("old blob differs from the rotated one", old_blob != blob_of(st, key_id))

    # A generated wallet key rotated to a new generated key: new address.
    hid = os.urandom(16).hex()
    raw = generate_payload("default", "hyperliquid", policy("hyperliquid", ["order"]), OWNER, hid)
    _, _, b1 = h.request("POST", "/v1/keys", sealed_body(pk, raw))
    raw2 = generate_payload("default", "hyperliquid", policy("hyperliquid", ["order"], 2), OWNER,
                            hid)
    status, _, b2 = rotate(h, pk, hid, raw2)
    new_addr = b2.get("address") if status == 200 else None
    t.check("generated key rotated to a new generated key (new address)",
            status == 200 and new_addr and new_addr != b1.get("address"), (status, b1, b2))
    row = key_row(h, hid)
    t.check("key listing shows the rotated address and version 2",
            row is not None and row.get("address") == new_addr
            and row.get("policy_version", row.get("version")) == 2, row)
    status, _, body = h.request("POST", "/v1/sign", {"key_id": hid, "request": hl_order(now_ms())})
    t.check("rotated generated key signs as its new address",
            status == 200 and hl_signer(body["signed"]) == (new_addr or "").lower(),
            (status, body))
    return [b1.get("address", ""), new_addr or ""], key2


def check_rewrap(st, t, h, pk):
    key_id = os.urandom(16).hex()
    raw = payload("default", "binance", "mainnet", "hmac", BINANCE_A,
                  policy("binance", ["order", "read"]), OWNER, key_id=key_id)
    status, _, imp = h.request("POST", "/v1/keys", sealed_body(pk, raw))
    t.check("rewrap: binance key imported", status == 201, (status, imp))
    req = binance_req()  # frozen: the same request before and after
    _, sig_before = sign_binance(h, key_id, req)
    blob1 = blob_of(st, key_id)
    status, _, body = h.request("POST", f"/v1/keys/{key_id}/rewrap")
    blob2 = blob_of(st, key_id)
    t.check("rewrap: 200, same policy hash and version",
            status == 200 and body.get("policy_hash") == imp.get("policy_hash")
            and body.get("version") == 1, (status, body))
    t.check("rewrap: blob bytes change", blob1 != blob2)
    t.check("rewrap: the key-service data-key ciphertext changes",
            kms_part(blob1) != kms_part(blob2))
    rc = body.get("receipt", {}) if isinstance(body, dict) else {}
    t.check("rewrap: receipt hashes the old blob (request) and the new (output)",
            rc.get("action") == "rewrap"
            and rc.get("request_hash") == hashlib.sha256(blob1).hexdigest()
            and rc.get("output_hash") == hashlib.sha256(blob2).hexdigest(), rc)
    status, sig_after = sign_binance(h, key_id, req)
    t.check("rewrap: the frozen request signs byte-identically", status == 200
            and json.dumps(sig_after) == json.dumps(sig_before), (sig_before, sig_after))
    status, _, body = h.request("POST", f"/v1/keys/{key_id}/rewrap", {"x": 1})
    t.check("rewrap with a body is refused (400)", status == 400, (status, body))
    status, _, body = h.request("POST", f"/v1/keys/{'0' * 32}/rewrap")
    t.check("rewrap of an unknown key is 404", status == 404, (status, body))

    # Concurrent signing while the key is rewrapped again and again.
    stop = threading.Event()
    results = []

    def signer():
        hh = st.http()
        while not stop.is_set():
            r = binance_req()
            s, _, b = hh.request("POST", "/v1/sign", {"key_id": key_id, "request": r})
            results.append(s)

    threads = [threading.Thread(target=signer) for _ in range(2)]
    for th in threads:
        th.start()
    rewraps, blobs = [], {blob2}
    for _ in range(8):
        s, _, b = h.request("POST", f"/v1/keys/{key_id}/rewrap")
        rewraps.append(s)
        blobs.add(blob_of(st, key_id))
        time.sleep(0.05)
    stop.set()
    for th in threads:
        th.join()
    t.check("concurrent: every rewrap 200", rewraps == [200] * 8, rewraps)
    t.check("concurrent: each rewrap stored a new blob", len(blobs) == 9, len(blobs))
    print(f"     concurrent: {len(results)} signing requests during 8 rewraps")
    t.check("concurrent: zero failed signing requests",
            len(results) > 0 and all(s == 200 for s in results),
            (len(results), [s for s in results if s != 200][:5]))
    status, sig_final = sign_binance(h, key_id, req)
    t.check("rewrap: still byte-identical after the concurrent rewraps",
            json.dumps(sig_final) == json.dumps(sig_before), sig_final)


def seal_cli(st, venue, policy_file, owner, *extra):
    r = st.sigil("seal", "--gateway", st.gateway["url"], "--token", st.token, "--venue", venue,
                 "--network", "mainnet", "--policy", policy_file, "--owner-key", owner,
                 "--measurement", st.launch["measurement"], "--trust-dev-root", st.launch["root"],
                 "--no-client-key", *extra, check=False)
    out = json.loads(r.stdout) if r.returncode == 0 else None
    return r, out


def check_cli(st, t, h, stale_key):
    """sigil seal --generate / --rotate and sigil keys rewrap."""
    owner = st.path("owner-cli.key")
    st.sigil("keygen", "--out", owner)
    pf = st.write("pol-hl-cli.json", policy("hyperliquid", ["order"]))
    r, out = seal_cli(st, "hyperliquid", pf, owner, "--generate")
    t.check("sigil seal --generate: a key and its address", r.returncode == 0
            and len(out.get("address", "")) == 42, (r.stdout, r.stderr))
    addr = out["address"] if out else ""
    if out:
        status, _, body = h.request("POST", "/v1/sign", {"key_id": out["key_id"],
                                                         "request": hl_order(now_ms())})
        t.check("sigil seal --generate key signs as its address",
                status == 200 and hl_signer(body["signed"]) == addr.lower(), (status, body))
    r, _ = seal_cli(st, "binance", st.write("pol-bin-gen.json", policy("binance", ["order"])),
                    owner, "--generate")
    t.check("sigil seal --generate refuses a CEX venue before upload (usage)",
            r.returncode == 2 and b'"usage"' in r.stderr, r.stderr)
    r, _ = seal_cli(st, "hyperliquid", pf, owner, "--generate", "--credentials", pf)
    t.check("sigil seal: --generate and --credentials are exclusive",
            r.returncode == 2 and b'"usage"' in r.stderr, r.stderr)

    creds_a, creds_b = st.write("cli-a.json", BINANCE_A), st.write("cli-b.json", BINANCE_B)
    p1 = st.write("pol-bin-cli-1.json", policy("binance", ["order"]))
    p2 = st.write("pol-bin-cli-2.json", policy("binance", ["order"], 2))
    r, first = seal_cli(st, "binance", p1, owner, "--credentials", creds_a)
    key_id = first["key_id"] if first else "0" * 32
    r, rot = seal_cli(st, "binance", p2, owner, "--credentials", creds_b, "--rotate", key_id)
    t.check("sigil seal --rotate: same key id, version 2, receipt rotate",
            r.returncode == 0 and rot["key_id"] == key_id and rot["version"] == 2
            and rot["receipt"]["action"] == "rotate", (r.stdout, r.stderr))
    req = binance_req()
    status, signed = sign_binance(h, key_id, req)
    t.check("after sigil seal --rotate the new credentials sign", status == 200
            and json.dumps(signed) == json.dumps(json.loads(st.sign_offline("binance", creds_b,
                                                                            req))), signed)
    r, _ = seal_cli(st, "binance", p2, owner, "--credentials", creds_a, "--rotate", key_id)
    t.check("sigil seal --rotate again with the same version: policy_denied",
            r.returncode != 0 and b'"policy_denied"' in r.stderr, r.stderr)

    before = {k: blob_of(st, k) for (k,) in st.store_query(
        "SELECT key_id FROM keys WHERE tenant = 'default' AND deleted_at IS NULL")}
    r = st.sigil("keys", "rewrap", "--gateway", st.gateway["url"], "--token", st.token, "--all",
                 check=False)
    lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]
    after = {k: blob_of(st, k) for k in before}
    failed = {x["key_id"]: x["error"]["code"] for x in lines if "error" in x}
    t.check(f"sigil keys rewrap --all: one line per key ({len(before)})",
            sorted(x["key_id"] for x in lines) == sorted(before), r.stdout[-300:])
    t.check("sigil keys rewrap --all: all rewrapped but the superseded blob put back "
            "earlier (policy_denied, exit status non-zero)",
            r.returncode != 0 and failed == {stale_key: "policy_denied"}
            and all(x["receipt"]["action"] == "rewrap" for x in lines if "error" not in x),
            (failed, r.stderr))
    t.check("sigil keys rewrap --all: every other blob and data key changed",
            all(before[k] != after[k] and kms_part(before[k]) != kms_part(after[k])
                for k in before if k != stale_key) and before[stale_key] == after[stale_key],
            [k for k in before if before[k] == after[k]])
    r = st.sigil("keys", "rewrap", "--gateway", st.gateway["url"], "--token", st.token,
                 "--key-id", "f" * 32, check=False)
    line = json.loads(r.stdout.decode().splitlines()[0]) if r.stdout.strip() else {}
    t.check("sigil keys rewrap --key-id unknown: its error line, exit status non-zero",
            r.returncode != 0 and line.get("error", {}).get("code") == "not_found", (r.stdout,
                                                                                     r.stderr))
    return [addr]


def check_nothing_leaked(st, t, addresses):
    roots = [st.home] + [os.path.dirname(p) for p in st.logs.values()]
    hits = grep_tree(st.state_dirs(), ["private_key"] + SECRETS)
    t.check("no payload text or credential secret anywhere in the state tree", not hits, hits)
    want = {a.lower() for a in addresses if a}
    found, scanned = [], set()
    for root in set(roots):
        for d, _, files in os.walk(root):
            for name in files:
                try:
                    with open(os.path.join(d, name), "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                scanned |= set(_hex_runs(data))
    for run in scanned:
        k = int(run, 16)
        if 0 < k < hl_verify._N and hl_verify.address_of_key(run) in want:
            found.append(run[:6])
    t.check(f"no 64-hex run in state or logs ({len(scanned)} scanned) is a generated key",
            not found and len(want) == len(addresses), found)


_HEX64 = re.compile(rb"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")


def _hex_runs(data):
    return (m.group().decode().lower() for m in _HEX64.finditer(data))


if __name__ == "__main__":
    sys.exit(main())
