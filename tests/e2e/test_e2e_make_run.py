#!/usr/bin/env python3
"""`make run`: scripts/devstack.py run starts the stack, prints the URL, token,
measurement and an example; the example, pasted into a shell, seals a key and
gets an order signed; Ctrl-C (SIGINT) stops every process; a second run on
the same state directory reuses the tenant, token and keys."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import Checks  # noqa: E402

DEVSTACK = os.path.join(HERE, "..", "..", "scripts", "devstack.py")


def start(bin_dir, home, log):
    env = dict(os.environ, SIGIL_HOME=home)
    out = open(log, "w")
    p = subprocess.Popen([sys.executable, DEVSTACK, "run", "--bin", bin_dir], env=env,
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    text = ""
    while time.monotonic() < deadline and p.poll() is None:
        with open(log) as f:
            text = f.read()
        if "Ctrl-C stops everything" in text:
            break
        time.sleep(0.1)
    return p, text


def stop(p):
    p.send_signal(signal.SIGINT)
    try:
        return p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        return None


def children_alive(home):
    """sigil processes still running with this state directory on their command line."""
    r = subprocess.run(["pgrep", "-f", home], capture_output=True, text=True)
    return [x for x in r.stdout.split() if x]


def main():
    bin_dir = os.path.abspath(sys.argv[1] if os.path.isdir(sys.argv[1])
                              else os.path.dirname(sys.argv[1]))
    t = Checks()
    tmp = tempfile.mkdtemp(prefix="sigil-make-run-")
    home = os.path.join(tmp, "var")
    p, text = start(bin_dir, home, os.path.join(tmp, "run1.log"))
    try:
        t.check("banner printed", "Ctrl-C stops everything" in text, text[-2000:])
        for field in ("gateway", "token", "measurement", "dev root"):
            t.check(f"banner names the {field}", re.search(rf"^  {field}\s+\S+", text, re.M))
        m = re.search(r"^  measurement\s+([0-9a-f]{96})$", text, re.M)
        t.check("measurement is 96 hex digits", m is not None)
        lines = text.split("Try it", 1)[1].split("Ctrl-C", 1)[0].splitlines()
        script = "\n".join(line[2:] for line in lines if line.startswith("  "))
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        r = subprocess.run(["bash", "-e", "-c", script], cwd=work, capture_output=True,
                           text=True, timeout=60)
        out = r.stdout.strip().splitlines()
        signed = json.loads(out[-1]) if out else {}
        t.check("the example seals a key and gets an order signed",
                r.returncode == 0 and "signature=" in signed.get("signed", {}).get("body", ""),
                (r.returncode, r.stdout[-500:], r.stderr[-500:]))
        token1 = re.search(r"^  token\s+(\S+)", text, re.M)
    finally:
        rc = stop(p)
    t.check("Ctrl-C stops the stack (exit 0)", rc == 0, rc)
    time.sleep(0.5)
    t.check("no process left running", not children_alive(home), children_alive(home))

    p, text = start(bin_dir, home, os.path.join(tmp, "run2.log"))
    try:
        token2 = re.search(r"^  token\s+(\S+)", text, re.M)
        t.check("second run reuses the tenant's token",
                token1 and token2 and token1.group(1) == token2.group(1))
    finally:
        rc = stop(p)
    t.check("second run stops cleanly", rc == 0, rc)
    subprocess.run(["rm", "-rf", tmp])
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
