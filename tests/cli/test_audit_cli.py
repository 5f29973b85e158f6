#!/usr/bin/env python3
"""`sigil audit verify` against audit tables built and then tampered with here.

The store is created by `sigil admin`: the SQLite file of a state directory, or
with SIGIL_TEST_STORE=pg (tests/pg/run.sh) a PostgreSQL database that `sigil
admin` and `sigil audit verify` reach with --store; the rows are written behind
their back (e2e_util.Store) and chained with the encoding of docs/API.md "Audit"
re-implemented below (so the documented encoding is checked too). Receipts are
real: canonical JSON signed Ed25519 with libsodium through ctypes
(tests/e2e/e2e_util.py), under a receipt key bound in a dev attestation
document that sigil-launch's soft NSM issues to a stand-in enclave, archived in
the boots table as the gateway would.

Tampering checked: a deleted row, an edited column, two rows swapped, a cut tail
(--expect and --gateway), an edited receipt behind a rebuilt host chain, a
receipt missing behind a rebuilt host chain; --tenant; usage errors. The rows
`sigil admin key disable|enable` appends (and that refusals append none). Then the
same table through sigil-gateway's GET /v1/audit: a tenant's own rows, pages,
query errors, and every row's hash recomputed from the JSON it returns.
Usage: test_audit_cli.py <path-to-sigil> <tests-dir>
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import (DEADLINE_S, E2E, LAUNCH, SIGIL, JsonHandler, Launched, check,  # noqa: E402
                      error_line, error_of, finish, read_json, run, run_json, serving, wait_for)
import cbor_min  # noqa: E402
from e2e_util import Store, canonical, ed25519_keypair, ed25519_sign  # noqa: E402

GATEWAY = os.path.join(os.path.dirname(SIGIL), "sigil-gateway")
BOOT_ID = bytes(range(0x10, 0x20))
RECEIPT_SEED = b"\x07" * 32
KEY_A = "0123456789abcdef0123456789abcdef"
KEY_B = "fedcba9876543210fedcba9876543210"

# The stand-in enclave: one Attestation request whose user_data is the Sigil
# boot binding given in hex as its first argument; the document goes to the
# file named by its second.
ENCLAVE = r'''import os, socket, struct, sys, time
sys.path.insert(0, %(e2e)r)
import cbor_min
args = sys.argv[1:]
fd = int(args[args.index("--nsm-fd") + 1])
user_data, out = bytes.fromhex(args[0]), args[1]
s = socket.socket(fileno=fd)
req = cbor_min.encode({"Attestation": {"user_data": user_data, "nonce": None,
                                       "public_key": None}})
s.sendall(struct.pack(">I", len(req)) + req)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit(3)
        b += c
    return b
n = struct.unpack(">I", recv(4))[0]
doc = cbor_min.decode(recv(n))[0]["Attestation"]["document"]
with open(out + ".tmp", "wb") as f:
    f.write(doc)
os.rename(out + ".tmp", out)
while True:
    time.sleep(1)
'''

# ---- the boot document ---------------------------------------------------------
def boot_binding(receipt_pk):
    return cbor_min.encode({"sigil": "boot-v1", "boot_id": BOOT_ID, "sealing_key": b"\x05" * 32,
                            "receipt_key": receipt_pk})


def dev_document(tmp, receipt_pk):
    """(document, measurement, root.pem) from sigil-launch's soft NSM."""
    docf = os.path.join(tmp, "doc.bin")
    with Launched(tmp, ENCLAVE % {"e2e": E2E}, boot_binding(receipt_pk).hex(), docf) as la:
        wait_for(lambda: os.path.exists(docf), "the document")
        with open(docf, "rb") as f:
            return f.read(), bytes.fromhex(la.ready["measurement"]), la.ready["root"]


# ---- receipts (include/sigil/receipt.h) -----------------------------------------
class Enclave:
    """Issues receipts the way the enclave does: one chain per boot."""

    def __init__(self, measurement):
        self.pk, self.sk = ed25519_keypair(RECEIPT_SEED)
        self.measurement = measurement
        self.seq = 0
        self.prev = b"\x00" * 32

    def receipt(self, tenant, key_id, action, allow, t):
        self.seq += 1
        r = {"v": 1, "boot_id": BOOT_ID.hex(), "seq": self.seq, "prev": self.prev.hex(),
             "measurement": self.measurement.hex(), "mode": "dev", "time": t, "tenant": tenant,
             "key_id": key_id, "venue": "binance", "network": "mainnet", "action": action,
             "request_hash": hashlib.sha256(b"req%d" % self.seq).hexdigest(),
             "policy_hash": "ab" * 32, "decision": "allow" if allow else "deny"}
        if allow:
            r["output_hash"] = hashlib.sha256(b"out%d" % self.seq).hexdigest()
        else:
            r["reason"] = "policy_denied: order notional over the limit"
        c = canonical(r)
        self.prev = hashlib.sha256(c).digest()
        sig = ed25519_sign(self.sk, b"sigil-receipt-v1\x00" + c)
        return c[:-1] + b',"signature":"' + sig.hex().encode() + b'"}'


