//! Where trace bytes come from: a memory map, an in-memory buffer, or any
//! `io::Read`, handed out one generation at a time.

use std::io::Read;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Bytes shared by every generation of an mmapped or in-memory trace.
pub(crate) enum Whole {
    Mmap(memmap2::Mmap),
    Vec(Vec<u8>),
}

impl Deref for Whole {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Whole::Mmap(m) => m,
            Whole::Vec(v) => v,
        }
    }
}

const PAGE: usize = 4096;

impl Whole {
    /// Returns the pages lying wholly inside `range` to the OS (mmaps only;
    /// the neighbours' pages stay mapped).
    pub fn release(&self, range: Range<usize>) {
        #[cfg(unix)]
        if let Whole::Mmap(m) = self {
            let a = range.start.div_ceil(PAGE) * PAGE;
            let b = range.end.min(m.len()) / PAGE * PAGE;
            if b > a {
                // SAFETY: read-only private file mapping; dropped pages are
                // re-read from the file if touched again.
                let _ = unsafe {
                    m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, a, b - a)
                };
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// Asks the OS to start reading `range` in (mmaps only).
    pub fn will_need(&self, range: Range<usize>) {
        #[cfg(unix)]
        if let Whole::Mmap(m) = self {
            let a = range.start / PAGE * PAGE;
            let b = range.end.min(m.len());
            if b > a {
                let _ = m.advise_range(memmap2::Advice::WillNeed, a, b - a);
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }
}

/// The bytes of one generation: a window on shared bytes, or a buffer read
/// from a stream. Deref gives the window; `offset` is where it starts in the file.
///
/// The window's address and length are cached, so dereferencing (once per
/// event on the hot path) is two loads, not an enum match and a bounds check.
#[derive(Clone)]
pub(crate) struct GenBytes {
    /// Keeps the bytes `ptr` points into alive (and unmoved: a map or an
    /// `Arc`'d buffer never moves).
    _inner: GenInner,
    ptr: *const u8,
    len: usize,
    /// File offset of byte 0 of the window.
    pub offset: u64,
}

// SAFETY: `ptr` points into immutable bytes owned through `_inner`, an `Arc`
// of `Send + Sync` data; it is never written through.
unsafe impl Send for GenBytes {}
unsafe impl Sync for GenBytes {}

impl Default for GenBytes {
    fn default() -> Self {
        GenBytes {
            _inner: GenInner::Empty,
            ptr: std::ptr::NonNull::<u8>::dangling().as_ptr(),
            len: 0,
            offset: 0,
        }
    }
}

// Held only to keep the bytes alive.
#[allow(dead_code)]
#[derive(Clone, Default)]
enum GenInner {
    #[default]
    Empty,
    Shared(Arc<Whole>),
    Owned(Arc<Vec<u8>>),
}

impl std::fmt::Debug for GenBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GenBytes({} bytes at {})", self.len(), self.offset)
    }
}

impl GenBytes {
    pub fn shared(whole: Arc<Whole>, range: Range<usize>) -> Self {
        let offset = range.start as u64;
        let s = &whole[range];
        let (ptr, len) = (s.as_ptr(), s.len());
        GenBytes {
            _inner: GenInner::Shared(whole),
            ptr,
            len,
            offset,
        }
    }

    pub fn owned(v: Vec<u8>, offset: u64) -> Self {
        let v = Arc::new(v);
        let (ptr, len) = (v.as_ptr(), v.len());
        GenBytes {
            _inner: GenInner::Owned(v),
            ptr,
            len,
            offset,
        }
    }
}

impl Deref for GenBytes {
    type Target = [u8];
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` lies in the bytes `_inner` keeps alive and
        // immutable (or is a dangling pointer with len 0).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A byte source that grows on demand: all of it at once for mmaps and
/// buffers, or read in pieces from a stream.
pub(crate) enum Input {
    Whole(Arc<Whole>),
    Stream {
        r: Box<dyn Read + Send>,
        buf: Vec<u8>,
        base: u64,
        eof: bool,
    },
}

impl Input {
    /// The bytes available from file offset `base()` on.
    pub fn window(&self) -> &[u8] {
        match self {
            Input::Whole(w) => w,
            Input::Stream { buf, .. } => buf,
        }
    }

    /// File offset of `window()[0]`.
    pub fn base(&self) -> u64 {
        match self {
            Input::Whole(_) => 0,
            Input::Stream { base, .. } => *base,
        }
    }

    /// Whether all input is in the window.
    pub fn at_eof(&self) -> bool {
        match self {
            Input::Whole(_) => true,
            Input::Stream { eof, .. } => *eof,
        }
    }

    /// Reads more from a stream. Returns false if there is nothing more.
    pub fn fill(&mut self) -> std::io::Result<bool> {
        let Input::Stream { r, buf, eof, .. } = self else {
            return Ok(false);
        };
        if *eof {
            return Ok(false);
        }
        let old = buf.len();
        let want = (old / 2).clamp(64 << 10, 16 << 20);
        buf.resize(old + want, 0);
        let mut got = 0;
        while got < want {
            match r.read(&mut buf[old + got..]) {
                Ok(0) => {
                    *eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(old + got);
                    return Err(e);
                }
            }
        }
        buf.truncate(old + got);
        Ok(got > 0)
    }

    /// Takes window bytes `range` as a generation's bytes. For streams the
    /// prefix up to `range.end` is dropped from the window.
    pub fn take(&mut self, range: Range<usize>) -> GenBytes {
        match self {
            Input::Whole(w) => GenBytes::shared(w.clone(), range),
            Input::Stream { buf, base, .. } => {
                let rest = buf.split_off(range.end);
                let mut mine = std::mem::replace(buf, rest);
                let offset = *base + range.start as u64;
                *base += range.end as u64;
                mine.drain(..range.start);
                GenBytes::owned(mine, offset)
            }
        }
    }

    /// Drops window bytes before `end` (streams only; used after the header).
    pub fn skip(&mut self, end: usize) {
        if let Input::Stream { buf, base, .. } = self {
            buf.drain(..end);
            *base += end as u64;
        }
    }
}
