//! The remediation panel: what to do about the selected check. Until the user moves the
//! selection it explains the top-ranked finding; a failing check shows the finding that
//! explains it with its steps and commands; a healthy one says what was verified.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use ratatui::Frame;

use super::words::{self, Doc};
use crate::diagnosis::findings::Finding;
use crate::diagnosis::remediation::{self, Remediation, Shell};
use crate::model::{CheckKind, CheckResult, StageName, Status};
use crate::tui::app::{App, Focus};
use crate::tui::glyphs;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme();
    let focused = app.focus == Focus::Remediation;
    let block_title = |title: String| {
        Block::bordered()
            .title(Span::styled(format!(" {title} "), theme.title()))
            .border_style(theme.border(focused))
    };
    let width = area.width.saturating_sub(2);
    let (title, doc) = content(app, width);
    let overflow = doc.lines.len() > usize::from(area.height.saturating_sub(2));
    let mut block = block_title(title);
    if overflow {
        let hint = if focused {
            " j/k scrolls "
        } else {
            " Tab, then j/k scrolls "
        };
        block = block.title_bottom(Line::from(Span::styled(hint, theme.dim())).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    doc.render(
        frame,
        inner,
        app.remediation_scroll,
        &app.metrics.remediation_max,
        theme.text(),
    );
}

/// The panel's title and lines for the current selection.
fn content(app: &App, width: u16) -> (String, Doc) {
    let theme = app.theme();
    let s = &app.snapshot;
    let mut doc = Doc::new(width);
    match app.selected_check() {
        Some(c) => {
            let name = words::check_name(&c.id).to_string();
            match c.status {
                Status::Fail | Status::Warn => {
                    check_line(&mut doc, theme, c);
                    if let Some(f) = s.finding_for(&c.id) {
                        doc.blank();
                        finding(&mut doc, theme, f);
                    } else if let Some(r) = c.remediation.as_deref().and_then(remediation::get) {
                        doc.blank();
                        steps(&mut doc, theme, r);
                    } else {
                        doc.blank();
                        doc.para(
                            vec![],
                            "No finding explains this check yet; Enter shows everything it saw.",
                            theme.dim(),
                            0,
                        );
                    }
                    (format!("Why it fails: {name}"), doc)
                }
                Status::Pass => {
                    healthy(&mut doc, app, c);
                    (format!("Healthy: {name}"), doc)
                }
                Status::Skip => {
                    check_line(&mut doc, theme, c);
                    doc.para(
                        vec![],
                        "Does not apply on this machine; nothing to do.",
                        theme.dim(),
                        0,
                    );
                    facts(&mut doc, theme, c);
                    (format!("Not checked: {name}"), doc)
                }
            }
        }
        None => match s.findings.first() {
            Some(f) => {
                finding(&mut doc, theme, f);
                doc.blank();
                doc.para(
                    vec![],
                    "Select a check (j/k) to see what explains it.",
                    theme.dim(),
                    0,
                );
                (format!("Top finding (1 of {})", s.findings.len()), doc)
            }
            None if s.sweeps == 0 && s.checks.is_empty() => {
                doc.para(
                    vec![Span::styled(format!("{} ", glyphs::PENDING), theme.pending())],
                    "The first sweep is under way; findings appear when it ends.",
                    theme.text(),
                    2,
                );
                ("Findings".into(), doc)
            }
            None => {
                all_clear(&mut doc, app);
                ("Findings".into(), doc)
            }
        },
    }
}

/// `x activation.sls.microsoft.com: TCP timed out`
fn check_line(doc: &mut Doc, theme: &Theme, c: &CheckResult) {
    let lead = vec![
        glyphs::light(theme, c.status),
        Span::raw(" "),
        Span::styled(
            format!("{}: ", words::check_name(&c.id)),
            theme.text().add_modifier(Modifier::BOLD),
        ),
    ];
    doc.para(lead, &c.summary, theme.text(), 2);
}

fn finding(doc: &mut Doc, theme: &Theme, f: &Finding) {
    let mut lead = vec![glyphs::light(theme, f.severity), Span::raw(" ")];
    if f.root_cause {
        lead.push(Span::styled("[root cause] ", theme.accent()));
    }
    doc.para(lead, &f.title, theme.title(), 2);
    if !f.detail.is_empty() {
        doc.para(vec![], &f.detail, theme.text(), 0);
    }
    let names: Vec<&str> = f.checks.iter().map(|c| words::check_name(c)).collect();
    doc.para(
        vec![Span::styled("Affects: ", theme.dim())],
        &names.join(", "),
        theme.text(),
        2,
    );
    doc.blank();
    steps(doc, theme, f.remediation());
}

/// A remediation entry: title, summary, numbered steps, commands to copy, links.
fn steps(doc: &mut Doc, theme: &Theme, r: &Remediation) {
    let mut lead = vec![Span::styled("What to do: ", theme.title())];
    if r.admin_only {
        lead.push(Span::styled("[administrator] ", theme.status(Status::Warn)));
    }
    doc.para(lead, r.title, theme.title(), 2);
    doc.para(vec![], r.summary, theme.text(), 0);
    for (i, step) in r.steps.iter().enumerate() {
        let number = format!("{:>2}. ", i + 1);
        let indent = number.len();
        doc.para(
            vec![Span::styled(number, theme.accent())],
            step,
            theme.text(),
            indent,
        );
    }
    if !r.commands.is_empty() {
        doc.blank();
        doc.line(Line::from(Span::styled("Commands:", theme.title())));
        for c in r.commands {
            let mut label = format!("[{}", shell_name(c.shell));
            if c.admin {
                label.push_str(", admin");
            }
            label.push_str("] ");
            doc.para(
                vec![Span::raw(" "), Span::styled(label, theme.accent())],
                c.label,
                theme.dim(),
                3,
            );
            doc.verbatim(3, c.text, theme.command());
        }
    }
    // Where the tool can carry the step out itself, say how (never from here: a fix
    // changes the machine, so it runs as its own command, dry run first).
    if let Some(fix) = crate::fix::for_remediation(r.id) {
        doc.blank();
        doc.para(
            vec![Span::styled("m365mon can do this: ", theme.title())],
            &format!(
                "{} (see what would change, then add --allow-fixes; a backup comes first and `m365mon undo` reverts)",
                fix.title
            ),
            theme.text(),
            2,
        );
        doc.verbatim(3, &format!("m365mon fix {}", fix.id), theme.command());
    }
    if !r.links.is_empty() {
        doc.blank();
        doc.line(Line::from(Span::styled("Learn more:", theme.title())));
        for l in r.links {
            doc.verbatim(1, l, theme.link());
        }
    }
}

fn shell_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Cmd => "cmd",
        Shell::PowerShell => "PowerShell",
        Shell::Sh => "sh",
    }
}

