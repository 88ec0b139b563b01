//! `host:token-broker-cache`: the two TokenBroker account caches the article has people
//! empty when the broker runs but sign-in still fails.
//!
//! Only file names' metadata is read (count, total size, newest change), never the files:
//! they hold tokens. The caches' state cannot say "damaged" by itself, so this check is
//! information for the technician — how much is cached and since when — and turns into a
//! warning only when a cache cannot be read. Emptying them is the remediation
//! `brokerplugin-reset`, which backs them up first.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::model::{CheckResult, Status};

use super::{fact, result, when, HostCheck, HostOs};

pub const CHECK: HostCheck = HostCheck {
    id: "host:token-broker-cache",
    target: "TokenBroker account caches",
    os: HostOs::Windows,
    reads: "file counts, sizes and times under %LOCALAPPDATA%\\Packages\\...\\AC\\TokenBroker\\Accounts (never the files)",
    remediation: Some("brokerplugin-reset"),
};

/// The two caches, below `%LOCALAPPDATA%`: (label, path).
pub const CACHES: [(&str, &str); 2] = [
    (
        "BrokerPlugin",
        "Packages\\Microsoft.AAD.BrokerPlugin_cw5n1h2txyewy\\AC\\TokenBroker\\Accounts",
    ),
    (
        "CloudExperienceHost",
        "Packages\\Microsoft.Windows.CloudExperienceHost_cw5n1h2txyewy\\AC\\TokenBroker\\Accounts",
    ),
];

/// What one cache folder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheState {
    Missing,
    Read {
        files: u64,
        bytes: u64,
        newest: Option<DateTime<Utc>>,
    },
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDir {
    pub label: &'static str,
    pub path: PathBuf,
    pub state: CacheState,
}

/// Scans both caches below `local_app_data` (`None`: the variable is not set).
pub fn read(local_app_data: Option<&Path>) -> Option<Vec<CacheDir>> {
    let base = local_app_data?;
    Some(
        CACHES
            .iter()
            .map(|(label, rel)| {
                let path = rel.split('\\').fold(base.to_path_buf(), |p, part| p.join(part));
                CacheDir {
                    label,
                    state: scan(&path),
                    path,
                }
            })
            .collect(),
    )
}

