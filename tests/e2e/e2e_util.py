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


# ---- the gateway's store, behind the gateway's back -------------------------
def _pg_server():
    """(url, query parameters) of the PostgreSQL server tests/pg/run.sh started."""
    url = urllib.parse.urlsplit(os.environ["SIGIL_TEST_PG_URL"])
    return url, dict(urllib.parse.parse_qsl(url.query))


def _pg_argv(tool, *args):
    _, q = _pg_server()
    exe = os.path.join(os.environ.get("SIGIL_PG_BIN", "/usr/lib/postgresql/15/bin"), tool)
    return [exe, "-h", q["host"], "-U", q.get("user", "postgres"), *args]


class Store:
    """The gateway's store as a test reads and tampers with it, as a malicious
    host would: the SQLite file HOME/sigil.db, or with SIGIL_TEST_STORE=pg a
    database of its own on the PostgreSQL server of tests/pg/run.sh
    (SIGIL_TEST_PG_URL), dropped by drop(). Queries take `?` placeholders;
    on both back-ends integers come back as int, blobs as bytes, texts as
    str and NULL as None, so that a check reads the same values on both."""

    # PostgreSQL column types as the sqlite3 module returns the same columns.
    PG_TYPES = {"bigint": int, "integer": int, "smallint": int, "boolean": lambda t: t == "t",
                "bytea": lambda t: bytes.fromhex(t[2:])}
    PG_NULL, PG_FIELD, PG_RECORD = "\x1e", "\x1f", "\x1d"

    def __init__(self, home, pg_db=None):
        self.home = home
        self.pg_db = pg_db

    @classmethod
    def for_test(cls, home):
        """The back-end SIGIL_TEST_STORE names: "pg" a new empty database,
        else the SQLite file in home."""
        if os.environ.get("SIGIL_TEST_STORE") != "pg":
            return cls(home)
        return cls(home, cls._pg_createdb())

    @staticmethod
    def _pg_createdb(*args):
        db = "sigil_e2e_" + os.urandom(6).hex()
        subprocess.run(_pg_argv("createdb", *args, db), check=True, stdout=subprocess.DEVNULL)
        return db

    @property
    def url(self):
        """The gateway's --store for it; None for the SQLite file (the default)."""
        if self.pg_db is None:
            return None
        url, _ = _pg_server()
        return f"{url.scheme}:///{self.pg_db}?{url.query}"

    def cli_args(self):
        """How `sigil admin`, `sigil audit verify` and the gateway name it."""
        return ["--home", self.home] if self.pg_db is None else ["--store", self.url]

    def copy(self, home):
        """A copy of the store (and of the state directory home) to tamper with."""
        shutil.copytree(self.home, home)
        if self.pg_db is None:
            return Store(home)
        return Store(home, self._pg_createdb("-T", self.pg_db))

    def drop(self):
        if self.pg_db is not None:
            subprocess.run(_pg_argv("dropdb", "--if-exists", "--force", self.pg_db),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.pg_db = None

    def _psql(self, *args):
        return _pg_argv("psql", "-d", self.pg_db, "-X", "-q", "-A", "-t", "-F", self.PG_FIELD,
                        "-R", self.PG_RECORD, "-P", "null=" + self.PG_NULL, "-v",
                        "ON_ERROR_STOP=1", *args)

    @staticmethod
    def _pg_literal(v):
        if v is None:
            return "NULL"
        if isinstance(v, bool) or not isinstance(v, (int, str, bytes)):
            raise TypeError(f"store query: unsupported parameter {type(v)}")
        if isinstance(v, int):
            return str(v)
        if isinstance(v, bytes):
            return "'\\x" + v.hex() + "'::bytea"
        return "'" + v.replace("'", "''") + "'"

    def _pg_sql(self, sql, params):
        parts = sql.split("?")
        if len(parts) != len(params) + 1:
            raise ValueError("store query: placeholders and parameters differ")
        text = parts[0] + "".join(self._pg_literal(v) + p for v, p in zip(params, parts[1:]))
        return text.rstrip().rstrip(";")

    def _pg_run(self, script):
        """The records psql prints for a script on stdin, fields split."""
        out = subprocess.run(self._psql("-f", "-"), input=script.encode(), capture_output=True,
                             check=True).stdout.decode()
        if not out:
            return []
        # psql ends the last record with a newline instead of the separator
        return [r.split(self.PG_FIELD) for r in out.removesuffix("\n").split(self.PG_RECORD)]

    def _sqlite(self, readonly, timeout=30):
        path = os.path.join(self.home, "sigil.db")
        return sqlite3.connect(f"file:{path}?mode=ro" if readonly else f"file:{path}", uri=True,
                               timeout=timeout)

    def query(self, sql, params=()):
        """The rows of one query."""
        if self.pg_db is None:
            db = self._sqlite(readonly=True)
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()
        text = self._pg_sql(sql, params)
        types = [t for _, t in self._pg_run(text + " \\gdesc\n")]
        return [tuple(None if v == self.PG_NULL else self.PG_TYPES.get(ty, str)(v)
                      for v, ty in zip(r, types)) for r in self._pg_run(text + ";\n")]

    def execute(self, *statements):
        """Runs writing statements, (sql, params) each, in one transaction."""
        if self.pg_db is None:
            db = self._sqlite(readonly=False)
            try:
                for sql, params in statements:
                    db.execute(sql, params)
                db.commit()
            finally:
                db.close()
            return
        script = "".join(self._pg_sql(sql, params) + ";\n" for sql, params in statements)
        subprocess.run(self._psql("-1", "-f", "-"), input=script.encode(), capture_output=True,
                       check=True)

    @contextlib.contextmanager
    def locked(self):
        """Holds the store's write lock (SQLite: an exclusive transaction;
        PostgreSQL: the audit chain-head table) so that audit writes fail once
        the gateway's lock timeout passes; released on exit."""
        if self.pg_db is None:
            lock = self._sqlite(readonly=False, timeout=1)
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
                raise RuntimeError("store locked(): could not take the lock")
            yield
        finally:
            proc.communicate(b"ROLLBACK;\n", timeout=30)


# ---- a stack in a temporary directory ---------------------------------------
class TempStack(DevStack):
    """With SIGIL_TEST_STORE=pg the gateway's store is a fresh PostgreSQL
    database on the server SIGIL_TEST_PG_URL names (tests/pg/run.sh),
    dropped by cleanup(); self.pg_db is its name. self.store: the store
    (class Store)."""

    def __init__(self, bin_dir, **kw):
        self.tmp = tempfile.mkdtemp(prefix="sigil-e2e-")
        home = os.path.join(self.tmp, "home")
        self.pg_db = Store.for_test(home).pg_db
        kw.setdefault("store_url", Store(home, self.pg_db).url)
        super().__init__(bin_dir, home, **kw)

    @property
    def store(self):
        """The store of the stack's current home (a subclass may move it)."""
        return Store(self.home, self.pg_db)

    def store_query(self, sql, params=()):
        """Rows of a query on the gateway's store (Store.query)."""
        return self.store.query(sql, params)

    def store_exec(self, sql, params=()):
        """One writing statement on the gateway's store (Store.execute)."""
        self.store.execute((sql, params))

    def store_locked(self):
        """The store's write lock held (Store.locked)."""
        return self.store.locked()

    def same_state(self, **kw):
        """Another stack (kw: DevStack's) on this one's home and store, for
        a restart with other binaries; stop this one first."""
        return DevStack(self.bin, self.home, store_url=self.store.url, **kw)

    def state_dirs(self):
        """Where the stack's state lies on disk: its home and, on PostgreSQL,
        the server's data directory (SIGIL_PG_DATA, tests/pg/run.sh)."""
        extra = os.environ.get("SIGIL_PG_DATA") if self.pg_db is not None else None
        return [self.home] + ([extra] if extra else [])

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
        self.store.drop()
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


def read_json(path):
    """The JSON in path (a ready file, say), or None while it is absent or
    half written."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


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


def run_on_pg_stack(run, **stack_kw):
    """run_on_stack for the suites that need PostgreSQL (several gateways on
    one store): with SIGIL_TEST_STORE other than "pg" they are skipped (0)."""
    if os.environ.get("SIGIL_TEST_STORE") != "pg":
        print("skipped: SIGIL_TEST_STORE=pg is not set (tests/pg/run.sh sets it)")
        return 0
    return run_on_stack(run, **stack_kw)


def grep_tree(roots, needles):
    """Files under the directories roots containing any needle (bytes search)."""
    if isinstance(roots, (str, bytes)):  # one path would be walked letter by letter, from "/"
        raise TypeError("grep_tree: roots is a list of directories")
    hits = []
    for root in roots:
        for d, _, files in os.walk(root):
            for name in files:
                p = os.path.join(d, name)
                try:
                    with open(p, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                hits += [(p, n[:6] + "…") for n in needles if n.encode() in data]
    return hits
