//! Go 1.11–1.21 traces (the v1 formats, headers `go 1.11/1.19/1.21 trace`):
//! parsing, their global ordering, and conversion into the v2 event model,
//! as the reference's `internal/trace/internal/tracev1` and `tracev1.go` do.
//!
//! The whole trace is parsed and ordered up front (`parse`, kept compactly
//! in a `store`); events are then converted one at a time. The trace becomes
//! one big generation with a single table.

mod ev;
mod parse;
mod store;

use self::ev::*;
use self::parse::{format_err, Parsed, Parser};
use self::store::{Cursor, Store, View};
use crate::error::Error;
use crate::event::{BaseEvent, SchedCtx, Time, NO_GOROUTINE, NO_TASK, NO_THREAD};
use crate::source::GenBytes;
use crate::table::{EvTable, FrameInfo};
use gotrace_wire::spec::{self as s, go_status, proc_status};
use gotrace_wire::Version;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;

// Strings the converter emits itself, by offset from the first builtin ID.
const S_FOREVER: u64 = 0;
const S_PREEMPTED: u64 = 1;
const S_GOSCHED: u64 = 2;
const S_SLEEP: u64 = 3;
const S_CHAN_SEND: u64 = 4;
const S_CHAN_RECV: u64 = 5;
const S_NETWORK: u64 = 6;
const S_SYNC: u64 = 7;
const S_SYNC_COND: u64 = 8;
const S_SELECT: u64 = 9;
const S_EMPTY: u64 = 10;
const S_MARK_ASSIST_WAIT: u64 = 11;
const S_STW_UNKNOWN: u64 = 12;

const BUILTINS: [&str; 29] = [
    "forever",
    "preempted",
    "runtime.Gosched",
    "sleep",
    "chan send",
    "chan receive",
    "network",
    "sync",
    "sync.(*Cond).Wait",
    "select",
    "",
    "GC mark assist wait for work",
    // Stop-the-world reasons, from S_STW_UNKNOWN on.
    "",
    "GC mark termination",
    "GC sweep termination",
    "write heap dump",
    "goroutine profile",
    "goroutine profile cleanup",
    "all goroutine stack trace",
    "read mem stats",
    "AllThreadsSyscall",
    "GOMAXPROCS",
    "start trace",
    "stop trace",
    "CountPagesInUse (test)",
    "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)",
    "PageCachePagesLeaked (test)",
    "ResetDebugLog (test)",
];
const NUM_STW_REASONS: u64 = 17;

/// Goroutines created before tracing started whose state is not known yet,
/// iterated like the reference's small Go map (`map[GoID]struct{}`) with an
/// iteration offset of 0: a slot array of 8 where deletions free slots and
/// insertions take the first free one. Beyond 8 entries the reference's
/// order is random; we keep insertion order.
#[derive(Default)]
struct PreInitSet {
    slots: Vec<Option<u64>>,
    index: FxHashMap<u64, usize>,
    grown: bool,
}

impl PreInitSet {
    fn insert(&mut self, g: u64) {
        if self.index.contains_key(&g) {
            return;
        }
        if !self.grown && self.index.len() == 8 {
            self.grown = true;
        }
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(i) if !self.grown => i,
            _ => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Some(g);
        self.index.insert(g, slot);
    }

    fn remove(&mut self, g: u64) {
        if let Some(i) = self.index.remove(&g) {
            self.slots[i] = None;
        }
    }
}

/// A whole v1 trace, parsed and ordered, yielding converted events.
pub(crate) struct Converter {
    table: EvTable,
    store: Store,
    view: View,
    cursor: Cursor,
    /// No more events (the end, or an error was returned).
    done: bool,
    /// Input offset of the event converted last.
    last_off: usize,
    extra: VecDeque<(SchedCtx, BaseEvent)>,
    version: Version,
    pre_init: bool,
    created_pre_init: PreInitSet,
    tasks: FxHashMap<u64, (u64, u64)>,
    seen_procs: FxHashSet<i32>,
    proc_ms: FxHashMap<i32, u64>,
    last_ts: Time,
    last_stw_reason: u64,
    /// String ID of inline string 0 (`trace.Log` messages).
    inline_base: u64,
    /// String ID of `BUILTINS[0]`.
    builtin_base: u64,
    /// Stacks with a frame whose function or file name is not in the table:
    /// stack ID → the first such string ID.
    bad_stacks: FxHashMap<u64, u64>,
}

