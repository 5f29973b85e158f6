"""The faults the soak suite injects, one function per kind. Each injects its
fault, holds it while the load runs, clears it, and returns what it saw;
run_fault() around it counts the load's answers during the fault and checks
that the gateway signs again within a bounded number of retries.

Every function returns a dict: "injected" (bool: the fault really took
effect), "detail" (what was seen), and optional extra figures.
"""
import errno
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from soak_load import binance_request, classify, now_ms, probe_sign, verify_binance  # noqa: E402
from soak_stack import TMPFS_SIZE, wait_for  # noqa: E402
from test_e2e_faults import readyz, restart_kms_same_port  # noqa: E402

RECOVERY_TRIES = 120  # × 0.25 s: the gateway must sign again within ~30 s
BUSY_TIMEOUT_S = 5.0  # the gateway's sqlite3_busy_timeout (src/gateway/store_sqlite.c)
SERVER_IDLE_TIMEOUT_S = 30  # MHD_OPTION_CONNECTION_TIMEOUT (src/gateway/http.c)


class Ctx:
    def __init__(self, stack, load, keys, rng, args):
        self.st, self.load, self.keys, self.rng, self.args = stack, load, keys, rng, args
        self.untyped = []  # untyped answers the suite's own probes saw

    def probe(self):
        tries, last, untyped = probe_sign(self.st.gateway["url"], self.st.token,
                                          self.keys["binance"][0], tries=RECOVERY_TRIES)
        self.untyped += untyped
        return tries, last


def run_fault(ctx, kind, fn, round_no):
    sh = ctx.load.shared
    ok0, fail0, t0 = sh.total("ok"), sh.total("failed"), time.monotonic()
    ctx.round_no = round_no
    print(f"  [{time.strftime('%H:%M:%S')}] round {round_no}: {kind}", flush=True)
    rec = fn(ctx)
    ok1, fail1 = sh.total("ok"), sh.total("failed")
    tries, last = ctx.probe()
    rec.update(kind=kind, round=round_no, seconds=round(time.monotonic() - t0, 2),
               ok_during=ok1 - ok0, failed_during=fail1 - fail0,
               recovered=last is None, recovery_attempts=tries,
               recovery_problem=None if last is None else str(last)[:300])
    print(f"      {rec['detail']}; load during: {rec['ok_during']} ok, "
          f"{rec['failed_during']} failed; recovered after {tries} attempt(s)"
          f"{'' if last is None else ': NOT RECOVERED ' + str(last)[:200]}", flush=True)
    return rec


# ---- kill -9 of the enclave ------------------------------------------------------
def enclave_kill(ctx):
    st = ctx.st
    pid0 = st.enclave_pid()
    if pid0 is None:
        return {"injected": False, "detail": "no enclave pid in the launcher's ready file"}
    os.kill(pid0, signal.SIGKILL)
    new = wait_for(lambda: (lambda p: p if p not in (None, pid0) else None)(st.enclave_pid()), 30)
    return {"injected": True, "old_pid": pid0, "new_pid": new,
            "detail": f"kill -9 enclave pid {pid0}; sigil-launch restarted it as pid {new}"}


# ---- key service stopped, then started on the same port and state ---------------
def kms_restart(ctx):
    st = ctx.st
    proc = st.procs["kms"]
    proc.send_signal(signal.SIGTERM)
    proc.wait(15)
    down_s = ctx.rng.uniform(1.0, 3.0)
    time.sleep(down_s)
    ready, err = restart_kms_same_port(st)
    back = ready is not None and wait_for(lambda: readyz(st)[0] == 200, 30)
    return {"injected": True, "down_s": round(down_s, 2), "restarted": bool(back),
            "detail": f"sigil-kms stopped for {down_s:.1f} s, restarted on the same port "
                      f"({'ok' if back else 'FAILED: ' + str(err)})"}


# ---- store full: the tmpfs shrunk to what it holds, the rest filled --------------
def _tmpfs_used(path):
    s = os.statvfs(path)
    return (s.f_blocks - s.f_bfree) * s.f_frsize


def _remount(path, size):
    r = subprocess.run(["mount", "-o", f"remount,size={size}", path], capture_output=True,
                       text=True)
    return r.returncode == 0, r.stderr.strip()


