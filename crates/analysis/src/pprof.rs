//! Blocking profiles: how long goroutines spent blocked, by the stack where
//! they blocked. These are the reference's `-pprof=net|sync|syscall|sched`
//! and its `/io`, `/block`, `/syscall`, `/sched` pages (whole trace or one
//! goroutine group) and `/regionio`, `/regionblock`, `/regionsyscall`,
//! `/regionsched` (time inside matching regions only).
//!
//! A goroutine's blocking interval starts at a transition into the profile's
//! state (for a matching reason) and ends at its next transition into any
//! other state. The interval is attributed to the stack of the event that
//! started it and counts only where it overlaps the goroutine's filter
//! intervals: its lifetime (from its first run to its end) for the
//! whole-trace and per-group profiles, its outermost matching regions for
//! the region profiles. Stacks with the same PCs are one sample.
//!
//! [`BlockingProfiler`] computes all four whole-trace profiles, for every
//! goroutine group at once, in the same pass that reads the trace, keeping
//! per-goroutine aggregates rather than one record per blocking interval;
//! goroutines are found in a table indexed by ID, and a transition usually
//! touches only its goroutine's 40-byte entry there.
//! [`IntervalProfiler`] does the general, interval-filtered computation
//! (regions, or any caller-chosen intervals) in a second pass. Both can
//! read a trace themselves (`read_all`), running on a second thread while
//! the calling one reads and orders the events.

use crate::feed::{
    self, Batch, Direct, FrameDef, Mode, Rec, RecKind, Tables, EMPTY_STACK, EMPTY_STR, NO_REF,
};
use crate::summary::{RegionFilter, Summary};
use gotrace::{Event, GoId, GoState, Time};
use rustc_hash::FxHashMap;

pub mod proto;

pub use proto::encode_gzipped;

/// The four blocking profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfileKind {
    /// Time waiting on the network (`-pprof=net`, the page `/io`).
    Net,
    /// Time blocked on channels, `select` and `sync` primitives
    /// (`-pprof=sync`, the page `/block`).
    Sync,
    /// Time in system calls (`-pprof=syscall`, `/syscall`).
    Syscall,
    /// Time runnable but not running: scheduler latency (`-pprof=sched`,
    /// `/sched`).
    Sched,
}

impl ProfileKind {
    /// All four, in the reference's order.
    pub const ALL: [ProfileKind; 4] = [
        ProfileKind::Net,
        ProfileKind::Sync,
        ProfileKind::Syscall,
        ProfileKind::Sched,
    ];

    /// From the `-pprof` name (`net`, `sync`, `syscall`, `sched`) or the
    /// reference's page name (`io`, `block`).
    pub fn from_name(s: &str) -> Option<ProfileKind> {
        Some(match s {
            "net" | "io" => ProfileKind::Net,
            "sync" | "block" => ProfileKind::Sync,
            "syscall" => ProfileKind::Syscall,
            "sched" => ProfileKind::Sched,
            _ => return None,
        })
    }

