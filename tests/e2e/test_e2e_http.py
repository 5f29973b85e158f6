#!/usr/bin/env python3
"""End to end: the gateway's HTTP surface (docs/API.md) against a live dev stack.

Acceptance: "HTTP bad input: a table of >= 25 requests (oversize 413, bad JSON
400, duplicate keys 400, missing/unknown token 401, another tenant's key 404,
unknown venue 400, ...) each with its typed error."

Part 1 is that table: each row is (name, method, path, headers, body bytes,
token choice, expected status, expected error code). Every error response must
be exactly {"error":{"code","message"}} (a policy deny may add "receipt") with
the row's code and a non-empty message, served as application/json, and must
never echo a bearer token; the Allow header belongs to 405 responses only.

Part 2 checks the behaviour of the routes: /healthz, /readyz, /v1/attestation
(fields, Cache-Control: no-store, the COSE document decoded independently here:
nonce, PCR0 and boot binding), the boot archive, per-tenant key listing,
delete then sign, Idempotency-Key (replay identical and audited once, another
body 409, no cross-tenant replay), the attestation rate limit, /metrics, an
over-limit chunked body, and (second stack, --rate 5 --burst 5) the per-token
API rate limit: 429 rate_limited with Retry-After.
"""
import base64
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import Checks, TempStack, bin_dir_arg, box_seal, now_ms, payload  # noqa: E402
import cbor_min  # noqa: E402

BINANCE = {"api_key": "e2eHttpApiKey0123456789abcdefABCDEF0123456789abcdefABCDEF012345",
           "secret": "e2eHttpSecret0123456789abcdefABCDEF0123456789abcdefABCDEF01234"}
OWNER_SEED = bytes(range(100, 132))
BODY_LIMIT = 65536  # the gateway's default --body-limit


# ---- small helpers -------------------------------------------------------------
def j(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def policy(tenant="default", actions=("order", "cancel", "read")):
    return {"version": 1, "tenant": tenant, "venue": "binance", "network": "mainnet",
            "actions": list(actions), "not_after": int(time.time()) + 86400}


def read_req(ts=None):
    """A Binance request the test policy allows (signed query: classed as cancel)."""
    return {"method": "GET", "path": "/api/v3/openOrders", "query": "symbol=BTCUSDT",
            "timestamp": ts if ts is not None else now_ms()}


def order_req(ts):
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            "timestamp": ts}


class Raw:
    """HTTP/1.1 with full control of the headers (repeated, absent Content-Type)."""

    def __init__(self, url):
        import urllib.parse
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def send(self, method, path, headers=(), body=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                c = self.conn
                c.putrequest(method, path, skip_accept_encoding=True)
                for k, v in headers:
                    c.putheader(k, v)
                if body is not None:
                    c.putheader("Content-Length", str(len(body)))
                c.endheaders()
                if body:
                    c.send(body)
                r = c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, r.getheaders(), data
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 1:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def header(headers, name):
    vals = [v for k, v in headers if k.lower() == name.lower()]
    return vals[0] if vals else None


def error_shape(status, headers, data):
    """None when data is a well-formed error body, else what is wrong."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return f"not JSON: {data[:120]!r}"
    if not isinstance(doc, dict) or "error" not in doc:
        return f"no error member: {doc}"
    extra = set(doc) - {"error", "receipt"}
    if extra:
        return f"unexpected members {sorted(extra)}"
    # The enclave's refusals of a request it could read carry its receipt.
    if "receipt" in doc and not (status in (400, 403, 409, 422) and isinstance(doc["receipt"], dict)
                                 and doc["receipt"].get("decision") == "deny"):
        return f"unexpected receipt with status {status}: {doc['receipt']}"
    err = doc["error"]
    if not isinstance(err, dict) or set(err) != {"code", "message"}:
        return f"error must be exactly {{code, message}}: {err}"
    if not isinstance(err["message"], str) or not err["message"].strip():
        return f"empty message: {err}"
    ct = (header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    if ct != "application/json":
        return f"Content-Type {ct!r}"
    return None


# An independent CBOR reader for attestation documents (tests/e2e/cbor_min.py).
cbor = cbor_min.decode


def decode_document(b64):
    """(payload map, boot binding map) of a base64 COSE_Sign1 document."""
    raw = base64.b64decode(b64, validate=True)
    env, end = cbor(raw)
    if end != len(raw) or not isinstance(env, list) or len(env) != 4:
        raise ValueError("not a COSE_Sign1 4-array")
    doc, _ = cbor(env[2])
    binding = cbor(doc["user_data"])[0] if doc.get("user_data") else None
    return doc, binding


def audit_count(st, op="sign"):
    return st.store_query("SELECT COUNT(*) FROM audit WHERE op = ?", (op,))[0][0]


def metric(text, name_and_labels):
    """The value of one sample line of Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.split()[-1])
    return None


