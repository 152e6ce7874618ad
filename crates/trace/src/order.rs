//! Ordering: an emulation of the Go scheduler's state machines that decides
//! whether an event can happen next, validates it, and queues the events
//! the stream yields. Mirrors the semantics of the reference's `order.go`:
//! events advance only when their partial-order constraints (sequence
//! numbers, resource states) are met; timestamps merely pick candidates.

use crate::event::*;
use crate::idmap::IdMap;
use crate::table::EvTable;
use gotrace_wire::spec::{self as s, go_status as gs, proc_status as ps};
use gotrace_wire::Version;
use rustc_hash::FxHashMap;

/// A per-generation sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Seq {
    gen: u64,
    seq: u64,
}

impl Seq {
    fn new(gen: u64, seq: u64) -> Seq {
        Seq { gen, seq }
    }
    /// Whether `self` immediately follows `prev`.
    fn succeeds(self, prev: Seq) -> bool {
        self.gen == prev.gen && self.seq == prev.seq.wrapping_add(1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (gen={})", self.seq, self.gen)
    }
}

/// A special range of time in flight on a resource: the range's begin
/// event type and, for stop-the-world, its kind string ID.
type RangeType = (u8, u64);

fn range_type(typ: u8, desc: u64) -> RangeType {
    match s::spec(typ) {
        Some(sp) if sp.start_ev != s::EV_NONE => (sp.start_ev, desc),
        _ => (typ, desc),
    }
}

fn spec_name(typ: u8) -> &'static str {
    s::spec(typ).map_or("", |sp| sp.name)
}

#[derive(Debug, Default)]
struct Ranges(Vec<RangeType>);

impl Ranges {
    fn begin(&mut self, t: RangeType) -> Result<(), String> {
        if self.0.contains(&t) {
            return Err(format!(
                "discovered event already in-flight for when starting event {}",
                spec_name(t.0)
            ));
        }
        self.0.push(t);
        Ok(())
    }

    fn active(&mut self, t: RangeType, initial_gen: bool) -> Result<(), String> {
        if initial_gen {
            if self.0.contains(&t) {
                return Err(format!(
                    "found named active range already in first gen: {{{} {}}}",
                    t.0, t.1
                ));
            }
            self.0.push(t);
        } else if !self.0.contains(&t) {
            let list: Vec<String> = self.0.iter().map(|(a, b)| format!("{{{a} {b}}}")).collect();
            return Err(format!(
                "resource is missing active range: {} [{}]",
                spec_name(t.0),
                list.join(" ")
            ));
        }
        Ok(())
    }

    /// Ends the range `typ` closes and returns its description.
    fn end(&mut self, typ: u8) -> Result<u64, String> {
        let st = s::spec(typ).map_or(s::EV_NONE, |sp| sp.start_ev);
        match self.0.iter().position(|r| r.0 == st) {
            Some(i) => Ok(self.0.swap_remove(i).1),
            None => Err(format!(
                "tried to end event {}, but not in-flight",
                spec_name(st)
            )),
        }
    }
}

#[derive(Debug)]
struct GState {
    status: u64,
    seq: Seq,
    /// Active user regions: (task, interned name).
    regions: Vec<(u64, u32)>,
    ranges: Ranges,
}

impl GState {
    fn new(status: u64, seq: Seq) -> Self {
        GState {
            status,
            seq,
            regions: Vec::new(),
            ranges: Ranges::default(),
        }
    }
}

#[derive(Debug)]
struct PState {
    status: u64,
    seq: Seq,
    ranges: Ranges,
}

/// P states by ID. The runtime numbers Ps from 0 to GOMAXPROCS-1, so a
/// vector indexed by ID serves them; other IDs go to a map.
#[derive(Default)]
struct ProcTable {
    dense: Vec<Option<PState>>,
    sparse: FxHashMap<ProcId, PState>,
}

/// IDs below this are stored densely (a few hundred KiB at most).
const DENSE_PROCS: u64 = 1 << 12;

impl ProcTable {
    #[inline(always)]
    fn get(&self, id: ProcId) -> Option<&PState> {
        if (id as u64) < DENSE_PROCS {
            return self.dense.get(id as usize)?.as_ref();
        }
        self.sparse_get(id)
    }

    #[inline(always)]
    fn get_mut(&mut self, id: ProcId) -> Option<&mut PState> {
        if (id as u64) < DENSE_PROCS {
            return self.dense.get_mut(id as usize)?.as_mut();
        }
        self.sparse_get_mut(id)
    }

    // Out of line: inlined, the compiler hoists the hash of the current
    // P out of the per-event loop, a cost paid on every run of events.
    #[cold]
    #[inline(never)]
    fn sparse_get(&self, id: ProcId) -> Option<&PState> {
        self.sparse.get(&id)
    }

    #[cold]
    #[inline(never)]
    fn sparse_get_mut(&mut self, id: ProcId) -> Option<&mut PState> {
        self.sparse.get_mut(&id)
    }

    fn insert(&mut self, id: ProcId, st: PState) {
        if (id as u64) < DENSE_PROCS {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i] = Some(st);
        } else {
            self.sparse.insert(id, st);
        }
    }
}

#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct MState {
    g: GoId,
    p: ProcId,
}

/// Thread states, addressable both by ID and by a slot that batch cursors
/// cache, so the per-event lookup is an index. A slot exists before its
/// thread is "seen" (first advance attempt), which is what matters to the
/// semantics.
#[derive(Default)]
struct MTable {
    ids: FxHashMap<ThreadId, u32>,
    slots: Vec<(ThreadId, bool, MState)>,
}

impl MTable {
    fn slot(&mut self, id: ThreadId) -> usize {
        if let Some(&i) = self.ids.get(&id) {
            return i as usize;
        }
        self.slots.push((
            id,
            false,
            MState {
                g: NO_GOROUTINE,
                p: NO_PROC,
            },
        ));
        self.ids.insert(id, self.slots.len() as u32 - 1);
        self.slots.len() - 1
    }

    fn get(&self, id: ThreadId) -> Option<&MState> {
        let &i = self.ids.get(&id)?;
        let (_, seen, st) = &self.slots[i as usize];
        seen.then_some(st)
    }

    fn get_mut(&mut self, id: ThreadId) -> Option<&mut MState> {
        let &i = self.ids.get(&id)?;
        let (_, seen, st) = &mut self.slots[i as usize];
        seen.then_some(st)
    }

