#!/usr/bin/env python3
"""`sigil seal` against a stand-in gateway: the payload it seals, the key id
and the client key it binds.

sigil-launch runs a small script as the enclave: it holds an X25519 key, asks
the launcher's NSM for real dev attestation documents (our nonce, a boot
binding naming its key) and serves GET /v1/attestation and POST /v1/keys on
loopback, opening each sealed payload (libsodium through ctypes) and saving it
for the checks here: member order, key_id, client_pubkey, and the v2 policy
signature over the message rebuilt from docs/POLICY.md. Then the attestation
fetch `sigil seal` shares with `sigil verify-deployment` (cli_attestation_fetch.c),
through both, against misbehaving attestation responses: each error message.
Usage: test_seal_cli.py <path-to-sigil> <tests-dir>
"""
import glob
import json
import os
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import (E2E, LAUNCH, SIGIL, Launched, check, client_message, error_of,  # noqa: E402
                      finish, keygen, policy_v2_message, read_json, run, wait_for)
from e2e_util import ed25519_verify  # noqa: E402

NOW = int(time.time())
PAYLOAD_MEMBERS = ["v", "tenant", "key_id", "venue", "network", "key_type", "credentials",
                   "owner_pubkey", "client_pubkey", "policy", "policy_signature"]

# The stand-in enclave and gateway. argv: WORKDIR E2E_DIR --nsm-fd N.
# WORKDIR/mode (optional) selects a misbehaviour for POST /v1/keys, WORKDIR/attest.json
# (optional) one for GET /v1/attestation: {"raw": TEXT, "status": N} answers that;
# else "other_nonce" (a document for another nonce), "no_binding" (without
# user_data) and "set" (response members replaced, null: left out). The last GET's
# Authorization header goes to WORKDIR/last-auth.
STANDIN = r'''import base64, ctypes, ctypes.util, hashlib, json, os, socket, struct, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
args = sys.argv[1:]
work, e2e = args[0], args[1]
sys.path.insert(0, e2e)
import cbor_min
na = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert na.sodium_init() >= 0
pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
na.crypto_box_keypair(pk, sk)
binding = cbor_min.encode({"sigil": "boot-v1", "boot_id": os.urandom(16),
                           "sealing_key": pk.raw, "receipt_key": os.urandom(32)})
nsm = socket.socket(fileno=int(args[args.index("--nsm-fd") + 1]))
lock = threading.Lock()
count = [0]

def recv(n):
    b = b""
    while len(b) < n:
        c = nsm.recv(n - len(b))
        if not c:
            sys.exit(3)
        b += c
    return b

def attest(nonce, user_data=binding):
    req = cbor_min.encode({"Attestation": {"user_data": user_data, "nonce": nonce,
                                           "public_key": None}})
    with lock:
        nsm.sendall(struct.pack(">I", len(req)) + req)
        resp = recv(struct.unpack(">I", recv(4))[0])
    return cbor_min.decode(resp)[0]["Attestation"]["document"]

def canonical(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        u = urlparse(self.path)
        nonce = bytes.fromhex(parse_qs(u.query)["nonce"][0])
        with open(os.path.join(work, "last-auth"), "w") as f:
            f.write(self.headers.get("Authorization") or "")
        path = os.path.join(work, "attest.json")
        m = json.load(open(path)) if os.path.exists(path) else {}
        if "raw" in m:
            body = m["raw"].encode()
            self.send_response(m.get("status", 200))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body)
        doc = attest(os.urandom(32) if m.get("other_nonce") else nonce,
                     None if m.get("no_binding") else binding)
        resp = {"document": base64.b64encode(doc).decode(), "sealing_key": pk.raw.hex(),
                "mode": "dev"}
        for k, v in m.get("set", {}).items():
            if v is None:
                resp.pop(k, None)
            else:
                resp[k] = v
        self.reply(200, resp)
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        sealed = base64.b64decode(body["sealed"])
        out = ctypes.create_string_buffer(len(sealed) - 48)
        ok = na.crypto_box_seal_open(out, sealed, ctypes.c_ulonglong(len(sealed)), pk, sk) == 0
        count[0] += 1
        with open(os.path.join(work, "payload-%d.json" % count[0]), "wb") as f:
            f.write(out.raw if ok else b"")
        p = json.loads(out.raw)
        mode = open(os.path.join(work, "mode")).read().strip() if os.path.exists(
            os.path.join(work, "mode")) else "ok"
        if mode == "error":
            return self.reply(503, {"error": {"code": "unavailable", "message": "enclave busy"}})
        resp = {"key_id": p["key_id"] if mode != "wrong_key_id" else "0" * 32,
                "venue": p["venue"], "network": p["network"], "key_type": p["key_type"],
                "policy_hash": hashlib.sha256(canonical(p["policy"])).hexdigest()
                if mode != "wrong_hash" else "00" * 32}
        self.reply(201, resp)

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
tmp = os.path.join(work, "port.tmp")
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, os.path.join(work, "port"))
srv.serve_forever()
'''


