#!/usr/bin/env bash
# The TypeScript SDK's tests against a throw-away dev stack.
#
#   sdk/typescript/run-tests.sh BIN_DIR        (BIN_DIR: sigil, sigil-gateway, … e.g. build/bin)
#
# npm ci --ignore-scripts when package-lock.json changed (stamp in
# node_modules), starts sdk/stack_fixture.py, runs node --test on test/*.test.js
# one file at a time (they share the stack's audit log and receipt chain).
# Closing line: "<tests passed> passed, <tests failed> failed"; exit 1 on any failure.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BIN_DIR" >&2
    exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$(realpath "$1")"

command -v node >/dev/null || { echo "run-tests.sh: node is required (scripts/bootstrap.sh --all)" >&2; exit 2; }
command -v npm >/dev/null || { echo "run-tests.sh: npm is required (scripts/bootstrap.sh --all)" >&2; exit 2; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    { echo "run-tests.sh: node >= 20 is required" >&2; exit 2; }

lock_sum="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
stamp="$HERE/node_modules/.sigil-lock-sha256"
if [ ! -d "$HERE/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "run-tests.sh: npm ci (sdk/typescript/package-lock.json)"
    (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sigil-ts-tests.XXXXXX")"
fixture="$work/fixture.json"
fifo="$work/stdin"
mkfifo "$fifo"
# The fixture stops its stack when its stdin closes: when this script exits, however it exits.
python3 "$HERE/../stack_fixture.py" "$BIN" "$fixture" <"$fifo" 2>"$work/fixture.log" &
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
        echo "run-tests.sh: the dev stack did not start:" >&2
        cat "$work/fixture.log" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    sleep 0.1
done
[ -f "$fixture" ] || { echo "run-tests.sh: no fixture after 120 s" >&2; echo "0 passed, 1 failed"; exit 1; }

status=0
(cd "$HERE" && SIGIL_FIXTURE="$fixture" node --test --test-concurrency=1 --test-timeout=600000 \
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
