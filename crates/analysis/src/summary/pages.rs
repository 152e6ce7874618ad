//! What the reference's /goroutines, /goroutine, /usertasks, /usertask,
//! /userregions and /userregion pages compute from the summary: groups,
//! rows, columns, sort orders, filters and titles, with helpers for the
//! values the pages format (bar widths, percentages, seconds).
//!
//! # Row order
//!
//! The reference sorts with an unstable sort on a slice built by iterating
//! a Go map, so rows that tie on the sort key come out in arbitrary order
//! (and differ between runs). Here ties are broken deterministically:
//! goroutine groups by name, goroutines by ID, regions by goroutine ID then
//! start time (regions without a start first) then creation order, tasks
//! by ID. Where the reference's order is deterministic (task types by name,
//! region types by type then PC), it is the same; region types with equal
//! type and PC but different frames (not seen in practice) are ordered by
//! function, file and line.

use super::{
    ExecStats, Frame, PointKind, RegionId, RegionPoint, StrId, Summary, TaskSummary, TimeHistogram,
};
use crate::goformat::{duration_string, float_v, parse_duration, quote, seconds, Query};
use crate::stats::Percentiles;
use gotrace::{GoId, TaskId, Time};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// A group of goroutines with the same entry function (a /goroutines row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoroutineGroup {
    /// Entry function; `""` shows as "(Inactive, no stack trace sampled)".
    pub name: StrId,
    /// Number of goroutines.
    pub count: usize,
    /// Sum of their execution times.
    pub exec_time: i64,
}

/// The label of the "Execution time" column, always first.
pub const EXECUTION_TIME: &str = "Execution time";

/// The non-overlapping statistics of a goroutine or region as the pages
/// label them (`NonOverlappingStats`): `Execution time`, `Sched wait time`,
/// `Syscall execution time`, `Block time (syscall)`, `Unknown time` and
/// `Block time (REASON)` per block reason (a reason named `syscall` adds to
/// `Block time (syscall)`). Sorted by label.
pub fn non_overlapping_stats(s: &Summary, st: &ExecStats) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    m.insert(EXECUTION_TIME.to_string(), st.exec_time);
    m.insert("Sched wait time".to_string(), st.sched_wait_time);
    m.insert("Syscall execution time".to_string(), st.syscall_time);
    m.insert("Block time (syscall)".to_string(), st.syscall_block_time);
    m.insert("Unknown time".to_string(), st.unknown_time());
    for &(reason, d) in &st.block_time {
        let e = m
            .entry(format!("Block time ({})", s.text(reason)))
            .or_insert(0);
        *e = e.wrapping_add(d);
    }
    m
}

/// The columns of a breakdown table (goroutine group or region page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatColumns {
    /// Non-overlapping statistics present in any row: `Execution time`
    /// first, then by byte order.
    pub stats: Vec<String>,
    /// Special ranges present in any row (even with 0), by byte order.
    pub ranges: Vec<String>,
    /// The largest total time of the rows: bars are relative to it.
    pub max_total: i64,
}

/// The numbers of one breakdown row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatRow {
    /// Total time.
    pub total_time: i64,
    /// One value per [`StatColumns::stats`] column (0 where absent).
    pub stats: Vec<i64>,
    /// One value per [`StatColumns::ranges`] column (0 where absent).
    pub ranges: Vec<i64>,
    /// Whether the row appears in the "Special ranges" table (its range
    /// times do not sum to 0).
    pub has_range_time: bool,
}

impl StatRow {
    /// The stacked bar: `(column index, width)` for every non-zero
    /// statistic, the width as the page writes it (`12.34%`, or `0` when
    /// the table's max total is 0).
    pub fn bars(&self, max_total: i64) -> Vec<(usize, String)> {
        self.stats
            .iter()
            .enumerate()
            .filter(|&(_, &v)| v != 0)
            .map(|(i, &v)| (i, bar_width(v, max_total)))
            .collect()
    }
}

