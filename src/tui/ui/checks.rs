//! The check panes: one row per check with its light. Endpoint rows also carry a light
//! per probe stage, the latest latency, the recent history (so flapping shows) and how
//! long the current status has lasted; network and host rows carry their summary.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

use super::words;
use crate::engine::HistoryPoint;
use crate::model::{CheckResult, StageName, Status};
use crate::tui::app::{App, Focus, Grouping, Pane};
use crate::tui::glyphs;

/// History glyphs shown at most; the snapshot keeps more for the detail view.
const HISTORY: usize = 20;
const SINCE: u16 = 6;
const LATENCY: u16 = 7;
/// The name column never gets narrower than this.
const NAME_MIN: u16 = 16;

pub fn render(frame: &mut Frame, area: Rect, app: &App, pane: Pane) {
    let theme = app.theme();
    let rows = app.pane_rows(pane);
    let all = app.snapshot.checks.iter().filter(|c| c.kind == pane.kind());
    let count = |s: Status| all.clone().filter(|c| c.status == s).count();
    let mut title = vec![Span::styled(format!(" {} ", pane.title()), theme.title())];
    for status in [Status::Fail, Status::Warn, Status::Pass, Status::Skip] {
        let n = count(status);
        if n > 0 {
            title.push(Span::styled(
                format!("{} {n} {} ", glyphs::glyph(status), status),
                theme.status(status),
            ));
        }
    }
    if app.failing_only {
        title.push(Span::styled("[failing only] ", theme.accent()));
    }
    if let Some(needle) = &app.search {
        title.push(Span::styled(
            format!("[/{needle}: {} of {}] ", rows.len(), all.clone().count()),
            theme.accent(),
        ));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(theme.border(app.focus == Focus::Checks));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if rows.is_empty() {
        frame.render_widget(Paragraph::new(empty_message(app, pane)).style(theme.dim()), inner);
        return;
    }

    let items = items(app, pane, &rows);
    let selected = app
        .selected
        .as_deref()
        .and_then(|id| items.iter().position(|i| matches!(i, Item::Row(c) if c.id == id)));
    let offset_cell = &app.metrics.table_offset[pane.index()];
    // Never leave blank rows at the bottom while rows are scrolled away at the top (after
    // the pane grew back); the table then moves the offset to keep the selection shown.
    let header_rows = usize::from(pane == Pane::Endpoints);
    let fits = usize::from(inner.height).saturating_sub(header_rows);
    let mut offset = offset_cell.get().min(items.len().saturating_sub(fits));
    // Scroll just enough to keep the selection shown (as the table itself would).
    if let Some(sel) = selected {
        if sel < offset {
            offset = sel;
        } else if fits > 0 && sel >= offset + fits {
            offset = sel + 1 - fits;
        }
    }
    // Only the rows on screen are built: the cost of a frame follows the screen, not
    // the catalog (2,000 endpoints draw as cheaply as 20).
    let window = offset..(offset + fits).min(items.len());
    let mut state = TableState::default().with_selected(selected.map(|s| s - offset));
    let table = match pane {
        Pane::Endpoints => endpoint_table(app, &rows, &items[window], inner.width),
        Pane::Network | Pane::Host => summary_table(app, &rows, &items[window], inner.width),
    };
    frame.render_stateful_widget(table.row_highlight_style(theme.selected()), inner, &mut state);
    offset_cell.set(offset);
}

/// One line of a check pane: a group's header (grouped endpoints) or a check.
enum Item<'a> {
    Header {
        name: String,
        worst: Status,
        counts: [usize; 4],
        folded: usize,
    },
    Row(&'a CheckResult),
}

/// The lines of a pane: its rows, under their group headers when the endpoints are
/// grouped (a folded group is its header alone).
fn items<'a>(app: &'a App, pane: Pane, rows: &[&'a CheckResult]) -> Vec<Item<'a>> {
    if pane != Pane::Endpoints || app.grouping == Grouping::Off {
        return rows.iter().map(|c| Item::Row(c)).collect();
    }
    let mut out = Vec::new();
    for g in app.endpoint_groups() {
        out.push(Item::Header {
            name: g.name,
            worst: g.worst,
            counts: g.counts,
            folded: g.folded,
        });
        out.extend(g.rows.into_iter().map(Item::Row));
    }
    out
}

/// `> Exchange  x 1 fail + 73 pass  (73 folded)`: `>` folded (g opens), `v` open.
fn header_line(app: &App, name: &str, counts: [usize; 4], folded: usize) -> Line<'static> {
    let theme = app.theme();
    let mut spans = vec![Span::styled(
        format!("{} {name} ", if folded > 0 { ">" } else { "v" }),
        theme.title(),
    )];
    for (i, status) in [Status::Fail, Status::Warn, Status::Pass, Status::Skip]
        .into_iter()
        .enumerate()
    {
        if counts[i] > 0 {
            spans.push(Span::styled(
                format!(" {} {} {}", glyphs::glyph(status), counts[i], status),
                theme.status(status),
            ));
        }
    }
    if folded > 0 {
        spans.push(Span::styled(format!("  ({folded} folded)"), theme.dim()));
    }
    Line::from(spans)
}

/// A pane with nothing to say, on one line: "This machine: 16 checks are Windows-only —
/// skipped on Linux", "Network: 7 pass, 1 skipped". Selecting one of its checks (j/k
/// walks into it) opens it again.
pub fn render_collapsed(frame: &mut Frame, area: Rect, app: &App, pane: Pane) {
    let theme = app.theme();
    let all: Vec<&CheckResult> = app
        .snapshot
        .checks
        .iter()
        .filter(|c| c.kind == pane.kind())
        .collect();
    let worst = all.iter().map(|c| c.status).max().unwrap_or(Status::Skip);
    let line = Line::from(vec![
        Span::raw(" "),
        glyphs::light(theme, worst),
        Span::styled(format!(" {}: ", pane.title()), theme.title()),
        Span::styled(collapsed_text(app, &all), theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn collapsed_text(app: &App, all: &[&CheckResult]) -> String {
    let count = |s: Status| all.iter().filter(|c| c.status == s).count();
    let plural = |n: usize| if n == 1 { "check" } else { "checks" };
    let (pass, skip) = (count(Status::Pass), count(Status::Skip));
    if pass == 0 && skip == all.len() {
        let windows = all
            .iter()
            .filter(|c| c.summary.starts_with("Windows only"))
            .count();
        let mac = all.iter().filter(|c| c.summary.starts_with("macOS only")).count();
        let os = app
            .snapshot
            .host
            .os
            .split_whitespace()
            .next()
            .unwrap_or("this OS");
        let mut parts = Vec::new();
        if windows > 0 {
            parts.push(format!("{windows} Windows-only"));
        }
        if mac > 0 {
            parts.push(format!("{mac} macOS-only"));
        }
        let other = skip - windows - mac;
        if other > 0 {
            parts.push(format!("{other} not applicable"));
        }
        return format!("{skip} {} skipped on {os} ({})", plural(skip), parts.join(", "));
    }
    let mut text = format!("all {pass} {} pass", plural(pass));
    if skip > 0 {
        text.push_str(&format!(", {skip} skipped"));
    }
    text
}

fn empty_message(app: &App, pane: Pane) -> Line<'static> {
    let theme = app.theme();
    if app.snapshot.sweeps == 0 && app.snapshot.checks.is_empty() {
        return Line::from(vec![
            Span::styled(format!("{} ", glyphs::PENDING), theme.pending()),
            Span::raw("Waiting for the first sweep..."),
        ]);
    }
    let total = app
        .snapshot
        .checks
        .iter()
        .filter(|c| c.kind == pane.kind())
        .count();
    if let (Some(needle), true) = (&app.search, total > 0) {
        Line::from(format!(
            "Nothing among {total} matches \"{needle}\" (/ then Esc clears)."
        ))
    } else if app.failing_only && total > 0 {
        Line::from(format!("Nothing failing among {total} (f shows all)."))
    } else {
        Line::from("No checks of this kind in the catalog.")
    }
}

/// Width of everything but the name and history columns: light, DNS, TCP, TLS, HTTP,
/// latency, since, and one space between those eight columns.
const FIXED: u16 = 1 + 3 + 3 + 3 + 4 + LATENCY + SINCE + 7;
/// The loss and jitter columns with their spaces, shown once the history strip is whole.
const STATS: u16 = 5 + 1 + 7 + 1;
/// Names up to this long get their full width before the history strip gets any.
const NAME_WANTED: u16 = 36;

/// How wide the history strip is at this width: names come first (up to their length or
/// [`NAME_WANTED`]), then up to [`HISTORY`] results; fewer than 5 are not worth showing.
fn history_width(width: u16, longest_name: u16) -> u16 {
    let name = longest_name.clamp(NAME_MIN, NAME_WANTED);
    let spare = width.saturating_sub(FIXED + name + 1);
    if spare >= 5 {
        spare.min(HISTORY as u16)
    } else {
        0
    }
}

/// The table of `rows[window]`; column widths follow all of `rows`, so they stay put
/// while the list scrolls.
fn endpoint_table<'a>(app: &App, rows: &[&CheckResult], window: &[Item<'_>], width: u16) -> Table<'a> {
    let theme = app.theme();
    let longest = rows
        .iter()
        .map(|c| words::check_name(&c.id).chars().count())
        .max()
        .unwrap_or(0);
    let longest = longest.min(usize::from(NAME_WANTED)) as u16;
    let history_cols = history_width(width, longest);
    let stats = history_cols == HISTORY as u16
        && width >= FIXED + longest.max(NAME_MIN) + 1 + history_cols + 1 + STATS;
    let name_width = usize::from(width.saturating_sub(
        FIXED + if history_cols > 0 { history_cols + 1 } else { 0 } + if stats { STATS } else { 0 },
    ));
    let mut header = vec!["", "Endpoint", "DNS", "TCP", "TLS", "HTTP", "Latency"];
    if history_cols > 0 {
        header.push("History");
    }
    if stats {
        header.extend([" Loss", " Jitter"]);
    }
    header.push("Since");
    let header = Row::new(header.into_iter().map(Cell::from)).style(theme.dim());

    let body = window.iter().map(|item| {
        let c = match item {
            Item::Row(c) => *c,
            Item::Header {
                name,
                worst,
                counts,
                folded,
            } => {
                return Row::new(vec![
                    Cell::from(glyphs::light(theme, *worst)),
                    Cell::from(header_line(app, name, *counts, *folded)),
                ]);
            }
        };
        let families = family_breakdown(theme, c);
        let families_width: usize = families.iter().map(|s| s.content.chars().count()).sum();
        let mut name = vec![Span::raw(words::fit_name(
            words::check_name(&c.id),
            name_width.saturating_sub(families_width),
        ))];
        name.extend(families);
        let mut cells = vec![
            Cell::from(glyphs::light(theme, c.status)),
            Cell::from(Line::from(name)),
        ];
        for stage in StageName::ALL {
            let light = match c.stage(stage) {
                Some(s) => glyphs::light(theme, s.status),
                None => glyphs::not_run(theme),
            };
            cells.push(Cell::from(Line::from(vec![Span::raw(" "), light])));
        }
        cells.push(Cell::from(
            Line::from(words::latency(c.duration_ms)).right_aligned(),
        ));
        if history_cols > 0 {
            cells.push(Cell::from(history(app, c, usize::from(history_cols))));
        }
        if stats {
            let (loss, jitter) = loss_and_jitter(app, c);
            cells.push(Cell::from(Line::from(loss).right_aligned()));
            cells.push(Cell::from(Line::from(jitter).right_aligned()));
        }
        cells.push(Cell::from(since(app, c)));
        Row::new(cells)
    });

    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Length(LATENCY),
    ];
    if history_cols > 0 {
        widths.push(Constraint::Length(history_cols));
    }
    if stats {
        widths.extend([Constraint::Length(5), Constraint::Length(7)]);
    }
    widths.push(Constraint::Length(SINCE));
    Table::new(body, widths).header(header).column_spacing(1)
}

