//! # gotrace-wire
//!
//! The bottom layer of gotrace: the Go execution trace *wire format*,
//! decoded without copying and without interpretation.
//!
//! - [`read_header`] identifies the format [`Version`] from `go 1.NN trace`.
//! - [`read_batch`] / [`Batches`] frame the batches a trace is made of.
//! - [`spec`] describes every event type (Go's `internal/trace/tracev2`).
//! - [`RawReader`] decodes events one by one, as `go tool trace -d=wire` prints them.
//! - [`text`] reads the reference's text format used by Go's conformance tests.
//!
//! Ordering events into a consistent stream is the job of the `gotrace` crate.
//!
//! ```
//! use gotrace_wire::{read_header, Version};
//! let h = read_header(b"go 1.23 trace\0\0\0").unwrap();
//! assert_eq!(h.version, Version::Go123);
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod gostr;
pub mod raw;
pub mod spec;
pub mod text;
pub mod varint;
mod version;

pub use batch::{read_batch, Batch, BatchError, BatchErrorKind, BatchKind, Batches};
pub use raw::{RawError, RawErrorKind, RawEvent, RawReader};
pub use spec::{specs, EventSpec, EventType};
pub use version::{read_header, write_header, Header, HeaderError, Version, HEADER_PREFIX};
