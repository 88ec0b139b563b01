//! `--redact` end to end: the real binary, with private names planted everywhere they can
//! enter — `--domain` and the lab's tenant domain, the configuration file's domain,
//! `--proxy` with credentials, the machine's proxy settings (`HTTPS_PROXY`), a PAC URL,
//! `--dns-server`, the user (`USER`, `USERNAME`) and this machine's host name — and every
//! output searched for each of them: `check` as text, JSON and Markdown, the reports the
//! monitor's `e` exports, `watch --jsonl` over a few sweeps, and `serve`'s `/api/state`
//! and `/metrics`. Microsoft's endpoint names must still be there, and the placeholders.
//!
//! Each output is also produced once without `--redact`, where the names must appear: a
//! secret that never reaches an output would prove nothing.
//!
//! Loopback only: the lab stands in for Microsoft 365, and the planted proxy and PAC hosts
//! resolve nowhere (the lab's DNS answers NXDOMAIN), so their names travel through the
//! checks' failures.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::bin::{command, run, BIN};
use support::http::{free_port, http_get};

/// The tenant domain: `--domain`, and the domain the lab plays (`msoid.contoso.lab`).
const DOMAIN: &str = "contoso.lab";
/// The proxy given with `--proxy`, with credentials.
const PROXY: &str = "http://alice:S3cret@proxy.corp-secret.example:3128";
/// The machine's proxy setting, as the proxy check reports it.
const MACHINE_PROXY: &str = "http://bob:Hunter2@machine-proxy.corp-secret.example:8080";
/// A PAC file's URL.
const PAC: &str = "http://pac.corp-secret.example:8080/proxy.pac";
/// A domain from the configuration file.
const CONFIG_DOMAIN: &str = "fabrikam-secret.example";
/// `--dns-server`.
const DNS: &str = "10.66.77.88:53";
/// The user, as `USER` and `USERNAME`.
const USER: &str = "jdoe-secret";

/// Every string that must never appear in a redacted output (compared ignoring case).
const SECRETS: &[&str] = &[
    "contoso.lab",
    "corp-secret",
    "proxy.corp-secret.example",
    "machine-proxy",
    "pac.corp-secret",
    "fabrikam",
    "alice",
    "S3cret",
    "bob:",
    "Hunter2",
    "10.66.77.88",
    USER,
];

/// This machine's host name, as the binary reads it (`/proc`, `uname`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| {
            Command::new("hostname")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        })
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Whether `word` stands in `text` as a whole word (any case), as the redactor matches it.
fn has_word(text: &str, word: &str) -> bool {
    let (text, word) = (text.to_ascii_lowercase(), word.to_ascii_lowercase());
    let name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(&word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(name)
            && !text[i + word.len()..].chars().next().is_some_and(name)
    })
}

/// Fails, naming the output and showing where, if any planted name is in `text`; and if
/// Microsoft's sign-in host or one of `placeholders` is missing.
fn assert_redacted(what: &str, text: &str, placeholders: &[&str]) {
    let lower = text.to_ascii_lowercase();
    for secret in SECRETS {
        if let Some(i) = lower.find(&secret.to_ascii_lowercase()) {
            let from = text[..i].char_indices().rev().nth(80).map_or(0, |(j, _)| j);
            let to = (i + 80).min(text.len());
            panic!(
                "{what}: {secret:?} is not redacted:\n...{}...",
                text.get(from..to).unwrap_or(text)
            );
        }
    }
    let host = hostname();
    if host.len() >= 2 {
        assert!(
            !has_word(text, &host),
            "{what}: the host name {host:?} is not redacted"
        );
    }
    assert!(
        text.contains("login.microsoftonline.com"),
        "{what}: Microsoft's endpoint names must stay"
    );
    for p in placeholders {
        assert!(text.contains(p), "{what}: no {p} in:\n{text}");
    }
}

