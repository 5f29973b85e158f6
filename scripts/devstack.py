#!/usr/bin/env python3
"""The Sigil dev stack: sigil-kms, sigil-launch (which runs sigil-enclave) and
sigil-gateway on one machine, on loopback, with state in one directory.

More pairs (launcher+enclave+gateway, each with its own socket, ready files
and logs) can join the same key service and store: DevStack.add_pair
(docs/OPERATIONS.md "Multi-host topology"); they share the enclave seed
through the store's seed ciphertext, so any of them serves any key.

`make run` uses it to start a stack for people (python3 scripts/devstack.py run);
the end-to-end tests import it to start throw-away stacks in temporary
directories. Every server binds port 0 (or a unix socket in the state
directory) and reports its address through a ready file; nothing here probes
ports.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

READY_TIMEOUT_S = 60


class StackError(RuntimeError):
    pass


def _wait_ready(path, proc, name, timeout=READY_TIMEOUT_S, want=None):
    """Waits until `path` holds JSON (and want(json) is true); fails early if proc dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{name} exited with status {proc.returncode} before it was ready")
        try:
            with open(path) as f:
                data = json.load(f)
            if want is None or want(data):
                return data
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    raise StackError(f"{name} not ready after {timeout}s ({path})")


class DevStack:
    """One stack. `home` is its state directory (kept across runs by `make run`)."""

    def __init__(self, bin_dir, home, log_dir=None, gateway_args=(), enclave_args=(),
                 quiet=True, enclave_exe=None, pin=None, gateway_ca=None, store_url=None):
        """enclave_exe: run this enclave binary instead of BIN/sigil-enclave;
        pin: the measurement to pin in the key policy (default: the
        measurement of the enclave binary that runs); store_url: the
        gateway's store (--store, e.g. postgresql://...; default: the SQLite
        file in home)."""
        self.bin = os.path.abspath(bin_dir)
        self.enclave_exe = os.path.abspath(enclave_exe) if enclave_exe else None
        self.pin = pin
        self.gateway_ca = gateway_ca  # PEM to trust when the gateway serves HTTPS
        self.store_args = ["--store", store_url] if store_url else []
        self.home = os.path.abspath(home)
        self.run_dir = os.path.join(self.home, "run")
        self.log_dir = os.path.abspath(log_dir or os.path.join(self.home, "log"))
        self.gateway_args = list(gateway_args)
        self.enclave_args = list(enclave_args)
        self.quiet = quiet
        self.procs = {}
        self.logs = {}
        self.kms = self.launch = self.gateway = None
        self.token = None
        self.pairs = {}

    # -- helpers ---------------------------------------------------------
    def exe(self, name):
        return os.path.join(self.bin, name)

    def _ready_path(self, name):
        return os.path.join(self.run_dir, f"{name}.ready")

    def _spawn(self, name, argv, env=None):
        log = open(os.path.join(self.log_dir, f"{name}.log"), "ab")
        self.logs[name] = log.name
        ready = self._ready_path(name)
        if os.path.exists(ready):
            os.unlink(ready)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=env, start_new_session=True)
        self.procs[name] = proc
        return proc

    def sigil(self, *args, input=None, check=True):
        env = {**os.environ, "SIGIL_STORE": self.store_args[1]} if self.store_args else None
        r = subprocess.run([self.exe("sigil"), *args], input=input, capture_output=True, env=env)
        if check and r.returncode != 0:
            raise StackError(f"sigil {' '.join(args)}: {r.stderr.decode().strip()}")
        return r

    # -- the processes ---------------------------------------------------
    def start_kms(self):
        kms_dir = os.path.join(self.home, "kms")
        root = self.dev_root()
        measurement = self.pin or self.measurement()
        subprocess.run([self.exe("sigil-kms"), "--state", kms_dir, "pin", "--image-sha384",
                        measurement], check=True, capture_output=True)
        proc = self._spawn("kms", [self.exe("sigil-kms"), "--state", kms_dir,
                                   "--ready-file", self._ready_path("kms"),
                                   "--attestation-root", root])
        self.kms = _wait_ready(self._ready_path("kms"), proc, "sigil-kms")
        return self.kms

    def dev_root(self):
        """Creates the dev attestation CA (first run) and returns its root PEM path."""
        launch_dir = os.path.join(self.home, "launch")
        r = subprocess.run([self.exe("sigil-launch"), "--state", launch_dir, "--init"],
                           capture_output=True)
        if r.returncode != 0:
            raise StackError(f"sigil-launch --init: {r.stderr.decode().strip()}")
        return os.path.join(launch_dir, "root.pem")

    def enclave_path(self):
        return self.enclave_exe or self.exe("sigil-enclave")

    def measurement(self, enclave_exe=None):
        """The dev measurement of enclave_exe (default: this stack's enclave)."""
        return self.sigil("measure", enclave_exe or self.enclave_path()).stdout.decode().strip()

    def enclave_socket(self):
        return os.path.join(self.run_dir, "enclave.sock")

    def _start_launch(self, name, enclave_exe, socket, enclave_args):
        argv = [self.exe("sigil-launch"), "--enclave", enclave_exe,
                "--state", os.path.join(self.home, "launch"),
                "--ready-file", self._ready_path(name), "--",
                "--listen", "unix:" + socket,
                "--kms-url", self.kms["url"], "--kms-ca", self.kms["ca"],
                "--kms-key-id", self.kms.get("key_id", "alias/sigil"), *enclave_args]
        return _wait_ready(self._ready_path(name), self._spawn(name, argv), name)

    def _start_gateway(self, name, socket, gateway_args):
        argv = [self.exe("sigil-gateway"), "--home", self.home, "--listen", "127.0.0.1:0",
                "--enclave", "unix:" + socket, "--ready-file", self._ready_path(name),
                "--kms-credentials", self.kms["credentials"], *self.store_args, *gateway_args]
        return _wait_ready(self._ready_path(name), self._spawn(name, argv), name)

    def start_launch(self):
        self.launch = self._start_launch("launch", self.enclave_path(), self.enclave_socket(),
                                         self.enclave_args)
        return self.launch

    def start_gateway(self):
        self.gateway = self._start_gateway("gateway", self.enclave_socket(), self.gateway_args)
        return self.gateway

    def ensure_tenant(self, name="default"):
        """Creates the tenant and a token on first use; returns the token."""
        token_file = os.path.join(self.home, f"token.{name}")
        if os.path.exists(token_file):
            with open(token_file) as f:
                return f.read().strip()
        admin = ["admin", *(self.store_args or ("--home", self.home))]
        listed = self.sigil(*admin, "tenant", "list").stdout.decode()
        if name not in listed.split():
            self.sigil(*admin, "tenant", "add", name)
        out = self.sigil(*admin, "token", "add", name).stdout.decode().strip()
        token = out
        if out.startswith("{"):
            token = json.loads(out)["token"]
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return token

    def wait_ready(self, timeout=READY_TIMEOUT_S, url=None, names=None):
        """Waits until /readyz says 200 (enclave booted, key service up) on
        the gateway (or url); fails early when a process (of names) exits."""
        import ssl
        import urllib.error
        import urllib.request
        ctx = ssl.create_default_context(cafile=self.gateway_ca) if self.gateway_ca else None
        url = url or self.gateway["url"]
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if (names is None or name in names) and proc.poll() is not None:
                    raise StackError(f"{name} exited with status {proc.returncode}: "
                                     f"see {self.logs[name]}")
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=2, context=ctx) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                last = e.read().decode(errors="replace")
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise StackError(f"stack not ready after {timeout}s: {last}")

    def start(self, wait=True):
        """Starts everything; with wait, until /readyz answers 200."""
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        os.makedirs(self.log_dir, mode=0o700, exist_ok=True)
        try:
            self.start_kms()
            self.start_launch()
            self.start_gateway()
            self.token = self.ensure_tenant()
            if wait:
                self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop_proc(self, name):
        """SIGTERM, then SIGKILL (its process group) after 10 s."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill_proc(self, name):
        """SIGKILL to the process group (a launcher and its enclave die together)."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self):
        """Stops every gateway, then every launcher (and enclave), then the key service."""
        for kind in ("gateway", "launch", "kms"):
            for name in [n for n in self.procs if n == kind or n.startswith(kind + "-")]:
                self.stop_proc(name)

    # -- several pairs on one key service and store ------------------------
    def add_pair(self, name, enclave_exe=None, gateway_args=(), enclave_args=(), wait=True):
        """Starts another launcher+enclave+gateway pair on this stack's key
        service and store (start() first); returns it. Its enclave boots
        from the seed ciphertext in the store, so it opens every blob the
        other pairs sealed, if the key policy allows its measurement
        (allow_measurements)."""
        pair = Pair(self, name, enclave_exe, gateway_args, enclave_args)
        self.pairs[name] = pair
        return pair.start(wait)

    def primary(self):
        """The stack's own launcher and gateway as a Pair (named "")."""
        if "" not in self.pairs:
            self.pairs[""] = Pair(self, "", self.enclave_exe, self.gateway_args,
                                  self.enclave_args)
        return self.pairs[""]

    def key_policy_path(self):
        return os.path.join(self.home, "kms", "key-policy.json")

    def allow_measurements(self, measurements):
        """Rewrites the key service's policy so that exactly these enclave
        measurements may decrypt (every ImageSha384 condition becomes the
        list; the key service reads the policy on every request)."""
        with open(self.key_policy_path()) as f:
            policy = json.load(f)
        found = 0
        for st in policy["Statement"]:
            for cond in st.get("Condition", {}).values():
                for k in cond:
                    if k.lower() == "kms:recipientattestation:imagesha384":
                        cond[k] = list(measurements)
                        found += 1
        if not found:
            raise StackError("key policy: no ImageSha384 condition")
        tmp = self.key_policy_path() + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(policy, f, indent=2)
        os.rename(tmp, self.key_policy_path())

    def enclave_variant(self, path, tag):
        """A copy of the enclave binary with tag appended after its end: it
        runs the same, and its dev measurement (the hash of the file) differs."""
        shutil.copyfile(self.exe("sigil-enclave"), path)
        with open(path, "ab") as f:
            f.write(b"\0sigil-variant:" + tag.encode())
        os.chmod(path, 0o755)
        return path

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Pair:
    """One launcher+enclave+gateway of a DevStack. Processes "launch-NAME"
    and "gateway-NAME", socket run/enclave-NAME.sock; the name "" is the
    stack's own pair (processes "launch" and "gateway")."""

    def __init__(self, stack, name, enclave_exe=None, gateway_args=(), enclave_args=()):
        self.stack, self.name = stack, name
        self.enclave_exe = os.path.abspath(enclave_exe) if enclave_exe else stack.exe(
            "sigil-enclave")
        self.gateway_args, self.enclave_args = list(gateway_args), list(enclave_args)
        sfx = "-" + name if name else ""
        self.launch_name, self.gateway_name = "launch" + sfx, "gateway" + sfx
        self.socket = stack.enclave_socket() if not name else os.path.join(
            stack.run_dir, f"enclave{sfx}.sock")
        self._launch = self._gateway = None

    # the stack's own pair follows the stack's processes (restarted or not)
    launch = property(lambda self: self.stack.launch if not self.name else self._launch)
    gateway = property(lambda self: self.stack.gateway if not self.name else self._gateway)

    @property
    def url(self):
        return self.gateway["url"]

    @property
    def measurement(self):
        return self.launch["measurement"]

    def start(self, wait=True):
        """Starts the launcher (and enclave), then the gateway; with wait,
        until its /readyz answers 200."""
        st = self.stack
        launch = st._start_launch(self.launch_name, self.enclave_exe, self.socket,
                                  self.enclave_args)
        gateway = st._start_gateway(self.gateway_name, self.socket, self.gateway_args)
        if self.name:
            self._launch, self._gateway = launch, gateway
        else:
            st.launch, st.gateway = launch, gateway
        if wait:
            st.wait_ready(url=self.url, names=(self.launch_name, self.gateway_name, "kms"))
        return self

    def stop(self):
        """Gateway first (no request in flight), then the enclave."""
        self.stack.stop_proc(self.gateway_name)
        self.stack.stop_proc(self.launch_name)

    def kill(self):
        """kill -9 of the gateway and of the launcher with its enclave."""
        self.stack.kill_proc(self.gateway_name)
        self.stack.kill_proc(self.launch_name)

    def running(self):
        return all(self.stack.procs[n].poll() is None
                   for n in (self.launch_name, self.gateway_name) if n in self.stack.procs)

    def add_gateway(self, name, gateway_args=(), wait=True):
        """Starts one more gateway, process "gateway-NAME", on this pair's
        enclave (and the stack's store), with gateway_args instead of the
        pair's; with wait, until its /readyz answers 200. Returns its ready
        file (url). The stack's stop() stops it; the pair's stop() and
        kill() do not."""
        st, proc = self.stack, "gateway-" + name
        gateway = st._start_gateway(proc, self.socket, gateway_args)
        if wait:
            st.wait_ready(url=gateway["url"], names=(self.launch_name, proc, "kms"))
        return gateway