/// What a passing check proved, so a technician can rule it out.
fn healthy(doc: &mut Doc, app: &App, c: &CheckResult) {
    let theme = app.theme();
    let name = words::check_name(&c.id);
    let lead = vec![glyphs::light(theme, c.status), Span::raw(" ")];
    doc.para(
        lead,
        &format!("{name} is healthy: {}", c.summary),
        theme.text().add_modifier(Modifier::BOLD),
        2,
    );
    let since = app
        .snapshot
        .since
        .get(&c.id)
        .map(|t| format!(", healthy for {}", words::age(*t, app.now)));
    doc.para(
        vec![],
        &format!(
            "Verified at {}{}.",
            app.time.hms(c.checked_at),
            since.unwrap_or_default()
        ),
        theme.dim(),
        0,
    );
    if c.kind == CheckKind::Endpoint {
        for stage in StageName::ALL {
            let Some(s) = c.stage(stage) else { continue };
            let lead = vec![
                Span::raw(" "),
                glyphs::light(theme, s.status),
                Span::raw(format!(" {:<4} {:>9}  ", stage.label(), words::latency(s.ms))),
            ];
            doc.para(lead, &s.detail, theme.text(), 19);
        }
        if let Some(tls) = &c.tls {
            let version = tls.version.as_deref().unwrap_or("unknown version");
            let root = tls
                .root
                .as_deref()
                .map(|r| format!(", chain ends in {r}"))
                .unwrap_or_default();
            doc.para(
                vec![Span::styled("TLS: ", theme.dim())],
                &format!("{version}{root}"),
                theme.text(),
                5,
            );
        }
        if let Some(http) = &c.http {
            let server = http
                .server
                .as_deref()
                .map(|s| format!(" from {s}"))
                .unwrap_or_default();
            doc.para(
                vec![Span::styled("HTTP: ", theme.dim())],
                &format!("{}{server}", http.status),
                theme.text(),
                6,
            );
        }
    }
    facts(doc, theme, c);
}

fn facts(doc: &mut Doc, theme: &Theme, c: &CheckResult) {
    for (k, v) in &c.facts {
        doc.para(
            vec![Span::styled(format!("{k}: "), theme.dim())],
            v,
            theme.text(),
            2,
        );
    }
}

/// Nothing is wrong: say what that covers.
fn all_clear(doc: &mut Doc, app: &App) {
    let theme = app.theme();
    let s = &app.snapshot;
    let endpoints = s
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::Endpoint && c.status == Status::Pass)
        .count();
    let others = s
        .checks
        .iter()
        .filter(|c| c.kind != CheckKind::Endpoint && c.status == Status::Pass)
        .count();
    let lead = vec![glyphs::light(theme, Status::Pass), Span::raw(" ")];
    doc.para(
        lead,
        "No problems found.",
        theme.text().add_modifier(Modifier::BOLD),
        2,
    );
    doc.para(
        vec![],
        &format!(
            "{endpoints} endpoint(s) answered over DNS, TCP, TLS and HTTP; {others} other check(s) pass. Select a check (j/k) to see what was verified."
        ),
        theme.text(),
        0,
    );
}
