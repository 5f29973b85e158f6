#!/usr/bin/env python3
"""Fault and soak suite (issue 8): sustained signing load against a dev stack
while faults are injected on a seeded schedule; every signature re-verified
offline, every failure a typed API error, the audit log complete, the
gateway recovering after each fault, RSS and fds flat. docs/SOAK.md.

  tests/soak/soak.py BIN_DIR [--seconds N] [--seed S] [--idle-conns N]
                     [--workers N] [--out REPORT.json]

Ends with `N passed, M failed`; exit status 1 when a check failed.
"""
import argparse
import json
import os
import random
import re
import resource
import signal
import sqlite3
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import hl_verify  # noqa: E402
import soak_faults as faults  # noqa: E402
from e2e_util import Checks  # noqa: E402
from soak_load import HL_KEY, Load, hl_request, now_ms, verify_binance, verify_hl  # noqa: E402
from soak_stack import SoakStack, is_root, proc_sample, sanitized, wait_for  # noqa: E402
from test_e2e_faults import binance_request, seal_binance  # noqa: E402
from wal_check import pages_outside_main, wal_size  # noqa: E402

# Flat means: RSS end ≤ start × (1 + RSS_TOL) + RSS_SLACK_KB + the page caches
# of the store connections open at the end (the writer and the checkpointer
# keep SQLite's default 2000 KiB; the gateway opens one read connection per
# handler thread on first use, with a 256 KiB cache); fds other than the
# store's ≤ start + FD_SLACK, and the store's at most 2 per connection
# (database, WAL) + 1 (shm).
RSS_TOL = 0.20
RSS_SLACK_KB = 8192
WRITER_CACHE_KB = 2 * 2000
READER_CACHE_KB = 256
FD_SLACK = 8
GATEWAY_THREADS = 16  # --threads: bounds the store connections (+ writer, checkpointer)
PROCESSES = ("gateway", "enclave", "kms")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bin_dir")
    ap.add_argument("--seconds", type=float, default=60,
                    help="length of the fault phase (default 60); at least one round runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--idle-conns", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=4,
                    help="load processes; every fourth signs Hyperliquid (default 4)")
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--faults", default=",".join(faults.KINDS),
                    help="comma-separated fault kinds of the rounds (default: all); "
                         "'none' for load alone")
    ap.add_argument("--out")
    args = ap.parse_args()
    args.faults = [] if args.faults == "none" else args.faults.split(",")
    unknown = [k for k in args.faults if k not in faults.KINDS]
    if unknown:
        ap.error(f"--faults: unknown kind(s) {', '.join(unknown)} (known: {', '.join(faults.KINDS)})")
    return args


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need and is_root():
        hard = need
    soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def seal_hyperliquid(st):
    creds = st.write("hl.json", {"private_key": HL_KEY})
    pol = st.write("policy-hl.json", {"version": 1, "tenant": "default", "venue": "hyperliquid",
                                      "network": "mainnet", "actions": ["order"],
                                      "not_after": int(time.time()) + 86400})
    return st.seal("hyperliquid", "mainnet", creds, pol, st.path("owner.key"))


def check_verifiers(t, st, keys):
    """One signature per venue through the gateway: the offline checks accept
    it, and reject it with one digit of the signature changed."""
    h = st.http()
    for venue, (key_id, address) in keys.items():
        req = binance_request(now_ms(), tag="selfcheck") if venue == "binance" \
            else hl_request(now_ms(), random.Random(0))
        status, _, body = h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})
        signed = body.get("signed") if isinstance(body, dict) else None
        verify = (lambda s: verify_binance(req, s)) if venue == "binance" \
            else (lambda s: verify_hl(req, s, address))
        t.check(f"{venue}: a signature from the gateway verifies offline",
                status == 200 and verify(signed) is None, (status, body))
        bad = json.loads(json.dumps(signed))
        if venue == "binance":
            head, sig = bad["body"].rsplit("=", 1)
            bad["body"] = head + "=" + ("1" if sig[0] != "1" else "2") + sig[1:]
        else:
            r = bad["signature"]["r"]
            bad["signature"]["r"] = r[:-1] + ("1" if r[-1] != "1" else "2")
        t.check(f"{venue}: the offline check rejects it with one digit changed",
                verify(bad) is not None)