/// The binary with the planted environment: no user configuration, the user and the
/// machine's proxy setting planted.
fn planted(home: &Path, args: &[&str]) -> Command {
    let mut c = command(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("M365MON_") || k.to_ascii_lowercase().ends_with("_proxy") {
            c.env_remove(k);
        }
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("USER", USER)
        .env("USERNAME", USER)
        .env("HTTPS_PROXY", MACHINE_PROXY);
    c
}

/// `check` against the lab with the tenant domain, the proxy and the DNS server planted.
fn check_args(format: &str, redact: bool) -> Vec<&str> {
    let mut args = vec![
        "check",
        "--lab",
        "msoid-china",
        "--domain",
        DOMAIN,
        "--proxy",
        PROXY,
        "--dns-server",
        DNS,
        "--timeout",
        "1",
        "--format",
        format,
    ];
    if redact {
        args.push("--redact");
    }
    args
}

#[test]
fn check_text_json_and_markdown_hide_every_planted_name() {
    let home = tempfile::tempdir().unwrap();
    for format in ["text", "json", "markdown"] {
        let (code, plain, err) = run(&mut planted(home.path(), &check_args(format, false)));
        assert_eq!(code, 2, "{format}: msoid-china fails: {err}");
        for shown in [
            DOMAIN,
            "proxy.corp-secret.example",
            "machine-proxy.corp-secret.example",
        ] {
            assert!(
                plain.contains(shown),
                "{format} without --redact: {shown} should reach the report, or the test proves nothing"
            );
        }
        assert!(
            !plain.contains("S3cret") && !plain.contains("Hunter2"),
            "credentials never show"
        );

        let (code, out, err) = run(&mut planted(home.path(), &check_args(format, true)));
        assert_eq!(code, 2, "{format} --redact: {err}");
        assert_redacted(
            &format!("check --format {format} --redact"),
            &out,
            &["<domain-1>", "<proxy-1>", "<host-1>"],
        );
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
            assert_eq!(v["schema"], "m365mon.report/1");
            assert_eq!(v["status"], "fail", "vocabulary stays");
        }
    }
}

#[test]
fn check_hides_the_pac_host_and_the_configuration_files_domain() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(&config, format!("domain = \"{CONFIG_DOMAIN}\"\n")).unwrap();
    let args = |redact: bool| {
        let mut a = vec![
            "check",
            "--config",
            config.to_str().unwrap(),
            "--lab",
            "healthy",
            "--pac-url",
            PAC,
            "--timeout",
            "1",
        ];
        if redact {
            a.push("--redact");
        }
        a
    };
    let (_, plain, _) = run(&mut planted(home.path(), &args(false)));
    for shown in ["pac.corp-secret.example", CONFIG_DOMAIN] {
        assert!(plain.contains(shown), "without --redact {shown} is in:\n{plain}");
    }
    let (_, out, err) = run(&mut planted(home.path(), &args(true)));
    assert_redacted("check --pac-url --redact", &out, &["<pac-1>", "<domain-1>"]);
    assert!(!err.contains("panicked"));
}

/// Reads lines of a child's standard output until `enough` says so (or `limit` passes).
fn read_lines(child: &mut Child, limit: Duration, enough: impl Fn(&[String]) -> bool) -> Vec<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let mut lines = Vec::new();
    while !enough(&lines) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("timed out; got {lines:#?}"),
        }
    }
    lines
}

#[test]
fn watch_jsonl_hides_every_planted_name_over_several_sweeps() {
    let home = tempfile::tempdir().unwrap();
    let mut args = check_args("text", true);
    args.splice(0..1, ["watch", "--jsonl", "--interval", "0.5"]);
    args.retain(|a| *a != "--format" && *a != "text");
    let mut child = planted(home.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start watch");
    let sweeps = |lines: &[String]| lines.iter().filter(|l| l.contains("\"type\":\"sweep\"")).count();
    let lines = read_lines(&mut child, Duration::from_secs(30), |l| sweeps(l) >= 3);
    let _ = child.kill();
    let _ = child.wait();
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).expect("one JSON object per line");
    }
    let all = lines.join("\n");
    // The lines carry check ids and change texts, not the checks' summaries: the proxy's
    // name is in the change events' texts.
    assert_redacted("watch --jsonl --redact", &all, &["<host-1>", "<proxy-1>"]);
}

