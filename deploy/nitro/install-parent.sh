#!/usr/bin/env bash
# Installs the Sigil host side on a Nitro parent instance (untrusted host):
# the vsock-proxy allowlist and the three systemd units with @REGION@ filled
# in, and enclave-watch.sh. The EIF and sigil-gateway are copied separately
# (docs/OPERATIONS.md). With --prefix it only renders into that directory.
#
# usage: deploy/nitro/install-parent.sh --region REGION [--prefix DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REGION_RE='^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$'

die() {
    echo "install-parent: $*" >&2
    exit 2
}

region="" prefix=""
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case "$1" in
    --region) region=$2 ;;
    --prefix) prefix=${2%/} ;;
    *) die "unknown option $1" ;;
    esac
    shift 2
done
[[ $region =~ $REGION_RE ]] || die "--region: expected an AWS region such as eu-west-1"

render() { # SRC DST MODE
    install -d -m 0755 "$(dirname "$2")"
    sed "s|@REGION@|$region|g" "$1" >"$2.tmp"
    if grep -q '@[A-Z_]*@' "$2.tmp"; then
        rm -f "$2.tmp"
        die "unfilled placeholder in $1"
    fi
    chmod "$3" "$2.tmp"
    mv "$2.tmp" "$2"
}

render "$HERE/vsock-proxy.yaml" "$prefix/etc/sigil/vsock-proxy.yaml" 0644
for unit in sigil-vsock-proxy sigil-enclave sigil-gateway; do
    render "$HERE/systemd/$unit.service" "$prefix/etc/systemd/system/$unit.service" 0644
done
render "$HERE/enclave-watch.sh" "$prefix/opt/sigil/bin/enclave-watch.sh" 0755
echo "install-parent: rendered for $region under ${prefix:-/}" >&2

if [ -z "$prefix" ]; then
    id -u sigil >/dev/null 2>&1 || useradd --system --home-dir /var/lib/sigil --shell /usr/sbin/nologin sigil
    systemctl daemon-reload
    echo "install-parent: now copy the EIF to /opt/sigil/sigil-enclave.eif and sigil-gateway to" \
        "/usr/local/bin, then: systemctl enable --now sigil-vsock-proxy sigil-enclave sigil-gateway" >&2
fi
