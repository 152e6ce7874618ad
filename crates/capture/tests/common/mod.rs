//! Shared test helpers: a hand-written HTTP server on loopback, corpus
//! traces, and checks on output directories.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest any fake server lives, whatever its tests do.
const SERVER_LIFETIME: Duration = Duration::from_secs(30);

/// A connection handed to a handler: the request line is already read.
pub struct Conn {
    pub stream: TcpStream,
    pub request_line: String,
    /// The index of this connection (0 for the first).
    pub index: usize,
    stop: Arc<AtomicBool>,
}

impl Conn {
    /// Writes all of `b`; false if the peer has gone.
    pub fn send(&mut self, b: &[u8]) -> bool {
        self.stream
            .write_all(b)
            .and_then(|_| self.stream.flush())
            .is_ok()
    }

    /// A response head; `len` adds Content-Length, else the body is
    /// delimited by closing the connection.
    pub fn head(&mut self, status: &str, content_type: &str, len: Option<usize>) -> bool {
        let mut h =
            format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n");
        if let Some(n) = len {
            h.push_str(&format!("Content-Length: {n}\r\n"));
        }
        h.push_str("\r\n");
        self.send(h.as_bytes())
    }

    /// A complete response with Content-Length.
    pub fn respond(&mut self, status: &str, content_type: &str, body: &[u8]) {
        if self.head(status, content_type, Some(body.len())) {
            self.send(body);
        }
    }

    /// Holds the connection open, sending nothing, until the server stops
    /// or `max` passes.
    pub fn hold(&self, max: Duration) {
        let until = Instant::now() + max;
        while !self.stop.load(Ordering::Relaxed) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A misbehaving-on-purpose HTTP server on 127.0.0.1:0. Each connection is
/// served on its own thread by `handler`; at most `max_conns` are accepted,
/// and the server stops by itself after 30 s or when dropped.
pub struct FakeServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<String>>>,
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(
        max_conns: usize,
        handler: impl Fn(&mut Conn) + Send + Sync + 'static,
    ) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let handler = Arc::new(handler);
        let thread = {
            let (stop, requests, accepted) = (stop.clone(), requests.clone(), accepted.clone());
            std::thread::spawn(move || {
                let end = Instant::now() + SERVER_LIFETIME;
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < end
                    && accepted.load(Ordering::Relaxed) < max_conns
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let index = accepted.fetch_add(1, Ordering::Relaxed);
                            let (stop, requests, handler) =
                                (stop.clone(), requests.clone(), handler.clone());
                            std::thread::spawn(move || {
                                stream.set_nonblocking(false).unwrap();
                                stream
                                    .set_read_timeout(Some(Duration::from_secs(5)))
                                    .unwrap();
                                stream
                                    .set_write_timeout(Some(Duration::from_secs(5)))
                                    .unwrap();
                                let mut stream = stream;
                                let Some(request_line) = read_request(&mut stream) else {
                                    return;
                                };
                                requests.lock().unwrap().push(request_line.clone());
                                let mut conn = Conn {
                                    stream,
                                    request_line,
                                    index,
                                    stop,
                                };
                                handler(&mut conn);
                            });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        FakeServer {
            addr,
            requests,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A server that answers every request (up to `max_conns`) with `trace`.
    pub fn serving(trace: Vec<u8>, max_conns: usize) -> FakeServer {
        let trace = Arc::new(trace);
        FakeServer::start(max_conns, move |c| {
            c.respond("200 OK", "application/octet-stream", &trace)
        })
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads the request head (bounded); returns its first line.
fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut b).ok()?;
        if n == 0 || buf.len() > 16 << 10 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    Some(text.lines().next().unwrap_or("").to_string())
}

/// A port nothing listens on (it was just released).
pub fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus/traces")
        .join(rel)
}

pub fn corpus_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(corpus(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Where each generation of a whole trace ends, by batch framing
/// (independently of the library's own salvage code).
pub fn generation_ends(trace: &[u8]) -> Vec<usize> {
    let h = gotrace_wire::read_header(trace).unwrap();
    let mut ends = Vec::new();
    let mut cur = None;
    for b in gotrace_wire::Batches::new(trace, h.len) {
        let b = b.unwrap();
        if h.version >= gotrace_wire::Version::Go126 {
            if b.kind == gotrace_wire::BatchKind::EndOfGeneration {
                ends.push(b.end());
            }
        } else {
            if cur.is_some_and(|g| g != b.gen) {
                ends.push(b.start);
            }
            cur = Some(b.gen);
        }
    }
    if h.version < gotrace_wire::Version::Go126 {
        ends.push(trace.len());
    }
    ends
}

/// Reads a whole trace with the Reader; returns (generations, events).
pub fn read_fully(path: &Path) -> (u64, u64) {
    let mut r = gotrace::Reader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut syncs, mut events) = (0, 0);
    while let Some(ev) = r
        .read_event()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        events += 1;
        if ev.kind() == gotrace::EventKind::Sync {
            syncs += 1;
        }
    }
    (syncs - 1, events)
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// After a failure: nothing in `dir` except, if given, a `.partial` file.
pub fn assert_clean(dir: &Path, partial: Option<&str>) {
    let got = names(dir);
    let want: Vec<String> = partial.map(|p| p.to_string()).into_iter().collect();
    assert_eq!(got, want, "files left in {}", dir.display());
    for n in &got {
        assert!(n.ends_with(".partial"), "{n} pretends to be complete");
    }
}

/// Fast limits for tests.
pub fn quick_opts() -> gotrace_capture::CaptureOptions {
    gotrace_capture::CaptureOptions {
        connect_timeout: Duration::from_secs(2),
        margin: Duration::from_secs(3),
        stall_timeout: Duration::from_secs(1),
        ..Default::default()
    }
}
