//! Conditions that decide whether a capture is worth keeping.
//!
//! - `stw>DURATION` (or `stw>=DURATION`) holds when the trace has a
//!   stop-the-world pause longer than DURATION, measured from its
//!   `stop-the-world (…)` RangeBegin to the matching RangeEnd — what `go
//!   tool trace` draws.
//! - `sched-p99>DURATION` (also p50, p90, p99.9, max) holds when that
//!   quantile of the scheduler latency (runnable to running) is above
//!   DURATION.

use crate::record::{BoxError, Trigger};
use gotrace::{Reader, Time};
use gotrace_analysis::gc::GcAnalyzer;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// One stop-the-world pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StwPause {
    /// Why the world stopped, e.g. `GC mark termination`.
    pub kind: String,
    /// When it began, in the trace's nanoseconds.
    pub start: Time,
    /// How long it lasted.
    pub duration: Duration,
}

/// Every complete stop-the-world pause in the trace, in the order they end.
/// A pause cut by the end of the trace (or by a read error) is not listed.
pub fn stw_pauses(path: &Path) -> Result<Vec<StwPause>, gotrace::Error> {
    let mut out = Vec::new();
    scan_stw(path, &mut |p| {
        out.push(p);
        false
    })?;
    Ok(out)
}

/// The longest stop-the-world pause in the trace, if it has any.
pub fn longest_stw(path: &Path) -> Result<Option<StwPause>, gotrace::Error> {
    Ok(stw_pauses(path)?.into_iter().max_by_key(|p| p.duration))
}

/// Calls `f` on each pause as it ends; stops early when `f` returns true.
/// Returns whether it stopped early.
fn scan_stw(path: &Path, f: &mut dyn FnMut(StwPause) -> bool) -> Result<bool, gotrace::Error> {
    let mut r = Reader::open(path)?;
    // The GC analysis pairs the ranges; it keeps only a few bytes a pause.
    let mut gc = GcAnalyzer::new();
    while let Some(ev) = r.read_event()? {
        if let Some(p) = gc.event(&ev) {
            let pause = StwPause {
                kind: p.kind.clone(),
                start: p.start,
                duration: Duration::from_nanos(p.duration.max(0) as u64),
            };
            if f(pause) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// A condition on a trace. Parse one with [`str::parse`]:
/// `stw>5ms`, `stw >= 1.5ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// Some stop-the-world pause lasts longer than (or, with `inclusive`,
    /// at least) `threshold`.
    Stw {
        /// The pause length compared against.
        threshold: Duration,
        /// `>=` rather than `>`.
        inclusive: bool,
    },
    /// A quantile of the scheduler latency (runnable to running) is above
    /// (or, with `inclusive`, at least) `threshold`: `sched-p99>10ms`,
    /// `sched-max>=50ms`. See [`gotrace_analysis::sched`].
    Sched {
        /// The quantile in per mille (990 for p99, 1000 for max).
        per_mille: u32,
        /// The latency compared against.
        threshold: Duration,
        /// `>=` rather than `>`.
        inclusive: bool,
    },
}

/// The scheduler latency distribution of a trace.
pub fn sched_latency(
    path: &Path,
) -> Result<gotrace_analysis::sched::LatencyHistogram, gotrace::Error> {
    let mut r = Reader::open(path)?;
    let mut s = gotrace_analysis::sched::SchedLatency::new();
    while let Some(ev) = r.read_event()? {
        s.event(&ev);
    }
    Ok(s.finish())
}

impl Condition {
    /// Whether the trace at `path` meets the condition. Reads only as far as
    /// needed: the first pause that qualifies decides.
    pub fn eval(&self, path: &Path) -> Result<bool, gotrace::Error> {
        match *self {
            Condition::Stw {
                threshold,
                inclusive,
            } => scan_stw(path, &mut |p| {
                if inclusive {
                    p.duration >= threshold
                } else {
                    p.duration > threshold
                }
            }),
            Condition::Sched {
                per_mille,
                threshold,
                inclusive,
            } => {
                let h = sched_latency(path)?;
                let Some(v) = h.quantile(per_mille as f64 / 1000.0) else {
                    return Ok(false);
                };
                let t = threshold.as_nanos().min(u64::MAX as u128) as u64;
                Ok(if inclusive { v >= t } else { v > t })
            }
        }
    }

    /// The condition as a recorder trigger.
    pub fn into_trigger(self) -> Trigger {
        Box::new(move |p: &Path| self.eval(p).map_err(|e| Box::new(e) as BoxError))
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Stw {
                threshold,
                inclusive,
            } => {
                write!(f, "stw{}{threshold:?}", if *inclusive { ">=" } else { ">" })
            }
            Condition::Sched {
                per_mille,
                threshold,
                inclusive,
            } => {
                let q = match per_mille {
                    1000 => "max".to_string(),
                    p if p % 10 == 0 => format!("p{}", p / 10),
                    p => format!("p{}.{}", p / 10, p % 10),
                };
                write!(
                    f,
                    "sched-{q}{}{threshold:?}",
                    if *inclusive { ">=" } else { ">" }
                )
            }
        }
    }
}

impl FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Condition, String> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let split = t
            .find(['>', '<', '=', '!'])
            .ok_or_else(|| format!("invalid condition {s:?}: want e.g. stw>5ms"))?;
        let (name, rest) = t.split_at(split);
        let (inclusive, value) = if let Some(v) = rest.strip_prefix(">=") {
            (true, v)
        } else if let Some(v) = rest.strip_prefix('>') {
            (false, v)
        } else {
            return Err(format!(
                "invalid condition {s:?}: only `>` and `>=` are supported"
            ));
        };
        match name.to_ascii_lowercase().as_str() {
            "stw" => {
                let threshold =
                    parse_duration(value).map_err(|e| format!("invalid condition {s:?}: {e}"))?;
                Ok(Condition::Stw {
                    threshold,
                    inclusive,
                })
            }
            other => match other.strip_prefix("sched-").and_then(per_mille) {
                Some(per_mille) => {
                    let threshold = parse_duration(value)
                        .map_err(|e| format!("invalid condition {s:?}: {e}"))?;
                    Ok(Condition::Sched {
                        per_mille,
                        threshold,
                        inclusive,
                    })
                }
                None => Err(format!(
                    "unknown condition {other:?}: want stw>DURATION (a stop-the-world pause) \
                     or sched-pNN>DURATION / sched-max>DURATION (scheduler latency, e.g. sched-p99>10ms)"
                )),
            },
        }
    }
}

