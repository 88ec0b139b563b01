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
            vec![
                "endpoints".into(),
                "--ms-endpoints".into(),
                f("ms-zero-port.json"),
            ],
            format!(
                "{}:3: endpoint set 2: tcpPorts \"0\": 0 is not a port",
                f("ms-zero-port.json")
            ),
        ),
        (
            vec![
                "endpoints".into(),
                "--ms-endpoints".into(),
                f("ms-port-out-of-range.json"),
            ],
            format!(
                "{}:2: endpoint set 1: tcpPorts \"443,70000\": \"70000\" is not a port",
                f("ms-port-out-of-range.json")
            ),
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

/// `--ca-file` is read before anything starts, in lab mode too: missing, not PEM, or PEM
/// without a certificate, each names the file.
#[test]
fn a_bad_ca_file_stops_every_mode_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let no_cert = dir.path().join("key-only.pem");
    std::fs::write(&no_cert, "just some text, no PEM block\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (file, why) in [
        (&missing, "cannot read certificate file"),
        (&garbage, "not a PEM certificate file"),
        (&no_cert, "no certificate in the file"),
    ] {
        let f = file.to_str().unwrap();
        for args in [
            vec!["check", "--lab", "healthy", "--timeout", "1", "--ca-file", f],
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--lab",
                "healthy",
                "--ca-file",
                f,
            ],
            vec!["watch", "--lab", "healthy", "--ca-file", f],
        ] {
            let (code, stderr) = run(&args);
            assert_eq!(code, 3, "{args:?}: {stderr}");
            assert!(stderr.contains(&format!("{f}: {why}")), "{args:?}: {stderr}");
        }
    }
}

/// A scenario name in the configuration file is checked by the lab, but the error still
/// names the file and the line.
#[test]
fn an_unknown_lab_in_the_config_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "# monitor a lab\ninterval = 5\nlab = \"unknown\"\n").unwrap();
    let c = config.to_str().unwrap();
    for args in [vec!["--config", c, "check"], vec!["--config", c, "endpoints"]] {
        let (code, stderr) = run(&args);
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{c}:3: lab: unknown scenario \"unknown\"")),
            "{args:?}: {stderr}"
        );
    }
}

/// Windows tools save JSON with a UTF-8 byte order mark; Microsoft's list saved that way
/// loads.
#[test]
fn microsoft_json_with_a_byte_order_mark_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o365.json");
    let json = "[\n  {\"id\": 7, \"urls\": [\"bom.example.com\"], \"tcpPorts\": \"443\", \"category\": \"Allow\", \"required\": true}\n]\n";
    std::fs::write(&file, format!("\u{feff}{json}")).unwrap();
    let (code, stdout, stderr) =
        bin::run(Command::new(bin::BIN).args(["endpoints", "--ms-endpoints", file.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("https://bom.example.com/"), "{stdout}");
}
