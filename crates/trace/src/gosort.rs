//! Go-compatible sorting: exact equivalents of Go's `slices.SortFunc` and
//! `slices.SortStableFunc`.
//!
//! Go's unstable sort is a pattern-defeating quicksort (pdqsort). Which of two
//! equal elements ends up first depends on every comparison and swap the
//! algorithm makes, and that order shows up in our output. So this module does
//! not just "sort": it repeats Go's algorithm step for step, making the same
//! comparator calls (same order, same argument order) and the same swaps. For
//! the same input and comparator, even an inconsistent or stateful one, it
//! produces the same permutation Go does.
//!
//! Go comparators return an `int` and the algorithm only ever asks whether the
//! result is negative, so all comparisons go through `less`, which checks for
//! `Ordering::Less`.
//!
//! Index arithmetic is done on absolute positions in the whole slice rather
//! than on sub-slices, because a few steps (the duplicate check in
//! `pdqsort`, the left shift in `partial_insertion_sort`) look outside the
//! current range exactly as Go does.

use std::cmp::Ordering;

/// Sorts `v` like Go's `slices.SortFunc(v, cmp)`: unstable, but with the
/// exact same resulting order as Go, ties included.
pub fn sort_func<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    pdqsort(v, 0, n, bit_len(n), &mut cmp);
}

/// Sorts `v` like Go's `slices.SortStableFunc(v, cmp)`: insertion-sorted
/// blocks of 20 merged in place with SymMerge.
pub fn sort_stable_func<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    stable(v, n, &mut cmp);
}

/// Go's `cmp(data[i], data[j]) < 0`.
#[inline]
fn less<T, F: FnMut(&T, &T) -> Ordering>(v: &[T], i: usize, j: usize, cmp: &mut F) -> bool {
    cmp(&v[i], &v[j]) == Ordering::Less
}

/// Go's `bits.Len(uint(n))`: the number of bits needed to represent `n`.
fn bit_len(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()) as usize
}

/// Midpoint of `lo <= hi`, rounded down. Same value as Go's
/// `int(uint(lo+hi) >> 1)`, written so it cannot overflow.
#[inline]
fn midpoint(lo: usize, hi: usize) -> usize {
    lo + (hi - lo) / 2
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Sorts `v[a..b]` by repeatedly swapping each element left past larger ones.
/// Used for short ranges by pdqsort and for the initial blocks of the stable
/// sort (it is stable because equal neighbours are never swapped).
fn insertion_sort<T, F: FnMut(&T, &T) -> Ordering>(v: &mut [T], a: usize, b: usize, cmp: &mut F) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(v, j, j - 1, cmp) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Unstable sort (pdqsort)
// ---------------------------------------------------------------------------

/// What the pivot sample said about the range's existing order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

/// Sorts `v[a..b]`. `limit` is how many badly unbalanced partitions are still
/// tolerated before giving up on quicksort and using heapsort.
fn pdqsort<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    mut a: usize,
    mut b: usize,
    mut limit: usize,
    cmp: &mut F,
) {
    const MAX_INSERTION: usize = 12;

    // Outcome of the previous partition step of this loop; both start "good"
    // so the first round may try the already-sorted shortcut.
    let mut was_balanced = true;
    let mut was_partitioned = true;

    loop {
        let length = b - a;

        if length <= MAX_INSERTION {
            insertion_sort(v, a, b, cmp);
            return;
        }

        // Too many bad pivots: guarantee O(n log n) instead.
        if limit == 0 {
            heap_sort(v, a, b, cmp);
            return;
        }

        // An unbalanced split hints at an adversarial pattern; shuffle a few
        // elements (deterministically) before choosing the next pivot.
        if !was_balanced {
            break_patterns(v, a, b);
            limit -= 1;
        }

        let (mut pivot, mut hint) = choose_pivot(v, a, b, cmp);
        if hint == Hint::Decreasing {
            // Every sample was descending: the range is probably reversed, so
            // reverse it and follow the pivot to its mirrored position.
            reverse_range(v, a, b);
            pivot = (b - 1) - (pivot - a);
            hint = Hint::Increasing;
        }

        // Looks sorted: a bounded insertion pass may finish the job outright.
        if was_balanced
            && was_partitioned
            && hint == Hint::Increasing
            && partial_insertion_sort(v, a, b, cmp)
        {
            return;
        }

        // The element just before this range is <= everything in it. If it is
        // also >= the pivot, the pivot is the range minimum and probably has
        // many duplicates: split off everything equal to it and skip it.
        if a > 0 && !less(v, a - 1, pivot, cmp) {
            a = partition_equal(v, a, b, pivot, cmp);
            continue;
        }

        let (mid, already_partitioned) = partition(v, a, b, pivot, cmp);
        was_partitioned = already_partitioned;

        // Recurse into the smaller side and loop on the larger one, which
        // keeps the recursion depth logarithmic.
        let (left_len, right_len) = (mid - a, b - mid);
        let balance_threshold = length / 8;
        if left_len < right_len {
            was_balanced = left_len >= balance_threshold;
            pdqsort(v, a, mid, limit, cmp);
            a = mid + 1;
        } else {
            was_balanced = right_len >= balance_threshold;
            pdqsort(v, mid + 1, b, limit, cmp);
            b = mid;
        }
    }
}

