#!/usr/bin/env python3
"""End to end: a Paradex (Stark) key through a live dev stack (issue 7, acceptance 4).

A paradex key sealed with `sigil seal` under a policy with caps in Paradex's
own units (size in the market's base asset, price in USD, as Paradex's REST
API writes them; Sigil scales both by 10^8 when signing). Through
POST /v1/sign: the onboarding vector of shared/vectors/venues/paradex.json
comes back byte for byte (its request.timestamp is not signed); orders,
modifications and a JWT request within the caps are signed exactly as
`sigil sign` signs them offline; orders over max_qty, over max_notional, a
MARKET order under max_notional (no price), another market, a stale
timestamp and an action the policy does not list are refused with the
documented codes, without a signature.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import grep_tree, now_ms, run_on_stack  # noqa: E402

KEY = "0x06c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46f"  # venues.md §8
ACCOUNT = "0x580a61734fbfec1df4b943762478e5d306c93a936a876f81fea8ae2f5fe6db"
# venues.md §8 "onboarding [prod]": its signature header and body.
ONBOARDING_SIG = ('["2460273973784780882616976701295435597998147110637886978379825436952386928678",'
                  '"643443631679744950747344994775174359175507677083208626666489127895647962378"]')
ONBOARDING_BODY = {"public_key": "0x5644ab931ae1b485173822d5da025f8699c86ebc37c6385005762a05151ab71"}


def policy():
    return {"version": 1, "tenant": "default", "venue": "paradex", "network": "mainnet",
            "actions": ["order", "modify", "auth", "other"],
            "not_after": int(now_ms() / 1000) + 86400,
            "symbols": {"ETH-USD-PERP": {"max_qty": "0.5", "max_notional": "1000",
                                         "size_decimals": 4},
                        "BTC-USD-PERP": {"max_qty": "0.01", "sides": ["buy"]}}}


def order(size="0.1", price="1500", market="ETH-USD-PERP", side="BUY", typ="LIMIT", ts=None,
          modify=False):
    req = {"message": "modify_order" if modify else "order", "account": ACCOUNT,
           "signature_timestamp": ts if ts is not None else now_ms(), "market": market,
           "side": side, "type": typ, "size": size}
    if price is not None:
        req["price"] = price
    if modify:
        req["id"] = "1681462103821101699438490000"
    return req


def main():
    return run_on_stack(run)


def err(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def run(st, t):
    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("paradex.json", {"private_key": KEY})
    pf = st.write("policy-paradex.json", policy())
    out = st.seal("paradex", "mainnet", creds, pf, owner)
    key_id = out.get("key_id", "")
    t.check("seal paradex: key id", len(key_id) > 0, out)
    # venues.md §8: the Stark public key of KEY (the account address needs the class hashes)
    t.check("seal paradex: the address is the Stark public key",
            out.get("address") == "0x5644ab931ae1b485173822d5da025f8699c86ebc37c6385005762a05151ab71",
            out)
    h = st.http()

    def sign(req):
        return h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})

    # The onboarding vector through the service (the timestamp is for freshness only).
    status, _, body = sign({"message": "onboarding", "account": ACCOUNT, "timestamp": now_ms()})
    got = body.get("signed") if isinstance(body, dict) else None
    t.check("onboarding vector through /v1/sign: 200", status == 200, (status, body))
    t.check("onboarding vector: signature header byte for byte",
            isinstance(got, dict) and
            got.get("headers", {}).get("PARADEX-STARKNET-SIGNATURE") == ONBOARDING_SIG, got)
    t.check("onboarding vector: body carries the Stark public key",
            isinstance(got, dict) and json.loads(got.get("body", "{}")) == ONBOARDING_BODY, got)
    t.check("onboarding: action other", isinstance(body, dict) and body.get("action") == "other",
            body)
    rc = body.get("receipt") if isinstance(body, dict) else None
    t.check("onboarding: allow receipt", isinstance(rc, dict) and rc.get("decision") == "allow", rc)

    # Within the caps: what `sigil sign` prints offline, for each message.
    auth_ts = now_ms() // 1000
    allowed = [
        ("limit order 0.1 @ 1500", order(), "order"),
        ("order at max_qty and max_notional (0.5 @ 2000)", order(size="0.5", price="2000"), "order"),
        ("STOP_LIMIT order", order(size="0.25", price="4000", typ="STOP_LIMIT"), "order"),
        ("MARKET buy on a market without max_notional",
         order(market="BTC-USD-PERP", size="0.01", price=None, typ="MARKET"), "order"),
        ("modify_order within the caps", order(size="0.2", price="1600", modify=True), "modify"),
        ("auth (JWT request)", {"message": "auth", "account": ACCOUNT, "timestamp": auth_ts,
                                "expiration": auth_ts + 300}, "auth"),
    ]
    for name, req, action in allowed:
        status, _, body = sign(req)
        got = body.get("signed") if isinstance(body, dict) else None
        offline = json.loads(st.sign_offline("paradex", creds, req))
        t.check(f"{name}: 200, action {action}",
                status == 200 and isinstance(body, dict) and body.get("action") == action,
                (status, body))
        t.check(f"{name}: equals offline `sigil sign`", got == offline, (got, offline))
    if isinstance(got, dict):
        hdr = got.get("headers", {})
        t.check("auth: PARADEX-TIMESTAMP / -SIGNATURE-EXPIRATION in seconds",
                hdr.get("PARADEX-TIMESTAMP") == str(auth_ts) and
                hdr.get("PARADEX-SIGNATURE-EXPIRATION") == str(auth_ts + 300), hdr)

    # Caps in Paradex's units; refusals carry no signature.
    denials = [
        ("over max_qty", order(size="0.6", price="100"), "quantity 0.6 over max_qty 0.5"),
        ("over max_notional", order(size="0.5", price="2001"), "max_notional"),
        ("MARKET order under max_notional (no price)", order(price=None, typ="MARKET"), "price"),
        ("more size decimals than size_decimals", order(size="0.12345"), "decimals"),
        ("another market", order(market="SOL-USD-PERP"), "SOL-USD-PERP"),
        ("sell on a buy-only market",
         order(market="BTC-USD-PERP", side="SELL", size="0.01", price="50000"), "side"),
        ("modify over max_qty", order(size="0.6", price="1", modify=True), "max_qty"),
    ]
    for name, req, reason in denials:
        status, _, body = sign(req)
        msg = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
        t.check(f"{name}: 422 policy_denied naming {reason!r}",
                status == 422 and err(body) == "policy_denied" and reason in msg, (status, body))
        t.check(f"{name}: no signature", not (isinstance(body, dict) and "signed" in body), body)

    # Freshness: the signed timestamp (ms for orders, s for auth) is checked.
    status, _, body = sign(order(ts=now_ms() - 10 * 60 * 1000))
    t.check("stale order timestamp: 422 stale_request",
            status == 422 and err(body) == "stale_request", (status, body))
    stale_s = now_ms() // 1000 - 600
    status, _, body = sign({"message": "auth", "account": ACCOUNT, "timestamp": stale_s,
                            "expiration": stale_s + 300})
    t.check("stale auth timestamp: 422 stale_request",
            status == 422 and err(body) == "stale_request", (status, body))

    # The signer's strictness through the service.
    req = order()
    req["size"] = "0.123456789"
    status, _, body = sign(req)
    t.check("size with 9 decimals: refused", status in (400, 422) and body.get("error"),
            (status, body))
    req = order()
    req["side"] = "buy"
    status, _, body = sign(req)
    t.check("side must be BUY or SELL: 400 bad_field",
            status == 400 and err(body) == "bad_field", (status, body))

    st.stop()
    leaks = grep_tree(st.state_dirs(), [KEY[4:]])
    t.check("the private key appears in no file of the stack", not leaks, leaks)


if __name__ == "__main__":
    sys.exit(main())
