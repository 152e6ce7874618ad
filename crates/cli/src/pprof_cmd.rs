//! `gotrace pprof TYPE TRACE` and the drop-in `-pprof=TYPE TRACE`: blocking
//! profiles (network, sync, syscall, scheduler latency).

use crate::gc_cmd::parse_duration;
use crate::tabwriter::Table;
use anyhow::{anyhow, Context, Result};
use gotrace_analysis::goformat::duration_string as duration;
use gotrace_analysis::pprof::{
    region_intervals, BlockingProfiler, IntervalProfiler, Profile, ProfileKind,
};
use gotrace_analysis::summary::{summarize, RegionFilter};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct PprofArgs {
    /// Which profile: net (network wait), sync (channels, select, sync
    /// primitives), syscall, or sched (runnable but not running).
    #[arg(value_name = "TYPE", value_parser = parse_kind)]
    kind: ProfileKind,
    /// The trace file.
    trace: PathBuf,
    /// Write the gzipped pprof profile (for `go tool pprof`) to FILE instead
    /// of printing the top stacks.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only goroutines of this group (the function they started in, as in
    /// `gotrace goroutines`).
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// Only time inside regions of this type (outermost ones), like the
    /// reference's region profiles.
    #[arg(long, value_name = "TYPE")]
    region: Option<String>,
    /// Only blocked time after this offset from the trace's start (Go
    /// duration: 1.5s, 200ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    from: Option<i64>,
    /// Only blocked time before this offset from the trace's start.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    to: Option<i64>,
    /// How many stacks to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// How many frames of each stack to print.
    #[arg(long, default_value_t = 8)]
    depth: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_kind(s: &str) -> Result<ProfileKind, String> {
    ProfileKind::from_name(s)
        .ok_or_else(|| format!("unknown pprof type {s} (want net, sync, syscall or sched)"))
}

/// `go tool trace -pprof=TYPE TRACE`: the profile over all goroutines, as
/// a gzipped profile.proto on stdout.
pub fn go_pprof(kind: &str, trace: &Path) -> Result<()> {
    let kind = ProfileKind::from_name(kind)
        .filter(|k| k.name() == kind)
        .ok_or_else(|| anyhow!("unknown pprof type {kind}\n"))?;
    let profiles = one_pass(trace, None)?;
    let p = profiles
        .profile(kind, None)
        .map_err(|e| anyhow!("failed to generate pprof: {e}\n"))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&p.to_pprof())?;
    out.flush()?;
    Ok(())
}

fn open(trace: &Path) -> Result<gotrace::Reader> {
    std::fs::metadata(trace)
        .with_context(|| format!("failed to read trace file: {}", trace.display()))?;
    Ok(gotrace::Reader::open(trace)?)
}

/// Reads the trace once into a [`BlockingProfiler`]; `window` is relative
/// to the first event.
fn one_pass(
    trace: &Path,
    window: Option<(Option<i64>, Option<i64>)>,
) -> Result<gotrace_analysis::pprof::BlockingProfiles> {
    let mut r = open(trace)?;
    let p = match window {
        None => BlockingProfiler::new(),
        Some((from, to)) => BlockingProfiler::with_relative_window(from, to),
    };
    Ok(p.read_all(&mut r)?)
}