/// Partitions `v[a..b]` around `v[pivot]`: afterwards elements before the
/// returned index are < pivot, elements after it are >= pivot, and the pivot
/// itself sits at the returned index. The flag says whether nothing had to be
/// moved (the range was already partitioned).
fn partition<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    cmp: &mut F,
) -> (usize, bool) {
    // Park the pivot at the front so it stays put while we scan.
    v.swap(a, pivot);
    // `i` and `j` are inclusive bounds of the still-unclassified middle.
    let (mut i, mut j) = (a + 1, b - 1);

    while i <= j && less(v, i, a, cmp) {
        i += 1;
    }
    while i <= j && !less(v, j, a, cmp) {
        j -= 1;
    }
    if i > j {
        // The scans met without finding a misplaced pair.
        v.swap(j, a);
        return (j, true);
    }
    v.swap(i, j);
    i += 1;
    j -= 1;

    loop {
        while i <= j && less(v, i, a, cmp) {
            i += 1;
        }
        while i <= j && !less(v, j, a, cmp) {
            j -= 1;
        }
        if i > j {
            break;
        }
        v.swap(i, j);
        i += 1;
        j -= 1;
    }
    v.swap(j, a);
    (j, false)
}

/// Partitions `v[a..b]`, which is known to hold nothing smaller than
/// `v[pivot]`, into elements equal to the pivot followed by larger ones.
/// Returns the start of the larger elements.
fn partition_equal<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    cmp: &mut F,
) -> usize {
    v.swap(a, pivot);
    let (mut i, mut j) = (a + 1, b - 1);

    loop {
        // "Not greater than the pivot" means equal, given the precondition.
        while i <= j && !less(v, a, i, cmp) {
            i += 1;
        }
        while i <= j && less(v, a, j, cmp) {
            j -= 1;
        }
        if i > j {
            break;
        }
        v.swap(i, j);
        i += 1;
        j -= 1;
    }
    i
}

