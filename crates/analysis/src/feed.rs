//! Owned, compact event records for the one-pass analyses, and the
//! pipeline that makes them on the reading thread while another thread
//! runs the analysis.
//!
//! An [`Event`] borrows its generation's tables, which the reader frees
//! soon after, so an analysis on another thread cannot keep it. The
//! [`Front`] turns each event an analysis needs into a fixed-size [`Rec`]
//! and refers to strings and stacks by per-generation *raw references*:
//! the first reference to a string (by its address) or a stack (by its ID)
//! in a generation copies it into the [`Batch`] as a definition, and the
//! [`Tables`] on the analysis side hold the current generation's
//! definitions. A batch never spans generations (a Sync starts a new one),
//! so the tables are reset at each batch that starts a generation.
//!
//! The analyses consume batches ([`Sink`]); their `event(&Event)` methods
//! run the same code one event at a time, so the pipelined and the direct
//! form give the same results. [`run`] is the pipeline: the calling thread
//! reads, orders and converts events; a scoped thread runs the sink.

use gotrace::{Event, EventKind, GoId, GoState, ProcId, ProcState, RangeName, ResourceKind, Time};
use rustc_hash::FxHashMap;

/// No reference.
pub(crate) const NO_REF: u32 = u32::MAX;

/// An empty string, where no analysis needs its address.
pub(crate) const EMPTY_STR: u32 = u32::MAX - 1;

/// The empty stack (needs no definition).
pub(crate) const EMPTY_STACK: u32 = u32::MAX - 1;

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RecKind {
    /// A generation starts.
    Sync,
    /// A goroutine transition: `a` is the goroutine, `old`/`new` its
    /// states, `s` the reason, `stack` the event's stack and `st_stack`
    /// the transition's, `b` the event's P.
    Go,
    /// A P went idle (from another state): `a` is the P.
    ProcIdle,
    /// A range began: `a` is the scope's ID, `x` the name and scope kind
    /// (see [`range_name`], [`range_scope`]), `s` the STW kind.
    RangeBegin,
    /// A range was active at a generation's start (as `RangeBegin`).
    RangeActive,
    /// A range ended (as `RangeBegin`).
    RangeEnd,
    /// A region began: `a` is its task, `s` its type, `stack` the event's.
    RegionBegin,
    /// A region ended: `a` is its task, `s` its type.
    RegionEnd,
    /// A task began: `a` is its ID, `b` its parent, `s` its type.
    TaskBegin,
    /// A task ended (as `TaskBegin`).
    TaskEnd,
    /// A log: `a` is its task, `s` its category, `b` its message.
    Log,
    /// Any other event, forwarded for its time only (the first event, and
    /// events while the last Sync's time is still 0).
    Other,
    /// The end of the trace, at the time of its last event.
    End,
}

/// One event as the analyses see it (48 bytes: the reading thread writes
/// one per event, and the other thread reads it from there).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rec {
    pub time: Time,
    /// The event's goroutine.
    pub g: GoId,
    pub a: i64,
    /// For [`RecKind::Go`], the event's P (see [`Rec::proc`]).
    pub b: u64,
    /// A string reference.
    pub s: u32,
    /// Stack references: the event's, and a transition's.
    pub stack: u32,
    pub st_stack: u32,
    pub kind: RecKind,
    pub old: GoState,
    pub new: GoState,
    pub x: u8,
}

impl Rec {
    #[inline]
    fn new(kind: RecKind, ev: &Event<'_>) -> Rec {
        Rec {
            time: ev.time(),
            g: ev.goroutine(),
            a: 0,
            b: 0,
            s: EMPTY_STR,
            stack: EMPTY_STACK,
            st_stack: EMPTY_STACK,
            kind,
            old: GoState::Undetermined,
            new: GoState::Undetermined,
            x: 0,
        }
    }
}

const _: () = assert!(std::mem::size_of::<Rec>() == 48);

impl Rec {
    /// The event's P, for a goroutine transition.
    #[inline]
    pub fn proc(&self) -> ProcId {
        self.b as ProcId
    }
}

/// Range names in [`Rec::x`] (low 4 bits).
pub(crate) const RANGE_GC_MARK: u8 = 0;
pub(crate) const RANGE_GC_SWEEP: u8 = 1;
pub(crate) const RANGE_GC_MARK_ASSIST: u8 = 2;
pub(crate) const RANGE_STW: u8 = 3;

/// The range name of a range record.
#[inline]
pub(crate) fn range_name(r: &Rec) -> u8 {
    r.x & 15
}

