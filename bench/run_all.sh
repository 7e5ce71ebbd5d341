#!/usr/bin/env bash
# Runs every benchmark — the core's FMA limit, T1-T6 against their hand-written Eigen references
# with Eigen's kernels and with the BLAS backend, 1 and 2 threads — and rewrites the generated block
# of docs/performance.md (between its "bench/run_all.sh" markers) with the figures, the commit, the
# CPU, the compiler and the flags. On a CPU with AVX-512 it also builds everything for AVX2
# (-march=haswell) and adds that column. The raw outputs stay in build/bench/run_all/.
#   bench/run_all.sh                about 12 minutes on 2 cores; run it on a quiet machine
#   bench/run_all.sh --tables-only  rewrites the blocks from the outputs of the last run
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${NEURONKA_JOBS:-2}
scripts/deps.sh libopenblas-dev
out=build/bench/run_all
mkdir -p "$out"
names="bench_mlp bench_transformer bench_cnn bench_threads"

# build DIR [cmake options]: the benchmarks and their _blas twins in DIR.
build() {
  local dir=$1
  shift
  scripts/configure.sh "$dir" -DCMAKE_BUILD_TYPE=Release -DNEURONKA_BUILD_TESTS=OFF -DNEURONKA_BUILD_EXAMPLES=OFF "$@" >/dev/null
  local targets="bench_peak"
  for n in $names; do targets="$targets $n ${n}_blas"; done
  # shellcheck disable=SC2086
  cmake --build "$dir" -j"$jobs" --target $targets
}
# run DIR TAG: every benchmark of DIR, each output in $out/TAG-NAME.txt.
run() {
  local dir=$1 tag=$2
  "$dir"/bench/bench_peak | tee "$out/$tag-peak.txt"
  for n in $names; do
    for variant in "" _blas; do
      echo "== $tag: $n$variant"
      # the _blas twins run with the BLAS whatever this CPU's default (their output says which that is)
      if [ -n "$variant" ]; then
        NEURONKA_BLAS=1 "$dir/bench/$n$variant" | tee "$out/$tag-$n$variant.txt"
      else
        "$dir/bench/$n$variant" | tee "$out/$tag-$n$variant.txt"
      fi
    done
    # the threads' FMA limit together and their round trip change with where the host runs them:
    # measured again right after the threads benchmark, for its columns
    if [ "$n" = bench_threads ]; then "$dir"/bench/bench_peak | tee "$out/$tag-peak-threads.txt"; fi
  done
}

isas=native
grep -q avx512f /proc/cpuinfo && isas="native avx2"
if [ "${1:-}" != --tables-only ]; then
  # The commit the figures are printed on, and the compiler, kept with the outputs.
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- include bench src CMakeLists.txt ||
    commit="$commit with uncommitted changes to include/, bench/ or src/"
  echo "$commit" >"$out/commit.txt"
  build build/bench
  sed -n 's/^set(CMAKE_CXX_COMPILER_\(ID\|VERSION\) "\(.*\)")/\2/p' build/bench/CMakeFiles/*/CMakeCXXCompiler.cmake |
    paste -sd' ' | sed 's/^GNU /GCC /' >"$out/compiler.txt"
  run build/bench native
  if [ "$isas" != native ]; then
    build build/bench-avx2 -DNEURONKA_NATIVE=OFF -DCMAKE_CXX_FLAGS=-march=haswell
    run build/bench-avx2 avx2
  fi
fi

# The figures, parsed from the outputs.
ratio_mlp() { awk -v id="$2" '$1 == id { for (i = 2; i <= NF; ++i) if ($i ~ /^[0-9.]+x$/) { print $i; exit } }' "$1"; }
gflops_mlp() { awk -v id="$2" '$1 == id { for (i = 2; i <= NF; ++i) if ($i ~ /^[0-9.]+x$/) { print $(i + 1); exit } }' "$1"; }
ratio_line() { sed -n 's/^ratio neuronka \/ hand-written: \([0-9.]*x\).*/\1/p' "$1" | head -1; }
gflops_line() { awk '$1 == "neuronka" && NF >= 3 { print $3; exit }' "$1"; }
speedup() { awk -v id="$2" '$1 == id { print $(NF - 1) " / " $NF; exit }' "$1"; }
peak() { sed -n 's/^peak: \([0-9.]*\) GFLOP.*/\1/p' "$1"; }
round_trip() { sed -n 's/^round trip of a cache line between two threads: \([0-9]*\) ns.*/\1 ns/p' "$1"; }
peak_all() { sed -n 's/^peak, \([0-9]*\) threads at once: \([0-9.]*\) GFLOP\/s together, \([0-9.]*x\) .*/\2 GFLOP\/s, \3 one thread'"'"'s/p' "$1"; }
default_backend() { sed -n 's/^backend: .*; by default on this CPU: //p' "$1" | head -1; }

