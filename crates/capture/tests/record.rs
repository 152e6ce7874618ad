//! The rolling recorder against fake servers on loopback: rotation by
//! count and size, triggers (including `stw>…` on a corpus trace with known
//! pauses), stopping, and leaving nothing half-done behind.

mod common;

use common::*;
use gotrace_capture::{
    is_recorded_name, longest_stw, record, stw_pauses, BoxError, Condition, RecordError,
    RecordEvent, RecordOptions, StopReason,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn opts(url: String, dir: &Path, iterations: u64) -> RecordOptions {
    let mut o = RecordOptions::new(url, dir);
    o.every = Duration::from_millis(20);
    o.seconds = Duration::from_secs(1);
    o.max_iterations = Some(iterations);
    o.capture = quick_opts();
    o
}

/// Runs the recorder, returning the summary and the paths it reported kept, in order.
fn run(o: RecordOptions) -> (gotrace_capture::RecordSummary, Vec<PathBuf>, Vec<PathBuf>) {
    let mut kept = Vec::new();
    let mut deleted = Vec::new();
    let s = record(o, &mut |ev| match ev {
        RecordEvent::Kept { path, .. } => kept.push(path.to_path_buf()),
        RecordEvent::Deleted { path, .. } => deleted.push(path.to_path_buf()),
        RecordEvent::Failed { error, .. } => panic!("capture failed: {error}"),
        _ => {}
    })
    .unwrap();
    (s, kept, deleted)
}

#[test]
fn five_captures_with_keep_3_leave_the_3_newest() {
    let trace = corpus_bytes("go1.27/cgo.trace");
    let srv = FakeServer::serving(trace.clone(), 5);
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 5);
    o.keep = 3;
    let (s, kept, deleted) = run(o);
    assert_eq!(
        (s.iterations, s.captured, s.failed, s.rejected, s.stopped_by),
        (5, 5, 0, 0, StopReason::Iterations)
    );
    assert_eq!(kept.len(), 5);
    assert_eq!(deleted, kept[..2]);
    assert_eq!(s.files, kept[2..]);
    let on_disk: Vec<PathBuf> = names(dir.path())
        .into_iter()
        .map(|n| dir.path().join(n))
        .collect();
    assert_eq!(
        on_disk,
        kept[2..],
        "exactly the 3 newest remain, and nothing else"
    );
    for p in &on_disk {
        assert!(is_recorded_name(p.file_name().unwrap().to_str().unwrap()));
        assert_eq!(std::fs::read(p).unwrap(), trace);
    }
}

#[test]
fn the_byte_budget_keeps_only_what_fits() {
    let trace = corpus_bytes("go1.27/cgo.trace");
    let srv = FakeServer::serving(trace.clone(), 4);
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 4);
    o.keep = 10;
    o.max_total_bytes = trace.len() as u64 * 5 / 2;
    let (s, kept, _) = run(o);
    assert_eq!(s.files, kept[2..]);
    assert_eq!(names(dir.path()).len(), 2);
}

#[test]
fn a_trigger_that_rejects_everything_keeps_nothing() {
    let srv = FakeServer::serving(corpus_bytes("go1.27/cgo.trace"), 3);
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 3);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    o.trigger = Some(Box::new(move |p: &Path| -> Result<bool, BoxError> {
        // The trigger sees a complete trace.
        let (gens, _) = read_fully(p);
        seen2.lock().unwrap().push(gens);
        Ok(false)
    }));
    let (s, kept, _) = run(o);
    assert_eq!((s.captured, s.rejected), (3, 3));
    assert!(kept.is_empty() && s.files.is_empty());
    assert_eq!(*seen.lock().unwrap(), [1, 1, 1]);
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_failing_trigger_keeps_the_capture() {
    let srv = FakeServer::serving(corpus_bytes("go1.27/cgo.trace"), 1);
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 1);
    o.trigger = Some(Box::new(|_: &Path| -> Result<bool, BoxError> {
        Err("analysis exploded".into())
    }));
    let mut failed = 0;
    let s = record(o, &mut |ev| {
        if let RecordEvent::TriggerFailed { error, .. } = ev {
            assert_eq!(error.to_string(), "analysis exploded");
            failed += 1;
        }
    })
    .unwrap();
    assert_eq!((failed, s.files.len()), (1, 1));
}

