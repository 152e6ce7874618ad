//! Event types and their wire specifications (Go's `internal/trace/tracev2`).
//!
//! The table is shared by every v2 format version; a [`Version`](crate::Version)
//! only limits how many of its entries are valid.

/// Wire-format event type byte.
pub type EventType = u8;

// Each constant's name says what it is; see Go's tracev2 for details.
macro_rules! event_types {
    ($($(#[$m:meta])* $name:ident = $val:expr;)*) => {
        $($(#[$m])* #[allow(missing_docs)] pub const $name: EventType = $val;)*
    };
}

event_types! {
    EV_NONE = 0;
    EV_EVENT_BATCH = 1;
    EV_STACKS = 2;
    EV_STACK = 3;
    EV_STRINGS = 4;
    EV_STRING = 5;
    EV_CPU_SAMPLES = 6;
    EV_CPU_SAMPLE = 7;
    EV_FREQUENCY = 8;
    EV_PROCS_CHANGE = 9;
    EV_PROC_START = 10;
    EV_PROC_STOP = 11;
    EV_PROC_STEAL = 12;
    EV_PROC_STATUS = 13;
    EV_GO_CREATE = 14;
    EV_GO_CREATE_SYSCALL = 15;
    EV_GO_START = 16;
    EV_GO_DESTROY = 17;
    EV_GO_DESTROY_SYSCALL = 18;
    EV_GO_STOP = 19;
    EV_GO_BLOCK = 20;
    EV_GO_UNBLOCK = 21;
    EV_GO_SYSCALL_BEGIN = 22;
    EV_GO_SYSCALL_END = 23;
    EV_GO_SYSCALL_END_BLOCKED = 24;
    EV_GO_STATUS = 25;
    EV_STW_BEGIN = 26;
    EV_STW_END = 27;
    EV_GC_ACTIVE = 28;
    EV_GC_BEGIN = 29;
    EV_GC_END = 30;
    EV_GC_SWEEP_ACTIVE = 31;
    EV_GC_SWEEP_BEGIN = 32;
    EV_GC_SWEEP_END = 33;
    EV_GC_MARK_ASSIST_ACTIVE = 34;
    EV_GC_MARK_ASSIST_BEGIN = 35;
    EV_GC_MARK_ASSIST_END = 36;
    EV_HEAP_ALLOC = 37;
    EV_HEAP_GOAL = 38;
    EV_GO_LABEL = 39;
    EV_USER_TASK_BEGIN = 40;
    EV_USER_TASK_END = 41;
    EV_USER_REGION_BEGIN = 42;
    EV_USER_REGION_END = 43;
    EV_USER_LOG = 44;
    EV_GO_SWITCH = 45;
    EV_GO_SWITCH_DESTROY = 46;
    EV_GO_CREATE_BLOCKED = 47;
    EV_GO_STATUS_STACK = 48;
    EV_EXPERIMENTAL_BATCH = 49;
    EV_SYNC = 50;
    EV_CLOCK_SNAPSHOT = 51;
    EV_END_OF_GENERATION = 52;
    /// One past the last non-experimental event type.
    NUM_EVENTS = 53;
    /// Experimental event types live in (MAX_EVENT, MAX_EXPERIMENTAL_EVENT).
    MAX_EVENT = 127;
    EV_SPAN = 128;
    EV_SPAN_ALLOC = 129;
    EV_SPAN_FREE = 130;
    EV_HEAP_OBJECT = 131;
    EV_HEAP_OBJECT_ALLOC = 132;
    EV_HEAP_OBJECT_FREE = 133;
    EV_GOROUTINE_STACK = 134;
    EV_GOROUTINE_STACK_ALLOC = 135;
    EV_GOROUTINE_STACK_FREE = 136;
    MAX_EXPERIMENTAL_EVENT = 137;
}

/// Experiment ID carried by experimental batches and events.
pub type Experiment = u8;
/// Not an experimental batch or event.
pub const NO_EXPERIMENT: Experiment = 0;
/// The alloc/free experiment (`GOEXPERIMENT=allocfreetrace`-style heap events).
pub const EXPERIMENT_ALLOC_FREE: Experiment = 1;

/// Names of experiments, indexed by [`Experiment`].
pub const EXPERIMENTS: &[&str] = &["None", "AllocFree"];

/// The largest number of arguments (timestamp included) a timed event has.
pub const MAX_TIMED_EVENT_ARGS: usize = 5;
/// The runtime never writes a batch larger than this.
pub const MAX_BATCH_SIZE: u64 = 64 << 10;
/// The runtime never writes more frames per stack than this.
pub const MAX_FRAMES_PER_STACK: u64 = 128;
/// The runtime never writes a string longer than this.
pub const MAX_EVENT_TRAILER_DATA_SIZE: u64 = 1 << 10;

/// How one event type is laid out on the wire and what its arguments mean.
#[derive(Debug, Clone, Copy)]
pub struct EventSpec {
    /// The event's name, as the reference prints it.
    pub name: &'static str,
    /// Argument names; a `_string`/`_stack`/... suffix gives the type.
    pub args: &'static [&'static str],
    /// Indices into `args` that are string IDs.
    pub string_ids: &'static [usize],
    /// Indices into `args` that are stack IDs; the first is the event's own stack.
    pub stack_ids: &'static [usize],
    /// For an "end" event, the matching "begin" event type.
    pub start_ev: EventType,
    /// Appears in per-M batches with a timestamp delta as its first argument.
    pub is_timed: bool,
    /// Followed by a length-prefixed byte trailer.
    pub has_data: bool,
    /// Followed by `nframes` groups of (pc, func, file, line).
    pub is_stack: bool,
    /// The experiment an experimental event belongs to.
    pub experiment: Experiment,
}

const EMPTY: EventSpec = EventSpec {
    name: "",
    args: &[],
    string_ids: &[],
    stack_ids: &[],
    start_ev: EV_NONE,
    is_timed: false,
    has_data: false,
    is_stack: false,
    experiment: NO_EXPERIMENT,
};

const fn timed(name: &'static str, args: &'static [&'static str]) -> EventSpec {
    EventSpec {
        name,
        args,
        is_timed: true,
        ..EMPTY
    }
}

const fn with_stacks(mut s: EventSpec, stack_ids: &'static [usize]) -> EventSpec {
    s.stack_ids = stack_ids;
    s
}

const fn with_strings(mut s: EventSpec, string_ids: &'static [usize]) -> EventSpec {
    s.string_ids = string_ids;
    s
}

const fn ends(mut s: EventSpec, start: EventType) -> EventSpec {
    s.start_ev = start;
    s
}

const fn experimental(name: &'static str, args: &'static [&'static str]) -> EventSpec {
    EventSpec {
        name,
        args,
        is_timed: true,
        experiment: EXPERIMENT_ALLOC_FREE,
        ..EMPTY
    }
}

const fn build_specs() -> [EventSpec; MAX_EXPERIMENTAL_EVENT as usize] {
    let mut s = [EMPTY; MAX_EXPERIMENTAL_EVENT as usize];
    s[EV_EVENT_BATCH as usize] = EventSpec {
        name: "EventBatch",
        args: &["gen", "m", "time", "size"],
        ..EMPTY
    };
    s[EV_STACKS as usize] = EventSpec {
        name: "Stacks",
        ..EMPTY
    };
    s[EV_STACK as usize] = EventSpec {
        name: "Stack",
        args: &["id", "nframes"],
        is_stack: true,
        ..EMPTY
    };
    s[EV_STRINGS as usize] = EventSpec {
        name: "Strings",
        ..EMPTY
    };
    s[EV_STRING as usize] = EventSpec {
        name: "String",
        args: &["id"],
        has_data: true,
        ..EMPTY
    };
    s[EV_CPU_SAMPLES as usize] = EventSpec {
        name: "CPUSamples",
        ..EMPTY
    };
    s[EV_CPU_SAMPLE as usize] = EventSpec {
        name: "CPUSample",
        args: &["time", "m", "p", "g", "stack"],
        stack_ids: &[4],
        ..EMPTY
    };
    s[EV_FREQUENCY as usize] = EventSpec {
        name: "Frequency",
        args: &["freq"],
        ..EMPTY
    };
    s[EV_EXPERIMENTAL_BATCH as usize] = EventSpec {
        name: "ExperimentalBatch",
        args: &["exp", "gen", "m", "time"],
        has_data: true,
        ..EMPTY
    };
    s[EV_SYNC as usize] = EventSpec {
        name: "Sync",
        ..EMPTY
    };
    s[EV_END_OF_GENERATION as usize] = EventSpec {
        name: "EndOfGeneration",
        ..EMPTY
    };

    s[EV_PROCS_CHANGE as usize] =
        with_stacks(timed("ProcsChange", &["dt", "procs_value", "stack"]), &[2]);
    s[EV_PROC_START as usize] = timed("ProcStart", &["dt", "p", "p_seq"]);
    s[EV_PROC_STOP as usize] = timed("ProcStop", &["dt"]);
    s[EV_PROC_STEAL as usize] = timed("ProcSteal", &["dt", "p", "p_seq", "m"]);
    s[EV_PROC_STATUS as usize] = timed("ProcStatus", &["dt", "p", "pstatus"]);
    s[EV_GO_CREATE as usize] = with_stacks(
        timed("GoCreate", &["dt", "new_g", "new_stack", "stack"]),
        &[3, 2],
    );
    s[EV_GO_CREATE_SYSCALL as usize] = timed("GoCreateSyscall", &["dt", "new_g"]);
    s[EV_GO_START as usize] = timed("GoStart", &["dt", "g", "g_seq"]);
    s[EV_GO_DESTROY as usize] = timed("GoDestroy", &["dt"]);
    s[EV_GO_DESTROY_SYSCALL as usize] = timed("GoDestroySyscall", &["dt"]);
    s[EV_GO_STOP as usize] = with_strings(
        with_stacks(timed("GoStop", &["dt", "reason_string", "stack"]), &[2]),
        &[1],
    );
    s[EV_GO_BLOCK as usize] = with_strings(
        with_stacks(timed("GoBlock", &["dt", "reason_string", "stack"]), &[2]),
        &[1],
    );
    s[EV_GO_UNBLOCK as usize] =
        with_stacks(timed("GoUnblock", &["dt", "g", "g_seq", "stack"]), &[3]);
    s[EV_GO_SYSCALL_BEGIN as usize] =
        with_stacks(timed("GoSyscallBegin", &["dt", "p_seq", "stack"]), &[2]);
    s[EV_GO_SYSCALL_END as usize] = ends(timed("GoSyscallEnd", &["dt"]), EV_GO_SYSCALL_BEGIN);
    s[EV_GO_SYSCALL_END_BLOCKED as usize] =
        ends(timed("GoSyscallEndBlocked", &["dt"]), EV_GO_SYSCALL_BEGIN);
    s[EV_GO_STATUS as usize] = timed("GoStatus", &["dt", "g", "m", "gstatus"]);
    s[EV_STW_BEGIN as usize] = with_strings(
        with_stacks(timed("STWBegin", &["dt", "kind_string", "stack"]), &[2]),
        &[1],
    );
    s[EV_STW_END as usize] = ends(timed("STWEnd", &["dt"]), EV_STW_BEGIN);
    s[EV_GC_ACTIVE as usize] = ends(timed("GCActive", &["dt", "gc_seq"]), EV_GC_BEGIN);
    s[EV_GC_BEGIN as usize] = with_stacks(timed("GCBegin", &["dt", "gc_seq", "stack"]), &[2]);
    s[EV_GC_END as usize] = ends(timed("GCEnd", &["dt", "gc_seq"]), EV_GC_BEGIN);
    s[EV_GC_SWEEP_ACTIVE as usize] = ends(timed("GCSweepActive", &["dt", "p"]), EV_GC_SWEEP_BEGIN);
    s[EV_GC_SWEEP_BEGIN as usize] = with_stacks(timed("GCSweepBegin", &["dt", "stack"]), &[1]);
    s[EV_GC_SWEEP_END as usize] = ends(
        timed("GCSweepEnd", &["dt", "swept_value", "reclaimed_value"]),
        EV_GC_SWEEP_BEGIN,
    );
    s[EV_GC_MARK_ASSIST_ACTIVE as usize] = ends(
        timed("GCMarkAssistActive", &["dt", "g"]),
        EV_GC_MARK_ASSIST_BEGIN,
    );
    s[EV_GC_MARK_ASSIST_BEGIN as usize] =
        with_stacks(timed("GCMarkAssistBegin", &["dt", "stack"]), &[1]);
    s[EV_GC_MARK_ASSIST_END as usize] =
        ends(timed("GCMarkAssistEnd", &["dt"]), EV_GC_MARK_ASSIST_BEGIN);
    s[EV_HEAP_ALLOC as usize] = timed("HeapAlloc", &["dt", "heapalloc_value"]);
    s[EV_HEAP_GOAL as usize] = timed("HeapGoal", &["dt", "heapgoal_value"]);
    s[EV_GO_LABEL as usize] = with_strings(timed("GoLabel", &["dt", "label_string"]), &[1]);
    s[EV_USER_TASK_BEGIN as usize] = with_strings(
        with_stacks(
            timed(
                "UserTaskBegin",
                &["dt", "task", "parent_task", "name_string", "stack"],
            ),
            &[4],
        ),
        &[3],
    );
    s[EV_USER_TASK_END as usize] =
        with_stacks(timed("UserTaskEnd", &["dt", "task", "stack"]), &[2]);
    s[EV_USER_REGION_BEGIN as usize] = with_strings(
        with_stacks(
            timed("UserRegionBegin", &["dt", "task", "name_string", "stack"]),
            &[3],
        ),
        &[2],
    );
    s[EV_USER_REGION_END as usize] = ends(
        with_strings(
            with_stacks(
                timed("UserRegionEnd", &["dt", "task", "name_string", "stack"]),
                &[3],
            ),
            &[2],
        ),
        EV_USER_REGION_BEGIN,
    );
    s[EV_USER_LOG as usize] = with_strings(
        with_stacks(
            timed(
                "UserLog",
                &["dt", "task", "key_string", "value_string", "stack"],
            ),
            &[4],
        ),
        &[2, 3],
    );
    s[EV_GO_SWITCH as usize] = timed("GoSwitch", &["dt", "g", "g_seq"]);
    s[EV_GO_SWITCH_DESTROY as usize] = timed("GoSwitchDestroy", &["dt", "g", "g_seq"]);
    s[EV_GO_CREATE_BLOCKED as usize] = with_stacks(
        timed("GoCreateBlocked", &["dt", "new_g", "new_stack", "stack"]),
        &[3, 2],
    );
    s[EV_GO_STATUS_STACK as usize] = with_stacks(
        timed("GoStatusStack", &["dt", "g", "m", "gstatus", "stack"]),
        &[4],
    );
    s[EV_CLOCK_SNAPSHOT as usize] = timed("ClockSnapshot", &["dt", "mono", "sec", "nsec"]);

    s[EV_SPAN as usize] = experimental("Span", &["dt", "id", "npages_value", "kindclass"]);
    s[EV_SPAN_ALLOC as usize] =
        experimental("SpanAlloc", &["dt", "id", "npages_value", "kindclass"]);
    s[EV_SPAN_FREE as usize] = experimental("SpanFree", &["dt", "id"]);
    s[EV_HEAP_OBJECT as usize] = experimental("HeapObject", &["dt", "id", "type"]);
    s[EV_HEAP_OBJECT_ALLOC as usize] = experimental("HeapObjectAlloc", &["dt", "id", "type"]);
    s[EV_HEAP_OBJECT_FREE as usize] = experimental("HeapObjectFree", &["dt", "id"]);
    s[EV_GOROUTINE_STACK as usize] = experimental("GoroutineStack", &["dt", "id", "order"]);
    s[EV_GOROUTINE_STACK_ALLOC as usize] =
        experimental("GoroutineStackAlloc", &["dt", "id", "order"]);
    s[EV_GOROUTINE_STACK_FREE as usize] = experimental("GoroutineStackFree", &["dt", "id"]);
    s
}

/// Every event spec, indexed by [`EventType`]; see [`specs`].
pub static SPECS: [EventSpec; MAX_EXPERIMENTAL_EVENT as usize] = build_specs();

/// Every event spec, indexed by [`EventType`]. Unused slots have an empty name.
pub fn specs() -> &'static [EventSpec] {
    &SPECS
}

/// The spec for `typ`, if `typ` is a type any v2 version defines.
pub fn spec(typ: EventType) -> Option<&'static EventSpec> {
    SPECS.get(typ as usize).filter(|s| !s.name.is_empty())
}

/// Goroutine status as written in GoStatus events.
pub mod go_status {
    /// Not a valid status.
    pub const BAD: u64 = 0;
    /// Ready to run.
    pub const RUNNABLE: u64 = 1;
    /// Running.
    pub const RUNNING: u64 = 2;
    /// In a syscall.
    pub const SYSCALL: u64 = 3;
    /// Blocked.
    pub const WAITING: u64 = 4;

    /// The status's name, as the reference prints it.
    pub fn name(s: u64) -> &'static str {
        match s {
            RUNNABLE => "Runnable",
            RUNNING => "Running",
            SYSCALL => "Syscall",
            WAITING => "Waiting",
            _ => "Bad",
        }
    }
}

/// Proc status as written in ProcStatus events.
pub mod proc_status {
    /// Not a valid status.
    pub const BAD: u64 = 0;
    /// Bound to a thread, running Go code.
    pub const RUNNING: u64 = 1;
    /// Not in use.
    pub const IDLE: u64 = 2;
    /// Bound to a thread in a syscall.
    pub const SYSCALL: u64 = 3;
    /// The P was in a syscall when first mentioned by a ProcSteal, so no
    /// GoSyscallBegin exists to match it with.
    pub const SYSCALL_ABANDONED: u64 = 4;

    /// The status's name, as the reference prints it.
    pub fn name(s: u64) -> &'static str {
        match s {
            RUNNING => "Running",
            IDLE => "Idle",
            SYSCALL => "Syscall",
            SYSCALL_ABANDONED => "SyscallAbandoned",
            _ => "Bad",
        }
    }
}
