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