    /// The `-pprof` name.
    pub fn name(self) -> &'static str {
        match self {
            ProfileKind::Net => "net",
            ProfileKind::Sync => "sync",
            ProfileKind::Syscall => "syscall",
            ProfileKind::Sched => "sched",
        }
    }

    /// The reference's page for this profile (`io`, `block`, `syscall`,
    /// `sched`); prefix `region` for the per-region page.
    pub fn page(self) -> &'static str {
        match self {
            ProfileKind::Net => "io",
            ProfileKind::Sync => "block",
            ProfileKind::Syscall => "syscall",
            ProfileKind::Sched => "sched",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The goroutine state this profile measures.
    pub fn state(self) -> GoState {
        match self {
            ProfileKind::Net | ProfileKind::Sync => GoState::Waiting,
            ProfileKind::Syscall => GoState::Syscall,
            ProfileKind::Sched => GoState::Runnable,
        }
    }

    /// Whether a transition into `state` for `reason` starts an interval.
    fn starts(self, state: GoState, reason: &[u8]) -> bool {
        if state != self.state() {
            return false;
        }
        match self {
            ProfileKind::Net => reason == b"network",
            ProfileKind::Sync => {
                contains(reason, b"chan")
                    || contains(reason, b"sync")
                    || contains(reason, b"select")
            }
            ProfileKind::Syscall | ProfileKind::Sched => true,
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The reference deduplicates stacks by their first 128 PCs and cuts
/// longer stacks there.
const MAX_STACK: usize = 128;

/// A frame of a profile stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileFrame {
    /// Program counter (0 for a PC missing from the trace's frame table).
    pub pc: u64,
    /// Function name.
    pub func: String,
    /// Source file.
    pub file: String,
    /// Line in `file`.
    pub line: u64,
}

/// Unique stacks, leaf first, each cut at 128 frames.
///
/// Stacks are one sample when their PCs are equal up to trailing zero PCs
/// (the reference keys on a zero-padded `[128]u64`). Such stacks still
/// differ in frames (`[]` vs `[0x0]`), so each distinct PC list is kept as
/// a variant of its key, and a sample shows the variant of its most
/// recently ended interval, as the reference's `stackMap` does.
#[derive(Debug, Default, Clone)]
pub struct StackTable {
    frames: Vec<ProfileFrame>,
    /// Variant `i` is `frames[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    /// Variant -> key.
    keys: Vec<u32>,
    by_pcs: FxHashMap<Box<[u64]>, u32>,
    by_key: FxHashMap<Box<[u64]>, u32>,
}

impl StackTable {
    /// The frames of stack variant `i`, leaf first.
    pub fn frames(&self, i: u32) -> &[ProfileFrame] {
        let i = i as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.frames.len(), |&e| e as usize);
        &self.frames[self.starts[i] as usize..end]
    }

    /// Number of stack variants.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    fn key(&self, variant: u32) -> u32 {
        self.keys[variant as usize]
    }

    /// The variant of a stack given by its frames (one per PC, leaf
    /// first); `pcs` is scratch space.
    fn intern(&mut self, tables: &Tables, frames: &[FrameDef], pcs: &mut Vec<u64>) -> u32 {
        let frames = &frames[..frames.len().min(MAX_STACK)];
        pcs.clear();
        pcs.extend(frames.iter().map(|f| f.pc));
        if let Some(&i) = self.by_pcs.get(&pcs[..]) {
            return i;
        }
        let key_len = pcs.iter().rposition(|&pc| pc != 0).map_or(0, |i| i + 1);
        let next_key = self.by_key.len() as u32;
        let key = *self.by_key.entry(pcs[..key_len].into()).or_insert(next_key);
        let i = self.starts.len() as u32;
        self.starts.push(self.frames.len() as u32);
        self.keys.push(key);
        for f in frames {
            // The reference yields a zero frame for a PC missing from the
            // trace's frame table.
            self.frames.push(if f.func == NO_REF {
                ProfileFrame {
                    pc: 0,
                    func: String::new(),
                    file: String::new(),
                    line: 0,
                }
            } else {
                ProfileFrame {
                    pc: f.pc,
                    func: String::from_utf8_lossy(tables.str(f.func).0).into_owned(),
                    file: String::from_utf8_lossy(tables.str(f.file).0).into_owned(),
                    line: f.line,
                }
            });
        }
        self.by_pcs.insert(pcs[..].into(), i);
        i
    }
}

/// One sample: a stack, how many blocking intervals, and their total time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Index into the profile's [`StackTable`].
    pub stack: u32,
    /// Number of intervals (pprof's `contentions`).
    pub count: u64,
    /// Total nanoseconds (pprof's `delay`).
    pub delay: i64,
}

/// A blocking profile: samples over a stack table.
#[derive(Debug, Clone)]
pub struct Profile<'s> {
    /// Which profile.
    pub kind: ProfileKind,
    /// The samples, by stack index.
    pub samples: Vec<Sample>,
    /// The stacks they refer to.
    pub stacks: &'s StackTable,
}

impl Profile<'_> {
    /// Total count and delay over all samples.
    pub fn totals(&self) -> (u64, i64) {
        self.samples
            .iter()
            .fold((0, 0), |(c, d), s| (c + s.count, d.wrapping_add(s.delay)))
    }

    /// The gzipped `profile.proto`, as the reference writes it (sample
    /// types `contentions/count` and `delay/nanoseconds`).
    pub fn to_pprof(&self) -> Vec<u8> {
        encode_gzipped(self)
    }
}

const CLOSED: u32 = u32::MAX;

/// A goroutine's open blocking intervals. A transition into a state ends
/// every interval of the other states, so only the profiles of one state
/// can be open at once: for `Waiting`, network (slot 0) and sync (slot 1);
/// for `Syscall` and `Runnable`, their one profile (slot 0).
#[derive(Clone, Copy, Debug)]
struct Open {
    start: [Time; 2],
    /// Stack variant of the event that started each interval, or
    /// [`CLOSED`].
    variant: [u32; 2],
    /// The state the open intervals are of.
    state: GoState,
}

impl Open {
    const NONE: Open = Open {
        start: [0; 2],
        variant: [CLOSED; 2],
        state: GoState::Undetermined,
    };

    fn all_closed(&self) -> bool {
        self.variant == [CLOSED; 2]
    }
}

/// The profiles measuring a state, by slot.
/// (Slot 1 is used only for `Waiting`; other states never have an open
/// interval.)
fn kinds_of(state: GoState) -> [ProfileKind; 2] {
    match state {
        GoState::Syscall => [ProfileKind::Syscall; 2],
        GoState::Runnable => [ProfileKind::Sched; 2],
        _ => [ProfileKind::Net, ProfileKind::Sync],
    }
}

/// Reason classes: which profiles a transition into `Waiting` starts, and
/// whether it ends the goroutine.
const REASON_NET: u8 = 1;
const REASON_SYNC: u8 = 2;
const REASON_FOREVER: u8 = 4;
const REASON_UNKNOWN: u8 = 0x80;

