"""Coinbase Advanced Trade (CDP API key) JWT vectors through sigil.

Each vector gives the key name (credentials.api_key), the key (an ES256 SEC1
PEM, or an Ed25519 CDP secret: base64 of seed || public key), the clock
(request.timestamp = now_s * 1000), the "nonce" header (request.nonce; sigil
draws a random one when it is absent) and the uri claim ("METHOD host/path").
The expected JWT is compared byte for byte: EdDSA is deterministic, and sigil
signs ES256 with RFC 6979 nonces, as the vector (@noble/curves p256) does.
Each vector also runs with a query string, which must not change the JWT
(Coinbase's uri claim has no query)."""
from vector_adapters.common import eq, check_headers_exact
from run_vectors import Case

SKIPPED = {}

HOST = "api.coinbase.com"


def _request(inp, query=""):
    method, target = inp["jwt_claims"]["uri"].split(" ", 1)
    assert target.startswith(HOST + "/")
    return {"method": method, "path": target[len(HOST):], "query": query, "body": "",
            "timestamp": inp["now_s"] * 1000, "nonce": inp["jwt_header"]["nonce"]}


def _check(request, jwt):
    def check(out):
        for field in ("method", "path", "query", "body"):
            eq(out[field], request[field], field)
        check_headers_exact(out, {"Authorization": "Bearer " + jwt})
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]
        if "ec_private_key_sec1_pem" in inp:
            secret, jwt = inp["ec_private_key_sec1_pem"], exp["jwt_deterministic_rfc6979"]
        else:
            secret, jwt = inp["cdp_secret_base64"], exp["jwt"]
        assert jwt.startswith(inp["signing_input"] + ".")
        creds = {"api_key": inp["key_name"], "secret": secret}
        request = _request(inp)
        yield Case(v["name"], "coinbase", creds, request, _check(request, jwt))
        with_query = _request(inp, "limit=1&cursor=abc")
        yield Case(v["name"] + " (query not in uri)", "coinbase", creds, with_query,
                   _check(with_query, jwt))
