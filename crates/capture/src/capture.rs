//! One capture: request, sniff, stream to a temporary file, validate, rename.

use crate::salvage::{read_all, scan_framing, Tail};
use crate::text::{first_line, format_bytes, html_title, sanitize};
use crate::url::trace_url;
use gotrace_wire::{read_header, HeaderError, Version, HEADER_PREFIX};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default cap on a trace's size: 4 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 30;

/// How often the capture loop wakes up to check deadlines, cancellation
/// and report progress.
const TICK: Duration = Duration::from_millis(100);

/// How much of an error body is read to quote from it.
const SNIPPET: usize = 4096;

/// Size of one network read.
const CHUNK: usize = 64 << 10;

/// Limits and switches for [`capture`].
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    /// Limit on resolving the host and establishing the TCP connection.
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// The whole capture, from the request to the last byte, must end
    /// within the requested duration plus this margin. Default 30 s; raise it
    /// for very large traces over slow links.
    pub margin: Duration,
    /// Once the response has started, the stream counts as stalled after
    /// this long without a byte. It applies only when a gap is abnormal:
    /// after the requested duration has passed, or earlier for Go 1.22+
    /// traces, which the runtime flushes about every second. (Before that,
    /// and for older traces, a quiet program may legitimately send nothing
    /// until the end.) Default 20 s.
    pub stall_timeout: Duration,
    /// Largest body accepted; a larger one is cut off there. Default 4 GiB.
    pub max_bytes: u64,
    /// Read the finished trace with the `gotrace` Reader before keeping it,
    /// and count its generations and events. Default true.
    pub validate: bool,
    /// Set to true (e.g. from a Ctrl-C handler) to stop the capture: the
    /// complete generations received so far are kept as a partial file.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            connect_timeout: Duration::from_secs(5),
            margin: Duration::from_secs(30),
            stall_timeout: Duration::from_secs(20),
            max_bytes: DEFAULT_MAX_BYTES,
            validate: true,
            cancel: None,
        }
    }
}

/// Where a capture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connecting, or waiting for the server to start its response (a Go
    /// server may hold it back until it has a first buffer of trace data).
    Requesting,
    /// Receiving the trace.
    Receiving,
    /// Reading the received trace back to check it.
    Validating,
}

/// A progress report, sent about every 100 ms.
#[derive(Debug, Clone)]
pub struct Progress {
    /// What is happening.
    pub phase: Phase,
    /// Body bytes received so far.
    pub bytes: u64,
    /// Time since the capture started.
    pub elapsed: Duration,
    /// The duration asked of the server.
    pub seconds: Duration,
}

/// A successful capture.
#[derive(Debug, Clone)]
pub struct CaptureReport {
    /// The URL fetched.
    pub url: String,
    /// The trace file written.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// The trace's format version; `None` if this gotrace does not support
    /// it (the file is kept anyway, see `warning`).
    pub version: Option<Version>,
    /// The header as received, e.g. `go 1.27 trace`.
    pub header: String,
    /// Complete generations, if validated.
    pub generations: Option<u64>,
    /// Events (Sync events included), if validated.
    pub events: Option<u64>,
    /// How long the capture took, validation included.
    pub elapsed: Duration,
    /// Something the caller should know although the capture succeeded:
    /// an unsupported version, or a trace that did not read cleanly.
    pub warning: Option<String>,
}

/// What was kept of a trace whose stream ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvage {
    /// The partial trace: the requested path plus `.partial`.
    pub path: PathBuf,
    /// Body bytes received before the stream ended.
    pub received_bytes: u64,
    /// Bytes kept: the header and the complete generations.
    pub kept_bytes: u64,
    /// Complete generations kept, as counted by the `gotrace` Reader.
    pub generations: u64,
    /// Events in them (Sync events included).
    pub events: u64,
}

impl Salvage {
    /// Bytes received but dropped: the incomplete last generation.
    pub fn dropped_bytes(&self) -> u64 {
        self.received_bytes - self.kept_bytes
    }
}

