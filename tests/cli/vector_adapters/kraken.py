"""Kraken spot vectors (Kraken's docs example, reproduced by ccxt 4.5.84) through
sigil. The secret is given base64 as Kraken shows it; sigil decodes it. The
vector's nonce is request.timestamp; each vector runs twice: with the nonce in
the body (checked against the timestamp) and without it (sigil inserts it first,
where Kraken's docs and ccxt put it), both giving the vector's body and sign."""
from vector_adapters.common import eq, check_headers_exact
from run_vectors import Case

SKIPPED = {}

API_KEY = "kraken-test-api-key"  # the vector has none; API-Key is not signed


def _check(request, body, exp):
    def check(out):
        for field in ("method", "path", "query"):
            eq(out[field], request[field], field)
        eq(out["body"], body, "body")
        check_headers_exact(out, {"API-Key": API_KEY, "API-Sign": exp["API-Sign"],
                                  "Content-Type": "application/x-www-form-urlencoded"})
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        creds = {"api_key": API_KEY, "secret": inp["secret_base64"]}
        body = inp["postdata"]
        request = {"method": "POST", "path": inp["uri_path"], "query": "", "body": body,
                   "timestamp": int(inp["nonce"])}
        yield Case(v["name"], "kraken", creds, request, _check(request, body, exp))
        prefix = "nonce=" + inp["nonce"] + "&"
        assert body.startswith(prefix)
        bare = dict(request, body=body[len(prefix):])
        yield Case(v["name"] + " (nonce inserted by sigil)", "kraken", creds, bare,
                   _check(request, body, exp))
