#!/usr/bin/env bash
# Fuzzes the checkpoint loader, the safetensors reader and the CSV and IDX data readers with
# libFuzzer under AddressSanitizer and UBSan, two at a time (one core each), for SECONDS each
# (default 60). Crashing inputs are written to
# tests/fuzz/regressions/, where the test suite replays them from then on. A longer run:
# scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${NEURONKA_JOBS:-2}

scripts/deps.sh clang libclang-rt-14-dev
cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEURONKA_FUZZ=ON \
      -DNEURONKA_BUILD_EXAMPLES=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzz_checkpoint fuzz_safetensors fuzz_csv fuzz_idx

# fuzz NAME SEED_DIR [libFuzzer options]: runs one target on a copy of its seeds (the fuzzer adds
# inputs to its corpus; the committed seeds stay unchanged), its log in build/fuzz/NAME.log.
fuzz() {
  local name=$1 seeds=$2 corpus
  shift 2
  corpus=$(mktemp -d)
  cp "$seeds"/* "$corpus"/
  local status=0
  build/fuzz/tests/"$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=tests/fuzz/regressions/"$name"- -print_final_stats=1 "$@" "$corpus" >build/fuzz/"$name".log 2>&1 ||
    status=$?
  rm -rf "$corpus"
  return "$status"
}
# run_pair "NAME SEEDS [options]" "NAME SEEDS [options]": two targets at once; a crash in either fails.
status=0
run_pair() {
  local first=$1 second=$2 p1 p2
  eval "fuzz $first" & p1=$!
  eval "fuzz $second" & p2=$!
  wait "$p1" || status=1
  wait "$p2" || status=1
}
echo "== fuzzing the checkpoint loader, the safetensors reader, the CSV and the IDX readers for ${seconds} s each, two at a time =="
run_pair "fuzz_checkpoint tests/fuzz/corpus" "fuzz_safetensors tests/fuzz/corpus-safetensors -dict=tests/fuzz/safetensors.dict"
run_pair "fuzz_csv tests/fuzz/corpus-csv" "fuzz_idx tests/fuzz/corpus-idx"
for name in fuzz_checkpoint fuzz_safetensors fuzz_csv fuzz_idx; do
  echo "-- $name"
  tail -15 build/fuzz/"$name".log
done
exit "$status"
