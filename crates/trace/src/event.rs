//! The event model: what the ordered stream yields. It mirrors Go's
//! `internal/trace` API (kinds, state transitions, ranges, tasks, ...).

use crate::table::EvTable;
use gotrace_wire::spec::*;
use std::fmt;

/// Nanoseconds on the trace's clock.
pub type Time = i64;
/// A goroutine ID; [`NO_GOROUTINE`] when there is none.
pub type GoId = i64;
/// A P's ID; [`NO_PROC`] when there is none.
pub type ProcId = i64;
/// An M's (OS thread's) ID; [`NO_THREAD`] when there is none.
pub type ThreadId = i64;
/// A runtime/trace task ID.
pub type TaskId = u64;

/// No goroutine (e.g. an event on a thread running no goroutine).
pub const NO_GOROUTINE: GoId = -1;
/// No P (e.g. a thread in a syscall that lost its P).
pub const NO_PROC: ProcId = -1;
/// No thread (e.g. a Sync event).
pub const NO_THREAD: ThreadId = -1;
/// No task at all (e.g. a task without a parent).
pub const NO_TASK: TaskId = u64::MAX;
/// The task of work done outside any task.
pub const BACKGROUND_TASK: TaskId = 0;

/// Internal type code of synthesized Sync events.
pub(crate) const EV_SYNC_EVENT: u8 = u8::MAX;

/// What kind of event this is; selects which accessor applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Not a valid event.
    Bad,
    /// A generation boundary: everything before it is enumerated.
    Sync,
    /// A metric sample: GOMAXPROCS, heap size or heap goal.
    Metric,
    /// A label applied to a goroutine.
    Label,
    /// A CPU profile sample.
    StackSample,
    /// The start of a special range of time: GC, sweep, mark assist, stop-the-world.
    RangeBegin,
    /// A range that was already in progress when its generation began.
    RangeActive,
    /// The end of a special range of time.
    RangeEnd,
    /// `trace.NewTask`.
    TaskBegin,
    /// `Task.End`.
    TaskEnd,
    /// `trace.StartRegion` / `trace.WithRegion` begins.
    RegionBegin,
    /// A region ends.
    RegionEnd,
    /// `trace.Log`.
    Log,
    /// A goroutine or P changes state.
    StateTransition,
    /// An experimental event, in raw form.
    Experimental,
}

impl EventKind {
    /// The kind's name as the reference prints it.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Bad => "Bad",
            EventKind::Sync => "Sync",
            EventKind::Metric => "Metric",
            EventKind::Label => "Label",
            EventKind::StackSample => "StackSample",
            EventKind::RangeBegin => "RangeBegin",
            EventKind::RangeActive => "RangeActive",
            EventKind::RangeEnd => "RangeEnd",
            EventKind::TaskBegin => "TaskBegin",
            EventKind::TaskEnd => "TaskEnd",
            EventKind::RegionBegin => "RegionBegin",
            EventKind::RegionEnd => "RegionEnd",
            EventKind::Log => "Log",
            EventKind::StateTransition => "StateTransition",
            EventKind::Experimental => "Experimental",
        }
    }

    #[inline]
    pub(crate) fn of(typ: u8) -> EventKind {
        KINDS[typ as usize]
    }

    const fn classify(typ: u8) -> EventKind {
        use EventKind::*;
        match typ {
            EV_SYNC_EVENT => Sync,
            EV_CPU_SAMPLE => StackSample,
            EV_PROCS_CHANGE | EV_HEAP_ALLOC | EV_HEAP_GOAL => Metric,
            EV_PROC_START
            | EV_PROC_STOP
            | EV_PROC_STEAL
            | EV_PROC_STATUS
            | EV_GO_CREATE
            | EV_GO_CREATE_SYSCALL
            | EV_GO_START
            | EV_GO_DESTROY
            | EV_GO_DESTROY_SYSCALL
            | EV_GO_STOP
            | EV_GO_BLOCK
            | EV_GO_UNBLOCK
            | EV_GO_SYSCALL_BEGIN
            | EV_GO_SYSCALL_END
            | EV_GO_SYSCALL_END_BLOCKED
            | EV_GO_STATUS
            | EV_GO_SWITCH
            | EV_GO_SWITCH_DESTROY
            | EV_GO_CREATE_BLOCKED
            | EV_GO_STATUS_STACK => StateTransition,
            EV_STW_BEGIN | EV_GC_BEGIN | EV_GC_SWEEP_BEGIN | EV_GC_MARK_ASSIST_BEGIN => RangeBegin,
            EV_GC_ACTIVE | EV_GC_SWEEP_ACTIVE | EV_GC_MARK_ASSIST_ACTIVE => RangeActive,
            EV_STW_END | EV_GC_END | EV_GC_SWEEP_END | EV_GC_MARK_ASSIST_END => RangeEnd,
            EV_GO_LABEL => Label,
            EV_USER_TASK_BEGIN => TaskBegin,
            EV_USER_TASK_END => TaskEnd,
            EV_USER_REGION_BEGIN => RegionBegin,
            EV_USER_REGION_END => RegionEnd,
            EV_USER_LOG => Log,
            t if t > MAX_EVENT && t < MAX_EXPERIMENTAL_EVENT => Experimental,
            _ => Bad,
        }
    }
}

