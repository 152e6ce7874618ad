//! The JSON API over the index. Times on the wire are nanoseconds since the
//! trace's first event. Pure functions, so tests can call them directly.

use crate::index::*;
use serde_json::{json, Value};

/// Query failures, reported as 400s.
pub type ApiResult = Result<Value, String>;

fn stack_json(ix: &Index, id: u32) -> Value {
    Value::Array(
        ix.stacks
            .frames_of(id)
            .iter()
            .map(|&f| {
                let f = &ix.stacks.frames[f as usize];
                json!({
                    "func": ix.strings.get(f.func),
                    "file": ix.strings.get(f.file),
                    "line": f.line,
                    "pc": format!("{:#x}", f.pc),
                })
            })
            .collect(),
    )
}

fn g_ref(ix: &Index, g: u32) -> Value {
    if g == NONE || g as usize >= ix.goroutines.len() {
        return Value::Null;
    }
    json!({"idx": g, "id": ix.goroutines[g as usize].id, "name": ix.g_name(g)})
}

/// Time bounds, rows and groups.
pub fn meta(ix: &Index, trace_name: &str) -> Value {
    json!({
        "trace": trace_name,
        "duration": ix.t1 - ix.t0,
        "t0": ix.t0,
        "events": ix.events,
        "procs": ix.procs.iter().map(|p| p.0).collect::<Vec<_>>(),
        "threads": &ix.thread_ids,
        "goroutines": ix.goroutines.len(),
        "groups": ix.groups.iter().enumerate().map(|(i, (name, gs))| json!({
            "idx": i,
            "name": match ix.strings.get(*name) { "" => "(unknown start)", n => n },
            "count": gs.len(),
        })).collect::<Vec<_>>(),
        "taskLanes": ix.task_lanes,
        "tasks": ix.tasks.len(),
        "regions": ix.regions.len(),
        "logs": ix.logs.len(),
        "samples": ix.samples.len(),
        "states": STATE_NAMES,
        "counters": {
            "goroutines": ix.gcount.names,
            "heap": ix.heap.names,
            "gomaxprocs": ix.procs_counter.names,
        },
    })
}

/// The goroutines of a group, in ID order.
pub fn group(ix: &Index, gi: usize) -> ApiResult {
    let (_, gs) = ix.groups.get(gi).ok_or("no such group")?;
    Ok(Value::Array(
        gs.iter()
            .map(|&g| {
                let gr = &ix.goroutines[g as usize];
                json!({"idx": g, "id": gr.id, "name": ix.g_name(g)})
            })
            .collect(),
    ))
}

/// A goroutine by ID: its group and lifetime.
pub fn goroutine(ix: &Index, id: i64) -> ApiResult {
    let g = ix.lookup(id).ok_or("no such goroutine")?;
    let gr = &ix.goroutines[g as usize];
    Ok(json!({
        "idx": g, "id": gr.id, "name": ix.g_name(g), "group": gr.group,
        "first": gr.first - ix.t0, "last": gr.last - ix.t0,
        "creator": g_ref(ix, gr.creator),
        "createStack": stack_json(ix, gr.create_stack),
    }))
}

/// Merges spans for display: spans at least a pixel wide are sent as they
/// are; runs of narrower ones become one item per pixel or so, with the
/// state that covers most of it and a count.
pub struct Lod {
    a: i64,
    b: i64,
    px_ns: i64,
    s: Vec<i64>,
    e: Vec<i64>,
    k: Vec<u32>,
    g: Vec<u32>,
    n: Vec<u32>,
    agg: Option<Agg>,
}

/// An aggregate being built: (start, end, count, first g, time per k).
type Agg = (i64, i64, u32, u32, Vec<(u32, i64)>);
/// Merged items as columns: (start, end, k, g, count).
pub type Parts = (Vec<i64>, Vec<i64>, Vec<u32>, Vec<u32>, Vec<u32>);

impl Lod {
    pub fn new(a: i64, b: i64, px: u32) -> Self {
        Lod {
            a,
            b,
            px_ns: ((b - a) / px.max(1) as i64).max(1),
            s: Vec::new(),
            e: Vec::new(),
            k: Vec::new(),
            g: Vec::new(),
            n: Vec::new(),
            agg: None,
        }
    }

