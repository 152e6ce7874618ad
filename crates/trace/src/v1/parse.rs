//! Parsing of v1 traces and their global ordering, with the behaviour of the
//! reference's `internal/trace/internal/tracev1` (parser.go, order.go):
//!
//! 1. index the batches of every P (and decode CPU samples) in one pass;
//! 2. merge the batches into one stream: the earliest (by timestamp) of the
//!    P heads whose goroutine-sequence preconditions hold goes next;
//! 3. give syscall exits their real timestamps, sort stably, convert ticks
//!    to nanoseconds, move some events to fake Ps;
//! 4. check the stream for consistency (`postProcessTrace`).
//!
//! Error texts are the reference's; every error names a byte offset.

use super::ev::*;
use crate::error::{Error, ErrorKind};
use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;

pub(super) const FAKE_P: i32 = 1_000_000;
pub(super) const TIMER_P: i32 = FAKE_P + 1;
pub(super) const NETPOLL_P: i32 = FAKE_P + 2;
pub(super) const SYSCALL_P: i32 = FAKE_P + 3;
pub(super) const GC_P: i32 = FAKE_P + 4;
pub(super) const PROFILE_P: i32 = FAKE_P + 5;

const SKIP_ARGS: u8 = 1;
const SKIP_STRINGS: u8 = 2;

const MALFORMED: &str = "malformatted base-128 varint";

pub(super) fn format_err(msg: impl Into<String>, off: usize) -> Error {
    Error::new(ErrorKind::Format(msg.into()), Some(off as u64))
}

/// A stack frame as the trace's stack table records it.
#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub func: u64,
    pub file: u64,
    pub line: u64,
}

/// The parsed, ordered and checked trace.
pub(super) struct Parsed {
    /// Events in their final order, times in nanoseconds.
    pub events: Vec<Ev>,
    /// String ID → byte range of the input.
    pub strings: FxHashMap<u64, Range<usize>>,
    /// `trace.Log` messages, by the index the events refer to: byte ranges of the input.
    pub inline_strings: Vec<Range<usize>>,
    /// Stack ID → range of `stack_pcs`.
    pub stacks: FxHashMap<u32, Range<u32>>,
    pub stack_pcs: Vec<u64>,
    pub pcs: FxHashMap<u64, Frame>,
    pub ticks_per_sec: i64,
}

/// The batches of one P, in file order.
struct BatchList {
    /// (offset of the batch header, number of events in the batch).
    batches: Vec<(usize, usize)>,
    next: usize,
}

/// One P's cursor during the merge.
struct Proc {
    pid: i32,
    buf: Vec<Ev>,
    pos: usize,
    done: bool,
}

/// The event being decoded by `read_raw`.
#[derive(Default)]
struct Raw {
    typ: u8,
    args: Vec<u64>,
    /// The string of a UserLog event (a byte range of the input).
    sarg: Range<usize>,
    batch_pid: i32,
    /// Offset of the event's first byte.
    off: usize,
}

/// Goroutine sequencing state during the merge (order.go's gState).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct GState {
    seq: u64,
    status: u8,
}

const G_DEAD: u8 = 0;
const G_RUNNABLE: u8 = 1;
const G_RUNNING: u8 = 2;
const G_WAITING: u8 = 3;

const UNORDERED: u64 = u64::MAX;
const GARBAGE: u64 = u64::MAX - 1;
const NOSEQ: u64 = u64::MAX;
const SEQINC: u64 = u64::MAX - 1;

pub(super) struct Parser<'a> {
    ver: u8,
    data: &'a [u8],
    off: usize,
    strings: FxHashMap<u64, Range<usize>>,
    inline_strings: Vec<Range<usize>>,
    inline_ids: FxHashMap<&'a [u8], u64>,
    /// P → index into `lists`, and the Ps in order of first appearance.
    list_index: FxHashMap<i32, usize>,
    lists: Vec<BatchList>,
    list_pids: Vec<i32>,
    stacks: FxHashMap<u32, Range<u32>>,
    stack_pcs: Vec<u64>,
    ticks_per_sec: i64,
    pcs: FxHashMap<u64, Frame>,
    cpu_samples: Vec<Ev>,
    timer_goids: FxHashSet<u64>,
    raw: Raw,
    last_ts: i64,
    last_g: u64,
    last_gs: FxHashMap<i32, u64>,
    last_p: i32,
}

/// Go's `binary.Uvarint` at `b[*off..]`, advancing `off`.
#[inline(always)]
fn uvarint(b: &[u8], off: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    let mut shift = 0u32;
    let mut i = *off;
    for n in 0..10 {
        let byte = *b.get(i)?;
        i += 1;
        if byte < 0x80 {
            if n == 9 && byte > 1 {
                return None;
            }
            *off = i;
            return Some(x | (byte as u64) << shift);
        }
        x |= ((byte & 0x7f) as u64) << shift;
        shift += 7;
    }
    None
}

/// Go's float64 → int64 conversion on amd64: out of range and NaN give MinInt64.
#[inline]
pub(super) fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9.223372036854775808e18..9.223372036854775808e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

