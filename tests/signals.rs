//! Signals end `serve` and `watch` cleanly with the conventional status 128 + n (SIGHUP
//! 129, SIGINT 130, SIGQUIT 131, SIGTERM 143), as a shell reports a process killed by
//! the signal; the log file is rotated by size. Real processes, real signals, loopback
//! only (the built-in lab). The live monitor's signals are in tests/tui_tmux.rs (they need
//! a terminal).
#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::bin::BIN;

const SIGNALS: [(&str, i32); 4] = [("HUP", 1), ("INT", 2), ("QUIT", 3), ("TERM", 15)];

/// Starts `m365mon ARGS` and waits for a line of its output (stdout or stderr, per
/// `from_stderr`) containing `ready`.
fn start(args: &[&str], ready: &str, from_stderr: bool) -> Child {
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("M365MON_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start m365mon");
    let out: Box<dyn std::io::Read + Send> = if from_stderr {
        Box::new(child.stderr.take().unwrap())
    } else {
        Box::new(child.stdout.take().unwrap())
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let start = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) if line.contains(ready) => return child,
            _ if start.elapsed() > Duration::from_secs(30) => {
                let _ = child.kill();
                panic!("{args:?}: no {ready:?} within 30 s");
            }
            _ => {}
        }
    }
}

/// Sends `signal` with kill(1) and waits (10 s at most) for the exit status.
fn signal_and_wait(child: &mut Child, signal: &str) -> Option<i32> {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("SIG{signal} did not end the process within 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_and_watch_end_with_128_plus_the_signal() {
    let serve = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--lab",
        "healthy",
        "--interval",
        "1",
    ];
    let watch = ["watch", "--lab", "healthy", "--interval", "1", "--timeout", "1"];
    let mut wrong = Vec::new();
    for (signal, n) in SIGNALS {
        for (what, args, ready, stderr) in [
            ("serve", &serve[..], "serving http://", true),
            ("watch", &watch[..], "sweep", false),
        ] {
            let mut child = start(args, ready, stderr);
            let code = signal_and_wait(&mut child, signal);
            // None: killed by the signal itself (no clean shutdown at all).
            if code != Some(128 + n) {
                wrong.push(format!("{what} after SIG{signal}: {code:?}, wanted {}", 128 + n));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_log_file_rotates_by_size_keeping_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("m365mon.log");
    let l = log.to_str().unwrap();
    let mut child = start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--lab",
            "timeline",
            "--interval",
            "0.2",
            "--timeout",
            "1",
            "--log-file",
            l,
            "--log-level",
            "debug",
            "--log-max-size",
            "8K",
        ],
        "serving http://",
        true,
    );
    let older = |n: usize| dir.path().join(format!("m365mon.log.{n}"));
    let start = Instant::now();
    // Until the log has rotated at least twice more than it keeps.
    let mut rotations = 0;
    let mut last_first = String::new();
    while rotations < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the log rotated only {rotations} times in 60 s"
        );
        if let Ok(text) = std::fs::read_to_string(older(1)) {
            let first = text.lines().next().unwrap_or_default().to_string();
            if first != last_first {
                rotations += 1;
                last_first = first;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(signal_and_wait(&mut child, "TERM"), Some(143));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["m365mon.log", "m365mon.log.1", "m365mon.log.2"]);
    for p in [log.clone(), older(1), older(2)] {
        let text = std::fs::read_to_string(&p).unwrap();
        // One event may be longer than what is left; never a file much past the limit.
        assert!(
            text.len() <= 8 * 1024 + 4096,
            "{}: {} bytes",
            p.display(),
            text.len()
        );
        assert!(text.ends_with('\n'), "{}: whole lines", p.display());
    }
}