# ---- the audit chain (docs/API.md "Audit") --------------------------------------
COLUMNS = ("seq", "time_ms", "tenant", "key_id", "op", "action", "decision", "http_status",
           "error_code", "request_hash", "output_hash", "receipt")


def field(b):
    return struct.pack(">I", len(b)) + b


def u64(v):
    return field(struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF))


def text(v):
    return field(v.encode() if v is not None else b"")


def row_hash(prev, row):
    enc = (b"sigil-audit-v1\x00" + prev + u64(row["seq"]) + u64(row["time_ms"]) +
           text(row["tenant"]) + text(row["key_id"]) + text(row["op"]) + text(row["action"]) +
           text(row["decision"]) + u64(row["http_status"]) + text(row["error_code"]) +
           field(row["request_hash"] or b"") + field(row["output_hash"] or b"") +
           text(row["receipt"]))
    return hashlib.sha256(enc).digest()


def write_rows(store, rows):
    """Replaces the table with rows, chained afresh: what an attacker with the
    database (but not the receipt key) can do."""
    insert = "INSERT INTO audit (%s, prev, hash) VALUES (%s)" % (
        ", ".join(COLUMNS), ", ".join("?" * (len(COLUMNS) + 2)))
    stmts = [("DELETE FROM audit", ())]
    prev = b"\x00" * 32
    for r in rows:
        h = row_hash(prev, r)
        stmts.append((insert, tuple(r[c] for c in COLUMNS) + (prev, h)))
        prev = h
    store.execute(*stmts)


def build_table(store, enclave):
    t = 1_700_000_000_000
    plan = [  # tenant, key, op, action, decision, status, code, has receipt
        ("acme", KEY_A, "import", None, "allow", 201, None, True),
        ("acme", KEY_A, "sign", "order", "allow", 200, None, True),
        ("beta", KEY_B, "import", None, "allow", 201, None, True),
        ("acme", KEY_A, "sign", "order", "deny", 422, "policy_denied", True),
        ("acme", None, "sign", None, "error", 400, "bad_json", False),
        ("beta", KEY_B, "sign", "cancel", "allow", 200, None, True),
        ("acme", KEY_A, "policy_update", "policy_update", "allow", 200, None, True),
        ("acme", KEY_A, "sign", "order", "allow", 200, None, True),
    ]
    rows = []
    for i, (tenant, key, op, action, decision, status, code, has) in enumerate(plan):
        receipt = None
        if has:
            raction = action or op
            receipt = enclave.receipt(tenant, key, raction, decision == "allow", t + i).decode()
        rows.append({"seq": i + 1, "time_ms": t + i, "tenant": tenant, "key_id": key, "op": op,
                     "action": action, "decision": decision, "http_status": status,
                     "error_code": code,
                     "request_hash": hashlib.sha256(b"r%d" % i).digest(),
                     "output_hash": hashlib.sha256(b"o%d" % i).digest()
                     if decision == "allow" else None,
                     "receipt": receipt})
    write_rows(store, rows)
    return rows


# ---- running the verifier ---------------------------------------------------------
def verify(store, *args):
    return run_json("audit", "verify", *store.cli_args(), *args)


def kinds(out):
    return sorted({p["kind"] for p in out["problems"]}) if out else None


STORES = []  # every store made, dropped at the end


def made(store):
    STORES.append(store)
    return store