    fn flush(&mut self) {
        if let Some((s, e, n, g, tally)) = self.agg.take() {
            let k = tally.iter().max_by_key(|x| x.1).map_or(0, |x| x.0);
            self.s.push(s);
            self.e.push(e);
            self.k.push(k);
            self.g.push(if n == 1 { g } else { NONE });
            self.n.push(n);
        }
    }

    pub fn push(&mut self, s: i64, e: i64, k: u32, g: u32) {
        self.push_n(s, e, k, g, 1)
    }

    /// Pushes an item that already stands for `cnt` spans.
    pub fn push_n(&mut self, s: i64, e: i64, k: u32, g: u32, cnt: u32) {
        let (s, e) = (s.max(self.a), e.min(self.b));
        if e < s {
            return;
        }
        if e - s >= self.px_ns {
            self.flush();
            self.s.push(s);
            self.e.push(e);
            self.k.push(k);
            self.g.push(g);
            self.n.push(cnt);
            return;
        }
        match &mut self.agg {
            Some((as_, ae, n, _, tally)) if s < *as_ + self.px_ns => {
                *ae = (*ae).max(e);
                *n += cnt;
                match tally.iter_mut().find(|x| x.0 == k) {
                    Some(x) => x.1 += e - s,
                    None => tally.push((k, e - s)),
                }
            }
            _ => {
                self.flush();
                self.agg = Some((s, e, cnt, g, vec![(k, e - s)]));
            }
        }
    }

    /// The merged items: (start, end, k, g, count), absolute times.
    pub fn into_parts(mut self) -> Parts {
        self.flush();
        (self.s, self.e, self.k, self.g, self.n)
    }

    pub fn finish(mut self, t0: i64, gids: Option<&Index>) -> Value {
        self.flush();
        let mut v = json!({
            "s": self.s.iter().map(|&x| x - t0).collect::<Vec<_>>(),
            "e": self.e.iter().map(|&x| x - t0).collect::<Vec<_>>(),
            "k": self.k,
            "n": self.n,
        });
        if let Some(ix) = gids {
            v["g"] = Value::Array(
                self.g
                    .iter()
                    .map(|&g| {
                        if g == NONE {
                            Value::Null
                        } else {
                            json!(ix.goroutines[g as usize].id)
                        }
                    })
                    .collect(),
            );
            v["gi"] = json!(self
                .g
                .iter()
                .map(|&g| if g == NONE { -1 } else { g as i64 })
                .collect::<Vec<_>>());
        } else {
            v["g"] = json!(self
                .g
                .iter()
                .map(|&g| if g == NONE { -1 } else { g as i64 })
                .collect::<Vec<_>>());
        }
        v
    }
}

fn spans_tile(ix: &Index, sp: &impl SpanRow, a: i64, b: i64, px: u32, gids: bool) -> Value {
    let mut lod = Lod::new(a, b, px);
    let px_ns = (b - a) / px.max(1) as i64;
    // Zoomed out, start from the precomputed level nearest below a pixel.
    if let Some(l) = sp.levels().iter().rev().find(|l| l.px_ns <= px_ns) {
        let lo = l.s.partition_point(|&s| s < a.saturating_sub(l.max_dur));
        let hi = l.s.partition_point(|&s| s < b);
        for i in lo..hi.max(lo) {
            if l.e[i] > a {
                lod.push_n(l.s[i], l.e[i], l.k[i], l.g[i], l.n[i]);
            }
        }
        return lod.finish(ix.t0, gids.then_some(ix));
    }
    for i in sp.window(a, b) {
        let e = sp.end(i);
        if e > a {
            lod.push(sp.start(i), e, sp.k(i), sp.g(i));
        }
    }
    lod.finish(ix.t0, gids.then_some(ix))
}

