//! The monitor's screen state and what every key does to it, with no drawing and no
//! terminal: the event loop feeds it snapshots, keys and clock ticks, drains the commands
//! it queued for the engine, and hands it to the render modules. Tests drive it directly.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Local, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::export;
use super::theme::Theme;
use crate::diagnosis::remediation::{self, Command, Remediation, Shell};
use crate::engine::{MonitorCommand, Snapshot};
use crate::model::{CheckKind, CheckResult, Status};

/// Longest marker text accepted; a marker is one line of the events log.
pub const MARKER_MAX: usize = 200;
/// Rows a PgUp/PgDn moves when the pane's height is not known yet.
const DEFAULT_PAGE: usize = 10;
/// How long an ordinary status line stays up.
const STATUS_SECS: i64 = 8;
/// How long the export paths stay up: long enough to copy them.
const EXPORT_STATUS_SECS: i64 = 120;

/// More endpoint rows than this and grouping folds the healthy groups.
pub const FOLD_OVER: usize = 40;

/// How the endpoints pane groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Off,
    /// Grouped; in a long list, groups with nothing failing show their header only.
    Folded,
    /// Grouped, every group open.
    Open,
}

/// One group of endpoints as the pane shows it.
#[derive(Debug)]
pub struct Group<'a> {
    pub name: String,
    /// The worst status in the group: its light.
    pub worst: Status,
    /// Fail, warn, pass and skip counts.
    pub counts: [usize; 4],
    /// The rows it shows, failing first.
    pub rows: Vec<&'a CheckResult>,
    /// Rows folded away (passing ones, in a long folded list).
    pub folded: usize,
}

/// Longest search accepted.
const SEARCH_MAX: usize = 80;

/// Whether a check matches a (lower-case) search: its id (host and path), target URL,
/// summary or status word.
fn matches_search(c: &CheckResult, needle: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(needle);
    has(&c.id) || has(&c.target) || has(&c.summary) || c.status.as_str() == needle
}

/// Sort key of a row: failing, then warning, then everything else.
fn severity_rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::Warn => 1,
        _ => 2,
    }
}

/// A remediation's commands with those for the running OS first (PowerShell and cmd when
/// `windows_first`, sh otherwise), each group in the entry's order.
pub fn commands_in_order(r: &'static Remediation, windows_first: bool) -> Vec<&'static Command> {
    let mut out: Vec<&'static Command> = r.commands.iter().collect();
    out.sort_by_key(|c| {
        let native = match c.shell {
            Shell::Cmd | Shell::PowerShell => windows_first,
            Shell::Sh => !windows_first,
        };
        u8::from(!native)
    });
    out
}

/// What the loop does after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// The regions of the main screen that take the keyboard focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Checks,
    Remediation,
    Events,
}

/// A view drawn over the main screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    /// The detail view of one check, by id.
    Detail(String),
    /// `:`: what an error code means (the same text as `m365mon explain`).
    Explain(u32),
}

/// Longest error code input accepted (`0xCAA82EE2`, or a decimal up to 4294967295).
pub const CODE_MAX: usize = 16;

/// The panes that list checks, one per [`CheckKind`], in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Endpoints,
    Network,
    Host,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Endpoints, Pane::Network, Pane::Host];

    pub fn kind(self) -> CheckKind {
        match self {
            Pane::Endpoints => CheckKind::Endpoint,
            Pane::Network => CheckKind::Network,
            Pane::Host => CheckKind::Host,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Endpoints => "Endpoints",
            Pane::Network => "Network",
            Pane::Host => "This machine",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A message in the line above the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub error: bool,
    pub until: DateTime<Utc>,
}

/// How times are shown: the machine's local time, or a fixed offset (tests, so their
/// output does not depend on where they run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTime {
    System,
    Fixed(FixedOffset),
}

impl LocalTime {
    /// `14:03:12`.
    pub fn hms(self, at: DateTime<Utc>) -> String {
        self.format(at, "%H:%M:%S")
    }

    /// `20250602-140312`, for file names.
    pub fn stamp(self, at: DateTime<Utc>) -> String {
        self.format(at, "%Y%m%d-%H%M%S")
    }

    /// `2025-06-02 14:03:12 +02:00`.
    pub fn full(self, at: DateTime<Utc>) -> String {
        self.format(at, "%Y-%m-%d %H:%M:%S %:z")
    }

    fn format(self, at: DateTime<Utc>, fmt: &str) -> String {
        match self {
            LocalTime::System => at.with_timezone(&Local).format(fmt).to_string(),
            LocalTime::Fixed(offset) => at.with_timezone(&offset).format(fmt).to_string(),
        }
    }
}

/// What the renderers learnt while drawing, for the next key: how far each scrolled
/// region can go and how tall a page is. Cells, because drawing only borrows the app.
#[derive(Debug, Default)]
pub struct ViewMetrics {
    pub remediation_max: Cell<usize>,
    pub detail_max: Cell<usize>,
    pub help_max: Cell<usize>,
    pub explain_max: Cell<usize>,
    pub events_max: Cell<usize>,
    /// First visible row of each check pane (by [`Pane::index`]), kept between frames so
    /// the list does not jump while the selection moves.
    pub table_offset: [Cell<usize>; 3],
    pub page: Cell<usize>,
}