    fn insert(&mut self, id: ThreadId, st: MState) {
        let i = self.slot(id);
        self.slots[i].1 = true;
        self.slots[i].2 = st;
    }

    fn iter(&self) -> impl Iterator<Item = (ThreadId, &MState)> {
        self.slots.iter().filter(|e| e.1).map(|e| (e.0, &e.2))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GcState {
    Undetermined,
    NotRunning,
    Running,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Not,
    May,
    Must,
}

struct Reqs {
    m: Need,
    p: Need,
    g: Need,
}

const USER_GO: Reqs = Reqs {
    m: Need::Must,
    p: Need::Must,
    g: Need::Must,
};

/// Bound to a P, with or without a goroutine (heap metrics, sweeps, creation).
const ON_P: Reqs = Reqs {
    m: Need::Must,
    p: Need::Must,
    g: Need::May,
};

/// On a thread, with or without a P or goroutine (steals, experimental events).
const ON_M: Reqs = Reqs {
    m: Need::Must,
    p: Need::May,
    g: Need::May,
};

/// On a thread without a P (a P starting).
const NO_P: Reqs = Reqs {
    m: Need::Must,
    p: Need::Not,
    g: Need::May,
};

/// On a thread with a P and no goroutine (a goroutine starting).
const NO_G: Reqs = Reqs {
    m: Need::Must,
    p: Need::Must,
    g: Need::Not,
};

/// A goroutine on a thread, P optional (syscall exits, cgo callbacks ending).
const G_MAYBE_P: Reqs = Reqs {
    m: Need::Must,
    p: Need::May,
    g: Need::Must,
};

/// No goroutine yet, P optional (a cgo callback's goroutine appearing).
const NEW_G_MAYBE_P: Reqs = Reqs {
    m: Need::Must,
    p: Need::May,
    g: Need::Not,
};

#[inline(always)]
fn validate(ctx: SchedCtx, r: Reqs) -> Result<(), String> {
    let ok = |have: bool, need: Need| match need {
        Need::Must => have,
        Need::Not => !have,
        Need::May => true,
    };
    if ok(ctx.m != NO_THREAD, r.m) && ok(ctx.p != NO_PROC, r.p) && ok(ctx.g != NO_GOROUTINE, r.g) {
        return Ok(());
    }
    validate_slow(ctx, r)
}

#[cold]
fn validate_slow(ctx: SchedCtx, r: Reqs) -> Result<(), String> {
    fn check(have: bool, need: Need, what: &str) -> Result<(), String> {
        match need {
            Need::Must if !have => Err(format!("expected a {what} but didn't have one")),
            Need::Not if have => Err(format!("expected no {what} but had one")),
            _ => Ok(()),
        }
    }
    check(ctx.m != NO_THREAD, r.m, "thread")?;
    check(ctx.p != NO_PROC, r.p, "proc")?;
    check(ctx.g != NO_GOROUTINE, r.g, "goroutine")
}

#[cold]
#[inline(never)]
fn cur_g_error(
    version: Version,
    ev: &BaseEvent,
    cur: SchedCtx,
    exists: bool,
    want_name: &str,
) -> String {
    if exists {
        format!(
            "{} event for goroutine that's not {want_name}",
            version.event_name(ev.typ)
        )
    } else {
        format!(
            "event {} for goroutine ({}) that doesn't exist",
            version.event_name(ev.typ),
            cur.g
        )
    }
}

/// A FIFO that is almost always drained right after one push. Entries are
/// written and read field by field in place: building them as temporaries
/// costs store-forwarding stalls on the per-event path.
#[derive(Default)]
pub(crate) struct Queue {
    buf: Vec<EventData>,
    len: usize,
    head: usize,
}

impl Queue {
    #[inline]
    fn push_back(&mut self, ctx: SchedCtx, ev: &BaseEvent) {
        if self.len == self.buf.len() {
            self.buf.push(EventData::default());
        }
        let e = &mut self.buf[self.len];
        e.ctx = ctx;
        e.base = *ev;
        self.len += 1;
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.head == self.len
    }

    /// Moves the oldest entry into `out`; false if empty.
    #[inline]
    pub fn pop_into(&mut self, out: &mut EventData) -> bool {
        if self.head == self.len {
            return false;
        }
        let e = &self.buf[self.head];
        out.ctx = e.ctx;
        out.base = e.base;
        self.head += 1;
        if self.head == self.len {
            self.head = 0;
            self.len = 0;
        }
        true
    }
}

/// The scheduler emulation. State persists across generations.
pub(crate) struct Ordering {
    version: Version,
    g: IdMap<GState>,
    p: ProcTable,
    m: MTable,
    tasks: FxHashMap<TaskId, (u32, TaskId)>,
    gc_seq: u64,
    gc: GcState,
    initial_gen: u64,
    pub queue: Queue,
    names: FxHashMap<Box<[u8]>, u32>,
    name_list: Vec<Box<[u8]>>,
    /// The current generation's string ID -> interned name, `u32::MAX`
    /// where not yet known. Cleared with each generation.
    name_cache: Vec<u32>,
    /// Interned name -> the current generation's extra-string ID,
    /// `u64::MAX` where not yet known. Cleared with each generation.
    extra_cache: Vec<u64>,
}

/// Where UserTaskEnd carries its task's parent and type (its extra index).
static TASK_END_EXTRA: usize = s::SPECS[s::EV_USER_TASK_END as usize].args.len() - 1;

/// String IDs below this have their interned names cached.
const NAME_CACHE_IDS: u64 = 1 << 16;

/// Result of trying to advance one event.
type Adv = Result<Option<SchedCtx>, String>;

impl Ordering {
    pub fn new(version: Version) -> Self {
        Ordering {
            version,
            g: IdMap::default(),
            p: ProcTable::default(),
            m: MTable::default(),
            tasks: FxHashMap::default(),
            gc_seq: 0,
            gc: GcState::Undetermined,
            initial_gen: 0,
            queue: Queue::default(),
            names: FxHashMap::default(),
            name_list: Vec::new(),
            name_cache: Vec::new(),
            extra_cache: Vec::new(),
        }
    }

    /// The interned name of string `id` of the current generation's table.
    #[inline]
    fn intern_id(&mut self, evt: &EvTable, id: u64) -> Option<u32> {
        if let Some(&n) = self.name_cache.get(id as usize) {
            if n != u32::MAX {
                return Some(n);
            }
        }
        let n = self.intern(evt.string(id)?);
        if id < NAME_CACHE_IDS {
            let i = id as usize;
            if self.name_cache.len() <= i {
                self.name_cache.resize(i + 1, u32::MAX);
            }
            self.name_cache[i] = n;
        }
        Some(n)
    }

    /// The current generation's extra-string ID for interned name `name`,
    /// as [`EvTable::add_extra_string`] gives it, cached per generation.
    #[inline]
    fn extra_id(&mut self, evt: &mut EvTable, name: u32) -> u64 {
        if let Some(&id) = self.extra_cache.get(name as usize) {
            if id != u64::MAX {
                return id;
            }
        }
        let id = evt.add_extra_string(&self.name_list[name as usize]);
        let i = name as usize;
        if self.extra_cache.len() <= i {
            self.extra_cache.resize(i + 1, u64::MAX);
        }
        self.extra_cache[i] = id;
        id
    }

    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&id) = self.names.get(s) {
            return id;
        }
        let id = self.name_list.len() as u32;
        self.name_list.push(s.into());
        self.names.insert(s.into(), id);
        id
    }

