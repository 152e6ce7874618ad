// gotrace timeline viewer. The server sends level-of-detail tiles for the
// rows and time window on screen; this file draws them on a canvas.
// Trace strings are only ever inserted with textContent.

const $ = (id) => document.getElementById(id);
const api = async (path) => {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};

// ---- formatting ----
export function fmtDur(ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)}ns`;
  if (a < 1e6) return `${+(ns / 1e3).toFixed(3)}µs`;
  if (a < 1e9) return `${+(ns / 1e6).toFixed(3)}ms`;
  return `${+(ns / 1e9).toFixed(3)}s`;
}
// A tick label precise enough to tell neighbouring ticks apart.
function fmtTick(t, step) {
  const a = Math.abs(t);
  const [unit, name] = a >= 1e9 ? [1e9, 's'] : a >= 1e6 ? [1e6, 'ms'] : a >= 1e3 ? [1e3, 'µs'] : [1, 'ns'];
  const digits = Math.max(0, Math.min(9, Math.ceil(Math.log10(unit / step) - 1e-9)));
  return `${(t / unit).toFixed(digits)}${name}`;
}
const fmtBytes = (b) => b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(2)} GiB` : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`;

const STATE_COLORS = {
  0: '#ccc', 1: '#eee', 2: '#f2c14e', 3: '#4caf50', 4: '#e57373', 5: '#9575cd',
};
const STATE_NAMES = ['undetermined', 'notexist', 'runnable', 'running', 'waiting', 'syscall'];
const RANGE_COLORS = { gc: '#a1887f', stw: '#e53935', sweep: '#bcaaa4', assist: '#8d6e63' };
function hashColor(n) {
  const h = (n * 2654435761) % 360;
  return `hsl(${h},55%,58%)`;
}
function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'onclick') e.addEventListener('click', (ev) => { ev.preventDefault(); v(ev); });
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k ?? '')));
  return e;
}
const link = (text, fn, attrs = {}) => h('a', { class: 'link', href: '#', onclick: fn, ...attrs }, text);

// ---- state ----
const S = {
  meta: null,
  v0: 0, v1: 1, // visible window, ns since trace start
  open: new Set(['sec:counters', 'sec:gc', 'sec:procs', 'sec:goroutines']),
  groups: new Map(), // group idx -> [{idx,id,name}]
  tiles: new Map(), // row id -> {a, b, pxNs, data}
  arrows: null, // {a, b, data}
  sel: null, // {row, t}
  selG: null, // goroutine id
  task: null,
  range: null, // [a, b] selected range
  rows: [],
  scrollY: 0,
  dirty: true,
  inflight: false,
  gRow: new Map(), // goroutine idx -> row index
  view: 'timeline',
};
window.gotraceState = S; // for tests and debugging

const LABEL_W = 220;
const canvas = $('canvas');
const labels = $('labels');
const wrap = $('rows-wrap');
const ctx = canvas.getContext('2d');
const lctx = labels.getContext('2d');

// ---- rows ----
function buildRows() {
  const m = S.meta;
  const rows = [];
  const sec = (key, label, n) => {
    rows.push({ kind: 'header', key, label: `${S.open.has(key) ? '▾' : '▸'} ${label}${n != null ? ` (${n})` : ''}`, h: 18 });
    return S.open.has(key);
  };
  if (sec('sec:counters', 'Counters')) {
    rows.push({ id: 'counter:goroutines', kind: 'counter', label: 'Goroutines', h: 40, series: [0, 1, 2], names: ['running', 'runnable', 'waiting'] });
    rows.push({ id: 'counter:heap', kind: 'counter', label: 'Heap', h: 40, series: [0, 1], names: ['heap', 'goal'], lines: true, bytes: true });
    rows.push({ id: 'counter:goroutines', kind: 'counter', label: 'Threads', h: 30, series: [0, 3], names: ['running', 'in syscall'] });
  }
  if (sec('sec:gc', 'GC')) {
    rows.push({ id: 'gc', kind: 'range', label: 'GC mark', h: 16 });
    rows.push({ id: 'stw', kind: 'range', label: 'Stop-the-world', h: 16 });
    rows.push({ id: 'sweep', kind: 'range', label: 'Sweep', h: 16 });
    rows.push({ id: 'assist', kind: 'range', label: 'Mark assist', h: 16 });
  }
  if (sec('sec:procs', 'Procs', m.procs.length)) {
    m.procs.forEach((p, i) => rows.push({ id: `proc:${i}`, kind: 'proc', label: `PROC ${p}`, h: 22 }));
  }
  if (sec('sec:threads', 'Threads (syscalls)', m.threads.length)) {
    m.threads.forEach((t, i) => rows.push({ id: `thread:${i}`, kind: 'proc', label: `M ${t}`, h: 18 }));
  }
  if (m.taskLanes > 0 && sec('sec:tasks', 'Tasks', m.tasks)) {
    for (let i = 0; i < m.taskLanes; i++) rows.push({ id: `task:${i}`, kind: 'task', label: `lane ${i}`, h: 16 });
  }
  if (m.logs > 0) rows.push({ id: 'logs', kind: 'instants', label: `Logs (${m.logs})`, h: 16 });
  if (m.samples > 0) rows.push({ id: 'cpu', kind: 'instants', label: `CPU samples (${m.samples})`, h: 16 });
  S.gRow.clear();
  if (sec('sec:goroutines', 'Goroutines', m.goroutines)) {
    for (const g of m.groups) {
      const key = `grp:${g.idx}`;
      rows.push({ kind: 'header', key, label: `  ${S.open.has(key) ? '▾' : '▸'} ${g.name} (${g.count})`, h: 18, group: g.idx });
      if (S.open.has(key)) {
        const gs = S.groups.get(g.idx);
        if (!gs) { loadGroup(g.idx); continue; }
        for (const gr of gs) {
          S.gRow.set(gr.idx, rows.length);
          rows.push({ id: `g:${gr.idx}`, kind: 'g', label: `    ${gr.name}`, h: 20, gidx: gr.idx, gid: gr.id });
        }
      }
    }
  }
  let y = 0;
  for (const r of rows) { r.y = y; y += r.h; }
  S.rows = rows;
  $('spacer').style.height = `${y}px`;
  S.dirty = true;
}

async function loadGroup(idx) {
  if (S.groups.has(idx)) return;
  S.groups.set(idx, null);
  const gs = await api(`/api/group?idx=${idx}`);
  S.groups.set(idx, gs);
  buildRows();
  schedule();
}

function visibleRows() {
  const top = wrap.scrollTop, bottom = top + wrap.clientHeight;
  return S.rows.filter((r) => r.y + r.h > top && r.y < bottom);
}

// ---- tiles ----
function pxNs() { return (S.v1 - S.v0) / Math.max(1, canvas.clientWidth); }

// The part of the view that has data: tiles never extend past the trace.
const lo = () => Math.max(0, S.v0);
const hi = () => Math.min(S.meta.duration, S.v1);
function staleRows() {
  const want = pxNs();
  return [...new Set(visibleRows().filter((r) => r.id).map((r) => r.id))].filter((id) => {
    const t = S.tiles.get(id);
    return !t || t.a > lo() || t.b < hi() || t.pxNs > want * 1.5 || t.pxNs < want / 4;
  });
}
function arrowsStale() {
  const wanted = S.gRow.size > 0 && S.v1 - S.v0 < 50e6;
  return wanted && (!S.arrows || S.arrows.a > lo() || S.arrows.b < hi());
}
/** Whether everything on screen is drawn from up-to-date data. */
function idle() { return !S.inflight && staleRows().length === 0 && !arrowsStale(); }

async function fetchTiles() {
  if (S.inflight) { S.refetch = true; return; }
  const span = S.v1 - S.v0;
  const want = pxNs();
  const need = staleRows();
  const needArrows = arrowsStale();
  if (need.length === 0 && !needArrows) return;
  // Fetch a margin on both sides so small pans need no round trip.
  const a = Math.max(0, Math.floor(S.v0 - span / 2));
  const b = Math.min(S.meta.duration, Math.ceil(S.v1 + span / 2));
  const px = Math.ceil((b - a) / want);
  S.inflight = true;
  try {
    const jobs = [];
    for (let i = 0; i < need.length; i += 40) {
      const chunk = need.slice(i, i + 40);
      jobs.push(api(`/api/tiles?rows=${encodeURIComponent(chunk.join(','))}&start=${a}&end=${b}&px=${px}`).then((res) => {
        for (const [id, data] of Object.entries(res.rows)) S.tiles.set(id, { a, b, pxNs: (b - a) / px, data });
      }));
    }
    if (needArrows) jobs.push(api(`/api/arrows?start=${a}&end=${b}`).then((data) => { S.arrows = { a, b, data }; }));
    await Promise.all(jobs);
  } catch (e) {
    console.error(e);
  } finally {
    S.inflight = false;
    S.dirty = true;
    requestAnimationFrame(frame);
    if (S.refetch) { S.refetch = false; fetchTiles(); }
  }
}

let fetchTimer = null;
function schedule() {
  S.dirty = true;
  requestAnimationFrame(frame);
  clearTimeout(fetchTimer);
  fetchTimer = setTimeout(fetchTiles, 30);
  saveUrl();
}

// ---- drawing ----
const xOf = (t, W) => (t - S.v0) / (S.v1 - S.v0) * W;

function frame() {
  if (!S.dirty || !S.meta) return;
  S.dirty = false;
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth, H = wrap.clientHeight;
  for (const [c, w] of [[canvas, W], [labels, LABEL_W]]) {
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(H * dpr)) {
      c.width = Math.round(w * dpr); c.height = Math.round(H * dpr);
      c.style.height = `${H}px`;
    }
  }
  labels.style.width = `${LABEL_W}px`;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  lctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  lctx.clearRect(0, 0, LABEL_W, H);
  const top = wrap.scrollTop;
  ctx.font = '10px system-ui, sans-serif';
  lctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  lctx.textBaseline = 'middle';
  for (const r of visibleRows()) {
    const y = r.y - top;
    if (r.kind === 'header') {
      lctx.fillStyle = '#e8ecf0'; lctx.fillRect(0, y, LABEL_W, r.h);
      ctx.fillStyle = '#f3f5f7'; ctx.fillRect(0, y, W, r.h);
    } else if (S.selG != null && r.gid === S.selG) {
      lctx.fillStyle = '#fff3c4'; lctx.fillRect(0, y, LABEL_W, r.h);
    }
    lctx.fillStyle = '#222';
    lctx.fillText(r.label, 4, y + r.h / 2, LABEL_W - 8);
    ctx.strokeStyle = '#eee';
    ctx.beginPath(); ctx.moveTo(0, y + r.h - 0.5); ctx.lineTo(W, y + r.h - 0.5); ctx.stroke();
    const t = r.id && S.tiles.get(r.id);
    if (!t) continue;
    drawRow(r, t.data, y, W);
  }
  drawStw(W, H);
  drawArrows(W, top);
  drawSelection(W, H, top);
  drawAxis(W);
}

function drawSpans(d, y, hgt, W, color, label) {
  const n = d.s.length;
  let lastX = -1;
  for (let i = 0; i < n; i++) {
    let x0 = xOf(d.s[i], W), x1 = xOf(d.e[i], W);
    if (x1 < 0 || x0 > W) continue;
    x0 = Math.max(x0, -1); x1 = Math.min(x1, W + 1);
    const w = Math.max(1, x1 - x0);
    ctx.fillStyle = color(i);
    ctx.globalAlpha = d.n[i] > 1 ? 0.55 : 1;
    ctx.fillRect(x0, y, w, hgt);
    ctx.globalAlpha = 1;
    if (label && w > 30 && x0 >= lastX) {
      const text = label(i);
      if (text) {
        ctx.save();
        ctx.beginPath(); ctx.rect(x0, y, w, hgt); ctx.clip();
        ctx.fillStyle = '#000';
        ctx.fillText(text, Math.max(x0, 0) + 2, y + hgt / 2);
        ctx.restore();
        lastX = x0 + w;
      }
    }
  }
}

function drawRow(r, d, y, W) {
  const pad = 2;
  if (r.kind === 'proc') {
    drawSpans(d, y + pad, r.h - 2 * pad, W, (i) => d.n[i] > 1 ? '#7a9' : (r.id.startsWith('thread') ? (d.k[i] === 1 ? '#b39ddb' : '#9575cd') : hashColor(d.g[i] ?? 0)),
      (i) => d.n[i] > 1 ? '' : `G${d.g[i]}`);
  } else if (r.kind === 'g') {
    const hs = r.h - 6;
    drawSpans(d, y + 1, hs, W, (i) => STATE_COLORS[d.k[i]] || '#ccc', (i) => {
      if (d.n[i] > 1) return '';
      const reason = d.reasons[d.r[i]] || '';
      return reason ? `${STATE_NAMES[d.k[i]]}: ${reason}` : STATE_NAMES[d.k[i]];
    });
    const rg = d.regions;
    if (rg && rg.s.length) drawSpans(rg, y + hs + 1, 4, W, (i) => hashColor(rg.k[i] + 7), null);
  } else if (r.kind === 'range') {
    drawSpans(d, y + pad, r.h - 2 * pad, W, () => RANGE_COLORS[r.id], (i) => d.n[i] > 1 ? '' : d.name[i]);
  } else if (r.kind === 'task') {
    drawSpans(d, y + pad, r.h - 2 * pad, W, (i) => hashColor((d.k[i] || 0) + 3), (i) => d.n[i] > 1 ? `${d.n[i]} tasks` : `${d.name[i]} #${d.id[i]}`);
  } else if (r.kind === 'instants') {
    ctx.fillStyle = r.id === 'cpu' ? '#ef6c00' : '#1e88e5';
    for (const t of d.t) {
      const x = xOf(t, W);
      if (x >= -2 && x <= W + 2) ctx.fillRect(x - 1, y + 3, 2, r.h - 6);
    }
  } else if (r.kind === 'counter') {
    drawCounter(r, d, y, W);
  }
}