/// Everything the screen shows besides the snapshot itself.
#[derive(Debug)]
pub struct App {
    pub snapshot: Arc<Snapshot>,
    pub themes: Vec<Theme>,
    pub theme_index: usize,
    /// Attach mode: no probe, pause or marker.
    pub read_only: bool,
    /// Copyable commands for Windows (PowerShell, cmd) before those for sh: the OS the
    /// monitor runs on, which snapshot tests fix so a screen reads the same on every OS.
    pub windows_commands_first: bool,
    pub export_dir: PathBuf,
    /// `--redact`: `e` writes redacted reports.
    pub redact_exports: bool,
    pub focus: Focus,
    /// The selected check's id. `None` until the user first moves the selection; until
    /// then the remediation panel shows the top finding.
    pub selected: Option<String>,
    pub failing_only: bool,
    /// How the endpoints pane groups its rows (`g` cycles).
    pub grouping: Grouping,
    pub overlay: Overlay,
    /// The marker being typed, while the footer is a text input.
    pub marker_input: Option<String>,
    /// The error code being typed after `:`, while the footer is a text input.
    pub code_input: Option<String>,
    /// The search being typed after `/`; the rows filter as it is typed.
    pub search_input: Option<String>,
    /// The search in effect: rows whose id, target, summary or status contain it
    /// (case-insensitive). Kept after Enter, cleared by Esc.
    pub search: Option<String>,
    pub status_line: Option<StatusLine>,
    /// The clock the screen shows ages against; the loop ticks it once a second.
    pub now: DateTime<Utc>,
    pub time: LocalTime,
    pub remediation_scroll: usize,
    pub detail_scroll: usize,
    pub help_scroll: usize,
    pub explain_scroll: usize,
    /// Lines scrolled back from the newest event; 0 follows the newest.
    pub events_back: usize,
    /// The engine has gone away; the last snapshot stays on screen.
    pub monitor_stopped: bool,
    /// The pause state asked for and not yet confirmed by a snapshot, so two quick `p`
    /// presses toggle twice.
    pause_wanted: Option<bool>,
    outbox: Vec<MonitorCommand>,
    /// Text a copy key asked for, for the loop to hand to the terminal (OSC 52).
    clipboard: Option<String>,
    pub metrics: ViewMetrics,
}

