//! v1 event types (Go 1.11–1.21 `runtime/trace.go`) and the parsed event.

pub(super) const EV_NONE: u8 = 0;
pub(super) const EV_BATCH: u8 = 1;
pub(super) const EV_FREQUENCY: u8 = 2;
pub(super) const EV_STACK: u8 = 3;
pub(super) const EV_GOMAXPROCS: u8 = 4;
pub(super) const EV_PROC_START: u8 = 5;
pub(super) const EV_PROC_STOP: u8 = 6;
pub(super) const EV_GC_START: u8 = 7;
pub(super) const EV_GC_DONE: u8 = 8;
pub(super) const EV_STW_START: u8 = 9;
pub(super) const EV_STW_DONE: u8 = 10;
pub(super) const EV_GC_SWEEP_START: u8 = 11;
pub(super) const EV_GC_SWEEP_DONE: u8 = 12;
pub(super) const EV_GO_CREATE: u8 = 13;
pub(super) const EV_GO_START: u8 = 14;
pub(super) const EV_GO_END: u8 = 15;
pub(super) const EV_GO_STOP: u8 = 16;
pub(super) const EV_GO_SCHED: u8 = 17;
pub(super) const EV_GO_PREEMPT: u8 = 18;
pub(super) const EV_GO_SLEEP: u8 = 19;
pub(super) const EV_GO_BLOCK: u8 = 20;
pub(super) const EV_GO_UNBLOCK: u8 = 21;
pub(super) const EV_GO_BLOCK_SEND: u8 = 22;
pub(super) const EV_GO_BLOCK_RECV: u8 = 23;
pub(super) const EV_GO_BLOCK_SELECT: u8 = 24;
pub(super) const EV_GO_BLOCK_SYNC: u8 = 25;
pub(super) const EV_GO_BLOCK_COND: u8 = 26;
pub(super) const EV_GO_BLOCK_NET: u8 = 27;
pub(super) const EV_GO_SYS_CALL: u8 = 28;
pub(super) const EV_GO_SYS_EXIT: u8 = 29;
pub(super) const EV_GO_SYS_BLOCK: u8 = 30;
pub(super) const EV_GO_WAITING: u8 = 31;
pub(super) const EV_GO_IN_SYSCALL: u8 = 32;
pub(super) const EV_HEAP_ALLOC: u8 = 33;
pub(super) const EV_HEAP_GOAL: u8 = 34;
pub(super) const EV_TIMER_GOROUTINE: u8 = 35;
#[allow(dead_code)]
pub(super) const EV_FUTILE_WAKEUP: u8 = 36;
pub(super) const EV_STRING: u8 = 37;
pub(super) const EV_GO_START_LOCAL: u8 = 38;
pub(super) const EV_GO_UNBLOCK_LOCAL: u8 = 39;
pub(super) const EV_GO_SYS_EXIT_LOCAL: u8 = 40;
pub(super) const EV_GO_START_LABEL: u8 = 41;
pub(super) const EV_GO_BLOCK_GC: u8 = 42;
pub(super) const EV_GC_MARK_ASSIST_START: u8 = 43;
pub(super) const EV_GC_MARK_ASSIST_DONE: u8 = 44;
pub(super) const EV_USER_TASK_CREATE: u8 = 45;
pub(super) const EV_USER_TASK_END: u8 = 46;
pub(super) const EV_USER_REGION: u8 = 47;
pub(super) const EV_USER_LOG: u8 = 48;
pub(super) const EV_CPU_SAMPLE: u8 = 49;
pub(super) const EV_COUNT: u8 = 50;

/// What the reference's `EventDescriptions` says about an event type.
pub(super) struct Desc {
    pub name: &'static str,
    pub min_version: u8,
    /// The last argument is a stack ID.
    pub stack: bool,
    pub args: &'static [&'static str],
}

const fn d(
    name: &'static str,
    min_version: u8,
    stack: bool,
    args: &'static [&'static str],
) -> Desc {
    Desc {
        name,
        min_version,
        stack,
        args,
    }
}

