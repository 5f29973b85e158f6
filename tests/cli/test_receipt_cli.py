#!/usr/bin/env python3
"""`sigil receipt verify` against real dev-CA attestation documents.

The unit-test binary's helper mode (`test_receipt mkdoc`) builds documents whose
user_data binds a boot id and an Ed25519 receipt key this test holds, dated
when we like under a dev root valid from 30 days ago: one a day old (its leaf
expired 3 hours after it was made), one fresh. Receipts are built here
independently of the C code (JCS via json.dumps, Ed25519 via libsodium
through ctypes) and checked through the CLI: allow and deny receipts verify
(bare, inside a /v1/sign response, inside an error body), the expired-leaf
document still verifies at its own time, any changed byte of the receipt file
fails, a wrong measurement fails, a receipt from another boot fails, and the
--gateway path fetches the archived document with the bearer token.
Usage: test_receipt_cli.py <path-to-sigil> <tests-dir>
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import SIGIL, JsonHandler, check, finish, run, run_json, serving  # noqa: E402
from e2e_util import canonical, ed25519_keypair, ed25519_sign, now_ms  # noqa: E402

HELPER = os.path.join(os.path.dirname(SIGIL), "test_receipt")
TOKEN = "tok_receipt_cli_0123456789"


class Boot:
    """One enclave boot: id, receipt key, attestation document, receipt chain."""

    def __init__(self, tmp, name, measurement, ts_ms):
        self.boot_id = os.urandom(16).hex()
        self.seed = os.urandom(32)
        self.pk, self.sk = ed25519_keypair(self.seed)
        self.doc = os.path.join(tmp, name + ".doc")
        self.measurement = measurement
        self.seq = 0
        self.prev = "00" * 32
        p = subprocess.run([HELPER, "mkdoc", os.path.join(tmp, "ca"), str(ts_ms), measurement,
                            self.boot_id, self.pk.hex(), self.doc], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("mkdoc failed: " + p.stderr)

    def receipt(self, allow=True, sk=None, **override):
        """The next receipt of the chain, in wire form (text), and its hash."""
        self.seq += 1
        r = {"v": 1, "boot_id": self.boot_id, "seq": self.seq, "prev": self.prev,
             "measurement": self.measurement, "mode": "dev", "time": now_ms(),
             "tenant": "acme", "key_id": os.urandom(16).hex(), "venue": "binance",
             "network": "mainnet", "action": "order" if allow else "withdraw",
             "request_hash": hashlib.sha256(b'{"symbol":"BTCUSDT"}').hexdigest(),
             "policy_hash": os.urandom(32).hex(), "decision": "allow" if allow else "deny"}
        if allow:
            r["output_hash"] = hashlib.sha256(b'{"url":"https://api.binance.com/"}').hexdigest()
        else:
            r["reason"] = "policy_denied: policy: action withdraw not allowed"
        r.update(override)
        canon = canonical(r)
        sig = ed25519_sign(sk or self.sk, b"sigil-receipt-v1\0" + canon)
        h = hashlib.sha256(canon).hexdigest()
        self.prev = h
        wire = canon[:-1] + b',"signature":"' + sig.hex().encode() + b'"}'
        return wire.decode(), h, r


def write(tmp, name, data, mode="w"):
    path = os.path.join(tmp, name)
    with open(path, mode) as f:
        f.write(data)
    return path


def verify(receipt_file, measurement, root, *extra):
    return run_json("receipt", "verify", "--receipt", receipt_file, "--measurement", measurement,
               "--trust-dev-root", root, *extra)


def err_has(err, code, needle):
    return err is not None and err["error"]["code"] == code and needle in err["error"]["message"]


def test_verify(tmp, root, a, b):
    m = a.measurement
    wire1, h1, r1 = a.receipt(allow=True)
    wire2, h2, r2 = a.receipt(allow=False)
    check(r2["prev"] == h1, "the chain links receipt 2 to receipt 1")
    f1 = write(tmp, "r1.json", wire1)
    rc, out, err = verify(f1, m, root, "--attestation", a.doc)
    check(rc == 0 and out == {"ok": True, "boot_id": a.boot_id, "seq": 1, "decision": "allow",
                              "action": "order", "key_id": r1["key_id"], "hash": h1},
          "allow receipt verifies (%s %s)" % (out, err))

    # The day-old document's leaf expired long ago: verification "now" fails,
    # the receipt check (at the document's own time) does not.
    rc_att, _, err_att = run_json("attestation", "verify", "--document", a.doc, "--trust-dev-root", root,
                             "--measurement", m)
    check(rc_att == 2 and "expired" in err_att["error"]["message"],
          "the old document's leaf is expired now (%s)" % (err_att,))

    body = json.dumps({"error": {"code": "policy_denied", "message": "policy: action withdraw "
                                 "not allowed"}, "receipt": json.loads(wire2)}, indent=2)
    f2 = write(tmp, "deny_body.json", body)
    rc, out, err = verify(f2, m, root, "--attestation", a.doc)
    check(rc == 0 and out["decision"] == "deny" and out["seq"] == 2 and out["hash"] == h2 and
          out["action"] == "withdraw", "deny receipt in an error body verifies (%s)" % (err,))

    resp = '{"key_id":"%s","action":"order","signed":{"url":"https://api.binance.com/"},' \
           '"receipt":%s}' % (r1["key_id"], wire1)
    rc, out, err = verify(write(tmp, "sign_resp.json", resp), m, root, "--attestation", a.doc)
    check(rc == 0 and out["hash"] == h1, "receipt inside a /v1/sign response verifies (%s)" % (err,))

    # The archive's JSON form of the document.
    with open(a.doc, "rb") as f:
        doc = f.read()
    arch = write(tmp, "archive.json", json.dumps({"boot_id": a.boot_id, "document":
                                                  base64.b64encode(doc).decode(),
                                                  "measurement": m, "created_at": now_ms()}))
    rc, out, err = verify(f1, m, root, "--attestation", arch)
    check(rc == 0, "the archive JSON form of the document is accepted (%s)" % (err,))
    arch_b = write(tmp, "archive_b.json", json.dumps({"boot_id": b.boot_id, "document":
                                                      base64.b64encode(doc).decode()}))
    rc, _, err = verify(f1, m, root, "--attestation", arch_b)
    check(rc == 2 and err_has(err, "attestation_failed", "another boot"),
          "an archive for another boot id is refused (%s)" % (err,))

    # The fresh boot verifies too.
    wire_b, _, _ = b.receipt(allow=True)
    fb = write(tmp, "rb.json", wire_b)
    rc, out, err = verify(fb, m, root, "--attestation", b.doc)
    check(rc == 0 and out["boot_id"] == b.boot_id, "a receipt of the fresh boot verifies (%s)" % (err,))
    return f1, fb


def test_refusals(tmp, root, a, b, f1, fb):
    m = a.measurement
    rc, _, err = verify(f1, "00" * 48, root, "--attestation", a.doc)
    check(rc == 2 and err_has(err, "attestation_failed", "PCR0"), "wrong measurement refused (%s)" % (err,))
    rc, _, err = verify(fb, m, root, "--attestation", a.doc)
    check(rc == 2 and err_has(err, "attestation_failed", "boot"),
          "a receipt from another boot refused (%s)" % (err,))
    rc, _, err = verify(f1, m, root, "--attestation", b.doc)
    check(rc == 2 and err_has(err, "attestation_failed", "boot"), "boot A receipt vs boot B document")
    wire, _, _ = a.receipt(allow=True, sk=b.sk)
    rc, _, err = verify(write(tmp, "wrongkey.json", wire), m, root, "--attestation", a.doc)
    check(rc == 2 and err_has(err, "bad_signature", "receipt"), "receipt signed by another key (%s)" % (err,))
    wire, _, _ = a.receipt(allow=True, measurement="cd" * 48)
    rc, _, err = verify(write(tmp, "othermeas.json", wire), m, root, "--attestation", a.doc)
    check(rc == 2 and err_has(err, "attestation_failed", "measurement"),
          "receipt naming another measurement (%s)" % (err,))
    rc, _, err = run_json("receipt", "verify", "--receipt", f1, "--measurement", m,
                          "--root", "aws", "--attestation", a.doc)
    check(rc == 2 and err_has(err, "attestation_failed", "chain"), "dev document under the AWS root")
    wire, _, _ = a.receipt(allow=True, extra=1)
    rc, _, err = verify(write(tmp, "extra.json", wire), m, root, "--attestation", a.doc)
    check(rc == 2 and err_has(err, "unknown_field", "extra"), "unknown member refused (%s)" % (err,))


def test_every_byte(tmp, root, a, f1):
    """Any changed byte of the receipt file fails (parse, format or signature)."""
    with open(f1, "rb") as f:
        good = f.read()
    path = os.path.join(tmp, "flip.json")
    accepted = []
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x01
        with open(path, "wb") as f:
            f.write(bytes(bad))
        rc, _, _ = run("receipt", "verify", "--receipt", path, "--measurement", a.measurement,
                       "--trust-dev-root", root, "--attestation", a.doc)
        if rc != 2:
            accepted.append(i)
    check(not accepted, "every flipped byte fails (accepted at %s)" % accepted[:10])


def test_usage(tmp, root, a, f1):
    m = a.measurement
    cases = [
        ("no document source", ["--receipt", f1, "--measurement", m, "--trust-dev-root", root]),
        ("two document sources", ["--receipt", f1, "--measurement", m, "--trust-dev-root", root,
                                  "--attestation", a.doc, "--gateway", "http://127.0.0.1:1"]),
        ("token without gateway", ["--receipt", f1, "--measurement", m, "--trust-dev-root", root,
                                   "--attestation", a.doc, "--token", "x"]),
        ("no root", ["--receipt", f1, "--measurement", m, "--attestation", a.doc]),
        ("no measurement", ["--receipt", f1, "--trust-dev-root", root, "--attestation", a.doc]),
        ("no receipt", ["--measurement", m, "--trust-dev-root", root, "--attestation", a.doc]),
        ("repeated option", ["--receipt", f1, "--receipt", f1, "--measurement", m,
                             "--trust-dev-root", root, "--attestation", a.doc]),
    ]
    for what, args in cases:
        rc, _, err = run_json("receipt", "verify", *args)
        check(rc == 2 and err is not None and err["error"]["code"] == "usage", "usage: " + what)
    rc, _, err = run_json("receipt")
    check(rc == 2 and err["error"]["code"] == "usage", "receipt without verify")
    rc, _, err = verify(os.path.join(tmp, "missing.json"), m, root, "--attestation", a.doc)
    check(rc == 2 and err["error"]["code"] == "io_error", "missing receipt file")


def archive_handler(boots):
    """GET /v1/attestation/boots/{id} as the gateway answers it (docs/API.md)."""
    class Handler(JsonHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                return self.reply(401, {"error": {"code": "unauthorized", "message": "bad token"}})
            prefix = "/v1/attestation/boots/"
            boot = boots.get(self.path[len(prefix):]) if self.path.startswith(prefix) else None
            if boot is None:
                return self.reply(404, {"error": {"code": "not_found", "message": "no such boot"}})
            with open(boot.doc, "rb") as f:
                doc = f.read()
            self.reply(200, {"boot_id": boot.boot_id, "document": base64.b64encode(doc).decode(),
                             "measurement": boot.measurement, "created_at": now_ms()})

    return Handler


def test_gateway(root, a, b, f1, fb):
    with serving(archive_handler({a.boot_id: a})) as base:
        url = base + "/"  # sigil drops the trailing slash
        rc, out, err = verify(f1, a.measurement, root, "--gateway", url, "--token", TOKEN)
        check(rc == 0 and out["boot_id"] == a.boot_id, "--gateway fetches the boot's document (%s)" % (err,))
        rc, _, err = verify(fb, a.measurement, root, "--gateway", url, "--token", TOKEN)
        check(rc == 2 and err_has(err, "not_found", "HTTP 404"), "unknown boot: not_found (%s)" % (err,))
        rc, _, err = verify(f1, a.measurement, root, "--gateway", url, "--token", "wrong")
        check(rc == 2 and err_has(err, "unauthorized", "HTTP 401"), "bad token: unauthorized (%s)" % (err,))


def main():
    if not os.path.exists(HELPER):
        print("FAIL: no test_receipt helper next to", SIGIL)
        return 1
    with tempfile.TemporaryDirectory(prefix="sigil-receipt-cli-") as tmp:
        measurement = os.urandom(48).hex()
        a = Boot(tmp, "boot_a", measurement, now_ms() - 26 * 3600 * 1000)  # leaf expired
        b = Boot(tmp, "boot_b", measurement, now_ms() - 60 * 1000)
        root = os.path.join(tmp, "ca", "root.pem")
        f1, fb = test_verify(tmp, root, a, b)
        test_refusals(tmp, root, a, b, f1, fb)
        test_usage(tmp, root, a, f1)
        test_gateway(root, a, b, f1, fb)
        test_every_byte(tmp, root, a, f1)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
