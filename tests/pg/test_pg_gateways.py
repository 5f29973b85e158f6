#!/usr/bin/env python3
"""Two gateways on one PostgreSQL database (run by tests/pg/run.sh).

One dev stack (key service, enclave) and two sigil-gateway processes with
the same --store. Threads sign through both at once; then:
- the audit log holds exactly one row per request, seq 1..n without a gap,
  each prev the previous hash and each hash recomputed here from the
  documented encoding (docs/API.md "Audit"), independently of the C code;
- an Idempotency-Key used on gateway A is replayed by gateway B, byte for
  byte, with no second audit row;
- PostgreSQL restarted under the running gateways: requests meeting a dead
  connection get 503, none crashes a gateway, and signing resumes;
- the chain-head table locked by another session past the lock timeout:
  503 audit_unavailable and no signature (TempStack.store_locked);
- a dump of the whole database contains neither the credential's secret
  nor the bearer token's secret.

usage: test_pg_gateways.py BIN_DIR   (SIGIL_TEST_PG_URL, SIGIL_PG_DATA set)
"""
import hashlib
import os
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_util import Http, now_ms, run_on_pg_stack  # noqa: E402

PG_BIN = os.environ.get("SIGIL_PG_BIN", "/usr/lib/postgresql/15/bin")
BINANCE = {"api_key": "pg-e2e-api-key-5d1c9a",
           "secret": "PgE2eSecret0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a39281706"}
THREADS = 4
PER_THREAD = 8


def pg_args(db):
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(os.environ["SIGIL_TEST_PG_URL"]).query))
    return ["-h", q["host"], "-U", q.get("user", "postgres"), "-d", db]


def as_pg_user(argv):
    return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv


def field(b):
    return struct.pack(">I", len(b)) + b


def text(v):
    """A text column as stored (absent: empty)."""
    return b"" if v is None else v.encode()


def row_hash(prev, r):
    seq, time_ms, tenant, key_id, op, action, decision, status, code, rh, oh, receipt = r
    enc = b"sigil-audit-v1\x00" + prev
    enc += field(struct.pack(">Q", seq)) + field(struct.pack(">q", time_ms))
    for v in (tenant, key_id, op, action, decision):
        enc += field(text(v))
    enc += field(struct.pack(">Q", status)) + field(text(code))
    for v in (rh or b"", oh or b"", text(receipt)):
        enc += field(v)
    return hashlib.sha256(enc).digest()


def check_chain(t, st, want_rows):
    rows = st.store_query("SELECT seq, time_ms, tenant, key_id, op, action, decision, http_status,"
                          " error_code, request_hash, output_hash, receipt, prev, hash"
                          " FROM audit ORDER BY seq")
    prev, bad = bytes(32), []
    for i, r in enumerate(rows):
        if r[0] != i + 1:
            bad.append(f"seq {r[0]} at position {i + 1}")
        if r[12] != prev:
            bad.append(f"row {r[0]}: prev")
        if row_hash(prev, r[:12]) != r[13]:
            bad.append(f"row {r[0]}: hash")
        prev = r[13]
    t.check(f"audit: {want_rows} rows", len(rows) == want_rows, len(rows))
    t.check("audit: one chain across both gateways (seq, prev, recomputed hashes)", not bad,
            bad[:5])
    return rows


def sign_req():
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            "timestamp": now_ms(), "recv_window": 5000}