/// Counts the files below `dir` (recursively), their size and the newest change.
pub fn scan(dir: &Path) -> CacheState {
    let (mut files, mut bytes, mut newest): (u64, u64, Option<SystemTime>) = (0, 0, None);
    let mut pending = vec![dir.to_path_buf()];
    let mut first = true;
    while let Some(d) = pending.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if first && e.kind() == std::io::ErrorKind::NotFound => return CacheState::Missing,
            Err(e) => return CacheState::Unreadable(format!("{}: {e}", d.display())),
        };
        first = false;
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return CacheState::Unreadable(format!("{}: {e}", d.display())),
            };
            // symlink_metadata: a link is counted, never followed out of the cache.
            let meta = match entry.path().symlink_metadata() {
                Ok(m) => m,
                Err(e) => return CacheState::Unreadable(format!("{}: {e}", entry.path().display())),
            };
            if meta.is_dir() {
                pending.push(entry.path());
                continue;
            }
            files += 1;
            bytes += meta.len();
            if let Ok(t) = meta.modified() {
                newest = Some(newest.map_or(t, |n| n.max(t)));
            }
        }
    }
    CacheState::Read {
        files,
        bytes,
        newest: newest.map(DateTime::<Utc>::from),
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

pub fn check(caches: Option<&[CacheDir]>) -> CheckResult {
    let Some(caches) = caches else {
        return result(
            &CHECK,
            Status::Skip,
            "LOCALAPPDATA is not set, so the caches cannot be found",
        );
    };
    let unreadable: Vec<&CacheDir> = caches
        .iter()
        .filter(|c| matches!(c.state, CacheState::Unreadable(_)))
        .collect();
    let (total_files, total_bytes) = caches.iter().fold((0, 0), |(f, b), c| match c.state {
        CacheState::Read { files, bytes, .. } => (f + files, b + bytes),
        _ => (f, b),
    });
    let (status, summary) = if let Some(c) = unreadable.first() {
        (Status::Warn, format!("cannot read the {} account cache", c.label))
    } else if caches.iter().all(|c| c.state == CacheState::Missing) {
        (
            Status::Pass,
            "no cached broker accounts (nobody has signed in through the broker)".to_owned(),
        )
    } else {
        (
            Status::Pass,
            format!("{total_files} cached account files, {}", size(total_bytes)),
        )
    };
    let mut r = result(&CHECK, status, summary);
    for c in caches {
        let text = match &c.state {
            CacheState::Missing => "no such folder".to_owned(),
            CacheState::Read { files, bytes, newest } => {
                let newest = newest
                    .map(|t| format!(", newest change {}", when(t)))
                    .unwrap_or_default();
                format!("{files} files, {}{newest}", size(*bytes))
            }
            CacheState::Unreadable(e) => format!("unreadable: {e}"),
        };
        fact(&mut r, c.label, format!("{text} — {}", c.path.display()));
    }
    fact(
        &mut r,
        "if sign-in fails while the broker runs",
        "back up and empty both caches: remediation brokerplugin-reset",
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_local_app_data_is_a_skip() {
        assert_eq!(check(read(None).as_deref()).status, Status::Skip);
    }

    /// Real files in a temporary profile (on every OS, Windows under Wine included).
    #[test]
    fn counts_files_sizes_and_the_newest_change_without_reading_them() {
        let home = tempfile::tempdir().unwrap();
        let caches = read(Some(home.path())).unwrap();
        assert!(caches.iter().all(|c| c.state == CacheState::Missing));
        let r = check(Some(&caches));
        assert_eq!(
            (r.status, r.summary.as_str()),
            (
                Status::Pass,
                "no cached broker accounts (nobody has signed in through the broker)"
            )
        );

        let broker = &read(Some(home.path())).unwrap()[0].path;
        std::fs::create_dir_all(broker.join("sub")).unwrap();
        std::fs::write(broker.join("a.tbacct"), vec![1u8; 1000]).unwrap();
        std::fs::write(broker.join("sub").join("b.tbacct"), vec![1u8; 1048]).unwrap();
        let caches = read(Some(home.path())).unwrap();
        match &caches[0].state {
            CacheState::Read { files, bytes, newest } => {
                assert_eq!((*files, *bytes), (2, 2048));
                let age = Utc::now() - newest.expect("modification time");
                assert!(age.num_minutes().abs() < 10, "newest {newest:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(caches[1].state, CacheState::Missing);
        let r = check(Some(&caches));
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.summary, "2 cached account files, 2.0 KB");
        assert!(
            r.facts
                .iter()
                .any(|(k, v)| k == "BrokerPlugin" && v.starts_with("2 files, 2.0 KB, newest change ")),
            "{:?}",
            r.facts
        );
        assert!(r
            .facts
            .iter()
            .any(|(k, v)| k == "CloudExperienceHost" && v.starts_with("no such folder")));
    }

    #[test]
    fn an_unreadable_cache_is_a_warning_with_the_reset_remediation() {
        let caches = vec![CacheDir {
            label: "BrokerPlugin",
            path: PathBuf::from("x"),
            state: CacheState::Unreadable("access denied".into()),
        }];
        let r = check(Some(&caches));
        assert_eq!(r.status, Status::Warn);
        assert_eq!(r.remediation.as_deref(), Some("brokerplugin-reset"));
    }

    #[test]
    fn a_file_where_the_folder_should_be_is_unreadable() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        assert!(
            matches!(scan(&file), CacheState::Unreadable(_)),
            "{:?}",
            scan(&file)
        );
    }
}
