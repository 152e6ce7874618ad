//! The trace reader: merges the per-M batches of each generation into one
//! stream, in the order the scheduler emulation allows.

use crate::error::{Error, ErrorKind, Result};
use crate::event::*;
use crate::generation::{GenItem, Generation, Splitter};
use crate::order::Ordering;
use crate::source::{Input, Whole};
use crate::table::EvTable;
use gotrace_wire::spec::{self as s, EV_CPU_SAMPLE};
use gotrace_wire::Version;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, SendError, Sender};
use std::sync::Arc;

/// Reads from one M's batches, one event at a time.
struct BatchCursor {
    m: ThreadId,
    /// The ordering's slot for `m`.
    slot: usize,
    /// Index into the generation's per-M batch lists.
    mi: usize,
    /// Current batch (`usize::MAX` before the first).
    idx: usize,
    /// Next event and end of the current batch, in the generation's bytes.
    pos: usize,
    end: usize,
    /// Events starting before this lie at least [`FAST_DECODE_MARGIN`]
    /// bytes before `end`.
    fast_end: usize,
    /// The last event read; its time is the base of the next one's (or the
    /// batch's base time, once a batch is entered).
    ev: BaseEvent,
    /// Offset of `ev` in the generation's bytes.
    ev_off: usize,
    /// Events before this offset are known to name only existing stacks
    /// and strings.
    checked_to: usize,
}

impl BatchCursor {
    fn new(m: ThreadId, slot: usize, mi: usize, checked_to: u32) -> Self {
        BatchCursor {
            checked_to: checked_to as usize,
            m,
            slot,
            mi,
            idx: usize::MAX,
            pos: 0,
            end: 0,
            fast_end: 0,
            ev: BaseEvent::default(),
            ev_off: 0,
        }
    }

    /// Reads the next event; false when this M has no more in the generation.
    #[inline(always)]
    fn next_event(&mut self, g: &Generation) -> Result<bool> {
        let start = self.pos;
        let (n, dt) = if start < self.fast_end {
            let bytes: &[u8] = &g.table.bytes;
            // SAFETY: at least FAST_DECODE_MARGIN bytes lie in the batch
            // from `start` on, and `end` is within `bytes`.
            match unsafe { read_timed_event_fast(bytes.as_ptr().add(start), &mut self.ev) } {
                Some(x) => x,
                None => self.read_checked(g, start)?,
            }
        } else {
            if start == self.end && !self.next_batch(g) {
                return Ok(false);
            }
            self.read_checked(g, self.pos)?
        };
        let start = self.pos;
        self.ev.time = g.table.ns(dt).wrapping_add(self.ev.time);
        self.ev_off = start;
        self.pos = start + n;
        Ok(true)
    }

    /// Moves to the next non-empty batch; false if there is none.
    #[inline(never)]
    fn next_batch(&mut self, g: &Generation) -> bool {
        while self.pos == self.end {
            let batches = &g.ms[self.mi].batches;
            let next = self.idx.wrapping_add(1);
            let Some((time, data)) = batches.get(next) else {
                return false;
            };
            // Timestamps are deltas from the batch's base time.
            self.idx = next;
            self.pos = data.start as usize;
            self.end = data.end as usize;
            self.fast_end = (self.end + 1)
                .saturating_sub(FAST_DECODE_MARGIN)
                .max(self.pos);
            self.ev.time = g.table.ns(*time);
        }
        true
    }

    /// Decodes the event at `start` with every check, for batch tails and
    /// anything the fast decoder declines.
    #[inline(never)]
    fn read_checked(&mut self, g: &Generation, start: usize) -> Result<(usize, u64)> {
        let buf = &g.table.bytes[start..self.end];
        read_timed_event(buf, &mut self.ev).map_err(|m| {
            Error::new(
                ErrorKind::Format(m),
                Some(g.table.bytes.offset + start as u64),
            )
        })
    }
}

/// The most bytes [`read_timed_event_fast`] reads: a type byte and up to
/// five varints of at most ten bytes each.
const FAST_DECODE_MARGIN: usize = 1 + 5 * 10;

const _: () = {
    let mut i = 0;
    while i < TIMED_ARGS.len() {
        assert!(TIMED_ARGS[i] as usize <= 5);
        i += 1;
    }
};

/// [`read_timed_event`] without bounds checks, for events that start at
/// least [`FAST_DECODE_MARGIN`] bytes before the end of their batch.
/// Returns `None` for anything the checked decoder would reject (a bad type,
/// a varint that overflows), which that decoder then reports.
///
/// # Safety
/// `p..p + FAST_DECODE_MARGIN` must be readable.
#[inline(always)]
unsafe fn read_timed_event_fast(p: *const u8, e: &mut BaseEvent) -> Option<(usize, u64)> {
    let typ = *p;
    let nargs = TIMED_ARGS[typ as usize];
    if nargs == 0 {
        return None;
    }
    let mut n = 1;
    let ts = varint_fast(p, &mut n)?;
    // Unrolled: each argument goes straight to its slot.
    let a = &mut e.args;
    if nargs > 1 {
        a[0] = varint_fast(p, &mut n)?;
        if nargs > 2 {
            a[1] = varint_fast(p, &mut n)?;
            if nargs > 3 {
                a[2] = varint_fast(p, &mut n)?;
                if nargs > 4 {
                    a[3] = varint_fast(p, &mut n)?;
                }
            }
        }
    }
    e.typ = typ;
    Some((n, ts))
}

/// Decodes a varint at `p + *n`, as [`varint`] does.
///
/// # Safety
/// `p + *n .. p + *n + 10` must be readable.
#[inline(always)]
unsafe fn varint_fast(p: *const u8, n: &mut usize) -> Option<u64> {
    let b = *p.add(*n);
    if b < 0x80 {
        *n += 1;
        return Some(b as u64);
    }
    varint_fast_multi(p, n)
}