fn counter_tile(ix: &Index, c: &Counter, a: i64, b: i64, px: u32) -> Value {
    // Per pixel, the largest value of each series (an envelope), plus the
    // value in force at the window's start.
    let px_ns = ((b - a) / px.max(1) as i64).max(1);
    let c = match c.level.as_deref() {
        Some(l) if l.quantum <= px_ns => l,
        _ => c,
    };
    let lo = c.t.partition_point(|t| t <= a).saturating_sub(1);
    let hi = c.t.partition_point(|t| t < b);
    let mut ts: Vec<i64> = Vec::new();
    let mut vs: Vec<Vec<f32>> = vec![Vec::new(); c.n];
    let mut cur_bucket = i64::MIN;
    for i in lo..hi.max(lo) {
        let t = c.t.get(i).max(a);
        let bucket = (t - a) / px_ns;
        let vals = (0..c.n).map(|j| c.v.get(i * c.n + j));
        if bucket == cur_bucket {
            for (j, v) in vals.enumerate() {
                let last = vs[j].last_mut().unwrap();
                *last = (*last).max(v);
            }
        } else {
            cur_bucket = bucket;
            ts.push(t - ix.t0);
            for (j, v) in vals.enumerate() {
                vs[j].push(v);
            }
        }
    }
    json!({"t": ts, "v": vs, "names": c.names})
}

fn instants_tile<T>(
    ix: &Index,
    items: &[T],
    time: impl Fn(&T) -> i64,
    a: i64,
    b: i64,
    px: u32,
    detail: impl Fn(usize, &T) -> Value,
) -> Value {
    let lo = items.partition_point(|x| time(x) < a);
    let hi = items.partition_point(|x| time(x) < b);
    let px_ns = ((b - a) / px.max(1) as i64).max(1);
    let n = hi.saturating_sub(lo);
    if n <= px as usize {
        let list: Vec<Value> = (lo..hi).map(|i| detail(i, &items[i])).collect();
        return json!({"t": (lo..hi).map(|i| time(&items[i]) - ix.t0).collect::<Vec<_>>(), "items": list});
    }
    // Too many to show one by one: a count per pixel.
    let mut ts = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut cur = i64::MIN;
    for it in &items[lo..hi] {
        let bk = (time(it) - a) / px_ns;
        if bk == cur {
            *counts.last_mut().unwrap() += 1;
        } else {
            cur = bk;
            ts.push(time(it) - ix.t0);
            counts.push(1);
        }
    }
    json!({"t": ts, "count": counts})
}

/// One row's tile for [a, b) (absolute times) at `px` pixels.
pub fn tile(ix: &Index, row: &str, a: i64, b: i64, px: u32) -> ApiResult {
    let (kind, arg) = row.split_once(':').unwrap_or((row, ""));
    let num = || arg.parse::<usize>().map_err(|_| format!("bad row {row:?}"));
    Ok(match kind {
        "proc" => {
            let p = ix.proc_row(num()?).ok_or("no such proc")?;
            spans_tile(ix, &p, a, b, px, true)
        }
        "thread" => {
            let p = ix.thread_row(num()?).ok_or("no such thread")?;
            spans_tile(ix, &p, a, b, px, true)
        }
        "gc" | "stw" | "sweep" | "assist" => {
            let i = RANGE_KINDS.iter().position(|k| *k == kind).unwrap();
            let mut v = spans_tile(ix, &ix.ranges[i], a, b, px, i == 3);
            let names: Vec<&str> = v["k"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| ix.strings.get(k.as_u64().unwrap_or(0) as u32))
                .collect();
            v["name"] = json!(names);
            v
        }
        "task" => {
            let lane = ix.task_rows.get(num()?).ok_or("no such task lane")?;
            let mut v = spans_tile(ix, lane, a, b, px, false);
            let (ids, names): (Vec<Value>, Vec<&str>) = v["g"]
                .as_array()
                .unwrap()
                .iter()
                .zip(v["k"].as_array().unwrap())
                .map(|(g, k)| {
                    let id = match g.as_i64() {
                        Some(i) if i >= 0 => json!(ix.tasks[i as usize].id),
                        _ => Value::Null,
                    };
                    (id, ix.strings.get(k.as_u64().unwrap_or(0) as u32))
                })
                .unzip();
            v["id"] = json!(ids);
            v["name"] = json!(names);
            v
        }
        "g" => {
            let g = num()? as u32;
            if g as usize >= ix.goroutines.len() {
                return Err("no such goroutine".into());
            }
            let mut lod = Lod::new(a, b, px);
            ix.g_spans(g, a, b, |s, e, tr| {
                lod.push(s, e, tr.state as u32, tr.reason as u32);
                true
            });
            let mut v = lod.finish(ix.t0, None);
            // Reasons travel as indices into `reasons`.
            v["r"] = v.as_object_mut().unwrap().remove("g").unwrap();
            let mut rl = Lod::new(a, b, px);
            let mut shown = Vec::new();
            for r in ix.g_regions(g) {
                if r.end > a && r.start < b {
                    rl.push(r.start, r.end, r.typ, r.depth);
                    shown.push(r.typ);
                }
            }
            let mut rv = rl.finish(ix.t0, None);
            let names: Vec<&str> = rv["k"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| ix.strings.get(k.as_u64().unwrap_or(0) as u32))
                .collect();
            rv["name"] = json!(names);
            v["regions"] = rv;
            v["reasons"] = json!(ix.reasons);
            v
        }
        "counter" => match arg {
            "goroutines" => counter_tile(ix, &ix.gcount, a, b, px),
            "heap" => counter_tile(ix, &ix.heap, a, b, px),
            "gomaxprocs" => counter_tile(ix, &ix.procs_counter, a, b, px),
            _ => return Err(format!("no such counter {arg:?}")),
        },
        "logs" => instants_tile(
            ix,
            &ix.logs,
            |l| l.t,
            a,
            b,
            px,
            |_, l| json!({"g": g_ref(ix, l.g), "task": l.task, "cat": ix.strings.get(l.cat), "msg": ix.log_msg(l)}),
        ),
        "cpu" => instants_tile(
            ix,
            &ix.samples,
            |s| s.0,
            a,
            b,
            px,
            |_, s| json!({"g": g_ref(ix, s.1), "stack": s.2}),
        ),
        _ => return Err(format!("no such row {row:?}")),
    })
}

