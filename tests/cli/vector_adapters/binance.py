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


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = _creds(inp, vectors_dir)
        payload = inp["signature_payload"]
        if "query" in inp:  # mixed query + body
            query, body, method = inp["query"], inp["body"], "POST"
        elif "method" in inp:  # ccxt vectors: the whole payload is the body
            query, body, method = "", payload, inp["method"]
        elif "WebSocket" in v["name"]:
            # The WebSocket API signs raw UTF-8 values; a form body carries
            # them byte for byte (a query string must be percent-encoded).
            query, body, method = "", payload, "POST"
        else:  # sign the payload as a GET query string
            query, body, method = payload, "", "GET"
        ts = _timestamp_of(payload)
        # session.logon and WebSocket payloads are signed as given; a payload
        # without a timestamp cannot be a REST request, so sigil would append
        # one: those vectors are checked with the timestamp they carry.
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
