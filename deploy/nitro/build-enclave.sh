#!/usr/bin/env bash
# Builds the enclave image file (EIF) from one git commit and prints its
# PCR0/1/2: the production measurement that goes into the KMS key policy.
# Runs on a build host with Docker, nitro-cli and jq (untested here: no Docker
# engine or nitro-cli on the development machine). See docs/OPERATIONS.md.
#
# usage: deploy/nitro/build-enclave.sh --region REGION --kms-key-id ARN
#                                      [--ref GIT_REF] [--output FILE.eif]
#   --region      AWS region of the KMS key, e.g. eu-west-1 (baked into the image)
#   --kms-key-id  arn:aws:kms:REGION:ACCOUNT:key/UUID (baked into the image)
#   --ref         commit to build (default HEAD); uncommitted changes are not built
#   --output      EIF path (default sigil-enclave-<commit>.eif)
# Environment: BASE_IMAGE and DEBIAN_SNAPSHOT override the Dockerfile's pins.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REGION_RE='^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$'

die() {
    echo "build-enclave: $*" >&2
    exit 2
}

region="" key_id="" ref=HEAD output=""
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case "$1" in
    --region) region=$2 ;;
    --kms-key-id) key_id=$2 ;;
    --ref) ref=$2 ;;
    --output) output=$2 ;;
    *) die "unknown option $1" ;;
    esac
    shift 2
done

[[ $region =~ $REGION_RE ]] || die "--region: expected an AWS region such as eu-west-1"
# The key must live in the region the enclave talks to: SigV4 scope, TLS name
# and the vsock-proxy allowlist all use that one region.
[[ $key_id =~ ^arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:key/[0-9a-f-]{36}$ ]] ||
    die "--kms-key-id: expected arn:aws:kms:REGION:ACCOUNT:key/UUID"
[ "${BASH_REMATCH[1]}" = "$region" ] ||
    die "--kms-key-id is in ${BASH_REMATCH[1]}, --region is $region"
for tool in git docker nitro-cli jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run this on the build host)"
done
if [ -n "${BASE_IMAGE:-}" ] && [[ ! $BASE_IMAGE =~ @sha256:[0-9a-f]{64}$ ]]; then
    die "BASE_IMAGE must be pinned by digest (NAME@sha256:<64 hex>)"
fi

commit=$(git -C "$ROOT" rev-parse --verify "$ref^{commit}")
epoch=$(git -C "$ROOT" log -1 --format=%ct "$commit")
output=${output:-$PWD/sigil-enclave-${commit:0:12}.eif}
tag="sigil-enclave:${commit:0:12}"

ctx=$(mktemp -d "${TMPDIR:-/tmp}/sigil-eif.XXXXXX")
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() { rm -rf "$ctx"; }
trap cleanup EXIT

# The build context is exactly the commit; the Dockerfile is rendered from it.
git -C "$ROOT" archive --format=tar "$commit" | tar -xf - -C "$ctx"
[ -f "$ctx/deploy/nitro/Dockerfile" ] || die "$commit has no deploy/nitro/Dockerfile"
sed -e "s|@REGION@|$region|g" -e "s|@KMS_KEY_ID@|$key_id|g" \
    "$ctx/deploy/nitro/Dockerfile" >"$ctx/Dockerfile.rendered"
if grep -q '@[A-Z_]*@' "$ctx/Dockerfile.rendered"; then
    die "unfilled placeholder in the Dockerfile"
fi

build_args=(--build-arg "SOURCE_DATE_EPOCH=$epoch")
[ -n "${BASE_IMAGE:-}" ] && build_args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
[ -n "${DEBIAN_SNAPSHOT:-}" ] && build_args+=(--build-arg "DEBIAN_SNAPSHOT=$DEBIAN_SNAPSHOT")
echo "build-enclave: commit $commit, region $region" >&2
DOCKER_BUILDKIT=1 SOURCE_DATE_EPOCH=$epoch docker build --pull=false --no-cache \
    "${build_args[@]}" -f "$ctx/Dockerfile.rendered" -t "$tag" "$ctx" >&2

nitro-cli build-enclave --docker-uri "$tag" --output-file "$output" >"$ctx/measurements.json"
pcr() { jq -er ".Measurements.$1" "$ctx/measurements.json"; }
pcr0=$(pcr PCR0)
pcr1=$(pcr PCR1)
pcr2=$(pcr PCR2)
for v in "$pcr0" "$pcr1" "$pcr2"; do
    [[ $v =~ ^[0-9a-f]{96}$ ]] || die "nitro-cli printed an unexpected measurement: $v"
done

# Our own EIF reader must agree with nitro-cli (sigil measure --eif).
sigil=${SIGIL:-$(command -v sigil || true)}
if [ -n "$sigil" ]; then
    ours=$("$sigil" measure --eif "$output")
    if [ "$(jq -r '.PCR0 + .PCR1 + .PCR2' <<<"$ours")" != "$pcr0$pcr1$pcr2" ]; then
        die "sigil measure --eif disagrees with nitro-cli: $ours"
    fi
fi

jq -n --arg commit "$commit" --arg region "$region" --arg key "$key_id" \
    --arg pcr0 "$pcr0" --arg pcr1 "$pcr1" --arg pcr2 "$pcr2" --arg eif "$output" \
    '{commit: $commit, region: $region, kms_key_id: $key, eif: $eif,
      PCR0: $pcr0, PCR1: $pcr1, PCR2: $pcr2}' >"$output.measurements.json"
echo "EIF   $output"
echo "PCR0  $pcr0"
echo "PCR1  $pcr1"
echo "PCR2  $pcr2"
echo "(production measurements of the EIF; PCR0 goes into the KMS key policy)"