pub(super) static DESCS: [Desc; EV_COUNT as usize] = [
    d("None", 5, false, &[]),
    d("Batch", 5, false, &["p", "ticks"]),
    d("Frequency", 5, false, &["freq"]),
    d("Stack", 5, false, &["id", "siz"]),
    d("Gomaxprocs", 5, true, &["procs"]),
    d("ProcStart", 5, false, &["thread"]),
    d("ProcStop", 5, false, &[]),
    d("GCStart", 5, true, &["seq"]),
    d("GCDone", 5, false, &[]),
    d("GCSTWStart", 5, false, &["kindid"]),
    d("GCSTWDone", 5, false, &[]),
    d("GCSweepStart", 5, true, &[]),
    d("GCSweepDone", 5, false, &["swept", "reclaimed"]),
    d("GoCreate", 5, true, &["g", "stack"]),
    d("GoStart", 5, false, &["g", "seq"]),
    d("GoEnd", 5, false, &[]),
    d("GoStop", 5, true, &[]),
    d("GoSched", 5, true, &[]),
    d("GoPreempt", 5, true, &[]),
    d("GoSleep", 5, true, &[]),
    d("GoBlock", 5, true, &[]),
    d("GoUnblock", 5, true, &["g", "seq"]),
    d("GoBlockSend", 5, true, &[]),
    d("GoBlockRecv", 5, true, &[]),
    d("GoBlockSelect", 5, true, &[]),
    d("GoBlockSync", 5, true, &[]),
    d("GoBlockCond", 5, true, &[]),
    d("GoBlockNet", 5, true, &[]),
    d("GoSysCall", 5, true, &[]),
    d("GoSysExit", 5, false, &["g", "seq", "ts"]),
    d("GoSysBlock", 5, false, &[]),
    d("GoWaiting", 5, false, &["g"]),
    d("GoInSyscall", 5, false, &["g"]),
    d("HeapAlloc", 5, false, &["mem"]),
    d("HeapGoal", 5, false, &["mem"]),
    d("TimerGoroutine", 5, false, &["g"]),
    d("FutileWakeup", 5, false, &[]),
    d("String", 7, false, &[]),
    d("GoStartLocal", 7, false, &["g"]),
    d("GoUnblockLocal", 7, true, &["g"]),
    d("GoSysExitLocal", 7, false, &["g", "ts"]),
    d("GoStartLabel", 8, false, &["g", "seq", "labelid"]),
    d("GoBlockGC", 8, true, &[]),
    d("GCMarkAssistStart", 9, true, &[]),
    d("GCMarkAssistDone", 9, false, &[]),
    d("UserTaskCreate", 11, true, &["taskid", "pid", "typeid"]),
    d("UserTaskEnd", 11, true, &["taskid"]),
    d("UserRegion", 11, true, &["taskid", "mode", "typeid"]),
    d("UserLog", 11, true, &["id", "keyid"]),
    d("CPUSample", 19, true, &["ts", "p", "g"]),
];

/// A parsed v1 event (the reference's `tracev1.Event`). The reference keeps
/// four arguments; no event has more than three, except that UserLog's
/// message index (the reference's `Args[3]`) is kept in `args[2]`, which
/// UserLog does not otherwise use. For GoSysCall, `args[0]` records whether
/// the next event of the goroutine is a GoSysBlock (the syscall blocked).
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Ev {
    /// Ticks while ordering, nanoseconds after.
    pub ts: i64,
    pub g: u64,
    pub args: [u64; 3],
    pub stk: u32,
    pub p: i32,
    pub(super) off_lo: u32,
    pub(super) off_hi: u16,
    pub typ: u8,
}

impl Ev {
    /// Byte offset of the event in the input.
    #[inline]
    pub fn off(&self) -> usize {
        ((self.off_hi as u64) << 32 | self.off_lo as u64) as usize
    }

    #[inline]
    pub fn set_off(&mut self, off: usize) {
        let off = off as u64;
        self.off_lo = off as u32;
        self.off_hi = (off >> 32).min(u16::MAX as u64) as u16;
    }
}
