#!/usr/bin/env python3
"""End-to-end checks of sigil-gateway against tests/gateway/fake_enclave.py:
readiness, attestation relay, import, list, sign, idempotency, tenant
isolation, delete, deny, deadline, connection loss and reconnect, rate
limits, audit records and the bad-request table. The store: the SQLite file
in the state directory, or with SIGIL_TEST_STORE=pg a PostgreSQL database
(tests/pg/run.sh; e2e_util.Store).

usage: run_e2e.py BIN_DIR   (holding sigil and sigil-gateway)
"""
import base64
import shutil
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_util import Store  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def wait_for(path, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return
        time.sleep(0.02)
    sys.exit(f"timed out waiting for {path}")


class Client:
    def __init__(self, url):
        self.url = url

    def req(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        r = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw and resp.headers.get_content_type() == "application/json" else raw), resp.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, (json.loads(raw) if raw else None), e.headers


def admin(bin_dir, store, *args):
    out = subprocess.run([os.path.join(bin_dir, "sigil"), "admin", *store.cli_args(), *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def signs(count_file):
    try:
        return int(open(count_file).read())
    except (OSError, ValueError):
        return 0


def main():
    bin_dir = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="sigil-gw-e2e-")
    sock, count, ready = (os.path.join(tmp, n) for n in ("enclave.sock", "count", "ready.json"))
    kms = os.path.join(tmp, "kms.json")
    json.dump({"access_key_id": "AK", "secret_access_key": "SK", "region": "us-east-1"},
              open(kms, "w"))
    store = Store.for_test(tmp)
    admin(bin_dir, store, "tenant", "add", "acme")
    admin(bin_dir, store, "tenant", "add", "beta")
    tok_a = admin(bin_dir, store, "token", "add", "acme")["token"]
    tok_b = admin(bin_dir, store, "token", "add", "beta")["token"]
    enclave = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_enclave.py"), sock, count])
    wait_for(sock)
    log = open(os.path.join(tmp, "gateway.log"), "w")
    gw = subprocess.Popen([os.path.join(bin_dir, "sigil-gateway"), "--home", tmp, "--listen",
                           "127.0.0.1:0", "--enclave", "unix:" + sock, "--ready-file", ready,
                           "--kms-credentials", kms, "--deadline-ms", "700", "--rate", "50",
                           "--burst", "100", "--threads", "4",
                           *(["--store", store.url] if store.url else [])], stderr=log)
    try:
        wait_for(ready)
        c = Client(json.load(open(ready))["url"])
        run(c, tok_a, tok_b, count, store, enclave, sock)
    finally:
        gw.terminate()
        check(gw.wait(timeout=10) == 0, "gateway stops cleanly on SIGTERM")
        enclave.kill()
        store.drop()
    logtext = open(os.path.join(tmp, "gateway.log")).read()
    check(tok_a.split("_")[2] not in logtext, "log never contains a token secret")
    print(f"{len(failures)} failed (state kept in {tmp})" if failures else "all passed")
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failures else 0)


def run(c, tok_a, tok_b, count, store, enclave, sock):
    for _ in range(100):
        st, body, _ = c.req("GET", "/readyz")
        if st == 200:
            break
        time.sleep(0.05)
    check(st == 200 and body["status"] == "ready", f"/readyz 200 once booted ({st} {body})")
    st, body, h = c.req("GET", "/v1/attestation?nonce=0a0b", tok_a)
    check(st == 200 and base64.b64decode(body["document"]) == b"att:\x0a\x0b"
          and len(body["measurement"]) == 96 and body["mode"] == "dev"
          and h.get("Cache-Control") == "no-store", "attestation relayed with no-store")
    boot_id = body["boot_id"]
    st, body, _ = c.req("GET", "/v1/attestation/boots/" + boot_id, tok_a)
    check(st == 200 and base64.b64decode(body["document"]) == b"boot-doc",
          "boot document archived by boot_id")
    st, _, _ = c.req("GET", "/v1/attestation/boots/" + "0" * 32, tok_a)
    check(st == 404, "unknown boot is 404")
    check(store.query("SELECT count(*) FROM enclave_state")[0][0] == 1,
          "seed ciphertext stored")

    st, key, _ = c.req("POST", "/v1/keys", tok_a, {"sealed": base64.b64encode(b"x").decode()})
    check(st == 201 and key["venue"] == "binance" and len(key["policy_hash"]) == 64
          and "address" not in key, f"import 201 ({st} {key})")
    kid = key["key_id"]
    st, body, _ = c.req("POST", "/v1/keys", tok_a, {"sealed": base64.b64encode(b"bad").decode()})
    check(st == 403 and body["error"]["code"] == "bad_signature", "enclave refusal keeps its code")
    st, body, _ = c.req("GET", "/v1/keys", tok_a)
    check(st == 200 and [k["key_id"] for k in body["keys"]] == [kid] and "blob" not in body["keys"][0],
          "list shows own keys without blobs")
    st, body, _ = c.req("GET", "/v1/keys", tok_b)
    check(st == 200 and body["keys"] == [], "another tenant lists nothing")

    req = {"method": "GET", "path": "/api/v3/order", "n": 1.50}
    raw = b'{"key_id":"' + kid.encode() + b'","request":{"method":"GET", "n":1.50}}'
    st, body, _ = c.req("POST", "/v1/sign", tok_a, raw)
    check(st == 200 and body["action"] == "order" and body["key_id"] == kid,
          f"sign 200 ({st} {body})")
    check(body and body["signed"] == {"echo": {"method": "GET", "n": 1.50}},
          "request passed to the enclave verbatim")
    n0 = signs(count)
    hdr = {"Idempotency-Key": "order-1"}
    st1, b1, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": req}, hdr)
    st2, b2, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": req}, hdr)
    check(st1 == 200 and st2 == 200 and b1 == b2 and signs(count) == n0 + 1,
          "idempotent retry returns the first result, enclave called once")
    st, body, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": {"x": 2}}, hdr)
    check(st == 409 and body["error"]["code"] == "conflict", "same key, other body: 409")
    st, body, _ = c.req("POST", "/v1/sign", tok_b, {"key_id": kid, "request": req})
    check(st == 404 and body["error"]["code"] == "not_found", "another tenant's key is 404")
    st, body, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": {"s": "deny"}})
    check(st == 422 and body["error"]["code"] == "policy_denied", "policy deny is 422")
    st, body, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": {"s": "hang"}})
    check(st == 504 and body["error"]["code"] == "timeout", "deadline is 504")
    st, body, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": {"s": "drop"}})
    check(st == 503 and body["error"]["message"] == "enclave connection lost",
          f"dropped connection fails in-flight with 503 ({st} {body})")
    ok = False
    for _ in range(100):
        st, _, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": req})
        if st == 200:
            ok = True
            break
        time.sleep(0.05)
    check(ok, "reconnects and signs again")

    # the disable switch is the gateway's own: a disabled key never reaches the enclave
    n0 = signs(count)
    st, body, _ = c.req("POST", f"/v1/keys/{kid}/disable", tok_b)
    check(st == 404, "another tenant cannot disable")
    st, body, _ = c.req("POST", f"/v1/keys/{kid}/disable", tok_a)
    check(st == 200 and body["state"] == "disabled", f"disable 200 ({st} {body})")
    st, body, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": req})
    check(st == 409 and body["error"]["code"] == "key_disabled" and signs(count) == n0,
          f"disabled key: 409 key_disabled, no enclave call ({st} {body} {signs(count) - n0})")
    st, body, _ = c.req("POST", f"/v1/keys/{kid}/enable", tok_a)
    check(st == 200 and body["state"] == "active", f"enable 200 ({st} {body})")
    st, _, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": req})
    check(st == 200 and signs(count) == n0 + 1, "enabled again: signs through the enclave")

    rows = store.query("SELECT op, decision, http_status, error_code FROM audit ORDER BY seq")
    ops = [(r[0], r[1], r[2]) for r in rows]
    check(("import", "allow", 201) in ops and ("sign", "allow", 200) in ops
          and ("sign", "deny", 422) in ops and ("import", "deny", 403) in ops,
          "audit has allows and denies")
    check(sum(1 for r in rows if r[0] == "sign" and r[2] == 200) >= 3, "audit counts signs")

    st, _, _ = c.req("DELETE", "/v1/keys/" + kid, tok_b)
    check(st == 404, "another tenant cannot delete")
    st, _, _ = c.req("DELETE", "/v1/keys/" + kid, tok_a)
    check(st == 204, "delete 204")
    st, _, _ = c.req("POST", "/v1/sign", tok_a, {"key_id": kid, "request": req})
    check(st == 404, "signing with a deleted key is 404")

    table = json.load(open(os.path.join(HERE, "bad_requests.json")))
    bad = 0
    for case in table["bodies"]:
        path = "/v1/sign" if case["route"] == "sign" else "/v1/keys"
        st, body, _ = c.req("POST", path, tok_a, base64.b64decode(case["body_b64"]))
        if st != case["status"] or body["error"]["code"] != case["code"]:
            bad += 1
            print("  ", case["name"], st, body)
    for case in table["headers"]:
        hdrs = {case["header"]: case["value"]}
        token = None if case["header"] == "Authorization" else tok_a
        st, body, _ = c.req("POST", "/v1/sign", token, {"key_id": "k", "request": {}}, hdrs)
        if st != case["status"] or body["error"]["code"] != case["code"]:
            bad += 1
            print("  ", case["header"], case["name"], st, body)
    check(bad == 0, f"bad-request table over HTTP ({bad} mismatches)")

    codes = [c.req("GET", "/v1/attestation?nonce=00", tok_b) for _ in range(14)]
    limited = [h for st, _, h in codes if st == 429]
    check(len(limited) >= 1 and all(int(h["Retry-After"]) >= 1 for h in limited),
          "attestation rate limit: 429 with Retry-After")
    st, body, _ = c.req("GET", "/metrics")
    check(st == 200 and b'sigil_rate_limited_total' in body and b'route="POST /v1/sign"' in body,
          "metrics exposition")


if __name__ == "__main__":
    main()
