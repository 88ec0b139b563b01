//! Tests of the fixes. The file-based fix runs for real on temporary folders on every OS
//! (Linux, and Windows under Wine through the Windows tier). Registry, Credential Manager
//! and WinHTTP run for real in the `#[cfg(windows)]` tests at the end; on Linux their
//! rollback logic is exercised with an in-memory [`Host`], the one stand-in here.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::backup::{Host, SystemHost};
use super::journal::{self, FixState, StepState};
use super::*;
use crate::platform::windows::credentials_write::{FullCredential, Secret};
use crate::platform::windows::registry::{Hive, View};
use crate::platform::windows::registry_write::RawValue;
use crate::platform::windows::winhttp_proxy::DefaultProxy;

/// Content of a tree: relative path -> file bytes, or `None` for a folder.
fn snapshot(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn go(base: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            if p.is_dir() {
                out.insert(rel, None);
                go(base, &p, out);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    go(root, root, &mut out);
    out
}

fn cache_dir(local: &Path, which: usize) -> PathBuf {
    token_broker_cache::CACHES[which]
        .1
        .split('\\')
        .fold(local.to_path_buf(), |p, part| p.join(part))
}

/// A profile with both caches filled: files at the top, nested folders, an empty folder,
/// binary content.
fn filled_profile() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let broker = cache_dir(home.path(), 0);
    let cxh = cache_dir(home.path(), 1);
    std::fs::create_dir_all(broker.join("sub").join("deeper")).unwrap();
    std::fs::create_dir_all(broker.join("empty")).unwrap();
    std::fs::create_dir_all(&cxh).unwrap();
    std::fs::write(broker.join("a.tbacct"), (0..=255u8).collect::<Vec<_>>()).unwrap();
    std::fs::write(broker.join("sub").join("b.tbacct"), b"second\r\n\0end").unwrap();
    std::fs::write(broker.join("sub").join("deeper").join("c.tbres"), vec![7u8; 5000]).unwrap();
    std::fs::write(cxh.join("d.tbacct"), b"").unwrap();
    home
}

fn context<'a>(host: &'a dyn Host, local: &Path, backups: &Path) -> Context<'a> {
    Context {
        host,
        local_app_data: Some(local.to_path_buf()),
        backup_root: Some(backups.to_path_buf()),
        credential_prefix: "MicrosoftOffice16_Data:m365mon-test-".into(),
    }
}

fn cache_fix() -> &'static Fix {
    get("clear-token-broker-cache").unwrap()
}

fn host() -> SystemHost {
    SystemHost { view: View::system() }
}

#[test]
fn every_fix_links_an_existing_remediation_entry() {
    let mut ids: Vec<&str> = CATALOGUE.iter().map(|f| f.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    for f in CATALOGUE {
        assert!(
            crate::diagnosis::remediation::get(f.remediation).is_some(),
            "{} links {}",
            f.id,
            f.remediation
        );
        assert_eq!(for_remediation(f.remediation), Some(f));
        assert_eq!(get(&f.id.to_uppercase()), Some(f));
    }
    assert_eq!(get("format-c"), None);
}

#[test]
fn the_dry_run_lists_every_file_and_folder_and_changes_nothing() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let before = snapshot(home.path());
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    let text = render_plan(&p);
    for name in ["a.tbacct", "b.tbacct", "c.tbres", "d.tbacct"] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert_eq!(p.steps.len(), 4 + 3, "4 files and 3 folders: {text}");
    let kinds: Vec<&str> = p
        .steps
        .iter()
        .map(|s| match s.action {
            Action::DeleteFile { .. } => "file",
            _ => "folder",
        })
        .collect();
    // Per cache: its files, then its folders deepest first, so each folder is empty in
    // its turn.
    assert_eq!(
        kinds,
        ["file", "file", "file", "folder", "folder", "folder", "file"]
    );
    assert!(p.steps[3].item.ends_with("deeper"), "{:?}", p.steps[3]);
    assert!(text.contains("(256 bytes)"), "{text}");
    assert_eq!(snapshot(home.path()), before);
    assert_eq!(std::fs::read_dir(backups.path()).unwrap().count(), 0);
}

#[test]
fn missing_caches_are_notes_and_nothing_to_do_makes_no_backup() {
    let home = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    assert!(p.steps.is_empty());
    assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
    assert!(render_plan(&p).contains("Nothing to do."));
    assert_eq!(apply(&p, &ctx).outcome, Outcome::NothingToDo);
    assert_eq!(std::fs::read_dir(backups.path()).unwrap().count(), 0);

    let no_env = Context {
        local_app_data: None,
        ..context(&h, home.path(), backups.path())
    };
    assert!(plan(cache_fix(), &no_env).unwrap_err().contains("LOCALAPPDATA"));
}