impl<'a> Parser<'a> {
    /// `data` is the whole trace; parsing starts at `start` (after the header).
    pub fn new(data: &'a [u8], start: usize, ver: u8) -> Self {
        Parser {
            ver,
            data,
            off: start,
            strings: FxHashMap::default(),
            inline_strings: Vec::new(),
            inline_ids: FxHashMap::default(),
            list_index: FxHashMap::default(),
            lists: Vec::new(),
            list_pids: Vec::new(),
            stacks: FxHashMap::default(),
            stack_pcs: Vec::new(),
            ticks_per_sec: 0,
            pcs: FxHashMap::default(),
            cpu_samples: Vec::new(),
            timer_goids: FxHashSet::default(),
            raw: Raw::default(),
            last_ts: 0,
            last_g: 0,
            last_gs: FxHashMap::default(),
            last_p: 0,
        }
    }

    /// Parses, orders and checks the whole trace.
    pub fn parse(mut self) -> Result<Parsed, Error> {
        self.collect_batches_and_cpu_samples()?;
        let mut events = self.merge_batches()?;
        if self.ticks_per_sec == 0 {
            return Err(format_err("no EvFrequency event", self.data.len()));
        }
        if let Some(first) = events.first() {
            let min_ts = first.ts;
            let freq = 1e9 / self.ticks_per_sec as f64;
            for ev in events.iter_mut() {
                ev.ts = go_f64_to_i64(ev.ts.wrapping_sub(min_ts) as f64 * freq);
                if ev.typ == EV_GO_UNBLOCK && self.timer_goids.contains(&ev.g) {
                    ev.p = TIMER_P;
                }
                if ev.typ == EV_GO_SYS_EXIT {
                    ev.p = SYSCALL_P;
                }
            }
        }
        post_process(&mut events, &self.stacks)?;
        Ok(Parsed {
            events,
            strings: self.strings,
            inline_strings: self.inline_strings,
            stacks: self.stacks,
            stack_pcs: self.stack_pcs,
            pcs: self.pcs,
            ticks_per_sec: self.ticks_per_sec,
        })
    }

    #[inline]
    fn read_val(&mut self) -> Option<u64> {
        uvarint(self.data, &mut self.off)
    }

    fn discard(&mut self, n: u64) -> bool {
        match usize::try_from(n).ok().and_then(|n| self.off.checked_add(n)) {
            Some(end) if end <= self.data.len() && n <= i64::MAX as u64 => {
                self.off = end;
                true
            }
            _ => false,
        }
    }

    /// `n` bytes from the current offset; fails if fewer remain, or none at all.
    fn read_full(&mut self, n: u64) -> Option<Range<usize>> {
        let start = self.off;
        if start >= self.data.len() || n > (self.data.len() - start) as u64 {
            return None;
        }
        self.off = start + n as usize;
        Some(start..self.off)
    }

    /// Reads one raw event into `self.raw`. Ok(false) at the end of the input.
    /// Strings become EV_NONE.
    fn read_raw(&mut self, flags: u8) -> Result<bool, Error> {
        const INLINE_ARGS: u8 = 3;
        let start = self.off;
        let Some(&b) = self.data.get(start) else { return Ok(false) };
        self.off += 1;
        let typ = b & 0x3f;
        let narg = (b >> 6) + 1;
        if typ == EV_NONE || typ >= EV_COUNT || DESCS[typ as usize].min_version > self.ver {
            return Err(format_err(format!("unknown event type {typ}"), start));
        }
        self.raw.off = start;
        let malformed = |_| format_err(MALFORMED, start);
        match typ {
            EV_STRING => {
                if flags & SKIP_STRINGS != 0 {
                    self.read_val().ok_or(()).map_err(malformed)?;
                    let ln = self.read_val().ok_or(()).map_err(malformed)?;
                    if !self.discard(ln) {
                        return Err(format_err("failed to read trace: EOF", start));
                    }
                } else {
                    let id = self.read_val().ok_or(()).map_err(malformed)?;
                    if id == 0 {
                        return Err(format_err("string has invalid id 0", start));
                    }
                    if self.strings.contains_key(&id) {
                        return Err(format_err(format!("string has duplicate id {id}"), start));
                    }
                    let ln = self.read_val().ok_or(()).map_err(malformed)?;
                    if ln == 0 {
                        return Err(format_err("string has invalid length 0", start));
                    }
                    if ln > 1_000_000 {
                        return Err(format_err(format!("string has too large length {ln}"), start));
                    }
                    let r = self
                        .read_full(ln)
                        .ok_or_else(|| format_err("failed to read trace: unexpected EOF", start))?;
                    self.strings.insert(id, r);
                }
                self.raw.typ = EV_NONE;
                Ok(true)
            }
            EV_BATCH => {
                if narg != 2 {
                    return Err(format_err(
                        format!("EvBatch has wrong number of arguments: got {narg}, want 2"),
                        start,
                    ));
                }
                let pid = self.read_val().ok_or(()).map_err(malformed)?;
                if pid != u64::MAX && pid > i32::MAX as u64 {
                    return Err(format_err(
                        format!("processor ID {pid} is larger than maximum of {}", u64::MAX),
                        start,
                    ));
                }
                let pid32 = if pid == u64::MAX { -1 } else { pid as i32 };
                let v = self.read_val().ok_or(()).map_err(malformed)?;
                self.raw.typ = EV_BATCH;
                self.raw.args.clear();
                self.raw.args.extend_from_slice(&[pid, v]);
                self.raw.batch_pid = pid32;
                Ok(true)
            }
            _ => {
                self.raw.typ = typ;
                self.raw.args.clear();
                self.raw.sarg = 0..0;
                let arg_err = || format_err(format!("failed to read event {typ} argument: {MALFORMED}"), start);
                if narg <= INLINE_ARGS {
                    for _ in 0..narg {
                        let v = self.read_val().ok_or_else(arg_err)?;
                        if flags & SKIP_ARGS == 0 {
                            self.raw.args.push(v);
                        }
                    }
                } else {
                    let v = self.read_val().ok_or_else(arg_err)?;
                    if v > 2048 {
                        return Err(format_err(
                            format!(
                                "failed to read event {typ} argument: length-prefixed argument too big: {v} bytes, limit is 2048"
                            ),
                            start,
                        ));
                    }
                    if flags & SKIP_ARGS == 0 || typ == EV_CPU_SAMPLE {
                        let r = self
                            .read_full(v)
                            .ok_or_else(|| format_err("failed to read trace: unexpected EOF", start))?;
                        let mut i = r.start;
                        while i < r.end {
                            let v = uvarint(&self.data[..r.end], &mut i).ok_or_else(|| format_err(MALFORMED, start))?;
                            self.raw.args.push(v);
                        }
                    } else if !self.discard(v) {
                        return Err(format_err("failed to read trace: EOF", start));
                    }
                    if typ == EV_USER_LOG {
                        if flags & SKIP_ARGS == 0 {
                            let sz = self.read_val().ok_or(()).map_err(malformed)?;
                            if sz != 0 {
                                if sz > 1_000_000 {
                                    return Err(format_err(format!("string is too large (len={sz})"), start));
                                }
                                self.raw.sarg = self
                                    .read_full(sz)
                                    .ok_or_else(|| format_err("failed to read trace: unexpected EOF", start))?;
                            }
                        } else {
                            let v = self.read_val().ok_or(()).map_err(malformed)?;
                            if !self.discard(v) {
                                // The reference returns io.EOF here: the end of the trace.
                                return Ok(false);
                            }
                        }
                    }
                }
                Ok(true)
            }
        }
    }

