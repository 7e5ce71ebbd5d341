#!/usr/bin/env bash
# The benchmark figures of docs/performance.md and README.md are the generated blocks of
# bench/run_all.sh: each page holds its block once; the block names a commit of this repository
# (the one it was printed on), the CPU, the compiler and the flags; no cell of its tables is empty
# (a benchmark whose output the script could not read); and every ratio the README's block quotes
# is one of docs/performance.md's.
# Usage: check_bench_blocks.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "check_bench_blocks: $*" >&2; exit 1; }
# block FILE MARKER: the lines between the markers.
block() { awk -v b="<!-- bench/run_all.sh: $2begin" -v e="<!-- bench/run_all.sh: $2end" \
  'index($0, e) == 1 { on = 0 } on { print } index($0, b) == 1 { on = 1 }' "$1"; }
for pair in "docs/performance.md:" "README.md:readme "; do
  file=$src/${pair%%:*} marker=${pair#*:}
  [ "$(grep -c "<!-- bench/run_all.sh: ${marker}begin" "$file")" = 1 ] || fail "$file: expected one '${marker}begin' marker"
  [ "$(grep -c "<!-- bench/run_all.sh: ${marker}end" "$file")" = 1 ] || fail "$file: expected one '${marker}end' marker"
  text=$(block "$file" "$marker")
  commit=$(printf '%s\n' "$text" | sed -n 's/.*on commit `\([0-9a-f]\{7,40\}\)[` ].*/\1/p' | head -1)
  [ -n "$commit" ] || fail "$file: the generated block names no commit (run bench/run_all.sh)"
  git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null || fail "$file: the block's commit $commit is not in this repository"
  printf '%s\n' "$text" | grep -q -- "-march=" || fail "$file: the block names no flags"
  printf '%s\n' "$text" | grep -q "GCC\|g++\|clang" || fail "$file: the block names no compiler"
  if printf '%s\n' "$text" | grep -q '|  *|\|||\| / |'; then fail "$file: a table cell of the block is empty"; fi
  echo "$file: generated on $commit"
done
perf=$(block "$src/docs/performance.md" "")
for r in $(block "$src/README.md" "readme " | grep -o '[0-9]\+\.[0-9]\+x'); do
  printf '%s\n' "$perf" | grep -q -- "$r" || fail "README.md quotes $r, which docs/performance.md's generated block does not hold"
done
echo "the README's figures are all in docs/performance.md's generated block"
