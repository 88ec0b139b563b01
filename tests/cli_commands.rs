//! The commands around the monitor, run as a user or a script would: the configuration
//! file and its precedence, routing and cloud flags, `serve`, `watch --jsonl`, `check
//! --quiet`, completions and the man page. Everything runs against the lab on loopback.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{run, BIN};
use support::http::http_get;

/// The binary with no configuration file of the user's and no M365MON_* from outside.
fn m365mon(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("M365MON_") || k.ends_with("_PROXY") || k.ends_with("_proxy") {
            c.env_remove(k);
        }
    }
    c.env("HOME", home).env("XDG_CONFIG_HOME", home.join(".config"));
    c
}

fn instance_of(home: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut c = m365mon(home);
    c.args(["check", "--lab", "healthy", "--format", "json", "--timeout", "1"])
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let (code, out, err) = run(&mut c);
    // 1: in the china cloud the lab's domain lacks the msoid record a 21Vianet tenant needs.
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["host"]["instance"].as_str().unwrap().to_string()
}

#[test]
fn config_file_environment_and_flags_take_precedence_in_that_order() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/m365mon");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "# mine\ninstance = \"china\"\n").unwrap();
    let h = home.path();
    assert_eq!(instance_of(h, &[], &[]), "china", "the file in the usual place");
    assert_eq!(
        instance_of(h, &[], &[("M365MON_INSTANCE", "gcc-high")]),
        "gcc-high",
        "environment over file"
    );
    assert_eq!(
        instance_of(h, &["--instance", "dod"], &[("M365MON_INSTANCE", "gcc-high")]),
        "dod",
        "command line over environment"
    );
    // --config picks another file; `config path` says which one is used.
    let other = h.join("other.toml");
    std::fs::write(&other, "instance = \"worldwide\"\n").unwrap();
    assert_eq!(
        instance_of(h, &["--config", other.to_str().unwrap()], &[]),
        "worldwide"
    );
    let (code, out, _) = run(m365mon(h).args(["config", "path"]));
    assert_eq!(code, 0);
    assert!(
        out.contains(&dir.join("config.toml").display().to_string()) && out.contains("in use"),
        "{out}"
    );
}

#[test]
fn a_broken_config_file_names_file_and_line_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("bad.toml");
    let text = "interval = 5\ncolour = \"blue\"\n";
    std::fs::write(&file, text).unwrap();
    let (code, out, err) =
        run(m365mon(home.path()).args(["--config", file.to_str().unwrap(), "check", "--lab", "healthy"]));
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!("{}:2: ", file.display())) && err.contains("colour"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "the file is left as it was"
    );
    // `config template` and `config path` still work, to help fix it.
    let (code, out, _) =
        run(m365mon(home.path()).args(["--config", file.to_str().unwrap(), "config", "template"]));
    assert_eq!(code, 0);
    assert!(out.contains("# interval = 5"), "{out}");
}

#[test]
fn proxy_flags_are_checked_and_never_echo_credentials() {
    let home = tempfile::tempdir().unwrap();
    for bad in [
        "http://alice:s3cret@proxy.example:notaport",
        "socks5://alice:s3cret@proxy.example:1080",
    ] {
        let (code, _, err) = run(m365mon(home.path()).args(["check", "--lab", "healthy", "--proxy", bad]));
        assert_eq!(code, 3, "{bad}: {err}");
        assert!(err.contains("--proxy") && !err.contains("s3cret"), "{err}");
    }
    let (code, _, err) = run(m365mon(home.path()).args([
        "check",
        "--lab",
        "healthy",
        "--proxy",
        "direct",
        "--pac-url",
        "http://x/p.pac",
    ]));
    assert_eq!(code, 3, "{err}");
}

