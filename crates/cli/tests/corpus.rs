//! `gotrace` against the reference on our corpus: for every trace under
//! `corpus/traces/`, `gotrace -d=parsed|wire|footprint` must print exactly
//! what `go tool trace` 1.27.3 printed (goldens in `corpus/golden/`, made by
//! `corpus/regen.sh`) and exit with the same code.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn golden(path: &Path) -> Option<Vec<u8>> {
    let gz = PathBuf::from(format!("{}.gz", path.display()));
    if let Ok(f) = std::fs::File::open(&gz) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut out)
            .expect("gunzip golden");
        return Some(out);
    }
    std::fs::read(path).ok()
}

fn exit_code(path: &Path) -> i32 {
    std::fs::read_to_string(path).map_or(0, |s| s.trim().parse().expect("exit code"))
}

/// Traces as (version dir, name, path), sorted.
fn traces() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for v in std::fs::read_dir(corpus().join("traces")).expect("corpus/traces") {
        let v = v.unwrap().path();
        let ver = v.file_name().unwrap().to_string_lossy().into_owned();
        for t in std::fs::read_dir(&v).unwrap() {
            let t = t.unwrap().path();
            if t.extension().is_some_and(|e| e == "trace") {
                let name = t.file_stem().unwrap().to_string_lossy().into_owned();
                out.push((ver.clone(), name, t));
            }
        }
    }
    out.sort();
    out
}

fn check_mode(mode: &str, skip: impl Fn(&str) -> bool) {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (ver, name, path) in traces() {
        if skip(&ver) {
            continue;
        }
        let base = corpus().join("golden").join(&ver).join(&name);
        let (out_file, exit_file) = match mode {
            "parsed" => (base.with_extension("parsed"), base.with_extension("exit")),
            m => (
                base.with_extension(m),
                base.with_extension(format!("{m}.exit")),
            ),
        };
        let Some(want) = golden(&out_file) else {
            failures.push(format!("{ver}/{name}: no golden {}", out_file.display()));
            continue;
        };
        let want_exit = exit_code(&exit_file);
        let out = Command::new(env!("CARGO_BIN_EXE_gotrace"))
            .arg(format!("-d={mode}"))
            .arg(&path)
            .output()
            .unwrap();
        compared += 1;
        if out.stdout != want {
            let line = out
                .stdout
                .split(|&b| b == b'\n')
                .zip(want.split(|&b| b == b'\n'))
                .position(|(a, b)| a != b);
            failures.push(format!(
                "{ver}/{name}: -d={mode} output differs (first at line {:?})",
                line.map(|l| l + 1)
            ));
        }
        if out.status.code() != Some(want_exit) {
            failures.push(format!(
                "{ver}/{name}: -d={mode} exit {:?}, reference {want_exit}; stderr: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        compared >= 40,
        "only {compared} corpus traces compared for -d={mode}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parsed_output_is_byte_identical_to_the_reference() {
    check_mode("parsed", |_| false);
}

#[test]
fn wire_output_is_byte_identical_to_the_reference() {
    check_mode("wire", |_| false);
}

#[test]
fn footprint_output_is_byte_identical_to_the_reference() {
    check_mode("footprint", |_| false);
}
