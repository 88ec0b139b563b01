//! End-to-end: the real binary in a real terminal (tmux) against the lab. A fault appears
//! on the wire, the light turns and the remediation panel changes; keys work; quitting
//! restores the terminal exactly (raw mode off, alternate screen left).
//!
//! Needs tmux; skips loudly (`support::skip`) where it is missing, and fails under CI.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::bin::BIN;
use support::skip;
use support::tmux::{have_tmux, row_light, Tmux};

const TMUX_MISSING: &str = "tmux is not installed (apt-get install tmux; CI installs it)";

fn write_scenario(dir: &Path) -> PathBuf {
    let path = dir.join("e2e.toml");
    std::fs::write(
        &path,
        "name = \"e2e\"\ndescription = \"activation blackholed after 4 s\"\n\n[[fault]]\nhost = \"activation.sls.microsoft.com\"\nmode = \"blackhole\"\nafter_secs = 4\n",
    )
    .unwrap();
    path
}

#[test]
fn fault_turns_the_light_keys_work_and_quit_restores_the_terminal() {
    if !have_tmux() {
        return skip::because(
            "fault_turns_the_light_keys_work_and_quit_restores_the_terminal",
            TMUX_MISSING,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path());
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    let bin = BIN;
    let d = dir.path().display();
    let cmd = format!(
        "stty -g > {d}/before; {bin} --lab {} --interval 1 --timeout 1 --export-dir {}; echo $? > {d}/exit; stty -g > {d}/after; sleep 60",
        scenario.display(),
        export.display()
    );
    let tmux = Tmux::start("e2e", 120, 40, &cmd);

    // Healthy first: the light is the pass shape and the panel says so.
    let s = tmux.wait_for("the healthy light", Duration::from_secs(15), |s| {
        row_light(s, "activation.sls.microsoft.com") == Some('+')
    });
    assert!(s.contains("No problems found"), "{s}");
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "t", "#{alternate_on}"]).trim(),
        "1",
        "monitor uses the alternate screen"
    );

    // The fault starts 4 s after the lab; the light must turn within interval + timeout.
    let s = tmux.wait_for("the fail light", Duration::from_secs(15), |s| {
        row_light(s, "activation.sls.microsoft.com") == Some('x')
    });
    let s = if s.contains("The activation endpoints are blocked") {
        s
    } else {
        tmux.wait_for("the remediation panel", Duration::from_secs(5), |s| {
            s.contains("The activation endpoints are blocked")
        })
    };
    assert!(!s.contains("No problems found"), "{s}");
    assert!(s.contains("fail: TCP connect timed out"), "event logged: {s}");

    // A marker from the network engineer.
    tmux.keys(&["m"]);
    tmux.keys(&["-l", "rule 42 applied"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the marker in the events pane", Duration::from_secs(5), |s| {
        s.contains("rule 42 applied")
    });

    // Detail view of the selected check, then back.
    tmux.keys(&["Enter"]);
    tmux.wait_for("the detail view", Duration::from_secs(5), |s| {
        s.contains("Detail:") && s.contains("Stages")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the main screen", Duration::from_secs(5), |s| {
        !s.contains("Detail:")
    });

    // Help overlay.
    tmux.keys(&["?"]);
    tmux.wait_for("the help overlay", Duration::from_secs(5), |s| {
        s.contains("quit and restore the terminal")
    });
    tmux.keys(&["Escape"]);

    // Export writes Markdown and JSON.
    tmux.keys(&["e"]);
    let start = Instant::now();
    let exported = loop {
        let names: Vec<String> = std::fs::read_dir(&export)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        if names.iter().any(|n| n.ends_with(".md")) && names.iter().any(|n| n.ends_with(".json")) {
            break names;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "export wrote {names:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let md = exported.iter().find(|n| n.ends_with(".md")).unwrap();
    let md = std::fs::read_to_string(export.join(md)).unwrap();
    assert!(
        md.contains("rule 42 applied") && md.contains("activation.sls.microsoft.com"),
        "{md}"
    );

    // Resize down to 10x4 and back: the exact notice (src/tui/ui/too_small.rs) just under
    // the 60x16 minimum and below, never a panic, and the layout comes back.
    let resize = |w: u16, h: u16| {
        tmux.run(&[
            "resize-window",
            "-t",
            "t",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
    };
    let shown = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    for (w, h) in [(200, 60), (80, 24)] {
        resize(w, h);
        tmux.wait_for(&format!("the layout at {w}x{h}"), Duration::from_secs(5), |s| {
            row_light(s, "activation.sls.microsoft.com").is_some()
        });
    }
    for (w, h) in [(59, 16), (60, 15), (40, 12)] {
        resize(w, h);
        let notice = [
            "terminal too small".to_string(),
            format!("(need 60x16, have {w}x{h})"),
            "q quits".to_string(),
        ];
        tmux.wait_for(&format!("the notice at {w}x{h}"), Duration::from_secs(5), |s| {
            shown(s) == notice
        });
    }
    // At 10x4 the notice wraps, centred, and its first four lines fill the screen.
    resize(10, 4);
    tmux.wait_for("the wrapped notice at 10x4", Duration::from_secs(5), |s| {
        s.lines().map(str::trim_end).collect::<Vec<_>>()
            == [" terminal", " too small", "   (need", "  60x16,"]
    });
    tmux.run(&["resize-window", "-t", "t", "-x", "120", "-y", "40"]);
    tmux.wait_for("the layout after resizing back", Duration::from_secs(5), |s| {
        row_light(s, "activation.sls.microsoft.com").is_some()
    });

    // Quit: exit status 0, terminal settings exactly as before, alternate screen left.
    tmux.keys(&["q"]);
    let start = Instant::now();
    while !dir.path().join("after").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "monitor did not quit: {}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("exit")).unwrap().trim(),
        "0"
    );
    let before = std::fs::read_to_string(dir.path().join("before")).unwrap();
    let after = std::fs::read_to_string(dir.path().join("after")).unwrap();
    assert_eq!(before, after, "terminal modes restored");
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "t", "#{alternate_on}"]).trim(),
        "0"
    );
}