def add_token(st, tenant):
    out = st.sigil("admin", *st.store.cli_args(), "token", "add", tenant).stdout.decode().strip()
    doc = json.loads(out)
    return doc["id"], doc["token"]


# ---- main ----------------------------------------------------------------------
def main():
    bin_dir = bin_dir_arg()
    t = Checks()
    st = TempStack(bin_dir)
    try:
        st.start()
        run(st, t)
    finally:
        st.cleanup()
    rl = TempStack(bin_dir, gateway_args=["--rate", "5", "--burst", "5"])
    try:
        rl.start()
        run_rate_limit(rl, t)
    finally:
        rl.cleanup()
    return t.done()


def setup(st):
    """Two tenants, three keys, and every kind of token the table needs."""
    env = {}
    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("binance.json", BINANCE)
    pf = st.write("policy.json", policy())
    env["key_a"] = st.seal("binance", "mainnet", creds, pf, owner)["key_id"]
    env["key_a_deleted"] = st.seal("binance", "mainnet", creds, pf, owner)["key_id"]

    st.sigil("admin", *st.store.cli_args(), "tenant", "add", "other")
    _, env["token_b"] = add_token(st, "other")
    _, env["token_att"] = add_token(st, "default")  # its own attestation rate bucket
    revoked_id, env["token_revoked"] = add_token(st, "default")
    st.sigil("admin", *st.store.cli_args(), "token", "revoke", revoked_id)

    h = st.http()
    status, _, att = h.request("GET", "/v1/attestation?nonce=" + "5a" * 32)
    if status != 200:
        raise RuntimeError(f"attestation: {status} {att}")
    env["sealing_pk"] = bytes.fromhex(att["sealing_key"])
    # Tenant "other" imports its own key through the raw API.
    raw = payload("other", "binance", "mainnet", "hmac", BINANCE, policy("other"), OWNER_SEED)
    sealed = base64.b64encode(box_seal(env["sealing_pk"], raw)).decode()
    status, _, body = h.request("POST", "/v1/keys", {"sealed": sealed}, token=env["token_b"])
    if status != 201:
        raise RuntimeError(f"import for tenant other: {status} {body}")
    env["key_b"] = body["key_id"]
    status, _, body = h.request("DELETE", f"/v1/keys/{env['key_a_deleted']}")
    env["delete_status"] = (status, body)
    return env


def sealed_body(env, doc_bytes):
    return j({"sealed": base64.b64encode(box_seal(env["sealing_pk"], doc_bytes)).decode()})


def payload_variant(env, **changes):
    """A provisioning payload for tenant default with some members changed."""
    pol = policy()
    doc = json.loads(payload("default", "binance", "mainnet", "hmac", BINANCE, pol, OWNER_SEED))
    for k, v in changes.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    return sealed_body(env, j(doc))


