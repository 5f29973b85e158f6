#!/usr/bin/env python3
"""End to end: the policy vectors through the HTTP API of a live dev stack.

The cases of tests/vectors/policy/*.json flagged `"http": true` (the unit test
tests/unit/test_policy_vectors.c runs all of them through the library) are
replayed against a real gateway and enclave: each case provisions a fresh key
whose policy is the case's (tenant rewritten to the stack's, times shifted so
that the case's `now_ms` becomes now), with a payload built here (ctypes
libsodium, docs/PROVISIONING.md), then POSTs every request to /v1/sign with
its timestamps and nonces moved to now. Expected: allow → 200 with `signed`
and an `allow` receipt; deny → 422 `policy_denied` naming the rule, with a
`deny` receipt in the error body; error → the code. Receipts must name the
case's policy hash, the request's hash and the classified action.
"""
import base64
import glob
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import (Checks, TempStack, bin_dir_arg, box_seal, canonical,  # noqa: E402
                      ed25519_keypair, new_key_id, now_ms, payload)

TENANT = "default"
OWNER_SEED = bytes(range(7, 39))
DAY_MS = 86400000

# Test credentials for every venue a flagged case may use (none is real). key_type is the
# payload's: the credentials' own, hmac by default (coinbase parses its key when signing).
_, CB_SK = ed25519_keypair(bytes(range(100, 132)))
CREDENTIALS = {
    "binance": ("hmac", {"api_key": "polE2eBinanceKey0123456789", "secret": "polE2eBinanceSecret"}),
    "aster": ("secp256k1", {"private_key": "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617"
                                                  "082792ae468d01a3f362318"}),
    "bybit": ("hmac", {"api_key": "polE2eBybitKey", "secret": "polE2eBybitSecret0123456789"}),
    "okx": ("hmac", {"api_key": "polE2eOkxKey", "secret": "polE2eOkxSecret",
                     "passphrase": "polE2ePass-1"}),
    "kucoinfutures": ("hmac", {"api_key": "polE2eKucoinKey", "secret": "polE2eKucoinSecret",
                               "passphrase": "polE2ePass-2"}),
    "kraken": ("hmac", {"api_key": "polE2eKrakenKey",
                        "secret": base64.b64encode(bytes(range(64))).decode()}),
    "gate": ("hmac", {"api_key": "polE2eGateKey", "secret": "polE2eGateSecret"}),
    "bitfinex": ("hmac", {"api_key": "polE2eBitfinexKey", "secret": "polE2eBitfinexSecret"}),
    "deribit": ("hmac", {"api_key": "polE2eDeribitId", "secret": "polE2eDeribitSecret"}),
    "coinbase": ("hmac", {"api_key": "organizations/e2e/apiKeys/policy",
                             "secret": base64.b64encode(CB_SK).decode()}),
    "hyperliquid": ("secp256k1", {"private_key": "0x" + "0123456789012345678901234567890123"
                                                        "456789012345678901234567890123"}),
}


# Rule families (docs/POLICY.md "Evaluation"), each needing an allow and a deny over HTTP.
FAMILIES = ("venue", "validity", "actions", "http", "user actions", "vaults", "destinations",
            "agents", "symbols", "limits")
BY_FILE = {"http.json": "http", "symbols.json": "symbols", "destinations.json": "destinations",
           "limits.json": "limits", "smuggling.json": "smuggling"}


def family(fname, c):
    prefix = c["name"].split(":")[0]
    if prefix in FAMILIES:
        return prefix
    if fname in BY_FILE:
        return BY_FILE[fname]
    return "symbols" if prefix == "hyperliquid" else prefix


def load_cases(tests_dir):
    out = []
    for path in sorted(glob.glob(os.path.join(tests_dir, "vectors", "policy", "*.json"))):
        with open(path) as f:
            doc = json.load(f)
        for c in doc["cases"]:
            if c.get("http"):
                out.append((os.path.basename(path), c))
    return out


