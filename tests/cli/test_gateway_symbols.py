#!/usr/bin/env python3
"""sigil-gateway is untrusted: it must not contain code that handles
plaintext secrets. Checks the symbols of the sigil-gateway executable
(found beside bin/sigil) and the shared libraries it needs.

usage: test_gateway_symbols.py PATH/TO/bin/sigil TESTS_DIR
"""
import os
import subprocess
import sys

FORBIDDEN_SYMBOLS = [
    "sodium_malloc",
    "sodium_mlock",
    "secp256k1_ecdsa_sign",
    "sigil_sign",
    "sigil_secret_alloc",
    "sigil_credentials_parse",
    # more of libsigil-sign: signing primitives and venue signers
    "sigil_secp256k1_sign",
    "sigil_ed25519_sign",
    "sigil_hmac_sha256_key",
    "sigil_rsa_sign_sha256",
    "sigil_venue_find",
]
FORBIDDEN_LIBS = ["libsecp256k1"]


def symbols(path):
    out = subprocess.run(["nm", "-A", path], capture_output=True, text=True)
    if out.returncode != 0:
        # a stripped binary still has its dynamic symbols
        out = subprocess.run(["nm", "-D", "-A", path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"nm failed on {path}: {out.stderr.strip()}")
    names = set()
    for line in out.stdout.splitlines():
        parts = line.split()
        if parts:
            names.add(parts[-1].split("@")[0])
    return names


def needed_libs(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"readelf failed on {path}: {out.stderr.strip()}")
    return [l for l in out.stdout.splitlines() if "(NEEDED)" in l]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    gateway = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "sigil-gateway")
    if not os.path.exists(gateway):
        sys.exit(f"FAIL: {gateway} not found (build the sigil-gateway target)")
    names = symbols(gateway)
    failures = []
    if "gw_dispatch" not in names or "main" not in names:
        failures.append("the binary has no symbol table to check (gw_dispatch missing)")
    for sym in FORBIDDEN_SYMBOLS:
        if sym in names:
            failures.append(f"symbol {sym} is linked into sigil-gateway")
    for line in needed_libs(gateway):
        for lib in FORBIDDEN_LIBS:
            if lib in line:
                failures.append(f"sigil-gateway needs {lib}: {line.strip()}")
    # the check itself must be able to fail: the CLI does link the signers
    if "sigil_secret_alloc" not in symbols(os.path.abspath(sys.argv[1])):
        failures.append("self-check: sigil_secret_alloc not found in bin/sigil")
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print(f"ok: sigil-gateway has none of {len(FORBIDDEN_SYMBOLS)} secret-handling symbols")


if __name__ == "__main__":
    main()
