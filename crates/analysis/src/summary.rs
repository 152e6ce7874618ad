//! Per-goroutine, per-task and per-region time statistics (the reference's
//! `internal/trace` Summarizer), behind the /goroutines, /usertasks and
//! /userregions pages.
//!
//! Feed every event of a trace to a [`Summarizer`], then [`Summarizer::finish`]
//! returns a [`Summary`]: one [`GoroutineSummary`] per goroutine (times spent
//! running, runnable, blocked by reason, in syscalls, in GC ranges), one
//! [`TaskSummary`] per task (begin/end, logs, regions) and every
//! [`RegionSummary`] (the goroutine's statistics while the region was
//! active). The page-level numbers are computed from the summary by
//! [`Summary::goroutine_groups`], [`Summary::goroutine_group`],
//! [`Summary::task_types`], [`Summary::tasks`], [`Summary::region_types`] and
//! [`Summary::regions`]. [`UnblockGraph`] finds the goroutines related to
//! one (`RelatedGoroutinesV2`, for the trace viewer's goroutine view).
//!
//! ```no_run
//! use gotrace_analysis::summary::Summarizer;
//!
//! let mut r = gotrace::Reader::open("trace.out")?;
//! let mut s = Summarizer::new();
//! while let Some(ev) = r.read_event()? {
//!     s.event(&ev);
//! }
//! let summary = s.finish();
//! for g in summary.goroutine_groups() {
//!     println!("{} x{}: {}ns", String::from_utf8_lossy(summary.str(g.name)), g.count, g.exec_time);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Times are nanoseconds (`i64`, like Go's `trace.Time` and
//! `time.Duration`); differences wrap like Go's int64 arithmetic. Repeated
//! strings (goroutine names, block reasons, range names, task and region
//! types, log categories, file names) are interned, so equal strings have
//! equal IDs (log messages, mostly unique, are only stored): a [`StrId`] resolves with
//! [`Summary::str`].
//!
//! # Reference quirks reproduced
//!
//! - A goroutine's name is the function of the *outermost* frame of the
//!   first transition stack seen for it (`""` if none had a stack).
//! - A goroutine first seen in the `Undetermined` state is created at the
//!   last Sync, and the time since then is credited to its new state (a
//!   syscall counts as syscall-blocked if the event has no P). Seeing it
//!   again as `Undetermined` or `NotExist` replaces its summary.
//! - Waiting with reason `forever` ends a goroutine like exiting.
//! - Statistics *snapshots* (region begin/end, goroutine end) count a
//!   pending syscall-blocked interval as scheduler wait on top of the
//!   pending syscall time.
//! - A goroutine that ended at its creation time (TotalTime 0) is
//!   finalized again at the end of the trace, and gets TotalTime = trace
//!   end − creation.
//! - Syscall blocking is detected by a P going idle while bound to a
//!   goroutine in a syscall; leaving a syscall forgets the binding of the P
//!   the goroutine entered on, even if another goroutine now holds it.
//! - P-scoped ranges (sweeps) are credited to the goroutine that began
//!   them only if the same goroutine ends them.
//! - A goroutine created while its creator is inside a region gets a
//!   synthetic region named `""` in the creator's innermost region's task,
//!   starting at the creation; regions still open when a goroutine ends
//!   (or the trace ends) are closed there, except for system goroutines
//!   ([`is_system_goroutine`]), whose open regions are never recorded.
//! - A region end without a begin makes a region without a start whose
//!   statistics are the goroutine's since its creation; a region end
//!   closes the innermost open region, whatever its type.
//! - Task 0 (the background task) exists as soon as a log or region
//!   refers to it; tasks only named as a parent or by a log exist too.
//!
//! Where the reference would crash (a region or transition on a
//! goroutine it never saw), the event is skipped and counted in
//! [`Summary::skipped_events`].
//!
//! # Memory and speed
//!
//! One pass builds everything in compact form, with no heap object per
//! event: goroutines and tasks live in vectors indexed through dense ID
//! tables (hash maps only for IDs far beyond the count); strings are
//! interned back to back in one buffer, and strings or stacks borrowed
//! from the trace's tables are looked up through small caches keyed by
//! their address (checked against the content, and cleared at each
//! generation's Sync); the analysis-only state of a goroutine exists only
//! while it lives; a region's statistics are packed (the keys as a shared
//! list, only non-zero values stored, see [`Summary::region_stats`]); a
//! task's children, logs, regions and goroutines are slices of shared
//! arrays ([`Summary::task_logs`] and friends).
//!
//! [`summarize`] reads a whole trace on two threads: the reading thread
//! orders events and turns each into a 48-byte record (strings and stacks
//! copied once per generation), the other runs the summarizer on batches
//! of records; the summarizer fed one event at a time runs the same code.
//! [`Summarizer::finish`] sorts goroutines and groups tasks on two threads.

mod histogram;
mod pages;

pub use histogram::{region_bucket_url, task_bucket_url, HistogramBucket, TimeHistogram};
pub use pages::*;

use crate::feed::{self, Batch, Direct, Mode, Rec, RecKind, Tables, NO_REF};
use gotrace::{
    Event, EventKind, GoId, GoState, ProcId, RangeName, ResourceKind, TaskId, Time, NO_PROC,
    NO_TASK,
};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::hash::Hasher;

/// An interned string; resolve it with [`Summary::str`]. `StrId(0)` is `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StrId(pub u32);

impl StrId {
    /// The empty string.
    pub const EMPTY: StrId = StrId(0);
}

/// Index of a region in [`Summary::regions`].
pub type RegionId = u32;

const NONE: u32 = u32::MAX;

/// Strings interned by the summarizer, stored back to back.
#[derive(Debug, Clone, Default)]
pub struct Strings {
    bytes: Vec<u8>,
    /// End offset of each string in `bytes` (its start is the previous end).
    ends: Vec<usize>,
}

impl Strings {
    /// The string with this ID (`""` for an unknown ID).
    pub fn get(&self, id: StrId) -> &[u8] {
        let i = id.0 as usize;
        let Some(&end) = self.ends.get(i) else {
            return &[];
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..end]
    }

