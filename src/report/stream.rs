//! `m365mon watch`: the monitor as a stream of lines, for scripts, log shippers and CI.
//!
//! One line per finished sweep and one per event (status change, marker, monitoring
//! note), each flushed as it is written so a consumer reading line by line sees it at
//! once. JSON Lines (`--jsonl`, schema `m365mon.jsonl/1`, documented in docs/jsonl.md) for
//! machines, or plain text for people tailing a log.
//!
//! Like the TUI, this only consumes snapshots: it derives "what is new" by comparing each
//! snapshot with the one before.

use chrono::{DateTime, Local, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::future::Future;
use std::io::{self, Write};

use crate::engine::{Event, EventKind, MonitorHandle, Snapshot};

/// Schema name of the JSON Lines stream; bump on incompatible change.
pub const SCHEMA: &str = "m365mon.jsonl/1";

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// One human-readable line per item, local time first.
    Text,
}

/// Something worth a line.
#[derive(Debug, Clone)]
pub enum Item {
    /// The stream begins (once).
    Start { at: DateTime<Utc>, snapshot: Snapshot },
    /// An event of the monitor's log.
    Event(Event),
    /// A sweep finished; the snapshot holds its results.
    Sweep(Snapshot),
}

/// Remembers what was already written, so each snapshot yields only what is new.
#[derive(Debug, Default)]
pub struct Tracker {
    started: bool,
    sweeps: u64,
    events_len: usize,
    last_event: Option<Event>,
}

