//! The viewer alone, for browser tests while the CLI is being changed:
//! `serve [view] [--no-browser] [--http ADDR] TRACE`.
fn main() -> anyhow::Result<()> {
    let mut opts = gotrace_view::ViewOptions::default();
    let mut trace = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "view" => {}
            "--no-browser" => opts.no_browser = true,
            "--http" => opts.http = args.next(),
            _ => trace = Some(a),
        }
    }
    let trace = trace.ok_or_else(|| anyhow::anyhow!("usage: serve [--http ADDR] TRACE"))?;
    gotrace_view::run(trace.as_ref(), opts)
}
