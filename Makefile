# tsvault: the two commands a user needs are `make run` and `make test`.
BUILD_DIR   ?= build
ASAN_DIR    ?= build-sanitize
TSAN_DIR    ?= build-tsan
FUZZ_SECONDS ?= 60
BUILD_TYPE  ?= Release
DATA_DIR    ?= ./data
LISTEN      ?= 127.0.0.1:9201
JOBS        ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build install run test test-unit test-long soak test-sanitize fuzz sanitize-build test-tsan tsan-build bench bench-compare bench-forward bench-csv clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The binary, a hardened systemd unit and an example flags file under
# $(PREFIX) (README, "Running it for real"); DESTDIR works as usual.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# Build and start the server with data in $(DATA_DIR).
run: build
	$(BUILD_DIR)/tools/tsvault serve --storage.path=$(DATA_DIR) --web.listen-address=$(LISTEN)

# Every test: unit, protocol, crash and real-Prometheus integration tests.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

# The long variants (not in `make test`): a 20-minute forward receiver
# outage under the live seed workload.
test-long: build
	TSVAULT_FORWARD_OUTAGE_SECONDS=1200 $(BUILD_DIR)/tests/forward_test --gtest_filter='*LongReceiverOutage*'

# 100 kill -9 cycles under ingest, queries, downsampling, checkpoints and
# forwarding (a 10-cycle variant runs in `make test`); prints peak RSS and
# restart times.
SOAK_CYCLES ?= 100
soak: build
	TSVAULT_SOAK_CYCLES=$(SOAK_CYCLES) $(BUILD_DIR)/tests/crash_test --gtest_filter='*SoakUnderMixedLoad*'

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, built with
# clang, whose coverage instrumentation also gives the libFuzzer targets
# (tests/fuzz); then each fuzz target for $(FUZZ_SECONDS) seconds.
UNIT_TEST_TARGETS = common_unit_tests model_unit_tests storage_unit_tests prometheus_tsdb_unit_tests http_unit_tests auth_unit_tests remote_write_unit_tests forward_unit_tests query_unit_tests workload_unit_tests compaction_unit_tests import_unit_tests

sanitize-build: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DTSVAULT_SANITIZE=ON -DTSVAULT_FUZZ=ON -DTSVAULT_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j $(JOBS) --target $(UNIT_TEST_TARGETS) fuzz_targets

test-sanitize: sanitize-build
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit
	./scripts/run-fuzzers.sh $(ASAN_DIR) $(FUZZ_SECONDS)

# The unit tests of the concurrent parts under ThreadSanitizer (clang): the
# WAL group sync and checkpoints (storage), the HTTP pools, remote write's
# in-flight bound, the forwarding shards and the query engine's worker
# threads. Run without address randomisation (setarch -R), which some
# kernels' mmap layouts need for TSan's shadow memory.
TSAN_TEST_TARGETS = storage_unit_tests http_unit_tests auth_unit_tests remote_write_unit_tests forward_unit_tests query_unit_tests

tsan-build: deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DTSVAULT_TSAN=ON -DTSVAULT_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TEST_TARGETS)

test-tsan: tsan-build
	@for t in $(TSAN_TEST_TARGETS); do \
	  echo "== $$t (ThreadSanitizer)"; \
	  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$(CURDIR)/tests/tsan.supp setarch $$(uname -m) -R $(TSAN_DIR)/tests/$$t --gtest_brief=1 || exit 1; \
	done

# Every fuzz target for FUZZ_SECONDS (default here: 10 minutes each).
fuzz: FUZZ_SECONDS = 600
fuzz: sanitize-build
	./scripts/run-fuzzers.sh $(ASAN_DIR) $(FUZZ_SECONDS)

# Google Benchmark micro-benchmarks.
bench: build
	@for b in $(BUILD_DIR)/bench/*_bench; do echo "== $$b"; $$b --benchmark_min_time=0.2; done

# tsvault next to a real Prometheus 2.42 on this machine (under 15 min on 2
# cores); replaces its section of bench/RESULTS.md. See bench/compare/README.md.
bench-compare: build
	python3 bench/compare/bench_compare.py --write-results --tsvault-binary $(BUILD_DIR)/tools/tsvault

# Forwarding cost per sample (0, 1, 2 targets) vs vmagent, and catch-up
# after an outage (bench/compare/forward.py); writes bench/RESULTS.md.
bench-forward: build
	python3 bench/compare/forward.py --write-results --tsvault-binary $(BUILD_DIR)/tools/tsvault

# CSV import/export next to VictoriaMetrics 1.79 and the PostgreSQL import
# (bench/compare/csv_bench.py); writes bench/RESULTS.md.
bench-csv: build
	python3 bench/compare/csv_bench.py --write-results --tsvault-binary $(BUILD_DIR)/tools/tsvault

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
