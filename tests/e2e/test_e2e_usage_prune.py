#!/usr/bin/env python3
"""End to end: a gateway deletes limit usage reports older than two days
(SIGIL_USAGE_KEEP_MS) of every key, including keys that never sign again,
on its store keeper's timer: once at start-up, then every hour
(docs/POLICY.md "Limits across enclaves").

Rows are written into `limit_usage` behind the gateways' back (SQLite, or
PostgreSQL under tests/pg/run.sh): two reports older than two days (one key
with no other report, one beside a recent report of another boot) and two
recent ones (one just inside the two days). Then one more gateway starts on
the stack's store; its first prune (or the stack's own gateway's, if that
came later) must delete exactly the two old rows, keep the recent ones, and
log how many it deleted.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import Checks, TempStack, bin_dir_arg, new_key_id, now_ms, wait_for  # noqa: E402

KEEP_MS = 2 * 86400 * 1000  # SIGIL_USAGE_KEEP_MS
TENANT = "default"
LOGGED = re.compile(r"limit usage: (\d+) report\(s\) older than 48 h deleted")


def usage_rows(st):
    return sorted((r[0], bytes(r[1]).hex(), r[2]) for r in st.store_query(
        "SELECT key_id, boot_id, time_ms FROM limit_usage"))


def deleted_logged(st):
    n = 0
    for name in ("gateway", "gateway-prune"):
        path = st.logs.get(name)
        if path and os.path.exists(path):
            with open(path, errors="replace") as f:
                n += sum(int(m) for m in LOGGED.findall(f.read()))
    return n


def main():
    t = Checks()
    st = TempStack(bin_dir_arg())
    try:
        st.start()
        st.ensure_tenant(TENANT)
        now = now_ms()
        idle, busy = new_key_id(), new_key_id()
        old = [(idle, bytes([1]) * 16, now - KEEP_MS - 60_000),
               (busy, bytes([2]) * 16, now - KEEP_MS - 1)]
        recent = [(busy, bytes([3]) * 16, now - 1000),
                  (busy, bytes([4]) * 16, now - KEEP_MS + 600_000)]
        for key_id, boot, time_ms in old + recent:
            st.store_exec("INSERT INTO limit_usage (tenant, key_id, boot_id, seq, time_ms, report)"
                          " VALUES (?, ?, ?, ?, ?, ?)", (TENANT, key_id, boot, 1, time_ms, b"\xa0"))
        want = sorted((k, b.hex(), tm) for k, b, tm in recent)
        t.check("four usage reports stored", len(usage_rows(st)) == 4, usage_rows(st))
        st.primary().add_gateway("prune")
        got = wait_for(lambda: usage_rows(st) == want, 60, step=0.2)
        t.check("the old reports are deleted (a key that never signs again too), the recent kept",
                got, usage_rows(st))
        t.check("the gateways logged the two deletions",
                wait_for(lambda: deleted_logged(st) == 2, 30, step=0.2), deleted_logged(st))
    finally:
        st.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
