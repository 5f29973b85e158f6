"""Deribit vectors (node:crypto, cross-checked with ccxt 4.5.84) through sigil."""
import json

from vector_adapters.common import eq, check_headers_exact
from run_vectors import Case

SKIPPED = {}


def _http(v, creds):
    inp, exp = v["inputs"], v["expected"]
    path, _, query = inp["uri"].partition("?")
    request = {"method": inp["method"], "path": path, "query": query, "body": inp["body"],
               "timestamp": inp["timestamp_ms"], "nonce": inp["nonce"]}

    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        check_headers_exact(out, {"Authorization": exp["Authorization"]})
    return Case(v["name"], "deribit", creds, request, check)


def _rpc(v, creds):
    inp, exp = v["inputs"], v["expected"]
    want = exp["request"]
    params = {k: val for k, val in want["params"].items() if k not in ("signature", "client_id")}
    eq(params["timestamp"], inp["timestamp_ms"], "vector timestamp")
    eq(params["nonce"], inp["nonce"], "vector nonce")
    request = dict(want, params=params)
    # the whole message, byte for byte, in the vector's key order
    text = lambda o: json.dumps(o, separators=(",", ":"), ensure_ascii=False)
    check = lambda out: eq(text(out), text(want), "message")
    yield Case(v["name"], "deribit", creds, request, check)
    with_id = dict(request, params=dict(params, client_id=creds["api_key"]))
    yield Case(v["name"] + " (client_id given)", "deribit", creds, with_id, check)


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp = v["inputs"]
        creds = {"api_key": inp["client_id"], "secret": inp["client_secret"]}
        if "uri" in inp:
            yield _http(v, creds)
        else:
            yield from _rpc(v, creds)