    /// Pass 1: where each P's batches are, and the CPU samples.
    fn collect_batches_and_cpu_samples(&mut self) -> Result<(), Error> {
        let mut cur: Option<usize> = None;
        let mut cur_p: i32 = 0;
        while self.read_raw(SKIP_ARGS | SKIP_STRINGS)? {
            let typ = self.raw.typ;
            if typ == EV_NONE {
                continue;
            }
            if typ == EV_BATCH {
                let pid = self.raw.batch_pid;
                let idx = *self.list_index.entry(pid).or_insert_with(|| {
                    self.lists.push(BatchList { batches: Vec::new(), next: 0 });
                    self.list_pids.push(pid);
                    self.lists.len() - 1
                });
                self.lists[idx].batches.push((self.raw.off, 0));
                cur = Some(idx);
                cur_p = pid;
            }
            let Some(last) = cur.and_then(|i| self.lists[i].batches.last_mut()) else {
                return Err(format_err(
                    format!("read event {typ} with current P of {cur_p}, but P has no batches yet"),
                    self.raw.off,
                ));
            };
            last.1 += 1;
            if typ == EV_CPU_SAMPLE {
                let a = &self.raw.args;
                if a.len() != 5 {
                    return Err(format_err(
                        format!("CPU sample has wrong number of arguments: want 5, got {}", a.len()),
                        self.raw.off,
                    ));
                }
                let mut e = Ev { typ, stk: a[4] as u32, args: [0, a[2], a[3]], ..Ev::default() };
                e.ts = a[1] as i64;
                e.p = a[2] as i32;
                e.g = a[3];
                e.set_off(self.raw.off);
                self.cpu_samples.push(e);
            }
        }
        Ok(())
    }

    /// Loads the next batch of `pid` into `buf` (cleared first). Ok(false)
    /// if `pid` has no more batches.
    fn load_batch(&mut self, pid: i32, buf: &mut Vec<Ev>) -> Result<bool, Error> {
        buf.clear();
        let Some(&li) = self.list_index.get(&pid) else { return Ok(false) };
        let list = &mut self.lists[li];
        let Some(&(offset, n)) = list.batches.get(list.next) else { return Ok(false) };
        list.next += 1;
        // Each event takes at least a byte, so `n` is bounded by the input.
        buf.reserve(n);
        self.off = offset;
        let mut got_header = false;
        while self.read_raw(0)? {
            let typ = self.raw.typ;
            if typ == EV_NONE || typ == EV_CPU_SAMPLE {
                continue;
            }
            if typ == EV_BATCH {
                if got_header {
                    break;
                }
                got_header = true;
            }
            if let Some(ev) = self.parse_event()? {
                buf.push(ev);
            }
        }
        Ok(true)
    }

