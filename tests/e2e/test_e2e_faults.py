#!/usr/bin/env python3
"""End to end: faults.

Acceptance: "`kill -9` of the enclave under load → in-flight requests get 503,
never a wrong or partial signature; the gateway reconnects when it is back;
key service down → clear error, cached data keys work until their TTL;
garbage frames close only that connection."

1. Garbage frames (docs/FRAMES.md): straight to the enclave's unix socket,
   random bytes, a valid length with garbage CBOR, a length of 0 / over
   1 MiB, and an unknown top-level key after a valid hello each close THAT
   connection, while the gateway's own connections keep signing (and are
   not re-opened) and the enclave process survives. An unknown op after a
   hello is an error frame and the connection stays usable (ping answers).
2. kill -9 of the enclave under load: 8 keep-alive clients sign Binance HMAC
   requests; every answer is a 200 whose signature is verified here with
   Python's hmac over exactly what Binance signs, for exactly the request
   sent, or a 503 (504: documented deadline) with a JSON error body. The
   enclave comes back (new pid), the gateway reconnects and re-boots it
   (same sealing key: the key service released the seed again; new
   boot_id), and the same key_id signs again.
3. Key service down: with --key-ttl-ms 4000 the cached data key keeps
   signing, /readyz says 503 naming the key service, POST /v1/keys fails
   with key_service_error, and once the TTL has passed signing fails with a
   clear key-service error and no signature. sigil-kms restarted on the same
   port (same state) → signing and provisioning work again without
   restarting the enclave.
"""
import base64
import errno
import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import (Checks, StackError, TempStack, bin_dir_arg, box_seal, now_ms,  # noqa: E402
                      payload, read_json, wait_for)
from devstack import _wait_ready  # noqa: E402
import cbor_min  # noqa: E402

BINANCE = {"api_key": "faultsTestApiKey0123456789abcdefABCDEFghijklmnopqrstuvwxyz012345",
           "secret": "faultsTestSecret9876543210ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrq"}
ORDER_BODY = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
FRAME_MAX = 1 << 20
SEED = 20240611


# CBOR by hand (tests/e2e/cbor_min.py), independent of our C code.
cbor = cbor_min.encode
uncbor = cbor_min.decode


def frame(obj):
    body = cbor(obj)
    return struct.pack(">I", len(body)) + body


def request(fid, op, args, version=1):
    return frame({0: version, 1: fid, 2: op, 3: args})


def hello_frame(fid=1):
    return request(fid, "hello", {"versions": [1]})


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def read_frame(s):
    n = struct.unpack(">I", recv_exact(s, 4))[0]
    body = recv_exact(s, n)
    v, end = uncbor(body)
    if end != len(body):
        raise ValueError("trailing bytes in a response frame")
    return v


def enclave_conn(st):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(st.enclave_socket())
    return s


def closed_by_peer(s, deadline_s=15):
    """True when the peer closes (EOF or reset) within the deadline; data
    received before that is drained and ignored."""
    s.settimeout(1)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            return e.errno in (errno.ECONNRESET, errno.EPIPE)
        if chunk == b"":
            return True
    return False


def send_quietly(s, data):
    """Sends; a peer that already closed (EPIPE/ECONNRESET) is fine here."""
    try:
        s.sendall(data)
    except OSError as e:
        if e.errno not in (errno.EPIPE, errno.ECONNRESET):
            raise


# ---- Binance signing, verified independently ----------------------------------
def binance_request(ts, tag=None):
    body = ORDER_BODY + (f"&newClientOrderId={tag}" if tag else "")
    return {"method": "POST", "path": "/api/v3/order", "query": "", "body": body,
            "timestamp": ts}


