//! Robustness: what the reader does with input that is not a well-formed,
//! complete trace delivered in one piece.
//!
//! Truncated, corrupted, hostile or oddly delivered input must never make the
//! reader panic, hang or allocate without bound. It must salvage what the
//! reference (`go tool trace -d=parsed` of Go 1.27.3, i.e. Go's
//! `internal/trace`) salvages, and every error must say where in the input
//! things went wrong.
//!
//! Goldens for truncated traces are made by `corpus/regen-truncated.sh`.
//! Run with `cargo test --release -p gotrace --test robustness`.

use gotrace::{Error, ErrorKind, EventKind, Options, Reader, Version};
use gotrace_wire::spec::*;
use gotrace_wire::varint::put_uvarint;
use gotrace_wire::{read_header, Batch, BatchKind, Batches};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

// ---- allocation watch --------------------------------------------------------

/// Remembers the largest single allocation this test binary ever asked for,
/// so the hostile-size tests can check that no claimed size was believed.
struct TrackLargest;

static LARGEST_ALLOC: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for TrackLargest {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST_ALLOC.fetch_max(l.size(), Relaxed);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LARGEST_ALLOC.fetch_max(l.size(), Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        LARGEST_ALLOC.fetch_max(new_size, Relaxed);
        System.realloc(p, l, new_size)
    }
}

#[global_allocator]
static ALLOC: TrackLargest = TrackLargest;

// ---- helpers -----------------------------------------------------------------

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn trace_path(rel: &str) -> PathBuf {
    corpus().join("traces").join(rel)
}

fn trace_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(trace_path(rel)).unwrap_or_else(|e| panic!("corpus trace {rel}: {e}"))
}

/// Every go1.22+ corpus trace (go1.21 is the old format, not read yet), sorted.
fn corpus_traces() -> Vec<String> {
    let mut out = Vec::new();
    for v in std::fs::read_dir(corpus().join("traces")).expect("corpus/traces") {
        let v = v.unwrap().path();
        let ver = v.file_name().unwrap().to_string_lossy().into_owned();
        if ver == "go1.21" {
            continue;
        }
        for t in std::fs::read_dir(&v).unwrap() {
            let t = t.unwrap().path();
            if t.extension().is_some_and(|e| e == "trace") {
                out.push(format!(
                    "{ver}/{}",
                    t.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}

/// Everything a reader yielded: events in the reference's text form, the
/// positions of the Sync events among them, and the error that ended it.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Vec<u8>>,
    syncs: Vec<usize>,
    err: Option<Error>,
}

impl Outcome {
    fn last_is_sync(&self) -> bool {
        !self.events.is_empty() && self.syncs.last() == Some(&(self.events.len() - 1))
    }

    /// How many leading events equal `full`'s.
    fn common_prefix(&self, full: &Outcome) -> usize {
        self.events
            .iter()
            .zip(&full.events)
            .take_while(|(a, b)| a == b)
            .count()
    }

    fn text(&self) -> Vec<u8> {
        let mut t = Vec::new();
        for e in &self.events {
            t.extend_from_slice(e);
            t.push(b'\n');
        }
        t
    }
}

/// Panics on the reader's helper thread (which decodes generations ahead).
/// The reader sees such a panic only as a closed channel, so without this
/// watch a panic there could pass for a clean end of the trace.
static HELPER_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn watch_helper_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("gotrace-generations") {
                HELPER_PANICS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(info.to_string());
            }
            previous(info);
        }));
    });
}

fn assert_no_helper_panic() {
    let panics = HELPER_PANICS.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        panics.is_empty(),
        "the reader's helper thread panicked: {panics:?}"
    );
}

/// Reads every event. More than `max_events` events means the reader does
/// not terminate: a well-behaved reader yields at most a few events per byte.
fn drain(r: gotrace::Result<Reader>, max_events: usize) -> Outcome {
    watch_helper_panics();
    let mut out = Outcome {
        events: Vec::new(),
        syncs: Vec::new(),
        err: None,
    };
    let mut r = match r {
        Ok(r) => r,
        Err(e) => {
            out.err = Some(e);
            return out;
        }
    };
    loop {
        match r.read_event() {
            Ok(Some(ev)) => {
                if ev.kind() == EventKind::Sync {
                    out.syncs.push(out.events.len());
                }
                out.events.push(ev.to_go_string());
                assert!(
                    out.events.len() <= max_events,
                    "the reader yielded more than {max_events} events: it does not terminate"
                );
            }
            Ok(None) => break,
            Err(e) => {
                out.err = Some(e);
                break;
            }
        }
    }
    // A finished reader stays finished.
    assert!(
        matches!(r.read_event(), Ok(None)),
        "the reader yields more after its end or its error"
    );
    drop(r);
    assert_no_helper_panic();
    out
}

fn read_bytes(bytes: &[u8]) -> Outcome {
    drain(Reader::from_bytes(bytes.to_vec()), 4 * bytes.len() + 100)
}

/// What a worker is doing, for the timeout message.
type Progress = Arc<Mutex<String>>;