/// Signals from other processes (a service manager, an SSH server, `kill`) end the monitor
/// with the terminal given back and the conventional status 128 + n. SIGQUIT too: by
/// default it would dump core and leave the alternate screen and a hidden cursor.
#[test]
fn signals_restore_the_terminal_and_exit_128_plus_n() {
    if !have_tmux() {
        return skip::because("signals_restore_the_terminal_and_exit_128_plus_n", TMUX_MISSING);
    }
    for (signal, status) in [("TERM", 143), ("HUP", 129), ("INT", 130), ("QUIT", 131)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let bin = BIN;
        // `exec` in the foreground: a background job of a script ignores SIGINT and SIGQUIT.
        let cmd = format!(
            "stty -g > {d}/before; sh -c 'echo $$ > {d}/pid; exec \"$0\" --lab healthy --interval 1' {bin}; echo $? > {d}/status; stty -g > {d}/after; sleep 60"
        );
        let tmux = Tmux::start(&format!("sig{signal}"), 100, 30, &cmd);
        tmux.wait_for("the monitor", Duration::from_secs(15), |s| {
            row_light(s, "activation.sls.microsoft.com") == Some('+')
        });
        let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), pid.trim()])
            .status()
            .unwrap();
        assert!(ok.success());
        let start = Instant::now();
        while !dir.path().join("after").exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "SIG{signal}: monitor did not stop: {}",
                tmux.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(100));
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(
            read("status").trim(),
            status.to_string(),
            "SIG{signal}: exit status"
        );
        assert_eq!(
            read("before"),
            read("after"),
            "SIG{signal}: terminal modes restored"
        );
        assert_eq!(
            tmux.format("#{alternate_on}"),
            "0",
            "SIG{signal}: alternate screen left"
        );
        assert_eq!(tmux.format("#{cursor_flag}"), "1", "SIG{signal}: cursor visible");
    }
}

/// The terminal dies under the monitor (tmux killed with SIGKILL, like a terminal emulator
/// crashing or an SSH server process killed): the monitor must end, not spin on the dead
/// terminal. crossterm retries a hung-up terminal forever; the TUI's watchdog ends it.
#[test]
fn a_dead_terminal_ends_the_monitor() {
    if !have_tmux() {
        return skip::because("a_dead_terminal_ends_the_monitor", TMUX_MISSING);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let bin = BIN;
    let cmd = format!("echo $$ > {d}/pid; exec {bin} --lab healthy --interval 1");
    let tmux = Tmux::start("dead", 100, 30, &cmd);
    tmux.wait_for("the monitor", Duration::from_secs(15), |s| {
        row_light(s, "activation.sls.microsoft.com") == Some('+')
    });
    let pid = std::fs::read_to_string(dir.path().join("pid"))
        .unwrap()
        .trim()
        .to_string();
    let server = tmux.run(&["display", "-p", "#{pid}"]).trim().to_string();
    assert!(Command::new("kill")
        .args(["-KILL", &server])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie (exited, not yet reaped by init) counts as ended.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.split(") ").nth(1).is_some_and(|rest| rest.starts_with('Z')) {
            break;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the monitor (pid {pid}) was still running 10 s after its terminal died");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Issue 14: a support engineer over SSH on an 80x24 terminal sees the failing host and
/// the first thing to do without pressing a key, even when the failure is the last
/// endpoint of the catalog; a digit then copies the first command through the terminal
/// (OSC 52) into tmux's paste buffer.
#[test]
fn at_80x24_the_failing_host_and_the_first_step_show_with_no_keypress() {
    let test = "at_80x24_the_failing_host_and_the_first_step_show_with_no_keypress";
    if !have_tmux() {
        return skip::because(test, TMUX_MISSING);
    }
    let last = m365mon::catalog::Catalog::builtin()
        .endpoints
        .last()
        .expect("the built-in catalog has endpoints")
        .host
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("refused.toml");
    std::fs::write(
        &scenario,
        format!("name = \"refused\"\ndescription = \"the last endpoint refused\"\n\n[[fault]]\nhost = \"{last}\"\nmode = \"refuse\"\n"),
    )
    .unwrap();
    let cmd = format!(
        "{BIN} --lab {} --interval 1 --timeout 1; sleep 60",
        scenario.display()
    );
    let tmux = Tmux::start("small", 80, 24, &cmd);
    // Let applications set tmux's paste buffer with OSC 52.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);

    let entry = m365mon::diagnosis::remediation::get("firewall").expect("the firewall entry");
    let step: String = entry.steps[0]
        .split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ");
    let s = tmux.wait_for(
        "the failing row and the first step",
        Duration::from_secs(20),
        |s| row_light(s, &last) == Some('x') && s.contains(&format!(" 1. {step}")),
    );
    assert!(s.contains("Endpoints are blocked"), "{s}");

    // The first command, copied with its digit, arrives in tmux's buffer.
    let first = m365mon::tui::app::commands_in_order(entry, cfg!(windows))[0].text;
    tmux.keys(&["1"]);
    let start = Instant::now();
    loop {
        let buffer = tmux.run(&["show-buffer"]);
        if buffer == first {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "paste buffer {buffer:?}, wanted {first:?}; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["q"]);
}
