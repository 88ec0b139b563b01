//! Opt-in fixes: the few remediation steps the tool can carry out itself, when asked.
//!
//! Each [`Fix`] implements one remediation entry (`src/diagnosis/remediation.rs`). Running one is:
//!
//! 1. [`plan`]: list every file, registry value, credential (target only) or setting it
//!    would touch, and what it would do. This is the dry run, and the default.
//! 2. [`apply`] (only with `--allow-fixes` and a confirmation, see [`command`]): create a
//!    timestamped backup folder with a journal, back up every item, re-read and compare
//!    every backup with the live item, and only then change things, step by step. When a
//!    step fails, everything already changed is put back from the backup (rollback), so
//!    the machine is never left half-fixed.
//! 3. [`undo`]: put everything back from the backup of an applied fix.
//!
//! Files go through `std::fs` on every OS; registry, Credential Manager and WinHTTP go
//! through the [`backup::Host`] trait, whose real implementation is in `src/platform`.

pub mod backup;
pub mod command;
pub mod journal;

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::checks::host::{federated_sign_in, office_credentials, protection_policy, token_broker_cache};
use crate::platform::windows::registry::Hive;
use backup::Host;
use journal::{FixState, Journal, Step, StepState};

/// One fix the tool can carry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix {
    pub id: &'static str,
    pub title: &'static str,
    /// The remediation entry it implements (`m365mon remediation list`).
    pub remediation: &'static str,
    /// What it changes and what it keeps, in a sentence or two.
    pub description: &'static str,
    /// Whether it means anything outside Windows.
    pub windows_only: bool,
    /// Whether it needs an elevated (administrator) prompt on Windows.
    pub admin: bool,
}

/// Every fix, in the order `m365mon fix` lists them.
pub static CATALOGUE: &[Fix] = &[
    Fix {
        id: "clear-token-broker-cache",
        title: "Empty the two TokenBroker account caches",
        remediation: "brokerplugin-reset",
        description: "Deletes every file and folder inside the BrokerPlugin and CloudExperienceHost \
                      TokenBroker\\Accounts folders under %LOCALAPPDATA%\\Packages (the folders themselves \
                      stay). Close Office, Teams and OneDrive first; restart afterwards.",
        windows_only: false,
        admin: false,
    },
    Fix {
        id: "remove-office-credentials",
        title: "Remove the MicrosoftOffice16 entries from Credential Manager",
        remediation: "office-credentials",
        description: "Deletes the generic Credential Manager entries whose target starts with \
                      MicrosoftOffice16. The backup keeps each whole credential, sealed with DPAPI for \
                      your account, so undo can write it back.",
        windows_only: true,
        admin: false,
    },
    Fix {
        id: "set-protection-policy",
        title: "Set ProtectionPolicy = 1 (data-protection provider)",
        remediation: "protection-policy",
        description: "Sets HKLM\\SOFTWARE\\Microsoft\\Cryptography\\Protect\\Providers\\\
                      df9d8cd0-1501-11d1-8c7a-00c04fc297eb ProtectionPolicy to the DWORD 1. Needs an elevated prompt.",
        windows_only: true,
        admin: true,
    },
    Fix {
        id: "set-autoorgidgetkey",
        title: "Set Autoorgidgetkey = 1 (federated sign-in)",
        remediation: "federated-autoorgidgetkey",
        description: "Sets HKCU\\Software\\Microsoft\\Office\\16.0\\Common Autoorgidgetkey to the DWORD 1, \
                      the article's fix for organisations that sign in through AD FS or another federation \
                      service.",
        windows_only: true,
        admin: false,
    },
    Fix {
        id: "reset-winhttp-proxy",
        title: "Reset the machine-wide WinHTTP proxy to direct access",
        remediation: "proxy",
        description: "Does what `netsh winhttp reset proxy` does: WinHTTP's default proxy becomes direct \
                      access. Only right where no proxy is needed. Needs an elevated prompt.",
        windows_only: true,
        admin: true,
    },
];

/// The fix with this id.
pub fn get(id: &str) -> Option<&'static Fix> {
    CATALOGUE.iter().find(|f| f.id.eq_ignore_ascii_case(id.trim()))
}

