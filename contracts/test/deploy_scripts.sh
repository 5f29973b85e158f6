#!/usr/bin/env bash
# Exercises deploy/registry/{deploy,register,deprecate}.sh against a running
# local node with anvil's well-known dev keys (accounts 0 and 7): input refused
# before anything is sent, a deployment, registration from hex, from `sigil
# measure --eif` output and through a keystore, every revert named.
#
#   contracts/test/deploy_scripts.sh RPC_URL ANVIL_CONFIG_JSON [SIGIL_BIN_DIR]
# Called by contracts/run.sh. Closing line: "N passed, M failed"; exit 1 on a failure.
set -uo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 RPC_URL ANVIL_CONFIG_JSON [SIGIL_BIN_DIR]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SCRIPTS=$REPO/deploy/registry
EIF=$REPO/tests/vectors/nitro/eif/eif_synthetic_v4.eif
SIGIL_BIN=${3:+$3/sigil}
export CAST=$HERE/../node_modules/.bin/cast
export ETH_RPC_URL=$1
unset SIGIL_REGISTRY_CONTRACT ETH_KEYSTORE ETH_KEYSTORE_ACCOUNT ETH_PASSWORD

key() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).private_keys[process.argv[2]])' "$2" "$1"; }
KEY0=$(key 0 "$2")
KEY7=$(key 7 "$2")
export SIGIL_REGISTRY_PRIVATE_KEY=$KEY0

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0
OUT=$WORK/out ERR=$WORK/err

# check NAME WANT_RC [STDERR_PATTERN] -- COMMAND...: runs COMMAND, compares.
check() {
    local name=$1 want=$2 pattern=$3 rc
    shift 4
    "$@" >"$OUT" 2>"$ERR"
    rc=$?
    if [ "$rc" -eq "$want" ] && { [ -z "$pattern" ] || grep -Eq -- "$pattern" "$ERR"; }; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name (exit $rc, want $want${pattern:+, stderr matching /$pattern/})"
        sed 's/^/      | /' "$ERR"
    fi
}
# expect NAME ACTUAL WANTED
expect() {
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1))
        echo "ok    $1"
    else
        failed=$((failed + 1))
        echo "FAIL  $1: got '$2', want '$3'"
    fi
}
active() { "$CAST" call "$CONTRACT" "isActive(address,bytes)(bool)" "$1" "0x$2"; }

M1=$(printf 'a1%.0s' $(seq 48))
M2=$(printf 'b2%.0s' $(seq 48))
H=$(printf 'cd%.0s' $(seq 32))
ADDR0=$("$CAST" wallet address --private-key "$KEY0")
ADDR7=$("$CAST" wallet address --private-key "$KEY7")
NOBODY=0x000000000000000000000000000000000000dEaD

# --- refused before anything is sent ---------------------------------------
check "deploy.sh: unknown argument" 2 "unexpected argument" -- "$SCRIPTS/deploy.sh" --bogus
check "deploy.sh: missing artifact" 2 "not found" -- "$SCRIPTS/deploy.sh" --artifact "$WORK/none.json"
check "deploy.sh: no signer" 2 "no signer" -- env -u SIGIL_REGISTRY_PRIVATE_KEY "$SCRIPTS/deploy.sh"
check "deploy.sh: no RPC URL" 2 "ETH_RPC_URL" -- env -u ETH_RPC_URL "$SCRIPTS/deploy.sh"
check "register.sh: usage" 2 "usage:" -- "$SCRIPTS/register.sh" --help
for bad in abc "${M1:1}" "${M1}00" "${M1:2}zz" "$(printf '0%.0s' $(seq 96))"; do
    check "register.sh: refuses measurement '${bad:0:12}…' (${#bad} chars)" 2 "measurement" -- \
        "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$bad" --build-hash "$H"
done
check "register.sh: refuses 63-digit build hash" 2 "build-hash" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$M1" --build-hash "${H:1}"
check "register.sh: requires a build hash without --eif" 2 "build-hash" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$M1"
check "register.sh: refuses a 257-byte description" 2 "257 bytes" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$M1" --build-hash "$H" --description "$(printf 'x%.0s' $(seq 257))"
check "register.sh: counts description bytes, not characters (86 x 3 bytes)" 2 "258 bytes" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$M1" --build-hash "$H" --description "$(printf '€%.0s' $(seq 86))"
check "register.sh: two measurement sources" 2 "exactly one" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$M1" --measurement "$M2" --build-hash "$H"
check "register.sh: bad contract address" 2 "not an address" -- \
    "$SCRIPTS/register.sh" --contract 0x1234 --measurement "$M1" --build-hash "$H"
echo '{"PCR1":"00"}' >"$WORK/nopcr0.json"
check "register.sh: JSON without PCR0" 2 "no \"PCR0\"" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measure-json "$WORK/nopcr0.json" --build-hash "$H"
check "deprecate.sh: refuses a short measurement" 2 "measurement" -- \
    "$SCRIPTS/deprecate.sh" --contract "$NOBODY" --measurement "${M1:2}"
check "register.sh: no contract at the address" 1 "no contract at" -- \
    "$SCRIPTS/register.sh" --contract "$NOBODY" --measurement "$M1" --build-hash "$H"

# --- deploy and use -----------------------------------------------------------
check "deploy.sh: deploys" 0 "SigilMeasurementRegistry at" -- "$SCRIPTS/deploy.sh"
CONTRACT=$(cat "$OUT")
expect "deploy.sh: prints one checksummed address" "$(grep -Ec '^0x[0-9a-fA-F]{40}$' "$OUT")" 1
export SIGIL_REGISTRY_CONTRACT=$CONTRACT

