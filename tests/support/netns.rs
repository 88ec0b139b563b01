//! Network namespaces for the tests that need root: what the machine has, and a namespace
//! that is removed (with the lab started in it stopped) even when the test fails.

use serde_json::Value;
use std::process::{Child, Command, Output};

/// Whether the tests run as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether `tool` is on the PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A network namespace; on drop the lab (if one was started in it) is stopped and the
/// namespace, with everything in it, removed.
pub struct Netns {
    pub name: String,
    pub lab: Option<Child>,
}

impl Netns {
    /// `ip netns add name`; panics when that fails.
    pub fn add(name: String) -> Netns {
        let status = Command::new("ip").args(["netns", "add", &name]).status().unwrap();
        assert!(status.success(), "ip netns add failed");
        Netns { name, lab: None }
    }

    /// Runs `args` inside the namespace: its output.
    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .expect("ip netns exec")
    }

    /// `ip -n <name> <args>`; panics with ip's message when it fails.
    pub fn ip(&self, args: &str) {
        let out = Command::new("ip")
            .args(["-n", &self.name])
            .args(args.split_whitespace())
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip -n {} {args}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `m365mon check <target> --format json --timeout 1` once inside the namespace
    /// (`target`: `--lab <scenario>` or `--lab-connect <state file>`): the whole report.
    pub fn check(&self, target: &[&str]) -> Value {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, super::bin::BIN, "check"])
            .args(target)
            .args(["--format", "json", "--timeout", "1"])
            .env("NO_COLOR", "1")
            .output()
            .expect("ip netns exec m365mon");
        super::report::parse(&out, &format!("check {target:?} in {}", self.name))
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
