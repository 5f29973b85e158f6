#!/usr/bin/env bash
# The gateway store on PostgreSQL: starts a throwaway PostgreSQL 15 server
# (initdb/pg_ctl; as the unprivileged user "nobody" when run as root),
# listening on a unix socket in a temporary directory only (no TCP port),
# then runs the store's unit suite, every end-to-end suite and the CLI suites
# that read a store, with the gateway and `sigil admin`/`sigil audit verify`
# pointed at it (SIGIL_TEST_STORE=pg: TempStack gives each stack a fresh
# database). The server is stopped and its directory removed on every exit
# path.
#
#   tests/pg/run.sh BUILD_DIR [SUITE ...]   (default: all, see below; a SUITE
#                                            is a path under tests/ without .py,
#                                            e.g. cli/test_audit_cli; a bare
#                                            name is under e2e/)
#   SIGIL_PG_BIN=/usr/lib/postgresql/15/bin    where initdb and pg_ctl are
#   SIGIL_PG_VERBOSE=1                         show every test's output tail
#
# Ends with the line "N passed, M failed".
set -uo pipefail

BUILD="${1:?usage: tests/pg/run.sh BUILD_DIR [SUITE ...]}"
BUILD="$(cd "$BUILD" && pwd)"
shift
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PG_BIN="${SIGIL_PG_BIN:-/usr/lib/postgresql/15/bin}"
# Every end-to-end suite CTest runs (the same glob as tests/CMakeLists.txt),
# so that a new one runs on PostgreSQL by default, except:
EXCLUDE=(
    # `make run` itself: devstack.py's run keeps its state in SIGIL_HOME and
    # its store is the SQLite file there by definition (no --store).
    test_e2e_make_run
)
# and, outside tests/e2e: the gateway against a fake enclave (CTest's
# e2e.gateway_fault_injection), the one CLI suite that reads a store (`sigil
# audit verify --store`, `sigil admin --store`; the other CLI suites never open
# one), two gateways on one database, and several gateway+enclave pairs on it:
# one killed under load, and the measurement rotation rehearsal
# (docs/OPERATIONS.md "Multi-host topology"), and per-key limits across two
# enclaves (docs/POLICY.md "Limits across enclaves"; PostgreSQL only).
OTHERS=(gateway/run_e2e cli/test_audit_cli pg/test_pg_gateways pg/test_pg_pairs
    pg/test_pg_rotation pg/test_pg_limits)
SUITES=()
if [ "$#" -gt 0 ]; then
    for s in "$@"; do
        [[ "$s" == */* ]] || s="e2e/$s"
        SUITES+=("$s")
    done
else
    for f in "$ROOT"/tests/e2e/test_*.py; do
        name="$(basename "$f" .py)"
        [[ " ${EXCLUDE[*]} " == *" $name "* ]] || SUITES+=("e2e/$name")
    done
    SUITES+=("${OTHERS[@]}")
fi

passed=0
failed=0
PGDIR="$(mktemp -d /tmp/sigil-pg-XXXXXX)"
chmod 0755 "$PGDIR"

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

stop_server() {
    if [ -f "$PGDIR/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGDIR"
}
child=""
on_exit() {
    [ -n "$child" ] && kill "$child" 2>/dev/null
    stop_server
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# Runs a step in the background and waits for it, so that a signal to this
# script is handled at once (the EXIT trap then stops the server).
step() {
    "$@" &
    child=$!
    wait "$child"
    local rc=$?
    child=""
    return "$rc"
}

# Killed without a chance to trap (SIGKILL, a CI timeout): a watchdog stops
# the server once this script is gone.
watchdog() {
    local runner=$1
    trap '' INT TERM
    while kill -0 "$runner" 2>/dev/null; do sleep 1; done
    stop_server
}

start_server() {
    mkdir -p "$PGDIR/data" "$PGDIR/sock"
    [ "$(id -u)" = 0 ] && chown nobody "$PGDIR/data" "$PGDIR/sock"
    chmod 0700 "$PGDIR/data"
    as_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U sigil --auth=trust --locale=C.UTF-8 \
        --encoding=UTF8 >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log"; return 1; }
    # unix socket only: no TCP port to pick or probe
    as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/sock/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$PGDIR/sock' -c fsync=on" \
        start >/dev/null || { cat "$PGDIR/sock/server.log"; return 1; }
    as_pg "$PG_BIN/createdb" -h "$PGDIR/sock" -U sigil sigil_test || return 1
}

record() { # name rc
    if [ "$2" = 0 ]; then
        passed=$((passed + 1))
        echo "PASS $1"
    else
        failed=$((failed + 1))
        echo "FAIL $1 (exit $2)"
    fi
}

watchdog $$ </dev/null >/dev/null 2>&1 &
if ! start_server; then
    echo "PostgreSQL did not start"
    echo "0 passed, 1 failed"
    exit 1
fi
export SIGIL_TEST_PG_URL="postgresql:///sigil_test?host=$PGDIR/sock&user=sigil"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on $PGDIR/sock"

t0=$SECONDS
SIGIL_TEST_PG_ONLY=1 step "$BUILD/bin/test_store"
record unit.test_store.pg $?

export SIGIL_TEST_STORE=pg SIGIL_PG_DATA="$PGDIR/data" SIGIL_PG_BIN="$PG_BIN"
run_suite() { # e2e/NAME | cli/NAME | gateway/NAME | pg/NAME
    local file="$ROOT/tests/$1.py" log="$PGDIR/${1//\//.}.log" arg="$BUILD/bin" t1 rc
    # the CLI suites take the sigil binary, the others its directory
    [[ "$1" == cli/* ]] && arg="$BUILD/bin/sigil"
    t1=$SECONDS
    step python3 "$file" "$arg" "$ROOT/tests" >"$log" 2>&1
    rc=$?
    if [ "$rc" != 0 ] || [ -n "${SIGIL_PG_VERBOSE:-}" ]; then tail -n 40 "$log"; fi
    # checks ok and failed (the suites print "ok   NAME" / "FAIL NAME")
    local counts
    counts="$(grep -c '^ok ' "$log") ok, $(grep -c '^FAIL ' "$log") failed"
    record "${1//\//.}.pg ($counts, $((SECONDS - t1))s)" "$rc"
}
for s in "${SUITES[@]}"; do
    run_suite "$s"
done
echo "took $((SECONDS - t0))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