static KINDS: [EventKind; 256] = {
    let mut t = [EventKind::Bad; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = EventKind::classify(i as u8);
        i += 1;
    }
    t
};

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A goroutine's state as the trace model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum GoState {
    /// Nothing is known yet (first generation of a trace that began mid-run).
    Undetermined = 0,
    /// Not created yet, or exited.
    NotExist,
    /// Ready to run, waiting for a P.
    Runnable,
    /// Running on a thread and P.
    Running,
    /// Blocked (channel, lock, network, sleep, ...).
    Waiting,
    /// In a system call or cgo call, bound to its thread.
    Syscall,
}

impl GoState {
    pub(crate) fn from_u8(v: u8) -> Option<GoState> {
        Some(match v {
            0 => GoState::Undetermined,
            1 => GoState::NotExist,
            2 => GoState::Runnable,
            3 => GoState::Running,
            4 => GoState::Waiting,
            5 => GoState::Syscall,
            _ => return None,
        })
    }

    /// From the wire's GoStatus code.
    pub(crate) fn from_status(s: u64) -> GoState {
        use gotrace_wire::spec::go_status::*;
        match s {
            RUNNABLE => GoState::Runnable,
            RUNNING => GoState::Running,
            WAITING => GoState::Waiting,
            SYSCALL => GoState::Syscall,
            _ => GoState::Undetermined,
        }
    }

    /// Running or in a syscall: bound to a thread.
    pub fn executing(self) -> bool {
        matches!(self, GoState::Running | GoState::Syscall)
    }

    /// The state's name as the reference prints it.
    pub fn name(self) -> &'static str {
        match self {
            GoState::Undetermined => "Undetermined",
            GoState::NotExist => "NotExist",
            GoState::Runnable => "Runnable",
            GoState::Running => "Running",
            GoState::Waiting => "Waiting",
            GoState::Syscall => "Syscall",
        }
    }
}

impl fmt::Display for GoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A P's state as the trace model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ProcState {
    /// Nothing is known yet.
    Undetermined = 0,
    /// Beyond GOMAXPROCS.
    NotExist,
    /// Bound to a thread (running Go code or in a syscall).
    Running,
    /// Not in use.
    Idle,
}

impl ProcState {
    pub(crate) fn from_u8(v: u8) -> Option<ProcState> {
        Some(match v {
            0 => ProcState::Undetermined,
            1 => ProcState::NotExist,
            2 => ProcState::Running,
            3 => ProcState::Idle,
            _ => return None,
        })
    }

    /// From the wire's ProcStatus code (a P in a syscall counts as running).
    pub(crate) fn from_status(s: u64) -> ProcState {
        use gotrace_wire::spec::proc_status::*;
        match s {
            RUNNING | SYSCALL => ProcState::Running,
            IDLE | SYSCALL_ABANDONED => ProcState::Idle,
            _ => ProcState::Undetermined,
        }
    }

    /// Whether the P is bound to a thread.
    pub fn executing(self) -> bool {
        self == ProcState::Running
    }

