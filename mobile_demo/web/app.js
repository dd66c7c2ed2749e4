// The page: load the embedded ONNX artifacts from models/manifest.json with onnxruntime-web (wasm,
// one thread, so numbers compare with the other single-thread targets), verify them on the test
// vectors, let the user draw, and with ?mode=bench measure latency into the device-results JSON.
// window.demo is what mobile_demo/web/bench.mjs drives in headless Chromium.
import * as ort from './node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { toPixels, normalize, softmax, argmax, latencyStats, compare } from './core.js';

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url).href;
const MODELS = new URL('./models/', import.meta.url);
const $ = (id) => document.getElementById(id);

async function fetchChecked(name, sha256) {
  const res = await fetch(new URL(name, MODELS));
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}; run \`python -m export --embed\``);
  const bytes = await res.arrayBuffer();
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)),
    (b) => b.toString(16).padStart(2, '0')).join('');
  if (digest !== sha256) throw new Error(`${name}: sha256 differs from the manifest; re-run the embed step`);
  return bytes;
}

function nameOf(path) {  // manifest paths are plain names inside models/; refuse anything else
  if (!/^[\w.+-]+$/.test(path) || path.includes('..')) throw new Error(`manifest path ${path} leaves models/`);
  return path;
}

async function load() {
  const manifest = await (await fetch(new URL('manifest.json', MODELS))).json();
  if (manifest.schema_version !== 1) throw new Error(`manifest schema_version ${manifest.schema_version} != 1`);
  const tv = manifest.test_vectors;
  if (!tv.quantized_check) throw new Error('manifest test_vectors lacks quantized_check; re-run `python -m export --embed`');
  const vectors = JSON.parse(new TextDecoder().decode(await fetchChecked(nameOf(tv.path), tv.sha256)));
  const [, c, h, w] = manifest.input.shape;
  const runners = [];
  for (const a of manifest.artifacts.filter((x) => x.status === 'ok' && x.format === 'onnx')) {
    const row = { artifact: a.name, sha256: a.sha256, status: 'ok', reason: null, quantized: a.quantization !== 'none' };
    try {
      const bytes = await fetchChecked(nameOf(a.path), a.sha256);
      const t0 = performance.now();
      row.session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      row.load_ms = performance.now() - t0;
      // first_ms is the first call on this fresh load (docs/performance.md), before verification warms it
      const t1 = performance.now();
      await row.session.run({ [manifest.input.name]: new ort.Tensor('float32', normalize(vectors.pixels[0], vectors.normalization), [1, c, h, w]) });
      row.first_ms = performance.now() - t1;
    } catch (e) {
      Object.assign(row, { status: 'failed', reason: String(e.message || e) });
    }
    runners.push(row);
  }
  return { manifest, vectors, runners, shape: [1, c, h, w], size: h, norm: manifest.input.normalization };
}

async function run(state, runner, input) {
  const feeds = { [state.manifest.input.name]: new ort.Tensor('float32', input, state.shape) };
  const out = await runner.session.run(feeds);
  return Array.from(out[state.manifest.output.name].data);
}

async function verify(state, runner) {
  const v = state.vectors, logits = [];
  for (const px of v.pixels) logits.push(await run(state, runner, normalize(px, v.normalization)));
  return compare(logits, v, runner.quantized ? state.manifest.test_vectors.quantized_check : null);
}

/** Warm-up, then timed iterations one at a time, batch 1; microseconds. first_ms was timed at load. */
async function bench(state, runner, warmup, iterations) {
  const input = normalize(state.vectors.pixels[0], state.vectors.normalization);
  for (let k = 0; k < warmup; k++) await run(state, runner, input);
  const us = [];
  for (let k = 0; k < iterations; k++) {
    const t = performance.now();
    await run(state, runner, input);
    us.push((performance.now() - t) * 1000);
  }
  return { first_ms: runner.first_ms, ...latencyStats(us) };
}

async function benchDocument(state, warmup, iterations) {
  const results = [];
  for (const r of state.runners) {
    const row = { artifact: r.artifact, sha256: r.sha256, status: r.status, reason: r.reason,
                  runtime: `onnxruntime-web ${ort.env.versions.web} wasm` };
    if (r.status === 'ok') {
      try {
        Object.assign(row, { load_ms: r.load_ms }, await bench(state, r, warmup, iterations));
        row.verification = r.verification;
      } catch (e) {
        Object.assign(row, { status: 'failed', reason: String(e.message || e) });
      }
    }
    results.push(row);
  }
  return {
    target: 'browser-wasm',
    created_utc: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    device: { model: 'unknown (browser)', os: navigator.platform, browser: navigator.userAgent,
              runtime: `onnxruntime-web ${ort.env.versions.web} wasm` },
    method: { warmup, iterations, batch: 1, threads: ort.env.wasm.numThreads,
              clock: `performance.now() (crossOriginIsolated=${self.crossOriginIsolated}: `
                     + `${self.crossOriginIsolated ? '5' : '100'} us resolution in Chromium)` },
    notes: ['load_ms of the first artifact includes compiling the onnxruntime wasm module',
            'each timed call is one awaited session.run (its promise overhead included), input = test vector 0'],
    results,
  };
}

