//! A hash map from i64 IDs (goroutine IDs) to values, tuned for the
//! ordering's per-event lookups: open addressing with linear probing over
//! one array of (key, value) slots, Fibonacci hashing, and backward-shift
//! deletion (no tombstones). A lookup is a multiply, a shift and usually
//! one comparison, where a general-purpose map does several times more work.

/// Maps `i64` keys to `V`s. Iteration is not offered: the ordering never
/// iterates, so nothing can depend on an order.
pub(crate) struct IdMap<V> {
    /// `None` marks a free slot. The length is a power of two (or zero).
    slots: Vec<Option<(i64, V)>>,
    len: usize,
    /// 64 - log2(slots.len()).
    shift: u32,
}

/// Slots of a new map. Never zero, so lookups need no emptiness check.
const MIN_SLOTS: usize = 16;

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            slots: (0..MIN_SLOTS).map(|_| None).collect(),
            len: 0,
            shift: 64 - MIN_SLOTS.trailing_zeros(),
        }
    }
}

impl<V> IdMap<V> {
    #[inline(always)]
    fn home(&self, key: i64) -> usize {
        ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `key`.
    #[inline(always)]
    fn find(&self, key: i64) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            debug_assert!(i < self.slots.len());
            // SAFETY: there are always 2^(64 - shift) slots (at least
            // MIN_SLOTS), so `home` is in bounds, and `mask` keeps every
            // probe in bounds. At most half are full, so probing ends.
            match unsafe { self.slots.get_unchecked(i) } {
                None => return None,
                Some((k, _)) if *k == key => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    #[inline(always)]
    pub fn get(&self, key: &i64) -> Option<&V> {
        let i = self.find(*key)?;
        // SAFETY: `find` returns in-bounds indices.
        unsafe { self.slots.get_unchecked(i) }
            .as_ref()
            .map(|(_, v)| v)
    }

    #[inline(always)]
    pub fn get_mut(&mut self, key: &i64) -> Option<&mut V> {
        let i = self.find(*key)?;
        // SAFETY: `find` returns in-bounds indices.
        unsafe { self.slots.get_unchecked_mut(i) }
            .as_mut()
            .map(|(_, v)| v)
    }

    #[inline(always)]
    pub fn contains_key(&self, key: &i64) -> bool {
        self.find(*key).is_some()
    }

    /// Inserts or replaces `key`'s value.
    pub fn insert(&mut self, key: i64, v: V) {
        if let Some(i) = self.find(key) {
            self.slots[i] = Some((key, v));
            return;
        }
        // Keep the load factor at or below 1/2.
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = self.home(key);
        while self.slots[i].is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i] = Some((key, v));
        self.len += 1;
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, (0..cap).map(|_| None).collect());
        self.shift = 64 - cap.trailing_zeros();
        let mask = cap - 1;
        for (k, v) in old.into_iter().flatten() {
            let mut i = self.home(k);
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some((k, v));
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &i64) -> Option<V> {
        let mut hole = self.find(*key)?;
        let (_, v) = self.slots[hole].take().expect("found slot is full");
        self.len -= 1;
        // Backward-shift deletion: move later entries of the probe run
        // into the hole when their home position allows it.
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some((k, _)) = &self.slots[j] else {
                break;
            };
            let home = self.home(*k);
            // Entry j may move to `hole` unless its home lies cyclically in
            // (hole, j].
            let dist_home = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_home >= dist_hole {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustc_hash::FxHashMap;

    #[test]
    fn agrees_with_a_hash_map_under_churn() {
        let mut a: IdMap<u64> = IdMap::default();
        let mut b: FxHashMap<i64, u64> = FxHashMap::default();
        let mut x = 0x1234_5678_9abc_def0u64;
        for step in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly small, clustered keys like goroutine IDs, some wild ones.
            let key = if x % 17 == 0 {
                x as i64
            } else {
                (x % 3000) as i64 - 5
            };
            match x % 5 {
                0 | 1 => {
                    a.insert(key, step);
                    b.insert(key, step);
                }
                2 => assert_eq!(a.remove(&key), b.remove(&key)),
                3 => {
                    if let (Some(p), Some(q)) = (a.get_mut(&key), b.get_mut(&key)) {
                        *p += 1;
                        *q += 1;
                    }
                }
                _ => {}
            }
            assert_eq!(a.get(&key), b.get(&key));
            assert_eq!(a.contains_key(&key), b.contains_key(&key));
            assert_eq!(a.len, b.len());
        }
        for (k, v) in &b {
            assert_eq!(a.get(k), Some(v));
        }
    }
}
