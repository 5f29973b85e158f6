"""Binance vectors (official docs, ccxt 4.5.84, node:crypto) through sigil."""
import os

from vector_adapters.common import eq, check_headers
from run_vectors import Case

TS = 1700000000000

SKIPPED = {}


def _creds(inputs, vectors_dir):
    if "private_key_pem_file" in inputs:
        with open(os.path.join(vectors_dir, inputs["private_key_pem_file"])) as f:
            return {"api_key": "test-rsa-key", "secret": f.read(), "key_type": "rsa"}
    if "private_key_pem" in inputs:
        return {"api_key": "test-ed25519-key", "secret": inputs["private_key_pem"],
                "key_type": "ed25519"}
    return {"api_key": inputs.get("apiKey", "test-key"), "secret": inputs["secret"]}


def _timestamp_of(payload):
    for part in payload.split("&"):
        if part.startswith("timestamp="):
            return int(part[len("timestamp="):])
    return None


def _ws_params(payload):
    """The WebSocket API payload's params (raw UTF-8 k=v, sorted by name);
    timestamp and recvWindow as JSON numbers, as Binance's examples send them."""
    params = {}
    for part in payload.split("&"):
        k, _, val = part.partition("=")
        params[k] = int(val) if k in ("timestamp", "recvWindow") else val
    return params


def _ws_cases(v, creds):
    """A WebSocket API request: the message itself, {"id","method","params"};
    sigil returns it with params.signature (and apiKey/timestamp) filled in."""
    exp = v["expected"]
    params = _ws_params(v["inputs"]["signature_payload"])
    creds = dict(creds, api_key=params["apiKey"])
    sig = exp.get("signature") or exp["signature_base64"]
    method = "session.logon" if "session.logon" in v["name"] else "order.place"

    def check(out, full=dict(params, signature=sig)):
        eq(out["id"], "vec-1", "id")
        eq(out["method"], method, "method")
        eq(out["params"]["signature"], sig, "params.signature")
        eq(out["params"], full, "params")

    yield Case(v["name"], "binance", creds, {"id": "vec-1", "method": method, "params": params},
               check)
    # apiKey from the credentials and timestamp from request.timestamp
    bare = {k: val for k, val in params.items() if k not in ("apiKey", "timestamp")}
    yield Case(v["name"] + " (apiKey and timestamp added by sigil)", "binance", creds,
               {"id": "vec-1", "method": method, "params": bare,
                "timestamp": params["timestamp"]}, check)


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = _creds(inp, vectors_dir)
        payload = inp["signature_payload"]
        if "WebSocket" in v["name"]:
            yield from _ws_cases(v, creds)
            continue
        if "query" in inp:  # mixed query + body
            query, body, method = inp["query"], inp["body"], "POST"
        elif "method" in inp:  # ccxt vectors: the whole payload is the body
            query, body, method = "", payload, inp["method"]
        else:  # sign the payload as a GET query string
            query, body, method = payload, "", "GET"
        ts = _timestamp_of(payload)
        # a payload without a timestamp cannot be a REST request (sigil would
        # append one): those vectors are checked with the timestamp they carry.
        sig = exp.get("signature") or exp.get("signature_urlencoded")
        request = {"method": method, "path": "/api/v3/order", "query": query, "body": body,
                   "timestamp": ts}

        def check(out, query=query, body=body, sig=sig, exp=exp, creds=creds):
            target = "body" if body else "query"
            base = body if body else query
            eq(out[target], base + "&signature=" + sig, target)
            eq(out["query" if body else "body"], query if body else "", "other part")
            if "body" in exp:
                eq(out["body"], exp["body"], "body")
            eq(out["headers"]["X-MBX-APIKEY"], creds["api_key"], "X-MBX-APIKEY")
            if "headers" in exp:
                check_headers(out, exp["headers"])

        if ts is None:
            SKIPPED[v["name"]] = "payload has no timestamp (signed as-is by the WebSocket API)"
            continue
        yield Case(v["name"], "binance", creds, request, check)