impl Tracker {
    /// What `snapshot` adds to what was seen: events in order, then the sweep.
    pub fn items(&mut self, snapshot: &Snapshot) -> Vec<Item> {
        let mut items = Vec::new();
        if !self.started {
            self.started = true;
            items.push(Item::Start {
                at: Utc::now(),
                snapshot: snapshot.clone(),
            });
        }
        let events = &snapshot.events;
        // Events are kept in a bounded queue: normally the last one seen sits at the same
        // index; once the queue is full it has moved towards the front.
        let new_from = match &self.last_event {
            None => 0,
            Some(last)
                if self.events_len <= events.len()
                    && self.events_len.checked_sub(1).and_then(|i| events.get(i)) == Some(last) =>
            {
                self.events_len
            }
            Some(last) => events.iter().rposition(|e| e == last).map_or(0, |i| i + 1),
        };
        items.extend(events.iter().skip(new_from).cloned().map(Item::Event));
        self.events_len = events.len();
        self.last_event = events.back().cloned().or(self.last_event.take());
        if snapshot.sweeps > self.sweeps {
            self.sweeps = snapshot.sweeps;
            items.push(Item::Sweep(snapshot.clone()));
        }
        items
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The JSON object of an item (see docs/jsonl.md).
pub fn to_json(item: &Item) -> Value {
    match item {
        Item::Start { at, snapshot } => json!({
            "type": "start",
            "schema": SCHEMA,
            "at": rfc3339(*at),
            "version": crate::version(),
            "host": snapshot.host,
            "interval_secs": snapshot.interval_secs,
        }),
        Item::Event(e) => match e.kind {
            EventKind::Change => json!({
                "type": "change",
                "at": rfc3339(e.at),
                "check": e.check,
                "from": e.from,
                "to": e.to,
                "text": e.text,
            }),
            EventKind::Marker => json!({ "type": "marker", "at": rfc3339(e.at), "text": e.text }),
            EventKind::Info => json!({ "type": "info", "at": rfc3339(e.at), "text": e.text }),
        },
        Item::Sweep(s) => json!({
            "type": "sweep",
            "at": s.last_sweep_at.map(rfc3339),
            "sweep": s.sweeps,
            "status": s.status(),
            "sweep_ms": s.sweep_ms,
            "checks": s.checks.iter().map(|c| json!({
                "id": c.id,
                "status": c.status,
                "cause": c.cause,
                "duration_ms": c.duration_ms,
            })).collect::<Vec<_>>(),
            "findings": s.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        }),
    }
}

/// The text line of an item.
pub fn to_text(item: &Item) -> String {
    let local = |at: DateTime<Utc>| at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string();
    match item {
        Item::Start { at, snapshot } => {
            let lab = snapshot
                .host
                .lab
                .as_deref()
                .map(|l| format!(" (lab: {l})"))
                .unwrap_or_default();
            format!(
                "{} start  m365mon {} watching {}{lab}, every {} s",
                local(*at),
                crate::version(),
                snapshot.host.hostname,
                snapshot.interval_secs
            )
        }
        Item::Event(e) => {
            let what = match (&e.check, e.from, e.to) {
                (Some(c), Some(f), Some(t)) => format!("change {c} {f} -> {t}: {}", e.text),
                (Some(c), None, Some(t)) => format!("change {c} {t}: {}", e.text),
                _ if e.kind == EventKind::Marker => format!("marker {}", e.text),
                _ => format!("info   {}", e.text),
            };
            format!("{} {}", local(e.at), what.replace('\n', " "))
        }
        Item::Sweep(s) => {
            let count = |st| s.checks.iter().filter(|c| c.status == st).count();
            use crate::model::Status::*;
            let findings: Vec<&str> = s.findings.iter().map(|f| f.id.as_str()).collect();
            let findings = if findings.is_empty() {
                String::new()
            } else {
                format!("; findings: {}", findings.join(", "))
            };
            format!(
                "{} sweep  #{} {}: {} pass, {} warn, {} fail, {} skip in {:.0} ms{findings}",
                local(s.last_sweep_at.unwrap_or_else(Utc::now)),
                s.sweeps,
                s.status(),
                count(Pass),
                count(Warn),
                count(Fail),
                count(Skip),
                s.sweep_ms
            )
        }
    }
}

/// Writes lines for every new sweep and event until `shutdown` completes or the monitor
/// stops. A consumer that goes away (a closed pipe) ends the stream quietly.
pub async fn watch(
    handle: MonitorHandle,
    mut out: impl Write,
    format: Format,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut rx = handle.snapshots.clone();
    let mut tracker = Tracker::default();
    tokio::pin!(shutdown);
    loop {
        let snapshot = rx.borrow_and_update().clone();
        for item in tracker.items(&snapshot) {
            let line = match format {
                Format::Jsonl => to_json(&item).to_string(),
                Format::Text => to_text(&item),
            };
            let written = writeln!(out, "{line}").and_then(|()| out.flush());
            match written {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                other => other?,
            }
        }
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            changed = rx.changed() => if changed.is_err() { return Ok(()) },
        }
    }
}

/// [`watch`] in JSON Lines: `m365mon watch --jsonl`.
pub async fn watch_jsonl(
    handle: MonitorHandle,
    out: impl Write,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    watch(handle, out, Format::Jsonl, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::monitor::State;
    use crate::engine::HostInfo;
    use crate::model::{Cause, CheckKind, CheckResult, Status};
    use std::time::Duration;

    fn check(id: &str, status: Status) -> CheckResult {
        let mut c = CheckResult::simple(id, CheckKind::Endpoint, id, status, format!("{id} {status}"));
        if status == Status::Fail {
            c.cause = Some(Cause::TcpRefused);
        }
        c
    }

    fn kinds(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| to_json(i)["type"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn each_snapshot_yields_only_what_is_new() {
        let mut state = State::new(
            HostInfo {
                hostname: "pc-1".into(),
                ..Default::default()
            },
            Duration::from_secs(5),
        );
        state.note(EventKind::Info, "monitoring started");
        let mut t = Tracker::default();
        assert_eq!(kinds(&t.items(&state.snapshot)), ["start", "info"]);
        assert!(
            t.items(&state.snapshot).is_empty(),
            "nothing new, nothing written"
        );

        state.apply(
            vec![
                check("endpoint:a", Status::Pass),
                check("endpoint:b", Status::Fail),
            ],
            12.0,
        );
        let items = t.items(&state.snapshot);
        assert_eq!(
            kinds(&items),
            ["info", "change", "sweep"],
            "first-sweep note, b failing, then the sweep"
        );
        let sweep = to_json(items.last().unwrap());
        assert_eq!(sweep["sweep"], 1);
        assert_eq!(sweep["status"], "fail");
        assert_eq!(
            sweep["checks"][1],
            json!({"id": "endpoint:b", "status": "fail", "cause": "tcp-refused", "duration_ms": 0.0})
        );
        assert_eq!(sweep["findings"][0], "endpoint-blocked");

        state.note(EventKind::Marker, "rule 42 applied");
        state.apply(
            vec![
                check("endpoint:a", Status::Pass),
                check("endpoint:b", Status::Pass),
            ],
            12.0,
        );
        let items = t.items(&state.snapshot);
        assert_eq!(kinds(&items), ["marker", "change", "sweep"]);
        let change = to_json(&items[1]);
        assert_eq!(
            (
                change["check"].as_str(),
                change["from"].as_str(),
                change["to"].as_str()
            ),
            (Some("endpoint:b"), Some("fail"), Some("pass"))
        );
        assert!(
            to_text(&items[1]).contains("change endpoint:b fail -> pass: recovered"),
            "{}",
            to_text(&items[1])
        );
        assert!(to_text(&items[2]).contains("sweep  #2 pass: 2 pass, 0 warn, 0 fail, 0 skip"));
    }

    #[test]
    fn a_full_event_queue_still_yields_each_event_once() {
        let mut state = State::new(HostInfo::default(), Duration::from_secs(5));
        let mut t = Tracker::default();
        for i in 0..crate::engine::snapshot::EVENTS_LEN {
            state.note(EventKind::Marker, format!("m{i}"));
        }
        t.items(&state.snapshot);
        state.note(EventKind::Marker, "newest");
        state.note(EventKind::Marker, "newer still");
        let texts: Vec<String> = t
            .items(&state.snapshot)
            .iter()
            .map(|i| to_json(i)["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts, ["newest", "newer still"]);
    }

    #[test]
    fn start_line_names_the_schema() {
        let v = to_json(&Item::Start {
            at: Utc::now(),
            snapshot: Snapshot::default(),
        });
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["type"], "start");
    }
}
