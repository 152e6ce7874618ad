//! # gotrace-capture
//!
//! Captures Go execution traces from a live program's
//! `net/http/pprof` endpoint (`/debug/pprof/trace?seconds=N`), once or on a
//! rolling schedule.
//!
//! - [`capture`] fetches one trace into a file. The body is streamed to a
//!   temporary file next to the destination and renamed into place only once
//!   it is known to be a trace, so a reader never sees a half-written file.
//!   The trace header is checked as soon as the first bytes arrive: an error
//!   page, a 404 or anything else that is not a trace is reported with the
//!   HTTP status and the body's first line, and leaves no file behind.
//! - When the stream ends early (connection cut, stalled, overall deadline,
//!   size cap, cancellation), the complete generations received so far are
//!   kept in **`<output>.partial`** — never under the requested name — and the
//!   error's [`Salvage`] says exactly what was kept and what was lost. See
//!   [`Interrupted`].
//! - [`record()`] captures every `every`, keeps the newest `keep` captures
//!   within a byte budget, and can keep only the captures a [`Trigger`]
//!   accepts — the built-in [`Condition`]s `stw>DURATION` (a stop-the-world
//!   pause) and `sched-p99>DURATION` (a scheduler-latency quantile).
//!
//! The library never prints: progress comes through a callback
//! ([`Progress`]) and recorder activity through [`RecordEvent`]s.
//!
//! ```no_run
//! use gotrace_capture::{capture, CaptureOptions};
//! use std::time::Duration;
//!
//! let report = capture(
//!     "http://127.0.0.1:6060",
//!     Some(Duration::from_secs(5)),
//!     "trace.out".as_ref(),
//!     &CaptureOptions::default(),
//!     &mut |p| eprintln!("{} bytes after {:?}", p.bytes, p.elapsed),
//! )?;
//! println!("{} bytes, {:?} generations", report.bytes, report.generations);
//! # Ok::<(), gotrace_capture::CaptureError>(())
//! ```
//!
//! Only plain `http://` is supported: this crate has no TLS stack (pprof
//! endpoints are normally local, or reached through a tunnel). Nothing from
//! the response is trusted: redirects are not followed, the
//! `Content-Disposition` file name is ignored, and text quoted from an error
//! body is stripped of control characters and truncated.

#![warn(missing_docs)]

mod capture;
mod condition;
mod record;
mod salvage;
mod text;
mod url;

pub use capture::{
    capture, CaptureError, CaptureOptions, CaptureReport, Cause, Interrupted, Phase, Progress,
    Salvage, DEFAULT_MAX_BYTES,
};
pub use condition::{longest_stw, parse_duration, sched_latency, stw_pauses, Condition, StwPause};
pub use record::{
    is_recorded_name, record, BoxError, RecordError, RecordEvent, RecordOptions, RecordSummary,
    StopReason, Trigger,
};
pub use text::{format_bytes, parse_size};
pub use url::{trace_url, TraceUrl, DEFAULT_SECONDS};
