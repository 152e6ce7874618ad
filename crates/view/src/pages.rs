//! The analysis pages (issue #5): goroutine analysis, the four blocking
//! profiles as flame graphs, user tasks and regions, MMU and GC pauses.
//!
//! The numbers come from `gotrace-analysis`. The whole-trace analyses
//! (summary, blocking profiles, GC report, the default MMU curve) are
//! computed in one pass over the trace file on a background thread, started
//! by the first request to the pages' API and run after the timeline index
//! is built (so the two never hold their peak memory at once, and the
//! timeline alone does not pay for them); until then the API answers `503`
//! with `{"loading": true}`.
//! Per-region and per-window profiles and other MMU flags need a pass of
//! their own, done on demand on a blocking thread and cached.
//!
//! Pages are one embedded HTML shell (`page.html`) and our own script
//! (`pages.js`), which picks the page from the path.

use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gotrace_analysis::gc::{GcAnalyzer, GcReport};
use gotrace_analysis::goformat::Query;
use gotrace_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags};
use gotrace_analysis::pprof::{
    region_intervals, BlockingProfiler, BlockingProfiles, FlameNode, IntervalProfiler,
    IntervalProfiles, Profile, ProfileKind,
};
use gotrace_analysis::stats::Percentiles;
use gotrace_analysis::summary::{
    summarize, RegionFilter, StatColumns, StatRow, Summary, TaskFilter, TimeHistogram,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

const PAGE_HTML: &str = include_str!("../assets/page.html");
const PAGES_JS: &str = include_str!("../assets/pages.js");
const PAGES_CSS: &str = include_str!("../assets/pages.css");

/// The paths that serve the page shell.
pub const PAGE_PATHS: [&str; 8] = [
    "/goroutines",
    "/goroutine",
    "/profile",
    "/tasks",
    "/regions",
    "/mmu",
    "/gc",
    "/pages",
];

/// The default MMU flags of the reference's page: STW, background
/// workers, assists and sweeping, system-wide.
pub const DEFAULT_MMU_FLAGS: &str = "stw|background|assist|sweep";

/// Pauses at least this long are highlighted.
pub const LONG_PAUSE: i64 = 1_000_000;

/// The whole-trace analyses.
pub struct Analyses {
    pub summary: Summary,
    pub profiles: BlockingProfiles,
    pub gc: GcReport,
}

/// Profiles computed on demand: over a window, or inside regions.
enum Extra {
    Window(BlockingProfiles),
    Regions(IntervalProfiles),
}

/// State of the analysis pages.
pub struct Pages {
    path: PathBuf,
    app: Option<Arc<AppState>>,
    analyses: OnceLock<Analyses>,
    error: OnceLock<String>,
    extra: Mutex<Vec<(String, Arc<Extra>)>>,
    mmu: Mutex<HashMap<UtilFlags, Arc<Result<MmuCurve, String>>>>,
    started: AtomicBool,
    /// Held during an on-demand pass over the trace.
    pass: Mutex<()>,
}

/// How many on-demand profiles to keep.
const EXTRA_CACHE: usize = 8;

impl Pages {
    /// Pages for the trace at `path`. With `app`, the analyses start once
    /// its index is built (or failed); without, at once.
    pub fn new(path: &Path, app: Option<Arc<AppState>>) -> Arc<Pages> {
        Arc::new(Pages {
            path: path.to_path_buf(),
            app,
            analyses: OnceLock::new(),
            error: OnceLock::new(),
            extra: Mutex::new(Vec::new()),
            mmu: Mutex::new(HashMap::new()),
            started: AtomicBool::new(false),
            pass: Mutex::new(()),
        })
    }

    /// Starts the analyses on a background thread (once). The server calls
    /// this on the first request to the pages' API, so the timeline alone
    /// does not pay their memory.
    pub fn start(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let p = self.clone();
        std::thread::spawn(move || {
            if let Some(app) = &p.app {
                while app.index.get().is_none() && app.error.get().is_none() {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
            match analyze(&p.path) {
                Ok(a) => {
                    let _ = p.analyses.set(a);
                }
                Err(e) => {
                    let _ = p.error.set(e);
                }
            }
        });
    }

    /// Computes the analyses now, on this thread.
    pub fn compute_now(&self) -> Result<&Analyses, String> {
        if self.analyses.get().is_none() {
            let a = analyze(&self.path)?;
            let _ = self.analyses.set(a);
        }
        Ok(self.analyses.get().unwrap())
    }

    /// The analyses, if ready.
    pub fn analyses(&self) -> Option<&Analyses> {
        self.analyses.get()
    }

    fn mmu_curve(&self, flags: &str) -> Arc<Result<MmuCurve, String>> {
        let f = UtilFlags::from_query(flags);
        if let Some(c) = self.mmu.lock().unwrap().get(&f) {
            return c.clone();
        }
        // One pass at a time; another request may have done this one.
        let _pass = self.pass.lock().unwrap();
        if let Some(c) = self.mmu.lock().unwrap().get(&f) {
            return c.clone();
        }
        let res = (|| {
            let mut mu = MutatorUtil::new(f);
            each_event(&self.path, |ev| mu.event(ev))?;
            Ok(MmuCurve::new(&mu.finish()))
        })();
        let res = Arc::new(res);
        self.mmu.lock().unwrap().insert(f, res.clone());
        res
    }

    fn extra(
        &self,
        key: String,
        make: impl FnOnce() -> Result<Extra, String>,
    ) -> Result<Arc<Extra>, String> {
        let cached = || {
            let c = self.extra.lock().unwrap();
            c.iter().find(|(k, _)| *k == key).map(|(_, e)| e.clone())
        };
        if let Some(e) = cached() {
            return Ok(e);
        }
        // One pass at a time; another request may have done this one.
        let _pass = self.pass.lock().unwrap();
        if let Some(e) = cached() {
            return Ok(e);
        }
        let e = Arc::new(make()?);
        let mut c = self.extra.lock().unwrap();
        c.push((key, e.clone()));
        if c.len() > EXTRA_CACHE {
            c.remove(0);
        }
        Ok(e)
    }
}

/// Calls `f` on every event of the trace file.
fn each_event(path: &Path, mut f: impl FnMut(&gotrace::Event<'_>)) -> Result<(), String> {
    let mut r = gotrace::Reader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    while let Some(ev) = r
        .read_event()
        .map_err(|e| format!("{}: {e}", path.display()))?
    {
        f(&ev);
    }
    Ok(())
}

/// Summary, blocking profiles and GC report, on parallel passes: the first
/// two each read on one thread and analyse on another, so the passes share
/// the cores instead of one thread running all three analyses.
pub fn analyze(path: &Path) -> Result<Analyses, String> {
    let open = || gotrace::Reader::open(path).map_err(|e| format!("{}: {e}", path.display()));
    let fail = |e: gotrace::Error| format!("{}: {e}", path.display());
    let (mut r1, mut r2) = (open()?, open()?);
    std::thread::scope(|scope| {
        let summary = scope.spawn(move || summarize(&mut r1).map_err(fail));
        let profiles = scope.spawn(move || BlockingProfiler::new().read_all(&mut r2).map_err(fail));
        let mut gc = GcAnalyzer::new();
        let gc = each_event(path, |ev| {
            gc.event(ev);
        })
        .map(|()| gc.finish());
        Ok(Analyses {
            summary: join(summary)?,
            profiles: join(profiles)?,
            gc: gc?,
        })
    })
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, String>>) -> Result<T, String> {
    h.join()
        .unwrap_or_else(|_| Err("analysis thread panicked".to_string()))
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn json_response(v: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&v).unwrap_or_default(),
    )
        .into_response()
}

fn json_error(code: StatusCode, msg: &str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&json!({"error": msg})).unwrap_or_default(),
    )
        .into_response()
}

#[derive(Clone, Copy)]
enum Api {
    Status,
    GoroutineGroups,
    GoroutineGroup,
    Profile,
    ProfilePprof,
    TaskTypes,
    Tasks,
    RegionTypes,
    Regions,
    Mmu,
    Gc,
}

/// The routes of the pages and their API, to merge into the viewer's.
pub fn routes(pages: Arc<Pages>) -> Router {
    let mut r = Router::new()
        .route(
            "/pages.js",
            get(|| async { asset("text/javascript; charset=utf-8", PAGES_JS) }),
        )
        .route(
            "/pages.css",
            get(|| async { asset("text/css; charset=utf-8", PAGES_CSS) }),
        );
    for p in PAGE_PATHS {
        r = r.route(
            p,
            get(|| async { asset("text/html; charset=utf-8", PAGE_HTML) }),
        );
    }
    let apis = [
        ("status", Api::Status),
        ("goroutine-groups", Api::GoroutineGroups),
        ("goroutine-group", Api::GoroutineGroup),
        ("profile", Api::Profile),
        ("profile.pb.gz", Api::ProfilePprof),
        ("task-types", Api::TaskTypes),
        ("tasks", Api::Tasks),
        ("region-types", Api::RegionTypes),
        ("regions", Api::Regions),
        ("mmu", Api::Mmu),
        ("gc", Api::Gc),
    ];
    for (name, api) in apis {
        r = r.route(
            &format!("/api/pages/{name}"),
            get(move |s, q| serve(s, q, api)),
        );
    }
    r.with_state(pages)
}

async fn serve(State(p): State<Arc<Pages>>, RawQuery(raw): RawQuery, api: Api) -> Response {
    let raw = raw.unwrap_or_default();
    let res = tokio::task::spawn_blocking(move || handle(&p, &raw, api)).await;
    match res {
        Ok(r) => r,
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn handle(p: &Arc<Pages>, raw: &str, api: Api) -> Response {
    let Some(a) = p.analyses() else {
        p.start();
        if let Some(e) = p.error.get() {
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, e);
        }
        if let Api::Status = api {
            return json_response(json!({"ready": false}));
        }
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"loading":true,"error":"still loading"}"#,
        )
            .into_response();
    };
    let (q, _) = Query::parse(raw);
    let ok = |v: Value| json_response(v);
    match api {
        Api::Status => ok(json!({"ready": true})),
        Api::GoroutineGroups => ok(goroutine_groups(a)),
        Api::GoroutineGroup => ok(goroutine_group(a, &q)),
        Api::Profile => with_profile(p, a, &q, |prof| {
            let min = q
                .value("min")
                .parse::<f64>()
                .unwrap_or(0.001)
                .clamp(0.0, 1.0);
            let (count, delay) = prof.totals();
            json_response(json!({
                "kind": prof.kind.name(),
                "count": count, "delay": delay,
                "root": flame_json(&flame_graph(prof, min)),
            }))
        }),
        Api::ProfilePprof => with_profile(p, a, &q, |prof| {
            let name = format!("{}.pb.gz", prof.kind.name());
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                prof.to_pprof(),
            )
                .into_response()
        }),
        Api::TaskTypes => ok(task_types(a)),
        Api::Tasks => ok(tasks(a, &q)),
        Api::RegionTypes => ok(region_types(a)),
        Api::Regions => ok(regions(a, &q)),
        Api::Mmu => match mmu(p, a, &q) {
            Ok(v) => ok(v),
            Err(e) => json_error(StatusCode::BAD_REQUEST, &e),
        },
        Api::Gc => ok(gc(a, &q)),
    }
}

