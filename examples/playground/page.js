// The playground's page logic: reads the controls, calls the WebAssembly module (module.cpp) and draws
// what it returns on canvases. No model code here: every loss, weight and probability comes from
// the module. window.playground exposes each lesson's record (for the browser test, which drives
// the page through its controls like a visitor).
'use strict';

const TEXT = {
  en: {
    title: 'neuronka playground',
    intro: 'The lecture "How AI is trained", live: each lesson trains a neuronka model in this page, compiled from the same C++ headers and lesson code as the native examples (WebAssembly, no network).',
    loading: 'Loading the WebAssembly module…',
    ready: 'Module loaded: neuronka {version}.',
    slide: 'Slide',
    learning_rate: 'learning rate',
    iterations: 'iterations X',
    steps: 'steps',
    hidden: 'hidden units',
    activation: 'activation',
    step: 'Step',
    run: 'Run',
    reset: 'Reset',
    train: 'Train',
    stop: 'Stop',
    layer: 'block',
    head: 'head',
    attention_on: 'attention on',
    'neuron.title': 'A neuron is a line: y = w·x + b',
    'neuron.text': 'The neuron starts with random w and b (iteration 0). Each step of gradient descent moves them towards the line that fits the points best. Move the learning rate: too small and the line crawls, too large and it overshoots and diverges.',
    'neuron.plot': 'The points and the line',
    'neuron.iteration0': 'iteration 0',
    'neuron.iteration1': 'iteration 1',
    'neuron.iterationX': 'iteration {it}',
    'neuron.loss': 'Loss (mean squared error, log scale)',
    'neuron.status': 'iteration {it}: w = {w}, b = {b}, loss = {loss}; the best line (least squares): w = {bw}, b = {bb}',
    'xor.title': 'XOR: one neuron against a network',
    'xor.text': 'Opposite corners share a class. One neuron draws a straight boundary and cannot separate them; a small network (2 → hidden → hidden → 1) bends its boundary. Pick its width and activation, then train.',
    'xor.neuron': 'One neuron',
    'xor.mlp': 'MLP 2-{h}-{h}-1 {act}',
    'xor.loss': 'Loss (binary cross-entropy)',
    'xor.status': 'step {it}: one neuron ({pn} parameters) loss {ln}, accuracy {an} %; MLP ({pm} parameters) loss {lm}, accuracy {am} %',
    'gpt.title': 'A tiny GPT trained on your text',
    'gpt.text': 'A 2-block transformer (d 64, 4 heads, context 64) learns to predict the next character. Paste a text (at least 650 characters) or leave the box empty for the built-in word list, then train and compare the samples before and after. The map shows where each character of the line above looks (its attention).',
    'gpt.placeholder': 'Paste a text here, or leave empty for the built-in word list',
    'gpt.before': 'Sample before training',
    'gpt.after': 'Sample after training',
    'gpt.loss': 'Training loss (nats per character)',
    'gpt.attention': 'Attention of block {l}, head {h}',
    'gpt.status': 'step {it}/{n}: loss {loss}, {tps} tokens/s; {chars} characters of {source}; {params} parameters',
    'gpt.text_you_gave': 'the text you gave',
  },
  cs: {
    title: 'neuronka: hřiště',
    intro: 'Přednáška „Jak se trénuje AI“ naživo: každá lekce trénuje model knihovny neuronka přímo na této stránce, přeložený ze stejných hlaviček C++ a stejného kódu lekcí jako nativní příklady (WebAssembly, bez sítě).',
    loading: 'Načítá se modul WebAssembly…',
    ready: 'Modul načten: neuronka {version}.',
    slide: 'Snímek',
    learning_rate: 'rychlost učení',
    iterations: 'iterace X',
    steps: 'kroky',
    hidden: 'skryté neurony',
    activation: 'aktivace',
    step: 'Krok',
    run: 'Spustit',
    reset: 'Znovu',
    train: 'Trénovat',
    stop: 'Zastavit',
    layer: 'blok',
    head: 'hlava',
    attention_on: 'pozornost na',
    'neuron.title': 'Neuron je přímka: y = w·x + b',
    'neuron.text': 'Neuron začíná s náhodnými w a b (iterace 0). Každý krok gradientního sestupu je posune k přímce, která body prokládá nejlépe. Pohněte rychlostí učení: příliš malá a přímka se plazí, příliš velká a přestřelí a uteče.',
    'neuron.plot': 'Body a přímka',
    'neuron.iteration0': 'iterace 0',
    'neuron.iteration1': 'iterace 1',
    'neuron.iterationX': 'iterace {it}',
    'neuron.loss': 'Chyba (střední kvadratická, logaritmická osa)',
    'neuron.status': 'iterace {it}: w = {w}, b = {b}, chyba = {loss}; nejlepší přímka (nejmenší čtverce): w = {bw}, b = {bb}',
    'xor.title': 'XOR: jeden neuron proti síti',
    'xor.text': 'Protilehlé rohy patří do stejné třídy. Jeden neuron nakreslí rovnou hranici a třídy neoddělí; malá síť (2 → skryté → skryté → 1) hranici ohne. Zvolte její šířku a aktivaci a trénujte.',
    'xor.neuron': 'Jeden neuron',
    'xor.mlp': 'Síť 2-{h}-{h}-1 {act}',
    'xor.loss': 'Chyba (binární křížová entropie)',
    'xor.status': 'krok {it}: jeden neuron ({pn} parametrů) chyba {ln}, přesnost {an} %; síť ({pm} parametrů) chyba {lm}, přesnost {am} %',
    'gpt.title': 'Malý GPT natrénovaný na vašem textu',
    'gpt.text': 'Transformer o 2 blocích (d 64, 4 hlavy, kontext 64) se učí předpovídat další znak. Vložte text (alespoň 650 znaků) nebo pole nechte prázdné pro vestavěný seznam slov, trénujte a porovnejte ukázky před a po. Mapa ukazuje, kam se který znak řádku výše dívá (jeho pozornost).',
    'gpt.placeholder': 'Sem vložte text, nebo pole nechte prázdné pro vestavěný seznam slov',
    'gpt.before': 'Ukázka před trénováním',
    'gpt.after': 'Ukázka po trénování',
    'gpt.loss': 'Chyba při trénování (naty na znak)',
    'gpt.attention': 'Pozornost bloku {l}, hlava {h}',
    'gpt.status': 'krok {it}/{n}: chyba {loss}, {tps} tokenů/s; {chars} znaků z {source}; {params} parametrů',
    'gpt.text_you_gave': 'vašeho textu',
  },
};

