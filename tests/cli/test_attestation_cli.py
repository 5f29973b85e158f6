#!/usr/bin/env python3
"""End-to-end attestation in dev mode, and `sigil attestation verify` / `sigil measure`.

sigil-launch measures a tiny stand-in enclave (a script), starts it with an NSM socket,
the script asks for an attestation document with a nonce, and `sigil attestation verify`
checks it against the launcher's dev root and the measurement `sigil measure` computes.
Then: the real AWS vectors through the CLI, restart with re-measurement, clean shutdown.
Usage: test_attestation_cli.py <path-to-sigil> <tests-dir>
"""
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import (LAUNCH, SIGIL, TESTS, Launched, check, finish, read_json,  # noqa: E402
                      run, run_json, wait_for)

VEC = os.path.join(TESTS, "vectors", "nitro")

BLOCKY = ("nitro_attestation_blocky_prod_20240907.bin", 1725719859,
          "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a")

# The stand-in enclave: one Attestation request over the inherited NSM socket,
# the document written to the file named by its first argument, then it waits.
ENCLAVE = r'''import os, socket, struct, sys, time
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

def verify(*args):
    return run_json("attestation", "verify", *args)


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
    rc, _, _ = run("attestation")
    check(rc == 2, "attestation without verify")
    rc, _, err = run_json("measure")
    check(rc == 2 and err["error"]["code"] == "usage", "measure usage")


def test_launch_end_to_end(tmp):
    if not os.path.exists(LAUNCH):
        print("skip: no sigil-launch next to", SIGIL)
        return
    docf = os.path.join(tmp, "doc.bin")
    with Launched(tmp, ENCLAVE, docf, stderr=subprocess.PIPE) as la:
        r, enclave = la.ready, la.script
        state = os.path.join(tmp, "state")
        wait_for(lambda: os.path.exists(docf), "the first document")
        m = run("measure", enclave)[1].strip()
        check(r["measurement"] == m, "ready file measurement == sigil measure")
        check(r["pid"] == la.proc.pid and r["enclave_pid"] > 0, "ready file pids")
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
            read_json(la.ready_file)), "the restart")
        wait_for(lambda: os.path.exists(docf), "the second document")
        m2 = run("measure", enclave)[1].strip()
        check(m2 != m and r2["measurement"] == m2, "restart re-measures the swapped binary")
        rc, _, err = verify("--document", docf, "--trust-dev-root", r2["root"], "--measurement", m)
        check(rc == 2 and "PCR0" in err["error"]["message"], "old measurement no longer matches")
        rc, _, _ = verify("--document", docf, "--trust-dev-root", r2["root"], "--measurement", m2)
        check(rc == 0, "new document verifies with the new measurement")
    log = la.proc.stderr.read()
    check(la.rc == 0, "sigil-launch exits 0 on SIGTERM")
    check(not os.path.exists(la.ready_file), "ready file removed on exit")
    lines = [line for line in log.splitlines() if line]
    check(lines and all(line.startswith("sigil-launch:") for line in lines),
          "every log line is prefixed")
    check(any("restarting" in line for line in lines), "the restart is logged")


def main():
    test_real_vectors()
    test_usage_errors()
    with tempfile.TemporaryDirectory(prefix="sigil-attest-cli-") as tmp:
        test_launch_end_to_end(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
