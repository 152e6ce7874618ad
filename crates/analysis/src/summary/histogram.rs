//! The reference's duration histogram (`traceviewer.TimeHistogram`): five
//! logarithmic buckets per power of ten, rendered as an HTML table on the
//! /usertasks and /userregions pages.
//!
//! Bucket indices and bounds come from `math.Log` and `math.Exp`, whose
//! results are truncated to integers, so they are computed here the way Go
//! computes them on amd64 (its assembly `Log` and `Exp`, the latter with
//! the FMA path chosen on CPUs with AVX and FMA, as Go does at run time):
//! one ulp can move a sample to the neighbouring bucket or a bound by 1ns.

use crate::goformat::{duration_string, query_escape};
use std::fmt::Write as _;
use std::sync::OnceLock;

/// A high-dynamic-range histogram of durations (nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeHistogram {
    /// Number of samples.
    pub count: usize,
    /// Samples per bucket (bucket `i` holds `[bucket_min(i), bucket_min(i+1))`).
    pub buckets: Vec<usize>,
    /// Lowest bucket shown (see [`TimeHistogram::add`] for a quirk).
    pub min_bucket: usize,
    /// Highest non-empty bucket.
    pub max_bucket: usize,
}

/// One displayed bucket of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramBucket {
    /// Bucket index.
    pub index: usize,
    /// Its lower bound, [`TimeHistogram::bucket_min`] (the label and `latmin`).
    pub min: i64,
    /// The next bucket's lower bound (the link's `latmax`).
    pub next_min: i64,
    /// Samples in the bucket.
    pub count: usize,
    /// Bar width in pixels: `count * 400 / max count`.
    pub width: usize,
}

impl TimeHistogram {
    /// The bucket of a duration: `int(ln(d) / ln(10^(1/5)))`, 0 for `d <= 0`.
    pub fn bucket_of(d: i64) -> usize {
        if d <= 0 {
            return 0;
        }
        f64_to_int(log(d as f64) / log_div()).max(0) as usize
    }

    /// Adds a sample. Quirk reproduced: the lowest bucket is reset to the
    /// new sample's whenever the highest is still 0, so samples of 1ns or
    /// less (bucket 0) followed by longer ones leave bucket 0 off the table.
    pub fn add(&mut self, d: i64) {
        self.add_to_bucket(Self::bucket_of(d));
    }

