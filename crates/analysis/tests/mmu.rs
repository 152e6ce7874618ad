//! MMU against the reference: for every corpus trace and every `/mmu` URL
//! captured from Go 1.27.3's `go tool trace` (corpus/golden/<ver>/<name>.analysis/index.tsv),
//! recompute the response and compare it with the captured body.
//!
//! Tolerance: none. The bodies must be byte-identical: the computation
//! repeats the reference's float operations in the same order (and Go's
//! amd64 `math.Exp`/`math.Log` for the window sizes), and the JSON floats
//! are the shortest round-trip representations, so equal bytes mean equal
//! float64 values. On a mismatch the report names the trace, URL, flags,
//! window and each differing value (ours / theirs / difference), parsed
//! from both bodies.
//!
//! Run: `cargo test --release -p gotrace-analysis --test mmu`.

mod common;
use common::{corpus, gunzip, par_map, traces};
use gotrace_analysis::mmu::{
    details_json, parse_window, query_wants_quantiles, MmuCurve, MmuError, MutatorUtil, UtilFlags,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// A captured MMU request.
struct Captured {
    url: String,
    /// `mode` parameter.
    mode: String,
    /// `flags` parameter, URL-decoded.
    flags: String,
    /// `window` parameter, URL-decoded, if any.
    window: Option<String>,
    status: String,
    body: Vec<u8>,
}

/// Decodes a query component like Go's `url.QueryUnescape` (`+` is a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(h, 16).expect("bad escape"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("utf-8 query")
}

/// The `/mmu` requests of a trace's goldens.
fn captured(dir: &Path) -> Vec<Captured> {
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let mut out = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, url, status) = (cols[0], cols[1], cols[2]);
        let Some(query) = url.strip_prefix("/mmu?") else {
            continue;
        };
        let mut params = BTreeMap::new();
        for kv in query.split('&') {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            params.entry(unescape(k)).or_insert_with(|| unescape(v));
        }
        out.push(Captured {
            url: url.to_string(),
            mode: params.get("mode").cloned().unwrap_or_default(),
            flags: params.get("flags").cloned().unwrap_or_default(),
            window: params.get("window").cloned(),
            status: status.to_string(),
            body: gunzip(&dir.join(file)),
        });
    }
    out
}

/// Every number in a JSON value, in document order, with its path.
fn numbers(v: &Value, path: &mut String, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => out.push((path.clone(), n.as_f64().unwrap())),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let l = path.len();
                path.push_str(&format!("[{i}]"));
                numbers(x, path, out);
                path.truncate(l);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let l = path.len();
                path.push_str(&format!(".{k}"));
                numbers(x, path, out);
                path.truncate(l);
            }
        }
        _ => {}
    }
}

/// Explains how two bodies differ, value by value.
fn explain(ours: &str, theirs: &[u8]) -> String {
    let theirs_s = String::from_utf8_lossy(theirs);
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<Value>(ours),
        serde_json::from_slice::<Value>(theirs),
    ) else {
        return format!("bodies differ:\n  ours:   {ours:?}\n  theirs: {theirs_s:?}");
    };
    let (mut na, mut nb) = (Vec::new(), Vec::new());
    numbers(&a, &mut String::new(), &mut na);
    numbers(&b, &mut String::new(), &mut nb);
    let mut lines = Vec::new();
    if na.len() != nb.len() {
        lines.push(format!("  {} numbers ours, {} theirs", na.len(), nb.len()));
    }
    for ((pa, va), (pb, vb)) in na.iter().zip(&nb) {
        if pa != pb || va.to_bits() != vb.to_bits() {
            lines.push(format!(
                "  {pa}: ours {va:?} theirs {vb:?} (diff {:e})",
                va - vb
            ));
        }
    }
    if lines.is_empty() {
        lines.push(format!(
            "  same numbers, other bytes:\n  ours:   {ours:?}\n  theirs: {theirs_s:?}"
        ));
    }
    lines.truncate(12);
    lines.join("\n")
}

