#!/usr/bin/env python3
"""End-to-end attestation in dev mode, and `sigil attestation verify` / `sigil measure`.

sigil-launch measures a tiny stand-in enclave (a script), starts it with an NSM socket,
the script asks for an attestation document with a nonce, and `sigil attestation verify`
checks it against the launcher's dev root and the measurement `sigil measure` computes.
Then: the real AWS vectors through the CLI, restart with re-measurement, clean shutdown.
Usage: test_attestation_cli.py <path-to-sigil> <tests-dir>
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

SIGIL = os.path.abspath(sys.argv[1])
TESTS = os.path.abspath(sys.argv[2])
VEC = os.path.join(TESTS, "vectors", "nitro")
LAUNCH = os.path.join(os.path.dirname(SIGIL), "sigil-launch")
DEADLINE_S = 30  # a deadline for slow machines, not a timing assertion

BLOCKY = ("nitro_attestation_blocky_prod_20240907.bin", 1725719859,
          "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a")

# The stand-in enclave: one Attestation request over the inherited NSM socket,
# the document written to the file named by its first argument, then it waits.
ENCLAVE = r'''#!%(python)s
import os, socket, struct, sys, time
args = sys.argv[1:]
fd = int(args[args.index("--nsm-fd") + 1])
out = args[0]
s = socket.socket(fileno=fd)
nonce = bytes(range(8))
req = (b"\xa1\x6bAttestation\xa3\x69user_data\xf6\x65nonce\x48" + nonce +
       b"\x6apublic_key\xf6")
s.sendall(struct.pack(">I", len(req)) + req)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit(3)
        b += c
    return b
n = struct.unpack(">I", recv(4))[0]
resp = recv(n)
head = b"\xa1\x6bAttestation\xa1\x68document\x59"
assert resp.startswith(head), resp[:40]
doc = resp[len(head) + 2:]
tmp = out + ".tmp"
with open(tmp, "wb") as f:
    f.write(doc)
os.rename(tmp, out)
# Garbage gets an Error reply, not a closed socket.
s.sendall(struct.pack(">I", 3) + b"\xff\xff\xff")
n = struct.unpack(">I", recv(4))[0]
assert recv(n) == b"\xa1\x65Error\x70InvalidOperation"
while True:
    time.sleep(1)
'''

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([SIGIL, *args], capture_output=True, text=True)


def verify(*args):
    p = run("attestation", "verify", *args)
    out = json.loads(p.stdout) if p.returncode == 0 else None
    err = json.loads(p.stderr) if p.returncode != 0 and p.stderr.strip() else None
    return p.returncode, out, err


def wait_for(pred, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit("timed out waiting for " + what)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def test_real_vectors():
    doc = os.path.join(VEC, BLOCKY[0])
    rc, out, _ = verify("--document", doc, "--root", "aws", "--measurement", BLOCKY[2],
                        "--at", str(BLOCKY[1]))
    check(rc == 0 and out["ok"] and out["measurement"] == BLOCKY[2], "blocky prod verifies")
    check(out is not None and "boot" not in out and len(out["nonce"]) == 2048,
          "no boot binding in a foreign document")
    rc, _, err = verify("--document", doc, "--root", "aws", "--measurement", BLOCKY[2])
    check(rc == 2 and err["error"]["code"] == "attestation_failed" and
          "expired" in err["error"]["message"], "blocky prod fails now")
    rc, _, err = verify("--document", doc, "--root", "aws", "--measurement", "00" * 48,
                        "--at", str(BLOCKY[1]))
    check(rc == 2 and "PCR0" in err["error"]["message"], "wrong measurement refused")
    rc, _, err = verify("--document", doc, "--root", "aws", "--measurement", BLOCKY[2],
                        "--at", str(BLOCKY[1]), "--nonce", "0102")
    check(rc == 2 and "nonce" in err["error"]["message"], "wrong nonce refused")
    rc, _, err = verify("--document", os.path.join(VEC, "nitro_attestation_blocky_debug_20240907.bin"),
                        "--root", "aws", "--measurement", "00" * 48, "--at", "1725719886")
    check(rc == 2 and "debug" in err["error"]["message"], "debug document refused")
    rc, out, _ = verify("--document", os.path.join(VEC, "nitro_attestation_blocky_debug_20240907.bin"),
                        "--root", "aws", "--measurement", "00" * 48, "--at", "1725719886",
                        "--allow-debug")
    check(rc == 0, "debug document accepted with --allow-debug")
    rc, _, err = verify("--document", os.path.join(VEC, "softnsm_devchain_doc_20300101.bin"),
                        "--root", "aws", "--measurement", "00" * 48, "--at", "1893456000")
    check(rc == 2 and "chain" in err["error"]["message"], "dev document refused under the AWS root")
    rc, _, err = verify("--document", os.path.join(VEC, "MOCK_not_nitro_blocky_selfsigned_attestation.bin"),
                        "--root", "aws", "--measurement", "00" * 48)
    check(rc == 2 and err["error"]["code"] == "attestation_failed", "mock document refused")


def test_usage_errors():
    doc = os.path.join(VEC, BLOCKY[0])
    cases = [
        ("no measurement", ["--document", doc, "--root", "aws"], "usage"),
        ("no root", ["--document", doc, "--measurement", BLOCKY[2]], "usage"),
        ("two roots", ["--document", doc, "--root", "aws", "--trust-dev-root", doc,
                       "--measurement", BLOCKY[2]], "usage"),
        ("unknown root", ["--document", doc, "--root", "gcp", "--measurement", BLOCKY[2]], "usage"),
        ("short measurement", ["--document", doc, "--root", "aws", "--measurement", "ab"], None),
        ("bad --at", ["--document", doc, "--root", "aws", "--measurement", BLOCKY[2],
                      "--at", "-5"], "usage"),
        ("missing document", ["--document", "/nonexistent", "--root", "aws",
                              "--measurement", BLOCKY[2]], "io_error"),
        ("dev root not PEM", ["--document", doc, "--trust-dev-root", doc,
                              "--measurement", BLOCKY[2]], "bad_encoding"),
    ]
    for what, args, code in cases:
        rc, _, err = verify(*args)
        check(rc == 2 and err is not None and (code is None or err["error"]["code"] == code),
              "usage: " + what)
    p = run("attestation")
    check(p.returncode == 2, "attestation without verify")
    p = run("measure")
    check(p.returncode == 2 and json.loads(p.stderr)["error"]["code"] == "usage", "measure usage")


def test_launch_end_to_end(tmp):
    if not os.path.exists(LAUNCH):
        print("skip: no sigil-launch next to", SIGIL)
        return
    enclave = os.path.join(tmp, "enclave.py")
    with open(enclave, "w") as f:
        f.write(ENCLAVE % {"python": sys.executable})
    os.chmod(enclave, 0o755)
    state, ready, docf = (os.path.join(tmp, n) for n in ("state", "ready.json", "doc.bin"))
    proc = subprocess.Popen([LAUNCH, "--enclave", enclave, "--state", state, "--ready-file", ready,
                             "--", docf], stderr=subprocess.PIPE, text=True)
    try:
        r = wait_for(lambda: read_json(ready), "the ready file")
        wait_for(lambda: os.path.exists(docf), "the first document")
        m = run("measure", enclave).stdout.strip()
        check(r["measurement"] == m, "ready file measurement == sigil measure")
        check(r["pid"] == proc.pid and r["enclave_pid"] > 0, "ready file pids")
        check(r["root"] == os.path.join(os.path.realpath(state), "root.pem"), "ready file root")
        check(oct(os.stat(os.path.join(state, "root.key")).st_mode & 0o777) == "0o600",
              "dev CA key is 0600")
        rc, out, err = verify("--document", docf, "--trust-dev-root", r["root"], "--measurement", m,
                              "--nonce", "0001020304050607")
        check(rc == 0 and out["measurement"] == m and out["nonce"] == "0001020304050607" and
              out["user_data"] is None, "launcher document verifies (%s)" % (err,))
        rc, _, err = verify("--document", docf, "--root", "aws", "--measurement", m)
        check(rc == 2 and "chain" in err["error"]["message"], "launcher document fails under AWS")

        # Swap the binary on disk, kill the enclave: restarted and measured anew.
        with open(enclave, "a") as f:
            f.write("# patched\n")
        os.unlink(docf)
        first_pid = r["enclave_pid"]
        os.kill(first_pid, signal.SIGKILL)
        r2 = wait_for(lambda: (lambda j: j if j and j["enclave_pid"] != first_pid else None)(
            read_json(ready)), "the restart")
        wait_for(lambda: os.path.exists(docf), "the second document")
        m2 = run("measure", enclave).stdout.strip()
        check(m2 != m and r2["measurement"] == m2, "restart re-measures the swapped binary")
        rc, _, err = verify("--document", docf, "--trust-dev-root", r2["root"], "--measurement", m)
        check(rc == 2 and "PCR0" in err["error"]["message"], "old measurement no longer matches")
        rc, _, _ = verify("--document", docf, "--trust-dev-root", r2["root"], "--measurement", m2)
        check(rc == 0, "new document verifies with the new measurement")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -1
        log = proc.stderr.read()
    check(rc == 0, "sigil-launch exits 0 on SIGTERM")
    check(not os.path.exists(ready), "ready file removed on exit")
    lines = [line for line in log.splitlines() if line]
    check(lines and all(line.startswith("sigil-launch:") for line in lines),
          "every log line is prefixed")
    check(any("restarting" in line for line in lines), "the restart is logged")


def main():
    test_real_vectors()
    test_usage_errors()
    with tempfile.TemporaryDirectory(prefix="sigil-attest-cli-") as tmp:
        test_launch_end_to_end(tmp)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