function drawCounter(r, d, y, W) {
  const n = d.t.length;
  if (!n) return;
  let max = 1;
  for (const s of r.series) for (const v of d.v[s]) max = Math.max(max, r.lines ? v : 0);
  if (!r.lines) for (let i = 0; i < n; i++) { let sum = 0; for (const s of r.series) sum += d.v[s][i]; max = Math.max(max, sum); }
  const hh = r.h - 4;
  const colors = r.lines ? ['#1e88e5', '#fb8c00'] : ['#4caf50', '#f2c14e', '#e57373'];
  if (r.series.length === 2 && !r.lines) colors[1] = '#9575cd';
  for (let i = 0; i < n; i++) {
    const x0 = Math.max(0, xOf(d.t[i], W));
    const x1 = Math.min(W, i + 1 < n ? xOf(d.t[i + 1], W) : W);
    if (x1 < 0 || x0 > W) continue;
    let base = 0;
    r.series.forEach((s, j) => {
      const v = d.v[s][i];
      ctx.fillStyle = colors[j];
      if (r.lines) {
        const yy = y + 2 + hh - v / max * hh;
        ctx.fillRect(x0, yy, Math.max(1, x1 - x0), 1.5);
      } else {
        const hv = v / max * hh;
        ctx.fillRect(x0, y + 2 + hh - base - hv, Math.max(1, x1 - x0), hv);
        base += hv;
      }
    });
  }
  ctx.fillStyle = '#555';
  ctx.fillText(r.bytes ? `max ${fmtBytes(max)}` : `max ${max}`, 4, y + 8);
}

