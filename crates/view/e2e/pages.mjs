// Browser tests for the analysis pages (issue #5): open each page on corpus
// traces, click through (a flame-graph node, a histogram bucket, the MMU
// plot, a link into the timeline) and save screenshots under
// target/view-e2e/pages-*.png.
//
//   cd crates/view/e2e && npm ci && GOTRACE_BIN=/path/to/gotrace node pages.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { corpus, finish, launch, serve, shots, test } from './lib.mjs';

const browser = await launch();

const servers = new Map();
async function server(trace) {
  if (!servers.has(trace)) servers.set(trace, await serve(corpus(trace)));
  return servers.get(trace);
}

async function open(trace, route) {
  const srv = await server(trace);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(srv.url + route);
  await page.waitForFunction(() => window.gotracePages?.ready || (location.pathname === '/' && window.gotraceState?.ready), null, { timeout: 60000 });
  return { page, srv, errors };
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, `pages-${name}.png`), fullPage: false });

await test('landing page links to every analysis page', async () => {
  const { page, errors } = await open('annotations.trace', '/');
  const hrefs = await page.$$eval('#page-links a', (as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs, ['/goroutines', '/profile', '/tasks', '/regions', '/mmu', '/gc']);
  assert.deepEqual(errors, []);
  await page.close();
});

await test('goroutines: groups, a group, a goroutine in the timeline', async () => {
  const { page, errors } = await open('annotations.trace', '/goroutines');
  const n = await page.locator('a.group').count();
  assert.ok(n > 0);
  await shot(page, 'goroutines');
  await page.locator('a.group').first().click();
  await page.waitForFunction(() => window.gotracePages?.ready && document.querySelector('a.tl'));
  await shot(page, 'goroutine-group');
  await page.locator('a.tl').first().click();
  await page.waitForURL(/#view=timeline/);
  await page.waitForFunction(() => window.gotraceState?.ready && window.gotraceState.selG != null, null, { timeout: 30000 });
  await page.waitForTimeout(500);
  await shot(page, 'goroutine-timeline');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('profile: flame graph, click to zoom, hover, download link', async () => {
  const { page, errors } = await open('net.trace', '/profile?kind=sched');
  await page.waitForFunction(() => window.gotracePages?.flame);
  await page.waitForTimeout(200);
  await shot(page, 'profile');
  // Click the widest box below the root.
  const box = await page.evaluate(() => {
    const f = window.gotracePages.flame;
    const bs = f.boxes().filter((b) => b.n !== f.root && b.y > 0).sort((a, b) => b.w - a.w);
    const c = document.querySelector('canvas.flame').getBoundingClientRect();
    const b = bs.find((b) => b.n.ch.length) || bs[0];
    return { x: c.left + b.x + Math.min(b.w / 2, 100), y: c.top + b.y + 8, f: b.n.f };
  });
  await page.mouse.move(box.x, box.y);
  await page.waitForSelector('.tip:not([hidden])');
  const tip = await page.textContent('.tip');
  assert.ok(tip.includes(box.f) && tip.includes('of total'), tip);
  await shot(page, 'profile-hover');
  await page.mouse.click(box.x, box.y);
  const zoomed = await page.evaluate(() => window.gotracePages.flame.zoom.f);
  assert.equal(zoomed, box.f);
  await shot(page, 'profile-zoomed');
  const href = await page.getAttribute('#download', 'href');
  assert.ok(href.startsWith('/api/pages/profile.pb.gz?'), href);
  const res = await page.request.get(new URL(href, page.url()).toString());
  assert.equal(res.status(), 200);
  assert.ok((res.headers()['content-disposition'] || '').startsWith('attachment'));
  // Other kinds.
  await page.selectOption('#kind', 'sync');
  await page.waitForFunction(() => location.search.includes('kind=sync'));
  await page.waitForTimeout(300);
  await shot(page, 'profile-sync');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('tasks: types, a histogram bucket, a task in the timeline', async () => {
  const { page, errors } = await open('annotations.trace', '/tasks');
  await page.locator('a.bucket').first().click();
  await page.waitForSelector('#task-list table');
  await shot(page, 'tasks');
  const rows = await page.locator('#task-list tbody tr').count();
  assert.ok(rows > 0);
  await page.fill('#logtext', 'zzz-no-such-text');
  await page.dispatchEvent('#logtext', 'change');
  await page.waitForFunction(() => document.querySelector('#task-list h2')?.textContent.includes('— 0'));
  await page.fill('#logtext', '');
  await page.dispatchEvent('#logtext', 'change');
  await page.waitForFunction(() => document.querySelectorAll('#task-list tbody tr').length > 0);
  await page.locator('#task-list a.tl').first().click();
  await page.waitForURL(/task=/);
  await page.waitForFunction(() => window.gotraceState?.ready, null, { timeout: 30000 });
  await page.waitForTimeout(500);
  await shot(page, 'task-timeline');
  assert.deepEqual(errors, []);
  await page.close();
});

await test('regions: types, a bucket, profiles', async () => {
  const { page, errors } = await open('annotations.trace', '/regions');
  await page.locator('a.bucket').first().click();
  await page.waitForSelector('#region-list table');
  await shot(page, 'regions');
  assert.ok(await page.locator('#region-list tbody tr').count() > 0);
  assert.deepEqual(errors, []);
  await page.close();
});

await test('mmu: plot, flags, worst windows', async () => {
  const { page, errors } = await open('gc.trace', '/mmu');
  await page.waitForSelector('#mmu-worst table');
  await shot(page, 'mmu');
  const c = await page.locator('#mmu-plot').boundingBox();
  await page.mouse.click(c.x + c.width * 0.7, c.y + c.height / 2);
  await page.waitForTimeout(500);
  await page.uncheck('#flag-sweep');
  await page.check('#flag-perProc');
  await page.waitForFunction(() => location.search.includes('perProc'));
  await page.waitForTimeout(500);
  await shot(page, 'mmu-perproc');
  assert.ok(await page.locator('#mmu-worst tbody tr').count() > 0);
  assert.deepEqual(errors, []);
  await page.close();
});

await test('gc: pauses, long ones highlighted', async () => {
  const { page, errors } = await open('gc.trace', '/gc');
  await shot(page, 'gc');
  const stats = await page.textContent('#gc-stats');
  assert.ok(stats.includes('Pauses'));
  assert.ok(await page.locator('table.data tbody tr').count() > 0);
  // Highlight pauses over 100µs instead of 1ms (the corpus has none over 1ms).
  await page.fill('#long', '100us');
  await page.dispatchEvent('#long', 'change');
  await page.waitForURL(/long=100us/);
  await page.waitForFunction(() => window.gotracePages?.ready && document.querySelectorAll('tr.long').length > 0);
  await shot(page, 'gc-long');
  assert.deepEqual(errors, []);
  await page.close();
});

await finish(browser);
