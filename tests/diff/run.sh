#!/usr/bin/env bash
# Differential conformance tests: sigil sign vs ccxt / ethers / @nktkas/hyperliquid
# / the official hyperliquid-python-sdk / eth_account. See README.md.
#
#   tests/diff/run.sh SIGIL_BINARY [SEED] [CASES]      (defaults: seed 1, 300 cases per venue)
#
# Environment: DIFF_VENV (python venv, default build/diff-venv under the repo
# root), DIFF_VENUES (comma list of venue labels), DIFF_STRICT=1 (cosmetic
# differences fail too), DIFF_JOBS (parallel sigil processes), DIFF_OUT
# (mismatch files, default build/diff-out), SIGIL_SHARED_DIR (known-answer
# vectors, default ../shared beside the repo).
# Closing line: "<cases passed> passed, <cases failed> failed"; exit 1 on any mismatch.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: $0 SIGIL_BINARY [SEED] [CASES]" >&2
    exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SIGIL="$(realpath "$1")"
SEED="${2:-1}"
CASES="${3:-300}"
VENV="${DIFF_VENV:-build/diff-venv}"
case "$VENV" in /*) ;; *) VENV="$REPO/$VENV" ;; esac

command -v node >/dev/null || { echo "run.sh: node is required (scripts/bootstrap.sh --all)" >&2; exit 2; }
command -v npm >/dev/null || { echo "run.sh: npm is required (scripts/bootstrap.sh --all)" >&2; exit 2; }

# node packages: exactly the committed lockfile, no install scripts
lock_sum="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
stamp="$HERE/node_modules/.sigil-lock-sha256"
if [ ! -d "$HERE/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "run.sh: npm ci (tests/diff/package-lock.json)"
    (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
fi

# python oracle: a venv with exactly requirements.txt, wheels only
req_sum="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.sigil-req-sha256" 2>/dev/null || true)" != "$req_sum" ]; then
    echo "run.sh: python venv $VENV (tests/diff/requirements.txt)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
        --only-binary=:all: --no-deps -r "$HERE/requirements.txt"
    "$VENV/bin/pip" check --disable-pip-version-check >/dev/null
    echo "$req_sum" >"$VENV/.sigil-req-sha256"
fi

args=(--sigil "$SIGIL" --seed "$SEED" --cases "$CASES" --python "$VENV/bin/python")
if [ -n "${DIFF_JOBS:-}" ]; then args+=(--jobs "$DIFF_JOBS"); fi
exec node "$HERE/harness.mjs" "${args[@]}"
