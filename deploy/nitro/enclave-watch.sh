#!/usr/bin/env bash
# Starts the Sigil enclave with the nitro-cli command it is given and stays
# in the foreground while that enclave runs (untrusted host helper, run by
# sigil-enclave.service). Exits non-zero when the enclave is gone, so systemd
# restarts it; terminates it on SIGTERM. Refuses debug mode: a debug enclave
# reports PCR0 = 0 and the key policy would (rightly) release nothing to it.
#
# usage: enclave-watch.sh /usr/bin/nitro-cli run-enclave --eif-path F ... --enclave-name N
#   SIGIL_WATCH_SECONDS   poll interval (default 5)
set -euo pipefail

interval=${SIGIL_WATCH_SECONDS:-5}
if [ $# -lt 2 ] || [ "$2" != run-enclave ]; then
    echo "enclave-watch: usage: enclave-watch.sh NITRO_CLI run-enclave ARGS..." >&2
    exit 2
fi
cli=$1
for a in "$@"; do
    case "$a" in
    --debug-mode | --attach-console)
        echo "enclave-watch: refusing $a (production enclaves never run in debug mode)" >&2
        exit 2
        ;;
    esac
done
command -v jq >/dev/null 2>&1 || {
    echo "enclave-watch: jq not found" >&2
    exit 2
}

started=$("$@")
id=$(jq -er '.EnclaveID' <<<"$started")
cid=$(jq -er '.EnclaveCID' <<<"$started")
echo "enclave-watch: enclave $id running, CID $cid" >&2

# shellcheck disable=SC2317 # invoked by the TERM/INT trap
stop() {
    "$cli" terminate-enclave --enclave-id "$id" >/dev/null 2>&1 || true
    exit 0
}
trap stop TERM INT

while sleep "$interval" & wait $!; do
    state=$("$cli" describe-enclaves | jq -r --arg id "$id" \
        '[.[] | select(.EnclaveID == $id)] | if length == 1 then .[0].State + " " + .[0].Flags else "GONE" end')
    case "$state" in
    "RUNNING NONE") ;;
    *)
        echo "enclave-watch: enclave $id is $state; exiting for a restart" >&2
        "$cli" terminate-enclave --enclave-id "$id" >/dev/null 2>&1 || true
        exit 1
        ;;
    esac
done
