//! The timeline index: one streaming pass over the trace into compact
//! struct-of-arrays tables that the tile API slices by time.
//!
//! Goroutine transitions dominate (tens of millions on a 1 GB trace), so
//! they are stored in segments of at most `SEG_LEN` transitions: within a
//! segment, transitions are grouped by goroutine, and times are u32 offsets
//! from the segment's base. A goroutine's history is the list of its runs
//! (one per segment it appears in). Everything else is far smaller.

use gotrace::{EventKind, GoState, RangeName, Reader, ResourceKind, Stack};
use rustc_hash::FxHashMap;
use std::sync::{Mutex, OnceLock};

/// Goroutine states, as `GoState`'s discriminants.
pub const S_UNDET: u8 = GoState::Undetermined as u8;
pub const S_NOTEXIST: u8 = GoState::NotExist as u8;
pub const S_RUNNABLE: u8 = GoState::Runnable as u8;
pub const S_RUNNING: u8 = GoState::Running as u8;
pub const S_WAITING: u8 = GoState::Waiting as u8;
pub const S_SYSCALL: u8 = GoState::Syscall as u8;
pub const STATE_NAMES: [&str; 6] = [
    "undetermined",
    "notexist",
    "runnable",
    "running",
    "waiting",
    "syscall",
];

/// "No goroutine/index" marker in u32 columns.
pub const NONE: u32 = u32::MAX;
const SEG_LEN: usize = 1 << 16;
/// Rows with fewer spans than this are merged on the fly.
const LEVEL_MIN: usize = 20_000;
/// Counter samples closer than this are coalesced (last value wins).
const COUNTER_QUANTUM: i64 = 20_000;

/// Interned strings.
#[derive(Default)]
pub struct Strings {
    map: FxHashMap<Box<[u8]>, u32>,
    pub list: Vec<Box<str>>,
}

impl Strings {
    pub fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(String::from_utf8_lossy(s).into());
        self.map.insert(s.into(), i);
        i
    }
    pub fn get(&self, i: u32) -> &str {
        self.list.get(i as usize).map_or("", |s| s)
    }
}

#[derive(Clone, Copy)]
pub struct Frame {
    pub pc: u64,
    pub func: u32,
    pub file: u32,
    pub line: u32,
}

/// Stacks interned across generations as sequences of frame indices.
#[derive(Default)]
pub struct Stacks {
    pub frames: Vec<Frame>,
    frame_of_pc: FxHashMap<u64, u32>,
    seq_map: FxHashMap<Box<[u32]>, u32>,
    /// Stack i's frames are `seq[off[i]..off[i+1]]`; stack 0 is empty.
    pub off: Vec<u32>,
    pub seq: Vec<u32>,
    /// Generation-local stack ID → interned ID, valid while the epoch
    /// matches (bumped at each Sync); IDs are small and dense in practice.
    gen_cache: Vec<(u32, u32)>,
    gen_epoch: u32,
    /// The same for IDs too large for `gen_cache`; cleared at each Sync.
    gen_cache_big: FxHashMap<u64, u32>,
}

/// Interned IDs of byte strings by address. The strings events carry live in
/// their generation's tables, so within a generation an address and length
/// name one string: a hit costs a compare instead of hashing the bytes.
/// Must be cleared at each generation boundary.
struct AddrCache {
    keys: Vec<(usize, usize)>,
    vals: Vec<u32>,
}

impl AddrCache {
    const SIZE: usize = 1024;
    fn new() -> Self {
        AddrCache {
            keys: vec![(0, usize::MAX); Self::SIZE],
            vals: vec![0; Self::SIZE],
        }
    }
    #[inline]
    fn slot(s: &[u8]) -> (usize, (usize, usize)) {
        let a = s.as_ptr() as usize;
        ((a ^ (a >> 10) ^ s.len()) & (Self::SIZE - 1), (a, s.len()))
    }
    #[inline]
    fn get_or(&mut self, s: &[u8], f: impl FnOnce(&[u8]) -> u32) -> u32 {
        let (i, k) = Self::slot(s);
        if self.keys[i] == k {
            return self.vals[i];
        }
        let v = f(s);
        self.keys[i] = k;
        self.vals[i] = v;
        v
    }
    fn clear(&mut self) {
        self.keys.fill((0, usize::MAX));
    }
}

impl Stacks {
    fn new() -> Self {
        Stacks {
            off: vec![0, 0],
            gen_epoch: 1,
            ..Default::default()
        }
    }

    /// Forgets generation-local stack IDs (at each Sync).
    fn new_generation(&mut self) {
        self.gen_epoch = self.gen_epoch.wrapping_add(1);
        if self.gen_epoch == 0 {
            self.gen_cache.clear();
            self.gen_epoch = 1;
        }
        self.gen_cache_big.clear();
    }

    #[inline]
    fn cached(&self, id: u64) -> Option<u32> {
        match self.gen_cache.get(id as usize) {
            Some(&(e, v)) if e == self.gen_epoch => Some(v),
            Some(_) => None,
            None if id >= 1 << 20 => self.gen_cache_big.get(&id).copied(),
            None => None,
        }
    }

    fn cache(&mut self, id: u64, v: u32) {
        if id < 1 << 20 {
            let i = id as usize;
            if self.gen_cache.len() <= i {
                self.gen_cache.resize(i + 1, (0, 0));
            }
            self.gen_cache[i] = (self.gen_epoch, v);
        } else {
            self.gen_cache_big.insert(id, v);
        }
    }

    fn intern(&mut self, st: Stack<'_>, strings: &mut Strings) -> u32 {
        if st.is_empty() {
            return 0;
        }
        if let Some(i) = self.cached(st.id()) {
            return i;
        }
        let mut fr = Vec::with_capacity(16);
        for f in st.frames() {
            let idx = match self.frame_of_pc.get(&f.pc) {
                Some(&i) => i,
                None => {
                    let i = self.frames.len() as u32;
                    self.frames.push(Frame {
                        pc: f.pc,
                        func: strings.intern(f.func),
                        file: strings.intern(f.file),
                        line: f.line.min(u32::MAX as u64) as u32,
                    });
                    self.frame_of_pc.insert(f.pc, i);
                    i
                }
            };
            fr.push(idx);
        }
        let id = match self.seq_map.get(fr.as_slice()) {
            Some(&i) => i,
            None => {
                let i = (self.off.len() - 1) as u32;
                self.seq.extend_from_slice(&fr);
                self.off.push(self.seq.len() as u32);
                self.seq_map.insert(fr.into_boxed_slice(), i);
                i
            }
        };
        self.cache(st.id(), id);
        id
    }

    pub fn frames_of(&self, id: u32) -> &[u32] {
        let i = id as usize;
        if i + 1 >= self.off.len() {
            return &[];
        }
        &self.seq[self.off[i] as usize..self.off[i + 1] as usize]
    }
}

/// Per-goroutine facts.
pub struct Goroutine {
    pub id: i64,
    /// Start function (outermost frame of its first stack), interned.
    pub name: u32,
    pub label: u32,
    pub group: u32,
    pub first: i64,
    pub last: i64,
    pub creator: u32,
    pub create_stack: u32,
}

/// Stack IDs per transition: u16 until an ID needs more.
#[derive(Default)]
pub struct StackCol {
    small: Vec<u16>,
    big: Option<Vec<u32>>,
}

impl StackCol {
    #[inline]
    fn push(&mut self, v: u32) {
        if let Some(b) = &mut self.big {
            b.push(v);
        } else if v < u16::MAX as u32 {
            self.small.push(v as u16);
        } else {
            let mut b: Vec<u32> = Vec::with_capacity(self.small.capacity());
            b.extend(self.small.iter().map(|&x| x as u32));
            b.push(v);
            self.small = Vec::new();
            self.big = Some(b);
        }
    }
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match &self.big {
            Some(b) => b[i],
            None => self.small[i] as u32,
        }
    }
    fn reserve(&mut self, n: usize) {
        self.small.reserve(n);
    }
    fn extend(&mut self, v: &[u32]) {
        if self.big.is_none() && v.iter().all(|&x| x < u16::MAX as u32) {
            self.small.extend(v.iter().map(|&x| x as u16));
        } else {
            for &x in v {
                self.push(x);
            }
        }
    }
    pub fn bytes(&self) -> usize {
        self.small.len() * 2 + self.big.as_ref().map_or(0, |b| b.len() * 4)
    }
}

/// One run: a goroutine's transitions within one segment.
#[derive(Clone, Copy)]
pub struct Run {
    pub seg: u32,
    pub start: u32,
    pub len: u32,
}

/// A column of times in blocks: each a base and u32 offsets, so a time
/// costs 4 bytes. Pushes should be nearly sorted; a time before its
/// block's base (or too far past it) starts a new block.
#[derive(Default)]
pub struct TimeCol {
    base: Vec<i64>,
    first: Vec<u32>,
    off: Vec<u32>,
}

