//! `fix` and `undo` keep file permissions (Unix modes) and modification times: the backup
//! copy of a private token cache is as private as the file, and undo puts back each file
//! and folder with the mode and each file with the time it had. The real binary on a
//! temporary profile, as in `fix_cli.rs`.

#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};
use support::bin::{self, text, BIN};

const BROKER: &str = "Packages/Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy/AC/TokenBroker/Accounts";
const CXH: &str = "Packages/Microsoft.Windows.CloudExperienceHost_cw5n1h2txyewy/AC/TokenBroker/Accounts";

/// What is kept of each entry: its mode, and for a file its bytes and modification time.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    mode: u32,
    file: Option<(Vec<u8>, SystemTime)>,
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every entry under `root`, by path relative to it.
fn entries(root: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let file = if meta.is_dir() {
                pending.push(p.clone());
                None
            } else {
                Some((std::fs::read(&p).unwrap(), meta.modified().unwrap()))
            };
            out.insert(rel, Entry { mode: mode(&p), file });
        }
    }
    out
}

fn file(path: &Path, content: &[u8], mode: u32, age_days: u64) {
    std::fs::write(path, content).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(age_days * 86_400))
        .unwrap();
    drop(f);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn folder(path: &Path, mode: u32) {
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

struct Profile {
    tmp: tempfile::TempDir,
    local: PathBuf,
}

impl Profile {
    /// Caches with the modes a real profile has and some it might: private files and
    /// folders, group-readable ones, a read-only file, each file with its own age.
    fn new() -> Profile {
        let tmp = tempfile::tempdir().unwrap();
        let local = tmp.path().join("local");
        let broker = local.join(BROKER);
        let cxh = local.join(CXH);
        folder(&broker, 0o700);
        folder(&cxh, 0o700);
        file(&broker.join("private.tbacct"), b"token one", 0o600, 3);
        file(&broker.join("shared.tbres"), b"shared", 0o644, 10);
        file(&broker.join("readonly.tbacct"), b"read only", 0o400, 30);
        folder(&broker.join("private-dir"), 0o700);
        file(
            &broker.join("private-dir").join("deep.tbres"),
            &[0, 1, 2, 255],
            0o600,
            100,
        );
        folder(&broker.join("group-dir"), 0o750);
        file(
            &broker.join("group-dir").join("group.tbacct"),
            b"group",
            0o640,
            365,
        );
        folder(&broker.join("group-dir").join("empty-0711"), 0o711);
        file(&cxh.join("cxh.tbacct"), &[b'x'; 3000], 0o600, 7);
        Profile { tmp, local }
    }

    fn run(&self, args: &[&str]) -> Output {
        let o = bin::output(
            Command::new(BIN)
                .args(args)
                .env("LOCALAPPDATA", &self.local)
                .env("XDG_DATA_HOME", self.tmp.path().join("data"))
                .env("XDG_CONFIG_HOME", self.tmp.path().join("config"))
                .env("HOME", self.tmp.path())
                .env_remove("M365MON_CONFIG")
                .stdin(Stdio::null()),
        );
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        o
    }

    fn backups(&self) -> PathBuf {
        self.tmp.path().join("data").join("m365mon").join("backups")
    }
}

#[test]
fn fix_and_undo_keep_modes_and_times_and_the_backup_is_as_private_as_the_files() {
    let p = Profile::new();
    let before = entries(&p.local);

    p.run(&["fix", "clear-token-broker-cache", "--allow-fixes", "--yes"]);
    assert_eq!(std::fs::read_dir(p.local.join(BROKER)).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(p.local.join(CXH)).unwrap().count(), 0);

    // Each backup copy has the mode of the file it copies.
    let folder = std::fs::read_dir(p.backups())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|d| d.is_dir())
        .expect("a backup folder");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("journal.json")).unwrap()).unwrap();
    let mut copies = 0;
    for step in journal["steps"].as_array().unwrap() {
        if step["saved"]["kind"] != "file" {
            continue;
        }
        let original = Path::new(step["action"]["path"].as_str().unwrap());
        let rel = original.strip_prefix(&p.local).unwrap().display().to_string();
        let copy = folder.join(step["saved"]["copy"].as_str().unwrap());
        assert_eq!(
            format!("{:o}", mode(&copy)),
            format!("{:o}", before[&rel].mode),
            "the backup copy of {rel}"
        );
        copies += 1;
    }
    assert_eq!(copies, 6, "{journal}");

    let o = p.run(&["undo", "--yes"]);
    assert!(
        text(&o).contains("Restored") || text(&o).contains("restored"),
        "{}",
        text(&o)
    );
    let after = entries(&p.local);
    let mut differences = Vec::new();
    for (rel, was) in &before {
        match after.get(rel) {
            None => differences.push(format!("{rel}: missing")),
            Some(now) if now.mode != was.mode => {
                differences.push(format!("{rel}: mode {:o}, was {:o}", now.mode, was.mode))
            }
            Some(now) if now.file != was.file => differences.push(format!(
                "{rel}: content or time differ (now {:?}, was {:?})",
                now.file.as_ref().map(|f| f.1),
                was.file.as_ref().map(|f| f.1)
            )),
            Some(_) => {}
        }
    }
    differences.extend(
        after
            .keys()
            .filter(|k| !before.contains_key(*k))
            .map(|k| format!("{k}: new")),
    );
    assert!(
        differences.is_empty(),
        "after fix + undo:\n{}",
        differences.join("\n")
    );
}
