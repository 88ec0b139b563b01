//! A real firewall rule blocks one endpoint: the lab runs in a network namespace this test
//! creates, an nftables rule drops packets to one endpoint's address, and the monitor must
//! see exactly that endpoint fail at `tcp` with a timeout — then recover when the rule goes.
//!
//! And the kinds of firewall rule apart, as curl and blackbox_exporter tell them: an ICMP
//! reject (administratively prohibited, host or network unreachable), a TCP-reset reject,
//! a drop, and a reset right after the TCP handshake are four different results, each at
//! the stage that saw it.
//!
//! Needs root (namespaces, nftables). Elsewhere it skips loudly (`support::skip`), and
//! fails under CI.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::bin::BIN;
use support::netns::{have, is_root, Netns};
use support::skip;

/// One `check` inside the namespace against the lab it runs: the report.
fn check(ns: &Netns, state: &Path) -> Value {
    ns.check(&["--lab-connect", state.to_str().unwrap()])
}

/// A namespace named after `tag` with the healthy lab running in it: the namespace, the
/// lab's state file (in `dir`), and the address and port of activation.sls.microsoft.com.
fn lab_in_namespace(tag: &str, dir: &Path) -> (Netns, PathBuf, String, String) {
    let name = format!("m365mon-{tag}-{}", std::process::id());
    let mut ns = Netns::add(name);
    assert!(ns.exec(&["ip", "link", "set", "lo", "up"]).status.success());
    let state: PathBuf = dir.join("state.json");
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            BIN,
            "lab",
            "serve",
            "--scenario",
            "healthy",
            "--state-file",
        ])
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ns.lab = Some(child);
    let start = Instant::now();
    while !state.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "lab did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let lab: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let target = lab["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["host"] == "activation.sls.microsoft.com")
        .expect("lab serves activation.sls.microsoft.com")
        .clone();
    let addr = target["addr"].as_str().unwrap().to_string();
    let port = target["port"].as_u64().unwrap().to_string();
    (ns, state, addr, port)
}

/// Runs `nft` with each rule inside the namespace; panics with nft's message on failure.
fn nft(ns: &Netns, rules: &[String]) {
    for rule in rules {
        let nft = ns.exec(&["nft", rule]);
        assert!(
            nft.status.success(),
            "nft {rule}: {}",
            String::from_utf8_lossy(&nft.stderr)
        );
    }
}

fn can_run(test: &str) -> bool {
    if !cfg!(target_os = "linux") || !is_root() || !have("ip") || !have("nft") {
        skip::because(test, "needs Linux, root, ip and nft (CI runs it as root)");
        return false;
    }
    true
}

#[test]
fn nftables_rule_blocks_exactly_one_endpoint() {
    if !can_run("nftables_rule_blocks_exactly_one_endpoint") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ns, state, addr, port) = lab_in_namespace("fw", dir.path());

    let before = check(&ns, &state);
    assert_eq!(before["status"], "pass", "healthy before the rule: {before}");

    nft(
        &ns,
        &[
            "add table inet m365mon_test".to_string(),
            "add chain inet m365mon_test out { type filter hook output priority 0 ; policy accept ; }"
                .to_string(),
            format!("add rule inet m365mon_test out ip daddr {addr} tcp dport {port} drop"),
        ],
    );

    let blocked = check(&ns, &state);
    let failing: Vec<&Value> = blocked["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass" && c["kind"] == "endpoint")
        .collect();
    assert_eq!(failing.len(), 1, "exactly one endpoint fails: {failing:?}");
    assert_eq!(failing[0]["id"], "endpoint:activation.sls.microsoft.com");
    assert_eq!(failing[0]["cause"], "tcp-timeout");
    let last = failing[0]["stages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["name"], "tcp");
    assert_eq!(last["detail"], "timed out");

    assert!(ns
        .exec(&["nft", "delete", "table", "inet", "m365mon_test"])
        .status
        .success());
    let after = check(&ns, &state);
    assert_eq!(after["status"], "pass", "recovers once the rule is gone: {after}");
}