/// Waits until `/api/state` shows `sweeps` finished sweeps.
fn wait_for_sweeps(addr: std::net::SocketAddr, sweeps: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, body)) = std::panic::catch_unwind(|| http_get(addr, "/api/state", None)) {
            let v: serde_json::Value = serde_json::from_str(&body).expect("state is JSON");
            if v["sweeps"].as_u64().unwrap_or(0) >= sweeps {
                return body;
            }
        }
        assert!(Instant::now() < deadline, "serve never finished {sweeps} sweeps");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn serve_redact_hides_every_planted_name_in_state_and_metrics() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = check_args("text", true);
    args.splice(0..1, ["serve", "--listen", &listen, "--interval", "0.5"]);
    args.retain(|a| *a != "--format" && *a != "text");
    let mut child = planted(home.path(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let addr = listen.parse().unwrap();
    let state = wait_for_sweeps(addr, 2);
    let (status, metrics) = http_get(addr, "/metrics", None);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);

    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert!(
        v["checks"].as_array().is_some_and(|c| c.len() > 20),
        "a full snapshot"
    );
    assert_redacted(
        "serve --redact /api/state",
        &state,
        &["<domain-1>", "<proxy-1>", "<host-1>"],
    );
    // The metrics' labels are bounded (check ids, phases, findings): no domain or proxy
    // label to hide today, but nothing planted may get there either.
    assert_redacted("serve --redact /metrics", &metrics, &[]);
}

#[test]
fn the_monitors_export_hides_every_planted_name() {
    let have_tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_tmux {
        support::skip::because(
            "the_monitors_export_hides_every_planted_name",
            "tmux is not installed",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let d = dir.path().display();
    let cmd = format!(
        "env -u M365MON_CONFIG HOME={d} XDG_CONFIG_HOME={d}/.config USER={USER} USERNAME={USER} \
         HTTPS_PROXY={MACHINE_PROXY} NO_COLOR=1 {BIN} --lab msoid-china --domain {DOMAIN} \
         --proxy {PROXY} --dns-server {DNS} --interval 1 --timeout 1 --redact --export-dir {}; sleep 60",
        export.display()
    );
    let socket = format!("m365mon-redact-{}", std::process::id());
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    tmux(&["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", &cmd]);
    let result = std::panic::catch_unwind(|| {
        let deadline = Instant::now() + Duration::from_secs(20);
        // The first sweep is on screen (the MSOID check fails), then `e`. The lab's name
        // (msoid-china) is in the header from the start, so wait for the sweep counter too.
        while !tmux(&["capture-pane", "-p", "-t", "t"])
            .lines()
            .any(|l| l.contains("ms, #"))
        {
            assert!(Instant::now() < deadline, "the monitor never showed a sweep");
            std::thread::sleep(Duration::from_millis(200));
        }
        tmux(&["send-keys", "-t", "t", "e"]);
        loop {
            let names: Vec<String> = std::fs::read_dir(&export)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            if names.len() >= 2 {
                break names;
            }
            assert!(Instant::now() < deadline, "export wrote {names:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    tmux(&["send-keys", "-t", "t", "q"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux(&["kill-server"]);
    let names = result.unwrap_or_else(|e| std::panic::resume_unwind(e));
    for name in names {
        let text = std::fs::read_to_string(export.join(&name)).unwrap();
        assert_redacted(
            &format!("exported {name}"),
            &text,
            &["<domain-1>", "<proxy-1>", "<host-1>"],
        );
    }
}
