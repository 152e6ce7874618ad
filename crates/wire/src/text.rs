//! The reference's text format for traces (`Trace Go1.22` followed by one
//! event per line), used by Go's conformance tests in `testdata/tests/*.test`.
//! We read it and re-encode it to the wire format.

use crate::gostr;
use crate::spec::*;
use crate::varint::put_uvarint;
use crate::Version;

/// An owned raw event parsed from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEvent {
    /// The event type byte.
    pub typ: EventType,
    /// The arguments, stack frames included.
    pub args: Vec<u64>,
    /// The data trailer, for events that have one.
    pub data: Option<Vec<u8>>,
}

/// A parsed text trace.
#[derive(Debug, Clone)]
pub struct TextTrace {
    /// The version from the `Trace Go1.NN` header.
    pub version: Version,
    /// The events in order.
    pub events: Vec<TextEvent>,
}

/// A text-format error with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

impl std::error::Error for TextError {}

/// Splits off the next whitespace-separated token; `#` starts a comment.
fn token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    if s.starts_with('#') {
        return ("", "");
    }
    let end = s
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn parse_args(mut s: &str, names: &[&str]) -> Result<Vec<u64>, String> {
    let mut args = Vec::with_capacity(names.len());
    for name in names {
        let (tok, rest) = token(s);
        if tok.is_empty() {
            return Err("no argument".into());
        }
        let (k, v) = tok
            .split_once('=')
            .ok_or_else(|| format!("malformed argument: {tok:?}"))?;
        if k != *name {
            return Err(format!("expected argument {name:?}, but got {k:?}"));
        }
        let v: u64 = v
            .parse()
            .map_err(|_| format!("failed to parse argument value {v:?} for arg {k:?}"))?;
        args.push(v);
        s = rest;
    }
    if !s.trim().is_empty() && !s.trim_start().starts_with('#') {
        return Err(format!(
            "encountered unexpected non-space at the end of an event: {s:?}"
        ));
    }
    Ok(args)
}

/// Parses a text trace.
pub fn parse(text: &str) -> Result<TextTrace, TextError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !token(l).0.is_empty());
    let err = |line: usize, msg: String| TextError {
        line: line + 1,
        msg,
    };
    let (hl, header) = lines.next().ok_or_else(|| err(0, "empty trace".into()))?;
    let (t, rest) = token(header);
    if t != "Trace" {
        return Err(err(hl, "failed to parse header".into()));
    }
    let (gover, rest) = token(rest);
    let minor = gover
        .strip_prefix("Go1.")
        .ok_or_else(|| err(hl, "failed to parse header Go version".into()))?;
    let minor: u64 = minor
        .parse()
        .map_err(|_| err(hl, "failed to parse header Go version".into()))?;
    let version = Version::from_minor(minor)
        .ok_or_else(|| err(hl, format!("unknown or unsupported Go version 1.{minor}")))?;
    if !rest.trim().is_empty() {
        return Err(err(
            hl,
            format!("encountered unexpected non-space at the end of the header: {rest:?}"),
        ));
    }
    let mut events = Vec::new();
    while let Some((ln, line)) = lines.next() {
        let (name, rest) = token(line);
        let typ = (0..version.num_specs() as u8)
            .find(|&t| version.spec(t).is_some_and(|s| s.name == name))
            .ok_or_else(|| err(ln, format!("unidentified event: {name}")))?;
        let spec = version.spec(typ).unwrap();
        let mut args = parse_args(rest, spec.args)
            .map_err(|m| err(ln, format!("reading args for {name}: {m}")))?;
        if spec.is_stack {
            for _ in 0..args[1] {
                let (fl, frame) = lines
                    .next()
                    .ok_or_else(|| err(ln, "unexpected EOF while reading stack".into()))?;
                args.extend(
                    parse_args(frame, &["pc", "func", "file", "line"]).map_err(|m| err(fl, m))?,
                );
            }
        }
        let mut data = None;
        if spec.has_data {
            let (dl, dline) = lines
                .next()
                .ok_or_else(|| err(ln, format!("unexpected EOF while reading data for {name}")))?;
            let (k, v) = dline
                .split_once('=')
                .ok_or_else(|| err(dl, format!("malformed data: {dline:?}")))?;
            if k.trim() != "data" {
                return Err(err(dl, format!("malformed data: {dline:?}")));
            }
            data = Some(
                gostr::unquote(v.trim())
                    .map_err(|e| err(dl, format!("failed to parse data: {dline:?}: {e}")))?,
            );
        }
        events.push(TextEvent { typ, args, data });
    }
    Ok(TextTrace { version, events })
}

