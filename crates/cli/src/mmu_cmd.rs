//! `gotrace mmu`: minimum mutator utilization, the reference's /mmu.

use crate::gc_cmd::parse_duration;
use crate::tabwriter::Table;
use anyhow::{bail, Context, Result};
use gotrace_analysis::goformat::duration_string as duration;
use gotrace_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct MmuArgs {
    /// The trace file.
    trace: PathBuf,
    /// What counts against the mutator, comma-separated: stw, background,
    /// assist, sweep; perproc for one utilization series per P (the
    /// reference's "per-goroutine" view). As the reference's page defaults.
    #[arg(long, default_value = "stw,background,assist,sweep")]
    flags: String,
    /// Window sizes whose worst windows are listed (comma-separated Go
    /// durations); sizes longer than the trace are skipped.
    #[arg(long, value_name = "D,...", value_delimiter = ',', default_value = "1ms,10ms,100ms,1s", value_parser = parse_window)]
    worst: Vec<i64>,
    /// How many worst windows to list per size (the reference lists 10).
    #[arg(long, default_value_t = 5)]
    count: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

fn parse_window(w: &str) -> Result<i64, String> {
    match parse_duration(w.trim())? {
        0 => Err(format!("window {w:?} must be longer than 0")),
        d => Ok(d),
    }
}

/// The flags of `--flags`: words separated by commas (or `|`, as in the
/// reference's URLs).
pub fn parse_flags(s: &str) -> Result<UtilFlags> {
    let mut f = UtilFlags::NONE;
    for w in s.split([',', '|']).map(str::trim).filter(|w| !w.is_empty()) {
        f |= match w.to_lowercase().as_str() {
            "stw" => UtilFlags::STW,
            "background" => UtilFlags::BACKGROUND,
            "assist" => UtilFlags::ASSIST,
            "sweep" => UtilFlags::SWEEP,
            "perproc" | "per-proc" => UtilFlags::PER_PROC,
            "none" => UtilFlags::NONE,
            _ => bail!(
                "unknown MMU flag {w:?}; want some of stw, background, assist, sweep, perproc"
            ),
        };
    }
    Ok(f)
}

/// Window sizes of the curve: 1, 2, 5 per power of ten from 1µs, then the
/// trace's length.
pub fn curve_windows(span: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut decade: i64 = 1_000;
    'outer: loop {
        for m in [1, 2, 5] {
            let w = decade.saturating_mul(m);
            if w >= span {
                break 'outer;
            }
            out.push(w);
        }
        decade = decade.saturating_mul(10);
    }
    if span > 0 {
        out.push(span);
    }
    out
}

pub fn mmu(args: MmuArgs) -> Result<()> {
    let flags = parse_flags(&args.flags)?;
    std::fs::metadata(&args.trace)
        .with_context(|| format!("failed to read trace file: {}", args.trace.display()))?;
    let mut r = gotrace::Reader::open(&args.trace)?;
    let mut mu = MutatorUtil::new(flags);
    let (mut first, mut last) = (None, 0i64);
    while let Some(ev) = r.read_event()? {
        first.get_or_insert(ev.time());
        last = ev.time();
        mu.event(&ev);
    }
    let first = first.unwrap_or(0);
    let curve = MmuCurve::new(&mu.finish());
    if curve.is_empty() {
        bail!(gotrace_analysis::mmu::MmuError::NoUtilization);
    }
    let span = last.wrapping_sub(first);
    let points: Vec<(i64, f64)> = curve_windows(span)
        .into_iter()
        .map(|w| (w, curve.mmu(w)))
        .collect();
    let worst: Vec<(i64, Vec<gotrace_analysis::mmu::UtilWindow>)> = args
        .worst
        .iter()
        .filter(|&&w| w <= span)
        .map(|&w| (w, curve.examples(w, args.count)))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        let v = json!({
            "flags": args.flags,
            "trace_start_ns": first,
            "trace_end_ns": last,
            "curve": points.iter().map(|&(w, u)| json!({"window_ns": w, "mmu": u})).collect::<Vec<_>>(),
            "worst": worst.iter().map(|(w, ws)| json!({
                "window_ns": w,
                "windows": ws.iter().map(|x| json!({"start_ns": x.time, "utilization": x.mutator_util})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "Trace: {} ({} long), counting {}\n",
        args.trace.display(),
        duration(span),
        args.flags
    )?;
    writeln!(out, "Minimum mutator utilization by window size:")?;
    let mut t = Table::new(3, 2);
    t.row(vec!["Window".into(), "MMU".into()]);
    for &(w, u) in &points {
        let bar = "#".repeat((u.clamp(0.0, 1.0) * 40.0).round() as usize);
        t.row(vec![duration(w), format!("{:.2}%", u * 100.0), bar]);
    }
    out.write_all(t.render().as_bytes())?;
    for (w, ws) in &worst {
        writeln!(out, "\nWorst {} windows:", duration(*w))?;
        let mut t = Table::new(3, 2);
        t.row(vec!["Start".into(), "End".into(), "Utilization".into()]);
        for x in ws {
            t.row(vec![
                duration(x.time.wrapping_sub(first)),
                duration(x.time.wrapping_add(*w).wrapping_sub(first)),
                format!("{:.2}%", x.mutator_util * 100.0),
            ]);
        }
        out.write_all(t.render().as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_like_the_page() {
        let f = parse_flags("stw,background,assist,sweep").unwrap();
        assert!(f.contains(UtilFlags::STW | UtilFlags::BACKGROUND | UtilFlags::ASSIST));
        assert!(f.contains(UtilFlags::SWEEP));
        assert!(!f.contains(UtilFlags::PER_PROC));
        assert!(parse_flags("perProc|stw")
            .unwrap()
            .contains(UtilFlags::PER_PROC));
        assert!(parse_flags("bogus").is_err());
    }

    #[test]
    fn windows_go_from_a_microsecond_to_the_trace_length() {
        assert_eq!(
            curve_windows(30_000),
            vec![1_000, 2_000, 5_000, 10_000, 20_000, 30_000]
        );
        assert_eq!(curve_windows(1_000), vec![1_000]);
        assert_eq!(curve_windows(0), Vec::<i64>::new());
        assert_eq!(parse_window(" 10ms"), Ok(10_000_000));
        assert!(parse_window("0s").is_err());
    }
}
