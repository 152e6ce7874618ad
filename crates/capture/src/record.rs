//! The rolling recorder: a capture every so often, the newest few kept.

use crate::capture::{capture, CaptureError, CaptureOptions, CaptureReport};
use crate::url::trace_url;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An error from a [`Trigger`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Decides whether a finished capture is kept: called with the trace's
/// path, returns true to keep it. See [`crate::Condition::into_trigger`].
pub type Trigger = Box<dyn Fn(&Path) -> Result<bool, BoxError> + Send>;

/// What [`record`] does.
pub struct RecordOptions {
    /// The server, as for [`capture`].
    pub url: String,
    /// Time from the start of one capture to the start of the next. If a
    /// capture takes longer, the next starts right after it (a Go program
    /// serves one trace at a time).
    pub every: Duration,
    /// How long each capture lasts.
    pub seconds: Duration,
    /// At most this many captures are kept in `dir`; the oldest go first.
    pub keep: usize,
    /// At most this many bytes of captures are kept in `dir`; the oldest go
    /// first (a single capture larger than this is not kept at all). It also
    /// caps each capture's size.
    pub max_total_bytes: u64,
    /// Where captures go: `gotrace-YYYYMMDDTHHMMSS.mmmZ.trace` (UTC), with
    /// `.partial` appended to a capture whose stream ended early. The
    /// recorder deletes only files with such names, and leftovers of its own
    /// temporary files; one recorder per directory.
    pub dir: PathBuf,
    /// Keep only the captures this accepts. A trigger that fails keeps the
    /// capture (and says so through [`RecordEvent::TriggerFailed`]).
    pub trigger: Option<Trigger>,
    /// Set to true to stop (e.g. from a Ctrl-C handler): the capture under
    /// way is abandoned and its files removed; kept captures stay.
    pub stop: Arc<AtomicBool>,
    /// Stop after this many captures, successful or not.
    pub max_iterations: Option<u64>,
    /// Give up after this many failed captures in a row (default: never).
    pub max_consecutive_failures: Option<u32>,
    /// Timeouts and size cap of each capture (its `cancel` is replaced by `stop`).
    pub capture: CaptureOptions,
}

impl RecordOptions {
    /// Every 10 s, 5 s captures, the newest 20 kept, no byte budget.
    pub fn new(url: impl Into<String>, dir: impl Into<PathBuf>) -> RecordOptions {
        RecordOptions {
            url: url.into(),
            every: Duration::from_secs(10),
            seconds: Duration::from_secs(5),
            keep: 20,
            max_total_bytes: u64::MAX,
            dir: dir.into(),
            trigger: None,
            stop: Arc::new(AtomicBool::new(false)),
            max_iterations: None,
            max_consecutive_failures: None,
            capture: CaptureOptions::default(),
        }
    }
}

/// What the recorder is doing, for the caller to show.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordEvent<'a> {
    /// Capture number `iteration` (from 1) starts.
    Capturing {
        /// Its number.
        iteration: u64,
    },
    /// It succeeded.
    Captured {
        /// Its number.
        iteration: u64,
        /// Details.
        report: &'a CaptureReport,
    },
    /// It failed; if the stream ended early with complete generations, the
    /// partial trace is considered like a capture (trigger, rotation).
    Failed {
        /// Its number.
        iteration: u64,
        /// Why.
        error: &'a CaptureError,
    },
    /// A capture was kept.
    Kept {
        /// Its number.
        iteration: u64,
        /// Where it is now.
        path: &'a Path,
        /// Its size.
        bytes: u64,
    },
    /// The trigger rejected a capture; it was deleted.
    Rejected {
        /// Its number.
        iteration: u64,
        /// Its size.
        bytes: u64,
    },
    /// The trigger failed; the capture is kept.
    TriggerFailed {
        /// Its number.
        iteration: u64,
        /// Why.
        error: &'a BoxError,
    },
    /// An older capture was deleted to respect `keep` or `max_total_bytes`.
    Deleted {
        /// Which.
        path: &'a Path,
        /// Its size.
        bytes: u64,
    },
}

/// Why the recorder stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The stop flag was set.
    Stopped,
    /// `max_iterations` were done.
    Iterations,
}

/// What the recorder did.
#[derive(Debug, Clone)]
pub struct RecordSummary {
    /// Captures attempted.
    pub iterations: u64,
    /// Captures that succeeded.
    pub captured: u64,
    /// Captures that failed (some of which may have left a partial trace).
    pub failed: u64,
    /// Captures the trigger rejected.
    pub rejected: u64,
    /// The captures in `dir` at the end, oldest first.
    pub files: Vec<PathBuf>,
    /// Why it stopped.
    pub stopped_by: StopReason,
}

/// Why the recorder could not go on.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordError {
    /// The options make no sense.
    Options(String),
    /// The directory cannot be used.
    Dir {
        /// Which.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `max_consecutive_failures` failures in a row; the last one.
    TooManyFailures {
        /// How many.
        count: u32,
        /// The last error.
        last: Box<CaptureError>,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Options(m) => f.write_str(m),
            RecordError::Dir { path, reason } => write!(f, "{}: {reason}", path.display()),
            RecordError::TooManyFailures { count, last } => {
                write!(
                    f,
                    "giving up after {count} failed captures in a row; the last: {last}"
                )
            }
        }
    }
}

