// Drive the web demo in headless Chromium (Debian's /usr/bin/chromium, through playwright-core).
//
//   node mobile_demo/web/bench.mjs bench [--warmup 100] [--iterations 1000] [--out reports/device_results/browser-wasm.json]
//   node mobile_demo/web/bench.mjs draw --image digit.json --out drawn.json
//   (both take --models DIR: serve that folder as models/ instead of mobile_demo/web/models)
//
// bench: runs the page's ?mode=bench and writes the device-results JSON (docs/manifest.md) with the
//        browser's exact version; the file is written to a temp name and renamed.
// draw:  draws the 28x28 image in digit.json ({"pixels": [784 ints]}) on the canvas with synthesized
//        pointer events (one stroke per horizontal run of ink), then writes what the page saw
//        and predicted, for tests/mobile_demo/test_web.py to compare with Python.
// The page is served from this folder on 127.0.0.1 (random free port) with COOP/COEP headers:
// cross-origin isolation gives performance.now() 5 us resolution instead of 100 us.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { readFile, writeFile, rename, mkdtemp, rm, mkdir } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
                '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.map': 'application/json' };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                       '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function parseArgs(argv) {
  const [mode, ...rest] = argv;
  const opts = { mode, warmup: 100, iterations: 1000, out: null, image: null, models: join(HERE, 'models'),
                 chromium: process.env.CHROMIUM || '/usr/bin/chromium', timeout: 120 };
  for (let k = 0; k < rest.length; k += 2) {
    const key = rest[k].replace(/^--/, '');
    if (!(key in opts) || rest[k + 1] === undefined) fail(`unknown or incomplete option ${rest[k]}`);
    opts[key] = ['warmup', 'iterations', 'timeout'].includes(key) ? Number(rest[k + 1]) : rest[k + 1];
  }
  if (!['bench', 'draw'].includes(mode)) fail('first argument must be bench or draw');
  if (!(opts.warmup >= 0 && opts.iterations >= 1)) fail('need --warmup >= 0 and --iterations >= 1');
  if (mode === 'draw' && (!opts.image || !opts.out)) fail('draw needs --image FILE.json and --out FILE.json');
  return opts;
}

// The page and this script need the npm packages `make web` installs (npm ci); without them, one
// line naming the fix instead of Node's stack for a failed import.
async function loadChromium() {
  for (const pkg of ['playwright-core', 'onnxruntime-web']) {
    if (!existsSync(join(HERE, 'node_modules', pkg, 'package.json'))) {
      fail(`${pkg} is not installed in ${join(HERE, 'node_modules')}; run \`make web\` (npm ci --prefix mobile_demo/web)`);
    }
  }
  return (await import('playwright-core')).chromium;
}

function fail(msg) {
  console.error(`error: ${msg}`);
  process.exit(2);
}

function serve(modelsDir) {
  const models = resolve(modelsDir);
  const server = createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const [root, path] = rel.startsWith('/models/') ? [models, resolve(models, '.' + rel.slice(7))]
                                                    : [HERE, resolve(HERE, '.' + rel)];
    if (!path.startsWith(root + sep)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] || 'application/octet-stream',
                           'Cross-Origin-Opener-Policy': 'same-origin',
                           'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

async function writeAtomic(path, text) {
  await mkdir(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

async function openPage(context, url, timeoutS) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.demoReady !== undefined, null, { timeout: timeoutS * 1000 });
  await page.evaluate(() => window.demoReady);
  const err = await page.evaluate(() => window.demoError);
  if (err || errors.length) throw new Error(`the page failed: ${err || errors.join('; ')}`);
  return page;
}

/** One stroke per horizontal run of ink (>= 128) in each row, 10 canvas px per MNIST pixel. */
async function drawImage(page, pixels) {
  const box = await page.locator('#pad').boundingBox();
  const cell = box.width / 28;
  const at = (x, y) => [box.x + (x + 0.5) * cell, box.y + (y + 0.5) * cell];
  let strokes = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (pixels[y * 28 + x] < 128) continue;
      let end = x;
      while (end + 1 < 28 && pixels[y * 28 + end + 1] >= 128) end++;
      await page.mouse.move(...at(x, y));
      await page.mouse.down();
      await page.mouse.move(...at(end, y), { steps: Math.max(1, end - x) });
      await page.mouse.up();
      strokes++;
      x = end;
    }
  }
  return strokes;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const chromium = await loadChromium();
  const server = await serve(opts.models);
  const base = `http://127.0.0.1:${server.address().port}/index.html`;
  const profile = await mkdtemp(join(os.tmpdir(), 'mnist-web-chromium-'));  // fresh --user-data-dir
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.chromium, headless: true, args: CHROMIUM_ARGS, timeout: opts.timeout * 1000 });
    const version = context.browser()?.version() ?? (await (await context.newPage()).evaluate(() => navigator.userAgent));
    if (opts.mode === 'bench') {
      const page = await openPage(context, `${base}?mode=bench&warmup=${opts.warmup}&iterations=${opts.iterations}`, opts.timeout);
      const doc = await page.evaluate(() => window.benchResult);
      const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
      doc.device = { ...doc.device, model: `${cpu} (${os.cpus().length} logical CPUs), headless`,
                     os: `${os.type()} ${os.release()} ${os.arch()}`, browser: `Chromium ${version}` };
      const text = JSON.stringify(doc, null, 2) + '\n';
      if (opts.out) await writeAtomic(opts.out, text);
      console.log(JSON.stringify({ target: doc.target, browser: doc.device.browser,
        results: doc.results.map((r) => ({ artifact: r.artifact, status: r.status, p50_us: r.p50_us,
                                           verified: r.verification?.passed })) }));
    } else {
      const { pixels } = JSON.parse(await readFile(opts.image, 'utf8'));
      const page = await openPage(context, base, opts.timeout);
      const artifacts = await page.evaluate(() => window.demo.state.runners.filter((r) => r.status === 'ok').map((r) => r.artifact));
      const strokes = await drawImage(page, pixels);
      await page.evaluate(() => window.demo.settled());
      const drawing = await page.evaluate(() => window.demo.drawing());
      const predictions = [];
      for (const name of artifacts) {
        predictions.push(await page.evaluate(async (n) => { window.demo.select(n); return window.demo.predict(); }, name));
      }
      // What each artifact's load measured, and the first_ms a benchmark of this page reports for it.
      const loaded = await page.evaluate(() => window.demo.state.runners.filter((r) => r.status === 'ok')
        .map((r) => ({ artifact: r.artifact, load_ms: r.load_ms, first_ms: r.first_ms })));
      const benchFirstMs = await page.evaluate(async () => (await window.demo.bench(1, 2)).results.map((r) => r.first_ms));
      await writeAtomic(opts.out, JSON.stringify({ browser: `Chromium ${version}`, strokes, drawing, predictions,
                                                   loaded, bench_first_ms: benchFirstMs }) + '\n');
    }
  } finally {
    if (context) await context.close();
    server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(`error: ${e.message || e}`); process.exit(1); });