/// Tries to finish sorting a nearly sorted `v[a..b]` by fixing at most a few
/// out-of-order neighbours. Returns whether the range ended up sorted.
fn partial_insertion_sort<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    a: usize,
    b: usize,
    cmp: &mut F,
) -> bool {
    // Number of out-of-order pairs we are willing to repair.
    const MAX_STEPS: usize = 5;
    // Below this size repairing is not worth it; partitioning is cheap.
    const SHORTEST_SHIFTING: usize = 50;

    let mut i = a + 1;
    for _ in 0..MAX_STEPS {
        // Skip the sorted prefix.
        while i < b && !less(v, i, i - 1, cmp) {
            i += 1;
        }

        if i == b {
            return true;
        }

        if b - a < SHORTEST_SHIFTING {
            return false;
        }

        v.swap(i, i - 1);

        // Move the now-earlier (smaller) element left to its place. Go bounds
        // this walk by index 1 of the whole slice, not by `a`, so it may
        // compare against elements before the range; keep that exactly.
        if i - a >= 2 {
            let mut j = i - 1;
            while j >= 1 {
                if !less(v, j, j - 1, cmp) {
                    break;
                }
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        // Move the now-later (larger) element right to its place.
        if b - i >= 2 {
            for j in i + 1..b {
                if !less(v, j, j - 1, cmp) {
                    break;
                }
                v.swap(j, j - 1);
            }
        }
    }
    false
}

/// Swaps the three middle elements of `v[a..b]` with pseudo-random partners.
/// The generator is seeded with the range length, so this is deterministic.
fn break_patterns<T>(v: &mut [T], a: usize, b: usize) {
    let length = b - a;
    if length >= 8 {
        let mut random = XorShift(length as u64);
        // Next power of two strictly above `length`; Go's shift yields 0 if
        // it would overflow, and the mask then keeps every bit.
        let modulus = 1usize.checked_shl(bit_len(length) as u32).unwrap_or(0);
        let mask = modulus.wrapping_sub(1);

        let centre = a + (length / 4) * 2;
        for idx in centre - 1..=centre + 1 {
            // Truncation to usize matches Go's `uint(...)` conversion.
            let mut other = (random.next() as usize) & mask;
            if other >= length {
                other -= length;
            }
            v.swap(idx, a + other);
        }
    }
}

/// 64-bit xorshift generator (shifts 13, 7, 17), as used by Go's sort.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Picks a pivot index in `v[a..b]` and reports what the sampled elements
/// suggest about the existing order. Ranges of 50 or more use the median of
/// three medians-of-three ("ninther"); 8..50 use a plain median of three;
/// shorter ranges take the middle element as is.
fn choose_pivot<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    a: usize,
    b: usize,
    cmp: &mut F,
) -> (usize, Hint) {
    const SHORTEST_NINTHER: usize = 50;
    // Every order2 step swapped: the samples were strictly descending.
    const MAX_SWAPS: usize = 4 * 3;

    let l = b - a;
    let mut swaps = 0;
    let mut i = a + l / 4;
    let mut j = a + l / 4 * 2;
    let mut k = a + l / 4 * 3;

    if l >= 8 {
        if l >= SHORTEST_NINTHER {
            i = median_adjacent(v, i, &mut swaps, cmp);
            j = median_adjacent(v, j, &mut swaps, cmp);
            k = median_adjacent(v, k, &mut swaps, cmp);
        }
        j = median(v, i, j, k, &mut swaps, cmp);
    }

    // Only indices move, never elements, so sampling has no side effects on
    // `v`; `swaps` just counts how often a pair came out of order.
    let hint = match swaps {
        0 => Hint::Increasing,
        MAX_SWAPS => Hint::Decreasing,
        _ => Hint::Unknown,
    };
    (j, hint)
}

/// Returns `(x, y)`, a reordering of `(a, b)` with `v[x] <= v[y]`, counting a
/// swap when the order had to be flipped.
fn order2<T, F: FnMut(&T, &T) -> Ordering>(
    v: &[T],
    a: usize,
    b: usize,
    swaps: &mut usize,
    cmp: &mut F,
) -> (usize, usize) {
    if less(v, b, a, cmp) {
        *swaps += 1;
        return (b, a);
    }
    (a, b)
}

/// Index of the median of `v[a]`, `v[b]`, `v[c]` (a three-comparison network).
fn median<T, F: FnMut(&T, &T) -> Ordering>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    swaps: &mut usize,
    cmp: &mut F,
) -> usize {
    let (a, b) = order2(v, a, b, swaps, cmp);
    let (b, _c) = order2(v, b, c, swaps, cmp);
    let (_a, b) = order2(v, a, b, swaps, cmp);
    b
}