def example(stack, sigil="build/bin/sigil"):
    """The copy-paste example of the banner (also run by the tests)."""
    url, m, root = stack.gateway["url"], stack.launch["measurement"], stack.launch["root"]
    not_after = int(time.time()) + 30 * 86400
    return f"""export SIGIL_URL={url} SIGIL_TOKEN={stack.token}
umask 077
{sigil} keygen --out owner.key
echo '{{"version":1,"tenant":"default","venue":"binance","network":"mainnet","actions":["order","cancel","read"],"not_after":{not_after}}}' > policy.json
echo '{{"api_key":"my-api-key","secret":"my-secret"}}' > binance.json
KEY_ID=$({sigil} seal --gateway $SIGIL_URL --token $SIGIL_TOKEN --venue binance \\
    --network mainnet --credentials binance.json --policy policy.json --owner-key owner.key \\
    --client-key-out client.key --measurement {m} \\
    --trust-dev-root {root} | sed -n 's/.*"key_id":"\\([^"]*\\)".*/\\1/p')
echo '{{"method":"POST","path":"/api/v3/order","body":"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=30000&timeInForce=GTC","timestamp":'$(date +%s%3N)'}}' |
  {sigil} sign-request --key-id $KEY_ID --client-key client.key |
  curl -s $SIGIL_URL/v1/sign -H "Authorization: Bearer $SIGIL_TOKEN" \\
    -H 'Content-Type: application/json' -d @-
"""