def table(st, env):
    """(name, method, path, headers, body, token, status, code); code None = success.
    A status may be a tuple of acceptable (status, code) pairs."""
    ka, kb, kd = env["key_a"], env["key_b"], env["key_a_deleted"]
    ts = now_ms()
    ok = {"key_id": ka, "request": read_req(ts)}
    ok_text = j(ok).decode()
    ct = [("Content-Type", "application/json")]
    S = "/v1/sign"
    deep = '{"key_id":"%s","request":{"a":%s1%s}}' % (ka, "[" * 40, "]" * 40)
    rows = [
        # -- size and JSON syntax --
        ("oversize body (> --body-limit)", "POST", S, ct,
         b'{"key_id":"' + b"x" * (BODY_LIMIT + 10) + b'"}', "a", 413, "too_large"),
        ("empty body", "POST", S, ct, b"", "a", 400, "bad_json"),
        ("non-JSON body", "POST", S, ct, b"hello", "a", 400, "bad_json"),
        ("truncated JSON", "POST", S, ct, ok_text[:-7].encode(), "a", 400, "bad_json"),
        ("trailing garbage after the object", "POST", S, ct, (ok_text + " x").encode(), "a",
         400, "bad_json"),
        ("two JSON objects", "POST", S, ct, (ok_text + ok_text).encode(), "a", 400, "bad_json"),
        ("top-level array", "POST", S, ct, j([ok]), "a", 400, "bad_field"),
        ("top-level string", "POST", S, ct, b'"key_id"', "a",
         ((400, "bad_json"), (400, "bad_field")), None),
        ("invalid UTF-8 in a string", "POST", S, ct,
         b'{"key_id":"' + ka.encode() + b'","request":{"path":"\xff\xfe"}}', "a", 400, "bad_json"),
        ("lone surrogate escape", "POST", S, ct,
         ('{"key_id":"%s","request":{"path":"\\ud800"}}' % ka).encode(), "a", 400, "bad_json"),
        ("nesting deeper than 32", "POST", S, ct, deep.encode(), "a",
         ((400, "bad_json"), (413, "too_large")), None),
        # -- body schema --
        ("duplicate key_id", "POST", S, ct,
         ('{"key_id":"%s","key_id":"%s","request":%s}'
          % (ka, kb, j(read_req(ts)).decode())).encode(),
         "a", 400, "duplicate_key"),
        ("duplicate key after unescaping (key\\u005fid)", "POST", S, ct,
         ('{"key_id":"%s","key\\u005fid":"%s","request":{}}' % (ka, ka)).encode(), "a",
         400, "duplicate_key"),
        ("duplicate key inside request", "POST", S, ct,
         ('{"key_id":"%s","request":{"method":"GET","method":"DELETE","path":"/api/v3/order",'
          '"timestamp":%d}}' % (ka, ts)).encode(), "a", 400, "duplicate_key"),
        ("missing key_id", "POST", S, ct, j({"request": read_req(ts)}), "a", 400, "missing_field"),
        ("missing request", "POST", S, ct, j({"key_id": ka}), "a", 400, "missing_field"),
        ("unknown field", "POST", S, ct, j(dict(ok, extra=1)), "a", 400, "unknown_field"),
        ("key_id of wrong type (number)", "POST", S, ct, j({"key_id": 7, "request": read_req(ts)}),
         "a", 400, "bad_field"),
        ("key_id too long", "POST", S, ct, j({"key_id": "k" * 200, "request": read_req(ts)}),
         "a", 400, "bad_field"),
        ("key_id with a '/'", "POST", S, ct, j({"key_id": "a/b", "request": read_req(ts)}),
         "a", 400, "bad_field"),
        ("key_id with an escape", "POST", S, ct,
         ('{"key_id":"%s\\u0030","request":{}}' % ka[:-1]).encode(), "a", 400, "bad_field"),
        ("request not an object (string)", "POST", S, ct, j({"key_id": ka, "request": "GET /"}),
         "a", 400, "bad_field"),
        ("request null", "POST", S, ct, j({"key_id": ka, "request": None}), "a",
         ((400, "bad_field"), (400, "missing_field")), None),
        # -- Content-Type (API.md: absent or application/json[; charset=utf-8]) --
        ("Content-Type text/plain", "POST", S, [("Content-Type", "text/plain")], j(ok), "a",
         400, "bad_request"),
        ("Content-Type with another charset", "POST", S,
         [("Content-Type", "application/json; charset=latin1")], j(ok), "a", 400, "bad_request"),
        ("Content-Type given twice", "POST", S, ct + ct, j(ok), "a", 400, "bad_request"),
        ("Content-Type absent is accepted (documented)", "POST", S, [], j(ok), "a", 200, None),
        ("Content-Type with charset=utf-8 is accepted", "POST", S,
         [("Content-Type", "application/json; charset=utf-8")], j(ok), "a", 200, None),
        # -- authentication --
        ("missing token", "POST", S, ct, j(ok), None, 401, "unauthorized"),
        ("malformed token", "POST", S, ct, j(ok), "malformed", 401, "unauthorized"),
        ("unknown token", "POST", S, ct, j(ok), "unknown", 401, "unauthorized"),
        ("known token id, wrong secret", "POST", S, ct, j(ok), "wrong_secret", 401,
         "unauthorized"),
        ("revoked token", "POST", S, ct, j(ok), "revoked", 401, "unauthorized"),
        ("Basic instead of Bearer", "POST", S, ct + [("Authorization", "Basic dXNlcjpwYXNz")],
         j(ok), None, 401, "unauthorized"),
        ("two Authorization headers", "POST", S, ct + [("Authorization", "Bearer " + st.token)],
         j(ok), "a", 401, "unauthorized"),
        ("revoked token on GET /v1/keys", "GET", "/v1/keys", [], None, "revoked", 401,
         "unauthorized"),
        # -- keys and tenants --
        ("another tenant's key_id", "POST", S, ct, j(ok), "b", 404, "not_found"),
        ("deleted key", "POST", S, ct, j({"key_id": kd, "request": read_req(ts)}), "a",
         404, "not_found"),
        ("unknown key_id", "POST", S, ct, j({"key_id": "0" * 32, "request": read_req(ts)}), "a",
         404, "not_found"),
        ("DELETE another tenant's key", "DELETE", f"/v1/keys/{ka}", [], None, "b", 404,
         "not_found"),
        ("DELETE an already deleted key", "DELETE", f"/v1/keys/{kd}", [], None, "a", 404,
         "not_found"),
        ("DELETE an unknown key", "DELETE", "/v1/keys/" + "f" * 32, [], None, "a", 404,
         "not_found"),
        ("GET /v1/keys with a body", "GET", "/v1/keys", ct, b"{}", "a", 400, "bad_request"),
        ("GET /v1/keys with a query parameter", "GET", "/v1/keys?tenant=other", [], None, "a",
         400, "bad_request"),
        # -- routing --
        ("unknown route", "GET", "/v1/nope", [], None, "a", 404, "not_found"),
        ("unknown route without a token", "GET", "/admin", [], None, None, 404, "not_found"),
        ("trailing slash", "GET", "/v1/keys/", [], None, "a", 404, "not_found"),
        ("wrong method on /v1/sign", "PUT", S, ct, j(ok), "a", 405, "bad_request"),
        ("wrong method on /v1/keys", "DELETE", "/v1/keys", [], None, "a", 405, "bad_request"),
        ("wrong method on /healthz", "POST", "/healthz", ct, b"{}", None, 405, "bad_request"),
        # -- attestation (own token: the attestation bucket is 5/s, burst 10) --
        ("nonce not hex", "GET", "/v1/attestation?nonce=zz", [], None, "att", 400,
         "bad_encoding"),
        ("nonce empty", "GET", "/v1/attestation?nonce=", [], None, "att", 400, "missing_field"),
        ("nonce absent", "GET", "/v1/attestation", [], None, "att", 400, "missing_field"),
        ("nonce too long (65 bytes)", "GET", "/v1/attestation?nonce=" + "ab" * 65, [], None,
         "att", 400, "bad_field"),
        ("nonce odd length", "GET", "/v1/attestation?nonce=abc", [], None, "att", 400,
         "bad_field"),
        ("nonce given twice", "GET", "/v1/attestation?nonce=ab&nonce=cd", [], None, "att", 400,
         "duplicate_key"),
        ("unknown query parameter", "GET", "/v1/attestation?nonce=ab&x=1", [], None, "att", 400,
         "bad_request"),
        ("attestation without a token", "GET", "/v1/attestation?nonce=abcd", [], None, None,
         401, "unauthorized"),
        ("boot_id too short", "GET", "/v1/attestation/boots/00", [], None, "a", 400, "bad_field"),
        ("unknown boot_id", "GET", "/v1/attestation/boots/" + "00" * 16, [], None, "a", 404,
         "not_found"),
        # -- import --
        ("sealed not base64", "POST", "/v1/keys", ct, j({"sealed": "!!not base64!!"}), "a",
         400, "bad_encoding"),
        ("sealed with an escape", "POST", "/v1/keys", ct, b'{"sealed":"ab\\u0063d"}', "a",
         400, "bad_encoding"),
        ("sealed empty", "POST", "/v1/keys", ct, j({"sealed": ""}), "a", 400, "bad_field"),
        ("sealed missing", "POST", "/v1/keys", ct, b"{}", "a", 400, "missing_field"),
        ("sealed of wrong type", "POST", "/v1/keys", ct, j({"sealed": 1}), "a", 400, "bad_field"),
        ("sealed given twice", "POST", "/v1/keys", ct, b'{"sealed":"abcd","sealed":"abcd"}', "a",
         400, "duplicate_key"),
        ("sealed garbage (does not open)", "POST", "/v1/keys", ct,
         j({"sealed": base64.b64encode(bytes(range(100))).decode()}), "a", 403, "bad_signature"),
        ("sealed shorter than a sealed box", "POST", "/v1/keys", ct,
         j({"sealed": base64.b64encode(b"0123456789").decode()}), "a", 400, "bad_field"),
        ("payload: unknown venue", "POST", "/v1/keys", ct, payload_variant(env, venue="nosuchx"),
         "a", 400, "unknown_venue"),
        ("payload: unknown credentials key_type", "POST", "/v1/keys", ct,
         payload_variant(env, key_type="dsa", credentials=dict(BINANCE, key_type="dsa")), "a",
         400, "unknown_key_type"),
        ("payload: key_type disagrees with the credentials", "POST", "/v1/keys", ct,
         payload_variant(env, key_type="ed25519"), "a", 400, "bad_request"),
        ("payload: empty secret", "POST", "/v1/keys", ct,
         payload_variant(env, credentials=dict(BINANCE, secret="")), "a", 400,
         "bad_credentials"),
        ("payload: credentials without a secret", "POST", "/v1/keys", ct,
         payload_variant(env, credentials={"api_key": BINANCE["api_key"]}), "a", 400,
         "missing_field"),
        ("payload: unknown member", "POST", "/v1/keys", ct, payload_variant(env, extra=1), "a",
         400, "unknown_field"),
        ("payload: not JSON", "POST", "/v1/keys", ct, sealed_body(env, b"not json at all"), "a",
         400, "bad_json"),
        ("payload sealed for another tenant", "POST", "/v1/keys", ct, payload_variant(env), "b",
         403, "forbidden"),
        # -- the venue's (enclave's) typed errors --
        ("request with an unknown venue field", "POST", S, ct,
         j({"key_id": ka, "request": dict(read_req(ts), foo="bar")}), "a", 400, "unknown_field"),
        ("request missing its timestamp", "POST", S, ct,
         j({"key_id": ka, "request": {"method": "GET", "path": "/api/v3/openOrders",
                                      "query": "symbol=BTCUSDT"}}), "a",
         400, "bad_request"),  # docs/POLICY.md "Request time": none → bad_request
        ("request timestamp of wrong type", "POST", S, ct,
         j({"key_id": ka, "request": dict(read_req(ts), timestamp=str(ts))}), "a", 400,
         "bad_field"),
        ("request with an unknown HTTP method", "POST", S, ct,
         j({"key_id": ka, "request": dict(read_req(ts), method="PATCH")}), "a", 400, "bad_field"),
        ("stale request timestamp", "POST", S, ct,
         j({"key_id": ka, "request": read_req(ts - 10 * 60 * 1000)}), "a", 422, "stale_request"),
        ("action outside the policy (withdraw)", "POST", S, ct,
         j({"key_id": ka, "request": {"method": "POST", "path": "/sapi/v1/capital/withdraw/apply",
                                      "query": "", "body": "coin=BTC&address=bc1qx&amount=1",
                                      "timestamp": ts}}), "a", 422, "policy_denied"),
        # -- Idempotency-Key --
        ("Idempotency-Key with a space", "POST", S, ct + [("Idempotency-Key", "a b")], j(ok), "a",
         400, "bad_request"),
        ("Idempotency-Key of 129 characters", "POST", S, ct + [("Idempotency-Key", "k" * 129)],
         j(ok), "a", 400, "bad_request"),
        ("Idempotency-Key given twice", "POST", S,
         ct + [("Idempotency-Key", "k1"), ("Idempotency-Key", "k2")], j(ok), "a", 400,
         "bad_request"),
    ]
    return rows


