//! The help overlay (`?`): the meaning of every light, then every key.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use super::words::{self, Doc};
use crate::tui::app::App;
use crate::tui::glyphs;
use crate::tui::keys::BINDINGS;

const KEYS: usize = 15;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme();
    let width = area.width.saturating_sub(4).min(78);
    let doc = content(app, width.saturating_sub(2));
    let height = (doc.lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(" Help ", theme.title()))
        .title_bottom(Line::from(Span::styled(" Esc or ? closes ", theme.dim())).right_aligned())
        .border_style(theme.border(true))
        .style(theme.text());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    doc.render(frame, inner, app.help_scroll, &app.metrics.help_max, theme.text());
}

fn content(app: &App, width: u16) -> Doc {
    let theme = app.theme();
    let mut doc = Doc::new(width);
    let mut legend = vec![Span::styled("Lights: ", theme.title())];
    for (glyph, meaning) in glyphs::LEGEND {
        let style = match *glyph {
            glyphs::PASS => theme.status(crate::model::Status::Pass),
            glyphs::WARN => theme.status(crate::model::Status::Warn),
            glyphs::FAIL => theme.status(crate::model::Status::Fail),
            glyphs::PENDING => theme.pending(),
            _ => theme.dim(),
        };
        legend.push(Span::styled(*glyph, style));
        legend.push(Span::raw(format!(
            " {}  ",
            meaning.split(" (").next().unwrap_or(meaning)
        )));
    }
    doc.line(Line::from(legend));
    doc.blank();
    for b in BINDINGS {
        let unavailable = app.read_only && b.writes;
        let action = if unavailable {
            format!("{} (not in this read-only view)", b.action)
        } else {
            b.action.into()
        };
        let style = if unavailable { theme.dim() } else { theme.text() };
        doc.para(
            vec![Span::styled(words::pad(b.keys, KEYS), theme.key())],
            &action,
            style,
            KEYS,
        );
    }
    doc.blank();
    doc.para(
        vec![Span::styled("Theme: ", theme.dim())],
        &format!(
            "{} (t switches; --theme NAME|FILE; NO_COLOR=1 for none)",
            theme.name
        ),
        theme.dim(),
        7,
    );
    doc
}