def sample_all(st):
    return {name: proc_sample(pid, st.db_path()) for name, pid in st.pids().items()}


def other_fds(s):
    return None if s is None or s["fds"] is None else s["fds"] - s["store_fds"]


def settle(st, fds0, timeout=35):
    """Waits until the gateway has closed the connections the suite closed
    (its fds other than the store's back within FD_SLACK of fds0), then one
    more second."""
    def closed():
        n = other_fds(proc_sample(st.procs["gateway"].pid, st.db_path()))
        return None in (n, fds0) or n <= fds0 + FD_SLACK
    wait_for(closed, timeout, step=0.2)  # ≤ the gateway's 30 s idle timeout (SOAK.md #8)
    time.sleep(1)


class Sampler:
    """RSS and fds of every process every `every` seconds, for the report's
    time series (a plateau and a steady climb look alike at two points)."""

    def __init__(self, st, t0, every=5.0):
        self.st, self.t0, self.every = st, t0, every
        self.series = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(self.every):
            s = sample_all(self.st)
            self.series.append({"t": round(time.monotonic() - self.t0, 1),
                                "wal_mb": round(wal_size(self.st.db_path()) / 2**20, 1),
                                **{k: (v["rss_kb"], v["fds"]) if v else None
                                   for k, v in s.items()}})

    def finish(self):
        self.stop.set()
        self.thread.join(10)
        return self.series


def audit_figures(st):
    """Rows, signed rows, and the receipts (boot_id, seq) of signed rows."""
    db = sqlite3.connect(f"file:{st.db_path()}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT count(*) FROM audit").fetchone()[0]
        receipts = set()
        signed = 0
        for (text,) in db.execute("SELECT receipt FROM audit WHERE op = 'sign' "
                                  "AND http_status = 200"):
            signed += 1
            try:
                rc = json.loads(text)
                receipts.add((rc.get("boot_id"), rc.get("seq")))
            except (TypeError, ValueError):
                pass
        by_code = dict(db.execute("SELECT coalesce(error_code, 'ok'), count(*) FROM audit "
                                  "WHERE op = 'sign' GROUP BY 1").fetchall())
    finally:
        db.close()
    return rows, signed, receipts, by_code


def audit_verify(st):
    r = st.sigil("audit", "verify", "--home", st.home, "--trust-dev-root", st.launch["root"],
                 "--gateway", st.gateway["url"], check=False)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {"ok": False, "problems": [{"kind": "unparsable",
                                          "detail": r.stderr.decode()[:300]}]}
    return r.returncode, doc


def missing_receipts(problems):
    """Receipt numbers the table lacks (receipt_gap / truncated), and the
    problems of any other kind."""
    missing, other = 0, []
    for p in problems:
        d = p.get("detail", "")
        m = re.search(r"receipts (\d+)\.\.(\d+)", d) if p.get("kind") == "receipt_gap" else None
        t = re.search(r"up to (\d+) .* last is (\d+)", d) if p.get("kind") == "truncated" \
            else None
        if m:
            missing += int(m.group(2)) - int(m.group(1)) + 1
        elif t:
            missing += int(t.group(1)) - int(t.group(2))
        else:
            other.append(p)
    return missing, other


def schedule(rng, kinds, seconds, t_start):
    """Rounds of every kind in a seeded order until the time is up (at least one)."""
    if not kinds:  # --faults none: load alone for the whole phase
        time.sleep(max(0.0, seconds - (time.monotonic() - t_start)))
        return
    round_no = 0
    while round_no == 0 or time.monotonic() - t_start < seconds:
        round_no += 1
        order = list(kinds)
        rng.shuffle(order)
        for kind in order:
            yield round_no, kind


