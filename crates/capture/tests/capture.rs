//! `capture` against hand-written HTTP servers on loopback that behave and
//! misbehave: refused, stalled, error pages, cut streams, huge bodies.
//! After every failure, the output directory holds no temporary file and no
//! file that pretends to be complete.
#![allow(clippy::result_large_err)]

mod common;

use common::*;
use gotrace_capture::{capture, CaptureError, CaptureOptions, CaptureReport, Cause, Phase};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ONE_SECOND: Option<Duration> = Some(Duration::from_secs(1));

fn run(url: &str, dir: &Path, opts: &CaptureOptions) -> Result<CaptureReport, CaptureError> {
    capture(url, ONE_SECOND, &dir.join("out.trace"), opts, &mut |_| {})
}

fn interrupted(e: CaptureError) -> gotrace_capture::Interrupted {
    match e {
        CaptureError::Interrupted(i) => *i,
        other => panic!("want Interrupted, got {other:?}"),
    }
}

#[test]
fn a_served_trace_lands_whole_in_the_requested_file() {
    let trace = corpus_bytes("go1.27/long.trace");
    let srv = FakeServer::serving(trace.clone(), 1);
    let dir = tempfile::tempdir().unwrap();
    let mut phases = Vec::new();
    let rep = capture(
        &srv.url(),
        ONE_SECOND,
        &dir.path().join("out.trace"),
        &quick_opts(),
        &mut |p| {
            phases.push(p.phase);
            assert_eq!(p.seconds, Duration::from_secs(1));
        },
    )
    .unwrap();
    assert_eq!(
        srv.requests.lock().unwrap().as_slice(),
        ["GET /debug/pprof/trace?seconds=1 HTTP/1.1"]
    );
    assert_eq!(std::fs::read(dir.path().join("out.trace")).unwrap(), trace);
    assert_eq!(rep.bytes, trace.len() as u64);
    assert_eq!(rep.header, "go 1.26 trace");
    assert_eq!(rep.version, Some(gotrace_wire::Version::Go126));
    let (gens, events) = read_fully(&dir.path().join("out.trace"));
    assert_eq!((rep.generations, rep.events), (Some(gens), Some(events)));
    assert_eq!(gens, 4);
    assert!(rep.warning.is_none());
    assert_eq!(phases.first(), Some(&Phase::Requesting));
    assert_eq!(phases.last(), Some(&Phase::Validating));
    assert_eq!(names(dir.path()), ["out.trace"]);
}