#[cfg(unix)]
#[test]
fn a_symlink_in_a_cache_stops_the_plan() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/passwd", cache_dir(home.path(), 0).join("link")).unwrap();
    let h = host();
    let err = plan(cache_fix(), &context(&h, home.path(), backups.path())).unwrap_err();
    assert!(err.contains("link"), "{err}");
}

#[test]
fn apply_backs_up_then_empties_the_caches_and_undo_restores_them_byte_for_byte() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let before = snapshot(home.path());
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    let r = apply(&p, &ctx);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");

    // Both Accounts folders stay, empty.
    for i in 0..2 {
        let dir = cache_dir(home.path(), i);
        assert!(dir.is_dir());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{}", dir.display());
    }
    // The backup folder is under the root, named <timestamp>-<fix id>, with its journal.
    let folder = r.folder.clone().unwrap();
    assert_eq!(folder.parent(), Some(backups.path()));
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("Z-clear-token-broker-cache"), "{name}");
    let j = journal::read(&folder).unwrap();
    assert_eq!(j.state, FixState::Applied);
    assert_eq!(j.remediation, "brokerplugin-reset");
    assert!(j.steps.iter().all(|s| s.state == StepState::Done), "{j:?}");
    // The copies hold exactly the deleted bytes.
    let copies: Vec<Vec<u8>> = j
        .steps
        .iter()
        .filter_map(|s| match &s.saved {
            Some(backup::Saved::File { copy, .. }) => Some(std::fs::read(folder.join(copy)).unwrap()),
            _ => None,
        })
        .collect();
    let mut originals: Vec<Vec<u8>> = before.values().flatten().cloned().collect();
    let mut sorted = copies.clone();
    originals.sort();
    sorted.sort();
    assert_eq!(sorted, originals);

    // Undo: the most recent applied fix, restored exactly (nested and empty folders too).
    let (dir, j) = find_for_undo(backups.path(), None).unwrap();
    assert_eq!(dir, folder);
    let u = undo(&h, &dir, j);
    assert_eq!(u.outcome, Outcome::Applied, "{u:?}");
    assert_eq!(snapshot(home.path()), before);
    let j = journal::read(&folder).unwrap();
    assert_eq!(j.state, FixState::Undone);
    assert!(j.steps.iter().all(|s| s.state == StepState::Restored));
    // Nothing left to undo; naming it explicitly says why.
    assert!(find_for_undo(backups.path(), None).is_err());
    assert!(
        !folder.join("journal.json.tmp").exists(),
        "no half-written journal left"
    );
    let again = undo(&h, &folder, j);
    assert!(
        matches!(&again.outcome, Outcome::NotStarted { error } if error.contains("undone")),
        "{again:?}"
    );
}

