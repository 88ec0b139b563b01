//! Loud skips. A test that cannot run on this machine (not root, no tmux, no Prometheus,
//! no `script`, no `../shared` sample) calls [`because`] and returns; then:
//!
//! - the reason is written to the process's real standard error. libtest captures only
//!   what the `print!`/`eprint!` macros write, and hides it for a passing test; a write to
//!   `std::io::stderr()` through `std::io::Write` is not captured, so the line shows in a
//!   plain `cargo test` beside the `ok`;
//! - `<binary>::<test>: <reason>` is appended to the list file ([`list_path`]:
//!   `skipped-tests.txt` in cargo's target folder), which `.ci/run` empties before
//!   `cargo test` and prints after it;
//! - under CI (`CI` set, and not `0` or `false`) the skip is a failure: CI installs every
//!   tool and runs as root, so a test that skips there has stopped testing anything.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the list file, in cargo's target folder.
pub const LIST_FILE: &str = "skipped-tests.txt";

/// Skips the calling test, loudly: see the module documentation. `test` is the test
/// function's name; the test binary's name is put in front of it.
#[track_caller]
pub fn because(test: &str, reason: &str) {
    let name = format!("{}::{test}", binary_name());
    let list = list_path();
    let listed = match append(&list, &format!("{name}: {reason}\n")) {
        Ok(()) => format!("listed in {}", list.display()),
        Err(e) => format!("not listed: cannot append to {}: {e}", list.display()),
    };
    let _ = writeln!(std::io::stderr(), "SKIPPED {name}: {reason} ({listed})");
    if in_ci() {
        panic!("{name} would be skipped, and CI must run every test: {reason}");
    }
}

/// Whether this run is CI's (which turns every skip into a failure).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The list of skipped tests: `skipped-tests.txt` in cargo's target folder — the folder
/// above this test binary that holds cargo's `CACHEDIR.TAG` (so `CARGO_TARGET_DIR` and
/// `--target` are followed), else `target/` in the package.
pub fn list_path() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let target = exe
        .as_deref()
        .and_then(|exe| exe.ancestors().skip(1).find(|d| d.join("CACHEDIR.TAG").is_file()))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join(LIST_FILE)
}

/// The test binary's name without cargo's hash: `tui_tmux` for `deps/tui_tmux-0123abcd`.
fn binary_name() -> String {
    let stem = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => stem,
    }
}

/// Appends `line` in one write to a file opened for appending, holding an exclusive lock:
/// test binaries run one after another, but tests within one run in parallel threads.
fn append(list: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = list.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(list)?;
    f.lock()?;
    f.write_all(line.as_bytes())
}
