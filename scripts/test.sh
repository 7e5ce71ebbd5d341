#!/usr/bin/env bash
# The test command: installs what is missing, checks that every C++ source is laid out as
# clang-format writes it (.clang-format), then builds and runs every test with warnings as errors,
# in two builds that compile each test source once: the unit tests with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer at -O0 with assertions on (build/test-unit; clang
# compiles these template-heavy sources about four times as fast as GCC at -O0), and everything else
# with GCC, optimised (build/test: the examples and their tests, compile-fail tests, consumers, the
# experiment template, the sweep, the tour page and the playground in a browser: Emscripten builds
# the playground, headless Chromium runs it against the native examples). Then the API reference with Doxygen (a
# warning is an error), the threads test under ThreadSanitizer (GCC), and the checkpoint,
# safetensors, CSV and IDX readers fuzzed for 20 s each, two at a time (scripts/fuzz.sh). Each
# stage prints its time.
#
# scripts/test.sh --quick: the edit-test loop. Checks the layout, then builds the unit tests with
# clang at -O0 (test_threads, which trains for thousands of steps, at -O1), linked to
# neuronka::compiled (its kernels at -O1) with lld, assertions on, warnings as errors; no
# sanitizers, examples, consumers, browser, Doxygen or fuzzing (nor the fuzz targets' replays); in
# build/quick, and runs them (CTest label "unit"). CONTRIBUTING.md says when to run which; CI runs the full command.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${NEURONKA_JOBS:-2}

if [ "${1:-}" = "--quick" ]; then
  scripts/deps.sh clang clang-format lld
  scripts/format.sh --check
  echo "== neuronka quick tests (unit tests, clang -O0 with assertions, no sanitizers) =="
  # lld links the test programs four times as fast as the default linker; Catch2's fast-compile mode
  # (an exception inside one assertion fails its test case rather than that assertion) saves a
  # twentieth of the compile time.
  scripts/configure.sh build/quick -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
        -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_CXX_FLAGS=-DCATCH_CONFIG_FAST_COMPILE \
        -DNEURONKA_TRAINING_TESTS_OPTIONS=-O1 -DNEURONKA_TESTS_COMPILED=ON -DNEURONKA_FUZZ_REPLAY=OFF \
        -DNEURONKA_WERROR=ON -DNEURONKA_TESTS=unit -DNEURONKA_BUILD_EXAMPLES=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
  cmake --build build/quick -j"$jobs"
  exec ctest --test-dir build/quick -j"$jobs" -L unit --output-on-failure
elif [ $# -gt 0 ]; then
  echo "test.sh: unknown option $1 (scripts/test.sh runs every test; scripts/test.sh --quick the unit tests)" >&2
  exit 2
fi

scripts/deps.sh chromium fonts-dejavu-core emscripten parallel slurm-wlm munge doxygen clang libclang-rt-14-dev clang-format libopenblas-dev  # OpenBLAS: the BLAS backend (test_blas, the examples); clang-format checks the layout; the browser renders the tour's page (test tour_page) and runs the playground, which Emscripten builds (playground_build, playground); a sweep runs under GNU parallel (sweep_parallel) and as a Slurm array job (sweep_slurm); the API reference; clang builds the sanitized unit tests and the fuzzers

start=$SECONDS
stage() {  # stage NAME: prints how long the stage before took, then starts NAME
  [ -n "${stage_name:-}" ] && printf -- "-- %s: %d s\n" "$stage_name" $((SECONDS - stage_start))
  stage_name=$1 stage_start=$SECONDS
  [ -n "$1" ] && printf "\n== %s ==\n" "$1"
  return 0
}

stage "the layout: every C++ source as clang-format writes it (scripts/format.sh --check)"
scripts/format.sh --check

stage "the unit tests: clang, ASan + UBSan at -O0, assertions on, -Wall -Wextra -Wpedantic -Werror (build/test-unit)"
scripts/configure.sh build/test-unit -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DNEURONKA_WERROR=ON \
      -DNEURONKA_SANITIZE=address,undefined -DNEURONKA_TESTS=unit -DNEURONKA_TEST_THREADS=OFF \
      -DNEURONKA_COMPILED_PART=OFF -DNEURONKA_BUILD_EXAMPLES=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
cmake --build build/test-unit -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/test-unit -j"$jobs" --output-on-failure

stage "everything else: GCC, Release, -Wall -Wextra -Wpedantic -Werror (build/test): examples, compile-fail, consumers, template, sweep, browser"
# test_threads is built once, in the ThreadSanitizer stage below.
scripts/configure.sh build/test -DCMAKE_BUILD_TYPE=Release -DNEURONKA_WERROR=ON -DNEURONKA_TESTS=integration \
      -DNEURONKA_BUILD_EXAMPLES=ON -DNEURONKA_BUILD_BENCH=OFF >/dev/null
cmake --build build/test -j"$jobs"
ctest --test-dir build/test -j"$jobs" --output-on-failure

stage "the API reference (Doxygen): every public class, function and member documented"
mkdir -p build/doxygen
if ! doxygen docs/Doxyfile; then
  echo "neuronka: the API reference has warnings (undocumented or badly documented public members):" >&2
  cat build/doxygen/warnings.txt >&2
  exit 1
fi
echo "build/doxygen/html/index.html: no warnings"

stage "neuronka threads under ThreadSanitizer (GCC)"
# Only test_threads: it drives every parallel region (the pool, the split products, attention,
# convolution, the optimisers) with 2 threads, and 4 threads predicting from one model at once.
tsan="-fsanitize=thread -fno-omit-frame-pointer"
scripts/configure.sh build/tsan -DCMAKE_BUILD_TYPE=Debug -DNEURONKA_WERROR=ON -DNEURONKA_BUILD_EXAMPLES=OFF \
      -DNEURONKA_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="-O1 -g $tsan" -DCMAKE_EXE_LINKER_FLAGS="$tsan" >/dev/null
cmake --build build/tsan -j"$jobs" --target test_threads
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --test-dir build/tsan --output-on-failure -R '^test_threads$'

stage "fuzzing (scripts/fuzz.sh)"
scripts/fuzz.sh "${NEURONKA_FUZZ_SECONDS:-20}"
stage ""
printf "== all stages passed in %d s ==\n" $((SECONDS - start))
