"""Sustained signing load for the soak suite, and the classification of every
answer: a 200 whose signature checks out against an independent signer, a
typed API error (docs/API.md: a JSON error code that belongs to its HTTP
status), or a failure (anything else: a wrong signature, a dropped
connection, a 5xx without a code, a code that is not the status's).

Workers are processes (the Hyperliquid check is pure Python and would hold
the GIL); each keeps one keep-alive connection and reports its tallies at
the end through a queue, and its live counters through shared memory.
"""
import http.client
import json
import multiprocessing as mp
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import hl_verify  # noqa: E402
from e2e_util import now_ms  # noqa: E402
from test_e2e_faults import binance_request, verify_binance  # noqa: E402

# docs/API.md "Errors": the codes each status may carry.
STATUS_CODES = {
    400: {"bad_json", "bad_request", "duplicate_key", "missing_field", "unknown_field",
          "bad_field", "out_of_range", "bad_encoding", "unknown_venue", "unknown_key_type",
          "bad_credentials", "bad_address"},
    401: {"unauthorized"},
    403: {"forbidden", "bad_signature"},
    404: {"not_found"},
    405: {"bad_request"},
    409: {"conflict"},
    413: {"too_large"},
    422: {"policy_denied", "stale_request"},
    429: {"rate_limited"},
    500: {"internal", "crypto_error"},
    502: {"protocol_error"},
    503: {"unavailable", "audit_unavailable", "access_denied", "key_service_error",
          "attestation_failed", "io_error", "no_memory"},
    504: {"timeout"},
}

HL_KEY = "0x" + "7d1f6c3f0a4b2e9d8c5a6b7e1f203948a5b6c7d8e9f0a1b2c3d4e5f60718293a"
HL_ACTION = {"type": "order", "orders": [{"a": 0, "b": True, "p": "30000", "s": "0.1",
                                          "r": False, "t": {"limit": {"tif": "Gtc"}}}],
             "grouping": "na"}


def hl_request(nonce, rng):
    action = json.loads(json.dumps(HL_ACTION))
    action["orders"][0]["p"] = str(29000 + rng.randrange(2000))
    return {"action": action, "nonce": nonce}


def verify_hl(req, signed, address):
    """None if `signed` is `req` signed by the key of `address` (mainnet)."""
    if not isinstance(signed, dict):
        return f"signed is not an object: {signed!r}"
    if json.dumps(signed.get("action")) != json.dumps(req["action"]) \
            or signed.get("nonce") != req["nonce"]:
        return "signed another action or nonce"
    sig = signed.get("signature")
    if not isinstance(sig, dict) or not all(k in sig for k in ("r", "s", "v")):
        return f"no signature: {sig!r}"
    try:
        got = hl_verify.recover_l1_signer(signed["action"], signed["nonce"], sig, True,
                                          signed.get("vaultAddress"))
    except (ValueError, TypeError) as e:
        return f"signature does not parse: {e}"
    if got != address.lower():
        return f"signature recovers {got}, not {address.lower()}"
    return None