def tests(tmp):
    clean = os.path.join(tmp, "clean")
    os.mkdir(clean)
    store = made(Store.for_test(clean))
    rc, _, err = run("admin", *store.cli_args(), "tenant", "add", "acme")
    check(rc == 0, "admin creates the store (%s)" % err)
    pk, _ = ed25519_keypair(RECEIPT_SEED)
    doc, measurement, root = dev_document(os.path.join(tmp, "launch"), pk)
    store.execute(("INSERT INTO boots (boot_id, document, measurement, created_at)"
                   " VALUES (?,?,?,?)", (BOOT_ID, doc, measurement, 1)))
    enclave = Enclave(measurement)
    rows = build_table(store, enclave)
    boot = BOOT_ID.hex()
    n = len(rows)

    rc, out, err = verify(store)
    check(rc == 0 and out == {"ok": True, "rows": n, "boots": 1, "problems": []},
          "a clean table verifies (%s %s)" % (out, err))
    rc, out, _ = verify(store, "--trust-dev-root", root)
    check(rc == 0 and out["ok"], "and its boot document chains to the dev root")
    rc, out, _ = verify(store, "--root", "aws")
    check(rc == 3 and kinds(out) == ["boot_document"], "a dev document fails under the AWS root")
    rc, out, _ = verify(store, "--expect", "%s:%d" % (boot, enclave.seq))
    check(rc == 0 and out["ok"], "the tail reaches the enclave's last receipt")
    rc, out, _ = verify(store, "--tenant", "beta")
    check(rc == 0 and out["ok"] and out["rows"] == 2, "--tenant: only that tenant's rows (%s)" % out)

    c = made(store.copy(os.path.join(tmp, "deleted")))
    c.execute(("DELETE FROM audit WHERE seq = 4", ()))
    rc, out, _ = verify(c)
    check(rc == 3 and "seq_gap" in kinds(out) and "receipt_gap" in kinds(out),
          "a deleted row is found (%s)" % kinds(out))
    check([p["seq"] for p in out["problems"] if p["kind"] == "seq_gap"] == [5],
          "the gap is reported at the row after it")

    c = made(store.copy(os.path.join(tmp, "edited")))
    c.execute(("UPDATE audit SET http_status = 200, decision = 'allow' WHERE seq = 5", ()))
    rc, out, _ = verify(c)
    check(rc == 3 and kinds(out) == ["row_hash"] and out["problems"][0]["seq"] == 5,
          "an edited column is found (%s)" % out)

    c = made(store.copy(os.path.join(tmp, "swapped")))
    c.execute(("UPDATE audit SET seq = 100 WHERE seq = 2", ()),
          ("UPDATE audit SET seq = 2 WHERE seq = 3", ()),
          ("UPDATE audit SET seq = 3 WHERE seq = 100", ()))
    rc, out, _ = verify(c)
    check(rc == 3 and "row_hash" in kinds(out) and "prev_link" in kinds(out),
          "two swapped rows are found (%s)" % kinds(out))

    c = made(store.copy(os.path.join(tmp, "truncated")))
    c.execute(("DELETE FROM audit WHERE seq >= ?", (n - 1,)))
    rc, out, _ = verify(c)
    check(rc == 0, "a cut tail alone leaves a consistent chain")
    rc, out, _ = verify(c, "--expect", "%s:%d" % (boot, enclave.seq))
    check(rc == 3 and kinds(out) == ["truncated"] and
          "audit record was never written" in out["problems"][0]["detail"],
          "--expect finds the cut tail (%s)" % out)
    with serving(ready_handler(boot, enclave.seq)) as url:
        rc, out, err = verify(c, "--gateway", url, "--token", "sgl_x")
    check(rc == 3 and kinds(out) == ["truncated"], "--gateway finds the cut tail (%s %s)" % (out, err))
    with serving(ready_handler(boot, enclave.seq)) as url:
        rc, out, _ = verify(store, "--gateway", url)
    check(rc == 0, "--gateway: a whole table passes")

    # An attacker who rebuilds the host chain is still caught by the receipts.
    c = made(store.copy(os.path.join(tmp, "receipt-edited")))
    edited = [dict(r) for r in rows]
    r = json.loads(edited[3]["receipt"])
    edited[3]["receipt"] = edited[3]["receipt"].replace('"time":%d' % r["time"],
                                                        '"time":%d' % (r["time"] + 1))
    check(edited[3]["receipt"] != rows[3]["receipt"], "the receipt was edited")
    write_rows(c, edited)
    rc, out, _ = verify(c)
    check(rc == 3 and "receipt_signature" in kinds(out) and "row_hash" not in kinds(out),
          "an edited receipt fails its signature (%s)" % kinds(out))

    c = made(store.copy(os.path.join(tmp, "receipt-gap")))
    fewer = [dict(r) for r in rows[:5] + rows[6:]]
    for i, r in enumerate(fewer):
        r["seq"] = i + 1
    write_rows(c, fewer)
    rc, out, _ = verify(c)
    check(rc == 3 and kinds(out) == ["receipt_gap"], "a receipt chain gap is found (%s)" % out)

    c = made(store.copy(os.path.join(tmp, "receipt-moved")))
    moved = [dict(r) for r in rows]
    moved[1]["tenant"] = "beta"
    write_rows(c, moved)
    rc, out, _ = verify(c)
    check(rc == 3 and kinds(out) == ["receipt_mismatch"], "a row that disowns its receipt (%s)" % out)

    c = made(store.copy(os.path.join(tmp, "no-boot")))
    c.execute(("DELETE FROM boots", ()))
    rc, out, _ = verify(c)
    check(rc == 3 and kinds(out) == ["boot_unknown"], "a receipt without its boot document")

    for what, args in [("no --home", ["audit", "verify"]),
                       ("--tenant with --expect", ["audit", "verify", "--home", clean, "--tenant",
                                                   "acme", "--expect", boot + ":1"]),
                       ("bad --expect", ["audit", "verify", "--home", clean, "--expect", "xyz"]),
                       ("no database", ["audit", "verify", "--home", os.path.join(tmp, "none")]),
                       ("no subcommand", ["audit"])]:
        rc, out, err = run(*args)
        check(rc == 2 and out == "" and error_line(err) is not None, "usage: " + what)
    check(not os.path.exists(os.path.join(tmp, "none")), "verify creates no state directory")
    admin_key_tests(tmp)
    if os.path.exists(GATEWAY):
        route_tests(store, tmp, rows)


