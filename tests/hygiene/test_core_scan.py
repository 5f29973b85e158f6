#!/usr/bin/env python3
"""Secret hygiene: with a known secret provisioned, crash the enclave and the
gateway with core dumps allowed, then look for the secret in everything the
stack wrote (docs/SECURITY.md, docs/HARDENING.md "Secret-hygiene proofs").

1. The secret is a 64-character marker (fixed seed, SIGIL_TEST_SEED); it is
   sealed as a Binance key from a credentials file outside the stack's
   directory, which is removed at once. Signing with it is checked here with
   Python's hmac, so the enclave really held it.
2. Core dumps: RLIMIT_CORE unlimited is inherited by every server, their
   working directory is the stack's directory and TMPDIR points inside it.
   The enclave reports RLIMIT_CORE 0 in /proc/PID/limits; SIGABRT and then
   SIGSEGV kill it without a core (the core flag of its wait status, read
   from /proc/PID/stat while sigil-launch is stopped, is clear, and no core
   file appears). The gateway is killed with SIGABRT and its core is written:
   the control that cores work here at all; it holds the key id the gateway
   served, so the scan reads real memory.
3. Scanned for the secret raw, in hex (both cases) and in base64 (standard
   and URL-safe, at the three alignments): the stack's whole directory
   (database, WAL and shm files read while the gateway runs and again after,
   logs, key-service and launcher state, ready files, cores, temp files),
   /metrics, every HTTP response, and new files in /tmp and /var/tmp. The
   scanner itself is checked first on the credentials file and on encoded
   copies of the secret.
If core_pattern pipes to a handler, or the hard RLIMIT_CORE is 0 (cores never
reach a file we can read), the enclave is checked by its core flag and
RLIMIT_CORE, and the gateway is dumped live with gcore instead (said in the
output; SIGIL_HYG_GCORE=1 takes that path on any machine).
"""
import base64
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hygiene_util import (SEED, SKIP, Checks, _wait_ready, binance_expected,  # noqa: E402
                          describe_status, find_forms, log_text, marker_secret, scan_file,
                          seal_marker_key, seccomp_mode, secret_forms, scan_tree, sign,
                          signature_of, wait_for, zombie_status)
from e2e_util import TempStack  # noqa: E402


def core_pattern():
    with open("/proc/sys/kernel/core_pattern") as f:
        return f.read().strip()


def allow_cores():
    """RLIMIT_CORE as high as this process may set it (inherited by the
    stack); returns the limit."""
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)
        return resource.RLIM_INFINITY
    except (ValueError, OSError):  # no CAP_SYS_RESOURCE: up to the hard limit
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
        return hard


def core_dir(pattern, cwd):
    """Where the kernel writes cores, or None when it pipes them."""
    if pattern.startswith("|"):
        return None
    return os.path.dirname(pattern) if os.path.isabs(pattern) else cwd


def new_files(directory, before):
    try:
        return sorted(set(os.listdir(directory)) - before)
    except OSError:
        return []


def listing(directory):
    try:
        return set(os.listdir(directory))
    except OSError:
        return set()


def scanner_self_check(t, forms, secret, cred_copy):
    raw = secret.encode()
    hits = find_forms(open(cred_copy, "rb").read(), forms)
    t.check("scanner finds the secret in the credentials file", "raw" in hits, hits)
    ok = all(find_forms(base64.b64encode(b"p" * k + raw + b"s"), forms) for k in range(3))
    ok = ok and all(find_forms(base64.urlsafe_b64encode(b"q" * k + raw), forms) for k in range(3))
    ok = ok and find_forms(b"x" + raw.hex().upper().encode(), forms) == ["HEX"]
    t.check("scanner finds base64 (3 alignments, both alphabets) and hex copies", ok)


def enclave_crash(t, st, sig, cdir):
    launch = st.procs["launch"]
    pid = st.launch["enclave_pid"]
    with open(f"/proc/{pid}/limits") as f:
        line = next((ln for ln in f if ln.startswith("Max core file size")), "")
    t.check(f"enclave {pid}: RLIMIT_CORE is 0", line.split()[4:6] == ["0", "0"], line.strip())
    before = listing(cdir) if cdir else set()
    os.kill(launch.pid, signal.SIGSTOP)
    try:
        os.kill(pid, sig)
        status = zombie_status(pid)
    finally:
        os.kill(launch.pid, signal.SIGCONT)
    name = signal.Signals(sig).name
    t.check(f"enclave: {name} kills it without a core dump",
            status is not None and status & 0x7F == sig and not status & 0x80,
            describe_status(status))
    if cdir:
        t.check(f"enclave: no core file after {name}", not new_files(cdir, before),
                new_files(cdir, before))
    st.launch = _wait_ready(st._ready_path("launch"), launch, "sigil-launch",
                            want=lambda d: d.get("enclave_pid") != pid)


def signs(st, key_id, secret, responses):
    status, body, req = sign(st, key_id)
    responses.append(repr(body).encode())
    return status == 200 and signature_of(body) == binance_expected(secret, req)


