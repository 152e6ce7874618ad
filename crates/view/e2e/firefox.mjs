// The viewer in Firefox: Debian's firefox-esr driven by puppeteer-core over
// WebDriver BiDi (Playwright's own Firefox build can't be installed here).
// The timeline (drawing, wheel zoom, drag and key pans, the URL, a span's
// details) and every analysis page, with no JS errors; screenshots under
// target/view-e2e/firefox/.
//
//   cd crates/view/e2e && npm ci && GOTRACE_BIN=/path/to/gotrace node firefox.mjs
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { corpus, finish, launchFirefox, serve, shots as shotsRoot, test } from './lib.mjs';

const shots = path.join(shotsRoot, 'firefox');
mkdirSync(shots, { recursive: true });
const shot = (page, name) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launchFirefox();
const version = await browser.version();
assert.match(version, /firefox/i, version);
console.log(`# ${version}`);

// One server per trace, shared by the tests.
const servers = new Map();
async function server(trace) {
  if (!servers.has(trace)) servers.set(trace, await serve(corpus(trace)));
  return servers.get(trace);
}

// A page on a trace's server; errors collects uncaught exceptions and
// console errors.
async function open(trace, route) {
  const srv = await server(trace);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(srv.url + route);
  return { page, srv, errors };
}

async function openTimeline(trace, hash = '') {
  const o = await open(trace, '/' + hash);
  await o.page.waitForFunction(() => window.gotraceState?.ready && window.gotraceState.tiles.size > 5, { timeout: 60000 });
  await o.page.waitForFunction(() => window.gotrace.idle());
  await sleep(100);
  return o;
}

async function openPage(trace, route) {
  const o = await open(trace, route);
  await o.page.waitForFunction(() => window.gotracePages?.ready, { timeout: 60000 });
  return o;
}