def run_table(st, env, t):
    tokens = {
        "a": st.token, "b": env["token_b"], "att": env["token_att"],
        "revoked": env["token_revoked"],
        "malformed": "not-a-sigil-token-MARKER42",
        "unknown": "sgl_" + "0123456789abcdef" + "_" + "c0ffee" * 10 + "abcd",
        "wrong_secret": st.token[:st.token.rindex("_") + 1] + "e" * 64,
    }
    secrets = [v for v in tokens.values()] + [v.rsplit("_", 1)[-1] for v in tokens.values()]
    raw = Raw(st.gateway["url"])
    rows = table(st, env)
    t.check(f"the table has >= 30 rows ({len(rows)})", len(rows) >= 30)
    echoed, allow_leaks = [], []
    for name, method, path, headers, body, tok, status, code in rows:
        hdrs = list(headers)
        if tok is not None:
            hdrs.append(("Authorization", "Bearer " + tokens[tok]))
        got_status, got_headers, data = raw.send(method, path, hdrs, body)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        got_code = doc.get("error", {}).get("code") if isinstance(doc, dict) else None
        if isinstance(status, tuple):
            want = status
        else:
            want = ((status, code),)
        ok = (got_status, got_code) in want
        detail = (got_status, data[:200])
        if ok and got_status >= 400:
            problem = error_shape(got_status, got_headers, data)
            ok = problem is None
            detail = (problem, data[:200])
        if ok and got_status == 405:
            allow = header(got_headers, "Allow") or ""
            ok = len(allow) > 0 and method not in [m.strip() for m in allow.split(",")]
            detail = ("Allow", allow)
        label = " or ".join(f"{s} {c}" for s, c in want) if want[0][1] else str(want[0][0])
        t.check(f"table: {name} → {label}", ok, detail)
        blob = data + json.dumps(got_headers).encode()
        if any(s.encode() in blob for s in secrets if len(s) >= 8):
            echoed.append(name)
        if got_status != 405 and header(got_headers, "Allow") is not None:
            allow_leaks.append((name, header(got_headers, "Allow")))
    raw.close()
    t.check("no response echoes a bearer token (or its secret part)", not echoed, echoed)
    t.check("the Allow header appears on 405 responses only", not allow_leaks,
            allow_leaks[:5])


