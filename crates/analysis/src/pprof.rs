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
//! per-goroutine aggregates rather than one record per blocking interval.
//! [`IntervalProfiler`] does the general, interval-filtered computation
//! (regions, or any caller-chosen intervals) in a second pass.

use crate::summary::{RegionFilter, Summary};
use gotrace::{Event, EventKind, GoId, GoState, ResourceKind, Stack, Time};
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

    /// The stack's variant.
    fn intern(&mut self, stack: &Stack<'_>) -> u32 {
        let pcs = stack.pcs();
        let pcs = &pcs[..pcs.len().min(MAX_STACK)];
        if let Some(&i) = self.by_pcs.get(pcs) {
            return i;
        }
        let key_len = pcs.iter().rposition(|&pc| pc != 0).map_or(0, |i| i + 1);
        let next_key = self.by_key.len() as u32;
        let key = *self.by_key.entry(pcs[..key_len].into()).or_insert(next_key);
        let i = self.starts.len() as u32;
        self.starts.push(self.frames.len() as u32);
        self.keys.push(key);
        // frames() skips PCs missing from the frame table; the reference
        // yields a zero frame for them instead.
        let mut present = stack.frames().peekable();
        for &pc in pcs {
            let f = match present.next_if(|f| f.pc == pc) {
                Some(f) => ProfileFrame {
                    pc,
                    func: String::from_utf8_lossy(f.func).into_owned(),
                    file: String::from_utf8_lossy(f.file).into_owned(),
                    line: f.line,
                },
                None => ProfileFrame {
                    pc: 0,
                    func: String::new(),
                    file: String::new(),
                    line: 0,
                },
            };
            self.frames.push(f);
        }
        self.by_pcs.insert(pcs.into(), i);
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

/// Tracks the open blocking interval of each goroutine, per profile, as the
/// reference does: started by a transition into the state (for a matching
/// reason), kept across transitions into the same state, ended by any
/// other.
#[derive(Default)]
struct Tracker {
    open: [FxHashMap<GoId, (Time, u32)>; 4],
    stacks: StackTable,
    /// Stack IDs are per generation; every generation starts with a Sync.
    gen_stacks: FxHashMap<u64, u32>,
    /// Events seen, to order intervals that end at the same time.
    seq: u64,
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

impl Tracker {
    /// Feeds one event; calls `done` for every interval it ends.
    fn event(&mut self, ev: &Event<'_>, mut done: impl FnMut(Done)) {
        self.seq += 1;
        match ev.kind() {
            EventKind::Sync => self.gen_stacks.clear(),
            EventKind::StateTransition => {}
            _ => return,
        }
        let Some(st) = ev.state_transition() else {
            return;
        };
        if st.resource.kind != ResourceKind::Goroutine {
            return;
        }
        let id = st.resource.id;
        let new = st.goroutine().1;
        for kind in ProfileKind::ALL {
            let open = &mut self.open[kind.index()];
            match open.get(&id) {
                None => {
                    if kind.starts(new, st.reason) {
                        let stack = ev.stack();
                        let v = match self.gen_stacks.get(&stack.id()) {
                            Some(&v) => v,
                            None => {
                                let v = self.stacks.intern(&stack);
                                self.gen_stacks.insert(stack.id(), v);
                                v
                            }
                        };
                        open.insert(id, (ev.time(), v));
                    }
                }
                Some(_) if new == kind.state() => {}
                Some(&(start, variant)) => {
                    open.remove(&id);
                    done(Done {
                        kind,
                        goroutine: id,
                        variant,
                        start,
                        end: ev.time(),
                        seq: self.seq,
                    });
                }
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
    /// (end, event sequence, variant) of the latest interval counted.
    latest: (Time, u64, u32),
}

impl Agg {
    fn add(&mut self, count: u64, delay: i64, latest: (Time, u64, u32)) {
        self.count += count;
        self.delay = self.delay.wrapping_add(delay);
        self.latest = self.latest.max(latest);
    }

    fn merge(&mut self, o: &Agg) {
        self.add(o.count, o.delay, o.latest);
    }

    fn count(&mut self, d: &Done, delay: i64) {
        self.add(1, delay, (d.end, d.seq, d.variant));
    }
}

/// Per stack key.
type Aggs = FxHashMap<u32, Agg>;

/// A goroutine as the reference's summary sees it: a new one replaces any
/// earlier goroutine with the same ID when it is created or first seen.
struct Entry {
    id: GoId,
    /// Outermost function of its first stack (0, the empty name, until
    /// known).
    name: u32,
    /// First time it ran (0: never).
    first_run: Time,
    /// When it exited or blocked forever (0: not yet).
    end: Time,
    /// Intervals whose outcome depends on the final lifetime: those ended
    /// before the first run or after the end. Rare, so kept raw.
    raw: Vec<Done>,
}

/// Computes the four whole-trace blocking profiles, and every goroutine
/// group's, in one pass. Feed it every event, then call
/// [`finish`](Self::finish).
pub struct BlockingProfiler {
    tracker: Tracker,
    window: Option<(Time, Time)>,
    entries: Vec<Entry>,
    current: FxHashMap<GoId, u32>,
    /// Intervals ended while no goroutine entry existed for their ID.
    orphans: Vec<Done>,
    /// Per profile: (entry << 32 | stack variant) -> totals of the intervals
    /// ended while the entry had run and not ended, which count in full as
    /// long as the entry is not replaced.
    aggs: [FxHashMap<u64, Agg>; 4],
    names: Vec<String>,
    name_ids: FxHashMap<Vec<u8>, u32>,
    last_time: Time,
}

impl Default for BlockingProfiler {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockingProfiler {
    /// Profiles over the whole trace.
    pub fn new() -> Self {
        BlockingProfiler {
            tracker: Tracker::default(),
            window: None,
            entries: Vec::new(),
            current: FxHashMap::default(),
            orphans: Vec::new(),
            aggs: Default::default(),
            names: vec![String::new()],
            name_ids: [(Vec::new(), 0)].into_iter().collect(),
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

    /// Feeds one event (in order).
    pub fn event(&mut self, ev: &Event<'_>) {
        self.last_time = ev.time();
        let (entries, current, aggs, orphans, window) = (
            &mut self.entries,
            &self.current,
            &mut self.aggs,
            &mut self.orphans,
            self.window,
        );
        // Intervals end before this event updates the goroutine's lifetime.
        self.tracker.event(ev, |d| {
            let Some(d) = clip(window, d) else {
                return;
            };
            let Some(&e) = current.get(&d.goroutine) else {
                orphans.push(d);
                return;
            };
            let entry = &mut entries[e as usize];
            if entry.first_run != 0 && entry.end == 0 {
                // first_run <= start and the final end is >= end.
                if d.end > d.start {
                    aggs[d.kind.index()]
                        .entry((e as u64) << 32 | d.variant as u64)
                        .or_default()
                        .count(&d, d.end.wrapping_sub(d.start));
                }
            } else {
                entry.raw.push(d);
            }
        });
        if ev.kind() == EventKind::StateTransition {
            self.lifetime(ev);
        }
    }
    /// Follows goroutine lifetimes as the reference's summary does.
    fn lifetime(&mut self, ev: &Event<'_>) {
        let Some(st) = ev.state_transition() else {
            return;
        };
        if st.resource.kind != ResourceKind::Goroutine {
            return;
        }
        let (old, new) = st.goroutine();
        if old == new {
            return;
        }
        let id = st.resource.id;
        let e = match old {
            GoState::Undetermined | GoState::NotExist => {
                let e = self.entries.len() as u32;
                self.entries.push(Entry {
                    id,
                    name: 0,
                    first_run: 0,
                    end: 0,
                    raw: Vec::new(),
                });
                self.current.insert(id, e);
                e
            }
            _ => match self.current.get(&id) {
                Some(&e) => e,
                None => return,
            },
        };
        let entry = &mut self.entries[e as usize];
        if entry.name == 0 {
            if let Some(name) = outermost_func(&st.stack) {
                entry.name = match self.name_ids.get(name) {
                    Some(&n) => n,
                    None => {
                        let n = self.names.len() as u32;
                        self.names.push(String::from_utf8_lossy(name).into_owned());
                        self.name_ids.insert(name.to_vec(), n);
                        n
                    }
                };
            }
        }
        let t = ev.time();
        match new {
            GoState::Running if entry.first_run == 0 => {
                entry.first_run = t;
                // Everything ended so far ended at or before the first run,
                // so none of it overlaps the lifetime.
                entry.raw.retain(|d| d.end > t);
            }
            GoState::NotExist => entry.end = t,
            GoState::Waiting if st.reason == b"forever" => entry.end = t,
            _ => {}
        }
    }

    /// The profiles.
    pub fn finish(self) -> BlockingProfiles {
        let trace_end = self.last_time;
        let stacks = self.tracker.stacks;
        let final_of = |id: GoId| self.current.get(&id).copied();
        // What each final entry counts, per profile, by stack key.
        let mut counted: FxHashMap<u32, [Aggs; 4]> = FxHashMap::default();
        for (k, aggs) in self.aggs.iter().enumerate() {
            for (&key, a) in aggs {
                let e = (key >> 32) as u32;
                let entry = &self.entries[e as usize];
                let f = final_of(entry.id).expect("an entry's ID has a final entry");
                // A replaced entry counts only if its replacement never
                // ran: that one's lifetime [0, end] covers everything
                // before it.
                if f == e || self.entries[f as usize].first_run == 0 {
                    counted.entry(f).or_default()[k]
                        .entry(stacks.key(key as u32))
                        .or_default()
                        .merge(a);
                }
            }
        }
        let raw = self
            .entries
            .iter()
            .flat_map(|e| e.raw.iter())
            .chain(self.orphans.iter());
        for d in raw {
            let Some(f) = final_of(d.goroutine) else {
                continue;
            };
            let e = &self.entries[f as usize];
            let end = if e.end == 0 { trace_end } else { e.end };
            let o = overlap(e.first_run, end, d.start, d.end);
            if o > 0 {
                counted.entry(f).or_default()[d.kind.index()]
                    .entry(stacks.key(d.variant))
                    .or_default()
                    .count(d, o);
            }
        }
        let mut groups: Vec<Group> = self
            .names
            .into_iter()
            .map(|name| Group {
                name,
                goroutines: 0,
                aggs: Default::default(),
            })
            .collect();
        let mut total: [Aggs; 4] = Default::default();
        for (&id, &f) in &self.current {
            let _ = id;
            let g = &mut groups[self.entries[f as usize].name as usize];
            g.goroutines += 1;
            let Some(c) = counted.get(&f) else { continue };
            for k in 0..4 {
                for (&key, a) in &c[k] {
                    g.aggs[k].entry(key).or_default().merge(a);
                    total[k].entry(key).or_default().merge(a);
                }
            }
        }
        BlockingProfiles {
            stacks,
            goroutines: self.current.len(),
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

/// The name the reference's summary gives a goroutine: the function of the
/// outermost frame of the first stack seen (empty if that PC has no
/// frame).
fn outermost_func<'a>(stack: &Stack<'a>) -> Option<&'a [u8]> {
    let last = *stack.pcs().last()?;
    Some(
        stack
            .frames()
            .last()
            .filter(|f| f.pc == last)
            .map_or(&b""[..], |f| f.func),
    )
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
    tracker: Tracker,
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
            tracker: Tracker::default(),
            intervals,
            window,
            aggs: Default::default(),
        }
    }

    /// Feeds one event (in order).
    pub fn event(&mut self, ev: &Event<'_>) {
        let (intervals, aggs, window) = (&self.intervals, &mut self.aggs, self.window);
        self.tracker.event(ev, |d| {
            let Some(d) = clip(window, d) else {
                return;
            };
            let (start, end) = (d.start, d.end);
            let Some(iv) = intervals.get(&d.goroutine) else {
                return;
            };
            let o: i64 = iv
                .iter()
                .map(|&(s, e)| overlap(s, e, start, end))
                .filter(|&o| o > 0)
                .sum();
            if o > 0 {
                aggs[d.kind.index()]
                    .entry(d.variant)
                    .or_default()
                    .count(&d, o);
            }
        });
    }

    /// The four profiles.
    pub fn finish(self) -> IntervalProfiles {
        let stacks = self.tracker.stacks;
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