/// Runs `f` on another thread and fails if it takes longer than `secs`:
/// a hang in the reader must fail the test, not stall it forever.
fn within<T: Send + 'static>(
    what: &str,
    secs: u64,
    f: impl FnOnce(&Progress) -> T + Send + 'static,
) -> T {
    let progress: Progress = Arc::new(Mutex::new(String::from("starting")));
    let p = progress.clone();
    let (tx, rx) = channel();
    let h = std::thread::spawn(move || {
        let v = f(&p);
        let _ = tx.send(());
        v
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => match h.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(RecvTimeoutError::Timeout) => {
            let at = progress.lock().map(|s| s.clone()).unwrap_or_default();
            panic!("{what}: not finished after {secs} s, the reader hangs (at: {at})")
        }
    }
}

fn set_progress(p: &Progress, s: String) {
    *p.lock().unwrap() = s;
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Whether a batch holds one M's events, as opposed to a structural batch
/// (strings, stacks, CPU samples, frequency/sync).
fn is_per_m_batch(b: &Batch, bytes: &[u8], v: Version) -> bool {
    match b.kind {
        BatchKind::Events => match b.first_event(bytes) {
            Some(EV_STRINGS | EV_STACKS | EV_CPU_SAMPLES) => false,
            Some(EV_FREQUENCY) => v >= Version::Go125,
            Some(EV_SYNC) => v < Version::Go125,
            _ => true,
        },
        _ => false,
    }
}

/// One generation's place in the file.
#[derive(Debug, Clone)]
struct GenSpan {
    /// Offset of its first batch.
    start: usize,
    /// One past its last byte: its EndOfGeneration (Go 1.26+), or where the
    /// next generation's first batch starts (before Go 1.26, where only that
    /// batch tells that the generation is over).
    end: usize,
    /// From this offset on, damage cannot change how the generation reads:
    /// its end (Go 1.26+), or the data of the next generation's first batch
    /// (before Go 1.26; the header of that batch is what ends this one).
    settled: usize,
    /// Ends of the per-M batches, in file order.
    per_m_ends: Vec<usize>,
}

/// How a well-formed trace is laid out, from its batch framing.
struct TraceLayout {
    version: Version,
    header_len: usize,
    len: usize,
    /// Every batch start and end, sorted.
    boundaries: Vec<usize>,
    batches: Vec<Batch>,
    gens: Vec<GenSpan>,
}

impl TraceLayout {
    fn new(bytes: &[u8]) -> TraceLayout {
        let h = read_header(bytes).expect("corpus trace header");
        let batches: Vec<Batch> = Batches::new(bytes, h.len)
            .collect::<Result<_, _>>()
            .expect("corpus trace framing");
        let v126 = h.version >= Version::Go126;
        let mut gens: Vec<GenSpan> = Vec::new();
        let mut open: Option<(u64, GenSpan)> = None;
        for b in &batches {
            if v126 {
                let (_, g) = open.get_or_insert_with(|| {
                    (
                        0,
                        GenSpan {
                            start: b.start,
                            end: 0,
                            settled: 0,
                            per_m_ends: Vec::new(),
                        },
                    )
                });
                if b.kind == BatchKind::EndOfGeneration {
                    g.end = b.end();
                    g.settled = b.end();
                    gens.push(open.take().unwrap().1);
                    continue;
                }
                if is_per_m_batch(b, bytes, h.version) {
                    g.per_m_ends.push(b.end());
                }
                continue;
            }
            match &mut open {
                Some((gen, g)) if *gen == b.gen => {
                    if is_per_m_batch(b, bytes, h.version) {
                        g.per_m_ends.push(b.end());
                    }
                }
                _ => {
                    if let Some((_, mut g)) = open.take() {
                        g.end = b.start;
                        g.settled = b.data.start;
                        gens.push(g);
                    }
                    let mut g = GenSpan {
                        start: b.start,
                        end: 0,
                        settled: 0,
                        per_m_ends: Vec::new(),
                    };
                    if is_per_m_batch(b, bytes, h.version) {
                        g.per_m_ends.push(b.end());
                    }
                    open = Some((b.gen, g));
                }
            }
        }
        if let Some((_, mut g)) = open.take() {
            assert!(!v126, "a go 1.26 corpus trace ends without EndOfGeneration");
            g.end = bytes.len();
            g.settled = usize::MAX; // Any damage to the file can still reach it.
            gens.push(g);
        }
        let mut boundaries: Vec<usize> = batches.iter().flat_map(|b| [b.start, b.end()]).collect();
        boundaries.push(h.len);
        boundaries.sort_unstable();
        boundaries.dedup();
        TraceLayout {
            version: h.version,
            header_len: h.len,
            len: bytes.len(),
            boundaries,
            batches,
            gens,
        }
    }

    fn v126(&self) -> bool {
        self.version >= Version::Go126
    }

    /// How many generations end at or before `off`.
    fn complete_before(&self, off: usize) -> usize {
        self.gens.iter().take_while(|g| g.end <= off).count()
    }

    /// How many generations damage at `off` can no longer change.
    fn settled_before(&self, off: usize) -> usize {
        self.gens.iter().take_while(|g| g.settled <= off).count()
    }

    fn at_batch_boundary(&self, off: usize) -> bool {
        self.boundaries.binary_search(&off).is_ok()
    }
}

/// A complete corpus trace, read once, with its layout.
struct Full {
    rel: String,
    bytes: Vec<u8>,
    layout: TraceLayout,
    out: Outcome,
}

impl Full {
    fn load(rel: &str) -> Full {
        let bytes = trace_bytes(rel);
        let layout = TraceLayout::new(&bytes);
        let out = read_bytes(&bytes);
        assert!(
            out.err.is_none(),
            "{rel}: the complete trace fails: {:?}",
            out.err
        );
        assert_eq!(
            out.syncs.len(),
            layout.gens.len() + 1,
            "{rel}: expected one Sync per generation plus a final one"
        );
        Full {
            rel: rel.to_string(),
            bytes,
            layout,
            out,
        }
    }

    /// Number of events of the first `k` generations (Syncs included).
    fn events_of_gens(&self, k: usize) -> usize {
        self.out.syncs[k]
    }
}

/// Groups problems that differ only in numbers, so a systematic one shows up
/// as one line with a count and an example.
fn grouped(problems: &[(String, String)]) -> Vec<String> {
    let mut groups: Vec<(String, usize, String)> = Vec::new();
    for (case, problem) in problems {
        let key: String = problem
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        let key = key.split("##").collect::<Vec<_>>().join("#");
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1 += 1,
            None => groups.push((key, 1, format!("{case}: {problem}"))),
        }
    }
    groups
        .into_iter()
        .map(|(_, n, example)| format!("{n} × e.g. {example}"))
        .collect()
}

/// A mismatch list that prints well.
fn assert_no_failures(what: &str, failures: &[String]) {
    if failures.is_empty() {
        return;
    }
    let shown: Vec<&str> = failures.iter().take(25).map(|s| s.as_str()).collect();
    panic!(
        "{what}: {} failures{}:\n{}",
        failures.len(),
        if failures.len() > 25 {
            " (first 25)"
        } else {
            ""
        },
        shown.join("\n")
    );
}

// ---- 1. truncation salvage ------------------------------------------------------

/// Traces cut in the truncation tests: each format, ≥ 2 generations each.
const TRUNCATED: &[&str] = &[
    "go1.22/long.trace",
    "go1.23/httppprof.trace",
    "go1.25/flightrec.trace",
    "go1.26/flightrec.trace",
    "go1.27/long.trace",
];

/// Where to cut: all through the header, around every batch start (inside
/// its header fields), at and around every batch's data, in the middle of
/// every batch, and every ~1 KB.
fn cut_points(l: &TraceLayout) -> Vec<usize> {
    let mut v: Vec<usize> = (0..=l.header_len + 2).collect();
    for b in &l.batches {
        for d in [-1isize, 0, 1, 2, 3, 5, 8, 13, 21] {
            v.push((b.start as isize + d).max(0) as usize);
        }
        let (s, e) = (b.data.start, b.data.end);
        v.extend([
            s.saturating_sub(1),
            s,
            s + 1,
            (s + e) / 2,
            e.saturating_sub(1),
            e,
        ]);
    }
    v.extend((0..l.len).step_by(997));
    v.extend([l.len - 1, l.len]);
    v.retain(|&c| c <= l.len);
    v.sort_unstable();
    v.dedup();
    v
}

/// What reading one truncated trace gave, in brief.
struct Cut {
    at: usize,
    yielded: usize,
    /// Leading events equal to the complete trace's.
    prefix: usize,
    last_is_sync: bool,
    err: Option<Error>,
}

struct TruncationRuns {
    full: Full,
    cuts: Vec<Cut>,
}

/// Every cut of every trace in TRUNCATED, read once and shared by the tests below.
fn truncation_runs() -> &'static [TruncationRuns] {
    static RUNS: OnceLock<Vec<TruncationRuns>> = OnceLock::new();
    RUNS.get_or_init(|| {
        within("reading truncated traces", 120, |p| {
            TRUNCATED
                .iter()
                .map(|rel| {
                    let full = Full::load(rel);
                    let cuts = cut_points(&full.layout)
                        .into_iter()
                        .map(|at| {
                            set_progress(p, format!("{rel} cut at {at}"));
                            let o = read_bytes(&full.bytes[..at]);
                            Cut {
                                at,
                                yielded: o.events.len(),
                                prefix: o.common_prefix(&full.out),
                                last_is_sync: o.last_is_sync(),
                                err: o.err,
                            }
                        })
                        .collect();
                    TruncationRuns { full, cuts }
                })
                .collect()
        })
    })
}

