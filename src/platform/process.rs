//! Which of the processes that sign-in depends on are running right now
//! (e.g. `Microsoft.AAD.BrokerPlugin.exe`, `OfficeClickToRun.exe`).
//!
//! Names are matched the way people write them in documentation, not byte for byte:
//! case does not matter (Windows file names are case-insensitive) and the `.exe` suffix
//! may be given or left out. On Linux the kernel cuts a process name to 15 bytes, so a
//! longer wanted name matches its cut-off form there.

use std::ffi::OsStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};

/// One running process that matched a wanted name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessFact {
    /// The wanted name it matched, exactly as the caller passed it, so callers can ask
    /// "is the broker running?" without knowing how this OS spells process names.
    pub name: String,
    pub pid: u32,
    /// When the process started, if the OS tells (a broker that restarts every few
    /// seconds is as bad as one that is missing).
    pub started_at: Option<DateTime<Utc>>,
}

/// Longest process name the OS keeps, if it cuts names short.
#[cfg(target_os = "linux")]
const NAME_LIMIT: Option<usize> = Some(15);
#[cfg(not(target_os = "linux"))]
const NAME_LIMIT: Option<usize> = None;

/// The running processes whose name matches one of `names`, ordered as `names` are and
/// then by process id. A name with no running process simply has no entry; an empty
/// list means none is running (or the process table could not be read).
pub fn running_processes(names: &[&str]) -> Vec<ProcessFact> {
    if names.is_empty() {
        return Vec::new();
    }
    let Ok(mut system) = System::new() else {
        return Vec::new();
    };
    // Names, ids and start times come with the cheapest refresh; CPU, memory and command
    // lines are not needed and are costly to read for every process.
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing());
    let seen = system
        .processes()
        .values()
        .map(|p| (p.name(), p.pid().as_u32(), p.start_time()));
    collect_matches(names, seen, NAME_LIMIT)
}

/// Picks the processes matching `names` out of `(name, pid, start seconds)` triples.
/// Kept apart from the process table so the matching rules are tested on fixed input.
fn collect_matches<'a>(
    names: &[&str],
    seen: impl Iterator<Item = (&'a OsStr, u32, u64)>,
    limit: Option<usize>,
) -> Vec<ProcessFact> {
    let seen: Vec<_> = seen.collect();
    let mut facts = Vec::new();
    for wanted in names {
        let mut found: Vec<ProcessFact> = seen
            .iter()
            .filter(|(name, _, _)| name_matches(wanted, &name.to_string_lossy(), limit))
            .map(|&(_, pid, start)| ProcessFact {
                name: (*wanted).to_owned(),
                pid,
                // 0 is what sysinfo reports when it could not read the start time.
                started_at: (start > 0)
                    .then(|| DateTime::from_timestamp(i64::try_from(start).ok()?, 0))
                    .flatten(),
            })
            .collect();
        found.sort_by_key(|f| f.pid);
        facts.extend(found);
    }
    facts
}

/// Whether the OS's process name `seen` is the program `wanted`, given that the OS cuts
/// names to `limit` bytes (if it does).
fn name_matches(wanted: &str, seen: &str, limit: Option<usize>) -> bool {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return false;
    }
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if same(strip_exe(wanted), strip_exe(seen)) {
        return true;
    }
    // A name cut by the OS: `seen` is exactly `limit` bytes and starts the wanted name
    // (with or without its `.exe`, since the cut can fall either side of it).
    match limit {
        Some(limit) if seen.len() == limit => [wanted, strip_exe(wanted)]
            .iter()
            .any(|w| w.len() > limit && w.get(..limit).is_some_and(|head| same(head, seen))),
        _ => false,
    }
}

