//! The footer: the keys that matter in the current view, or the marker being typed; and
//! the status line above it (export paths, refusals, confirmations).

use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::model::Status;
use crate::tui::app::{App, Focus, Overlay};
use crate::tui::glyphs;
use crate::tui::keys::binding;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme();
    let input = match (&app.marker_input, &app.code_input, &app.search_input) {
        (Some(text), _, _) => Some((text, "Marker: ", "  (Enter adds, Esc cancels)")),
        (None, Some(text), _) => Some((
            text,
            "Error code: ",
            "  (e.g. 0xCAA82EE2; Enter explains, Esc cancels)",
        )),
        (None, None, Some(text)) => Some((text, "Search: ", "  (Enter keeps, Esc clears)")),
        (None, None, None) => None,
    };
    if let Some((text, prompt, hint)) = input {
        let room = usize::from(area.width)
            .saturating_sub(prompt.len() + hint.len() + 1)
            .max(1);
        // Show the end of a long marker, where the cursor is.
        let shown: String = text
            .chars()
            .skip(text.chars().count().saturating_sub(room))
            .collect();
        let cursor_x = area.x + (prompt.len() + shown.chars().count()) as u16;
        let line = Line::from(vec![
            Span::styled(prompt, theme.key()),
            Span::styled(shown, theme.text()),
            Span::raw(" "),
            Span::styled(hint, theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        frame.set_cursor_position(Position::new(
            cursor_x.min(area.right().saturating_sub(1)),
            area.y,
        ));
        return;
    }
    let mut spans = Vec::new();
    let mut used = 0;
    for (keys, label) in hints(app) {
        // Whole hints only: a key without its label would mislead.
        let width = keys.chars().count() + label.chars().count() + 3;
        if used + width > usize::from(area.width) {
            break;
        }
        used += width;
        spans.push(Span::styled(format!(" {keys}"), theme.key()));
        spans.push(Span::styled(format!(" {label} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The (keys, label) pairs for the current view, most useful first: whatever does not
/// fit the width is cut from the end.
fn hints(app: &App) -> Vec<(&'static str, String)> {
    let h = |name: &str| {
        let b = binding(name);
        (b.hint, b.short.to_string())
    };
    match app.overlay {
        Overlay::Help => vec![("Esc/?", "close".into()), ("j/k", "scroll".into()), h("quit")],
        Overlay::Explain(_) => vec![
            ("Esc/Enter", "close".into()),
            ("j/k", "scroll".into()),
            (":", "another code".into()),
            h("quit"),
        ],
        Overlay::Detail(_) => {
            vec![
                ("Esc/Enter", "close".into()),
                ("j/k", "scroll".into()),
                h("page"),
                h("help"),
                h("quit"),
            ]
        }
        Overlay::None => {
            let mut v = vec![h("quit"), h("help")];
            v.push(match app.focus {
                Focus::Checks => h("select"),
                Focus::Remediation | Focus::Events => ("j/k", "scroll".into()),
            });
            v.push(h("detail"));
            v.push(h("focus"));
            if !app.read_only {
                v.push(h("probe"));
                v.push((
                    "p",
                    if app.paused() {
                        "resume".into()
                    } else {
                        "pause".into()
                    },
                ));
            }
            v.push((
                "f",
                if app.failing_only {
                    "show all".into()
                } else {
                    "failing only".into()
                },
            ));
            v.push(h("search"));
            v.push(h("group"));
            if !app.read_only {
                v.push(h("marker"));
            }
            v.push(h("export"));
            v.push(h("explain"));
            v.push(h("theme"));
            v
        }
    }
}

/// Lines the status line needs at this width: export paths are long and must be read
/// whole, so it grows to up to three lines rather than cutting them.
pub fn status_height(app: &App, width: u16) -> u16 {
    match app.status_line() {
        None => 0,
        Some(status) => {
            let len = status.text.chars().count() + 2;
            len.div_ceil(usize::from(width.max(1))).clamp(1, 3) as u16
        }
    }
}

/// The status line, when there is a message.
pub fn render_status(frame: &mut Frame, area: Rect, app: &App) {
    let Some(status) = app.status_line() else { return };
    let theme = app.theme();
    let line = if status.error {
        Line::from(vec![
            glyphs::light(theme, Status::Fail),
            Span::styled(format!(" {}", status.text), theme.text()),
        ])
    } else {
        Line::from(vec![
            Span::raw("  "),
            Span::styled(status.text.clone(), theme.accent()),
        ])
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}
