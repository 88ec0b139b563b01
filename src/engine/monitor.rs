//! The scheduler: sweeps on an interval (and on demand), folds each sweep into the
//! running state (history, "since", events, findings) and publishes a new snapshot.
//!
//! A sweep runs as its own task, so commands (pause, mark, probe now) are handled while it
//! is under way: a consumer never waits on the network.

use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::plan::{run_sweep, SweepPlan};
use super::snapshot::{Event, EventKind, HistoryPoint, HostInfo, Snapshot, EVENTS_LEN, HISTORY_LEN};
use super::{MonitorCommand, MonitorHandle};
use crate::diagnosis::findings;
use crate::model::{CheckResult, Status};

/// The running state; turns sweeps into snapshots.
#[derive(Debug, Default)]
pub struct State {
    pub snapshot: Snapshot,
}

impl State {
    pub fn new(host: HostInfo, interval: Duration) -> Self {
        let snapshot = Snapshot {
            host,
            interval_secs: interval.as_secs_f64(),
            ..Default::default()
        };
        Self { snapshot }
    }

    fn push_event(&mut self, e: Event) {
        // Every event also goes to the log file (`--log-file`), when there is one.
        tracing::info!(
            check = e.check.as_deref().unwrap_or("-"),
            from = e.from.map(|s| s.to_string()).unwrap_or_default(),
            to = e.to.map(|s| s.to_string()).unwrap_or_default(),
            "{}",
            e.text
        );
        self.snapshot.events.push_back(e);
        while self.snapshot.events.len() > EVENTS_LEN {
            self.snapshot.events.pop_front();
        }
    }

    /// Adds an informational or marker line.
    pub fn note(&mut self, kind: EventKind, text: impl Into<String>) {
        self.push_event(Event {
            at: Utc::now(),
            kind,
            check: None,
            from: None,
            to: None,
            text: text.into(),
        });
    }

    /// Folds one sweep in: history, status changes (as events), findings.
    pub fn apply(&mut self, checks: Vec<CheckResult>, sweep_ms: f64) {
        let now = Utc::now();
        let first = self.snapshot.sweeps == 0;
        let mut changes = Vec::new();
        for c in &checks {
            let previous = self
                .snapshot
                .checks
                .iter()
                .find(|p| p.id == c.id)
                .map(|p| p.status);
            let hist = self.snapshot.history.entry(c.id.clone()).or_default();
            hist.push_back(HistoryPoint {
                status: c.status,
                ms: c.duration_ms,
            });
            while hist.len() > HISTORY_LEN {
                hist.pop_front();
            }
            if previous != Some(c.status) {
                self.snapshot.since.insert(c.id.clone(), now);
                // On the first sweep only what is not passing is news.
                if !first || !matches!(c.status, Status::Pass | Status::Skip) {
                    let text = if c.status == Status::Pass && previous.is_some() {
                        format!("recovered: {}", c.summary)
                    } else {
                        c.summary.clone()
                    };
                    changes.push(Event {
                        at: now,
                        kind: EventKind::Change,
                        check: Some(c.id.clone()),
                        from: previous,
                        to: Some(c.status),
                        text,
                    });
                }
            }
        }
        if first {
            let count = |s| checks.iter().filter(|c| c.status == s).count();
            self.note(
                EventKind::Info,
                format!(
                    "first sweep: {} pass, {} warn, {} fail, {} skip in {:.0} ms",
                    count(Status::Pass),
                    count(Status::Warn),
                    count(Status::Fail),
                    count(Status::Skip),
                    sweep_ms
                ),
            );
        }
        for e in changes {
            self.push_event(e);
        }
        self.snapshot.findings = findings::diagnose(&checks);
        tracing::debug!(
            sweep = self.snapshot.sweeps + 1,
            ms = sweep_ms.round(),
            checks = checks.len(),
            failing = checks.iter().filter(|c| c.status == Status::Fail).count(),
            findings = self.snapshot.findings.len(),
            "sweep"
        );
        self.snapshot.checks = checks;
        self.snapshot.sweeps += 1;
        self.snapshot.last_sweep_at = Some(now);
        self.snapshot.sweep_ms = sweep_ms;
    }
}

/// A running monitor: the handle consumers use, and the scheduler task.
pub struct Monitor {
    pub handle: MonitorHandle,
    pub task: JoinHandle<()>,
}