/// Why a stream ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The connection failed or was closed mid-body.
    Cut(String),
    /// No byte arrived for this long.
    Stalled(Duration),
    /// The overall deadline (duration plus margin) passed after this long.
    Deadline(Duration),
    /// The body exceeded the cap (or announced a length beyond it).
    TooLarge {
        /// The cap.
        cap: u64,
        /// The length the server announced, if it announced one beyond the cap.
        announced: Option<u64>,
    },
    /// The caller cancelled the capture.
    Cancelled,
    /// The HTTP response ended normally but the trace in it is truncated.
    Truncated(String),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Cut(m) => write!(f, "the connection was cut ({m})"),
            Cause::Stalled(d) => write!(f, "the stream stalled (no data for {})", secs(*d)),
            Cause::Deadline(d) => write!(f, "the capture did not finish within {}", secs(*d)),
            Cause::TooLarge {
                cap,
                announced: Some(n),
            } => {
                write!(
                    f,
                    "the server announced {} ({n} bytes), beyond the cap of {}",
                    format_bytes(*n),
                    format_bytes(*cap)
                )
            }
            Cause::TooLarge {
                cap,
                announced: None,
            } => {
                write!(
                    f,
                    "the trace exceeded the cap of {} ({cap} bytes) and was cut off there",
                    format_bytes(*cap)
                )
            }
            Cause::Cancelled => f.write_str("the capture was cancelled"),
            Cause::Truncated(m) => write!(f, "the response ended but the trace is truncated ({m})"),
        }
    }
}

/// A capture whose stream ended early, and what was kept of it.
#[derive(Debug, Clone)]
pub struct Interrupted {
    /// The URL fetched.
    pub url: String,
    /// Why the stream ended.
    pub cause: Cause,
    /// Body bytes received.
    pub received_bytes: u64,
    /// The partial file kept, or why nothing could be kept.
    pub salvage: Result<Salvage, String>,
}

