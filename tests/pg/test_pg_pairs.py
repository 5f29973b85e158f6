#!/usr/bin/env python3
"""Several gateway+enclave pairs on one PostgreSQL database, one pair killed
under load (run by tests/pg/run.sh; docs/OPERATIONS.md "Multi-host topology").

One key service, pairs A and B (each a launcher+enclave and a gateway, own
sockets) on one store. A Binance key is sealed through A; B's enclave boots
from the stored seed ciphertext and signs with it. Client threads sign
through the failover SDK (sigil_sdk.Client with both URLs, one
Idempotency-Key per request, half of them starting on A), then:

1. A's enclave is frozen (SIGSTOP) so that A's requests stop inside the
   enclave call holding their Idempotency-Key reservations; once the store
   shows such reservations, A's gateway, launcher and enclave get kill -9.
   Every request finishes on B: those A held wait out the reservation lease
   (409 "in progress"), then B takes them over.
   Meanwhile a probe request stuck in A shows that A, alive, renews its
   lease: B answers 409 "in progress" although the reservation is older
   than a lease; after the kill B takes it over and signs it once.
2. A third pair C joins, takes half the load, and is killed with kill -9 in
   full flight (no freeze): whatever it was doing is cut anywhere.

Checked afterwards:
- every request got 200 and its signature verifies against an independent
  HMAC of the request (test_e2e_faults.verify_binance);
- the audit log holds exactly one 200 row per completed request (by request
  hash), and no 200 row for anything else: nothing signed twice or lost;
- one hash chain (seq 1..n, prev links, hashes recomputed independently);
- at least one request was taken over from A after a 409 "in progress";
- `sigil audit verify --store` finds no problem, except `receipt_gap`s in
  C's boot among its last receipts: decisions C's enclave made whose
  gateway died before writing them (their results never left), the
  documented truncated-tail case; A's and B's boots have none.

usage: test_pg_pairs.py BIN_DIR   (SIGIL_TEST_STORE=pg, SIGIL_TEST_PG_URL set)
"""
import collections
import hashlib
import json
import os
import signal
import sys
import threading
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_util import Http, now_ms, run_on_pg_stack, wait_for  # noqa: E402
from test_e2e_faults import BINANCE, binance_request, verify_binance  # noqa: E402
from test_pg_gateways import check_chain  # noqa: E402

THREADS = 6
WARMUP = 60       # completed requests before A is frozen
PER_PHASE = 60    # completed requests after each kill, before the next step
RECEIPT_TAIL = THREADS + 1  # C's decisions that can be cut: one in flight per thread
LEASE_MS = 5000  # SIGIL_IDEM_LEASE_MS


def load_sdk():
    """sigil_sdk.client from sdk/python, without the package __init__ (which
    needs PyNaCl and cryptography for provisioning and verification)."""
    if "sigil_sdk" not in sys.modules:
        pkg = types.ModuleType("sigil_sdk")
        pkg.__path__ = [os.path.join(HERE, "..", "..", "sdk", "python", "sigil_sdk")]
        sys.modules["sigil_sdk"] = pkg
    from sigil_sdk import client, errors
    return client, errors


class Load:
    """THREADS client threads; thread i signs with the URL list urls_of(i)
    (read before every request), one fresh Idempotency-Key per request."""

    def __init__(self, st, key_id, urls_of):
        self.sdk, self.errors = load_sdk()
        self.st, self.key_id, self.urls_of = st, key_id, urls_of
        self.lock = threading.Lock()
        self.done = []      # (idem key, request, SignResult)
        self.failed = []    # (idem key, exception)
        self.took_over = set()  # idem keys that met a 409 "in progress" first
        self.count = [0] * THREADS  # requests finished (either way) per thread
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(THREADS)]

    def client(self, urls, trace):
        c = self.sdk.Client(list(urls), self.st.token, timeout=30, retries=3, backoff=0.05)
        real = c._send

        def send(method, path, body, headers, index=None):
            r = real(method, path, body, headers, index=index)
            if r[0] == 409 and "in progress" in r[2]:
                trace.add(headers.get("Idempotency-Key"))
            return r

        c._send = send
        return c

    def worker(self, i):
        trace, c, urls, n = set(), None, None, 0
        while not self.stop.is_set():
            if self.urls_of(i) != urls:
                urls = self.urls_of(i)
                c = self.client(urls, trace)
            n += 1
            key = f"pairs-{i}-{n}"
            req = binance_request(now_ms(), f"p{i}n{n}")
            try:
                res = c.sign(self.key_id, req, idempotency_key=key)
                with self.lock:
                    self.done.append((key, req, res))
            except self.errors.SigilError as e:
                with self.lock:
                    self.failed.append((key, e))
            self.count[i] += 1
        with self.lock:
            self.took_over |= trace

    def wait_done(self, n, timeout=120):
        return wait_for(lambda: len(self.done) >= n, timeout=timeout)

    def start(self):
        for th in self.threads:
            th.start()

    def finish(self):
        self.stop.set()
        for th in self.threads:
            th.join(timeout=120)


