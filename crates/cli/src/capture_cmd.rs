//! Live capture (issue #6): `gotrace capture URL`, `gotrace record URL`,
//! and `gotrace URL` (capture, then view).

use anyhow::{anyhow, Result};
use gotrace_capture::{
    format_bytes, parse_duration, parse_size, record as record_loop, trace_url, CaptureOptions,
    Condition, Phase, Progress, RecordEvent, RecordOptions, DEFAULT_MAX_BYTES,
};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// `gotrace capture`.
#[derive(clap::Args, Debug)]
pub struct CaptureArgs {
    /// The program's pprof server, e.g. http://127.0.0.1:6060 (its
    /// /debug/pprof/trace is used), or the full trace URL.
    #[arg(value_name = "URL")]
    pub url: String,
    /// How long to trace: seconds (5, 0.5) or a duration (500ms, 1m).
    /// Default: the URL's seconds=, else 5.
    #[arg(long, value_name = "N", value_parser = parse_seconds)]
    pub seconds: Option<Duration>,
    /// Where to write the trace. Default: gotrace-HOST-PORT-YYYYMMDD-HHMMSS.trace
    /// in the current directory. If the stream ends early, the complete
    /// generations received are kept in FILE.partial instead.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Open the viewer on the trace once captured.
    #[arg(long)]
    pub view: bool,
    /// Largest trace accepted (e.g. 500MB, 2GiB); a larger one is cut off there.
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg, default_value = "4GiB")]
    pub max_bytes: u64,
}

/// `gotrace record`.
#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// The program's pprof server, e.g. http://127.0.0.1:6060, or the full trace URL.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Start a capture this often (e.g. 10s, 1m30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg, default_value = "10s")]
    pub every: Duration,
    /// How long each capture lasts: seconds or a duration.
    #[arg(long, value_name = "N", value_parser = parse_seconds, default_value = "5")]
    pub seconds: Duration,
    /// Keep the newest N captures; older ones are deleted.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub keep: usize,
    /// Directory for the captures (created if missing). Captures are named
    /// gotrace-YYYYMMDDTHHMMSS.mmmZ.trace; no other file in it is touched.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Keep at most SIZE of captures in DIR (e.g. 2GiB); older ones are deleted.
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub max_bytes: Option<u64>,
    /// Keep a capture only if CONDITION holds: stw>DURATION (a
    /// stop-the-world pause longer than DURATION, e.g. stw>5ms), or
    /// sched-p99>DURATION (a scheduler-latency quantile: p50, p90, p99,
    /// p99.9, max; e.g. sched-p99>10ms).
    #[arg(long = "on", value_name = "CONDITION", value_parser = parse_condition)]
    pub on: Option<Condition>,
    /// Stop after N captures.
    #[arg(long, value_name = "N", hide = true)]
    pub iterations: Option<u64>,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    if let Ok(v) = s.trim().parse::<f64>() {
        return if v.is_finite() && v > 0.0 && v < 1e9 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(format!(
                "invalid duration {s:?}: want a positive number of seconds"
            ))
        };
    }
    match parse_duration(s)? {
        d if d.is_zero() => Err("the duration must be positive".into()),
        d => Ok(d),
    }
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

fn parse_size_arg(s: &str) -> Result<u64, String> {
    parse_size(s)
}

fn parse_condition(s: &str) -> Result<Condition, String> {
    s.parse()
}

/// Whether a bare argument is a URL to capture from rather than a trace file.
pub fn is_url(arg: &Path) -> bool {
    arg.to_str().is_some_and(|s| {
        let l = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://")
    })
}

/// Set by Ctrl-C. The first press stops the capture or recording cleanly
/// (keeping what is complete); a second one exits at once.
fn interrupted() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        flag
    })
    .clone()
}