fn reason_class(reason: &[u8]) -> u8 {
    let mut c = 0;
    if ProfileKind::Net.starts(GoState::Waiting, reason) {
        c |= REASON_NET;
    }
    if ProfileKind::Sync.starts(GoState::Waiting, reason) {
        c |= REASON_SYNC;
    }
    if reason == b"forever" {
        c |= REASON_FOREVER;
    }
    c
}

/// A finished interval: profile, goroutine, stack variant, [start, end].
#[derive(Clone, Copy)]
struct Done {
    kind: ProfileKind,
    goroutine: GoId,
    variant: u32,
    start: Time,
    end: Time,
    seq: u64,
}

/// Interns event stacks into a [`StackTable`], caching by the stack's
/// reference in the current generation, and classifies reasons.
#[derive(Default)]
struct Stacks {
    table: StackTable,
    tables: Tables,
    /// Stack reference -> variant ([`CLOSED`] until known).
    by_ref: Vec<u32>,
    /// The empty stack's variant ([`CLOSED`] until known).
    empty: Option<u32>,
    /// String reference -> reason class.
    reasons: Vec<u8>,
    /// Records seen, to order intervals that end at the same time.
    seq: u64,
    pcs: Vec<u64>,
}

impl Stacks {
    /// Takes a batch's definitions.
    fn load(&mut self, b: &Batch) {
        if self.tables.load(b) {
            self.new_gen();
        }
    }

    fn new_gen(&mut self) {
        self.by_ref.clear();
        self.reasons.clear();
    }

    #[inline]
    fn variant(&mut self, r: u32) -> u32 {
        match self.by_ref.get(r as usize) {
            Some(&v) if v != CLOSED => v,
            _ => match self.empty {
                Some(v) if r == EMPTY_STACK => v,
                _ => self.new_variant(r),
            },
        }
    }

    #[cold]
    #[inline(never)]
    fn new_variant(&mut self, r: u32) -> u32 {
        if r == EMPTY_STACK {
            if let Some(v) = self.empty {
                return v;
            }
            let v = self.table.intern(&self.tables, &[], &mut self.pcs);
            self.empty = Some(v);
            return v;
        }
        let i = r as usize;
        if self.by_ref.len() <= i {
            self.by_ref
                .resize(self.tables.n_stacks().max(i + 1), CLOSED);
        }
        let v = self
            .table
            .intern(&self.tables, self.tables.frames(r), &mut self.pcs);
        self.by_ref[i] = v;
        v
    }

    #[inline]
    fn reason(&mut self, r: u32) -> u8 {
        if r == EMPTY_STR {
            return 0;
        }
        let i = r as usize;
        match self.reasons.get(i) {
            Some(&c) if c != REASON_UNKNOWN => c,
            _ => {
                if self.reasons.len() <= i {
                    self.reasons
                        .resize(self.tables.n_strs().max(i + 1), REASON_UNKNOWN);
                }
                let c = reason_class(self.tables.str(r).0);
                self.reasons[i] = c;
                c
            }
        }
    }

    /// Follows one goroutine transition in the goroutine's open intervals,
    /// as the reference does: an interval starts at a transition into the
    /// profile's state (for a matching reason), continues across
    /// transitions into the same state, and ends at any other; `done` gets
    /// every interval that ends.
    #[inline]
    fn track(&mut self, r: &Rec, open: &mut Open, class: u8, mut done: impl FnMut(Done)) {
        let new = r.new;
        if open.state != new {
            if !open.all_closed() {
                let slots = kinds_of(open.state)
                    .into_iter()
                    .zip(open.variant)
                    .zip(open.start);
                for ((kind, variant), start) in slots {
                    if variant != CLOSED {
                        done(Done {
                            kind,
                            goroutine: r.a,
                            variant,
                            start,
                            end: r.time,
                            seq: self.seq,
                        });
                    }
                }
                open.variant = [CLOSED; 2];
            }
            open.state = new;
        }
        // Which slots this transition starts, if closed (see `kinds_of`).
        let starts = match new {
            GoState::Waiting => [class & REASON_NET != 0, class & REASON_SYNC != 0],
            GoState::Syscall | GoState::Runnable => [true, false],
            _ => return,
        };
        for (i, starts) in starts.into_iter().enumerate() {
            if starts && open.variant[i] == CLOSED {
                open.variant[i] = self.variant(r.stack);
                open.start[i] = r.time;
            }
        }
    }
}

/// Overlap of [a0, a1] and [b0, b1], as the reference's `interval.overlap`.
fn overlap(a0: Time, a1: Time, b0: Time, b1: Time) -> i64 {
    if a1 < b0 || b1 < a0 {
        return 0;
    }
    a1.min(b1).wrapping_sub(a0.max(b0))
}

