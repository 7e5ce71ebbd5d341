#!/usr/bin/env bash
# Fuzzes the checkpoint loader with libFuzzer under AddressSanitizer and UBSan for SECONDS
# (default 60). Crashing inputs are written to tests/fuzz/regressions/, where the test suite
# replays them from then on. A longer run: scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${NEURONKA_JOBS:-2}

scripts/deps.sh clang libclang-rt-14-dev
cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEURONKA_FUZZ=ON \
      -DNEURONKA_BUILD_EXAMPLES=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzz_checkpoint
corpus=$(mktemp -d)  # the fuzzer adds inputs to its corpus; keep the committed seeds unchanged
cp tests/fuzz/corpus/* "$corpus"/
echo "== fuzzing the checkpoint loader for ${seconds} s =="
build/fuzz/tests/fuzz_checkpoint -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=tests/fuzz/regressions/ -print_final_stats=1 "$corpus" 2>&1 | tail -15
status=${PIPESTATUS[0]}
rm -rf "$corpus"
exit "$status"