function drawStw(W, H) {
  const t = S.tiles.get('stw');
  if (!t) return;
  const d = t.data;
  ctx.fillStyle = 'rgba(229,57,53,0.18)';
  for (let i = 0; i < d.s.length; i++) {
    const x0 = xOf(d.s[i], W), x1 = xOf(d.e[i], W);
    if (x1 < 0 || x0 > W) continue;
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), H);
  }
}

function arrowGeom(W, top, i) {
  const d = S.arrows.data;
  const fr = S.gRow.get(d.from[i]), tr = S.gRow.get(d.to[i]);
  if (fr == null || tr == null || d.tTo[i] == null) return null;
  const a = S.rows[fr], b = S.rows[tr];
  return [xOf(d.t[i], W), a.y - top + a.h / 2, xOf(d.tTo[i], W), b.y - top + b.h / 2];
}

function drawArrows(W, top) {
  if (!S.arrows || S.v1 - S.v0 >= 50e6) return;
  const d = S.arrows.data;
  ctx.lineWidth = 1;
  for (let i = 0; i < d.t.length; i++) {
    const g = arrowGeom(W, top, i);
    if (!g) continue;
    const [x0, y0, x1, y1] = g;
    if (Math.max(x0, x1) < 0 || Math.min(x0, x1) > W) continue;
    ctx.strokeStyle = d.kind[i] === 1 ? '#2e7d32' : '#1a237e';
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    const ang = Math.atan2(y1 - y0, x1 - x0);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - 6 * Math.cos(ang - 0.4), y1 - 6 * Math.sin(ang - 0.4));
    ctx.lineTo(x1 - 6 * Math.cos(ang + 0.4), y1 - 6 * Math.sin(ang + 0.4));
    ctx.fillStyle = ctx.strokeStyle; ctx.fill();
  }
}

