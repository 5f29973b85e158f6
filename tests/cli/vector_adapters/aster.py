"""Aster V3 vectors (ethers 6.17.0, ccxt 4.5.84) through sigil.

Sigil signs the query exactly as given and sends the signature as the last
query parameter (Aster takes it in the query or in a form body; the string is
the same). Each vector whose msg ends in `&nonce=N&signer=S` is checked twice:
as sent, and with those two parameters left for sigil to append (request.nonce
= N, signer = the key's EIP-55 address).
"""
import re
from urllib.parse import urlsplit

from vector_adapters.common import eq
from run_vectors import Case

NETWORKS = {1666: "mainnet", 714: "testnet"}
LEGACY = "LEGACY V3"

SKIPPED = {}


def _method_path(name):
    m = re.search(r"\b(GET|POST|PUT|DELETE) (/\S+)", name)
    assert m, f"no method/path in vector name {name!r}"
    return m.group(1), m.group(2)


def _check(want_query, method, path):
    def check(out):
        eq(out["query"], want_query, "query")
        eq(out["body"], "", "body")
        eq(out["headers"], {}, "headers")
        eq(out["method"], method, "method")
        eq(out["path"], path, "path")
    return check


def _order_cases(v, creds, method, path):
    inp, exp = v["inputs"], v["expected"]
    msg, sig = inp["msg"], exp["signature"]
    want = msg + "&signature=" + sig
    if "request" in exp:
        eq(urlsplit(exp["request"]).query, want, "vector self-check (request URL)")
    if "body" in exp:  # ccxt sends it as a form body: the same string
        eq(exp["body"], want, "vector self-check (ccxt body)")
    network = NETWORKS[inp["domain"]["chainId"]]
    request = {"method": method, "path": path, "query": msg}
    yield Case(v["name"] + " [as sent]", "aster", creds, request, _check(want, method, path),
               network)
    tail = re.search(r"&nonce=(\d+)&signer=(0x[0-9a-fA-F]{40})$", msg)
    if tail:
        request = {"method": method, "path": path, "query": msg[:tail.start()],
                   "nonce": int(tail.group(1))}
        yield Case(v["name"] + " [nonce+signer appended by sigil]", "aster", creds, request,
                   _check(want, method, path), network)


def _agent_cases(v, method, path):
    inp, exp = v["inputs"], v["expected"]
    creds = {"private_key": inp["user_private_key"]}
    want = inp["msg"] + "&signature=" + exp["signature"]
    request = {"method": method, "path": path, "query": inp["msg"]}
    # The domain's chainId is the message's signatureChainId (56), whatever
    # the network: both networks must give the same signature.
    for network in ("mainnet", "testnet"):
        yield Case(f"{v['name']} [{network}]", "aster", creds, request,
                   _check(want, method, path), network)


def _legacy_cases(v):
    SKIPPED[v["name"] + " [venue aster]"] = (
        "retired scheme (ABI-encode + keccak + EIP-191), removed from Aster's docs on "
        "2026-01-22; sigil implements only the current EIP-712 scheme")
    inp, exp = v["inputs"], v["expected"]

    def check(out, sig=exp["signature"]):
        eq(out["signature"], sig, "signature")

    # Its last step alone is personal_sign over the 32-byte keccak.
    yield Case(v["name"] + " [EIP-191 step only, venue eip191]", "eip191",
               {"private_key": inp["signer_private_key"]}, {"message_hex": exp["keccak"]}, check)


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        if v["name"].startswith(LEGACY):
            yield from _legacy_cases(v)
            continue
        method, path = _method_path(v["name"])
        if path.endswith("/registerAndApproveAgent"):
            yield from _agent_cases(v, method, path)
            continue
        creds = {"private_key": v["inputs"]["signer_private_key"]}
        yield from _order_cases(v, creds, method, path)
