//! Batch framing: the unit the runtime writes. Each batch has a small header
//! (generation, thread, base timestamp, size) followed by `size` bytes of events.

use crate::spec::*;
use crate::varint::{uvarint, VarintError};
use std::fmt;
use std::ops::Range;

/// What a batch contains, as far as framing can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// An `EventBatch`: per-M events, or a strings/stacks/CPU-samples/sync section.
    Events,
    /// An `ExperimentalBatch` for the given experiment.
    Experimental(Experiment),
    /// Go 1.26's one-byte in-band end-of-generation marker.
    EndOfGeneration,
}

/// One batch, located in a byte buffer but not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// What the batch holds.
    pub kind: BatchKind,
    /// The generation it belongs to.
    pub gen: u64,
    /// Thread (M) ID as written; `u64::MAX` means "no thread".
    pub m: u64,
    /// Base timestamp, in raw clock ticks.
    pub time: u64,
    /// Offset of the batch's first header byte.
    pub start: usize,
    /// Where the batch's event data lies in the buffer.
    pub data: Range<usize>,
}

impl Batch {
    /// Offset one past the batch's last byte.
    pub fn end(&self) -> usize {
        self.data.end
    }

    /// The first event type in the data, which identifies special batches.
    pub fn first_event(&self, buf: &[u8]) -> Option<EventType> {
        if self.kind != BatchKind::Events || self.data.is_empty() {
            return None;
        }
        Some(buf[self.data.start])
    }
}

/// Which header field a truncated or malformed batch header broke in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderField {
    /// The experiment byte of an experimental batch.
    Experiment,
    /// The generation number.
    Generation,
    /// The thread (M) ID.
    Thread,
    /// The base timestamp.
    Timestamp,
    /// The data length.
    Size,
}

impl HeaderField {
    fn name(self) -> &'static str {
        match self {
            HeaderField::Experiment => "experiment ID",
            HeaderField::Generation => "generation",
            HeaderField::Thread => "M ID",
            HeaderField::Timestamp => "timestamp",
            HeaderField::Size => "size",
        }
    }
}

/// Why a batch could not be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchErrorKind {
    /// The byte where a batch should start is some other event type.
    NotABatch(u8),
    /// The input ended inside a header field.
    TruncatedHeader(HeaderField),
    /// A header field's varint overflows 64 bits.
    BadVarint(HeaderField),
    /// The size field exceeds what the runtime ever writes.
    TooLarge(u64),
    /// The input ended before the batch's data did.
    TruncatedData {
        /// Bytes available.
        have: u64,
        /// Bytes the header announced.
        want: u64,
    },
}

/// A framing error, with the offset of the batch it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    /// Offset of the batch's first byte.
    pub offset: usize,
    /// Generation from the header, when it got that far.
    pub gen: Option<u64>,
    /// What is wrong.
    pub kind: BatchErrorKind,
}

impl BatchError {
    /// Whether more input could have completed this batch.
    pub fn is_truncation(&self) -> bool {
        matches!(
            self.kind,
            BatchErrorKind::TruncatedHeader(_) | BatchErrorKind::TruncatedData { .. }
        )
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BatchErrorKind::NotABatch(t) => write!(f, "expected batch event, got event {t}")?,
            BatchErrorKind::TruncatedHeader(h) => {
                write!(f, "error reading batch {}: unexpected EOF", h.name())?
            }
            BatchErrorKind::BadVarint(h) => write!(
                f,
                "error reading batch {}: varint overflows a 64-bit integer",
                h.name()
            )?,
            BatchErrorKind::TooLarge(n) => {
                write!(f, "invalid batch size {n}, maximum is {MAX_BATCH_SIZE}")?
            }
            BatchErrorKind::TruncatedData { have, want } => write!(
                f,
                "failed to read full batch: read {have} but wanted {want}"
            )?,
        }
        write!(f, " (batch at byte offset {})", self.offset)
    }
}

impl std::error::Error for BatchError {}