def classify(status, data):
    """('ok', parsed) | ('typed', 'STATUS code') | ('untyped', detail)."""
    try:
        parsed = json.loads(data) if data else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        parsed = None
    if status == 200:
        return "ok", parsed
    err = parsed.get("error") if isinstance(parsed, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    msg = err.get("message") if isinstance(err, dict) else None
    if code in STATUS_CODES.get(status, ()) and isinstance(msg, str) and msg \
            and "signed" not in parsed:
        return "typed", f"{status} {code}"
    return "untyped", f"status {status} body {data[:160]!r}"


class Shared:
    """Counters the controller reads while the load runs."""

    def __init__(self, workers):
        self.stop = mp.Event()
        self.restarting = mp.Value("i", 0)  # 1 while the suite restarts the gateway
        self.ok = mp.Array("q", workers, lock=False)
        self.failed = mp.Array("q", workers, lock=False)  # typed + untyped
        self.untyped = mp.Array("q", workers, lock=False)

    def total(self, name):
        return sum(getattr(self, name))


class Tally:
    def __init__(self):
        self.sent = self.ok = self.wrong = self.refused_restarting = 0
        self.typed = {}
        self.untyped = 0
        self.samples = []  # (time, what) for failures, at most 20
        self.receipts = []  # (boot_id, seq) of every verified 200

    def note(self, what):
        if len(self.samples) < 20:
            self.samples.append((time.time(), what))


def worker(idx, venue, url_host, url_port, token, key_id, address, shared, out_q, seed):
    rng = random.Random(seed * 1000 + idx)
    tally = Tally()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = None
    n = 0
    while not shared.stop.is_set():
        n += 1
        if venue == "binance":
            req = binance_request(now_ms(), tag=f"w{idx}n{n}")
        else:
            req = hl_request(now_ms(), rng)
        body = json.dumps({"key_id": key_id, "request": req}, separators=(",", ":"))
        restarting = shared.restarting.value
        tally.sent += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url_host, url_port, timeout=60)
            conn.request("POST", "/v1/sign", body=body, headers=headers)
            r = conn.getresponse()
            status, data = r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            if conn is not None:
                conn.close()
            conn = None
            if restarting or shared.restarting.value:
                tally.refused_restarting += 1  # not a request: the gateway was down
                tally.sent -= 1
            else:
                tally.untyped += 1
                shared.untyped[idx] += 1
                shared.failed[idx] += 1
                tally.note(f"worker {idx} ({venue}) request {n}: no response: {e!r}")
            time.sleep(0.05)
            continue
        kind, what = classify(status, data)
        if kind == "ok":
            signed = what.get("signed") if isinstance(what, dict) else None
            problem = verify_binance(req, signed) if venue == "binance" \
                else verify_hl(req, signed, address)
            if problem is None and what.get("key_id") != key_id:
                problem = f"key_id {what.get('key_id')!r}"
            if problem is None:
                tally.ok += 1
                shared.ok[idx] += 1
                rc = what.get("receipt") or {}
                tally.receipts.append((rc.get("boot_id"), rc.get("seq")))
            else:
                tally.wrong += 1
                shared.untyped[idx] += 1
                shared.failed[idx] += 1
                tally.note(f"worker {idx} ({venue}): 200 with a wrong signature: {problem}")
        else:
            shared.failed[idx] += 1
            if kind == "typed":
                tally.typed[what] = tally.typed.get(what, 0) + 1
            else:
                tally.untyped += 1
                shared.untyped[idx] += 1
                tally.note(f"worker {idx} ({venue}): {what}")
            time.sleep(0.02)  # do not spin on a refusing gateway
    if conn is not None:
        conn.close()
    out_q.put((idx, venue, tally.__dict__))


class Load:
    """W worker processes: every fourth signs Hyperliquid, the others Binance."""

    def __init__(self, url, token, keys, workers, seed):
        from urllib.parse import urlparse
        u = urlparse(url)
        self.shared = Shared(workers)
        self.q = mp.Queue()
        self.procs = []
        for i in range(workers):
            venue = "hyperliquid" if i % 4 == 3 else "binance"
            key_id, address = keys[venue]
            self.procs.append(mp.Process(
                target=worker, daemon=True,
                args=(i, venue, u.hostname, u.port, token, key_id, address, self.shared, self.q,
                      seed)))

    def start(self):
        for p in self.procs:
            p.start()

    def finish(self):
        """Stops the workers; returns [(idx, venue, tally dict)]."""
        self.shared.stop.set()
        results = []
        deadline = time.monotonic() + 90
        while len(results) < len(self.procs) and time.monotonic() < deadline:
            try:
                results.append(self.q.get(timeout=5))
            except Exception:  # queue.Empty
                if not any(p.is_alive() for p in self.procs):
                    break
        for p in self.procs:
            p.join(10)
        return results


def probe_sign(url, token, key_id, tries=120, pause=0.25):
    """Signs Binance requests on fresh connections until one verifies.
    Returns (attempts, last problem or None, [untyped answers seen])."""
    from urllib.parse import urlparse
    u = urlparse(url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    last, untyped = None, []
    for attempt in range(1, tries + 1):
        req = binance_request(now_ms(), tag=f"probe{attempt}")
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("POST", "/v1/sign", headers=headers,
                         body=json.dumps({"key_id": key_id, "request": req}))
            r = conn.getresponse()
            kind, what = classify(r.status, r.read())
            if kind == "ok":
                last = verify_binance(req, what.get("signed") if isinstance(what, dict) else None)
                if last is None:
                    return attempt, None, untyped
                untyped.append(f"probe: 200 with a wrong signature: {last}")
            else:
                last = what
                if kind == "untyped":
                    untyped.append(f"probe: {what}")
        except (OSError, http.client.HTTPException) as e:
            last = f"no response: {e!r}"
            untyped.append(f"probe: {last}")
        finally:
            conn.close()
        time.sleep(pause)
    return tries, last, untyped
