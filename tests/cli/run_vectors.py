#!/usr/bin/env python3
"""Runs one known-answer vector file through `sigil sign`.

usage: run_vectors.py SIGIL_BINARY tests/vectors/<venue>.json

The vector files are verbatim copies of ../shared/vectors/venues/<venue>.json
(independent implementations: official docs, ccxt, SDKs, ethers). Each venue
has an adapter in vector_adapters/<venue>.py exposing
    cases(doc, vectors_dir) -> iterable of Case
that turns every vector into a sigil request and the check of its output.
A vector an adapter cannot express through `sigil sign` must be listed by the
adapter in SKIPPED with the reason; every other vector must produce a case.
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile


class Case:
    def __init__(self, name, venue, credentials, request, check, network="mainnet"):
        self.name = name
        self.venue = venue
        self.credentials = credentials  # dict
        self.request = request  # dict or raw str
        self.check = check  # fn(output_dict) -> None, raises AssertionError
        self.network = network


def run_sigil(binary, venue, credentials, request, network="mainnet"):
    """Returns (exit code, stdout, stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(credentials, f)
        cred_path = f.name
    try:
        body = request if isinstance(request, (str, bytes)) else json.dumps(request)
        if isinstance(body, str):
            body = body.encode()
        p = subprocess.run(
            [binary, "sign", "--venue", venue, "--credentials", cred_path, "--network", network],
            input=body, capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    finally:
        os.unlink(cred_path)


def load_adapter(venue):
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "vector_adapters", venue + ".py")
    spec = importlib.util.spec_from_file_location("adapter_" + venue, path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, here)
    spec.loader.exec_module(mod)
    return mod


def main():
    binary, vector_file = sys.argv[1], sys.argv[2]
    venue_file = os.path.splitext(os.path.basename(vector_file))[0]
    with open(vector_file) as f:
        doc = json.load(f)
    adapter = load_adapter(venue_file)
    passed = failed = 0
    for case in adapter.cases(doc, os.path.dirname(os.path.abspath(vector_file))):
        rc, out, err = run_sigil(binary, case.venue, case.credentials, case.request, case.network)
        try:
            assert rc == 0, f"exit {rc}: {err.strip()}"
            case.check(json.loads(out))
            passed += 1
            print(f"ok   {venue_file}: {case.name}")
        except AssertionError as e:
            failed += 1
            print(f"FAIL {venue_file}: {case.name}\n     {e}")
    for name, why in getattr(adapter, "SKIPPED", {}).items():
        print(f"skip {venue_file}: {name} ({why})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
