// gotrace's analysis pages: goroutines, blocking profiles (flame graphs),
// user tasks and regions, MMU, GC pauses. Our own code; trace strings are
// always written as text (textContent / text nodes), never as HTML.

const $ = (id) => document.getElementById(id);
const main = $('page');

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'style') e.style.cssText = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k == null || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

// Durations as Go prints them, rounded to 4 significant digits.
function fmtDur(ns) {
  if (ns == null) return '—';
  const a = Math.abs(ns);
  const r = (x) => String(+x.toPrecision(4));
  if (a < 1e3) return `${ns}ns`;
  if (a < 1e6) return `${r(ns / 1e3)}µs`;
  if (a < 1e9) return `${r(ns / 1e6)}ms`;
  return `${r(ns / 1e9)}s`;
}
const pct = (a, b) => (b > 0 ? `${(a / b * 100).toFixed(2)}%` : '—');

// Replaces an element's children; arrays are flattened, null/false skipped.
function put(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k != null && k !== false).map((k) => (k instanceof Node ? k : document.createTextNode(String(k)))));
}

// Waits for the analyses (the status call starts them) without 503s in
// the console.
let ready = null;
function whenReady() {
  ready ??= (async () => {
    for (let i = 0; ; i++) {
      const st = await (await fetch('/api/pages/status')).json();
      if (st.ready) { setStatus(''); return; }
      if (st.error) throw new Error(st.error);
      setStatus(`Analyzing the trace… (${i * 0.5 | 0} s)`);
      await new Promise((res) => setTimeout(res, 500));
    }
  })();
  return ready;
}

async function api(url) {
  await whenReady();
  for (let i = 0; ; i++) {
    const r = await fetch(url);
    if (r.status === 503) {
      setStatus(`Analyzing the trace… (${i * 0.5 | 0} s)`);
      await new Promise((res) => setTimeout(res, 500));
      continue;
    }
    setStatus('');
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || `${r.status}`);
    return j;
  }
}

let statusEl = null;
function setStatus(s) {
  if (!statusEl) { statusEl = h('div', { class: 'status' }); document.body.prepend(statusEl); }
  statusEl.textContent = s;
  statusEl.hidden = !s;
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') p.set(k, v);
  return p.toString();
}

// ---- links into the timeline (app.js's URL hash: view, t, g, task, sel, open) ----
function tlHref(a, b, o = {}) {
  const d = Math.max(b - a, 1000);
  const pad = d * 0.1;
  const p = new URLSearchParams();
  p.set('view', 'timeline');
  p.set('t', `${Math.round(a - pad)},${Math.round(b + pad)}`);
  if (o.g != null) p.set('g', o.g);
  if (o.task != null) {
    p.set('task', o.task);
    p.set('open', 'sec:counters,sec:gc,sec:procs,sec:goroutines,sec:tasks');
  }
  if (o.range) p.set('range', `${Math.round(a)},${Math.round(b)}`);
  return `/#${p}`;
}

function tlLink(text, a, b, o = {}) {
  const href = tlHref(a, b, o);
  const el = h('a', { href, class: 'tl', title: 'Open in the timeline' }, text);
  if (o.g != null) {
    // Open the goroutine's group and select its row at the start.
    el.addEventListener('click', async (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      let url = href;
      try {
        const r = await fetch(`/api/goroutine?id=${o.g}`);
        if (r.ok) {
          const g = await r.json();
          url += `&open=${encodeURIComponent(`sec:counters,sec:gc,sec:procs,sec:goroutines,grp:${g.group}`)}`;
          url += `&sel=${encodeURIComponent(`g:${g.idx}@${Math.round(Math.max(a, g.first))}`)}`;
        }
      } catch { /* the plain link still works */ }
      location.href = url;
    });
  }
  return el;
}

// ---- tables ----
// cols: [{label, get(row) -> value, fmt(row) -> node|string, num, cls}]
function table(cols, rows, opts = {}) {
  let sortCol = opts.sortCol ?? -1, desc = true;
  const tbody = h('tbody');
  const head = cols.map((c, i) => h('th', {
    class: c.num ? 'num sortable' : 'sortable',
    title: c.title || 'Sort',
    onclick: () => {
      if (opts.onSort) return opts.onSort(c, i);
      if (sortCol === i) desc = !desc; else { sortCol = i; desc = !!c.num; }
      fill();
    },
  }, c.label));
  function fill() {
    let rs = rows;
    if (sortCol >= 0 && !opts.onSort) {
      const g = cols[sortCol].get;
      rs = [...rows].sort((x, y) => {
        const a = g(x), b = g(y);
        const c = a < b ? -1 : a > b ? 1 : 0;
        return desc ? -c : c;
      });
    }
    head.forEach((th, i) => th.classList.toggle('sorted', i === sortCol));
    tbody.replaceChildren(...rs.map((r) => h('tr', { class: opts.rowClass ? opts.rowClass(r) : null },
      ...cols.map((c) => h('td', { class: c.num ? 'num' : c.cls }, c.fmt ? c.fmt(r) : c.get(r))))));
  }
  fill();
  return h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ...head)), tbody);
}

