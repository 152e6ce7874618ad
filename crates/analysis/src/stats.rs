//! Order statistics of duration samples, shared by the reports and pages.

/// Count, sum and nearest-rank percentiles of a set of durations (ns).
///
/// Nearest rank: the `q`-quantile of `n` sorted samples is the sample at
/// rank `ceil(q * n)` (1-based), so every figure is one of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// Number of samples.
    pub count: usize,
    /// Sum of the samples.
    pub total: i64,
    /// Smallest sample.
    pub min: i64,
    /// Median.
    pub p50: i64,
    /// 90th percentile.
    pub p90: i64,
    /// 99th percentile.
    pub p99: i64,
    /// Largest sample.
    pub max: i64,
}

impl Percentiles {
    /// The statistics of `samples` (reordered in place), or `None` if it is
    /// empty.
    pub fn of(samples: &mut [i64]) -> Option<Percentiles> {
        let n = samples.len();
        if n == 0 {
            return None;
        }
        samples.sort_unstable();
        let rank = |q: f64| samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Some(Percentiles {
            count: n,
            total: samples.iter().fold(0i64, |a, &d| a.wrapping_add(d)),
            min: samples[0],
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: samples[n - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Percentiles;

    #[test]
    fn percentiles_are_nearest_rank_samples() {
        let mut v: Vec<i64> = (1..=100).rev().collect();
        let p = Percentiles::of(&mut v).unwrap();
        assert_eq!(
            (p.count, p.total, p.min, p.p50, p.p90, p.p99, p.max),
            (100, 5050, 1, 50, 90, 99, 100)
        );
        // Ten samples: p99 is the 10th (ceil(9.9)), p50 the 5th, p90 the 9th.
        let mut v: Vec<i64> = (1..=10).map(|i| i * 10).collect();
        let p = Percentiles::of(&mut v).unwrap();
        assert_eq!((p.p50, p.p90, p.p99), (50, 90, 100));
        let p = Percentiles::of(&mut [7]).unwrap();
        assert_eq!((p.min, p.p50, p.p99, p.max), (7, 7, 7, 7));
        assert_eq!(Percentiles::of(&mut []), None);
    }
}
