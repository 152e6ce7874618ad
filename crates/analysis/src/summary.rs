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
//! types, log texts, file names) are interned: a [`StrId`] resolves with
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

mod histogram;
mod pages;

pub use histogram::{region_bucket_url, task_bucket_url, HistogramBucket, TimeHistogram};
pub use pages::*;

use gotrace::{
    Event, EventKind, GoId, GoState, ProcId, ProcState, RangeName, ResourceKind, Stack, StackFrame,
    TaskId, Time, NO_PROC, NO_TASK,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// An interned string; resolve it with [`Summary::str`]. `StrId(0)` is `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StrId(pub u32);

impl StrId {
    /// The empty string.
    pub const EMPTY: StrId = StrId(0);
}

/// Index of a region in [`Summary::regions`].
pub type RegionId = u32;

/// Strings interned by the summarizer.
#[derive(Debug, Clone)]
pub struct Strings {
    strs: Vec<Arc<[u8]>>,
}

impl Strings {
    /// The string with this ID (`""` for an unknown ID).
    pub fn get(&self, id: StrId) -> &[u8] {
        self.strs.get(id.0 as usize).map_or(&[][..], |s| s)
    }

    /// Looks a string up without interning it.
    pub fn find(&self, s: &[u8]) -> Option<StrId> {
        self.strs
            .iter()
            .position(|x| &x[..] == s)
            .map(|i| StrId(i as u32))
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strs.len()
    }

    /// Whether there are no strings (never: `""` is always there).
    pub fn is_empty(&self) -> bool {
        self.strs.is_empty()
    }
}

#[derive(Debug, Default)]
struct Interner {
    map: FxHashMap<Arc<[u8]>, u32>,
    strs: Vec<Arc<[u8]>>,
}

impl Interner {
    fn new() -> Self {
        let mut i = Interner::default();
        i.intern(b"");
        i
    }

    fn intern(&mut self, s: &[u8]) -> StrId {
        if let Some(&id) = self.map.get(s) {
            return StrId(id);
        }
        let id = self.strs.len() as u32;
        let a: Arc<[u8]> = Arc::from(s);
        self.strs.push(a.clone());
        self.map.insert(a, id);
        StrId(id)
    }

    fn get(&self, id: StrId) -> &[u8] {
        &self.strs[id.0 as usize]
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

    /// `self - begin`, over the keys of `self` (`GoroutineExecStats.sub`).
    fn sub(&self, begin: &ExecStats) -> ExecStats {
        let mut r = self.clone();
        r.exec_time = r.exec_time.wrapping_sub(begin.exec_time);
        r.sched_wait_time = r.sched_wait_time.wrapping_sub(begin.sched_wait_time);
        for (k, d) in &mut r.block_time {
            *d = d.wrapping_sub(begin.block_time_for(*k));
        }
        r.syscall_time = r.syscall_time.wrapping_sub(begin.syscall_time);
        r.syscall_block_time = r.syscall_block_time.wrapping_sub(begin.syscall_block_time);
        r.total_time = r.total_time.wrapping_sub(begin.total_time);
        for (k, d) in &mut r.range_time {
            *d = d.wrapping_sub(begin.range_time_for(*k));
        }
        r
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
    /// A goroutine state transition: the creation that started a synthetic
    /// region, or the goroutine's end that closed an open region.
    Transition {
        /// The goroutine changing state.
        goroutine: GoId,
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

impl RegionPoint {
    /// The goroutine the reference shows for the event (`primaryGoroutine`):
    /// the transitioning goroutine for a transition, else the event's.
    pub fn primary_goroutine(&self) -> GoId {
        match self.kind {
            PointKind::Transition { goroutine, .. } => goroutine,
            PointKind::Region { .. } => self.goroutine,
        }
    }
}

/// One region (`UserRegionSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSummary {
    /// Its task (0 for none).
    pub task: TaskId,
    /// Region type (`""` for synthetic regions).
    pub name: StrId,
    /// The goroutine it belongs to.
    pub goroutine: GoId,
    /// Its start: a `RegionBegin`, the creation of the goroutine (synthetic
    /// region), or none (an end without a begin).
    pub start: Option<RegionPoint>,
    /// Its end: a `RegionEnd`, the goroutine's end, or none (still open at
    /// the end of the trace, or never closed on a system goroutine).
    pub end: Option<RegionPoint>,
    /// The outermost frame of the start event's stack (the zero frame if
    /// none): with the type, the /userregions group key.
    pub frame: Frame,
    /// The goroutine's statistics while the region was active. For a
    /// region never closed (only listed by its task), the goroutine's
    /// statistics at its start.
    pub stats: ExecStats,
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
    /// Message.
    pub message: StrId,
}

/// One task (`UserTaskSummary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    /// Task ID.
    pub id: TaskId,
    /// Task type (`""` for task 0 and tasks only referred to).
    pub name: StrId,
    /// Parent task, if known.
    pub parent: Option<TaskId>,
    /// Child tasks, in the order they were seen.
    pub children: Vec<TaskId>,
    /// The `TaskBegin`, if in the trace.
    pub start: Option<TaskPoint>,
    /// The `TaskEnd`, if in the trace.
    pub end: Option<TaskPoint>,
    /// Its logs, in trace order.
    pub logs: Vec<LogRecord>,
    /// Its regions (begun, or ended without a begin, in the task), in the
    /// order they began; synthetic regions are not listed.
    pub regions: Vec<RegionId>,
    /// Goroutines that began/ended the task, logged, or had regions in it,
    /// sorted (may include [`gotrace::NO_GOROUTINE`]).
    pub goroutines: Vec<GoId>,
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
}

/// Whether an entry function names a system goroutine
/// (`trace.IsSystemGoroutine`): `""`, or `runtime.*` but `runtime.main`.
pub fn is_system_goroutine(entry_fn: &[u8]) -> bool {
    entry_fn.is_empty() || (entry_fn != b"runtime.main" && entry_fn.starts_with(b"runtime."))
}

/// The reference's `StackFrame` of a stack's last (outermost) frame, if the
/// stack has frames. A PC missing from the trace's tables gives the zero
/// frame, as in the reference.
fn outermost_frame<'a>(stack: &Stack<'a>) -> Option<StackFrame<'a>> {
    let last_pc = *stack.pcs().last()?;
    let zero = StackFrame {
        pc: 0,
        func: b"",
        file: b"",
        line: 0,
    };
    Some(
        stack
            .frames()
            .last()
            .filter(|f| f.pc == last_pc)
            .unwrap_or(zero),
    )
}

/// Analysis-only state of a goroutine (`goroutineSummary`); zeroed when
/// the goroutine ends.
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

#[derive(Debug)]
struct GoEntry {
    sum: GoroutineSummary,
    p: Pending,
}

#[derive(Debug)]
struct TaskState {
    t: TaskSummary,
    goroutines: FxHashSet<GoId>,
}

/// Builds a [`Summary`] from a trace's events.
#[derive(Debug)]
pub struct Summarizer {
    strings: Interner,
    gs: FxHashMap<GoId, GoEntry>,
    tasks: FxHashMap<TaskId, TaskState>,
    regions: Vec<RegionSummary>,
    syscalling_p: FxHashMap<ProcId, GoId>,
    syscalling_g: FxHashMap<GoId, ProcId>,
    ranges_p: FxHashMap<(ProcId, StrId), GoId>,
    first_ts: Option<Time>,
    last_ts: Time,
    sync_ts: Time,
    skipped: u64,
    forever: StrId,
    range_names: [StrId; 3],
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
            gs: FxHashMap::default(),
            tasks: FxHashMap::default(),
            regions: Vec::new(),
            syscalling_p: FxHashMap::default(),
            syscalling_g: FxHashMap::default(),
            ranges_p: FxHashMap::default(),
            first_ts: None,
            last_ts: 0,
            sync_ts: 0,
            skipped: 0,
            forever,
            range_names,
        }
    }

    fn range_name(&mut self, n: &RangeName<'_>) -> StrId {
        match n {
            RangeName::GcMark => self.range_names[0],
            RangeName::GcSweep => self.range_names[1],
            RangeName::GcMarkAssist => self.range_names[2],
            RangeName::Stw(_) => self.strings.intern(&n.to_bytes()),
        }
    }

    fn frame(&mut self, stack: &Stack<'_>) -> Frame {
        match outermost_frame(stack) {
            Some(f) => Frame {
                pc: f.pc,
                func: self.strings.intern(f.func),
                file: self.strings.intern(f.file),
                line: f.line,
            },
            None => Frame::default(),
        }
    }

    fn task_mut(&mut self, id: TaskId) -> &mut TaskState {
        self.tasks.entry(id).or_insert_with(|| TaskState {
            t: TaskSummary {
                id,
                name: StrId::EMPTY,
                parent: None,
                children: Vec::new(),
                start: None,
                end: None,
                logs: Vec::new(),
                regions: Vec::new(),
                goroutines: Vec::new(),
            },
            goroutines: FxHashSet::default(),
        })
    }

    /// Feeds one event, in trace order.
    pub fn event(&mut self, ev: &Event<'_>) {
        let t = ev.time();
        if self.sync_ts == 0 {
            self.sync_ts = t;
        }
        self.first_ts.get_or_insert(t);
        self.last_ts = t;
        match ev.kind() {
            EventKind::Sync => self.sync_ts = t,
            EventKind::StateTransition => {
                let Some(st) = ev.state_transition() else {
                    return;
                };
                match st.resource.kind {
                    ResourceKind::Goroutine => self.go_transition(ev, &st),
                    ResourceKind::Proc => {
                        let (old, new) = st.proc();
                        if old != new && new == ProcState::Idle {
                            if let Some(goid) = self.syscalling_p.remove(&st.resource.id) {
                                match self.gs.get_mut(&goid) {
                                    Some(g) => g.p.last_syscall_block = t,
                                    None => self.skipped += 1,
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            EventKind::RangeBegin | EventKind::RangeActive => {
                let Some(r) = ev.range() else { return };
                let name = self.range_name(&r.name);
                let goid = match r.scope.kind {
                    ResourceKind::Goroutine => r.scope.id,
                    ResourceKind::Proc => {
                        let g = ev.goroutine();
                        if self.gs.contains_key(&g) {
                            self.ranges_p.insert((r.scope.id, name), g);
                        }
                        g
                    }
                    _ => return,
                };
                let sync_ts = self.sync_ts;
                let Some(g) = self.gs.get_mut(&goid) else {
                    return;
                };
                if ev.kind() == EventKind::RangeActive {
                    let ts = get_of(&g.p.last_range, name);
                    if ts != 0 {
                        add_to(&mut g.sum.stats.range_time, name, sync_ts.wrapping_sub(ts));
                    }
                    set_time(&mut g.p.last_range, name, sync_ts);
                } else {
                    set_time(&mut g.p.last_range, name, t);
                }
            }
            EventKind::RangeEnd => {
                let Some(r) = ev.range() else { return };
                let name = self.range_name(&r.name);
                let goid = match r.scope.kind {
                    ResourceKind::Goroutine => r.scope.id,
                    ResourceKind::Proc => match self.ranges_p.remove(&(r.scope.id, name)) {
                        // Only if the range ends on the goroutine that began it.
                        Some(g) if g == ev.goroutine() => g,
                        _ => return,
                    },
                    _ => return,
                };
                let Some(g) = self.gs.get_mut(&goid) else {
                    return;
                };
                let ts = get_of(&g.p.last_range, name);
                if ts == 0 {
                    return;
                }
                add_to(&mut g.sum.stats.range_time, name, t.wrapping_sub(ts));
                g.p.last_range.retain(|&(k, _)| k != name);
            }
            EventKind::RegionBegin => {
                let Some(r) = ev.region() else { return };
                let goid = ev.goroutine();
                if !self.gs.contains_key(&goid) {
                    self.skipped += 1;
                    return;
                }
                let name = self.strings.intern(r.typ);
                let frame = self.frame(&ev.stack());
                let id = self.regions.len() as RegionId;
                let g = self.gs.get_mut(&goid).expect("checked");
                let stats = snapshot(g, t);
                g.p.active_regions.push(id);
                self.regions.push(RegionSummary {
                    task: r.task,
                    name,
                    goroutine: goid,
                    start: Some(RegionPoint {
                        time: t,
                        goroutine: goid,
                        kind: PointKind::Region { typ: name },
                    }),
                    end: None,
                    frame,
                    stats,
                });
                let task = self.task_mut(r.task);
                task.t.regions.push(id);
                task.goroutines.insert(goid);
            }
            EventKind::RegionEnd => {
                let Some(r) = ev.region() else { return };
                let goid = ev.goroutine();
                if !self.gs.contains_key(&goid) {
                    self.skipped += 1;
                    return;
                }
                let typ = self.strings.intern(r.typ);
                let popped = self
                    .gs
                    .get_mut(&goid)
                    .expect("checked")
                    .p
                    .active_regions
                    .pop();
                let id = match popped {
                    Some(id) => id,
                    None => {
                        // An end without a begin: make the region up now.
                        let id = self.regions.len() as RegionId;
                        self.regions.push(RegionSummary {
                            task: r.task,
                            name: typ,
                            goroutine: goid,
                            start: None,
                            end: None,
                            frame: Frame::default(),
                            stats: ExecStats::default(),
                        });
                        let task = self.task_mut(r.task);
                        task.goroutines.insert(goid);
                        task.t.regions.push(id);
                        id
                    }
                };
                let g = self.gs.get_mut(&goid).expect("checked");
                let snap = snapshot(g, t);
                g.sum.regions.push(id);
                let reg = &mut self.regions[id as usize];
                reg.stats = snap.sub(&reg.stats);
                reg.end = Some(RegionPoint {
                    time: t,
                    goroutine: goid,
                    kind: PointKind::Region { typ },
                });
            }
            EventKind::TaskBegin | EventKind::TaskEnd => {
                let Some(tk) = ev.task() else { return };
                let typ = self.strings.intern(tk.typ);
                let point = TaskPoint {
                    time: t,
                    goroutine: ev.goroutine(),
                    typ,
                    parent: tk.parent,
                };
                let begin = ev.kind() == EventKind::TaskBegin;
                let task = self.task_mut(tk.id);
                task.t.name = typ;
                task.goroutines.insert(ev.goroutine());
                if begin {
                    task.t.start = Some(point);
                } else {
                    task.t.end = Some(point);
                }
                if tk.parent != NO_TASK && task.t.parent.is_none() {
                    task.t.parent = Some(tk.parent);
                    self.task_mut(tk.parent).t.children.push(tk.id);
                }
            }
            EventKind::Log => {
                let Some(l) = ev.log() else { return };
                let rec = LogRecord {
                    time: t,
                    goroutine: ev.goroutine(),
                    category: self.strings.intern(l.category),
                    message: self.strings.intern(l.message),
                };
                let task = self.task_mut(l.task);
                task.goroutines.insert(ev.goroutine());
                task.t.logs.push(rec);
            }
            _ => {}
        }
    }

    fn go_transition(&mut self, ev: &Event<'_>, st: &gotrace::StateTransition<'_>) {
        let id = st.resource.id;
        let (old, new) = st.goroutine();
        if old == new {
            return;
        }
        let t = ev.time();
        let fresh = |creation: Time| GoEntry {
            sum: GoroutineSummary {
                id,
                name: StrId::EMPTY,
                pc: 0,
                creation_time: creation,
                start_time: 0,
                end_time: 0,
                regions: Vec::new(),
                stats: ExecStats::default(),
            },
            p: Pending::default(),
        };
        // Inserting replaces any earlier goroutine of the same ID.
        fn put(gs: &mut FxHashMap<GoId, GoEntry>, id: GoId, g: GoEntry) -> &mut GoEntry {
            match gs.entry(id) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    o.insert(g);
                    o.into_mut()
                }
                std::collections::hash_map::Entry::Vacant(v) => v.insert(g),
            }
        }

        // Leaving the old state.
        let g: &mut GoEntry = match old {
            GoState::Undetermined => {
                // First seen mid-life: it existed since the last Sync, in
                // the state it is now leaving for.
                let mut g = fresh(self.sync_ts);
                let dt = t.wrapping_sub(self.sync_ts);
                let s = &mut g.sum.stats;
                match new {
                    GoState::Running => s.exec_time = s.exec_time.wrapping_add(dt),
                    GoState::Waiting => {
                        let reason = self.strings.intern(st.reason);
                        add_to(&mut s.block_time, reason, dt);
                    }
                    GoState::Runnable => s.sched_wait_time = s.sched_wait_time.wrapping_add(dt),
                    GoState::Syscall if ev.proc() == NO_PROC => {
                        s.syscall_block_time = s.syscall_block_time.wrapping_add(dt)
                    }
                    GoState::Syscall => s.syscall_time = s.syscall_time.wrapping_add(dt),
                    _ => {}
                }
                put(&mut self.gs, id, g)
            }
            GoState::NotExist => {
                let mut g = fresh(t);
                // Created inside a region: inherit the innermost region's
                // task through a synthetic region.
                let inherited = self
                    .gs
                    .get(&ev.goroutine())
                    .and_then(|c| c.p.active_regions.last())
                    .map(|&r| self.regions[r as usize].task);
                if let Some(task) = inherited {
                    let frame = self.frame(&ev.stack());
                    let rid = self.regions.len() as RegionId;
                    self.regions.push(RegionSummary {
                        task,
                        name: StrId::EMPTY,
                        goroutine: id,
                        start: Some(RegionPoint {
                            time: t,
                            goroutine: ev.goroutine(),
                            kind: PointKind::Transition {
                                goroutine: id,
                                from: old,
                                to: new,
                            },
                        }),
                        end: None,
                        frame,
                        stats: ExecStats::default(),
                    });
                    g.p.active_regions.push(rid);
                }
                put(&mut self.gs, id, g)
            }
            _ => {
                let Some(g) = self.gs.get_mut(&id) else {
                    self.skipped += 1;
                    return;
                };
                match old {
                    GoState::Running => {
                        g.sum.stats.exec_time = g
                            .sum
                            .stats
                            .exec_time
                            .wrapping_add(t.wrapping_sub(g.p.last_start));
                        g.p.last_start = 0;
                    }
                    GoState::Waiting if g.p.last_block != 0 => {
                        add_to(
                            &mut g.sum.stats.block_time,
                            g.p.last_block_reason,
                            t.wrapping_sub(g.p.last_block),
                        );
                        g.p.last_block = 0;
                    }
                    GoState::Runnable if g.p.last_runnable != 0 => {
                        let s = &mut g.sum.stats;
                        s.sched_wait_time = s
                            .sched_wait_time
                            .wrapping_add(t.wrapping_sub(g.p.last_runnable));
                        g.p.last_runnable = 0;
                    }
                    GoState::Syscall if g.p.last_syscall != 0 => {
                        let s = &mut g.sum.stats;
                        if g.p.last_syscall_block != 0 {
                            s.syscall_block_time = s
                                .syscall_block_time
                                .wrapping_add(t.wrapping_sub(g.p.last_syscall_block));
                            s.syscall_time = s.syscall_time.wrapping_add(
                                g.p.last_syscall_block.wrapping_sub(g.p.last_syscall),
                            );
                        } else {
                            s.syscall_time = s
                                .syscall_time
                                .wrapping_add(t.wrapping_sub(g.p.last_syscall));
                        }
                        g.p.last_syscall = 0;
                        g.p.last_syscall_block = 0;
                        // Forget the P binding (P 0 if none: a Go map's zero value).
                        let p = self.syscalling_g.remove(&id).unwrap_or(0);
                        self.syscalling_p.remove(&p);
                    }
                    _ => {}
                }
                g
            }
        };

        // Name the goroutine by the root of the first stack seen.
        if g.sum.name == StrId::EMPTY {
            if let Some(f) = outermost_frame(&st.stack) {
                g.sum.pc = f.pc;
                g.sum.name = self.strings.intern(f.func);
            }
        }

        // Entering the new state.
        match new {
            GoState::Running => {
                g.p.last_start = t;
                if g.sum.start_time == 0 {
                    g.sum.start_time = t;
                }
            }
            GoState::Runnable => g.p.last_runnable = t,
            GoState::Waiting | GoState::NotExist => {
                let reason = if new == GoState::Waiting {
                    self.strings.intern(st.reason)
                } else {
                    self.forever
                };
                if reason != self.forever {
                    g.p.last_block = t;
                    g.p.last_block_reason = reason;
                } else {
                    // Exited, or blocked forever (treated the same).
                    let end = RegionPoint {
                        time: t,
                        goroutine: ev.goroutine(),
                        kind: PointKind::Transition {
                            goroutine: id,
                            from: old,
                            to: new,
                        },
                    };
                    finalize(g, t, Some(end), &mut self.regions, &self.strings);
                }
            }
            GoState::Syscall => {
                self.syscalling_p.insert(ev.proc(), id);
                self.syscalling_g.insert(id, ev.proc());
                g.p.last_syscall = t;
            }
            GoState::Undetermined => {}
        }
    }

    /// Ends the analysis: closes what is still open at the last event and
    /// returns the summary.
    pub fn finish(self) -> Summary {
        let Summarizer {
            strings,
            gs,
            tasks,
            mut regions,
            last_ts,
            first_ts,
            skipped,
            ..
        } = self;
        let mut goroutines: Vec<GoroutineSummary> = Vec::with_capacity(gs.len());
        for (_, mut g) in gs {
            finalize(&mut g, last_ts, None, &mut regions, &strings);
            // By start time, regions without a start first (stable).
            g.sum
                .regions
                .sort_by_key(|&r| regions[r as usize].start.map(|p| p.time));
            goroutines.push(g.sum);
        }
        goroutines.sort_by_key(|g| g.id);
        let mut tasks: Vec<TaskSummary> = tasks
            .into_values()
            .map(|mut ts| {
                ts.t.goroutines = ts.goroutines.into_iter().collect();
                ts.t.goroutines.sort_unstable();
                ts.t
            })
            .collect();
        tasks.sort_by_key(|t| t.id);
        Summary {
            goroutines,
            tasks,
            regions,
            strings: Strings { strs: strings.strs },
            start_time: first_ts.unwrap_or(0),
            end_time: last_ts,
            skipped_events: skipped,
        }
    }
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

/// The goroutine's statistics as of `now`, counting the state it is in
/// (`snapshotStat`).
fn snapshot(g: &GoEntry, now: Time) -> ExecStats {
    let mut r = g.sum.stats.clone();
    let p = &g.p;
    if r.total_time == 0 {
        r.total_time = now.wrapping_sub(g.sum.creation_time);
    }
    if p.last_start != 0 {
        r.exec_time = r.exec_time.wrapping_add(now.wrapping_sub(p.last_start));
    }
    if p.last_runnable != 0 {
        r.sched_wait_time = r
            .sched_wait_time
            .wrapping_add(now.wrapping_sub(p.last_runnable));
    }
    if p.last_block != 0 {
        add_to(
            &mut r.block_time,
            p.last_block_reason,
            now.wrapping_sub(p.last_block),
        );
    }
    if p.last_syscall != 0 {
        r.syscall_time = r
            .syscall_time
            .wrapping_add(now.wrapping_sub(p.last_syscall));
    }
    if p.last_syscall_block != 0 {
        // The reference counts this as scheduler wait, on top of the above.
        r.sched_wait_time = r
            .sched_wait_time
            .wrapping_add(now.wrapping_sub(p.last_syscall_block));
    }
    for &(name, ts) in &p.last_range {
        add_to(&mut r.range_time, name, now.wrapping_sub(ts));
    }
    r
}

/// Closes a goroutine at `now`: final statistics, open regions closed by
/// `trigger` (none at the end of the trace) unless it is a system goroutine.
fn finalize(
    g: &mut GoEntry,
    now: Time,
    trigger: Option<RegionPoint>,
    regions: &mut [RegionSummary],
    strings: &Interner,
) {
    if let Some(tr) = trigger {
        g.sum.end_time = tr.time;
    }
    let fin = snapshot(g, now);
    if !is_system_goroutine(strings.get(g.sum.name)) {
        for &r in &g.p.active_regions {
            let reg = &mut regions[r as usize];
            reg.end = trigger;
            reg.stats = fin.sub(&reg.stats);
            g.sum.regions.push(r);
        }
    }
    g.sum.stats = fin;
    g.p = Pending::default();
}
