#!/usr/bin/env python3
"""Secret hygiene: sigil-enclave, run as an unprivileged uid, refuses a
ptrace attach and a /proc/PID/mem read from another process of the same
uid; the gateway's documented behaviour (docs/SECURITY.md) is checked too.

CI runs as root, and root may trace anything, so here sigil-launch (which
starts the enclave) and sigil-gateway run as nobody (65534) from a
directory nobody owns, and the probe (tests/hygiene/hygiene_util.py PROBE:
PTRACE_ATTACH through libc, then a read of /proc/PID/mem) runs as nobody
too. The enclave never needs the key service here: it hardens itself at
start, before any boot.

1. enclave: attach → EPERM, /proc/PID/mem → EACCES or EPERM, and its /proc
   files belong to root although it runs as nobody (PR_SET_DUMPABLE 0); it
   is still alive afterwards.
2. Control, so that 1 can fail: sigil-launch, the same uid without
   PR_SET_DUMPABLE 0, can be attached and read by the same probe.
3. gateway: it holds no tenant secret and stays dumpable, so that its cores
   can be debugged (test_core_scan.py scans one): the probe attaches and
   reads. This is what docs/SECURITY.md says: give it its own uid.
Exits 77 in the sanitizer build (no hardening) or without a nobody user.
"""
import json
import os
import pwd
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hygiene_util import (NOBODY, SKIP, Checks, DevStack, StackError, _wait_ready, as_nobody,  # noqa: E402
                          nobody_dir, probe_as_nobody, proc_stat, seccomp_mode, wait_for)

FAKE_AWS = {"AWS_ACCESS_KEY_ID": "AKIDHYGIENE", "AWS_SECRET_ACCESS_KEY": "hygiene",
            "AWS_REGION": "us-east-1"}


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def spawn(argv, log, env=None):
    f = open(log, "ab")
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                            preexec_fn=as_nobody, env=env, start_new_session=True)


def start(bin_dir, d, procs):
    """sigil-launch (→ sigil-enclave) and sigil-gateway, as nobody; each
    goes into procs as soon as it runs, for the cleanup."""
    sock = os.path.join(d, "enclave.sock")
    launch = spawn([os.path.join(bin_dir, "sigil-launch"),
                    "--enclave", os.path.join(bin_dir, "sigil-enclave"),
                    "--state", os.path.join(d, "launch"),
                    "--ready-file", os.path.join(d, "launch.ready"), "--",
                    "--listen", "unix:" + sock, "--kms-url", "https://127.0.0.1:9"],
                   os.path.join(d, "launch.log"))
    procs["launch"] = launch
    ready = _wait_ready(os.path.join(d, "launch.ready"), launch, "sigil-launch")
    env = dict(os.environ, **FAKE_AWS)
    gw = spawn([os.path.join(bin_dir, "sigil-gateway"), "--home", os.path.join(d, "gw"),
                "--enclave", "unix:" + sock, "--ready-file", os.path.join(d, "gw.ready")],
               os.path.join(d, "gateway.log"), env)
    procs["gateway"] = gw
    _wait_ready(os.path.join(d, "gw.ready"), gw, "sigil-gateway")
    return launch, ready["enclave_pid"], gw


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def healthz(ready):
    with open(ready) as f:
        url = json.load(f)["url"]
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
            return r.status
    except OSError as e:
        return str(e)


def check_refuses(t, name, pid):
    r = probe_as_nobody(pid)
    t.check(f"{name}: the probe runs as nobody", r.get("uid") == NOBODY, r)
    t.check(f"{name}: PTRACE_ATTACH from the same uid → EPERM", r.get("attach") == "EPERM", r)
    t.check(f"{name}: /proc/PID/mem unreadable", r.get("mem") in ("EACCES", "EPERM"), r)


def check_allows(t, name, pid):
    r = probe_as_nobody(pid)
    t.check(f"{name}: PTRACE_ATTACH from the same uid succeeds", r.get("attach") == "ok", r)
    t.check(f"{name}: /proc/PID/mem readable by the same uid", r.get("mem") == "ok", r)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    bin_dir = os.path.abspath(sys.argv[1])
    try:
        pwd.getpwuid(NOBODY)
    except KeyError:
        print("SKIP: no user with uid 65534")
        return SKIP
    if os.getuid() != 0:
        print("SKIP: needs root to start the processes as nobody")
        return SKIP
    t = Checks()
    d = nobody_dir("sigil-hyg-ptrace-")
    procs = {}
    try:
        try:
            launch, enclave_pid, gw = start(bin_dir, d, procs)
        except StackError as e:
            for name in ("launch.log", "gateway.log"):
                if os.path.exists(os.path.join(d, name)):
                    print(f"--- {name}:\n{read(os.path.join(d, name))[-1500:]}")
            t.check("sigil-launch and sigil-gateway start as nobody", False, e)
            return t.done()
        if wait_for(lambda: seccomp_mode(read(os.path.join(d, "launch.log")))) == "off":
            print("SKIP: sanitizer build (SIGIL_NO_HARDENING): no ptrace refusal")
            return SKIP
        t.check("enclave runs as nobody", proc_uid(enclave_pid) == NOBODY)
        t.check("gateway runs as nobody", proc_uid(gw.pid) == NOBODY)
        check_refuses(t, "enclave", enclave_pid)
        t.check("enclave: its /proc files belong to root (not dumpable)",
                os.stat(f"/proc/{enclave_pid}/mem").st_uid == 0)
        stat = proc_stat(enclave_pid)
        t.check("enclave: still running after the attempts",
                stat is not None and stat[0] not in ("Z", "X", "t", "T"), stat)
        check_allows(t, "control: sigil-launch (same uid, dumpable)", launch.pid)
        check_allows(t, "gateway (documented: dumpable, holds no tenant secret)", gw.pid)
        status = healthz(os.path.join(d, "gw.ready"))
        t.check("gateway: still serving after the attach (GET /healthz → 200)",
                gw.poll() is None and status == 200, status)
    finally:
        stopper = DevStack(bin_dir, d)  # its stop(): SIGTERM, then SIGKILL after 10 s
        stopper.procs = procs
        stopper.stop()
        if os.environ.get("SIGIL_KEEP_TMP") is None:
            subprocess.run(["rm", "-rf", d], check=False)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
