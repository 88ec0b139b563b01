//! Paths into the repository: fixtures under `tests/`, and other files the tests read.

use std::path::{Path, PathBuf};

/// `rel`, relative to the crate's root (`CARGO_MANIFEST_DIR`).
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `tests/<dir>/<name>`.
pub fn fixture(dir: &str, name: &str) -> PathBuf {
    repo("tests").join(dir).join(name)
}

/// The text of `tests/<dir>/<name>`; panics naming the file when it cannot be read.
pub fn read_fixture(dir: &str, name: &str) -> String {
    let path = fixture(dir, name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A real copy of Microsoft's endpoint web service output (Worldwide), in `../shared/data`
/// beside the project, which every developer and CI has; `None`, with test `test` skipped
/// loudly (`support::skip`), where it is missing.
pub fn shared_sample(test: &str) -> Option<PathBuf> {
    let path = repo("../shared/data/ms365-endpoints-worldwide-sample.json");
    if path.is_file() {
        return Some(path);
    }
    super::skip::because(test, &format!("{} is not there", path.display()));
    None
}
