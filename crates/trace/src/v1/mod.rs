//! Go 1.11–1.21 traces (the v1 formats, headers `go 1.11/1.19/1.21 trace`):
//! parsing, their global ordering, and conversion into the v2 event model,
//! as the reference's `internal/trace/internal/tracev1` and `tracev1.go` do.

use crate::error::{Error, ErrorKind};
use crate::event::{BaseEvent, SchedCtx, Time};
use crate::table::EvTable;
use gotrace_wire::Version;

/// A whole v1 trace, parsed and ordered, yielding converted events.
pub(crate) struct Converter {
    table: EvTable,
}

impl Converter {
    /// Parses the whole trace (v1 traces have no generations to stream by).
    /// `bytes` starts with the header.
    pub fn new(bytes: &[u8], version: Version) -> Result<Converter, Error> {
        let _ = bytes;
        Err(Error::new(
            ErrorKind::Format(format!(
                "{version} traces (Go 1.11–1.21 format) are not supported yet; Go 1.22 or newer is required"
            )),
            Some(0),
        ))
    }

    /// The table the converted events refer to (strings, stacks, frames).
    pub fn table(&self) -> &EvTable {
        &self.table
    }

    /// Time of the first event, if there is one.
    pub fn first_time(&self) -> Option<Time> {
        None
    }

    /// Time of the last event yielded.
    pub fn last_time(&self) -> Time {
        0
    }

    /// The next converted event, `None` at the end.
    pub fn next_event(&mut self) -> Option<Result<(SchedCtx, BaseEvent), Error>> {
        None
    }
}