fn tr_json(ix: &Index, tr: &Tr) -> Value {
    json!({
        "t": tr.t - ix.t0,
        "state": STATE_NAMES[tr.state as usize % STATE_NAMES.len()],
        "reason": ix.reason(tr.reason),
        "stack": stack_json(ix, tr.stack),
    })
}

/// Details of goroutine g's span containing absolute time t.
pub fn g_span(ix: &Index, g: u32, t: i64) -> ApiResult {
    if g as usize >= ix.goroutines.len() {
        return Err("no such goroutine".into());
    }
    let mut found: Option<(i64, i64, Tr)> = None;
    ix.g_spans(g, t, t + 1, |s, e, tr| {
        if s <= t {
            found = Some((s, e, tr));
        }
        true
    });
    let (s, e, tr) = found.ok_or("no span at that time")?;
    let next = ix.next_tr(g, tr.i);
    // A running span has no stack of its own: it resumes where it last stopped.
    let stack = if tr.stack == 0 && tr.state == S_RUNNING {
        ix.prev_tr(g, tr.i).map_or(0, |p| p.stack)
    } else {
        tr.stack
    };
    let mut v = json!({
        "kind": "goroutine",
        "g": g_ref(ix, g),
        "start": s - ix.t0,
        "end": e - ix.t0,
        "dur": e - s,
        "state": STATE_NAMES[tr.state as usize % STATE_NAMES.len()],
        "reason": ix.reason(tr.reason),
        "stack": stack_json(ix, stack),
        "endEvent": next.map(|n| tr_json(ix, &n)),
    });
    // Who ended a wait: the edge into g at the span's end.
    if tr.state == S_WAITING || tr.state == S_RUNNABLE {
        let at = if tr.state == S_WAITING { e } else { s };
        let found = (ix.edges_from(at)..ix.edges.len())
            .map(|i| ix.edge(i))
            .take_while(|ed| ed.t <= at)
            .find(|ed| ed.to == g);
        if let Some(ed) = found {
            v["unblockedBy"] = json!({
                "g": g_ref(ix, ed.from),
                "t": ed.t - ix.t0,
                "kind": if ed.kind == 1 { "create" } else { "unblock" },
            });
        }
    }
    // Regions (and their tasks) enclosing the span's start.
    let mut rs = Vec::new();
    for r in ix.g_regions(g) {
        if r.start <= s.max(t.min(e)) && r.end >= s.max(t.min(e)) {
            rs.push(json!({
                "type": ix.strings.get(r.typ),
                "start": r.start - ix.t0,
                "end": r.end - ix.t0,
                "task": if r.task == 0 { Value::Null } else { json!(r.task) },
            }));
        }
    }
    v["regions"] = json!(rs);
    Ok(v)
}

