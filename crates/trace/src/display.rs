//! The reference's text form of an event (`Event.String` in Go's
//! `internal/trace`), which `go tool trace -d=parsed` prints. Byte-exact.

use crate::event::*;
use gotrace_wire::gostr::quote_into;
use std::io::Write;

/// Writes events in the reference's text form, remembering each stack's
/// text within a generation: stacks repeat, and printing them dominates.
#[derive(Default)]
pub struct GoStringWriter {
    stacks: rustc_hash::FxHashMap<u64, (usize, usize)>,
    text: Vec<u8>,
}

impl GoStringWriter {
    /// A writer with an empty stack cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `ev` in the reference's text form, without a trailing newline.
    pub fn write(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        if ev.kind() == EventKind::Sync {
            // Stack IDs are per generation, and a Sync starts a new one.
            self.stacks.clear();
            self.text.clear();
        }
        ev.write_with(out, &mut |out: &mut Vec<u8>, s: &Stack<'_>| {
            let (start, len) = *self.stacks.entry(s.id()).or_insert_with(|| {
                let start = self.text.len();
                write_stack(&mut self.text, s);
                (start, self.text.len() - start)
            });
            out.extend_from_slice(&self.text[start..start + len]);
        });
    }
}

/// Appends the decimal form of `v`.
#[inline]
fn push_int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

