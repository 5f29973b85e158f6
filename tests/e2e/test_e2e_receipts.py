#!/usr/bin/env python3
"""End to end: receipts, client-signed requests, policy updates and tampering
(issue 4 acceptance 2 and 3), against a live dev stack.

Receipts are checked here with an independent verifier (RFC 8785 in Python,
Ed25519 through libsodium via ctypes, the receipt key from a verified-by-CLI
attestation), and with `sigil receipt verify`. Tampering is done to the
gateway's own store (SQLite or PostgreSQL), as a malicious host would.
"""
import base64
import copy
import hashlib
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import (Checks, TempStack, bin_dir_arg, box_seal, canonical,  # noqa: E402
                      client_signed, ed25519_keypair, ed25519_verify, new_key_id,
                      now_ms, payload, policy_signature)

BINANCE = {"api_key": "receiptsApiKey0123456789abcdefABCDEF0123456789abcdefABCDEF012345",
           "secret": "receiptsSecret0123456789abcdefABCDEF0123456789abcdefABCDEF01234"}
OWNER = bytes(range(32))
CLIENT = bytes(range(100, 132))
CACHE_S = 1.2  # the gateway caches key records for one second


def policy(version=1, actions=("order", "cancel", "read"), **extra):
    p = {"version": version, "tenant": "default", "venue": "binance", "network": "mainnet",
         "actions": list(actions), "not_after": int(time.time()) + 86400}
    p.update(extra)
    return p


def order(qty="0.5", ts=None):
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price=100",
            "timestamp": ts if ts is not None else now_ms(), "recv_window": 5000}


def my_trades():
    """A Binance `read` (docs/POLICY.md: parameters no writing endpoint accepts)."""
    return {"method": "GET", "path": "/api/v3/myTrades", "query": "symbol=BTCUSDT&limit=10",
            "timestamp": now_ms(), "recv_window": 5000}


def withdraw():
    return {"method": "POST", "path": "/sapi/v1/capital/withdraw/apply", "query": "",
            "body": "coin=USDT&network=TRX&address=TXYZ&amount=10",
            "timestamp": now_ms(), "recv_window": 5000}


# ---- an independent receipt verifier -------------------------------------------------
class Receipts:
    """Checks signature, chain and fields of every receipt seen, in seq order."""

    def __init__(self, receipt_key):
        self.key = receipt_key
        self.seen = {}

    def verify(self, r):
        body = {k: v for k, v in r.items() if k != "signature"}
        canon = canonical(body)
        ok = ed25519_verify(self.key, b"sigil-receipt-v1\0" + canon, bytes.fromhex(r["signature"]))
        self.seen[r["seq"]] = (hashlib.sha256(canon).hexdigest(), r)
        return ok

    def chain_ok(self):
        seqs = sorted(self.seen)
        for a, b in zip(seqs, seqs[1:]):
            if b == a + 1 and self.seen[b][1]["prev"] != self.seen[a][0]:
                return False, (a, b)
        return True, None


def provision(st, h, sealing_pk, key_id=None, client_pk=None, pol=None, token=None):
    key_id = key_id or new_key_id()
    raw = payload("default", "binance", "mainnet", "hmac", BINANCE, pol or policy(), OWNER,
                  client_pubkey=client_pk, key_id=key_id)
    sealed = base64.b64encode(box_seal(sealing_pk, raw)).decode()
    return h.request("POST", "/v1/keys", {"sealed": sealed}, token=token or st.token)


def blob_of(st, key_id):
    return st.store_query("SELECT blob FROM keys WHERE key_id = ?", (key_id,))[0][0]


def set_blob(st, key_id, blob):
    st.store_exec("UPDATE keys SET blob = ? WHERE key_id = ?", (blob, key_id))
    time.sleep(CACHE_S)


