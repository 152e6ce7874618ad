//! Per-generation lookup tables: strings, stacks, frames, and clock data.

use rustc_hash::FxHashMap;
use std::ops::Range;

/// An ID → value map that is dense when the IDs are, as the runtime's are.
/// ID 0 always resolves to the empty value.
#[derive(Debug)]
pub(crate) struct DataTable<V> {
    dense: Vec<Option<V>>,
    sparse: FxHashMap<u64, V>,
}

impl<V> Default for DataTable<V> {
    fn default() -> Self {
        DataTable {
            dense: Vec::new(),
            sparse: FxHashMap::default(),
        }
    }
}

/// Dense storage is used up to this many slots per entry, so a hostile
/// ID like 2^60 cannot make us allocate.
const MAX_DENSE_WASTE: u64 = 2;

impl<V: Clone> DataTable<V> {
    /// Adds `id`; an ID may be defined only once per generation.
    pub fn insert(&mut self, id: u64, v: V) -> Result<(), ()> {
        if id == 0 || self.get(id).is_some() {
            return Err(());
        }
        let slot = id as usize;
        if id < (self.len() as u64 + 1) * MAX_DENSE_WASTE + 64 {
            if self.dense.len() <= slot {
                self.dense.resize(slot + 1, None);
            }
            self.dense[slot] = Some(v);
        } else {
            self.sparse.insert(id, v);
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.dense.len() + self.sparse.len()
    }

    /// The value for `id`, or `None` if it was never defined (`Some(None)`
    /// stands for the always-present ID 0).
    #[inline]
    pub fn get(&self, id: u64) -> Option<Option<&V>> {
        if id == 0 {
            return Some(None);
        }
        if let Some(Some(v)) = self.dense.get(id as usize) {
            return Some(Some(v));
        }
        self.sparse.get(&id).map(Some)
    }

    pub fn contains(&self, id: u64) -> bool {
        self.get(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.dense
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as u64, v)))
            .chain(self.sparse.iter().map(|(k, v)| (*k, v)))
    }
}

/// One stack frame as recorded in the stack table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameInfo {
    pub func: u64,
    pub file: u64,
    pub line: u64,
}

/// A generation's clock snapshot (Go 1.25+).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockSnapshot {
    /// Trace clock at the snapshot, in nanoseconds.
    pub trace: i64,
    /// Wall clock: seconds since the Unix epoch.
    pub wall_sec: i64,
    /// Nanoseconds part of the wall clock.
    pub wall_nsec: i64,
    /// Monotonic clock reading, in nanoseconds.
    pub mono: u64,
}

/// Everything needed to interpret the events of one generation.
#[derive(Debug, Default)]
pub struct EvTable {
    /// String ID → byte range in `bytes`.
    pub(crate) strings: DataTable<Range<u32>>,
    /// Stack ID → range in `stack_pcs`.
    pub(crate) stacks: DataTable<Range<u32>>,
    pub(crate) stack_pcs: Vec<u64>,
    pub(crate) pcs: FxHashMap<u64, FrameInfo>,
    /// Nanoseconds per clock tick.
    pub(crate) freq: f64,
    /// `freq` as an integer when it is one, with the largest tick count
    /// whose product stays exact in an f64 (0 when not integral).
    pub(crate) freq_int: u64,
    pub(crate) exact_below: u64,
    pub(crate) clock: Option<ClockSnapshot>,
    /// Strings made up while ordering, e.g. a task's type carried to its end
    /// in a later generation. ID `n` is `extra[n-1]`.
    pub(crate) extra: Vec<Box<[u8]>>,
    pub(crate) extra_ids: FxHashMap<Box<[u8]>, u64>,
    /// Experimental batches: (experiment, thread, data range in `bytes`).
    pub(crate) exp_batches: Vec<(u8, i64, Range<u32>)>,
    /// The generation's raw bytes, which strings and batch data point into.
    pub(crate) bytes: crate::source::GenBytes,
}

