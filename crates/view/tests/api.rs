//! The viewer's index and HTTP API, checked against the corpus traces.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gotrace_view::index::{Index, SpanRow, NONE, S_RUNNABLE, S_RUNNING, S_WAITING};
use gotrace_view::{api, AppState};
use http_body_util::BodyExt;
use serde_json::Value;
use std::path::PathBuf;
use tower::ServiceExt;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus/traces/go1.27");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "corpus traces missing in {}", dir.display());
    v
}

fn load(p: &std::path::Path) -> Index {
    gotrace_view::load(p, &mut |_, _| {}).unwrap()
}

fn named(name: &str) -> Index {
    load(&corpus().into_iter().find(|p| p.ends_with(name)).unwrap())
}

/// How many spans a tile's items stand for.
fn tile_spans(v: &Value) -> usize {
    v["n"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .sum()
}

/// All spans of goroutine g: (start, end, state, reason).
fn g_spans(ix: &Index, g: u32) -> Vec<(i64, i64, u8, u8)> {
    let mut v = Vec::new();
    ix.g_spans(g, i64::MIN / 2, i64::MAX / 2, |s, e, tr| {
        v.push((s, e, tr.state, tr.reason));
        true
    });
    v
}

#[test]
fn proc_rows_match_goroutine_running_spans() {
    for p in corpus() {
        let ix = load(&p);
        let mut from_g: Vec<(u32, i64, i64)> = Vec::new();
        for g in 0..ix.goroutines.len() as u32 {
            for (s, e, st, _) in g_spans(&ix, g) {
                if st == S_RUNNING {
                    from_g.push((g, s, e));
                }
            }
        }
        let mut from_p: Vec<(u32, i64, i64)> = Vec::new();
        for pi in 0..ix.procs.len() {
            let sp = ix.proc_row(pi).unwrap();
            for i in 0..sp.len() {
                from_p.push((sp.g(i), sp.start(i), sp.end(i)));
            }
            // A P runs one goroutine at a time.
            for i in 1..sp.len() {
                assert!(
                    sp.end(i - 1) <= sp.start(i),
                    "{}: overlap on a proc",
                    p.display()
                );
            }
        }
        // Spans first seen mid-run start at the trace's start on the proc
        // row, and at their status event on the goroutine row; compare ends.
        let key = |v: &mut Vec<(u32, i64, i64)>| {
            v.sort_by_key(|x| (x.0, x.2));
            v.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>()
        };
        assert!(!from_g.is_empty(), "{}", p.display());
        assert_eq!(key(&mut from_g), key(&mut from_p), "{}", p.display());
        for (a, b) in from_g.iter().zip(&from_p) {
            assert!(
                b.1 <= a.1,
                "{}: proc span starts after the goroutine's",
                p.display()
            );
        }
    }
}

#[test]
fn goroutine_spans_are_contiguous_and_ordered() {
    for p in corpus() {
        let ix = load(&p);
        let mut total = 0;
        for g in 0..ix.goroutines.len() as u32 {
            let v = g_spans(&ix, g);
            total += v.len();
            for w in v.windows(2) {
                assert_eq!(
                    w[0].1,
                    w[1].0,
                    "{}: gap in G{}",
                    p.display(),
                    ix.goroutines[g as usize].id
                );
                assert!(w[0].0 <= w[0].1);
            }
            if let Some(l) = v.last() {
                assert_eq!(l.1, ix.t1);
            }
        }
        assert_eq!(
            total,
            ix.tr_t.len(),
            "{}: every transition starts a span",
            p.display()
        );
    }
}

#[test]
fn range_stats_total_the_goroutine_spans() {
    for p in corpus() {
        let ix = load(&p);
        let dur = ix.t1 - ix.t0;
        for (a, b) in [(ix.t0, ix.t1), (ix.t0 + dur / 3, ix.t0 + dur / 2)] {
            let all = api::range_stats(&ix, a, b, None);
            let mut want = std::collections::BTreeMap::<String, i64>::new();
            let mut sum_one = std::collections::BTreeMap::<String, i64>::new();
            for g in 0..ix.goroutines.len() as u32 {
                for (s, e, st, _) in g_spans(&ix, g) {
                    let d = e.min(b) - s.max(a);
                    if d > 0 {
                        let name = gotrace_view::index::STATE_NAMES[st as usize];
                        *want.entry(name.to_string()).or_default() += d;
                    }
                }
                if ix.goroutines.len() > 300 {
                    continue;
                }
                let one = api::range_stats(&ix, a, b, Some(g));
                for (k, v) in one["states"].as_object().unwrap() {
                    *sum_one.entry(k.clone()).or_default() += v.as_i64().unwrap();
                }
            }
            let got: std::collections::BTreeMap<String, i64> = all["states"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
                .collect();
            assert_eq!(got, want, "{}", p.display());
            if ix.goroutines.len() <= 300 {
                assert_eq!(got, sum_one, "{}", p.display());
            }
            let waiting: i64 = all["waitingByReason"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_i64().unwrap())
                .sum();
            assert_eq!(
                waiting,
                got.get("waiting").copied().unwrap_or(0),
                "{}",
                p.display()
            );
            // Running time is what the procs were busy with.
            let running = got.get("running").copied().unwrap_or(0);
            let slack = if a == ix.t0 { mid_run_slack(&ix) } else { 0 };
            assert_eq!(
                all["procBusy"].as_i64().unwrap(),
                running + slack,
                "{}",
                p.display()
            );
        }
    }
}

/// Proc time before the first status event of goroutines already running
/// when the trace began (proc rows start those at the trace's start).
fn mid_run_slack(ix: &Index) -> i64 {
    let mut slack = 0;
    for pi in 0..ix.procs.len() {
        let sp = ix.proc_row(pi).unwrap();
        let mut seen = std::collections::HashSet::new();
        for i in 0..sp.len() {
            let g = sp.g(i);
            if !seen.insert(g) {
                continue;
            }
            let first = g_spans(ix, g)
                .into_iter()
                .find(|x| x.1 == sp.end(i) && x.2 == S_RUNNING)
                .unwrap();
            slack += first.0 - sp.start(i);
        }
    }
    slack
}

#[test]
fn coarse_tiles_merge_but_cover_everything() {
    let ix = named("sched.trace");
    // The goroutine with the most transitions.
    let g = (0..ix.goroutines.len() as u32)
        .max_by_key(|&g| g_spans(&ix, g).len())
        .unwrap();
    let spans = g_spans(&ix, g);
    assert!(spans.len() > 50, "sched.trace should have a busy goroutine");
    let v = api::tile(&ix, &format!("g:{g}"), ix.t0, ix.t1, 20).unwrap();
    let s: Vec<i64> = v["s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    let e: Vec<i64> = v["e"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    let n: Vec<u64> = v["n"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert!(
        s.len() < spans.len() / 2,
        "{} items for {} spans",
        s.len(),
        spans.len()
    );
    assert!(s.len() <= 2 * 20 + 2);
    assert_eq!(
        n.iter().sum::<u64>() as usize,
        spans.len(),
        "every span is counted once"
    );
    assert_eq!(s[0], spans[0].0 - ix.t0);
    assert_eq!(*e.last().unwrap(), ix.t1 - ix.t0);
    for i in 1..s.len() {
        assert!(s[i - 1] <= s[i] && e[i - 1] <= s[i], "items overlap");
    }
    // The same at fine zoom is exact.
    let v = api::tile(&ix, &format!("g:{g}"), ix.t0, ix.t1, 10_000_000).unwrap();
    assert_eq!(v["s"].as_array().unwrap().len(), spans.len());
    assert!(v["n"].as_array().unwrap().iter().all(|x| x == 1));

    // Proc rows, too.
    let sp = ix.proc_row(0).unwrap();
    let v = api::tile(&ix, "proc:0", ix.t0, ix.t1, 10).unwrap();
    let n = tile_spans(&v);
    assert_eq!(n, sp.len());
    assert!(v["s"].as_array().unwrap().len() < sp.len());
    // A window in the middle holds exactly the spans overlapping it.
    let (a, b) = (sp.start(sp.len() / 2), sp.end(sp.len() / 2 + 3));
    let v = api::tile(&ix, "proc:0", a, b, 100_000_000).unwrap();
    let want = (0..sp.len())
        .filter(|&i| sp.end(i) > a && sp.start(i) < b)
        .count();
    assert_eq!(v["s"].as_array().unwrap().len(), want);
}

#[test]
fn merged_levels_keep_every_span() {
    let mut ix = named("sched.trace");
    let before: Vec<Value> = (0..ix.procs.len())
        .map(|p| api::tile(&ix, &format!("proc:{p}"), ix.t0, ix.t1, 50).unwrap())
        .collect();
    ix.rebuild_levels(0);
    assert!(ix.procs.iter().all(|p| !p.1.levels.is_empty()));
    for (p, b) in before.iter().enumerate() {
        let sp = ix.proc_row(p).unwrap();
        for (a, z, px) in [
            (ix.t0, ix.t1, 50),
            (ix.t0 + 1000, ix.t1 / 2 + ix.t0 / 2, 30),
        ] {
            let v = api::tile(&ix, &format!("proc:{p}"), a, z, px).unwrap();
            let n = tile_spans(&v);
            let want = (0..sp.len())
                .filter(|&i| sp.end(i) > a && sp.start(i) < z)
                .count();
            assert_eq!(n, want, "proc {p} [{a}, {z})");
            let s = v["s"].as_array().unwrap();
            assert!(s.len() <= 2 * px as usize + 2);
            if a == ix.t0 {
                // Same extent as merging on the fly.
                assert_eq!(s.first(), b["s"].as_array().unwrap().first());
                assert_eq!(
                    v["e"].as_array().unwrap().last(),
                    b["e"].as_array().unwrap().last()
                );
            }
        }
    }
}

#[test]
fn span_details_have_stacks_with_file_and_line() {
    for name in ["sched.trace", "annotations.trace", "net.trace"] {
        let ix = named(name);
        let mut with_stack = 0;
        for g in 0..ix.goroutines.len() as u32 {
            for (s, e, st, _) in g_spans(&ix, g).into_iter().take(40) {
                let d = api::span(&ix, &format!("g:{g}"), s + (e - s) / 2).unwrap();
                assert_eq!(d["start"].as_i64().unwrap(), s - ix.t0);
                assert_eq!(d["dur"].as_i64().unwrap(), e - s);
                assert_eq!(d["g"]["idx"].as_u64().unwrap(), g as u64);
                assert_eq!(d["state"], gotrace_view::index::STATE_NAMES[st as usize]);
                let stacks = [&d["stack"], &d["endEvent"]["stack"]];
                for stack in stacks {
                    for f in stack.as_array().into_iter().flatten() {
                        assert!(!f["file"].as_str().unwrap().is_empty(), "{name}: {f}");
                        assert!(f["line"].as_u64().unwrap() > 0, "{name}: {f}");
                        assert!(!f["func"].as_str().unwrap().is_empty(), "{name}: {f}");
                        with_stack += 1;
                    }
                }
                if st == S_WAITING && d["endEvent"].is_object() {
                    // What ended a wait is an unblock into runnable.
                    assert_eq!(d["endEvent"]["state"], "runnable", "{name}");
                }
            }
        }
        assert!(with_stack > 100, "{name}: only {with_stack} frames");
    }
}

#[test]
fn unblock_edges_point_from_the_waker() {
    for p in corpus() {
        let ix = load(&p);
        let mut checked = 0;
        let mut last_t = i64::MIN;
        for i in 0..ix.edges.len() {
            let ed = ix.edge(i);
            let (t, from, to) = (ed.t, ed.from, ed.to);
            assert!(last_t <= t, "{}: edges out of time order", p.display());
            last_t = t;
            assert_ne!(from, to);
            // The woken goroutine becomes runnable at t, from waiting (or from not existing).
            let spans = g_spans(&ix, to);
            let k = spans.iter().position(|x| x.0 == t && x.2 == S_RUNNABLE);
            let k = k.unwrap_or_else(|| panic!("{}: no runnable span at edge {i}", p.display()));
            if ed.kind == 0 {
                assert!(k > 0 && spans[k - 1].2 == S_WAITING, "{}", p.display());
            }
            // The waker was executing then.
            if from != NONE {
                let fs = g_spans(&ix, from);
                let running = fs
                    .iter()
                    .any(|x| x.0 <= t && t <= x.1 && (x.2 == S_RUNNING || x.2 == 5));
                assert!(
                    running,
                    "{}: waker G{} not running at {t}",
                    p.display(),
                    ix.goroutines[from as usize].id
                );
                checked += 1;
            }
        }
        if p.ends_with("sched.trace") {
            assert!(checked > 100);
        }
        // Arrows end where the woken goroutine starts running.
        let v = api::arrows(&ix, ix.t0, ix.t1, 100);
        for (j, to) in v["to"].as_array().unwrap().iter().enumerate() {
            if let Some(tt) = v["tTo"][j].as_i64() {
                let g = to.as_u64().unwrap() as u32;
                assert!(g_spans(&ix, g)
                    .iter()
                    .any(|x| x.0 - ix.t0 == tt && x.2 == S_RUNNING));
            }
        }
    }
}

#[test]
fn tasks_regions_and_logs() {
    let ix = named("annotations.trace");
    assert!(!ix.tasks.is_empty() && !ix.regions.is_empty() && !ix.logs.is_empty());
    for t in &ix.tasks {
        let d = api::task(&ix, t.id).unwrap();
        assert!(d["end"].as_i64() >= d["start"].as_i64());
        for r in d["regions"].as_array().unwrap() {
            assert!(r["start"].as_i64() >= Some(0));
        }
    }
    // Lanes carry each task's type and never overlap.
    let v = api::tile(&ix, "task:0", ix.t0, ix.t1, 100_000).unwrap();
    for (i, id) in v["id"].as_array().unwrap().iter().enumerate() {
        let t = &ix.tasks[ix.task_idx.get(id.as_u64().unwrap()).unwrap() as usize];
        assert_eq!(v["name"][i], ix.strings.get(t.typ), "task {id}");
        assert!(!ix.strings.get(t.typ).is_empty());
    }
    for lane in &ix.task_rows {
        for i in 1..lane.len() {
            assert!(lane.end(i - 1) <= lane.start(i));
        }
    }
    let v = api::tile(&ix, "logs", ix.t0, ix.t1, 10_000).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), ix.logs.len());
    // Regions show on their goroutine's row.
    let r = &ix.regions[0];
    let v = api::tile(&ix, &format!("g:{}", r.g), ix.t0, ix.t1, 100_000).unwrap();
    assert!(v["regions"]["s"]
        .as_array()
        .unwrap()
        .contains(&(r.start - ix.t0).into()));
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, String) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[tokio::test]
async fn http_api() {
    let state = AppState::new("sched.trace");
    let app = gotrace_view::router(state.clone());
    // Before the index is ready.
    let (st, _, body) = get(&app, "/api/status").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(json(&body)["ready"], false);
    assert_eq!(
        get(&app, "/api/meta").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let _ = state.index.set(named("sched.trace"));
    let ix = state.index.get().unwrap();

    let (st, ct, body) = get(&app, "/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    assert!(body.contains(r#"<script type="module" src="/app.js">"#));
    let (_, ct, body) = get(&app, "/app.js").await;
    assert!(ct.starts_with("text/javascript"));
    assert!(body.contains("/api/tiles"));

    let meta = json(&get(&app, "/api/meta").await.2);
    assert_eq!(meta["duration"].as_i64().unwrap(), ix.t1 - ix.t0);
    assert_eq!(meta["procs"].as_array().unwrap().len(), ix.procs.len());
    let n: u64 = meta["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(n as usize, ix.goroutines.len());
    let grp = json(&get(&app, "/api/group?idx=0").await.2);
    assert_eq!(
        grp.as_array().unwrap().len() as u64,
        meta["groups"][0]["count"].as_u64().unwrap()
    );

    let uri = format!(
        "/api/tiles?rows=proc:0,gc,stw,counter:goroutines,counter:heap,g:0&start=0&end={}&px=3000",
        ix.t1 - ix.t0
    );
    let (st, _, body) = get(&app, &uri).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let tiles = json(&body);
    for r in [
        "proc:0",
        "gc",
        "stw",
        "counter:goroutines",
        "counter:heap",
        "g:0",
    ] {
        assert!(tiles["rows"][r].is_object(), "missing {r}");
    }
    let p0 = &tiles["rows"]["proc:0"];
    let i = (0..p0["n"].as_array().unwrap().len())
        .find(|&i| p0["n"][i] == 1)
        .expect("a span wider than a pixel");
    let mid = (p0["s"][i].as_i64().unwrap() + p0["e"][i].as_i64().unwrap()) / 2;
    let (st, _, body) = get(&app, &format!("/api/span?row=proc:0&t={mid}")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let span = json(&body);
    assert_eq!(span["g"]["id"], p0["g"][i]);
    assert_eq!(span["kind"], "goroutine");
    assert_eq!(span["state"], "running");
    assert!(span["g"]["id"].as_i64().unwrap() >= 0);

    let rs = json(&get(&app, "/api/range-stats?start=0&end=1e12").await.2);
    assert_eq!(rs["start"], 0);
    assert!(rs["states"]["running"].as_i64().unwrap() > 0);
    let g = json(
        &get(&app, &format!("/api/goroutine?id={}", ix.goroutines[0].id))
            .await
            .2,
    );
    assert_eq!(g["idx"], 0);
    let arrows = json(&get(&app, "/api/arrows?start=0&end=1e12").await.2);
    assert_eq!(arrows["total"].as_u64().unwrap() as usize, ix.edges.len());

    // Bad requests are 400s, not panics.
    for bad in [
        "/api/tiles?rows=nope:1",
        "/api/tiles?rows=proc:999",
        "/api/tiles?rows=g:x",
        "/api/span?row=g:0&t=abc",
        "/api/group?idx=99999",
        "/api/goroutine?id=-5",
        "/api/task?id=1",
    ] {
        assert_eq!(get(&app, bad).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[test]
fn listen_addresses() {
    assert_eq!(gotrace_view::listen_addr(None), "127.0.0.1:0");
    assert_eq!(gotrace_view::listen_addr(Some(":8080")), "127.0.0.1:8080");
    assert_eq!(gotrace_view::listen_addr(Some("0.0.0.0:1")), "0.0.0.0:1");
}

#[test]
fn sweep_spans_name_the_proc_that_swept() {
    // Sweeps name their P by index into the proc rows, which are listed by
    // ID: the index must follow that order, not the order Ps were first seen.
    let mut checked = 0;
    for p in corpus() {
        let ix = load(&p);
        // Every (end time, P) of a sweep, from the events themselves.
        let mut ends = std::collections::HashSet::new();
        let mut r = gotrace::Reader::open(&p).unwrap();
        while let Some(ev) = r.read_event().unwrap() {
            if ev.kind() == gotrace::EventKind::RangeEnd {
                if let Some(rg) = ev.range() {
                    if matches!(rg.name, gotrace::RangeName::GcSweep) {
                        ends.insert((ev.time(), rg.scope.id));
                    }
                }
            }
        }
        let sweeps = &ix.ranges[2];
        for (s, e, g, _) in sweeps.iter() {
            if g == NONE || e == ix.t1 {
                continue;
            }
            let v = api::span(&ix, "sweep", s).unwrap();
            let proc = v["proc"].as_i64().unwrap();
            assert_eq!(proc, ix.procs[g as usize].0);
            assert!(
                ends.contains(&(e, proc)),
                "{}: sweep ending at {e} shown on P{proc}",
                p.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} sweeps checked");
}

#[test]
fn thread_rows_hold_the_goroutines_syscalls_and_are_finished_on_first_use() {
    use gotrace_view::index::S_SYSCALL;
    let mut rows_seen = 0;
    for p in corpus() {
        let ix = load(&p);
        let mut from_g: Vec<(u32, i64)> = Vec::new();
        for g in 0..ix.goroutines.len() as u32 {
            for (_, e, st, _) in g_spans(&ix, g) {
                if st == S_SYSCALL {
                    from_g.push((g, e));
                }
            }
        }
        // The first use finishes the rows; the meta lists them before that.
        assert_eq!(ix.threads().len(), ix.thread_ids.len(), "{}", p.display());
        let mut from_m: Vec<(u32, i64)> = Vec::new();
        for m in 0..ix.thread_ids.len() {
            let row = ix.thread_row(m).unwrap();
            for i in 0..row.len() {
                from_m.push((row.g(i), row.end(i)));
                if i > 0 {
                    assert!(
                        row.start(i - 1) <= row.start(i),
                        "{}: M row out of order",
                        p.display()
                    );
                }
            }
            rows_seen += row.len();
        }
        from_g.sort_unstable();
        from_m.sort_unstable();
        assert_eq!(from_g, from_m, "{}", p.display());
    }
    assert!(rows_seen > 0, "no syscalls in the corpus");
}

#[test]
fn thread_levels_keep_every_span() {
    let mut ix = named("syscalls.trace");
    ix.rebuild_levels(0);
    assert!(ix.threads().iter().any(|t| !t.1.levels.is_empty()));
    for m in 0..ix.thread_ids.len() {
        let row = ix.thread_row(m).unwrap();
        let (a, z) = (ix.t0, ix.t1 + 1);
        let v = api::tile(&ix, &format!("thread:{m}"), a, z, 40).unwrap();
        let n = tile_spans(&v);
        assert_eq!(n, row.len(), "thread row {m}");
    }
}