impl TimeCol {
    pub fn push(&mut self, t: i64) {
        let n = self.off.len() as u32;
        match self.base.last() {
            Some(&b) if t >= b && t - b <= u32::MAX as i64 => self.off.push((t - b) as u32),
            _ => {
                self.base.push(t);
                self.first.push(n);
                self.off.push(0);
            }
        }
    }
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let bi = self.first.partition_point(|&f| f as usize <= i) - 1;
        self.base[bi] + self.off[i] as i64
    }
    pub fn len(&self) -> usize {
        self.off.len()
    }
    pub fn is_empty(&self) -> bool {
        self.off.is_empty()
    }
    pub fn last(&self) -> Option<i64> {
        (!self.is_empty()).then(|| self.get(self.len() - 1))
    }
    /// First index whose time fails `pred` (times must be sorted).
    pub fn partition_point(&self, pred: impl Fn(i64) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(self.get(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
    pub fn bytes(&self) -> usize {
        self.off.len() * 4 + self.base.len() * 12
    }
    /// All times in order, without a search per element.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        let mut bi = 0;
        self.off.iter().enumerate().map(move |(i, &o)| {
            while bi + 1 < self.first.len() && self.first[bi + 1] as usize <= i {
                bi += 1;
            }
            self.base[bi] + o as i64
        })
    }
}

/// Spans sorted by start: 12 bytes each (plus `k` where a row needs it).
#[derive(Default)]
pub struct Spans {
    start: TimeCol,
    dur: Vec<u32>,
    /// Ends of spans too long for `dur`.
    long: FxHashMap<u32, i64>,
    /// Goroutine index (or other id) shown on the span.
    pub g: Vec<u32>,
    /// Kind-specific code (a range's name, ...), per span only once the
    /// codes differ and are not all 0 or 1.
    k: Vec<u32>,
    /// Codes as bits while they are all 0 or 1 (e.g. "syscall blocked").
    bits: Vec<u64>,
    /// Where the codes are: K_CONST (all are `k_const`: a range kind's
    /// name, on millions of sweeps), K_BITS or K_FULL.
    k_mode: u8,
    k_const: u32,
    /// Largest duration, to bound backward searches in overlapping rows.
    pub max_dur: i64,
    /// Whether no two spans overlap, so ends are sorted too.
    disjoint: bool,
    /// Pre-merged levels for zoomed-out views, finest first.
    pub levels: Vec<SpanLevel>,
}

/// A row merged at a fixed resolution (see `api::Lod`).
#[derive(Default)]
pub struct SpanLevel {
    pub px_ns: i64,
    pub s: Vec<i64>,
    pub e: Vec<i64>,
    pub k: Vec<u32>,
    pub g: Vec<u32>,
    pub n: Vec<u32>,
    pub max_dur: i64,
}

const K_CONST: u8 = 0;
const K_BITS: u8 = 1;
const K_FULL: u8 = 2;

impl Spans {
    fn push(&mut self, s: i64, e: i64, g: u32, k: u32) {
        let e = e.max(s);
        let i = self.g.len();
        if self.k_mode == K_CONST && k != self.k_const {
            if i == 0 {
                self.k_const = k;
            } else if k <= 1 && self.k_const <= 1 {
                // Only 1s need bits.
                if self.k_const == 1 {
                    self.bits = vec![0; i / 64 + 1];
                    for j in 0..i {
                        self.bits[j / 64] |= 1 << (j % 64);
                    }
                }
                self.k_mode = K_BITS;
            } else {
                self.k = vec![self.k_const; i];
                self.k_mode = K_FULL;
            }
        }
        if self.k_mode == K_BITS && k > 1 {
            self.k = (0..i).map(|j| self.k(j)).collect();
            self.bits = Vec::new();
            self.k_mode = K_FULL;
        }
        if self.k_mode == K_FULL {
            self.k.push(k);
        } else if self.k_mode == K_BITS && k == 1 {
            if self.bits.len() <= i / 64 {
                self.bits.resize(i / 64 + 1, 0);
            }
            self.bits[i / 64] |= 1 << (i % 64);
        }
        self.start.push(s);
        let d = e - s;
        if d >= u32::MAX as i64 {
            self.long.insert(i as u32, e);
            self.dur.push(u32::MAX);
        } else {
            self.dur.push(d as u32);
        }
        self.g.push(g);
        self.max_dur = self.max_dur.max(d);
    }
    #[inline]
    pub fn start(&self, i: usize) -> i64 {
        self.start.get(i)
    }
    #[inline]
    pub fn end(&self, i: usize) -> i64 {
        match self.dur[i] {
            u32::MAX => self.long[&(i as u32)],
            d => self.start(i) + d as i64,
        }
    }
    #[inline]
    pub fn k(&self, i: usize) -> u32 {
        match self.k_mode {
            K_FULL => self.k[i],
            K_BITS => self
                .bits
                .get(i / 64)
                .map_or(0, |b| (b >> (i % 64)) as u32 & 1),
            _ => self.k_const,
        }
    }
    pub fn len(&self) -> usize {
        self.g.len()
    }
    pub fn is_empty(&self) -> bool {
        self.g.is_empty()
    }
    /// Bytes held by the pre-merged levels.
    pub fn level_bytes(&self) -> usize {
        self.levels.iter().map(|l| l.s.len() * 28).sum()
    }
    pub fn bytes(&self) -> usize {
        self.start.bytes()
            + self.dur.len() * 4
            + self.g.len() * 4
            + self.k.len() * 4
            + self.bits.len() * 8
    }
    /// Every span as (start, end, g, k), in order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, i64, u32, u32)> + '_ {
        self.start.iter().enumerate().map(move |(i, s)| {
            let e = match self.dur[i] {
                u32::MAX => self.long[&(i as u32)],
                d => s + d as i64,
            };
            (s, e, self.g[i], self.k(i))
        })
    }

    fn sort(&mut self) {
        let n = self.len();
        let mut prev = i64::MIN;
        let sorted = self.start.iter().all(|s| {
            let ok = prev <= s;
            prev = s;
            ok
        });
        if !sorted {
            let mut v: Vec<(i64, i64, u32, u32)> = (0..n)
                .map(|i| (self.start(i), self.end(i), self.g[i], self.k(i)))
                .collect();
            v.sort_by_key(|x| x.0);
            *self = Spans::default();
            for (s, e, g, k) in v {
                self.push(s, e, g, k);
            }
        }
        let mut prev_end = i64::MIN;
        let disjoint = self.iter().all(|(s, e, _, _)| {
            let ok = prev_end <= s;
            prev_end = e;
            ok
        });
        self.disjoint = disjoint;
    }
    /// Precomputes merged levels so zoomed-out tiles touch few items.
    fn build_levels(&mut self, t0: i64, t1: i64, min_len: usize) {
        self.levels = build_levels(self.len(), self.iter(), t0, t1, min_len);
    }

    /// Indices of spans that may overlap [a, b).
    pub fn window(&self, a: i64, b: i64) -> std::ops::Range<usize> {
        let lo = if self.disjoint {
            let (mut lo, mut hi) = (0, self.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.end(mid) <= a {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        } else {
            self.start
                .partition_point(|s| s < a.saturating_sub(self.max_dur))
        };
        let hi = self.start.partition_point(|s| s < b);
        lo..hi.max(lo)
    }
}

/// Merged levels of a row of `len` spans given in start order: the finest
/// about 8 spans per item, then 8x coarser each.
fn build_levels(
    len: usize,
    spans: impl Iterator<Item = (i64, i64, u32, u32)>,
    t0: i64,
    t1: i64,
    min_len: usize,
) -> Vec<SpanLevel> {
    let mut levels: Vec<SpanLevel> = Vec::new();
    if len < min_len.max(1) {
        return levels;
    }
    let mut spans = Some(spans);
    // Finest level first, about 8 spans per item, then 8x coarser each.
    let mut shifts = Vec::new();
    let mut sh = 10;
    while sh <= 24 && (1usize << sh) < len / 8 {
        shifts.push(sh);
        sh += 3;
    }
    if shifts.is_empty() {
        shifts.push(10);
    }
    for &shift in shifts.iter().rev() {
        let px = 1u32 << shift;
        let mut lod = crate::api::Lod::new(t0, t1.max(t0 + 1), px);
        // Each level merges the one before it.
        match levels.last() {
            None => {
                for (s, e, g, k) in spans.take().into_iter().flatten() {
                    lod.push(s, e, k, g);
                }
            }
            Some(l) => {
                for i in 0..l.s.len() {
                    lod.push_n(l.s[i], l.e[i], l.k[i], l.g[i], l.n[i]);
                }
            }
        }
        let (s, e, k, g, n) = lod.into_parts();
        let max_dur = s.iter().zip(&e).map(|(s, e)| e - s).max().unwrap_or(0);
        levels.push(SpanLevel {
            px_ns: ((t1 - t0) / px as i64).max(1),
            s,
            e,
            k,
            g,
            n,
            max_dur,
        });
    }
    levels
}

/// Puts a proc row's spans in start order (a goroutine first seen running
/// after others ran on its P starts at the trace's start, out of order).
fn sort_proc_spans(tv: TrView<'_>, sp: &mut ProcSpans) {
    let mut v: Vec<(i64, u32, bool)> = proc_spans(tv, sp, 0..sp.len())
        .zip(&sp.tr)
        .enumerate()
        .map(|(i, ((s, _, _, _), &tr))| (s, tr, sp.at_start.binary_search(&(i as u32)).is_ok()))
        .collect();
    v.sort_by_key(|x| x.0);
    sp.tr = v.iter().map(|x| x.1).collect();
    sp.at_start = (0..v.len() as u32).filter(|&i| v[i as usize].2).collect();
    sp.disjoint = false;
}

/// What tiles and details need of a row of spans sorted by start.
pub trait SpanRow {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn start(&self, i: usize) -> i64;
    fn end(&self, i: usize) -> i64;
    /// The goroutine (or other index) shown on span i.
    fn g(&self, i: usize) -> u32;
    fn k(&self, i: usize) -> u32;
    /// Indices of spans that may overlap [a, b).
    fn window(&self, a: i64, b: i64) -> std::ops::Range<usize>;
    fn levels(&self) -> &[SpanLevel];
}

impl SpanRow for Spans {
    fn len(&self) -> usize {
        Spans::len(self)
    }
    fn start(&self, i: usize) -> i64 {
        Spans::start(self, i)
    }
    fn end(&self, i: usize) -> i64 {
        Spans::end(self, i)
    }
    fn g(&self, i: usize) -> u32 {
        self.g[i]
    }
    fn k(&self, i: usize) -> u32 {
        Spans::k(self, i)
    }
    fn window(&self, a: i64, b: i64) -> std::ops::Range<usize> {
        Spans::window(self, a, b)
    }
    fn levels(&self) -> &[SpanLevel] {
        &self.levels
    }
}

/// A proc's row: span i is the time goroutine transition `tr[i]` (one into
/// running) lasted, so a span costs 4 bytes; its start, end and goroutine
/// are read off the transitions. Sorted by start.
#[derive(Default)]
pub struct ProcSpans {
    pub tr: Vec<u32>,
    /// Spans whose goroutine was already running when the trace began:
    /// they start at the trace's start, not at their status event.
    pub at_start: Vec<u32>,
    pub max_dur: i64,
    /// Whether no two spans overlap, so ends are sorted too.
    pub disjoint: bool,
    pub levels: Vec<SpanLevel>,
}

impl ProcSpans {
    pub fn len(&self) -> usize {
        self.tr.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tr.is_empty()
    }
    pub fn bytes(&self) -> usize {
        self.tr.len() * 4 + self.at_start.len() * 4
    }
}

/// A proc's or thread's row with the index its spans refer to.
#[derive(Clone, Copy)]
pub struct ProcRow<'a> {
    pub ix: &'a Index,
    pub sp: &'a ProcSpans,
    /// A thread's syscalls: `k` is 1 where the goroutine left the syscall
    /// for anything but running ("blocked"), read off the next transition.
    pub syscalls: bool,
}

impl ProcRow<'_> {
    /// (start, end, goroutine) of span i.
    pub fn get(&self, i: usize) -> (i64, i64, u32) {
        let tr = self.sp.tr[i];
        let tv = TrView::of(self.ix);
        let g = tv.g_of(tr);
        let (s, e) = tv.span_from(g, tr);
        let s = if self.sp.at_start.binary_search(&(i as u32)).is_ok() {
            self.ix.t0
        } else {
            s
        };
        (s, e, g)
    }

    /// Every span as (start, end, g), in order, cheaper than `get` per span.
    pub fn iter(&self) -> impl Iterator<Item = (i64, i64, u32)> + '_ {
        proc_spans(TrView::of(self.ix), self.sp, 0..self.sp.len()).map(|(s, e, g, _)| (s, e, g))
    }

    /// Spans `range` as (start, end, g), in order.
    pub fn iter_range(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (i64, i64, u32)> + '_ {
        proc_spans(TrView::of(self.ix), self.sp, range).map(|(s, e, g, _)| (s, e, g))
    }
}

/// The transition tables a proc row's spans are read from.
#[derive(Clone, Copy)]
pub struct TrView<'a> {
    flush_runs: &'a [(u32, u32)],
    seg_first_run: &'a [u32],
    seg_base: &'a [i64],
    tr_t: &'a [u32],
    runs: &'a [Run],
    run_off: &'a [u32],
    tr_shape: &'a StackCol,
    shapes: &'a [(u8, u8, u32)],
    t0: i64,
    t1: i64,
}

impl<'a> TrView<'a> {
    pub fn of(ix: &'a Index) -> Self {
        TrView {
            flush_runs: &ix.flush_runs,
            seg_first_run: &ix.seg_first_run,
            seg_base: &ix.seg_base,
            tr_t: &ix.tr_t,
            runs: &ix.runs,
            run_off: &ix.run_off,
            tr_shape: &ix.tr_shape,
            shapes: &ix.shapes,
            t0: ix.t0,
            t1: ix.t1,
        }
    }

    /// The goroutine of transition `tr`.
    fn g_of(&self, tr: u32) -> u32 {
        self.flush_runs[self.flush_runs.partition_point(|r| r.0 <= tr) - 1].1
    }

    /// Whether the transition after `tr` (if any) leaves for a state other
    /// than running: a thread's "syscall blocked".
    fn blocked_after(&self, next: u32) -> u32 {
        (next != NONE && self.shapes[self.tr_shape.get(next as usize) as usize].0 != S_RUNNING)
            as u32
    }

    fn time(&self, r: &Run, k: usize) -> i64 {
        self.seg_base[r.seg as usize] + self.tr_t[r.start as usize + k] as i64
    }