impl App {
    pub fn new(snapshot: Arc<Snapshot>, theme: Theme, export_dir: PathBuf, read_only: bool) -> App {
        let mut themes = Theme::builtins();
        let theme_index = match themes.iter().position(|t| *t == theme) {
            Some(i) => i,
            None => {
                themes.insert(0, theme);
                0
            }
        };
        App {
            snapshot,
            themes,
            theme_index,
            read_only,
            export_dir,
            redact_exports: false,
            focus: Focus::Checks,
            selected: None,
            failing_only: false,
            grouping: Grouping::Off,
            overlay: Overlay::None,
            marker_input: None,
            code_input: None,
            search_input: None,
            search: None,
            status_line: None,
            now: Utc::now(),
            time: LocalTime::System,
            windows_commands_first: cfg!(windows),
            remediation_scroll: 0,
            detail_scroll: 0,
            help_scroll: 0,
            explain_scroll: 0,
            events_back: 0,
            monitor_stopped: false,
            pause_wanted: None,
            outbox: Vec::new(),
            clipboard: None,
            metrics: ViewMetrics::default(),
        }
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme_index]
    }

    /// Commands queued for the engine since the last call.
    pub fn take_commands(&mut self) -> Vec<MonitorCommand> {
        std::mem::take(&mut self.outbox)
    }

    /// Text to put on the clipboard since the last call (a copy key was pressed).
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }

    /// A new snapshot from the engine. The selection follows its check by id.
    pub fn set_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        if self.pause_wanted == Some(snapshot.paused) {
            self.pause_wanted = None;
        }
        self.snapshot = snapshot;
        self.keep_selection_visible();
        if let Overlay::Detail(id) = &self.overlay {
            if self.check(id).is_none() {
                self.overlay = Overlay::None;
            }
        }
    }

    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now;
    }

    /// The engine stopped publishing.
    pub fn set_monitor_stopped(&mut self) {
        self.monitor_stopped = true;
        self.set_status(
            "The monitor stopped; showing its last results.",
            true,
            STATUS_SECS * 1000,
        );
    }

    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.snapshot.checks.iter().find(|c| c.id == id)
    }

    /// Whether a pane is on screen: the endpoints always, the others only when the
    /// snapshot has checks of their kind.
    pub fn pane_present(&self, pane: Pane) -> bool {
        pane == Pane::Endpoints || self.snapshot.checks.iter().any(|c| c.kind == pane.kind())
    }

    fn shown(&self, c: &CheckResult) -> bool {
        (!self.failing_only || matches!(c.status, Status::Fail | Status::Warn))
            && self
                .search
                .as_deref()
                .is_none_or(|needle| matches_search(c, needle))
    }

    /// The rows of one pane, after the failing-only filter: failing checks first, then
    /// warnings, then the rest, each group in catalog order (a stable sort), so a failure
    /// late in a long list is on screen without scrolling.
    pub fn pane_rows(&self, pane: Pane) -> Vec<&CheckResult> {
        if pane == Pane::Endpoints && self.grouping != Grouping::Off {
            return self.endpoint_groups().into_iter().flat_map(|g| g.rows).collect();
        }
        let mut rows: Vec<&CheckResult> = self
            .snapshot
            .checks
            .iter()
            .filter(|c| c.kind == pane.kind() && self.shown(c))
            .collect();
        rows.sort_by_key(|c| severity_rank(c.status));
        rows
    }

    /// The endpoints by group (after the filters), groups with failures first, then in
    /// catalog order; in each, failing rows first. With [`Grouping::Folded`] and more than
    /// [`FOLD_OVER`] rows, the groups are folded: a header each, and only the rows that
    /// fail or warn under it, so hundreds of endpoints fit on a screen with every problem.
    pub fn endpoint_groups(&self) -> Vec<Group<'_>> {
        let mut groups: Vec<Group<'_>> = Vec::new();
        let mut count = 0;
        for c in self
            .snapshot
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::Endpoint && self.shown(c))
        {
            count += 1;
            let name = c.group.as_deref().unwrap_or("Other");
            let i = match groups.iter().position(|g| g.name == name) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        name: name.to_string(),
                        worst: Status::Skip,
                        counts: [0; 4],
                        rows: Vec::new(),
                        folded: 0,
                    });
                    groups.len() - 1
                }
            };
            let g = &mut groups[i];
            g.worst = g.worst.max(c.status);
            let slot = match c.status {
                Status::Fail => 0,
                Status::Warn => 1,
                Status::Pass => 2,
                Status::Skip => 3,
            };
            g.counts[slot] += 1;
            g.rows.push(c);
        }
        let fold = self.grouping == Grouping::Folded && count > FOLD_OVER;
        for g in &mut groups {
            g.rows.sort_by_key(|c| severity_rank(c.status));
            if fold {
                let before = g.rows.len();
                g.rows.retain(|c| matches!(c.status, Status::Fail | Status::Warn));
                g.folded = before - g.rows.len();
            }
        }
        groups.sort_by_key(|g| severity_rank(g.worst));
        groups
    }

    /// The remediation entry the panel is about: the selected failing check's (through
    /// its finding), or the top finding's while nothing is selected.
    pub fn panel_remediation(&self) -> Option<&'static Remediation> {
        match self.selected_check() {
            Some(c) if matches!(c.status, Status::Fail | Status::Warn) => {
                match self.snapshot.finding_for(&c.id) {
                    Some(f) => Some(f.remediation()),
                    None => c.remediation.as_deref().and_then(remediation::get),
                }
            }
            Some(_) => None,
            None => self.snapshot.findings.first().map(|f| f.remediation()),
        }
    }

    /// The panel's commands in the order shown and numbered for the copy keys: those for
    /// the OS the monitor runs on first.
    pub fn panel_commands(&self) -> Vec<&'static Command> {
        self.panel_remediation()
            .map(|r| commands_in_order(r, self.windows_commands_first))
            .unwrap_or_default()
    }

    /// Every visible check in screen order: the selection moves through this list, so
    /// it passes from one pane into the next.
    pub fn visible_checks(&self) -> Vec<&CheckResult> {
        Pane::ALL.iter().flat_map(|p| self.pane_rows(*p)).collect()
    }

    /// The selected check, if the user has selected one and it is still there.
    pub fn selected_check(&self) -> Option<&CheckResult> {
        self.selected.as_deref().and_then(|id| self.check(id))
    }

    pub fn status_line(&self) -> Option<&StatusLine> {
        self.status_line.as_ref().filter(|s| s.until > self.now)
    }

    /// Whether the sweeps are (or are about to be) paused.
    pub fn paused(&self) -> bool {
        self.pause_wanted.unwrap_or(self.snapshot.paused)
    }

    fn set_status(&mut self, text: impl Into<String>, error: bool, millis: i64) {
        let until = self.now + chrono::Duration::milliseconds(millis);
        self.status_line = Some(StatusLine {
            text: text.into(),
            error,
            until,
        });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.set_status(text, false, STATUS_SECS * 1000);
    }

    fn send(&mut self, cmd: MonitorCommand) {
        self.outbox.push(cmd);
    }

    // ---- keys ----------------------------------------------------------------------

    /// Applies one key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Flow {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
            return Flow::Quit;
        }
        if self.marker_input.is_some() {
            self.on_marker_key(key);
            return Flow::Continue;
        }
        if self.code_input.is_some() {
            self.on_code_key(key);
            return Flow::Continue;
        }
        if self.search_input.is_some() {
            self.on_search_key(key);
            return Flow::Continue;
        }
        if key.code == KeyCode::Char('q') {
            return Flow::Quit;
        }
        match self.overlay.clone() {
            Overlay::Help => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?')) {
                    self.overlay = Overlay::None;
                } else if let Some(step) = Step::from_key(key.code) {
                    let max = self.metrics.help_max.get();
                    self.help_scroll = step.scroll(self.help_scroll, self.page(), max);
                }
                Flow::Continue
            }
            Overlay::Explain(_) => {
                match key.code {
                    KeyCode::Esc | KeyCode::Enter => self.overlay = Overlay::None,
                    KeyCode::Char(':') => self.start_code(),
                    code => {
                        if let Some(step) = Step::from_key(code) {
                            let max = self.metrics.explain_max.get();
                            self.explain_scroll = step.scroll(self.explain_scroll, self.page(), max);
                        }
                    }
                }
                Flow::Continue
            }
            Overlay::Detail(_) => {
                match key.code {
                    KeyCode::Esc | KeyCode::Enter => self.overlay = Overlay::None,
                    KeyCode::Char('?') => self.open_help(),
                    code => {
                        if let Some(step) = Step::from_key(code) {
                            let max = self.metrics.detail_max.get();
                            self.detail_scroll = step.scroll(self.detail_scroll, self.page(), max);
                        }
                    }
                }
                Flow::Continue
            }
            Overlay::None => {
                self.on_main_key(key);
                Flow::Continue
            }
        }
    }

    fn on_main_key(&mut self, key: KeyEvent) {
        if let Some(step) = Step::from_key(key.code) {
            match self.focus {
                Focus::Checks => self.move_selection(step),
                Focus::Remediation => {
                    let max = self.metrics.remediation_max.get();
                    self.remediation_scroll = step.scroll(self.remediation_scroll, self.page(), max);
                }
                Focus::Events => {
                    // Events scroll back from the newest line, so the directions flip.
                    let max = self.metrics.events_max.get();
                    self.events_back = step.flipped().scroll(self.events_back, self.page(), max);
                }
            }
            return;
        }
        match key.code {
            KeyCode::Tab => self.cycle_focus(true),
            KeyCode::BackTab => self.cycle_focus(false),
            KeyCode::Enter => self.open_detail(),
            KeyCode::Esc => self.status_line = None,
            KeyCode::Char('?') => self.open_help(),
            KeyCode::Char('r') => self.probe_now(),
            KeyCode::Char('p') => self.toggle_pause(),
            KeyCode::Char('f') => self.toggle_failing_only(),
            KeyCode::Char('m') => self.start_marker(),
            KeyCode::Char(':') => self.start_code(),
            KeyCode::Char('/') => self.start_search(),
            KeyCode::Char('g') => self.cycle_grouping(),
            KeyCode::Char('e') => self.export(),
            KeyCode::Char('t') => self.next_theme(),
            KeyCode::Char(d @ '1'..='9') => self.copy_command(usize::from(d as u8 - b'1')),
            _ => {}
        }
    }

    /// Digit `n`: the panel's `n`th command goes to the clipboard. Through the terminal
    /// (OSC 52), so it works over SSH and inside tmux where no local clipboard is near.
    fn copy_command(&mut self, index: usize) {
        let commands = self.panel_commands();
        match commands.get(index) {
            Some(c) => {
                let text = c.text.to_string();
                let label = c.label;
                self.clipboard = Some(text);
                self.info(format!("Copied command {}: {label}", index + 1));
            }
            None if commands.is_empty() => self.info("The panel shows no command to copy."),
            None => self.info(format!(
                "No command {}: the panel shows {}.",
                index + 1,
                commands.len()
            )),
        }
    }

    /// Typing an error code after `:`: Enter looks it up, Esc cancels. Only characters
    /// a code can contain are taken, so a stray key cannot make a confusing lookup.
    fn on_code_key(&mut self, key: KeyEvent) {
        let Some(text) = self.code_input.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.code_input = None,
            KeyCode::Enter => {
                let typed = text.trim().to_string();
                self.code_input = None;
                if typed.is_empty() {
                    return;
                }
                match crate::diagnosis::explain::parse_code(&typed) {
                    Ok(code) => {
                        self.explain_scroll = 0;
                        self.overlay = Overlay::Explain(code);
                    }
                    Err(e) => self.info(e),
                }
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c)
                if (c.is_ascii_hexdigit() || matches!(c, 'x' | 'X')) && text.len() < CODE_MAX =>
            {
                text.push(c)
            }
            _ => {}
        }
    }

    /// `g`: no groups, then groups (healthy ones folded in a long list), then every group
    /// open, then no groups again.
    fn cycle_grouping(&mut self) {
        self.grouping = match self.grouping {
            Grouping::Off => Grouping::Folded,
            Grouping::Folded => Grouping::Open,
            Grouping::Open => Grouping::Off,
        };
        self.info(match self.grouping {
            Grouping::Off => "Endpoints ungrouped.",
            Grouping::Folded => {
                "Endpoints grouped; in a long list the healthy groups are folded (g opens them)."
            }
            Grouping::Open => "Endpoints grouped, every group open (g ungroups).",
        });
        self.keep_selection_visible();
    }

    /// `/`: type a search; the panes filter at each key. Enter keeps it, Esc clears it.
    fn start_search(&mut self) {
        self.status_line = None;
        self.search_input = Some(self.search.clone().unwrap_or_default());
    }

    fn on_search_key(&mut self, key: KeyEvent) {
        let Some(text) = self.search_input.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => {
                self.search_input = None;
                self.search = None;
            }
            KeyCode::Enter => {
                self.search_input = None;
                let shown = self.visible_checks().len();
                if let Some(needle) = &self.search {
                    self.info(format!(
                        "{shown} check(s) match \"{needle}\"; / changes it, / then Esc clears it."
                    ));
                }
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !c.is_control() && text.chars().count() < SEARCH_MAX => text.push(c),
            _ => return,
        }
        if let Some(text) = &self.search_input {
            let needle = text.trim().to_lowercase();
            self.search = (!needle.is_empty()).then_some(needle);
        }
        self.keep_selection_visible();
    }

    fn start_code(&mut self) {
        self.status_line = None;
        self.overlay = Overlay::None;
        self.code_input = Some(String::new());
    }

    fn on_marker_key(&mut self, key: KeyEvent) {
        let Some(text) = self.marker_input.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => {
                self.marker_input = None;
                self.info("Marker cancelled.");
            }
            KeyCode::Enter => {
                let line = text.trim().to_string();
                self.marker_input = None;
                if line.is_empty() {
                    self.info("Empty marker not added.");
                } else {
                    self.send(MonitorCommand::Mark(line));
                    self.info("Marker added to the events log.");
                }
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !c.is_control() && text.chars().count() < MARKER_MAX => text.push(c),
            _ => {}
        }
    }

    fn page(&self) -> usize {
        match self.metrics.page.get() {
            0 => DEFAULT_PAGE,
            n => n,
        }
    }

    fn cycle_focus(&mut self, forward: bool) {
        const ORDER: [Focus; 3] = [Focus::Checks, Focus::Remediation, Focus::Events];
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (i + 1) % ORDER.len()
        } else {
            (i + ORDER.len() - 1) % ORDER.len()
        };
        self.focus = ORDER[next];
    }

    fn move_selection(&mut self, step: Step) {
        let ids: Vec<String> = self.visible_checks().iter().map(|c| c.id.clone()).collect();
        if ids.is_empty() {
            return;
        }
        let last = ids.len() - 1;
        let current = self
            .selected
            .as_ref()
            .and_then(|s| ids.iter().position(|i| i == s));
        let next = match (current, step) {
            // The first move picks a row: down starts at the top, up at the bottom.
            (None, Step::Up(_) | Step::Bottom) => last,
            (None, _) => 0,
            (Some(i), step) => step.scroll(i, self.page(), last),
        };
        self.select(ids[next].clone());
    }

    fn select(&mut self, id: String) {
        if self.selected.as_deref() != Some(id.as_str()) {
            self.remediation_scroll = 0;
        }
        self.selected = Some(id);
    }

    /// After a filter or snapshot change: a selected check that is no longer listed
    /// gives way to the first one that is.
    fn keep_selection_visible(&mut self) {
        let Some(id) = self.selected.clone() else { return };
        let visible = self.visible_checks();
        if visible.iter().any(|c| c.id == id) {
            return;
        }
        let first = visible.first().map(|c| c.id.clone());
        match first {
            Some(first) => self.select(first),
            None => self.selected = None,
        }
    }

    fn open_detail(&mut self) {
        if self.selected_check().is_none() {
            // No selection yet: open what the remediation panel is talking about.
            let top = self
                .snapshot
                .findings
                .first()
                .and_then(|f| f.checks.first())
                .cloned();
            let visible = self.visible_checks();
            let target = top
                .filter(|id| visible.iter().any(|c| &c.id == id))
                .or_else(|| visible.first().map(|c| c.id.clone()));
            match target {
                Some(id) => self.select(id),
                None => return,
            }
        }
        if let Some(id) = self.selected.clone() {
            self.detail_scroll = 0;
            self.overlay = Overlay::Detail(id);
        }
    }

    fn open_help(&mut self) {
        self.help_scroll = 0;
        self.overlay = Overlay::Help;
    }

    fn refuse_read_only(&mut self, what: &str) -> bool {
        if self.read_only {
            self.set_status(
                format!("Read-only view: {what} is not available."),
                true,
                STATUS_SECS * 1000,
            );
        }
        self.read_only
    }

    fn probe_now(&mut self) {
        if self.refuse_read_only("probe now") {
            return;
        }
        self.send(MonitorCommand::ProbeNow);
        self.info("Sweep requested.");
    }

    fn toggle_pause(&mut self) {
        if self.refuse_read_only("pause") {
            return;
        }
        let pause = !self.paused();
        self.pause_wanted = Some(pause);
        self.send(MonitorCommand::SetPaused(pause));
        self.info(if pause {
            "Interval sweeps paused; r still probes."
        } else {
            "Interval sweeps resumed."
        });
    }

    fn toggle_failing_only(&mut self) {
        self.failing_only = !self.failing_only;
        for offset in &self.metrics.table_offset {
            offset.set(0);
        }
        self.keep_selection_visible();
        self.info(if self.failing_only {
            "Showing failing checks only (f shows all)."
        } else {
            "Showing all checks."
        });
    }

    fn start_marker(&mut self) {
        if self.refuse_read_only("adding a marker") {
            return;
        }
        self.status_line = None;
        self.marker_input = Some(String::new());
    }

    fn next_theme(&mut self) {
        self.theme_index = (self.theme_index + 1) % self.themes.len();
        self.info(format!("Theme: {}", self.theme().name));
    }

    /// Writes the Markdown and JSON reports of the current snapshot.
    fn export(&mut self) {
        let stamp = self.time.stamp(self.now);
        match export::write_reports(&self.export_dir, &self.snapshot, &stamp, self.redact_exports) {
            Ok(paths) => {
                let text = format!(
                    "Report written: {} and {}",
                    paths.markdown.display(),
                    paths.json.display()
                );
                self.set_status(text, false, EXPORT_STATUS_SECS * 1000);
            }
            Err(e) => self.set_status(format!("Export failed: {e}"), true, EXPORT_STATUS_SECS * 1000),
        }
    }
}

