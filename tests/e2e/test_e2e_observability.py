#!/usr/bin/env python3
"""End to end: gateway observability (issue 9, docs/OBSERVABILITY.md).

- /metrics parsed strictly (exposition grammar, one TYPE per family, no
  duplicate series, cumulative histogram buckets ending in +Inf == _count,
  bounded label names): counters and histograms move by exactly what
  allowed, denied and failed sign requests should add, checked against the
  requests this test sent and against the audit rows the gateway wrote.
- Request ids: a sane X-Request-Id is echoed and is on the request's log
  line (and on the audit-failure line logged while handling it); bad ones
  (charset, length, repeated) are replaced by a fresh 32-hex id.
- Every gateway log line is one JSON object with time, level and event;
  request lines carry method, route, status, duration and error code.
- Neither logs nor metrics contain the token, the credentials or key ids.
- /readyz is 503 for each not-ready reason: enclave not connected, enclave
  not booted (key service unreachable at boot), audit writes failing, key
  service down; and 200 once usable.
"""
import base64
import json
import math
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import (Checks, TempStack, bin_dir_arg, box_seal, new_key_id, now_ms,  # noqa: E402
                      payload, wait_for)

BINANCE = {"api_key": "obsApiKey0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789ab",
           "secret": "obsSecretZ0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789"}