# ---- moving a case's clock to now ---------------------------------------------------
def shift_value(v, case_now, delta_ms):
    """Moves integers that are times near the case's clock (ms, µs or s) by delta."""
    if isinstance(v, bool) or not isinstance(v, int):
        return v
    window = 30 * DAY_MS
    if abs(v - case_now) <= window:
        return v + delta_ms
    if abs(v - case_now * 1000) <= window * 1000:
        return v + delta_ms * 1000
    if abs(v - case_now // 1000) <= window // 1000:
        return v + delta_ms // 1000
    return v


def shift(obj, case_now, delta_ms):
    if isinstance(obj, dict):
        return {k: shift(v, case_now, delta_ms) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shift(v, case_now, delta_ms) for v in obj]
    return shift_value(obj, case_now, delta_ms)


def shift_text(text, case_now, delta_ms):
    """The same on request text (cases that are not strict JSON): every number token."""
    def one(m):
        return str(shift_value(int(m.group(0)), case_now, delta_ms))
    return re.sub(r"(?<![\w.])\d{9,}(?![\w.])", one, text)


def case_policy(c, delta_ms):
    p = dict(c["policy"])
    p["tenant"] = TENANT
    for k in ("not_before", "not_after"):
        if k in p:
            p[k] += delta_ms // 1000
    return p


# ---- the stack -------------------------------------------------------------------------
def provision(h, sealing_pk, venue, network, pol):
    key_type, creds = CREDENTIALS[venue]
    key_id = new_key_id()
    raw = payload(TENANT, venue, network, key_type, creds, pol, OWNER_SEED, key_id=key_id)
    status, _, body = h.request("POST", "/v1/keys",
                                {"sealed": base64.b64encode(box_seal(sealing_pk, raw)).decode()})
    return status, body, key_id


def sign(h, key_id, req, text=None):
    if text is None:
        return h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})
    body = '{"key_id":' + json.dumps(key_id) + ',"request":' + text + "}"
    return h.request("POST", "/v1/sign", body)


