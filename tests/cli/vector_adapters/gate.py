"""Gate API v4 vectors (node:crypto, cross-checked with ccxt 4.5.84) through
sigil. request.path includes /api/v4 (sent and signed as is). The GET vector
gives only the pre-sign string: method, path and query are taken from it. The
timestamp is given in ms; a second run adds 999 ms, which must not change the
signed seconds."""
from vector_adapters.common import eq, check_headers_exact, check_url
from run_vectors import Case

SKIPPED = {}


def _check(request, exp, headers):
    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        eq(out["headers"].get("SIGN"), exp["SIGN"], "SIGN")
        check_headers_exact(out, headers)
        if "url" in exp:
            check_url(out, exp["url"])
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = {"api_key": inp["apiKey"], "secret": inp["secret"]}
        method, path, query, _body_hash, ts = inp["presign"].split("\n")
        body = inp.get("body", "")
        if "path" in inp:
            eq((method, path, query), (inp["method"], inp["path"], inp["query"]), "presign layout")
        eq(ts, inp["timestamp_s"], "presign timestamp")
        headers = exp.get("headers") or {
            "KEY": inp["apiKey"], "Timestamp": ts, "SIGN": exp["SIGN"],
            "Content-Type": "application/json"}
        for extra_ms in (0, 999):
            request = {"method": method, "path": path, "query": query, "body": body,
                       "timestamp": int(ts) * 1000 + extra_ms}
            yield Case(f"{v['name']} (+{extra_ms} ms)", "gate", creds, request,
                       _check(request, exp, headers))
