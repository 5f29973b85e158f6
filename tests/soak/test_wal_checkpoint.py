#!/usr/bin/env python3
"""Regression test: the gateway's background WAL checkpoint copies the WAL
into the database.

  python3 tests/soak/test_wal_checkpoint.py BIN_DIR

Signs 1000 Binance requests through a dev stack, then leaves the gateway idle
for 3 s, which is three periods of its checkpoint thread. Every page of the
database must then be in sigil.db itself. Found by the soak suite: under its
load, sigil.db stayed at 4096 bytes while sigil.db-wal reached 2 GiB and
filled the store, because checkpointer_start() opened its connection and
never read through it: a SQLite connection that has not read the database has
not opened the WAL, so sqlite3_wal_checkpoint_v2() on it returned SQLITE_OK
and copied nothing. The checkpoint connection now reads the schema version
first (src/gateway/store_sqlite.c).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_util import Checks, TempStack, now_ms  # noqa: E402
from test_e2e_faults import binance_request, seal_binance, verify_binance  # noqa: E402
from wal_check import pages_outside_main, wal_size  # noqa: E402

SIGNS = 1000


def sign_then_idle(st, t):
    key_id = seal_binance(st)
    h = st.http()
    ok = 0
    for i in range(SIGNS):
        req = binance_request(now_ms(), tag=f"wal{i}")
        status, _, body = h.request("POST", "/v1/sign", {"key_id": key_id, "request": req})
        ok += status == 200 and verify_binance(req, body.get("signed")) is None
    t.check(f"{SIGNS} verified signatures", ok == SIGNS, ok)
    db = os.path.join(st.home, "sigil.db")
    time.sleep(3)
    in_file, total = pages_outside_main(db)
    print(f"     sigil.db holds {in_file} of the database's {total} pages; "
          f"sigil.db-wal is {wal_size(db)} bytes")
    t.check("after 3 s idle the gateway has checkpointed its WAL (every page in sigil.db)",
            in_file >= total, (in_file, total))


def main():
    t = Checks()
    st = TempStack(sys.argv[1], gateway_args=["--rate", "1000000", "--burst", "1000000"])
    try:
        st.start()
        sign_then_idle(st, t)
    finally:
        st.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