/// Applies `check` to every cut of the traces whose layout `which` selects;
/// `check` reports problems through its last argument.
fn check_cuts(
    what: &str,
    which: impl Fn(&TraceLayout) -> bool,
    check: impl Fn(&Full, &Cut, &mut dyn FnMut(String)),
) {
    let mut failures = Vec::new();
    let mut n = 0;
    for run in truncation_runs().iter().filter(|r| which(&r.full.layout)) {
        for c in &run.cuts {
            n += 1;
            check(&run.full, c, &mut |msg| {
                failures.push(format!(
                    "{} cut at {}: {msg} (error: {:?})",
                    run.full.rel, c.at, c.err
                ))
            });
        }
    }
    assert!(n > 400, "{what}: only {n} cuts tried");
    assert_no_failures(what, &failures);
}

#[test]
fn a_truncated_trace_yields_every_generation_completed_before_the_cut() {
    check_cuts(
        "truncation salvage",
        |_| true,
        |full, c, fail| {
            let l = &full.layout;
            if c.at < l.header_len {
                // Not even a header: nothing to salvage, and the reader says so up front.
                if c.yielded != 0
                    || !matches!(c.err.as_ref().map(|e| e.kind()), Some(ErrorKind::Header(_)))
                {
                    fail(format!(
                        "expected a header error and no events, got {} events",
                        c.yielded
                    ));
                }
                return;
            }
            let k = l.complete_before(c.at);
            let complete = full.events_of_gens(k);
            // The complete generations come out exactly as from the whole
            // trace, followed by at least one Sync (the next generation's, or
            // the one before the error).
            if c.prefix < complete {
                fail(format!(
                    "{k} complete generations ({complete} events), but event {} differs from the complete trace's",
                    c.prefix
                ));
            }
            if c.yielded < complete + 1 {
                fail(format!(
                    "{k} complete generations ({complete} events) but only {} events yielded",
                    c.yielded
                ));
            }
            if c.at == l.len && (c.err.is_some() || c.yielded != full.out.events.len()) {
                fail("the uncut trace must read in full".into());
            }
            // An error that means "the input ended" comes after a Sync, as in the reference.
            if c.err.as_ref().is_some_and(|e| e.is_truncation()) && !c.last_is_sync {
                fail("a truncation error must come right after a Sync".into());
            }
        },
    );
}

#[test]
fn a_go126_trace_cut_inside_a_generation_drops_it_and_reports_a_truncation() {
    check_cuts(
        "go 1.26 truncation",
        |l| l.v126(),
        |full, c, fail| {
            let l = &full.layout;
            if c.at < l.header_len || c.at == l.len {
                return;
            }
            // A generation counts only once its EndOfGeneration is read, so
            // an incomplete one is dropped entirely: what comes out is the
            // complete generations and one Sync.
            let k = l.complete_before(c.at);
            let complete = full.events_of_gens(k);
            if c.yielded != complete + 1 || !c.last_is_sync {
                fail(format!(
                    "expected the {complete} events of {k} generations and one Sync, got {} events",
                    c.yielded
                ));
            }
            let g = l.gens.get(k);
            let inside = g.is_some_and(|g| g.start < c.at);
            // Like the reference, a cut at a batch boundary before the
            // generation's first per-M batch is indistinguishable from the
            // end of the trace: the sync, strings and stacks batches alone do
            // not make a generation (golden go1.26-flightrec@6855).
            let silent = l.at_batch_boundary(c.at)
                && !g.is_some_and(|g| g.per_m_ends.iter().any(|&e| e <= c.at));
            match &c.err {
                Some(e) if inside && !silent && !e.is_truncation() => {
                    fail("expected a truncation error".into())
                }
                Some(_) if !inside || silent => fail("expected no error".into()),
                None if inside && !silent => {
                    fail("a cut inside a generation must be reported".into())
                }
                _ => {}
            }
        },
    );
}