    /// Looks a string up without interning it.
    pub fn find(&self, s: &[u8]) -> Option<StrId> {
        (0..self.ends.len() as u32)
            .map(StrId)
            .find(|&id| self.get(id) == s)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no strings (never: `""` is always there).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

fn hash_bytes(s: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(s);
    h.finish()
}

/// Entries of the address-keyed caches (a power of two).
const CACHE: usize = 256;

fn cache_slot(p: usize, len: usize) -> usize {
    ((p >> 3) ^ (p >> 12) ^ len.wrapping_mul(0x9e37)) & (CACHE - 1)
}

#[derive(Debug)]
struct Interner {
    strs: Strings,
    /// Hash of a string to the newest string with that hash; older ones
    /// with the same hash are chained through `next`.
    heads: FxHashMap<u64, u32>,
    next: Vec<u32>,
    /// Direct-mapped cache: (address, length, ID) of strings seen in the
    /// trace's tables.
    cache: Box<[(usize, usize, u32)]>,
}

impl Interner {
    fn new() -> Self {
        let mut i = Interner {
            strs: Strings::default(),
            heads: FxHashMap::default(),
            next: Vec::new(),
            cache: vec![(0, usize::MAX, 0); CACHE].into_boxed_slice(),
        };
        i.intern(b"");
        i
    }

    fn intern(&mut self, s: &[u8]) -> StrId {
        let h = hash_bytes(s);
        let head = self.heads.get(&h).copied().unwrap_or(NONE);
        let mut id = head;
        while id != NONE {
            if self.strs.get(StrId(id)) == s {
                return StrId(id);
            }
            id = self.next[id as usize];
        }
        let id = self.strs.ends.len() as u32;
        self.strs.bytes.extend_from_slice(s);
        self.strs.ends.push(self.strs.bytes.len());
        self.next.push(head);
        self.heads.insert(h, id);
        StrId(id)
    }

    /// Interns a string borrowed from the trace's tables, at address `p`
    /// there: the same string comes back at the same address, so a hit
    /// costs one comparison.
    #[inline]
    fn intern_cached(&mut self, s: &[u8], p: usize) -> StrId {
        let slot = cache_slot(p, s.len());
        let (cp, cl, cid) = self.cache[slot];
        if cp == p && cl == s.len() && self.strs.get(StrId(cid)) == s {
            return StrId(cid);
        }
        let id = self.intern(s);
        self.cache[slot] = (p, s.len(), id.0);
        id
    }

    /// Adds a string borrowed from the trace's tables (at address `p`
    /// there) without looking it up (log messages are mostly unique): only
    /// a string seen at the same address recently shares an ID. IDs of
    /// equal strings may differ.
    #[inline]
    fn add_cached(&mut self, s: &[u8], p: usize) -> StrId {
        let slot = cache_slot(p, s.len());
        let (cp, cl, cid) = self.cache[slot];
        if cp == p && cl == s.len() && self.strs.get(StrId(cid)) == s {
            return StrId(cid);
        }
        if s.is_empty() {
            return StrId::EMPTY;
        }
        let id = self.strs.ends.len() as u32;
        self.strs.bytes.extend_from_slice(s);
        self.strs.ends.push(self.strs.bytes.len());
        // Keep the chains aligned with the IDs; never reached through them.
        self.next.push(NONE);
        self.cache[slot] = (p, s.len(), id);
        StrId(id)
    }

    fn get(&self, id: StrId) -> &[u8] {
        self.strs.get(id)
    }
}

/// A stack frame, with interned function and file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Frame {
    /// Program counter (0 for the zero frame).
    pub pc: u64,
    /// Function name.
    pub func: StrId,
    /// Source file.
    pub file: StrId,
    /// Line in `file`.
    pub line: u64,
}

/// Time statistics of a goroutine over its life or over a region
/// (`GoroutineExecStats`). All but `total_time` and `range_time` are
/// disjoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecStats {
    /// Running.
    pub exec_time: i64,
    /// Runnable, waiting for a P (plus the quirks noted in the module docs).
    pub sched_wait_time: i64,
    /// Waiting, by the reason of the blocking transition, in the order the
    /// reasons were first seen. A reason present with 0 still makes a column
    /// on the pages; goroutines first seen waiting have the reason `""`.
    pub block_time: Vec<(StrId, i64)>,
    /// In a syscall while holding its P.
    pub syscall_time: i64,
    /// In a syscall after losing its P.
    pub syscall_block_time: i64,
    /// Presence in the trace (overlaps the others).
    pub total_time: i64,
    /// Time in special ranges (`GC mark assist`, `GC incremental sweep`,
    /// `stop-the-world (...)`), by range name; overlaps the others.
    pub range_time: Vec<(StrId, i64)>,
}

fn add_to(v: &mut Vec<(StrId, i64)>, k: StrId, d: i64) {
    match v.iter_mut().find(|(x, _)| *x == k) {
        Some((_, t)) => *t = t.wrapping_add(d),
        None => v.push((k, d)),
    }
}

fn get_of(v: &[(StrId, i64)], k: StrId) -> i64 {
    v.iter().find(|(x, _)| *x == k).map_or(0, |&(_, t)| t)
}

impl ExecStats {
    /// Block time for one reason (0 if none).
    pub fn block_time_for(&self, reason: StrId) -> i64 {
        get_of(&self.block_time, reason)
    }

    /// Range time for one range name (0 if none).
    pub fn range_time_for(&self, name: StrId) -> i64 {
        get_of(&self.range_time, name)
    }

    /// Total time not accounted for by the disjoint statistics, floored at 0.
    pub fn unknown_time(&self) -> i64 {
        let mut sum = self
            .exec_time
            .wrapping_add(self.sched_wait_time)
            .wrapping_add(self.syscall_time)
            .wrapping_add(self.syscall_block_time);
        for &(_, d) in &self.block_time {
            sum = sum.wrapping_add(d);
        }
        if sum < self.total_time {
            self.total_time.wrapping_sub(sum)
        } else {
            0
        }
    }
}

/// Statistics being computed, without allocating: the five scalars
/// (exec, sched wait, syscall, syscall block, total) and the keyed ones.
#[derive(Debug, Default)]
struct Snap {
    fixed: [i64; 5],
    block: Vec<(StrId, i64)>,
    range: Vec<(StrId, i64)>,
}

impl Snap {
    fn load(&mut self, s: &ExecStats) {
        self.fixed = [
            s.exec_time,
            s.sched_wait_time,
            s.syscall_time,
            s.syscall_block_time,
            s.total_time,
        ];
        self.block.clear();
        self.block.extend_from_slice(&s.block_time);
        self.range.clear();
        self.range.extend_from_slice(&s.range_time);
    }

    fn store(&self, s: &mut ExecStats) {
        [
            s.exec_time,
            s.sched_wait_time,
            s.syscall_time,
            s.syscall_block_time,
            s.total_time,
        ] = self.fixed;
        s.block_time.clear();
        s.block_time.extend_from_slice(&self.block);
        s.range_time.clear();
        s.range_time.extend_from_slice(&self.range);
    }

    /// `end - begin` over the keys of `end` (`GoroutineExecStats.sub`).
    fn diff(&mut self, end: &Snap, begin: &Snap) {
        for i in 0..5 {
            self.fixed[i] = end.fixed[i].wrapping_sub(begin.fixed[i]);
        }
        self.block.clear();
        self.block.extend(
            end.block
                .iter()
                .map(|&(k, d)| (k, d.wrapping_sub(get_of(&begin.block, k)))),
        );
        self.range.clear();
        self.range.extend(
            end.range
                .iter()
                .map(|&(k, d)| (k, d.wrapping_sub(get_of(&begin.range, k)))),
        );
    }
}

/// A region's statistics in packed form; [`Summary::region_stats`] unpacks
/// them. The keys are shared lists, and only non-zero values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PackedStats {
    block_keys: u32,
    range_keys: u32,
    /// Which of the values (5 scalars, then block, then range) are stored.
    mask: u64,
    /// Offset of the first stored value; the top bit set means all values
    /// are stored (more than 64 of them).
    off: u64,
}

const DENSE: u64 = 1 << 63;

/// Values and key lists of packed statistics.
#[derive(Debug, Clone, Default)]
struct StatStore {
    values: Vec<i64>,
    keys: Vec<StrId>,
    /// (start, len) of each key list in `keys`; list 0 is empty.
    lists: Vec<(u32, u32)>,
}

impl StatStore {
    fn new() -> Self {
        StatStore {
            values: Vec::new(),
            keys: Vec::new(),
            lists: vec![(0, 0)],
        }
    }

    fn list(&self, id: u32) -> &[StrId] {
        let (s, n) = self.lists[id as usize];
        &self.keys[s as usize..(s + n) as usize]
    }

    /// How many values `p` stores, and where.
    fn span(&self, p: PackedStats) -> (usize, usize) {
        let off = (p.off & !DENSE) as usize;
        let n = if p.off & DENSE != 0 {
            5 + self.list(p.block_keys).len() + self.list(p.range_keys).len()
        } else {
            p.mask.count_ones() as usize
        };
        (off, n)
    }