const lang = new URLSearchParams(location.search).get('lang') === 'cs' ? 'cs' : 'en';
function t(key, values = {}) {
  const s = TEXT[lang][key];
  if (s === undefined) throw new Error('playground: no text for ' + key);
  return s.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
}
const $ = id => document.getElementById(id);
const fmt = (v, digits = 4) => Number(v).toFixed(digits);

// ------------------------------------------------------------------------------------------ charts
// A chart on a canvas: axes with ticks for the ranges given, then lines, points and cells in data
// coordinates.
class Chart {
  constructor(canvas, title, x0, x1, y0, y1, { logY = false } = {}) {
    this.c = canvas.getContext('2d');
    this.w = canvas.width, this.h = canvas.height;
    this.m = { l: 52, r: 12, t: 28, b: 32 };
    this.logY = logY;
    const f = v => (logY ? Math.log10(v) : v);
    this.x0 = x0, this.x1 = x1 === x0 ? x0 + 1 : x1;
    this.y0 = f(y0), this.y1 = f(y1) === f(y0) ? f(y0) + 1 : f(y1);
    const c = this.c;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, this.w, this.h);
    c.fillStyle = '#222';
    c.font = '14px "DejaVu Sans", sans-serif';
    c.fillText(title, this.m.l, 18);
    c.strokeStyle = '#999';
    c.strokeRect(this.m.l, this.m.t, this.w - this.m.l - this.m.r, this.h - this.m.t - this.m.b);
    c.font = '11px "DejaVu Sans", sans-serif';
    c.fillStyle = '#555';
    for (let i = 0; i <= 4; ++i) {
      const xv = this.x0 + (this.x1 - this.x0) * i / 4, yv = this.y0 + (this.y1 - this.y0) * i / 4;
      const [px] = this.px(xv, this.y0), [, py] = this.px(this.x0, logY ? 10 ** yv : yv);
      c.fillText(tick(xv), px - 10, this.h - this.m.b + 14);
      c.fillText(tick(logY ? 10 ** yv : yv), 4, py + 4);
    }
  }
  px(x, y) {
    const yy = this.logY ? Math.log10(Math.max(y, 1e-30)) : y;
    return [this.m.l + (x - this.x0) / (this.x1 - this.x0) * (this.w - this.m.l - this.m.r),
            this.h - this.m.b - (yy - this.y0) / (this.y1 - this.y0) * (this.h - this.m.t - this.m.b)];
  }
  clip(f) {
    const c = this.c;
    c.save();
    c.beginPath();
    c.rect(this.m.l, this.m.t, this.w - this.m.l - this.m.r, this.h - this.m.t - this.m.b);
    c.clip();
    f(c);
    c.restore();
  }
  line(xs, ys, color, width = 2) {
    this.clip(c => {
      c.strokeStyle = color, c.lineWidth = width;
      c.beginPath();
      xs.forEach((x, i) => { const [px, py] = this.px(x, ys[i]); i ? c.lineTo(px, py) : c.moveTo(px, py); });
      c.stroke();
    });
    return this;
  }
  points(xs, ys, colors, r = 3.5) {
    this.clip(c => {
      xs.forEach((x, i) => {
        const [px, py] = this.px(x, ys[i]);
        c.fillStyle = Array.isArray(colors) ? colors[i] : colors;
        c.beginPath(), c.arc(px, py, r, 0, 2 * Math.PI), c.fill();
        c.strokeStyle = '#fff', c.lineWidth = 1, c.stroke();
      });
    });
    return this;
  }
  cells(n, values, color) {  // an n × n raster over the ranges, row 0 at the bottom
    this.clip(c => {
      for (let j = 0; j < n; ++j)
        for (let i = 0; i < n; ++i) {
          const [ax, ay] = this.px(this.x0 + (this.x1 - this.x0) * i / n, this.y0 + (this.y1 - this.y0) * (j + 1) / n);
          const [bx, by] = this.px(this.x0 + (this.x1 - this.x0) * (i + 1) / n, this.y0 + (this.y1 - this.y0) * j / n);
          c.fillStyle = color(values[j * n + i]);
          c.fillRect(ax, ay, bx - ax + 0.6, by - ay + 0.6);
        }
    });
    return this;
  }
  legend(items) {
    const c = this.c;
    c.font = '12px "DejaVu Sans", sans-serif';
    items.forEach(([label, color], k) => {
      const y = this.m.t + 16 + 16 * k;
      c.fillStyle = color, c.fillRect(this.m.l + 10, y - 8, 14, 4);
      c.fillStyle = '#222', c.fillText(label, this.m.l + 30, y - 3);
    });
    return this;
  }
}
function tick(v) {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 10000) ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const blueRed = p => `rgb(${Math.round(40 + 215 * p)},${Math.round(90 + 80 * (1 - Math.abs(2 * p - 1)))},${Math.round(255 - 215 * p)})`;