fn progress_bar(seconds: Duration) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        Some(seconds.as_millis().max(1) as u64),
        ProgressDrawTarget::stderr(),
    );
    pb.set_style(
        ProgressStyle::with_template("{spinner} capturing [{bar:30}] {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn show(pb: &ProgressBar, p: &Progress) {
    let len = p.seconds.as_millis().max(1) as u64;
    pb.set_position((p.elapsed.as_millis() as u64).min(len));
    let clock = format!("{:.1}s/{}", p.elapsed.as_secs_f64(), secs(p.seconds));
    let msg = match p.phase {
        Phase::Requesting if p.elapsed > p.seconds => format!("{clock}, waiting for the server"),
        Phase::Requesting => format!("{clock}, connecting"),
        Phase::Receiving if p.elapsed > p.seconds => {
            format!(
                "{clock}, {} received, the server is finishing",
                HumanBytes(p.bytes)
            )
        }
        Phase::Receiving => format!("{clock}, {} received", HumanBytes(p.bytes)),
        Phase::Validating => format!("{} received, checking the trace", HumanBytes(p.bytes)),
    };
    pb.set_message(msg);
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `gotrace capture URL [--seconds N] [-o FILE] [--view]`.
pub fn capture(args: CaptureArgs) -> Result<()> {
    let target =
        trace_url(&args.url, args.seconds).map_err(|e| anyhow!("bad URL {:?}: {e}", args.url))?;
    let output = match &args.output {
        Some(o) => o.clone(),
        None => fresh(PathBuf::from(target.default_file_name())),
    };
    let opts = CaptureOptions {
        max_bytes: args.max_bytes,
        cancel: Some(interrupted()),
        ..Default::default()
    };
    eprintln!(
        "tracing {} for {}; Ctrl-C stops early and keeps what is complete",
        target.url,
        secs(target.seconds)
    );
    let pb = progress_bar(target.seconds);
    let res = gotrace_capture::capture(&args.url, args.seconds, &output, &opts, &mut |p| {
        show(&pb, p)
    });
    pb.finish_and_clear();
    let rep = res?;
    let mut line = format!(
        "wrote {}: {}, {}",
        rep.path.display(),
        format_bytes(rep.bytes),
        rep.header
    );
    if let (Some(g), Some(e)) = (rep.generations, rep.events) {
        line += &format!(
            ", {g} generation{}, {e} events",
            if g == 1 { "" } else { "s" }
        );
    }
    println!("{line} ({:.1}s)", rep.elapsed.as_secs_f64());
    if let Some(w) = &rep.warning {
        eprintln!("warning: {w}");
    }
    if args.view {
        return crate::view(&rep.path, None, false);
    }
    Ok(())
}

/// `name`, or `name` with `-1`, `-2`… before its extension if taken (an
/// explicit `-o FILE` is overwritten, like `curl -o`; a default name is not).
fn fresh(name: PathBuf) -> PathBuf {
    let taken = |p: &Path| p.exists() || PathBuf::from(format!("{}.partial", p.display())).exists();
    if !taken(&name) {
        return name;
    }
    let stem = name
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    (1..)
        .map(|i| name.with_file_name(format!("{stem}-{i}.trace")))
        .find(|p| !taken(p))
        .expect("some name is free")
}

/// `gotrace URL`: capture with the defaults, then view.
pub fn capture_and_view(url: &Path) -> Result<()> {
    capture(CaptureArgs {
        url: url.to_string_lossy().into_owned(),
        seconds: None,
        output: None,
        view: true,
        max_bytes: DEFAULT_MAX_BYTES,
    })
}

/// `gotrace record URL --every 10s --seconds 5 --keep 20 --dir D [--max-bytes SIZE] [--on COND]`.
pub fn record(args: RecordArgs) -> Result<()> {
    let target = trace_url(&args.url, Some(args.seconds))
        .map_err(|e| anyhow!("bad URL {:?}: {e}", args.url))?;
    let mut o = RecordOptions::new(args.url.clone(), &args.dir);
    o.every = args.every;
    o.seconds = args.seconds;
    o.keep = args.keep;
    o.max_total_bytes = args.max_bytes.unwrap_or(u64::MAX);
    o.trigger = args.on.clone().map(Condition::into_trigger);
    o.stop = interrupted();
    o.max_iterations = args.iterations;
    let budget = args
        .max_bytes
        .map(|b| format!(" and {}", format_bytes(b)))
        .unwrap_or_default();
    let only = args
        .on
        .as_ref()
        .map(|c| format!(", only when {c}"))
        .unwrap_or_default();
    eprintln!(
        "recording {} for {} every {}, keeping the newest {}{budget} in {}{only}; Ctrl-C stops",
        target.url,
        secs(args.seconds),
        secs(args.every),
        args.keep,
        args.dir.display()
    );
    let cond = args.on.as_ref().map(|c| c.to_string()).unwrap_or_default();
    let now = clock;
    let summary = record_loop(o, &mut |ev| match ev {
        RecordEvent::Kept {
            iteration,
            path,
            bytes,
        } => {
            println!(
                "{} #{iteration}: kept {} ({})",
                now(),
                path.display(),
                format_bytes(*bytes)
            )
        }
        RecordEvent::Rejected { iteration, bytes } => {
            println!(
                "{} #{iteration}: dropped ({}): {cond} does not hold",
                now(),
                format_bytes(*bytes)
            )
        }
        RecordEvent::TriggerFailed { iteration, error } => {
            println!(
                "{} #{iteration}: could not evaluate {cond} ({error}); keeping the capture",
                now()
            )
        }
        RecordEvent::Failed { iteration, error } => println!("{} #{iteration}: {error}", now()),
        RecordEvent::Deleted { path, .. } => println!("{} removed {}", now(), path.display()),
        _ => {}
    })?;
    eprintln!(
        "stopped after {} capture{} ({} failed, {} dropped); {} kept in {}",
        summary.iterations,
        if summary.iterations == 1 { "" } else { "s" },
        summary.failed,
        summary.rejected,
        summary.files.len(),
        args.dir.display()
    );
    Ok(())
}

/// Wall-clock time of day (UTC) for log lines, `HH:MM:SS`.
fn clock() -> String {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{:02}:{:02}:{:02}Z", s / 3600 % 24, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_trace_files() {
        assert!(is_url(Path::new("http://127.0.0.1:6060")));
        assert!(is_url(Path::new("HTTPS://host/debug/pprof/trace")));
        assert!(!is_url(Path::new("trace.out")));
        assert!(!is_url(Path::new("http")));
        assert!(!is_url(Path::new("./http://x")));
    }

    #[test]
    fn durations_accept_seconds_or_units() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
