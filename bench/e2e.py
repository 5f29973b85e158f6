#!/usr/bin/env python3
"""`make bench-e2e`: signed requests per second and latency through a live dev
stack on loopback (gateway → enclave → libsigil-sign), for a Binance HMAC
order and a Hyperliquid order, beside the in-process figures of sigil-bench
measured in the same run. A benchmark, not a test: it prints numbers.

    python3 bench/e2e.py BIN_DIR [SECONDS] [CONNECTIONS]
"""
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from e2e_util import TempStack  # noqa: E402

BINANCE = {"api_key": "bench-api-key", "secret": "bench-secret-0123456789abcdef0123456789"}
HL = {"private_key": "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_stack(bin_dir, sync, seconds, conns, workers=None):
    """One stack with --audit-sync SYNC (and --workers for the enclave);
    returns result rows."""
    eargs = ["--skew-ms", "600000"] + (["--workers", str(workers)] if workers else [])
    st = TempStack(bin_dir, gateway_args=["--rate", "1000000", "--burst", "1000000",
                                          "--threads", "64", "--audit-sync", sync],
                   enclave_args=eargs)
    rows = []
    try:
        st.start()
        owner = st.path("owner.key")
        st.sigil("keygen", "--out", owner)
        for venue, creds, req in (
            ("binance", BINANCE, {"method": "POST", "path": "/api/v3/order",
                                  "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
                                          "&quantity=1&price=0.1",
                                  "timestamp": int(time.time() * 1000)}),
            ("hyperliquid", HL, {"action": {"type": "order", "orders": [
                {"a": 0, "b": True, "p": "30000", "s": "0.1", "r": False,
                 "t": {"limit": {"tif": "Gtc"}}}], "grouping": "na"},
                "nonce": int(time.time() * 1000)}),
        ):
            cf = st.write(f"{venue}.json", creds)
            pol = {"version": 1, "tenant": "default", "venue": venue, "network": "mainnet",
                   "actions": ["*"], "not_after": int(time.time()) + 3600}
            pf = st.write(f"policy-{venue}.json", pol)
            key_id = st.seal(venue, "mainnet", cf, pf, owner)["key_id"]
            body = st.write(f"body-{venue}.json", {"key_id": key_id, "request": req})
            host, port = st.gateway["url"].split("//", 1)[1].split(":")
            for c in sorted({1, 8, conns}):
                out = subprocess.run([os.path.join(bin_dir, "sigil-load"), host, port,
                                      "/v1/sign", st.token, body, str(c), str(seconds), "1"],
                                     capture_output=True, text=True)
                r = json.loads(out.stdout)
                r["venue"] = venue
                r["sync"] = sync
                r["workers"] = workers or os.cpu_count()
                rows.append(r)
    finally:
        st.cleanup()
    return rows


def main():
    bin_dir = os.path.abspath(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    rows = (run_stack(bin_dir, "normal", seconds, conns) +
            run_stack(bin_dir, "normal", seconds, conns, workers=1) +
            run_stack(bin_dir, "full", seconds, conns))
    inproc = subprocess.run([os.path.join(bin_dir, "sigil-bench")], capture_output=True,
                            text=True).stdout
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; {seconds:.0f} s per run after 1 s "
          "warm-up; dev stack on loopback (HTTP keep-alive; gateway, enclave, key service and "
          "load generator share the machine)")
    print(f"{'venue':<12} {'audit-sync':<10} {'enclave workers':>15} {'conns':>5} {'req/s':>9} "
          f"{'p50 µs':>8} {'p99 µs':>8} {'errors':>6}")
    for r in rows:
        print(f"{r['venue']:<12} {r['sync']:<10} {r['workers']:>15} {r['connections']:>5} "
              f"{r['req_per_s']:>9.0f} {r['p50_us']:>8} {r['p99_us']:>8} "
              f"{r['errors'] + r['non_200']:>6}")
    print("\ntargets (issue 3): HMAC >= 20000 req/s, Hyperliquid >= 10000 req/s, p99 <= 2000 us, "
          "single-connection p50 <= 200 us")
    print("\nin-process (sigil-bench, same run):")
    print(inproc)


if __name__ == "__main__":
    main()