    /// Turns `self.raw` into an event, or applies it to the parser's state.
    fn parse_event(&mut self) -> Result<Option<Ev>, Error> {
        let typ = self.raw.typ;
        let off = self.raw.off;
        let desc = &DESCS[typ as usize];
        let args = &self.raw.args;
        let narg = arg_num(typ, args.len());
        if args.len() != narg {
            return Err(format_err(
                format!("{} has wrong number of arguments: want {narg}, got {}", desc.name, args.len()),
                off,
            ));
        }
        match typ {
            EV_BATCH => {
                self.last_gs.insert(self.last_p, self.last_g);
                if args[0] != u64::MAX && args[0] > i32::MAX as u64 {
                    return Err(format_err(
                        format!("processor ID {} is larger than maximum of {}", args[0], i32::MAX),
                        off,
                    ));
                }
                self.last_p = if args[0] == u64::MAX { -1 } else { args[0] as i32 };
                self.last_g = self.last_gs.get(&self.last_p).copied().unwrap_or(0);
                self.last_ts = args[1] as i64;
            }
            EV_FREQUENCY => {
                self.ticks_per_sec = args[0] as i64;
                if self.ticks_per_sec <= 0 {
                    return Err(format_err("time stamps out of order", off));
                }
            }
            EV_TIMER_GOROUTINE => {
                self.timer_goids.insert(args[0]);
            }
            EV_STACK => {
                if args.len() < 2 {
                    return Err(format_err(
                        format!("EvStack has wrong number of arguments: want at least 2, got {}", args.len()),
                        off,
                    ));
                }
                let size = args[1];
                if size > 1000 {
                    return Err(format_err(format!("EvStack has bad number of frames: {size}"), off));
                }
                let want = 2 + 4 * size;
                if args.len() as u64 != want {
                    return Err(format_err(
                        format!("EvStack has wrong number of arguments: want {want}, got {}", args.len()),
                        off,
                    ));
                }
                let id = args[0] as u32;
                if id != 0 && size > 0 {
                    let start = self.stack_pcs.len();
                    for f in args[2..].chunks_exact(4) {
                        let pc = f[0];
                        self.stack_pcs.push(pc);
                        self.pcs.entry(pc).or_insert(Frame { func: f[1], file: f[2], line: f[3] });
                    }
                    let end = self.stack_pcs.len();
                    let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) else {
                        return Err(format_err("trace has too many stack frames", off));
                    };
                    self.stacks.insert(id, start..end);
                }
            }
            EV_CPU_SAMPLE => {}
            _ => {
                let mut ev = Ev { typ, p: self.last_p, g: self.last_g, ..Ev::default() };
                ev.set_off(off);
                ev.ts = self.last_ts.wrapping_add(args[0] as i64);
                self.last_ts = ev.ts;
                for i in 1..narg {
                    if i == narg - 1 && desc.stack {
                        ev.stk = args[i] as u32;
                    } else {
                        ev.args[i - 1] = args[i];
                    }
                }
                match typ {
                    EV_GO_START | EV_GO_START_LOCAL | EV_GO_START_LABEL => {
                        self.last_g = ev.args[0];
                        ev.g = self.last_g;
                    }
                    EV_GO_END | EV_GO_STOP | EV_GO_SCHED | EV_GO_PREEMPT | EV_GO_SLEEP | EV_GO_BLOCK
                    | EV_GO_BLOCK_SEND | EV_GO_BLOCK_RECV | EV_GO_BLOCK_SELECT | EV_GO_BLOCK_SYNC
                    | EV_GO_BLOCK_COND | EV_GO_BLOCK_NET | EV_GO_SYS_BLOCK | EV_GO_BLOCK_GC => {
                        self.last_g = 0;
                    }
                    EV_GO_SYS_EXIT | EV_GO_WAITING | EV_GO_IN_SYSCALL => {
                        ev.g = ev.args[0];
                    }
                    EV_USER_LOG => {
                        // The message's index goes where the reference keeps Args[3].
                        let r = self.raw.sarg.clone();
                        let s = &self.data[r.clone()];
                        let id = match self.inline_ids.get(s) {
                            Some(&id) => id,
                            None => {
                                let id = self.inline_strings.len() as u64;
                                self.inline_ids.insert(s, id);
                                self.inline_strings.push(r);
                                id
                            }
                        };
                        ev.args[2] = id;
                    }
                    _ => {}
                }
                return Ok(Some(ev));
            }
        }
        Ok(None)
    }

    /// Pass 2: merges the Ps' batches into one consistent stream (times in ticks).
    fn merge_batches(&mut self) -> Result<Vec<Ev>, Error> {
        let mut cpu = std::mem::take(&mut self.cpu_samples);
        crate::gosort::sort_func(&mut cpu, |a, b| a.ts.cmp(&b.ts));
        // The reference ranges over a map here, so its order is random; a
        // small map yields its insertion order rotated by a random amount.
        // We use insertion order (first appearance in the file).
        let mut procs: Vec<Proc> =
            self.list_pids.iter().map(|&pid| Proc { pid, buf: Vec::new(), pos: 0, done: false }).collect();
        procs.push(Proc { pid: PROFILE_P, buf: cpu, pos: 0, done: false });

        let mut events: Vec<Ev> = Vec::new();
        let mut gs: FxHashMap<u64, GState> = FxHashMap::default();
        let mut frontier: Vec<(Ev, usize)> = Vec::new();
        let mut avail: Vec<usize> = (0..procs.len()).collect();
        loop {
            let mut i = 0;
            'procs: while i < avail.len() {
                let pi = avail[i];
                while procs[pi].pos == procs[pi].buf.len() {
                    let pid = procs[pi].pid;
                    let mut buf = std::mem::take(&mut procs[pi].buf);
                    let more = self.load_batch(pid, &mut buf)?;
                    procs[pi].buf = buf;
                    procs[pi].pos = 0;
                    if !more {
                        procs[pi].done = true;
                        avail.swap_remove(i);
                        continue 'procs;
                    }
                }
                let ev = procs[pi].buf[procs[pi].pos];
                let (g, init, _) = state_transition(&ev);
                if !transition_ready(g, gs.get(&g).copied().unwrap_or_default(), init) {
                    i += 1;
                    continue;
                }
                procs[pi].pos += 1;
                avail.swap_remove(i);
                heap_push(&mut frontier, (ev, pi));
            }
            if frontier.is_empty() {
                if let Some(p) = procs.iter().find(|p| !p.done) {
                    let off = p.buf.get(p.pos).map_or(self.data.len(), |e| e.off());
                    return Err(Error::order("no consistent ordering of events possible", Some(off as u64)));
                }
                break;
            }
            let (mut ev, pi) = heap_pop(&mut frontier);
            let (g, init, next) = state_transition(&ev);
            ev.typ = match ev.typ {
                EV_GO_START_LOCAL => EV_GO_START,
                EV_GO_UNBLOCK_LOCAL => EV_GO_UNBLOCK,
                EV_GO_SYS_EXIT_LOCAL => EV_GO_SYS_EXIT,
                t => t,
            };
            events.push(ev);
            if g != UNORDERED {
                let curr = gs.get(&g).copied().unwrap_or_default();
                if !transition_ready(g, curr, init) {
                    return Err(Error::order(
                        "encountered impossible goroutine state transition",
                        Some(ev.off() as u64),
                    ));
                }
                let seq = match next.seq {
                    NOSEQ => curr.seq,
                    SEQINC => curr.seq.wrapping_add(1),
                    s => s,
                };
                gs.insert(g, GState { seq, status: next.status });
            }
            avail.push(pi);
        }
        drop(procs);

        // Make sure time stamps respect the ordering.
        if let Some(i) = (1..events.len()).rev().find(|&i| events[i].ts < events[i - 1].ts) {
            return Err(format_err("time stamps out of order", events[i].off()));
        }

        // Syscall exits get their real timestamps (taken before the event was
        // written), then the stream is sorted stably by time again.
        let mut last_sys_block: FxHashMap<u64, i64> = FxHashMap::default();
        let mut moved: Vec<(usize, Ev)> = Vec::new();
        for (i, ev) in events.iter_mut().enumerate() {
            match ev.typ {
                EV_GO_SYS_BLOCK | EV_GO_IN_SYSCALL => {
                    last_sys_block.insert(ev.g, ev.ts);
                }
                EV_GO_SYS_EXIT => {
                    let ts = ev.args[2] as i64;
                    if ts == 0 {
                        continue;
                    }
                    let block = last_sys_block.get(&ev.g).copied().unwrap_or(0);
                    if block == 0 {
                        return Err(format_err("stray syscall exit", ev.off()));
                    }
                    if ts < block {
                        return Err(format_err("time stamps out of order", ev.off()));
                    }
                    if ts != ev.ts {
                        ev.ts = ts;
                        moved.push((i, *ev));
                    }
                }
                _ => {}
            }
        }
        stable_resort(&mut events, moved);
        Ok(events)
    }
}

