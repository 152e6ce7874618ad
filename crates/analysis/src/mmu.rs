//! Minimum mutator utilization (the reference's `/mmu`).
//!
//! Three steps, each matching Go's `internal/trace/gc.go` and
//! `internal/trace/traceviewer/mmu.go` (Go 1.27) to the last bit:
//!
//! 1. [`MutatorUtil`] is fed every event of a trace and builds the mutator
//!    utilization function(s) (`MutatorUtilizationV2`): one series for the
//!    whole system, or one per P with [`UtilFlags::PER_PROC`]. A series is a
//!    step function: each [`MutatorUtilPoint`] gives the utilization (0..=1)
//!    from its time until the next point's.
//! 2. [`MmuCurve::new`] summarizes the series in bands (1000 per series)
//!    and answers [`MmuCurve::mmu`] (the minimum, over all windows of a given
//!    length, of the mean utilization), [`MmuCurve::examples`] (the worst
//!    disjoint windows) and [`MmuCurve::mud`] (quantiles of the utilization
//!    distribution). The band algorithm is exact for the given function.
//! 3. [`MmuCurve::plot`] and [`MmuCurve::details`] compute what the
//!    reference serves at `/mmu?mode=plot&flags=F` and
//!    `/mmu?mode=details&window=W&flags=F`; [`MmuPlot::to_json`] and
//!    [`details_json`] render the exact response bodies.
//!
//! ```no_run
//! use gotrace_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags};
//!
//! let mut r = gotrace::Reader::open("trace.out")?;
//! let mut mu = MutatorUtil::new(UtilFlags::STW | UtilFlags::BACKGROUND | UtilFlags::ASSIST);
//! while let Some(ev) = r.read_event()? {
//!     mu.event(&ev);
//! }
//! let curve = MmuCurve::new(&mu.finish());
//! println!("MMU at 1ms: {}", curve.mmu(1_000_000));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Windows and times are nanoseconds as `i64`, like Go's `time.Duration`
//! and `trace.Time`: a window <= 0 has an MMU of 0, as in the reference.
//!
//! # Reference quirks reproduced
//!
//! - **Percentiles equal the MMU.** The reference's `MUD` runs the band
//!   search with an accumulator that tracks no worst windows, and the
//!   accumulator returns early in that case before it feeds the
//!   distribution; the distribution stays empty, every quantile falls back
//!   to the MMU. So the "mut" plot's four columns are all the MMU. [`MmuCurve::mud`]
//!   does the same; [`MmuCurve::mud_distribution`] computes the
//!   distribution the code was meant to compute.
//! - **No utilization without a GOMAXPROCS metric.** Nothing is recorded
//!   before the first `/sched/gomaxprocs:threads` metric. Go 1.21 traces
//!   carry one only if GOMAXPROCS changed during the trace; without it there
//!   is no series, the reference's plot handler panics (no response) and its
//!   details handler answers `null`. [`MmuCurve::plot`] returns
//!   [`MmuError::NoUtilization`]; [`MmuCurve::details`] returns no windows
//!   and [`details_json`] renders `null`.
//! - The plot's window sizes are `time.Duration(math.Exp(...))`: Go's amd64
//!   `math.Exp`/`math.Log` are reproduced bit for bit (`Exp` in the FMA
//!   variant Go uses on CPUs with AVX and FMA, as the goldens were; always,
//!   so our output does not depend on the machine), and the float is
//!   truncated, so the first window is typically 999 or 999999, not 1000
//!   or 1000000.
//! - Background mark workers are recognized by their `GC ...` label and stay
//!   marked for the rest of the trace; range-active events only count
//!   before the second generation; a retroactive mark assist or sweep
//!   lowers the whole single series so far by 1/GOMAXPROCS. See
//!   [`MutatorUtil`].
//!
//! # Where the reference panics
//!
//! On inputs the reference cannot handle we do something sensible instead
//! of crashing: events naming a P outside `0..GOMAXPROCS` (Go indexes out of
//! range) are ignored for that P and counted ([`MutatorUtil::ignored_procs`]);
//! series spanning no time (Go's band setup indexes out of range) are left
//! out of the MMU; empty series are dropped by [`MmuCurve::new`].

mod goheap;
mod gomath;
mod mud;

use gotrace::{Event, EventKind, GoId, RangeName, ResourceKind, NO_GOROUTINE};
use rustc_hash::FxHashMap;
use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// What counts as GC time (`trace.UtilFlags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UtilFlags(u8);

impl UtilFlags {
    /// Nothing: utilization is 1 wherever it is defined.
    pub const NONE: UtilFlags = UtilFlags(0);
    /// Stop-the-world phases of the GC (`UtilSTW`): every P is in GC.
    pub const STW: UtilFlags = UtilFlags(1);
    /// Background mark workers (`UtilBackground`).
    pub const BACKGROUND: UtilFlags = UtilFlags(2);
    /// Mark assists (`UtilAssist`).
    pub const ASSIST: UtilFlags = UtilFlags(4);
    /// Incremental sweeping (`UtilSweep`).
    pub const SWEEP: UtilFlags = UtilFlags(8);
    /// One series per P, each 0 or 1, instead of one system-wide series
    /// (`UtilPerProc`).
    pub const PER_PROC: UtilFlags = UtilFlags(16);

