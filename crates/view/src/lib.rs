//! `gotrace view`: the interactive trace viewer.
//!
//! The trace is indexed once ([`index`]) into compact tables; the browser
//! asks for level-of-detail tiles ([`api`]) for what is on screen, so it
//! never holds the whole trace. Assets are our own and embedded.

pub mod api;
pub mod index;
pub mod pages;

use anyhow::{anyhow, Context, Result};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use index::Index;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// How to serve.
#[derive(Debug, Clone, Default)]
pub struct ViewOptions {
    /// `-http` address: `HOST:PORT`, `:PORT` (localhost) or none (a random port).
    pub http: Option<String>,
    /// Don't try to open a browser.
    pub no_browser: bool,
}

/// Shared server state: the index once built, and load progress until then.
pub struct AppState {
    pub name: String,
    pub index: OnceLock<Index>,
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub error: OnceLock<String>,
}

impl AppState {
    pub fn new(name: impl Into<String>) -> Arc<Self> {
        Arc::new(AppState {
            name: name.into(),
            index: OnceLock::new(),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            error: OnceLock::new(),
        })
    }
}

/// Builds the index of a trace file, reporting (bytes done, total).
pub fn load(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Index> {
    let r = gotrace::Reader::open(path).with_context(|| format!("opening {}", path.display()))?;
    index::build(r, progress).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// The address to listen on, from a `-http` value: a bare `:PORT` means
/// localhost, as in the reference; nothing means a random localhost port.
pub fn listen_addr(http: Option<&str>) -> String {
    match http {
        None | Some("") => "127.0.0.1:0".to_string(),
        Some(s) if s.starts_with(':') => format!("127.0.0.1{s}"),
        Some(s) => s.to_string(),
    }
}

/// Keeps glibc from raising its mmap threshold as big buffers are freed:
/// the index's columns grow by doubling, and copies left behind in the
/// heap stay resident (about 100 MB on a 1 GB trace), while mmapped ones
/// are returned or grown in place.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: a documented glibc tunable, set before the index exists.
        unsafe { mallopt(M_MMAP_THRESHOLD, 128 << 10) };
    }
}

/// Serves the viewer for `trace` until interrupted.
pub fn run(trace: &Path, opts: ViewOptions) -> Result<()> {
    fixed_mmap_threshold();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let addr = listen_addr(opts.http.as_deref());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(&addr))
        .with_context(|| format!("listening on {addr}"))?;
    let local: SocketAddr = listener.local_addr()?;
    let url = format!("http://{local}");
    let state = AppState::new(
        trace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let st_for_server = state.clone();
    // The analysis pages: their own pass over the trace, after the index,
    // once a page asks.
    let pages = pages::Pages::new(trace, Some(state.clone()));
    let app = router(st_for_server).merge(pages::routes(pages));
    eprintln!("Trace viewer is listening on {url}");
    println!("{url}");
    if !opts.no_browser {
        open_browser(&url);
    }
    // Serve right away so the page can show progress, and index on this
    // thread meanwhile (allocating from the main malloc arena keeps less
    // freed scratch resident than a helper thread's arena would).
    let server = rt.spawn(async move { axum::serve(listener, app).await });
    let pb = indicatif::ProgressBar::new(0);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({elapsed})",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    pb.set_message("Loading trace");
    let started = std::time::Instant::now();
    let res = load(trace, &mut |d, t| {
        state.done.store(d, Ordering::Relaxed);
        state.total.store(t, Ordering::Relaxed);
        pb.set_length(t);
        pb.set_position(d);
    });
    pb.finish_and_clear();
    match res {
        Ok(ix) => {
            eprintln!(
                "Indexed {} events in {:.2} s",
                ix.events,
                started.elapsed().as_secs_f64()
            );
            let _ = state.index.set(ix);
            // What the first frame doesn't need, finished while it is drawn.
            if let Some(ix) = state.index.get() {
                ix.threads();
            }
        }
        Err(e) => {
            eprintln!("{e:#}");
            let _ = state.error.set(format!("{e:#}"));
        }
    }
    match rt.block_on(server) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(anyhow!("serving: {e}")),
        Err(e) => Err(anyhow!("server task: {e}")),
    }
}