def verify_binance(req, signed, creds=BINANCE):
    """None if `signed` is exactly `req` correctly signed, else what is wrong.
    Binance signs query ‖ body (docs/CLI.md); the HMAC-SHA256 hex goes in
    `&signature=` at the end of the body; timestamp appended before it."""
    if not isinstance(signed, dict):
        return f"signed is not an object: {signed!r}"
    if signed.get("method") != req["method"] or signed.get("path") != req["path"]:
        return f"method/path changed: {signed.get('method')} {signed.get('path')}"
    if signed.get("query", "") != req["query"]:
        return f"query changed: {signed.get('query')!r}"
    body = signed.get("body", "")
    want_prefix = req["body"] + f"&timestamp={req['timestamp']}"
    marker = "&signature="
    if marker not in body:
        return f"no signature in body: {body!r}"
    prefix, sig = body.rsplit(marker, 1)
    if prefix != want_prefix:
        return f"signed another request: {prefix!r} != {want_prefix!r}"
    want = hmac.new(creds["secret"].encode(), (signed.get("query", "") + prefix).encode(),
                    hashlib.sha256).hexdigest()
    if sig != want:
        return f"wrong signature {sig!r} (want {want!r})"
    headers = signed.get("headers") or {}
    if headers.get("X-MBX-APIKEY") != creds["api_key"]:
        return f"wrong X-MBX-APIKEY header: {headers!r}"
    return None


def policy(tenant="default"):
    return {"version": 1, "tenant": tenant, "venue": "binance", "network": "mainnet",
            "actions": ["order", "cancel", "read"], "not_after": int(time.time()) + 86400}


def seal_binance(st):
    owner = st.path("owner.key")
    if not os.path.exists(owner):
        st.sigil("keygen", "--out", owner)
    creds = st.write("binance.json", BINANCE)
    pf = st.write("policy-binance.json", policy())
    return st.seal("binance", "mainnet", creds, pf, owner)["key_id"]


def sign_once(h, key_id, tag=None):
    """(status, body, problem): problem is None for a verified 200."""
    req = binance_request(now_ms(), tag)
    status, _, body = h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})
    if status != 200:
        return status, body, f"status {status}"
    return status, body, verify_binance(req, body.get("signed") if isinstance(body, dict)
                                         else None)


def readyz(st):
    h = st.http(token=None)
    try:
        status, _, body = h.request("GET", "/readyz")
    except OSError as e:
        return None, str(e)
    return status, body


