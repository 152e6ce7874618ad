//! The reference's debug outputs (`-d=parsed`, `-d=wire`, `-d=footprint`)
//! and our `stats`.

use crate::tabwriter::Table;
use anyhow::{Context, Result};
use gotrace::{EventKind, Reader};
use std::io::Write;
use std::path::Path;

fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

fn read_file(path: &Path) -> Result<memmap2::Mmap> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("failed to read trace file: {}", path.display()))?;
    // SAFETY: read-only mapping; concurrent truncation is a caller error we
    // cannot fully defend against with mmap (the same holds for every mmap reader).
    unsafe { memmap2::Mmap::map(&f) }
        .with_context(|| format!("failed to map trace file: {}", path.display()))
}

fn open(path: &Path) -> Result<Reader> {
    std::fs::metadata(path)
        .with_context(|| format!("failed to read trace file: {}", path.display()))?;
    Ok(Reader::open(path)?)
}

/// Writes one line per event until the source ends; on an error, what was
/// printed before it is flushed first, as the reference prints as it goes.
/// `next` appends the next event's text to the buffer, or returns false.
fn write_lines<E: Into<anyhow::Error>>(
    mut next: impl FnMut(&mut Vec<u8>) -> Result<bool, E>,
) -> Result<()> {
    let mut out = stdout();
    let mut buf = Vec::with_capacity(1 << 16);
    let res = loop {
        match next(&mut buf) {
            Ok(true) => {
                buf.push(b'\n');
                if buf.len() >= 1 << 15 {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
            Ok(false) => break Ok(()),
            Err(e) => break Err(e.into()),
        }
    };
    out.write_all(&buf)?;
    out.flush()?;
    res
}

/// `-d=parsed`: every ordered event in the reference's text form.
pub fn dump_parsed(path: &Path) -> Result<()> {
    let mut r = open(path)?;
    let mut w = gotrace::GoStringWriter::new();
    write_lines(|buf| {
        Ok::<_, gotrace::Error>(match r.read_event()? {
            Some(ev) => {
                w.write(&ev, buf);
                true
            }
            None => false,
        })
    })
}

/// `-d=wire`: raw wire events, framing included.
pub fn dump_wire(path: &Path) -> Result<()> {
    let map = read_file(path)?;
    let mut r = gotrace_wire::RawReader::new(&map)?.lenient_eof(true);
    write_lines(|buf| {
        Ok::<_, gotrace_wire::RawError>(match r.next()? {
            Some(ev) => {
                ev.write_text(buf);
                true
            }
            None => false,
        })
    })
}

/// `-d=footprint`: bytes and counts per wire event type, largest first.
pub fn footprint(path: &Path) -> Result<()> {
    let map = read_file(path)?;
    let mut r = gotrace_wire::RawReader::new(&map)?.lenient_eof(true);
    let version = r.version();
    #[derive(Clone, Copy)]
    struct Stat {
        typ: u8,
        count: u64,
        bytes: u64,
    }
    let mut stats: Vec<Stat> = (0..=255u8)
        .map(|typ| Stat {
            typ,
            count: 0,
            bytes: 0,
        })
        .collect();
    let mut total = 0u64;
    while let Some(ev) = r.next()? {
        let s = &mut stats[ev.typ as usize];
        s.count += 1;
        s.bytes += ev.encoded_size() as u64;
        total += 1;
    }
    // The same (unstable) sort as the reference, so ties come out alike.
    gotrace::gosort::sort_func(&mut stats, |a, b| b.bytes.cmp(&a.bytes));
    let file_len = map.len() as f64;
    let mut t = Table::new(3, 2);
    t.row(vec![
        "Event".into(),
        "Bytes".into(),
        "%".into(),
        "Count".into(),
        "%".into(),
    ]);
    t.row(vec!["-".into(); 5]);
    for s in &stats {
        let name = if (s.typ as usize) >= version.num_specs() {
            format!("<unknown ({})>", s.typ)
        } else {
            gotrace_wire::spec::specs()[s.typ as usize].name.to_string()
        };
        t.row(vec![
            name,
            s.bytes.to_string(),
            format!("{}%", go_float2(s.bytes as f64 / file_len * 100.0)),
            s.count.to_string(),
            format!("{}%", go_float2(s.count as f64 / total as f64 * 100.0)),
        ]);
    }
    let mut out = stdout();
    out.write_all(t.render().as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Go's `%.2f`, including how it prints NaN and infinities.
fn go_float2(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v:.2}")
    }
}

/// Parse and order everything; print counts per event kind.
pub fn stats(path: &Path) -> Result<()> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let start = std::time::Instant::now();
    let mut r = open(path)?;
    let mut counts = [0u64; 16];
    let mut total = 0u64;
    let (mut first, mut last) = (None, 0i64);
    let mut largest = 0u64;
    while let Some(ev) = r.read_event()? {
        let kind = ev.kind();
        counts[kind as usize] += 1;
        total += 1;
        first.get_or_insert(ev.time());
        last = ev.time();
        if kind == EventKind::Sync {
            largest = largest.max(r.generation().map_or(0, |g| g.len));
        }
    }
    let elapsed = start.elapsed();
    let kinds = [
        EventKind::Bad,
        EventKind::Sync,
        EventKind::Metric,
        EventKind::Label,
        EventKind::StackSample,
        EventKind::RangeBegin,
        EventKind::RangeActive,
        EventKind::RangeEnd,
        EventKind::TaskBegin,
        EventKind::TaskEnd,
        EventKind::RegionBegin,
        EventKind::RegionEnd,
        EventKind::Log,
        EventKind::StateTransition,
        EventKind::Experimental,
    ];
    let mut t = Table::new(3, 2);
    t.row(vec!["Kind".into(), "Count".into()]);
    for k in kinds {
        if counts[k as usize] > 0 {
            t.row(vec![k.name().into(), counts[k as usize].to_string()]);
        }
    }
    t.row(vec!["Total".into(), total.to_string()]);
    let mut out = stdout();
    writeln!(
        out,
        "Trace:       {} ({}, {} bytes)",
        path.display(),
        r.version(),
        size
    )?;
    writeln!(
        out,
        "Generations: {}",
        counts[EventKind::Sync as usize].saturating_sub(1)
    )?;
    writeln!(out, "Largest:     {largest} bytes (one generation)")?;
    writeln!(
        out,
        "Duration:    {:.3} ms",
        (last - first.unwrap_or(last)) as f64 / 1e6
    )?;
    writeln!(
        out,
        "Parsed in:   {:.3} s ({:.1} MB/s)",
        elapsed.as_secs_f64(),
        size as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9)
    )?;
    writeln!(out)?;
    out.write_all(t.render().as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Converts a text-format trace (optionally inside a `.test` archive) to wire bytes.
pub fn text_to_wire(input: &Path, output: &Path) -> Result<()> {
    let src =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let trace = if src.starts_with("-- ") {
        gotrace_wire::text::parse_test_case(&src)
            .map_err(anyhow::Error::msg)?
            .trace
    } else {
        gotrace_wire::text::parse(&src)?
    };
    crate::atomic_write(output, &trace.to_wire())
}
