# The commands people type. CMake does the building; CTest runs the tests.
#   make            build (installs missing Debian packages first)
#   make test       the whole suite: unit, vectors, CLI, differential, registry, sanitizer build
#   make test-diff  differential tests only (SEED=… CASES=…)
#   make test-registry  measurement registry contract + its clients, on a local anvil
#   make test-ctime constant-time check: secrets marked undefined under valgrind
#   make test-sdk   the TypeScript and Python SDKs and the MCP server (sdk/) against dev stacks
#   make test-pg    the store suite, every end-to-end suite, the audit CLI suite, pairs, rotation and limits on a throw-away PostgreSQL
#   make soak       faults under sustained load, 10 minutes (SOAK_SECONDS=…); soak-short: 15 s, in make test
#   make bench      benchmarks
#   make lint       clang-format check, cppcheck, clang-tidy
#   make run        the dev stack: key service, launcher + enclave, gateway (Ctrl-C stops)
#   make bench-e2e  signed requests/s and latency through a live dev stack
#   make measure    builds sigil-enclave twice at different paths; fails unless identical

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SEED       ?= 1
CASES      ?= 300
CMAKE_GEN  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all bootstrap build test test-unit test-asan test-diff test-registry test-ctime bench bench-e2e lint format run clean \
	fuzz fuzz-smoke fuzz-build measure test-sdk test-pg soak soak-short

all: build

bootstrap:
	@scripts/bootstrap.sh

$(BUILD)/.configured: CMakeLists.txt | bootstrap
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	@touch $@

build: bootstrap $(BUILD)/.configured
	cmake --build $(BUILD) -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE ctime

$(ASAN_BUILD)/.configured: CMakeLists.txt | bootstrap
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSIGIL_SANITIZE=ON
	@touch $@

test-asan: bootstrap $(ASAN_BUILD)/.configured
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-diff: build
	@scripts/bootstrap.sh --all
	tests/diff/run.sh $(abspath $(BUILD))/bin/sigil $(SEED) $(CASES)

test-registry: build
	@scripts/bootstrap.sh --all
	contracts/run.sh $(abspath $(BUILD))/bin

# The configure step again finds valgrind's header if bootstrap just installed it.
test-ctime: build
	@scripts/bootstrap.sh --all
	cmake -S . -B $(BUILD) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -L ctime

# The SDK suites start their own dev stack from $(BUILD)/bin.
test-sdk: build
	@scripts/bootstrap.sh --all
	sdk/typescript/run-tests.sh $(abspath $(BUILD))/bin
	sdk/python/run-tests.sh $(abspath $(BUILD))/bin
	sdk/mcp/run-tests.sh $(abspath $(BUILD))/bin

# PostgreSQL once, in the normal build (initdb/pg_ctl run as an unprivileged user).
test-pg: build
	@scripts/bootstrap.sh --all
	tests/pg/run.sh $(BUILD)

# Faults under load (docs/SOAK.md): as root it mounts a tmpfs for the store
# and runs the gateway as nobody. The normal build: memory is measured.
SOAK_SECONDS ?= 600
soak: build
	python3 tests/soak/soak.py $(BUILD)/bin --seconds $(SOAK_SECONDS) --seed $(SEED) --out $(BUILD)/soak-report.json

soak-short: build
	python3 tests/soak/soak.py $(BUILD)/bin --seconds 15 --seed $(SEED) --out $(BUILD)/soak-short-report.json

test: test-unit test-diff test-registry test-ctime test-sdk test-pg soak-short test-asan fuzz-smoke

bench: build
	$(BUILD)/bin/sigil-bench

bench-e2e: build
	python3 bench/e2e.py $(BUILD)/bin $(or $(BENCH_SECONDS),5) $(or $(BENCH_CONNS),16)

$(FUZZ_BUILD)/.configured: CMakeLists.txt | bootstrap
	@scripts/bootstrap.sh --all
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSIGIL_FUZZ=ON
	@touch $@

fuzz-build: $(FUZZ_BUILD)/.configured
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Long runs: make fuzz FUZZ_SECONDS=3600. CI runs fuzz-smoke (seconds each).
fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) 15

lint: bootstrap $(BUILD)/.configured
	@scripts/bootstrap.sh --all
	BUILD=$(BUILD) scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Reproducibility of the enclave executable: prints the SHA-384 and the DEV
# measurement of each build (not a production PCR0; see docs/OPERATIONS.md).
measure: build
	scripts/measure.sh $(abspath $(BUILD))/bin/sigil

run: build
	python3 scripts/devstack.py run --bin $(BUILD)/bin

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