    /// The state's name as the reference prints it.
    pub fn name(self) -> &'static str {
        match self {
            ProcState::Undetermined => "Undetermined",
            ProcState::NotExist => "NotExist",
            ProcState::Running => "Running",
            ProcState::Idle => "Idle",
        }
    }
}

impl fmt::Display for ProcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of resource an ID names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// Global, not scoped to any resource.
    None,
    /// A goroutine (G).
    Goroutine,
    /// A P.
    Proc,
    /// An OS thread (M).
    Thread,
}

/// A goroutine, P or M, or no resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceId {
    /// What the ID names.
    pub kind: ResourceKind,
    /// The goroutine, P or thread ID (0 for none).
    pub id: i64,
}

impl ResourceId {
    /// No resource: a globally scoped range.
    pub const NONE: ResourceId = ResourceId {
        kind: ResourceKind::None,
        id: 0,
    };
    /// A goroutine.
    pub fn goroutine(id: GoId) -> Self {
        ResourceId {
            kind: ResourceKind::Goroutine,
            id,
        }
    }
    /// A P.
    pub fn proc(id: ProcId) -> Self {
        ResourceId {
            kind: ResourceKind::Proc,
            id,
        }
    }
    /// A thread.
    pub fn thread(id: ThreadId) -> Self {
        ResourceId {
            kind: ResourceKind::Thread,
            id,
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ResourceKind::None => f.write_str("None"),
            ResourceKind::Goroutine => write!(f, "Goroutine({})", self.id),
            ResourceKind::Proc => write!(f, "Proc({})", self.id),
            ResourceKind::Thread => write!(f, "Thread({})", self.id),
        }
    }
}

/// The scheduling context an event happened in.
// repr(C) keeps g and p adjacent and in the same order as the ordering's
// per-thread state, so the pair is copied as one 16-byte unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct SchedCtx {
    /// The running goroutine, or [`NO_GOROUTINE`].
    pub g: GoId,
    /// The thread's P, or [`NO_PROC`].
    pub p: ProcId,
    /// The thread, or [`NO_THREAD`].
    pub m: ThreadId,
}

impl SchedCtx {
    pub(crate) const NONE: SchedCtx = SchedCtx {
        g: NO_GOROUTINE,
        p: NO_PROC,
        m: NO_THREAD,
    };
}

/// An event as read from a batch, before interpretation. `args` excludes the
/// timestamp; slots past the spec's arguments carry data the ordering adds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BaseEvent {
    pub typ: u8,
    pub time: Time,
    pub args: [u64; 4],
}

impl BaseEvent {
    /// First free argument slot, where ordering smuggles extra data.
    #[inline]
    pub fn extra_index(&self) -> usize {
        spec(self.typ).map_or(0, |s| s.args.len().saturating_sub(1))
    }
}

/// One event of the ordered stream. It borrows the reader's tables, so
/// copy out what you need before reading the next event.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    pub(crate) table: Option<&'a EvTable>,
    // A reference, not a copy: events are read far more often than
    // they are fully inspected.
    pub(crate) data: &'a EventData,
}

/// An event's context and wire data, owned by the reader.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EventData {
    pub ctx: SchedCtx,
    pub base: BaseEvent,
}

impl Default for SchedCtx {
    fn default() -> Self {
        SchedCtx::NONE
    }
}

/// A metric sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// A runtime/metrics name, e.g. `/gc/heap/goal:bytes`.
    pub name: &'static str,
    /// The sampled value.
    pub value: u64,
}

/// A label applied to a goroutine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label<'a> {
    /// The label text.
    pub label: &'a [u8],
    /// The goroutine labelled.
    pub resource: ResourceId,
}

/// A named range of time, scoped to a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range<'a> {
    /// Which range.
    pub name: RangeName<'a>,
    /// The resource the range belongs to.
    pub scope: ResourceId,
}

/// A range's name: fixed for GC ranges, with a kind for stop-the-world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeName<'a> {
    /// `GC concurrent mark phase`
    GcMark,
    /// `GC incremental sweep`
    GcSweep,
    /// `GC mark assist`
    GcMarkAssist,
    /// `stop-the-world (KIND)`
    Stw(&'a [u8]),
}