/// Sorts `events` stably by time, given that only the events in `moved`
/// (original index, event) changed their times and the rest is sorted.
/// Works in place: the unmoved events are compacted to the front and the
/// two sorted runs are merged from the back, ties going by original index.
fn stable_resort(events: &mut [Ev], mut moved: Vec<(usize, Ev)>) {
    if moved.is_empty() {
        return;
    }
    let n = events.len();
    let k = moved.len();
    // Compact the unmoved events to the front.
    let mut w = 0;
    let mut mi = 0;
    for r in 0..n {
        if mi < k && moved[mi].0 == r {
            mi += 1;
            continue;
        }
        events[w] = events[r];
        w += 1;
    }
    let orig: Vec<usize> = moved.iter().map(|m| m.0).collect();
    moved.sort_unstable_by_key(|&(i, e)| (e.ts, i));
    // Merge from the back. `o` walks the original indices of the unmoved
    // events downwards, skipping those in `orig`.
    let mut a = n - k; // unmoved events left: events[..a]
    let mut b = k; // moved events left: moved[..b]
    let mut o = n; // original index of events[a] (one past the last)
    let mut oi = k; // moved original indices not yet skipped: orig[..oi]
    let mut dst = n;
    while b > 0 {
        if a == 0 {
            dst -= 1;
            b -= 1;
            events[dst] = moved[b].1;
            continue;
        }
        // Original index of events[a-1].
        let mut cand = o - 1;
        while oi > 0 && orig[oi - 1] == cand {
            oi -= 1;
            cand -= 1;
        }
        let (mi, me) = moved[b - 1];
        let ue = events[a - 1];
        dst -= 1;
        if (ue.ts, cand) > (me.ts, mi) {
            events[dst] = ue;
            a -= 1;
            o = cand;
        } else {
            events[dst] = me;
            b -= 1;
        }
    }
}