enum Conv {
    Skip,
    One(SchedCtx, BaseEvent),
}

impl Converter {
    /// Parses the whole trace (v1 traces have no generations to stream by);
    /// `bytes` starts with the header. With `repair`, also reads the traces
    /// Go 1.11–1.21 write
    /// when Go is called back from threads created by C, which lack some
    /// syscall exits and which the reference rejects ("no consistent
    /// ordering of events possible"). The missing exits are put back (as
    /// GoSyscallEndBlocked events right before the goroutine starts).
    pub fn with_repair(bytes: &[u8], version: Version, repair: bool) -> Result<Converter, Error> {
        let h = gotrace_wire::read_header(bytes)?;
        let mut parser = Parser::new(bytes, h.len, version.minor() as u8);
        parser.repair = repair;
        let parsed = parser.parse()?;
        Self::from_parsed(bytes, parsed, version)
    }

    /// Builds the table as the reference's `traceV1Converter.init` does.
    fn from_parsed(bytes: &[u8], p: Parsed, version: Version) -> Result<Converter, Error> {
        let too_many = || format_err("trace contains too many strings", bytes.len());
        let mut table = EvTable::default();
        let mut buf: Vec<u8> = Vec::new();
        let push = |buf: &mut Vec<u8>, s: &[u8]| -> Result<std::ops::Range<u32>, Error> {
            let start = u32::try_from(buf.len()).map_err(|_| too_many())?;
            buf.extend_from_slice(s);
            let end = u32::try_from(buf.len()).map_err(|_| too_many())?;
            Ok(start..end)
        };
        let mut max = 0u64;
        for (&id, r) in &p.strings {
            let r = push(&mut buf, &bytes[r.clone()])?;
            let _ = table.strings.insert(id, r);
            max = max.max(id);
        }
        // trace.Log messages had no IDs in v1; they get IDs after the largest.
        let n_inline = p.inline_strings.len() as u64;
        if max.checked_add(n_inline).is_none() {
            return Err(too_many());
        }
        let inline_base = max.wrapping_add(1);
        for (i, r) in p.inline_strings.iter().enumerate() {
            let r = push(&mut buf, &bytes[r.clone()])?;
            let _ = table.strings.insert(inline_base.wrapping_add(i as u64), r);
        }
        max += n_inline;
        if max.checked_add(BUILTINS.len() as u64).is_none() {
            return Err(too_many());
        }
        let builtin_base = max + 1;
        for (i, s) in BUILTINS.iter().enumerate() {
            let r = push(&mut buf, s.as_bytes())?;
            let _ = table.strings.insert(builtin_base + i as u64, r);
        }
        table.bytes = GenBytes::owned(buf, 0);

        // Stacks and frames.
        let mut stack_pcs = Vec::with_capacity(p.stacks.values().map(|r| r.len()).sum());
        for (&id, r) in &p.stacks {
            let start = stack_pcs.len() as u32;
            stack_pcs.extend_from_slice(&p.stack_pcs[r.start as usize..r.end as usize]);
            let _ = table
                .stacks
                .insert(id as u64, start..stack_pcs.len() as u32);
        }
        table.stack_pcs = stack_pcs;
        table.pcs = p
            .pcs
            .iter()
            .map(|(&pc, f)| {
                (
                    pc,
                    FrameInfo {
                        func: f.func,
                        file: f.file,
                        line: f.line,
                    },
                )
            })
            .collect();
        table.freq = 1e9 / p.ticks_per_sec as f64;
        let mut bad_stacks = FxHashMap::default();
        for (id, r) in table.stacks.iter() {
            let missing = table.stack_pcs[r.start as usize..r.end as usize]
                .iter()
                .filter_map(|pc| table.pcs.get(pc))
                .flat_map(|f| [f.func, f.file])
                .find(|&s| !table.strings.contains(s));
            if let Some(s) = missing {
                bad_stacks.insert(id, s);
            }
        }

        Ok(Converter {
            table,
            store: p.store,
            view: p.view,
            cursor: Cursor::default(),
            done: false,
            last_off: 0,
            extra: VecDeque::new(),
            version,
            pre_init: true,
            created_pre_init: PreInitSet::default(),
            tasks: FxHashMap::default(),
            seen_procs: FxHashSet::default(),
            proc_ms: FxHashMap::default(),
            last_ts: -1,
            last_stw_reason: 0,
            inline_base,
            builtin_base,
            bad_stacks,
        })
    }

