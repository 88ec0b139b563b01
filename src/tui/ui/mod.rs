//! Drawing: one module per screen region, each a `render(frame, area, app)` function that
//! only reads the [`App`]. This module splits the screen.
//!
//! Wide terminals (at least [`WIDE`] columns) put the remediation panel beside the checks:
//!
//! ```text
//! +--------------------------------------------------------------------------+
//! | header: [x] FAIL  host  user  cloud  LAB badge                            |
//! |         poll interval, last sweep, sweeping / paused                     |
//! +-------------------------------------------+------------------------------+
//! | Endpoints                                 | Remediation for the selected |
//! |  light  host/path  DNS TCP TLS HTTP  ms   | check, or the top finding    |
//! |         history  since                    |                              |
//! +-------------------------------------------+                              |
//! | Network       (only when such checks run) |                              |
//! +-------------------------------------------+                              |
//! | This machine  (only when such checks run) |                              |
//! +-------------------------------------------+------------------------------+
//! | Events: status changes and markers, newest at the bottom                 |
//! +--------------------------------------------------------------------------+
//! | status line (only while there is a message)                              |
//! | footer: the keys that matter now, or the marker input                    |
//! +--------------------------------------------------------------------------+
//! ```
//!
//! Narrower terminals stack the same regions: checks, remediation, events. Below
//! [`MIN_WIDTH`] x [`MIN_HEIGHT`] a centred notice replaces everything. The help and
//! detail views are drawn over the main screen.

mod checks;
mod detail;
mod events;
mod explain;
mod footer;
mod header;
mod help;
mod remediation;
mod too_small;
pub mod words;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;
use ratatui::Frame;

use super::app::{App, Overlay, Pane};

/// Smallest screen the monitor draws; below it a notice says what is needed.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this width on, the remediation panel sits beside the checks.
pub const WIDE: u16 = 140;

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    frame.render_widget(Block::new().style(app.theme().text()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small::render(frame, area, app);
        return;
    }
    let status_height = footer::status_height(app, area.width);
    let [header_area, body, status_area, footer_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(status_height),
        Constraint::Length(1),
    ])
    .areas(area);

    header::render(frame, header_area, app);
    let regions = split_body(body, app);
    for (pane, rect) in &regions.panes {
        checks::render(frame, *rect, app, *pane);
    }
    remediation::render(frame, regions.remediation, app);
    events::render(frame, regions.events, app);
    if status_height > 0 {
        footer::render_status(frame, status_area, app);
    }
    footer::render(frame, footer_area, app);

    // Scrolling moves by what one pane shows.
    let page = regions
        .panes
        .first()
        .map(|(_, r)| r.height.saturating_sub(3))
        .unwrap_or(1)
        .max(1);
    app.metrics.page.set(usize::from(page));

    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help::render(frame, area, app),
        Overlay::Detail(id) => detail::render(frame, area, app, id),
        Overlay::Explain(code) => explain::render(frame, area, app, *code),
    }
}

/// Where each region of the body goes.
struct Regions {
    panes: Vec<(Pane, Rect)>,
    remediation: Rect,
    events: Rect,
}

fn split_body(body: Rect, app: &App) -> Regions {
    let events_height = (body.height / 5).clamp(3, 10);
    if body.width >= WIDE {
        let [top, events] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(events_height)]).areas(body);
        let [checks, remediation] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(top);
        Regions {
            panes: split_checks(checks, app),
            remediation,
            events,
        }
    } else {
        // Stacked, the check panes take what their rows need (up to 60%) and the
        // remediation panel, which is mostly longer than its space, gets the rest.
        let wanted: u16 = Pane::ALL
            .iter()
            .filter(|p| app.pane_present(**p))
            .map(|p| pane_height(app, *p))
            .sum();
        let checks_height = wanted.min(body.height * 3 / 5).max(5);
        let [checks, remediation, events] = Layout::vertical([
            Constraint::Length(checks_height),
            Constraint::Min(5),
            Constraint::Length(events_height),
        ])
        .areas(body);
        Regions {
            panes: split_checks(checks, app),
            remediation,
            events,
        }
    }
}

/// Rows plus borders (and the endpoints' header row); an empty pane keeps one line for
/// saying why it is empty.
fn pane_height(app: &App, pane: Pane) -> u16 {
    let rows = app.pane_rows(pane).len().max(1).min(usize::from(u16::MAX / 2)) as u16;
    match pane {
        Pane::Endpoints => rows + 3,
        Pane::Network | Pane::Host => rows + 2,
    }
}

/// The endpoints pane takes what the smaller panes leave; each of those gets its rows
/// (or one line saying none is failing) but never so much that the endpoints vanish.
fn split_checks(area: Rect, app: &App) -> Vec<(Pane, Rect)> {
    let others: Vec<Pane> = [Pane::Network, Pane::Host]
        .into_iter()
        .filter(|p| app.pane_present(*p))
        .collect();
    let mut constraints = vec![Constraint::Fill(1)];
    if !others.is_empty() {
        let share = (area.height.saturating_sub(6) / others.len() as u16).max(3);
        for pane in &others {
            constraints.push(Constraint::Length(pane_height(app, *pane).min(share)));
        }
    }
    let rects = Layout::vertical(constraints).split(area);
    std::iter::once(Pane::Endpoints)
        .chain(others)
        .zip(rects.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests;