/// The fix that implements a remediation entry, if the tool can carry it out.
pub fn for_remediation(remediation_id: &str) -> Option<&'static Fix> {
    CATALOGUE.iter().find(|f| f.remediation == remediation_id)
}

/// One change a fix makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum Action {
    /// Delete this file.
    DeleteFile { path: PathBuf, bytes: u64 },
    /// Remove this (by then empty) folder.
    RemoveFolder { path: PathBuf },
    /// Set a registry value to a DWORD.
    SetRegistryValue {
        hive: String,
        key: String,
        name: String,
        dword: u32,
    },
    /// Delete a generic credential.
    DeleteCredential { target: String },
    /// Set WinHTTP's default proxy to direct access.
    ResetWinHttpProxy,
}

impl Action {
    /// What it touches, e.g. `file C:\...\a.tbacct`.
    pub fn item(&self) -> String {
        match self {
            Action::DeleteFile { path, .. } => format!("file {}", path.display()),
            Action::RemoveFolder { path } => format!("folder {}", path.display()),
            Action::SetRegistryValue { hive, key, name, .. } => format!("registry {hive}\\{key} {name}"),
            Action::DeleteCredential { target } => format!("credential {target}"),
            Action::ResetWinHttpProxy => "WinHTTP default proxy".to_owned(),
        }
    }

    /// What it does, in words.
    pub fn verb(&self) -> String {
        match self {
            Action::DeleteFile { bytes, .. } => format!("delete ({bytes} bytes)"),
            Action::RemoveFolder { .. } => "remove the folder (once empty)".to_owned(),
            Action::SetRegistryValue { dword, .. } => format!("set to {dword} (REG_DWORD)"),
            Action::DeleteCredential { .. } => "delete (generic credential)".to_owned(),
            Action::ResetWinHttpProxy => "set to direct access (netsh winhttp reset proxy)".to_owned(),
        }
    }
}

/// Where a fix works: this machine, or a test's own folders and registry view.
pub struct Context<'a> {
    pub host: &'a dyn Host,
    /// `%LOCALAPPDATA%` (the caches live below it).
    pub local_app_data: Option<PathBuf>,
    /// Where backup folders are created; `None` when it cannot be determined.
    pub backup_root: Option<PathBuf>,
    /// Credentials whose target starts with this are removed (tests narrow it).
    pub credential_prefix: String,
}

impl<'a> Context<'a> {
    /// This machine, from the environment.
    pub fn system(host: &'a dyn Host) -> Context<'a> {
        let env = |k: &str| std::env::var(k).ok();
        Context {
            host,
            local_app_data: env("LOCALAPPDATA")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from),
            backup_root: backup::default_root(env),
            credential_prefix: office_credentials::PREFIX.to_owned(),
        }
    }
}

/// One planned step: the change and what is there now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub item: String,
    pub action: Action,
    pub does: String,
    pub now: String,
}

/// What a fix would do here.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    #[serde(serialize_with = "ser_fix_id")]
    pub fix: &'static Fix,
    pub steps: Vec<Planned>,
    /// Things worth knowing that are not steps ("no such folder", "already set").
    pub notes: Vec<String>,
}

fn ser_fix_id<S: serde::Serializer>(f: &&'static Fix, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.id)
}

fn planned(action: Action, now: String) -> Planned {
    Planned {
        item: action.item(),
        does: action.verb(),
        now,
        action,
    }
}

/// What `fix` would do on this machine. Reads only.
pub fn plan(fix: &'static Fix, ctx: &Context) -> Result<Plan, String> {
    let mut p = Plan {
        fix,
        steps: Vec::new(),
        notes: Vec::new(),
    };
    match fix.id {
        "clear-token-broker-cache" => plan_caches(&mut p, ctx)?,
        "remove-office-credentials" => {
            let mut targets = ctx.host.cred_targets(&ctx.credential_prefix)?;
            targets.sort();
            if targets.is_empty() {
                p.notes.push(format!(
                    "no generic credentials starting with {}",
                    ctx.credential_prefix
                ));
            }
            for target in targets {
                p.steps
                    .push(planned(Action::DeleteCredential { target }, "stored".into()));
            }
        }
        "set-protection-policy" => plan_dword(
            &mut p,
            ctx,
            Hive::LocalMachine,
            protection_policy::KEY,
            "ProtectionPolicy",
        )?,
        "set-autoorgidgetkey" => plan_dword(
            &mut p,
            ctx,
            Hive::CurrentUser,
            federated_sign_in::KEY,
            "Autoorgidgetkey",
        )?,
        "reset-winhttp-proxy" => {
            let now = ctx.host.proxy_get()?;
            if now.is_direct() {
                p.notes
                    .push("the WinHTTP default proxy is already direct access".into());
            } else {
                p.steps.push(planned(Action::ResetWinHttpProxy, now.describe()));
            }
        }
        other => return Err(format!("no plan for fix {other}")),
    }
    Ok(p)
}

