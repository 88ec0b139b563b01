//! Puts the build's git commit and target into `--version`, so a report or a technician's
//! screenshot says exactly which build made it.
//!
//! The commit comes from `M365MON_COMMIT` when set (the dist script sets it), else from git,
//! but only when the package's own folder is a checkout: a source tarball unpacked inside
//! some other repository must not take that repository's commit. Without either it says
//! "unknown commit". `tests/version.rs` includes this file to test [`commit_of`].

use std::path::Path;
use std::process::Command;

/// What `--version` says when the commit cannot be known (a tarball without `.git`).
pub const UNKNOWN_COMMIT: &str = "unknown commit";

/// The commit of the checkout at `dir` (10 hex digits), or `None` when `dir` is not the top
/// of a git checkout (no `.git` file or folder there) or git cannot tell.
pub fn commit_of(dir: &Path) -> Option<String> {
    if !dir.join(".git").exists() {
        return None;
    }
    git(dir, &["rev-parse", "--short=10", "HEAD"])
}

/// `git args` in `dir`: its trimmed output, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
}

#[allow(dead_code)] // only build scripts call it; tests/version.rs includes this file
fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    let commit = std::env::var("M365MON_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| commit_of(dir));
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown target".into());
    // `version` (for /metrics' build_info and reports) keeps its "0.1.0 (abc123)" form; the
    // long form of `--version` adds the target, which matters when a technician carries
    // the wrong one of several downloads.
    let short = match &commit {
        Some(c) => format!("{version} ({c})"),
        None => version.to_string(),
    };
    let long = format!(
        "{version} (commit {}, {target})",
        commit.as_deref().unwrap_or(UNKNOWN_COMMIT)
    );
    println!("cargo:rustc-env=M365MON_VERSION={short}");
    println!("cargo:rustc-env=M365MON_LONG_VERSION={long}");
    println!("cargo:rerun-if-env-changed=M365MON_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    // In a worktree `.git` is a file, so ask git where HEAD and the branch refs live.
    if dir.join(".git").exists() {
        for path in ["HEAD", "refs/heads", "packed-refs"] {
            let p = git(dir, &["rev-parse", "--path-format=absolute", "--git-path", path]);
            // A path that does not exist would make cargo rerun this script every build.
            if let Some(p) = p.filter(|p| Path::new(p).exists()) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
}