def store_full(ctx):
    st = ctx.st
    home = st.home
    # The store grows under load between the measure and the remount, and
    # tmpfs refuses a size below what it holds: measure again, with a wider
    # margin, when the remount is refused.
    for margin_mib in (1, 2, 4, 8, 16):
        size = (_tmpfs_used(home) + (margin_mib << 20) + 4095) // 4096 * 4096
        ok, err = _remount(home, size)
        if ok:
            break
    else:
        return {"injected": False, "detail": f"remount size={size} failed: {err}"}
    filler = os.path.join(home, "soak-filler")
    full = False
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    except OSError as e:  # the store may fill up before the filler does
        full = e.errno == errno.ENOSPC
    hold = ctx.rng.uniform(3.0, 5.0)
    fail0 = ctx.load.shared.total("failed")
    time.sleep(hold)
    failed = ctx.load.shared.total("failed") - fail0
    if os.path.exists(filler):
        os.unlink(filler)
    ok, err = _remount(home, TMPFS_SIZE)
    return {"injected": full, "hold_s": round(hold, 2), "restored": ok,
            "detail": f"store tmpfs limited to {size >> 10} KiB and filled (ENOSPC: {full}) "
                      f"for {hold:.1f} s, {failed} answers refused meanwhile; size restored: "
                      f"{ok}{'' if ok else ' ' + err}"}


# ---- store locked: another process holds SQLite's write lock --------------------
LOCKER = ("import sqlite3, sys\n"
          "c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
          "c.execute('BEGIN EXCLUSIVE')\n"
          "print('locked', flush=True)\n"
          "sys.stdin.read()\n"
          "c.execute('ROLLBACK')\n")