fn plan_dword(p: &mut Plan, ctx: &Context, hive: Hive, key: &str, name: &str) -> Result<(), String> {
    let now = ctx.host.reg_read(hive, key, name)?;
    let want = crate::platform::windows::registry_write::RawValue::dword(1);
    if now.as_ref() == Some(&want) {
        p.notes
            .push(format!("{}\\{key} {name} is already 1 (REG_DWORD)", hive.short()));
        return Ok(());
    }
    let shown = now.map_or_else(|| "absent".to_owned(), |v| v.describe());
    p.steps.push(planned(
        Action::SetRegistryValue {
            hive: hive.short().into(),
            key: key.into(),
            name: name.into(),
            dword: 1,
        },
        shown,
    ));
    Ok(())
}

/// Every file, then every folder (deepest first) inside both caches.
fn plan_caches(p: &mut Plan, ctx: &Context) -> Result<(), String> {
    let base = ctx
        .local_app_data
        .as_deref()
        .ok_or("LOCALAPPDATA is not set, so the TokenBroker caches cannot be found")?;
    for (label, rel) in token_broker_cache::CACHES {
        let root = rel
            .split('\\')
            .fold(base.to_path_buf(), |acc, part| acc.join(part));
        match std::fs::symlink_metadata(&root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                p.notes
                    .push(format!("{label}: no such folder {}", root.display()));
                continue;
            }
            Err(e) => return Err(format!("cannot read {}: {e}", root.display())),
            Ok(m) if !m.is_dir() => return Err(format!("{} is not a folder", root.display())),
            Ok(_) => {}
        }
        let (mut files, mut folders) = (Vec::new(), Vec::new());
        walk(&root, &mut files, &mut folders)?;
        if files.is_empty() && folders.is_empty() {
            p.notes
                .push(format!("{label}: {} is already empty", root.display()));
        }
        files.sort();
        // Deepest first, so each folder is empty when its turn comes.
        folders.sort_by(|a: &PathBuf, b: &PathBuf| {
            b.components()
                .count()
                .cmp(&a.components().count())
                .then_with(|| a.cmp(b))
        });
        for (path, bytes) in files {
            p.steps.push(planned(
                Action::DeleteFile { path, bytes },
                format!("{bytes} bytes"),
            ));
        }
        for path in folders {
            p.steps
                .push(planned(Action::RemoveFolder { path }, "folder".into()));
        }
    }
    Ok(())
}

fn walk(dir: &Path, files: &mut Vec<(PathBuf, u64)>, folders: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, files, folders)?;
            folders.push(path);
        } else if meta.is_file() {
            files.push((path, meta.len()));
        } else {
            return Err(format!(
                "{} is a link or special file; m365mon does not touch those, so nothing was changed",
                path.display()
            ));
        }
    }
    Ok(())
}

/// The dry run as text: every item and what would happen to it.
pub fn render_plan(plan: &Plan) -> String {
    let f = plan.fix;
    let mut s = format!("{} — {}\n", f.id, f.title);
    s.push_str(&format!(
        "Implements remediation `{}` (m365mon remediation list).\n",
        f.remediation
    ));
    if f.admin {
        s.push_str("Needs an elevated (administrator) prompt.\n");
    }
    for n in &plan.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    if plan.steps.is_empty() {
        s.push_str("Nothing to do.\n");
        return s;
    }
    s.push_str(&format!("Would change {} item(s):\n", plan.steps.len()));
    for (i, st) in plan.steps.iter().enumerate() {
        s.push_str(&format!(
            "  {:>3}. {}\n       now: {}; would: {}\n",
            i + 1,
            st.item,
            st.now,
            st.does
        ));
    }
    s
}