#[inline(always)]
unsafe fn varint_fast_multi(p: *const u8, n: &mut usize) -> Option<u64> {
    // The first byte has its high bit set; two bytes are the common case.
    let b0 = *p.add(*n);
    let b1 = *p.add(*n + 1);
    if b1 < 0x80 {
        *n += 2;
        return Some((b0 & 0x7f) as u64 | (b1 as u64) << 7);
    }
    let mut i = *n + 2;
    let mut x = (b0 & 0x7f) as u64 | ((b1 & 0x7f) as u64) << 7;
    let mut shift = 14u32;
    while shift < 63 {
        let b = *p.add(i);
        i += 1;
        x |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            *n = i;
            return Some(x);
        }
        shift += 7;
    }
    // The tenth byte holds bit 63 only (all-ones IDs such as "no thread"
    // are common), as in `varint`.
    let b = *p.add(i);
    if b > 1 {
        return None;
    }
    *n = i + 1;
    Some(x | (b as u64) << 63)
}

/// Per event type, the argument slots holding stack IDs (low 2 bits) or,
/// with the top bit set, string IDs; 0xff ends the list.
static ID_ARGS: [[u8; 4]; 256] = {
    let mut t = [[0xffu8; 4]; 256];
    let mut i = 0;
    while i < s::MAX_EXPERIMENTAL_EVENT as usize {
        let sp = &s::SPECS[i];
        assert!(sp.stack_ids.len() + sp.string_ids.len() <= 4);
        let mut k = 0;
        let mut j = 0;
        while j < sp.stack_ids.len() {
            // Argument slots are 1-based in the spec (0 is the timestamp).
            assert!(sp.stack_ids[j] >= 1 && sp.stack_ids[j] <= 4);
            t[i][k] = (sp.stack_ids[j] - 1) as u8;
            k += 1;
            j += 1;
        }
        j = 0;
        while j < sp.string_ids.len() {
            assert!(sp.string_ids[j] >= 1 && sp.string_ids[j] <= 4);
            t[i][k] = 0x80 | (sp.string_ids[j] - 1) as u8;
            k += 1;
            j += 1;
        }
        i += 1;
    }
    t
};

/// Stack and string IDs known to exist without a table lookup: the runtime
/// numbers both from 1 up, so IDs up to the first gap are all defined.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KnownIds {
    /// Every stack ID in `1..=stacks` exists.
    pub stacks: u64,
    /// Every string ID in `1..=strings` exists.
    pub strings: u64,
}

impl KnownIds {
    pub fn of(t: &EvTable) -> KnownIds {
        let mut k = KnownIds::default();
        while t.stacks.contains(k.stacks + 1) {
            k.stacks += 1;
        }
        while t.strings.contains(k.strings + 1) {
            k.strings += 1;
        }
        k
    }
}

/// Whether the stack and string IDs `ev` refers to exist.
#[inline(always)]
fn ids_exist(ev: &BaseEvent, t: &EvTable, known: KnownIds) -> bool {
    for &a in &ID_ARGS[ev.typ as usize] {
        if a == 0xff {
            break;
        }
        let id = ev.args[(a & 3) as usize];
        let limit = if a & 0x80 == 0 {
            known.stacks
        } else {
            known.strings
        };
        if id > limit && !id_exists(t, a, id) {
            return false;
        }
    }
    true
}

/// Looks up an ID past the dense prefix ([`KnownIds`]) in its table.
#[inline(never)]
fn id_exists(t: &EvTable, a: u8, id: u64) -> bool {
    if a & 0x80 == 0 {
        t.stacks.contains(id)
    } else {
        t.strings.contains(id)
    }
}

/// The offset of the first event in `batches` (one thread's, in order) that
/// fails to decode or names a missing stack or string; `u32::MAX` if none.
/// The events before it need no checks while being ordered.
pub(crate) fn first_unchecked(
    t: &EvTable,
    known: KnownIds,
    batches: &[(u64, std::ops::Range<u32>)],
) -> u32 {
    let bytes: &[u8] = &t.bytes;
    let mut ev = BaseEvent::default();
    for (_, r) in batches {
        let (mut pos, end) = (r.start as usize, r.end.min(bytes.len() as u32) as usize);
        while pos < end {
            let fast = if end - pos >= FAST_DECODE_MARGIN {
                // SAFETY: at least FAST_DECODE_MARGIN bytes lie in `bytes`
                // from `pos` on.
                unsafe { read_timed_event_fast(bytes.as_ptr().add(pos), &mut ev) }
            } else {
                None
            };
            let n = match fast {
                Some((n, _)) => n,
                None => match read_timed_event(&bytes[pos..end], &mut ev) {
                    Ok((n, _)) => n,
                    Err(_) => return pos as u32,
                },
            };
            if !ids_exist(&ev, t, known) {
                return pos as u32;
            }
            pos += n;
        }
    }
    u32::MAX
}

/// Checks that the stack and string IDs `ev` refers to exist.
#[cold]
#[inline(never)]
fn validate_ids(ev: &BaseEvent, g: &Generation, off: u64) -> Result<()> {
    for &a in &ID_ARGS[ev.typ as usize] {
        if a == 0xff {
            break;
        }
        let id = ev.args[(a & 3) as usize];
        let (ok, what) = if a & 0x80 == 0 {
            (g.table.stacks.contains(id), "stack")
        } else {
            (g.table.strings.contains(id), "string")
        };
        if !ok {
            let name = s::SPECS[ev.typ as usize].name;
            return Err(Error::new(
                ErrorKind::Format(format!("found invalid {what} ID {id} for event {name}")),
                Some(off),
            ));
        }
    }
    Ok(())
}