#[test]
fn the_full_endpoint_url_is_used_as_given_with_the_duration_replaced() {
    let srv = FakeServer::serving(corpus_bytes("go1.27/cgo.trace"), 1);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/debug/pprof/trace?seconds=30&debug=0", srv.url());
    let rep = capture(
        &url,
        Some(Duration::from_millis(1500)),
        &dir.path().join("t"),
        &quick_opts(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        srv.requests.lock().unwrap().as_slice(),
        ["GET /debug/pprof/trace?debug=0&seconds=1.5 HTTP/1.1"]
    );
    assert!(
        rep.url.ends_with("/debug/pprof/trace?debug=0&seconds=1.5"),
        "{}",
        rep.url
    );
}

#[test]
fn a_refused_connection_is_reported_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let e = run(
        &format!("http://{}", closed_port()),
        dir.path(),
        &quick_opts(),
    )
    .unwrap_err();
    assert!(matches!(e, CaptureError::Connect { .. }), "{e:?}");
    assert!(e.to_string().contains("cannot connect"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_clean(dir.path(), None);
}

#[test]
fn a_server_that_never_answers_times_out_within_the_deadline() {
    let srv = FakeServer::start(1, |c| c.hold(Duration::from_secs(20)));
    let dir = tempfile::tempdir().unwrap();
    let opts = CaptureOptions {
        margin: Duration::from_secs(1),
        ..quick_opts()
    };
    let t = Instant::now();
    let e = run(&srv.url(), dir.path(), &opts).unwrap_err();
    let took = t.elapsed();
    assert!(matches!(e, CaptureError::NoResponse { .. }), "{e:?}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert!(e.to_string().contains("no response after "), "{e}");
    assert_clean(dir.path(), None);
}

#[test]
fn an_html_error_page_with_status_200_is_not_a_trace() {
    let srv = FakeServer::start(1, |c| {
        let page = b"<!DOCTYPE html>\n<html><head><title>Sign in - Dashboard</title></head><body>log in first</body></html>\n";
        c.respond("200 OK", "text/html; charset=utf-8", page)
    });
    let dir = tempfile::tempdir().unwrap();
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    let CaptureError::NotATrace {
        status,
        first_line,
        title,
        content_type,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 200);
    assert_eq!(first_line, "<!DOCTYPE html>");
    assert_eq!(title.as_deref(), Some("Sign in - Dashboard"));
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    let msg = e.to_string();
    assert!(
        msg.contains("(HTTP 200) is not a Go execution trace")
            && msg.contains("Sign in - Dashboard"),
        "{msg}"
    );
    assert_clean(dir.path(), None);
}

#[test]
fn a_404_reports_status_and_first_line() {
    let srv = FakeServer::start(1, |c| {
        c.respond(
            "404 Not Found",
            "text/plain; charset=utf-8",
            b"404 page not found\n",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert!(
        matches!(&e, CaptureError::Http { status: 404, first_line, .. } if first_line == "404 page not found"),
        "{e:?}"
    );
    assert!(e.to_string().contains("HTTP 404 Not Found; Content-Type text/plain; charset=utf-8; the body begins \"404 page not found\""), "{e}");
    assert_clean(dir.path(), None);
}

#[test]
fn an_error_body_is_quoted_defanged_and_truncated() {
    let srv = FakeServer::start(1, |c| {
        let mut body = b"\n\x1b]0;pwned\x07Could not enable tracing: \x1b[2J".to_vec();
        body.extend([b'x'; 10_000]);
        c.respond("500 Internal Server Error", "text/plain", &body)
    });
    let dir = tempfile::tempdir().unwrap();
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    let CaptureError::Http {
        status: 500,
        first_line,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert!(
        first_line.starts_with("\\u{1b}]0;pwned\\u{7}Could not enable tracing"),
        "{first_line}"
    );
    assert!(
        first_line.chars().count() <= 170 && first_line.ends_with('…'),
        "{first_line}"
    );
    assert!(!e.to_string().chars().any(|c| c.is_control()), "{e}");
    assert_clean(dir.path(), None);
}

#[test]
fn a_redirect_is_reported_not_followed() {
    let srv = FakeServer::start(2, |c| {
        c.send(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n");
    });
    let dir = tempfile::tempdir().unwrap();
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert!(
        matches!(&e, CaptureError::Http { status: 302, location: Some(l), .. } if l == "http://127.0.0.1:1/elsewhere"),
        "{e:?}"
    );
    assert!(e.to_string().contains("does not follow"), "{e}");
    assert_eq!(srv.requests.lock().unwrap().len(), 1);
    assert_clean(dir.path(), None);
}

#[test]
fn an_empty_body_or_a_peer_that_is_not_http_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let srv = FakeServer::start(1, |c| c.respond("200 OK", "application/octet-stream", b""));
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert!(
        matches!(&e, CaptureError::NotATrace { bytes: 0, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("the body is empty"), "{e}");
    let srv = FakeServer::start(1, |c| {
        c.send(b"SSH-2.0-OpenSSH_9.6\r\n");
    });
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert!(matches!(&e, CaptureError::Protocol { .. }), "{e:?}");
    assert_clean(dir.path(), None);
}

/// Serves `trace` announcing its full length but sends only `cut` bytes.
fn cut_server(trace: Vec<u8>, cut: usize, with_length: bool) -> FakeServer {
    FakeServer::start(1, move |c| {
        if c.head(
            "200 OK",
            "application/octet-stream",
            with_length.then_some(trace.len()),
        ) {
            c.send(&trace[..cut]);
        }
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
    })
}

fn check_salvage(
    trace: &[u8],
    ends: &[usize],
    cut: usize,
    i: &gotrace_capture::Interrupted,
    dir: &Path,
) {
    let kept = ends.iter().copied().filter(|&e| e <= cut).max().unwrap();
    let s = i
        .salvage
        .as_ref()
        .unwrap_or_else(|e| panic!("nothing kept: {e}"));
    assert_eq!(i.received_bytes, cut as u64);
    assert_eq!(s.path, dir.join("out.trace.partial"));
    assert_eq!(s.kept_bytes, kept as u64);
    assert_eq!(s.dropped_bytes(), (cut - kept) as u64);
    let n = ends.iter().filter(|&&e| e <= cut).count() as u64;
    assert_eq!(s.generations, n);
    assert_eq!(
        std::fs::read(&s.path).unwrap(),
        trace[..kept],
        "the partial file is the complete generations, verbatim"
    );
    assert_eq!(
        read_fully(&s.path),
        (n, s.events),
        "the partial file reads cleanly"
    );
    assert_clean(dir, Some("out.trace.partial"));
}

#[test]
fn a_stream_cut_in_the_second_generation_keeps_the_first_as_partial() {
    for rel in ["go1.25/long.trace", "go1.27/long.trace"] {
        let trace = corpus_bytes(rel);
        let ends = generation_ends(&trace);
        assert!(ends.len() >= 2, "{rel}: {ends:?}");
        let cut = (ends[0] + ends[1]) / 2;
        let srv = cut_server(trace.clone(), cut, true);
        let dir = tempfile::tempdir().unwrap();
        let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
        let msg = e.to_string();
        let i = interrupted(e);
        assert!(matches!(i.cause, Cause::Cut(_)), "{rel}: {:?}", i.cause);
        check_salvage(&trace, &ends, cut, &i, dir.path());
        assert_eq!(i.salvage.as_ref().unwrap().generations, 1, "{rel}");
        assert!(
            msg.contains("kept the 1 complete generation (") && msg.contains("out.trace.partial"),
            "{msg}"
        );
        assert!(msg.contains("lost: "), "{msg}");
    }
}

#[test]
fn a_close_delimited_body_that_ends_mid_trace_is_caught_by_the_reader() {
    // Without Content-Length, a cut connection looks like a normal end to
    // HTTP; the Reader finds the truncation.
    for rel in ["go1.25/long.trace", "go1.27/long.trace"] {
        let trace = corpus_bytes(rel);
        let ends = generation_ends(&trace);
        let cut = (ends[1] + ends[2]) / 2;
        let srv = cut_server(trace.clone(), cut, false);
        let dir = tempfile::tempdir().unwrap();
        let i = interrupted(run(&srv.url(), dir.path(), &quick_opts()).unwrap_err());
        assert!(
            matches!(&i.cause, Cause::Truncated(_)),
            "{rel}: {:?}",
            i.cause
        );
        check_salvage(&trace, &ends, cut, &i, dir.path());
        assert_eq!(i.salvage.as_ref().unwrap().generations, 2, "{rel}");
    }
}

#[test]
fn a_cut_before_any_complete_generation_keeps_nothing() {
    let trace = corpus_bytes("go1.27/long.trace");
    let ends = generation_ends(&trace);
    let srv = cut_server(trace, ends[0] / 2, true);
    let dir = tempfile::tempdir().unwrap();
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert!(
        e.to_string()
            .contains("nothing kept: no generation was received complete"),
        "{e}"
    );
    assert!(interrupted(e).salvage.is_err());
    assert_clean(dir.path(), None);
}

#[test]
fn a_stream_that_stalls_midway_is_cut_off_and_salvaged() {
    let trace = corpus_bytes("go1.27/long.trace");
    let ends = generation_ends(&trace);
    let cut = (ends[0] + ends[1]) / 2;
    let srv = FakeServer::start(1, move |c| {
        if c.head("200 OK", "application/octet-stream", None) {
            c.send(&trace[..cut]);
            c.hold(Duration::from_secs(20));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let opts = CaptureOptions {
        margin: Duration::from_secs(10),
        stall_timeout: Duration::from_millis(500),
        ..quick_opts()
    };
    let t = Instant::now();
    let i = interrupted(run(&srv.url(), dir.path(), &opts).unwrap_err());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(
        matches!(i.cause, Cause::Stalled(d) if d >= Duration::from_millis(500)),
        "{:?}",
        i.cause
    );
    assert_eq!(i.salvage.as_ref().unwrap().generations, 1);
    assert_clean(dir.path(), Some("out.trace.partial"));
}

#[test]
fn a_trickling_stream_stops_at_the_overall_deadline() {
    let trace = corpus_bytes("go1.27/long.trace");
    let srv = FakeServer::start(1, move |c| {
        if c.head("200 OK", "application/octet-stream", None) {
            for chunk in trace.chunks(500) {
                if !c.send(chunk) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let opts = CaptureOptions {
        margin: Duration::from_secs(1),
        ..quick_opts()
    };
    let t = Instant::now();
    let i = interrupted(run(&srv.url(), dir.path(), &opts).unwrap_err());
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert!(matches!(i.cause, Cause::Deadline(_)), "{:?}", i.cause);
    assert!(
        i.received_bytes > 0 && i.received_bytes < 47254,
        "{}",
        i.received_bytes
    );
    match &i.salvage {
        Ok(s) => assert_clean(
            dir.path(),
            Some(s.path.file_name().unwrap().to_str().unwrap()),
        ),
        Err(_) => assert_clean(dir.path(), None),
    }
}

#[test]
fn a_huge_body_is_cut_off_at_the_cap() {
    // A valid header, then endless garbage.
    let srv = FakeServer::start(1, |c| {
        if !c.head("200 OK", "application/octet-stream", None) || !c.send(b"go 1.26 trace\0\0\0") {
            return;
        }
        let zeros = vec![0u8; 64 << 10];
        for _ in 0..1024 {
            if !c.send(&zeros) {
                return;
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let opts = CaptureOptions {
        max_bytes: 256 << 10,
        ..quick_opts()
    };
    let e = run(&srv.url(), dir.path(), &opts).unwrap_err();
    assert!(
        e.to_string().contains("exceeded the cap of 256.0 KiB"),
        "{e}"
    );
    let i = interrupted(e);
    assert_eq!(
        i.cause,
        Cause::TooLarge {
            cap: 256 << 10,
            announced: None
        }
    );
    assert_eq!(i.received_bytes, 256 << 10);
    assert!(i.salvage.is_err());
    assert_clean(dir.path(), None);
}

#[test]
fn an_announced_length_beyond_the_cap_is_refused_before_reading() {
    let srv = FakeServer::start(1, |c| {
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\ngo 1.26 trace\0\0\0");
        c.hold(Duration::from_secs(5));
    });
    let dir = tempfile::tempdir().unwrap();
    let i = interrupted(run(&srv.url(), dir.path(), &quick_opts()).unwrap_err());
    assert_eq!(
        i.cause,
        Cause::TooLarge {
            cap: 4 << 30,
            announced: Some(100_000_000_000)
        }
    );
    assert_clean(dir.path(), None);
}

#[test]
fn a_real_trace_beyond_the_cap_keeps_its_complete_generations() {
    let trace = corpus_bytes("go1.27/long.trace");
    let ends = generation_ends(&trace);
    let cap = ends[1] + 100;
    let srv = FakeServer::serving(trace.clone(), 1);
    let dir = tempfile::tempdir().unwrap();
    let opts = CaptureOptions {
        max_bytes: cap as u64,
        ..quick_opts()
    };
    let i = interrupted(run(&srv.url(), dir.path(), &opts).unwrap_err());
    assert!(
        matches!(
            i.cause,
            Cause::TooLarge {
                announced: Some(_),
                ..
            }
        ),
        "{:?}",
        i.cause
    );

    // Without Content-Length the cap bites while reading.
    let srv = cut_server(trace.clone(), trace.len(), false);
    let i = interrupted(run(&srv.url(), dir.path(), &opts).unwrap_err());
    assert!(
        matches!(
            i.cause,
            Cause::TooLarge {
                announced: None,
                ..
            }
        ),
        "{:?}",
        i.cause
    );
    check_salvage(&trace, &ends, cap, &i, dir.path());
    assert_eq!(i.salvage.unwrap().generations, 2);
}

#[test]
fn cancelling_keeps_what_is_complete_and_returns_promptly() {
    let trace = corpus_bytes("go1.27/long.trace");
    let ends = generation_ends(&trace);
    let cut = (ends[1] + ends[2]) / 2;
    let srv = FakeServer::start(2, move |c| {
        if c.index == 0 && c.head("200 OK", "application/octet-stream", None) {
            c.send(&trace[..cut]);
        }
        c.hold(Duration::from_secs(20));
    });
    let dir = tempfile::tempdir().unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let opts = CaptureOptions {
        cancel: Some(cancel.clone()),
        stall_timeout: Duration::from_secs(20),
        ..quick_opts()
    };
    let setter = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            cancel.store(true, Ordering::Relaxed);
        })
    };
    let t = Instant::now();
    let e = run(&srv.url(), dir.path(), &opts).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(e.is_cancelled(), "{e:?}");
    assert_eq!(interrupted(e).salvage.unwrap().generations, 2);
    assert_clean(dir.path(), Some("out.trace.partial"));
    setter.join().unwrap();

    // Cancelled before any response: nothing at all.
    std::fs::remove_file(dir.path().join("out.trace.partial")).unwrap();
    let t = Instant::now();
    let e = run(&srv.url(), dir.path(), &opts).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(e.is_cancelled() && e.salvage().is_none(), "{e:?}");
    assert_clean(dir.path(), None);
}

#[test]
fn an_unsupported_version_is_saved_with_a_warning() {
    let srv = FakeServer::start(1, |c| {
        c.respond(
            "200 OK",
            "application/octet-stream",
            b"go 1.99 trace\0\0\0\x01\x02\x03",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let rep = run(&srv.url(), dir.path(), &quick_opts()).unwrap();
    assert_eq!(
        (rep.version, rep.header.as_str(), rep.generations),
        (None, "go 1.99 trace", None)
    );
    assert!(rep.warning.unwrap().contains("not supported"));
    assert_eq!(names(dir.path()), ["out.trace"]);
}

#[test]
fn an_existing_file_is_replaced_only_by_a_complete_capture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.trace");
    std::fs::write(&out, b"previous").unwrap();
    let srv = FakeServer::start(1, |c| c.respond("404 Not Found", "text/plain", b"nope"));
    run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    let trace = corpus_bytes("go1.27/cgo.trace");
    let srv = FakeServer::serving(trace.clone(), 1);
    run(&srv.url(), dir.path(), &quick_opts()).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), trace);
    assert_eq!(names(dir.path()), ["out.trace"]);
}

#[test]
fn bad_urls_and_destinations_are_rejected_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let e = run("https://127.0.0.1:1", dir.path(), &quick_opts()).unwrap_err();
    assert!(
        matches!(&e, CaptureError::BadUrl { reason, .. } if reason.contains("TLS")),
        "{e:?}"
    );
    let e = capture(
        "http://127.0.0.1:1",
        ONE_SECOND,
        &dir.path().join("no/such/dir/t"),
        &quick_opts(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(&e, CaptureError::Local { reason, .. } if reason.contains("does not exist")),
        "{e:?}"
    );
    assert_clean(dir.path(), None);
}

#[test]
fn go_1_21_traces_are_captured_whole_but_cannot_be_salvaged() {
    let trace = corpus_bytes("go1.21/long.trace");
    let srv = FakeServer::serving(trace.clone(), 1);
    let dir = tempfile::tempdir().unwrap();
    let rep = run(&srv.url(), dir.path(), &quick_opts()).unwrap();
    assert_eq!(
        (rep.header.as_str(), rep.generations),
        ("go 1.21 trace", Some(1))
    );
    assert_eq!(std::fs::read(dir.path().join("out.trace")).unwrap(), trace);

    let srv = cut_server(trace.clone(), trace.len() / 2, true);
    std::fs::remove_file(dir.path().join("out.trace")).unwrap();
    let e = run(&srv.url(), dir.path(), &quick_opts()).unwrap_err();
    assert!(
        e.to_string().contains("nothing kept") && e.to_string().contains("Go 1.21 and older"),
        "{e}"
    );
    assert_clean(dir.path(), None);
}
