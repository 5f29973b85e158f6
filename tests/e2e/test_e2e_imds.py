#!/usr/bin/env python3
"""The production key-service path, end to end on loopback:

- the gateway takes its AWS credentials from IMDSv2 (--kms-credentials imds
  --imds URL, served by imds_twin.py with 6-second credentials) and passes
  them to the enclave in `boot`; it fetches again before they expire and
  sends them to every live connection in a second `boot`;
- the enclave reaches sigil-kms through --kms-proxy tcp:127.0.0.1:PORT (a
  TCP forwarder here, the parent's vsock-proxy on Nitro) while TLS names
  https://localhost:1, where nothing listens;
- sigil-kms checks SigV4 with the session token (its credentials.json
  carries the token the twin serves).

Proof that pushed credentials reach the running enclave: the twin switches
to a token sigil-kms refuses, /readyz (which makes the enclave call the key
service) turns 503 "key service: down"; the twin switches back and /readyz
turns 200, with no enclave connection lost or re-opened in between."""
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import Checks, TempStack, bin_dir_arg, wait_for  # noqa: E402
from devstack import _wait_ready  # noqa: E402

GOOD_TOKEN = "IQoJb3JpZ2luX2VjEGOOD" + "A" * 40
BAD_TOKEN = "IQoJb3JpZ2luX2VjEBAD" + "B" * 40
LIFETIME_S = 6
WAIT_S = 60


class Forwarder:
    """127.0.0.1:0 -> target; counts connections."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                u = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def write_kms_credentials(home):
    """sigil-kms keeps existing state files: give it AWS-shaped credentials
    with a session token before its first start."""
    kms_dir = os.path.join(home, "kms")
    os.makedirs(kms_dir, mode=0o700)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    creds = {"access_key_id": "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
             "secret_access_key": secrets.token_urlsafe(30)[:40].replace("-", "+").replace("_", "/"),
             "region": "us-east-1", "session_token": GOOD_TOKEN}
    path = os.path.join(kms_dir, "credentials.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f)
    return path


def twin_call(url, path, body=None):
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def readyz(st):
    try:
        with urllib.request.urlopen(st.gateway["url"] + "/readyz", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def gateway_log(st):
    with open(st.logs["gateway"], errors="replace") as f:
        return f.read()


def start(st, twin_url):
    """DevStack.start, with the enclave's key service behind a forwarder."""
    for d in (st.home, st.run_dir, st.log_dir):
        os.makedirs(d, mode=0o700, exist_ok=True)
    st.start_kms()
    fwd = Forwarder(int(st.kms["url"].rsplit(":", 1)[1]))
    st.enclave_args = ["--kms-url", "https://localhost:1", "--kms-proxy",
                       f"tcp:127.0.0.1:{fwd.port}"]
    st.gateway_args = ["--kms-credentials", "imds", "--imds", twin_url, "--enclave-conns", "2"]
    st.start_launch()
    st.start_gateway()
    st.token = st.ensure_tenant()
    st.wait_ready()
    return fwd


def main():
    bin_dir = bin_dir_arg()
    t = Checks()
    st = TempStack(bin_dir)
    os.makedirs(st.home, mode=0o700)
    creds_path = write_kms_credentials(st.home)
    ready = st.path("imds.ready")
    twin = subprocess.Popen([sys.executable, os.path.join(HERE, "imds_twin.py"),
                             "--ready-file", ready, "--credentials", creds_path,
                             "--lifetime", str(LIFETIME_S)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        twin_url = _wait_ready(ready, twin, "imds twin")["url"]
        fwd = start(st, twin_url)
        run(st, t, twin_url, fwd)
    finally:
        twin.terminate()
        twin.wait()
        st.cleanup()
    return t.done()


def run(st, t, twin_url, fwd):
    status, body = readyz(st)
    t.check("stack ready with IMDS credentials and the proxied key service",
            status == 200 and body.get("kms") == "ok", (status, body))
    stats = twin_call(twin_url, "/_twin/stats")
    c = stats["counts"]
    t.check("IMDSv2 session token asked for with TTL 21600", stats["last_ttl"] == "21600", stats)
    t.check("role, credentials and identity document read",
            c.get("roles", 0) >= 1 and c.get("credentials", 0) >= 1 and c.get("identity", 0) >= 1,
            c)
    t.check("every IMDS GET carried a valid session token", c.get("unauthorized", 0) == 0, c)
    t.check("the enclave's key-service connections went through the proxy",
            fwd.connections >= 1, fwd.connections)
    log = gateway_log(st)
    t.check("the enclave logs its key-service route",
            "via tcp:127.0.0.1:" in open(st.logs["launch"], errors="replace").read(), "")

    # refreshed before expiry, pushed to both live connections
    refreshed = wait_for(lambda: gateway_log(st).count("credentials refreshed (expire in") >= 4, WAIT_S)
    log = gateway_log(st)
    t.check("credentials refreshed from IMDS before they expire",
            log.count("kms credentials refreshed from IMDS") >= 2, log[-2000:])
    t.check("each refresh sent to the live connections", refreshed, log[-2000:])

    # the pushed credentials are the ones the enclave uses
    twin_call(twin_url, "/_twin/token", {"token": BAD_TOKEN})
    down = wait_for(lambda: readyz(st)[0] == 503, WAIT_S)
    status, body = readyz(st)
    t.check("a token sigil-kms refuses, pushed live: /readyz 503 key service down",
            down and "key service" in json.dumps(body), (status, body))
    twin_call(twin_url, "/_twin/token", {"token": GOOD_TOKEN})
    up = wait_for(lambda: readyz(st)[0] == 200, WAIT_S)
    status, body = readyz(st)
    t.check("the good token pushed again: /readyz 200", up and body.get("kms") == "ok",
            (status, body))
    log = gateway_log(st)
    t.check("no enclave connection lost or re-opened meanwhile",
            " lost: " not in log and log.count("ready (protocol") == 2, log[-3000:])
    t.check("no credential leaks into the gateway log",
            GOOD_TOKEN not in log and BAD_TOKEN not in log, "")


if __name__ == "__main__":
    sys.exit(main())