#[test]
fn a_folder_that_fills_up_after_planning_rolls_everything_back() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    // The broker writes a new token into a folder the plan will remove: removing the
    // folder fails (not empty) for every user, root included, after the three files of
    // that cache were already deleted.
    let late = cache_dir(home.path(), 0)
        .join("sub")
        .join("deeper")
        .join("new.tbacct");
    std::fs::write(&late, b"written after the plan").unwrap();
    let before = snapshot(home.path());

    let r = apply(&p, &ctx);
    match &r.outcome {
        Outcome::RolledBack { item, error } => {
            assert!(item.starts_with("folder ") && item.ends_with("deeper"), "{item}");
            assert!(error.contains("cannot remove the folder"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(home.path()), before, "the tree is exactly as before");
    let j = journal::read(r.folder.as_deref().unwrap()).unwrap();
    assert_eq!(j.state, FixState::RolledBack);
    let states: Vec<StepState> = j.steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [
            StepState::Restored,
            StepState::Restored,
            StepState::Restored,
            StepState::Failed,
            StepState::Verified,
            StepState::Verified,
            StepState::Verified
        ]
    );
    assert!(j.error.as_deref().unwrap().contains("deeper"), "{:?}", j.error);
    // A rolled-back fix is not something to undo.
    assert!(find_for_undo(backups.path(), None).is_err());
}

#[test]
fn a_file_replaced_by_a_folder_after_planning_stops_before_any_change() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    let b = cache_dir(home.path(), 0).join("sub").join("b.tbacct");
    std::fs::remove_file(&b).unwrap();
    std::fs::create_dir(&b).unwrap();
    std::fs::write(b.join("inside"), b"x").unwrap();
    let before = snapshot(home.path());

    let r = apply(&p, &ctx);
    match &r.outcome {
        Outcome::NotStarted { error } => {
            assert!(
                error.contains("b.tbacct") && error.contains("nothing was changed"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(home.path()), before);
    let j = journal::read(r.folder.as_deref().unwrap()).unwrap();
    assert_eq!(j.state, FixState::Failed);
    assert!(j.steps.iter().all(|s| s.state != StepState::Done));
}

#[test]
fn undo_refuses_to_overwrite_a_file_written_again_since_the_fix() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let r = apply(&plan(cache_fix(), &ctx).unwrap(), &ctx);
    assert_eq!(r.outcome, Outcome::Applied);
    let newer = cache_dir(home.path(), 1).join("d.tbacct");
    std::fs::write(&newer, b"a new sign-in").unwrap();
    let (dir, j) = find_for_undo(backups.path(), None).unwrap();
    let u = undo(&h, &dir, j);
    assert!(
        matches!(&u.outcome, Outcome::NotStarted { error } if error.contains("d.tbacct")),
        "{u:?}"
    );
    assert_eq!(std::fs::read(&newer).unwrap(), b"a new sign-in");
    assert_eq!(journal::read(&dir).unwrap().state, FixState::Applied);
}

/// In-memory registry, credentials and proxy, for the rollback logic on Linux. Every
/// call also checks that the journal on disk is valid JSON at that moment.
struct MemoryHost {
    journal_root: PathBuf,
    registry: RefCell<BTreeMap<String, RawValue>>,
    /// Keys (`HIVE\\path`, lower case): writing a value creates its key and the parents.
    keys: RefCell<std::collections::BTreeSet<String>>,
    credentials: RefCell<BTreeMap<String, FullCredential>>,
    proxy: RefCell<DefaultProxy>,
    /// Deleting this credential fails.
    fail_delete: Option<String>,
    journal_checks: RefCell<usize>,
}

impl MemoryHost {
    fn new(journal_root: &Path) -> MemoryHost {
        MemoryHost {
            journal_root: journal_root.to_path_buf(),
            registry: Default::default(),
            keys: Default::default(),
            credentials: Default::default(),
            proxy: RefCell::new(DefaultProxy::direct()),
            fail_delete: None,
            journal_checks: RefCell::new(0),
        }
    }
    fn reg_key(hive: Hive, key: &str, name: &str) -> String {
        format!("{}\\{key}\\{name}", hive.short()).to_lowercase()
    }
    fn key_path(hive: Hive, key: &str) -> String {
        format!("{}\\{key}", hive.short()).to_lowercase()
    }
    fn check_journal(&self) {
        for (dir, j) in journal::list(&self.journal_root) {
            let j = j.unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            assert_eq!(j.format, journal::FORMAT);
            *self.journal_checks.borrow_mut() += 1;
        }
    }
}

impl Host for MemoryHost {
    fn reg_read(&self, hive: Hive, key: &str, name: &str) -> Result<Option<RawValue>, String> {
        self.check_journal();
        Ok(self
            .registry
            .borrow()
            .get(&Self::reg_key(hive, key, name))
            .cloned())
    }
    fn reg_write(&self, hive: Hive, key: &str, name: &str, value: &RawValue) -> Result<(), String> {
        self.check_journal();
        self.registry
            .borrow_mut()
            .insert(Self::reg_key(hive, key, name), value.clone());
        let mut path = String::new();
        for part in key.split('\\') {
            if !path.is_empty() {
                path.push('\\');
            }
            path.push_str(part);
            self.keys.borrow_mut().insert(Self::key_path(hive, &path));
        }
        Ok(())
    }
    fn reg_delete(&self, hive: Hive, key: &str, name: &str) -> Result<(), String> {
        self.registry.borrow_mut().remove(&Self::reg_key(hive, key, name));
        Ok(())
    }
    fn reg_key_exists(&self, hive: Hive, key: &str) -> Result<bool, String> {
        Ok(self.keys.borrow().contains(&Self::key_path(hive, key)))
    }
    fn reg_delete_empty_key(&self, hive: Hive, key: &str) -> Result<bool, String> {
        let path = Self::key_path(hive, key);
        let below = format!("{path}\\");
        let holds = self.registry.borrow().keys().any(|k| k.starts_with(&below))
            || self.keys.borrow().iter().any(|k| k.starts_with(&below));
        if holds {
            return Ok(false);
        }
        self.keys.borrow_mut().remove(&path);
        Ok(true)
    }
    fn cred_targets(&self, prefix: &str) -> Result<Vec<String>, String> {
        Ok(self
            .credentials
            .borrow()
            .keys()
            .filter(|t| backup::starts_with_ignore_case(t, prefix))
            .cloned()
            .collect())
    }
    fn cred_read(&self, target: &str) -> Result<Option<FullCredential>, String> {
        self.check_journal();
        Ok(self.credentials.borrow().get(target).cloned())
    }
    fn cred_write(&self, c: &FullCredential) -> Result<(), String> {
        self.credentials.borrow_mut().insert(c.target.clone(), c.clone());
        Ok(())
    }
    fn cred_delete(&self, target: &str) -> Result<(), String> {
        if self.fail_delete.as_deref() == Some(target) {
            return Err("access denied (simulated)".into());
        }
        self.credentials.borrow_mut().remove(target);
        Ok(())
    }
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        Ok(plain.iter().rev().map(|b| b ^ 0x5a).collect())
    }
    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        Ok(sealed.iter().rev().map(|b| b ^ 0x5a).collect())
    }
    fn proxy_get(&self) -> Result<DefaultProxy, String> {
        Ok(self.proxy.borrow().clone())
    }
    fn proxy_set(&self, p: &DefaultProxy) -> Result<(), String> {
        *self.proxy.borrow_mut() = p.normalised();
        Ok(())
    }
}

