//! The configuration file: every bad file names itself, the line and what is wrong; good
//! files fill only what the command line left alone.

mod support;

use clap::CommandFactory;
use m365mon::cli::config::{self, ConfigFile};
use m365mon::cli::{Cli, Command};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    support::files::fixture("invalid_configs", name)
}

/// (fixture, line, words the message must contain)
const INVALID: &[(&str, usize, &[&str])] = &[
    ("unknown-key.toml", 3, &["unknown field `intervall`", "interval"]),
    ("unknown-table.toml", 1, &["unknown field `serve`"]),
    (
        "wrong-type.toml",
        3,
        &["timeout: invalid type: string \"fast\", expected a number"],
    ),
    ("interval-out-of-range.toml", 1, &["interval = 0", "out of range"]),
    (
        "concurrency-out-of-range.toml",
        2,
        &["concurrency = 1000", "1..=512"],
    ),
    (
        "bad-dns-server.toml",
        1,
        &["dns-server = dns.example.com", "not an IP address"],
    ),
    (
        "bad-domain.toml",
        3,
        &["domain = contoso .com", "expected a DNS name such as contoso.com"],
    ),
    (
        "missing-endpoints.toml",
        2,
        &["endpoints:", "no-such-catalog.toml does not exist"],
    ),
    (
        "missing-ca-file.toml",
        1,
        &["ca-file:", "no-such-root.pem does not exist"],
    ),
    (
        "ca-file-wrong-type.toml",
        1,
        &["ca-file: expected a path or a list of paths"],
    ),
    (
        "export-dir-is-a-file.toml",
        1,
        &["export-dir:", "is not a folder"],
    ),
    ("empty-path.toml", 1, &["ms-endpoints: the path is empty"]),
    (
        "lab-and-lab-connect.toml",
        2,
        &["lab and lab-connect cannot both be set"],
    ),
    (
        "missing-theme-file.toml",
        1,
        &["theme:", "no-such-theme.toml does not exist"],
    ),
    ("syntax.toml", 2, &[]),
];

#[test]
fn every_invalid_config_names_file_line_and_problem() {
    let dir = fixture("");
    let mut listed: Vec<String> = INVALID.iter().map(|(f, _, _)| f.to_string()).collect();
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    present.sort();
    assert_eq!(
        listed, present,
        "every fixture in tests/invalid_configs is checked"
    );

    for (name, line, words) in INVALID {
        let path = fixture(name);
        let err = config::load(Some(&path)).expect_err(name);
        assert_eq!(err.file.as_deref(), Some(path.as_path()), "{name}: {err}");
        assert_eq!(err.line, Some(*line), "{name}: {err}");
        for w in *words {
            assert!(err.message.contains(w), "{name}: {:?} lacks {w:?}", err.message);
        }
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}: ", path.display())),
            "{shown}"
        );
        assert!(
            !shown.contains('\n') || *name == "syntax.toml",
            "one line: {shown}"
        );
    }
}

#[test]
fn a_named_file_must_exist_and_an_absent_default_is_fine() {
    let missing = fixture("no-such-config.toml");
    let err = config::load(Some(&missing)).unwrap_err();
    assert_eq!(err.to_string(), format!("{}: file not found", missing.display()));
    let report = config::path_report(Some(&missing));
    assert!(report.contains("not found, given with --config"), "{report}");
}

fn parse_cli(args: &[&str]) -> (Cli, clap::ArgMatches) {
    let matches = Cli::command().try_get_matches_from(args).unwrap();
    let cli = Cli::from_matches(&matches).unwrap();
    (cli, matches)
}

fn good_file(dir: &Path) -> ConfigFile {
    std::fs::write(dir.join("corp.pem"), "").unwrap();
    std::fs::write(dir.join("catalog.toml"), "").unwrap();
    let text = "interval = 2\ntimeout = 7\nconcurrency = 4\ntheme = \"light\"\ndns-server = \"10.1.1.1:5353\"\n\
                ca-file = \"corp.pem\"\nendpoints = \"catalog.toml\"\nexport-dir = \"reports\"\nlab = \"healthy\"\n";
    config::parse(&dir.join("config.toml"), text).unwrap()
}

