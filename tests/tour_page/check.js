// Injected into a copy of the tour's page by check_tour_page.sh. After every image has loaded or
// failed, it writes what the browser made of the page into <pre id="neuronka-check">, one fact per
// line, which the script reads back from Chromium's --dump-dom:
//   lang L                              the page's language
//   section ID figures=N tables=N       one line per step
//   h2 TEXT                             each step's title, in the page's language
//   playground ID HREF                  a step's link to its lesson in the playground
//   img SRC ok|broken WIDTHxHEIGHT      every image and whether it loaded
//   table ID rows=N ragged=N            every table, its body rows, rows whose cell count differs from the header
//   data NUMBERS                        the numbers of every data cell in document order (same in every language)
//   shape TAGS                          the element structure of the page body (same in every language)
window.addEventListener('load', () => {
  const out = [];
  out.push('lang ' + document.documentElement.lang);
  for (const s of document.querySelectorAll('section.step'))
    out.push(`section ${s.id} figures=${s.querySelectorAll('img').length} tables=${s.querySelectorAll('table').length}`);
  for (const h of document.querySelectorAll('section.step h2')) out.push('h2 ' + h.textContent.trim());
  for (const a of document.querySelectorAll('section.step p.playground a'))
    out.push(`playground ${a.closest('section').id} ${a.getAttribute('href')}`);
  for (const i of document.images)
    out.push(`img ${i.getAttribute('src')} ${i.complete && i.naturalWidth > 0 ? 'ok' : 'broken'} ${i.naturalWidth}x${i.naturalHeight}`);
  for (const t of document.querySelectorAll('table')) {
    const head = t.tHead ? t.tHead.rows[0].cells.length : 2;
    const rows = [...t.tBodies].flatMap(b => [...b.rows]);
    out.push(`table ${t.id} rows=${rows.length} ragged=${rows.filter(r => r.cells.length !== head).length}`);
  }
  const numbers = [...document.querySelectorAll('td')].map(td => (td.textContent.match(/[0-9][0-9.e+-]*/g) || []).join(','));
  out.push('data ' + numbers.join('|'));
  const shape = [...document.body.querySelectorAll('*')].filter(e => e.id !== 'neuronka-check')
                  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.tagName === 'IMG' ? '=' + e.getAttribute('src') : ''));
  out.push('shape ' + shape.join(' '));
  const pre = document.createElement('pre');
  pre.id = 'neuronka-check';
  pre.textContent = out.join('\n');
  document.body.appendChild(pre);
});
