//! `gotrace goroutines`, `gotrace tasks`, `gotrace regions`: the
//! reference's goroutine analysis and user task/region pages as tables or
//! JSON, and the hidden `gotrace summary` (every summary in one pass, for
//! benchmarks).

use anyhow::{Context, Result};
use gotrace_analysis::summary::{Summarizer, Summary};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads the whole trace through a [`Summarizer`].
pub fn summarize(trace: &Path) -> Result<Summary> {
    std::fs::metadata(trace)
        .with_context(|| format!("failed to read trace file: {}", trace.display()))?;
    let mut r = gotrace::Reader::open(trace)?;
    let mut s = Summarizer::new();
    while let Some(ev) = r.read_event()? {
        s.event(&ev);
    }
    Ok(s.finish())
}

#[derive(clap::Args)]
pub struct SummaryArgs {
    /// The trace file.
    trace: PathBuf,
}

/// `gotrace summary TRACE`: builds every summary and prints their sizes.
pub fn summary(args: SummaryArgs) -> Result<()> {
    let s = summarize(&args.trace)?;
    let groups = s.goroutine_groups();
    let task_types = s.task_types();
    let region_types = s.region_types();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "goroutines {} in {} groups, tasks {} of {} types, regions {} of {} types, strings {}, skipped events {}",
        s.goroutines.len(),
        groups.len(),
        s.tasks.len(),
        task_types.len(),
        s.regions.len(),
        region_types.len(),
        s.strings.len(),
        s.skipped_events
    )?;
    Ok(())
}
