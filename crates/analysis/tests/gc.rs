//! The GC/STW report, checked against the reference's own event stream:
//! pauses and mark phases re-derived from the `-d=parsed` goldens (the text
//! `go tool trace` printed) must equal what the analyzer computes from our
//! reader, for every corpus trace.

use flate2::read::GzDecoder;
use gotrace_analysis::gc::{GcAnalyzer, GcReport, Pause};
use std::io::Read;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let i = line.find(key)? + key.len();
    let rest = &line[i..];
    Some(rest.split(' ').next().unwrap_or(rest))
}

/// A pause: (kind, start, duration, goroutine).
type RefPause = (String, i64, i64, i64);
/// A mark phase: (start, duration if it ended).
type Cycle = (i64, Option<i64>);

/// Each pause and each mark phase, from the reference's text.
fn from_reference(text: &str) -> (Vec<RefPause>, Vec<Cycle>) {
    let mut pauses = Vec::new();
    let mut open: Vec<(i64, usize)> = Vec::new();
    let mut cycles: Vec<Cycle> = Vec::new();
    let mut last_sync = None;
    for line in text.lines() {
        if !line.starts_with("M=") {
            continue;
        }
        let time: i64 = field(line, " Time=").unwrap().parse().unwrap();
        if line.contains(" Sync Time=") {
            last_sync = Some(time);
            continue;
        }
        let g: i64 = field(line, " G=").unwrap().parse().unwrap();
        if let Some(kind) = line.split("Name=\"stop-the-world (").nth(1) {
            let kind = kind.split(")\"").next().unwrap().to_string();
            let scope: i64 = field(line, "Scope=Goroutine(")
                .unwrap()
                .trim_end_matches(')')
                .parse()
                .unwrap();
            if line.contains(" RangeBegin ") {
                pauses.push((kind, time, 0, scope));
                open.push((scope, pauses.len() - 1));
            } else if line.contains(" RangeEnd ") {
                if let Some(i) = open.iter().position(|&(og, _)| og == scope) {
                    let (_, idx) = open.swap_remove(i);
                    pauses[idx].2 = time - pauses[idx].1;
                }
            }
            let _ = g;
        } else if line.contains("Name=\"GC concurrent mark phase\"") {
            if line.contains(" RangeBegin ") || line.contains(" RangeActive ") {
                if cycles.last().is_none_or(|c| c.1.is_some()) {
                    let start = if line.contains(" RangeActive ") {
                        last_sync.unwrap()
                    } else {
                        time
                    };
                    cycles.push((start, None));
                }
            } else if line.contains(" RangeEnd ") {
                if let Some(c) = cycles.last_mut().filter(|c| c.1.is_none()) {
                    c.1 = Some(time - c.0);
                }
            }
        }
    }
    let open_idx: Vec<usize> = open.iter().map(|&(_, i)| i).collect();
    let pauses = pauses
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !open_idx.contains(i))
        .map(|(_, p)| p)
        .collect();
    (pauses, cycles)
}

/// The report, and the pauses `event` returned as they ended.
fn analyze(path: &Path) -> (GcReport, Vec<Pause>) {
    let mut r = gotrace::Reader::open(path).unwrap();
    let mut a = GcAnalyzer::new();
    let mut ended = Vec::new();
    while let Some(ev) = r.read_event().unwrap() {
        if let Some(p) = a.event(&ev) {
            // A pause is handed out at the event that ends it.
            assert_eq!(p.start + p.duration, ev.time(), "{p:?}");
            ended.push(p.clone());
        }
    }
    (a.finish(), ended)
}

#[test]
fn pauses_and_gc_cycles_match_the_reference_event_stream_on_every_corpus_trace() {
    let mut checked = 0;
    let mut pauses_seen = 0;
    for v in std::fs::read_dir(corpus().join("traces")).unwrap() {
        let v = v.unwrap().path();
        for t in std::fs::read_dir(&v).unwrap() {
            let t = t.unwrap().path();
            if t.extension().is_none_or(|e| e != "trace") {
                continue;
            }
            let name = t.file_stem().unwrap().to_string_lossy().into_owned();
            let ver = v.file_name().unwrap().to_string_lossy().into_owned();
            let gz = corpus()
                .join("golden")
                .join(&ver)
                .join(format!("{name}.parsed.gz"));
            let mut text = String::new();
            GzDecoder::new(std::fs::File::open(&gz).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            let (want_pauses, want_cycles) = from_reference(&text);
            let (got, mut ended) = analyze(&t);
            // The pauses handed out as they ended are the report's pauses.
            ended.sort_by_key(|p| p.start);
            assert_eq!(ended, got.pauses, "{ver}/{name}: pauses as they end");
            let got_pauses: Vec<_> = got
                .pauses
                .iter()
                .map(|p| (p.kind.clone(), p.start, p.duration, p.goroutine))
                .collect();
            let got_cycles: Vec<_> = got.cycles.iter().map(|c| (c.start, c.duration)).collect();
            assert_eq!(got_pauses, want_pauses, "{ver}/{name}: pauses");
            assert_eq!(got_cycles, want_cycles, "{ver}/{name}: GC cycles");
            pauses_seen += got_pauses.len();
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} traces checked");
    assert!(
        pauses_seen >= 100,
        "the corpus should contain many STW pauses, saw {pauses_seen}"
    );
}