/// Largest absolute difference between the numbers of two JSON bodies.
fn max_dev(ours: &str, theirs: &[u8]) -> f64 {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<Value>(ours),
        serde_json::from_slice::<Value>(theirs),
    ) else {
        return f64::NAN;
    };
    let (mut na, mut nb) = (Vec::new(), Vec::new());
    numbers(&a, &mut String::new(), &mut na);
    numbers(&b, &mut String::new(), &mut nb);
    na.iter()
        .zip(&nb)
        .map(|((_, x), (_, y))| (x - y).abs())
        .fold(0.0, f64::max)
}

#[derive(Default)]
struct Tally {
    traces: usize,
    pairs: usize,
    matched: usize,
    unreadable: Vec<String>,
    failures: Vec<String>,
    max_dev: f64,
}

/// Reads a trace once, feeding one [`MutatorUtil`] per distinct flag set.
fn utilizations(path: &Path, flag_sets: &[UtilFlags]) -> Result<Vec<MmuCurve>, String> {
    let mut builders: Vec<MutatorUtil> = flag_sets.iter().map(|&f| MutatorUtil::new(f)).collect();
    let mut r = gotrace::Reader::open(path).map_err(|e| e.to_string())?;
    while let Some(ev) = r.read_event().map_err(|e| e.to_string())? {
        for b in &mut builders {
            b.event(&ev);
        }
    }
    Ok(builders
        .into_iter()
        .map(|b| {
            assert_eq!(
                b.ignored_procs(),
                0,
                "{}: events on Ps beyond GOMAXPROCS",
                path.display()
            );
            MmuCurve::new(&b.finish())
        })
        .collect())
}

fn check_trace(ver: &str, name: &str, tally: &Mutex<Tally>) {
    let label = format!("{ver}/{name}");
    let trace = corpus()
        .join("traces")
        .join(ver)
        .join(format!("{name}.trace"));
    let caps = captured(
        &corpus()
            .join("golden")
            .join(ver)
            .join(format!("{name}.analysis")),
    );
    assert!(!caps.is_empty(), "{label}: no /mmu goldens");

    let mut flag_sets: Vec<UtilFlags> = caps
        .iter()
        .map(|c| UtilFlags::from_query(&c.flags))
        .collect();
    flag_sets.sort_by_key(|f| format!("{f:?}"));
    flag_sets.dedup();
    let curves = match utilizations(&trace, &flag_sets) {
        Ok(c) => c,
        Err(e) if ver == "go1.21" => {
            let mut t = tally.lock().unwrap();
            t.traces += 1;
            t.pairs += caps.len();
            t.unreadable
                .push(format!("{label}: SKIPPED, cannot read go1.21 trace: {e}"));
            return;
        }
        Err(e) => panic!("{label}: cannot read trace: {e}"),
    };
    let curve_of = |flags: &str| {
        let f = UtilFlags::from_query(flags);
        &curves[flag_sets.iter().position(|&x| x == f).unwrap()]
    };

    let mut failures = Vec::new();
    let mut matched = 0;
    let mut dev = 0.0f64;
    for c in &caps {
        let what = format!(
            "{label} {} (flags {:?}, window {:?})",
            c.url, c.flags, c.window
        );
        let curve = curve_of(&c.flags);
        let result: Result<(), String> = match (c.mode.as_str(), c.status.as_str()) {
            ("plot", "000") => {
                // The reference crashed: it must be the no-GOMAXPROCS case.
                match curve.plot(query_wants_quantiles(&c.flags)) {
                    Err(MmuError::NoUtilization) if curve.is_empty() => Ok(()),
                    other => Err(format!(
                        "reference crashed (000), we gave {:?}",
                        other.map(|p| p.to_json())
                    )),
                }
            }
            ("plot", "200") => match curve.plot(query_wants_quantiles(&c.flags)) {
                Ok(p) => {
                    let ours = p.to_json();
                    dev = dev.max(max_dev(&ours, &c.body));
                    if ours.as_bytes() == c.body {
                        Ok(())
                    } else {
                        Err(explain(&ours, &c.body))
                    }
                }
                Err(e) => Err(format!("reference answered, we failed: {e}")),
            },
            ("details", status) => {
                let w = c.window.as_deref().unwrap_or("");
                match (parse_window(w), status) {
                    (Ok(window), "200") => {
                        let ours = details_json(&curve.details(window), window, &[]);
                        dev = dev.max(max_dev(&ours, &c.body));
                        if ours.as_bytes() == c.body {
                            Ok(())
                        } else {
                            Err(explain(&ours, &c.body))
                        }
                    }
                    (Err(e), "400") => {
                        let ours = format!("{e}\n");
                        if ours.as_bytes() == c.body {
                            Ok(())
                        } else {
                            Err(format!(
                                "error body: ours {ours:?} theirs {:?}",
                                String::from_utf8_lossy(&c.body)
                            ))
                        }
                    }
                    (r, s) => Err(format!("status {s}, we parsed the window as {r:?}")),
                }
            }
            (m, s) => Err(format!("unexpected capture: mode {m:?} status {s}")),
        };
        match result {
            Ok(()) => matched += 1,
            Err(e) => failures.push(format!("{what}:\n{e}")),
        }
    }
    let mut t = tally.lock().unwrap();
    t.traces += 1;
    t.pairs += caps.len();
    t.matched += matched;
    t.max_dev = t.max_dev.max(dev);
    t.failures.extend(failures);
}