// ------------------------------------------------------------------------------------------ the module
let M = null;
const call = (name, ret, types, args) => M.ccall(name, ret, types || [], args || []);
const floats = (ptr, n) => Array.from(M.HEAPF32.subarray(ptr >> 2, (ptr >> 2) + n));
function fail(statusId) {
  const e = $(statusId);
  e.classList.add('error');
  e.textContent = call('playground_error', 'string');
}

// Runs `work` (returns false when done) in slices of at least one call and about `budget` ms, drawing after each slice,
// so the page stays responsive; resolves when done or stopped.
function loop(state, work, draw, budget = 60, pause = 0) {
  state.running = true;
  const p = new Promise(resolve => {
    const slice = () => {
      const end = performance.now() + budget;
      let more;
      do more = work(); while (more && state.running && performance.now() < end);  // at least one step per slice
      draw();
      if (more && state.running) setTimeout(slice, pause);
      else state.running = false, resolve();
    };
    setTimeout(slice, 0);
  });
  state.done = p;
  return p;
}

// ------------------------------------------------------------------------------------------ lesson 1
const neuron = { running: false, done: Promise.resolve(), losses: [], lines: [] };
function neuronReset() {
  neuron.running = false;
  const lr = 10 ** Number($('neuron-lr').value);
  $('neuron-lr-value').textContent = lr.toPrecision(2);
  $('neuron-status').classList.remove('error');
  if (!call('neuron_reset', 'number', ['number'], [lr])) return fail('neuron-status');
  neuron.lr = lr, neuron.failed = false;
  neuron.losses = [call('neuron_loss', 'number')];  // iteration 0
  neuron.lines = [[call('neuron_w', 'number'), call('neuron_b', 'number')]];
  neuronDraw();
}
function neuronStep() {  // one iteration: the loss of the next line
  if (neuron.failed) return false;
  const loss = Number.isNaN(call('neuron_step', 'number')) ? NaN : call('neuron_loss', 'number');
  if (Number.isNaN(loss)) {  // diverged: the module says why (a learning rate too large)
    neuron.failed = true;
    fail('neuron-status');
    return false;
  }
  neuron.losses.push(loss);
  if (neuron.lines.length < 2) neuron.lines.push([call('neuron_w', 'number'), call('neuron_b', 'number')]);
  return neuron.losses.length - 1 < Number($('neuron-steps').value);
}
function neuronDraw() {
  const n = call('neuron_point_count', 'number'), xy = floats(call('neuron_points', 'number'), 2 * n);
  const xs = xy.slice(0, n), ys = xy.slice(n), it = neuron.losses.length - 1;
  const w = call('neuron_w', 'number'), b = call('neuron_b', 'number');
  const chart = new Chart($('neuron-plot'), t('neuron.plot'), -3, 3, -2.5, 5.5);
  chart.points(xs, ys, '#555');
  const lines = [[t('neuron.iteration0'), neuron.lines[0]]];
  if (neuron.lines[1]) lines.push([t('neuron.iteration1'), neuron.lines[1]]);
  if (it > 1) lines.push([t('neuron.iterationX', { it }), [w, b]]);
  lines.forEach(([, [lw, lb]], k) => chart.line([-3, 3], [-3 * lw + lb, 3 * lw + lb], PALETTE[k + 1]));
  chart.legend(lines.map(([label], k) => [label, PALETTE[k + 1]]));
  const finite = neuron.losses.filter(v => Number.isFinite(v) && v > 0);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  new Chart($('neuron-loss'), t('neuron.loss'), 0, Math.max(it, 1), lo / 1.5, hi * 1.5, { logY: true })
    .line(neuron.losses.map((_, i) => i), neuron.losses.map(v => (Number.isFinite(v) ? v : hi)), PALETTE[0]);
  if (neuron.failed) return;  // the status shows the error
  $('neuron-status').textContent = t('neuron.status', {
    it, w: fmt(w), b: fmt(b), loss: fmt(neuron.losses[it], 6),
    bw: fmt(call('neuron_best_w', 'number')), bb: fmt(call('neuron_best_b', 'number')),
  });
}
function neuronRun() {
  if (neuron.running) return neuron.done;
  if (neuron.failed || neuron.losses.length - 1 >= Number($('neuron-steps').value)) neuronReset();
  const steps = Number($('neuron-steps').value);
  const perSlice = Math.max(1, Math.ceil(steps / 120));  // about 120 frames, so the line visibly moves
  return loop(neuron, () => { let more = true; for (let k = 0; k < perSlice && more; ++k) more = neuronStep(); return more; },
              neuronDraw, 0, 16);
}