#[test]
fn a_pre_go126_trace_cut_at_a_generation_boundary_reads_as_complete_and_a_cut_inside_a_batch_is_reported(
) {
    check_cuts(
        "pre-go 1.26 truncation",
        |l| !l.v126(),
        |full, c, fail| {
            let l = &full.layout;
            if c.at < l.header_len || c.at == l.len {
                return;
            }
            // Only the next generation's first batch tells that one is over,
            // so a cut exactly at a generation boundary looks like the end of
            // a complete trace.
            let k = l.complete_before(c.at);
            let at_gen_end = k > 0 && l.gens[k - 1].end == c.at;
            if at_gen_end && (c.err.is_some() || c.yielded != full.events_of_gens(k) + 1) {
                fail(format!("a cut at a generation boundary must read as a complete trace of {k} generations"));
            }
            // A cut inside a batch is reported, after whatever the partial
            // last generation allowed to be ordered.
            if !l.at_batch_boundary(c.at) && c.err.is_none() {
                fail("a cut inside a batch must be reported".into());
            }
            // A header alone has no frequency event, which the reference reports.
            if c.at == l.header_len && c.err.is_none() {
                fail("a header without any batch must be reported".into());
            }
        },
    );
}

#[test]
fn every_error_from_a_truncated_trace_names_a_byte_offset_inside_the_input() {
    let mut problems = Vec::new();
    for run in truncation_runs() {
        for c in &run.cuts {
            if let Some(e) = &c.err {
                if let Some(f) = offset_problem(e, c.at) {
                    problems.push((format!("{} cut at {}", run.full.rel, c.at), f));
                }
            }
        }
    }
    assert_no_failures("errors without a usable offset", &grouped(&problems));
}

/// What is wrong with the way `e` says where it happened, in input of `len` bytes.
fn offset_problem(e: &Error, len: usize) -> Option<String> {
    let text = e.to_string();
    if text.trim().is_empty() {
        return Some(format!("empty message: {e:?}"));
    }
    match e.offset() {
        None => Some(format!("no offset: {text}")),
        Some(o) if o > len as u64 => {
            Some(format!("offset {o} is past the end ({len} bytes): {text}"))
        }
        Some(o) => match e.kind() {
            ErrorKind::Header(_) if o != 0 => Some(format!("header error at offset {o}: {text}")),
            ErrorKind::Header(_) => None,
            _ if !text.contains("byte offset") => {
                Some(format!("message does not name the offset: {text}"))
            }
            _ => None,
        },
    }
}

// ---- 2. agreement with the reference on truncated traces --------------------------

/// Cases where we deliberately differ from the reference: golden name and
/// why. For these we must still yield at least the reference's complete
/// generations, event for event. All three come from the same quirk of the
/// reference: `cmd/trace` stops silently, with exit status 0, when the reader
/// returns a bare `io.EOF`, and `internal/trace` passes on a bare `io.EOF`
/// from some broken batches instead of reporting them.
const DELIBERATE_DIFFERENCES: &[(&str, &str)] = &[
    (
        "go1.22-long@22458+31",
        "a lone ExperimentalBatch byte after the last batch: the reference's readBatch gets io.EOF reading the \
         experiment ID and takes it for the end of the trace (exit 0); we report a truncated batch header \
         after the same events",
    ),
    (
        "go1.26-flightrec@11433+31",
        "the same trailing ExperimentalBatch byte in the go 1.26 format: the reference sees a clean end of \
         the trace; we report a truncated batch header after the same events",
    ),
    (
        "go1.22-long@48+0101000003020301",
        "a stacks batch that ends right after a stack ID: the reference's addStacks returns the bare io.EOF \
         of the frame count, which cmd/trace prints as success after one Sync; we report \
         \"reading stack frame count: unexpected EOF\" after the same Sync",
    ),
];

fn gunzip(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .expect("gunzip golden");
    out
}

fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// Events before the last Sync in `-d=parsed` text: those of complete generations.
fn complete_events(lines: &[&[u8]]) -> usize {
    lines
        .iter()
        .rposition(|l| l.windows(11).any(|w| w == b" Sync Time="))
        .unwrap_or(0)
}

/// The input a golden describes: `<version>-<name>@<offset>[+<hex bytes appended>]`.
fn golden_input(case: &str) -> Vec<u8> {
    let (trace, cut) = case.rsplit_once('@').expect("golden name has @offset");
    let (ver, name) = trace.split_once('-').expect("golden name has version-name");
    let (off, suffix) = cut.split_once('+').unwrap_or((cut, ""));
    let off: usize = off.parse().expect("offset");
    let mut bytes = trace_bytes(&format!("{ver}/{name}.trace"));
    assert!(
        off <= bytes.len(),
        "{case}: offset past the end of the trace"
    );
    bytes.truncate(off);
    for i in (0..suffix.len()).step_by(2) {
        bytes.push(u8::from_str_radix(&suffix[i..i + 2], 16).expect("hex suffix"));
    }
    bytes
}

