//! Blocking profiles against the reference. For every corpus trace, the
//! profiles Go 1.27.3's `go tool trace` wrote (`-pprof=net|sync|syscall|sched`,
//! and its pages `/io`, `/block`, `/syscall`, `/sched` per goroutine group
//! and `/regionio` ... `/regionsched` per region filter, all with `raw=1`;
//! see corpus/ANALYSIS-GOLDENS.md) are decoded and compared with ours.
//!
//! The reference writes samples, locations and strings in Go map order, so
//! profiles are compared canonically: each sample as its stack of
//! (address, function, file, line) frames plus its values, as a sorted
//! list. No tolerance on the values.
//!
//! Run: `cargo test --release -p gotrace-analysis --test pprof`.

mod common;
use common::{corpus, gunzip, traces};
use flate2::read::GzDecoder;
use gotrace_analysis::goformat::Query;
use gotrace_analysis::pprof::proto::{build, PprofProfile};
use gotrace_analysis::pprof::{
    goroutine_intervals, region_intervals, BlockingProfiler, IntervalProfiler, Profile, ProfileKind,
};
use gotrace_analysis::summary::{RegionFilter, Summarizer};
use prost::Message;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

type Frame = (u64, String, String, i64);
type Canon = Vec<(Vec<Frame>, Vec<i64>)>;

fn canon(p: &PprofProfile) -> Canon {
    let s = |i: i64| p.string_table[i as usize].clone();
    let funcs: BTreeMap<u64, _> = p.function.iter().map(|f| (f.id, f)).collect();
    let locs: BTreeMap<u64, _> = p.location.iter().map(|l| (l.id, l)).collect();
    let mut out: Canon = p
        .sample
        .iter()
        .map(|smp| {
            let frames = smp
                .location_id
                .iter()
                .map(|id| {
                    let l = locs[id];
                    assert_eq!(l.line.len(), 1, "one line per location");
                    let f = funcs[&l.line[0].function_id];
                    (l.address, s(f.name), s(f.filename), l.line[0].line)
                })
                .collect();
            (frames, smp.value.clone())
        })
        .collect();
    out.sort();
    out
}