class Stand:
    """The stand-in's files and one `sigil seal` invocation."""

    def __init__(self, tmp, work, port, ready):
        self.tmp, self.work = tmp, work
        self.url = "http://127.0.0.1:%s" % port
        self.measurement, self.root = ready["measurement"], ready["root"]
        self.policy = {"version": 1, "tenant": "acme", "venue": "binance", "network": "mainnet",
                       "actions": ["order", "cancel", "read"], "not_after": NOW + 30 * 86400}
        self.policy_file = os.path.join(tmp, "policy.json")
        with open(self.policy_file, "w") as f:
            json.dump(self.policy, f, indent=2)
        self.creds = os.path.join(tmp, "creds.json")
        with open(self.creds, "w") as f:
            json.dump({"api_key": "k" * 16, "secret": "s" * 32}, f)
        os.chmod(self.creds, 0o600)
        self.owner, _, self.owner_pk = keygen(tmp, "owner.json")

    def set_attest(self, misbehaviour):
        path = os.path.join(self.work, "attest.json")
        if misbehaviour is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        with open(path + ".tmp", "w") as f:
            json.dump(misbehaviour, f)
        os.rename(path + ".tmp", path)

    def last_auth(self):
        with open(os.path.join(self.work, "last-auth")) as f:
            return f.read()

    def verify_deployment(self, *extra, measurement=None):
        """(exit status, the attestation row {verdict, value, reason} or None, stderr)."""
        rc, out, err = run("verify-deployment", "--gateway", self.url,
                           "--measurement", measurement or self.measurement,
                           "--trust-dev-root", self.root, *extra)
        lines = out.strip().splitlines()
        doc = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        rows = [r for r in doc.get("sources", []) if r.get("source") == "attestation"]
        return rc, rows[0] if rows else None, err

    def set_mode(self, mode):
        with open(os.path.join(self.work, "mode"), "w") as f:
            f.write(mode)

    def payloads(self):
        return sorted(glob.glob(os.path.join(self.work, "payload-*.json")),
                      key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))

    def last_payload(self):
        with open(self.payloads()[-1], "rb") as f:
            raw = f.read()
        return raw, json.loads(raw)

    def seal(self, *extra, cwd=None, measurement=None):
        return run("seal", "--gateway", self.url, "--token", "t0ken", "--venue", "binance",
                   "--network", "mainnet", "--credentials", self.creds,
                   "--policy", self.policy_file, "--owner-key", self.owner,
                   "--measurement", measurement or self.measurement,
                   "--trust-dev-root", self.root, *extra, cwd=cwd)


def fresh_dir(tmp, name):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    return d


def client_files(d):
    return glob.glob(os.path.join(d, "sigil-client-*.json"))


def check_payload(st, out, what):
    """The payload of docs/PROVISIONING.md; returns it."""
    raw, p = st.last_payload()
    check(list(p) == PAYLOAD_MEMBERS, what + ": payload members in order", list(p))
    check(b" " not in raw and b"\n" not in raw, what + ": compact payload")
    check(p["v"] == 1 and p["tenant"] == "acme" and p["venue"] == "binance" and
          p["key_type"] == "hmac", what + ": tenant, venue, key type")
    kid = p["key_id"]
    check(len(kid) == 32 and all(c in "0123456789abcdef" for c in kid),
          what + ": key_id is 32 lowercase hex", kid)
    check(out.get("key_id") == kid, what + ": stdout key_id is the sealed one")
    check(p["policy"] == st.policy and json.dumps(p["policy"], separators=(",", ":")) in
          raw.decode(), what + ": policy as in the file, whitespace removed")
    check(bytes.fromhex(p["owner_pubkey"]) == st.owner_pk, what + ": owner_pubkey")
    sig = bytes.fromhex(p["policy_signature"])
    check(ed25519_verify(st.owner_pk, policy_v2_message(st.policy, kid), sig),
          what + ": v2 policy signature verifies for the key id")
    check(not ed25519_verify(st.owner_pk, policy_v2_message(st.policy, "0" * 32), sig),
          what + ": the signature does not fit another key id")
    return p