fn credential(target: &str, secret: &[u8]) -> FullCredential {
    FullCredential {
        kind: 1,
        target: target.into(),
        flags: 0,
        comment: Some("c".into()),
        persist: 2,
        target_alias: None,
        user_name: Some("ada@contoso.example".into()),
        attributes: vec![],
        blob: Secret(secret.to_vec()),
    }
}

#[test]
fn registry_logic_restores_an_absent_value_and_one_of_another_type() {
    let backups = tempfile::tempdir().unwrap();
    let h = MemoryHost::new(backups.path());
    let ctx = context(&h, backups.path(), backups.path());
    let fix = get("set-autoorgidgetkey").unwrap();
    for previous in [
        None,
        Some(RawValue {
            kind: 1,
            data: b"1\0".to_vec(),
        }),
    ] {
        if let Some(v) = &previous {
            h.reg_write(Hive::CurrentUser, federated_sign_in::KEY, "Autoorgidgetkey", v)
                .unwrap();
        }
        let p = plan(fix, &ctx).unwrap();
        assert_eq!(p.steps.len(), 1);
        let r = apply(&p, &ctx);
        assert_eq!(r.outcome, Outcome::Applied);
        assert_eq!(
            h.reg_read(Hive::CurrentUser, federated_sign_in::KEY, "autoorgidgetkey"),
            Ok(Some(RawValue::dword(1)))
        );
        assert!(
            plan(fix, &ctx).unwrap().steps.is_empty(),
            "already set: nothing to do"
        );
        let (dir, j) = find_for_undo(backups.path(), None).unwrap();
        assert_eq!(undo(&h, &dir, j).outcome, Outcome::Applied);
        assert_eq!(
            h.reg_read(Hive::CurrentUser, federated_sign_in::KEY, "Autoorgidgetkey"),
            Ok(previous)
        );
    }
    assert!(
        *h.journal_checks.borrow() > 6,
        "the journal was checked along the way"
    );
}

#[test]
fn credential_logic_rolls_back_when_a_delete_fails_midway() {
    let backups = tempfile::tempdir().unwrap();
    let mut h = MemoryHost::new(backups.path());
    let targets = [
        "MicrosoftOffice16_Data:m365mon-test-a",
        "MicrosoftOffice16_Data:m365mon-test-b",
        "MicrosoftOffice16_Data:m365mon-test-c",
    ];
    for (i, t) in targets.iter().enumerate() {
        h.cred_write(&credential(t, format!("topsecret-{i}").as_bytes()))
            .unwrap();
    }
    h.cred_write(&credential("git:https://example.invalid", b"other"))
        .unwrap();
    h.fail_delete = Some(targets[1].into());
    let before = h.credentials.borrow().clone();
    let ctx = context(&h, backups.path(), backups.path());
    let p = plan(get("remove-office-credentials").unwrap(), &ctx).unwrap();
    assert_eq!(p.steps.len(), 3);
    assert!(!render_plan(&p).contains("topsecret"), "no secret in the dry run");
    let r = apply(&p, &ctx);
    assert!(
        matches!(&r.outcome, Outcome::RolledBack { item, .. } if item.ends_with("test-b")),
        "{r:?}"
    );
    assert_eq!(
        *h.credentials.borrow(),
        before,
        "credential a was written back whole"
    );
    // The journal names targets only; the backup copies are sealed.
    let folder = r.folder.unwrap();
    let text = std::fs::read_to_string(folder.join(journal::FILE)).unwrap();
    assert!(
        text.contains("m365mon-test-a") && !text.contains("blob"),
        "{text}"
    );
    for entry in std::fs::read_dir(folder.join("credentials")).unwrap() {
        let sealed = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"topsecret"));
    }
    assert!(*h.journal_checks.borrow() > 3);
}

