//! Driving the real binary in a real terminal: a tmux server of the test's own (its own
//! socket), one window `t`, keys in, screens out. Killed on drop.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Whether tmux can run here.
pub fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A new server running `cmd` (through the shell) in a `width` x `height` window.
    pub fn start(tag: &str, width: u16, height: u16, cmd: &str) -> Self {
        let t = Self {
            socket: format!("m365mon-{tag}-{}", std::process::id()),
        };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            cmd,
        ]);
        t
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// What the window shows now (the alternate screen while a program holds it).
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// A tmux format for the pane, e.g. `#{alternate_on}` (1 while the alternate screen is
    /// in use) or `#{cursor_flag}` (1 while the cursor is visible).
    pub fn format(&self, format: &str) -> String {
        self.run(&["display", "-p", "-t", "t", format]).trim().to_string()
    }

    /// Waits until `pred` holds for the screen; returns it, or panics with the last screen.
    pub fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for `file` to appear (the shell around the program writes it when the program
    /// has ended), then a moment more so it is complete; panics with the screen otherwise.
    pub fn wait_for_file(&self, file: &Path, limit: Duration) {
        let start = Instant::now();
        while !file.exists() {
            assert!(
                start.elapsed() < limit,
                "{} did not appear; screen:\n{}",
                file.display(),
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// The light of a host's row in the endpoints pane (`│<light> <host> ...`).
pub fn row_light(screen: &str, host: &str) -> Option<char> {
    screen.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix('│')?;
        let mut chars = rest.chars();
        let light = chars.next()?;
        let after: String = chars.collect();
        after
            .trim_start()
            .starts_with(&format!("{host} "))
            .then_some(light)
    })
}