function drawSelection(W, H, top) {
  if (S.range) {
    const [a, b] = S.range;
    ctx.fillStyle = 'rgba(30,136,229,0.15)';
    ctx.fillRect(xOf(a, W), 0, xOf(b, W) - xOf(a, W), H);
  }
  if (S.sel) {
    const r = S.rows.find((r) => r.id === S.sel.row);
    const x = xOf(S.sel.t, W);
    ctx.strokeStyle = '#000';
    ctx.beginPath(); ctx.moveTo(x + 0.5, 0); ctx.lineTo(x + 0.5, H); ctx.stroke();
    if (r) { ctx.strokeRect(0.5, r.y - top + 0.5, W - 1, r.h - 1); }
  }
}

function drawAxis(W) {
  const span = S.v1 - S.v0;
  const step = Math.pow(10, Math.floor(Math.log10(span / 6)));
  const mult = span / step > 30 ? 5 : span / step > 12 ? 2 : 1;
  const st = step * mult;
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(0, 0, W, 14);
  ctx.fillStyle = '#333';
  for (let t = Math.ceil(S.v0 / st) * st; t < S.v1; t += st) {
    const x = xOf(t, W);
    ctx.fillRect(x, 0, 1, 5);
    ctx.fillText(fmtTick(t, st), x + 2, 8);
  }
  $('range-label').textContent = `${fmtDur(S.v0)} – ${fmtDur(S.v1)} (${fmtDur(span)})`;
}

