//! `gotrace`: the command-line front end.
//!
//! Subcommands are ours (`dump`, `footprint`, `stats`); the single-dash
//! flags of `go tool trace` (`-d=parsed|wire|footprint`, `-pprof`, `-http`)
//! are accepted too so gotrace can stand in for it.

mod capture_cmd;
mod debug;
mod gc_cmd;
mod mmu_cmd;
mod pprof_cmd;
mod summary_cmd;
mod tabwriter;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "gotrace",
    version,
    about = "Read and explore Go execution traces",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,

    /// Print debug info and exit, like `go tool trace -d` (modes: parsed, wire, footprint).
    #[arg(short = 'd', long = "debug", value_name = "MODE")]
    debug: Option<String>,

    /// Write a pprof profile to stdout instead (net, sync, syscall, sched), as `go tool trace -pprof`.
    #[arg(long = "pprof", value_name = "TYPE")]
    pprof: Option<String>,

    /// HTTP server listen address for the viewer (`:PORT` means localhost; default a random port).
    #[arg(long = "http", value_name = "ADDR")]
    http: Option<String>,

    /// Serve the viewer without opening a browser.
    #[arg(long = "no-browser")]
    no_browser: bool,

    /// The trace file. (`go tool trace BINARY TRACE` is accepted; the binary is ignored.)
    #[arg(value_name = "TRACE", num_args = 1..=2)]
    trace: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the ordered event stream exactly as `go tool trace -d=parsed` does.
    Dump {
        /// Print raw wire events instead, as `-d=wire` does.
        #[arg(long)]
        wire: bool,
        trace: PathBuf,
    },
    /// Print event counts and bytes per wire event type, as `-d=footprint` does.
    Footprint { trace: PathBuf },
    /// Parse and order the whole trace and print event counts per kind.
    Stats { trace: PathBuf },
    /// Every GC cycle and stop-the-world pause, with percentiles and the long ones.
    Gc(gc_cmd::GcArgs),
    /// A blocking profile (net, sync, syscall, sched): top stacks, or a pprof file with -o.
    Pprof(pprof_cmd::PprofArgs),
    /// Capture a trace from a live program's /debug/pprof/trace endpoint.
    Capture(capture_cmd::CaptureArgs),
    /// Capture repeatedly, keeping the newest captures (or only those meeting a condition).
    Record(capture_cmd::RecordArgs),
    /// Goroutine groups by start location, or one group's goroutines with their time breakdown.
    Goroutines(summary_cmd::GoroutinesArgs),
    /// User task types with duration histograms, or the matching tasks with their events.
    Tasks(summary_cmd::TasksArgs),
    /// User region types with duration histograms, or the matching regions with their time breakdown.
    Regions(summary_cmd::RegionsArgs),
    /// Minimum mutator utilization by window size, and the worst windows.
    Mmu(mmu_cmd::MmuArgs),
    /// Build every goroutine, task and region summary in one pass and print their sizes.
    #[command(hide = true)]
    Summary(summary_cmd::SummaryArgs),
    /// Convert a trace in the reference's text format (or a Go conformance
    /// `.test` file) to the wire format.
    #[command(hide = true)]
    TextToWire { input: PathBuf, output: PathBuf },
    /// Open the interactive viewer (the default when only a TRACE is given).
    View {
        /// Listen address (`:PORT` means localhost; default a random port).
        #[arg(long = "http", value_name = "ADDR")]
        http: Option<String>,
        /// Don't open a browser.
        #[arg(long = "no-browser")]
        no_browser: bool,
        trace: PathBuf,
    },
}

/// Rewrites Go-style single-dash long flags (`-pprof=x`, `-http x`) into
/// the double-dash form the parser understands.
fn go_style_args() -> Vec<String> {
    std::env::args()
        .map(|a| {
            for f in ["-pprof", "-http"] {
                if a == f || a.starts_with(&format!("{f}=")) {
                    return format!("-{a}");
                }
            }
            a
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(go_style_args());
    let res = match (cli.cmd, cli.debug.as_deref()) {
        (Some(Cmd::Dump { wire: false, trace }), _) => debug::dump_parsed(&trace),
        (Some(Cmd::Dump { wire: true, trace }), _) => debug::dump_wire(&trace),
        (Some(Cmd::Footprint { trace }), _) => debug::footprint(&trace),
        (Some(Cmd::Stats { trace }), _) => debug::stats(&trace),
        (Some(Cmd::Gc(args)), _) => gc_cmd::gc(args),
        (Some(Cmd::Summary(args)), _) => summary_cmd::summary(args),
        (Some(Cmd::Goroutines(args)), _) => summary_cmd::goroutines(args),
        (Some(Cmd::Tasks(args)), _) => summary_cmd::tasks(args),
        (Some(Cmd::Regions(args)), _) => summary_cmd::regions(args),
        (Some(Cmd::Mmu(args)), _) => mmu_cmd::mmu(args),
        (Some(Cmd::Pprof(args)), _) => pprof_cmd::pprof(args),
        (Some(Cmd::Capture(args)), _) => capture_cmd::capture(args),
        (Some(Cmd::Record(args)), _) => capture_cmd::record(args),
        (Some(Cmd::TextToWire { input, output }), _) => debug::text_to_wire(&input, &output),
        (
            Some(Cmd::View {
                http,
                no_browser,
                trace,
            }),
            _,
        ) => view(&trace, http, no_browser),
        (None, Some(mode)) => {
            let Some(trace) = cli.trace.last() else {
                eprintln!("gotrace: missing TRACE argument");
                return ExitCode::from(2);
            };
            match mode {
                "parsed" => debug::dump_parsed(trace),
                "wire" => debug::dump_wire(trace),
                "footprint" => debug::footprint(trace),
                m => Err(anyhow::anyhow!(
                    "invalid debug mode {m}, want one of: parsed, wire, footprint"
                )),
            }
        }
        (None, None)
            if cli.trace.len() == 1
                && cli.pprof.is_none()
                && cli.http.is_none()
                && capture_cmd::is_url(&cli.trace[0]) =>
        {
            capture_cmd::capture_and_view(&cli.trace[0])
        }
        (None, None) if cli.pprof.is_some() => match cli.trace.last() {
            Some(trace) => pprof_cmd::go_pprof(cli.pprof.as_deref().unwrap_or_default(), trace),
            None => {
                eprintln!("gotrace: missing TRACE argument");
                return ExitCode::from(2);
            }
        },
        (None, None) if !cli.trace.is_empty() => {
            view(cli.trace.last().unwrap(), cli.http, cli.no_browser)
        }
        (None, None) => {
            if cli.pprof.is_some() || cli.http.is_some() || !cli.trace.is_empty() {
                Err(anyhow::anyhow!("the trace viewer and -pprof are not implemented yet; use `gotrace dump`, `gotrace stats` or -d=parsed|wire|footprint"))
            } else {
                eprintln!("usage: gotrace [dump|footprint|stats|gc] TRACE, gotrace capture|record URL, or gotrace -d=parsed|wire|footprint TRACE");
                return ExitCode::from(2);
            }
        }
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `gotrace TRACE`, `gotrace view TRACE`, `gotrace -http=ADDR TRACE`: the web viewer.
pub fn view(trace: &std::path::Path, http: Option<String>, no_browser: bool) -> anyhow::Result<()> {
    gotrace_view::run(trace, gotrace_view::ViewOptions { http, no_browser })
}

/// Writes `data` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see a partial file.
pub fn atomic_write(path: &std::path::Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}