    fn unpack(&self, p: PackedStats, out: &mut Snap) {
        let (bk, rk) = (self.list(p.block_keys), self.list(p.range_keys));
        let off = (p.off & !DENSE) as usize;
        out.block.clear();
        out.range.clear();
        if p.off & DENSE != 0 {
            let v = &self.values[off..off + 5 + bk.len() + rk.len()];
            out.fixed.copy_from_slice(&v[..5]);
            let (b, r) = v[5..].split_at(bk.len());
            out.block.extend(bk.iter().copied().zip(b.iter().copied()));
            out.range.extend(rk.iter().copied().zip(r.iter().copied()));
            return;
        }
        let v = &self.values[off..off + p.mask.count_ones() as usize];
        let (mut mask, mut cur) = (p.mask, 0);
        let mut next = || {
            let x = if mask & 1 != 0 {
                cur += 1;
                v[cur - 1]
            } else {
                0
            };
            mask >>= 1;
            x
        };
        for f in out.fixed.iter_mut() {
            *f = next();
        }
        for &k in bk {
            out.block.push((k, next()));
        }
        for &k in rk {
            out.range.push((k, next()));
        }
    }
}

/// Interns key lists into a [`StatStore`] and packs statistics.
#[derive(Debug, Default)]
struct Packer {
    ids: FxHashMap<Vec<StrId>, u32>,
    tmp: Vec<StrId>,
    /// Direct-mapped cache of list IDs, checked against the lists.
    recent: [u32; 32],
}

impl Packer {
    fn list(&mut self, st: &mut StatStore, kv: &[(StrId, i64)]) -> u32 {
        if kv.is_empty() {
            return 0;
        }
        let slot =
            (kv.len() ^ (kv[0].0 .0 as usize).wrapping_mul(31) ^ kv[kv.len() - 1].0 .0 as usize)
                & 31;
        let cached = self.recent[slot];
        if cached != 0 {
            let keys = st.list(cached);
            if keys.len() == kv.len() && keys.iter().zip(kv).all(|(a, b)| *a == b.0) {
                return cached;
            }
        }
        self.tmp.clear();
        self.tmp.extend(kv.iter().map(|&(k, _)| k));
        if let Some(&id) = self.ids.get(&self.tmp[..]) {
            self.recent[slot] = id;
            return id;
        }
        let id = st.lists.len() as u32;
        self.recent[slot] = id;
        st.lists.push((st.keys.len() as u32, kv.len() as u32));
        st.keys.extend_from_slice(&self.tmp);
        self.ids.insert(self.tmp.clone(), id);
        id
    }

    fn pack(&mut self, st: &mut StatStore, s: &Snap) -> PackedStats {
        let block_keys = self.list(st, &s.block);
        let range_keys = self.list(st, &s.range);
        let off = st.values.len() as u64;
        let n = 5 + s.block.len() + s.range.len();
        if n > 64 {
            st.values.extend_from_slice(&s.fixed);
            st.values.extend(s.block.iter().map(|&(_, d)| d));
            st.values.extend(s.range.iter().map(|&(_, d)| d));
            return PackedStats {
                block_keys,
                range_keys,
                mask: 0,
                off: off | DENSE,
            };
        }
        let (mut mask, mut bit) = (0u64, 1u64);
        st.values.reserve(n);
        let mut put = |v: i64| {
            if v != 0 {
                mask |= bit;
                st.values.push(v);
            }
            bit <<= 1;
        };
        for &v in &s.fixed {
            put(v);
        }
        for &(_, v) in &s.block {
            put(v);
        }
        for &(_, v) in &s.range {
            put(v);
        }
        PackedStats {
            block_keys,
            range_keys,
            mask,
            off,
        }
    }
}

/// One goroutine (`GoroutineSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoroutineSummary {
    /// Goroutine ID.
    pub id: GoId,
    /// Entry function (the group key of /goroutines); `""` if no stack was seen.
    pub name: StrId,
    /// PC of the frame the name came from.
    pub pc: u64,
    /// Creation, or the last Sync before it was first seen.
    pub creation_time: Time,
    /// First time it ran; 0 if never.
    pub start_time: Time,
    /// When it exited (or blocked forever); 0 if it did not.
    pub end_time: Time,
    /// Its regions (indices into [`Summary::regions`]), by start time;
    /// regions without a start (ends without a begin) first, in the order
    /// they ended (the reference's unstable sort leaves their order
    /// arbitrary). Open regions of system goroutines are not listed.
    pub regions: Vec<RegionId>,
    /// Time statistics over its life.
    pub stats: ExecStats,
}

/// What happened at a region's or task's start or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointKind {
    /// A `RegionBegin`/`RegionEnd` event with the type it carried.
    Region {
        /// Region type of the event (for an end, it may differ from the
        /// type of the region it closed).
        typ: StrId,
    },
    /// A state transition of the region's goroutine: its creation, which
    /// started a synthetic region, or its end, which closed an open region.
    Transition {
        /// State before.
        from: GoState,
        /// State after.
        to: GoState,
    },
}

/// The event at a region's start or end, as far as the pages need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionPoint {
    /// Event time.
    pub time: Time,
    /// The event's goroutine (`Event::goroutine`).
    pub goroutine: GoId,
    /// What the event was.
    pub kind: PointKind,
}

/// One region (`UserRegionSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSummary {
    /// Its task (0 for none).
    pub task: TaskId,
    /// The goroutine it belongs to.
    pub goroutine: GoId,
    /// Region type (`""` for synthetic regions).
    pub name: StrId,
    /// Its start: a `RegionBegin`, the creation of the goroutine (synthetic
    /// region), or none (an end without a begin).
    pub start: Option<RegionPoint>,
    /// Its end: a `RegionEnd`, the goroutine's end, or none (still open at
    /// the end of the trace, or never closed on a system goroutine).
    pub end: Option<RegionPoint>,
    /// The outermost frame of the start event's stack (the zero frame if
    /// none): with the type, the /userregions group key.
    pub frame: Frame,
    /// The goroutine's statistics while the region was active, packed:
    /// see [`Summary::region_stats`].
    pub stats: PackedStats,
}

impl RegionSummary {
    /// The goroutine the reference shows for a start or end
    /// (`primaryGoroutine`): the region's goroutine for a transition, else
    /// the event's.
    pub fn primary_goroutine(&self, p: &RegionPoint) -> GoId {
        match p.kind {
            PointKind::Transition { .. } => self.goroutine,
            PointKind::Region { .. } => p.goroutine,
        }
    }
}

/// A task begin or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskPoint {
    /// Event time.
    pub time: Time,
    /// The event's goroutine.
    pub goroutine: GoId,
    /// Task type carried by the event.
    pub typ: StrId,
    /// Parent task carried by the event ([`NO_TASK`] if none).
    pub parent: TaskId,
}

/// A `trace.Log` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRecord {
    /// Event time.
    pub time: Time,
    /// The logging goroutine.
    pub goroutine: GoId,
    /// Category (key).
    pub category: StrId,
    /// Message. Messages are not deduplicated like the other strings:
    /// compare them with [`Summary::str`], not by ID.
    pub message: StrId,
}

/// A slice of one of the summary's shared arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn of<'a, T>(&self, v: &'a [T]) -> &'a [T] {
        &v[self.start as usize..(self.start + self.len) as usize]
    }
}

/// One task (`UserTaskSummary`). Its children, logs, regions and
/// goroutines are [`Summary::task_children`], [`Summary::task_logs`],
/// [`Summary::task_regions`] and [`Summary::task_goroutines`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    /// Task ID.
    pub id: TaskId,
    /// Task type (`""` for task 0 and tasks only referred to).
    pub name: StrId,
    /// Parent task, if known.
    pub parent: Option<TaskId>,
    /// The `TaskBegin`, if in the trace.
    pub start: Option<TaskPoint>,
    /// The `TaskEnd`, if in the trace.
    pub end: Option<TaskPoint>,
    children: Span,
    logs: Span,
    regions: Span,
    goroutines: Span,
}