/// Frames the batch starting at `off`. Returns `Ok(None)` at the end of input.
///
/// Never allocates: the batch refers to `buf`.
pub fn read_batch(buf: &[u8], off: usize) -> Result<Option<Batch>, BatchError> {
    let Some(&typ) = buf.get(off) else {
        return Ok(None);
    };
    let err = |gen, kind| BatchError {
        offset: off,
        gen,
        kind,
    };
    if typ == EV_END_OF_GENERATION {
        return Ok(Some(Batch {
            kind: BatchKind::EndOfGeneration,
            gen: 0,
            m: u64::MAX,
            time: 0,
            start: off,
            data: off..off + 1,
        }));
    }
    if typ != EV_EVENT_BATCH && typ != EV_EXPERIMENTAL_BATCH {
        return Err(err(None, BatchErrorKind::NotABatch(typ)));
    }
    let mut pos = off + 1;
    let mut kind = BatchKind::Events;
    if typ == EV_EXPERIMENTAL_BATCH {
        let Some(&e) = buf.get(pos) else {
            return Err(err(
                None,
                BatchErrorKind::TruncatedHeader(HeaderField::Experiment),
            ));
        };
        kind = BatchKind::Experimental(e);
        pos += 1;
    }
    let field = |pos: &mut usize, which: HeaderField, gen: Option<u64>| match uvarint(&buf[*pos..])
    {
        Ok((v, n)) => {
            *pos += n;
            Ok(v)
        }
        Err(VarintError::Truncated) => Err(err(gen, BatchErrorKind::TruncatedHeader(which))),
        Err(VarintError::Overflow) => Err(err(gen, BatchErrorKind::BadVarint(which))),
    };
    let gen = field(&mut pos, HeaderField::Generation, None)?;
    let m = field(&mut pos, HeaderField::Thread, Some(gen))?;
    let time = field(&mut pos, HeaderField::Timestamp, Some(gen))?;
    let size = field(&mut pos, HeaderField::Size, Some(gen))?;
    if size > MAX_BATCH_SIZE {
        return Err(err(Some(gen), BatchErrorKind::TooLarge(size)));
    }
    let have = (buf.len() - pos) as u64;
    if have < size {
        return Err(err(
            Some(gen),
            BatchErrorKind::TruncatedData { have, want: size },
        ));
    }
    let end = pos + size as usize;
    Ok(Some(Batch {
        kind,
        gen,
        m,
        time,
        start: off,
        data: pos..end,
    }))
}

/// Iterates over the batches of a buffer that holds whole batches back to back.
pub struct Batches<'a> {
    buf: &'a [u8],
    off: usize,
    failed: bool,
}

impl<'a> Batches<'a> {
    /// Iterates over the batches in `buf` from offset `off`.
    pub fn new(buf: &'a [u8], off: usize) -> Self {
        Batches {
            buf,
            off,
            failed: false,
        }
    }

    /// Offset of the next batch to be read.
    pub fn offset(&self) -> usize {
        self.off
    }
}

impl Iterator for Batches<'_> {
    type Item = Result<Batch, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match read_batch(self.buf, self.off) {
            Ok(Some(b)) => {
                self.off = b.end();
                Some(Ok(b))
            }
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(gen: u64, m: u64, data: &[u8]) -> Vec<u8> {
        let mut b = vec![EV_EVENT_BATCH];
        for v in [gen, m, 7, data.len() as u64] {
            crate::varint::put_uvarint(&mut b, v);
        }
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn frames_consecutive_batches_without_copying() {
        let mut buf = batch(1, 3, &[1, 2, 3]);
        buf.extend(batch(1, 4, &[]));
        buf.push(EV_END_OF_GENERATION);
        let all: Vec<_> = Batches::new(&buf, 0).collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].gen, all[0].m, all[0].time), (1, 3, 7));
        assert_eq!(&buf[all[0].data.clone()], &[1, 2, 3]);
        assert_eq!(all[1].data.len(), 0);
        assert_eq!(all[2].kind, BatchKind::EndOfGeneration);
    }

    #[test]
    fn a_size_claiming_4gb_is_rejected_before_any_allocation() {
        let mut b = vec![EV_EVENT_BATCH, 1, 0, 0];
        crate::varint::put_uvarint(&mut b, 4 << 30);
        let e = read_batch(&b, 0).unwrap_err();
        assert_eq!(e.kind, BatchErrorKind::TooLarge(4 << 30));
        assert!(e.to_string().contains("byte offset 0"), "{e}");
    }

    #[test]
    fn truncation_is_reported_with_the_offset_of_the_batch() {
        let mut buf = batch(1, 3, &[1, 2, 3]);
        let second = buf.len();
        buf.extend(batch(1, 3, &[9; 10]));
        buf.truncate(buf.len() - 4);
        let mut it = Batches::new(&buf, 0);
        assert!(it.next().unwrap().is_ok());
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.offset, second);
        assert!(e.is_truncation());
        assert_eq!(e.kind, BatchErrorKind::TruncatedData { have: 6, want: 10 });
        assert!(it.next().is_none());
    }

    #[test]
    fn a_stray_event_where_a_batch_belongs_is_an_error() {
        let e = read_batch(&[EV_GO_START], 0).unwrap_err();
        assert_eq!(e.kind, BatchErrorKind::NotABatch(EV_GO_START));
    }
}
