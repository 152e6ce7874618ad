//! Goroutine, task and region summaries against the reference: for every
//! corpus trace and every /goroutines, /goroutine, /usertasks, /usertask,
//! /userregions and /userregion page captured from Go 1.27.3's
//! `go tool trace` (corpus/golden/<ver>/<name>.analysis/index.tsv), the
//! numbers are parsed out of the HTML and compared with ours, formatted the
//! way the page formats them (Go duration strings, `%.2f%%` bar widths and
//! percentages, `%2.9f` seconds, `%v` milliseconds, `%q` names). Histograms
//! are compared as the exact HTML the reference writes.
//!
//! Tolerance: none. Rows whose sort key ties come out of the reference in
//! arbitrary order (unstable sort over a Go map), so rows are compared as
//! multisets, and separately the sequence of sort keys is compared in
//! order.
//!
//! Run: `cargo test --release -p gotrace-analysis --test summary`.

mod common;
use common::{corpus, gunzip, par_map};
use gotrace_analysis::goformat::{duration_string, html_escape, quote, Query};
use gotrace_analysis::summary::{
    elapsed_string, millis_string, region_bucket_url, seconds_string, stat_color, task_bucket_url,
    RegionFilter, StatColumns, StatRow, Summarizer, Summary, TaskFilter,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// A captured page.
struct Golden {
    url: String,
    /// URL path (`/usertask`).
    path: String,
    query: Query,
    status: String,
    body: String,
}

/// The summary pages captured for a trace.
fn goldens(dir: &Path) -> Vec<Golden> {
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let mut out = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, url, status) = (cols[0], cols[1], cols[2]);
        let (path, raw) = url.split_once('?').unwrap_or((url, ""));
        if !matches!(
            path,
            "/goroutines"
                | "/goroutine"
                | "/usertasks"
                | "/usertask"
                | "/userregions"
                | "/userregion"
        ) {
            continue;
        }
        let (query, err) = Query::parse(raw);
        assert!(err.is_none(), "{url}: {err:?}");
        out.push(Golden {
            url: url.to_string(),
            path: path.to_string(),
            query,
            status: status.to_string(),
            body: String::from_utf8(gunzip(&dir.join(file))).expect("utf-8 page"),
        });
    }
    out
}

// ---------------------------------------------------------------------------
// A tiny HTML table extractor.

/// A cell: its raw inner HTML and its text (tags removed, entities
/// decoded).
#[derive(Debug, Clone)]
struct Cell {
    inner: String,
    text: String,
}

#[derive(Debug, Clone, Default)]
struct Row {
    /// Attributes of the `<tr>` tag (`class="first"`).
    attrs: String,
    cells: Vec<Cell>,
}

#[derive(Debug, Clone, Default)]
struct Table {
    /// Attributes of the `<table>` tag.
    attrs: String,
    rows: Vec<Row>,
}

/// Decodes the entities html/template writes (and a few more).
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e < 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "nbsp" => Some('\u{a0}'),
            _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                .ok()
                .and_then(char::from_u32),
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
}

/// Every table of a page, in order of their opening tags (nested tables
/// included, and also present in their parent cell's inner HTML).
fn tables(html: &str) -> Vec<Table> {
    let mut done: Vec<(usize, Table)> = Vec::new();
    // Open tables: (order index, table, open cell start).
    let mut stack: Vec<(usize, Table, Option<usize>)> = Vec::new();
    let mut order = 0;
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        let Some(close) = html[start..].find('>') else {
            break;
        };
        let end = start + close + 1;
        let tag = &html[start + 1..end - 1];
        let (name, attrs) = tag
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((tag, ""));
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "table" => {
                stack.push((
                    order,
                    Table {
                        attrs: attrs.to_string(),
                        rows: Vec::new(),
                    },
                    None,
                ));
                order += 1;
            }
            "/table" => {
                if let Some((o, t, _)) = stack.pop() {
                    done.push((o, t));
                }
            }
            "tr" => {
                if let Some((_, t, _)) = stack.last_mut() {
                    t.rows.push(Row {
                        attrs: attrs.to_string(),
                        cells: Vec::new(),
                    });
                }
            }
            "td" | "th" => {
                if let Some((_, _, cell)) = stack.last_mut() {
                    *cell = Some(end);
                }
            }
            "/td" | "/th" => {
                if let Some((_, t, cell)) = stack.last_mut() {
                    if let Some(s) = cell.take() {
                        let inner = &html[s..start];
                        if t.rows.is_empty() {
                            t.rows.push(Row::default());
                        }
                        t.rows.last_mut().unwrap().cells.push(Cell {
                            inner: inner.to_string(),
                            text: strip_tags(inner),
                        });
                    }
                }
            }
            _ => {}
        }
        i = end;
    }
    // Unclosed tables (the task page never closes its table).
    while let Some((o, t, _)) = stack.pop() {
        done.push((o, t));
    }
    done.sort_by_key(|(o, _)| *o);
    done.into_iter().map(|(_, t)| t).collect()
}

