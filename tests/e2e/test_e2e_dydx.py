#!/usr/bin/env python3
"""End to end: a dYdX v4 key through a live dev stack (issue 7, acceptance 4).

A dydx key sealed with `sigil seal` under a policy with caps in the chain's
units (clob pair "0" = BTC-USD: max_qty in quantums, multiplier 10^-15 so that
quantums x multiplier x subticks is the USDC notional). Through POST /v1/sign:
the known-answer vector of shared/vectors/venues/dydx.json comes back byte for
byte (request.timestamp is not part of the signed bytes); an order within the
caps is signed exactly as `sigil sign` signs it offline, with txhash =
SHA-256(TxRaw); orders over max_qty, over max_notional, on another clob pair,
and a stale or missing timestamp are refused with the documented codes.
"""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import grep_tree, now_ms, run_on_stack  # noqa: E402

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
OWNER = "dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6t"  # venues.md §7, the key's address
# venues.md §7 vector 1 (v4-client-js 3.6.0): its TxRaw, base64.
VECTOR_TX = ("Cp0BCm0KIC9keWR4cHJvdG9jb2wuY2xvYi5Nc2dQbGFjZU9yZGVyEkkKRwo0Ci0KK2R5ZHgxbmF2Zm54eDB5d3Bn"
             "dGRqZXZra21rMms3OWx2cjM3anRtcDh5NnQVFc1bBxABGMCEPSCA5JfQEiiA2sQJ+n8rCiUvZHlkeHByb3RvY29s"
             "LmFjY291bnRwbHVzLlR4RXh0ZW5zaW9uEgIKABJWCk4KRgofL2Nvc21vcy5jcnlwdG8uc2VjcDI1NmsxLlB1Yktl"
             "eRIjCiECZlX+7U0hTCYeCmtVQ5VZbx8Udqd9mZVg5ajfm4oaNRUSBAoCCAESBBDAhD0aQOsVpW62EtGqcY3KqV1M"
             "XKNDIe+LSBprxJzK59wMBag6HzSVlJr+j9pDiuzIl9+FbYKSiBvlLg8Jf3qpbL+BwJ8=")
VECTOR_TXHASH = "7BA0E3B33A9E84AB347FC36AF0AAF8FC69C02C61DD239798CA96EC20E68F350F"


def policy():
    return {"version": 1, "tenant": "default", "venue": "dydx", "network": "mainnet",
            "actions": ["order", "cancel"], "not_after": int(now_ms() / 1000) + 86400,
            "symbols": {"0": {"max_qty": "10000000000", "max_notional": "100000",
                              "multiplier": "0.000000000000001"}}}


def place(clob=0, quantums=1000000, subticks=5000000000, client_id=123456789, ts=None):
    req = {"chain_id": "dydx-mainnet-1", "account_number": 12345, "sequence": 0,
           "place_order": {"owner": OWNER, "subaccount_number": 0, "client_id": client_id,
                           "clob_pair_id": clob, "order_flags": 0, "good_til_block": 20000000,
                           "side": 1, "quantums": quantums, "subticks": subticks}}
    if ts is not False:
        req["timestamp"] = ts if ts is not None else now_ms()
    return req


def cancel(clob=0):
    return {"chain_id": "dydx-mainnet-1", "account_number": 12345, "sequence": 0,
            "timestamp": now_ms(),
            "cancel_order": {"owner": OWNER, "subaccount_number": 0, "client_id": 123456789,
                             "clob_pair_id": clob, "order_flags": 0,
                             "good_til_block": 20000010}}


def main():
    return run_on_stack(run)