/// Clips an interval to an optional time window.
fn clip(window: Option<(Time, Time)>, d: Done) -> Option<Done> {
    match window {
        None => Some(d),
        Some((w0, w1)) => {
            let (start, end) = (d.start.max(w0), d.end.min(w1));
            (start < end).then_some(Done { start, end, ..d })
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Agg {
    count: u64,
    delay: i64,
    /// (end, event sequence, variant) of the latest interval counted: the
    /// variant a sample shows.
    latest: (Time, u64, u32),
}

impl Agg {
    fn merge(&mut self, o: &Agg) {
        self.count += o.count;
        self.delay = self.delay.wrapping_add(o.delay);
        self.latest = self.latest.max(o.latest);
    }

    fn count(&mut self, d: &Done, delay: i64) {
        self.merge(&Agg {
            count: 1,
            delay,
            latest: (d.end, d.seq, d.variant),
        });
    }
}

/// Per stack key.
type Aggs = FxHashMap<u32, Agg>;

/// What one goroutine contributed to one profile for one stack variant.
#[derive(Clone, Copy)]
struct Contribution {
    kind: ProfileKind,
    variant: u32,
    agg: Agg,
}

/// A goroutine as the reference's summary sees it: a new one replaces any
/// earlier goroutine with the same ID when it is created or first seen
/// (IDs are reused by the goroutines of cgo callbacks on C threads).
struct Entry {
    id: GoId,
    /// Outermost function of its first stack (0, the empty name, until
    /// known).
    name: u32,
    /// First time it ran (0: never).
    first_run: Time,
    /// When it exited or blocked forever (0: not yet).
    end: Time,
    /// Intervals ended while it had run and not ended: they count in full
    /// if this entry is its ID's last.
    counted: Vec<Contribution>,
    /// Intervals whose outcome depends on the final lifetime: those ended
    /// before the first run or after the end. Rare, so kept raw.
    raw: Vec<Done>,
}

/// What the profiler keeps per goroutine ID, persistently: its current
/// entry, its open intervals, and copies of the entry's hot facts so that
/// most transitions touch nothing else.
#[derive(Clone, Copy, Debug)]
struct GoRec {
    open: Open,
    /// Its entry ([`NO_ENTRY`] if it has none: first seen mid-life
    /// without a status).
    entry: u32,
    /// The entry has a name.
    named: bool,
    /// The entry has run (`first_run != 0`).
    ran: bool,
    /// The entry has ended (`end != 0`).
    ended: bool,
}

const _: () = assert!(std::mem::size_of::<GoRec>() == 40);

impl GoRec {
    const NEW: GoRec = GoRec {
        open: Open::NONE,
        entry: NO_ENTRY,
        named: false,
        ran: false,
        ended: false,
    };
}

/// Goroutine IDs to their records: a vector for IDs up to a few times the
/// number of goroutines (the runtime hands IDs out densely), a map beyond.
#[derive(Default)]
struct GoTable {
    dense: Vec<GoRec>,
    sparse: FxHashMap<GoId, GoRec>,
}

impl GoTable {
    /// The record of `id`; `goroutines` is how many there are so far.
    #[inline]
    fn get_mut(&mut self, id: GoId, goroutines: usize) -> &mut GoRec {
        if (id as u64) < self.dense.len() as u64 {
            return &mut self.dense[id as usize];
        }
        self.grow(id, goroutines)
    }

    #[cold]
    fn grow(&mut self, id: GoId, goroutines: usize) -> &mut GoRec {
        let limit = (1u64 << 16).max(4 * goroutines as u64 + 1024);
        if (0..limit as i64).contains(&id) {
            let n = (id as usize + 1)
                .max(self.dense.len() * 2)
                .min(limit as usize);
            self.dense.resize(n, GoRec::NEW);
            // IDs kept in the map until now move into the vector.
            if !self.sparse.is_empty() {
                let moved: Vec<GoId> = self
                    .sparse
                    .keys()
                    .copied()
                    .filter(|&k| (0..n as i64).contains(&k))
                    .collect();
                for k in moved {
                    self.dense[k as usize] = self.sparse.remove(&k).unwrap();
                }
            }
            return &mut self.dense[id as usize];
        }
        self.sparse.entry(id).or_insert(GoRec::NEW)
    }

    fn iter(&self) -> impl Iterator<Item = (GoId, &GoRec)> {
        self.dense
            .iter()
            .enumerate()
            .map(|(i, g)| (i as GoId, g))
            .chain(self.sparse.iter().map(|(&i, g)| (i, g)))
    }
}

const NO_ENTRY: u32 = u32::MAX;

/// Contributions kept inline in an entry; more go to a shared map.
const INLINE_CONTRIBUTIONS: usize = 8;

/// Computes the four whole-trace blocking profiles, and every goroutine
/// group's, in one pass. Feed it every event, then call
/// [`finish`](Self::finish).
pub struct BlockingProfiler {
    stacks: Stacks,
    direct: Direct,
    window: Option<(Time, Time)>,
    /// A window relative to the first event, not yet resolved.
    relative: Option<(Option<i64>, Option<i64>)>,
    entries: Vec<Entry>,
    goroutines: GoTable,
    /// Intervals ended while no goroutine entry existed for their ID.
    orphans: Vec<Done>,
    /// Contributions beyond an entry's first few, by (entry, profile,
    /// variant).
    overflow: FxHashMap<(u32, ProfileKind, u32), Agg>,
    names: Names,
    /// Group name of a stack's outermost function, by stack reference
    /// ([`CLOSED`] until known, [`NO_ENTRY`] for an empty stack).
    name_of: Vec<u32>,
    last_time: Time,
}

/// Goroutine group names, interned; 0 is the empty name.
struct Names {
    names: Vec<String>,
    ids: FxHashMap<Vec<u8>, u32>,
}

impl Default for BlockingProfiler {
    fn default() -> Self {
        Self::new()
    }
}

/// What the blocking profiles need of the events.
const BLOCKING_MODE: Mode = Mode {
    all: false,
    full_stacks: true,
};

impl feed::Sink for BlockingProfiler {
    fn batch(&mut self, b: &Batch) {
        self.batch_of(b);
    }
}

impl BlockingProfiler {
    /// Profiles over the whole trace.
    pub fn new() -> Self {
        BlockingProfiler {
            stacks: Stacks::default(),
            direct: Direct::new(BLOCKING_MODE),
            window: None,
            relative: None,
            entries: Vec::new(),
            goroutines: GoTable::default(),
            orphans: Vec::new(),
            overflow: FxHashMap::default(),
            names: Names {
                names: vec![String::new()],
                ids: [(Vec::new(), 0)].into_iter().collect(),
            },
            name_of: Vec::new(),
            last_time: 0,
        }
    }

    /// Profiles counting only blocked time inside [start, end] (something
    /// the reference cannot do).
    pub fn with_window(start: Time, end: Time) -> Self {
        BlockingProfiler {
            window: Some((start, end)),
            ..Self::new()
        }
    }

    /// Profiles counting only blocked time inside a window given relative
    /// to the first event: from `from` after it (or its time) to `to`
    /// after it (or forever).
    pub fn with_relative_window(from: Option<i64>, to: Option<i64>) -> Self {
        BlockingProfiler {
            relative: Some((from, to)),
            ..Self::new()
        }
    }

    /// Reads every event of `r` and returns the profiles: the same as
    /// feeding [`event`](Self::event) every event and calling
    /// [`finish`](Self::finish), but the profiles are computed on another
    /// thread while this one reads and orders the trace.
    pub fn read_all(self, r: &mut gotrace::Reader) -> Result<BlockingProfiles, gotrace::Error> {
        Ok(feed::run(r, BLOCKING_MODE, self)?.finish())
    }

    /// Feeds one event (in order).
    pub fn event(&mut self, ev: &Event<'_>) {
        let (rec, new_gen) = self.direct.convert(ev, &mut self.stacks.tables);
        if new_gen {
            self.stacks.new_gen();
            self.name_of.clear();
        }
        if let Some(r) = rec {
            self.rec(&r);
        }
        self.last_time = ev.time();
    }

    fn batch_of(&mut self, b: &Batch) {
        self.stacks.load(b);
        if b.new_gen {
            self.name_of.clear();
        }
        for r in &b.recs {
            self.rec(r);
        }
    }

    #[inline(always)]
    fn rec(&mut self, r: &Rec) {
        self.last_time = r.time;
        self.stacks.seq += 1;
        if let Some((from, to)) = self.relative.take() {
            let t0 = r.time;
            self.window = Some((
                t0.saturating_add(from.unwrap_or(0)),
                to.map_or(i64::MAX, |t| t0.saturating_add(t)),
            ));
        }
        if r.kind != RecKind::Go {
            return;
        }
        let id = r.a;
        let (old, new) = (r.old, r.new);
        let class = if new == GoState::Waiting {
            self.stacks.reason(r.s)
        } else {
            0
        };
        let g = self.goroutines.get_mut(id, self.entries.len());
        let (entries, orphans, overflow, window) = (
            &mut self.entries,
            &mut self.orphans,
            &mut self.overflow,
            self.window,
        );
        let (entry, counting) = (g.entry, g.ran && !g.ended);
        // Intervals end before this event updates the goroutine's lifetime.
        self.stacks.track(r, &mut g.open, class, |d| {
            let Some(d) = clip(window, d) else {
                return;
            };
            if entry == NO_ENTRY {
                orphans.push(d);
                return;
            }
            let e = &mut entries[entry as usize];
            if counting {
                // first_run <= start, and the final end will be >= end.
                if d.end > d.start {
                    let delay = d.end.wrapping_sub(d.start);
                    let inline_full = e.counted.len() >= INLINE_CONTRIBUTIONS;
                    match e
                        .counted
                        .iter_mut()
                        .find(|c| c.kind == d.kind && c.variant == d.variant)
                    {
                        Some(c) => c.agg.count(&d, delay),
                        None if !inline_full => {
                            let mut agg = Agg::default();
                            agg.count(&d, delay);
                            e.counted.push(Contribution {
                                kind: d.kind,
                                variant: d.variant,
                                agg,
                            });
                        }
                        // Long-lived goroutines block at many stacks.
                        None => overflow
                            .entry((entry, d.kind, d.variant))
                            .or_default()
                            .count(&d, delay),
                    }
                }
            } else {
                e.raw.push(d);
            }
        });
        if old != new {
            self.lifetime(r, class);
        }
    }

    /// Follows goroutine lifetimes as the reference's summary does.
    #[inline]
    fn lifetime(&mut self, r: &Rec, class: u8) {
        let (old, new, t) = (r.old, r.new, r.time);
        let n = self.entries.len();
        let g = self.goroutines.get_mut(r.a, n);
        if matches!(old, GoState::Undetermined | GoState::NotExist) {
            *g = GoRec {
                open: g.open,
                entry: n as u32,
                named: false,
                ran: false,
                ended: false,
            };
            self.entries.push(Entry {
                id: r.a,
                name: 0,
                first_run: 0,
                end: 0,
                counted: Vec::new(),
                raw: Vec::new(),
            });
        }
        if g.entry == NO_ENTRY {
            return;
        }
        let entry = &mut self.entries[g.entry as usize];
        match new {
            GoState::Running if !g.ran => {
                entry.first_run = t;
                // A first run at time 0 leaves first_run 0: not run yet.
                g.ran = t != 0;
                // Everything ended so far ended at or before the first run,
                // so none of it overlaps the lifetime.
                entry.raw.retain(|d| d.end > t);
            }
            GoState::NotExist => {
                entry.end = t;
                g.ended = t != 0;
            }
            GoState::Waiting if class & REASON_FOREVER != 0 => {
                entry.end = t;
                g.ended = t != 0;
            }
            _ => {}
        }
        if !g.named && r.st_stack != EMPTY_STACK {
            let e = g.entry as usize;
            let name = self.name(r.st_stack);
            if name != 0 && name != NO_ENTRY {
                self.entries[e].name = name;
                self.goroutines.get_mut(r.a, n).named = true;
            }
        }
    }

    /// The group name of a stack's outermost function: 0 for none (the
    /// zero frame), [`NO_ENTRY`] for an empty stack.
    fn name(&mut self, stack: u32) -> u32 {
        let i = stack as usize;
        if let Some(&n) = self.name_of.get(i) {
            if n != CLOSED {
                return n;
            }
        } else {
            self.name_of
                .resize(self.stacks.tables.n_stacks().max(i + 1), CLOSED);
        }
        let n = match self.stacks.tables.outermost(stack) {
            None => NO_ENTRY,
            Some(f) if f.func == NO_REF => 0,
            Some(f) => {
                let func = self.stacks.tables.str(f.func).0;
                match self.names.ids.get(func) {
                    Some(&n) => n,
                    None => {
                        let n = self.names.names.len() as u32;
                        self.names
                            .names
                            .push(String::from_utf8_lossy(func).into_owned());
                        self.names.ids.insert(func.to_vec(), n);
                        n
                    }
                }
            }
        };
        self.name_of[i] = n;
        n
    }

    /// The profiles.
    pub fn finish(self) -> BlockingProfiles {
        let trace_end = self.last_time;
        let stacks = self.stacks.table;
        let final_of: FxHashMap<GoId, u32> = self
            .goroutines
            .iter()
            .filter(|(_, g)| g.entry != NO_ENTRY)
            .map(|(id, g)| (id, g.entry))
            .collect();
        let mut groups: Vec<Group> = self
            .names
            .names
            .into_iter()
            .map(|name| Group {
                name,
                goroutines: 0,
                aggs: Default::default(),
            })
            .collect();
        for &f in final_of.values() {
            groups[self.entries[f as usize].name as usize].goroutines += 1;
        }
        // The group an entry's counted intervals go to, if they count: a
        // replaced entry's count only if its replacement never ran, as
        // that one's lifetime [0, end] covers everything before it.
        let group_of = |e: u32| {
            let f = final_of[&self.entries[e as usize].id];
            let fin = &self.entries[f as usize];
            (f == e || fin.first_run == 0).then_some(fin.name as usize)
        };
        for (e, entry) in self.entries.iter().enumerate() {
            if let Some(g) = group_of(e as u32) {
                for c in &entry.counted {
                    groups[g].aggs[c.kind.index()]
                        .entry(stacks.key(c.variant))
                        .or_default()
                        .merge(&c.agg);
                }
            }
        }
        for (&(e, kind, variant), a) in &self.overflow {
            if let Some(g) = group_of(e) {
                groups[g].aggs[kind.index()]
                    .entry(stacks.key(variant))
                    .or_default()
                    .merge(a);
            }
        }
        let raw = self
            .entries
            .iter()
            .flat_map(|e| e.raw.iter())
            .chain(self.orphans.iter());
        for d in raw {
            let Some(&f) = final_of.get(&d.goroutine) else {
                continue;
            };
            let e = &self.entries[f as usize];
            let end = if e.end == 0 { trace_end } else { e.end };
            let o = overlap(e.first_run, end, d.start, d.end);
            if o > 0 {
                groups[e.name as usize].aggs[d.kind.index()]
                    .entry(stacks.key(d.variant))
                    .or_default()
                    .count(d, o);
            }
        }
        let mut total: [Aggs; 4] = Default::default();
        for g in &groups {
            for (k, aggs) in g.aggs.iter().enumerate() {
                for (&key, a) in aggs {
                    total[k].entry(key).or_default().merge(a);
                }
            }
        }
        BlockingProfiles {
            stacks,
            goroutines: final_of.len(),
            total,
            groups,
        }
    }
}

struct Group {
    name: String,
    goroutines: usize,
    aggs: [Aggs; 4],
}

/// The whole-trace and per-group blocking profiles of a trace.
pub struct BlockingProfiles {
    stacks: StackTable,
    goroutines: usize,
    total: [Aggs; 4],
    groups: Vec<Group>,
}

/// Why no profile could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoGoroutines {
    /// The group asked for.
    pub name: String,
}

impl std::fmt::Display for NoGoroutines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "failed to find matching goroutines for name: {}",
            self.name
        )
    }
}

