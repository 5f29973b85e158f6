"""Shared pieces of the registry client tests (tests/registry/test_*.py): the
fixture contracts/run.sh writes, running sigil, transactions through
contracts/tools/register.mjs (viem), a stand-in JSON-RPC node on loopback for
replies a real node never gives, and a small ABI encoder written here, apart
from the C codec under test.

Each test runs as `python3 FILE SIGIL_BIN_DIR` with SIGIL_REGISTRY_FIXTURE set
(contracts/README.md). Not named test_*: the harness runs those.
"""
import http.server
import json
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from e2e_util import Checks  # noqa: E402,F401

REGISTER_JS = os.path.join(REPO, "contracts", "tools", "register.mjs")
RUN_TIMEOUT_S = 120


def fixture():
    path = os.environ.get("SIGIL_REGISTRY_FIXTURE")
    if not path:
        sys.exit("SIGIL_REGISTRY_FIXTURE is not set (run through contracts/run.sh)")
    with open(path) as f:
        return json.load(f)


def sigil_bin():
    if len(sys.argv) < 2:
        sys.exit("usage: python3 %s SIGIL_BIN_DIR" % sys.argv[0])
    return os.path.join(os.path.abspath(sys.argv[1]), "sigil")


class Result:
    def __init__(self, p):
        self.code = p.returncode
        self.out = p.stdout.decode(errors="replace")
        self.err = p.stderr.decode(errors="replace")

    def json_line(self):
        """The last stdout line as JSON (None when it is not)."""
        lines = self.out.strip().splitlines()
        try:
            return json.loads(lines[-1]) if lines else None
        except ValueError:
            return None

    def error(self):
        """(code, message) of the one-line JSON error on stderr, or (None, text)."""
        try:
            e = json.loads(self.err.strip())["error"]
            return e["code"], e["message"]
        except (ValueError, KeyError, TypeError):
            return None, self.err

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


def run_sigil(binary, *args):
    return Result(subprocess.run([binary, *args], capture_output=True, timeout=RUN_TIMEOUT_S))


def tx(fx, key, *args, contract=None):
    """node register.mjs …: {"tx","contract","block"}; raises on failure."""
    argv = ["node", REGISTER_JS, "--rpc", fx["rpc"], "--private-key", key]
    if contract:
        argv += ["--contract", contract]
    p = subprocess.run(argv + list(args), capture_output=True, timeout=RUN_TIMEOUT_S)
    if p.returncode != 0:
        raise RuntimeError(f"register.mjs {' '.join(args[:1])}: {p.stderr.decode().strip()}")
    return json.loads(p.stdout)


def closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def selectors():
    """Selectors viem computed (tests/vectors/abi/calls.json), by "function X"/"error X"."""
    with open(os.path.join(REPO, "tests", "vectors", "abi", "calls.json")) as f:
        return {k: bytes.fromhex(v[2:]) for k, v in json.load(f)["selectors"].items()}


# ---- a small ABI encoder (head/tail layout; bool, uint, bytes32, bytes, string, address)
def _word(n):
    return n.to_bytes(32, "big")


def abi_encode(types, values):
    head, tail = b"", b""
    base = 32 * len(types)
    for t, v in zip(types, values):
        if t in ("bytes", "string"):
            data = v.encode() if isinstance(v, str) else v
            head += _word(base + len(tail))
            tail += _word(len(data)) + data + b"\0" * (-len(data) % 32)
        elif t == "bool":
            head += _word(1 if v else 0)
        elif t == "address":
            head += b"\0" * 12 + bytes.fromhex(v[2:])
        elif t == "bytes32":
            head += v
        else:  # uint*
            head += _word(v)
    return head + tail


GET_ENTRY = ["bool", "bool", "bytes32", "string", "uint64", "uint64"]


def get_entry_data(exists, active, build_hash, description, registered, deprecated):
    return abi_encode(GET_ENTRY, [exists, active, build_hash, description, registered, deprecated])


# ---- a stand-in JSON-RPC node ---------------------------------------------------
class FakeNode:
    """HTTP on 127.0.0.1:port. `answer(request)` gives (status, body bytes,
    content type) for each parsed request; requests are kept in `seen`."""

    def __init__(self):
        self.seen = []
        self.answer = lambda req: (500, b"no answer set", "text/plain")
        node = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                try:
                    req = json.loads(raw)
                except ValueError:
                    req = {"unparsed": raw.decode(errors="replace")}
                req["_headers"] = dict(self.headers)
                req["_path"] = self.path
                node.seen.append(req)
                status, body, ctype = node.answer(req)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, obj=None, status=200, raw=None, ctype="application/json"):
        """Answers every request with obj (id copied from the request) or raw bytes."""
        def answer(req):
            if raw is not None:
                return status, raw, ctype
            body = dict(obj)
            if body.get("id", ...) is ...:
                body["id"] = req.get("id")
            return status, json.dumps(body).encode(), ctype
        self.answer = answer

    def by_method(self, table):
        """table: method -> reply object (id filled in)."""
        def answer(req):
            body = dict(table[req.get("method")])
            body.setdefault("id", req.get("id"))
            return 200, json.dumps(body).encode(), "application/json"
        self.answer = answer

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def result(data):
    return {"jsonrpc": "2.0", "result": "0x" + data.hex()}


def rpc_error(code, message, data=None):
    err = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "error": err}
