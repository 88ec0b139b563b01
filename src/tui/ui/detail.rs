//! The detail view (Enter): everything one check saw — every stage with its timing and
//! detail, the certificate chain, the negotiated TLS parameters, the HTTP answer, the raw
//! error and the facts — for the technician who needs the evidence, not the summary.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use super::words::{self, Doc};
use crate::model::{CheckResult, StageName};
use crate::tui::app::App;
use crate::tui::glyphs;
use crate::tui::theme::Theme;

/// Width of the label column.
const LABEL: usize = 10;

pub fn render(frame: &mut Frame, area: Rect, app: &App, id: &str) {
    let Some(c) = app.check(id) else { return };
    let theme = app.theme();
    // Everything between the header and the footer, so the footer's keys stay visible.
    let rect = Rect {
        y: area.y + 2,
        height: area.height.saturating_sub(3),
        ..area
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(
            format!(" Detail: {} ", words::check_name(&c.id)),
            theme.title(),
        ))
        .title_bottom(
            Line::from(Span::styled(" Esc/Enter closes, j/k scrolls ", theme.dim())).right_aligned(),
        )
        .border_style(theme.border(true))
        .style(theme.text());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let doc = content(app, c, inner.width);
    doc.render(
        frame,
        inner,
        app.detail_scroll,
        &app.metrics.detail_max,
        theme.text(),
    );
}

fn field(doc: &mut Doc, theme: &Theme, label: &str, value: &str) {
    doc.para(
        vec![Span::styled(words::pad(label, LABEL), theme.dim())],
        value,
        theme.text(),
        LABEL,
    );
}

fn heading(doc: &mut Doc, theme: &Theme, title: &str) {
    doc.blank();
    doc.line(Line::from(Span::styled(title.to_string(), theme.title())));
}

fn content(app: &App, c: &CheckResult, width: u16) -> Doc {
    let mut doc = Doc::new(width);
    overview(&mut doc, app, c);
    stages(&mut doc, app.theme(), c);
    addresses(&mut doc, app.theme(), c);
    tls(&mut doc, app.theme(), c);
    http(&mut doc, app.theme(), c);
    evidence(&mut doc, app, c);
    doc
}

/// Status, target, timing, cause and the whole history.
fn overview(doc: &mut Doc, app: &App, c: &CheckResult) {
    let theme = app.theme();
    let status = vec![
        Span::styled(words::pad("Status", LABEL), theme.dim()),
        glyphs::light(theme, c.status),
        Span::styled(format!(" {}  ", glyphs::word(c.status)), theme.status(c.status)),
    ];
    doc.para(
        status,
        &c.summary,
        theme.text().add_modifier(Modifier::BOLD),
        LABEL,
    );
    field(doc, theme, "Target", &c.target);
    field(doc, theme, "Kind", c.kind.as_str());
    let took = if c.duration_ms > 0.0 {
        format!(", took {:.1} ms", c.duration_ms)
    } else {
        String::new()
    };
    field(
        doc,
        theme,
        "Checked",
        &format!("{}{took}", app.time.full(c.checked_at)),
    );
    if let Some(since) = app.snapshot.since.get(&c.id) {
        field(
            doc,
            theme,
            "Since",
            &format!("{} ({})", app.time.hms(*since), words::age(*since, app.now)),
        );
    }
    if let Some(cause) = c.cause {
        field(doc, theme, "Cause", cause.as_str());
    }
    if let Some(points) = app.snapshot.history.get(&c.id).filter(|h| !h.is_empty()) {
        let mut lead = vec![Span::styled(words::pad("History", LABEL), theme.dim())];
        lead.extend(points.iter().map(|p| glyphs::light(theme, p.status)));
        lead.push(Span::raw(" "));
        doc.para(
            lead,
            &format!("({} sweeps, oldest first)", points.len()),
            theme.dim(),
            LABEL,
        );
    }
}

/// Every stage with its timing, or why it did not run.
fn stages(doc: &mut Doc, theme: &Theme, c: &CheckResult) {
    if !c.stages.is_empty() {
        heading(doc, theme, "Stages");
        let plain_http = c.target.starts_with("http://");
        for stage in StageName::ALL {
            let (light, ms, detail, cause) = match c.stage(stage) {
                Some(s) => (
                    glyphs::light(theme, s.status),
                    words::latency(s.ms),
                    s.detail.clone(),
                    s.cause,
                ),
                None if stage == StageName::Tls && plain_http => (
                    glyphs::not_run(theme),
                    String::new(),
                    "not used (plain HTTP)".into(),
                    None,
                ),
                None => (glyphs::not_run(theme), String::new(), "did not run".into(), None),
            };
            let cause = cause.map(|c| format!("  [{}]", c.as_str())).unwrap_or_default();
            let lead = vec![
                Span::raw(" "),
                light,
                Span::raw(format!(" {:<4} {:>9}  ", stage.label(), ms)),
            ];
            doc.para(lead, &format!("{detail}{cause}"), theme.text(), 19);
        }
    }
}

