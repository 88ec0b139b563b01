//! The notice shown instead of the screen when the terminal is smaller than the layout
//! needs; resizing back brings the screen back, and q still quits.

use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::app::App;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme();
    let lines = vec![
        Line::styled("terminal too small", theme.title()),
        Line::from(format!(
            "(need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{})",
            area.width, area.height
        )),
        Line::styled("q quits", theme.dim()),
    ];
    let paragraph = Paragraph::new(lines)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    let height = (paragraph_height(area.width)).min(area.height);
    let rect = area.centered_vertically(Constraint::Length(height));
    frame.render_widget(paragraph, rect);
}

/// Lines the notice takes once wrapped at `width` (its lines are short and known).
fn paragraph_height(width: u16) -> u16 {
    let w = usize::from(width.max(1));
    ["terminal too small", "(need 60x16, have 100x100)", "q quits"]
        .iter()
        .map(|l| l.len().div_ceil(w) as u16)
        .sum()
}