    /// Whether all flags of `other` are set.
    pub fn contains(self, other: UtilFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags of a `/mmu` request's `flags` value (already URL-decoded):
    /// `|`-separated words; `perProc`, `stw`, `background`, `assist` and
    /// `sweep` set a flag, other words (`system`, `mut`, ...) are ignored.
    pub fn from_query(flags: &str) -> UtilFlags {
        flags.split('|').fold(UtilFlags::NONE, |f, w| {
            f | match w {
                "perProc" => UtilFlags::PER_PROC,
                "stw" => UtilFlags::STW,
                "background" => UtilFlags::BACKGROUND,
                "assist" => UtilFlags::ASSIST,
                "sweep" => UtilFlags::SWEEP,
                _ => UtilFlags::NONE,
            }
        })
    }
}

/// Whether a `/mmu?mode=plot` request's `flags` value asks for percentiles
/// (the word `mut`).
pub fn query_wants_quantiles(flags: &str) -> bool {
    flags.split('|').any(|w| w == "mut")
}

impl BitOr for UtilFlags {
    type Output = UtilFlags;
    fn bitor(self, rhs: UtilFlags) -> UtilFlags {
        UtilFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for UtilFlags {
    fn bitor_assign(&mut self, rhs: UtilFlags) {
        self.0 |= rhs.0;
    }
}

/// A change of mutator utilization (`trace.MutatorUtil`): from `time` on,
/// until the next point, the mean utilization is `util` (0..=1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MutatorUtilPoint {
    /// Nanoseconds, on the trace's clock.
    pub time: i64,
    /// Mean mutator utilization from `time` on.
    pub util: f64,
}

/// A window of the MMU search (`trace.UtilWindow`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UtilWindow {
    /// Start of the window (absolute trace time, ns).
    pub time: i64,
    /// Mean mutator utilization in the window.
    pub mutator_util: f64,
}

/// What the MMU endpoints cannot answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MmuError {
    /// There is no utilization series: the trace has no GOMAXPROCS metric
    /// (go1.21 traces in which GOMAXPROCS never changed) or no events. The
    /// reference's plot handler panics on this (index out of range).
    NoUtilization,
    /// A details request's `window` is not a decimal u64; the payload is
    /// the reference's 400 response body without its trailing newline.
    BadWindow(String),
}