# ---- behaviour ------------------------------------------------------------------
def run(st, t):
    env = setup(st)
    t.check("DELETE /v1/keys/{id} → 204, empty body",
            env["delete_status"][0] == 204 and not env["delete_status"][1], env["delete_status"])
    run_table(st, env, t)
    h = st.http()
    hb = st.http(env["token_b"])

    # /healthz and /readyz
    status, hd, body = h.request("GET", "/healthz", token=None)
    t.check("/healthz → 200 {status: ok, mode: dev}, no token needed",
            status == 200 and body == {"status": "ok", "mode": "dev"}, (status, body))
    status, _, ready = h.request("GET", "/readyz", token=None)
    t.check("/readyz → 200 ready, mode dev, a boot_id",
            status == 200 and ready.get("status") == "ready" and ready.get("mode") == "dev"
            and len(ready.get("boot_id", "")) == 32, (status, ready))

    # /v1/attestation
    nonce = bytes(range(7, 39))
    status, hd, att = h.request("GET", "/v1/attestation?nonce=" + nonce.hex())
    fields = {"document", "measurement", "mode", "sealing_key", "receipt_key", "boot_id"}
    t.check("/v1/attestation → 200 with document, measurement, mode, sealing_key, "
            "receipt_key, boot_id", status == 200 and isinstance(att, dict)
            and fields <= set(att), (status, att if not isinstance(att, dict) else sorted(att)))
    if status != 200 or not isinstance(att, dict) or not fields <= set(att):
        return
    t.check("/v1/attestation: Cache-Control: no-store",
            hd.get("Cache-Control", "").lower() == "no-store", hd)
    t.check("/v1/attestation: mode dev, measurement is the launcher's",
            att["mode"] == "dev" and att["measurement"] == st.launch["measurement"], att["mode"])
    try:
        doc, binding = decode_document(att["document"])
    except (ValueError, KeyError, IndexError) as e:
        doc, binding = {}, None
        t.check("/v1/attestation: document is base64 COSE_Sign1", False, e)
    t.check("document: nonce is the one sent", doc.get("nonce") == nonce, doc.get("nonce"))
    t.check("document: PCR0 is the measurement",
            doc.get("pcrs", {}).get(0, b"").hex() == att["measurement"])
    t.check("document: user_data binds boot_id, sealing_key and receipt_key of the response",
            isinstance(binding, dict) and binding.get("sigil") == "boot-v1"
            and binding.get("boot_id", b"").hex() == att["boot_id"]
            and binding.get("sealing_key", b"").hex() == att["sealing_key"]
            and binding.get("receipt_key", b"").hex() == att["receipt_key"], binding)
    t.check("attestation boot_id is the one /readyz reports", att["boot_id"] == ready["boot_id"])
    docf = st.path("attestation.cose")
    with open(docf, "wb") as f:
        f.write(base64.b64decode(att["document"]))
    r = st.sigil("attestation", "verify", "--document", docf, "--trust-dev-root",
                 st.launch["root"], "--measurement", st.launch["measurement"], "--nonce",
                 nonce.hex(), check=False)
    t.check("document verifies with `sigil attestation verify` (dev root, measurement, nonce)",
            r.returncode == 0, r.stderr[:300])

    # the boot archive
    status, _, boot = hb.request("GET", f"/v1/attestation/boots/{att['boot_id']}")
    t.check("/v1/attestation/boots/{boot_id} → 200 (any tenant's token)",
            status == 200 and isinstance(boot, dict), (status, boot))
    if status == 200 and isinstance(boot, dict):
        t.check("archived boot: boot_id, measurement, created_at (ms)",
                boot.get("boot_id") == att["boot_id"]
                and boot.get("measurement") == att["measurement"]
                and isinstance(boot.get("created_at"), int)
                and boot["created_at"] > 1_600_000_000_000, boot)
        try:
            bdoc, bbind = decode_document(boot["document"])
        except (ValueError, KeyError, IndexError) as e:
            bdoc, bbind = {}, None
            t.check("archived document decodes", False, e)
        t.check("archived document binds the same boot_id, sealing and receipt keys",
                isinstance(bbind, dict) and bbind.get("boot_id", b"").hex() == att["boot_id"]
                and bbind.get("sealing_key", b"").hex() == att["sealing_key"]
                and bbind.get("receipt_key", b"").hex() == att["receipt_key"], bbind)
        t.check("archived document's PCR0 is the measurement",
                bdoc.get("pcrs", {}).get(0, b"").hex() == att["measurement"])

    # GET /v1/keys: only the caller's live keys
    status, _, la = h.request("GET", "/v1/keys")
    status_b, _, lb = hb.request("GET", "/v1/keys")
    ids_a = [k.get("key_id") for k in la.get("keys", [])] if status == 200 else None
    ids_b = [k.get("key_id") for k in lb.get("keys", [])] if status_b == 200 else None
    t.check("GET /v1/keys (tenant default): exactly its live key",
            ids_a == [env["key_a"]], (status, la))
    t.check("GET /v1/keys (tenant other): exactly its key", ids_b == [env["key_b"]],
            (status_b, lb))
    if ids_a:
        k = la["keys"][0]
        t.check("key listing: venue, network, key_type, policy_hash, created_at; no blob",
                k.get("venue") == "binance" and k.get("network") == "mainnet"
                and k.get("key_type") == "hmac" and len(k.get("policy_hash", "")) == 64
                and isinstance(k.get("created_at"), int) and "blob" not in k, k)

    # Tenant B's failed DELETE left A's key alone; A signs with it.
    status, _, body = h.request("POST", "/v1/sign", {"key_id": env["key_a"],
                                                      "request": read_req()})
    t.check("another tenant's DELETE did not remove the key: owner still signs (200)",
            status == 200 and body.get("key_id") == env["key_a"], (status, body))

    # delete, then sign → 404
    status, _, body = hb.request("POST", "/v1/sign", {"key_id": env["key_b"],
                                                       "request": read_req()})
    t.check("tenant other signs with its key (200)", status == 200, (status, body))
    status, _, _ = hb.request("DELETE", f"/v1/keys/{env['key_b']}")
    t.check("tenant other deletes its key (204)", status == 204)
    status, _, body = hb.request("POST", "/v1/sign", {"key_id": env["key_b"],
                                                       "request": read_req()})
    t.check("sign after DELETE → 404 not_found",
            status == 404 and body["error"]["code"] == "not_found", (status, body))
    status, _, lb = hb.request("GET", "/v1/keys")
    t.check("GET /v1/keys after DELETE → empty list", status == 200 and lb == {"keys": []}, lb)

    check_idempotency(st, env, t)
    check_attestation_limit(st, t)
    check_chunked_oversize(st, t)
    check_metrics(st, env, t)


