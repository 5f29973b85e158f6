#!/usr/bin/env python3
"""`sigil sign-request`: the /v1/sign body with a client signature.

The signature is checked with libsodium (ctypes, tests/e2e/e2e_util.py) over
the message rebuilt from docs/POLICY.md in cli_util.py, with a small RFC 8785 of
our own for the integer/string subset; the request text must be passed through
exactly.
Refusals: bad key files, non-object requests, bad nonces, key ids, timestamps.
Usage: test_sign_request.py <path-to-sigil> <tests-dir>
"""
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import check, client_message, error_of, finish, keygen, run  # noqa: E402
from e2e_util import ed25519_keypair, ed25519_sign, ed25519_verify  # noqa: E402

KEY_ID = "00112233445566778899aabbccddeeff"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# Unsorted keys, escapes, non-ASCII (one outside the BMP, sorted by UTF-16),
# nesting, negative and zero integers, whitespace the output must keep.
REQUEST = ('{"path": "/api/v5/trade/order", "method":"POST",\n'
           ' "body": "{\\"instId\\":\\"BTC-USDT\\",\\"sz\\":\\"0.1\\"}",\n'
           ' "timestamp": 1767225600000, "z\\u00e9": "caf\\u00e9 \\ud83d\\ude00 \\u0001/",\n'
           ' "\\ud83d\\ude00": 0, "\\uff61": -7, "nested": {"b": [1, 2, {"y": "x", "a": true}],'
           ' "a": null}}')


def test_signature(tmp):
    key, seed, pk = keygen(tmp, "client.json")
    stdin = "\n \t" + REQUEST + " \r\n\n"
    rc, out, err = run("sign-request", "--key-id", KEY_ID, "--client-key", key,
                       "--timestamp", "1767225600123", "--nonce", "nonce-0123456789_AB",
                       stdin=stdin)
    check(rc == 0 and err == "", "sign-request: accepted", err)
    if rc != 0:
        return
    # The request keeps its inner line breaks; the body ends with one newline.
    check(out.endswith("}}\n") and out.count("\n") == REQUEST.count("\n") + 1,
          "the body and one newline on stdout")
    line = out[:-1]
    prefix = '{"key_id":"%s","request":%s,"client":{' % (KEY_ID, REQUEST)
    check(line.startswith(prefix), "request text passed through exactly, trimmed at the ends",
          line[:200])
    body = json.loads(line)
    check(list(body) == ["key_id", "request", "client"] and
          list(body["client"]) == ["timestamp", "nonce", "signature"], "member order")
    c = body["client"]
    check(c["timestamp"] == 1767225600123 and c["nonce"] == "nonce-0123456789_AB",
          "given timestamp and nonce")
    sig = bytes.fromhex(c["signature"])
    msg = client_message(KEY_ID, REQUEST, c["timestamp"], c["nonce"])
    check(len(c["signature"]) == 128 and ed25519_verify(pk, msg, sig),
          "signature verifies over the rebuilt message")
    _, sk = ed25519_keypair(seed)
    check(ed25519_sign(sk, msg) == sig, "signature equals the Python one")
    other = client_message("f" * 32, REQUEST, c["timestamp"], c["nonce"])
    check(not ed25519_verify(pk, other, sig), "the key id is bound")

    # Member order and spacing do not change the hash: the same object
    # written differently gives the same signature.
    reordered = json.dumps(json.loads(REQUEST), ensure_ascii=False, sort_keys=True)
    rc, out2, err = run("sign-request", "--key-id", KEY_ID, "--client-key", key,
                        "--timestamp", "1767225600123", "--nonce", "nonce-0123456789_AB",
                        stdin=reordered)
    check(rc == 0 and json.loads(out2)["client"]["signature"] == c["signature"],
          "the signature covers the canonical form", err)


def test_one_line(tmp):
    key, _, _ = keygen(tmp, "client1.json")
    rc, out, err = run("sign-request", "--key-id", KEY_ID, "--client-key", key,
                       stdin='  {"a": 1,  "b": "x"}\n')
    check(rc == 0 and out.count("\n") == 1 and
          out.startswith('{"key_id":"%s","request":{"a": 1,  "b": "x"},"client":' % KEY_ID),
          "a one-line request gives a one-line body", err)


def test_defaults(tmp):
    key, _, pk = keygen(tmp, "client2.json")
    req = '{"action":{"type":"order","orders":[]},"nonce":1767225600000}'
    before = int(time.time() * 1000)
    bodies = []
    for _ in range(2):
        rc, out, err = run("sign-request", "--key-id", KEY_ID, "--client-key", key, stdin=req)
        check(rc == 0, "defaults: accepted", err)
        if rc == 0:
            bodies.append(json.loads(out))
    after = int(time.time() * 1000)
    if len(bodies) != 2:
        return
    for b in bodies:
        c = b["client"]
        check(before <= c["timestamp"] <= after, "default timestamp is now (ms)", c["timestamp"])
        check(len(c["nonce"]) == 43 and NONCE_RE.match(c["nonce"]),
              "default nonce: 43 base64url characters", c["nonce"])
        check(ed25519_verify(pk, client_message(KEY_ID, req, c["timestamp"], c["nonce"]),
                     bytes.fromhex(c["signature"])), "default fields are signed")
    check(bodies[0]["client"]["nonce"] != bodies[1]["client"]["nonce"], "nonces differ")