/// A movement key, independent of what it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Up(bool),
    Down(bool),
    Top,
    Bottom,
}

impl Step {
    /// Arrows and j/k move one row (`false`); PgUp/PgDn a page (`true`).
    fn from_key(code: KeyCode) -> Option<Step> {
        Some(match code {
            KeyCode::Up | KeyCode::Char('k') => Step::Up(false),
            KeyCode::Down | KeyCode::Char('j') => Step::Down(false),
            KeyCode::PageUp => Step::Up(true),
            KeyCode::PageDown => Step::Down(true),
            KeyCode::Home => Step::Top,
            KeyCode::End => Step::Bottom,
            _ => return None,
        })
    }

    fn flipped(self) -> Step {
        match self {
            Step::Up(p) => Step::Down(p),
            Step::Down(p) => Step::Up(p),
            Step::Top => Step::Bottom,
            Step::Bottom => Step::Top,
        }
    }

    /// The new position in `0..=max`.
    fn scroll(self, at: usize, page: usize, max: usize) -> usize {
        let n = |p: bool| if p { page.max(1) } else { 1 };
        match self {
            Step::Up(p) => at.saturating_sub(n(p)),
            Step::Down(p) => at.saturating_add(n(p)),
            Step::Top => 0,
            Step::Bottom => max,
        }
        .min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures;
    use crossterm::event::KeyEventKind;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn press(app: &mut App, codes: &[KeyCode]) -> Flow {
        let mut flow = Flow::Continue;
        for c in codes {
            flow = app.on_key(key(*c));
        }
        flow
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            app.on_key(key(KeyCode::Char(c)));
        }
    }

