//! Splitting a trace into generations and decoding each generation's
//! structural batches (strings, stacks, CPU samples, clock data).
//!
//! A generation is self-contained apart from scheduler state, so this work
//! runs ahead of ordering on another thread.

use crate::error::{Error, ErrorKind};
use crate::reader::KnownIds;
use crate::source::{GenBytes, Input};
use crate::table::{ClockSnapshot, EvTable, FrameInfo};
use gotrace_wire::batch::{read_batch, Batch, BatchKind};
use gotrace_wire::spec::*;
use gotrace_wire::varint::{uvarint, VarintError};
use gotrace_wire::Version;
use std::ops::Range;

/// The per-M event batches of one thread, in trace order.
#[derive(Debug)]
pub(crate) struct MBatches {
    pub m: i64,
    /// (base timestamp, data range in the generation's bytes)
    pub batches: Vec<(u64, Range<u32>)>,
    /// Offset of this thread's first event that fails to decode or names a
    /// missing stack or string (`u32::MAX` if none). Events before it need
    /// no checks while being ordered; this is worked out ahead, on the
    /// decoder thread. 0 (check everything while ordering) for the first
    /// generation, which nothing can be ordered before.
    pub checked_to: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSample {
    pub time: i64,
    pub m: i64,
    pub p: i64,
    pub g: i64,
    pub stack: u64,
    /// Offset of the sample in the generation's bytes.
    pub off: u32,
}

/// One decoded generation, ready to be ordered.
#[derive(Debug)]
pub(crate) struct Generation {
    pub gen: u64,
    pub table: EvTable,
    /// Threads in order of their first batch.
    pub ms: Vec<MBatches>,
    pub cpu_samples: Vec<CpuSample>,
    pub min_ts: u64,
    /// The IDs of `table` that need no lookup to be known to exist.
    pub known: KnownIds,
}

/// What the splitter hands to the reader.
pub(crate) enum GenItem {
    Gen(Box<Generation>),
    Err(Error),
    /// No more generations.
    End,
}

/// Cuts the input into generations, following the reference's rules for
/// where one ends: a batch of the next generation (before Go 1.26) or an
/// explicit EndOfGeneration marker (Go 1.26+).
pub(crate) struct Splitter {
    input: Input,
    version: Version,
    /// Next unread byte, in window coordinates.
    pos: usize,
    pending_err: Option<Error>,
    done: bool,
    produced: bool,
    /// Window bytes before this have been asked for ahead (mmaps only).
    read_ahead_to: usize,
}

/// How far ahead of the splitting an mmapped trace is asked for.
const READ_AHEAD: usize = 32 << 20;

impl Splitter {
    pub fn new(input: Input, version: Version, header_len: usize) -> Self {
        let mut input = input;
        let pos = match input {
            Input::Whole(_) => header_len,
            Input::Stream { .. } => {
                input.skip(header_len);
                0
            }
        };
        Splitter {
            input,
            version,
            pos,
            pending_err: None,
            done: false,
            produced: false,
            read_ahead_to: 0,
        }
    }

    /// Asks the OS to read the next stretch of an mmapped trace in, so a
    /// trace not in the page cache streams in ahead of the splitting. Not
    /// before the first generation, which ordering waits for (its page faults
    /// read it in), and a stretch at a time: asking for a whole large file
    /// takes milliseconds even when it is all cached.
    fn read_ahead(&mut self) {
        if let Input::Whole(w) = &self.input {
            if self.pos + READ_AHEAD / 2 > self.read_ahead_to && self.read_ahead_to < w.len() {
                let to = (self.pos + READ_AHEAD).min(w.len());
                w.will_need(self.read_ahead_to.max(self.pos)..to);
                self.read_ahead_to = to;
            }
        }
    }

    fn file_offset(&self, window_pos: usize) -> u64 {
        self.input.base() + window_pos as u64
    }

    fn fail(&mut self, e: Error) -> Option<GenItem> {
        self.done = true;
        Some(GenItem::Err(e))
    }
}

impl Iterator for Splitter {
    type Item = GenItem;

