//! Each command's `--help` lists the options it uses and no other: the real binary's help,
//! command by command, against the option groups each command takes (see src/cli.rs).
//! Also the forms that follow from it: an option given before the subcommand is the
//! subcommand's when it takes it, and an error when it does not.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_m365mon");

// The option groups, as in src/cli.rs.
const CATALOG: &[&str] = &["endpoints", "ms-endpoints", "instance"];
const LAB_TARGET: &[&str] = &["lab", "lab-connect"];
const PROBE: &[&str] = &[
    "timeout",
    "dns-server",
    "ca-file",
    "concurrency",
    "proxy",
    "pac-url",
    "domain",
    "ip-family",
    "all-addresses",
];
const POLL: &[&str] = &["interval"];
const DISPLAY: &[&str] = &["theme", "export-dir"];
const METRICS: &[&str] = &["metrics-listen"];
const TOKEN: &[&str] = &["token", "token-file"];
const REPORT: &[&str] = &["format", "quiet"];
const REDACT: &[&str] = &["redact"];
const LIST: &[&str] = &["format"];
/// Every command's: the configuration file, the log, help and version.
const GLOBAL: &[&str] = &[
    "config",
    "log-file",
    "log-max-size",
    "log-level",
    "help",
    "version",
];

/// Options, by their long names.
type Options = &'static [&'static str];

/// Each command (its words before `--help`), the groups it takes, and its own options.
fn commands() -> Vec<(&'static str, Vec<Options>, Options)> {
    let target = || vec![CATALOG, LAB_TARGET, PROBE];
    let live = || vec![CATALOG, LAB_TARGET, PROBE, POLL, DISPLAY, METRICS, TOKEN, REDACT];
    vec![
        ("", live(), &[]),
        ("monitor", live(), &[]),
        ("check", [target(), vec![REPORT, REDACT]].concat(), &[]),
        (
            "serve",
            [target(), vec![POLL, TOKEN, REDACT]].concat(),
            &["listen"],
        ),
        ("watch", [target(), vec![POLL, REDACT]].concat(), &["jsonl"]),
        ("attach", vec![POLL, DISPLAY, TOKEN, REDACT], &[]),
        ("endpoints", vec![CATALOG, LIST], &[]),
        ("lab", vec![], &[]),
        (
            "lab serve",
            vec![CATALOG],
            &["scenario", "state-file", "dir", "privileged-ports", "ipv6"],
        ),
        ("lab scenarios", vec![], &[]),
        ("explain", vec![LIST], &[]),
        ("remediation", vec![], &[]),
        ("remediation list", vec![LIST], &[]),
        ("fix", vec![LIST], &["allow-fixes", "yes"]),
        ("undo", vec![], &["list", "yes"]),
        ("config", vec![], &[]),
        ("config path", vec![], &[]),
        ("config template", vec![], &[]),
        ("completions", vec![], &[]),
        ("man", vec![], &[]),
    ]
}

/// The binary with no configuration file of the user's and no M365MON_* from outside.
fn m365mon(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("M365MON_") {
            c.env_remove(k);
        }
    }
    c.env("HOME", home).env("XDG_CONFIG_HOME", home.join(".config"));
    c
}

/// The long options in a help text's option lists: the lines that start with the option
/// (`  -q, --quiet` or `      --format <FORMAT>`), not the wrapped descriptions.
fn long_options(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("  ")?;
            let rest = rest.strip_prefix("    ").or_else(|| {
                let (short, rest) = rest.split_once(", ")?;
                (short.len() == 2 && short.starts_with('-')).then_some(rest)
            })?;
            let name = rest.strip_prefix("--")?;
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(name.len());
            Some(name[..end].to_string())
        })
        .collect()
}

fn help_of(home: &Path, words: &str) -> String {
    let out = m365mon(home)
        .args(words.split_whitespace())
        .arg("--help")
        .output()
        .expect("run m365mon");
    assert!(
        out.status.success(),
        "m365mon {words} --help: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_help_lists_exactly_the_options_its_command_uses() {
    let home = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for (words, groups, own) in commands() {
        let help = help_of(home.path(), words);
        let shown = long_options(&help);
        let expected: BTreeSet<String> = groups
            .iter()
            .flat_map(|g| g.iter())
            .chain(own)
            .chain(GLOBAL)
            .map(|o| o.to_string())
            .collect();
        for extra in shown.difference(&expected) {
            problems.push(format!(
                "`m365mon {words} --help` shows --{extra}, which it does not use"
            ));
        }
        for missing in expected.difference(&shown) {
            problems.push(format!("`m365mon {words} --help` lacks --{missing}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_examples_of_the_issue_hold() {
    let home = tempfile::tempdir().unwrap();
    let has = |words: &str, option: &str| long_options(&help_of(home.path(), words)).contains(option);
    for absent in [
        "theme",
        "metrics-listen",
        "lab-connect",
        "lab",
        "timeout",
        "interval",
        "token",
    ] {
        assert!(!has("lab serve", absent), "lab serve --help shows --{absent}");
    }
    for absent in ["timeout", "theme", "instance", "interval"] {
        assert!(!has("explain", absent), "explain --help shows --{absent}");
    }
    for present in ["timeout", "format", "lab", "proxy", "instance"] {
        assert!(has("check", present), "check --help lacks --{present}");
    }
    for absent in ["theme", "interval", "metrics-listen", "export-dir", "token"] {
        assert!(!has("check", absent), "check --help shows --{absent}");
    }
    // The parser recognises all of them, not just this test's.
    assert!(long_options("  -q, --quiet  x\n      --format <F>  y\n        --not-an-option").len() == 2);
}

fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = m365mon(home).args(args).output().expect("run m365mon");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn an_option_before_the_subcommand_is_the_subcommands_if_it_takes_it() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["--lab", "healthy", "--timeout", "1", "check", "--format", "json"][..],
        &["check", "--lab", "healthy", "--timeout", "1", "--format", "json"],
        &["--lab", "healthy", "check", "--timeout", "1", "--format", "json"],
    ] {
        let (code, out, err) = run(home.path(), args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(report["host"]["lab"], "healthy", "{args:?}");
    }
    // `--instance` before `endpoints` picks the cloud it lists.
    let (code, out, err) = run(home.path(), &["--instance", "china", "endpoints"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cloud china"), "{out}");
}

#[test]
fn an_option_the_subcommand_does_not_take_is_refused_before_it_as_after_it() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["check", "--theme", "dark"][..],
        &["--theme", "dark", "check"],
        &["--timeout", "1", "explain", "0xCAA82EE2"],
        &["explain", "0xCAA82EE2", "--timeout", "1"],
        &["--lab-connect", "/nonexistent.json", "lab", "serve"],
    ] {
        let (code, out, err) = run(home.path(), args);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        let flag = args.iter().find(|a| a.starts_with("--")).unwrap();
        assert!(err.contains(flag), "{args:?}: {err}");
    }
    // An M365MON_* variable of an option a command does not take is not an error: a
    // service unit sets them for every command it runs.
    let (code, out, err) = run(home.path(), &["explain", "0xCAA82EE2"]);
    assert_eq!(code, 0, "{err}");
    let (code2, out2, err2) = {
        let out = m365mon(home.path())
            .args(["explain", "0xCAA82EE2"])
            .env("M365MON_THEME", "dark")
            .env("M365MON_LAB", "healthy")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!((code2, &out2), (code, &out), "{err2}");
}
