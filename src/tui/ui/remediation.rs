//! The remediation panel: what to do about the selected check. Until the user moves the
//! selection it explains the top-ranked finding; a failing check shows the finding that
//! explains it; a healthy one says what was verified.
//!
//! What to do comes first, because the panel is often only a few lines high (80x24, over
//! SSH): the title and the numbered steps, then the commands (each with the digit that
//! copies it), then what the finding affects, condensed, then why, then the links.

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
    let (title, doc, _) = content(app, width);
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

/// Lines the panel needs, borders included: first what must show (for a problem,
/// everything up to the end of the first step; otherwise its first lines, up to
/// `healthy_cap`), then all of it.
pub fn heights(app: &App, width: u16, healthy_cap: u16) -> (u16, u16) {
    let (_, doc, lead) = content(app, width.saturating_sub(2));
    let lines = match lead {
        Some(n) => n,
        None => doc.lines.len().min(usize::from(healthy_cap.saturating_sub(2))),
    };
    let cap = |n: usize| (n.min(usize::from(u16::MAX / 2)) as u16) + 2;
    (cap(lines), cap(doc.lines.len()))
}

/// The panel's title and lines for the current selection, and for a problem, how many
/// lines it takes to reach the end of the first step (what must be on screen).
fn content(app: &App, width: u16) -> (String, Doc, Option<usize>) {
    let theme = app.theme();
    let s = &app.snapshot;
    let mut doc = Doc::new(width);
    match app.selected_check() {
        Some(c) => {
            let name = words::check_name(&c.id).to_string();
            match c.status {
                Status::Fail | Status::Warn => {
                    check_line(&mut doc, theme, c);
                    let lead = if let Some(f) = s.finding_for(&c.id) {
                        finding(&mut doc, app, f)
                    } else if let Some(r) = c.remediation.as_deref().and_then(remediation::get) {
                        let lead = steps(&mut doc, theme, r);
                        rest(&mut doc, app, r);
                        lead
                    } else {
                        doc.para(
                            vec![],
                            "No finding explains this check yet; Enter shows everything it saw.",
                            theme.dim(),
                            0,
                        );
                        doc.lines.len()
                    };
                    (format!("Why it fails: {name}"), doc, Some(lead))
                }
                Status::Pass => {
                    healthy(&mut doc, app, c);
                    (format!("Healthy: {name}"), doc, None)
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
                    (format!("Not checked: {name}"), doc, None)
                }
            }
        }
        None => match s.findings.first() {
            Some(f) => {
                let lead = finding(&mut doc, app, f);
                doc.blank();
                doc.para(
                    vec![],
                    "Select a check (j/k) to see what explains it.",
                    theme.dim(),
                    0,
                );
                (
                    format!("Top finding (1 of {})", s.findings.len()),
                    doc,
                    Some(lead),
                )
            }
            None if s.sweeps == 0 && s.checks.is_empty() => {
                doc.para(
                    vec![Span::styled(format!("{} ", glyphs::PENDING), theme.pending())],
                    "The first sweep is under way; findings appear when it ends.",
                    theme.text(),
                    2,
                );
                ("Findings".into(), doc, None)
            }
            None => {
                all_clear(&mut doc, app);
                ("Findings".into(), doc, None)
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

/// A finding, what to do first: its title, the entry's steps, then the rest. Returns the
/// number of lines up to the end of the first step.
fn finding(doc: &mut Doc, app: &App, f: &Finding) -> usize {
    let theme = app.theme();
    let mut lead = vec![glyphs::light(theme, f.severity), Span::raw(" ")];
    if f.root_cause {
        lead.push(Span::styled("[root cause] ", theme.accent()));
    }
    doc.para(lead, &f.title, theme.title(), 2);
    let r = f.remediation();
    let first = steps(doc, theme, r);
    commands(doc, app, r);
    let names: Vec<&str> = f.checks.iter().map(|c| words::check_name(c)).collect();
    doc.para(
        vec![Span::styled("Affects: ", theme.dim())],
        &condensed(&names),
        theme.text(),
        2,
    );
    if !f.detail.is_empty() {
        doc.para(
            vec![Span::styled("Why: ", theme.dim())],
            &f.detail,
            theme.text(),
            0,
        );
    }
    after_commands(doc, theme, r);
    first
}

/// "activation.sls.microsoft.com and 14 more": the first name says what kind of thing
/// is hit; the detail view and the list have the rest.
fn condensed(names: &[&str]) -> String {
    match names {
        [] => "nothing listed".into(),
        [one] => (*one).to_string(),
        [a, b] => format!("{a} and {b}"),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

/// The entry's title and numbered steps. Returns the number of lines in the document up
/// to the end of the first step.
fn steps(doc: &mut Doc, theme: &Theme, r: &Remediation) -> usize {
    let mut lead = vec![Span::styled("What to do: ", theme.title())];
    if r.admin_only {
        lead.push(Span::styled("[administrator] ", theme.status(Status::Warn)));
    }
    doc.para(lead, r.title, theme.title(), 2);
    let mut first = doc.lines.len();
    for (i, step) in r.steps.iter().enumerate() {
        let number = format!("{:>2}. ", i + 1);
        let indent = number.len();
        doc.para(
            vec![Span::styled(number, theme.accent())],
            step,
            theme.text(),
            indent,
        );
        if i == 0 {
            first = doc.lines.len();
        }
    }
    first
}

/// An entry without a finding: commands, its summary as the why, then the rest.
fn rest(doc: &mut Doc, app: &App, r: &'static Remediation) {
    let theme = app.theme();
    commands(doc, app, r);
    doc.para(
        vec![Span::styled("Why: ", theme.dim())],
        r.summary,
        theme.text(),
        0,
    );
    after_commands(doc, theme, r);
}

/// The commands to copy, the running OS's first, each with the digit that copies it.
fn commands(doc: &mut Doc, app: &App, r: &'static Remediation) {
    let theme = app.theme();
    let commands = crate::tui::app::commands_in_order(r, app.windows_commands_first);
    if commands.is_empty() {
        return;
    }
    doc.line(Line::from(vec![
        Span::styled("Commands", theme.title()),
        Span::styled(" (press the digit to copy):", theme.dim()),
    ]));
    for (i, c) in commands.iter().enumerate() {
        let mut label = shell_name(c.shell).to_string();
        if c.admin {
            label.push_str(", admin");
        }
        let key = if i < 9 {
            format!(" [{}] ", i + 1)
        } else {
            "     ".to_string()
        };
        doc.para(
            vec![
                Span::styled(key, theme.key()),
                Span::styled(format!("{label}: "), theme.accent()),
            ],
            c.label,
            theme.dim(),
            5,
        );
        doc.verbatim(5, c.text, theme.command());
    }
}

/// What follows the commands: the fix m365mon can carry out and the links.
fn after_commands(doc: &mut Doc, theme: &Theme, r: &Remediation) {
    // Where the tool can carry the step out itself, say how (never from here: a fix
    // changes the machine, so it runs as its own command, dry run first).
    if let Some(fix) = crate::fix::for_remediation(r.id) {
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
