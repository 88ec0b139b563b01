//! The state a consumer draws: one immutable snapshot per change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

use crate::diagnosis::findings::Finding;
use crate::model::{CheckResult, PrivateName, Status};

/// How many past results each check keeps for sparklines and flapping.
pub const HISTORY_LEN: usize = 60;
/// How many events the snapshot keeps.
pub const EVENTS_LEN: usize = 500;

/// Facts about the machine shown in the header.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostInfo {
    pub hostname: String,
    /// Signed-in user, where known.
    pub user: Option<String>,
    pub os: String,
    /// Cloud instance (`worldwide`, ...).
    pub instance: String,
    /// `lab: <scenario>` when monitoring the lab, so nobody mistakes it for the real thing.
    pub lab: Option<String>,
    /// The names of this machine and of what the user asked for (host, user, tenant
    /// domain, proxy, PAC host, DNS server) that `--redact` hides. The checks add the ones
    /// they read ([`CheckResult::private`]); [`Snapshot::private_names`] has them all.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub private: Vec<PrivateName>,
}

/// One past result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub status: Status,
    pub ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A check changed status.
    Change,
    /// The user added a marker ("rule 42 applied").
    Marker,
    /// Monitoring itself: started, paused, resumed.
    Info,
}

/// A line of the events log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// The check, for a change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Status>,
    /// "TCP timed out", or the marker text.
    pub text: String,
}

/// Everything a consumer needs to draw, at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub host: HostInfo,
    /// Number of sweeps finished; 0 until the first one ends.
    pub sweeps: u64,
    pub last_sweep_at: Option<DateTime<Utc>>,
    pub sweep_ms: f64,
    /// True while a sweep is under way.
    pub sweeping: bool,
    pub paused: bool,
    pub interval_secs: f64,
    pub checks: Vec<CheckResult>,
    /// Ranked, most important first.
    pub findings: Vec<Finding>,
    /// Per check id: oldest first.
    pub history: BTreeMap<String, VecDeque<HistoryPoint>>,
    /// Per check id: when its current status began.
    pub since: BTreeMap<String, DateTime<Utc>>,
    /// Oldest first.
    pub events: VecDeque<Event>,
}

impl Snapshot {
    /// The overall light: worst check status (pass before the first sweep ends).
    pub fn status(&self) -> Status {
        Status::overall(self.checks.iter().map(|c| c.status))
    }

    /// Every private name this snapshot knows of: the session's and the checks', each once.
    pub fn private_names(&self) -> Vec<PrivateName> {
        let mut all: Vec<PrivateName> = self.host.private.clone();
        all.extend(self.checks.iter().flat_map(|c| c.private.iter().cloned()));
        all.sort();
        all.dedup();
        all
    }

    /// The finding that explains a check, if any.
    pub fn finding_for(&self, check_id: &str) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| f.checks.iter().any(|c| c == check_id))
    }
}
