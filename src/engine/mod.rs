//! The engine: runs sweeps of every check, keeps history and events, and publishes
//! snapshots to any number of consumers (the TUI, `check`, reports, exporters).
//!
//! ```text
//!   Monitor (scheduler task) --sweep--> probe::* + checks  --> Vec<CheckResult>
//!        |                                                        |
//!        |<------------------- findings::diagnose ----------------+
//!        v
//!   watch::Sender<Arc<Snapshot>>  ---> TUI / serve / watch (each holds a Receiver)
//!   broadcast::Sender<Event>      ---> event streams
//! ```

pub mod snapshot;

pub use snapshot::{Event, EventKind, HistoryPoint, HostInfo, Snapshot};