    /// The table the converted events refer to (strings, stacks, frames).
    pub fn table(&self) -> &EvTable {
        &self.table
    }

    /// Time of the first event, if there is one.
    pub fn first_time(&self) -> Option<Time> {
        if self.done {
            return None;
        }
        let (mut ev, flags, _) = self.cursor.clone().next(&self.store)?;
        self.view.convert_final(&mut ev, flags);
        Some(ev.ts)
    }

    /// Time of the last event yielded (-1 before the first).
    pub fn last_time(&self) -> Time {
        self.last_ts
    }

    /// The next converted event, `None` at the end.
    pub fn next_event(&mut self) -> Option<Result<(SchedCtx, BaseEvent), Error>> {
        loop {
            let (ctx, mut base) = match self.extra.pop_front() {
                Some(x) => x,
                None => {
                    if self.done {
                        return None;
                    }
                    let Some((mut ev, flags, _)) = self.cursor.next(&self.store) else {
                        self.done = true;
                        return None;
                    };
                    self.view.convert_final(&mut ev, flags);
                    // Events do not refer to stacks that do not exist or are empty.
                    if ev.stk != 0 && !self.table.stacks.contains(ev.stk as u64) {
                        ev.stk = 0;
                    }
                    self.last_off = ev.off();
                    match self.convert(&ev) {
                        Ok(Conv::Skip) => continue,
                        Ok(Conv::One(ctx, base)) => (ctx, base),
                        Err(e) => {
                            self.done = true;
                            self.extra.clear();
                            return Some(Err(e));
                        }
                    }
                }
            };
            if let Err(msg) = self.check_refs(&base) {
                // Extras come from the event converted last.
                self.done = true;
                self.extra.clear();
                return Some(Err(format_err(msg, self.last_off)));
            }
            // Two events may not share a timestamp in the new model.
            if base.time <= self.last_ts {
                base.time = self.last_ts.wrapping_add(1);
            }
            self.last_ts = base.time;
            return Some(Ok((ctx, base)));
        }
    }

    /// The reference does not check that converted events refer to strings
    /// and stacks that exist; it panics when printing one that does not
    /// ("expected id N in string table"). We fail at that event instead.
    /// Checked in the order the reference's `Event.String` looks them up.
    fn check_refs(&self, b: &BaseEvent) -> Result<(), String> {
        let string = |id: u64| {
            if self.table.strings.contains(id) {
                Ok(())
            } else {
                Err(format!("expected id {id} in string table"))
            }
        };
        let stack = |id: u64| {
            if id == 0 {
                return Ok(());
            }
            if !self.table.stacks.contains(id) {
                return Err(format!("expected id {id} in trace.stack table"));
            }
            match self.bad_stacks.get(&id) {
                Some(&s) => Err(format!("expected id {s} in string table")),
                None => Ok(()),
            }
        };
        match b.typ {
            s::EV_GO_LABEL => string(b.args[0])?,
            s::EV_USER_TASK_BEGIN => string(b.args[2])?,
            s::EV_USER_REGION_BEGIN | s::EV_USER_REGION_END => string(b.args[1])?,
            s::EV_USER_LOG => {
                string(b.args[1])?;
                string(b.args[2])?
            }
            s::EV_GO_CREATE => stack(b.args[1])?,
            _ => {}
        }
        let own = if b.typ == s::EV_CPU_SAMPLE {
            b.args[0]
        } else {
            s::SPECS
                .get(b.typ as usize)
                .and_then(|sp| sp.stack_ids.first())
                .map_or(0, |&i| b.args[i - 1])
        };
        stack(own)
    }

