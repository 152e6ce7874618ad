//! Prints hashes of what the API serves for a trace, so that a change to the
//! index's storage can be checked to serve exactly the same answers.
//! `cargo run --release -p gotrace-view --example fingerprint -- TRACE`
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

fn main() {
    let path = std::env::args().nth(1).expect("usage: fingerprint TRACE");
    let ix = gotrace_view::load(path.as_ref(), &mut |_, _| {}).unwrap();
    let (t0, t1) = (ix.t0, ix.t1);
    let dur = (t1 - t0).max(1);
    let part = |name: &str, f: &mut dyn FnMut(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        f(&mut h);
        println!("{name}: {:016x}", h.finish());
    };
    part("goroutine spans", &mut |h| {
        for g in 0..ix.goroutines.len() as u32 {
            ix.g_spans(g, t0, t1 + 1, |s, e, tr| {
                // Stacks by their PCs: interned IDs depend on interning order.
                let pcs: Vec<u64> = ix
                    .stacks
                    .frames_of(tr.stack)
                    .iter()
                    .map(|&f| ix.stacks.frames[f as usize].pc)
                    .collect();
                (g, s, e, tr.state, ix.reason(tr.reason), pcs).hash(h);
                true
            });
        }
    });
    let mut rows: Vec<String> = vec![
        "counter:goroutines".into(),
        "counter:heap".into(),
        "counter:gomaxprocs".into(),
        "gc".into(),
        "stw".into(),
        "sweep".into(),
        "assist".into(),
        "logs".into(),
        "cpu".into(),
    ];
    rows.extend((0..ix.procs.len()).map(|i| format!("proc:{i}")));
    rows.extend((0..ix.thread_ids.len()).map(|i| format!("thread:{i}")));
    rows.extend((0..ix.task_lanes.min(8)).map(|i| format!("task:{i}")));
    rows.extend((0..ix.goroutines.len().min(50)).map(|i| format!("g:{i}")));
    // Windows from the whole trace down to a microsecond, at several places.
    let mut windows = Vec::new();
    for step in 0..28 {
        let w = (dur >> step).max(1000);
        for at in [1, 3, 5, 7] {
            let a = t0 + dur / 8 * at - w / 2;
            windows.push((a.max(t0), (a + w).min(t1 + 1)));
        }
    }
    let verbose = std::env::var_os("VERBOSE").is_some();
    part("tiles", &mut |h| {
        for r in &rows {
            if verbose {
                println!("row {r}: {:016x}", h.finish());
            }
            for &(a, b) in &windows {
                let mut v = gotrace_view::api::tile(&ix, r, a, b, 1500).unwrap();
                // String IDs are internal; rows that carry them also carry names.
                if v.get("name").is_some() {
                    v.as_object_mut().unwrap().remove("k");
                }
                if let Some(r) = v.get_mut("regions") {
                    r.as_object_mut().unwrap().remove("k");
                }
                serde_json::to_string(&v).unwrap().hash(h);
            }
        }
    });
    part("goroutines", &mut |h| {
        for g in &ix.goroutines {
            let name = ix.strings.get(g.name);
            let label = ix.strings.get(g.label);
            (g.id, name, label, g.first, g.last, g.creator).hash(h);
            ix.stacks.frames_of(g.create_stack).len().hash(h);
        }
    });
    part("span details", &mut |h| {
        for r in rows
            .iter()
            .filter(|r| !r.starts_with("counter") && *r != "logs" && *r != "cpu")
        {
            for i in 0..400 {
                let t = t0 + dur / 400 * i + 17;
                let v = gotrace_view::api::span(&ix, r, t);
                format!("{v:?}").hash(h);
            }
        }
    });
    part("range stats", &mut |h| {
        for &(a, b) in windows.iter().step_by(3) {
            let v = gotrace_view::api::range_stats(&ix, a, b, None);
            serde_json::to_string(&v).unwrap().hash(h);
        }
    });
    part("arrows", &mut |h| {
        for &(a, b) in &windows {
            let v = gotrace_view::api::arrows(&ix, a, b, 2000);
            serde_json::to_string(&v).unwrap().hash(h);
        }
    });
}