impl std::error::Error for NoGoroutines {}

fn to_samples(m: &Aggs) -> Vec<Sample> {
    let mut v: Vec<Sample> = m
        .values()
        .map(|a| Sample {
            stack: a.latest.2,
            count: a.count,
            delay: a.delay,
        })
        .collect();
    // Largest first, then by stack, so output is deterministic.
    v.sort_by(|a, b| b.delay.cmp(&a.delay).then(a.stack.cmp(&b.stack)));
    v
}

impl BlockingProfiles {
    /// The profile over every goroutine (`go tool trace -pprof=KIND`), or
    /// over one goroutine group (`/io?name=NAME`). Fails, as the
    /// reference does, if no goroutine matches.
    pub fn profile(
        &self,
        kind: ProfileKind,
        group: Option<&str>,
    ) -> Result<Profile<'_>, NoGoroutines> {
        let samples = match group {
            None if self.goroutines > 0 => to_samples(&self.total[kind.index()]),
            Some(name) => match self
                .groups
                .iter()
                .find(|g| g.name == name && g.goroutines > 0)
            {
                Some(g) => to_samples(&g.aggs[kind.index()]),
                None => return Err(NoGoroutines { name: name.into() }),
            },
            None => {
                return Err(NoGoroutines {
                    name: String::new(),
                })
            }
        };
        Ok(Profile {
            kind,
            samples,
            stacks: &self.stacks,
        })
    }

    /// The goroutine groups (names of goroutines' outermost functions).
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .filter(|g| g.goroutines > 0)
            .map(|g| g.name.as_str())
    }

    /// The stacks the samples refer to.
    pub fn stacks(&self) -> &StackTable {
        &self.stacks
    }
}