/// Decodes one timed event into `e`, leaving argument slots it does not
/// use untouched. Returns its length and raw timestamp delta.
#[inline(always)]
fn read_timed_event(b: &[u8], e: &mut BaseEvent) -> std::result::Result<(usize, u64), String> {
    let typ = b[0];
    if typ >= s::MAX_EXPERIMENTAL_EVENT {
        return Err(format!("found invalid event type: {typ}"));
    }
    let nargs = TIMED_ARGS[typ as usize];
    if nargs == 0 {
        return Err(format!("found event without a timestamp: type={typ}"));
    }
    e.typ = typ;
    let mut n = 1;
    let ts = varint(b, &mut n).ok_or("found invalid uvarint for timestamp")?;
    for i in 0..nargs as usize - 1 {
        e.args[i] = varint(b, &mut n).ok_or("found invalid uvarint")?;
    }
    Ok((n, ts))
}

/// Per type byte: the number of arguments (timestamp included) of a timed
/// event, or 0 for types that cannot appear in an event batch. All 256
/// bytes have an entry, so indexing needs no bounds check.
static TIMED_ARGS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < s::MAX_EXPERIMENTAL_EVENT as usize {
        let sp = &s::SPECS[i];
        if sp.is_timed {
            t[i] = sp.args.len() as u8;
        }
        i += 1;
    }
    t
};

/// Decodes a uvarint at `b[*n..]`, advancing `n`. Same rules as Go's.
#[inline(always)]
fn varint(b: &[u8], n: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    let mut shift = 0u32;
    let mut i = *n;
    loop {
        let byte = *b.get(i)?;
        i += 1;
        if byte < 0x80 {
            if shift == 63 && byte > 1 {
                return None;
            }
            *n = i;
            return Some(x | (byte as u64) << shift);
        }
        if shift == 63 {
            return None;
        }
        x |= ((byte & 0x7f) as u64) << shift;
        shift += 7;
    }
}

/// A frontier entry: an M's next event time and its cursor's index.
#[derive(Clone, Copy)]
struct HeapEnt {
    time: Time,
    ci: usize,
}