    fn ev_name(&self, typ: u8) -> String {
        self.version.event_name(typ)
    }

    fn push(&mut self, ctx: SchedCtx, ev: &BaseEvent) {
        self.queue.push_back(ctx, ev);
    }

    /// The slot of thread `m`, for [`Ordering::advance`].
    pub fn thread_slot(&mut self, m: ThreadId) -> usize {
        self.m.slot(m)
    }

    /// Called as each generation is installed, before any of its events is
    /// advanced. The first generation with events is the trace's initial one.
    pub fn start_generation(&mut self, gen: u64, has_events: bool) {
        if self.initial_gen == 0 && has_events {
            self.initial_gen = gen;
        }
        self.name_cache.clear();
        self.extra_cache.clear();
    }

    /// The successful case of the most common events, written straight to
    /// `out` instead of the queue. Returns false, having changed nothing,
    /// for anything else (other types, events that cannot happen yet,
    /// errors): [`Ordering::advance`] then handles the event from scratch.
    /// Every condition here is one the general path checks, so both agree.
    #[inline(always)]
    pub fn advance_fast(
        &mut self,
        ev: &BaseEvent,
        evt: &mut EvTable,
        m: ThreadId,
        slot: usize,
        gen: u64,
        out: &mut EventData,
    ) -> bool {
        let Some(mut cur) = self.thread_ctx(m, slot) else {
            return false;
        };
        if !self.advance_fast_ctx(ev, evt, &mut cur, gen, out) {
            return false;
        }
        self.set_thread_ctx(slot, cur);
        true
    }

    /// The context of thread `m` (at `slot`), for
    /// [`Ordering::advance_fast_ctx`]; `None` where only the general path
    /// applies (no thread, or one not seen yet).
    #[inline(always)]
    pub fn thread_ctx(&self, m: ThreadId, slot: usize) -> Option<SchedCtx> {
        if m == NO_THREAD {
            return None;
        }
        debug_assert!(slot < self.m.slots.len());
        // SAFETY: `slot` came from `thread_slot(m)`, and slots are never removed.
        let e = unsafe { self.m.slots.get_unchecked(slot) };
        if !e.1 {
            return None;
        }
        Some(SchedCtx {
            g: e.2.g,
            p: e.2.p,
            m,
        })
    }

    /// Stores the context [`Ordering::advance_fast_ctx`] left for the
    /// thread at `slot` (one [`Ordering::thread_ctx`] returned a context for).
    #[inline(always)]
    pub fn set_thread_ctx(&mut self, slot: usize, ctx: SchedCtx) {
        debug_assert!(slot < self.m.slots.len() && self.m.slots[slot].1);
        // SAFETY: as in `thread_ctx`.
        let ms = &mut unsafe { self.m.slots.get_unchecked_mut(slot) }.2;
        ms.p = ctx.p;
        ms.g = ctx.g;
    }

