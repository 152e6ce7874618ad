//! # gotrace-analysis
//!
//! The analysis layer: built on the ordered events of the `gotrace` crate,
//! it computes what the reference (`go tool trace`) shows on its pages and
//! writes with `-pprof`, with the same numbers.
//!
//! Each analysis consumes events one at a time (feed it every event of a
//! [`gotrace::Reader`]) and keeps compact per-resource state, never a heap
//! object per event.

#![warn(missing_docs)]

pub mod format;
pub mod gc;
pub mod goformat;
pub mod mmu;
pub mod pprof;
pub mod sched;
pub mod summary;
