#!/usr/bin/env bash
# The Python SDK's test suite against a live dev stack.
#
#   sdk/python/run-tests.sh BIN_DIR [pytest args…]
#
# Creates (or reuses) a venv ($SDK_PY_VENV, default build/sdk-python-venv under
# the repo root) holding exactly requirements-test.txt (wheels only,
# --no-deps, then `pip check`), recreated when the pins change; installs the
# package from this directory; runs pytest. Closing line:
# "N passed, M failed"; exit status non-zero on any failure.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 BIN_DIR [pytest args...]" >&2
    exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN_DIR="$(realpath "$1")"
shift
VENV="${SDK_PY_VENV:-build/sdk-python-venv}"
case "$VENV" in /*) ;; *) VENV="$REPO/$VENV" ;; esac

[ -x "$BIN_DIR/sigil-gateway" ] || { echo "run-tests.sh: no sigil-gateway in $BIN_DIR" >&2; exit 2; }

req_sum="$(cat "$HERE/requirements-test.txt" "$HERE/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.sigil-req-sha256" 2>/dev/null || true)" != "$req_sum" ]; then
    echo "run-tests.sh: python venv $VENV (sdk/python/requirements-test.txt)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
        --only-binary=:all: --no-deps -r "$HERE/requirements-test.txt"
    "$VENV/bin/pip" check --disable-pip-version-check >/dev/null
    echo "$req_sum" >"$VENV/.sigil-req-sha256"
fi
# the package itself, built from a copy of this tree (pip builds in the source
# directory); its pinned dependencies are already there
pkg="$(mktemp -d)"
trap 'rm -rf "$pkg"' EXIT
cp -r "$HERE/pyproject.toml" "$HERE/README.md" "$HERE/sigil_sdk" "$pkg/"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input --no-deps \
    --force-reinstall "$pkg" >/dev/null

out="$(mktemp)"
trap 'rm -rf "$pkg" "$out"' EXIT
set +e
# the pytest script (not `python -m pytest`): the installed package is tested,
# not the source tree
(cd "$HERE" && SIGIL_BIN_DIR="$BIN_DIR" "$VENV/bin/pytest" -p no:cacheprovider \
    -o addopts="" -rfE "$@") 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
summary="$(grep -E '[0-9]+ (passed|failed|errors?|skipped|deselected).* in [0-9.]+s' "$out" | tail -1 || true)"
count() { { echo "$summary" | grep -Eo "[0-9]+ $1" || true; } | awk '{s+=$1} END {print s+0}'; }
passed="$(count passed)"
failed=$(( $(count failed) + $(count 'errors?') ))
echo "${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
    echo "run-tests.sh: pytest exited with status $status" >&2
fi
exit "$status"
