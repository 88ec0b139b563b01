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
//! Narrower terminals stack the same regions: checks, remediation, events.
//!
//! Regions get rows by what they have to say (see [`split_body`]): failing rows sort
//! first, a pane of skipped checks is one line, passing panes fold to one line and the
//! events pane to its newest line when space is short, and stacked, the remediation panel
//! always keeps its title and first step. So at 80x24 a failing row and the first thing
//! to do are on screen with no key pressed. Below
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
use crate::model::Status;

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
    for (pane, rect, collapsed) in &regions.panes {
        if *collapsed {
            checks::render_collapsed(frame, *rect, app, *pane);
        } else {
            checks::render(frame, *rect, app, *pane);
        }
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
        .map(|(_, r, _)| r.height.saturating_sub(3))
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
    /// Each check pane with its place and whether it is collapsed to one summary line.
    panes: Vec<(Pane, Rect, bool)>,
    remediation: Rect,
    events: Rect,
}

/// Panes get rows by what they have to say. In order, until everything fits: a pane
/// whose checks are all skipped is one line from the start; then panes with nothing
/// failing or warning collapse to one line; then the events pane shrinks to its newest
/// line. The endpoints take what is left after the remediation panel's lead (its title
/// and first step when something is wrong), and the panel gets the rest.
fn split_body(body: Rect, app: &App) -> Regions {
    let wide = body.width >= WIDE;
    // The events pane never takes more lines than there are events (and one for "none").
    let events_needed = app.snapshot.events.len().clamp(1, 10) as u16 + 2;
    let full_events = (body.height / 5).clamp(3, 10).min(events_needed);
    // Beside the checks the panel has the whole height; stacked it needs its lead, and
    // passing panes give way to the rest of it (up to half the body).
    let (lead, whole) = if wide {
        (0, 0)
    } else {
        let (lead, whole) = remediation::heights(app, body.width, 6);
        (lead.max(3), whole.min(body.height / 2).max(lead.max(3)))
    };
    let wanted = |collapse: bool| -> Vec<(Pane, u16, bool)> {
        Pane::ALL
            .iter()
            .filter(|p| app.pane_present(**p))
            .map(|p| {
                if collapsible(app, *p, collapse) {
                    (*p, 1, true)
                } else {
                    (*p, pane_height(app, *p), false)
                }
            })
            .collect()
    };
    // In u32: a pane's rows alone may approach u16::MAX.
    let sum = |plan: &[(Pane, u16, bool)]| plan.iter().map(|(_, h, _)| u32::from(*h)).sum::<u32>();
    let fits = |plan: &[(Pane, u16, bool)], events: u16, panel: u16| {
        sum(plan) + u32::from(events) + u32::from(panel) <= u32::from(body.height)
    };
    let mut plan = wanted(false);
    let mut events_height = full_events;
    if !fits(&plan, events_height, whole) {
        plan = wanted(true);
    }
    if !fits(&plan, events_height, lead) {
        events_height = 1;
    }
    if wide {
        let [top, events] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(events_height)]).areas(body);
        let [checks, remediation] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(top);
        Regions {
            panes: split_checks(checks, &plan),
            remediation,
            events,
        }
    } else {
        let room = body.height.saturating_sub(events_height + lead);
        let checks_height = (sum(&plan).min(u32::from(room)) as u16).max(5);
        let [checks, remediation, events] = Layout::vertical([
            Constraint::Length(checks_height),
            Constraint::Min(3),
            Constraint::Length(events_height),
        ])
        .areas(body);
        Regions {
            panes: split_checks(checks, &plan),
            remediation,
            events,
        }
    }
}

/// Whether a side pane (network, this machine) can be one summary line: never while it
/// holds the selection; always when all its checks are skipped; when space is short
/// (`short`), also when none of them fails or warns.
fn collapsible(app: &App, pane: Pane, short: bool) -> bool {
    if pane == Pane::Endpoints {
        return false;
    }
    if app.selected_check().is_some_and(|c| c.kind == pane.kind()) {
        return false;
    }
    let mut all = app
        .snapshot
        .checks
        .iter()
        .filter(|c| c.kind == pane.kind())
        .peekable();
    if all.peek().is_none() {
        return false;
    }
    let statuses: Vec<Status> = all.map(|c| c.status).collect();
    statuses.iter().all(|s| *s == Status::Skip)
        || (short && !statuses.iter().any(|s| matches!(s, Status::Fail | Status::Warn)))
}

/// Rows plus borders (and the endpoints' header row); an empty pane keeps one line for
/// saying why it is empty.
fn pane_height(app: &App, pane: Pane) -> u16 {
    let mut rows = app.pane_rows(pane).len();
    if pane == Pane::Endpoints && app.grouping != crate::tui::app::Grouping::Off {
        rows += app.endpoint_groups().len();
    }
    let rows = rows.max(1).min(usize::from(u16::MAX / 2)) as u16;
    match pane {
        Pane::Endpoints => rows + 3,
        Pane::Network | Pane::Host => rows + 2,
    }
}

/// The endpoints pane takes what the smaller panes leave; each of those gets its rows
/// (or one line saying none is failing) but never so much that the endpoints vanish.
fn split_checks(area: Rect, plan: &[(Pane, u16, bool)]) -> Vec<(Pane, Rect, bool)> {
    let open_others = plan
        .iter()
        .filter(|(p, _, collapsed)| *p != Pane::Endpoints && !collapsed)
        .count()
        .max(1) as u16;
    let collapsed_lines = plan.iter().filter(|(_, _, c)| *c).count() as u16;
    let share = (area.height.saturating_sub(6 + collapsed_lines) / open_others).max(3);
    let constraints: Vec<Constraint> = plan
        .iter()
        .map(|(p, h, collapsed)| match (p, collapsed) {
            (Pane::Endpoints, _) => Constraint::Fill(1),
            (_, true) => Constraint::Length(1),
            (_, false) => Constraint::Length((*h).min(share)),
        })
        .collect();
    let rects = Layout::vertical(constraints).split(area);
    plan.iter()
        .zip(rects.iter().copied())
        .map(|((p, _, c), r)| (*p, r, *c))
        .collect()
}

#[cfg(test)]
mod tests;
