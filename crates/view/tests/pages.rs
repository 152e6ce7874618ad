//! The analysis pages' HTTP API, checked against `gotrace-analysis` on the
//! corpus traces.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use gotrace_analysis::gc::GcAnalyzer;
use gotrace_analysis::pprof::{region_intervals, IntervalProfiler, ProfileKind};
use gotrace_analysis::summary::{RegionFilter, Summarizer, TaskFilter};
use gotrace_view::pages::{self, Pages};
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/traces/go1.27")
        .join(name)
}

fn app(name: &str) -> (Router, Arc<Pages>) {
    let p = Pages::new(&trace(name), None);
    p.compute_now().unwrap();
    (pages::routes(p.clone()), p)
}

fn events(name: &str, mut f: impl FnMut(&gotrace::Event<'_>)) {
    let mut r = gotrace::Reader::open(trace(name)).unwrap();
    while let Some(ev) = r.read_event().unwrap() {
        f(&ev);
    }
}

fn summary(name: &str) -> gotrace_analysis::summary::Summary {
    let mut s = Summarizer::new();
    events(name, |ev| s.event(ev));
    s.finish()
}

async fn get_raw(app: &Router, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ct, body)
}

async fn get(app: &Router, uri: &str) -> Value {
    let (st, ct, body) = get_raw(app, uri).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ct.as_deref(), Some("application/json"), "{uri}");
    serde_json::from_slice(&body).unwrap()
}