/// A bar's width: `fmt.Sprintf("%.2f%%", v/max*100)`, `0` if `max` is 0.
pub fn bar_width(v: i64, max: i64) -> String {
    if max == 0 {
        return "0".to_string();
    }
    format!("{:.2}%", v as f64 / max as f64 * 100.0)
}

/// The CSS color of a statistic's column and bar (`stat2Color`).
pub fn stat_color(label: &str) -> &'static str {
    match label {
        "Sched wait time" => "#2c7bb6",
        "Syscall execution time" => "#7b3294",
        EXECUTION_TIME => "#d7191c",
        l if l.starts_with("Block time") => "#d01c8b",
        _ => "#636363",
    }
}

/// Builds the columns and rows of a breakdown table and returns the row
/// order: by the `sort_by` statistic if it is a column, else by total
/// time, descending; ties in input order.
fn stat_table(
    s: &Summary,
    items: &[&ExecStats],
    sort_by: &str,
) -> (StatColumns, Vec<StatRow>, Vec<usize>) {
    // Labels by index; the five fixed statistics first. Block reasons map
    // to labels once (a reason named "syscall" shares the fixed label).
    const FIXED: [&str; 5] = [
        EXECUTION_TIME,
        "Sched wait time",
        "Syscall execution time",
        "Block time (syscall)",
        "Unknown time",
    ];
    let mut labels: Vec<String> = FIXED.iter().map(|l| l.to_string()).collect();
    let mut label_idx: FxHashMap<String, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), i))
        .collect();
    let mut reason_label: FxHashMap<StrId, usize> = FxHashMap::default();
    let mut range_col: FxHashMap<StrId, usize> = FxHashMap::default();
    let mut max_total = 0i64;
    // Per row: values by label index.
    let mut raw: Vec<Vec<(usize, i64)>> = Vec::with_capacity(items.len());
    for st in items {
        let mut v: Vec<(usize, i64)> = vec![
            (0, st.exec_time),
            (1, st.sched_wait_time),
            (2, st.syscall_time),
            (3, st.syscall_block_time),
            (4, st.unknown_time()),
        ];
        for &(reason, d) in &st.block_time {
            let li = *reason_label.entry(reason).or_insert_with(|| {
                let label = format!("Block time ({})", s.text(reason));
                let n = labels.len();
                *label_idx.entry(label.clone()).or_insert_with(|| {
                    labels.push(label);
                    n
                })
            });
            match v.iter_mut().find(|(i, _)| *i == li) {
                Some((_, x)) => *x = x.wrapping_add(d),
                None => v.push((li, d)),
            }
        }
        for &(n, _) in &st.range_time {
            let next = range_col.len();
            range_col.entry(n).or_insert(next);
        }
        max_total = max_total.max(st.total_time);
        raw.push(v);
    }
    // Columns: present labels, "Execution time" first, then byte order.
    let mut used: Vec<usize> = if items.is_empty() {
        Vec::new()
    } else {
        (0..labels.len()).collect()
    };
    used.sort_by(|&a, &b| {
        (a != 0)
            .cmp(&(b != 0))
            .then_with(|| labels[a].cmp(&labels[b]))
    });
    let mut col_of = vec![usize::MAX; labels.len()];
    for (c, &l) in used.iter().enumerate() {
        col_of[l] = c;
    }
    let stats: Vec<String> = used.iter().map(|&l| labels[l].clone()).collect();
    let mut ranges: Vec<(String, StrId)> = range_col
        .keys()
        .map(|&n| (s.text(n).into_owned(), n))
        .collect();
    ranges.sort();
    let range_pos: FxHashMap<StrId, usize> = ranges
        .iter()
        .enumerate()
        .map(|(i, &(_, n))| (n, i))
        .collect();
    let rows: Vec<StatRow> = items
        .iter()
        .zip(raw)
        .map(|(st, v)| {
            let mut sv = vec![0i64; stats.len()];
            for (l, d) in v {
                sv[col_of[l]] = d;
            }
            let mut rv = vec![0i64; ranges.len()];
            let mut sum = 0i64;
            for &(n, d) in &st.range_time {
                rv[range_pos[&n]] = d;
                sum = sum.wrapping_add(d);
            }
            StatRow {
                total_time: st.total_time,
                stats: sv,
                ranges: rv,
                has_range_time: sum != 0,
            }
        })
        .collect();
    let key_col = stats.iter().position(|c| c == sort_by);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse(key_col.map_or(rows[i].total_time, |c| rows[i].stats[c]))
    });
    (
        StatColumns {
            stats,
            ranges: ranges.into_iter().map(|(l, _)| l).collect(),
            max_total,
        },
        rows,
        order,
    )
}

