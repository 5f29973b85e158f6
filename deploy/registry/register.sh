#!/usr/bin/env bash
# Registers an enclave measurement (production PCR0) in SigilMeasurementRegistry
# for the signer's address, with the build hash and a description. Refuses
# obviously wrong input before sending anything; a revert is named (for
# example AlreadyRegistered: a measurement, once deprecated, never comes back).
# Host tool; see docs/OPERATIONS.md "Measurement registry and rotation".
#
# usage: deploy/registry/register.sh --contract ADDRESS
#            (--measurement HEX96 | --measure-json FILE | --eif FILE)
#            [--build-hash HEX64] [--description TEXT]
#   --contract      the registry (default $SIGIL_REGISTRY_CONTRACT)
#   --measurement   PCR0 as 96 hex digits (0x optional)
#   --measure-json  output of `sigil measure --eif FILE` (or - for stdin): its PCR0
#   --eif           the EIF itself: PCR0 via `sigil measure --eif` ($SIGIL or sigil)
#   --build-hash    32 bytes naming the build, e.g. the EIF's SHA-256
#                   (default with --eif: that file's SHA-256; otherwise required)
#   --description   at most 256 bytes (UTF-8); self-reported, shown as your claim
# Environment: ETH_RPC_URL and a signer; see deploy/registry/lib.sh.
set -euo pipefail
PROG=register
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n 's/^# \{0,1\}//;/^usage:/,/^Environment/p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

contract=${SIGIL_REGISTRY_CONTRACT:-} measurement="" build_hash="" description="" eif=""
sources=0
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) usage ;;
    --contract | --measurement | --measure-json | --eif | --build-hash | --description)
        [ $# -ge 2 ] || die "$1 needs a value"
        case "$1" in
        --contract) contract=$2 ;;
        --measurement) measurement=$(normalize_measurement "$2") sources=$((sources + 1)) ;;
        --measure-json) measurement=$(pcr0_from_json "$2") sources=$((sources + 1)) ;;
        --eif) eif=$2 measurement=$(pcr0_from_eif "$2") sources=$((sources + 1)) ;;
        --build-hash) build_hash=$2 ;;
        --description) description=$2 ;;
        esac
        shift 2
        ;;
    *) die "unexpected argument '$1' (see --help)" ;;
    esac
done

[ "$sources" -eq 1 ] || die "give exactly one of --measurement, --measure-json, --eif (see --help)"
[ -n "$contract" ] || die "--contract (or SIGIL_REGISTRY_CONTRACT) is required"
check_address "$contract"
if [ -z "$build_hash" ]; then
    [ -n "$eif" ] || die "--build-hash is required (with --eif it defaults to the EIF's SHA-256)"
    build_hash=$(sha256sum -- "$eif" | cut -d' ' -f1)
fi
build_hash=${build_hash#0x}
[[ $build_hash =~ ^[0-9a-fA-F]{64}$ ]] || die "--build-hash is 64 hex digits (32 bytes), got '$build_hash'"
bytes=$(printf '%s' "$description" | wc -c)
[ "$bytes" -le 256 ] || die "--description is $bytes bytes; the registry takes at most 256"

need_rpc
find_cast
find_signer
check_contract "$contract"

receipt=$(send_tx "$contract" "register(bytes,bytes32,string)" "0x$measurement" "0x${build_hash,,}" "$description")
from=$("$CAST" to-check-sum-address "$(json_field "$receipt" from)")
echo "$PROG: registered $measurement for $from (tx $(json_field "$receipt" transactionHash))" >&2
[ "$("$CAST" call "$contract" "isActive(address,bytes)(bool)" "$from" "0x$measurement")" = true ] ||
    fail "registered, but isActive($from, $measurement) is not true"
