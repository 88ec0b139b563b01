//! Reports: the same snapshot rendered as text (a terminal), JSON (`m365mon.report/1`) or
//! Markdown (a ticket). `check` prints one; the TUI's export writes Markdown and JSON.

use crate::engine::Snapshot;

/// The JSON report (`m365mon.report/1`).
pub fn json(snapshot: &Snapshot) -> serde_json::Value {
    let _ = snapshot;
    serde_json::json!({"schema": "m365mon.report/1"})
}

/// The Markdown report, for pasting into a ticket.
pub fn markdown(snapshot: &Snapshot) -> String {
    let _ = snapshot;
    String::from("# m365mon report\n")
}