impl std::error::Error for RecordError {}

const PREFIX: &str = "gotrace-";
const PENDING: &str = ".gotrace-pending-";

/// If `name` is one the recorder gives its captures, its sort key
/// (timestamp, sequence number).
fn recorded_key(name: &str) -> Option<(String, u32)> {
    let rest = name.strip_prefix(PREFIX)?;
    let rest = rest.strip_suffix(".partial").unwrap_or(rest);
    let stem = rest.strip_suffix(".trace")?;
    // YYYYMMDDTHHMMSS.mmmZ
    let (ts, seq) = stem.split_at_checked(20)?;
    let b = ts.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..8)
        && b[8] == b'T'
        && digits(9..15)
        && b[15] == b'.'
        && digits(16..19)
        && b[19] == b'Z')
    {
        return None;
    }
    let seq = match seq {
        "" => 0,
        s => {
            let n = s.strip_prefix('-')?;
            if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            n.parse().ok()?
        }
    };
    Some((ts.to_string(), seq))
}

/// Whether `name` is a file name the recorder gives its captures
/// (`gotrace-YYYYMMDDTHHMMSS.mmmZ[-N].trace[.partial]`).
pub fn is_recorded_name(name: &str) -> bool {
    recorded_key(name).is_some()
}

/// The recorder's captures in `dir`, oldest first, with their sizes.
fn list_captures(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(key) = recorded_key(&name) else {
            continue;
        };
        let md = e.metadata()?;
        if md.is_file() {
            v.push((key, e.path(), md.len()));
        }
    }
    v.sort();
    Ok(v.into_iter().map(|(_, p, n)| (p, n)).collect())
}

/// A fresh capture name: the current UTC time, with `-N` if taken.
fn fresh_name(dir: &Path) -> String {
    let ts = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let taken = |n: &str| {
        [
            n.to_string(),
            format!("{n}.partial"),
            format!("{PENDING}{n}"),
        ]
        .iter()
        .any(|x| dir.join(x).exists())
    };
    let mut name = format!("{PREFIX}{ts}.trace");
    let mut i = 1;
    while taken(&name) {
        name = format!("{PREFIX}{ts}-{i}.trace");
        i += 1;
    }
    name
}

struct Recorder<'a> {
    opts: RecordOptions,
    on_event: &'a mut dyn FnMut(&RecordEvent),
    rejected: u64,
}