#[test]
fn truncated_traces_read_like_the_reference_reads_them() {
    let dir = corpus().join("golden/truncated");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run corpus/regen-truncated.sh", dir.display()))
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".exit")
                .map(String::from)
        })
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 12,
        "expected the ~20 cases of corpus/regen-truncated.sh, found {}",
        cases.len()
    );
    for (c, _) in DELIBERATE_DIFFERENCES {
        assert!(
            cases.iter().any(|x| x == c),
            "deliberate difference {c} has no golden; run corpus/regen-truncated.sh"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        let ours = read_bytes(&golden_input(case));
        let want = gunzip(&dir.join(format!("{case}.parsed.gz")));
        let want_exit: i32 = std::fs::read_to_string(dir.join(format!("{case}.exit")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let want_stderr =
            std::fs::read_to_string(dir.join(format!("{case}.stderr"))).unwrap_or_default();
        // Header errors are worded exactly like the reference's.
        if let Some(e) = &ours.err {
            if matches!(e.kind(), ErrorKind::Header(_)) && e.to_string() != want_stderr.trim_end() {
                failures.push(format!(
                    "{case}: header error {:?}, reference {:?}",
                    e.to_string(),
                    want_stderr.trim_end()
                ));
            }
        }
        let got = ours.text();
        let same_exit = ours.err.is_some() == (want_exit != 0);
        match DELIBERATE_DIFFERENCES.iter().find(|(c, _)| c == case) {
            None => {
                if !same_exit {
                    failures.push(format!(
                        "{case}: reference exit {want_exit}, our error: {:?}",
                        ours.err
                    ));
                }
                if got != want {
                    let line = got
                        .split(|&b| b == b'\n')
                        .zip(want.split(|&b| b == b'\n'))
                        .position(|(a, b)| a != b);
                    failures.push(format!(
                        "{case}: output differs from the reference's (first at line {:?}; ours {} events, reference {})",
                        line.map(|l| l + 1),
                        ours.events.len(),
                        lines(&want).len()
                    ));
                }
            }
            Some((_, why)) => {
                if same_exit && got == want {
                    failures
                        .push(format!("{case}: listed in DELIBERATE_DIFFERENCES but agrees with the reference now"));
                }
                // We may judge a broken tail differently, but never yield
                // less of the complete generations before it.
                let (g, w) = (lines(&got), lines(&want));
                let n = complete_events(&w);
                if g.len() < n || g[..n] != w[..n] {
                    failures.push(format!(
                        "{case}: we yield less than the reference's {n} complete events ({why})"
                    ));
                }
                if let Some(p) = ours
                    .err
                    .as_ref()
                    .and_then(|e| offset_problem(e, golden_input(case).len()))
                {
                    failures.push(format!("{case}: our error does not say where: {p}"));
                }
            }
        }
    }
    assert_no_failures("truncated traces vs. the reference", &failures);
}

// ---- 3. hostile sizes ----------------------------------------------------------

const NO_THREAD: u64 = u64::MAX;

fn header(v: &str) -> Vec<u8> {
    format!("go 1.{v} trace\0\0\0").into_bytes()
}

/// An EventBatch: header fields as given, then `data` (whose length need not be `size`).
fn raw_batch(out: &mut Vec<u8>, gen: u64, m: u64, size: u64, data: &[u8]) {
    out.push(EV_EVENT_BATCH);
    for v in [gen, m, 1, size] {
        put_uvarint(out, v);
    }
    out.extend_from_slice(data);
}

/// A complete EventBatch with base timestamp `ts`.
fn raw_batch_at(out: &mut Vec<u8>, gen: u64, m: u64, ts: u64, data: &[u8]) {
    out.push(EV_EVENT_BATCH);
    for v in [gen, m, ts, data.len() as u64] {
        put_uvarint(out, v);
    }
    out.extend_from_slice(data);
}

fn batch(out: &mut Vec<u8>, gen: u64, m: u64, data: &[u8]) {
    raw_batch(out, gen, m, data.len() as u64, data);
}

/// A go 1.23 trace's first generation up to its frequency batch.
fn go123_prefix() -> Vec<u8> {
    let mut t = header("23");
    let mut freq = vec![EV_FREQUENCY];
    put_uvarint(&mut freq, 15_625_000);
    batch(&mut t, 1, NO_THREAD, &freq);
    t
}

/// Reads hostile input both from memory and as a stream; it must fail within
/// a second, with `want` in the message and the offset inside the input.
fn assert_fails_fast(what: &str, input: Vec<u8>, want: &str) {
    let len = input.len();
    for streamed in [false, true] {
        let input = input.clone();
        let t = Instant::now();
        let o = within(what, 30, move |_| {
            let r = if streamed {
                Reader::from_reader(std::io::Cursor::new(input))
            } else {
                Reader::from_bytes(input)
            };
            drain(r, 100)
        });
        let how = if streamed { "streamed" } else { "in memory" };
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "{what} ({how}): took {:?}",
            t.elapsed()
        );
        let e = o
            .err
            .unwrap_or_else(|| panic!("{what} ({how}): read without error: {:?}", o.events));
        assert!(
            e.to_string().contains(want),
            "{what} ({how}): error {:?} does not say {want:?}",
            e.to_string()
        );
        if let Some(p) = offset_problem(&e, len) {
            panic!("{what} ({how}): {p}");
        }
    }
    // No claimed size was believed: no allocation anywhere near the sizes
    // claimed (the largest legitimate ones in this test binary are a few MB).
    let largest = LARGEST_ALLOC.load(Relaxed);
    assert!(
        largest < 1 << 30,
        "{what}: some allocation asked for {largest} bytes"
    );
}

#[test]
fn a_batch_claiming_4_gib_fails_fast_naming_its_offset() {
    let mut t = header("23");
    raw_batch(&mut t, 1, 0, 4 << 30, &[EV_GO_START; 10]);
    assert_fails_fast(
        "4 GiB batch",
        t,
        "invalid batch size 4294967296, maximum is 65536 (batch at byte offset 16)",
    );

    // After a complete generation prefix, and in the go 1.26 format.
    let mut t = go123_prefix();
    let at = t.len();
    raw_batch(&mut t, 1, 0, 4 << 30, &[]);
    assert_fails_fast(
        "4 GiB batch after a frequency batch",
        t,
        &format!("(batch at byte offset {at})"),
    );
    let mut t = header("26");
    raw_batch(&mut t, 1, 0, 4 << 30, &[]);
    assert_fails_fast("4 GiB batch, go 1.26", t, "invalid batch size 4294967296");
}

#[test]
fn a_batch_claiming_u64_max_bytes_fails_fast_naming_its_offset() {
    for v in ["22", "25", "26"] {
        let mut t = header(v);
        raw_batch(&mut t, 1, 0, u64::MAX, &[]);
        assert_fails_fast(
            &format!("u64::MAX batch, go 1.{v}"),
            t,
            "invalid batch size 18446744073709551615, maximum is 65536 (batch at byte offset 16)",
        );
    }
    // A size that is not even a valid varint.
    let mut t = header("23");
    t.extend_from_slice(&[EV_EVENT_BATCH, 1, 0, 1]);
    t.extend_from_slice(&[0xff; 10]);
    t.push(1);
    assert_fails_fast(
        "overlong size varint",
        t,
        "varint overflows a 64-bit integer (batch at byte offset 16)",
    );
}

#[test]
fn a_batch_claiming_more_than_the_input_holds_is_a_truncation() {
    // The largest size allowed, but only 3 bytes of it present.
    let mut t = go123_prefix();
    let at = t.len();
    raw_batch(&mut t, 1, 0, MAX_BATCH_SIZE, &[EV_GO_START, 1, 2]);
    let o = within("short batch", 30, move |_| {
        drain(Reader::from_reader(std::io::Cursor::new(t)), 100)
    });
    let e = o.err.expect("error");
    assert!(e.is_truncation(), "{e}");
    assert!(
        e.to_string().contains(&format!(
            "read 3 but wanted 65536 (batch at byte offset {at})"
        )),
        "{e}"
    );
}

#[test]
fn a_stack_claiming_2_pow_40_frames_fails_fast_naming_its_offset() {
    let mut t = go123_prefix();
    let batch_at = t.len();
    let mut data = vec![EV_STACKS, EV_STACK];
    put_uvarint(&mut data, 1); // stack ID
    put_uvarint(&mut data, 1 << 40); // frame count
    batch(&mut t, 1, NO_THREAD, &data);
    let len = t.len();
    assert_fails_fast(
        "2^40 frames",
        t.clone(),
        "invalid stack size 1099511627776, maximum is 128 (at byte offset",
    );
    let e = read_bytes(&t).err.unwrap();
    let o = e.offset().unwrap() as usize;
    assert!(
        (batch_at..=len).contains(&o),
        "offset {o} is not in the stacks batch ({batch_at}..{len})"
    );
}

#[test]
fn a_string_claiming_2_pow_40_bytes_fails_fast_naming_its_offset() {
    let mut t = go123_prefix();
    let batch_at = t.len();
    let mut data = vec![EV_STRINGS, EV_STRING];
    put_uvarint(&mut data, 1); // string ID
    put_uvarint(&mut data, 1 << 40); // length
    data.extend_from_slice(b"main.main");
    batch(&mut t, 1, NO_THREAD, &data);
    let len = t.len();
    assert_fails_fast(
        "2^40-byte string",
        t.clone(),
        "invalid string size 1099511627776, maximum is 1024 (at byte offset",
    );
    let e = read_bytes(&t).err.unwrap();
    let o = e.offset().unwrap() as usize;
    assert!(
        (batch_at..=len).contains(&o),
        "offset {o} is not in the strings batch ({batch_at}..{len})"
    );
}

#[test]
fn a_cpu_sample_naming_a_missing_stack_is_an_error_naming_its_offset() {
    // The reference panics on this input ("invariant violation"); we must
    // report it like any other damage, saying where.
    let mut t = go123_prefix();
    let batch_at = t.len();
    let mut data = vec![EV_CPU_SAMPLES, EV_CPU_SAMPLE];
    for v in [100, 1, 0, 0, 5] {
        put_uvarint(&mut data, v); // time, M, P, G, stack ID (no stack 5 exists)
    }
    batch(&mut t, 1, NO_THREAD, &data);
    let len = t.len();
    let o = within("CPU sample with a missing stack", 30, move |_| {
        read_bytes(&t)
    });
    let e = o.err.expect("an error");
    assert!(
        e.to_string()
            .contains("found invalid stack ID 5 for event CPUSample"),
        "{e}"
    );
    if let Some(p) = offset_problem(&e, len) {
        panic!("{p}");
    }
    let off = e.offset().unwrap() as usize;
    assert!(
        (batch_at..len).contains(&off),
        "offset {off} is not in the CPU samples batch ({batch_at}..{len})"
    );
}

#[test]
fn timestamps_beyond_the_range_of_nanoseconds_do_not_crash_the_reader() {
    // One tick per second, and a batch at 2^62 ticks: about 4.6e27 ns, far
    // beyond i64. Go converts with float64-to-int64 (platform-dependent:
    // i64::MIN on amd64, where the reference then prints Time=1 and Time=2);
    // we saturate, and the final Sync's "one more than the last time" must
    // not overflow.
    for (v, ts) in [("23", 1u64 << 62), ("23", u64::MAX), ("26", 1 << 62)] {
        let mut t = header(v);
        let mut data = if v == "26" {
            vec![EV_SYNC, EV_FREQUENCY]
        } else {
            vec![EV_FREQUENCY]
        };
        put_uvarint(&mut data, 1);
        if v == "26" {
            data.push(EV_CLOCK_SNAPSHOT);
            for x in [1, 1, 1, 1] {
                put_uvarint(&mut data, x);
            }
        }
        raw_batch_at(&mut t, 1, NO_THREAD, ts, &data);
        if v == "26" {
            t.push(EV_END_OF_GENERATION);
        }
        let o = read_bytes(&t);
        assert!(
            o.err.is_none(),
            "go 1.{v}, batch at {ts} ticks: {:?}",
            o.err
        );
        assert_eq!(
            o.syncs.len(),
            2,
            "go 1.{v}, batch at {ts} ticks: {:?}",
            o.events
        );
    }
}

// ---- 4. corruption ---------------------------------------------------------------

/// Small corpus traces of each format that the corruption tests damage.
const CORRUPTED: &[&str] = &[
    "go1.22/sched.trace",
    "go1.23/iterpull.trace",
    "go1.25/annotations.trace",
    "go1.26/cgo.trace",
    "go1.27/sched.trace",
];
const MUTANTS_PER_TRACE: usize = 80;

/// A damaged copy of `t` and the first offset where it differs from `t`.
fn mutate(t: &[u8], l: &TraceLayout, rng: &mut Rng) -> (Vec<u8>, usize, String) {
    let mut m = t.to_vec();
    // A quarter of the damage hits batch headers, where framing is decided.
    let p = if rng.below(4) == 0 {
        let b = &l.batches[rng.below(l.batches.len())];
        (b.start + rng.below(b.data.start - b.start + 2)).min(t.len() - 1)
    } else {
        rng.below(t.len())
    };
    let how = match rng.below(7) {
        0 => {
            let bit = 1u8 << rng.below(8);
            m[p] ^= bit;
            format!("flip bit {bit:#x} at {p}")
        }
        1 => {
            let v = rng.next() as u8;
            m[p] = v;
            format!("set byte {p} to {v:#x}")
        }
        2 => {
            let v = [
                0x00,
                0x01,
                0x7f,
                0x80,
                0xff,
                EV_END_OF_GENERATION,
                EV_EVENT_BATCH,
                EV_EXPERIMENTAL_BATCH,
            ][rng.below(8)];
            m[p] = v;
            format!("set byte {p} to {v:#x}")
        }
        3 => {
            let n = 1 + rng.below(4);
            let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            m.splice(p..p, ins.iter().copied());
            format!("insert {ins:x?} at {p}")
        }
        4 => {
            let n = (1 + rng.below(16)).min(t.len() - p);
            m.drain(p..p + n);
            format!("delete {n} bytes at {p}")
        }
        5 => {
            let n = (1 + rng.below(10)).min(t.len() - p);
            m[p..p + n].fill(0xff);
            format!("overwrite {n} bytes at {p} with 0xff")
        }
        _ => {
            let n = (1 + rng.below(64)).min(t.len() - p);
            let dup = t[p..p + n].to_vec();
            m.splice(p..p, dup);
            format!("duplicate {n} bytes at {p}")
        }
    };
    let first_diff = m
        .iter()
        .zip(t)
        .position(|(a, b)| a != b)
        .unwrap_or(m.len().min(t.len()));
    (m, first_diff, how)
}

struct Mutant {
    how: String,
    len: usize,
    first_diff: usize,
    prefix: usize,
    err: Option<Error>,
}

struct CorruptionRuns {
    full: Full,
    mutants: Vec<Mutant>,
}

fn corruption_runs() -> &'static [CorruptionRuns] {
    static RUNS: OnceLock<Vec<CorruptionRuns>> = OnceLock::new();
    RUNS.get_or_init(|| {
        within("reading corrupted traces", 120, |p| {
            CORRUPTED
                .iter()
                .enumerate()
                .map(|(i, rel)| {
                    let full = Full::load(rel);
                    let mut rng = Rng(0x5eed_0000 + i as u64);
                    let mutants = (0..MUTANTS_PER_TRACE)
                        .map(|_| {
                            let (m, first_diff, how) = mutate(&full.bytes, &full.layout, &mut rng);
                            set_progress(p, format!("{rel}: {how}"));
                            let o = read_bytes(&m);
                            Mutant {
                                how,
                                len: m.len(),
                                first_diff,
                                prefix: o.common_prefix(&full.out),
                                err: o.err,
                            }
                        })
                        .collect();
                    CorruptionRuns { full, mutants }
                })
                .collect()
        })
    })
}