function bar(v, max, color = '#d7191c') {
  const w = max > 0 ? Math.max(0, v / max * 100) : 0;
  return h('div', { class: 'bar', style: `width:${w.toFixed(2)}%;background:${color}` });
}

function statColor(label) {
  if (label === 'Sched wait time') return '#2c7bb6';
  if (label === 'Syscall execution time') return '#7b3294';
  if (label === 'Execution time') return '#d7191c';
  if (label.startsWith('Block time')) return '#d01c8b';
  return '#636363';
}

function stackedBar(row, cols) {
  const max = cols.maxTotal;
  return h('div', { class: 'stacked' }, ...cols.stats.map((l, i) => row.stats[i] ? h('div', {
    style: `width:${max > 0 ? (row.stats[i] / max * 100).toFixed(2) : 0}%;background:${statColor(l)}`, title: `${l}: ${fmtDur(row.stats[i])}`,
  }) : null));
}

// ---- histograms (the reference's log buckets) ----
function histogram(hist, onBucket) {
  if (!hist || !hist.count) return h('span', { class: 'muted' }, 'no complete instances');
  const maxW = 160;
  const rows = hist.buckets.map((b) => h('tr', {},
    h('td', { class: 'num' }, b.count ? h('a', { href: '#', class: 'bucket', onclick: (e) => { e.preventDefault(); onBucket(b); } }, fmtDur(b.min)) : fmtDur(b.min)),
    h('td', {}, h('div', { class: 'hbar', style: `width:${b.width * maxW / 400}px` })),
    h('td', { class: 'num' }, b.count)));
  const last = hist.buckets[hist.buckets.length - 1];
  return h('table', { class: 'histo' }, ...rows, h('tr', {}, h('td', { class: 'num muted' }, fmtDur(last.max))));
}

function statsCells(st) {
  return ['min', 'p50', 'p90', 'p99', 'max'].map((k) => ({ label: k, num: true, get: (r) => r.stats ? r.stats[k] : -1, fmt: (r) => r.stats ? fmtDur(r.stats[k]) : '—' }));
}

// ---- pages ----
const pages = {
  '/pages': pageIndex,
  '/goroutines': pageGoroutines,
  '/goroutine': pageGoroutines,
  '/profile': pageProfile,
  '/tasks': pageTasks,
  '/regions': pageRegions,
  '/mmu': pageMmu,
  '/gc': pageGc,
};

function pageIndex() {
  document.title = 'gotrace: analyses';
  put(main, h('h1', {}, 'Analyses'), h('ul', {},
    h('li', {}, h('a', { href: '/' }, 'Timeline')),
    h('li', {}, h('a', { href: '/goroutines' }, 'Goroutine analysis'), ': groups by start function, per-goroutine time breakdown'),
    h('li', {}, h('a', { href: '/profile?kind=net' }, 'Network blocking profile'), ', ',
      h('a', { href: '/profile?kind=sync' }, 'Synchronization blocking profile'), ', ',
      h('a', { href: '/profile?kind=syscall' }, 'Syscall profile'), ', ',
      h('a', { href: '/profile?kind=sched' }, 'Scheduler latency profile')),
    h('li', {}, h('a', { href: '/tasks' }, 'User-defined tasks')),
    h('li', {}, h('a', { href: '/regions' }, 'User-defined regions')),
    h('li', {}, h('a', { href: '/mmu' }, 'Minimum mutator utilization')),
    h('li', {}, h('a', { href: '/gc' }, 'GC and stop-the-world pauses'))));
}

async function pageGoroutines() {
  const q = new URLSearchParams(location.search);
  if (q.has('name')) return pageGroup(q.get('name'), q.get('sort') || '');
  document.title = 'gotrace: goroutines';
  const d = await api('/api/pages/goroutine-groups');
  const max = Math.max(0, ...d.groups.map((g) => g.exec));
  const label = (n) => n === '' ? '(Inactive, no stack trace sampled)' : n;
  put(main, h('h1', {}, 'Goroutines'),
    h('p', {}, 'Goroutines grouped by start location, sorted by total execution time. Click a column to sort, a group for its goroutines.'),
    table([
      { label: 'Start location', get: (g) => g.name, fmt: (g) => h('a', { href: `/goroutines?${qs({ name: g.name })}`, class: 'group' }, label(g.name)) },
      { label: 'Count', num: true, get: (g) => g.count },
      { label: 'Total execution time', num: true, get: (g) => g.exec, fmt: (g) => fmtDur(g.exec) },
      { label: '% of all', num: true, get: (g) => g.exec, fmt: (g) => pct(g.exec, d.totalExec) },
      { label: '', get: (g) => g.exec, fmt: (g) => h('div', { class: 'barcell' }, bar(g.exec, max)) },
      { label: 'Profiles', get: (g) => g.name, fmt: (g) => profileLinks({ group: g.name }) },
    ], d.groups, { sortCol: 2 }));
}