/// The range scope of a range record.
#[inline]
pub(crate) fn range_scope(r: &Rec) -> ResourceKind {
    match r.x >> 4 {
        1 => ResourceKind::Goroutine,
        2 => ResourceKind::Proc,
        3 => ResourceKind::Thread,
        _ => ResourceKind::None,
    }
}

/// A string definition: its address in the trace's tables (some analyses
/// key caches on it, as they would on the borrowed string) and its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrDef {
    pub addr: usize,
    pub start: u32,
    pub len: u32,
}

/// A frame of a stack definition. `func == NO_REF` marks a PC missing from
/// the trace's frame table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameDef {
    pub pc: u64,
    pub line: u64,
    pub func: u32,
    pub file: u32,
}

/// A stack definition: a range of frames (one per PC, or only the
/// outermost one), the address of its PCs in the trace's tables and their
/// number (some analyses key caches on them, as they would on the stack).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StackDef {
    pub start: u32,
    pub len: u32,
    pub n_pcs: u32,
    pub addr: usize,
}

/// Records with the definitions they need.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The batch starts a generation: earlier definitions are gone.
    pub new_gen: bool,
    pub recs: Vec<Rec>,
    /// Definitions first referred to in this batch.
    pub defs: Tables,
}

impl Batch {
    pub fn clear(&mut self) {
        self.new_gen = false;
        self.recs.clear();
        self.defs.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }
}

/// Where the front puts records and the definitions they need.
pub(crate) struct Out<'a> {
    pub recs: &'a mut Vec<Rec>,
    pub defs: &'a mut Tables,
    /// Set when a generation starts (the definitions were cleared).
    pub new_gen: bool,
}

/// What the front forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mode {
    /// Ranges, regions, tasks, logs and P transitions too (else only
    /// goroutine transitions).
    pub all: bool,
    /// Whole stacks (else only their outermost frame).
    pub full_stacks: bool,
}

/// Entries of the front's string cache (a power of two).
const STR_CACHE: usize = 1024;

/// Turns events into records (the reading thread's half of an analysis).
#[derive(Debug)]
pub(crate) struct Front {
    mode: Mode,
    /// Direct-mapped: (address, length, generation, reference).
    str_cache: Box<[(usize, usize, u32, u32)]>,
    /// Generation counter, so the cache needs no clearing.
    gen: u32,
    n_strs: u32,
    /// Stack ID -> reference, in this generation.
    stacks: Vec<u32>,
    stacks_sparse: FxHashMap<u64, u32>,
    n_stacks: u32,
    /// The reference's "last Sync time" as the analyses compute it: while
    /// it is 0, every event is forwarded.
    sync_ts: Time,
    /// Time of the last event of any kind (see `seen`).
    last_time: Time,
    seen: bool,
}

impl Front {
    pub fn new(mode: Mode) -> Self {
        Front {
            mode,
            str_cache: vec![(0, usize::MAX, u32::MAX, 0); STR_CACHE].into_boxed_slice(),
            gen: 0,
            n_strs: 0,
            stacks: Vec::new(),
            stacks_sparse: FxHashMap::default(),
            n_stacks: 0,
            sync_ts: 0,
            last_time: 0,
            seen: false,
        }
    }

    fn new_gen(&mut self) {
        self.gen = self.gen.wrapping_add(1);
        self.n_strs = 0;
        self.stacks.fill(NO_REF);
        self.stacks_sparse.clear();
        self.n_stacks = 0;
    }

    #[inline]
    fn str_ref(&mut self, s: &[u8], b: &mut Out<'_>) -> u32 {
        // Empty strings too: some analyses key caches on the address.
        let p = s.as_ptr() as usize;
        let slot = ((p >> 3) ^ (p >> 13) ^ s.len().wrapping_mul(0x9e37)) & (STR_CACHE - 1);
        let (cp, cl, cg, r) = self.str_cache[slot];
        if cp == p && cl == s.len() && cg == self.gen {
            return r;
        }
        let r = self.n_strs;
        self.n_strs += 1;
        b.defs.strs.push(StrDef {
            addr: p,
            start: b.defs.bytes.len() as u32,
            len: s.len() as u32,
        });
        b.defs.bytes.extend_from_slice(s);
        self.str_cache[slot] = (p, s.len(), self.gen, r);
        r
    }

    #[inline(always)]
    fn stack_ref(&mut self, st: &gotrace::Stack<'_>, b: &mut Out<'_>) -> u32 {
        let id = st.id();
        if id == 0 {
            return EMPTY_STACK;
        }
        let cached = match self.stacks.get(id as usize) {
            Some(&r) => r,
            None if id < (1 << 20) => {
                self.stacks.resize(id as usize + 1, NO_REF);
                NO_REF
            }
            None => self.stacks_sparse.get(&id).copied().unwrap_or(NO_REF),
        };
        if cached != NO_REF {
            return cached;
        }
        let r = self.define_stack(st, b);
        match self.stacks.get_mut(id as usize) {
            Some(x) => *x = r,
            None => {
                self.stacks_sparse.insert(id, r);
            }
        }
        r
    }

