//! What can be kept of a trace whose stream ended early: its complete
//! generations, found by batch framing and confirmed with the `gotrace` Reader.

use gotrace::{EventKind, Reader};
use gotrace_wire::{read_batch, BatchKind, Version};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// How a trace's batch framing ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tail {
    /// At a batch boundary, with no generation left open (as far as the
    /// format can tell: before Go 1.26 a generation has no end marker).
    Complete,
    /// Go 1.26+: batches follow the last end-of-generation marker.
    OpenGeneration,
    /// Inside the batch at this offset.
    MidBatch(u64),
    /// The framing breaks at this offset.
    Corrupt(u64, String),
}

/// A trace's generations as batch framing sees them.
#[derive(Debug, Clone)]
pub(crate) struct Framing {
    /// Where each complete generation ends, in file order.
    pub ends: Vec<u64>,
    /// How the framing ends.
    pub tail: Tail,
}

/// Scans the batch framing of the trace in `f`.
///
/// A generation is complete when its end is certain: from Go 1.26 on, its
/// in-band end-of-generation marker has arrived; before, the first batch of
/// the next generation has. The last generation of a pre-1.26 trace is
/// therefore never listed, even if all of its batches happen to be there.
/// Reads the file in bounded chunks (at most about one batch is held).
pub(crate) fn scan_framing(
    f: &mut File,
    header_len: usize,
    version: Version,
) -> io::Result<Framing> {
    const CHUNK: usize = 256 << 10;
    let v126 = version >= Version::Go126;
    f.seek(SeekFrom::Start(header_len as u64))?;
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut base = header_len as u64; // file offset of buf[0]
    let mut pos = 0usize;
    let mut eof = false;
    let mut cur: Option<u64> = None;
    let mut ends = Vec::new();
    let tail = loop {
        match read_batch(&buf, pos) {
            Ok(Some(b)) => {
                let at = base + b.start as u64;
                if v126 {
                    if b.kind == BatchKind::EndOfGeneration {
                        if cur.take().is_some() {
                            ends.push(base + b.end() as u64);
                        }
                    } else {
                        match cur {
                            Some(g) if g != b.gen => {
                                break Tail::Corrupt(at, "generations are interleaved".into());
                            }
                            _ => cur = Some(b.gen),
                        }
                    }
                } else {
                    match cur {
                        Some(g) if b.gen == g => {}
                        Some(g) if b.gen == g.wrapping_add(1) => {
                            ends.push(at);
                            cur = Some(b.gen);
                        }
                        Some(_) => break Tail::Corrupt(at, "generations out of order".into()),
                        None => cur = Some(b.gen),
                    }
                }
                pos = b.end();
            }
            Ok(None) if eof => {
                break if v126 && cur.is_some() {
                    Tail::OpenGeneration
                } else {
                    Tail::Complete
                }
            }
            Err(e) if !e.is_truncation() => {
                break Tail::Corrupt(base + e.offset as u64, e.to_string())
            }
            Err(e) if eof => break Tail::MidBatch(base + e.offset as u64),
            Ok(None) | Err(_) => {
                // Need more bytes: drop what is consumed, read the next chunk.
                buf.drain(..pos);
                base += pos as u64;
                pos = 0;
                let old = buf.len();
                buf.resize(old + CHUNK, 0);
                let n = read_full(f, &mut buf[old..])?;
                buf.truncate(old + n);
                if n == 0 {
                    eof = true;
                }
            }
        }
    };
    Ok(Framing { ends, tail })
}

fn read_full(f: &mut File, mut b: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while !b.is_empty() {
        match f.read(b) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                b = &mut b[k..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The result of reading a whole trace with the Reader.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadCounts {
    /// Generations read in full.
    pub generations: u64,
    /// Events, Sync events included.
    pub events: u64,
}

/// Why a trace did not read to the end.
#[derive(Debug, Clone)]
pub(crate) struct ReadFailure {
    pub message: String,
    pub truncation: bool,
    pub offset: Option<u64>,
}

/// Reads the trace at `path` to the end with the `gotrace` Reader.
pub(crate) fn read_all(path: &Path) -> Result<ReadCounts, ReadFailure> {
    let f = File::open(path).map_err(|e| ReadFailure {
        message: format!("{}: {e}", path.display()),
        truncation: false,
        offset: None,
    })?;
    let fail = |e: gotrace::Error| ReadFailure {
        message: e.to_string(),
        truncation: e.is_truncation(),
        offset: e.offset(),
    };
    // A stream, not a memory map: the file may be truncated afterwards.
    let mut r = Reader::from_reader(BufReader::with_capacity(1 << 20, f)).map_err(fail)?;
    let mut counts = ReadCounts::default();
    let mut syncs = 0u64;
    loop {
        match r.read_event() {
            Ok(Some(ev)) => {
                counts.events += 1;
                if ev.kind() == EventKind::Sync {
                    syncs += 1;
                }
            }
            Ok(None) => {
                // One Sync opens each generation and one ends the trace.
                counts.generations = syncs.saturating_sub(1);
                return Ok(counts);
            }
            Err(e) => return Err(fail(e)),
        }
    }
}