def test_default_client_key(st):
    d = fresh_dir(st.tmp, "default")
    rc, out, err = st.seal(cwd=d)
    check(rc == 0 and err == "", "default: seal succeeds without a warning", err)
    if rc != 0:
        return
    check(out.count("\n") == 1, "default: one line")
    o = json.loads(out)
    p = check_payload(st, o, "default")
    name = "./sigil-client-%s.json" % p["key_id"]
    check(o.get("client_key_file") == name and list(o)[-1] == "client_key_file",
          "default: client_key_file is ./sigil-client-<key_id>.json", o)
    check(list(o)[:4] == ["key_id", "venue", "network", "key_type"],
          "default: the gateway's members first, as sent")
    path = os.path.join(d, name)
    check(os.path.exists(path) and stat.S_IMODE(os.stat(path).st_mode) == 0o600,
          "default: client key file created 0600")
    k = read_json(path) or {}
    check(list(k) == ["type", "public_key", "secret_key"] and k["type"] == "ed25519",
          "default: keygen file format", k)
    check(p["client_pubkey"] == k.get("public_key"), "default: client_pubkey is the file's key")
    check(k.get("secret_key", "x") not in out + err, "default: the secret is never printed")

    # The file serves sign-request for the key; the signature verifies under
    # the bound client key.
    rc, sout, err = run("sign-request", "--key-id", p["key_id"], "--client-key", path,
                        stdin='{"a":1}')
    if rc == 0:
        c = json.loads(sout)["client"]
        msg = client_message(p["key_id"], '{"a":1}', c["timestamp"], c["nonce"])
        check(ed25519_verify(bytes.fromhex(p["client_pubkey"]), msg, bytes.fromhex(c["signature"])),
              "default: sign-request with the file signs for the bound key")
    else:
        check(False, "default: sign-request with the file", err)

    # A second seal makes another key id and another file; none is overwritten.
    before = open(path).read()
    rc, out2, err = st.seal(cwd=d)
    o2 = json.loads(out2) if rc == 0 else {}
    check(rc == 0 and o2.get("key_id") != o["key_id"] and len(client_files(d)) == 2,
          "default: each seal has its own key id and file", err)
    check(open(path).read() == before, "default: the first file is untouched")


def test_client_key_out(st):
    d = fresh_dir(st.tmp, "out")
    target = os.path.join(d, "mine.json")
    rc, out, err = st.seal("--client-key-out", target, cwd=d)
    check(rc == 0, "--client-key-out: seal succeeds", err)
    if rc == 0:
        o = json.loads(out)
        _, p = st.last_payload()
        k = read_json(target) or {}
        check(o["client_key_file"] == target and p["client_pubkey"] == k.get("public_key"),
              "--client-key-out: the file named, its key bound")
        check(stat.S_IMODE(os.stat(target).st_mode) == 0o600, "--client-key-out: 0600")
        check(client_files(d) == [], "--client-key-out: no default file")
    # Never overwritten, and nothing is uploaded.
    n = len(st.payloads())
    with open(target, "w") as f:
        f.write("precious")
    rc, out, err = st.seal("--client-key-out", target, cwd=d)
    e = error_of(err)
    check(rc == 2 and out == "" and e["code"] == "io_error" and "exists" in e["message"],
          "--client-key-out: an existing file is refused", err)
    check(open(target).read() == "precious", "--client-key-out: the existing file is untouched")
    check(len(st.payloads()) == n, "--client-key-out: nothing uploaded after the refusal")
    link = os.path.join(d, "link.json")
    os.symlink(os.path.join(d, "elsewhere.json"), link)
    rc, _, err = st.seal("--client-key-out", link, cwd=d)
    check(rc == 2 and not os.path.exists(os.path.join(d, "elsewhere.json")),
          "--client-key-out: a symlink is refused", err)


def test_no_client_key(st):
    d = fresh_dir(st.tmp, "none")
    rc, out, err = st.seal("--no-client-key", cwd=d)
    check(rc == 0, "--no-client-key: seal succeeds", err)
    if rc != 0:
        return
    lines = err.strip().splitlines()
    w = json.loads(lines[0]).get("warning", {}) if len(lines) == 1 else {}
    check(w.get("code") == "no_client_key" and
          "any request the policy allows" in w.get("message", ""),
          "--no-client-key: one warning line on stderr", err)
    o = json.loads(out)
    p = check_payload(st, o, "--no-client-key")
    check(p["client_pubkey"] is None and o["client_key_file"] is None,
          "--no-client-key: client_pubkey and client_key_file null")
    check(client_files(d) == [], "--no-client-key: no file written")


