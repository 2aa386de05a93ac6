# Thin wrapper: install dependencies, configure, build, and run the demo or
# the tests with one command each. The real build is CMake (CMakeLists.txt).
BUILD ?= build
TSAN_BUILD ?= build-tsan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build demo demo-replay test test-tsan test-asan fuzz image image-test clean

all: build

deps:
	bash deploy/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The main job: the embedded Kafka-protocol broker, a generated stream with a
# planted fee-complaint incident, and the engine; windows print as they close.
demo: build
	$(BUILD)/engine/earshot demo

# The same stream through the file path (earshot replay), in two seconds.
demo-replay: build
	bash deploy/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The container image (deploy/Containerfile) with podman, buildah or docker;
# BASE=debian:12-slim uses a registry's base instead of making one with
# mmdebstrap; IMAGE= names it (default localhost/earshot:VERSION).
image: build
	BUILD=$(abspath $(BUILD)) bash deploy/image.sh

# Builds the image and checks it from inside (tests/image_test.py).
image-test: build
	cd $(BUILD) && ctest --output-on-failure -R '^image$$'

# The multi-threaded pipeline and the HTTP server again under
# ThreadSanitizer, through the CLI.
# (Criterion's shared-memory arena cannot start under TSan, so this runs the
# script test, not the Criterion executables.)
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DES_SANITIZE=thread $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target earshot earshot-gen
	cd $(TSAN_BUILD) && ctest --output-on-failure -R 'replay_determinism|reload_under_load|http_ops|triage_reload'

# Unit tests and the replay under AddressSanitizer + UndefinedBehaviorSanitizer
# (not the image test: what runs in the image is the Release build).
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DES_SANITIZE=address $(CMAKE_FLAGS)
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS) -E '^image$$'

# Each libFuzzer target (tests/fuzz) for FUZZ_SECONDS, from its seed corpus
# (copied: what the fuzzer finds stays in build-fuzz/corpus). Fails on any
# crash, leak or sanitizer report; the input that did it is left in
# build-fuzz/ as crash-* / leak-*, to become a regression seed.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS = decode query config sentiment state http situations triage part
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DES_SANITIZE=address -DES_FUZZ=ON \
	  -DBUILD_TESTING=OFF $(CMAKE_FLAGS)
	cmake --build build-fuzz -j$(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf build-fuzz/corpus/$$t; mkdir -p build-fuzz/corpus/$$t; cp tests/fuzz/corpus/$$t/* build-fuzz/corpus/$$t/; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  (cd build-fuzz && ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    corpus/$$t > fuzz_$$t.log 2>&1) || { tail -n 80 build-fuzz/fuzz_$$t.log; echo "fuzz_$$t FAILED"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done' build-fuzz/fuzz_$$t.log || true; \
	done

clean:
	rm -rf $(BUILD) $(TSAN_BUILD) build-asan build-fuzz
