#!/usr/bin/env bash
# The tour's page in a real browser. Runs a quick tour with the examples already built, writes the
# page in English and in Czech, renders both in headless Chromium (a screenshot and a PDF) and checks
# what a person would otherwise check by eye:
#   - the tour ends by printing the page's path;
#   - every step of scripts/tour.sh has its section, with its figures or tables;
#   - every SVG the tour wrote is on the page and loads in the browser, and no image is broken;
#   - every table has the rows its example reported (and no row lacks a cell);
#   - printed to PDF, every step starts a page of its own;
#   - the Czech page differs from the English one only in text: the same structure, the same
#     images and the same numbers in every data cell, with every step title translated;
#   - with NEURONKA_TOUR_PLAYGROUND (a built playground, which the tour copies), the steps that have a
#     lesson in the playground link it, in the page's language, and the lesson is on that page;
#     without it, the tour runs with --no-playground and no step links one.
# Usage: check_tour_page.sh EXAMPLES_DIR WORK_DIR [SCREENSHOT.png]
#   (SCREENSHOT.png: where to copy the English page's screenshot, e.g. docs/img/tour-page.png)
set -euo pipefail
bin=$(realpath "$1") work=$(realpath -m "$2") shot=${3:-}
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
out=$work/tour
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
browser() { chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "$@" 2>>"$work/chromium.log"; }

echo "== a quick tour into $out"
playground=()
[ -n "${NEURONKA_TOUR_PLAYGROUND:-}" ] || playground=(--no-playground)
NEURONKA_TOUR_BIN=$bin "$root/scripts/tour.sh" --quick "${playground[@]}" "$out" >"$work/tour.log" 2>&1 || { tail -30 "$work/tour.log"; fail "the tour failed"; }
[ "$(tail -n 1 "$work/tour.log")" = "$out/index.html" ] || fail "the tour's last line is not the page's path: $(tail -n 1 "$work/tour.log")"
"$bin/tour_page" --out "$out" --lang cs --page "$out/index.cs.html" >/dev/null

mapfile -t steps < <(sed -n 's/^step [0-9]* "[^"]*" \([a-z_]*\).*/\1/p' "$root/scripts/tour.sh")
[ ${#steps[@]} -ge 9 ] || fail "found ${#steps[@]} steps in scripts/tour.sh"

for lang in en cs; do
  page=$out/index.html
  [ $lang = cs ] && page=$out/index.cs.html
  echo "== $lang: $page in Chromium"
  # the check runs in a copy beside the page, so that the images resolve as they do for a reader
  awk -v js="$here/check.js" '/<\/body>/ { print "<script>"; while ((getline l < js) > 0) print l; print "</script>" } { print }' \
    "$page" >"$out/check.$lang.html"
  browser --dump-dom "file://$out/check.$lang.html" >"$work/dom.$lang.html"
  sed -n '/<pre id="neuronka-check">/,/<\/pre>/p' "$work/dom.$lang.html" |
    sed -e 's/<pre id="neuronka-check">//' -e 's/<\/pre>.*//' -e 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g' >"$work/facts.$lang"
  facts=$work/facts.$lang
  grep -q "^lang $lang$" "$facts" || fail "$lang: the browser saw no page, or the wrong language (see $work/dom.$lang.html)"

  for s in "${steps[@]}"; do
    line=$(grep "^section $s " "$facts") || fail "$lang: no section for step $s"
    [[ $line != *"figures=0 tables=0"* ]] || fail "$lang: step $s has neither a figure nor a table"
  done
  [ "$(grep -c '^section ' "$facts")" -eq ${#steps[@]} ] || fail "$lang: sections are not the tour's ${#steps[@]} steps"

  ! grep '^img .* broken' "$facts" || fail "$lang: the images above did not load"
  if [ -n "${NEURONKA_TOUR_PLAYGROUND:-}" ]; then
    query=; [ $lang = cs ] && query='?lang=cs'
    for link in "neuron neuron" "xor xor" "attention gpt" "tiny_gpt gpt"; do
      read -r step lesson <<<"$link"
      grep -qx "playground $step playground/index.html$query#$lesson" "$facts" ||
        fail "$lang: step $step does not link lesson $lesson of the playground"
      grep -q "<section class=\"lesson\" id=\"$lesson\"" "$out/playground/index.html" ||
        fail "the playground has no lesson $lesson"
    done
    [ "$(grep -c '^playground ' "$facts")" -eq 4 ] || fail "$lang: links to the playground from steps without a lesson"
  else
    ! grep -q '^playground ' "$facts" || fail "$lang: links to a playground the tour did not build"
  fi
  for f in "$out"/*.svg; do
    grep -q "^img $(basename "$f") ok " "$facts" || fail "$lang: $(basename "$f") (written by the tour) is not on the page"
  done

  ! grep '^table .* ragged=[1-9]' "$facts" || fail "$lang: rows with a missing or extra cell"
  for s in "${steps[@]}"; do  # each table's rows against the example's report
    report=$out/report/$s.tsv
    values=$(grep -c '^value' "$report" || true)
    if [ "$values" -gt 0 ]; then
      grep -q "^table $s-measured rows=$values " "$facts" || fail "$lang: $s: measured figures are not the $values reported"
    fi
    k=0
    while read -r rows; do
      k=$((k + 1))
      grep -q "^table $s-table-$k rows=$rows " "$facts" || fail "$lang: table $k of $s does not have its $rows rows"
    done < <(awk '/^table/ { if (n) print r; n = 1; r = 0 } /^row/ { r++ } END { if (n) print r }' "$report")
    [ "$(grep -c "^table $s-table-" "$facts")" -eq $k ] || fail "$lang: $s has tables its report does not have"
    [ "$k" -eq 0 ] || ! awk '/^table/ { if (n && !r) bad = 1; n = 1; r = 0 } /^row/ { r++ } END { exit !(bad || (n && !r)) }' "$report" ||
      fail "$lang: $s reported a table without rows"
  done

  browser --screenshot="$work/page.$lang.png" --window-size=1200,1800 "file://$page" >/dev/null
  [ "$(stat -c %s "$work/page.$lang.png")" -gt 20000 ] || fail "$lang: the screenshot is (nearly) empty"
  browser --print-to-pdf="$work/page.$lang.pdf" --no-pdf-header-footer "file://$page" >/dev/null
  pages=$(grep -a -o -P '/Type\s*/Page(?!s)' "$work/page.$lang.pdf" | wc -l)
  [ "$pages" -ge ${#steps[@]} ] || fail "$lang: the PDF has $pages pages for ${#steps[@]} steps"
  echo "   ${#steps[@]} steps, $(grep -c '^img .* ok' "$facts") images loaded, $(grep -c '^table ' "$facts") tables, PDF $pages pages"
done

echo "== English and Czech"
for key in shape data; do
  cmp -s <(grep "^$key " "$work/facts.en") <(grep "^$key " "$work/facts.cs") ||
    fail "the Czech page's $key differs from the English page's (see $work/facts.en, $work/facts.cs)"
done
same=$(comm -12 <(grep '^h2 ' "$work/facts.en" | sort) <(grep '^h2 ' "$work/facts.cs" | sort) | wc -l)
[ "$same" -eq 0 ] || fail "$same step titles read the same in Czech as in English"
echo "   the same structure, images and numbers; every step title translated"

[ -z "$shot" ] || cp "$work/page.en.png" "$shot"
echo "PASS: the tour's page ($out/index.html, $out/index.cs.html)"