// ------------------------------------------------------------------------------------------ lesson 2
const xor = { running: false, done: Promise.resolve(), losses: [[], []], accuracy: [0, 0] };
const GRID = 60;
function xorReset() {
  xor.running = false;
  $('xor-status').classList.remove('error');
  xor.hidden = Number($('xor-hidden').value), xor.activation = Number($('xor-activation').value);
  if (!call('xor_reset', 'number', ['number', 'number'], [xor.hidden, xor.activation])) return fail('xor-status');
  xor.losses = [[], []];
  xorDraw();
}
function xorStep() {
  if (Number.isNaN(call('xor_step', 'number'))) {
    fail('xor-status');
    return false;
  }
  for (const m of [0, 1]) xor.losses[m].push(call('xor_loss', 'number', ['number'], [m]));
  return xor.losses[1].length < Number($('xor-steps').value);
}
function xorDraw() {
  const n = call('xor_point_count', 'number'), pts = floats(call('xor_points', 'number'), 3 * n);
  const e = call('xor_extent', 'number');
  const xs = [], ys = [], colors = [];
  for (let i = 0; i < n; ++i) xs.push(pts[3 * i]), ys.push(pts[3 * i + 1]), colors.push(pts[3 * i + 2] ? '#a50f15' : '#08306b');
  const act = $('xor-activation').selectedOptions[0].textContent;
  [[0, 'xor-neuron', t('xor.neuron')], [1, 'xor-mlp', t('xor.mlp', { h: xor.hidden, act })]].forEach(([m, id, title]) => {
    const p = floats(call('xor_probabilities', 'number', ['number', 'number'], [m, GRID]), GRID * GRID);
    new Chart($(id), title, -e, e, -e, e).cells(GRID, p, blueRed).points(xs, ys, colors, 2.5);
    xor.accuracy[m] = call('xor_accuracy', 'number', ['number'], [m]);
  });
  const it = xor.losses[1].length, all = xor.losses[0].concat(xor.losses[1]);
  new Chart($('xor-loss'), t('xor.loss'), 0, Math.max(it, 1), 0, Math.max(0.8, ...all))
    .line(xor.losses[0].map((_, i) => i), xor.losses[0], PALETTE[1])
    .line(xor.losses[1].map((_, i) => i), xor.losses[1], PALETTE[2])
    .legend([[t('xor.neuron'), PALETTE[1]], [t('xor.mlp', { h: xor.hidden, act }), PALETTE[2]]]);
  $('xor-status').textContent = t('xor.status', {
    it, pn: call('xor_parameters', 'number', ['number'], [0]), pm: call('xor_parameters', 'number', ['number'], [1]),
    ln: it ? fmt(xor.losses[0][it - 1]) : '–', lm: it ? fmt(xor.losses[1][it - 1]) : '–',
    an: fmt(100 * xor.accuracy[0], 1), am: fmt(100 * xor.accuracy[1], 1),
  });
}
function xorRun() {
  if (xor.running) return xor.done;
  if (xor.losses[1].length >= Number($('xor-steps').value)) xorReset();
  return loop(xor, xorStep, xorDraw, 40, 16);
}