function drawingGray(canvas) {
  const { width, height } = canvas;
  const rgba = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const gray = new Uint8Array(width * height);
  for (let k = 0; k < gray.length; k++) gray[k] = rgba[4 * k];  // white ink: R = G = B
  return { width, height, gray };
}

function setupPad(canvas, onStroke) {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  Object.assign(ctx, { strokeStyle: '#fff', lineWidth: canvas.width / 20, lineCap: 'round', lineJoin: 'round' });
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  let down = false;
  canvas.addEventListener('pointerdown', (e) => {
    down = true; canvas.setPointerCapture(e.pointerId);
    const [x, y] = at(e); ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x, y); ctx.stroke();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!down) return;
    const [x, y] = at(e); ctx.lineTo(x, y); ctx.stroke();
  });
  canvas.addEventListener('pointerup', () => { down = false; onStroke(); });
  return clear;
}

function show(state, result) {
  $('predicted').textContent = state.manifest.dataset.classes[result.predicted];
  $('latency').textContent = `latency: ${(result.ms * 1000).toFixed(0)} µs (preprocess + inference, batch 1, 1 thread)`;
  $('probs').replaceChildren(...result.probabilities.map((p, k) => {
    const el = document.createElement('div');
    el.className = 'bar';
    el.innerHTML = `<span>${state.manifest.dataset.classes[k]}</span><div style="width:${(p * 12).toFixed(2)}rem"></div><span>${(p * 100).toFixed(1)}%</span>`;
    return el;
  }));
}

async function main() {
  const params = new URLSearchParams(location.search);
  const state = await load();
  for (const r of state.runners) if (r.status === 'ok') r.verification = await verify(state, r);
  $('verification').replaceChildren(...state.runners.map((r) => {
    const li = document.createElement('li');
    const v = r.verification;
    li.className = v && v.passed ? 'pass' : 'fail';
    li.textContent = v ? `${r.artifact}: ${v.passed ? 'PASS' : 'FAIL'} top-1 ${Math.round(v.top1_agreement * v.count)}/${v.count}, `
      + `max |diff| ${v.max_abs_diff.toExponential(2)} (${v.rule}); load ${r.load_ms.toFixed(1)} ms, `
      + `first call ${r.first_ms.toFixed(2)} ms`
      : `${r.artifact}: ${r.status}: ${r.reason}`;
    return li;
  }));
  const usable = state.runners.filter((r) => r.status === 'ok');
  $('artifact').replaceChildren(...usable.map((r) => new Option(r.artifact, r.artifact)));
  const current = () => usable.find((r) => r.artifact === $('artifact').value);

  async function predict() {
    const t = performance.now();
    const d = drawingGray($('pad'));
    const input = normalize(toPixels(d.gray, d.width, d.height, state.size), state.norm);
    const logits = await run(state, current(), input);
    const result = { artifact: current().artifact, logits, probabilities: softmax(logits),
                     predicted: argmax(logits), ms: performance.now() - t, input: Array.from(input) };
    show(state, result);
    return result;
  }
  let pending = Promise.resolve();
  const clear = setupPad($('pad'), () => { pending = pending.then(predict); });
  $('clear').onclick = () => { clear(); $('predicted').textContent = '–'; };
  $('artifact').onchange = () => { pending = pending.then(predict); };

  window.demo = {
    state, predict, clear,
    select: (name) => { $('artifact').value = name; },
    settled: () => pending,
    drawing: () => { const d = drawingGray($('pad')); return { ...d, gray: Array.from(d.gray) }; },
    bench: (warmup, iterations) => benchDocument(state, warmup, iterations),
  };
  if (params.get('mode') === 'bench') {
    const doc = await benchDocument(state, Number(params.get('warmup') ?? 100), Number(params.get('iterations') ?? 1000));
    $('results').textContent = JSON.stringify(doc, null, 2);
    window.benchResult = doc;
  }
  $('status').textContent = 'ready';
}

window.demoReady = main().catch((e) => {
  $('status').textContent = `error: ${e.message || e}`;
  $('status').className = 'fail';
  window.demoError = String(e.message || e);
});
