#!/usr/bin/env bash
# Builds the playground: the lecture's first three lessons (examples/lecture/lessons.hpp, the code the
# native examples run) compiled with Emscripten to WebAssembly, in one offline page that opens from
# file:// with no network: OUT_DIR/index.html (English; ?lang=cs for Czech). The module is
# examples/playground/module.cpp, the page examples/playground/page.html and page.js; the
# WebAssembly and the word list (Debian's wamerican, lowercase words only: what tiny_gpt reads)
# are inlined into the page as base64 (Emscripten's SINGLE_FILE), so nothing is fetched.
# Usage: scripts/playground.sh [OUT_DIR]   (default: out/playground). Installs emscripten if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/playground}
build=${NEURONKA_PLAYGROUND_BUILD:-build/playground}
command -v em++ >/dev/null || scripts/deps.sh emscripten
mkdir -p "$build" "$out"
start=$SECONDS

# The word list as the module's file system holds it, at the path tiny_gpt reads; only the lines
# words::load keeps (lowercase a-z), so the page carries 0.6 MB instead of 1 MB.
words=()
if [ -r /usr/share/dict/words ]; then
  grep -E '^[a-z]+$' /usr/share/dict/words >"$build/words"
  words=(--embed-file "$build/words@/usr/share/dict/words")
fi
# Emscripten's JavaScript optimiser needs Debian's acorn (node-acorn), which only Debian's node finds by default.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
# -msimd128: WebAssembly's 128-bit SIMD for the compiler's vectoriser (Eigen has no WebAssembly
# kernels and its SSE path does not compile there, so no -msse); compat/ holds the empty <mmintrin.h>
# Eigen includes. -fexceptions: neuronka's errors reach the page as messages.
em++ -std=c++20 -O3 -DNDEBUG -msimd128 -fexceptions -Wall -Wextra \
     -Iexamples/playground/compat -Iinclude -I/usr/include/eigen3 \
     -sSINGLE_FILE=1 -sALLOW_MEMORY_GROWTH=1 -sMODULARIZE=1 -sEXPORT_NAME=createPlayground \
     -sEXPORTED_RUNTIME_METHODS=ccall,UTF8ToString,stringToUTF8,lengthBytesUTF8 -sEXPORTED_FUNCTIONS=_malloc,_free \
     "${words[@]}" examples/playground/module.cpp -o "$build/playground.js"
if grep -q '</script' "$build/playground.js" examples/playground/page.js; then
  echo "playground: a script contains </script>; it cannot be inlined" >&2
  exit 1
fi

# The page: page.html with the module and page.js inlined where its markers are.
awk -v module="$build/playground.js" -v page=examples/playground/page.js '
  function inline(file,  line) { print "<script>"; while ((getline line < file) > 0) print line; close(file); print "</script>" }
  /<!-- neuronka:module -->/ { inline(module); next }
  /<!-- neuronka:page -->/ { inline(page); next }
  { print }' examples/playground/page.html >"$out/index.html.tmp"
mv "$out/index.html.tmp" "$out/index.html"
printf "playground: %s (%d KB, of which the module %d KB) in %d s\n" "$out/index.html" \
  $(($(stat -c %s "$out/index.html") / 1024)) $(($(stat -c %s "$build/playground.js") / 1024)) $((SECONDS - start))