def err_of(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code", ""), body["error"].get("message", "")
    return "", str(body)


def check_receipt(t, label, rc, decision, pol, req, action, reason=None):
    ok = isinstance(rc, dict)
    t.check(f"{label}: {decision} receipt", ok and rc.get("decision") == decision, rc)
    if not ok:
        return
    want_hash = hashlib.sha256(canonical(pol)).hexdigest()
    t.check(f"{label}: receipt names the case's policy hash", rc.get("policy_hash") == want_hash,
            (rc.get("policy_hash"), want_hash))
    if req is not None:
        rh = hashlib.sha256(canonical(req)).hexdigest()
        t.check(f"{label}: receipt names the request's hash", rc.get("request_hash") == rh,
                (rc.get("request_hash"), rh))
    if action is not None:
        t.check(f"{label}: receipt action {action}", rc.get("action") == action, rc.get("action"))
    if decision == "deny":
        t.check(f"{label}: receipt reason is the denial",
                str(rc.get("reason", "")).startswith("policy_denied: ")
                and (reason is None or reason in rc.get("reason", "")), rc.get("reason"))
    else:
        t.check(f"{label}: allow receipt has an output hash, no reason",
                len(str(rc.get("output_hash", ""))) == 64 and "reason" not in rc, rc)


def run_request(t, h, key_id, label, pol, c, item, stats, fam):
    case_now = c["now_ms"]
    delta = now_ms() - case_now
    text = item.get("request_text")
    req = None
    if text is not None:
        text = shift_text(text, case_now, delta)
    else:
        req = shift(item["request"], case_now, delta)
    status, _, body = sign(h, key_id, req, text)
    expect, reason, action = item["expect"], item.get("reason"), item.get("action")
    code, msg = err_of(body)
    stats[expect] = stats.get(expect, 0) + 1
    stats["seen"].add((fam, expect))
    if expect == "allow":
        ok = status == 200 and isinstance(body, dict) and "signed" in body
        t.check(f"{label}: allow → 200 signed", ok, (status, body))
        if ok:
            if action is not None:
                t.check(f"{label}: action {action}", body.get("action") == action,
                        body.get("action"))
            check_receipt(t, label, body.get("receipt"), "allow", pol, req, action)
    elif expect == "deny":
        ok = status == 422 and code == "policy_denied" and (reason is None or reason in msg)
        t.check(f"{label}: deny → 422 policy_denied" + (f" naming {reason!r}" if reason else ""),
                ok, (status, body))
        t.check(f"{label}: no signature on a denial",
                not (isinstance(body, dict) and "signed" in body), body)
        rc = body.get("receipt") if isinstance(body, dict) else None
        check_receipt(t, label, rc, "deny", pol, req, action, reason)
    else:
        want = item.get("code")
        ok = (400 <= status < 500 and status != 422 and (want is None or code == want)
              and (reason is None or reason in msg))
        t.check(f"{label}: error → 4xx {want or ''}", ok, (status, body))
        t.check(f"{label}: no signature on an error",
                not (isinstance(body, dict) and "signed" in body), body)


def run_case(t, h, sealing_pk, fname, c, stats):
    fam = family(fname, c)
    delta = now_ms() - c["now_ms"]
    pol = case_policy(c, delta)
    status, body, key_id = provision(h, sealing_pk, c["venue"], c["network"], pol)
    t.check(f"{fname} / {c['name']}: key provisioned (201)", status == 201, (status, body))
    if status != 201:
        return
    t.check(f"{fname} / {c['name']}: key reports the policy hash",
            body.get("policy_hash") == hashlib.sha256(canonical(pol)).hexdigest(), body)
    stats["cases"] += 1
    for i, item in enumerate(c["requests"]):
        if "now_ms" in item:  # a library-only timing; the enclave's clock cannot be moved
            continue
        if item.get("http") is False:
            continue
        run_request(t, h, key_id, f"{fname} / {c['name']} #{i}", pol, c, item, stats, fam)


def check_venue_binding(t, h, sealing_pk, stats):
    """Rule 1 over HTTP: a key is refused at import unless its policy names the key's
    venue and network, so no request of another venue or network ever meets the policy."""
    now_s = now_ms() // 1000
    pol = {"version": 1, "tenant": TENANT, "venue": "okx", "network": "mainnet",
           "actions": ["read"], "not_after": now_s + 3600}
    status, body, _ = provision(h, sealing_pk, "binance", "mainnet", pol)
    t.check("venue: a binance key with an okx policy → refused (400 bad_request)",
            status == 400 and err_of(body)[0] == "bad_request", (status, body))
    status, body, _ = provision(h, sealing_pk, "okx", "testnet", pol)
    t.check("network: a testnet key with a mainnet policy → refused (400 bad_request)",
            status == 400 and err_of(body)[0] == "bad_request", (status, body))
    stats["seen"].add(("venue", "deny"))


def main():
    bin_dir = bin_dir_arg()
    tests_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..")
    cases = load_cases(tests_dir)
    t = Checks()
    stats = {"cases": 0, "seen": set()}
    st = TempStack(bin_dir)
    try:
        st.start()
        h = st.http()
        status, _, att = h.request("GET", "/v1/attestation?nonce=" + "c3" * 16)
        t.check("attestation served", status == 200, (status, att))
        sealing_pk = bytes.fromhex(att["sealing_key"])
        for fname, c in cases:
            run_case(t, h, sealing_pk, fname, c, stats)
        check_venue_binding(t, h, sealing_pk, stats)
    finally:
        st.cleanup()
    venues = sorted({c["venue"] for _, c in cases})
    print(f"policy over HTTP: {stats['cases']} cases, {stats.get('allow', 0)} allowed, "
          f"{stats.get('deny', 0)} denied, {stats.get('error', 0)} refused as errors; "
          f"venues: {', '.join(venues)}")
    t.check("at least 25 requests through the API",
            stats.get("allow", 0) + stats.get("deny", 0) + stats.get("error", 0) >= 25, stats)
    for fam in FAMILIES:
        for want in ("allow", "deny"):
            t.check(f"rule family {fam!r}: at least one {want} over HTTP",
                    (fam, want) in stats["seen"])
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