def boot_of(url):
    s, _, b = Http(url).request("GET", "/readyz", token=None)
    return b["boot_id"] if s == 200 else None


def enclave_pid(st, pair):
    """The enclave: the launcher's child process."""
    launcher = st.procs[pair.launch_name].pid
    with open(f"/proc/{launcher}/task/{launcher}/children") as f:
        kids = f.read().split()
    return int(kids[0])


def held_reservations(st):
    """In-progress reservations older than half a second (B answers in milliseconds)."""
    return st.store_query("SELECT COUNT(*) FROM idempotency WHERE status = 0 AND created_at < ?",
                          (now_ms() - 500,))[0][0]


PROBE_KEY = "pairs-probe-held"


def probe_held(st, t, key_id, a, b):
    """A request stuck in A's frozen enclave keeps its reservation past the
    lease because A, alive, renews it: B answers 409 "in progress" for the
    same key even once the reservation is older than a lease."""
    body = {"key_id": key_id, "request": binance_request(now_ms(), "held")}
    hdr = {"Idempotency-Key": PROBE_KEY}
    threading.Thread(target=lambda: _quiet(Http(a.url, st.token).request, "POST", "/v1/sign",
                                           body, headers=hdr), daemon=True).start()
    old = wait_for(lambda: st.store_query(
        "SELECT lease_until FROM idempotency WHERE idem_key = ? AND status = 0"
        " AND created_at < ?", (PROBE_KEY, now_ms() - LEASE_MS - 1000)), timeout=30)
    s, _, r = Http(b.url, st.token).request("POST", "/v1/sign", body, headers=hdr)
    t.check("a live gateway renews its lease: B says 409 in progress for A's reservation"
            " older than a lease", old and s == 409 and "in progress" in str(r), (old, s, r))
    st.probe = (body, hdr)