def check_idempotency(st, env, t):
    raw = Raw(st.gateway["url"])
    ts = now_ms()
    body = j({"key_id": env["key_a"], "request": order_req(ts)})
    other = j({"key_id": env["key_a"], "request": order_req(ts + 1)})
    auth = [("Authorization", "Bearer " + st.token), ("Content-Type", "application/json")]
    idem = [("Idempotency-Key", "e2e-http-idem-0001")]
    before = audit_count(st)
    s1, _, d1 = raw.send("POST", "/v1/sign", auth + idem, body)
    s2, _, d2 = raw.send("POST", "/v1/sign", auth + idem, body)
    after = audit_count(st)
    t.check("Idempotency-Key: first request signs (200)", s1 == 200, (s1, d1[:200]))
    t.check("Idempotency-Key: retry returns the identical status and body",
            s2 == s1 and d2 == d1, (s2, d2[:200]))
    t.check("Idempotency-Key: the retry is audited once (audit rows +1)",
            after - before == 1, (before, after))
    s3, _, d3 = raw.send("POST", "/v1/sign", auth + idem, other)
    t.check("Idempotency-Key: same key, another body → 409 conflict",
            s3 == 409 and json.loads(d3)["error"]["code"] == "conflict", (s3, d3[:200]))
    # Keys are per tenant: tenant B with A's key and A's exact body gets its own
    # answer (A's key is not B's: 404), never A's stored signature.
    auth_b = [("Authorization", "Bearer " + env["token_b"]), ("Content-Type", "application/json")]
    s4, _, d4 = raw.send("POST", "/v1/sign", auth_b + idem, body)
    t.check("Idempotency-Key is per tenant: another tenant replaying it gets 404, not the "
            "stored signature", s4 == 404 and d4 != d1, (s4, d4[:200]))
    # Without the header a repeat is signed (and audited) again.
    before = audit_count(st)
    s5, _, _ = raw.send("POST", "/v1/sign", auth, body)
    s6, _, _ = raw.send("POST", "/v1/sign", auth, body)
    t.check("without Idempotency-Key each request is audited (+2)",
            s5 == 200 and s6 == 200 and audit_count(st) - before == 2)
    raw.close()