    fn failing_app() -> App {
        fixtures::app(fixtures::failing(), Theme::default())
    }

    #[test]
    fn no_selection_until_the_first_move_then_down_starts_at_the_top() {
        let mut app = failing_app();
        assert_eq!(app.selected, None);
        press(&mut app, &[KeyCode::Down]);
        assert_eq!(app.selected.as_deref(), Some(app.visible_checks()[0].id.as_str()));
        press(&mut app, &[KeyCode::Char('j'), KeyCode::Char('j')]);
        assert_eq!(app.selected.as_deref(), Some(app.visible_checks()[2].id.as_str()));
        press(&mut app, &[KeyCode::Char('k')]);
        assert_eq!(app.selected.as_deref(), Some(app.visible_checks()[1].id.as_str()));
    }

    #[test]
    fn first_up_starts_at_the_bottom_and_moves_clamp_at_the_ends() {
        let mut app = failing_app();
        let n = app.visible_checks().len();
        press(&mut app, &[KeyCode::Up]);
        assert_eq!(
            app.selected.as_deref(),
            Some(app.visible_checks()[n - 1].id.as_str())
        );
        press(&mut app, &[KeyCode::Down, KeyCode::Down]);
        assert_eq!(
            app.selected.as_deref(),
            Some(app.visible_checks()[n - 1].id.as_str())
        );
        press(&mut app, &[KeyCode::Home, KeyCode::Up]);
        assert_eq!(app.selected.as_deref(), Some(app.visible_checks()[0].id.as_str()));
        press(&mut app, &[KeyCode::End]);
        assert_eq!(
            app.selected.as_deref(),
            Some(app.visible_checks()[n - 1].id.as_str())
        );
        app.metrics.page.set(3);
        press(&mut app, &[KeyCode::PageUp]);
        assert_eq!(
            app.selected.as_deref(),
            Some(app.visible_checks()[n - 4].id.as_str())
        );
        press(&mut app, &[KeyCode::PageDown]);
        assert_eq!(
            app.selected.as_deref(),
            Some(app.visible_checks()[n - 1].id.as_str())
        );
    }

