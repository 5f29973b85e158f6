#!/usr/bin/env python3
"""`make measure` in the test suite: scripts/measure.sh builds sigil-enclave
twice, from two copies of the tree at different paths, with the reproducible
flags, and must report two byte-identical files (same SHA-384, same dev
measurement). About 10 s on a 2-CPU machine (two Release builds of the
enclave only).

usage: test_measure_reproducible.py PATH/TO/bin/sigil TESTS_DIR
"""
import os
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sigil = os.path.abspath(sys.argv[1])
    root = os.path.dirname(os.path.abspath(sys.argv[2]))
    r = subprocess.run(["bash", os.path.join(root, "scripts", "measure.sh"), sigil],
                       capture_output=True, text=True)
    print(r.stdout, end="")
    if r.returncode != 0:
        print(r.stderr[-4000:], file=sys.stderr)
        sys.exit(f"FAIL: scripts/measure.sh exited {r.returncode}")
    shas = re.findall(r"^  sha384\s+([0-9a-f]{96})$", r.stdout, re.M)
    devs = re.findall(r"^  dev measurement\s+([0-9a-f]{96})\b", r.stdout, re.M)
    if len(shas) != 2 or len(devs) != 2:
        sys.exit("FAIL: expected two sha384 and two dev measurement lines")
    if shas[0] != shas[1] or devs[0] != devs[1]:
        sys.exit("FAIL: the two builds differ")
    # The dev measurement is SHA384(0^48 || SHA384(file)), never the file hash itself.
    if devs[0] == shas[0]:
        sys.exit("FAIL: dev measurement equals the plain file hash")
    print("ok: two builds at different paths are byte-identical")


if __name__ == "__main__":
    main()