#[test]
fn the_file_fills_defaults_and_relative_paths_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = good_file(dir.path());
    let (mut cli, matches) = parse_cli(&["m365mon"]);
    config::apply(&mut cli, &matches, &file);
    let (live, probe) = (&cli.live, &cli.live.target.probe);
    assert_eq!(
        (live.poll.interval, probe.timeout, probe.concurrency),
        (2.0, 7.0, 4)
    );
    assert_eq!(live.display.theme.as_deref(), Some("light"));
    assert_eq!(probe.dns_server, Some("10.1.1.1:5353".parse().unwrap()));
    assert_eq!(probe.ca_files, [dir.path().join("corp.pem")]);
    assert_eq!(
        live.target.catalog.endpoints,
        Some(dir.path().join("catalog.toml"))
    );
    assert_eq!(live.display.export_dir, Some(dir.path().join("reports")));
    assert_eq!(live.target.lab_target.lab.as_deref(), Some("healthy"));
}

#[test]
fn the_command_line_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = good_file(dir.path());
    // Options given after the subcommand, and before it, count as given.
    for args in [
        &[
            "m365mon",
            "check",
            "--timeout",
            "1",
            "--ca-file",
            "/given.pem",
            "--concurrency",
            "32",
            "--lab-connect",
            "/tmp/state.json",
        ][..],
        &[
            "m365mon",
            "--timeout",
            "1",
            "--ca-file",
            "/given.pem",
            "check",
            "--concurrency",
            "32",
            "--lab-connect",
            "/tmp/state.json",
        ],
    ] {
        let (mut cli, matches) = parse_cli(args);
        config::apply(&mut cli, &matches, &file);
        let Some(Command::Check { target, .. }) = &cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(target.probe.timeout, 1.0, "{args:?}");
        assert_eq!(
            target.probe.ca_files,
            [PathBuf::from("/given.pem")],
            "a list from the flags replaces the file's"
        );
        assert_eq!(
            target.probe.concurrency, 32,
            "a flag equal to the default still wins"
        );
        assert_eq!(
            target.probe.dns_server,
            Some("10.1.1.1:5353".parse().unwrap()),
            "what the flags left alone comes from the file"
        );
        assert_eq!(
            target.lab_target.lab, None,
            "the file's lab does not add to a lab chosen on the command line"
        );
        assert_eq!(
            target.lab_target.lab_connect,
            Some(PathBuf::from("/tmp/state.json"))
        );
    }
}

#[test]
fn a_command_gets_from_the_file_only_the_settings_it_takes() {
    let dir = tempfile::tempdir().unwrap();
    let file = good_file(dir.path());
    // `endpoints` takes the catalog: the file's catalog applies, its probe settings and
    // theme have nowhere to go.
    let (mut cli, matches) = parse_cli(&["m365mon", "endpoints"]);
    config::apply(&mut cli, &matches, &file);
    let Some(Command::Endpoints { catalog, .. }) = &cli.command else {
        panic!("{cli:?}")
    };
    assert_eq!(catalog.endpoints, Some(dir.path().join("catalog.toml")));
    // `attach` takes the interval and the screen's settings.
    let (mut cli, matches) = parse_cli(&["m365mon", "attach", "http://h:9365", "--theme", "dark"]);
    config::apply(&mut cli, &matches, &file);
    let Some(Command::Attach { poll, display, .. }) = &cli.command else {
        panic!("{cli:?}")
    };
    assert_eq!(poll.interval, 2.0);
    assert_eq!(display.theme.as_deref(), Some("dark"));
    assert_eq!(display.export_dir, Some(dir.path().join("reports")));
}

#[test]
fn an_empty_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "# nothing set\n").unwrap();
    let file = config::load(Some(&path)).unwrap().unwrap();
    let (mut cli, matches) = parse_cli(&["m365mon"]);
    let before = format!("{cli:?}");
    config::apply(&mut cli, &matches, &file);
    assert_eq!(format!("{cli:?}"), before);
}