function profileLinks(params) {
  return h('span', { class: 'plinks' }, ...['net', 'sync', 'syscall', 'sched'].map((k) =>
    h('a', { href: `/profile?${qs({ kind: k, ...params })}` }, k)));
}

async function pageGroup(name, sort) {
  document.title = `gotrace: goroutines ${name}`;
  const d = await api(`/api/pages/goroutine-group?${qs({ name, sort })}`);
  const c = d.columns;
  const cols = [
    { label: 'Goroutine', num: true, get: (r) => r.id, fmt: (r) => tlLink(String(r.id), r.start, r.end, { g: r.id }) },
    { label: 'Total', num: true, get: (r) => r.total, fmt: (r) => fmtDur(r.total), sort: '' },
    { label: '', get: (r) => r.total, fmt: (r) => stackedBar(r, c) },
    ...c.stats.map((l, i) => ({ label: l, num: true, get: (r) => r.stats[i], fmt: (r) => fmtDur(r.stats[i]), sort: l, color: statColor(l) })),
  ];
  const rangeCols = c.ranges.map((l, i) => ({ label: l, num: true, get: (r) => r.ranges[i], fmt: (r) => fmtDur(r.ranges[i]) }));
  const withRanges = d.rows.filter((r) => r.hasRangeTime);
  put(main, 
    h('h1', {}, 'Goroutines: ', h('span', { class: 'mono' }, name)),
    h('p', {}, h('a', { href: '/goroutines' }, '← all groups')),
    h('table', { class: 'kv' },
      h('tr', {}, h('td', {}, 'Goroutines'), h('td', {}, d.count)),
      h('tr', {}, h('td', {}, 'Execution time'), h('td', {}, `${fmtDur(d.exec)} (${d.execPercent || '—'} of total program execution time)`)),
      h('tr', {}, h('td', {}, 'Blocking profiles'), h('td', {}, profileLinks({ group: name })))),
    h('h2', {}, 'Breakdown', d.total > d.rows.length ? ` (first ${d.rows.length} of ${d.total})` : ''),
    h('p', { class: 'muted' }, 'Click a column header to sort by it (descending). Click a goroutine to open it in the timeline.'),
    table(cols, d.rows, {
      onSort: (col) => { if (col.sort != null) { location.search = qs({ name, sort: col.sort }); } },
    }),
    withRanges.length ? [h('h2', {}, 'Special ranges'), table([cols[0], ...rangeCols], withRanges)] : []);
  // Mark the sorted column.
  const ths = main.querySelectorAll('table.data')[0].querySelectorAll('th');
  const si = sort ? cols.findIndex((x) => x.sort === sort) : 1;
  if (si >= 0) ths[si].classList.add('sorted');
}