impl TaskSummary {
    /// Both the begin and the end are in the trace.
    pub fn complete(&self) -> bool {
        self.start.is_some() && self.end.is_some()
    }
}

/// Everything the summarizer computed.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Goroutines, by ID.
    pub goroutines: Vec<GoroutineSummary>,
    /// Tasks, by ID.
    pub tasks: Vec<TaskSummary>,
    /// Every region, referred to by goroutines and tasks.
    pub regions: Vec<RegionSummary>,
    /// Interned strings.
    pub strings: Strings,
    /// Time of the first event (the reference's trace start).
    pub start_time: Time,
    /// Time of the last event (the reference's trace end).
    pub end_time: Time,
    /// Events the reference could not have processed (it would crash):
    /// regions and transitions of goroutines never seen before.
    pub skipped_events: u64,
    stats: StatStore,
    task_children: Vec<TaskId>,
    task_logs: Vec<LogRecord>,
    task_regions: Vec<RegionId>,
    task_goroutines: Vec<GoId>,
}

impl Summary {
    /// Resolves an interned string.
    pub fn str(&self, id: StrId) -> &[u8] {
        self.strings.get(id)
    }

    /// Resolves an interned string as text (lossy for invalid UTF-8).
    pub fn text(&self, id: StrId) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.strings.get(id))
    }

    /// The goroutine with this ID.
    pub fn goroutine(&self, id: GoId) -> Option<&GoroutineSummary> {
        self.goroutines
            .binary_search_by_key(&id, |g| g.id)
            .ok()
            .map(|i| &self.goroutines[i])
    }

    /// The task with this ID.
    pub fn task(&self, id: TaskId) -> Option<&TaskSummary> {
        self.tasks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tasks[i])
    }

    /// A region by index.
    pub fn region(&self, id: RegionId) -> &RegionSummary {
        &self.regions[id as usize]
    }

    /// A region's statistics: the goroutine's statistics while the region
    /// was active (keyed ones over the keys the goroutine had at the
    /// region's end). For a region never closed (only listed by its task),
    /// the goroutine's statistics at its start.
    pub fn region_stats(&self, r: &RegionSummary) -> ExecStats {
        let mut snap = Snap::default();
        self.stats.unpack(r.stats, &mut snap);
        let mut out = ExecStats::default();
        snap.store(&mut out);
        out
    }

    /// A task's child tasks, in the order they were seen.
    pub fn task_children(&self, t: &TaskSummary) -> &[TaskId] {
        t.children.of(&self.task_children)
    }

    /// A task's logs, in trace order.
    pub fn task_logs(&self, t: &TaskSummary) -> &[LogRecord] {
        t.logs.of(&self.task_logs)
    }

    /// A task's regions (begun, or ended without a begin, in the task), in
    /// the order they began; synthetic regions are not listed.
    pub fn task_regions(&self, t: &TaskSummary) -> &[RegionId] {
        t.regions.of(&self.task_regions)
    }

    /// The goroutines that began/ended the task, logged, or had regions in
    /// it, sorted (may include [`gotrace::NO_GOROUTINE`]).
    pub fn task_goroutines(&self, t: &TaskSummary) -> &[GoId] {
        t.goroutines.of(&self.task_goroutines)
    }
}

/// Whether an entry function names a system goroutine
/// (`trace.IsSystemGoroutine`): `""`, or `runtime.*` but `runtime.main`.
pub fn is_system_goroutine(entry_fn: &[u8]) -> bool {
    entry_fn.is_empty() || (entry_fn != b"runtime.main" && entry_fn.starts_with(b"runtime."))
}

/// Maps IDs to slots: a vector for IDs up to a few times the number of
/// slots, a hash map beyond.
#[derive(Debug, Default)]
struct IdIndex {
    dense: Vec<u32>,
    sparse: FxHashMap<u64, u32>,
}

impl IdIndex {
    #[inline]
    fn get(&self, id: u64) -> Option<u32> {
        if let Some(&s) = self.dense.get(id as usize) {
            if s != NONE {
                return Some(s);
            }
        }
        if self.sparse.is_empty() {
            None
        } else {
            self.sparse.get(&id).copied()
        }
    }

    /// Adds an ID not in the index.
    fn insert(&mut self, id: u64, slot: u32) {
        let limit = (1u64 << 16).max(4 * slot as u64 + 1024);
        if (id as usize) < self.dense.len() || id < limit {
            if self.dense.len() <= id as usize {
                let n = (id as usize + 1).max(self.dense.len() * 2);
                self.dense.resize(n, NONE);
            }
            self.dense[id as usize] = slot;
        } else {
            self.sparse.insert(id, slot);
        }
    }
}

/// Analysis-only state of a goroutine (`goroutineSummary`); it exists
/// only from the goroutine's first state until it ends.
#[derive(Debug, Default)]
struct Pending {
    last_start: Time,
    last_runnable: Time,
    last_block: Time,
    last_block_reason: StrId,
    last_syscall: Time,
    last_syscall_block: Time,
    last_range: Vec<(StrId, Time)>,
    /// Open regions, innermost last.
    active_regions: Vec<RegionId>,
}

impl Pending {
    fn reset(&mut self) {
        self.last_start = 0;
        self.last_runnable = 0;
        self.last_block = 0;
        self.last_block_reason = StrId::EMPTY;
        self.last_syscall = 0;
        self.last_syscall_block = 0;
        self.last_range.clear();
        self.active_regions.clear();
    }
}

/// Per-slot bookkeeping of a goroutine.
#[derive(Debug, Clone, Copy)]
struct GoMeta {
    /// Its [`Pending`] slot, or [`NONE`].
    pend: u32,
    /// The P it entered its syscall on (the reference's `syscallingG`,
    /// keyed by goroutine ID, so kept when the goroutine is replaced).
    syscall_p: Option<ProcId>,
}

/// Goroutines by slot, with their pending state.
#[derive(Debug, Default)]
struct Goroutines {
    index: IdIndex,
    sums: Vec<GoroutineSummary>,
    meta: Vec<GoMeta>,
    pends: Vec<Pending>,
    free: Vec<u32>,
}

impl Goroutines {
    #[inline]
    fn slot(&self, id: GoId) -> Option<usize> {
        self.index.get(id as u64).map(|s| s as usize)
    }

    /// Starts a goroutine, replacing any earlier one with the same ID.
    fn fresh(&mut self, id: GoId, creation: Time) -> usize {
        let sum = GoroutineSummary {
            id,
            name: StrId::EMPTY,
            pc: 0,
            creation_time: creation,
            start_time: 0,
            end_time: 0,
            regions: Vec::new(),
            stats: ExecStats::default(),
        };
        match self.slot(id) {
            Some(s) => {
                self.sums[s] = sum;
                self.release(s);
                s
            }
            None => {
                let s = self.sums.len();
                self.sums.push(sum);
                self.meta.push(GoMeta {
                    pend: NONE,
                    syscall_p: None,
                });
                self.index.insert(id as u64, s as u32);
                s
            }
        }
    }

    #[inline]
    fn pend(&self, slot: usize) -> Option<&Pending> {
        match self.meta[slot].pend {
            NONE => None,
            p => Some(&self.pends[p as usize]),
        }
    }

