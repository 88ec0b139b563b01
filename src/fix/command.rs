//! `m365mon fix` and `m365mon undo`: listing, dry runs, confirmation, and exit codes.
//!
//! Exit codes: 0 done (or a dry run, or nothing to do); 3 refused or could not start
//! (nothing changed); 2 a step failed and what had changed was rolled back (or, loudly,
//! could not be).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use serde_json::json;

use super::backup::SystemHost;
use super::journal::{self, Journal};
use super::{
    apply, elevation_gate, find_for_undo, get, plan, render_plan, this_process_elevated, undo, Context,
    Outcome, Report, CATALOGUE,
};
use crate::platform::windows::registry::View;

pub const OK: u8 = 0;
pub const ROLLED_BACK: u8 = 2;
pub const REFUSED: u8 = 3;

fn refuse(message: impl std::fmt::Display) -> u8 {
    eprintln!("m365mon: {message}");
    REFUSED
}

/// Asks for the typed word `yes` on a terminal; `--yes` answers for scripts.
fn confirm(question: &str, yes: bool) -> Result<(), String> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "refusing: standard input is not a terminal, so nobody can confirm. Add --yes to confirm from a script; nothing was changed"
                .into(),
        );
    }
    eprint!("{question} Type yes to go ahead: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if line.trim() == "yes" {
        Ok(())
    } else {
        Err("not confirmed (the answer was not `yes`); nothing was changed".into())
    }
}

/// `m365mon fix [ID] [--allow-fixes] [--yes] [--format json]`.
pub fn fix(id: Option<&str>, allow_fixes: bool, yes: bool, json: bool) -> u8 {
    let Some(id) = id else {
        return list(json);
    };
    let Some(fix) = get(id) else {
        return refuse(format!(
            "no fix {id:?}; `m365mon fix` lists them ({})",
            CATALOGUE.iter().map(|f| f.id).collect::<Vec<_>>().join(", ")
        ));
    };
    if fix.windows_only && !cfg!(windows) {
        return refuse(format!(
            "{} is Windows only: it changes {}, which this OS does not have",
            fix.id,
            match fix.id {
                "remove-office-credentials" => "Credential Manager",
                "reset-winhttp-proxy" => "WinHTTP's proxy setting",
                _ => "the Windows registry",
            }
        ));
    }
    let host = SystemHost { view: View::system() };
    let ctx = Context::system(&host);
    let plan = match plan(fix, &ctx) {
        Ok(p) => p,
        Err(e) => return refuse(format!("cannot plan {}: {e}", fix.id)),
    };
    if !allow_fixes {
        if json {
            let v = json!({"mode": "dry-run", "fix": fix.id, "remediation": fix.remediation,
                "steps": plan.steps, "notes": plan.notes});
            crate::outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            crate::out!("{}", render_plan(&plan));
            if !plan.steps.is_empty() {
                crate::outln!(
                    "Dry run: nothing was changed. To apply: m365mon fix {} --allow-fixes",
                    fix.id
                );
                if elevation_gate(fix, this_process_elevated()).is_err() {
                    crate::outln!("Applying needs an elevated prompt (Run as administrator).");
                }
            }
        }
        return OK;
    }
    if !json {
        crate::out!("{}", render_plan(&plan));
        let _ = std::io::stdout().flush();
    }
    if plan.steps.is_empty() {
        if json {
            crate::outln!("{}", json!({"fix": fix.id, "state": "nothing-to-do"}));
        }
        return OK;
    }
    if let Err(e) = elevation_gate(fix, this_process_elevated()) {
        return refuse(e);
    }
    let question = format!(
        "m365mon will back up and then change the {} item(s) above.",
        plan.steps.len()
    );
    if let Err(e) = confirm(&question, yes) {
        return refuse(e);
    }
    let report = apply(&plan, &ctx);
    finish(&report, json, "fix")
}

fn list(json: bool) -> u8 {
    if json {
        let v: Vec<_> = CATALOGUE
            .iter()
            .map(|f| {
                json!({"id": f.id, "title": f.title, "remediation": f.remediation,
                    "description": f.description, "windows_only": f.windows_only, "admin": f.admin})
            })
            .collect();
        crate::outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return OK;
    }
    crate::outln!("Fixes m365mon can carry out (a dry run unless --allow-fixes; a backup first; `m365mon undo` reverts):");
    for f in CATALOGUE {
        let mut tags = vec![format!("remediation {}", f.remediation)];
        if f.windows_only {
            tags.push("Windows".into());
        }
        if f.admin {
            tags.push("admin".into());
        }
        crate::outln!("  {:<27} {} [{}]", f.id, f.title, tags.join(", "));
    }
    crate::outln!("Dry run: m365mon fix ID    Apply: m365mon fix ID --allow-fixes [--yes]");
    OK
}