/// Why a capture failed. No file is left behind, except the `.partial`
/// file of an [`Interrupted`] capture whose [`Interrupted::salvage`] is `Ok`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CaptureError {
    /// The URL cannot be used.
    BadUrl {
        /// As given.
        url: String,
        /// Why.
        reason: String,
    },
    /// No connection: refused, unknown host, connect timeout.
    Connect {
        /// The URL fetched.
        url: String,
        /// Why.
        reason: String,
    },
    /// Connected, but no response came in time.
    NoResponse {
        /// The URL fetched.
        url: String,
        /// How long we waited.
        waited: Duration,
        /// Details.
        reason: String,
    },
    /// The peer does not speak HTTP/1.x correctly.
    Protocol {
        /// The URL fetched.
        url: String,
        /// Why.
        reason: String,
    },
    /// A status other than 200.
    Http {
        /// The URL fetched.
        url: String,
        /// The status code.
        status: u16,
        /// The Content-Type, sanitized.
        content_type: Option<String>,
        /// The body's first non-blank line, sanitized and truncated.
        first_line: String,
        /// The `<title>` if the body is an HTML page.
        title: Option<String>,
        /// The Location of a redirect (which is never followed).
        location: Option<String>,
    },
    /// Status 200, but the body is not a Go execution trace.
    NotATrace {
        /// The URL fetched.
        url: String,
        /// The status code.
        status: u16,
        /// The Content-Type, sanitized.
        content_type: Option<String>,
        /// The body's first non-blank line, sanitized and truncated.
        first_line: String,
        /// The `<title>` if the body is an HTML page.
        title: Option<String>,
        /// Body bytes seen (at most a few KiB are read once it is clear).
        bytes: u64,
    },
    /// The stream ended early; see [`Interrupted::salvage`] for what was kept.
    Interrupted(Box<Interrupted>),
    /// Writing the output failed.
    Local {
        /// The file concerned.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl CaptureError {
    /// The partial trace kept, if any.
    pub fn salvage(&self) -> Option<&Salvage> {
        match self {
            CaptureError::Interrupted(i) => i.salvage.as_ref().ok(),
            _ => None,
        }
    }

    /// Whether the capture was cancelled by the caller.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, CaptureError::Interrupted(i) if i.cause == Cause::Cancelled)
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn describe_body(
    f: &mut fmt::Formatter<'_>,
    ct: &Option<String>,
    line: &str,
    title: &Option<String>,
) -> fmt::Result {
    if let Some(t) = title {
        write!(f, "; an HTML page titled {t:?}")?;
    } else if let Some(ct) = ct {
        write!(f, "; Content-Type {ct}")?;
    }
    if line.is_empty() {
        f.write_str("; the body is empty")
    } else {
        write!(f, "; the body begins {line:?}")
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::BadUrl { url, reason } => write!(f, "bad URL {url:?}: {reason}"),
            CaptureError::Connect { url, reason } => write!(f, "cannot connect to {url}: {reason}"),
            CaptureError::NoResponse {
                url,
                waited,
                reason,
            } => {
                write!(f, "{url}: no response after {}: {reason}", secs(*waited))
            }
            CaptureError::Protocol { url, reason } => {
                write!(f, "{url}: not a valid HTTP response: {reason}")
            }
            CaptureError::Http {
                url,
                status,
                content_type,
                first_line,
                title,
                location,
            } => {
                write!(f, "{url}: HTTP {status}")?;
                if let Some(r) = ureq::http::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                {
                    write!(f, " {r}")?;
                }
                if let Some(l) = location {
                    write!(f, "; it redirects to {l:?}, which gotrace does not follow: pass that URL if you trust it")?;
                }
                describe_body(f, content_type, first_line, title)
            }
            CaptureError::NotATrace {
                url,
                status,
                content_type,
                first_line,
                title,
                ..
            } => {
                write!(
                    f,
                    "{url}: the response (HTTP {status}) is not a Go execution trace"
                )?;
                describe_body(f, content_type, first_line, title)
            }
            CaptureError::Interrupted(i) => {
                write!(
                    f,
                    "{}: {} after {} of trace",
                    i.url,
                    i.cause,
                    format_bytes(i.received_bytes)
                )?;
                match &i.salvage {
                    Ok(s) => write!(
                        f,
                        "; kept the {} complete generation{} ({}, {} events) in {}, marked partial; lost: {} of an \
                         incomplete generation and whatever the server had not sent",
                        s.generations,
                        if s.generations == 1 { "" } else { "s" },
                        format_bytes(s.kept_bytes),
                        s.events,
                        s.path.display(),
                        format_bytes(s.dropped_bytes()),
                    ),
                    Err(why) => write!(f, "; nothing kept: {why}"),
                }
            }
            CaptureError::Local { path, reason } => write!(f, "{}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for CaptureError {}

/// The destination and its sibling names.
struct Output {
    path: PathBuf,
    dir: PathBuf,
    name: String,
}

impl Output {
    fn new(path: &Path) -> Result<Output, CaptureError> {
        let local = |reason: String| CaptureError::Local {
            path: path.to_path_buf(),
            reason,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| local("not a file name".into()))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(local(format!("directory {} does not exist", dir.display())));
        }
        if path.is_dir() {
            return Err(local("is a directory".into()));
        }
        Ok(Output {
            path: path.to_path_buf(),
            dir,
            name,
        })
    }

    /// `<output>.partial`.
    fn partial(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".partial");
        PathBuf::from(p)
    }
}

/// A file in the destination directory that is removed unless persisted.
struct TempFile {
    path: PathBuf,
    file: File,
    kept: bool,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempFile {
    /// `.<name>.<pid>-<n>.tmp`, created exclusively.
    fn create(out: &Output) -> io::Result<TempFile> {
        let mut last = None;
        for _ in 0..100 {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = out
                .dir
                .join(format!(".{}.{}-{n}.tmp", out.name, std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file,
                        kept: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// Renames into place, flushed to disk first.
    fn persist(mut self, to: &Path) -> io::Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.path, to)?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The response line and the headers we use, sanitized.
struct Head {
    status: u16,
    content_type: Option<String>,
    content_length: Option<u64>,
    location: Option<String>,
}

enum Msg {
    Head(Head),
    Data(Vec<u8>),
    End,
    /// The request failed before a response.
    CallFailed(ureq::Error),
    /// Reading the body failed.
    BodyFailed(io::Error),
}

fn fetch(agent: ureq::Agent, url: String, tx: SyncSender<Msg>) {
    let resp = match agent.get(&url).call() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Msg::CallFailed(e));
            return;
        }
    };
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| sanitize(v.as_bytes(), 200))
    };
    let head = Head {
        status: resp.status().as_u16(),
        content_type: header("content-type"),
        content_length: resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok()),
        location: header("location"),
    };
    if tx.send(Msg::Head(head)).is_err() {
        return;
    }
    let mut body = resp.into_body().into_reader();
    loop {
        let mut buf = vec![0u8; CHUNK];
        match body.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Msg::End);
                return;
            }
            Ok(n) => {
                buf.truncate(n);
                if tx.send(Msg::Data(buf)).is_err() {
                    return; // the capture gave up
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Msg::BodyFailed(e));
                return;
            }
        }
    }
}