#[test]
fn proxy_logic_records_and_restores_the_previous_setting() {
    let backups = tempfile::tempdir().unwrap();
    let h = MemoryHost::new(backups.path());
    let named = DefaultProxy {
        access_type: 3,
        proxy: Some("proxy.example:8080".into()),
        bypass: Some("<local>".into()),
    };
    h.proxy_set(&named).unwrap();
    let ctx = context(&h, backups.path(), backups.path());
    let fix = get("reset-winhttp-proxy").unwrap();
    let p = plan(fix, &ctx).unwrap();
    assert!(render_plan(&p).contains("proxy server proxy.example:8080"));
    assert_eq!(apply(&p, &ctx).outcome, Outcome::Applied);
    assert!(h.proxy_get().unwrap().is_direct());
    assert!(plan(fix, &ctx).unwrap().steps.is_empty());
    let (dir, j) = find_for_undo(backups.path(), None).unwrap();
    assert_eq!(undo(&h, &dir, j).outcome, Outcome::Applied);
    assert_eq!(h.proxy_get().unwrap(), named);
}

/// A registry view of its own under `HKCU\Software\m365mon-test-fix-<tag>-<pid>`, on
/// Windows and under Wine alike, so these tests never touch the real values (and never
/// race the checks' own tests on them). Removed when dropped.
#[cfg(windows)]
struct Scratch(String);

#[cfg(windows)]
impl Scratch {
    fn new(tag: &str) -> Scratch {
        Scratch(format!("Software\\m365mon-test-fix-{tag}-{}", std::process::id()))
    }
    fn host(&self) -> SystemHost {
        SystemHost {
            view: View::scratch(&self.0),
        }
    }
}

#[cfg(windows)]
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::process::Command::new("reg")
            .args(["delete", &format!("HKCU\\{}", self.0), "/f"])
            .output();
    }
}

/// Windows/Wine: the registry fix and its undo with real RegSetValueExW/RegDeleteValueW,
/// for a value that existed with other data (a REG_SZ) and one that was absent.
#[cfg(windows)]
#[test]
fn registry_fixes_apply_and_undo_exactly_under_windows() {
    use crate::platform::windows::registry_write::{read_value, set_value};
    let scratch = Scratch::new("reg");
    let h = scratch.host();
    let backups = tempfile::tempdir().unwrap();
    let ctx = context(&h, backups.path(), backups.path());

    // Autoorgidgetkey existed as the string "0x2" (typed by hand, wrong type).
    let odd = RawValue {
        kind: 1,
        data: "0x2\0".encode_utf16().flat_map(u16::to_le_bytes).collect(),
    };
    set_value(
        &h.view,
        Hive::CurrentUser,
        federated_sign_in::KEY,
        "Autoorgidgetkey",
        &odd,
    )
    .unwrap();
    let p = plan(get("set-autoorgidgetkey").unwrap(), &ctx).unwrap();
    assert_eq!(p.steps.len(), 1);
    assert!(p.steps[0].now.contains("REG_SZ"), "{:?}", p.steps[0]);
    let r = apply(&p, &ctx);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(
        read_value(
            &h.view,
            Hive::CurrentUser,
            federated_sign_in::KEY,
            "Autoorgidgetkey"
        ),
        Ok(Some(RawValue::dword(1)))
    );
    let u = undo(&h, r.folder.as_deref().unwrap(), r.journal.unwrap());
    assert_eq!(u.outcome, Outcome::Applied, "{u:?}");
    assert_eq!(
        read_value(
            &h.view,
            Hive::CurrentUser,
            federated_sign_in::KEY,
            "Autoorgidgetkey"
        ),
        Ok(Some(odd))
    );

    // ProtectionPolicy was absent (its key too): undo removes the value again.
    let p = plan(get("set-protection-policy").unwrap(), &ctx).unwrap();
    assert_eq!(p.steps[0].now, "absent");
    let r = apply(&p, &ctx);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(
        read_value(
            &h.view,
            Hive::LocalMachine,
            protection_policy::KEY,
            "ProtectionPolicy"
        ),
        Ok(Some(RawValue::dword(1)))
    );
    // Meanwhile something else writes under one of the keys the fix created.
    let crypto = "SOFTWARE\\Microsoft\\Cryptography";
    set_value(&h.view, Hive::LocalMachine, crypto, "Other", &RawValue::dword(5)).unwrap();
    let u = undo(&h, r.folder.as_deref().unwrap(), r.journal.unwrap());
    assert_eq!(u.outcome, Outcome::Applied, "{u:?}");
    assert_eq!(
        read_value(
            &h.view,
            Hive::LocalMachine,
            protection_policy::KEY,
            "ProtectionPolicy"
        ),
        Ok(None)
    );
    // The keys the fix created are gone, down to the one that now holds another value.
    use crate::platform::windows::registry_write::key_exists;
    assert_eq!(
        key_exists(&h.view, Hive::LocalMachine, protection_policy::KEY),
        Ok(false)
    );
    assert_eq!(
        key_exists(&h.view, Hive::LocalMachine, &format!("{crypto}\\Protect")),
        Ok(false)
    );
    assert_eq!(key_exists(&h.view, Hive::LocalMachine, crypto), Ok(true));
    assert_eq!(
        read_value(&h.view, Hive::LocalMachine, crypto, "Other"),
        Ok(Some(RawValue::dword(5)))
    );
}