// ---- flame graph ----
function flameGraph(root, total) {
  const ROW = 18;
  const canvas = h('canvas', { class: 'flame' });
  const tip = h('div', { class: 'tip', hidden: true });
  const crumbs = h('div', { class: 'crumbs' });
  const wrap = h('div', { class: 'flamewrap' }, crumbs, canvas, tip);
  // Parent links.
  (function link(n, p) { n.p = p; for (const c of n.ch) link(c, n); })(root, null);
  let zoom = root;
  let boxes = [];
  function depth(n) { let d = 0; for (const c of n.ch) d = Math.max(d, depth(c)); return d + 1; }
  function color(name) {
    let x = 0;
    for (let i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) | 0;
    const hue = 10 + (Math.abs(x) % 40);
    const l = 55 + (Math.abs(x >> 8) % 20);
    return `hsl(${hue},85%,${l}%)`;
  }
  function draw() {
    const W = Math.max(300, wrap.clientWidth || 1000);
    const anc = [];
    for (let n = zoom; n; n = n.p) anc.unshift(n);
    const rows = anc.length - 1 + depth(zoom);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = W * dpr; canvas.height = rows * ROW * dpr;
    canvas.style.width = `${W}px`; canvas.style.height = `${rows * ROW}px`;
    const ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    boxes = [];
    const box = (n, x, y, w, faded) => {
      boxes.push({ n, x, y, w });
      ctx.fillStyle = n === root ? '#bbb' : faded ? '#ddd' : color(n.f);
      ctx.fillRect(x, y, Math.max(w - 1, 0.5), ROW - 1);
      if (w > 30) {
        ctx.fillStyle = '#111';
        ctx.save(); ctx.beginPath(); ctx.rect(x, y, w - 2, ROW); ctx.clip();
        ctx.fillText(n === root ? `all (${fmtDur(n.d)})` : n.f, x + 3, y + ROW / 2);
        ctx.restore();
      }
    };
    // Ancestors of the zoomed node span the width.
    anc.slice(0, -1).forEach((n, i) => box(n, 0, i * ROW, W, true));
    const lay = (n, x, y, w) => {
      box(n, x, y, w, false);
      let cx = x;
      for (const c of n.ch) {
        const cw = n.d > 0 ? w * c.d / n.d : 0;
        if (cw >= 0.5) lay(c, cx, y + ROW, cw);
        cx += cw;
      }
    };
    lay(zoom, 0, (anc.length - 1) * ROW, W);
    crumbs.replaceChildren(...anc.map((n, i) => [i ? ' › ' : '', h('a', { href: '#', onclick: (e) => { e.preventDefault(); setZoom(n); } }, n === root ? 'all' : n.f)]).flat());
  }
  function hit(ev) {
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left, y = ev.clientY - r.top;
    for (let i = boxes.length - 1; i >= 0; i--) {
      const b = boxes[i];
      if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + ROW) return b;
    }
    return null;
  }
  function setZoom(n) { zoom = n; draw(); tip.hidden = true; }
  canvas.addEventListener('click', (ev) => { const b = hit(ev); if (b) setZoom(b.n); });
  canvas.addEventListener('mousemove', (ev) => {
    const b = hit(ev);
    if (!b) { tip.hidden = true; return; }
    const n = b.n;
    tip.replaceChildren(h('b', {}, n === root ? 'all' : n.f), h('br'),
      `delay ${fmtDur(n.d)} · ${n.c} intervals · ${pct(n.d, total)} of total`,
      zoom !== root ? ` · ${pct(n.d, zoom.d)} of ${zoom.f}` : '');
    tip.hidden = false;
    const wr = wrap.getBoundingClientRect();
    tip.style.left = `${Math.min(ev.clientX - wr.left + 12, wr.width - 320)}px`;
    tip.style.top = `${ev.clientY - wr.top + 14}px`;
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  window.addEventListener('resize', draw);
  requestAnimationFrame(draw);
  const api = { root, get zoom() { return zoom; }, setZoom, boxes: () => boxes, draw };
  window.gotracePages = Object.assign(window.gotracePages || {}, { flame: api });
  return wrap;
}

async function pageProfile() {
  const q = new URLSearchParams(location.search);
  const state = { kind: q.get('kind') || 'sched', group: q.get('group') || '', region: q.get('region') || '', pc: q.get('pc') || '', from: q.get('from') || '', to: q.get('to') || '' };
  const names = { net: 'Network blocking', sync: 'Synchronization blocking', syscall: 'Syscall', sched: 'Scheduler latency' };
  const [groups, rtypes] = await Promise.all([api('/api/pages/goroutine-groups'), api('/api/pages/region-types')]);
  const kindSel = h('select', { id: 'kind' }, ...Object.entries(names).map(([k, v]) => h('option', { value: k, selected: k === state.kind }, `${v} (${k})`)));
  const groupSel = h('select', { id: 'group' }, h('option', { value: '' }, 'all goroutines'),
    ...groups.groups.filter((g) => g.name !== '').map((g) => h('option', { value: g.name, selected: g.name === state.group }, `${g.name} (${g.count})`)));
  const regionSel = h('select', { id: 'region' }, h('option', { value: '' }, 'no region filter'),
    ...rtypes.types.map((t) => h('option', { value: JSON.stringify([t.type, t.pc]), selected: t.type === state.region && (!state.pc || t.pc === state.pc) }, `${t.type || '""'} @ ${t.func || '0x' + t.pc}`)));
  const msToNs = (s) => s === '' ? '' : String(Math.round(parseFloat(s) * 1e6));
  const nsToMs = (s) => s === '' ? '' : String(+s / 1e6);
  const fromIn = h('input', { id: 'from', size: 8, placeholder: 'ms', value: nsToMs(state.from) });
  const toIn = h('input', { id: 'to', size: 8, placeholder: 'ms', value: nsToMs(state.to) });
  const out = h('div', { id: 'profile-out' });
  const dl = h('a', { id: 'download', download: true }, 'Download pprof');
  async function load() {
    const p = { kind: state.kind, group: state.group || null, region: state.region || null, pc: state.region ? state.pc : null, from: state.from, to: state.to };
    const query = qs(p);
    history.replaceState(null, '', `/profile?${query}`);
    dl.href = `/api/pages/profile.pb.gz?${query}`;
    document.title = `gotrace: ${names[state.kind]} profile`;
    put(out, h('div', { class: 'muted' }, 'Computing…'));
    try {
      const d = await api(`/api/pages/profile?${query}`);
      if (!d.root.ch.length) { put(out, h('p', {}, 'No samples: nothing blocked this way here.')); return; }
      put(out, h('p', {}, `Total delay ${fmtDur(d.delay)} over ${d.count} intervals. Click a frame to zoom, the bar above to zoom out; hover for details.`), flameGraph(d.root, d.delay));
    } catch (e) {
      put(out, h('p', { class: 'error' }, String(e.message || e)));
    }
  }
  kindSel.onchange = () => { state.kind = kindSel.value; load(); };
  groupSel.onchange = () => { state.group = groupSel.value; load(); };
  regionSel.onchange = () => {
    if (regionSel.value) { const [t, pc] = JSON.parse(regionSel.value); state.region = t; state.pc = pc; } else { state.region = ''; state.pc = ''; }
    load();
  };
  const applyWin = () => { state.from = msToNs(fromIn.value.trim()); state.to = msToNs(toIn.value.trim()); load(); };
  fromIn.onchange = applyWin; toIn.onchange = applyWin;
  put(main, h('h1', {}, 'Blocking profiles'),
    h('div', { class: 'controls' },
      h('label', {}, 'Profile ', kindSel), h('label', {}, 'Goroutine group ', groupSel), h('label', {}, 'Region ', regionSel),
      h('label', {}, 'From ', fromIn), h('label', {}, 'to ', toIn, ' ms'), dl),
    out);
  await load();
}

// ---- tasks ----
async function pageTasks() {
  document.title = 'gotrace: user tasks';
  const q = new URLSearchParams(location.search);
  const d = await api('/api/pages/task-types');
  const typeSel = h('select', { id: 'task-type' }, h('option', { value: '\u0000' }, 'any type'),
    ...d.types.map((t) => h('option', { value: t.type, selected: q.get('type') === t.type }, t.type || '""')));
  const latmin = h('input', { id: 'latmin', size: 8, placeholder: 'e.g. 1ms', value: q.get('latmin') || '' });
  const latmax = h('input', { id: 'latmax', size: 8, placeholder: 'e.g. 10ms', value: q.get('latmax') || '' });
  const logtext = h('input', { id: 'logtext', size: 16, placeholder: 'log text', value: q.get('logtext') || '' });
  const complete = h('select', { id: 'complete' }, h('option', { value: '' }, 'all'), h('option', { value: '1', selected: q.get('complete') === '1' }, 'complete'), h('option', { value: '0', selected: q.get('complete') === '0' }, 'incomplete'));
  const out = h('div', { id: 'task-list' });
  async function list() {
    const p = { type: typeSel.value === '\u0000' ? null : typeSel.value, complete: complete.value, latmin: latmin.value.trim(), latmax: latmax.value.trim(), logtext: logtext.value };
    const query = qs(p);
    history.replaceState(null, '', `/tasks?${query}`);
    const r = await api(`/api/pages/tasks?${query}&limit=500`);
    put(out, h('h2', {}, `Tasks: ${r.title || 'all'} — ${r.total}`, r.total > r.tasks.length ? ` (first ${r.tasks.length})` : ''),
      table([
        { label: 'ID', num: true, get: (t) => t.id, fmt: (t) => tlLink(String(t.id), t.start, t.start + t.duration, { task: t.id }) },
        { label: 'Type', get: (t) => t.type },
        { label: 'Start', num: true, get: (t) => t.start, fmt: (t) => fmtDur(t.start) },
        { label: 'Duration', num: true, get: (t) => t.duration, fmt: (t) => [fmtDur(t.duration), t.complete ? '' : ' (incomplete)'] },
        { label: 'Events', get: (t) => t.events.length, fmt: (t) => h('details', {}, h('summary', {}, `${t.events.length} events`),
          h('table', { class: 'events' }, ...t.events.map((e) => h('tr', {}, h('td', { class: 'num' }, fmtDur(e.t)), h('td', { class: 'num muted' }, `+${fmtDur(e.elapsed)}`),
            h('td', {}, e.g ? tlLink(`G${e.g}`, e.t, e.t + 1, { g: e.g }) : ''), h('td', {}, e.what))))) },
      ], r.tasks));
  }
  const go = () => list().catch((e) => put(out, h('p', { class: 'error' }, String(e.message || e))));
  for (const el of [typeSel, complete, latmin, latmax, logtext]) el.onchange = go;
  put(main, h('h1', {}, 'User-defined tasks'),
    table([
      { label: 'Task type', get: (t) => t.type, fmt: (t) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); typeSel.value = t.type; latmin.value = latmax.value = ''; complete.value = ''; go(); } }, t.type || '""') },
      { label: 'Count', num: true, get: (t) => t.count },
      { label: 'Complete', num: true, get: (t) => t.complete },
      ...statsCells(),
      { label: 'Duration distribution (complete tasks)', get: () => 0, fmt: (t) => histogram(t.histogram, (b) => {
        typeSel.value = t.type; complete.value = '1'; latmin.value = `${b.min}ns`; latmax.value = `${b.max}ns`; go();
      }) },
    ], d.types),
    h('div', { class: 'controls' }, h('label', {}, 'Type ', typeSel), h('label', {}, 'State ', complete), h('label', {}, 'Latency ≥ ', latmin), h('label', {}, '≤ ', latmax), h('label', {}, 'Log contains ', logtext),
      h('button', { onclick: go }, 'List')),
    out);
  if ([...q.keys()].length) go();
}

