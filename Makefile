# Thin wrapper: install dependencies, configure, build, and run the demo or
# the tests with one command each. The real build is CMake (CMakeLists.txt).
BUILD ?= build
TSAN_BUILD ?= build-tsan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build demo demo-replay test test-tsan test-asan clean

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

# The multi-threaded pipeline again under ThreadSanitizer, through the CLI.
# (Criterion's shared-memory arena cannot start under TSan, so this runs the
# script test, not the Criterion executables.)
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DES_SANITIZE=thread $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target earshot earshot-gen
	cd $(TSAN_BUILD) && ctest --output-on-failure -R 'replay_determinism|reload_under_load'

# Unit tests and the replay under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DES_SANITIZE=address $(CMAKE_FLAGS)
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD) $(TSAN_BUILD) build-asan
