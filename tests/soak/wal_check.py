"""Is the gateway's WAL checkpointed? The gateway disables SQLite's
autocheckpoint and checkpoints from a background thread every second
(src/gateway/store_sqlite.c). If that thread does nothing, the WAL grows
without bound and the store fills up. Under the soak's load that takes a
few minutes on a 2 GiB tmpfs.

pages_outside_main(db) -> (pages in sigil.db itself, pages the database has),
read without writing anything. Once the checkpoint has run on an idle
gateway, the two numbers are equal.
"""
import os
import sqlite3
import struct


def pages_outside_main(db_path):
    with open(db_path, "rb") as f:
        header = f.read(100)
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    in_file = os.path.getsize(db_path) // page_size
    ro = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        total = ro.execute("PRAGMA page_count").fetchone()[0]
    finally:
        ro.close()
    return in_file, total


def wal_size(db_path):
    try:
        return os.path.getsize(db_path + "-wal")
    except OSError:
        return 0