impl EvTable {
    #[inline]
    pub(crate) fn string(&self, id: u64) -> Option<&[u8]> {
        match self.strings.get(id)? {
            None => Some(b""),
            Some(r) => Some(&self.bytes[r.start as usize..r.end as usize]),
        }
    }

    pub(crate) fn stack(&self, id: u64) -> Option<&[u64]> {
        match self.stacks.get(id)? {
            None => Some(&[]),
            Some(r) => Some(&self.stack_pcs[r.start as usize..r.end as usize]),
        }
    }

    pub(crate) fn add_extra_string(&mut self, s: &[u8]) -> u64 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&id) = self.extra_ids.get(s) {
            return id;
        }
        self.extra.push(s.into());
        let id = self.extra.len() as u64;
        self.extra_ids.insert(s.into(), id);
        id
    }

    pub(crate) fn extra_string(&self, id: u64) -> &[u8] {
        if id == 0 {
            return b"";
        }
        self.extra.get(id as usize - 1).map_or(b"", |s| s)
    }

    /// Converts a tick count to nanoseconds the way the reference does:
    /// one float multiply, truncated.
    #[inline]
    pub(crate) fn ns(&self, ticks: u64) -> i64 {
        // With an integral frequency and a product below 2^53 the float
        // computation is exact, so an integer multiply gives the same bits.
        if ticks < self.exact_below {
            return (ticks * self.freq_int) as i64;
        }
        ticks_to_ns(self.freq, ticks)
    }

    pub(crate) fn set_freq(&mut self, freq: f64) {
        self.freq = freq;
        if freq >= 1.0 && freq < (1u64 << 20) as f64 && freq.fract() == 0.0 {
            self.freq_int = freq as u64;
            self.exact_below = (1u64 << 53) / self.freq_int;
        }
    }
}

#[inline]
pub(crate) fn ticks_to_ns(freq: f64, ticks: u64) -> i64 {
    f64_to_i64_like_amd64(ticks as f64 * freq)
}

/// Go's float-to-int conversion as amd64 does it: truncation, and
/// i64::MIN for NaN and out-of-range values (Rust's `as` would saturate).
#[inline]
fn f64_to_i64_like_amd64(x: f64) -> i64 {
    // 2^63: i64's range is [-2^63, 2^63), and both bounds are exact in f64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() || !(-LIMIT..LIMIT).contains(&x) {
        return i64::MIN;
    }
    x as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_fast_path_agrees_with_the_float_computation() {
        for freq in [
            1.0,
            64.0,
            1.0 / (15625000.0 / 1e9),
            1.0 / (2_904_000_000.0 / 1e9),
        ] {
            let mut t = EvTable::default();
            t.set_freq(freq);
            for ticks in [
                0u64,
                1,
                7,
                1 << 20,
                123_456_789_012,
                (1 << 53) / 64 - 1,
                (1 << 53) / 64,
                u64::MAX / 3,
                u64::MAX,
            ] {
                assert_eq!(
                    t.ns(ticks),
                    ticks_to_ns(freq, ticks),
                    "freq {freq} ticks {ticks}"
                );
            }
        }
    }

    #[test]
    fn out_of_range_times_become_i64_min_as_on_amd64() {
        assert_eq!(ticks_to_ns(1e9, u64::MAX), i64::MIN);
        assert_eq!(ticks_to_ns(f64::NAN, 1), i64::MIN);
        assert_eq!(ticks_to_ns(64.0, 3), 192);
        // At the edges: 2^63 is out, the largest double below it is in.
        assert_eq!(f64_to_i64_like_amd64(9_223_372_036_854_775_808.0), i64::MIN);
        assert_eq!(
            f64_to_i64_like_amd64(9_223_372_036_854_774_784.0),
            9_223_372_036_854_774_784
        );
        assert_eq!(
            f64_to_i64_like_amd64(-9_223_372_036_854_775_808.0),
            i64::MIN
        );
        assert_eq!(f64_to_i64_like_amd64(-1.5), -1);
    }
}