/// Windows/Wine: two MicrosoftOffice16 credentials written with CredWriteW are removed,
/// and undo writes them back identical (target, user, comment, blob), from a backup
/// sealed with DPAPI. The prefix is this test's own, so no other entry is touched.
#[cfg(windows)]
#[test]
fn credentials_fix_removes_office_entries_and_undo_brings_them_back_identical() {
    use crate::platform::windows::credentials_write::{delete, read, write, CRED_TYPE_GENERIC};
    let prefix = format!("MicrosoftOffice16_Data:m365mon-fix-{}-", std::process::id());
    let targets = [
        format!("{prefix}SSPI:ada@contoso.example"),
        format!("{prefix}ADAL:3f2a"),
    ];
    struct Cleanup<'a>(&'a [String]);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            for t in self.0 {
                let _ = delete(t, CRED_TYPE_GENERIC);
            }
        }
    }
    let _cleanup = Cleanup(&targets);
    let originals: Vec<FullCredential> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| credential(t, &[b's', b'e', b'c', i as u8, 0, 0xff]))
        .collect();
    for c in &originals {
        write(c).expect("CredWriteW");
    }
    let before: Vec<_> = targets
        .iter()
        .map(|t| read(t, CRED_TYPE_GENERIC).unwrap())
        .collect();
    assert!(before.iter().all(Option::is_some));

    let h = host();
    let backups = tempfile::tempdir().unwrap();
    let ctx = Context {
        credential_prefix: prefix.clone(),
        ..context(&h, backups.path(), backups.path())
    };
    let p = plan(get("remove-office-credentials").unwrap(), &ctx).unwrap();
    assert_eq!(p.steps.len(), 2, "{:?}", p.steps);
    let r = apply(&p, &ctx);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    for t in &targets {
        assert_eq!(read(t, CRED_TYPE_GENERIC), Ok(None), "{t} still there");
    }
    let folder = r.folder.clone().unwrap();
    let sealed = std::fs::read(folder.join("credentials").join("00000.sealed")).unwrap();
    assert!(!sealed.windows(3).any(|w| w == b"sec"), "the backup is sealed");
    let u = undo(&h, &folder, r.journal.unwrap());
    assert_eq!(u.outcome, Outcome::Applied, "{u:?}");
    let after: Vec<_> = targets
        .iter()
        .map(|t| read(t, CRED_TYPE_GENERIC).unwrap())
        .collect();
    assert_eq!(after, before);
}

/// Says on the real standard error (not libtest's captured one, which hides the output
/// of passing tests) that the proxy test was skipped, so the tier's log shows it.
#[cfg(windows)]
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED winhttp_proxy_fix_resets_to_direct_and_undo_restores_it: {why}"
    );
}

/// The opposite of [`skipped`]: the log says the real path ran.
#[cfg(windows)]
fn ran(what: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "RAN winhttp_proxy_fix_resets_to_direct_and_undo_restores_it: {what}"
    );
}

/// Windows/Wine: WinHTTP's default proxy set to a named proxy is reset to direct, and undo
/// puts the named proxy back value for value. If this Wine cannot set the default proxy
/// at all, the test says it is skipped and why instead of pretending.
#[cfg(windows)]
#[test]
fn winhttp_proxy_fix_resets_to_direct_and_undo_restores_it() {
    use crate::platform::windows::winhttp_proxy::{get as proxy_get, set as proxy_set, ACCESS_NAMED_PROXY};
    let original = proxy_get().expect("WinHttpGetDefaultProxyConfiguration");
    struct Restore(DefaultProxy);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = crate::platform::windows::winhttp_proxy::set(&self.0);
        }
    }
    let _restore = Restore(original.clone());
    let named = DefaultProxy {
        access_type: ACCESS_NAMED_PROXY,
        proxy: Some("proxy.m365mon-test.invalid:8080".into()),
        bypass: Some("<local>".into()),
    };
    if let Err(e) = proxy_set(&named) {
        skipped(&format!("cannot set a named default proxy here ({e})"));
        return;
    }
    let set_back = proxy_get().unwrap();
    if set_back != named {
        skipped(&format!("WinHTTP stored {set_back:?} for {named:?}"));
        return;
    }
    let h = host();
    let backups = tempfile::tempdir().unwrap();
    let ctx = context(&h, backups.path(), backups.path());
    let p = plan(get("reset-winhttp-proxy").unwrap(), &ctx).unwrap();
    assert_eq!(p.steps.len(), 1);
    let r = apply(&p, &ctx);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert!(proxy_get().unwrap().is_direct());
    let u = undo(&h, r.folder.as_deref().unwrap(), r.journal.unwrap());
    assert_eq!(u.outcome, Outcome::Applied, "{u:?}");
    assert_eq!(proxy_get().unwrap(), named);
    ran("a named default proxy was reset to direct and restored, for real");
}