    /// The times of goroutine g's transition `tr` and of the one after it
    /// (the trace's end if none).
    pub fn span_from(&self, g: u32, tr: u32) -> (i64, i64) {
        let (s, e, _) = self.span_next(g, tr);
        (s, e)
    }

    /// `span_from`, and the transition after `tr` (NONE if none).
    fn span_next(&self, g: u32, tr: u32) -> (i64, i64, u32) {
        let g = g as usize;
        if g + 1 >= self.run_off.len() {
            return (self.t1, self.t1, NONE);
        }
        let runs = &self.runs[self.run_off[g] as usize..self.run_off[g + 1] as usize];
        let ri = runs.partition_point(|r| r.start + r.len <= tr);
        let Some(r) = runs.get(ri) else {
            return (self.t1, self.t1, NONE);
        };
        let k = (tr - r.start) as usize;
        let s = self.time(r, k);
        let (e, next) = if k + 1 < r.len as usize {
            (self.time(r, k + 1), tr + 1)
        } else {
            runs.get(ri + 1)
                .map_or((self.t1, NONE), |r2| (self.time(r2, 0), r2.start))
        };
        (s, e.max(s), next)
    }
}

/// Every span of a proc or thread row as (start, end, g, the transition
/// that ends it or NONE), in order, cheaper than a random access per span.
fn proc_spans<'a>(
    tv: TrView<'a>,
    sp: &'a ProcSpans,
    range: std::ops::Range<usize>,
) -> impl Iterator<Item = (i64, i64, u32, u32)> + 'a {
    {
        let ix = tv;
        let mut seg = 0usize;
        let mut at = sp.at_start.partition_point(|&j| (j as usize) < range.start);
        let from = range.start;
        // Once many spans fall in one segment, a table from its transitions
        // to their runs replaces a binary search per span (finishing a 1 GB
        // trace's rows walks tens of millions of spans).
        let mut run_of: Vec<u16> = Vec::new();
        let (mut filled, mut searches) = (usize::MAX, 0u32);
        sp.tr[range].iter().enumerate().map(move |(i, &tr)| {
            let i = from + i;
            // Transitions of one segment are contiguous and spans go
            // forward in time, so search only the current segment's runs.
            let first = |sg: usize| ix.flush_runs[ix.seg_first_run[sg] as usize].0;
            if tr < first(seg) || (seg + 1 < ix.seg_base.len() && tr >= first(seg + 1)) {
                seg = ix
                    .seg_first_run
                    .partition_point(|&r| ix.flush_runs[r as usize].0 <= tr)
                    - 1;
                searches = 0;
            }
            let lo = ix.seg_first_run[seg] as usize;
            let hi = ix
                .seg_first_run
                .get(seg + 1)
                .map_or(ix.flush_runs.len(), |&r| r as usize);
            let seg_start = first(seg);
            if filled != seg && searches >= 256 {
                let seg_end = ix.flush_runs.get(hi).map_or(ix.tr_t.len() as u32, |r| r.0);
                run_of.clear();
                run_of.resize((seg_end - seg_start) as usize, 0);
                for r in lo..hi {
                    let end = ix
                        .flush_runs
                        .get(r + 1)
                        .map_or(ix.tr_t.len() as u32, |x| x.0);
                    let (a, b) = (ix.flush_runs[r].0 - seg_start, end - seg_start);
                    run_of[a as usize..b as usize].fill((r - lo) as u16);
                }
                filled = seg;
            }
            let k = if filled == seg {
                lo + run_of[(tr - seg_start) as usize] as usize
            } else {
                searches += 1;
                lo + ix.flush_runs[lo..hi].partition_point(|r| r.0 <= tr) - 1
            };
            let g = ix.flush_runs[k].1;
            let run_end = ix
                .flush_runs
                .get(k + 1)
                .map_or(ix.tr_t.len() as u32, |r| r.0);
            let base = ix.seg_base[seg];
            let s = base + ix.tr_t[tr as usize] as i64;
            let (e, next) = if tr + 1 < run_end {
                ((base + ix.tr_t[tr as usize + 1] as i64).max(s), tr + 1)
            } else {
                let (_, e, next) = ix.span_next(g, tr);
                (e, next)
            };
            while at < sp.at_start.len() && (sp.at_start[at] as usize) < i {
                at += 1;
            }
            let s = if sp.at_start.get(at) == Some(&(i as u32)) {
                ix.t0
            } else {
                s
            };
            (s, e, g, next)
        })
    }
}

