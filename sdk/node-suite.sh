#!/usr/bin/env bash
# A Node package's tests (node --test) against a throw-away dev stack; the
# TypeScript SDK's and the MCP server's run-tests.sh call it.
#
#   sdk/node-suite.sh PKG_DIR BIN_DIR [INPUT ...]
#
# npm ci --ignore-scripts in PKG_DIR when its package-lock.json or an INPUT
# (a file or a directory, relative to PKG_DIR: what npm copies in) changed
# (stamp in node_modules); starts sdk/stack_fixture.py with BIN_DIR (sigil,
# sigil-gateway, … e.g. build/bin) and passes its fixture as SIGIL_FIXTURE;
# runs test/*.test.js one file at a time (they share the stack's audit log
# and receipt chain).
# Closing line: "<tests passed> passed, <tests failed> failed"; exit 1 on any failure.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 PKG_DIR BIN_DIR [INPUT ...]" >&2
    exit 2
fi
SDK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG="$(cd "$1" && pwd)"
BIN="$(realpath "$2")"
shift 2
NAME="$(basename "$PKG")"

command -v node >/dev/null || { echo "$NAME: node is required (scripts/bootstrap.sh --all)" >&2; exit 2; }
command -v npm >/dev/null || { echo "$NAME: npm is required (scripts/bootstrap.sh --all)" >&2; exit 2; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    { echo "$NAME: node >= 20 is required" >&2; exit 2; }

stamp_of() {
    (cd "$PKG" && sha256sum package-lock.json &&
        for input in "$@"; do
            find "$input" -type f -print0 | sort -z | xargs -0 sha256sum
        done) | sha256sum | cut -d' ' -f1
}
lock_sum="$(stamp_of "$@")"
stamp="$PKG/node_modules/.sigil-lock-sha256"
if [ ! -d "$PKG/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "$NAME: npm ci ($PKG/package-lock.json)"
    (cd "$PKG" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sigil-$NAME-tests.XXXXXX")"
fixture="$work/fixture.json"
fifo="$work/stdin"
mkfifo "$fifo"
# The fixture stops its stack when its stdin closes: when this script exits, however it exits.
python3 "$SDK/stack_fixture.py" "$BIN" "$fixture" <"$fifo" 2>"$work/fixture.log" &
fixture_pid=$!
exec 3>"$fifo"
cleanup() {
    exec 3>&-
    wait "$fixture_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1200); do
    [ -f "$fixture" ] && break
    if ! kill -0 "$fixture_pid" 2>/dev/null; then
        echo "$NAME: the dev stack did not start:" >&2
        cat "$work/fixture.log" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    sleep 0.1
done
[ -f "$fixture" ] || { echo "$NAME: no fixture after 120 s" >&2; echo "0 passed, 1 failed"; exit 1; }

status=0
(cd "$PKG" && SIGIL_FIXTURE="$fixture" node --test --test-concurrency=1 --test-timeout=600000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$work/tap" test/*.test.js) || status=$?

passed="$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$work/tap" | tail -1)"
failed="$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$work/tap" | tail -1)"
passed="${passed:-0}"
failed="${failed:-0}"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the runner itself failed (a file that did not load, a crash)
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
