//! `m365mon fix` and `m365mon undo` end to end, with the real binary on a temporary
//! profile: the dry run changes nothing, applying needs --allow-fixes and a confirmation
//! (refused without a terminal and without --yes), the backup and journal land in the data
//! folder, and undo restores the caches byte for byte, with their modification times.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};
use support::bin::{self, text, BIN};

const BROKER: &str = "Packages/Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy/AC/TokenBroker/Accounts";
const CXH: &str = "Packages/Microsoft.Windows.CloudExperienceHost_cw5n1h2txyewy/AC/TokenBroker/Accounts";

struct Profile {
    _tmp: tempfile::TempDir,
    local: PathBuf,
    data: PathBuf,
    config: PathBuf,
}

impl Profile {
    fn new() -> Profile {
        let tmp = tempfile::tempdir().unwrap();
        let local = tmp.path().join("local");
        let data = tmp.path().join("data");
        let config = tmp.path().join("config");
        std::fs::create_dir_all(local.join(BROKER).join("nested")).unwrap();
        std::fs::create_dir_all(local.join(CXH)).unwrap();
        std::fs::write(local.join(BROKER).join("one.tbacct"), b"first token").unwrap();
        std::fs::write(
            local.join(BROKER).join("nested").join("two.tbres"),
            [0u8, 1, 2, 255],
        )
        .unwrap();
        std::fs::write(local.join(CXH).join("three.tbacct"), vec![b'x'; 3000]).unwrap();
        // A private file: undo must give it back private.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let private = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(local.join(BROKER).join("one.tbacct"), private).unwrap();
        }
        // Times well in the past (to the nanosecond), so a file written anew shows.
        for (i, rel) in [
            format!("{BROKER}/one.tbacct"),
            format!("{BROKER}/nested/two.tbres"),
            format!("{CXH}/three.tbacct"),
        ]
        .iter()
        .enumerate()
        {
            let f = std::fs::File::options()
                .write(true)
                .open(local.join(rel))
                .unwrap();
            let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000 + i as u64 * 86_400, 123_456_789);
            f.set_modified(t).unwrap();
        }
        Profile {
            _tmp: tmp,
            local,
            data,
            config,
        }
    }

    /// Runs m365mon with this profile's folders and no terminal on standard input.
    fn run(&self, args: &[&str]) -> Output {
        bin::output(
            Command::new(BIN)
                .args(args)
                .env("LOCALAPPDATA", &self.local)
                .env("XDG_DATA_HOME", &self.data)
                .env("XDG_CONFIG_HOME", &self.config)
                .env("HOME", self._tmp.path())
                .env_remove("M365MON_CONFIG")
                .stdin(Stdio::null()),
        )
    }

    fn backups(&self) -> PathBuf {
        self.data.join("m365mon").join("backups")
    }
}

/// Everything under `root`: a folder as `None`, a file as its bytes, modification time and
/// (on Unix) mode, all of which undo puts back. Folder times are left out: emptying a
/// folder and refilling it changes them.
fn tree(root: &Path) -> BTreeMap<String, Option<(Vec<u8>, SystemTime, u32)>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                out.insert(rel, None);
                pending.push(p);
            } else {
                let meta = std::fs::metadata(&p).unwrap();
                #[cfg(unix)]
                let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
                #[cfg(not(unix))]
                let mode = 0;
                out.insert(
                    rel,
                    Some((std::fs::read(&p).unwrap(), meta.modified().unwrap(), mode)),
                );
            }
        }
    }
    out
}