#[test]
fn corrupted_traces_never_panic_or_hang_and_keep_the_generations_before_the_damage() {
    let mut failures = Vec::new();
    let mut n = 0;
    for run in corruption_runs() {
        for m in &run.mutants {
            n += 1;
            // Generations whose bytes (and whose end) lie before the damage
            // read exactly as in the intact trace.
            let k = run.full.layout.settled_before(m.first_diff);
            let want = run.full.events_of_gens(k);
            if m.prefix < want {
                failures.push(format!(
                    "{} ({}): {k} generations lie before the damage ({want} events), but event {} differs (error: {:?})",
                    run.full.rel, m.how, m.prefix, m.err
                ));
            }
        }
    }
    assert!(n >= 300, "only {n} mutants");
    // The damage must reach all layers, or this test proves little: framing,
    // structural batches, event decoding, ordering, and some mutants that
    // still read without error.
    let errors: Vec<String> = corruption_runs()
        .iter()
        .flat_map(|r| &r.mutants)
        .filter_map(|m| m.err.as_ref().map(|e| e.to_string()))
        .collect();
    for (layer, pat) in [
        ("framing", "(batch at byte offset"),
        ("structural batches", "expected stack event"),
        ("event decoding", "found invalid event type"),
        ("ordering", "broken trace"),
    ] {
        assert!(
            errors.iter().any(|e| e.contains(pat)),
            "no mutant was caught by {layer} ({pat:?})"
        );
    }
    assert!(
        errors.len() < n * 9 / 10,
        "{} of {n} mutants fail: too few harmless ones",
        errors.len()
    );
    assert_no_failures("corruption", &failures);
}

