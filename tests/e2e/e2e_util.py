"""Shared pieces of the end-to-end tests: a throw-away dev stack, an HTTP
client with keep-alive, and independent re-implementations (libsodium through
ctypes, JCS for the policy subset) used to build provisioning payloads the way
docs/PROVISIONING.md says, without going through our own C code.

Each test file is run by CTest as `python3 FILE <bin-dir> <tests-dir>`.
"""
import base64
import contextlib
import ctypes
import ctypes.util
import hashlib
import http.client
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from devstack import DevStack, StackError  # noqa: E402,F401


# ---- libsodium, independently of our C code ---------------------------------
_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert _sodium.sodium_init() >= 0


def box_seal(pk, msg):
    out = ctypes.create_string_buffer(len(msg) + 48)
    if _sodium.crypto_box_seal(out, msg, ctypes.c_ulonglong(len(msg)), pk) != 0:
        raise RuntimeError("crypto_box_seal failed")
    return out.raw


def ed25519_keypair(seed):
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(64)
    _sodium.crypto_sign_seed_keypair(pk, sk, seed)
    return pk.raw, sk.raw


def ed25519_sign(sk, msg):
    sig = ctypes.create_string_buffer(64)
    _sodium.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), sk)
    return sig.raw


def canonical(obj):
    """RFC 8785 for the policy subset (ASCII keys, strings, integers, arrays)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _lp(b):
    return struct.pack(">I", len(b)) + b


def policy_message(policy, tenant, key_id):
    """docs/POLICY.md: the v2 owner-signature message."""
    return (b"sigil-policy-v2\0" + _lp(tenant.encode()) + _lp(key_id.encode())
            + struct.pack(">Q", policy["version"]) + canonical(policy))


def policy_signature(policy, seed, key_id, tenant=None):
    _, sk = ed25519_keypair(seed)
    return ed25519_sign(sk, policy_message(policy, tenant or policy["tenant"], key_id))


def new_key_id():
    return os.urandom(16).hex()


def payload(tenant, venue, network, key_type, credentials, policy, owner_seed,
            client_pubkey=None, signature=None, key_id=None):
    """The provisioning payload of docs/PROVISIONING.md, key order as documented."""
    key_id = key_id or new_key_id()
    owner_pk, _ = ed25519_keypair(owner_seed)
    sig = signature if signature is not None else policy_signature(policy, owner_seed, key_id,
                                                                     tenant)
    doc = {"v": 1, "tenant": tenant, "key_id": key_id, "venue": venue, "network": network,
           "key_type": key_type, "credentials": credentials, "owner_pubkey": owner_pk.hex(),
           "client_pubkey": client_pubkey, "policy": policy, "policy_signature": sig.hex()}
    return json.dumps(doc, separators=(",", ":")).encode()


def client_message(key_id, request, timestamp, nonce):
    """docs/POLICY.md "Client-signed requests" (request: the object; its JCS form is hashed)."""
    h = hashlib.sha256(canonical(request)).digest()
    return (b"sigil-request-v1\0" + _lp(key_id.encode()) + h + struct.pack(">Q", timestamp)
            + _lp(nonce.encode()))


def client_signed(seed, key_id, request, timestamp=None, nonce=None):
    """The /v1/sign body with a client signature."""
    _, sk = ed25519_keypair(seed)
    ts = timestamp if timestamp is not None else now_ms()
    nonce = nonce or base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
    sig = ed25519_sign(sk, client_message(key_id, request, ts, nonce))
    return {"key_id": key_id, "request": request,
            "client": {"timestamp": ts, "nonce": nonce, "signature": sig.hex()}}


def ed25519_verify(pk, msg, sig):
    return _sodium.crypto_sign_verify_detached(sig, msg, ctypes.c_ulonglong(len(msg)), pk) == 0


# ---- HTTP --------------------------------------------------------------------
class Http:
    def __init__(self, url, token=None):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.token = token
        self.conn = None

    def request(self, method, path, body=None, token=..., headers=None, raw=False):
        if token is ...:
            token = self.token
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body, separators=(",", ":"))
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        if raw:
            return r.status, dict(r.getheaders()), data
        try:
            parsed = json.loads(data) if data else None
        except json.JSONDecodeError:
            parsed = data.decode(errors="replace")
        return r.status, dict(r.getheaders()), parsed


# ---- a stack in a temporary directory ---------------------------------------
class TempStack(DevStack):
    """With SIGIL_TEST_STORE=pg the gateway's store is a fresh PostgreSQL
    database on the server SIGIL_TEST_PG_URL names (tests/pg/run.sh),
    dropped by cleanup()."""

    def __init__(self, bin_dir, **kw):
        self.tmp = tempfile.mkdtemp(prefix="sigil-e2e-")
        self.pg_db = None
        if os.environ.get("SIGIL_TEST_STORE") == "pg" and "store_url" not in kw:
            kw["store_url"] = self._pg_create()
        super().__init__(bin_dir, os.path.join(self.tmp, "home"), **kw)

    @staticmethod
    def _pg_tool(name, *args, check=True):
        url = urllib.parse.urlsplit(os.environ["SIGIL_TEST_PG_URL"])
        q = dict(urllib.parse.parse_qsl(url.query))
        tool = os.path.join(os.environ.get("SIGIL_PG_BIN", "/usr/lib/postgresql/15/bin"), name)
        subprocess.run([tool, "-h", q["host"], "-U", q.get("user", "postgres"), *args],
                       check=check, stdout=subprocess.DEVNULL,
                       stderr=None if check else subprocess.DEVNULL)
        return url, q

    def _psql(self, *args, **kw):
        url = urllib.parse.urlsplit(os.environ["SIGIL_TEST_PG_URL"])
        q = dict(urllib.parse.parse_qsl(url.query))
        tool = os.path.join(os.environ.get("SIGIL_PG_BIN", "/usr/lib/postgresql/15/bin"), "psql")
        return [tool, "-h", q["host"], "-U", q.get("user", "postgres"), "-d", self.pg_db, "-X",
                "-q", "-A", "-t", "-F", "\x1f", "-P", "null=\x1e", "-v", "ON_ERROR_STOP=1", *args]

    @staticmethod
    def _pg_literal(v):
        if isinstance(v, bool) or not isinstance(v, (int, str, bytes)):
            raise TypeError(f"store_query: unsupported parameter {type(v)}")
        if isinstance(v, int):
            return str(v)
        if isinstance(v, bytes):
            return "'\\x" + v.hex() + "'::bytea"
        return "'" + v.replace("'", "''") + "'"

    @staticmethod
    def _pg_value(text):
        if text == "\x1e":
            return None
        if text.startswith("\\x"):
            return bytes.fromhex(text[2:])
        return int(text) if text.lstrip("-").isdigit() else text

    def store_query(self, sql, params=()):
        """Rows of a query on the gateway's store, whichever back-end it is:
        `?` placeholders; blobs come back as bytes, integers as int (on
        PostgreSQL, texts that look like integers too; one line per row)."""
        if self.pg_db is None:
            db = sqlite3.connect(f"file:{os.path.join(self.home, 'sigil.db')}?mode=ro", uri=True,
                                 timeout=30)
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()
        parts = sql.split("?")
        if len(parts) != len(params) + 1:
            raise ValueError("store_query: placeholders and parameters differ")
        text = parts[0] + "".join(self._pg_literal(v) + p for v, p in zip(params, parts[1:]))
        out = subprocess.run(self._psql("-c", text), capture_output=True, check=True).stdout
        return [tuple(self._pg_value(f) for f in line.split("\x1f"))
                for line in out.decode().split("\n") if line]  # not splitlines: \x1e

    @contextlib.contextmanager
    def store_locked(self):
        """Holds the store's write lock (SQLite: an exclusive transaction;
        PostgreSQL: the audit chain-head table) so that audit writes fail once
        the gateway's lock timeout passes; released on exit."""
        if self.pg_db is None:
            lock = sqlite3.connect(os.path.join(self.home, "sigil.db"), timeout=1)
            try:
                lock.execute("BEGIN EXCLUSIVE")
                yield
            finally:
                lock.rollback()
                lock.close()
            return
        proc = subprocess.Popen(self._psql(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            proc.stdin.write(b"BEGIN; LOCK TABLE audit_chain IN ACCESS EXCLUSIVE MODE;"
                             b" SELECT 'locked';\n")
            proc.stdin.flush()
            if proc.stdout.readline().strip() != b"locked":
                raise RuntimeError("store_locked: could not take the lock")
            yield
        finally:
            proc.communicate(b"ROLLBACK;\n", timeout=30)

    def _pg_create(self):
        self.pg_db = "sigil_e2e_" + os.urandom(6).hex()
        url, _ = self._pg_tool("createdb", self.pg_db)
        return f"{url.scheme}:///{self.pg_db}?{url.query}"

    def stop(self):
        super().stop()

    SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")

    def sanitizer_reports(self):
        """Sanitizer reports in the stack's logs (sanitizer builds print them there)."""
        found = []
        for path in self.logs.values():
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for mark in self.SANITIZER_MARKS:
                at = data.find(mark)
                if at >= 0:
                    found.append(f"{path}: {data[at:at + 2000].decode(errors='replace')}")
        return found

    def cleanup(self):
        """Stops the stack and removes its directory; fails the test when a
        server reported a sanitizer error."""
        self.stop()
        if self.pg_db is not None:
            self._pg_tool("dropdb", "--if-exists", "--force", self.pg_db, check=False)
            self.pg_db = None
        reports = self.sanitizer_reports()
        if os.environ.get("SIGIL_KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer reports in the stack's logs:\n" + "\n".join(reports))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, obj, mode=0o600):
        p = self.path(name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return p

    def http(self, token=...):
        return Http(self.gateway["url"], self.token if token is ... else token)

    def seal(self, venue, network, credentials_file, policy_file, owner_key, token=None,
             check=True, extra=(), client=False):
        if not client and "--client-key" not in extra:
            extra = ("--no-client-key", *extra)
        r = self.sigil("seal", "--gateway", self.gateway["url"], "--token", token or self.token,
                       "--venue", venue, "--network", network,
                       "--credentials", credentials_file, "--policy", policy_file,
                       "--owner-key", owner_key, "--measurement", self.launch["measurement"],
                       "--trust-dev-root", self.launch["root"], *extra, check=check)
        if not check:
            return r
        return json.loads(r.stdout)

    def sign_offline(self, venue, credentials_file, request, network="mainnet"):
        r = self.sigil("sign", "--venue", venue, "--credentials", credentials_file,
                       "--network", network, input=json.dumps(request).encode())
        return r.stdout.decode().strip()


def now_ms():
    return int(time.time() * 1000)


class Checks:
    """Tiny test runner: named checks, a summary line, exit status."""

    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed.append(name)
            print(f"FAIL {name} {detail}")

    def done(self):
        print(f"{self.passed} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def wait_for(cond, timeout=30, step=0.1):
    """Polls cond() until it returns a true value, which it returns; None
    when timeout seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return None


def bin_dir_arg(argv=None):
    """The suites' first argument: the directory of the binaries (or one of them)."""
    arg = (argv or sys.argv)[1]
    return arg if os.path.isdir(arg) else os.path.dirname(arg)


def run_on_stack(run, **stack_kw):
    """Runs run(stack, checks) on a fresh TempStack (stack_kw for it) and
    returns the exit status of the checks; the stack is always cleaned up."""
    t = Checks()
    st = TempStack(bin_dir_arg(), **stack_kw)
    try:
        st.start()
        run(st, t)
    finally:
        st.cleanup()
    return t.done()


def grep_tree(root, needles):
    """Files under root containing any needle (bytes search)."""
    hits = []
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for n in needles:
                if n.encode() in data:
                    hits.append((p, n[:6] + "…"))
    return hits