    /// [`Ordering::advance_fast`] for a thread whose context the caller
    /// holds (from [`Ordering::thread_ctx`]): on success `cur` becomes the
    /// thread's new context, which the caller must store with
    /// [`Ordering::set_thread_ctx`] before the general path next runs.
    #[inline(always)]
    pub fn advance_fast_ctx(
        &mut self,
        ev: &BaseEvent,
        evt: &mut EvTable,
        cur_ctx: &mut SchedCtx,
        gen: u64,
        out: &mut EventData,
    ) -> bool {
        let cur = *cur_ctx;
        let mut new = cur;
        let has_p = cur.p != NO_PROC;
        let has_g = cur.g != NO_GOROUTINE;
        match ev.typ {
            s::EV_GO_START => {
                // NO_G context.
                if !has_p || has_g {
                    return false;
                }
                let gid = ev.args[0] as i64;
                let seq = Seq::new(gen, ev.args[1]);
                let Some(st) = self.g.get_mut(&gid) else {
                    return false;
                };
                if st.status != gs::RUNNABLE || !seq.succeeds(st.seq) {
                    return false;
                }
                st.status = gs::RUNNING;
                st.seq = seq;
                new.g = gid;
            }
            s::EV_GO_UNBLOCK => {
                let gid = ev.args[0] as i64;
                let seq = Seq::new(gen, ev.args[1]);
                let Some(st) = self.g.get_mut(&gid) else {
                    return false;
                };
                if st.status != gs::WAITING || !seq.succeeds(st.seq) {
                    return false;
                }
                st.status = gs::RUNNABLE;
                st.seq = seq;
            }
            s::EV_GO_BLOCK | s::EV_GO_STOP | s::EV_GO_DESTROY => {
                // USER_GO context, a running goroutine.
                if !has_p || !has_g {
                    return false;
                }
                let Some(st) = self.g.get_mut(&cur.g) else {
                    return false;
                };
                if st.status != gs::RUNNING {
                    return false;
                }
                match ev.typ {
                    s::EV_GO_STOP => st.status = gs::RUNNABLE,
                    s::EV_GO_BLOCK => st.status = gs::WAITING,
                    _ => {
                        self.g.remove(&cur.g);
                    }
                }
                new.g = NO_GOROUTINE;
            }
            s::EV_GO_CREATE | s::EV_GO_CREATE_BLOCKED => {
                // ON_P context; a current goroutine must be running.
                if !has_p {
                    return false;
                }
                if let Some(st) = self.g.get(&cur.g) {
                    if st.status != gs::RUNNING {
                        return false;
                    }
                }
                let new_g = ev.args[0] as i64;
                if self.g.contains_key(&new_g) {
                    return false;
                }
                let status = if ev.typ == s::EV_GO_CREATE_BLOCKED {
                    gs::WAITING
                } else {
                    gs::RUNNABLE
                };
                self.g.insert(new_g, GState::new(status, Seq::new(gen, 0)));
            }
            s::EV_USER_TASK_BEGIN => {
                if !has_p || !has_g {
                    return false;
                }
                let id = ev.args[0];
                if self.tasks.contains_key(&id) {
                    return false;
                }
                let Some(name) = self.intern_id(evt, ev.args[2]) else {
                    return false;
                };
                // Parent 0 means no parent here, not the background task.
                let mut parent = ev.args[1];
                if parent == BACKGROUND_TASK {
                    parent = NO_TASK;
                }
                self.tasks.insert(id, (name, parent));
                out.ctx = cur;
                out.base = *ev;
                out.base.args[1] = parent;
                return true;
            }
            s::EV_USER_TASK_END => {
                if !has_p || !has_g {
                    return false;
                }
                // Carry the type to the end, which may be in a later
                // generation whose string table lacks it.
                let (parent, typ) = match self.tasks.remove(&ev.args[0]) {
                    Some((name, parent)) => (parent, self.extra_id(evt, name)),
                    None => (NO_TASK, 0),
                };
                out.ctx = cur;
                out.base = *ev;
                out.base.args[TASK_END_EXTRA] = parent;
                out.base.args[TASK_END_EXTRA + 1] = typ;
                return true;
            }
            s::EV_GO_SYSCALL_BEGIN => {
                if !has_p || !has_g {
                    return false;
                }
                let Some(st) = self.g.get_mut(&cur.g) else {
                    return false;
                };
                let Some(pst) = self.p.get_mut(cur.p) else {
                    return false;
                };
                let pseq = Seq::new(gen, ev.args[0]);
                if st.status != gs::RUNNING || !pseq.succeeds(pst.seq) {
                    return false;
                }
                st.status = gs::SYSCALL;
                pst.status = ps::SYSCALL;
                pst.seq = pseq;
            }
            s::EV_GO_SYSCALL_END => {
                if !has_p || !has_g {
                    return false;
                }
                let Some(st) = self.g.get_mut(&cur.g) else {
                    return false;
                };
                let Some(pst) = self.p.get_mut(cur.p) else {
                    return false;
                };
                if st.status != gs::SYSCALL || pst.status != ps::SYSCALL {
                    return false;
                }
                st.status = gs::RUNNING;
                pst.status = ps::RUNNING;
            }
            s::EV_HEAP_ALLOC | s::EV_HEAP_GOAL => {
                // ON_P context.
                if !has_p {
                    return false;
                }
            }
            s::EV_GC_SWEEP_BEGIN | s::EV_GC_SWEEP_END => {
                if !has_p {
                    return false;
                }
                let Some(pst) = self.p.get_mut(cur.p) else {
                    return false;
                };
                let r = &mut pst.ranges.0;
                let t = range_type(s::EV_GC_SWEEP_BEGIN, 0);
                if ev.typ == s::EV_GC_SWEEP_BEGIN {
                    // Ranges::begin: the same (type, 0) must not be in flight.
                    if r.contains(&t) {
                        return false;
                    }
                    r.push(t);
                } else {
                    // Ranges::end.
                    let Some(i) = r.iter().position(|x| x.0 == t.0) else {
                        return false;
                    };
                    r.swap_remove(i);
                }
            }
            s::EV_GC_MARK_ASSIST_BEGIN | s::EV_GC_MARK_ASSIST_END => {
                if !has_p || !has_g {
                    return false;
                }
                let Some(st) = self.g.get_mut(&cur.g) else {
                    return false;
                };
                let r = &mut st.ranges.0;
                let t = range_type(s::EV_GC_MARK_ASSIST_BEGIN, 0);
                if ev.typ == s::EV_GC_MARK_ASSIST_BEGIN {
                    if r.contains(&t) {
                        return false;
                    }
                    r.push(t);
                } else {
                    let Some(i) = r.iter().position(|x| x.0 == t.0) else {
                        return false;
                    };
                    r.swap_remove(i);
                }
            }
            s::EV_USER_LOG | s::EV_GO_LABEL | s::EV_PROCS_CHANGE => {
                if !has_p || !has_g {
                    return false;
                }
            }
            s::EV_USER_REGION_BEGIN | s::EV_USER_REGION_END => {
                if !has_p || !has_g {
                    return false;
                }
                let task = ev.args[0];
                let Some(name) = self.intern_id(evt, ev.args[1]) else {
                    return false;
                };
                let Some(st) = self.g.get_mut(&cur.g) else {
                    return false;
                };
                if ev.typ == s::EV_USER_REGION_BEGIN {
                    st.regions.push((task, name));
                } else if let Some(&top) = st.regions.last() {
                    // Regions that began before the trace did are unknown;
                    // their ends are ignored.
                    if top != (task, name) {
                        return false;
                    }
                    st.regions.pop();
                }
            }
            _ => return false,
        }
        out.ctx = cur;
        out.base = *ev;
        *cur_ctx = new;
        true
    }

