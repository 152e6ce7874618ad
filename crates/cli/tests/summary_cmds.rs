//! `gotrace goroutines`, `tasks`, `regions` and `mmu`: the built binary's
//! JSON agrees with the library and with the reference's pages captured in
//! `corpus/golden/go1.27/annotations.analysis/`; `--sort` orders rows; the
//! filters select what the reference's pages select.

use flate2::read::GzDecoder;
use gotrace_analysis::goformat::duration_string as duration;
use gotrace_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags};
use gotrace_analysis::summary::{Summarizer, Summary};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn trace() -> PathBuf {
    repo().join("corpus/traces/go1.27/annotations.trace")
}

fn golden(prefix: &str) -> String {
    let dir = repo().join("corpus/golden/go1.27/annotations.analysis");
    let name = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with(prefix))
        .unwrap_or_else(|| panic!("no golden {prefix}* in {}", dir.display()));
    let mut s = String::new();
    GzDecoder::new(std::fs::File::open(dir.join(name)).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn gotrace(args: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_gotrace"))
        .args(args)
        .output()
        .expect("run gotrace");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let (out, err, ok) = gotrace(&a);
    assert!(ok, "gotrace {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("gotrace {args:?}: {e}\n{out}"))
}

fn summary() -> Summary {
    let mut r = gotrace::Reader::open(trace()).unwrap();
    let mut s = Summarizer::new();
    while let Some(ev) = r.read_event().unwrap() {
        s.event(&ev);
    }
    s.finish()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text between `open` and the next `close`, for every `open`.
fn between<'a>(hay: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = hay;
    while let Some(i) = rest.find(open) {
        rest = &rest[i + open.len()..];
        let j = rest.find(close).expect("close");
        out.push(&rest[..j]);
        rest = &rest[j..];
    }
    out
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn goroutine_groups_match_library_and_reference_page() {
    let v = json(&["goroutines", trace().to_str().unwrap()]);
    let s = summary();
    let lib = s.goroutine_groups();
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), lib.len());
    assert_eq!(int(&v["goroutines"]) as usize, s.goroutines.len());
    for (g, l) in groups.iter().zip(&lib) {
        assert_eq!(str_of(&g["name"]), s.text(l.name));
        assert_eq!(g["count"].as_u64().unwrap() as usize, l.count);
        assert_eq!(int(&g["exec_time_ns"]), l.exec_time);
    }
    // The reference's /goroutines rows, in its order: name, count, time.
    let page = golden("goroutines.html");
    let names: Vec<String> = between(&page, "<td><code><a href=\"/goroutine?name=", "</a>")
        .into_iter()
        .map(|x| unescape(&x[x.find("\">").unwrap() + 2..]))
        .collect();
    let cells: Vec<&str> = between(&page, "\t<td>", "</td>");
    assert_eq!(names.len(), groups.len(), "rows of the reference page");
    // Rows tying on the time come out of the reference in arbitrary order:
    // compare the times in order and the rows as sets.
    let mut want: Vec<(String, String, String)> = Vec::new();
    let mut got: Vec<(String, String, String)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let time = duration(int(&g["exec_time_ns"]));
        assert_eq!(cells[2 * i + 1], time, "time of row {i}");
        want.push((
            names[i].clone(),
            cells[2 * i].to_string(),
            cells[2 * i + 1].to_string(),
        ));
        got.push((str_of(&g["name"]).to_string(), g["count"].to_string(), time));
    }
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // The table says the same.
    let (text, _, ok) = gotrace(&["goroutines", trace().to_str().unwrap()]);
    assert!(ok);
    let first = text.lines().find(|l| l.contains("main.run.func1")).unwrap();
    assert!(first.starts_with("3 "), "{first}");
    assert!(
        first.contains("279.87328ms") && first.contains("79.58%"),
        "{first}"
    );
}

/// (goroutine ID, value of the column) of the reference's group page rows.
fn golden_group_rows(page: &str) -> Vec<(i64, String)> {
    let ids: Vec<i64> = between(page, "<a href=\"/trace?goid=", "\"")
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    // Each row: total, then the columns; the first column is Execution time.
    let cells: Vec<&str> = between(page, "\t\t\t<td> ", "</td>");
    let ncols = cells.len() / ids.len();
    ids.iter()
        .enumerate()
        .map(|(i, &id)| (id, cells[i * ncols].trim().to_string()))
        .collect()
}