/// The text between `open` and the next `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let i = s.find(open)? + open.len();
    let j = s[i..].find(close)? + i;
    Some(&s[i..j])
}

/// The values of `attr="..."` in order of appearance.
fn attr_values(s: &str, attr: &str) -> Vec<String> {
    let pat = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(&pat) {
        rest = &rest[i + pat.len()..];
        let j = rest.find('"').unwrap_or(rest.len());
        out.push(decode_entities(&rest[..j]));
        rest = &rest[j..];
    }
    out
}

// ---------------------------------------------------------------------------
// Comparison helpers.

/// Compares two lists of rows as multisets; describes the difference.
fn same_multiset(what: &str, ours: &[String], theirs: &[String], errs: &mut Vec<String>) {
    let mut a = ours.to_vec();
    let mut b = theirs.to_vec();
    a.sort();
    b.sort();
    if a == b {
        return;
    }
    let mut count: BTreeMap<&String, i64> = BTreeMap::new();
    for x in &a {
        *count.entry(x).or_default() += 1;
    }
    for x in &b {
        *count.entry(x).or_default() -= 1;
    }
    let only_ours: Vec<_> = count
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(k, _)| k.as_str())
        .take(4)
        .collect();
    let only_theirs: Vec<_> = count
        .iter()
        .filter(|(_, &n)| n < 0)
        .map(|(k, _)| k.as_str())
        .take(4)
        .collect();
    errs.push(format!(
        "{what}: {} rows ours, {} theirs\n    only ours:   {:?}\n    only theirs: {:?}",
        a.len(),
        b.len(),
        only_ours,
        only_theirs
    ));
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, ours: T, theirs: T, errs: &mut Vec<String>) {
    if ours != theirs {
        errs.push(format!(
            "{what}:\n    ours:   {ours:?}\n    theirs: {theirs:?}"
        ));
    }
}

// ---------------------------------------------------------------------------
// The corpus, summarized once for all tests.

struct Case {
    label: String,
    summary: Result<Summary, String>,
    goldens: Vec<Golden>,
}

fn summarize(path: &Path) -> Result<Summary, String> {
    let mut r = gotrace::Reader::open(path).map_err(|e| e.to_string())?;
    let mut s = Summarizer::new();
    while let Some(ev) = r.read_event().map_err(|e| e.to_string())? {
        s.event(&ev);
    }
    Ok(s.finish())
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        par_map(|ver, name| {
            let trace = corpus()
                .join("traces")
                .join(ver)
                .join(format!("{name}.trace"));
            let dir = corpus()
                .join("golden")
                .join(ver)
                .join(format!("{name}.analysis"));
            Case {
                label: format!("{ver}/{name}"),
                summary: summarize(&trace),
                goldens: goldens(&dir),
            }
        })
    })
}

#[derive(Default)]
struct Tally {
    traces: usize,
    pages: usize,
    rows: usize,
    failures: Vec<String>,
}