impl RangeName<'_> {
    /// The name as the reference spells it.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            RangeName::GcMark => b"GC concurrent mark phase".to_vec(),
            RangeName::GcSweep => b"GC incremental sweep".to_vec(),
            RangeName::GcMarkAssist => b"GC mark assist".to_vec(),
            RangeName::Stw(k) => [&b"stop-the-world ("[..], k, b")"].concat(),
        }
    }
}

/// A runtime/trace task begin or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task<'a> {
    /// The task's ID.
    pub id: TaskId,
    /// The parent task's ID, or [`NO_TASK`].
    pub parent: TaskId,
    /// The type passed to `trace.NewTask`; empty if its begin is not in the trace.
    pub typ: &'a [u8],
}

/// A runtime/trace region begin or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region<'a> {
    /// The task the region belongs to ([`BACKGROUND_TASK`] if none).
    pub task: TaskId,
    /// The type passed to `trace.StartRegion`/`WithRegion`.
    pub typ: &'a [u8],
}

/// A `trace.Log` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Log<'a> {
    /// The task the log belongs to.
    pub task: TaskId,
    /// The category (key) passed to `trace.Log`.
    pub category: &'a [u8],
    /// The message passed to `trace.Log`.
    pub message: &'a [u8],
}

/// A state change of a goroutine or P.
#[derive(Debug, Clone, Copy)]
pub struct StateTransition<'a> {
    /// The goroutine or P changing state.
    pub resource: ResourceId,
    /// Why, for goroutines that stop or block (e.g. `chan receive`).
    pub reason: &'a [u8],
    /// The stack of the resource making the transition (e.g. a new
    /// goroutine's start), as opposed to [`Event::stack`].
    pub stack: Stack<'a>,
    old: u8,
    new: u8,
}

impl StateTransition<'_> {
    /// Goroutine states before and after. Panics on a proc transition.
    pub fn goroutine(&self) -> (GoState, GoState) {
        assert_eq!(
            self.resource.kind,
            ResourceKind::Goroutine,
            "goroutine() on a non-goroutine transition"
        );
        (
            GoState::from_u8(self.old).unwrap_or(GoState::Undetermined),
            GoState::from_u8(self.new).unwrap_or(GoState::Undetermined),
        )
    }

    /// Proc states before and after. Panics on a goroutine transition.
    pub fn proc(&self) -> (ProcState, ProcState) {
        assert_eq!(
            self.resource.kind,
            ResourceKind::Proc,
            "proc() on a non-proc transition"
        );
        (
            ProcState::from_u8(self.old).unwrap_or(ProcState::Undetermined),
            ProcState::from_u8(self.new).unwrap_or(ProcState::Undetermined),
        )
    }
}

/// A handle to a stack in a generation's stack table.
#[derive(Clone, Copy)]
pub struct Stack<'a> {
    table: Option<&'a EvTable>,
    id: u64,
}

impl PartialEq for Stack<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.table.map(|t| t as *const _) == other.table.map(|t| t as *const _)
    }
}

impl fmt::Debug for Stack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stack({})", self.id)
    }
}

/// One frame of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackFrame<'a> {
    /// The program counter.
    pub pc: u64,
    /// The function's name.
    pub func: &'a [u8],
    /// The source file.
    pub file: &'a [u8],
    /// The line in `file`.
    pub line: u64,
}

impl<'a> Stack<'a> {
    /// No stack.
    pub const NONE: Stack<'static> = Stack { table: None, id: 0 };

    /// Whether the stack has no frames.
    pub fn is_empty(&self) -> bool {
        self.id == 0
    }

    /// Whether the event has a stack at all, as distinct from an empty one:
    /// the reference prints a `Stack=` header even for an empty stack of a
    /// CPU sample or a goroutine creation.
    pub fn is_present(&self) -> bool {
        self.table.is_some() || self.id != 0
    }

