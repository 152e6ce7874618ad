//! The percentiles of task and region types (our addition to /usertasks
//! and /userregions) describe the same samples as the types' histograms,
//! which the `summary` test checks against the reference: on every corpus
//! trace, each type's count equals its histogram's, and each percentile
//! falls in the bucket where the histogram puts that rank.
//!
//! Run: `cargo test --release -p gotrace-analysis --test type_percentiles`.

mod common;
use common::{corpus, par_map};
use gotrace_analysis::stats::Percentiles;
use gotrace_analysis::summary::{summarize, TimeHistogram};

/// Why `p` does not describe the samples counted in `h`, if it does not.
fn disagreement(h: &TimeHistogram, p: Option<Percentiles>) -> Option<String> {
    let Some(p) = p else {
        return (h.count != 0).then(|| format!("no percentiles for {} samples", h.count));
    };
    if p.count != h.count {
        return Some(format!(
            "count {} against the histogram's {}",
            p.count, h.count
        ));
    }
    let n = p.count;
    for (what, q, v) in [
        ("min", 0.0, p.min),
        ("p50", 0.50, p.p50),
        ("p90", 0.90, p.p90),
        ("p99", 0.99, p.p99),
        ("max", 1.0, p.max),
    ] {
        // The 1-based nearest rank of the quantile.
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        let b = TimeHistogram::bucket_of(v);
        let below: usize = h.buckets.iter().take(b).sum();
        let upto = below + h.buckets.get(b).copied().unwrap_or(0);
        if !(below < rank && rank <= upto) {
            return Some(format!(
                "{what} = {v} ns is in bucket {b}, which holds ranks {}..={upto}, not {rank}",
                below + 1
            ));
        }
    }
    None
}

#[test]
fn type_percentiles_agree_with_the_histograms() {
    let results = par_map(|ver, name| {
        let path = corpus()
            .join("traces")
            .join(ver)
            .join(format!("{name}.trace"));
        let s = summarize(&mut gotrace::Reader::open(&path).unwrap()).unwrap();
        let mut errs = Vec::new();
        let mut samples = 0;
        let tasks = s.task_types();
        for (t, p) in tasks.iter().zip(s.task_type_percentiles(&tasks)) {
            samples += t.histogram.count;
            if let Some(e) = disagreement(&t.histogram, p) {
                errs.push(format!("{ver}/{name}: task type {:?}: {e}", s.text(t.name)));
            }
        }
        let regions = s.region_types();
        for (t, p) in regions.iter().zip(s.region_type_percentiles(&regions)) {
            samples += t.histogram.count;
            if let Some(e) = disagreement(&t.histogram, p) {
                errs.push(format!(
                    "{ver}/{name}: region type {:?}: {e}",
                    s.text(t.name)
                ));
            }
        }
        (samples, errs)
    });
    let samples: usize = results.iter().map(|r| r.0).sum();
    let errs: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
    assert!(
        errs.is_empty(),
        "{} disagreements:\n{:#?}",
        errs.len(),
        errs
    );
    // The corpus has annotated traces in every version.
    assert!(samples > 1000, "only {samples} task and region durations");
}