/// Number of arguments of a raw event, timestamp included.
fn arg_num(typ: u8, raw_len: usize) -> usize {
    let desc = &DESCS[typ as usize];
    if typ == EV_STACK {
        return raw_len;
    }
    let mut n = desc.args.len();
    if desc.stack {
        n += 1;
    }
    match typ {
        EV_BATCH | EV_FREQUENCY | EV_TIMER_GOROUTINE => n,
        _ => n + 1,
    }
}

/// The goroutine an event orders on, the state it needs, and the state after it.
#[inline]
fn state_transition(ev: &Ev) -> (u64, GState, GState) {
    let st = |seq, status| GState { seq, status };
    match ev.typ {
        EV_GO_CREATE => (ev.args[0], st(0, G_DEAD), st(1, G_RUNNABLE)),
        EV_GO_WAITING | EV_GO_IN_SYSCALL => (ev.g, st(1, G_RUNNABLE), st(2, G_WAITING)),
        EV_GO_START | EV_GO_START_LABEL => {
            (ev.g, st(ev.args[1], G_RUNNABLE), st(ev.args[1].wrapping_add(1), G_RUNNING))
        }
        EV_GO_START_LOCAL => (ev.g, st(NOSEQ, G_RUNNABLE), st(SEQINC, G_RUNNING)),
        EV_GO_BLOCK | EV_GO_BLOCK_SEND | EV_GO_BLOCK_RECV | EV_GO_BLOCK_SELECT | EV_GO_BLOCK_SYNC
        | EV_GO_BLOCK_COND | EV_GO_BLOCK_NET | EV_GO_SLEEP | EV_GO_SYS_BLOCK | EV_GO_BLOCK_GC => {
            (ev.g, st(NOSEQ, G_RUNNING), st(NOSEQ, G_WAITING))
        }
        EV_GO_SCHED | EV_GO_PREEMPT => (ev.g, st(NOSEQ, G_RUNNING), st(NOSEQ, G_RUNNABLE)),
        EV_GO_UNBLOCK | EV_GO_SYS_EXIT => {
            (ev.args[0], st(ev.args[1], G_WAITING), st(ev.args[1].wrapping_add(1), G_RUNNABLE))
        }
        EV_GO_UNBLOCK_LOCAL | EV_GO_SYS_EXIT_LOCAL => (ev.args[0], st(NOSEQ, G_WAITING), st(SEQINC, G_RUNNABLE)),
        EV_GC_START => (GARBAGE, st(ev.args[0], G_DEAD), st(ev.args[0].wrapping_add(1), G_DEAD)),
        _ => (UNORDERED, GState::default(), GState::default()),
    }
}

#[inline]
fn transition_ready(g: u64, curr: GState, init: GState) -> bool {
    g == UNORDERED || (init.seq == NOSEQ || init.seq == curr.seq) && init.status == curr.status
}

