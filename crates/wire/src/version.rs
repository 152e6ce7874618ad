//! The trace header, `go 1.NN trace\0\0\0`, and the format versions it names.

use std::fmt;

/// A trace format version. Several Go releases share a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// Go 1.11–1.18 (v1 format).
    Go111 = 11,
    /// Go 1.19–1.20 (v1 format).
    Go119 = 19,
    /// Go 1.21 (v1 format).
    Go121 = 21,
    /// Go 1.22 (v2 format).
    Go122 = 22,
    /// Go 1.23–1.24: adds coroutine switches, GoStatusStack and experimental batches.
    Go123 = 23,
    /// Go 1.25: sync batches with clock snapshots.
    Go125 = 25,
    /// Go 1.26+: in-band end-of-generation markers.
    Go126 = 26,
}

impl Version {
    /// The version a header's `go 1.NN` names, if we know it.
    pub fn from_minor(minor: u64) -> Option<Version> {
        Some(match minor {
            11 => Version::Go111,
            19 => Version::Go119,
            21 => Version::Go121,
            22 => Version::Go122,
            23 => Version::Go123,
            25 => Version::Go125,
            26 => Version::Go126,
            _ => return None,
        })
    }

    /// The `NN` of `go 1.NN`.
    pub fn minor(self) -> u32 {
        self as u32
    }

    /// Whether this is one of the pre-1.22 formats with global sequencing.
    pub fn is_v1(self) -> bool {
        self <= Version::Go121
    }

    /// How many entries of [`crate::specs`] this version defines (0 for v1).
    pub fn num_specs(self) -> usize {
        use crate::spec::*;
        match self {
            Version::Go111 | Version::Go119 | Version::Go121 => 0,
            Version::Go122 => EV_USER_LOG as usize + 1,
            Version::Go123 => EV_EXPERIMENTAL_BATCH as usize + 1,
            Version::Go125 => EV_CLOCK_SNAPSHOT as usize + 1,
            Version::Go126 => MAX_EXPERIMENTAL_EVENT as usize,
        }
    }

    /// The spec of `typ` in this version, if it defines one.
    pub fn spec(self, typ: u8) -> Option<&'static crate::EventSpec> {
        if (typ as usize) < self.num_specs() {
            crate::spec::spec(typ)
        } else {
            None
        }
    }

    /// The event's name as Go's `Version.EventName` prints it.
    pub fn event_name(self, typ: u8) -> String {
        if self.is_v1() {
            return "<v1 trace event type>".to_string();
        }
        match self.spec(typ) {
            Some(s) => s.name.to_string(),
            None => format!("Invalid({typ})"),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "go 1.{}", self.minor())
    }
}

/// A parsed header: the version and how many bytes it occupied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The version it names.
    pub version: Version,
    /// Its length in bytes.
    pub len: usize,
}

/// Why the header was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Not `go 1.NN trace\0\0\0` at all.
    NotATrace,
    /// Well-formed, but a version we (and the reference) do not read.
    Unsupported(u64),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same wording as the reference, so scripts matching on it keep working.
        match self {
            HeaderError::NotATrace => f.write_str("bad file format: not a Go execution trace?"),
            HeaderError::Unsupported(v) => {
                write!(f, "unknown or unsupported trace version go 1.{v}")
            }
        }
    }
}

impl std::error::Error for HeaderError {}

/// The header prefix common to all versions; used to sniff input.
pub const HEADER_PREFIX: &[u8] = b"go 1.";

/// Parses the header at the start of `buf`.
pub fn read_header(buf: &[u8]) -> Result<Header, HeaderError> {
    let rest = buf
        .strip_prefix(HEADER_PREFIX)
        .ok_or(HeaderError::NotATrace)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return Err(HeaderError::NotATrace);
    }
    let minor: u64 = std::str::from_utf8(&rest[..digits])
        .unwrap()
        .parse()
        .map_err(|_| HeaderError::NotATrace)?;
    let tail = b" trace\0\0\0";
    if !rest[digits..].starts_with(tail) {
        return Err(HeaderError::NotATrace);
    }
    let version = Version::from_minor(minor).ok_or(HeaderError::Unsupported(minor))?;
    Ok(Header {
        version,
        len: HEADER_PREFIX.len() + digits + tail.len(),
    })
}

/// Appends the header for `v`.
pub fn write_header(out: &mut Vec<u8>, v: Version) {
    out.extend_from_slice(format!("go 1.{} trace\0\0\0", v.minor()).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_supported_header() {
        for v in [
            Version::Go111,
            Version::Go119,
            Version::Go121,
            Version::Go122,
            Version::Go123,
            Version::Go125,
            Version::Go126,
        ] {
            let mut b = Vec::new();
            write_header(&mut b, v);
            assert_eq!(
                read_header(&b),
                Ok(Header {
                    version: v,
                    len: 16
                })
            );
        }
    }

    #[test]
    fn rejects_other_input_like_the_reference() {
        assert_eq!(read_header(b"<html>"), Err(HeaderError::NotATrace));
        assert_eq!(read_header(b"go 1.22 trace"), Err(HeaderError::NotATrace));
        assert_eq!(
            read_header(b"go 1.24 trace\0\0\0"),
            Err(HeaderError::Unsupported(24))
        );
        assert_eq!(
            HeaderError::Unsupported(24).to_string(),
            "unknown or unsupported trace version go 1.24"
        );
    }
}