impl TextTrace {
    /// Encodes the trace in the wire format, header included. Sizes in
    /// EventBatch headers are written as given, as the reference does.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        crate::write_header(&mut out, self.version);
        for ev in &self.events {
            out.push(ev.typ);
            for &a in &ev.args {
                put_uvarint(&mut out, a);
            }
            if crate::spec::spec(ev.typ).is_some_and(|s| s.has_data) {
                let d = ev.data.as_deref().unwrap_or(&[]);
                put_uvarint(&mut out, d.len() as u64);
                out.extend_from_slice(d);
            }
        }
        out
    }
}

/// A Go conformance test file: a txtar archive with an `expect` and a `trace`.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// `None` for SUCCESS; the error regexp for FAILURE.
    pub expect_failure: Option<String>,
    /// The trace.
    pub trace: TextTrace,
}

/// Parses a `testdata/tests/*.test` file.
pub fn parse_test_case(src: &str) -> Result<TestCase, String> {
    let mut files: Vec<(&str, String)> = Vec::new();
    for line in src.split_inclusive('\n') {
        let t = line.trim_end_matches(['\n', '\r']);
        if let Some(name) = t.strip_prefix("-- ").and_then(|r| r.strip_suffix(" --")) {
            files.push((name.trim(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
    }
    let [(en, expect), (tn, trace)] = files.as_slice() else {
        return Err("malformed test: wrong number of files".into());
    };
    if *en != "expect" || *tn != "trace" {
        return Err(format!("malformed test: bad file names {en}, {tn}"));
    }
    let first = expect.lines().next().unwrap_or("");
    let expect_failure = match first.split_once(' ') {
        None if first == "SUCCESS" => None,
        Some(("SUCCESS", _)) => None,
        Some(("FAILURE", pat)) => {
            Some(String::from_utf8(gostr::unquote(pat)?).map_err(|e| e.to_string())?)
        }
        _ => return Err(format!("bad header line: {first:?}")),
    };
    let trace = parse(trace).map_err(|e| e.to_string())?;
    Ok(TestCase {
        expect_failure,
        trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "-- expect --\nSUCCESS\n-- trace --\nTrace Go1.22\n\
EventBatch gen=1 m=18446744073709551615 time=0 size=5\nFrequency freq=15625000\n\
EventBatch gen=1 m=18446744073709551615 time=0 size=12\nStrings\nString id=1\n\tdata=\"hello\\x00\"\n\
EventBatch gen=1 m=18446744073709551615 time=0 size=1\nStacks # trailing comment\n";

    #[test]
    fn parses_a_conformance_case_and_encodes_it() {
        let tc = parse_test_case(CASE).unwrap();
        assert_eq!(tc.expect_failure, None);
        assert_eq!(tc.trace.version, Version::Go122);
        assert_eq!(tc.trace.events.len(), 7);
        assert_eq!(tc.trace.events[4].data.as_deref(), Some(&b"hello\x00"[..]));
        let wire = tc.trace.to_wire();
        let mut r = crate::RawReader::new(&wire).unwrap();
        let mut names = Vec::new();
        while let Some(ev) = r.next().unwrap() {
            names.push(ev.spec().name);
        }
        assert_eq!(
            names,
            [
                "EventBatch",
                "Frequency",
                "EventBatch",
                "Strings",
                "String",
                "EventBatch",
                "Stacks"
            ]
        );
    }

    #[test]
    fn failure_expectations_carry_their_pattern() {
        let src = CASE.replace("SUCCESS", "FAILURE \"expected a proc\"");
        assert_eq!(
            parse_test_case(&src).unwrap().expect_failure.as_deref(),
            Some("expected a proc")
        );
    }

    #[test]
    fn wrong_argument_names_are_rejected() {
        let e = parse("Trace Go1.22\nProcStart dt=1 q=2 p_seq=1\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("expected argument \"p\""), "{}", e.msg);
    }
}
