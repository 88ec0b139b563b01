//! The header bar: which machine and cloud this is, whether it is the lab, and whether
//! the monitor is sweeping, paused or idle, with one overall light.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::words;
use crate::tui::app::App;
use crate::tui::glyphs;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme();
    let s = &app.snapshot;
    let bar = theme.header();
    // Lights keep their colour on the bar; without colour they keep their shape.
    let on_bar = |style: Style| bar.patch(style);

    let waiting = s.sweeps == 0 && s.checks.is_empty();
    let overall = if waiting {
        Span::styled(format!(" [{}] WAITING", glyphs::PENDING), on_bar(theme.pending()))
    } else {
        let st = s.status();
        Span::styled(
            format!(" [{}] {}", glyphs::glyph(st), glyphs::word(st)),
            on_bar(theme.status(st)),
        )
    };
    // The LAB badge comes right after the light, so no width can cut it off.
    let mut first = vec![overall];
    if let Some(lab) = &s.host.lab {
        first.push(Span::styled(" ", bar));
        first.push(Span::styled(
            format!(" LAB {lab}: simulated endpoints "),
            theme.lab(),
        ));
    }
    first.push(Span::styled(
        format!("  {}", s.host.hostname),
        bar.add_modifier(Modifier::BOLD),
    ));
    if let Some(user) = &s.host.user {
        first.push(Span::styled(format!("  user {user}"), bar));
    }
    if !s.host.instance.is_empty() {
        first.push(Span::styled(format!("  cloud {}", s.host.instance), bar));
    }

    let mut second = vec![Span::styled(
        format!(" poll every {}", interval(s.interval_secs)),
        bar,
    )];
    match s.last_sweep_at {
        Some(at) => second.push(Span::styled(
            format!(
                "   last sweep {} ({:.0} ms, #{})",
                app.time.hms(at),
                s.sweep_ms,
                s.sweeps
            ),
            bar,
        )),
        None => second.push(Span::styled("   no sweep finished yet", bar)),
    }
    second.push(Span::styled("   ", bar));
    if app.monitor_stopped {
        second.push(Span::styled(
            "monitor stopped",
            on_bar(theme.status(crate::model::Status::Fail)),
        ));
    } else if s.sweeping {
        second.push(Span::styled(
            "sweeping...",
            on_bar(theme.accent()).add_modifier(Modifier::BOLD),
        ));
    } else if s.paused {
        second.push(Span::styled(
            "PAUSED (p resumes)",
            on_bar(theme.status(crate::model::Status::Warn)),
        ));
    } else if let Some(due) = s.last_sweep_at.and_then(|at| next_sweep(at, s.interval_secs)) {
        let wait = if due > app.now {
            words::age(app.now, due)
        } else {
            "now".into()
        };
        second.push(Span::styled(format!("next sweep in {wait}"), bar));
    }
    if s.paused && s.sweeping {
        second.push(Span::styled("  (paused after this one)", bar));
    }
    if app.read_only {
        second.push(Span::styled(
            "   read-only view",
            bar.add_modifier(Modifier::BOLD),
        ));
    }

    let lines = vec![Line::from(first), Line::from(second)];
    frame.render_widget(Paragraph::new(lines).style(bar), area);
}

/// When the next interval sweep is due; `None` for an interval no clock can hold.
fn next_sweep(last: DateTime<Utc>, interval_secs: f64) -> Option<DateTime<Utc>> {
    // `as` saturates (and maps NaN to 0), so only the range needs checking.
    let millis = (interval_secs * 1000.0) as i64;
    last.checked_add_signed(chrono::Duration::try_milliseconds(millis)?)
}

/// `30s`, `2m`, `1m30s`.
fn interval(secs: f64) -> String {
    let s = secs.round() as u64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn absurd_intervals_do_not_panic() {
        let t = chrono::Utc::now();
        assert!(super::next_sweep(t, 1e300).is_none());
        assert_eq!(super::next_sweep(t, f64::NAN), Some(t));
        assert_eq!(super::next_sweep(t, 2.0), Some(t + chrono::Duration::seconds(2)));
    }

    #[test]
    fn intervals_read_naturally() {
        assert_eq!(super::interval(30.0), "30s");
        assert_eq!(super::interval(120.0), "2m");
        assert_eq!(super::interval(90.0), "1m30s");
    }
}