/// How the name was resolved (the resolver that answered, the CNAME chain) and every
/// address tried, each with its own stages: a family that fails while the other works
/// shows here.
fn addresses(doc: &mut Doc, theme: &Theme, c: &CheckResult) {
    if let Some(dns) = &c.dns {
        heading(doc, theme, "Name resolution");
        field(doc, theme, "Resolver", &dns.resolver);
        if !dns.cname_chain.is_empty() {
            field(doc, theme, "CNAMEs", &dns.cname_chain.join(" → "));
        }
        for (label, list) in [("IPv4", &dns.ipv4), ("IPv6", &dns.ipv6)] {
            let shown: Vec<String> = list.iter().map(|a| a.to_string()).collect();
            let text = if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            };
            field(doc, theme, label, &text);
        }
        for note in &dns.notes {
            field(doc, theme, "Note", note);
        }
    }
    if c.addresses.is_empty() {
        return;
    }
    heading(doc, theme, "Addresses tried");
    for a in &c.addresses {
        let lead = vec![
            Span::raw(" "),
            glyphs::light(theme, a.status),
            Span::raw(format!(" {} ", a.family.label())),
        ];
        doc.para(lead, &format!("{} {}", a.addr, a.summary), theme.text(), 8);
        for s in &a.stages {
            let cause = s.cause.map(|c| format!("  [{}]", c.as_str())).unwrap_or_default();
            let lead = vec![
                Span::raw("     "),
                glyphs::light(theme, s.status),
                Span::raw(format!(" {:<4} {:>9}  ", s.name.label(), words::latency(s.ms))),
            ];
            doc.para(lead, &format!("{}{cause}", s.detail), theme.text(), 23);
        }
    }
}

/// What the handshake negotiated and the chain the server presented.
fn tls(doc: &mut Doc, theme: &Theme, c: &CheckResult) {
    if let Some(tls) = &c.tls {
        heading(doc, theme, "TLS");
        field(doc, theme, "Version", tls.version.as_deref().unwrap_or("unknown"));
        field(doc, theme, "Cipher", tls.cipher.as_deref().unwrap_or("unknown"));
        field(doc, theme, "Root", tls.root.as_deref().unwrap_or("unknown"));
        for (i, cert) in tls.chain.iter().enumerate() {
            let n = format!("{:>2}. ", i + 1);
            doc.para(
                vec![Span::styled(n, theme.accent())],
                &cert.subject,
                theme.text(),
                4,
            );
            doc.para(
                vec![Span::styled("    issuer  ", theme.dim())],
                &cert.issuer,
                theme.text(),
                12,
            );
            doc.para(
                vec![Span::styled("    expires ", theme.dim())],
                &cert.not_after,
                theme.text(),
                12,
            );
        }
    }
}

fn http(doc: &mut Doc, theme: &Theme, c: &CheckResult) {
    if let Some(http) = &c.http {
        heading(doc, theme, "HTTP");
        field(doc, theme, "Status", &http.status.to_string());
        for (label, value) in [("Server", &http.server), ("Via", &http.via), ("Date", &http.date)] {
            if let Some(v) = value {
                field(doc, theme, label, v);
            }
        }
    }
}

/// The raw error, the facts of non-endpoint checks and the finding that explains it.
fn evidence(doc: &mut Doc, app: &App, c: &CheckResult) {
    let theme = app.theme();
    if let Some(error) = &c.error {
        heading(doc, theme, "Error");
        doc.verbatim(1, error, theme.text());
    }

    if !c.facts.is_empty() {
        heading(doc, theme, "Facts");
        let width = c
            .facts
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            .min(24)
            + 2;
        for (k, v) in &c.facts {
            doc.para(
                vec![Span::styled(format!(" {}", words::pad(k, width)), theme.dim())],
                v,
                theme.text(),
                width + 1,
            );
        }
    }

    if let Some(f) = app.snapshot.finding_for(&c.id) {
        heading(doc, theme, "Finding");
        let lead = vec![glyphs::light(theme, f.severity), Span::raw(" ")];
        doc.para(
            lead,
            &format!("{} ({}; remediation \"{}\")", f.title, f.id, f.remediation_id),
            theme.text(),
            2,
        );
    }
}
