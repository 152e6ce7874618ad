//! Garbage collection cycles and stop-the-world pauses: the seed's "how
//! long is each GC pause?", answered from the trace's ranges.
//!
//! A pause is a `stop-the-world (KIND)` range; a GC cycle is a
//! `GC concurrent mark phase` range. Ranges already in progress when the
//! trace starts (RangeActive) begin at the first Sync and are marked so.

use crate::stats::Percentiles;
use gotrace::{Event, EventKind, GoId, RangeName, Time};

/// One stop-the-world pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// Why the world stopped, e.g. `GC mark termination`.
    pub kind: String,
    /// When it began, in trace nanoseconds.
    pub start: Time,
    /// How long it lasted, in nanoseconds.
    pub duration: i64,
    /// The goroutine that stopped the world.
    pub goroutine: GoId,
}

/// One GC cycle's concurrent mark phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcCycle {
    /// When the mark phase began (the trace's start if it was already running).
    pub start: Time,
    /// How long it lasted; `None` if the trace ends first.
    pub duration: Option<i64>,
    /// Whether it was already running when the trace began.
    pub started_before_trace: bool,
}

/// GC cycles and pauses of a whole trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// GC cycles in the order they began.
    pub cycles: Vec<GcCycle>,
    /// Stop-the-world pauses in the order they began.
    pub pauses: Vec<Pause>,
    /// First and last event times, bounding the trace.
    pub trace_start: Time,
    /// Time of the last event.
    pub trace_end: Time,
}

impl GcReport {
    /// Percentiles of the pause durations, or `None` without pauses.
    pub fn pause_stats(&self) -> Option<Percentiles> {
        let mut d: Vec<i64> = self.pauses.iter().map(|p| p.duration).collect();
        Percentiles::of(&mut d)
    }

    /// Pauses at least `threshold` nanoseconds long, longest first.
    pub fn pauses_over(&self, threshold: i64) -> Vec<&Pause> {
        let mut v: Vec<&Pause> = self
            .pauses
            .iter()
            .filter(|p| p.duration >= threshold)
            .collect();
        v.sort_by(|a, b| b.duration.cmp(&a.duration).then(a.start.cmp(&b.start)));
        v
    }
}

/// Builds a [`GcReport`] from events fed one at a time.
#[derive(Debug, Default)]
pub struct GcAnalyzer {
    report: GcReport,
    seen_any: bool,
    last_sync: Time,
    /// Open pauses: (goroutine, index into `pauses`).
    open_pauses: Vec<(GoId, usize)>,
    open_cycle: Option<usize>,
}

impl GcAnalyzer {
    /// An analyzer that has seen no events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next event of the trace. Returns the pause that this
    /// event ends, if any, so a caller can act on pauses as they end.
    pub fn event(&mut self, ev: &Event<'_>) -> Option<&Pause> {
        let t = ev.time();
        if !self.seen_any {
            self.seen_any = true;
            self.report.trace_start = t;
            self.last_sync = t;
        }
        self.report.trace_end = t;
        let kind = ev.kind();
        match kind {
            EventKind::Sync => self.last_sync = t,
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                let r = ev.range()?;
                match r.name {
                    RangeName::Stw(k) => return self.stw(kind, t, r.scope.id, k),
                    RangeName::GcMark => self.mark(kind, t),
                    _ => {}
                }
            }
            _ => {}
        }
        None
    }

    fn stw(&mut self, kind: EventKind, t: Time, g: GoId, k: &[u8]) -> Option<&Pause> {
        match kind {
            EventKind::RangeBegin => {
                self.report.pauses.push(Pause {
                    kind: String::from_utf8_lossy(k).into_owned(),
                    start: t,
                    duration: 0,
                    goroutine: g,
                });
                self.open_pauses.push((g, self.report.pauses.len() - 1));
                None
            }
            EventKind::RangeEnd => {
                // The goroutine that stopped the world starts it again.
                let i = self.open_pauses.iter().position(|&(og, _)| og == g)?;
                let (_, idx) = self.open_pauses.swap_remove(i);
                let p = &mut self.report.pauses[idx];
                p.duration = t - p.start;
                Some(p)
            }
            _ => None,
        }
    }

    fn mark(&mut self, kind: EventKind, t: Time) {
        match kind {
            EventKind::RangeBegin | EventKind::RangeActive if self.open_cycle.is_none() => {
                let before = kind == EventKind::RangeActive;
                let start = if before { self.last_sync } else { t };
                self.report.cycles.push(GcCycle {
                    start,
                    duration: None,
                    started_before_trace: before,
                });
                self.open_cycle = Some(self.report.cycles.len() - 1);
            }
            EventKind::RangeEnd => {
                if let Some(i) = self.open_cycle.take() {
                    let c = &mut self.report.cycles[i];
                    c.duration = Some(t - c.start);
                }
            }
            _ => {}
        }
    }

    /// The report. Pauses still open at the end of the trace are dropped:
    /// their length is unknown.
    pub fn finish(mut self) -> GcReport {
        let open: Vec<usize> = self.open_pauses.iter().map(|&(_, i)| i).collect();
        if !open.is_empty() {
            let mut i = 0;
            self.report.pauses.retain(|_| {
                let keep = !open.contains(&i);
                i += 1;
                keep
            });
        }
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(durations: &[i64]) -> GcReport {
        GcReport {
            pauses: durations
                .iter()
                .enumerate()
                .map(|(i, &d)| Pause {
                    kind: "x".into(),
                    start: i as i64 * 100,
                    duration: d,
                    goroutine: 1,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let r = report(&(1..=100).collect::<Vec<_>>());
        let s = r.pause_stats().unwrap();
        assert_eq!(
            (s.count, s.p50, s.p90, s.p99, s.max, s.total),
            (100, 50, 90, 99, 100, 5050)
        );
        let one = report(&[7]).pause_stats().unwrap();
        assert_eq!((one.p50, one.p99, one.max), (7, 7, 7));
        assert!(report(&[]).pause_stats().is_none());
    }

    #[test]
    fn pauses_over_a_threshold_come_longest_first() {
        let r = report(&[5, 2_000_000, 1_000_000, 999_999, 3_000_000]);
        let over: Vec<i64> = r
            .pauses_over(1_000_000)
            .iter()
            .map(|p| p.duration)
            .collect();
        assert_eq!(over, [3_000_000, 2_000_000, 1_000_000]);
    }
}