// ------------------------------------------------------------------------------------------ lesson 3
const gpt = { running: false, done: Promise.resolve(), losses: [], seconds: 0, tokensPerSecond: 0, before: '', after: '' };
function gptReset() {
  gpt.running = false;
  $('gpt-status').classList.remove('error');
  const text = $('gpt-text').value, steps = Number($('gpt-steps').value);
  const bytes = M.lengthBytesUTF8(text) + 1, ptr = M._malloc(bytes);  // a pasted text can be long: not on the stack
  M.stringToUTF8(text, ptr, bytes);
  const ok = call('gpt_reset', 'number', ['number', 'number'], [ptr, steps]);
  M._free(ptr);
  gpt.losses = [], gpt.seconds = 0, gpt.tokensPerSecond = 0, gpt.steps = steps, gpt.after = '';
  $('gpt-after').textContent = '';
  if (!ok) {
    gpt.ready = false;
    $('gpt-before').textContent = '';
    return fail('gpt-status');
  }
  gpt.ready = true;
  gpt.before = call('gpt_sample', 'string');
  $('gpt-before').textContent = gpt.before;
  gptDraw();
}
function gptStep() {
  const t0 = performance.now();
  const loss = call('gpt_step', 'number');
  gpt.seconds += (performance.now() - t0) / 1000;
  if (loss < 0) return false;
  gpt.losses.push(loss);
  gpt.tokensPerSecond = gpt.losses.length * call('gpt_tokens_per_step', 'number') / gpt.seconds;
  return gpt.losses.length < gpt.steps;
}
function gptDraw() {
  if (!gpt.ready) return;
  const it = gpt.losses.length;
  new Chart($('gpt-loss'), t('gpt.loss'), 0, Math.max(it, 1), 0, Math.max(5, ...gpt.losses))
    .line(gpt.losses.map((_, i) => i + 1), gpt.losses, PALETTE[0]);
  const source = call('gpt_source', 'string');
  $('gpt-status').textContent = t('gpt.status', {
    it, n: gpt.steps, loss: it ? fmt(gpt.losses[it - 1], 3) : '–', tps: Math.round(gpt.tokensPerSecond),
    chars: call('gpt_characters', 'number'), params: call('gpt_parameters', 'number'),
    source: source === 'the text you gave' ? t('gpt.text_you_gave') : source,
  });
  gptAttention();
}
function gptAttention() {
  if (!gpt.ready) return;
  const prompt = $('gpt-prompt').value.slice(0, 64), l = Number($('gpt-layer').value), h = Number($('gpt-head').value);
  const ptr = call('gpt_attention', 'number', ['string', 'number', 'number'], [prompt, l, h]);
  const canvas = $('gpt-attention'), c = canvas.getContext('2d');
  c.fillStyle = '#fff', c.fillRect(0, 0, canvas.width, canvas.height);
  if (!ptr) return fail('gpt-status');
  const n = call('gpt_map_size', 'number'), p = floats(ptr, n * n), chars = [...prompt].slice(0, n);
  const m = 40, cell = (canvas.width - m - 8) / n;
  c.fillStyle = '#222', c.font = '14px "DejaVu Sans", sans-serif';
  c.fillText(t('gpt.attention', { l, h }), m, 16);
  c.font = `${Math.max(7, Math.min(12, cell))}px "DejaVu Sans Mono", monospace`;
  for (let q = 0; q < n; ++q) {
    c.fillStyle = '#222';
    c.fillText(chars[q] === ' ' ? '␣' : chars[q], m - 12, m + (q + 0.8) * cell);  // queries down the side
    c.fillText(chars[q] === ' ' ? '␣' : chars[q], m + (q + 0.2) * cell, m - 6);   // keys along the top
    for (let k = 0; k < n; ++k) {
      const v = p[q * n + k];
      c.fillStyle = `rgb(${Math.round(255 - 230 * v)},${Math.round(255 - 170 * v)},${Math.round(255 - 60 * v)})`;
      c.fillRect(m + k * cell, m + q * cell, cell - 0.5, cell - 0.5);
    }
  }
}
function gptRun() {
  if (gpt.running) return gpt.done;
  if (!gpt.ready || gpt.losses.length >= gpt.steps) gptReset();
  if (!gpt.ready) return Promise.resolve();
  return loop(gpt, gptStep, gptDraw, 150, 0).then(() => {
    if (gpt.losses.length >= gpt.steps) {
      gpt.after = call('gpt_sample', 'string');
      $('gpt-after').textContent = gpt.after;
    }
  });
}