// ---- interaction ----
function setView(v0, v1) {
  const dur = S.meta.duration;
  const minSpan = 1000;
  if (v1 - v0 < minSpan) { const c = (v0 + v1) / 2; v0 = c - minSpan / 2; v1 = c + minSpan / 2; }
  const span = Math.min(v1 - v0, dur * 1.2 + minSpan);
  v0 = Math.max(-dur * 0.1, Math.min(v0, dur * 1.1 - span));
  S.v0 = v0; S.v1 = v0 + span;
  schedule();
}
function zoom(factor, atX) {
  const W = canvas.clientWidth;
  const t = S.v0 + (atX / W) * (S.v1 - S.v0);
  setView(t - (t - S.v0) * factor, t + (S.v1 - t) * factor);
}
function pan(frac) {
  const d = (S.v1 - S.v0) * frac;
  setView(S.v0 + d, S.v1 + d);
}

// Wheel deltas in pixels. Firefox reports a mouse wheel in lines (deltaMode
// 1: 3 a notch) and some devices scroll by pages (deltaMode 2); taken as
// pixels, a notch would barely zoom.
const WHEEL_LINE_PX = 40;
function wheelPx(e) {
  const k = e.deltaMode === 1 ? WHEEL_LINE_PX : e.deltaMode === 2 ? Math.max(100, wrap.clientHeight) : 1;
  return [e.deltaX * k, e.deltaY * k];
}
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  const [dx, dy] = wheelPx(e);
  if (e.shiftKey || Math.abs(dx) > Math.abs(dy)) {
    pan((dx || dy) / canvas.clientWidth);
    return;
  }
  const rect = canvas.getBoundingClientRect();
  zoom(Math.exp(dy * 0.0015), e.clientX - rect.left);
}, { passive: false });

const keysDown = new Set();
document.addEventListener('keydown', (e) => {
  if (e.target.tagName === 'INPUT') return;
  const k = e.key.toLowerCase();
  if ('wasd'.includes(k) && k.length === 1) {
    if (!keysDown.size) requestAnimationFrame(keyLoop);
    keysDown.add(k);
    e.preventDefault();
  }
});
document.addEventListener('keyup', (e) => keysDown.delete(e.key.toLowerCase()));
let lastKeyTime = 0;
function keyLoop(ts) {
  if (!keysDown.size) { lastKeyTime = 0; return; }
  const dt = lastKeyTime ? Math.min(50, ts - lastKeyTime) : 16;
  lastKeyTime = ts;
  const W = canvas.clientWidth;
  if (keysDown.has('w')) zoom(Math.exp(-dt * 0.004), W / 2);
  if (keysDown.has('s')) zoom(Math.exp(dt * 0.004), W / 2);
  if (keysDown.has('a')) pan(-dt * 0.0015);
  if (keysDown.has('d')) pan(dt * 0.0015);
  requestAnimationFrame(keyLoop);
}

let drag = null;
canvas.addEventListener('mousedown', (e) => {
  const rect = canvas.getBoundingClientRect();
  drag = { x: e.clientX, y: e.clientY, v0: S.v0, v1: S.v1, st: wrap.scrollTop, moved: false, select: e.shiftKey, x0: e.clientX - rect.left };
  canvas.classList.add('dragging');
});
window.addEventListener('mousemove', (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  const W = canvas.clientWidth;
  if (drag.select) {
    const rect = canvas.getBoundingClientRect();
    const tA = drag.v0 + drag.x0 / W * (drag.v1 - drag.v0);
    const tB = drag.v0 + (e.clientX - rect.left) / W * (drag.v1 - drag.v0);
    S.range = [Math.min(tA, tB), Math.max(tA, tB)];
    S.dirty = true; requestAnimationFrame(frame);
    return;
  }
  const d = -dx / W * (drag.v1 - drag.v0);
  wrap.scrollTop = drag.st - dy;
  setView(drag.v0 + d, drag.v1 + d);
});
window.addEventListener('mouseup', (e) => {
  if (!drag) return;
  const d = drag;
  drag = null;
  canvas.classList.remove('dragging');
  if (d.select && S.range) { showRangeStats(S.range); saveUrl(); return; }
  if (!d.moved) clickAt(e);
});
wrap.addEventListener('scroll', () => schedule());
window.addEventListener('resize', () => schedule());

labels.addEventListener('click', (e) => {
  const rect = labels.getBoundingClientRect();
  const y = e.clientY - rect.top + wrap.scrollTop;
  const r = S.rows.find((r) => y >= r.y && y < r.y + r.h);
  if (!r) return;
  if (r.kind === 'header') {
    if (S.open.has(r.key)) S.open.delete(r.key); else S.open.add(r.key);
    buildRows(); schedule();
  } else if (r.kind === 'g') {
    selectGoroutine(r.gid);
  }
});