# ---- sigil admin key disable|enable ------------------------------------------------
def admin_key_tests(tmp):
    """The operator's switch appends the row its route writes, through the
    chained path: op disable|enable, action admin_disable|admin_enable,
    decision allow, status 200, nothing else; a refused command none."""
    store = made(Store.for_test(os.path.join(tmp, "admin-keys")))
    os.mkdir(store.home)
    admin(store, "tenant", "add", "acme")
    admin(store, "tenant", "add", "beta")
    store.execute(("INSERT INTO keys (key_id, tenant, venue, network, key_type, policy_hash,"
                   " blob, created_at) VALUES (?,?,?,?,?,?,?,?)",
                   (KEY_A, "acme", "hyperliquid", "mainnet", "secp256k1", b"\x01" * 32,
                    b"\x02" * 64, 1)))
    steps = [("disable", "disabled"), ("disable", "disabled"), ("enable", "active")]
    outs = []
    for verb, state in steps:
        before = sigil_now_ms()
        rc, out, err = run_json("admin", *store.cli_args(), "key", verb, "acme", KEY_A)
        outs.append((before, sigil_now_ms(), out))
        check(rc == 0 and out is not None and out.get("state") == state,
              "admin key %s → %s (%s %s)" % (verb, state, out, err))
    got = store.query("SELECT state FROM keys WHERE key_id = ?", (KEY_A,))
    check(got == [("active",)], "the key is active after disable, disable, enable (%s)" % got)
    rows = [dict(zip(COLUMNS + ("prev", "hash"), r)) for r in store.query(
        "SELECT %s, prev, hash FROM audit ORDER BY seq" % ", ".join(COLUMNS))]
    check(len(rows) == len(steps), "one audit row per admin command (%d rows)" % len(rows))
    prev = b"\x00" * 32
    for (verb, _), (t0, t1, out), row in zip(steps, outs, rows):
        want = {"seq": row["seq"], "time_ms": row["time_ms"], "tenant": "acme", "key_id": KEY_A,
                "op": verb, "action": "admin_" + verb, "decision": "allow", "http_status": 200,
                "error_code": None, "request_hash": None, "output_hash": None, "receipt": None,
                "prev": prev, "hash": row_hash(prev, row)}
        check(row == want, "admin %s row: %s" % (verb, row))
        check(t0 <= row["time_ms"] <= t1, "admin %s row: time of the command" % verb)
        check(out is not None and out.get("audit_seq") == row["seq"],
              "admin %s prints the row's seq (%s)" % (verb, out))
        prev = row["hash"]
    for label, args, code in [("another tenant's key", ("enable", "beta", KEY_A), "not_found"),
                              ("an unknown key", ("disable", "acme", KEY_B), "not_found"),
                              ("a bad key id", ("disable", "acme", "a/b"), "bad_field")]:
        rc, out, err = run("admin", *store.cli_args(), "key", *args)
        check(rc == 2 and out == "" and error_of(err)["code"] == code,
              "admin key, %s → %s (%s)" % (label, code, err))
    store.execute(("UPDATE keys SET state = 'revoked' WHERE key_id = ?", (KEY_A,)))
    rc, _, err = run("admin", *store.cli_args(), "key", "enable", "acme", KEY_A)
    check(rc == 2 and error_of(err)["code"] == "revoked",
          "admin key enable of a revoked key → revoked (%s)" % err)
    n = store.query("SELECT COUNT(*) FROM audit")[0][0]
    check(n == len(steps), "refused admin commands write no row (%d rows)" % n)
    rc, out, err = verify(store)
    check(rc == 0 and out == {"ok": True, "rows": len(steps), "boots": 0, "problems": []},
          "sigil audit verify passes after the admin rows (%s %s)" % (out, err))

    # The row cannot be written (a trigger refuses it): the switch is made,
    # and the error says so.
    store.execute(("UPDATE keys SET state = 'active' WHERE key_id = ?", (KEY_A,)),
                  *refuse_audit_inserts(store))
    rc, out, err = run("admin", *store.cli_args(), "key", "disable", "acme", KEY_A)
    e = error_of(err)
    check(rc == 2 and out == "" and e["code"] == "audit_unavailable" and
          e["message"].startswith("audit log unavailable (") and
          e["message"].endswith("): the key is disabled, but no record of it was written"),
          "admin key disable, audit write refused → audit_unavailable naming the state (%s)" % err)
    got = store.query("SELECT state FROM keys WHERE key_id = ?", (KEY_A,))
    n = store.query("SELECT COUNT(*) FROM audit")[0][0]
    check(got == [("disabled",)] and n == len(steps),
          "and the key is disabled, with no row (%s, %d rows)" % (got, n))