fn span_in(sp: &impl SpanRow, t: i64) -> Option<usize> {
    sp.window(t, t + 1)
        .rfind(|&i| sp.start(i) <= t && sp.end(i) >= t)
}

/// Details of the goroutine span on a proc or thread row at `t`.
fn row_span(ix: &Index, sp: &impl SpanRow, t: i64) -> ApiResult {
    let i = span_in(sp, t).ok_or("nothing at that time")?;
    let (s, e) = (sp.start(i), sp.end(i));
    let mut v = g_span(ix, sp.g(i), t.clamp(s, e))?;
    v["rowSpan"] = json!({"start": s - ix.t0, "end": e - ix.t0});
    Ok(v)
}

/// Details of whatever lies on `row` at absolute time `t`.
pub fn span(ix: &Index, row: &str, t: i64) -> ApiResult {
    let (kind, arg) = row.split_once(':').unwrap_or((row, ""));
    let num = || arg.parse::<usize>().map_err(|_| format!("bad row {row:?}"));
    match kind {
        "g" => g_span(ix, num()? as u32, t),
        "proc" => {
            let p = num()?;
            let id = ix.procs.get(p).ok_or("no such row")?.0;
            let mut v = row_span(ix, &ix.proc_row(p).unwrap(), t)?;
            v["proc"] = json!(id);
            Ok(v)
        }
        "thread" => {
            let m = num()?;
            let id = ix.thread_ids.get(m).ok_or("no such row")?;
            let sp = ix.thread_row(m).unwrap();
            let mut v = row_span(ix, &sp, t)?;
            v["thread"] = json!(id);
            let i = span_in(&sp, t).ok_or("nothing at that time")?;
            v["syscallBlocked"] = json!(sp.k(i) == 1);
            Ok(v)
        }
        "gc" | "stw" | "sweep" | "assist" => {
            let ri = RANGE_KINDS.iter().position(|k| *k == kind).unwrap();
            let sp = &ix.ranges[ri];
            let i = span_in(sp, t).ok_or("nothing at that time")?;
            Ok(json!({
                "kind": "range",
                "name": ix.strings.get(sp.k(i)),
                "start": sp.start(i) - ix.t0,
                "end": sp.end(i) - ix.t0,
                "dur": sp.end(i) - sp.start(i),
                "g": if ri == 3 { g_ref(ix, sp.g[i]) } else { Value::Null },
                "proc": if ri == 2 && sp.g[i] != NONE { json!(ix.procs[sp.g[i] as usize].0) } else { Value::Null },
            }))
        }
        "task" => {
            let lane = ix.task_rows.get(num()?).ok_or("no such lane")?;
            let i = span_in(lane, t).ok_or("nothing at that time")?;
            task(ix, ix.tasks[lane.g[i] as usize].id)
        }
        _ => Err(format!("no details for row {row:?}")),
    }
}

/// A task: bounds, goroutines, regions and logs.
pub fn task(ix: &Index, id: u64) -> ApiResult {
    let i = ix.task_idx.get(id).ok_or("no such task")?;
    let tk = &ix.tasks[i as usize];
    let regions: Vec<Value> = ix
        .regions
        .iter()
        .filter(|r| r.task == id)
        .map(|r| {
            json!({"type": ix.strings.get(r.typ), "g": g_ref(ix, r.g),
                   "start": r.start - ix.t0, "end": r.end - ix.t0})
        })
        .collect();
    let lo = ix.logs.partition_point(|l| l.t < tk.start);
    let hi = ix.logs.partition_point(|l| l.t <= tk.end);
    let logs: Vec<Value> = ix.logs[lo..hi.max(lo)]
        .iter()
        .filter(|l| l.task == id)
        .map(|l| json!({"t": l.t - ix.t0, "g": g_ref(ix, l.g), "cat": ix.strings.get(l.cat), "msg": ix.log_msg(l)}))
        .collect();
    let mut gs: Vec<u32> = ix
        .regions
        .iter()
        .filter(|r| r.task == id)
        .map(|r| r.g)
        .chain([tk.start_g, tk.end_g])
        .filter(|&g| g != NONE)
        .collect();
    gs.sort_unstable();
    gs.dedup();
    let children: Vec<u64> = ix
        .tasks
        .iter()
        .filter(|t| t.parent == id)
        .map(|t| t.id)
        .collect();
    Ok(json!({
        "kind": "task",
        "id": tk.id,
        "parent": if tk.parent == u64::MAX || tk.parent == 0 { Value::Null } else { json!(tk.parent) },
        "type": ix.strings.get(tk.typ),
        "start": tk.start - ix.t0,
        "end": tk.end - ix.t0,
        "dur": tk.end - tk.start,
        "lane": tk.lane,
        "startG": g_ref(ix, tk.start_g),
        "endG": g_ref(ix, tk.end_g),
        "goroutines": gs.iter().map(|&g| g_ref(ix, g)).collect::<Vec<_>>(),
        "regions": regions,
        "logs": logs,
        "children": children,
    }))
}

