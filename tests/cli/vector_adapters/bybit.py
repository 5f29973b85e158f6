"""Bybit V5 vectors (node:crypto, cross-checked with ccxt 4.5.84) through sigil."""
from vector_adapters.common import eq, check_headers_exact, check_url
from run_vectors import Case

# ccxt tags every POST with its broker id ("Referer: CCXT"). It is not part of
# the signature and sigil does not send it.
IGNORED_HEADERS = ("Referer",)

SKIPPED = {}


def _check(exp, request):
    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        eq(out["headers"].get("X-BAPI-SIGN"), exp["X-BAPI-SIGN"], "X-BAPI-SIGN")
        check_headers_exact(out, exp["headers"], IGNORED_HEADERS)
        if "url" in exp:
            check_url(out, exp["url"])
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = {"api_key": inp["apiKey"], "secret": inp["secret"]}
        if "expires_ms" in inp:  # private WebSocket auth: the whole message
            yield Case(v["name"], "bybit", creds, {"op": "auth", "expires": inp["expires_ms"]},
                       lambda out, exp=exp: eq(out, exp["message"], "message"))
            continue
        request = {"method": inp["method"], "path": inp["path"],
                   "query": inp.get("query_string", ""), "body": inp.get("body", ""),
                   "timestamp": inp["timestamp_ms"]}
        explicit = dict(request, recv_window=inp["recv_window"])
        yield Case(v["name"], "bybit", creds, explicit, _check(exp, request))
        if inp["recv_window"] == 5000:  # Bybit's default: sigil must use it when none is given
            yield Case(v["name"] + " (default recv_window)", "bybit", creds, request,
                       _check(exp, request))