// What a canvas shows inside a CSS-pixel box (all of it by default): the
// share of pixels with ink (darker than near-white over the page) and how
// many distinct inked colors.
function ink(page, sel, box) {
  return page.evaluate((sel, box) => {
    const c = document.querySelector(sel);
    const k = c.width / c.clientWidth;
    const b = box || { x: 0, y: 0, w: c.clientWidth, h: c.clientHeight };
    const w = Math.max(1, Math.round(b.w * k)), hh = Math.max(1, Math.round(b.h * k));
    const d = c.getContext('2d').getImageData(Math.round(b.x * k), Math.round(b.y * k), w, hh).data;
    let n = 0;
    const colors = new Set();
    for (let i = 0; i < d.length; i += 4) {
      // Over the page's white, at least a little dark.
      if (d[i + 3] / 255 * (255 - Math.min(d[i], d[i + 1], d[i + 2])) < 20) continue;
      n++;
      colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { share: n / (w * hh), colors: colors.size };
  }, sel, box || null);
}

// Checks a row's canvas pixels against its tile: every span on screen (drawn
// at least a pixel wide, aggregates translucent) inks a pixel, the middle of
// each gap of 4+ pixels between spans stays blank (away from stop-the-world
// shades); colors counts the distinct opaque span colors.
function rowDrawn(page, rowId) {
  return page.evaluate((rowId) => {
    const S = window.gotraceState;
    const cv = document.getElementById('canvas');
    const W = cv.clientWidth, k = cv.width / W;
    const r = S.rows.find((r) => r.id === rowId);
    const d = S.tiles.get(rowId).data;
    const stw = S.tiles.get('stw')?.data || { s: [], e: [] };
    const y = r.y - document.getElementById('rows-wrap').scrollTop + r.h / 2;
    const img = cv.getContext('2d').getImageData(0, Math.round(y * k), cv.width, 1).data;
    const x = (t) => (t - S.v0) / (S.v1 - S.v0) * W;
    // How dark a CSS pixel is over the page's white: 0 blank, 255 black.
    const ink = (px) => {
      const i = Math.min(cv.width - 1, Math.max(0, Math.floor(px * k))) * 4, a = img[i + 3] / 255;
      return Math.round(a * (255 - Math.min(img[i], img[i + 1], img[i + 2])));
    };
    const res = { spans: 0, inked: 0, gaps: 0, gapsInked: 0, colors: 0 };
    const colors = new Set();
    const pxNs = (S.v1 - S.v0) / W;
    let prev = null;
    for (let i = 0; i < d.s.length; i++) {
      const x0 = x(d.s[i]), x1 = x(d.e[i]);
      if (x1 < 0 || x0 >= W) continue;
      if (prev != null && x0 - prev >= 4) {
        const m = (prev + x0) / 2, tm = S.v0 + m * pxNs;
        if (!stw.s.some((s, j) => tm >= s - 2 * pxNs && tm <= stw.e[j] + 2 * pxNs)) {
          res.gaps++;
          if (ink(m) > 0) res.gapsInked++;
        }
      }
      prev = Math.max(prev ?? -Infinity, x1);
      const a = Math.max(0, x0), b = Math.min(W - 1, Math.max(x1, x0 + 1));
      let best = 0;
      for (let p = Math.floor(a); p <= b; p++) best = Math.max(best, ink(p + 0.5));
      res.spans++;
      if (best >= 20) res.inked++;
      if (b - a >= 3) {
        const i = Math.floor((a + b) / 2 * k) * 4;
        if (img[i + 3] === 255) colors.add(`${img[i]},${img[i + 1]},${img[i + 2]}`);
      }
    }
    res.colors = colors.size;
    return res;
  }, rowId);
}

const view = (page) => page.evaluate(() => [window.gotraceState.v0, window.gotraceState.v1]);
// The window the URL holds, once the (debounced) hash has caught up.
async function urlView(page) {
  await page.waitForFunction(() => {
    const S = window.gotraceState;
    return new URLSearchParams(location.hash.slice(1)).get('t') === `${Math.round(S.v0)},${Math.round(S.v1)}`;
  });
  return new URLSearchParams(new URL(page.url()).hash.slice(1)).get('t').split(',').map(Number);
}
const box = async (page, sel) => (await page.$(sel)).boundingBox();

// The error checks below rely on these events reaching us over BiDi.
await test('firefox: uncaught errors and console errors are seen', async () => {
  const { page, errors } = await open('sched.trace', '/');
  await page.evaluate(() => { console.error('e2e-console-error'); setTimeout(() => { throw new Error('e2e-uncaught'); }); });
  for (let i = 0; i < 50 && errors.length < 2; i++) await sleep(20);
  assert.ok(errors.some((e) => e.includes('e2e-console-error')), JSON.stringify(errors));
  assert.ok(errors.some((e) => e.includes('e2e-uncaught')), JSON.stringify(errors));
  await page.close();
});

// ---- timeline ----

await test('firefox: timeline draws its rows (sched.trace)', async () => {
  const { page, errors } = await openTimeline('sched.trace');
  await shot(page, 'sched-initial');
  // The PROC rows are drawn where their tiles have spans, and blank between.
  const c = await box(page, '#canvas');
  for (const row of ['proc:0', 'proc:1']) {
    const r = await rowDrawn(page, row);
    assert.ok(r.spans >= 10 && r.inked >= r.spans * 0.95, `${row} spans drawn: ${JSON.stringify(r)}`);
    assert.ok(r.gaps >= 5 && r.gapsInked <= r.gaps * 0.05, `${row} gaps blank: ${JSON.stringify(r)}`);
  }
  // The counters (stacked areas) and the labels are drawn too.
  const cy = await page.evaluate(() => window.gotraceState.rows.find((r) => r.id === 'counter:goroutines').y);
  const counters = await ink(page, '#canvas', { x: 0, y: cy, w: c.width, h: 40 });
  assert.ok(counters.share > 0.05, `counters drawn: ${JSON.stringify(counters)}`);
  const labels = await ink(page, '#labels');
  assert.ok(labels.share > 0.01 && labels.colors >= 2, `labels drawn: ${JSON.stringify(labels)}`);
  // The axis and range label show the whole trace.
  const [v0, v1] = await view(page);
  assert.equal(v0, 0);
  const dur = await page.evaluate(() => window.gotraceState.meta.duration);
  assert.equal(v1, dur);
  assert.match(await page.$eval('#range-label', (e) => e.textContent), /^0ns – [\d.]+m?s \(/);
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: wheel zooms, drag and A/D pan, W/S zoom, the URL follows', async () => {
  const { page, errors } = await openTimeline('sched.trace');
  const c = await box(page, '#canvas');
  const [a0, b0] = await view(page);
  const t0 = await urlView(page);
  assert.deepEqual(t0, [Math.round(a0), Math.round(b0)]);
  // Wheel up zooms in around the pointer: the time under it stays put.
  const px = c.x + c.width * 0.25;
  const tAt = (a, b) => a + (px - c.x) / c.width * (b - a);
  await page.mouse.move(px, c.y + 200);
  for (let i = 0; i < 5; i++) await page.mouse.wheel({ deltaY: -300 });
  await page.waitForFunction((b0, a0) => window.gotraceState.v1 - window.gotraceState.v0 < (b0 - a0) / 2, {}, b0, a0);
  await sleep(100);
  const [a1, b1] = await view(page);
  assert.ok(b1 - a1 < (b0 - a0) / 2, `wheel zoomed in: ${b1 - a1} vs ${b0 - a0}`);
  assert.ok(Math.abs(tAt(a1, b1) - tAt(a0, b0)) < (b1 - a1) * 0.01, 'zoomed around the pointer');
  const t1 = await urlView(page);
  assert.notDeepEqual(t1, t0);
  // Wheel down zooms back out.
  for (let i = 0; i < 2; i++) await page.mouse.wheel({ deltaY: 300 });
  await page.waitForFunction((s) => window.gotraceState.v1 - window.gotraceState.v0 > s * 1.5, {}, b1 - a1);
  const [a1b, b1b] = await view(page);
  // Drag left by 300px pans right by 300px worth of time.
  await page.mouse.move(c.x + 600, c.y + 300);
  await page.mouse.down();
  await page.mouse.move(c.x + 300, c.y + 300, { steps: 5 });
  await page.mouse.up();
  const [a2, b2] = await view(page);
  assert.ok(Math.abs((a2 - a1b) - (b1b - a1b) * 300 / c.width) < (b1b - a1b) * 0.02, `drag panned ${a2 - a1b} of ${b1b - a1b}`);
  assert.ok(Math.abs((b2 - a2) - (b1b - a1b)) < 2, 'a pan keeps the span');
  assert.deepEqual(await urlView(page), [Math.round(a2), Math.round(b2)]);
  // Held keys: W zooms in, S out, D pans right, A left.
  const hold = async (k, ms = 250) => { await page.keyboard.down(k); await sleep(ms); await page.keyboard.up(k); await sleep(50); };
  await hold('w');
  const [a3, b3] = await view(page);
  assert.ok(b3 - a3 < (b2 - a2) * 0.8, `W zoomed in: ${b3 - a3} vs ${b2 - a2}`);
  await hold('s');
  const [a4, b4] = await view(page);
  assert.ok(b4 - a4 > (b3 - a3) * 1.2, `S zoomed out: ${b4 - a4} vs ${b3 - a3}`);
  await hold('d');
  const [a5, b5] = await view(page);
  assert.ok(a5 > a4 + (b4 - a4) * 0.05, `D panned right: ${a5 - a4}`);
  await hold('a');
  const [a6] = await view(page);
  assert.ok(a6 < a5 - (b5 - a5) * 0.05, `A panned left: ${a6 - a5}`);
  const t6 = await urlView(page);
  // New tiles for the new window; the rows are still drawn.
  await page.waitForFunction(() => window.gotrace.idle());
  await sleep(100);
  const r = await rowDrawn(page, 'proc:0');
  assert.ok(r.spans >= 1 && r.inked >= r.spans * 0.95, `PROC 0 drawn after zooming: ${JSON.stringify(r)}`);
  await shot(page, 'sched-zoomed');
  // Reopening the URL restores the window.
  const p2 = await browser.newPage();
  await p2.goto(page.url());
  await p2.waitForFunction(() => window.gotraceState?.ready);
  const [c0, c1] = await view(p2);
  assert.ok(Math.abs(c0 - t6[0]) <= 1 && Math.abs(c1 - t6[1]) <= 1, `restored ${c0},${c1} vs ${t6}`);
  await p2.close();
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: line- and page-mode wheel events zoom', async () => {
  // Firefox reports a mouse wheel notch as 3 lines (deltaMode 1) to a page
  // that reads deltaMode; taken as 3 pixels it would barely zoom.
  const { page, errors } = await openTimeline('sched.trace');
  const c = await box(page, '#canvas');
  const zoomBy = (deltaY, deltaMode) => page.evaluate((x, y, deltaY, deltaMode) => {
    const S = window.gotraceState;
    window.gotrace.setView(0, S.meta.duration);
    const s0 = S.v1 - S.v0;
    document.getElementById('canvas').dispatchEvent(new WheelEvent('wheel', { deltaY, deltaMode, clientX: x, clientY: y, bubbles: true, cancelable: true }));
    return (S.v1 - S.v0) / s0;
  }, c.x + c.width / 2, c.y + 200, deltaY, deltaMode);
  const px = await zoomBy(-120, 0);
  const line = await zoomBy(-3, 1);
  const pg = await zoomBy(-1, 2);
  const lineOut = await zoomBy(3, 1);
  assert.ok(px > 0.75 && px < 0.95, `a 120px notch zoomed in by ${px}`);
  assert.ok(Math.abs(Math.log(line) - Math.log(px)) < 0.05, `a 3-line notch zoomed in by ${line}, 120px by ${px}`);
  assert.ok(pg < line, `a page zoomed in by ${pg}, more than a notch`);
  assert.ok(Math.abs(Math.log(lineOut) + Math.log(line)) < 0.01, `a notch back zoomed out by ${lineOut}`);
  // Shift turns a line-mode wheel into a pan.
  const [a0, b0] = await page.evaluate((x, y) => {
    const S = window.gotraceState;
    window.gotrace.setView(S.meta.duration / 4, S.meta.duration / 2);
    const v = [S.v0, S.v1];
    document.getElementById('canvas').dispatchEvent(new WheelEvent('wheel', { deltaY: 3, deltaMode: 1, shiftKey: true, clientX: x, clientY: y, bubbles: true, cancelable: true }));
    return v;
  }, c.x + c.width / 2, c.y + 200);
  const [a1, b1] = await view(page);
  assert.ok(a1 - a0 > (b0 - a0) * 0.05 && Math.abs((b1 - a1) - (b0 - a0)) < 2, `shift-wheel panned ${a1 - a0} of ${b0 - a0}`);
  assert.deepEqual(errors, []);
  await page.close();
});

// An x inside the widest non-aggregated span of a row on screen, and the row's y.
async function spanPoint(page, rowId) {
  return page.evaluate((rowId) => {
    const S = window.gotraceState;
    const c = document.getElementById('canvas').getBoundingClientRect();
    const wrap = document.getElementById('rows-wrap');
    const r = S.rows.find((r) => r.id === rowId);
    const t = S.tiles.get(rowId);
    if (!r || !t) return null;
    const d = t.data;
    let best = -1, bw = 0;
    for (let i = 0; i < d.s.length; i++) {
      const a = Math.max(d.s[i], S.v0), b = Math.min(d.e[i], S.v1);
      if (d.n[i] === 1 && b - a > bw) { bw = b - a; best = i; }
    }
    if (best < 0) return null;
    const tm = (Math.max(d.s[best], S.v0) + Math.min(d.e[best], S.v1)) / 2;
    return { x: c.left + (tm - S.v0) / (S.v1 - S.v0) * c.width, y: c.top + r.y - wrap.scrollTop + r.h / 2, g: d.g[best] };
  }, rowId);
}

await test('firefox: clicking a span shows its goroutine and stack', async () => {
  const { page, errors } = await openTimeline('sched.trace');
  // Zoom to the widest span on PROC 0.
  await page.evaluate(async () => {
    const d = (await (await fetch('/api/tiles?rows=proc:0&px=10000')).json()).rows['proc:0'];
    let best = 0;
    for (let i = 0; i < d.s.length; i++) if (d.n[i] === 1 && d.e[i] - d.s[i] > d.e[best] - d.s[best]) best = i;
    const w = d.e[best] - d.s[best];
    window.gotrace.setView(d.s[best] - w, d.e[best] + w);
  });
  await sleep(50);
  await page.waitForFunction(() => window.gotrace.idle());
  const pt = await spanPoint(page, 'proc:0');
  assert.ok(pt, 'a span on PROC 0');
  const drawn = await rowDrawn(page, 'proc:0');
  assert.ok(drawn.inked === drawn.spans && drawn.colors >= 1, `PROC 0 drawn: ${JSON.stringify(drawn)}`);
  await page.mouse.click(pt.x, pt.y);
  await page.waitForSelector('#details .stack');
  const text = await page.$eval('#details', (e) => e.innerText);
  assert.match(text, /running/);
  assert.match(text, new RegExp(`Goroutine\\s+G${pt.g}\\b`), text);
  assert.match(text, /Duration/);
  assert.match(text, /\S+\.go:\d+/, text);
  const frames = await page.$$eval('#details .stack .frame', (fs) => fs.map((f) => [f.querySelector('.func').textContent, f.querySelector('.file').textContent]));
  assert.ok(frames.length > 0 && frames.every(([fn, file]) => fn && /:\d+$/.test(file)), JSON.stringify(frames));
  // The selection is in the URL.
  await page.waitForFunction(() => /sel=proc%3A0%40\d+/.test(location.hash));
  await shot(page, 'sched-details');
  // The goroutine link opens its row, selected.
  await page.click('#details a[data-goroutine]');
  await page.waitForFunction((g) => window.gotraceState.selG === g && window.gotraceState.sel?.row.startsWith('g:'), {}, pt.g);
  await page.waitForFunction(() => /Goroutine/.test(document.getElementById('details').innerText));
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: shift-drag totals a range', async () => {
  const { page, errors } = await openTimeline('sched.trace');
  const c = await box(page, '#canvas');
  await page.keyboard.down('Shift');
  await page.mouse.move(c.x + 200, c.y + 150);
  await page.mouse.down();
  await page.mouse.move(c.x + 700, c.y + 150, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.waitForSelector('#range-stats');
  const text = await page.$eval('#details', (e) => e.innerText);
  assert.match(text, /Goroutine time by state/);
  assert.match(text, /running\s+[\d.]+(ns|µs|ms|s)/);
  await shot(page, 'sched-range');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: other traces load and draw without errors', async () => {
  for (const t of ['annotations.trace', 'gc.trace', 'net.trace']) {
    const { page, errors } = await openTimeline(t);
    const drawn = await ink(page, '#canvas');
    assert.ok(drawn.share > 0.05 && drawn.colors >= 5, `${t} drawn: ${JSON.stringify(drawn)}`);
    await shot(page, t.replace('.trace', ''));
    assert.deepEqual(errors, [], t);
    await page.close();
  }
});

// ---- analysis pages ----

await test('firefox: landing page links to every analysis page', async () => {
  const { page, errors } = await openTimeline('annotations.trace');
  const hrefs = await page.$$eval('#page-links a', (as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs, ['/goroutines', '/profile', '/tasks', '/regions', '/mmu', '/gc']);
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: goroutines, a group, a goroutine in the timeline', async () => {
  const { page, errors } = await openPage('annotations.trace', '/goroutines');
  assert.equal(await page.title(), 'gotrace: goroutines');
  const groups = await page.$$eval('a.group', (as) => as.map((a) => a.textContent));
  assert.ok(groups.length > 0 && groups.some((g) => /main\./.test(g)), JSON.stringify(groups));
  const counts = await page.$$eval('table.data tbody tr', (trs) => trs.map((tr) => +tr.cells[1].textContent));
  assert.ok(counts.every((n) => n > 0), JSON.stringify(counts));
  await shot(page, 'goroutines');
  await Promise.all([page.waitForNavigation(), page.click('a.group')]);
  await page.waitForFunction(() => window.gotracePages?.ready && document.querySelector('a.tl'));
  assert.match(await page.$eval('h1', (e) => e.textContent), /^Goroutines: /);
  const bars = await page.$$eval('.stacked > div', (ds) => ds.filter((d) => d.getBoundingClientRect().width > 0).length);
  assert.ok(bars > 0, 'stacked time bars have width');
  await shot(page, 'goroutine-group');
  await Promise.all([page.waitForNavigation(), page.click('a.tl')]);
  assert.match(page.url(), /#view=timeline/);
  await page.waitForFunction(() => window.gotraceState?.ready && window.gotraceState.selG != null && /Goroutine/.test(document.getElementById('details').innerText), { timeout: 30000 });
  await page.waitForFunction(() => window.gotrace.idle());
  await shot(page, 'goroutine-timeline');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: profile flame graph: drawn, hover, click to zoom, download, other kinds', async () => {
  const { page, errors } = await openPage('net.trace', '/profile?kind=sched');
  await page.waitForFunction(() => window.gotracePages?.flame && window.gotracePages.flame.boxes().length > 3);
  await sleep(100);
  assert.match(await page.$eval('#profile-out p', (e) => e.textContent), /^Total delay [\d.]+(ns|µs|ms|s) over \d+ intervals/);
  const fl = await ink(page, 'canvas.flame');
  assert.ok(fl.share > 0.1 && fl.colors >= 5, `flame graph drawn: ${JSON.stringify(fl)}`);
  await shot(page, 'profile');
  const b = await page.evaluate(() => {
    const f = window.gotracePages.flame;
    const bs = f.boxes().filter((b) => b.n !== f.root && b.y > 0).sort((a, b) => b.w - a.w);
    const c = document.querySelector('canvas.flame').getBoundingClientRect();
    const b = bs.find((b) => b.n.ch.length) || bs[0];
    return { x: c.left + b.x + Math.min(b.w / 2, 100), y: c.top + b.y + 8, f: b.n.f };
  });
  await page.mouse.move(b.x, b.y);
  await page.waitForSelector('.tip:not([hidden])');
  const tip = await page.$eval('.tip', (e) => e.textContent);
  assert.ok(tip.includes(b.f) && tip.includes('of total'), tip);
  await shot(page, 'profile-hover');
  await page.mouse.click(b.x, b.y);
  assert.equal(await page.evaluate(() => window.gotracePages.flame.zoom.f), b.f);
  assert.ok((await page.$$eval('.crumbs a', (as) => as.map((a) => a.textContent))).includes(b.f));
  // The pprof download is a gzip attachment.
  const href = await page.$eval('#download', (a) => a.getAttribute('href'));
  assert.ok(href.startsWith('/api/pages/profile.pb.gz?'), href);
  const dl = await page.evaluate(async (href) => {
    const r = await fetch(href);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, cd: r.headers.get('content-disposition'), magic: [bytes[0], bytes[1]], n: bytes.length };
  }, href);
  assert.equal(dl.status, 200);
  assert.ok((dl.cd || '').startsWith('attachment'), dl.cd);
  assert.deepEqual(dl.magic, [0x1f, 0x8b]);
  // Every kind renders a flame graph or says it has no samples.
  for (const kind of ['sync', 'net', 'syscall']) {
    await page.select('#kind', kind);
    await page.waitForFunction((k) => location.search.includes(`kind=${k}`) && !/Computing/.test(document.getElementById('profile-out').textContent), {}, kind);
    const out = await page.$eval('#profile-out', (e) => e.textContent);
    assert.match(out, /Total delay|No samples/, `${kind}: ${out}`);
    if (/Total delay/.test(out)) {
      await sleep(50);
      const k = await ink(page, 'canvas.flame');
      assert.ok(k.share > 0.1, `${kind} flame graph drawn: ${JSON.stringify(k)}`);
    }
  }
  await shot(page, 'profile-syscall');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: tasks: types, a histogram bucket, a filter, a task in the timeline', async () => {
  const { page, errors } = await openPage('annotations.trace', '/tasks');
  const types = await page.$$eval('table.data:first-of-type tbody tr', (trs) => trs.length);
  assert.ok(types > 0, 'task types');
  await page.click('a.bucket');
  await page.waitForSelector('#task-list table');
  assert.match(await page.$eval('#task-list h2', (e) => e.textContent), /^Tasks: .* — [1-9]\d*/);
  const rows = await page.$$eval('#task-list tbody tr', (trs) => trs.length);
  assert.ok(rows > 0);
  await shot(page, 'tasks');
  await page.type('#logtext', 'zzz-no-such-text');
  await page.$eval('#logtext', (e) => e.dispatchEvent(new Event('change')));
  await page.waitForFunction(() => document.querySelector('#task-list h2')?.textContent.includes('— 0'));
  await page.$eval('#logtext', (e) => { e.value = ''; e.dispatchEvent(new Event('change')); });
  await page.waitForFunction(() => document.querySelectorAll('#task-list tbody tr').length > 0);
  await Promise.all([page.waitForNavigation(), page.click('#task-list a.tl')]);
  assert.match(page.url(), /task=\d+/);
  await page.waitForFunction(() => window.gotraceState?.ready && document.getElementById('task-title'), { timeout: 30000 });
  assert.match(await page.$eval('#task-title', (e) => e.textContent), /^Task \d+: /);
  await page.waitForFunction(() => window.gotrace.idle());
  await shot(page, 'task-timeline');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: regions: types with locations, a bucket', async () => {
  const { page, errors } = await openPage('annotations.trace', '/regions');
  const locs = await page.$$eval('table.data tbody tr td:nth-child(2)', (ts) => ts.map((t) => t.textContent));
  assert.ok(locs.length > 0 && locs.some((l) => /\.go:\d+/.test(l)), JSON.stringify(locs));
  await page.click('a.bucket');
  await page.waitForSelector('#region-list table');
  assert.match(await page.$eval('#region-list h2', (e) => e.textContent), /^Regions: .* — [1-9]\d*/);
  assert.ok(await page.$$eval('#region-list tbody tr', (trs) => trs.length) > 0);
  await shot(page, 'regions');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: mmu: plot drawn, pick a window, flags, worst windows', async () => {
  const { page, errors } = await openPage('gc.trace', '/mmu');
  await page.waitForSelector('#mmu-worst table');
  const plot = await ink(page, '#mmu-plot');
  assert.ok(plot.share > 0.005 && plot.colors >= 3, `MMU plot drawn: ${JSON.stringify(plot)}`);
  const info0 = await page.$eval('#mmu-info', (e) => e.textContent);
  assert.match(info0, /minimum mutator utilization [\d.]+%/);
  await shot(page, 'mmu');
  const c = await box(page, '#mmu-plot');
  await page.mouse.click(c.x + c.width * 0.7, c.y + c.height / 2);
  await page.waitForFunction((i) => document.getElementById('mmu-info').textContent !== i, {}, info0);
  assert.match(page.url(), /window=\d+/);
  await page.$eval('#flag-sweep', (e) => e.click());
  await page.$eval('#flag-perProc', (e) => e.click());
  await page.waitForFunction(() => location.search.includes('perProc') && !location.search.includes('sweep'));
  await page.waitForFunction(() => document.querySelectorAll('#mmu-worst tbody tr').length > 0);
  const util = await page.$$eval('#mmu-worst tbody tr', (trs) => trs.map((tr) => tr.cells[2].textContent));
  assert.ok(util.every((u) => /^\d+(\.\d+)?%$/.test(u)), JSON.stringify(util));
  await shot(page, 'mmu-perproc');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('firefox: gc: pauses, distribution, long ones highlighted', async () => {
  const { page, errors } = await openPage('gc.trace', '/gc');
  const stats = await page.$eval('#gc-stats', (e) => e.textContent);
  assert.match(stats, /Pauses\s*[1-9]\d*/);
  assert.ok(await page.$$eval('table.histo .hbar', (bs) => bs.filter((b) => b.getBoundingClientRect().width > 0).length) > 0, 'histogram bars');
  assert.ok(await page.$$eval('table.data tbody tr', (trs) => trs.length) > 0);
  await shot(page, 'gc');
  await page.$eval('#long', (e) => { e.value = '100us'; });
  await Promise.all([page.waitForNavigation(), page.$eval('#long', (e) => e.dispatchEvent(new Event('change')))]);
  assert.match(page.url(), /long=100us/);
  await page.waitForFunction(() => window.gotracePages?.ready && document.querySelectorAll('tr.long').length > 0);
  await shot(page, 'gc-long');
  assert.deepEqual(errors, []);
  await page.close();
});

await finish(browser);