OWNER = bytes(range(7, 39))
ID_RE = re.compile(r"^[0-9a-f]{32}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# ---- a strict Prometheus text parser ----------------------------------------------
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
HELP_RE = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")
ALLOWED_LABELS = {"route", "status", "venue", "decision", "code", "op", "le"}


class PromError(Exception):
    pass


def parse_value(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$", s):
        raise PromError(f"bad value {s!r}")
    return float(s)


def parse_prom(text):
    """{(name, ((label, value), ...)): value}, raising PromError on anything
    the text exposition format (0.0.4) does not allow."""
    if not text.endswith("\n"):
        raise PromError("no final newline")
    types, helps, series = {}, set(), {}
    for ln, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("# HELP "):
            m = HELP_RE.match(line)
            if not m or m.group(1) in helps:
                raise PromError(f"line {ln}: bad or repeated HELP: {line!r}")
            helps.add(m.group(1))
            continue
        if line.startswith("# TYPE "):
            m = TYPE_RE.match(line)
            if not m or m.group(1) in types:
                raise PromError(f"line {ln}: bad or repeated TYPE: {line!r}")
            types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise PromError(f"line {ln}: not a sample: {line!r}")
        name = m.group(1)
        labels = tuple(re.findall(LABEL, m.group(2) or ""))
        if len({k for k, _ in labels}) != len(labels):
            raise PromError(f"line {ln}: repeated label")
        if not {k for k, _ in labels} <= ALLOWED_LABELS:
            raise PromError(f"line {ln}: unexpected label name in {labels}")
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
                family = name[:-len(suffix)]
        if family not in types:
            raise PromError(f"line {ln}: sample {name} before/without its TYPE")
        if types[family] == "histogram" and family == name:
            raise PromError(f"line {ln}: bare histogram sample {name}")
        if types[family] == "counter" and not name.endswith("_total"):
            raise PromError(f"line {ln}: counter {name} does not end in _total")
        key = (name, tuple(sorted(labels)))
        if key in series:
            raise PromError(f"line {ln}: duplicate series {key}")
        series[key] = parse_value(m.group(m.lastindex))
    check_histograms(types, series)
    return series


def check_histograms(types, series):
    for fam, typ in types.items():
        if typ != "histogram":
            continue
        groups = {}
        for (name, labels), v in series.items():
            if name == fam + "_bucket":
                rest = tuple(kv for kv in labels if kv[0] != "le")
                le = dict(labels).get("le")
                if le is None:
                    raise PromError(f"{fam}: bucket without le")
                groups.setdefault(rest, []).append((parse_value(le), v))
        if not groups:
            raise PromError(f"{fam}: no buckets")
        for rest, buckets in groups.items():
            les = [le for le, _ in buckets]
            if les != sorted(les) or les[-1] != math.inf:
                raise PromError(f"{fam}{rest}: le not ascending to +Inf")
            counts = [v for _, v in buckets]
            if counts != sorted(counts):
                raise PromError(f"{fam}{rest}: buckets not cumulative")
            rest = tuple(sorted(rest))
            if series.get((fam + "_count", rest)) != counts[-1]:
                raise PromError(f"{fam}{rest}: _count != +Inf bucket")
            if (fam + "_sum", rest) not in series:
                raise PromError(f"{fam}{rest}: no _sum")


def get(series, name, **labels):
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(a, b, name, **labels):
    return get(b, name, **labels) - get(a, name, **labels)


# ---- helpers ------------------------------------------------------------------------
def metrics(st):
    s, hd, body = st.http().request("GET", "/metrics", token=None, raw=True)
    text = body.decode()
    return s, hd, text, parse_prom(text)


def policy():
    return {"version": 1, "tenant": "default", "venue": "binance", "network": "mainnet",
            "actions": ["order", "cancel", "read"], "not_after": int(time.time()) + 86400}


def order():
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=100",
            "timestamp": now_ms(), "recv_window": 5000}


def withdraw():
    return {"method": "POST", "path": "/sapi/v1/capital/withdraw/apply", "query": "",
            "body": "coin=USDT&network=TRX&address=TXYZ&amount=10",
            "timestamp": now_ms(), "recv_window": 5000}


def code_of(b):
    return b.get("error", {}).get("code") if isinstance(b, dict) else None


def log_lines(st):
    with open(st.logs["gateway"], "rb") as f:
        return f.read().decode("utf-8", errors="replace").splitlines()


def log_records(st):
    out = []
    for line in log_lines(st):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def find_log(st, pred, deadline_s=5):
    """The first JSON log record matching pred (the log is flushed every 100 ms)."""
    return wait_for(lambda: next((r for r in log_records(st) if pred(r)), None), deadline_s)


def audit_count(h):
    n, since = 0, 0
    while True:
        s, _, b = h.request("GET", f"/v1/audit?since={since}&limit=1000")
        if s != 200:
            raise AssertionError(f"/v1/audit: {s} {b}")
        n += len(b["records"])
        if b["next"] is None:
            return n
        since = b["next"]


def readyz(st):
    s, _, b = st.http().request("GET", "/readyz", token=None)
    msg = b.get("error", {}).get("message", "") if isinstance(b, dict) else ""
    return s, msg


def raw_request(url_host, port, head):
    """One HTTP/1.1 request written byte for byte (repeated headers)."""
    with socket.create_connection((url_host, port), timeout=30) as s:
        s.sendall(head.encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head_text = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head_text.split(" ", 2)[1])
    hdrs = {}
    for line in head_text.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return status, hdrs


# ---- the checks ---------------------------------------------------------------------
def check_sign_metrics(st, h, t, key_id):
    rows0 = audit_count(h)
    _, _, _, m0 = metrics(st)
    sent = {"allow": 0, "deny": 0, "unknown_key": 0, "bad_json": 0}
    for _ in range(3):
        s, _, b = h.request("POST", "/v1/sign", {"key_id": key_id, "request": order()})
        t.check("allowed order → 200 signed", s == 200 and "signed" in b, (s, b))
        sent["allow"] += 1
    for _ in range(2):
        s, _, b = h.request("POST", "/v1/sign", {"key_id": key_id, "request": withdraw()})
        t.check("withdraw → 422 policy_denied", s == 422 and code_of(b) == "policy_denied",
                (s, b))
        sent["deny"] += 1
    s, _, b = h.request("POST", "/v1/sign", {"key_id": new_key_id(), "request": order()})
    t.check("unknown key → 404 not_found", s == 404 and code_of(b) == "not_found", (s, b))
    sent["unknown_key"] += 1
    s, _, b = h.request("POST", "/v1/sign", '{"key_id": "x", "request": ')
    t.check("truncated body → 400 bad_json", s == 400 and code_of(b) == "bad_json", (s, b))
    sent["bad_json"] += 1
    rows1 = audit_count(h)
    status, hd, text, m1 = metrics(st)
    t.check("/metrics → 200 text/plain 0.0.4",
            status == 200 and hd.get("Content-Type", "").startswith("text/plain; version=0.0.4"))
    n_sign = sum(sent.values())
    D = "sigil_sign_decisions_total"
    expect = [
        ((D, dict(venue="binance", decision="allow", code="none")), sent["allow"]),
        ((D, dict(venue="binance", decision="deny", code="policy_denied")), sent["deny"]),
        ((D, dict(venue="none", decision="error", code="not_found")), sent["unknown_key"]),
        ((D, dict(venue="none", decision="error", code="bad_json")), sent["bad_json"]),
        (("sigil_http_requests_total", dict(route="POST /v1/sign", status="200")), 3),
        (("sigil_http_requests_total", dict(route="POST /v1/sign", status="422")), 2),
        (("sigil_http_requests_total", dict(route="POST /v1/sign", status="404")), 1),
        (("sigil_http_requests_total", dict(route="POST /v1/sign", status="400")), 1),
        (("sigil_sign_duration_seconds_count", {}), n_sign),
        # allowed and denied orders reach the enclave; unknown key and bad JSON do not
        (("sigil_enclave_call_duration_seconds_count", dict(op="sign")),
         sent["allow"] + sent["deny"]),
        (("sigil_enclave_call_duration_seconds_count", dict(op="import")), 0),
        # every sign past authentication is one audit row, one audit write
        (("sigil_audit_write_duration_seconds_count", {}), rows1 - rows0),
        (("sigil_audit_batch_records_sum", {}), rows1 - rows0),
        (("sigil_audit_write_failures_total", {}), 0),
    ]
    for (name, labels), want in expect:
        got = delta(m0, m1, name, **labels)
        t.check(f"metrics: {name}{labels} moved by {want}", got == want, got)
    t.check("audit rows written for every sign request", rows1 - rows0 == n_sign,
            (rows0, rows1))
    total = sum(v for (n, _), v in m1.items() if n == D) - sum(
        v for (n, _), v in m0.items() if n == D)
    t.check("sign decisions: no other series moved", total == n_sign, total)
    sums = delta(m0, m1, "sigil_enclave_call_duration_seconds_sum", op="sign")
    t.check("enclave sign histogram: sum grew (> 0 s)", sums > 0, sums)
    le_inf = delta(m0, m1, "sigil_enclave_call_duration_seconds_bucket", op="sign", le="+Inf")
    t.check("enclave sign histogram: +Inf bucket moved with _count", le_inf == 5, le_inf)
    batches = delta(m0, m1, "sigil_audit_batch_records_count")
    t.check("group commit: between 1 and n batches for n records",
            1 <= batches <= rows1 - rows0, batches)
    cap = get(m1, "sigil_enclave_pool_capacity")
    t.check("enclave pool: capacity known, idle in use 0, high-water ≥ 1",
            cap >= 1 and get(m1, "sigil_enclave_pool_in_use") == 0
            and 1 <= get(m1, "sigil_enclave_pool_in_use_max") <= cap,
            (cap, get(m1, "sigil_enclave_pool_in_use"), get(m1, "sigil_enclave_pool_in_use_max")))
    t.check("enclave connections gauge ≥ 1", get(m1, "sigil_enclave_connections") >= 1)
    t.check("pool-full counter present and 0", ("sigil_enclave_pool_full_total", ()) in m1
            and get(m1, "sigil_enclave_pool_full_total") == 0)
    return text


def check_request_ids(st, t):
    h = st.http()
    good = "test-Req_1.2:abc"
    s, hd, _ = h.request("GET", "/healthz", token=None, headers={"X-Request-Id": good})
    t.check("X-Request-Id: a sane id is echoed", s == 200 and hd.get("X-Request-Id") == good, hd)
    rec = find_log(st, lambda r: r.get("event") == "request" and r.get("request_id") == good)
    t.check("X-Request-Id: on the request's log line (route, status, duration)",
            rec is not None and rec.get("route") == "GET /healthz" and rec.get("status") == 200
            and rec.get("method") == "GET" and isinstance(rec.get("duration_ms"), float), rec)
    bad = {"space": "bad id", "quote": 'a"b', "too long (65)": "a" * 65, "slash": "a/b",
           "latin-1": "caf\xe9", "empty": ""}
    seen = set()
    for what, value in bad.items():
        s, hd, _ = h.request("GET", "/healthz", token=None, headers={"X-Request-Id": value})
        rid = hd.get("X-Request-Id", "")
        t.check(f"X-Request-Id {what}: replaced by a fresh 32-hex id",
                s == 200 and ID_RE.match(rid) is not None and rid != value, (value, rid))
        seen.add(rid)
    s, hd, _ = h.request("GET", "/healthz", token=None, headers={"X-Request-Id": "a" * 64})
    t.check("X-Request-Id of 64 bytes (the limit) is kept", hd.get("X-Request-Id") == "a" * 64)
    host, port = h.host, h.port
    status, hdrs = raw_request(host, port, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                               "X-Request-Id: one\r\nX-Request-Id: two\r\n"
                               "Connection: close\r\n\r\n")
    rid = hdrs.get("x-request-id", [""])
    t.check("X-Request-Id given twice: replaced, one header in the response",
            status == 200 and len(rid) == 1 and ID_RE.match(rid[0]), hdrs)
    for _ in range(2):
        s, hd, _ = h.request("GET", "/healthz", token=None)
        seen.add(hd.get("X-Request-Id", ""))
    t.check("generated ids are distinct", len(seen) == len(bad) + 2, seen)
    s, hd, b = h.request("GET", "/nowhere", token=None, headers={"X-Request-Id": "nf-1"})
    rec = find_log(st, lambda r: r.get("request_id") == "nf-1")
    t.check("unmatched route: 404, id echoed, log line with route unmatched and error code",
            s == 404 and hd.get("X-Request-Id") == "nf-1" and rec is not None
            and rec.get("route") == "unmatched" and rec.get("error") == "not_found", (hd, rec))
    big = "x" * (70 << 10)
    s, hd, b = h.request("POST", "/v1/sign", big, headers={"X-Request-Id": "big-1"})
    t.check("413 before dispatch: the id is echoed too",
            s == 413 and hd.get("X-Request-Id") == "big-1", (s, hd))


def check_audit_failure(st, h, t, key_id):
    """The store refuses audit writes (another writer holds the store's lock
    longer than the gateway waits: TempStack.store_locked): 503
    audit_unavailable, counted, logged as a warning with the request id, and
    /readyz names the store."""
    _, _, _, m0 = metrics(st)
    ready = None
    codes = []
    with st.store_locked():
        for i in range(4):  # each failure restarts the hold; stop once /readyz shows it
            s, hd, b = h.request("POST", "/v1/sign", {"key_id": key_id, "request": order()},
                                 headers={"X-Request-Id": f"audit-fail-{i}"})
            codes.append((s, code_of(b)))
            r = readyz(st)
            if r[0] == 503 and r[1].startswith("store: an audit write failed"):
                ready = r
                break
    n = len(codes)
    t.check("audit write blocked → 503 audit_unavailable",
            all(c == (503, "audit_unavailable") for c in codes), codes)
    t.check("/readyz → 503 'store: an audit write failed …' while writes fail",
            ready is not None, readyz(st))
    _, _, _, m1 = metrics(st)
    t.check("metrics: sigil_audit_write_failures_total counts them",
            delta(m0, m1, "sigil_audit_write_failures_total") == n)
    t.check("metrics: decision error/audit_unavailable for venue binance",
            delta(m0, m1, "sigil_sign_decisions_total", venue="binance", decision="error",
                  code="audit_unavailable") == n)
    rec = find_log(st, lambda r: r.get("event") == "audit"
                   and r.get("request_id") == "audit-fail-0")
    t.check("audit failure: warn line with the request's id",
            rec is not None and rec.get("level") == "warn"
            and "response withheld" in rec.get("msg", ""), rec)
    req = find_log(st, lambda r: r.get("event") == "request" and
                   r.get("request_id") == "audit-fail-0")
    t.check("audit failure: request line status 503, error audit_unavailable, venue binance",
            req is not None and req.get("status") == 503
            and req.get("error") == "audit_unavailable" and req.get("venue") == "binance", req)
    back = wait_for(lambda: readyz(st)[0] == 200, 30, 0.25)
    t.check("store writable again: /readyz 200 after the hold", back, readyz(st))
    s, _, b = h.request("POST", "/v1/sign", {"key_id": key_id, "request": order()})
    t.check("store writable again → signed", s == 200 and "signed" in b, (s, b))


def check_logs(st, t, secrets):
    lines = [x for x in log_lines(st) if x.strip()]
    bad = []
    records = []
    for line in lines:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            bad.append(line)
            continue
        records.append(r)
        if not (isinstance(r, dict) and TIME_RE.match(str(r.get("time", "")))
                and r.get("level") in ("info", "warn", "error")
                and isinstance(r.get("event"), str) and r["event"]):
            bad.append(line)
    t.check(f"gateway log: every line ({len(lines)}) is a JSON object with time, level, event",
            not bad and len(records) > 20, bad[:3])
    req = [r for r in records if r.get("event") == "request"]
    fields_ok = all(ID_RE.match(r.get("request_id", "")) or r.get("request_id")
                    for r in req) and all(
        isinstance(r.get("status"), int) and isinstance(r.get("duration_ms"), float)
        and isinstance(r.get("route"), str) for r in req)
    t.check("request lines: request_id, route, status, duration_ms on each", req and fields_ok)
    errs = [r for r in req if r["status"] >= 400]
    t.check("request lines of errors carry the error code",
            errs and all(isinstance(r.get("error"), str) for r in errs),
            [r for r in errs if "error" not in r][:3])
    msgs = [r for r in records if r.get("event") == "enclave"]
    t.check("enclave messages keep their text as msg (event enclave)",
            any("ready (protocol v" in r.get("msg", "") for r in msgs), msgs[:2])
    text = "\n".join(lines)
    leaks = [name for name, s in secrets.items() if s in text]
    t.check("no token, credential or sealed payload in the log", not leaks, leaks)


def check_not_ready_reasons(bin_dir, t):
    """A second stack, started piece by piece: no enclave yet; then an
    enclave whose key service is gone (it cannot boot)."""
    st = TempStack(bin_dir)
    try:
        for d in (st.home, st.run_dir, st.log_dir):
            os.makedirs(d, mode=0o700, exist_ok=True)
        st.start_kms()
        st.start_gateway()
        r = wait_for(lambda: (lambda x: x if x[0] == 503 else None)(readyz(st)), 10)
        t.check("no enclave: /readyz 503 'enclave: not connected'",
                r is not None and r[1].startswith("enclave: not connected"), r)
        _, _, _, m = metrics(st)
        t.check("no enclave: sigil_enclave_connections 0",
                get(m, "sigil_enclave_connections") == 0)
        st.procs["kms"].terminate()
        st.procs["kms"].wait(timeout=10)
        st.start_launch()
        r = wait_for(lambda: (lambda x: x if "not booted" in x[1] else None)(readyz(st)), 30)
        t.check("enclave up, key service gone at boot: /readyz 503 'enclave: not booted (…)'",
                r is not None and r[0] == 503, r or readyz(st))
        never = wait_for(lambda: readyz(st)[0] == 200, 2)
        t.check("…and never 200 meanwhile", not never)
    finally:
        st.cleanup()


def check_kms_down(st, t):
    st.procs["kms"].terminate()
    st.procs["kms"].wait(timeout=10)
    r = wait_for(lambda: (lambda x: x if x[0] == 503 else None)(readyz(st)), 15)
    t.check("key service down: /readyz 503 'key service: down'",
            r is not None and r[1] == "key service: down", r)


def main():
    bin_dir = bin_dir_arg()
    t = Checks()
    st = TempStack(bin_dir)
    try:
        st.start()
        h = st.http()
        s, _, att = h.request("GET", "/v1/attestation?nonce=" + "ab" * 16)
        key_id = new_key_id()
        raw = payload("default", "binance", "mainnet", "hmac", BINANCE, policy(), OWNER,
                      key_id=key_id)
        sealed = base64.b64encode(box_seal(bytes.fromhex(att["sealing_key"]), raw)).decode()
        _, _, _, m0 = metrics(st)
        s, _, b = h.request("POST", "/v1/keys", {"sealed": sealed})
        t.check("key provisioned", s == 201, (s, b))
        _, _, _, m1 = metrics(st)
        t.check("metrics: one enclave import call",
                delta(m0, m1, "sigil_enclave_call_duration_seconds_count", op="import") == 1)
        text = check_sign_metrics(st, h, t, key_id)
        check_request_ids(st, t)
        check_audit_failure(st, h, t, key_id)
        _, _, text2, _ = metrics(st)
        secrets = {"token": st.token, "token secret": st.token.split("_")[-1],
                   "api_key": BINANCE["api_key"], "secret": BINANCE["secret"],
                   "sealed upload": sealed[:64]}
        leaks = [n for n, s in {**secrets, "key id": key_id, "tenant": 'default"'}.items()
                 if s in text or s in text2]
        t.check("/metrics: no token, credential, key id or tenant", not leaks, leaks)
        check_kms_down(st, t)
        st.stop()  # flushes the log
        check_logs(st, t, secrets)
    finally:
        st.cleanup()
    check_not_ready_reasons(bin_dir, t)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
