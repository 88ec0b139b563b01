//! A real firewall rule blocks one endpoint: the lab runs in a network namespace this test
//! creates, an nftables rule drops packets to one endpoint's address, and the monitor must
//! see exactly that endpoint fail at `tcp` with a timeout — then recover when the rule goes.
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

#[test]
fn nftables_rule_blocks_exactly_one_endpoint() {
    if !cfg!(target_os = "linux") || !is_root() || !have("ip") || !have("nft") {
        return skip::because(
            "nftables_rule_blocks_exactly_one_endpoint",
            "needs Linux, root, ip and nft (CI runs it as root)",
        );
    }
    let name = format!("m365mon-fw-{}", std::process::id());
    let mut ns = Netns::add(name);
    assert!(ns.exec(&["ip", "link", "set", "lo", "up"]).status.success());

    let dir = tempfile::tempdir().unwrap();
    let state: PathBuf = dir.path().join("state.json");
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

    let before = check(&ns, &state);
    assert_eq!(before["status"], "pass", "healthy before the rule: {before}");

    for rule in [
        "add table inet m365mon_test".to_string(),
        "add chain inet m365mon_test out { type filter hook output priority 0 ; policy accept ; }"
            .to_string(),
        format!("add rule inet m365mon_test out ip daddr {addr} tcp dport {port} drop"),
    ] {
        let nft = ns.exec(&["nft", &rule]);
        assert!(
            nft.status.success(),
            "nft {rule}: {}",
            String::from_utf8_lossy(&nft.stderr)
        );
    }

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