def test_refusals(tmp):
    key, seed, pk = keygen(tmp, "client3.json")
    ok_req = '{"a":1}'

    def refused(what, args, stdin=ok_req, code=None, text=None):
        rc, out, err = run("sign-request", *args, stdin=stdin)
        e = error_of(err)
        check(rc == 2 and out == "" and e["code"] is not None and
              (code is None or e["code"] == code) and (text is None or text in e["message"]) and
              len(err.strip().splitlines()) == 1, "refused: " + what, err)
        check(seed.hex() not in err, "no secret in the error: " + what)

    base = ["--key-id", KEY_ID, "--client-key", key]
    # Key files.
    pub = os.path.join(tmp, "pub.json")
    with open(pub, "w") as f:
        json.dump({"public_key": pk.hex()}, f)
    refused("public key only", ["--key-id", KEY_ID, "--client-key", pub], code="missing_field",
            text="--client-key")
    _, seed_b, _ = keygen(tmp, "other.json")
    mixed = os.path.join(tmp, "mixed.json")
    with open(mixed, "w") as f:
        json.dump({"type": "ed25519", "public_key": pk.hex(), "secret_key": seed_b.hex()}, f)
    refused("key halves do not match", ["--key-id", KEY_ID, "--client-key", mixed],
            code="bad_credentials", text="--client-key")
    short = os.path.join(tmp, "short.json")
    with open(short, "w") as f:
        json.dump({"type": "ed25519", "public_key": pk.hex(), "secret_key": "abcd"}, f)
    refused("short secret", ["--key-id", KEY_ID, "--client-key", short], code="bad_credentials")
    other_type = os.path.join(tmp, "type.json")
    with open(other_type, "w") as f:
        json.dump({"type": "rsa", "public_key": pk.hex(), "secret_key": seed.hex()}, f)
    refused("key type", ["--key-id", KEY_ID, "--client-key", other_type],
            code="unknown_key_type")
    not_json = os.path.join(tmp, "garbage.json")
    with open(not_json, "w") as f:
        f.write("secret")
    refused("key file not JSON", ["--key-id", KEY_ID, "--client-key", not_json])
    refused("no key file", ["--key-id", KEY_ID, "--client-key", os.path.join(tmp, "nope")],
            code="io_error")
    # Requests.
    refused("array request", base, stdin="[1,2]", code="bad_request")
    refused("scalar request", base, stdin="42", code="bad_json")
    refused("empty request", base, stdin="  \n", code="bad_json")
    refused("two objects", base, stdin='{"a":1} {"b":2}', code="bad_json")
    refused("duplicate key", base, stdin='{"a":1,"a":2}', code="duplicate_key")
    refused("invalid UTF-8", base, stdin=b'{"a":"\xff"}')
    refused("too large", base, stdin=b'{"a":"' + b"x" * (256 * 1024) + b'"}', code="too_large")
    # Nonces.
    for what, nonce in (("15 characters", "a" * 15), ("65 characters", "a" * 65),
                        ("padding", "abcdefghijklmnop="), ("plus", "abcdefghijklmno+"),
                        ("space", "abcdefgh ijklmnop"), ("empty", "")):
        refused("nonce " + what, base + ["--nonce", nonce], code="bad_field", text="--nonce")
    # Key ids and timestamps.
    for bad in ("", "0123", KEY_ID.upper(), KEY_ID + "0", "x" * 32):
        refused(f"key id {bad!r}", ["--key-id", bad, "--client-key", key], code="usage")
    for bad in ("-1", "1.5", "", "1e3", "12a", "99999999999999999999"):
        refused(f"timestamp {bad!r}", base + ["--timestamp", bad])
    refused("timestamp above 2^53-1", base + ["--timestamp", str(2 ** 53)], code="out_of_range")
    refused("no --client-key", ["--key-id", KEY_ID], code="usage")
    refused("no --key-id", ["--client-key", key], code="usage")
    refused("extra argument", base + ["x"], code="usage")
    refused("option twice", base + ["--nonce", "a" * 16, "--nonce", "b" * 16], code="usage")
    # Boundaries that are fine.
    for nonce in ("a" * 16, "Z9_-" * 16):
        rc, _, err = run("sign-request", *base, "--nonce", nonce, stdin=ok_req)
        check(rc == 0, f"nonce of {len(nonce)} accepted", err)
    rc, _, err = run("sign-request", *base, "--timestamp", str(2 ** 53 - 1), stdin=ok_req)
    check(rc == 0, "timestamp 2^53-1 accepted", err)


def main():
    with tempfile.TemporaryDirectory(prefix="sigil-sign-request-") as tmp:
        test_signature(tmp)
        test_one_line(tmp)
        test_defaults(tmp)
        test_refusals(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
