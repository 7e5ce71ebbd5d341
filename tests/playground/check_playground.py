#!/usr/bin/env python3
"""The playground in a real browser, against the native examples.

Runs the native examples (neuron, xor, tiny_gpt) for 100 steps with --losses, then opens the
playground's page from disk in headless Chromium (driven over the DevTools protocol on
--remote-debugging-pipe, so the page runs in real time) and, in English and in Czech, runs every
lesson through its controls as a visitor would: sets the learning rate, the steps, the hidden width,
clicks Run / Train / Reset, pastes a text that is too short. It checks that
  - every lesson's loss fell, and each of its charts has been drawn (non-blank canvases);
  - the losses equal the native examples' within 1e-4 relative at every step (the neuron's 101,
    XOR's 100 for the neuron and for the MLP, the tiny GPT's 100 on the word list);
  - another XOR network (4 hidden ReLU units) trains too; a learning rate of 2 makes the neuron
    diverge and a too-short text is refused, each with the module's message on the page;
  - the Czech page differs from the English one only in text: the same elements, the same numbers,
    every translated element's text different.
Prints the page's size, the tiny GPT's tokens/s in the browser and natively, and writes a
screenshot of each lesson (playground-neuron.png, -xor.png, -gpt.png) into WORK_DIR, and into
SHOT_DIR when given (docs/img for the README).

Usage: check_playground.py PAGE.html EXAMPLES_BIN_DIR WORK_DIR [SHOT_DIR]
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time

TOLERANCE = 1e-4


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def native_losses(binary, args, work, name):
    path = os.path.join(work, name + ".losses")
    out = subprocess.run([binary, *args, "--losses", path, "--out", os.path.join(work, "native")],
                         check=True, capture_output=True, text=True).stdout
    with open(path) as f:
        return [float(line) for line in f if line.strip()], out


class Browser:
    """Headless Chromium, spoken to over its debugging pipe (fd 3 in, fd 4 out, messages end in NUL)."""

    def __init__(self, work):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # the child's fds 3 and 4 must be the pipes' ends: dup them there (before the child closes all but 3 and 4)
        def child():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
        self.log = open(os.path.join(work, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", "--user-data-dir=" + os.path.join(work, "profile"), "about:blank"],
            preexec_fn=child, pass_fds=(3, 4), stdout=self.log, stderr=self.log)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1100, "height": 1200, "deviceScaleFactor": 1, "mobile": False}, session=True)

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                fail("Chromium closed its pipe (see chromium.log)")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=False):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    fail(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def open(self, url):
        self.events = []
        self.call("Page.navigate", {"url": url}, session=True)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self.read())

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate",
                           {"expression": expression, "awaitPromise": True, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            fail("the page's script failed: " + json.dumps(result["exceptionDetails"])[:2000])
        return result["result"].get("value")

    def screenshot(self, path):
        height = self.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom) + 16")
        data = self.call("Page.captureScreenshot",
                         {"format": "png", "captureBeyondViewport": True,
                          "clip": {"x": 0, "y": 0, "width": 1100, "height": height, "scale": 1}}, session=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        self.proc.wait(timeout=30)
        self.log.close()


# Runs in the page: drives every lesson through its controls and returns what it saw.
DRIVE = r"""
(async () => {
  const P = window.playground;
  await P.ready;
  const $ = id => document.getElementById(id);
  const set = (id, value, event) => { $(id).value = String(value); $(id).dispatchEvent(new Event(event, { bubbles: true })); };
  const drawn = id => {  // the share of the canvas that is not white
    const c = $(id), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245) ++ink;
    return ink / (c.width * c.height);
  };
  const out = { lang: document.documentElement.lang };

  // lesson 1: the learning rate 10^-1 = 0.1 (neuron.cpp's), 100 iterations
  set('neuron-lr', -1, 'input');
  set('neuron-steps', 100, 'input');
  const blankLoss = drawn('neuron-loss');
  $('neuron-run').click();
  await P.neuron.done;
  out.neuron = { losses: P.neuron.losses.slice(), lr: P.neuron.lr, plot: drawn('neuron-plot'), loss_chart: drawn('neuron-loss'),
                 blank_loss_chart: blankLoss, status: $('neuron-status').textContent, lines: P.neuron.lines.length };
  $('neuron-step').click();  // one more iteration by hand
  out.neuron.after_step = P.neuron.losses.length;
  set('neuron-lr', 0.3, 'input');  // 10^0.3 = 2: the line overshoots, the loss overflows
  $('neuron-run').click();
  await P.neuron.done;
  out.neuron_diverged = { text: $('neuron-status').textContent, is_error: $('neuron-status').classList.contains('error'),
                          iterations: P.neuron.losses.length - 1 };

  // lesson 2: xor.cpp's MLP (16 tanh), 100 steps; then 4 hidden ReLU units
  set('xor-hidden', 16, 'change');
  set('xor-activation', 0, 'change');
  set('xor-steps', 100, 'input');
  $('xor-run').click();
  await P.xor.done;
  out.xor = { neuron: P.xor.losses[0].slice(), mlp: P.xor.losses[1].slice(), accuracy: P.xor.accuracy.slice(),
              regions: [drawn('xor-neuron'), drawn('xor-mlp')], loss_chart: drawn('xor-loss'), status: $('xor-status').textContent };
  set('xor-hidden', 4, 'change');
  set('xor-activation', 1, 'change');
  set('xor-steps', 300, 'input');
  $('xor-run').click();
  await P.xor.done;
  out.xor_relu4 = { mlp: P.xor.losses[1].slice(), accuracy: P.xor.accuracy[1] };

  // lesson 3: a too-short text is refused; then the word list, 100 steps
  set('gpt-text', 'too short', 'change');
  out.gpt_error = { text: $('gpt-status').textContent, is_error: $('gpt-status').classList.contains('error') };
  set('gpt-text', '', 'change');
  set('gpt-steps', 100, 'change');
  const t0 = performance.now();
  $('gpt-run').click();
  await P.gpt.done;
  out.gpt = { losses: P.gpt.losses.slice(), tokens_per_second: P.gpt.tokensPerSecond, seconds: (performance.now() - t0) / 1000,
              before: P.gpt.before, after: P.gpt.after, loss_chart: drawn('gpt-loss'), attention: drawn('gpt-attention'),
              status: $('gpt-status').textContent };

  out.texts = [...document.querySelectorAll('[data-t]')].map(e => [e.dataset.t, e.textContent]);
  out.shape = [...document.body.querySelectorAll('*')].map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')).join(' ');
  return out;
})()
"""


def compare(name, browser, native):
    if len(browser) != len(native):
        fail(f"{name}: the browser has {len(browser)} losses, the native example {len(native)}")
    worst = max(abs(b - n) / abs(n) for b, n in zip(browser, native))
    if worst > TOLERANCE:
        fail(f"{name}: the browser's losses differ from the native example's by {worst:.2e} relative (limit {TOLERANCE})")
    print(f"   {name}: {len(native)} losses equal the native example's within {worst:.1e} relative "
          f"({native[0]:.6g} -> {native[-1]:.6g})")


def main():
    if len(sys.argv) < 4:
        fail(__doc__)
    page, bin_dir, work = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2]), os.path.realpath(sys.argv[3])
    shots = sys.argv[4] if len(sys.argv) > 4 else None
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    print(f"== the page: {page}, {os.path.getsize(page) / 1024:.0f} KB")

    print("== the native examples, 100 steps each")
    neuron, _ = native_losses(os.path.join(bin_dir, "neuron"), ["--iterations", "100", "--learning-rate", "0.1"], work, "neuron")
    xor, _ = native_losses(os.path.join(bin_dir, "xor"), ["--steps", "100"], work, "xor")
    gpt, gpt_out = native_losses(os.path.join(bin_dir, "tiny_gpt"), ["--steps", "100"], work, "tiny_gpt")
    native_tps = float(gpt_out.split("steps, ")[-1].split(" tokens/s")[0])

    browser = Browser(work)
    seen = {}
    try:
        for lang in ("en", "cs"):
            print(f"== {lang}: the lessons in Chromium, through their controls")
            browser.open(f"file://{page}?lang={lang}")
            t0 = time.time()
            seen[lang] = r = browser.evaluate(DRIVE)
            if r["lang"] != lang:
                fail(f"{lang}: the page says its language is {r['lang']}")
            n, x, g = r["neuron"], r["xor"], r["gpt"]
            if abs(n["lr"] - 0.1) > 1e-12:
                fail(f"{lang}: the learning rate control gave {n['lr']}, expected 0.1")
            if not n["losses"][-1] < n["losses"][0] / 10:
                fail(f"{lang}: the neuron's loss did not fall: {n['losses'][0]} -> {n['losses'][-1]}")
            if n["lines"] != 2 or n["after_step"] != 102:
                fail(f"{lang}: the neuron's lines at iterations 0 and 1 ({n['lines']}) or Step ({n['after_step']} losses)")
            if not x["mlp"][-1] < 0.1 < x["neuron"][-1] or x["accuracy"][1] < 0.99 or x["accuracy"][0] > 0.75:
                fail(f"{lang}: XOR: the MLP should learn it and the neuron not: losses {x['mlp'][-1]}, {x['neuron'][-1]}, "
                     f"accuracies {x['accuracy']}")
            relu = r["xor_relu4"]
            if len(relu["mlp"]) != 300 or not relu["mlp"][-1] < relu["mlp"][0] / 2:
                fail(f"{lang}: XOR with 4 hidden ReLU units did not train: {relu['mlp'][:1]} -> {relu['mlp'][-1:]}")
            d = r["neuron_diverged"]
            if not d["is_error"] or "lower the learning rate" not in d["text"] or d["iterations"] >= 100:
                fail(f"{lang}: a learning rate of 2 should make the neuron diverge with the module's message: {d}")
            if not r["gpt_error"]["is_error"] or "text too short: 9 characters" not in r["gpt_error"]["text"]:
                fail(f"{lang}: a too-short text was not refused with the module's message: {r['gpt_error']}")
            if len(g["losses"]) != 100 or not g["losses"][-1] < g["losses"][0] - 1.5 or not g["after"]:
                fail(f"{lang}: the tiny GPT did not train: {g['losses'][:1]} -> {g['losses'][-1:]}")
            charts = {"neuron plot": n["plot"], "neuron loss": n["loss_chart"], "xor neuron": x["regions"][0],
                      "xor mlp": x["regions"][1], "xor loss": x["loss_chart"], "gpt loss": g["loss_chart"],
                      "gpt attention": g["attention"]}
            for name, ink in charts.items():
                if ink < 0.01:
                    fail(f"{lang}: the {name} chart is blank ({ink:.3%} drawn)")
            if not n["loss_chart"] > n["blank_loss_chart"]:
                fail(f"{lang}: the neuron's loss chart did not change while training")
            compare(f"{lang} neuron", n["losses"], neuron)
            compare(f"{lang} XOR MLP", x["mlp"], xor[:100])
            compare(f"{lang} XOR neuron", x["neuron"], xor[100:])
            compare(f"{lang} tiny GPT", g["losses"], gpt)
            print(f"   charts drawn: " + ", ".join(f"{k} {v:.0%}" for k, v in charts.items()))
            print(f"   tiny GPT: {g['tokens_per_second']:.0f} tokens/s in the browser (native: {native_tps:.0f}); "
                  f"lessons run in {time.time() - t0:.1f} s")
            print(f"   sample after 100 steps: {g['after'][:60]}")
            if lang == "en":  # the neuron as a visitor first sees it run (the drive left it diverged)
                browser.evaluate("(async () => { const e = document.getElementById('neuron-lr'); e.value = '-1'; "
                                 "e.dispatchEvent(new Event('input')); document.getElementById('neuron-steps').value = '60'; "
                                 "document.getElementById('neuron-run').click(); await window.playground.neuron.done; })()")
                for lesson in ("neuron", "xor", "gpt"):
                    browser.evaluate("for (const e of document.querySelectorAll('section.lesson')) "
                                     f"e.style.display = e.id === '{lesson}' ? '' : 'none'")
                    shot = os.path.join(work, f"playground-{lesson}.png")
                    browser.screenshot(shot)
                    if os.path.getsize(shot) < 20000:
                        fail(f"the screenshot of {lesson} is (nearly) empty")
                    if shots:
                        shutil.copy(shot, os.path.join(shots, f"playground-{lesson}.png"))
    finally:
        browser.close()

    print("== English and Czech")
    en, cs = seen["en"], seen["cs"]
    if en["shape"] != cs["shape"]:
        fail("the Czech page's elements differ from the English page's")
    for key in ("losses",):
        for lesson in ("neuron", "gpt"):
            if en[lesson][key] != cs[lesson][key]:
                fail(f"the Czech page's {lesson} losses differ from the English page's")
    if en["xor"]["mlp"] != cs["xor"]["mlp"]:
        fail("the Czech page's XOR losses differ from the English page's")
    same = [k for (k, a), (_, b) in zip(en["texts"], cs["texts"]) if a == b]
    if same:
        fail(f"not translated: {same}")
    digits = lambda s: "".join(c if c.isdigit() or c == "." else " " for c in s).split()
    for lesson in ("neuron", "xor", "gpt"):
        if lesson != "gpt" and digits(en[lesson]["status"]) != digits(cs[lesson]["status"]):
            fail(f"{lesson}: the Czech status shows other numbers: {en[lesson]['status']!r} / {cs[lesson]['status']!r}")
    print(f"   the same elements and numbers; all {len(en['texts'])} texts translated")
    print(f"PASS: the playground ({page})")


if __name__ == "__main__":
    main()