    /// The goroutine's summary and pending state (created if needed).
    #[inline(always)]
    fn both_mut(&mut self, slot: usize) -> (&mut GoroutineSummary, &mut Pending) {
        let mut p = self.meta[slot].pend;
        if p == NONE {
            p = self.new_pend(slot);
        }
        (&mut self.sums[slot], &mut self.pends[p as usize])
    }

    #[cold]
    #[inline(never)]
    fn new_pend(&mut self, slot: usize) -> u32 {
        let p = match self.free.pop() {
            Some(p) => p,
            None => {
                self.pends.push(Pending::default());
                (self.pends.len() - 1) as u32
            }
        };
        self.meta[slot].pend = p;
        p
    }

    #[inline(always)]
    fn pend_mut(&mut self, slot: usize) -> &mut Pending {
        self.both_mut(slot).1
    }

    /// Forgets the pending state (keeping its buffers for reuse).
    fn release(&mut self, slot: usize) {
        let p = std::mem::replace(&mut self.meta[slot].pend, NONE);
        if p != NONE {
            self.pends[p as usize].reset();
            self.free.push(p);
        }
    }
}

/// Small maps from a P to a value: a vector for small P IDs.
#[derive(Debug, Default)]
struct ProcMap<V> {
    dense: Vec<V>,
    sparse: FxHashMap<ProcId, V>,
}

impl<V: Default> ProcMap<V> {
    #[inline]
    fn get_mut(&mut self, p: ProcId) -> &mut V {
        if (0..4096).contains(&p) {
            let i = p as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, V::default);
            }
            &mut self.dense[i]
        } else {
            self.sparse.entry(p).or_default()
        }
    }
}

/// Builds a [`Summary`] from a trace's events.
#[derive(Debug)]
pub struct Summarizer {
    strings: Interner,
    gs: Goroutines,
    task_index: IdIndex,
    tasks: Vec<TaskSummary>,
    /// The last goroutine added to each task's goroutines.
    task_last_g: Vec<GoId>,
    // (task slot, item) of every task's children, logs, regions and goroutines.
    task_children: Vec<(u32, TaskId)>,
    task_logs: Vec<(u32, LogRecord)>,
    task_regions: Vec<(u32, RegionId)>,
    task_goroutines: Vec<(u32, GoId)>,
    regions: Vec<RegionSummary>,
    stats: StatStore,
    packer: Packer,
    /// The goroutine in a syscall bound to each P (`syscallingP`).
    syscalling_p: ProcMap<Option<GoId>>,
    /// The goroutine that began each (P, range) (`rangesP`).
    ranges_p: ProcMap<Vec<(StrId, GoId)>>,
    stw_names: FxHashMap<Vec<u8>, StrId>,
    /// Outermost frames by stack address (cleared at each Sync):
    /// (address, length, outermost PC, frame).
    frames: Box<[(usize, usize, u64, Frame)]>,
    /// The current generation's strings and stacks.
    tables: Tables,
    /// For events fed one at a time.
    direct: Direct,
    snap: Snap,
    begin: Snap,
    diff: Snap,
    first_ts: Option<Time>,
    last_ts: Time,
    sync_ts: Time,
    skipped: u64,
    forever: StrId,
    range_names: [StrId; 3],
}

/// What the summarizer needs of the events.
const SUMMARY_MODE: Mode = Mode {
    all: true,
    full_stacks: false,
};

impl feed::Sink for Summarizer {
    fn batch(&mut self, b: &Batch) {
        self.batch_of(b);
    }
}

/// Reads every event of `r` into a [`Summarizer`] and returns the summary:
/// the same as feeding [`Summarizer::event`] every event, but the analysis
/// runs on another thread while this one reads and orders the trace.
pub fn summarize(r: &mut gotrace::Reader) -> Result<Summary, gotrace::Error> {
    Ok(feed::run(r, SUMMARY_MODE, Summarizer::new())?.finish())
}

impl Default for Summarizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Summarizer {
    /// An empty summarizer.
    pub fn new() -> Self {
        let mut strings = Interner::new();
        let forever = strings.intern(b"forever");
        let range_names = [
            strings.intern(b"GC concurrent mark phase"),
            strings.intern(b"GC incremental sweep"),
            strings.intern(b"GC mark assist"),
        ];
        Summarizer {
            strings,
            gs: Goroutines::default(),
            task_index: IdIndex::default(),
            tasks: Vec::new(),
            task_last_g: Vec::new(),
            task_children: Vec::new(),
            task_logs: Vec::new(),
            task_regions: Vec::new(),
            task_goroutines: Vec::new(),
            regions: Vec::new(),
            stats: StatStore::new(),
            packer: Packer::default(),
            syscalling_p: ProcMap::default(),
            ranges_p: ProcMap::default(),
            stw_names: FxHashMap::default(),
            frames: vec![(0, usize::MAX, 0, Frame::default()); CACHE].into_boxed_slice(),
            tables: Tables::default(),
            direct: Direct::new(SUMMARY_MODE),
            snap: Snap::default(),
            begin: Snap::default(),
            diff: Snap::default(),
            first_ts: None,
            last_ts: 0,
            sync_ts: 0,
            skipped: 0,
            forever,
            range_names,
        }
    }

    fn range_name(&mut self, r: &Rec) -> StrId {
        match feed::range_name(r) {
            feed::RANGE_GC_MARK => self.range_names[0],
            feed::RANGE_GC_SWEEP => self.range_names[1],
            feed::RANGE_GC_MARK_ASSIST => self.range_names[2],
            _ => {
                let k = self.tables.str(r.s).0;
                if let Some(&id) = self.stw_names.get(k) {
                    return id;
                }
                let id = self.strings.intern(&RangeName::Stw(k).to_bytes());
                self.stw_names.insert(k.to_vec(), id);
                id
            }
        }
    }

    /// Interns a string of the current generation (`intern_cached` on the
    /// string as borrowed from the trace).
    #[inline]
    fn intern_ref(&mut self, r: u32) -> StrId {
        let (s, p) = self.tables.str(r);
        self.strings.intern_cached(s, p)
    }

    /// The reference's `StackFrame` of a stack's last (outermost) frame,
    /// if the stack has frames; a PC missing from the trace's tables gives
    /// the zero frame, as in the reference.
    fn outer_frame(&mut self, stack: u32) -> Option<Frame> {
        let &last = self.tables.frames(stack).last()?;
        let d = *self.tables.stack(stack)?;
        let (addr, n) = (d.addr, d.n_pcs as usize);
        let slot = cache_slot(addr, n);
        let (a, cn, pc, f) = self.frames[slot];
        if a == addr && cn == n && pc == last.pc {
            return Some(f);
        }
        let frame = if last.func != NO_REF {
            let (func, fp) = self.tables.str(last.func);
            let func = self.strings.intern_cached(func, fp);
            let (file, fp) = self.tables.str(last.file);
            Frame {
                pc: last.pc,
                func,
                file: self.strings.intern_cached(file, fp),
                line: last.line,
            }
        } else {
            Frame::default()
        };
        self.frames[slot] = (addr, n, last.pc, frame);
        Some(frame)
    }

    fn task_slot(&mut self, id: TaskId) -> u32 {
        if let Some(s) = self.task_index.get(id) {
            return s;
        }
        let s = self.tasks.len() as u32;
        self.tasks.push(TaskSummary {
            id,
            name: StrId::EMPTY,
            parent: None,
            start: None,
            end: None,
            children: Span::default(),
            logs: Span::default(),
            regions: Span::default(),
            goroutines: Span::default(),
        });
        self.task_last_g.push(GoId::MIN);
        self.task_index.insert(id, s);
        s
    }

    /// Adds a goroutine to a task's (deduplicated at the end).
    fn task_goroutine(&mut self, ts: u32, g: GoId) {
        let last = &mut self.task_last_g[ts as usize];
        if *last != g {
            *last = g;
            self.task_goroutines.push((ts, g));
        }
    }