/// A goroutine's row on a group page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoroutineRow {
    /// Goroutine ID.
    pub id: GoId,
    /// Its numbers.
    pub row: StatRow,
}

/// The /goroutine?name=NAME page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoroutineGroupPage {
    /// The group's name (`""` if no goroutine matched).
    pub name: Vec<u8>,
    /// Number of goroutines.
    pub count: usize,
    /// Their execution time.
    pub exec_time: i64,
    /// Execution time of all goroutines of the trace.
    pub total_exec_time: i64,
    /// Table columns.
    pub columns: StatColumns,
    /// Rows, in page order.
    pub rows: Vec<GoroutineRow>,
}

impl GoroutineGroupPage {
    /// The group's share of all execution: `79.58%`, or `""` if the trace
    /// has no execution time.
    pub fn exec_time_percent(&self) -> String {
        if self.total_exec_time > 0 {
            format!(
                "{:.2}%",
                self.exec_time as f64 / self.total_exec_time as f64 * 100.0
            )
        } else {
            String::new()
        }
    }
}

/// A task type on /usertasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskType {
    /// Task type (`""` for task 0 and tasks never begun or ended in the trace).
    pub name: StrId,
    /// Tasks of the type, complete or not.
    pub count: usize,
    /// Durations (end − begin) of its complete tasks.
    pub histogram: TimeHistogram,
}

/// A region group on /userregions: a type and the outermost frame of the
/// regions' start stacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionType {
    /// Region type.
    pub name: StrId,
    /// Outermost frame of the start stack (zero frame if none).
    pub frame: Frame,
    /// Durations of all its regions, open ones clipped to the trace bounds
    /// (its `count` is the page's Count column).
    pub histogram: TimeHistogram,
}

/// Which tasks /usertask lists (`newTaskFilter`); all conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Exact task type.
    pub typ: Option<Vec<u8>>,
    /// Complete (`true`) or incomplete (`false`) only.
    pub complete: Option<bool>,
    /// Complete, and duration >= this.
    pub latmin: Option<i64>,
    /// Complete, and duration <= this.
    pub latmax: Option<i64>,
    /// Substring of the task's type, a region type, or a log's category or
    /// message (non-empty).
    pub logtext: Option<Vec<u8>>,
}

