"""KuCoin Futures vectors (node:crypto, cross-checked with ccxt 4.5.84) through
sigil, for both `kucoinfutures` and `kucoin` (spot): same scheme, other host."""
from vector_adapters.common import eq, check_headers_exact, check_url
from run_vectors import Case

VENUES = ("kucoinfutures", "kucoin")

# ccxt adds its broker (affiliate) headers to every private request; they are
# not part of the request signature and sigil sends none.
IGNORED_HEADERS = ("KC-API-PARTNER", "KC-API-PARTNER-SIGN", "KC-API-PARTNER-VERIFY")

SKIPPED = {
    "optional broker headers KC-API-PARTNER-SIGN":
        "broker headers are ccxt's affiliate tag, signed with a partner key; sigil sends none",
}


def _expected_headers(inp, exp):
    """Vectors without a header list: ccxt's headers for a request without a body."""
    if "headers" in exp:
        return exp["headers"]
    return {"KC-API-KEY-VERSION": exp["KC-API-KEY-VERSION"], "KC-API-KEY": inp["apiKey"],
            "KC-API-TIMESTAMP": str(inp["timestamp_ms"]),
            "KC-API-PASSPHRASE": exp["KC-API-PASSPHRASE"], "KC-API-SIGN": exp["KC-API-SIGN"]}


def _check(inp, exp, request):
    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        for h in ("KC-API-SIGN", "KC-API-PASSPHRASE", "KC-API-KEY-VERSION"):
            eq(out["headers"].get(h), exp[h], h)
        check_headers_exact(out, _expected_headers(inp, exp), IGNORED_HEADERS)
        if "url" in exp:
            check_url(out, exp["url"])
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        if v["name"] in SKIPPED:
            continue
        inp, exp = v["inputs"], v["expected"]
        creds = {"api_key": inp["apiKey"], "secret": inp["secret"],
                 "passphrase": inp["passphrase"]}
        path, _, query = inp["endpoint"].partition("?")
        request = {"method": inp["method"], "path": path, "query": query, "body": inp["body"],
                   "timestamp": inp["timestamp_ms"]}
        for venue in VENUES:
            yield Case(f"{v['name']} [{venue}]", venue, creds, request,
                       _check(inp, exp, request))
