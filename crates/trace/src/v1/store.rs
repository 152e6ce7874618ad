//! The ordered events of a whole v1 trace, kept compactly.
//!
//! The reference keeps every event as a 64-byte struct. We encode them as
//! variable-length records (about a fifth of that) in the order the merge
//! produced them, with timestamps in ticks. Syscall exits whose timestamp
//! is replaced by the real exit time move elsewhere in the order; they are
//! kept aside (a one-byte placeholder marks where they were) and merged back
//! on the fly while reading, which gives exactly the reference's stable sort
//! by time: ties go by original position.
//!
//! A record: type byte (6 bits of type, plus `FLAG`), then varints: time
//! delta (zigzag), P (zigzag), G, the type's arguments, its stack ID if it
//! has one, and the input offset delta (zigzag).

use super::ev::*;
use super::parse::{go_f64_to_i64, GC_P, NETPOLL_P, SYSCALL_P, TIMER_P};
use rustc_hash::FxHashSet;

/// Set on a GoUnblock that unblocked a goroutine blocked on the network (its
/// P becomes the fake netpoll P), and on a GoSysCall that blocked.
pub(super) const FLAG: u8 = 0x40;
const PLACEHOLDER: u8 = EV_NONE;

#[derive(Default)]
pub(super) struct Store {
    bytes: Vec<u8>,
    /// Events taken out of the merge order: (original index, event), sorted
    /// by (time, original index) once complete.
    moved: Vec<(u64, Ev)>,
    prev_ts: i64,
    prev_off: i64,
    count: u64,
}

/// Number of arguments a record of this type carries.
#[inline]
fn nargs(typ: u8) -> usize {
    match typ {
        EV_USER_LOG => 3,
        _ => DESCS[typ as usize].args.len(),
    }
}

#[inline]
fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
fn zz(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzz(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// Reads a varint we wrote ourselves.
#[inline(always)]
fn get(b: &[u8], pos: &mut usize) -> u64 {
    let mut x = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*pos];
        *pos += 1;
        x |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return x;
        }
        shift += 7;
    }
}

impl Store {
    /// Appends an event in merge order.
    pub fn push(&mut self, ev: &Ev) {
        let b = &mut self.bytes;
        debug_assert!(ev.typ != PLACEHOLDER && ev.typ < 64);
        b.push(ev.typ);
        put(b, zz(ev.ts.wrapping_sub(self.prev_ts)));
        put(b, zz(ev.p as i64));
        put(b, ev.g);
        for &a in &ev.args[..nargs(ev.typ)] {
            put(b, a);
        }
        if DESCS[ev.typ as usize].stack {
            put(b, ev.stk as u64);
        }
        let off = ev.off() as i64;
        put(b, zz(off.wrapping_sub(self.prev_off)));
        self.prev_ts = ev.ts;
        self.prev_off = off;
        self.count += 1;
    }

    /// Appends an event that goes elsewhere in the final order.
    pub fn push_moved(&mut self, ev: Ev) {
        self.bytes.push(PLACEHOLDER);
        self.moved.push((self.count, ev));
        self.count += 1;
    }

    /// Done appending.
    pub fn finish(&mut self) {
        self.moved.sort_unstable_by_key(|&(i, e)| (e.ts, i));
        self.bytes.shrink_to_fit();
        self.moved.shrink_to_fit();
    }

    /// Sets `FLAG` on the record whose type byte is at `pos`.
    pub fn flag(&mut self, pos: usize) {
        self.bytes[pos] |= FLAG;
    }
}

/// A position in a store's final order.
#[derive(Clone, Default)]
pub(super) struct Cursor {
    pos: usize,
    prev_ts: i64,
    prev_off: i64,
    /// Original index of the next record at `pos`.
    orig: u64,
    moved: usize,
    /// The next main record: (original index, event, flags, position).
    head: Option<(u64, Ev, u8, usize)>,
}

impl Cursor {
    fn decode(&mut self, b: &[u8]) -> Option<(u64, Ev, u8, usize)> {
        while *b.get(self.pos)? == PLACEHOLDER {
            self.pos += 1;
            self.orig += 1;
        }
        let at = self.pos;
        let mut p = at;
        let tb = b[p];
        p += 1;
        let typ = tb & 0x3f;
        let mut ev = Ev {
            typ,
            ..Ev::default()
        };
        ev.ts = self.prev_ts.wrapping_add(unzz(get(b, &mut p)));
        ev.p = unzz(get(b, &mut p)) as i32;
        ev.g = get(b, &mut p);
        for a in ev.args[..nargs(typ)].iter_mut() {
            *a = get(b, &mut p);
        }
        if DESCS[typ as usize].stack {
            ev.stk = get(b, &mut p) as u32;
        }
        let off = self.prev_off.wrapping_add(unzz(get(b, &mut p)));
        ev.set_off(off as usize);
        self.prev_ts = ev.ts;
        self.prev_off = off;
        self.pos = p;
        let orig = self.orig;
        self.orig += 1;
        Some((orig, ev, tb & FLAG, at))
    }

    /// The next event in final order (time in ticks), its flags, and the
    /// position of its record (None for moved events, which have no flags).
    #[inline]
    pub fn next(&mut self, s: &Store) -> Option<(Ev, u8, Option<usize>)> {
        if self.head.is_none() {
            self.head = self.decode(&s.bytes);
        }
        match (&self.head, s.moved.get(self.moved)) {
            (Some((ho, he, _, _)), Some(&(mo, me))) if (me.ts, mo) < (he.ts, *ho) => {
                self.moved += 1;
                Some((me, 0, None))
            }
            (Some(_), _) => {
                let (_, ev, f, at) = self.head.take()?;
                Some((ev, f, Some(at)))
            }
            (None, Some(&(_, me))) => {
                self.moved += 1;
                Some((me, 0, None))
            }
            (None, None) => None,
        }
    }
}

/// What turns a stored event into the reference's event after `parse`:
/// nanoseconds, fake Ps.
pub(super) struct View {
    pub min_ts: i64,
    /// Nanoseconds per tick.
    pub freq: f64,
    pub timer_goids: FxHashSet<u64>,
}

impl View {
    /// Times in nanoseconds; timer unblocks and syscall exits on their fake
    /// Ps (as before post-processing).
    #[inline]
    pub fn convert(&self, ev: &mut Ev) {
        ev.ts = go_f64_to_i64(ev.ts.wrapping_sub(self.min_ts) as f64 * self.freq);
        if ev.typ == EV_GO_UNBLOCK
            && !self.timer_goids.is_empty()
            && self.timer_goids.contains(&ev.g)
        {
            ev.p = TIMER_P;
        }
        if ev.typ == EV_GO_SYS_EXIT {
            ev.p = SYSCALL_P;
        }
    }

    /// Also what post-processing changed: GC starts on the GC P, network
    /// unblocks on the netpoll P, whether a syscall blocked (`args[0]`).
    #[inline]
    pub fn convert_final(&self, ev: &mut Ev, flags: u8) {
        self.convert(ev);
        match ev.typ {
            EV_GC_START => ev.p = GC_P,
            EV_GO_UNBLOCK if flags & FLAG != 0 => ev.p = NETPOLL_P,
            EV_GO_SYS_CALL => ev.args[0] = (flags & FLAG != 0) as u64,
            _ => {}
        }
    }
}