impl fmt::Display for MmuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MmuError::NoUtilization => f.write_str(
                "no mutator utilization: the trace has no GOMAXPROCS metric \
                 (the reference's MMU plot crashes on such traces)",
            ),
            MmuError::BadWindow(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for MmuError {}

// ---------------------------------------------------------------------------
// Utilization functions
// ---------------------------------------------------------------------------

/// Per-P state: its count of GC activities and the series it feeds.
#[derive(Clone, Copy)]
struct PerP {
    gc: i64,
    series: usize,
}

/// Per-goroutine state.
#[derive(Clone, Copy, Default)]
struct PerG {
    /// Last state seen in a transition.
    executing: bool,
    /// In a mark assist.
    in_gc: bool,
    /// A background mark worker (once seen, for the rest of the trace).
    bg_mark: bool,
}

/// Builds mutator utilization functions from a trace's events, like the
/// reference's `MutatorUtilizationV2`. Feed every event in order with
/// [`Self::event`], then call [`Self::finish`].
///
/// State is per P and per goroutine; the output grows only when the
/// utilization changes.
///
/// The rules, in the reference's words and quirks:
/// - Nothing is recorded before the first `/sched/gomaxprocs:threads`
///   metric; each such metric resizes the P list. With `PER_PROC`, removed
///   Ps' series end with a 0 point and added Ps start a new series at 1;
///   without it, one series starts at 1.
/// - `STW`: `stop-the-world` ranges whose kind mentions `GC` put every P
///   in GC. `SWEEP` (`GC incremental sweep`) and `ASSIST` (`GC mark
///   assist`) ranges count on the event's P; an assisting goroutine also
///   counts on whatever P it runs on until the assist ends.
/// - `BACKGROUND`: a label starting with `GC ` (not `GC (idle)`, and not
///   `GC (dedicated)` with `PER_PROC`) marks its goroutine as a mark worker
///   for the rest of the trace and counts on its P.
/// - Range-active events count only while the last Sync's number is <= 1;
///   an active assist (of a goroutine last seen executing) or sweep also
///   lowers every point so far of the single series by 1/GOMAXPROCS
///   (as of that point), floored at 0.
/// - After every event a point is added: without `PER_PROC`,
///   `1 - (Ps in GC)/GOMAXPROCS`; with it, 0 or 1 per P. A point equal to
///   the last value is dropped; at the same time stamp, the lower value
///   wins. Every series ends with `(time of the last event, 0)`.
pub struct MutatorUtil {
    flags: UtilFlags,
    out: Vec<Vec<MutatorUtilPoint>>,
    stw: i64,
    ps: Vec<PerP>,
    gs: FxHashMap<GoId, PerG>,
    /// GOMAXPROCS changes: (time, n).
    procs: Vec<(i64, usize)>,
    n_sync: u64,
    last_time: Option<i64>,
    ignored_procs: u64,
}

const GOMAXPROCS_METRIC: &str = "/sched/gomaxprocs:threads";

fn add_util(util: &mut Vec<MutatorUtilPoint>, mu: MutatorUtilPoint) {
    if let Some(last) = util.last_mut() {
        if mu.util == last.util {
            return;
        }
        if mu.time == last.time {
            if mu.util < last.util {
                *last = mu;
            }
            return;
        }
    }
    util.push(mu);
}

fn is_gc_stw(r: &RangeName) -> bool {
    // The name is `stop-the-world (KIND)`: it contains "GC" iff KIND does.
    matches!(r, RangeName::Stw(kind) if kind.windows(2).any(|w| w == b"GC"))
}

impl MutatorUtil {
    /// A builder for the given flags.
    pub fn new(flags: UtilFlags) -> Self {
        MutatorUtil {
            flags,
            out: Vec::new(),
            stw: 0,
            ps: Vec::new(),
            gs: FxHashMap::default(),
            procs: Vec::new(),
            n_sync: 0,
            last_time: None,
            ignored_procs: 0,
        }
    }

    /// The flags this builder was made with.
    pub fn flags(&self) -> UtilFlags {
        self.flags
    }

    /// How many times an event's P was outside `0..GOMAXPROCS` where the
    /// reference would index its P list with it (and panic). Always 0 on
    /// well-formed traces.
    pub fn ignored_procs(&self) -> u64 {
        self.ignored_procs
    }

    fn per_proc(&self) -> bool {
        self.flags.contains(UtilFlags::PER_PROC)
    }

    /// Adds `d` to the GC count of P `p`.
    fn proc_gc(&mut self, p: i64, d: i64) {
        match usize::try_from(p).ok().and_then(|p| self.ps.get_mut(p)) {
            Some(pp) => pp.gc += d,
            None => self.ignored_procs += 1,
        }
    }

    fn set_gomaxprocs(&mut self, n: usize, t: i64) {
        let per_proc = self.per_proc();
        if self.ps.len() > n {
            if per_proc {
                for p in &self.ps[n..] {
                    add_util(
                        &mut self.out[p.series],
                        MutatorUtilPoint { time: t, util: 0.0 },
                    );
                }
            }
            self.ps.truncate(n);
        }
        while self.ps.len() < n {
            let mut series = 0;
            if per_proc || self.out.is_empty() {
                series = self.out.len();
                self.out.push(vec![MutatorUtilPoint { time: t, util: 1.0 }]);
            }
            self.ps.push(PerP { gc: 0, series });
        }
        if !matches!(self.procs.last(), Some(&(_, last)) if last == n) {
            self.procs.push((t, n));
        }
    }

    /// Lowers every point so far of the single series by 1/GOMAXPROCS.
    fn subtract_one_proc(&mut self) {
        let procs = &self.procs;
        let Some(s) = self.out.first_mut() else {
            return;
        };
        let (mut mi, mut pi) = (0, 0);
        while mi < s.len() {
            if pi + 1 < procs.len() && procs[pi + 1].0 < s[mi].time {
                pi += 1;
                continue;
            }
            s[mi].util -= 1.0 / procs[pi].1 as f64;
            if s[mi].util < 0.0 {
                s[mi].util = 0.0;
            }
            mi += 1;
        }
    }

    fn range_begin(&mut self, ev: &Event<'_>, name: &RangeName<'_>, scope_g: Option<GoId>) {
        let f = self.flags;
        if f.contains(UtilFlags::STW) && is_gc_stw(name) {
            self.stw += 1;
        } else if f.contains(UtilFlags::SWEEP) && *name == RangeName::GcSweep {
            self.proc_gc(ev.proc(), 1);
        } else if f.contains(UtilFlags::ASSIST) && *name == RangeName::GcMarkAssist {
            self.proc_gc(ev.proc(), 1);
            if let Some(g) = scope_g.filter(|&g| g != NO_GOROUTINE) {
                self.gs.entry(g).or_default().in_gc = true;
            }
        }
    }

    /// Feeds the next event of the trace.
    pub fn event(&mut self, ev: &Event<'_>) {
        let t = ev.time();
        self.last_time = Some(t);
        let kind = ev.kind();
        match kind {
            EventKind::Sync => {
                if let Some(s) = ev.sync() {
                    self.n_sync = s.n;
                }
            }
            EventKind::Metric => {
                if let Some(m) = ev.metric().filter(|m| m.name == GOMAXPROCS_METRIC) {
                    self.set_gomaxprocs(m.value as usize, t);
                }
            }
            _ => {}
        }
        if self.ps.is_empty() {
            return;
        }

        let f = self.flags;
        match kind {
            EventKind::RangeActive | EventKind::RangeBegin | EventKind::RangeEnd => {
                let Some(r) = ev.range() else {
                    return self.record(t);
                };
                let scope_g = (r.scope.kind == ResourceKind::Goroutine).then_some(r.scope.id);
                if kind == EventKind::RangeActive {
                    if self.n_sync > 1 {
                        // Complete information since the last generation:
                        // the range was seen beginning.
                        return self.record(t);
                    }
                    let retro =
                        if f.contains(UtilFlags::ASSIST) && r.name == RangeName::GcMarkAssist {
                            // Only counts if the goroutine was executing.
                            self.gs.get(&ev.goroutine()).is_some_and(|g| g.executing)
                        } else {
                            f.contains(UtilFlags::SWEEP) && r.name == RangeName::GcSweep
                        };
                    if retro && !self.per_proc() {
                        self.subtract_one_proc();
                    }
                }
                if kind == EventKind::RangeEnd {
                    if f.contains(UtilFlags::STW) && is_gc_stw(&r.name) {
                        self.stw -= 1;
                    } else if f.contains(UtilFlags::SWEEP) && r.name == RangeName::GcSweep {
                        self.proc_gc(ev.proc(), -1);
                    } else if f.contains(UtilFlags::ASSIST) && r.name == RangeName::GcMarkAssist {
                        self.proc_gc(ev.proc(), -1);
                        if let Some(g) = scope_g.filter(|&g| g != NO_GOROUTINE) {
                            if let Some(pg) = self.gs.get_mut(&g) {
                                pg.in_gc = false;
                            }
                        }
                    }
                } else {
                    self.range_begin(ev, &r.name, scope_g);
                }
            }
            EventKind::StateTransition => {
                if let Some(st) = ev
                    .state_transition()
                    .filter(|st| st.resource.kind == ResourceKind::Goroutine)
                {
                    let (old, new) = st.goroutine();
                    let g = st.resource.id;
                    let pg = self.gs.entry(g).or_default();
                    let gc_g = pg.in_gc || pg.bg_mark;
                    pg.executing = new.executing();
                    if gc_g {
                        if !old.executing() && new.executing() {
                            self.proc_gc(ev.proc(), 1);
                        } else if old.executing() && !new.executing() {
                            self.proc_gc(ev.proc(), -1);
                        }
                    }
                }
            }
            EventKind::Label => {
                if let Some(l) = ev.label() {
                    if f.contains(UtilFlags::BACKGROUND)
                        && l.label.starts_with(b"GC ")
                        && l.label != b"GC (idle)"
                        && !(self.per_proc() && l.label == b"GC (dedicated)")
                    {
                        self.gs.entry(ev.goroutine()).or_default().bg_mark = true;
                        self.proc_gc(ev.proc(), 1);
                    }
                }
            }
            _ => {}
        }
        self.record(t);
    }

    /// Adds the utilization after an event.
    fn record(&mut self, t: i64) {
        if !self.per_proc() {
            let n = self.ps.len();
            let gc_ps = if self.stw > 0 {
                n
            } else {
                self.ps.iter().filter(|p| p.gc > 0).count()
            };
            let util = 1.0 - gc_ps as f64 / n as f64;
            add_util(&mut self.out[0], MutatorUtilPoint { time: t, util });
        } else {
            let stw = self.stw > 0;
            for p in &self.ps {
                let util = if stw || p.gc > 0 { 0.0 } else { 1.0 };
                add_util(&mut self.out[p.series], MutatorUtilPoint { time: t, util });
            }
        }
    }

    /// Ends every live series with a 0 at the last event's time and returns
    /// the series: one, or one per P (in order of creation) with
    /// `PER_PROC`; none if no GOMAXPROCS metric was seen.
    pub fn finish(mut self) -> Vec<Vec<MutatorUtilPoint>> {
        let Some(t) = self.last_time else {
            return Vec::new();
        };
        for p in &self.ps {
            add_util(
                &mut self.out[p.series],
                MutatorUtilPoint { time: t, util: 0.0 },
            );
        }
        self.out
    }
}

// ---------------------------------------------------------------------------
// MMU curve
// ---------------------------------------------------------------------------

/// Number of bands each series is divided into (`bandsPerSeries`).
const BANDS_PER_SERIES: usize = 1000;

#[derive(Clone, Copy)]
struct Band {
    /// Minimum instantaneous utilization in the band.
    min_util: f64,
    /// Integral of the utilization from the series' start to the band's
    /// left edge.
    cum_util: f64,
    /// Integrator position at the left edge.
    pos: usize,
}

struct Series {
    util: Vec<MutatorUtilPoint>,
    /// `sums[j]`: integral of the utilization up to `util[j].time`.
    sums: Vec<f64>,
    bands: Vec<Band>,
    band_dur: i64,
}

/// A position in a series, integrating it from its start.
#[derive(Clone, Copy)]
struct Integrator {
    /// Index of the current time's non-strict predecessor.
    pos: usize,
}

impl Integrator {
    /// Integral up to `time`; `time` must not go (far) backwards.
    fn advance(&mut self, s: &Series, time: i64) -> f64 {
        let util = &s.util;
        let mut pos = self.pos;
        // Nearby: linear scan; far: binary search. (Both kept because they
        // differ when the time steps back, which happens at band ends.)
        const MAX_SEQ: usize = 8;
        if pos + MAX_SEQ < util.len() && util[pos + MAX_SEQ].time > time {
            while pos + 1 < util.len() && util[pos + 1].time <= time {
                pos += 1;
            }
        } else {
            let (mut l, mut r) = (pos, util.len());
            while l < r {
                let h = (l + r) / 2;
                if util[h].time <= time {
                    l = h + 1;
                } else {
                    r = h;
                }
            }
            pos = l.saturating_sub(1);
        }
        self.pos = pos;
        let mut partial = 0.0;
        if time != util[pos].time {
            partial = util[pos].util * (time - util[pos].time) as f64;
        }
        s.sums[pos] + partial
    }

    /// The first change of the utilization after `time`.
    fn next(&self, s: &Series, time: i64) -> i64 {
        s.util[self.pos..]
            .iter()
            .find(|u| u.time > time)
            .map_or(i64::MAX, |u| u.time)
    }
}

#[derive(Clone, Copy)]
struct BandUtil {
    series: usize,
    band: usize,
    /// Lower bound of the mean utilization of windows starting in the band.
    util_bound: f64,
}

fn band_order(a: &BandUtil, b: &BandUtil) -> bool {
    a.util_bound < b.util_bound
}

/// The worst-window heap keeps the best of the worst on top.
fn worst_order(a: &UtilWindow, b: &UtilWindow) -> bool {
    if a.mutator_util != b.mutator_util {
        return a.mutator_util > b.mutator_util;
    }
    a.time > b.time
}

impl Series {
    fn new(util: Vec<MutatorUtilPoint>) -> Series {
        let mut sums = Vec::with_capacity(util.len());
        let mut prev = MutatorUtilPoint { time: 0, util: 0.0 };
        let mut sum = 0.0f64;
        for u in &util {
            sum += prev.util * (u.time - prev.time) as f64;
            sums.push(sum);
            prev = *u;
        }
        let num_bands = BANDS_PER_SERIES.min(util.len());
        let dur = util[util.len() - 1].time - util[0].time;
        let band_dur = ((dur + num_bands as i64 - 1) / num_bands as i64).max(1);
        let mut s = Series {
            util,
            sums,
            bands: Vec::with_capacity(num_bands + 1),
            band_dur,
        };
        let mut left = Integrator { pos: 0 };
        for i in 0..=num_bands {
            let (start, end) = s.band_time(i);
            let cum_util = left.advance(&s, start);
            let mut min_util = 1.0;
            for u in s.util[left.pos..].iter().take_while(|u| u.time < end) {
                min_util = gomath::min(min_util, u.util);
            }
            s.bands.push(Band {
                min_util,
                cum_util,
                pos: left.pos,
            });
        }
        s
    }

    fn duration(&self) -> i64 {
        self.util[self.util.len() - 1].time - self.util[0].time
    }

    fn band_time(&self, i: usize) -> (i64, i64) {
        let start = i as i64 * self.band_dur + self.util[0].time;
        (start, start + self.band_dur)
    }

    /// For each band, a lower bound of the mean utilization of every
    /// window of length `window` that starts in it: the minimum for the
    /// partially covered bands, the exact integral for fully covered ones.
    fn band_utils(&self, series: usize, window: i64, out: &mut Vec<BandUtil>) {
        let bd = self.band_dur;
        let min_bands = ((window + bd - 1) / bd) as usize;
        let max_bands = ((window + 2 * (bd - 1)) / bd) as usize;
        let tail_dur = window % bd;
        let n = (self.bands.len() + 1).saturating_sub(max_bands);
        let b = &self.bands;
        for i in 0..n {
            let mut util = 0.0f64;
            let l = b[i].min_util;
            let r1 = b[i + min_bands - 1].min_util;
            let r2 = b[i + max_bands - 1].min_util;
            let min_band = gomath::min(l, gomath::min(r1, r2));
            if min_bands == 1 {
                util += min_band * window as f64;
            } else {
                util += min_band * bd as f64;
                let mid_band = if min_band == l {
                    gomath::min(r1, r2)
                } else if min_band == r1 {
                    gomath::min(l, r2)
                } else if min_band == r2 {
                    gomath::min(l, r1)
                } else {
                    0.0
                };
                util += mid_band * tail_dur as f64;
            }
            if min_bands > 2 {
                util += b[i + min_bands - 1].cum_util - b[i + 1].cum_util;
            }
            out.push(BandUtil {
                series,
                band: i,
                util_bound: util / window as f64,
            });
        }
    }

    /// The exact windowed utilization for windows starting in band `bi`,
    /// at every time where either window edge meets a change (the minimum
    /// of the piecewise linear windowed function is at one of those).
    fn band_mmu(&self, bi: usize, window: i64, acc: &mut Accumulator) {
        let mut left = Integrator {
            pos: self.bands[bi].pos,
        };
        let mut right = left;
        let (mut time, mut end_time) = self.band_time(bi);
        let util_end = self.util[self.util.len() - 1].time - window;
        if util_end < end_time {
            end_time = util_end;
        }
        acc.reset_time();
        loop {
            let hi = right.advance(self, time + window);
            let lo = left.advance(self, time);
            let mu = (hi - lo) / window as f64;
            if acc.add_mu(time, mu, window) || time == end_time {
                break;
            }
            // The windowed function's slope is at most 1/window, so it
            // cannot drop below the bound before this.
            let min_time = time + gomath::f64_to_i64((mu - acc.bound) * window as f64);
            let t1 = left.next(self, time);
            let t2 = right.next(self, time + window) - window;
            time = if t1 < t2 { t1 } else { t2 };
            if time < min_time {
                time = min_time;
            }
            if time >= end_time {
                // Spans the whole band (matters for distributions).
                time = end_time;
            }
        }
    }
}

/// Collects windowed utilizations during the band search.
struct Accumulator {
    mmu: f64,
    /// Utilizations above this cannot change the result.
    bound: f64,
    n_worst: usize,
    worst: Vec<UtilWindow>,
    mud: Option<mud::Mud>,
    /// Feed `mud` even without worst-window tracking (the reference never
    /// does; see the module docs).
    feed_mud: bool,
    last_time: i64,
    last_mu: f64,
}

impl Accumulator {
    fn new(n_worst: usize) -> Self {
        Accumulator {
            mmu: 1.0,
            bound: 1.0,
            n_worst,
            worst: Vec::new(),
            mud: None,
            feed_mud: false,
            last_time: 0,
            last_mu: 0.0,
        }
    }

    /// A discontinuity of the windowed function (a new band).
    fn reset_time(&mut self) {
        self.last_time = i64::MAX;
    }

    /// Adds the windowed utilization at `time`; true if further points
    /// cannot change anything.
    fn add_mu(&mut self, time: i64, mu: f64, window: i64) -> bool {
        if mu < self.mmu {
            self.mmu = mu;
        }
        self.bound = self.mmu;

        if self.n_worst == 0 {
            if !self.feed_mud {
                // The reference stops here, also when it has a MUD to fill.
                return mu == 0.0;
            }
        } else {
            self.add_worst(time, mu, window);
        }

        if let Some(m) = self.mud.as_mut() {
            if self.last_time != i64::MAX {
                m.add(self.last_mu, mu, (time - self.last_time) as f64);
            }
            self.last_time = time;
            self.last_mu = mu;
            match m.approx_inv_cumulative_sum() {
                Some((_, upper)) => self.bound = gomath::max(self.bound, upper),
                None => self.bound = 1.0,
            }
            return false;
        }
        self.worst.len() == self.n_worst && self.worst[0].mutator_util == 0.0
    }

    /// Keeps the n worst disjoint windows.
    fn add_worst(&mut self, time: i64, mu: f64, window: i64) {
        if self.worst.len() < self.n_worst || mu < self.worst[0].mutator_util {
            // Of overlapping windows, keep the worse (the first on ties).
            let overlap = self
                .worst
                .iter()
                .position(|w| time + window > w.time && w.time + window > time);
            let keep_old = overlap.is_some_and(|i| self.worst[i].mutator_util <= mu);
            if !keep_old {
                if let Some(i) = overlap {
                    goheap::remove(&mut self.worst, i, &worst_order);
                }
                goheap::push(
                    &mut self.worst,
                    UtilWindow {
                        time,
                        mutator_util: mu,
                    },
                    &worst_order,
                );
                if self.worst.len() > self.n_worst {
                    goheap::pop(&mut self.worst, &worst_order);
                }
            }
        }
        if self.worst.len() < self.n_worst {
            self.bound = 1.0;
        } else {
            self.bound = gomath::max(self.bound, self.worst[0].mutator_util);
        }
    }
}

/// The MMU curve of one or more utilization series (`trace.MMUCurve`).
pub struct MmuCurve {
    series: Vec<Series>,
    /// Earliest first point and latest last point over all series.
    bounds: Option<(i64, i64)>,
}

/// The quantiles the plot asks for with `mut`: 0, 0.1%, 1%, 5%. The
/// reference writes `1 - .999` etc., untyped constants that Go evaluates
/// exactly, so these are the float64s nearest 0.001, 0.01 and 0.05 (not
/// `1.0 - 0.999` in float64 = 0.0010000000000000009).
pub const PLOT_QUANTILES: [f64; 4] = [0.0, 0.001, 0.01, 0.05];

/// Number of windows on the plot.
const PLOT_SAMPLES: usize = 100;

impl MmuCurve {
    /// Summarizes the series (as [`MutatorUtil::finish`] returns them);
    /// empty series are ignored.
    pub fn new(series: &[Vec<MutatorUtilPoint>]) -> MmuCurve {
        let mut bounds: Option<(i64, i64)> = None;
        let mut out = Vec::with_capacity(series.len());
        for s in series.iter().filter(|s| !s.is_empty()) {
            let (first, last) = (s[0].time, s[s.len() - 1].time);
            bounds = Some(match bounds {
                None => (first, last),
                Some((lo, hi)) => (
                    if first < lo { first } else { lo },
                    if last > hi { last } else { hi },
                ),
            });
            out.push(Series::new(s.clone()));
        }
        MmuCurve {
            series: out,
            bounds,
        }
    }

    /// Whether there is no series at all (the reference's plot crashes).
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Runs the band search for `window`, refining bands from the lowest
    /// bound up until no band can change the accumulator's result.
    fn search(&self, window: i64, acc: &mut Accumulator) {
        if window <= 0 {
            acc.mmu = 0.0;
            return;
        }
        let mut bands = Vec::new();
        let mut windows = Vec::with_capacity(self.series.len());
        for (i, s) in self.series.iter().enumerate() {
            let max = s.duration();
            let w = if window > max { max } else { window };
            windows.push(w);
            if w > 0 {
                s.band_utils(i, w, &mut bands);
            }
        }
        goheap::init(&mut bands, &band_order);
        while let Some(&b) = bands.first().filter(|b| b.util_bound < acc.bound) {
            self.series[b.series].band_mmu(b.band, windows[b.series], acc);
            goheap::pop(&mut bands, &band_order);
        }
    }

    /// The minimum mutator utilization over all windows of `window` ns
    /// (0..=1; 1 without series, 0 for `window <= 0`). Windows longer than
    /// a series are shortened to its length.
    pub fn mmu(&self, window: i64) -> f64 {
        let mut acc = Accumulator::new(0);
        self.search(window, &mut acc);
        acc.mmu
    }

    /// Up to `n` disjoint windows of `window` ns with the lowest mean
    /// utilization, sorted by utilization then time (`Examples`). Which
    /// disjoint set comes out is the reference's.
    pub fn examples(&self, window: i64, n: usize) -> Vec<UtilWindow> {
        let mut acc = Accumulator::new(n);
        self.search(window, &mut acc);
        let mut w = acc.worst;
        gotrace::gosort::sort_func(&mut w, |a, b| {
            // sort.Reverse of the heap order.
            if worst_order(b, a) {
                std::cmp::Ordering::Less
            } else if worst_order(a, b) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        w
    }

    /// Mutator utilization distribution quantiles for `window`, exactly as
    /// the reference's `MUD` returns them: because of the reference's
    /// early return (module docs), every quantile is the MMU.
    pub fn mud(&self, window: i64, quantiles: &[f64]) -> Vec<f64> {
        self.mud_impl(window, quantiles, false)
    }

    /// Quantiles of the actual distribution of the mean utilization over
    /// all windows of `window` ns (quantile 0 is the MMU, 0.01 the
    /// utilization that only 1% of the windows fall below). This is what
    /// the reference's `MUD` was written to compute; it is not what it
    /// serves (use [`Self::mud`] for that).
    pub fn mud_distribution(&self, window: i64, quantiles: &[f64]) -> Vec<f64> {
        self.mud_impl(window, quantiles, true)
    }

    fn mud_impl(&self, window: i64, quantiles: &[f64], feed: bool) -> Vec<f64> {
        if quantiles.is_empty() {
            return Vec::new();
        }
        let mut max_q = quantiles[0];
        for &q in quantiles {
            if q > max_q {
                max_q = q;
            }
        }
        // The distribution's total mass: the time over which windows start.
        let mut duration: i64 = 0;
        for s in &self.series {
            let d = s.duration();
            if d >= window {
                duration += d - window;
            }
        }
        let q_mass = duration as f64 * max_q;
        let mut m = mud::Mud::new();
        m.set_track_mass(q_mass);
        let mut acc = Accumulator::new(0);
        acc.mud = Some(m);
        acc.feed_mud = feed;
        self.search(window, &mut acc);
        let mut m = acc.mud.take().expect("mud");
        quantiles
            .iter()
            .map(|&q| {
                let (mu, _) = m.inv_cumulative_sum(duration as f64 * q);
                if mu.is_nan() {
                    // No mass (window = whole trace, or nothing added).
                    acc.mmu
                } else {
                    mu
                }
            })
            .collect()
    }

    /// The data of `/mmu?mode=plot`: 100 window sizes on a log scale from
    /// `x_min` (1 s, 1 ms, 1 µs or 1 ns: the largest whose MMU is below
    /// 0.0001, else 1 ns) over six orders of magnitude, capped at the
    /// trace's length; for each the MMU, or with `quantiles` the four
    /// [`PLOT_QUANTILES`] of [`Self::mud`].
    pub fn plot(&self, quantiles: bool) -> Result<MmuPlot, MmuError> {
        let (first, last) = self.bounds.ok_or(MmuError::NoUtilization)?;
        let mut x_min: i64 = 1_000_000_000;
        while x_min > 1 {
            if self.mmu(x_min) < 0.0001 {
                break;
            }
            x_min /= 1000;
        }
        let mut x_max = x_min.wrapping_mul(1_000_000);
        let max_max = last.wrapping_sub(first);
        if x_max > max_max {
            x_max = max_max;
        }
        let log_min = gomath::log(x_min as f64);
        let log_max = gomath::log(x_max as f64);
        let points = (0..PLOT_SAMPLES)
            .map(|i| {
                let x = i as f64 / (PLOT_SAMPLES - 1) as f64 * (log_max - log_min) + log_min;
                let window = gomath::f64_to_i64(gomath::exp(x));
                let values = if quantiles {
                    self.mud(window, &PLOT_QUANTILES)
                } else {
                    vec![self.mmu(window)]
                };
                PlotPoint { window, values }
            })
            .collect();
        Ok(MmuPlot {
            x_min,
            x_max,
            quantiles: quantiles.then(|| PLOT_QUANTILES.to_vec()),
            points,
        })
    }

    /// The worst windows `/mmu?mode=details` lists: [`Self::examples`] with
    /// n = 10. Render them with [`details_json`].
    pub fn details(&self, window: i64) -> Vec<UtilWindow> {
        self.examples(window, 10)
    }
}

/// One window size of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotPoint {
    /// Window length, ns.
    pub window: i64,
    /// `[mmu]`, or the utilization at each of [`MmuPlot::quantiles`].
    pub values: Vec<f64>,
}

/// What `/mmu?mode=plot` serves.
#[derive(Debug, Clone, PartialEq)]
pub struct MmuPlot {
    /// Smallest window considered (ns); the first point's window is this
    /// after a float round trip, often one less.
    pub x_min: i64,
    /// Largest window (ns).
    pub x_max: i64,
    /// The quantiles of the value columns, if percentiles were asked for.
    pub quantiles: Option<Vec<f64>>,
    /// The curve, by increasing window.
    pub points: Vec<PlotPoint>,
}

impl MmuPlot {
    /// The exact response body: `{"curve":[[W,V...],...],"quantiles":...,
    /// "xMax":N,"xMin":N}` and a newline, floats as `encoding/json`
    /// writes them. Empty if a value is NaN or infinite (the reference
    /// then fails to encode and sends an empty body).
    pub fn to_json(&self) -> String {
        let finite = self
            .points
            .iter()
            .all(|p| p.values.iter().all(|v| v.is_finite()));
        if !finite {
            return String::new();
        }
        let mut s = String::with_capacity(64 + self.points.len() * 48);
        s.push_str("{\"curve\":[");
        for (i, p) in self.points.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('[');
            gomath::json_float(&mut s, p.window as f64);
            for v in &p.values {
                s.push(',');
                gomath::json_float(&mut s, *v);
            }
            s.push(']');
        }
        s.push_str("],\"quantiles\":");
        match &self.quantiles {
            None => s.push_str("null"),
            Some(q) => {
                s.push('[');
                for (i, v) in q.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    gomath::json_float(&mut s, *v);
                }
                s.push(']');
            }
        }
        s.push_str(&format!(
            ",\"xMax\":{},\"xMin\":{}}}\n",
            self.x_max, self.x_min
        ));
        s
    }
}