/// ` 4+ 6x` after the name of an endpoint probed over both families: each family's light
/// (the worst of its addresses), in the same ASCII shapes as the stage lights. Nothing
/// for an endpoint with addresses of one family only.
fn family_breakdown(theme: &crate::tui::theme::Theme, c: &CheckResult) -> Vec<Span<'static>> {
    use crate::model::IpFamily;
    let mut out = Vec::new();
    let per_family: Vec<(IpFamily, Status)> = [IpFamily::Ipv4, IpFamily::Ipv6]
        .into_iter()
        .filter_map(|f| {
            let statuses = c.addresses.iter().filter(|a| a.family == f).map(|a| a.status);
            statuses.max().map(|s| (f, s))
        })
        .collect();
    if per_family.len() < 2 {
        return out;
    }
    for (family, status) in per_family {
        out.push(Span::styled(format!(" {}", family.digit()), theme.dim()));
        out.push(glyphs::light(theme, status));
    }
    out
}

fn summary_table<'a>(app: &App, rows: &[&CheckResult], window: &[Item<'_>], width: u16) -> Table<'a> {
    let theme = app.theme();
    let longest = rows
        .iter()
        .map(|c| words::short_check_name(&c.id).chars().count())
        .max()
        .unwrap_or(0);
    let name_width = (longest as u16).clamp(6, (width / 3).max(6));
    let body = window.iter().filter_map(|i| match i {
        Item::Row(c) => Some(*c),
        Item::Header { .. } => None,
    });
    let body = body.map(|c| {
        Row::new(vec![
            Cell::from(glyphs::light(theme, c.status)),
            Cell::from(words::fit_name(
                words::short_check_name(&c.id),
                usize::from(name_width),
            )),
            Cell::from(c.summary.clone()),
            Cell::from(since(app, c)),
        ])
    });
    let widths = [
        Constraint::Length(1),
        Constraint::Length(name_width),
        Constraint::Fill(1),
        Constraint::Length(SINCE),
    ];
    Table::new(body, widths).column_spacing(1)
}

