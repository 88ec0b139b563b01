//! The lights: a shape for every status, so the screen reads the same without colour, on
//! a monochrome terminal and for colour-blind users.
//!
//! Only ASCII is used for the lights: every Windows console font, PuTTY and the Linux
//! console draw it, whatever the code page. The shapes were chosen to differ in outline,
//! not just in detail: `+` (pass), `!` (warn), `x` (fail), `-` (skip), `?` (pending) and a
//! low `.` for a stage that did not run.

use ratatui::text::Span;

use super::theme::Theme;
use crate::model::Status;

pub const PASS: &str = "+";
pub const WARN: &str = "!";
pub const FAIL: &str = "x";
pub const SKIP: &str = "-";
/// No result yet (before the first sweep ends).
pub const PENDING: &str = "?";
/// A stage that did not run because an earlier one failed, or that does not apply.
pub const NOT_RUN: &str = ".";

/// The shape of a status.
pub fn glyph(status: Status) -> &'static str {
    match status {
        Status::Pass => PASS,
        Status::Warn => WARN,
        Status::Fail => FAIL,
        Status::Skip => SKIP,
    }
}

/// A status in capitals, for the places that have room for a word as well.
pub fn word(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
    }
}

/// A one-character light in the status's colour.
pub fn light(theme: &Theme, status: Status) -> Span<'static> {
    Span::styled(glyph(status), theme.status(status))
}

/// The placeholder for a stage that did not run.
pub fn not_run(theme: &Theme) -> Span<'static> {
    Span::styled(NOT_RUN, theme.dim())
}

/// The legend shown in the help overlay.
pub const LEGEND: &[(&str, &str)] = &[
    (PASS, "pass"),
    (WARN, "warn"),
    (FAIL, "fail"),
    (SKIP, "skip (does not apply here)"),
    (PENDING, "pending (no result yet)"),
    (NOT_RUN, "stage did not run"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_light_is_a_distinct_printable_ascii_character() {
        let all = [PASS, WARN, FAIL, SKIP, PENDING, NOT_RUN];
        for g in all {
            assert_eq!(g.len(), 1, "{g:?}");
            assert!(g.chars().all(|c| c.is_ascii_graphic()), "{g:?}");
        }
        let mut unique = all.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert_eq!(LEGEND.len(), all.len());
    }

    #[test]
    fn statuses_map_to_their_shapes() {
        assert_eq!(glyph(Status::Pass), "+");
        assert_eq!(glyph(Status::Warn), "!");
        assert_eq!(glyph(Status::Fail), "x");
        assert_eq!(glyph(Status::Skip), "-");
        assert_eq!(word(Status::Fail), "FAIL");
    }
}
