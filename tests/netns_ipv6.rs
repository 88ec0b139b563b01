//! Both address families through a real firewall: the lab runs with `--ipv6` in a network
//! namespace this test creates (so each endpoint gets its own `fd00:6d36::/64` address on
//! the namespace's loopback), and nftables rules drop one endpoint's IPv6 path, then its
//! IPv4 path. Each time exactly that endpoint must fail, naming the dropped address, with
//! a finding for the broken family; with no rule everything passes.
//!
//! Needs root (namespaces, nftables). Elsewhere it skips loudly (`support::skip`), and
//! fails under CI.
#![cfg(unix)]

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::bin::BIN;
use support::netns::{have, is_root, Netns};
use support::skip;

fn check(ns: &Netns, state: &Path) -> Value {
    ns.check(&["--lab-connect", state.to_str().unwrap()])
}

fn nft(ns: &Netns, rules: &[String]) {
    for rule in rules {
        let out = ns.exec(&["nft", rule]);
        assert!(
            out.status.success(),
            "nft {rule}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The endpoints that did not pass.
fn failing(report: &Value) -> Vec<Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "endpoint" && c["status"] != "pass")
        .cloned()
        .collect()
}

#[test]
fn dropping_one_family_of_one_endpoint_fails_exactly_that_path() {
    if !cfg!(target_os = "linux") || !is_root() || !have("ip") || !have("nft") {
        return skip::because(
            "dropping_one_family_of_one_endpoint_fails_exactly_that_path",
            "needs Linux, root, ip and nft (CI runs it as root)",
        );
    }
    let name = format!("m365mon-v6-{}", std::process::id());
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
            "--ipv6",
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
    let addr6 = target["addr6"]
        .as_str()
        .expect("addr6 in the state file")
        .to_string();
    assert!(
        addr6.starts_with("fd00:6d36::"),
        "as root in its own namespace the lab gives each endpoint its own fd00::/8 address: {addr6}"
    );
    let port = target["port"].as_u64().unwrap();
    let port6 = target["port6"].as_u64().unwrap_or(port);

    let before = check(&ns, &state);
    assert_eq!(before["status"], "pass", "healthy before any rule: {before}");
    let login = before["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "endpoint:activation.sls.microsoft.com")
        .unwrap()
        .clone();
    let families: Vec<&str> = login["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["family"].as_str().unwrap())
        .collect();
    assert_eq!(families, ["ipv4", "ipv6"], "{login}");

    for (family, daddr, dropped_port, kept) in [
        ("ipv6", addr6.clone(), port6, "ipv4"),
        ("ipv4", addr.clone(), port, "ipv6"),
    ] {
        let ip = if family == "ipv6" { "ip6" } else { "ip" };
        nft(
            &ns,
            &[
                "add table inet m365mon_v6".to_string(),
                "add chain inet m365mon_v6 out { type filter hook output priority 0 ; policy accept ; }"
                    .to_string(),
                format!("add rule inet m365mon_v6 out {ip} daddr {daddr} tcp dport {dropped_port} drop"),
            ],
        );
        let blocked = check(&ns, &state);
        let f = failing(&blocked);
        assert_eq!(f.len(), 1, "{family} dropped: exactly one endpoint fails: {f:#?}");
        assert_eq!(f[0]["id"], "endpoint:activation.sls.microsoft.com");
        assert_eq!(f[0]["cause"], "tcp-timeout");
        let label = if family == "ipv6" { "IPv6" } else { "IPv4" };
        let other = if family == "ipv6" { "IPv4" } else { "IPv6" };
        let summary = f[0]["summary"].as_str().unwrap();
        assert!(
            summary.starts_with(&format!("{label} path broken while {other} works: {daddr}")),
            "{summary}"
        );
        for a in f[0]["addresses"].as_array().unwrap() {
            let expected = if a["family"] == family { "fail" } else { "pass" };
            assert_eq!(a["status"], expected, "{a}");
            if a["family"] == kept {
                assert_eq!(a["stages"].as_array().unwrap().len(), 3, "{a}");
            }
        }
        let findings = blocked["findings"].as_array().unwrap();
        let finding = findings
            .iter()
            .find(|x| x["id"] == format!("{family}-path-broken"))
            .unwrap_or_else(|| panic!("no {family}-path-broken finding: {findings:#?}"));
        assert!(finding["detail"].as_str().unwrap().contains(&daddr), "{finding}");
        assert!(ns
            .exec(&["nft", "delete", "table", "inet", "m365mon_v6"])
            .status
            .success());
    }
    let after = check(&ns, &state);
    assert_eq!(after["status"], "pass", "no rule, all pass: {after}");
}