/// Per-goroutine time intervals that a profile counts.
pub type Intervals = FxHashMap<GoId, Vec<(Time, Time)>>;

/// The intervals of the outermost regions matching `filter`, per goroutine,
/// as the reference's region profiles count them. Regions without a start
/// or end run from the trace's start or to its end.
pub fn region_intervals(summary: &Summary, filter: &RegionFilter) -> Intervals {
    let mut out: Intervals = FxHashMap::default();
    for g in &summary.goroutines {
        for &r in &g.regions {
            let r = summary.region(r);
            if !filter.matches(summary, r) {
                continue;
            }
            let start = r.start.map_or(summary.start_time, |p| p.time);
            let end = r.end.map_or(summary.end_time, |p| p.time);
            out.entry(g.id).or_default().push((start, end));
        }
    }
    for iv in out.values_mut() {
        iv.sort_unstable();
        // Keep only regions that start after the previous kept one ended.
        let mut last = 0;
        iv.retain(|&(s, e)| {
            let keep = last <= s;
            if keep {
                last = e;
            }
            keep
        });
    }
    out
}

/// The lifetime of every goroutine of `summary` (optionally only one
/// group's): from its first run to its end or the trace's end. This is
/// what [`BlockingProfiler`] computes on the fly; the explicit form lets
/// the two be checked against each other.
pub fn goroutine_intervals(summary: &Summary, group: Option<&[u8]>) -> Intervals {
    summary
        .goroutines
        .iter()
        .filter(|g| group.is_none_or(|n| summary.str(g.name) == n))
        .map(|g| {
            let end = if g.end_time == 0 {
                summary.end_time
            } else {
                g.end_time
            };
            (g.id, vec![(g.start_time, end)])
        })
        .collect()
}