    /// Feeds one event, in trace order.
    pub fn event(&mut self, ev: &Event<'_>) {
        let (rec, new_gen) = self.direct.convert(ev, &mut self.tables);
        if new_gen {
            self.new_gen();
        }
        if let Some(r) = rec {
            self.rec(&r);
        }
        self.last_ts = ev.time();
    }

    fn batch_of(&mut self, b: &Batch) {
        if self.tables.load(b) {
            self.new_gen();
        }
        for r in &b.recs {
            self.rec(r);
        }
    }

    fn new_gen(&mut self) {
        // Its stacks may reuse addresses.
        self.frames.fill((0, usize::MAX, 0, Frame::default()));
    }

    fn rec(&mut self, r: &Rec) {
        let t = r.time;
        if self.sync_ts == 0 {
            self.sync_ts = t;
        }
        if self.first_ts.is_none() {
            self.first_ts = Some(t);
        }
        self.last_ts = t;
        match r.kind {
            RecKind::Sync => self.sync_ts = t,
            RecKind::Go => self.go_transition(r),
            RecKind::ProcIdle => {
                if let Some(goid) = self.syscalling_p.get_mut(r.a).take() {
                    match self.gs.slot(goid) {
                        Some(s) => self.gs.pend_mut(s).last_syscall_block = t,
                        None => self.skipped += 1,
                    }
                }
            }
            RecKind::RangeBegin | RecKind::RangeActive => {
                let name = self.range_name(r);
                let goid = match feed::range_scope(r) {
                    ResourceKind::Goroutine => r.a,
                    ResourceKind::Proc => {
                        let g = r.g;
                        if self.gs.slot(g).is_some() {
                            let v = self.ranges_p.get_mut(r.a);
                            match v.iter_mut().find(|(n, _)| *n == name) {
                                Some(e) => e.1 = g,
                                None => v.push((name, g)),
                            }
                        }
                        g
                    }
                    _ => return,
                };
                let sync_ts = self.sync_ts;
                let Some(slot) = self.gs.slot(goid) else {
                    return;
                };
                let (g, p) = self.gs.both_mut(slot);
                if r.kind == RecKind::RangeActive {
                    let ts = get_of(&p.last_range, name);
                    if ts != 0 {
                        add_to(&mut g.stats.range_time, name, sync_ts.wrapping_sub(ts));
                    }
                    set_time(&mut p.last_range, name, sync_ts);
                } else {
                    set_time(&mut p.last_range, name, t);
                }
            }
            RecKind::RangeEnd => {
                let name = self.range_name(r);
                let goid = match feed::range_scope(r) {
                    ResourceKind::Goroutine => r.a,
                    ResourceKind::Proc => {
                        let v = self.ranges_p.get_mut(r.a);
                        match v.iter().position(|(n, _)| *n == name) {
                            // Only if the range ends on the goroutine that began it.
                            Some(i) => match v.swap_remove(i) {
                                (_, g) if g == r.g => g,
                                _ => return,
                            },
                            None => return,
                        }
                    }
                    _ => return,
                };
                let Some(slot) = self.gs.slot(goid) else {
                    return;
                };
                let pi = self.gs.meta[slot].pend;
                if pi == NONE {
                    return;
                }
                let p = &mut self.gs.pends[pi as usize];
                let ts = get_of(&p.last_range, name);
                if ts == 0 {
                    return;
                }
                p.last_range.retain(|&(k, _)| k != name);
                add_to(
                    &mut self.gs.sums[slot].stats.range_time,
                    name,
                    t.wrapping_sub(ts),
                );
            }
            RecKind::RegionBegin => {
                let task = r.a as TaskId;
                let goid = r.g;
                let Some(slot) = self.gs.slot(goid) else {
                    self.skipped += 1;
                    return;
                };
                let name = self.intern_ref(r.s);
                let frame = self.outer_frame(r.stack).unwrap_or_default();
                let id = self.regions.len() as RegionId;
                self.snapshot(slot, t);
                let stats = self.packer.pack(&mut self.stats, &self.snap);
                self.gs.pend_mut(slot).active_regions.push(id);
                self.regions.push(RegionSummary {
                    task,
                    goroutine: goid,
                    name,
                    start: Some(RegionPoint {
                        time: t,
                        goroutine: goid,
                        kind: PointKind::Region { typ: name },
                    }),
                    end: None,
                    frame,
                    stats,
                });
                let ts = self.task_slot(task);
                self.task_regions.push((ts, id));
                self.task_goroutine(ts, goid);
            }
            RecKind::RegionEnd => {
                let task = r.a as TaskId;
                let goid = r.g;
                let Some(slot) = self.gs.slot(goid) else {
                    self.skipped += 1;
                    return;
                };
                let typ = self.intern_ref(r.s);
                let popped = match self.gs.meta[slot].pend {
                    NONE => None,
                    p => self.gs.pends[p as usize].active_regions.pop(),
                };
                let id = match popped {
                    Some(id) => id,
                    None => {
                        // An end without a begin: make the region up now.
                        let id = self.regions.len() as RegionId;
                        self.regions.push(RegionSummary {
                            task,
                            goroutine: goid,
                            name: typ,
                            start: None,
                            end: None,
                            frame: Frame::default(),
                            stats: PackedStats::default(),
                        });
                        let ts = self.task_slot(task);
                        self.task_goroutine(ts, goid);
                        self.task_regions.push((ts, id));
                        id
                    }
                };
                self.snapshot(slot, t);
                self.gs.sums[slot].regions.push(id);
                self.close_region(
                    id,
                    Some(RegionPoint {
                        time: t,
                        goroutine: goid,
                        kind: PointKind::Region { typ },
                    }),
                );
            }
            RecKind::TaskBegin | RecKind::TaskEnd => {
                let (task_id, parent) = (r.a as TaskId, r.b);
                let typ = self.intern_ref(r.s);
                let point = TaskPoint {
                    time: t,
                    goroutine: r.g,
                    typ,
                    parent,
                };
                let ts = self.task_slot(task_id);
                self.task_goroutine(ts, r.g);
                let task = &mut self.tasks[ts as usize];
                task.name = typ;
                if r.kind == RecKind::TaskBegin {
                    task.start = Some(point);
                } else {
                    task.end = Some(point);
                }
                if parent != NO_TASK && task.parent.is_none() {
                    task.parent = Some(parent);
                    let ps = self.task_slot(parent);
                    self.task_children.push((ps, task_id));
                }
            }
            RecKind::Log => {
                let category = self.intern_ref(r.s);
                let (m, mp) = self.tables.str(r.b as u32);
                let rec = LogRecord {
                    time: t,
                    goroutine: r.g,
                    category,
                    message: self.strings.add_cached(m, mp),
                };
                let ts = self.task_slot(r.a as TaskId);
                self.task_goroutine(ts, r.g);
                self.task_logs.push((ts, rec));
            }
            RecKind::Other | RecKind::End => {}
        }
    }

