"""OKX V5 vectors (node:crypto, cross-checked with ccxt 4.5.84) through sigil.

The vectors give the ISO-8601 timestamp; the request carries Unix ms, converted
here with the standard library, so sigil's own conversion is checked too."""
import calendar
from datetime import datetime

from vector_adapters.common import eq, check_headers_exact, check_url
from run_vectors import Case

SKIPPED = {}


def _ms(iso):
    dt = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return calendar.timegm(dt.timetuple()) * 1000 + dt.microsecond // 1000


def _check(exp, request, headers):
    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        eq(out["headers"].get("OK-ACCESS-SIGN"), exp["OK-ACCESS-SIGN"], "OK-ACCESS-SIGN")
        check_headers_exact(out, headers)
        if "url" in exp:
            check_url(out, exp["url"])
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = {"api_key": inp["apiKey"], "secret": inp["secret"],
                 "passphrase": inp["passphrase"]}
        if "timestamp_seconds" in inp:  # WebSocket login: the whole message
            request = {"op": "login", "timestamp": int(inp["timestamp_seconds"])}
            yield Case(v["name"], "okx", creds, request,
                       lambda out, exp=exp: eq(out, exp["message"], "message"))
            continue
        path, _, query = inp["requestPath"].partition("?")
        request = {"method": inp["method"], "path": path, "query": query, "body": inp["body"],
                   "timestamp": _ms(inp["timestamp"])}
        yield Case(v["name"], "okx", creds, request, _check(exp, request, exp["headers"]))
        if "demo_trading_extra_header" in exp:
            # ccxt puts its default headers (the demo flag) before sign()'s.
            demo = dict(exp["demo_trading_extra_header"], **exp["headers"])
            yield Case(v["name"] + " (testnet: demo trading)", "okx", creds, request,
                       _check(exp, request, demo), network="testnet")