// The frontier is a binary min-heap on the next event's time. Its exact
// shape matters: it decides which M is tried first when timestamps tie, and
// so the output order. It behaves like the reference's. It holds small
// entries; the cursors themselves stay put.
#[inline]
fn sift_up(h: &mut [HeapEnt], mut i: usize) -> usize {
    while i > 0 && h[(i - 1) / 2].time > h[i].time {
        h.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    i
}

#[inline]
fn sift_down(h: &mut [HeapEnt], mut i: usize) {
    let n = h.len();
    if i >= n {
        return;
    }
    loop {
        // SAFETY: i < n throughout, and children are read only when < n.
        unsafe {
            let mut m = i;
            let mut min_t = h.get_unchecked(i).time;
            let l = 2 * i + 1;
            if l < n && h.get_unchecked(l).time < min_t {
                min_t = h.get_unchecked(l).time;
                m = l;
            }
            let r = l + 1;
            if r < n && h.get_unchecked(r).time < min_t {
                m = r;
            }
            if m == i {
                return;
            }
            std::ptr::swap(h.as_mut_ptr().add(i), h.as_mut_ptr().add(m));
            i = m;
        }
    }
}

#[inline]
fn heap_update(h: &mut [HeapEnt], i: usize) {
    if i == 0 {
        sift_down(h, 0);
        return;
    }
    if sift_up(h, i) != i {
        return;
    }
    sift_down(h, i);
}

/// The earliest time among the root's children; `Time::MAX` if none.
#[inline]
fn children_min(h: &[HeapEnt]) -> Time {
    match h {
        [_, a, b, ..] => a.time.min(b.time),
        [_, a] => a.time,
        _ => Time::MAX,
    }
}

fn heap_remove(h: &mut Vec<HeapEnt>, mut i: usize) {
    // Bubble i to the root regardless of order, then pop the root.
    while i > 0 {
        h.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    let last = h.len() - 1;
    h.swap(0, last);
    h.pop();
    sift_down(h, 0);
}

/// How many events [`Reader::read_event`] advances per batch.
const EVENT_BATCH: usize = 64;

/// What advancing an event did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// It cannot happen yet.
    NotYet,
    /// It was written straight to the event being produced.
    Direct,
    /// It (and possibly events synthesized with it) went to the queue.
    Queued,
}

/// Returns a finished generation's pages to the OS and frees it.
fn release_generation(whole: Option<&Whole>, g: Box<Generation>) {
    if let Some(w) = whole {
        let start = g.table.bytes.offset as usize;
        w.release(start..start + g.table.bytes.len());
    }
    drop(g);
}

#[cold]
#[inline(never)]
fn order_error(version: Version, bc: &BatchCursor, g: &Generation, msg: String) -> Error {
    let off = g.table.bytes.offset + bc.ev_off as u64;
    Error::order(
        format!(
            "broken trace: {msg} (event {} on M {} in generation {} at byte offset {off})",
            version.event_name(bc.ev.typ),
            bc.m,
            g.gen
        ),
        Some(off),
    )
}

/// The merge of the current generation's per-M event streams.
struct Merge {
    /// Min-heap of the Ms with events left, on their next event's time.
    frontier: Vec<HeapEnt>,
    /// The earliest time among the root's children in `frontier` (`MAX`
    /// if none), or `MIN` when unknown. While the root's time stays at or
    /// below it, the root needs no sifting (ties keep the root in place).
    root_limit: Time,
    /// One cursor per M of the generation, in `Generation::ms` order.
    cursors: Vec<BatchCursor>,
}

impl Default for Merge {
    fn default() -> Self {
        Merge {
            frontier: Vec::new(),
            root_limit: Time::MIN,
            cursors: Vec::new(),
        }
    }
}

impl Merge {
    /// Advances the earliest event that can happen next into `out`, its
    /// time not yet made increasing. Returns whether it went through the
    /// queue. Takes its pieces of the reader separately, so that they are
    /// known not to overlap.
    #[inline(always)]
    fn advance(
        &mut self,
        order: &mut Ordering,
        g: &mut Generation,
        version: Version,
        out: &mut EventData,
    ) -> Result<bool> {
        let mut step = self.try_advance(0, order, g, version, out)?;
        if step == Step::NotYet {
            // Rare: the earliest event cannot happen yet. Try the others in
            // time order (a sorted array is still a valid heap).
            crate::gosort::sort_func(&mut self.frontier, |a, b| a.time.cmp(&b.time));
            self.root_limit = Time::MIN;
            for i in 1..self.frontier.len() {
                step = self.try_advance(i, order, g, version, out)?;
                if step != Step::NotYet {
                    break;
                }
            }
            if step == Step::NotYet {
                return Err(self.stuck_error(g, version));
            }
        }
        let queued = step == Step::Queued;
        if queued {
            let popped = order.queue.pop_into(out);
            debug_assert!(popped, "advance queues an event");
        }
        Ok(queued)
    }

    /// Tries to advance the next event of the M at frontier position `i`,
    /// writing it to `out` if it goes straight there.
    #[inline(always)]
    fn try_advance(
        &mut self,
        i: usize,
        order: &mut Ordering,
        g: &mut Generation,
        version: Version,
        out: &mut EventData,
    ) -> Result<Step> {
        debug_assert!(i < self.frontier.len() && self.frontier[i].ci < self.cursors.len());
        // SAFETY: callers pass a position in the frontier, whose entries
        // index `cursors`.
        let bc = unsafe {
            self.cursors
                .get_unchecked_mut(self.frontier.get_unchecked(i).ci)
        };
        let step = if order.advance_fast(&bc.ev, &mut g.table, bc.m, bc.slot, g.gen, out) {
            Step::Direct
        } else {
            match order.advance(&mut bc.ev, &mut g.table, bc.m, bc.slot, g.gen) {
                Ok(false) => return Ok(Step::NotYet),
                Ok(true) => Step::Queued,
                Err(msg) => return Err(order_error(version, bc, g, msg)),
            }
        };
        // The reference checks table references as it yields each event;
        // the event just advanced is yielded next, so check it now.
        if bc.ev_off >= bc.checked_to && !ids_exist(&bc.ev, &g.table, g.known) {
            validate_ids(&bc.ev, g, g.table.bytes.offset + bc.ev_off as u64)?;
        }
        if bc.next_event(g)? {
            let t = bc.ev.time;
            // SAFETY: as above.
            unsafe { self.frontier.get_unchecked_mut(i) }.time = t;
            if i != 0 {
                heap_update(&mut self.frontier, i);
                self.root_limit = Time::MIN;
            } else if t > self.root_limit {
                // Usually the same M goes on being earliest, and the root
                // stays put without looking at its children.
                sift_down(&mut self.frontier, 0);
                self.root_limit = children_min(&self.frontier);
            }
        } else {
            heap_remove(&mut self.frontier, i);
            self.root_limit = Time::MIN;
        }
        Ok(step)
    }

    #[cold]
    fn stuck_error(&self, g: &Generation, version: Version) -> Error {
        let mut msg = format!(
            "broken trace: failed to advance: no event of generation {} can happen next; frontier:",
            g.gen
        );
        let mut first_off = None;
        for h in &self.frontier {
            let bc = &self.cursors[h.ci];
            let off = g.table.bytes.offset + bc.ev_off as u64;
            first_off.get_or_insert(off);
            msg.push_str(&format!(
                "\n  M {} [{} time={} at byte offset {off}]",
                bc.m,
                version.event_name(bc.ev.typ),
                bc.ev.time
            ));
        }
        Error::order(msg, first_off)
    }
}

/// Why [`run_frontier`] stopped.
enum Stop {
    /// `out` is full.
    Full,
    /// The earliest M's next event, due at or before `cpu_time`, is one
    /// the fast path declines: it is for [`Merge::advance`]. `out` has room.
    Declined,
    /// No event is due before the next CPU sample, or none is left.
    Later,
    /// The trace is broken.
    Err(Error),
}

/// Advances events into `out` for as long as the earliest M's next event
/// goes straight out ([`Ordering::advance_fast_ctx`]) and is due at or
/// before `cpu_time`, in the order [`Merge::advance`] would (it leaves the
/// frontier as that would after the same events). Usually the same M goes
/// on being earliest for a run of events, which then need no frontier
/// upkeep and keep the thread's context at hand, stored back once at the
/// end of the run. Times in `out` are made strictly increasing from
/// `last_ts` on, as the reference does. Returns how many events it wrote.
#[inline(never)]
fn run_frontier(
    mg: &mut Merge,
    order: &mut Ordering,
    g: &mut Generation,
    out: &mut [EventData],
    cpu_time: Time,
    last_ts: &mut Time,
) -> (usize, Stop) {
    let mut ts = *last_ts;
    let mut k = 0;
    let stop = 'runs: loop {
        if k == out.len() {
            break Stop::Full;
        }
        let Some(&root) = mg.frontier.first() else {
            break Stop::Later;
        };
        if root.time > cpu_time {
            break Stop::Later;
        }
        if mg.root_limit == Time::MIN {
            // The frontier is a valid heap whenever the limit is unknown,
            // and its root stays put while its time stays at or below its
            // children's (ties keep the root in place).
            mg.root_limit = children_min(&mg.frontier);
        }
        let limit = mg.root_limit;
        let run_stop = limit.min(cpu_time);
        debug_assert!(root.ci < mg.cursors.len());
        // SAFETY: frontier entries index `cursors`.
        let bc = unsafe { mg.cursors.get_unchecked_mut(root.ci) };
        let Some(mut cur) = order.thread_ctx(bc.m, bc.slot) else {
            break Stop::Declined;
        };
        // One M's run: every exit stores `cur` back.
        let end = loop {
            let Some(o) = out.get_mut(k) else {
                break Some(Stop::Full);
            };
            if !order.advance_fast_ctx(&bc.ev, &mut g.table, &mut cur, g.gen, o) {
                break Some(Stop::Declined);
            }
            // The reference checks table references as it yields each event.
            if bc.ev_off >= bc.checked_to && !ids_exist(&bc.ev, &g.table, g.known) {
                if let Err(e) = validate_ids(&bc.ev, g, g.table.bytes.offset + bc.ev_off as u64) {
                    order.set_thread_ctx(bc.slot, cur);
                    break 'runs Stop::Err(e);
                }
            }
            let t = &mut o.base.time;
            if *t <= ts {
                *t = ts.wrapping_add(1);
            }
            ts = *t;
            k += 1;
            match bc.next_event(g) {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => {
                    order.set_thread_ctx(bc.slot, cur);
                    break 'runs Stop::Err(e);
                }
            }
            if bc.ev.time > run_stop {
                break Some(Stop::Later);
            }
        };
        order.set_thread_ctx(bc.slot, cur);
        let t = bc.ev.time;
        match end {
            // The M has no events left.
            None => {
                heap_remove(&mut mg.frontier, 0);
                mg.root_limit = Time::MIN;
            }
            Some(Stop::Later) => {
                // SAFETY: the frontier is not empty.
                unsafe { mg.frontier.get_unchecked_mut(0) }.time = t;
                if t > limit {
                    sift_down(&mut mg.frontier, 0);
                    mg.root_limit = children_min(&mg.frontier);
                }
            }
            Some(stop) => {
                // Still the root: its time is at or below `limit`.
                // SAFETY: the frontier is not empty.
                unsafe { mg.frontier.get_unchecked_mut(0) }.time = t;
                break stop;
            }
        }
    };
    *last_ts = ts;
    (k, stop)
}