#[test]
fn fix_without_an_id_lists_the_fixes_with_their_remediation() {
    let p = Profile::new();
    let o = p.run(&["fix"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for id in [
        "clear-token-broker-cache",
        "remove-office-credentials",
        "set-protection-policy",
        "set-autoorgidgetkey",
        "reset-winhttp-proxy",
    ] {
        assert!(out.contains(id), "{id} missing:\n{out}");
    }
    assert!(out.contains("remediation brokerplugin-reset"), "{out}");
    let o = p.run(&["fix", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
}

#[test]
fn dry_run_then_refusal_then_apply_and_undo() {
    let p = Profile::new();
    let before = tree(&p.local);

    // The dry run (the default) lists every file and changes nothing.
    let o = p.run(&["fix", "clear-token-broker-cache"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    for name in ["one.tbacct", "two.tbres", "three.tbacct", "nested"] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    assert!(out.contains("Dry run: nothing was changed"), "{out}");
    assert_eq!(tree(&p.local), before);
    assert!(!p.backups().exists());

    // --allow-fixes without a terminal and without --yes: refused, exit 3, says why.
    let o = p.run(&["fix", "clear-token-broker-cache", "--allow-fixes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("not a terminal") && text(&o).contains("--yes"),
        "{}",
        text(&o)
    );
    assert_eq!(tree(&p.local), before);
    assert!(!p.backups().exists());

    // --yes alone is still a dry run.
    let o = p.run(&["fix", "clear-token-broker-cache", "--yes"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(tree(&p.local), before);

    // Applied: backed up, journal written, caches empty.
    let o = p.run(&["fix", "clear-token-broker-cache", "--allow-fixes", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Applied."), "{}", text(&o));
    assert_eq!(std::fs::read_dir(p.local.join(BROKER)).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(p.local.join(CXH)).unwrap().count(), 0);
    // One backup folder (beside it, the empty lock file of `fix` and `undo`).
    let folders: Vec<PathBuf> = std::fs::read_dir(p.backups())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(folders.len(), 1);
    let id = folders[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(id.ends_with("-clear-token-broker-cache"), "{id}");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folders[0].join("journal.json")).unwrap()).unwrap();
    assert_eq!(journal["state"], "applied");
    assert_eq!(journal["fix"], "clear-token-broker-cache");
    assert_eq!(journal["steps"].as_array().unwrap().len(), 4, "{journal:#}");

    // undo --list shows it; undo without --yes refuses; with --yes restores exactly.
    let o = p.run(&["undo", "--list"]);
    assert!(o.status.success() && text(&o).contains(&id), "{}", text(&o));
    let o = p.run(&["undo"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(std::fs::read_dir(p.local.join(BROKER)).unwrap().count(), 0);
    let o = p.run(&["undo", &id, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Byte for byte, each file's modification time, and its mode (one.tbacct is 0600).
    assert_eq!(tree(&p.local), before);
    let o = p.run(&["undo", "--yes"]);
    assert_eq!(o.status.code(), Some(3), "nothing left to undo: {}", text(&o));
}

#[test]
fn windows_fixes_say_so_elsewhere() {
    if cfg!(windows) {
        return;
    }
    let p = Profile::new();
    for id in [
        "set-protection-policy",
        "remove-office-credentials",
        "reset-winhttp-proxy",
        "set-autoorgidgetkey",
    ] {
        let o = p.run(&["fix", id, "--allow-fixes", "--yes"]);
        assert_eq!(o.status.code(), Some(3), "{id}: {}", text(&o));
        assert!(text(&o).contains("Windows only"), "{}", text(&o));
    }
    let o = p.run(&["fix", "no-such-fix"]);
    assert_eq!(o.status.code(), Some(3));
}

/// The typed confirmation on a real terminal: `script` (util-linux) gives m365mon a
/// pseudo-terminal whose input is what we type. Anything but `yes` refuses; `yes` applies.
#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_only_a_typed_yes_applies() {
    use std::io::Write;
    if Command::new("script").arg("--version").output().is_err() {
        return support::skip::because(
            "on_a_terminal_only_a_typed_yes_applies",
            "no `script` (util-linux) to make a terminal",
        );
    }
    let p = Profile::new();
    let before = tree(&p.local);
    let typed = |answer: &str, args: &str| -> Output {
        let mut child = Command::new("script")
            .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
            .env("LOCALAPPDATA", &p.local)
            .env("XDG_DATA_HOME", &p.data)
            .env("XDG_CONFIG_HOME", &p.config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run script");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{answer}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    for answer in ["no", "y", "YES please"] {
        let o = typed(answer, "fix clear-token-broker-cache --allow-fixes");
        assert_eq!(o.status.code(), Some(3), "{answer}: {}", text(&o));
        assert!(text(&o).contains("Type yes"), "{}", text(&o));
        assert_eq!(tree(&p.local), before, "{answer} changed something");
    }
    let o = typed("yes", "fix clear-token-broker-cache --allow-fixes");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_dir(p.local.join(BROKER)).unwrap().count(), 0);
    let o = typed("nope", "undo");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = typed("yes", "undo");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(tree(&p.local), before);
}

#[test]
fn a_fix_is_refused_while_another_run_holds_the_backup_lock() {
    let p = Profile::new();
    let before = tree(&p.local);
    std::fs::create_dir_all(p.backups()).unwrap();
    let lock = LockHolder::hold(&p.backups().join("m365mon-fix.lock"));
    let o = p.run(&["fix", "clear-token-broker-cache", "--allow-fixes", "--yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("another m365mon fix or undo is running"),
        "{}",
        text(&o)
    );
    assert_eq!(tree(&p.local), before, "nothing changed");
    lock.release();
    let o = p.run(&["fix", "clear-token-broker-cache", "--allow-fixes", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Another run holding the fix lock. On Unix the lock is held by a `flock` process of its
/// own, not by this test process: an flock belongs to the open file, and a child that
/// another test thread forks while this process holds the descriptor shares it until
/// its exec, so a lock held here could outlive its release by the time a loaded machine
/// takes to schedule that child (seen as a spurious "another fix is running").
struct LockHolder {
    #[cfg(unix)]
    child: std::process::Child,
    #[cfg(not(unix))]
    file: std::fs::File,
}

impl LockHolder {
    #[cfg(unix)]
    fn hold(path: &Path) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new("flock")
            .args(["--exclusive", "--no-fork"])
            .arg(path)
            .args(["sh", "-c", "echo held; exec sleep 600"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("flock (util-linux) runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "held", "flock took the lock");
        LockHolder { child }
    }

    #[cfg(not(unix))]
    fn hold(path: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap();
        file.lock().unwrap();
        LockHolder { file }
    }

    /// Ends the other run; its lock is gone when this returns.
    fn release(self) {
        #[cfg(unix)]
        {
            let mut child = self.child;
            child.kill().unwrap();
            child.wait().unwrap();
        }
        #[cfg(not(unix))]
        drop(self.file);
    }
}
