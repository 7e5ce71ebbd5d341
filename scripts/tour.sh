#!/usr/bin/env bash
# The lecture tour: installs what is missing, builds the examples in Release and runs every one of
# them in the lecture's order, writing all figures into one folder.
# Usage: scripts/tour.sh [OUTPUT_DIR]   (default: out/tour)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${NEURONKA_JOBS:-2}
out=$(realpath -m "${1:-out/tour}")

scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DNEURONKA_BUILD_TESTS=OFF -DNEURONKA_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j"$jobs"
mkdir -p "$out"
rm -f "$out/runs.tsv"  # the training examples append their measured runs; training_cost reads them
bin=build/release/examples

step() {  # step NUMBER TITLE PROGRAM [ARGS...]
  local n=$1 title=$2 program=$3
  shift 3
  printf '\n=== Step %s: %s ===\n\n' "$n" "$title"
  "$bin/$program" --out "$out" "$@"
}

step 1 "What is a neuron? y = w*x + b, trained from random w and b (iterations 0, 1, X)" neuron
step 2 "One neuron is a straight line: XOR needs a network" xor
step 3 "Real data: Fashion-MNIST, an MLP and a CNN (3 and 1 epochs here; the full run is examples/fashion_mnist with no options)" fashion_mnist --mlp-epochs 3 --cnn-epochs 1
step 4 "Statistics -> word embeddings -> recurrence -> transformer: five models of English words, measured" language_models
step 5 "Word embeddings: words used alike get similar vectors" word_embeddings
step 6 "Attention: not all data is equally important" attention
step 7 "Attention in a model you compose: which digit occurs most often?" majority
step 8 "A tiny GPT trained on a text file" tiny_gpt
step 9 "What training costs: FLOPs, PF-days, memory, energy, CO2 and water, up to GPT-3" training_cost

printf '\nThe tour is complete. Figures are in %s:\n' "$out"
ls -1 "$out"