check "register.sh: registers from hex" 0 "registered $M1" -- \
    "$SCRIPTS/register.sh" --measurement "0x${M1^^}" --build-hash "0x$H" --description "release 1 (€ ok)"
expect "isActive after register.sh" "$(active "$ADDR0" "$M1")" true
expect "getEntry has the build hash and description" \
    "$("$CAST" call "$CONTRACT" "getEntry(address,bytes)(bool,bool,bytes32,string,uint64,uint64)" "$ADDR0" "0x$M1" | sed -n '3,4p' | paste -sd' ' -)" \
    "0x$H \"release 1 (€ ok)\""
check "register.sh: same measurement again is named AlreadyRegistered" 1 "reverted: AlreadyRegistered\(" -- \
    "$SCRIPTS/register.sh" --measurement "$M1" --build-hash "$H"
check "deprecate.sh: never-registered is named NotRegistered" 1 "reverted: NotRegistered\(" -- \
    "$SCRIPTS/deprecate.sh" --measurement "$M2"
check "deprecate.sh: deprecates" 0 "deprecated $M1" -- "$SCRIPTS/deprecate.sh" --measurement "$M1"
expect "isActive after deprecate.sh" "$(active "$ADDR0" "$M1")" false
check "deprecate.sh: twice is named AlreadyDeprecated" 1 "reverted: AlreadyDeprecated\(" -- \
    "$SCRIPTS/deprecate.sh" --measurement "$M1"
check "register.sh: a deprecated measurement never comes back" 1 "reverted: AlreadyRegistered\(" -- \
    "$SCRIPTS/register.sh" --measurement "$M1" --build-hash "$H"

# build-enclave.sh's FILE.eif.measurements.json (pretty-printed by jq), and stdin
cat >"$WORK/measurements.json" <<JSON
{
  "commit": "0123456789abcdef0123456789abcdef01234567",
  "PCR1": "$M1",
  "PCR0": "$M2",
  "PCR2": "$M1"
}
JSON
check "register.sh: --measure-json build-enclave.sh's .measurements.json" 0 "registered $M2" -- \
    "$SCRIPTS/register.sh" --measure-json "$WORK/measurements.json" --build-hash "$H"
check "deprecate.sh: --measure-json - (stdin)" 0 "deprecated $M2" -- \
    "$SCRIPTS/deprecate.sh" --measure-json - <"$WORK/measurements.json"
expect "isActive(PCR0 of the .measurements.json)" "$(active "$ADDR0" "$M2")" false

# --- a keystore signer (the production way): another owner, same bytes -------
"$CAST" wallet import sigil-test --keystore-dir "$WORK/ks" --private-key "$KEY7" --unsafe-password test-only >/dev/null
printf 'test-only' >"$WORK/password"
check "register.sh: keystore signer registers the bytes owner 0 deprecated" 0 "for $ADDR7" -- \
    env -u SIGIL_REGISTRY_PRIVATE_KEY ETH_KEYSTORE="$WORK/ks/sigil-test" ETH_PASSWORD="$WORK/password" \
    "$SCRIPTS/register.sh" --measurement "$M1" --build-hash "$H" --description "someone else"
expect "the other owner's entry is active" "$(active "$ADDR7" "$M1")" true
expect "owner 0's entry stays deprecated" "$(active "$ADDR0" "$M1")" false

# --- from `sigil measure --eif` ---------------------------------------------
if [ -n "$SIGIL_BIN" ] && [ -x "$SIGIL_BIN" ] && [ -f "$EIF" ]; then
    "$SIGIL_BIN" measure --eif "$EIF" >"$WORK/eif.json"
    PCR0=$(sed -n 's/.*"PCR0":"\([0-9a-f]*\)".*/\1/p' "$WORK/eif.json")
    check "register.sh: --measure-json (sigil measure --eif output)" 0 "registered $PCR0" -- \
        "$SCRIPTS/register.sh" --measure-json "$WORK/eif.json" --build-hash "$H" --description "synthetic EIF"
    expect "isActive(PCR0 of the EIF)" "$(active "$ADDR0" "$PCR0")" true
    check "deprecate.sh: --eif (PCR0 through sigil)" 0 "deprecated $PCR0" -- \
        env SIGIL="$SIGIL_BIN" "$SCRIPTS/deprecate.sh" --eif "$EIF"
    check "register.sh: --eif of the PCR0 just deprecated is refused" 1 "reverted: AlreadyRegistered\(" -- \
        env SIGIL="$SIGIL_BIN" "$SCRIPTS/register.sh" --eif "$EIF"
    check "register.sh: --eif for a fresh owner" 0 "registered $PCR0" -- \
        env SIGIL="$SIGIL_BIN" SIGIL_REGISTRY_PRIVATE_KEY="$KEY7" "$SCRIPTS/register.sh" --eif "$EIF"
    expect "build hash is the EIF's SHA-256" \
        "$("$CAST" call "$CONTRACT" "getEntry(address,bytes)(bool,bool,bytes32,string,uint64,uint64)" "$ADDR7" "0x$PCR0" | sed -n 3p)" \
        "0x$(sha256sum "$EIF" | cut -d' ' -f1)"
else
    echo "skip  sigil measure --eif cases (no SIGIL_BIN_DIR given)"
fi

echo "deploy scripts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
