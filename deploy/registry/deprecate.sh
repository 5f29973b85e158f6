#!/usr/bin/env bash
# Deprecates one of the signer's measurements in SigilMeasurementRegistry,
# permanently: the entry stays in the history, and the same bytes can never be
# registered again by this owner. The last step of a rotation, after traffic
# has moved (docs/OPERATIONS.md "Measurement registry and rotation").
#
# usage: deploy/registry/deprecate.sh --contract ADDRESS
#            (--measurement HEX96 | --measure-json FILE | --eif FILE)
#   --contract      the registry (default $SIGIL_REGISTRY_CONTRACT)
#   --measurement   PCR0 as 96 hex digits (0x optional)
#   --measure-json  output of `sigil measure --eif FILE` (or - for stdin): its PCR0
#   --eif           the EIF itself: PCR0 via `sigil measure --eif` ($SIGIL or sigil)
# Environment: ETH_RPC_URL and a signer; see deploy/registry/lib.sh.
set -euo pipefail
PROG=deprecate
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n 's/^# \{0,1\}//;/^usage:/,/^Environment/p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

contract=${SIGIL_REGISTRY_CONTRACT:-} measurement=""
sources=0
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) usage ;;
    --contract | --measurement | --measure-json | --eif)
        [ $# -ge 2 ] || die "$1 needs a value"
        case "$1" in
        --contract) contract=$2 ;;
        --measurement) measurement=$(normalize_measurement "$2") sources=$((sources + 1)) ;;
        --measure-json) measurement=$(pcr0_from_json "$2") sources=$((sources + 1)) ;;
        --eif) measurement=$(pcr0_from_eif "$2") sources=$((sources + 1)) ;;
        esac
        shift 2
        ;;
    *) die "unexpected argument '$1' (see --help)" ;;
    esac
done

[ "$sources" -eq 1 ] || die "give exactly one of --measurement, --measure-json, --eif (see --help)"
[ -n "$contract" ] || die "--contract (or SIGIL_REGISTRY_CONTRACT) is required"
check_address "$contract"

need_rpc
find_cast
find_signer
check_contract "$contract"

receipt=$(send_tx "$contract" "deprecate(bytes)" "0x$measurement")
from=$("$CAST" to-check-sum-address "$(json_field "$receipt" from)")
echo "$PROG: deprecated $measurement for $from (tx $(json_field "$receipt" transactionHash))" >&2
[ "$("$CAST" call "$contract" "isActive(address,bytes)(bool)" "$from" "0x$measurement")" = false ] ||
    fail "deprecated, but isActive($from, $measurement) is still true"