impl TaskFilter {
    /// From the request's parameters: `type` (first value, may be empty),
    /// `complete=1|0` (anything else ignored), `latmin`/`latmax` (Go
    /// durations; unparsable ones ignored), `logtext` (non-empty).
    pub fn from_query(q: &Query) -> TaskFilter {
        let complete = match q.value("complete").as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        };
        let logtext = q
            .first("logtext")
            .filter(|t| !t.is_empty())
            .map(<[u8]>::to_vec);
        TaskFilter {
            typ: q.first("type").map(<[u8]>::to_vec),
            complete,
            latmin: parse_duration(&q.value("latmin")).ok(),
            latmax: parse_duration(&q.value("latmax")).ok(),
            logtext,
        }
    }

    /// The page's title (`User Task: TITLE`), before HTML escaping.
    pub fn title(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.typ {
            parts.push(quote(t));
        }
        match self.complete {
            Some(true) => parts.push("complete".into()),
            Some(false) => parts.push("incomplete".into()),
            None => {}
        }
        if let Some(d) = self.latmin {
            parts.push(format!("latency >= {}", duration_string(d)));
        }
        if let Some(d) = self.latmax {
            parts.push(format!("latency <= {}", duration_string(d)));
        }
        if let Some(t) = &self.logtext {
            parts.push(format!("log contains {}", quote(t)));
        }
        parts.join(",")
    }

    /// Whether a task passes the filter.
    pub fn matches(&self, s: &Summary, t: &TaskSummary) -> bool {
        if self.typ.as_deref().is_some_and(|ty| s.str(t.name) != ty) {
            return false;
        }
        if self.complete.is_some_and(|c| t.complete() != c) {
            return false;
        }
        let dur = s.task_interval(t).1;
        if self.latmin.is_some_and(|m| !(t.complete() && dur >= m)) {
            return false;
        }
        if self.latmax.is_some_and(|m| !(t.complete() && dur <= m)) {
            return false;
        }
        if let Some(text) = &self.logtext {
            let has = |id: StrId| contains(s.str(id), text);
            let hit = has(t.name)
                || s.task_regions(t).iter().any(|&r| has(s.region(r).name))
                || s.task_logs(t)
                    .iter()
                    .any(|l| has(l.category) || has(l.message));
            if !hit {
                return false;
            }
        }
        true
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// One event line under a task on /usertask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEventRow {
    /// Time since the trace start.
    pub since_start: i64,
    /// Time since the previous line (the first: since the trace start).
    pub elapsed: i64,
    /// The goroutine shown.
    pub goroutine: GoId,
    /// Description (`task "T" (ID 1, parent 0) begin`, `region "R" end`,
    /// `log (category: C): "M"`, `Running -> NotExist`...), before HTML
    /// escaping.
    pub what: String,
}

/// A task on /usertask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// Task ID.
    pub id: TaskId,
    /// Start (its begin, or the trace start) since the trace start.
    pub start: i64,
    /// Duration to its end (or the trace end).
    pub duration: i64,
    /// Whether begin and end are both in the trace.
    pub complete: bool,
    /// Its begin, end, logs and regions' starts and ends, by time.
    pub events: Vec<TaskEventRow>,
}

/// The /usertask page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    /// Title (`User Task: ...`), before HTML escaping.
    pub title: String,
    /// Tasks, shortest first.
    pub tasks: Vec<TaskRow>,
}

/// Which regions /userregion lists (`newRegionFilter`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionFilter {
    /// Exact region type.
    pub typ: Option<Vec<u8>>,
    /// PC of the outermost start frame.
    pub pc: Option<u64>,
    /// Duration >= this (open regions clipped to the trace).
    pub latmin: Option<i64>,
    /// Duration <= this.
    pub latmax: Option<i64>,
}

impl RegionFilter {
    /// From the request's parameters: `type` (first value), `pc` (bare hex:
    /// `strconv.ParseUint(pc, 16, 64)`, so `0x...` is ignored),
    /// `latmin`/`latmax` (Go durations). Unparsable values are ignored.
    pub fn from_query(q: &Query) -> RegionFilter {
        let pc = q.value("pc");
        let pc = if !pc.is_empty() && pc.bytes().all(|c| c.is_ascii_hexdigit()) {
            u64::from_str_radix(&pc, 16).ok()
        } else {
            None
        };
        RegionFilter {
            typ: q.first("type").map(<[u8]>::to_vec),
            pc,
            latmin: parse_duration(&q.value("latmin")).ok(),
            latmax: parse_duration(&q.value("latmax")).ok(),
        }
    }

