//! `gotrace -pprof=TYPE` and `gotrace pprof TYPE` from the command line.
//! (The numbers themselves are checked against every reference profile in
//! crates/analysis/tests/pprof.rs; here, that the CLI writes them.)

use flate2::read::GzDecoder;
use gotrace_analysis::pprof::proto::PprofProfile;
use prost::Message;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gotrace"))
        .args(args)
        .output()
        .unwrap()
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn decode(gz: &[u8]) -> PprofProfile {
    let mut raw = Vec::new();
    GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    PprofProfile::decode(&raw[..]).unwrap()
}

/// Samples as (leaf-first function names, count, delay), sorted.
fn samples(p: &PprofProfile) -> Vec<(Vec<String>, i64, i64)> {
    let func = |loc_id: u64| {
        let l = p.location.iter().find(|l| l.id == loc_id).unwrap();
        let f = p
            .function
            .iter()
            .find(|f| f.id == l.line[0].function_id)
            .unwrap();
        p.string_table[f.name as usize].clone()
    };
    let mut v: Vec<_> = p
        .sample
        .iter()
        .map(|s| {
            (
                s.location_id.iter().map(|&l| func(l)).collect(),
                s.value[0],
                s.value[1],
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn go_style_pprof_flag_writes_the_references_profile_to_stdout() {
    for name in ["net", "sched", "syscalls", "annotations"] {
        let trace = corpus().join(format!("traces/go1.27/{name}.trace"));
        for kind in ["net", "sync", "syscall", "sched"] {
            let out = run(&[&format!("-pprof={kind}"), trace.to_str().unwrap()]);
            assert!(out.status.success(), "{name} {kind}: {out:?}");
            let golden = std::fs::read(
                corpus().join(format!("golden/go1.27/{name}.analysis/pprof-{kind}.pb.gz")),
            )
            .unwrap();
            assert_eq!(
                samples(&decode(&out.stdout)),
                samples(&decode(&golden)),
                "{name} {kind}"
            );
        }
    }
}

#[test]
fn an_unknown_profile_type_fails_like_the_reference() {
    let trace = corpus().join("traces/go1.27/net.trace");
    let out = run(&["-pprof=bogus", trace.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "unknown pprof type bogus\n\n"
    );
    let out = run(&["pprof", "bogus", trace.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn pprof_writes_a_file_atomically_and_its_json_agrees() {
    let trace = corpus().join("traces/go1.27/net.trace");
    let dir = std::env::temp_dir().join(format!("gotrace-pprof-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sync.pb.gz");
    let out = run(&[
        "pprof",
        "sync",
        trace.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["sync.pb.gz"], "no temporary file left behind");
    let from_file = samples(&decode(&std::fs::read(&file).unwrap()));
    std::fs::remove_dir_all(&dir).unwrap();

    let out = run(&["pprof", "sync", trace.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut from_json: Vec<_> = v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stack"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["func"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>(),
                s["count"].as_i64().unwrap(),
                s["delay_ns"].as_i64().unwrap(),
            )
        })
        .collect();
    from_json.sort();
    assert!(!from_json.is_empty(), "the net program blocks on channels");
    assert_eq!(from_json, from_file);
    let total: i64 = from_json.iter().map(|s| s.2).sum();
    assert_eq!(v["delay_ns"].as_i64(), Some(total));
}

#[test]
fn filters_narrow_the_profile() {
    let trace = corpus().join("traces/go1.27/annotations.trace");
    let t = trace.to_str().unwrap();
    let delay = |args: &[&str]| -> i64 {
        let mut a = vec!["pprof", "sched", t, "--json"];
        a.extend_from_slice(args);
        let out = run(&a);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["delay_ns"].as_i64().unwrap()
    };
    let all = delay(&[]);
    let group = delay(&["--group", "main.run.func1"]);
    let first_half = delay(&["--to", "100ms"]);
    let second_half = delay(&["--from", "100ms"]);
    assert!(all > 0);
    assert!(0 < group && group < all, "{group} of {all}");
    assert!(first_half > 0 && second_half > 0, "the trace runs ~200ms");
    assert_eq!(first_half + second_half, all);
    let out = run(&["pprof", "sched", t, "--group", "no.such.function"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed to find matching goroutines"));
    let out = run(&["pprof", "sched", t, "--from", "2s", "--to", "1s"]);
    assert_eq!(out.status.code(), Some(1));
}