def test_given_client_key(st):
    d = fresh_dir(st.tmp, "given")
    key = os.path.join(d, "client.json")
    rc, kout, err = run("keygen", "--out", key)
    assert rc == 0, err
    pk = json.loads(kout)["public_key"]
    pub_line = os.path.join(d, "client.pub")
    with open(pub_line, "w") as f:
        f.write(kout)
    for what, path in (("keygen file", key), ("public key line", pub_line)):
        rc, out, err = st.seal("--client-key", path, cwd=d)
        check(rc == 0 and err == "", f"--client-key {what}: seal succeeds", err)
        if rc != 0:
            continue
        o = json.loads(out)
        p = check_payload(st, o, f"--client-key {what}")
        check(p["client_pubkey"] == pk and o["client_key_file"] == path,
              f"--client-key {what}: the given key is bound")
    check(client_files(d) == [], "--client-key: no new file")
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        f.write('{"public_key":"abcd"}')
    rc, _, err = st.seal("--client-key", bad, cwd=d)
    check(rc == 2 and "--client-key" in error_of(err)["message"],
          "--client-key: a malformed key file is refused", err)


def test_usage(st):
    d = fresh_dir(st.tmp, "usage")
    key = os.path.join(st.tmp, "owner.json")
    for what, extra in (("--client-key with --no-client-key",
                         ["--client-key", key, "--no-client-key"]),
                        ("--client-key with --client-key-out",
                         ["--client-key", key, "--client-key-out", "x.json"]),
                        ("--client-key-out with --no-client-key",
                         ["--client-key-out", "x.json", "--no-client-key"]),
                        ("--no-client-key twice", ["--no-client-key", "--no-client-key"])):
        rc, _, err = st.seal(*extra, cwd=d)
        check(rc == 2 and error_of(err)["code"] == "usage", "usage: " + what, err)
    check(client_files(d) == [] and not os.path.exists(os.path.join(d, "x.json")),
          "usage: no file written")


def test_failures(st):
    d = fresh_dir(st.tmp, "fail")
    # Before the upload: the new file is removed (nothing can be bound to it).
    n = len(st.payloads())
    rc, _, err = st.seal(cwd=d, measurement="00" * 48)
    check(rc == 2 and error_of(err)["code"] == "attestation_failed",
          "failure: wrong measurement refused", err)
    check(client_files(d) == [] and len(st.payloads()) == n,
          "failure before upload: client key file removed, nothing uploaded")
    # After the upload was sent: the file is kept and the error names it.
    st.set_mode("error")
    rc, out, err = st.seal(cwd=d)
    e = error_of(err)
    files = client_files(d)
    check(rc == 2 and out == "" and e["code"] == "unavailable" and len(files) == 1 and
          os.path.basename(files[0]) in e["message"] and "kept" in e["message"],
          "failure after upload: the file is kept and named", err)
    # A response for another key id or policy is refused.
    for mode in ("wrong_key_id", "wrong_hash"):
        st.set_mode(mode)
        rc, out, err = st.seal("--no-client-key", cwd=d)
        check(rc == 2 and out == "" and error_of(err)["code"] == "protocol_error",
              "failure: gateway response " + mode, err)
    st.set_mode("ok")