#[test]
fn a_dead_proxy_given_with_the_flag_is_the_one_root_cause() {
    let home = tempfile::tempdir().unwrap();
    // A port nothing listens on: every CONNECT is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = format!("http://bob:hunter22@127.0.0.1:{port}");
    let (code, out, err) = run(m365mon(home.path()).args([
        "check",
        "--lab",
        "healthy",
        "--format",
        "json",
        "--timeout",
        "1",
        "--proxy",
        &proxy,
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(!out.contains("hunter22"), "credentials in the report");
    let v: Value = serde_json::from_str(&out).unwrap();
    let top = &v["findings"][0];
    assert_eq!(top["id"], "proxy-timeout", "{top}");
    assert_eq!(top["root_cause"], true);
}

#[test]
fn domain_flag_reaches_the_msoid_check() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(m365mon(home.path()).args([
        "check",
        "--lab",
        "msoid-china",
        "--format",
        "json",
        "--timeout",
        "1",
        "--domain",
        "contoso.lab",
    ]));
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let msoid = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "network:msoid")
        .unwrap()
        .clone();
    assert_eq!(msoid["status"], "fail", "{msoid}");
    // The same record is what a 21Vianet tenant needs.
    let (code, out, _) = run(m365mon(home.path()).args([
        "check",
        "--lab",
        "msoid-china",
        "--format",
        "json",
        "--timeout",
        "1",
        "--domain",
        "contoso.lab",
        "--instance",
        "china",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let msoid = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "network:msoid")
        .unwrap()
        .clone();
    assert_eq!((code, msoid["status"].as_str()), (0, Some("pass")), "{msoid}");
}

#[test]
fn quiet_check_prints_nothing_and_tells_by_exit_status() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) =
        run(m365mon(home.path()).args(["check", "--quiet", "--lab", "firewall", "--timeout", "1"]));
    assert_eq!((code, out.as_str(), err.as_str()), (2, "", ""));
    let (code, out, _) =
        run(m365mon(home.path()).args(["check", "-q", "--lab", "healthy", "--timeout", "1"]));
    assert_eq!((code, out.as_str()), (0, ""));
}

/// Kills the child on drop, so a failed assertion leaves nothing running.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` and reads its ready line: the address, and the token when one was made.
fn start_serve(home: &Path, listen: &str) -> (Running, SocketAddr, Option<String>) {
    let mut child = m365mon(home)
        .args([
            "serve",
            "--listen",
            listen,
            "--lab",
            "firewall",
            "--interval",
            "1",
            "--timeout",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let token = line
        .split("Bearer ")
        .nth(1)
        .map(|r| r.split('"').next().unwrap().to_string());
    // The port the lab listens on beyond loopback is reached through loopback here.
    let addr = SocketAddr::new("127.0.0.1".parse().unwrap(), addr.port());
    (Running(child), addr, token)
}

#[test]
fn serve_exports_metrics_and_state_and_guards_them_beyond_loopback() {
    let home = tempfile::tempdir().unwrap();
    let (_serve, addr, token) = start_serve(home.path(), "127.0.0.1:0");
    assert_eq!(token, None, "loopback needs no token");
    let start = Instant::now();
    let metrics = loop {
        let (status, body) = http_get(addr, "/metrics", None);
        assert_eq!(status, 200);
        if body.contains("m365mon_check_status{") || start.elapsed() > Duration::from_secs(15) {
            break body;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        metrics.contains("m365mon_check_status{check=\"endpoint:activation.sls.microsoft.com\""),
        "{metrics}"
    );
    assert!(metrics.contains("m365mon_build_info{"), "{metrics}");

    // Beyond loopback: a token is generated and printed once; without it, no state.
    let (_serve, addr, token) = start_serve(home.path(), "0.0.0.0:0");
    let token = token.expect("a generated token in the ready line");
    assert_eq!(http_get(addr, "/api/state", None).0, 401);
    assert_eq!(
        http_get(addr, "/api/state", Some("wrong-token-wrong-token")).0,
        401
    );
    let (status, body) = http_get(addr, "/api/state", Some(&token));
    assert_eq!(status, 200);
    serde_json::from_str::<Value>(&body).expect("the state is JSON");
}

#[test]
fn watch_jsonl_prints_one_object_per_line_for_a_script_to_read() {
    let home = tempfile::tempdir().unwrap();
    let child = m365mon(home.path())
        .args([
            "watch",
            "--jsonl",
            "--lab",
            "firewall",
            "--interval",
            "1",
            "--timeout",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut types = Vec::new();
    while types.iter().filter(|t: &&String| *t == "sweep").count() < 2 {
        let line = lines.next().expect("a line").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        types.push(v["type"].as_str().unwrap().to_string());
    }
    assert!(types.iter().any(|t| t == "change"), "{types:?}");
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, err) = run(m365mon(home.path()).args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["attach", "serve", "watch", "lab-connect", "metrics-listen"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (code, bash, _) = run(m365mon(home.path()).args(["completions", "bash"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("completions_bash", bash);
    let (code, man, _) = run(m365mon(home.path()).arg("man"));
    assert_eq!(code, 0);
    // The version carries the commit and target: keep them out of the snapshot.
    let (_, version_line, _) = run(m365mon(home.path()).arg("--version"));
    let full = version_line.trim().trim_start_matches("m365mon ").to_string();
    // roff escapes the dashes of the target triple.
    let man = man
        .replace(&full, "VERSION")
        .replace(&full.replace('-', "\\-"), "VERSION");
    let version = env!("CARGO_PKG_VERSION");
    let man: String = man
        .lines()
        .map(|l| {
            if l.starts_with(".TH") {
                ".TH m365mon 1 VERSION".to_string()
            } else {
                l.replace(version, "VERSION")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("man_page", man);
}

#[test]
fn log_file_gets_the_state_changes_and_the_terminal_gets_nothing_extra() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("m365mon.log");
    std::fs::write(&log, "an earlier line\n").unwrap();
    let (code, out, err) = run(m365mon(home.path()).args([
        "check",
        "--quiet",
        "--lab",
        "firewall",
        "--timeout",
        "1",
        "--log-file",
        log.to_str().unwrap(),
        "--log-level",
        "debug",
    ]));
    assert_eq!((code, out.as_str(), err.as_str()), (2, "", ""));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("an earlier line\n"), "appends: {text}");
    assert!(text.contains("m365mon started"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("INFO") && l.contains("check=\"endpoint:activation.sls.microsoft.com\"")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("DEBUG") && l.contains("sweep")),
        "{text}"
    );
    // A log file that cannot be opened is an error before anything runs.
    let (code, _, err) = run(m365mon(home.path()).args(["check", "--log-file", "/nonexistent/dir/x.log"]));
    assert_eq!(code, 3);
    assert!(err.contains("--log-file /nonexistent/dir/x.log"), "{err}");
}

/// `m365mon remediation list | head -1`: the reader goes away early; the command ends
/// quietly (no panic, exit 0) instead of `print!`'s "failed printing to stdout".
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let Some(sample) = support::files::shared_sample("a_closed_pipe_ends_the_output_quietly") else {
        return;
    };
    let sample = sample.to_str().unwrap();
    let home = tempfile::tempdir().unwrap();
    // Each output is larger than a pipe's buffer (64 KiB), so the writer is still writing
    // when the reader goes away.
    for args in [
        &["remediation", "list", "--format", "json"][..],
        &["completions", "bash"],
        &["endpoints", "--format", "json", "--ms-endpoints", sample],
    ] {
        let mut child = m365mon(home.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The read end is closed here, before the command has written everything.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Microsoft's real endpoint list imports: one entry per URL, wildcards listed but never
/// probed, the categories kept.
#[test]
fn the_real_microsoft_sample_imports() {
    let Some(path) = support::files::shared_sample("the_real_microsoft_sample_imports") else {
        return;
    };
    let v = m365mon::catalog::ms_json::load(&path).unwrap();
    assert_eq!(v.len(), 354, "one entry per URL");
    let wild = v.iter().filter(|e| e.wildcard).count();
    assert_eq!(wild, 105);
    assert!(v.iter().filter(|e| e.wildcard).all(|e| !e.probe));
    assert!(v.iter().any(|e| e.category.as_deref() == Some("Optimize")));
}