/// Starts sweeping at once and then every `interval`, until every handle is dropped.
pub fn start(plan: SweepPlan, host: HostInfo, interval: Duration) -> Monitor {
    let state = State::new(host, interval);
    let (snap_tx, snap_rx) = watch::channel(Arc::new(state.snapshot.clone()));
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(plan, state, interval, snap_tx, cmd_rx));
    Monitor {
        handle: MonitorHandle {
            snapshots: snap_rx,
            commands: cmd_tx,
        },
        task,
    }
}

async fn run(
    plan: SweepPlan,
    mut state: State,
    interval: Duration,
    snap_tx: watch::Sender<Arc<Snapshot>>,
    mut cmd_rx: mpsc::UnboundedReceiver<MonitorCommand>,
) {
    let plan = Arc::new(plan);
    let mut running: Option<JoinHandle<(Vec<CheckResult>, f64)>> = None;
    let mut again = true; // a sweep is due
    let mut next = tokio::time::Instant::now();
    let publish = |state: &State, tx: &watch::Sender<Arc<Snapshot>>| {
        let _ = tx.send(Arc::new(state.snapshot.clone()));
    };
    state.note(EventKind::Info, "monitoring started");
    loop {
        if running.is_none() && again && !state.snapshot.paused {
            again = false;
            let plan = plan.clone();
            running = Some(tokio::spawn(async move { run_sweep(&plan).await }));
            state.snapshot.sweeping = true;
            publish(&state, &snap_tx);
        }
        tokio::select! {
            done = async { running.as_mut().expect("guarded").await }, if running.is_some() => {
                running = None;
                state.snapshot.sweeping = false;
                if let Ok((checks, sweep_ms)) = done {
                    state.apply(checks, sweep_ms);
                }
                next = tokio::time::Instant::now() + interval;
                publish(&state, &snap_tx);
            }
            _ = tokio::time::sleep_until(next), if running.is_none() && !again => {
                again = true;
            }
            cmd = cmd_rx.recv() => {
                match cmd {
                    None => break,
                    Some(MonitorCommand::ProbeNow) => {
                        // On request a sweep runs even while paused; if one is under way,
                        // another follows it.
                        if running.is_none() {
                            let plan = plan.clone();
                            running = Some(tokio::spawn(async move { run_sweep(&plan).await }));
                            state.snapshot.sweeping = true;
                        } else {
                            again = true;
                        }
                    }
                    Some(MonitorCommand::SetPaused(p)) => {
                        if state.snapshot.paused != p {
                            state.snapshot.paused = p;
                            state.note(EventKind::Info, if p { "paused" } else { "resumed" });
                            if !p {
                                again = true;
                            }
                        }
                    }
                    Some(MonitorCommand::Mark(text)) => state.note(EventKind::Marker, text),
                }
                publish(&state, &snap_tx);
            }
        }
    }
    if let Some(t) = running {
        t.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CheckKind;

    fn check(id: &str, status: Status) -> CheckResult {
        CheckResult::simple(id, CheckKind::Endpoint, id, status, format!("{id} is {status}"))
    }

    #[test]
    fn changes_become_events_and_history() {
        let mut s = State::new(HostInfo::default(), Duration::from_secs(5));
        s.apply(
            vec![
                check("endpoint:a", Status::Pass),
                check("endpoint:b", Status::Fail),
            ],
            10.0,
        );
        // first sweep: summary + only the failing one
        let changes: Vec<_> = s
            .snapshot
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Change)
            .collect();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].check.as_deref(), Some("endpoint:b"));
        s.apply(
            vec![
                check("endpoint:a", Status::Fail),
                check("endpoint:b", Status::Fail),
            ],
            10.0,
        );
        let last = s.snapshot.events.back().unwrap();
        assert_eq!(last.check.as_deref(), Some("endpoint:a"));
        assert_eq!((last.from, last.to), (Some(Status::Pass), Some(Status::Fail)));
        assert_eq!(s.snapshot.history["endpoint:a"].len(), 2);
        assert_eq!(s.snapshot.sweeps, 2);
        s.apply(
            vec![
                check("endpoint:a", Status::Pass),
                check("endpoint:b", Status::Fail),
            ],
            10.0,
        );
        assert!(s.snapshot.events.back().unwrap().text.starts_with("recovered"));
    }

    #[test]
    fn history_is_bounded() {
        let mut s = State::new(HostInfo::default(), Duration::from_secs(5));
        for _ in 0..(HISTORY_LEN + 10) {
            s.apply(vec![check("endpoint:a", Status::Pass)], 1.0);
        }
        assert_eq!(s.snapshot.history["endpoint:a"].len(), HISTORY_LEN);
    }
}
