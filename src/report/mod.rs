//! Reports: the same snapshot rendered as text (a terminal), JSON (`m365mon.report/1`) or
//! Markdown (a ticket). `check` prints one; the TUI's export writes Markdown and JSON.

pub mod log_file;
pub mod redact;
pub mod stream;
pub mod text;

use chrono::{Local, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::diagnosis::findings::Finding;
use crate::diagnosis::remediation::Remediation;
use crate::engine::Snapshot;
use crate::model::Status;

/// Schema name of the JSON report; bump on incompatible change.
pub const SCHEMA: &str = "m365mon.report/1";

fn remediation_json(r: &Remediation) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "severity": f.severity,
        "title": f.title,
        "detail": f.detail,
        "root_cause": f.root_cause,
        "checks": f.checks,
        "remediation": remediation_json(f.remediation()),
    })
}

/// The JSON report (`m365mon.report/1`).
pub fn json(snapshot: &Snapshot) -> Value {
    json!({
        "schema": SCHEMA,
        "status": snapshot.status(),
        "generated_at": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "sweep_ms": snapshot.sweep_ms,
        "host": snapshot.host,
        "checks": snapshot.checks,
        "findings": snapshot.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "events": snapshot.events,
    })
}

fn light(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
    }
}

/// Escapes table-breaking characters for Markdown cells.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report, for pasting into a ticket.
pub fn markdown(snapshot: &Snapshot) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let s = snapshot;
    let _ = writeln!(out, "# m365mon report: {}\n", light(s.status()));
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Host | {} |", cell(&s.host.hostname));
    if let Some(user) = &s.host.user {
        let _ = writeln!(out, "| User | {} |", cell(user));
    }
    let _ = writeln!(out, "| OS | {} |", cell(&s.host.os));
    let _ = writeln!(out, "| Cloud | {} |", cell(&s.host.instance));
    if let Some(lab) = &s.host.lab {
        let _ = writeln!(
            out,
            "| Lab | {} (simulated endpoints, not the real service) |",
            cell(lab)
        );
    }
    let _ = writeln!(
        out,
        "| Generated | {} |",
        Local::now().format("%Y-%m-%d %H:%M:%S %z")
    );
    let _ = writeln!(out, "| Sweeps | {} (last took {:.0} ms) |", s.sweeps, s.sweep_ms);

    let _ = writeln!(out, "\n## Findings\n");
    if s.findings.is_empty() {
        let _ = writeln!(out, "No problems found.");
    }
    for (i, f) in s.findings.iter().enumerate() {
        let r = f.remediation();
        let root = if f.root_cause { " (root cause)" } else { "" };
        let _ = writeln!(out, "### {}. {} {}{}\n", i + 1, light(f.severity), f.title, root);
        let _ = writeln!(out, "{}\n", f.detail);
        let _ = writeln!(
            out,
            "Affected checks: {}\n",
            f.checks
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let admin = if r.admin_only { " (administrator)" } else { "" };
        let _ = writeln!(out, "**What to do{admin}:** {}\n", r.summary);
        for (n, step) in r.steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", n + 1, step);
        }
        if !r.commands.is_empty() {
            let _ = writeln!(out);
            for c in r.commands {
                let admin = if c.admin { ", as administrator" } else { "" };
                let _ = writeln!(out, "- {} ({:?}{admin}): `{}`", c.label, c.shell, c.text);
            }
        }
        let _ = writeln!(out);
        for l in r.links {
            let _ = writeln!(out, "- <{l}>");
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Checks\n");
    let _ = writeln!(
        out,
        "| Status | Check | Summary | DNS | TCP | TLS | HTTP |\n|---|---|---|---|---|---|---|"
    );
    for c in &s.checks {
        let stage = |n| {
            c.stage(n)
                .map(|st| format!("{} {:.0} ms", light(st.status).to_lowercase(), st.ms))
                .unwrap_or_else(|| "-".into())
        };
        use crate::model::StageName::*;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            light(c.status),
            cell(c.id.trim_start_matches("endpoint:")),
            cell(&c.summary),
            stage(Dns),
            stage(Tcp),
            stage(Tls),
            stage(Http)
        );
    }

    let _ = writeln!(out, "\n## Events\n");
    if s.events.is_empty() {
        let _ = writeln!(out, "No events.");
    }
    for e in &s.events {
        let at = e.at.with_timezone(&Local).format("%H:%M:%S");
        let what = match (&e.check, e.from, e.to) {
            (Some(c), Some(f), Some(t)) => {
                format!("{} {} -> {}: {}", c.trim_start_matches("endpoint:"), f, t, e.text)
            }
            (Some(c), None, Some(t)) => format!("{} {}: {}", c.trim_start_matches("endpoint:"), t, e.text),
            _ => e.text.clone(),
        };
        let marker = if e.kind == crate::engine::EventKind::Marker {
            "**marker** "
        } else {
            ""
        };
        let _ = writeln!(out, "- {at} {marker}{}", what.replace('\n', " "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CheckKind, CheckResult};

    #[test]
    fn json_report_has_the_documented_shape() {
        let mut s = Snapshot::default();
        s.checks.push(CheckResult::simple(
            "endpoint:a.com",
            CheckKind::Endpoint,
            "https://a.com/",
            Status::Fail,
            "TCP timed out",
        ));
        s.findings = crate::diagnosis::findings::diagnose(&s.checks);
        let v = json(&s);
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["status"], "fail");
        assert_eq!(v["checks"][0]["id"], "endpoint:a.com");
        assert_eq!(v["checks"][0]["kind"], "endpoint");
        assert!(v["findings"][0]["remediation"]["steps"]
            .as_array()
            .is_some_and(|a| !a.is_empty()));
        assert!(v["findings"][0]["remediation"]["links"][0]
            .as_str()
            .unwrap()
            .starts_with("https://"));
    }

    #[test]
    fn markdown_escapes_cells() {
        let mut s = Snapshot::default();
        s.checks.push(CheckResult::simple(
            "endpoint:a.com",
            CheckKind::Endpoint,
            "x",
            Status::Pass,
            "a|b",
        ));
        assert!(markdown(&s).contains("a\\|b"));
    }
}