function hitArrow(x, y) {
  if (!S.arrows || S.v1 - S.v0 >= 50e6) return -1;
  const W = canvas.clientWidth, top = wrap.scrollTop;
  const d = S.arrows.data;
  for (let i = 0; i < d.t.length; i++) {
    const g = arrowGeom(W, top, i);
    if (!g) continue;
    const [x0, y0, x1, y1] = g;
    const L2 = (x1 - x0) ** 2 + (y1 - y0) ** 2 || 1;
    const u = Math.max(0, Math.min(1, ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / L2));
    if (Math.hypot(x - (x0 + u * (x1 - x0)), y - (y0 + u * (y1 - y0))) < 4) return i;
  }
  return -1;
}

function clickAt(e) {
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left, y = e.clientY - rect.top;
  const ai = hitArrow(x, y);
  if (ai >= 0) {
    const d = S.arrows.data;
    const waker = d.from[ai];
    const row = S.rows[S.gRow.get(waker)];
    select(row.id, d.t[ai]);
    return;
  }
  const yy = y + wrap.scrollTop;
  const r = S.rows.find((r) => yy >= r.y && yy < r.y + r.h);
  if (!r) return;
  if (r.kind === 'header') {
    if (S.open.has(r.key)) S.open.delete(r.key); else S.open.add(r.key);
    buildRows(); schedule();
    return;
  }
  if (!r.id) return;
  const t = S.v0 + x / canvas.clientWidth * (S.v1 - S.v0);
  if (r.kind === 'instants') { showInstants(r, t); return; }
  if (r.kind === 'counter') return;
  select(r.id, t);
}

export async function select(row, t) {
  S.sel = { row, t };
  S.range = null;
  schedule();
  const pane = $('details');
  try {
    const d = await api(`/api/span?row=${encodeURIComponent(row)}&t=${Math.round(t)}`);
    renderDetails(d);
  } catch (err) {
    pane.replaceChildren(h('div', { class: 'empty' }, `Nothing here (${row} at ${fmtDur(t)}).`));
  }
}

function stackEl(frames) {
  if (!frames || !frames.length) return h('div', { class: 'empty' }, '(no stack)');
  return h('div', { class: 'stack' }, ...frames.map((f) => h('div', { class: 'frame' },
    h('span', { class: 'func' }, f.func), ' ', h('span', { class: 'file' }, `${f.file}:${f.line}`))));
}

function gLink(g, t) {
  if (!g) return '—';
  return link(g.name, () => selectGoroutine(g.id, t), { 'data-goroutine': g.id });
}

function renderDetails(d) {
  const pane = $('details');
  if (d.kind === 'task') { renderTask(d); return; }
  if (d.kind === 'range') {
    pane.replaceChildren(h('h3', {}, d.name), h('table', {},
      h('tr', {}, h('td', {}, 'Start'), h('td', {}, fmtDur(d.start))),
      h('tr', {}, h('td', {}, 'Duration'), h('td', {}, fmtDur(d.dur))),
      d.g ? h('tr', {}, h('td', {}, 'Goroutine'), h('td', {}, gLink(d.g))) : '',
      d.proc != null ? h('tr', {}, h('td', {}, 'Proc'), h('td', {}, d.proc)) : ''));
    return;
  }
  const rows = [
    ['Goroutine', gLink(d.g)],
    ['Start', fmtDur(d.start)],
    ['Duration', fmtDur(d.dur)],
    ['State', h('span', {}, h('span', { class: 'swatch', style: `background:${STATE_COLORS[STATE_NAMES.indexOf(d.state)]}` }), d.state)],
  ];
  if (d.reason) rows.push(['Reason', d.reason]);
  if (d.proc != null) rows.push(['Proc', `${d.proc}`]);
  if (d.thread != null) rows.push(['Thread', `${d.thread}${d.syscallBlocked ? ' (syscall blocked)' : ''}`]);
  if (d.unblockedBy) {
    rows.push([d.unblockedBy.kind === 'create' ? 'Created by' : 'Unblocked by', h('span', {},
      d.unblockedBy.g ? link(`${d.unblockedBy.g.name} at ${fmtDur(d.unblockedBy.t)}`, () => gotoGoroutineAt(d.unblockedBy.g, d.unblockedBy.t), { id: 'unblocker-link' }) : '(no goroutine, e.g. the network poller)')]);
  }
  if (d.endEvent) {
    rows.push(['Ended by', link(`→ ${d.endEvent.state}${d.endEvent.reason ? ` (${d.endEvent.reason})` : ''} at ${fmtDur(d.endEvent.t)}`, () => select(`g:${d.g.idx}`, d.endEvent.t + 0.5), { id: 'end-event-link' })]);
  }
  for (const r of d.regions || []) {
    rows.push(['Region', h('span', {}, `${r.type} (${fmtDur(r.end - r.start)})`,
      r.task != null ? h('span', {}, ' in ', link(`task ${r.task}`, () => openTask(r.task), { class: 'link task-link' })) : '')]);
  }
  const left = h('div', {}, h('h3', {}, `${d.state}${d.reason ? `: ${d.reason}` : ''}`),
    h('table', {}, ...rows.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, v)))));
  const right = h('div', {}, h('h3', {}, 'Stack at start'), stackEl(d.stack),
    d.endEvent && d.endEvent.stack.length ? h('div', {}, h('h3', {}, 'Stack at end'), stackEl(d.endEvent.stack)) : '');
  pane.replaceChildren(h('div', { class: 'cols' }, left, right));
}

