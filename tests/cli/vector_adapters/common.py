"""Helpers shared by the vector adapters."""
from urllib.parse import quote


def eq(got, want, what):
    assert got == want, f"{what}: expected {want!r}, got {got!r}"


def check_headers(out, want, ignore=()):
    """Every expected header (except ignored ones) must be in the output with
    the same value."""
    for k, v in want.items():
        if k in ignore:
            continue
        assert k in out["headers"], f"header {k} missing from {sorted(out['headers'])}"
        eq(out["headers"][k], v, f"header {k}")


def pct(s):
    return quote(s, safe="")
