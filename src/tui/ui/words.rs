//! Formatting shared by the render modules: ages, latencies, names that fit, and a small
//! word-wrapping document so scrolled panels know exactly how many lines they hold.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// `42s`, `12m05s`, `3h07m`, `2d04h`: the age of a status, compact enough for a column.
pub fn age(from: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - from).num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Like [`age`], but to the minute once past the first minute (`42s`, `12m`, `3h07m`):
/// for table columns, where a per-second count on every row would make the monitor
/// rewrite the whole column every second — costly over a slow SSH link — for no gain.
pub fn age_coarse(from: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - from).num_seconds().max(0);
    match s {
        60..=3599 => format!("{}m", s / 60),
        _ => age(from, now),
    }
}

/// `85 ms`, `3.0 s`: latencies for a 7-column cell.
pub fn latency(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A check id as people read it: endpoints without the `endpoint:` prefix.
pub fn check_name(id: &str) -> &str {
    id.strip_prefix("endpoint:").unwrap_or(id)
}

/// A check's name inside its own pane, where the kind is the pane's title.
pub fn short_check_name(id: &str) -> &str {
    id.split_once(':').map(|(_, rest)| rest).unwrap_or(id)
}

/// Fits `host/path` into `width` columns. Several CRL endpoints share a host and differ
/// only at the end of their path, so the middle of the path gives way first:
/// `crl.microsoft.com/..ductSecureServer.crl`. ASCII only, like the rest of the screen.
pub fn fit_name(name: &str, width: usize) -> String {
    let len = name.chars().count();
    if len <= width {
        return name.to_string();
    }
    if width < 4 {
        return name.chars().take(width).collect();
    }
    let (host, path) = match name.find('/') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    let host_len = host.chars().count();
    // host + "/.." + at least 8 characters of the path's end
    if !path.is_empty() && host_len + 3 + 8 <= width {
        let keep = width - host_len - 3;
        let tail: String = path.chars().skip(path.chars().count() - keep).collect();
        return format!("{host}/..{tail}");
    }
    let mut cut: String = name.chars().take(width - 1).collect();
    cut.push('~');
    cut
}

/// Pads or cuts to exactly `width` columns.
pub fn pad(text: &str, width: usize) -> String {
    let mut s: String = text.chars().take(width).collect();
    let n = s.chars().count();
    s.extend(std::iter::repeat_n(' ', width - n));
    s
}

/// Lines for a panel, wrapped to its width as they are added.
#[derive(Debug, Default)]
pub struct Doc {
    pub width: usize,
    pub lines: Vec<Line<'static>>,
}

impl Doc {
    pub fn new(width: u16) -> Doc {
        Doc {
            width: usize::from(width).max(1),
            lines: Vec::new(),
        }
    }

    pub fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    /// A line as is (cut at the panel's edge).
    pub fn line(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    /// `lead` followed by `text` wrapped at word boundaries; continuation lines are
    /// indented by `indent` columns so numbered steps and labels hang.
    pub fn para(&mut self, lead: Vec<Span<'static>>, text: &str, style: Style, indent: usize) {
        let width = self.width;
        // Continuation lines must leave room for at least one character.
        let indent = indent.min(width - 1);
        let mut spans = lead;
        let mut col: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let mut chunk = String::new();
        let mut has_word = false;
        let mut newline =
            |spans: &mut Vec<Span<'static>>, chunk: &mut String, col: &mut usize, has_word: &mut bool| {
                spans.push(Span::styled(std::mem::take(chunk), style));
                self.lines.push(Line::from(std::mem::replace(
                    spans,
                    vec![Span::raw(" ".repeat(indent))],
                )));
                *col = indent;
                *has_word = false;
            };
        for word in text.split_whitespace() {
            let chars: Vec<char> = word.chars().collect();
            let mut rest = chars.as_slice();
            while !rest.is_empty() {
                let sep = usize::from(has_word);
                if col + sep + rest.len() <= width {
                    if has_word {
                        chunk.push(' ');
                    }
                    chunk.extend(rest);
                    col += sep + rest.len();
                    has_word = true;
                    break;
                }
                if !has_word && col < width {
                    // A word longer than a whole line: break it where the line ends.
                    let room = width - col;
                    chunk.extend(&rest[..room]);
                    rest = &rest[room..];
                }
                newline(&mut spans, &mut chunk, &mut col, &mut has_word);
            }
        }
        if has_word || spans.iter().any(|s| !s.content.trim().is_empty()) {
            spans.push(Span::styled(chunk, style));
            self.lines.push(Line::from(spans));
        }
    }

    /// Text that must survive copying (a command): cut hard at the edge rather than at
    /// spaces, continuation lines carrying the same indent.
    pub fn verbatim(&mut self, indent: usize, text: &str, style: Style) {
        let room = self.width.saturating_sub(indent).max(1);
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(room) {
            self.lines.push(Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(piece.iter().collect::<String>(), style),
            ]));
        }
    }

    /// Draws the lines from `scroll` (clamped), reporting the furthest useful scroll.
    pub fn render(self, frame: &mut Frame, area: Rect, scroll: usize, max: &Cell<usize>, style: Style) {
        let furthest = self.lines.len().saturating_sub(usize::from(area.height));
        max.set(furthest);
        let from = scroll.min(furthest);
        let lines: Vec<Line> = self
            .lines
            .into_iter()
            .skip(from)
            .take(usize::from(area.height))
            .collect();
        frame.render_widget(Paragraph::new(lines).style(style), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn plain(doc: &Doc) -> Vec<String> {
        doc.lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn ages_are_compact() {
        let t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let at = |s| t + chrono::Duration::seconds(s);
        assert_eq!(age(t, at(42)), "42s");
        assert_eq!(age(t, at(725)), "12m05s");
        assert_eq!(age(t, at(3 * 3600 + 7 * 60)), "3h07m");
        assert_eq!(age(t, at(2 * 86_400 + 4 * 3600)), "2d04h");
        assert_eq!(age(at(10), t), "0s", "a clock step back is not negative");
        assert_eq!(age_coarse(t, at(42)), "42s");
        assert_eq!(age_coarse(t, at(725)), "12m");
        assert_eq!(age_coarse(t, at(3 * 3600 + 7 * 60)), "3h07m");
    }

    #[test]
    fn latencies_switch_to_seconds() {
        assert_eq!(latency(85.4), "85 ms");
        assert_eq!(latency(3009.0), "3.0 s");
    }

    #[test]
    fn long_crl_names_keep_host_and_the_end_of_the_path() {
        let n = "crl.microsoft.com/pki/crl/products/MicrosoftProductSecureServer.crl";
        assert_eq!(fit_name(n, 80), n);
        let fit = fit_name(n, 40);
        assert_eq!(fit.chars().count(), 40);
        assert_eq!(fit, "crl.microsoft.com/..ductSecureServer.crl");
        assert_eq!(
            fit_name("enterpriseregistration.windows.net", 20),
            "enterpriseregistrat~"
        );
        assert_eq!(fit_name("abcdef", 3), "abc");
        assert_eq!(fit_name("abc", 0), "");
    }

    #[test]
    fn paragraphs_wrap_at_words_with_a_hanging_indent() {
        let mut d = Doc::new(20);
        d.para(
            vec![Span::raw(" 1. ")],
            "Ask the network administrator to allow it",
            Style::new(),
            4,
        );
        assert_eq!(
            plain(&d),
            [" 1. Ask the network", "    administrator to", "    allow it"]
        );
        assert!(plain(&d).iter().all(|l| l.chars().count() <= 20));
    }

    #[test]
    fn words_longer_than_a_line_are_broken_not_lost() {
        let mut d = Doc::new(10);
        d.para(vec![], "https://learn.microsoft.com/x", Style::new(), 0);
        assert_eq!(plain(&d).concat(), "https://learn.microsoft.com/x");
        assert!(
            plain(&d).iter().all(|l| l.chars().count() <= 10),
            "{:?}",
            plain(&d)
        );
    }

    #[test]
    fn verbatim_text_is_cut_hard_and_keeps_every_character() {
        let mut d = Doc::new(12);
        d.verbatim(2, "ipconfig /flushdns", Style::new());
        assert_eq!(plain(&d), ["  ipconfig /", "  flushdns"]);
    }

    #[test]
    fn wrapping_survives_a_width_of_one() {
        let mut d = Doc::new(1);
        d.para(vec![Span::raw("ab")], "cd ef", Style::new(), 3);
        d.verbatim(5, "xyz", Style::new());
        assert!(!d.lines.is_empty());
    }
}