    /// The stack's ID within its generation (0 for no stack).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Frames from the innermost (leaf) outwards.
    pub fn frames(&self) -> impl Iterator<Item = StackFrame<'a>> + 'a {
        let table = self.table;
        let pcs: &'a [u64] = match table {
            Some(t) if self.id != 0 => t.stack(self.id).unwrap_or(&[]),
            _ => &[],
        };
        pcs.iter().filter_map(move |&pc| {
            let t = table?;
            let f = t.pcs.get(&pc)?;
            Some(StackFrame {
                pc,
                func: t.string(f.func).unwrap_or(b""),
                file: t.string(f.file).unwrap_or(b""),
                line: f.line,
            })
        })
    }

    /// The stack's PCs, leaf first.
    pub fn pcs(&self) -> &'a [u64] {
        match self.table {
            Some(t) if self.id != 0 => t.stack(self.id).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Details of a Sync event.
#[derive(Debug, Clone)]
pub struct Sync<'a> {
    /// This is the Nth Sync of the trace.
    pub n: u64,
    /// Clock readings taken together (Go 1.25+).
    pub clock_snapshot: Option<crate::ClockSnapshot>,
    /// Unparsed experimental batches of the generation: (experiment, thread, data).
    pub experimental_batches: Vec<(&'static str, ThreadId, &'a [u8])>,
}

/// An experimental event, in raw form.
#[derive(Debug, Clone)]
pub struct ExperimentalEvent<'a> {
    /// The event's name, e.g. `HeapObjectAlloc`.
    pub name: &'static str,
    /// The experiment it belongs to, e.g. `AllocFree`.
    pub experiment: &'static str,
    /// Names of its arguments.
    pub args: &'static [&'static str],
    values: [u64; 4],
    table: Option<&'a EvTable>,
}

/// An experimental event's argument value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// A plain number.
    Uint64(u64),
    /// A string from the generation's string table.
    String(&'a [u8]),
}

impl<'a> ExperimentalEvent<'a> {
    /// The value of argument `i` (an index into `args`).
    pub fn arg_value(&self, i: usize) -> Value<'a> {
        if self.args[i].ends_with("string") {
            return Value::String(
                self.table
                    .and_then(|t| t.string(self.values[i]))
                    .unwrap_or(b""),
            );
        }
        Value::Uint64(self.values[i])
    }
}

impl<'a> Event<'a> {
    /// What kind of event this is; selects the accessor that applies.
    pub fn kind(&self) -> EventKind {
        EventKind::of(self.data.base.typ)
    }

    /// When it happened, in nanoseconds.
    pub fn time(&self) -> Time {
        self.data.base.time
    }

    /// The goroutine running when this event happened (before any transition it describes).
    pub fn goroutine(&self) -> GoId {
        self.data.ctx.g
    }

    /// The P of the thread the event happened on (before any transition it describes).
    pub fn proc(&self) -> ProcId {
        self.data.ctx.p
    }

    /// The thread the event happened on.
    pub fn thread(&self) -> ThreadId {
        self.data.ctx.m
    }

    /// Goroutine, P and thread together.
    pub fn sched_ctx(&self) -> SchedCtx {
        self.data.ctx
    }

    /// The wire event type this event came from (255 for Sync).
    pub fn wire_type(&self) -> u8 {
        self.data.base.typ
    }