#[inline]
fn push_uint(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

impl Event<'_> {
    /// The event in the reference's text form, without a trailing newline.
    pub fn to_go_string(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.write_go_string(&mut out);
        out
    }

    /// Appends the event in the reference's text form, without a trailing newline.
    pub fn write_go_string(&self, out: &mut Vec<u8>) {
        self.write_with(out, &mut |out: &mut Vec<u8>, s: &Stack<'_>| {
            write_stack(out, s)
        });
    }

    fn write_with(&self, out: &mut Vec<u8>, stack: &mut dyn FnMut(&mut Vec<u8>, &Stack<'_>)) {
        let kind = self.kind();
        out.extend_from_slice(b"M=");
        push_int(out, self.thread());
        out.extend_from_slice(b" P=");
        push_int(out, self.proc());
        out.extend_from_slice(b" G=");
        push_int(out, self.goroutine());
        out.push(b' ');
        out.extend_from_slice(kind.name().as_bytes());
        out.extend_from_slice(b" Time=");
        push_int(out, self.time());
        match kind {
            EventKind::Metric => {
                let m = self.metric().expect("metric");
                out.extend_from_slice(b" Name=");
                quote_into(out, m.name.as_bytes());
                out.extend_from_slice(b" Value=Value{Uint64(");
                push_uint(out, m.value);
                out.extend_from_slice(b")}");
            }
            EventKind::Label => {
                let l = self.label().expect("label");
                out.extend_from_slice(b" Label=");
                quote_into(out, l.label);
                let _ = write!(out, " Resource={}", l.resource);
            }
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                let r = self.range().expect("range");
                out.extend_from_slice(b" Name=");
                quote_into(out, &r.name.to_bytes());
                let _ = write!(out, " Scope={}", r.scope);
                if kind == EventKind::RangeEnd {
                    out.extend_from_slice(b" Attributes=[");
                    for (i, (name, v)) in self.range_attributes().into_iter().enumerate() {
                        if i != 0 {
                            out.push(b' ');
                        }
                        quote_into(out, name.as_bytes());
                        let _ = write!(out, "=Value{{Uint64({v})}}");
                    }
                    out.push(b']');
                }
            }
            EventKind::TaskBegin | EventKind::TaskEnd => {
                let t = self.task().expect("task");
                out.extend_from_slice(b" ID=");
                push_uint(out, t.id);
                out.extend_from_slice(b" Parent=");
                push_uint(out, t.parent);
                out.extend_from_slice(b" Type=");
                quote_into(out, t.typ);
            }
            EventKind::RegionBegin | EventKind::RegionEnd => {
                let r = self.region().expect("region");
                out.extend_from_slice(b" Task=");
                push_uint(out, r.task);
                out.extend_from_slice(b" Type=");
                quote_into(out, r.typ);
            }
            EventKind::Log => {
                let l = self.log().expect("log");
                out.extend_from_slice(b" Task=");
                push_uint(out, l.task);
                out.extend_from_slice(b" Category=");
                quote_into(out, l.category);
                out.extend_from_slice(b" Message=");
                quote_into(out, l.message);
            }
            EventKind::StateTransition => {
                let s = self.state_transition().expect("transition");
                match s.resource.kind {
                    ResourceKind::Goroutine => {
                        let (from, to) = s.goroutine();
                        out.extend_from_slice(b" GoID=");
                        push_int(out, s.resource.id);
                        out.push(b' ');
                        out.extend_from_slice(from.name().as_bytes());
                        out.extend_from_slice(b"->");
                        out.extend_from_slice(to.name().as_bytes());
                    }
                    ResourceKind::Proc => {
                        let (from, to) = s.proc();
                        out.extend_from_slice(b" ProcID=");
                        push_int(out, s.resource.id);
                        out.push(b' ');
                        out.extend_from_slice(from.name().as_bytes());
                        out.extend_from_slice(b"->");
                        out.extend_from_slice(to.name().as_bytes());
                    }
                    _ => {}
                }
                out.extend_from_slice(b" Reason=");
                quote_into(out, s.reason);
                if s.stack.is_present() {
                    out.extend_from_slice(b"\nTransitionStack=\n");
                    stack(out, &s.stack);
                }
            }
            EventKind::Experimental => {
                let x = self.experimental().expect("experimental");
                let _ = write!(out, " Name={} Args=[", x.name);
                for (i, a) in x.args.iter().enumerate() {
                    if i != 0 {
                        out.extend_from_slice(b", ");
                    }
                    let _ = write!(out, "{a}=");
                    match x.arg_value(i) {
                        Value::Uint64(v) => {
                            let _ = write!(out, "Value{{Uint64({v})}}");
                        }
                        Value::String(s) => out.extend_from_slice(s),
                    }
                }
                out.push(b']');
            }
            EventKind::Sync => {
                let s = self.sync().expect("sync");
                let _ = write!(out, " N={}", s.n);
                if let Some(c) = s.clock_snapshot {
                    let _ = write!(out, " Trace={} Mono={} Wall=", c.trace, c.mono);
                    out.extend_from_slice(rfc3339_nano_local(c.wall_sec, c.wall_nsec).as_bytes());
                }
            }
            EventKind::StackSample | EventKind::Bad => {}
        }
        let stk = self.stack();
        if stk.is_present() {
            out.extend_from_slice(b"\nStack=\n");
            stack(out, &stk);
        }
    }
}

fn write_stack(out: &mut Vec<u8>, s: &Stack<'_>) {
    for f in s.frames() {
        out.push(b'\t');
        out.extend_from_slice(f.func);
        let _ = writeln!(out, " @ {:#x}", f.pc);
        out.extend_from_slice(b"\t\t");
        out.extend_from_slice(f.file);
        out.push(b':');
        push_uint(out, f.line);
        out.push(b'\n');
    }
}

/// Go's `time.Unix(sec, nsec).Format(time.RFC3339Nano)` in the local zone:
/// trailing zeros of the fraction are dropped, UTC is written `Z`.
pub(crate) fn rfc3339_nano_local(sec: i64, nsec: i64) -> String {
    use chrono::{Datelike, Local, Offset, TimeZone, Timelike};
    let (sec, nsec) = (
        sec + nsec.div_euclid(1_000_000_000),
        nsec.rem_euclid(1_000_000_000),
    );
    let Some(dt) = Local.timestamp_opt(sec, nsec as u32).single() else {
        return format!("{sec}.{nsec:09}");
    };
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if nsec != 0 {
        let frac = format!("{nsec:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let off = dt.offset().fix().local_minus_utc();
    if off == 0 {
        s.push('Z');
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        s.push_str(&format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60));
    }
    s
}
