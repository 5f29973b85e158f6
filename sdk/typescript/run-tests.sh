#!/usr/bin/env bash
# The TypeScript SDK's tests against a throw-away dev stack (sdk/node-suite.sh).
#
#   sdk/typescript/run-tests.sh BIN_DIR        (BIN_DIR: sigil, sigil-gateway, … e.g. build/bin)
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 BIN_DIR" >&2
    exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$HERE/../node-suite.sh" "$HERE" "$1"
