"""The soak suite's dev stack: a TempStack whose state directory (the
gateway's --home, holding sigil.db) is a size-limited tmpfs when the suite
runs as root, and whose gateway runs as an unprivileged uid (nobody) so that
file permissions on the store mean something. Also the /proc sampling of
RSS and open file descriptors.

Layout (TMP = /tmp/sigil-soak-XXXX, chmod 0711 so nobody can reach in):
  TMP/home       the store: tmpfs (root) or a plain directory; owned by the
                 gateway's uid; sigil.db, run/ (ready files, enclave socket),
                 and the key service's and launcher's state (root-owned 0700)
  TMP/log        every process's log (never on the tmpfs: a full store must
                 not cost the logs)
The launcher (and so the enclave) runs with umask 000 so its socket accepts
the unprivileged gateway; the directories around it still keep others out.
"""
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_util  # noqa: E402
from e2e_util import StackError, TempStack  # noqa: E402
from devstack import _wait_ready  # noqa: E402

# wait_for is moving from test_e2e_faults into e2e_util: take it from either.
wait_for = getattr(e2e_util, "wait_for", None) or __import__("test_e2e_faults").wait_for

TMPFS_SIZE = 2 << 30  # an upper bound: tmpfs holds only what is written
UNPRIVILEGED = "nobody"


def is_root():
    return os.geteuid() == 0


class SoakStack(TempStack):
    def __init__(self, bin_dir, gateway_args=()):
        super().__init__(bin_dir, gateway_args=list(gateway_args))
        # Its own prefix: a sweep of stale sigil-e2e-* directories must not
        # pull the store out from under a ten-minute run.
        soak_tmp = tempfile.mkdtemp(prefix="sigil-soak-")
        os.rmdir(soak_tmp)
        os.rename(self.tmp, soak_tmp)
        self.tmp = soak_tmp
        self.home = os.path.join(self.tmp, "home")
        self.run_dir = os.path.join(self.home, "run")
        self.log_dir = os.path.join(self.tmp, "log")
        self.tmpfs = False
        self.user = None  # (uid, gid) of the gateway when the suite is root
        if is_root():
            pw = pwd.getpwnam(UNPRIVILEGED)
            self.user = (pw.pw_uid, pw.pw_gid)
        self.gateway_port = 0
        self.mount_error = "the suite is not root"

    # -- setup -------------------------------------------------------------
    def prepare(self):
        """Mounts the tmpfs store (root only) before the stack starts."""
        os.chmod(self.tmp, 0o711)
        os.makedirs(self.home, exist_ok=True)
        os.makedirs(self.log_dir, mode=0o700, exist_ok=True)
        if is_root():
            uid, gid = self.user
            r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                f"size={TMPFS_SIZE},mode=0700,uid={uid},gid={gid}",
                                "sigil-soak", self.home], capture_output=True, text=True)
            self.tmpfs = r.returncode == 0
            if not self.tmpfs:  # root without CAP_SYS_ADMIN (a container)
                self.mount_error = r.stderr.strip()

    def db_path(self):
        return os.path.join(self.home, "sigil.db")

    def as_user(self, argv):
        """argv run as the unprivileged uid (unchanged when not root)."""
        if self.user is None:
            return list(argv)
        uid, gid = self.user
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *argv]

    def _spawn(self, name, argv, env=None):
        if name == "launch":
            argv = ["sh", "-c", 'umask 000; exec "$@"', "sh", *argv]
        elif name == "gateway":
            argv = self.as_user(argv)
        return super()._spawn(name, argv, env)

    def _give_to_user(self, path):
        if self.user is not None:
            os.chown(path, *self.user)

    def start_gateway(self, port=None):
        """Starts the gateway as the unprivileged uid on --listen 127.0.0.1:port
        (0 the first time, the same port on a restart; retried while the old
        socket lingers)."""
        port = self.gateway_port if port is None else port
        os.makedirs(self.run_dir, exist_ok=True)
        self._give_to_user(self.run_dir)
        self._give_to_user(self.home)
        creds = os.path.join(self.home, "gateway-kms-credentials.json")
        if not os.path.exists(creds):
            shutil.copyfile(self.kms["credentials"], creds)
            os.chmod(creds, 0o600)
            self._give_to_user(creds)
        argv = [self.exe("sigil-gateway"), "--home", self.home, "--listen",
                f"127.0.0.1:{port}", "--enclave", "unix:" + self.enclave_socket(),
                "--ready-file", self._ready_path("gateway"), "--kms-credentials", creds,
                *self.gateway_args]
        deadline = time.monotonic() + 20
        while True:
            proc = self._spawn("gateway", argv)
            try:
                self.gateway = _wait_ready(self._ready_path("gateway"), proc, "sigil-gateway")
                break
            except StackError:
                if port == 0 or time.monotonic() > deadline or not self._bind_failed():
                    raise
                time.sleep(0.5)
        self.gateway_port = int(self.gateway["url"].rsplit(":", 1)[1])
        return self.gateway

    def log_tail(self, name, lines=1):
        try:
            with open(self.logs[name], errors="replace") as f:
                return [x for x in f.read().splitlines() if x.strip()][-lines:]
        except OSError:
            return []

    def _bind_failed(self):
        """The gateway's last words were about its --listen address (the old
        socket still lingers): worth another try on the same port."""
        return any("--listen" in x for x in self.log_tail("gateway"))

    def stop_gateway(self, timeout=15):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        proc = self.procs["gateway"]
        if proc.poll() is not None:
            return proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None

    def enclave_pid(self):
        try:
            import json
            with open(self._ready_path("launch")) as f:
                return json.load(f).get("enclave_pid")
        except (OSError, ValueError):
            return None

    def pids(self):
        return {"gateway": self.procs["gateway"].pid, "enclave": self.enclave_pid(),
                "kms": self.procs["kms"].pid}

    def teardown(self):
        """Stops everything, unmounts the tmpfs, removes the directory
        (SIGIL_KEEP_TMP keeps it, with the store copied out of the tmpfs)."""
        self.stop()
        if self.tmpfs:
            if os.environ.get("SIGIL_KEEP_TMP") is not None:
                shutil.copytree(self.home, os.path.join(self.tmp, "home-copy"), symlinks=True,
                                ignore_dangling_symlinks=True, dirs_exist_ok=True)
            subprocess.run(["umount", "-l", self.home], capture_output=True)
            self.tmpfs = False
        self.cleanup()


# ---- /proc sampling -----------------------------------------------------------
def _fd_targets(pid):
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:  # closed meanwhile
            pass
    return targets


def proc_sample(pid, store=None):
    """{"pid", "rss_kb", "fds", "store_fds"} of a live process, or None.
    "store_fds": how many of its fds are the SQLite files under `store` (the
    gateway opens one read connection per handler thread, lazily, so these
    grow up to a bound). "fds" is None when /proc/PID/fd cannot be read (a
    non-dumpable process, seen by a non-root suite)."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return None
    try:
        targets = _fd_targets(pid)
    except OSError:
        return {"pid": pid, "rss_kb": rss, "fds": None, "store_fds": None}
    in_store = sum(1 for x in targets if store and x.startswith(store))
    return {"pid": pid, "rss_kb": rss, "fds": len(targets), "store_fds": in_store}


def sanitized(exe):
    """True when the executable carries a sanitizer runtime (RSS means nothing then)."""
    try:
        with open(exe, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__tsan_init" in data
