//! The `e` key: the session's report as Markdown (for a ticket) and JSON (for tools),
//! written side by side so the two always describe the same moment.

use std::io;
use std::path::{Path, PathBuf};

use crate::engine::Snapshot;
use crate::report;
use crate::report::redact::Redactor;

/// Where the two files went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    pub markdown: PathBuf,
    pub json: PathBuf,
}

/// Writes `m365mon-report-<stamp>.md` and `.json` into `dir` (created if missing). A
/// second export within the same second gets a `-2`, `-3`... suffix instead of
/// overwriting the first. With `redact`, both hide the private names, with the same
/// placeholders in both.
pub fn write_reports(dir: &Path, snapshot: &Snapshot, stamp: &str, redact: bool) -> io::Result<ReportPaths> {
    std::fs::create_dir_all(dir)?;
    let paths = free_paths(dir, stamp);
    let mut json = report::json(snapshot);
    let mut markdown = report::markdown(snapshot);
    if redact {
        let mut r = Redactor::for_snapshot(snapshot);
        markdown = r.apply(&markdown);
        r.apply_json(&mut json);
    }
    let json = serde_json::to_string_pretty(&json).map_err(io::Error::other)?;
    std::fs::write(&paths.markdown, markdown)?;
    std::fs::write(&paths.json, json + "\n")?;
    Ok(paths)
}

fn free_paths(dir: &Path, stamp: &str) -> ReportPaths {
    let at = |suffix: String| ReportPaths {
        markdown: dir.join(format!("m365mon-report-{stamp}{suffix}.md")),
        json: dir.join(format!("m365mon-report-{stamp}{suffix}.json")),
    };
    let mut n = 1;
    loop {
        let paths = at(if n == 1 { String::new() } else { format!("-{n}") });
        if !paths.markdown.exists() && !paths.json.exists() {
            return paths;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_exports_in_the_same_second_get_a_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let s = Snapshot::default();
        let first = write_reports(dir.path(), &s, "20250602-140312", false).unwrap();
        let second = write_reports(dir.path(), &s, "20250602-140312", true).unwrap();
        assert!(first.markdown.ends_with("m365mon-report-20250602-140312.md"));
        assert!(second.json.ends_with("m365mon-report-20250602-140312-2.json"));
        assert!(std::fs::read_to_string(&second.json)
            .unwrap()
            .contains("m365mon.report/1"));
    }
}