// ---- regions ----
async function pageRegions() {
  document.title = 'gotrace: user regions';
  const q = new URLSearchParams(location.search);
  const d = await api('/api/pages/region-types');
  const key = (t) => JSON.stringify([t.type, t.pc]);
  const typeSel = h('select', { id: 'region-type' }, h('option', { value: '' }, 'any type'),
    ...d.types.map((t) => h('option', { value: key(t), selected: q.get('type') === t.type && (!q.get('pc') || q.get('pc') === t.pc) }, `${t.type || '""'} @ ${t.func || '0x' + t.pc}`)));
  const latmin = h('input', { id: 'latmin', size: 8, placeholder: 'e.g. 1ms', value: q.get('latmin') || '' });
  const latmax = h('input', { id: 'latmax', size: 8, placeholder: 'e.g. 10ms', value: q.get('latmax') || '' });
  const out = h('div', { id: 'region-list' });
  let sort = q.get('sort') || '';
  async function list() {
    const [type, pc] = typeSel.value ? JSON.parse(typeSel.value) : [null, null];
    const query = qs({ type, pc, latmin: latmin.value.trim(), latmax: latmax.value.trim(), sort });
    history.replaceState(null, '', `/regions?${query}`);
    const r = await api(`/api/pages/regions?${query}&limit=1000`);
    const c = r.columns;
    put(out, h('h2', {}, `Regions: ${r.title || 'all'} — ${r.total}`, r.total > r.rows.length ? ` (first ${r.rows.length})` : ''),
      type != null ? h('p', {}, 'Blocking profiles of these regions: ', profileLinks({ region: type, pc })) : [],
      table([
        { label: 'Goroutine', num: true, get: (x) => x.goroutine, fmt: (x) => tlLink(String(x.goroutine), x.start, x.start + x.duration, { g: x.goroutine }) },
        { label: 'Task', num: true, get: (x) => x.task, fmt: (x) => x.task ? tlLink(String(x.task), x.start, x.start + x.duration, { task: x.task }) : '' },
        { label: 'Type', get: (x) => x.type },
        { label: 'Start', num: true, get: (x) => x.start, fmt: (x) => fmtDur(x.start) },
        { label: 'Duration', num: true, get: (x) => x.duration, fmt: (x) => fmtDur(x.duration) },
        { label: 'Total', num: true, get: (x) => x.total, fmt: (x) => fmtDur(x.total), sort: '' },
        { label: '', get: (x) => x.total, fmt: (x) => stackedBar(x, c) },
        ...c.stats.map((l, i) => ({ label: l, num: true, get: (x) => x.stats[i], fmt: (x) => fmtDur(x.stats[i]), sort: l })),
      ], r.rows, { onSort: (col) => { if (col.sort != null) { sort = col.sort; go(); } } }));
  }
  const go = () => list().catch((e) => put(out, h('p', { class: 'error' }, String(e.message || e))));
  for (const el of [typeSel, latmin, latmax]) el.onchange = go;
  put(main, h('h1', {}, 'User-defined regions'),
    table([
      { label: 'Region type', get: (t) => t.type, fmt: (t) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); typeSel.value = key(t); latmin.value = latmax.value = ''; go(); } }, t.type || '""') },
      { label: 'Location', get: (t) => t.func, fmt: (t) => h('span', { class: 'mono', title: `${t.file}:${t.line}` }, t.func ? `${t.func} ${t.file}:${t.line}` : `0x${t.pc}`) },
      { label: 'Count', num: true, get: (t) => t.count },
      ...statsCells(),
      { label: 'Duration distribution', get: () => 0, fmt: (t) => histogram(t.histogram, (b) => {
        typeSel.value = key(t); latmin.value = `${b.min}ns`; latmax.value = `${b.max}ns`; go();
      }) },
      { label: 'Profiles', get: () => 0, fmt: (t) => profileLinks({ region: t.type, pc: t.pc }) },
    ], d.types),
    h('div', { class: 'controls' }, h('label', {}, 'Type ', typeSel), h('label', {}, 'Latency ≥ ', latmin), h('label', {}, '≤ ', latmax), h('button', { onclick: go }, 'List')),
    out);
  if ([...q.keys()].length) go();
}

