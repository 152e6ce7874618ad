//! `gotrace goroutines`, `gotrace tasks`, `gotrace regions`: the
//! reference's goroutine analysis (/goroutines, /goroutine?name=) and user
//! task and region pages (/usertasks, /usertask, /userregions,
//! /userregion) as tables or JSON; and the hidden `gotrace summary`, which
//! builds every summary in one pass (for benchmarks).
//!
//! Text output shows times relative to the trace's first event; JSON gives
//! absolute trace times (`*_ns`) together with `trace_start_ns`, like
//! `gotrace gc --json`.

use crate::gc_cmd::parse_duration;
use crate::tabwriter::Table;
use anyhow::{bail, Context, Result};
use gotrace_analysis::goformat::duration_string as duration;
use gotrace_analysis::stats::Percentiles;
use gotrace_analysis::summary::{
    RegionFilter, StatColumns, StatRow, Summary, TaskFilter, TimeHistogram,
};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads the whole trace through a [`Summarizer`] (on a second thread).
pub fn summarize(trace: &Path) -> Result<Summary> {
    std::fs::metadata(trace)
        .with_context(|| format!("failed to read trace file: {}", trace.display()))?;
    let mut r = gotrace::Reader::open(trace)?;
    Ok(gotrace_analysis::summary::summarize(&mut r)?)
}

fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::new(std::io::stdout().lock())
}

fn print_json(v: &Value) -> Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// The name the reference shows for a goroutine group.
fn group_label(name: &str) -> String {
    if name.is_empty() {
        "(Inactive, no stack trace sampled)".to_string()
    } else {
        name.to_string()
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole > 0 {
        format!("{:.2}%", part as f64 / whole as f64 * 100.0)
    } else {
        "-".to_string()
    }
}

// ---------------------------------------------------------------------------
// gotrace summary (hidden)

#[derive(clap::Args)]
pub struct SummaryArgs {
    /// The trace file.
    trace: PathBuf,
}

/// `gotrace summary TRACE`: builds every summary and prints their sizes.
pub fn summary(args: SummaryArgs) -> Result<()> {
    let s = summarize(&args.trace)?;
    let (groups, task_types, region_types) = std::thread::scope(|scope| {
        let regions = scope.spawn(|| s.region_types());
        let groups = s.goroutine_groups();
        let task_types = s.task_types();
        (groups, task_types, regions.join().unwrap())
    });
    let mut out = stdout();
    writeln!(
        out,
        "goroutines {} in {} groups, tasks {} of {} types, regions {} of {} types, strings {}, skipped events {}",
        s.goroutines.len(),
        groups.len(),
        s.tasks.len(),
        task_types.len(),
        s.regions.len(),
        region_types.len(),
        s.strings.len(),
        s.skipped_events
    )?;
    out.flush()?;
    // The process ends here: leave the memory to the OS.
    std::mem::forget(s);
    Ok(())
}

// ---------------------------------------------------------------------------
// Breakdown tables (goroutine group, regions) and their sort columns

/// What a breakdown table is sorted by, descending (IDs ascending).
#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    Total,
    /// A non-overlapping statistic: the reference's `sortby`.
    Stat(String),
    /// A special range column.
    Range(usize),
    /// Goroutine ID.
    Id,
}