# ---- the attestation fetch (cli_attestation_fetch.c), through seal and verify-deployment --
OTHER_MEASUREMENT = "ab" * 48
# misbehaviour, seal's error (code, message), verify-deployment's row (verdict, reason)
ATTEST_CASES = [
    ("not a JSON object", {"raw": "[1]"},
     ("protocol_error", "gateway: the attestation response is not a JSON object"),
     ("error", "gateway: the attestation response is not a JSON object")),
    ("gateway error", {"raw": '{"error":{"code":"unavailable","message":"enclave busy"}}',
                       "status": 503},
     ("unavailable", "gateway: HTTP 503: enclave busy"),
     ("error", "gateway: HTTP 503: enclave busy")),
    ("document not base64", {"set": {"document": "!!!!"}},
     ("protocol_error", "attestation response.document: not standard base64"),
     ("error", "attestation response.document: not standard base64")),
    ("measurement member not hex", {"set": {"measurement": "xyz"}},
     ("protocol_error", "attestation response.measurement: expected 96 hex digits"),
     ("error", "attestation response.measurement: expected 96 hex digits")),
    ("sealing_key member not hex", {"set": {"sealing_key": "zz"}},
     ("protocol_error", "attestation response.sealing_key: expected 64 hex digits"),
     ("ok", None)),
    ("document for another nonce", {"other_nonce": True},
     ("attestation_failed", "attestation: the document does not carry our nonce"),
     ("mismatch", "the document does not carry our nonce (a replayed document?)")),
    ("no boot binding", {"no_binding": True},
     ("attestation_failed", "attestation: no boot binding"), ("ok", None)),
    ("another sealing key", {"set": {"sealing_key": "11" * 32}},
     ("attestation_failed", "attestation: sealing_key is not the attested one"), ("ok", None)),
    ("measurement member differs", {"set": {"measurement": OTHER_MEASUREMENT}},
     ("protocol_error", "attestation response.measurement: differs from the document's PCR0"),
     ("mismatch", 'the gateway\'s "measurement" differs from the document\'s PCR0')),
]


def test_attestation(st):
    d = fresh_dir(st.tmp, "attest")
    st.set_attest({"set": {"measurement": st.measurement}})
    rc, out, err = st.seal("--no-client-key", cwd=d)
    check(rc == 0, "attestation: the measurement member agreeing is accepted", err)
    check(st.last_auth() == "Bearer t0ken", "attestation: seal sends its token", st.last_auth())
    rc, row, err = st.verify_deployment()
    check(rc == 0 and row is not None and row["verdict"] == "ok" and
          row["value"] == st.measurement and row["reason"] == "fresh document (our nonce) under "
          "the pinned root, not debug, PCR0 = pinned",
          "attestation: verify-deployment agrees", (rc, row, err))
    check(st.last_auth() == "", "attestation: verify-deployment sends no token without --token")
    rc, row, _ = st.verify_deployment("--token", "t0ken")
    check(rc == 0 and st.last_auth() == "Bearer t0ken",
          "attestation: verify-deployment --token sends it", st.last_auth())
    n = len(st.payloads())
    for label, how, (code, msg), (verdict, reason) in ATTEST_CASES:
        st.set_attest(how)
        rc, out, err = st.seal("--no-client-key", cwd=d)
        e = error_of(err)
        check(rc == 2 and out == "" and e["code"] == code and e["message"] == msg,
              "attestation, %s: seal → %s %r" % (label, code, msg), err)
        rc, row, err = st.verify_deployment()
        want_rc = {"ok": 0, "mismatch": 3, "error": 2}[verdict]
        check(rc == want_rc and row is not None and row["verdict"] == verdict and
              (reason is None or row["reason"] == reason),
              "attestation, %s: verify-deployment → %s %r" % (label, verdict, reason),
              (rc, row, err))
    check(len(st.payloads()) == n, "attestation failures: nothing uploaded")
    st.set_attest(None)
    rc, _, err = st.seal("--no-client-key", cwd=d, measurement=OTHER_MEASUREMENT)
    check(rc == 2 and error_of(err) == {"code": "attestation_failed",
                                        "message": "attestation: PCR0 is not the pinned "
                                                   "--measurement"},
          "attestation, another pinned measurement: seal refuses", err)
    rc, row, _ = st.verify_deployment(measurement=OTHER_MEASUREMENT)
    check(rc == 3 and row["verdict"] == "mismatch" and row["value"] == st.measurement and
          row["reason"] == "PCR0 of the running enclave is not the pinned measurement",
          "attestation, another pinned measurement: verify-deployment mismatch", row)


def main():
    if not os.path.exists(LAUNCH):
        print("skip: no sigil-launch next to", SIGIL)
        return 0
    with tempfile.TemporaryDirectory(prefix="sigil-seal-cli-") as tmp:
        work = fresh_dir(tmp, "standin")
        port_file = os.path.join(work, "port")
        with Launched(tmp, STANDIN, work, E2E, name="standin.py") as la:
            port = wait_for(lambda: open(port_file).read() if os.path.exists(port_file) else None,
                            "the stand-in gateway")
            st = Stand(tmp, work, port, la.ready)
            test_default_client_key(st)
            test_client_key_out(st)
            test_no_client_key(st)
            test_given_client_key(st)
            test_usage(st)
            test_failures(st)
            test_attestation(st)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