// ---- MMU ----
async function pageMmu() {
  document.title = 'gotrace: MMU';
  const q = new URLSearchParams(location.search);
  const flagNames = [['perProc', 'Per-processor (else system-wide)'], ['stw', 'STW'], ['background', 'Background workers'], ['assist', 'Mark assist'], ['sweep', 'Sweep']];
  const initial = new Set((q.get('flags') ?? 'stw|background|assist|sweep').split('|'));
  const boxes = flagNames.map(([k, label]) => h('input', { type: 'checkbox', id: `flag-${k}`, value: k, checked: initial.has(k) }));
  const canvas = h('canvas', { class: 'mmu', id: 'mmu-plot' });
  const info = h('div', { id: 'mmu-info' });
  const worst = h('div', { id: 'mmu-worst' });
  let data = null;
  let window_ = q.get('window') ? +q.get('window') : null;
  const flags = () => boxes.filter((b) => b.checked).map((b) => b.value).join('|');
  const M = { l: 50, r: 20, t: 10, b: 40 };
  function draw() {
    if (!data || !data.curve.length) return;
    const W = Math.max(400, main.clientWidth - 20), H = 320;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = `${W}px`; canvas.style.height = `${H}px`;
    const ctx = canvas.getContext('2d'); ctx.scale(dpr, dpr);
    const lx0 = Math.log10(Math.max(1, data.curve[0][0])), lx1 = Math.log10(Math.max(2, data.curve[data.curve.length - 1][0]));
    const X = (w) => M.l + (Math.log10(Math.max(1, w)) - lx0) / Math.max(1e-9, lx1 - lx0) * (W - M.l - M.r);
    const Y = (u) => H - M.b - u * (H - M.t - M.b);
    ctx.font = '11px system-ui, sans-serif'; ctx.fillStyle = '#444'; ctx.strokeStyle = '#ddd';
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    for (let u = 0; u <= 1.0001; u += 0.2) { ctx.beginPath(); ctx.moveTo(M.l, Y(u)); ctx.lineTo(W - M.r, Y(u)); ctx.stroke(); ctx.fillText(u.toFixed(1), M.l - 4, Y(u)); }
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    for (let p = Math.ceil(lx0); p <= lx1; p++) { const x = X(10 ** p); ctx.beginPath(); ctx.moveTo(x, M.t); ctx.lineTo(x, H - M.b); ctx.stroke(); ctx.fillText(fmtDur(10 ** p), x, H - M.b + 4); }
    ctx.fillText('Window size', (W + M.l) / 2, H - 16);
    ctx.strokeStyle = '#2c7bb6'; ctx.lineWidth = 2; ctx.beginPath();
    data.curve.forEach(([w, u], i) => (i ? ctx.lineTo(X(w), Y(u)) : ctx.moveTo(X(w), Y(u))));
    ctx.stroke(); ctx.lineWidth = 1;
    if (data.window) { ctx.strokeStyle = '#d7191c'; ctx.beginPath(); ctx.moveTo(X(data.window), M.t); ctx.lineTo(X(data.window), H - M.b); ctx.stroke(); }
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect();
      const lx = lx0 + (ev.clientX - r.left - M.l) / (W - M.l - M.r) * (lx1 - lx0);
      window_ = Math.round(10 ** Math.min(lx1, Math.max(lx0, lx)));
      load();
    };
  }
  async function load() {
    const f = flags();
    const query = qs({ flags: f, window: window_ });
    history.replaceState(null, '', `/mmu?${query.includes('flags') ? query : `flags=&${query}`}`);
    data = await api(`/api/pages/mmu?flags=${encodeURIComponent(f)}${window_ ? `&window=${window_}` : ''}`);
    if (data.error) { info.replaceChildren(h('p', { class: 'error' }, data.error)); worst.replaceChildren(); return; }
    draw();
    info.replaceChildren(h('p', {}, `Click the plot to pick a window size. Window ${fmtDur(data.window)}: minimum mutator utilization ${(data.mmu * 100).toFixed(2)}%.`));
    worst.replaceChildren(h('h2', {}, `Worst windows of ${fmtDur(data.window)}`), table([
      { label: 'Start', num: true, get: (w) => w.start, fmt: (w) => tlLink(fmtDur(w.start), w.start, w.end, { range: true }) },
      { label: 'End', num: true, get: (w) => w.end, fmt: (w) => fmtDur(w.end) },
      { label: 'Mutator utilization', num: true, get: (w) => w.util, fmt: (w) => `${(w.util * 100).toFixed(2)}%` },
    ], data.worst));
  }
  for (const b of boxes) b.onchange = () => load().catch(showError);
  window.addEventListener('resize', draw);
  put(main, h('h1', {}, 'Minimum mutator utilization'),
    h('div', { class: 'controls' }, ...flagNames.map(([k, label], i) => h('label', {}, boxes[i], ` ${label}`))),
    canvas, info, worst);
  await load();
}