def gateway_crash(t, st, cdir, key_id):
    gw = st.procs["gateway"]
    cores = []
    if cdir is None and shutil.which("gcore"):
        out = st.path("gcore-gateway")
        r = subprocess.run(["gcore", "-o", out, str(gw.pid)], capture_output=True, timeout=120)
        path = f"{out}.{gw.pid}"
        t.check("gateway: gcore dumps the live process", r.returncode == 0
                and os.path.exists(path), r.stderr[-300:])
        cores.append(path)
    before = listing(cdir) if cdir else set()
    os.kill(gw.pid, signal.SIGABRT)
    _, status = os.waitpid(gw.pid, 0)
    gw.returncode = -signal.SIGABRT
    if cdir is None:
        print("no core file to read (core_pattern pipes to a handler, RLIMIT_CORE 0, or "
              "SIGIL_HYG_GCORE=1): the gcore dump stands in for it")
    else:
        made = [os.path.join(cdir, n) for n in new_files(cdir, before)]
        t.check("gateway: SIGABRT writes a core (cores work in this environment)",
                os.WCOREDUMP(status) and made, (describe_status(status), made))
        cores += made
    for path in cores:
        size = os.path.getsize(path) if os.path.exists(path) else 0
        t.check(f"control: the gateway's {os.path.basename(path)} ({size} bytes) holds the key "
                "id it served", scan_file(path, {"key id": key_id.encode()}) == ["key id"])


def scan_everything(t, st, forms, label, extra=()):
    hits, n = scan_tree(st.tmp, forms)
    t.check(f"{label}: secret in none of {n} files under the stack's directory", not hits, hits)
    for name, data in extra:
        found = find_forms(data, forms)
        t.check(f"{label}: secret not in {name}", not found, found)


def scan_new_temp(t, forms, since, skip):
    hits, n = {}, 0
    for d in ("/tmp", "/var/tmp"):
        for name in listing(d):
            path = os.path.join(d, name)
            try:
                if os.lstat(path).st_mtime < since or path in skip:
                    continue
            except OSError:
                continue
            if os.path.isdir(path) and not name.startswith("sigil"):
                continue  # other programs' directories
            if os.path.isdir(path):
                h, k = scan_tree(path, forms)
                hits.update(h)
                n += k
            else:
                found = scan_file(path, forms)
                n += found is not None
                if found:
                    hits[path] = found
    t.check(f"secret in none of {n} new files in /tmp and /var/tmp", not hits, hits)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    os.environ.pop("SIGIL_SECCOMP_SELFTEST", None)
    t = Checks()
    started = time.time()
    secret = marker_secret(random.Random(SEED + 1))
    forms = secret_forms(secret)
    hard = allow_cores()
    cred_dir = tempfile.mkdtemp(prefix="sigil-hyg-cred-")
    st = TempStack(sys.argv[1])
    os.makedirs(st.path("tmp"), mode=0o700)
    os.environ["TMPDIR"] = st.path("tmp")
    cwd = os.getcwd()
    os.chdir(st.tmp)
    cdir = None if os.environ.get("SIGIL_HYG_GCORE") else core_dir(core_pattern(), st.tmp)
    if hard == 0:
        print("RLIMIT_CORE hard limit 0: no process can write a core file here")
        cdir = None
    print(f"core_pattern {core_pattern()!r}, RLIMIT_CORE {hard}")
    responses = []
    try:
        st.start()
        if wait_for(lambda: seccomp_mode(log_text(st, "gateway"))) == "off":
            print("SKIP: sanitizer build (SIGIL_NO_HARDENING): the enclave does not refuse cores")
            return SKIP
        cred_copy = os.path.join(cred_dir, "copy.json")
        with open(cred_copy, "w") as f:
            f.write('{"secret":"%s"}' % secret)
        scanner_self_check(t, forms, secret, cred_copy)
        os.unlink(cred_copy)
        key_id = seal_marker_key(st, secret, cred_dir)
        ok = all(signs(st, key_id, secret, responses) for _ in range(5))
        t.check("the sealed secret signs (HMAC checked independently)", ok)
        denied = dict(method="POST", path="/sapi/v1/capital/withdraw/apply", query="",
                      body="coin=BTC&address=bc1qexample&amount=1", timestamp=int(time.time() * 1000))
        status, body, _ = sign(st, key_id, denied)
        responses.append(repr(body).encode())
        t.check("a denied request is refused (an audit record without a signature)",
                status == 422 and body["error"]["code"] == "policy_denied", (status, body))
        status, _, metrics = st.http().request("GET", "/metrics", raw=True)
        t.check("/metrics served", status == 200)
        scan_everything(t, st, forms, "running", [("/metrics", metrics),
                                                  ("HTTP responses", b"\n".join(responses))])
        enclave_crash(t, st, signal.SIGABRT, cdir)
        t.check("restarted enclave signs again", wait_for(
            lambda: signs(st, key_id, secret, responses), timeout=60, step=0.2) is not None)
        enclave_crash(t, st, signal.SIGSEGV, cdir)
        t.check("restarted enclave signs again", wait_for(
            lambda: signs(st, key_id, secret, responses), timeout=60, step=0.2) is not None)
        gateway_crash(t, st, cdir, key_id)
        st.stop()
        scan_everything(t, st, forms, "after the crashes",
                        [("HTTP responses", b"\n".join(responses))])
        scan_new_temp(t, forms, started, {st.tmp, cred_dir})
    finally:
        os.chdir(cwd)
        st.cleanup()
        shutil.rmtree(cred_dir, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