fn text(s: &Summary, b: &[u8]) -> String {
    let _ = s;
    String::from_utf8_lossy(b).into_owned()
}

fn columns_json(c: &StatColumns) -> Value {
    json!({"stats": c.stats, "ranges": c.ranges, "maxTotal": c.max_total})
}

fn row_json(r: &StatRow) -> Value {
    json!({"total": r.total_time, "stats": r.stats, "ranges": r.ranges, "hasRangeTime": r.has_range_time})
}

fn goroutine_groups(a: &Analyses) -> Value {
    let s = &a.summary;
    let groups = s.goroutine_groups();
    let total: i64 = groups.iter().map(|g| g.exec_time).sum();
    json!({
        "t0": s.start_time,
        "totalExec": total,
        "groups": groups.iter().map(|g| json!({
            "name": text(s, s.str(g.name)),
            "count": g.count,
            "exec": g.exec_time,
        })).collect::<Vec<_>>(),
    })
}

fn goroutine_group(a: &Analyses, q: &Query) -> Value {
    let s = &a.summary;
    let name = q.first("name").unwrap_or(b"").to_vec();
    let page = s.goroutine_group(&name, &q.value("sort"));
    let limit = q.value("limit").parse::<usize>().unwrap_or(5000);
    let rows: Vec<Value> = page
        .rows
        .iter()
        .take(limit)
        .map(|r| {
            let g = s.goroutine(r.id);
            let (start, end) = g.map_or((s.start_time, s.end_time), |g| {
                let st = if g.start_time != 0 {
                    g.start_time
                } else {
                    g.creation_time
                };
                let st = if st == 0 { s.start_time } else { st };
                let en = if g.end_time == 0 {
                    s.end_time
                } else {
                    g.end_time
                };
                (st, en)
            });
            let mut v = row_json(&r.row);
            v["id"] = json!(r.id);
            v["start"] = json!(start - s.start_time);
            v["end"] = json!(end - s.start_time);
            v
        })
        .collect();
    json!({
        "name": text(s, &page.name),
        "count": page.count,
        "total": page.rows.len(),
        "exec": page.exec_time,
        "totalExec": page.total_exec_time,
        "execPercent": page.exec_time_percent(),
        "columns": columns_json(&page.columns),
        "rows": rows,
    })
}

