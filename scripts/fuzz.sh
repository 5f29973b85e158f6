#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each, from its committed seed corpus
# (fuzz/corpus/<target minus fuzz_>/), with a fixed seed so CI runs repeat.
# New inputs go to a scratch directory, not to the committed corpus.
set -euo pipefail
BUILD="$1"
SECONDS_EACH="$2"
SEED="${SEED:-1}"
cd "$(dirname "$0")/.."
mkdir -p "$BUILD/fuzz-artifacts"
for bin in "$BUILD"/bin/fuzz_*; do
    name=$(basename "$bin")
    corpus="fuzz/corpus/${name#fuzz_}"
    scratch=$(mktemp -d)
    echo "fuzz: $name for ${SECONDS_EACH}s (seed $SEED)"
    log="$scratch.log"
    status=0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
        "$bin" -seed="$SEED" -artifact_prefix="$BUILD/fuzz-artifacts/" -max_total_time="$SECONDS_EACH" -max_len=65536 \
        -print_final_stats=1 "$scratch" "$corpus" >"$log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units" "$log" || true
    rm -rf "$scratch"
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $name FAILED (exit $status)"
        exit 1
    fi
    rm -f "$log"
done
echo "fuzz: all targets ran clean"