#[test]
fn goroutine_group_sorts_like_the_reference_sortby() {
    let t = trace();
    let t = t.to_str().unwrap();
    let v = json(&[
        "goroutines",
        t,
        "--group",
        "main.run.func1",
        "--sort",
        "exec",
    ]);
    assert_eq!(str_of(&v["sorted_by"]), "Execution time");
    assert_eq!(int(&v["count"]), 3);
    assert_eq!(str_of(&v["exec_time_percent"]), "79.58%");
    let rows = v["goroutines"].as_array().unwrap();
    let got: Vec<(i64, String)> = rows
        .iter()
        .map(|r| {
            (
                int(&r["id"]),
                duration(int(&r["stats_ns"]["Execution time"])),
            )
        })
        .collect();
    let want = golden_group_rows(&golden(
        "goroutine__name=main.run.func1_sortby=Execution_time",
    ));
    assert_eq!(got, want);

    // Every column of the page is there, with the library's numbers.
    let s = summary();
    let page = s.goroutine_group(b"main.run.func1", "Execution time");
    let cols: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(cols, page.columns.stats);
    for (r, l) in rows.iter().zip(&page.rows) {
        assert_eq!(int(&r["id"]), l.id);
        assert_eq!(int(&r["total_ns"]), l.row.total_time);
        for (c, &x) in page.columns.stats.iter().zip(&l.row.stats) {
            assert_eq!(int(&r["stats_ns"][c]), x, "{c}");
        }
        let g = s.goroutine(l.id).unwrap();
        assert_eq!(int(&r["creation_ns"]), g.creation_time);
    }

    // Other sort keys: descending values, IDs ascending.
    let key_is_sorted = |sort: &str, f: &dyn Fn(&Value) -> i64, asc: bool| {
        let v = json(&["goroutines", t, "--group", "main.run.func1", "--sort", sort]);
        let keys: Vec<i64> = v["goroutines"].as_array().unwrap().iter().map(f).collect();
        assert_eq!(keys.len(), 3);
        let mut sorted = keys.clone();
        sorted.sort();
        if !asc {
            sorted.reverse();
        }
        assert_eq!(keys, sorted, "--sort {sort}");
    };
    key_is_sorted("total", &|r| int(&r["total_ns"]), false);
    key_is_sorted("id", &|r| int(&r["id"]), true);
    key_is_sorted(
        "sleep",
        &|r| int(&r["stats_ns"]["Block time (sleep)"]),
        false,
    );
    key_is_sorted(
        "sched wait time",
        &|r| int(&r["stats_ns"]["Sched wait time"]),
        false,
    );
    // A word of two labels, and of none.
    let (_, err, ok) = gotrace(&[
        "goroutines",
        t,
        "--group",
        "main.run.func1",
        "--sort",
        "block",
    ]);
    assert!(!ok && err.contains("more than one"), "{err}");
    let (_, err, ok) = gotrace(&["goroutines", t, "--group", "no.such.func"]);
    assert!(!ok && err.contains("no goroutine group"), "{err}");
}

#[test]
fn task_types_match_reference_page_and_filters_select_tasks() {
    let t = trace();
    let t = t.to_str().unwrap();
    let v = json(&["tasks", t]);
    let types = v["types"].as_array().unwrap();
    // /usertasks: (type, count) rows in order, and the histograms' bucket bounds.
    let page = golden("usertasks.html");
    let counts: Vec<(String, String)> = between(&page, "<a href=\"/usertask?type=", "</a>")
        .iter()
        .map(|x| {
            let (ty, n) = x.split_once("\">").unwrap();
            (ty.to_string(), n.to_string())
        })
        .collect();
    assert_eq!(counts.len(), types.len());
    for ((ty, n), j) in counts.iter().zip(types) {
        assert_eq!(ty, str_of(&j["type"]));
        assert_eq!(n, &j["count"].to_string());
    }
    let subtask = types.iter().find(|j| j["type"] == "subtask").unwrap();
    let mins: Vec<String> = subtask["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| duration(int(&b["min_ns"])))
        .collect();
    assert_eq!(mins, ["2.511µs", "3.981µs"]);
    assert_eq!(int(&subtask["complete"]), 3);

    // --type: the tasks of /usertask?type=subtask, shortest first.
    let s = summary();
    let v = json(&["tasks", t, "--type", "subtask"]);
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    let durs: Vec<i64> = tasks.iter().map(|x| int(&x["duration_ns"])).collect();
    assert!(durs.windows(2).all(|w| w[0] <= w[1]), "{durs:?}");
    for x in tasks {
        let lib = s.task(x["id"].as_u64().unwrap()).unwrap();
        assert_eq!(str_of(&x["type"]), "subtask");
        assert!(x["complete"].as_bool().unwrap());
        assert_eq!(int(&x["duration_ns"]), s.task_interval(lib).1);
        assert_eq!(int(&x["start_ns"]), lib.start.unwrap().time);
        let gs: Vec<i64> = x["goroutines"]
            .as_array()
            .unwrap()
            .iter()
            .map(int)
            .collect();
        assert_eq!(gs, s.task_goroutines(lib));
        assert_eq!(x["logs"].as_array().unwrap().len(), s.task_logs(lib).len());
        assert_eq!(
            x["regions"].as_array().unwrap().len(),
            s.task_regions(lib).len()
        );
    }
    // The durations are the reference's (its histogram buckets hold them).
    assert_eq!(
        durs.iter().map(|&d| duration(d)).collect::<Vec<_>>(),
        ["3.712µs", "5.696µs", "5.888µs"]
    );
    // Latency bounds keep complete tasks within them; incomplete ones are
    // only selected by --incomplete.
    let v = json(&["tasks", t, "--latmin", "5us", "--latmax", "5.8us"]);
    let ids: Vec<u64> = v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(int(&v["tasks"][0]["duration_ns"]), 5_696);
    let v = json(&["tasks", t, "--incomplete"]);
    assert!(v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| !x["complete"].as_bool().unwrap()));
    assert_eq!(v["tasks"].as_array().unwrap().len(), 2);
    // --logtext finds the tasks that logged it.
    let v = json(&["tasks", t, "--logtext", "empty category"]);
    assert_eq!(v["tasks"].as_array().unwrap().len(), 3);
}