/// Resolves `--sort FIELD` against a table's columns: `total`, `id`,
/// the shorthands `exec`, `sched`, `syscall`, `syscall-block`, `unknown`,
/// a column's label (case-insensitive), or a word found in exactly one
/// label (`chan`, `GC mark assist`).
fn resolve_sort(field: Option<&str>, cols: &StatColumns) -> Result<SortKey> {
    let Some(field) = field else {
        return Ok(SortKey::Total);
    };
    let f = field.trim().to_lowercase();
    let alias = match f.as_str() {
        "" | "total" | "total time" => return Ok(SortKey::Total),
        "id" | "goroutine" => return Ok(SortKey::Id),
        "exec" | "execution" => Some("Execution time"),
        "sched" | "sched-wait" | "schedwait" => Some("Sched wait time"),
        "syscall" => Some("Syscall execution time"),
        "syscall-block" | "syscallblock" => Some("Block time (syscall)"),
        "unknown" => Some("Unknown time"),
        _ => None,
    };
    let wanted = alias.map(str::to_lowercase).unwrap_or(f.clone());
    if let Some(l) = cols.stats.iter().find(|l| l.to_lowercase() == wanted) {
        return Ok(SortKey::Stat(l.clone()));
    }
    if let Some(i) = cols.ranges.iter().position(|l| l.to_lowercase() == wanted) {
        return Ok(SortKey::Range(i));
    }
    if alias.is_some() {
        // A fixed statistic absent from an empty table.
        return Ok(SortKey::Total);
    }
    let mut hits: Vec<SortKey> = Vec::new();
    for l in &cols.stats {
        if l.to_lowercase().contains(&f) {
            hits.push(SortKey::Stat(l.clone()));
        }
    }
    for (i, l) in cols.ranges.iter().enumerate() {
        if l.to_lowercase().contains(&f) {
            hits.push(SortKey::Range(i));
        }
    }
    match hits.len() {
        1 => Ok(hits.pop().expect("one")),
        n => {
            let mut all = vec!["total".to_string(), "id".to_string()];
            all.extend(cols.stats.iter().cloned());
            all.extend(cols.ranges.iter().cloned());
            bail!(
                "--sort {field:?} {} a column; columns: {}",
                if n == 0 {
                    "names no"
                } else {
                    "names more than one"
                },
                all.join(", ")
            )
        }
    }
}

/// Orders rows as `key` says: descending by value, ties by ID (stable for
/// the library's order when sorting by its own key).
fn sort_rows<T>(rows: &mut [T], key: &SortKey, row: impl Fn(&T) -> (&StatRow, i64)) {
    match key {
        SortKey::Total | SortKey::Stat(_) => {} // the library's page order
        SortKey::Range(i) => rows.sort_by_key(|r| {
            let (sr, id) = row(r);
            (std::cmp::Reverse(sr.ranges[*i]), id)
        }),
        SortKey::Id => rows.sort_by_key(|r| row(r).1),
    }
}

fn stat_json(cols: &StatColumns, r: &StatRow) -> (Value, Value) {
    let stats: serde_json::Map<String, Value> = cols
        .stats
        .iter()
        .zip(&r.stats)
        .map(|(l, &v)| (l.clone(), json!(v)))
        .collect();
    let ranges: serde_json::Map<String, Value> = cols
        .ranges
        .iter()
        .zip(&r.ranges)
        .map(|(l, &v)| (l.clone(), json!(v)))
        .collect();
    (Value::Object(stats), Value::Object(ranges))
}

fn sort_label(key: &SortKey, cols: &StatColumns) -> String {
    match key {
        SortKey::Total => "Total".to_string(),
        SortKey::Stat(l) => l.clone(),
        SortKey::Range(i) => cols.ranges[*i].clone(),
        SortKey::Id => "ID".to_string(),
    }
}

// ---------------------------------------------------------------------------
// gotrace goroutines

