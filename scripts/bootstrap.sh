#!/usr/bin/env bash
# Installs the Debian packages Sigil builds and tests with. Idempotent and
# non-interactive: does nothing when every package is already installed.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config python3
    libsecp256k1-dev libsodium-dev libssl-dev libjsmn-dev libmsgpack-dev
    libcmocka-dev libgmp-dev libmicrohttpd-dev libsqlite3-dev
    libcurl4-openssl-dev libseccomp-dev libpq-dev)
TOOL_PKGS=(clang-14 libclang-rt-14-dev libfuzzer-14-dev clang-format clang-tidy
    cppcheck valgrind nodejs npm python3-venv shellcheck postgresql gdb)

# Used by `make run` (its example uses curl) and the end-to-end tests (TLS
# certificates, process checks); not needed to compile.
RUN_PKGS=(openssl ca-certificates curl procps)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
if [ "${1:-}" = "--all" ]; then want+=("${TOOL_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
    # A tool already on PATH (e.g. node from another source) counts as present.
    case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