/// The last results, newest on the right: a failure, warning or skip as its light; a pass
/// as a bar of its latency, so a slowing endpoint shows before it turns yellow. The scale
/// is fixed and doubles per step (`▁` under 25 ms ... `█` 1.6 s and more): rows compare
/// with each other, and a new sweep does not redraw the whole strip (bytes over SSH).
/// The monochrome theme (`NO_COLOR`) keeps `+`: not every console font has the blocks.
fn history(app: &App, c: &CheckResult, width: usize) -> Line<'static> {
    const BARS: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    const STEPS_MS: [f64; 7] = [25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0];
    let theme = app.theme();
    let ascii = theme.name == "monochrome";
    let recent: Vec<HistoryPoint> = app
        .snapshot
        .history
        .get(&c.id)
        .map(|h| h.iter().rev().take(width).rev().copied().collect())
        .unwrap_or_default();
    let mut spans = vec![Span::raw(" ".repeat(width - recent.len()))];
    spans.extend(recent.into_iter().map(|p| {
        let style = strip_bold(theme.status(p.status));
        if p.status != Status::Pass || ascii {
            return glyphs::light(theme, p.status).style(style);
        }
        let level = STEPS_MS.iter().take_while(|step| p.ms >= **step).count();
        Span::styled(BARS[level], style)
    }));
    Line::from(spans)
}

