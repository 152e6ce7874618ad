//! Per-goroutine, per-task and per-region time statistics (the reference's
//! `internal/trace` Summarizer), behind the /goroutines, /usertasks and
//! /userregions pages.
