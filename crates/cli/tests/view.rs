//! `gotrace TRACE`, `gotrace view TRACE` and `gotrace -http=ADDR TRACE` serve the viewer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn trace() -> String {
    format!(
        "{}/../../corpus/traces/go1.27/sched.trace",
        env!("CARGO_MANIFEST_DIR")
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts gotrace with `args`, returns it and the URL it printed.
fn start(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gotrace"))
        .args(args)
        // Never open a real browser from a test, even without --no-browser.
        .env("BROWSER", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Server(child), line.trim().to_string())
}

fn get(url: &str, path: &str) -> (u16, String) {
    let host = url.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map_or("", |x| x.1).to_string();
    (status, body)
}

fn wait_ready(url: &str) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let (st, body) = get(url, "/api/status");
        assert_eq!(st, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["ready"] == true {
            return v;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "not ready: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn view_subcommand_serves_on_localhost() {
    let tr = trace();
    let (_s, url) = start(&["view", "--no-browser", &tr]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let st = wait_ready(&url);
    assert_eq!(st["trace"], "sched.trace");
    let (code, html) = get(&url, "/");
    assert_eq!(code, 200);
    assert!(html.contains("/app.js"));
    let (code, meta) = get(&url, "/api/meta");
    assert_eq!(code, 200);
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert!(meta["duration"].as_i64().unwrap() > 0);
}

#[test]
fn bare_trace_and_go_style_http_flag() {
    let tr = trace();
    // A free port: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let flag = format!("-http=:{port}");
    let (_s, url) = start(&[&flag, &tr]);
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    wait_ready(&url);
    let (_s2, url2) = start(&["--no-browser", &tr]);
    assert!(url2.starts_with("http://127.0.0.1:"));
    wait_ready(&url2);
}

/// Serves `body` as the answer to every request, like a pprof endpoint.
fn fake_pprof_server(body: Vec<u8>) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut req = [0u8; 4096];
            let _ = s.read(&mut req);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn capture_with_view_captures_then_serves_the_viewer_on_the_result() {
    let body = std::fs::read(trace()).unwrap();
    let base = fake_pprof_server(body.clone());
    let dir = std::env::temp_dir().join(format!("gotrace-capture-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("live.trace");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gotrace"))
        .args([
            "capture",
            &base,
            "--seconds",
            "1",
            "-o",
            out.to_str().unwrap(),
            "--view",
        ])
        .env("BROWSER", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let wrote = lines.next().unwrap().unwrap();
    let server = Server(child);
    assert!(
        wrote.starts_with(&format!("wrote {}", out.display())),
        "{wrote}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        body,
        "the capture is the served trace"
    );
    let url = lines
        .map(|l| l.unwrap())
        .find(|l| l.starts_with("http://"))
        .expect("the viewer prints its URL");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let st = wait_ready(url.trim());
    assert_eq!(st["trace"], "live.trace");
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