/// Index of the median of `v[a - 1]`, `v[a]`, `v[a + 1]`.
fn median_adjacent<T, F: FnMut(&T, &T) -> Ordering>(
    v: &[T],
    a: usize,
    swaps: &mut usize,
    cmp: &mut F,
) -> usize {
    median(v, a - 1, a, a + 1, swaps, cmp)
}

/// Reverses `v[a..b]` with the same pairwise swaps Go performs.
fn reverse_range<T>(v: &mut [T], a: usize, b: usize) {
    if b <= a + 1 {
        return;
    }
    let (mut i, mut j) = (a, b - 1);
    while i < j {
        v.swap(i, j);
        i += 1;
        j -= 1;
    }
}

/// Restores the max-heap property for the subtree at `root`, where the heap
/// occupies `v[first + lo .. first + hi]` and indices are heap-relative.
fn sift_down<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    lo: usize,
    hi: usize,
    first: usize,
    cmp: &mut F,
) {
    let mut root = lo;
    loop {
        let mut child = 2 * root + 1;
        if child >= hi {
            break;
        }
        // Follow the larger child (the right one only if strictly larger).
        if child + 1 < hi && less(v, first + child, first + child + 1, cmp) {
            child += 1;
        }
        if !less(v, first + root, first + child, cmp) {
            return;
        }
        v.swap(first + root, first + child);
        root = child;
    }
}

/// Heapsort of `v[a..b]`: the worst-case fallback of pdqsort.
fn heap_sort<T, F: FnMut(&T, &T) -> Ordering>(v: &mut [T], a: usize, b: usize, cmp: &mut F) {
    let first = a;
    let lo = 0;
    let hi = b - a;

    // Build a max-heap. Go starts at (hi-1)/2, which is 0 for an empty range.
    for i in (0..=hi.saturating_sub(1) / 2).rev() {
        sift_down(v, i, hi, first, cmp);
    }

    // Repeatedly move the maximum to the end of the shrinking heap.
    for i in (0..hi).rev() {
        v.swap(first, first + i);
        sift_down(v, lo, i, first, cmp);
    }
}

// ---------------------------------------------------------------------------
// Stable sort (insertion-sorted blocks + SymMerge)
// ---------------------------------------------------------------------------

/// Stable in-place sort of `v[0..n]` without extra memory.
fn stable<T, F: FnMut(&T, &T) -> Ordering>(v: &mut [T], n: usize, cmp: &mut F) {
    let mut block_size = 20;

    // Insertion-sort fixed blocks; the last block may be shorter.
    let (mut a, mut b) = (0, block_size);
    while b <= n {
        insertion_sort(v, a, b, cmp);
        a = b;
        b += block_size;
    }
    insertion_sort(v, a, n, cmp);

    // Merge neighbouring blocks pairwise, doubling the block size each pass.
    while block_size < n {
        a = 0;
        b = 2 * block_size;
        while b <= n {
            sym_merge(v, a, a + block_size, b, cmp);
            a = b;
            b += 2 * block_size;
        }
        // A trailing partial pair still needs merging if it has two parts.
        let m = a + block_size;
        if m < n {
            sym_merge(v, a, m, n, cmp);
        }
        block_size *= 2;
    }
}

