#!/usr/bin/env python3
"""The gateway over TLS: with --tls-cert/--tls-key it serves HTTPS only; a
key is sealed with `sigil seal --cacert` and a request signed over HTTPS; a
client that does not trust the certificate, or speaks plain HTTP, gets
nothing."""
import http.client
import json
import os
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import Checks, TempStack, bin_dir_arg, now_ms  # noqa: E402


def make_cert(st):
    cert, key = st.path("gw.pem"), st.path("gw.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def main():
    bin_dir = bin_dir_arg()
    t = Checks()
    probe = TempStack(bin_dir)
    cert, key = make_cert(probe)
    st = TempStack(bin_dir, gateway_args=["--tls-cert", cert, "--tls-key", key],
                   gateway_ca=cert)
    try:
        st.start()
        run(st, t, cert)
    finally:
        st.cleanup()
        probe.cleanup()
    return t.done()


def run(st, t, cert):
    url = st.gateway["url"]
    t.check("ready file reports an https URL", url.startswith("https://127.0.0.1:"), url)
    host, port = url.split("//")[1].split(":")
    ctx = ssl.create_default_context(cafile=cert)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)

    def call(method, path, body=None):
        h = {"Authorization": f"Bearer {st.token}"}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")

    status, body = call("GET", "/readyz")
    t.check("GET /readyz over HTTPS: 200", status == 200, (status, body))

    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("binance.json", {"api_key": "tls-test-key", "secret": "tls-test-secret-0123456789"})
    pol = st.write("policy.json", {"version": 1, "tenant": "default", "venue": "binance",
                                   "network": "mainnet", "actions": ["order"],
                                   "not_after": int(time.time()) + 3600})
    out = st.seal("binance", "mainnet", creds, pol, owner, extra=("--cacert", cert))
    t.check("sigil seal --cacert over HTTPS", "key_id" in out, out)
    req = {"method": "POST", "path": "/api/v3/order",
           "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=0.1",
           "timestamp": now_ms()}
    status, body = call("POST", "/v1/sign", {"key_id": out.get("key_id"), "request": req})
    offline = json.loads(st.sign_offline("binance", creds, req))
    t.check("POST /v1/sign over HTTPS equals offline signing",
            status == 200 and body.get("signed") == offline, (status, body))

    r = st.seal("binance", "mainnet", creds, pol, owner, check=False)
    t.check("sigil seal without --cacert refuses the untrusted certificate",
            r.returncode != 0 and b"error" in r.stderr, r.stderr)
    plain = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        plain.request("GET", "/healthz")
        resp = plain.getresponse()
        ok = resp.status >= 400
    except (ConnectionError, http.client.HTTPException, OSError):
        ok = True
    t.check("plain HTTP to the HTTPS port gets no answer", ok)


if __name__ == "__main__":
    sys.exit(main())
