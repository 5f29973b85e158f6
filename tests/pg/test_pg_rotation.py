#!/usr/bin/env python3
"""Measurement rotation rehearsed in dev mode on one PostgreSQL store (run by
tests/pg/run.sh): docs/OPERATIONS.md "PCR0 rotation", with zero failed
requests.

Pair OLD runs the build's enclave (measurement M1) and serves client
threads (failover SDK, one Idempotency-Key per request). Then, under that
load:
1. an enclave with another measurement M2 is made (the binary with bytes
   appended: same code, another dev measurement);
2. the key policy allows both M1 and M2;
3. pair NEW starts on M2: its enclave decrypts the stored seed, so it has
   the same sealing key and signs the key sealed through OLD;
4. traffic moves: the clients' URL lists become [NEW, OLD], then, once
   every thread has finished a request on the new list (OLD drained), [NEW];
5. OLD stops (gateway first, then its enclave);
6. M1 leaves the key policy, and an M1 enclave started again is refused its
   seed by the key service (Decrypt deny, /readyz 503, no signature).
Afterwards: no request failed, every signature verifies offline, the audit
log has one 200 row per request (none twice), one hash chain, and
`sigil audit verify --store` finds no problem in either boot.

usage: test_pg_rotation.py BIN_DIR   (SIGIL_TEST_STORE=pg, SIGIL_TEST_PG_URL set)
"""
import collections
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_util import Http, now_ms, run_on_pg_stack, wait_for  # noqa: E402
from test_e2e_faults import binance_request, verify_binance  # noqa: E402
from test_pg_gateways import check_chain  # noqa: E402
from test_pg_pairs import THREADS, Load, audit_verify, boot_of, seal_binance  # noqa: E402

PER_STEP = 40  # completed requests between the steps


def sealing_key(url, token):
    s, _, b = Http(url, token).request("GET", "/v1/attestation?nonce=" + "00" * 32)
    return b.get("sealing_key") if s == 200 else None


def kms_log(st, start):
    with open(st.logs["kms"], "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


def step(t, load, what):
    before = len(load.done)
    t.check(f"{what}; {PER_STEP} more requests complete", load.wait_done(before + PER_STEP),
            len(load.done) - before)


def run(st, t):
    key_id = seal_binance(st)
    old = st.primary()
    m1 = old.measurement
    urls = [[old.url]]
    load = Load(st, key_id, lambda i: urls[0])
    load.start()
    try:
        step(t, load, "OLD (M1) serves the load")
        boots = {"OLD": boot_of(old.url)}
        m2_exe = st.enclave_variant(st.path("sigil-enclave-m2"), "rotation-rehearsal")
        m2 = st.measurement(m2_exe)
        t.check("the variant enclave has another measurement", len(m2) == 96 and m2 != m1,
                (m1, m2))
        st.allow_measurements([m1, m2])
        new = st.add_pair("new", enclave_exe=m2_exe)
        t.check("NEW runs measurement M2", new.measurement == m2, new.launch)
        boots["NEW"] = boot_of(new.url)
        t.check("NEW has OLD's sealing key (the same seed from the store)",
                sealing_key(new.url, st.token) not in (None, "")
                and sealing_key(new.url, st.token) == sealing_key(old.url, st.token))
        probe = binance_request(now_ms(), "new-first")
        s, _, body = Http(new.url, st.token).request("POST", "/v1/sign",
                                                     {"key_id": key_id, "request": probe})
        t.check("NEW signs with the key sealed through OLD",
                s == 200 and verify_binance(probe, body.get("signed")) is None, (s, body))
        step(t, load, "both allowed, traffic still on OLD")
        urls[0] = [new.url, old.url]
        # drained: every thread has finished two more requests (its second one
        # started on the new list), so nothing is still in flight on OLD
        marks = list(load.count)
        step(t, load, "traffic moved to NEW (OLD as fallback)")
        drained = wait_for(lambda: all(load.count[i] >= marks[i] + 2 for i in range(THREADS)),
                           timeout=60)
        t.check("OLD drained (every client thread has finished a request on NEW)", drained)
        urls[0] = [new.url]
        step(t, load, "OLD out of the clients' lists")
        old.stop()
        t.check("OLD stopped (gateway, then enclave)", not old.running())
        step(t, load, "OLD stopped")
        st.allow_measurements([m2])
        kms_start = os.path.getsize(st.logs["kms"])
        again = st.add_pair("m1-again", wait=False)
        deny = wait_for(lambda: "Decrypt deny" in kms_log(st, kms_start), timeout=60)
        t.check("M1 removed: an M1 enclave started again is refused the seed (Decrypt deny)",
                deny and "Decrypt allow" not in kms_log(st, kms_start), kms_log(st, kms_start))
        s, _, b = Http(again.url, st.token).request("GET", "/readyz", token=None)
        t.check("M1 removed: its gateway is not ready (503)", s == 503, (s, b))
        s, _, b = Http(again.url, st.token).request(
            "POST", "/v1/sign", {"key_id": key_id, "request": binance_request(now_ms(), "m1")})
        t.check("M1 removed: no signature through it", s != 200 and "signed" not in (b or {}),
                (s, b))
        again.stop()
        step(t, load, "M1 refused")
    finally:
        load.finish()

    done, failed = load.done, load.failed
    print(f"     {len(done)} requests completed, {len(failed)} failed")
    t.check("zero failed requests through the rotation", not failed,
            [(k, repr(e)) for k, e in failed[:5]])
    bad = [(k, why) for k, req, res in done
           if (why := verify_binance(req, res.signed)) is not None]
    t.check(f"all {len(done)} signatures verify offline (independent HMAC)", not bad, bad[:3])
    signed_by = collections.Counter(r.receipt["boot_id"] for _, _, r in done)
    t.check("the load was signed by OLD's boot, then NEW's, and no other",
            set(signed_by) == set(boots.values()), (dict(signed_by), boots))
    rows = check_chain(t, st, st.store_query("SELECT COUNT(*) FROM audit")[0][0])
    print(f"     audit rows other than 200: "
          f"{dict(collections.Counter((r[4], r[7], r[8]) for r in rows if r[7] != 200))}")
    ok_rows = collections.Counter(r[9] for r in rows if r[4] == "sign" and r[7] == 200)
    want = {hashlib.sha256(res.request_text.encode()).digest() for _, _, res in done}
    t.check("audit: one 200 sign row per request (and the probe), none twice",
            want <= set(ok_rows) and len(set(ok_rows) - want) == 1
            and max(ok_rows.values()) == 1, len(ok_rows))
    rc, rep = audit_verify(st)
    t.check("sigil audit verify --store: ok, every row, OLD's and NEW's boots",
            rc == 0 and rep.get("ok") is True and rep.get("rows") == len(rows)
            and rep.get("boots") == 2, rep)


def main():
    return run_on_pg_stack(run)


if __name__ == "__main__":
    sys.exit(main())