impl SpanRow for ProcRow<'_> {
    fn len(&self) -> usize {
        self.sp.len()
    }
    fn start(&self, i: usize) -> i64 {
        self.get(i).0
    }
    fn end(&self, i: usize) -> i64 {
        self.get(i).1
    }
    fn g(&self, i: usize) -> u32 {
        self.get(i).2
    }
    fn k(&self, i: usize) -> u32 {
        if !self.syscalls {
            return 0;
        }
        let tv = TrView::of(self.ix);
        let tr = self.sp.tr[i];
        tv.blocked_after(tv.span_next(tv.g_of(tr), tr).2)
    }
    fn window(&self, a: i64, b: i64) -> std::ops::Range<usize> {
        let n = self.sp.len();
        let (mut lo, mut hi) = (0, n);
        if self.sp.disjoint {
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.end(mid) <= a {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
        } else {
            let from = a.saturating_sub(self.sp.max_dur);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.start(mid) < from {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
        }
        let (mut l2, mut h2) = (lo, n);
        while l2 < h2 {
            let mid = (l2 + h2) / 2;
            if self.start(mid) < b {
                l2 = mid + 1;
            } else {
                h2 = mid;
            }
        }
        lo..l2.max(lo)
    }
    fn levels(&self) -> &[SpanLevel] {
        &self.sp.levels
    }
}

/// Counter values: u16 while every value is a whole number that fits
/// (goroutine counts: 8 bytes a sample instead of 16), else f32.
#[derive(Default)]
pub struct CounterVals {
    small: Vec<u16>,
    big: Option<Vec<f32>>,
}

impl CounterVals {
    #[inline]
    pub fn get(&self, i: usize) -> f32 {
        match &self.big {
            Some(b) => b[i],
            None => self.small[i] as f32,
        }
    }
    #[inline]
    fn fits(v: f32) -> bool {
        (0.0..65535.0).contains(&v) && v.fract() == 0.0
    }
    fn widen(&mut self) {
        self.big = Some(self.small.iter().map(|&x| x as f32).collect());
        self.small = Vec::new();
    }
    #[inline]
    fn push(&mut self, v: f32) {
        if self.big.is_none() && !Self::fits(v) {
            self.widen();
        }
        match &mut self.big {
            Some(b) => b.push(v),
            None => self.small.push(v as u16),
        }
    }
    #[inline]
    fn set(&mut self, i: usize, v: f32) {
        if self.big.is_none() && !Self::fits(v) {
            self.widen();
        }
        match &mut self.big {
            Some(b) => b[i] = v,
            None => self.small[i] = v as u16,
        }
    }
    pub fn len(&self) -> usize {
        self.big.as_ref().map_or(self.small.len(), Vec::len)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn bytes(&self) -> usize {
        self.small.len() * 2 + self.big.as_ref().map_or(0, |b| b.len() * 4)
    }
}

/// A step-function counter with several series sharing sample times.
#[derive(Default)]
pub struct Counter {
    pub t: TimeCol,
    /// `v.get(i * n + j)` is series j at sample i.
    pub v: CounterVals,
    pub n: usize,
    pub names: Vec<&'static str>,
    last_t: i64,
    /// The same at a coarse resolution, for zoomed-out views.
    pub level: Option<Box<Counter>>,
    pub quantum: i64,
}

impl Counter {
    fn new(names: &[&'static str]) -> Self {
        Counter {
            n: names.len(),
            names: names.to_vec(),
            last_t: i64::MIN,
            quantum: COUNTER_QUANTUM,
            ..Default::default()
        }
    }
    /// A coarse copy: per bucket of `quantum`, each series' largest value.
    fn build_level(&mut self, t0: i64, t1: i64) {
        let quantum = ((t1 - t0) >> 14).max(COUNTER_QUANTUM * 4);
        if self.t.len() < 20_000 {
            return;
        }
        let mut l = Counter::new(&self.names);
        l.quantum = quantum;
        let mut cur = i64::MIN;
        for (i, t) in self.t.iter().enumerate() {
            let bucket = (t - t0) / quantum;
            if bucket == cur {
                let k = l.v.len() - self.n;
                for j in 0..self.n {
                    let v = self.v.get(i * self.n + j);
                    l.v.set(k + j, l.v.get(k + j).max(v));
                }
            } else {
                cur = bucket;
                l.t.push(t);
                for j in 0..self.n {
                    l.v.push(self.v.get(i * self.n + j));
                }
            }
        }
        self.level = Some(Box::new(l));
    }
    fn set(&mut self, t: i64, vals: &[f32]) {
        if !self.starts_sample(t) {
            self.set_last(vals);
            return;
        }
        self.last_t = t;
        self.t.push(t);
        for &v in vals {
            self.v.push(v);
        }
    }
    /// Whether a value set at `t` starts a new sample (else it replaces
    /// the last one's).
    #[inline]
    fn starts_sample(&self, t: i64) -> bool {
        self.last_t == i64::MIN || t - self.last_t >= COUNTER_QUANTUM
    }
    fn set_last(&mut self, vals: &[f32]) {
        let k = self.v.len() - self.n;
        for (j, &v) in vals.iter().enumerate() {
            self.v.set(k + j, v);
        }
    }
    fn last(&self) -> Vec<f32> {
        if self.t.is_empty() {
            vec![0.0; self.n]
        } else {
            let k = self.v.len() - self.n;
            (0..self.n).map(|j| self.v.get(k + j)).collect()
        }
    }
}

pub struct Task {
    pub id: u64,
    pub parent: u64,
    pub typ: u32,
    pub start: i64,
    pub end: i64,
    pub start_g: u32,
    pub end_g: u32,
    pub lane: u32,
}

pub struct Region {
    pub g: u32,
    pub task: u64,
    pub typ: u32,
    pub start: i64,
    pub end: i64,
    pub stack: u32,
    pub depth: u32,
}

pub struct LogRec {
    pub t: i64,
    pub g: u32,
    pub task: u64,
    pub cat: u32,
    msg_off: u32,
    msg_len: u32,
    pub stack: u32,
}

/// Task ID → index. Go numbers tasks from 1, so most IDs index an array
/// (a hash map of 1.5M tasks cost 36 MB); the rest are hashed.
#[derive(Default)]
pub struct IdMap {
    dense: Vec<u32>,
    sparse: FxHashMap<u64, u32>,
    len: usize,
}

impl IdMap {
    #[inline]
    pub fn get(&self, id: u64) -> Option<u32> {
        match self.dense.get(id as usize) {
            Some(&v) if v != NONE => Some(v),
            _ => self.sparse.get(&id).copied(),
        }
    }

    /// The value of `id`, inserting `v` if it has none.
    fn get_or_insert(&mut self, id: u64, v: u32) -> u32 {
        if let Some(old) = self.get(id) {
            return old;
        }
        self.set(id, v);
        v
    }

    /// Sets the value of `id`, where it already is if present.
    fn set(&mut self, id: u64, v: u32) {
        if let Some(d) = self.dense.get_mut(id as usize) {
            if *d != NONE {
                *d = v;
                return;
            }
        }
        if let Some(s) = self.sparse.get_mut(&id) {
            *s = v;
            return;
        }
        self.len += 1;
        // Dense while IDs stay within a few times the count.
        if id < (1 << 16).max(8 * self.len as u64) {
            if self.dense.len() <= id as usize {
                self.dense.resize(id as usize + 1, NONE);
            }
            self.dense[id as usize] = v;
        } else {
            self.sparse.insert(id, v);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Unblock and creation edges: who woke (or created) whom, in time order.
/// Edge i is the transition `tr[i]` of the woken goroutine into runnable,
/// which gives its time and target (see `Index::edge`): 8 bytes an edge.
#[derive(Default)]
pub struct Edges {
    pub tr: Vec<u32>,
    /// The waker (`NO_WAKER` if none), with `CREATE` set for a creation.
    pub from: Vec<u32>,
}

impl Edges {
    pub const CREATE: u32 = 1 << 31;
    pub const NO_WAKER: u32 = Self::CREATE - 1;
    pub fn len(&self) -> usize {
        self.tr.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tr.is_empty()
    }
}

/// One unblock or creation edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// When the waker acted.
    pub t: i64,
    pub from: u32,
    pub to: u32,
    /// 0 unblock, 1 create.
    pub kind: u8,
}

pub const RANGE_KINDS: [&str; 4] = ["gc", "stw", "sweep", "assist"];

pub struct Index {
    pub t0: i64,
    pub t1: i64,
    pub strings: Strings,
    pub stacks: Stacks,
    pub goroutines: Vec<Goroutine>,
    /// Goroutine ID → index: IDs below DENSE_IDS through `gdense`, others here.
    pub gidx: FxHashMap<i64, u32>,
    pub gdense: Vec<u32>,
    /// Groups of goroutines by start function: (name, goroutine indices sorted by ID).
    pub groups: Vec<(u32, Vec<u32>)>,
    // Segmented goroutine transitions.
    pub seg_base: Vec<i64>,
    pub tr_t: Vec<u32>,
    /// Per transition, an index into `shapes`.
    pub tr_shape: StackCol,
    /// What transitions look like: (new state, reason, stack). Few distinct
    /// ones recur, so a u16 per transition names all three.
    pub shapes: Vec<(u8, u8, u32)>,
    pub reasons: Vec<Box<str>>,
    /// Goroutine g's runs are `runs[run_off[g]..run_off[g+1]]`.
    pub run_off: Vec<u32>,
    pub runs: Vec<Run>,
    /// Runs in the order flushed: (first transition, goroutine). Runs tile
    /// the transitions, so this maps a transition to its goroutine.
    pub flush_runs: Vec<(u32, u32)>,
    /// Segment i's runs start at `flush_runs[seg_first_run[i]]`.
    pub seg_first_run: Vec<u32>,
    pub procs: Vec<(i64, ProcSpans)>,
    /// Thread IDs, in row order.
    pub thread_ids: Vec<i64>,
    /// Threads' syscall spans; `k` (see `ProcRow`) is "blocked". Finished
    /// on first use: the first frame doesn't show them (see [`Index::threads`]).
    pub threads: LazyRows,
    /// One per RANGE_KINDS entry; `k` is the interned range name.
    pub ranges: Vec<Spans>,
    pub gcount: Counter,
    pub heap: Counter,
    pub procs_counter: Counter,
    pub edges: Edges,
    pub tasks: Vec<Task>,
    pub task_idx: IdMap,
    pub task_lanes: u32,
    /// Per lane: `g` is the task index, `k` its type.
    pub task_rows: Vec<Spans>,
    pub regions: Vec<Region>,
    /// Goroutine g's regions are `regions[region_off[g]..region_off[g+1]]`
    /// (regions are sorted by goroutine).
    pub region_off: Vec<u32>,
    pub logs: Vec<LogRec>,
    /// Log messages, back to back.
    pub log_text: Vec<u8>,
    /// CPU samples: time, goroutine, stack.
    pub samples: Vec<(i64, u32, u32)>,
    pub events: u64,
}

/// One transition, located.
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    pub i: usize,
    pub t: i64,
    pub state: u8,
    pub reason: u8,
    pub stack: u32,
}

impl Index {
    #[inline]
    pub fn tr(&self, run: &Run, k: usize) -> Tr {
        let i = run.start as usize + k;
        Tr {
            i,
            t: self.seg_base[run.seg as usize] + self.tr_t[i] as i64,
            state: self.shapes[self.tr_shape.get(i) as usize].0,
            reason: self.shapes[self.tr_shape.get(i) as usize].1,
            stack: self.shapes[self.tr_shape.get(i) as usize].2,
        }
    }

    pub fn g_runs(&self, g: u32) -> &[Run] {
        let g = g as usize;
        if g + 1 >= self.run_off.len() {
            return &[];
        }
        &self.runs[self.run_off[g] as usize..self.run_off[g + 1] as usize]
    }

    /// Calls `f(start, end, transition)` for each state span of goroutine
    /// `g` overlapping [a, b), in time order. The last span ends at `t1`.
    pub fn g_spans(&self, g: u32, a: i64, b: i64, mut f: impl FnMut(i64, i64, Tr) -> bool) {
        let runs = self.g_runs(g);
        // First run whose first transition is after a; start one run earlier.
        let mut ri = runs.partition_point(|r| self.tr(r, 0).t <= a);
        ri = ri.saturating_sub(1);
        let mut k = {
            let r = match runs.get(ri) {
                Some(r) => r,
                None => return,
            };
            // Last transition at or before a within this run.
            let (lo, hi) = (r.start as usize, (r.start + r.len) as usize);
            let base = self.seg_base[r.seg as usize];
            let rel = (a - base).clamp(0, u32::MAX as i64) as u32;
            let p = self.tr_t[lo..hi].partition_point(|&t| t <= rel);
            if a < base {
                0
            } else {
                p.saturating_sub(1)
            }
        };
        let mut cur: Option<Tr> = None;
        while ri < runs.len() {
            let r = &runs[ri];
            while k < r.len as usize {
                let tr = self.tr(r, k);
                if let Some(c) = cur {
                    if c.t >= b {
                        return;
                    }
                    if tr.t > a && !f(c.t, tr.t, c) {
                        return;
                    }
                }
                cur = Some(tr);
                k += 1;
            }
            ri += 1;
            k = 0;
        }
        if let Some(c) = cur {
            if c.t < b && self.t1 > a {
                f(c.t, self.t1.max(c.t), c);
            }
        }
    }

    /// The transition that ends the span starting with transition `i` of goroutine g.
    pub fn next_tr(&self, g: u32, i: usize) -> Option<Tr> {
        let runs = self.g_runs(g);
        let ri = runs.partition_point(|r| (r.start + r.len) as usize <= i);
        let r = runs.get(ri)?;
        let k = i - r.start as usize;
        if k + 1 < r.len as usize {
            return Some(self.tr(r, k + 1));
        }
        runs.get(ri + 1).map(|r| self.tr(r, 0))
    }

    /// Edge i.
    pub fn edge(&self, i: usize) -> Edge {
        let tr = self.edges.tr[i];
        let k = self.flush_runs.partition_point(|r| r.0 <= tr) - 1;
        let f = self.edges.from[i];
        Edge {
            t: self.tr_time(tr),
            from: match f & !Edges::CREATE {
                Edges::NO_WAKER => NONE,
                w => w,
            },
            to: self.flush_runs[k].1,
            kind: (f & Edges::CREATE != 0) as u8,
        }
    }

    /// The first edge at or after time t (edges are in time order).
    pub fn edges_from(&self, t: i64) -> usize {
        let tr = &self.edges.tr;
        let (mut lo, mut hi) = (0, tr.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.tr_time(tr[mid]) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The time of transition `tr`.
    pub fn tr_time(&self, tr: u32) -> i64 {
        let seg = self
            .seg_first_run
            .partition_point(|&r| self.flush_runs[r as usize].0 <= tr)
            - 1;
        self.seg_base[seg] + self.tr_t[tr as usize] as i64
    }

    /// Proc row p, readable as spans.
    pub fn proc_row(&self, p: usize) -> Option<ProcRow<'_>> {
        self.procs.get(p).map(|(_, sp)| ProcRow {
            ix: self,
            sp,
            syscalls: false,
        })
    }

    /// Thread row m, readable as spans.
    pub fn thread_row(&self, m: usize) -> Option<ProcRow<'_>> {
        self.threads().get(m).map(|(_, sp)| ProcRow {
            ix: self,
            sp,
            syscalls: true,
        })
    }

    /// The times of goroutine g's transition `tr` and of the one after it.
    pub fn span_from(&self, g: u32, tr: u32) -> (i64, i64) {
        TrView::of(self).span_from(g, tr)
    }

    /// A goroutine's index by ID.
    #[inline]
    pub fn lookup(&self, id: i64) -> Option<u32> {
        if (0..DENSE_IDS).contains(&id) {
            return self.gdense.get(id as usize).copied().filter(|&i| i != NONE);
        }
        self.gidx.get(&id).copied()
    }

    /// Rebuilds the merged levels of span rows with at least `min_len`
    /// spans (tests use it to exercise levels on small traces).
    pub fn rebuild_levels(&mut self, min_len: usize) {
        let (t0, t1) = (self.t0, self.t1);
        let mut procs = std::mem::take(&mut self.procs);
        finish_proc_rows(TrView::of(self), &mut procs, &[], t0, t1, min_len);
        self.procs = procs;
        self.threads();
        let mut threads = std::mem::take(&mut self.threads)
            .done
            .into_inner()
            .unwrap_or_default();
        finish_thread_rows(TrView::of(self), &mut threads, t0, t1, min_len);
        self.threads = LazyRows::finished(threads);
        for s in self.ranges.iter_mut().chain(self.task_rows.iter_mut()) {
            s.build_levels(t0, t1, min_len);
        }
    }

    /// The transition before transition `i` of goroutine g.
    pub fn prev_tr(&self, g: u32, i: usize) -> Option<Tr> {
        let runs = self.g_runs(g);
        let ri = runs.partition_point(|r| (r.start + r.len) as usize <= i);
        let r = runs.get(ri)?;
        let k = i.checked_sub(r.start as usize)?;
        if k > 0 {
            return Some(self.tr(r, k - 1));
        }
        let p = runs.get(ri.checked_sub(1)?)?;
        Some(self.tr(p, p.len as usize - 1))
    }

    /// When goroutine g next starts running at or after t.
    pub fn next_running(&self, g: u32, t: i64) -> Option<i64> {
        let mut out = None;
        self.g_spans(g, t, i64::MAX, |s, _, tr| {
            if tr.state == S_RUNNING && s >= t {
                out = Some(s);
                return false;
            }
            true
        });
        out
    }

    /// Goroutine g's regions, by start (outer first at equal starts).
    pub fn g_regions(&self, g: u32) -> &[Region] {
        let g = g as usize;
        match (self.region_off.get(g), self.region_off.get(g + 1)) {
            (Some(&a), Some(&b)) => &self.regions[a as usize..b as usize],
            _ => &[],
        }
    }

    pub fn log_msg(&self, l: &LogRec) -> std::borrow::Cow<'_, str> {
        let s = l.msg_off as usize;
        String::from_utf8_lossy(&self.log_text[s..s + l.msg_len as usize])
    }

    pub fn reason(&self, r: u8) -> &str {
        self.reasons.get(r as usize).map_or("", |s| s)
    }

    pub fn g_name(&self, g: u32) -> String {
        let gr = &self.goroutines[g as usize];
        let mut s = format!("G{}", gr.id);
        let n = self.strings.get(gr.name);
        if !n.is_empty() {
            s.push(' ');
            s.push_str(n);
        }
        let l = self.strings.get(gr.label);
        if !l.is_empty() {
            s.push_str(&format!(" ({l})"));
        }
        s
    }
}

/// Progress callback: (bytes consumed, total bytes).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Per-goroutine build state (12 bytes: goroutines number millions). A
/// proc span's start and length are read off the transitions when the
/// rows are finished.
struct GBuild {
    run_proc: u32,
    /// 1 + the segment being flushed in which this goroutine has a run.
    flush_mark: u32,
    /// That run's index among the segment's runs.
    flush_run: u32,
}

struct Pend {
    /// The goroutine (its run within the segment, once `flush` groups them).
    g: u32,
    t: i64,
    shape: u32,
}

/// Marks an edge in `Builder::fix`.
const FIX_EDGE: u32 = u32::MAX;
/// Marks a thread's span in `Builder::fix` (with the thread's index).
const FIX_THREAD: u32 = 1 << 30;

/// Goroutine IDs below this map to indices through a plain array.
const DENSE_IDS: i64 = 1 << 24;

struct Builder {
    ix: Index,
    /// Thread rows as the pass builds them (the index finishes them lazily).
    threads: Vec<(i64, ProcSpans)>,
    /// Ranges as they end (so not sorted by start): (start, end, g, name).
    /// Short ranges of the kinds with one name (not STW): (start, duration, g).
    ranges: [Vec<(i64, u32, u32)>; 4],
    /// The others: (start, end, g, name).
    ranges_full: [Vec<(i64, i64, u32, u32)>; 4],
    /// Open regions per goroutine: (type, task, start, stack).
    open_regions: FxHashMap<u32, Vec<(u32, u64, i64, u32)>>,
    gb: Vec<GBuild>,
    pend: Vec<Pend>,
    /// `flush`'s scratch, kept between flushes: per run, its length and
    /// then its next slot; per transition, its shape and new position.
    flush_buf: (Vec<u32>, Vec<u32>, Vec<u32>),
    /// Proc spans and edges waiting for their transition's final index:
    /// (position in `pend`, proc or FIX_EDGE, span or edge).
    fix: Vec<(u32, u32, u32)>,
    /// Per proc, the goroutine running on it (NONE if idle) and the
    /// latest span start.
    proc_open: Vec<(u32, i64)>,
    proc_sorted: Vec<bool>,
    run_g: Vec<u32>,
    proc_map: FxHashMap<i64, u32>,
    proc_dense: Vec<u32>,
    thread_map: FxHashMap<i64, u32>,
    /// Interned names of the GC ranges, mark assist, sweep and mark phase.
    name_assist: u32,
    name_sweep: u32,
    name_mark: u32,
    shape_map: FxHashMap<(u8, u8, u32), u32>,
    /// 4096 (key, shape) slots; u64::MAX is no key.
    shape_cache: Vec<(u64, u32)>,
    counts: [u64; 6],
    gc_start: Option<i64>,
    stw_start: Option<(i64, u32)>,
    sweep_start: FxHashMap<i64, i64>,
    /// Goroutines in a mark assist, and since when.
    assist_start: FxHashMap<u32, i64>,
    heap: [u64; 2],
}

impl Builder {
    #[inline]
    fn lookup(&self, id: i64) -> Option<u32> {
        self.ix.lookup(id)
    }

    fn g(&mut self, id: i64, t: i64) -> u32 {
        if let Some(i) = self.lookup(id) {
            return i;
        }
        let i = self.ix.goroutines.len() as u32;
        if (0..DENSE_IDS).contains(&id) {
            let d = &mut self.ix.gdense;
            if d.len() <= id as usize {
                d.resize(id as usize + 1, NONE);
            }
            d[id as usize] = i;
        } else {
            self.ix.gidx.insert(id, i);
        }
        self.ix.goroutines.push(Goroutine {
            id,
            name: NONE,
            label: NONE,
            group: 0,
            first: t,
            last: t,
            creator: NONE,
            create_stack: 0,
        });
        self.gb.push(GBuild {
            run_proc: NONE,
            flush_mark: 0,
            flush_run: 0,
        });
        i
    }

    fn proc(&mut self, id: i64) -> u32 {
        // Ps are numbered from 0: an array, not a hash, for the common case.
        if let Some(&p) = self.proc_dense.get(id as usize) {
            if p != NONE {
                return p;
            }
        }
        let p = self.proc_slow(id);
        if (0..1024).contains(&id) {
            if self.proc_dense.len() <= id as usize {
                self.proc_dense.resize(id as usize + 1, NONE);
            }
            self.proc_dense[id as usize] = p;
        }
        p
    }

    fn proc_slow(&mut self, id: i64) -> u32 {
        let n = self.ix.procs.len() as u32;
        let procs = &mut self.ix.procs;
        let (open, sorted) = (&mut self.proc_open, &mut self.proc_sorted);
        *self.proc_map.entry(id).or_insert_with(|| {
            procs.push((
                id,
                ProcSpans {
                    disjoint: true,
                    ..Default::default()
                },
            ));
            open.push((NONE, i64::MIN));
            sorted.push(true);
            n
        })
    }

    fn thread(&mut self, id: i64) -> u32 {
        let n = self.threads.len() as u32;
        let threads = &mut self.threads;
        *self.thread_map.entry(id).or_insert_with(|| {
            threads.push((id, ProcSpans::default()));
            n
        })
    }

    fn flush(&mut self) {
        if self.pend.is_empty() {
            return;
        }
        let base = self.pend.iter().map(|p| p.t).min().unwrap();
        let seg = self.ix.seg_base.len() as u32;
        self.ix.seg_base.push(base);
        // Group by goroutine, keeping time order, with a counting sort: runs
        // in order of first appearance (a comparison sort cost 10% of the build).
        let mark = seg + 1;
        self.ix.seg_first_run.push(self.ix.flush_runs.len() as u32);
        let run_len = &mut self.flush_buf.0;
        run_len.clear();
        let first_run = self.ix.flush_runs.len();
        for p in self.pend.iter_mut() {
            let gb = &mut self.gb[p.g as usize];
            if gb.flush_mark != mark {
                gb.flush_mark = mark;
                gb.flush_run = run_len.len() as u32;
                run_len.push(0);
                self.run_g.push(p.g);
            }
            run_len[gb.flush_run as usize] += 1;
            // From here on, the transition's run within the segment.
            p.g = gb.flush_run;
        }
        let ix = &mut self.ix;
        let start0 = ix.tr_t.len();
        // Each run's next free slot, from its start.
        let mut at = 0u32;
        for (r, len) in run_len.iter_mut().enumerate() {
            ix.runs.push(Run {
                seg,
                start: start0 as u32 + at,
                len: *len,
            });
            ix.flush_runs
                .push((start0 as u32 + at, self.run_g[first_run + r]));
            let l = *len;
            *len = at;
            at += l;
        }
        let next = run_len;
        let n = self.pend.len();
        let (shapes, placed) = (&mut self.flush_buf.1, &mut self.flush_buf.2);
        shapes.clear();
        shapes.resize(n, 0);
        placed.clear();
        placed.resize(n, 0);
        ix.tr_t.resize(start0 + n, 0);
        let tr_t = &mut ix.tr_t[start0..];
        for (j, p) in self.pend.iter().enumerate() {
            let i = next[p.g as usize] as usize;
            next[p.g as usize] += 1;
            tr_t[i] = (p.t - base) as u32;
            shapes[i] = p.shape;
            placed[j] = i as u32;
        }
        for &(j, p, slot) in &self.fix {
            let tr = start0 as u32 + placed[j as usize];
            match p {
                FIX_EDGE => ix.edges.tr[slot as usize] = tr,
                p if p & FIX_THREAD != 0 => {
                    self.threads[(p & !FIX_THREAD) as usize].1.tr[slot as usize] = tr
                }
                p => ix.procs[p as usize].1.tr[slot as usize] = tr,
            }
        }
        self.fix.clear();
        ix.tr_shape.extend(shapes);
        self.pend.clear();
    }

    #[inline]
    fn shape(&mut self, state: u8, reason: u8, stack: u32) -> u32 {
        // A direct-mapped cache in front of the map: few shapes recur.
        let key = (state as u64) << 40 | (reason as u64) << 32 | stack as u64;
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize;
        let (k, v) = self.shape_cache[slot];
        if k == key {
            return v;
        }
        let v = self.shape_slow(state, reason, stack);
        self.shape_cache[slot] = (key, v);
        v
    }

    fn shape_slow(&mut self, state: u8, reason: u8, stack: u32) -> u32 {
        let n = self.ix.shapes.len() as u32;
        let shapes = &mut self.ix.shapes;
        *self
            .shape_map
            .entry((state, reason, stack))
            .or_insert_with(|| {
                shapes.push((state, reason, stack));
                n
            })
    }

    /// Queues a transition; returns its position in `pend`.
    fn push_tr(&mut self, g: u32, t: i64, state: u8, reason: u8, stack: u32) -> u32 {
        let shape = self.shape(state, reason, stack);
        if let Some(f) = self.pend.first() {
            // Keep offsets within u32 and segments bounded.
            let base = self.pend.iter().take(1).map(|p| p.t).next().unwrap_or(f.t);
            if self.pend.len() >= SEG_LEN
                || t - base >= (u32::MAX / 2) as i64
                || t < base - (u32::MAX / 4) as i64
            {
                self.flush();
            }
        }
        self.pend.push(Pend { g, t, shape });
        self.pend.len() as u32 - 1
    }

    /// Goroutine counts now, as `gcount` keeps them.
    fn counts(&self) -> [f32; 4] {
        let c = self.counts;
        [
            c[S_RUNNING as usize] as f32,
            c[S_RUNNABLE as usize] as f32,
            c[S_WAITING as usize] as f32,
            c[S_SYSCALL as usize] as f32,
        ]
    }

    /// Before a transition at `t` changes the counts: the last value set
    /// within a sample's quantum wins, so values are written only when
    /// the next sample starts (or at the end), not at every transition.
    #[inline]
    fn count_before(&mut self, t: i64) {
        if self.ix.gcount.starts_sample(t) {
            self.finish_count();
            let c = &mut self.ix.gcount;
            c.last_t = t;
            c.t.push(t);
            for _ in 0..c.n {
                c.v.push(0.0);
            }
        }
    }

    /// Writes the open sample's values.
    fn finish_count(&mut self) {
        if !self.ix.gcount.t.is_empty() {
            let v = self.counts();
            self.ix.gcount.set_last(&v);
        }
    }

    /// Keeps a finished range (16 bytes while they pile up, not 24: sweeps
    /// run to millions).
    fn push_range(&mut self, kind: usize, s: i64, e: i64, g: u32, k: u32) {
        let d = e - s;
        if kind == 1 || !(0..u32::MAX as i64).contains(&d) {
            self.ranges_full[kind].push((s, e, g, k));
        } else {
            self.ranges[kind].push((s, d as u32, g));
        }
    }

    fn end_running(&mut self, g: u32) {
        let b = &mut self.gb[g as usize];
        if b.run_proc != NONE {
            let p = b.run_proc as usize;
            b.run_proc = NONE;
            if self.proc_open[p].0 == g {
                self.proc_open[p].0 = NONE;
            }
        }
    }
}

/// Builds the index in one pass over `r`.
pub fn build(mut r: Reader, progress: Progress<'_>) -> gotrace::Result<Index> {
    let started = std::time::Instant::now();
    let total = r.input_len().unwrap_or(0);
    let mut b = Builder {
        threads: Vec::new(),
        ix: Index {
            t0: i64::MAX,
            t1: i64::MIN,
            strings: Strings::default(),
            stacks: Stacks::new(),
            goroutines: Vec::new(),
            gidx: FxHashMap::default(),
            gdense: Vec::new(),
            groups: Vec::new(),
            seg_base: Vec::new(),
            tr_t: Vec::new(),
            tr_shape: StackCol::default(),
            shapes: Vec::new(),
            reasons: vec!["".into()],
            run_off: Vec::new(),
            runs: Vec::new(),
            flush_runs: Vec::new(),
            seg_first_run: Vec::new(),
            procs: Vec::new(),
            thread_ids: Vec::new(),
            threads: LazyRows::default(),
            ranges: (0..RANGE_KINDS.len()).map(|_| Spans::default()).collect(),
            gcount: Counter::new(&["running", "runnable", "waiting", "syscall"]),
            heap: Counter::new(&["heap", "goal"]),
            procs_counter: Counter::new(&["gomaxprocs"]),
            edges: Edges::default(),
            tasks: Vec::new(),
            task_idx: IdMap::default(),
            task_lanes: 0,
            task_rows: Vec::new(),
            regions: Vec::new(),
            region_off: Vec::new(),
            logs: Vec::new(),
            log_text: Vec::new(),
            samples: Vec::new(),
            events: 0,
        },
        gb: Vec::new(),
        ranges: Default::default(),
        ranges_full: Default::default(),
        open_regions: FxHashMap::default(),
        pend: Vec::with_capacity(SEG_LEN),
        flush_buf: Default::default(),
        fix: Vec::new(),
        proc_open: Vec::new(),
        proc_sorted: Vec::new(),
        run_g: Vec::new(),
        proc_map: FxHashMap::default(),
        proc_dense: Vec::new(),
        thread_map: FxHashMap::default(),
        name_assist: 0,
        name_sweep: 0,
        name_mark: 0,
        shape_map: FxHashMap::default(),
        shape_cache: vec![(u64::MAX, 0); 4096],
        counts: [0; 6],
        gc_start: None,
        stw_start: None,
        sweep_start: FxHashMap::default(),
        assist_start: FxHashMap::default(),
        heap: [0; 2],
    };
    b.ix.strings.intern(b"");
    b.name_assist = b.ix.strings.intern(b"GC mark assist");
    b.name_sweep = b.ix.strings.intern(b"GC incremental sweep");
    b.name_mark = b.ix.strings.intern(b"GC concurrent mark phase");
    // Reserve generously from the input size: capacity never touched costs
    // address space, not memory, and growing by copying would.
    let est = (total / 8) as usize;
    b.ix.tr_t.reserve(est);
    b.ix.tr_shape.reserve(est);
    let front = Front {
        strings: std::mem::take(&mut b.ix.strings),
        stacks: std::mem::replace(&mut b.ix.stacks, Stacks::new()),
        reasons: std::mem::take(&mut b.ix.reasons),
        reason_map: FxHashMap::default(),
        reason_cache: AddrCache::new(),
        str_cache: AddrCache::new(),
        t0: i64::MAX,
        t1: i64::MIN,
        events: 0,
        log_bytes: 0,
    };
    // Reading and ordering events, and interning their stacks and strings,
    // runs here; the rest of the index is built on a second thread from
    // compact records, so the two halves of the work overlap.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch>();
    let (res, front, mut b) = std::thread::scope(|s| {
        let back = std::thread::Builder::new()
            .name("gotrace-view-index".into())
            .spawn_scoped(s, move || {
                let (at, ticks) = (std::time::Instant::now(), thread_ticks());
                for batch in rx {
                    b.apply_batch(&batch);
                    let _ = back_tx.send(batch);
                }
                debug_time("index thread", at, ticks);
                b
            })
            .expect("spawning the index thread");
        let mut front = front;
        let (at, ticks) = (std::time::Instant::now(), thread_ticks());
        let res = front.read_all(&mut r, total, tx, back_rx, progress);
        debug_time("reading thread", at, ticks);
        let b = match back.join() {
            Ok(b) => b,
            Err(p) => std::panic::resume_unwind(p),
        };
        (res, front, b)
    });
    res?;
    b.ix.strings = front.strings;
    b.ix.stacks = front.stacks;
    b.ix.reasons = front.reasons;
    b.ix.events = front.events;
    b.ix.t0 = front.t0;
    b.ix.t1 = front.t1;
    if b.ix.t0 == i64::MAX {
        b.ix.t0 = 0;
        b.ix.t1 = 0;
    }
    let t1 = b.ix.t1;
    // Close whatever is still open at the end of the trace.
    for g in 0..b.gb.len() as u32 {
        b.end_running(g);
        let open: Vec<_> = b.open_regions.remove(&g).unwrap_or_default();
        for (depth, (typ, task, start, stack)) in open.into_iter().enumerate() {
            b.ix.regions.push(Region {
                g,
                task,
                typ,
                start,
                end: t1,
                stack,
                depth: depth as u32,
            });
        }
    }
    let mut assists: Vec<(u32, i64)> = b.assist_start.drain().collect();
    assists.sort_unstable();
    for (g, s) in assists {
        let k = b.name_assist;
        b.push_range(3, s, t1, g, k);
    }
    if let Some(s) = b.gc_start.take() {
        let k = b.name_mark;
        b.push_range(0, s, t1, NONE, k);
    }
    if let Some((s, k)) = b.stw_start.take() {
        b.push_range(1, s, t1, NONE, k);
    }
    if std::env::var_os("GOTRACE_VIEW_DEBUG").is_some() {
        let st = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        for l in st
            .lines()
            .filter(|l| l.starts_with("Rss") || l.starts_with("VmHWM"))
        {
            eprintln!("before finish: {l}");
        }
        eprintln!("pass done at {:.2?}", started.elapsed());
    }
    b.finish_count();
    let last = b.ix.gcount.last();
    b.ix.gcount.set(t1 + COUNTER_QUANTUM, &last);
    b.flush();
    progress(total, total);
    drop(r);
    let ix = finish(b);
    if std::env::var_os("GOTRACE_VIEW_DEBUG").is_some() {
        eprintln!("finished at {:.2?}", started.elapsed());
    }
    Ok(ix)
}

/// Record kinds: what the index thread is told about each event.
const RK_SYNC: u8 = 0;
const RK_TR: u8 = 1;
const RK_METRIC: u8 = 2;
const RK_LABEL: u8 = 3;
const RK_SAMPLE: u8 = 4;
const RK_RANGE: u8 = 5;
const RK_TASK: u8 = 6;
const RK_REGION: u8 = 7;
const RK_LOG: u8 = 8;

/// Range names in `Rec::sub` (times 4, plus 0 begin, 1 active, 2 end).
const RN_MARK: u8 = 0;
const RN_STW: u8 = 1;
const RN_SWEEP: u8 = 2;
const RN_ASSIST: u8 = 3;

/// One event reduced to what the index needs, its stacks and strings
/// already interned (48 bytes: one per event is written by the reading
/// thread and read by the index thread). Fields mean different things per
/// kind (see `Front::read_all`).
#[derive(Clone, Copy, Default)]
struct Rec {
    t: i64,
    /// The resource (goroutine, label's or range's scope); a task's
    /// parent; a log message's offset in the batch text and its length
    /// (low and high 32 bits).
    id: i64,
    /// The event's goroutine.
    g: i64,
    /// A metric's value; a task's ID; a region's or log's task. For a
    /// transition, what its new state needs: the event's P (running), its
    /// thread (syscall) or a new goroutine's creation stack (runnable).
    x: u64,
    stack: u32,
    /// An interned string: a goroutine's start function, a label, a type,
    /// a log category, a stop-the-world's name.
    s: u32,
    kind: u8,
    /// Per kind; a transition's reason.
    sub: u8,
    from: u8,
    to: u8,
}

const _: () = assert!(std::mem::size_of::<Rec>() == 48);

const BATCH: usize = 16384;

struct Batch {
    /// The trace's first event time, once known.
    t0: i64,
    recs: Vec<Rec>,
    /// Log messages, back to back.
    text: Vec<u8>,
}

/// The reading half of the build: owns the tables records point into.
struct Front {
    strings: Strings,
    stacks: Stacks,
    reasons: Vec<Box<str>>,
    reason_map: FxHashMap<Box<[u8]>, u8>,
    reason_cache: AddrCache,
    str_cache: AddrCache,
    t0: i64,
    t1: i64,
    events: u64,
    log_bytes: u64,
}

impl Front {
    /// Interns a string from the current generation's tables.
    #[inline]
    fn str(&mut self, s: &[u8]) -> u32 {
        let strings = &mut self.strings;
        self.str_cache.get_or(s, |s| strings.intern(s))
    }

    #[inline]
    fn reason(&mut self, r: &[u8]) -> u8 {
        if r.is_empty() {
            return 0;
        }
        let (map, reasons) = (&mut self.reason_map, &mut self.reasons);
        self.reason_cache.get_or(r, |r| {
            if let Some(&i) = map.get(r) {
                return i as u32;
            }
            let n = reasons.len();
            if n >= 255 {
                return 255;
            }
            reasons.push(String::from_utf8_lossy(r).into());
            map.insert(r.into(), n as u8);
            n as u32
        }) as u8
    }

    #[inline]
    fn stack(&mut self, st: Stack<'_>) -> u32 {
        self.stacks.intern(st, &mut self.strings)
    }

    /// Reads every event, sending records in batches; returns the reader's
    /// error, if any, after the records before it.
    fn read_all(
        &mut self,
        r: &mut Reader,
        total: u64,
        tx: std::sync::mpsc::SyncSender<Batch>,
        back: std::sync::mpsc::Receiver<Batch>,
        progress: Progress<'_>,
    ) -> gotrace::Result<()> {
        let new_batch = |back: &std::sync::mpsc::Receiver<Batch>| {
            back.try_recv().map_or_else(
                |_| Batch {
                    t0: 0,
                    recs: Vec::with_capacity(BATCH),
                    text: Vec::new(),
                },
                |mut b| {
                    b.recs.clear();
                    b.text.clear();
                    b
                },
            )
        };
        let mut batch = new_batch(&back);
        let mut last_progress = 0u64;
        let res = loop {
            if batch.recs.len() >= BATCH {
                batch.t0 = self.t0;
                let next = new_batch(&back);
                if tx.send(std::mem::replace(&mut batch, next)).is_err() {
                    break Ok(());
                }
            }
            let ev = match r.read_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            let t = ev.time();
            self.events += 1;
            if self.t0 == i64::MAX {
                self.t0 = t;
            }
            self.t1 = self.t1.max(t);
            let mut rec = Rec {
                t,
                ..Rec::default()
            };
            match ev.kind() {
                EventKind::Sync => {
                    self.stacks.new_generation();
                    self.reason_cache.clear();
                    self.str_cache.clear();
                    // The new generation starts where the last one ended.
                    if let Some(e) = r.generation().map(|g| g.offset) {
                        if e > last_progress + (1 << 20) || e >= total {
                            last_progress = e;
                            progress(e, total);
                        }
                    }
                    rec.kind = RK_SYNC;
                }
                EventKind::StateTransition => {
                    let st = ev.state_transition().unwrap();
                    if st.resource.kind != ResourceKind::Goroutine {
                        continue;
                    }
                    let (from, to) = st.goroutine();
                    if from == to {
                        continue;
                    }
                    let named = !st.stack.is_empty();
                    let stack_src = if st.stack.is_present() && named {
                        st.stack
                    } else {
                        ev.stack()
                    };
                    rec.stack = self.stack(stack_src);
                    // The outermost frame names a goroutine.
                    rec.s = match self.stacks.frames_of(rec.stack).last() {
                        Some(&f) if named => self.stacks.frames[f as usize].func,
                        _ => NONE,
                    };
                    rec.sub = self.reason(st.reason);
                    rec.kind = RK_TR;
                    rec.id = st.resource.id;
                    rec.g = ev.goroutine();
                    rec.from = from as u8;
                    rec.to = to as u8;
                    rec.x = match to {
                        GoState::Running => ev.proc() as u64,
                        GoState::Syscall => ev.thread() as u64,
                        GoState::Runnable if from == GoState::NotExist && rec.g != rec.id => {
                            self.stack(ev.stack()) as u64
                        }
                        _ => 0,
                    };
                }
                EventKind::Metric => {
                    let m = ev.metric().unwrap();
                    rec.sub = match m.name {
                        "/memory/classes/heap/objects:bytes" => 0,
                        "/gc/heap/goal:bytes" => 1,
                        "/sched/gomaxprocs:threads" => 2,
                        _ => continue,
                    };
                    rec.kind = RK_METRIC;
                    rec.x = m.value;
                }
                EventKind::Label => {
                    let l = ev.label().unwrap();
                    rec.kind = RK_LABEL;
                    rec.id = l.resource.id;
                    rec.s = self.strings.intern(l.label);
                }
                EventKind::StackSample => {
                    rec.kind = RK_SAMPLE;
                    rec.g = ev.goroutine();
                    rec.stack = self.stack(ev.stack());
                }
                EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                    let Some(rg) = ev.range() else { continue };
                    let phase = match ev.kind() {
                        EventKind::RangeBegin => 0,
                        EventKind::RangeActive => 1,
                        _ => 2,
                    };
                    let name = match rg.name {
                        RangeName::GcMark => RN_MARK,
                        RangeName::Stw(_) => {
                            if phase != 2 {
                                rec.s = self.strings.intern(&rg.name.to_bytes());
                            }
                            RN_STW
                        }
                        RangeName::GcSweep => RN_SWEEP,
                        RangeName::GcMarkAssist => RN_ASSIST,
                    };
                    rec.kind = RK_RANGE;
                    rec.sub = name * 4 + phase;
                    rec.id = rg.scope.id;
                }
                EventKind::TaskBegin | EventKind::TaskEnd => {
                    let tk = ev.task().unwrap();
                    rec.kind = RK_TASK;
                    rec.sub = (ev.kind() == EventKind::TaskEnd) as u8;
                    rec.g = ev.goroutine();
                    rec.s = self.str(tk.typ);
                    rec.x = tk.id;
                    rec.id = tk.parent as i64;
                }
                EventKind::RegionBegin | EventKind::RegionEnd => {
                    let rg = ev.region().unwrap();
                    rec.kind = RK_REGION;
                    rec.g = ev.goroutine();
                    rec.s = self.str(rg.typ);
                    rec.x = rg.task;
                    if ev.kind() == EventKind::RegionBegin {
                        rec.stack = self.stack(ev.stack());
                    } else {
                        rec.sub = 1;
                    }
                }
                EventKind::Log => {
                    let l = ev.log().unwrap();
                    let cat = self.str(l.category);
                    if self.log_bytes + l.message.len() as u64 > u32::MAX as u64 {
                        continue;
                    }
                    self.log_bytes += l.message.len() as u64;
                    rec.kind = RK_LOG;
                    rec.g = ev.goroutine();
                    rec.x = l.task;
                    rec.s = cat;
                    rec.stack = self.stack(ev.stack());
                    rec.id = batch.text.len() as i64 | (l.message.len() as i64) << 32;
                    batch.text.extend_from_slice(l.message);
                }
                _ => continue,
            }
            batch.recs.push(rec);
        };
        batch.t0 = self.t0;
        if !batch.recs.is_empty() {
            let _ = tx.send(batch);
        }
        res
    }
}

impl Builder {
    fn apply_batch(&mut self, batch: &Batch) {
        if self.ix.t0 == i64::MAX {
            self.ix.t0 = batch.t0;
        }
        for rec in &batch.recs {
            self.apply(rec, &batch.text);
        }
    }

    fn apply(&mut self, rec: &Rec, text: &[u8]) {
        let b = self;
        let t = rec.t;
        match rec.kind {
            RK_TR => {
                b.count_before(t);
                let g = b.g(rec.id, t);
                let (from, to) = (rec.from, rec.to);
                {
                    let gr = &mut b.ix.goroutines[g as usize];
                    gr.last = t;
                    if gr.name == NONE && rec.s != NONE {
                        gr.name = rec.s;
                    }
                }
                // A state first seen mid-trace started at the trace's start
                // (transitions keep their own time so segment offsets stay small).
                let start_t = if from == S_UNDET { b.ix.t0 } else { t };
                let waker = b.lookup(rec.g).unwrap_or(NONE);
                // Leaving states.
                if from == S_RUNNING {
                    b.end_running(g);
                }
                // Entering states.
                let mut new_span = NONE;
                if to == S_RUNNING {
                    let p = rec.x as i64;
                    let p = if p >= 0 { b.proc(p) } else { NONE };
                    b.gb[g as usize].run_proc = p;
                    new_span = p;
                }
                // A syscall's span ends at the goroutine's next transition.
                let new_sys = if to == S_SYSCALL && rec.x as i64 >= 0 {
                    b.thread(rec.x as i64)
                } else {
                    NONE
                };
                let new_edge =
                    (from == S_WAITING || from == S_NOTEXIST) && to == S_RUNNABLE && waker != g;
                if new_edge {
                    let e = &mut b.ix.edges;
                    e.tr.push(u32::MAX);
                    let w = if waker == NONE {
                        Edges::NO_WAKER
                    } else {
                        waker.min(Edges::NO_WAKER - 1)
                    };
                    e.from.push(if from == S_NOTEXIST {
                        w | Edges::CREATE
                    } else {
                        w
                    });
                    if from == S_NOTEXIST {
                        let gr = &mut b.ix.goroutines[g as usize];
                        gr.creator = waker;
                        // A creation is into runnable: `x` is the creation stack.
                        gr.create_stack = rec.x as u32;
                    }
                }
                if from != S_UNDET {
                    b.counts[from as usize] = b.counts[from as usize].saturating_sub(1);
                }
                b.counts[to as usize] += 1;
                let pos = b.push_tr(g, t, to, rec.sub, rec.stack);
                if new_edge {
                    let slot = b.ix.edges.tr.len() as u32 - 1;
                    b.fix.push((pos, FIX_EDGE, slot));
                }
                if new_span != NONE {
                    let p = new_span as usize;
                    let sp = &mut b.ix.procs[p].1;
                    let slot = sp.tr.len() as u32;
                    sp.tr.push(u32::MAX);
                    if from == S_UNDET {
                        sp.at_start.push(slot);
                    }
                    let (open, last_start) = &mut b.proc_open[p];
                    if *open != NONE {
                        sp.disjoint = false;
                    }
                    if start_t < *last_start {
                        b.proc_sorted[p] = false;
                    }
                    *open = g;
                    *last_start = start_t;
                    b.fix.push((pos, p as u32, slot));
                }
                if new_sys != NONE {
                    let sp = &mut b.threads[new_sys as usize].1;
                    let slot = sp.tr.len() as u32;
                    sp.tr.push(u32::MAX);
                    if from == S_UNDET {
                        sp.at_start.push(slot);
                    }
                    b.fix.push((pos, FIX_THREAD | new_sys, slot));
                }
            }
            RK_METRIC => match rec.sub {
                0 | 1 => {
                    b.heap[rec.sub as usize] = rec.x;
                    let h = [b.heap[0] as f32, b.heap[1] as f32];
                    b.ix.heap.set(t, &h);
                }
                _ => b.ix.procs_counter.set(t, &[rec.x as f32]),
            },
            RK_LABEL => {
                let g = b.g(rec.id, t);
                b.ix.goroutines[g as usize].label = rec.s;
            }
            RK_SAMPLE => {
                let g = b.lookup(rec.g).unwrap_or(NONE);
                b.ix.samples.push((t, g, rec.stack));
            }
            RK_RANGE => {
                let (name, phase) = (rec.sub / 4, rec.sub % 4);
                let begin_t = if phase == 1 { b.ix.t0 } else { t };
                let end = phase == 2;
                match name {
                    RN_MARK => {
                        if end {
                            let s = b.gc_start.take().unwrap_or(b.ix.t0);
                            b.push_range(0, s, t, NONE, b.name_mark);
                        } else {
                            b.gc_start.get_or_insert(begin_t);
                        }
                    }
                    RN_STW => {
                        let g = b.lookup(rec.id).unwrap_or(NONE);
                        if end {
                            let (s, k) = b.stw_start.take().unwrap_or((b.ix.t0, 0));
                            b.push_range(1, s, t, g, k);
                        } else {
                            b.stw_start.get_or_insert((begin_t, rec.s));
                        }
                    }
                    RN_SWEEP => {
                        let p = rec.id;
                        if end {
                            let s = b.sweep_start.remove(&p).unwrap_or(b.ix.t0);
                            let pi = if p >= 0 { b.proc(p) } else { NONE };
                            b.push_range(2, s, t, pi, b.name_sweep);
                        } else {
                            b.sweep_start.entry(p).or_insert(begin_t);
                        }
                    }
                    _ => {
                        let g = b.g(rec.id, t);
                        if end {
                            let s = b.assist_start.remove(&g).unwrap_or(b.ix.t0);
                            b.push_range(3, s, t, g, b.name_assist);
                        } else {
                            b.assist_start.entry(g).or_insert(begin_t);
                        }
                    }
                }
            }
            RK_TASK => {
                let g = b.lookup(rec.g).unwrap_or(NONE);
                let typ = rec.s;
                let n = b.ix.tasks.len() as u32;
                let i = b.ix.task_idx.get_or_insert(rec.x, n);
                if i == n {
                    b.ix.tasks.push(Task {
                        id: rec.x,
                        parent: rec.id as u64,
                        typ,
                        start: b.ix.t0,
                        end: i64::MAX,
                        start_g: NONE,
                        end_g: NONE,
                        lane: 0,
                    });
                }
                let task = &mut b.ix.tasks[i as usize];
                if rec.sub == 0 {
                    task.start = t;
                    task.start_g = g;
                } else {
                    task.end = t;
                    task.end_g = g;
                    if task.typ == 0 {
                        task.typ = typ;
                    }
                }
            }
            RK_REGION => {
                let g = b.g(rec.g, t);
                let typ = rec.s;
                if rec.sub == 0 {
                    b.open_regions
                        .entry(g)
                        .or_default()
                        .push((typ, rec.x, t, rec.stack));
                } else {
                    // Regions nest; an end without a begin started before the trace.
                    let mut depth = 0;
                    let (start, task, s) = match b.open_regions.get_mut(&g) {
                        Some(stack) => {
                            let found = stack.iter().rposition(|r| r.0 == typ).map(|p| {
                                let r = stack.remove(p);
                                (r.2, r.1, r.3)
                            });
                            depth = stack.len() as u32;
                            if stack.is_empty() {
                                // Only goroutines inside a region keep an entry:
                                // one per goroutine ever seen costs hundreds of MB.
                                b.open_regions.remove(&g);
                            }
                            found.unwrap_or((b.ix.t0, rec.x, 0))
                        }
                        None => (b.ix.t0, rec.x, 0),
                    };
                    b.ix.regions.push(Region {
                        g,
                        task,
                        typ,
                        start,
                        end: t,
                        stack: s,
                        depth,
                    });
                }
            }
            RK_LOG => {
                let g = b.lookup(rec.g).unwrap_or(NONE);
                let (off, len) = (rec.id as u32 as usize, (rec.id >> 32) as usize);
                let msg = &text[off..off + len];
                let off = b.ix.log_text.len() as u32;
                b.ix.log_text.extend_from_slice(msg);
                b.ix.logs.push(LogRec {
                    t,
                    g,
                    task: rec.x,
                    cat: rec.s,
                    msg_off: off,
                    msg_len: msg.len() as u32,
                    stack: rec.stack,
                });
            }
            _ => {}
        }
    }
}

/// This thread's CPU time in clock ticks, where Linux tells it.
fn thread_ticks() -> u64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|st| {
            let f: Vec<&str> = st.rsplit(')').next()?.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// With GOTRACE_VIEW_DEBUG set, how long a part of the build took, and
/// the CPU time its thread spent since `ticks`.
fn debug_time(what: &str, since: std::time::Instant, ticks: u64) {
    if std::env::var_os("GOTRACE_VIEW_DEBUG").is_some() {
        let cpu = thread_ticks() - ticks;
        eprintln!("{what}: {:.2?} ({cpu} ticks CPU)", since.elapsed());
    }
}

/// Thread rows, finished on first use: each row's spans put in start order,
/// whether they overlap, the longest, and the merged levels.
#[derive(Default)]
pub struct LazyRows {
    done: OnceLock<Vec<(i64, ProcSpans)>>,
    pending: Mutex<Vec<(i64, ProcSpans)>>,
}

impl LazyRows {
    fn pending(rows: Vec<(i64, ProcSpans)>) -> Self {
        LazyRows {
            done: OnceLock::new(),
            pending: Mutex::new(rows),
        }
    }

    fn finished(rows: Vec<(i64, ProcSpans)>) -> Self {
        LazyRows {
            done: OnceLock::from(rows),
            pending: Mutex::default(),
        }
    }
}

impl Index {
    /// The threads' rows, finishing them first if no one has yet (callers
    /// meanwhile wait for the one finishing them).
    pub fn threads(&self) -> &[(i64, ProcSpans)] {
        if let Some(rows) = self.threads.done.get() {
            return rows;
        }
        let mut pending = self
            .threads
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(rows) = self.threads.done.get() {
            return rows;
        }
        let (at, ticks) = (std::time::Instant::now(), thread_ticks());
        let mut threads = std::mem::take(&mut *pending);
        finish_thread_rows(TrView::of(self), &mut threads, self.t0, self.t1, LEVEL_MIN);
        debug_time("threads", at, ticks);
        self.threads.done.get_or_init(|| threads)
    }
}

/// What one read of a proc or thread row finds: whether its spans come in
/// start order and overlap, the longest, and the merged levels (a row's
/// spans number millions, and each costs a lookup, so they are read once).
struct RowScan {
    sorted: bool,
    disjoint: bool,
    max_dur: i64,
    levels: Vec<SpanLevel>,
}

/// Reads a row once; a thread row's `k` is whether the goroutine blocked
/// in the syscall, a proc row's is 0.
fn scan_row(
    tv: TrView<'_>,
    sp: &ProcSpans,
    syscalls: bool,
    t0: i64,
    t1: i64,
    min_len: usize,
) -> RowScan {
    let (mut prev, mut prev_end) = (i64::MIN, i64::MIN);
    let (mut sorted, mut disjoint, mut max_dur) = (true, true, 0);
    let mut spans = proc_spans(tv, sp, 0..sp.len()).map(|(s, e, g, n)| {
        sorted &= prev <= s;
        disjoint &= prev_end <= s;
        (prev, prev_end) = (s, e);
        max_dur = max_dur.max(e - s);
        (s, e, g, if syscalls { tv.blocked_after(n) } else { 0 })
    });
    let levels = build_levels(sp.len(), &mut spans, t0, t1, min_len);
    // Too few spans for levels reads none: read them here.
    spans.for_each(drop);
    RowScan {
        sorted,
        disjoint,
        max_dur,
        levels,
    }
}

/// Thread rows: spans put in start order where they weren't (detected
/// here), whether they overlap, the longest, and the merged levels.
fn finish_thread_rows(
    tv: TrView<'_>,
    threads: &mut [(i64, ProcSpans)],
    t0: i64,
    t1: i64,
    min_len: usize,
) {
    for (_, sp) in threads.iter_mut() {
        let mut r = scan_row(tv, sp, true, t0, t1, min_len);
        if !r.sorted {
            sort_proc_spans(tv, sp);
            r = scan_row(tv, sp, true, t0, t1, min_len);
        }
        debug_assert!(r.sorted);
        sp.disjoint = r.disjoint;
        sp.max_dur = r.max_dur;
        sp.levels = r.levels;
    }
}

/// Proc rows: spans put in start order where the pass saw them out of
/// order, the longest, and the merged levels.
fn finish_proc_rows(
    tv: TrView<'_>,
    procs: &mut [(i64, ProcSpans)],
    sorted: &[bool],
    t0: i64,
    t1: i64,
    min_len: usize,
) {
    for (i, (_, sp)) in procs.iter_mut().enumerate() {
        if !sorted.get(i).copied().unwrap_or(true) {
            sort_proc_spans(tv, sp);
        }
        let r = scan_row(tv, sp, false, t0, t1, min_len);
        sp.levels = r.levels;
        sp.max_dur = r.max_dur;
    }
}

fn finish(mut b: Builder) -> Index {
    // Free the builder's scratch before the finishing sorts allocate.
    b.gb = Vec::new();
    b.pend = Vec::new();
    b.flush_buf = Default::default();
    let ix = &mut b.ix;
    let ng = ix.goroutines.len();
    // CSR of runs by goroutine (runs are in segment order already).
    let mut off = vec![0u32; ng + 1];
    for &g in &b.run_g {
        off[g as usize + 1] += 1;
    }
    for i in 0..ng {
        off[i + 1] += off[i];
    }
    let mut pos = off.clone();
    let mut runs = vec![
        Run {
            seg: 0,
            start: 0,
            len: 0
        };
        ix.runs.len()
    ];
    for (r, &g) in ix.runs.iter().zip(&b.run_g) {
        runs[pos[g as usize] as usize] = *r;
        pos[g as usize] += 1;
    }
    ix.runs = runs;
    ix.run_off = off;

    let (t0, t1) = (ix.t0, ix.t1);
    // Procs are listed by ID; sweeps name their proc by first-seen index.
    let mut order: Vec<usize> = (0..ix.procs.len()).collect();
    order.sort_by_key(|&i| ix.procs[i].0);
    let mut new_index = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new as u32;
    }
    let ranges_in = std::mem::take(&mut b.ranges);
    let ranges_full = std::mem::take(&mut b.ranges_full);
    let names = [b.name_mark, 0, b.name_sweep, b.name_assist];
    let proc_sorted = std::mem::take(&mut b.proc_sorted);
    let tv = TrView {
        flush_runs: &ix.flush_runs,
        seg_first_run: &ix.seg_first_run,
        seg_base: &ix.seg_base,
        tr_t: &ix.tr_t,
        runs: &ix.runs,
        run_off: &ix.run_off,
        tr_shape: &ix.tr_shape,
        shapes: &ix.shapes,
        t0,
        t1,
    };
    let procs = &mut ix.procs;
    let mut threads = std::mem::take(&mut b.threads);
    threads.sort_by_key(|p| p.0);
    ix.thread_ids = threads.iter().map(|p| p.0).collect();
    ix.threads = LazyRows::pending(threads);
    // Rows, ranges and the rest are independent: finish them side by side.
    let (at, ticks) = (std::time::Instant::now(), thread_ticks());
    std::thread::scope(|s| {
        s.spawn(move || {
            let (at, ticks) = (std::time::Instant::now(), thread_ticks());
            // Rows in two halves of about as many spans each, side by side:
            // a P's row is the finish's longest single job.
            let total: usize = procs.iter().map(|p| p.1.len()).sum();
            let (mut acc, mut cut) = (0, procs.len());
            for (i, p) in procs.iter().enumerate() {
                if acc * 2 >= total {
                    cut = i;
                    break;
                }
                acc += p.1.len();
            }
            let (a, b) = procs.split_at_mut(cut);
            let (sa, sb) = proc_sorted.split_at(cut);
            std::thread::scope(|s| {
                s.spawn(|| finish_proc_rows(tv, a, sa, t0, t1, LEVEL_MIN));
                finish_proc_rows(tv, b, sb, t0, t1, LEVEL_MIN);
            });
            procs.sort_by_key(|p| p.0);
            debug_time("procs", at, ticks);
        });
        s.spawn(|| {
            let (at, ticks) = (std::time::Instant::now(), thread_ticks());
            ix.gcount.build_level(t0, t1);
            ix.heap.build_level(t0, t1);
            debug_time("counters", at, ticks);
        });
        s.spawn(|| {
            let (at, ticks) = (std::time::Instant::now(), thread_ticks());
            let remap = |i: usize, g: u32| match (i, new_index.get(g as usize)) {
                (2, Some(&p)) => p,
                _ => g,
            };
            for (i, (mut v, mut full)) in ranges_in.into_iter().zip(ranges_full).enumerate() {
                // Sorted descending and popped, giving memory back as the Spans grow.
                v.sort_unstable_by(|a, b| b.cmp(a));
                while let Some((s, d, g)) = v.pop() {
                    ix.ranges[i].push(s, s + d as i64, remap(i, g), names[i]);
                    if v.len() % (1 << 16) == 0 {
                        v.shrink_to_fit();
                    }
                }
                // Few: STW, and ranges too long for a u32 (sorted by `sort`).
                full.sort_unstable();
                for (s, e, g, k) in full {
                    ix.ranges[i].push(s, e, remap(i, g), k);
                }
                ix.ranges[i].sort();
                ix.ranges[i].build_levels(t0, t1, LEVEL_MIN);
            }
            debug_time("ranges", at, ticks);
        });
        // Groups, tasks and their lanes, regions, logs and samples.
        // Groups by start function.
        let mut by_name: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (i, g) in ix.goroutines.iter().enumerate() {
            by_name.entry(g.name).or_default().push(i as u32);
        }
        let mut groups: Vec<(u32, Vec<u32>)> = by_name.into_iter().collect();
        for (_, v) in &mut groups {
            v.sort_by_key(|&g| ix.goroutines[g as usize].id);
        }
        groups.sort_by(|a, b| {
            ix.strings
                .get(a.0)
                .cmp(ix.strings.get(b.0))
                .then(a.1.len().cmp(&b.1.len()))
        });
        for (gi, (_, v)) in groups.iter().enumerate() {
            for &g in v {
                ix.goroutines[g as usize].group = gi as u32;
            }
        }
        ix.groups = groups;
        debug_time("  (groups)", at, ticks);

        // Tasks: sort by start, then pack into lanes greedily.
        let t1 = ix.t1;
        for t in &mut ix.tasks {
            if t.end == i64::MAX {
                t.end = t1;
            }
        }
        ix.tasks.sort_unstable_by_key(|t| (t.start, t.id));
        for (i, t) in ix.tasks.iter().enumerate() {
            ix.task_idx.set(t.id, i as u32);
        }
        let mut lane_end: Vec<i64> = Vec::new();
        for t in &mut ix.tasks {
            let l = match lane_end.iter().position(|&e| e <= t.start) {
                Some(l) => l,
                None => {
                    lane_end.push(i64::MIN);
                    lane_end.len() - 1
                }
            };
            lane_end[l] = t.end;
            t.lane = l as u32;
        }
        ix.task_lanes = lane_end.len() as u32;
        ix.task_rows = (0..lane_end.len()).map(|_| Spans::default()).collect();
        for (i, t) in ix.tasks.iter().enumerate() {
            ix.task_rows[t.lane as usize].push(t.start, t.end, i as u32, t.typ);
        }
        for r in &mut ix.task_rows {
            r.build_levels(t0, t1, LEVEL_MIN);
        }
        debug_time("  (tasks)", at, ticks);

        ix.regions
            .sort_unstable_by_key(|r| (r.g, r.start, std::cmp::Reverse(r.end)));
        let mut roff = vec![0u32; ng + 1];
        for r in &ix.regions {
            roff[r.g as usize + 1] += 1;
        }
        for i in 0..ng {
            roff[i + 1] += roff[i];
        }
        ix.region_off = roff;
        debug_time("  (regions)", at, ticks);
        // Usually in order already; a stable sort's scratch (half the
        // column) would add to the peak.
        if !ix.logs.is_sorted_by_key(|l| l.t) {
            ix.logs.sort_by_key(|l| l.t);
        }
        if !ix.samples.is_sorted_by_key(|s| s.0) {
            ix.samples.sort_by_key(|s| s.0);
        }
        debug_time("groups, tasks, regions, logs", at, ticks);
    });
    b.ix
}