    fn next(&mut self) -> Option<GenItem> {
        if let Some(e) = self.pending_err.take() {
            return self.fail(e);
        }
        if self.done {
            return None;
        }
        if self.produced {
            self.read_ahead();
        }
        let v126 = self.version >= Version::Go126;
        let start = self.pos;
        let mut cur_gen = 0u64;
        let mut batches: Vec<Batch> = Vec::new();
        let mut saw_event_batch = false;
        let mut read_err = None;
        loop {
            let res = read_batch(self.input.window(), self.pos);
            match res {
                Ok(None) | Err(_)
                    if !self.input.at_eof()
                        && res.as_ref().map_or_else(|e| e.is_truncation(), |_| true) =>
                {
                    if let Err(e) = self.input.fill() {
                        return self.fail(Error::new(
                            ErrorKind::Io(e.to_string()),
                            Some(self.file_offset(self.pos)),
                        ));
                    }
                    continue;
                }
                Ok(None) => {
                    if v126 {
                        if saw_event_batch {
                            let e = Error::new(
                                ErrorKind::Truncated(format!(
                                    "incomplete generation {cur_gen} found; trace likely truncated: {} bytes from byte offset {} on were dropped",
                                    self.pos - start,
                                    self.file_offset(start)
                                )),
                                Some(self.file_offset(self.pos)),
                            );
                            return self.fail(e);
                        }
                        self.done = true;
                        return None;
                    }
                    if batches.is_empty() {
                        if self.produced {
                            self.done = true;
                            return None;
                        }
                        let end = self.file_offset(self.pos);
                        return self.fail(Error::new(
                            ErrorKind::Truncated(format!(
                                "no frequency event found: the trace ends at byte offset {end} before its first generation"
                            )),
                            Some(end),
                        ));
                    }
                    self.done = true;
                    break;
                }
                Err(e) => {
                    let err = Error::from_batch(e, self.input.base());
                    if v126 || batches.is_empty() {
                        return self.fail(err);
                    }
                    // The reference orders what it has of this generation and
                    // reports the error after it.
                    read_err = Some(err);
                    break;
                }
                Ok(Some(b)) => {
                    if v126 {
                        if cur_gen == 0 {
                            cur_gen = b.gen;
                        }
                        if b.kind == BatchKind::EndOfGeneration {
                            self.pos = b.end();
                            break;
                        }
                    }
                    if b.gen == 0 {
                        let off = self.file_offset(b.start);
                        return self.fail(Error::new(
                            ErrorKind::Format("invalid generation number 0".into()),
                            Some(off),
                        ));
                    }
                    if !v126 {
                        if cur_gen == 0 {
                            cur_gen = b.gen;
                        }
                        if b.gen == cur_gen.wrapping_add(1) {
                            break; // First batch of the next generation: leave it.
                        }
                        if b.gen != cur_gen {
                            let off = self.file_offset(b.start);
                            return self.fail(Error::new(
                                ErrorKind::Format("generations out of order".into()),
                                Some(off),
                            ));
                        }
                    } else if b.gen != cur_gen {
                        let off = self.file_offset(b.start);
                        return self.fail(Error::new(
                            ErrorKind::Format(
                                "broken trace: missing end-of-generation event, or generations are interleaved".into(),
                            ),
                            Some(off),
                        ));
                    }
                    if b.kind == BatchKind::Events
                        && !is_special(&b, self.input.window(), self.version)
                    {
                        saw_event_batch = true;
                    }
                    self.pos = b.end();
                    batches.push(b);
                }
            }
        }
        let end = self.pos;
        if end - start > u32::MAX as usize {
            return self.fail(Error::new(
                ErrorKind::Format(format!("generation {cur_gen} is larger than 4 GiB")),
                Some(self.file_offset(start)),
            ));
        }
        let before = self.input.base();
        let bytes = self.input.take(start..end);
        let consumed = (self.input.base() - before) as usize;
        self.pos -= consumed;
        // Batch ranges were in window coordinates; rebase them onto `bytes`.
        let shift = start;
        // Ordering cannot start before the first generation is here, so that
        // one comes without its events checked ahead: checking each as it is
        // ordered costs a fraction of decoding all of them first.
        let check_ahead = self.produced;
        let g = match parse_generation(cur_gen, bytes, &batches, shift, self.version, check_ahead) {
            Ok(g) => g,
            Err(e) => return self.fail(e),
        };
        self.produced = true;
        if let Some(e) = read_err {
            self.pending_err = Some(e);
        }
        Some(GenItem::Gen(Box::new(g)))
    }
}

fn is_special(b: &Batch, buf: &[u8], v: Version) -> bool {
    match b.first_event(buf) {
        Some(EV_STRINGS | EV_STACKS | EV_CPU_SAMPLES) => true,
        Some(EV_FREQUENCY) if v < Version::Go125 => true,
        Some(EV_SYNC) if v >= Version::Go125 => true,
        _ => false,
    }
}

/// A cursor over a structural batch's bytes that reports file offsets.
struct Cur<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    base: u64,
}