    fn string(&self, id: u64) -> &'a [u8] {
        self.table.and_then(|t| t.string(id)).unwrap_or(b"")
    }

    /// The stack of the current execution context at this event.
    pub fn stack(&self) -> Stack<'a> {
        let typ = self.data.base.typ;
        if typ == EV_SYNC_EVENT {
            return Stack::NONE;
        }
        if typ == EV_CPU_SAMPLE {
            return Stack {
                table: self.table,
                id: self.data.base.args[0],
            };
        }
        let id = {
            match spec(typ).and_then(|s| s.stack_ids.first()) {
                Some(&i) => self.data.base.args[i - 1],
                None => 0,
            }
        };
        Stack {
            table: if id == 0 { None } else { self.table },
            id,
        }
    }

    /// The metric sample, for [`EventKind::Metric`].
    pub fn metric(&self) -> Option<Metric> {
        let name = match self.data.base.typ {
            EV_PROCS_CHANGE => "/sched/gomaxprocs:threads",
            EV_HEAP_ALLOC => "/memory/classes/heap/objects:bytes",
            EV_HEAP_GOAL => "/gc/heap/goal:bytes",
            _ => return None,
        };
        Some(Metric {
            name,
            value: self.data.base.args[0],
        })
    }

    /// The label, for [`EventKind::Label`].
    pub fn label(&self) -> Option<Label<'a>> {
        (self.data.base.typ == EV_GO_LABEL).then(|| Label {
            label: self.string(self.data.base.args[0]),
            resource: ResourceId::goroutine(self.data.ctx.g),
        })
    }

    /// The range, for [`EventKind::RangeBegin`], `RangeActive` and `RangeEnd`.
    pub fn range(&self) -> Option<Range<'a>> {
        let b = &self.data.base;
        Some(match b.typ {
            EV_STW_BEGIN | EV_STW_END => Range {
                name: RangeName::Stw(self.string(b.args[0])),
                scope: ResourceId::goroutine(self.data.ctx.g),
            },
            EV_GC_BEGIN | EV_GC_ACTIVE | EV_GC_END => Range {
                name: RangeName::GcMark,
                scope: ResourceId::NONE,
            },
            EV_GC_SWEEP_ACTIVE => Range {
                name: RangeName::GcSweep,
                scope: ResourceId::proc(b.args[0] as i64),
            },
            EV_GC_SWEEP_BEGIN | EV_GC_SWEEP_END => Range {
                name: RangeName::GcSweep,
                scope: ResourceId::proc(self.data.ctx.p),
            },
            EV_GC_MARK_ASSIST_ACTIVE => Range {
                name: RangeName::GcMarkAssist,
                scope: ResourceId::goroutine(b.args[0] as i64),
            },
            EV_GC_MARK_ASSIST_BEGIN | EV_GC_MARK_ASSIST_END => Range {
                name: RangeName::GcMarkAssist,
                scope: ResourceId::goroutine(self.data.ctx.g),
            },
            _ => return None,
        })
    }

    /// Attributes of a completed range: bytes swept and reclaimed for sweeps.
    pub fn range_attributes(&self) -> Vec<(&'static str, u64)> {
        if self.data.base.typ != EV_GC_SWEEP_END {
            return Vec::new();
        }
        vec![
            ("bytes swept", self.data.base.args[0]),
            ("bytes reclaimed", self.data.base.args[1]),
        ]
    }

    /// The task, for [`EventKind::TaskBegin`] and `TaskEnd`.
    pub fn task(&self) -> Option<Task<'a>> {
        let b = &self.data.base;
        match b.typ {
            EV_USER_TASK_BEGIN => Some(Task {
                id: b.args[0],
                parent: b.args[1],
                typ: self.string(b.args[2]),
            }),
            EV_USER_TASK_END => {
                let x = b.extra_index();
                let typ = self
                    .table
                    .map_or(&b""[..], |t| t.extra_string(b.args[x + 1]));
                Some(Task {
                    id: b.args[0],
                    parent: b.args[x],
                    typ,
                })
            }
            _ => None,
        }
    }

    /// The region, for [`EventKind::RegionBegin`] and `RegionEnd`.
    pub fn region(&self) -> Option<Region<'a>> {
        matches!(
            self.data.base.typ,
            EV_USER_REGION_BEGIN | EV_USER_REGION_END
        )
        .then(|| Region {
            task: self.data.base.args[0],
            typ: self.string(self.data.base.args[1]),
        })
    }

    /// The log message, for [`EventKind::Log`].
    pub fn log(&self) -> Option<Log<'a>> {
        (self.data.base.typ == EV_USER_LOG).then(|| Log {
            task: self.data.base.args[0],
            category: self.string(self.data.base.args[1]),
            message: self.string(self.data.base.args[2]),
        })
    }

    /// The state change, for [`EventKind::StateTransition`].
    pub fn state_transition(&self) -> Option<StateTransition<'a>> {
        use GoState as G;
        use ProcState as P;
        let b = &self.data.base;
        let go = |id: i64, old: G, new: G| StateTransition {
            resource: ResourceId::goroutine(id),
            reason: b"",
            stack: Stack::NONE,
            old: old as u8,
            new: new as u8,
        };
        let pr = |id: i64, old: P, new: P| StateTransition {
            resource: ResourceId::proc(id),
            reason: b"",
            stack: Stack::NONE,
            old: old as u8,
            new: new as u8,
        };
        let ctx = self.data.ctx;
        Some(match b.typ {
            EV_PROC_START => pr(b.args[0] as i64, P::Idle, P::Running),
            EV_PROC_STOP => pr(ctx.p, P::Running, P::Idle),
            EV_PROC_STEAL => {
                let before = if b.args[b.extra_index()] == proc_status::SYSCALL_ABANDONED {
                    P::Idle
                } else {
                    P::Running
                };
                pr(b.args[0] as i64, before, P::Idle)
            }
            EV_PROC_STATUS => {
                let old = P::from_u8(b.args[b.extra_index()] as u8).unwrap_or(P::Undetermined);
                pr(b.args[0] as i64, old, P::from_status(b.args[1]))
            }
            EV_GO_CREATE | EV_GO_CREATE_BLOCKED => {
                let new = if b.typ == EV_GO_CREATE_BLOCKED {
                    G::Waiting
                } else {
                    G::Runnable
                };
                let mut s = go(b.args[0] as i64, G::NotExist, new);
                s.stack = Stack {
                    table: self.table,
                    id: b.args[1],
                };
                s
            }
            EV_GO_CREATE_SYSCALL => go(b.args[0] as i64, G::NotExist, G::Syscall),
            EV_GO_START => go(b.args[0] as i64, G::Runnable, G::Running),
            EV_GO_DESTROY => go(ctx.g, G::Running, G::NotExist),
            EV_GO_DESTROY_SYSCALL => go(ctx.g, G::Syscall, G::NotExist),
            EV_GO_STOP | EV_GO_BLOCK => {
                let new = if b.typ == EV_GO_STOP {
                    G::Runnable
                } else {
                    G::Waiting
                };
                let mut s = go(ctx.g, G::Running, new);
                s.reason = self.string(b.args[0]);
                s.stack = self.stack();
                s
            }
            EV_GO_UNBLOCK | EV_GO_SWITCH | EV_GO_SWITCH_DESTROY => {
                go(b.args[0] as i64, G::Waiting, G::Runnable)
            }
            EV_GO_SYSCALL_BEGIN => {
                let mut s = go(ctx.g, G::Running, G::Syscall);
                s.stack = self.stack();
                s
            }
            EV_GO_SYSCALL_END => go(ctx.g, G::Syscall, G::Running),
            EV_GO_SYSCALL_END_BLOCKED => go(ctx.g, G::Syscall, G::Runnable),
            EV_GO_STATUS | EV_GO_STATUS_STACK => {
                let packed = b.args[2];
                let old = G::from_u8((packed >> 32) as u8).unwrap_or(G::Undetermined);
                let mut s = go(b.args[0] as i64, old, G::from_status(packed & 0xffff_ffff));
                s.stack = self.stack();
                s
            }
            _ => return None,
        })
    }

    /// Generation-wide details, for [`EventKind::Sync`].
    pub fn sync(&self) -> Option<Sync<'a>> {
        if self.data.base.typ != EV_SYNC_EVENT {
            return None;
        }
        let mut s = Sync {
            n: self.data.base.args[0],
            clock_snapshot: None,
            experimental_batches: Vec::new(),
        };
        if let Some(t) = self.table {
            s.clock_snapshot = t.clock;
            for (exp, m, r) in &t.exp_batches {
                let name = EXPERIMENTS.get(*exp as usize).copied().unwrap_or("Unknown");
                s.experimental_batches
                    .push((name, *m, &t.bytes[r.start as usize..r.end as usize]));
            }
        }
        Some(s)
    }

    /// The raw event, for [`EventKind::Experimental`].
    pub fn experimental(&self) -> Option<ExperimentalEvent<'a>> {
        if self.kind() != EventKind::Experimental {
            return None;
        }
        let spec = spec(self.data.base.typ)?;
        Some(ExperimentalEvent {
            name: spec.name,
            experiment: EXPERIMENTS
                .get(spec.experiment as usize)
                .copied()
                .unwrap_or("Unknown"),
            args: &spec.args[1..],
            values: self.data.base.args,
            table: self.table,
        })
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_go_string()))
    }
}

/// Prints the event exactly as the reference's `Event.String` does.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_go_string()))
    }
}
