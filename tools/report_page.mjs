// Open the latency report's HTML in headless Chromium (Debian's /usr/bin/chromium through the web
// demo's playwright-core), as a person would, from file:// with no network.
//
//   node tools/report_page.mjs screenshot REPORT.html OUT.png [--width 1400] [--height 900]
//   node tools/report_page.mjs probe REPORT.html OUT.json [--width 1400] [--height 900]
//        [--sort COLUMN_KEY] [--filter FACET=VALUE] [--fold ARTIFACT]
//
// screenshot: the first screen (the viewport, not the whole page), for the README (`make screenshot`).
// probe:      writes what the page shows and does, for tests/runtime/report/test_page.py to check:
//             each card and where it sits, the table's order before and after clicking a header
//             (twice), the rows a filter leaves, an artifact's figures before and after folding them
//             out, the plots that decoded, the page's width against the viewport, and any page error.
// Both write to a temp name and rename; a bad argument is one `error:` line and exit 2.
import { createRequire } from 'node:module';
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('../mobile_demo/web/package.json', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                       '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const [mode, html, out, ...rest] = argv;
  if (!['screenshot', 'probe'].includes(mode) || !html || !out) {
    fail('usage: report_page.mjs screenshot|probe REPORT.html OUT [--width W] [--height H] [--sort KEY] '
         + '[--filter FACET=VALUE] [--fold ARTIFACT]');
  }
  const opts = { mode, html: resolve(html), out: resolve(out), width: 1400, height: 900, sort: null, filter: null,
                 fold: null, chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
  for (let k = 0; k < rest.length; k += 2) {
    const key = rest[k].replace(/^--/, '');
    if (!['width', 'height', 'sort', 'filter', 'fold'].includes(key) || rest[k + 1] === undefined) {
      fail(`unknown or incomplete option ${rest[k]}`);
    }
    opts[key] = ['width', 'height'].includes(key) ? Number(rest[k + 1]) : rest[k + 1];
  }
  return opts;
}

async function writeAtomic(path, data) {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

const tableOrder = (page) => page.$$eval('#artifact-table > tbody', (bodies) => bodies.map((b) => b.dataset.name));
const shownRows = (page) => page.$$eval('#artifact-table > tbody', (bodies) => bodies
  .filter((b) => !b.hidden && b.getBoundingClientRect().height > 0).map((b) => b.dataset.name));

async function cards(page) {
  return page.$$eval('.card', (all) => all.map((c) => {
    const box = c.getBoundingClientRect();
    return { target: c.dataset.target, artifact: c.dataset.artifact || null, text: c.innerText,
             top: box.top, bottom: box.bottom, left: box.left, right: box.right };
  }));
}

async function sortTwice(page, key) {
  const header = page.locator(`#artifact-table thead th[data-key="${key}"]`);
  const before = await tableOrder(page);
  await header.click();
  const first = await tableOrder(page);
  const firstAria = await header.getAttribute('aria-sort');
  await header.click();
  return { key, before, first, first_aria: firstAria, second: await tableOrder(page),
           second_aria: await header.getAttribute('aria-sort') };
}

async function filterBy(page, spec) {
  const [facet, value] = spec.split('=');
  await page.selectOption(`select[data-facet="${facet}"]`, value);
  const shown = await shownRows(page);
  const facets = await page.$$eval('#artifact-table > tbody', (bodies, f) => Object.fromEntries(
    bodies.map((b) => [b.dataset.name, b.dataset[f]])), facet);
  const count = await page.textContent('#shown-count');
  await page.selectOption(`select[data-facet="${facet}"]`, '');
  return { facet, value, shown, facets, count, shown_after_reset: (await shownRows(page)).length };
}

async function foldOut(page, name) {
  const body = page.locator(`#artifact-table > tbody[data-name="${name}"]`);
  const detail = body.locator('tr.detail');
  const visibleBefore = await detail.isVisible();
  await body.locator('button.fold').click();
  return { artifact: name, visible_before: visibleBefore, visible_after: await detail.isVisible(),
           text: await detail.innerText(), tables: await detail.locator('table').count() };
}

async function probe(page, opts) {
  const out = { viewport: [opts.width, opts.height], cards: await cards(page),
                page_width: await page.evaluate(() => document.documentElement.scrollWidth),
                images: await page.$$eval('img', (imgs) => ({ total: imgs.length,
                  decoded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length })),
                external: await page.$$eval('[src],[href]', (els) => els.map((e) => e.getAttribute('src')
                  || e.getAttribute('href')).filter((u) => !u.startsWith('data:') && !u.startsWith('#'))),
                order: await tableOrder(page) };
  if (opts.sort) out.sort = await sortTwice(page, opts.sort);
  if (opts.filter) out.filter = await filterBy(page, opts.filter);
  if (opts.fold) out.fold = await foldOut(page, opts.fold);
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: opts.chromium, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: opts.width, height: opts.height },
                                               offline: true });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(pathToFileURL(opts.html).href, { waitUntil: 'load' });
    if (opts.mode === 'screenshot') {
      await writeAtomic(opts.out, await page.screenshot({ fullPage: false }));
    } else {
      const result = await probe(page, opts);
      await writeAtomic(opts.out, JSON.stringify({ ...result, errors }, null, 1));
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => fail(e.message.split('\n')[0]));
