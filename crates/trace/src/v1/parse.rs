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
//! Events are kept in a compact `Store`; steps 3's sort and time conversion
//! happen as it is read. Error texts are the reference's; every error names
//! a byte offset.

use super::ev::*;
use super::store::{Cursor, Store, View};
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
    /// Events in their final order (times in ticks; see `view`).
    pub store: Store,
    pub view: View,
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
    /// Recover from Go 1.11–1.21's missing syscall exits (see `repair`).
    pub repair: bool,
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
    const MIN: f64 = i64::MIN as f64; // -2^63, exact
    if f.is_nan() || !(MIN..-MIN).contains(&f) {
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
            repair: false,
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
        let mut store = self.merge_batches()?;
        if self.ticks_per_sec == 0 {
            return Err(format_err("no EvFrequency event", self.data.len()));
        }
        let min_ts = Cursor::default().next(&store).map_or(0, |(e, _, _)| e.ts);
        let view = View {
            min_ts,
            freq: 1e9 / self.ticks_per_sec as f64,
            timer_goids: self.timer_goids,
        };
        post_process(&mut store, &view, &self.stacks)?;
        Ok(Parsed {
            store,
            view,
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
        match usize::try_from(n)
            .ok()
            .and_then(|n| self.off.checked_add(n))
        {
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
        let Some(&b) = self.data.get(start) else {
            return Ok(false);
        };
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
                        return Err(format_err(
                            format!("string has too large length {ln}"),
                            start,
                        ));
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
                let arg_err = || {
                    format_err(
                        format!("failed to read event {typ} argument: {MALFORMED}"),
                        start,
                    )
                };
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
                        let r = self.read_full(v).ok_or_else(|| {
                            format_err("failed to read trace: unexpected EOF", start)
                        })?;
                        let mut i = r.start;
                        while i < r.end {
                            let v = uvarint(&self.data[..r.end], &mut i)
                                .ok_or_else(|| format_err(MALFORMED, start))?;
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
                                    return Err(format_err(
                                        format!("string is too large (len={sz})"),
                                        start,
                                    ));
                                }
                                self.raw.sarg = self.read_full(sz).ok_or_else(|| {
                                    format_err("failed to read trace: unexpected EOF", start)
                                })?;
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
                    self.lists.push(BatchList {
                        batches: Vec::new(),
                        next: 0,
                    });
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
                        format!(
                            "CPU sample has wrong number of arguments: want 5, got {}",
                            a.len()
                        ),
                        self.raw.off,
                    ));
                }
                let mut e = Ev {
                    typ,
                    stk: a[4] as u32,
                    args: [0, a[2], a[3]],
                    ..Ev::default()
                };
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
    #[inline(never)]
    fn load_batch(&mut self, pid: i32, buf: &mut Vec<Ev>) -> Result<bool, Error> {
        buf.clear();
        let Some(&li) = self.list_index.get(&pid) else {
            return Ok(false);
        };
        let list = &mut self.lists[li];
        let Some(&(offset, n)) = list.batches.get(list.next) else {
            return Ok(false);
        };
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
                format!(
                    "{} has wrong number of arguments: want {narg}, got {}",
                    desc.name,
                    args.len()
                ),
                off,
            ));
        }
        match typ {
            EV_BATCH => {
                self.last_gs.insert(self.last_p, self.last_g);
                if args[0] != u64::MAX && args[0] > i32::MAX as u64 {
                    return Err(format_err(
                        format!(
                            "processor ID {} is larger than maximum of {}",
                            args[0],
                            i32::MAX
                        ),
                        off,
                    ));
                }
                self.last_p = if args[0] == u64::MAX {
                    -1
                } else {
                    args[0] as i32
                };
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
                        format!(
                            "EvStack has wrong number of arguments: want at least 2, got {}",
                            args.len()
                        ),
                        off,
                    ));
                }
                let size = args[1];
                if size > 1000 {
                    return Err(format_err(
                        format!("EvStack has bad number of frames: {size}"),
                        off,
                    ));
                }
                let want = 2 + 4 * size;
                if args.len() as u64 != want {
                    return Err(format_err(
                        format!(
                            "EvStack has wrong number of arguments: want {want}, got {}",
                            args.len()
                        ),
                        off,
                    ));
                }
                let id = args[0] as u32;
                if id != 0 && size > 0 {
                    let start = self.stack_pcs.len();
                    for f in args[2..].chunks_exact(4) {
                        let pc = f[0];
                        self.stack_pcs.push(pc);
                        self.pcs.entry(pc).or_insert(Frame {
                            func: f[1],
                            file: f[2],
                            line: f[3],
                        });
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
                let mut ev = Ev {
                    typ,
                    p: self.last_p,
                    g: self.last_g,
                    ..Ev::default()
                };
                ev.set_off(off);
                ev.ts = self.last_ts.wrapping_add(args[0] as i64);
                self.last_ts = ev.ts;
                for (i, &a) in args.iter().enumerate().skip(1) {
                    if i == narg - 1 && desc.stack {
                        ev.stk = a as u32;
                    } else {
                        ev.args[i - 1] = a;
                    }
                }
                match typ {
                    EV_GO_START | EV_GO_START_LOCAL | EV_GO_START_LABEL => {
                        self.last_g = ev.args[0];
                        ev.g = self.last_g;
                    }
                    EV_GO_END | EV_GO_STOP | EV_GO_SCHED | EV_GO_PREEMPT | EV_GO_SLEEP
                    | EV_GO_BLOCK | EV_GO_BLOCK_SEND | EV_GO_BLOCK_RECV | EV_GO_BLOCK_SELECT
                    | EV_GO_BLOCK_SYNC | EV_GO_BLOCK_COND | EV_GO_BLOCK_NET | EV_GO_SYS_BLOCK
                    | EV_GO_BLOCK_GC => {
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
    #[inline(never)]
    fn merge_batches(&mut self) -> Result<Store, Error> {
        let mut cpu = std::mem::take(&mut self.cpu_samples);
        crate::gosort::sort_func(&mut cpu, |a, b| a.ts.cmp(&b.ts));
        // The reference ranges over a map here, so its order is random; a
        // small map yields its insertion order rotated by a random amount.
        // We use insertion order (first appearance in the file).
        let mut procs: Vec<Proc> = self
            .list_pids
            .iter()
            .map(|&pid| Proc {
                pid,
                buf: Vec::new(),
                pos: 0,
                done: false,
            })
            .collect();
        procs.push(Proc {
            pid: PROFILE_P,
            buf: cpu,
            pos: 0,
            done: false,
        });

        let mut sink = Sink::default();
        let mut missing_exit = MissingExits {
            enabled: self.repair,
            ..MissingExits::default()
        };
        let mut gs: FxHashMap<u64, GState> = FxHashMap::default();
        let mut frontier: Vec<(i64, usize)> = Vec::new();
        // The reference tries every P that is not in the frontier after each
        // event. Only Ps whose next event orders on the goroutine the last
        // event changed, and needs the state it is now in, can have become
        // ready (and the P of that event), so only those are looked at: the
        // other Ps wait in `waiting`, by the goroutine state they need. The
        // reference's scan order over `avail` (a list it removes from by
        // swapping in the last element) decides the order of pushes onto
        // the frontier, which decides ties, so it is replayed.
        let mut avail: Vec<usize> = (0..procs.len()).collect();
        let mut apos: Vec<usize> = (0..procs.len()).collect();
        let mut waiting: FxHashMap<(u64, u8, u64), Vec<usize>> = FxHashMap::default();
        let mut actions: Vec<(usize, Exam)> = Vec::new();
        let remove = |avail: &mut Vec<usize>, apos: &mut [usize], pi: usize| {
            let at = apos[pi];
            avail.swap_remove(at);
            if let Some(&moved) = avail.get(at) {
                apos[moved] = at;
            }
            apos[pi] = usize::MAX;
        };
        // The first time, every P.
        let mut i = 0;
        while i < avail.len() {
            let pi = avail[i];
            match self.exam(&mut procs, pi, &gs, &missing_exit)? {
                Exam::Wait(g) => {
                    waiting.entry(g).or_default().push(pi);
                    i += 1;
                }
                Exam::Done => remove(&mut avail, &mut apos, pi),
                Exam::Ready(ts) => {
                    procs[pi].pos += 1;
                    remove(&mut avail, &mut apos, pi);
                    heap_push(&mut frontier, (ts, pi));
                }
            }
        }
        loop {
            if frontier.is_empty() {
                if let Some(p) = procs.iter().find(|p| !p.done) {
                    let off = p.buf.get(p.pos).map_or(self.data.len(), |e| e.off());
                    return Err(Error::order(
                        "no consistent ordering of events possible",
                        Some(off as u64),
                    ));
                }
                break;
            }
            let (_, pi) = heap_pop(&mut frontier);
            let mut ev = procs[pi].buf[procs[pi].pos - 1];
            let (g, init, next) = state_transition(&ev);
            if g != UNORDERED {
                let curr = gs.get(&g).copied().unwrap_or_default();
                if !transition_ready(g, curr, init) && missing_exit.ready(&ev, g, curr, init) {
                    // Put in the syscall exit the runtime left out.
                    let mut exit = Ev {
                        typ: EV_GO_SYS_EXIT,
                        ts: ev.ts,
                        p: ev.p,
                        g,
                        args: [g, curr.seq, 0],
                        ..Ev::default()
                    };
                    exit.set_off(ev.off());
                    sink.push(exit);
                    sink.repaired.insert(g);
                    gs.insert(
                        g,
                        GState {
                            seq: curr.seq,
                            status: G_RUNNABLE,
                        },
                    );
                }
            }
            missing_exit.transition(&ev, g);
            ev.typ = match ev.typ {
                EV_GO_START_LOCAL => EV_GO_START,
                EV_GO_UNBLOCK_LOCAL => EV_GO_UNBLOCK,
                EV_GO_SYS_EXIT_LOCAL => EV_GO_SYS_EXIT,
                t => t,
            };
            sink.push(ev);
            let changed = g;
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
                gs.insert(
                    g,
                    GState {
                        seq,
                        status: next.status,
                    },
                );
            }
            // The P goes back to the list, and the scan: the candidates are
            // that P and those waiting on the goroutine just changed.
            avail.push(pi);
            apos[pi] = avail.len() - 1;
            actions.clear();
            if changed != UNORDERED {
                let curr = gs.get(&changed).copied().unwrap_or_default();
                let mut keys = [
                    (changed, curr.status, curr.seq),
                    (changed, curr.status, NOSEQ),
                    (0, 0, 0),
                    (0, 0, 0),
                ];
                let mut n = 2;
                if missing_exit.enabled && curr.status == G_WAITING {
                    // A GoStart made ready by a missing syscall exit.
                    keys[2] = (changed, G_RUNNABLE, curr.seq);
                    keys[3] = (changed, G_RUNNABLE, NOSEQ);
                    n = 4;
                }
                for key in &keys[..n] {
                    if let Some(list) = waiting.remove(key) {
                        for c in list {
                            let e = self.exam(&mut procs, c, &gs, &missing_exit)?;
                            actions.push((c, e));
                        }
                    }
                }
            }
            let e = self.exam(&mut procs, pi, &gs, &missing_exit)?;
            actions.push((pi, e));
            for &(c, e) in &actions {
                if let Exam::Wait(g) = e {
                    waiting.entry(g).or_default().push(c);
                }
            }
            actions.retain(|(_, e)| !matches!(e, Exam::Wait(_)));
            // Replay the scan: the first P in the list that changes is
            // removed and the last one takes its place, to be looked at next.
            while let Some(k) = (0..actions.len()).min_by_key(|&k| apos[actions[k].0]) {
                let (c, e) = actions.swap_remove(k);
                remove(&mut avail, &mut apos, c);
                if let Exam::Ready(ts) = e {
                    procs[c].pos += 1;
                    heap_push(&mut frontier, (ts, c));
                }
            }
        }
        drop(procs);
        sink.finish()
    }
}

/// What a P's next event can do now.
#[derive(Clone, Copy)]
enum Exam {
    /// The P has no more events.
    Done,
    /// Its next event can go into the frontier.
    Ready(i64),
    /// Its next event waits for a goroutine to be in a state:
    /// (goroutine, status, sequence number or NOSEQ for any).
    Wait((u64, u8, u64)),
}

impl Parser<'_> {
    /// Looks at P `pi`'s next event, loading its next batch if it has none.
    fn exam(
        &mut self,
        procs: &mut [Proc],
        pi: usize,
        gs: &FxHashMap<u64, GState>,
        missing_exit: &MissingExits,
    ) -> Result<Exam, Error> {
        while procs[pi].pos == procs[pi].buf.len() {
            let pid = procs[pi].pid;
            let mut buf = std::mem::take(&mut procs[pi].buf);
            let more = self.load_batch(pid, &mut buf)?;
            procs[pi].buf = buf;
            procs[pi].pos = 0;
            if !more {
                procs[pi].done = true;
                return Ok(Exam::Done);
            }
        }
        let ev = &procs[pi].buf[procs[pi].pos];
        let (g, init, _) = state_transition(ev);
        if g != UNORDERED {
            let curr = gs.get(&g).copied().unwrap_or_default();
            if !transition_ready(g, curr, init) && !missing_exit.ready(ev, g, curr, init) {
                return Ok(Exam::Wait((g, init.status, init.seq)));
            }
        }
        Ok(Exam::Ready(ev.ts))
    }
}

/// Go 1.11–1.21 lose a syscall exit when Go is called from a thread C
/// created, so that the reference finds "no consistent ordering of events
/// possible": the runtime makes an extra M (with a goroutine "in a syscall")
/// for such callbacks, and one it makes while tracing is announced with
/// GoCreate+GoInSyscall but without the flag that later lets it write a
/// GoSysExit (`traceOneNewExtraM` does not set `tracedSyscallEnter`). The
/// goroutine's first callback then starts it (GoStart, its sequence number
/// not advanced by an exit) while the trace has it still in the syscall.
///
/// With repair on, a GoInSyscall merged after trace start (after the first
/// Gomaxprocs) marks its goroutine; if the goroutine's next event is a
/// GoStart that is not ready only because the goroutine is in the syscall,
/// it is taken as ready, and a GoSysExit at the GoStart's time is merged
/// first. Off by default: the reference fails on such traces.
#[derive(Default)]
struct MissingExits {
    enabled: bool,
    after_start: bool,
    marked: FxHashSet<u64>,
}

impl MissingExits {
    /// Whether `ev` is such a GoStart.
    #[inline]
    fn ready(&self, ev: &Ev, g: u64, curr: GState, init: GState) -> bool {
        self.enabled
            && matches!(ev.typ, EV_GO_START | EV_GO_START_LOCAL | EV_GO_START_LABEL)
            && curr.status == G_WAITING
            && (init.seq == NOSEQ || init.seq == curr.seq)
            && self.marked.contains(&g)
    }

    /// Notes a merged event that orders on goroutine `g`.
    #[inline]
    fn transition(&mut self, ev: &Ev, g: u64) {
        if !self.enabled {
            return;
        }
        match ev.typ {
            EV_GOMAXPROCS => self.after_start = true,
            EV_GO_IN_SYSCALL if self.after_start => {
                self.marked.insert(g);
            }
            _ if !self.marked.is_empty() => {
                self.marked.remove(&g);
            }
            _ => {}
        }
    }
}

/// Receives the merged events: checks that their times do not go back,
/// gives syscall exits their real timestamps (taken before the event was
/// written), and stores them. The reference does this in passes over the
/// merged events; errors keep its precedence: ordering errors, then "time
/// stamps out of order", then the syscall exit errors.
#[derive(Default)]
struct Sink {
    store: Store,
    prev_ts: Option<i64>,
    /// Offset of the last event whose time is before its predecessor's.
    unsorted: Option<usize>,
    sysexit_err: Option<Error>,
    last_sys_block: FxHashMap<u64, i64>,
    /// Goroutines given a missing syscall exit (see `MissingExits`) whose
    /// next exit is still to come. The runtime keeps the lost exit's time
    /// and puts it in that next exit if it takes the fast path, so there it
    /// is stale (before the syscall even started) and is ignored.
    repaired: FxHashSet<u64>,
}

impl Sink {
    #[inline]
    fn push(&mut self, mut ev: Ev) {
        if self.prev_ts.is_some_and(|p| ev.ts < p) {
            self.unsorted = Some(ev.off());
        }
        self.prev_ts = Some(ev.ts);
        if self.sysexit_err.is_none() {
            match ev.typ {
                EV_GO_SYS_BLOCK | EV_GO_IN_SYSCALL => {
                    self.last_sys_block.insert(ev.g, ev.ts);
                }
                EV_GO_SYS_EXIT => {
                    let mut ts = ev.args[2] as i64;
                    if !self.repaired.is_empty() && self.repaired.remove(&ev.g) {
                        let block = self.last_sys_block.get(&ev.g).copied().unwrap_or(0);
                        if ts < block {
                            ts = 0;
                        }
                    }
                    if ts != 0 {
                        let block = self.last_sys_block.get(&ev.g).copied().unwrap_or(0);
                        if block == 0 {
                            self.sysexit_err = Some(format_err("stray syscall exit", ev.off()));
                        } else if ts < block {
                            self.sysexit_err =
                                Some(format_err("time stamps out of order", ev.off()));
                        } else if ts != ev.ts {
                            ev.ts = ts;
                            self.store.push_moved(ev);
                            return;
                        }
                    }
                }
                _ => {}
            }
        }
        self.store.push(&ev);
    }

    fn finish(mut self) -> Result<Store, Error> {
        if let Some(off) = self.unsorted {
            return Err(format_err("time stamps out of order", off));
        }
        if let Some(e) = self.sysexit_err {
            return Err(e);
        }
        self.store.finish();
        Ok(self.store)
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
        EV_GO_START | EV_GO_START_LABEL => (
            ev.g,
            st(ev.args[1], G_RUNNABLE),
            st(ev.args[1].wrapping_add(1), G_RUNNING),
        ),
        EV_GO_START_LOCAL => (ev.g, st(NOSEQ, G_RUNNABLE), st(SEQINC, G_RUNNING)),
        EV_GO_BLOCK | EV_GO_BLOCK_SEND | EV_GO_BLOCK_RECV | EV_GO_BLOCK_SELECT
        | EV_GO_BLOCK_SYNC | EV_GO_BLOCK_COND | EV_GO_BLOCK_NET | EV_GO_SLEEP | EV_GO_SYS_BLOCK
        | EV_GO_BLOCK_GC => (ev.g, st(NOSEQ, G_RUNNING), st(NOSEQ, G_WAITING)),
        EV_GO_SCHED | EV_GO_PREEMPT => (ev.g, st(NOSEQ, G_RUNNING), st(NOSEQ, G_RUNNABLE)),
        EV_GO_UNBLOCK | EV_GO_SYS_EXIT => (
            ev.args[0],
            st(ev.args[1], G_WAITING),
            st(ev.args[1].wrapping_add(1), G_RUNNABLE),
        ),
        EV_GO_UNBLOCK_LOCAL | EV_GO_SYS_EXIT_LOCAL => {
            (ev.args[0], st(NOSEQ, G_WAITING), st(SEQINC, G_RUNNABLE))
        }
        EV_GC_START => (
            GARBAGE,
            st(ev.args[0], G_DEAD),
            st(ev.args[0].wrapping_add(1), G_DEAD),
        ),
        _ => (UNORDERED, GState::default(), GState::default()),
    }
}

#[inline]
fn transition_ready(g: u64, curr: GState, init: GState) -> bool {
    g == UNORDERED || (init.seq == NOSEQ || init.seq == curr.seq) && init.status == curr.status
}

// The frontier: the reference's binary heap on time, step for step (the
// order of events with equal times depends on its exact shape).
fn heap_push(h: &mut Vec<(i64, usize)>, x: (i64, usize)) {
    h.push(x);
    let mut j = h.len() - 1;
    while j > 0 {
        let i = (j - 1) / 2;
        if h[j].0 >= h[i].0 {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn heap_pop(h: &mut Vec<(i64, usize)>) -> (i64, usize) {
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
        if j2 < n && h[j2].0 < h[j1].0 {
            j = j2;
        }
        if h[j].0 >= h[i].0 {
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
    let mut s = format!(
        "{} {} p={} g={} stk={}",
        ev.ts, desc.name, ev.p, ev.g, ev.stk
    );
    for (i, a) in desc.args.iter().enumerate() {
        let v = if ev.typ == EV_USER_LOG && i == 3 {
            ev.args[2]
        } else {
            ev.args.get(i).copied().unwrap_or(0)
        };
        s.push_str(&format!(" {a}={v}"));
    }
    gotrace_wire::gostr::quote(s.as_bytes())
}

/// Pass 4: checks that the stream is consistent (a P runs one G at a time, a
/// G is blocked before it is unblocked, ...) as the reference's
/// `postProcessTrace`. What it changes in events that shows in the output is
/// recorded with `FLAG` in their records: network unblocks (moved to the
/// netpoll P), and for each GoSysCall whether the next event of its
/// goroutine is a GoSysBlock (the converter's look-ahead).
#[inline(never)]
fn post_process(
    store: &mut Store,
    view: &View,
    stacks: &FxHashMap<u32, Range<u32>>,
) -> Result<(), Error> {
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
    // Task creations and region starts, as they were when processed.
    let mut tasks: FxHashMap<u64, Ev> = FxHashMap::default();
    let mut regions: FxHashMap<u64, Vec<Ev>> = FxHashMap::default();
    // Goroutine → the record of its last GoSysCall, until its next event.
    let mut pending_syscall: FxHashMap<u64, usize> = FxHashMap::default();
    let zero_missing_stack = |ev: &mut Ev| {
        if ev.stk != 0 && !stacks.contains_key(&ev.stk) {
            ev.stk = 0;
        }
    };
    gs.insert(
        0,
        GDesc {
            state: G_RUNNING,
            ..GDesc::default()
        },
    );
    let mut in_gc = false;
    let mut in_stw = false;

    let mut cursor = Cursor::default();
    while let Some((mut ev, _, at)) = cursor.next(store) {
        view.convert(&mut ev);
        let off = ev.off();
        let name = DESCS[ev.typ as usize].name;
        let err = |msg: String| Err(format_err(msg, off));
        let check_running = |p: &PDesc, g: &GDesc, ev: &Ev, allow_g0: bool| -> Result<(), Error> {
            if g.state != G_RUNNING {
                return Err(format_err(
                    format!("g {} is not running while {name} (time {})", ev.g, ev.ts),
                    off,
                ));
            }
            if p.g != ev.g {
                return Err(format_err(
                    format!(
                        "p {} is not running g {} while {name} (time {})",
                        ev.p, ev.g, ev.ts
                    ),
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
            if ev.typ == EV_GO_SYS_BLOCK {
                store.flag(j);
            }
        }

        match ev.typ {
            EV_PROC_START => {
                let p = ps.entry(ev.p).or_default();
                if p.running {
                    return err(format!(
                        "p {} is running before start (time {})",
                        ev.p, ev.ts
                    ));
                }
                p.running = true;
            }
            EV_PROC_STOP => {
                let p = ps.entry(ev.p).or_default();
                if !p.running {
                    return err(format!(
                        "p {} is not running before stop (time {})",
                        ev.p, ev.ts
                    ));
                }
                if p.g != 0 {
                    return err(format!(
                        "p {} is running a goroutine {} during stop (time {})",
                        ev.p, p.g, ev.ts
                    ));
                }
                p.running = false;
            }
            EV_GC_START => {
                if in_gc {
                    return err(format!(
                        "previous GC is not ended before a new one (time {})",
                        ev.ts
                    ));
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
                    return err(format!(
                        "previous STW is not ended before a new one (time {})",
                        ev.ts
                    ));
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
                    return err(format!(
                        "previous sweeping is not ended before a new one (time {})",
                        ev.ts
                    ));
                }
                p.sweep = true;
            }
            EV_GC_MARK_ASSIST_START => {
                let g = gs.entry(ev.g).or_default();
                if g.mark_assist {
                    return err(format!(
                        "previous mark assist is not ended before a new one (time {})",
                        ev.ts
                    ));
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
                    let what = if ev.typ == EV_GO_WAITING {
                        "EvGoWaiting"
                    } else {
                        "EvGoInSyscall"
                    };
                    return err(format!(
                        "g {} is not runnable before {what} (time {})",
                        ev.g, ev.ts
                    ));
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
                    GDesc {
                        state: G_RUNNABLE,
                        ev: Some(ev.typ),
                        create_stack: Some(ev.args[1]),
                        mark_assist: false,
                    },
                );
            }
            EV_GO_START | EV_GO_START_LABEL => {
                let mut g = gs.get(&ev.g).copied().unwrap_or_default();
                let mut p = ps.get(&ev.p).copied().unwrap_or_default();
                if g.state != G_RUNNABLE {
                    return err(format!(
                        "g {} is not runnable before start (time {})",
                        ev.g, ev.ts
                    ));
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
                    return err(format!(
                        "g {} is not running while unpark (time {})",
                        ev.g, ev.ts
                    ));
                }
                if ev.p != TIMER_P && p.g != ev.g {
                    return err(format!(
                        "p {} is not running g {} while unpark (time {})",
                        ev.p, ev.g, ev.ts
                    ));
                }
                let mut g1 = gs.get(&ev.args[0]).copied().unwrap_or_default();
                if g1.state != G_WAITING {
                    return err(format!(
                        "g {} is not waiting before unpark (time {})",
                        ev.args[0], ev.ts
                    ));
                }
                if g1.ev == Some(EV_GO_BLOCK_NET) {
                    ev.p = NETPOLL_P;
                    if let Some(at) = at {
                        store.flag(at);
                    }
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
                    return err(format!(
                        "g {} is not waiting during syscall exit (time {})",
                        ev.g, ev.ts
                    ));
                }
                g.state = G_RUNNABLE;
                g.ev = Some(ev.typ);
                gs.insert(ev.g, g);
            }
            EV_GO_SLEEP | EV_GO_BLOCK | EV_GO_BLOCK_SEND | EV_GO_BLOCK_RECV
            | EV_GO_BLOCK_SELECT | EV_GO_BLOCK_SYNC | EV_GO_BLOCK_COND | EV_GO_BLOCK_NET
            | EV_GO_BLOCK_GC => {
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
                if let Some(prev) = tasks.get(&id) {
                    return err(format!(
                        "task id conflicts (id:{id}), {} vs {}",
                        quoted(&ev),
                        quoted(prev)
                    ));
                }
                let mut e = ev;
                zero_missing_stack(&mut e);
                tasks.insert(id, e);
            }
            EV_USER_TASK_END => {
                tasks.remove(&ev.args[0]);
            }
            EV_USER_REGION => {
                let mode = ev.args[1];
                if mode == 0 {
                    let mut e = ev;
                    zero_missing_stack(&mut e);
                    regions.entry(ev.g).or_default().push(e);
                } else if mode == 1 {
                    if let Some(stack) = regions.get_mut(&ev.g) {
                        if let Some(s) = stack.last() {
                            if s.args[0] != ev.args[0] || s.args[2] != ev.args[2] {
                                return err(format!(
                                    "misuse of region in goroutine {}: span end {} when the inner-most active span start event is {}",
                                    ev.g,
                                    quoted(&ev),
                                    quoted(s)
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

        // (Stack IDs of stacks that do not exist or are empty become 0; the
        // converter does that for the events it yields.)
        if ev.typ == EV_GO_SYS_CALL {
            if let Some(at) = at {
                pending_syscall.insert(ev.g, at);
            }
        }
    }
    Ok(())
}