    fn go_transition(&mut self, r: &Rec) {
        let id = r.a;
        let (old, new) = (r.old, r.new);
        if old == new {
            return;
        }
        let t = r.time;

        // Leaving the old state.
        let slot = match old {
            GoState::Undetermined => {
                // First seen mid-life: it existed since the last Sync, in
                // the state it is now leaving for.
                let sync_ts = self.sync_ts;
                let reason = if new == GoState::Waiting {
                    self.intern_ref(r.s)
                } else {
                    StrId::EMPTY
                };
                let slot = self.gs.fresh(id, sync_ts);
                let dt = t.wrapping_sub(sync_ts);
                let s = &mut self.gs.sums[slot].stats;
                match new {
                    GoState::Running => s.exec_time = s.exec_time.wrapping_add(dt),
                    GoState::Waiting => add_to(&mut s.block_time, reason, dt),
                    GoState::Runnable => s.sched_wait_time = s.sched_wait_time.wrapping_add(dt),
                    GoState::Syscall if r.proc() == NO_PROC => {
                        s.syscall_block_time = s.syscall_block_time.wrapping_add(dt)
                    }
                    GoState::Syscall => s.syscall_time = s.syscall_time.wrapping_add(dt),
                    _ => {}
                }
                slot
            }
            GoState::NotExist => {
                // Created inside a region: inherit the innermost region's
                // task through a synthetic region.
                let inherited = self
                    .gs
                    .slot(r.g)
                    .and_then(|c| self.gs.pend(c))
                    .and_then(|p| p.active_regions.last())
                    .map(|&r| self.regions[r as usize].task);
                let slot = self.gs.fresh(id, t);
                if let Some(task) = inherited {
                    let frame = self.outer_frame(r.stack).unwrap_or_default();
                    let rid = self.regions.len() as RegionId;
                    self.regions.push(RegionSummary {
                        task,
                        goroutine: id,
                        name: StrId::EMPTY,
                        start: Some(RegionPoint {
                            time: t,
                            goroutine: r.g,
                            kind: PointKind::Transition { from: old, to: new },
                        }),
                        end: None,
                        frame,
                        stats: PackedStats::default(),
                    });
                    self.gs.pend_mut(slot).active_regions.push(rid);
                }
                slot
            }
            _ => {
                let Some(slot) = self.gs.slot(id) else {
                    self.skipped += 1;
                    return;
                };
                let Goroutines {
                    sums, meta, pends, ..
                } = &mut self.gs;
                let s = &mut sums[slot].stats;
                let p = match meta[slot].pend {
                    NONE => None,
                    p => Some(&mut pends[p as usize]),
                };
                match (old, p) {
                    (GoState::Running, p) => {
                        let last = p.map_or(0, |p| std::mem::take(&mut p.last_start));
                        s.exec_time = s.exec_time.wrapping_add(t.wrapping_sub(last));
                    }
                    (GoState::Waiting, Some(p)) if p.last_block != 0 => {
                        add_to(
                            &mut s.block_time,
                            p.last_block_reason,
                            t.wrapping_sub(p.last_block),
                        );
                        p.last_block = 0;
                    }
                    (GoState::Runnable, Some(p)) if p.last_runnable != 0 => {
                        s.sched_wait_time = s
                            .sched_wait_time
                            .wrapping_add(t.wrapping_sub(p.last_runnable));
                        p.last_runnable = 0;
                    }
                    (GoState::Syscall, Some(p)) if p.last_syscall != 0 => {
                        if p.last_syscall_block != 0 {
                            s.syscall_block_time = s
                                .syscall_block_time
                                .wrapping_add(t.wrapping_sub(p.last_syscall_block));
                            s.syscall_time = s
                                .syscall_time
                                .wrapping_add(p.last_syscall_block.wrapping_sub(p.last_syscall));
                        } else {
                            s.syscall_time =
                                s.syscall_time.wrapping_add(t.wrapping_sub(p.last_syscall));
                        }
                        p.last_syscall = 0;
                        p.last_syscall_block = 0;
                        // Forget the P binding (P 0 if none: a Go map's zero value).
                        let proc = meta[slot].syscall_p.take().unwrap_or(0);
                        *self.syscalling_p.get_mut(proc) = None;
                    }
                    _ => {}
                }
                slot
            }
        };

        // Name the goroutine by the root of the first stack seen.
        if self.gs.sums[slot].name == StrId::EMPTY {
            if let Some(f) = self.outer_frame(r.st_stack) {
                let g = &mut self.gs.sums[slot];
                g.pc = f.pc;
                g.name = f.func;
            }
        }

        // Entering the new state.
        match new {
            GoState::Running => {
                let (g, p) = self.gs.both_mut(slot);
                p.last_start = t;
                if g.start_time == 0 {
                    g.start_time = t;
                }
            }
            GoState::Runnable => self.gs.pend_mut(slot).last_runnable = t,
            GoState::Waiting | GoState::NotExist => {
                let reason = if new == GoState::Waiting {
                    self.intern_ref(r.s)
                } else {
                    self.forever
                };
                if reason != self.forever {
                    let p = self.gs.pend_mut(slot);
                    p.last_block = t;
                    p.last_block_reason = reason;
                } else {
                    // Exited, or blocked forever (treated the same).
                    let end = RegionPoint {
                        time: t,
                        goroutine: r.g,
                        kind: PointKind::Transition { from: old, to: new },
                    };
                    self.finalize(slot, t, Some(end));
                }
            }
            GoState::Syscall => {
                *self.syscalling_p.get_mut(r.proc()) = Some(id);
                self.gs.meta[slot].syscall_p = Some(r.proc());
                self.gs.pend_mut(slot).last_syscall = t;
            }
            GoState::Undetermined => {}
        }
    }

    /// The goroutine's statistics as of `now`, counting the state it is in
    /// (`snapshotStat`), into `self.snap`.
    fn snapshot(&mut self, slot: usize, now: Time) {
        let g = &self.gs.sums[slot];
        let s = &mut self.snap;
        s.load(&g.stats);
        if s.fixed[4] == 0 {
            s.fixed[4] = now.wrapping_sub(g.creation_time);
        }
        let Some(p) = self.gs.pend(slot) else {
            return;
        };
        if p.last_start != 0 {
            s.fixed[0] = s.fixed[0].wrapping_add(now.wrapping_sub(p.last_start));
        }
        if p.last_runnable != 0 {
            s.fixed[1] = s.fixed[1].wrapping_add(now.wrapping_sub(p.last_runnable));
        }
        if p.last_block != 0 {
            add_to(
                &mut s.block,
                p.last_block_reason,
                now.wrapping_sub(p.last_block),
            );
        }
        if p.last_syscall != 0 {
            s.fixed[2] = s.fixed[2].wrapping_add(now.wrapping_sub(p.last_syscall));
        }
        if p.last_syscall_block != 0 {
            // The reference counts this as scheduler wait, on top of the above.
            s.fixed[1] = s.fixed[1].wrapping_add(now.wrapping_sub(p.last_syscall_block));
        }
        for &(name, ts) in &p.last_range {
            add_to(&mut s.range, name, now.wrapping_sub(ts));
        }
    }

    /// Ends a region at `end` with `self.snap` as the goroutine's
    /// statistics then.
    fn close_region(&mut self, rid: RegionId, end: Option<RegionPoint>) {
        let reg = &mut self.regions[rid as usize];
        let begin = reg.stats;
        self.stats.unpack(begin, &mut self.begin);
        // The begin values are not needed any more: reuse their space if
        // they are the last ones stored.
        let (off, n) = self.stats.span(begin);
        if n > 0 && off + n == self.stats.values.len() {
            self.stats.values.truncate(off);
        }
        self.diff.diff(&self.snap, &self.begin);
        reg.stats = self.packer.pack(&mut self.stats, &self.diff);
        reg.end = end;
    }