    /// Tries to advance `ev`, read from thread `m`'s batches in generation `gen`.
    /// `Ok(false)` means it cannot happen yet; errors mean the trace is broken.
    #[inline]
    pub fn advance(
        &mut self,
        ev: &mut BaseEvent,
        evt: &mut EvTable,
        m: ThreadId,
        slot: usize,
        gen: u64,
    ) -> Result<bool, String> {
        if self.initial_gen == 0 {
            self.initial_gen = gen;
        }
        let cur = if m == NO_THREAD {
            SchedCtx {
                m,
                p: NO_PROC,
                g: NO_GOROUTINE,
            }
        } else {
            let e = &mut self.m.slots[slot];
            if !e.1 {
                e.1 = true;
                e.2 = MState {
                    g: NO_GOROUTINE,
                    p: NO_PROC,
                };
            }
            SchedCtx {
                m,
                p: e.2.p,
                g: e.2.g,
            }
        };
        let res = match ev.typ {
            s::EV_PROCS_CHANGE | s::EV_GO_LABEL | s::EV_USER_LOG => self.annotation(ev, cur),
            s::EV_PROC_START => self.proc_start(ev, gen, cur),
            s::EV_PROC_STOP => self.proc_stop(ev, cur),
            s::EV_PROC_STEAL => self.proc_steal(ev, gen, cur),
            s::EV_PROC_STATUS => self.proc_status(ev, gen, cur),
            s::EV_GO_CREATE | s::EV_GO_CREATE_BLOCKED => self.go_create(ev, gen, cur),
            s::EV_GO_CREATE_SYSCALL => self.go_create_syscall(ev, gen, cur),
            s::EV_GO_START => self.go_start(ev, gen, cur),
            s::EV_GO_DESTROY | s::EV_GO_STOP | s::EV_GO_BLOCK => self.go_stop_exec(ev, cur),
            s::EV_GO_DESTROY_SYSCALL => self.go_destroy_syscall(ev, cur),
            s::EV_GO_UNBLOCK => self.go_unblock(ev, gen, cur),
            s::EV_GO_SYSCALL_BEGIN => self.go_syscall_begin(ev, gen, cur),
            s::EV_GO_SYSCALL_END => self.go_syscall_end(ev, cur),
            s::EV_GO_SYSCALL_END_BLOCKED => self.go_syscall_end_blocked(ev, cur),
            s::EV_GO_STATUS | s::EV_GO_STATUS_STACK => self.go_status(ev, gen, cur),
            s::EV_STW_BEGIN | s::EV_GC_MARK_ASSIST_BEGIN => self.go_range_begin(ev, cur),
            s::EV_STW_END | s::EV_GC_MARK_ASSIST_END => self.go_range_end(ev, cur),
            s::EV_GC_ACTIVE => self.gc_active(ev, gen, cur),
            s::EV_GC_BEGIN => self.gc_begin(ev, cur),
            s::EV_GC_END => self.gc_end(ev, cur),
            s::EV_GC_SWEEP_ACTIVE => self.gc_sweep_active(ev, gen, cur),
            s::EV_GC_SWEEP_BEGIN => self.gc_sweep_begin(ev, cur),
            s::EV_GC_SWEEP_END => self.gc_sweep_end(ev, cur),
            s::EV_GC_MARK_ASSIST_ACTIVE => self.go_range_active(ev, gen, cur),
            s::EV_HEAP_ALLOC | s::EV_HEAP_GOAL => {
                validate(cur, ON_P)?;
                self.push(cur, ev);
                Ok(Some(cur))
            }
            s::EV_USER_TASK_BEGIN => self.task_begin(ev, evt, cur),
            s::EV_USER_TASK_END => self.task_end(ev, evt, cur),
            s::EV_USER_REGION_BEGIN | s::EV_USER_REGION_END => self.region(ev, evt, cur),
            s::EV_GO_SWITCH | s::EV_GO_SWITCH_DESTROY => self.go_switch(ev, gen, cur),
            t if t > s::MAX_EVENT && t < s::MAX_EXPERIMENTAL_EVENT => {
                validate(cur, ON_M)?;
                self.push(cur, ev);
                Ok(Some(cur))
            }
            t => Err(format!("bad event type found while ordering: {t}")),
        };
        match res? {
            None => Ok(false),
            Some(new) => {
                if m != NO_THREAD {
                    let ms = &mut self.m.slots[slot].2;
                    ms.p = new.p;
                    ms.g = new.g;
                }
                Ok(true)
            }
        }
    }

