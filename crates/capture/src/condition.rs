//! Conditions that decide whether a capture is worth keeping.
//!
//! For now there is one: `stw>DURATION` (or `stw>=DURATION`), true when the
//! trace has a stop-the-world pause longer than DURATION, measured from its
//! `stop-the-world (…)` RangeBegin to the matching RangeEnd — what `go tool
//! trace` draws. More conditions (GC time, scheduling latency, blocking)
//! come with the analyses.

use crate::record::{BoxError, Trigger};
use gotrace::{EventKind, GoId, RangeName, Reader, Time};
use std::collections::HashMap;
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
    // A goroutine stops the world and starts it again itself.
    let mut open: HashMap<GoId, (Time, String)> = HashMap::new();
    while let Some(ev) = r.read_event()? {
        let k = ev.kind();
        if k != EventKind::RangeBegin && k != EventKind::RangeEnd {
            continue;
        }
        let Some(range) = ev.range() else { continue };
        let RangeName::Stw(kind) = range.name else {
            continue;
        };
        let g = ev.goroutine();
        if k == EventKind::RangeBegin {
            open.insert(g, (ev.time(), String::from_utf8_lossy(kind).into_owned()));
        } else if let Some((start, kind)) = open.remove(&g) {
            let duration = Duration::from_nanos(ev.time().saturating_sub(start).max(0) as u64);
            if f(StwPause {
                kind,
                start,
                duration,
            }) {
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
            other => Err(format!(
                "unknown condition {other:?}: only stw>DURATION is supported for now; \
                 conditions on the analyses (GC, latency, blocking) come with them"
            )),
        }
    }
}

/// Parses a Go-style duration: `5ms`, `1.5s`, `250us` (or `µs`), `2m30s`,
/// `1h`. Units are required, except for a bare `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let orig = s;
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let bad = || format!("invalid duration {orig:?}: want e.g. 5ms, 1.5s, 250us, 2m30s");
    let mut rest = s;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return Err(bad());
        }
        let v: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_ns: f64 = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        rest = &rest[u..];
        total += v * unit_ns;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(Duration::from_nanos(total.round() as u64))
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
            .contains("only stw>DURATION"));
        assert!("stw<5ms".parse::<Condition>().is_err());
        assert!("stw>fast".parse::<Condition>().is_err());
        assert!("stw".parse::<Condition>().is_err());
        assert_eq!(
            "stw>5ms".parse::<Condition>().unwrap().to_string(),
            "stw>5ms"
        );
    }
}