class Run:
    """One soak run: the stack, the checks, the report, in phases."""

    def __init__(self, args):
        self.args = args
        self.t = Checks()
        self.report = {"seed": args.seed, "seconds": args.seconds, "workers": args.workers,
                       "idle_conns": args.idle_conns, "faults": [], "skipped": []}
        self.rng = random.Random(args.seed)
        self.wall0 = time.monotonic()
        self.st = SoakStack(os.path.abspath(args.bin_dir),
                            gateway_args=["--rate", "1000000", "--burst", "1000000",
                                          "--threads", str(GATEWAY_THREADS)])
        self.load = self.idle = None

    def say(self, msg):
        print(f"[{time.monotonic() - self.wall0:6.1f} s] {msg}", flush=True)

    def skip(self, why):
        self.report["skipped"].append(why)
        print(f"SKIP {why}", flush=True)

    def setup(self):
        """The stack, two sealed keys, the offline checks tried on them."""
        st, t = self.st, self.t
        st.prepare()
        if not st.tmpfs:
            self.skip(f"store_full: no tmpfs for the store ({st.mount_error})")
        if st.user is None:
            print("note: not root: every process runs as this uid", flush=True)
        st.start()
        self.say(f"stack up: gateway {st.gateway['url']} (store {st.home}, "
                 f"{'tmpfs' if st.tmpfs else 'plain directory'})")
        st.sigil("keygen", "--out", st.path("owner.key"))
        self.keys = {"binance": (seal_binance(st), None)}
        hl = seal_hyperliquid(st)
        hl_addr = hl_verify.address_of_key(HL_KEY)
        self.keys["hyperliquid"] = (hl["key_id"], hl_addr)
        t.check("sealed a Binance and a Hyperliquid key (address matches the offline one)",
                self.keys["binance"][0] and hl.get("address", "").lower() == hl_addr, hl)
        uid = os.stat(f"/proc/{st.procs['gateway'].pid}").st_uid
        self.report["gateway_uid"] = uid
        t.check("the gateway runs as an unprivileged uid", st.user is None or uid == st.user[0],
                uid)
        check_verifiers(t, st, self.keys)

    def warm_up(self):
        """Load, plus one open/close cycle of the idle connections, so the
        start sample already includes their high-water mark."""
        st, args = self.st, self.args
        self.load = Load(st.gateway["url"], st.token, self.keys, args.workers, args.seed)
        self.load.start()
        self.say(f"load started: {args.workers} processes; warm-up {args.warmup} s")
        self.ctx = faults.Ctx(st, self.load, self.keys, self.rng, args)
        self.fds0 = other_fds(sample_all(st)["gateway"])
        self.idle = faults.IdleConns(st.gateway_port, args.idle_conns)
        self.idle.open_all()
        time.sleep(args.warmup)
        self.idle.close_all()
        settle(st, self.fds0)
        self.start = sample_all(st)
        self.sampler = Sampler(st, self.wall0)
        self.say(f"start sample: {self.start}")
        self.t.check("load flowing after the warm-up", self.load.shared.total("ok") > 0,
                     self.load.shared.total("ok"))

    def hold_idle(self):
        st, t, n = self.st, self.t, self.args.idle_conns
        self.idle = faults.IdleConns(st.gateway_port, n)
        self.idle.open_all()
        t.check(f"{n} idle connections opened", self.idle.opened == n, self.idle.figures())
        tries, last = self.ctx.probe()
        t.check("a new connection signs while the idle connections are held", last is None,
                last)
        held = sample_all(st)["gateway"]
        self.report["gateway_while_idle_held"] = held
        if None not in (self.start["gateway"]["fds"], held["fds"]):
            t.check("the gateway accepted the idle connections (its fd count rose by ≥ 90 %)",
                    held["fds"] - self.start["gateway"]["fds"] >= 0.9 * n,
                    (self.start["gateway"], held))

    def fault_phase(self):
        """Rounds of faults under load; the end sample; then the restart faults."""
        st, report = self.st, self.report
        self.kinds = [k for k in self.args.faults if k != "store_full" or st.tmpfs]
        t_faults = time.monotonic()
        self.say(f"fault phase: {self.args.seconds} s, kinds {self.kinds}")
        for round_no, kind in schedule(self.rng, self.kinds, self.args.seconds, t_faults):
            time.sleep(self.rng.uniform(0.5, 1.5))
            report["faults"].append(faults.run_fault(self.ctx, kind, faults.KINDS[kind],
                                                     round_no))
            if not report["faults"][-1]["recovered"]:
                self.skip(f"the faults after {kind} (round {round_no}): the gateway did not "
                          "recover, so the rest would test nothing")
                break
        rounds = report["faults"][-1]["round"] if report["faults"] else 1
        report["idle"] = {**self.idle.figures(), "held_at_end": self.idle.held()}
        self.idle.close_all()
        settle(st, self.fds0)
        self.end = sample_all(st)
        report["series"] = self.sampler.finish()
        self.say(f"end sample:   {self.end}")
        # Under load, before any gateway restart (closing the last connection
        # checkpoints too): a working checkpointer keeps sigil.db within about
        # a second of writes of the whole database.
        in_file, total = pages_outside_main(st.db_path())
        report["store_under_load"] = {"pages_in_db_file": in_file, "pages": total,
                                      "wal_bytes": wal_size(st.db_path())}
        self.t.check("the gateway checkpoints its WAL under load (sigil.db holds ≥ half the "
                     "pages at the end of the fault phase)", in_file >= total / 2,
                     report["store_under_load"])
        # Restart faults after the end sample: they replace the gateway process.
        recovered = all(f["recovered"] for f in report["faults"])
        for i in range(min(rounds, 3) if recovered else 0):
            report["faults"].append(
                faults.run_fault(self.ctx, "store_readonly", faults.store_readonly, i + 1))

    def closing(self):
        """Load stopped: the audit log, the WAL, the summary, a clean stop."""
        st, t = self.st, self.t
        results = self.load.finish()
        self.load = None
        self.say("load stopped; verifying the audit log")
        final = self.ctx.probe()
        t.check("signs after the last fault", final[1] is None, final)
        rc_verify, verify = audit_verify(st)
        audit = audit_figures(st)
        self.say(f"audit verified ({audit[0]} rows)")
        time.sleep(3)  # three periods of the gateway's checkpoint thread, quiet
        in_file, total = pages_outside_main(st.db_path())
        self.report["store"] = {"db_bytes": os.path.getsize(st.db_path()),
                                "wal_bytes": wal_size(st.db_path()),
                                "pages_in_db_file": in_file, "pages": total}
        t.check("the gateway checkpoints its WAL (idle 3 s: every page in sigil.db)",
                in_file >= total, self.report["store"])
        summarize(t, self.report, results, self.ctx, st, self.start, self.end, rc_verify,
                  verify, *audit, self.kinds)
        st.stop()
        for name in ("gateway", "launch"):
            rc = st.procs[name].returncode
            t.check(f"sigil-{name} exits 0 on SIGTERM after the run", rc == 0, rc)

    def teardown(self):
        if self.idle is not None:
            self.idle.close_all()
        if self.load is not None:
            self.load.finish()
        try:
            self.st.teardown()
        except AssertionError as e:
            self.t.check("no sanitizer report in the stack's logs", False, str(e)[:2000])
        except Exception:
            self.t.check("the stack stopped and was removed", False, traceback.format_exc())
        self.report["wall_seconds"] = round(time.monotonic() - self.wall0, 1)
        self.report["checks"] = {"passed": self.t.passed, "failed": self.t.failed}