// ------------------------------------------------------------------------------------------ start
function translate() {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll('[data-t-placeholder]')) e.placeholder = t(e.dataset.tPlaceholder);
}
window.playground = { lang, neuron, xor, gpt, ready: null, demo: null, run: { neuron: neuronRun, xor: xorRun, gpt: gptRun } };
translate();
const only = new URLSearchParams(location.search).get('only');  // ?only=neuron|xor|gpt shows that lesson alone
if (only && $(only))
  for (const e of document.querySelectorAll('section.lesson, header ol')) if (e.id !== only) e.style.display = 'none';
window.playground.ready = createPlayground().then(module => {
  M = module;
  $('loading').textContent = t('ready', { version: (v => `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`)(call('playground_version', 'number')) });
  $('neuron-lr').addEventListener('input', neuronReset);
  $('neuron-step').addEventListener('click', () => { if (!neuron.running) { neuronStep(); neuronDraw(); } });
  $('neuron-run').addEventListener('click', neuronRun);
  $('neuron-reset').addEventListener('click', neuronReset);
  for (const id of ['xor-hidden', 'xor-activation']) $(id).addEventListener('change', xorReset);
  $('xor-step').addEventListener('click', () => { if (!xor.running) { xorStep(); xorDraw(); } });
  $('xor-run').addEventListener('click', xorRun);
  $('xor-reset').addEventListener('click', xorReset);
  $('gpt-run').addEventListener('click', gptRun);
  $('gpt-stop').addEventListener('click', () => { gpt.running = false; });
  $('gpt-reset').addEventListener('click', gptReset);
  for (const id of ['gpt-text', 'gpt-steps']) $(id).addEventListener('change', gptReset);  // a new text or plan: a new model
  for (const id of ['gpt-prompt', 'gpt-layer', 'gpt-head']) $(id).addEventListener('input', gptAttention);
  neuronReset();
  xorReset();
  gptReset();
  const demo = new URLSearchParams(location.search).get('demo');  // ?demo=neuron|xor|gpt runs that lesson once
  if (demo && window.playground.run[demo]) window.playground.demo = window.playground.run[demo]();
});
