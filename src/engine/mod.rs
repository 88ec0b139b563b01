//! The engine: runs sweeps of every check, keeps history and events, and publishes
//! snapshots to any number of consumers (the TUI, `check`, reports, exporters).
//!
//! ```text
//!   Session (engine::session) --> SweepPlan (engine::plan)
//!   Monitor (scheduler task) --sweep--> route::plan --> probe::sweep + checks::gather
//!        |                                                  --> Vec<CheckResult>
//!        |                                                        |
//!        |<------------------- findings::diagnose ----------------+
//!        v
//!   watch::Sender<Arc<Snapshot>>  ---> TUI / serve / watch (each holds a Receiver)
//!   broadcast::Sender<Event>      ---> event streams
//! ```

pub mod monitor;
pub mod plan;
pub mod session;
pub mod snapshot;

pub use plan::{run_sweep, SweepPlan};
pub use snapshot::{Event, EventKind, HistoryPoint, HostInfo, Snapshot};

use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What a consumer can ask the running monitor to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorCommand {
    /// Start a sweep now instead of waiting for the interval.
    ProbeNow,
    /// Stop (true) or resume (false) the interval sweeps.
    SetPaused(bool),
    /// Add a marker line to the events log.
    Mark(String),
}

/// A consumer's connection to a running monitor: the latest snapshot, and a way to send
/// commands. Cheap to clone; every consumer holds its own.
#[derive(Debug, Clone)]
pub struct MonitorHandle {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub commands: mpsc::UnboundedSender<MonitorCommand>,
}

impl MonitorHandle {
    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshots.borrow().clone()
    }

    /// Sends a command; a stopped monitor ignores it.
    pub fn send(&self, cmd: MonitorCommand) {
        let _ = self.commands.send(cmd);
    }
}
