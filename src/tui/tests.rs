//! The event loop, driven by scripted input on a test backend: keys reach the engine as
//! commands, nothing is drawn while nothing changes, and every way out ends the loop.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokio::sync::{mpsc, watch};

use super::{event_loop, fixtures, Input, LoopStats};
use crate::engine::{MonitorCommand, MonitorHandle, Snapshot};
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// One step of a script.
enum Step {
    Key(KeyCode),
    Release(KeyCode),
    /// The poll times out with nothing to read.
    Idle,
    Resize(u16, u16),
    /// The engine publishes a snapshot (while the loop waits for input).
    Publish(Box<Snapshot>),
    /// The engine goes away.
    EngineStops,
}

struct Script {
    steps: VecDeque<Step>,
    snapshots: Option<watch::Sender<Arc<Snapshot>>>,
    timeouts: Vec<Duration>,
}

impl Input for Script {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Event>> {
        self.timeouts.push(timeout);
        // A zero timeout is the loop draining queued keys: only keys are queued.
        if timeout.is_zero() && !matches!(self.steps.front(), Some(Step::Key(_) | Step::Release(_))) {
            return Ok(None);
        }
        let key = |code, kind| Event::Key(KeyEvent::new_with_kind(code, KeyModifiers::NONE, kind));
        Ok(
            match self
                .steps
                .pop_front()
                .expect("script ran out: the loop did not quit")
            {
                Step::Key(code) => Some(key(code, KeyEventKind::Press)),
                Step::Release(code) => Some(key(code, KeyEventKind::Release)),
                Step::Idle => None,
                Step::Resize(w, h) => Some(Event::Resize(w, h)),
                Step::Publish(s) => {
                    self.snapshots.as_ref().unwrap().send(Arc::new(*s)).unwrap();
                    None
                }
                Step::EngineStops => {
                    self.snapshots = None;
                    None
                }
            },
        )
    }
}

struct Run {
    stats: LoopStats,
    app: App,
    sent: Vec<MonitorCommand>,
    script: Script,
}

fn run(steps: Vec<Step>, shutdown: bool, clock: &mut dyn FnMut() -> DateTime<Utc>) -> Run {
    let (snap_tx, snap_rx) = watch::channel(Arc::new(fixtures::failing()));
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let mut handle = MonitorHandle {
        snapshots: snap_rx,
        commands: cmd_tx,
    };
    let mut app = fixtures::app(fixtures::failing(), Theme::default());
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut script = Script {
        steps: steps.into(),
        snapshots: Some(snap_tx),
        timeouts: Vec::new(),
    };
    let stop = AtomicBool::new(shutdown);
    let stats = event_loop(
        &mut terminal,
        &mut app,
        &mut handle,
        &mut script,
        &stop,
        clock,
        &mut |_| Ok(()),
    )
    .unwrap();
    let mut sent = Vec::new();
    while let Ok(cmd) = cmd_rx.try_recv() {
        sent.push(cmd);
    }
    Run {
        stats,
        app,
        sent,
        script,
    }
}

fn frozen() -> impl FnMut() -> DateTime<Utc> {
    || fixtures::now()
}

#[test]
fn keys_become_commands_and_q_quits() {
    let steps = vec![
        Step::Key(KeyCode::Char('r')),
        Step::Idle,
        Step::Key(KeyCode::Char('p')),
        Step::Key(KeyCode::Char('q')),
    ];
    let r = run(steps, false, &mut frozen());
    assert_eq!(
        r.sent,
        vec![MonitorCommand::ProbeNow, MonitorCommand::SetPaused(true)]
    );
    assert!(r.script.steps.is_empty());
}

#[test]
fn nothing_is_drawn_while_nothing_changes() {
    let mut steps: Vec<Step> = (0..50).map(|_| Step::Idle).collect();
    steps.push(Step::Key(KeyCode::Char('q')));
    let r = run(steps, false, &mut frozen());
    assert_eq!(r.stats.frames, 1, "only the first frame");
    assert!(r.script.timeouts.iter().all(|t| *t <= super::POLL));
}

#[test]
fn snapshots_keys_and_resizes_each_cause_one_redraw() {
    let mut healthy = fixtures::healthy();
    healthy.sweeps = 14;
    let steps = vec![
        Step::Idle,
        Step::Publish(Box::new(healthy)),
        Step::Idle,
        Step::Key(KeyCode::Char('j')),
        Step::Release(KeyCode::Char('j')),
        Step::Idle,
        Step::Resize(80, 24),
        Step::Idle,
        Step::Key(KeyCode::Char('q')),
    ];
    let r = run(steps, false, &mut frozen());
    assert_eq!(r.stats.frames, 4, "first frame, snapshot, key, resize");
    assert_eq!(r.app.snapshot.sweeps, 14);
    assert_eq!(
        r.app.selected.as_deref(),
        Some("endpoint:officecdn.microsoft.com"),
        "release did not move it"
    );
}

#[test]
fn the_clock_redraws_at_most_once_a_second() {
    let start = fixtures::now();
    let mut calls = 0;
    // Each loop turn advances 400 ms: 10 turns cover 4 seconds -> 1 + 4 frames at most.
    let mut clock = move || {
        calls += 1;
        start + chrono::Duration::milliseconds(400 * (calls - 1))
    };
    let mut steps: Vec<Step> = (0..10).map(|_| Step::Idle).collect();
    steps.push(Step::Key(KeyCode::Char('q')));
    let r = run(steps, false, &mut clock);
    assert_eq!(r.stats.frames, 5);
}

#[test]
fn shutdown_flag_ends_the_loop_before_drawing() {
    let r = run(vec![], true, &mut frozen());
    assert_eq!(r.stats, LoopStats { frames: 0 });
}

#[test]
fn a_stopped_engine_is_reported_once_and_the_screen_stays() {
    let steps = vec![
        Step::EngineStops,
        Step::Idle,
        Step::Idle,
        Step::Key(KeyCode::Char('q')),
    ];
    let r = run(steps, false, &mut frozen());
    assert!(r.app.monitor_stopped);
    assert_eq!(r.stats.frames, 2);
    assert!(r.app.status_line().unwrap().text.contains("monitor stopped"));
}

#[test]
fn without_a_terminal_the_error_points_to_check() {
    let e = super::ensure_terminal(false).unwrap_err().to_string();
    assert!(
        e.contains("standard output is not one") && e.contains("m365mon check"),
        "{e}"
    );
    assert!(super::ensure_terminal(true).is_ok());
}