async function showInstants(r, t) {
  const px = pxNs() * 4;
  const d = await api(`/api/tiles?rows=${r.id}&start=${Math.round(t - px)}&end=${Math.round(t + px)}&px=1000`);
  const row = d.rows[r.id];
  const pane = $('details');
  if (!row.items || !row.items.length) { pane.replaceChildren(h('div', { class: 'empty' }, 'Nothing here; zoom in.')); return; }
  pane.replaceChildren(h('h3', {}, r.id === 'logs' ? 'Logs' : 'CPU samples'), ...row.items.map((it, i) =>
    h('div', {}, `${fmtDur(row.t[i])} `, gLink(it.g, row.t[i]), it.cat != null ? ` ${it.cat}: ${it.msg}` : '',
      it.task ? h('span', {}, ' ', link(`task ${it.task}`, () => openTask(it.task))) : '')));
}

async function showRangeStats([a, b]) {
  const d = await api(`/api/range-stats?start=${Math.round(a)}&end=${Math.round(b)}`);
  const pane = $('details');
  const rows = Object.entries(d.states).map(([k, v]) => h('tr', {}, h('td', {}, h('span', { class: 'swatch', style: `background:${STATE_COLORS[STATE_NAMES.indexOf(k)]}` }), k), h('td', { class: `state-${k}` }, fmtDur(v))));
  const reasons = Object.entries(d.waitingByReason).sort((x, y) => y[1] - x[1]).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, fmtDur(v))));
  pane.replaceChildren(h('h3', {}, `Range ${fmtDur(d.start)} – ${fmtDur(d.end)} (${fmtDur(d.end - d.start)}), ${d.goroutines} goroutines`),
    h('div', { class: 'cols' },
      h('div', {}, h('b', {}, 'Goroutine time by state'), h('table', { id: 'range-stats' }, ...rows), h('div', {}, `Procs busy: ${fmtDur(d.procBusy)}`)),
      h('div', {}, h('b', {}, 'Waiting by reason'), h('table', {}, ...reasons))));
}

async function selectGoroutine(id, t) {
  const g = await api(`/api/goroutine?id=${id}`);
  S.selG = g.id;
  S.open.add('sec:goroutines');
  S.open.add(`grp:${g.group}`);
  await loadGroup(g.group);
  buildRows();
  const ri = S.gRow.get(g.idx);
  if (ri != null) wrap.scrollTop = Math.max(0, S.rows[ri].y - wrap.clientHeight / 3);
  if (t == null) {
    const pad = Math.max(1000, (g.last - g.first) * 0.05);
    setView(g.first - pad, g.last + pad);
    select(`g:${g.idx}`, g.first);
  } else {
    select(`g:${g.idx}`, t);
  }
  return g;
}

async function gotoGoroutineAt(g, t) {
  await selectGoroutine(g.id, t);
  const span = S.v1 - S.v0;
  if (t < S.v0 || t > S.v1) setView(t - span / 2, t + span / 2);
}

async function openTask(id) {
  const d = await api(`/api/task?id=${id}`);
  S.task = d.id;
  showView('timeline');
  S.open.add('sec:tasks');
  buildRows();
  const pad = Math.max(1000, d.dur * 0.1);
  setView(d.start - pad, d.end + pad);
  const ri = S.rows.findIndex((r) => r.id === `task:${d.lane}`);
  if (ri >= 0) wrap.scrollTop = Math.max(0, S.rows[ri].y - wrap.clientHeight / 3);
  S.sel = { row: `task:${d.lane}`, t: d.start };
  renderTask(d);
}