def _print_banner(stack, sigil):
    ex = "\n".join("  " + line for line in example(stack, sigil).splitlines())
    print(f"""
Sigil dev stack is up (mode: dev — same protocol as Nitro, no hardware isolation).

  gateway      {stack.gateway["url"]}
  token        {stack.token}
  measurement  {stack.launch["measurement"]}
  dev root     {stack.launch["root"]}
  state        {stack.home}
  logs         {stack.log_dir}

Try it in another shell (seals a Binance key, then signs an order; see
docs/PROVISIONING.md and docs/API.md):

{ex}

Ctrl-C stops everything.
""", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("command", choices=["run"])
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--home", default=os.environ.get("SIGIL_HOME", "var"))
    args = ap.parse_args()
    stack = DevStack(args.bin, args.home, quiet=False)
    stop = []
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    try:
        stack.start()
    except StackError as e:
        print(f"devstack: {e}", file=sys.stderr)
        for name, path in stack.logs.items():
            print(f"--- {name} ({path}), last lines:", file=sys.stderr)
            with open(path, errors="replace") as f:
                sys.stderr.write("".join(f.readlines()[-15:]))
        return 1
    _print_banner(stack, os.path.abspath(os.path.join(args.bin, "sigil")))
    while not stop:
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                print(f"devstack: {name} exited ({proc.returncode}); stopping", file=sys.stderr)
                stop.append(1)
        time.sleep(0.5)
    print("\nstopping…", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
