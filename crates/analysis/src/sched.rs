//! Scheduler latency: how long goroutines wait between becoming runnable
//! and running, as a distribution (p50/p90/p99/max), which the sched
//! profile (a sum per stack) cannot give. A latency starts when a goroutine
//! becomes runnable (created, woken, preempted, or first seen runnable) and
//! ends when it starts running; waits cut off by the end of the trace are
//! not counted.
//!
//! Latencies go into a log-linear histogram of fixed size (about 114 KB),
//! so memory does not grow with the trace: percentiles are exact below
//! 256 ns and within 1/256 (0.4%) above; the maximum and the total are
//! exact.

use gotrace::{Event, GoId, GoState, ResourceKind, Time};
use rustc_hash::FxHashMap;

/// Values below this are counted exactly.
const LINEAR: u64 = 256;
/// Mantissa bits kept above [`LINEAR`].
const BITS: u32 = 8;
const BUCKETS: usize = (LINEAR as usize) * (64 - BITS as usize + 1);

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= BITS
    let m = (v >> (e - BITS)) & (LINEAR - 1);
    (LINEAR as usize) * (e - BITS + 1) as usize + m as usize
}

/// The smallest value in bucket `i`.
fn bucket_floor(i: usize) -> u64 {
    let (block, m) = (i / LINEAR as usize, (i % LINEAR as usize) as u64);
    if block == 0 {
        return m;
    }
    let e = block as u32 - 1 + BITS;
    (1u64 << e) | (m << (e - BITS))
}

/// A log-linear histogram of nanosecond durations.
#[derive(Clone)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    n: u64,
    total: u128,
    max: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS],
            n: 0,
            total: 0,
            max: 0,
        }
    }
}

impl LatencyHistogram {
    /// Adds one duration (negative ones, from clock skew, count as 0).
    pub fn add(&mut self, ns: i64) {
        let v = ns.max(0) as u64;
        self.counts[bucket(v)] += 1;
        self.n += 1;
        self.total += v as u128;
        self.max = self.max.max(v);
    }

    /// How many durations.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Their sum, in nanoseconds.
    pub fn total(&self) -> u128 {
        self.total
    }

    /// The longest.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile (0 < q <= 1) by the nearest-rank method: the
    /// smallest recorded duration such that a fraction q of all are at
    /// most it, rounded down to its bucket (exact below 256 ns, within
    /// 0.4% above) and never above the maximum. None if empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.n as f64).ceil() as u64).max(1);
        if rank >= self.n {
            return Some(self.max);
        }
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(bucket_floor(i).min(self.max));
            }
        }
        Some(self.max)
    }
}

/// Collects scheduler latencies. Feed it every event.
#[derive(Default)]
pub struct SchedLatency {
    runnable_since: FxHashMap<GoId, Time>,
    hist: LatencyHistogram,
}

impl SchedLatency {
    /// A new, empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event (in order).
    pub fn event(&mut self, ev: &Event<'_>) {
        let Some(st) = ev.state_transition() else {
            return;
        };
        if st.resource.kind != ResourceKind::Goroutine {
            return;
        }
        let (old, new) = st.goroutine();
        if old == new {
            return;
        }
        let id = st.resource.id;
        if new == GoState::Runnable {
            self.runnable_since.insert(id, ev.time());
        } else if let Some(since) = self.runnable_since.remove(&id) {
            if new == GoState::Running {
                self.hist.add(ev.time().wrapping_sub(since));
            }
        }
    }

    /// The distribution.
    pub fn finish(self) -> LatencyHistogram {
        self.hist
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for v in (0..100_000u64).chain([1 << 20, (1 << 40) + 12345, u64::MAX / 3, u64::MAX]) {
            let b = bucket(v);
            assert!(b < BUCKETS, "{v}");
            assert!(b >= last || v > 100_000, "monotone at {v}");
            last = b;
            let floor = bucket_floor(b);
            assert!(floor <= v, "{v}: floor {floor}");
            // Within 1/256 of the value.
            assert!(v - floor <= v / 256, "{v}: floor {floor}");
            if v < LINEAR {
                assert_eq!(floor, v);
            }
        }
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for v in 1..=100 {
            h.add(v);
        }
        assert_eq!(h.quantile(0.5), Some(50));
        assert_eq!(h.quantile(0.99), Some(99));
        assert_eq!(h.quantile(1.0), Some(100));
        assert_eq!(h.quantile(0.001), Some(1));
        assert_eq!(h.total(), 5050);
        h.add(1_000_000_007);
        assert_eq!(h.max(), 1_000_000_007);
        assert_eq!(h.quantile(1.0), Some(1_000_000_007));
        let p = h.quantile(0.995).unwrap();
        assert!(
            (1_000_000_007 - 1_000_000_007 / 256..=1_000_000_007).contains(&p),
            "{p}"
        );
    }
}
