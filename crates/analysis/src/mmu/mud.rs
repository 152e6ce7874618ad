//! The mutator utilization distribution (`internal/trace/mud.go`): a
//! non-normalized density over utilization in [0, 1] built from uniform
//! pieces and Dirac deltas, with a 1024-bucket histogram that tracks where
//! a given cumulative mass falls while the distribution grows.
//!
//! Only [`super::MmuCurve::mud_distribution`] feeds it: the reference's own
//! `MUD` never adds anything (see the module docs of `mmu`).

use std::cmp::Ordering;

const DEGREE: usize = 1024;

#[derive(Clone, Copy)]
struct Edge {
    /// At x, the density increases by `delta`...
    x: f64,
    delta: f64,
    /// ... and there is a Dirac delta of this area.
    dirac: f64,
}

pub(crate) struct Mud {
    sorted: Vec<Edge>,
    unsorted: Vec<Edge>,
    track_mass: f64,
    track_bucket: usize,
    track_sum: f64,
    hist: Box<[f64; DEGREE]>,
}

/// Go's `math.Modf` for finite values.
fn modf(f: f64) -> (f64, f64) {
    let i = f.trunc();
    (i, f - i)
}

/// Go's `cmp.Compare` on floats (NaN first).
fn compare(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => {
            if a < b {
                Ordering::Less
            } else if a > b {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
    }
}

impl Mud {
    pub(crate) fn new() -> Self {
        Mud {
            sorted: Vec::new(),
            unsorted: Vec::new(),
            track_mass: 0.0,
            track_bucket: 0,
            track_sum: 0.0,
            hist: Box::new([0.0; DEGREE]),
        }
    }

    /// Adds a uniform density over [l, r] of total `area` (a Dirac delta
    /// if l == r).
    pub(crate) fn add(&mut self, mut l: f64, mut r: f64, area: f64) {
        if area == 0.0 {
            return;
        }
        if r < l {
            std::mem::swap(&mut l, &mut r);
        }
        if l == r {
            self.unsorted.push(Edge {
                x: l,
                delta: 0.0,
                dirac: area,
            });
        } else {
            let delta = area / (r - l);
            self.unsorted.push(Edge {
                x: l,
                delta,
                dirac: 0.0,
            });
            self.unsorted.push(Edge {
                x: r,
                delta: -delta,
                dirac: 0.0,
            });
        }

        let deg = DEGREE as f64;
        let (lb_f, mut lf) = modf(l * deg);
        // (Go would panic on a negative utilization; we clamp.)
        let mut lb = (lb_f as i64).max(0);
        if lb >= DEGREE as i64 {
            lb = DEGREE as i64 - 1;
            lf = 1.0;
        }
        let h = &mut self.hist;
        if l == r {
            h[lb as usize] += area;
        } else {
            let (rb_f, mut rf) = modf(r * deg);
            let mut rb = (rb_f as i64).max(0);
            if rb >= DEGREE as i64 {
                rb = DEGREE as i64 - 1;
                rf = 1.0;
            }
            if lb == rb {
                h[lb as usize] += area;
            } else {
                let per_bucket = area / (r - l) / deg;
                h[lb as usize] += per_bucket * (1.0 - lf);
                h[rb as usize] += per_bucket * rf;
                for b in &mut h[(lb + 1) as usize..rb as usize] {
                    *b += per_bucket;
                }
            }
        }

        let thresh = self.track_bucket as f64 / deg;
        if l < thresh {
            if r < thresh {
                self.track_sum += area;
            } else {
                self.track_sum += area * (thresh - l) / (r - l);
            }
            if self.track_sum >= self.track_mass {
                self.set_track_mass(self.track_mass);
            }
        }
    }

    /// Sets the cumulative mass whose utilization bounds
    /// [`Self::approx_inv_cumulative_sum`] reports.
    pub(crate) fn set_track_mass(&mut self, mass: f64) {
        self.track_mass = mass;
        let mut sum = 0.0;
        for (i, &val) in self.hist.iter().enumerate() {
            let new_sum = sum + val;
            if new_sum > mass {
                self.track_bucket = i;
                self.track_sum = sum;
                return;
            }
            sum = new_sum;
        }
        self.track_bucket = DEGREE;
        self.track_sum = sum;
    }

    /// Lower and upper bound of the tracked mass's utilization, if the
    /// distribution holds that much mass yet.
    pub(crate) fn approx_inv_cumulative_sum(&self) -> Option<(f64, f64)> {
        if self.track_bucket == DEGREE {
            return None;
        }
        Some((
            self.track_bucket as f64 / DEGREE as f64,
            (self.track_bucket + 1) as f64 / DEGREE as f64,
        ))
    }

    /// The utilization x such that the mass at or below x is `y`; NaN if
    /// the distribution is empty. The bool is false if the total mass is
    /// less than `y` (x is then the distribution's maximum).
    pub(crate) fn inv_cumulative_sum(&mut self, y: f64) -> (f64, bool) {
        if self.sorted.is_empty() && self.unsorted.is_empty() {
            return (f64::NAN, false);
        }
        let mut edges = std::mem::take(&mut self.unsorted);
        gotrace::gosort::sort_func(&mut edges, |a, b| compare(a.x, b.x));
        if self.sorted.is_empty() {
            self.sorted = edges;
        } else if !edges.is_empty() {
            let old = std::mem::take(&mut self.sorted);
            let mut merged = Vec::with_capacity(old.len() + edges.len());
            let (mut i, mut j) = (0, 0);
            while i < old.len() && j < edges.len() {
                if old[i].x < edges[j].x {
                    merged.push(old[i]);
                    i += 1;
                } else {
                    merged.push(edges[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&old[i..]);
            merged.extend_from_slice(&edges[j..]);
            self.sorted = merged;
        }

        let (mut csum, mut rate, mut prev_x) = (0.0f64, 0.0f64, 0.0f64);
        for e in &self.sorted {
            let mut new_csum = csum + (e.x - prev_x) * rate;
            if new_csum >= y {
                if rate == 0.0 {
                    return (e.x, true);
                }
                return ((y - csum) / rate + prev_x, true);
            }
            new_csum += e.dirac;
            if new_csum >= y {
                return (e.x, true);
            }
            csum = new_csum;
            prev_x = e.x;
            rate += e.delta;
        }
        (prev_x, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_and_dirac() {
        let mut m = Mud::new();
        m.add(0.0, 1.0, 10.0);
        m.add(0.5, 0.5, 5.0);
        assert_eq!(m.inv_cumulative_sum(0.0).0, 0.0);
        assert!((m.inv_cumulative_sum(2.5).0 - 0.25).abs() < 1e-12);
        assert_eq!(m.inv_cumulative_sum(7.0).0, 0.5);
        let (x, ok) = m.inv_cumulative_sum(100.0);
        assert!(!ok);
        assert_eq!(x, 1.0);
        m.set_track_mass(2.5);
        let (lo, hi) = m.approx_inv_cumulative_sum().unwrap();
        assert!(lo <= 0.25 && 0.25 < hi);
    }
}
