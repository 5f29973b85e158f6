#!/usr/bin/env python3
"""`make bench-e2e`: signed requests per second and latency through a live dev
stack on loopback (gateway → enclave → libsigil-sign), for a Binance HMAC
order and a Hyperliquid order, beside the in-process figures of sigil-bench
measured in the same run. A benchmark, not a test: it prints numbers.

The first stack (--audit-sync normal, default enclave workers) also runs the
Binance order under a rich policy (http, symbols with caps, destinations,
limits too high to bind), without and with a bound client key (every request
then carries a fresh client signature), and compares them with that stack's
plain Binance rows.

A last stack runs two gateway+enclave pairs on one store (docs/OPERATIONS.md
"Multi-host topology") and reports the Binance order through one pair and
through both at once (the same connections split between the two gateways):
a report, not a target, since both pairs share this machine's CPUs.

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
BINANCE_BODY = ("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1")

# The rows of the rich-policy comparison, in print order: label, policy, client key.
PLAIN, POLICY, CLIENT = "binance", "binance+policy", "binance+policy+client"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def binance_request():
    return {"method": "POST", "path": "/api/v3/order", "body": BINANCE_BODY,
            "timestamp": int(time.time() * 1000)}


def hl_request():
    return {"action": {"type": "order", "orders": [
        {"a": 0, "b": True, "p": "30000", "s": "0.1", "r": False,
         "t": {"limit": {"tif": "Gtc"}}}], "grouping": "na"},
        "nonce": int(time.time() * 1000)}


def plain_policy(venue):
    return {"version": 1, "tenant": "default", "venue": venue, "network": "mainnet",
            "actions": ["*"], "not_after": int(time.time()) + 3600}


def rich_policy():
    """docs/POLICY.md's rules, all in play for the bench order (BTCUSDT, 1 at
    0.1): http paths, eight symbols with caps, destinations, and limits far
    above what a run can reach (10^6 per minute is the schema's maximum)."""
    caps = {"max_qty": "100000", "max_notional": "1000000"}
    symbols = {s: dict(caps) for s in ("ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT",
                                        "ADAUSDT", "LINKUSDT")}
    symbols["BTCUSDT"] = {"max_qty": "10", "max_notional": "1000", "size_decimals": 5,
                          "sides": ["buy", "sell"]}
    return {"version": 1, "tenant": "default", "venue": "binance", "network": "mainnet",
            "actions": ["order", "cancel", "read", "withdraw"],
            "not_after": int(time.time()) + 3600,
            "http": {"methods": ["GET", "POST", "DELETE"],
                     "allow_paths": ["/api/v3/", "/sapi/v1/capital/withdraw/apply"],
                     "deny_paths": ["/sapi/v1/sub-account/", "/api/v3/order/oco"]},
            "symbols": symbols,
            "destinations": ["0x8ba1f109551bd432803012645ac136ddd64dba72"],
            "limits": {"requests_per_minute": 1000000, "orders_per_minute": 1000000,
                       "daily_notional": "1000000000000"}}


def load_argv(st, bin_dir, body_file, conns, seconds, client=None, url=None):
    host, port = (url or st.gateway["url"]).split("//", 1)[1].split(":")
    argv = [os.path.join(bin_dir, "sigil-load"), host, port, "/v1/sign", st.token, body_file,
            str(conns), str(seconds), "1"]
    if client is not None:
        argv += ["--client-seed", client[0], "--key-id", client[1]]
    return argv


def load_result(stdout, stderr):
    if not stdout.strip():
        raise RuntimeError(f"sigil-load printed nothing: {stderr.strip()}")
    return json.loads(stdout)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    """CPU seconds (user + system) of one process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def stack_cpu(st):
    """CPU seconds so far of the gateway, of the launcher and the enclave it
    runs (its ready file names the enclave's pid), and of the key service."""
    return {"gateway": proc_cpu_s(st.procs["gateway"].pid),
            "enclave": proc_cpu_s(st.procs["launch"].pid) + proc_cpu_s(st.launch["enclave_pid"]),
            "kms": proc_cpu_s(st.procs["kms"].pid)}


def cpu_cells(r):
    """A row's CPU per request: gateway, enclave (with its launcher), load
    generator, their total, and the req/s that total allows on all CPUs."""
    c = r.get("cpu_us")
    if not c:
        return ""
    total = c["gateway"] + c["enclave"] + c["load"]
    bound = os.cpu_count() * 1e6 / total if total > 0 else 0
    return (f"{c['gateway']:>8.1f} {c['enclave']:>8.1f} {c['load']:>6.1f} {total:>6.1f} "
            f"{bound:>11.0f}")


CPU_NOTE = ("  CPU µs per request: user+system time of each process over the run (warm-up "
            "included) / requests answered; 2-CPU bound = CPUs × 10^6 / total, the rate at "
            "which these processes alone would fill every CPU (the key service is idle here)")


def load(st, bin_dir, body_file, conns, seconds, client=None):
    """One sigil-load run; client = (seed hex, key id) for client-signed
    requests. The row carries the CPU each process spent per answered
    request (µs, warm-up included in both; the load generator's from this
    process's children times)."""
    before, t0 = stack_cpu(st), os.times()
    out = subprocess.run(load_argv(st, bin_dir, body_file, conns, seconds, client),
                         capture_output=True, text=True)
    t1, after = os.times(), stack_cpu(st)
    r = load_result(out.stdout, out.stderr)
    n = max(r["answered"], 1)
    cpu = {k: after[k] - before[k] for k in after if k in before}
    cpu["load"] = (t1.children_user + t1.children_system) - (t0.children_user +
                                                             t0.children_system)
    r["cpu_us"] = {k: 1e6 * v / n for k, v in cpu.items()}
    return r


def load_split(st, bin_dir, body_file, conns, seconds, urls):
    """conns connections split between the gateways at urls, all at once (one
    sigil-load each): req/s and errors summed, p50 and p99 the worst one's."""
    share = [conns // len(urls) + (i < conns % len(urls)) for i in range(len(urls))]
    procs = [subprocess.Popen(load_argv(st, bin_dir, body_file, n, seconds, url=u),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for u, n in zip(urls, share)]
    rs = [load_result(*p.communicate()) for p in procs]
    return {"connections": conns, "req_per_s": sum(r["req_per_s"] for r in rs),
            "p50_us": max(r["p50_us"] for r in rs), "p99_us": max(r["p99_us"] for r in rs),
            "errors": sum(r["errors"] for r in rs), "non_200": sum(r["non_200"] for r in rs),
            "per_gateway": [round(r["req_per_s"]) for r in rs]}


def seal_rich(st, owner, cf, client):
    """Seals the Binance key under the rich policy; with client, binds a new
    client key and returns its seed (docs/PROVISIONING.md "Keys")."""
    name = CLIENT if client else POLICY
    pf = st.write(f"policy-{name}.json", rich_policy())
    if not client:
        return st.seal("binance", "mainnet", cf, pf, owner)["key_id"], None
    kf = st.path("client-key.json")
    key_id = st.seal("binance", "mainnet", cf, pf, owner, client=True,
                     extra=("--client-key-out", kf))["key_id"]
    with open(kf) as f:
        return key_id, json.load(f)["secret_key"]


def run_stack(bin_dir, sync, seconds, conns, workers=None, rich=False):
    """One stack with --audit-sync SYNC (and --workers for the enclave);
    returns result rows. rich: also the rich-policy Binance rows, each run
    right after the plain Binance run with the same connections, so that
    the comparison spans seconds, not minutes, of a shared machine."""
    eargs = ["--skew-ms", "600000"] + (["--workers", str(workers)] if workers else [])
    st = TempStack(bin_dir, gateway_args=["--rate", "1000000", "--burst", "1000000",
                                          "--threads", "64", "--audit-sync", sync],
                   enclave_args=eargs)
    rows = []
    try:
        st.start()
        owner = st.path("owner.key")
        st.sigil("keygen", "--out", owner)
        runs = []  # (row name, key id, client seed or None), in run order
        for venue, creds in (("binance", BINANCE), ("hyperliquid", HL)):
            cf = st.write(f"{venue}.json", creds)
            pf = st.write(f"policy-{venue}.json", plain_policy(venue))
            key_id = st.seal(venue, "mainnet", cf, pf, owner)["key_id"]
            runs.append((venue, key_id, None))
        if rich:
            cf = st.path("binance.json")
            for name, client in ((POLICY, False), (CLIENT, True)):
                key_id, seed = seal_rich(st, owner, cf, client)
                runs.insert(len(runs) - 1, (name, key_id, seed))
        for group in ([r for r in runs if r[0] != "hyperliquid"],
                      [r for r in runs if r[0] == "hyperliquid"]):
            for c in sorted({1, 8, conns}):
                for name, key_id, seed in group:
                    # a fresh request time for each run (the enclave's window)
                    if seed is not None:  # the request alone; sigil-load signs each body
                        body = st.write(f"request-{name}.json", binance_request())
                        r = load(st, bin_dir, body, c, seconds, (seed, key_id))
                    else:
                        req = binance_request() if name != "hyperliquid" else hl_request()
                        body = st.write(f"body-{name}.json", {"key_id": key_id, "request": req})
                        r = load(st, bin_dir, body, c, seconds)
                    r.update(venue=name, sync=sync, workers=workers or os.cpu_count())
                    rows.append(r)
    finally:
        st.cleanup()
    order = [r[0] for r in runs]
    return sorted(rows, key=lambda r: (order.index(r["venue"]), r["connections"]))


def run_pairs(bin_dir, seconds, conns):
    """Two pairs on one store (the SQLite file both gateways open): the
    Binance order through pair A alone, then through A and B at once."""
    gargs = ["--rate", "1000000", "--burst", "1000000", "--threads", "64",
             "--audit-sync", "normal"]
    eargs = ["--skew-ms", "600000"]
    st = TempStack(bin_dir, gateway_args=gargs, enclave_args=eargs)
    rows = []
    try:
        st.start()
        b = st.add_pair("b", gateway_args=gargs, enclave_args=eargs)
        owner = st.path("owner.key")
        st.sigil("keygen", "--out", owner)
        cf = st.write("binance.json", BINANCE)
        key_id = st.seal("binance", "mainnet", cf, st.write("policy.json", plain_policy("binance")),
                         owner)["key_id"]
        for c in sorted({2, 8, conns}):
            body = st.write("body.json", {"key_id": key_id, "request": binance_request()})
            one = load(st, bin_dir, body, c, seconds)
            one.update(pairs=1, per_gateway=[round(one["req_per_s"])])
            two = load_split(st, bin_dir, body, c, seconds, [st.gateway["url"], b.url])
            two.update(pairs=2)
            rows += [one, two]
    finally:
        st.cleanup()
    return rows


def print_pairs(rows):
    print("\none pair and two pairs on one store (SQLite, or PostgreSQL with SIGIL_TEST_STORE=pg;"
          " Binance order, audit-sync normal; two pairs: "
          "the connections split between the two gateways, one sigil-load each, req/s summed, "
          "p50/p99 the worse gateway's). A report, not a target: both pairs, their enclaves "
          "and the load generator share this machine's CPUs, so a second pair adds no CPU "
          "here; on separate hosts each pair brings its own.")
    print(f"{'pairs':>5} {'conns':>5} {'req/s':>9} {'per gateway':>15} {'p50 µs':>8} "
          f"{'p99 µs':>8} {'errors':>6}")
    for r in rows:
        per = "+".join(str(x) for x in r["per_gateway"])
        print(f"{r['pairs']:>5} {r['connections']:>5} {r['req_per_s']:>9.0f} {per:>15} "
              f"{r['p50_us']:>8} {r['p99_us']:>8} {r['errors'] + r['non_200']:>6}")


def pct(new, old):
    return f"{100.0 * (new - old) / old:+.1f}%" if old else "n/a"


def print_comparison(rows, conns):
    """The rich-policy rows beside the plain Binance rows of the same stack."""
    by = {(r["venue"], r["connections"]): r for r in rows
          if r.get("first") and r["venue"] in (PLAIN, POLICY, CLIENT)}
    print("\npolicy and client signatures through the stack (first stack: audit-sync normal, "
          "default enclave workers; deltas against the plain binance row at the same "
          "connections; every row, plain included, gets a receipt and an audit row)")
    print(f"{'row':<22} {'conns':>5} {'req/s':>9} {'Δ req/s':>8} {'p50 µs':>7} {'Δ p50':>6} "
          f"{'p99 µs':>7} {'Δ p99':>6} {'errors':>6} {'client sign µs':>14}")
    for c in sorted({1, 8, conns}):
        base = by.get((PLAIN, c))
        for name in (PLAIN, POLICY, CLIENT):
            r = by.get((name, c))
            if r is None:
                continue
            d = base is not None and name != PLAIN
            dr = pct(r["req_per_s"], base["req_per_s"]) if d else ""
            d50 = f"{r['p50_us'] - base['p50_us']:+d}" if d else ""
            d99 = f"{r['p99_us'] - base['p99_us']:+d}" if d else ""
            sign = f"{r['client_sign_us']:.1f}" if "client_sign_us" in r else ""
            print(f"{name:<22} {c:>5} {r['req_per_s']:>9.0f} {dr:>8} {r['p50_us']:>7} {d50:>6} "
                  f"{r['p99_us']:>7} {d99:>6} {r['errors'] + r['non_200']:>6} {sign:>14}")
    print("  client sign µs: the load generator's own cost per request (Ed25519 sign with "
          "libsodium): outside the measured latency, but on the same CPUs as the stack and, "
          "the loop being closed, inside each connection's req/s")


def verdicts(rows):
    """The issue's targets, against the first stack's rows of each kind."""
    first = [r for r in rows if r.get("first")]
    out = []
    for name, floor in (("binance", 20000), ("hyperliquid", 10000), (POLICY, 20000),
                        (CLIENT, 20000)):
        rs = [r for r in first if r["venue"] == name]
        if not rs:
            continue
        best = max(rs, key=lambda r: r["req_per_s"])
        worst_p99 = max(r["p99_us"] for r in rs)
        one = [r for r in rs if r["connections"] == 1]
        checks = [(f"{best['req_per_s']:.0f} req/s >= {floor}", best["req_per_s"] >= floor),
                  (f"p99 {worst_p99} <= 2000 us", worst_p99 <= 2000)]
        if one:
            checks.append((f"1-conn p50 {one[0]['p50_us']} <= 200 us", one[0]["p50_us"] <= 200))
        errors = sum(r["errors"] + r["non_200"] for r in rs)
        checks.append((f"{errors} errors", errors == 0))
        verdict = "PASS" if all(ok for _, ok in checks) else "MISS"
        out.append(f"  {name:<22} {verdict}: " + "; ".join(
            f"{text}{'' if ok else ' (MISS)'}" for text, ok in checks))
    return out


def split_overheads(text):
    """sigil-bench's output: (the main table, the per-request overheads section)."""
    at = text.find("\nper-request overheads:")
    if at < 0:
        return text, ""
    end = text.find("\nresult  :", at)
    end = end if end >= 0 else len(text)
    return text[:at] + text[end:], text[at + 1:end]


def main():
    bin_dir = os.path.abspath(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    load_start = loadavg()
    first = run_stack(bin_dir, "normal", seconds, conns, rich=True)
    for r in first:
        r["first"] = True
    rows = (first + run_stack(bin_dir, "normal", seconds, conns, workers=1) +
            run_stack(bin_dir, "full", seconds, conns))
    pairs = run_pairs(bin_dir, seconds, conns)
    inproc = subprocess.run([os.path.join(bin_dir, "sigil-bench")], capture_output=True,
                            text=True).stdout
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; {seconds:.0f} s per run after 1 s "
          "warm-up; dev stack on loopback (HTTP keep-alive; gateway, enclave, key service and "
          "load generator share the machine)")
    print(f"load average before the first stack: {load_start} (near {os.cpu_count()}: other "
          "work was sharing the CPUs; the runs themselves load both CPUs)")
    print(f"{'venue':<22} {'audit-sync':<10} {'enclave workers':>15} {'conns':>5} {'req/s':>9} "
          f"{'p50 µs':>8} {'p99 µs':>8} {'errors':>6}   {'CPU µs per request':<37}")
    print(f"{'':<92}{'gateway':>8} {'enclave':>8} {'load':>6} {'total':>6} {'2-CPU bound':>11}")
    for r in rows:
        print(f"{r['venue']:<22} {r['sync']:<10} {r['workers']:>15} {r['connections']:>5} "
              f"{r['req_per_s']:>9.0f} {r['p50_us']:>8} {r['p99_us']:>8} "
              f"{r['errors'] + r['non_200']:>6}   {cpu_cells(r)}")
    print(CPU_NOTE)
    print("\ntargets (issue 3): HMAC >= 20000 req/s, Hyperliquid >= 10000 req/s, p99 <= 2000 us, "
          "single-connection p50 <= 200 us (first stack: audit-sync normal, default workers)")
    print("\n".join(verdicts(rows)))
    print_comparison(rows, conns)
    print_pairs(pairs)
    table, overheads = split_overheads(inproc)
    if overheads:
        print("\nin-process " + overheads.rstrip())
    print("\nin-process (sigil-bench, same run):")
    print(table)


if __name__ == "__main__":
    main()
