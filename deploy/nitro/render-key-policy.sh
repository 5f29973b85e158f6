#!/usr/bin/env bash
# Renders kms-key-policy.json for one or more enclave images (PCR0 values,
# from build-enclave.sh). Two values = the dual-allow used during a rotation:
# both images may obtain keys, and the Deny excludes everything else. Prints
# the policy on stdout; apply it with `aws kms put-key-policy`. Host tool.
#
# usage: deploy/nitro/render-key-policy.sh --admin-arn ARN --instance-role-arn ARN
#                                          PCR0 [PCR0 ...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATE=${TEMPLATE:-$HERE/kms-key-policy.json}
ZERO=$(printf '0%.0s' $(seq 96))

die() {
    echo "render-key-policy: $*" >&2
    exit 2
}

admin="" role="" pcrs=()
while [ $# -gt 0 ]; do
    case "$1" in
    --admin-arn | --instance-role-arn)
        [ $# -ge 2 ] || die "$1 needs a value"
        [[ $2 =~ ^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user|root) ]] || die "$1: expected an IAM ARN"
        if [ "$1" = --admin-arn ]; then admin=$2; else role=$2; fi
        shift 2
        ;;
    -*) die "unknown option $1" ;;
    *)
        v=${1,,}
        [[ $v =~ ^[0-9a-f]{96}$ ]] || die "PCR0 must be 96 hex digits: $1"
        # All zero is what a debug-mode enclave reports: never allow it.
        [ "$v" != "$ZERO" ] || die "refusing the all-zero (debug-mode) PCR0"
        pcrs+=("$v")
        shift
        ;;
    esac
done
{ [ -n "$admin" ] && [ -n "$role" ]; } || die "--admin-arn and --instance-role-arn are required"
{ [ ${#pcrs[@]} -ge 1 ] && [ ${#pcrs[@]} -le 4 ]; } || die "give 1 to 4 PCR0 values"
command -v jq >/dev/null 2>&1 || die "jq not found"

jq --arg admin "$admin" --arg role "$role" --args '
    ($ARGS.positional | if length == 1 then .[0] else . end) as $pcr0
    | walk(if . == "${PCR0}" then $pcr0
           elif . == "${ADMIN_ARN}" then $admin
           elif . == "${INSTANCE_ROLE_ARN}" then $role
           else . end)' "${pcrs[@]}" <"$TEMPLATE"