/// Where generations come from: parsed on a helper thread, one ahead.
enum Gens {
    /// From the helper thread, which also takes finished generations back
    /// to return their pages and free them, off the ordering thread.
    Thread {
        rx: Receiver<GenItem>,
        retired: Sender<Box<Generation>>,
    },
    Inline(Box<Splitter>),
    /// v1 traces have no generations.
    None,
}

impl Gens {
    fn next(&mut self) -> Option<GenItem> {
        match self {
            Gens::Thread { rx, .. } => match rx.recv() {
                Ok(GenItem::End) => None,
                Ok(item) => Some(item),
                // The decoder thread sends End when done; a closed channel
                // without it means the thread died, which must not pass for
                // a clean end of the trace.
                Err(_) => Some(GenItem::Err(Error::new(
                    ErrorKind::Io(
                        "internal error: the generation decoder thread stopped unexpectedly".into(),
                    ),
                    None,
                ))),
            },
            Gens::Inline(s) => s.next(),
            Gens::None => None,
        }
    }
}

/// Reads a Go execution trace and yields its events in order.
///
/// ```no_run
/// let mut r = gotrace::Reader::open("trace.out")?;
/// while let Some(ev) = r.read_event()? {
///     println!("{} at {}", ev.kind(), ev.time());
/// }
/// # Ok::<(), gotrace::Error>(())
/// ```
pub struct Reader {
    version: Version,
    gens: Gens,
    gen: Option<Box<Generation>>,
    merge: Merge,
    cpu_next: usize,
    /// Time of CPU sample `cpu_next`, or `Time::MAX` if none is left.
    cpu_time: Time,
    order: Ordering,
    last_ts: Time,
    syncs: u64,
    pending_err: Option<Error>,
    done: bool,
    /// The event being lent out is the final Sync.
    last_event: bool,
    /// The event being lent out by the slow path, and whether it refers to
    /// a table.
    cur: EventData,
    cur_has_table: bool,
    /// Events of the current generation advanced ahead in a batch (all
    /// refer to its table), lent out in order: `buf[buf_pos..buf_len]` are
    /// still to come. Advancing many events per call keeps the per-event
    /// cost of a call (and its checks) off the common path.
    buf: Vec<EventData>,
    buf_pos: usize,
    buf_len: usize,
    /// An error met while filling `buf`, reported once `buf` is drained.
    buf_err: Option<Error>,
    whole: Option<Arc<Whole>>,
    /// Set for Go 1.11–1.21 traces, which bypass generations and ordering.
    v1: Option<Box<crate::v1::Converter>>,
}

/// Where a generation lies in the input. Progress through a trace is
/// `offset + len` of the current generation out of [`Reader::input_len`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationInfo {
    /// The generation number the runtime assigned.
    pub number: u64,
    /// Offset of its first batch in the input.
    pub offset: u64,
    /// Its size in bytes.
    pub len: u64,
}

/// Options for opening a trace.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Decode generations on a helper thread while ordering the previous one.
    pub parallel: bool,
    /// Repair Go 1.11–1.21 traces broken by the runtime's missing syscall
    /// exit for cgo callbacks on C-created threads (the reference rejects
    /// them with "no consistent ordering of events possible"). Valid traces
    /// read the same either way.
    pub repair: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallel: true,
            repair: true,
        }
    }
}

impl Options {
    /// Sets [`Options::parallel`].
    pub fn parallel(mut self, yes: bool) -> Self {
        self.parallel = yes;
        self
    }

    /// Sets [`Options::repair`]; `false` rejects what the reference rejects.
    pub fn repair(mut self, yes: bool) -> Self {
        self.repair = yes;
        self
    }
}