def code_of(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


# ---- the checks ------------------------------------------------------------------------
def check_client_signatures(st, h, t, rc, sealing_pk):
    client_pk, _ = ed25519_keypair(CLIENT)
    s, _, b = provision(st, h, sealing_pk, client_pk=client_pk.hex(),
                        pol=policy(symbols={"BTCUSDT": {"max_qty": "1"}}))
    t.check("key with a client key provisioned (201, receipt)", s == 201 and "receipt" in b,
            (s, b))
    kid = b["key_id"]
    t.check("import receipt verifies", rc.verify(b["receipt"]) and
            b["receipt"]["action"] == "import" and b["receipt"]["decision"] == "allow", b)

    s, _, b = h.request("POST", "/v1/sign", {"key_id": kid, "request": order()})
    t.check("no client signature → 403 bad_signature with a deny receipt",
            s == 403 and code_of(b) == "bad_signature" and b.get("receipt", {}).get("decision")
            == "deny" and rc.verify(b["receipt"]), (s, b))

    body = client_signed(CLIENT, kid, order())
    s, _, b = h.request("POST", "/v1/sign", body)
    t.check("client-signed request → 200 with an allow receipt",
            s == 200 and b["receipt"]["decision"] == "allow" and rc.verify(b["receipt"]), (s, b))
    if s == 200:
        out = json.dumps(b["signed"], separators=(",", ":"))
        t.check("receipt request_hash = SHA-256(JCS(request))",
                b["receipt"]["request_hash"] == hashlib.sha256(canonical(body["request"])).hexdigest(),
                b["receipt"])
        t.check("receipt names key, action and policy", b["receipt"]["key_id"] == kid and
                b["receipt"]["action"] == "order" and len(b["receipt"]["policy_hash"]) == 64, out)
        allow_receipt = b["receipt"]
    else:
        allow_receipt = None

    s, _, b = h.request("POST", "/v1/sign", body)
    t.check("replayed client-signed request → 403 bad_signature (replay)",
            s == 403 and code_of(b) == "bad_signature" and "replay" in json.dumps(b), (s, b))

    altered = copy.deepcopy(body)
    altered["request"]["body"] = altered["request"]["body"].replace("quantity=0.5", "quantity=0.9")
    s, _, b = h.request("POST", "/v1/sign", altered)
    t.check("one changed byte of a client-signed request → 403 bad_signature",
            s == 403 and code_of(b) == "bad_signature", (s, b))

    stale = client_signed(CLIENT, kid, order(), timestamp=now_ms() - 10 * 60 * 1000)
    s, _, b = h.request("POST", "/v1/sign", stale)
    t.check("stale client timestamp → 422 stale_request", s == 422 and code_of(b) ==
            "stale_request", (s, b))

    other_seed = bytes(range(7, 39))
    s, _, b = h.request("POST", "/v1/sign", client_signed(other_seed, kid, order()))
    t.check("signature by another client key → 403 bad_signature",
            s == 403 and code_of(b) == "bad_signature", (s, b))

    s, _, b = h.request("POST", "/v1/sign", client_signed(CLIENT, kid, order(qty="2")))
    t.check("client-signed but over the policy's max_qty → 422 policy_denied with receipt",
            s == 422 and code_of(b) == "policy_denied" and rc.verify(b["receipt"]), (s, b))
    return kid, allow_receipt, b.get("receipt")


def check_policy_updates(st, h, t, rc, sealing_pk):
    kid = new_key_id()
    s, _, b = provision(st, h, sealing_pk, key_id=kid)
    t.check("key without client key provisioned", s == 201, (s, b))
    s, _, b = provision(st, h, sealing_pk, key_id=kid)
    t.check("the same key id again → 409 conflict", s == 409 and code_of(b) == "conflict", (s, b))
    s, _, b = h.request("POST", "/v1/sign", client_signed(CLIENT, kid, order()))
    t.check("client signature for a key without client key → 400", s == 400, (s, b))
    old_blob = blob_of(st, kid)

    s, _, b = h.request("POST", "/v1/sign", {"key_id": kid, "request": withdraw()})
    t.check("withdraw under policy v1 → 422 policy_denied", s == 422, (s, b))

    v2 = policy(2, actions=("order", "cancel", "read", "leverage"))
    upd = {"policy": v2, "policy_signature": policy_signature(v2, OWNER, kid).hex()}
    s, _, b = h.request("PUT", f"/v1/keys/{kid}/policy", upd)
    t.check("policy update to v2 → 200 with receipt", s == 200 and b.get("version") == 2 and
            rc.verify(b["receipt"]) and b["receipt"]["action"] == "policy_update", (s, b))
    lev = {"method": "POST", "path": "/fapi/v1/leverage", "query": "",
           "body": "symbol=BTCUSDT&leverage=5", "timestamp": now_ms(), "recv_window": 5000}
    s, _, b = h.request("POST", "/v1/sign", {"key_id": kid, "request": lev})
    t.check("leverage allowed under v2", s == 200, (s, b))

    s, _, b = h.request("PUT", f"/v1/keys/{kid}/policy", upd)
    t.check("the same version again → 422 policy_denied", s == 422, (s, b))
    v1b = policy(1, actions=("order", "cancel", "read", "leverage", "withdraw"))
    s, _, b = h.request("PUT", f"/v1/keys/{kid}/policy",
                        {"policy": v1b, "policy_signature": policy_signature(v1b, OWNER, kid).hex()})
    t.check("a lower version → 422 policy_denied", s == 422 and code_of(b) == "policy_denied",
            (s, b))
    v3 = policy(3)
    other_kid = new_key_id()
    s, _, b = h.request("PUT", f"/v1/keys/{kid}/policy",
                        {"policy": v3, "policy_signature": policy_signature(v3, OWNER,
                                                                            other_kid).hex()})
    t.check("a policy signed for another key id → 403 bad_signature",
            s == 403 and code_of(b) == "bad_signature", (s, b))
    s, _, b = h.request("PUT", f"/v1/keys/{kid}/policy",
                        {"policy": v3, "policy_signature": policy_signature(
                            v3, bytes(range(9, 41)), kid).hex()})
    t.check("a policy signed by another owner key → 403 bad_signature",
            s == 403 and code_of(b) == "bad_signature", (s, b))

    # The host puts the v1 blob back: the enclave remembers v2 for this boot.
    set_blob(st, kid, old_blob)
    s, _, b = h.request("POST", "/v1/sign", {"key_id": kid, "request": order()})
    t.check("replayed older policy (v1 blob restored) → 422 superseded",
            s == 422 and "superseded" in json.dumps(b), (s, b))
    return kid


def check_blob_tampering(st, h, t, sealing_pk):
    """Key a may only read, so the checks sign a read: refused when its
    stored blob was replaced, allowed when the blob is a's own."""
    a, b_ = new_key_id(), new_key_id()
    provision(st, h, sealing_pk, key_id=a, pol=policy(actions=("read",)))
    provision(st, h, sealing_pk, key_id=b_, pol=policy(actions=("order", "read")))
    s, _, b = h.request("POST", "/v1/sign", {"key_id": a, "request": my_trades()})
    t.check("a read-only key signs a read (control)", s == 200 and "signed" in b, (s, b))
    blob_a, blob_b = blob_of(st, a), blob_of(st, b_)
    set_blob(st, a, blob_b)
    s, _, b = h.request("POST", "/v1/sign", {"key_id": a, "request": my_trades()})
    t.check("two keys' blobs (and policies) swapped → refused, nothing signed",
            s >= 400 and "signed" not in b, (s, b))
    flipped = bytearray(blob_a)
    flipped[len(flipped) // 2] ^= 1
    set_blob(st, a, bytes(flipped))
    s, _, b = h.request("POST", "/v1/sign", {"key_id": a, "request": my_trades()})
    t.check("one flipped byte in a stored blob → refused", s >= 400 and "signed" not in b, (s, b))
    set_blob(st, a, blob_a)
    s, _, b = h.request("POST", "/v1/sign", {"key_id": a, "request": my_trades()})
    t.check("the original blob back: signs a read again", s == 200 and "signed" in b, (s, b))
    s, _, b = h.request("POST", "/v1/sign", {"key_id": a, "request": order()})
    t.check("the original blob back: its own policy applies (read-only → order denied)",
            s == 422 and code_of(b) == "policy_denied", (s, b))


def check_receipt_cli(st, t, allow_r, deny_r):
    for name, r in (("allow", allow_r), ("deny", deny_r)):
        if r is None:
            t.check(f"{name} receipt available for the CLI", False)
            continue
        f = st.write(f"receipt-{name}.json", r)
        p = st.sigil("receipt", "verify", "--receipt", f, "--measurement",
                     st.launch["measurement"], "--trust-dev-root", st.launch["root"],
                     "--gateway", st.gateway["url"], "--token", st.token, check=False)
        t.check(f"sigil receipt verify: {name} receipt → ok", p.returncode == 0, p.stderr)
        raw = json.dumps(r).encode()
        i = raw.index(b'"seq":') + 6
        bad = raw[:i] + (b"9" if raw[i:i + 1] != b"9" else b"8") + raw[i + 1:]
        fb = st.path(f"receipt-{name}-bad.json")
        with open(fb, "wb") as fh:
            fh.write(bad)
        p = st.sigil("receipt", "verify", "--receipt", fb, "--measurement",
                     st.launch["measurement"], "--trust-dev-root", st.launch["root"],
                     "--gateway", st.gateway["url"], "--token", st.token, check=False)
        t.check(f"sigil receipt verify: {name} receipt with a changed seq → fails",
                p.returncode != 0, p.stdout)


def check_readyz_and_audit(st, h, t, rc):
    s, _, b = h.request("GET", "/readyz", token=None)
    top = max(rc.seen) if rc.seen else 0
    t.check("/readyz receipt_seq reaches the last receipt seen", s == 200 and
            b.get("receipt_seq", -1) >= top, (s, b, top))
    ok, where = rc.chain_ok()
    t.check("consecutive receipts chain by prev (independent check)", ok, where)
    p = st.sigil("audit", "verify", *st.store.cli_args(), check=False)
    t.check("sigil audit verify on the untouched store → ok", p.returncode == 0,
            p.stdout[-2000:] + p.stderr[-2000:])


def check_audit_unavailable(st, h, t):
    """The store is locked by another writer for longer than the gateway waits:
    the decision is made, but the record cannot be written → 503
    audit_unavailable and no signature."""
    kid = new_key_id()
    s, _, att = h.request("GET", "/v1/attestation?nonce=" + "cd" * 16)
    s, _, b = provision(st, h, bytes.fromhex(att["sealing_key"]), key_id=kid)
    with st.store_locked():
        s, _, b = h.request("POST", "/v1/sign", {"key_id": kid, "request": order()})
    t.check("audit write blocked → 503 audit_unavailable, nothing signed",
            s == 503 and code_of(b) == "audit_unavailable" and "signed" not in b, (s, b))
    s, _, b = h.request("POST", "/v1/sign", {"key_id": kid, "request": order()})
    t.check("store writable again → signed", s == 200 and "signed" in b, (s, b))


def check_concurrent_daily_cap(st, h, t, sealing_pk):
    """Many clients at once against a daily notional cap: exactly the cap
    passes (each order is 0.1 x 100 = 10; cap 250 -> 25 orders), whatever
    the interleaving: the enclave checks and records under one lock."""
    kid = new_key_id()
    pol = policy(symbols={"BTCUSDT": {"max_qty": "1"}}, limits={"daily_notional": "250"})
    s, _, b = provision(st, h, sealing_pk, key_id=kid, pol=pol)
    t.check("key with daily_notional 250 provisioned", s == 201, (s, b))
    results = []
    lock = threading.Lock()

    def worker():
        c = st.http()
        for _ in range(10):
            s, _, b = c.request("POST", "/v1/sign", {"key_id": kid, "request": order(qty="0.1")})
            with lock:
                results.append((s, code_of(b) if s != 200 else None))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    allowed = sum(1 for s, _ in results if s == 200)
    denied = [c for s, c in results if s != 200]
    t.check("80 concurrent orders against a 250 daily cap: exactly 25 signed",
            allowed == 25 and len(denied) == 55 and set(denied) == {"policy_denied"},
            (allowed, sorted(set(denied))))


def main():
    bin_dir = bin_dir_arg()
    t = Checks()
    st = TempStack(bin_dir)
    try:
        st.start()
        h = st.http()
        s, _, att = h.request("GET", "/v1/attestation?nonce=" + "ab" * 16)
        sealing_pk = bytes.fromhex(att["sealing_key"])
        rc = Receipts(bytes.fromhex(att["receipt_key"]))
        _, allow_r, deny_r = check_client_signatures(st, h, t, rc, sealing_pk)
        check_policy_updates(st, h, t, rc, sealing_pk)
        check_blob_tampering(st, h, t, sealing_pk)
        check_receipt_cli(st, t, allow_r, deny_r)
        check_readyz_and_audit(st, h, t, rc)
        check_audit_unavailable(st, h, t)
        check_concurrent_daily_cap(st, h, t, sealing_pk)
    finally:
        st.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
