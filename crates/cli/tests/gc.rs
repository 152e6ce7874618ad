//! `gotrace gc`: the pause report from the command line.

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_gotrace"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn trace() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/traces/go1.27/gc.trace")
        .display()
        .to_string()
}

#[test]
fn json_lists_every_pause_and_the_long_ones_longest_first() {
    let (out, code) = run(&["gc", &trace(), "--json", "--threshold", "50us"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let pauses = v["pauses"].as_array().unwrap();
    assert!(!pauses.is_empty(), "the gc corpus program stops the world");
    let long = v["pauses_over_threshold"].as_array().unwrap();
    let durs: Vec<i64> = long
        .iter()
        .map(|p| p["duration_ns"].as_i64().unwrap())
        .collect();
    assert!(durs.iter().all(|&d| d >= 50_000), "{durs:?}");
    assert!(
        durs.windows(2).all(|w| w[0] >= w[1]),
        "longest first: {durs:?}"
    );
    let want = pauses
        .iter()
        .filter(|p| p["duration_ns"].as_i64().unwrap() >= 50_000)
        .count();
    assert_eq!(long.len(), want);
    let max = pauses
        .iter()
        .map(|p| p["duration_ns"].as_i64().unwrap())
        .max()
        .unwrap();
    assert_eq!(v["pause_stats"]["max_ns"].as_i64(), Some(max));
}

#[test]
fn text_report_names_the_threshold_and_rejects_bad_durations() {
    let (out, code) = run(&["gc", &trace(), "--threshold", "1h"]);
    assert_eq!(code, 0);
    assert!(out.contains("No pause of 1h0m0s or more."), "{out}");
    let (_, code) = run(&["gc", &trace(), "--threshold", "soon"]);
    assert_eq!(code, 2, "clap rejects an invalid duration");
}
