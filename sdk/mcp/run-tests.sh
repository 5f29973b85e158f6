#!/usr/bin/env bash
# The MCP server's tests against a throw-away dev stack (sdk/node-suite.sh).
#
#   sdk/mcp/run-tests.sh BIN_DIR        (BIN_DIR: sigil, sigil-gateway, … e.g. build/bin)
#
# npm copies @sigil/sdk in from ../typescript (.npmrc: install-links), so its
# sources count as inputs: a change there reinstalls.
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 BIN_DIR" >&2
    exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$HERE/../node-suite.sh" "$HERE" "$1" .npmrc ../typescript/package.json ../typescript/src
