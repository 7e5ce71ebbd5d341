#!/usr/bin/env bash
# A sweep through GNU parallel: 2 configurations x 10 seeds, one process per run, each writing its
# result file; then the summary of the files, which must equal the same experiment run in one process.
# Usage: sweep.sh XOR_SWEEP_BINARY WORK_DIR
set -euo pipefail
bin=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir/results"
parallel --will-cite --halt now,fail=1 -j2 "$bin" run {1} {2} "$dir/results/h{1}-seed{2}.csv" ::: 2 8 ::: $(seq 1 10)
files=$(find "$dir/results" -name '*.csv' | wc -l)
echo "result files: $files"
[ "$files" -eq 20 ]
"$bin" summarize "$dir/results" | tee "$dir/summary.txt"
"$bin" in-process 10 >"$dir/in-process.txt"
diff "$dir/summary.txt" "$dir/in-process.txt"
echo "the sweep's summary equals the in-process experiment's"