fn esc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[tokio::test]
async fn loading_answers_503_then_ready() {
    let p = Pages::new(&trace("gc.trace"), None);
    let app = pages::routes(p.clone());
    // Nothing is computed until a page asks.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(p.analyses().is_none());
    let (st, ct, body) = get_raw(&app, "/api/pages/gc").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ct.as_deref(), Some("application/json"));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["loading"], true);
    for _ in 0..600 {
        if get(&app, "/api/pages/status").await["ready"] == true {
            get(&app, "/api/pages/gc").await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("analyses never ready");
}

#[tokio::test]
async fn goroutine_groups_match_the_summary() {
    for name in ["annotations.trace", "net.trace"] {
        let (app, _) = app(name);
        let s = summary(name);
        let v = get(&app, "/api/pages/goroutine-groups").await;
        let groups = s.goroutine_groups();
        let got = v["groups"].as_array().unwrap();
        assert_eq!(got.len(), groups.len());
        for (g, w) in got.iter().zip(&groups) {
            assert_eq!(g["name"], String::from_utf8_lossy(s.str(w.name)).as_ref());
            assert_eq!(g["count"], w.count);
            assert_eq!(g["exec"], w.exec_time);
        }
        // Each group's page has its goroutines, in the library's order.
        for w in &groups {
            let n = String::from_utf8_lossy(s.str(w.name)).into_owned();
            let page = s.goroutine_group(s.str(w.name), "");
            let v = get(
                &app,
                &format!("/api/pages/goroutine-group?name={}", esc(&n)),
            )
            .await;
            assert_eq!(v["count"], page.count);
            assert_eq!(v["exec"], page.exec_time);
            let rows = v["rows"].as_array().unwrap();
            assert_eq!(rows.len(), page.rows.len());
            for (r, w) in rows.iter().zip(&page.rows) {
                assert_eq!(r["id"], w.id);
                assert_eq!(r["total"], w.row.total_time);
                assert_eq!(r["stats"], serde_json::json!(w.row.stats));
            }
            assert_eq!(v["columns"]["stats"], serde_json::json!(page.columns.stats));
            // Sorted by a column.
            if let Some(col) = page.columns.stats.get(1) {
                let sorted = s.goroutine_group(s.str(w.name), col);
                let v = get(
                    &app,
                    &format!(
                        "/api/pages/goroutine-group?name={}&sort={}",
                        esc(&n),
                        esc(col)
                    ),
                )
                .await;
                let ids: Vec<i64> = v["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_i64().unwrap())
                    .collect();
                let want: Vec<i64> = sorted.rows.iter().map(|r| r.id).collect();
                assert_eq!(ids, want);
            }
        }
    }
}

fn flame_sum(v: &Value) -> (i64, u64) {
    (v["d"].as_i64().unwrap(), v["c"].as_u64().unwrap())
}

#[tokio::test]
async fn profiles_match_the_library() {
    for name in ["net.trace", "annotations.trace"] {
        let (app, p) = app(name);
        let a = p.analyses().unwrap();
        for kind in ProfileKind::ALL {
            let prof = a.profiles.profile(kind, None).unwrap();
            let (count, delay) = prof.totals();
            let v = get(&app, &format!("/api/pages/profile?kind={}", kind.name())).await;
            assert_eq!(v["delay"], delay, "{name} {kind:?}");
            assert_eq!(v["count"], count);
            assert_eq!(flame_sum(&v["root"]), (delay, count), "{name} {kind:?}");
            // Children never exceed the parent.
            fn check(n: &Value) {
                let d: i64 = n["ch"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["d"].as_i64().unwrap())
                    .sum();
                assert!(d <= n["d"].as_i64().unwrap());
                n["ch"].as_array().unwrap().iter().for_each(check);
            }
            check(&v["root"]);
            // Unfolded (min=0), the root's children, "(no stack)" included,
            // account for all of it.
            let v0 = get(
                &app,
                &format!("/api/pages/profile?kind={}&min=0", kind.name()),
            )
            .await;
            let ch: i64 = v0["root"]["ch"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["d"].as_i64().unwrap())
                .sum();
            assert_eq!(ch, delay, "{name} {kind:?}");
            // The download decodes to the same totals.
            let (st, _, gz) = get_raw(
                &app,
                &format!("/api/pages/profile.pb.gz?kind={}", kind.name()),
            )
            .await;
            assert_eq!(st, StatusCode::OK);
            let res = app
                .clone()
                .oneshot(
                    Request::get(format!("/api/pages/profile.pb.gz?kind={}", kind.name()))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let cd = res.headers()[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .to_string();
            assert!(cd.starts_with("attachment;"), "{cd}");
            assert_eq!(gz, prof.to_pprof());
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut raw)
                .unwrap();
            let pb =
                <gotrace_analysis::pprof::proto::PprofProfile as prost::Message>::decode(&raw[..])
                    .unwrap();
            let (c, d) = pb
                .sample
                .iter()
                .fold((0i64, 0i64), |(c, d), s| (c + s.value[0], d + s.value[1]));
            assert_eq!((c as u64, d), (count, delay));
        }
        // Per group.
        for g in a.profiles.groups().take(5).collect::<Vec<_>>() {
            let prof = a.profiles.profile(ProfileKind::Sched, Some(g)).unwrap();
            let v = get(
                &app,
                &format!("/api/pages/profile?kind=sched&group={}", esc(g)),
            )
            .await;
            assert_eq!(v["delay"], prof.totals().1);
        }
        let (st, _, _) = get_raw(&app, "/api/pages/profile?kind=sched&group=nope.nope").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _, _) = get_raw(&app, "/api/pages/profile?kind=bogus").await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn region_and_window_profiles() {
    let name = "annotations.trace";
    let (app, p) = app(name);
    let a = p.analyses().unwrap();
    let types = a.summary.region_types();
    assert!(!types.is_empty());
    let t = &types[0];
    let typ = String::from_utf8_lossy(a.summary.str(t.name)).into_owned();
    let filter = RegionFilter {
        typ: Some(typ.as_bytes().to_vec()),
        pc: Some(t.frame.pc),
        ..Default::default()
    };
    let mut ip = IntervalProfiler::new(region_intervals(&a.summary, &filter), None);
    events(name, |ev| ip.event(ev));
    let ip = ip.finish();
    for kind in ProfileKind::ALL {
        let want = ip.profile(kind).totals();
        let v = get(
            &app,
            &format!(
                "/api/pages/profile?kind={}&region={}&pc={:x}",
                kind.name(),
                esc(&typ),
                t.frame.pc
            ),
        )
        .await;
        assert_eq!(
            (v["count"].as_u64().unwrap(), v["delay"].as_i64().unwrap()),
            want
        );
    }
    // A window narrows the whole-trace profile.
    let whole = a
        .profiles
        .profile(ProfileKind::Sched, None)
        .unwrap()
        .totals()
        .1;
    let dur = a.summary.end_time - a.summary.start_time;
    let v = get(
        &app,
        &format!("/api/pages/profile?kind=sched&from=0&to={}", dur / 2),
    )
    .await;
    assert!(v["delay"].as_i64().unwrap() <= whole);
}

#[tokio::test]
async fn tasks_and_regions_match_the_summary() {
    let name = "annotations.trace";
    let (app, _) = app(name);
    let s = summary(name);
    let v = get(&app, "/api/pages/task-types").await;
    let types = s.task_types();
    let got = v["types"].as_array().unwrap();
    assert_eq!(got.len(), types.len());
    for (g, w) in got.iter().zip(&types) {
        assert_eq!(g["count"], w.count);
        assert_eq!(g["histogram"]["count"], w.histogram.count);
        let buckets = g["histogram"]["buckets"].as_array().unwrap();
        let rows = w.histogram.rows();
        assert_eq!(buckets.len(), rows.len());
        for (b, r) in buckets.iter().zip(&rows) {
            assert_eq!(b["min"], r.min);
            assert_eq!(b["max"], r.next_min);
            assert_eq!(b["count"], r.count);
        }
    }
    let all = get(&app, "/api/pages/tasks").await;
    assert_eq!(all["total"], s.tasks(&TaskFilter::default()).tasks.len());
    // Filters narrow the list, as the library's do.
    let t0 = &types.iter().find(|t| t.histogram.count > 0).unwrap();
    let typ = String::from_utf8_lossy(s.str(t0.name)).into_owned();
    let b = &t0
        .histogram
        .rows()
        .into_iter()
        .find(|b| b.count > 0)
        .unwrap();
    let v = get(
        &app,
        &format!(
            "/api/pages/tasks?type={}&complete=1&latmin={}ns&latmax={}ns",
            esc(&typ),
            b.min,
            b.next_min
        ),
    )
    .await;
    let want = s.tasks(&TaskFilter {
        typ: Some(typ.as_bytes().to_vec()),
        complete: Some(true),
        latmin: Some(b.min),
        latmax: Some(b.next_min),
        logtext: None,
    });
    assert_eq!(v["total"], want.tasks.len());
    assert!(v["total"].as_u64().unwrap() <= all["total"].as_u64().unwrap());
    let ids: Vec<u64> = v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, want.tasks.iter().map(|t| t.id).collect::<Vec<_>>());
    let v = get(&app, "/api/pages/tasks?logtext=zzz-no-such-text").await;
    assert_eq!(v["total"], 0);

    let v = get(&app, "/api/pages/region-types").await;
    let rtypes = s.region_types();
    let got = v["types"].as_array().unwrap();
    assert_eq!(got.len(), rtypes.len());
    for (g, w) in got.iter().zip(&rtypes) {
        assert_eq!(g["count"], w.histogram.count);
        assert_eq!(g["pc"], format!("{:x}", w.frame.pc));
        let typ = String::from_utf8_lossy(s.str(w.name)).into_owned();
        let v = get(
            &app,
            &format!("/api/pages/regions?type={}&pc={:x}", esc(&typ), w.frame.pc),
        )
        .await;
        let page = s.regions(
            &RegionFilter {
                typ: Some(typ.into_bytes()),
                pc: Some(w.frame.pc),
                ..Default::default()
            },
            "",
        );
        assert_eq!(v["total"], page.rows.len());
        assert_eq!(v["total"], w.histogram.count);
        let gs: Vec<i64> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["goroutine"].as_i64().unwrap())
            .collect();
        assert_eq!(
            gs,
            page.rows.iter().map(|r| r.goroutine).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn gc_matches_the_report() {
    for name in ["gc.trace", "net.trace"] {
        let (app, _) = app(name);
        let mut g = GcAnalyzer::new();
        events(name, |ev| {
            g.event(ev);
        });
        let r = g.finish();
        let v = get(&app, "/api/pages/gc").await;
        assert_eq!(v["pauses"].as_array().unwrap().len(), r.pauses.len());
        assert_eq!(v["cycles"].as_array().unwrap().len(), r.cycles.len());
        assert_eq!(v["longPauses"], r.pauses_over(1_000_000).len());
        let in_hist: u64 = v["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[1].as_u64().unwrap())
            .sum();
        assert_eq!(in_hist as usize, r.pauses.len());
        assert_eq!(v["pauseTotal"], r.pauses.len());
        let longest: Vec<i64> = v["longest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["duration"].as_i64().unwrap())
            .collect();
        assert_eq!(
            longest,
            r.pauses_over(1_000_000)
                .iter()
                .map(|p| p.duration)
                .collect::<Vec<_>>()
        );
        if let Some(st) = r.pause_stats() {
            assert_eq!(v["stats"]["p99"], st.p99);
            assert_eq!(v["stats"]["max"], st.max);
            assert_eq!(v["stats"]["count"], st.count);
        }
        // A lower highlight threshold.
        let v100 = get(&app, "/api/pages/gc?long=100us").await;
        assert_eq!(v100["longPause"], 100_000);
        assert_eq!(v100["longPauses"], r.pauses_over(100_000).len());
        let marked = v100["pauses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["long"] == true)
            .count();
        assert_eq!(marked, r.pauses_over(100_000).len());
        let t0 = v["t0"].as_i64().unwrap();
        for (p, w) in v["pauses"].as_array().unwrap().iter().zip(&r.pauses) {
            assert_eq!(p["start"].as_i64().unwrap() + t0, w.start);
            assert_eq!(p["duration"], w.duration);
            assert_eq!(p["long"], w.duration >= 1_000_000);
        }
    }
}

#[tokio::test]
async fn mmu_matches_the_library() {
    use gotrace_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags};
    let name = "gc.trace";
    let (app, _) = app(name);
    for flags in ["stw|background|assist|sweep", "perProc|stw", ""] {
        let mut mu = MutatorUtil::new(UtilFlags::from_query(flags));
        events(name, |ev| mu.event(ev));
        let curve = MmuCurve::new(&mu.finish());
        let plot = curve.plot(false).unwrap();
        let v = get(
            &app,
            &format!("/api/pages/mmu?flags={}&window=1000000", esc(flags)),
        )
        .await;
        let got = v["curve"].as_array().unwrap();
        assert_eq!(got.len(), plot.points.len());
        for (g, w) in got.iter().zip(&plot.points) {
            assert_eq!(g[0], w.window);
            assert_eq!(g[1].as_f64().unwrap(), w.values[0]);
        }
        assert_eq!(v["mmu"].as_f64().unwrap(), curve.mmu(1_000_000));
        let worst = curve.details(1_000_000);
        assert_eq!(v["worst"].as_array().unwrap().len(), worst.len());
    }
}

#[tokio::test]
async fn pages_are_served_with_embedded_assets_only() {
    let (app, _) = app("gc.trace");
    for path in pages::PAGE_PATHS {
        let (st, ct, body) = get_raw(&app, path).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        assert!(ct.unwrap().starts_with("text/html"));
        let html = String::from_utf8(body).unwrap();
        // Every src/href is a local asset that is served.
        for attr in ["src=\"", "href=\""] {
            for part in html.split(attr).skip(1) {
                let url = &part[..part.find('"').unwrap()];
                if url.starts_with('#') || url.starts_with("data:") {
                    continue;
                }
                assert!(
                    url.starts_with('/') && !url.starts_with("//"),
                    "{path}: {url}"
                );
                if url.ends_with(".js") || url.ends_with(".css") {
                    let (st, _, b) = get_raw(&app, url).await;
                    assert_eq!(st, StatusCode::OK, "{url}");
                    assert!(!b.is_empty());
                }
            }
        }
    }
    // Our script writes trace strings as text only.
    let (_, _, js) = get_raw(&app, "/pages.js").await;
    let js = String::from_utf8(js).unwrap();
    assert!(!js.contains("innerHTML"), "pages.js must not use innerHTML");
}

#[test]
fn page_times_share_the_timelines_origin() {
    // Links into the timeline give times relative to the summary's start;
    // the timeline's are relative to its index's t0: they must agree.
    for name in ["annotations.trace", "net.trace", "gc.trace"] {
        let ix = gotrace_view::load(&trace(name), &mut |_, _| {}).unwrap();
        let s = summary(name);
        assert_eq!(ix.t0, s.start_time, "{name}");
    }
}

#[tokio::test]
async fn every_endpoint_answers_on_every_corpus_trace() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus/traces/go1.27");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".trace"))
        .collect();
    names.sort();
    for name in names {
        let (app, _) = app(&name);
        for uri in [
            "/api/pages/status",
            "/api/pages/goroutine-groups",
            "/api/pages/goroutine-group?name=main.main",
            "/api/pages/task-types",
            "/api/pages/tasks",
            "/api/pages/region-types",
            "/api/pages/regions",
            "/api/pages/gc",
            "/api/pages/mmu",
            "/api/pages/mmu?flags=perProc|stw&window=100000",
            "/api/pages/profile?kind=net",
            "/api/pages/profile?kind=sync",
            "/api/pages/profile?kind=syscall",
            "/api/pages/profile?kind=sched&from=0&to=1000000",
        ] {
            let (st, ct, body) = get_raw(&app, uri).await;
            assert_eq!(
                st,
                StatusCode::OK,
                "{name} {uri}: {}",
                String::from_utf8_lossy(&body)
            );
            assert_eq!(ct.as_deref(), Some("application/json"));
            let _: Value = serde_json::from_slice(&body).unwrap();
        }
    }
}