def run(st, t):
    owner = st.path("owner.key")
    st.sigil("keygen", "--out", owner)
    creds = st.write("binance.json", BINANCE)
    policy = {"version": 1, "tenant": "default", "venue": "binance", "network": "mainnet",
              "actions": ["order"], "not_after": int(time.time()) + 86400}
    key_id = st.seal("binance", "mainnet", creds, st.write("policy.json", policy), owner)["key_id"]
    urls = [st.gateway["url"], st.primary().add_gateway("b")["url"]]
    base = st.store_query("SELECT COUNT(*) FROM audit")[0][0]  # the import's record

    # Concurrent signing through both gateways.
    results = []

    def worker(i):
        h = Http(urls[i % 2], st.token)
        for _ in range(PER_THREAD):
            status, _, _ = h.request("POST", "/v1/sign", {"key_id": key_id, "request": sign_req()})
            results.append(status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.check(f"{THREADS * PER_THREAD} concurrent signs through two gateways: all 200",
            results.count(200) == THREADS * PER_THREAD, sorted(set(results)))
    n = base + THREADS * PER_THREAD
    check_chain(t, st, n)

    # One Idempotency-Key across the two gateways.
    body = {"key_id": key_id, "request": sign_req()}
    hdr = {"Idempotency-Key": "pg-two-gateways-1"}
    s1, _, r1 = Http(urls[0], st.token).request("POST", "/v1/sign", body, headers=hdr, raw=True)
    s2, _, r2 = Http(urls[1], st.token).request("POST", "/v1/sign", body, headers=hdr, raw=True)
    t.check("Idempotency-Key: gateway B replays gateway A's response byte for byte",
            s1 == 200 and s2 == 200 and r1 == r2, (s1, s2))
    n += 1
    check_chain(t, st, n)

    # sigil audit verify reads the same chain from PostgreSQL (--store); before the
    # faults below, whose refused requests leave receipt gaps it would report.
    p = st.sigil("audit", "verify", "--store", st.store_args[1], "--trust-dev-root",
                 st.dev_root(), check=False)
    t.check("sigil audit verify --store postgresql://… → ok, every row", p.returncode == 0
            and b'"ok":true' in p.stdout and f'"rows":{n}'.encode() in p.stdout,
            p.stdout[-800:] + p.stderr[-800:])

    # PostgreSQL restarted under both gateways.
    subprocess.run(as_pg_user([os.path.join(PG_BIN, "pg_ctl"), "-D", os.environ["SIGIL_PG_DATA"],
                               "-m", "fast", "-w", "restart"]),
                   check=True, stdout=subprocess.DEVNULL)
    statuses = {0: [], 1: []}
    for i in (0, 1):
        h = Http(urls[i], st.token)
        for _ in range(40):
            status, _, _ = h.request("POST", "/v1/sign", {"key_id": key_id, "request": sign_req()})
            statuses[i].append(status)
            if status == 200:
                break
    for i in (0, 1):
        t.check(f"after the restart gateway {'AB'[i]} fails only with 503, then signs",
                statuses[i][-1] == 200 and set(statuses[i][:-1]) <= {503}, statuses[i])
    t.check("both gateways still running", st.procs["gateway"].poll() is None
            and st.procs["gateway-b"].poll() is None)
    # A 503 is audited too when the store is back by the time its record is
    # written (a key read failed, the audit append did not): the new rows are
    # the two signatures plus at most one per 503 answered, each a 503 row.
    new = [r[0] for r in st.store_query("SELECT http_status FROM audit WHERE seq > %d ORDER BY seq"
                                        % n)]
    refused = sum(len(statuses[i]) - 1 for i in (0, 1))
    t.check("after the restart: two 200 rows, the rest 503 rows, no more than the 503s answered",
            new.count(200) == 2 and set(new) <= {200, 503} and new.count(503) <= refused,
            (new, refused))
    n += len(new)
    check_chain(t, st, n)

    # The chain-head row locked elsewhere past the lock timeout: 503, nothing released.
    with st.store_locked():
        s, _, b = Http(urls[1], st.token).request("POST", "/v1/sign",
                                                  {"key_id": key_id, "request": sign_req()})
    t.check("audit write blocked → 503 audit_unavailable, nothing signed",
            s == 503 and b["error"]["code"] == "audit_unavailable" and "signed" not in b, (s, b))
    check_chain(t, st, n)

    # Nothing secret in the database.
    dump = subprocess.run([os.path.join(PG_BIN, "pg_dump"), *pg_args(st.pg_db)],
                          capture_output=True,
                          check=True).stdout
    token_secret = st.token.rsplit("_", 1)[1]
    t.check("database dump non-empty", b"CREATE TABLE public.audit" in dump, len(dump))
    t.check("no credential secret in the database", BINANCE["secret"].encode() not in dump)
    t.check("no bearer token secret in the database", token_secret.encode() not in dump)


def main():
    return run_on_pg_stack(run)


if __name__ == "__main__":
    sys.exit(main())
