"""Paradex vectors (starknet.js 7.1.0 == 8.9.2 == ccxt 4.5.84) through sigil.

Each typed-data vector becomes the sigil request for its message (docs/CLI.md
"Paradex"): the order fields in Paradex's REST terms (sizes and prices as
decimals, which sigil scales by 10^8), auth's timestamp and expiration, or
onboarding. The output's signature text, message hash and headers must equal
the vector's; the order's decimal size and price, unscaled here, must scale
back to the vector's integers. The key-derivation vector runs as
`account_info` with its Stark key: public key and account address (the
grinding of the wallet's signature into that key is provisioning, checked in
tests/unit/test_paradex.c).
"""
from decimal import Decimal

from vector_adapters.common import eq
from run_vectors import Case

NETWORKS = {"PRIVATE_SN_PARACLEAR_MAINNET": "mainnet", "PRIVATE_SN_POTC_SEPOLIA": "testnet"}
SIDES = {"1": "BUY", "2": "SELL"}

SKIPPED = {}


def _unscale(v):
    d = Decimal(v).scaleb(-8).normalize()
    text = format(d, "f")
    assert Decimal(text).scaleb(8) == Decimal(v), f"unscale {v}"
    return text


def _key(hexkey):
    return "0x" + hexkey[2:].rjust(64, "0")


def _order_request(msg, account, primary, rest):
    req = {"message": "order" if primary == "Order" else "modify_order", "account": account,
           "signature_timestamp": int(msg["timestamp"]), "market": msg["market"],
           "side": SIDES[msg["side"]], "type": msg["orderType"],
           "size": rest["size"] if rest else _unscale(msg["size"])}
    if rest:
        eq(str(Decimal(rest["size"]).scaleb(8).normalize()),
           str(Decimal(msg["size"]).normalize()), "vector self-check (size scaling)")
    if "MARKET" not in msg["orderType"]:
        req["price"] = rest["price"] if rest else _unscale(msg["price"])
    else:
        eq(msg["price"], "0", "vector self-check (market price)")
    if primary == "ModifyOrder":
        req["id"] = msg["id"]
    return req


def _request(inp):
    td = inp["typed_data"]
    primary, msg, account = td["primaryType"], td["message"], inp["account_address"]
    if primary in ("Order", "ModifyOrder"):
        return _order_request(msg, account, primary, inp.get("rest_body_fields"))
    if primary == "Request":
        eq((msg["method"], msg["path"], msg["body"]), ("POST", "/v1/auth", ""),
           "vector self-check (auth request)")
        return {"message": "auth", "account": account, "timestamp": msg["timestamp"],
                "expiration": msg["expiration"]}
    if primary == "Constant":
        eq(msg["action"], "Onboarding", "vector self-check (onboarding)")
        return {"message": "onboarding", "account": account}
    raise AssertionError(f"unknown primaryType {primary}")


def _check(inp, exp, primary):
    sig = exp["signature_header_value"]

    def check(out):
        eq(int(out["message_hash"], 16), int(exp["message_hash"], 16), "message_hash")
        if primary in ("Order", "ModifyOrder"):
            eq(out["signature"], sig, "signature")
            rest = inp.get("rest_body_fields")
            if rest:
                for k in ("market", "side", "type", "size", "price", "signature_timestamp"):
                    eq(out[k], rest[k], k)
            return
        headers = out["headers"]
        eq(headers["PARADEX-STARKNET-SIGNATURE"], sig, "PARADEX-STARKNET-SIGNATURE")
        eq(headers["PARADEX-STARKNET-ACCOUNT"], inp["account_address"], "account header")
        http = inp["http"]
        eq((out["method"], out["path"]), (http["method"], http["path"]), "endpoint")
        if isinstance(http["headers"], dict):
            for k, v in http["headers"].items():
                if k != "PARADEX-STARKNET-SIGNATURE":
                    eq(headers[k], v, k)
        if "body" in http:
            import json
            eq(json.loads(out["body"]), http["body"], "body")
    return check


def _derivation_case(v):
    inp, exp = v["inputs"], v["expected"]
    req = {"message": "account_info",
           "paraclear_account_hash": inp["paraclear_account_hash"],
           "paraclear_account_proxy_hash": inp["paraclear_account_proxy_hash"]}

    def check(out):
        eq(out, {"public_key": exp["stark_public_key"], "account": exp["account_address"]},
           "account_info")
    return Case(v["name"] + " [account_info with its Stark key]", "paradex",
                {"private_key": _key(exp["stark_private_key"])}, req, check)


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        if v["name"] in SKIPPED:
            continue
        if "typed_data" not in v["inputs"]:
            yield _derivation_case(v)
            continue
        inp, exp = v["inputs"], v["expected"]
        td = inp["typed_data"]
        network = NETWORKS[td["domain"]["chainId"]]
        creds = {"private_key": _key(inp["stark_private_key"])}
        yield Case(v["name"], "paradex", creds, _request(inp),
                   _check(inp, exp, td["primaryType"]), network)
