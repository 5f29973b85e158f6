#!/usr/bin/env bash
# make measure: builds sigil-enclave twice, from two copies of the source tree
# at different paths, with reproducible flags, and fails unless both files are
# byte-identical. Prints the SHA-384 of each file and its DEV measurement
# (`sigil measure FILE` = SHA384(0^48 || SHA384(file)), what sigil-launch
# reports in dev mode). A dev measurement is NOT a production PCR0: PCR0 is
# the hash of an EIF (`sigil measure --eif FILE`, or nitro-cli build-enclave).
#
# usage: scripts/measure.sh [PATH/TO/sigil]
#   SIGIL=PATH   the sigil CLI used to print the dev measurement
#                (default: build/bin/sigil; built in the first copy if absent)
#   KEEP=1       keep the temporary directories (to diff the two builds)
#   CC=...       compiler (resolved once, the same one for both builds)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIGIL=${1:-${SIGIL:-$ROOT/build/bin/sigil}}
CC_PATH=$(command -v "${CC:-cc}") || {
    echo "measure: no C compiler (${CC:-cc})" >&2
    exit 1
}
CC_PATH=$(readlink -f "$CC_PATH")
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)

# One fixed time for anything that stamps one: the last commit's, else 0.
SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC
umask 022

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sigil-measure.XXXXXX")
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "measure: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# The working tree as git sees it (tracked and untracked, minus ignored
# files such as build directories); a plain copy without git.
copy_tree() {
    local dst=$1
    mkdir -p "$dst"
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
            tar --null -T - -cf -) | tar -xf - -C "$dst"
    else
        tar -C "$ROOT" --exclude='./build' --exclude='./build-*' -cf - . | tar -xf - -C "$dst"
    fi
}

# build SRC_COPY: configures and builds sigil-enclave inside SRC_COPY/b.
build_copy() {
    local src=$1 target=${2:-sigil-enclave}
    cmake -S "$src" -B "$src/b" "${GENERATOR[@]}" \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$CC_PATH" \
        -DCMAKE_C_FLAGS="-ffile-prefix-map=$src=. -fdebug-prefix-map=$src=." \
        -DCMAKE_EXE_LINKER_FLAGS="-Wl,--build-id=none" >"$src/configure.log" 2>&1 || {
        cat "$src/configure.log" >&2
        return 1
    }
    cmake --build "$src/b" --target "$target" >"$src/build.log" 2>&1 || {
        cat "$src/build.log" >&2
        return 1
    }
}

# Different directory names and depths, so a leaked path changes the bytes.
A="$WORK/a/sigil"
B="$WORK/b/second-copy-at-another-path/src"
echo "measure: compiler $CC_PATH, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH" >&2
for dir in "$A" "$B"; do
    echo "measure: building sigil-enclave in $dir" >&2
    copy_tree "$dir"
    build_copy "$dir"
done
if [ ! -x "$SIGIL" ]; then
    echo "measure: $SIGIL not found; building sigil in the first copy" >&2
    build_copy "$A" sigil
    SIGIL="$A/b/bin/sigil"
fi

status=0
declare -A dev sha
for dir in "$A" "$B"; do
    f="$dir/b/bin/sigil-enclave"
    sha[$dir]=$(sha384sum "$f" | cut -d' ' -f1)
    dev[$dir]=$("$SIGIL" measure "$f")
    echo "$f"
    echo "  sha384            ${sha[$dir]}"
    echo "  dev measurement   ${dev[$dir]}  (sigil measure; not a production PCR0)"
done
if [ "${sha[$A]}" != "${sha[$B]}" ] || [ "${dev[$A]}" != "${dev[$B]}" ]; then
    echo "measure: FAIL: the two builds differ (KEEP=1 keeps both; compare with diffoscope)" >&2
    status=1
else
    echo "measure: OK: two builds at different paths are byte-identical"
fi
exit $status