def err(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def run(st, t):
    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("dydx.json", {"private_key": KEY})
    pf = st.write("policy-dydx.json", policy())
    out = st.seal("dydx", "mainnet", creds, pf, owner)
    key_id = out.get("key_id", "")
    t.check("seal dydx: key id", len(key_id) > 0, out)
    t.check("seal dydx: the address is the key's bech32 account", out.get("address") == OWNER, out)
    h = st.http()
    status, _, listed = h.request("GET", "/v1/keys")
    mine = [k for k in (listed or {}).get("keys", []) if k.get("key_id") == key_id]
    t.check("GET /v1/keys: the dydx1 address", status == 200 and len(mine) == 1
            and mine[0].get("address") == OWNER, (status, listed))

    def sign(req):
        return h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})

    # The known-answer vector through the service.
    status, _, body = sign(place())
    got = body.get("signed") if isinstance(body, dict) else None
    t.check("vector 1 through /v1/sign: 200", status == 200, (status, body))
    t.check("vector 1 through /v1/sign: TxRaw byte for byte",
            isinstance(got, dict) and got.get("tx_bytes") == VECTOR_TX, got)
    t.check("vector 1 through /v1/sign: txhash",
            isinstance(got, dict) and got.get("txhash") == VECTOR_TXHASH, got)
    t.check("vector 1: action order", isinstance(body, dict) and body.get("action") == "order",
            body)
    rc = body.get("receipt") if isinstance(body, dict) else None
    t.check("vector 1: allow receipt", isinstance(rc, dict) and rc.get("decision") == "allow", rc)

    # At the caps (1 BTC at 100000 USDC): signed as `sigil sign` signs it offline.
    req = place(quantums=10000000000, subticks=10000000000, client_id=42)
    status, _, body = sign(req)
    got = body.get("signed") if isinstance(body, dict) else None
    offline = json.loads(st.sign_offline("dydx", creds, req))
    t.check("order at max_qty and max_notional: 200", status == 200, (status, body))
    t.check("order at the caps equals offline `sigil sign`", got == offline, (got, offline))
    if isinstance(got, dict) and "tx_bytes" in got:
        raw = base64.b64decode(got["tx_bytes"])
        t.check("txhash is SHA-256 of the TxRaw",
                got.get("txhash") == hashlib.sha256(raw).hexdigest().upper(), got)
        t.check("TxRaw ends with a 64-byte signature field (1a 40)", raw[-66:-64] == b"\x1a\x40",
                raw[-66:].hex())

    # Caps in quantums and USDC.
    denials = [
        ("over max_qty", place(quantums=10000000001, subticks=1), "quantity 10000000001 over"),
        ("over max_notional", place(quantums=10000000000, subticks=10000000001),
         "notional 100000.00001 over max_notional 100000"),
        ("another clob pair", place(clob=1), "symbol 1 not allowed"),
    ]
    for name, req, reason in denials:
        status, _, body = sign(req)
        msg = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
        t.check(f"{name}: 422 policy_denied naming {reason!r}",
                status == 422 and err(body) == "policy_denied" and reason in msg, (status, body))
        t.check(f"{name}: no signature", not (isinstance(body, dict) and "signed" in body), body)

    status, _, body = sign(cancel())
    t.check("cancel on clob 0: 200, action cancel",
            status == 200 and body.get("action") == "cancel", (status, body))
    status, _, body = sign(cancel(clob=7))
    t.check("cancel on clob 7: 422 policy_denied", status == 422 and err(body) == "policy_denied",
            (status, body))

    # Freshness: request.timestamp is required and checked.
    status, _, body = sign(place(ts=now_ms() - 10 * 60 * 1000))
    t.check("stale timestamp: 422 stale_request", status == 422 and err(body) == "stale_request",
            (status, body))
    status, _, body = sign(place(ts=False))
    t.check("no timestamp: 400 bad_request", status == 400 and err(body) == "bad_request",
            (status, body))

    # The signer's strictness through the service: the other chain, a duplicate key.
    req = place()
    req["chain_id"] = "dydx-testnet-4"
    status, _, body = sign(req)
    t.check("testnet chain id on a mainnet key: refused (bad_field)",
            status in (400, 422) and err(body) == "bad_field", (status, body))
    text = json.dumps(place()).replace('"side": 1', '"side": 1, "side": 2')
    status, _, body = h.request("POST", "/v1/sign",
                                '{"key_id":' + json.dumps(key_id) + ',"request":' + text + "}")
    t.check("duplicate key in the order: 400 duplicate_key",
            status == 400 and err(body) == "duplicate_key", (status, body))

    st.stop()
    leaks = grep_tree(st.state_dirs(), [KEY[2:]])
    t.check("the private key appears in no file of the stack", not leaks, leaks)


if __name__ == "__main__":
    sys.exit(main())