pub fn pprof(args: PprofArgs) -> Result<()> {
    let window = (args.from.is_some() || args.to.is_some()).then_some((args.from, args.to));
    if let (Some(f), Some(t)) = (args.from, args.to) {
        if f >= t {
            return Err(anyhow!(
                "--from {} is not before --to {}",
                duration(f),
                duration(t)
            ));
        }
    }
    let write = |p: &Profile<'_>| -> Result<()> {
        match &args.output {
            Some(path) => {
                crate::atomic_write(path, &p.to_pprof())?;
                let (count, delay) = p.totals();
                eprintln!(
                    "wrote {} ({} stacks, {count} intervals, {}); view it with `go tool pprof -http=: {}`",
                    path.display(),
                    p.samples.len(),
                    duration(delay),
                    path.display()
                );
                Ok(())
            }
            None => print(p, &args),
        }
    };
    match &args.region {
        None => {
            let profiles = one_pass(&args.trace, window)?;
            let p = profiles.profile(args.kind, args.group.as_deref())?;
            write(&p)
        }
        Some(region) => {
            // Regions are known only after a first pass.
            let summary = summarize(&mut open(&args.trace)?)?;
            let filter = RegionFilter {
                typ: Some(region.as_bytes().to_vec()),
                ..Default::default()
            };
            let mut intervals = region_intervals(&summary, &filter);
            if intervals.is_empty() {
                return Err(anyhow!("no regions of type {region:?} in the trace"));
            }
            if let Some(group) = &args.group {
                intervals.retain(|g, _| {
                    summary
                        .goroutine(*g)
                        .is_some_and(|g| summary.str(g.name) == group.as_bytes())
                });
            }
            let t0 = summary.start_time;
            let window = window.map(|(f, t)| {
                (
                    t0.saturating_add(f.unwrap_or(0)),
                    t.map_or(i64::MAX, |t| t0.saturating_add(t)),
                )
            });
            let profiles =
                IntervalProfiler::new(intervals, window).read_all(&mut open(&args.trace)?)?;
            write(&profiles.profile(args.kind))
        }
    }
}

fn print(p: &Profile<'_>, args: &PprofArgs) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (count, delay) = p.totals();
    if args.json {
        use serde_json::json;
        let samples: Vec<_> = p
            .samples
            .iter()
            .map(|s| {
                json!({
                    "count": s.count,
                    "delay_ns": s.delay,
                    "stack": p.stacks.frames(s.stack).iter().map(|f| json!({
                        "func": f.func, "file": f.file, "line": f.line, "pc": f.pc,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let v = json!({
            "profile": p.kind.name(),
            "count": count,
            "delay_ns": delay,
            "samples": samples,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    let what = match p.kind {
        ProfileKind::Net => "waiting on the network",
        ProfileKind::Sync => "blocked on channels, select and sync",
        ProfileKind::Syscall => "in system calls",
        ProfileKind::Sched => "runnable, waiting for a P",
    };
    writeln!(
        out,
        "{}: {} {what}, over {count} intervals and {} stacks.",
        p.kind.name(),
        duration(delay),
        p.samples.len()
    )?;
    if p.samples.is_empty() {
        out.flush()?;
        return Ok(());
    }
    writeln!(out)?;
    let mut t = Table::new(0, 2);
    t.row(
        ["DELAY", "%", "COUNT", "STACK (leaf first)"]
            .map(String::from)
            .to_vec(),
    );
    for s in p.samples.iter().take(args.top) {
        let frames = p.stacks.frames(s.stack);
        let pct = if delay > 0 {
            format!("{:.1}%", s.delay as f64 * 100.0 / delay as f64)
        } else {
            "-".into()
        };
        let head = |f: Option<&gotrace_analysis::pprof::ProfileFrame>| match f {
            Some(f) => format!("{} {}:{}", f.func, f.file, f.line),
            None => "(no stack)".into(),
        };
        t.row(vec![
            duration(s.delay),
            pct,
            s.count.to_string(),
            head(frames.first()),
        ]);
        for f in frames.iter().skip(1).take(args.depth.saturating_sub(1)) {
            t.row(vec![
                String::new(),
                String::new(),
                String::new(),
                head(Some(f)),
            ]);
        }
        if frames.len() > args.depth.max(1) {
            t.row(vec![
                String::new(),
                String::new(),
                String::new(),
                format!("... {} more frames", frames.len() - args.depth.max(1)),
            ]);
        }
    }
    out.write_all(t.render().as_bytes())?;
    if p.samples.len() > args.top {
        writeln!(
            out,
            "\n{} more stacks; use --top N, or -o FILE for the full profile.",
            p.samples.len() - args.top
        )?;
    }
    out.flush()?;
    Ok(())
}
