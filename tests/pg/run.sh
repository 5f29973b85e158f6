#!/usr/bin/env bash
# The gateway store on PostgreSQL: starts a throwaway PostgreSQL 15 server
# (initdb/pg_ctl; as the unprivileged user "nobody" when run as root),
# listening on a unix socket in a temporary directory only (no TCP port),
# then runs the store's unit suite and an end-to-end subset with the
# gateway and `sigil admin` pointed at it (SIGIL_TEST_STORE=pg). The server
# is stopped and its directory removed on every exit path.
#
#   tests/pg/run.sh BUILD_DIR [E2E_TEST ...]   (default subset below)
#   SIGIL_PG_BIN=/usr/lib/postgresql/15/bin    where initdb and pg_ctl are
#   SIGIL_PG_VERBOSE=1                         show every test's output tail
#
# Ends with the line "N passed, M failed".
set -uo pipefail

BUILD="${1:?usage: tests/pg/run.sh BUILD_DIR [E2E_TEST ...]}"
BUILD="$(cd "$BUILD" && pwd)"
shift
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PG_BIN="${SIGIL_PG_BIN:-/usr/lib/postgresql/15/bin}"
# The representative subset: provisioning, tenants and tokens, signing and
# the audit route (sign), owner-signed policy updates (policy: the key CAS),
# a failing enclave (faults: retries, idempotent replays), HTTPS (tls).
# test_e2e_http, test_e2e_receipts and test_e2e_gating also read the SQLite
# file behind the gateway's back, so they cannot run on PostgreSQL as written.
DEFAULT_E2E=(test_e2e_sign test_e2e_policy test_e2e_faults test_e2e_tls)
if [ "$#" -gt 0 ]; then E2E=("$@"); else E2E=("${DEFAULT_E2E[@]}"); fi

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
run_py() { # name script
    step python3 "$2" "$BUILD/bin" "$ROOT/tests" >"$PGDIR/$1.log" 2>&1
    local rc=$?
    if [ "$rc" != 0 ] || [ -n "${SIGIL_PG_VERBOSE:-}" ]; then tail -n 40 "$PGDIR/$1.log"; fi
    record "$1.pg" "$rc"
}
for t in "${E2E[@]}"; do
    run_py "e2e.$t" "$ROOT/tests/e2e/$t.py"
done
run_py pg.test_pg_gateways "$HERE/test_pg_gateways.py"
run_py pg.test_pg_limits "$HERE/test_pg_limits.py"
echo "took $((SECONDS - t0))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