    #[test]
    fn selection_crosses_from_endpoints_into_the_network_pane() {
        let mut app = failing_app();
        let endpoints = app.pane_rows(Pane::Endpoints).len();
        // the first press selects the first endpoint
        for _ in 0..=endpoints {
            press(&mut app, &[KeyCode::Down]);
        }
        assert_eq!(app.selected_check().unwrap().kind, CheckKind::Network);
    }

    #[test]
    fn filter_shows_only_fail_and_warn_and_moves_a_hidden_selection() {
        let mut app = failing_app();
        let all = app.visible_checks().len();
        press(&mut app, &[KeyCode::Home, KeyCode::Down]);
        // pick a passing check, then filter it away
        let passing = app
            .visible_checks()
            .iter()
            .find(|c| c.status == Status::Pass)
            .unwrap()
            .id
            .clone();
        app.selected = Some(passing.clone());
        press(&mut app, &[KeyCode::Char('f')]);
        assert!(app.failing_only);
        let shown = app.visible_checks();
        assert!(shown.len() < all);
        assert!(shown
            .iter()
            .all(|c| matches!(c.status, Status::Fail | Status::Warn)));
        let sel = app.selected.clone().unwrap();
        assert_ne!(sel, passing);
        assert_eq!(sel, shown[0].id);
        press(&mut app, &[KeyCode::Char('f')]);
        assert_eq!(app.visible_checks().len(), all);
    }