def check_attestation_limit(st, t):
    """GET /v1/attestation: 5/s, burst 10, per token (API.md). The limiter runs
    before the nonce is read, so cheap bad-nonce requests drain it."""
    _, tok = add_token(st, "default")
    h = st.http(tok)
    got = []
    for _ in range(40):
        status, hd, body = h.request("GET", "/v1/attestation?nonce=zz")
        got.append((status, hd, body))
    statuses = [s for s, _, _ in got]
    limited = [(s, hd, b) for s, hd, b in got if s == 429]
    t.check("attestation: the first 10 requests (the burst) are not limited",
            429 not in statuses[:10], statuses[:10])
    t.check("attestation: 40 quick requests on one token → some 429", len(limited) > 0,
            statuses)
    if limited:
        s, hd, b = limited[0]
        ra = hd.get("Retry-After", "")
        t.check("attestation 429: rate_limited with Retry-After (seconds)",
                b["error"]["code"] == "rate_limited" and ra.isdigit() and int(ra) >= 1,
                (hd, b))
    status, _, _ = st.http().request("GET", "/v1/attestation?nonce=" + "01" * 32)
    t.check("attestation limit is per token: another token still gets 200", status == 200,
            status)


def check_chunked_oversize(st, t):
    """A chunked body (no Content-Length) over --body-limit must get 413 too."""
    u = st.gateway["url"].split("//")[1]
    host, port = u.rsplit(":", 1)
    chunk = b"1000\r\n" + b"a" * 4096 + b"\r\n"
    body = chunk * (BODY_LIMIT // 4096 + 4) + b"0\r\n\r\n"
    req = ("POST /v1/sign HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
           % (u, st.token)).encode() + body
    s = socket.create_connection((host, int(port)), timeout=30)
    data = b""
    try:
        try:
            s.sendall(req)
        except OSError:
            pass  # the server may stop reading once it has answered
        try:
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
    finally:
        s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    ok = head.startswith(b"HTTP/1.1 413") and b'"too_large"' in rest
    t.check("chunked body over --body-limit → 413 too_large (a response, not a dropped "
            "connection)", ok, data[:200] or "connection closed without a response")


def check_metrics(st, env, t):
    status, hd, text = st.http().request("GET", "/metrics", token=None, raw=True)
    text = text.decode(errors="replace")
    t.check("/metrics → 200 text/plain (Prometheus), no token needed",
            status == 200 and hd.get("Content-Type", "").startswith("text/plain"), (status, hd))
    t.check("/metrics: sigil_http_requests_total is a counter",
            "# TYPE sigil_http_requests_total counter" in text)
    signed = metric(text, 'sigil_http_requests_total{route="POST /v1/sign",status="200"}')
    t.check("/metrics: POST /v1/sign 200 counted", signed is not None and signed >= 5, signed)
    t.check("/metrics: 401s on POST /v1/sign counted",
            (metric(text, 'sigil_http_requests_total{route="POST /v1/sign",status="401"}') or 0)
            >= 5)
    t.check("/metrics: sigil_rate_limited_total counts the 429s",
            (metric(text, "sigil_rate_limited_total") or 0) >= 1)
    for name in ("sigil_sign_duration_seconds_count", "sigil_enclave_connections",
                 "sigil_http_requests_in_flight"):
        t.check(f"/metrics: {name} present",
                any(line.startswith(name) for line in text.splitlines()))
    leaks = [x for x in (st.token, env["token_b"], env["key_a"], env["key_b"], "default",
                         "other\"") if x in text]
    t.check("/metrics labels carry no tokens, tenants or key ids", not leaks, leaks)


def run_rate_limit(st, t):
    """Second stack, --rate 5 --burst 5: the per-token API bucket."""
    h = st.http()
    statuses, limited = [], []
    for _ in range(20):
        status, hd, body = h.request("GET", "/v1/keys")
        statuses.append(status)
        if status == 429:
            limited.append((hd, body))
    t.check("rate limit: the burst (5) passes", statuses[:5] == [200] * 5, statuses)
    t.check("rate limit: 20 quick requests → some 429", len(limited) > 0, statuses)
    t.check("rate limit: only 200 or 429", set(statuses) <= {200, 429}, statuses)
    if limited:
        hd, body = limited[0]
        ra = hd.get("Retry-After", "")
        t.check("429: code rate_limited, non-empty message, Retry-After in whole seconds",
                isinstance(body, dict) and body.get("error", {}).get("code") == "rate_limited"
                and body["error"].get("message") and ra.isdigit() and int(ra) >= 1,
                (hd, body))
        # After Retry-After the token is served again (generous deadline).
        deadline = time.monotonic() + 30
        status = 429
        while time.monotonic() < deadline:
            time.sleep(int(ra) if ra.isdigit() else 1)
            status, _, _ = h.request("GET", "/v1/keys")
            if status == 200:
                break
        t.check("rate limit: served again after Retry-After", status == 200, status)
    _, tok2 = add_token(st, "default")
    status, _, _ = st.http(tok2).request("GET", "/v1/keys")
    t.check("rate limit is per token: a second token of the same tenant is served", status == 200,
            status)
    for _ in range(10):
        status, _, _ = h.request("GET", "/healthz", token=None)
        if status != 200:
            break
    t.check("unauthenticated /healthz is not rate limited", status == 200, status)
    status, _, text = h.request("GET", "/metrics", token=None, raw=True)
    n = metric(text.decode(), "sigil_rate_limited_total") or 0
    t.check("/metrics sigil_rate_limited_total >= the 429s seen", n >= len(limited),
            (n, len(limited)))


if __name__ == "__main__":
    sys.exit(main())
