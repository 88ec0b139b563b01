//! The events log: every status change and marker, one line each with its local time,
//! newest at the bottom; scrolled back it stays put while new events arrive.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::words;
use crate::engine::{Event, EventKind};
use crate::tui::app::{App, Focus};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme();
    let events = &app.snapshot.events;
    if area.height < 3 {
        // Space is short: the newest event on one line, no border.
        app.metrics.events_max.set(0);
        let mut spans = vec![Span::styled(
            format!(" Events ({}): ", events.len()),
            theme.title(),
        )];
        match events.back() {
            Some(e) => spans.extend(line(app, e).spans),
            None => spans.push(Span::styled("none yet", theme.dim())),
        }
        frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.text()), area);
        return;
    }
    let mut title = vec![Span::styled(
        format!(" Events ({}) ", events.len()),
        theme.title(),
    )];
    let block_height = usize::from(area.height.saturating_sub(2));
    let max_back = events.len().saturating_sub(block_height);
    app.metrics.events_max.set(max_back);
    let back = app.events_back.min(max_back);
    if back > 0 {
        title.push(Span::styled(
            format!("[{back} newer below, End follows] "),
            theme.accent(),
        ));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(theme.border(app.focus == Focus::Events));
    let end = events.len() - back;
    let start = end.saturating_sub(block_height);
    let lines: Vec<Line> = events.range(start..end).map(|e| line(app, e)).collect();
    let lines = if lines.is_empty() {
        vec![Line::styled("No events yet.", theme.dim())]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.text()), area);
}

/// `14:03:12 ols.officeapps.live.com pass -> fail: TCP timed out`
fn line(app: &App, e: &Event) -> Line<'static> {
    let theme = app.theme();
    let mut spans = vec![Span::styled(format!("{} ", app.time.hms(e.at)), theme.dim())];
    match e.kind {
        EventKind::Marker => {
            spans.push(Span::styled(
                format!("* marker: {}", one_line(&e.text)),
                theme.marker(),
            ));
        }
        EventKind::Info => spans.push(Span::styled(one_line(&e.text), theme.dim())),
        EventKind::Change => {
            if let Some(check) = &e.check {
                spans.push(Span::raw(format!("{} ", words::check_name(check))));
            }
            if let Some(from) = e.from {
                spans.push(Span::styled(from.as_str(), theme.status(from)));
                spans.push(Span::raw(" -> "));
            }
            if let Some(to) = e.to {
                spans.push(Span::styled(to.as_str(), theme.status(to)));
            }
            spans.push(Span::raw(format!(": {}", one_line(&e.text))));
        }
    }
    Line::from(spans)
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