def log_text(st, name):
    try:
        with open(st.logs[name], errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def err_code(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code"), body["error"].get("message", "")
    return None, None


# ---- check 1: garbage frames ---------------------------------------------------
def check_garbage(st, t, key_id):
    rng = random.Random(SEED)
    h = st.http()
    launch_ready = st._ready_path("launch")
    pid0 = read_json(launch_ready)["enclave_pid"]
    lost0 = log_text(st, "gateway").count("lost")

    def gateway_still_signs(after):
        status, body, problem = sign_once(h, key_id)
        t.check(f"garbage: gateway still signs after {after}", problem is None,
                (status, body, problem))

    gateway_still_signs("setup")

    # (a) random bytes. If the random length prefix happens to be a legal
    # length, send the whole announced frame so the enclave has to judge it.
    data = bytes(rng.getrandbits(8) for _ in range(512))
    n = struct.unpack(">I", data[:4])[0]
    if 1 <= n <= FRAME_MAX and n + 4 > len(data):
        data += bytes(rng.getrandbits(8) for _ in range(n + 4 - len(data)))
    cases = [("random bytes", data)]
    # (b) a valid length prefix with garbage CBOR, in a few shapes.
    garbage = bytes(rng.getrandbits(8) for _ in range(64))
    cases += [
        ("valid length, random payload", struct.pack(">I", len(garbage)) + garbage),
        ("valid length, CBOR break byte", struct.pack(">I", 4) + b"\xff\xff\xff\xff"),
        ("valid length, truncated map", struct.pack(">I", 3) + b"\xa4\x00\x01"),
        ("valid length, not a map", frame([0, 1, "hello", {"versions": [1]}])),
        ("hello with trailing bytes", (lambda b: struct.pack(">I", len(b) + 1) + b + b"\x00")(
            cbor({0: 1, 1: 1, 2: "hello", 3: {"versions": [1]}}))),
    ]
    # (c) a length over 1 MiB, and a length of 0.
    cases += [("length over 1 MiB", struct.pack(">I", FRAME_MAX + 1) + b"\xa4" * 64),
              ("length 4 GiB-1", b"\xff\xff\xff\xff" + b"\x00" * 16),
              ("length 0", struct.pack(">I", 0) + hello_frame())]
    for name, data in cases:
        s = enclave_conn(st)
        send_quietly(s, data)
        t.check(f"garbage ({name}): enclave closes that connection", closed_by_peer(s))
        s.close()
        gateway_still_signs(name)

    # (d) a valid hello, then requests that break the frame grammar.
    bad_after_hello = [
        ("unknown top-level key", frame({0: 1, 1: 2, 2: "ping", 3: {"probe_kms": False},
                                         9: 0})),
        ("missing args key", frame({0: 1, 1: 2, 2: "ping"})),
        ("wrong version", request(2, "ping", {"probe_kms": False}, version=7)),
        ("result key in a request", frame({0: 1, 1: 2, 4: {}})),
        ("id 0", request(0, "ping", {"probe_kms": False})),
        ("op of the wrong type", frame({0: 1, 1: 2, 2: 5, 3: {}})),
    ]
    for name, data in bad_after_hello:
        s = enclave_conn(st)
        s.sendall(hello_frame())
        try:
            hello = read_frame(s)
        except (OSError, EOFError, ValueError) as e:
            hello = repr(e)
        t.check(f"garbage after hello ({name}): hello answered",
                isinstance(hello, dict) and isinstance(hello.get(4), dict)
                and hello[4].get("version") == 1, hello)
        send_quietly(s, data)
        t.check(f"garbage after hello ({name}): enclave closes that connection",
                closed_by_peer(s))
        s.close()
        gateway_still_signs(f"hello + {name}")

    # A first frame that is not hello closes the connection too.
    s = enclave_conn(st)
    send_quietly(s, request(1, "ping", {"probe_kms": False}))
    t.check("a ping before hello: enclave closes that connection", closed_by_peer(s))
    s.close()

    # An unknown op is an error frame; the connection stays usable.
    s = enclave_conn(st)
    try:
        s.sendall(hello_frame(1))
        read_frame(s)
        s.sendall(request(2, "frobnicate", {}))
        err = read_frame(s)
        t.check("unknown op → error frame echoing the id (code bad_request)",
                isinstance(err, dict) and set(err) == {0, 1, 5} and err[1] == 2
                and isinstance(err[5], dict) and err[5].get("code") == "bad_request"
                and "frobnicate" in err[5].get("message", ""), err)
        # Unknown keys inside args: bad_request, connection stays.
        s.sendall(request(3, "ping", {"probe_kms": False, "extra": 1}))
        err = read_frame(s)
        t.check("unknown key inside args → error frame bad_request",
                isinstance(err, dict) and err.get(1) == 3 and isinstance(err.get(5), dict)
                and err[5].get("code") == "bad_request", err)
        s.sendall(request(4, "ping", {"probe_kms": False}))
        pong = read_frame(s)
        t.check("…and the same connection still answers a ping (booted)",
                isinstance(pong, dict) and pong.get(1) == 4 and isinstance(pong.get(4), dict)
                and pong[4].get("booted") is True, pong)
    except (OSError, EOFError, ValueError) as e:
        t.check("unknown op: connection stays open", False, repr(e))
    finally:
        s.close()

    gateway_still_signs("all garbage")
    pid1 = (read_json(launch_ready) or {}).get("enclave_pid")
    t.check("garbage: the enclave process survived (same pid)", pid1 == pid0, (pid0, pid1))
    lost1 = log_text(st, "gateway").count("lost")
    t.check("garbage: the gateway's enclave connections were never lost", lost1 == lost0,
            (lost0, lost1))
    status, body = readyz(st)
    t.check("garbage: /readyz still 200", status == 200, (status, body))


# ---- check 2: kill -9 under load -------------------------------------------------
class Load:
    def __init__(self, url, token, key_id, threads=8):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.token, self.key_id = token, key_id
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = []          # monotonic times of verified 200s
        self.unavailable = []  # (time, status, code)
        self.bad = []         # anything else: (time, what)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def start(self):
        for th in self.threads:
            th.start()

    def join(self):
        self.stop.set()
        for th in self.threads:
            th.join(60)

    def record(self, kind, item):
        with self.lock:
            getattr(self, kind).append(item)

    def count_ok_since(self, t0):
        with self.lock:
            return sum(1 for x in self.ok if x >= t0)

    def run(self, idx):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        i = 0
        while not self.stop.is_set():
            i += 1
            req = binance_request(now_ms(), tag=f"t{idx}n{i}")
            body = json.dumps({"key_id": self.key_id, "request": req}, separators=(",", ":"))
            try:
                conn.request("POST", "/v1/sign", body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as e:
                self.record("bad", (time.monotonic(), f"thread {idx} request {i}: no response: "
                                    f"{e!r}"))
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                time.sleep(0.01)
                continue
            now = time.monotonic()
            try:
                parsed = json.loads(data)
            except (json.JSONDecodeError, UnicodeDecodeError):
                parsed = None
            if r.status == 200:
                problem = verify_binance(req, parsed.get("signed")
                                         if isinstance(parsed, dict) else None)
                if problem is None and parsed.get("key_id") != self.key_id:
                    problem = f"key_id {parsed.get('key_id')!r}"
                if problem is None:
                    self.record("ok", now)
                else:
                    self.record("bad", (now, f"200 with a bad signature: {problem}"))
            elif r.status in (503, 504):
                code, msg = err_code(parsed)
                if code and msg and "signed" not in parsed:
                    self.record("unavailable", (now, r.status, code, msg))
                else:
                    self.record("bad", (now, f"{r.status} without a JSON error body: "
                                        f"{data[:200]!r}"))
                time.sleep(0.005)
            else:
                self.record("bad", (now, f"status {r.status}: {data[:200]!r}"))
                time.sleep(0.005)
        conn.close()


def attestation(st):
    h = st.http()
    status, _, body = h.request("GET", "/v1/attestation?nonce=" + os.urandom(16).hex())
    return body if status == 200 and isinstance(body, dict) else None


def check_kill(st, t, key_id):
    launch_ready = st._ready_path("launch")
    before = read_json(launch_ready)
    pid0 = before["enclave_pid"]
    status, rz = readyz(st)
    boot0 = rz.get("boot_id") if isinstance(rz, dict) else None
    att0 = attestation(st)
    t.check("kill: stack ready before the kill", status == 200 and boot0 and att0,
            (status, rz))
    kms_log_len = len(log_text(st, "kms"))

    load = Load(st.gateway["url"], st.token, key_id)
    load.start()
    t_start = time.monotonic()
    warm = wait_for(lambda: load.count_ok_since(t_start) >= 40, 20, step=0.05)
    t.check("kill: load is flowing (verified 200s) before the kill", warm,
            (len(load.ok), load.bad[:3]))
    t_kill = time.monotonic()
    os.kill(pid0, signal.SIGKILL)
    print(f"     kill -9 enclave pid {pid0}", flush=True)

    def new_pid():
        r = read_json(launch_ready)
        return r if r and r.get("enclave_pid") not in (None, pid0) else None
    after = wait_for(new_pid, 30)
    t.check("kill: sigil-launch restarted the enclave (new enclave_pid)", after, after)

    def rebooted():
        s, b = readyz(st)
        return b if s == 200 and isinstance(b, dict) and b.get("boot_id") not in (None, boot0) \
            else None
    rz1 = wait_for(rebooted, 30)
    t_back = time.monotonic()
    t.check("kill: gateway reconnected and re-booted the enclave (/readyz 200, new boot_id)",
            rz1, rz1)
    back_ok = wait_for(lambda: load.count_ok_since(t_back) >= 40, 20, step=0.05)
    load.join()
    t.check("kill: load threads finished", all(not th.is_alive() for th in load.threads))

    n_ok = len(load.ok)
    n_err = len(load.unavailable)
    statuses, messages = {}, {}
    for _, s, code, msg in load.unavailable:
        statuses[(s, code)] = statuses.get((s, code), 0) + 1
        messages[msg] = messages.get(msg, 0) + 1
    during = sum(1 for x in load.ok if t_kill <= x < t_back)
    print(f"     kill under load: {n_ok} verified 200 ({during} between the kill and /readyz "
          f"ready), errors {statuses}, failures {len(load.bad)}", flush=True)
    for msg, n in sorted(messages.items()):
        print(f"       {n} × {msg}", flush=True)
    for _, what in load.bad[:10]:
        print(f"       {what}", flush=True)
    t.check("kill: every answer is a verified 200 or a 503/504 with a JSON error "
            "(no wrong/partial signature, no 500, no dropped connection)", not load.bad,
            [w for _, w in load.bad[:5]])
    t.check("kill: 503/504 answers carry a clear code (unavailable/timeout)",
            all(code in ("unavailable", "timeout") for (_, code) in statuses), statuses)
    t.check("kill: the outage was visible to clients (some 503 seen)", n_err > 0, statuses)
    t.check("kill: verified 200s again after the reconnect", back_ok,
            load.count_ok_since(t_back))

    # The same key id signs on a fresh connection: its data key was
    # recovered from the key service by the new enclave.
    status, body, problem = sign_once(st.http(), key_id)
    t.check("kill: the same key_id signs after the restart (verified)", problem is None,
            (status, body, problem))
    att1 = attestation(st)
    t.check("kill: same sealing key after the restart (seed released again), new boot_id",
            att0 and att1 and att1.get("sealing_key") == att0.get("sealing_key")
            and att1.get("boot_id") != att0.get("boot_id"), (att0, att1))
    kms_after = log_text(st, "kms")[kms_log_len:]
    t.check("kill: the key service released keys to the new enclave (Decrypt allow)",
            "Decrypt allow" in kms_after, kms_after[-500:])


# ---- check 3: key service down ---------------------------------------------------
def restart_kms_same_port(st):
    """Restarts sigil-kms on its state dir and on the port the enclave was
    started with. Returns (ready, error)."""
    port = urllib.parse.urlparse(st.kms["url"]).port
    kms_dir = os.path.join(st.home, "kms")
    root = os.path.join(st.home, "launch", "root.pem")
    last = ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        proc = st._spawn("kms", [st.exe("sigil-kms"), "--state", kms_dir,
                                 "--ready-file", st._ready_path("kms"),
                                 "--attestation-root", root,
                                 "--listen", f"127.0.0.1:{port}"])
        try:
            ready = _wait_ready(st._ready_path("kms"), proc, "sigil-kms", timeout=20)
        except StackError as e:
            last = str(e)
            time.sleep(0.5)
            continue
        return ready, None
    return None, last


def check_kms_down(st, t):
    key_id = seal_binance(st)
    h = st.http()
    status, body, problem = sign_once(h, key_id)
    t.check("kms down: first sign (warms the data-key cache)", problem is None,
            (status, body, problem))
    t_warm = time.monotonic()
    att = attestation(st)

    kms = st.procs["kms"]
    kms.kill()  # SIGKILL
    kms.wait()
    status, body, problem = sign_once(h, key_id)
    if problem is not None and time.monotonic() - t_warm >= 4.0:
        print("     (inconclusive: the 4 s TTL passed before the second sign; slow machine)")
    else:
        t.check("kms down: sign right after the kill → 200 from the cached data key",
                problem is None, (status, body, problem))

    def readyz_down():
        s, b = readyz(st)
        return (s, b) if s == 503 else None
    down = wait_for(readyz_down, 10)
    code, msg = err_code(down[1]) if down else (None, None)
    t.check("kms down: /readyz → 503 naming the key service",
            down is not None and msg and "key service" in msg, down)

    # Provisioning needs a new data key: clear error.
    pk = bytes.fromhex(att["sealing_key"]) if att else b"\0" * 32
    raw = payload("default", "binance", "mainnet", "hmac", BINANCE, policy(), bytes(range(32)))
    sealed = base64.b64encode(box_seal(pk, raw)).decode()
    status, _, body = h.request("POST", "/v1/keys", {"sealed": sealed})
    code, msg = err_code(body)
    t.check("kms down: POST /v1/keys → 503 key_service_error with a message",
            status == 503 and code in ("key_service_error", "unavailable") and msg
            and "key_id" not in body, (status, body))

    # Once the TTL (4 s) has passed, signing fails with a key-service error.
    last = {}

    def sign_fails():
        s, b, p = sign_once(h, key_id)
        last["r"] = (s, b, p)
        return (s, b) if s != 200 else None
    failed = wait_for(sign_fails, 20, step=0.25)
    s, b = failed if failed else (None, None)
    code, msg = err_code(b)
    t.check("kms down: after the TTL signing fails: 503 key_service_error, no signature",
            s == 503 and code in ("key_service_error", "unavailable") and msg
            and "signed" not in b, last.get("r"))
    t.check("kms down: the error message names the key service",
            msg is not None and ("kms" in msg.lower() or "key service" in msg.lower()), msg)

    # Restart the key service on the same port and state.
    ready, err = restart_kms_same_port(st)
    t.check("kms down: sigil-kms restarts on the same port and state", ready is not None, err)
    if ready is None:
        print("     product gap: restarting the key service on a new port needs an "
              "enclave restart (--kms-url is fixed at enclave start)", flush=True)
        return
    t.check("kms down: restarted key service has the same URL",
            ready.get("url") == st.kms["url"], (ready, st.kms))

    def signs_again():
        s, b, p = sign_once(h, key_id)
        last["r"] = (s, b, p)
        return p is None
    t.check("kms back: the same key signs again (no enclave restart)",
            wait_for(signs_again, 20, step=0.25), last.get("r"))
    t.check("kms back: /readyz 200 again",
            wait_for(lambda: readyz(st)[0] == 200, 20), readyz(st))
    sealed = base64.b64encode(box_seal(pk, raw)).decode()
    status, _, body = h.request("POST", "/v1/keys", {"sealed": sealed})
    t.check("kms back: POST /v1/keys → 201", status == 201, (status, body))


def stopped_cleanly(st, t, label):
    """After the faults: the gateway and launcher stop with status 0 on
    SIGTERM (neither crashed), and no sanitizer report in any log."""
    st.stop()
    for name in ("gateway", "launch"):
        rc = st.procs[name].returncode
        t.check(f"{label}: sigil-{name} survived the faults and exits 0 on SIGTERM", rc == 0, rc)
    reports = [name for name in st.logs
               if any(m in log_text(st, name) for m in ("AddressSanitizer", "runtime error:",
                                                        "LeakSanitizer"))]
    t.check(f"{label}: no sanitizer report in the logs", not reports, reports)


def main():
    bin_dir = bin_dir_arg()
    t = Checks()
    # A high rate limit: the load below must never be refused with 429.
    st = TempStack(bin_dir, gateway_args=["--rate", "1000000", "--burst", "1000000"])
    try:
        st.start()
        key_id = seal_binance(st)
        check_garbage(st, t, key_id)
        check_kill(st, t, key_id)
        stopped_cleanly(st, t, "garbage + kill")
    finally:
        st.cleanup()
    st = TempStack(bin_dir, enclave_args=["--key-ttl-ms", "4000"])
    try:
        st.start()
        check_kms_down(st, t)
        stopped_cleanly(st, t, "kms down")
    finally:
        st.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