/// Opens `url` with `$BROWSER` or `xdg-open`; failure is not an error.
fn open_browser(url: &str) {
    let cmds: Vec<String> = match std::env::var("BROWSER") {
        Ok(b) if !b.is_empty() => b.split(':').map(str::to_string).collect(),
        _ => vec![if cfg!(target_os = "macos") {
            "open"
        } else if cfg!(windows) {
            "explorer"
        } else {
            "xdg-open"
        }
        .to_string()],
    };
    for c in cmds {
        let mut parts = c.split_whitespace();
        let Some(prog) = parts.next() else { continue };
        let spawned = std::process::Command::new(prog)
            .args(parts)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            return;
        }
    }
}

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE_CSS: &str = include_str!("../assets/style.css");

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The HTTP routes; the index may still be loading.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/api/status", get(status))
        .route("/api/meta", get(|s, q| with_index(s, q, Api::Meta)))
        .route("/api/tiles", get(|s, q| with_index(s, q, Api::Tiles)))
        .route("/api/span", get(|s, q| with_index(s, q, Api::Span)))
        .route(
            "/api/range-stats",
            get(|s, q| with_index(s, q, Api::RangeStats)),
        )
        .route("/api/arrows", get(|s, q| with_index(s, q, Api::Arrows)))
        .route("/api/group", get(|s, q| with_index(s, q, Api::Group)))
        .route(
            "/api/goroutine",
            get(|s, q| with_index(s, q, Api::Goroutine)),
        )
        .route("/api/task", get(|s, q| with_index(s, q, Api::Task)))
        .route("/api/tasks", get(|s, q| with_index(s, q, Api::Tasks)))
        .with_state(state)
}

async fn status(State(st): State<Arc<AppState>>) -> Response {
    json_response(json!({
        "trace": st.name,
        "ready": st.index.get().is_some(),
        "done": st.done.load(Ordering::Relaxed),
        "total": st.total.load(Ordering::Relaxed),
        "error": st.error.get(),
    }))
}

#[derive(Clone, Copy)]
enum Api {
    Meta,
    Tiles,
    Span,
    RangeStats,
    Arrows,
    Group,
    Goroutine,
    Task,
    Tasks,
}

fn json_response(v: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&v).unwrap_or_default(),
    )
        .into_response()
}

async fn with_index(
    State(st): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    api: Api,
) -> Response {
    let Some(ix) = st.index.get() else {
        let msg = st.error.get().cloned().unwrap_or("still loading".into());
        return (StatusCode::SERVICE_UNAVAILABLE, msg).into_response();
    };
    match handle(ix, &st.name, &q, api) {
        Ok(v) => json_response(v),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

fn handle(ix: &Index, name: &str, q: &HashMap<String, String>, api: Api) -> api::ApiResult {
    // Times in queries are relative to the trace's start; floats are accepted.
    let time = |k: &str, default: i64| -> Result<i64, String> {
        match q.get(k) {
            None => Ok(default),
            Some(s) => s
                .parse::<f64>()
                .map(|f| f as i64 + ix.t0)
                .map_err(|_| format!("bad {k}: {s:?}")),
        }
    };
    let int = |k: &str| -> Result<i64, String> {
        q.get(k)
            .ok_or(format!("missing {k}"))?
            .parse::<i64>()
            .map_err(|_| format!("bad {k}"))
    };
    let (a, b) = (time("start", ix.t0)?, time("end", ix.t1)?);
    let b = b.max(a + 1);
    Ok(match api {
        Api::Meta => api::meta(ix, name),
        Api::Tiles => {
            let px = q
                .get("px")
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(1000)
                .clamp(1, 10_000);
            let mut rows = serde_json::Map::new();
            for row in q.get("rows").map(String::as_str).unwrap_or("").split(',') {
                if row.is_empty() {
                    continue;
                }
                rows.insert(row.to_string(), api::tile(ix, row, a, b, px)?);
            }
            json!({"start": a - ix.t0, "end": b - ix.t0, "rows": rows})
        }
        Api::Span => {
            let row = q.get("row").ok_or("missing row")?;
            api::span(ix, row, time("t", ix.t0)?)?
        }
        Api::RangeStats => {
            let g = match q.get("g") {
                Some(s) => Some(s.parse::<u32>().map_err(|_| "bad g")?),
                None => None,
            };
            api::range_stats(ix, a, b, g)
        }
        Api::Arrows => api::arrows(ix, a, b, 5000),
        Api::Group => api::group(ix, int("idx")? as usize)?,
        Api::Goroutine => api::goroutine(ix, int("id")?)?,
        Api::Task => api::task(ix, int("id")? as u64)?,
        Api::Tasks => api::tasks(ix, int("limit").unwrap_or(1000) as usize),
    })
}