def store_locked(ctx):
    st = ctx.st
    # Past twice the gateway's busy timeout: a group commit that times out is
    # retried row by row, which waits once more.
    hold = 2 * BUSY_TIMEOUT_S + ctx.rng.uniform(1.0, 2.0)
    p = subprocess.Popen(st.as_user([sys.executable, "-c", LOCKER, st.db_path()]),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    locked = line == "locked"
    fail0 = ctx.load.shared.total("failed")
    if locked:
        time.sleep(hold)
    failed = ctx.load.shared.total("failed") - fail0
    p.stdin.close()
    rc = p.wait(30)
    return {"injected": locked, "hold_s": round(hold, 2),
            "detail": f"another process held the SQLite write lock for {hold:.1f} s "
                      f"(taken: {locked}, locker exit {rc}); {failed} answers refused "
                      f"meanwhile"}


# ---- clients that stall mid-body --------------------------------------------------
def _sign_body(ctx):
    import json
    req = binance_request(now_ms(), tag="stall")
    return req, json.dumps({"key_id": ctx.keys["binance"][0], "request": req}).encode()


def _read_response(s, timeout):
    """(status, body) of one HTTP/1.1 response, or (None, why)."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return None, "closed without a response"
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        length = next((int(h.split(b":", 1)[1]) for h in head.split(b"\r\n")[1:]
                       if h.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                return None, "closed mid-response"
            body += chunk
        return status, body[:length]
    except (OSError, ValueError) as e:
        return None, f"{type(e).__name__}: {e}"


def stall_clients(ctx, n=64):
    """n clients send their headers and half the body, then wait; the load
    must keep being served. Then half of them send the rest (each must get
    a verified 200 or a typed error), the other half hang up. With a hold
    past the gateway's idle timeout, the server must close them instead."""
    st = ctx.st
    host, port = "127.0.0.1", st.gateway_port
    long_hold = ctx.args.seconds >= 300 and ctx.round_no == 2
    hold = SERVER_IDLE_TIMEOUT_S + 5 if long_hold else ctx.rng.uniform(2.0, 4.0)
    socks = []
    for _ in range(n):
        req, body = _sign_body(ctx)
        s = socket.create_connection((host, port), timeout=10)
        head = (f"POST /v1/sign HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {st.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        s.sendall(head + body[:len(body) // 2])
        socks.append((s, req, body))
    ok0 = ctx.load.shared.total("ok")
    time.sleep(hold)
    served = ctx.load.shared.total("ok") - ok0
    answers = {}
    for i, (s, req, body) in enumerate(socks):
        if i % 2 == 1:
            s.close()
            continue
        try:
            s.sendall(body[len(body) // 2:])
        except OSError as e:
            answers[f"send failed: {e.strerror}"] = answers.get(f"send failed: {e.strerror}",
                                                                  0) + 1
            s.close()
            continue
        status, data = _read_response(s, 30)
        s.close()
        if status is None:
            what = data
        else:
            kind, parsed = classify(status, data)
            if kind == "ok":
                problem = verify_binance(req, parsed.get("signed"))
                what = "200 verified" if problem is None else f"200 WRONG: {problem}"
            else:
                what = parsed if kind == "typed" else f"untyped: {parsed}"
        answers[what] = answers.get(what, 0) + 1
    bad = {k: v for k, v in answers.items()
           if k.startswith("untyped") or "WRONG" in k
           or (not long_hold and not k.startswith(("200", "4", "5")))}
    ctx.untyped += [f"stalled client resumed: {k} ×{v}" for k, v in bad.items()]
    return {"injected": True, "clients": n, "hold_s": round(hold, 2), "served_during": served,
            "resumed_answers": answers, "past_idle_timeout": long_hold,
            "detail": f"{n} clients stalled mid-body for {hold:.1f} s ({served} other requests "
                      f"served meanwhile); resumed half got {answers}"}


# ---- store read-only (gateway restarted on it, as the unprivileged uid) ----------
def store_readonly(ctx):
    """Stops the gateway, makes the store directory and database files
    read-only for the gateway's uid, starts it again there, and sees what it
    does: refuse to start (fail closed) or answer with typed errors, and
    never a signature it cannot audit. Then restores the permissions and
    starts it again."""
    st = ctx.st
    sh = ctx.load.shared
    sh.restarting.value = 1
    rc_stop = st.stop_gateway()
    names = [n for n in os.listdir(st.home) if n.startswith("sigil.db")]
    modes = {n: os.stat(os.path.join(st.home, n)).st_mode & 0o777 for n in names}
    home_mode = os.stat(st.home).st_mode & 0o777
    for n in names:
        os.chmod(os.path.join(st.home, n), 0o400)
    os.chmod(st.home, 0o500)
    outcome, refused, released = None, 0, 0
    try:
        st.start_gateway()
        # It started: signing must be refused with a typed error, never released.
        for _ in range(5):
            tries, last, untyped = probe_sign(st.gateway["url"], st.token,
                                              ctx.keys["binance"][0], tries=1)
            ctx.untyped += untyped
            if last is None:
                released += 1
            else:
                refused += 1
        outcome = f"started on the read-only store; {refused} signs refused ({last}), " \
                  f"{released} released"
    except Exception as e:  # StackError: it exited before it was ready
        rc = st.procs["gateway"].poll()
        tail = st.log_tail("gateway")
        outcome = f"refused to start (exit {rc}): {tail[0][:200] if tail else e}"
        refused = -1
    finally:
        os.chmod(st.home, home_mode)
        for n, m in modes.items():
            os.chmod(os.path.join(st.home, n), m)
    if st.procs["gateway"].poll() is None:
        st.stop_gateway()
    st.start_gateway()
    sh.restarting.value = 0
    return {"injected": True, "stop_status": rc_stop, "released": released,
            "fail_closed": released == 0, "outcome": outcome,
            "detail": f"gateway stopped (exit {rc_stop}) and restarted as uid "
                      f"{st.user[0] if st.user else os.getuid()} on a read-only store: "
                      f"{outcome}"}


# ---- thousands of idle connections, held for the whole run -----------------------
class IdleConns:
    """Holds n idle TCP connections to the gateway; re-opens those the
    server closes (its idle timeout), counting them."""

    def __init__(self, port, n):
        self.port, self.n = port, n
        self.sel = selectors.DefaultSelector()
        self.opened = self.failed = self.closed_by_server = 0
        self.errors = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open_one(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError as e:
            self.failed += 1
            self.errors[e.strerror] = self.errors.get(e.strerror, 0) + 1
            return
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ)
        self.opened += 1

    def open_all(self):
        for _ in range(self.n):
            self._open_one()
        self.thread.start()

    def held(self):
        return len(self.sel.get_map())

    def _run(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.5):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self.sel.unregister(s)
                    s.close()
                    self.closed_by_server += 1
                    if not self.stop.is_set():
                        self._open_one()

    def close_all(self):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(10)
        for key in list(self.sel.get_map().values()):
            self.sel.unregister(key.fileobj)
            key.fileobj.close()

    def figures(self):
        return {"target": self.n, "opened": self.opened, "connect_failures": self.failed,
                "connect_errors": self.errors, "closed_by_server": self.closed_by_server}


KINDS = {"enclave_kill": enclave_kill, "kms_restart": kms_restart, "store_full": store_full,
         "store_locked": store_locked, "stall_clients": stall_clients}
