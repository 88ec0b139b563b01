//! `m365mon serve` as a child process: started with its arguments, its address read from
//! the ready line it prints, killed on drop. Loopback only.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::bin::BIN;

pub struct Served {
    child: Child,
    /// Where it listens, from its ready line.
    pub addr: SocketAddr,
    /// The ready line itself.
    pub ready: String,
}

impl Served {
    /// Runs `m365mon serve --listen 127.0.0.1:0 ARGS` and waits for its ready line.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        Self::spawn(cmd, args, env)
    }

    /// The same through `prefix` (a program and its arguments that end by running the rest
    /// of the command line, e.g. `unshare --uts sh -c '... exec "$0" "$@"'`).
    pub fn start_via(prefix: &[&str], args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut cmd = Command::new(prefix[0]);
        cmd.args(&prefix[1..])
            .arg(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"]);
        Self::spawn(cmd, args, env)
    }

    fn spawn(mut cmd: Command, args: &[&str], env: &[(&str, &str)]) -> Served {
        cmd.args(args)
            .env("NO_COLOR", "1")
            .env_remove("M365MON_TOKEN")
            .env_remove("M365MON_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start m365mon serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut seen = Vec::new();
        let ready = loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.contains("serving http://") => break line,
                Ok(line) => seen.push(line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("no ready line from m365mon serve; it printed: {seen:?}");
                }
            }
        };
        let addr = ready
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {ready:?}"));
        Served { child, addr, ready }
    }
}

impl Served {
    /// The process id of the running `m365mon serve`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
