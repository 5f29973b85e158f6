"""Bitfinex v2 vectors (node:crypto, cross-checked with ccxt 4.5.84) through sigil."""
import json

from vector_adapters.common import eq, check_headers_exact
from run_vectors import Case

SKIPPED = {}


def _rest(v, creds):
    inp, exp = v["inputs"], v["expected"]
    # the vector's path is the signed one ("/api" + the path sent)
    assert inp["path"].startswith("/api/"), inp["path"]
    request = {"method": "POST", "path": inp["path"][len("/api"):], "body": inp["body"],
               "nonce": int(inp["nonce"])}

    def check(out):
        eq(out["method"], "POST", "method")
        eq(out["path"], request["path"], "path")
        eq(out["query"], "", "query")
        eq(out["body"], inp["body"], "body")
        eq(out["headers"]["bfx-signature"], exp["bfx-signature"], "bfx-signature")
        check_headers_exact(out, exp["headers"])
    return Case(v["name"], "bitfinex", creds, request, check)


def _ws(v, creds):
    inp, exp = v["inputs"], v["expected"]
    nonce = int(inp["authNonce"])
    want = {"apiKey": inp["apiKey"], "authSig": exp["authSig"], "authNonce": nonce,
            "authPayload": inp["authPayload"], "event": "auth"}
    text = lambda o: json.dumps(o, separators=(",", ":"))
    return Case(v["name"], "bitfinex", creds, {"event": "auth", "authNonce": nonce},
                lambda out: eq(text(out), text(want), "message"))


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp = v["inputs"]
        creds = {"api_key": inp["apiKey"], "secret": inp["secret"]}
        yield _ws(v, creds) if "authNonce" in inp else _rest(v, creds)