def stop_on_sigterm(*_):
    raise KeyboardInterrupt("SIGTERM")  # so that the stack is stopped and unmounted


def main():
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    args = parse_args()
    raise_nofile(args.idle_conns + 1024)
    run = Run(args)
    run.t.check("hyperliquid verifier agrees with the SDK vectors",
                hl_verify.self_test(os.path.join(HERE, "..", "vectors", "hyperliquid.json")) > 0)
    try:
        run.setup()
        run.warm_up()
        run.hold_idle()
        run.fault_phase()
        run.closing()
    except Exception:  # the suite itself broke: one failed check, and the report so far
        run.t.check("the suite ran to the end", False, traceback.format_exc())
    finally:
        run.teardown()
    print_report(run.report)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(run.report, f, indent=2, default=str)
    return run.t.done()


def summarize(t, report, results, ctx, st, start, end, rc_verify, verify, rows, signed_rows,
              table_receipts, by_code, kinds):
    tot = {"sent": 0, "ok": 0, "wrong": 0, "untyped": 0, "refused_restarting": 0}
    typed, samples, client_receipts, by_venue = {}, [], set(), {}
    for idx, venue, tl in results:
        for k in tot:
            tot[k] += tl[k]
        for code, n in tl["typed"].items():
            typed[code] = typed.get(code, 0) + n
        samples += tl["samples"]
        client_receipts.update(map(tuple, tl["receipts"]))
        by_venue[venue] = by_venue.get(venue, 0) + tl["ok"]
    report["requests"] = {**tot, "typed_failures": dict(sorted(typed.items())),
                          "ok_by_venue": by_venue, "probe_untyped": ctx.untyped,
                          "failure_samples": [w for _, w in samples[:20]]}
    t.check("every load worker reported", len(results) == report["workers"], len(results))
    t.check("verified signatures from both venues",
            all(by_venue.get(v, 0) > 0 for v in ("binance", "hyperliquid")), by_venue)
    t.check("wrong signatures: 0", tot["wrong"] == 0, samples[:5])
    t.check("every failure is a typed API error (no dropped connection, no code-less answer)",
            tot["untyped"] == 0 and not ctx.untyped, (samples[:5], ctx.untyped[:5]))
    bad5xx = {k: v for k, v in typed.items() if k.startswith(("500", "502"))}
    t.check("no 500/502 answers", not bad5xx, bad5xx)

    counted = {}
    for f in report["faults"]:
        counted[f["kind"]] = counted.get(f["kind"], 0) + 1
        t.check(f"{f['kind']} (round {f['round']}): fault took effect", f.get("injected"),
                f["detail"])
        t.check(f"{f['kind']} (round {f['round']}): signs again within "
                f"{faults.RECOVERY_TRIES} retries", f["recovered"], f.get("recovery_problem"))
        if f["kind"] == "store_readonly":
            t.check(f"store_readonly (round {f['round']}): no signature released on a "
                    "read-only store", f["fail_closed"], f["outcome"])
        if f["kind"] == "stall_clients":
            t.check(f"stall_clients (round {f['round']}): other requests served during the "
                    "stall", f["served_during"] > 0, f["served_during"])
    report["faults_by_kind"] = counted
    t.check("every fault kind injected at least once",
            all(counted.get(k, 0) > 0 for k in [*kinds, "store_readonly"]), counted)

    # Audit: the chain and receipts; every released signature has its row.
    missing, other = missing_receipts(verify.get("problems", []))
    n5xx = sum(v for k, v in typed.items() if k.startswith("5"))
    report["audit"] = {"verify_exit": rc_verify, "verify_ok": verify.get("ok"),
                       "rows": rows, "signed_rows": signed_rows, "by_code": by_code,
                       "receipts_missing": missing, "other_problems": other[:20],
                       "client_successes": tot["ok"],
                       "client_receipts_not_in_table": len(client_receipts - table_receipts)}
    t.check("sigil audit verify: rows, hash chain and receipt signatures intact "
            "(no seq gap, no row or receipt problem)", rc_verify in (0, 3) and not other,
            other[:5] or verify)
    t.check("receipts missing from the log ≤ 5xx answers (decisions whose record was "
            "never written; nothing released)", missing <= n5xx, (missing, n5xx))
    t.check("audit rows for successful signs ≥ successes seen by clients",
            signed_rows >= tot["ok"], (signed_rows, tot["ok"]))
    t.check("every verified signature's receipt is in the audit log (no audit gap)",
            not client_receipts - table_receipts,
            sorted(client_receipts - table_receipts)[:5])

    check_flat(t, report, st, start, end)


