#!/usr/bin/env bash
# Formats every C++ source of neuronka with clang-format (.clang-format at the top level), or with
# --check reports the files that differ from their formatted version and fails (the test command
# runs the check). Usage: scripts/format.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format || command -v clang-format-14 || true)
if [ -z "$format" ]; then
  echo "format.sh: clang-format is missing (Debian: apt-get install clang-format)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.hpp' '*.cpp' '*.h' '*.cc')
if [ "${1:-}" = "--check" ]; then
  # all files in a few calls, two at a time; clang-format names each file that differs
  status=0
  out=$(printf '%s\0' "${files[@]}" | xargs -0 -n 40 -P 2 "$format" --dry-run --Werror 2>&1 >/dev/null) || status=$?
  mapfile -t bad < <(printf '%s\n' "$out" | sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
  if [ $status -ne 0 ] && [ ${#bad[@]} -eq 0 ]; then
    echo "neuronka: clang-format failed:" >&2
    printf '%s\n' "$out" >&2
    exit 1
  fi
  if [ ${#bad[@]} -gt 0 ]; then
    echo "neuronka: ${#bad[@]} file(s) differ from clang-format's layout (run scripts/format.sh):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "clang-format: ${#files[@]} files formatted"
elif [ $# -eq 0 ]; then
  "$format" -i "${files[@]}"
else
  echo "format.sh: unknown option $1 (scripts/format.sh formats; --check only checks)" >&2
  exit 2
fi