#[test]
fn every_error_from_a_corrupted_trace_names_a_byte_offset_inside_the_input() {
    let mut problems = Vec::new();
    for run in corruption_runs() {
        for m in &run.mutants {
            if let Some(e) = &m.err {
                if let Some(f) = offset_problem(e, m.len) {
                    problems.push((format!("{} ({})", run.full.rel, m.how), f));
                }
            }
        }
    }
    assert_no_failures("errors without a usable offset", &grouped(&problems));
}

#[test]
fn headers_of_other_formats_are_rejected_with_the_references_messages() {
    // Messages as printed by `go tool trace -d=parsed` 1.27.3 for these inputs.
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "go 1.24 (a Go release, not a format)",
            b"go 1.24 trace\0\0\0",
            "unknown or unsupported trace version go 1.24",
        ),
        (
            "go 1.99",
            b"go 1.99 trace\0\0\0\x01\x01\x00\x00\x00",
            "unknown or unsupported trace version go 1.99",
        ),
        (
            "an HTML page",
            b"<!DOCTYPE html>\n<html><body>404 page not found</body></html>\n",
            "bad file format: not a Go execution trace?",
        ),
        (
            "an empty file",
            b"",
            "bad file format: not a Go execution trace?",
        ),
        (
            "a header without its NULs",
            b"go 1.23 trace",
            "bad file format: not a Go execution trace?",
        ),
    ];
    for &(what, input, want) in cases {
        let from_mem = read_bytes(input);
        let streamed = drain(
            Reader::from_reader(std::io::Cursor::new(input.to_vec())),
            10,
        );
        for (how, o) in [("in memory", from_mem), ("streamed", streamed)] {
            assert!(o.events.is_empty(), "{what} ({how}): yielded events");
            let e = o.err.unwrap_or_else(|| panic!("{what} ({how}): accepted"));
            assert_eq!(e.to_string(), want, "{what} ({how})");
            assert!(
                matches!(e.kind(), ErrorKind::Header(_)),
                "{what} ({how}): {e:?}"
            );
            assert_eq!(e.offset(), Some(0), "{what} ({how})");
        }
    }
}