    #[test]
    fn selection_follows_its_check_across_snapshots() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Down, KeyCode::Down]);
        let id = app.selected.clone().unwrap();
        let mut next = (*app.snapshot).clone();
        next.checks.reverse();
        app.set_snapshot(Arc::new(next));
        assert_eq!(app.selected.as_deref(), Some(id.as_str()));
        let mut gone = (*app.snapshot).clone();
        gone.checks.retain(|c| c.id != id);
        app.set_snapshot(Arc::new(gone));
        assert_eq!(app.selected.as_deref(), Some(app.visible_checks()[0].id.as_str()));
    }

    #[test]
    fn marker_input_takes_every_key_and_enter_sends_it() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Char('m')]);
        assert_eq!(app.marker_input.as_deref(), Some(""));
        typed(&mut app, "rule 42 applied, quiet");
        press(
            &mut app,
            &[
                KeyCode::Backspace,
                KeyCode::Backspace,
                KeyCode::Backspace,
                KeyCode::Backspace,
            ],
        );
        press(
            &mut app,
            &[KeyCode::Backspace, KeyCode::Backspace, KeyCode::Backspace],
        );
        // q and f were typed, not acted on
        assert!(!app.failing_only);
        assert_eq!(app.marker_input.as_deref(), Some("rule 42 applied"));
        assert_eq!(press(&mut app, &[KeyCode::Enter]), Flow::Continue);
        assert_eq!(app.marker_input, None);
        assert_eq!(
            app.take_commands(),
            vec![MonitorCommand::Mark("rule 42 applied".into())]
        );
        assert!(app.take_commands().is_empty());
    }

    #[test]
    fn colon_looks_up_an_error_code_and_bad_input_says_why() {
        let mut app = failing_app();
        app.on_key(key(KeyCode::Char(':')));
        assert_eq!(app.code_input.as_deref(), Some(""));
        // Keys that cannot be part of a code are ignored; q does not quit while typing.
        for c in "0xCAA8-2EE2q".chars() {
            assert_eq!(app.on_key(key(KeyCode::Char(c))), Flow::Continue);
        }
        assert_eq!(app.code_input.as_deref(), Some("0xCAA82EE2"));
        app.on_key(key(KeyCode::Enter));
        assert_eq!(
            (app.code_input.as_ref(), &app.overlay),
            (None, &Overlay::Explain(0xCAA8_2EE2))
        );
        app.on_key(key(KeyCode::Esc));
        assert_eq!(app.overlay, Overlay::None);
        // Too large for a code: the status line says so and nothing opens.
        app.on_key(key(KeyCode::Char(':')));
        for c in "99999999999".chars() {
            app.on_key(key(KeyCode::Char(c)));
        }
        app.on_key(key(KeyCode::Enter));
        assert_eq!(app.overlay, Overlay::None);
        assert!(app.status_line().is_some());
        assert!(app.outbox.is_empty(), "a lookup sends nothing to the monitor");
    }

    #[test]
    fn marker_esc_cancels_and_empty_markers_are_not_sent() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Char('m')]);
        typed(&mut app, "oops");
        press(&mut app, &[KeyCode::Esc]);
        assert_eq!(app.marker_input, None);
        press(&mut app, &[KeyCode::Char('m')]);
        typed(&mut app, "   ");
        press(&mut app, &[KeyCode::Enter]);
        assert!(app.take_commands().is_empty());
    }

    #[test]
    fn marker_length_is_capped() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Char('m')]);
        typed(&mut app, &"a".repeat(MARKER_MAX + 50));
        assert_eq!(app.marker_input.as_ref().unwrap().len(), MARKER_MAX);
    }

    #[test]
    fn quit_keys_and_ctrl_c_even_while_typing() {
        let mut app = failing_app();
        assert_eq!(press(&mut app, &[KeyCode::Char('q')]), Flow::Quit);
        press(&mut app, &[KeyCode::Char('m')]);
        assert_eq!(press(&mut app, &[KeyCode::Char('q')]), Flow::Continue);
        let ctrl_c = KeyEvent::new_with_kind(KeyCode::Char('c'), KeyModifiers::CONTROL, KeyEventKind::Press);
        assert_eq!(app.on_key(ctrl_c), Flow::Quit);
    }

    #[test]
    fn probe_and_pause_send_commands_and_pause_toggles_before_the_snapshot_confirms() {
        let mut app = failing_app();
        press(
            &mut app,
            &[KeyCode::Char('r'), KeyCode::Char('p'), KeyCode::Char('p')],
        );
        assert_eq!(
            app.take_commands(),
            vec![
                MonitorCommand::ProbeNow,
                MonitorCommand::SetPaused(true),
                MonitorCommand::SetPaused(false)
            ]
        );
        press(&mut app, &[KeyCode::Char('p')]);
        assert!(app.paused());
        let mut confirmed = (*app.snapshot).clone();
        confirmed.paused = true;
        app.set_snapshot(Arc::new(confirmed));
        press(&mut app, &[KeyCode::Char('p')]);
        assert_eq!(
            app.take_commands().last(),
            Some(&MonitorCommand::SetPaused(false))
        );
    }

    #[test]
    fn read_only_refuses_probe_pause_and_marker() {
        let mut app = failing_app();
        app.read_only = true;
        press(
            &mut app,
            &[KeyCode::Char('r'), KeyCode::Char('p'), KeyCode::Char('m')],
        );
        assert!(app.take_commands().is_empty());
        assert_eq!(app.marker_input, None);
        assert!(app.status_line().unwrap().error);
    }

    #[test]
    fn theme_cycles_through_every_builtin_and_back() {
        let mut app = failing_app();
        let names: Vec<String> = (0..=Theme::builtin_names().len())
            .map(|_| {
                let n = app.theme().name.clone();
                press(&mut app, &[KeyCode::Char('t')]);
                n
            })
            .collect();
        assert_eq!(names, ["dark", "light", "high-contrast", "monochrome", "dark"]);
        assert_eq!(app.status_line().unwrap().text, "Theme: light");
    }

    #[test]
    fn a_custom_theme_joins_the_cycle_first() {
        let mut custom = Theme {
            name: "mine".into(),
            ..Default::default()
        };
        custom.palette.fail = ratatui::style::Color::Rgb(1, 2, 3);
        let mut app = fixtures::app(fixtures::failing(), custom);
        assert_eq!(app.theme().name, "mine");
        assert_eq!(app.themes.len(), Theme::builtin_names().len() + 1);
        press(&mut app, &[KeyCode::Char('t')]);
        assert_eq!(app.theme().name, "dark");
    }

    #[test]
    fn export_writes_markdown_and_json_named_by_local_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = failing_app();
        app.export_dir = dir.path().join("reports");
        press(&mut app, &[KeyCode::Char('e')]);
        let mut names: Vec<String> = std::fs::read_dir(&app.export_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "m365mon-report-20250602-140330.json",
                "m365mon-report-20250602-140330.md"
            ]
        );
        let md = std::fs::read_to_string(app.export_dir.join(&names[1])).unwrap();
        assert!(md.contains("Activation endpoints are blocked"), "{md}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(app.export_dir.join(&names[0])).unwrap()).unwrap();
        assert_eq!(json["status"], "fail");
        let status = app.status_line().unwrap();
        assert!(!status.error);
        assert!(
            status.text.contains(&names[0]) && status.text.contains(&names[1]),
            "{}",
            status.text
        );
        // a second export in the same second does not overwrite the first
        press(&mut app, &[KeyCode::Char('e')]);
        assert_eq!(std::fs::read_dir(&app.export_dir).unwrap().count(), 4);
    }

    #[test]
    fn export_failure_is_shown_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let mut app = failing_app();
        app.export_dir = file;
        assert_eq!(press(&mut app, &[KeyCode::Char('e')]), Flow::Continue);
        let status = app.status_line().unwrap();
        assert!(
            status.error && status.text.starts_with("Export failed"),
            "{}",
            status.text
        );
    }

    #[test]
    fn enter_opens_the_detail_of_the_top_finding_then_esc_and_enter_close_it() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Enter]);
        let top = app.snapshot.findings[0].checks[0].clone();
        assert_eq!(app.overlay, Overlay::Detail(top.clone()));
        assert_eq!(app.selected.as_deref(), Some(top.as_str()));
        press(&mut app, &[KeyCode::Esc]);
        assert_eq!(app.overlay, Overlay::None);
        press(&mut app, &[KeyCode::Enter, KeyCode::Enter]);
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn detail_scroll_is_clamped_to_what_the_view_reported() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Enter]);
        app.metrics.detail_max.set(5);
        press(&mut app, &[KeyCode::Down, KeyCode::PageDown]);
        assert_eq!(app.detail_scroll, 5);
        press(&mut app, &[KeyCode::Up]);
        assert_eq!(app.detail_scroll, 4);
        press(&mut app, &[KeyCode::Home]);
        assert_eq!(app.detail_scroll, 0);
    }

    #[test]
    fn help_opens_and_closes_and_blocks_other_keys() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Char('?')]);
        assert_eq!(app.overlay, Overlay::Help);
        press(&mut app, &[KeyCode::Char('f'), KeyCode::Char('r')]);
        assert!(!app.failing_only);
        assert!(app.take_commands().is_empty());
        press(&mut app, &[KeyCode::Char('?')]);
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn tab_cycles_focus_and_arrows_scroll_the_focused_pane() {
        let mut app = failing_app();
        app.metrics.remediation_max.set(3);
        app.metrics.events_max.set(7);
        press(&mut app, &[KeyCode::Tab]);
        assert_eq!(app.focus, Focus::Remediation);
        press(
            &mut app,
            &[KeyCode::Down, KeyCode::Down, KeyCode::Down, KeyCode::Down],
        );
        assert_eq!(app.remediation_scroll, 3);
        assert_eq!(app.selected, None, "arrows scrolled, did not select");
        press(&mut app, &[KeyCode::Tab]);
        assert_eq!(app.focus, Focus::Events);
        press(&mut app, &[KeyCode::Up, KeyCode::Up]);
        assert_eq!(app.events_back, 2);
        press(&mut app, &[KeyCode::Home]);
        assert_eq!(app.events_back, 7, "Home goes to the oldest event");
        press(&mut app, &[KeyCode::End]);
        assert_eq!(app.events_back, 0, "End follows the newest again");
        press(&mut app, &[KeyCode::BackTab, KeyCode::BackTab]);
        assert_eq!(app.focus, Focus::Checks);
    }

    #[test]
    fn status_line_expires_with_the_clock() {
        let mut app = failing_app();
        press(&mut app, &[KeyCode::Char('r')]);
        assert!(app.status_line().is_some());
        app.set_now(app.now + chrono::Duration::seconds(STATUS_SECS + 1));
        assert!(app.status_line().is_none());
    }
}
