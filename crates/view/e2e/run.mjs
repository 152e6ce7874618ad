// Browser tests for the viewer: start `gotrace view` on corpus traces, drive
// Debian's chromium with playwright-core, and save screenshots under target/.
//
//   cd crates/view/e2e && npm ci && GOTRACE_BIN=/path/to/gotrace node run.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { corpus, finish, launch, serve, shots, test } from './lib.mjs';

const browser = await launch();

async function open(trace, hash = '') {
  const srv = await serve(trace);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(srv.url + '/' + hash);
  await page.waitForFunction(() => window.gotraceState?.ready && window.gotraceState.tiles.size > 5);
  await page.waitForTimeout(200);
  return { page, srv, errors, close: async () => { await page.close(); srv.proc.kill(); } };
}

// Where a row is drawn, and an x inside a wide non-aggregated span of it.
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
    return { x: c.left + (tm - S.v0) / (S.v1 - S.v0) * c.width, y: c.top + r.y - wrap.scrollTop + r.h / 2, t: tm, i: best };
  }, rowId);
}

await test('timeline loads, zooms and pans (sched.trace)', async () => {
  const { page, errors, close } = await open(corpus('sched.trace'));
  await page.screenshot({ path: path.join(shots, 'sched-initial.png') });
  const v = () => page.evaluate(() => [window.gotraceState.v0, window.gotraceState.v1]);
  const [a0, b0] = await v();
  const box = await page.locator('#canvas').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 200);
  for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -300);
  await page.waitForTimeout(300);
  const [a1, b1] = await v();
  assert.ok(b1 - a1 < (b0 - a0) / 2, `wheel zoomed in: ${b1 - a1} vs ${b0 - a0}`);
  // Drag pans left by a quarter of the view.
  await page.mouse.move(box.x + 600, box.y + 300);
  await page.mouse.down();
  await page.mouse.move(box.x + 300, box.y + 300, { steps: 5 });
  await page.mouse.up();
  const [a2, b2] = await v();
  assert.ok(Math.abs((a2 - a1) - (b1 - a1) * 300 / box.width) < (b1 - a1) * 0.02, `drag panned ${a2 - a1}`);
  // W zooms in, D pans right.
  await page.keyboard.down('w'); await page.waitForTimeout(250); await page.keyboard.up('w');
  const [a3, b3] = await v();
  assert.ok(b3 - a3 < b2 - a2, 'W zoomed in');
  await page.keyboard.down('d'); await page.waitForTimeout(250); await page.keyboard.up('d');
  const [a4] = await v();
  assert.ok(a4 > a3, 'D panned right');
  // New tiles arrive for the new window at a finer level of detail.
  await page.waitForFunction(() => window.gotrace.idle());
  await page.waitForTimeout(100);
  await page.screenshot({ path: path.join(shots, 'sched-zoomed.png') });
  // The URL holds the view; reopening it restores the window.
  await page.waitForTimeout(300);
  const url = page.url();
  assert.match(url, /#.*t=/);
  const p2 = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await p2.goto(url);
  await p2.waitForFunction(() => window.gotraceState?.ready);
  const [c0, c1] = await p2.evaluate(() => [window.gotraceState.v0, window.gotraceState.v1]);
  const [d0, d1] = await v();
  assert.ok(Math.abs(c0 - d0) <= 1 && Math.abs(c1 - d1) <= 1, `restored ${c0},${c1} vs ${d0},${d1}`);
  await p2.close();
  assert.deepEqual(errors, []);
  await close();
});