/// The reference's general profile computation: every blocking interval
/// counts where it overlaps its goroutine's `intervals`. Used for the
/// region profiles, which need the regions (from a [`Summary`]) before the
/// pass.
pub struct IntervalProfiler {
    stacks: Stacks,
    direct: Direct,
    open: FxHashMap<GoId, Open>,
    intervals: Intervals,
    window: Option<(Time, Time)>,
    /// Per profile, by stack variant.
    aggs: [Aggs; 4],
}

impl IntervalProfiler {
    /// Counts blocked time inside `intervals` (and inside `window`, if
    /// given).
    pub fn new(intervals: Intervals, window: Option<(Time, Time)>) -> Self {
        IntervalProfiler {
            stacks: Stacks::default(),
            direct: Direct::new(BLOCKING_MODE),
            open: FxHashMap::default(),
            intervals,
            window,
            aggs: Default::default(),
        }
    }

    /// Feeds one event (in order).
    pub fn event(&mut self, ev: &Event<'_>) {
        let (rec, new_gen) = self.direct.convert(ev, &mut self.stacks.tables);
        if new_gen {
            self.stacks.new_gen();
        }
        if let Some(r) = rec {
            self.rec(&r);
        }
    }

    /// Reads every event of `r` and returns the profiles: the same as
    /// feeding [`event`](Self::event) every event and calling
    /// [`finish`](Self::finish), but the profiles are computed on another
    /// thread while this one reads and orders the trace.
    pub fn read_all(self, r: &mut gotrace::Reader) -> Result<IntervalProfiles, gotrace::Error> {
        Ok(feed::run(r, BLOCKING_MODE, self)?.finish())
    }

