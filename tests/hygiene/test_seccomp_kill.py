#!/usr/bin/env python3
"""Secret hygiene: a system call outside the seccomp allowlist kills
sigil-enclave and sigil-gateway (docs/HARDENING.md "Seccomp allowlists").

The stack runs with SIGIL_SECCOMP_SELFTEST=1: on SIGUSR2 each server calls
execve, which no allowlist has (src/common/seccomp.c).

1. Both servers report the filter installed in kill mode; a sealed Binance
   key signs, checked here with Python's hmac.
2. Enclave: with sigil-launch stopped (so the dead enclave stays a zombie
   and is not restarted yet), SIGUSR2 → its wait status, read from
   /proc/PID/stat, is SIGSYS; the gateway answers a sign request with a
   typed 503 `unavailable`; once sigil-launch runs again it logs the SIGSYS
   and restarts the enclave, and the same key signs again.
3. Gateway: SIGUSR2 → it dies of SIGSYS; `sigil seal` against it fails with
   the typed error `unavailable`; the enclave is untouched.
4. Control, so that 3 can fail: a gateway with SIGIL_SECCOMP=log survives
   the same execve and leaves through the hook's exit status 70. A gateway
   started again normally on the same state signs with the same key.
Exits 77 (skipped) in the sanitizer build, which installs no filter.
"""
import json
import os
import random
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hygiene_util import (SEED, SIGSYS, SKIP, Checks, _wait_ready,  # noqa: E402
                          binance_expected, describe_status, log_text, marker_secret,
                          proc_stat, seal_marker_key, seccomp_mode, sign, signature_of,
                          wait_for, zombie_status)
from e2e_util import TempStack  # noqa: E402

HOOK_EXIT = 70


def signs_correctly(st, key_id, secret):
    status, body, req = sign(st, key_id)
    return status == 200 and signature_of(body) == binance_expected(secret, req), (status, body)


def modes(st):
    gw = wait_for(lambda: seccomp_mode(log_text(st, "gateway")))
    enc = wait_for(lambda: seccomp_mode(log_text(st, "launch")))
    return gw, enc


def enclave_killed(t, st, key_id, secret):
    launch = st.procs["launch"]
    pid = st.launch["enclave_pid"]
    os.kill(launch.pid, signal.SIGSTOP)
    try:
        os.kill(pid, signal.SIGUSR2)
        status = zombie_status(pid)
        t.check("enclave: forbidden call → killed by SIGSYS",
                status is not None and status & 0x7F == SIGSYS, describe_status(status))
        status, body, _ = sign(st, key_id)
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        t.check("enclave dead: sign → 503 unavailable (typed error)",
                status == 503 and code == "unavailable", (status, body))
    finally:
        os.kill(launch.pid, signal.SIGCONT)
    t.check("sigil-launch logs the SIGSYS",
            wait_for(lambda: f"enclave pid {pid} killed by signal {int(SIGSYS)}"
                     in log_text(st, "launch")) is not None)
    st.launch = _wait_ready(st._ready_path("launch"), launch, "sigil-launch",
                            want=lambda d: d.get("enclave_pid") != pid)
    ok = wait_for(lambda: signs_correctly(st, key_id, secret)[0], timeout=60, step=0.2)
    t.check("restarted enclave signs the same key again", ok is not None)


def gateway_killed(t, st, cred_dir):
    gw = st.procs["gateway"]
    enclave_pid = st.launch["enclave_pid"]
    os.kill(gw.pid, signal.SIGUSR2)
    rc = gw.wait(timeout=30)
    t.check("gateway: forbidden call → killed by SIGSYS", rc == -SIGSYS, rc)
    cred = os.path.join(cred_dir, "other.json")
    with open(cred, "w") as f:
        json.dump({"api_key": "otherApiKey", "secret": "otherSecret"}, f)
    r = st.seal("binance", "mainnet", cred, st.path("policy.json"),
                os.path.join(cred_dir, "owner.key"), check=False)
    try:  # the last line; a warning about --no-client-key comes first
        code = json.loads(r.stderr.splitlines()[-1])["error"]["code"]
    except (ValueError, KeyError, TypeError, IndexError):
        code = None
    t.check("gateway dead: `sigil seal` → typed error unavailable",
            r.returncode != 0 and code == "unavailable", r.stderr[-300:])
    stat = proc_stat(enclave_pid)
    t.check("the enclave is untouched", stat is not None and stat[0] not in ("Z", "X"), stat)


def log_mode_control(t, st):
    os.environ["SIGIL_SECCOMP"] = "log"
    try:
        st.start_gateway()
    finally:
        del os.environ["SIGIL_SECCOMP"]
    gw = st.procs["gateway"]
    t.check("control: SIGIL_SECCOMP=log gateway reports mode log",
            bool(wait_for(lambda: "mode log" in log_text(st, "gateway"))))
    os.kill(gw.pid, signal.SIGUSR2)
    rc = gw.wait(timeout=30)
    t.check("control: in log mode the same call is allowed (hook exit 70, not SIGSYS)",
            rc == HOOK_EXIT, rc)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    os.environ.pop("SIGIL_SECCOMP", None)
    os.environ["SIGIL_SECCOMP_SELFTEST"] = "1"
    t = Checks()
    secret = marker_secret(random.Random(SEED))
    cred_dir = tempfile.mkdtemp(prefix="sigil-hyg-cred-")
    st = TempStack(sys.argv[1])
    try:
        st.start()
        gw_mode, enc_mode = modes(st)
        if "off" in (gw_mode, enc_mode):
            print("SKIP: no seccomp filter in this build (sanitizer build, SIGIL_NO_HARDENING)")
            return SKIP
        t.check("gateway filter installed, kill mode", gw_mode == "kill", gw_mode)
        t.check("enclave filter installed, kill mode", enc_mode == "kill", enc_mode)
        key_id = seal_marker_key(st, secret, cred_dir)
        ok, detail = signs_correctly(st, key_id, secret)
        t.check("sealed key signs (HMAC checked independently)", ok, detail)
        enclave_killed(t, st, key_id, secret)
        gateway_killed(t, st, cred_dir)
        log_mode_control(t, st)
        st.start_gateway()
        ok = wait_for(lambda: signs_correctly(st, key_id, secret)[0], timeout=60, step=0.2)
        t.check("gateway started again on the same state signs the same key", ok is not None)
    finally:
        st.cleanup()
        for name in os.listdir(cred_dir):
            os.unlink(os.path.join(cred_dir, name))
        os.rmdir(cred_dir)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