    #[cold]
    fn define_stack(&mut self, st: &gotrace::Stack<'_>, b: &mut Out<'_>) -> u32 {
        let r = self.n_stacks;
        self.n_stacks += 1;
        let pcs = st.pcs();
        let start = b.defs.frames.len() as u32;
        if self.mode.full_stacks {
            // frames() skips PCs missing from the frame table.
            let mut present = st.frames().peekable();
            for &pc in pcs {
                let f = match present.next_if(|f| f.pc == pc) {
                    Some(f) => FrameDef {
                        pc,
                        line: f.line,
                        func: self.str_ref(f.func, b),
                        file: self.str_ref(f.file, b),
                    },
                    None => FrameDef {
                        pc,
                        line: 0,
                        func: NO_REF,
                        file: NO_REF,
                    },
                };
                b.defs.frames.push(f);
            }
        } else if let Some(&last_pc) = pcs.last() {
            // Only the outermost frame: the last present frame is the last
            // PC's if that one is present.
            let f = match st.frames().last().filter(|f| f.pc == last_pc) {
                Some(f) => FrameDef {
                    pc: last_pc,
                    line: f.line,
                    func: self.str_ref(f.func, b),
                    file: self.str_ref(f.file, b),
                },
                None => FrameDef {
                    pc: last_pc,
                    line: 0,
                    func: NO_REF,
                    file: NO_REF,
                },
            };
            b.defs.frames.push(f);
        }
        b.defs.stacks.push(StackDef {
            start,
            len: b.defs.frames.len() as u32 - start,
            n_pcs: pcs.len() as u32,
            addr: pcs.as_ptr() as usize,
        });
        r
    }

    /// Converts one event; a Sync must start a new batch (see [`run`]).
    #[inline(always)]
    pub fn push(&mut self, ev: &Event<'_>, b: &mut Out<'_>) {
        let t = ev.time();
        self.last_time = t;
        let zero = self.sync_ts == 0;
        if zero {
            self.sync_ts = t;
            self.seen = true;
        }
        let kind = ev.kind();
        if kind == EventKind::StateTransition {
            if let Some(st) = ev.state_transition() {
                if st.resource.kind == ResourceKind::Goroutine {
                    self.push_go(ev, &st, b);
                    return;
                }
                if self.mode.all && st.resource.kind == ResourceKind::Proc {
                    let (old, new) = st.proc();
                    if old != new && new == ProcState::Idle {
                        let mut r = Rec::new(RecKind::ProcIdle, ev);
                        r.a = st.resource.id;
                        b.recs.push(r);
                        return;
                    }
                }
            }
        } else if self.mode.all || kind == EventKind::Sync {
            self.push_other(ev, kind, b, zero);
            return;
        }
        if zero {
            b.recs.push(Rec::new(RecKind::Other, ev));
        }
    }

    #[inline(always)]
    fn push_go(&mut self, ev: &Event<'_>, st: &gotrace::StateTransition<'_>, b: &mut Out<'_>) {
        let (old, new) = st.goroutine();
        // Reasons matter only for blocking; the event's stack only where
        // the analyses look at it.
        let s = if new == GoState::Waiting {
            self.str_ref(st.reason, b)
        } else {
            EMPTY_STR
        };
        let wants_stack = if self.mode.full_stacks {
            matches!(new, GoState::Waiting | GoState::Runnable | GoState::Syscall)
        } else {
            old == GoState::NotExist
        };
        let stack = if wants_stack {
            self.stack_ref(&ev.stack(), b)
        } else {
            EMPTY_STACK
        };
        let st_stack = self.stack_ref(&st.stack, b);
        b.recs.push(Rec {
            time: self.last_time,
            g: ev.goroutine(),
            a: st.resource.id,
            b: ev.proc() as u64,
            s,
            stack,
            st_stack,
            kind: RecKind::Go,
            old,
            new,
            x: 0,
        });
    }