    fn annotation(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn proc_status(&mut self, ev: &mut BaseEvent, gen: u64, mut cur: SchedCtx) -> Adv {
        let pid = ev.args[0] as i64;
        let status = ev.args[1];
        if status > ps::SYSCALL_ABANDONED {
            return Err(format!("invalid status for proc {pid}: {status}"));
        }
        let mut old = ProcState::from_status(status);
        if let Some(st) = self.p.get_mut(pid) {
            if status == ps::SYSCALL_ABANDONED && st.status == ps::SYSCALL {
                // Still in the syscall we know about: nothing was lost.
                old = ProcState::Running;
                ev.args[1] = ps::SYSCALL;
            } else if status == ps::SYSCALL_ABANDONED && st.status == ps::SYSCALL_ABANDONED {
                old = ProcState::Idle;
                ev.args[1] = ps::SYSCALL_ABANDONED;
            } else if st.status != status {
                return Err(format!(
                    "inconsistent status for proc {pid}: old {} vs. new {}",
                    ps::name(st.status),
                    ps::name(status)
                ));
            }
            st.seq = Seq::new(gen, 0);
        } else {
            self.p.insert(
                pid,
                PState {
                    status,
                    seq: Seq::new(gen, 0),
                    ranges: Ranges::default(),
                },
            );
            old = if gen == self.initial_gen {
                ProcState::Undetermined
            } else {
                ProcState::NotExist
            };
        }
        let x = ev.extra_index();
        ev.args[x] = old as u64;
        let mut new = cur;
        if status == ps::RUNNING || status == ps::SYSCALL {
            new.p = pid;
        }
        if status == ps::SYSCALL_ABANDONED && old == ProcState::Running {
            // The P is about to be stolen and its status was likely written by
            // another thread; emit it in the context it is bound to.
            let mut found = false;
            for (mid, ms) in self.m.iter() {
                if ms.p == pid {
                    cur = SchedCtx {
                        m: mid,
                        p: pid,
                        g: ms.g,
                    };
                    found = true;
                }
            }
            if !found {
                return Err(format!(
                    "failed to find sched context for proc {pid} that's about to be stolen"
                ));
            }
        }
        self.push(cur, ev);
        Ok(Some(new))
    }

    fn proc_start(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        let pid = ev.args[0] as i64;
        let seq = Seq::new(gen, ev.args[1]);
        let Some(st) = self.p.get_mut(pid) else {
            return Ok(None);
        };
        if st.status != ps::IDLE || !seq.succeeds(st.seq) || cur.p != NO_PROC {
            return Ok(None);
        }
        validate(cur, NO_P)?;
        st.status = ps::RUNNING;
        st.seq = seq;
        self.queue.push_back(cur, ev);
        Ok(Some(SchedCtx { p: pid, ..cur }))
    }

    fn proc_stop(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        let name = || self.version.event_name(ev.typ);
        let Some(st) = self.p.get_mut(cur.p) else {
            return Err(format!(
                "event {} for proc ({}) that doesn't exist",
                name(),
                cur.p
            ));
        };
        if st.status != ps::RUNNING && st.status != ps::SYSCALL {
            return Err(format!(
                "{} event for proc that's not Running or Syscall",
                name()
            ));
        }
        validate(cur, ON_P)?;
        st.status = ps::IDLE;
        self.push(cur, ev);
        Ok(Some(SchedCtx { p: NO_PROC, ..cur }))
    }

    fn proc_steal(&mut self, ev: &mut BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        let pid = ev.args[0] as i64;
        let seq = Seq::new(gen, ev.args[1]);
        match self.p.get(pid) {
            Some(st)
                if (st.status == ps::SYSCALL || st.status == ps::SYSCALL_ABANDONED)
                    && seq.succeeds(st.seq) => {}
            _ => return Ok(None),
        }
        validate(cur, ON_M)?;
        let st = self.p.get_mut(pid).unwrap();
        let old = st.status;
        let x = ev.extra_index();
        ev.args[x] = old;
        st.status = ps::IDLE;
        st.seq = seq;
        if old == ps::SYSCALL_ABANDONED {
            // We lost track of the M; leave it alone.
            self.push(cur, ev);
            return Ok(Some(cur));
        }
        let mid = ev.args[2] as i64;
        if mid == cur.m {
            if cur.p != pid {
                return Err(format!(
                    "tried to self-steal proc {pid} (thread {mid}), but got proc {} instead",
                    cur.p
                ));
            }
            self.push(cur, ev);
            return Ok(Some(SchedCtx { p: NO_PROC, ..cur }));
        }
        let Some(ms) = self.m.get_mut(mid) else {
            return Err(format!("stole proc from non-existent thread {mid}"));
        };
        if ms.p != pid {
            return Err(format!(
                "tried to steal proc {pid} from thread {mid}, but got proc {} instead",
                ms.p
            ));
        }
        // The victim is leaving its syscall; it may now proceed without a P.
        ms.p = NO_PROC;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_status(&mut self, ev: &mut BaseEvent, gen: u64, mut cur: SchedCtx) -> Adv {
        let gid = ev.args[0] as i64;
        let mid = ev.args[1] as i64;
        let status = ev.args[2];
        if status > gs::WAITING {
            return Err(format!("invalid status for goroutine {gid}: {status}"));
        }
        let mut old = GoState::from_status(status);
        if let Some(st) = self.g.get_mut(&gid) {
            if st.status != status {
                return Err(format!(
                    "inconsistent status for goroutine {gid}: old {} vs. new {}",
                    gs::name(st.status),
                    gs::name(status)
                ));
            }
            st.seq = Seq::new(gen, 0);
        } else if gen == self.initial_gen {
            self.g.insert(gid, GState::new(status, Seq::new(gen, 0)));
            old = GoState::Undetermined;
        } else {
            return Err(format!(
                "found goroutine status for new goroutine after the first generation: id={gid} status={}",
                gs::name(status)
            ));
        }
        ev.args[2] = (old as u64) << 32 | status;
        let mut new = cur;
        match status {
            gs::RUNNING => new.g = gid,
            gs::SYSCALL => {
                if mid == NO_THREAD {
                    return Err(format!("found goroutine {gid} in syscall without a thread"));
                }
                if mid == cur.m {
                    if gen != self.initial_gen && cur.g != gid {
                        return Err(format!(
                            "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                            cur.g
                        ));
                    }
                    new.g = gid;
                } else {
                    // A goroutine that has sat in a syscall on another M all generation.
                    match self.m.get(mid) {
                        Some(ms) => {
                            if ms.g != gid {
                                return Err(format!(
                                    "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                                    ms.g
                                ));
                            }
                            cur.g = ms.g;
                        }
                        None => {
                            self.m.insert(mid, MState { g: gid, p: NO_PROC });
                        }
                    }
                    cur.m = mid;
                }
            }
            _ => {}
        }
        self.push(cur, ev);
        Ok(Some(new))
    }

    fn go_create(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        validate(cur, ON_P)?;
        if let Some(st) = self.g.get(&cur.g) {
            if st.status != gs::RUNNING {
                return Err(format!(
                    "{} event for goroutine that's not Running",
                    self.ev_name(ev.typ)
                ));
            }
        }
        let new_g = ev.args[0] as i64;
        if self.g.contains_key(&new_g) {
            return Err(format!(
                "tried to create goroutine ({new_g}) that already exists"
            ));
        }
        let status = if ev.typ == s::EV_GO_CREATE_BLOCKED {
            gs::WAITING
        } else {
            gs::RUNNABLE
        };
        self.g.insert(new_g, GState::new(status, Seq::new(gen, 0)));
        self.push(cur, ev);
        Ok(Some(cur))
    }

    /// The current goroutine's state, which must exist and have `want` status.
    #[inline]
    fn cur_g(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        want: u64,
        want_name: &str,
    ) -> Result<&mut GState, String> {
        // Look up once, returning a bare pointer on the hot path; the error
        // text is built out of line.
        match self.g.get_mut(&cur.g) {
            Some(st) if st.status == want => Ok(st),
            found => Err(cur_g_error(
                self.version,
                ev,
                cur,
                found.is_some(),
                want_name,
            )),
        }
    }

    fn go_stop_exec(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        let st = self.cur_g(ev, cur, gs::RUNNING, "Running")?;
        match ev.typ {
            s::EV_GO_DESTROY => {
                self.g.remove(&cur.g);
            }
            s::EV_GO_STOP => st.status = gs::RUNNABLE,
            _ => st.status = gs::WAITING,
        }
        self.push(cur, ev);
        Ok(Some(SchedCtx {
            g: NO_GOROUTINE,
            ..cur
        }))
    }

    fn go_start(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        let gid = ev.args[0] as i64;
        let seq = Seq::new(gen, ev.args[1]);
        let Some(st) = self.g.get_mut(&gid) else {
            return Ok(None);
        };
        if st.status != gs::RUNNABLE || !seq.succeeds(st.seq) {
            return Ok(None);
        }
        validate(cur, NO_G)?;
        st.status = gs::RUNNING;
        st.seq = seq;
        self.queue.push_back(cur, ev);
        Ok(Some(SchedCtx { g: gid, ..cur }))
    }

    fn go_unblock(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        let gid = ev.args[0] as i64;
        let seq = Seq::new(gen, ev.args[1]);
        match self.g.get_mut(&gid) {
            Some(st) if st.status == gs::WAITING && seq.succeeds(st.seq) => {
                st.status = gs::RUNNABLE;
                st.seq = seq;
            }
            _ => return Ok(None),
        }
        // Anything may unblock a goroutine (even sysmon), so no context check.
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_switch(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        // A switch is three events: unblock the next goroutine, block or
        // destroy the current one, start the next one.
        validate(cur, USER_GO)?;
        self.cur_g(ev, cur, gs::RUNNING, "Running")?;
        let next = ev.args[0] as i64;
        let seq = Seq::new(gen, ev.args[1]);
        match self.g.get(&next) {
            Some(st) if st.status == gs::WAITING && seq.succeeds(st.seq) => {}
            _ => return Ok(None),
        }
        self.push(cur, ev);
        let mk = |typ: u8, args: [u64; 4]| BaseEvent {
            typ,
            time: ev.time,
            args,
        };
        if ev.typ == s::EV_GO_SWITCH {
            self.g.get_mut(&cur.g).unwrap().status = gs::WAITING;
            self.push(cur, &mk(s::EV_GO_BLOCK, [0; 4]));
        } else {
            self.g.remove(&cur.g);
            self.push(cur, &mk(s::EV_GO_DESTROY, [0; 4]));
        }
        let st = self.g.get_mut(&next).unwrap();
        st.status = gs::RUNNING;
        st.seq = seq;
        self.push(
            SchedCtx {
                g: NO_GOROUTINE,
                ..cur
            },
            &mk(s::EV_GO_START, [next as u64, ev.args[1], 0, 0]),
        );
        Ok(Some(SchedCtx { g: next, ..cur }))
    }

    fn go_syscall_begin(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        self.cur_g(ev, cur, gs::RUNNING, "Running")?.status = gs::SYSCALL;
        let name = || self.version.event_name(ev.typ);
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(format!(
                "uninitialized proc {} found during {}",
                cur.p,
                name()
            ));
        };
        pst.status = ps::SYSCALL;
        // The P sequence number disambiguates which syscall a later ProcSteal
        // stole from; on a running P it must line up exactly.
        let pseq = Seq::new(gen, ev.args[0]);
        if !pseq.succeeds(pst.seq) {
            return Err(format!(
                "failed to advance {}: can't make sequence: {} -> {pseq}",
                name(),
                pst.seq
            ));
        }
        pst.seq = pseq;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_syscall_end(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        self.cur_g(ev, cur, gs::SYSCALL, "Running")?.status = gs::RUNNING;
        let name = || self.version.event_name(ev.typ);
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(format!(
                "uninitialized proc {} found during {}",
                cur.p,
                name()
            ));
        };
        if pst.status != ps::SYSCALL {
            return Err(format!(
                "expected proc {} in state Syscall, but got {} instead",
                cur.p,
                ps::name(pst.status)
            ));
        }
        pst.status = ps::RUNNING;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_syscall_end_blocked(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        // Advances only once the P is out of the syscall (stopped, stolen,
        // or never there): the event says the P was lost during the call.
        if cur.p != NO_PROC {
            let Some(pst) = self.p.get(cur.p) else {
                return Err(format!(
                    "uninitialized proc {} found during {}",
                    cur.p,
                    self.ev_name(ev.typ)
                ));
            };
            if pst.status == ps::SYSCALL {
                return Ok(None);
            }
        }
        validate(cur, G_MAYBE_P)?;
        self.cur_g(ev, cur, gs::SYSCALL, "Running")?.status = gs::RUNNABLE;
        self.push(cur, ev);
        Ok(Some(SchedCtx {
            g: NO_GOROUTINE,
            ..cur
        }))
    }

    fn go_create_syscall(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        // A cgo callback on a thread Go did not create: the goroutine appears in a syscall.
        validate(cur, NEW_G_MAYBE_P)?;
        let new_g = ev.args[0] as i64;
        if self.g.contains_key(&new_g) {
            return Err(format!(
                "tried to create goroutine ({new_g}) in syscall that already exists"
            ));
        }
        self.g
            .insert(new_g, GState::new(gs::SYSCALL, Seq::new(gen, 0)));
        self.push(cur, ev);
        Ok(Some(SchedCtx { g: new_g, ..cur }))
    }

    fn go_destroy_syscall(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, G_MAYBE_P)?;
        self.cur_g(ev, cur, gs::SYSCALL, "Syscall")?;
        self.g.remove(&cur.g);
        let mut new = SchedCtx {
            g: NO_GOROUTINE,
            ..cur
        };
        if cur.p != NO_PROC {
            // The thread ID may be reused by a new thread, which must not
            // inherit this P: treat it as stolen right here.
            let name = || self.version.event_name(ev.typ);
            let Some(pst) = self.p.get_mut(cur.p) else {
                return Err(format!("found invalid proc {} during {}", cur.p, name()));
            };
            if pst.status != ps::SYSCALL {
                return Err(format!(
                    "proc {} in unexpected state {} during {}",
                    cur.p,
                    ps::name(pst.status),
                    name()
                ));
            }
            pst.status = ps::SYSCALL_ABANDONED;
            new.p = NO_PROC;
            let steal = BaseEvent {
                typ: s::EV_PROC_STEAL,
                time: ev.time,
                args: [cur.p as u64, 0, 0, ps::SYSCALL],
            };
            self.push(cur, &steal);
        }
        self.push(cur, ev);
        Ok(Some(new))
    }

    fn task_begin(&mut self, ev: &mut BaseEvent, evt: &EvTable, cur: SchedCtx) -> Adv {
        let id = ev.args[0];
        if self.tasks.contains_key(&id) {
            return Err(format!("task ID conflict: {id}"));
        }
        // Parent 0 means no parent here, not the background task.
        let mut parent = ev.args[1];
        if parent == BACKGROUND_TASK {
            parent = NO_TASK;
            ev.args[1] = NO_TASK;
        }
        let Some(name) = evt.string(ev.args[2]) else {
            return Err(format!(
                "invalid string ID {} for {} event",
                ev.args[2], ev.typ
            ));
        };
        let name = self.intern(name);
        self.tasks.insert(id, (name, parent));
        validate(cur, USER_GO)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn task_end(&mut self, ev: &mut BaseEvent, evt: &mut EvTable, cur: SchedCtx) -> Adv {
        let id = ev.args[0];
        let x = ev.extra_index();
        // Carry the type to the end, which may be in a later generation
        // whose string table lacks it.
        if let Some((name, parent)) = self.tasks.remove(&id) {
            ev.args[x] = parent;
            ev.args[x + 1] = evt.add_extra_string(&self.name_list[name as usize]);
        } else {
            ev.args[x] = NO_TASK;
            ev.args[x + 1] = 0;
        }
        validate(cur, USER_GO)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn region(&mut self, ev: &BaseEvent, evt: &EvTable, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        let task = ev.args[0];
        let Some(name) = self.intern_id(evt, ev.args[1]) else {
            return Err(format!(
                "invalid string ID {} for {} event",
                ev.args[1], ev.typ
            ));
        };
        let begin = ev.typ == s::EV_USER_REGION_BEGIN;
        let Some(st) = self.g.get_mut(&cur.g) else {
            let which = if begin {
                "EvUserRegionBegin"
            } else {
                "EvUserRegionEnd"
            };
            return Err(format!(
                "encountered {which} without known state for current goroutine {}",
                cur.g
            ));
        };
        if begin {
            st.regions.push((task, name));
        } else if let Some(&top) = st.regions.last() {
            // Regions that began before the trace did are unknown; ignore their ends.
            if top != (task, name) {
                let n =
                    |id: u32| String::from_utf8_lossy(&self.name_list[id as usize]).into_owned();
                return Err(format!(
                    "misuse of region in goroutine {}: region end {{{task} {}}} when the inner-most active region start event is {{{} {}}}",
                    cur.g,
                    n(name),
                    top.0,
                    n(top.1)
                ));
            }
            st.regions.pop();
        }
        self.push(cur, ev);
        Ok(Some(cur))
    }

    // GC mark phases carry sequence numbers because begin and end may be on
    // different threads with unreliable timestamps.
    fn gc_active(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        let seq = ev.args[0];
        if gen == self.initial_gen {
            if self.gc != GcState::Undetermined {
                return Err("GCActive in the first generation isn't first GC event".into());
            }
            self.gc_seq = seq;
            self.gc = GcState::Running;
            self.push(cur, ev);
            return Ok(Some(cur));
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        if self.gc != GcState::Running {
            return Err("encountered GCActive while GC was not in progress".into());
        }
        self.gc_seq = seq;
        validate(cur, USER_GO)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn gc_begin(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        let seq = ev.args[0];
        if self.gc == GcState::Undetermined {
            self.gc_seq = seq;
            self.gc = GcState::Running;
            self.push(cur, ev);
            return Ok(Some(cur));
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        if self.gc == GcState::Running {
            return Err("encountered GCBegin while GC was already in progress".into());
        }
        self.gc_seq = seq;
        self.gc = GcState::Running;
        validate(cur, USER_GO)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn gc_end(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        let seq = ev.args[0];
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        match self.gc {
            GcState::NotRunning => {
                return Err("encountered GCEnd when GC was not in progress".into())
            }
            GcState::Undetermined => {
                return Err("encountered GCEnd when GC was in an undetermined state".into())
            }
            GcState::Running => {}
        }
        self.gc_seq = seq;
        self.gc = GcState::NotRunning;
        validate(cur, USER_GO)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn gc_sweep_begin(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, ON_P)?;
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(format!(
                "uninitialized proc {} found during GCSweepBegin",
                cur.p
            ));
        };
        pst.ranges.begin(range_type(ev.typ, 0))?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn gc_sweep_active(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        let pid = ev.args[0] as i64;
        let initial = gen == self.initial_gen;
        let Some(pst) = self.p.get_mut(pid) else {
            return Err(format!("encountered GCSweepActive for unknown proc {pid}"));
        };
        pst.ranges.active(range_type(ev.typ, 0), initial)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn gc_sweep_end(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, ON_P)?;
        let Some(pst) = self.p.get_mut(cur.p) else {
            return Err(format!(
                "uninitialized proc {} found during GCSweepEnd",
                cur.p
            ));
        };
        pst.ranges.end(ev.typ)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_range_begin(&mut self, ev: &BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        let desc = if ev.typ == s::EV_STW_BEGIN {
            ev.args[0]
        } else {
            0
        };
        let Some(st) = self.g.get_mut(&cur.g) else {
            return Err(format!(
                "encountered event of type {} without known state for current goroutine {}",
                ev.typ, cur.g
            ));
        };
        st.ranges.begin(range_type(ev.typ, desc))?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_range_active(&mut self, ev: &BaseEvent, gen: u64, cur: SchedCtx) -> Adv {
        // Like GoStatus, this may name a goroutine that is not running.
        let gid = ev.args[0] as i64;
        let initial = gen == self.initial_gen;
        let name = || self.version.event_name(ev.typ);
        let Some(st) = self.g.get_mut(&gid) else {
            return Err(format!(
                "uninitialized goroutine {gid} found during {}",
                name()
            ));
        };
        st.ranges.active(range_type(ev.typ, 0), initial)?;
        self.push(cur, ev);
        Ok(Some(cur))
    }

    fn go_range_end(&mut self, ev: &mut BaseEvent, cur: SchedCtx) -> Adv {
        validate(cur, USER_GO)?;
        let Some(st) = self.g.get_mut(&cur.g) else {
            return Err(format!(
                "encountered event of type {} without known state for current goroutine {}",
                ev.typ, cur.g
            ));
        };
        let desc = st.ranges.end(ev.typ)?;
        if ev.typ == s::EV_STW_END {
            // The end names its kind too, like the begin.
            ev.args[0] = desc;
        }
        self.push(cur, ev);
        Ok(Some(cur))
    }
}