    fn builtin(&self, c: u64) -> u64 {
        self.builtin_base + c
    }

    /// The reference's `Trace.STWReason`, as an offset into the STW builtins.
    fn stw_reason(&self, kind: u64) -> u64 {
        match self.version {
            Version::Go121 if kind < NUM_STW_REASONS => kind,
            Version::Go121 => 0,
            _ if kind == 0 || kind == 1 => kind + 1,
            _ => 0,
        }
    }

    /// Converts one v1 event into zero or more new ones (extras are queued).
    fn convert(&mut self, ev: &Ev) -> Result<Conv, Error> {
        let mut args = [ev.args[0], ev.args[1], ev.args[2], 0];
        let typ = match ev.typ {
            EV_GOMAXPROCS => {
                if self.pre_init {
                    // The first Gomaxprocs ends the trace's initialization: the
                    // goroutines seen created but with no state yet are runnable.
                    self.pre_init = false;
                    let set = std::mem::take(&mut self.created_pre_init);
                    for g in set.slots.into_iter().flatten() {
                        self.extra.push_back((
                            SchedCtx::NONE,
                            BaseEvent {
                                typ: s::EV_GO_STATUS,
                                time: ev.ts,
                                args: [g, u64::MAX, go_status::RUNNABLE, 0],
                            },
                        ));
                    }
                    return Ok(Conv::Skip);
                }
                s::EV_PROCS_CHANGE
            }
            EV_PROC_START => {
                self.proc_ms.insert(ev.p, ev.args[0]);
                if self.seen_procs.insert(ev.p) {
                    args = [ev.p as u64, proc_status::RUNNING, 0, 0];
                    s::EV_PROC_STATUS
                } else {
                    args = [ev.p as u64, 0, 0, 0];
                    s::EV_PROC_START
                }
            }
            EV_PROC_STOP => {
                if self.seen_procs.insert(ev.p) {
                    args = [ev.p as u64, proc_status::IDLE, 0, 0];
                    s::EV_PROC_STATUS
                } else {
                    args = [ev.p as u64, 0, 0, 0];
                    s::EV_PROC_STOP
                }
            }
            EV_GC_START => s::EV_GC_BEGIN,
            EV_GC_DONE => s::EV_GC_END,
            EV_STW_START => {
                let sid = self.builtin(S_STW_UNKNOWN + self.stw_reason(ev.args[0]));
                self.last_stw_reason = sid;
                args = [sid, 0, 0, 0];
                s::EV_STW_BEGIN
            }
            EV_STW_DONE => {
                args = [self.last_stw_reason, 0, 0, 0];
                s::EV_STW_END
            }
            EV_GC_SWEEP_START => s::EV_GC_SWEEP_BEGIN,
            EV_GC_SWEEP_DONE => s::EV_GC_SWEEP_END,
            EV_GO_CREATE => {
                if self.pre_init {
                    self.created_pre_init.insert(ev.args[0]);
                    return Ok(Conv::Skip);
                }
                s::EV_GO_CREATE
            }
            EV_GO_START => {
                if self.pre_init {
                    args = [ev.args[0], u64::MAX, go_status::RUNNING, 0];
                    self.created_pre_init.remove(ev.args[0]);
                    s::EV_GO_STATUS
                } else {
                    s::EV_GO_START
                }
            }
            EV_GO_START_LABEL => {
                let ctx = self.raw_ctx(ev);
                self.extra.push_back((
                    ctx,
                    BaseEvent {
                        typ: s::EV_GO_LABEL,
                        time: ev.ts,
                        args: [ev.args[2], 0, 0, 0],
                    },
                ));
                return Ok(Conv::One(
                    ctx,
                    BaseEvent {
                        typ: s::EV_GO_START,
                        time: ev.ts,
                        args,
                    },
                ));
            }
            EV_GO_END => s::EV_GO_DESTROY,
            EV_GO_STOP => self.block(&mut args, ev, S_FOREVER, s::EV_GO_BLOCK),
            EV_GO_SCHED => self.block(&mut args, ev, S_GOSCHED, s::EV_GO_STOP),
            EV_GO_PREEMPT => self.block(&mut args, ev, S_PREEMPTED, s::EV_GO_STOP),
            EV_GO_SLEEP => self.block(&mut args, ev, S_SLEEP, s::EV_GO_BLOCK),
            EV_GO_BLOCK => self.block(&mut args, ev, S_EMPTY, s::EV_GO_BLOCK),
            EV_GO_UNBLOCK => s::EV_GO_UNBLOCK,
            EV_GO_BLOCK_SEND => self.block(&mut args, ev, S_CHAN_SEND, s::EV_GO_BLOCK),
            EV_GO_BLOCK_RECV => self.block(&mut args, ev, S_CHAN_RECV, s::EV_GO_BLOCK),
            EV_GO_BLOCK_SELECT => self.block(&mut args, ev, S_SELECT, s::EV_GO_BLOCK),
            EV_GO_BLOCK_SYNC => self.block(&mut args, ev, S_SYNC, s::EV_GO_BLOCK),
            EV_GO_BLOCK_COND => self.block(&mut args, ev, S_SYNC_COND, s::EV_GO_BLOCK),
            EV_GO_BLOCK_NET => self.block(&mut args, ev, S_NETWORK, s::EV_GO_BLOCK),
            EV_GO_BLOCK_GC => self.block(&mut args, ev, S_MARK_ASSIST_WAIT, s::EV_GO_BLOCK),
            EV_GO_SYS_CALL => {
                // The parser recorded whether the goroutine's next event is a
                // GoSysBlock, i.e. whether the syscall blocked.
                args = [0, ev.stk as u64, 0, 0];
                if ev.args[0] == 0 {
                    // An instantaneous syscall: a 1ns GoSyscallBegin/End pair.
                    let ctx = self.raw_ctx(ev);
                    self.extra.push_back((
                        ctx,
                        BaseEvent {
                            typ: s::EV_GO_SYSCALL_END,
                            time: ev.ts.wrapping_add(1),
                            args: [0; 4],
                        },
                    ));
                    return Ok(Conv::One(
                        ctx,
                        BaseEvent {
                            typ: s::EV_GO_SYSCALL_BEGIN,
                            time: ev.ts,
                            args,
                        },
                    ));
                }
                s::EV_GO_SYSCALL_BEGIN
            }
            EV_GO_SYS_EXIT => s::EV_GO_SYSCALL_END_BLOCKED,
            EV_GO_SYS_BLOCK => return Ok(Conv::Skip),
            EV_GO_WAITING | EV_GO_IN_SYSCALL => {
                let st = if ev.typ == EV_GO_WAITING {
                    go_status::WAITING
                } else {
                    go_status::SYSCALL
                };
                args = [ev.args[0], u64::MAX, st, 0];
                self.created_pre_init.remove(ev.args[0]);
                s::EV_GO_STATUS
            }
            EV_HEAP_ALLOC => s::EV_HEAP_ALLOC,
            EV_HEAP_GOAL => s::EV_HEAP_GOAL,
            EV_GC_MARK_ASSIST_START => s::EV_GC_MARK_ASSIST_BEGIN,
            EV_GC_MARK_ASSIST_DONE => s::EV_GC_MARK_ASSIST_END,
            EV_USER_TASK_CREATE => {
                let parent = if ev.args[1] == 0 { NO_TASK } else { ev.args[1] };
                args = [ev.args[0], parent, ev.args[2], ev.stk as u64];
                let name = if self.table.strings.contains(ev.args[2]) {
                    ev.args[2]
                } else {
                    0
                };
                self.tasks.insert(ev.args[0], (ev.args[1], name));
                s::EV_USER_TASK_BEGIN
            }
            EV_USER_TASK_END => {
                // The parent and type travel in the extra arguments.
                let (parent, name) = match self.tasks.remove(&ev.args[0]) {
                    Some((parent, name)) => {
                        (parent, self.table.string(name).unwrap_or(b"").to_vec())
                    }
                    None => (NO_TASK, Vec::new()),
                };
                let extra = self.table.add_extra_string(&name);
                args = [ev.args[0], ev.args[1], parent, extra];
                s::EV_USER_TASK_END
            }
            EV_USER_REGION => {
                args = [ev.args[0], ev.args[2], ev.stk as u64, 0];
                match ev.args[1] {
                    0 => s::EV_USER_REGION_BEGIN,
                    1 => s::EV_USER_REGION_END,
                    _ => s::EV_NONE,
                }
            }
            EV_USER_LOG => {
                let msg = self.inline_base.wrapping_add(ev.args[2]);
                args = [ev.args[0], ev.args[1], msg, ev.stk as u64];
                s::EV_USER_LOG
            }
            EV_CPU_SAMPLE => {
                args = [ev.stk as u64, u64::MAX, ev.p as i64 as u64, ev.g];
                s::EV_CPU_SAMPLE
            }
            t => return Err(format_err(format!("unexpected event type {t}"), ev.off())),
        };

        if DESCS[ev.typ as usize].stack {
            if let Some(&i) = s::SPECS[typ as usize].stack_ids.first() {
                args[i - 1] = ev.stk as u64;
            }
        }
        let mut m = NO_THREAD;
        if ev.p != -1 && ev.typ != EV_CPU_SAMPLE {
            if let Some(&t) = self.proc_ms.get(&ev.p) {
                m = t as i64;
            }
        }
        if ev.typ == EV_PROC_STOP {
            self.proc_ms.remove(&ev.p);
        }
        let g = if ev.g == 0 { NO_GOROUTINE } else { ev.g as i64 };
        let ctx = SchedCtx {
            g,
            p: ev.p as i64,
            m,
        };
        Ok(Conv::One(
            ctx,
            BaseEvent {
                typ,
                time: ev.ts,
                args,
            },
        ))
    }

