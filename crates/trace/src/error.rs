//! Errors. Every error that concerns a place in the input names its byte offset.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The header is missing or names an unsupported version.
    Header(gotrace_wire::HeaderError),
    /// Reading the input failed.
    Io(String),
    /// The input ends before the trace does.
    Truncated(String),
    /// The bytes do not follow the wire format.
    Format(String),
    /// The events cannot be put in any consistent order.
    Order(String),
}

/// A trace reading error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

// Boxed so that `Result<T, Error>` stays small on the per-event path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    offset: Option<u64>,
}

impl Error {
    #[cold]
    pub(crate) fn new(kind: ErrorKind, offset: Option<u64>) -> Self {
        Error(Box::new(Inner { kind, offset }))
    }

    #[cold]
    pub(crate) fn order(msg: impl Into<String>, offset: Option<u64>) -> Self {
        Error::new(ErrorKind::Order(msg.into()), offset)
    }

    pub(crate) fn from_batch(e: gotrace_wire::BatchError, base: u64) -> Self {
        let offset = base + e.offset as u64;
        let e = gotrace_wire::BatchError {
            offset: offset as usize,
            ..e
        };
        let kind = if e.is_truncation() {
            ErrorKind::Truncated(format!("trace truncated: {e}"))
        } else {
            ErrorKind::Format(e.to_string())
        };
        Error::new(kind, Some(offset))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Byte offset in the input the error concerns, if it concerns one.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// Whether the input simply ended too soon (the rest may be salvaged).
    pub fn is_truncation(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Truncated(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match &self.0.kind {
            ErrorKind::Header(h) => return write!(f, "{h}"),
            ErrorKind::Io(m) => return write!(f, "reading trace: {m}"),
            ErrorKind::Truncated(m) | ErrorKind::Format(m) | ErrorKind::Order(m) => m,
        };
        f.write_str(msg)?;
        match self.0.offset {
            Some(o) if !msg.contains("byte offset") => write!(f, " (at byte offset {o})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

impl From<gotrace_wire::HeaderError> for Error {
    fn from(h: gotrace_wire::HeaderError) -> Self {
        Error::new(ErrorKind::Header(h), Some(0))
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