fn finish(report: &Report, json: bool, what: &str) -> u8 {
    let folder = report
        .folder
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let (code, state, message) = match &report.outcome {
        Outcome::Applied if what == "undo" => (OK, "undone", format!("Undone: restored from {folder}")),
        Outcome::Applied => (
            OK,
            "applied",
            format!("Applied. Backup and journal: {folder}\nTo revert: m365mon undo --yes"),
        ),
        Outcome::NothingToDo => (OK, "nothing-to-do", "Nothing to do.".into()),
        Outcome::NotStarted { error } => (REFUSED, "not-started", format!("{what} not carried out: {error}")),
        Outcome::RolledBack { item, error } => (
            ROLLED_BACK,
            "rolled-back",
            format!(
                "{what} FAILED at {item}: {error}\nEverything changed before it was restored from the backup (rolled back). Journal: {folder}"
            ),
        ),
        Outcome::RollbackFailed {
            item,
            error,
            unrestored,
        } => (
            ROLLED_BACK,
            "rollback-failed",
            format!(
                "{what} FAILED at {item}: {error}\nROLLBACK INCOMPLETE: these could not be put back: {}\nRestore them by hand from {folder} (journal.json lists each item and its backup).",
                unrestored.join("; ")
            ),
        ),
    };
    if json {
        let steps: Vec<_> = report
            .journal
            .iter()
            .flat_map(|j| &j.steps)
            .map(|s| json!({"item": s.item, "state": s.state, "error": s.error}))
            .collect();
        let v = json!({"state": state, "backup": report.folder, "message": message, "steps": steps});
        crate::outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if code == OK {
        crate::outln!("{message}");
    } else {
        eprintln!("m365mon: {message}");
    }
    code
}

/// `m365mon undo [ID] [--list] [--yes]`.
pub fn undo_command(id: Option<&str>, list_only: bool, yes: bool) -> u8 {
    let Some(root) = super::backup::default_root(|k| std::env::var(k).ok()) else {
        return refuse("cannot tell where backups are (LOCALAPPDATA, XDG_DATA_HOME and HOME are unset)");
    };
    if list_only {
        return list_journals(&root);
    }
    let (dir, j) = match find_for_undo(&root, id) {
        Ok(x) => x,
        Err(e) => return refuse(e),
    };
    if get(&j.fix).is_some_and(|f| f.windows_only) && !cfg!(windows) {
        return refuse(format!("{} is a Windows fix; undo it on Windows", j.fix));
    }
    if let Some(fix) = get(&j.fix) {
        if let Err(e) = elevation_gate(fix, this_process_elevated()) {
            return refuse(format!("undo of {e}"));
        }
    }
    crate::outln!("{}", describe(&j));
    for s in j.steps.iter().filter(|s| s.state == journal::StepState::Done) {
        crate::outln!("  restore {}", s.item);
    }
    if let Err(e) = confirm("m365mon will restore the items above from the backup.", yes) {
        return refuse(e);
    }
    let host = SystemHost { view: View::system() };
    let report = undo(&host, &dir, j);
    finish(&report, false, "undo")
}

fn describe(j: &Journal) -> String {
    let done = j
        .steps
        .iter()
        .filter(|s| s.state == journal::StepState::Done)
        .count();
    format!(
        "{}  {}  {}  ({} of {} steps done) started {}",
        j.id,
        j.fix,
        j.state.as_str(),
        done,
        j.steps.len(),
        j.started.format("%Y-%m-%d %H:%M:%S UTC")
    )
}

fn list_journals(root: &Path) -> u8 {
    let all = journal::list(root);
    if all.is_empty() {
        crate::outln!("No fix journals in {}", root.display());
        return OK;
    }
    crate::outln!("Fix journals in {} (oldest first):", root.display());
    for (dir, j) in all {
        match j {
            Ok(j) => crate::outln!("  {}", describe(&j)),
            Err(e) => crate::outln!("  {}  unreadable: {e}", dir.display()),
        }
    }
    OK
}