/// How applying a fix ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step done.
    Applied,
    /// Nothing needed doing (no backup folder was made).
    NothingToDo,
    /// The backup could not be made or verified; nothing was changed.
    NotStarted { error: String },
    /// A step failed; everything changed before it was put back.
    RolledBack { item: String, error: String },
    /// A step failed and some items could not be put back (listed with their errors).
    RollbackFailed {
        item: String,
        error: String,
        unrestored: Vec<String>,
    },
}

/// What [`apply`] and [`undo`] report.
#[derive(Debug, Clone)]
pub struct Report {
    pub outcome: Outcome,
    /// The backup folder (with journal.json), once created.
    pub folder: Option<PathBuf>,
    pub journal: Option<Journal>,
}

/// Whether a fix (or its undo) may start, given whether this process is elevated: one that
/// writes machine-wide settings needs "Run as administrator", and saying so up front beats
/// an "access denied" halfway and a rollback. When elevation cannot be read, it goes ahead:
/// the write itself will tell, and a failed write rolls back.
pub fn elevation_gate(fix: &Fix, elevated: Result<bool, String>) -> Result<(), String> {
    match (fix.admin, elevated) {
        (true, Ok(false)) => Err(format!(
            "{} changes machine-wide settings and needs an elevated prompt: open PowerShell or \
             Command Prompt with \"Run as administrator\" and run the same command there; nothing was changed",
            fix.id
        )),
        _ => Ok(()),
    }
}

/// Whether this process is elevated; on other OSes the question does not arise.
pub fn this_process_elevated() -> Result<bool, String> {
    #[cfg(windows)]
    {
        crate::platform::windows::elevation::is_elevated()
    }
    #[cfg(not(windows))]
    {
        Err("not Windows".into())
    }
}

/// The name of the lock file in the backup root.
pub const LOCK_FILE: &str = "m365mon-fix.lock";

/// Holds the backup root's lock: one fix or undo at a time on this machine, so two runs
/// never back up, change or restore the same items interleaved. The lock is the operating
/// system's (`flock`, `LockFileEx`): it goes away with the process, so a crash leaves no
/// stale lock behind. The file itself stays and is empty.
#[derive(Debug)]
struct RootLock {
    _file: std::fs::File,
}