/// Runs `check` on every captured page with the given path and reports.
fn run(path: &str, check: impl Fn(&Summary, &Golden, &mut usize, &mut Vec<String>) + Sync) {
    let mut t = Tally::default();
    for case in cases() {
        let pages: Vec<&Golden> = case.goldens.iter().filter(|g| g.path == path).collect();
        let s = match &case.summary {
            Ok(s) => s,
            Err(e) => {
                t.failures
                    .push(format!("{}: cannot read trace: {e}", case.label));
                continue;
            }
        };
        assert_eq!(
            s.skipped_events, 0,
            "{}: events the reference could not process",
            case.label
        );
        t.traces += 1;
        for g in pages {
            t.pages += 1;
            let mut errs = Vec::new();
            if g.status != "200" {
                errs.push(format!("status {}", g.status));
            } else {
                check(s, g, &mut t.rows, &mut errs);
            }
            if !errs.is_empty() {
                t.failures.push(format!(
                    "{} {}:\n  {}",
                    case.label,
                    g.url,
                    errs.join("\n  ")
                ));
            }
        }
    }
    println!(
        "{path}: {} traces, {} pages, {} rows compared, {} pages differ",
        t.traces,
        t.pages,
        t.rows,
        t.failures.len()
    );
    if !t.failures.is_empty() {
        let shown: Vec<_> = t.failures.iter().take(12).map(String::as_str).collect();
        panic!(
            "{} of {} {path} pages differ (first {}):\n{}",
            t.failures.len(),
            t.pages,
            shown.len(),
            shown.join("\n\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Breakdown tables (/goroutine and /userregion).

/// A breakdown row as text, from its cells (after the leading ID cells).
fn breakdown_row(cells: &[Cell]) -> String {
    let mut parts = vec![cells[0].text.trim().to_string()];
    let bars: Vec<String> = attr_values(&cells[1].inner, "style")
        .into_iter()
        .filter(|s| s.starts_with("width"))
        .collect();
    parts.push(bars.join(";"));
    parts.extend(cells[2..].iter().map(|c| c.text.trim().to_string()));
    parts.join(" | ")
}

/// Ours, in the same form as [`breakdown_row`].
fn our_breakdown_row(cols: &StatColumns, r: &StatRow) -> String {
    let mut parts = vec![duration_string(r.total_time)];
    let bars: Vec<String> = r
        .bars(cols.max_total)
        .into_iter()
        .map(|(i, w)| {
            format!(
                "width: {w}; background-color: {};",
                stat_color(&cols.stats[i])
            )
        })
        .collect();
    parts.push(bars.join(";"));
    parts.extend(r.stats.iter().map(|&v| duration_string(v)));
    parts.join(" | ")
}

fn header(t: &Table) -> Vec<String> {
    t.rows
        .first()
        .map(|r| r.cells.iter().map(|c| c.text.trim().to_string()).collect())
        .unwrap_or_default()
}

/// Checks the breakdown and special-ranges tables of a page. `ids` are our
/// rows' leading ID cells (goroutine, and task for regions), `n_ids` their
/// number.
fn check_breakdown(
    page: &[Table],
    n_ids: usize,
    cols: &StatColumns,
    rows: &[(Vec<String>, &StatRow)],
    sort_col: Option<usize>,
    counted: &mut usize,
    errs: &mut Vec<String>,
) {
    let details: Vec<&Table> = page
        .iter()
        .filter(|t| t.attrs.contains("class=\"details\""))
        .collect();
    if details.len() != 2 {
        errs.push(format!(
            "expected 2 details tables, found {}",
            details.len()
        ));
        return;
    }
    let (bd, rg) = (details[0], details[1]);
    // Columns.
    let h = header(bd);
    let mut want: Vec<String> = h[..n_ids + 2].to_vec();
    want.extend(cols.stats.iter().cloned());
    same("breakdown columns", want, h.clone(), errs);
    let hr = header(rg);
    let mut want: Vec<String> = hr[..(n_ids + 1).min(hr.len())].to_vec();
    want.extend(cols.ranges.iter().cloned());
    same("range columns", want, hr, errs);
    // Rows.
    let theirs: Vec<String> = bd.rows[1..]
        .iter()
        .map(|r| {
            let ids: Vec<String> = r.cells[..n_ids]
                .iter()
                .map(|c| c.text.trim().to_string())
                .collect();
            format!("{} | {}", ids.join(" | "), breakdown_row(&r.cells[n_ids..]))
        })
        .collect();
    let ours: Vec<String> = rows
        .iter()
        .map(|(ids, r)| format!("{} | {}", ids.join(" | "), our_breakdown_row(cols, r)))
        .collect();
    *counted += ours.len();
    same_multiset("breakdown rows", &ours, &theirs, errs);
    // Sort keys, in order: the total (cell after the IDs) or the sorted column.
    let key_cell = match sort_col {
        Some(c) => n_ids + 2 + c,
        None => n_ids,
    };
    let theirs_keys: Vec<String> = bd.rows[1..]
        .iter()
        .map(|r| r.cells[key_cell].text.trim().to_string())
        .collect();
    let ours_keys: Vec<String> = rows
        .iter()
        .map(|(_, r)| duration_string(sort_col.map_or(r.total_time, |c| r.stats[c])))
        .collect();
    same("sort keys in order", ours_keys, theirs_keys, errs);
    // Special ranges.
    let theirs: Vec<String> = rg.rows[1..]
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .map(|c| c.text.trim().to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    let ours: Vec<String> = rows
        .iter()
        .filter(|(_, r)| r.has_range_time)
        .map(|(ids, r)| {
            let mut p = ids.clone();
            p.push(duration_string(r.total_time));
            p.extend(r.ranges.iter().map(|&v| duration_string(v)));
            p.join(" | ")
        })
        .collect();
    *counted += ours.len();
    same_multiset("special range rows", &ours, &theirs, errs);
}

// ---------------------------------------------------------------------------
// The pages.

#[test]
fn goroutines_page() {
    run("/goroutines", |s, g, counted, errs| {
        let page = tables(&g.body);
        let Some(t) = page
            .iter()
            .find(|t| header(t).first().map(String::as_str) == Some("Start location"))
        else {
            errs.push("no table".into());
            return;
        };
        let theirs: Vec<String> = t.rows[1..]
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|c| c.text.trim().to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        let groups = s.goroutine_groups();
        let ours: Vec<String> = groups
            .iter()
            .map(|gr| {
                let name = if s.str(gr.name).is_empty() {
                    "(Inactive, no stack trace sampled)".to_string()
                } else {
                    s.text(gr.name).into_owned()
                };
                format!("{name} | {} | {}", gr.count, duration_string(gr.exec_time))
            })
            .collect();
        *counted += ours.len();
        same_multiset("groups", &ours, &theirs, errs);
        let keys = |v: &[String]| {
            v.iter()
                .map(|r| r.rsplit(" | ").next().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        same("exec time order", keys(&ours), keys(&theirs), errs);
    });
}

#[test]
fn goroutine_group_pages() {
    run("/goroutine", |s, g, counted, errs| {
        let name = g.query.first("name").unwrap_or(b"").to_vec();
        let sort_by = g.query.value("sortby");
        let p = s.goroutine_group(&name, &sort_by);
        let page = tables(&g.body);
        let Some(sum) = page.iter().find(|t| t.attrs.contains("class=\"summary\"")) else {
            errs.push("no summary table".into());
            return;
        };
        let cell = |label: &str| {
            sum.rows
                .iter()
                .find(|r| r.cells[0].text.trim() == label)
                .map(|r| r.cells[1].text.clone())
                .unwrap_or_default()
        };
        same(
            "name",
            String::from_utf8_lossy(&p.name).into_owned(),
            cell("Goroutine start location:"),
            errs,
        );
        same("count", p.count.to_string(), cell("Count:"), errs);
        same(
            "execution time share",
            format!("{} of total program execution time ", p.exec_time_percent()),
            cell("Execution Time:"),
            errs,
        );
        let rows: Vec<(Vec<String>, &StatRow)> = p
            .rows
            .iter()
            .map(|r| (vec![r.id.to_string()], &r.row))
            .collect();
        let sort_col = p.columns.stats.iter().position(|c| *c == sort_by);
        check_breakdown(&page, 1, &p.columns, &rows, sort_col, counted, errs);
    });
}

#[test]
fn usertasks_page() {
    run("/usertasks", |s, g, counted, errs| {
        let page = tables(&g.body);
        let Some(t) = page
            .iter()
            .find(|t| header(t).first().map(String::as_str) == Some("Task type"))
        else {
            errs.push("no table".into());
            return;
        };
        let theirs: Vec<String> = t.rows[1..]
            .iter()
            .map(|r| {
                format!(
                    "{} | {} | {}",
                    r.cells[0].text, r.cells[1].text, r.cells[2].inner
                )
            })
            .collect();
        let ours: Vec<String> = s
            .task_types()
            .iter()
            .map(|tt| {
                let name = s.str(tt.name);
                let hist = tt.histogram.to_html(|a, b| task_bucket_url(name, a, b));
                format!("{} | {} | {}", s.text(tt.name), tt.count, hist)
            })
            .collect();
        *counted += ours.len();
        // The order is deterministic (by type).
        same("task types", ours, theirs, errs);
    });
}

#[test]
fn usertask_pages() {
    run("/usertask", |s, g, counted, errs| {
        let filter = TaskFilter::from_query(&g.query);
        let p = s.tasks(&filter);
        same(
            "title",
            Some(p.title.clone()),
            between(&g.body, "<h2>User Task: ", "</h2>").map(decode_entities),
            errs,
        );
        let page = tables(&g.body);
        let Some(t) = page.iter().find(|t| t.attrs.contains("id=\"reqs\"")) else {
            errs.push("no table".into());
            return;
        };
        // Group their rows into tasks.
        let mut theirs: Vec<(String, Vec<String>)> = Vec::new();
        for r in &t.rows[1..] {
            let c = &r.cells;
            if r.attrs.contains("class=\"first\"") {
                let links = attr_values(&c[3].inner, "href").join(" ");
                let status = c[3]
                    .text
                    .split_whitespace()
                    .last()
                    .unwrap_or("")
                    .to_string();
                theirs.push((
                    format!("{} | {} | {} | {}", c[0].text, c[1].text, links, status),
                    Vec::new(),
                ));
            } else if let Some(last) = theirs.last_mut() {
                last.1.push(format!(
                    "{} | {} | {} | {}",
                    c[0].text, c[1].text, c[2].text, c[3].text
                ));
            } else {
                errs.push("event row before any task".into());
            }
        }
        let ours: Vec<(String, Vec<String>)> =
            p.tasks
                .iter()
                .map(|tk| {
                    let (a, b) = (
                        millis_string(tk.start),
                        millis_string(tk.start + tk.duration),
                    );
                    let head = format!(
                    "{}s | {} | /trace?focustask={id}#{a}:{b} /trace?taskid={id}#{a}:{b} | ({})",
                    seconds_string(tk.start),
                    duration_string(tk.duration),
                    if tk.complete { "complete" } else { "incomplete" },
                    id = tk.id,
                );
                    let evs = tk
                        .events
                        .iter()
                        .map(|e| {
                            format!(
                                "{} | {} | {} | {}",
                                seconds_string(e.since_start),
                                elapsed_string(e.elapsed),
                                e.goroutine,
                                e.what
                            )
                        })
                        .collect();
                    (head, evs)
                })
                .collect();
        *counted += ours.iter().map(|(_, e)| 1 + e.len()).sum::<usize>();
        let flat = |v: &[(String, Vec<String>)]| {
            v.iter()
                .map(|(h, e)| format!("{h}\n      {}", e.join("\n      ")))
                .collect::<Vec<_>>()
        };
        same_multiset("tasks", &flat(&ours), &flat(&theirs), errs);
        let durs = |v: &[(String, Vec<String>)]| {
            v.iter()
                .map(|(h, _)| h.split(" | ").nth(1).unwrap().to_string())
                .collect::<Vec<_>>()
        };
        same("durations in order", durs(&ours), durs(&theirs), errs);
    });
}

#[test]
fn userregions_page() {
    run("/userregions", |s, g, counted, errs| {
        let page = tables(&g.body);
        let Some(t) = page
            .iter()
            .find(|t| header(t).first().map(String::as_str) == Some("Region type"))
        else {
            errs.push("no table".into());
            return;
        };
        let theirs: Vec<String> = t.rows[1..]
            .iter()
            .map(|r| {
                format!(
                    "{} | {} | {}",
                    r.cells[0].inner, r.cells[1].text, r.cells[2].inner
                )
            })
            .collect();
        let ours: Vec<String> = s
            .region_types()
            .iter()
            .map(|rt| {
                let name = s.str(rt.name);
                let f = rt.frame;
                let hist = rt
                    .histogram
                    .to_html(|a, b| region_bucket_url(name, f.pc, a, b));
                format!(
                    "<pre>{}<br>{} @ 0x{:x}<br>{}:{}</pre> | {} | {}",
                    html_escape(&quote(name)),
                    html_escape(&s.text(f.func)),
                    f.pc,
                    html_escape(&s.text(f.file)),
                    f.line,
                    rt.histogram.count,
                    hist
                )
            })
            .collect();
        *counted += ours.len();
        // The order is deterministic (by type, then PC).
        same("region types", ours, theirs, errs);
    });
}

#[test]
fn userregion_pages() {
    run("/userregion", |s, g, counted, errs| {
        let filter = RegionFilter::from_query(&g.query);
        let sort_by = g.query.value("sortby");
        let p = s.regions(&filter, &sort_by);
        same(
            "title",
            Some(p.title.clone()),
            between(&g.body, "<h1>Regions: ", "</h1>").map(decode_entities),
            errs,
        );
        // Profile links: only when the filter has parameters.
        let links: Vec<String> = attr_values(&g.body, "href")
            .into_iter()
            .filter(|h| h.starts_with("/region"))
            .collect();
        let want: Vec<String> = if p.params.is_empty() {
            Vec::new()
        } else {
            ["io", "block", "syscall", "sched"]
                .iter()
                .flat_map(|k| {
                    [
                        format!("/region{k}?{}", p.params),
                        format!("/region{k}?{}&raw=1", p.params),
                    ]
                })
                .collect()
        };
        same("profile links", want, links, errs);
        let page = tables(&g.body);
        let rows: Vec<(Vec<String>, &StatRow)> = p
            .rows
            .iter()
            .map(|r| {
                (
                    vec![
                        r.goroutine.to_string(),
                        if r.task != 0 {
                            r.task.to_string()
                        } else {
                            String::new()
                        },
                    ],
                    &r.row,
                )
            })
            .collect();
        let sort_col = p.columns.stats.iter().position(|c| *c == sort_by);
        check_breakdown(&page, 2, &p.columns, &rows, sort_col, counted, errs);
    });
}
