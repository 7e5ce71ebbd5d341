#!/usr/bin/env bash
# The lecture tour: installs what is missing, builds the examples in Release and runs every one of
# them in the lecture's order, writing all figures into one folder, then the page that shows them
# all: OUTPUT_DIR/index.html (examples/tour_page.cpp). Meanwhile, on the second core, it builds the
# playground (scripts/playground.sh: the first lessons live in the browser) into
# OUTPUT_DIR/playground, which the page links from those steps.
# Usage: scripts/tour.sh [--lang en|cs] [--quick] [--no-playground] [OUTPUT_DIR]   (default: out/tour)
#   --lang cs         the page's own text in Czech, the lecture's language (default en)
#   --quick           every example trains briefly (about a minute in all): for checking the tour itself
#   --no-playground   no playground (its page is then not linked)
# NEURONKA_TOUR_BIN=DIR runs the examples already built in DIR instead of installing and building;
# NEURONKA_TOUR_PLAYGROUND=DIR copies the playground already built in DIR instead of building it.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${NEURONKA_JOBS:-2}
lang=en quick=0 playground=1 out=out/tour
while [ $# -gt 0 ]; do
  case $1 in
    --lang) [ $# -ge 2 ] || { echo "tour.sh: --lang needs en or cs" >&2; exit 2; }; lang=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --no-playground) playground=0; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "tour.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done
case $lang in en|cs) ;; *) echo "tour.sh: --lang $lang: expected en or cs" >&2; exit 2 ;; esac
out=$(realpath -m "$out")

if [ -n "${NEURONKA_TOUR_BIN:-}" ]; then
  bin=$NEURONKA_TOUR_BIN
else
  scripts/deps.sh libopenblas-dev  # the BLAS backend: the examples' large products (docs/performance.md)
  scripts/configure.sh build/release -DCMAKE_BUILD_TYPE=Release -DNEURONKA_BUILD_TESTS=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
  # the programs the tour runs, and nothing else (not quickstart, not the portable compiled part)
  cmake --build build/release -j"$jobs" --target neuron xor fashion_mnist language_models word_embeddings \
        attention majority tiny_gpt training_cost tour_page
  bin=build/release/examples
fi
mkdir -p "$out"
rm -f "$out/runs.tsv"  # the training examples append their measured runs; training_cost reads them
rm -rf "$out/report"   # each example writes its part of the page here
rm -rf "$out/playground"
if [ $playground = 1 ]; then  # Emscripten compiles the playground while the examples train
  if [ -n "${NEURONKA_TOUR_PLAYGROUND:-}" ]; then
    mkdir -p "$out/playground"
    cp "$NEURONKA_TOUR_PLAYGROUND/index.html" "$out/playground/index.html"
    echo "playground: $out/playground/index.html (copied from $NEURONKA_TOUR_PLAYGROUND)" >"$out/playground.log"
    true &
  else  # (it installs emscripten if missing; if it cannot, the tour goes on without the playground)
    scripts/playground.sh "$out/playground" >"$out/playground.log" 2>&1 &
  fi
  playground_job=$!
fi

step() {  # step NUMBER TITLE PROGRAM [ARGS...]
  local n=$1 title=$2 program=$3
  shift 3
  printf '\n=== Step %s: %s ===\n\n' "$n" "$title"
  "$bin/$program" --out "$out" "$@"
}
quick() { [ $quick = 1 ] && echo "$@" || true; }  # the arguments, in a quick tour only

step 1 "What is a neuron? y = w*x + b, trained from random w and b (iterations 0, 1, X)" neuron
step 2 "One neuron is a straight line: XOR needs a network" xor $(quick --steps 100)
if [ $quick = 1 ]; then fashion=(--epochs 1 --train-images 3000); else fashion=(--mlp-epochs 3 --cnn-epochs 1); fi
step 3 "Real data: Fashion-MNIST, an MLP and a CNN (3 and 1 epochs here; the full run is examples/fashion_mnist with no options)" fashion_mnist "${fashion[@]}"
step 4 "Statistics -> word embeddings -> recurrence -> transformer: six models of English words, measured" language_models $(quick --scale 0.02)
step 5 "Word embeddings: words used alike get similar vectors" word_embeddings $(quick --steps 300)
step 6 "Attention: not all data is equally important" attention $(quick --steps 100)
step 7 "Attention in a model you compose: which digit occurs most often?" majority $(quick --steps 100)
step 8 "A tiny GPT trained on a text file" tiny_gpt $(quick --steps 30)
step 9 "What training costs: FLOPs, PF-days, memory, energy, CO2 and water, up to GPT-3" training_cost

if [ $playground = 1 ]; then
  if wait $playground_job; then
    printf '\n%s\n' "$(tail -n 1 "$out/playground.log")"
  else
    printf '\nThe playground did not build (the page will not link it):\n' >&2
    tail -n 20 "$out/playground.log" >&2
    rm -rf "$out/playground"
  fi
fi

printf '\nThe tour is complete. Figures are in %s:\n' "$out"
ls -1 "$out"
printf '\nThe tour as one page (open it in a browser):\n'
"$bin/tour_page" --out "$out" --lang "$lang"
