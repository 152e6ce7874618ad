//! The analyses that read a whole trace on two threads (`summarize`,
//! `BlockingProfiler::read_all`, `IntervalProfiler::read_all`) give exactly
//! what they give when fed one event at a time, on every corpus trace.
//!
//! Interned string IDs are compared as the strings they stand for: log
//! messages are interned by the address they had in the trace's tables,
//! which differs between two reads of a file.
//!
//! Run: `cargo test --release -p gotrace-analysis --test pipeline`.

mod common;
use common::{corpus, par_map};
use gotrace_analysis::pprof::{
    region_intervals, BlockingProfiler, BlockingProfiles, IntervalProfiler, IntervalProfiles,
    Profile, ProfileKind,
};
use gotrace_analysis::summary::{summarize, RegionFilter, Summarizer, Summary};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn trace(ver: &str, name: &str) -> PathBuf {
    corpus()
        .join("traces")
        .join(ver)
        .join(format!("{name}.trace"))
}

fn each_event(path: &Path, mut f: impl FnMut(&gotrace::Event<'_>)) {
    let mut r = gotrace::Reader::open(path).unwrap();
    while let Some(ev) = r.read_event().unwrap() {
        f(&ev);
    }
}

/// `{:?}` of `v` with every `StrId(n)` replaced by its string.
fn resolved(s: &Summary, v: &impl std::fmt::Debug) -> String {
    let text = format!("{v:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("StrId(") {
        out.push_str(&rest[..i]);
        rest = &rest[i + "StrId(".len()..];
        let end = rest.find(')').unwrap();
        let id: u32 = rest[..end].parse().unwrap();
        write!(out, "{:?}", s.text(gotrace_analysis::summary::StrId(id))).unwrap();
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Everything a summary says, strings resolved.
fn describe(s: &Summary) -> String {
    let mut out = format!("{} {} {}\n", s.start_time, s.end_time, s.skipped_events);
    for g in &s.goroutines {
        writeln!(out, "{}", resolved(s, g)).unwrap();
    }
    for t in &s.tasks {
        writeln!(
            out,
            "{} {} {} {} {}",
            resolved(s, t),
            resolved(s, &s.task_children(t)),
            resolved(s, &s.task_logs(t)),
            resolved(s, &s.task_regions(t)),
            resolved(s, &s.task_goroutines(t)),
        )
        .unwrap();
    }
    for r in &s.regions {
        writeln!(
            out,
            "{} {}",
            resolved(s, r),
            resolved(s, &s.region_stats(r))
        )
        .unwrap();
    }
    out
}

fn describe_profile(p: &Profile<'_>) -> String {
    let mut out = String::new();
    for smp in &p.samples {
        writeln!(
            out,
            "{} {} {:?}",
            smp.count,
            smp.delay,
            p.stacks.frames(smp.stack)
        )
        .unwrap();
    }
    out
}

fn describe_profiles(p: &BlockingProfiles) -> String {
    let mut out = String::new();
    let groups: Vec<Option<&str>> = std::iter::once(None).chain(p.groups().map(Some)).collect();
    for g in groups {
        for kind in ProfileKind::ALL {
            writeln!(out, "== {g:?} {kind:?}").unwrap();
            match p.profile(kind, g) {
                Ok(prof) => out.push_str(&describe_profile(&prof)),
                Err(e) => writeln!(out, "{e}").unwrap(),
            }
        }
    }
    out
}

fn describe_intervals(p: &IntervalProfiles) -> String {
    ProfileKind::ALL
        .iter()
        .map(|&k| describe_profile(&p.profile(k)))
        .collect()
}

#[test]
fn pipelined_analyses_equal_the_direct_ones_on_every_corpus_trace() {
    let failures: Vec<String> = par_map(|ver, name| {
        let path = trace(ver, name);
        let mut fails = Vec::new();

        let mut s = Summarizer::new();
        let mut p = BlockingProfiler::new();
        let mut w = BlockingProfiler::with_relative_window(Some(1_000_000), Some(50_000_000));
        let mut t0 = None;
        each_event(&path, |ev| {
            s.event(ev);
            p.event(ev);
            w.event(ev);
            t0.get_or_insert(ev.time());
        });
        let direct = s.finish();
        let piped = summarize(&mut gotrace::Reader::open(&path).unwrap()).unwrap();
        if describe(&direct) != describe(&piped) {
            fails.push(format!("{ver}/{name}: summary"));
        }

        let piped_p = BlockingProfiler::new()
            .read_all(&mut gotrace::Reader::open(&path).unwrap())
            .unwrap();
        if describe_profiles(&p.finish()) != describe_profiles(&piped_p) {
            fails.push(format!("{ver}/{name}: blocking profiles"));
        }

        // A window relative to the first event, resolved on either thread.
        let piped_w = BlockingProfiler::with_relative_window(Some(1_000_000), Some(50_000_000))
            .read_all(&mut gotrace::Reader::open(&path).unwrap())
            .unwrap();
        let w = w.finish();
        if describe_profiles(&w) != describe_profiles(&piped_w) {
            fails.push(format!("{ver}/{name}: windowed blocking profiles"));
        }
        if let Some(t0) = t0 {
            let mut abs = BlockingProfiler::with_window(t0 + 1_000_000, t0 + 50_000_000);
            each_event(&path, |ev| abs.event(ev));
            if describe_profiles(&abs.finish()) != describe_profiles(&w) {
                fails.push(format!("{ver}/{name}: relative window"));
            }
        }

        // Region profiles, over every region type.
        let intervals = region_intervals(&direct, &RegionFilter::default());
        let mut ip = IntervalProfiler::new(intervals.clone(), None);
        each_event(&path, |ev| ip.event(ev));
        let piped_ip = IntervalProfiler::new(intervals, None)
            .read_all(&mut gotrace::Reader::open(&path).unwrap())
            .unwrap();
        if describe_intervals(&ip.finish()) != describe_intervals(&piped_ip) {
            fails.push(format!("{ver}/{name}: interval profiles"));
        }
        fails
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