#[derive(clap::Args)]
pub struct GoroutinesArgs {
    /// The trace file.
    trace: PathBuf,
    /// List this group's goroutines (a start location as listed; '' for
    /// goroutines without a stack).
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// With --group: sort by this column, descending (total [default], id,
    /// exec, sched, syscall, syscall-block, unknown, a column label such as
    /// 'Block time (chan receive)', or a word of one label).
    #[arg(long, value_name = "FIELD", requires = "group")]
    sort: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn goroutines(args: GoroutinesArgs) -> Result<()> {
    let s = summarize(&args.trace)?;
    match &args.group {
        None => goroutine_groups(&s, &args),
        Some(name) => goroutine_group(&s, name, &args),
    }
}

fn goroutine_groups(s: &Summary, args: &GoroutinesArgs) -> Result<()> {
    let groups = s.goroutine_groups();
    let total: i64 = groups.iter().map(|g| g.exec_time).sum();
    if args.json {
        return print_json(&json!({
            "trace_start_ns": s.start_time,
            "trace_end_ns": s.end_time,
            "goroutines": s.goroutines.len(),
            "total_exec_time_ns": total,
            "groups": groups.iter().map(|g| json!({
                "name": s.text(g.name),
                "count": g.count,
                "exec_time_ns": g.exec_time,
            })).collect::<Vec<_>>(),
        }));
    }
    let mut out = stdout();
    writeln!(
        out,
        "Trace:      {} ({} long)",
        args.trace.display(),
        duration(s.end_time.wrapping_sub(s.start_time))
    )?;
    writeln!(
        out,
        "Goroutines: {} in {} groups, {} of execution\n",
        s.goroutines.len(),
        groups.len(),
        duration(total)
    )?;
    let mut t = Table::new(3, 2);
    t.row(vec![
        "Count".into(),
        "Execution".into(),
        "%".into(),
        "Start location".into(),
    ]);
    for g in &groups {
        t.row(vec![
            g.count.to_string(),
            duration(g.exec_time),
            percent(g.exec_time, total),
            group_label(&s.text(g.name)),
        ]);
    }
    out.write_all(t.render().as_bytes())?;
    out.flush()?;
    Ok(())
}

fn goroutine_group(s: &Summary, name: &str, args: &GoroutinesArgs) -> Result<()> {
    // The columns first (the sort key may name one of them).
    let page = s.goroutine_group(name.as_bytes(), "");
    if page.count == 0 {
        let names: Vec<String> = s
            .goroutine_groups()
            .iter()
            .map(|g| format!("{:?}", s.text(g.name)))
            .collect();
        bail!("no goroutine group {name:?}; groups: {}", names.join(", "));
    }
    let key = resolve_sort(args.sort.as_deref(), &page.columns)?;
    let mut page = match &key {
        SortKey::Stat(l) => s.goroutine_group(name.as_bytes(), l),
        _ => page,
    };
    sort_rows(&mut page.rows, &key, |r| (&r.row, r.id));
    let cols = &page.columns;
    if args.json {
        let rows: Vec<Value> = page
            .rows
            .iter()
            .map(|r| {
                let g = s.goroutine(r.id);
                let (stats, ranges) = stat_json(cols, &r.row);
                json!({
                    "id": r.id,
                    "creation_ns": g.map(|g| g.creation_time),
                    "start_ns": g.map(|g| g.start_time).filter(|&t| t != 0),
                    "end_ns": g.map(|g| g.end_time).filter(|&t| t != 0),
                    "total_ns": r.row.total_time,
                    "stats_ns": stats,
                    "ranges_ns": ranges,
                })
            })
            .collect();
        return print_json(&json!({
            "trace_start_ns": s.start_time,
            "trace_end_ns": s.end_time,
            "name": name,
            "count": page.count,
            "exec_time_ns": page.exec_time,
            "total_exec_time_ns": page.total_exec_time,
            "exec_time_percent": page.exec_time_percent(),
            "columns": cols.stats,
            "range_columns": cols.ranges,
            "sorted_by": sort_label(&key, cols),
            "goroutines": rows,
        }));
    }
    let mut out = stdout();
    writeln!(out, "Goroutine group: {}", group_label(name))?;
    writeln!(out, "Goroutines:      {}", page.count)?;
    writeln!(
        out,
        "Execution time:  {} ({} of all goroutines' execution)",
        duration(page.exec_time),
        page.exec_time_percent()
    )?;
    writeln!(
        out,
        "Sorted by:       {}, descending\n",
        sort_label(&key, cols)
    )?;
    let mut t = Table::new(3, 2);
    let mut head = vec!["Goroutine".to_string(), "Total".to_string()];
    head.extend(cols.stats.iter().cloned());
    head.extend(cols.ranges.iter().cloned());
    t.row(head);
    for r in &page.rows {
        let mut cells = vec![r.id.to_string(), duration(r.row.total_time)];
        cells.extend(r.row.stats.iter().map(|&v| duration(v)));
        cells.extend(r.row.ranges.iter().map(|&v| duration(v)));
        t.row(cells);
    }
    out.write_all(t.render().as_bytes())?;
    out.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Durations: percentiles and the reference's histogram

fn dist_json(d: &Option<Percentiles>) -> Value {
    match d {
        None => Value::Null,
        Some(d) => {
            json!({"min_ns": d.min, "p50_ns": d.p50, "p90_ns": d.p90, "p99_ns": d.p99, "max_ns": d.max})
        }
    }
}

fn dist_cells(d: &Option<Percentiles>) -> Vec<String> {
    match d {
        None => vec!["-".into(); 5],
        Some(d) => [d.min, d.p50, d.p90, d.p99, d.max]
            .iter()
            .map(|&v| duration(v))
            .collect(),
    }
}

fn histogram_json(h: &TimeHistogram) -> Value {
    json!(h
        .rows()
        .iter()
        .map(|b| json!({"min_ns": b.min, "max_ns": b.next_min, "count": b.count}))
        .collect::<Vec<_>>())
}

/// The reference's buckets (five per power of ten), with bars.
fn write_histogram(out: &mut impl Write, h: &TimeHistogram) -> Result<()> {
    let mut t = Table::new(3, 2);
    for b in h.rows() {
        t.row(vec![
            format!("  >= {}", duration(b.min)),
            "#".repeat(b.width.div_ceil(10)),
            b.count.to_string(),
        ]);
    }
    out.write_all(t.render().as_bytes())?;
    Ok(())
}

// ---------------------------------------------------------------------------
// gotrace tasks

#[derive(clap::Args)]
pub struct TasksArgs {
    /// The trace file.
    trace: PathBuf,
    /// List the tasks of this type.
    #[arg(long = "type", value_name = "T")]
    typ: Option<String>,
    /// Only complete tasks (begin and end in the trace).
    #[arg(long, conflicts_with = "incomplete")]
    complete: bool,
    /// Only incomplete tasks.
    #[arg(long)]
    incomplete: bool,
    /// Only complete tasks at least this long (Go duration: 1ms, 250us).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    latmin: Option<i64>,
    /// Only complete tasks at most this long.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    latmax: Option<i64>,
    /// Only tasks whose type, a region type, or a log's category or message contains this.
    #[arg(long, value_name = "S")]
    logtext: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn tasks(args: TasksArgs) -> Result<()> {
    let s = summarize(&args.trace)?;
    let filter = TaskFilter {
        typ: args.typ.as_ref().map(|t| t.as_bytes().to_vec()),
        complete: if args.complete {
            Some(true)
        } else if args.incomplete {
            Some(false)
        } else {
            None
        },
        latmin: args.latmin,
        latmax: args.latmax,
        logtext: args
            .logtext
            .as_ref()
            .filter(|t| !t.is_empty())
            .map(|t| t.as_bytes().to_vec()),
    };
    if filter == TaskFilter::default() {
        task_types(&s, &args)
    } else {
        task_list(&s, &filter, &args)
    }
}

fn task_types(s: &Summary, args: &TasksArgs) -> Result<()> {
    let types = s.task_types();
    let pct = s.task_type_percentiles(&types);
    let rows: Vec<_> = types
        .iter()
        .zip(pct)
        .map(|(ty, d)| (ty, d.map_or(0, |d| d.count), d))
        .collect();
    if args.json {
        return print_json(&json!({
            "trace_start_ns": s.start_time,
            "trace_end_ns": s.end_time,
            "tasks": s.tasks.len(),
            "types": rows.iter().map(|(ty, complete, d)| json!({
                "type": s.text(ty.name),
                "count": ty.count,
                "complete": complete,
                "duration": dist_json(d),
                "histogram": histogram_json(&ty.histogram),
            })).collect::<Vec<_>>(),
        }));
    }
    let mut out = stdout();
    writeln!(
        out,
        "Tasks: {} of {} types (durations of complete tasks)\n",
        s.tasks.len(),
        types.len()
    )?;
    let mut t = Table::new(3, 2);
    t.row(
        [
            "Type", "Count", "Complete", "Min", "P50", "P90", "P99", "Max",
        ]
        .map(String::from)
        .to_vec(),
    );
    for (ty, complete, d) in &rows {
        let mut cells = vec![
            format!("{:?}", s.text(ty.name)),
            ty.count.to_string(),
            complete.to_string(),
        ];
        cells.extend(dist_cells(d));
        t.row(cells);
    }
    out.write_all(t.render().as_bytes())?;
    for (ty, _, _) in &rows {
        if ty.histogram.count == 0 {
            continue;
        }
        writeln!(out, "\n{:?}:", s.text(ty.name))?;
        write_histogram(&mut out, &ty.histogram)?;
    }
    out.flush()?;
    Ok(())
}

fn task_list(s: &Summary, filter: &TaskFilter, args: &TasksArgs) -> Result<()> {
    let page = s.tasks(filter);
    if args.json {
        let tasks: Vec<Value> = page
            .tasks
            .iter()
            .map(|row| {
                let t = s.task(row.id).expect("listed task");
                let start = s.start_time.wrapping_add(row.start);
                json!({
                    "id": t.id,
                    "type": s.text(t.name),
                    "parent": t.parent,
                    "complete": row.complete,
                    "start_ns": start,
                    "end_ns": start.wrapping_add(row.duration),
                    "begin_in_trace": t.start.is_some(),
                    "end_in_trace": t.end.is_some(),
                    "duration_ns": row.duration,
                    "goroutines": s.task_goroutines(t),
                    "children": s.task_children(t),
                    "regions": s.task_regions(t).iter().map(|&r| {
                        let r = s.region(r);
                        json!({
                            "type": s.text(r.name),
                            "goroutine": r.goroutine,
                            "start_ns": r.start.map(|p| p.time),
                            "end_ns": r.end.map(|p| p.time),
                        })
                    }).collect::<Vec<_>>(),
                    "logs": s.task_logs(t).iter().map(|l| json!({
                        "time_ns": l.time,
                        "goroutine": l.goroutine,
                        "category": s.text(l.category),
                        "message": s.text(l.message),
                    })).collect::<Vec<_>>(),
                    "events": row.events.iter().map(|e| json!({
                        "time_ns": s.start_time.wrapping_add(e.since_start),
                        "goroutine": e.goroutine,
                        "what": e.what,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return print_json(&json!({
            "trace_start_ns": s.start_time,
            "trace_end_ns": s.end_time,
            "title": page.title,
            "tasks": tasks,
        }));
    }
    let mut out = stdout();
    writeln!(
        out,
        "{}: {} tasks, shortest first",
        page.title,
        page.tasks.len()
    )?;
    for row in &page.tasks {
        let t = s.task(row.id).expect("listed task");
        let gs: Vec<String> = s.task_goroutines(t).iter().map(|g| g.to_string()).collect();
        writeln!(
            out,
            "\nTask {} {:?}{}: {} .. {}, {}{}",
            t.id,
            s.text(t.name),
            t.parent.map_or(String::new(), |p| format!(" (parent {p})")),
            duration(row.start),
            duration(row.start.wrapping_add(row.duration)),
            duration(row.duration),
            if row.complete { "" } else { " (incomplete)" }
        )?;
        writeln!(
            out,
            "  goroutines {}; {} regions, {} logs",
            gs.join(" "),
            s.task_regions(t).len(),
            s.task_logs(t).len()
        )?;
        let mut tb = Table::new(3, 2);
        for e in &row.events {
            tb.row(vec![
                format!("  {}", duration(e.since_start)),
                format!("+{}", duration(e.elapsed)),
                format!("G{}", e.goroutine),
                e.what.clone(),
            ]);
        }
        out.write_all(tb.render().as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------
// gotrace regions

#[derive(clap::Args)]
pub struct RegionsArgs {
    /// The trace file.
    trace: PathBuf,
    /// List the regions of this type.
    #[arg(long = "type", value_name = "T")]
    typ: Option<String>,
    /// Only regions starting in this function (the PC of the outermost
    /// frame of the start stack, hex as listed).
    #[arg(long, value_name = "PC", value_parser = parse_pc)]
    pc: Option<u64>,
    /// Only regions at least this long (Go duration: 1ms, 250us).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    latmin: Option<i64>,
    /// Only regions at most this long.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    latmax: Option<i64>,
    /// Sort the listed regions by this column, descending (as for
    /// `gotrace goroutines --sort`).
    #[arg(long, value_name = "FIELD")]
    sort: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

fn parse_pc(s: &str) -> Result<u64, String> {
    let h = s.trim_start_matches("0x");
    u64::from_str_radix(h, 16).map_err(|e| format!("bad PC {s:?}: {e}"))
}

pub fn regions(args: RegionsArgs) -> Result<()> {
    let s = summarize(&args.trace)?;
    let filter = RegionFilter {
        typ: args.typ.as_ref().map(|t| t.as_bytes().to_vec()),
        pc: args.pc,
        latmin: args.latmin,
        latmax: args.latmax,
    };
    if filter == RegionFilter::default() && args.sort.is_none() {
        region_types(&s, &args)
    } else {
        region_list(&s, &filter, &args)
    }
}

fn region_types(s: &Summary, args: &RegionsArgs) -> Result<()> {
    let types = s.region_types();
    let pct = s.region_type_percentiles(&types);
    let rows: Vec<_> = types.iter().zip(pct).collect();
    let location = |ty: &gotrace_analysis::summary::RegionType| {
        let f = ty.frame;
        if f.pc == 0 {
            String::new()
        } else {
            format!("{} {}:{}", s.text(f.func), s.text(f.file), f.line)
        }
    };
    if args.json {
        return print_json(&json!({
            "trace_start_ns": s.start_time,
            "trace_end_ns": s.end_time,
            "types": rows.iter().map(|(ty, d)| json!({
                "type": s.text(ty.name),
                "pc": format!("{:x}", ty.frame.pc),
                "function": s.text(ty.frame.func),
                "file": s.text(ty.frame.file),
                "line": ty.frame.line,
                "count": ty.histogram.count,
                "duration": dist_json(d),
                "histogram": histogram_json(&ty.histogram),
            })).collect::<Vec<_>>(),
        }));
    }
    let mut out = stdout();
    writeln!(
        out,
        "Regions: {} of {} types (open regions clipped to the trace)\n",
        rows.iter().map(|(t, _)| t.histogram.count).sum::<usize>(),
        types.len()
    )?;
    let mut t = Table::new(3, 2);
    t.row(
        [
            "Type", "PC", "Count", "Min", "P50", "P90", "P99", "Max", "Location",
        ]
        .map(String::from)
        .to_vec(),
    );
    for (ty, d) in &rows {
        let mut cells = vec![
            format!("{:?}", s.text(ty.name)),
            format!("{:x}", ty.frame.pc),
            ty.histogram.count.to_string(),
        ];
        cells.extend(dist_cells(d));
        cells.push(location(ty));
        t.row(cells);
    }
    out.write_all(t.render().as_bytes())?;
    for (ty, _) in &rows {
        if ty.histogram.count == 0 {
            continue;
        }
        writeln!(
            out,
            "\n{:?} at {:x} {}:",
            s.text(ty.name),
            ty.frame.pc,
            s.text(ty.frame.func)
        )?;
        write_histogram(&mut out, &ty.histogram)?;
    }
    out.flush()?;
    Ok(())
}

fn region_list(s: &Summary, filter: &RegionFilter, args: &RegionsArgs) -> Result<()> {
    let page = s.regions(filter, "");
    let key = resolve_sort(args.sort.as_deref(), &page.columns)?;
    let mut page = match &key {
        SortKey::Stat(l) => s.regions(filter, l),
        _ => page,
    };
    sort_rows(&mut page.rows, &key, |r| (&r.row, r.goroutine));
    let cols = &page.columns;
    if args.json {
        let rows: Vec<Value> = page
            .rows
            .iter()
            .map(|row| {
                let r = s.region(row.region);
                let (start, dur) = s.region_interval(r);
                let (stats, ranges) = stat_json(cols, &row.row);
                json!({
                    "type": s.text(r.name),
                    "goroutine": row.goroutine,
                    "task": row.task,
                    "start_ns": start,
                    "end_ns": start.wrapping_add(dur),
                    "begin_in_trace": r.start.is_some(),
                    "end_in_trace": r.end.is_some(),
                    "duration_ns": dur,
                    "total_ns": row.row.total_time,
                    "stats_ns": stats,
                    "ranges_ns": ranges,
                })
            })
            .collect();
        return print_json(&json!({
            "trace_start_ns": s.start_time,
            "trace_end_ns": s.end_time,
            "title": page.title,
            "columns": cols.stats,
            "range_columns": cols.ranges,
            "sorted_by": sort_label(&key, cols),
            "regions": rows,
        }));
    }
    let mut out = stdout();
    writeln!(
        out,
        "{}: {} regions, by {}, descending\n",
        page.title,
        page.rows.len(),
        sort_label(&key, cols)
    )?;
    let mut t = Table::new(3, 2);
    let mut head: Vec<String> = ["Goroutine", "Task", "Start", "Duration", "Total"]
        .map(String::from)
        .to_vec();
    head.extend(cols.stats.iter().cloned());
    head.extend(cols.ranges.iter().cloned());
    t.row(head);
    for row in &page.rows {
        let r = s.region(row.region);
        let (start, dur) = s.region_interval(r);
        let mut cells = vec![
            row.goroutine.to_string(),
            row.task.to_string(),
            duration(start.wrapping_sub(s.start_time)),
            duration(dur),
            duration(row.row.total_time),
        ];
        cells.extend(row.row.stats.iter().map(|&v| duration(v)));
        cells.extend(row.row.ranges.iter().map(|&v| duration(v)));
        t.row(cells);
    }
    out.write_all(t.render().as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> StatColumns {
        StatColumns {
            stats: vec![
                "Execution time".into(),
                "Block time (chan receive)".into(),
                "Block time (syscall)".into(),
                "Sched wait time".into(),
                "Syscall execution time".into(),
                "Unknown time".into(),
            ],
            ranges: vec!["GC mark assist".into()],
            max_total: 0,
        }
    }

    #[test]
    fn sort_fields_resolve_to_columns() {
        let c = cols();
        assert_eq!(resolve_sort(None, &c).unwrap(), SortKey::Total);
        assert_eq!(resolve_sort(Some("id"), &c).unwrap(), SortKey::Id);
        assert_eq!(
            resolve_sort(Some("exec"), &c).unwrap(),
            SortKey::Stat("Execution time".into())
        );
        assert_eq!(
            resolve_sort(Some("sched wait time"), &c).unwrap(),
            SortKey::Stat("Sched wait time".into())
        );
        assert_eq!(
            resolve_sort(Some("syscall-block"), &c).unwrap(),
            SortKey::Stat("Block time (syscall)".into())
        );
        assert_eq!(
            resolve_sort(Some("chan"), &c).unwrap(),
            SortKey::Stat("Block time (chan receive)".into())
        );
        assert_eq!(resolve_sort(Some("assist"), &c).unwrap(), SortKey::Range(0));
        // "block" is in two labels, "nope" in none.
        assert!(resolve_sort(Some("block"), &c).is_err());
        assert!(resolve_sort(Some("nope"), &c).is_err());
    }
}