commit=$(cat "$out/commit.txt")
compiler=$(cat "$out/compiler.txt")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cpus=$(nproc)
simd=$(grep -q avx512f /proc/cpuinfo && echo "AVX-512" || echo "AVX2, no AVX-512")
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo "none")

block=$(mktemp)
{
  echo "<!-- bench/run_all.sh: begin (generated; do not edit by hand) -->"
  echo "Printed by \`bench/run_all.sh\` on commit \`$commit\`, $(date -u +%Y-%m-%d): $cpu ($simd, $cpus CPUs),"
  echo "$compiler, Release \`-O3\`; BLAS: \`$blas\`. Ratios are neuronka / the hand-written Eigen"
  echo "reference in the same run (the reference never uses the BLAS), one thread; the threads columns are"
  echo "set_threads(2) against set_threads(1), best round / median of the rounds (bench_threads). The BLAS"
  echo "columns are the NAME_blas builds run with \`NEURONKA_BLAS=1\`, whatever the CPU's default."
  for isa in $isas; do
    flags=$([ "$isa" = native ] && echo "-march=native" || echo "-march=haswell (AVX2)")
    echo
    echo "**\`$flags\`**: the core's float32 FMA limit (bench_peak) $(peak "$out/$isa-peak.txt") GFLOP/s. Right after the"
    echo "threads benchmark, all $cpus hardware threads at once: $(peak_all "$out/$isa-peak-threads.txt") (the most that work bound"
    echo "by multiply-adds can gain from threads), and a cache line's round trip between two threads $(round_trip "$out/$isa-peak-threads.txt"). A program"
    echo "linking the backend on this CPU uses, unless NEURONKA_BLAS says otherwise: $(default_backend "$out/$isa-bench_mlp_blas.txt")."
    echo
    echo "| task | ratio, Eigen kernels | GFLOP/s | ratio, BLAS (forced) | GFLOP/s | 2 threads, Eigen | 2 threads, BLAS (forced) |"
    echo "|---|---|---|---|---|---|---|"
    for t in T1 T2 T3 T4; do
      what=$(awk -v id="$t" '$1 == id { $1 = ""; sub(/^ /, ""); sub(/ +[0-9]+ +[0-9]+ +[0-9.]+x.*/, ""); print; exit }' "$out/$isa-bench_mlp.txt")
      echo "| $t $what | $(ratio_mlp "$out/$isa-bench_mlp.txt" $t) | $(gflops_mlp "$out/$isa-bench_mlp.txt" $t) | $(ratio_mlp "$out/$isa-bench_mlp_blas.txt" $t) | $(gflops_mlp "$out/$isa-bench_mlp_blas.txt" $t) | $(speedup "$out/$isa-bench_threads.txt" $t) | $(speedup "$out/$isa-bench_threads_blas.txt" $t) |"
    done
    echo "| T5 transformer d 64, 2 layers | $(ratio_line "$out/$isa-bench_transformer.txt") | $(gflops_line "$out/$isa-bench_transformer.txt") | $(ratio_line "$out/$isa-bench_transformer_blas.txt") | $(gflops_line "$out/$isa-bench_transformer_blas.txt") | $(speedup "$out/$isa-bench_threads.txt" T5) | $(speedup "$out/$isa-bench_threads_blas.txt" T5) |"
    echo "| T6 Fashion-MNIST CNN | $(ratio_line "$out/$isa-bench_cnn.txt") | $(gflops_line "$out/$isa-bench_cnn.txt") | $(ratio_line "$out/$isa-bench_cnn_blas.txt") | $(gflops_line "$out/$isa-bench_cnn_blas.txt") | $(speedup "$out/$isa-bench_threads.txt" T6) | $(speedup "$out/$isa-bench_threads_blas.txt" T6) |"
  done
  echo "<!-- bench/run_all.sh: end -->"
} >"$block"