impl Reader {
    /// Opens a trace file by memory-mapping it.
    pub fn open(path: impl AsRef<Path>) -> Result<Reader> {
        Self::open_with(path, Options::default())
    }

    /// Opens a trace file by memory-mapping it, with options.
    pub fn open_with(path: impl AsRef<Path>, opts: Options) -> Result<Reader> {
        let path = path.as_ref();
        let f = std::fs::File::open(path)
            .map_err(|e| Error::new(ErrorKind::Io(format!("{}: {e}", path.display())), None))?;
        // SAFETY: the map is read-only; a trace being rewritten underneath us
        // can yield garbage bytes, which the decoder rejects like any corruption.
        let map = unsafe { memmap2::Mmap::map(&f) };
        let whole = match map {
            // Read-ahead is asked for as the trace is split (see Splitter).
            Ok(m) => Whole::Mmap(m),
            // Empty files and special files cannot be mapped; read them instead.
            Err(_) => {
                let mut v = Vec::new();
                std::fs::File::open(path)
                    .and_then(|mut f| f.read_to_end(&mut v))
                    .map_err(|e| {
                        Error::new(ErrorKind::Io(format!("{}: {e}", path.display())), None)
                    })?;
                Whole::Vec(v)
            }
        };
        Self::from_whole(Arc::new(whole), opts)
    }