function renderTask(d) {
  S.task = d.id;
  saveUrl();
  $('details').replaceChildren(h('div', { class: 'cols' },
    h('div', {}, h('h3', { id: 'task-title' }, `Task ${d.id}: ${d.type}`), h('table', {},
      h('tr', {}, h('td', {}, 'Start'), h('td', {}, fmtDur(d.start))),
      h('tr', {}, h('td', {}, 'Duration'), h('td', {}, fmtDur(d.dur))),
      h('tr', {}, h('td', {}, 'Parent'), h('td', {}, d.parent != null ? link(`task ${d.parent}`, () => openTask(d.parent)) : '—')),
      h('tr', {}, h('td', {}, 'Started by'), h('td', {}, gLink(d.startG, d.start))),
      h('tr', {}, h('td', {}, 'Ended by'), h('td', {}, gLink(d.endG, d.end))),
      h('tr', {}, h('td', {}, 'Goroutines'), h('td', {}, ...d.goroutines.map((g) => h('span', {}, gLink(g), ' ')))))),
    h('div', {}, h('h3', {}, `Regions (${d.regions.length})`), ...d.regions.slice(0, 200).map((r) =>
      h('div', {}, `${fmtDur(r.start)} ${r.type} (${fmtDur(r.end - r.start)}) on `, gLink(r.g, r.start)))),
    h('div', {}, h('h3', {}, `Logs (${d.logs.length})`), ...d.logs.slice(0, 200).map((l) =>
      h('div', {}, `${fmtDur(l.t)} ${l.cat}: ${l.msg}`)))));
}

// ---- URL state ----
let urlTimer = null;
function saveUrl() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    if (!S.meta) return;
    const p = new URLSearchParams();
    p.set('view', S.view);
    p.set('t', `${Math.round(S.v0)},${Math.round(S.v1)}`);
    if (S.sel) p.set('sel', `${S.sel.row}@${Math.round(S.sel.t)}`);
    if (S.selG != null) p.set('g', S.selG);
    if (S.task != null) p.set('task', S.task);
    if (S.range) p.set('range', `${Math.round(S.range[0])},${Math.round(S.range[1])}`);
    p.set('open', [...S.open].join(','));
    history.replaceState(null, '', `#${p}`);
  }, 150);
}

async function loadUrl() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (p.has('open')) S.open = new Set(p.get('open').split(',').filter(Boolean));
  for (const k of S.open) if (k.startsWith('grp:')) loadGroup(+k.slice(4));
  const t = (p.get('t') || '').split(',').map(Number);
  if (t.length === 2 && t.every(Number.isFinite)) { S.v0 = t[0]; S.v1 = t[1]; }
  if (p.has('g')) S.selG = +p.get('g');
  buildRows();
  if (p.get('view') === 'tasks') showView('tasks');
  if (p.has('range')) {
    const r = p.get('range').split(',').map(Number);
    S.range = r; showRangeStats(r);
  } else if (p.has('sel')) {
    const [row, ts] = p.get('sel').split('@');
    select(row, +ts);
  } else if (p.has('task')) {
    const d = await api(`/api/task?id=${p.get('task')}`);
    renderTask(d);
  }
}

// ---- views ----
async function showView(v) {
  S.view = v;
  $('timeline-view').hidden = v !== 'timeline';
  $('tasks-view').hidden = v !== 'tasks';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === v);
  if (v === 'tasks') {
    const tasks = await api('/api/tasks?limit=1000');
    $('tasks-table').tBodies[0].replaceChildren(...tasks.map((t) => h('tr', {},
      h('td', {}, link(`${t.id}`, () => openTask(t.id), { class: 'link task-open', 'data-task': t.id })),
      h('td', {}, t.type), h('td', {}, fmtDur(t.start)), h('td', {}, fmtDur(t.dur)))));
  } else {
    schedule();
  }
  saveUrl();
}
for (const a of document.querySelectorAll('nav a')) a.addEventListener('click', (e) => { e.preventDefault(); showView(a.dataset.view); });

// ---- start ----
async function start() {
  for (;;) {
    const st = await api('/api/status');
    $('trace-name').textContent = st.trace;
    if (st.error) { $('load-text').textContent = st.error; return; }
    if (st.ready) break;
    if (st.total) { $('load-progress').value = st.done / st.total; $('load-text').textContent = `${fmtBytes(st.done)} of ${fmtBytes(st.total)}`; }
    await new Promise((r) => setTimeout(r, 150));
  }
  S.meta = await api('/api/meta');
  document.title = `gotrace: ${S.meta.trace}`;
  $('loading').hidden = true;
  $('timeline-view').hidden = false;
  S.v0 = 0; S.v1 = Math.max(1000, S.meta.duration);
  await loadUrl();
  if (S.view === 'timeline') showView('timeline');
  S.ready = true;
  schedule();
}
// Hooks for browser tests and the console.
window.gotrace = { idle, setView, buildRows, schedule, select, selectGoroutine, openTask, showView };
start();
