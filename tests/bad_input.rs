//! Bad input gets a clear error naming the file, the line and what is wrong, and exit
//! status 3; nothing panics.

mod support;

use std::path::PathBuf;
use std::process::Command;
use support::{bin, files};

fn fixture(name: &str) -> PathBuf {
    files::fixture("invalid_inputs", name)
}

/// Runs the binary (no panic allowed): (exit code, stderr).
fn run(args: &[&str]) -> (i32, String) {
    let (code, _, stderr) = bin::run(Command::new(bin::BIN).args(args));
    (code, stderr)
}

/// (args, text the message must contain: for a fixture, its whole path and the exact
/// line of its mistake)
fn cases() -> Vec<(Vec<String>, String)> {
    let f = |n: &str| fixture(n).to_string_lossy().to_string();
    let theme = |n: &str| files::fixture("invalid_themes", n).to_string_lossy().to_string();
    vec![
        (
            vec![
                "endpoints".into(),
                "--endpoints".into(),
                f("endpoints-unknown-key.toml"),
            ],
            format!("{}:5: ", f("endpoints-unknown-key.toml")),
        ),
        (
            vec![
                "endpoints".into(),
                "--endpoints".into(),
                f("endpoints-bad-host.toml"),
            ],
            format!("{}:4: ", f("endpoints-bad-host.toml")),
        ),
        (
            vec![
                "endpoints".into(),
                "--endpoints".into(),
                f("endpoints-syntax.toml"),
            ],
            format!("{}:1: ", f("endpoints-syntax.toml")),
        ),
        (
            vec![
                "endpoints".into(),
                "--ms-endpoints".into(),
                f("ms-bad-ports.json"),
            ],
            format!("{}:3: ", f("ms-bad-ports.json")),
        ),
        (
            vec!["endpoints".into(), "--ms-endpoints".into(), f("ms-syntax.json")],
            format!("{}:3: ", f("ms-syntax.json")),
        ),
        (
            vec!["check".into(), "--lab".into(), f("scenario-bad-mode.toml")],
            format!("{}:6: ", f("scenario-bad-mode.toml")),
        ),
        (
            vec!["check".into(), "--lab".into(), f("scenario-missing-status.toml")],
            format!("{}:6: ", f("scenario-missing-status.toml")),
        ),
        (
            vec![
                "check".into(),
                "--endpoints".into(),
                "/nonexistent/endpoints.toml".into(),
            ],
            "/nonexistent/endpoints.toml: file not found".into(),
        ),
        (
            vec![
                "check".into(),
                "--lab-connect".into(),
                "/nonexistent/state.json".into(),
            ],
            "/nonexistent/state.json: file not found".into(),
        ),
        (
            vec!["check".into(), "--lab".into(), "no-such-scenario".into()],
            "no-such-scenario".into(),
        ),
        (vec!["--nonsense-flag".into()], "--nonsense-flag".into()),
        (
            vec!["check".into(), "--timeout".into(), "soon".into()],
            "soon".into(),
        ),
        (
            vec!["check".into(), "--format".into(), "xml".into()],
            "xml".into(),
        ),
        (vec!["explain".into(), "zzz".into()], "zzz".into()),
        (
            vec!["--theme".into(), theme("bad-colour.toml")],
            format!("{}:6: ", theme("bad-colour.toml")),
        ),
        (
            vec!["--theme".into(), theme("unknown-key.toml")],
            format!("{}:6: ", theme("unknown-key.toml")),
        ),
        (
            vec!["--theme".into(), "no-such-theme".into()],
            "no-such-theme".into(),
        ),
    ]
}

#[test]
fn bad_inputs_exit_3_with_file_and_line() {
    let mut problems = Vec::new();
    for (args, expect) in cases() {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = run(&refs);
        if code != 3 || !stderr.contains(&expect) {
            problems.push(format!(
                "{args:?}: exit {code}, wanted 3 and {expect:?} in:\n{stderr}"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

#[test]
fn unknown_error_code_exits_3() {
    let (code, stderr) = run(&["explain", "0x12345678"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("0x12345678"), "{stderr}");
}

#[test]
fn live_monitor_refuses_a_non_terminal() {
    let (code, stderr) = run(&["--lab", "healthy"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("m365mon check"), "{stderr}");
}

#[test]
fn help_and_version_are_not_errors() {
    assert_eq!(run(&["--help"]).0, 0);
    assert_eq!(run(&["--version"]).0, 0);
}
