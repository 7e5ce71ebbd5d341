#!/usr/bin/env bash
# Fuzzes the checkpoint loader, the safetensors reader and the CSV and IDX data readers with
# libFuzzer under AddressSanitizer and UBSan, two at a time (one core each), for SECONDS each
# (default 60), then prints each target's inputs, inputs per second and coverage. Each target starts
# from its hand-made seeds (tests/fuzz/corpus*) and the minimised corpus earlier runs found
# (tests/fuzz/found/TARGET). Crashing inputs are written to tests/fuzz/regressions/, where the test
# suite replays them from then on.
#
#   scripts/fuzz.sh 20                  the test command's short run
#   NEURONKA_FUZZ_RUNS=10000000 scripts/fuzz.sh 0 --update
#                                       the long run: 10 million inputs per reader, however long that
#                                       takes (docs/fuzzing.md gives the time), then merges what it
#                                       found into tests/fuzz/found/ (libFuzzer's -merge=1: the fewest
#                                       inputs that keep every feature) to commit
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
update=${2:-}
jobs=${NEURONKA_JOBS:-2}
# Allocation stack traces off (malloc_context_size=0) and a small quarantine: ASan still checks every
# access; a crash's full report comes from its replay in the sanitized unit tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=16}

scripts/deps.sh clang libclang-rt-14-dev
scripts/configure.sh build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEURONKA_FUZZ=ON \
      -DNEURONKA_BUILD_EXAMPLES=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzz_checkpoint fuzz_safetensors fuzz_csv fuzz_idx

# fuzz NAME SEED_DIR [libFuzzer options]: runs one target on a copy of its seeds and found corpus
# (the fuzzer adds inputs to its corpus; the committed files stay unchanged), its log in
# build/fuzz/NAME.log; with --update, merges the run's corpus into tests/fuzz/found/NAME.
fuzz() {
  local name=$1 seeds=$2 corpus found=tests/fuzz/found/$1
  shift 2
  corpus=$(mktemp -d)
  cp "$seeds"/* "$corpus"/
  if [[ -d $found ]]; then cp "$found"/* "$corpus"/ 2>/dev/null || true; fi
  local status=0
  build/fuzz/tests/"$name" -max_total_time="$seconds" ${NEURONKA_FUZZ_RUNS:+-runs=$NEURONKA_FUZZ_RUNS} -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=tests/fuzz/regressions/"$name"- -print_final_stats=1 "$@" "$corpus" >build/fuzz/"$name".log 2>&1 ||
    status=$?
  if [[ $update == --update && $status == 0 ]]; then
    local merged
    merged=$(mktemp -d)
    build/fuzz/tests/"$name" -merge=1 "$@" "$merged" "$corpus" >build/fuzz/"$name".merge.log 2>&1
    rm -rf "$found" && mkdir -p "$found" && cp "$merged"/* "$found"/
    rm -rf "$merged"
  fi
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
# stat NAME KEY: a number from the target's final statistics.
stat() { sed -n "s/^stat::$2: *//p" build/fuzz/"$1".log | tail -1; }
echo "== summary: ${NEURONKA_FUZZ_RUNS:-${seconds} s} per target, two at a time =="
printf '%-18s %12s %10s %10s %8s %8s\n' target inputs "inputs/s" seconds edges corpus
for name in fuzz_checkpoint fuzz_safetensors fuzz_csv fuzz_idx; do
  printf '%-18s %12s %10s %10s %8s %8s\n' "$name" "$(stat "$name" number_of_executed_units)" \
    "$(stat "$name" average_exec_per_sec)" "$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' build/fuzz/"$name".log | tail -1)" "$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' build/fuzz/"$name".log | tail -1)" \
    "$(sed -n 's/.*DONE .* corp: \([0-9]*\)\/.*/\1/p' build/fuzz/"$name".log | tail -1)"
done
exit "$status"