/// A part of a split trace view (`traceviewer.Range`), for the links of
/// the details: `start`/`end` are its bounds as the viewer URL gives them,
/// `end_time` its last time. Unsplit traces have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewRange {
    /// `start=` of the view URL.
    pub start: i64,
    /// `end=` of the view URL.
    pub end: i64,
    /// End time of the range (ns).
    pub end_time: i64,
}

/// The link the details give for a window: the proc view of the range
/// containing it (the first range ending after the window's start, the
/// last range if none does, the zero range without ranges), with the
/// window in ms after `#`.
pub fn window_url(w: &UtilWindow, window: i64, ranges: &[ViewRange]) -> String {
    let mut r = ViewRange {
        start: 0,
        end: 0,
        end_time: 0,
    };
    for x in ranges {
        r = *x;
        if x.end_time > w.time {
            break;
        }
    }
    let mut s = format!("/trace?view=proc&start={}&end={}#", r.start, r.end);
    gomath::go_v_float(&mut s, w.time as f64 / 1e6);
    s.push(':');
    gomath::go_v_float(&mut s, w.time.wrapping_add(window) as f64 / 1e6);
    s
}

/// The exact `/mmu?mode=details` response body for the windows of
/// [`MmuCurve::details`] (`null` if there are none), newline-terminated.
pub fn details_json(windows: &[UtilWindow], window: i64, ranges: &[ViewRange]) -> String {
    if windows.is_empty() {
        return "null\n".to_string();
    }
    if windows.iter().any(|w| !w.mutator_util.is_finite()) {
        return String::new();
    }
    let mut s = String::from("[");
    for (i, w) in windows.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("{{\"Time\":{},\"MutatorUtil\":", w.time));
        gomath::json_float(&mut s, w.mutator_util);
        s.push_str(",\"URL\":");
        json_string(&mut s, &window_url(w, window, ranges));
        s.push('}');
    }
    s.push_str("]\n");
    s
}