# The README's lines: the same figures, one sentence (native build).
readme=$(mktemp)
n=native
{
  echo "<!-- bench/run_all.sh: readme begin (generated; do not edit by hand) -->"
  echo "Printed by \`bench/run_all.sh\` on commit \`$commit\` ($cpu, $simd, $compiler, \`-O3 -march=native\`,"
  echo "one thread), neuronka against the same networks written by hand with plain Eigen in the same run,"
  echo "the update fused into the backward sweep as a good engineer would write it — with Eigen's kernels /"
  echo "with the BLAS backend forced on: the lecture's neuron $(ratio_mlp "$out/$n-bench_mlp.txt" T1) / $(ratio_mlp "$out/$n-bench_mlp_blas.txt" T1),"
  echo "a 2-16-16-1 MLP $(ratio_mlp "$out/$n-bench_mlp.txt" T2) / $(ratio_mlp "$out/$n-bench_mlp_blas.txt" T2),"
  echo "a 64-128-10 MLP $(ratio_mlp "$out/$n-bench_mlp.txt" T3) / $(ratio_mlp "$out/$n-bench_mlp_blas.txt" T3),"
  echo "a 784-256-128-10 MLP $(ratio_mlp "$out/$n-bench_mlp.txt" T4) / $(ratio_mlp "$out/$n-bench_mlp_blas.txt" T4)"
  echo "($(gflops_mlp "$out/$n-bench_mlp.txt" T4) GFLOP/s with Eigen's kernels, of the core's $(peak "$out/$n-peak.txt")),"
  echo "the T5 transformer $(ratio_line "$out/$n-bench_transformer.txt") / $(ratio_line "$out/$n-bench_transformer_blas.txt")"
  echo "and the Fashion-MNIST CNN (T6) $(ratio_line "$out/$n-bench_cnn.txt") / $(ratio_line "$out/$n-bench_cnn_blas.txt");"
  echo "two threads against one: 784-256-128-10 $(speedup "$out/$n-bench_threads.txt" T4 | cut -d' ' -f1),"
  echo "transformer $(speedup "$out/$n-bench_threads.txt" T5 | cut -d' ' -f1), CNN $(speedup "$out/$n-bench_threads.txt" T6 | cut -d' ' -f1)"
  echo "(best rounds, Eigen's kernels; the $cpus hardware threads' FMA limit together: $(peak_all "$out/$n-peak-threads.txt" | sed 's/.*, //'), their round trip $(round_trip "$out/$n-peak-threads.txt")). All of it, both instruction sets where the CPU has them: [docs/performance.md](docs/performance.md)."
  echo "<!-- bench/run_all.sh: readme end -->"
} >"$readme"

# replace FILE MARKER BLOCK_FILE: the lines from "<!-- bench/run_all.sh: MARKER begin" to
# "<!-- bench/run_all.sh: MARKER end" (both included) by the block.
replace() {
  local file=$1 marker=$2 with=$3
  grep -q "<!-- bench/run_all.sh: ${marker}begin" "$file" || { echo "run_all.sh: $file has no generated block" >&2; exit 1; }
  awk -v block="$with" -v begin="<!-- bench/run_all.sh: ${marker}begin" -v end="<!-- bench/run_all.sh: ${marker}end" '
    index($0, begin) == 1 { while ((getline line < block) > 0) print line; skip = 1; next }
    index($0, end) == 1 { skip = 0; next }
    !skip { print }' "$file" >"$file.new"
  mv "$file.new" "$file"
}
replace docs/performance.md "" "$block"
replace README.md "readme " "$readme"
rm -f "$block" "$readme"
echo "run_all.sh: rewrote the generated blocks of docs/performance.md and README.md (commit $commit)"
