//! `m365mon --version` names the version, the commit and the target, and a build from a
//! source tarball (no `.git`) says "unknown commit" rather than borrowing a commit.

mod support;

use std::path::Path;
use std::process::Command;

// The build script itself, to test how it finds the commit.
#[allow(dead_code)] // its `main` is for cargo, not for this test
#[path = "../build.rs"]
mod build_script;

use support::bin::{m365mon, run};

fn git_head(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_version_commit_and_target() {
    let (code, out, _) = run(&mut support::bin::command(&["--version"]));
    assert_eq!(code, 0);
    let line = out.trim();
    let version = env!("CARGO_PKG_VERSION");
    assert!(line.starts_with(&format!("m365mon {version} (commit ")), "{line}");
    // The target triple this binary was built for: arch and OS as std knows them.
    let (arch, os) = (std::env::consts::ARCH, std::env::consts::OS);
    let target = line
        .rsplit_once(", ")
        .map(|(_, t)| t.trim_end_matches(')'))
        .unwrap_or_else(|| panic!("no target in {line:?}"));
    assert!(
        target.starts_with(arch) && target.contains(os),
        "target {target:?} is not {arch}-*-{os}*"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = match std::env::var("M365MON_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => build_script::commit_of(dir).unwrap_or(build_script::UNKNOWN_COMMIT.into()),
    };
    assert!(
        line.contains(&format!("(commit {expected}, ")),
        "{line} does not name commit {expected}"
    );
    // `-V` says the same, and a subcommand's --version too (propagated).
    let short = m365mon(&["-V"]);
    assert_eq!(String::from_utf8_lossy(&short.stdout).trim(), line);
    let sub = m365mon(&["check", "--version"]);
    let sub = String::from_utf8_lossy(&sub.stdout);
    assert_eq!(
        sub.trim().strip_prefix("m365mon-check "),
        line.strip_prefix("m365mon ")
    );
}

#[test]
fn commit_of_a_checkout_is_its_head() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !dir.join(".git").exists() {
        return support::skip::because(
            "commit_of_a_checkout_is_its_head",
            "the sources are not a git checkout (a tarball)",
        );
    }
    let head = git_head(dir).expect("git rev-parse HEAD in the checkout");
    assert_eq!(build_script::commit_of(dir), Some(head));
}

#[test]
fn a_tarball_inside_another_repository_has_no_commit() {
    // A source tarball unpacked in some other checkout: git would answer with that
    // checkout's commit, which would be a lie in `--version`.
    let outer = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(outer.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "outer"]);
    assert!(git_head(outer.path()).is_some());
    let unpacked = outer.path().join("m365mon-0.1.0");
    std::fs::create_dir(&unpacked).unwrap();
    std::fs::write(unpacked.join("Cargo.toml"), "[package]\n").unwrap();
    assert!(git_head(&unpacked).is_some(), "git sees the outer checkout");
    assert_eq!(build_script::commit_of(&unpacked), None);
    assert_eq!(build_script::commit_of(outer.path()), git_head(outer.path()));
}