fn golden_profile(path: &Path) -> Canon {
    let raw = gunzip(path);
    let p = PprofProfile::decode(&raw[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The reference's sample types, which ours must carry too.
    let st: Vec<_> = p
        .sample_type
        .iter()
        .map(|v| {
            (
                p.string_table[v.r#type as usize].as_str(),
                p.string_table[v.unit as usize].as_str(),
            )
        })
        .collect();
    assert_eq!(st, [("contentions", "count"), ("delay", "nanoseconds")]);
    canon(&p)
}

fn ours(p: &Profile<'_>) -> Canon {
    // Round-trip through the gzipped bytes we write.
    let mut raw = Vec::new();
    GzDecoder::new(&p.to_pprof()[..])
        .read_to_end(&mut raw)
        .unwrap();
    let decoded = PprofProfile::decode(&raw[..]).unwrap();
    assert_eq!(decoded, build(p));
    canon(&decoded)
}

fn describe(c: &Canon) -> String {
    let (n, d) = c.iter().fold((0, 0), |(n, d), (_, v)| (n + v[0], d + v[1]));
    format!("{} samples, {n} intervals, {d} ns", c.len())
}

struct Request {
    file: String,
    path: String,
    query: Query,
    raw_query: String,
    status: String,
}

fn requests(dir: &Path) -> Vec<Request> {
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (path, raw) = cols[1].split_once('?').unwrap_or((cols[1], ""));
            let page = path.trim_start_matches('/');
            let page = page.strip_prefix("region").unwrap_or(page);
            ProfileKind::from_name(page)?;
            let (query, err) = Query::parse(raw);
            assert!(err.is_none(), "{}: {err:?}", cols[1]);
            Some(Request {
                file: cols[0].to_string(),
                path: path.to_string(),
                query,
                raw_query: raw.to_string(),
                status: cols[2].to_string(),
            })
        })
        .collect()
}

fn read_all(path: &Path, mut f: impl FnMut(&gotrace::Event<'_>)) {
    let mut r = gotrace::Reader::open(path).unwrap();
    while let Some(ev) = r.read_event().unwrap() {
        f(&ev);
    }
}

#[test]
fn blocking_profiles_equal_the_reference_on_every_corpus_trace() {
    let all = traces();
    assert!(all.len() >= 60, "only {} traces", all.len());
    let (mut checked, mut failures) = (0usize, Vec::new());
    for (ver, name) in &all {
        let trace = corpus()
            .join("traces")
            .join(ver)
            .join(format!("{name}.trace"));
        let dir = corpus()
            .join("golden")
            .join(ver)
            .join(format!("{name}.analysis"));
        let mut summarizer = Summarizer::new();
        let mut profiler = BlockingProfiler::new();
        read_all(&trace, |ev| {
            summarizer.event(ev);
            profiler.event(ev);
        });
        let summary = summarizer.finish();
        let profiles = profiler.finish();
        let mut check = |what: String, golden: Canon, ours: Canon| {
            checked += 1;
            if golden != ours {
                let first = golden.iter().zip(&ours).find(|(a, b)| a != b);
                failures.push(format!(
                    "{ver}/{name} {what}: reference {}, ours {}; first difference {first:?}",
                    describe(&golden),
                    describe(&ours)
                ));
            }
        };

        // `go tool trace -pprof=KIND`.
        for kind in ProfileKind::ALL {
            let golden = golden_profile(&dir.join(format!("pprof-{}.pb.gz", kind.name())));
            let p = profiles.profile(kind, None).unwrap();
            check(format!("-pprof={}", kind.name()), golden, ours(&p));
        }

        // The pages, grouped by region filter so each needs one pass.
        let mut by_filter: BTreeMap<String, Vec<Request>> = BTreeMap::new();
        for req in requests(&dir) {
            let kind = ProfileKind::from_name(
                req.path
                    .trim_start_matches('/')
                    .trim_start_matches("region"),
            )
            .unwrap();
            if req.path.starts_with("/region") {
                let mut q = req.raw_query.clone();
                q = q.replace("&raw=1", "").replace("raw=1", "");
                by_filter.entry(q).or_default().push(req);
                continue;
            }
            // An empty name selects every goroutine, as no name does.
            let group = req
                .query
                .first("name")
                .filter(|n| !n.is_empty())
                .map(|n| String::from_utf8_lossy(n).into_owned());
            match profiles.profile(kind, group.as_deref()) {
                Ok(p) => {
                    assert_eq!(req.status, "200", "{}: we found goroutines", req.file);
                    check(
                        format!("{}?{}", req.path, req.raw_query),
                        golden_profile(&dir.join(&req.file)),
                        ours(&p),
                    );
                }
                Err(e) => {
                    assert_eq!(req.status, "500", "{}: {e}", req.file);
                    let body = String::from_utf8(gunzip(&dir.join(&req.file))).unwrap();
                    let want = format!("failed to get records: {e}\n");
                    check(
                        format!("{} error", req.path),
                        vec![(vec![], vec![body.len() as i64])],
                        vec![(vec![], vec![want.len() as i64])],
                    );
                    assert_eq!(body, want);
                }
            }
        }
        for reqs in by_filter.values() {
            let filter = RegionFilter::from_query(&reqs[0].query);
            let mut p = IntervalProfiler::new(region_intervals(&summary, &filter), None);
            read_all(&trace, |ev| p.event(ev));
            let p = p.finish();
            for req in reqs {
                let kind = ProfileKind::from_name(&req.path["/region".len()..]).unwrap();
                assert_eq!(req.status, "200", "{}", req.file);
                check(
                    format!("{}?{}", req.path, req.raw_query),
                    golden_profile(&dir.join(&req.file)),
                    ours(&p.profile(kind)),
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} profiles differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 4500, "only {checked} profiles checked");
    eprintln!("{checked} profiles equal the reference's");
}

/// The one-pass profiler (lifetimes tracked on the fly, with aggregates
/// per goroutine) agrees with the general interval computation given the
/// summary's goroutine lifetimes, for whole traces and for time windows.
#[test]
fn one_pass_profiles_equal_the_interval_computation() {
    for (ver, name) in traces() {
        let trace = corpus()
            .join("traces")
            .join(&ver)
            .join(format!("{name}.trace"));
        let mut summarizer = Summarizer::new();
        read_all(&trace, |ev| summarizer.event(ev));
        let summary = summarizer.finish();
        let (t0, t1) = (summary.start_time, summary.end_time);
        let third = (t1 - t0) / 3;
        for window in [None, Some((t0 + third, t1 - third))] {
            let mut one = match window {
                None => BlockingProfiler::new(),
                Some((a, b)) => BlockingProfiler::with_window(a, b),
            };
            let mut general = IntervalProfiler::new(goroutine_intervals(&summary, None), window);
            read_all(&trace, |ev| {
                one.event(ev);
                general.event(ev);
            });
            let (one, general) = (one.finish(), general.finish());
            for kind in ProfileKind::ALL {
                assert_eq!(
                    ours(&one.profile(kind, None).unwrap()),
                    ours(&general.profile(kind)),
                    "{ver}/{name} {kind:?} window {window:?}"
                );
            }
        }
    }
}

/// A time window counts only blocked time inside it: two adjacent windows
/// add up to the whole trace's delay, and a window over nothing is empty.
#[test]
fn time_windows_split_blocked_time_exactly() {
    let trace = corpus().join("traces/go1.27/net.trace");
    let summary = {
        let mut s = Summarizer::new();
        read_all(&trace, |ev| s.event(ev));
        s.finish()
    };
    let (t0, t1) = (summary.start_time, summary.end_time);
    let mid = t0 + (t1 - t0) / 2;
    let run = |p: &mut BlockingProfiler| read_all(&trace, |ev| p.event(ev));
    let mut whole = BlockingProfiler::new();
    let mut first = BlockingProfiler::with_window(t0, mid);
    let mut second = BlockingProfiler::with_window(mid, t1);
    let mut empty = BlockingProfiler::with_window(t1 + 1, t1 + 1000);
    for p in [&mut whole, &mut first, &mut second, &mut empty] {
        run(p);
    }
    let (whole, first, second, empty) = (
        whole.finish(),
        first.finish(),
        second.finish(),
        empty.finish(),
    );
    let mut nonzero = 0;
    for kind in ProfileKind::ALL {
        let d = |p: &gotrace_analysis::pprof::BlockingProfiles| {
            p.profile(kind, None).unwrap().totals().1
        };
        assert_eq!(d(&first) + d(&second), d(&whole), "{kind:?}");
        assert!(d(&first) < d(&whole) || d(&second) == 0, "{kind:?}");
        assert_eq!(
            empty.profile(kind, None).unwrap().samples,
            vec![],
            "{kind:?}"
        );
        nonzero += (d(&whole) > 0) as usize;
    }
    assert!(
        nonzero >= 3,
        "the net trace blocks on net, sync and sched at least"
    );
}

/// A flame graph holds the profile's totals at the root, every node's
/// delay is at least the sum of its children's, and the root's children
/// are the outermost frames.
#[test]
fn flame_graphs_sum_up_the_stacks() {
    let trace = corpus().join("traces/go1.27/net.trace");
    let mut p = BlockingProfiler::new();
    read_all(&trace, |ev| p.event(ev));
    let profiles = p.finish();
    let prof = profiles.profile(ProfileKind::Sync, None).unwrap();
    let (count, delay) = prof.totals();
    let g = prof.flame_graph(0.0);
    assert_eq!((g.count, g.delay), (count, delay));
    fn check(n: &gotrace_analysis::pprof::FlameNode) -> usize {
        let sum: i64 = n.children.iter().map(|c| c.delay).sum();
        assert!(sum <= n.delay, "{}: children {sum} > {}", n.func, n.delay);
        assert!(n.children.windows(2).all(|w| w[0].delay >= w[1].delay));
        1 + n.children.iter().map(check).sum::<usize>()
    }
    let nodes = check(&g);
    let outermost: std::collections::BTreeSet<_> = prof
        .samples
        .iter()
        .filter_map(|s| prof.stacks.frames(s.stack).last().map(|f| f.func.clone()))
        .collect();
    let roots: std::collections::BTreeSet<_> = g.children.iter().map(|c| c.func.clone()).collect();
    assert_eq!(roots, outermost);
    // Folding small nodes keeps the totals and shrinks the graph.
    let folded = prof.flame_graph(0.05);
    assert_eq!(folded.delay, delay);
    assert!(check(&folded) < nodes);
}