/// What the first bytes say.
enum Sniff {
    /// Could still become a header.
    Need,
    /// Cannot be a trace header.
    NotATrace,
    /// A header: the version (or the unsupported minor) and its length.
    Header(Result<Version, u64>, usize),
}

fn sniff(b: &[u8]) -> Sniff {
    match read_header(b) {
        Ok(h) => return Sniff::Header(Ok(h.version), h.len),
        Err(HeaderError::Unsupported(minor)) => {
            let len = HEADER_PREFIX.len() + minor.to_string().len() + b" trace\0\0\0".len();
            return Sniff::Header(Err(minor), len);
        }
        Err(HeaderError::NotATrace) => {}
    }
    // Is `b` a prefix of some `go 1.NN trace\0\0\0`?
    let n = b.len().min(HEADER_PREFIX.len());
    if b[..n] != HEADER_PREFIX[..n] {
        return Sniff::NotATrace;
    }
    let rest = &b[n..];
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 9 || (digits == 0 && !rest.is_empty()) {
        return Sniff::NotATrace;
    }
    let tail = &rest[digits..];
    let want = b" trace\0\0\0";
    if tail.len() >= want.len() || !want.starts_with(tail) {
        return Sniff::NotATrace;
    }
    Sniff::Need
}

fn classify_call_error(url: &str, e: ureq::Error, waited: Duration) -> CaptureError {
    let url = url.to_string();
    match e {
        ureq::Error::Timeout(t @ (ureq::Timeout::Connect | ureq::Timeout::Resolve)) => {
            CaptureError::Connect {
                url,
                reason: format!("timed out ({t})"),
            }
        }
        ureq::Error::Timeout(t) => CaptureError::NoResponse {
            url,
            waited,
            reason: format!("timed out ({t})"),
        },
        ureq::Error::HostNotFound => CaptureError::Connect {
            url,
            reason: "host not found".into(),
        },
        ureq::Error::ConnectionFailed => CaptureError::Connect {
            url,
            reason: "connection failed".into(),
        },
        ureq::Error::BadUri(m) => CaptureError::BadUrl {
            url,
            reason: sanitize(m.as_bytes(), 200),
        },
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NotFound
            | io::ErrorKind::PermissionDenied => CaptureError::Connect {
                url,
                reason: io.to_string(),
            },
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => CaptureError::NoResponse {
                url,
                waited,
                reason: io.to_string(),
            },
            _ => CaptureError::NoResponse {
                url,
                waited,
                reason: format!("the connection failed before a response: {io}"),
            },
        },
        ureq::Error::Protocol(p) => CaptureError::Protocol {
            url,
            reason: sanitize(p.to_string().as_bytes(), 200),
        },
        other => CaptureError::Protocol {
            url,
            reason: sanitize(other.to_string().as_bytes(), 200),
        },
    }
}