    /// The page's title (`Regions: ...`), before HTML escaping.
    pub fn title(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.typ {
            parts.push(quote(t));
        }
        if let Some(pc) = self.pc {
            parts.push(format!("@ 0x{pc:x}"));
        }
        if let Some(d) = self.latmin {
            parts.push(format!("(latency >= {})", duration_string(d)));
        }
        if let Some(d) = self.latmax {
            parts.push(format!("(latency <= {})", duration_string(d)));
        }
        parts.join(" ")
    }

    /// The query of the page's profile links (`url.Values.Encode`: keys
    /// sorted, `pc` as `0x...`), e.g. `pc=0x4cf1b4&type=sleep`.
    pub fn params(&self) -> String {
        let mut q = Query::default();
        if let Some(t) = &self.typ {
            q.add("type", t.clone());
        }
        if let Some(pc) = self.pc {
            q.add("pc", format!("0x{pc:x}"));
        }
        if let Some(d) = self.latmin {
            q.add("latmin", duration_string(d));
        }
        if let Some(d) = self.latmax {
            q.add("latmax", duration_string(d));
        }
        q.encode()
    }

    /// Whether a region passes the filter.
    pub fn matches(&self, s: &Summary, r: &super::RegionSummary) -> bool {
        if self.typ.as_deref().is_some_and(|t| s.str(r.name) != t) {
            return false;
        }
        if self.pc.is_some_and(|pc| r.frame.pc != pc) {
            return false;
        }
        let dur = s.region_interval(r).1;
        if self.latmin.is_some_and(|m| dur < m) || self.latmax.is_some_and(|m| dur > m) {
            return false;
        }
        true
    }
}

/// A region's row on /userregion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRow {
    /// The region.
    pub region: RegionId,
    /// Its goroutine.
    pub goroutine: GoId,
    /// Its task (the page shows it only if not 0).
    pub task: TaskId,
    /// Its numbers.
    pub row: StatRow,
}

/// The /userregion page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPage {
    /// Title (`Regions: ...`), before HTML escaping.
    pub title: String,
    /// Query of the profile links.
    pub params: String,
    /// Table columns.
    pub columns: StatColumns,
    /// Rows, in page order.
    pub rows: Vec<RegionRow>,
}

/// `%2.9f` of a duration in seconds (the "When" column of /usertask).
pub fn seconds_string(d: i64) -> String {
    format!("{:2.9}", seconds(d))
}

/// The "Elapsed" column of /usertask (`elapsed`): `%.9f` seconds, and
/// below one second the integer part and the fraction's leading zeros
/// blanked (`0.000001792` → ` .     1792`).
pub fn elapsed_string(d: i64) -> String {
    let s = format!("{:.9}", seconds(d));
    if d >= 1_000_000_000 {
        return s;
    }
    let mut b = s.into_bytes();
    let dot = b.iter().position(|&c| c == b'.').unwrap_or(b.len());
    for c in &mut b[..dot] {
        *c = b' ';
    }
    for c in b.iter_mut().skip(dot + 1) {
        if *c != b'0' {
            break;
        }
        *c = b' ';
    }
    String::from_utf8(b).unwrap_or_default()
}

/// A duration in milliseconds as the task links print it (`asMillisecond`,
/// `%v` of a float64): `155.715648`.
pub fn millis_string(d: i64) -> String {
    float_v(d as f64 / 1e6)
}

impl Summary {
    /// A task's span: (start, duration), with the trace's start or end for a
    /// missing begin or end (`taskInterval`).
    pub fn task_interval(&self, t: &TaskSummary) -> (Time, i64) {
        let start = t.start.map_or(self.start_time, |p| p.time);
        let end = t.end.map_or(self.end_time, |p| p.time);
        (start, end.wrapping_sub(start))
    }

    /// A region's span: (start, duration), with the trace's start or end for
    /// a missing start or end (`regionInterval`).
    pub fn region_interval(&self, r: &super::RegionSummary) -> (Time, i64) {
        let start = r.start.map_or(self.start_time, |p| p.time);
        let end = r.end.map_or(self.end_time, |p| p.time);
        (start, end.wrapping_sub(start))
    }