fn strip_exe(name: &str) -> &str {
    let cut = name.len().saturating_sub(4);
    match name.get(cut..) {
        Some(ext) if ext.eq_ignore_ascii_case(".exe") && cut > 0 => &name[..cut],
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn finds_this_test_process_by_its_executable_name() {
        // The test binary is a real running process on every OS, Wine included, so this
        // proves the process table is read, not just that matching works.
        let exe = std::env::current_exe().expect("current exe");
        let file = exe
            .file_name()
            .expect("exe file name")
            .to_string_lossy()
            .into_owned();
        let facts = running_processes(&[&file]);
        let me = facts.iter().find(|f| f.pid == std::process::id());
        let me = me.unwrap_or_else(|| panic!("{file} (pid {}) not in {facts:?}", std::process::id()));
        assert_eq!(me.name, file);
        let started = me.started_at.expect("start time of a running process");
        let age = Utc::now().signed_duration_since(started);
        assert!(
            age.num_seconds() >= -5 && age.num_hours() < 24,
            "started {started}, age {age}"
        );
    }

    #[test]
    fn a_program_that_is_not_running_is_absent() {
        assert!(running_processes(&["m365mon-no-such-program-4711.exe"]).is_empty());
        assert!(running_processes(&[]).is_empty());
    }

    #[test]
    fn names_match_without_case_or_exe_suffix() {
        assert!(name_matches(
            "Microsoft.AAD.BrokerPlugin.exe",
            "microsoft.aad.brokerplugin.EXE",
            None
        ));
        assert!(name_matches("OfficeClickToRun", "OfficeClickToRun.exe", None));
        assert!(name_matches("OfficeClickToRun.exe", "OfficeClickToRun", None));
        assert!(!name_matches(
            "OfficeClickToRun.exe",
            "OfficeClickToRunner.exe",
            None
        ));
        assert!(!name_matches("", "", None));
        assert!(!name_matches(".exe", "x", None));
    }

    #[test]
    fn names_cut_by_the_os_match_only_at_the_limit() {
        // Linux keeps 15 bytes of "Microsoft.AAD.BrokerPlugin.exe".
        assert!(name_matches(
            "Microsoft.AAD.BrokerPlugin.exe",
            "Microsoft.AAD.B",
            Some(15)
        ));
        assert!(name_matches(
            "m365mon-0123456789abcdef",
            "m365mon-0123456",
            Some(15)
        ));
        // Shorter than the limit: a different program, not a cut-off name.
        assert!(!name_matches(
            "Microsoft.AAD.BrokerPlugin.exe",
            "Microsoft.AAD",
            Some(15)
        ));
        // Where the OS does not cut names, a prefix is never enough.
        assert!(!name_matches(
            "Microsoft.AAD.BrokerPlugin.exe",
            "Microsoft.AAD.B",
            None
        ));
    }

    #[test]
    fn matches_are_grouped_by_wanted_name_and_ordered_by_pid() {
        let seen = [
            (os("OfficeClickToRun.exe"), 40, 1_700_000_000),
            (os("Microsoft.AAD.BrokerPlugin.exe"), 30, 0),
            (os("explorer.exe"), 10, 1_700_000_000),
            (os("microsoft.aad.brokerplugin.exe"), 20, 1_700_000_100),
        ];
        let facts = collect_matches(
            &[
                "Microsoft.AAD.BrokerPlugin.exe",
                "OfficeClickToRun.exe",
                "Teams.exe",
            ],
            seen.into_iter(),
            None,
        );
        let got: Vec<_> = facts.iter().map(|f| (f.name.as_str(), f.pid)).collect();
        assert_eq!(
            got,
            [
                ("Microsoft.AAD.BrokerPlugin.exe", 20),
                ("Microsoft.AAD.BrokerPlugin.exe", 30),
                ("OfficeClickToRun.exe", 40)
            ]
        );
        assert_eq!(facts[0].started_at, DateTime::from_timestamp(1_700_000_100, 0));
        assert_eq!(facts[1].started_at, None, "0 means the start time is unknown");
    }
}
