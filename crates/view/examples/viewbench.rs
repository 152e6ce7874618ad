//! Index a trace and time tile requests while zooming, as the UI would.
//! `cargo run --release -p gotrace-view --example viewbench -- TRACE`
use std::time::Instant;

extern "C" {
    fn malloc_trim(pad: usize) -> i32;
    fn mallopt(param: i32, value: i32) -> i32;
    fn malloc_stats();
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: viewbench TRACE");
    if let Ok(v) = std::env::var("MMAP_THRESHOLD") {
        unsafe { mallopt(-3, v.parse().unwrap()) };
    }
    let t = Instant::now();
    let ix = gotrace_view::load(path.as_ref(), &mut |_, _| {}).unwrap();
    let build = t.elapsed();
    // What the server finishes after the index is ready.
    let t = Instant::now();
    ix.threads();
    println!("thread rows finished in {:.3} s", t.elapsed().as_secs_f64());
    println!(
        "indexed {} events in {:.3} s: {} runs, {} goroutines, {} transitions, {} segments, {} procs, {} threads, {} edges, {} tasks, {} regions",
        ix.events,
        build.as_secs_f64(),
        ix.runs.len(),
        ix.goroutines.len(),
        ix.tr_t.len(),
        ix.seg_base.len(),
        ix.procs.len(),
        ix.thread_ids.len(),
        ix.edges.len(),
        ix.tasks.len(),
        ix.regions.len()
    );
    let st = std::fs::read_to_string("/proc/self/status").unwrap();
    for l in st
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("Rss"))
    {
        println!("{l}");
    }
    if std::env::var_os("MALLOC_STATS").is_some() {
        unsafe { malloc_stats() };
    }
    unsafe { malloc_trim(0) };
    let st = std::fs::read_to_string("/proc/self/status").unwrap();
    for l in st.lines().filter(|l| l.starts_with("RssAnon")) {
        println!("after malloc_trim: {l}");
    }
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    let procs: usize = ix.procs.iter().map(|p| p.1.bytes()).sum();
    println!(
        "MiB: transitions {:.0}, proc spans {:.0} ({procs}), edges {:.0}, gcount {:.0} ({}), heap {:.0} ({}), regions {:.0}, tasks {:.0}, logs {:.0}, stacks {:.0} ({} frames, {} stacks), goroutines {:.0}",
        mib(ix.tr_t.len() * 4 + ix.tr_shape.bytes() + ix.runs.len() * 12),
        mib(procs),
        mib(ix.edges.len() * 8),
        mib(ix.gcount.t.bytes() + ix.gcount.v.bytes()), ix.gcount.t.len(),
        mib(ix.heap.t.bytes() + ix.heap.v.bytes()), ix.heap.t.len(),
        mib(ix.regions.len() * std::mem::size_of::<gotrace_view::index::Region>()),
        mib(ix.tasks.len() * std::mem::size_of::<gotrace_view::index::Task>()),
        mib(ix.logs.len() * std::mem::size_of::<gotrace_view::index::LogRec>() + ix.log_text.len()),
        mib(ix.stacks.seq.len() * 4 + ix.stacks.frames.len() * 24),
        ix.stacks.frames.len(),
        ix.stacks.off.len(),
        mib(ix.goroutines.len() * std::mem::size_of::<gotrace_view::index::Goroutine>()),
    );
    for (p, (id, sp)) in ix.procs.iter().enumerate() {
        let row = ix.proc_row(p).unwrap();
        let spans: Vec<(i64, i64, u32)> = row.iter().collect();
        let overlaps = spans.windows(2).filter(|w| w[0].1 > w[1].0).count();
        println!(
            "proc {id}: {} spans, {overlaps} overlaps, max dur {}, disjoint {}, {} levels ({} bytes)",
            sp.len(),
            sp.max_dur,
            sp.disjoint,
            sp.levels.len(),
            sp.levels.iter().map(|l| l.s.len() * 28).sum::<usize>()
        );
    }
    let lv: usize = ix
        .threads()
        .iter()
        .map(|p| p.1.levels.iter().map(|l| l.s.len() * 28).sum::<usize>())
        .sum();
    let tb: usize = ix.threads().iter().map(|p| p.1.bytes()).sum();
    let tn: usize = ix.threads().iter().map(|p| p.1.len()).sum();
    println!(
        "threads: {tn} spans, {:.0} MiB, levels {:.0} MiB; {} shapes, {} logs, {} samples",
        mib(tb),
        mib(lv),
        ix.shapes.len(),
        ix.logs.len(),
        ix.samples.len()
    );
    // Only the build (for callgrind).
    if std::env::var_os("LOAD_ONLY").is_some() {
        return;
    }
    for (i, r) in ix.ranges.iter().enumerate() {
        println!(
            "range {i}: {} spans, {} bytes, levels {} bytes, max_dur {}",
            r.len(),
            r.bytes(),
            r.level_bytes(),
            r.max_dur
        );
    }
    for r in ["gc", "stw", "sweep", "assist"] {
        let t = Instant::now();
        let _ = gotrace_view::api::tile(&ix, r, ix.t0, ix.t1, 1500).unwrap();
        println!("{r}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    }
    let t = Instant::now();
    let meta = gotrace_view::api::meta(&ix, "x");
    let _ = serde_json::to_string(&meta).unwrap();
    println!("meta in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    // Rows a first frame shows: counters, GC, procs, the first goroutines.
    let mut rows: Vec<String> = vec![
        "counter:goroutines".into(),
        "counter:heap".into(),
        "gc".into(),
        "stw".into(),
        "sweep".into(),
        "assist".into(),
    ];
    rows.extend((0..ix.procs.len()).map(|i| format!("proc:{i}")));
    rows.extend((0..ix.task_lanes.min(8)).map(|i| format!("task:{i}")));
    rows.extend((0..ix.goroutines.len().min(20)).map(|i| format!("g:{i}")));
    let dur = ix.t1 - ix.t0;
    let mut lat = Vec::new();
    let mut bytes = 0;
    // Zoom in 2x per step around the middle, 24 steps, then pan.
    for step in 0..24 {
        let w = (dur >> step).max(1000);
        let a = ix.t0 + dur / 2 - w / 2;
        for r in &rows {
            let t = Instant::now();
            let v = gotrace_view::api::tile(&ix, r, a, a + w, 1500).unwrap();
            bytes += serde_json::to_string(&v).unwrap().len();
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    println!(
        "{} row tiles: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms, {} KB JSON",
        lat.len(),
        p(0.5),
        p(0.95),
        lat[lat.len() - 1],
        bytes / 1024
    );
    let t = Instant::now();
    let _ = gotrace_view::api::range_stats(&ix, ix.t0, ix.t1, None);
    println!(
        "range-stats over the whole trace in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let _ = gotrace_view::api::range_stats(&ix, ix.t0 + dur / 2, ix.t0 + dur / 2 + dur / 100, None);
    println!(
        "range-stats over 1% in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    if std::env::var_os("DROPTEST").is_some() {
        let mut ix = ix;
        let anon = || {
            let st = std::fs::read_to_string("/proc/self/status").unwrap();
            st.lines()
                .find(|l| l.starts_with("RssAnon"))
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<i64>()
                .unwrap()
        };
        let mut last = anon();
        let mut step = |name: &str| {
            unsafe { malloc_trim(0) };
            let a = anon();
            println!("drop {name}: -{} MiB", (last - a) / 1024);
            last = a;
        };
        ix.tr_t = Vec::new();
        step("tr_t");
        ix.tr_shape = Default::default();
        step("tr_shape");
        ix.procs = Vec::new();
        step("procs");
        ix.edges = Default::default();
        step("edges");
        ix.gcount = Default::default();
        ix.heap = Default::default();
        step("counters");
        ix.regions = Vec::new();
        ix.region_off = Vec::new();
        step("regions");
        ix.tasks = Vec::new();
        ix.task_rows = Vec::new();
        ix.task_idx = Default::default();
        step("tasks");
        ix.logs = Vec::new();
        ix.log_text = Vec::new();
        step("logs");
        ix.goroutines = Vec::new();
        ix.gidx = Default::default();
        ix.gdense = Vec::new();
        ix.groups = Vec::new();
        step("goroutines");
        ix.runs = Vec::new();
        ix.run_off = Vec::new();
        ix.seg_base = Vec::new();
        step("runs");
        ix.ranges = Vec::new();
        ix.threads = Default::default();
        step("ranges");
        ix.strings = Default::default();
        ix.stacks = Default::default();
        step("strings+stacks");
        println!("left: {} MiB", last / 1024);
    }
}