impl Recorder<'_> {
    fn dir_error(&self, e: std::io::Error) -> RecordError {
        RecordError::Dir {
            path: self.opts.dir.clone(),
            reason: e.to_string(),
        }
    }

    /// Deletes the oldest captures beyond `keep` or the byte budget: once
    /// one does not fit, it and every older one go.
    fn rotate(&mut self) -> Result<(), RecordError> {
        let files = list_captures(&self.opts.dir).map_err(|e| self.dir_error(e))?;
        let mut total = 0u64;
        let mut count = 0usize;
        let mut full = false;
        for (path, bytes) in files.iter().rev() {
            if !full
                && count < self.opts.keep
                && total.saturating_add(*bytes) <= self.opts.max_total_bytes
            {
                count += 1;
                total += bytes;
                continue;
            }
            full = true;
            match std::fs::remove_file(path) {
                Ok(()) => (self.on_event)(&RecordEvent::Deleted {
                    path,
                    bytes: *bytes,
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(RecordError::Dir {
                        path: path.clone(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Runs the trigger on a finished capture at `src`; keeps it as `dst`
    /// (and rotates) or deletes it.
    fn consider(
        &mut self,
        iteration: u64,
        src: &Path,
        dst: &Path,
        bytes: u64,
    ) -> Result<(), RecordError> {
        let keep = match &self.opts.trigger {
            None => true,
            Some(t) => match t(src) {
                Ok(k) => k,
                Err(error) => {
                    (self.on_event)(&RecordEvent::TriggerFailed {
                        iteration,
                        error: &error,
                    });
                    true
                }
            },
        };
        if !keep {
            let _ = std::fs::remove_file(src);
            self.rejected += 1;
            (self.on_event)(&RecordEvent::Rejected { iteration, bytes });
            return Ok(());
        }
        std::fs::rename(src, dst).map_err(|e| {
            let _ = std::fs::remove_file(src);
            RecordError::Dir {
                path: dst.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        (self.on_event)(&RecordEvent::Kept {
            iteration,
            path: dst,
            bytes,
        });
        self.rotate()
    }

    fn stopped(&self) -> bool {
        self.opts.stop.load(Ordering::Relaxed)
    }

    fn run(&mut self) -> Result<RecordSummary, RecordError> {
        let dir = self.opts.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| self.dir_error(e))?;
        // Leftovers of an interrupted run: pending captures and their temporaries.
        for e in std::fs::read_dir(&dir)
            .map_err(|e| self.dir_error(e))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name.starts_with(PENDING)
                || name
                    .strip_prefix('.')
                    .is_some_and(|n| n.starts_with(PENDING));
            if ours && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        self.rotate()?;
        let mut copts = self.opts.capture.clone();
        copts.cancel = Some(self.opts.stop.clone());
        copts.max_bytes = copts.max_bytes.min(self.opts.max_total_bytes);
        let (mut iterations, mut captured, mut failed, mut in_a_row) = (0u64, 0u64, 0u64, 0u32);
        let mut next = Instant::now();
        let stopped_by = loop {
            if self.opts.max_iterations.is_some_and(|m| iterations >= m) {
                break StopReason::Iterations;
            }
            loop {
                if self.stopped() {
                    break;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                std::thread::sleep((next - now).min(Duration::from_millis(50)));
            }
            if self.stopped() {
                break StopReason::Stopped;
            }
            next = Instant::now() + self.opts.every;
            iterations += 1;
            let iteration = iterations;
            (self.on_event)(&RecordEvent::Capturing { iteration });
            let name = fresh_name(&dir);
            let pending = dir.join(format!("{PENDING}{name}"));
            match capture(
                &self.opts.url,
                Some(self.opts.seconds),
                &pending,
                &copts,
                &mut |_| {},
            ) {
                Ok(report) => {
                    in_a_row = 0;
                    captured += 1;
                    (self.on_event)(&RecordEvent::Captured {
                        iteration,
                        report: &report,
                    });
                    self.consider(iteration, &pending, &dir.join(&name), report.bytes)?;
                }
                Err(error) => {
                    let partial = error.salvage().map(|s| (s.path.clone(), s.kept_bytes));
                    if error.is_cancelled() {
                        if let Some((p, _)) = partial {
                            let _ = std::fs::remove_file(p);
                        }
                        break StopReason::Stopped;
                    }
                    failed += 1;
                    in_a_row += 1;
                    (self.on_event)(&RecordEvent::Failed {
                        iteration,
                        error: &error,
                    });
                    if let Some((p, bytes)) = partial {
                        self.consider(iteration, &p, &dir.join(format!("{name}.partial")), bytes)?;
                    }
                    if self
                        .opts
                        .max_consecutive_failures
                        .is_some_and(|m| in_a_row >= m)
                    {
                        return Err(RecordError::TooManyFailures {
                            count: in_a_row,
                            last: Box::new(error),
                        });
                    }
                }
            }
        };
        let files = list_captures(&dir)
            .map_err(|e| self.dir_error(e))?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        Ok(RecordSummary {
            iterations,
            captured,
            failed,
            rejected: self.rejected,
            files,
            stopped_by,
        })
    }
}

/// Captures from `opts.url` every `opts.every` until stopped, keeping the
/// newest captures within `opts.keep` and `opts.max_total_bytes` in
/// `opts.dir`, and only those `opts.trigger` accepts.
///
/// Each capture is written atomically under a hidden pending name, judged by
/// the trigger, then renamed to its timestamped name or deleted; so the
/// directory only ever shows whole captures. A failed capture does not stop
/// the recorder (a restarting server should not end a recording) unless
/// `max_consecutive_failures` says so. Returns when `opts.stop` is set
/// (within about 100 ms, abandoning the capture under way) or after
/// `opts.max_iterations`.
pub fn record(
    opts: RecordOptions,
    on_event: &mut dyn FnMut(&RecordEvent),
) -> Result<RecordSummary, RecordError> {
    if opts.keep == 0 {
        return Err(RecordError::Options("keep must be at least 1".into()));
    }
    trace_url(&opts.url, Some(opts.seconds))
        .map_err(|e| RecordError::Options(format!("bad URL {:?}: {e}", opts.url)))?;
    Recorder {
        opts,
        on_event,
        rejected: 0,
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_names_are_recognized_and_they_sort_in_time_order() {
        let mut names = vec![
            "gotrace-20260501T120000.123Z-1.trace",
            "gotrace-20260501T120000.123Z.trace.partial",
            "gotrace-20260501T115959.999Z.trace",
            "gotrace-20260501T120000.123Z-10.trace",
            "gotrace-20260501T120000.123Z-2.trace",
        ];
        names.sort_by_key(|n| recorded_key(n).unwrap());
        assert_eq!(
            names,
            [
                "gotrace-20260501T115959.999Z.trace",
                "gotrace-20260501T120000.123Z.trace.partial",
                "gotrace-20260501T120000.123Z-1.trace",
                "gotrace-20260501T120000.123Z-2.trace",
                "gotrace-20260501T120000.123Z-10.trace",
            ]
        );
        for not in [
            "trace.out",
            "gotrace-20260501T120000.123Z.trace.tmp",
            ".gotrace-pending-gotrace-20260501T120000.123Z.trace",
            "gotrace-20260501T120000.123Z-.trace",
            "gotrace-2026050xT120000.123Z.trace",
            "gotrace-20260501T120000.123Z-x.trace",
            "gotrace-.trace",
        ] {
            assert!(!is_recorded_name(not), "{not}");
        }
    }
}