def refuse_audit_inserts(store):
    """Statements that make every INSERT into audit fail."""
    if store.pg_db is None:
        return [("CREATE TRIGGER refuse BEFORE INSERT ON audit"
                 " BEGIN SELECT RAISE(ABORT, 'audit refused'); END", ())]
    return [("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
             " $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$", ()),
            ("CREATE TRIGGER refuse BEFORE INSERT ON audit FOR EACH ROW"
             " EXECUTE FUNCTION refuse()", ())]


def sigil_now_ms():
    return time.time_ns() // 1_000_000


# ---- GET /v1/audit ------------------------------------------------------------------
def wire_receipt(obj):
    """The receipt's stored bytes, from the object the route returns."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    return (canonical(body)[:-1] + b',"signature":"' + obj["signature"].encode() + b'"}').decode()


def record_row(rec):
    return {"seq": rec["seq"], "time_ms": rec["time"], "tenant": rec["tenant"],
            "key_id": rec["key_id"], "op": rec["op"], "action": rec["action"],
            "decision": rec["decision"], "http_status": rec["status"], "error_code": rec["code"],
            "request_hash": bytes.fromhex(rec["request_hash"]) if rec["request_hash"] else None,
            "output_hash": bytes.fromhex(rec["output_hash"]) if rec["output_hash"] else None,
            "receipt": wire_receipt(rec["receipt"]) if rec["receipt"] is not None else None}


def http_get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token}
                                 if token else {})
    try:
        with urllib.request.urlopen(req, timeout=DEADLINE_S) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def admin(store, *args):
    return run_json("admin", *store.cli_args(), *args)[1]


def route_tests(clean, tmp, rows):
    store = made(clean.copy(os.path.join(tmp, "gateway")))
    home = store.home
    admin(store, "tenant", "add", "beta")
    admin(store, "tenant", "add", "gamma")
    tok = {t: admin(store, "token", "add", t)["token"] for t in ("acme", "beta", "gamma")}
    kms = os.path.join(home, "kms.json")
    with open(kms, "w") as f:
        json.dump({"access_key_id": "AK", "secret_access_key": "SK", "region": "us-east-1"}, f)
    ready = os.path.join(home, "ready.json")
    gw = subprocess.Popen([GATEWAY, "--home", home, "--listen", "127.0.0.1:0", "--enclave",
                           "unix:" + os.path.join(home, "no-enclave.sock"), "--ready-file", ready,
                           "--kms-credentials", kms, *(["--store", store.url] if store.url
                                                       else [])], stderr=subprocess.DEVNULL)
    try:
        url = wait_for(lambda: read_json(ready), "the gateway")["url"] + "/v1/audit"
        st, body = http_get(url, tok["acme"])
        want = [r["seq"] for r in rows if r["tenant"] == "acme"]
        check(st == 200 and [r["seq"] for r in body["records"]] == want and body["next"] is None,
              "GET /v1/audit: the caller's rows, in order (%s %s)" % (st, body))
        by_seq = {r["seq"]: r for r in rows}
        same = all(record_row(r) == by_seq[r["seq"]] for r in body["records"])
        check(same, "every column as stored, the receipt's bytes reproducible")
        prev = {r["seq"]: bytes.fromhex(r["hash"]) for r in body["records"]}
        ok = all(bytes.fromhex(r["hash"]) == row_hash(bytes.fromhex(r["prev"]), record_row(r)) and
                 (r["seq"] - 1 not in prev or bytes.fromhex(r["prev"]) == prev[r["seq"] - 1])
                 for r in body["records"])
        check(ok, "row hashes recompute from the route's JSON, prev links hold")
        check(body["records"][0]["receipt"]["seq"] == 1 and body["records"][3]["receipt"] is None
              and body["records"][3]["key_id"] is None, "receipts as objects, nulls for absent")
        st, page = http_get(url + "?limit=2", tok["acme"])
        check(st == 200 and [r["seq"] for r in page["records"]] == want[:2] and
              page["next"] == want[1], "limit: a page and where the next starts")
        st, page = http_get(url + "?since=%d&limit=2" % page["next"], tok["acme"])
        check(st == 200 and [r["seq"] for r in page["records"]] == want[2:4], "since: the next page")
        st, page = http_get(url + "?since=%d" % want[-1], tok["acme"])
        check(st == 200 and page == {"records": [], "next": None}, "past the end: empty")
        st, body = http_get(url, tok["beta"])
        check(st == 200 and {r["tenant"] for r in body["records"]} == {"beta"} and
              len(body["records"]) == 2, "another tenant sees only its own rows")
        for q, code in [("?limit=0", 400), ("?limit=1001", 400), ("?since=-1", 400),
                        ("?since=01", 400), ("?since=abc", 400), ("?since", 400),
                        ("?limit=1&limit=2", 400), ("?key_id=x", 400),
                        ("?since=99999999999999999999", 400)]:
            st, body = http_get(url + q, tok["acme"])
            check(st == code and "error" in body, "query %s: %d (%s)" % (q, code, st))
        st, _ = http_get(url, None)
        check(st == 401, "no token: 401")
        big_pages(store, url, tok["gamma"])
    finally:
        gw.terminate()
        try:
            gw.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            gw.kill()


def big_pages(store, url, token):
    """Rows with 4 KB receipts: a page ends where the response would be too
    large, still one JSON document, and the next page goes on from there."""
    receipt = json.dumps({"pad": "x" * 4000})
    first = store.query("SELECT max(seq) FROM audit")[0][0] + 1
    insert = ("INSERT INTO audit (seq, time_ms, tenant, op, decision, http_status, receipt,"
              " prev, hash) VALUES (?, 1, 'gamma', 'sign', 'allow', 200, ?, ?, ?)")
    store.execute(*[(insert, (first + i, receipt, b"\0" * 32, b"\0" * 32)) for i in range(700)])
    seen, since, pages = [], 0, 0
    while since is not None and pages < 10:
        st, body = http_get(url + "?limit=1000&since=%d" % since, token)
        check(st == 200, "a page of large rows (%s)" % st)
        seen += [r["seq"] for r in body["records"]]
        since, pages = body["next"], pages + 1
    check(pages >= 2 and seen == list(range(first, first + 700)),
          "large rows split over pages without loss (%d pages)" % pages)


def ready_handler(boot, seq):
    """A stand-in gateway answering /readyz with an enclave's receipt seq."""
    body = {"status": "ready", "mode": "dev", "boot_id": boot, "receipt_seq": seq}

    class Handler(JsonHandler):
        def do_GET(self):
            if self.path == "/readyz":
                self.reply(200, body)
            else:
                self.reply(404, {})

    return Handler


def main():
    if not os.path.exists(LAUNCH):
        print("skip: no sigil-launch next to", SIGIL)
        return 0
    with tempfile.TemporaryDirectory(prefix="sigil-audit-cli-") as tmp:
        try:
            tests(tmp)
        finally:
            for store in STORES:
                store.drop()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