    /// Reads a trace held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Reader> {
        Self::from_bytes_with(bytes, Options::default())
    }

    /// Reads a trace held in memory, with options.
    pub fn from_bytes_with(bytes: Vec<u8>, opts: Options) -> Result<Reader> {
        Self::from_whole(Arc::new(Whole::Vec(bytes)), opts)
    }

    /// Reads a trace from a stream, holding at most a few generations in memory.
    pub fn from_reader(r: impl Read + Send + 'static) -> Result<Reader> {
        let mut input = Input::Stream {
            r: Box::new(r),
            buf: Vec::new(),
            base: 0,
            eof: false,
        };
        while input.window().len() < 32
            && input
                .fill()
                .map_err(|e| Error::new(ErrorKind::Io(e.to_string()), Some(0)))?
        {}
        Self::from_input(input, None, Options::default())
    }

    /// Reads a trace from a stream, with options.
    pub fn from_reader_with(r: impl Read + Send + 'static, opts: Options) -> Result<Reader> {
        let mut input = Input::Stream {
            r: Box::new(r),
            buf: Vec::new(),
            base: 0,
            eof: false,
        };
        while input.window().len() < 32
            && input
                .fill()
                .map_err(|e| Error::new(ErrorKind::Io(e.to_string()), Some(0)))?
        {}
        Self::from_input(input, None, opts)
    }

    fn from_whole(whole: Arc<Whole>, opts: Options) -> Result<Reader> {
        Self::from_input(Input::Whole(whole.clone()), Some(whole), opts)
    }

    fn from_input(input: Input, whole: Option<Arc<Whole>>, opts: Options) -> Result<Reader> {
        let h = gotrace_wire::read_header(input.window())?;
        if h.version.is_v1() {
            return Self::from_v1(input, h.version, opts.repair);
        }
        let mut splitter = Splitter::new(input, h.version, h.len);
        let gens = if opts.parallel {
            let (tx, rx) = sync_channel(1);
            let (retired, retired_rx) = channel::<Box<Generation>>();
            let whole = whole.clone();
            std::thread::Builder::new()
                .name("gotrace-generations".into())
                .spawn(move || {
                    let release = |g: Box<Generation>| release_generation(whole.as_deref(), g);
                    loop {
                        // Generations the reader has finished with since
                        // this thread last sent one.
                        while let Ok(g) = retired_rx.try_recv() {
                            release(g);
                        }
                        let Some(item) = splitter.next() else {
                            break;
                        };
                        if tx.send(item).is_err() {
                            return;
                        }
                    }
                    if tx.send(GenItem::End).is_err() {
                        return;
                    }
                    // Until the reader is dropped.
                    for g in retired_rx {
                        release(g);
                    }
                })
                .map_err(|e| Error::new(ErrorKind::Io(e.to_string()), None))?;
            Gens::Thread { rx, retired }
        } else {
            Gens::Inline(Box::new(splitter))
        };
        Ok(Reader {
            version: h.version,
            gens,
            gen: None,
            merge: Merge::default(),
            cpu_next: 0,
            cpu_time: Time::MAX,
            order: Ordering::new(h.version),
            last_ts: 0,
            syncs: 0,
            pending_err: None,
            done: false,
            last_event: false,
            cur: EventData::default(),
            cur_has_table: false,
            buf: Vec::new(),
            buf_pos: 0,
            buf_len: 0,
            buf_err: None,
            whole,
            v1: None,
        })
    }

    /// v1 traces are ordered globally, so the whole trace is parsed up front.
    fn from_v1(mut input: Input, version: Version, repair: bool) -> Result<Reader> {
        while input
            .fill()
            .map_err(|e| Error::new(ErrorKind::Io(e.to_string()), Some(input.base())))?
        {}
        let conv = crate::v1::Converter::with_repair(input.window(), version, repair)?;
        Ok(Reader {
            version,
            gens: Gens::None,
            gen: None,
            merge: Merge::default(),
            cpu_next: 0,
            cpu_time: Time::MAX,
            order: Ordering::new(version),
            last_ts: 0,
            syncs: 0,
            pending_err: None,
            done: false,
            last_event: false,
            cur: EventData::default(),
            cur_has_table: false,
            buf: Vec::new(),
            buf_pos: 0,
            buf_len: 0,
            buf_err: None,
            whole: None,
            v1: Some(Box::new(conv)),
        })
    }

    /// The v1 path: a Sync first, the converted events, a Sync last.
    /// Like the reference, no timestamp fix-up or table validation applies.
    fn next_v1(&mut self) -> Result<()> {
        let v1 = self.v1.as_mut().expect("v1 trace");
        if self.syncs == 0 {
            if let Some(t) = v1.first_time() {
                self.syncs += 1;
                let base = BaseEvent {
                    typ: EV_SYNC_EVENT,
                    time: t.wrapping_sub(1),
                    args: [self.syncs, 0, 0, 0],
                };
                self.cur = EventData {
                    ctx: SchedCtx::NONE,
                    base,
                };
                self.cur_has_table = true;
                return Ok(());
            }
        }
        match v1.next_event() {
            Some(Ok((ctx, base))) => {
                self.cur = EventData { ctx, base };
                self.cur_has_table = true;
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => {
                self.syncs += 1;
                self.last_event = true;
                let base = BaseEvent {
                    typ: EV_SYNC_EVENT,
                    time: v1.last_time().wrapping_add(1),
                    args: [self.syncs, 0, 0, 0],
                };
                self.cur = EventData {
                    ctx: SchedCtx::NONE,
                    base,
                };
                self.cur_has_table = false;
                Ok(())
            }
        }
    }

    /// The trace's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The generation whose events are being read, if any.
    pub fn generation(&self) -> Option<GenerationInfo> {
        self.gen.as_deref().map(|g| GenerationInfo {
            number: g.gen,
            offset: g.table.bytes.offset,
            len: g.table.bytes.len() as u64,
        })
    }

    /// Size of the input in bytes, when known (files and buffers).
    pub fn input_len(&self) -> Option<u64> {
        self.whole.as_deref().map(|w| w.len() as u64)
    }

    /// The next event, or `None` at the end of the trace.
    ///
    /// After an error, the reader is finished. Every generation before the
    /// failure has been yielded in full, followed by a Sync event.
    #[inline]
    pub fn read_event(&mut self) -> Result<Option<Event<'_>>> {
        let i = self.buf_pos;
        if i < self.buf_len {
            self.buf_pos = i + 1;
            debug_assert!(self.buf_len <= self.buf.len());
            // SAFETY: `buf_len` never exceeds `buf.len()`.
            let data = unsafe { self.buf.get_unchecked(i) };
            return Ok(Some(Event {
                table: self.gen.as_deref().map(|g| &g.table),
                data,
            }));
        }
        self.refill()
    }

    /// Advances a batch of events into `buf` and lends out the first; the
    /// slow path when none can be advanced that way.
    #[inline(never)]
    fn refill(&mut self) -> Result<Option<Event<'_>>> {
        if let Some(e) = self.buf_err.take() {
            self.finish_reading();
            return Err(e);
        }
        if self.merge.frontier.is_empty() || !self.order.queue.is_empty() {
            // v1 traces, finished readers, generation boundaries, and
            // events synthesized along with others.
            self.buf_pos = 0;
            self.buf_len = 0;
            return self.read_event_slow();
        }
        if self.buf.is_empty() {
            self.buf = vec![EventData::default(); EVENT_BATCH];
        }
        let g = self.gen.as_deref_mut().expect("generation installed");
        let (merge, order, buf) = (&mut self.merge, &mut self.order, &mut self.buf[..]);
        let (cpu_time, version) = (self.cpu_time, self.version);
        let mut last_ts = self.last_ts;
        let mut n = 0;
        // The common case: the next event is due before any CPU sample and
        // nothing is queued. It stays within the current generation.
        while n < buf.len() {
            let (k, stop) = run_frontier(merge, order, g, &mut buf[n..], cpu_time, &mut last_ts);
            n += k;
            match stop {
                Stop::Declined => {}
                Stop::Full | Stop::Later => break,
                Stop::Err(e) => {
                    self.buf_err = Some(e);
                    break;
                }
            }
            // The root's next event needs the general path.
            // SAFETY: n < buf.len().
            let out = unsafe { buf.get_unchecked_mut(n) };
            match merge.advance(order, g, version, out) {
                Ok(queued) => {
                    // Times are made strictly increasing, as the reference does.
                    let t = &mut out.base.time;
                    if *t <= last_ts {
                        *t = last_ts.wrapping_add(1);
                    }
                    last_ts = *t;
                    n += 1;
                    // Only the queue's first event was taken.
                    if queued && !order.queue.is_empty() {
                        break;
                    }
                }
                Err(e) => {
                    self.buf_err = Some(e);
                    break;
                }
            }
        }
        self.last_ts = last_ts;
        self.buf_len = n;
        if n == 0 {
            self.buf_pos = 0;
            if let Some(e) = self.buf_err.take() {
                self.finish_reading();
                return Err(e);
            }
            return self.read_event_slow();
        }
        self.buf_pos = 1;
        Ok(Some(Event {
            table: self.gen.as_deref().map(|g| &g.table),
            data: &self.buf[0],
        }))
    }

    /// Marks the reader finished: nothing more is read.
    fn finish_reading(&mut self) {
        self.done = true;
        // refill looks only at the frontier.
        self.merge.frontier.clear();
    }

    /// [`Reader::read_event`] for everything but the common case.
    #[inline(never)]
    fn read_event_slow(&mut self) -> Result<Option<Event<'_>>> {
        if self.done {
            return Ok(None);
        }
        let res = if self.v1.is_some() {
            self.next_v1()
        } else {
            self.next_inner()
        };
        match res {
            Ok(()) => {}
            Err(e) => {
                self.finish_reading();
                return Err(e);
            }
        }
        if self.last_event {
            self.finish_reading();
        }
        let table = match (&self.v1, self.cur_has_table) {
            (_, false) => None,
            (Some(v1), true) => Some(v1.table()),
            (None, true) => self.gen.as_ref().map(|g| &g.table),
        };
        Ok(Some(Event {
            table,
            data: &self.cur,
        }))
    }

    /// Sets `self.cur` to the next event.
    fn next_inner(&mut self) -> Result<()> {
        if self.order.queue.pop_into(&mut self.cur) {
            return self.finish_cur(true);
        }
        // An event is due before any CPU sample.
        if let Some(root) = self.merge.frontier.first() {
            if root.time <= self.cpu_time {
                return self.advance_frontier_cur();
            }
        }
        let cpu_left = self
            .gen
            .as_ref()
            .is_some_and(|g| self.cpu_next < g.cpu_samples.len());
        if self.merge.frontier.is_empty() && !cpu_left {
            return self.next_generation();
        }
        let g = self.gen.as_deref().expect("generation installed");
        if let Some(smp) = g.cpu_samples.get(self.cpu_next) {
            if self.merge.frontier.is_empty() || smp.time < self.merge.frontier[0].time {
                self.cpu_next += 1;
                self.cpu_time = g
                    .cpu_samples
                    .get(self.cpu_next)
                    .map_or(Time::MAX, |s| s.time);
                let ctx = SchedCtx {
                    g: smp.g,
                    p: smp.p,
                    m: smp.m,
                };
                let base = BaseEvent {
                    typ: EV_CPU_SAMPLE,
                    time: smp.time,
                    args: [smp.stack, 0, 0, 0],
                };
                if g.table.stack(smp.stack).is_none() {
                    // The reference panics here; we report it.
                    return Err(Error::new(
                        ErrorKind::Format(format!(
                            "found invalid stack ID {} for event CPUSample",
                            smp.stack
                        )),
                        Some(g.table.bytes.offset + smp.off as u64),
                    ));
                }
                return self.finish(ctx, base, true);
            }
        }
        self.advance_frontier_cur()
    }

    /// [`Merge::advance`] into `self.cur`.
    fn advance_frontier_cur(&mut self) -> Result<()> {
        let g = self.gen.as_deref_mut().expect("generation installed");
        self.merge
            .advance(&mut self.order, g, self.version, &mut self.cur)?;
        self.cur.base.time = self.next_time(self.cur.base.time);
        self.cur_has_table = true;
        Ok(())
    }

    fn next_generation(&mut self) -> Result<()> {
        if let Some(e) = self.pending_err.take() {
            return Err(e);
        }
        self.retire_generation();
        match self.gens.next() {
            Some(GenItem::Gen(g)) => {
                self.cpu_next = 0;
                self.cpu_time = g.cpu_samples.first().map_or(Time::MAX, |s| s.time);
                let mg = &mut self.merge;
                mg.frontier.clear();
                mg.root_limit = Time::MIN;
                mg.cursors.clear();
                for mi in 0..g.ms.len() {
                    let m = g.ms[mi].m;
                    let slot = if m == NO_THREAD {
                        0
                    } else {
                        self.order.thread_slot(m)
                    };
                    let mut bc = BatchCursor::new(m, slot, mi, g.ms[mi].checked_to);
                    if bc.next_event(&g)? {
                        mg.frontier.push(HeapEnt {
                            time: bc.ev.time,
                            ci: mg.cursors.len(),
                        });
                        mg.cursors.push(bc);
                        let last = mg.frontier.len() - 1;
                        sift_up(&mut mg.frontier, last);
                    }
                }
                self.order
                    .start_generation(g.gen, !self.merge.frontier.is_empty());
                self.syncs += 1;
                let time = g.table.ns(g.min_ts);
                self.gen = Some(g);
                self.sync_event(time, true)
            }
            Some(GenItem::End) | None => {
                self.syncs += 1;
                let r = self.sync_event(self.last_ts, false);
                self.pending_done();
                r
            }
            Some(GenItem::Err(e)) => {
                self.pending_err = Some(e);
                self.syncs += 1;
                self.sync_event(self.last_ts, false)
            }
        }
    }

    fn pending_done(&mut self) {
        // The final Sync is being returned; nothing follows it.
        self.last_event = true;
    }

    /// Drops the finished generation and returns its pages to the OS: on
    /// the helper thread if there is one (both take a while for megabytes).
    fn retire_generation(&mut self) {
        if let Some(g) = self.gen.take() {
            let g = match &self.gens {
                Gens::Thread { retired, .. } => match retired.send(g) {
                    Ok(()) => return,
                    Err(SendError(g)) => g,
                },
                _ => g,
            };
            release_generation(self.whole.as_deref(), g);
        }
    }

    fn sync_event(&mut self, time: Time, has_table: bool) -> Result<()> {
        let base = BaseEvent {
            typ: EV_SYNC_EVENT,
            time,
            args: [self.syncs, 0, 0, 0],
        };
        self.finish(SchedCtx::NONE, base, has_table)
    }

    /// Makes times strictly increasing, as the reference does.
    #[inline]
    fn finish(&mut self, ctx: SchedCtx, base: BaseEvent, has_table: bool) -> Result<()> {
        self.cur.ctx = ctx;
        self.cur.base = base;
        self.finish_cur(has_table)
    }

    /// Makes `self.cur`'s time strictly increasing, as the reference does.
    #[inline]
    fn finish_cur(&mut self, has_table: bool) -> Result<()> {
        self.cur.base.time = self.next_time(self.cur.base.time);
        self.cur_has_table = has_table;
        Ok(())
    }

    /// The time the next event gets for time `t`: times are made strictly
    /// increasing, as the reference does.
    #[inline(always)]
    fn next_time(&mut self, mut t: Time) -> Time {
        if t <= self.last_ts {
            t = self.last_ts.wrapping_add(1);
        }
        self.last_ts = t;
        t
    }
}

/// Opens a trace file. See [`Reader::open`].
pub fn open(path: impl AsRef<Path>) -> Result<Reader> {
    Reader::open(path)
}