    /// Closes a goroutine at `now`: final statistics, open regions closed by
    /// `trigger` (none at the end of the trace) unless it is a system goroutine.
    fn finalize(&mut self, slot: usize, now: Time, trigger: Option<RegionPoint>) {
        if let Some(tr) = trigger {
            self.gs.sums[slot].end_time = tr.time;
        }
        self.snapshot(slot, now);
        let pi = self.gs.meta[slot].pend;
        if pi != NONE && !is_system_goroutine(self.strings.get(self.gs.sums[slot].name)) {
            let open = std::mem::take(&mut self.gs.pends[pi as usize].active_regions);
            for &r in &open {
                self.close_region(r, trigger);
                self.gs.sums[slot].regions.push(r);
            }
            self.gs.pends[pi as usize].active_regions = open;
        }
        self.snap.store(&mut self.gs.sums[slot].stats);
        self.gs.release(slot);
    }

    /// Ends the analysis: closes what is still open at the last event and
    /// returns the summary.
    pub fn finish(mut self) -> Summary {
        let last = self.last_ts;
        for slot in 0..self.gs.sums.len() {
            if self.gs.meta[slot].pend == NONE {
                // Ended: finalizing again only sets a zero total time.
                let g = &mut self.gs.sums[slot];
                if g.stats.total_time == 0 {
                    g.stats.total_time = last.wrapping_sub(g.creation_time);
                }
                continue;
            }
            self.finalize(slot, last, None);
        }
        let Summarizer {
            strings,
            gs,
            tasks,
            task_children,
            task_logs,
            task_regions,
            task_goroutines,
            regions,
            mut stats,
            first_ts,
            last_ts,
            skipped,
            ..
        } = self;
        let Goroutines {
            sums,
            index,
            meta,
            pends,
            free,
        } = gs;
        drop((index, meta, pends, free));
        // Goroutines on another thread, tasks on this one.
        let (goroutines, (out, children, logs, task_regions, mut goroutine_ids)) =
            std::thread::scope(|scope| {
                let regions = &regions;
                let gor = scope.spawn(move || {
                    let mut goroutines = sums;
                    for g in &mut goroutines {
                        // By start time, regions without a start first (stable).
                        g.regions
                            .sort_by_key(|&r| regions[r as usize].start.map(|p| p.time));
                    }
                    goroutines.sort_unstable_by_key(|g| g.id);
                    goroutines
                });
                let tasks = group_tasks(
                    tasks,
                    task_children,
                    task_logs,
                    task_regions,
                    task_goroutines,
                );
                (gor.join().unwrap(), tasks)
            });
        goroutine_ids.shrink_to_fit();
        stats.values.shrink_to_fit();
        Summary {
            goroutines,
            tasks: out,
            regions,
            strings: strings.strs,
            start_time: first_ts.unwrap_or(0),
            end_time: last_ts,
            skipped_events: skipped,
            stats,
            task_children: children,
            task_logs: logs,
            task_regions,
            task_goroutines: goroutine_ids,
        }
    }
}

/// The tasks by ID, their items grouped in shared arrays: (tasks,
/// children, logs, regions, goroutines).
fn group_tasks(
    tasks: Vec<TaskSummary>,
    task_children: Vec<(u32, TaskId)>,
    task_logs: Vec<(u32, LogRecord)>,
    task_regions: Vec<(u32, RegionId)>,
    task_goroutines: Vec<(u32, GoId)>,
) -> TaskGroups {
    // Tasks by ID, their items grouped in shared arrays.
    let mut order: Vec<u32> = (0..tasks.len() as u32).collect();
    order.sort_unstable_by_key(|&s| tasks[s as usize].id);
    let mut pos = vec![0u32; tasks.len()];
    for (i, &s) in order.iter().enumerate() {
        pos[s as usize] = i as u32;
    }
    drop(order);
    // Into ID order in place (IDs are unique), without a second copy.
    let mut out: Vec<TaskSummary> = tasks;
    out.sort_unstable_by_key(|t| t.id);
    let (children, spans) = group(task_children, &pos);
    for (t, sp) in out.iter_mut().zip(spans) {
        t.children = sp;
    }
    let (logs, spans) = group(task_logs, &pos);
    for (t, sp) in out.iter_mut().zip(spans) {
        t.logs = sp;
    }
    let (task_regions, spans) = group(task_regions, &pos);
    for (t, sp) in out.iter_mut().zip(spans) {
        t.regions = sp;
    }
    let (mut gids, spans) = group(task_goroutines, &pos);
    let mut goroutine_ids = Vec::with_capacity(gids.len());
    for (t, sp) in out.iter_mut().zip(spans) {
        let ids = &mut gids[sp.start as usize..(sp.start + sp.len) as usize];
        ids.sort_unstable();
        let start = goroutine_ids.len();
        for &g in ids.iter() {
            if goroutine_ids.len() == start || goroutine_ids.last() != Some(&g) {
                goroutine_ids.push(g);
            }
        }
        t.goroutines = Span {
            start: start as u32,
            len: (goroutine_ids.len() - start) as u32,
        };
    }
    drop(gids);
    (out, children, logs, task_regions, goroutine_ids)
}

/// What [`group_tasks`] returns.
type TaskGroups = (
    Vec<TaskSummary>,
    Vec<TaskId>,
    Vec<LogRecord>,
    Vec<RegionId>,
    Vec<GoId>,
);

/// Groups `(slot, item)` pairs by `pos[slot]`, keeping their order within
/// a group: the items, and each group's span.
fn group<T: Copy>(pairs: Vec<(u32, T)>, pos: &[u32]) -> (Vec<T>, Vec<Span>) {
    let mut spans = vec![Span::default(); pos.len()];
    for &(s, _) in &pairs {
        spans[pos[s as usize] as usize].len += 1;
    }
    let mut at = 0u32;
    for sp in &mut spans {
        sp.start = at;
        at += sp.len;
    }
    let Some(&(_, first)) = pairs.first() else {
        return (Vec::new(), spans);
    };
    let mut fill: Vec<u32> = spans.iter().map(|s| s.start).collect();
    let mut out = vec![first; pairs.len()];
    for (s, v) in pairs {
        let i = pos[s as usize] as usize;
        out[fill[i] as usize] = v;
        fill[i] += 1;
    }
    (out, spans)
}

/// Which goroutines unblocked which (`RelatedGoroutinesV2`): feed every
/// event, then ask for the goroutines related to one. The trace viewer's
/// goroutine-focused view uses it.
#[derive(Debug, Clone, Default)]
pub struct UnblockGraph {
    /// (unblocker, unblocked) pairs, deduplicated.
    edges: FxHashSet<(GoId, GoId)>,
}

impl UnblockGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a goroutine leaving the Waiting state while another
    /// goroutine runs on the event's thread.
    pub fn event(&mut self, ev: &Event<'_>) {
        if ev.goroutine() == gotrace::NO_GOROUTINE || ev.kind() != EventKind::StateTransition {
            return;
        }
        let Some(st) = ev.state_transition() else {
            return;
        };
        if st.resource.kind != ResourceKind::Goroutine {
            return;
        }
        let (old, new) = st.goroutine();
        if old != new && old == GoState::Waiting {
            self.edges.insert((ev.goroutine(), st.resource.id));
        }
    }

    /// `goid` and, two steps out, the goroutines that unblocked a member of
    /// the set (sorted).
    pub fn related(&self, goid: GoId) -> Vec<GoId> {
        let mut set = FxHashSet::default();
        set.insert(goid);
        for _ in 0..2 {
            let add: Vec<GoId> = self
                .edges
                .iter()
                .filter(|(_, b)| set.contains(b))
                .map(|&(a, _)| a)
                .collect();
            set.extend(add);
        }
        let mut v: Vec<GoId> = set.into_iter().collect();
        v.sort_unstable();
        v
    }
}

fn set_time(v: &mut Vec<(StrId, Time)>, k: StrId, t: Time) {
    match v.iter_mut().find(|(x, _)| *x == k) {
        Some((_, x)) => *x = t,
        None => v.push((k, t)),
    }
}