/// Stop-the-world pauses computed here, independently of the library.
fn stw_by_hand(path: &Path) -> Vec<Duration> {
    let mut r = gotrace::Reader::open(path).unwrap();
    let mut open = HashMap::new();
    let mut out = Vec::new();
    while let Some(ev) = r.read_event().unwrap() {
        let Some(range) = ev.range() else { continue };
        if !range.name.to_bytes().starts_with(b"stop-the-world (") {
            continue;
        }
        match ev.kind() {
            gotrace::EventKind::RangeBegin => {
                open.insert(ev.goroutine(), ev.time());
            }
            gotrace::EventKind::RangeEnd => {
                if let Some(t) = open.remove(&ev.goroutine()) {
                    out.push(Duration::from_nanos((ev.time() - t) as u64));
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn the_stw_trigger_keeps_exactly_the_captures_over_the_threshold() {
    let rel = "go1.27/gc.trace";
    let pauses = stw_by_hand(&corpus(rel));
    assert!(pauses.len() >= 2, "{rel} has {} STW pauses", pauses.len());
    let longest = *pauses.iter().max().unwrap();
    let lib: Vec<Duration> = stw_pauses(&corpus(rel))
        .unwrap()
        .iter()
        .map(|p| p.duration)
        .collect();
    assert_eq!(lib, pauses);
    assert_eq!(
        longest_stw(&corpus(rel)).unwrap().unwrap().duration,
        longest
    );

    let ns = longest.as_nanos();
    for (cond, keeps) in [
        (format!("stw>{}ns", ns - 1), true),
        (format!("stw>={ns}ns"), true),
        (format!("stw>{ns}ns"), false),
        ("stw>1h".to_string(), false),
        ("stw>0".to_string(), true),
    ] {
        let c: Condition = cond.parse().unwrap();
        assert_eq!(c.eval(&corpus(rel)).unwrap(), keeps, "{cond}");
        let srv = FakeServer::serving(corpus_bytes(rel), 2);
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(srv.url(), dir.path(), 2);
        o.trigger = Some(c.into_trigger());
        let (s, kept, _) = run(o);
        assert_eq!(kept.len(), if keeps { 2 } else { 0 }, "{cond}");
        assert_eq!(s.rejected, if keeps { 0 } else { 2 }, "{cond}");
        assert_eq!(names(dir.path()).len(), kept.len(), "{cond}");
    }
}

#[test]
fn a_cut_capture_is_kept_as_partial() {
    let trace = corpus_bytes("go1.27/long.trace");
    let ends = generation_ends(&trace);
    let cut = (ends[0] + ends[1]) / 2;
    let srv = FakeServer::start(1, move |c| {
        if c.head("200 OK", "application/octet-stream", Some(trace.len())) {
            c.send(&trace[..cut]);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut failures = 0;
    let mut kept = Vec::new();
    let s = record(opts(srv.url(), dir.path(), 1), &mut |ev| match ev {
        RecordEvent::Failed { error, .. } => {
            assert!(error.salvage().is_some(), "{error}");
            failures += 1;
        }
        RecordEvent::Kept { path, bytes, .. } => {
            assert_eq!(*bytes, ends[0] as u64);
            kept.push(path.to_path_buf());
        }
        _ => {}
    })
    .unwrap();
    assert_eq!((failures, s.failed, s.captured), (1, 1, 0));
    assert_eq!(s.files, kept);
    let name = names(dir.path()).pop().unwrap();
    assert!(
        name.ends_with(".trace.partial") && is_recorded_name(&name),
        "{name}"
    );
    assert_eq!(read_fully(&dir.path().join(name)).0, 1);
}

#[test]
fn stopping_while_waiting_returns_promptly() {
    let srv = FakeServer::serving(corpus_bytes("go1.27/cgo.trace"), 5);
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 100);
    o.every = Duration::from_secs(30);
    let stop = o.stop.clone();
    let t = Instant::now();
    let s = record(o, &mut |ev| {
        if let RecordEvent::Kept { .. } = ev {
            // Ctrl-C, as the CLI's handler would, from another thread.
            let stop = stop.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                stop.store(true, Ordering::Relaxed);
            });
        }
    })
    .unwrap();
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert_eq!(
        (s.iterations, s.stopped_by, s.files.len()),
        (1, StopReason::Stopped, 1)
    );
}

#[test]
fn stopping_during_a_capture_abandons_it_without_leftovers() {
    let trace = corpus_bytes("go1.27/long.trace");
    let ends = generation_ends(&trace);
    let srv = FakeServer::start(1, move |c| {
        if c.head("200 OK", "application/octet-stream", None) {
            c.send(&trace[..ends[1] + 10]);
        }
        c.hold(Duration::from_secs(20));
    });
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 3);
    o.capture.stall_timeout = Duration::from_secs(20);
    let stop = o.stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
    });
    let t = Instant::now();
    let s = record(o, &mut |_| {}).unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!((s.iterations, s.stopped_by), (1, StopReason::Stopped));
    assert_eq!(
        names(dir.path()),
        Vec::<String>::new(),
        "no pending, temporary or partial file"
    );
}

#[test]
fn leftovers_are_cleaned_and_other_files_left_alone() {
    let srv = FakeServer::serving(corpus_bytes("go1.27/cgo.trace"), 1);
    let dir = tempfile::tempdir().unwrap();
    for n in [
        "notes.txt",
        ".gotrace-pending-gotrace-20200101T000000.000Z.trace",
        "..gotrace-pending-x.trace.1-0.tmp",
    ] {
        std::fs::write(dir.path().join(n), b"x").unwrap();
    }
    // An old capture from an earlier run counts against `keep`.
    std::fs::write(
        dir.path().join("gotrace-20200101T000000.000Z.trace"),
        b"old",
    )
    .unwrap();
    let mut o = opts(srv.url(), dir.path(), 1);
    o.keep = 1;
    let (s, kept, deleted) = run(o);
    assert_eq!(
        deleted,
        [dir.path().join("gotrace-20200101T000000.000Z.trace")]
    );
    let mut want = vec![
        "notes.txt".to_string(),
        kept[0].file_name().unwrap().to_string_lossy().into_owned(),
    ];
    want.sort();
    assert_eq!(names(dir.path()), want);
    assert_eq!(s.files, kept);
}

#[test]
fn repeated_failures_can_end_the_recording() {
    let srv = FakeServer::start(5, |c| {
        c.respond("404 Not Found", "text/plain", b"404 page not found\n")
    });
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(srv.url(), dir.path(), 5);
    o.max_consecutive_failures = Some(2);
    let mut failures = 0;
    let e = record(o, &mut |ev| {
        if let RecordEvent::Failed { .. } = ev {
            failures += 1
        }
    })
    .unwrap_err();
    assert!(
        matches!(e, RecordError::TooManyFailures { count: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("404 page not found"), "{e}");
    assert_eq!(failures, 2);
    assert_eq!(names(dir.path()), Vec::<String>::new());
    let bad = RecordOptions {
        keep: 0,
        ..RecordOptions::new(srv.url(), dir.path())
    };
    assert!(matches!(
        record(bad, &mut |_| {}),
        Err(RecordError::Options(_))
    ));
}

/// Scheduler latencies computed by hand from the events: runnable ->
/// running, per goroutine.
fn sched_latencies_by_hand(path: &Path) -> Vec<i64> {
    let mut r = gotrace::Reader::open(path).unwrap();
    let mut since = std::collections::HashMap::new();
    let mut out = Vec::new();
    while let Some(ev) = r.read_event().unwrap() {
        let Some(st) = ev.state_transition() else {
            continue;
        };
        if st.resource.kind != gotrace::ResourceKind::Goroutine {
            continue;
        }
        let (old, new) = st.goroutine();
        if old == new {
            continue;
        }
        if new == gotrace::GoState::Runnable {
            since.insert(st.resource.id, ev.time());
        } else if let Some(t) = since.remove(&st.resource.id) {
            if new == gotrace::GoState::Running {
                out.push(ev.time() - t);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_sched_latency_trigger_compares_a_quantile_with_the_threshold() {
    let rel = "go1.27/sched.trace";
    let lat = sched_latencies_by_hand(&corpus(rel));
    assert!(lat.len() > 100, "{rel} has {} latencies", lat.len());
    let max = *lat.last().unwrap();
    // Nearest rank: the 99th percentile is the ceil(0.99 n)-th value.
    let p99 = lat[(lat.len() * 99).div_ceil(100) - 1];
    let h = gotrace_capture::sched_latency(&corpus(rel)).unwrap();
    assert_eq!(h.count(), lat.len() as u64);
    assert_eq!(h.max(), max as u64);
    let got = h.quantile(0.99).unwrap() as i64;
    assert!(
        got <= p99 && p99 - got <= p99 / 256,
        "p99 {got} vs exact {p99}"
    );
    for (cond, keeps) in [
        (format!("sched-max>{}ns", max - 1), true),
        (format!("sched-max>={max}ns"), true),
        (format!("sched-max>{max}ns"), false),
        (format!("sched-p99>{}ns", p99 + p99 / 256 + 1), false),
        (format!("sched-p99>{}ns", p99 - p99 / 256 - 1), true),
        ("sched-p50>1h".to_string(), false),
    ] {
        let c: Condition = cond.parse().unwrap();
        assert_eq!(c.eval(&corpus(rel)).unwrap(), keeps, "{cond}");
    }
    // Through the recorder: kept only when the condition holds.
    for (cond, keeps) in [("sched-max>0", true), ("sched-p99>1h", false)] {
        let srv = FakeServer::serving(corpus_bytes(rel), 1);
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(srv.url(), dir.path(), 1);
        o.trigger = Some(cond.parse::<Condition>().unwrap().into_trigger());
        let (s, kept, _) = run(o);
        assert_eq!(kept.len(), keeps as usize, "{cond}");
        assert_eq!(s.rejected, !keeps as u64, "{cond}");
    }
}