await test('click a span: details pane with stack and links; follow the unblocker', async () => {
  const { page, errors, close } = await open(corpus('sched.trace'));
  // Zoom to the widest span on PROC 0.
  await page.evaluate(async () => {
    const d = (await (await fetch('/api/tiles?rows=proc:0&px=10000')).json()).rows['proc:0'];
    let best = 0;
    for (let i = 0; i < d.s.length; i++) if (d.n[i] === 1 && d.e[i] - d.s[i] > d.e[best] - d.s[best]) best = i;
    const w = d.e[best] - d.s[best];
    window.gotrace.setView(d.s[best] - w, d.e[best] + w);
  });
  await page.waitForFunction(() => window.gotrace.idle());
  const pt = await spanPoint(page, 'proc:0');
  assert.ok(pt, 'a span on PROC 0');
  await page.mouse.click(pt.x, pt.y);
  await page.waitForSelector('#details .stack, #details h3');
  const text = await page.locator('#details').innerText();
  assert.match(text, /running/);
  assert.match(text, /Goroutine/);
  assert.match(text, /Duration/);
  // The stack shows file:line.
  assert.match(text, /\.go:\d+/, text);
  await page.screenshot({ path: path.join(shots, 'sched-details.png') });
  // The goroutine link opens its row; its waiting spans link to the unblocker.
  await page.locator('#details a[data-goroutine]').first().click();
  await page.waitForFunction(() => window.gotraceState.selG != null && window.gotraceState.gRow.size > 0);
  const gid = await page.evaluate(() => window.gotraceState.selG);
  // Find a waiting span on the goroutine's row with an unblocker, via the API.
  const found = await page.evaluate(async (gid) => {
    const g = await (await fetch(`/api/goroutine?id=${gid}`)).json();
    const tiles = await (await fetch(`/api/tiles?rows=g:${g.idx}&px=1000000`)).json();
    const d = tiles.rows[`g:${g.idx}`];
    for (let i = 0; i < d.s.length; i++) {
      if (d.k[i] !== 4) continue;
      const sp = await (await fetch(`/api/span?row=g:${g.idx}&t=${(d.s[i] + d.e[i]) / 2}`)).json();
      if (sp.unblockedBy && sp.unblockedBy.g) return { idx: g.idx, t: (d.s[i] + d.e[i]) / 2, s: d.s[i], e: d.e[i], waker: sp.unblockedBy.g.id };
    }
    return null;
  }, gid);
  assert.ok(found, 'a waiting span with an unblocker');
  await page.evaluate(({ idx, s, e, t }) => {
    const S = window.gotraceState, w = e - s;
    window.gotrace.setView(s - w * 0.2, e + w * 0.2);
  }, found);
  await page.waitForFunction(() => window.gotrace.idle());
  const gp = await spanPoint(page, `g:${found.idx}`);
  const wait = await page.evaluate((idx) => {
    const S = window.gotraceState, d = S.tiles.get(`g:${idx}`).data;
    const c = document.getElementById('canvas').getBoundingClientRect();
    for (let i = 0; i < d.s.length; i++) if (d.k[i] === 4 && d.e[i] - d.s[i] > (S.v1 - S.v0) / 3) return c.left + ((d.s[i] + d.e[i]) / 2 - S.v0) / (S.v1 - S.v0) * c.width;
    return null;
  }, found.idx);
  assert.ok(wait, 'the waiting span is visible');
  await page.mouse.click(wait, gp.y);
  await page.waitForSelector('#unblocker-link');
  assert.match(await page.locator('#details').innerText(), /waiting/);
  await page.screenshot({ path: path.join(shots, 'sched-waiting.png') });
  await page.locator('#unblocker-link').click();
  await page.waitForFunction((w) => window.gotraceState.selG === w, found.waker);
  await page.waitForFunction(() => /G\d+/.test(document.getElementById('details').innerText));
  const sel = await page.evaluate(() => window.gotraceState.sel.row);
  assert.match(sel, /^g:/);
  assert.deepEqual(errors, []);
  await close();
});

