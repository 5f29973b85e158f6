# shellcheck shell=bash
# Shared by deploy.sh, register.sh and deprecate.sh (sourced, not run): finding
# cast, the signer, checking input before anything is sent, and sending a
# transaction with its custom-error revert spelled out. Host tool: it holds
# the owner's signing key only as cast's argument or keystore.
#
# Environment (all three scripts):
#   ETH_RPC_URL                 JSON-RPC endpoint (required; cast's own variable)
#   signer, one of:
#     ETH_KEYSTORE (+ ETH_PASSWORD = password FILE), ETH_KEYSTORE_ACCOUNT
#                               cast's keystore variables: the production way
#     SIGIL_REGISTRY_PRIVATE_KEY
#                               0x + 64 hex; for local nodes and tests: cast gets it
#                               as an argument, which other local users can read
#   CAST                        cast binary (default: cast on PATH, else the pinned
#                               one in contracts/node_modules after `npm ci`)

REGISTRY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034 # deploy.sh's default
REGISTRY_ARTIFACT=$REGISTRY_ROOT/contracts/build/SigilMeasurementRegistry.json
# The contract's custom errors, to name a revert without asking the network.
REGISTRY_ERRORS=(
    "BadMeasurementLength(uint256)"
    "DescriptionTooLong(uint256,uint256)"
    "AlreadyRegistered(address,bytes)"
    "NotRegistered(address,bytes)"
    "AlreadyDeprecated(address,bytes)"
)
ZERO_MEASUREMENT=$(printf '0%.0s' $(seq 96))

die() {
    echo "$PROG: $*" >&2
    exit 2
}

fail() {
    echo "$PROG: $*" >&2
    exit 1
}

find_cast() {
    if [ -n "${CAST:-}" ]; then
        [ -x "$CAST" ] || command -v "$CAST" >/dev/null 2>&1 || die "CAST=$CAST is not executable"
    elif command -v cast >/dev/null 2>&1; then
        CAST=cast
    elif [ -x "$REGISTRY_ROOT/contracts/node_modules/.bin/cast" ]; then
        CAST=$REGISTRY_ROOT/contracts/node_modules/.bin/cast
    else
        die "cast not found: install Foundry, set CAST, or run (cd contracts && npm ci --ignore-scripts)"
    fi
}

# Sets WALLET (the cast arguments naming the signer); refuses when there is none.
find_signer() {
    WALLET=()
    if [ -n "${SIGIL_REGISTRY_PRIVATE_KEY:-}" ]; then
        [[ $SIGIL_REGISTRY_PRIVATE_KEY =~ ^0x[0-9a-fA-F]{64}$ ]] ||
            die "SIGIL_REGISTRY_PRIVATE_KEY must be 0x followed by 64 hex digits"
        WALLET=(--private-key "$SIGIL_REGISTRY_PRIVATE_KEY")
    elif [ -z "${ETH_KEYSTORE:-}" ] && [ -z "${ETH_KEYSTORE_ACCOUNT:-}" ]; then
        die "no signer: set ETH_KEYSTORE (and ETH_PASSWORD), ETH_KEYSTORE_ACCOUNT, or SIGIL_REGISTRY_PRIVATE_KEY"
    fi
}

need_rpc() {
    [ -n "${ETH_RPC_URL:-}" ] || die "ETH_RPC_URL is not set (the chain's JSON-RPC endpoint)"
}

# normalize_measurement HEX → prints 96 lowercase hex digits, or refuses.
normalize_measurement() {
    local v=${1#0x}
    v=${v,,}
    [[ $v =~ ^[0-9a-f]{96}$ ]] || die "a measurement is 96 hex digits (48 bytes, SHA-384), got '$1'"
    # All zero is what a debug-mode enclave reports: clients refuse it, so it is never published.
    [ "$v" != "$ZERO_MEASUREMENT" ] || die "refusing the all-zero (debug-mode) measurement"
    printf '%s\n' "$v"
}

# pcr0_from_json FILE|- → the PCR0 of `sigil measure --eif` output.
pcr0_from_json() {
    local text v
    if [ "$1" = - ]; then text=$(cat); else text=$(cat -- "$1") || die "cannot read $1"; fi
    v=$(printf '%s\n' "$text" | sed -n 's/.*"PCR0" *: *"\([0-9a-fA-F]*\)".*/\1/p' | head -n 1)
    [ -n "$v" ] || die "$1: no \"PCR0\" in it (expected the output of 'sigil measure --eif FILE')"
    normalize_measurement "$v"
}

# pcr0_from_eif FILE → PCR0 computed by `sigil measure --eif` (SIGIL or sigil on PATH).
pcr0_from_eif() {
    local sigil=${SIGIL:-sigil} out
    command -v "$sigil" >/dev/null 2>&1 || die "sigil not found: set SIGIL or use --measurement"
    out=$("$sigil" measure --eif "$1") || die "sigil measure --eif $1 failed"
    printf '%s\n' "$out" | pcr0_from_json -
}

check_address() {
    [[ $1 =~ ^0x[0-9a-fA-F]{40}$ ]] || die "not an address (0x + 40 hex digits): '$1'"
}

# Refuses an address with no code: a typo or the wrong chain, caught before paying for it.
check_contract() {
    local code
    check_address "$1"
    code=$("$CAST" code "$1") || fail "cannot read code at $1 from $ETH_RPC_URL"
    [ "$code" != 0x ] || fail "no contract at $1 on chain $("$CAST" chain-id) ($ETH_RPC_URL)"
}

# Names a revert from cast's error output, e.g. "AlreadyRegistered(0xab…, 0x…)".
explain_revert() {
    local data sel sig
    data=$(grep -o 'data: "0x[0-9a-fA-F]*"' "$1" | head -n 1 | cut -d'"' -f2)
    [ -n "$data" ] || return 1
    sel=${data:0:10}
    for sig in "${REGISTRY_ERRORS[@]}"; do
        if [ "$("$CAST" sig "$sig")" = "$sel" ]; then
            echo "${sig%%(*}($("$CAST" decode-error --sig "$sig" "$data" | paste -sd, - | sed 's/,/, /g'))"
            return 0
        fi
    done
    return 1
}

# send_tx ARGS... → cast send --json; prints the receipt JSON on stdout. A
# revert (at gas estimation, so nothing is sent) exits 1 with the error named.
send_tx() {
    local err out reason
    err=$(mktemp)
    if ! out=$("$CAST" send --json "${WALLET[@]}" "$@" 2>"$err"); then
        if reason=$(explain_revert "$err"); then
            rm -f "$err"
            fail "reverted: $reason"
        fi
        cat "$err" >&2
        rm -f "$err"
        fail "cast send failed"
    fi
    rm -f "$err"
    [[ $out =~ \"status\":\"0x1\" ]] || fail "transaction failed: $out"
    printf '%s\n' "$out"
}

# json_field JSON NAME → the string value of "NAME" in cast's one-line JSON.
json_field() {
    printf '%s\n' "$1" | grep -o "\"$2\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4
}