    /// Adds a sample in bucket `b` ([`TimeHistogram::bucket_of`]).
    pub(crate) fn add_to_bucket(&mut self, b: usize) {
        if self.buckets.len() <= b {
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
        if b < self.min_bucket || self.max_bucket == 0 {
            self.min_bucket = b;
        }
        if b > self.max_bucket {
            self.max_bucket = b;
        }
        self.count += 1;
    }

    /// Lower bound of a bucket: `time.Duration(math.Exp(b * ln(10^(1/5))))`.
    pub fn bucket_min(b: usize) -> i64 {
        f64_to_int(exp(b as f64 * log_div()))
    }

    /// The buckets the reference displays, `min_bucket..=max_bucket`
    /// (empty ones included); nothing if there are no samples.
    pub fn rows(&self) -> Vec<HistogramBucket> {
        if self.count == 0 {
            return Vec::new();
        }
        let max_count = self.buckets.iter().copied().max().unwrap_or(0).max(1);
        (self.min_bucket..=self.max_bucket)
            .map(|i| {
                let count = self.buckets.get(i).copied().unwrap_or(0);
                HistogramBucket {
                    index: i,
                    min: Self::bucket_min(i),
                    next_min: Self::bucket_min(i + 1),
                    count,
                    width: count * 400 / max_count,
                }
            })
            .collect()
    }

    /// The HTML the reference writes for the histogram (`ToHTML`), given
    /// the link of a bucket `[min, next_min)`; empty without samples.
    /// See [`task_bucket_url`] and [`region_bucket_url`].
    pub fn to_html(&self, url: impl Fn(i64, i64) -> String) -> String {
        if self.count == 0 {
            return String::new();
        }
        let mut w = String::from("<table>");
        for r in self.rows() {
            if r.count > 0 {
                let _ = write!(
                    w,
                    r#"<tr><td class="histoTime" align="right"><a href={}>{}</a></td>"#,
                    url(r.min, r.next_min),
                    duration_string(r.min)
                );
            } else {
                let _ = write!(
                    w,
                    r#"<tr><td class="histoTime" align="right">{}</td>"#,
                    duration_string(r.min)
                );
            }
            let _ = write!(
                w,
                r#"<td><div style="width:{}px;background:blue;position:relative">&nbsp;</div></td>"#,
                r.width
            );
            let _ = writeln!(
                w,
                r#"<td align="right"><div style="position:relative">{}</div></td></tr>"#,
                r.count
            );
        }
        let _ = write!(
            w,
            r#"<tr><td align="right">{}</td></tr></table>"#,
            duration_string(Self::bucket_min(self.max_bucket + 1))
        );
        w
    }
}

/// The link of a task histogram bucket on /usertasks:
/// `/usertask?type=T&complete=true&latmin=MIN&latmax=MAX` (query-escaped).
pub fn task_bucket_url(typ: &[u8], min: i64, max: i64) -> String {
    format!(
        "/usertask?type={}&complete=true&latmin={}&latmax={}",
        query_escape(typ),
        query_escape(duration_string(min).as_bytes()),
        query_escape(duration_string(max).as_bytes())
    )
}

/// The link of a region histogram bucket on /userregions:
/// `/userregion?type=T&pc=HEX&latmin=MIN&latmax=MAX`.
pub fn region_bucket_url(typ: &[u8], pc: u64, min: i64, max: i64) -> String {
    format!(
        "/userregion?type={}&pc={:x}&latmin={}&latmax={}",
        query_escape(typ),
        pc,
        query_escape(duration_string(min).as_bytes()),
        query_escape(duration_string(max).as_bytes())
    )
}

/// Go's float64 → int64 conversion on amd64 (`CVTTSD2SQ`): truncation, and
/// the "integer indefinite" value `i64::MIN` for NaN and out-of-range values.
fn f64_to_int(x: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// `math.Log(math.Pow(10, 1.0/5))`. `Pow` with a fractional exponent
/// below one half and no integer part is `Exp(y * Log(x))`.
fn log_div() -> f64 {
    static V: OnceLock<f64> = OnceLock::new();
    *V.get_or_init(|| log(exp(0.2 * log(10.0))))
}

/// Whether Go's amd64 `math.Exp` takes its FMA path (`useFMA`).
fn use_fma() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// `math.Log` as Go's amd64 assembly computes it (FreeBSD's algorithm with
/// a branch-free reduction: the mantissa is scaled into (√2/2, √2]).
#[allow(clippy::excessive_precision, clippy::approx_constant)]
pub(crate) fn log(x: f64) -> f64 {
    const HSQRT2: f64 = 7.07106781186547524401e-01;
    const LN2_HI: f64 = 6.93147180369123816490e-01;
    const LN2_LO: f64 = 1.90821492927058770002e-10;
    const L: [f64; 7] = [
        6.666666666666735130e-01,
        3.999999999940941908e-01,
        2.857142874366239149e-01,
        2.222219843214978396e-01,
        1.818357216161805012e-01,
        1.531383769920937332e-01,
        1.479819860511658591e-01,
    ];
    let bits = x.to_bits();
    if bits & !(1u64 << 63) == 0 {
        return f64::NEG_INFINITY;
    }
    if (bits as i64) < 0 {
        return f64::from_bits(0x7FF8_0000_0000_0001);
    }
    if bits >= 0x7FF0_0000_0000_0000 {
        return x;
    }
    let mut f1 = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FE0_0000_0000_0000);
    let mut k = (((bits >> 52) & 0x7FF) as i32 - 0x3FE) as f64;
    // Not (√2/2 < f1): halve the exponent's contribution, double f1.
    let adj = if HSQRT2 < f1 { 0.0 } else { 1.0 };
    k -= adj;
    f1 *= adj + 1.0;
    let f = f1 - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (((L[6] * s4 + L[4]) * s4 + L[2]) * s4 + L[0]);
    let t2 = s4 * ((L[5] * s4 + L[3]) * s4 + L[1]);
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// `math.Exp` as Go's amd64 assembly computes it (Shibata's method: a
/// Taylor series on x/16 then squared four times), with or without FMA.
pub(crate) fn exp(x: f64) -> f64 {
    exp_with(x, use_fma())
}

#[allow(clippy::excessive_precision, clippy::approx_constant)]
fn exp_with(x: f64, fma: bool) -> f64 {
    const LOG2E: f64 = 1.4426950408889634073599246810018920;
    const LN2U: f64 = 0.69314718055966295651160180568695068359375;
    const LN2L: f64 = 0.28235290563031577122588448175013436025525412068e-12;
    const OVERFLOW: f64 = 7.09782712893384e+02;
    // Taylor coefficients 1/8! ... 1/3!, then 1/2 and 1.
    const C: [f64; 8] = [
        2.4801587301587301587e-5,
        1.9841269841269841270e-4,
        1.3888888888888888889e-3,
        8.3333333333333333333e-3,
        4.1666666666666666667e-2,
        1.6666666666666666667e-1,
        0.5,
        1.0,
    ];
    if !x.is_finite() {
        return if x == f64::NEG_INFINITY { 0.0 } else { x };
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    // CVTSD2SL: round to nearest even; out of range gives i32::MIN.
    let t = LOG2E * x;
    let e: i32 = if t.abs() < 2_147_483_648.0 {
        t.round_ties_even() as i32
    } else {
        i32::MIN
    };
    let k = e as f64;
    let mut r;
    if fma {
        r = (-LN2U).mul_add(k, x);
        r = (-LN2L).mul_add(k, r);
        r *= 0.0625;
        let mut p = C[0];
        for &c in &C[1..] {
            p = p.mul_add(r, c);
        }
        r *= p;
        for _ in 0..3 {
            r *= r + 2.0;
        }
        r = r.mul_add(r + 2.0, 1.0);
    } else {
        r = x - LN2U * k;
        r -= LN2L * k;
        r *= 0.0625;
        let mut p = C[0];
        for &c in &C[1..] {
            p = p * r + c;
        }
        r *= p;
        for _ in 0..4 {
            r *= 2.0 + r;
        }
        r += 1.0;
    }
    // r * 2^e, with Go's handling of subnormal results.
    let biased = e.wrapping_add(0x3FF);
    if biased <= 0 {
        if biased < -52 {
            return 0.0;
        }
        let scaled = r * f64::from_bits(((biased + 0x3FE) as u64) << 52);
        return scaled * f64::from_bits(1u64 << 52);
    }
    if biased >= 0x7FF {
        return f64::INFINITY;
    }
    r * f64::from_bits((biased as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `time.Duration(math.Exp(b * logDiv))` for b = 0..=95, from Go 1.27.3
    /// on amd64 (with FMA).
    #[rustfmt::skip]
    const BUCKET_MINS: [i64; 96] = [
        1, 1, 2, 3, 6, 10, 15, 25, 39, 63, 100, 158, 251, 398, 630, 1000, 1584, 2511, 3981, 6309, 10000, 15848, 25118,
        39810, 63095, 100000, 158489, 251188, 398107, 630957, 1000000, 1584893, 2511886, 3981071, 6309573, 10000000,
        15848931, 25118864, 39810717, 63095734, 100000000, 158489319, 251188643, 398107170, 630957344, 1000000000,
        1584893192, 2511886431, 3981071705, 6309573444, 10000000000, 15848931924, 25118864315, 39810717055,
        63095734448, 100000000000, 158489319246, 251188643150, 398107170553, 630957344480, 1000000000000,
        1584893192461, 2511886431509, 3981071705534, 6309573444801, 10000000000000, 15848931924611, 25118864315095,
        39810717055349, 63095734448019, 100000000000000, 158489319246112, 251188643150959, 398107170553501,
        630957344480198, 1000000000000005, 1584893192461119, 2511886431509603, 3981071705535001, 6309573444801966,
        10000000000000034, 15848931924611272, 25118864315095968, 39810717055349920, 63095734448019960,
        100000000000000816, 158489319246112320, 251188643150959104, 398107170553500992, 630957344480198016,
        1000000000000005760, 1584893192461130752, 2511886431509602816, 3981071705535000576, 6309573444801965056,
        i64::MIN,
    ];

    #[test]
    fn log_div_matches_go() {
        assert_eq!(log_div().to_bits(), 0x3fdd791c5f888824);
    }

    #[test]
    fn bucket_mins_match_go() {
        if !use_fma() {
            return; // the table was taken on an FMA machine
        }
        for (b, &want) in BUCKET_MINS.iter().enumerate() {
            assert_eq!(TimeHistogram::bucket_min(b), want, "bucket {b}");
        }
    }

    /// `int(math.Log(float64(d)) / logDiv)` from Go 1.27.3 on amd64, around
    /// every bucket bound and power of ten: note that 10, 1000, ... fall
    /// in the bucket below the one they label.
    #[rustfmt::skip]
    const BUCKETS: &[(i64, usize)] = &[
        (1, 0), (2, 1), (3, 2), (4, 3), (5, 3), (6, 3), (7, 4), (9, 4), (10, 4), (11, 5), (14, 5), (15, 5), (16, 6),
        (24, 6), (25, 6), (26, 7), (38, 7), (39, 7), (40, 8), (62, 8), (63, 8), (64, 9), (99, 9), (100, 9), (101, 10),
        (157, 10), (158, 10), (159, 11), (250, 11), (251, 11), (252, 12), (397, 12), (398, 12), (399, 13), (629, 13),
        (630, 13), (631, 14), (999, 14), (1000, 14), (1001, 15), (1583, 15), (1584, 15), (1585, 16), (2510, 16),
        (2511, 16), (2512, 17), (3980, 17), (3981, 17), (3982, 18), (6308, 18), (6309, 18), (6310, 19), (9999, 19),
        (10000, 19), (10001, 20), (15847, 20), (15848, 20), (15849, 21), (25117, 21), (25118, 21), (25119, 22),
        (39809, 22), (39810, 22), (39811, 23), (63094, 23), (63095, 23), (63096, 24), (99999, 24), (100000, 24),
        (100001, 25), (158488, 25), (158489, 25), (158490, 26), (251187, 26), (251188, 26), (251189, 27), (398106, 27),
        (398107, 27), (398108, 28), (630956, 28), (630957, 28), (630958, 29), (999999, 29), (1000000, 29),
        (1000001, 30), (1584892, 30), (1584893, 30), (1584894, 31), (2511885, 31), (2511886, 31), (2511887, 32),
        (3981070, 32), (3981071, 32), (3981072, 33), (6309572, 33), (6309573, 33), (6309574, 34), (9999999, 34),
        (10000000, 34), (10000001, 35), (15848930, 35), (15848931, 35), (15848932, 36), (25118863, 36), (25118864, 36),
        (25118865, 37), (39810716, 37), (39810717, 37), (39810718, 38), (63095733, 38), (63095734, 38), (63095735, 39),
        (99999999, 39), (100000000, 39), (100000001, 40), (158489318, 40), (158489319, 40), (158489320, 41),
        (251188642, 41), (251188643, 41), (251188644, 42), (398107169, 42), (398107170, 42), (398107171, 43),
        (630957343, 43), (630957344, 43), (630957345, 44), (999999999, 44), (1000000000, 44), (1000000001, 45),
        (1584893191, 45), (1584893192, 45), (1584893193, 46), (2511886430, 46), (2511886431, 46), (2511886432, 47),
        (3981071704, 47), (3981071705, 47), (3981071706, 48), (6309573443, 48), (6309573444, 48), (6309573445, 49),
        (9999999999, 49), (10000000000, 49), (10000000001, 50), (15848931923, 50), (15848931924, 50),
        (15848931925, 51), (25118864314, 51), (25118864315, 51), (25118864316, 52), (39810717054, 52),
        (39810717055, 52), (39810717056, 53), (63095734447, 53), (63095734448, 53), (63095734449, 54),
        (99999999999, 54), (100000000000, 54), (100000000001, 55), (158489319245, 55), (158489319246, 55),
        (158489319247, 56), (251188643149, 56), (251188643150, 56), (251188643151, 57), (398107170552, 57),
        (398107170553, 57), (398107170554, 58), (630957344479, 58), (630957344480, 58), (630957344481, 59),
        (999999999999, 59), (1000000000000, 59), (1000000000001, 60), (1584893192460, 60), (1584893192461, 60),
        (1584893192462, 61), (2511886431508, 61), (2511886431509, 61), (2511886431510, 62), (3981071705533, 62),
        (3981071705534, 62), (3981071705535, 63), (6309573444800, 63), (6309573444801, 63), (6309573444802, 64),
        (9999999999999, 64), (10000000000000, 64), (10000000000001, 65), (15848931924610, 65), (15848931924611, 65),
        (15848931924612, 66), (25118864315094, 66), (25118864315095, 66), (25118864315096, 67), (39810717055348, 67),
        (39810717055349, 67), (39810717055350, 68), (63095734448018, 68), (63095734448019, 68), (63095734448020, 69),
        (99999999999999, 69), (100000000000000, 69), (100000000000001, 70), (158489319246111, 70),
        (158489319246112, 71), (158489319246113, 71), (251188643150958, 71), (251188643150959, 72),
        (251188643150960, 72), (398107170553500, 73), (398107170553501, 73), (398107170553502, 73),
        (630957344480197, 74), (630957344480198, 74), (630957344480199, 74), (1000000000000004, 75),
        (1000000000000005, 75), (1000000000000006, 75), (1584893192461118, 76), (1584893192461119, 76),
        (1584893192461120, 76), (2511886431509602, 77), (2511886431509603, 77), (2511886431509604, 77),
        (3981071705535000, 78), (3981071705535001, 78), (3981071705535002, 78), (6309573444801965, 79),
        (6309573444801966, 79), (6309573444801967, 79), (10000000000000033, 79), (10000000000000034, 79),
        (10000000000000035, 79), (15848931924611271, 81), (15848931924611272, 81), (15848931924611273, 81),
        (25118864315095967, 82), (25118864315095968, 82), (25118864315095969, 82), (39810717055349919, 83),
        (39810717055349920, 83), (39810717055349921, 83), (63095734448019959, 84), (63095734448019960, 84),
        (63095734448019961, 84), (100000000000000815, 85), (100000000000000816, 85), (100000000000000817, 85),
        (158489319246112319, 86), (158489319246112320, 86), (158489319246112321, 86), (251188643150959103, 86),
        (251188643150959104, 86), (251188643150959105, 86), (398107170553500991, 88), (398107170553500992, 88),
        (398107170553500993, 88), (630957344480198015, 89), (630957344480198016, 89), (630957344480198017, 89),
        (1000000000000005759, 90), (1000000000000005760, 90), (1000000000000005761, 90), (999999999999999, 74),
        (1000000000000000, 74), (1000000000000001, 74), (9999999999999999, 79), (10000000000000000, 79),
        (10000000000000001, 79), (99999999999999999, 84), (100000000000000000, 84), (100000000000000001, 84),
        (999999999999999999, 89), (1000000000000000000, 89), (1000000000000000001, 89),
    ];

    #[test]
    fn buckets_match_go() {
        assert_eq!(TimeHistogram::bucket_of(0), 0);
        assert_eq!(TimeHistogram::bucket_of(-5), 0);
        for &(d, want) in BUCKETS {
            assert_eq!(TimeHistogram::bucket_of(d), want, "{d}ns");
        }
    }

    #[test]
    fn bucket_zero_quirk() {
        let mut h = TimeHistogram::default();
        h.add(1);
        h.add(1001);
        assert_eq!((h.min_bucket, h.max_bucket, h.count), (15, 15, 2));
        assert_eq!(h.rows().len(), 1);
    }
}
