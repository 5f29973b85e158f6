"""Shared pieces of the CLI tests (tests/cli/test_*.py): running sigil and
reading its JSON answers, named checks with a summary, waiting on files, a
stand-in enclave under sigil-launch (soft NSM, dev root), a JSON stand-in for
the gateway on loopback, and the signed messages of docs/POLICY.md rebuilt
independently of the C code (RFC 8785 for the integer/string subset).

Every test here is run by CTest as `python3 FILE <path-to-sigil> <tests-dir>`
and imports this module after putting its own directory on sys.path; SIGIL and
TESTS come from that command line. Not named test_*: CTest runs those.
"""
import contextlib
import hashlib
import http.server
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time

SIGIL = os.path.abspath(sys.argv[1])
TESTS = os.path.abspath(sys.argv[2])
E2E = os.path.join(TESTS, "e2e")
LAUNCH = os.path.join(os.path.dirname(SIGIL), "sigil-launch")
DEADLINE_S = 30  # for slow machines, not a timing assertion
RUN_TIMEOUT_S = 120
sys.path.insert(0, E2E)  # e2e_util (libsodium through ctypes), cbor_min
from e2e_util import read_json  # noqa: E402,F401 (the tests take it from here)

# ---- checks ----------------------------------------------------------------------
failures = []


def check(cond, what, detail=""):
    if cond:
        print("ok  ", what)
    else:
        failures.append(what)
        print("FAIL", what, detail)


def finish():
    """The exit status: 1 after a failed check, else 0."""
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


# ---- running sigil -----------------------------------------------------------------
def run(*args, stdin=b"", cwd=None):
    """(exit status, stdout, stderr) of `sigil ARGS`; stdin str or bytes."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    p = subprocess.run([SIGIL, *args], input=stdin, capture_output=True, cwd=cwd,
                       timeout=RUN_TIMEOUT_S)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def error_line(err):
    """The {"error":{"code","message"}} object among stderr's lines, or None."""
    for line in err.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
            return obj
    return None


def error_of(err):
    """{"code","message"} of the error line; code None when there is none."""
    obj = error_line(err)
    return obj["error"] if obj else {"code": None, "message": err}


def run_json(*args, **kw):
    """(exit status, stdout's JSON or None, the error line's object or None)."""
    rc, out, err = run(*args, **kw)
    return rc, (json.loads(out) if out.strip() else None), error_line(err)


def keygen(tmp, name):
    """`sigil keygen` into tmp/name: (path, seed, public key)."""
    path = os.path.join(tmp, name)
    rc, _, err = run("keygen", "--out", path)
    assert rc == 0, err
    with open(path) as f:
        k = json.load(f)
    return path, bytes.fromhex(k["secret_key"]), bytes.fromhex(k["public_key"])


# ---- files and processes -------------------------------------------------------------
def wait_for(pred, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit("timed out waiting for " + what)


class Launched:
    """A Python script run as the enclave by sigil-launch, in dir: dir/NAME (the
    script, this interpreter prepended as its #! line), dir/state, dir/ready.json.
    Used as a context manager: entered once the launcher's ready file is there
    (`ready`), left with SIGTERM (`rc`: the launcher's exit status, -1 if it had
    to be killed)."""

    def __init__(self, dir, script, *args, name="enclave.py", stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL):
        os.makedirs(dir, exist_ok=True)
        self.script = os.path.join(dir, name)
        with open(self.script, "w") as f:
            f.write("#!" + sys.executable + "\n" + script)
        os.chmod(self.script, 0o755)
        self.ready_file = os.path.join(dir, "ready.json")
        self.argv = [LAUNCH, "--enclave", self.script, "--state", os.path.join(dir, "state"),
                     "--ready-file", self.ready_file, "--", *args]
        self.out, self.err = stdout, stderr
        self.proc, self.ready, self.rc = None, None, None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=self.out, stderr=self.err, text=True)
        try:
            self.ready = wait_for(lambda: read_json(self.ready_file), "the launcher's ready file")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.rc = self.proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.rc = -1


# ---- a stand-in gateway --------------------------------------------------------------
class JsonHandler(http.server.BaseHTTPRequestHandler):
    """Quiet request handler answering JSON bodies."""

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(handler):
    """Serves handler on a loopback port from a thread; yields its base URL."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d" % srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


# ---- docs/POLICY.md messages, independently of the C code -------------------------------
def jcs(v):
    """RFC 8785 for integers, strings, arrays and objects (keys sorted by UTF-16)."""
    if v is True or v is False or v is None:
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}
        return '"' + "".join(short.get(c) or ("\\u%04x" % ord(c) if ord(c) < 0x20 else c)
                             for c in v) + '"'
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))  # UTF-16 code units
        return "{" + ",".join(jcs(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise TypeError(type(v))


def _lp(b):
    return struct.pack(">I", len(b)) + b


def policy_v2_message(policy, key_id):
    """The owner's signed message for a policy bound to key_id."""
    return (b"sigil-policy-v2\0" + _lp(policy["tenant"].encode()) + _lp(key_id.encode()) +
            struct.pack(">Q", policy["version"]) + jcs(policy).encode())


def client_message(key_id, request_text, ts, nonce):
    """The client's signed message: the request's JCS hash, timestamp, nonce."""
    h = hashlib.sha256(jcs(json.loads(request_text)).encode()).digest()
    return (b"sigil-request-v1\0" + _lp(key_id.encode()) + h + struct.pack(">Q", ts) +
            _lp(nonce.encode()))