    #[inline(never)]
    fn push_other(&mut self, ev: &Event<'_>, kind: EventKind, b: &mut Out<'_>, zero: bool) {
        let mut r = Rec::new(RecKind::Other, ev);
        match kind {
            EventKind::Sync => {
                self.sync_ts = r.time;
                self.new_gen();
                // Earlier definitions are gone (in the direct form, the
                // batch's definitions are the analysis's tables).
                b.defs.clear();
                b.new_gen = true;
                r.kind = RecKind::Sync;
            }
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                if let Some(range) = ev.range() {
                    r.kind = match kind {
                        EventKind::RangeBegin => RecKind::RangeBegin,
                        EventKind::RangeActive => RecKind::RangeActive,
                        _ => RecKind::RangeEnd,
                    };
                    let name = match range.name {
                        RangeName::GcMark => RANGE_GC_MARK,
                        RangeName::GcSweep => RANGE_GC_SWEEP,
                        RangeName::GcMarkAssist => RANGE_GC_MARK_ASSIST,
                        RangeName::Stw(kind) => {
                            r.s = self.str_ref(kind, b);
                            RANGE_STW
                        }
                    };
                    let scope = match range.scope.kind {
                        ResourceKind::None => 0,
                        ResourceKind::Goroutine => 1,
                        ResourceKind::Proc => 2,
                        ResourceKind::Thread => 3,
                    };
                    r.x = name | scope << 4;
                    r.a = range.scope.id;
                }
            }
            EventKind::RegionBegin | EventKind::RegionEnd => {
                if let Some(reg) = ev.region() {
                    r.a = reg.task as i64;
                    r.s = self.str_ref(reg.typ, b);
                    if kind == EventKind::RegionBegin {
                        r.kind = RecKind::RegionBegin;
                        r.stack = self.stack_ref(&ev.stack(), b);
                    } else {
                        r.kind = RecKind::RegionEnd;
                    }
                }
            }
            EventKind::TaskBegin | EventKind::TaskEnd => {
                if let Some(task) = ev.task() {
                    r.kind = if kind == EventKind::TaskBegin {
                        RecKind::TaskBegin
                    } else {
                        RecKind::TaskEnd
                    };
                    r.a = task.id as i64;
                    r.b = task.parent;
                    r.s = self.str_ref(task.typ, b);
                }
            }
            EventKind::Log => {
                if let Some(l) = ev.log() {
                    r.kind = RecKind::Log;
                    r.a = l.task as i64;
                    r.s = self.str_ref(l.category, b);
                    r.b = self.str_ref(l.message, b) as u64;
                }
            }
            _ => {}
        }
        if r.kind != RecKind::Other || zero {
            b.recs.push(r);
        }
    }

    /// The record that ends the stream, if any event was seen.
    pub fn end(&self) -> Option<Rec> {
        if !self.seen {
            return None;
        }
        let t = self.last_time;
        Some(Rec {
            time: t,
            g: gotrace::NO_GOROUTINE,
            a: 0,
            b: 0,
            s: EMPTY_STR,
            stack: EMPTY_STACK,
            st_stack: EMPTY_STACK,
            kind: RecKind::End,
            old: GoState::Undetermined,
            new: GoState::Undetermined,
            x: 0,
        })
    }
}

/// The current generation's definitions (the analysis side).
#[derive(Debug, Default)]
pub(crate) struct Tables {
    bytes: Vec<u8>,
    strs: Vec<StrDef>,
    stacks: Vec<StackDef>,
    frames: Vec<FrameDef>,
}

impl Tables {
    fn clear(&mut self) {
        self.bytes.clear();
        self.strs.clear();
        self.stacks.clear();
        self.frames.clear();
    }

    /// Takes a batch's definitions; returns whether a generation starts
    /// (earlier references are invalid from here on).
    pub fn load(&mut self, b: &Batch) -> bool {
        if b.new_gen {
            self.clear();
        }
        let d = &b.defs;
        let (bo, fo) = (self.bytes.len() as u32, self.frames.len() as u32);
        self.bytes.extend_from_slice(&d.bytes);
        self.strs.extend(d.strs.iter().map(|x| StrDef {
            start: x.start + bo,
            ..*x
        }));
        self.frames.extend_from_slice(&d.frames);
        self.stacks.extend(d.stacks.iter().map(|x| StackDef {
            start: x.start + fo,
            ..*x
        }));
        b.new_gen
    }

    /// Number of string definitions.
    pub fn n_strs(&self) -> usize {
        self.strs.len()
    }

    /// Number of stack definitions.
    pub fn n_stacks(&self) -> usize {
        self.stacks.len()
    }

    /// A string and its address in the trace's tables (0 for `""`).
    #[inline]
    pub fn str(&self, r: u32) -> (&[u8], usize) {
        if r == EMPTY_STR || r == NO_REF {
            return (b"", 0);
        }
        let d = self.strs[r as usize];
        (
            &self.bytes[d.start as usize..(d.start + d.len) as usize],
            d.addr,
        )
    }