    fn rec(&mut self, r: &Rec) {
        self.stacks.seq += 1;
        if r.kind != RecKind::Go {
            return;
        }
        let class = if r.new == GoState::Waiting {
            self.stacks.reason(r.s)
        } else {
            0
        };
        let open = self.open.entry(r.a).or_insert(Open::NONE);
        let (intervals, aggs, window) = (&self.intervals, &mut self.aggs, self.window);
        self.stacks.track(r, open, class, |d| {
            let Some(d) = clip(window, d) else {
                return;
            };
            let Some(iv) = intervals.get(&d.goroutine) else {
                return;
            };
            let o: i64 = iv
                .iter()
                .map(|&(s, e)| overlap(s, e, d.start, d.end))
                .filter(|&o| o > 0)
                .sum();
            if o > 0 {
                aggs[d.kind.index()]
                    .entry(d.variant)
                    .or_default()
                    .count(&d, o);
            }
        });
        if open.all_closed() {
            self.open.remove(&r.a);
        }
    }

    /// The four profiles.
    pub fn finish(self) -> IntervalProfiles {
        let stacks = self.stacks.table;
        let aggs = self.aggs.map(|by_variant| {
            let mut by_key = Aggs::default();
            for (v, a) in by_variant {
                by_key.entry(stacks.key(v)).or_default().merge(&a);
            }
            by_key
        });
        IntervalProfiles { stacks, aggs }
    }
}

impl feed::Sink for IntervalProfiler {
    fn batch(&mut self, b: &Batch) {
        self.stacks.load(b);
        for r in &b.recs {
            self.rec(r);
        }
    }
}

/// The result of an [`IntervalProfiler`].
pub struct IntervalProfiles {
    stacks: StackTable,
    aggs: [Aggs; 4],
}

impl IntervalProfiles {
    /// One of the four profiles.
    pub fn profile(&self, kind: ProfileKind) -> Profile<'_> {
        Profile {
            kind,
            samples: to_samples(&self.aggs[kind.index()]),
            stacks: &self.stacks,
        }
    }
}

/// A node of a flame graph: a function on a call path, with the blocked
/// time and intervals of every stack through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlameNode {
    /// Function name ("" for the root).
    pub func: String,
    /// Total delay of the stacks through this node, in nanoseconds.
    pub delay: i64,
    /// Total intervals of the stacks through this node.
    pub count: u64,
    /// Callees, heaviest first.
    pub children: Vec<FlameNode>,
}

impl Profile<'_> {
    /// The profile as a flame graph: stacks merged by function from the
    /// outermost frame in, so the root's children are where goroutines
    /// started. Nodes lighter than `min_fraction` of the total are folded
    /// into their parent, which keeps the graph small on huge profiles.
    pub fn flame_graph(&self, min_fraction: f64) -> FlameNode {
        // Build over an arena, then convert.
        struct N {
            func: String,
            delay: i64,
            count: u64,
            children: FxHashMap<String, usize>,
        }
        let mut arena = vec![N {
            func: String::new(),
            delay: 0,
            count: 0,
            children: FxHashMap::default(),
        }];
        for s in &self.samples {
            let mut at = 0;
            arena[0].delay = arena[0].delay.wrapping_add(s.delay);
            arena[0].count += s.count;
            for f in self.stacks.frames(s.stack).iter().rev() {
                let next = match arena[at].children.get(&f.func) {
                    Some(&n) => n,
                    None => {
                        let n = arena.len();
                        arena.push(N {
                            func: f.func.clone(),
                            delay: 0,
                            count: 0,
                            children: FxHashMap::default(),
                        });
                        arena[at].children.insert(f.func.clone(), n);
                        n
                    }
                };
                at = next;
                arena[at].delay = arena[at].delay.wrapping_add(s.delay);
                arena[at].count += s.count;
            }
        }
        let min = (arena[0].delay as f64 * min_fraction.max(0.0)) as i64;
        fn convert(arena: &[N], i: usize, min: i64) -> FlameNode {
            let n = &arena[i];
            let mut children: Vec<FlameNode> = n
                .children
                .values()
                .filter(|&&c| arena[c].delay >= min.max(1) || (min == 0 && arena[c].count > 0))
                .map(|&c| convert(arena, c, min))
                .collect();
            children.sort_by(|a, b| b.delay.cmp(&a.delay).then_with(|| a.func.cmp(&b.func)));
            FlameNode {
                func: n.func.clone(),
                delay: n.delay,
                count: n.count,
                children,
            }
        }
        convert(&arena, 0, min)
    }
}
