//! # gotrace-analysis
//!
//! The analysis layer: built on the ordered events of the `gotrace` crate,
//! it computes what the reference (`go tool trace`) shows on its pages and
//! writes with `-pprof`, with the same numbers.
//!
//! Each analysis consumes events one at a time (feed it every event of a
//! [`gotrace::Reader`]) and keeps compact per-resource state, never a heap
//! object per event. The goroutine summary and the blocking profiles can
//! also read a whole trace themselves ([`summary::summarize`],
//! [`pprof::BlockingProfiler::read_all`],
//! [`pprof::IntervalProfiler::read_all`]): the reading thread then only
//! turns events into small owned records, and a second thread runs the
//! analysis, with the same results.

#![warn(missing_docs)]

mod feed;
pub mod gc;
pub mod goformat;
pub mod mmu;
pub mod pprof;
pub mod sched;
pub mod stats;
pub mod summary;