// ---- GC ----
function pauseTable(rows, numbered) {
  return table([
    numbered ? { label: '#', num: true, get: (p) => p.i } : null,
    { label: 'Kind', get: (p) => p.kind },
    { label: 'Start', num: true, get: (p) => p.start, fmt: (p) => tlLink(fmtDur(p.start), p.start, p.start + p.duration, { range: true }) },
    { label: 'Duration', num: true, get: (p) => p.duration, fmt: (p) => fmtDur(p.duration) },
    { label: 'Goroutine', num: true, get: (p) => p.g, fmt: (p) => p.g ? tlLink(String(p.g), p.start, p.start + p.duration, { g: p.g }) : '' },
  ].filter(Boolean), rows, { rowClass: (p) => p.long ? 'long' : null });
}

async function pageGc() {
  document.title = 'gotrace: GC pauses';
  const long = new URLSearchParams(location.search).get('long') || '';
  const d = await api(`/api/pages/gc?${qs({ long })}`);
  const longIn = h('input', { id: 'long', size: 8, value: long || '1ms', onchange: () => { location.search = qs({ long: longIn.value.trim() }); } });
  const s = d.stats;
  // Log-scale histogram of pause durations: 5 buckets per decade.
  const hist = new Map(d.histogram);
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const maxN = Math.max(1, ...hist.values());
  const histRows = [];
  if (keys.length) for (let b = keys[0]; b <= keys[keys.length - 1]; b++) {
    const n = hist.get(b) || 0;
    const lo = 10 ** (b / 5);
    histRows.push(h('tr', { class: lo >= d.longPause ? 'long' : null }, h('td', { class: 'num' }, `≥ ${fmtDur(Math.round(lo))}`),
      h('td', {}, h('div', { class: 'hbar', style: `width:${n / maxN * 200}px` })), h('td', { class: 'num' }, n)));
  }
  put(main, h('h1', {}, 'GC and stop-the-world pauses'),
    s ? h('table', { class: 'kv', id: 'gc-stats' },
      h('tr', {}, h('td', {}, 'Pauses'), h('td', {}, s.count)),
      h('tr', {}, h('td', {}, 'Total'), h('td', {}, fmtDur(s.total))),
      h('tr', {}, h('td', {}, 'p50 / p90 / p99 / max'), h('td', {}, `${fmtDur(s.p50)} / ${fmtDur(s.p90)} / ${fmtDur(s.p99)} / ${fmtDur(s.max)}`)),
      h('tr', {}, h('td', {}, `Over ${fmtDur(d.longPause)}`), h('td', {}, d.longPauses)),
      h('tr', {}, h('td', {}, 'GC cycles'), h('td', {}, d.cycleTotal))) : h('p', {}, 'No stop-the-world pauses in this trace.'),
    histRows.length ? [h('h2', {}, 'Distribution'), h('table', { class: 'histo' }, ...histRows)] : [],
    h('h2', {}, 'Pauses'),
    h('p', { class: 'muted' }, 'Highlight pauses of at least ', longIn, ` (${fmtDur(d.longPause)}). Click a start time to open the timeline there.`),
    d.longest.length ? [h('h3', {}, `Pauses of ${fmtDur(d.longPause)} or more, longest first`), pauseTable(d.longest, false)] : [],
    h('h3', {}, 'All pauses', d.pauseTotal > d.pauses.length ? ` (first ${d.pauses.length} of ${d.pauseTotal})` : ''),
    pauseTable(d.pauses.map((p, i) => ({ ...p, i: i + 1 })), true),
    d.cycles.length ? [h('h2', {}, 'GC cycles (concurrent mark)', d.cycleTotal > d.cycles.length ? ` (first ${d.cycles.length} of ${d.cycleTotal})` : ''), table([
      { label: 'Start', num: true, get: (c) => c.start, fmt: (c) => tlLink(fmtDur(c.start), c.start, c.start + (c.duration ?? 0), { range: true }) },
      { label: 'Duration', num: true, get: (c) => c.duration ?? -1, fmt: (c) => c.duration == null ? 'unfinished' : fmtDur(c.duration) },
      { label: 'Note', get: (c) => c.beforeTrace, fmt: (c) => c.beforeTrace ? 'started before the trace' : '' },
    ], d.cycles)] : []);
}

function showError(e) {
  main.append(h('p', { class: 'error' }, String(e.message || e)));
}

async function start() {
  for (const a of document.querySelectorAll('#page-nav a')) {
    const p = new URL(a.href).pathname;
    if (p !== '/' && (location.pathname === p || (p === '/goroutines' && location.pathname === '/goroutine'))) a.classList.add('active');
  }
  const page = pages[location.pathname] || pageIndex;
  try {
    await page();
  } catch (e) {
    put(main, h('p', { class: 'error' }, String(e.message || e)));
  }
  window.gotracePages = Object.assign(window.gotracePages || {}, { ready: true });
}
start();