#[test]
fn regions_match_library_and_sort() {
    let t = trace();
    let t = t.to_str().unwrap();
    let s = summary();
    let v = json(&["regions", t]);
    let types = v["types"].as_array().unwrap();
    let lib = s.region_types();
    assert_eq!(types.len(), lib.len());
    for (j, l) in types.iter().zip(&lib) {
        assert_eq!(str_of(&j["type"]), s.text(l.name));
        assert_eq!(j["count"].as_u64().unwrap() as usize, l.histogram.count);
        assert_eq!(str_of(&j["pc"]), format!("{:x}", l.frame.pc));
    }
    // The reference's /userregions lists the same types in the same order.
    let page = golden("userregions.html");
    let names: Vec<&str> = between(&page, "<td><a href=\"/userregion?type=", "&pc=");
    let ours: Vec<&str> = types.iter().map(|j| str_of(&j["type"])).collect();
    assert_eq!(names, ours);

    let v = json(&["regions", t, "--type", "compute", "--sort", "exec"]);
    let rows = v["regions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let exec: Vec<i64> = rows
        .iter()
        .map(|r| int(&r["stats_ns"]["Execution time"]))
        .collect();
    assert!(exec.windows(2).all(|w| w[0] >= w[1]), "{exec:?}");
    let page = s.regions(
        &gotrace_analysis::summary::RegionFilter {
            typ: Some(b"compute".to_vec()),
            ..Default::default()
        },
        "Execution time",
    );
    for (r, l) in rows.iter().zip(&page.rows) {
        assert_eq!(int(&r["goroutine"]), l.goroutine);
        assert_eq!(int(&r["total_ns"]), l.row.total_time);
        let reg = s.region(l.region);
        assert_eq!(int(&r["duration_ns"]), s.region_interval(reg).1);
    }
    let v = json(&["regions", t, "--type", "compute", "--latmin", "151ms"]);
    for r in v["regions"].as_array().unwrap() {
        assert!(int(&r["duration_ns"]) >= 151_000_000);
    }
    assert_eq!(v["regions"].as_array().unwrap().len(), 1);
}

#[test]
fn mmu_curve_matches_library() {
    let t = trace();
    let v = json(&["mmu", t.to_str().unwrap(), "--worst", "1ms,10ms"]);
    let mut r = gotrace::Reader::open(&t).unwrap();
    let mut mu = MutatorUtil::new(
        UtilFlags::STW | UtilFlags::BACKGROUND | UtilFlags::ASSIST | UtilFlags::SWEEP,
    );
    while let Some(ev) = r.read_event().unwrap() {
        mu.event(&ev);
    }
    let curve = MmuCurve::new(&mu.finish());
    let points = v["curve"].as_array().unwrap();
    assert_eq!(int(&points[0]["window_ns"]), 1_000);
    let span = int(&v["trace_end_ns"]) - int(&v["trace_start_ns"]);
    assert_eq!(int(&points[points.len() - 1]["window_ns"]), span);
    let mut last = 0.0;
    for p in points {
        let w = int(&p["window_ns"]);
        let u = p["mmu"].as_f64().unwrap();
        assert_eq!(u, curve.mmu(w), "window {w}");
        assert!(u >= last, "the MMU never drops as windows grow");
        last = u;
    }
    // The worst windows: the first one's utilization is the MMU.
    let worst = v["worst"].as_array().unwrap();
    assert_eq!(worst.len(), 2);
    for w in worst {
        let win = int(&w["window_ns"]);
        let ws = w["windows"].as_array().unwrap();
        assert!(!ws.is_empty());
        assert_eq!(ws[0]["utilization"].as_f64().unwrap(), curve.mmu(win));
        let lib = curve.examples(win, 5);
        assert_eq!(ws.len(), lib.len());
        for (a, b) in ws.iter().zip(&lib) {
            assert_eq!(int(&a["start_ns"]), b.time);
        }
    }
    // Per-P series give a different curve; unknown flags are refused.
    let pp = json(&["mmu", t.to_str().unwrap(), "--flags", "perproc,stw"]);
    assert_ne!(pp["curve"], v["curve"]);
    let (_, err, ok) = gotrace(&["mmu", t.to_str().unwrap(), "--flags", "gc"]);
    assert!(!ok && err.contains("unknown MMU flag"), "{err}");
}