/// Stably merges the sorted runs `v[a..m]` and `v[m..b]` in place, using the
/// SymMerge algorithm (Kim & Kutzner, 2004). Requires `a < m < b`.
fn sym_merge<T, F: FnMut(&T, &T) -> Ordering>(
    v: &mut [T],
    a: usize,
    m: usize,
    b: usize,
    cmp: &mut F,
) {
    // A single element on the left: binary-search its place in the right run
    // (before the first element not less than it) and bubble it there.
    if m - a == 1 {
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = midpoint(i, j);
            if less(v, h, a, cmp) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            v.swap(k, k + 1);
        }
        return;
    }

    // A single element on the right: binary-search its place in the left run
    // (after every element not greater than it, for stability) and bubble it.
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = midpoint(i, j);
            if !less(v, m, h, cmp) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in (i + 1..=m).rev() {
            v.swap(k, k - 1);
        }
        return;
    }

    // General case: find how much of the left run's tail and the right run's
    // head must trade places around the midpoint, rotate them, and recurse on
    // both halves.
    let mid = midpoint(a, b);
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;

    while start < r {
        let c = midpoint(start, r);
        if !less(v, p - c, c, cmp) {
            start = c + 1;
        } else {
            r = c;
        }
    }

    let end = n - start;
    if start < m && m < end {
        rotate(v, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(v, a, start, mid, cmp);
    }
    if mid < end && end < b {
        sym_merge(v, mid, end, b, cmp);
    }
}

