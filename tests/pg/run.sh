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
#                                            is a file name without .py under
#                                            tests/e2e, tests/cli or tests/pg)
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
# The CLI suites that read a store (`sigil audit verify --store`, `sigil admin
# --store`); the others never open one.
CLI=(test_audit_cli)
# Two gateways on one database: PostgreSQL only.
PG=(test_pg_gateways)
SUITES=()
if [ "$#" -gt 0 ]; then
    SUITES=("$@")
else
    for f in "$ROOT"/tests/e2e/test_*.py; do
        name="$(basename "$f" .py)"
        [[ " ${EXCLUDE[*]} " == *" $name "* ]] || SUITES+=("$name")
    done
    SUITES+=("${CLI[@]}" "${PG[@]}")
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
# A suite's file and its first argument (the CLI suites take the sigil binary).
suite_path() {
    local d
    for d in e2e cli pg; do
        if [ -f "$ROOT/tests/$d/$1.py" ]; then
            echo "$d $ROOT/tests/$d/$1.py"
            return 0
        fi
    done
    return 1
}
run_suite() { # name
    local where dir file arg t1 rc
    if ! where="$(suite_path "$1")"; then
        echo "no suite $1 under tests/e2e, tests/cli or tests/pg"
        record "$1" 2
        return
    fi
    dir="${where%% *}"
    file="${where#* }"
    arg="$BUILD/bin"
    [ "$dir" = cli ] && arg="$BUILD/bin/sigil"
    t1=$SECONDS
    step python3 "$file" "$arg" "$ROOT/tests" >"$PGDIR/$1.log" 2>&1
    rc=$?
    if [ "$rc" != 0 ] || [ -n "${SIGIL_PG_VERBOSE:-}" ]; then tail -n 40 "$PGDIR/$1.log"; fi
    # checks ok and failed (both suite styles print "ok   NAME" / "FAIL NAME")
    record "$dir.$1.pg ($(grep -c '^ok ' "$PGDIR/$1.log") ok, $(grep -c '^FAIL ' \
        "$PGDIR/$1.log") failed, $((SECONDS - t1))s)" "$rc"
}
for s in "${SUITES[@]}"; do
    run_suite "$s"
done
echo "took $((SECONDS - t0))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