/// Over the history kept: the share of sweeps that failed, and the jitter (mean change
/// of latency between consecutive passing sweeps).
fn loss_and_jitter(app: &App, c: &CheckResult) -> (String, String) {
    let Some(h) = app.snapshot.history.get(&c.id) else {
        return (String::new(), String::new());
    };
    let counted: Vec<&HistoryPoint> = h.iter().filter(|p| p.status != Status::Skip).collect();
    if counted.is_empty() {
        return (String::new(), String::new());
    }
    let failed = counted.iter().filter(|p| p.status == Status::Fail).count();
    let loss = format!("{:.0}%", 100.0 * failed as f64 / counted.len() as f64);
    let ms: Vec<f64> = counted
        .iter()
        .filter(|p| p.status == Status::Pass)
        .map(|p| p.ms)
        .collect();
    let jitter = if ms.len() < 2 {
        "-".to_string()
    } else {
        let sum: f64 = ms.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
        words::latency(sum / (ms.len() - 1) as f64)
    };
    (loss, jitter)
}

/// History glyphs are many; bold on all of them would shout.
fn strip_bold(style: Style) -> Style {
    style.remove_modifier(ratatui::style::Modifier::BOLD)
}

fn since(app: &App, c: &CheckResult) -> Line<'static> {
    let age = app
        .snapshot
        .since
        .get(&c.id)
        .map(|t| words::age_coarse(*t, app.now))
        .unwrap_or_default();
    Line::from(age).right_aligned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_their_width_before_the_history_strip() {
        assert_eq!(history_width(200, 61), 20);
        assert_eq!(history_width(78, 61), 78 - FIXED - NAME_WANTED - 1);
        assert_eq!(history_width(78, 20), 20);
        assert_eq!(history_width(FIXED + NAME_MIN + 1 + 5, 10), 5);
        assert_eq!(history_width(FIXED + NAME_MIN + 1 + 4, 10), 0);
        assert_eq!(history_width(0, 0), 0);
    }
}