def _quiet(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except OSError:
        pass  # its gateway was killed


def audit_verify(st):
    p = st.sigil("audit", "verify", "--store", st.store_args[1], "--trust-dev-root",
                 st.dev_root(), check=False)
    try:
        return p.returncode, json.loads(p.stdout)
    except json.JSONDecodeError:
        return p.returncode, {"raw": (p.stdout + p.stderr).decode(errors="replace")}


def receipt_seqs(st, boot):
    rows = st.store_query("SELECT receipt FROM audit WHERE receipt IS NOT NULL")
    return sorted(r["seq"] for r in (json.loads(x[0]) for x in rows) if r.get("boot_id") == boot)


def seal_binance(st):
    """Seals test_e2e_faults' Binance credential (orders only); its key id."""
    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("binance.json", BINANCE)
    policy = {"version": 1, "tenant": "default", "venue": "binance", "network": "mainnet",
              "actions": ["order"], "not_after": int(time.time()) + 86400}
    return st.seal("binance", "mainnet", creds, st.write("policy.json", policy), owner)["key_id"]


def run(st, t):
    key_id = seal_binance(st)
    a = st.primary()
    b = st.add_pair("b")
    t.check("pair B: another enclave, same measurement, its own boot",
            b.measurement == a.measurement and boot_of(b.url) not in (None, boot_of(a.url)))
    probe = binance_request(now_ms(), "b-first")
    s, _, body = Http(b.url, st.token).request("POST", "/v1/sign",
                                               {"key_id": key_id, "request": probe})
    t.check("a key sealed through pair A signs on pair B (one seed, one sealing key)",
            s == 200 and verify_binance(probe, body.get("signed")) is None, (s, body))
    boots = {"A": boot_of(a.url), "B": boot_of(b.url)}

    urls = {i: [a.url, b.url] if i % 2 == 0 else [b.url, a.url] for i in range(THREADS)}
    load = Load(st, key_id, lambda i: urls[i])
    load.start()
    try:
        t.check(f"warm-up: {WARMUP} requests through A and B", load.wait_done(WARMUP),
                len(load.done))
        # 1. A frozen inside its enclave calls, then killed
        os.kill(enclave_pid(st, a), signal.SIGSTOP)
        held = wait_for(lambda: held_reservations(st), timeout=30)
        t.check("A frozen: its requests hold Idempotency-Key reservations", held, held)
        probe_held(st, t, key_id, a, b)
        before = len(load.done)
        a.kill()
        t.check("kill -9 of A's gateway, launcher and enclave", not a.running())
        t.check(f"after A's death {PER_PHASE} more requests complete (on B)",
                load.wait_done(before + PER_PHASE), len(load.done) - before)
        body, hdr = st.probe
        probe_b = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
            Http(b.url, st.token).request("POST", "/v1/sign", body, headers=hdr)), timeout=30)
        t.check("after A's death B takes the held probe over and signs it",
                probe_b and verify_binance(body["request"], probe_b[2]["signed"]) is None,
                probe_b)
        # 2. C joins and is killed in full flight
        c = st.add_pair("c")
        boots["C"] = boot_of(c.url)
        for i in range(0, THREADS, 2):
            urls[i] = [c.url, b.url]
        before = len(load.done)
        load.wait_done(before + PER_PHASE)
        c_seq = wait_for(lambda: len(receipt_seqs(st, boots["C"])) >= 10, timeout=60)
        t.check("C took part of the load (receipts of its boot in the log)", c_seq)
        c.kill()
        before = len(load.done)
        t.check(f"after C's death {PER_PHASE} more requests complete (on B)",
                load.wait_done(before + PER_PHASE), len(load.done) - before)
    finally:
        load.finish()

    done, failed = load.done, load.failed
    print(f"     {len(done)} requests completed, {len(failed)} failed, "
          f"{len(load.took_over)} met 409 'in progress' and were taken over")
    t.check("no request failed", not failed, [(k, repr(e)) for k, e in failed[:5]])
    bad = [(k, why) for k, req, res in done
           if (why := verify_binance(req, res.signed)) is not None]
    t.check(f"all {len(done)} signatures verify offline (independent HMAC)", not bad, bad[:3])
    t.check("requests held by the dead pair A finished on B after a 409 'in progress'",
            len(load.took_over) > 0 and load.took_over <= {k for k, _, _ in done},
            load.took_over)

    rows = check_chain(t, st, st.store_query("SELECT COUNT(*) FROM audit")[0][0])
    other = collections.Counter((r[4], r[7], r[8]) for r in rows if r[7] != 200)
    print(f"     audit rows other than 200: {dict(other)}")
    ok_rows = {}
    for r in rows:
        if r[4] == "sign" and r[7] == 200:
            ok_rows[r[9]] = ok_rows.get(r[9], 0) + 1
    want = {hashlib.sha256(res.request_text.encode()).digest() for _, _, res in done}
    dup = sum(1 for n in ok_rows.values() if n > 1)
    t.check("audit: one 200 sign row per completed request, none twice",
            dup == 0 and want <= set(ok_rows), (dup, len(want - set(ok_rows))))
    extra = set(ok_rows) - want
    # the b-first and held probes are the 200 rows outside the load
    t.check("audit: no 200 sign row for anything the clients did not get (but the 2 probes)",
            len(extra) == 2, len(extra))

    rc, rep = audit_verify(st)
    probs = rep.get("problems", [])
    allowed, c_seqs = [], receipt_seqs(st, boots["C"])
    for p in probs:
        if p["kind"] != "receipt_gap" or boots["C"] not in p["detail"]:
            continue
        lo, hi = (int(x) for x in p["detail"].split()[1].split(".."))
        if c_seqs and lo > c_seqs[-1] - RECEIPT_TAIL and hi < c_seqs[-1]:
            allowed.append(p)
    print(f"     sigil audit verify: exit {rc}, {rep.get('rows')} rows, {rep.get('boots')} boots,"
          f" problems {probs[:5]}")
    t.check("sigil audit verify --store: every row, 3 boots (A, B, C)",
            rep.get("rows") == len(rows) and rep.get("boots") == 3, rep)
    t.check("sigil audit verify: no problem but receipt gaps among the killed C's last "
            f"{RECEIPT_TAIL} receipts (the truncated-tail case)",
            len(allowed) == len(probs) and (rc == 0) == (not probs), probs[:5])


def main():
    # A's own requests must outlive the freeze: a long enclave deadline on A only
    return run_on_pg_stack(run, gateway_args=["--deadline-ms", "120000"])


if __name__ == "__main__":
    sys.exit(main())
