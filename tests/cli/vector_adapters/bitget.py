"""Bitget V2 vectors (node:crypto, cross-checked with ccxt 4.5.84) through sigil.
The GET vector gives only the pre-sign string: path and query are taken from it
(the query has nothing to percent-encode, so sent and signed forms agree)."""
from vector_adapters.common import eq, check_headers_exact, check_url
from run_vectors import Case

SKIPPED = {}

# ccxt's broker (affiliate) header: not part of the signature; sigil sends none.
IGNORED_HEADERS = ("X-CHANNEL-API-CODE",)


def _check(request, exp, headers):
    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        eq(out["headers"].get("ACCESS-SIGN"), exp["ACCESS-SIGN"], "ACCESS-SIGN")
        check_headers_exact(out, headers, IGNORED_HEADERS)
        if "url" in exp:
            check_url(out, exp["url"])
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = {"api_key": inp["apiKey"], "secret": inp["secret"],
                 "passphrase": inp["passphrase"]}
        ts = str(inp["timestamp_ms"])
        if "requestPath" in inp:
            path, query, body = inp["requestPath"], "", inp["body"]
        else:
            target = inp["presign"][len(ts) + len(inp["method"]):]
            path, _, query = target.partition("?")
            body = ""
        eq(inp["presign"], ts + inp["method"] + path + ("?" + query if query else "") + body,
           "presign layout")
        request = {"method": inp["method"], "path": path, "query": query, "body": body,
                   "timestamp": inp["timestamp_ms"]}
        headers = exp.get("headers") or {
            "ACCESS-KEY": inp["apiKey"], "ACCESS-SIGN": exp["ACCESS-SIGN"],
            "ACCESS-TIMESTAMP": ts, "ACCESS-PASSPHRASE": inp["passphrase"]}
        yield Case(v["name"], "bitget", creds, request, _check(request, exp, headers))
        # demo trading: ccxt adds PAPTRADING: 1 after sign()'s own headers
        yield Case(v["name"] + " (testnet: demo trading)", "bitget", creds, request,
                   _check(request, exp, dict(headers, PAPTRADING="1")), network="testnet")