/// The one failing endpoint of a report, which must be activation.sls.microsoft.com.
fn the_failure(report: &Value, what: &str) -> Value {
    let failing: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass" && c["kind"] == "endpoint")
        .collect();
    assert_eq!(
        failing.len(),
        1,
        "{what}: exactly one endpoint fails: {failing:?}"
    );
    assert_eq!(
        failing[0]["id"], "endpoint:activation.sls.microsoft.com",
        "{what}"
    );
    failing[0].clone()
}

fn stage_of<'a>(check: &'a Value, name: &str) -> &'a Value {
    check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} stage: {check}"))
}

#[test]
fn reject_drop_and_reset_are_told_apart_at_the_stage_that_saw_them() {
    if !can_run("reject_drop_and_reset_are_told_apart_at_the_stage_that_saw_them") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ns, state, addr, port) = lab_in_namespace("rj", dir.path());
    nft(
        &ns,
        &[
            "add table inet m365mon_test".to_string(),
            "add chain inet m365mon_test out { type filter hook output priority 0 ; policy accept ; }"
                .to_string(),
        ],
    );
    let to = format!("ip daddr {addr} tcp dport {port}");
    // (rule, cause, failing stage, what the stage's detail says, the stage runs to the
    // 1 s cap). The caps are the only times compared: a reject is answered at once and
    // must not be reported as a drop that waited for the cap.
    let cases: &[(String, &str, &str, &str, bool)] = &[
        (
            format!("{to} reject with icmp type admin-prohibited"),
            "tcp-unreachable",
            "tcp",
            "rejected",
            false,
        ),
        (
            format!("{to} reject with icmp type host-unreachable"),
            "tcp-unreachable",
            "tcp",
            "rejected",
            false,
        ),
        (
            format!("{to} reject with icmp type net-unreachable"),
            "tcp-unreachable",
            "tcp",
            "rejected",
            false,
        ),
        (
            format!("{to} reject with tcp reset"),
            "tcp-refused",
            "tcp",
            "refused",
            false,
        ),
        (format!("{to} drop"), "tcp-timeout", "tcp", "timed out", true),
        // The handshake completes; the first data segment (the TLS ClientHello, PSH set)
        // is answered with a reset: a TLS-stage failure, whatever the timing.
        // The reset answers the handshake's last ACK: it reaches the socket while connect()
        // is still returning, so connect() itself reports it; the handshake was complete.
        (
            format!("{to} tcp flags == ack reject with tcp reset"),
            "tcp-reset",
            "tls",
            "reset",
            false,
        ),
        (
            format!("{to} tcp flags & psh == psh reject with tcp reset"),
            "tcp-reset",
            "tls",
            "reset",
            false,
        ),
    ];
    for (rule, cause, stage, words, to_cap) in cases {
        nft(
            &ns,
            &[
                "flush chain inet m365mon_test out".to_string(),
                format!("add rule inet m365mon_test out {rule}"),
            ],
        );
        let report = check(&ns, &state);
        let c = the_failure(&report, rule);
        assert_eq!(c["cause"], *cause, "{rule}: {c}");
        let last = c["stages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["name"], *stage, "{rule}: {c}");
        assert_eq!(last["cause"], *cause, "{rule}: {c}");
        assert!(last["detail"].as_str().unwrap().contains(words), "{rule}: {c}");
        let ms = last["ms"].as_f64().unwrap();
        if *to_cap {
            assert!(ms >= 950.0, "{rule}: a drop waits for the 1 s cap: {c}");
        } else {
            assert!(ms < 950.0, "{rule}: answered, not waited out: {c}");
        }
        if *stage == "tls" {
            assert_eq!(
                stage_of(&c, "tcp")["status"],
                "pass",
                "{rule}: the handshake completed: {c}"
            );
        }
        if *cause == "tcp-unreachable" {
            assert!(
                c["summary"].as_str().unwrap().contains(&addr),
                "{rule}: the rejected address is named: {c}"
            );
        }
    }
    nft(&ns, &["flush chain inet m365mon_test out".to_string()]);
    let after = check(&ns, &state);
    assert_eq!(after["status"], "pass", "no rule, all pass: {after}");
}
