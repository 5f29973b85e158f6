#!/usr/bin/env bash
# Deploys SigilMeasurementRegistry with cast and prints its address (only that,
# on stdout). The bytecode is the one contracts/compile.mjs built from the
# pinned solc; after deployment the code on chain is compared with it.
# Host tool; see docs/OPERATIONS.md "Measurement registry and rotation".
#
# usage: deploy/registry/deploy.sh [--artifact FILE]
#   --artifact  compiled contract (default contracts/build/SigilMeasurementRegistry.json:
#               cd contracts && npm ci --ignore-scripts && node compile.mjs)
# Environment: ETH_RPC_URL and a signer; see deploy/registry/lib.sh.
set -euo pipefail
PROG=deploy
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n 's/^# \{0,1\}//;/^usage:/,/^Environment/p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

artifact=$REGISTRY_ARTIFACT
while [ $# -gt 0 ]; do
    case "$1" in
    --artifact)
        [ $# -ge 2 ] || die "--artifact needs a value"
        artifact=$2
        shift 2
        ;;
    -h | --help) usage ;;
    *) die "unexpected argument '$1' (see --help)" ;;
    esac
done

[ -f "$artifact" ] || die "$artifact not found: cd contracts && npm ci --ignore-scripts && node compile.mjs"
# compile.mjs writes one field per line: "bytecode": "0x…",
field() { sed -n "s/^  \"$1\": \"\(0x[0-9a-f]*\)\",\{0,1\}\$/\1/p" "$artifact"; }
bytecode=$(field bytecode)
runtime=$(field deployedBytecode)
{ [ ${#bytecode} -gt 2 ] && [ ${#runtime} -gt 2 ]; } || die "$artifact: no bytecode in it"

need_rpc
find_cast
find_signer

chain=$("$CAST" chain-id) || fail "cannot reach $ETH_RPC_URL"
echo "$PROG: deploying to chain $chain ($ETH_RPC_URL)" >&2
receipt=$(send_tx --create "$bytecode")
address=$("$CAST" to-check-sum-address "$(json_field "$receipt" contractAddress)")
[ "$("$CAST" code "$address")" = "$runtime" ] || fail "code at $address differs from $artifact"
echo "$PROG: SigilMeasurementRegistry at $address (tx $(json_field "$receipt" transactionHash), block $(("$(json_field "$receipt" blockNumber)")))" >&2
printf '%s\n' "$address"