    /// A stack's frames, one per PC, leaf first (only the outermost one
    /// unless the front sent whole stacks).
    #[inline]
    pub fn frames(&self, r: u32) -> &[FrameDef] {
        if r == EMPTY_STACK {
            return &[];
        }
        let d = self.stacks[r as usize];
        &self.frames[d.start as usize..(d.start + d.len) as usize]
    }

    /// A stack's definition.
    #[inline]
    pub fn stack(&self, r: u32) -> Option<&StackDef> {
        self.stacks.get(r as usize)
    }

    /// The outermost frame of a stack, as the reference's `StackFrame`:
    /// `None` if the stack is empty, and a zero frame (PC 0, no names) if
    /// its last PC is missing from the trace's frame table. Returns (pc,
    /// func, file, line) with `func == NO_REF` for the zero frame.
    #[inline]
    pub fn outermost(&self, r: u32) -> Option<FrameDef> {
        let f = *self.frames(r).last()?;
        Some(if f.func == NO_REF {
            FrameDef {
                pc: 0,
                line: 0,
                func: NO_REF,
                file: NO_REF,
            }
        } else {
            f
        })
    }
}

/// The analysis side of a pipeline.
pub(crate) trait Sink: Send {
    fn batch(&mut self, b: &Batch);
}

/// Records per batch: large enough that handing batches over costs little
/// (smaller ones cost the reading thread more: measured on 1 GB traces).
const BATCH: usize = 8192;
/// Batches in flight.
const DEPTH: usize = 4;

/// Reads every event of `r` on this thread, converting it with a
/// [`Front`] in `mode`, and feeds the records to `sink` on another thread.
/// Returns the sink when the trace is read, or the reader's error.
pub(crate) fn run<S: Sink>(
    r: &mut gotrace::Reader,
    mode: Mode,
    sink: S,
) -> Result<S, gotrace::Error> {
    use std::sync::mpsc::{channel, sync_channel};
    let (tx, rx) = sync_channel::<Batch>(DEPTH);
    let (free_tx, free_rx) = channel::<Batch>();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("gotrace-analysis".into())
            .spawn_scoped(scope, move || {
                let mut sink = sink;
                for b in rx {
                    sink.batch(&b);
                    let _ = free_tx.send(b);
                }
                sink
            })
            .expect("spawning the analysis thread");
        let mut front = Front::new(mode);
        let mut batch = Batch::default();
        let send = |batch: &mut Batch| -> bool {
            let next = match free_rx.try_recv() {
                Ok(mut b) => {
                    b.clear();
                    b
                }
                Err(_) => Batch::default(),
            };
            tx.send(std::mem::replace(batch, next)).is_ok()
        };
        let res = loop {
            match r.read_event() {
                Ok(Some(ev)) => {
                    if ev.kind() == EventKind::Sync && !batch.is_empty() && !send(&mut batch) {
                        break Ok(());
                    }
                    let mut out = Out {
                        recs: &mut batch.recs,
                        defs: &mut batch.defs,
                        new_gen: false,
                    };
                    front.push(&ev, &mut out);
                    batch.new_gen |= out.new_gen;
                    if batch.recs.len() >= BATCH && !send(&mut batch) {
                        break Ok(());
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if res.is_ok() {
            if let Some(end) = front.end() {
                batch.recs.push(end);
            }
            if !batch.is_empty() {
                send(&mut batch);
            }
        }
        drop(tx);
        let sink = match worker.join() {
            Ok(s) => s,
            Err(p) => std::panic::resume_unwind(p),
        };
        res.map(|()| sink)
    })
}

/// Feeds events one at a time through a [`Front`] (the direct form of an
/// analysis).
#[derive(Debug)]
pub(crate) struct Direct {
    front: Front,
    recs: Vec<Rec>,
}

impl Direct {
    pub fn new(mode: Mode) -> Self {
        Direct {
            front: Front::new(mode),
            recs: Vec::new(),
        }
    }

    /// Converts one event into its record, if the analysis needs it
    /// (there is at most one per event), adding the definitions it needs
    /// straight to `tables` (the analysis's). Also returns whether
    /// `tables` were reset first (a generation starts).
    #[inline]
    pub fn convert(&mut self, ev: &Event<'_>, tables: &mut Tables) -> (Option<Rec>, bool) {
        self.recs.clear();
        let mut out = Out {
            recs: &mut self.recs,
            defs: tables,
            new_gen: false,
        };
        self.front.push(ev, &mut out);
        let new_gen = out.new_gen;
        debug_assert!(self.recs.len() <= 1);
        (self.recs.first().copied(), new_gen)
    }
}
