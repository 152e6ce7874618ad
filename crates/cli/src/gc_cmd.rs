//! `gotrace gc`: every GC cycle and stop-the-world pause.

use crate::tabwriter::Table;
use anyhow::{Context, Result};
use gotrace_analysis::gc::{GcAnalyzer, GcReport};
use gotrace_analysis::goformat::duration_string as duration;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct GcArgs {
    /// The trace file.
    trace: PathBuf,
    /// List pauses at least this long (Go duration syntax: 500us, 1ms, 2.5ms).
    #[arg(long, default_value = "1ms", value_parser = parse_duration)]
    threshold: i64,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also list every pause and cycle, not only the long pauses.
    #[arg(long)]
    all: bool,
}

/// A non-negative Go duration (`time.ParseDuration` syntax) in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    match gotrace_analysis::goformat::parse_duration(s)? {
        ns if ns < 0 => Err(format!("negative duration {s:?}")),
        ns => Ok(ns),
    }
}

pub fn gc(args: GcArgs) -> Result<()> {
    std::fs::metadata(&args.trace)
        .with_context(|| format!("failed to read trace file: {}", args.trace.display()))?;
    let mut r = gotrace::Reader::open(&args.trace)?;
    let mut a = GcAnalyzer::new();
    while let Some(ev) = r.read_event()? {
        a.event(&ev);
    }
    let report = a.finish();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &to_json(&report, args.threshold))?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &report, &args)?;
    }
    out.flush()?;
    Ok(())
}

fn to_json(r: &GcReport, threshold: i64) -> serde_json::Value {
    use serde_json::json;
    let pause = |p: &gotrace_analysis::gc::Pause| json!({"kind": p.kind, "start_ns": p.start, "duration_ns": p.duration, "goroutine": p.goroutine});
    let stats = r.pause_stats().map(|s| {
        json!({"count": s.count, "total_ns": s.total, "p50_ns": s.p50, "p90_ns": s.p90, "p99_ns": s.p99, "max_ns": s.max})
    });
    json!({
        "trace_start_ns": r.trace_start,
        "trace_end_ns": r.trace_end,
        "gc_cycles": r.cycles.iter().map(|c| json!({
            "start_ns": c.start, "duration_ns": c.duration, "started_before_trace": c.started_before_trace
        })).collect::<Vec<_>>(),
        "pauses": r.pauses.iter().map(pause).collect::<Vec<_>>(),
        "pause_stats": stats,
        "threshold_ns": threshold,
        "pauses_over_threshold": r.pauses_over(threshold).into_iter().map(pause).collect::<Vec<_>>(),
    })
}

fn write_text(out: &mut impl Write, r: &GcReport, args: &GcArgs) -> Result<()> {
    let span = r.trace_end - r.trace_start;
    let rel = |t: i64| duration(t - r.trace_start);
    let mark: i64 = r.cycles.iter().filter_map(|c| c.duration).sum();
    writeln!(
        out,
        "Trace:        {} ({} long)",
        args.trace.display(),
        duration(span)
    )?;
    writeln!(
        out,
        "GC cycles:    {} ({} in concurrent mark, {:.1}% of the trace)",
        r.cycles.len(),
        duration(mark),
        if span > 0 {
            mark as f64 / span as f64 * 100.0
        } else {
            0.0
        }
    )?;
    match r.pause_stats() {
        None => writeln!(out, "STW pauses:   none")?,
        Some(s) => {
            writeln!(
                out,
                "STW pauses:   {} totalling {}",
                s.count,
                duration(s.total)
            )?;
            writeln!(
                out,
                "              p50 {}  p90 {}  p99 {}  max {}",
                duration(s.p50),
                duration(s.p90),
                duration(s.p99),
                duration(s.max)
            )?;
        }
    }
    let long = r.pauses_over(args.threshold);
    writeln!(out)?;
    if long.is_empty() {
        writeln!(out, "No pause of {} or more.", duration(args.threshold))?;
    } else {
        writeln!(
            out,
            "Pauses of {} or more, longest first:",
            duration(args.threshold)
        )?;
        let mut t = Table::new(3, 2);
        t.row(vec![
            "At".into(),
            "Duration".into(),
            "Goroutine".into(),
            "Kind".into(),
        ]);
        for p in long {
            t.row(vec![
                rel(p.start),
                duration(p.duration),
                p.goroutine.to_string(),
                p.kind.clone(),
            ]);
        }
        out.write_all(t.render().as_bytes())?;
    }
    if args.all {
        writeln!(out, "\nAll pauses:")?;
        let mut t = Table::new(3, 2);
        t.row(vec![
            "At".into(),
            "Duration".into(),
            "Goroutine".into(),
            "Kind".into(),
        ]);
        for p in &r.pauses {
            t.row(vec![
                rel(p.start),
                duration(p.duration),
                p.goroutine.to_string(),
                p.kind.clone(),
            ]);
        }
        out.write_all(t.render().as_bytes())?;
        writeln!(out, "\nGC cycles (concurrent mark):")?;
        let mut t = Table::new(3, 2);
        t.row(vec!["At".into(), "Duration".into(), "Note".into()]);
        for c in &r.cycles {
            let note = if c.started_before_trace {
                "running when the trace began"
            } else {
                ""
            };
            t.row(vec![
                rel(c.start),
                c.duration.map_or("unfinished".into(), duration),
                note.into(),
            ]);
        }
        out.write_all(t.render().as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("1ms"), Ok(1_000_000));
        assert_eq!(parse_duration("250us"), Ok(250_000));
        assert_eq!(parse_duration("250µs"), Ok(250_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000_000));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1ms").is_err());
    }
}