/// Reads up to [`SNIPPET`] bytes of body into `buf`, for quoting, for at
/// most a couple of seconds.
fn collect_snippet(
    rx: &Receiver<Msg>,
    buf: &mut Vec<u8>,
    deadline: Instant,
    cancel: &dyn Fn() -> bool,
) {
    let until = deadline.min(Instant::now() + Duration::from_secs(2));
    while buf.len() < SNIPPET && !cancel() {
        let now = Instant::now();
        if now >= until {
            break;
        }
        match rx.recv_timeout((until - now).min(TICK)) {
            Ok(Msg::Data(d)) => buf.extend_from_slice(&d[..d.len().min(SNIPPET - buf.len())]),
            Err(RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
}

/// Captures a trace from a live Go program into `output`.
///
/// `url` is normalized by [`trace_url`]; `seconds` overrides the URL's own.
/// On success the file at `output` is a complete trace (validated unless
/// [`CaptureOptions::validate`] is off). On failure no file is left behind,
/// except `<output>.partial` when a stream that ended early had complete
/// generations worth keeping (see [`Interrupted`]). `progress` is called
/// about every 100 ms.
///
/// The body is streamed to a temporary file beside `output` (never held in
/// memory) and renamed into place when done. The call returns within the
/// requested duration plus [`CaptureOptions::margin`] (plus the time to
/// validate); a connection attempt that exceeds that is abandoned on a
/// helper thread, which ends by itself shortly after.
pub fn capture(
    url: &str,
    seconds: Option<Duration>,
    output: &Path,
    opts: &CaptureOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<CaptureReport, CaptureError> {
    let target = trace_url(url, seconds).map_err(|reason| CaptureError::BadUrl {
        url: url.to_string(),
        reason,
    })?;
    let out = Output::new(output)?;
    let url = target.url.clone();
    let start = Instant::now();
    let deadline = start + target.seconds + opts.margin;
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let local = |path: &Path, e: io::Error| CaptureError::Local {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };

    let mut cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_resolve(Some(opts.connect_timeout))
        .timeout_connect(Some(opts.connect_timeout))
        // The helper thread's own bound; the loop below gives up first.
        .timeout_global(Some(target.seconds + opts.margin + Duration::from_secs(2)))
        .user_agent(format!("gotrace/{}", env!("CARGO_PKG_VERSION")));
    if target.loopback {
        cfg = cfg.proxy(None);
    }
    let agent: ureq::Agent = cfg.build().into();
    let (tx, rx) = sync_channel::<Msg>(8);
    {
        let url = url.clone();
        std::thread::Builder::new()
            .name("gotrace-capture".into())
            .spawn(move || fetch(agent, url, tx))
            .map_err(|e| CaptureError::Local {
                path: output.to_path_buf(),
                reason: format!("cannot start a thread: {e}"),
            })?;
    }

    let mut head: Option<Head> = None;
    let mut sniffed: Vec<u8> = Vec::new();
    let mut header: Option<(Result<Version, u64>, usize)> = None;
    let mut header_text = String::new();
    let mut tmp: Option<TempFile> = None;
    let mut received: u64 = 0;
    let mut last_data = start;
    let mut last_progress: Option<Instant> = None;
    let mut report = |phase: Phase, bytes: u64, force: bool| {
        let now = Instant::now();
        if force || last_progress.is_none_or(|t| now - t >= TICK) {
            last_progress = Some(now);
            progress(&Progress {
                phase,
                bytes,
                elapsed: now - start,
                seconds: target.seconds,
            });
        }
    };
    report(Phase::Requesting, 0, true);

    let ended: Result<(), Cause> = loop {
        let now = Instant::now();
        if cancelled() {
            break Err(Cause::Cancelled);
        }
        if now >= deadline {
            if head.is_none() {
                return Err(CaptureError::NoResponse {
                    url,
                    waited: now - start,
                    reason: format!(
                        "the server did not answer within the {} asked for plus {} of margin",
                        secs(target.seconds),
                        secs(opts.margin)
                    ),
                });
            }
            break Err(Cause::Deadline(now - start));
        }
        if head.is_some() {
            let v122 = matches!(header, Some((Ok(v), _)) if v >= Version::Go122);
            let stall_applies = v122 || now - start >= target.seconds;
            if stall_applies && now - last_data >= opts.stall_timeout {
                break Err(Cause::Stalled(now - last_data));
            }
        }
        report(
            if head.is_some() {
                Phase::Receiving
            } else {
                Phase::Requesting
            },
            received,
            false,
        );
        let msg = match rx.recv_timeout(TICK.min(deadline - now)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                break Err(Cause::Cut("the HTTP reader stopped unexpectedly".into()))
            }
        };
        match msg {
            Msg::CallFailed(e) => return Err(classify_call_error(&url, e, start.elapsed())),
            Msg::BodyFailed(e) => break Err(Cause::Cut(sanitize(e.to_string().as_bytes(), 200))),
            Msg::Head(h) => {
                last_data = Instant::now();
                if h.status != 200 {
                    let mut body = Vec::new();
                    collect_snippet(&rx, &mut body, deadline, &cancelled);
                    return Err(CaptureError::Http {
                        url,
                        status: h.status,
                        content_type: h.content_type,
                        first_line: first_line(&body),
                        title: html_title(&body),
                        location: h.location.filter(|_| (300..400).contains(&h.status)),
                    });
                }
                let too_large = h.content_length.filter(|&n| n > opts.max_bytes);
                head = Some(h);
                if let Some(n) = too_large {
                    break Err(Cause::TooLarge {
                        cap: opts.max_bytes,
                        announced: Some(n),
                    });
                }
            }
            Msg::Data(mut d) => {
                last_data = Instant::now();
                let room = opts.max_bytes - received;
                let over = d.len() as u64 > room;
                if over {
                    d.truncate(room as usize);
                }
                received += d.len() as u64;
                match &mut tmp {
                    Some(t) => t.file.write_all(&d).map_err(|e| local(&t.path, e))?,
                    None => {
                        sniffed.extend_from_slice(&d);
                        match sniff(&sniffed) {
                            Sniff::Need => {}
                            Sniff::NotATrace => {
                                let h = head.take().expect("data follows the head");
                                sniffed.truncate(SNIPPET);
                                collect_snippet(&rx, &mut sniffed, deadline, &cancelled);
                                return Err(CaptureError::NotATrace {
                                    url,
                                    status: h.status,
                                    content_type: h.content_type,
                                    first_line: first_line(&sniffed),
                                    title: html_title(&sniffed),
                                    bytes: sniffed.len() as u64,
                                });
                            }
                            Sniff::Header(v, len) => {
                                header = Some((v, len));
                                let text = sniffed[..len]
                                    .strip_suffix(b"\0\0\0")
                                    .unwrap_or(&sniffed[..len]);
                                header_text = sanitize(text, 40);
                                let mut t =
                                    TempFile::create(&out).map_err(|e| local(&out.path, e))?;
                                t.file.write_all(&sniffed).map_err(|e| local(&t.path, e))?;
                                tmp = Some(t);
                                sniffed = Vec::new();
                            }
                        }
                    }
                }
                if over {
                    break Err(Cause::TooLarge {
                        cap: opts.max_bytes,
                        announced: None,
                    });
                }
            }
            Msg::End => break Ok(()),
        }
    };
    // Dropping the receiver stops the helper thread at its next read.
    drop(rx);

    let interrupted = |cause: Cause, salvage: Result<Salvage, String>| {
        CaptureError::Interrupted(Box::new(Interrupted {
            url: url.clone(),
            cause,
            received_bytes: received,
            salvage,
        }))
    };
    let (Some(t), Some((version, header_len))) = (tmp, header) else {
        // Nothing was written: no header yet.
        return Err(match (ended, head) {
            (Ok(()), Some(h)) => CaptureError::NotATrace {
                url: url.clone(),
                status: h.status,
                content_type: h.content_type,
                first_line: first_line(&sniffed),
                title: None,
                bytes: received,
            },
            // Not sent by `fetch`: a body ends only after its head.
            (Ok(()), None) => CaptureError::Protocol {
                url: url.clone(),
                reason: "no response".into(),
            },
            (Err(cause), _) => {
                let why = if received == 0 {
                    "no trace data was received"
                } else {
                    "the trace header was not complete"
                };
                interrupted(cause, Err(why.into()))
            }
        });
    };
    let finish = |t: TempFile,
                  generations: Option<u64>,
                  events: Option<u64>,
                  warning: Option<String>|
     -> Result<CaptureReport, CaptureError> {
        t.persist(&out.path).map_err(|e| local(&out.path, e))?;
        Ok(CaptureReport {
            url: url.clone(),
            path: out.path.clone(),
            bytes: received,
            version: version.ok(),
            header: header_text.clone(),
            generations,
            events,
            elapsed: start.elapsed(),
            warning,
        })
    };
    let salvage_it = |t: TempFile| match version {
        Ok(v) => salvage(t, v, header_len, received, &out),
        Err(minor) => Err(format!(
            "go 1.{minor} traces are not supported by this gotrace, so none can be validated"
        )),
    };
    match (ended, version) {
        (Err(cause), _) => Err(interrupted(cause, salvage_it(t))),
        (Ok(()), Err(minor)) => finish(
            t,
            None,
            None,
            Some(format!("go 1.{minor} traces are not supported by this gotrace: saved as received, not validated")),
        ),
        (Ok(()), Ok(v)) => {
            let mut t = t;
            report(Phase::Validating, received, true);
            // The HTTP body ended normally. Whether the trace did is for the
            // framing to say: a close-delimited body cannot tell a cut from
            // an end, and before Go 1.26 the Reader may take a cut for
            // corruption (a generation's tables missing).
            if !v.is_v1() {
                let framing = scan_framing(&mut t.file, header_len, v).map_err(|e| local(&t.path, e))?;
                let truncated = match framing.tail {
                    Tail::MidBatch(off) => Some(format!("the body ends inside the batch at byte offset {off}")),
                    Tail::OpenGeneration => Some("the body ends before the last generation's end marker".to_string()),
                    Tail::Complete | Tail::Corrupt(..) => None,
                };
                if let Some(m) = truncated {
                    return Err(interrupted(Cause::Truncated(m), salvage_it(t)));
                }
            }
            if !opts.validate {
                return finish(t, None, None, None);
            }
            match read_all(&t.path) {
                Ok(c) => finish(t, Some(c.generations), Some(c.events), None),
                Err(f) if f.truncation => Err(interrupted(Cause::Truncated(f.message), salvage_it(t))),
                Err(f) => finish(
                    t,
                    None,
                    None,
                    Some(format!("the trace does not read cleanly ({}); saved as received", f.message)),
                ),
            }
        }
    }
}

/// Keeps the complete generations of a stream that ended early in
/// `<output>.partial`, checked with the Reader; the rest is dropped.
fn salvage(
    mut t: TempFile,
    version: Version,
    header_len: usize,
    received: u64,
    out: &Output,
) -> Result<Salvage, String> {
    if version.is_v1() {
        return Err(format!("{version} traces (Go 1.21 and older) have no generations, so a cut one cannot be salvaged"));
    }
    let io_err = |e: io::Error| format!("{}: {e}", t.path.display());
    t.file.flush().map_err(io_err)?;
    let ends = scan_framing(&mut t.file, header_len, version)
        .map_err(io_err)?
        .ends;
    let mut k = ends.len();
    let counts = loop {
        if k == 0 {
            return Err("no generation was received complete".into());
        }
        let len = ends[k - 1];
        t.file
            .set_len(len)
            .map_err(|e| format!("{}: {e}", t.path.display()))?;
        match read_all(&t.path) {
            Ok(c) => break c,
            // Keep only what precedes the problem; `k` strictly decreases.
            Err(f) => {
                k = ends[..k - 1]
                    .iter()
                    .filter(|&&e| f.offset.is_none_or(|o| e <= o))
                    .count()
            }
        }
    };
    let path = out.partial();
    let kept_bytes = ends[k - 1];
    t.persist(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Salvage {
        path,
        received_bytes: received,
        kept_bytes,
        generations: counts.generations,
        events: counts.events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_decides_on_the_first_byte_that_rules_a_header_out() {
        assert!(matches!(sniff(b"<"), Sniff::NotATrace));
        assert!(matches!(sniff(b"go 1.2"), Sniff::Need));
        assert!(matches!(sniff(b"go 1.27 tr"), Sniff::Need));
        assert!(matches!(sniff(b"go 1.27 trace\0\0"), Sniff::Need));
        assert!(matches!(
            sniff(b"go 1.26 trace\0\0\0"),
            Sniff::Header(Ok(Version::Go126), 16)
        ));
        assert!(matches!(
            sniff(b"go 1.24 trace\0\0\0"),
            Sniff::Header(Err(24), 16)
        ));
        assert!(matches!(
            sniff(b"go 1.99 trace\0\0\0"),
            Sniff::Header(Err(99), 16)
        ));
        assert!(matches!(sniff(b"go 1.x"), Sniff::NotATrace));
        assert!(matches!(sniff(b"go 1.27 trace\n"), Sniff::NotATrace));
        assert!(matches!(sniff(b"go 1.2222222222"), Sniff::NotATrace));
        assert!(matches!(sniff(b""), Sniff::Need));
    }
}