    /// The /goroutines table: goroutines grouped by name, by total
    /// execution time descending (ties by name).
    pub fn goroutine_groups(&self) -> Vec<GoroutineGroup> {
        // Interned strings are unique: group by ID, then order by name.
        let mut by_name: FxHashMap<StrId, GoroutineGroup> = FxHashMap::default();
        for g in &self.goroutines {
            let e = by_name.entry(g.name).or_insert(GoroutineGroup {
                name: g.name,
                count: 0,
                exec_time: 0,
            });
            e.count += 1;
            e.exec_time = e.exec_time.wrapping_add(g.stats.exec_time);
        }
        let mut v: Vec<GoroutineGroup> = by_name.into_values().collect();
        v.sort_by(|a, b| self.str(a.name).cmp(self.str(b.name)));
        v.sort_by_key(|g| std::cmp::Reverse(g.exec_time));
        v
    }

    /// The /goroutine?name=NAME[&sortby=STAT] page: the goroutines whose
    /// name is exactly `name`, sorted by `sort_by` if it is one of the
    /// table's statistics, else by total time, descending (ties by ID).
    pub fn goroutine_group(&self, name: &[u8], sort_by: &str) -> GoroutineGroupPage {
        let mut total_exec = 0i64;
        let mut exec = 0i64;
        let mut members = Vec::new();
        for g in &self.goroutines {
            total_exec = total_exec.wrapping_add(g.stats.exec_time);
            if self.str(g.name) == name {
                exec = exec.wrapping_add(g.stats.exec_time);
                members.push(g);
            }
        }
        let stats: Vec<&ExecStats> = members.iter().map(|g| &g.stats).collect();
        let (columns, rows, order) = stat_table(self, &stats, sort_by);
        let mut rows: Vec<Option<StatRow>> = rows.into_iter().map(Some).collect();
        GoroutineGroupPage {
            name: if members.is_empty() {
                Vec::new()
            } else {
                name.to_vec()
            },
            count: members.len(),
            exec_time: exec,
            total_exec_time: total_exec,
            columns,
            rows: order
                .into_iter()
                .map(|i| GoroutineRow {
                    id: members[i].id,
                    row: rows[i].take().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// The /usertasks table: tasks grouped by type, sorted by type.
    pub fn task_types(&self) -> Vec<TaskType> {
        let mut by_name: FxHashMap<StrId, TaskType> = FxHashMap::default();
        for t in &self.tasks {
            let e = by_name.entry(t.name).or_insert_with(|| TaskType {
                name: t.name,
                count: 0,
                histogram: TimeHistogram::default(),
            });
            e.count += 1;
            if let (Some(s), Some(end)) = (t.start, t.end) {
                e.histogram.add(end.time.wrapping_sub(s.time));
            }
        }
        let mut v: Vec<TaskType> = by_name.into_values().collect();
        v.sort_by(|a, b| self.str(a.name).cmp(self.str(b.name)));
        v
    }

    /// Percentiles of each type's complete task durations, in the order of
    /// `types` (from [`Summary::task_types`]); `None` for a type without
    /// complete tasks.
    pub fn task_type_percentiles(&self, types: &[TaskType]) -> Vec<Option<Percentiles>> {
        let index: FxHashMap<StrId, usize> =
            types.iter().enumerate().map(|(i, t)| (t.name, i)).collect();
        let mut durs: Vec<Vec<i64>> = vec![Vec::new(); types.len()];
        for t in &self.tasks {
            if let (Some(b), Some(e), Some(&i)) = (t.start, t.end, index.get(&t.name)) {
                durs[i].push(e.time.wrapping_sub(b.time));
            }
        }
        durs.iter_mut().map(|d| Percentiles::of(d)).collect()
    }

    /// The /usertask page for a filter: matching tasks, shortest first
    /// (ties by ID), each with its events.
    pub fn tasks(&self, filter: &TaskFilter) -> TaskPage {
        let mut rows = Vec::new();
        for t in &self.tasks {
            if !filter.matches(self, t) {
                continue;
            }
            rows.push(self.task_row(t));
        }
        rows.sort_by_key(|r| r.duration);
        TaskPage {
            title: filter.title(),
            tasks: rows,
        }
    }

    fn task_row(&self, t: &TaskSummary) -> TaskRow {
        enum Ev<'a> {
            Begin(&'a super::TaskPoint),
            End,
            Log(&'a super::LogRecord),
            Region(&'a RegionPoint, bool),
        }
        let mut raw: Vec<(Time, GoId, Ev<'_>)> = Vec::new();
        if let Some(p) = &t.start {
            raw.push((p.time, p.goroutine, Ev::Begin(p)));
        }
        if let Some(p) = &t.end {
            raw.push((p.time, p.goroutine, Ev::End));
        }
        for l in self.task_logs(t) {
            raw.push((l.time, l.goroutine, Ev::Log(l)));
        }
        for &r in self.task_regions(t) {
            let r = self.region(r);
            if let Some(p) = &r.start {
                raw.push((p.time, r.primary_goroutine(p), Ev::Region(p, true)));
            }
            if let Some(p) = &r.end {
                raw.push((p.time, r.primary_goroutine(p), Ev::Region(p, false)));
            }
        }
        raw.sort_by_key(|e| e.0);
        let mut last = self.start_time;
        let events = raw
            .into_iter()
            .map(|(time, goroutine, e)| {
                let what = match e {
                    Ev::Begin(p) => format!(
                        "task {} (ID {}, parent {}) begin",
                        quote(self.str(p.typ)),
                        t.id,
                        p.parent
                    ),
                    Ev::End => "task end".to_string(),
                    Ev::Log(l) if self.str(l.category).is_empty() => {
                        format!("log {}", quote(self.str(l.message)))
                    }
                    Ev::Log(l) => {
                        format!(
                            "log (category: {}): {}",
                            self.text(l.category),
                            quote(self.str(l.message))
                        )
                    }
                    Ev::Region(p, begin) => match p.kind {
                        PointKind::Region { typ } => {
                            format!(
                                "region {} {}",
                                quote(self.str(typ)),
                                if begin { "begin" } else { "end" }
                            )
                        }
                        PointKind::Transition { from, to, .. } => format!("{from} -> {to}"),
                    },
                };
                let row = TaskEventRow {
                    since_start: time.wrapping_sub(self.start_time),
                    elapsed: time.wrapping_sub(last),
                    goroutine,
                    what,
                };
                last = time;
                row
            })
            .collect();
        let (start, duration) = self.task_interval(t);
        TaskRow {
            id: t.id,
            start: start.wrapping_sub(self.start_time),
            duration,
            complete: t.complete(),
            events,
        }
    }

    /// The /userregions table: every region of every goroutine grouped by
    /// type and outermost start frame, sorted by type then PC.
    pub fn region_types(&self) -> Vec<RegionType> {
        // Grouped by IDs (interned strings are unique), then ordered by
        // (type, pc, func, file, line): the reference's order, then the
        // rest of the frame. A histogram depends on the order of its
        // samples (see `TimeHistogram::add`), so they are added goroutine
        // by goroutine as listed; but each region's group and bucket are
        // found first, in one pass in memory order.
        let mut v: Vec<RegionType> = Vec::new();
        let mut by_key: FxHashMap<(StrId, Frame), u32> = FxHashMap::default();
        let mut last: Option<((StrId, Frame), u32)> = None;
        let of: Vec<(u32, u32)> = self
            .regions
            .iter()
            .map(|r| {
                let key = (r.name, r.frame);
                let i = match last {
                    Some((k, i)) if k == key => i,
                    _ => {
                        let i = *by_key.entry(key).or_insert_with(|| {
                            v.push(RegionType {
                                name: r.name,
                                frame: r.frame,
                                histogram: TimeHistogram::default(),
                            });
                            (v.len() - 1) as u32
                        });
                        last = Some((key, i));
                        i
                    }
                };
                let bucket = TimeHistogram::bucket_of(self.region_interval(r).1);
                (i, bucket as u32)
            })
            .collect();
        for g in &self.goroutines {
            for &r in &g.regions {
                let (i, bucket) = of[r as usize];
                v[i as usize].histogram.add_to_bucket(bucket as usize);
            }
        }
        // Types seen only in regions no goroutine lists.
        v.retain(|t| t.histogram.count > 0);
        v.sort_by(|a, b| {
            let key = |t: &RegionType| {
                let f = t.frame;
                (
                    self.str(t.name),
                    f.pc,
                    self.str(f.func),
                    self.str(f.file),
                    f.line,
                )
            };
            key(a).cmp(&key(b))
        });
        v
    }

    /// Percentiles of each type's region durations (open regions clipped to
    /// the trace, as in the histograms), in the order of `types` (from
    /// [`Summary::region_types`]).
    pub fn region_type_percentiles(&self, types: &[RegionType]) -> Vec<Option<Percentiles>> {
        let index: FxHashMap<(StrId, Frame), usize> = types
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.name, t.frame), i))
            .collect();
        let mut durs: Vec<Vec<i64>> = vec![Vec::new(); types.len()];
        for g in &self.goroutines {
            for &r in &g.regions {
                let r = self.region(r);
                if let Some(&i) = index.get(&(r.name, r.frame)) {
                    durs[i].push(self.region_interval(r).1);
                }
            }
        }
        durs.iter_mut().map(|d| Percentiles::of(d)).collect()
    }

    /// The /userregion page for a filter: the matching regions of every
    /// goroutine, sorted by `sort_by` if it is one of the table's
    /// statistics, else by total time, descending.
    pub fn regions(&self, filter: &RegionFilter, sort_by: &str) -> RegionPage {
        let mut members: Vec<(GoId, RegionId)> = Vec::new();
        for g in &self.goroutines {
            for &r in &g.regions {
                if filter.matches(self, self.region(r)) {
                    members.push((g.id, r));
                }
            }
        }
        // Tie order: goroutine, start time (none first), creation order.
        members.sort_by_key(|&(g, r)| (g, self.region(r).start.map(|p| p.time), r));
        let stats: Vec<ExecStats> = members
            .iter()
            .map(|&(_, r)| self.region_stats(self.region(r)))
            .collect();
        let stats: Vec<&ExecStats> = stats.iter().collect();
        let (columns, rows, order) = stat_table(self, &stats, sort_by);
        let mut rows: Vec<Option<StatRow>> = rows.into_iter().map(Some).collect();
        RegionPage {
            title: filter.title(),
            params: filter.params(),
            columns,
            rows: order
                .into_iter()
                .map(|i| {
                    let (g, r) = members[i];
                    RegionRow {
                        region: r,
                        goroutine: g,
                        task: self.region(r).task,
                        row: rows[i].take().unwrap_or_default(),
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_format() {
        assert_eq!(elapsed_string(1_792), " .     1792");
        assert_eq!(elapsed_string(155_715_648), " .155715648");
        assert_eq!(elapsed_string(320), " .      320");
        assert_eq!(elapsed_string(0), " .         ");
        assert_eq!(elapsed_string(1_500_000_000), "1.500000000");
        assert_eq!(seconds_string(155_715_648), "0.155715648");
        assert_eq!(millis_string(155_715_648), "155.715648");
    }

    #[test]
    fn bars() {
        assert_eq!(bar_width(1, 3), "33.33%");
        assert_eq!(bar_width(5, 0), "0");
    }
}