impl Cur<'_> {
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }
    fn more(&self) -> bool {
        self.pos < self.end
    }
    fn byte(&mut self) -> Result<u8, Error> {
        if self.pos >= self.end {
            return Err(self.err("unexpected end of batch".into()));
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }
    fn uvarint(&mut self, what: impl std::fmt::Display) -> Result<u64, Error> {
        match uvarint(&self.buf[self.pos..self.end]) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(VarintError::Truncated) => Err(self.err(format!("reading {what}: unexpected EOF"))),
            Err(VarintError::Overflow) => {
                Err(self.err(format!("reading {what}: varint overflows a 64-bit integer")))
            }
        }
    }
    fn err(&self, msg: String) -> Error {
        Error::new(ErrorKind::Format(msg), Some(self.offset()))
    }
}

fn parse_generation(
    gen: u64,
    bytes: GenBytes,
    batches: &[Batch],
    shift: usize,
    version: Version,
    check_ahead: bool,
) -> Result<Generation, Error> {
    let mut table = EvTable {
        bytes,
        ..Default::default()
    };
    let mut ms: Vec<MBatches> = Vec::new();
    let mut cpu_samples = Vec::new();
    let mut min_ts = 0u64;
    let mut freq = 0.0f64;
    let base = table.bytes.offset;
    // A handle of our own, so the table can be filled while reading from it.
    let bytes = table.bytes.clone();
    let buf: &[u8] = &bytes;
    for b in batches {
        if min_ts == 0 || b.time < min_ts {
            min_ts = b.time;
        }
        let data = (b.data.start - shift) as u32..(b.data.end - shift) as u32;
        let mut cur = Cur {
            buf,
            pos: data.start as usize,
            end: data.end as usize,
            base,
        };
        match b.kind {
            BatchKind::Experimental(exp) => {
                table.exp_batches.push((exp, b.m as i64, data));
                continue;
            }
            BatchKind::EndOfGeneration => {
                return Err(
                    cur.err("unexpected EndOfGeneration inside a generation; broken trace?".into())
                );
            }
            BatchKind::Events => {}
        }
        let first = if data.is_empty() {
            None
        } else {
            Some(buf[data.start as usize])
        };
        match first {
            Some(EV_STRINGS) => {
                cur.pos += 1;
                while cur.more() {
                    let ev = cur.byte()?;
                    if ev != EV_STRING {
                        return Err(cur.err(format!("expected string event, got {ev}")));
                    }
                    let id = cur.uvarint("string ID")?;
                    let len = cur.uvarint("string length")?;
                    if len > MAX_EVENT_TRAILER_DATA_SIZE {
                        return Err(cur.err(format!(
                            "invalid string size {len}, maximum is {MAX_EVENT_TRAILER_DATA_SIZE}"
                        )));
                    }
                    let avail = (cur.end - cur.pos) as u64;
                    if len > avail {
                        return Err(cur.err(format!(
                            "failed to read full string: read {avail} but wanted {len}"
                        )));
                    }
                    let r = cur.pos as u32..(cur.pos + len as usize) as u32;
                    cur.pos += len as usize;
                    if table.strings.insert(id, r).is_err() {
                        return Err(cur.err(format!("multiple strings with the same ID: id={id}")));
                    }
                }
            }
            Some(EV_STACKS) => {
                cur.pos += 1;
                while cur.more() {
                    let ev = cur.byte()?;
                    if ev != EV_STACK {
                        return Err(cur.err(format!("expected stack event, got {ev}")));
                    }
                    let id = cur.uvarint("stack ID")?;
                    let n = cur.uvarint("stack frame count")?;
                    if n > MAX_FRAMES_PER_STACK {
                        return Err(cur.err(format!(
                            "invalid stack size {n}, maximum is {MAX_FRAMES_PER_STACK}"
                        )));
                    }
                    let first_pc = table.stack_pcs.len();
                    for i in 0..n {
                        let pc =
                            cur.uvarint(format_args!("frame {}'s PC for stack {id}", i + 1))?;
                        let func =
                            cur.uvarint(format_args!("frame {}'s funcID for stack {id}", i + 1))?;
                        let file =
                            cur.uvarint(format_args!("frame {}'s fileID for stack {id}", i + 1))?;
                        let line =
                            cur.uvarint(format_args!("frame {}'s line for stack {id}", i + 1))?;
                        table.stack_pcs.push(pc);
                        table
                            .pcs
                            .entry(pc)
                            .or_insert(FrameInfo { func, file, line });
                    }
                    let r = first_pc as u32..table.stack_pcs.len() as u32;
                    if table.stacks.insert(id, r).is_err() {
                        return Err(cur.err(format!("multiple stacks with the same ID: id={id}")));
                    }
                }
            }
            Some(EV_CPU_SAMPLES) => {
                cur.pos += 1;
                while cur.more() {
                    let off = cur.pos as u32;
                    let ev = cur.byte()?;
                    if ev != EV_CPU_SAMPLE {
                        return Err(cur.err(format!("expected CPU sample event, got {ev}")));
                    }
                    let time = cur.uvarint("CPU sample timestamp")?;
                    let m = cur.uvarint("CPU sample M")?;
                    let p = cur.uvarint("CPU sample P")?;
                    let g = cur.uvarint("CPU sample G")?;
                    let stack = cur.uvarint("CPU sample stack")?;
                    let g = if g == 0 { -1 } else { g as i64 };
                    cpu_samples.push(CpuSample {
                        time: time as i64,
                        m: m as i64,
                        p: p as i64,
                        g,
                        stack,
                        off,
                    });
                }
            }
            Some(t)
                if (t == EV_FREQUENCY && version < Version::Go125)
                    || (t == EV_SYNC && version >= Version::Go125) =>
            {
                if version >= Version::Go125 {
                    cur.pos += 1;
                }
                let mut last_ts = b.time;
                while cur.more() {
                    let ev = cur.byte()?;
                    if ev == EV_FREQUENCY {
                        if freq != 0.0 {
                            return Err(cur.err("found multiple frequency events".into()));
                        }
                        let f = cur.uvarint("frequency")?;
                        freq = 1.0 / (f as f64 / 1e9);
                    } else if ev == EV_CLOCK_SNAPSHOT && version >= Version::Go125 {
                        if table.clock.is_some() {
                            return Err(cur.err("found multiple clock snapshot events".into()));
                        }
                        let dt = cur.uvarint("clock snapshot timestamp")?;
                        last_ts = last_ts.wrapping_add(dt);
                        let mono = cur.uvarint("clock snapshot mono")?;
                        let sec = cur.uvarint("clock snapshot sec")?;
                        let nsec = cur.uvarint("clock snapshot nsec")?;
                        // Trace time is filled in once the frequency is known.
                        table.clock = Some(ClockSnapshot {
                            trace: last_ts as i64,
                            wall_sec: sec as i64,
                            wall_nsec: nsec as i64,
                            mono,
                        });
                    } else {
                        return Err(cur.err(format!(
                            "expected frequency or clock snapshot event, got {ev}"
                        )));
                    }
                }
            }
            _ => {
                let m = b.m as i64;
                match ms.iter_mut().find(|x| x.m == m) {
                    Some(x) => x.batches.push((b.time, data)),
                    None => ms.push(MBatches {
                        m,
                        batches: vec![(b.time, data)],
                        checked_to: 0,
                    }),
                }
            }
        }
    }
    let gen_err = |msg: &str| {
        Error::new(
            ErrorKind::Format(format!("{msg} (generation {gen} at byte offset {base})")),
            Some(base),
        )
    };
    if freq == 0.0 {
        return Err(gen_err("no frequency event found"));
    }
    if version >= Version::Go125 && table.clock.is_none() {
        return Err(gen_err("no clock snapshot event found"));
    }
    table.set_freq(freq);
    if let Some(c) = table.clock.as_mut() {
        c.trace = crate::table::ticks_to_ns(freq, c.trace as u64);
    }
    // Every frame's strings must resolve.
    for (id, r) in table.stacks.iter() {
        for &pc in &table.stack_pcs[r.start as usize..r.end as usize] {
            let f = table.pcs[&pc];
            if !table.strings.contains(f.func) {
                return Err(gen_err(&format!(
                    "found invalid func string ID {} for stack {id}",
                    f.func
                )));
            }
            if !table.strings.contains(f.file) {
                return Err(gen_err(&format!(
                    "found invalid file string ID {} for stack {id}",
                    f.file
                )));
            }
        }
    }
    let known = KnownIds::of(&table);
    if check_ahead {
        for mb in &mut ms {
            mb.checked_to = crate::reader::first_unchecked(&table, known, &mb.batches);
        }
    }
    for s in &mut cpu_samples {
        s.time = crate::table::ticks_to_ns(freq, s.time as u64);
    }
    crate::gosort::sort_func(&mut cpu_samples, |a, b| a.time.cmp(&b.time));
    Ok(Generation {
        gen,
        table,
        ms,
        cpu_samples,
        min_ts,
        known,
    })
}