/// Nearest-rank percentiles of sorted durations: min, p50, p90, p99, max.
fn percentiles(d: Option<Percentiles>) -> Value {
    match d {
        None => Value::Null,
        Some(d) => json!({"min": d.min, "p50": d.p50, "p90": d.p90, "p99": d.p99, "max": d.max}),
    }
}

fn histogram_json(h: &TimeHistogram) -> Value {
    json!({
        "count": h.count,
        "buckets": h.rows().iter().map(|b| json!({
            "min": b.min, "max": b.next_min, "count": b.count, "width": b.width,
        })).collect::<Vec<_>>(),
    })
}

fn task_types(a: &Analyses) -> Value {
    let s = &a.summary;
    let types = s.task_types();
    let pct = s.task_type_percentiles(&types);
    let types: Vec<Value> = types
        .iter()
        .zip(pct)
        .map(|(t, d)| {
            json!({
                "type": text(s, s.str(t.name)),
                "count": t.count,
                "complete": t.histogram.count,
                "histogram": histogram_json(&t.histogram),
                "stats": percentiles(d),
            })
        })
        .collect();
    json!({"t0": s.start_time, "types": types})
}

fn tasks(a: &Analyses, q: &Query) -> Value {
    let s = &a.summary;
    let f = TaskFilter::from_query(q);
    let page = s.tasks(&f);
    let limit = q.value("limit").parse::<usize>().unwrap_or(1000);
    let tasks: Vec<Value> = page
        .tasks
        .iter()
        .take(limit)
        .map(|t| {
            let typ = s
                .task(t.id)
                .map(|x| text(s, s.str(x.name)))
                .unwrap_or_default();
            json!({
                "id": t.id, "type": typ, "start": t.start, "duration": t.duration,
                "complete": t.complete,
                "events": t.events.iter().map(|e| json!({
                    "t": e.since_start, "elapsed": e.elapsed, "g": e.goroutine, "what": e.what,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"title": page.title, "total": page.tasks.len(), "tasks": tasks})
}

fn region_types(a: &Analyses) -> Value {
    let s = &a.summary;
    let types = s.region_types();
    let pct = s.region_type_percentiles(&types);
    let types: Vec<Value> = types
        .iter()
        .zip(pct)
        .map(|(t, d)| {
            json!({
                "type": text(s, s.str(t.name)),
                "pc": format!("{:x}", t.frame.pc),
                "func": text(s, s.str(t.frame.func)),
                "file": text(s, s.str(t.frame.file)),
                "line": t.frame.line,
                "count": t.histogram.count,
                "histogram": histogram_json(&t.histogram),
                "stats": percentiles(d),
            })
        })
        .collect();
    json!({"t0": s.start_time, "types": types})
}

fn regions(a: &Analyses, q: &Query) -> Value {
    let s = &a.summary;
    let f = RegionFilter::from_query(q);
    let page = s.regions(&f, &q.value("sort"));
    let limit = q.value("limit").parse::<usize>().unwrap_or(2000);
    let rows: Vec<Value> = page
        .rows
        .iter()
        .take(limit)
        .map(|r| {
            let reg = s.region(r.region);
            let (start, dur) = s.region_interval(reg);
            let mut v = row_json(&r.row);
            v["goroutine"] = json!(r.goroutine);
            v["task"] = json!(r.task);
            v["type"] = json!(text(s, s.str(reg.name)));
            v["start"] = json!(start - s.start_time);
            v["duration"] = json!(dur);
            v
        })
        .collect();
    json!({
        "title": page.title, "params": page.params, "total": page.rows.len(),
        "columns": columns_json(&page.columns), "rows": rows,
    })
}

/// The library's flame graph, with the samples that have no stack (a
/// goroutine that never ran before it blocked, say) as a root child
/// `(no stack)`, so the root's width is accounted for.
fn flame_graph(prof: &Profile<'_>, min: f64) -> FlameNode {
    let mut root = prof.flame_graph(min);
    let (mut delay, mut count) = (0i64, 0u64);
    for s in &prof.samples {
        if prof.stacks.frames(s.stack).is_empty() {
            delay = delay.wrapping_add(s.delay);
            count += s.count;
        }
    }
    if delay > 0 || count > 0 {
        let at = root
            .children
            .iter()
            .position(|c| c.delay < delay)
            .unwrap_or(root.children.len());
        root.children.insert(
            at,
            FlameNode {
                func: "(no stack)".into(),
                delay,
                count,
                children: Vec::new(),
            },
        );
    }
    root
}

fn flame_json(n: &FlameNode) -> Value {
    json!({
        "f": n.func, "d": n.delay, "c": n.count,
        "ch": n.children.iter().map(flame_json).collect::<Vec<_>>(),
    })
}

/// Parses an optional time relative to the trace start (ns) into absolute.
fn rel_time(q: &Query, k: &str, t0: i64) -> Result<Option<i64>, String> {
    let v = q.value(k);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<f64>()
        .map(|f| Some(f as i64 + t0))
        .map_err(|_| format!("bad {k}: {v:?}"))
}

/// Finds the profile a query asks for (`kind`, `group`, `region` type with
/// `pc`, `from`/`to` relative ns) and hands it to `f`.
fn with_profile(
    p: &Pages,
    a: &Analyses,
    q: &Query,
    f: impl FnOnce(&Profile<'_>) -> Response,
) -> Response {
    match find_profile(p, a, q, f) {
        Ok(r) | Err(r) => r,
    }
}

// Both arms are responses, returned once: their size does not matter.
#[allow(clippy::result_large_err)]
fn find_profile(
    p: &Pages,
    a: &Analyses,
    q: &Query,
    f: impl FnOnce(&Profile<'_>) -> Response,
) -> Result<Response, Response> {
    let bad = |m: String| json_error(StatusCode::BAD_REQUEST, &m);
    let kind_s = q.value("kind");
    let kind = ProfileKind::from_name(if kind_s.is_empty() { "sched" } else { &kind_s })
        .ok_or_else(|| bad(format!("bad kind: {kind_s:?}")))?;
    let t0 = a.summary.start_time;
    let from = rel_time(q, "from", t0).map_err(bad)?;
    let to = rel_time(q, "to", t0).map_err(bad)?;
    let window = match (from, to) {
        (None, None) => None,
        (a0, b0) => Some((a0.unwrap_or(i64::MIN / 2), b0.unwrap_or(i64::MAX / 2))),
    };
    let group = q
        .first("group")
        .map(|g| String::from_utf8_lossy(g).into_owned());
    let region = q.first("region").map(<[u8]>::to_vec);
    if let Some(rtype) = region {
        let mut rq = Query::default();
        rq.add("type", rtype);
        if !q.value("pc").is_empty() {
            rq.add("pc", q.value("pc"));
        }
        let filter = RegionFilter::from_query(&rq);
        let key = format!("region {:?} {:?} {window:?}", filter.typ, filter.pc);
        let e = p
            .extra(key, || {
                let mut ip = IntervalProfiler::new(region_intervals(&a.summary, &filter), window);
                each_event(&p.path, |ev| ip.event(ev))?;
                Ok(Extra::Regions(ip.finish()))
            })
            .map_err(|e| json_error(StatusCode::INTERNAL_SERVER_ERROR, &e))?;
        let Extra::Regions(ip) = &*e else {
            unreachable!()
        };
        return Ok(f(&ip.profile(kind)));
    }
    let profiles: Arc<Extra>;
    let bp = match window {
        None => &a.profiles,
        Some((s, e)) => {
            profiles = p
                .extra(format!("window {s} {e}"), || {
                    let mut bp = BlockingProfiler::with_window(s, e);
                    each_event(&p.path, |ev| bp.event(ev))?;
                    Ok(Extra::Window(bp.finish()))
                })
                .map_err(|e| json_error(StatusCode::INTERNAL_SERVER_ERROR, &e))?;
            match &*profiles {
                Extra::Window(bp) => bp,
                Extra::Regions(_) => unreachable!(),
            }
        }
    };
    let prof = bp
        .profile(kind, group.as_deref())
        .map_err(|e| json_error(StatusCode::NOT_FOUND, &e.to_string()))?;
    Ok(f(&prof))
}

fn mmu(p: &Pages, a: &Analyses, q: &Query) -> Result<Value, String> {
    let flags = if q.first("flags").is_some() {
        q.value("flags")
    } else {
        DEFAULT_MMU_FLAGS.to_string()
    };
    let curve = p.mmu_curve(&flags);
    let curve = curve.as_ref().as_ref().map_err(|e| e.clone())?;
    let t0 = a.summary.start_time;
    let plot = match curve.plot(false) {
        Ok(p) => p,
        Err(e) => return Ok(json!({"flags": flags, "error": e.to_string(), "curve": []})),
    };
    let window = match q.value("window").parse::<f64>() {
        Ok(w) if w >= 1.0 => w as i64,
        _ => 1_000_000.min(plot.x_max.max(1)),
    };
    let worst: Vec<Value> = curve
        .details(window)
        .iter()
        .map(|w| json!({"start": w.time - t0, "end": w.time - t0 + window, "util": w.mutator_util}))
        .collect();
    Ok(json!({
        "flags": flags,
        "xMin": plot.x_min, "xMax": plot.x_max,
        "curve": plot.points.iter().map(|p| json!([p.window, p.values.first().copied().unwrap_or(0.0)])).collect::<Vec<_>>(),
        "window": window,
        "mmu": curve.mmu(window),
        "worst": worst,
    }))
}

/// The GC page; `long` (a Go duration, default 1ms) is the highlight
/// threshold.
fn gc(a: &Analyses, q: &Query) -> Value {
    let long = gotrace_analysis::goformat::parse_duration(&q.value("long"))
        .ok()
        .filter(|&d| d > 0)
        .unwrap_or(LONG_PAUSE);
    let r = &a.gc;
    let t0 = a.summary.start_time;
    let limit = q.value("limit").parse::<usize>().unwrap_or(5000);
    // Pause durations in log buckets, five per decade: bucket b holds
    // [10^(b/5), 10^((b+1)/5)).
    let mut histogram: std::collections::BTreeMap<i64, usize> = Default::default();
    for p in &r.pauses {
        let b = ((p.duration.max(1) as f64).log10() * 5.0).floor() as i64;
        *histogram.entry(b).or_default() += 1;
    }
    let pause = |p: &gotrace_analysis::gc::Pause| {
        json!({
            "kind": p.kind, "start": p.start - t0, "duration": p.duration, "g": p.goroutine,
            "long": p.duration >= long,
        })
    };
    let stats = r.pause_stats().map(|s| {
        json!({"count": s.count, "total": s.total, "p50": s.p50, "p90": s.p90, "p99": s.p99, "max": s.max})
    });
    json!({
        "t0": t0,
        "traceStart": r.trace_start - t0,
        "traceEnd": r.trace_end - t0,
        "longPause": long,
        "stats": stats,
        "longPauses": r.pauses_over(long).len(),
        "pauseTotal": r.pauses.len(),
        "histogram": histogram.into_iter().collect::<Vec<_>>(),
        "pauses": r.pauses.iter().take(limit).map(pause).collect::<Vec<_>>(),
        "longest": r.pauses_over(long).into_iter().take(limit).map(pause).collect::<Vec<_>>(),
        "cycleTotal": r.cycles.len(),
        "cycles": r.cycles.iter().take(limit).map(|c| json!({
            "start": c.start - t0, "duration": c.duration, "beforeTrace": c.started_before_trace,
        })).collect::<Vec<_>>(),
    })
}
