"""Shared pieces of the secret-hygiene tests (tests/hygiene): a dev stack with
a known secret sealed, scanning files for that secret in every encoding a
careless program would write it in, process exit states read from /proc,
and running helpers under an unprivileged uid (CI runs as root).

Each test file is run by CTest as `python3 FILE <bin-dir> <tests-dir>`; a
file that cannot run here (sanitizer build: no hardening) exits 77.
"""
import base64
import ctypes
import ctypes.util
import errno
import hashlib
import hmac
import json
import os
import re
import signal
import stat
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_util import Checks, StackError, TempStack, now_ms  # noqa: E402,F401
from devstack import DevStack, _wait_ready  # noqa: E402,F401
from e2e_util import wait_for as _wait_for  # noqa: E402

SKIP = 77
SEED = int(os.environ.get("SIGIL_TEST_SEED", "20261125"))
SIGSYS = signal.SIGSYS
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ORDER_BODY = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"


def marker_secret(rng):
    """A 64-character Binance-style secret that occurs nowhere by chance."""
    return "".join(rng.choice(ALNUM) for _ in range(64))


# ---- the forms of a secret ----------------------------------------------------
def secret_forms(secret):
    """Byte strings whose presence means the secret leaked: raw, hex (both
    cases), and base64 (standard and URL-safe) of the secret at each of the
    three alignments it can have inside a longer base64 text."""
    raw = secret.encode()
    forms = {"raw": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()}
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw)
        # drop the characters that mix in the padding bytes or the next byte
        start = (shift * 4 + 2) // 3
        core = enc[start:(len(shift * b"\0" + raw) // 3) * 4]
        forms[f"base64+{shift}"] = core
        forms[f"base64url+{shift}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return forms


def find_forms(data, forms):
    return [name for name, f in forms.items() if f in data]


def scan_file(path, forms, chunk=16 << 20):
    """The forms found in one file, read in overlapping chunks (cores are big)."""
    found, keep, tail = set(), max(len(f) for f in forms.values()) - 1, b""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None  # FIFOs, sockets, devices: nothing written to disk
        with open(path, "rb") as f:
            while True:
                block = f.read(chunk)
                if not block:
                    break
                found.update(find_forms(tail + block, forms))
                tail = (tail + block)[-keep:]
    except OSError:
        return None
    return sorted(found)


def scan_tree(root, forms):
    """({path: [forms found]}, files scanned) for every regular file under root."""
    hits, scanned = {}, 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            found = scan_file(path, forms)
            if found is None:
                continue
            scanned += 1
            if found:
                hits[path] = found
    return hits, scanned


# ---- processes ----------------------------------------------------------------
def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def zombie_status(pid, timeout=30):
    """The wait status of a process whose parent is stopped (so it stays a
    zombie): field 52 of /proc/PID/stat, as waitpid would report it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = proc_stat(pid)
        if st is None:
            return None
        if st[0] in ("Z", "X"):
            return int(st[-1])
        time.sleep(0.05)
    return None


def describe_status(status):
    if status is None:
        return "unknown"
    sig, core = status & 0x7F, bool(status & 0x80)
    if sig == 0:
        return f"exit {status >> 8}"
    return f"signal {sig}{' (core dumped)' if core else ''}"


def log_text(stack, name):
    try:
        with open(stack.logs[name], errors="replace") as f:
            return f.read()
    except (KeyError, OSError):
        return ""


def wait_for(cond, timeout=30, step=0.05):
    """cond()'s first true value within timeout seconds, else None."""
    return _wait_for(cond, timeout, step)


SECCOMP_LINE = re.compile(r"seccomp allowlist of (\d+) system calls, mode (\w+)")


def seccomp_mode(text):
    m = SECCOMP_LINE.search(text)
    return m.group(2) if m else None


# ---- an unprivileged uid ------------------------------------------------------
NOBODY = 65534


def as_nobody():
    """preexec_fn: drop to nobody/nogroup for good."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def nobody_dir(prefix):
    import tempfile
    d = tempfile.mkdtemp(prefix=prefix)
    os.chown(d, NOBODY, NOBODY)
    return d


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long
PTRACE_ATTACH, PTRACE_DETACH = 16, 17


def _errname(e):
    return errno.errorcode.get(e, str(e))


def _probe(pid):
    """PTRACE_ATTACH, then a read of /proc/PID/mem at its first mapping."""
    out = {"uid": os.getuid()}
    r = _libc.ptrace(PTRACE_ATTACH, pid, None, None)
    out["attach"] = "ok" if r == 0 else _errname(ctypes.get_errno())
    if r == 0:
        os.waitpid(pid, 0x40000000)  # __WALL: the tracee stops
        _libc.ptrace(PTRACE_DETACH, pid, None, None)
    try:
        with open(f"/proc/{pid}/maps") as f:
            start = int(f.readline().split("-")[0], 16)
        with open(f"/proc/{pid}/mem", "rb") as f:
            f.seek(start)
            f.read(16)
        out["mem"] = "ok"
    except OSError as ex:
        out["mem"] = _errname(ex.errno)
    return out


def probe_as_nobody(pid):
    """_probe from a forked child that dropped to nobody (no exec: the
    interpreter may live where nobody cannot read):
    {"uid", "attach": "ok"|"EPERM"…, "mem": "ok"|"EACCES"…}."""
    rfd, wfd = os.pipe()
    child = os.fork()
    if child == 0:
        code = 0
        try:
            os.close(rfd)
            as_nobody()
            os.write(wfd, json.dumps(_probe(pid)).encode())
        except BaseException as ex:  # report, never return into the test
            os.write(wfd, json.dumps({"error": repr(ex)}).encode())
            code = 1
        os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        data = f.read()
    os.waitpid(child, 0)
    return json.loads(data or b"{}")


# ---- Binance HMAC, independently of our C code --------------------------------
def binance_request(ts=None):
    return {"method": "POST", "path": "/api/v3/order", "body": ORDER_BODY,
            "timestamp": ts if ts is not None else now_ms()}


def binance_expected(secret, request):
    """What Binance signs (body + &timestamp=) and the hex HMAC-SHA256."""
    msg = f"{request['body']}&timestamp={request['timestamp']}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def signature_of(response):
    """The signature query parameter of a signed Binance request."""
    text = json.dumps(response)
    m = re.search(r"signature=([0-9a-f]{64})", text)
    return m.group(1) if m else None


def policy_doc(tenant="default"):
    return {"version": 1, "tenant": tenant, "venue": "binance", "network": "mainnet",
            "actions": ["order", "cancel", "read"], "not_after": int(time.time()) + 86400}


def seal_marker_key(stack, secret, cred_dir):
    """Seals a Binance key with `secret`; the credentials file lives in
    cred_dir (outside the stack's directory) and is removed at once."""
    cred = os.path.join(cred_dir, "credentials.json")
    fd = os.open(cred, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"api_key": "hygieneApiKey" + "0" * 51, "secret": secret}, f)
    owner = os.path.join(cred_dir, "owner.key")
    stack.sigil("keygen", "--out", owner)
    pol = stack.write("policy.json", policy_doc())
    try:
        out = stack.seal("binance", "mainnet", cred, pol, owner)
    finally:
        os.unlink(cred)
    return out["key_id"]


def sign(stack, key_id, request=None):
    request = request or binance_request()
    status, _, body = stack.http().request("POST", "/v1/sign",
                                           {"key_id": key_id, "request": request})
    return status, body, request