/// `p99` -> 990, `p99.9` -> 999, `p50` -> 500, `max` -> 1000.
fn per_mille(q: &str) -> Option<u32> {
    if q == "max" {
        return Some(1000);
    }
    let q = q.strip_prefix('p')?;
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if int.is_empty()
        || int.len() > 2
        || frac.len() > 1
        || !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let v = int.parse::<u32>().ok()? * 10 + frac.parse::<u32>().unwrap_or(0);
    (v > 0).then_some(v)
}

/// Parses a Go duration (`time.ParseDuration` syntax): `5ms`, `1.5s`,
/// `250us` (or `µs`), `2m30s`, `1h`. Units are required, except for a bare
/// `0`; negative durations are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad =
        |why: String| format!("invalid duration {s:?}: {why}; want e.g. 5ms, 1.5s, 250us, 2m30s");
    match gotrace_analysis::goformat::parse_duration(s.trim()) {
        Ok(ns) if ns >= 0 => Ok(Duration::from_nanos(ns as u64)),
        Ok(_) => Err(bad("negative".into())),
        Err(e) => Err(bad(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("5ms"), Ok(Duration::from_millis(5)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("100µs"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "ms", "5 parsecs", "1.2.3s", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conditions_parse() {
        assert_eq!(
            "stw>5ms".parse::<Condition>(),
            Ok(Condition::Stw {
                threshold: Duration::from_millis(5),
                inclusive: false
            })
        );
        assert_eq!(
            " STW >= 1.5ms ".parse::<Condition>(),
            Ok(Condition::Stw {
                threshold: Duration::from_micros(1500),
                inclusive: true
            })
        );
        assert!("gc>5ms"
            .parse::<Condition>()
            .unwrap_err()
            .contains("want stw>DURATION"));
        assert_eq!(
            "sched-p99>10ms".parse::<Condition>(),
            Ok(Condition::Sched {
                per_mille: 990,
                threshold: Duration::from_millis(10),
                inclusive: false
            })
        );
        for (s, pm) in [
            ("sched-p50>1ms", 500),
            ("sched-p99.9>=1ms", 999),
            ("sched-max>1ms", 1000),
        ] {
            match s.parse::<Condition>() {
                Ok(Condition::Sched { per_mille, .. }) => assert_eq!(per_mille, pm, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
            assert_eq!(s.parse::<Condition>().unwrap().to_string(), s);
        }
        for bad in [
            "sched-p0>1ms",
            "sched-p100>1ms",
            "sched-p99.99>1ms",
            "sched-q99>1ms",
            "sched-p99>x",
        ] {
            assert!(bad.parse::<Condition>().is_err(), "{bad}");
        }
        assert!("stw<5ms".parse::<Condition>().is_err());
        assert!("stw>fast".parse::<Condition>().is_err());
        assert!("stw".parse::<Condition>().is_err());
        assert_eq!(
            "stw>5ms".parse::<Condition>().unwrap().to_string(),
            "stw>5ms"
        );
    }
}