def flat(s, e):
    """(ok, what was compared) for one process's start and end samples."""
    conns = (e["store_fds"] or 0) // 2
    rss_max = s["rss_kb"] * (1 + RSS_TOL) + RSS_SLACK_KB + WRITER_CACHE_KB + \
        conns * READER_CACHE_KB
    ok = e["rss_kb"] <= rss_max
    what = f"RSS ≤ {int(rss_max)} KiB"
    if None not in (other_fds(s), other_fds(e)):
        ok = ok and other_fds(e) <= other_fds(s) + FD_SLACK \
            and e["store_fds"] <= 2 * (GATEWAY_THREADS + 2) + 1
        what += f", other fds ≤ {other_fds(s) + FD_SLACK}, store fds ≤ " \
                f"{2 * (GATEWAY_THREADS + 2) + 1}"
    return ok, what


def check_flat(t, report, st, start, end):
    report["processes"] = {}
    if sanitized(st.exe("sigil-gateway")):
        report["skipped"].append("RSS/fd flatness: sanitizer build (use a RelWithDebInfo build)")
        print("SKIP RSS/fd flatness: the binaries carry a sanitizer runtime", flush=True)
    for name in PROCESSES:
        s, e = start.get(name), end.get(name)
        report["processes"][name] = {"start": s, "end": e}
        if "RSS/fd" in " ".join(report["skipped"]):
            continue
        if s is None or e is None:
            t.check(f"{name}: sampled at start and end", False, (s, e))
            continue
        ok, what = flat(s, e)
        same = "same process" if s["pid"] == e["pid"] else "restarted"
        t.check(f"{name}: RSS and fds flat ({same}; {what})", ok, (s, e))
        if s["fds"] is None:
            report["skipped"].append(f"{name}: fds unreadable (non-dumpable, suite not root)")


