//! The live terminal monitor: a consumer of the engine's snapshots that never touches the
//! network. It draws the latest [`Snapshot`](crate::engine::Snapshot), sends
//! [`MonitorCommand`](crate::engine::MonitorCommand)s for probe-now, pause and markers, and writes reports on `e`.
//!
//! Rooms, as in bottom: [`app`] is the state and what keys do to it (no drawing),
//! `ui` draws it (one module per region), [`theme`] and `glyphs` decide how it looks,
//! `terminal` owns raw mode and the alternate screen, and this module runs the loop.
//!
//! The loop redraws only when something changed — a snapshot, a key, a resize, or the
//! clock's second (ages are shown to the second) — never on a frame timer, so an idle
//! monitor over SSH sends nothing. Keys are read between snapshot checks at most
//! [`POLL`] apart, so they answer at once even while a sweep runs.

pub mod app;
mod clipboard;
mod export;
mod glyphs;
pub mod keys;
mod terminal;
pub mod theme;
mod ui;
mod watchdog;

#[cfg(test)]
mod fixtures;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use color_eyre::eyre::{bail, eyre, Result};
use crossterm::event::{self, Event, KeyEventKind};
use ratatui::backend::Backend;
use ratatui::Terminal;

use crate::engine::MonitorHandle;
use app::{App, Flow};
pub use terminal::stdout_is_terminal;
pub use theme::Theme;

/// How long the loop waits for a key before it looks for a new snapshot again.
pub const POLL: Duration = Duration::from_millis(100);

/// What `main` decides for the monitor.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    pub theme: Theme,
    /// Where `e` writes the reports.
    pub export_dir: PathBuf,
    /// Attach mode: a view of someone else's monitor, so no probe-now, pause or marker.
    pub read_only: bool,
    /// `--redact`: exported reports hide private names (see `report::redact`).
    pub redact: bool,
}

/// Runs the monitor until the user quits. Blocking; needs no async runtime.
pub fn run(handle: MonitorHandle, opts: TuiOptions) -> Result<()> {
    run_with_shutdown(handle, opts, Arc::new(AtomicBool::new(false)))
}

/// [`run`], also ending (and restoring the terminal) soon after `shutdown` becomes true:
/// `main`'s SIGTERM/SIGHUP handlers set it. The flag is checked at least every [`POLL`].
pub fn run_with_shutdown(
    mut handle: MonitorHandle,
    opts: TuiOptions,
    shutdown: Arc<AtomicBool>,
) -> Result<()> {
    ensure_terminal(stdout_is_terminal())?;
    let snapshot = handle.snapshots.borrow_and_update().clone();
    let mut app = App::new(snapshot, opts.theme, opts.export_dir, opts.read_only);
    app.redact_exports = opts.redact;
    let mut session =
        terminal::TerminalGuard::enter().map_err(|e| eyre!("cannot take over the terminal: {e}"))?;
    let done = Arc::new(AtomicBool::new(false));
    watchdog::spawn(shutdown.clone(), done.clone());
    let result = event_loop(
        &mut session.terminal,
        &mut app,
        &mut handle,
        &mut TerminalInput::new(),
        &shutdown,
        &mut Utc::now,
        &mut |text| clipboard::copy_to_terminal(text),
    );
    done.store(true, Ordering::SeqCst);
    drop(session);
    result.map(|_| ())
}

/// Draws one whole screen of `app` (what the loop does on every change); public so
/// benchmarks and tests can render on any backend, e.g. ratatui's `TestBackend`.
pub fn render(frame: &mut ratatui::Frame, app: &App) {
    ui::render(frame, app);
}

/// The monitor draws on a terminal or not at all; a pipe or file gets pointed at `check`.
fn ensure_terminal(stdout_is_terminal: bool) -> Result<()> {
    if !stdout_is_terminal {
        bail!(
            "the live monitor needs a terminal, but standard output is not one; \
             use `m365mon check` for a one-shot report (text, --json or --markdown)"
        );
    }
    Ok(())
}

/// Where key and resize events come from: the terminal, or a script in tests.
trait Input {
    /// The next event, or `None` when `timeout` passed without one.
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Event>>;
}

struct TerminalInput {
    /// Debug builds only: panic on the next key press when `M365MON_DEBUG_PANIC` is set,
    /// so the end-to-end tests can check that a panic gives the terminal back.
    panic_on_key: bool,
}

impl TerminalInput {
    fn new() -> Self {
        Self {
            panic_on_key: cfg!(debug_assertions)
                && std::env::var_os("M365MON_DEBUG_PANIC").is_some_and(|v| !v.is_empty()),
        }
    }
}

impl Input for TerminalInput {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Event>> {
        if event::poll(timeout)? {
            let ev = event::read()?;
            if self.panic_on_key && matches!(&ev, Event::Key(k) if k.kind == KeyEventKind::Press) {
                panic!("M365MON_DEBUG_PANIC: deliberate panic on a key press (debug builds only)");
            }
            Ok(Some(ev))
        } else {
            Ok(None)
        }
    }
}

/// How the loop ended and how much it drew (tests check that idle means no drawing).
#[derive(Debug, Default, PartialEq, Eq)]
struct LoopStats {
    frames: usize,
}

fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    handle: &mut MonitorHandle,
    input: &mut impl Input,
    shutdown: &AtomicBool,
    clock: &mut dyn FnMut() -> DateTime<Utc>,
    clipboard: &mut dyn FnMut(&str) -> io::Result<()>,
) -> Result<LoopStats> {
    let mut stats = LoopStats::default();
    let mut dirty = true;
    let mut shown_second = None;
    loop {
        if shutdown.load(Ordering::SeqCst) {
            return Ok(stats);
        }
        match handle.snapshots.has_changed() {
            Ok(true) => {
                app.set_snapshot(handle.snapshots.borrow_and_update().clone());
                dirty = true;
            }
            Ok(false) => {}
            Err(_) if !app.monitor_stopped => {
                app.set_monitor_stopped();
                dirty = true;
            }
            Err(_) => {}
        }
        let now = clock();
        if shown_second != Some(now.timestamp()) {
            shown_second = Some(now.timestamp());
            app.set_now(now);
            dirty = true;
        }
        if dirty {
            terminal
                .draw(|frame| ui::render(frame, app))
                .map_err(|e| eyre!("cannot draw the screen: {e}"))?;
            stats.frames += 1;
            dirty = false;
        }

        // Wait for input until the next clock second, but look at snapshots every POLL.
        let to_next_second = Duration::from_millis(1000 - u64::from(now.timestamp_subsec_millis().min(999)));
        let mut timeout = to_next_second.min(POLL);
        // Take every event already queued before drawing again (a held key).
        while let Some(ev) = input.next(timeout)? {
            timeout = Duration::ZERO;
            match ev {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    let flow = app.on_key(key);
                    for cmd in app.take_commands() {
                        handle.send(cmd);
                    }
                    if let Some(text) = app.take_clipboard() {
                        // A terminal that cannot take it ignores it; nothing to report.
                        let _ = clipboard(&text);
                    }
                    if flow == Flow::Quit {
                        return Ok(stats);
                    }
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
