//! Go's `container/heap` on a `Vec`: the same sift steps, so that elements
//! with equal keys sit in the same slots as in the reference. That matters:
//! the order in which bands with equal bounds are refined, and which
//! overlapping worst window is replaced, follow the heap's layout.

/// `less(a, b)`: whether `a` must be nearer the top than `b`.
pub(crate) trait HeapOrder<T> {
    fn less(&self, a: &T, b: &T) -> bool;
}

impl<T, F: Fn(&T, &T) -> bool> HeapOrder<T> for F {
    #[inline]
    fn less(&self, a: &T, b: &T) -> bool {
        self(a, b)
    }
}

fn up<T>(h: &mut [T], mut j: usize, o: &impl HeapOrder<T>) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !o.less(&h[j], &h[i]) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn down<T>(h: &mut [T], i0: usize, n: usize, o: &impl HeapOrder<T>) -> bool {
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && o.less(&h[j2], &h[j1]) {
            j = j2;
        }
        if !o.less(&h[j], &h[i]) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

/// `heap.Init`.
pub(crate) fn init<T>(h: &mut [T], o: &impl HeapOrder<T>) {
    let n = h.len();
    for i in (0..n / 2).rev() {
        down(h, i, n, o);
    }
}

/// `heap.Push`.
pub(crate) fn push<T>(h: &mut Vec<T>, x: T, o: &impl HeapOrder<T>) {
    h.push(x);
    let n = h.len();
    up(h, n - 1, o);
}

/// `heap.Pop`.
pub(crate) fn pop<T>(h: &mut Vec<T>, o: &impl HeapOrder<T>) -> Option<T> {
    let n = h.len().checked_sub(1)?;
    h.swap(0, n);
    down(h, 0, n, o);
    h.pop()
}

/// `heap.Remove`.
pub(crate) fn remove<T>(h: &mut Vec<T>, i: usize, o: &impl HeapOrder<T>) -> T {
    let n = h.len() - 1;
    if n != i {
        h.swap(i, n);
        if !down(h, i, n, o) {
            up(h, i, o);
        }
    }
    h.pop().expect("non-empty heap")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_order() {
        let lt = |a: &i32, b: &i32| a < b;
        let mut h = vec![5, 3, 8, 1, 9, 2, 7];
        init(&mut h, &lt);
        push(&mut h, 0, &lt);
        let removed = remove(&mut h, 3, &lt);
        let mut out = vec![removed];
        while let Some(x) = pop(&mut h, &lt) {
            out.push(x);
        }
        out[1..].windows(2).for_each(|w| assert!(w[0] <= w[1]));
        assert_eq!(out.len(), 8);
    }
}
