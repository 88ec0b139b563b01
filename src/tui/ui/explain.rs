//! The error-code overlay (`:`): the same explanation as `m365mon explain CODE`, so a
//! technician reading a code off the user's screen never leaves the monitor.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use super::words::Doc;
use crate::diagnosis::explain;
use crate::tui::app::App;

pub fn render(frame: &mut Frame, area: Rect, app: &App, code: u32) {
    let theme = app.theme();
    let width = area.width.saturating_sub(4).min(90);
    let mut doc = Doc::new(width.saturating_sub(2));
    match explain::explain(code) {
        Some(x) => {
            for line in explain::render_text(&x).lines() {
                if line.trim().is_empty() {
                    doc.blank();
                } else {
                    let indent = line.len() - line.trim_start().len();
                    doc.para(vec![], line.trim_start(), theme.text(), indent);
                }
            }
        }
        None => {
            doc.para(
                vec![],
                &format!(
                    "0x{code:08X} is not a code m365mon knows. Search for it on learn.microsoft.com; the lights here still show what fails."
                ),
                theme.text(),
                0,
            );
        }
    }
    let height = (doc.lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = area.centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(format!(" Error code 0x{code:08X} "), theme.title()))
        .title_bottom(Line::from(Span::styled(" Esc closes, : another code ", theme.dim())).right_aligned())
        .border_style(theme.border(true))
        .style(theme.text());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    doc.render(
        frame,
        inner,
        app.explain_scroll,
        &app.metrics.explain_max,
        theme.text(),
    );
}