// The frontier: the reference's binary heap on time, step for step (the
// order of events with equal times depends on its exact shape).
fn heap_push(h: &mut Vec<(Ev, usize)>, x: (Ev, usize)) {
    h.push(x);
    let mut j = h.len() - 1;
    while j > 0 {
        let i = (j - 1) / 2;
        if h[j].0.ts >= h[i].0.ts {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn heap_pop(h: &mut Vec<(Ev, usize)>) -> (Ev, usize) {
    let n = h.len() - 1;
    h.swap(0, n);
    let mut i = 0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && h[j2].0.ts < h[j1].0.ts {
            j = j2;
        }
        if h[j].0.ts >= h[i].0.ts {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    h.pop().expect("non-empty heap")
}

/// The reference's `Event.String` of a v1 event, quoted as by `%q`.
fn quoted(ev: &Ev) -> String {
    let desc = &DESCS[ev.typ as usize];
    let mut s = format!("{} {} p={} g={} stk={}", ev.ts, desc.name, ev.p, ev.g, ev.stk);
    for (i, a) in desc.args.iter().enumerate() {
        let v = if ev.typ == EV_USER_LOG && i == 3 { ev.args[2] } else { ev.args.get(i).copied().unwrap_or(0) };
        s.push_str(&format!(" {a}={v}"));
    }
    gotrace_wire::gostr::quote(s.as_bytes())
}

/// Pass 4: checks that the stream is consistent (a P runs one G at a time, a
/// G is blocked before it is unblocked, ...) and restores some information,
/// as the reference's `postProcessTrace`. Also records, for each GoSysCall,
/// whether the next event of its goroutine is a GoSysBlock.
fn post_process(events: &mut [Ev], stacks: &FxHashMap<u32, Range<u32>>) -> Result<(), Error> {
    #[derive(Clone, Copy, Default)]
    struct GDesc {
        state: u8,
        /// Type of the event that last changed the state (the reference's `ev`).
        ev: Option<u8>,
        /// The new-stack argument of the creating event, until the G starts.
        create_stack: Option<u64>,
        mark_assist: bool,
    }
    #[derive(Clone, Copy, Default)]
    struct PDesc {
        running: bool,
        g: u64,
        sweep: bool,
    }
    let mut gs: FxHashMap<u64, GDesc> = FxHashMap::default();
    let mut ps: FxHashMap<i32, PDesc> = FxHashMap::default();
    let mut tasks: FxHashMap<u64, usize> = FxHashMap::default();
    let mut regions: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    let mut pending_syscall: FxHashMap<u64, usize> = FxHashMap::default();
    gs.insert(0, GDesc { state: G_RUNNING, ..GDesc::default() });
    let mut in_gc = false;
    let mut in_stw = false;

    for idx in 0..events.len() {
        let mut ev = events[idx];
        let off = ev.off();
        let name = DESCS[ev.typ as usize].name;
        let err = |msg: String| Err(format_err(msg, off));
        let check_running = |p: &PDesc, g: &GDesc, ev: &Ev, allow_g0: bool| -> Result<(), Error> {
            if g.state != G_RUNNING {
                return Err(format_err(format!("g {} is not running while {name} (time {})", ev.g, ev.ts), off));
            }
            if p.g != ev.g {
                return Err(format_err(
                    format!("p {} is not running g {} while {name} (time {})", ev.p, ev.g, ev.ts),
                    off,
                ));
            }
            if !allow_g0 && ev.g == 0 {
                return Err(format_err(format!("g 0 did {name} (time {})", ev.ts), off));
            }
            Ok(())
        };

        // Resolve the GoSysCall lookahead: the first later event on the same G.
        if let Some(j) = pending_syscall.remove(&ev.g) {
            events[j].args[0] = (ev.typ == EV_GO_SYS_BLOCK) as u64;
        }

        match ev.typ {
            EV_PROC_START => {
                let p = ps.entry(ev.p).or_default();
                if p.running {
                    return err(format!("p {} is running before start (time {})", ev.p, ev.ts));
                }
                p.running = true;
            }
            EV_PROC_STOP => {
                let p = ps.entry(ev.p).or_default();
                if !p.running {
                    return err(format!("p {} is not running before stop (time {})", ev.p, ev.ts));
                }
                if p.g != 0 {
                    return err(format!("p {} is running a goroutine {} during stop (time {})", ev.p, p.g, ev.ts));
                }
                p.running = false;
            }
            EV_GC_START => {
                if in_gc {
                    return err(format!("previous GC is not ended before a new one (time {})", ev.ts));
                }
                in_gc = true;
                ev.p = GC_P;
            }
            EV_GC_DONE => {
                if !in_gc {
                    return err(format!("bogus GC end (time {})", ev.ts));
                }
                in_gc = false;
            }
            EV_STW_START => {
                if in_stw {
                    return err(format!("previous STW is not ended before a new one (time {})", ev.ts));
                }
                in_stw = true;
            }
            EV_STW_DONE => {
                if !in_stw {
                    return err(format!("bogus STW end (time {})", ev.ts));
                }
                in_stw = false;
            }
            EV_GC_SWEEP_START => {
                let p = ps.entry(ev.p).or_default();
                if p.sweep {
                    return err(format!("previous sweeping is not ended before a new one (time {})", ev.ts));
                }
                p.sweep = true;
            }
            EV_GC_MARK_ASSIST_START => {
                let g = gs.entry(ev.g).or_default();
                if g.mark_assist {
                    return err(format!("previous mark assist is not ended before a new one (time {})", ev.ts));
                }
                g.mark_assist = true;
            }
            EV_GC_MARK_ASSIST_DONE => {
                // Mark assists can be in progress when tracing starts.
                gs.entry(ev.g).or_default().mark_assist = false;
            }
            EV_GC_SWEEP_DONE => {
                let p = ps.entry(ev.p).or_default();
                if !p.sweep {
                    return err(format!("bogus sweeping end (time {})", ev.ts));
                }
                p.sweep = false;
            }
            EV_GO_WAITING | EV_GO_IN_SYSCALL => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                if g.state != G_RUNNABLE {
                    let what = if ev.typ == EV_GO_WAITING { "EvGoWaiting" } else { "EvGoInSyscall" };
                    return err(format!("g {} is not runnable before {what} (time {})", ev.g, ev.ts));
                }
                g.state = G_WAITING;
                g.ev = Some(ev.typ);
                gs.insert(ev.g, g);
            }
            EV_GO_CREATE => {
                let g = gs.get(&ev.g).copied().unwrap_or_default();
                let p = ps.get(&ev.p).copied().unwrap_or_default();
                check_running(&p, &g, &ev, true)?;
                if gs.contains_key(&ev.args[0]) {
                    return err(format!("g {} already exists (time {})", ev.args[0], ev.ts));
                }
                gs.insert(
                    ev.args[0],
                    GDesc { state: G_RUNNABLE, ev: Some(ev.typ), create_stack: Some(ev.args[1]), mark_assist: false },
                );
            }
            EV_GO_START | EV_GO_START_LABEL => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let mut p = ps.get(&ev.p).copied().unwrap_or_default();
                if g.state != G_RUNNABLE {
                    return err(format!("g {} is not runnable before start (time {})", ev.g, ev.ts));
                }
                if p.g != 0 {
                    return err(format!(
                        "p {} is already running g {} while start g {} (time {})",
                        ev.p, p.g, ev.g, ev.ts
                    ));
                }
                g.state = G_RUNNING;
                p.g = ev.g;
                if let Some(s) = g.create_stack.take() {
                    ev.stk = s as u32;
                }
                g.ev = None;
                gs.insert(ev.g, g);
                ps.insert(ev.p, p);
            }
            EV_GO_END | EV_GO_STOP => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let mut p = ps.get(&ev.p).copied().unwrap_or_default();
                check_running(&p, &g, &ev, false)?;
                g.state = G_DEAD;
                p.g = 0;
                if ev.typ == EV_GO_END {
                    regions.remove(&ev.g);
                }
                gs.insert(ev.g, g);
                ps.insert(ev.p, p);
            }
            EV_GO_SCHED | EV_GO_PREEMPT => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let mut p = ps.get(&ev.p).copied().unwrap_or_default();
                check_running(&p, &g, &ev, false)?;
                g.state = G_RUNNABLE;
                p.g = 0;
                g.ev = Some(ev.typ);
                gs.insert(ev.g, g);
                ps.insert(ev.p, p);
            }
            EV_GO_UNBLOCK => {
                let g = gs.get(&ev.g).copied().unwrap_or_default();
                let p = ps.get(&ev.p).copied().unwrap_or_default();
                if g.state != G_RUNNING {
                    return err(format!("g {} is not running while unpark (time {})", ev.g, ev.ts));
                }
                if ev.p != TIMER_P && p.g != ev.g {
                    return err(format!("p {} is not running g {} while unpark (time {})", ev.p, ev.g, ev.ts));
                }
                let mut g1 = gs.get(&ev.args[0]).copied().unwrap_or_default();
                if g1.state != G_WAITING {
                    return err(format!("g {} is not waiting before unpark (time {})", ev.args[0], ev.ts));
                }
                if g1.ev == Some(EV_GO_BLOCK_NET) {
                    ev.p = NETPOLL_P;
                }
                g1.state = G_RUNNABLE;
                g1.ev = Some(ev.typ);
                gs.insert(ev.args[0], g1);
            }
            EV_GO_SYS_CALL => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let p = ps.get(&ev.p).copied().unwrap_or_default();
                check_running(&p, &g, &ev, false)?;
                g.ev = Some(ev.typ);
                gs.insert(ev.g, g);
            }
            EV_GO_SYS_BLOCK => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let mut p = ps.get(&ev.p).copied().unwrap_or_default();
                check_running(&p, &g, &ev, false)?;
                g.state = G_WAITING;
                p.g = 0;
                gs.insert(ev.g, g);
                ps.insert(ev.p, p);
            }
            EV_GO_SYS_EXIT => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                if g.state != G_WAITING {
                    return err(format!("g {} is not waiting during syscall exit (time {})", ev.g, ev.ts));
                }
                g.state = G_RUNNABLE;
                g.ev = Some(ev.typ);
                gs.insert(ev.g, g);
            }
            EV_GO_SLEEP | EV_GO_BLOCK | EV_GO_BLOCK_SEND | EV_GO_BLOCK_RECV | EV_GO_BLOCK_SELECT
            | EV_GO_BLOCK_SYNC | EV_GO_BLOCK_COND | EV_GO_BLOCK_NET | EV_GO_BLOCK_GC => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let mut p = ps.get(&ev.p).copied().unwrap_or_default();
                check_running(&p, &g, &ev, false)?;
                g.state = G_WAITING;
                g.ev = Some(ev.typ);
                p.g = 0;
                gs.insert(ev.g, g);
                ps.insert(ev.p, p);
            }
            EV_USER_TASK_CREATE => {
                let id = ev.args[0];
                if let Some(&prev) = tasks.get(&id) {
                    return err(format!(
                        "task id conflicts (id:{id}), {} vs {}",
                        quoted(&ev),
                        quoted(&events[prev])
                    ));
                }
                tasks.insert(id, idx);
            }
            EV_USER_TASK_END => {
                tasks.remove(&ev.args[0]);
            }
            EV_USER_REGION => {
                let mode = ev.args[1];
                if mode == 0 {
                    regions.entry(ev.g).or_default().push(idx);
                } else if mode == 1 {
                    if let Some(stack) = regions.get_mut(&ev.g) {
                        if let Some(&s) = stack.last() {
                            let s = events[s];
                            if s.args[0] != ev.args[0] || s.args[2] != ev.args[2] {
                                return err(format!(
                                    "misuse of region in goroutine {}: span end {} when the inner-most active span start event is {}",
                                    ev.g,
                                    quoted(&ev),
                                    quoted(&s)
                                ));
                            }
                            stack.pop();
                            if stack.is_empty() {
                                regions.remove(&ev.g);
                            }
                        }
                    }
                } else {
                    return err(format!("invalid user region mode: {}", quoted(&ev)));
                }
            }
            _ => {}
        }

        // Events must not refer to stacks that do not exist or are empty.
        if ev.stk != 0 && !stacks.contains_key(&ev.stk) {
            ev.stk = 0;
        }
        if ev.typ == EV_GO_SYS_CALL {
            ev.args[0] = 0;
            pending_syscall.insert(ev.g, idx);
        }
        events[idx] = ev;
    }
    Ok(())
}