// ---- 5. streaming ------------------------------------------------------------------

/// A reader that hands out its bytes 1 to 7 at a time, irregularly, and now
/// and then reports an interrupted read (which must simply be retried).
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    rng: Rng,
}

impl Trickle {
    fn new(data: Vec<u8>, seed: u64) -> Self {
        Trickle {
            data,
            pos: 0,
            rng: Rng(seed),
        }
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let r = self.rng.next();
        if r % 61 == 0 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = (1 + (r >> 8) as usize % 7)
            .min(buf.len())
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn streaming_in_tiny_chunks_reads_every_corpus_trace_like_memory_and_mmap() {
    let traces = corpus_traces();
    assert!(
        traces.len() >= 50,
        "expected the ~56 go1.22+ corpus traces, found {}",
        traces.len()
    );
    within("streaming the corpus", 120, move |p| {
        for (i, rel) in traces.iter().enumerate() {
            set_progress(p, rel.clone());
            let bytes = trace_bytes(rel);
            let cap = 4 * bytes.len() + 100;
            let mem = drain(Reader::from_bytes(bytes.clone()), cap);
            assert!(mem.err.is_none(), "{rel}: {:?}", mem.err);
            let mapped = drain(Reader::open(trace_path(rel)), cap);
            assert!(
                mapped == mem,
                "{rel}: Reader::open differs from Reader::from_bytes"
            );
            let inline = drain(
                Reader::from_bytes_with(bytes.clone(), Options::default().parallel(false)),
                cap,
            );
            assert!(
                inline == mem,
                "{rel}: reading without the helper thread differs"
            );
            let streamed = drain(Reader::from_reader(Trickle::new(bytes, i as u64)), cap);
            assert!(
                streamed == mem,
                "{rel}: Reader::from_reader in tiny chunks differs (error {:?})",
                streamed.err
            );
        }
    });
}

#[test]
fn streaming_a_truncated_trace_gives_the_same_events_and_the_same_error() {
    // (trace, cut): inside the header, header only, mid-batch and at a
    // generation boundary, in each format.
    let cases = [
        ("go1.22/long.trace", 10),
        ("go1.22/long.trace", 16),
        ("go1.22/long.trace", 5548),
        ("go1.22/long.trace", 9332),
        ("go1.22/long.trace", 11000),
        ("go1.23/httppprof.trace", 20000),
        ("go1.25/flightrec.trace", 6686),
        ("go1.26/flightrec.trace", 16),
        ("go1.26/flightrec.trace", 6804),
        ("go1.26/flightrec.trace", 7000),
        ("go1.27/long.trace", 36240),
        ("go1.27/long.trace", 47253),
    ];
    within("streaming truncated traces", 60, move |p| {
        for (i, (rel, cut)) in cases.into_iter().enumerate() {
            set_progress(p, format!("{rel} cut at {cut}"));
            let bytes = trace_bytes(rel)[..cut].to_vec();
            let mem = read_bytes(&bytes);
            let streamed = drain(
                Reader::from_reader(Trickle::new(bytes, 100 + i as u64)),
                4 * cut + 100,
            );
            assert_eq!(
                streamed.events.len(),
                mem.events.len(),
                "{rel} cut at {cut}: number of events"
            );
            assert!(
                streamed.events == mem.events,
                "{rel} cut at {cut}: events differ"
            );
            assert_eq!(streamed.err, mem.err, "{rel} cut at {cut}: errors differ");
        }
    });
}

/// A stream that fails with an I/O error after `ok` bytes.
struct FailAfter {
    data: Vec<u8>,
    pos: usize,
    ok: usize,
}

impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.ok {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.ok - self.pos).min(4096);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn an_io_error_mid_stream_is_reported_after_the_generations_read_before_it() {
    // Large enough that the stream is read in several pieces (64 KiB and up).
    let full = Full::load("go1.25/long.trace");
    let mut salvaged = 0;
    for ok in [0, 100, 100_000, 215_000, full.bytes.len() - 1] {
        let data = full.bytes.clone();
        let o = within("failing stream", 30, move |_| {
            drain(Reader::from_reader(FailAfter { data, pos: 0, ok }), 1 << 20)
        });
        let e = o
            .err
            .as_ref()
            .unwrap_or_else(|| panic!("failure after {ok} bytes: no error"));
        assert!(
            matches!(e.kind(), ErrorKind::Io(m) if m.contains("disk on fire")),
            "failure after {ok} bytes: {e:?}"
        );
        // Whatever came out is whole generations of the intact trace, then a Sync.
        if !o.events.is_empty() {
            let k = o.syncs.len() - 1;
            assert_eq!(
                o.events.len(),
                full.events_of_gens(k) + 1,
                "failure after {ok} bytes"
            );
            assert_eq!(
                o.common_prefix(&full.out),
                full.events_of_gens(k),
                "failure after {ok} bytes"
            );
            assert!(o.last_is_sync());
            salvaged = salvaged.max(k);
        }
    }
    assert!(salvaged > 0, "no failing stream salvaged any generation");
}
