//! The plain-text report `check` prints: one line per check, then the findings with what
//! to do. Colour only when writing to a terminal and `NO_COLOR` is unset.

use std::fmt::Write;

use crate::engine::Snapshot;
use crate::model::Status;

/// Whether to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, s: Status, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match s {
            Status::Pass => "32",
            Status::Warn => "33",
            Status::Fail => "31;1",
            Status::Skip => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Fixed-width light for a status: readable without colour.
pub fn tag(s: Status) -> &'static str {
    match s {
        Status::Pass => "[ OK ]",
        Status::Warn => "[WARN]",
        Status::Fail => "[FAIL]",
        Status::Skip => "[SKIP]",
    }
}

/// Renders the report.
pub fn render(snapshot: &Snapshot, style: Style) -> String {
    let s = snapshot;
    let mut out = String::new();
    let lab = s
        .host
        .lab
        .as_ref()
        .map(|l| format!(" | LAB: {l}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} on {} ({}{}) | {} checks in {:.0} ms",
        s_bold(style, "m365mon check"),
        s.host.hostname,
        s.host.instance,
        lab,
        s.checks.len(),
        s.sweep_ms
    );
    let width = s
        .checks
        .iter()
        .map(|c| c.id.trim_start_matches("endpoint:").len())
        .max()
        .unwrap_or(10)
        .min(60);
    for c in &s.checks {
        let name = c.id.trim_start_matches("endpoint:");
        let _ = writeln!(
            out,
            "{} {:<width$}  {}",
            style.paint(c.status, tag(c.status)),
            name,
            c.summary
        );
    }
    if !s.findings.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            style.bold(&format!("Findings ({}), most important first:", s.findings.len()))
        );
    }
    for (i, f) in s.findings.iter().enumerate() {
        let r = f.remediation();
        let root = if f.root_cause { " [root cause]" } else { "" };
        let _ = writeln!(
            out,
            "\n{}. {} {}{}",
            i + 1,
            style.paint(f.severity, tag(f.severity)),
            style.bold(&f.title),
            root
        );
        let _ = writeln!(out, "   {}", f.detail);
        for line in crate::diagnosis::remediation::render_text(r).lines() {
            let _ = writeln!(out, "   {line}");
        }
    }
    let count = |st| s.checks.iter().filter(|c| c.status == st).count();
    let overall = s.status();
    let _ = writeln!(
        out,
        "\nStatus: {} ({} failing, {} warnings, {} passing, {} skipped)",
        style.paint(overall, &overall.as_str().to_uppercase()),
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Pass),
        count(Status::Skip)
    );
    out
}

fn s_bold(style: Style, t: &str) -> String {
    style.bold(t)
}
