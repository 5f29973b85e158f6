#!/usr/bin/env bash
# make lint: formatting check, cppcheck and clang-tidy over the C sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t SOURCES < <(git ls-files 'src/*.c' 'include/*.h' 'src/*.h' 'bench/*.c' 'tests/unit/*.c')
mapfile -t C_FILES < <(git ls-files 'src/*.c')

echo "lint: clang-format"
clang-format --dry-run --Werror "${SOURCES[@]}"

echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
    --enable=warning,portability,performance \
    --suppress=missingIncludeSystem -I include -I src \
    "${C_FILES[@]}"

echo "lint: clang-tidy"
BUILD="${BUILD:-build}"
[ -f "$BUILD/compile_commands.json" ] || {
    echo "lint: $BUILD/compile_commands.json missing: run 'make lint' (it configures $BUILD)" >&2
    exit 1
}
CHECKS='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier'
CHECKS+=',clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
CHECKS+=',misc-redundant-expression'
clang-tidy --quiet -p "$BUILD" --warnings-as-errors='*' --checks="$CHECKS" \
    "${C_FILES[@]}" 2> >(grep -v "warnings generated" >&2)
echo "lint: ok"
