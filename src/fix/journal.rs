//! The journal of one applied fix: `journal.json` in its backup folder.
//!
//! It is rewritten after every step (to a temporary file, then renamed over the old one,
//! so a crash leaves either the previous or the new version, never half of one). It says
//! which fix ran, when, every step with what was done and its state, and where each
//! step's backup is, which is all `m365mon undo` needs. Secrets are never in it: a
//! credential step names its target and the (sealed) file that holds the backup.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::backup::Saved;
use super::Action;

/// The `format` field of every journal.
pub const FORMAT: &str = "m365mon.fix-journal/1";
/// The file name inside a backup folder.
pub const FILE: &str = "journal.json";

/// Where the whole fix stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// Copying what will change into the backup folder.
    BackingUp,
    /// Re-reading the backup and comparing it with the live state.
    Verifying,
    /// Changing things, step by step.
    Applying,
    /// Every step done.
    Applied,
    /// The backup could not be made or verified: nothing was changed.
    Failed,
    /// A step failed; putting back what was already changed.
    RollingBack,
    /// A step failed and everything changed before it was put back.
    RolledBack,
    /// A step failed and putting things back failed too: see the steps.
    RollbackFailed,
    /// `m365mon undo` is restoring from the backup.
    Undoing,
    /// `m365mon undo` restored everything.
    Undone,
    /// `m365mon undo` failed; what it had restored was changed again (see the steps).
    UndoFailed,
}

impl FixState {
    pub fn as_str(self) -> &'static str {
        match self {
            FixState::BackingUp => "backing-up",
            FixState::Verifying => "verifying",
            FixState::Applying => "applying",
            FixState::Applied => "applied",
            FixState::Failed => "failed",
            FixState::RollingBack => "rolling-back",
            FixState::RolledBack => "rolled-back",
            FixState::RollbackFailed => "rollback-failed",
            FixState::Undoing => "undoing",
            FixState::Undone => "undone",
            FixState::UndoFailed => "undo-failed",
        }
    }
}

/// Where one step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    Pending,
    BackedUp,
    Verified,
    /// The change was made.
    Done,
    /// The change was attempted and failed (nothing changed for this item).
    Failed,
    /// Put back from the backup (rollback or undo).
    Restored,
    /// Putting it back failed: restore it by hand from the backup folder.
    RestoreFailed,
}

/// One step of the fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// What it touches, e.g. `file C:\...\a.tbacct` or `registry HKLM\...\ProtectionPolicy`.
    pub item: String,
    pub action: Action,
    /// What was there when the fix was planned, in words (never a secret).
    pub before: String,
    /// The backup of this item, once made.
    pub saved: Option<Saved>,
    pub state: StepState,
    pub error: Option<String>,
    pub updated: DateTime<Utc>,
}

/// The whole journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub format: String,
    /// The backup folder's name, which `m365mon undo ID` takes.
    pub id: String,
    pub fix: String,
    pub title: String,
    /// The remediation entry this fix implements (`m365mon remediation list`).
    pub remediation: String,
    pub started: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub state: FixState,
    pub error: Option<String>,
    pub steps: Vec<Step>,
}

impl Journal {
    /// Writes the journal into `dir` atomically (temporary file, then rename).
    pub fn save(&mut self, dir: &Path) -> Result<(), String> {
        self.updated = Utc::now();
        let text =
            serde_json::to_string_pretty(self).map_err(|e| format!("cannot encode the journal: {e}"))?;
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        let path = dir.join(FILE);
        std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Sets one step's state (and error) and saves.
    pub fn step(
        &mut self,
        dir: &Path,
        i: usize,
        state: StepState,
        error: Option<String>,
    ) -> Result<(), String> {
        let s = &mut self.steps[i];
        s.state = state;
        if error.is_some() {
            s.error = error;
        }
        s.updated = Utc::now();
        self.save(dir)
    }

    /// Sets the fix's state (and error) and saves.
    pub fn set(&mut self, dir: &Path, state: FixState, error: Option<String>) -> Result<(), String> {
        self.state = state;
        if error.is_some() {
            self.error = error;
        }
        self.save(dir)
    }
}

/// Reads `dir/journal.json`.
pub fn read(dir: &Path) -> Result<Journal, String> {
    let path = dir.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let j: Journal =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a fix journal: {e}", path.display()))?;
    if j.format != FORMAT {
        return Err(format!(
            "{} has format {:?}, expected {FORMAT:?}",
            path.display(),
            j.format
        ));
    }
    Ok(j)
}

/// Every backup folder under `root` with its journal (or why it cannot be read), oldest
/// first by the time the fix started; folders without a readable journal come first.
pub fn list(root: &Path) -> Vec<(PathBuf, Result<Journal, String>)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Result<Journal, String>)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let j = read(&p);
            (p, j)
        })
        .collect();
    out.sort_by(|(pa, a), (pb, b)| {
        let ka = a.as_ref().ok().map(|j| j.started);
        let kb = b.as_ref().ok().map(|j| j.started);
        ka.cmp(&kb).then_with(|| pa.cmp(pb))
    });
    out
}