/// Swaps the `n` elements at `a..` with the `n` elements at `b..`.
fn swap_range<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Turns `x u v y` into `x v u y` for `u = v[a..m]`, `v = v[m..b]`, using
/// Go's block-swap rotation. Requires `a < m < b`.
fn rotate<T>(v: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;

    while i != j {
        if i > j {
            swap_range(v, m - i, m, j);
            i -= j;
        } else {
            swap_range(v, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(v, m - i, m, i);
}

#[cfg(test)]
mod tests {
    //! Checks against permutations recorded from Go's own `slices.SortFunc`
    //! and `slices.SortStableFunc`. The fixture's header describes how each
    //! input is generated; the generator below must match it exactly.

    use super::*;

    const CASES: &str = include_str!("../tests/data/gosort_cases.txt");

    /// Permutations longer than this are stored as a hash in the fixture.
    const FULL_MAX: usize = 40;

    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    fn gen_keys(kind: u8, n: usize, m: u64, seed: u64) -> Vec<u64> {
        let mut rng = SplitMix(seed);
        let mut keys: Vec<u64> = (0..n as u64)
            .map(|i| {
                let rev = n as u64 - 1 - i;
                match kind {
                    b'R' | b'X' | b'Y' | b'Z' | b'K' => rng.next() % m,
                    b'A' | b'N' => i / m,
                    b'D' | b'V' => rev / m,
                    b'S' => i % m,
                    b'O' => i.min(rev) / m,
                    _ => panic!("unknown kind {}", kind as char),
                }
            })
            .collect();
        if matches!(kind, b'N' | b'V') && n > 0 {
            for _ in 0..n / 16 + 1 {
                let x = (rng.next() % n as u64) as usize;
                let y = (rng.next() % n as u64) as usize;
                keys.swap(x, y);
            }
        }
        keys
    }

    /// Sorts `(key, index)` pairs with the comparator selected by `kind`
    /// (see the fixture header); returns the index order and the number of
    /// comparator calls.
    fn run(kind: u8, keys: &[u64], seed: u64, stable: bool) -> (Vec<usize>, u64) {
        let n = keys.len();
        let mut pairs: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
        let mut calls = 0u64;
        let mut crng = SplitMix(seed ^ 0xDEAD_BEEF);
        // Antiqsort adversary state: `n` marks a still undecided ("gas") value.
        let mut val = vec![n; n];
        let (mut nsolid, mut candidate) = (0, usize::MAX);
        let cmp = |a: &(u64, usize), b: &(u64, usize)| {
            calls += 1;
            match kind {
                // Random answers, so any divergence in the call sequence shows.
                b'X' => match crng.next() % 3 {
                    0 => Ordering::Less,
                    1 => Ordering::Equal,
                    _ => Ordering::Greater,
                },
                // Lopsided random answers: unbalanced partitions, and for Z
                // (which leaves the range start in place) heapsort.
                b'Y' => match crng.next() % 16 {
                    0 => Ordering::Less,
                    1 => Ordering::Equal,
                    _ => Ordering::Greater,
                },
                b'Z' => match crng.next() % 16 {
                    0 => Ordering::Greater,
                    1 => Ordering::Equal,
                    _ => Ordering::Less,
                },
                b'K' => {
                    let (x, y) = (a.1, b.1);
                    if val[x] == n && val[y] == n {
                        if x == candidate {
                            val[x] = nsolid;
                        } else {
                            val[y] = nsolid;
                        }
                        nsolid += 1;
                    }
                    if val[x] == n {
                        candidate = x;
                    } else if val[y] == n {
                        candidate = y;
                    }
                    val[x].cmp(&val[y])
                }
                _ => a.0.cmp(&b.0),
            }
        };
        if stable {
            sort_stable_func(&mut pairs, cmp);
        } else {
            sort_func(&mut pairs, cmp);
        }
        (pairs.into_iter().map(|p| p.1).collect(), calls)
    }

    /// Same encoding as the fixture generator.
    fn encode(perm: &[usize]) -> String {
        let n = perm.len();
        if n > FULL_MAX {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for &x in perm {
                h ^= x as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            return format!("#{h:016x}");
        }
        if n == 0 {
            return "-".to_string();
        }
        let mut width = 1;
        let mut cap = 36;
        while cap < n {
            width += 1;
            cap *= 36;
        }
        let mut out = String::new();
        for &x in perm {
            let mut digits = Vec::new();
            let mut v = x;
            loop {
                digits.push(std::char::from_digit((v % 36) as u32, 36).unwrap());
                v /= 36;
                if v == 0 {
                    break;
                }
            }
            for _ in digits.len()..width {
                out.push('0');
            }
            out.extend(digits.iter().rev());
        }
        out
    }

    #[test]
    fn matches_go_fixture() {
        let mut checked = 0;
        let mut failures = Vec::new();
        for line in CASES
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 8, "malformed fixture line: {line}");
            let kind = f[0].as_bytes()[0];
            let n: usize = f[1].parse().unwrap();
            let m: u64 = f[2].parse().unwrap();
            let seed: u64 = f[3].parse().unwrap();
            let keys = gen_keys(kind, n, m, seed);

            for (stable, calls_field, perm_field) in [(false, f[4], f[5]), (true, f[6], f[7])] {
                let (perm, calls) = run(kind, &keys, seed, stable);
                let got = format!("{calls} {}", encode(&perm));
                let want = format!("{calls_field} {perm_field}");
                if got != want {
                    failures.push(format!("{line}\n  stable={stable}: got {got}, want {want}"));
                }
            }
            checked += 1;
        }
        assert!(checked > 4000, "fixture too small: {checked} cases");
        assert!(
            failures.is_empty(),
            "{} of {checked} cases differ from Go; first ones:\n{}",
            failures.len(),
            failures
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn sorts_and_keeps_elements() {
        let mut rng = SplitMix(7);
        for n in [0, 1, 2, 13, 50, 51, 200, 1000] {
            let orig: Vec<u64> = (0..n).map(|_| rng.next() % 10).collect();
            let mut want = orig.clone();
            want.sort();

            let mut v = orig.clone();
            sort_func(&mut v, |a, b| a.cmp(b));
            assert_eq!(v, want);

            // Stability: equal keys keep their original relative order.
            let mut p: Vec<(u64, usize)> = orig.iter().copied().zip(0..).collect();
            sort_stable_func(&mut p, |a, b| a.0.cmp(&b.0));
            let mut q: Vec<(u64, usize)> = orig.iter().copied().zip(0..).collect();
            q.sort_by_key(|x| x.0);
            assert_eq!(p, q);
        }
    }
}