    /// A blocking or stopping event: reason string and stack.
    fn block(&self, args: &mut [u64; 4], ev: &Ev, reason: u64, typ: u8) -> u8 {
        *args = [self.builtin(reason), ev.stk as u64, 0, 0];
        typ
    }

    /// The context the reference gives the events it builds by hand: the
    /// goroutine as is, and the P's thread or 0.
    fn raw_ctx(&self, ev: &Ev) -> SchedCtx {
        SchedCtx {
            g: ev.g as i64,
            p: ev.p as i64,
            m: self.proc_ms.get(&ev.p).copied().unwrap_or(0) as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Converts a whole trace; returns the events in the reference's text
    /// form, or the error.
    fn dump(bytes: &[u8], repair: bool) -> Result<String, Error> {
        let h = gotrace_wire::read_header(bytes)?;
        let mut c = Converter::with_repair(bytes, h.version, repair)?;
        let mut out = Vec::new();
        while let Some(r) = c.next_event() {
            let (ctx, base) = r?;
            let data = crate::event::EventData { ctx, base };
            crate::event::Event {
                table: Some(&c.table),
                data: &data,
            }
            .write_go_string(&mut out);
            out.push(b'\n');
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A Go 1.21 trace of corpus/programs/cgo with the pthread callbacks on
    /// (see the `repair` notes in parse.rs): the reference rejects it.
    const CGO_PTHREAD: &[u8] = include_bytes!("../../tests/data/v1/cgo-pthread-go1.21.trace");

    #[test]
    fn cgo_callback_traces_fail_like_the_reference_without_repair() {
        let e = dump(CGO_PTHREAD, false).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("no consistent ordering of events possible"),
            "{e}"
        );
    }

    #[test]
    fn cgo_callback_traces_are_read_with_repair() {
        let out = dump(CGO_PTHREAD, true).unwrap_or_else(|e| panic!("{e}"));
        // Every goroutine made for a C thread while tracing leaves its first
        // syscall before it starts.
        let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("M=")).collect();
        let mut repaired = 0;
        for (i, l) in lines.iter().enumerate() {
            if l.contains("Syscall->Runnable") && l.contains(" P=1000003 ") {
                let g = l.split(" G=").nth(1).unwrap().split(' ').next().unwrap();
                if lines[i + 1].contains(&format!("GoID={g} Runnable->Running")) {
                    repaired += 1;
                }
            }
        }
        assert!(repaired >= 4, "{out}");
        if std::env::var_os("GOTRACE_PRINT").is_some() {
            eprintln!("{out}");
        }
    }
}
