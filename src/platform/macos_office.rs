//! macOS: where the Office apps are. Office for Mac must sit in `/Applications`; a copy
//! elsewhere (Downloads, a subfolder, another disk) makes macOS treat it as a different
//! app for the keychain, and Office asks for keychain access again and again.
//!
//! The apps' usual paths are tested directly; Spotlight's `mdfind` finds every copy by
//! bundle identifier. The parsing of `mdfind` output is plain code, tested with fixtures
//! on any OS (macOS cannot be built on the project's machines).

use std::path::Path;

/// The Office apps: (name of the .app, bundle identifier).
pub const APPS: &[(&str, &str)] = &[
    ("Microsoft Word", "com.microsoft.Word"),
    ("Microsoft Excel", "com.microsoft.Excel"),
    ("Microsoft PowerPoint", "com.microsoft.Powerpoint"),
    ("Microsoft Outlook", "com.microsoft.Outlook"),
    ("Microsoft OneNote", "com.microsoft.onenote.mac"),
];

/// Where one app was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppLocation {
    pub name: &'static str,
    pub bundle_id: &'static str,
    /// `/Applications/<name>.app` exists.
    pub in_applications: bool,
    /// Other copies Spotlight knows about.
    pub elsewhere: Vec<String>,
}

/// The expected path of an app.
pub fn expected_path(name: &str) -> String {
    format!("/Applications/{name}.app")
}

/// Paths from `mdfind` output that are copies an app could be started from: one path a
/// line; the expected copy, backups (Time Machine), the Trash and bundles nested inside
/// other bundles are left out.
pub fn parse_mdfind(text: &str, expected: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('/') && l.ends_with(".app"))
        .filter(|l| *l != expected)
        .filter(|l| !l.contains("/.Trash/") && !l.contains("Backups.backupdb") && !l.contains("/.Trashes/"))
        .filter(|l| !l.trim_end_matches(".app").contains(".app/"))
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Builds an app's location from what exists and what `mdfind` printed.
pub fn locate(
    name: &'static str,
    bundle_id: &'static str,
    exists: impl Fn(&Path) -> bool,
    mdfind: &str,
) -> AppLocation {
    let expected = expected_path(name);
    AppLocation {
        name,
        bundle_id,
        in_applications: exists(Path::new(&expected)),
        elsewhere: parse_mdfind(mdfind, &expected),
    }
}

/// Looks for every Office app on this Mac.
#[cfg(target_os = "macos")]
pub fn read() -> Result<Vec<AppLocation>, String> {
    use super::tool::{run, ToolRun};
    use std::time::Duration;
    let mut out = Vec::new();
    for (name, id) in APPS {
        let query = format!("kMDItemCFBundleIdentifier == '{id}'");
        let found = match run("mdfind", &[&query], Duration::from_secs(20)) {
            ToolRun::Ran {
                code: Some(0),
                stdout,
                ..
            } => stdout,
            other => return Err(other.problem("mdfind")),
        };
        out.push(locate(name, id, |p| p.is_dir(), &found));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/host/mdfind-word.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn keeps_only_copies_that_can_be_started() {
        let got = parse_mdfind(&fixture(), "/Applications/Microsoft Word.app");
        assert_eq!(
            got,
            vec![
                "/Users/ada/Downloads/Microsoft Word.app".to_owned(),
                "/Volumes/USB/Office/Microsoft Word.app".to_owned()
            ]
        );
    }

    #[test]
    fn locates_an_app_from_the_file_system_and_spotlight() {
        let loc = locate(
            "Microsoft Word",
            "com.microsoft.Word",
            |p| p == Path::new("/Applications/Microsoft Word.app"),
            &fixture(),
        );
        assert!(loc.in_applications);
        assert_eq!(loc.elsewhere.len(), 2);
        let loc = locate("Microsoft Excel", "com.microsoft.Excel", |_| false, "");
        assert!(!loc.in_applications && loc.elsewhere.is_empty());
    }
}
