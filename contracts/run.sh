#!/usr/bin/env bash
# The measurement registry's test harness (`make test-registry`): installs the
# pinned npm packages, compiles the contract, starts anvil on a port the OS
# picks, deploys a fixture registry, and runs against it the contract tests
# (node --test), the deploy/registry scripts' test, shellcheck, and, given
# SIGIL_BIN_DIR, the C client's tests (tests/registry/test_*.py). anvil is
# stopped on every way out.
#
#   contracts/run.sh [SIGIL_BIN_DIR]
#
# The client tests run as `python3 FILE SIGIL_BIN_DIR` with SIGIL_REGISTRY_FIXTURE
# naming the fixture file (format: contracts/README.md).
# Closing line: "N passed, M failed"; exit 1 on any failure.
set -euo pipefail

if [ $# -gt 1 ] || [[ ${1:-} == -* ]]; then
    echo "usage: $0 [SIGIL_BIN_DIR]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN_DIR=""
if [ $# -eq 1 ]; then
    BIN_DIR=$(realpath "$1")
    [ -x "$BIN_DIR/sigil" ] || { echo "run.sh: no sigil in $BIN_DIR (make build)" >&2; exit 2; }
fi

command -v node >/dev/null || { echo "run.sh: node is required (scripts/bootstrap.sh --all)" >&2; exit 2; }
command -v npm >/dev/null || { echo "run.sh: npm is required (scripts/bootstrap.sh --all)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sigil-registry.XXXXXX")
ANVIL_PID=""
passed=0 failed=0 closed=""
stop_anvil() {
    if [ -n "$ANVIL_PID" ]; then
        kill "$ANVIL_PID" 2>/dev/null || true
        wait "$ANVIL_PID" 2>/dev/null || true
        ANVIL_PID=""
    fi
}
# Every way out: anvil stopped, and a closing line even when a step before
# the tests failed (counted as one failure).
cleanup() {
    local rc=$?
    stop_anvil
    if [ -z "$closed" ]; then
        if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
        echo "$passed passed, $failed failed"
    fi
    if [ "$failed" -eq 0 ]; then rm -rf "$WORK"; else echo "run.sh: logs kept in $WORK" >&2; fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# node packages: exactly the committed lockfile, no install scripts (anvil and
# cast ship their binaries inside the packages and need none)
lock_sum=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
stamp=$HERE/node_modules/.sigil-lock-sha256
if [ ! -d "$HERE/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "run.sh: npm ci (contracts/package-lock.json)"
    (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
fi
ANVIL=$HERE/node_modules/.bin/anvil
CAST=$HERE/node_modules/.bin/cast

node "$HERE/compile.mjs"

# --port 0: anvil binds a port the OS chooses and prints it; nothing probes a
# port first, so two runs (or anything else on the machine) cannot collide.
: >"$WORK/anvil.log" # exists before the background redirection gets to it
"$ANVIL" --host 127.0.0.1 --port 0 --config-out "$WORK/anvil.json" >"$WORK/anvil.log" 2>&1 &
ANVIL_PID=$!
port=""
for _ in $(seq 300); do
    port=$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/anvil.log")
    [ -n "$port" ] && [ -s "$WORK/anvil.json" ] && break
    kill -0 "$ANVIL_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ] || [ ! -s "$WORK/anvil.json" ]; then
    echo "run.sh: anvil did not start:" >&2
    sed 's/^/  | /' "$WORK/anvil.log" >&2
    exit 1
fi
RPC=http://127.0.0.1:$port
chain_id=""
for _ in $(seq 100); do
    chain_id=$("$CAST" chain-id --rpc-url "$RPC" 2>/dev/null) && break
    sleep 0.1
done
[ -n "$chain_id" ] || { echo "run.sh: $RPC does not answer eth_chainId" >&2; exit 1; }
echo "run.sh: anvil on $RPC (chain $chain_id, pid $ANVIL_PID)"

export SIGIL_REGISTRY_FIXTURE=$WORK/fixture.json
export SIGIL_ANVIL_CONFIG=$WORK/anvil.json
node "$HERE/fixture.mjs" --rpc "$RPC" --anvil-config "$SIGIL_ANVIL_CONFIG" --out "$SIGIL_REGISTRY_FIXTURE"

# count_from_log LOG RC: adds the log's own "N passed, M failed" (last such
# line) to the totals; a non-zero exit with no failure counted is one failure.
count_from_log() {
    local p=0 f=0 line
    line=$(grep -E '^([A-Za-z ]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 || true)
    if [ -n "$line" ]; then
        p=$(sed -E 's/^([A-Za-z ]+: )?([0-9]+) passed.*/\2/' <<<"$line")
        f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    elif [ "$2" -eq 0 ]; then
        p=1
    fi
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
}

# 1. the contract (node's test runner; its summary lines give the counts)
rc=0
(cd "$HERE" && timeout 600 node --test --test-reporter=spec test/*.test.mjs) 2>&1 | tee "$WORK/node.log" || rc=$?
p=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$WORK/node.log" | tail -n 1)
f=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$WORK/node.log" | tail -n 1)
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))
if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); fi

# 2. the deployment scripts, against the same node
rc=0
timeout 300 "$HERE/test/deploy_scripts.sh" "$RPC" "$SIGIL_ANVIL_CONFIG" ${BIN_DIR:+"$BIN_DIR"} 2>&1 |
    tee "$WORK/deploy_scripts.log" || rc=$?
count_from_log "$WORK/deploy_scripts.log" "$rc"

# 3. shellcheck on the shell scripts this part owns
if command -v shellcheck >/dev/null; then
    if (cd "$REPO" && shellcheck -x contracts/run.sh contracts/test/deploy_scripts.sh deploy/registry/*.sh); then
        passed=$((passed + 1))
        echo "ok    shellcheck"
    else
        failed=$((failed + 1))
        echo "FAIL  shellcheck"
    fi
else
    echo "skip  shellcheck (not installed: scripts/bootstrap.sh --all)"
fi

# 4. the C client (sigil registry check, sigil verify-deployment) against the fixture
if [ -n "$BIN_DIR" ]; then
    shopt -s nullglob
    client_tests=("$REPO"/tests/registry/test_*.py)
    shopt -u nullglob
    [ ${#client_tests[@]} -gt 0 ] || echo "run.sh: no tests/registry/test_*.py yet"
    for t in "${client_tests[@]}"; do
        name=${t#"$REPO"/}
        echo "run.sh: $name"
        rc=0
        timeout 600 python3 "$t" "$BIN_DIR" 2>&1 | tee "$WORK/client.log" || rc=$?
        count_from_log "$WORK/client.log" "$rc"
        [ "$rc" -eq 0 ] || echo "FAIL  $name (exit $rc)"
    done
else
    echo "run.sh: no SIGIL_BIN_DIR: the C client tests (tests/registry/) were not run"
fi

stop_anvil
closed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
