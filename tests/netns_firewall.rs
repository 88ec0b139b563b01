//! A real firewall rule blocks one endpoint: the lab runs in a network namespace this test
//! creates, an nftables rule drops packets to one endpoint's address, and the monitor must
//! see exactly that endpoint fail at `tcp` with a timeout — then recover when the rule goes.
//!
//! Needs root (namespaces, nftables). Elsewhere it prints why it skipped and passes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Removes the namespace and stops the lab even when the test fails.
struct Netns {
    name: String,
    lab: Option<Child>,
}

impl Netns {
    fn exec(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .expect("ip netns exec")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(mut child) = self.lab.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn check(ns: &Netns, state: &Path) -> Value {
    let bin = env!("CARGO_BIN_EXE_m365mon");
    let out = ns.exec(&[
        bin,
        "check",
        "--lab-connect",
        state.to_str().unwrap(),
        "--format",
        "json",
        "--timeout",
        "1",
    ]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn nftables_rule_blocks_exactly_one_endpoint() {
    if !cfg!(target_os = "linux") || !is_root() || !have("ip") || !have("nft") {
        eprintln!("skipped: needs Linux, root, ip and nft (runs in CI as root)");
        return;
    }
    let name = format!("m365mon-fw-{}", std::process::id());
    let status = Command::new("ip").args(["netns", "add", &name]).status().unwrap();
    assert!(status.success(), "ip netns add failed");
    let mut ns = Netns { name, lab: None };
    assert!(ns.exec(&["ip", "link", "set", "lo", "up"]).status.success());

    let dir = tempfile::tempdir().unwrap();
    let state: PathBuf = dir.path().join("state.json");
    let bin = env!("CARGO_BIN_EXE_m365mon");
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            bin,
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
