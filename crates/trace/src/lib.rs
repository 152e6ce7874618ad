//! # gotrace
//!
//! Reads Go execution traces and yields their events in one consistent
//! order, with the same semantics as Go's reference parser
//! (`internal/trace`, printed by `go tool trace -d=parsed`).
//!
//! ```no_run
//! use gotrace::{EventKind, Reader};
//!
//! let mut r = Reader::open("trace.out")?;
//! let mut transitions = 0;
//! while let Some(ev) = r.read_event()? {
//!     if ev.kind() == EventKind::StateTransition {
//!         transitions += 1;
//!     }
//! }
//! println!("{transitions} state transitions");
//! # Ok::<(), gotrace::Error>(())
//! ```
//!
//! Layers: [`gotrace_wire`] frames and decodes bytes; this crate splits the
//! trace into generations (decoded ahead on a helper thread), orders each
//! generation's per-thread batches by emulating the scheduler, and exposes
//! the [`Event`] model.

#![warn(missing_docs)]

mod display;
mod error;
mod event;
mod generation;
pub mod gosort;
mod idmap;
mod order;
mod reader;
mod source;
mod table;
mod v1;

pub use display::GoStringWriter;
pub use error::{Error, ErrorKind, Result};
pub use event::*;
pub use gotrace_wire::Version;
pub use reader::{open, GenerationInfo, Options, Reader};
pub use table::ClockSnapshot;