/// A JSON string as `encoding/json` writes it (HTML-safe escaping).
fn json_string(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses a details request's `window` value as the reference does
/// (`strconv.ParseUint(W, 10, 64)`, then `time.Duration`, so values above
/// `i64::MAX` wrap to negative windows, which have no worst windows).
pub fn parse_window(w: &str) -> Result<i64, MmuError> {
    let err = |what: &str| {
        MmuError::BadWindow(format!(
            "failed to parse window parameter {q}: strconv.ParseUint: parsing {q}: {what}",
            q = go_quote(w)
        ))
    };
    if w.is_empty() {
        return Err(err("invalid syntax"));
    }
    let mut n: u64 = 0;
    for b in w.bytes() {
        if !b.is_ascii_digit() {
            return Err(err("invalid syntax"));
        }
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add((b - b'0') as u64))
        {
            Some(n) => n,
            None => return Err(err("value out of range")),
        };
    }
    Ok(n as i64)
}

/// Go's `%q` / `strconv.Quote` for the strings a URL parameter can hold
/// (printable non-ASCII characters are kept as they are).
fn go_quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\x07' => q.push_str("\\a"),
            '\x08' => q.push_str("\\b"),
            '\x0c' => q.push_str("\\f"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            '\x0b' => q.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                q.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{fffd}' => q.push_str("\\ufffd"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(time: i64, util: f64) -> MutatorUtilPoint {
        MutatorUtilPoint { time, util }
    }

    /// Brute force: the windowed mean at every breakpoint-aligned start.
    fn brute_mmu(s: &[MutatorUtilPoint], window: i64) -> f64 {
        let integral = |t: i64| -> f64 {
            let mut sum = 0.0;
            for w in s.windows(2) {
                if t <= w[0].time {
                    break;
                }
                sum += w[0].util * (t.min(w[1].time) - w[0].time) as f64;
            }
            sum
        };
        let (first, last) = (s[0].time, s[s.len() - 1].time);
        let window = window.min(last - first);
        let mut m = 1.0f64;
        for u in s {
            for t in [u.time, u.time - window] {
                if t >= first && t + window <= last {
                    m = m.min((integral(t + window) - integral(t)) / window as f64);
                }
            }
        }
        m
    }

    #[test]
    fn mmu_matches_brute_force() {
        let mut s = vec![p(0, 1.0)];
        let mut x: u64 = 12345;
        let mut t = 0;
        for _ in 0..3000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t += 1 + (x >> 40) as i64 % 1000;
            s.push(p(t, ((x >> 20) % 5) as f64 / 4.0));
        }
        s.push(p(t + 10, 0.0));
        let c = MmuCurve::new(&[s.clone()]);
        for w in [1, 10, 333, 5000, 100_000, 10_000_000] {
            let (a, b) = (c.mmu(w), brute_mmu(&s, w));
            assert!((a - b).abs() < 1e-9, "window {w}: {a} vs {b}");
            let ex = c.examples(w, 5);
            assert!(!ex.is_empty());
            assert!((ex[0].mutator_util - a).abs() < 1e-12);
            for e in ex.windows(2) {
                assert!(e[0].mutator_util <= e[1].mutator_util);
            }
            let q = c.mud(w, &PLOT_QUANTILES);
            assert!(q.iter().all(|&v| v == a), "reference MUD equals MMU");
            let q = c.mud_distribution(w, &PLOT_QUANTILES);
            assert!(
                (q[0] - a).abs() < 1e-6 && q.windows(2).all(|v| v[0] <= v[1] + 1e-12),
                "{q:?} {a}"
            );
        }
        assert_eq!(c.mmu(0), 0.0);
        assert_eq!(c.mmu(-5), 0.0);
        assert!(c.examples(-5, 10).is_empty());
    }

    #[test]
    fn empty_curve() {
        let c = MmuCurve::new(&[]);
        assert!(c.is_empty());
        assert_eq!(c.mmu(1000), 1.0);
        assert!(c.details(1000).is_empty());
        assert_eq!(details_json(&c.details(1000), 1000, &[]), "null\n");
        assert_eq!(c.plot(false), Err(MmuError::NoUtilization));
    }

    #[test]
    fn windows_and_flags() {
        assert_eq!(parse_window("999999"), Ok(999999));
        assert_eq!(parse_window("18446744073709551615"), Ok(-1));
        assert_eq!(
            parse_window("bad").unwrap_err().to_string(),
            "failed to parse window parameter \"bad\": strconv.ParseUint: parsing \"bad\": invalid syntax"
        );
        assert!(parse_window("+1").is_err());
        assert!(parse_window("18446744073709551616")
            .unwrap_err()
            .to_string()
            .ends_with("value out of range"));
        let f = UtilFlags::from_query("system|stw|background|assist|mut");
        assert_eq!(
            f,
            UtilFlags::STW | UtilFlags::BACKGROUND | UtilFlags::ASSIST
        );
        assert!(query_wants_quantiles("system|mut"));
        assert!(!query_wants_quantiles("system|stw"));
        assert_eq!(UtilFlags::from_query(""), UtilFlags::NONE);
    }

    #[test]
    fn details_url() {
        let w = UtilWindow {
            time: 1070156872512,
            mutator_util: 0.391776,
        };
        assert_eq!(
            details_json(&[w], 1_000_000, &[]),
            "[{\"Time\":1070156872512,\"MutatorUtil\":0.391776,\"URL\":\"/trace?view=proc\\u0026start=0\\u0026end=0#1.070156872512e+06:1.070157872512e+06\"}]\n"
        );
    }
}