await test('arrows are drawn when zoomed in and clicking one selects the waker', async () => {
  const { page, errors, close } = await open(corpus('sched.trace'));
  // Open every goroutine group so both ends of arrows are on screen.
  await page.evaluate(async () => {
    const S = window.gotraceState;
    for (const g of S.meta.groups) S.open.add(`grp:${g.idx}`);
    S.open.delete('sec:counters'); S.open.delete('sec:gc');
    const arr = await (await fetch('/api/arrows')).json();
    // Zoom around an unblock arrow in the middle of the trace.
    const i = arr.kind.findIndex((k, i) => k === 0 && arr.from[i] >= 0 && arr.tTo[i] != null && arr.t[i] > S.meta.duration / 3);
    const a = arr.t[i], b = arr.tTo[i], w = Math.max(b - a, 2000);
    window.__arrow = { from: arr.from[i], to: arr.to[i], t: a, tTo: b };
    window.gotrace.buildRows();
    window.gotrace.setView(a - w, b + w);
  });
  await page.waitForFunction(() => { const S = window.gotraceState; return [...S.groups.values()].every((v) => v) && S.arrows && !S.inflight; });
  await page.waitForTimeout(200);
  const info = await page.evaluate(() => {
    const S = window.gotraceState, A = window.__arrow;
    const wrap = document.getElementById('rows-wrap');
    const fr = S.rows[S.gRow.get(A.from)], tr = S.rows[S.gRow.get(A.to)];
    wrap.scrollTop = Math.max(0, Math.min(fr.y, tr.y) - 100);
    return { fromY: fr.y, toY: tr.y };
  });
  await page.waitForTimeout(300);
  await page.waitForFunction(() => window.gotrace.idle());
  await page.screenshot({ path: path.join(shots, 'sched-arrows.png') });
  // Click the arrow's middle.
  const pt = await page.evaluate(() => {
    const S = window.gotraceState, A = window.__arrow;
    const c = document.getElementById('canvas').getBoundingClientRect();
    const wrap = document.getElementById('rows-wrap');
    const fr = S.rows[S.gRow.get(A.from)], tr = S.rows[S.gRow.get(A.to)];
    const x0 = (A.t - S.v0) / (S.v1 - S.v0) * c.width, x1 = (A.tTo - S.v0) / (S.v1 - S.v0) * c.width;
    const y0 = fr.y - wrap.scrollTop + fr.h / 2, y1 = tr.y - wrap.scrollTop + tr.h / 2;
    return { x: c.left + (x0 + x1) / 2, y: c.top + (y0 + y1) / 2 };
  });
  await page.mouse.click(pt.x, pt.y);
  await page.waitForFunction(() => window.gotraceState.sel && window.gotraceState.sel.row === `g:${window.__arrow.from}`);
  await page.waitForFunction(() => /Goroutine/.test(document.getElementById('details').innerText));
  assert.deepEqual(errors, []);
  await close();
});

await test('range selection totals states', async () => {
  const { page, errors, close } = await open(corpus('sched.trace'));
  const box = await page.locator('#canvas').boundingBox();
  await page.keyboard.down('Shift');
  await page.mouse.move(box.x + 200, box.y + 150);
  await page.mouse.down();
  await page.mouse.move(box.x + 700, box.y + 150, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.waitForSelector('#range-stats');
  const text = await page.locator('#details').innerText();
  assert.match(text, /running/);
  assert.match(text, /Goroutine time by state/);
  await page.screenshot({ path: path.join(shots, 'sched-range.png') });
  assert.deepEqual(errors, []);
  await close();
});

await test('tasks page opens a task in the timeline (annotations.trace)', async () => {
  const { page, errors, close } = await open(corpus('annotations.trace'));
  await page.locator('#nav-tasks').click();
  await page.waitForSelector('.task-open');
  const id = await page.locator('.task-open').first().getAttribute('data-task');
  await page.locator('.task-open').first().click();
  await page.waitForSelector('#task-title');
  assert.match(await page.locator('#task-title').innerText(), new RegExp(`Task ${id}`));
  assert.equal(await page.locator('#timeline-view').isVisible(), true);
  await page.waitForFunction(() => !window.gotraceState.inflight && window.gotraceState.tiles.has('task:0'));
  await page.waitForTimeout(200);
  assert.match(page.url(), new RegExp(`task=${id}`));
  await page.screenshot({ path: path.join(shots, 'annotations-task.png') });
  assert.deepEqual(errors, []);
  await close();
});

await test('other traces load without errors', async () => {
  for (const t of ['net.trace', 'gc.trace', 'syscalls.trace']) {
    const { page, errors, close } = await open(corpus(t));
    await page.screenshot({ path: path.join(shots, t.replace('.trace', '.png')) });
    assert.deepEqual(errors, [], t);
    await close();
  }
});

await finish(browser);
