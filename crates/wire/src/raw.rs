//! A raw, unvalidated view of the event stream: what `go tool trace -d=wire`
//! prints. Framing events (EventBatch, Stacks, ...) appear as events too.

use crate::gostr;
use crate::spec::*;
use crate::varint::{uvarint, uvarint_len, VarintError};
use crate::Version;
use std::fmt;

/// One undecoded wire event. `args` includes stack frames (4 values each)
/// after the spec's own arguments.
#[derive(Debug, Clone, Copy)]
pub struct RawEvent<'a> {
    /// The format version of the trace.
    pub version: Version,
    /// The event type byte.
    pub typ: EventType,
    /// The arguments as decoded varints.
    pub args: &'a [u64],
    /// Trailer bytes for events whose spec has data; `None` when absent or empty,
    /// as in the reference.
    pub data: Option<&'a [u8]>,
    /// Offset of the event's type byte in the input.
    pub offset: usize,
}

impl RawEvent<'_> {
    /// The event's spec.
    pub fn spec(&self) -> &'static EventSpec {
        crate::spec::spec(self.typ).expect("raw events only have known types")
    }

    /// Size of the event's canonical encoding (shortest varints), as the
    /// reference's footprint counts it.
    pub fn encoded_size(&self) -> usize {
        let mut n = 1 + self.args.iter().map(|&a| uvarint_len(a)).sum::<usize>();
        if self.spec().has_data {
            let len = self.data.map_or(0, |d| d.len());
            n += uvarint_len(len as u64) + len;
        }
        n
    }

    /// Writes the reference's text form of the event (no trailing newline).
    pub fn write_text(&self, out: &mut Vec<u8>) {
        let spec = self.spec();
        out.extend_from_slice(spec.name.as_bytes());
        for (name, v) in spec.args.iter().zip(self.args) {
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            out.extend_from_slice(itoa(*v).as_bytes());
        }
        if spec.is_stack {
            const FIELDS: [&str; 4] = ["pc", "func", "file", "line"];
            for (i, v) in self.args[spec.args.len()..].iter().enumerate() {
                out.extend_from_slice(if i % 4 == 0 { b"\n\t" } else { b" " });
                out.extend_from_slice(FIELDS[i % 4].as_bytes());
                out.push(b'=');
                out.extend_from_slice(itoa(*v).as_bytes());
            }
        }
        if let Some(d) = self.data {
            out.extend_from_slice(b"\n\tdata=");
            gostr::quote_into(out, d);
        }
    }
}

impl fmt::Display for RawEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = Vec::new();
        self.write_text(&mut b);
        f.write_str(&String::from_utf8_lossy(&b))
    }
}

fn itoa(v: u64) -> String {
    v.to_string()
}

/// Why the raw reader stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawErrorKind {
    /// A type byte no spec of this version defines.
    InvalidType(u8),
    /// Input ended inside a varint or a data trailer.
    UnexpectedEof,
    /// A varint overflows 64 bits.
    Overflow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A raw decoding error, with the offset where it happened.
pub struct RawError {
    /// Offset of the byte where decoding failed.
    pub offset: usize,
    /// What is wrong.
    pub kind: RawErrorKind,
}

impl fmt::Display for RawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RawErrorKind::InvalidType(t) => write!(f, "invalid event type: {t}")?,
            RawErrorKind::UnexpectedEof => f.write_str("unexpected EOF")?,
            RawErrorKind::Overflow => f.write_str("binary: varint overflows a 64-bit integer")?,
        }
        write!(f, " (at byte offset {})", self.offset)
    }
}

impl std::error::Error for RawError {}

/// Sequential reader over a whole trace's bytes (header included).
pub struct RawReader<'a> {
    buf: &'a [u8],
    off: usize,
    version: Version,
    args: Vec<u64>,
    /// Stop quietly when input ends exactly between two varints, as the
    /// reference's raw reader does; otherwise that is an error.
    lenient_eof: bool,
}

impl<'a> RawReader<'a> {
    /// Starts reading after the header. Fails if the header is bad.
    pub fn new(buf: &'a [u8]) -> Result<Self, crate::HeaderError> {
        let h = crate::read_header(buf)?;
        Ok(RawReader {
            buf,
            off: h.len,
            version: h.version,
            args: Vec::new(),
            lenient_eof: false,
        })
    }

    /// Treat input that ends on a varint boundary as a clean end (the
    /// reference's `-d=wire` behaviour).
    pub fn lenient_eof(mut self, yes: bool) -> Self {
        self.lenient_eof = yes;
        self
    }

    /// The trace's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.off
    }

    fn varint(&mut self) -> Result<Option<u64>, RawError> {
        match uvarint(&self.buf[self.off..]) {
            Ok((v, n)) => {
                self.off += n;
                Ok(Some(v))
            }
            Err(VarintError::Truncated) if self.off == self.buf.len() && self.lenient_eof => {
                Ok(None)
            }
            Err(VarintError::Truncated) => Err(RawError {
                offset: self.buf.len(),
                kind: RawErrorKind::UnexpectedEof,
            }),
            Err(VarintError::Overflow) => Err(RawError {
                offset: self.off,
                kind: RawErrorKind::Overflow,
            }),
        }
    }

    /// The next event, or `None` at the end of input.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<RawEvent<'_>>, RawError> {
        let start = self.off;
        let Some(&typ) = self.buf.get(self.off) else {
            return Ok(None);
        };
        let spec = match self.version.spec(typ) {
            Some(s) if typ != 0 => s,
            _ => {
                return Err(RawError {
                    offset: start,
                    kind: RawErrorKind::InvalidType(typ),
                })
            }
        };
        self.off += 1;
        self.args.clear();
        for _ in 0..spec.args.len() {
            match self.varint()? {
                Some(v) => self.args.push(v),
                None => return Ok(None),
            }
        }
        if spec.is_stack {
            let frames = self.args[1];
            // Bounded by the input, not by the claimed count.
            let mut i = 0;
            while i < frames.saturating_mul(4) {
                match self.varint()? {
                    Some(v) => self.args.push(v),
                    None => return Ok(None),
                }
                i += 1;
            }
        }
        let mut data = None;
        if spec.has_data {
            let Some(len) = self.varint()? else {
                return Ok(None);
            };
            let avail = (self.buf.len() - self.off) as u64;
            if len > avail {
                if self.lenient_eof {
                    return Ok(None);
                }
                return Err(RawError {
                    offset: self.buf.len(),
                    kind: RawErrorKind::UnexpectedEof,
                });
            }
            let d = &self.buf[self.off..self.off + len as usize];
            self.off += len as usize;
            if !d.is_empty() {
                data = Some(d);
            }
        }
        Ok(Some(RawEvent {
            version: self.version,
            typ,
            args: &self.args,
            data,
            offset: start,
        }))
    }
}