/// Windows/Wine: a cache file held open without delete sharing cannot be deleted; the
/// files deleted before it are restored and the result says rolled back.
#[cfg(windows)]
#[test]
fn a_locked_cache_file_rolls_back_the_files_already_deleted() {
    use std::os::windows::fs::OpenOptionsExt;
    let home = filled_profile();
    let locked = cache_dir(home.path(), 0).join("z-locked.tbacct");
    std::fs::write(&locked, b"in use by the broker").unwrap();
    let before = snapshot(home.path());
    let backups = tempfile::tempdir().unwrap();
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    // FILE_SHARE_READ only: others may read it (so the backup works), nobody may delete it.
    let _handle = std::fs::OpenOptions::new()
        .read(true)
        .share_mode(1)
        .open(&locked)
        .unwrap();
    let r = apply(&p, &ctx);
    match &r.outcome {
        Outcome::RolledBack { item, .. } => assert!(item.ends_with("z-locked.tbacct"), "{item}"),
        other => panic!("{other:?}"),
    }
    let j = journal::read(r.folder.as_deref().unwrap()).unwrap();
    assert_eq!(j.state, FixState::RolledBack);
    assert!(
        j.steps.iter().filter(|s| s.state == StepState::Restored).count() >= 3,
        "{:?}",
        j.steps.iter().map(|s| (&s.item, s.state)).collect::<Vec<_>>()
    );
    drop(_handle);
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn a_second_fix_or_undo_is_refused_while_one_holds_the_lock() {
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let before = snapshot(home.path());
    let p = plan(cache_fix(), &ctx).unwrap();
    let refused = |r: &Report| match &r.outcome {
        Outcome::NotStarted { error } => error.contains("another m365mon fix or undo is running"),
        _ => false,
    };

    let held = lock_root(backups.path()).unwrap();
    let r = apply(&p, &ctx);
    assert!(refused(&r), "{:?}", r.outcome);
    assert_eq!(snapshot(home.path()), before, "nothing changed");
    assert!(
        journal::list(backups.path()).is_empty(),
        "no backup folder either"
    );
    drop(held);

    assert!(matches!(apply(&p, &ctx).outcome, Outcome::Applied));
    let fixed = snapshot(home.path());
    let (dir, j) = find_for_undo(backups.path(), None).unwrap();
    let held = lock_root(backups.path()).unwrap();
    let r = undo(&h, &dir, j.clone());
    assert!(refused(&r), "{:?}", r.outcome);
    assert_eq!(snapshot(home.path()), fixed, "still fixed");
    drop(held);

    assert!(matches!(undo(&h, &dir, j.clone()).outcome, Outcome::Applied));
    assert_eq!(snapshot(home.path()), before);
    // The journal read before the first undo is stale; undo reads it again under the lock.
    let again = undo(&h, &dir, j);
    assert!(
        matches!(&again.outcome, Outcome::NotStarted { error } if error.contains("not applied")),
        "{:?}",
        again.outcome
    );
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn admin_fixes_need_an_elevated_process_and_say_so_before_starting() {
    let admin = get("set-protection-policy").unwrap();
    let user = get("set-autoorgidgetkey").unwrap();
    let refused = elevation_gate(admin, Ok(false)).unwrap_err();
    assert!(refused.contains("Run as administrator"), "{refused}");
    assert!(refused.contains("nothing was changed"), "{refused}");
    assert!(elevation_gate(admin, Ok(true)).is_ok());
    assert!(
        elevation_gate(user, Ok(false)).is_ok(),
        "a per-user fix needs no elevation"
    );
    // Unknown: go ahead; the write tells, and a failed write rolls back.
    assert!(elevation_gate(admin, Err("no token".into())).is_ok());
    for f in CATALOGUE {
        assert_eq!(
            elevation_gate(f, Ok(false)).is_err(),
            f.admin,
            "{}: the gate follows the catalogue's admin flag",
            f.id
        );
    }
}

#[test]
fn undo_removes_the_registry_keys_the_fix_created_and_only_while_empty() {
    let backups = tempfile::tempdir().unwrap();
    let h = MemoryHost::new(backups.path());
    let ctx = context(&h, backups.path(), backups.path());
    let fix = get("set-protection-policy").unwrap();
    let key = protection_policy::KEY;
    // The machine has SOFTWARE\Microsoft, nothing below Cryptography.
    h.reg_write(
        Hive::LocalMachine,
        "SOFTWARE\\Microsoft",
        "Kept",
        &RawValue::dword(9),
    )
    .unwrap();
    let r = apply(&plan(fix, &ctx).unwrap(), &ctx);
    assert_eq!(r.outcome, Outcome::Applied);
    let saved = r.journal.as_ref().unwrap().steps[0].saved.clone().unwrap();
    assert_eq!(
        saved,
        backup::Saved::Registry {
            previous: None,
            created_key: Some("SOFTWARE\\Microsoft\\Cryptography".into()),
        }
    );
    assert_eq!(h.reg_key_exists(Hive::LocalMachine, key), Ok(true));
    let (dir, j) = find_for_undo(backups.path(), None).unwrap();
    assert_eq!(undo(&h, &dir, j).outcome, Outcome::Applied);
    assert_eq!(h.reg_key_exists(Hive::LocalMachine, key), Ok(false));
    assert_eq!(
        h.reg_key_exists(Hive::LocalMachine, "SOFTWARE\\Microsoft\\Cryptography"),
        Ok(false),
        "the outermost created key goes too"
    );
    assert_eq!(
        h.reg_key_exists(Hive::LocalMachine, "SOFTWARE\\Microsoft"),
        Ok(true)
    );

    // Something else writes under a created key after the fix: that key and its parents stay.
    let r = apply(&plan(fix, &ctx).unwrap(), &ctx);
    assert_eq!(r.outcome, Outcome::Applied);
    let protect = "SOFTWARE\\Microsoft\\Cryptography\\Protect";
    h.reg_write(Hive::LocalMachine, protect, "Other", &RawValue::dword(5))
        .unwrap();
    let (dir, j) = find_for_undo(backups.path(), None).unwrap();
    assert_eq!(undo(&h, &dir, j).outcome, Outcome::Applied);
    assert_eq!(h.reg_key_exists(Hive::LocalMachine, key), Ok(false));
    assert_eq!(h.reg_key_exists(Hive::LocalMachine, protect), Ok(true));
    assert_eq!(
        h.reg_read(Hive::LocalMachine, protect, "Other"),
        Ok(Some(RawValue::dword(5)))
    );
}

#[test]
fn journals_of_older_versions_without_created_key_still_undo() {
    let old: backup::Saved = serde_json::from_str(r#"{"kind":"registry","previous":null}"#).unwrap();
    assert_eq!(
        old,
        backup::Saved::Registry {
            previous: None,
            created_key: None
        }
    );
    let existing: backup::Saved = serde_json::from_value(
        serde_json::to_value(backup::Saved::Registry {
            previous: None,
            created_key: None,
        })
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        existing, old,
        "no created key: the field is left out and reads back"
    );
}

/// Windows/Wine: a cache file and a folder with access lists of their own (not what
/// their folder passes on) come back from undo with those access lists, and the backup
/// copy of the file is as locked down as the file was.
#[cfg(windows)]
#[test]
fn undo_gives_files_and_folders_back_their_access_lists_under_windows() {
    use crate::platform::windows::file_security::sddl;
    let home = filled_profile();
    let backups = tempfile::tempdir().unwrap();
    let broker = cache_dir(home.path(), 0);
    let file = broker.join("a.tbacct");
    let folder = broker.join("sub");
    // Protected lists: Everyone full control (so the test can still work on them under any
    // enforcement), plus an entry no folder passes on.
    let file_list = "D:P(A;;FA;;;WD)(A;;FR;;;BU)";
    let folder_list = "D:P(A;OICI;FA;;;WD)(A;;0x1200a9;;;BU)";
    sddl::set(&file, file_list);
    sddl::set(&folder, folder_list);
    let (file_before, folder_before) = (sddl::of(&file), sddl::of(&folder));
    // The test proves something only if a new file would not get that list anyway.
    let fresh = broker.join("fresh.tmp");
    std::fs::write(&fresh, b"x").unwrap();
    assert_ne!(sddl::of(&fresh), file_before, "a new file gets another list");
    std::fs::remove_file(&fresh).unwrap();

    let h = host();
    let ctx = context(&h, home.path(), backups.path());
    let r = apply(&plan(cache_fix(), &ctx).unwrap(), &ctx);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert!(!file.exists() && !folder.exists());
    // The backup copy of the file carries its list.
    let folder_path = r.folder.clone().unwrap();
    let j = journal::read(&folder_path).unwrap();
    let copy = j
        .steps
        .iter()
        .find_map(|s| match (&s.action, &s.saved) {
            (Action::DeleteFile { path, .. }, Some(backup::Saved::File { copy, acl, .. }))
                if *path == file =>
            {
                assert!(acl.is_some(), "the journal keeps the list");
                Some(folder_path.join(copy))
            }
            _ => None,
        })
        .expect("a step for a.tbacct");
    assert_eq!(sddl::of(&copy), file_before, "the backup copy is as locked down");

    let u = undo(&h, &folder_path, r.journal.unwrap());
    assert_eq!(u.outcome, Outcome::Applied, "{u:?}");
    assert_eq!(sddl::of(&file), file_before);
    assert_eq!(sddl::of(&folder), folder_before);
}