#[test]
fn mmu_matches_reference() {
    let tally = Mutex::new(Tally::default());
    par_map(|ver, name| check_trace(ver, name, &tally));
    let t = tally.into_inner().unwrap();
    for u in &t.unreadable {
        println!("{u}");
    }
    println!(
        "MMU: {} traces, {} (trace, URL) pairs, {} identical to the reference, {} differ, {} skipped (unreadable); \
         max numeric deviation {:e}",
        t.traces,
        t.pairs,
        t.matched,
        t.failures.len(),
        t.pairs - t.matched - t.failures.len(),
        t.max_dev
    );
    if !t.failures.is_empty() {
        let shown: Vec<_> = t.failures.iter().take(20).collect();
        panic!(
            "{} of {} MMU responses differ from the reference (first {}):\n{}",
            t.failures.len(),
            t.pairs,
            shown.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

/// Decision for go1.21 traces that never record GOMAXPROCS (`cgo`,
/// `httppprof`, `long`, `net`, `sched`): the reference's utilization starts
/// at the first `/sched/gomaxprocs:threads` metric, which such traces do
/// not have, so there is no series; its plot handler then panics (status
/// 000) and its details handler answers `null`. We do not invent a
/// GOMAXPROCS (any guess would give numbers the reference never produced):
/// the plot is the explicit error `MmuError::NoUtilization`, the details
/// are `null` as in the reference.
#[test]
fn go121_without_gomaxprocs_has_no_mmu() {
    let mut crashed = Vec::new();
    for (ver, name) in traces() {
        let dir = corpus()
            .join("golden")
            .join(&ver)
            .join(format!("{name}.analysis"));
        let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
        if index
            .lines()
            .any(|l| l.contains("/mmu?mode=plot") && l.split('\t').nth(2) == Some("000"))
        {
            crashed.push((ver, name));
        }
    }
    assert_eq!(
        crashed.len(),
        5,
        "expected the five go1.21 traces without GOMAXPROCS: {crashed:?}"
    );
    for (ver, name) in &crashed {
        assert_eq!(ver, "go1.21");
        let trace = corpus()
            .join("traces")
            .join(ver)
            .join(format!("{name}.trace"));
        let flags = [
            UtilFlags::STW | UtilFlags::BACKGROUND | UtilFlags::ASSIST,
            UtilFlags::PER_PROC,
        ];
        let curves = match utilizations(&trace, &flags) {
            Ok(c) => c,
            Err(e) => {
                println!("{ver}/{name}: SKIPPED, cannot read go1.21 trace: {e}");
                continue;
            }
        };
        for c in &curves {
            assert!(c.is_empty(), "{ver}/{name}: expected no utilization series");
            let err = c.plot(false).unwrap_err();
            assert_eq!(err, MmuError::NoUtilization);
            assert!(err.to_string().contains("GOMAXPROCS"));
            assert_eq!(
                details_json(&c.details(1_000_000), 1_000_000, &[]),
                "null\n"
            );
        }
    }
}
