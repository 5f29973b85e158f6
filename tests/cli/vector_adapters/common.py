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


def check_headers_exact(out, want, ignore=()):
    """The output headers are exactly the expected ones (minus ignored ones),
    in the same order, byte for byte."""
    want_items = [(k, v) for k, v in want.items() if k not in ignore]
    eq(list(out["headers"].items()), want_items, "headers")


def check_url(out, url):
    """The output's path and query form the vector's URL (host aside)."""
    target = out["path"] + ("?" + out["query"] if out["query"] else "")
    rest = url.split("://", 1)[-1]
    eq(target, rest[rest.index("/"):], "url")