def print_report(r):
    q = r.get("requests", {})
    print("\n==== soak report ====")
    print(f"seed {r['seed']}, fault phase {r['seconds']} s, {r['workers']} load processes, "
          f"wall {r.get('wall_seconds')} s")
    if q:
        print(f"requests sent      {q['sent']}")
        print(f"successes          {q['ok']} (verified offline; by venue {q['ok_by_venue']})")
        print(f"wrong signatures   {q['wrong']}")
        print(f"typed failures     {sum(q['typed_failures'].values())} "
              f"{q['typed_failures']}")
        print(f"untyped failures   {q['untyped']} (+{len(q['probe_untyped'])} seen by probes)")
        print(f"connections refused while the suite restarted the gateway "
              f"{q['refused_restarting']} (not counted as requests)")
    print(f"faults injected    {r.get('faults_by_kind')}")
    a = r.get("audit")
    if a:
        print(f"audit              {a['rows']} rows, {a['signed_rows']} signed; verify exit "
              f"{a['verify_exit']}; receipts missing {a['receipts_missing']} (each a 5xx); "
              f"other problems {len(a['other_problems'])}; client receipts not in the log "
              f"{a['client_receipts_not_in_table']} (audit gaps)")
    if r.get("idle"):
        print(f"idle connections   {r['idle']}")
    if r.get("store"):
        print(f"store              {r['store']}")
    for name, v in r.get("processes", {}).items():
        s, e = v["start"] or {}, v["end"] or {}
        print(f"{name:8s} start pid {s.get('pid')} rss {s.get('rss_kb')} KiB fds {s.get('fds')} "
              f"({s.get('store_fds')} store)  end pid {e.get('pid')} rss {e.get('rss_kb')} KiB "
              f"fds {e.get('fds')} ({e.get('store_fds')} store)")
    for s in r.get("skipped", []):
        print(f"skipped: {s}")


if __name__ == "__main__":
    sys.exit(main())