/// Tasks, longest first (at most `limit`).
pub fn tasks(ix: &Index, limit: usize) -> Value {
    let mut v: Vec<&Task> = ix.tasks.iter().collect();
    v.sort_by_key(|t| std::cmp::Reverse(t.end - t.start));
    Value::Array(
        v.into_iter()
            .take(limit)
            .map(|t| {
                json!({"id": t.id, "type": ix.strings.get(t.typ), "start": t.start - ix.t0,
                       "end": t.end - ix.t0, "dur": t.end - t.start})
            })
            .collect(),
    )
}

/// Totals per goroutine state within [a, b), over all goroutines (or one).
pub fn range_stats(ix: &Index, a: i64, b: i64, only: Option<u32>) -> Value {
    let mut tot = [0i64; 6];
    let mut by_reason: Vec<i64> = vec![0; ix.reasons.len() + 1];
    let mut gs = 0u64;
    let all: Box<dyn Iterator<Item = u32>> = match only {
        Some(g) => Box::new(std::iter::once(g)),
        None => Box::new(0..ix.goroutines.len() as u32),
    };
    for g in all {
        let mut any = false;
        ix.g_spans(g, a, b, |s, e, tr| {
            let d = e.min(b) - s.max(a);
            if d > 0 {
                tot[tr.state as usize % 6] += d;
                if tr.state == S_WAITING {
                    let last = by_reason.len() - 1;
                    by_reason[(tr.reason as usize).min(last)] += d;
                }
                any = true;
            }
            true
        });
        gs += any as u64;
    }
    let mut proc_busy = 0i64;
    for p in 0..ix.procs.len() {
        let row = ix.proc_row(p).unwrap();
        for (s, e, _) in row.iter_range(row.window(a, b)) {
            proc_busy += (e.min(b) - s.max(a)).max(0);
        }
    }
    let reasons: serde_json::Map<String, Value> = by_reason
        .iter()
        .enumerate()
        .filter(|(_, &d)| d > 0)
        .map(|(i, &d)| {
            let name = match ix.reason(i as u8) {
                "" => "(no reason)",
                r => r,
            };
            (name.to_string(), json!(d))
        })
        .collect();
    json!({
        "start": a - ix.t0,
        "end": b - ix.t0,
        "goroutines": gs,
        "states": STATE_NAMES.iter().zip(tot).filter(|(_, d)| *d > 0).map(|(n, d)| (n.to_string(), json!(d))).collect::<serde_json::Map<_, _>>(),
        "waitingByReason": reasons,
        "procBusy": proc_busy,
    })
}

/// Unblock/creation edges acting within [a, b) (absolute), at most `limit`.
pub fn arrows(ix: &Index, a: i64, b: i64, limit: usize) -> Value {
    let lo = ix.edges_from(a);
    let hi = ix.edges_from(b);
    let n = hi.saturating_sub(lo);
    let mut out_t = Vec::new();
    let mut out_to = Vec::new();
    let mut from = Vec::new();
    let mut to = Vec::new();
    let mut kind = Vec::new();
    for i in lo..hi.max(lo) {
        if out_t.len() >= limit {
            break;
        }
        let ed = ix.edge(i);
        out_t.push(ed.t - ix.t0);
        out_to.push(match ix.next_running(ed.to, ed.t) {
            Some(x) => json!(x - ix.t0),
            None => Value::Null,
        });
        from.push(if ed.from == NONE { -1 } else { ed.from as i64 });
        to.push(ed.to);
        kind.push(ed.kind);
    }
    json!({"t": out_t, "tTo": out_to, "from": from, "to": to, "kind": kind, "total": n})
}