fn lock_root(root: &Path) -> Result<RootLock, String> {
    std::fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let path = root.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(RootLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another m365mon fix or undo is running (it holds {}); wait for it to finish",
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// A new backup folder `<root>/<UTC timestamp>-<fix id>`, unique.
fn new_folder(root: &Path, fix: &Fix) -> Result<PathBuf, String> {
    std::fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    for n in 0..1000 {
        let name = if n == 0 {
            format!("{stamp}-{}", fix.id)
        } else {
            format!("{stamp}-{}-{n}", fix.id)
        };
        let dir = root.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
    Err("cannot find a free backup folder name".into())
}

/// Applies a plan: backup, verify, change step by step, rolling back on failure. The
/// caller has checked `--allow-fixes` and the confirmation.
pub fn apply(plan: &Plan, ctx: &Context) -> Report {
    if plan.steps.is_empty() {
        return Report {
            outcome: Outcome::NothingToDo,
            folder: None,
            journal: None,
        };
    }
    let not_started = |error: String, folder: Option<PathBuf>, journal: Option<Journal>| Report {
        outcome: Outcome::NotStarted { error },
        folder,
        journal,
    };
    let Some(root) = ctx.backup_root.as_deref() else {
        return not_started(
            "cannot tell where backups go (LOCALAPPDATA, XDG_DATA_HOME and HOME are unset); nothing was changed".into(),
            None,
            None,
        );
    };
    let _lock = match lock_root(root) {
        Ok(l) => l,
        Err(e) => return not_started(format!("{e}; nothing was changed"), None, None),
    };
    let dir = match new_folder(root, plan.fix) {
        Ok(d) => d,
        Err(e) => return not_started(format!("{e}; nothing was changed"), None, None),
    };
    let now = Utc::now();
    let mut j = Journal {
        format: journal::FORMAT.into(),
        id: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        fix: plan.fix.id.into(),
        title: plan.fix.title.into(),
        remediation: plan.fix.remediation.into(),
        started: now,
        updated: now,
        state: FixState::BackingUp,
        error: None,
        steps: plan
            .steps
            .iter()
            .map(|p| Step {
                item: p.item.clone(),
                action: p.action.clone(),
                before: p.now.clone(),
                saved: None,
                state: StepState::Pending,
                error: None,
                updated: now,
            })
            .collect(),
    };
    if let Err(e) = j.save(&dir) {
        return not_started(format!("{e}; nothing was changed"), Some(dir), None);
    }
    // 1. Back up every item, then 2. re-read every backup against the live item.
    let prepared = (|| -> Result<(), String> {
        for i in 0..j.steps.len() {
            let saved = backup::backup(ctx.host, &dir, i, &j.steps[i].action)
                .map_err(|e| format!("backing up {}: {e}", j.steps[i].item))?;
            j.steps[i].saved = Some(saved);
            j.step(&dir, i, StepState::BackedUp, None)?;
        }
        j.set(&dir, FixState::Verifying, None)?;
        for i in 0..j.steps.len() {
            let saved = j.steps[i].saved.clone().expect("backed up above");
            backup::verify(ctx.host, &dir, &j.steps[i].action, &saved)
                .map_err(|e| format!("verifying the backup of {}: {e}", j.steps[i].item))?;
            j.step(&dir, i, StepState::Verified, None)?;
        }
        j.set(&dir, FixState::Applying, None)
    })();
    if let Err(e) = prepared {
        let error = format!("{e}; nothing was changed");
        let _ = j.set(&dir, FixState::Failed, Some(error.clone()));
        return not_started(error, Some(dir), Some(j));
    }
    // 3. Change, step by step; on the first failure put back what was changed.
    for i in 0..j.steps.len() {
        let result = backup::change(ctx.host, &j.steps[i].action);
        let journaled = match &result {
            Ok(()) => j.step(&dir, i, StepState::Done, None),
            Err(e) => j.step(&dir, i, StepState::Failed, Some(e.clone())),
        };
        let failure = match (result, journaled) {
            (Err(e), _) => Some(e),
            // The change was made but the journal cannot say so: undo it now rather
            // than leave a change nobody can find.
            (Ok(()), Err(e)) => {
                j.steps[i].state = StepState::Done;
                Some(format!("cannot update the journal: {e}"))
            }
            (Ok(()), Ok(())) => None,
        };
        if let Some(error) = failure {
            let item = j.steps[i].item.clone();
            let _ = j.set(&dir, FixState::RollingBack, Some(format!("{item}: {error}")));
            let unrestored = roll_back(ctx.host, &dir, &mut j, i);
            let outcome = if unrestored.is_empty() {
                let _ = j.set(&dir, FixState::RolledBack, None);
                Outcome::RolledBack { item, error }
            } else {
                let _ = j.set(&dir, FixState::RollbackFailed, None);
                Outcome::RollbackFailed {
                    item,
                    error,
                    unrestored,
                }
            };
            return Report {
                outcome,
                folder: Some(dir),
                journal: Some(j),
            };
        }
    }
    let _ = j.set(&dir, FixState::Applied, None);
    Report {
        outcome: Outcome::Applied,
        folder: Some(dir),
        journal: Some(j),
    }
}

/// Restores every `Done` step up to and including `last`, newest first. Returns the
/// items that could not be restored, with why.
fn roll_back(host: &dyn Host, dir: &Path, j: &mut Journal, last: usize) -> Vec<String> {
    let mut unrestored = Vec::new();
    for i in (0..=last).rev() {
        if j.steps[i].state != StepState::Done {
            continue;
        }
        let saved = j.steps[i].saved.clone().expect("a done step was backed up");
        match backup::restore(host, dir, &j.steps[i].action, &saved) {
            Ok(()) => {
                let _ = j.step(dir, i, StepState::Restored, None);
            }
            Err(e) => {
                unrestored.push(format!("{}: {e}", j.steps[i].item));
                let _ = j.step(dir, i, StepState::RestoreFailed, Some(e));
            }
        }
    }
    unrestored
}

/// Which journal `undo` means: the folder named `id`, or the most recent applied fix.
pub fn find_for_undo(root: &Path, id: Option<&str>) -> Result<(PathBuf, Journal), String> {
    match id {
        Some(id) => {
            let id = id.trim();
            if id.is_empty() || id.contains(['/', '\\']) || id == "." || id == ".." {
                return Err(format!("{id:?} is not a backup id (see `m365mon undo --list`)"));
            }
            let dir = root.join(id);
            let j = journal::read(&dir)?;
            Ok((dir, j))
        }
        None => journal::list(root)
            .into_iter()
            .rev()
            .find_map(|(dir, j)| j.ok().filter(|j| j.state == FixState::Applied).map(|j| (dir, j)))
            .ok_or_else(|| format!("no applied fix to undo in {}", root.display())),
    }
}

/// Restores an applied fix from its backup, newest step first. If one item cannot be
/// restored, the items already restored are changed again, so the machine stays in the
/// fixed state that the journal describes.
pub fn undo(host: &dyn Host, dir: &Path, mut j: Journal) -> Report {
    let report = |outcome, j: Journal| Report {
        outcome,
        folder: Some(dir.to_path_buf()),
        journal: Some(j),
    };
    let root = dir.parent().unwrap_or(dir);
    let _lock = match lock_root(root) {
        Ok(l) => l,
        Err(e) => {
            let error = format!("{e}; nothing was changed");
            return report(Outcome::NotStarted { error }, j);
        }
    };
    // Read again under the lock: another undo may have finished since `j` was read.
    if let Ok(now) = journal::read(dir) {
        j = now;
    }
    if j.state != FixState::Applied {
        let error = format!(
            "{} is {}, not applied: there is nothing to undo",
            j.id,
            j.state.as_str()
        );
        return report(Outcome::NotStarted { error }, j);
    }
    let conflicts: Vec<String> = j
        .steps
        .iter()
        .filter(|s| s.state == StepState::Done)
        .filter_map(|s| backup::undo_conflict(&s.action, dir, s.saved.as_ref()?))
        .collect();
    if !conflicts.is_empty() {
        let error = format!(
            "restoring would overwrite newer data: {}; nothing was changed",
            conflicts.join("; ")
        );
        return report(Outcome::NotStarted { error }, j);
    }
    if let Err(e) = j.set(dir, FixState::Undoing, None) {
        return report(
            Outcome::NotStarted {
                error: format!("{e}; nothing was changed"),
            },
            j,
        );
    }
    let order: Vec<usize> = (0..j.steps.len())
        .rev()
        .filter(|&i| j.steps[i].state == StepState::Done)
        .collect();
    let mut restored: Vec<usize> = Vec::new();
    for &i in &order {
        let Some(saved) = j.steps[i].saved.clone() else {
            continue;
        };
        match backup::restore(host, dir, &j.steps[i].action, &saved) {
            Ok(()) => {
                restored.push(i);
                let _ = j.step(dir, i, StepState::Restored, None);
            }
            Err(error) => {
                let item = j.steps[i].item.clone();
                let _ = j.step(dir, i, StepState::Done, Some(format!("undo failed: {error}")));
                // Back to the applied state: change again what was restored.
                let mut unrestored = Vec::new();
                for &k in restored.iter().rev() {
                    match backup::change(host, &j.steps[k].action) {
                        Ok(()) => {
                            let _ = j.step(dir, k, StepState::Done, None);
                        }
                        Err(e) => unrestored.push(format!("{}: {e}", j.steps[k].item)),
                    }
                }
                let msg = format!("{item}: {error}");
                if unrestored.is_empty() {
                    let _ = j.set(
                        dir,
                        FixState::Applied,
                        Some(format!("undo failed and was reverted: {msg}")),
                    );
                    return report(Outcome::RolledBack { item, error }, j);
                }
                let _ = j.set(dir, FixState::UndoFailed, Some(msg));
                return report(
                    Outcome::RollbackFailed {
                        item,
                        error,
                        unrestored,
                    },
                    j,
                );
            }
        }
    }
    let _ = j.set(dir, FixState::Undone, None);
    report(Outcome::Applied, j)
}

#[cfg(test)]
mod tests;
